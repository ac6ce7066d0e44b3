// End to end under the no-write sandbox (issue 4, "Proof"): an HttpsServer
// (mutual TLS, credentials from a SlotContextProvider over an LMDB store) and
// HttpsClients / a keep-alive facade client (certificate, key and CA from
// StoreFieldReaders), each in its own forked child that opened its store
// BEFORE installing InstallNoWriteSandbox. The parent (not sandboxed) is the
// host: it owns the store, rotates the server's record while the sandboxed
// server runs, and asserts on what the children report:
//
//   parent ──fork──> server child (sandboxed, two-way channel, app_process.h)
//     │                 "PORT n"  ──>  parent
//     ├──fork──> client child A (sandboxed): 3 new connections + 3 requests
//     │                                  on one keep-alive connection
//     ├── rotate the record (CertStore::Put), "WAITGEN g" ──> server child,
//     │   which sees the new generation through the store's watch
//     ├──fork──> client child B (sandboxed): the next connection gets the new
//     │                                  certificate
//     └── "STOP" ──> server child: connection events, its own write attempts
//
// Every child also tries to write files (create, open existing for writing,
// mkdir, rename, unlink, truncate) and must see EPERM each time.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "certstore/cert_store.h"
#include "certstore/key_path.h"
#include "certstore/store_url.h"
#include "certstore/tenant_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "openssl/digest.h"
#include "runtime/app_process.h"
#include "runtime/forked_child.h"
#include "runtime/https_client.h"
#include "runtime/https_server.h"
#include "runtime/net.h"
#include "runtime/sandbox.h"
#include "runtime/slot_context_provider.h"
#include "runtime/store_reader.h"
#include "shim/ssl.h"
#include "testing/cert_builder.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::certstore::CertStore;
using ::sslshim::certstore::Kek;
using ::sslshim::certstore::KeyPath;
using ::sslshim::runtime::testing::ChildReporter;
using ::sslshim::runtime::testing::ChildResult;
using ::sslshim::runtime::testing::FreshTempDir;
using ::sslshim::runtime::testing::ListDir;
using ::sslshim::runtime::testing::Outcome;
using ::sslshim::runtime::testing::RunInForkedChild;
using ::sslshim::testing::Issue;
using ::sslshim::testing::Issued;
using ::sslshim::testing::KeyType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::Duration kTimeout = absl::Seconds(5);

Kek TestKek() { return *Kek::FromBytes(std::string(32, '\x5a')); }
KeyPath Tenant() { return *KeyPath::Of({"Employee", "asalieri"}); }
KeyPath ServerPath() { return *KeyPath::Of({"Employee", "asalieri", "Address", 1}); }
KeyPath ClientPath() { return *KeyPath::Of({"Employee", "asalieri", "Address", 2}); }

std::string Sha256Hex(absl::string_view der) {
  uint8_t md[32];
  SHA256(reinterpret_cast<const uint8_t*>(der.data()), der.size(), md);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<char*>(md), sizeof(md)));
}

Issued ServerLeaf(const Issued& ca) {
  return Issue({.common_name = "localhost", .dns_names = {"localhost"}}, KeyType::kP256,
               &ca);
}

// AppStore is what a host opens for its app before the sandbox: the LMDB
// environment, a view bound to the tenant, and the record layer over it.
struct AppStore {
  std::unique_ptr<certstore::Store> base;
  std::unique_ptr<certstore::TenantView> view;
  std::unique_ptr<CertStore> store;
};

absl::StatusOr<AppStore> OpenAppStore(const std::string& dir) {
  AppStore s;
  auto base = certstore::OpenStore("lmdb:" + dir);
  if (!base.ok()) return base.status();
  s.base = *std::move(base);
  auto view = certstore::TenantView::Create(s.base.get(), Tenant());
  if (!view.ok()) return view.status();
  s.view = *std::move(view);
  auto cs = CertStore::CreateBorrowed(s.view.get(), {.keks = {TestKek()}});
  if (!cs.ok()) return cs.status();
  s.store = *std::move(cs);
  return s;
}

