#include "certstore/redis_store.h"

#include <signal.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "certstore/store_conformance.h"
#include "gmock/gmock.h"
#include "testing/redis_server.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore::testing {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::RedisServer;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

class RedisBackend : public OwnedStoreBackend<RedisStore> {
 public:
  absl::Status Open() {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
    if (!server.ok()) return server.status();
    server_ = *std::move(server);
    absl::StatusOr<std::unique_ptr<RedisStore>> s =
        RedisStore::Create({.port = server_->port()});
    if (!s.ok()) return s.status();
    store_ = *std::move(s);
    return absl::OkStatus();
  }
  ~RedisBackend() override { store_.reset(); }  // Before the server stops.

 private:
  std::unique_ptr<RedisServer> server_;
};

INSTANTIATE_TEST_SUITE_P(Redis, StoreConformanceTest,
                         ::testing::Values(FactoryFor<RedisBackend>("redis")),
                         [](const auto& info) { return info.param.name; });

KeyPath P(std::initializer_list<KeyPath::Arg> args) { return *KeyPath::Of(args); }

// Runs one command as the default user; returns the reply as text.
std::string Admin(int port, const std::vector<std::string>& args) {
  return ::sslshim::testing::RedisCommand(port, args).value_or("no reply");
}

// A store with 300 ms connect and command timeouts.
absl::StatusOr<std::unique_ptr<RedisStore>> ShortTimeoutStore(int port) {
  return RedisStore::Create({.port = port,
                             .connect_timeout = absl::Milliseconds(300),
                             .command_timeout = absl::Milliseconds(300)});
}

TEST(RedisOutageTest, FailsFastNamingEndpointThenRecoversAfterRestart) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  ASSERT_OK_AND_ASSIGN(auto store, ShortTimeoutStore(server->port()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Watcher> watcher, store->Watch(P({"W", 1})));
  ASSERT_OK(store->Put(P({"A", 1}), "before", kAnyGeneration).status());
  const std::string endpoint = absl::StrCat("redis://127.0.0.1:", server->port(), "/0");

  ASSERT_OK(server->Stop());
  absl::Time start = absl::Now();
  EXPECT_THAT(store->Get(P({"A", 1})),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(endpoint)));
  EXPECT_THAT(store->Put(P({"A", 1}), "x", kAnyGeneration),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(endpoint)));
  EXPECT_THAT(store->List(KeyPath::Root(), 10, ""),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  absl::StatusOr<absl::optional<WatchEvent>> during =
      watcher->Next(absl::Milliseconds(100));
  EXPECT_THAT(during, StatusIs(absl::StatusCode::kUnavailable));

  ASSERT_OK(server->Restart());  // Same port, empty data (no persistence).
  EXPECT_THAT(store->Get(P({"A", 1})), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(uint64_t g, store->Put(P({"A", 1}), "after", kAnyGeneration));
  EXPECT_EQ(g, 1u);
  ASSERT_OK_AND_ASSIGN(StoreEntry e, store->Get(P({"A", 1})));
  EXPECT_EQ(e.value, "after");
  // The watcher reconnects, says "resync", then delivers new events.
  ASSERT_OK_AND_ASSIGN(absl::optional<WatchEvent> resync,
                       watcher->Next(absl::Seconds(2)));
  ASSERT_TRUE(resync.has_value());
  EXPECT_EQ(resync->type, WatchEvent::Type::kResync);
  ASSERT_OK(store->Put(P({"W", 1, "X", 2}), "w", kAnyGeneration).status());
  ASSERT_OK_AND_ASSIGN(absl::optional<WatchEvent> ev, watcher->Next(absl::Seconds(2)));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->path, P({"W", 1, "X", 2}));
}

