#!/usr/bin/env bash
# Throughput of tripod-server next to redis-server, in one run, on this machine.
# Prints requests/second for each and the ratio tripod/redis (goal: >= 1.0).
# Usage: benches/server.sh [requests]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
# shellcheck source=benches/pair.sh
. benches/pair.sh
printf '%-10s %-4s %14s %14s %8s\n' test P tripod redis ratio
for P in 1 16; do
  for t in ping_mbulk set get incr mset; do
    # Alternate the order so neither server always runs on a warmer machine.
    a=$(rps "$TP" "$P" "$t"); b=$(rps "$RP" "$P" "$t")
    printf '%-10s %-4s %14s %14s %8.2f\n' "$t" "$P" "$a" "$b" "$(echo "$a / $b" | bc -l)"
  done
done
