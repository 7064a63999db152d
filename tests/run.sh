#!/usr/bin/env bash
# Installs what the test suite needs (Debian packages, as root) and runs every test.
# Usage: tests/run.sh            (from the repository root; .ci/run calls exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."

# Real parts, not mocks: real redis-server/redis-cli/redis-benchmark, real OpenSSH.
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
# ssh2's vendored OpenSSL builds with perl and make; chroot runs the empty-root test.
command -v perl >/dev/null 2>&1 || need+=(perl)
command -v make >/dev/null 2>&1 || need+=(make)
command -v chroot >/dev/null 2>&1 || need+=(coreutils)
command -v ldd >/dev/null 2>&1 || need+=(libc-bin)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "tests/run.sh: missing Debian packages: ${need[*]}; run as root or install them" >&2
    exit 2
  fi
  echo "tests/run.sh: installing ${need[*]}"
  apt-get update -qq
  # Packages must not start their own services (redis on 6379, sentinel on 26379, sshd on 22).
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  rm -f /usr/sbin/policy-rc.d
fi

cargo fmt --check
cargo clippy --all-targets -q -- -D warnings
cargo build --all-targets -q
cargo test --all-targets -- --test-threads 4
