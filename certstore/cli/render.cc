#include "certstore/cli/render.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "certstore/key_path.h"
#include "certstore/sealing.h"

namespace sslshim::certstore::cli {
namespace {

std::string FieldSummary(const Field& f) {
  if (!f.sealed) return absl::StrCat(f.value.size(), " bytes");
  absl::StatusOr<std::string> id = SealedKekId(f.value);
  return absl::StrCat(f.value.size(), " bytes, sealed, KEK ",
                      id.ok() ? *id : "unreadable");
}

}  // namespace

std::string FormatUnixTime(int64_t t) {
  if (t == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(t),
                          absl::UTCTimeZone());
}

nlohmann::json RecordToJson(const Record& record,
                            const std::map<std::string, std::string>& revealed) {
  const RecordMetadata& m = record.metadata;
  nlohmann::json j;
  j["path"] = record.path.ToString();
  j["generation"] = record.generation;
  j["metadata"] = {{"subject", m.subject},
                   {"issuer", m.issuer},
                   {"sans", m.sans},
                   {"not_before", FormatUnixTime(m.not_before)},
                   {"not_after", FormatUnixTime(m.not_after)},
                   {"sha256_fingerprint", m.sha256_fingerprint},
                   {"key_type", m.key_type},
                   {"written_at", FormatUnixTime(m.written_at)}};
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [name, f] : record.fields) {
    nlohmann::json fj = {{"bytes", f.value.size()}, {"sealed", f.sealed}};
    if (f.sealed) {
      absl::StatusOr<std::string> id = SealedKekId(f.value);
      fj["kek_id"] = id.ok() ? *id : "unreadable";
    }
    fields[name] = fj;
  }
  j["fields"] = fields;
  if (!revealed.empty()) {
    // Text (PEM) under key_material, binary (DER) base64 under
    // key_material_base64: JSON strings must be UTF-8.
    nlohmann::json km = nlohmann::json::object(), km64 = nlohmann::json::object();
    for (const auto& [name, value] : revealed) {
      if (IsValidUtf8(value)) {
        km[name] = value;
      } else {
        km64[name] = absl::Base64Escape(value);
      }
    }
    if (!km.empty()) j["key_material"] = km;
    if (!km64.empty()) j["key_material_base64"] = km64;
  }
  return j;
}

nlohmann::json FieldToJson(const Record& record, absl::string_view field,
                           absl::string_view value) {
  nlohmann::json j = {{"path", record.path.ToString()},
                      {"generation", record.generation},
                      {"field", std::string(field)}};
  if (IsValidUtf8(value)) {
    j["value"] = std::string(value);
  } else {
    j["value_base64"] = absl::Base64Escape(value);
  }
  return j;
}

std::string RecordToText(const Record& record,
                         const std::map<std::string, std::string>& revealed) {
  const RecordMetadata& m = record.metadata;
  std::string out;
  auto line = [&out](absl::string_view name, absl::string_view value) {
    absl::StrAppendFormat(&out, "%-12s %s\n", absl::StrCat(name, ":"),
                          value.empty() ? "-" : value);
  };
  line("path", record.path.ToString());
  line("generation", absl::StrCat(record.generation));
  line("subject", m.subject);
  line("issuer", m.issuer);
  line("sans", absl::StrJoin(m.sans, ", "));
  line("not_before", FormatUnixTime(m.not_before));
  line("not_after", FormatUnixTime(m.not_after));
  line("fingerprint", m.sha256_fingerprint);
  line("key_type", m.key_type);
  line("written_at", FormatUnixTime(m.written_at));
  for (const auto& [name, f] : record.fields) {
    line(absl::StrCat("field ", name), FieldSummary(f));
  }
  for (const auto& [name, value] : revealed) {
    absl::StrAppend(&out, "--- ", name, " ---\n", value);
    if (!value.empty() && value.back() != '\n') out.push_back('\n');
  }
  return out;
}

std::string ListRowToText(const Record& record) {
  return absl::StrFormat("%-40s gen=%-4d not_after=%-20s %s\n", record.path.ToString(),
                         record.generation, FormatUnixTime(record.metadata.not_after),
                         record.metadata.subject.empty() ? "-" : record.metadata.subject);
}

}  // namespace sslshim::certstore::cli
