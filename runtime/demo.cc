#include "runtime/demo.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "certstore/cert_store.h"
#include "certstore/sealing.h"
#include "certstore/store_url.h"
#include "openssl/mem.h"
#include "openssl/rand.h"
#include "runtime/app_process.h"
#include "runtime/demo_app.h"
#include "testing/cert_builder.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::certstore::CertStore;
using ::sslshim::certstore::Kek;
using ::sslshim::testing::Issue;
using ::sslshim::testing::Issued;
using ::sslshim::testing::KeyType;
using namespace ::sslshim::runtime::demo_internal;  // NOLINT: the demo's own parts.

// Steps numbers and prints the steps of both processes.
class Steps {
 public:
  explicit Steps(std::ostream& out) : out_(out) {}
  bool Report(bool ok, absl::string_view what, absl::string_view detail = "") {
    ++count_;
    if (!ok) ++failed_;
    out_ << "[" << count_ << "] " << (ok ? "ok   " : "FAIL ") << what << "\n";
    if (!detail.empty()) Info(detail);
    return ok;
  }
  void Info(absl::string_view text) { out_ << "      " << text << "\n"; }
  int failed() const { return failed_; }
  int count() const { return count_; }

 private:
  std::ostream& out_;
  int count_ = 0;
  int failed_ = 0;
};

Issued ServerLeaf(const Issued& ca) {
  return Issue({.common_name = "localhost",
                .dns_names = {"localhost"},
                .ip_addresses = {"127.0.0.1"}},
               KeyType::kP256, &ca);
}

// TempDir is a directory made with mkdtemp and removed, with its contents,
// on destruction.
class TempDir {
 public:
  explicit TempDir(absl::string_view root) {
    std::string tmpl = absl::StrCat(absl::StripSuffix(root, "/"), "/sslshim-demo.XXXXXX");
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) Remove();
  }
  const std::string& path() const { return path_; }

  // Files lists the names in the directory, sorted.
  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(path_, ec)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // Remove deletes the directory and what it holds; true when it is gone.
  bool Remove() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec) {
      errno = ec.value();
      return false;
    }
    path_.clear();
    return true;
  }

 private:
  std::string path_;  // Empty when mkdtemp failed or after Remove().
};

// Host is the demo's host process: it owns the store and rotates records.
class Host {
 public:
  Host(std::ostream& out, const DemoOptions& options)
      : out_(out), options_(options), steps_(out), dir_(options.temp_root) {}

  int Run() {
    out_ << "sslshim demo: a host stores TLS credentials in the embedded LMDB store;\n"
            "a sandboxed app (no file writes) serves and fetches HTTPS with them.\n\n";
    if (CreateStore() && StoreCredentials() && ShowSealed()) RunApp();
    Cleanup();
    out_ << "\nsummary: " << steps_.count() - steps_.failed() << "/" << steps_.count()
         << " steps did what they should"
         << (steps_.failed() == 0 ? "" : absl::StrCat(" (", steps_.failed(), " FAILED)"))
         << "\n";
    return steps_.failed();
  }

 private:
  bool CreateStore() {
    if (dir_.path().empty()) {
      return steps_.Report(
          false, "host: create a temporary directory",
          absl::StrCat("mkdtemp under ", options_.temp_root, ": ", std::strerror(errno)));
    }
    uint8_t raw[Kek::kSize];
    RAND_bytes(raw, sizeof(raw));
    absl::StatusOr<Kek> kek =
        Kek::FromBytes(absl::string_view(reinterpret_cast<char*>(raw), sizeof(raw)));
    OPENSSL_cleanse(raw, sizeof(raw));
    if (!kek.ok()) return steps_.Report(false, "host: KEK", kek.status().ToString());
    kek_ = std::make_unique<Kek>(*kek);
    const std::string url = absl::StrCat("lmdb:", dir_.path());
    auto store = certstore::OpenStore(url);
    if (!store.ok())
      return steps_.Report(false, "host: open " + url, store.status().ToString());
    auto cs = CertStore::Create(*std::move(store), {.keks = {*kek_}});
    if (!cs.ok())
      return steps_.Report(false, "host: record layer", cs.status().ToString());
    store_ = *std::move(cs);
    return steps_.Report(
        true, absl::StrCat("host: created the LMDB store ", url),
        absl::StrCat("a random 256-bit KEK (id ", kek_->id(),
                     ") generated in memory seals private keys at rest"));
  }

  bool StoreCredentials() {
    ca_ = std::make_unique<Issued>(Issue(
        {.common_name = "sslshim Demo CA", .is_ca = true}, KeyType::kP256, nullptr));
    Issued server = ServerLeaf(*ca_);
    Issued client = Issue({.common_name = "asalieri",
                           .subject = {{"O", "Employee"}},
                           .emails = {"asalieri@example.com"}},
                          KeyType::kP256, ca_.get());
    const std::string ca_pem = ca_->CertPem();
    auto s = store_->Put(
        ServerPath(),
        {{"cert", server.CertPem()}, {"key_str", server.KeyPem()}, {"ca", ca_pem}});
    auto c = store_->Put(
        ClientPath(),
        {{"cert", client.CertPem()}, {"key_str", client.KeyPem()}, {"ca", ca_pem}});
    if (!s.ok() || !c.ok()) {
      return steps_.Report(false, "host: store the certificates",
                           (s.ok() ? c.status() : s.status()).ToString());
    }
    return steps_.Report(
        true,
        "host: minted a P-256 CA, a server and a client certificate in memory and stored "
        "them",
        absl::StrCat(ServerPath().ToString(), " (generation ", *s,
                     "): cert CN=localhost, key_str, ca\n      ", ClientPath().ToString(),
                     " (generation ", *c, "): cert CN=asalieri,O=Employee, key_str, ca"));
  }

