#include "runtime/cli/cli_common.h"

#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "certstore/sealing.h"
#include "certstore/store_url.h"
#include "openssl/sha.h"
#include "runtime/store_reader.h"
#include "shim/errors.h"

ABSL_FLAG(std::string, app, "",
          "app.yaml (path or store: ref); default: the ssl library enabled");
ABSL_FLAG(std::string, store, "", "certificate store URL; default $SSLSHIM_STORE");
ABSL_FLAG(std::string, host, "127.0.0.1", "host or IP literal");
ABSL_FLAG(int, port, 0, "TCP port");
ABSL_FLAG(std::string, certfile, "", "certificate chain (PEM)");
ABSL_FLAG(std::string, keyfile, "", "private key (PEM)");
ABSL_FLAG(std::string, cafile, "", "CA certificates (PEM)");
ABSL_FLAG(double, timeout, 10, "seconds for connect, handshake and each read");

namespace sslshim::runtime::cli {
namespace {

// The app.yaml the CLI runs as when --app is not given.
constexpr char kDefaultAppYaml[] = "libraries:\n- name: ssl\n  version: latest\n";

std::string Dashed(absl::string_view name) {
  return absl::StrReplaceAll(name, {{"_", "-"}});
}
std::string Underscored(absl::string_view name) {
  return absl::StrReplaceAll(name, {{"-", "_"}});
}

const FlagDoc* FindDoc(const CommandSpec& spec, absl::string_view name) {
  for (const FlagDoc& doc : spec.flags) {
    if (doc.name == name) return &doc;
  }
  return nullptr;
}

}  // namespace

const char kExitCodesHelp[] =
    "exit codes: 0 success; 1 a verdict against (verification failed,\n"
    "hostname mismatch, handshake refused, connection failed); 2 usage error\n"
    "or unreadable input; 3 invalid value (Python's ValueError, e.g. an empty\n"
    "certificate). FILE arguments also accept store:<key path>[#field]\n"
    "(store from --store or $SSLSHIM_STORE, KEK from $SSLSHIM_KEK).\n";

std::string HelpText(const CommandSpec& spec) {
  std::string text = absl::StrCat("usage: sslshim ", spec.name, " ", spec.synopsis,
                                  "\n\n", spec.summary, "\n");
  if (!spec.flags.empty()) absl::StrAppend(&text, "\nflags:\n");
  for (const FlagDoc& doc : spec.flags) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(doc.name);
    const std::string dashes = doc.name.size() == 1 ? "-" : "--";
    absl::StrAppend(&text, "  ", dashes, Dashed(doc.name));
    if (flag != nullptr && !flag->IsOfType<bool>()) {
      absl::StrAppend(&text, " VALUE");
      if (!flag->DefaultValue().empty()) {
        absl::StrAppend(&text, " (default ", flag->DefaultValue(), ")");
      }
    }
    if (doc.repeatable) absl::StrAppend(&text, " (repeatable)");
    absl::StrAppend(
        &text, "\n      ",
        doc.help.empty() && flag != nullptr ? flag->Help() : std::string(doc.help), "\n");
  }
  absl::StrAppend(&text, "\n", kExitCodesHelp);
  return text;
}

