// ssl_context.h
// -----------------------------------------------------------------------------
// SSLContext: Python's ssl.SSLContext over one BoringSSL SSL_CTX. Credentials
// come from Sources (a path or a file-like reader) and are parsed in memory;
// nothing is written to disk.
//
//   absl::StatusOr<std::shared_ptr<SSLContext>> ctx =
//       SSLContext::Create(PROTOCOL_TLS_SERVER);
//   (*ctx)->load_cert_chain(StringIO(record.cert), StringIO(record.key_str));
//   (*ctx)->load_verify_locations({.cafile = StringIO(ca_pem)});
//   (*ctx)->set_verify_mode(CERT_REQUIRED);
//   absl::StatusOr<std::unique_ptr<SSLSocket>> conn =
//       (*ctx)->wrap_socket(fd, {.server_side = true});
//
// Defaults follow CPython 3.10+: PROTOCOL_TLS_CLIENT verifies the peer and
// checks the hostname; PROTOCOL_TLS / PROTOCOL_TLS_SERVER start with
// CERT_NONE; the minimum version is TLS 1.2 unless a PROTOCOL_TLSv1* pin or
// set_minimum_version asks for less.
//
// Thread-safety: configure a context (load_*, set_*) before sharing it; once
// configured it may be used by any number of threads to wrap sockets
// concurrently. Changing configuration while other threads wrap sockets is
// not supported. Each SSLSocket keeps its context alive.

#ifndef SSLSHIM_SHIM_SSL_CONTEXT_H_
#define SSLSHIM_SHIM_SSL_CONTEXT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "openssl/ssl.h"
#include "shim/constants.h"
#include "shim/credential_cache.h"
#include "shim/credentials.h"
#include "shim/py_value.h"
#include "shim/reader.h"
#include "shim/ssl_session.h"

namespace sslshim::shim {

class SSLContext;
class SSLSocket;

// WrapOptions: the keyword arguments of SSLContext.wrap_socket().
struct WrapOptions {
  bool server_side = false;
  bool do_handshake_on_connect = true;
  bool suppress_ragged_eofs = true;
  // SNI name sent by a client, and the name checked when check_hostname is
  // on. IP addresses are checked against IP SANs and not sent as SNI.
  std::string server_hostname;
  // Client side: a session from an earlier connection's SSLSocket::session()
  // to offer for resumption (Python's wrap_socket(session=)). The server may
  // decline it; SSLSocket::session_reused() tells. Ignored when null.
  std::shared_ptr<const SSLSession> session;
};

// SniCallback: Python's SSLContext.sni_callback(sslsocket, server_name,
// sslcontext), called on the server once per handshake after the ClientHello
// (server_name is nullopt when the client sent no SNI). It may switch the
// connection to another context with sock.set_context(). Returning an error
// aborts the handshake with a fatal alert: NotFound sends unrecognized_name
// (112), any other code internal_error (80); the status's message becomes
// the server-side handshake error.
using SniCallback = std::function<absl::Status(
    SSLSocket& sock, const absl::optional<std::string>& server_name,
    SSLContext& ctx)>;

// VerifyLocations: the arguments of load_verify_locations(cafile, capath,
// cadata). cafile is a path or reader of PEM (or DER) CA certificates; cadata
// is PEM or DER bytes held in memory. capath (a hashed directory) is not
// supported: the facade reads credentials only through readers.
struct VerifyLocations {
  Source cafile;
  std::string cadata;
};

class SSLContext : public std::enable_shared_from_this<SSLContext> {
 public:
  // Create makes a context for `protocol`. Errors: InvalidArgument for an
  // unknown or unsupported protocol (SSLv2/SSLv3), Internal when BoringSSL
  // cannot allocate.
  static absl::StatusOr<std::shared_ptr<SSLContext>> Create(
      Protocol protocol = PROTOCOL_TLS);

  ~SSLContext();
  SSLContext(const SSLContext&) = delete;
  SSLContext& operator=(const SSLContext&) = delete;

  // load_cert_chain loads this side's certificate chain (leaf first) and
  // private key. `keyfile` may be empty when `certfile` holds the key too.
  // Parsed results are shared through the CredentialCache. Errors
  // (InvalidArgument, kind SSLError) name the argument: unreadable source,
  // malformed PEM/DER, key mismatch, wrong or missing password.
  absl::Status load_cert_chain(const Source& certfile, const Source& keyfile = {},
                               const Password& password = Password::None());

  // load_pkcs12 loads certificate, key and chain from a PKCS#12 bundle.
  absl::Status load_pkcs12(const Source& pkcs12, const Password& password);

  // load_verify_locations adds trust anchors from cafile and/or cadata.
  // Errors: both empty, unreadable source, no certificate in the bundle.
  absl::Status load_verify_locations(const VerifyLocations& locations);

  // load_default_certs is load_verify_locations({.cafile = bundle}); the
  // runtime passes its configured default bundle.
  absl::Status load_default_certs(const Source& bundle);

  // load_crl adds certificate revocation lists (PEM or DER) from a source;
  // they are consulted when verify_flags has VERIFY_CRL_CHECK_LEAF/CHAIN.
  absl::Status load_crl(const Source& crlfile);