  // ShowSealed reads the raw record bytes back: no PEM key in them.
  bool ShowSealed() {
    auto raw = store_->store()->Get(ServerPath());
    auto rec = store_->Get(ServerPath());
    if (!raw.ok() || !rec.ok()) {
      return steps_.Report(false, "host: read the raw record",
                           (raw.ok() ? rec.status() : raw.status()).ToString());
    }
    const certstore::Field& key = rec->fields.at("key_str");
    auto kek_id = certstore::SealedKekId(key.value);
    const bool ok = !absl::StrContains(raw->value, "PRIVATE KEY") && key.sealed &&
                    certstore::IsSealedValue(key.value) && kek_id.ok() &&
                    *kek_id == kek_->id();
    return steps_.Report(
        ok, "host: the stored key_str is sealed, not PEM",
        absl::StrCat("raw record ", raw->value.size(),
                     " bytes without 'PRIVATE KEY'; key_str = \"",
                     absl::CHexEscape(key.value.substr(0, 4)), "\" + ",
                     key.value.size() - 4, " bytes (AES-256-GCM under KEK ",
                     kek_id.ok() ? *kek_id : "?", ")"));
  }

  void RunApp() {
    out_ << "\nthe app (a forked child process, sandboxed):\n";
    bool done = false;
    DemoAppConfig config{.store_dir = dir_.path(),
                         .kek = kek_.get(),
                         .step_timeout = options_.step_timeout};
    absl::Status exit = RunAppProcess(
        [&](AppChannel& host) { RunDemoApp(config, host); },
        [&](absl::string_view line, AppChannel& app) {
          std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits('\t', 3));
          std::string what, detail;
          if (f[0] == "S" && f.size() == 4 && absl::CUnescape(f[2], &what) &&
              absl::CUnescape(f[3], &detail)) {
            steps_.Report(f[1] == "1", what, detail);
          } else if (f[0] == "I" && f.size() == 2 && absl::CUnescape(f[1], &detail)) {
            steps_.Info(detail);
          } else if (f[0] == "ROTATE") {
            app.Send(RotateServerKey());
          } else if (f[0] == "DONE") {
            done = true;
          } else {
            steps_.Report(false, "host: unexpected line from the app",
                          absl::CHexEscape(line));
          }
        },
        options_.app_timeout);
    if (!exit.ok() || !done) {
      steps_.Report(false, "host: the app ran every step and exited cleanly",
                    exit.ok() ? "the app stopped before its last step" : exit.ToString());
    }
    std::vector<std::string> files = dir_.Files();
    steps_.Report(files == std::vector<std::string>{"data.mdb", "lock.mdb"},
                  "host: the app wrote no file",
                  absl::StrCat(dir_.path(), " holds ", absl::StrJoin(files, ", ")));
  }

  // RotateServerKey stores a new server certificate and key (generation
  // bump) and tells the app what to expect.
  std::string RotateServerKey() {
    Issued rotated = ServerLeaf(*ca_);
    auto gen = store_->Put(ServerPath(), {{"cert", rotated.CertPem()},
                                          {"key_str", rotated.KeyPem()},
                                          {"ca", ca_->CertPem()}});
    steps_.Report(
        gen.ok(), "host: rotated the server key in the store (CertStore::Put)",
        gen.ok() ? absl::StrCat(ServerPath().ToString(), " now at generation ", *gen,
                                ", certificate SHA-256 ", Fingerprint(rotated.CertDer()))
                 : gen.status().ToString());
    if (!gen.ok())
      return absl::StrCat("FAILED\t", absl::CEscape(gen.status().ToString()));
    return absl::StrCat("ROTATED\t", *gen, "\t", Fingerprint(rotated.CertDer()));
  }

  void Cleanup() {
    store_.reset();  // Closes the LMDB environment before its files go.
    const std::string path = dir_.path();
    if (!path.empty() && !dir_.Remove()) {
      steps_.Report(false, "host: remove " + path, std::strerror(errno));
    }
  }

  std::ostream& out_;
  const DemoOptions& options_;
  Steps steps_;
  TempDir dir_;
  std::unique_ptr<Kek> kek_;
  std::unique_ptr<Issued> ca_;
  std::unique_ptr<CertStore> store_;
};

}  // namespace

int RunDemo(std::ostream& out, const DemoOptions& options) {
  return Host(out, options).Run();
}

int RunDemo(std::ostream& out) { return RunDemo(out, DemoOptions()); }

}  // namespace sslshim::runtime
