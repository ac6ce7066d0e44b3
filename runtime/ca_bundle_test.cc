#include "runtime/ca_bundle.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "openssl/ssl.h"
#include "shim/ssl_context.h"
#include "testing/cert_builder.h"
#include "testing/fd_count.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::testing::CertSpec;
using ::sslshim::testing::IsOk;
using ::sslshim::testing::Issue;
using ::sslshim::testing::Issued;
using ::sslshim::testing::KeyType;
using ::sslshim::testing::OpenFdCount;
using ::sslshim::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string TmpPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/",
                      ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                      "_", name);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// Writes `content` to a temporary name and renames it over `path` (a new
// inode, as package managers update bundles).
void ReplaceFile(const std::string& path, const std::string& content) {
  WriteFile(path + ".new", content);
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
}

std::string Roots(int n, const char* prefix) {
  std::string pem;
  for (int i = 0; i < n; ++i) {
    CertSpec spec{.common_name = absl::StrCat(prefix, " root ", i), .is_ca = true};
    pem += Issue(spec, KeyType::kP256, nullptr).CertPem();
  }
  return pem;
}

size_t StoreSize(X509_STORE* store) {
  return sk_X509_OBJECT_num(X509_STORE_get0_objects(store));
}

TEST(CaBundleTest, ReadsAndParsesOnceThenShares) {
  const std::string path = TmpPath("ca.pem");
  WriteFile(path, Roots(3, "a"));
  auto bundle = CaBundle::Create({.path = path});
  ASSERT_THAT(bundle, IsOk());
  EXPECT_EQ((*bundle)->loads(), 0u) << "read lazily";
  absl::StatusOr<std::shared_ptr<const CaBundle::Snapshot>> a = (*bundle)->Get();
  absl::StatusOr<std::shared_ptr<const CaBundle::Snapshot>> b = (*bundle)->Get();
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ((*a)->cas->certs.size(), 3u);
  EXPECT_EQ(StoreSize((*a)->store.get()), 3u);
  EXPECT_EQ((*a)->generation, 1u);
  EXPECT_EQ((*bundle)->loads(), 1u);
}

TEST(CaBundleTest, InstallSharedSharesOneStoreAndCopyIntoDoesNot) {
  const std::string path = TmpPath("ca.pem");
  WriteFile(path, Roots(4, "s"));
  auto bundle = *CaBundle::Create({.path = path});
  auto c1 = *shim::SSLContext::Create(shim::PROTOCOL_TLS_CLIENT);
  auto c2 = *shim::SSLContext::Create(shim::PROTOCOL_TLS_CLIENT);
  auto c3 = *shim::SSLContext::Create(shim::PROTOCOL_TLS_CLIENT);
  ASSERT_THAT(bundle->InstallShared(*c1), IsOk());
  ASSERT_THAT(bundle->InstallShared(*c2), IsOk());
  ASSERT_THAT(bundle->CopyInto(*c3), IsOk());
  ASSERT_THAT(bundle->CopyInto(*c3), IsOk()) << "duplicates are ignored";
  X509_STORE* shared = (*bundle->Get())->store.get();
  EXPECT_EQ(SSL_CTX_get_cert_store(c1->native()), shared);
  EXPECT_EQ(SSL_CTX_get_cert_store(c2->native()), shared);
  EXPECT_NE(SSL_CTX_get_cert_store(c3->native()), shared);
  EXPECT_EQ(StoreSize(SSL_CTX_get_cert_store(c3->native())), 4u);
  EXPECT_EQ(c1->get_ca_certs().size(), 4u);
  EXPECT_EQ(bundle->loads(), 1u);
  // The contexts keep the store alive after the bundle is gone.
  bundle.reset();
  EXPECT_EQ(c2->get_ca_certs().size(), 4u);
}

