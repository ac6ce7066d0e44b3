// target_server: the runtime's HttpsServer as a process of its own, for the
// adversarial suite (the library-level target next to `sslshim serve
// --http`). A crash under attack ends this process, not the test; its fds
// and RSS are measured through /proc/<pid>.
//
//   target_server --cert CHAIN --key KEY [--ca CA] [--request_timeout_ms N]
//                 [--handshake_timeout_ms N] [--idle_timeout_ms N]
//                 [--max_connections N] [--threads N]
//
// Prints "PORT <n>" once listening, then one JSON line per closed
// connection. Handler: GET /_status -> {"stats": {...}} (the shape of
// `sslshim serve`'s), GET /big?n=BYTES -> a body of BYTES 'x' (at most
// 64 MiB), anything else -> "<method> <target>\n<body>". With --ca the
// server requires a client certificate. SIGTERM/SIGINT: graceful
// shutdown, exit 0.

#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime/context_provider.h"
#include "runtime/https_server.h"
#include "runtime/termination_signal.h"
#include "shim/wrap_socket.h"

ABSL_FLAG(std::string, cert, "", "server chain (PEM file)");
ABSL_FLAG(std::string, key, "", "server key (PEM file)");
ABSL_FLAG(std::string, ca, "", "client CA (PEM file); set: mutual TLS");
ABSL_FLAG(int, handshake_timeout_ms, 2000, "handshake timeout");
ABSL_FLAG(int, request_timeout_ms, 2000, "request timeout");
ABSL_FLAG(int, idle_timeout_ms, 5000, "keep-alive idle timeout");
ABSL_FLAG(int, max_connections, 10000, "open connections before refusing");
ABSL_FLAG(int, threads, 2, "event loops");

namespace sslshim::runtime {
namespace {

constexpr size_t kMaxBigBody = 64 << 20;

absl::StatusOr<HttpResponse> Handle(const std::atomic<HttpsServer*>& server,
                                    const HttpRequest& req) {
  if (req.target == "/_status") {
    HttpsServer* s = server.load();
    return HttpResponse{
        .headers = {{"Content-Type", "application/json"}},
        .body = s == nullptr ? "{}\n"
                             : absl::StrCat("{\"stats\":", s->Stats().ToJson(),
                                            "}\n")};
  }
  size_t n = 0;
  if (absl::StartsWith(req.target, "/big?n=") &&
      absl::SimpleAtoi(absl::string_view(req.target).substr(7), &n)) {
    return HttpResponse{.body = std::string(std::min(n, kMaxBigBody), 'x')};
  }
  return HttpResponse{.body = absl::StrCat(req.method, " ", req.target, "\n",
                                           req.body)};
}

int Main() {
  if (!BlockTerminationSignals().ok()) return 2;
  shim::WrapSocketArgs args{.keyfile = absl::GetFlag(FLAGS_key),
                            .certfile = absl::GetFlag(FLAGS_cert),
                            .server_side = true};
  const std::string ca = absl::GetFlag(FLAGS_ca);
  if (!ca.empty()) {
    args.cert_reqs = shim::CERT_REQUIRED;
    args.ca_certs = ca;
  }
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
      shim::MakeWrapContext(args);
  if (!ctx.ok()) {
    std::cerr << "target_server: " << ctx.status() << "\n";
    return 2;
  }
  HttpsServerOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  options.handshake_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_handshake_timeout_ms));
  options.request_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_request_timeout_ms));
  options.idle_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_idle_timeout_ms));
  options.max_connections = absl::GetFlag(FLAGS_max_connections);
  auto print_mu = std::make_shared<std::mutex>();
  options.on_connection_closed = [print_mu](const ConnectionEvent& e) {
    std::lock_guard<std::mutex> lock(*print_mu);
    std::cout << e.ToJson() << std::endl;
  };
  auto self = std::make_shared<std::atomic<HttpsServer*>>(nullptr);
  absl::StatusOr<std::unique_ptr<HttpsServer>> server = HttpsServer::Start(
      options, FixedContextProvider(*ctx),
      [self](const HttpRequest& req) { return Handle(*self, req); });
  if (!server.ok()) {
    std::cerr << "target_server: " << server.status() << "\n";
    return 1;
  }
  self->store(server->get());
  {
    std::lock_guard<std::mutex> lock(*print_mu);
    std::cout << "PORT " << (*server)->port() << std::endl;
  }
  absl::StatusOr<int> sig = WaitForTerminationSignal();
  (*server)->Shutdown(absl::Seconds(2));
  self->store(nullptr);
  return sig.ok() ? 0 : 1;
}

}  // namespace
}  // namespace sslshim::runtime

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return sslshim::runtime::Main();
}
