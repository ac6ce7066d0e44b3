#include "runtime/cli/fetch_command.h"

#include <iostream>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "runtime/cli/cli_common.h"
#include "runtime/header_list.h"
#include "runtime/https_client.h"
#include "runtime/url.h"

ABSL_FLAG(std::string, cacert, "", "CA bundle to verify the server with");
ABSL_FLAG(std::string, cert, "", "client certificate chain");
ABSL_FLAG(std::string, key, "", "client private key");
ABSL_FLAG(bool, k, false, "insecure: do not verify the server");
ABSL_FLAG(std::vector<std::string>, H, {}, "extra header 'Name: value'");
ABSL_FLAG(std::string, d, "", "request body (POST unless -X)");
ABSL_FLAG(std::string, X, "", "request method");
ABSL_FLAG(bool, body, false, "include the response body in the JSON");

namespace sslshim::runtime::cli {
namespace {

const CommandSpec kSpec = {
    .name = "fetch",
    .synopsis = "[flags] URL",
    .summary =
        "HTTPS request with the runtime's client (requests-like), one per\n"
        "connection, no redirects. Prints one JSON object: status, reason,\n"
        "headers, body_length (and body with --body), tls_version, cipher,\n"
        "peercert, peercert_sha256; on failure ok=false with error_kind,\n"
        "verify_code, verify_message and message. Without --cacert or -k the\n"
        "runtime's defaults apply (PYTHONHTTPSVERIFY toggle, default CA\n"
        "bundle from SSL_CERT_FILE / app.yaml).",
    .flags = {{"cacert",
               "CA bundle: FILE or store:PATH[#field] (default field "
               "cert); verification on"},
              {"cert", "client certificate chain: FILE or store:PATH[#field]"},
              {"key",
               "client key: FILE or store:PATH[#field] (default: the "
               "--cert record's key_str)"},
              {"k", "insecure: do not verify the server (verify=False)"},
              {"H", "extra request header 'Name: value'", /*repeatable=*/true},
              {"d", "request body (method POST unless -X)"},
              {"X", "request method (default GET, or POST with -d)"},
              {"body", "include the response body in the JSON"},
              {"timeout",
               "seconds for the whole request: connect, handshake, sending "
               "and the complete response (like curl --max-time)"},
              {"store", "certificate store URL (default $SSLSHIM_STORE)"},
              {"app", "app.yaml (path or store: ref)"}},
    .min_positional = 1,
    .max_positional = 1,
};

absl::StatusOr<ClientRequest> BuildRequest(CliRuntime& rt, const ParsedArgs& args) {
  ClientRequest req;
  req.url = args.positional[0];
  req.body = absl::GetFlag(FLAGS_d);
  req.method = absl::GetFlag(FLAGS_X);
  if (req.method.empty()) req.method = req.body.empty() ? "GET" : "POST";
  // A URL or method that cannot be sent is a usage error, like a bad --port
  // elsewhere (exit 2), not a verdict about the server.
  if (absl::StatusOr<Url> url = ParseUrl(req.url); !url.ok()) {
    return absl::FailedPreconditionError(url.status().message());
  }
  if (!req.method.empty() && !IsHttpToken(req.method)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "-X '", absl::CHexEscape(req.method), "': not an HTTP method token"));
  }
  // --timeout bounds the whole request, not each read: a server that drips
  // a byte at a time or never ends its response is cut off at the deadline.
  absl::StatusOr<absl::Duration> timeout =
      SecondsFlag("timeout", absl::GetFlag(FLAGS_timeout));
  if (!timeout.ok()) return timeout.status();
  req.timeout = *timeout;
  req.deadline = *timeout;
  auto it = args.repeated.find("H");
  for (const std::string& h :
       it == args.repeated.end() ? std::vector<std::string>{} : it->second) {
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("-H '", h, "': expected 'Name: value'"));
    }
    req.headers.Add(h.substr(0, colon), std::string(absl::StripLeadingAsciiWhitespace(
                                            absl::string_view(h).substr(colon + 1))));
  }
  if (absl::GetFlag(FLAGS_k)) {
    req.verify = false;
  } else if (const std::string cacert = absl::GetFlag(FLAGS_cacert); !cacert.empty()) {
    absl::StatusOr<shim::Source> ca = rt.SourceFor(cacert, "cert");
    if (!ca.ok()) return ca.status();
    req.verify = *std::move(ca);
  }
  if (const std::string cert = absl::GetFlag(FLAGS_cert); !cert.empty()) {
    absl::StatusOr<shim::Source> c = rt.SourceFor(cert, "cert");
    if (!c.ok()) return c.status();
    absl::StatusOr<shim::Source> k =
        rt.SourceFor(KeyArgFor(cert, absl::GetFlag(FLAGS_key)), "key_str");
    if (!k.ok()) return k.status();
    req.cert = {.cert = *std::move(c), .key = *std::move(k)};
  }
  return req;
}

}  // namespace

int RunFetch(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(kSpec, args, std::cout, std::cerr);
  if (!parsed.ok()) return ExitForParse(parsed.status());
  auto fail = [](const absl::Status& s) { return ReportFailure("fetch", s); };
  absl::StatusOr<std::unique_ptr<CliRuntime>> rt = CliRuntime::FromFlags();
  if (!rt.ok()) return fail(rt.status());
  absl::StatusOr<ClientRequest> req = BuildRequest(**rt, *parsed);
  if (!req.ok()) return fail(req.status());
  // The runtime's defaults for an unset verify: the toggle (warning logged
  // once when it is off) and the default CA bundle.
  const AppRuntime& app = (*rt)->app();
  ClientDefaults defaults{.verify = true, .ca_bundle = app.ca_bundle().path()};
  if (!req->verify.is_set()) defaults.verify = app.verify_policy().ClientVerify({});
  HttpsClient client(std::move(defaults));
  absl::StatusOr<ClientResponse> r = client.Fetch(*req);
  // TLS refusals, DNS, refused connections, timeouts exit 1.
  if (!r.ok()) return fail(r.status());
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : r->headers.fields()) headers.push_back({name, value});
  nlohmann::json result = {{"ok", true},
                           {"status", r->status_code},
                           {"reason", r->reason},
                           {"http_version", r->http_version},
                           {"url", r->url},
                           {"headers", headers},
                           {"body_length", r->body.size()}};
  if (absl::GetFlag(FLAGS_body)) result["body"] = r->body;
  if (!r->tls_version.empty()) {
    result["tls_version"] = r->tls_version;
    result["cipher"] = r->cipher;
    result["peercert"] = PyValueJson(r->peer_cert);
    result["peercert_sha256"] = Sha256Fingerprint(r->peer_cert_der);
  }
  PrintJson(std::cout, result);
  return kExitOk;
}

}  // namespace sslshim::runtime::cli
