// credentials_fuzzer.cc: libFuzzer target for shim/credentials.h and the
// credential cache. The first input byte picks the parser; the rest is the
// credential bytes. Every input must end in a value or an InvalidArgument
// SSLError with BoringSSL's error queue left empty.
//
// Built with clang only, on request (the target is tagged manual):
//   CC=clang-14 bazel --output_base=/root/.cache/bazel_fuzz build \
//     //tests/fuzz:credentials_fuzzer --copt=-fsanitize=fuzzer-no-link,address
//   bazel-bin/tests/fuzz/credentials_fuzzer -max_total_time=60
// (its own output base, so the gcc build's cache is left alone).

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "openssl/err.h"
#include "shim/credential_cache.h"
#include "shim/credentials.h"
#include "shim/errors.h"

namespace {

using ::sslshim::shim::ErrorKind;
using ::sslshim::shim::Password;

void Check(const absl::Status& s) {
  if (s.ok()) return;
  if (s.code() != absl::StatusCode::kInvalidArgument ||
      sslshim::shim::GetErrorKind(s) != ErrorKind::kSSLError || ERR_peek_error() != 0) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  absl::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  static sslshim::shim::CredentialCache* const cache =
      new sslshim::shim::CredentialCache(4);
  switch (data[0] % 7) {
    case 0:
      Check(sslshim::shim::ParseCertChain(bytes, "certfile").status());
      break;
    case 1:
      Check(sslshim::shim::ParseCaCertificates(bytes, "cadata").status());
      break;
    case 2:
      Check(sslshim::shim::ParseCrls(bytes, "crl").status());
      break;
    case 3:
      sslshim::shim::IsEncryptedPrivateKey(bytes);
      Check(sslshim::shim::ParsePrivateKey(bytes, Password::Of("pw"), "keyfile").status());
      break;
    case 4:
      Check(sslshim::shim::ParsePkcs12(bytes, Password::Of("pw"), "pkcs12").status());
      break;
    case 5:
      Check(cache->GetCertAndKey(bytes, "", Password::Of("pw")).status());
      break;
    default: {
      size_t half = bytes.size() / 2;
      Check(cache->GetCertAndKey(bytes.substr(0, half), bytes.substr(half),
                                 Password::None())
                .status());
      break;
    }
  }
  return 0;
}