absl::StatusOr<ParsedArgs> ParseArgs(const CommandSpec& spec,
                                     const std::vector<std::string>& args,
                                     std::ostream& out, std::ostream& err) {
  ParsedArgs parsed;
  auto fail = [&](const std::string& message) {
    err << "sslshim " << spec.name << ": " << message << "\n"
        << "run 'sslshim " << spec.name << " --help' for its flags\n";
    return absl::InvalidArgumentError(message);
  };
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      parsed.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h" || arg == "-help") {
      out << HelpText(spec);
      return absl::CancelledError("help");
    }
    absl::string_view body = arg;
    body.remove_prefix(absl::StartsWith(body, "--") ? 2 : 1);
    absl::optional<std::string> value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    std::string name = Underscored(body);
    const FlagDoc* doc = FindDoc(spec, name);
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    bool negated = false;
    if ((doc == nullptr || flag == nullptr) && absl::StartsWith(name, "no")) {
      // --noflag for a boolean flag.
      const std::string positive = name.substr(2);
      const FlagDoc* pdoc = FindDoc(spec, positive);
      absl::CommandLineFlag* pflag = absl::FindCommandLineFlag(positive);
      if (pdoc != nullptr && pflag != nullptr && pflag->IsOfType<bool>() &&
          !value.has_value()) {
        doc = pdoc, flag = pflag, negated = true, name = positive;
      }
    }
    if (doc == nullptr || flag == nullptr) {
      return fail(absl::StrCat("unknown flag '", arg, "' for ", spec.name));
    }
    if (flag->IsOfType<bool>()) {
      if (!value.has_value()) value = negated ? "false" : "true";
    } else if (!value.has_value()) {
      if (i + 1 >= args.size()) {
        return fail(absl::StrCat("flag '", arg, "' needs a value"));
      }
      value = args[++i];
    }
    std::string error;
    if (!flag->ParseFrom(*value, &error)) {
      return fail(absl::StrCat("bad value '", *value, "' for '", arg, "': ", error));
    }
    if (doc->repeatable) parsed.repeated[name].push_back(*value);
  }
  const int n = static_cast<int>(parsed.positional.size());
  if (n < spec.min_positional || n > spec.max_positional) {
    return fail(n < spec.min_positional
                    ? absl::StrCat("missing argument: ", spec.synopsis)
                    : absl::StrCat("unexpected argument '",
                                   parsed.positional[spec.max_positional], "'"));
  }
  return parsed;
}

int ExitForParse(const absl::Status& status) {
  return absl::IsCancelled(status) ? kExitOk : kExitUsage;
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  // A file that cannot be read (missing, a directory, a device, EIO, a name
  // too long) is unreadable input, whatever its canonical code.
  if (shim::GetErrorKind(status) == shim::ErrorKind::kOSError) return kExitUsage;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return kExitBadValue;
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
      return kExitUsage;
    default:
      return kExitFailed;
  }
}

nlohmann::json ErrorJson(const absl::Status& status) {
  nlohmann::json j = {
      {"ok", false},
      {"error_kind", std::string(shim::ErrorKindName(shim::GetErrorKind(status)))},
      {"code", absl::StatusCodeToString(status.code())}};
  if (absl::optional<long> code = shim::GetVerifyCode(status)) {
    j["verify_code"] = *code;
  }
  if (absl::optional<std::string> message = shim::GetVerifyMessage(status)) {
    j["verify_message"] = *message;
  }
  j["message"] = std::string(status.message());
  return j;
}

std::string ErrorLine(absl::string_view command, const absl::Status& status) {
  std::string line = absl::StrCat("sslshim ", command, ": ", status.message());
  if (absl::optional<long> code = shim::GetVerifyCode(status)) {
    absl::StrAppend(&line, " [verify code ", *code, ": ",
                    shim::GetVerifyMessage(status).value_or(""), "]");
  }
  // One line, whatever the message holds: a CR or other control byte from
  // an argument (`fetch -X $'GET\r\nX'`) or a peer must not start a new line
  // or rewrite the terminal.
  std::string out;
  out.reserve(line.size());
  for (char c : line) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += ' ';
    } else if (u < 0x20 || u == 0x7f) {
      absl::StrAppend(&out, "\\x", absl::Hex(u, absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  return out;
}

absl::StatusOr<absl::Duration> SecondsFlag(absl::string_view flag, double seconds,
                                           double max_seconds) {
  // `!(x > 0)` also catches nan.
  if (!(seconds > 0) || !(seconds <= max_seconds)) {
    return absl::FailedPreconditionError(
        absl::StrCat("--", flag, " must be a number of seconds in (0, ",
                     max_seconds, "], not ", seconds));
  }
  return absl::Seconds(seconds);
}

absl::StatusOr<int> PortFlag(absl::string_view flag, int port, bool allow_zero) {
  if (port < (allow_zero ? 0 : 1) || port > 65535) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--", flag, " must be ", allow_zero ? "0" : "1", "..65535, not ", port));
  }
  return port;
}

std::string KeyArgFor(absl::string_view certfile, absl::string_view keyfile) {
  if (!keyfile.empty() || !IsStoreRef(certfile)) return std::string(keyfile);
  return std::string(certfile.substr(0, certfile.find('#')));
}

int ReportFailure(absl::string_view command, const absl::Status& status) {
  PrintJson(std::cout, ErrorJson(status));
  std::cerr << ErrorLine(command, status) << "\n";
  return ExitCodeFor(status);
}

std::string SubjectRfc2253(X509* cert) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (cert == nullptr || bio == nullptr ||
      X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) <
          0) {
    return "";
  }
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

