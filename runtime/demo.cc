#include "runtime/demo.h"

#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "openssl/digest.h"
#include "openssl/x509.h"
#include "runtime/net.h"
#include "shim/ssl.h"
#include "testing/cert_builder.h"

namespace sslshim::runtime {
namespace {

namespace ssl = ::sslshim::ssl;
using ::sslshim::testing::Issue;
using ::sslshim::testing::Issued;
using ::sslshim::testing::KeyType;

constexpr absl::Duration kIoTimeout = absl::Seconds(5);

// Record stands in for a datastore entity with cert / key_str fields; the
// server's readers read it at every new connection, so rewriting it rotates
// the credentials with no restart.
class Record {
 public:
  void Set(std::string cert, std::string key) {
    std::lock_guard<std::mutex> lock(mu_);
    cert_ = std::move(cert);
    key_ = std::move(key);
  }
  std::shared_ptr<ssl::Reader> Field(bool key_field) {
    return ssl::CallableReader(
        absl::StrCat("record Employee/asalieri/Address/1#",
                     key_field ? "key_str" : "cert"),
        [this, key_field]() -> absl::StatusOr<std::string> {
          std::lock_guard<std::mutex> lock(mu_);
          return key_field ? key_ : cert_;
        });
  }

 private:
  std::mutex mu_;
  std::string cert_, key_;
};

std::string Fingerprint(const std::string& der) {
  uint8_t md[32];
  SHA256(reinterpret_cast<const uint8_t*>(der.data()), der.size(), md);
  return absl::BytesToHexString(
             absl::string_view(reinterpret_cast<char*>(md), 8)) + "...";
}

// Outcome of one server-side connection.
struct Served {
  absl::Status status;
  std::string client_identity;
};

// DemoServer accepts connections on 127.0.0.1 and, for each, builds a
// context from `make_args()` (the reader-backed wrap_socket arguments),
// greets the client with its verified identity and closes.
class DemoServer {
 public:
  explicit DemoServer(std::function<ssl::WrapSocketArgs()> make_args)
      : make_args_(std::move(make_args)) {}
  ~DemoServer() { Stop(); }

