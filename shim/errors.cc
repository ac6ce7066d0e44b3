#include "shim/errors.h"

#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "openssl/err.h"

namespace sslshim::shim {
namespace {

constexpr char kKindUrl[] = "type.sslshim/error-kind";
constexpr char kVerifyCodeUrl[] = "type.sslshim/verify-code";
constexpr char kVerifyMessageUrl[] = "type.sslshim/verify-message";

struct KindEntry {
  ErrorKind kind;
  absl::string_view name;
};

constexpr KindEntry kKinds[] = {
    {ErrorKind::kNone, "None"},
    {ErrorKind::kSSLError, "SSLError"},
    {ErrorKind::kSSLZeroReturnError, "SSLZeroReturnError"},
    {ErrorKind::kSSLWantReadError, "SSLWantReadError"},
    {ErrorKind::kSSLWantWriteError, "SSLWantWriteError"},
    {ErrorKind::kSSLSyscallError, "SSLSyscallError"},
    {ErrorKind::kSSLEOFError, "SSLEOFError"},
    {ErrorKind::kSSLCertVerificationError, "SSLCertVerificationError"},
    {ErrorKind::kCertificateError, "CertificateError"},
    {ErrorKind::kTimeoutError, "TimeoutError"},
    {ErrorKind::kOSError, "OSError"},
};

// Library names as CPython prints them in "[SSL: ...]" / "[X509: ...]".
std::string LibraryTag(uint32_t packed) {
  switch (ERR_GET_LIB(packed)) {
    case ERR_LIB_SSL:
      return "SSL";
    case ERR_LIB_X509:
      return "X509";
    case ERR_LIB_PEM:
      return "PEM";
    case ERR_LIB_ASN1:
      return "ASN1";
    case ERR_LIB_EVP:
      return "EVP";
    case ERR_LIB_PKCS8:
      return "PKCS8";
    case ERR_LIB_X509V3:
      return "X509V3";
    case ERR_LIB_CIPHER:
      return "CIPHER";
    case ERR_LIB_RSA:
      return "RSA";
    case ERR_LIB_EC:
      return "EC";
    case ERR_LIB_SYS:
      return "SYS";
    default: {
      const char* lib = ERR_lib_error_string(packed);
      return lib != nullptr ? absl::AsciiStrToUpper(lib) : "SSL";
    }
  }
}

}  // namespace

absl::string_view ErrorKindName(ErrorKind kind) {
  for (const KindEntry& e : kKinds) {
    if (e.kind == kind) return e.name;
  }
  return "SSLError";
}

absl::Status MakeError(ErrorKind kind, absl::StatusCode code,
                       absl::string_view message) {
  absl::Status status(code, message);
  if (!status.ok()) status.SetPayload(kKindUrl, absl::Cord(ErrorKindName(kind)));
  return status;
}

ErrorKind GetErrorKind(const absl::Status& status) {
  if (status.ok()) return ErrorKind::kNone;
  absl::optional<absl::Cord> payload = status.GetPayload(kKindUrl);
  if (!payload.has_value()) return ErrorKind::kSSLError;
  // Compared as a Cord: no copy into a std::string (this runs once per
  // would-block in an event loop).
  for (const KindEntry& e : kKinds) {
    if (*payload == e.name) return e.kind;
  }
  return ErrorKind::kSSLError;
}

absl::Status WithVerifyResult(absl::Status status, long verify_code,
                              absl::string_view verify_message) {
  if (status.ok()) return status;
  status.SetPayload(kVerifyCodeUrl, absl::Cord(absl::StrCat(verify_code)));
  status.SetPayload(kVerifyMessageUrl, absl::Cord(verify_message));
  return status;
}

absl::optional<long> GetVerifyCode(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kVerifyCodeUrl);
  long code = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &code)) {
    return absl::nullopt;
  }
  return code;
}

absl::optional<std::string> GetVerifyMessage(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kVerifyMessageUrl);
  if (!payload.has_value()) return absl::nullopt;
  return std::string(*payload);
}

absl::Status ErrorFromQueue(ErrorKind kind, absl::StatusCode code,
                            absl::string_view context,
                            absl::string_view fallback) {
  uint32_t packed = ERR_peek_error();
  std::string detail;
  if (packed == 0) {
    detail = std::string(fallback);
  } else {
    const char* reason = ERR_reason_error_string(packed);
    std::string reason_text = reason != nullptr
                                  ? std::string(reason)
                                  : absl::StrCat("reason ", ERR_GET_REASON(packed));
    std::string reason_tag = absl::AsciiStrToUpper(reason_text);
    for (char& c : reason_tag) {
      if (c == ' ') c = '_';
    }
    for (char& c : reason_text) {
      if (c == '_') c = ' ';
    }
    reason_text = absl::AsciiStrToLower(reason_text);
    detail = absl::StrCat("[", LibraryTag(packed), ": ", reason_tag, "] ",
                          reason_text);
  }
  ERR_clear_error();
  return MakeError(kind, code,
                   context.empty() ? detail : absl::StrCat(context, ": ", detail));
}

void ClearErrorQueue() { ERR_clear_error(); }

}  // namespace sslshim::shim
