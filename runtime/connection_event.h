// connection_event.h
// -----------------------------------------------------------------------------
// What the HTTPS server reports: one ConnectionEvent per connection when it
// closes (handshake result, TLS version and cipher, the client certificate,
// the error on failure, bytes and requests), and a ServerStats snapshot of
// counters. `sslshim serve` prints each event as one JSON line.
//
//   options.on_connection_closed = [](const ConnectionEvent& e) {
//     std::cout << e.ToJson() << "\n";
//     // {"id":1,"peer":"127.0.0.1:50122","handshake":"ok","version":"TLSv1.3",
//     //  "cipher":"TLS_AES_128_GCM_SHA256","peercert":{...},"requests":2,...}
//   };
//   ServerStats s = server->Stats();

#ifndef SSLSHIM_RUNTIME_CONNECTION_EVENT_H_
#define SSLSHIM_RUNTIME_CONNECTION_EVENT_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "shim/errors.h"
#include "shim/py_value.h"

namespace sslshim::runtime {

// CloseReason says why the server ended a connection.
enum class CloseReason {
  kPeerClosed,        // The client closed (EOF or close_notify).
  kHandshakeFailed,   // TLS refused (error fields say why).
  kHandshakeTimeout,  // No complete handshake within handshake_timeout.
  kRequestTimeout,    // A request (or its response) took longer than
                      // request_timeout: the slow-client defence.
  kIdleTimeout,       // Keep-alive connection idle for idle_timeout.
  kBadRequest,        // Malformed or over a limit (400/413/431/505 sent).
  kConnectionClose,   // "Connection: close", HTTP/1.0, or request limit.
  kShutdown,          // Server shutting down (idle, or at the deadline).
  kMaxConnections,    // Refused at accept: max_connections reached.
  kContextError,      // The ContextProvider failed.
  kIoError,           // TLS or socket error after the handshake.
};

// CloseReasonName returns a stable snake_case name ("idle_timeout").
const char* CloseReasonName(CloseReason reason);

// ConnectionEvent describes one finished connection.
struct ConnectionEvent {
  uint64_t id = 0;      // Unique per server, in accept order.
  std::string peer;     // "127.0.0.1:50122".
  bool handshake_ok = false;
  std::string version;  // "TLSv1.3"; "" without a handshake.
  std::string cipher;   // "TLS_AES_128_GCM_SHA256".
  bool session_reused = false;
  // getpeercert(): None when the client sent no certificate (or the
  // handshake failed), {} under CERT_NONE, CPython's dict when verified.
  shim::PyValue peercert;
  std::string subject;  // RFC 2253 subject of the client certificate.
  // Failure details: the facade's error kind (kNone when none), the X509
  // verify code and message for certificate failures, and the message.
  shim::ErrorKind error_kind = shim::ErrorKind::kNone;
  absl::optional<long> verify_code;
  std::string verify_message;
  std::string error;
  CloseReason close_reason = CloseReason::kPeerClosed;
  uint64_t bytes_in = 0;   // Decrypted application bytes read.
  uint64_t bytes_out = 0;  // Application bytes written (before TLS).
  uint64_t requests = 0;   // Responses sent (including error responses).
  absl::Duration duration;

  // ToJson renders the event as one line of JSON (no trailing newline):
  // id, peer, handshake ("ok"/"failed"), version, cipher, session_reused,
  // peercert (getpeercert() as JSON), subject, error_kind (Python class
  // name), verify_code, verify_message, error, close_reason, bytes_in,
  // bytes_out, requests, duration_ms. Empty/absent fields are omitted.
  std::string ToJson() const;
};

// ServerStats is a snapshot of the server's counters.
struct ServerStats {
  uint64_t connections_open = 0;  // Accepted and not yet closed.
  uint64_t accepted = 0;          // Accepted and served (not refused).
  uint64_t refused = 0;           // Closed at accept (max_connections).
  uint64_t handshakes_ok = 0;
  uint64_t handshakes_failed = 0;
  uint64_t requests = 0;
  uint64_t bad_requests = 0;  // 400/413/431/505 answers.
  uint64_t timeouts = 0;      // Handshake, request and idle timeouts.

  // ToJson renders the counters as one JSON object (no trailing newline):
  // {"connections_open":1,"accepted":...,"timeouts":0}.
  std::string ToJson() const;
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_CONNECTION_EVENT_H_
