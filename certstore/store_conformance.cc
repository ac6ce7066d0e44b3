#include "certstore/store_conformance.h"

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "certstore/cert_store.h"
#include "certstore/record.h"
#include "certstore/tenant_view.h"
#include "certstore/testing/test_certs.h"
#include "gmock/gmock.h"
#include "openssl/sha.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore::testing {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

KeyPath P(std::initializer_list<KeyPath::Arg> args) { return *KeyPath::Of(args); }

std::vector<std::string> ListAll(Store* store, const KeyPath& prefix,
                                 size_t page_size = 1000) {
  std::vector<std::string> out;
  std::string cursor;
  do {
    absl::StatusOr<ListPage> page = store->List(prefix, page_size, cursor);
    EXPECT_THAT(page, IsOk());
    if (!page.ok()) break;
    for (const KeyPath& p : page->paths) out.push_back(p.ToString());
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return out;
}

}  // namespace

void ExpectExactlyOneWriterWins(const std::vector<Store*>& writers, const KeyPath& path,
                                int rounds) {
  const int n = static_cast<int>(writers.size());
  ASSERT_OK(writers[0]->Put(path, "start", kMustNotExist).status());
  for (int round = 0; round < rounds; ++round) {
    ASSERT_OK_AND_ASSIGN(StoreEntry before, writers[0]->Get(path));
    std::atomic<int> wins{0}, conflicts{0}, ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < n) std::this_thread::yield();
        absl::StatusOr<uint64_t> g =
            writers[t]->Put(path, absl::StrCat("writer ", t), before.generation);
        if (g.ok()) {
          wins.fetch_add(1);
        } else if (absl::IsAborted(g.status())) {
          conflicts.fetch_add(1);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
    EXPECT_EQ(conflicts.load(), n - 1) << "round " << round;
    ASSERT_OK_AND_ASSIGN(StoreEntry after, writers[0]->Get(path));
    EXPECT_EQ(after.generation, before.generation + 1);
  }
}

void StoreConformanceTest::SetUp() {
  absl::StatusOr<std::unique_ptr<StoreBackend>> b = GetParam().make();
  ASSERT_THAT(b, IsOk());
  backend_ = *std::move(b);
}

TEST_P(StoreConformanceTest, PutGetAndGenerations) {
  KeyPath p = P({"Employee", "asalieri", "Address", 1});
  EXPECT_THAT(store()->Get(p), StatusIs(absl::StatusCode::kNotFound,
                                        HasSubstr("Employee/asalieri/Address/1")));
  ASSERT_OK_AND_ASSIGN(uint64_t g1, store()->Put(p, "v1", kAnyGeneration));
  EXPECT_EQ(g1, 1u);
  ASSERT_OK_AND_ASSIGN(uint64_t g2, store()->Put(p, "v2", kAnyGeneration));
  EXPECT_EQ(g2, 2u);
  ASSERT_OK_AND_ASSIGN(StoreEntry e, store()->Get(p));
  EXPECT_EQ(e.value, "v2");
  EXPECT_EQ(e.generation, 2u);
}

