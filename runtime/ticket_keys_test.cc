// TicketKeyManager in one process: the sealed record, create/rotate races
// decided by compare-and-set, the schedule, and facade servers sharing keys
// (resume on another server; previous key still opens; two rotations later
// it does not). The multi-process Redis fleet test is ticket_keys_fleet_test.

#include "runtime/ticket_keys.h"

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "certstore/memory_store.h"
#include "gtest/gtest.h"
#include "shim/ssl.h"
#include "shim/tls_test_util.h"
#include "testing/cert_builder.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using certstore::KeyPath;
using certstore::Kek;
using sslshim::testing::KeyType;
using sslshim::testing::SharedTestPki;

Kek TestKek(char fill = 'k') { return *Kek::FromBytes(std::string(32, fill)); }
KeyPath Path() { return *KeyPath::Parse("TicketKeys/web"); }

TEST(TicketKeyManagerTest, CreatesSealedRecordAndSecondHostAdoptsIt) {
  auto store = certstore::MemoryStore::Create();
  ASSERT_OK_AND_ASSIGN(auto a, TicketKeyManager::Create(store.get(), TestKek(), {.path = Path()}));
  ASSERT_OK_AND_ASSIGN(auto b, TicketKeyManager::Create(store.get(), TestKek(), {.path = Path()}));
  ASSERT_EQ(a->Keys().size(), 1u);
  EXPECT_EQ(a->Keys()[0].aes_key, b->Keys()[0].aes_key);
  EXPECT_EQ(a->Stats().generation, 1u);
  ASSERT_OK_AND_ASSIGN(certstore::StoreEntry e, store->Get(Path()));
  EXPECT_TRUE(certstore::IsSealedValue(e.value));
  const auto k = a->Keys()[0].aes_key;
  EXPECT_FALSE(absl::StrContains(
      e.value, absl::string_view(reinterpret_cast<const char*>(k.data()), k.size())));
  // Another KEK cannot open it: a clear error, no keys.
  absl::StatusOr<std::shared_ptr<TicketKeyManager>> wrong =
      TicketKeyManager::Create(store.get(), TestKek('x'), {.path = Path()});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition) << wrong.status();
}

