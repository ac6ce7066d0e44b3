// Demonstrates a facade bug found by the interop suite (tagged manual until
// shim/ssl_socket.cc is fixed): when the peer has reset the connection,
// errors name the peer as "peer unknown peer", because PeerName() calls
// getpeername(2) at error time, which fails with ENOTCONN after a reset.
// Seen with real peers, e.g. a Python client rejecting our certificate:
//   "TLS handshake (server side, peer unknown peer): [SSL: ...]"
// Fix: record the peer address when the socket is wrapped and use it.

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shim/ssl.h"
#include "testing/socket_pair.h"
#include "testing/status_matchers.h"
#include "tests/interop/interop_util.h"

namespace sslshim::interop {
namespace {

namespace ssl = ::sslshim::ssl;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(PeerNameBugTest, ErrorAfterPeerResetStillNamesThePeer) {
  const InteropPki& pki = GetPki(sslshim::testing::KeyType::kP256);
  ASSERT_OK_AND_ASSIGN(auto ctx, ssl::SSLContext::Create(ssl::PROTOCOL_TLS_SERVER));
  ASSERT_OK(ctx->load_cert_chain(ssl::StringIO(pki.server.chain_pem),
                                 ssl::StringIO(pki.server.key_pem)));
  ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair, sslshim::testing::MakeTcpPair());
  // The client sends a few bytes and resets the connection (SO_LINGER 0).
  ASSERT_EQ(write(pair.client, "\x16\x03\x01\x00\x05hello", 10), 10);
  linger l{1, 0};
  setsockopt(pair.client, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close(pair.client);
  usleep(50 * 1000);
  ASSERT_OK_AND_ASSIGN(auto s, ctx->wrap_socket(pair.server, {.server_side = true,
                                                              .do_handshake_on_connect = false}));
  ASSERT_OK(s->settimeout(absl::Seconds(5)));
  absl::Status st = s->do_handshake();
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), Not(HasSubstr("unknown peer")));
  EXPECT_THAT(std::string(st.message()), HasSubstr("127.0.0.1:"));
}

}  // namespace
}  // namespace sslshim::interop
