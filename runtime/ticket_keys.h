// ticket_keys.h
// -----------------------------------------------------------------------------
// TicketKeyManager: fleet-wide TLS session-ticket keys kept in the store, so
// a client that got a ticket from host A resumes on host B. The keys are one
// record (sealed with the KEK: they are secrets), rotated on a schedule; the
// current key issues new tickets and the previous one still opens (and
// renews) tickets issued before the last rotation.
//
//   absl::StatusOr<std::shared_ptr<TicketKeyManager>> keys =
//       TicketKeyManager::Create(store, kek,
//                                {.path = *KeyPath::Parse("TicketKeys/web"),
//                                 .rotation_interval = absl::Hours(12)});
//   (*keys)->Start();                   // follow the record, rotate when due
//   (*keys)->Install(*server_ctx);      // or wrap a ContextProvider:
//   auto provider = WithTicketKeys(FixedContextProvider(server_ctx), *keys);
//
// Record layout (before sealing; stored as Seal(kek, path, "ticket_keys", ..)):
//   "STK1" | rotated_at (int64 BE, Unix s) | count (1 byte, 1 or 2) |
//   count x { name (16) | aes_key (32) | hmac_key (32) }, current first.
// Tickets: AES-256-CBC + HMAC-SHA256 through SSL_CTX_set_tlsext_ticket_key_cb.
//
// Rotation is a compare-and-set on the record's generation: when several
// hosts find a rotation due at once, exactly one write wins and the others
// re-read and adopt its keys. Every host follows the record with Watch (and
// re-reads it at each poll interval), so all hosts converge on the same keys.
//
// Thread-safety: every method may be called from any thread; the ticket
// callback runs on server handshake threads and only takes a short lock.

#ifndef SSLSHIM_RUNTIME_TICKET_KEYS_H_
#define SSLSHIM_RUNTIME_TICKET_KEYS_H_

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "certstore/key_path.h"
#include "certstore/sealing.h"
#include "certstore/store.h"
#include "runtime/context_provider.h"
#include "shim/ssl_context.h"

namespace sslshim::runtime {

// TicketKey is one ticket-encryption key.
struct TicketKey {
  std::array<uint8_t, 16> name{};  // Public: sent in each ticket.
  std::array<uint8_t, 32> aes_key{};
  std::array<uint8_t, 32> hmac_key{};
};

// TicketKeyOptions configures a TicketKeyManager.
struct TicketKeyOptions {
  // The record holding the fleet's keys (same path on every host).
  certstore::KeyPath path;
  // A rotation is due this long after the last one. Zero: never rotate on a
  // schedule (Rotate() still works).
  absl::Duration rotation_interval = absl::Hours(12);
  // Start()'s thread waits this long for a watch event before re-reading
  // the record and checking whether a rotation is due.
  absl::Duration poll_interval = absl::Seconds(5);
  // Clock (nullptr: absl::Now), for tests.
  std::function<absl::Time()> now;
};

// TicketKeyStats: counters since Create().
struct TicketKeyStats {
  uint64_t generation = 0;  // Of the record the keys came from.
  std::string current_name_hex;
  uint64_t issued = 0;            // Tickets encrypted.
  uint64_t opened_current = 0;    // Tickets decrypted with the current key.
  uint64_t opened_previous = 0;   // ... with the previous key (renewed).
  uint64_t unknown_key = 0;       // Tickets under no key we hold.
  uint64_t rotations_won = 0;     // Rotations this host wrote.
  uint64_t reloads = 0;           // Records adopted from the store.
  absl::Status last_error;        // Last failed reload/rotation (OK if none).
};

class TicketKeyManager : public std::enable_shared_from_this<TicketKeyManager> {
 public:
  // Create loads the key record, or creates it (compare-and-set: when two
  // hosts create it at once, one wins and the other adopts). `store` must
  // outlive the manager. Errors: the store's (Unavailable, ...), DataLoss or
  // FailedPrecondition when the record does not unseal under `kek` or is
  // malformed.
  static absl::StatusOr<std::shared_ptr<TicketKeyManager>> Create(
      certstore::Store* store, const certstore::Kek& kek,
      TicketKeyOptions options);

  // Stops the thread (if started).
  ~TicketKeyManager();
  TicketKeyManager(const TicketKeyManager&) = delete;
  TicketKeyManager& operator=(const TicketKeyManager&) = delete;

  // Install makes `ctx` (a server context) issue and open tickets with the
  // fleet keys. The context keeps the manager alive. Idempotent. Install on
  // the context sockets are wrapped with (with SNI, the default context).
  // Errors: Internal when BoringSSL refuses.
  absl::Status Install(shim::SSLContext& ctx);

  // Reload re-reads the record and adopts it if its generation changed.
  absl::Status Reload();

  // Rotate makes a new current key (the current one becomes previous) and
  // writes it with compare-and-set against the generation held. Returns true
  // when this host's write won; false when another host rotated first (its
  // keys are adopted). Errors: the store's.
  absl::StatusOr<bool> Rotate();

  // RotateIfDue rotates when rotation_interval has passed since the
  // record's last rotation. Returns whether this host rotated.
  absl::StatusOr<bool> RotateIfDue();

  // Start runs a thread that follows the record (Watch) and calls
  // RotateIfDue at each poll interval. Errors: FailedPrecondition if started.
  absl::Status Start();

  // Stop ends the thread; idempotent.
  void Stop();

  // Keys returns the keys in use, current first (for tests and status).
  std::vector<TicketKey> Keys() const;

  TicketKeyStats Stats() const;

 private:
  TicketKeyManager(certstore::Store* store, const certstore::Kek& kek,
                   TicketKeyOptions options);
  absl::Time Now() const;
  // Reads the record; NotFound when absent.
  absl::Status Load();
  // Writes `keys` (current first) rotated at `now` with CAS `expected`.
  absl::StatusOr<uint64_t> Write(const std::vector<TicketKey>& keys,
                                 absl::Time rotated_at, uint64_t expected);
  void Run();
  static int TicketCallback(SSL* ssl, uint8_t* key_name, uint8_t* iv,
                            EVP_CIPHER_CTX* cipher_ctx, HMAC_CTX* hmac_ctx,
                            int encrypt);
  int OnTicket(uint8_t* key_name, uint8_t* iv, EVP_CIPHER_CTX* cipher_ctx,
               HMAC_CTX* hmac_ctx, bool encrypt);

  certstore::Store* const store_;
  const certstore::Kek kek_;
  const TicketKeyOptions options_;

  mutable std::mutex mu_;
  std::vector<TicketKey> keys_;       // Guarded by mu_. Current first.
  absl::Time rotated_at_;             // Guarded by mu_.
  uint64_t generation_ = 0;           // Guarded by mu_.
  uint64_t rotations_won_ = 0;        // Guarded by mu_.
  uint64_t reloads_ = 0;              // Guarded by mu_.
  absl::Status last_error_;           // Guarded by mu_.
  std::atomic<uint64_t> issued_{0}, opened_current_{0}, opened_previous_{0},
      unknown_key_{0};

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stopping_ = false;  // Guarded by run_mu_.
  std::thread thread_;
};

// WithTicketKeys decorates `inner`: every context it returns has `keys`
// installed (once per context), so an HttpsServer's tickets resume across
// the fleet. Thread-safe like any ContextProvider.
std::shared_ptr<ContextProvider> WithTicketKeys(
    std::shared_ptr<ContextProvider> inner,
    std::shared_ptr<TicketKeyManager> keys);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_TICKET_KEYS_H_
