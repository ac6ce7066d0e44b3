#include "runtime/request_parser.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sslshim::runtime {
namespace {

// Each header line also costs its ": " and CRLF; count them against the
// budget so many empty-valued fields cannot slip past it.
constexpr size_t kHeaderLineOverhead = 4;

// IsTokenChar: RFC 9110 tchar (header field names).
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) !=
             absl::string_view::npos;
}

// IsControlChar: CTL other than HTAB (never valid in a field value; CR/LF
// there mean an obs-fold).
bool IsControlChar(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

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

RequestParser::RequestParser(const RequestLimits& limits)
    : limits_(limits), chunks_(limits) {
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
  self->chunked_ = false;
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
  if (int r = self->CheckFraming(p); r != 0) return r;
  self->chunked_ = (p->flags & F_CHUNKED) != 0;
  const bool has_body = self->chunked_ ||
                        ((p->flags & F_CONTENTLENGTH) != 0 &&
                         p->content_length > 0);
  if (has_body && req.version_minor >= 1 &&
      absl::EqualsIgnoreCase(req.Header("Expect"), "100-continue")) {
    self->expect_continue_ = true;
  }
  // 1: http-parser skips the body; ChunkedBodyDecoder reads it.
  return self->chunked_ ? 1 : 0;
}

int RequestParser::CheckFraming(const http_parser* p) {
  const HttpHeaders& headers = request_.headers;
  const std::string* coding = nullptr;
  for (const auto& [name, value] : headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return Fail(400, absl::StrCat("header name is not a token: '",
                                    absl::CEscape(name.substr(0, 64)), "'"));
    }
    if (std::any_of(value.begin(), value.end(), IsControlChar)) {
      return Fail(400, absl::StrCat("control character (or obs-fold) in "
                                    "header ", name));
    }
    if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      if (coding != nullptr) {
        return Fail(400, "more than one Transfer-Encoding header");
      }
      coding = &value;
    }
  }
  if (coding == nullptr) return 0;
  if (p->http_minor == 0) {
    return Fail(400, "Transfer-Encoding in an HTTP/1.0 request");
  }
  if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(*coding),
                              "chunked")) {
    return Fail(400, absl::StrCat("unsupported Transfer-Encoding '",
                                  absl::CEscape(coding->substr(0, 64)),
                                  "' (only chunked)"));
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
  if (decoding_chunks_) return FinishChunked(data, 0, consumed);
  if (!ScanForObsFold(data)) {
    dead_ = true;
    in_message_ = false;
    error_status_ = 400;
    error_message_ =
        "obs-fold (a header line starting with whitespace) or a bare CR in "
        "the header section";
    return Result::kError;
  }
  complete_ = false;
  const size_t n =
      http_parser_execute(&parser_, &kSettings, data.data(), data.size());
  *consumed = n;
  const http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (complete_ && (err == HPE_OK || err == HPE_PAUSED)) {
    if (err == HPE_PAUSED) http_parser_pause(&parser_, 0);
    scan_ = HeaderScan::kStart;  // The next message's header section.
    if (parser_.upgrade) {
      // Upgrades (WebSocket, h2c) are not served: answer, then close. The
      // rest of the stream belongs to the other protocol.
      keep_alive_ = false;
      *consumed = data.size();
      return Result::kRequest;
    }
    if (chunked_) {
      decoding_chunks_ = true;
      in_message_ = true;
      chunks_.Reset();
      return FinishChunked(data, n, consumed);
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

RequestParser::Result RequestParser::FinishChunked(absl::string_view data,
                                                   size_t used,
                                                   size_t* consumed) {
  size_t n = 0;
  const ChunkedBodyDecoder::Result r =
      chunks_.Feed(data.substr(used), &n, &request_.body);
  *consumed = used + n;
  switch (r) {
    case ChunkedBodyDecoder::Result::kNeedMore:
      return Result::kNeedMore;
    case ChunkedBodyDecoder::Result::kDone:
      decoding_chunks_ = false;
      chunked_ = false;
      in_message_ = false;
      return Result::kRequest;
    case ChunkedBodyDecoder::Result::kError:
      break;
  }
  dead_ = true;
  decoding_chunks_ = false;
  in_message_ = false;
  error_status_ = chunks_.error_status();
  error_message_ = chunks_.error_message();
  return Result::kError;
}

bool RequestParser::ScanForObsFold(absl::string_view data) {
  for (char c : data) {
    switch (scan_) {
      case HeaderScan::kStart:  // http-parser skips CRLFs before a request.
        if (c != '\r' && c != '\n') scan_ = HeaderScan::kInLine;
        break;
      case HeaderScan::kInLine:
        if (c == '\n') scan_ = HeaderScan::kLineStart;
        if (c == '\r') scan_ = HeaderScan::kInLineCr;
        break;
      case HeaderScan::kInLineCr:  // A CR must end the line.
        if (c != '\n') return false;
        scan_ = HeaderScan::kLineStart;
        break;
      case HeaderScan::kLineStart:
        if (c == ' ' || c == '\t') return false;
        scan_ = c == '\r'   ? HeaderScan::kLineStartCr
                : c == '\n' ? HeaderScan::kDone
                            : HeaderScan::kInLine;
        break;
      case HeaderScan::kLineStartCr:
        // A bare CR at a line start (RFC 9112 section 2.2): http-parser would
        // end the headers there, a strict peer would not; refuse it so the
        // request cannot be framed two ways.
        if (c != '\n') return false;
        scan_ = HeaderScan::kDone;
        break;
      case HeaderScan::kDone:
        return true;
    }
  }
  return true;
}

void ChunkedBodyDecoder::Reset() {
  state_ = State::kSize;
  size_ = 0;
  digits_ = 0;
  line_bytes_ = 0;
  trailer_bytes_ = 0;
  trailer_line_ = 0;
  error_status_ = 0;
  error_message_.clear();
}

ChunkedBodyDecoder::Result ChunkedBodyDecoder::Fail(int status,
                                                    std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  return Result::kError;
}

ChunkedBodyDecoder::Result ChunkedBodyDecoder::Feed(absl::string_view data,
                                                    size_t* consumed,
                                                    std::string* body) {
  size_t i = 0;
  *consumed = 0;
  while (i < data.size()) {
    const char c = data[i];
    switch (state_) {
      case State::kSize: {
        if (++line_bytes_ > kMaxChunkLineBytes) {
          return Fail(400, "chunk size line too long");
        }
        const int v = HexValue(c);
        if (v >= 0) {
          if (digits_ == 16) {
            return Fail(400, "chunk size has more than 16 hex digits");
          }
          size_ = size_ * 16 + static_cast<uint64_t>(v);
          ++digits_;
        } else if (digits_ == 0) {
          return Fail(400, "chunk size is not hexadecimal");
        } else if (c == ';') {
          state_ = State::kExtension;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else {
          return Fail(400, "invalid character after chunk size");
        }
        ++i;
        break;
      }
      case State::kExtension:
        if (++line_bytes_ > kMaxChunkLineBytes) {
          return Fail(400, absl::StrCat("chunk extensions longer than ",
                                        kMaxChunkLineBytes, " bytes"));
        }
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (IsControlChar(c)) {
          return Fail(400, "control character in chunk extension");
        }
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return Fail(400, "chunk size line not ended by CRLF");
        ++i;
        line_bytes_ = 0;
        digits_ = 0;
        if (size_ == 0) {
          state_ = State::kTrailer;
          trailer_line_ = 0;
        } else if (size_ > limits_.max_body_bytes - body->size()) {
          return Fail(413, absl::StrCat("chunked body exceeds ",
                                        limits_.max_body_bytes, " bytes"));
        } else {
          state_ = State::kData;
        }
        break;
      case State::kData: {
        const size_t take = static_cast<size_t>(
            std::min<uint64_t>(size_, data.size() - i));
        body->append(data.data() + i, take);
        i += take;
        size_ -= take;
        if (size_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return Fail(400, "chunk data not followed by CRLF");
        ++i;
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return Fail(400, "chunk data not followed by CRLF");
        ++i;
        state_ = State::kSize;
        break;
      case State::kTrailer:
        if (++trailer_bytes_ > limits_.max_header_bytes) {
          return Fail(431, absl::StrCat("trailer fields larger than ",
                                        limits_.max_header_bytes, " bytes"));
        }
        ++i;
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (IsControlChar(c)) {
          return Fail(400, "control character in trailer field");
        } else {
          ++trailer_line_;
        }
        break;
      case State::kTrailerLf:
        if (c != '\n') return Fail(400, "trailer line not ended by CRLF");
        ++i;
        if (trailer_line_ == 0) {
          *consumed = i;
          return Result::kDone;
        }
        trailer_line_ = 0;
        state_ = State::kTrailer;
        break;
    }
  }
  *consumed = i;
  return Result::kNeedMore;
}

HttpRequest RequestParser::TakeRequest() { return std::move(request_); }

bool RequestParser::TakeExpectContinue() {
  const bool v = expect_continue_;
  expect_continue_ = false;
  return v;
}

}  // namespace sslshim::runtime
