#include "runtime/http_response_parser.h"

#include <climits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sslshim::runtime {
namespace {

HttpResponseParser* Self(http_parser* p) {
  return static_cast<HttpResponseParser*>(p->data);
}

}  // namespace

HttpResponseParser::HttpResponseParser(Options options) : options_(options) {
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  http_parser_settings_init(&settings_);
  settings_.on_message_begin = &OnMessageBegin;
  settings_.on_status = &OnStatus;
  settings_.on_header_field = &OnHeaderField;
  settings_.on_header_value = &OnHeaderValue;
  settings_.on_headers_complete = &OnHeadersComplete;
  settings_.on_body = &OnBody;
  settings_.on_message_complete = &OnMessageComplete;
}

absl::Status HttpResponseParser::Feed(absl::string_view data) {
  if (!sticky_error_.ok()) return sticky_error_;
  if (done_) {
    return absl::FailedPreconditionError("HTTP response already complete");
  }
  const size_t offset = bytes_fed_;
  bytes_fed_ += data.size();
  if (data.empty()) return absl::OkStatus();
  const size_t n = http_parser_execute(&parser_, &settings_, data.data(), data.size());
  if (done_) return absl::OkStatus();  // Paused at the end of the response.
  if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK) return ParserError(offset + n);
  return absl::OkStatus();
}

absl::Status HttpResponseParser::FinishAtEof() {
  if (!sticky_error_.ok()) return sticky_error_;
  if (done_) return absl::OkStatus();
  if (bytes_fed_ == 0) {
    sticky_error_ = absl::UnavailableError(
        "the server closed the connection without sending a response");
    return sticky_error_;
  }
  http_parser_execute(&parser_, &settings_, nullptr, 0);
  if (done_) return absl::OkStatus();
  if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK &&
      HTTP_PARSER_ERRNO(&parser_) != HPE_INVALID_EOF_STATE) {
    return ParserError(bytes_fed_);
  }
  std::string where;
  if (!headers_done_) {
    where = absl::StrCat("in the status line or headers (after ", bytes_fed_, " bytes)");
  } else if (absl::StrContains(
                 absl::AsciiStrToLower(
                     response_.headers.Get("Transfer-Encoding").value_or("")),
                 "chunked")) {
    where = absl::StrCat("in the chunked body (after ", response_.body.size(),
                         " body bytes)");
  } else {
    where = absl::StrCat("after ", response_.body.size(),
                         " body bytes; Content-Length announced ",
                         response_.body.size() + parser_.content_length);
  }
  sticky_error_ = absl::DataLossError(
      absl::StrCat("premature EOF: the server closed the connection ", where));
  return sticky_error_;
}

absl::Status HttpResponseParser::ParserError(size_t offset) {
  const http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (!callback_error_.ok()) {
    sticky_error_ = callback_error_;
  } else if (err == HPE_HEADER_OVERFLOW) {
    sticky_error_ = absl::ResourceExhaustedError(
        absl::StrCat("response headers exceed ", HTTP_MAX_HEADER_SIZE / 1024,
                     " KiB (HPE_HEADER_OVERFLOW)"));
  } else {
    sticky_error_ = absl::DataLossError(
        absl::StrCat("malformed HTTP response: ", http_errno_description(err), " (",
                     http_errno_name(err), ") at byte ", offset));
  }
  return sticky_error_;
}

void HttpResponseParser::FlushField() {
  if (field_.empty() && value_.empty()) return;
  absl::StripTrailingAsciiWhitespace(&value_);
  response_.headers.Add(std::move(field_), std::move(value_));
  field_.clear();
  value_.clear();
}

int HttpResponseParser::OnMessageBegin(http_parser* p) {
  HttpResponseParser* self = Self(p);
  self->response_ = ParsedResponse();
  self->field_.clear();
  self->value_.clear();
  self->in_value_ = false;
  self->headers_done_ = false;
  return 0;
}

int HttpResponseParser::OnStatus(http_parser* p, const char* at, size_t len) {
  Self(p)->response_.reason.append(at, len);
  return 0;
}

int HttpResponseParser::OnHeaderField(http_parser* p, const char* at, size_t len) {
  HttpResponseParser* self = Self(p);
  if (self->in_value_) self->FlushField();
  self->in_value_ = false;
  self->field_.append(at, len);
  return 0;
}

int HttpResponseParser::OnHeaderValue(http_parser* p, const char* at, size_t len) {
  HttpResponseParser* self = Self(p);
  self->in_value_ = true;
  self->value_.append(at, len);
  return 0;
}

int HttpResponseParser::OnHeadersComplete(http_parser* p) {
  HttpResponseParser* self = Self(p);
  if (self->in_value_) self->FlushField();
  self->in_value_ = false;
  ParsedResponse& r = self->response_;
  r.status_code = p->status_code;
  r.http_major = p->http_major;
  r.http_minor = p->http_minor;
  if (r.status_code == 101) {
    self->callback_error_ = absl::DataLossError(
        "unexpected 101 Switching Protocols: the client asked for no upgrade");
    return -1;
  }
  if (r.status_code / 100 == 1) {  // Interim: no body, skipped.
    if (++self->interim_responses_ > kMaxInterimResponses) {
      self->callback_error_ = absl::ResourceExhaustedError(absl::StrCat(
          "more than ", kMaxInterimResponses,
          " interim (1xx) responses before the final response"));
      return -1;
    }
    return 0;
  }
  self->headers_done_ = true;
  r.keep_alive = http_should_keep_alive(p) != 0;
  // RFC 9112 section 6.3: HEAD, 204 and 304 responses end at the headers,
  // whatever Content-Length says (http-parser only knows this for 204).
  const bool no_body =
      self->options_.head_request || r.status_code == 204 || r.status_code == 304;
  if (no_body) return 1;
  // Refuse an announced body that could never fit, before reading any of it.
  if (p->content_length != ULLONG_MAX &&
      p->content_length > self->options_.max_body_bytes) {
    self->callback_error_ = absl::ResourceExhaustedError(absl::StrCat(
        "Content-Length ", p->content_length, " exceeds max_response_bytes (",
        self->options_.max_body_bytes, " bytes)"));
    return -1;
  }
  return 0;
}

int HttpResponseParser::OnBody(http_parser* p, const char* at, size_t len) {
  HttpResponseParser* self = Self(p);
  std::string& body = self->response_.body;
  if (len > self->options_.max_body_bytes - body.size()) {
    self->callback_error_ = absl::ResourceExhaustedError(
        absl::StrCat("response body exceeds max_response_bytes (",
                     self->options_.max_body_bytes, " bytes)"));
    return -1;
  }
  body.append(at, len);
  return 0;
}

int HttpResponseParser::OnMessageComplete(http_parser* p) {
  HttpResponseParser* self = Self(p);
  if (self->response_.status_code / 100 == 1) return 0;  // Wait for the final.
  self->done_ = true;
  http_parser_pause(p, 1);
  return 0;
}

}  // namespace sslshim::runtime
