#include "runtime/app_config.h"

#include <set>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "yaml-cpp/yaml.h"

namespace sslshim::runtime {
namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;

// OneLine C-escapes control characters only: yaml-cpp quotes the offending
// character raw ("unknown escape character: <CR>"), which would split the
// one-line error; the rest of its message is kept as written.
std::string OneLine(absl::string_view s) {
  std::string out;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      absl::StrAppend(&out, absl::CEscape(absl::string_view(&c, 1)));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Parser walks a yaml-cpp document (the only code here that can see
// yaml-cpp's exceptions; they never leave this file).
class Parser {
 public:
  explicit Parser(absl::string_view name) : name_(name) {}

  absl::Status Error(const YAML::Mark& mark, absl::string_view what) const {
    // yaml-cpp marks are 0-based; a null node has no mark (-1).
    int line = mark.line >= 0 ? mark.line + 1 : last_line_;
    return absl::InvalidArgumentError(absl::StrCat(name_, ":", line, ": ", what));
  }

  // Returns the scalar text of `node`, or an error naming `what`.
  absl::StatusOr<std::string> Scalar(const YAML::Node& node, absl::string_view what) {
    Note(node);
    if (!node.IsScalar()) {
      return Error(MarkOf(node), absl::StrCat(what,
                                              " must be a string or "
                                              "number, not ",
                                              TypeOf(node)));
    }
    return node.Scalar();
  }

  absl::StatusOr<bool> Bool(const YAML::Node& node, absl::string_view what) {
    absl::StatusOr<std::string> s = Scalar(node, what);
    if (!s.ok()) return s.status();
    std::string v = absl::AsciiStrToLower(*s);
    if (v == "true" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "no" || v == "off") return false;
    return Error(node.Mark(), absl::StrCat(what, " must be true or false, not \"",
                                           absl::CEscape(*s), "\""));
  }

  // Iterates a mapping, refusing non-scalar and duplicate keys, calling
  // fn(key, value) for each entry.
  template <typename Fn>
  absl::Status ForEachEntry(const YAML::Node& map, absl::string_view what, Fn fn) {
    Note(map);
    if (!map.IsMap()) {
      return Error(MarkOf(map),
                   absl::StrCat(what, " must be a mapping, not ", TypeOf(map)));
    }
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      absl::StatusOr<std::string> key =
          Scalar(it->first, absl::StrCat("a key of ", what));
      if (!key.ok()) return key.status();
      if (!seen.insert(*key).second) {
        return Error(it->first.Mark(), absl::StrCat("duplicate key \"",
                                                    absl::CEscape(*key), "\" in ", what));
      }
      absl::Status s = fn(*key, it->first.Mark(), it->second);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status Libraries(const YAML::Node& node, AppConfig& config) {
    Note(node);
    if (!node.IsSequence()) {
      return Error(MarkOf(node),
                   absl::StrCat("libraries must be a list of {name, version} "
                                "entries, not ",
                                TypeOf(node)));
    }
    std::set<std::string> names;
    for (const YAML::Node& entry : node) {
      std::string lib_name, version;
      YAML::Mark name_mark = entry.Mark();
      bool has_version = false;
      absl::Status s = ForEachEntry(
          entry, "a libraries entry",
          [&](const std::string& key, const YAML::Mark& mark,
              const YAML::Node& value) -> absl::Status {
            if (key == "name") {
              name_mark = mark;
              absl::StatusOr<std::string> v = Scalar(value, "library name");
              if (!v.ok()) return v.status();
              lib_name = *v;
            } else if (key == "version") {
              absl::StatusOr<std::string> v = Scalar(value, "library version");
              if (!v.ok()) return v.status();
              version = *v;
              has_version = true;
            } else {
              return Error(mark, absl::StrCat("unknown key \"", absl::CEscape(key),
                                              "\" in a libraries entry "
                                              "(expected name, version)"));
            }
            return absl::OkStatus();
          });
      if (!s.ok()) return s;
      if (lib_name.empty()) {
        return Error(entry.Mark(), "a libraries entry has no name");
      }
      if (!names.insert(lib_name).second) {
        return Error(name_mark, absl::StrCat("library \"", absl::CEscape(lib_name),
                                             "\" is listed twice"));
      }
      if (lib_name != "ssl") continue;  // Other libraries are not ours.
      if (!has_version) {
        return Error(name_mark, "the ssl library needs a version (version: latest)");
      }
      absl::StatusOr<TlsRange> range = TlsRangeForSslVersion(version);
      if (!range.ok()) return Error(name_mark, range.status().message());
      config.ssl_enabled = true;
      config.ssl_version = version;
      config.tls = *range;
    }
    return absl::OkStatus();
  }

  absl::Status EnvVariables(const YAML::Node& node, AppConfig& config) {
    return ForEachEntry(
        node, "env_variables",
        [&](const std::string& key, const YAML::Mark& mark,
            const YAML::Node& value) -> absl::Status {
          if (!IsValidEnvName(key)) {
            return Error(mark, absl::StrCat("env_variables: \"", absl::CEscape(key),
                                            "\" is not a valid variable name"));
          }
          absl::StatusOr<std::string> v =
              Scalar(value, absl::StrCat("env_variables.", key));
          if (!v.ok()) return v.status();
          config.env_variables[key] = *v;
          return absl::OkStatus();
        });
  }

  absl::Status Top(const YAML::Node& root, AppConfig& config) {
    if (root.IsNull()) return absl::OkStatus();  // Empty document.
    return ForEachEntry(
        root, "the app config",
        [&](const std::string& key, const YAML::Mark& mark,
            const YAML::Node& value) -> absl::Status {
          last_line_ = mark.line + 1;
          if (key == "libraries") return Libraries(value, config);
          if (key == "env_variables") return EnvVariables(value, config);
          if (key == "runtime") {
            absl::StatusOr<std::string> v = Scalar(value, "runtime");
            if (!v.ok()) return v.status();
            config.runtime = *v;
            return absl::OkStatus();
          }
          if (key == "api_version") return Scalar(value, "api_version").status();
          if (key == "threadsafe") return Bool(value, "threadsafe").status();
          if (key == "ca_bundle") {
            absl::StatusOr<std::string> v = Scalar(value, "ca_bundle");
            if (!v.ok()) return v.status();
            if (v->empty()) return Error(mark, "ca_bundle must not be empty");
            config.ca_bundle = *v;
            return absl::OkStatus();
          }
          if (key == "verify_env_name") {
            absl::StatusOr<std::string> v = Scalar(value, "verify_env_name");
            if (!v.ok()) return v.status();
            if (!IsValidEnvName(*v)) {
              return Error(mark, absl::StrCat("verify_env_name \"", absl::CEscape(*v),
                                              "\" is not a valid variable "
                                              "name ([A-Za-z_][A-Za-z0-9_]*)"));
            }
            config.verify_env_name = *v;
            return absl::OkStatus();
          }
          return Error(mark, absl::StrCat("unknown key \"", absl::CEscape(key),
                                          "\" (expected one of: runtime, api_version, "
                                          "threadsafe, libraries, env_variables, "
                                          "ca_bundle, verify_env_name)"));
        });
  }

 private:
  static absl::string_view TypeOf(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Null:
        return "nothing (null)";
      case YAML::NodeType::Scalar:
        return "a scalar";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Map:
        return "a mapping";
      default:
        return "undefined";
    }
  }

  // A null value has no text of its own: yaml-cpp marks it where the next
  // token starts, so it is reported on its key's line instead.
  static YAML::Mark MarkOf(const YAML::Node& node) {
    return node.IsNull() ? YAML::Mark::null_mark() : node.Mark();
  }

  // Remembers the last line seen, for nodes without a mark (null values).
  void Note(const YAML::Node& node) {
    if (MarkOf(node).line >= 0) last_line_ = node.Mark().line + 1;
  }

  std::string name_;
  int last_line_ = 1;
};

}  // namespace

absl::StatusOr<TlsRange> TlsRangeForSslVersion(absl::string_view version) {
  using shim::TLSVersion;
  if (version == "latest") {
    return TlsRange{TLSVersion::TLSv1_2, TLSVersion::TLSv1_3};
  }
  if (version == "2.7.11") {
    return TlsRange{TLSVersion::TLSv1, TLSVersion::TLSv1_2};
  }
  if (version == "2.7") {
    return absl::InvalidArgumentError(
        "ssl library version 2.7 (TLS 1.0 only) is deprecated and not "
        "offered; use version: latest (TLS 1.2-1.3) or 2.7.11 (TLS 1.0-1.2)");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown ssl library version \"", absl::CEscape(version),
                   "\"; accepted: latest (TLS 1.2-1.3), 2.7.11 (TLS 1.0-1.2)"));
}

absl::Status AppConfig::RequireSsl() const {
  if (ssl_enabled) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "the ssl library is not enabled for this app; add these lines to "
      "app.yaml:\n"
      "libraries:\n"
      "- name: ssl\n"
      "  version: latest");
}

absl::StatusOr<AppConfig> ParseAppConfig(absl::string_view yaml, absl::string_view name) {
  if (yaml.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": the config is ", yaml.size(),
                                                   " bytes; at most ", kMaxConfigBytes,
                                                   " are accepted"));
  }
  Parser parser(name);
  AppConfig config;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    absl::Status s = parser.Top(root, config);
    if (!s.ok()) return s;
  } catch (const YAML::Exception& e) {
    // e.msg is yaml-cpp's reason without its own "line N" prefix.
    return parser.Error(e.mark, absl::StrCat("malformed YAML: ", OneLine(e.msg)));
  }
  return config;
}

absl::StatusOr<AppConfig> LoadAppConfig(const shim::Source& source) {
  absl::StatusOr<shim::SecureBytes> bytes =
      shim::ReadSource(source, "app config", kMaxConfigBytes);
  if (!bytes.ok()) return bytes.status();
  return ParseAppConfig(bytes->view(), source.Describe());
}

}  // namespace sslshim::runtime
