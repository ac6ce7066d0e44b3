#include "runtime/credential_slot.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sslshim::runtime {
namespace {

int64_t UnixSeconds(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixSeconds(t);
}

}  // namespace

shim::PyValue SlotStatus::ToPyValue() const {
  return shim::PyValue::Dict({
      {"name", shim::PyValue::Str(name)},
      {"generation", shim::PyValue::Int(static_cast<int64_t>(generation))},
      {"last_error", shim::PyValue::Str(last_error)},
      {"last_change", shim::PyValue::Int(UnixSeconds(last_change))},
      {"last_check", shim::PyValue::Int(UnixSeconds(last_check))},
      {"loads", shim::PyValue::Int(static_cast<int64_t>(loads))},
      {"failures", shim::PyValue::Int(static_cast<int64_t>(failures))},
      {"watching", shim::PyValue::Int(watching ? 1 : 0)},
  });
}

CredentialSlot::CredentialSlot(certstore::CertStore* store, certstore::KeyPath path,
                               ContextFactory factory, SlotOptions options)
    : store_(store),
      path_(std::move(path)),
      factory_(std::move(factory)),
      options_(std::move(options)) {
  status_.name = absl::StrCat("store:", path_.ToString());
  status_.last_change = absl::InfinitePast();
  status_.last_check = absl::InfinitePast();
}

absl::StatusOr<std::unique_ptr<CredentialSlot>> CredentialSlot::Create(
    certstore::CertStore* store, certstore::KeyPath path, ContextFactory factory,
    SlotOptions options) {
  if (store == nullptr || !factory) {
    return absl::InvalidArgumentError("CredentialSlot needs a store and a factory");
  }
  if (!(options.recheck_interval > absl::ZeroDuration())) {
    return absl::InvalidArgumentError(
        absl::StrCat("CredentialSlot recheck_interval must be positive, not ",
                     absl::FormatDuration(options.recheck_interval)));
  }
  std::unique_ptr<CredentialSlot> slot(
      new CredentialSlot(store, std::move(path), std::move(factory), std::move(options)));
  absl::Status s = slot->Refresh();
  if (!s.ok()) return s;
  if (slot->options_.watch) {
    slot->watch_thread_ = std::thread([raw = slot.get()] { raw->WatchLoop(); });
  }
  return slot;
}

CredentialSlot::~CredentialSlot() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (watch_thread_.joinable()) watch_thread_.join();
}

std::shared_ptr<shim::SSLContext> CredentialSlot::Current() {
  if (!options_.watch) {
    absl::Time last_check;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_check = status_.last_check;
    }
    if (absl::Now() - last_check >= options_.recheck_interval) {
      (void)Refresh();  // Errors are kept in status(); serve the last good.
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

absl::Status CredentialSlot::Refresh() {
  std::lock_guard<std::mutex> refresh_lock(refresh_mu_);
  auto fail = [this](absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    status_.last_check = absl::Now();
    status_.last_error = s.ToString();
    ++status_.failures;
    return s;
  };
  absl::StatusOr<certstore::Record> record = store_->Get(path_);
  if (!record.ok()) return fail(record.status());
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Generation and fingerprint: a store that lost its data (a Redis
    // restart without persistence) starts generations again from 1.
    if (current_ != nullptr && record->generation == status_.generation &&
        record->metadata.sha256_fingerprint == loaded_fingerprint_ &&
        record->metadata.written_at == loaded_written_at_) {
      status_.last_check = absl::Now();
      status_.last_error.clear();  // The store answers again (e.g. repaired).
      return absl::OkStatus();
    }
  }
  if (record->generation == failed_generation_ &&
      record->metadata.written_at == failed_written_at_) {
    // This generation already failed to load: don't re-parse it each check.
    std::lock_guard<std::mutex> lock(mu_);
    status_.last_check = absl::Now();
    return absl::FailedPreconditionError(status_.last_error);
  }
  CredentialBytes bytes;
  bytes.generation = record->generation;
  struct {
    const std::string& name;
    shim::SecureBytes* out;
  } const fields[] = {{options_.cert_field, &bytes.cert},
                      {options_.key_field, &bytes.key},
                      {options_.ca_field, &bytes.ca}};
  for (const auto& f : fields) {
    if (f.name.empty()) continue;
    absl::StatusOr<certstore::SecretBytes> value = store_->ReadField(*record, f.name);
    if (!value.ok()) {
      failed_generation_ = record->generation;
      failed_written_at_ = record->metadata.written_at;
      return fail(value.status());
    }
    *f.out = shim::SecureBytes(std::string(value->view()));
  }
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx = factory_(bytes);
  if (!ctx.ok()) {
    failed_generation_ = record->generation;
    failed_written_at_ = record->metadata.written_at;
    return fail(
        absl::Status(ctx.status().code(),
                     absl::StrCat(status_.name, " generation ", record->generation, ": ",
                                  ctx.status().message())));
  }
  std::lock_guard<std::mutex> lock(mu_);
  current_ = *std::move(ctx);
  status_.generation = record->generation;
  loaded_fingerprint_ = record->metadata.sha256_fingerprint;
  loaded_written_at_ = record->metadata.written_at;
  status_.last_change = status_.last_check = absl::Now();
  status_.last_error.clear();
  ++status_.loads;
  return absl::OkStatus();
}

SlotStatus CredentialSlot::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

void CredentialSlot::WatchLoop() {
  std::unique_ptr<certstore::Watcher> watcher;
  absl::Time last_poll = absl::Now();
  // Short waits so destruction is prompt; polls only every recheck_interval.
  const absl::Duration tick =
      std::min(options_.recheck_interval, absl::Milliseconds(200));
  while (!stop_) {
    if (watcher == nullptr) {
      absl::StatusOr<std::unique_ptr<certstore::Watcher>> w =
          store_->store()->Watch(path_);
      if (w.ok()) {
        watcher = *std::move(w);
        (void)Refresh();  // Catch changes made while not watching.
      }
      std::lock_guard<std::mutex> lock(mu_);
      status_.watching = watcher != nullptr;
    }
    bool changed = false;
    if (watcher != nullptr) {
      absl::StatusOr<absl::optional<certstore::WatchEvent>> ev = watcher->Next(tick);
      if (!ev.ok()) {
        // A failing watch (store down, damaged file) returns at once: drop
        // it, report it, and wait a tick before watching again, so the loop
        // never spins.
        watcher.reset();
        {
          std::lock_guard<std::mutex> lock(mu_);
          status_.watching = false;
          status_.last_error = absl::StrCat("watch: ", ev.status().ToString());
          ++status_.failures;
        }
        std::unique_lock<std::mutex> lock(stop_mu_);
        stop_cv_.wait_for(lock, absl::ToChronoMilliseconds(tick),
                          [this] { return stop_.load(); });
      } else if (ev->has_value()) {
        changed =
            (*ev)->type == certstore::WatchEvent::Type::kResync || (*ev)->path == path_;
      }
    } else {
      std::unique_lock<std::mutex> lock(stop_mu_);
      stop_cv_.wait_for(lock, absl::ToChronoMilliseconds(tick),
                        [this] { return stop_.load(); });
    }
    if (stop_) break;
    if (changed || absl::Now() - last_poll >= options_.recheck_interval) {
      last_poll = absl::Now();
      (void)Refresh();
    }
  }
}

}  // namespace sslshim::runtime
