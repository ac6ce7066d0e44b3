#include "certstore/cli/store_command.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "certstore/cert_store.h"
#include "certstore/cli/args.h"
#include "certstore/cli/pem_bundle.h"
#include "certstore/cli/render.h"
#include "certstore/sealing.h"
#include "certstore/store_url.h"
#include "certstore/validation.h"
#include "openssl/mem.h"
#include "pki/bounded_file.h"

namespace sslshim::certstore::cli {
namespace {

// Every environment variable the CLI reads: name, meaning. Read only by
// CliEnvironment::FromProcess().
struct EnvVar {
  const char* name;
  std::string CliEnvironment::*field;
  const char* description;
};
constexpr EnvVar kEnvironment[] = {
    {"SSLSHIM_KEK", &CliEnvironment::kek,
     "key-encryption key: 64 hex digits or base64 of 32 bytes"},
    {"SSLSHIM_STORE", &CliEnvironment::store,
     "default store URL (default lmdb:./certstore-data)"},
    {"SSLSHIM_REDIS_PASSWORD", &CliEnvironment::redis_password,
     "Redis password when the store URL has none"},
};

constexpr char kDefaultStore[] = "lmdb:./certstore-data";
constexpr size_t kMaxInputBytes = 16 << 20;

constexpr char kUsage[] =
    R"(usage: certstore [--store URL] [--kek-file FILE] [--json] COMMAND [ARGS]

commands:
  import PATH (--cert F [--key F] [--ca F] | --pem F) [--field NAME=F]...
              [--allow-expired] [--replace]
      Validate and store a record. F may be '-' for stdin. --pem takes a
      bundle holding the certificate chain and the private key. Refuses to
      overwrite an existing record unless --replace.
  get PATH [--show-key] [--field NAME]
      Print a record's metadata; key material only with --show-key.
  list [PREFIX] [--expiring-within DAYS] [--limit N]
      List records under PREFIX (all by default). PREFIX may end with a
      kind (Employee, Employee/asalieri/Address) to list just that kind.
  rotate PATH --cert F --key F [--ca F] [--allow-expired]
      Replace an existing record's certificate and key (generation + 1).
  delete PATH [--generation N]
      Delete a record (only at generation N when given).
  reseal [PREFIX] --new-kek-file F
      Re-seal every private key under PREFIX with a new KEK. Safe to re-run
      after an interruption: records already under the new KEK are skipped.

global flags:
  --store URL            memory: | lmdb:PATH | redis://[USER[:PASS]@]HOST:PORT[/DB][?namespace=NS]
                         | redis-sentinel://[USER[:PASS]@]HOST:PORT[,HOST:PORT...]/MASTER[?...]
  --kek-file FILE        KEK file (hex, base64 or 32 raw bytes); else $SSLSHIM_KEK
  --json                 JSON output
  --max-record-bytes N   largest encoded record accepted (default 1048576)

environment:
  SSLSHIM_KEK, SSLSHIM_STORE, SSLSHIM_REDIS_PASSWORD

key paths: Kind/id/Kind/id..., e.g. Employee/asalieri/Address/1 (integer id 1);
  string ids that are all digits are written %31..., other bytes outside
  [A-Za-z0-9._~-] as %XX.

exit codes: 0 ok, 1 usage, 2 invalid input, 3 not found, 4 conflict,
  5 KEK or permission problem, 6 store unavailable, 7 corrupt data, 8 other
)";

const std::set<std::string> kGlobalValues = {"store", "kek-file", "max-record-bytes"};
const std::set<std::string> kGlobalSwitches = {"json", "help"};
const std::map<std::string, std::pair<std::set<std::string>, std::set<std::string>>>
    kCommandFlags = {
        {"import", {{"cert", "key", "ca", "pem", "field"}, {"allow-expired", "replace"}}},
        {"get", {{"field"}, {"show-key"}}},
        {"list", {{"expiring-within", "limit"}, {}}},
        {"rotate", {{"cert", "key", "ca"}, {"allow-expired"}}},
        {"delete", {{"generation"}, {}}},
        {"reseal", {{"new-kek-file"}, {}}},
};

constexpr char kUsagePayload[] = "type.sslshim/certstore.cli.usage";

// Usage() is an InvalidArgument status marked as a usage error (exit 1).
absl::Status Usage(absl::string_view message) {
  absl::Status s = absl::InvalidArgumentError(message);
  s.SetPayload(kUsagePayload, absl::Cord("1"));
  return s;
}

bool IsUsage(const absl::Status& s) { return s.GetPayload(kUsagePayload).has_value(); }

void Wipe(std::string* s) {
  if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
  s->clear();
}

// Wipes field values when it goes out of scope (they may hold keys).
struct FieldMap {
  std::map<std::string, std::string> fields;
  ~FieldMap() {
    for (auto& [name, value] : fields) Wipe(&value);
  }
};

class Command {
 public:
  Command(Args args, const CliEnvironment& env, std::istream& in, std::ostream& out,
          std::ostream& err)
      : args_(std::move(args)), env_(env), in_(in), out_(out), err_(err) {}

