#include "certstore/redis_connection.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "certstore/sigpipe_block.h"

namespace sslshim::certstore::redis_internal {

void ReplyDeleter::operator()(redisReply* r) const { freeReplyObject(r); }

namespace {

absl::Status MapErrorReply(absl::string_view endpoint, absl::string_view msg) {
  std::string text = absl::StrCat(endpoint, ": ", msg);
  for (absl::string_view p : {"NOPERM", "NOAUTH", "WRONGPASS"}) {
    if (absl::StartsWith(msg, p)) return absl::PermissionDeniedError(text);
  }
  for (absl::string_view p : {"LOADING", "BUSY", "MASTERDOWN", "READONLY"}) {
    if (absl::StartsWith(msg, p)) return absl::UnavailableError(text);
  }
  if (absl::StartsWith(msg, "NOSCRIPT")) return absl::NotFoundError(text);
  return absl::InternalError(text);
}

// A replica refuses writes with READONLY (scripts say so inside their error).
bool IsReadOnly(absl::string_view msg) {
  return absl::StartsWith(msg, "READONLY") ||
         absl::StrContains(msg, "READONLY You can't write");
}

bool IsFailoverSign(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

}  // namespace

Connection::Connection(const RedisStoreOptions& options,
                       std::shared_ptr<MasterLocator> locator)
    : options_(options), locator_(std::move(locator)) {}

Connection::~Connection() { Drop(); }

void Connection::Drop() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

absl::Status Connection::Redacted(const absl::Status& s) const {
  if (s.ok() || options_.password.empty() ||
      !absl::StrContains(s.message(), options_.password)) {
    return s;
  }
  return absl::Status(
      s.code(), absl::StrReplaceAll(s.message(), {{options_.password, "<redacted>"}}));
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

// True when the server closed the connection (or sent something unasked)
// while it was idle: reconnect before sending rather than lose the command.
bool Connection::PeerClosed() const {
  pollfd pfd{ctx_->fd, POLLIN | POLLRDHUP, 0};
  return poll(&pfd, 1, 0) > 0;
}

absl::StatusOr<ReplyPtr> Connection::Send(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  // hiredis writes with write(2): a master that went away must be an error
  // here, not a SIGPIPE for the process that embeds the store.
  ScopedSigpipeBlock no_sigpipe;
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(ctx_, argv.size(), argv.data(), lens.data())));
  if (!reply) return IoError(args[0]);
  return reply;
}

absl::Status Connection::Handshake(const RedisAddress& node) {
  // A user name is always sent, even with an empty password: never fall
  // back to the `default` user.
  if (!options_.username.empty() || !options_.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!options_.username.empty()) auth.push_back(options_.username);
    auth.push_back(options_.password);
    absl::StatusOr<ReplyPtr> r = Send(auth);
    if (!r.ok()) return r.status();
    if ((*r)->type == REDIS_REPLY_ERROR) {
      return absl::PermissionDeniedError(absl::StrCat(
          Endpoint(), ": AUTH as ",
          options_.username.empty() ? "the default user" : "user " + options_.username,
          " refused: ", absl::string_view((*r)->str, (*r)->len)));
    }
  }
  if (options_.db != 0) {
    absl::StatusOr<ReplyPtr> r = Send({"SELECT", absl::StrCat(options_.db)});
    if (!r.ok()) return r.status();
    if ((*r)->type == REDIS_REPLY_ERROR) {
      return MapErrorReply(Endpoint(), absl::string_view((*r)->str, (*r)->len));
    }
  }
  if (!locator_->sentinel()) return absl::OkStatus();
  // The sentinels' answer may be stale: the node itself must say master.
  // A user without the (admin) ROLE command is trusted to READONLY instead.
  absl::StatusOr<ReplyPtr> role = Send({"ROLE"});
  if (!role.ok()) return role.status();
  const redisReply* r = role->get();
  bool denied = r->type == REDIS_REPLY_ERROR && absl::StartsWith(r->str, "NOPERM");
  if (!denied && (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
                  r->element[0]->type != REDIS_REPLY_STRING ||
                  absl::string_view(r->element[0]->str) != "master")) {
    std::string role_name = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                                    r->element[0]->type == REDIS_REPLY_STRING
                                ? r->element[0]->str
                                : "unknown";
    return absl::UnavailableError(absl::StrCat(Endpoint(), ": ", node.ToString(),
                                               " is not a master (role ", role_name,
                                               "); asking the sentinels again"));
  }
  locator_->Verified(node);
  return absl::OkStatus();
}

absl::Status Connection::Connected() {
  if (ctx_ != nullptr) return absl::OkStatus();
  absl::StatusOr<RedisAddress> node = locator_->Locate();
  if (!node.ok()) return node.status();
  node_ = *node;
  ctx_ = redisConnectWithTimeout(node->host.c_str(), node->port,
                                 absl::ToTimeval(options_.connect_timeout));
  if (ctx_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat(Endpoint(), ": cannot allocate redis context"));
  }
  if (ctx_->err) {
    return IoError(locator_->sentinel() ? "connect to " + node->ToString() : "connect");
  }
  redisSetTimeout(ctx_, absl::ToTimeval(options_.command_timeout));
  redisEnableKeepAlive(ctx_);
  absl::Status s = Handshake(*node);
  if (!s.ok()) Drop();
  return Redacted(s);
}

absl::StatusOr<ReplyPtr> Connection::Once(const std::vector<std::string>& args,
                                          bool* maybe_ran) {
  *maybe_ran = false;
  if (ctx_ != nullptr && PeerClosed()) Drop();
  absl::Status s = Connected();
  if (!s.ok()) return s;
  *maybe_ran = true;
  absl::StatusOr<ReplyPtr> reply = Send(args);
  if (!reply.ok()) return reply;
  if ((*reply)->type != REDIS_REPLY_ERROR) return reply;
  absl::string_view msg((*reply)->str, (*reply)->len);
  if (IsReadOnly(msg)) {
    // A demoted master: the write did not happen; find the new master.
    *maybe_ran = false;
    Drop();
  }
  return MapErrorReply(Endpoint(), msg);
}

absl::StatusOr<ReplyPtr> Connection::Command(const std::vector<std::string>& args,
                                             Retry retry) {
  const bool may_retry = locator_->sentinel() && retry != Retry::kNever;
  const absl::Time deadline =
      absl::Now() + (may_retry ? options_.failover_wait : absl::ZeroDuration());
  absl::Duration backoff = absl::Milliseconds(50);
  while (true) {
    bool maybe_ran = false;
    absl::StatusOr<ReplyPtr> r = Once(args, &maybe_ran);
    if (r.ok()) return r;
    if (!may_retry || !IsFailoverSign(r.status()) ||
        (maybe_ran && retry == Retry::kIfNotSent)) {
      return Redacted(r.status());
    }
    if (absl::Now() + backoff > deadline) {
      return Redacted(absl::Status(
          r.status().code(),
          absl::StrCat(r.status().message(), " (no usable master after waiting ",
                       absl::FormatDuration(options_.failover_wait), ")")));
    }
    Drop();
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Milliseconds(400));
  }
}

}  // namespace sslshim::certstore::redis_internal
