#include "runtime/demo_app.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "certstore/cert_store.h"
#include "certstore/store_url.h"
#include "certstore/tenant_view.h"
#include "openssl/digest.h"
#include "runtime/credential_slot.h"
#include "runtime/https_client.h"
#include "runtime/https_server.h"
#include "runtime/sandbox.h"
#include "runtime/slot_context_provider.h"
#include "runtime/store_reader.h"
#include "shim/ssl.h"
#include "testing/cert_builder.h"

namespace sslshim::runtime::demo_internal {

namespace ssl = ::sslshim::ssl;
using ::sslshim::certstore::CertStore;
using ::sslshim::certstore::KeyPath;

certstore::KeyPath TenantPath() { return *KeyPath::Of({"Employee", "asalieri"}); }
certstore::KeyPath ServerPath() {
  return *KeyPath::Of({"Employee", "asalieri", "Address", 1});
}
certstore::KeyPath ClientPath() {
  return *KeyPath::Of({"Employee", "asalieri", "Address", 2});
}

std::string Fingerprint(absl::string_view der) {
  uint8_t md[32];
  SHA256(reinterpret_cast<const uint8_t*>(der.data()), der.size(), md);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(md), 8)) +
         "...";
}

std::string StepLine(bool ok, absl::string_view what, absl::string_view detail) {
  return absl::StrCat("S\t", ok ? "1" : "0", "\t", absl::CEscape(what), "\t",
                      absl::CEscape(detail));
}

std::string InfoLine(absl::string_view text) {
  return absl::StrCat("I\t", absl::CEscape(text));
}

namespace {

std::string Describe(const absl::Status& s) {
  if (s.ok()) return "OK";
  return absl::StrCat(ssl::ErrorKindName(ssl::GetErrorKind(s)), ": ", s.message());
}

// WhoAmI answers with the client identity TLS established.
absl::StatusOr<HttpResponse> WhoAmI(const HttpRequest& req) {
  const ClientIdentity& c = *req.client;
  return HttpResponse{.headers = {{"Content-Type", "text/plain"}},
                      .body = c.verified
                                  ? absl::StrCat("verified client ", c.subject, "\n",
                                                 c.peercert.ToPythonRepr(), "\n")
                                  : "anonymous client (no certificate)\n"};
}

// Events collects the servers' connection events.
class Events {
 public:
  void Add(const ConnectionEvent& e) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(e);
  }
  // FirstFailed waits up to `timeout` for a failed handshake.
  absl::StatusOr<ConnectionEvent> FirstFailed(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    do {
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const ConnectionEvent& e : events_) {
          if (!e.handshake_ok) return e;
        }
      }
      absl::SleepFor(absl::Milliseconds(5));
    } while (absl::Now() < deadline);
    return absl::DeadlineExceededError("the server reported no failed handshake");
  }

 private:
  std::mutex mu_;
  std::vector<ConnectionEvent> events_;
};

// App holds the app's state between steps.
class App {
 public:
  App(const DemoAppConfig& config, AppChannel& host) : config_(config), host_(host) {}

  void Run() {
    if (!OpenStoreView() || !Sandbox() || !StartServers()) return;
    absl::StatusOr<ClientResponse> first = MutualRequest();
    if (first.ok()) MatchHostname(*first);
    Rotate(first.ok() ? Fingerprint(first->peer_cert_der) : "(none)");
    OneWay();
    Refusals();
    mutual_->Shutdown(absl::Milliseconds(200));
    one_way_->Shutdown(absl::Milliseconds(200));
    host_.Send("DONE");
  }

 private:
  bool Step(bool ok, absl::string_view what, absl::string_view detail = "") {
    host_.Send(StepLine(ok, what, detail));
    return ok;
  }
  void Info(absl::string_view text) { host_.Send(InfoLine(text)); }
  std::string Url(int port) const {
    return absl::StrCat("https://localhost:", port, "/whoami");
  }

  // The host opens the app's store view before the sandbox goes on.
  bool OpenStoreView() {
    auto base = certstore::OpenStore(absl::StrCat("lmdb:", config_.store_dir));
    if (!base.ok())
      return Step(false, "app: open the LMDB store", base.status().ToString());
    base_ = *std::move(base);
    auto view = certstore::TenantView::Create(base_.get(), TenantPath());
    if (!view.ok()) return Step(false, "app: tenant view", view.status().ToString());
    view_ = *std::move(view);
    auto cs = CertStore::CreateBorrowed(view_.get(), {.keks = {*config_.kek}});
    if (!cs.ok()) return Step(false, "app: record layer", cs.status().ToString());
    store_ = *std::move(cs);
    absl::Status other =
        store_->Get(*KeyPath::Of({"Employee", "mozart", "Address", 1})).status();
    return Step(
        other.code() == absl::StatusCode::kPermissionDenied,
        absl::StrCat("app: opened its tenant view ", TenantPath().ToString(),
                     " of lmdb:", config_.store_dir, " (before the sandbox)"),
        absl::StrCat("another tenant's record is out of reach: ", other.ToString()));
  }

