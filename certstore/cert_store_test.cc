#include "certstore/cert_store.h"

#include <time.h>

#include "certstore/memory_store.h"
#include "certstore/testing/test_certs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore {
namespace {

using ::sslshim::certstore::testing::KeyToDer;
using ::sslshim::certstore::testing::MakeTestCert;
using ::sslshim::certstore::testing::TestIdentity;
using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

Kek TestKek(char c) { return *Kek::FromBytes(std::string(32, c)); }
KeyPath P(std::initializer_list<KeyPath::Arg> args) { return *KeyPath::Of(args); }

class CertStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<MemoryStore> store_ = MemoryStore::Create();
  TestIdentity leaf_ = MakeTestCert({.common_name = "a.example"});
};

TEST_F(CertStoreTest, CreateChecksArguments) {
  EXPECT_THAT(CertStore::Create(nullptr, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CertStore::CreateBorrowed(store_.get(), {.max_record_bytes = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CertStore::Create(MemoryStore::Create(), {}), IsOk());
}

TEST_F(CertStoreTest, ExpiryUsesTheInjectedClock) {
  const int64_t later = time(nullptr) + 86400 * 60;  // Past notAfter.
  ASSERT_OK_AND_ASSIGN(
      auto cs, CertStore::CreateBorrowed(
                   store_.get(), {.keks = {TestKek('1')}, .now = [=] { return later; }}));
  std::map<std::string, std::string> f = {{"cert", leaf_.cert_pem},
                                          {"key_str", leaf_.key_pem}};
  EXPECT_THAT(cs->Put(P({"S", 1}), f),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expired")));
  EXPECT_THAT(store_->Get(P({"S", 1})), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(cs->Put(P({"S", 1}), f, {.allow_expired = true}), IsOk());
  ASSERT_OK_AND_ASSIGN(Record r, cs->Get(P({"S", 1})));
  EXPECT_EQ(r.metadata.written_at, later);
}

TEST_F(CertStoreTest, SealedValueCopiedToAnotherRecordDoesNotOpen) {
  ASSERT_OK_AND_ASSIGN(auto cs,
                       CertStore::CreateBorrowed(store_.get(), {.keks = {TestKek('1')}}));
  ASSERT_OK(
      cs->Put(P({"S", "victim"}), {{"cert", leaf_.cert_pem}, {"key_str", leaf_.key_pem}})
          .status());
  ASSERT_OK_AND_ASSIGN(StoreEntry raw, store_->Get(P({"S", "victim"})));
  ASSERT_OK(store_->Put(P({"S", "thief"}), raw.value, kMustNotExist).status());
  ASSERT_OK_AND_ASSIGN(Record stolen, cs->Get(P({"S", "thief"})));
  EXPECT_THAT(cs->ReadField(stolen, "key_str"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("copied")));
  EXPECT_THAT(cs->ReadField(stolen, "nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CertStoreTest, OpensWithAnyConfiguredKekById) {
  ASSERT_OK_AND_ASSIGN(auto old_cs,
                       CertStore::CreateBorrowed(store_.get(), {.keks = {TestKek('o')}}));
  ASSERT_OK(old_cs->Put(P({"S", 1}), {{"key_str", leaf_.key_pem}}).status());
  // During a KEK rotation the runtime configures {new, old}.
  ASSERT_OK_AND_ASSIGN(
      auto both,
      CertStore::CreateBorrowed(store_.get(), {.keks = {TestKek('n'), TestKek('o')}}));
  ASSERT_OK_AND_ASSIGN(Record r, both->Get(P({"S", 1})));
  ASSERT_OK_AND_ASSIGN(SecretBytes key, both->ReadField(r, "key_str"));
  EXPECT_EQ(key.view(), leaf_.key_pem);
  // New writes are sealed under the first KEK.
  ASSERT_OK(both->Put(P({"S", 2}), {{"key_str", leaf_.key_pem}}).status());
  ASSERT_OK_AND_ASSIGN(Record r2, both->Get(P({"S", 2})));
  ASSERT_OK_AND_ASSIGN(std::string id, SealedKekId(r2.fields["key_str"].value));
  EXPECT_EQ(id, TestKek('n').id());
}

// Issue 8 item 8: a DER private key in a custom field is sealed like a PEM
// one (it used to be stored in the clear), and refused without a KEK.
TEST_F(CertStoreTest, DerKeyInACustomFieldIsSealed) {
  const std::string der = KeyToDer(leaf_.key.get());
  ASSERT_OK_AND_ASSIGN(auto cs,
                       CertStore::CreateBorrowed(store_.get(), {.keks = {TestKek('1')}}));
  ASSERT_OK(cs->Put(P({"S", "der"}), {{"note", "hi"}, {"backup", der}}).status());
  ASSERT_OK_AND_ASSIGN(Record r, cs->Get(P({"S", "der"})));
  EXPECT_TRUE(r.fields["backup"].sealed);
  EXPECT_FALSE(r.fields["note"].sealed);
  ASSERT_OK_AND_ASSIGN(StoreEntry raw, store_->Get(P({"S", "der"})));
  EXPECT_EQ(raw.value.find(der.substr(der.size() - 32)), std::string::npos)
      << "key bytes stored in the clear";
  ASSERT_OK_AND_ASSIGN(SecretBytes opened, cs->ReadField(r, "backup"));
  EXPECT_EQ(opened.view(), der);
  EXPECT_EQ(r.metadata.key_type, "EC-P256");
  ASSERT_OK_AND_ASSIGN(auto no_kek, CertStore::CreateBorrowed(store_.get(), {}));
  EXPECT_THAT(no_kek->Put(P({"S", "der2"}), {{"backup", der}}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("backup")));
}

}  // namespace
}  // namespace sslshim::certstore