TEST(TicketKeyManagerTest, BadInput) {
  auto store = certstore::MemoryStore::Create();
  EXPECT_EQ(TicketKeyManager::Create(nullptr, TestKek(), {.path = Path()}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TicketKeyManager::Create(store.get(), TestKek(), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_OK(store->Put(Path(), "garbage", certstore::kMustNotExist).status());
  EXPECT_FALSE(TicketKeyManager::Create(store.get(), TestKek(), {.path = Path()}).ok());
}

TEST(TicketKeyManagerTest, RacingRotationsExactlyOneWins) {
  auto store = certstore::MemoryStore::Create();
  for (int round = 0; round < 20; ++round) {
    ASSERT_OK_AND_ASSIGN(auto a, TicketKeyManager::Create(store.get(), TestKek(), {.path = Path()}));
    ASSERT_OK_AND_ASSIGN(auto b, TicketKeyManager::Create(store.get(), TestKek(), {.path = Path()}));
    const TicketKey before = a->Keys()[0];
    absl::StatusOr<bool> ra, rb;
    std::thread ta([&] { ra = a->Rotate(); });
    std::thread tb([&] { rb = b->Rotate(); });
    ta.join();
    tb.join();
    ASSERT_OK(ra.status());
    ASSERT_OK(rb.status());
    EXPECT_NE(*ra, *rb) << "round " << round;
    ASSERT_EQ(a->Keys().size(), 2u);
    EXPECT_EQ(a->Keys()[0].name, b->Keys()[0].name);
    EXPECT_EQ(a->Keys()[1].name, before.name);
    EXPECT_EQ(b->Keys()[1].name, before.name);
  }
}

TEST(TicketKeyManagerTest, RotatesOnScheduleOnce) {
  auto store = certstore::MemoryStore::Create();
  absl::Time now = absl::FromUnixSeconds(1700000000);
  TicketKeyOptions opts{.path = Path(), .rotation_interval = absl::Hours(1),
                        .now = [&now] { return now; }};
  ASSERT_OK_AND_ASSIGN(auto a, TicketKeyManager::Create(store.get(), TestKek(), opts));
  ASSERT_OK_AND_ASSIGN(auto b, TicketKeyManager::Create(store.get(), TestKek(), opts));
  EXPECT_FALSE(*a->RotateIfDue());
  now += absl::Minutes(61);
  EXPECT_TRUE(*a->RotateIfDue());
  EXPECT_FALSE(*b->RotateIfDue());  // Lost: adopts a's rotation...
  EXPECT_FALSE(*b->RotateIfDue());  // ...which is fresh, so nothing is due.
  EXPECT_EQ(a->Keys()[0].name, b->Keys()[0].name);
  EXPECT_EQ(store->Get(Path())->generation, 2u);
}

TEST(TicketKeyManagerTest, StartFollowsTheRecord) {
  auto store = certstore::MemoryStore::Create();
  TicketKeyOptions opts{.path = Path(), .poll_interval = absl::Milliseconds(20)};
  ASSERT_OK_AND_ASSIGN(auto a, TicketKeyManager::Create(store.get(), TestKek(), opts));
  ASSERT_OK_AND_ASSIGN(auto b, TicketKeyManager::Create(store.get(), TestKek(), opts));
  ASSERT_OK(b->Start());
  EXPECT_EQ(b->Start().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(*a->Rotate());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (b->Keys()[0].name != a->Keys()[0].name && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(b->Keys()[0].name, a->Keys()[0].name);
  EXPECT_GE(b->Stats().reloads, 2u);
  b->Stop();
}

// --- Facade servers sharing keys ------------------------------------------

struct Resumed {
  absl::Status client, server;
  bool reused = false;
  std::shared_ptr<const shim::SSLSession> session;
};

Resumed Connect(const std::shared_ptr<shim::SSLContext>& server,
                std::shared_ptr<const shim::SSLSession> session) {
  const auto& pki = SharedTestPki(KeyType::kP256);
  auto client = shim::test::ClientContext(pki);
  Resumed r;
  shim::test::TlsRun run = shim::test::RunTls(
      server, client, {.server_hostname = "localhost", .session = session},
      shim::test::EchoOnce, [&r](shim::SSLSocket& s) {
        absl::Status st = shim::test::PingExpectEcho()(s);
        r.reused = s.session_reused();
        r.session = s.session();
        return st;
      });
  r.client = run.client;
  r.server = run.server;
  return r;
}

std::shared_ptr<shim::SSLContext> Server(TicketKeyManager& keys) {
  auto ctx = shim::test::ServerContext(SharedTestPki(KeyType::kP256));
  EXPECT_OK(keys.Install(*ctx));
  EXPECT_OK(keys.Install(*ctx));  // Idempotent.
  return ctx;
}

class SharedKeysTest : public ::testing::TestWithParam<shim::TLSVersion> {};

TEST_P(SharedKeysTest, ResumesAcrossServersUntilTwoRotations) {
  auto store = certstore::MemoryStore::Create();
  ASSERT_OK_AND_ASSIGN(auto ka, TicketKeyManager::Create(store.get(), TestKek(), {.path = Path()}));
  ASSERT_OK_AND_ASSIGN(auto kb, TicketKeyManager::Create(store.get(), TestKek(), {.path = Path()}));
  auto a = Server(*ka);
  auto b = Server(*kb);
  ASSERT_OK(a->set_maximum_version(GetParam()));
  ASSERT_OK(b->set_maximum_version(GetParam()));

  Resumed first = Connect(a, nullptr);
  ASSERT_OK(first.client);
  ASSERT_NE(first.session, nullptr);
  EXPECT_EQ(ka->Stats().issued, GetParam() == shim::TLSVersion::TLSv1_3 ? 2u : 1u);

  Resumed on_b = Connect(b, first.session);
  ASSERT_OK(on_b.client);
  EXPECT_TRUE(on_b.reused);
  EXPECT_EQ(b->session_stats().Get("hits")->integer(), 1);
  EXPECT_EQ(kb->Stats().opened_current, 1u);

  ASSERT_TRUE(*ka->Rotate());
  ASSERT_OK(kb->Reload());
  Resumed after_one = Connect(b, first.session);
  ASSERT_OK(after_one.client);
  EXPECT_TRUE(after_one.reused);
  EXPECT_EQ(kb->Stats().opened_previous, 1u);

  ASSERT_TRUE(*kb->Rotate());
  ASSERT_OK(ka->Reload());
  Resumed after_two = Connect(a, first.session);
  ASSERT_OK(after_two.client);
  EXPECT_FALSE(after_two.reused);
  EXPECT_EQ(ka->Stats().unknown_key, 1u);
}

TEST_P(SharedKeysTest, UnsharedKeysDoNotResume) {
  auto store_a = certstore::MemoryStore::Create();
  auto store_b = certstore::MemoryStore::Create();
  ASSERT_OK_AND_ASSIGN(auto ka, TicketKeyManager::Create(store_a.get(), TestKek(), {.path = Path()}));
  ASSERT_OK_AND_ASSIGN(auto kb, TicketKeyManager::Create(store_b.get(), TestKek(), {.path = Path()}));
  auto a = Server(*ka);
  auto b = Server(*kb);
  ASSERT_OK(a->set_maximum_version(GetParam()));
  Resumed first = Connect(a, nullptr);
  ASSERT_OK(first.client);
  Resumed on_b = Connect(b, first.session);
  ASSERT_OK(on_b.client);
  EXPECT_FALSE(on_b.reused);
}

INSTANTIATE_TEST_SUITE_P(Versions, SharedKeysTest,
                         ::testing::Values(shim::TLSVersion::TLSv1_2,
                                           shim::TLSVersion::TLSv1_3),
                         [](const auto& info) {
                           return info.param == shim::TLSVersion::TLSv1_2 ? "TLS12"
                                                                          : "TLS13";
                         });

TEST(WithTicketKeysTest, DecoratesEveryContextTheProviderReturns) {
  auto store = certstore::MemoryStore::Create();
  ASSERT_OK_AND_ASSIGN(auto ka, TicketKeyManager::Create(store.get(), TestKek(), {.path = Path()}));
  ASSERT_OK_AND_ASSIGN(auto kb, TicketKeyManager::Create(store.get(), TestKek(), {.path = Path()}));
  auto pa = WithTicketKeys(
      FixedContextProvider(shim::test::ServerContext(SharedTestPki(KeyType::kP256))), ka);
  auto pb = WithTicketKeys(
      FixedContextProvider(shim::test::ServerContext(SharedTestPki(KeyType::kP256))), kb);
  ASSERT_OK_AND_ASSIGN(auto a, pa->Current());
  ASSERT_OK_AND_ASSIGN(auto a_again, pa->Current());
  EXPECT_EQ(a, a_again);
  ASSERT_OK_AND_ASSIGN(auto b, pb->Current());
  Resumed first = Connect(a, nullptr);
  ASSERT_OK(first.client);
  Resumed on_b = Connect(b, first.session);
  ASSERT_OK(on_b.client);
  EXPECT_TRUE(on_b.reused);
}

}  // namespace
}  // namespace sslshim::runtime
