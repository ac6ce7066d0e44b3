#include "runtime/https_server_test_util.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "runtime/forked_child.h"
#include "runtime/net.h"
#include "shim/reader.h"
#include "shim/wrap_socket.h"
#include "testing/cert_builder.h"

namespace sslshim::runtime::testing {

using sslshim::testing::KeyType;
using sslshim::testing::SharedTestPki;
using sslshim::testing::TestPki;

void WriteFile(const std::string& path, const std::string& content) {
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) abort();
  fwrite(content.data(), 1, content.size(), f);
  fclose(f);
}

ServerPki ServerPki::Make() {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  ServerPki out;
  out.dir = FreshTempDir();
  out.ca_path = out.dir + "/ca.pem";
  out.server_cert_path = out.dir + "/server.pem";
  out.server_key_path = out.dir + "/server.key";
  out.client_cert_path = out.dir + "/client.pem";
  out.client_key_path = out.dir + "/client.key";
  WriteFile(out.ca_path, pki.RootPem());
  WriteFile(out.server_cert_path, pki.ServerChainPem());
  WriteFile(out.server_key_path, pki.server.KeyPem());
  WriteFile(out.client_cert_path, pki.ClientChainPem());
  WriteFile(out.client_key_path, pki.client.KeyPem());
  return out;
}

std::shared_ptr<shim::SSLContext> ServerPki::ServerContext(bool mutual) const {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  shim::WrapSocketArgs args{.keyfile = shim::StringIO(pki.server.KeyPem()),
                            .certfile = shim::StringIO(pki.ServerChainPem()),
                            .server_side = true};
  if (mutual) {
    args.cert_reqs = shim::CERT_REQUIRED;
    args.ca_certs = shim::StringIO(pki.RootPem());
  }
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
      shim::MakeWrapContext(args);
  if (!ctx.ok()) abort();
  return *ctx;
}

std::shared_ptr<shim::SSLContext> ServerPki::ClientContext(
    bool with_client_cert) const {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
      shim::SSLContext::Create(shim::PROTOCOL_TLS_CLIENT);
  if (!ctx.ok()) abort();
  if (!(*ctx)->load_verify_locations({.cadata = pki.RootPem()}).ok()) abort();
  if (with_client_cert &&
      !(*ctx)
           ->load_cert_chain(shim::StringIO(pki.ClientChainPem()),
                             shim::StringIO(pki.client.KeyPem()))
           .ok()) {
    abort();
  }
  return *ctx;
}

absl::StatusOr<std::unique_ptr<shim::SSLSocket>> ServerPki::Connect(
    int port, bool with_client_cert) const {
  absl::StatusOr<int> fd = ConnectTcp("127.0.0.1", port, absl::Seconds(5));
  if (!fd.ok()) return fd.status();
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> sock =
      ClientContext(with_client_cert)
          ->wrap_socket(*fd, {.do_handshake_on_connect = false,
                              .server_hostname = "localhost"});
  if (!sock.ok()) return sock.status();
  absl::Status s = (*sock)->settimeout(absl::Seconds(10));
  if (s.ok()) s = (*sock)->do_handshake();
  if (!s.ok()) return s;
  return sock;
}

absl::StatusOr<TestResponse> ReadResponse(shim::SSLSocket& sock,
                                          std::string* leftover) {
  std::string buf = leftover != nullptr ? std::move(*leftover) : "";
  if (leftover != nullptr) leftover->clear();
  auto more = [&]() -> absl::Status {
    absl::StatusOr<std::string> chunk = sock.recv(16384);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) {
      return absl::DataLossError(
          absl::StrCat("stream ended inside a response: '", buf, "'"));
    }
    buf += *chunk;
    return absl::OkStatus();
  };
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (absl::Status s = more(); !s.ok()) return s;
  }
  TestResponse r;
  r.head = buf.substr(0, end + 2);
  std::vector<std::string> lines = absl::StrSplit(r.head, "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &r.status)) {
    return absl::DataLossError(absl::StrCat("bad status line: ", lines[0]));
  }
  size_t length = 0;
  for (const std::string& line : lines) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    const std::string value(absl::StripAsciiWhitespace(kv.second));
    if (absl::EqualsIgnoreCase(kv.first, "Content-Length")) {
      (void)absl::SimpleAtoi(value, &length);
    }
    if (absl::EqualsIgnoreCase(kv.first, "Connection") &&
        absl::EqualsIgnoreCase(value, "close")) {
      r.closes = true;
    }
  }
  buf.erase(0, end + 4);
  while (buf.size() < length) {
    if (absl::Status s = more(); !s.ok()) return s;
  }
  r.body = buf.substr(0, length);
  if (leftover != nullptr) *leftover = buf.substr(length);
  return r;
}

std::string ReadUntilClosed(shim::SSLSocket& sock) {
  std::string out;
  for (;;) {
    absl::StatusOr<std::string> chunk = sock.recv(16384);
    if (!chunk.ok() || chunk->empty()) return out;
    out += *chunk;
  }
}

HttpHandler EchoHandler() {
  return [](const HttpRequest& req) -> absl::StatusOr<HttpResponse> {
    return HttpResponse{
        .status = 200,
        .headers = {{"X-Subject", req.client->subject},
                    {"X-Verified", req.client->verified ? "yes" : "no"}},
        .body = absl::StrCat(req.method, " ", req.target, "\n", req.body)};
  };
}

std::function<void(const ConnectionEvent&)> EventLog::Callback() {
  return [this](const ConnectionEvent& e) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(e);
  };
}

std::vector<ConnectionEvent> EventLog::Events() {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

bool EventLog::WaitFor(size_t n, absl::Duration timeout) {
  return WaitUntil([&] { return Events().size() >= n; }, timeout);
}

bool WaitUntil(const std::function<bool()>& pred, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

}  // namespace sslshim::runtime::testing
