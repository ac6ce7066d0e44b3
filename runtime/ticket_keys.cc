#include "runtime/ticket_keys.h"

#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "openssl/cipher.h"
#include "openssl/hmac.h"
#include "openssl/rand.h"
#include "openssl/ssl.h"
#include "shim/ssl_socket.h"

namespace sslshim::runtime {
namespace {

constexpr char kMagic[] = "STK1";
constexpr char kField[] = "ticket_keys";
constexpr size_t kKeyBytes = 16 + 32 + 32;

TicketKey FreshKey() {
  TicketKey k;
  RAND_bytes(k.name.data(), k.name.size());
  RAND_bytes(k.aes_key.data(), k.aes_key.size());
  RAND_bytes(k.hmac_key.data(), k.hmac_key.size());
  return k;
}

std::string Encode(const std::vector<TicketKey>& keys, int64_t rotated_at) {
  std::string out(kMagic, 4);
  for (int i = 7; i >= 0; --i) {
    out.push_back(static_cast<char>((static_cast<uint64_t>(rotated_at) >> (8 * i)) & 0xff));
  }
  out.push_back(static_cast<char>(keys.size()));
  for (const TicketKey& k : keys) {
    out.append(reinterpret_cast<const char*>(k.name.data()), k.name.size());
    out.append(reinterpret_cast<const char*>(k.aes_key.data()), k.aes_key.size());
    out.append(reinterpret_cast<const char*>(k.hmac_key.data()), k.hmac_key.size());
  }
  return out;
}

absl::Status Decode(absl::string_view in, std::vector<TicketKey>* keys,
                    int64_t* rotated_at) {
  if (in.size() < 13 || in.substr(0, 4) != kMagic) {
    return absl::DataLossError("ticket key record: bad header");
  }
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | static_cast<uint8_t>(in[4 + i]);
  const size_t count = static_cast<uint8_t>(in[12]);
  if (count < 1 || count > 2 || in.size() != 13 + count * kKeyBytes) {
    return absl::DataLossError(
        absl::StrCat("ticket key record: bad size ", in.size(), " for ", count, " keys"));
  }
  keys->clear();
  const char* p = in.data() + 13;
  for (size_t i = 0; i < count; ++i) {
    TicketKey k;
    std::memcpy(k.name.data(), p, 16);
    std::memcpy(k.aes_key.data(), p + 16, 32);
    std::memcpy(k.hmac_key.data(), p + 48, 32);
    p += kKeyBytes;
    keys->push_back(k);
  }
  *rotated_at = static_cast<int64_t>(t);
  return absl::OkStatus();
}

std::string Hex(const std::array<uint8_t, 16>& name) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(name.data()), name.size()));
}

void FreeManagerRef(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/,
                    int /*index*/, long /*argl*/, void* /*argp*/) {
  delete static_cast<std::shared_ptr<TicketKeyManager>*>(ptr);
}

int ExIndex() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, &FreeManagerRef);
  return index;
}

}  // namespace

TicketKeyManager::TicketKeyManager(certstore::Store* store,
                                   const certstore::Kek& kek,
                                   TicketKeyOptions options)
    : store_(store), kek_(kek), options_(std::move(options)) {}

TicketKeyManager::~TicketKeyManager() { Stop(); }

absl::Time TicketKeyManager::Now() const {
  return options_.now ? options_.now() : absl::Now();
}

absl::StatusOr<std::shared_ptr<TicketKeyManager>> TicketKeyManager::Create(
    certstore::Store* store, const certstore::Kek& kek, TicketKeyOptions options) {
  if (store == nullptr) return absl::InvalidArgumentError("TicketKeyManager: null store");
  if (options.path.elements().empty()) {
    return absl::InvalidArgumentError("TicketKeyManager: empty record path");
  }
  std::shared_ptr<TicketKeyManager> m(
      new TicketKeyManager(store, kek, std::move(options)));
  absl::Status s = m->Load();
  if (absl::IsNotFound(s)) {
    absl::StatusOr<uint64_t> gen =
        m->Write({FreshKey()}, m->Now(), certstore::kMustNotExist);
    // Another host created it first: adopt theirs.
    s = gen.ok() ? absl::OkStatus() : absl::IsAborted(gen.status()) ? m->Load() : gen.status();
  }
  if (!s.ok()) return s;
  return m;
}

