// redis_sentinel.h
// -----------------------------------------------------------------------------
// MasterLocator tells a RedisStore's connections which node to use: the fixed
// host:port, or, in Sentinel mode, the master the sentinels currently report
// (`SENTINEL get-master-addr-by-name`, asked in order, the last sentinel that
// answered first, as Redis's client guidelines describe). It also remembers
// the master the connections last verified, so it can say that a failover
// happened and when.
//
//   auto locator = std::make_shared<MasterLocator>(options);
//   absl::StatusOr<RedisAddress> where = locator->Locate();
//   ... connect, AUTH, ROLE says master ...
//   locator->Verified(*where);
//   locator->Describe();  // "redis-sentinel://s1:26379,s2:26379/certs?db=0
//                         //  (master 127.0.0.1:6380, failed over 1 time, last
//                         //  from 127.0.0.1:6379 at 2026-12-02T15:00:01Z)"
//
// Thread-safe: one locator is shared by a store's command connection and its
// watchers.

#ifndef SSLSHIM_CERTSTORE_REDIS_SENTINEL_H_
#define SSLSHIM_CERTSTORE_REDIS_SENTINEL_H_

#include <cstdint>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "certstore/redis_options.h"

namespace sslshim::certstore {

// RedisMasterStatus is a snapshot of which master a store uses.
struct RedisMasterStatus {
  std::string master;           // "host:port" last verified; empty before.
  uint64_t failovers = 0;       // Times the verified master changed.
  std::string previous_master;  // The master before the last failover.
  absl::Time last_failover = absl::InfinitePast();
};

class MasterLocator {
 public:
  // The locator copies what it needs from `options`.
  explicit MasterLocator(const RedisStoreOptions& options);

  MasterLocator(const MasterLocator&) = delete;
  MasterLocator& operator=(const MasterLocator&) = delete;

  // sentinel() is true in Sentinel mode.
  bool sentinel() const { return !sentinels_.empty(); }

  // Locate() returns the node to connect to now. Errors (Sentinel mode):
  // Unavailable when no sentinel answers, naming each sentinel's failure;
  // NotFound when the sentinels do not know the master name.
  absl::StatusOr<RedisAddress> Locate();

  // Verified() records that `master` answered as a master; a change from
  // the previous one counts as a failover.
  void Verified(const RedisAddress& master);

  // status() returns a snapshot.
  RedisMasterStatus status() const;

  // Endpoint() names the store in errors, without any password:
  // "redis://[USER@]HOST:PORT/DB" or
  // "redis-sentinel://[USER@]S1:P1,S2:P2/NAME?db=DB (master HOST:PORT)".
  std::string Endpoint() const;

  // Describe() is Endpoint() plus, after a failover, what happened.
  std::string Describe() const;

 private:
  absl::StatusOr<RedisAddress> Ask(const RedisAddress& sentinel) const;

  const RedisAddress fixed_;
  const std::vector<RedisAddress> sentinels_;
  const std::string master_name_;
  const std::string username_;
  const int db_;
  const absl::Duration connect_timeout_;
  const absl::Duration command_timeout_;

  mutable std::mutex mu_;
  size_t preferred_ = 0;  // Index of the sentinel that answered last.
  RedisMasterStatus status_;
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_REDIS_SENTINEL_H_