// EnterSandbox opens the app's store, then installs the no-write filter,
// handing the app the store's files as its only writable descriptors.
absl::StatusOr<AppStore> EnterSandbox(const std::string& dir) {
  absl::StatusOr<AppStore> s = OpenAppStore(dir);
  if (!s.ok()) return s.status();
  SandboxOptions options;
  for (int fd : DescriptorsUnder(dir)) options.allowed_writable_fds.push_back(fd);
  absl::Status installed = InstallNoWriteSandbox(options);
  if (!installed.ok()) return installed;
  return s;
}

// WriteAttempts tries every kind of file write in `dir` (which holds the
// store's data.mdb) and returns "<what>=<outcome>" for each.
std::string WriteAttempts(const std::string& dir) {
  const std::string created = dir + "/created-by-app";
  const std::string data = dir + "/data.mdb";
  std::vector<std::string> r;
  r.push_back("create=" +
              Outcome(open(created.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600)));
  r.push_back("open_existing_for_write=" +
              Outcome(open(data.c_str(), O_RDWR | O_CLOEXEC)));
  r.push_back("mkdir=" + Outcome(mkdir((dir + "/subdir").c_str(), 0700)));
  r.push_back("rename=" + Outcome(rename(data.c_str(), (dir + "/moved.mdb").c_str())));
  r.push_back("unlink=" + Outcome(unlink(data.c_str())));
  r.push_back("truncate=" + Outcome(truncate(data.c_str(), 0)));
  // Reading the same file still works.
  int fd = open(data.c_str(), O_RDONLY | O_CLOEXEC);
  r.push_back("read_only_open=" + Outcome(fd));
  if (fd >= 0) close(fd);
  return absl::StrJoin(r, " ");
}

constexpr char kAllRefused[] =
    "create=EPERM open_existing_for_write=EPERM mkdir=EPERM rename=EPERM unlink=EPERM "
    "truncate=EPERM read_only_open=ok";

ClientRequest MutualRequest(CertStore* store, int port, absl::string_view path) {
  return ClientRequest{.url = absl::StrCat("https://localhost:", port, path),
                       .verify = StoreFieldReader(store, ClientPath(), "ca"),
                       .cert = {.cert = StoreFieldReader(store, ClientPath(), "cert"),
                                .key = StoreFieldReader(store, ClientPath(), "key_str")},
                       .timeout = kTimeout,
                       .deadline = kTimeout};
}

// ReadHttpResponse reads one response with a Content-Length body.
absl::StatusOr<std::string> ReadHttpResponse(ssl::SSLSocket& sock, std::string* buffer) {
  for (;;) {
    size_t end = buffer->find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t cl = buffer->find("Content-Length: ");
      size_t length = 0;
      if (cl == std::string::npos || cl > end ||
          !absl::SimpleAtoi(buffer->substr(cl + 16, buffer->find("\r\n", cl) - cl - 16),
                            &length)) {
        return absl::DataLossError("no Content-Length: " + absl::CEscape(*buffer));
      }
      if (buffer->size() >= end + 4 + length) {
        std::string response = buffer->substr(0, end + 4 + length);
        buffer->erase(0, end + 4 + length);
        return response;
      }
    }
    absl::StatusOr<std::string> more = sock.recv(16384);
    if (!more.ok()) return more.status();
    if (more->empty()) return absl::UnavailableError("server closed the connection");
    buffer->append(*more);
  }
}