nlohmann::json PyValueJson(const shim::PyValue& value) {
  return nlohmann::json::parse(value.ToJson(), nullptr, /*allow_exceptions=*/false);
}

std::string Sha256Fingerprint(absl::string_view der) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(der.data()), der.size(), digest);
  std::ostringstream hex;
  for (size_t i = 0; i < sizeof(digest); ++i) {
    if (i > 0) hex << ':';
    hex << std::uppercase << std::hex << std::setw(2) << std::setfill('0')
        << static_cast<int>(digest[i]);
  }
  return hex.str();
}

absl::StatusOr<std::unique_ptr<CliRuntime>> CliRuntime::FromFlags() {
  const std::string app_arg = absl::GetFlag(FLAGS_app);
  const std::string store_flag = absl::GetFlag(FLAGS_store);
  absl::StatusOr<std::shared_ptr<AppRuntime>> defaults =
      AppRuntime::Create(shim::StringIO(kDefaultAppYaml));
  if (!defaults.ok()) return defaults.status();
  std::unique_ptr<CliRuntime> rt(new CliRuntime(
      *defaults, store_flag.empty() ? (*defaults)->vars().store_url() : store_flag));
  if (app_arg.empty()) return rt;
  // The app config from a path or from the store (`store:App/1#app`); a
  // store reference is read from --store or the process environment's
  // store, since the app's own env_variables are not known yet.
  absl::StatusOr<shim::Source> source = rt->SourceFor(app_arg, "app");
  if (!source.ok()) return source.status();
  absl::StatusOr<std::shared_ptr<AppRuntime>> app = AppRuntime::Create(*source);
  if (!app.ok()) return app.status();
  rt->app_ = *std::move(app);
  const std::string store_url =
      store_flag.empty() ? rt->app_->vars().store_url() : store_flag;
  if (store_url != rt->store_url_) {  // The app's env names another store.
    rt->store_.reset();
    rt->store_url_ = store_url;
  }
  return rt;
}

absl::StatusOr<certstore::CertStore*> CliRuntime::store() {
  if (store_ != nullptr) return store_.get();
  certstore::CertStoreOptions options;
  if (const auto& kek = app_->vars().kek(); kek != nullptr) {
    absl::StatusOr<certstore::Kek> k = certstore::Kek::FromBytes(kek->view());
    if (!k.ok()) return k.status();
    options.keks.push_back(*std::move(k));
  }
  absl::StatusOr<std::unique_ptr<certstore::Store>> opened =
      certstore::OpenStore(store_url_);
  if (!opened.ok()) return opened.status();
  absl::StatusOr<std::unique_ptr<certstore::CertStore>> cs =
      certstore::CertStore::Create(*std::move(opened), std::move(options));
  if (!cs.ok()) return cs.status();
  store_ = *std::move(cs);
  return store_.get();
}

absl::StatusOr<shim::Source> CliRuntime::SourceFor(absl::string_view arg,
                                                   absl::string_view default_field) {
  if (arg.empty()) return shim::Source();
  if (!IsStoreRef(arg)) return shim::Source(std::string(arg));
  absl::StatusOr<certstore::CertStore*> cs = store();
  if (!cs.ok()) return cs.status();
  return SourceFromArg(arg, *cs, default_field);
}

absl::StatusOr<std::string> CliRuntime::ReadArg(absl::string_view arg,
                                                absl::string_view default_field,
                                                absl::string_view what) {
  absl::StatusOr<shim::Source> source = SourceFor(arg, default_field);
  if (!source.ok()) return source.status();
  if (source->empty()) {
    return absl::FailedPreconditionError(absl::StrCat(what, " is required"));
  }
  absl::StatusOr<shim::SecureBytes> bytes = shim::ReadSource(*source, what);
  if (!bytes.ok()) return bytes.status();
  return std::string(bytes->view());
}

void PrintJson(std::ostream& out, const nlohmann::json& value) {
  out << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
      << std::endl;
}

}  // namespace sslshim::runtime::cli
