// redis_options.h
// -----------------------------------------------------------------------------
// RedisStoreOptions says where a RedisStore's data lives and how to reach it:
// one fixed Redis node, or the current master of a Sentinel-monitored group.
//
//   RedisStoreOptions fixed{.host = "127.0.0.1", .port = 6379};
//   RedisStoreOptions ha{.sentinels = {{"10.0.0.1", 26379}, {"10.0.0.2", 26379}},
//                        .master_name = "certs"};
//
// Credentials: `username`/`password` authenticate on the data nodes (never on
// the sentinels, which are asked without AUTH). A non-empty `username` is
// always sent with AUTH, with `password` even when that is empty, so a
// connection never silently runs as Redis's `default` user.

#ifndef SSLSHIM_CERTSTORE_REDIS_OPTIONS_H_
#define SSLSHIM_CERTSTORE_REDIS_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace sslshim::certstore {

// RedisAddress is one host:port.
struct RedisAddress {
  std::string host;
  int port = 0;

  // ToString() is "host:port".
  std::string ToString() const;
  bool operator==(const RedisAddress& o) const {
    return host == o.host && port == o.port;
  }
  bool operator!=(const RedisAddress& o) const { return !(*this == o); }
};

// RedisStoreOptions configures RedisStore::Create().
struct RedisStoreOptions {
  // The node to use when `sentinels` is empty.
  std::string host = "127.0.0.1";
  int port = 6379;
  // Sentinel mode (when non-empty): the master is whatever these sentinels
  // report for `master_name`; `host`/`port` are ignored.
  std::vector<RedisAddress> sentinels;
  std::string master_name;
  int db = 0;
  std::string username;  // Redis 6+ ACL user; empty for the default user.
  std::string password;  // Empty for none.
  std::string key_namespace = "certstore";
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration command_timeout = absl::Seconds(2);
  // Sentinel mode: how long one call keeps asking the sentinels and
  // reconnecting while the master is unreachable, read-only or timing out.
  absl::Duration failover_wait = absl::Seconds(10);
  // When > 0, every write is followed by WAIT replica_acks: the write only
  // succeeds once that many replicas have it (else DeadlineExceeded, and the
  // write may be lost in a failover).
  int replica_acks = 0;
  absl::Duration replica_ack_timeout = absl::Milliseconds(1000);
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_REDIS_OPTIONS_H_
