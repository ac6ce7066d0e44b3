// redis_store.h
// -----------------------------------------------------------------------------
// RedisStore is the Store for fleets: every host reads the same records from
// one Redis server through hiredis.
//
//   absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Create(
//       {.host = "127.0.0.1", .port = 6379, .db = 0});
//
// Keys (all under `key_namespace`, "certstore" by default):
//   <ns>/r/<canonical path>  hash {g: generation, v: value bytes}
//   <ns>/i                   sorted set of canonical paths (for ordered List)
//   <ns>/e                   pub/sub channel of changes ("p <gen> <path>",
//                            "d 0 <path>"), published by the write scripts
// Put and Delete are Lua scripts, so compare-and-set, the index and the
// change event are one atomic step on the server.
//
// Tenants: give each tenant its own namespace and a Redis ACL user limited to
// it, and the server itself refuses everything else:
//   ACL SETUSER tenantA on >secret ~certstore/t/tenantA/* &certstore/t/tenantA/*
//       +@all -@dangerous
// Then open RedisStore{.username = "tenantA", .password = "secret",
//                      .key_namespace = "certstore/t/tenantA"}.
//
// Failure handling: connect and command timeouts bound every call. When the
// server is down, calls fail with UNAVAILABLE naming the endpoint; each later
// call tries to reconnect, so the store recovers by itself when the server
// comes back. Watchers reconnect too and then report kResync.

#ifndef SSLSHIM_CERTSTORE_REDIS_STORE_H_
#define SSLSHIM_CERTSTORE_REDIS_STORE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "certstore/store.h"

struct redisContext;
struct redisReply;

namespace sslshim::certstore {

// RedisStoreOptions configures RedisStore::Create().
struct RedisStoreOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;  // Redis 6+ ACL user; empty for the default user.
  std::string password;  // Empty for none.
  std::string key_namespace = "certstore";
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration command_timeout = absl::Seconds(2);
};

namespace redis_internal {

// ReplyPtr owns a hiredis reply.
struct ReplyDeleter {
  void operator()(redisReply* r) const;
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// Connection is one hiredis connection that reconnects on demand. Not
// thread-safe; RedisStore guards it with a mutex.
class Connection {
 public:
  explicit Connection(const RedisStoreOptions& options);
  ~Connection();

  // Command() sends one command and returns its reply; a Redis error reply
  // is mapped to a status (NOPERM/NOAUTH/WRONGPASS -> PermissionDenied).
  // Errors: Unavailable / DeadlineExceeded naming the endpoint.
  absl::StatusOr<ReplyPtr> Command(const std::vector<std::string>& args);

  // Connected() makes sure the connection is up (connect, AUTH, SELECT).
  absl::Status Connected();

  // context() is the live connection or null. Borrowed.
  redisContext* context() { return ctx_; }

  // Drop() closes the connection; the next call reconnects.
  void Drop();

  // Endpoint() is "redis://[user@]host:port/db".
  std::string Endpoint() const;

 private:
  absl::Status IoError(absl::string_view op);

  const RedisStoreOptions options_;
  redisContext* ctx_ = nullptr;
};

}  // namespace redis_internal

// RedisStore implements Store over one Redis database.
class RedisStore : public Store {
 public:
  // Create() connects once to check the endpoint and credentials.
  // Errors: InvalidArgument (bad options), Unavailable (cannot connect),
  // PermissionDenied (authentication refused).
  static absl::StatusOr<std::unique_ptr<RedisStore>> Create(RedisStoreOptions options);

  ~RedisStore() override;

  absl::StatusOr<StoreEntry> Get(const KeyPath& path) override;
  absl::StatusOr<uint64_t> Put(const KeyPath& path, absl::string_view value,
                               uint64_t expected_generation) override;
  absl::Status Delete(const KeyPath& path, uint64_t expected_generation) override;
  absl::StatusOr<ListPage> List(const KeyPath& prefix, size_t limit,
                                absl::string_view cursor) override;
  absl::StatusOr<std::unique_ptr<Watcher>> Watch(const KeyPath& prefix) override;
  std::string Describe() const override;

  // Test hook: RawWrite() stores raw value bytes at `path` (generation 1).
  absl::Status RawWrite(const KeyPath& path, absl::string_view value);

  // RecordKey() is the Redis key holding `path`.
  std::string RecordKey(const KeyPath& path) const;

 private:
  explicit RedisStore(RedisStoreOptions options);

  absl::StatusOr<redis_internal::ReplyPtr> Eval(
      const std::string& script, const std::string& sha,
      const std::vector<std::string>& keys_and_args, int num_keys);

  const RedisStoreOptions options_;
  std::mutex mu_;
  redis_internal::Connection conn_;  // Guarded by mu_.
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_REDIS_STORE_H_