TEST(CaBundleTest, MissingEmptyAndGarbageBundlesNameThePathAndTheFix) {
  const int fds = OpenFdCount();
  const std::string missing = TmpPath("missing.pem");
  const std::string empty = TmpPath("empty.pem");
  const std::string garbage = TmpPath("garbage.pem");
  WriteFile(empty, "");
  WriteFile(garbage, "this is not a certificate\n");
  const std::string fifo = TmpPath("fifo.pem");
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  struct Case {
    std::string path;
    const char* what;
  } cases[] = {{missing, "No such file or directory"},
               {empty, "the file is empty"},
               {garbage, "no usable CA certificate"},
               {"/", "not a regular file"},
               {fifo, "is a FIFO"}};  // Regression: blocked in open(2).
  for (const Case& c : cases) {
    auto bundle = *CaBundle::Create({.path = c.path});
    EXPECT_THAT(
        bundle->Get(),
        StatusIs(absl::StatusCode::kFailedPrecondition,
                 AllOf(HasSubstr("default CA bundle " + c.path), HasSubstr(c.what),
                       HasSubstr("SSL_CERT_FILE"), HasSubstr("ca_bundle"))));
    auto ctx = *shim::SSLContext::Create(shim::PROTOCOL_TLS_CLIENT);
    EXPECT_THAT(bundle->InstallShared(*ctx),
                StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  EXPECT_THAT(CaBundle::Create({.path = ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SSL_CERT_FILE")));
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(CaBundleTest, MissingBundleIsRetriedAndFoundOnceWritten) {
  const std::string path = TmpPath("later.pem");
  auto bundle = *CaBundle::Create({.path = path});
  EXPECT_FALSE(bundle->Get().ok());
  WriteFile(path, Roots(1, "later"));
  ASSERT_THAT(bundle->Get(), IsOk());
}

TEST(CaBundleTest, ReReadsWhenTheFileIsRewrittenInPlaceOrReplaced) {
  const std::string path = TmpPath("ca.pem");
  WriteFile(path, Roots(1, "v1"));
  auto bundle =
      *CaBundle::Create({.path = path, .recheck_interval = absl::ZeroDuration()});
  auto v1 = *bundle->Get();
  ASSERT_EQ(v1->cas->certs.size(), 1u);
  WriteFile(path, Roots(2, "v2"));  // Same inode, new size.
  auto v2 = *bundle->Get();
  EXPECT_EQ(v2->cas->certs.size(), 2u);
  EXPECT_EQ(v2->generation, 2u);
  ReplaceFile(path, Roots(3, "v3"));  // New inode.
  auto v3 = *bundle->Get();
  EXPECT_EQ(v3->cas->certs.size(), 3u);
  EXPECT_EQ(v3->generation, 3u);
  EXPECT_EQ(bundle->Get()->get(), v3.get()) << "unchanged: not re-read";
  EXPECT_EQ(bundle->loads(), 3u);
  // The old snapshot stays valid for whoever holds it.
  EXPECT_EQ(v1->cas->certs.size(), 1u);
}

TEST(CaBundleTest, ChecksTheFileAtMostOncePerInterval) {
  const std::string path = TmpPath("ca.pem");
  WriteFile(path, Roots(1, "old"));
  absl::Time now = absl::FromUnixSeconds(1000);
  auto bundle = *CaBundle::Create({.path = path,
                                   .recheck_interval = absl::Milliseconds(500),
                                   .now = [&now] { return now; }});
  ASSERT_EQ((*bundle->Get())->cas->certs.size(), 1u);
  ReplaceFile(path, Roots(2, "new"));
  now += absl::Milliseconds(499);
  EXPECT_EQ((*bundle->Get())->cas->certs.size(), 1u) << "within the interval";
  now += absl::Milliseconds(1);
  EXPECT_EQ((*bundle->Get())->cas->certs.size(), 2u);
  EXPECT_EQ(bundle->loads(), 2u);
}

TEST(CaBundleTest, FailedReReadKeepsTheLastGoodBundle) {
  const int fds = OpenFdCount();
  const std::string path = TmpPath("ca.pem");
  WriteFile(path, Roots(2, "good"));
  auto bundle =
      *CaBundle::Create({.path = path, .recheck_interval = absl::ZeroDuration()});
  auto good = *bundle->Get();
  WriteFile(path, "garbage");
  auto after = bundle->Get();
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->get(), good.get());
  EXPECT_THAT(bundle->last_error(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("no usable CA certificate"),
                             HasSubstr("keeping the bundle read before"))));
  ASSERT_EQ(std::remove(path.c_str()), 0);
  EXPECT_EQ(bundle->Get()->get(), good.get());
  EXPECT_THAT(bundle->last_error(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("No such file")));
  WriteFile(path, Roots(1, "fixed"));
  EXPECT_EQ((*bundle->Get())->cas->certs.size(), 1u);
  EXPECT_THAT(bundle->last_error(), IsOk());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(CaBundleTest, ConcurrentGetsWhileTheFileChanges) {
  const std::string path = TmpPath("ca.pem");
  const std::string a = Roots(1, "a"), b = Roots(2, "b");
  WriteFile(path, a);
  auto bundle =
      *CaBundle::Create({.path = path, .recheck_interval = absl::ZeroDuration()});
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto snap = bundle->Get();
        auto ctx = shim::SSLContext::Create(shim::PROTOCOL_TLS_CLIENT);
        if (!snap.ok() || !ctx.ok() || !bundle->InstallShared(**ctx).ok() ||
            (*snap)->cas->certs.empty()) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (int i = 0; i < 20; ++i) ReplaceFile(path, i % 2 ? a : b);
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(bundle->loads(), 2u);
}

}  // namespace
}  // namespace sslshim::runtime
