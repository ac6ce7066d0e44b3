#include "runtime/request_parser.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sslshim::runtime {
namespace {

// Each header line also costs its ": " and CRLF; count them against the
// budget so many empty-valued fields cannot slip past it.
constexpr size_t kHeaderLineOverhead = 4;

RequestParser* Self(http_parser* p) {
  return static_cast<RequestParser*>(p->data);
}

}  // namespace

const http_parser_settings RequestParser::kSettings = [] {
  http_parser_settings s{};
  s.on_message_begin = &RequestParser::OnMessageBegin;
  s.on_url = &RequestParser::OnUrl;
  s.on_header_field = &RequestParser::OnHeaderField;
  s.on_header_value = &RequestParser::OnHeaderValue;
  s.on_headers_complete = &RequestParser::OnHeadersComplete;
  s.on_body = &RequestParser::OnBody;
  s.on_message_complete = &RequestParser::OnMessageComplete;
  return s;
}();

RequestParser::RequestParser(const RequestLimits& limits) : limits_(limits) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

int RequestParser::Fail(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  // Stops http_parser_execute with an HPE_CB_* error (on_headers_complete
  // treats 1 and 2 as "no body"/"upgrade", so it must be negative).
  return -1;
}

bool RequestParser::CountHeaderBytes(size_t len) {
  header_bytes_ += len;
  if (header_bytes_ <= limits_.max_header_bytes) return true;
  Fail(431, absl::StrCat("request header larger than ",
                         limits_.max_header_bytes, " bytes"));
  return false;
}

int RequestParser::OnMessageBegin(http_parser* p) {
  RequestParser* self = Self(p);
  self->request_ = HttpRequest();
  self->header_bytes_ = 0;
  self->last_was_value_ = false;
  self->in_message_ = true;
  return 0;
}

int RequestParser::OnUrl(http_parser* p, const char* at, size_t len) {
  RequestParser* self = Self(p);
  if (!self->CountHeaderBytes(len)) return 1;
  self->request_.target.append(at, len);
  return 0;
}

int RequestParser::OnHeaderField(http_parser* p, const char* at, size_t len) {
  RequestParser* self = Self(p);
  if (!self->CountHeaderBytes(len)) return 1;
  HttpHeaders& headers = self->request_.headers;
  if (headers.empty() || self->last_was_value_) {
    if (!self->CountHeaderBytes(kHeaderLineOverhead)) return 1;
    headers.emplace_back();
  }
  headers.back().first.append(at, len);
  self->last_was_value_ = false;
  return 0;
}

int RequestParser::OnHeaderValue(http_parser* p, const char* at, size_t len) {
  RequestParser* self = Self(p);
  if (!self->CountHeaderBytes(len)) return 1;
  if (self->request_.headers.empty()) return 1;  // Cannot happen.
  self->request_.headers.back().second.append(at, len);
  self->last_was_value_ = true;
  return 0;
}

int RequestParser::OnHeadersComplete(http_parser* p) {
  RequestParser* self = Self(p);
  HttpRequest& req = self->request_;
  req.method = http_method_str(static_cast<http_method>(p->method));
  req.version_major = p->http_major;
  req.version_minor = p->http_minor;
  if (req.version_major != 1) {
    return self->Fail(505, absl::StrCat("unsupported HTTP version ",
                                        p->http_major, ".", p->http_minor));
  }
  const bool has_host =
      std::any_of(req.headers.begin(), req.headers.end(), [](const auto& h) {
        return absl::EqualsIgnoreCase(h.first, "Host");
      });
  if (req.version_minor >= 1 && !has_host) {
    return self->Fail(400, "HTTP/1.1 request without a Host header");
  }
  // A declared length over the limit is refused before reading the body.
  if ((p->flags & F_CONTENTLENGTH) != 0 &&
      p->content_length > self->limits_.max_body_bytes) {
    return self->Fail(413, absl::StrCat("Content-Length ", p->content_length,
                                        " exceeds ",
                                        self->limits_.max_body_bytes));
  }
  const bool has_body = (p->flags & F_CHUNKED) != 0 ||
                        ((p->flags & F_CONTENTLENGTH) != 0 &&
                         p->content_length > 0);
  if (has_body && req.version_minor >= 1 &&
      absl::EqualsIgnoreCase(req.Header("Expect"), "100-continue")) {
    self->expect_continue_ = true;
  }
  return 0;
}

int RequestParser::OnBody(http_parser* p, const char* at, size_t len) {
  RequestParser* self = Self(p);
  std::string& body = self->request_.body;
  if (body.size() + len > self->limits_.max_body_bytes) {
    return self->Fail(413, absl::StrCat("request body exceeds ",
                                        self->limits_.max_body_bytes,
                                        " bytes"));
  }
  body.append(at, len);
  return 0;
}

int RequestParser::OnMessageComplete(http_parser* p) {
  RequestParser* self = Self(p);
  self->keep_alive_ = http_should_keep_alive(p) != 0;
  self->in_message_ = false;
  self->complete_ = true;
  // Stop here: bytes of a pipelined next request stay unconsumed until the
  // caller has answered this one.
  http_parser_pause(p, 1);
  return 0;
}

RequestParser::Result RequestParser::Feed(absl::string_view data,
                                          size_t* consumed) {
  *consumed = 0;
  if (dead_) return Result::kError;
  if (data.empty()) return Result::kNeedMore;
  complete_ = false;
  const size_t n =
      http_parser_execute(&parser_, &kSettings, data.data(), data.size());
  *consumed = n;
  const http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (complete_ && (err == HPE_OK || err == HPE_PAUSED)) {
    if (err == HPE_PAUSED) http_parser_pause(&parser_, 0);
    if (parser_.upgrade) {
      // Upgrades (WebSocket, h2c) are not served: answer, then close. The
      // rest of the stream belongs to the other protocol.
      keep_alive_ = false;
      *consumed = data.size();
    }
    return Result::kRequest;
  }
  if (err == HPE_OK && n == data.size()) return Result::kNeedMore;
  dead_ = true;
  in_message_ = false;
  if (error_status_ == 0) {
    error_status_ = err == HPE_HEADER_OVERFLOW ? 431 : 400;
    error_message_ = absl::StrCat(http_errno_name(err), ": ",
                                  http_errno_description(err));
  }
  return Result::kError;
}

HttpRequest RequestParser::TakeRequest() { return std::move(request_); }

bool RequestParser::TakeExpectContinue() {
  const bool v = expect_continue_;
  expect_continue_ = false;
  return v;
}

}  // namespace sslshim::runtime