  // set_ciphers sets the TLS 1.2-and-below cipher list in OpenSSL syntax.
  // Errors: InvalidArgument "No cipher can be selected." for an unknown or
  // empty selection (TLS 1.3 suites are fixed, as in CPython).
  absl::Status set_ciphers(absl::string_view ciphers);

  // get_ciphers returns the enabled TLS <= 1.2 ciphers' OpenSSL names.
  std::vector<std::string> get_ciphers() const;

  // set_alpn_protocols sets the ALPN protocols offered (client) or accepted
  // in server preference order (server). Errors: empty or > 255-byte names.
  absl::Status set_alpn_protocols(const std::vector<std::string>& protocols);

  // verify_mode: CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED. Setting
  // CERT_NONE while check_hostname is on fails, as in CPython.
  VerifyMode verify_mode() const { return verify_mode_; }
  absl::Status set_verify_mode(VerifyMode mode);

  // check_hostname: when on, the handshake checks server_hostname against the
  // peer certificate. Turning it on moves CERT_NONE to CERT_REQUIRED.
  bool check_hostname() const { return check_hostname_; }
  void set_check_hostname(bool on);

  // minimum_version / maximum_version. Errors: versions below TLS 1.0 or
  // above TLS 1.3, or changing them on a PROTOCOL_TLSv1* pinned context.
  TLSVersion minimum_version() const { return minimum_version_; }
  TLSVersion maximum_version() const { return maximum_version_; }
  absl::Status set_minimum_version(TLSVersion version);
  absl::Status set_maximum_version(TLSVersion version);

  // options: OP_* flags. OP_NO_TLSv1* narrow the version range,
  // OP_NO_TICKET disables session tickets, OP_CIPHER_SERVER_PREFERENCE makes a
  // server choose by its own order. Returns the effective options.
  Options options() const { return options_; }
  absl::Status set_options(Options options);

  // verify_flags: VERIFY_* flags (CRL checking, strict, partial chain).
  VerifyFlags verify_flags() const { return verify_flags_; }
  absl::Status set_verify_flags(VerifyFlags flags);

  // wrap_socket wraps the connected socket `fd` in TLS. The returned socket
  // takes ownership of `fd` in every case: on error `fd` is closed. With
  // do_handshake_on_connect on a blocking fd the handshake runs before
  // returning (errors as SSLSocket::do_handshake). Errors: check_hostname on
  // a client without server_hostname; do_handshake_on_connect on a
  // non-blocking fd (use do_handshake and poll, as Python requires).
  absl::StatusOr<std::unique_ptr<SSLSocket>> wrap_socket(
      int fd, const WrapOptions& options = {});

  // get_ca_certs returns the loaded CA certificates (those with CA:TRUE) as
  // getpeercert()-style dictionaries; get_ca_certs_der as DER bytes.
  std::vector<PyValue> get_ca_certs() const;
  std::vector<std::string> get_ca_certs_der() const;

  // cert_store_stats returns {'x509': n, 'crl': n, 'x509_ca': n}.
  PyValue cert_store_stats() const;

  // session_stats returns CPython's counters: number, connect, connect_good,
  // connect_renegotiate, accept, accept_good, accept_renegotiate, hits,
  // misses, timeouts, cache_full.
  PyValue session_stats() const;

  // set_sni_callback installs (or, with nullptr, removes) the server-side
  // SNI callback. Configure before sharing the context, like set_*.
  void set_sni_callback(SniCallback callback);
  const SniCallback& sni_callback() const { return sni_callback_; }

  // protocol is the PROTOCOL_* this context was created for.
  Protocol protocol() const { return protocol_; }

  // native returns the underlying SSL_CTX (owned by the context).
  SSL_CTX* native() const { return ctx_.get(); }

  // Counters updated by SSLSocket (session_stats()).
  struct Counters {
    std::atomic<uint64_t> connect{0}, connect_good{0}, accept{0},
        accept_good{0}, hits{0}, misses{0};
  };
  Counters& counters() { return counters_; }

 private:
  SSLContext(Protocol protocol, bssl::UniquePtr<SSL_CTX> ctx);
  absl::Status ApplyVersionRange();
  // Validates `version` and stores it in *bound (minimum_version_ or
  // maximum_version_), restoring the old value if BoringSSL refuses.
  absl::Status SetVersionBound(TLSVersion version, TLSVersion* bound);
  absl::Status UseKeyedChain(const KeyedChain& chain);
  static int OnServerName(SSL* ssl, int* out_alert, void* arg);
  static int SelectAlpn(SSL* ssl, const uint8_t** out, uint8_t* out_len,
                        const uint8_t* in, unsigned in_len, void* arg);

  const Protocol protocol_;
  bssl::UniquePtr<SSL_CTX> ctx_;
  VerifyMode verify_mode_ = CERT_NONE;
  bool check_hostname_ = false;
  TLSVersion minimum_version_ = TLSVersion::TLSv1_2;
  TLSVersion maximum_version_ = TLSVersion::MAXIMUM_SUPPORTED;
  Options options_ = 0;
  VerifyFlags verify_flags_ = VERIFY_DEFAULT;
  std::string alpn_wire_;  // Length-prefixed protocol list.
  std::shared_ptr<const KeyedChain> chain_;  // Keeps cached objects alive.
  Counters counters_;
  SniCallback sni_callback_;
};

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_SSL_CONTEXT_H_