  // The no-write sandbox; the LMDB files are the only writable descriptors
  // the app holds (LMDB keeps its lock file open read-write even to read).
  bool Sandbox() {
    SandboxOptions options;
    std::vector<int> store_fds = DescriptorsUnder(config_.store_dir);
    options.allowed_writable_fds.insert(options.allowed_writable_fds.end(),
                                        store_fds.begin(), store_fds.end());
    absl::Status s = InstallNoWriteSandbox(options);
    if (!Step(s.ok(), "app: installed the no-write sandbox (seccomp)",
              s.ok()
                  ? absl::StrCat("writable descriptors handed to the app: stdio and the "
                                 "store's files (fds ",
                                 absl::StrJoin(store_fds, ", "), ")")
                  : s.ToString())) {
      return false;
    }
    const std::string target = absl::StrCat(config_.store_dir, "/app-was-here.txt");
    int fd = open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int open_errno = errno;
    if (fd >= 0) close(fd);
    int rc = mkdir(absl::StrCat(config_.store_dir, "/app-dir").c_str(), 0700);
    const int mkdir_errno = errno;
    return Step(
        fd < 0 && open_errno == EPERM && rc < 0 && mkdir_errno == EPERM,
        "app: file writes are refused",
        absl::StrCat("open(\"", target, "\", O_WRONLY|O_CREAT) -> ",
                     fd < 0 ? strerrorname_np(open_errno) : "succeeded", "; mkdir -> ",
                     rc < 0 ? strerrorname_np(mkdir_errno) : "succeeded"));
  }

  bool StartServers() {
    HttpsServerOptions options;
    options.threads = 1;
    options.handshake_timeout = config_.step_timeout;
    options.request_timeout = config_.step_timeout;
    options.idle_timeout = config_.step_timeout;
    options.linger_timeout = absl::Milliseconds(200);
    options.on_connection_closed = [this](const ConnectionEvent& e) { events_.Add(e); };
    SlotOptions slot_options{.ca_field = "ca", .recheck_interval = absl::Seconds(1)};
    auto mutual_slot = SlotContextProvider::Create(
        store_.get(), ServerPath(), {.verify = ssl::CERT_REQUIRED}, slot_options);
    auto one_way_slot = SlotContextProvider::Create(
        store_.get(), ServerPath(), {.verify = ssl::CERT_NONE}, slot_options);
    if (!mutual_slot.ok() || !one_way_slot.ok()) {
      return Step(
          false, "app: credential slots",
          (mutual_slot.ok() ? one_way_slot.status() : mutual_slot.status()).ToString());
    }
    mutual_provider_ = *std::move(mutual_slot);
    one_way_provider_ = *std::move(one_way_slot);
    auto mutual = HttpsServer::Start(options, mutual_provider_, WhoAmI);
    auto one_way = HttpsServer::Start(options, one_way_provider_, WhoAmI);
    if (!mutual.ok() || !one_way.ok()) {
      return Step(false, "app: start the HTTPS servers",
                  (mutual.ok() ? one_way.status() : mutual.status()).ToString());
    }
    mutual_ = *std::move(mutual);
    one_way_ = *std::move(one_way);
    return Step(
        true,
        absl::StrCat("app: mutual-TLS HttpsServer (CERT_REQUIRED) on 127.0.0.1:",
                     mutual_->port(), ", one-way on 127.0.0.1:", one_way_->port()),
        absl::StrCat(
            "credentials from a SlotContextProvider (CredentialSlot) over store:",
            ServerPath().ToString(), " (cert, key_str, ca), generation ",
            mutual_provider_->status().generation, ", following the store's watch"));
  }

  ClientRequest Request(int port, bool with_cert) {
    ClientRequest r{.url = Url(port),
                    .verify = StoreFieldReader(store_.get(), ClientPath(), "ca"),
                    .timeout = config_.step_timeout,
                    .deadline = config_.step_timeout};
    if (with_cert) {
      r.cert = {.cert = StoreFieldReader(store_.get(), ClientPath(), "cert"),
                .key = StoreFieldReader(store_.get(), ClientPath(), "key_str")};
    }
    return r;
  }

  absl::StatusOr<ClientResponse> MutualRequest() {
    HttpsClient client;
    absl::StatusOr<ClientResponse> r = client.Fetch(Request(mutual_->port(), true));
    const bool ok = r.ok() && r->status_code == 200 &&
                    absl::StartsWith(r->body, "verified client ") &&
                    absl::StrContains(r->body, "CN=asalieri");
    Step(ok,
         "app: HttpsClient GET " + Url(mutual_->port()) +
             " with cert/key/CA from store:" + ClientPath().ToString(),
         r.ok() ? absl::StrCat(r->status_code, " ", r->reason, " over ", r->tls_version,
                               " ", r->cipher)
                : Describe(r.status()));
    if (r.ok()) {
      std::vector<std::string> lines = absl::StrSplit(r->body, '\n', absl::SkipEmpty());
      Info(absl::StrCat("server side, the handler's client identity: ",
                        lines.empty() ? "" : lines[0]));
      if (lines.size() > 1) Info(absl::StrCat("  getpeercert() = ", lines[1]));
      Info(absl::StrCat("client side, the response's peer_cert: ",
                        r->peer_cert.ToPythonRepr()));
    }
    return r;
  }

