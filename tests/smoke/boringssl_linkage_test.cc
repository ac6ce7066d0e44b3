// Proves every binary of this project is built against and loads BoringSSL
// (Debian's android-libboringssl), never system OpenSSL 3.
#include <dlfcn.h>
#include <link.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "openssl/crypto.h"
#include "openssl/ssl.h"

#ifndef OPENSSL_IS_BORINGSSL
#error "sslshim must compile against BoringSSL headers, not OpenSSL's"
#endif

namespace {

int CollectLibs(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  absl::StrAppend(out, info->dlpi_name, "\n");
  return 0;
}

TEST(BoringSslLinkage, HeadersAreBoringSsl) {
#if defined(OPENSSL_IS_BORINGSSL)
  constexpr bool kIsBoringSsl = true;
#else
  constexpr bool kIsBoringSsl = false;
#endif
  EXPECT_TRUE(kIsBoringSsl);
  // The loaded library's version string names BoringSSL too.
  EXPECT_TRUE(absl::StrContains(OpenSSL_version(OPENSSL_VERSION), "BoringSSL"))
      << OpenSSL_version(OPENSSL_VERSION);
}

TEST(BoringSslLinkage, LoadsAndroidLibssl) {
  std::string libs;
  dl_iterate_phdr(CollectLibs, &libs);
  EXPECT_TRUE(absl::StrContains(libs, "/android/libssl.so")) << libs;
  EXPECT_TRUE(absl::StrContains(libs, "/android/libcrypto.so")) << libs;
  EXPECT_FALSE(absl::StrContains(libs, "libssl.so.3")) << libs;
  EXPECT_FALSE(absl::StrContains(libs, "libcrypto.so.3")) << libs;
}

TEST(BoringSslLinkage, CanCreateTlsContext) {
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  ASSERT_NE(ctx, nullptr);
  EXPECT_TRUE(SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION));
}

}  // namespace
