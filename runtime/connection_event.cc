#include "runtime/connection_event.h"

#include "absl/strings/str_cat.h"

namespace sslshim::runtime {
namespace {

// JsonString quotes `s` as a JSON string (through PyValue's escaping, which
// keeps invalid UTF-8 representable).
std::string JsonString(const std::string& s) {
  return shim::PyValue::Str(s).ToJson();
}

}  // namespace

const char* CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerClosed: return "peer_closed";
    case CloseReason::kHandshakeFailed: return "handshake_failed";
    case CloseReason::kHandshakeTimeout: return "handshake_timeout";
    case CloseReason::kRequestTimeout: return "request_timeout";
    case CloseReason::kIdleTimeout: return "idle_timeout";
    case CloseReason::kBadRequest: return "bad_request";
    case CloseReason::kConnectionClose: return "connection_close";
    case CloseReason::kShutdown: return "shutdown";
    case CloseReason::kMaxConnections: return "max_connections";
    case CloseReason::kContextError: return "context_error";
    case CloseReason::kIoError: return "io_error";
  }
  return "unknown";
}

std::string ConnectionEvent::ToJson() const {
  std::string out = absl::StrCat("{\"id\":", id, ",\"peer\":", JsonString(peer),
                                 ",\"handshake\":\"",
                                 handshake_ok ? "ok" : "failed", "\"");
  if (!version.empty()) absl::StrAppend(&out, ",\"version\":", JsonString(version));
  if (!cipher.empty()) absl::StrAppend(&out, ",\"cipher\":", JsonString(cipher));
  if (handshake_ok) {
    absl::StrAppend(&out, ",\"session_reused\":",
                    session_reused ? "true" : "false",
                    ",\"peercert\":", peercert.ToJson());
  }
  if (!subject.empty()) absl::StrAppend(&out, ",\"subject\":", JsonString(subject));
  if (error_kind != shim::ErrorKind::kNone) {
    absl::StrAppend(&out, ",\"error_kind\":\"",
                    shim::ErrorKindName(error_kind), "\"");
  }
  if (verify_code.has_value()) {
    absl::StrAppend(&out, ",\"verify_code\":", *verify_code,
                    ",\"verify_message\":", JsonString(verify_message));
  }
  if (!error.empty()) absl::StrAppend(&out, ",\"error\":", JsonString(error));
  absl::StrAppend(&out, ",\"close_reason\":\"", CloseReasonName(close_reason),
                  "\",\"bytes_in\":", bytes_in, ",\"bytes_out\":", bytes_out,
                  ",\"requests\":", requests, ",\"duration_ms\":",
                  absl::ToDoubleMilliseconds(duration), "}");
  return out;
}

std::string ServerStats::ToJson() const {
  return absl::StrCat("{\"connections_open\":", connections_open,
                      ",\"accepted\":", accepted, ",\"refused\":", refused,
                      ",\"handshakes_ok\":", handshakes_ok,
                      ",\"handshakes_failed\":", handshakes_failed,
                      ",\"requests\":", requests,
                      ",\"bad_requests\":", bad_requests,
                      ",\"timeouts\":", timeouts, "}");
}

}  // namespace sslshim::runtime
