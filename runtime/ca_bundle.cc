#include "runtime/ca_bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "openssl/err.h"
#include "pki/bounded_file.h"
#include "shim/errors.h"

namespace sslshim::runtime {
namespace {

CaBundle::FileId IdOf(const struct stat& st) {
  return {.dev = st.st_dev,
          .ino = st.st_ino,
          .size = st.st_size,
          .mtime_ns =
              static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

}  // namespace

absl::StatusOr<std::shared_ptr<CaBundle>> CaBundle::Create(CaBundleOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the default CA bundle path is empty; ", options.how_to_change));
  }
  return std::shared_ptr<CaBundle>(new CaBundle(std::move(options)));
}

absl::Time CaBundle::Now() const { return options_.now ? options_.now() : absl::Now(); }

absl::Status CaBundle::Error(absl::string_view what) const {
  return absl::FailedPreconditionError(absl::StrCat(
      "default CA bundle ", options_.path, ": ", what, "; ", options_.how_to_change));
}

absl::StatusOr<std::shared_ptr<const CaBundle::Snapshot>> CaBundle::Load(
    uint64_t generation) {
  // pki's reader: regular files only (a FIFO at SSL_CERT_FILE blocked in
  // open(2) here), bounded while reading.
  // Stat first: a file replaced while we read gets a new id, so the next
  // check reloads it rather than keeping stale bytes under a fresh id.
  struct stat st;
  if (::stat(options_.path.c_str(), &st) != 0) return Error(std::strerror(errno));
  absl::StatusOr<std::string> read =
      pki::ReadBoundedFile(options_.path, options_.max_bytes);
  if (!read.ok()) return Error(read.status().message());
  const std::string bytes = *std::move(read);
  if (bytes.empty()) return Error("the file is empty");

  absl::StatusOr<std::shared_ptr<const shim::CaSet>> cas =
      shim::CredentialCache::Default().GetCaSet(bytes, "CA bundle");
  if (!cas.ok()) {
    return Error(absl::StrCat("no usable CA certificate (", cas.status().message(), ")"));
  }
  auto snap = std::make_shared<Snapshot>();
  snap->cas = *std::move(cas);
  snap->store.reset(X509_STORE_new());
  if (snap->store == nullptr) {
    return absl::InternalError("default CA bundle: out of memory");
  }
  absl::Status added = shim::AddCertsToStore(snap->store.get(), snap->cas->certs,
                                               "default CA bundle");
  if (!added.ok()) return added;
  snap->id = IdOf(st);
  snap->generation = generation;
  ++loads_;
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

absl::StatusOr<std::shared_ptr<const CaBundle::Snapshot>> CaBundle::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = Now();
  if (current_ != nullptr && now < next_check_) return current_;
  next_check_ = now + options_.recheck_interval;
  if (current_ != nullptr) {
    struct stat st;
    if (::stat(options_.path.c_str(), &st) != 0) {
      last_error_ =
          Error(absl::StrCat(std::strerror(errno), " (keeping the bundle read before)"));
      return current_;
    }
    if (IdOf(st) == current_->id) return current_;
  }
  absl::StatusOr<std::shared_ptr<const Snapshot>> snap =
      Load(current_ == nullptr ? 1 : current_->generation + 1);
  if (!snap.ok()) {
    if (current_ == nullptr) {
      next_check_ = absl::InfinitePast();  // Retry at the next call.
      return snap.status();
    }
    last_error_ =
        Error(absl::StrCat(snap.status().message(), " (keeping the bundle read before)"));
    return current_;
  }
  current_ = *std::move(snap);
  last_error_ = absl::OkStatus();
  return current_;
}

absl::Status CaBundle::InstallShared(shim::SSLContext& ctx) {
  absl::StatusOr<std::shared_ptr<const Snapshot>> snap = Get();
  if (!snap.ok()) return snap.status();
  X509_STORE* store = (*snap)->store.get();
  X509_STORE_up_ref(store);
  SSL_CTX_set_cert_store(ctx.native(), store);  // Takes the reference.
  return absl::OkStatus();
}

absl::Status CaBundle::CopyInto(shim::SSLContext& ctx) {
  absl::StatusOr<std::shared_ptr<const Snapshot>> snap = Get();
  if (!snap.ok()) return snap.status();
  return shim::AddCertsToStore(SSL_CTX_get_cert_store(ctx.native()), (*snap)->cas->certs,
                               "default CA bundle");
}

uint64_t CaBundle::loads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return loads_;
}

absl::Status CaBundle::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

}  // namespace sslshim::runtime
