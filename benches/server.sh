#!/usr/bin/env bash
# Throughput of tripod-server next to redis-server, in one run, on this machine.
# Prints requests/second for each and the ratio tripod/redis (goal: >= 1.0).
# Usage: benches/server.sh [requests]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
cargo build --release -q --bin tripod-server
TMP=$(mktemp -d)
pick_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TP=$(pick_port); RP=$(pick_port)
target/release/tripod-server --port "$TP" --bind 127.0.0.1 --save "" --dir "$TMP" --logfile "$TMP/t.log" &
TPID=$!
redis-server --port "$RP" --bind 127.0.0.1 --save "" --dir "$TMP" --logfile "$TMP/r.log" &
RPID=$!
trap 'kill $TPID $RPID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
for p in "$TP" "$RP"; do
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
done

rps() { # port pipeline test
  redis-benchmark -p "$1" -c 50 -n "$N" -P "$2" -t "$3" -q 2>/dev/null | tr '\r' '\n' \
    | grep 'requests per second' | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/'
}
printf '%-10s %-4s %14s %14s %8s\n' test P tripod redis ratio
for P in 1 16; do
  for t in ping_mbulk set get incr mset; do
    # Alternate the order so neither server always runs on a warmer machine.
    a=$(rps "$TP" "$P" "$t"); b=$(rps "$RP" "$P" "$t")
    printf '%-10s %-4s %14s %14s %8.2f\n' "$t" "$P" "$a" "$b" "$(echo "$a / $b" | bc -l)"
  done
done
