// peercert_test_util.h: test-only helpers that run the real CPython 3.11
// (/usr/bin/python3, Debian's build on OpenSSL 3) as the oracle the
// getpeercert(), repr and match_hostname tests compare against.
//
//   std::string path = WriteTestFile("a.pem", pem);
//   absl::StatusOr<std::string> out = RunPython(
//       "import ssl,sys; print(repr(ssl._ssl._test_decode_cert(sys.argv[1])))",
//       {path});

#ifndef SSLSHIM_SHIM_PEERCERT_TEST_UTIL_H_
#define SSLSHIM_SHIM_PEERCERT_TEST_UTIL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sslshim::shim::testing {

// kPython is the interpreter every oracle runs: Debian's CPython 3.11.
inline constexpr char kPython[] = "/usr/bin/python3";

// kPythonTupleHelper defines `tup(x)` in a Python script: JSON lists become
// tuples (recursively), so json.loads(PyValue::ToJson()) gives back the value
// whose repr() PyValue::ToPythonRepr() renders.
inline constexpr char kPythonTupleHelper[] =
    "def tup(x):\n"
    "  if isinstance(x, list): return tuple(tup(i) for i in x)\n"
    "  if isinstance(x, dict): return {k: tup(i) for k, i in x.items()}\n"
    "  return x\n";

// WriteTestFile writes `content` to `name` under $TEST_TMPDIR (or /tmp when
// unset) and returns the full path. Aborts the test binary on failure.
std::string WriteTestFile(const std::string& name, const std::string& content);

// RunCommand runs `command` with /bin/sh and returns its standard output. A
// non-zero exit status is Internal, with standard error in the message.
absl::StatusOr<std::string> RunCommand(const std::string& command);

// RunPython runs `script` with kPython (warnings ignored) and `args`, and
// returns its standard output. Each argument must be a plain path or word
// (it is passed through the shell unquoted). A non-zero exit status is
// Internal, with standard error in the message.
absl::StatusOr<std::string> RunPython(const std::string& script,
                                      const std::vector<std::string>& args);

// RunPythonLines is RunPython split into output lines (without the newline
// that ends the last one).
absl::StatusOr<std::vector<std::string>> RunPythonLines(
    const std::string& script, const std::vector<std::string>& args);

}  // namespace sslshim::shim::testing

#endif  // SSLSHIM_SHIM_PEERCERT_TEST_UTIL_H_