// KeepAlive makes `n` requests on one facade connection (client certificate,
// key and CA from the store) and returns the responses' first body lines.
absl::StatusOr<std::vector<std::string>> KeepAlive(CertStore* store, int port, int n,
                                                   std::string* peer_der) {
  absl::StatusOr<int> fd = ConnectTcp("127.0.0.1", port, kTimeout);
  if (!fd.ok()) return fd.status();
  ssl::WrapSocketArgs args;
  args.certfile = StoreFieldReader(store, ClientPath(), "cert");
  args.keyfile = StoreFieldReader(store, ClientPath(), "key_str");
  args.ca_certs = StoreFieldReader(store, ClientPath(), "ca");
  args.cert_reqs = ssl::CERT_REQUIRED;
  args.server_hostname = "localhost";
  args.do_handshake_on_connect = false;
  auto sock = ssl::wrap_socket(*fd, args);
  if (!sock.ok()) return sock.status();
  absl::Status s = (*sock)->settimeout(kTimeout);
  if (s.ok()) s = (*sock)->do_handshake();
  if (!s.ok()) return s;
  *peer_der = *(*sock)->getpeercert(ssl::binary_form);
  std::vector<std::string> bodies;
  std::string buffer;
  for (int i = 0; i < n; ++i) {
    s = (*sock)->sendall(
        absl::StrCat("GET /keepalive/", i, " HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    if (!s.ok()) return s;
    absl::StatusOr<std::string> r = ReadHttpResponse(**sock, &buffer);
    if (!r.ok()) return r.status();
    std::vector<std::string> parts = absl::StrSplit(*r, absl::MaxSplits("\r\n\r\n", 1));
    bodies.push_back(std::string(absl::StripSuffix(parts.back(), "\n")));
  }
  return bodies;
}

// The handler echoes the verified client and the path.
absl::StatusOr<HttpResponse> Echo(const HttpRequest& req) {
  return HttpResponse{.body =
                          absl::StrCat(req.client->verified ? "verified " : "anonymous ",
                                       req.client->subject, " ", req.target, "\n")};
}

// Fixture: the host's LMDB store with the server and client records.
class SandboxedE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTempDir();
    auto store = certstore::OpenStore("lmdb:" + dir_);
    ASSERT_OK(store);
    auto cs = CertStore::Create(*std::move(store), {.keks = {TestKek()}});
    ASSERT_OK(cs);
    host_ = *std::move(cs);
    ca_ = std::make_unique<Issued>(
        Issue({.common_name = "E2E CA", .is_ca = true}, KeyType::kP256, nullptr));
    Issued client = Issue({.common_name = "asalieri", .subject = {{"O", "Employee"}}},
                          KeyType::kP256, ca_.get());
    server_der_ = PutServer();
    ASSERT_OK(host_->Put(ClientPath(), {{"cert", client.CertPem()},
                                        {"key_str", client.KeyPem()},
                                        {"ca", ca_->CertPem()}}));
  }

  // PutServer stores a fresh server leaf; returns its DER.
  std::string PutServer() {
    Issued leaf = ServerLeaf(*ca_);
    absl::StatusOr<uint64_t> gen = host_->Put(
        ServerPath(),
        {{"cert", leaf.CertPem()}, {"key_str", leaf.KeyPem()}, {"ca", ca_->CertPem()}});
    EXPECT_OK(gen);
    last_generation_ = gen.ok() ? *gen : 0;
    return leaf.CertDer();
  }

  std::string dir_;
  std::unique_ptr<CertStore> host_;
  std::unique_ptr<Issued> ca_;
  std::string server_der_;
  uint64_t last_generation_ = 0;
};

