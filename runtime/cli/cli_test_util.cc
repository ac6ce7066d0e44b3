#include "runtime/cli/cli_test_util.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "testing/cert_builder.h"

namespace sslshim::runtime::cli {

std::string SslshimPath() {
  for (const char* var : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
    if (const char* root = getenv(var); root != nullptr) {
      std::string path = absl::StrCat(root, "/sslshim/runtime/sslshim");
      if (std::ifstream(path).good()) return path;
    }
  }
  return "runtime/sslshim";
}

std::string TempDir() {
  static std::atomic<int> counter{0};
  const char* tmp = getenv("TEST_TMPDIR");
  std::string dir =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/cli", getpid(), "_", counter++);
  std::string cmd = "mkdir -p '" + dir + "'";
  (void)system(cmd.c_str());
  return dir;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

CliFiles WriteTestPki() {
  using testing::KeyType;
  const testing::TestPki& pki = testing::SharedTestPki(KeyType::kP256);
  static const testing::Issued* other = new testing::Issued(testing::Issue(
      {.common_name = "Unrelated CA", .is_ca = true}, KeyType::kP256, nullptr));
  CliFiles f;
  f.dir = TempDir();
  auto put = [&](const std::string& name, const std::string& content) {
    std::string path = f.dir + "/" + name;
    WriteFile(path, content);
    return path;
  };
  f.ca = put("ca.pem", pki.RootPem());
  f.server_chain = put("server.pem", pki.ServerChainPem());
  f.server_key = put("server.key", pki.server.KeyPem());
  f.client_chain = put("client.pem", pki.ClientChainPem());
  f.client_key = put("client.key", pki.client.KeyPem());
  f.other_ca = put("other_ca.pem", other->CertPem());
  return f;
}

namespace {

std::vector<std::string> Command(const std::vector<std::string>& args,
                                 const ChildEnv& env) {
  std::vector<std::string> argv = {"/usr/bin/env", "-i", "PATH=/usr/bin:/bin"};
  // Sanitizer settings of the test run reach the binary under test.
  for (const char* var :
       {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"}) {
    if (const char* value = getenv(var); value != nullptr) {
      argv.push_back(absl::StrCat(var, "=", value));
    }
  }
  for (const auto& [name, value] : env) argv.push_back(name + "=" + value);
  argv.push_back(SslshimPath());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

interop::SubprocessResult RunSslshim(const std::vector<std::string>& args,
                                     const ChildEnv& env, absl::Duration timeout) {
  absl::StatusOr<interop::SubprocessResult> r =
      interop::Subprocess::Run(Command(args, env), "", timeout);
  if (!r.ok()) {
    interop::SubprocessResult failed;
    failed.err = r.status().ToString();
    return failed;
  }
  return *std::move(r);
}

absl::StatusOr<ServeChild> StartServe(const std::vector<std::string>& args,
                                      const ChildEnv& env) {
  std::vector<std::string> serve = {"serve"};
  serve.insert(serve.end(), args.begin(), args.end());
  absl::StatusOr<std::unique_ptr<interop::Subprocess>> p =
      interop::Subprocess::Start(Command(serve, env), "", absl::Seconds(60));
  if (!p.ok()) return p.status();
  absl::StatusOr<std::string> out = (*p)->WaitForOutput("\n");
  ServeChild child;
  child.process = *std::move(p);
  if (!out.ok()) {
    interop::SubprocessResult r = child.process->Wait();
    return absl::Status(out.status().code(), Describe(r));
  }
  std::string line = out->substr(0, out->find('\n'));
  if (line.rfind("PORT ", 0) != 0 || !absl::SimpleAtoi(line.substr(5), &child.port)) {
    return absl::InternalError("no PORT line: " + *out);
  }
  return child;
}

interop::SubprocessResult Terminate(ServeChild& child) {
  kill(child.process->pid(), SIGTERM);
  return child.process->Wait();
}

nlohmann::json OutputJson(const interop::SubprocessResult& r) {
  std::vector<nlohmann::json> lines = JsonLines(r.out);
  return lines.empty() ? nlohmann::json(nlohmann::json::value_t::discarded)
                       : lines.back();
}

std::vector<nlohmann::json> JsonLines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_object()) lines.push_back(std::move(j));
  }
  return lines;
}

std::string Describe(const interop::SubprocessResult& r) {
  return absl::StrCat("exit ", r.exit_code, " signal ", r.term_signal,
                      r.timed_out ? " (timed out)" : "", "\nstdout: ", r.out,
                      "\nstderr: ", r.err);
}

interop::SubprocessResult ImportServerRecord(const CliFiles& files,
                                             const std::string& path,
                                             const ChildEnv& env) {
  return RunSslshim({"store", "import", path, "--replace", "--cert", files.server_chain,
                     "--key", files.server_key},
                    env);
}

interop::SubprocessResult ConnectVerified(const CliFiles& files, int port,
                                          absl::Duration timeout) {
  return RunSslshim({"connect", "--port", std::to_string(port), "--cafile", files.ca,
                     "--server-hostname", "localhost", "--timeout",
                     std::to_string(absl::ToDoubleSeconds(timeout))},
                    {}, timeout + absl::Seconds(10));
}

nlohmann::json FetchStatus(const CliFiles& files, int port) {
  interop::SubprocessResult r = RunSslshim(
      {"fetch", "--cacert", files.ca, "--body", "--timeout", "5",
       absl::StrCat("https://localhost:", port, "/_status")},
      {}, absl::Seconds(15));
  nlohmann::json j = OutputJson(r);
  if (r.exit_code != 0 || !j.is_object() || !j["body"].is_string()) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return nlohmann::json::parse(j["body"].get<std::string>(), nullptr, false);
}

absl::StatusOr<std::unique_ptr<HostileServer>> HostileServer::Start(
    const CliFiles& files, Respond respond) {
  absl::StatusOr<TcpListener> listener = TcpListener::Listen("127.0.0.1", 0);
  if (!listener.ok()) return listener.status();
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
      shim::SSLContext::Create(shim::PROTOCOL_TLS_SERVER);
  if (!ctx.ok()) return ctx.status();
  absl::Status loaded = (*ctx)->load_cert_chain(files.server_chain, files.server_key);
  if (!loaded.ok()) return loaded;
  std::unique_ptr<HostileServer> server(new HostileServer(*std::move(listener)));
  HostileServer* self = server.get();
  server->thread_ = std::thread([self, ctx = *ctx, respond = std::move(respond)] {
    absl::StatusOr<int> fd = self->listener_.Accept(absl::Seconds(20));
    if (!fd.ok()) return;
    auto sock = ctx->wrap_socket(*fd, {.server_side = true,
                                       .do_handshake_on_connect = false});
    if (!sock.ok()) return;
    (void)(*sock)->settimeout(absl::Seconds(20));
    if (!(*sock)->do_handshake().ok()) return;
    (void)(*sock)->recv(65536);  // The request.
    (void)respond(**sock, self->stop_);
  });
  return server;
}

HostileServer::~HostileServer() {
  stop_ = true;
  // Unblocks an Accept that no client ever reached.
  ::shutdown(listener_.fd(), SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

std::string HostileServer::Url() const {
  return absl::StrCat("https://localhost:", port(), "/");
}

}  // namespace sslshim::runtime::cli
