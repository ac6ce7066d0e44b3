// sealing_fuzzer.cc: libFuzzer target for certstore/sealing.h, with a fixed
// test KEK (32 bytes 0x00..0x1f; it protects nothing).
//
// Input: mode byte, then:
//   mode 0: a sealed value, opened with the fixed KEK and with no KEK;
//   mode 1: "position byte, xor byte, cut byte, plaintext": the plaintext is
//           sealed, then one byte is flipped (xor != 0) and/or the value is
//           cut short; only the untouched value may open, to the plaintext;
//   mode 2: KEK text for Kek::FromText.
// Contract: Unseal errors are DataLoss or FailedPrecondition, FromText
// errors InvalidArgument, all on one line, never echoing the KEK text;
// a value sealed for one record/field opens for no other; BoringSSL's error
// queue is left empty; no crash, leak or UB.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "certstore/key_path.h"
#include "certstore/sealing.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using ::sslshim::certstore::Kek;
using ::sslshim::certstore::KeyPath;
using ::sslshim::certstore::Seal;
using ::sslshim::certstore::SealedKekId;
using ::sslshim::certstore::SecretBytes;
using ::sslshim::certstore::Unseal;
using ::sslshim::fuzz::CheckCode;
using ::sslshim::fuzz::CheckErrorQueueEmpty;

const Kek& TestKek() {
  static const Kek* const kek = [] {
    std::string raw;
    for (int i = 0; i < 32; ++i) raw.push_back(static_cast<char>(i));
    return new Kek(*Kek::FromBytes(raw));
  }();
  return *kek;
}

const KeyPath& TestPath() {
  static const KeyPath* const path =
      new KeyPath(*KeyPath::Of({"Fuzz", "sealing", "Record", 1}));
  return *path;
}

absl::StatusOr<SecretBytes> Open(const Kek* kek, const KeyPath& path,
                                 absl::string_view field, absl::string_view sealed) {
  absl::StatusOr<SecretBytes> out = Unseal(kek, path, field, sealed);
  CheckCode(out.status(),
            {absl::StatusCode::kDataLoss, absl::StatusCode::kFailedPrecondition},
            "Unseal");
  CheckErrorQueueEmpty("Unseal");
  return out;
}

void OpenAnything(absl::string_view sealed) {
  absl::StatusOr<std::string> id = SealedKekId(sealed);
  CheckCode(id.status(), {absl::StatusCode::kDataLoss}, "SealedKekId");
  if (id.ok()) FUZZ_CHECK(id->size() == 16, "KEK id is not 16 hex digits");
  Open(&TestKek(), TestPath(), "key_str", sealed).status().IgnoreError();
  absl::StatusOr<SecretBytes> none = Open(nullptr, TestPath(), "key_str", sealed);
  FUZZ_CHECK(!none.ok(), "a value opened without a KEK");
}

void SealAndTamper(sslshim::fuzz::FuzzInput& in) {
  const uint8_t position = in.Byte();
  const uint8_t flip = in.Byte();
  const uint8_t cut = in.Byte() % 8;
  const absl::string_view plaintext = in.Rest();
  absl::StatusOr<std::string> sealed = Seal(TestKek(), TestPath(), "key_str", plaintext);
  FUZZ_CHECK(sealed.ok(), "Seal failed");
  CheckErrorQueueEmpty("Seal");
  absl::StatusOr<SecretBytes> opened = Open(&TestKek(), TestPath(), "key_str", *sealed);
  FUZZ_CHECK(opened.ok() && opened->view() == plaintext, "round trip failed");
  FUZZ_CHECK(!Open(&TestKek(), TestPath(), "key_pem", *sealed).ok(),
             "opened under another field");
  FUZZ_CHECK(
      !Open(&TestKek(), *TestPath().Child("Sub", int64_t{2}), "key_str", *sealed).ok(),
      "opened under another record");
  std::string bad = *sealed;
  if (flip != 0) bad[position % bad.size()] ^= static_cast<char>(flip);
  bad.resize(bad.size() - cut);
  if (flip != 0 || cut != 0) {
    FUZZ_CHECK(!Open(&TestKek(), TestPath(), "key_str", bad).ok(),
               "a tampered value opened");
  }
}

void KekText(absl::string_view text) {
  absl::StatusOr<Kek> kek = Kek::FromText(text);
  CheckCode(kek.status(), {absl::StatusCode::kInvalidArgument}, "Kek::FromText");
  // Text made only of the message's own characters may occur in it by chance.
  static constexpr absl::string_view kMessageChars =
      "KEK text must be 64 hex digits or base64 of 32 bytes (got characters "
      "decoding to bytes)0123456789";
  const bool distinctive =
      text.find_first_not_of(kMessageChars) != absl::string_view::npos;
  if (!kek.ok() && distinctive) {
    FUZZ_CHECK(!absl::StrContains(kek.status().message(), text),
               "the KEK text was echoed");
  }
  if (kek.ok()) FUZZ_CHECK(kek->id().size() == 16, "KEK id is not 16 hex digits");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sslshim::fuzz::FuzzInput in(data, size);
  switch (in.Byte() % 3) {
    case 0:
      OpenAnything(in.Rest());
      break;
    case 1:
      SealAndTamper(in);
      break;
    default:
      KekText(in.Rest());
      break;
  }
  return 0;
}
