#include "shim/peercert_test_util.h"

#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace sslshim::shim::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string WriteTestFile(const std::string& name, const std::string& content) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "WriteTestFile: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

absl::StatusOr<std::string> RunCommand(const std::string& command) {
  static std::atomic<int> counter{0};
  const std::string err_path =
      WriteTestFile(absl::StrCat("command_", counter++, ".stderr"), "");
  const std::string full = absl::StrCat(command, " 2>", err_path);
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("popen failed: " + command);
  std::string out;
  char buf[4096];
  size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, got);
  int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat(command, " failed (", status, "): ", ReadFile(err_path)));
  }
  return out;
}

absl::StatusOr<std::string> RunPython(const std::string& script,
                                      const std::vector<std::string>& args) {
  static std::atomic<int> counter{0};
  const std::string script_path =
      WriteTestFile(absl::StrCat("oracle_", counter++, ".py"), script);
  return RunCommand(
      absl::StrCat(kPython, " -W ignore ", script_path, " ", absl::StrJoin(args, " ")));
}

absl::StatusOr<std::vector<std::string>> RunPythonLines(
    const std::string& script, const std::vector<std::string>& args) {
  absl::StatusOr<std::string> out = RunPython(script, args);
  if (!out.ok()) return out.status();
  std::vector<std::string> lines = absl::StrSplit(*out, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

}  // namespace sslshim::shim::testing