// The server child: sandboxed mutual-TLS HttpsServer over the store; answers
// the host's WAITGEN and STOP commands.
void ServerApp(const std::string& dir, AppChannel& host) {
  absl::StatusOr<AppStore> s = EnterSandbox(dir);
  if (!s.ok()) {
    host.Send("ERROR\t" + absl::CEscape(s.status().ToString()));
    return;
  }
  auto provider = SlotContextProvider::Create(
      s->store.get(), ServerPath(), {.verify = ssl::CERT_REQUIRED},
      {.ca_field = "ca", .watch = true, .recheck_interval = absl::Seconds(30)});
  if (!provider.ok()) {
    host.Send("ERROR\t" + absl::CEscape(provider.status().ToString()));
    return;
  }
  std::mutex mu;
  std::vector<std::string> events;
  HttpsServerOptions options;
  options.threads = 2;
  options.handshake_timeout = options.request_timeout = options.idle_timeout = kTimeout;
  options.linger_timeout = absl::Milliseconds(100);
  options.on_connection_closed = [&](const ConnectionEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(absl::StrCat(e.handshake_ok ? "ok" : "failed",
                                  " requests=", e.requests, " subject=", e.subject));
  };
  auto server = HttpsServer::Start(options, *provider, Echo);
  if (!server.ok()) {
    host.Send("ERROR\t" + absl::CEscape(server.status().ToString()));
    return;
  }
  host.Send(
      absl::StrCat("PORT\t", (*server)->port(), "\t", (*provider)->status().generation));
  for (;;) {
    absl::StatusOr<std::string> cmd = host.Receive(absl::Seconds(30));
    if (!cmd.ok()) break;
    std::vector<std::string> f = absl::StrSplit(*cmd, '\t');
    if (f[0] == "WAITGEN" && f.size() == 2) {
      uint64_t want = 0;
      (void)absl::SimpleAtoi(f[1], &want);
      const absl::Time deadline = absl::Now() + kTimeout;
      while ((*provider)->status().generation != want && absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(2));
      }
      SlotStatus st = (*provider)->status();
      host.Send(absl::StrCat("GEN\t", st.generation, "\t",
                             st.watching ? "watching" : "polling", "\t",
                             st.last_error.empty() ? "-" : absl::CEscape(st.last_error)));
    } else if (f[0] == "STOP") {
      (*server)->Shutdown(absl::Milliseconds(500));
      // After the filter, the store can no longer be opened (it would need
      // its files opened for writing): hence "open it before".
      absl::Status late = certstore::OpenStore("lmdb:" + dir).status();
      host.Send(absl::StrCat("LATE_OPEN\t", absl::CEscape(late.ToString())));
      host.Send(absl::StrCat("WRITES\t", WriteAttempts(dir)));
      std::lock_guard<std::mutex> lock(mu);
      for (const std::string& e : events) host.Send("EVENT\t" + absl::CEscape(e));
      host.Send("DONE");
      break;
    }
  }
}

// A client child: sandboxed, 3 HttpsClient requests on new connections and
// 3 on one keep-alive connection, all with credentials from the store.
void ClientApp(const std::string& dir, int port, ChildReporter& out) {
  absl::StatusOr<AppStore> s = EnterSandbox(dir);
  out.ReportStatus("sandbox", s.status());
  if (!s.ok()) return;
  out.Report("writes", WriteAttempts(dir));
  HttpsClient client;
  std::vector<std::string> fetched, fingerprints;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<ClientResponse> r =
        client.Fetch(MutualRequest(s->store.get(), port, absl::StrCat("/new/", i)));
    if (!r.ok()) {
      fetched.push_back(r.status().ToString());
      continue;
    }
    fetched.push_back(
        absl::StrCat(r->status_code, " ", absl::StripSuffix(r->body, "\n")));
    fingerprints.push_back(Sha256Hex(r->peer_cert_der));
    if (i == 0) {
      out.ReportStatus("match_localhost", ssl::match_hostname(r->peer_cert, "localhost"));
      out.ReportStatus("match_other",
                       ssl::match_hostname(r->peer_cert, "a.hostname.com"));
    }
  }
  out.Report("fetched", absl::StrJoin(fetched, "|"));
  out.Report("fingerprints", absl::StrJoin(fingerprints, " "));
  std::string der;
  absl::StatusOr<std::vector<std::string>> kept =
      KeepAlive(s->store.get(), port, 3, &der);
  out.Report("keepalive",
             kept.ok() ? absl::StrJoin(*kept, "|") : kept.status().ToString());
  out.Report("keepalive_fingerprint", Sha256Hex(der));
}

