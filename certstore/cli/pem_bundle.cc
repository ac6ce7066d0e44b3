#include "certstore/cli/pem_bundle.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sslshim::certstore::cli {

absl::StatusOr<PemBundle> SplitPemBundle(absl::string_view text, absl::string_view what) {
  constexpr absl::string_view kBegin = "-----BEGIN ";
  PemBundle out;
  size_t pos = 0;
  int blocks = 0;
  while ((pos = text.find(kBegin, pos)) != absl::string_view::npos) {
    size_t label_start = pos + kBegin.size();
    size_t label_end = text.find("-----", label_start);
    if (label_end == absl::string_view::npos) break;
    absl::string_view label = text.substr(label_start, label_end - label_start);
    std::string end_marker = absl::StrCat("-----END ", label, "-----");
    size_t end = text.find(end_marker, label_end);
    if (end == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": unterminated PEM block ", label));
    }
    end += end_marker.size();
    std::string block = absl::StrCat(text.substr(pos, end - pos), "\n");
    if (label == "CERTIFICATE") {
      out.certificates += block;
    } else if (absl::EndsWith(label, "PRIVATE KEY")) {
      if (!out.private_key.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": more than one private key"));
      }
      out.private_key = std::move(block);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": unexpected PEM block ", label,
                       " (expected CERTIFICATE or PRIVATE KEY)"));
    }
    ++blocks;
    pos = end;
  }
  if (blocks == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": no PEM blocks found (is this PEM input?)"));
  }
  return out;
}

}  // namespace sslshim::certstore::cli
