// interop_util.h (testonly)
// -----------------------------------------------------------------------------
// What the interop tests share: the generated PKIs written to $TEST_TMPDIR for
// the peers (our side reads them from memory through StringIO), the Python
// peer scripts, loopback connect with retries, and table names.
//
// Peers get files; the facade never does: every credential our side uses goes
// through StringIO readers.

#ifndef SSLSHIM_TESTS_INTEROP_INTEROP_UTIL_H_
#define SSLSHIM_TESTS_INTEROP_INTEROP_UTIL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "shim/ssl.h"
#include "testing/cert_builder.h"

namespace sslshim::interop {

inline constexpr char kOpenssl[] = "/usr/bin/openssl";
inline constexpr char kBsslTool[] = "/usr/bin/bssl-tool";
inline constexpr char kPython[] = "/usr/bin/python3";

// Identity is one certificate chain and key, in memory (for our side) and
// written as PEM files (for peers).
struct Identity {
  std::string chain_pem;  // Leaf then intermediate.
  std::string key_pem;
  std::string leaf_path;   // Leaf only.
  std::string chain_path;  // Leaf then intermediate.
  std::string key_path;
  std::string intermediate_path;
};

// InteropPki: a trusted PKI, an unrelated (untrusted) one, and expired leaves
// under the trusted intermediate, all of one key type, written to files.
struct InteropPki {
  std::string root_pem;
  std::string root_path;
  std::string other_root_path;  // Trust anchor of the untrusted PKI.
  std::string other_root_pem;
  Identity server;          // "localhost", 127.0.0.1 (trusted).
  Identity client;          // "client.test" (trusted).
  Identity untrusted_server;  // "localhost", issued by the other PKI.
  Identity untrusted_client;  // "client.test", issued by the other PKI.
  Identity expired_server;  // "localhost", expired yesterday.
  Identity expired_client;  // "client.test", expired yesterday.
};

// GetPki returns the process-wide InteropPki for `key`, written on first use
// under $TEST_TMPDIR/pki-<key>/. Thread-safe.
const InteropPki& GetPki(sslshim::testing::KeyType key);

// VersionName: "TLSv1.2" / "TLSv1.3" (what version() and peers print).
std::string VersionName(shim::TLSVersion version);

// VersionTag: "TLS12" / "TLS13" (for test names).
std::string VersionTag(shim::TLSVersion version);

// Presented says which certificate a side shows in a failing case.
enum class Presented { kNone, kGood, kUntrusted, kExpired };

// Pick returns the server's (`server`) or client's identity for `p`, or
// nullptr for kNone.
const Identity* Pick(const InteropPki& pki, Presented p, bool server);

// ReadLine reads from `s` until `line` ends with a newline. Errors: the
// socket's, or DataLoss at EOF before the newline.
absl::Status ReadLine(shim::SSLSocket& s, std::string* line);

// TestTmpDir is $TEST_TMPDIR (or /tmp).
std::string TestTmpDir();

// WriteTestFile writes `content` to TestTmpDir()/`name` and returns the path.
// Aborts on failure (tests only).
std::string WriteTestFile(const std::string& name, absl::string_view content);

// ConnectWithRetry connects to 127.0.0.1:port, retrying until `timeout` while
// the peer is not yet listening. Returns the fd or -1.
int ConnectWithRetry(int port, absl::Duration timeout = absl::Seconds(5));

// ParsePort finds "<marker><digits>" in `text` and returns the number, or -1.
int ParsePort(absl::string_view text, absl::string_view marker);

// Python peers. Each takes one JSON argument and prints "KEY value" lines:
//   server: PORT, then VERSION, PEER <subject json>, GOT <line>; or ERROR.
//   client: VERSION, PEER <subject json>, GOT <line>; or ERROR.
// ERROR lines are "ERROR <exception class> <verify_code or -> <message>" and
// the script exits 1.
// PythonArgv returns the argv running `script` with `json_args`.
std::vector<std::string> PythonServerArgv(const std::string& json_args);
std::vector<std::string> PythonClientArgv(const std::string& json_args);

// JsonString quotes `s` as a JSON string (paths and names only).
std::string JsonString(absl::string_view s);

using ::sslshim::shim::SubjectCommonName;

}  // namespace sslshim::interop

#endif  // SSLSHIM_TESTS_INTEROP_INTEROP_UTIL_H_
