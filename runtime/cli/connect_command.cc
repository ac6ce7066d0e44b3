#include "runtime/cli/connect_command.h"

#include <iostream>
#include <memory>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/cli/cli_common.h"
#include "runtime/net.h"
#include "shim/errors.h"
#include "shim/ssl_socket.h"

ABSL_FLAG(std::string, server_hostname, "",
          "name sent as SNI and checked (default: --host)");
ABSL_FLAG(bool, no_check_hostname, false, "do not check the hostname");
ABSL_FLAG(bool, cert_none, false, "do not verify the server (CERT_NONE)");
ABSL_FLAG(std::string, send, "", "bytes to send after the handshake");

namespace sslshim::runtime::cli {
namespace {

const CommandSpec kSpec = {
    .name = "connect",
    .synopsis = "--port N [flags]",
    .summary =
        "Raw TLS client. Connects, handshakes, optionally sends --send and\n"
        "reads back as many bytes (or until EOF/timeout), and prints one JSON\n"
        "object: handshake, version, cipher, peercert (getpeercert()),\n"
        "peercert_sha256, received; on failure ok=false with error_kind,\n"
        "verify_code, verify_message and message. Without --cafile or\n"
        "--cert-none the runtime's defaults apply (PYTHONHTTPSVERIFY toggle,\n"
        "default CA bundle from SSL_CERT_FILE / app.yaml).",
    .flags = {{"host", "server address"},
              {"port", "server port"},
              {"server_hostname", "SNI name and the name checked (default: --host)"},
              {"cafile",
               "CAs to verify the server with: FILE or store:PATH[#field] "
               "(explicit: verification on)"},
              {"certfile", "client certificate chain: FILE or store:PATH[#field]"},
              {"keyfile",
               "client key: FILE or store:PATH[#field] (default field "
               "key_str)"},
              {"no_check_hostname", "verify the chain but not the hostname"},
              {"cert_none", "do not verify the server at all"},
              {"send", "bytes to send after the handshake"},
              {"timeout", "seconds for connect, handshake and each read"},
              {"store", "certificate store URL (default $SSLSHIM_STORE)"},
              {"app", "app.yaml (path or store: ref)"}},
};

absl::StatusOr<std::shared_ptr<shim::SSLContext>> ClientContext(CliRuntime& rt) {
  const std::string cafile = absl::GetFlag(FLAGS_cafile);
  DefaultContextOptions options;
  if (absl::GetFlag(FLAGS_cert_none)) {
    options.verify = false;
  } else if (!cafile.empty()) {
    absl::StatusOr<shim::Source> ca = rt.SourceFor(cafile, "cert");
    if (!ca.ok()) return ca.status();
    options.cafile = *std::move(ca);
    options.verify = true;
  }
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
      rt.app().create_default_context(Purpose::SERVER_AUTH, options);
  if (!ctx.ok()) return ctx.status();
  if (absl::GetFlag(FLAGS_no_check_hostname)) (*ctx)->set_check_hostname(false);
  const std::string certfile = absl::GetFlag(FLAGS_certfile);
  if (!certfile.empty()) {
    absl::StatusOr<shim::Source> cert = rt.SourceFor(certfile, "cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<shim::Source> key =
        rt.SourceFor(KeyArgFor(certfile, absl::GetFlag(FLAGS_keyfile)), "key_str");
    if (!key.ok()) return key.status();
    if (absl::Status s = (*ctx)->load_cert_chain(*cert, *key); !s.ok()) return s;
  }
  return ctx;
}

}  // namespace

int RunConnect(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(kSpec, args, std::cout, std::cerr);
  if (!parsed.ok()) return ExitForParse(parsed.status());
  auto fail = [](const absl::Status& s) { return ReportFailure("connect", s); };
  absl::StatusOr<int> port = PortFlag("port", absl::GetFlag(FLAGS_port), false);
  if (!port.ok()) return fail(port.status());
  absl::StatusOr<absl::Duration> timeout =
      SecondsFlag("timeout", absl::GetFlag(FLAGS_timeout));
  if (!timeout.ok()) return fail(timeout.status());
  absl::StatusOr<std::unique_ptr<CliRuntime>> rt = CliRuntime::FromFlags();
  if (!rt.ok()) return fail(rt.status());
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx = ClientContext(**rt);
  if (!ctx.ok()) return fail(ctx.status());
  const std::string host = absl::GetFlag(FLAGS_host);
  std::string server_hostname = absl::GetFlag(FLAGS_server_hostname);
  if (server_hostname.empty()) server_hostname = host;
  absl::StatusOr<int> fd = ConnectTcp(host, *port, *timeout);
  // A refused or timed-out connection is a failed operation, not bad input.
  if (!fd.ok()) return fail(absl::UnavailableError(fd.status().message()));
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> sock = (*ctx)->wrap_socket(
      *fd, {.do_handshake_on_connect = false, .server_hostname = server_hostname});
  if (!sock.ok()) return fail(sock.status());
  (void)(*sock)->settimeout(*timeout);
  if (absl::Status hs = (*sock)->do_handshake(); !hs.ok()) return fail(hs);
  nlohmann::json result = {
      {"ok", true}, {"handshake", "ok"}, {"version", (*sock)->version().value_or("")}};
  if (auto cipher = (*sock)->cipher()) result["cipher"] = cipher->name;
  if (absl::StatusOr<shim::PyValue> cert = (*sock)->getpeercert(); cert.ok()) {
    result["peercert"] = PyValueJson(*cert);
  }
  if (absl::StatusOr<std::string> der = (*sock)->getpeercert(shim::binary_form);
      der.ok() && !der->empty()) {
    result["peercert_sha256"] = Sha256Fingerprint(*der);
  }
  const std::string send = absl::GetFlag(FLAGS_send);
  if (!send.empty()) {
    if (absl::Status s = (*sock)->sendall(send); !s.ok()) return fail(s);
    std::string received;
    // One deadline for the whole read-back: a peer that drips a byte per
    // read must not stretch it to send.size() timeouts.
    const absl::Time deadline = absl::Now() + *timeout;
    while (received.size() < send.size()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) break;  // Report what arrived.
      (void)(*sock)->settimeout(left);
      absl::StatusOr<std::string> data = (*sock)->recv(send.size() - received.size());
      if (!data.ok()) {
        const shim::ErrorKind kind = shim::GetErrorKind(data.status());
        if (kind == shim::ErrorKind::kSSLZeroReturnError) break;  // close_notify.
        return fail(data.status());  // An alert (e.g. our certificate refused).
      }
      if (data->empty()) break;  // EOF.
      received += *data;
    }
    result["received"] = received;
  }
  (void)(*sock)->close();
  PrintJson(std::cout, result);
  return kExitOk;
}

}  // namespace sslshim::runtime::cli
