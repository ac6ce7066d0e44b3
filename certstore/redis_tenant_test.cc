// Tenant isolation and secrets on Redis (issue 8, items 6, 7 and 10), against
// a real redis-server configured with the README's ACL recipe, through
// OpenStore() and through the certstore CLI (exit codes).

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "certstore/cli/store_command.h"
#include "certstore/store_url.h"
#include "certstore/testing/test_certs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/redis_server.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::RedisServer;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// The README's recipe ("Tenants and the Redis ACL"), line for line.
const std::vector<std::string> kReadmeAclRecipe = {
    "user default off",
    "user admin on >adminpw ~* &* +@all",
    "user tenantA on >pwA resetchannels ~certstore/t/tenantA/* &certstore/t/tenantA/* "
    "+@all -@dangerous",
    "user tenantB on >pwB resetchannels ~certstore/t/tenantB/* &certstore/t/tenantB/* "
    "+@all -@dangerous",
};

constexpr char kTenantB[] = "?namespace=certstore/t/tenantB";

KeyPath P(std::initializer_list<KeyPath::Arg> args) { return *KeyPath::Of(args); }

class RedisTenantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServer>> s =
        RedisServer::Start({.config_lines = kReadmeAclRecipe});
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    host_ = absl::StrCat("127.0.0.1:", server_->port(), "/0");
  }

  // A redis:// URL for `cred` ("user:pw@", "user@" or "").
  std::string Url(const std::string& cred, const std::string& params = kTenantB) {
    return absl::StrCat("redis://", cred, host_, params);
  }

  struct Cli {
    int exit_code;
    std::string out, err;
  };
  Cli RunCli(std::vector<std::string> args) {
    std::istringstream in;
    std::ostringstream out, err;
    int code = cli::RunStoreCommandWithIo(args, cli::CliEnvironment{}, in, out, err);
    return {code, out.str(), err.str()};
  }

  std::unique_ptr<RedisServer> server_;
  std::string host_;
};

TEST_F(RedisTenantTest, ReadmeRecipeKeepsTenantsApart) {
  ASSERT_OK_AND_ASSIGN(auto admin, OpenStore(Url("admin:adminpw@")));
  ASSERT_OK(admin->Put(P({"Cert", 1}), "tenant B private", kAnyGeneration).status());
  ASSERT_OK_AND_ASSIGN(auto b, OpenStore(Url("tenantB:pwB@")));
  ASSERT_OK_AND_ASSIGN(StoreEntry mine, b->Get(P({"Cert", 1})));
  EXPECT_EQ(mine.value, "tenant B private");

  // No credentials at all: `default` is off.
  EXPECT_THAT(OpenStore(Url("")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("NOAUTH")));
  // Tenant A's user name without its password.
  EXPECT_THAT(OpenStore(Url("tenantA@")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("WRONGPASS")));
  // Tenant A's password given separately (SSLSHIM_REDIS_PASSWORD) works...
  EXPECT_THAT(OpenStore(Url("tenantA@", "?namespace=certstore/t/tenantA"),
                        {.redis_password = "pwA"}),
              IsOk());
  // ...but tenant A's credentials pointed at tenant B's namespace read nothing.
  ASSERT_OK_AND_ASSIGN(auto evil, OpenStore(Url("tenantA:pwA@")));
  EXPECT_THAT(evil->Get(P({"Cert", 1})),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("NOPERM")));
  EXPECT_THAT(evil->List(KeyPath::Root(), 10, ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(evil->Watch(KeyPath::Root()),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(RedisTenantTest, CliExitsFiveForEveryWayIntoAnotherTenant) {
  using certstore::testing::MakeTestCert;
  certstore::testing::TestIdentity cert = MakeTestCert({.common_name = "b.example"});
  std::string pem = absl::StrCat(getenv("TEST_TMPDIR"), "/b.pem");
  FILE* f = fopen(pem.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs(cert.cert_pem.c_str(), f);
  fclose(f);
  Cli r = RunCli({"--store", Url("admin:adminpw@"), "import", "Cert/1", "--cert", pem});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunCli({"--store", Url("tenantB:pwB@"), "get", "Cert/1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("CN=b.example"));

  for (const std::string& cred : {"", "tenantA@", "tenantA:pwA@", "tenantA:Wr0ngPw@"}) {
    for (const char* command : {"get", "list"}) {
      std::vector<std::string> args = {"--store", Url(cred), command};
      if (std::string(command) == "get") args.push_back("Cert/1");
      r = RunCli(args);
      EXPECT_EQ(r.exit_code, 5) << cred << " " << command << ": " << r.err;
      EXPECT_THAT(r.out, Not(HasSubstr("b.example"))) << cred;
      EXPECT_THAT(r.err, Not(HasSubstr("Wr0ngPw"))) << cred;
    }
  }
}

// Item 10: redis://:pw@ against a server without a password is exit 5.
TEST(RedisCliExitTest, PasswordForPasswordlessServerExitsFive) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  std::istringstream in;
  std::ostringstream out, err;
  int code = cli::RunStoreCommandWithIo(
      {"--store", absl::StrCat("redis://:SeCrEt1@127.0.0.1:", server->port(), "/0"),
       "list"},
      cli::CliEnvironment{}, in, out, err);
  EXPECT_EQ(code, 5) << err.str();
  EXPECT_THAT(err.str(), HasSubstr("AUTH as the default user refused"));
  EXPECT_THAT(err.str(), Not(HasSubstr("SeCrEt1")));
}

// Item 7: a malformed URL is exit 2 and its password is never printed.
TEST(RedisCliExitTest, MalformedUrlNeverEchoesThePassword) {
  for (const char* url :
       {"redis://user:SeCrEt1@host:abc/0", "redis://user:SeCrEt1@host:1/x",
        "redis://user:SeCrEt1@:1/0", "redis://user:SeCrEt1@h:1/0?bad=1",
        "redis://user:SeCrEt1%zz@h:1/0", "redis-sentinel://user:SeCrEt1@h:1",
        "redis://user:SeCr?Et1@host:abc/0"}) {
    std::istringstream in;
    std::ostringstream out, err;
    int code = cli::RunStoreCommandWithIo({"--store", url, "list"}, cli::CliEnvironment{},
                                          in, out, err);
    EXPECT_EQ(code, 2) << url << ": " << err.str();
    EXPECT_THAT(err.str(), HasSubstr("user:<redacted>@")) << url;
    EXPECT_THAT(err.str(), Not(HasSubstr("SeCr"))) << url;
  }
}

}  // namespace
}  // namespace sslshim::certstore
