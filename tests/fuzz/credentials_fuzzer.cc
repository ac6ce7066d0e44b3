// credentials_fuzzer.cc: libFuzzer target for shim/credentials.h (PEM/DER
// certificates, CA bundles, CRLs, private keys, PKCS#12) and the credential
// cache.
//
// Input: selector byte (which parser), then the credential bytes; selector
// 6 splits them in half into certificate and key. Contract: every input ends
// in a value or an InvalidArgument of kind SSLError on one line; BoringSSL's
// error queue is left empty either way; no crash, leak or UB.

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "shim/credential_cache.h"
#include "shim/credentials.h"
#include "shim/errors.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using ::sslshim::shim::ErrorKind;
using ::sslshim::shim::Password;

void Check(const absl::Status& s, absl::string_view what) {
  sslshim::fuzz::CheckCode(s, {absl::StatusCode::kInvalidArgument}, what);
  FUZZ_CHECK(s.ok() || sslshim::shim::GetErrorKind(s) == ErrorKind::kSSLError,
             "error without kind SSLError");
  sslshim::fuzz::CheckErrorQueueEmpty(what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sslshim::fuzz::FuzzInput in(data, size);
  const uint8_t selector = in.Byte();
  const absl::string_view bytes = in.Rest();
  static sslshim::shim::CredentialCache* const cache =
      new sslshim::shim::CredentialCache(4);
  switch (selector % 7) {
    case 0:
      Check(sslshim::shim::ParseCertChain(bytes, "certfile").status(), "ParseCertChain");
      break;
    case 1:
      Check(sslshim::shim::ParseCaCertificates(bytes, "cadata").status(),
            "ParseCaCertificates");
      break;
    case 2:
      Check(sslshim::shim::ParseCrls(bytes, "crl").status(), "ParseCrls");
      break;
    case 3:
      sslshim::shim::IsEncryptedPrivateKey(bytes);
      sslshim::fuzz::CheckErrorQueueEmpty("IsEncryptedPrivateKey");
      Check(sslshim::shim::ParsePrivateKey(bytes, Password::Of("pw"), "keyfile").status(),
            "ParsePrivateKey");
      break;
    case 4:
      Check(sslshim::shim::ParsePkcs12(bytes, Password::Of("pw"), "pkcs12").status(),
            "ParsePkcs12");
      break;
    case 5:
      Check(cache->GetCertAndKey(bytes, "", Password::Of("pw")).status(),
            "GetCertAndKey");
      break;
    default: {
      const size_t half = bytes.size() / 2;
      Check(
          cache
              ->GetCertAndKey(bytes.substr(0, half), bytes.substr(half), Password::None())
              .status(),
          "GetCertAndKey");
      break;
    }
  }
  return 0;
}
