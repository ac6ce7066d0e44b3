#include "runtime/http_request.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sslshim::runtime {
namespace {

bool IsSafeHeaderText(absl::string_view text) {
  return text.find_first_of(absl::string_view("\r\n\0", 3)) ==
         absl::string_view::npos;
}

}  // namespace

absl::string_view HttpRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void AppendResponse(const HttpResponse& response, absl::string_view date,
                    bool close, bool keep_alive_header, bool head_only,
                    std::string* out) {
  absl::StrAppend(out, "HTTP/1.1 ", response.status, " ",
                  ReasonPhrase(response.status), "\r\n");
  for (const auto& [name, value] : response.headers) {
    if (absl::EqualsIgnoreCase(name, "Content-Length") ||
        absl::EqualsIgnoreCase(name, "Connection") ||
        absl::EqualsIgnoreCase(name, "Date") ||
        absl::EqualsIgnoreCase(name, "Transfer-Encoding") ||
        !IsSafeHeaderText(name) || !IsSafeHeaderText(value) || name.empty()) {
      continue;  // Framing is ours; CR/LF/NUL would inject headers.
    }
    absl::StrAppend(out, name, ": ", value, "\r\n");
  }
  if (!date.empty()) absl::StrAppend(out, "Date: ", date, "\r\n");
  absl::StrAppend(out, "Content-Length: ", response.body.size(), "\r\n");
  if (close) {
    out->append("Connection: close\r\n");
  } else if (keep_alive_header) {
    out->append("Connection: keep-alive\r\n");
  }
  out->append("\r\n");
  if (!head_only) out->append(response.body);
}

HttpResponse SimpleResponse(int status) {
  return HttpResponse{.status = status,
                      .headers = {{"Content-Type", "text/plain"}},
                      .body = absl::StrCat(ReasonPhrase(status), "\n")};
}

}  // namespace sslshim::runtime
