#include "runtime/cli/cert_commands.h"

#include <iostream>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "openssl/x509v3.h"
#include "runtime/cli/cli_common.h"
#include "shim/errors.h"
#include "shim/match_hostname.h"
#include "shim/peercert.h"

ABSL_FLAG(std::string, ca_bundle, "", "trusted CA certificates");
ABSL_FLAG(std::string, chain, "", "certificate chain, leaf first");
ABSL_FLAG(std::string, hostname, "", "host name to check");
ABSL_FLAG(std::string, ip, "", "IP address to check");
ABSL_FLAG(int64_t, at, -1, "verification time, Unix seconds");
ABSL_FLAG(std::string, purpose, "server", "server|client");
ABSL_FLAG(int, max_depth, -1, "maximum chain depth");
ABSL_FLAG(std::vector<std::string>, crl, {}, "CRL file");
ABSL_FLAG(bool, partial_chain, false, "trust an intermediate in the bundle");
ABSL_FLAG(bool, repr, false, "print Python repr instead of JSON");
ABSL_FLAG(std::string, cert_json, "", "getpeercert() JSON document");
ABSL_FLAG(std::string, cert_pem, "", "PEM certificate");

namespace sslshim::runtime::cli {
namespace {

const FlagDoc kStoreDoc = {"store", "certificate store URL (default $SSLSHIM_STORE)"};
const FlagDoc kAppDoc = {"app", "app.yaml (path or store: ref)"};

const CommandSpec kVerifySpec = {
    .name = "verify",
    .synopsis = "--ca-bundle FILE --chain FILE [flags]",
    .summary =
        "Verifies the first certificate of --chain (the rest are untrusted\n"
        "intermediates) against --ca-bundle as a TLS client would, and prints\n"
        "a JSON verdict: ok, verify_code, verify_message, error_depth, chain\n"
        "(subjects, leaf first). Exit 0 verified, 1 not verified.",
    .flags = {{"ca_bundle",
               "trusted CAs: FILE or store:PATH[#field] (default "
               "field cert)"},
              {"chain",
               "leaf first, then intermediates: FILE or "
               "store:PATH[#field] (default field cert)"},
              {"hostname", "DNS name the leaf must match (X509 code 62 if not)"},
              {"ip", "IP address the leaf must match (X509 code 64 if not)"},
              {"at", "verify at this Unix time instead of now"},
              {"purpose", "server (TLS server certificate) or client"},
              {"max_depth", "maximum chain depth (-1: BoringSSL's default)"},
              {"crl", "CRL (PEM or DER) checked for every certificate",
               /*repeatable=*/true},
              {"partial_chain",
               "accept a chain ending at any certificate "
               "of the bundle (X509_V_FLAG_PARTIAL_CHAIN)"},
              kStoreDoc,
              kAppDoc},
};

const CommandSpec kPeercertSpec = {
    .name = "peercert",
    .synopsis = "[--repr] FILE",
    .summary =
        "Prints the getpeercert() structure of the first certificate in FILE\n"
        "(a path or store:PATH[#field], default field cert; leading non-PEM\n"
        "text is skipped; DER accepted) as JSON (tuples as arrays, CPython's\n"
        "keys), or with --repr as Python's repr().",
    .flags = {{"repr", "print Python repr() instead of JSON"}, kStoreDoc, kAppDoc},
    .min_positional = 1,
    .max_positional = 1,
};

const CommandSpec kMatchSpec = {
    .name = "match-hostname",
    .synopsis = "(--cert-json FILE | --cert-pem FILE) --hostname NAME",
    .summary =
        "ssl.match_hostname(cert, hostname) as CPython 3.11 does it, on a\n"
        "getpeercert()-shaped JSON document (--cert-json; what `sslshim\n"
        "peercert` prints) or on a PEM certificate (--cert-pem). Exit 0 on a\n"
        "match; 1 with CPython's CertificateError message on stderr; 3 for\n"
        "CPython's ValueErrors (e.g. an empty certificate dictionary).",
    .flags = {{"cert_json", "getpeercert() JSON: FILE or store:PATH#field"},
              {"cert_pem",
               "PEM certificate: FILE or store:PATH[#field] "
               "(default field cert)"},
              {"hostname", "host name or IP address to match"},
              kStoreDoc,
              kAppDoc},
};

int Fail(absl::string_view command, const absl::Status& s) {
  std::cerr << ErrorLine(command, s) << "\n";
  return ExitCodeFor(s);
}

// ParseCerts reads every certificate of `data` (PEM with any text between,
// or one DER certificate). Errors: InvalidArgument when there is none.
absl::StatusOr<std::vector<bssl::UniquePtr<X509>>> ParseCerts(absl::string_view data,
                                                              absl::string_view what) {
  std::vector<bssl::UniquePtr<X509>> certs;
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(data.data(), data.size()));
  while (bio != nullptr) {
    bssl::UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    certs.push_back(std::move(cert));
  }
  if (certs.empty()) {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(data.data());
    bssl::UniquePtr<X509> der(d2i_X509(nullptr, &p, static_cast<long>(data.size())));
    if (der != nullptr) certs.push_back(std::move(der));
  }
  shim::ClearErrorQueue();
  if (certs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no certificate found in ", what));
  }
  return certs;
}

absl::StatusOr<std::vector<bssl::UniquePtr<X509_CRL>>> ParseCrls(absl::string_view data,
                                                                 absl::string_view what) {
  std::vector<bssl::UniquePtr<X509_CRL>> crls;
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(data.data(), data.size()));
  while (bio != nullptr) {
    bssl::UniquePtr<X509_CRL> crl(
        PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    if (crl == nullptr) break;
    crls.push_back(std::move(crl));
  }
  if (crls.empty()) {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(data.data());
    bssl::UniquePtr<X509_CRL> der(
        d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
    if (der != nullptr) crls.push_back(std::move(der));
  }
  shim::ClearErrorQueue();
  if (crls.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no CRL found in ", what));
  }
  return crls;
}

// JsonToPyValue converts a getpeercert()-shaped JSON document back to the
// PyValue match_hostname takes: objects are dicts, arrays tuples.
absl::StatusOr<shim::PyValue> JsonToPyValue(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return shim::PyValue();
    case nlohmann::json::value_t::string:
      return shim::PyValue::Str(j.get<std::string>());
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return shim::PyValue::Int(j.get<int64_t>());
    case nlohmann::json::value_t::array: {
      std::vector<shim::PyValue> items;
      for (const nlohmann::json& item : j) {
        absl::StatusOr<shim::PyValue> v = JsonToPyValue(item);
        if (!v.ok()) return v.status();
        items.push_back(*std::move(v));
      }
      return shim::PyValue::Tuple(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      std::vector<std::pair<std::string, shim::PyValue>> entries;
      for (const auto& [key, value] : j.items()) {
        absl::StatusOr<shim::PyValue> v = JsonToPyValue(value);
        if (!v.ok()) return v.status();
        entries.emplace_back(key, *std::move(v));
      }
      return shim::PyValue::Dict(std::move(entries));
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected JSON value in a certificate: ", j.dump()));
  }
}

}  // namespace

int RunVerify(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(kVerifySpec, args, std::cout, std::cerr);
  if (!parsed.ok()) return ExitForParse(parsed.status());
  absl::StatusOr<std::unique_ptr<CliRuntime>> rt = CliRuntime::FromFlags();
  if (!rt.ok()) return Fail("verify", rt.status());
  absl::StatusOr<std::string> ca_pem =
      (*rt)->ReadArg(absl::GetFlag(FLAGS_ca_bundle), "cert", "--ca-bundle");
  if (!ca_pem.ok()) return Fail("verify", ca_pem.status());
  absl::StatusOr<std::string> chain_pem =
      (*rt)->ReadArg(absl::GetFlag(FLAGS_chain), "cert", "--chain");
  if (!chain_pem.ok()) return Fail("verify", chain_pem.status());
  auto cas = ParseCerts(*ca_pem, "--ca-bundle");
  if (!cas.ok()) return Fail("verify", cas.status());
  auto chain = ParseCerts(*chain_pem, "--chain");
  if (!chain.ok()) return Fail("verify", chain.status());

  bssl::UniquePtr<X509_STORE> store(X509_STORE_new());
  bssl::UniquePtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  bssl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (store == nullptr || untrusted == nullptr || ctx == nullptr) {
    return Fail("verify", absl::InternalError("out of memory"));
  }
  for (const auto& ca : *cas) X509_STORE_add_cert(store.get(), ca.get());
  for (size_t i = 1; i < chain->size(); ++i) {
    X509* c = (*chain)[i].get();
    X509_up_ref(c);
    sk_X509_push(untrusted.get(), c);  // The stack owns the reference.
  }
  unsigned long flags = 0;
  for (const std::string& crl_arg : absl::GetFlag(FLAGS_crl)) {
    absl::StatusOr<std::string> bytes = (*rt)->ReadArg(crl_arg, "crl", "--crl");
    if (!bytes.ok()) return Fail("verify", bytes.status());
    auto crls = ParseCrls(*bytes, crl_arg);
    if (!crls.ok()) return Fail("verify", crls.status());
    for (const auto& crl : *crls) X509_STORE_add_crl(store.get(), crl.get());
    flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  }
  if (absl::GetFlag(FLAGS_partial_chain)) flags |= X509_V_FLAG_PARTIAL_CHAIN;
  if (!X509_STORE_CTX_init(ctx.get(), store.get(), (*chain)[0].get(), untrusted.get())) {
    return Fail("verify", absl::InternalError("X509_STORE_CTX_init failed"));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  if (flags != 0) X509_VERIFY_PARAM_set_flags(param, flags);
  const std::string purpose = absl::GetFlag(FLAGS_purpose);
  if (purpose != "server" && purpose != "client") {
    std::cerr << "sslshim verify: --purpose must be server or client\n";
    return kExitUsage;
  }
  X509_STORE_CTX_set_purpose(
      ctx.get(), purpose == "server" ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT);
  if (const std::string host = absl::GetFlag(FLAGS_hostname); !host.empty()) {
    X509_VERIFY_PARAM_set1_host(param, host.data(), host.size());
  }
  if (const std::string ip = absl::GetFlag(FLAGS_ip); !ip.empty()) {
    if (!X509_VERIFY_PARAM_set1_ip_asc(param, ip.c_str())) {
      shim::ClearErrorQueue();
      std::cerr << "sslshim verify: --ip '" << ip << "' is not an IP address\n";
      return kExitUsage;
    }
  }
  if (const int64_t at = absl::GetFlag(FLAGS_at); at >= 0) {
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
  }
  if (const int depth = absl::GetFlag(FLAGS_max_depth); depth >= 0) {
    X509_VERIFY_PARAM_set_depth(param, depth);
  }
  const bool ok = X509_verify_cert(ctx.get()) == 1;
  shim::ClearErrorQueue();
  const int code = X509_STORE_CTX_get_error(ctx.get());
  nlohmann::json verdict = {{"ok", ok},
                            {"verify_code", code},
                            {"verify_message", X509_verify_cert_error_string(code)}};
  if (!ok) verdict["error_depth"] = X509_STORE_CTX_get_error_depth(ctx.get());
  nlohmann::json subjects = nlohmann::json::array();
  if (STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get()); ok && built) {
    for (size_t i = 0; i < sk_X509_num(built); ++i) {
      subjects.push_back(SubjectRfc2253(sk_X509_value(built, i)));
    }
    verdict["chain"] = subjects;
  }
  PrintJson(std::cout, verdict);
  if (ok) return kExitOk;
  std::cerr << "sslshim verify: certificate verify failed: "
            << X509_verify_cert_error_string(code) << " [verify code " << code << "]\n";
  return kExitFailed;
}

int RunPeercert(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed =
      ParseArgs(kPeercertSpec, args, std::cout, std::cerr);
  if (!parsed.ok()) return ExitForParse(parsed.status());
  absl::StatusOr<std::unique_ptr<CliRuntime>> rt = CliRuntime::FromFlags();
  if (!rt.ok()) return Fail("peercert", rt.status());
  const std::string& file = parsed->positional[0];
  absl::StatusOr<std::string> bytes = (*rt)->ReadArg(file, "cert", file);
  if (!bytes.ok()) return Fail("peercert", bytes.status());
  auto certs = ParseCerts(*bytes, file);
  if (!certs.ok()) return Fail("peercert", certs.status());
  const shim::PyValue cert = shim::DecodeCertificate((*certs)[0].get());
  std::cout << (absl::GetFlag(FLAGS_repr) ? cert.ToPythonRepr() : cert.ToJson())
            << std::endl;
  return kExitOk;
}

int RunMatchHostname(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(kMatchSpec, args, std::cout, std::cerr);
  if (!parsed.ok()) return ExitForParse(parsed.status());
  const std::string json_arg = absl::GetFlag(FLAGS_cert_json);
  const std::string pem_arg = absl::GetFlag(FLAGS_cert_pem);
  const std::string hostname = absl::GetFlag(FLAGS_hostname);
  if (json_arg.empty() == pem_arg.empty() || hostname.empty()) {
    std::cerr << "sslshim match-hostname: give --hostname and exactly one of "
                 "--cert-json and --cert-pem\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<CliRuntime>> rt = CliRuntime::FromFlags();
  if (!rt.ok()) return Fail("match-hostname", rt.status());
  shim::PyValue cert;
  if (!json_arg.empty()) {
    absl::StatusOr<std::string> text = (*rt)->ReadArg(json_arg, "cert_json", json_arg);
    if (!text.ok()) return Fail("match-hostname", text.status());
    nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_discarded()) {
      return Fail("match-hostname",
                  absl::InvalidArgumentError(absl::StrCat(json_arg, ": not JSON")));
    }
    absl::StatusOr<shim::PyValue> value = JsonToPyValue(doc);
    if (!value.ok()) return Fail("match-hostname", value.status());
    cert = *std::move(value);
  } else {
    absl::StatusOr<std::string> bytes = (*rt)->ReadArg(pem_arg, "cert", pem_arg);
    if (!bytes.ok()) return Fail("match-hostname", bytes.status());
    auto certs = ParseCerts(*bytes, pem_arg);
    if (!certs.ok()) return Fail("match-hostname", certs.status());
    cert = shim::DecodeCertificate((*certs)[0].get());
  }
  absl::Status match = shim::match_hostname(cert, hostname);
  if (match.ok()) {
    std::cout << "ok: certificate matches '" << hostname << "'" << std::endl;
    return kExitOk;
  }
  // CertificateError is a verdict (1); CPython's ValueErrors are 3.
  const bool mismatch = shim::GetErrorKind(match) == shim::ErrorKind::kCertificateError;
  std::cerr << (mismatch ? "CertificateError: " : "ValueError: ") << match.message()
            << "\n";
  return mismatch ? kExitFailed : kExitBadValue;
}

}  // namespace sslshim::runtime::cli