  absl::Status Run(const std::string& name) {
    absl::Status s = Open();
    if (!s.ok()) return s;
    if (name == "import") return Import();
    if (name == "get") return Get();
    if (name == "list") return List();
    if (name == "rotate") return Rotate();
    if (name == "delete") return Delete();
    return Reseal();
  }

  bool partial_failure() const { return partial_failure_; }

 private:
  bool json() const { return args_.Has("json"); }

  absl::Status Open() {
    std::vector<Kek> keks;
    if (args_.Has("kek-file")) {
      absl::StatusOr<Kek> k = ReadKekFile(args_.Value("kek-file"));
      if (!k.ok()) return k.status();
      keks.push_back(*std::move(k));
    } else if (!env_.kek.empty()) {
      absl::StatusOr<Kek> k = Kek::FromText(env_.kek);
      if (!k.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("SSLSHIM_KEK: ", k.status().message()));
      }
      keks.push_back(*std::move(k));
    }
    CertStoreOptions options{.keks = std::move(keks)};
    if (args_.Has("max-record-bytes") &&
        !absl::SimpleAtoi(args_.Value("max-record-bytes"), &options.max_record_bytes)) {
      return absl::InvalidArgumentError("--max-record-bytes must be a number");
    }
    std::string url =
        args_.Value("store", env_.store.empty() ? kDefaultStore : env_.store);
    absl::StatusOr<std::unique_ptr<Store>> store =
        OpenStore(url, {.redis_password = env_.redis_password});
    if (!store.ok()) return store.status();
    absl::StatusOr<std::unique_ptr<CertStore>> cs =
        CertStore::Create(*std::move(store), std::move(options));
    if (!cs.ok()) return cs.status();
    cs_ = *std::move(cs);
    return absl::OkStatus();
  }

