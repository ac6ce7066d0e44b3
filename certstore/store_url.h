// store_url.h
// -----------------------------------------------------------------------------
// OpenStore() turns a store URL into a Store:
//   memory:                                   a fresh in-process MemoryStore
//   lmdb:PATH                                 LmdbStore in directory PATH
//   redis://[USER[:PASSWORD]@]HOST[:PORT][/DB][?PARAMS]
//                                             RedisStore on one node
//   redis-sentinel://[USER[:PASSWORD]@]HOST[:PORT][,HOST[:PORT]...]/MASTER[?PARAMS]
//                                             RedisStore on the master that
//                                             these sentinels report
//
// PARAMS are NAME=VALUE joined by '&': namespace=NS, replica_acks=N (WAIT for
// N replicas after each write), replica_ack_timeout_ms=MS, and for
// redis-sentinel:// also db=N and failover_wait_ms=MS. Ports default to 6379
// (redis) and 26379 (sentinels). USER, PASSWORD and values are %-decoded
// (write '@' as %40, ':' as %3A, '%' as %25). USER and PASSWORD authenticate
// on the data nodes; sentinels are asked without AUTH. A USER without a
// PASSWORD is still sent with AUTH (with OpenStoreOptions::redis_password, or
// empty), never silently replaced by the `default` user.
//
//   absl::StatusOr<std::unique_ptr<Store>> s = OpenStore("lmdb:/srv/certs");
//
// No error from OpenStore() contains a password (see RedactStoreUrl()).

#ifndef SSLSHIM_CERTSTORE_STORE_URL_H_
#define SSLSHIM_CERTSTORE_STORE_URL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "certstore/redis_options.h"
#include "certstore/store.h"

namespace sslshim::certstore {

// OpenStoreOptions carries what a URL does not.
struct OpenStoreOptions {
  std::string redis_password;  // Used when the URL has none.
  absl::Duration redis_timeout = absl::Seconds(2);
};

// OpenStore() parses `url` and opens the store. Errors: InvalidArgument for
// an unknown scheme or malformed URL (the message shows the URL with its
// password redacted and lists the accepted forms), and the backend's
// Create() errors.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url,
                                                 const OpenStoreOptions& options = {});

// ParseRedisStoreUrl() parses a redis:// or redis-sentinel:// URL into
// options without connecting. Errors: InvalidArgument as for OpenStore().
absl::StatusOr<RedisStoreOptions> ParseRedisStoreUrl(
    absl::string_view url, const OpenStoreOptions& options = {});

// RedactStoreUrl() returns `url` with the password (everything between the
// first ':' after "scheme://" and the last '@') replaced by "<redacted>";
// URLs without one come back unchanged. Safe on malformed input.
std::string RedactStoreUrl(absl::string_view url);

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_STORE_URL_H_
