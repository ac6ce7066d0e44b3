// secure_bytes.h: SecureBytes, a move-only byte string that is wiped with
// OPENSSL_cleanse when it is destroyed or reassigned. Credential bytes (keys
// above all) live in SecureBytes between a reader and BoringSSL's parser.

#ifndef SSLSHIM_SHIM_SECURE_BYTES_H_
#define SSLSHIM_SHIM_SECURE_BYTES_H_

#include <string>

#include "absl/strings/string_view.h"

namespace sslshim::shim {

// SecureBytes owns a byte string and wipes it on destruction. Move-only.
class SecureBytes {
 public:
  SecureBytes() = default;
  // Takes `bytes`; the moved-from string is left empty.
  explicit SecureBytes(std::string&& bytes);
  SecureBytes(SecureBytes&& other) noexcept;
  SecureBytes& operator=(SecureBytes&& other) noexcept;
  SecureBytes(const SecureBytes&) = delete;
  SecureBytes& operator=(const SecureBytes&) = delete;
  ~SecureBytes();

  absl::string_view view() const { return bytes_; }
  const char* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  // Wipe zeroes and empties the bytes now.
  void Wipe();

 private:
  std::string bytes_;
};

// WipeString zeroes every byte of `s` (including spare capacity) and clears it.
void WipeString(std::string& s);

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_SECURE_BYTES_H_
