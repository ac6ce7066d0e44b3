#include "shim/ssl_context.h"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "openssl/err.h"
#include "openssl/x509.h"
#include "openssl/x509v3.h"
#include "shim/errors.h"
#include "shim/socket_bio.h"
#include "shim/peercert.h"
#include "shim/ssl_socket.h"
#include "shim/verify_host.h"

namespace sslshim::shim {
namespace {

absl::Status BadArgument(absl::string_view message) {
  return MakeError(ErrorKind::kSSLError, absl::StatusCode::kInvalidArgument,
                   message);
}

bool IsKnownVersion(TLSVersion v) {
  switch (v) {
    case TLSVersion::MINIMUM_SUPPORTED:
    case TLSVersion::MAXIMUM_SUPPORTED:
    case TLSVersion::TLSv1:
    case TLSVersion::TLSv1_1:
    case TLSVersion::TLSv1_2:
    case TLSVersion::TLSv1_3:
      return true;
  }
  return false;
}

uint16_t WireVersion(TLSVersion v, bool is_min) {
  if (v == TLSVersion::MINIMUM_SUPPORTED) return TLS1_VERSION;
  if (v == TLSVersion::MAXIMUM_SUPPORTED) return TLS1_3_VERSION;
  (void)is_min;
  return static_cast<uint16_t>(v);
}

}  // namespace

SSLContext::SSLContext(Protocol protocol, bssl::UniquePtr<SSL_CTX> ctx)
    : protocol_(protocol), ctx_(std::move(ctx)) {}

SSLContext::~SSLContext() = default;

absl::StatusOr<std::shared_ptr<SSLContext>> SSLContext::Create(
    Protocol protocol) {
  switch (protocol) {
    case PROTOCOL_TLS:
    case PROTOCOL_TLS_CLIENT:
    case PROTOCOL_TLS_SERVER:
    case PROTOCOL_TLSv1:
    case PROTOCOL_TLSv1_1:
    case PROTOCOL_TLSv1_2:
      break;
    default:
      return BadArgument(absl::StrCat(
          "unsupported protocol ", static_cast<int>(protocol),
          ": SSLv2 and SSLv3 are not available; use PROTOCOL_TLS_CLIENT or "
          "PROTOCOL_TLS_SERVER"));
  }
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  if (ctx == nullptr) {
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                          "SSL_CTX_new");
  }
  std::shared_ptr<SSLContext> context(
      new SSLContext(protocol, std::move(ctx)));
  SSL_CTX* raw = context->native();
  SSL_CTX_set_app_data(raw, context.get());
  // Partial writes keep send()/write() semantics explicit; moving buffers are
  // needed because Python retries with a new bytes object.
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_select_certificate_cb(raw, &SSLSocket::OnClientHello);
  // Sessions: servers cache sessions and issue tickets (unless OP_NO_TICKET);
  // clients hand each new resumable session (TLS 1.3 tickets arrive after
  // the handshake) to the socket, for SSLSocket::session(). The session ID
  // context is CPython's, so resumption works with client verification on.
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_BOTH);
  SSL_CTX_sess_set_new_cb(raw, &SSLSocket::OnNewSession);
  static constexpr uint8_t kSessionIdContext[] = {'P', 'y', 't', 'h', 'o', 'n'};
  if (!SSL_CTX_set_session_id_context(raw, kSessionIdContext,
                                      sizeof(kSessionIdContext))) {
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                          "SSL_CTX_set_session_id_context");
  }
  // BoringSSL's default verify list omits Ed25519; CPython (OpenSSL 3)
  // accepts Ed25519 peers, so add it after the usual algorithms.
  static constexpr uint16_t kVerifyPrefs[] = {
      SSL_SIGN_ECDSA_SECP256R1_SHA256, SSL_SIGN_RSA_PSS_RSAE_SHA256,
      SSL_SIGN_RSA_PKCS1_SHA256,       SSL_SIGN_ECDSA_SECP384R1_SHA384,
      SSL_SIGN_RSA_PSS_RSAE_SHA384,    SSL_SIGN_RSA_PKCS1_SHA384,
      SSL_SIGN_RSA_PSS_RSAE_SHA512,    SSL_SIGN_RSA_PKCS1_SHA512,
      SSL_SIGN_ED25519,                SSL_SIGN_RSA_PKCS1_SHA1,
  };
  if (!SSL_CTX_set_verify_algorithm_prefs(
          raw, kVerifyPrefs, sizeof(kVerifyPrefs) / sizeof(kVerifyPrefs[0]))) {
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                          "SSL_CTX_set_verify_algorithm_prefs");
  }
  // CPython's defaults: OP_ALL | OP_NO_SSLv3 | OP_NO_COMPRESSION |
  // OP_CIPHER_SERVER_PREFERENCE | OP_SINGLE_*_USE | OP_ENABLE_MIDDLEBOX_COMPAT.
  context->options_ = OP_ALL | OP_NO_SSLv3 | OP_NO_COMPRESSION |
                      OP_CIPHER_SERVER_PREFERENCE | OP_ENABLE_MIDDLEBOX_COMPAT;
  SSL_CTX_set_options(raw, SSL_OP_CIPHER_SERVER_PREFERENCE);
  switch (protocol) {
    case PROTOCOL_TLSv1:
      context->minimum_version_ = context->maximum_version_ = TLSVersion::TLSv1;
      break;
    case PROTOCOL_TLSv1_1:
      context->minimum_version_ = context->maximum_version_ = TLSVersion::TLSv1_1;
      break;
    case PROTOCOL_TLSv1_2:
      context->minimum_version_ = context->maximum_version_ = TLSVersion::TLSv1_2;
      break;
    default:
      break;
  }
  absl::Status s = context->ApplyVersionRange();
  if (!s.ok()) return s;
  if (protocol == PROTOCOL_TLS_CLIENT) {
    context->check_hostname_ = true;
    s = context->set_verify_mode(CERT_REQUIRED);
  } else {
    s = context->set_verify_mode(CERT_NONE);
  }
  if (!s.ok()) return s;
  return context;
}