TEST_F(SandboxedE2eTest, MutualTlsFromTheStoreWithRotationSeenByTheSandboxedServer) {
  std::map<std::string, std::string> server;  // What the server child said.
  std::vector<std::string> events;
  ChildResult before, after;
  std::string rotated_der;
  uint64_t rotated_generation = 0;
  absl::Status exit = RunAppProcess(
      [&](AppChannel& host) { ServerApp(dir_, host); },
      [&](absl::string_view line, AppChannel& app) {
        std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits('\t', 1));
        std::string value;
        if (f.size() == 2) absl::CUnescape(f[1], &value);
        if (f[0] == "EVENT") {
          events.push_back(value);
          return;
        }
        server[f[0]] = value;
        if (f[0] != "PORT") return;
        std::vector<std::string> port_gen = absl::StrSplit(value, '\t');
        int port = 0;
        ASSERT_TRUE(absl::SimpleAtoi(port_gen[0], &port)) << value;
        // Client A against the first certificate.
        before = RunInForkedChild([&](ChildReporter& out) { ClientApp(dir_, port, out); },
                                  absl::Seconds(30));
        // The host (not sandboxed) rotates the record; the sandboxed server
        // must see it through the watch.
        rotated_der = PutServer();
        rotated_generation = last_generation_;
        app.Send(absl::StrCat("WAITGEN\t", rotated_generation));
        absl::StatusOr<std::string> gen = app.Receive(absl::Seconds(10));
        server["GEN"] = gen.ok() ? *gen : gen.status().ToString();
        // Client B: the next connections get the new certificate.
        after = RunInForkedChild([&](ChildReporter& out) { ClientApp(dir_, port, out); },
                                 absl::Seconds(30));
        app.Send("STOP");
      },
      absl::Seconds(60));
  ASSERT_OK(exit);
  ASSERT_EQ(server.count("ERROR"), 0u) << server["ERROR"];
  ASSERT_EQ(server.count("DONE"), 1u);
  EXPECT_THAT(server["PORT"], ::testing::EndsWith("\t1"));  // Generation 1 served first.

  // Client A: sandboxed, writes refused, every request verified both ways.
  ASSERT_OK(before.status);
  EXPECT_EQ(before.Get("sandbox"), "OK");
  EXPECT_EQ(before.Get("writes"), kAllRefused);
  EXPECT_EQ(
      before.Get("fetched"),
      "200 verified O=Employee,CN=asalieri /new/0|200 verified O=Employee,CN=asalieri "
      "/new/1|200 verified O=Employee,CN=asalieri /new/2");
  const std::string first = Sha256Hex(server_der_);
  EXPECT_EQ(before.Get("fingerprints"), absl::StrJoin({first, first, first}, " "));
  EXPECT_EQ(before.Get("match_localhost"), "OK");
  EXPECT_THAT(before.Get("match_other"), HasSubstr("doesn't match"));
  EXPECT_EQ(
      before.Get("keepalive"),
      "verified O=Employee,CN=asalieri /keepalive/0|verified O=Employee,CN=asalieri "
      "/keepalive/1|verified O=Employee,CN=asalieri /keepalive/2");
  EXPECT_EQ(before.Get("keepalive_fingerprint"), first);

  // The rotation reached the sandboxed server through the watch.
  EXPECT_EQ(rotated_generation, 2u);
  EXPECT_EQ(server["GEN"], "GEN\t2\twatching\t-");

  // Client B: new connections (and a new keep-alive one) get the new cert.
  ASSERT_OK(after.status);
  EXPECT_EQ(after.Get("writes"), kAllRefused);
  const std::string second = Sha256Hex(rotated_der);
  ASSERT_NE(first, second);
  EXPECT_EQ(after.Get("fingerprints"), absl::StrJoin({second, second, second}, " "));
  EXPECT_EQ(after.Get("keepalive_fingerprint"), second);
  EXPECT_THAT(after.Get("keepalive"), HasSubstr("/keepalive/2"));

  // The server child: its writes refused too; the store cannot be opened
  // after the filter; one event per connection, the keep-alive ones with
  // three requests each.
  EXPECT_EQ(server["WRITES"], kAllRefused);
  EXPECT_THAT(server["LATE_OPEN"], HasSubstr("UNAVAILABLE"));
  EXPECT_EQ(events.size(), 8u) << absl::StrJoin(events, "\n");
  int keepalive_events = 0, single_events = 0;
  for (const std::string& e : events) {
    if (e == "ok requests=3 subject=O=Employee,CN=asalieri") ++keepalive_events;
    if (e == "ok requests=1 subject=O=Employee,CN=asalieri") ++single_events;
  }
  EXPECT_EQ(keepalive_events, 2);
  EXPECT_EQ(single_events, 6);

  // Nothing was written by any child: the directory holds the store only.
  EXPECT_THAT(ListDir(dir_), ElementsAre("data.mdb", "lock.mdb"));
}

