#!/usr/bin/env bash
# The throughput table of tripod-server next to redis-server, from one interleaved run.
#
# For each test the two servers take turns (the order alternates from run to run, so neither
# always runs on a warmer machine), and every figure is the median of RUNS runs with its
# spread (min-max). Beside redis-benchmark's requests/second and p50/p99 latency, it reports
# the server's own CPU time per request (utime+stime of the server process from
# /proc/PID/stat over the test): throughput on a shared 2-core machine swings by tens of
# percent from run to run, CPU per request hardly moves.
#
# Sections:
#   default  redis-benchmark's default test set, random keys over 100,000 (-r 100000),
#            50 clients, without and with -P 16
#   sizes    SET/GET with 3 B, 1 KB, 16 KB and 512 KB values
#   clients  SET/GET with 1,000 clients
# Ratios are tripod/redis for throughput (goal >= 1.0, >= 1.2 with -P 16) and latency
# (goal <= 1.0), and redis/tripod for CPU per request ("cpu eff", goal >= 1.0).
#
# Usage: benches/all.sh [RUNS] [REQUESTS]      (defaults 3 and 200000)
#        SECTIONS="default sizes clients" benches/all.sh
# The memory, RDB and replication figures come from benches/datastructures.sh,
# benches/rdb.sh and benches/replication.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
N=${2:-200000}
SECTIONS=${SECTIONS:-default sizes clients}
# shellcheck source=benches/pair.sh
. benches/pair.sh
ulimit -n 4096 2>/dev/null || true
OUT="$TMP/results.txt"
: > "$OUT"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# one KIND PORT PID LABEL N ARGS...: runs redis-benchmark once, appends
# "label kind rps p50 p99 cpu_us_per_request" to $OUT.
one() {
  local kind=$1 port=$2 pid=$3 label=$4 n=$5
  shift 5
  local t0 t1 csv
  t0=$(ticks "$pid")
  csv=$(redis-benchmark -p "$port" -n "$n" --csv "$@" 2>/dev/null | tail -1)
  t1=$(ticks "$pid")
  python3 - "$label" "$kind" "$csv" "$t0" "$t1" "$n" "$(getconf CLK_TCK)" >> "$OUT" <<'PY'
import sys, csv
label, kind, line, t0, t1, n, hz = sys.argv[1:]
row = next(csv.reader([line]))
cpu_us = (float(t1) - float(t0)) / float(hz) * 1e6 / float(n)
print(label, kind, row[1], row[4], row[6], "%.4f" % cpu_us)
PY
}

# pair RUN LABEL N ARGS...: the same test on both servers, order alternating with RUN.
pair() {
  local run=$1 label=$2 n=$3
  shift 3
  if (( run % 2 )); then
    one tripod "$TP" "$TPID" "$label" "$n" "$@"; one redis "$RP" "$RPID" "$label" "$n" "$@"
  else
    one redis "$RP" "$RPID" "$label" "$n" "$@"; one tripod "$TP" "$TPID" "$label" "$n" "$@"
  fi
}

flush() { for p in "$TP" "$RP"; do redis-cli -p "$p" flushall >/dev/null; done; }

for run in $(seq "$RUNS"); do
  for section in $SECTIONS; do
    case $section in
      default)
        for P in 1 16; do
          n=$N; (( P == 16 )) && n=$((N * 3))
          flush
          # In redis-benchmark's order: the pops and LRANGEs read what the pushes wrote.
          for t in ping_inline ping_mbulk set get incr lpush rpush lpop rpop sadd hset spop zadd zpopmin; do
            pair "$run" "$t P$P" "$n" -c 50 -P "$P" -r 100000 -t "$t"
          done
          # LRANGE on a list of 600 elements, filled first (as redis-benchmark's LPUSH step).
          for p in "$TP" "$RP"; do
            redis-cli -p "$p" del mylist >/dev/null
            redis-benchmark -p "$p" -n 600 -c 1 -q LPUSH mylist xxx >/dev/null 2>&1
          done
          for r in 100 300 500 600; do
            last=$((r - 1)); [[ $r == 500 ]] && last=449
            pair "$run" "lrange_$r P$P" "$((n / 10))" -c 50 -P "$P" LRANGE mylist 0 "$last"
          done
          pair "$run" "mset P$P" "$n" -c 50 -P "$P" -r 100000 -t mset
        done
        ;;
      sizes)
        for d in 3 1024 16384 524288; do
          n=$N; (( d >= 16384 )) && n=$((N / 10)); (( d >= 524288 )) && n=$((N / 100))
          flush
          for t in set get; do
            pair "$run" "$t ${d}B" "$n" -c 50 -r 1000 -d "$d" -t "$t"
          done
        done
        ;;
      clients)
        flush
        for t in set get; do
          pair "$run" "$t c1000" "$N" -c 1000 -r 100000 -t "$t"
        done
        ;;
    esac
  done
done

python3 - "$OUT" "$RUNS" <<'PY'
import sys, statistics as st
from collections import OrderedDict
rows = OrderedDict()
for line in open(sys.argv[1]):
    f = line.split()
    label, kind = " ".join(f[:-5]), f[-5]
    rows.setdefault(label, {"tripod": [], "redis": []})[kind].append([float(x) for x in f[-4:]])
print("%d run(s); median (min-max); ratios tripod/redis, cpu eff = redis cpu/tripod cpu" % int(sys.argv[2]))
hdr = ("test", "tripod rps", "redis rps", "rps", "p50", "p99", "cpu us/req t/r", "cpu eff")
print("%-16s %22s %22s %6s %6s %6s %16s %8s" % hdr)
def med(xs, i): return st.median(x[i] for x in xs)
def span(xs, i): return "%.0f-%.0f" % (min(x[i] for x in xs), max(x[i] for x in xs))
for label, d in rows.items():
    t, r = d["tripod"], d["redis"]
    if not t or not r:
        continue
    ratio = lambda i: med(t, i) / med(r, i) if med(r, i) else float("nan")
    cpu_eff = med(r, 3) / med(t, 3) if med(t, 3) else float("nan")
    print("%-16s %22s %22s %6.2f %6.2f %6.2f %16s %8.2f" % (
        label,
        "%.0f (%s)" % (med(t, 0), span(t, 0)),
        "%.0f (%s)" % (med(r, 0), span(r, 0)),
        ratio(0), ratio(1), ratio(2),
        "%.2f/%.2f" % (med(t, 3), med(r, 3)),
        cpu_eff))
PY
