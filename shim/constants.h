// constants.h: the Python `ssl` module's constants, with Python's names so
// code ports line by line (CERT_REQUIRED, PROTOCOL_TLS_CLIENT, OP_NO_TLSv1).

#ifndef SSLSHIM_SHIM_CONSTANTS_H_
#define SSLSHIM_SHIM_CONSTANTS_H_

#include <cstdint>

namespace sslshim::shim {

// VerifyMode: ssl.CERT_NONE / CERT_OPTIONAL / CERT_REQUIRED.
enum VerifyMode { CERT_NONE = 0, CERT_OPTIONAL = 1, CERT_REQUIRED = 2 };

// Protocol: ssl.PROTOCOL_*. PROTOCOL_SSLv23 is PROTOCOL_TLS (negotiate the
// highest common version); the TLSv1* values pin exactly that version.
enum Protocol {
  PROTOCOL_TLS = 2,
  PROTOCOL_SSLv23 = PROTOCOL_TLS,
  PROTOCOL_TLSv1 = 3,
  PROTOCOL_TLSv1_1 = 4,
  PROTOCOL_TLSv1_2 = 5,
  PROTOCOL_TLS_CLIENT = 16,
  PROTOCOL_TLS_SERVER = 17,
};

// TLSVersion: ssl.TLSVersion members, valued as on the wire (as CPython).
enum class TLSVersion : int {
  MINIMUM_SUPPORTED = -2,
  MAXIMUM_SUPPORTED = -1,
  TLSv1 = 0x0301,
  TLSv1_1 = 0x0302,
  TLSv1_2 = 0x0303,
  TLSv1_3 = 0x0304,
};

// Options: ssl.OP_* bit flags for SSLContext::options. Values are CPython's
// (OpenSSL's) so bit patterns copied from Python code keep their meaning.
using Options = uint64_t;
inline constexpr Options OP_ALL = 0x80000BFFULL;
inline constexpr Options OP_NO_SSLv2 = 0;
inline constexpr Options OP_NO_SSLv3 = 0x02000000ULL;
inline constexpr Options OP_NO_TLSv1 = 0x04000000ULL;
inline constexpr Options OP_NO_TLSv1_1 = 0x10000000ULL;
inline constexpr Options OP_NO_TLSv1_2 = 0x08000000ULL;
inline constexpr Options OP_NO_TLSv1_3 = 0x20000000ULL;
inline constexpr Options OP_NO_COMPRESSION = 0x00020000ULL;
inline constexpr Options OP_CIPHER_SERVER_PREFERENCE = 0x00400000ULL;
inline constexpr Options OP_SINGLE_DH_USE = 0;
inline constexpr Options OP_SINGLE_ECDH_USE = 0;
inline constexpr Options OP_NO_TICKET = 0x00004000ULL;
inline constexpr Options OP_NO_RENEGOTIATION = 0x40000000ULL;
inline constexpr Options OP_ENABLE_MIDDLEBOX_COMPAT = 0x00100000ULL;

// VerifyFlags: ssl.VERIFY_* flags for SSLContext::verify_flags.
using VerifyFlags = uint32_t;
inline constexpr VerifyFlags VERIFY_DEFAULT = 0;
inline constexpr VerifyFlags VERIFY_CRL_CHECK_LEAF = 0x4;
inline constexpr VerifyFlags VERIFY_CRL_CHECK_CHAIN = 0x4 | 0x8;
inline constexpr VerifyFlags VERIFY_X509_STRICT = 0x20;
inline constexpr VerifyFlags VERIFY_X509_PARTIAL_CHAIN = 0x80000;
inline constexpr VerifyFlags VERIFY_X509_TRUSTED_FIRST = 0x8000;

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_CONSTANTS_H_
