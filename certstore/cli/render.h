// render.h
// -----------------------------------------------------------------------------
// Rendering of records for the store CLI, as aligned plain text or JSON.
// Key material is rendered only when the caller passes it in `revealed`.
//
//   nlohmann::json j = RecordToJson(record, {});
//   std::cout << RecordToText(record, {});

#ifndef SSLSHIM_CERTSTORE_CLI_RENDER_H_
#define SSLSHIM_CERTSTORE_CLI_RENDER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "certstore/record.h"
#include "nlohmann/json.hpp"

namespace sslshim::certstore::cli {

// FormatUnixTime() renders Unix seconds as "2026-12-22T11:00:00Z" ("-" for 0).
std::string FormatUnixTime(int64_t t);

// RecordToJson() renders path, generation, metadata and a field summary
// (size, sealed, KEK id), plus the `revealed` fields: "key_material" for text
// (PEM) values, "key_material_base64" for binary (DER) ones.
nlohmann::json RecordToJson(const Record& record,
                            const std::map<std::string, std::string>& revealed);

// FieldToJson() renders one field's value for `get --field` in --json mode:
// {"path", "generation", "field", "value"}, with "value_base64" instead of
// "value" when the bytes are not UTF-8 text (a DER key or certificate).
nlohmann::json FieldToJson(const Record& record, absl::string_view field,
                           absl::string_view value);

// RecordToText() is the same as aligned "name: value" lines.
std::string RecordToText(const Record& record,
                         const std::map<std::string, std::string>& revealed);

// ListRowToText() is one line of `list`: path, generation, expiry, subject.
std::string ListRowToText(const Record& record);

}  // namespace sslshim::certstore::cli

#endif  // SSLSHIM_CERTSTORE_CLI_RENDER_H_
