#include "shim/credentials.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "openssl/bio.h"
#include "openssl/bytestring.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/mem.h"
#include "openssl/pem.h"
#include "openssl/pkcs8.h"
#include "openssl/x509.h"
#include "shim/errors.h"
#include "shim/secure_bytes.h"

namespace sslshim::shim {
namespace {

// Memory hygiene: BoringSSL's OPENSSL_free zeroes every allocation before
// releasing it, so the intermediate buffers BoringSSL allocates while decoding
// (base64 lines, decrypted PKCS#8) are wiped. The buffers this file owns are
// wiped explicitly (PemData, passwords).

constexpr absl::string_view kBeginMarker = "-----BEGIN ";
constexpr absl::string_view kDashes = "-----";

// Labels we name in error messages. Any other label is reported as
// "unrecognised" so an error never echoes arbitrary input text.
constexpr absl::string_view kKnownLabels[] = {
    "CERTIFICATE",          "X509 CERTIFICATE", "TRUSTED CERTIFICATE",
    "PRIVATE KEY",          "RSA PRIVATE KEY",  "EC PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY", "X509 CRL",        "PUBLIC KEY",
    "RSA PUBLIC KEY",       "EC PARAMETERS",    "CERTIFICATE REQUEST",
    "NEW CERTIFICATE REQUEST", "PKCS7",         "DSA PRIVATE KEY",
    "OPENSSH PRIVATE KEY",  "DH PARAMETERS",
};

constexpr absl::string_view kPlainKeyLabels[] = {"PRIVATE KEY", "RSA PRIVATE KEY",
                                                 "EC PRIVATE KEY"};
constexpr absl::string_view kEncryptedKeyLabel = "ENCRYPTED PRIVATE KEY";

absl::Status BadInput(absl::string_view argument, absl::string_view reason) {
  return MakeError(ErrorKind::kSSLError, absl::StatusCode::kInvalidArgument,
                   absl::StrCat(argument, ": ", reason));
}

// QueueError reports `reason` with BoringSSL's queued library/reason appended
// (and clears the queue).
absl::Status QueueError(absl::string_view argument, absl::string_view reason) {
  return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInvalidArgument,
                        absl::StrCat(argument, ": ", reason), "no detail");
}

std::string DisplayLabel(absl::string_view label) {
  for (absl::string_view known : kKnownLabels) {
    if (label == known) return absl::StrCat("'", label, "'");
  }
  return "unrecognised";
}

bool LabelIn(absl::string_view label, absl::Span<const absl::string_view> set) {
  for (absl::string_view s : set) {
    if (label == s) return true;
  }
  return false;
}

const uint8_t* Bytes(absl::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

// ---- PEM framing -----------------------------------------------------------

// PemBlock is one "-----BEGIN X-----" ... "-----END X-----" block of the
// input (views into it).
struct PemBlock {
  absl::string_view label;
  absl::string_view text;  // From the BEGIN line through the END line.
};

bool LooksLikeDer(absl::string_view bytes) {
  // DER SEQUENCE identifier octet: universal, constructed, tag 16.
  return !bytes.empty() && static_cast<uint8_t>(bytes[0]) == 0x30;
}

bool LooksLikePem(absl::string_view bytes) {
  return absl::StrContains(bytes, absl::string_view("-----BEGIN"));
}

// ScanPem splits `bytes` into its PEM blocks, in order. Text between blocks is
// ignored (as OpenSSL does). A BEGIN line with no matching END line is an
// error: the input was truncated or is malformed.
absl::StatusOr<std::vector<PemBlock>> ScanPem(absl::string_view bytes,
                                              absl::string_view argument) {
  std::vector<PemBlock> blocks;
  size_t pos = 0;
  while ((pos = bytes.find(kBeginMarker, pos)) != absl::string_view::npos) {
    size_t label_start = pos + kBeginMarker.size();
    size_t label_end = bytes.find(kDashes, label_start);
    size_t line_end = bytes.find('\n', label_start);
    if (label_end == absl::string_view::npos ||
        (line_end != absl::string_view::npos && label_end > line_end)) {
      return BadInput(argument, "truncated or malformed PEM (incomplete BEGIN line)");
    }
    absl::string_view label = bytes.substr(label_start, label_end - label_start);
    std::string end_marker = absl::StrCat("-----END ", label, kDashes);
    size_t end = bytes.find(end_marker, label_end);
    if (end == absl::string_view::npos) {
      return BadInput(argument, absl::StrCat("truncated PEM: the ", DisplayLabel(label),
                                             " block has no END line"));
    }
    size_t stop = bytes.find('\n', end + end_marker.size());
    stop = stop == absl::string_view::npos ? bytes.size() : stop + 1;
    blocks.push_back({label, bytes.substr(pos, stop - pos)});
    pos = stop;
  }
  if (blocks.empty()) {
    return BadInput(argument, "malformed PEM (no BEGIN line)");
  }
  return blocks;
}

std::string DescribeLabels(const std::vector<PemBlock>& blocks) {
  std::vector<std::string> names;
  for (const PemBlock& b : blocks) names.push_back(DisplayLabel(b.label));
  return absl::StrCat(" (PEM blocks found: ", absl::StrJoin(names, ", "), ")");
}

// PemData is one decoded PEM block. Owns BoringSSL's buffers and wipes the
// decoded bytes (which may be a private key) before freeing them.
class PemData {
 public:
  PemData() = default;
  PemData(const PemData&) = delete;
  PemData& operator=(const PemData&) = delete;
  ~PemData() {
    if (data_ != nullptr) OPENSSL_cleanse(data_, static_cast<size_t>(len_));
    OPENSSL_free(name_);
    OPENSSL_free(header_);
    OPENSSL_free(data_);
  }

  // Decode base64-decodes `block`. Error: malformed PEM.
  absl::Status Decode(const PemBlock& block, absl::string_view argument) {
    ClearErrorQueue();
    bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(block.text.data(), block.text.size()));
    if (bio == nullptr ||
        !PEM_read_bio(bio.get(), &name_, &header_, &data_, &len_)) {
      return QueueError(argument, absl::StrCat("malformed PEM in the ",
                                               DisplayLabel(block.label), " block"));
    }
    return absl::OkStatus();
  }

  char* header() const { return header_; }
  uint8_t* data() const { return data_; }
  long* mutable_len() { return &len_; }
  absl::string_view view() const {
    return absl::string_view(reinterpret_cast<const char*>(data_),
                             static_cast<size_t>(len_));
  }

 private:
  char* name_ = nullptr;
  char* header_ = nullptr;
  uint8_t* data_ = nullptr;
  long len_ = 0;
};

// ---- DER -------------------------------------------------------------------

// DescribeBadDer says why the DER element at the front of `cbs` could not be
// read: a header or body shorter than it declares (truncated), or neither.
std::string DescribeBadDer(CBS cbs) {
  uint8_t tag = 0;
  uint8_t first_len = 0;
  if (!CBS_get_u8(&cbs, &tag) || !CBS_get_u8(&cbs, &first_len)) {
    return "truncated DER (incomplete header)";
  }
  size_t declared = first_len;
  if (first_len & 0x80) {
    size_t n = first_len & 0x7f;
    if (n == 0 || n > 4) return "malformed DER (bad length)";
    declared = 0;
    for (size_t i = 0; i < n; ++i) {
      uint8_t b = 0;
      if (!CBS_get_u8(&cbs, &b)) return "truncated DER (incomplete header)";
      declared = (declared << 8) | b;
    }
  }
  if (declared > CBS_len(&cbs)) {
    return absl::StrCat("truncated DER: an element declares ", declared,
                        " bytes but only ", CBS_len(&cbs), " follow");
  }
  return "malformed DER";
}

// NextDerSequence splits the next DER SEQUENCE off `cbs` into `out`.
absl::Status NextDerSequence(CBS* cbs, CBS* out, absl::string_view argument) {
  if (!CBS_get_asn1_element(cbs, out, CBS_ASN1_SEQUENCE)) {
    return BadInput(argument, DescribeBadDer(*cbs));
  }
  return absl::OkStatus();
}

template <typename T>
using D2iFn = T* (*)(T**, const uint8_t**, long);

// ParseDerExact decodes `der` with `d2i` and requires every byte be used.
template <typename T>
absl::StatusOr<bssl::UniquePtr<T>> ParseDerExact(absl::string_view der, D2iFn<T> d2i,
                                                 absl::string_view argument,
                                                 absl::string_view noun) {
  ClearErrorQueue();
  const uint8_t* p = Bytes(der);
  bssl::UniquePtr<T> obj(d2i(nullptr, &p, static_cast<long>(der.size())));
  if (obj == nullptr) return QueueError(argument, absl::StrCat("malformed ", noun));
  if (p != Bytes(der) + der.size()) {
    return BadInput(argument, absl::StrCat("trailing data inside the ", noun));
  }
  return obj;
}

// ---- Certificates and CRLs -------------------------------------------------

template <typename T>
struct PemDecoder {
  absl::string_view label;
  D2iFn<T> d2i;
};

// ObjectKind says how to find objects of type T in PEM or DER input.
template <typename T>
struct ObjectKind {
  absl::string_view noun;  // "certificate", "CRL"
  absl::Span<const PemDecoder<T>> pem;
  D2iFn<T> der;
  bool der_sequence;  // Concatenated DER objects allowed.
};

const PemDecoder<X509> kCertDecoders[] = {
    {"CERTIFICATE", d2i_X509},
    {"X509 CERTIFICATE", d2i_X509},
    {"TRUSTED CERTIFICATE", d2i_X509_AUX},
};
const PemDecoder<X509_CRL> kCrlDecoders[] = {{"X509 CRL", d2i_X509_CRL}};

template <typename T>
absl::StatusOr<std::vector<bssl::UniquePtr<T>>> ParseFromPem(
    absl::string_view bytes, absl::string_view argument, const ObjectKind<T>& kind) {
  absl::StatusOr<std::vector<PemBlock>> blocks = ScanPem(bytes, argument);
  if (!blocks.ok()) return blocks.status();
  std::vector<bssl::UniquePtr<T>> out;
  for (const PemBlock& block : *blocks) {
    const PemDecoder<T>* decoder = nullptr;
    for (const PemDecoder<T>& d : kind.pem) {
      if (d.label == block.label) decoder = &d;
    }
    if (decoder == nullptr) continue;  // Other blocks (keys, params) skipped.
    PemData data;
    absl::Status s = data.Decode(block, argument);
    if (!s.ok()) return s;
    absl::StatusOr<bssl::UniquePtr<T>> obj =
        ParseDerExact<T>(data.view(), decoder->d2i, argument, kind.noun);
    if (!obj.ok()) return obj.status();
    out.push_back(*std::move(obj));
  }
  if (out.empty()) {
    return BadInput(argument, absl::StrCat("no ", kind.noun, " found",
                                           DescribeLabels(*blocks)));
  }
  return out;
}

template <typename T>
absl::StatusOr<std::vector<bssl::UniquePtr<T>>> ParseFromDer(
    absl::string_view bytes, absl::string_view argument, const ObjectKind<T>& kind) {
  std::vector<bssl::UniquePtr<T>> out;
  CBS cbs;
  CBS_init(&cbs, Bytes(bytes), bytes.size());
  while (CBS_len(&cbs) > 0) {
    if (!out.empty() && !kind.der_sequence) {
      return BadInput(argument, absl::StrCat("trailing garbage after the DER ", kind.noun,
                                             " (", CBS_len(&cbs), " bytes)"));
    }
    CBS element;
    absl::Status s = NextDerSequence(&cbs, &element, argument);
    if (!s.ok()) return s;
    absl::StatusOr<bssl::UniquePtr<T>> obj = ParseDerExact<T>(
        absl::string_view(reinterpret_cast<const char*>(CBS_data(&element)),
                          CBS_len(&element)),
        kind.der, argument, kind.noun);
    if (!obj.ok()) return obj.status();
    out.push_back(*std::move(obj));
  }
  return out;
}

template <typename T>
absl::StatusOr<std::vector<bssl::UniquePtr<T>>> ParseObjects(
    absl::string_view bytes, absl::string_view argument, const ObjectKind<T>& kind) {
  if (bytes.empty()) {
    return BadInput(argument, absl::StrCat("empty input: no ", kind.noun, " found"));
  }
  if (LooksLikeDer(bytes)) return ParseFromDer(bytes, argument, kind);
  if (LooksLikePem(bytes)) return ParseFromPem(bytes, argument, kind);
  return BadInput(argument, absl::StrCat("no ", kind.noun,
                                         " found: the input is neither PEM nor DER"));
}

const ObjectKind<X509> kChainKind{"certificate", kCertDecoders, d2i_X509, false};
const ObjectKind<X509> kCaKind{"certificate", kCertDecoders, d2i_X509, true};
const ObjectKind<X509_CRL> kCrlKind{"CRL", kCrlDecoders, d2i_X509_CRL, true};

// ---- Private keys ----------------------------------------------------------

enum class KeyForm { kPlain, kPkcs8Encrypted, kLegacyEncrypted };

// KeyLocation is where the private key is in the input and how it is encoded.
struct KeyLocation {
  KeyForm form = KeyForm::kPlain;
  bool pem = false;
  PemBlock block;         // When pem.
  absl::string_view der;  // When !pem: the whole DER key.
};

// IsLegacyEncryptedBlock: the line after BEGIN is "Proc-Type: 4,ENCRYPTED".
bool IsLegacyEncryptedBlock(const PemBlock& block) {
  size_t first_nl = block.text.find('\n');
  if (first_nl == absl::string_view::npos) return false;
  absl::string_view rest = block.text.substr(first_nl + 1);
  absl::string_view line = rest.substr(0, rest.find('\n'));
  return absl::StartsWith(line, "Proc-Type:") && absl::StrContains(line, "ENCRYPTED");
}

// IsEncryptedPkcs8Der: `der` is exactly SEQUENCE { SEQUENCE { OID, ... },
// OCTET STRING } (EncryptedPrivateKeyInfo), which no plain key, PKCS#8 or
// traditional, nor a certificate, matches.
bool IsEncryptedPkcs8Der(absl::string_view der) {
  CBS cbs, outer, alg, oid, octets;
  CBS_init(&cbs, Bytes(der), der.size());
  return CBS_get_asn1(&cbs, &outer, CBS_ASN1_SEQUENCE) && CBS_len(&cbs) == 0 &&
         CBS_get_asn1(&outer, &alg, CBS_ASN1_SEQUENCE) &&
         CBS_get_asn1(&alg, &oid, CBS_ASN1_OBJECT) &&
         CBS_get_asn1(&outer, &octets, CBS_ASN1_OCTETSTRING) && CBS_len(&outer) == 0;
}

absl::StatusOr<KeyLocation> LocateKey(absl::string_view bytes,
                                      absl::string_view argument) {
  KeyLocation loc;
  if (bytes.empty()) return BadInput(argument, "empty input: no private key found");
  if (LooksLikeDer(bytes)) {
    CBS cbs, element;
    CBS_init(&cbs, Bytes(bytes), bytes.size());
    absl::Status s = NextDerSequence(&cbs, &element, argument);
    if (!s.ok()) return s;
    if (CBS_len(&cbs) != 0) {
      return BadInput(argument, absl::StrCat("trailing garbage after the DER private key (",
                                             CBS_len(&cbs), " bytes)"));
    }
    loc.der = bytes;
    loc.form = IsEncryptedPkcs8Der(bytes) ? KeyForm::kPkcs8Encrypted : KeyForm::kPlain;
    return loc;
  }
  if (!LooksLikePem(bytes)) {
    return BadInput(argument, "no private key found: the input is neither PEM nor DER");
  }
  absl::StatusOr<std::vector<PemBlock>> blocks = ScanPem(bytes, argument);
  if (!blocks.ok()) return blocks.status();
  for (const PemBlock& block : *blocks) {
    if (block.label == kEncryptedKeyLabel) {
      loc.form = KeyForm::kPkcs8Encrypted;
    } else if (LabelIn(block.label, kPlainKeyLabels)) {
      loc.form = IsLegacyEncryptedBlock(block) ? KeyForm::kLegacyEncrypted
                                                : KeyForm::kPlain;
    } else {
      continue;
    }
    loc.pem = true;
    loc.block = block;
    return loc;
  }
  return BadInput(argument,
                  absl::StrCat("no private key found", DescribeLabels(*blocks)));
}

bool SupportedKeyType(const EVP_PKEY* key) {
  int id = EVP_PKEY_id(key);
  return id == EVP_PKEY_RSA || id == EVP_PKEY_EC || id == EVP_PKEY_ED25519;
}

absl::Status CheckKey(const bssl::UniquePtr<EVP_PKEY>& key, absl::string_view argument) {
  if (!SupportedKeyType(key.get())) {
    return BadInput(argument,
                    "unsupported private key type (expected RSA, ECDSA or Ed25519)");
  }
  return absl::OkStatus();
}

std::string WrongPasswordReason() {
  return "wrong password for the encrypted private key (or the key is corrupt)";
}

// ParsePlainKeyDer parses a PKCS#8 PrivateKeyInfo, RSAPrivateKey or
// ECPrivateKey; `failure` is the reason given when it does not parse.
absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> ParsePlainKeyDer(absl::string_view der,
                                                           absl::string_view argument,
                                                           absl::string_view failure) {
  ClearErrorQueue();
  const uint8_t* p = Bytes(der);
  bssl::UniquePtr<EVP_PKEY> key(
      d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  if (key == nullptr) return QueueError(argument, failure);
  if (p != Bytes(der) + der.size()) {
    return BadInput(argument, "trailing data inside the private key");
  }
  absl::Status s = CheckKey(key, argument);
  if (!s.ok()) return s;
  return key;
}

// DecryptPkcs8 parses and decrypts an EncryptedPrivateKeyInfo.
absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> DecryptPkcs8(absl::string_view der,
                                                       const std::string& password,
                                                       absl::string_view argument) {
  if (!IsEncryptedPkcs8Der(der)) {
    return BadInput(argument, "malformed encrypted private key");
  }
  ClearErrorQueue();
  CBS cbs;
  CBS_init(&cbs, Bytes(der), der.size());
  bssl::UniquePtr<EVP_PKEY> key(
      PKCS8_parse_encrypted_private_key(&cbs, password.data(), password.size()));
  if (key == nullptr) return QueueError(argument, WrongPasswordReason());
  absl::Status s = CheckKey(key, argument);
  if (!s.ok()) return s;
  return key;
}

int CopyPasswordCallback(char* buf, int size, int /*rwflag*/, void* userdata) {
  const auto* password = static_cast<const std::string*>(userdata);
  if (password->size() > static_cast<size_t>(size)) return -1;
  std::memcpy(buf, password->data(), password->size());
  return static_cast<int>(password->size());
}

// DecryptLegacy decrypts a Proc-Type/DEK-Info PEM key in place and parses it.
absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> DecryptLegacy(PemData& data,
                                                        const std::string& password,
                                                        absl::string_view argument) {
  ClearErrorQueue();
  EVP_CIPHER_INFO cipher;
  if (!PEM_get_EVP_CIPHER_INFO(data.header(), &cipher) || cipher.cipher == nullptr) {
    return QueueError(argument, "malformed encryption header of the private key");
  }
  if (password.empty()) {
    return BadInput(argument, "an empty password cannot decrypt a legacy encrypted key");
  }
  // PEM_do_header decrypts data() in place; PemData wipes it afterwards.
  if (!PEM_do_header(&cipher, data.data(), data.mutable_len(), CopyPasswordCallback,
                     const_cast<std::string*>(&password))) {
    return QueueError(argument, WrongPasswordReason());
  }
  return ParsePlainKeyDer(data.view(), argument, WrongPasswordReason());
}

// ParsePemKey decodes the PEM key block found by LocateKey.
absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> ParsePemKey(const KeyLocation& loc,
                                                      const std::string& password,
                                                      absl::string_view argument) {
  PemData data;
  absl::Status s = data.Decode(loc.block, argument);
  if (!s.ok()) return s;
  switch (loc.form) {
    case KeyForm::kPkcs8Encrypted:
      return DecryptPkcs8(data.view(), password, argument);
    case KeyForm::kLegacyEncrypted:
      return DecryptLegacy(data, password, argument);
    case KeyForm::kPlain:
      break;
  }
  // The text check in LocateKey and BoringSSL's header parsing must agree that
  // this key is not encrypted (a disagreement means a malformed header).
  EVP_CIPHER_INFO cipher;
  if (!PEM_get_EVP_CIPHER_INFO(data.header(), &cipher) || cipher.cipher != nullptr) {
    return QueueError(argument, "malformed PEM header of the private key");
  }
  return ParsePlainKeyDer(data.view(), argument, "malformed private key");
}

absl::Status TooLongPassword(absl::string_view argument) {
  return BadInput(argument, absl::StrCat("the password is longer than ",
                                         kMaxPasswordLength, " bytes"));
}

}  // namespace

absl::Status ResolvePassword(const Password& password, absl::string_view argument,
                             std::string* out) {
  if (password.value.has_value()) {
    if (password.value->size() > kMaxPasswordLength) return TooLongPassword(argument);
    out->assign(*password.value);
    return absl::OkStatus();
  }
  if (password.callback == nullptr) {
    return BadInput(argument, "the private key is encrypted and no password was given");
  }
  absl::StatusOr<std::string> result = password.callback();
  if (!result.ok()) {
    return MakeError(GetErrorKind(result.status()), result.status().code(),
                     absl::StrCat(argument, ": password callback failed: ",
                                  result.status().message()));
  }
  absl::Status s = result->size() > kMaxPasswordLength ? TooLongPassword(argument)
                                                        : absl::OkStatus();
  if (s.ok()) out->assign(*result);
  WipeString(*result);
  return s;
}

absl::StatusOr<CertChain> ParseCertChain(absl::string_view bytes,
                                         absl::string_view argument) {
  return ParseObjects(bytes, argument, kChainKind);
}

absl::StatusOr<CertChain> ParseCaCertificates(absl::string_view bytes,
                                              absl::string_view argument) {
  if (bytes.empty()) {
    return BadInput(argument, "empty CA bundle: no certificate found");
  }
  return ParseObjects(bytes, argument, kCaKind);
}

absl::StatusOr<std::vector<bssl::UniquePtr<X509_CRL>>> ParseCrls(
    absl::string_view bytes, absl::string_view argument) {
  return ParseObjects(bytes, argument, kCrlKind);
}

bool IsEncryptedPrivateKey(absl::string_view bytes) {
  absl::StatusOr<KeyLocation> loc = LocateKey(bytes, "key");
  return loc.ok() && loc->form != KeyForm::kPlain;
}

absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> ParsePrivateKey(
    absl::string_view bytes, const Password& password, absl::string_view argument) {
  ClearErrorQueue();
  absl::StatusOr<KeyLocation> loc = LocateKey(bytes, argument);
  if (!loc.ok()) return loc.status();
  // The password is obtained (and the callback called) only for encrypted keys.
  std::string secret;
  if (loc->form != KeyForm::kPlain) {
    absl::Status s = ResolvePassword(password, argument, &secret);
    if (!s.ok()) {
      WipeString(secret);
      return s;
    }
  }
  absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> key;
  if (loc->pem) {
    key = ParsePemKey(*loc, secret, argument);
  } else if (loc->form == KeyForm::kPkcs8Encrypted) {
    key = DecryptPkcs8(loc->der, secret, argument);
  } else {
    key = ParsePlainKeyDer(loc->der, argument, "malformed private key");
  }
  WipeString(secret);
  ClearErrorQueue();
  return key;
}

absl::Status CheckKeyMatchesCertificate(const EVP_PKEY* key, X509* cert,
                                        absl::string_view argument) {
  if (key == nullptr || cert == nullptr) {
    return BadInput(argument, "no key or no certificate to match");
  }
  ClearErrorQueue();
  if (!X509_check_private_key(cert, key)) {
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInvalidArgument,
                          argument, "key values mismatch");
  }
  return absl::OkStatus();
}

