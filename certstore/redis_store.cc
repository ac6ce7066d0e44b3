#include "certstore/redis_store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <string.h>
#include <sys/time.h>

#include <deque>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "certstore/store_util.h"
#include "openssl/sha.h"

namespace sslshim::certstore {
namespace redis_internal {

void ReplyDeleter::operator()(redisReply* r) const { freeReplyObject(r); }

namespace {

timeval AsTimeval(absl::Duration d) { return absl::ToTimeval(d); }

absl::Status MapErrorReply(absl::string_view endpoint, absl::string_view msg) {
  std::string text = absl::StrCat(endpoint, ": ", msg);
  if (absl::StartsWith(msg, "NOPERM") || absl::StartsWith(msg, "NOAUTH") ||
      absl::StartsWith(msg, "WRONGPASS")) {
    return absl::PermissionDeniedError(text);
  }
  if (absl::StartsWith(msg, "LOADING") || absl::StartsWith(msg, "BUSY") ||
      absl::StartsWith(msg, "MASTERDOWN")) {
    return absl::UnavailableError(text);
  }
  if (absl::StartsWith(msg, "NOSCRIPT")) return absl::NotFoundError(text);
  return absl::InternalError(text);
}

}  // namespace

Connection::Connection(const RedisStoreOptions& options) : options_(options) {}

Connection::~Connection() { Drop(); }

void Connection::Drop() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

std::string Connection::Endpoint() const {
  return absl::StrCat("redis://",
                      options_.username.empty() ? "" : options_.username + "@",
                      options_.host, ":", options_.port, "/", options_.db);
}

absl::Status Connection::IoError(absl::string_view op) {
  std::string detail = ctx_ ? ctx_->errstr : "no connection";
  bool timeout = ctx_ && ctx_->err == REDIS_ERR_IO &&
                 (errno == EAGAIN || errno == EWOULDBLOCK ||
                  absl::StrContains(detail, "temporarily unavailable"));
  Drop();
  std::string msg = absl::StrCat(Endpoint(), ": ", op, ": ", detail);
  if (timeout) {
    return absl::DeadlineExceededError(absl::StrCat(
        msg, " (timed out after ", absl::FormatDuration(options_.command_timeout), ")"));
  }
  return absl::UnavailableError(absl::StrCat(msg, " (is redis-server up?)"));
}

absl::Status Connection::Connected() {
  if (ctx_ != nullptr) return absl::OkStatus();
  ctx_ = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                 AsTimeval(options_.connect_timeout));
  if (ctx_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat(Endpoint(), ": cannot allocate redis context"));
  }
  if (ctx_->err) return IoError("connect");
  redisSetTimeout(ctx_, AsTimeval(options_.command_timeout));
  redisEnableKeepAlive(ctx_);
  if (!options_.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!options_.username.empty()) auth.push_back(options_.username);
    auth.push_back(options_.password);
    absl::StatusOr<ReplyPtr> r = Command(auth);
    if (!r.ok()) {
      Drop();
      return r.status();
    }
  }
  if (options_.db != 0) {
    absl::StatusOr<ReplyPtr> r = Command({"SELECT", absl::StrCat(options_.db)});
    if (!r.ok()) {
      Drop();
      return r.status();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ReplyPtr> Connection::Command(const std::vector<std::string>& args) {
  absl::Status s = Connected();
  if (!s.ok()) return s;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(ctx_, argv.size(), argv.data(), lens.data())));
  if (!reply) return IoError(args[0]);
  if (reply->type == REDIS_REPLY_ERROR) {
    return MapErrorReply(Endpoint(), absl::string_view(reply->str, reply->len));
  }
  return reply;
}

}  // namespace redis_internal

namespace {

using redis_internal::Connection;
using redis_internal::ReplyPtr;

// KEYS[1] record, KEYS[2] index; ARGV[1] expected ("any" or number),
// ARGV[2] value, ARGV[3] path, ARGV[4] channel. Returns {ok, generation}.
constexpr char kPutScript[] = R"lua(
local cur = tonumber(redis.call('HGET', KEYS[1], 'g') or '0')
if ARGV[1] ~= 'any' and tonumber(ARGV[1]) ~= cur then return {0, cur} end
local g = cur + 1
redis.call('HSET', KEYS[1], 'g', g, 'v', ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
redis.call('PUBLISH', ARGV[4], 'p ' .. g .. ' ' .. ARGV[3])
return {1, g}
)lua";

// KEYS as above; ARGV[1] expected, ARGV[2] path, ARGV[3] channel.
// Returns {1, 0} deleted, {0, cur} conflict, {-1, 0} missing.
constexpr char kDeleteScript[] = R"lua(
local cur = tonumber(redis.call('HGET', KEYS[1], 'g') or '0')
if cur == 0 then return {-1, 0} end
if ARGV[1] ~= 'any' and tonumber(ARGV[1]) ~= cur then return {0, cur} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], 'd 0 ' .. ARGV[2])
return {1, 0}
)lua";

