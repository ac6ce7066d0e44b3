// Special files as every FILE argument of every sslshim subcommand: a
// directory, /dev/zero, a FIFO with no writer, a /proc file that fails to
// read, a name too long. Each must be unreadable input (exit 2), one stderr
// line naming the path, within seconds (regressions: `verify --chain
// /dev/zero` read 2.1 GB over 17 s; a directory exited 1, "a verdict").

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/cli/cli_test_util.h"

namespace sslshim::runtime::cli {
namespace {

using ::testing::HasSubstr;

// Each command line with "@" where the special file goes; the other files
// are good ones, so the special file is the only thing wrong.
std::vector<std::vector<std::string>> CommandsWithFileArgs(const CliFiles& f) {
  return {
      {"verify", "--ca-bundle", "@", "--chain", f.server_chain},
      {"verify", "--ca-bundle", f.ca, "--chain", "@"},
      {"verify", "--ca-bundle", f.ca, "--chain", f.server_chain, "--crl", "@"},
      {"peercert", "@"},
      {"match-hostname", "--cert-pem", "@", "--hostname", "localhost"},
      {"match-hostname", "--cert-json", "@", "--hostname", "localhost"},
      {"connect", "--port", "1", "--cafile", "@"},
      {"connect", "--port", "1", "--cafile", f.ca, "--certfile", "@", "--keyfile",
       f.client_key},
      {"connect", "--port", "1", "--cafile", f.ca, "--certfile", f.client_chain,
       "--keyfile", "@"},
      {"fetch", "--cacert", "@", "https://127.0.0.1:1/"},
      {"fetch", "--cacert", f.ca, "--cert", "@", "--key", f.client_key,
       "https://127.0.0.1:1/"},
      {"serve", "--http", "--certfile", "@", "--keyfile", f.server_key},
      {"serve", "--http", "--certfile", f.server_chain, "--keyfile", "@"},
      {"serve", "--http", "--certfile", f.server_chain, "--keyfile", f.server_key,
       "--cafile", "@", "--verify", "required"},
      {"connect", "--app", "@", "--port", "1", "--cafile", f.ca},
  };
}

TEST(SpecialFilesTest, EveryFileArgumentRefusesSpecialFiles) {
  const CliFiles f = WriteTestPki();
  const std::string fifo = f.dir + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::vector<std::string> specials = {
      f.dir, "/dev/zero", fifo, "/proc/self/mem", f.dir + "/" + std::string(300, 'n')};
  for (const std::vector<std::string>& command : CommandsWithFileArgs(f)) {
    for (const std::string& special : specials) {
      std::vector<std::string> args = command;
      std::replace(args.begin(), args.end(), std::string("@"), special);
      SCOPED_TRACE(absl::StrJoin(args, " "));
      const absl::Time start = absl::Now();
      interop::SubprocessResult r = RunSslshim(args, {}, absl::Seconds(10));
      EXPECT_FALSE(r.timed_out);
      EXPECT_EQ(r.exit_code, 2) << r.err;
      EXPECT_LT(absl::Now() - start, absl::Seconds(5));
      EXPECT_THAT(r.err, HasSubstr(special.substr(0, 40)));
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
}

}  // namespace
}  // namespace sslshim::runtime::cli
