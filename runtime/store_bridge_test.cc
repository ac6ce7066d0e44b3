// The store bridge: StoreFieldReader / store: references, and CredentialSlot
// over real backends (memory, LMDB in a temp dir, a real redis-server).

#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "certstore/cert_store.h"
#include "certstore/key_path.h"
#include "certstore/lmdb_damage.h"
#include "certstore/memory_store.h"
#include "certstore/store_url.h"
#include "certstore/tenant_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/credential_slot.h"
#include "runtime/store_reader.h"
#include "shim/ssl.h"
#include "shim/tls_test_util.h"
#include "testing/cert_builder.h"
#include "testing/redis_server.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

namespace ssl = ::sslshim::ssl;
using ::sslshim::certstore::CertStore;
using ::sslshim::certstore::Kek;
using ::sslshim::certstore::KeyPath;
using ::sslshim::testing::Issue;
using ::sslshim::testing::Issued;
using ::sslshim::testing::KeyType;
using ::sslshim::testing::SharedTestPki;
using ::sslshim::testing::StatusIs;
using ::sslshim::testing::TestPki;
using ::testing::HasSubstr;

Kek TestKek() { return *Kek::FromBytes(std::string(32, '\x42')); }

const TestPki& Pki() { return SharedTestPki(KeyType::kP256); }

KeyPath RecordPath() { return *KeyPath::Of({"Employee", "asalieri", "Address", 1}); }

std::unique_ptr<CertStore> OpenCertStore(const std::string& url) {
  auto store = certstore::OpenStore(url);
  EXPECT_OK(store);
  if (!store.ok()) return nullptr;
  auto cs = CertStore::Create(*std::move(store), {.keks = {TestKek()}});
  EXPECT_OK(cs);
  return cs.ok() ? *std::move(cs) : nullptr;
}

absl::Status PutServer(CertStore& cs, const Issued& leaf) {
  return cs
      .Put(RecordPath(), {{"cert", leaf.CertPem() + Pki().intermediate.CertPem()},
                          {"key_str", leaf.KeyPem()}})
      .status();
}

Issued NewServerLeaf() {
  return Issue({.common_name = "localhost", .dns_names = {"localhost"}}, KeyType::kP256,
               &Pki().intermediate);
}

// A server context recipe over a record's bytes.
absl::StatusOr<std::shared_ptr<ssl::SSLContext>> ServerFromBytes(
    const CredentialBytes& b) {
  auto ctx = ssl::SSLContext::Create(ssl::PROTOCOL_TLS_SERVER);
  if (!ctx.ok()) return ctx.status();
  absl::Status s = (*ctx)->load_cert_chain(ssl::StringIO(std::string(b.cert.view())),
                                           ssl::StringIO(std::string(b.key.view())));
  if (!s.ok()) return s;
  return ctx;
}

// The DER of the certificate a client sees when connecting to `server`.
std::string ServedCertDer(const std::shared_ptr<ssl::SSLContext>& server) {
  std::string der;
  auto run = ssl::test::RunTls(server, ssl::test::ClientContext(Pki()),
                               {.server_hostname = "localhost"}, ssl::test::EchoOnce,
                               [&](ssl::SSLSocket& s) {
                                 der = *s.getpeercert(ssl::binary_form);
                                 return ssl::test::PingExpectEcho()(s);
                               });
  EXPECT_OK(run.client);
  return der;
}

