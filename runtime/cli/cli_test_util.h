// cli_test_util.h (testonly)
// -----------------------------------------------------------------------------
// Helpers for tests that run the real `sslshim` binary: where the binary is
// (runfiles), a test PKI written to $TEST_TMPDIR, a `serve` child that has
// printed its PORT, and JSON parsing of a command's single output object.
//
//   CliFiles f = WriteTestPki();                  // f.ca, f.server_chain, ...
//   absl::StatusOr<ServeChild> s = StartServe({"--http", "--certfile", ...});
//   SubprocessResult r = RunSslshim({"connect", "--port", PortArg(*s), ...});
//   nlohmann::json j = OutputJson(r);

#ifndef SSLSHIM_RUNTIME_CLI_CLI_TEST_UTIL_H_
#define SSLSHIM_RUNTIME_CLI_CLI_TEST_UTIL_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "runtime/net.h"
#include "shim/ssl.h"
#include "tests/interop/subprocess.h"

namespace sslshim::runtime::cli {

// SslshimPath returns the absolute path of the sslshim binary in the test's
// runfiles (runtime/sslshim under $TEST_SRCDIR/sslshim or $RUNFILES_DIR).
std::string SslshimPath();

// TempDir returns a fresh directory under $TEST_TMPDIR.
std::string TempDir();

// WriteFile writes `content` to `path` (test setup only).
void WriteFile(const std::string& path, const std::string& content);

// CliFiles are PEM files of the shared ECDSA test PKI (testing/cert_builder.h):
// server cert for localhost / 127.0.0.1, a client cert, their CA, and an
// unrelated CA the server does not chain to.
struct CliFiles {
  std::string dir;
  std::string ca;            // Root CA.
  std::string server_chain;  // Server leaf + intermediate.
  std::string server_key;
  std::string client_chain;  // Client leaf + intermediate.
  std::string client_key;
  std::string other_ca;  // A CA nothing chains to.
};

// WriteTestPki writes the files into a fresh TempDir().
CliFiles WriteTestPki();

// Env is extra environment for the child: it runs under /usr/bin/env -i with
// PATH, the test's sanitizer options and these variables only, so the
// host's SSL_CERT_FILE etc. never leak in.
using ChildEnv = std::map<std::string, std::string>;

// RunSslshim runs `sslshim args...` with `env` and waits (hard timeout).
interop::SubprocessResult RunSslshim(const std::vector<std::string>& args,
                                     const ChildEnv& env = {},
                                     absl::Duration timeout = absl::Seconds(20));

// ServeChild is a running `sslshim serve` that printed "PORT <n>".
struct ServeChild {
  std::unique_ptr<interop::Subprocess> process;
  int port = 0;
};

// StartServe starts `sslshim serve args...` and waits for its PORT line.
// Errors: the child's start failure, or its output when no PORT appeared.
absl::StatusOr<ServeChild> StartServe(const std::vector<std::string>& args,
                                      const ChildEnv& env = {});

// Terminate sends SIGTERM to the child and waits for it.
interop::SubprocessResult Terminate(ServeChild& child);

// ImportServerRecord imports the test PKI's server chain and key as record
// `path` (`sslshim store import --replace`) into the store `env` names
// (SSLSHIM_STORE, SSLSHIM_KEK).
interop::SubprocessResult ImportServerRecord(const CliFiles& files,
                                             const std::string& path,
                                             const ChildEnv& env);

// ConnectVerified runs `sslshim connect` to 127.0.0.1:`port` trusting
// `files.ca` for the name localhost, with --timeout `timeout`.
interop::SubprocessResult ConnectVerified(const CliFiles& files, int port,
                                          absl::Duration timeout);

// FetchStatus GETs https://localhost:`port`/_status through `sslshim fetch`
// and returns the parsed body: a JSON object, or a discarded value when the
// fetch or the parse fails.
nlohmann::json FetchStatus(const CliFiles& files, int port);

// HostileServer is a misbehaving TLS peer on loopback for client-side
// attacks: a facade server socket (the test PKI's server chain) in a thread
// that accepts one connection, reads the client's first bytes (the request),
// then runs `respond`, which should return once `stop` is true or the client
// has gone. Destruction sets `stop` and joins the thread.
class HostileServer {
 public:
  using Respond = std::function<absl::Status(shim::SSLSocket& socket,
                                             const std::atomic<bool>& stop)>;
  // Start listens on 127.0.0.1 (a free port). Errors: listen or context
  // failures.
  static absl::StatusOr<std::unique_ptr<HostileServer>> Start(const CliFiles& files,
                                                              Respond respond);
  ~HostileServer();
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  int port() const { return listener_.port(); }
  // Url is "https://localhost:<port>/".
  std::string Url() const;

 private:
  explicit HostileServer(TcpListener listener) : listener_(std::move(listener)) {}
  TcpListener listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// OutputJson parses the last non-empty stdout line of `r` as JSON
// (discarded on failure).
nlohmann::json OutputJson(const interop::SubprocessResult& r);

// JsonLines parses every stdout line that is a JSON object.
std::vector<nlohmann::json> JsonLines(const std::string& out);

// Describe renders `r` for failure messages.
std::string Describe(const interop::SubprocessResult& r);

}  // namespace sslshim::runtime::cli

#endif  // SSLSHIM_RUNTIME_CLI_CLI_TEST_UTIL_H_