  absl::StatusOr<Kek> ReadKekFile(const std::string& file) {
    absl::StatusOr<std::string> text = ReadInput(file, "--kek-file");
    if (!text.ok()) return text.status();
    absl::StatusOr<Kek> k = Kek::FromText(*text);
    if (!k.ok() && text->size() == Kek::kSize) k = Kek::FromBytes(*text);
    Wipe(&*text);
    if (!k.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("KEK file ", file, ": ", k.status().message()));
    }
    return k;
  }

  // Reads a file, or stdin for "-". `what` names the flag in errors. Both
  // stop at kMaxInputBytes + 1 bytes, and only regular files are read (a
  // directory, FIFO or /dev/zero is invalid input, not an abort or a hang).
  absl::StatusOr<std::string> ReadInput(const std::string& file, absl::string_view what) {
    absl::StatusOr<std::string> data;
    if (file == "-") {
      if (stdin_used_) {
        return absl::InvalidArgumentError("only one input can be '-' (stdin)");
      }
      stdin_used_ = true;
      data = pki::ReadBoundedStream(in_, "stdin", kMaxInputBytes);
    } else {
      data = pki::ReadBoundedFile(file, kMaxInputBytes);
    }
    if (!data.ok()) {
      // Every unreadable input is invalid input (exit 2), whatever errno said.
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", data.status().message()));
    }
    return data;
  }

  absl::StatusOr<KeyPath> PathArg(size_t index, bool required) {
    if (args_.positional.size() <= index) {
      if (required) return Usage("missing key path argument");
      return KeyPath::Root();
    }
    if (args_.positional.size() > index + 1) {
      return Usage(absl::StrCat("unexpected argument ", args_.positional[index + 1]));
    }
    absl::StatusOr<KeyPath> path = KeyPath::Parse(args_.positional[index]);
    if (path.ok() && required && path->empty()) {
      // '' parses as the root, which holds no record: invalid input (exit 2),
      // refused here rather than by the backend.
      return absl::InvalidArgumentError(
          "the key path is empty; give a record path such as Employee/asalieri");
    }
    return path;
  }

  // Fills cert/key/ca (and --field) from the flags.
  absl::Status CollectFields(FieldMap* f) {
    if (args_.Has("pem")) {
      if (args_.Has("cert") || args_.Has("key")) {
        return Usage("--pem cannot be combined with --cert/--key");
      }
      absl::StatusOr<std::string> text = ReadInput(args_.Value("pem"), "--pem");
      if (!text.ok()) return text.status();
      absl::StatusOr<PemBundle> b = SplitPemBundle(*text, "--pem");
      Wipe(&*text);
      if (!b.ok()) return b.status();
      if (!b->certificates.empty()) f->fields[kCertField] = b->certificates;
      if (!b->private_key.empty()) f->fields[kKeyField] = b->private_key;
      Wipe(&b->private_key);
    }
    for (const char* flag : {"cert", "key", "ca"}) {
      if (!args_.Has(flag)) continue;
      absl::StatusOr<std::string> v =
          ReadInput(args_.Value(flag), absl::StrCat("--", flag));
      if (!v.ok()) return v.status();
      std::string name = std::string(flag) == "key" ? kKeyField : flag;
      f->fields[name] = *std::move(v);
    }
    for (const std::string& spec : args_.All("field")) {
      size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Usage("--field takes NAME=FILE");
      }
      absl::StatusOr<std::string> v = ReadInput(spec.substr(eq + 1), "--field");
      if (!v.ok()) return v.status();
      f->fields[spec.substr(0, eq)] = *std::move(v);
    }
    if (f->fields.empty()) return Usage("nothing to store: give --cert or --pem");
    return absl::OkStatus();
  }

  void PrintWrite(const char* verb, const KeyPath& path, uint64_t generation) {
    if (json()) {
      out_ << nlohmann::json{{"path", path.ToString()},
                             {"generation", generation},
                             {"action", verb}}
                  .dump()
           << "\n";
    } else {
      out_ << verb << " " << path.ToString() << " generation " << generation << "\n";
    }
  }

  absl::Status Import() {
    absl::StatusOr<KeyPath> path = PathArg(1, true);
    if (!path.ok()) return path.status();
    FieldMap f;
    absl::Status s = CollectFields(&f);
    if (!s.ok()) return s;
    absl::StatusOr<uint64_t> g = cs_->Put(
        *path, f.fields,
        {.expected_generation = args_.Has("replace") ? kAnyGeneration : kMustNotExist,
         .allow_expired = args_.Has("allow-expired")});
    if (absl::IsAborted(g.status()) && !args_.Has("replace")) {
      return absl::AlreadyExistsError(
          absl::StrCat("record ", path->ToString(),
                       " already exists; use rotate, or import --replace"));
    }
    if (!g.ok()) return g.status();
    PrintWrite("imported", *path, *g);
    return absl::OkStatus();
  }

  absl::Status Get() {
    absl::StatusOr<KeyPath> path = PathArg(1, true);
    if (!path.ok()) return path.status();
    absl::StatusOr<Record> r = cs_->Get(*path);
    if (!r.ok()) return r.status();
    std::map<std::string, std::string> revealed;
    FieldMap wipe_later;
    if (args_.Has("field")) {
      std::string name = args_.Value("field");
      auto it = r->fields.find(name);
      // Key material: sealed, or (a record written before DER keys were
      // recognised) a private key stored in the clear.
      if (it != r->fields.end() && !args_.Has("show-key") &&
          (it->second.sealed || IsKeyField(name, it->second.value))) {
        return Usage(absl::StrCat("field ", name, " is key material; add --show-key"));
      }
      absl::StatusOr<SecretBytes> v = cs_->ReadField(*r, name);
      if (!v.ok()) return v.status();
      if (json()) {
        out_ << FieldToJson(*r, name, v->view()).dump(2) << "\n";
      } else {
        out_ << v->view();
      }
      return absl::OkStatus();
    }
    if (args_.Has("show-key")) {
      for (const auto& [name, field] : r->fields) {
        if (!field.sealed) continue;
        absl::StatusOr<SecretBytes> v = cs_->ReadField(*r, name);
        if (!v.ok()) return v.status();
        wipe_later.fields[name] = std::string(v->view());
      }
    }
    if (json()) {
      out_ << RecordToJson(*r, wipe_later.fields).dump(2) << "\n";
    } else {
      out_ << RecordToText(*r, wipe_later.fields);
    }
    return absl::OkStatus();
  }

  // Parses the list prefix. "Kind/id/.../Kind" (a trailing kind) lists the
  // records under the even part whose next kind is that kind.
  absl::StatusOr<KeyPath> ListPrefix(std::string* kind_filter) {
    absl::StatusOr<KeyPath> prefix = PathArg(1, false);
    if (prefix.ok() || args_.positional.size() < 2) return prefix;
    absl::StatusOr<KeyPath> probe =
        KeyPath::Parse(absl::StrCat(args_.positional[1], "/x"));
    if (!probe.ok()) return prefix.status();
    std::vector<KeyElement> parent = probe->elements();
    *kind_filter = parent.back().kind;
    parent.pop_back();
    return KeyPath::Create(std::move(parent));
  }

  absl::Status List() {
    std::string kind_filter;
    absl::StatusOr<KeyPath> prefix = ListPrefix(&kind_filter);
    if (!prefix.ok()) return prefix.status();
    int64_t days = -1;
    if (args_.Has("expiring-within") &&
        (!absl::SimpleAtoi(args_.Value("expiring-within"), &days) || days < 0)) {
      return Usage("--expiring-within takes a number of days");
    }
    size_t limit = 0;
    if (args_.Has("limit") &&
        (!absl::SimpleAtoi(args_.Value("limit"), &limit) || limit == 0)) {
      return Usage("--limit takes a positive number");
    }
    const int64_t horizon = time(nullptr) + days * 86400;
    nlohmann::json rows = nlohmann::json::array();
    size_t shown = 0;
    std::string cursor;
    do {
      absl::StatusOr<ListPage> page = cs_->store()->List(*prefix, 500, cursor);
      if (!page.ok()) return page.status();
      for (const KeyPath& p : page->paths) {
        if (limit != 0 && shown >= limit) break;
        if (!kind_filter.empty() && p.elements()[prefix->size()].kind != kind_filter) {
          continue;
        }
        absl::StatusOr<Record> r = cs_->Get(p);
        if (!r.ok()) {
          err_ << "certstore: " << r.status().message() << "\n";
          partial_failure_ = true;
          continue;
        }
        if (days >= 0 &&
            (r->metadata.not_after == 0 || r->metadata.not_after > horizon)) {
          continue;
        }
        ++shown;
        if (json()) {
          rows.push_back(RecordToJson(*r, {}));
        } else {
          out_ << ListRowToText(*r);
        }
      }
      cursor = page->next_cursor;
    } while (!cursor.empty() && (limit == 0 || shown < limit));
    if (json()) out_ << rows.dump(2) << "\n";
    return absl::OkStatus();
  }

  absl::Status Rotate() {
    absl::StatusOr<KeyPath> path = PathArg(1, true);
    if (!path.ok()) return path.status();
    if (!args_.Has("cert") || !args_.Has("key")) {
      return Usage("rotate needs --cert and --key");
    }
    absl::StatusOr<Record> old = cs_->Get(*path);
    if (!old.ok()) return old.status();
    FieldMap f;
    for (const auto& [name, field] : old->fields) {
      if (!field.sealed && name != kCertField) f.fields[name] = field.value;
    }
    absl::Status s = CollectFields(&f);
    if (!s.ok()) return s;
    absl::StatusOr<uint64_t> g = cs_->Put(*path, f.fields,
                                          {.expected_generation = old->generation,
                                           .allow_expired = args_.Has("allow-expired")});
    if (!g.ok()) return g.status();
    PrintWrite("rotated", *path, *g);
    return absl::OkStatus();
  }

  absl::Status Delete() {
    absl::StatusOr<KeyPath> path = PathArg(1, true);
    if (!path.ok()) return path.status();
    uint64_t expected = kAnyGeneration;
    if (args_.Has("generation") &&
        !absl::SimpleAtoi(args_.Value("generation"), &expected)) {
      return Usage("--generation takes a number");
    }
    absl::Status s = cs_->Delete(*path, expected);
    if (!s.ok()) return s;
    if (json()) {
      out_ << nlohmann::json{{"path", path->ToString()}, {"action", "deleted"}}.dump()
           << "\n";
    } else {
      out_ << "deleted " << path->ToString() << "\n";
    }
    return absl::OkStatus();
  }

  absl::Status Reseal() {
    absl::StatusOr<KeyPath> prefix = PathArg(1, false);
    if (!prefix.ok()) return prefix.status();
    if (!args_.Has("new-kek-file")) return Usage("reseal needs --new-kek-file");
    absl::StatusOr<Kek> new_kek = ReadKekFile(args_.Value("new-kek-file"));
    if (!new_kek.ok()) return new_kek.status();
    absl::StatusOr<ResealReport> r = cs_->Reseal(*prefix, *new_kek);
    if (!r.ok()) return r.status();
    for (const std::string& f : r->failures) err_ << "certstore: reseal: " << f << "\n";
    partial_failure_ = !r->failures.empty();
    if (json()) {
      out_ << nlohmann::json{{"new_kek_id", new_kek->id()},
                             {"resealed", r->resealed},
                             {"already_current", r->already_current},
                             {"without_keys", r->without_keys},
                             {"failed", r->failures.size()}}
                  .dump()
           << "\n";
    } else {
      out_ << "resealed " << r->resealed << ", already current " << r->already_current
           << ", without keys " << r->without_keys << ", failed " << r->failures.size()
           << " (new KEK " << new_kek->id() << ")\n";
    }
    return absl::OkStatus();
  }

  const Args args_;
  const CliEnvironment& env_;
  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<CertStore> cs_;
  bool stdin_used_ = false;
  bool partial_failure_ = false;
};

}  // namespace

