#include "shim/secure_bytes.h"

#include <utility>

#include "openssl/mem.h"

namespace sslshim::shim {

void WipeString(std::string& s) {
  // Wipe the whole buffer, not just size(): earlier contents may remain in
  // the spare capacity.
  s.resize(s.capacity());
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

SecureBytes::SecureBytes(std::string&& bytes) : bytes_(std::move(bytes)) {}

SecureBytes::SecureBytes(SecureBytes&& other) noexcept
    : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

SecureBytes& SecureBytes::operator=(SecureBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

SecureBytes::~SecureBytes() { Wipe(); }

void SecureBytes::Wipe() { WipeString(bytes_); }

}  // namespace sslshim::shim