  absl::Status Start() {
    absl::StatusOr<TcpListener> l = TcpListener::Listen("127.0.0.1", 0);
    if (!l.ok()) return l.status();
    listener_ = std::make_unique<TcpListener>(std::move(*l));
    thread_ = std::thread([this] { Loop(); });
    return absl::OkStatus();
  }
  int port() const { return listener_->port(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Last returns the most recent connection's outcome (waits briefly).
  Served Last() {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (served_.size() > seen_) return served_[seen_++];
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return {absl::DeadlineExceededError("server saw no connection"), ""};
  }

 private:
  void Loop() {
    while (!stop_) {
      absl::StatusOr<int> fd = listener_->Accept(absl::Milliseconds(100));
      if (!fd.ok()) continue;
      Served s = Serve(*fd);
      std::lock_guard<std::mutex> lock(mu_);
      served_.push_back(std::move(s));
    }
  }
  Served Serve(int fd) {
    ssl::WrapSocketArgs args = make_args_();
    args.server_side = true;
    args.do_handshake_on_connect = false;
    auto sock = ssl::wrap_socket(fd, args);
    if (!sock.ok()) return {sock.status(), ""};
    absl::Status st = (*sock)->settimeout(kIoTimeout);
    if (st.ok()) st = (*sock)->do_handshake();
    if (!st.ok()) return {st, ""};
    std::string who = "anonymous (no client certificate)";
    absl::StatusOr<ssl::PyValue> peer = (*sock)->getpeercert();
    if (peer.ok() && peer->Get("subject") != nullptr) {
      who = peer->Get("subject")->ToPythonRepr();
    }
    absl::StatusOr<std::string> request = (*sock)->recv(1024);
    if (!request.ok()) return {request.status(), who};
    st = (*sock)->sendall(absl::StrCat("hello ", who, "\n"));
    return {st, who};
  }

  std::function<ssl::WrapSocketArgs()> make_args_;
  std::unique_ptr<TcpListener> listener_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Served> served_;
  size_t seen_ = 0;
};

// Connects to the demo server with `args` and exchanges one line.
struct ClientResult {
  absl::Status status;
  std::unique_ptr<ssl::SSLSocket> sock;
  std::string reply;
};

ClientResult Connect(int port, ssl::WrapSocketArgs args) {
  ClientResult r;
  absl::StatusOr<int> fd = ConnectTcp("127.0.0.1", port, kIoTimeout);
  if (!fd.ok()) {
    r.status = fd.status();
    return r;
  }
  args.do_handshake_on_connect = false;
  auto sock = ssl::wrap_socket(*fd, args);
  if (!sock.ok()) {
    r.status = sock.status();
    return r;
  }
  r.sock = std::move(*sock);
  r.status = r.sock->settimeout(kIoTimeout);
  if (r.status.ok()) r.status = r.sock->do_handshake();
  if (r.status.ok()) r.status = r.sock->sendall("GET /\n");
  if (r.status.ok()) {
    absl::StatusOr<std::string> reply = r.sock->recv(4096);
    r.status = reply.status();
    if (reply.ok()) r.reply = std::string(absl::StripTrailingAsciiWhitespace(*reply));
    // TLS 1.3 reports a refused client certificate on the first read.
    if (reply.ok() && reply->empty()) {
      r.status = absl::AbortedError("server closed the connection");
    }
  }
  return r;
}

std::string Describe(const absl::Status& s) {
  return absl::StrCat(ssl::ErrorKindName(ssl::GetErrorKind(s)), ": ", s.message());
}

class Steps {
 public:
  explicit Steps(std::ostream& out) : out_(out) {}
  void Report(bool ok, const std::string& what, const std::string& detail = "") {
    ++count_;
    if (!ok) ++failed_;
    out_ << "[" << count_ << "] " << (ok ? "ok   " : "FAIL ") << what << "\n";
    if (!detail.empty()) out_ << "      " << detail << "\n";
  }
  int failed() const { return failed_; }
  int count() const { return count_; }

 private:
  std::ostream& out_;
  int count_ = 0;
  int failed_ = 0;
};

}  // namespace

int RunDemo(std::ostream& out) {
  Steps steps(out);
  out << "sslshim demo: Python's ssl facade over BoringSSL, end to end over "
         "127.0.0.1.\nEvery credential travels through file-like readers; "
         "nothing is written to disk.\n\n";

  // 1. A CA, a server and a client certificate, in memory.
  Issued ca = Issue({.common_name = "sslshim Demo CA", .is_ca = true},
                    KeyType::kP256, nullptr);
  Issued server = Issue({.common_name = "localhost",
                         .dns_names = {"localhost"},
                         .ip_addresses = {"127.0.0.1"}},
                        KeyType::kP256, &ca);
  Issued client = Issue({.common_name = "asalieri",
                         .subject = {{"O", "Employee"}},
                         .emails = {"asalieri@example.com"}},
                        KeyType::kP256, &ca);
  const std::string ca_pem = ca.CertPem();
  steps.Report(true, "minted a P-256 CA 'sslshim Demo CA', a server cert "
                     "'localhost' and a client cert 'asalieri'");

  Record record;
  record.Set(server.CertPem(), server.KeyPem());

  // 2. Mutual-TLS server, credentials from the record's readers.
  DemoServer mutual([&] {
    return ssl::WrapSocketArgs{.keyfile = record.Field(true),
                               .certfile = record.Field(false),
                               .cert_reqs = ssl::CERT_REQUIRED,
                               .ca_certs = ssl::StringIO(ca_pem)};
  });
  absl::Status started = mutual.Start();
  steps.Report(started.ok(),
               absl::StrCat("mutual-TLS server (cert_reqs=CERT_REQUIRED) on "
                            "127.0.0.1:",
                            started.ok() ? mutual.port() : 0,
                            ", certfile/keyfile read from record "
                            "Employee/asalieri/Address/1"),
               started.ok() ? "" : Describe(started));
  if (!started.ok()) return steps.failed();

  // 3. The App Engine call: wrap_socket with StringIO readers.
  auto client_args = [&] {
    return ssl::WrapSocketArgs{.keyfile = ssl::StringIO(client.KeyPem()),
                               .certfile = ssl::StringIO(client.CertPem()),
                               .cert_reqs = ssl::CERT_REQUIRED,
                               .ssl_version = ssl::PROTOCOL_SSLv23,
                               .ca_certs = ssl::StringIO(ca_pem),
                               .server_hostname = "localhost"};
  };
  ClientResult first = Connect(mutual.port(), client_args());
  Served first_served = mutual.Last();
  absl::StatusOr<ssl::PyValue> server_cert =
      first.sock != nullptr ? first.sock->getpeercert()
                            : absl::StatusOr<ssl::PyValue>(first.status);
  const bool mutual_ok = first.status.ok() && first_served.status.ok() &&
                         server_cert.ok();
  steps.Report(
      mutual_ok,
      absl::StrCat("client wrap_socket(keyfile=StringIO, certfile=StringIO, "
                   "cert_reqs=CERT_REQUIRED, ca_certs=StringIO): ",
                   first.sock ? first.sock->version().value_or("?") : "-", " ",
                   first.sock && first.sock->cipher()
                       ? first.sock->cipher()->name
                       : "-"),
      mutual_ok ? absl::StrCat("server says: ", first.reply)
                : Describe(first.status.ok() ? first_served.status : first.status));
  if (server_cert.ok()) {
    out << "      client sees server certificate: "
        << server_cert->ToPythonRepr() << "\n";
    out << "      server sees client identity:    " << first_served.client_identity
        << "\n";
  }

  // 4-5. match_hostname passing and failing.
  if (server_cert.ok()) {
    absl::Status good = ssl::match_hostname(*server_cert, "localhost");
    steps.Report(good.ok(), "match_hostname(cert, 'localhost') passes",
                 good.ok() ? "" : Describe(good));
    absl::Status bad = ssl::match_hostname(*server_cert, "a.hostname.com");
    steps.Report(ssl::GetErrorKind(bad) == ssl::ErrorKind::kCertificateError,
                 "match_hostname(cert, 'a.hostname.com') fails", Describe(bad));
  } else {
    steps.Report(false, "match_hostname: no server certificate to check");
  }

  // 6. Rotation: new key and certificate in the record; the next connection
  // uses them, with no restart.
  const std::string before = Fingerprint(server.CertDer());
  Issued rotated = Issue({.common_name = "localhost",
                          .dns_names = {"localhost"},
                          .ip_addresses = {"127.0.0.1"}},
                         KeyType::kP256, &ca);
  record.Set(rotated.CertPem(), rotated.KeyPem());
  ClientResult after = Connect(mutual.port(), client_args());
  mutual.Last();
  std::string seen;
  if (after.sock != nullptr) {
    absl::StatusOr<std::string> der = after.sock->getpeercert(ssl::binary_form);
    if (der.ok()) seen = *der;
  }
  const bool rotated_ok = after.status.ok() && seen == rotated.CertDer();
  steps.Report(rotated_ok,
               "rotated the server key in the record: the next connection "
               "uses it, no restart",
               absl::StrCat("server certificate SHA-256 ", before, " -> ",
                            seen.empty() ? "(none)" : Fingerprint(seen)));

  // 7. One-way TLS: only the server shows a certificate.
  DemoServer one_way([&] {
    return ssl::WrapSocketArgs{.keyfile = record.Field(true),
                               .certfile = record.Field(false)};
  });
  absl::Status one_way_started = one_way.Start();
  ClientResult anon = one_way_started.ok()
                          ? Connect(one_way.port(),
                                    {.cert_reqs = ssl::CERT_REQUIRED,
                                     .ca_certs = ssl::StringIO(ca_pem),
                                     .server_hostname = "localhost"})
                          : ClientResult{one_way_started, nullptr, ""};
  Served anon_served = one_way_started.ok() ? one_way.Last() : Served{};
  steps.Report(anon.status.ok() && anon_served.status.ok(),
               "one-way TLS: the client verifies the server and shows no "
               "certificate",
               anon.status.ok() ? absl::StrCat("server says: ", anon.reply)
                                : Describe(anon.status));

  // 8. A client without a certificate against CERT_REQUIRED is refused.
  ClientResult no_cert = Connect(mutual.port(), {.cert_reqs = ssl::CERT_REQUIRED,
                                                 .ca_certs = ssl::StringIO(ca_pem),
                                                 .server_hostname = "localhost"});
  Served refused = mutual.Last();
  steps.Report(!no_cert.status.ok() && !refused.status.ok(),
               "a client without a certificate is refused by the mutual-TLS "
               "server",
               absl::StrCat("server: ", Describe(refused.status)));

  // 9. A client that trusts another CA refuses the server.
  Issued other_ca = Issue({.common_name = "Some Other CA", .is_ca = true},
                          KeyType::kP256, nullptr);
  ClientResult distrust = Connect(mutual.port(), {.keyfile = ssl::StringIO(client.KeyPem()),
                                                  .certfile = ssl::StringIO(client.CertPem()),
                                                  .cert_reqs = ssl::CERT_REQUIRED,
                                                  .ca_certs = ssl::StringIO(other_ca.CertPem()),
                                                  .server_hostname = "localhost"});
  mutual.Last();
  steps.Report(ssl::GetErrorKind(distrust.status) ==
                   ssl::ErrorKind::kSSLCertVerificationError,
               "a client that does not trust the server's CA refuses it",
               Describe(distrust.status));

  mutual.Stop();
  one_way.Stop();
  out << "\nsummary: " << steps.count() - steps.failed() << "/" << steps.count()
      << " steps did what they should"
      << (steps.failed() == 0 ? "" : absl::StrCat(" (", steps.failed(), " FAILED)"))
      << "\n";
  return steps.failed();
}

}  // namespace sslshim::runtime
