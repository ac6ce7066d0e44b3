#!/usr/bin/env bash
# Installs every Debian package sslshim needs to build, test and run.
# Idempotent; runs as root on a fresh Debian 12 machine.
set -euo pipefail

PACKAGES=(
  # Build: Bazel 4.2.3 and its offline rule sets, the C++ toolchain.
  bazel-bootstrap bazel-rules-java bazel-platforms g++ clang-14 libclang-rt-14-dev
  # Libraries (see shared/TOOLCHAIN.md).
  android-libboringssl-dev libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  liblmdb-dev libhiredis-dev libseccomp-dev libyaml-cpp-dev nlohmann-json3-dev
  libhttp-parser-dev
  # Real peers for interop and integration tests.
  android-boringssl openssl curl redis-server python3 python3-requests
  ca-certificates valgrind
)
# `--bench` adds what tools/bench.sh needs beyond the tests: nginx (a
# baseline it starts itself on a loopback port).
if [[ "${1:-}" == "--bench" ]]; then
  PACKAGES+=(nginx-light)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Never let a package start a system service (nginx would take port 80).
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if ((created_policy)); then rm -f /usr/sbin/policy-rc.d; fi
fi