  void MatchHostname(const ClientResponse& r) {
    absl::Status good = ssl::match_hostname(r.peer_cert, "localhost");
    Step(good.ok(), "app: match_hostname(peer_cert, 'localhost') passes",
         good.ok() ? "" : Describe(good));
    absl::Status bad = ssl::match_hostname(r.peer_cert, "a.hostname.com");
    Step(ssl::GetErrorKind(bad) == ssl::ErrorKind::kCertificateError,
         "app: match_hostname(peer_cert, 'a.hostname.com') fails", Describe(bad));
  }

  // The host rotates; the sandboxed server sees it through the watch.
  void Rotate(const std::string& before) {
    const uint64_t gen_before = mutual_provider_->status().generation;
    host_.Send("ROTATE");
    absl::StatusOr<std::string> reply = host_.Receive(config_.step_timeout);
    std::vector<std::string> parts;
    if (reply.ok()) parts = absl::StrSplit(*reply, '\t');
    uint64_t gen_after = 0;
    if (parts.size() != 3 || parts[0] != "ROTATED" ||
        !absl::SimpleAtoi(parts[1], &gen_after)) {
      Step(false, "app: the host rotated the server key",
           reply.ok() ? absl::CHexEscape(*reply) : Describe(reply.status()));
      return;
    }
    const absl::Time start = absl::Now();
    while (mutual_provider_->status().generation != gen_after &&
           absl::Now() - start < config_.step_timeout) {
      absl::SleepFor(absl::Milliseconds(2));
    }
    const absl::Duration seen_after = absl::Now() - start;
    HttpsClient client;
    absl::StatusOr<ClientResponse> r = client.Fetch(Request(mutual_->port(), true));
    const std::string after = r.ok() ? Fingerprint(r->peer_cert_der) : "(none)";
    Step(
        r.ok() && r->status_code == 200 && after == parts[2] && after != before,
        "app: the next connection uses the rotated key, no restart",
        absl::StrCat("server certificate SHA-256 ", before, " -> ", after,
                     ", generation ", gen_before, " -> ",
                     mutual_provider_->status().generation, " (watch saw it in ",
                     absl::FormatDuration(absl::Trunc(seen_after, absl::Milliseconds(1))),
                     ")", r.ok() ? "" : absl::StrCat("; ", Describe(r.status()))));
  }

  void OneWay() {
    HttpsClient client;
    absl::StatusOr<ClientResponse> r = client.Fetch(Request(one_way_->port(), false));
    Step(r.ok() && r->status_code == 200 && absl::StartsWith(r->body, "anonymous"),
         "app: one-way TLS: the client verifies the server and shows no certificate",
         r.ok() ? absl::StrCat("server says: ", absl::StripSuffix(r->body, "\n"))
                : Describe(r.status()));
  }

  void Refusals() {
    HttpsClient client;
    absl::StatusOr<ClientResponse> r = client.Fetch(Request(mutual_->port(), false));
    absl::StatusOr<ConnectionEvent> e = events_.FirstFailed(config_.step_timeout);
    Step(!r.ok() && e.ok() && e->error_kind != ssl::ErrorKind::kNone,
         "app: a client without a certificate is refused by the mutual-TLS server",
         e.ok() ? absl::StrCat("server: ", ssl::ErrorKindName(e->error_kind), " (",
                               CloseReasonName(e->close_reason), "): ", e->error)
                : Describe(e.status()));
    Info(absl::StrCat("client: ",
                      r.ok() ? "unexpectedly got a response" : Describe(r.status())));

    ::sslshim::testing::Issued other_ca =
        ::sslshim::testing::Issue({.common_name = "Some Other CA", .is_ca = true},
                                  ::sslshim::testing::KeyType::kP256, nullptr);
    ClientRequest distrust = Request(mutual_->port(), true);
    distrust.verify = ssl::StringIO(other_ca.CertPem());
    absl::StatusOr<ClientResponse> d = client.Fetch(distrust);
    Step(ssl::GetErrorKind(d.status()) == ssl::ErrorKind::kSSLCertVerificationError,
         "app: a client that does not trust the server's CA refuses it",
         Describe(d.status()));
  }

  const DemoAppConfig& config_;
  AppChannel& host_;
  std::unique_ptr<certstore::Store> base_;
  std::unique_ptr<certstore::TenantView> view_;
  std::unique_ptr<CertStore> store_;
  std::shared_ptr<SlotContextProvider> mutual_provider_,
      one_way_provider_;  // Outlive the servers.
  Events events_;
  std::unique_ptr<HttpsServer> mutual_, one_way_;  // Stopped before the slots go.
};

}  // namespace

void RunDemoApp(const DemoAppConfig& config, AppChannel& host) {
  App(config, host).Run();
}

}  // namespace sslshim::runtime::demo_internal
