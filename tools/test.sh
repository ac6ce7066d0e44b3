#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds with Bazel, runs every
# test, runs each fuzzer briefly, and ends with one line "N passed, N failed"
# counted from the gtest XML results and the fuzz runs. Exits non-zero when
# any test or fuzzer fails or does not build.
#   tools/test.sh                # default configuration
#   tools/test.sh --config=asan  # extra Bazel flags are passed through
set -uo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh || { echo "0 passed, 1 failed"; exit 1; }

bazel test //... --test_output=errors --jobs="$(nproc)" "$@"
bazel_rc=$?

# ---- Fuzzing (tests/fuzz) -------------------------------------------------
# Every libFuzzer target runs FUZZ_SECONDS (20) on a copy of its seed corpus
# under ASan + UBSan, built with clang-14 under its own Bazel output base
# (tools/fuzz.sh; the flags above are not passed on). Each fuzzer run is one
# test result in the count below; a crash, leak or timeout fails it.
fuzz_results="$(mktemp -d)"
trap 'rm -rf "$fuzz_results"' EXIT
tools/fuzz.sh --seconds "${FUZZ_SECONDS:-20}" --jobs "$(nproc)" \
  --results "$fuzz_results"
fuzz_rc=$?
if [[ $fuzz_rc -ne 0 && -z "$(ls -A "$fuzz_results")" ]]; then
  # fuzz.sh stopped before reporting any fuzzer: count that as a failure.
  mkdir -p "$fuzz_results/fuzz"
  echo '<testsuites><testsuite><testcase name="fuzz.sh"><failure/></testcase></testsuite></testsuites>' \
    >"$fuzz_results/fuzz/test.xml"
fi
# ---- end of fuzzing -------------------------------------------------------

testlogs="$(bazel info bazel-testlogs "$@" 2>/dev/null)"
flags=()
[[ $bazel_rc -ne 0 ]] && flags+=(--bazel-failed)
python3 tools/count_results.py "$testlogs" "$fuzz_results" "${flags[@]}"
count_rc=$?
if [[ $bazel_rc -ne 0 || $fuzz_rc -ne 0 || $count_rc -ne 0 ]]; then
  exit 1
fi
exit 0