absl::Status SSLContext::ApplyVersionRange() {
  uint16_t min = WireVersion(minimum_version_, true);
  uint16_t max = WireVersion(maximum_version_, false);
  // OP_NO_* options narrow the range from either end, as in OpenSSL.
  struct {
    Options op;
    uint16_t version;
  } const kNoFlags[] = {{OP_NO_TLSv1, TLS1_VERSION},
                        {OP_NO_TLSv1_1, TLS1_1_VERSION},
                        {OP_NO_TLSv1_2, TLS1_2_VERSION},
                        {OP_NO_TLSv1_3, TLS1_3_VERSION}};
  for (const auto& f : kNoFlags) {
    if ((options_ & f.op) && min == f.version && min < max) ++min;
  }
  for (int i = 3; i >= 0; --i) {
    if ((options_ & kNoFlags[i].op) && max == kNoFlags[i].version && max > min) {
      --max;
    }
  }
  if (!SSL_CTX_set_min_proto_version(ctx_.get(), min) ||
      !SSL_CTX_set_max_proto_version(ctx_.get(), max)) {
    return ErrorFromQueue(ErrorKind::kSSLError,
                          absl::StatusCode::kInvalidArgument,
                          "unsupported protocol version");
  }
  return absl::OkStatus();
}

absl::Status SSLContext::SetVersionBound(TLSVersion version,
                                         TLSVersion* bound) {
  if (!IsKnownVersion(version)) {
    return BadArgument(absl::StrCat("unsupported TLS version 0x",
                                    absl::Hex(static_cast<int>(version)),
                                    ": supported are TLSv1 to TLSv1_3"));
  }
  if (protocol_ != PROTOCOL_TLS && protocol_ != PROTOCOL_TLS_CLIENT &&
      protocol_ != PROTOCOL_TLS_SERVER) {
    return BadArgument(
        "The context's protocol doesn't support modification of highest and "
        "lowest version.");
  }
  const TLSVersion old = *bound;
  *bound = version;
  absl::Status s = ApplyVersionRange();
  if (!s.ok()) *bound = old;
  return s;
}

absl::Status SSLContext::set_minimum_version(TLSVersion version) {
  return SetVersionBound(version, &minimum_version_);
}

absl::Status SSLContext::set_maximum_version(TLSVersion version) {
  return SetVersionBound(version, &maximum_version_);
}

