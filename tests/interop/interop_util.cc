#include "tests/interop/interop_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "testing/socket_pair.h"

namespace sslshim::interop {
namespace {

using ::sslshim::testing::Issue;
using ::sslshim::testing::Issued;
using ::sslshim::testing::KeyType;
using ::sslshim::testing::TestPki;

// Shared by both Python peers: print helpers and the error line.
constexpr char kPythonPrelude[] = R"py(
import json, socket, ssl, sys
a = json.loads(sys.argv[1])
def say(*words):
    print(*words, flush=True)
def fail(e):
    say('ERROR', type(e).__name__, getattr(e, 'verify_code', '-'), e)
    sys.exit(1)
def make_context(ctx):
    if a.get('max'):
        ctx.maximum_version = getattr(ssl.TLSVersion, a['max'])
        ctx.minimum_version = getattr(ssl.TLSVersion, a['max'])
    if a.get('cert'):
        ctx.load_cert_chain(a['cert'], a['key'])
    return ctx
def report(s):
    cert = s.getpeercert()
    say('VERSION', s.version())
    say('PEER', json.dumps(cert['subject'] if cert else None))
def read_line(s):
    data = b''
    while not data.endswith(b'\n'):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data
)py";

// The server accepts one connection, requires a client certificate when
// given a cafile, echoes one line back prefixed with "echo:".
constexpr char kPythonServer[] = R"py(
ctx = make_context(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
if a.get('cafile'):
    ctx.load_verify_locations(a['cafile'])
    ctx.verify_mode = ssl.CERT_REQUIRED
ls = socket.socket()
ls.bind(('127.0.0.1', 0))
ls.listen(1)
ls.settimeout(10)
say('PORT', ls.getsockname()[1])
try:
    conn, _ = ls.accept()
    conn.settimeout(10)
    with ctx.wrap_socket(conn, server_side=True) as s:
        report(s)
        line = read_line(s)
        s.sendall(b'echo:' + line)
        say('GOT', line.decode().strip())
except Exception as e:
    fail(e)
)py";

// The client verifies against cafile with create_default_context (hostname
// checked), sends one line and prints the echo.
constexpr char kPythonClient[] = R"py(
ctx = make_context(ssl.create_default_context(cafile=a['cafile']))
try:
    with socket.create_connection(('127.0.0.1', a['port']), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=a['hostname']) as s:
            report(s)
            s.sendall(b'hello-from-python\n')
            say('GOT', read_line(s).decode().strip())
except Exception as e:
    fail(e)
)py";

Identity WriteIdentity(const std::string& dir, const std::string& name,
                       const Issued& leaf, const Issued& intermediate) {
  Identity id;
  id.chain_pem = leaf.CertPem() + intermediate.CertPem();
  id.key_pem = leaf.KeyPem();
  id.leaf_path = WriteTestFile(dir + "/" + name + ".pem", leaf.CertPem());
  id.chain_path = WriteTestFile(dir + "/" + name + "_chain.pem", id.chain_pem);
  id.key_path = WriteTestFile(dir + "/" + name + ".key", id.key_pem);
  id.intermediate_path =
      WriteTestFile(dir + "/" + name + "_intermediate.pem", intermediate.CertPem());
  return id;
}

Issued IssueExpired(const std::string& cn, KeyType key, const Issued& issuer) {
  return Issue({.common_name = cn,
                .dns_names = {cn},
                .ip_addresses = {"127.0.0.1"},
                .not_before_offset = -10 * 86400,
                .not_after_offset = -86400},
               key, &issuer);
}

InteropPki MakePki(KeyType key) {
  const std::string dir = "pki-" + sslshim::testing::KeyTypeName(key);
  mkdir((TestTmpDir() + "/" + dir).c_str(), 0700);
  const TestPki& pki = sslshim::testing::SharedTestPki(key);
  TestPki other = TestPki::Make(key);
  InteropPki out;
  out.root_pem = pki.RootPem();
  out.root_path = WriteTestFile(dir + "/root.pem", out.root_pem);
  out.other_root_pem = other.RootPem();
  out.other_root_path = WriteTestFile(dir + "/other_root.pem", out.other_root_pem);
  out.server = WriteIdentity(dir, "server", pki.server, pki.intermediate);
  out.client = WriteIdentity(dir, "client", pki.client, pki.intermediate);
  out.untrusted_server =
      WriteIdentity(dir, "untrusted_server", other.server, other.intermediate);
  out.untrusted_client =
      WriteIdentity(dir, "untrusted_client", other.client, other.intermediate);
  out.expired_server = WriteIdentity(
      dir, "expired_server", IssueExpired("localhost", key, pki.intermediate),
      pki.intermediate);
  out.expired_client = WriteIdentity(
      dir, "expired_client", IssueExpired("client.test", key, pki.intermediate),
      pki.intermediate);
  return out;
}

}  // namespace

const InteropPki& GetPki(KeyType key) {
  static std::mutex* const mu = new std::mutex;
  static auto* const pkis = new std::map<KeyType, InteropPki>();
  std::lock_guard<std::mutex> lock(*mu);
  auto it = pkis->find(key);
  if (it == pkis->end()) it = pkis->emplace(key, MakePki(key)).first;
  return it->second;
}

std::string VersionName(shim::TLSVersion version) {
  return version == shim::TLSVersion::TLSv1_3 ? "TLSv1.3" : "TLSv1.2";
}

std::string VersionTag(shim::TLSVersion version) {
  return version == shim::TLSVersion::TLSv1_3 ? "TLS13" : "TLS12";
}

const Identity* Pick(const InteropPki& pki, Presented p, bool server) {
  switch (p) {
    case Presented::kNone:
      return nullptr;
    case Presented::kGood:
      return server ? &pki.server : &pki.client;
    case Presented::kUntrusted:
      return server ? &pki.untrusted_server : &pki.untrusted_client;
    case Presented::kExpired:
      return server ? &pki.expired_server : &pki.expired_client;
  }
  return nullptr;
}

absl::Status ReadLine(shim::SSLSocket& s, std::string* line) {
  while (line->find('\n') == std::string::npos) {
    absl::StatusOr<std::string> r = s.recv(4096);
    if (!r.ok()) return r.status();
    if (r->empty()) return absl::DataLossError("EOF before a newline");
    *line += *r;
  }
  return absl::OkStatus();
}

std::string TestTmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

std::string WriteTestFile(const std::string& name, absl::string_view content) {
  std::string path = TestTmpDir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr ||
      std::fwrite(content.data(), 1, content.size(), f) != content.size() ||
      std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

int ConnectWithRetry(int port, absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  for (;;) {
    int fd = sslshim::testing::ConnectTcp(port);
    if (fd >= 0 || absl::Now() >= until) return fd;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

int ParsePort(absl::string_view text, absl::string_view marker) {
  size_t at = text.find(marker);
  if (at == absl::string_view::npos) return -1;
  int port = 0;
  bool any = false;
  for (size_t i = at + marker.size();
       i < text.size() && absl::ascii_isdigit(text[i]); ++i) {
    port = port * 10 + (text[i] - '0');
    any = true;
  }
  return any ? port : -1;
}

std::vector<std::string> PythonServerArgv(const std::string& json_args) {
  return {kPython, "-c", absl::StrCat(kPythonPrelude, kPythonServer), json_args};
}

std::vector<std::string> PythonClientArgv(const std::string& json_args) {
  return {kPython, "-c", absl::StrCat(kPythonPrelude, kPythonClient), json_args};
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}


}  // namespace sslshim::interop
