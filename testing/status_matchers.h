// status_matchers.h
// -----------------------------------------------------------------------------
// gMock matchers for absl::Status and absl::StatusOr<T> (Debian's Abseil
// 20220623 ships none):
//
//   EXPECT_THAT(store.Get(key), IsOk());
//   EXPECT_THAT(ctx.load_cert_chain(...),
//               StatusIs(absl::StatusCode::kInvalidArgument,
//                        testing::HasSubstr("certfile")));
//   ASSERT_OK_AND_ASSIGN(auto value, MakeValue());

#ifndef SSLSHIM_TESTING_STATUS_MATCHERS_H_
#define SSLSHIM_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sslshim::testing {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace internal

// IsOk() matches an OK absl::Status or a StatusOr holding a value.
MATCHER(IsOk, "is OK") {
  const absl::Status& s = internal::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

// StatusIs(code[, message_matcher]) matches a status with that canonical code
// and (optionally) a message that satisfies message_matcher.
MATCHER_P(StatusIs, code, "has status code " + std::string(absl::StatusCodeToString(code))) {
  const absl::Status& s = internal::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + std::string(absl::StatusCodeToString(code))) {
  const absl::Status& s = internal::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()),
                                       result_listener);
}

}  // namespace sslshim::testing

#define SSLSHIM_CONCAT_INNER_(a, b) a##b
#define SSLSHIM_CONCAT_(a, b) SSLSHIM_CONCAT_INNER_(a, b)

// ASSERT_OK_AND_ASSIGN(lhs, expr): asserts expr (a StatusOr) is OK and moves
// its value into lhs (which may be a declaration).
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(SSLSHIM_CONCAT_(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)          \
  auto tmp = (expr);                                        \
  ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status();   \
  lhs = std::move(tmp).value()

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::sslshim::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::sslshim::testing::IsOk())

#endif  // SSLSHIM_TESTING_STATUS_MATCHERS_H_