absl::Status SSLContext::set_options(Options options) {
  options_ = options;
  if (options & OP_NO_TICKET) {
    SSL_CTX_set_options(ctx_.get(), SSL_OP_NO_TICKET);
  } else {
    SSL_CTX_clear_options(ctx_.get(), SSL_OP_NO_TICKET);
  }
  if (options & OP_CIPHER_SERVER_PREFERENCE) {
    SSL_CTX_set_options(ctx_.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  } else {
    SSL_CTX_clear_options(ctx_.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  return ApplyVersionRange();
}

absl::Status SSLContext::set_verify_flags(VerifyFlags flags) {
  unsigned long x509_flags = 0;
  if (flags & VERIFY_CRL_CHECK_LEAF) x509_flags |= X509_V_FLAG_CRL_CHECK;
  if ((flags & VERIFY_CRL_CHECK_CHAIN) == VERIFY_CRL_CHECK_CHAIN) {
    x509_flags |= X509_V_FLAG_CRL_CHECK_ALL;
  }
  if (flags & VERIFY_X509_STRICT) x509_flags |= X509_V_FLAG_X509_STRICT;
  if (flags & VERIFY_X509_PARTIAL_CHAIN) x509_flags |= X509_V_FLAG_PARTIAL_CHAIN;
  if (flags & VERIFY_X509_TRUSTED_FIRST) x509_flags |= X509_V_FLAG_TRUSTED_FIRST;
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx_.get());
  X509_VERIFY_PARAM_clear_flags(param, ~0UL);
  if (x509_flags != 0 && !X509_VERIFY_PARAM_set_flags(param, x509_flags)) {
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                          "verify_flags");
  }
  verify_flags_ = flags;
  return absl::OkStatus();
}

absl::Status SSLContext::set_verify_mode(VerifyMode mode) {
  if (mode != CERT_NONE && mode != CERT_OPTIONAL && mode != CERT_REQUIRED) {
    return BadArgument("invalid value for verify_mode");
  }
  if (mode == CERT_NONE && check_hostname_) {
    return BadArgument(
        "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
  }
  int flags = SSL_VERIFY_NONE;
  if (mode == CERT_OPTIONAL) flags = SSL_VERIFY_PEER;
  if (mode == CERT_REQUIRED) {
    flags = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(ctx_.get(), flags, nullptr);
  verify_mode_ = mode;
  return absl::OkStatus();
}

void SSLContext::set_check_hostname(bool on) {
  if (on && verify_mode_ == CERT_NONE) {
    // CPython 3.7+: enabling check_hostname turns verification on.
    (void)set_verify_mode(CERT_REQUIRED);
  }
  check_hostname_ = on;
}

absl::Status SSLContext::UseKeyedChain(const KeyedChain& keyed) {
  if (keyed.chain.empty() || keyed.key == nullptr) {
    return BadArgument("certfile: empty certificate chain");
  }
  // The SSL_CTX up-refs the leaf, key and chain certificates.
  if (!SSL_CTX_use_certificate(ctx_.get(), keyed.chain[0].get())) {
    return ErrorFromQueue(ErrorKind::kSSLError,
                          absl::StatusCode::kInvalidArgument, "certfile");
  }
  if (!SSL_CTX_clear_chain_certs(ctx_.get())) {
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                          "certfile");
  }
  for (size_t i = 1; i < keyed.chain.size(); ++i) {
    if (!SSL_CTX_add1_chain_cert(ctx_.get(), keyed.chain[i].get())) {
      return ErrorFromQueue(ErrorKind::kSSLError,
                            absl::StatusCode::kInvalidArgument, "certfile");
    }
  }
  if (!SSL_CTX_use_PrivateKey(ctx_.get(), keyed.key.get())) {
    return ErrorFromQueue(ErrorKind::kSSLError,
                          absl::StatusCode::kInvalidArgument, "keyfile");
  }
  if (!SSL_CTX_check_private_key(ctx_.get())) {
    return ErrorFromQueue(ErrorKind::kSSLError,
                          absl::StatusCode::kInvalidArgument, "keyfile");
  }
  return absl::OkStatus();
}

absl::Status SSLContext::load_cert_chain(const Source& certfile,
                                         const Source& keyfile,
                                         const Password& password) {
  absl::StatusOr<SecureBytes> cert_bytes = ReadSource(certfile, "certfile");
  if (!cert_bytes.ok()) return cert_bytes.status();
  SecureBytes key_bytes;
  if (!keyfile.empty()) {
    absl::StatusOr<SecureBytes> read = ReadSource(keyfile, "keyfile");
    if (!read.ok()) return read.status();
    key_bytes = std::move(*read);
  }
  absl::StatusOr<std::shared_ptr<const KeyedChain>> keyed =
      CredentialCache::Default().GetCertAndKey(cert_bytes->view(),
                                               key_bytes.view(), password);
  if (!keyed.ok()) return keyed.status();
  absl::Status s = UseKeyedChain(**keyed);
  if (!s.ok()) return s;
  chain_ = *std::move(keyed);
  return absl::OkStatus();
}

absl::Status SSLContext::load_pkcs12(const Source& pkcs12,
                                     const Password& password) {
  absl::StatusOr<SecureBytes> bytes = ReadSource(pkcs12, "pkcs12");
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<Pkcs12Contents> contents =
      ParsePkcs12(bytes->view(), password, "pkcs12");
  if (!contents.ok()) return contents.status();
  auto keyed = std::make_shared<KeyedChain>();
  keyed->chain = std::move(contents->chain);
  keyed->key = std::move(contents->key);
  absl::Status s = UseKeyedChain(*keyed);
  if (!s.ok()) return s;
  chain_ = std::move(keyed);
  return absl::OkStatus();
}

absl::Status SSLContext::load_verify_locations(
    const VerifyLocations& locations) {
  if (locations.cafile.empty() && locations.cadata.empty()) {
    return BadArgument("cafile, capath and cadata cannot be all omitted");
  }
  if (!locations.cafile.empty()) {
    absl::StatusOr<SecureBytes> bytes = ReadSource(locations.cafile, "cafile");
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<std::shared_ptr<const CaSet>> cas =
        CredentialCache::Default().GetCaSet(bytes->view(), "cafile");
    if (!cas.ok()) return cas.status();
    absl::Status s = AddCertsToStore(SSL_CTX_get_cert_store(ctx_.get()), (*cas)->certs,
                                     "load_verify_locations");
    if (!s.ok()) return s;
  }
  if (!locations.cadata.empty()) {
    absl::StatusOr<std::shared_ptr<const CaSet>> cas =
        CredentialCache::Default().GetCaSet(locations.cadata, "cadata");
    if (!cas.ok()) return cas.status();
    absl::Status s = AddCertsToStore(SSL_CTX_get_cert_store(ctx_.get()), (*cas)->certs,
                                     "load_verify_locations");
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status SSLContext::load_default_certs(const Source& bundle) {
  return load_verify_locations({.cafile = bundle});
}

absl::Status SSLContext::load_crl(const Source& crlfile) {
  absl::StatusOr<SecureBytes> bytes = ReadSource(crlfile, "crl");
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<std::vector<bssl::UniquePtr<X509_CRL>>> crls =
      ParseCrls(bytes->view(), "crl");
  if (!crls.ok()) return crls.status();
  X509_STORE* store = SSL_CTX_get_cert_store(ctx_.get());
  for (const auto& crl : *crls) {
    if (!X509_STORE_add_crl(store, crl.get())) {
      return ErrorFromQueue(ErrorKind::kSSLError,
                            absl::StatusCode::kInvalidArgument, "crl");
    }
  }
  return absl::OkStatus();
}

absl::Status SSLContext::set_ciphers(absl::string_view ciphers) {
  std::string list(ciphers);
  if (list.empty() || !SSL_CTX_set_strict_cipher_list(ctx_.get(), list.c_str())) {
    ERR_clear_error();
    return BadArgument(absl::StrCat("No cipher can be selected. (ciphers '",
                                    ciphers, "')"));
  }
  return absl::OkStatus();
}

std::vector<std::string> SSLContext::get_ciphers() const {
  std::vector<std::string> names;
  STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx_.get());
  for (size_t i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
    names.push_back(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, i)));
  }
  return names;
}

absl::Status SSLContext::set_alpn_protocols(
    const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& p : protocols) {
    if (p.empty() || p.size() > 255) {
      return BadArgument(absl::StrCat(
          "ALPN protocol names must be 1 to 255 bytes, got ", p.size()));
    }
    wire.push_back(static_cast<char>(p.size()));
    wire.append(p);
  }
  alpn_wire_ = wire;
  // Client side: offered list (note: SSL_CTX_set_alpn_protos returns 0 on
  // success). Server side: the selection callback below.
  if (SSL_CTX_set_alpn_protos(ctx_.get(),
                              reinterpret_cast<const uint8_t*>(wire.data()),
                              wire.size()) != 0) {
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                          "set_alpn_protocols");
  }
  SSL_CTX_set_alpn_select_cb(ctx_.get(), &SSLContext::SelectAlpn, this);
  return absl::OkStatus();
}