TEST_P(StoreConformanceTest, CompareAndSetConflictsChangeNothing) {
  KeyPath p = P({"K", "cas"});
  ASSERT_OK(store()->Put(p, "a", kMustNotExist).status());
  EXPECT_THAT(store()->Put(p, "b", kMustNotExist),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("generation conflict")));
  EXPECT_THAT(store()->Put(p, "b", 7), StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(StoreEntry e, store()->Get(p));
  EXPECT_EQ(e.value, "a");
  EXPECT_EQ(e.generation, 1u);
  EXPECT_THAT(store()->Put(p, "c", 1), IsOk());
  EXPECT_THAT(store()->Put(P({"K", "new"}), "x", 3),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(store()->Get(P({"K", "new"})), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(StoreConformanceTest, DeleteSemantics) {
  KeyPath p = P({"K", "del"});
  EXPECT_THAT(store()->Delete(p, kAnyGeneration), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(store()->Put(p, "a", kAnyGeneration).status());
  EXPECT_THAT(store()->Delete(p, 5), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(store()->Get(p), IsOk());
  EXPECT_THAT(store()->Delete(p, 1), IsOk());
  EXPECT_THAT(store()->Get(p), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ListAll(store(), KeyPath::Root()), ::testing::IsEmpty());
  ASSERT_OK_AND_ASSIGN(uint64_t g, store()->Put(p, "again", kMustNotExist));
  EXPECT_EQ(g, 1u);
}

TEST_P(StoreConformanceTest, RootIsNotWritable) {
  EXPECT_THAT(store()->Put(KeyPath::Root(), "x", kAnyGeneration),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(StoreConformanceTest, BinaryValuesRoundTrip) {
  std::string value(256 * 1024, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 7);
  KeyPath p = P({"Bin", "x"});
  ASSERT_OK(store()->Put(p, value, kAnyGeneration).status());
  ASSERT_OK_AND_ASSIGN(StoreEntry e, store()->Get(p));
  EXPECT_EQ(e.value, value);
  ASSERT_OK(store()->Put(P({"Bin", "empty"}), "", kAnyGeneration).status());
  ASSERT_OK_AND_ASSIGN(StoreEntry empty, store()->Get(P({"Bin", "empty"})));
  EXPECT_EQ(empty.value, "");
}

TEST_P(StoreConformanceTest, ListReturnsDescendantsOnly) {
  for (const KeyPath& p :
       {P({"Employee", "asalieri"}), P({"Employee", "asalieri", "Address", 1}),
        P({"Employee", "asalieri", "Address", 2}),
        P({"Employee", "asalieri", "Phone", "home"}),
        P({"Employee", "asalieri2", "Address", 1}), P({"Employee", "asalieri-x"}),
        P({"Employee", "asalieri.x"}), P({"Employee", "asalieri/x", "Address", 1}),
        P({"Employer", "x"})}) {
    ASSERT_OK(store()->Put(p, "v", kAnyGeneration).status());
  }
  EXPECT_THAT(ListAll(store(), P({"Employee", "asalieri"})),
              ElementsAre("Employee/asalieri/Address/1", "Employee/asalieri/Address/2",
                          "Employee/asalieri/Phone/home"));
  EXPECT_EQ(ListAll(store(), KeyPath::Root()).size(), 9u);
  EXPECT_THAT(ListAll(store(), P({"Nobody", 1})), ::testing::IsEmpty());
}

TEST_P(StoreConformanceTest, ListPagesWithCursor) {
  for (int i = 0; i < 250; ++i) {
    ASSERT_OK(store()->Put(P({"T", "a", "C", i}), "v", kAnyGeneration).status());
  }
  std::vector<std::string> all = ListAll(store(), P({"T", "a"}), 64);
  EXPECT_EQ(all.size(), 250u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 250u);
  ASSERT_OK_AND_ASSIGN(ListPage exact, store()->List(P({"T", "a"}), 250, ""));
  EXPECT_EQ(exact.paths.size(), 250u);
  EXPECT_EQ(exact.next_cursor, "");
  EXPECT_THAT(store()->List(P({"T", "a"}), 0, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store()->List(P({"T", "a"}), 10, "T/b/C/1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cursor")));
  EXPECT_THAT(store()->List(P({"T", "a"}), 10, "not a cursor"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cursor")));
}

TEST_P(StoreConformanceTest, WatchSeesChangesUnderPrefix) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Watcher> w, store()->Watch(P({"Tenant", "a"})));
  ASSERT_OK(store()->Put(P({"Tenant", "ab", "C", 1}), "x", kAnyGeneration).status());
  ASSERT_OK(store()->Put(P({"Tenant", "a", "C", 1}), "x", kAnyGeneration).status());
  ASSERT_OK(store()->Put(P({"Tenant", "a", "C", 1}), "y", kAnyGeneration).status());
  ASSERT_OK(store()->Delete(P({"Tenant", "a", "C", 1}), kAnyGeneration));
  std::vector<std::string> seen;
  while (seen.size() < 3) {
    ASSERT_OK_AND_ASSIGN(absl::optional<WatchEvent> e, w->Next(absl::Seconds(5)));
    ASSERT_TRUE(e.has_value()) << "timed out after " << seen.size();
    if (e->type == WatchEvent::Type::kResync) continue;
    seen.push_back(absl::StrCat(e->type == WatchEvent::Type::kPut ? "put " : "del ",
                                e->path.ToString(), " ", e->generation));
  }
  EXPECT_THAT(seen, ElementsAre("put Tenant/a/C/1 1", "put Tenant/a/C/1 2",
                                "del Tenant/a/C/1 0"));
  ASSERT_OK_AND_ASSIGN(absl::optional<WatchEvent> none, w->Next(absl::Milliseconds(50)));
  EXPECT_FALSE(none.has_value());
}

TEST_P(StoreConformanceTest, ConcurrentWritersExactlyOneWins) {
  ExpectExactlyOneWriterWins(std::vector<Store*>(6, store()), P({"Race", "x"}), 15);
}

TEST_P(StoreConformanceTest, HundredThousandRecordsListedByPrefix) {
  constexpr int kRecords = 100000;
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_OK(store()->Put(P({"Fleet", "big", "Host", i}), "v", kAnyGeneration).status());
  }
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(
        store()->Put(P({"Fleet", "big2", "Host", i}), "v", kAnyGeneration).status());
  }
  std::vector<std::string> all = ListAll(store(), P({"Fleet", "big"}), 1000);
  ASSERT_EQ(all.size(), static_cast<size_t>(kRecords));
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
  EXPECT_EQ(ListAll(store(), P({"Fleet", "big2"})).size(), 100u);
}

// ---- The record layer and tenant views over this backend ----------------

Kek TestKek(char c) { return *Kek::FromBytes(std::string(32, c)); }

TEST_P(StoreConformanceTest, CertStoreSealsAndOpensKeys) {
  TestIdentity ca = MakeTestCert({.common_name = "CA", .is_ca = true});
  TestIdentity leaf = MakeTestCert({.common_name = "a", .dns_sans = {"a"}}, &ca);
  ASSERT_OK_AND_ASSIGN(auto cs,
                       CertStore::CreateBorrowed(store(), {.keks = {TestKek('1')}}));
  KeyPath p = P({"Employee", "asalieri", "Address", 1});
  ASSERT_OK_AND_ASSIGN(uint64_t g, cs->Put(p, {{"cert", leaf.cert_pem},
                                               {"key_str", leaf.key_pem},
                                               {"ca", ca.cert_pem}}));
  EXPECT_EQ(g, 1u);
  ASSERT_OK_AND_ASSIGN(StoreEntry raw, store()->Get(p));
  EXPECT_EQ(raw.value.find("PRIVATE KEY"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(Record r, cs->Get(p));
  EXPECT_TRUE(r.fields["key_str"].sealed);
  EXPECT_EQ(r.metadata.subject, "CN=a");
  ASSERT_OK_AND_ASSIGN(SecretBytes key, cs->ReadField(r, "key_str"));
  EXPECT_EQ(key.view(), leaf.key_pem);

  ASSERT_OK_AND_ASSIGN(auto wrong,
                       CertStore::CreateBorrowed(store(), {.keks = {TestKek('2')}}));
  EXPECT_THAT(wrong->ReadField(r, "key_str"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("KEK")));
  ASSERT_OK_AND_ASSIGN(auto none, CertStore::CreateBorrowed(store(), {}));
  EXPECT_THAT(none->ReadField(r, "key_str"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(none->Put(P({"X", 1}), {{"key_str", leaf.key_pem}}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("KEK")));
}

TEST_P(StoreConformanceTest, CertStoreRefusedWriteChangesNothing) {
  TestIdentity a = MakeTestCert({.common_name = "a"});
  TestIdentity b = MakeTestCert({.common_name = "b"});
  ASSERT_OK_AND_ASSIGN(
      auto cs, CertStore::CreateBorrowed(
                   store(), {.keks = {TestKek('1')}, .max_record_bytes = 64 * 1024}));
  KeyPath p = P({"Svc", "a"});
  ASSERT_OK(cs->Put(p, {{"cert", a.cert_pem}, {"key_str", a.key_pem}}).status());
  ASSERT_OK_AND_ASSIGN(StoreEntry before, store()->Get(p));
  EXPECT_THAT(cs->Put(p, {{"cert", a.cert_pem}, {"key_str", b.key_pem}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not match")));
  EXPECT_THAT(cs->Put(p, {{"cert", "garbage"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cert:")));
  EXPECT_THAT(cs->Put(p, {{"cert", a.cert_pem}, {"blob", std::string(70000, 'x')}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit of 65536")));
  EXPECT_THAT(cs->Put(p, {{"cert", a.cert_pem}}, {.expected_generation = 9}),
              StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(StoreEntry after, store()->Get(p));
  EXPECT_EQ(after.value, before.value);
  EXPECT_EQ(after.generation, before.generation);
}

TEST_P(StoreConformanceTest, CertStoreReportsCorruptAndNewerRecords) {
  ASSERT_OK_AND_ASSIGN(auto cs, CertStore::CreateBorrowed(store(), {}));
  KeyPath p = P({"Svc", "corrupt"});
  ASSERT_OK(cs->Put(p, {{"note", "hello"}}).status());
  ASSERT_OK_AND_ASSIGN(StoreEntry e, store()->Get(p));
  std::string bad = e.value;
  bad[bad.size() / 2] ^= 0x5A;
  ASSERT_OK(backend()->RawWrite(p, bad));
  EXPECT_THAT(cs->Get(p),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("Svc/corrupt")));
  ASSERT_OK(backend()->RawWrite(p, "SSR"));
  EXPECT_THAT(cs->Get(p), StatusIs(absl::StatusCode::kDataLoss));
  // A well-formed envelope from a future version.
  Record r;
  r.fields["x"] = Field{"y", false};
  std::string future = EncodeRecord(r);
  future[3] = 2;
  uint8_t digest[32];
  SHA256(reinterpret_cast<const uint8_t*>(future.data()), future.size() - 8, digest);
  future.replace(future.size() - 8, 8, reinterpret_cast<char*>(digest), 8);
  ASSERT_OK(backend()->RawWrite(p, future));
  EXPECT_THAT(cs->Get(p),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("version 2")));
}

TEST_P(StoreConformanceTest, CertStoreResealIsResumable) {
  ASSERT_OK_AND_ASSIGN(auto old_cs,
                       CertStore::CreateBorrowed(store(), {.keks = {TestKek('o')}}));
  auto host = [](int i) { return P({"Fleet", "f", "Group", i % 2, "Host", i}); };
  std::vector<TestIdentity> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(MakeTestCert({.common_name = absl::StrCat("h", i)}));
    ASSERT_OK(
        old_cs->Put(host(i), {{"cert", ids[i].cert_pem}, {"key_str", ids[i].key_pem}})
            .status());
  }
  ASSERT_OK(old_cs->Put(P({"Fleet", "f", "Note", 1}), {{"n", "x"}}).status());
  Kek new_kek = TestKek('n');
  // An interrupted run: only group 0 got done.
  ASSERT_OK_AND_ASSIGN(ResealReport partial,
                       old_cs->Reseal(P({"Fleet", "f", "Group", 0}), new_kek));
  EXPECT_EQ(partial.resealed, 3u);
  ASSERT_OK_AND_ASSIGN(ResealReport resumed, old_cs->Reseal(P({"Fleet", "f"}), new_kek));
  EXPECT_EQ(resumed.resealed, 3u);
  EXPECT_EQ(resumed.already_current, 3u);
  EXPECT_EQ(resumed.without_keys, 1u);
  EXPECT_TRUE(resumed.failures.empty());
  ASSERT_OK_AND_ASSIGN(auto fresh,
                       CertStore::CreateBorrowed(store(), {.keks = {new_kek}}));
  for (int i = 0; i < 6; ++i) {
    ASSERT_OK_AND_ASSIGN(Record r, fresh->Get(host(i)));
    ASSERT_OK_AND_ASSIGN(SecretBytes k, fresh->ReadField(r, "key_str"));
    EXPECT_EQ(k.view(), ids[i].key_pem);
  }
  // The old KEK alone can no longer open them.
  ASSERT_OK_AND_ASSIGN(Record r0, old_cs->Get(host(0)));
  EXPECT_THAT(old_cs->ReadField(r0, "key_str"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(new_kek.id())));
}

TEST_P(StoreConformanceTest, TenantViewStaysInsideItsPrefix) {
  ASSERT_OK(
      store()->Put(P({"Tenant", "tenantAB", "Cert", 1}), "b", kAnyGeneration).status());
  ASSERT_OK(
      store()->Put(P({"Tenant", "tenantA/x", "Cert", 1}), "c", kAnyGeneration).status());
  ASSERT_OK(store()->Put(P({"Other", "z"}), "z", kAnyGeneration).status());
  ASSERT_OK_AND_ASSIGN(auto view, TenantView::Create(store(), P({"Tenant", "tenantA"})));
  KeyPath mine = P({"Tenant", "tenantA", "Cert", 1});
  ASSERT_OK(view->Put(mine, "a", kAnyGeneration).status());
  EXPECT_THAT(view->Get(mine), IsOk());
  const KeyPath outside[] = {P({"Tenant", "tenantAB", "Cert", 1}),
                             P({"Tenant", "tenantA/x", "Cert", 1}),
                             P({"Other", "z"}),
                             P({"Tenant", "tenantB"}),
                             P({"Tenant", ".."}),
                             *KeyPath::Parse("Tenant/tenantA%2Fx/Cert/1"),
                             KeyPath::Root()};
  for (const KeyPath& p : outside) {
    EXPECT_THAT(view->Get(p), StatusIs(absl::StatusCode::kPermissionDenied)) << p;
    EXPECT_THAT(view->Put(p, "evil", kAnyGeneration),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << p;
    EXPECT_THAT(view->Delete(p, kAnyGeneration),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << p;
    EXPECT_THAT(view->List(p, 10, ""), StatusIs(absl::StatusCode::kPermissionDenied))
        << p;
    EXPECT_THAT(view->Watch(p), StatusIs(absl::StatusCode::kPermissionDenied)) << p;
  }
  // A ".." id is a literal id inside the tenant, never a way up.
  KeyPath dots = P({"Tenant", "tenantA", "..", ".."});
  ASSERT_OK(view->Put(dots, "d", kAnyGeneration).status());
  EXPECT_THAT(KeyPath::Parse("Tenant/tenantA/../../Other/z"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ListAll(view.get(), P({"Tenant", "tenantA"})),
              ElementsAre("Tenant/tenantA/%2E%2E/%2E%2E", "Tenant/tenantA/Cert/1"));
  EXPECT_THAT(view->List(P({"Tenant", "tenantA"}), 10, "Tenant/tenantAB/Cert/1"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(StoreEntry other, store()->Get(P({"Other", "z"})));
  EXPECT_EQ(other.value, "z");
}

}  // namespace sslshim::certstore::testing