absl::Status TicketKeyManager::Load() {
  absl::StatusOr<certstore::StoreEntry> e = store_->Get(options_.path);
  if (!e.ok()) return e.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (e->generation == generation_) return absl::OkStatus();
  }
  absl::StatusOr<certstore::SecretBytes> plain =
      certstore::Unseal(&kek_, options_.path, kField, e->value);
  if (!plain.ok()) return plain.status();
  std::vector<TicketKey> keys;
  int64_t rotated_at = 0;
  absl::Status s = Decode(plain->view(), &keys, &rotated_at);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  if (e->generation <= generation_) return absl::OkStatus();  // Raced: newer held.
  keys_ = std::move(keys);
  rotated_at_ = absl::FromUnixSeconds(rotated_at);
  generation_ = e->generation;
  ++reloads_;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> TicketKeyManager::Write(const std::vector<TicketKey>& keys,
                                                 absl::Time rotated_at,
                                                 uint64_t expected) {
  const int64_t when = absl::ToUnixSeconds(rotated_at);
  std::string plain = Encode(keys, when);
  absl::StatusOr<std::string> sealed = certstore::Seal(kek_, options_.path, kField, plain);
  OPENSSL_cleanse(plain.data(), plain.size());
  if (!sealed.ok()) return sealed.status();
  absl::StatusOr<uint64_t> gen = store_->Put(options_.path, *sealed, expected);
  if (!gen.ok()) return gen.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (*gen > generation_) {
    keys_ = keys;
    rotated_at_ = absl::FromUnixSeconds(when);
    generation_ = *gen;
  }
  return gen;
}

absl::Status TicketKeyManager::Reload() {
  absl::Status s = Load();
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = s;
  return s;
}

absl::StatusOr<bool> TicketKeyManager::Rotate() {
  std::vector<TicketKey> next;
  uint64_t expected = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    next.push_back(FreshKey());
    if (!keys_.empty()) next.push_back(keys_.front());
    expected = generation_;
  }
  absl::StatusOr<uint64_t> gen = Write(next, Now(), expected);
  if (gen.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++rotations_won_;
    return true;
  }
  if (!absl::IsAborted(gen.status())) {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = gen.status();
    return gen.status();
  }
  absl::Status s = Reload();  // Lost the race: adopt the winner's keys.
  if (!s.ok()) return s;
  return false;
}

absl::StatusOr<bool> TicketKeyManager::RotateIfDue() {
  if (options_.rotation_interval <= absl::ZeroDuration()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Now() - rotated_at_ < options_.rotation_interval) return false;
  }
  return Rotate();
}

absl::Status TicketKeyManager::Start() {
  std::lock_guard<std::mutex> lock(run_mu_);
  if (thread_.joinable()) return absl::FailedPreconditionError("already started");
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void TicketKeyManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    stopping_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

void TicketKeyManager::Run() {
  absl::StatusOr<std::unique_ptr<certstore::Watcher>> watcher =
      store_->Watch(options_.path);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(run_mu_);
      if (stopping_) return;
    }
    if (watcher.ok()) {
      // An event or a timeout both lead to a re-read (cheap: one Get).
      (void)(*watcher)->Next(options_.poll_interval);
    } else {
      std::unique_lock<std::mutex> lock(run_mu_);
      run_cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.poll_interval),
                       [this] { return stopping_; });
      if (stopping_) return;
      watcher = store_->Watch(options_.path);
    }
    if (Reload().ok()) (void)RotateIfDue();
  }
}

std::vector<TicketKey> TicketKeyManager::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_;
}

TicketKeyStats TicketKeyManager::Stats() const {
  TicketKeyStats st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    st.generation = generation_;
    if (!keys_.empty()) st.current_name_hex = Hex(keys_.front().name);
    st.rotations_won = rotations_won_;
    st.reloads = reloads_;
    st.last_error = last_error_;
  }
  st.issued = issued_.load();
  st.opened_current = opened_current_.load();
  st.opened_previous = opened_previous_.load();
  st.unknown_key = unknown_key_.load();
  return st;
}

absl::Status TicketKeyManager::Install(shim::SSLContext& ctx) {
  SSL_CTX* raw = ctx.native();
  const int index = ExIndex();
  if (index < 0) return absl::InternalError("SSL_CTX_get_ex_new_index failed");
  if (SSL_CTX_get_ex_data(raw, index) != nullptr) return absl::OkStatus();
  auto* ref = new std::shared_ptr<TicketKeyManager>(shared_from_this());
  if (!SSL_CTX_set_ex_data(raw, index, ref)) {
    delete ref;
    return absl::InternalError("SSL_CTX_set_ex_data failed");
  }
  if (!SSL_CTX_set_tlsext_ticket_key_cb(raw, &TicketKeyManager::TicketCallback)) {
    return absl::InternalError("SSL_CTX_set_tlsext_ticket_key_cb failed");
  }
  return absl::OkStatus();
}