TEST(RedisOutageTest, HungServerHitsTheCommandTimeout) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  ASSERT_OK_AND_ASSIGN(auto store, ShortTimeoutStore(server->port()));
  ASSERT_OK(store->Put(P({"A", 1}), "v", kAnyGeneration).status());
  ASSERT_EQ(kill(server->pid(), SIGSTOP), 0);
  absl::Time start = absl::Now();
  absl::StatusOr<StoreEntry> e = store->Get(P({"A", 1}));
  absl::Duration took = absl::Now() - start;
  kill(server->pid(), SIGCONT);
  EXPECT_THAT(e, StatusIs(absl::StatusCode::kDeadlineExceeded,
                          HasSubstr(absl::StrCat("127.0.0.1:", server->port()))));
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_THAT(store->Get(P({"A", 1})), IsOk());  // Reconnects by itself.
}

TEST(RedisCasTest, WritersOnSeparateConnectionsExactlyOneWins) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  constexpr int kClients = 6;
  std::vector<std::unique_ptr<RedisStore>> clients;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_OK_AND_ASSIGN(auto c, RedisStore::Create({.port = server->port()}));
    clients.push_back(std::move(c));
  }
  std::vector<Store*> writers;
  for (auto& c : clients) writers.push_back(c.get());
  ExpectExactlyOneWriterWins(writers, P({"Race", "x"}), 20);
}

TEST(RedisAuthTest, PasswordRequiredAndChecked) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       RedisServer::Start({.extra_args = {"--requirepass", "s3cret"}}));
  EXPECT_THAT(RedisStore::Create({.port = server->port()}),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("NOAUTH")));
  absl::StatusOr<std::unique_ptr<RedisStore>> wrong =
      RedisStore::Create({.port = server->port(), .password = "nope"});
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(wrong.status().message(), Not(HasSubstr("nope")));
  ASSERT_OK_AND_ASSIGN(
      auto store, RedisStore::Create({.port = server->port(), .password = "s3cret"}));
  EXPECT_THAT(store->Put(P({"A", 1}), "v", kAnyGeneration), IsOk());
}

// Item 7 of issue 8: no status may carry the password, wherever it fails.
TEST(RedisAuthTest, PasswordNeverInAnyMessage) {
  constexpr char kSecret[] = "SeCrEt1";
  ASSERT_OK_AND_ASSIGN(auto secured,
                       RedisServer::Start({.extra_args = {"--requirepass", "right"}}));
  ASSERT_OK_AND_ASSIGN(auto open, RedisServer::Start());
  // A server that echoes the password: AUTH renamed away, so Redis answers
  // "unknown command 'AUTH', with args beginning with: 'u' 'SeCrEt1'".
  ASSERT_OK_AND_ASSIGN(
      auto echoing, RedisServer::Start({.extra_args = {"--rename-command", "AUTH", ""}}));
  std::vector<absl::Status> errors;
  for (int port : {secured->port(), open->port(), echoing->port(), 1}) {
    for (const char* user : {"", "u"}) {
      absl::StatusOr<std::unique_ptr<RedisStore>> s =
          RedisStore::Create({.port = port, .username = user, .password = kSecret});
      ASSERT_FALSE(s.ok()) << port << " " << user;
      errors.push_back(s.status());
    }
  }
  ASSERT_OK_AND_ASSIGN(
      auto ok, RedisStore::Create({.port = secured->port(), .password = "right"}));
  ASSERT_OK(ok->Put(P({"A", 1}), "v", kAnyGeneration).status());
  ASSERT_OK(secured->Stop());
  errors.push_back(ok->Get(P({"A", 1})).status());
  for (const absl::Status& e : errors) {
    EXPECT_FALSE(e.ok());
    EXPECT_THAT(e.ToString(), Not(HasSubstr(kSecret)));
  }
  EXPECT_THAT(errors[5].message(), HasSubstr("<redacted>"));  // The echoing server.
  EXPECT_THAT(errors[5], StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(ok->Describe(), Not(HasSubstr("right")));
}

// Item 10 of issue 8: a password for a server without one is a permission
// problem (exit 5), not an internal error (exit 8).
TEST(RedisAuthTest, PasswordAgainstPasswordlessServerIsPermissionDenied) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  EXPECT_THAT(RedisStore::Create({.port = server->port(), .password = "pw"}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("AUTH as the default user refused")));
}

