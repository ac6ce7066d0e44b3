#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds with Bazel, runs every
# test, and ends with one line "N passed, N failed" counted from the gtest
# XML results. Exits non-zero when any test fails or does not build.
#   tools/test.sh                # default configuration
#   tools/test.sh --config=asan  # extra Bazel flags are passed through
set -uo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh || { echo "0 passed, 1 failed"; exit 1; }

bazel test //... --test_output=errors --jobs="$(nproc)" "$@"
bazel_rc=$?

testlogs="$(bazel info bazel-testlogs "$@" 2>/dev/null)"
flags=()
[[ $bazel_rc -ne 0 ]] && flags+=(--bazel-failed)
python3 tools/count_results.py "$testlogs" "${flags[@]}"
count_rc=$?
if [[ $bazel_rc -ne 0 || $count_rc -ne 0 ]]; then
  exit 1
fi
exit 0