int TicketKeyManager::TicketCallback(SSL* ssl, uint8_t* key_name, uint8_t* iv,
                                     EVP_CIPHER_CTX* cipher_ctx,
                                     HMAC_CTX* hmac_ctx, int encrypt) {
  // Tickets belong to the context the connection was wrapped with, even when
  // an SNI callback switched its certificate to another context.
  SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
  if (auto* sock = static_cast<shim::SSLSocket*>(SSL_get_app_data(ssl))) {
    ctx = sock->session_context()->native();
  }
  auto* ref = static_cast<std::shared_ptr<TicketKeyManager>*>(
      SSL_CTX_get_ex_data(ctx, ExIndex()));
  if (ref == nullptr) return encrypt ? -1 : 0;
  return (*ref)->OnTicket(key_name, iv, cipher_ctx, hmac_ctx, encrypt != 0);
}

int TicketKeyManager::OnTicket(uint8_t* key_name, uint8_t* iv,
                               EVP_CIPHER_CTX* cipher_ctx, HMAC_CTX* hmac_ctx,
                               bool encrypt) {
  TicketKey key;
  bool previous = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (keys_.empty()) return encrypt ? -1 : 0;
    if (encrypt) {
      key = keys_.front();
    } else {
      size_t i = 0;
      while (i < keys_.size() && std::memcmp(keys_[i].name.data(), key_name, 16) != 0) ++i;
      if (i == keys_.size()) {
        ++unknown_key_;
        return 0;  // Not ours (or older than previous): full handshake.
      }
      key = keys_[i];
      previous = i > 0;
    }
  }
  int ok = 0;
  if (encrypt) {
    std::memcpy(key_name, key.name.data(), 16);
    if (!RAND_bytes(iv, EVP_CIPHER_iv_length(EVP_aes_256_cbc()))) return -1;
    ok = EVP_EncryptInit_ex(cipher_ctx, EVP_aes_256_cbc(), nullptr,
                            key.aes_key.data(), iv);
  } else {
    ok = EVP_DecryptInit_ex(cipher_ctx, EVP_aes_256_cbc(), nullptr,
                            key.aes_key.data(), iv);
  }
  ok = ok && HMAC_Init_ex(hmac_ctx, key.hmac_key.data(), key.hmac_key.size(),
                          EVP_sha256(), nullptr);
  OPENSSL_cleanse(&key, sizeof(key));
  if (!ok) return encrypt ? -1 : 0;
  if (encrypt) {
    ++issued_;
    return 1;
  }
  if (previous) {
    ++opened_previous_;
    return 2;  // Renew under the current key.
  }
  ++opened_current_;
  return 1;
}

namespace {

class TicketKeyProvider : public ContextProvider {
 public:
  TicketKeyProvider(std::shared_ptr<ContextProvider> inner,
                    std::shared_ptr<TicketKeyManager> keys)
      : inner_(std::move(inner)), keys_(std::move(keys)) {}

  absl::StatusOr<std::shared_ptr<shim::SSLContext>> Current() override {
    absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx = inner_->Current();
    if (!ctx.ok()) return ctx;
    // Fast path: the same context as last time is already decorated.
    if (last_.load(std::memory_order_acquire) == ctx->get()) return ctx;
    std::lock_guard<std::mutex> lock(mu_);
    absl::Status s = keys_->Install(**ctx);
    if (!s.ok()) return s;
    last_ctx_ = *ctx;  // Held, so its address is not reused while cached.
    last_.store(ctx->get(), std::memory_order_release);
    return ctx;
  }

 private:
  std::shared_ptr<ContextProvider> inner_;
  std::shared_ptr<TicketKeyManager> keys_;
  std::mutex mu_;
  std::shared_ptr<shim::SSLContext> last_ctx_;  // Guarded by mu_.
  std::atomic<const shim::SSLContext*> last_{nullptr};
};

}  // namespace

std::shared_ptr<ContextProvider> WithTicketKeys(std::shared_ptr<ContextProvider> inner,
                                                std::shared_ptr<TicketKeyManager> keys) {
  return std::make_shared<TicketKeyProvider>(std::move(inner), std::move(keys));
}

}  // namespace sslshim::runtime
