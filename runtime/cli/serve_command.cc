#include "runtime/cli/serve_command.h"

#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "runtime/cli/cli_common.h"
#include "runtime/cli/echo_server.h"
#include "runtime/https_server.h"
#include "runtime/slot_context_provider.h"
#include "runtime/store_reader.h"
#include "runtime/termination_signal.h"

ABSL_FLAG(bool, http, false, "serve HTTPS");
ABSL_FLAG(bool, echo, false, "serve a raw TLS echo");
ABSL_FLAG(std::string, verify, "none", "none|optional|required");
ABSL_FLAG(int, threads, 0, "event loops");
ABSL_FLAG(double, recheck, 1, "seconds between store generation checks");

namespace sslshim::runtime::cli {
namespace {

const CommandSpec kSpec = {
    .name = "serve",
    .synopsis = "(--http | --echo) --certfile FILE [flags]",
    .summary =
        "TLS server on 127.0.0.1 (--port 0 picks a free port and prints\n"
        "'PORT <n>' once listening). --http: HTTPS server whose handler echoes\n"
        "the request and the client identity as JSON; GET /_status returns\n"
        "the server counters and the credential slots (generation, last\n"
        "error, last change). --echo: raw TLS echo. One JSON line per\n"
        "connection. When --certfile is a store: reference (and --keyfile\n"
        "is absent or names the same record), the context is cached in a\n"
        "credential slot and rebuilt when the record's generation changes;\n"
        "when the store fails or is damaged underneath (a truncated LMDB\n"
        "file), the last good credentials keep serving and /_status names\n"
        "the error. A bad --port, --timeout or --recheck value exits 2; a\n"
        "port that cannot be bound (in use) exits 1.\n"
        "SIGTERM/SIGINT: graceful shutdown, exit 0.",
    .flags = {{"http", "HTTPS server (request echoed as JSON)"},
              {"echo", "raw TLS echo server"},
              {"host", "address to listen on"},
              {"port", "port to listen on; 0 picks a free one"},
              {"certfile",
               "server certificate chain: FILE or store:PATH[#field] "
               "(default field cert)"},
              {"keyfile",
               "server key: FILE or store:PATH[#field] (default "
               "field key_str); default: the certfile's record or file"},
              {"cafile",
               "CAs for client certificates: FILE or "
               "store:PATH[#field] (default field cert)"},
              {"verify", "client certificates: none, optional or required"},
              {"threads", "HTTPS event loops, 0..1024 (0: one per core)"},
              {"timeout",
               "handshake timeout and idle timeout (between requests on a "
               "kept-alive connection), seconds in (0, 86400]"},
              {"recheck", "seconds between store generation checks, in (0, 86400]"},
              {"store", "certificate store URL (default $SSLSHIM_STORE)"},
              {"app", "app.yaml (path or store: ref)"}},
};

absl::StatusOr<shim::VerifyMode> ParseVerify(absl::string_view v) {
  if (v == "none") return shim::CERT_NONE;
  if (v == "optional") return shim::CERT_OPTIONAL;
  if (v == "required") return shim::CERT_REQUIRED;
  return absl::InvalidArgumentError(
      absl::StrCat("--verify must be none, optional or required, not '", v, "'"));
}

// Provider holds the context provider and, for store credentials, the slot.
struct Provider {
  std::shared_ptr<ContextProvider> provider;
  std::shared_ptr<SlotContextProvider> slot;
};

absl::StatusOr<Provider> MakeProvider(CliRuntime& rt, shim::VerifyMode verify,
                                      absl::Duration recheck) {
  const std::string certfile = absl::GetFlag(FLAGS_certfile);
  const std::string keyfile = absl::GetFlag(FLAGS_keyfile);
  const std::string cafile = absl::GetFlag(FLAGS_cafile);
  if (certfile.empty()) {
    return absl::FailedPreconditionError("--certfile is required");
  }
  if (IsStoreRef(certfile) && (keyfile.empty() || IsStoreRef(keyfile))) {
    absl::StatusOr<StoreRef> cert = ParseStoreRef(certfile, "cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<StoreRef> key = keyfile.empty() ? StoreRef{cert->path, "key_str"}
                                                   : ParseStoreRef(keyfile, "key_str");
    if (!key.ok()) return key.status();
    if (key->path.ToString() == cert->path.ToString()) {
      SlotOptions options{.cert_field = cert->field,
                          .key_field = key->field,
                          .recheck_interval = recheck};
      ServerContextRecipe recipe{.verify = verify};
      if (IsStoreRef(cafile)) {
        absl::StatusOr<StoreRef> ca = ParseStoreRef(cafile, "cert");
        if (!ca.ok()) return ca.status();
        if (ca->path.ToString() == cert->path.ToString()) options.ca_field = ca->field;
      }
      if (options.ca_field.empty()) {
        absl::StatusOr<shim::Source> ca = rt.SourceFor(cafile, "cert");
        if (!ca.ok()) return ca.status();
        recipe.ca = *std::move(ca);
      }
      absl::StatusOr<certstore::CertStore*> store = rt.store();
      if (!store.ok()) return store.status();
      absl::StatusOr<std::shared_ptr<SlotContextProvider>> slot =
          SlotContextProvider::Create(*store, cert->path, std::move(recipe),
                                      std::move(options));
      if (!slot.ok()) return slot.status();
      return Provider{*slot, *slot};
    }
  }
  // Files, or readers of different records: read at every connection.
  shim::WrapSocketArgs args{.server_side = true, .cert_reqs = verify};
  absl::StatusOr<shim::Source> cert = rt.SourceFor(certfile, "cert");
  if (!cert.ok()) return cert.status();
  args.certfile = *std::move(cert);
  absl::StatusOr<shim::Source> key = rt.SourceFor(keyfile, "key_str");
  if (!key.ok()) return key.status();
  args.keyfile = *std::move(key);
  if (verify != shim::CERT_NONE) {
    absl::StatusOr<shim::Source> ca = rt.SourceFor(cafile, "cert");
    if (!ca.ok()) return ca.status();
    args.ca_certs = *std::move(ca);
  }
  // Fail at start, not at the first connection, when the credentials are bad.
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> probe = shim::MakeWrapContext(args);
  if (!probe.ok()) return probe.status();
  return Provider{WrapArgsContextProvider(std::move(args)), nullptr};
}

nlohmann::json SlotsJson(const Provider& p) {
  nlohmann::json slots = nlohmann::json::array();
  if (p.slot != nullptr) slots.push_back(PyValueJson(p.slot->status().ToPyValue()));
  return slots;
}

// EchoRequest is the --http handler's answer: the request and the client
// identity as JSON.
HttpResponse EchoRequest(const HttpRequest& req) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : req.headers) headers.push_back({name, value});
  nlohmann::json client = {{"verified", false}};
  if (req.client != nullptr) {
    client = {{"verified", req.client->verified},
              {"subject", req.client->subject},
              {"peercert", PyValueJson(req.client->peercert)}};
  }
  nlohmann::json body = {
      {"method", req.method},
      {"target", req.target},
      {"version", absl::StrCat("HTTP/", req.version_major, ".", req.version_minor)},
      {"headers", headers},
      {"body", req.body},
      {"body_length", req.body.size()},
      {"peer", req.peer},
      {"client", client}};
  return HttpResponse{
      .headers = {{"Content-Type", "application/json"}},
      .body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

}  // namespace

int RunServe(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(kSpec, args, std::cout, std::cerr);
  if (!parsed.ok()) return ExitForParse(parsed.status());
  const bool http = absl::GetFlag(FLAGS_http);
  if (http == absl::GetFlag(FLAGS_echo)) {
    std::cerr << "sslshim serve: give exactly one of --http and --echo\n";
    return kExitUsage;
  }
  absl::StatusOr<shim::VerifyMode> verify = ParseVerify(absl::GetFlag(FLAGS_verify));
  absl::StatusOr<int> listen_port = PortFlag("port", absl::GetFlag(FLAGS_port), true);
  absl::StatusOr<absl::Duration> timeout =
      SecondsFlag("timeout", absl::GetFlag(FLAGS_timeout));
  absl::StatusOr<absl::Duration> recheck =
      SecondsFlag("recheck", absl::GetFlag(FLAGS_recheck));
  const int threads = absl::GetFlag(FLAGS_threads);
  const absl::Status threads_ok = threads >= 0 && threads <= 1024
                                      ? absl::OkStatus()
                                      : absl::FailedPreconditionError(absl::StrCat(
                                            "--threads must be 0..1024, not ", threads));
  for (const absl::Status& s : {verify.status(), listen_port.status(), timeout.status(),
                                recheck.status(), threads_ok}) {
    if (!s.ok()) {
      std::cerr << ErrorLine("serve", s) << "\n";
      return kExitUsage;
    }
  }
  // Before any thread starts, so the signals stay pending for the signalfd.
  if (absl::Status s = BlockTerminationSignals(); !s.ok()) {
    std::cerr << ErrorLine("serve", s) << "\n";
    return kExitFailed;
  }
  absl::StatusOr<std::unique_ptr<CliRuntime>> rt = CliRuntime::FromFlags();
  if (!rt.ok()) {
    std::cerr << ErrorLine("serve", rt.status()) << "\n";
    return ExitCodeFor(rt.status());
  }
  absl::StatusOr<Provider> provider = MakeProvider(**rt, *verify, *recheck);
  if (!provider.ok()) {
    std::cerr << ErrorLine("serve", provider.status()) << "\n";
    return ExitCodeFor(provider.status());
  }
  auto print_mu = std::make_shared<std::mutex>();
  auto on_event = [print_mu](const ConnectionEvent& e) {
    std::lock_guard<std::mutex> lock(*print_mu);
    std::cout << e.ToJson() << std::endl;
  };
  std::unique_ptr<HttpsServer> https;
  std::unique_ptr<EchoServer> echo;
  int port = 0;
  if (http) {
    HttpsServerOptions options;
    options.host = absl::GetFlag(FLAGS_host);
    options.port = *listen_port;
    options.threads = threads;
    // --timeout is documented as handshake-and-idle: both, not just the
    // handshake (idle keep-alive connections used to close at 60 s).
    options.handshake_timeout = *timeout;
    options.idle_timeout = *timeout;
    options.on_connection_closed = on_event;
    // The handler reads the server's counters once Start has returned.
    auto server_ptr = std::make_shared<std::atomic<HttpsServer*>>(nullptr);
    Provider p = *provider;
    absl::StatusOr<std::unique_ptr<HttpsServer>> server = HttpsServer::Start(
        options, p.provider,
        [server_ptr, p](const HttpRequest& req) -> absl::StatusOr<HttpResponse> {
          if (req.target != "/_status") return EchoRequest(req);
          nlohmann::json status = {{"slots", SlotsJson(p)}};
          if (HttpsServer* s = server_ptr->load())
            status["stats"] = nlohmann::json::parse(s->Stats().ToJson());
          return HttpResponse{.headers = {{"Content-Type", "application/json"}},
                              .body = status.dump() + "\n"};
        });
    if (!server.ok()) {
      std::cerr << ErrorLine("serve", server.status()) << "\n";
      return kExitFailed;
    }
    https = *std::move(server);
    server_ptr->store(https.get());
    port = https->port();
  } else {
    absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start(
        {.host = absl::GetFlag(FLAGS_host), .port = *listen_port, .timeout = *timeout},
        provider->provider, on_event);
    if (!server.ok()) {
      std::cerr << ErrorLine("serve", server.status()) << "\n";
      return kExitFailed;
    }
    echo = *std::move(server);
    port = echo->port();
  }
  {
    std::lock_guard<std::mutex> lock(*print_mu);
    std::cout << "PORT " << port << std::endl;
  }
  absl::StatusOr<int> sig = WaitForTerminationSignal();
  if (https != nullptr) https->Shutdown(absl::Seconds(5));
  if (echo != nullptr) echo->Shutdown();
  std::cerr << "sslshim serve: shut down"
            << (sig.ok() ? absl::StrCat(" on signal ", *sig) : "") << "\n";
  return sig.ok() ? kExitOk : kExitFailed;
}

}  // namespace sslshim::runtime::cli
