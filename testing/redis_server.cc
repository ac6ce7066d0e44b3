#include "testing/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

extern char** environ;

namespace sslshim::testing {
namespace {

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Returns true when a PING on 127.0.0.1:port gets any RESP reply.
bool Answers(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const char kPing[] = "PING\r\n";
    char buf[64];
    ok = write(fd, kPing, sizeof(kPing) - 1) == sizeof(kPing) - 1 &&
         read(fd, buf, sizeof(buf)) > 0 && (buf[0] == '+' || buf[0] == '-');
  }
  close(fd);
  return ok;
}

}  // namespace

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {}

RedisServer::~RedisServer() { Stop().IgnoreError(); }

std::string RedisServer::Url(int db) const {
  return absl::StrCat("redis://127.0.0.1:", port_, "/", db);
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(
    RedisServerOptions options) {
  if (options.work_dir.empty()) {
    const char* tmp = getenv("TEST_TMPDIR");
    std::string templ = absl::StrCat(tmp ? tmp : "/tmp", "/redis.XXXXXX");
    if (mkdtemp(templ.data()) == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("mkdtemp ", templ, ": ", strerror(errno)));
    }
    options.work_dir = templ;
  }
  std::unique_ptr<RedisServer> server(new RedisServer(std::move(options)));
  absl::Status s;
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port_ = FreeLoopbackPort();
    s = server->Launch();
    if (s.ok()) return server;
  }
  return s;
}

std::string RedisServer::LogTail() const {
  std::ifstream in(options_.work_dir + "/redis.log");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

absl::Status RedisServer::Launch() {
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   absl::StrCat(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   options_.work_dir,
                                   "--logfile",
                                   options_.work_dir + "/redis.log",
                                   "--daemonize",
                                   "no",
                                   "--protected-mode",
                                   "no"};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, "redis-server", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot start redis-server: ", strerror(rc)));
  }
  pid_ = pid;
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError(
          absl::StrCat("redis-server exited on port ", port_, ": ", LogTail()));
    }
    if (Answers(port_)) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  Stop().IgnoreError();
  return absl::UnavailableError(
      absl::StrCat("redis-server did not answer on port ", port_, ": ", LogTail()));
}

absl::Status RedisServer::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, SIGTERM);
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  int status;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
  return absl::OkStatus();
}

absl::Status RedisServer::Restart() {
  absl::Status s = Stop();
  if (!s.ok()) return s;
  return Launch();
}

}  // namespace sslshim::testing