// A server whose `default` user is still on (and reads everything), an ACL
// user tenantA, and tenant B's record written by `default`.
class RedisAclTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, RedisServer::Start());
    port = server_->port();
    ASSERT_EQ(
        Admin(port, {"ACL", "SETUSER", "tenantA", "on", ">pwA", "~certstore/t/tenantA/*",
                     "&certstore/t/tenantA/*", "+@all", "-@dangerous"}),
        "OK");
    ASSERT_OK_AND_ASSIGN(
        b_admin,
        RedisStore::Create({.port = port, .key_namespace = "certstore/t/tenantB"}));
    ASSERT_OK(b_admin->Put(P({"Cert", 1}), "tenant B secret", kAnyGeneration).status());
  }
  void TearDown() override { b_admin.reset(); }

  std::unique_ptr<RedisServer> server_;
  int port = 0;
  std::unique_ptr<RedisStore> b_admin;
};

// Item 6 of issue 8: a user name without a password must not fall back to
// the `default` user, even where `default` is still on and reads everything.
TEST_F(RedisAclTest, UserNameWithoutPasswordNeverRunsAsDefault) {
  EXPECT_THAT(
      RedisStore::Create(
          {.port = port, .username = "tenantA", .key_namespace = "certstore/t/tenantB"}),
      StatusIs(absl::StatusCode::kPermissionDenied,
               HasSubstr("AUTH as user tenantA refused: WRONGPASS")));
  // A `nopass` ACL user is how Redis grants a user without a password; the
  // user name is still what the connection runs as.
  ASSERT_EQ(Admin(port, {"ACL", "SETUSER", "reader", "on", "nopass", "~certstore/t/r/*",
                         "+@read", "+@connection"}),
            "OK");
  ASSERT_OK_AND_ASSIGN(
      auto reader,
      RedisStore::Create(
          {.port = port, .username = "reader", .key_namespace = "certstore/t/tenantB"}));
  EXPECT_THAT(reader->Get(P({"Cert", 1})), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(RedisAclTest, TenantUserIsConfinedByTheServer) {
  // Inside its namespace the tenant can do everything.
  ASSERT_OK_AND_ASSIGN(auto a,
                       RedisStore::Create({.port = port,
                                           .username = "tenantA",
                                           .password = "pwA",
                                           .key_namespace = "certstore/t/tenantA"}));
  EXPECT_EQ(a->Describe(), absl::StrCat("redis://tenantA@127.0.0.1:", port, "/0"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Watcher> w, a->Watch(KeyPath::Root()));
  ASSERT_OK(a->Put(P({"Cert", 1}), "mine", kAnyGeneration).status());
  EXPECT_THAT(a->Get(P({"Cert", 1})), IsOk());
  ASSERT_OK_AND_ASSIGN(ListPage page, a->List(KeyPath::Root(), 10, ""));
  EXPECT_EQ(page.paths.size(), 1u);
  ASSERT_OK_AND_ASSIGN(absl::optional<WatchEvent> ev, w->Next(absl::Seconds(2)));
  ASSERT_TRUE(ev.has_value());

  // Pointed at another tenant's namespace (or a name-prefix of it), the
  // server refuses every operation.
  for (const char* ns : {"certstore/t/tenantB", "certstore/t/tenantAB", "certstore"}) {
    ASSERT_OK_AND_ASSIGN(auto evil, RedisStore::Create({.port = port,
                                                        .username = "tenantA",
                                                        .password = "pwA",
                                                        .key_namespace = ns}));
    EXPECT_THAT(evil->Get(P({"Cert", 1})),
                StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("NOPERM")))
        << ns;
    EXPECT_THAT(evil->Put(P({"Cert", 1}), "evil", kAnyGeneration),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << ns;
    EXPECT_THAT(evil->List(KeyPath::Root(), 10, ""),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << ns;
    EXPECT_THAT(evil->Delete(P({"Cert", 1}), kAnyGeneration),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << ns;
    EXPECT_THAT(evil->Watch(KeyPath::Root()),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << ns;
  }
  ASSERT_OK_AND_ASSIGN(StoreEntry b, b_admin->Get(P({"Cert", 1})));
  EXPECT_EQ(b.value, "tenant B secret");
}

}  // namespace
}  // namespace sslshim::certstore::testing
