#!/usr/bin/env bash
# The main job: installs dependencies, builds with Bazel and runs
# `sslshim demo` end to end. Exits 0 only when every step did what it should.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
bazel build //runtime:sslshim
exec "$(bazel info bazel-bin)/runtime/sslshim" demo "$@"
