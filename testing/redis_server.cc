#include "testing/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
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

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
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

std::string ReplyText(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      return absl::StrCat(r->integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_ARRAY: {
      std::vector<std::string> parts;
      for (size_t i = 0; i < r->elements; ++i) parts.push_back(ReplyText(r->element[i]));
      return absl::StrJoin(parts, " ");
    }
    default:
      return std::string(r->str, r->len);
  }
}

}  // namespace

absl::StatusOr<std::string> RedisCommand(int port, const std::vector<std::string>& args,
                                         const std::string& user,
                                         const std::string& password) {
  timeval tv{2, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr || c->err) {
    std::string err = c ? c->errstr : "no context";
    if (c) redisFree(c);
    return absl::UnavailableError(absl::StrCat("127.0.0.1:", port, ": ", err));
  }
  redisSetTimeout(c, tv);
  std::vector<std::vector<std::string>> cmds;
  if (!password.empty()) {
    cmds.push_back(user.empty() ? std::vector<std::string>{"AUTH", password}
                                : std::vector<std::string>{"AUTH", user, password});
  }
  cmds.push_back(args);
  absl::StatusOr<std::string> out;
  for (const std::vector<std::string>& cmd : cmds) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const std::string& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisReply* r = static_cast<redisReply*>(
        redisCommandArgv(c, argv.size(), argv.data(), lens.data()));
    if (r == nullptr) {
      out = absl::UnavailableError(absl::StrCat("127.0.0.1:", port, ": ", c->errstr));
      break;
    }
    out = ReplyText(r);
    freeReplyObject(r);
  }
  redisFree(c);
  return out;
}

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
  std::vector<std::string> args = {"redis-server"};
  if (!options_.config_lines.empty() || options_.sentinel) {
    std::string conf = options_.work_dir + "/redis.conf";
    if (access(conf.c_str(), F_OK) != 0) {  // A sentinel rewrites its own.
      std::ofstream(conf) << absl::StrJoin(options_.config_lines, "\n") << "\n";
    }
    args.push_back(conf);
  }
  if (options_.sentinel) args.push_back("--sentinel");
  std::vector<std::string> common = {"--port",
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
  args.insert(args.end(), common.begin(), common.end());
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

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

absl::Status RedisServer::Restart() {
  absl::Status s = Stop();
  if (!s.ok()) return s;
  return Launch();
}

absl::Status RedisServer::RestartAsReplicaOf(int master_port) {
  options_.extra_args.insert(options_.extra_args.end(),
                             {"--replicaof", "127.0.0.1", absl::StrCat(master_port)});
  return Restart();
}

}  // namespace sslshim::testing

namespace sslshim::testing {

absl::StatusOr<std::unique_ptr<RedisSentinelGroup>> RedisSentinelGroup::Start(
    SentinelGroupOptions options) {
  std::unique_ptr<RedisSentinelGroup> g(new RedisSentinelGroup(std::move(options)));
  const SentinelGroupOptions& o = g->options_;
  absl::StatusOr<std::unique_ptr<RedisServer>> primary =
      RedisServer::Start({.extra_args = o.node_args});
  if (!primary.ok()) return primary.status();
  g->original_primary_port_ = (*primary)->port();
  g->nodes_.push_back(*std::move(primary));
  for (int i = 0; i < o.replicas; ++i) {
    std::vector<std::string> args = o.node_args;
    args.insert(args.end(),
                {"--replicaof", "127.0.0.1", absl::StrCat(g->original_primary_port_)});
    absl::StatusOr<std::unique_ptr<RedisServer>> r =
        RedisServer::Start({.extra_args = args});
    if (!r.ok()) return r.status();
    g->nodes_.push_back(*std::move(r));
  }
  const std::string& name = o.master_name;
  for (int i = 0; i < o.sentinels; ++i) {
    absl::StatusOr<std::unique_ptr<RedisServer>> s = RedisServer::Start(
        {.config_lines = {absl::StrCat("sentinel monitor ", name, " 127.0.0.1 ",
                                       g->original_primary_port_, " ",
                                       o.sentinels / 2 + 1),
                          absl::StrCat("sentinel down-after-milliseconds ", name, " ",
                                       o.down_after_ms),
                          absl::StrCat("sentinel failover-timeout ", name, " ",
                                       o.failover_timeout_ms),
                          absl::StrCat("sentinel parallel-syncs ", name, " 1")},
         .sentinel = true});
    if (!s.ok()) return s.status();
    g->sentinels_.push_back(*std::move(s));
  }
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!g->Ready()) {
    if (absl::Now() > deadline) {
      return absl::UnavailableError("sentinel group did not become ready in 30 s");
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return g;
}

bool RedisSentinelGroup::Ready() const {
  const std::string& name = options_.master_name;
  for (const auto& s : sentinels_) {
    absl::StatusOr<std::string> peers =
        RedisCommand(s->port(), {"SENTINEL", "sentinels", name});
    absl::StatusOr<std::string> replicas =
        RedisCommand(s->port(), {"SENTINEL", "replicas", name});
    if (!peers.ok() || !replicas.ok()) return false;
    // Replies are flat "key value key value ..." records, one per peer.
    auto count = [](const std::string& text, const std::string& key,
                    const std::string& value) {
      std::vector<std::string> w = absl::StrSplit(text, ' ');
      int n = 0;
      for (size_t i = 0; i + 1 < w.size(); i += 2) {
        n += w[i] == key && (value.empty() || w[i + 1] == value);
      }
      return n;
    };
    if (count(*peers, "name", "") != static_cast<int>(sentinels_.size()) - 1 ||
        count(*replicas, "flags", "slave") != options_.replicas) {
      return false;
    }
  }
  for (size_t i = 1; i < nodes_.size(); ++i) {
    absl::StatusOr<std::string> info =
        RedisCommand(nodes_[i]->port(), {"INFO", "replication"});
    if (!info.ok() || info->find("master_link_status:up") == std::string::npos)
      return false;
  }
  return true;
}

std::string RedisSentinelGroup::SentinelUrl(const std::string& params) const {
  std::vector<std::string> hosts;
  for (const auto& s : sentinels_) hosts.push_back(absl::StrCat("127.0.0.1:", s->port()));
  return absl::StrCat("redis-sentinel://", absl::StrJoin(hosts, ","), "/",
                      options_.master_name, params);
}

absl::StatusOr<int> RedisSentinelGroup::MasterPort() const {
  for (const auto& s : sentinels_) {
    if (!s->running()) continue;
    absl::StatusOr<std::string> a = RedisCommand(
        s->port(), {"SENTINEL", "get-master-addr-by-name", options_.master_name});
    int port;
    std::vector<std::string> parts = absl::StrSplit(a.value_or(""), ' ');
    if (parts.size() == 2 && absl::SimpleAtoi(parts[1], &port)) return port;
  }
  return absl::UnavailableError("no sentinel reported a master");
}

absl::StatusOr<int> RedisSentinelGroup::WaitForNewMaster(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    absl::StatusOr<int> port = MasterPort();
    if (port.ok() && *port != original_primary_port_) {
      absl::StatusOr<std::string> role = RedisCommand(*port, {"ROLE"});
      if (role.ok() && absl::StartsWith(*role, "master")) return *port;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError("the sentinels did not promote a new master");
}

}  // namespace sslshim::testing
