#include "shim/errors.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "openssl/err.h"
#include "openssl/pem.h"
#include "openssl/ssl.h"
#include "testing/status_matchers.h"

namespace sslshim::shim {
namespace {

using ::testing::HasSubstr;

TEST(ErrorsTest, KindRoundTripsThroughStatus) {
  for (ErrorKind kind :
       {ErrorKind::kSSLError, ErrorKind::kSSLZeroReturnError,
        ErrorKind::kSSLWantReadError, ErrorKind::kSSLWantWriteError,
        ErrorKind::kSSLSyscallError, ErrorKind::kSSLEOFError,
        ErrorKind::kSSLCertVerificationError, ErrorKind::kCertificateError,
        ErrorKind::kTimeoutError}) {
    absl::Status s = MakeError(kind, absl::StatusCode::kAborted, "x");
    EXPECT_EQ(GetErrorKind(s), kind) << ErrorKindName(kind);
  }
  EXPECT_EQ(ErrorKindName(ErrorKind::kSSLWantReadError), "SSLWantReadError");
  EXPECT_EQ(GetErrorKind(absl::OkStatus()), ErrorKind::kNone);
  EXPECT_EQ(GetErrorKind(absl::InternalError("plain")), ErrorKind::kSSLError);
  // An OK code never carries a kind.
  EXPECT_TRUE(MakeError(ErrorKind::kSSLError, absl::StatusCode::kOk, "").ok());
}

TEST(ErrorsTest, VerifyResultPayload) {
  absl::Status s = WithVerifyResult(
      MakeError(ErrorKind::kSSLCertVerificationError,
                absl::StatusCode::kUnauthenticated, "bad"),
      20, "unable to get local issuer certificate");
  EXPECT_EQ(GetVerifyCode(s), absl::optional<long>(20));
  EXPECT_EQ(GetVerifyMessage(s),
            absl::optional<std::string>("unable to get local issuer certificate"));
  EXPECT_EQ(GetVerifyCode(absl::UnknownError("x")), absl::nullopt);
  EXPECT_TRUE(WithVerifyResult(absl::OkStatus(), 1, "x").ok());
}

TEST(ErrorsTest, ErrorFromQueueReadsLikeCPythonAndClearsQueue) {
  OPENSSL_PUT_ERROR(SSL, SSL_R_CERTIFICATE_VERIFY_FAILED);
  absl::Status s = ErrorFromQueue(ErrorKind::kSSLError,
                                  absl::StatusCode::kAborted, "handshake");
  EXPECT_EQ(std::string(s.message()),
            "handshake: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed");
  EXPECT_EQ(ERR_peek_error(), 0u);
  absl::Status empty = ErrorFromQueue(ErrorKind::kSSLError,
                                      absl::StatusCode::kAborted, "ctx", "why");
  EXPECT_EQ(std::string(empty.message()), "ctx: why");
  OPENSSL_PUT_ERROR(PEM, PEM_R_NO_START_LINE);
  absl::Status pem = ErrorFromQueue(ErrorKind::kSSLError,
                                    absl::StatusCode::kInvalidArgument, "certfile");
  EXPECT_THAT(std::string(pem.message()), HasSubstr("[PEM: NO_START_LINE] no start line"));
}

}  // namespace
}  // namespace sslshim::shim
