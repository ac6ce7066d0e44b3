// credential_slot.h
// -----------------------------------------------------------------------------
// CredentialSlot keeps a ready SSLContext built from one certstore record
// (cert, key and optionally CA fields) and rebuilds it only when the
// record's generation changes. It is the hot path a server takes per
// handshake: Current() returns the cached context without touching the store
// or parsing anything. Changes are noticed by following the store's watch
// (a background thread) or, without watch, by re-reading the generation at
// most once per recheck interval.
//
//   absl::StatusOr<std::unique_ptr<CredentialSlot>> slot =
//       CredentialSlot::Create(cert_store, path, [](const CredentialBytes& b) {
//         return MakeServerContext(b);        // your context recipe
//       });
//   std::shared_ptr<shim::SSLContext> ctx = (*slot)->Current();
//
// When the store is unreachable, damaged underneath (DataLoss: a truncated
// or emptied LMDB file) or a newer record fails to load, the slot keeps
// serving the last good context and reports the error in status(); a watch
// that fails is dropped, reported and retried a tick later.
// Thread-safe: Current() and status() may be called from any thread.

#ifndef SSLSHIM_RUNTIME_CREDENTIAL_SLOT_H_
#define SSLSHIM_RUNTIME_CREDENTIAL_SLOT_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "certstore/cert_store.h"
#include "certstore/key_path.h"
#include "shim/py_value.h"
#include "shim/secure_bytes.h"
#include "shim/ssl_context.h"

namespace sslshim::runtime {

// CredentialBytes are the fields read from the record (wiped on destruction).
struct CredentialBytes {
  shim::SecureBytes cert;
  shim::SecureBytes key;
  shim::SecureBytes ca;  // Empty unless SlotOptions::ca_field is set.
  uint64_t generation = 0;
};

// ContextFactory builds a context from a record's bytes (e.g. load_cert_chain
// with StringIO readers over them). It runs on whichever thread refreshes.
using ContextFactory = std::function<absl::StatusOr<std::shared_ptr<shim::SSLContext>>(
    const CredentialBytes&)>;

// SlotOptions configures a CredentialSlot.
struct SlotOptions {
  std::string cert_field = "cert";
  std::string key_field = "key_str";
  std::string ca_field;  // Empty: no CA field is read.
  // Follow the store's watch in a background thread (rotation is seen as soon
  // as the store reports it); the generation is also re-read every
  // recheck_interval as a safety net. Without watch, Current() re-reads the
  // generation itself at most once per recheck_interval.
  bool watch = true;
  absl::Duration recheck_interval = absl::Seconds(5);
};

// SlotStatus describes a slot for status output.
struct SlotStatus {
  std::string name;         // "store:<path>"
  uint64_t generation = 0;  // Generation of the record behind Current().
  std::string last_error;   // Last refresh failure; empty after a success.
  absl::Time last_change;   // When Current() last changed.
  absl::Time last_check;    // When the store was last consulted.
  uint64_t loads = 0;       // Successful (re)loads.
  uint64_t failures = 0;    // Failed refreshes (store down, bad record).
  bool watching = false;    // A store watch is active.

  // ToPyValue renders the status as a dictionary (JSON-able).
  shim::PyValue ToPyValue() const;
};

class CredentialSlot {
 public:
  // Create loads the record at `path` from `store` (borrowed; must outlive
  // the slot) and builds the first context. Errors: the store's (NotFound,
  // Unavailable, FailedPrecondition for a missing KEK, DataLoss for a
  // damaged store), the factory's, and InvalidArgument for a null store or
  // factory or a recheck_interval that is not positive.
  static absl::StatusOr<std::unique_ptr<CredentialSlot>> Create(
      certstore::CertStore* store, certstore::KeyPath path, ContextFactory factory,
      SlotOptions options = {});

  // Stops the watch thread.
  ~CredentialSlot();
  CredentialSlot(const CredentialSlot&) = delete;
  CredentialSlot& operator=(const CredentialSlot&) = delete;

  // Current returns the newest context that loaded successfully. Never
  // fails; no store round trip unless (without watch) the recheck interval
  // has passed.
  std::shared_ptr<shim::SSLContext> Current();

  // Refresh consults the store now and reloads if the generation changed.
  // Returns the refresh's error (the slot keeps its last good context).
  absl::Status Refresh();

  // status returns a snapshot for status output.
  SlotStatus status() const;

 private:
  CredentialSlot(certstore::CertStore* store, certstore::KeyPath path,
                 ContextFactory factory, SlotOptions options);
  void WatchLoop();

  certstore::CertStore* const store_;
  const certstore::KeyPath path_;
  const ContextFactory factory_;
  const SlotOptions options_;

  std::mutex refresh_mu_;           // Serializes Refresh().
  uint64_t failed_generation_ = 0;  // Guarded by refresh_mu_.
  int64_t failed_written_at_ = 0;   // Guarded by refresh_mu_.
  mutable std::mutex mu_;           // Guards the fields below.
  std::shared_ptr<shim::SSLContext> current_;
  SlotStatus status_;
  std::string loaded_fingerprint_;  // Of the record behind current_.
  int64_t loaded_written_at_ = 0;

  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::thread watch_thread_;
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_CREDENTIAL_SLOT_H_
