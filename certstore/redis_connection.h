// redis_connection.h
// -----------------------------------------------------------------------------
// Connection is one hiredis connection of a RedisStore to the node its
// MasterLocator names. It connects on demand (AUTH, SELECT and, in Sentinel
// mode, ROLE must say master), maps Redis error replies to statuses, and in
// Sentinel mode follows a failover: when the node is unreachable, times out,
// answers READONLY or is not a master, the call asks the sentinels again and
// reconnects, for at most RedisStoreOptions::failover_wait.
//
//   redis_internal::Connection conn(options, locator);
//   absl::StatusOr<redis_internal::ReplyPtr> r = conn.Command({"GET", "k"});
//
// No status from a Connection contains the password: AUTH failures say which
// user was refused, and any server text that echoes the password is redacted.
// Not thread-safe; RedisStore guards its connection with a mutex.

#ifndef SSLSHIM_CERTSTORE_REDIS_CONNECTION_H_
#define SSLSHIM_CERTSTORE_REDIS_CONNECTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "certstore/redis_options.h"
#include "certstore/redis_sentinel.h"

struct redisContext;
struct redisReply;

namespace sslshim::certstore::redis_internal {

// ReplyPtr owns a hiredis reply.
struct ReplyDeleter {
  void operator()(redisReply* r) const;
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// Retry says whether Command() may re-run a command after a failover sign
// (Sentinel mode only; with a fixed node every call is one attempt).
enum class Retry {
  kNever,      // One attempt (watchers poll again themselves).
  kIfNotSent,  // Writes: retry only when the command surely did not run.
  kAlways,     // Idempotent reads.
};

class Connection {
 public:
  // `locator` is shared with the store's other connections.
  Connection(const RedisStoreOptions& options, std::shared_ptr<MasterLocator> locator);
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Command() sends one command and returns its reply. A Redis error reply
  // becomes a status: NOPERM/NOAUTH/WRONGPASS and a refused AUTH ->
  // PermissionDenied; LOADING/BUSY/MASTERDOWN/READONLY -> Unavailable;
  // NOSCRIPT -> NotFound; others Internal. Connection problems: Unavailable
  // or DeadlineExceeded naming the endpoint.
  absl::StatusOr<ReplyPtr> Command(const std::vector<std::string>& args,
                                   Retry retry = Retry::kAlways);

  // Connected() makes sure the connection is up (one attempt).
  absl::Status Connected();

  // context() is the live connection or null. Borrowed.
  redisContext* context() { return ctx_; }

  // Drop() closes the connection; the next call reconnects.
  void Drop();

  // node() is the node of the current (or last) connection.
  const RedisAddress& node() const { return node_; }

  // Endpoint() names the store (MasterLocator::Endpoint()).
  std::string Endpoint() const { return locator_->Endpoint(); }

 private:
  absl::StatusOr<ReplyPtr> Once(const std::vector<std::string>& args, bool* maybe_ran);
  absl::StatusOr<ReplyPtr> Send(const std::vector<std::string>& args);
  absl::Status Handshake(const RedisAddress& node);
  bool PeerClosed() const;
  absl::Status IoError(absl::string_view op);
  absl::Status Redacted(const absl::Status& s) const;

  const RedisStoreOptions options_;
  const std::shared_ptr<MasterLocator> locator_;
  redisContext* ctx_ = nullptr;
  RedisAddress node_;
};

}  // namespace sslshim::certstore::redis_internal

#endif  // SSLSHIM_CERTSTORE_REDIS_CONNECTION_H_