absl::StatusOr<Pkcs12Contents> ParsePkcs12(absl::string_view bytes,
                                           const Password& password,
                                           absl::string_view argument) {
  if (bytes.empty()) return BadInput(argument, "empty input: no PKCS#12 bundle");
  if (!LooksLikeDer(bytes)) {
    return BadInput(argument, "not a DER PKCS#12 bundle");
  }
  // A definite-length bundle is framed here for precise truncation and
  // trailing-data errors; BER (indefinite-length) framing is left to BoringSSL.
  CBS cbs, probe, element;
  CBS_init(&cbs, Bytes(bytes), bytes.size());
  probe = cbs;
  if (CBS_get_asn1_element(&probe, &element, CBS_ASN1_SEQUENCE)) {
    if (CBS_len(&probe) != 0) {
      return BadInput(argument, absl::StrCat("trailing garbage after the PKCS#12 bundle (",
                                             CBS_len(&probe), " bytes)"));
    }
  } else if (std::string why = DescribeBadDer(cbs); absl::StartsWith(why, "truncated")) {
    return BadInput(argument, why);
  }
  std::string secret;  // An absent password is the empty one.
  if (password.given()) {
    absl::Status s = ResolvePassword(password, argument, &secret);
    if (!s.ok()) {
      WipeString(secret);
      return s;
    }
  }
  ClearErrorQueue();
  bssl::UniquePtr<STACK_OF(X509)> certs(sk_X509_new_null());
  EVP_PKEY* raw_key = nullptr;
  int ok = certs != nullptr &&
           PKCS12_get_key_and_certs(&raw_key, certs.get(), &cbs, secret.c_str());
  WipeString(secret);
  Pkcs12Contents out;
  out.key.reset(raw_key);  // We own the key PKCS12_get_key_and_certs returned.
  if (!ok) {
    uint32_t err = ERR_peek_error();
    bool wrong_password = ERR_GET_LIB(err) == ERR_LIB_PKCS8 &&
                          ERR_GET_REASON(err) == PKCS8_R_INCORRECT_PASSWORD;
    return QueueError(argument, wrong_password ? "wrong password for the PKCS#12 bundle"
                                               : "malformed PKCS#12 bundle");
  }
  if (out.key == nullptr) return BadInput(argument, "the PKCS#12 bundle holds no private key");
  absl::Status s = CheckKey(out.key, argument);
  if (!s.ok()) return s;
  // The stack owns its certificates; move each into the chain, leaf first.
  while (sk_X509_num(certs.get()) > 0) {
    out.chain.emplace_back(sk_X509_shift(certs.get()));
  }
  for (size_t i = 0; i < out.chain.size(); ++i) {
    if (X509_check_private_key(out.chain[i].get(), out.key.get())) {
      std::rotate(out.chain.begin(), out.chain.begin() + i, out.chain.begin() + i + 1);
      ClearErrorQueue();
      return out;
    }
  }
  ClearErrorQueue();
  return BadInput(argument, out.chain.empty()
                                ? "the PKCS#12 bundle holds no certificate"
                                : "the PKCS#12 bundle holds no certificate for its key");
}

absl::Status AddCertsToStore(X509_STORE* store, const CertChain& certs,
                             absl::string_view argument) {
  for (const auto& cert : certs) {
    if (X509_STORE_add_cert(store, cert.get())) continue;
    const uint32_t err = ERR_peek_last_error();
    if (ERR_GET_LIB(err) == ERR_LIB_X509 &&
        ERR_GET_REASON(err) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
      ERR_clear_error();
      continue;
    }
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal, argument);
  }
  return absl::OkStatus();
}

}  // namespace sslshim::shim
