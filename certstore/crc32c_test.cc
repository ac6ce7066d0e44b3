#include "certstore/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace sslshim::certstore {
namespace {

TEST(Crc32cTest, KnownAnswers) {
  // RFC 3720 (iSCSI) B.4 test vectors and the usual check value.
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32cTest, ExtendEqualsWholeAndEveryFlipIsSeen) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7));
  for (size_t cut : {0u, 1u, 7u, 8u, 9u, 500u, 1000u}) {
    EXPECT_EQ(Crc32cExtend(Crc32c(data.substr(0, cut)), data.substr(cut)), Crc32c(data))
        << cut;
  }
  const uint32_t good = Crc32c(data);
  for (size_t i = 0; i < data.size(); i += 37) {
    std::string bad = data;
    bad[i] ^= 0x01;
    EXPECT_NE(Crc32c(bad), good) << i;
  }
}

}  // namespace
}  // namespace sslshim::certstore
