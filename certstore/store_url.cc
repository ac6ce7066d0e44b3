#include "certstore/store_url.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/types/optional.h"
#include "certstore/lmdb_store.h"
#include "certstore/memory_store.h"
#include "certstore/redis_store.h"

namespace sslshim::certstore {
namespace {

constexpr char kRedisScheme[] = "redis://";
constexpr char kSentinelScheme[] = "redis-sentinel://";

absl::Status BadUrl(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "bad store URL \"", RedactStoreUrl(url), "\": ", why,
      "; use memory:, lmdb:PATH, "
      "redis://[USER[:PASSWORD]@]HOST[:PORT][/DB][?namespace=NS] or "
      "redis-sentinel://[USER[:PASSWORD]@]HOST[:PORT][,HOST[:PORT]...]/MASTER"
      "[?db=N&namespace=NS]"));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; nullopt on a broken escape.
absl::optional<std::string> PercentDecode(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return absl::nullopt;
    int hi = HexDigit(in[i + 1]), lo = HexDigit(in[i + 2]);
    if (hi < 0 || lo < 0) return absl::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Parses HOST[:PORT]; returns an error text or "".
std::string ParseAddress(absl::string_view text, int default_port, RedisAddress* a) {
  size_t colon = text.rfind(':');
  a->host = std::string(text.substr(0, colon));
  a->port = default_port;
  if (colon != absl::string_view::npos &&
      (!absl::SimpleAtoi(text.substr(colon + 1), &a->port) || a->port <= 0 ||
       a->port > 65535)) {
    return "port must be a number from 1 to 65535";
  }
  if (a->host.empty()) return "missing host";
  return "";
}

bool ParseMillis(absl::string_view v, absl::Duration* d) {
  int64_t ms;
  if (!absl::SimpleAtoi(v, &ms) || ms < 0) return false;
  *d = absl::Milliseconds(ms);
  return true;
}

// Applies one NAME=VALUE query parameter; returns an error text or "".
std::string ApplyParam(absl::string_view name, const std::string& value, bool sentinel,
                       RedisStoreOptions* r) {
  if (value.empty()) return absl::StrCat("parameter ", name, " needs a value");
  if (name == "namespace") {
    r->key_namespace = value;
  } else if (name == "replica_acks") {
    if (!absl::SimpleAtoi(value, &r->replica_acks) || r->replica_acks < 0) {
      return "replica_acks must be a non-negative integer";
    }
  } else if (name == "replica_ack_timeout_ms") {
    if (!ParseMillis(value, &r->replica_ack_timeout)) {
      return "replica_ack_timeout_ms must be a non-negative integer";
    }
  } else if (sentinel && name == "db") {
    if (!absl::SimpleAtoi(value, &r->db) || r->db < 0) {
      return "database number must be a non-negative integer";
    }
  } else if (sentinel && name == "failover_wait_ms") {
    if (!ParseMillis(value, &r->failover_wait)) {
      return "failover_wait_ms must be a non-negative integer";
    }
  } else {
    return absl::StrCat("unknown parameter \"", name, "\"");
  }
  return "";
}

}  // namespace

std::string RedactStoreUrl(absl::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) return std::string(url);
  size_t start = scheme + 3;
  size_t at = url.rfind('@');
  if (at == absl::string_view::npos || at < start) return std::string(url);
  size_t colon = url.substr(start, at - start).find(':');
  if (colon == absl::string_view::npos) return std::string(url);
  return absl::StrCat(url.substr(0, start + colon), ":<redacted>", url.substr(at));
}

absl::StatusOr<RedisStoreOptions> ParseRedisStoreUrl(absl::string_view url,
                                                     const OpenStoreOptions& o) {
  absl::string_view rest = url;
  const bool sentinel = absl::ConsumePrefix(&rest, kSentinelScheme);
  if (!sentinel && !absl::ConsumePrefix(&rest, kRedisScheme)) {
    return BadUrl(url, "not a redis:// or redis-sentinel:// URL");
  }
  RedisStoreOptions r;
  r.password = o.redis_password;
  r.command_timeout = o.redis_timeout;
  // Credentials end at the last '@', so a password may hold '/', '?' or '@'.
  size_t at = rest.rfind('@');
  if (at != absl::string_view::npos) {
    absl::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = cred.find(':');
    absl::optional<std::string> user = PercentDecode(cred.substr(0, colon));
    absl::optional<std::string> pass;
    if (colon != absl::string_view::npos) pass = PercentDecode(cred.substr(colon + 1));
    if (!user || (colon != absl::string_view::npos && !pass)) {
      return BadUrl(url, "bad %-escape in the user name or password");
    }
    r.username = *user;
    if (pass) r.password = *pass;
  }
  size_t q = rest.find('?');
  if (q != absl::string_view::npos) {
    for (absl::string_view kv : absl::StrSplit(rest.substr(q + 1), '&')) {
      std::pair<absl::string_view, absl::string_view> p =
          absl::StrSplit(kv, absl::MaxSplits('=', 1));
      absl::optional<std::string> value = PercentDecode(p.second);
      if (!value) return BadUrl(url, absl::StrCat("bad %-escape in parameter ", p.first));
      std::string why = ApplyParam(p.first, *value, sentinel, &r);
      if (!why.empty()) return BadUrl(url, why);
    }
    rest = rest.substr(0, q);
  }
  size_t slash = rest.find('/');
  absl::string_view path = slash == absl::string_view::npos ? "" : rest.substr(slash + 1);
  absl::string_view authority = rest.substr(0, slash);
  if (sentinel) {
    if (path.empty() || absl::StrContains(path, '/')) {
      return BadUrl(url, "redis-sentinel:// needs /MASTER (the sentinels' master name)");
    }
    r.master_name = std::string(path);
    for (absl::string_view s : absl::StrSplit(authority, ',')) {
      RedisAddress a;
      std::string why = ParseAddress(s, 26379, &a);
      if (!why.empty()) return BadUrl(url, absl::StrCat("sentinel ", why));
      r.sentinels.push_back(std::move(a));
    }
    return r;
  }
  if (slash != absl::string_view::npos && (!absl::SimpleAtoi(path, &r.db) || r.db < 0)) {
    return BadUrl(url, "database number must be a non-negative integer");
  }
  RedisAddress a;
  std::string why = ParseAddress(authority, 6379, &a);
  if (!why.empty()) return BadUrl(url, why);
  r.host = a.host;
  r.port = a.port;
  return r;
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url,
                                                 const OpenStoreOptions& options) {
  absl::string_view rest = url;
  if (rest == "memory:") return std::unique_ptr<Store>(MemoryStore::Create());
  if (absl::ConsumePrefix(&rest, "lmdb:")) {
    if (rest.empty()) return BadUrl(url, "lmdb: needs a directory");
    absl::StatusOr<std::unique_ptr<LmdbStore>> s =
        LmdbStore::Create({.directory = std::string(rest)});
    if (!s.ok()) return s.status();
    return std::unique_ptr<Store>(*std::move(s));
  }
  if (absl::StartsWith(url, kRedisScheme) || absl::StartsWith(url, kSentinelScheme)) {
    absl::StatusOr<RedisStoreOptions> o = ParseRedisStoreUrl(url, options);
    if (!o.ok()) return o.status();
    absl::StatusOr<std::unique_ptr<RedisStore>> s = RedisStore::Create(*std::move(o));
    if (!s.ok()) return s.status();
    return std::unique_ptr<Store>(*std::move(s));
  }
  return BadUrl(url, "unknown scheme");
}

}  // namespace sslshim::certstore
