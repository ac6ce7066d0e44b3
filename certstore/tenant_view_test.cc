#include "certstore/tenant_view.h"

#include "certstore/memory_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

KeyPath P(std::initializer_list<KeyPath::Arg> args) { return *KeyPath::Of(args); }

TEST(TenantViewTest, CreateRefusesRootAndNull) {
  auto store = MemoryStore::Create();
  EXPECT_THAT(TenantView::Create(store.get(), KeyPath::Root()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TenantView::Create(nullptr, P({"Tenant", "a"})),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TenantViewTest, ErrorsNameTheTenantAndThePath) {
  auto store = MemoryStore::Create();
  ASSERT_OK_AND_ASSIGN(auto view, TenantView::Create(store.get(), P({"Tenant", "a"})));
  EXPECT_THAT(view->Get(P({"Tenant", "b", "C", 1})),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("tenant Tenant/a may not read Tenant/b/C/1")));
  EXPECT_THAT(view->Describe(), HasSubstr("(tenant Tenant/a)"));
}

TEST(TenantViewTest, WatchOnlySeesTheTenant) {
  auto store = MemoryStore::Create();
  ASSERT_OK_AND_ASSIGN(auto view, TenantView::Create(store.get(), P({"Tenant", "a"})));
  ASSERT_OK_AND_ASSIGN(auto w, view->Watch(P({"Tenant", "a"})));
  ASSERT_OK(store->Put(P({"Tenant", "ab", "C", 1}), "x", kAnyGeneration).status());
  ASSERT_OK(store->Put(P({"Tenant", "a", "C", 1}), "x", kAnyGeneration).status());
  ASSERT_OK_AND_ASSIGN(absl::optional<WatchEvent> e, w->Next(absl::Seconds(1)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->path, P({"Tenant", "a", "C", 1}));
}

}  // namespace
}  // namespace sslshim::certstore
