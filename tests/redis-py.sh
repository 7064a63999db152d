#!/usr/bin/env bash
# Runs redis-py's own Lock and scripting tests against tripod-server and against
# redis-server, and prints both results (they must agree). Not part of tests/run.sh: it
# downloads redis-py's source from PyPI.
# Usage: tests/redis-py.sh [REDIS_PY_VERSION]      (default 5.0.8)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VERSION=${1:-5.0.8}
cargo build --release -q --bin tripod-server
W=$(mktemp -d /tmp/tripod-redis-py.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"' EXIT
cd "$W"
pip download -q --no-binary :all: --no-deps "redis==$VERSION"
tar xzf "redis-$VERSION.tar.gz"
python3 -m venv venv
venv/bin/pip install -q "./redis-$VERSION" pytest
pick_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
for who in tripod redis; do
  port=$(pick_port)
  mkdir -p "$W/$who"
  if [ "$who" = tripod ]; then bin=$ROOT/target/release/tripod-server; else bin=$(command -v redis-server); fi
  "$bin" --port "$port" --bind 127.0.0.1 --dir "$W/$who" --save "" --enable-debug-command yes \
    --logfile "$W/$who/log" &
  PIDS+=($!)
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  echo "== redis-py $VERSION against $who"
  (cd "redis-$VERSION" && "$W/venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_lock.py tests/test_scripting.py tests/test_commands.py \
    -k "lock or script or eval or function or fcall" \
    --redis-url="redis://127.0.0.1:$port/0" 2>&1 | grep -E "^FAILED|passed|failed" || true)
done
