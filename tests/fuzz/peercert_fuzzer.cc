// peercert_fuzzer.cc: libFuzzer target for shim/peercert.h (getpeercert()
// decoding) and shim/match_hostname.h on what it returns.
//
// Input: mode byte (even: DER, odd: PEM), then "certificate#|#hostname".
// Certificates BoringSSL cannot parse are skipped (its parser is not ours).
// Contract: DecodeCertificate never fails and returns a dict with subject,
// issuer and version; its JSON parses; its repr is printable ASCII or
// UTF-8; match_hostname ends in OK, CertificateError (Unauthenticated) or
// InvalidArgument on one line; BoringSSL's error queue is left empty; no
// crash, leak or UB.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "shim/match_hostname.h"
#include "shim/peercert.h"
#include "shim/py_value.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using ::sslshim::fuzz::CheckErrorQueueEmpty;
using ::sslshim::shim::PyValue;

bssl::UniquePtr<X509> ParseCert(bool pem, absl::string_view bytes) {
  if (pem) {
    bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(bytes.data(), bytes.size()));
    return bssl::UniquePtr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes.data());
  return bssl::UniquePtr<X509>(d2i_X509(nullptr, &p, bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sslshim::fuzz::FuzzInput in(data, size);
  const bool pem = in.Byte() % 2 == 1;
  const absl::string_view der = in.Part();
  const absl::string_view hostname = in.Rest();
  bssl::UniquePtr<X509> cert = ParseCert(pem, der);
  ERR_clear_error();  // BoringSSL's own parse errors, not the decoder's.
  if (cert == nullptr) return 0;
  const PyValue d = sslshim::shim::DecodeCertificate(cert.get());
  CheckErrorQueueEmpty("DecodeCertificate");
  FUZZ_CHECK(d.type() == PyValue::Type::kDict, "not a dict");
  FUZZ_CHECK(d.Get("subject") != nullptr && d.Get("issuer") != nullptr &&
                 d.Get("version") != nullptr,
             "subject, issuer or version missing");
  const std::string json = d.ToJson();
  FUZZ_CHECK(nlohmann::json::accept(json), "ToJson is not JSON: " + json);
  d.ToPythonRepr();
  sslshim::shim::SubjectCommonName(d);
  const absl::Status match = sslshim::shim::match_hostname(d, hostname);
  sslshim::fuzz::CheckCode(
      match, {absl::StatusCode::kUnauthenticated, absl::StatusCode::kInvalidArgument},
      "match_hostname");
  CheckErrorQueueEmpty("match_hostname");
  return 0;
}
