#include "certstore/redis_store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "certstore/store_util.h"
#include "openssl/sha.h"

namespace sslshim::certstore {

namespace {

using redis_internal::Connection;
using redis_internal::ReplyPtr;
using redis_internal::Retry;

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
  RedisWatcher(const RedisStoreOptions& options, std::shared_ptr<MasterLocator> locator,
               KeyPath prefix)
      : options_(options),
        locator_(locator),
        conn_(options, std::move(locator)),
        prefix_(std::move(prefix)) {}

  absl::Status Subscribe() {
    return conn_.Command({"SUBSCRIBE", ChannelName(options_)}, Retry::kNever).status();
  }

  absl::StatusOr<absl::optional<WatchEvent>> Next(absl::Duration timeout) override {
    absl::Time deadline = absl::Now() + timeout;
    absl::Duration backoff = absl::Milliseconds(20);
    while (true) {
      if (conn_.context() == nullptr) {
        // Resubscribe after a drop (on the current master), then tell the
        // caller to re-list. Keep trying until the deadline, not in a spin.
        absl::Status s = Subscribe();
        if (s.ok()) return WatchEvent{WatchEvent::Type::kResync, {}, 0};
        absl::Duration left = deadline - absl::Now();
        if (left <= absl::ZeroDuration()) return s;
        absl::SleepFor(std::min(backoff, left));
        backoff = std::min(backoff * 2, absl::Milliseconds(400));
        continue;
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
      if (MasterMoved()) {
        conn_.Drop();
        continue;
      }
      // In Sentinel mode, look at least every 250 ms whether the store's
      // other connections found a new master (the old one may be alive but
      // cut off, and would never close this connection).
      if (locator_->sentinel()) left = std::min(left, absl::Milliseconds(250));
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
  bool MasterMoved() const {
    return locator_->sentinel() && locator_->status().master != conn_.node().ToString();
  }

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
  const std::shared_ptr<MasterLocator> locator_;
  Connection conn_;
  const KeyPath prefix_;
};

}  // namespace

RedisStore::RedisStore(RedisStoreOptions options)
    : options_(std::move(options)),
      locator_(std::make_shared<MasterLocator>(options_)),
      conn_(options_, locator_) {}

RedisStore::~RedisStore() = default;

std::string RedisStore::Describe() const { return locator_->Describe(); }

std::string RedisStore::RecordKey(const KeyPath& path) const {
  return absl::StrCat(options_.key_namespace, "/r/", path.ToString());
}

absl::StatusOr<std::unique_ptr<RedisStore>> RedisStore::Create(
    RedisStoreOptions options) {
  if (options.db < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid redis database number ", options.db));
  }
  std::vector<RedisAddress> nodes = options.sentinels;
  if (nodes.empty()) nodes.push_back({options.host, options.port});
  for (const RedisAddress& a : nodes) {
    if (a.host.empty() || a.port <= 0 || a.port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid redis endpoint ", a.ToString()));
    }
  }
  if (!options.sentinels.empty() && options.master_name.empty()) {
    return absl::InvalidArgumentError("redis sentinel mode needs a master name");
  }
  if (options.replica_acks < 0) {
    return absl::InvalidArgumentError("redis replica_acks must not be negative");
  }
  if (options.key_namespace.empty()) {
    return absl::InvalidArgumentError("redis key_namespace must not be empty");
  }
  std::unique_ptr<RedisStore> store(new RedisStore(std::move(options)));
  std::lock_guard<std::mutex> lock(store->mu_);
  // PING checks the endpoint and the credentials (NOAUTH without a password).
  absl::Status s = store->conn_.Command({"PING"}, Retry::kNever).status();
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
  absl::StatusOr<ReplyPtr> r = conn_.Command(cmd, Retry::kIfNotSent);
  if (absl::IsNotFound(r.status())) {
    cmd[0] = "EVAL";  // NOSCRIPT: first use since the server started.
    cmd[1] = script;
    r = conn_.Command(cmd, Retry::kIfNotSent);
  }
  if (!r.ok()) return r;
  absl::Status s = WaitForReplicas();
  if (!s.ok()) return s;
  return r;
}

absl::Status RedisStore::WaitForReplicas() {
  if (options_.replica_acks == 0) return absl::OkStatus();
  absl::StatusOr<ReplyPtr> r = conn_.Command(
      {"WAIT", absl::StrCat(options_.replica_acks),
       absl::StrCat(absl::ToInt64Milliseconds(options_.replica_ack_timeout))},
      Retry::kNever);
  if (!r.ok()) {
    return absl::Status(
        r.status().code(),
        absl::StrCat("written, but replication unconfirmed: ", r.status().message()));
  }
  if ((*r)->type != REDIS_REPLY_INTEGER || (*r)->integer < options_.replica_acks) {
    return absl::DeadlineExceededError(absl::StrCat(
        Describe(), ": written on the master, but only ",
        (*r)->type == REDIS_REPLY_INTEGER ? (*r)->integer : 0, " of ",
        options_.replica_acks, " replicas acknowledged it within ",
        absl::FormatDuration(options_.replica_ack_timeout), "; a failover may lose it"));
  }
  return absl::OkStatus();
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
  auto w = std::make_unique<RedisWatcher>(options_, locator_, prefix);
  absl::Status s = w->Subscribe();
  if (!s.ok()) return s;
  return std::unique_ptr<Watcher>(std::move(w));
}

absl::Status RedisStore::RawWrite(const KeyPath& path, absl::string_view value) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<ReplyPtr> r = conn_.Command(
      {"HSET", RecordKey(path), "g", "1", "v", std::string(value)}, Retry::kIfNotSent);
  if (!r.ok()) return r.status();
  return conn_
      .Command({"ZADD", options_.key_namespace + "/i", "0", path.ToString()},
               Retry::kIfNotSent)
      .status();
}

}  // namespace sslshim::certstore