TEST(StoreRefTest, ParsesAndRejects) {
  ASSERT_OK_AND_ASSIGN(
      StoreRef ref, ParseStoreRef("store:Employee/asalieri/Address/1#key_str", "cert"));
  EXPECT_EQ(ref.path, RecordPath());
  EXPECT_EQ(ref.field, "key_str");
  ASSERT_OK_AND_ASSIGN(ref, ParseStoreRef("store:Employee/asalieri/Address/1", "cert"));
  EXPECT_EQ(ref.field, "cert");
  EXPECT_TRUE(IsStoreRef("store:x"));
  EXPECT_FALSE(IsStoreRef("/etc/x.pem"));
  EXPECT_THAT(
      ParseStoreRef("/etc/x.pem", "cert"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a store reference")));
  EXPECT_THAT(ParseStoreRef("store:Employee#", "cert"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty field")));
  EXPECT_THAT(ParseStoreRef("store:#cert", "cert"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty key path")));
  EXPECT_THAT(
      SourceFromArg("store:Employee/1", nullptr, "cert"),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("needs a store")));
  ASSERT_OK_AND_ASSIGN(ssl::Source path, SourceFromArg("/etc/x.pem", nullptr, "cert"));
  EXPECT_TRUE(path.is_path());
}

TEST(StoreFieldReaderTest, FeedsTheFacadeFromSealedRecords) {
  auto cs = OpenCertStore("memory:");
  ASSERT_NE(cs, nullptr);
  ASSERT_OK(PutServer(*cs, Pki().server));
  // The key is sealed at rest...
  ASSERT_OK_AND_ASSIGN(certstore::Record rec, cs->Get(RecordPath()));
  EXPECT_TRUE(rec.fields.at("key_str").sealed);
  // ...and the reader hands the facade the plaintext.
  auto cert = StoreFieldReader(cs.get(), RecordPath(), "cert");
  auto key = StoreFieldReader(cs.get(), RecordPath(), "key_str");
  EXPECT_EQ(key->name(), "store:Employee/asalieri/Address/1#key_str");
  ASSERT_OK_AND_ASSIGN(auto server, ssl::SSLContext::Create(ssl::PROTOCOL_TLS_SERVER));
  ASSERT_OK(server->load_cert_chain(cert, key));
  EXPECT_EQ(ServedCertDer(server), Pki().server.CertDer());

  // Errors name the record and field.
  ASSERT_OK_AND_ASSIGN(auto other, ssl::SSLContext::Create(ssl::PROTOCOL_TLS_SERVER));
  absl::Status missing = other->load_cert_chain(
      StoreFieldReader(cs.get(), *KeyPath::Of({"Employee", "nobody"}), "cert"), key);
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound,
                                HasSubstr("store:Employee/nobody#cert")));
  absl::Status no_field =
      other->load_cert_chain(StoreFieldReader(cs.get(), RecordPath(), "nope"), key);
  EXPECT_THAT(no_field, StatusIs(absl::StatusCode::kNotFound, HasSubstr("#nope")));
}

TEST(StoreFieldReaderTest, TenantViewKeepsReadersInsideTheTenant) {
  auto base = certstore::MemoryStore::Create();
  ASSERT_OK_AND_ASSIGN(auto all,
                       CertStore::CreateBorrowed(base.get(), {.keks = {TestKek()}}));
  ASSERT_OK(PutServer(*all, Pki().server));  // Under Employee/asalieri.
  ASSERT_OK_AND_ASSIGN(auto view, certstore::TenantView::Create(
                                      base.get(), *KeyPath::Of({"Employee", "bob"})));
  ASSERT_OK_AND_ASSIGN(auto bobs,
                       CertStore::CreateBorrowed(view.get(), {.keks = {TestKek()}}));
  ASSERT_OK_AND_ASSIGN(auto ctx, ssl::SSLContext::Create(ssl::PROTOCOL_TLS_SERVER));
  absl::Status s =
      ctx->load_cert_chain(StoreFieldReader(bobs.get(), RecordPath(), "cert"),
                           StoreFieldReader(bobs.get(), RecordPath(), "key_str"));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
}

class CredentialSlotTest : public ::testing::TestWithParam<bool /*watch*/> {};

TEST_P(CredentialSlotTest, ServesCachedContextAndPicksUpRotation) {
  const char* tmp = getenv("TEST_TMPDIR");
  auto cs = OpenCertStore(
      absl::StrCat("lmdb:", tmp ? tmp : "/tmp", "/slot-", GetParam() ? "watch" : "poll"));
  ASSERT_NE(cs, nullptr);
  ASSERT_OK(PutServer(*cs, Pki().server));
  std::atomic<int> builds{0};
  ASSERT_OK_AND_ASSIGN(
      auto slot, CredentialSlot::Create(
                     cs.get(), RecordPath(),
                     [&](const CredentialBytes& b) {
                       ++builds;
                       return ServerFromBytes(b);
                     },
                     {.watch = GetParam(), .recheck_interval = absl::Milliseconds(100)}));
  std::shared_ptr<ssl::SSLContext> first = slot->Current();
  // The hot path: the same context, no rebuild.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(slot->Current(), first);
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(ServedCertDer(first), Pki().server.CertDer());

  Issued rotated = NewServerLeaf();
  ASSERT_OK(PutServer(*cs, rotated));
  std::shared_ptr<ssl::SSLContext> now = first;
  for (int i = 0; i < 100 && now == first; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    now = slot->Current();
  }
  ASSERT_NE(now, first) << "rotation not seen within 2 s";
  EXPECT_EQ(ServedCertDer(now), rotated.CertDer());
  SlotStatus st = slot->status();
  EXPECT_EQ(st.generation, 2u);
  EXPECT_EQ(st.loads, 2u);
  EXPECT_EQ(st.last_error, "");
  EXPECT_EQ(st.watching, GetParam());
  EXPECT_THAT(st.ToPyValue().ToJson(), HasSubstr("\"generation\": 2"));
}

INSTANTIATE_TEST_SUITE_P(WatchAndPoll, CredentialSlotTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Watch" : "Poll"; });

TEST(CredentialSlotFailureTest, KeepsLastGoodWhenANewerRecordFailsToLoad) {
  auto cs = OpenCertStore("memory:");
  ASSERT_NE(cs, nullptr);
  ASSERT_OK(PutServer(*cs, Pki().server));
  // A recipe that refuses generation 2 (e.g. a policy the new cert breaks).
  ASSERT_OK_AND_ASSIGN(
      auto slot,
      CredentialSlot::Create(cs.get(), RecordPath(),
                             [](const CredentialBytes& b)
                                 -> absl::StatusOr<std::shared_ptr<ssl::SSLContext>> {
                               if (b.generation == 2) {
                                 return absl::InvalidArgumentError("refused by policy");
                               }
                               return ServerFromBytes(b);
                             },
                             {.watch = false}));
  std::shared_ptr<ssl::SSLContext> good = slot->Current();
  ASSERT_OK(PutServer(*cs, NewServerLeaf()));
  EXPECT_THAT(slot->Refresh(), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("generation 2: refused by policy")));
  EXPECT_EQ(slot->Current(), good);
  EXPECT_EQ(ServedCertDer(slot->Current()), Pki().server.CertDer());
  SlotStatus st = slot->status();
  EXPECT_EQ(st.generation, 1u);
  EXPECT_THAT(st.last_error, HasSubstr("refused by policy"));
  EXPECT_EQ(st.failures, 1u);
  // The failed generation is not re-parsed at every check.
  EXPECT_FALSE(slot->Refresh().ok());
  // Generation 3 loads.
  Issued third = NewServerLeaf();
  ASSERT_OK(PutServer(*cs, third));
  ASSERT_OK(slot->Refresh());
  EXPECT_EQ(ServedCertDer(slot->Current()), third.CertDer());
  EXPECT_EQ(slot->status().last_error, "");
}

TEST(CredentialSlotFailureTest, CreateFailsClearlyWithoutARecord) {
  auto cs = OpenCertStore("memory:");
  ASSERT_NE(cs, nullptr);
  EXPECT_THAT(CredentialSlot::Create(cs.get(), RecordPath(), ServerFromBytes),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(CredentialSlot::Create(nullptr, RecordPath(), ServerFromBytes),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CredentialSlotFailureTest, SurvivesARedisOutage) {
  ASSERT_OK_AND_ASSIGN(auto redis, sslshim::testing::RedisServer::Start());
  auto cs = OpenCertStore(redis->Url());
  ASSERT_NE(cs, nullptr);
  ASSERT_OK(PutServer(*cs, Pki().server));
  ASSERT_OK_AND_ASSIGN(
      auto slot,
      CredentialSlot::Create(cs.get(), RecordPath(), ServerFromBytes, {.watch = false}));
  std::shared_ptr<ssl::SSLContext> good = slot->Current();
  ASSERT_OK(redis->Stop());
  absl::Status down = slot->Refresh();
  EXPECT_THAT(down, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("127.0.0.1")));
  // Still serving the last good credentials.
  EXPECT_EQ(slot->Current(), good);
  EXPECT_EQ(ServedCertDer(good), Pki().server.CertDer());
  EXPECT_THAT(slot->status().last_error, HasSubstr("UNAVAILABLE"));
  // Redis comes back (empty: no persistence); the record is written again.
  ASSERT_OK(redis->Restart());
  Issued fresh = NewServerLeaf();
  absl::Status put = PutServer(*cs, fresh);
  for (int i = 0; i < 50 && !put.ok(); ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    put = PutServer(*cs, fresh);
  }
  ASSERT_OK(put);
  ASSERT_OK(slot->Refresh());
  EXPECT_EQ(ServedCertDer(slot->Current()), fresh.CertDer());
  EXPECT_EQ(slot->status().last_error, "");
}

// Seconds of CPU this process has used.
double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Waits up to 5 s for the slot's last error to mention `what`, serving
// (Current()) meanwhile as a server would.
std::string AwaitError(CredentialSlot& slot, absl::string_view what) {
  std::string last;
  for (absl::Time end = absl::Now() + absl::Seconds(5); absl::Now() < end;) {
    slot.Current();
    last = slot.status().last_error;
    if (absl::StrContains(last, what)) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return last;
}

class CredentialSlotDamagedStoreTest : public ::testing::TestWithParam<bool /*watch*/> {};

// The LMDB file is truncated, emptied and corrupted underneath a slot with a
// live watch: the slot keeps serving the last good context, names the error
// in its status, does not spin, and recovers when the file is restored.
TEST_P(CredentialSlotDamagedStoreTest, KeepsServingLastGoodAndReportsTheDamage) {
  const std::string dir =
      absl::StrCat(getenv("TEST_TMPDIR"), "/damaged-", GetParam() ? "watch" : "poll");
  auto cs = OpenCertStore("lmdb:" + dir);
  ASSERT_NE(cs, nullptr);
  ASSERT_OK(PutServer(*cs, Pki().server));
  ASSERT_OK_AND_ASSIGN(
      auto slot, CredentialSlot::Create(
                     cs.get(), RecordPath(), ServerFromBytes,
                     {.watch = GetParam(), .recheck_interval = absl::Milliseconds(50)}));
  std::shared_ptr<ssl::SSLContext> good = slot->Current();
  const std::string data = dir + "/data.mdb";
  const std::string intact = certstore::ReadFileBytes(data);

  ASSERT_EQ(truncate(data.c_str(), 8192), 0);
  EXPECT_THAT(AwaitError(*slot, "truncated"), HasSubstr("DATA_LOSS"));
  EXPECT_EQ(slot->Current(), good);
  EXPECT_EQ(ServedCertDer(slot->Current()), Pki().server.CertDer());
  // A failing watch must not turn into a busy loop.
  const double cpu_before = CpuSeconds();
  for (int i = 0; i < 20; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    EXPECT_EQ(slot->Current(), good);
  }
  EXPECT_LT(CpuSeconds() - cpu_before, 0.5) << "the slot spins on a broken store";

  ASSERT_EQ(truncate(data.c_str(), 0), 0);
  EXPECT_THAT(AwaitError(*slot, "empty (0 bytes)"), HasSubstr("DATA_LOSS"));
  EXPECT_EQ(ServedCertDer(slot->Current()), Pki().server.CertDer());
  EXPECT_GT(slot->status().failures, 0u);
  EXPECT_EQ(slot->status().generation, 1u);

  // Restored in place: the slot reads the store again.
  ASSERT_OK(certstore::WriteFileAt(data, intact, 0));
  EXPECT_OK(slot->Refresh());
  EXPECT_EQ(slot->status().last_error, "");
  EXPECT_EQ(slot->Current(), good);
}

INSTANTIATE_TEST_SUITE_P(WatchAndPoll, CredentialSlotDamagedStoreTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Watch" : "Poll"; });

TEST(CredentialSlotFailureTest, AWatchOnAStoppedRedisDoesNotSpin) {
  ASSERT_OK_AND_ASSIGN(auto redis, sslshim::testing::RedisServer::Start());
  auto cs = OpenCertStore(redis->Url());
  ASSERT_NE(cs, nullptr);
  ASSERT_OK(PutServer(*cs, Pki().server));
  ASSERT_OK_AND_ASSIGN(
      auto slot, CredentialSlot::Create(cs.get(), RecordPath(), ServerFromBytes,
                                        {.recheck_interval = absl::Milliseconds(50)}));
  std::shared_ptr<ssl::SSLContext> good = slot->Current();
  ASSERT_OK(redis->Stop());
  EXPECT_THAT(AwaitError(*slot, "UNAVAILABLE"), HasSubstr("UNAVAILABLE"));
  const double cpu_before = CpuSeconds();
  absl::SleepFor(absl::Seconds(1));
  EXPECT_LT(CpuSeconds() - cpu_before, 0.5) << "the watch loop spins";
  EXPECT_FALSE(slot->status().watching);
  EXPECT_EQ(slot->Current(), good);
}

TEST(CredentialSlotFailureTest, RecheckIntervalMustBePositive) {
  auto cs = OpenCertStore("memory:");
  ASSERT_NE(cs, nullptr);
  ASSERT_OK(PutServer(*cs, Pki().server));
  for (absl::Duration d : {absl::ZeroDuration(), absl::Seconds(-1)}) {
    EXPECT_THAT(CredentialSlot::Create(cs.get(), RecordPath(), ServerFromBytes,
                                       {.recheck_interval = d}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("recheck")));
  }
}

}  // namespace
}  // namespace sslshim::runtime
