// `sslshim` flag handling through the real binary: --help on every
// subcommand lists that subcommand's flags and exit codes (exit 0); unknown
// commands, unknown flags, flags of another subcommand, missing values and
// missing arguments exit 2.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/cli/cli_test_util.h"

namespace sslshim::runtime::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct HelpCase {
  std::string command;
  std::vector<std::string> flags;  // Must all be listed.
};

class HelpTest : public ::testing::TestWithParam<HelpCase> {};

TEST_P(HelpTest, ListsItsFlagsAndExitCodes) {
  interop::SubprocessResult r = RunSslshim({GetParam().command, "--help"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("usage: "));
  for (const std::string& flag : GetParam().flags) {
    EXPECT_THAT(r.out, HasSubstr(flag)) << GetParam().command;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Commands, HelpTest,
    ::testing::Values(HelpCase{"serve",
                               {"--http", "--echo", "--port", "--certfile", "--keyfile",
                                "--cafile", "--verify", "--store", "exit codes"}},
                      HelpCase{"connect",
                               {"--port", "--host", "--server-hostname", "--cafile",
                                "--certfile", "--keyfile", "--no-check-hostname",
                                "--cert-none", "--send", "exit codes"}},
                      HelpCase{"fetch",
                               {"--cacert", "--cert", "--key", "-k", "-H", "-d", "-X",
                                "--timeout", "exit codes"}},
                      HelpCase{"verify",
                               {"--ca-bundle", "--chain", "--hostname", "--ip", "--at",
                                "--purpose", "--max-depth", "--crl", "--partial-chain"}},
                      HelpCase{"peercert", {"--repr"}},
                      HelpCase{"match-hostname",
                               {"--cert-json", "--cert-pem", "--hostname"}},
                      HelpCase{"demo", {"sslshim demo"}},
                      HelpCase{"store", {"import", "rotate"}}),
    [](const ::testing::TestParamInfo<HelpCase>& info) {
      std::string name = info.param.command;
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

TEST(HelpTest, ConnectHelpDoesNotListServeFlags) {
  interop::SubprocessResult r = RunSslshim({"connect", "--help"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, Not(HasSubstr("--verify ")));
  EXPECT_THAT(r.out, Not(HasSubstr("--http")));
}

TEST(HelpTest, TopLevelHelpListsCommands) {
  interop::SubprocessResult r = RunSslshim({"--help"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* c : {"demo", "serve", "connect", "fetch", "verify", "peercert",
                        "match-hostname", "store", "exit codes"}) {
    EXPECT_THAT(r.out, HasSubstr(c));
  }
  EXPECT_EQ(RunSslshim({}).exit_code, 2);
}

struct BadArgsCase {
  std::string name;
  std::vector<std::string> args;
  std::string message;
};

class BadArgsTest : public ::testing::TestWithParam<BadArgsCase> {};

TEST_P(BadArgsTest, ExitsTwoWithOneLineReason) {
  interop::SubprocessResult r = RunSslshim(GetParam().args);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(GetParam().message)) << Describe(r);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadArgsTest,
    ::testing::Values(
        BadArgsCase{"unknown_command", {"frobnicate"}, "unknown command 'frobnicate'"},
        BadArgsCase{"unknown_flag", {"connect", "--bogus"}, "unknown flag '--bogus'"},
        BadArgsCase{"flag_of_other_command", {"connect", "--http"}, "unknown flag"},
        BadArgsCase{"missing_value", {"connect", "--port"}, "needs a value"},
        BadArgsCase{"bad_int", {"connect", "--port", "eighty"}, "bad value 'eighty'"},
        BadArgsCase{"port_zero", {"connect", "--port", "0"}, "--port must be"},
        BadArgsCase{"fetch_no_url", {"fetch"}, "missing argument"},
        BadArgsCase{"fetch_two_urls",
                    {"fetch", "https://a/", "https://b/"},
                    "unexpected argument"},
        BadArgsCase{"serve_no_mode",
                    {"serve", "--certfile", "x.pem"},
                    "exactly one of --http and --echo"},
        BadArgsCase{"serve_bad_verify",
                    {"serve", "--http", "--certfile", "x.pem", "--verify", "maybe"},
                    "--verify must be"},
        BadArgsCase{"serve_no_cert", {"serve", "--http"}, "--certfile is required"},
        BadArgsCase{"serve_missing_file",
                    {"serve", "--http", "--certfile", "/nonexistent/c.pem"},
                    "/nonexistent/c.pem"},
        BadArgsCase{"verify_no_args", {"verify"}, "--ca-bundle is required"},
        BadArgsCase{
            "match_no_hostname", {"match-hostname", "--cert-json", "x"}, "--hostname"},
        BadArgsCase{"peercert_missing_file",
                    {"peercert", "/nonexistent.pem"},
                    "/nonexistent.pem"},
        BadArgsCase{"demo_extra", {"demo", "extra"}, "unexpected argument"}),
    [](const ::testing::TestParamInfo<BadArgsCase>& info) { return info.param.name; });

}  // namespace
}  // namespace sslshim::runtime::cli