std::string Sha1Hex(absl::string_view s) {
  uint8_t d[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const uint8_t*>(s.data()), s.size(), d);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(d), sizeof(d)));
}

const std::string& PutSha() {
  static const std::string* sha = new std::string(Sha1Hex(kPutScript));
  return *sha;
}
const std::string& DeleteSha() {
  static const std::string* sha = new std::string(Sha1Hex(kDeleteScript));
  return *sha;
}

std::string Expected(uint64_t g) { return g == kAnyGeneration ? "any" : absl::StrCat(g); }

// Reads the {status, generation} pair the scripts return.
absl::Status ScriptPair(const redisReply* r, int64_t* ok, int64_t* gen,
                        absl::string_view endpoint) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[0]->type != REDIS_REPLY_INTEGER ||
      r->element[1]->type != REDIS_REPLY_INTEGER) {
    return absl::InternalError(absl::StrCat(endpoint, ": unexpected script reply"));
  }
  *ok = r->element[0]->integer;
  *gen = r->element[1]->integer;
  return absl::OkStatus();
}

std::string ChannelName(const RedisStoreOptions& o) { return o.key_namespace + "/e"; }

// Subscribes on its own connection; see the header comment.
class RedisWatcher : public Watcher {
 public:
  RedisWatcher(const RedisStoreOptions& options, KeyPath prefix)
      : options_(options), conn_(options), prefix_(std::move(prefix)) {}

  absl::Status Subscribe() {
    absl::StatusOr<ReplyPtr> r = conn_.Command({"SUBSCRIBE", ChannelName(options_)});
    return r.status();
  }

  absl::StatusOr<absl::optional<WatchEvent>> Next(absl::Duration timeout) override {
    absl::Time deadline = absl::Now() + timeout;
    while (true) {
      if (conn_.context() == nullptr) {
        // Reconnect after a drop, then tell the caller to re-list.
        absl::Status s = Subscribe();
        if (!s.ok()) return s;
        return WatchEvent{WatchEvent::Type::kResync, {}, 0};
      }
      redisContext* c = conn_.context();
      void* raw = nullptr;
      if (redisGetReplyFromReader(c, &raw) != REDIS_OK) {
        conn_.Drop();
        continue;
      }
      if (raw != nullptr) {
        ReplyPtr reply(static_cast<redisReply*>(raw));
        absl::optional<WatchEvent> e = Parse(reply.get());
        if (e.has_value()) return e;
        continue;
      }
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return absl::nullopt;
      pollfd pfd{c->fd, POLLIN, 0};
      int n = poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
      if (n < 0 && errno != EINTR) {
        conn_.Drop();
        continue;
      }
      if (n > 0 && redisBufferRead(c) != REDIS_OK) conn_.Drop();
    }
  }

 private:
  absl::optional<WatchEvent> Parse(const redisReply* r) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[2]->type != REDIS_REPLY_STRING) {
      return absl::nullopt;  // Subscribe confirmations and the like.
    }
    absl::string_view msg(r->element[2]->str, r->element[2]->len);
    std::vector<absl::string_view> parts = absl::StrSplit(msg, absl::MaxSplits(' ', 2));
    uint64_t gen = 0;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &gen)) return absl::nullopt;
    absl::StatusOr<KeyPath> path = KeyPath::Parse(parts[2]);
    if (!path.ok() || !path->IsUnder(prefix_)) return absl::nullopt;
    return WatchEvent{
        parts[0] == "p" ? WatchEvent::Type::kPut : WatchEvent::Type::kDelete,
        *std::move(path), gen};
  }

  const RedisStoreOptions options_;
  Connection conn_;
  const KeyPath prefix_;
};

}  // namespace

RedisStore::RedisStore(RedisStoreOptions options)
    : options_(std::move(options)), conn_(options_) {}

RedisStore::~RedisStore() = default;

std::string RedisStore::Describe() const { return conn_.Endpoint(); }

std::string RedisStore::RecordKey(const KeyPath& path) const {
  return absl::StrCat(options_.key_namespace, "/r/", path.ToString());
}

absl::StatusOr<std::unique_ptr<RedisStore>> RedisStore::Create(
    RedisStoreOptions options) {
  if (options.host.empty() || options.port <= 0 || options.port > 65535 ||
      options.db < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid redis endpoint ", options.host, ":", options.port, "/", options.db));
  }
  if (options.key_namespace.empty()) {
    return absl::InvalidArgumentError("redis key_namespace must not be empty");
  }
  std::unique_ptr<RedisStore> store(new RedisStore(std::move(options)));
  std::lock_guard<std::mutex> lock(store->mu_);
  // PING checks the endpoint and the credentials (NOAUTH without a password).
  absl::Status s = store->conn_.Command({"PING"}).status();
  if (!s.ok()) return s;
  return store;
}

