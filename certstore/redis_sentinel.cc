#include "certstore/redis_sentinel.h"

#include <hiredis/hiredis.h>

#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "certstore/sigpipe_block.h"

namespace sslshim::certstore {
namespace {

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

std::string JoinAddresses(const std::vector<RedisAddress>& list) {
  return absl::StrJoin(list, ",", [](std::string* out, const RedisAddress& a) {
    out->append(a.ToString());
  });
}

}  // namespace

std::string RedisAddress::ToString() const { return absl::StrCat(host, ":", port); }

MasterLocator::MasterLocator(const RedisStoreOptions& options)
    : fixed_{options.host, options.port},
      sentinels_(options.sentinels),
      master_name_(options.master_name),
      username_(options.username),
      db_(options.db),
      connect_timeout_(options.connect_timeout),
      command_timeout_(options.command_timeout) {}

absl::StatusOr<RedisAddress> MasterLocator::Ask(const RedisAddress& sentinel) const {
  std::unique_ptr<redisContext, ContextDeleter> c(redisConnectWithTimeout(
      sentinel.host.c_str(), sentinel.port, absl::ToTimeval(connect_timeout_)));
  if (c == nullptr) return absl::UnavailableError("cannot allocate redis context");
  if (c->err) return absl::UnavailableError(c->errstr);
  redisSetTimeout(c.get(), absl::ToTimeval(command_timeout_));
  const char* argv[] = {"SENTINEL", "get-master-addr-by-name", master_name_.c_str()};
  const size_t lens[] = {8, 23, master_name_.size()};
  ScopedSigpipeBlock no_sigpipe;  // hiredis writes with write(2).
  std::unique_ptr<redisReply, ReplyDeleter> r(
      static_cast<redisReply*>(redisCommandArgv(c.get(), 3, argv, lens)));
  if (r == nullptr) return absl::UnavailableError(c->errstr);
  if (r->type == REDIS_REPLY_ERROR) {
    return absl::UnavailableError(std::string(r->str, r->len));
  }
  if (r->type == REDIS_REPLY_NIL) {
    return absl::NotFoundError(absl::StrCat("does not know master ", master_name_));
  }
  RedisAddress a;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[0]->type != REDIS_REPLY_STRING ||
      r->element[1]->type != REDIS_REPLY_STRING ||
      !absl::SimpleAtoi(absl::string_view(r->element[1]->str, r->element[1]->len),
                        &a.port)) {
    return absl::UnavailableError("unexpected reply to SENTINEL get-master-addr-by-name");
  }
  a.host.assign(r->element[0]->str, r->element[0]->len);
  return a;
}

absl::StatusOr<RedisAddress> MasterLocator::Locate() {
  if (!sentinel()) return fixed_;
  size_t first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    first = preferred_;
  }
  std::vector<std::string> failures;
  bool all_not_found = true;
  for (size_t i = 0; i < sentinels_.size(); ++i) {
    size_t k = (first + i) % sentinels_.size();
    absl::StatusOr<RedisAddress> a = Ask(sentinels_[k]);
    if (a.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      preferred_ = k;
      return a;
    }
    all_not_found = all_not_found && absl::IsNotFound(a.status());
    failures.push_back(
        absl::StrCat("sentinel ", sentinels_[k].ToString(), ": ", a.status().message()));
  }
  std::string msg = absl::StrCat(Endpoint(), ": no sentinel reported a master (",
                                 absl::StrJoin(failures, "; "), ")");
  if (all_not_found) return absl::NotFoundError(msg);
  return absl::UnavailableError(msg);
}

void MasterLocator::Verified(const RedisAddress& master) {
  std::string now = master.ToString();
  std::lock_guard<std::mutex> lock(mu_);
  if (status_.master == now) return;
  if (!status_.master.empty()) {
    ++status_.failovers;
    status_.previous_master = status_.master;
    status_.last_failover = absl::Now();
  }
  status_.master = now;
}

RedisMasterStatus MasterLocator::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

std::string MasterLocator::Endpoint() const {
  std::string user = username_.empty() ? "" : username_ + "@";
  if (!sentinel()) return absl::StrCat("redis://", user, fixed_.ToString(), "/", db_);
  std::string master = status().master;
  return absl::StrCat("redis-sentinel://", user, JoinAddresses(sentinels_), "/",
                      master_name_, "?db=", db_,
                      master.empty() ? "" : absl::StrCat(" (master ", master, ")"));
}

std::string MasterLocator::Describe() const {
  RedisMasterStatus s = status();
  if (s.failovers == 0) return Endpoint();
  return absl::StrCat(
      Endpoint(), " after ", s.failovers, s.failovers == 1 ? " failover" : " failovers",
      ", last from ", s.previous_master, " at ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", s.last_failover, absl::UTCTimeZone()));
}

}  // namespace sslshim::certstore
