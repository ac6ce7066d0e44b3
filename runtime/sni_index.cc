#include "runtime/sni_index.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace sslshim::runtime {
namespace {

std::string Normalize(absl::string_view hostname) {
  std::string name = absl::AsciiStrToLower(hostname);
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

}  // namespace

absl::StatusOr<certstore::KeyPath> SniIndexPath(absl::string_view hostname) {
  const std::string name = Normalize(hostname);
  if (name.empty()) return absl::InvalidArgumentError("SNI index: empty hostname");
  std::vector<std::string> labels = absl::StrSplit(name, '.');
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("SNI index: empty label in '", name, "'"));
    }
    if (absl::StrContains(labels[i], '*') && (i != 0 || labels[i] != "*" || labels.size() < 3)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SNI index: '", name, "': a wildcard must be the whole left-most label of a "
          "name with at least two more labels (*.example.com)"));
    }
  }
  std::vector<std::string> reversed(labels.rbegin(), labels.rend());
  return certstore::KeyPath::Of({kSniIndexKind, absl::StrJoin(reversed, ".")});
}

absl::StatusOr<size_t> IndexRecord(certstore::Store& store,
                                   const certstore::Record& record) {
  size_t indexed = 0;
  for (const std::string& san : record.metadata.sans) {
    if (!absl::StartsWith(san, "DNS:")) continue;
    absl::StatusOr<certstore::KeyPath> path = SniIndexPath(san.substr(4));
    if (!path.ok()) continue;  // A SAN we cannot serve by SNI.
    absl::StatusOr<uint64_t> put =
        store.Put(*path, record.path.ToString(), certstore::kAnyGeneration);
    if (!put.ok()) return put.status();
    ++indexed;
  }
  return indexed;
}

absl::StatusOr<size_t> RebuildSniIndex(certstore::CertStore& cert_store,
                                       const certstore::KeyPath& prefix,
                                       size_t* skipped) {
  certstore::Store& store = *cert_store.store();
  size_t indexed = 0;
  std::string cursor;
  do {
    absl::StatusOr<certstore::ListPage> page = store.List(prefix, 500, cursor);
    if (!page.ok()) return page.status();
    for (const certstore::KeyPath& path : page->paths) {
      if (!path.elements().empty() && path.elements()[0].kind == kSniIndexKind) continue;
      absl::StatusOr<certstore::Record> record = cert_store.Get(path);
      if (!record.ok()) {
        if (skipped != nullptr) ++*skipped;
        continue;
      }
      absl::StatusOr<size_t> n = IndexRecord(store, *record);
      if (!n.ok()) return n.status();
      indexed += *n;
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return indexed;
}

absl::StatusOr<certstore::KeyPath> LookupSni(certstore::Store& store,
                                             absl::string_view hostname) {
  const std::string name = Normalize(hostname);
  absl::StatusOr<certstore::KeyPath> exact = SniIndexPath(name);
  if (!exact.ok()) return exact.status();
  std::vector<certstore::KeyPath> candidates = {*exact};
  const size_t dot = name.find('.');
  if (dot != std::string::npos && name[0] != '*') {
    absl::StatusOr<certstore::KeyPath> wild = SniIndexPath(absl::StrCat("*", name.substr(dot)));
    if (wild.ok()) candidates.push_back(*wild);
  }
  for (const certstore::KeyPath& candidate : candidates) {
    absl::StatusOr<certstore::StoreEntry> e = store.Get(candidate);
    if (absl::IsNotFound(e.status())) continue;
    if (!e.ok()) return e.status();
    absl::StatusOr<certstore::KeyPath> record = certstore::KeyPath::Parse(e->value);
    if (!record.ok()) {
      return absl::DataLossError(absl::StrCat("SNI index entry ", candidate.ToString(),
                                              " is not a key path: ",
                                              record.status().message()));
    }
    return record;
  }
  return absl::NotFoundError(absl::StrCat("no certificate for '", name, "' in the SNI index"));
}

}  // namespace sslshim::runtime
