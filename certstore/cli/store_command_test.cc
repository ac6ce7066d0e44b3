// Runs the real //certstore:certstore binary as an operator would.

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "certstore/testing/test_certs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/redis_server.h"
#include "testing/status_matchers.h"

extern char** environ;

namespace sslshim::certstore::cli {
namespace {

using ::sslshim::certstore::testing::KeyToDer;
using ::sslshim::certstore::testing::MakeTestCert;
using ::sslshim::certstore::testing::TestIdentity;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKek1[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(getenv("TEST_TMPDIR"), "/cli_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    mkdir(dir_.c_str(), 0700);
    store_ = "lmdb:" + dir_ + "/store";
    WriteFile(F("ca.pem"), ca_.cert_pem);
    WriteFile(F("leaf.pem"), leaf_.cert_pem + ca_.cert_pem);
    WriteFile(F("leaf.key"), leaf_.key_pem);
    WriteFile(F("other.key"), other_.key_pem);
    WriteFile(F("other.pem"), other_.cert_pem);
    WriteFile(F("kek2"),
              "0f0e0d0c0b0a09080706050403020100ffeeddccbbaa99887766554433221100\n");
  }

  std::string F(const std::string& name) { return dir_ + "/" + name; }

  // Runs the binary with `args`; SSLSHIM_KEK is `kek` when non-empty.
  Result Run(std::vector<std::string> args, const std::string& kek = kKek1,
             const std::string& stdin_data = "") {
    std::string bin = absl::StrCat(getenv("TEST_SRCDIR"), "/", getenv("TEST_WORKSPACE"),
                                   "/certstore/certstore");
    WriteFile(F("stdin"), stdin_data);
    args.insert(args.begin(), {bin, "--store", store_});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings = {"PATH=/usr/bin:/bin"};
    if (!kek.empty()) env_strings.push_back(absl::StrCat("SSLSHIM_KEK=", kek));
    std::vector<char*> envp;
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, F("stdin").c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, F("out").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, F("err").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    Result r;
    EXPECT_EQ(posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&fa);
    int status;
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = ReadFile(F("out"));
    r.err = ReadFile(F("err"));
    return r;
  }

  std::string dir_, store_;
  TestIdentity ca_ = MakeTestCert({.common_name = "Test CA", .is_ca = true});
  TestIdentity leaf_ =
      MakeTestCert({.common_name = "a.example", .dns_sans = {"a.example"}}, &ca_);
  TestIdentity other_ = MakeTestCert({.common_name = "b.example"}, &ca_);
};

TEST_F(CliTest, ImportGetListDelete) {
  Result r = Run({"import", "Employee/asalieri/Address/1", "--cert", F("leaf.pem"),
                  "--key", F("leaf.key"), "--ca", F("ca.pem")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "imported Employee/asalieri/Address/1 generation 1\n");

  r = Run({"get", "Employee/asalieri/Address/1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("subject:     CN=a.example"));
  EXPECT_THAT(r.out, HasSubstr("sans:        DNS:a.example"));
  EXPECT_THAT(r.out, HasSubstr("key_type:    EC-P256"));
  EXPECT_THAT(r.out, Not(HasSubstr("PRIVATE KEY")));

  r = Run({"get", "Employee/asalieri/Address/1", "--show-key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(leaf_.key_pem));

  r = Run({"--json", "get", "Employee/asalieri/Address/1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["generation"], 1);
  EXPECT_EQ(j["metadata"]["subject"], "CN=a.example");
  EXPECT_EQ(j["fields"]["key_str"]["sealed"], true);
  EXPECT_FALSE(j.contains("key_material"));

  r = Run({"get", "Employee/asalieri/Address/1", "--field", "cert"});
  EXPECT_EQ(r.out, leaf_.cert_pem + ca_.cert_pem);
  r = Run({"get", "Employee/asalieri/Address/1", "--field", "key_str"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--show-key"));

  ASSERT_EQ(Run({"import", "Employee/asalieri2", "--cert", F("other.pem"), "--key",
                 F("other.key")})
                .exit_code,
            0);
  r = Run({"list", "Employee/asalieri"});
  EXPECT_THAT(r.out, HasSubstr("Employee/asalieri/Address/1"));
  EXPECT_THAT(r.out, Not(HasSubstr("asalieri2")));
  r = Run({"list", "Employee"});  // A trailing kind: every Employee.
  EXPECT_THAT(r.out, HasSubstr("Employee/asalieri/Address/1"));
  EXPECT_THAT(r.out, HasSubstr("Employee/asalieri2"));
  EXPECT_EQ(Run({"list", "Employer"}).out, "");
  EXPECT_EQ(Run({"list", "Employee/asalieri/Phone"}).out, "");
  r = Run({"--json", "list"});
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 2u);
  // Test certificates expire in 30 days.
  EXPECT_EQ(Run({"list", "--expiring-within", "10"}).out, "");
  EXPECT_THAT(Run({"list", "--expiring-within", "31"}).out,
              HasSubstr("Employee/asalieri/Address/1"));

  r = Run({"delete", "Employee/asalieri/Address/1", "--generation", "7"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("generation conflict"));
  EXPECT_EQ(Run({"delete", "Employee/asalieri/Address/1"}).exit_code, 0);
  r = Run({"get", "Employee/asalieri/Address/1"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("no record Employee/asalieri/Address/1"));
}

TEST_F(CliTest, ImportBundleFromStdin) {
  Result r = Run({"import", "Svc/web", "--pem", "-"}, kKek1,
                 leaf_.key_pem + leaf_.cert_pem + ca_.cert_pem);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run({"get", "Svc/web", "--field", "key_str", "--show-key"});
  EXPECT_EQ(r.out, leaf_.key_pem);
}

TEST_F(CliTest, BadInputsAreClearErrorsWithExitCodes) {
  Result r = Run({"import", "Svc/a", "--cert", F("leaf.pem"), "--key", F("other.key")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("does not match"));
  r = Run({"import", "Svc/a", "--pem", "-"}, kKek1, "just some text\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no PEM blocks"));
  r = Run({"import", "Svc/a", "--cert", F("leaf.key")});
  EXPECT_EQ(r.exit_code, 2);
  r = Run({"get", "Svc/../x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("invalid key path"));
  r = Run({"import", "Svc/a", "--cert", F("leaf.pem"), "--key", F("leaf.key")}, "");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_THAT(r.err, HasSubstr("no KEK is configured"));
  r = Run({"import", "Svc/a", "--cert", F("leaf.pem"), "--key", F("leaf.key")}, "abc");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("SSLSHIM_KEK"));
  r = Run({"--max-record-bytes", "500", "import", "Svc/a", "--cert", F("leaf.pem"),
           "--key", F("leaf.key")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("over the limit of 500"));
  r = Run({"import", "Svc/a", "--cert", F("missing.pem")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("missing.pem"));
  EXPECT_EQ(Run({}).exit_code, 1);
  EXPECT_EQ(Run({"frobnicate"}).exit_code, 1);
  EXPECT_EQ(Run({"get", "Svc/a", "--bogus"}).exit_code, 1);
  EXPECT_EQ(Run({"list", "--show-key"}).exit_code, 1);
  EXPECT_EQ(Run({"help"}).exit_code, 0);
  // Nothing above wrote a record.
  EXPECT_EQ(Run({"list"}).out, "");

  ASSERT_EQ(
      Run({"import", "Svc/a", "--cert", F("leaf.pem"), "--key", F("leaf.key")}).exit_code,
      0);
  r = Run({"get", "Svc/a", "--show-key"},
          "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_THAT(r.err, HasSubstr("wrong KEK"));
  EXPECT_THAT(r.out, Not(HasSubstr("PRIVATE KEY")));
  r = Run({"import", "Svc/a", "--cert", F("leaf.pem"), "--key", F("leaf.key")});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("already exists"));
}

TEST_F(CliTest, RotateAndReseal) {
  ASSERT_EQ(Run({"import", "Svc/a", "--cert", F("leaf.pem"), "--key", F("leaf.key"),
                 "--ca", F("ca.pem")})
                .exit_code,
            0);
  Result r = Run({"rotate", "Svc/a", "--cert", F("other.pem"), "--key", F("other.key")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "rotated Svc/a generation 2\n");
  r = Run({"--json", "get", "Svc/a"});
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["metadata"]["subject"], "CN=b.example");
  EXPECT_TRUE(j["fields"].contains("ca"));  // Kept across the rotation.
  EXPECT_EQ(Run({"rotate", "Svc/none", "--cert", F("other.pem"), "--key", F("other.key")})
                .exit_code,
            3);

  r = Run({"reseal", "--new-kek-file", F("kek2")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("resealed 1, already current 0"));
  r = Run({"reseal", "--new-kek-file", F("kek2")});  // Re-run: nothing to do.
  EXPECT_THAT(r.out, HasSubstr("resealed 0, already current 1"));
  r = Run({"--kek-file", F("kek2"), "get", "Svc/a", "--field", "key_str", "--show-key"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, other_.key_pem);
  EXPECT_EQ(Run({"get", "Svc/a", "--show-key"}).exit_code, 5);  // Old KEK.
}

TEST_F(CliTest, WorksAgainstRedis) {
  absl::StatusOr<std::unique_ptr<sslshim::testing::RedisServer>> redis =
      sslshim::testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  store_ = (*redis)->Url(0);
  Result r = Run({"import", "Employee/asalieri/Address/1", "--cert", F("leaf.pem"),
                  "--key", F("leaf.key")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Run({"list"}).out, HasSubstr("Employee/asalieri/Address/1"));
  ASSERT_TRUE((*redis)->Stop().ok());
  r = Run({"list"});
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_THAT(r.err, HasSubstr(store_));
}

// Special files as every file argument (regression: a directory aborted the
// CLI with an uncaught std::ios_base::failure, exit 134; /dev/zero grew to
// 900 MB): each is invalid input, exit 2, one stderr line naming the path,
// within a second, nothing written.
TEST_F(CliTest, SpecialFilesAsFileArgumentsAreInvalidInput) {
  const std::string fifo = F("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::vector<std::string> specials = {dir_, "/dev/zero", fifo, "/proc/self/mem",
                                             F(std::string(300, 'n'))};
  for (const std::string& special : specials) {
    for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
             {"--kek-file", special, "list"},
             {"import", "Svc/s", "--cert", special},
             {"import", "Svc/s", "--cert", F("leaf.pem"), "--key", special},
             {"import", "Svc/s", "--pem", special},
             {"reseal", "--new-kek-file", special}}) {
      const absl::Time start = absl::Now();
      Result r = Run(args);
      SCOPED_TRACE(absl::StrJoin(args, " "));
      EXPECT_EQ(r.exit_code, 2) << r.err;
      EXPECT_LT(absl::Now() - start, absl::Seconds(5));
      EXPECT_THAT(r.err, HasSubstr(special.substr(0, 40)));
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
  EXPECT_EQ(Run({"list"}).out, "");
}

size_t Lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

// Issue 8 item 10: an empty key path is invalid input (exit 2), not a store
// failure ("unavailable", MDB_BAD_VALSIZE, exit 6).
TEST_F(CliTest, EmptyKeyPathIsInvalidInput) {
  for (const char* cmd : {"get", "delete"}) {
    Result r = Run({cmd, ""});
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("key path is empty"));
    EXPECT_EQ(Lines(r.err), 1u) << r.err;
  }
  Result r = Run({"import", "", "--cert", F("leaf.pem")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

// Issue 8 item 10: in --json mode `get --field` prints JSON, not raw PEM.
TEST_F(CliTest, JsonGetFieldIsJson) {
  ASSERT_EQ(
      Run({"import", "Svc/a", "--cert", F("leaf.pem"), "--key", F("leaf.key")}).exit_code,
      0);
  Result r = Run({"--json", "get", "Svc/a", "--field", "cert"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["path"], "Svc/a");
  EXPECT_EQ(j["field"], "cert");
  EXPECT_EQ(j["generation"], 1);
  EXPECT_EQ(j["value"], leaf_.cert_pem + ca_.cert_pem);
  // Text mode is unchanged: the raw value.
  EXPECT_EQ(Run({"get", "Svc/a", "--field", "cert"}).out, leaf_.cert_pem + ca_.cert_pem);
}

// Issue 8 item 8: a DER private key in a custom field is sealed and shown
// only with --show-key (base64 in JSON), like a PEM key.
TEST_F(CliTest, DerKeyInACustomFieldIsSealedAndHidden) {
  const std::string der = KeyToDer(leaf_.key.get());
  WriteFile(F("backup.der"), der);
  WriteFile(F("note.txt"), "not a key\n");
  Result r = Run({"import", "Svc/d", "--cert", F("leaf.pem"), "--field",
                  "backup=" + F("backup.der"), "--field", "note=" + F("note.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run({"get", "Svc/d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("field backup:"));
  EXPECT_THAT(r.out, HasSubstr("sealed, KEK"));
  EXPECT_EQ(r.out.find(der.substr(der.size() - 16)), std::string::npos);
  r = Run({"get", "Svc/d", "--field", "backup"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("key material; add --show-key"));
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Run({"get", "Svc/d", "--field", "note"}).out, "not a key\n");
  r = Run({"--json", "get", "Svc/d", "--field", "backup", "--show-key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(j["value_base64"].get<std::string>(), &decoded));
  EXPECT_EQ(decoded, der);
  r = Run({"--json", "get", "Svc/d", "--show-key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_TRUE(j["fields"]["backup"]["sealed"].get<bool>());
  ASSERT_TRUE(absl::Base64Unescape(j["key_material_base64"]["backup"].get<std::string>(),
                                   &decoded));
  EXPECT_EQ(decoded, der);
  // Without a KEK it is refused, never stored in the clear.
  r = Run({"import", "Svc/e", "--cert", F("leaf.pem"), "--field",
           "backup=" + F("backup.der")},
          "");
  EXPECT_EQ(r.exit_code, 5) << r.err;
}

// Issue 8 item 2: a store file emptied or truncated is corrupt (exit 7, one
// stderr line), never an empty store, and is not re-initialised by a write.
TEST_F(CliTest, DamagedLmdbStoreIsCorruptExit7) {
  ASSERT_EQ(
      Run({"import", "Svc/a", "--cert", F("leaf.pem"), "--key", F("leaf.key")}).exit_code,
      0);
  const std::string data = dir_ + "/store/data.mdb";
  const std::string intact = ReadFile(data);
  struct Case {
    off_t size;
    const char* error;
  };
  for (const Case& c : {Case{0, "empty (0 bytes)"}, Case{8192, "truncated"}}) {
    ASSERT_EQ(truncate(data.c_str(), c.size), 0);
    for (std::vector<std::string> args :
         {std::vector<std::string>{"list"},
          {"get", "Svc/a"},
          {"import", "Svc/b", "--cert", F("other.pem")}}) {
      Result r = Run(args);
      EXPECT_EQ(r.exit_code, 7) << args[0] << ": " << r.err;
      EXPECT_THAT(r.err, HasSubstr(c.error));
      EXPECT_EQ(Lines(r.err), 1u) << r.err;
      EXPECT_EQ(r.out, "");
    }
    EXPECT_EQ(ReadFile(data).size(), static_cast<size_t>(c.size)) << "file was rewritten";
    WriteFile(data, intact);
  }
  Result r = Run({"list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Svc/a"));
}

}  // namespace
}  // namespace sslshim::certstore::cli