void SSLContext::set_sni_callback(SniCallback callback) {
  sni_callback_ = std::move(callback);
  if (sni_callback_) {
    SSL_CTX_set_tlsext_servername_callback(ctx_.get(), &SSLContext::OnServerName);
    SSL_CTX_set_tlsext_servername_arg(ctx_.get(), this);
  } else {
    SSL_CTX_set_tlsext_servername_callback(ctx_.get(), nullptr);
  }
}

int SSLContext::OnServerName(SSL* ssl, int* out_alert, void* arg) {
  auto* self = static_cast<SSLContext*>(arg);
  auto* sock = static_cast<SSLSocket*>(SSL_get_app_data(ssl));
  if (sock == nullptr || !self->sni_callback_) return SSL_TLSEXT_ERR_OK;
  absl::optional<std::string> name;
  if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
    name = sni;
  }
  absl::Status s = self->sni_callback_(*sock, name, *self);
  if (s.ok()) return SSL_TLSEXT_ERR_OK;
  *out_alert = s.code() == absl::StatusCode::kNotFound
                   ? SSL_AD_UNRECOGNIZED_NAME
                   : SSL_AD_INTERNAL_ERROR;
  sock->sni_error_ = std::move(s);
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int SSLContext::SelectAlpn(SSL*, const uint8_t** out, uint8_t* out_len,
                           const uint8_t* in, unsigned in_len, void* arg) {
  auto* self = static_cast<SSLContext*>(arg);
  if (self->alpn_wire_.empty()) return SSL_TLSEXT_ERR_NOACK;
  // CPython: the first of the server's protocols that the client offers.
  uint8_t* selected = nullptr;
  int r = SSL_select_next_proto(
      &selected, out_len,
      reinterpret_cast<const uint8_t*>(self->alpn_wire_.data()),
      self->alpn_wire_.size(), in, in_len);
  if (r != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// ForEachCaCert calls fn for every CA certificate (CA:TRUE) in `ctx`'s store.
template <typename Fn>
static void ForEachCaCert(SSL_CTX* ctx, Fn fn) {
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
  for (size_t i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    X509_OBJECT* obj = sk_X509_OBJECT_value(objects, i);
    if (X509_OBJECT_get_type(obj) != X509_LU_X509) continue;
    X509* cert = X509_OBJECT_get0_X509(obj);
    if (X509_check_ca(cert)) fn(cert);
  }
}

std::vector<std::string> SSLContext::get_ca_certs_der() const {
  std::vector<std::string> out;
  ForEachCaCert(ctx_.get(), [&out](X509* cert) {
    uint8_t* der = nullptr;
    int len = i2d_X509(cert, &der);
    if (len <= 0) return;
    out.emplace_back(reinterpret_cast<char*>(der), len);
    OPENSSL_free(der);
  });
  return out;
}

std::vector<PyValue> SSLContext::get_ca_certs() const {
  std::vector<PyValue> out;
  ForEachCaCert(ctx_.get(), [&out](X509* cert) { out.push_back(DecodeCertificate(cert)); });
  return out;
}

PyValue SSLContext::cert_store_stats() const {
  int64_t x509 = 0, crl = 0, x509_ca = 0;
  X509_STORE* store = SSL_CTX_get_cert_store(ctx_.get());
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
  for (size_t i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    X509_OBJECT* obj = sk_X509_OBJECT_value(objects, i);
    if (X509_OBJECT_get_type(obj) == X509_LU_X509) {
      ++x509;
      if (X509_check_ca(X509_OBJECT_get0_X509(obj))) ++x509_ca;
    } else if (X509_OBJECT_get_type(obj) == X509_LU_CRL) {
      ++crl;
    }
  }
  return PyValue::Dict({{"x509", PyValue::Int(x509)},
                        {"crl", PyValue::Int(crl)},
                        {"x509_ca", PyValue::Int(x509_ca)}});
}

PyValue SSLContext::session_stats() const {
  auto n = [](const std::atomic<uint64_t>& v) {
    return PyValue::Int(static_cast<int64_t>(v.load()));
  };
  return PyValue::Dict({
      {"number", PyValue::Int(static_cast<int64_t>(SSL_CTX_sess_number(ctx_.get())))},
      {"connect", n(counters_.connect)},
      {"connect_good", n(counters_.connect_good)},
      {"connect_renegotiate", PyValue::Int(0)},
      {"accept", n(counters_.accept)},
      {"accept_good", n(counters_.accept_good)},
      {"accept_renegotiate", PyValue::Int(0)},
      {"hits", n(counters_.hits)},
      {"misses", n(counters_.misses)},
      {"timeouts", PyValue::Int(0)},
      {"cache_full", PyValue::Int(0)},
  });
}

absl::StatusOr<std::unique_ptr<SSLSocket>> SSLContext::wrap_socket(
    int fd, const WrapOptions& options) {
  auto fail = [fd](absl::Status s) -> absl::Status {
    if (fd >= 0) ::close(fd);
    return s;
  };
  if (fd < 0) return BadArgument("wrap_socket: invalid file descriptor");
  if (options.server_side && protocol_ == PROTOCOL_TLS_CLIENT) {
    return fail(BadArgument("Cannot create a server socket with a PROTOCOL_TLS_CLIENT context"));
  }
  if (!options.server_side && protocol_ == PROTOCOL_TLS_SERVER) {
    return fail(BadArgument("Cannot create a client socket with a PROTOCOL_TLS_SERVER context"));
  }
  if (!options.server_side && check_hostname_ && options.server_hostname.empty()) {
    return fail(BadArgument("check_hostname requires server_hostname"));
  }
  if (options.server_side && options.session != nullptr) {
    return fail(BadArgument("Cannot set session for server-side SSLSocket"));
  }
  if (options.server_side && !options.server_hostname.empty()) {
    return fail(BadArgument("server_hostname can only be specified in client mode"));
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) {
    return fail(MakeError(ErrorKind::kSSLSyscallError,
                          absl::StatusCode::kInvalidArgument,
                          "wrap_socket: not an open file descriptor"));
  }
  const bool nonblocking = (flags & O_NONBLOCK) != 0;
  if (nonblocking && options.do_handshake_on_connect) {
    return fail(BadArgument(
        "do_handshake_on_connect should not be specified for non-blocking "
        "sockets"));
  }
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
  if (ssl == nullptr) {
    return fail(ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                               "SSL_new"));
  }
  // Not SSL_set_fd: its BIO writes with write(2), and a peer that closes
  // early would kill the process with SIGPIPE.
  bssl::UniquePtr<BIO> bio = NewSocketBio(fd);
  if (bio == nullptr) {
    return fail(ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                               "NewSocketBio"));
  }
  // SSL_set_bio takes ownership of the one reference (rbio == wbio).
  SSL_set_bio(ssl.get(), bio.get(), bio.get());
  bio.release();
  if (options.server_side) {
    SSL_set_accept_state(ssl.get());
  } else {
    SSL_set_connect_state(ssl.get());
    if (options.session != nullptr &&
        !SSL_set_session(ssl.get(), options.session->native())) {
      return fail(ErrorFromQueue(ErrorKind::kSSLError,
                                 absl::StatusCode::kInvalidArgument,
                                 "wrap_socket(session=)"));
    }
    if (!options.server_hostname.empty()) {
      absl::Status s = ConfigureHostname(ssl.get(), options.server_hostname,
                                         check_hostname_);
      if (!s.ok()) return fail(s);
    }
  }
  std::unique_ptr<SSLSocket> sock(
      new SSLSocket(shared_from_this(), std::move(ssl), fd, options));
  if (nonblocking) {
    sock->timeout_ = absl::ZeroDuration();
  }
  if (options.do_handshake_on_connect) {
    absl::Status s = sock->do_handshake();
    if (!s.ok()) return s;  // ~SSLSocket closes the fd.
  }
  return sock;
}

}  // namespace sslshim::shim