CliEnvironment CliEnvironment::FromProcess() {
  CliEnvironment env;
  for (const EnvVar& v : kEnvironment) {
    const char* value = getenv(v.name);
    if (value != nullptr) env.*(v.field) = value;
  }
  return env;
}

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitInvalidInput;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kAlreadyExists:
      return kExitConflict;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return kExitKeyOrPermission;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    case absl::StatusCode::kDataLoss:
      return kExitDataLoss;
    default:
      return kExitOther;
  }
}

int RunStoreCommandWithIo(const std::vector<std::string>& args, const CliEnvironment& env,
                          std::istream& in, std::ostream& out, std::ostream& err) {
  std::set<std::string> values = kGlobalValues, switches = kGlobalSwitches;
  for (const auto& [name, flags] : kCommandFlags) {
    values.insert(flags.first.begin(), flags.first.end());
    switches.insert(flags.second.begin(), flags.second.end());
  }
  absl::StatusOr<Args> parsed = ParseArgs(args, values, switches);
  if (!parsed.ok()) {
    err << "certstore: " << parsed.status().message() << "\n" << kUsage;
    return kExitUsage;
  }
  if (parsed->Has("help") ||
      (!parsed->positional.empty() && parsed->positional[0] == "help")) {
    out << kUsage;
    return kExitOk;
  }
  if (parsed->positional.empty()) {
    err << kUsage;
    return kExitUsage;
  }
  const std::string name = parsed->positional[0];
  auto spec = kCommandFlags.find(name);
  if (spec == kCommandFlags.end()) {
    err << "certstore: unknown command " << name << "\n" << kUsage;
    return kExitUsage;
  }
  for (const std::string& flag : values) {
    if (parsed->Has(flag) && !kGlobalValues.count(flag) &&
        !spec->second.first.count(flag)) {
      err << "certstore: " << name << " does not take --" << flag << "\n";
      return kExitUsage;
    }
  }
  for (const std::string& flag : switches) {
    if (parsed->Has(flag) && !kGlobalSwitches.count(flag) &&
        !spec->second.second.count(flag)) {
      err << "certstore: " << name << " does not take --" << flag << "\n";
      return kExitUsage;
    }
  }
  Command command(*std::move(parsed), env, in, out, err);
  absl::Status s = command.Run(name);
  if (!s.ok()) {
    err << "certstore: " << name << ": " << s.message() << "\n";
    return IsUsage(s) ? kExitUsage : ExitCodeFor(s);
  }
  return command.partial_failure() ? kExitOther : kExitOk;
}

int RunStoreCommand(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  CliEnvironment env = CliEnvironment::FromProcess();
  return RunStoreCommandWithIo(args, env, std::cin, std::cout, std::cerr);
}

}  // namespace sslshim::certstore::cli