// One-way TLS and the refused client, both sides sandboxed in one child.
TEST_F(SandboxedE2eTest, OneWayAndARefusedClientWithoutCertificate) {
  ChildResult r = RunInForkedChild(
      [&](ChildReporter& out) {
        absl::StatusOr<AppStore> s = EnterSandbox(dir_);
        out.ReportStatus("sandbox", s.status());
        if (!s.ok()) return;
        std::mutex mu;
        std::vector<ConnectionEvent> events;
        HttpsServerOptions options;
        options.threads = 1;
        options.handshake_timeout = options.request_timeout = options.idle_timeout =
            kTimeout;
        options.linger_timeout = absl::Milliseconds(100);
        options.on_connection_closed = [&](const ConnectionEvent& e) {
          std::lock_guard<std::mutex> lock(mu);
          events.push_back(e);
        };
        auto one_way = SlotContextProvider::Create(
            s->store.get(), ServerPath(), {.verify = ssl::CERT_NONE}, {.ca_field = "ca"});
        auto mutual = SlotContextProvider::Create(s->store.get(), ServerPath(),
                                                  {.verify = ssl::CERT_REQUIRED},
                                                  {.ca_field = "ca"});
        if (!one_way.ok() || !mutual.ok()) return out.Report("providers", "failed");
        auto one_way_server = HttpsServer::Start(options, *one_way, Echo);
        auto mutual_server = HttpsServer::Start(options, *mutual, Echo);
        if (!one_way_server.ok() || !mutual_server.ok())
          return out.Report("servers", "failed");
        HttpsClient client;
        ClientRequest anonymous{
            .url = absl::StrCat("https://localhost:", (*one_way_server)->port(), "/anon"),
            .verify = StoreFieldReader(s->store.get(), ClientPath(), "ca"),
            .timeout = kTimeout,
            .deadline = kTimeout};
        absl::StatusOr<ClientResponse> a = client.Fetch(anonymous);
        out.Report("one_way", a.ok() ? absl::StrCat(a->status_code, " ", a->body)
                                     : a.status().ToString());
        anonymous.url =
            absl::StrCat("https://localhost:", (*mutual_server)->port(), "/anon");
        absl::StatusOr<ClientResponse> refused = client.Fetch(anonymous);
        out.Report("refused_client",
                   refused.ok() ? "accepted" : refused.status().ToString());
        mutual_server->reset();  // Shutdown: every connection event delivered.
        one_way_server->reset();
        std::lock_guard<std::mutex> lock(mu);
        for (const ConnectionEvent& e : events) {
          if (!e.handshake_ok) {
            out.Report("refused_server",
                       absl::StrCat(ssl::ErrorKindName(e.error_kind), " ", e.error));
          }
        }
        out.Report("writes", WriteAttempts(dir_));
      },
      absl::Seconds(30));
  ASSERT_OK(r.status);
  EXPECT_EQ(r.Get("sandbox"), "OK");
  EXPECT_EQ(r.Get("one_way"), "200 anonymous  /anon\n");
  EXPECT_THAT(r.Get("refused_client"), HasSubstr("CERTIFICATE_REQUIRED"));
  EXPECT_THAT(r.Get("refused_server"), HasSubstr("PEER_DID_NOT_RETURN_A_CERTIFICATE"));
  EXPECT_EQ(r.Get("writes"), kAllRefused);
  EXPECT_THAT(ListDir(dir_), ElementsAre("data.mdb", "lock.mdb"));
}

}  // namespace
}  // namespace sslshim::runtime
