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
// it, turn the `default` user off, and the server itself refuses everything
// else (README, "Tenants and the Redis ACL"):
//   ACL SETUSER tenantA on >secret ~certstore/t/tenantA/* &certstore/t/tenantA/*
//       +@all -@dangerous
//   ACL SETUSER default off
// Then open RedisStore{.username = "tenantA", .password = "secret",
//                      .key_namespace = "certstore/t/tenantA"}. A user name is
// always sent with AUTH (with an empty password if none is given), so a
// tenant URL without its password fails with PERMISSION_DENIED instead of
// running as `default`.
//
// Failure handling: connect and command timeouts bound every call. When the
// server is down, calls fail with UNAVAILABLE naming the endpoint; each later
// call tries to reconnect, so the store recovers by itself when the server
// comes back. Watchers reconnect too and then report kResync.
//
// Sentinel mode (RedisStoreOptions::sentinels): the store asks the sentinels
// for the master, checks ROLE, and when the master goes away (connection
// lost, timeout, READONLY) asks again and reconnects, within failover_wait.
// Reads are retried; a write is retried only when it surely did not run
// (otherwise UNAVAILABLE: its outcome is unknown). Watchers resubscribe on
// the new master and report kResync. Describe() names the master in use and
// the last failover.

#ifndef SSLSHIM_CERTSTORE_REDIS_STORE_H_
#define SSLSHIM_CERTSTORE_REDIS_STORE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "certstore/redis_connection.h"
#include "certstore/redis_options.h"
#include "certstore/redis_sentinel.h"
#include "certstore/store.h"

namespace sslshim::certstore {

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

  // master_status() says which master the store uses and how often it
  // changed (Sentinel mode; a fixed node never changes).
  RedisMasterStatus master_status() const { return locator_->status(); }

  // Test hook: RawWrite() stores raw value bytes at `path` (generation 1).
  absl::Status RawWrite(const KeyPath& path, absl::string_view value);

  // RecordKey() is the Redis key holding `path`.
  std::string RecordKey(const KeyPath& path) const;

 private:
  explicit RedisStore(RedisStoreOptions options);

  // Eval() runs a write script (EVALSHA, EVAL on NOSCRIPT), then WAITs for
  // options_.replica_acks replicas.
  absl::StatusOr<redis_internal::ReplyPtr> Eval(
      const std::string& script, const std::string& sha,
      const std::vector<std::string>& keys_and_args, int num_keys);
  absl::Status WaitForReplicas();

  const RedisStoreOptions options_;
  const std::shared_ptr<MasterLocator> locator_;
  std::mutex mu_;
  redis_internal::Connection conn_;  // Guarded by mu_.
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_REDIS_STORE_H_
