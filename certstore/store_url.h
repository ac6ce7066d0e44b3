// store_url.h
// -----------------------------------------------------------------------------
// OpenStore() turns a store URL into a Store:
//   memory:                                   a fresh in-process MemoryStore
//   lmdb:PATH                                 LmdbStore in directory PATH
//   redis://[USER[:PASSWORD]@]HOST:PORT[/DB][?namespace=NS]
//                                             RedisStore
//
//   absl::StatusOr<std::unique_ptr<Store>> s = OpenStore("lmdb:/srv/certs");

#ifndef SSLSHIM_CERTSTORE_STORE_URL_H_
#define SSLSHIM_CERTSTORE_STORE_URL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "certstore/store.h"

namespace sslshim::certstore {

// OpenStoreOptions carries what a URL does not.
struct OpenStoreOptions {
  std::string redis_password;  // Used when the URL has none.
  absl::Duration redis_timeout = absl::Seconds(2);
};

// OpenStore() parses `url` and opens the store. Errors: InvalidArgument for
// an unknown scheme or malformed URL (the message lists the accepted forms),
// and the backend's Create() errors.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url,
                                                 const OpenStoreOptions& options = {});

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_STORE_URL_H_
