#include "certstore/store_url.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "certstore/lmdb_store.h"
#include "certstore/memory_store.h"
#include "certstore/redis_store.h"

namespace sslshim::certstore {
namespace {

absl::Status BadUrl(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad store URL \"", url, "\": ", why,
                   "; use memory:, lmdb:PATH or "
                   "redis://[USER[:PASSWORD]@]HOST:PORT[/DB][?namespace=NS]"));
}

absl::StatusOr<RedisStoreOptions> ParseRedisUrl(absl::string_view url,
                                                absl::string_view rest,
                                                const OpenStoreOptions& o) {
  RedisStoreOptions r;
  r.password = o.redis_password;
  r.command_timeout = o.redis_timeout;
  size_t q = rest.find('?');
  if (q != absl::string_view::npos) {
    absl::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (!absl::ConsumePrefix(&query, "namespace=") || query.empty()) {
      return BadUrl(url, "the only query parameter is namespace=NS");
    }
    r.key_namespace = std::string(query);
  }
  size_t at = rest.rfind('@');
  if (at != absl::string_view::npos) {
    absl::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = cred.find(':');
    r.username = std::string(cred.substr(0, colon));
    if (colon != absl::string_view::npos) {
      r.password = std::string(cred.substr(colon + 1));
    }
  }
  size_t slash = rest.find('/');
  if (slash != absl::string_view::npos) {
    if (!absl::SimpleAtoi(rest.substr(slash + 1), &r.db) || r.db < 0) {
      return BadUrl(url, "database number must be a non-negative integer");
    }
    rest = rest.substr(0, slash);
  }
  size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    r.host = std::string(rest);
  } else {
    r.host = std::string(rest.substr(0, colon));
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &r.port)) {
      return BadUrl(url, "port must be a number");
    }
  }
  if (r.host.empty()) return BadUrl(url, "missing host");
  return r;
}

}  // namespace

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
  if (absl::ConsumePrefix(&rest, "redis://")) {
    absl::StatusOr<RedisStoreOptions> o = ParseRedisUrl(url, rest, options);
    if (!o.ok()) return o.status();
    absl::StatusOr<std::unique_ptr<RedisStore>> s = RedisStore::Create(*std::move(o));
    if (!s.ok()) return s.status();
    return std::unique_ptr<Store>(*std::move(s));
  }
  return BadUrl(url, "unknown scheme");
}

}  // namespace sslshim::certstore
