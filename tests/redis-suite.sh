#!/usr/bin/env bash
# Runs units of Redis 7.0's own test suite against a freshly built tripod-server (and, with
# REDIS=1, against Debian's redis-server in the same run), one unit at a time, and prints the
# tests passed, failed and raising an exception per unit.
#
# The suite is not part of this repository. It is Redis 7.0.15's `tests/` folder and
# `runtest` script, unchanged; the script looks for it in $REDIS_TESTS, then
# ../shared/redis-tests and ../redis-tests next to the checkout. To get it:
#   curl -LO https://download.redis.io/releases/redis-7.0.15.tar.gz
#   tar xzf redis-7.0.15.tar.gz && export REDIS_TESTS=$PWD/redis-7.0.15
# It needs Debian's tcl, redis-tools (redis-cli, redis-benchmark, redis-check-*).
#
# Usage: tests/redis-suite.sh [UNIT ...]     e.g. tests/redis-suite.sh unit/type/hash unit/expire
#        REDIS=1 tests/redis-suite.sh ...    the same units against redis-server too
#        OUT=/tmp/suite BASEPORT=21111 PER_UNIT_S=300 tests/redis-suite.sh
# Tests listed in tests/redis-suite-skip.txt (each with its reason) are skipped.
# Logs: $OUT/<server>/<unit>.log, each failure with the server's log.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TESTS=""
for d in "${REDIS_TESTS:-}" ../shared/redis-tests ../redis-tests; do
  if [ -n "$d" ] && [ -f "$d/tests/test_helper.tcl" ]; then TESTS=$(cd "$d" && pwd); break; fi
done
if [ -z "$TESTS" ]; then
  sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "redis-suite: Redis's test suite not found (set REDIS_TESTS)" >&2
  exit 2
fi
command -v tclsh >/dev/null || { echo "redis-suite: needs tclsh (apt-get install tcl)" >&2; exit 2; }
OUT=${OUT:-$(mktemp -d /tmp/tripod-suite.XXXXXX)}
BASEPORT=${BASEPORT:-21111}
PER_UNIT_S=${PER_UNIT_S:-300}
cargo build --release -q --bin tripod-server || exit 1

units=("$@")
[ ${#units[@]} -gt 0 ] || units=(unit/type/string unit/type/incr unit/type/list unit/type/list-2
  unit/type/list-3 unit/type/set unit/type/zset unit/type/hash unit/type/stream
  unit/type/stream-cgroups unit/keyspace unit/expire unit/multi unit/pubsub unit/pubsubshard
  unit/info unit/info-command unit/protocol unit/auth unit/acl unit/acl-v2 unit/scan unit/other
  unit/introspection unit/introspection-2 unit/quit unit/wait unit/pause unit/limits
  unit/querybuf unit/pendingquerybuf unit/networking unit/shutdown unit/maxmemory
  unit/memefficiency unit/lazyfree unit/bitops unit/bitfield unit/dump unit/sort unit/geo
  unit/hyperloglog unit/scripting unit/functions unit/latency-monitor unit/slowlog
  unit/tracking unit/obuf-limits unit/client-eviction unit/replybufsize unit/oom-score-adj
  unit/violations unit/aofrw)

# The skip list: one test name per line, then " # " and the reason.
skips=()
while IFS= read -r line; do
  name=${line%% # *}
  [ -n "$name" ] && [ "${name:0:1}" != "#" ] && skips+=(--skiptest "$name")
done < "$ROOT/tests/redis-suite-skip.txt"

# run NAME BINARY: every unit against one server binary; prints and keeps the summary.
run() {
  local name=$1 bin=$2 w out
  w=$(mktemp -d /tmp/tripod-suite-work.XXXXXX)
  out=$OUT/$name
  mkdir -p "$out"
  cp -r "$TESTS/tests" "$TESTS/runtest" "$w/"
  chmod -R u+w "$w"
  mkdir -p "$w/src"
  ln -s "$bin" "$w/src/redis-server"
  for b in redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
    ln -s "$(command -v $b || echo /usr/bin/$b)" "$w/src/$b"
  done
  printf '%-28s %5s %5s %5s  %s\n' "$name: unit" ok err exc note > "$out/summary.txt"
  for u in "${units[@]}"; do
    local log rc ok err exc note
    log=$out/$(echo "$u" | tr / _).log
    (cd "$w" && timeout -k 10 "$PER_UNIT_S" tclsh tests/test_helper.tcl --single "$u" --clients 1 \
      --timeout 120 --baseport "$BASEPORT" --dump-logs "${skips[@]}") > "$log" 2>&1
    rc=$?
    sed -i 's/\x1b\[[0-9;]*m//g' "$log"
    ok=$(grep -c '^\[ok\]' "$log"); err=$(grep -c '^\[err\]' "$log")
    exc=$(grep -c '^\[exception\]' "$log")
    note=""
    [ $rc -ge 124 ] && note="stopped after ${PER_UNIT_S}s"
    grep -q '^\[TIMEOUT\]' "$log" && note="a test hung"
    [ "$exc" != 0 ] && note="${note:+$note; }an exception ended the unit early"
    printf '%-28s %5s %5s %5s  %s\n' "$u" "$ok" "$err" "$exc" "$note" >> "$out/summary.txt"
    # Servers the unit left behind run in the work folder: stop them by pid.
    for p in /proc/[0-9]*; do
      case "$(readlink "$p/cwd" 2>/dev/null)" in "$w"*) kill -9 "${p#/proc/}" 2>/dev/null ;; esac
    done
  done
  rm -rf "$w"
  cat "$out/summary.txt"
}

run tripod "$ROOT/target/release/tripod-server"
if [ "${REDIS:-}" = 1 ]; then
  BASEPORT=$((BASEPORT + 5000)) run redis "$(command -v redis-server)"
fi
echo "logs: $OUT"
