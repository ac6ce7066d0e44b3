#include "runtime/sni_provider.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "runtime/sni_index.h"
#include "shim/reader.h"
#include "shim/ssl_socket.h"

namespace sslshim::runtime {

SniProvider::SniProvider(certstore::CertStore* cert_store,
                         std::shared_ptr<shim::SSLContext> default_context,
                         SniProviderOptions options)
    : cert_store_(cert_store),
      default_context_(std::move(default_context)),
      options_(std::move(options)) {}

SniProvider::~SniProvider() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    stopping_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
}

absl::StatusOr<std::shared_ptr<SniProvider>> SniProvider::Create(
    certstore::CertStore* cert_store, std::shared_ptr<shim::SSLContext> default_context,
    SniProviderOptions options) {
  if (cert_store == nullptr || default_context == nullptr) {
    return absl::InvalidArgumentError("SniProvider: null store or default context");
  }
  if (options.cache_capacity == 0) {
    return absl::InvalidArgumentError("SniProvider: cache_capacity must be at least 1");
  }
  std::shared_ptr<SniProvider> p(
      new SniProvider(cert_store, std::move(default_context), std::move(options)));
  std::weak_ptr<SniProvider> weak = p;
  p->default_context_->set_sni_callback(
      [weak](shim::SSLSocket& sock, const absl::optional<std::string>& name,
             shim::SSLContext&) -> absl::Status {
        std::shared_ptr<SniProvider> self = weak.lock();
        if (self == nullptr) return absl::UnavailableError("SNI provider stopped");
        return self->OnSni(sock, name);
      });
  if (p->options_.watch) {
    // Watch before serving anything, so no change can slip in between.
    absl::StatusOr<std::unique_ptr<certstore::Watcher>> w =
        cert_store->store()->Watch(certstore::KeyPath());
    if (!w.ok()) return w.status();
    p->watcher_ = std::thread(
        [raw = p.get(), w = std::shared_ptr<certstore::Watcher>(*std::move(w))] {
          raw->Watch(w);
        });
  }
  return p;
}

absl::Status SniProvider::OnSni(shim::SSLSocket& sock,
                                const absl::optional<std::string>& name) {
  if (!name.has_value()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.no_sni;
    return absl::OkStatus();  // The default context's certificate.
  }
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx = ContextFor(*name);
  if (!ctx.ok()) return ctx.status();
  return sock.set_context(*std::move(ctx));
}

absl::StatusOr<std::shared_ptr<shim::SSLContext>> SniProvider::ContextFor(
    absl::string_view hostname) {
  std::string key = absl::AsciiStrToLower(hostname);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++stats_.hits;
      return it->second->context;
    }
  }
  // Miss: read and parse outside the lock (two threads may both load the
  // same name; the second insert just refreshes the entry).
  absl::StatusOr<Entry> loaded = Load(key);
  std::lock_guard<std::mutex> lock(mu_);
  if (!loaded.ok()) {
    (absl::IsNotFound(loaded.status()) ? stats_.unknown_names : stats_.load_errors)++;
    return loaded.status();
  }
  ++stats_.misses;
  auto it = index_.find(key);
  if (it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(*std::move(loaded));
  index_[key] = lru_.begin();
  while (lru_.size() > options_.cache_capacity) {
    index_.erase(lru_.back().hostname);
    lru_.pop_back();
    ++stats_.evictions;
  }
  return lru_.front().context;
}

absl::StatusOr<SniProvider::Entry> SniProvider::Load(const std::string& hostname) {
  absl::StatusOr<certstore::KeyPath> path = LookupSni(*cert_store_->store(), hostname);
  if (!path.ok()) return path.status();
  // The name is known from here on: a failure is the record's, never
  // NotFound (which means "unknown name" to the callback and the stats).
  auto fail = [&](const absl::Status& s) {
    return absl::Status(
        s.code() == absl::StatusCode::kNotFound ? absl::StatusCode::kFailedPrecondition
                                                : s.code(),
        absl::StrCat("SNI '", hostname, "': record ", path->ToString(), ": ", s.message()));
  };
  absl::StatusOr<certstore::Record> record = cert_store_->Get(*path);
  if (!record.ok()) return fail(record.status());
  absl::StatusOr<certstore::SecretBytes> cert =
      cert_store_->ReadField(*record, options_.cert_field);
  if (!cert.ok()) return fail(cert.status());
  absl::StatusOr<certstore::SecretBytes> key =
      cert_store_->ReadField(*record, options_.key_field);
  if (!key.ok()) return fail(key.status());
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
      shim::SSLContext::Create(shim::PROTOCOL_TLS_SERVER);
  if (!ctx.ok()) return fail(ctx.status());
  absl::Status s = (*ctx)->load_cert_chain(shim::StringIO(std::string(cert->view())),
                                           shim::StringIO(std::string(key->view())));
  if (!s.ok()) return fail(s);
  return Entry{hostname, path->ToString(), *std::move(ctx)};
}

void SniProvider::DropLocked(absl::string_view record) {
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (record.empty() || it->record == record) {
      index_.erase(it->hostname);
      it = lru_.erase(it);
      ++stats_.invalidations;
    } else {
      ++it;
    }
  }
}

void SniProvider::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  DropLocked("");
}

void SniProvider::Watch(std::shared_ptr<certstore::Watcher> watcher) {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(run_mu_);
      if (stopping_) return;
    }
    if (watcher == nullptr) {
      absl::StatusOr<std::unique_ptr<certstore::Watcher>> w =
          cert_store_->store()->Watch(certstore::KeyPath());
      if (!w.ok()) {
        absl::SleepFor(options_.watch_poll);
        continue;
      }
      watcher = *std::move(w);
      Invalidate();  // Changes while unwatched may have been missed.
    }
    absl::StatusOr<absl::optional<certstore::WatchEvent>> ev =
        watcher->Next(options_.watch_poll);
    if (!ev.ok() || !ev->has_value()) continue;  // Unavailable: it retries.
    const certstore::WatchEvent& e = **ev;
    std::lock_guard<std::mutex> lock(mu_);
    if (e.type == certstore::WatchEvent::Type::kResync ||
        (!e.path.elements().empty() && e.path.elements()[0].kind == kSniIndexKind)) {
      DropLocked("");  // Index changes are rare: start over.
    } else {
      DropLocked(e.path.ToString());
    }
  }
}

SniStats SniProvider::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SniStats s = stats_;
  s.size = lru_.size();
  return s;
}

}  // namespace sslshim::runtime
