// store_serve_test_base.h (testonly)
// -----------------------------------------------------------------------------
// StoreServeTest: a gtest fixture for tests that run the real
// `sslshim serve --http --certfile store:Web/1` over a store the test owns
// (Redis, Sentinel, LMDB) and then break the store underneath it.
//
//   class MyTest : public StoreServeTest {
//     void SetUp() override { StartServing(redis_url); }
//   };
//   TEST_F(MyTest, X) { EXPECT_TRUE(HandshakeWithin(absl::Seconds(3))); }

#ifndef SSLSHIM_RUNTIME_CLI_STORE_SERVE_TEST_BASE_H_
#define SSLSHIM_RUNTIME_CLI_STORE_SERVE_TEST_BASE_H_

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "runtime/cli/cli_test_util.h"

namespace sslshim::runtime::cli {

class StoreServeTest : public ::testing::Test {
 protected:
  // StartServing writes the test PKI, imports it as record Web/1 into the
  // store at `store_url` (fixed test KEK) and starts the server on it.
  void StartServing(const std::string& store_url) {
    files_ = WriteTestPki();
    env_ = {{"SSLSHIM_KEK", std::string(64, 'b')}, {"SSLSHIM_STORE", store_url}};
    ASSERT_TRUE(ImportRecord());
    absl::StatusOr<ServeChild> s =
        StartServe({"--http", "--certfile", "store:Web/1"}, env_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }

  // The server must exit 0 on SIGTERM, whatever the test did to its store.
  void TearDown() override {
    if (server_.process != nullptr) {
      interop::SubprocessResult r = Terminate(server_);
      EXPECT_EQ(r.exit_code, 0) << Describe(r);
    }
  }

  // ImportRecord (re)writes Web/1 from the test PKI; false (and a test
  // failure) when the import fails.
  bool ImportRecord() {
    interop::SubprocessResult r = ImportServerRecord(files_, "Web/1", env_);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r.exit_code == 0;
  }

  // HandshakeWithin makes one verified handshake with the server; false (and
  // a test failure when it did not succeed) unless it succeeded within `limit`.
  bool HandshakeWithin(absl::Duration limit) {
    const absl::Time start = absl::Now();
    interop::SubprocessResult r = ConnectVerified(files_, server_.port, limit);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r.exit_code == 0 && absl::Now() - start < limit;
  }

  CliFiles files_;
  ChildEnv env_;
  ServeChild server_;
};

}  // namespace sslshim::runtime::cli

#endif  // SSLSHIM_RUNTIME_CLI_STORE_SERVE_TEST_BASE_H_