absl::StatusOr<ReplyPtr> RedisStore::Eval(const std::string& script,
                                          const std::string& sha,
                                          const std::vector<std::string>& keys_and_args,
                                          int num_keys) {
  std::vector<std::string> cmd = {"EVALSHA", sha, absl::StrCat(num_keys)};
  cmd.insert(cmd.end(), keys_and_args.begin(), keys_and_args.end());
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<ReplyPtr> r = conn_.Command(cmd);
  if (r.ok() || !absl::IsNotFound(r.status())) return r;
  cmd[0] = "EVAL";  // NOSCRIPT: first use since the server started.
  cmd[1] = script;
  return conn_.Command(cmd);
}

absl::StatusOr<StoreEntry> RedisStore::Get(const KeyPath& path) {
  absl::StatusOr<ReplyPtr> r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    r = conn_.Command({"HMGET", RecordKey(path), "g", "v"});
  }
  if (!r.ok()) return r.status();
  const redisReply* rep = r->get();
  if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
    return absl::InternalError(absl::StrCat(Describe(), ": bad HMGET reply"));
  }
  const redisReply* g = rep->element[0];
  const redisReply* v = rep->element[1];
  if (g->type == REDIS_REPLY_NIL && v->type == REDIS_REPLY_NIL) {
    return NotFoundError(path, Describe());
  }
  StoreEntry e;
  if (g->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
      !absl::SimpleAtoi(absl::string_view(g->str, g->len), &e.generation)) {
    return absl::DataLossError(
        absl::StrCat(Describe(), ": stored hash ", RecordKey(path), " is malformed"));
  }
  e.value.assign(v->str, v->len);
  return e;
}

absl::StatusOr<uint64_t> RedisStore::Put(const KeyPath& path, absl::string_view value,
                                         uint64_t expected_generation) {
  absl::Status s = CheckWritablePath(path);
  if (!s.ok()) return s;
  absl::StatusOr<ReplyPtr> r =
      Eval(kPutScript, PutSha(),
           {RecordKey(path), options_.key_namespace + "/i", Expected(expected_generation),
            std::string(value), path.ToString(), ChannelName(options_)},
           2);
  if (!r.ok()) return r.status();
  int64_t ok, gen;
  s = ScriptPair(r->get(), &ok, &gen, Describe());
  if (!s.ok()) return s;
  if (ok != 1) return ConflictError(path, expected_generation, gen);
  return static_cast<uint64_t>(gen);
}

absl::Status RedisStore::Delete(const KeyPath& path, uint64_t expected_generation) {
  absl::StatusOr<ReplyPtr> r =
      Eval(kDeleteScript, DeleteSha(),
           {RecordKey(path), options_.key_namespace + "/i", Expected(expected_generation),
            path.ToString(), ChannelName(options_)},
           2);
  if (!r.ok()) return r.status();
  int64_t ok, gen;
  absl::Status s = ScriptPair(r->get(), &ok, &gen, Describe());
  if (!s.ok()) return s;
  if (ok == -1) return NotFoundError(path, Describe());
  if (ok == 0) return ConflictError(path, expected_generation, gen);
  return absl::OkStatus();
}

absl::StatusOr<ListPage> RedisStore::List(const KeyPath& prefix, size_t limit,
                                          absl::string_view cursor) {
  absl::Status s = CheckListArgs(prefix, limit, cursor);
  if (!s.ok()) return s;
  KeyRange range = DescendantRange(prefix);
  std::string min = !cursor.empty()       ? absl::StrCat("(", cursor)
                    : range.begin.empty() ? "-"
                                          : "[" + range.begin;
  std::string max = range.end.empty() ? "+" : "(" + range.end;
  absl::StatusOr<ReplyPtr> r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    r = conn_.Command({"ZRANGEBYLEX", options_.key_namespace + "/i", min, max, "LIMIT",
                       "0", absl::StrCat(limit + 1)});
  }
  if (!r.ok()) return r.status();
  const redisReply* rep = r->get();
  ListPageBuilder page(limit, Describe());
  for (size_t i = 0; i < rep->elements; ++i) {
    const redisReply* m = rep->element[i];
    if (!page.Add(absl::string_view(m->str, m->len))) break;
  }
  return std::move(page).Finish();
}

absl::StatusOr<std::unique_ptr<Watcher>> RedisStore::Watch(const KeyPath& prefix) {
  auto w = std::make_unique<RedisWatcher>(options_, prefix);
  absl::Status s = w->Subscribe();
  if (!s.ok()) return s;
  return std::unique_ptr<Watcher>(std::move(w));
}

absl::Status RedisStore::RawWrite(const KeyPath& path, absl::string_view value) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<ReplyPtr> r =
      conn_.Command({"HSET", RecordKey(path), "g", "1", "v", std::string(value)});
  if (!r.ok()) return r.status();
  return conn_.Command({"ZADD", options_.key_namespace + "/i", "0", path.ToString()})
      .status();
}

}  // namespace sslshim::certstore
