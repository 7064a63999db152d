#!/usr/bin/env bash
# Scripting: tripod-server next to redis-server, in one interleaved run.
#
# Throughput (redis-benchmark, 50 clients, without and with -P 16; median of RUNS runs with
# the spread, the servers taking turns and the order alternating between runs):
#   eval_get       EVAL of a one-line read script (return redis.call('get', KEYS[1]))
#   eval_incr      EVAL of a write script (incr, then expire): scripts' effects replicate
#   evalsha_incr   the same by EVALSHA (the script cache)
#   fcall_incr     the same as a function (FCALL)
#   eval_lock      the Redlock release script (compare the owner, then DEL) on random keys
# beside each, the server's CPU time per request (utime+stime from /proc/PID/stat) as
# "cpu eff" = redis cpu / tripod cpu.
# Goal (issue 13): throughput at least 0.9 of Redis's.
#
# Usage: benches/scripting.sh [RUNS] [REQUESTS]     (defaults 3 and 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
N=${2:-100000}
# shellcheck source=benches/pair.sh
. benches/pair.sh
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

INCR="redis.call('incr', KEYS[1]) return redis.call('expire', KEYS[1], 100)"
GET="return redis.call('get', KEYS[1])"
UNLOCK="if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
LIB="#!lua name=benchlib
redis.register_function('incr_expire', function(keys, args) redis.call('incr', keys[1]) return redis.call('expire', keys[1], 100) end)"
SHA=""
for p in "$TP" "$RP"; do
  SHA=$(redis-cli -p "$p" script load "$INCR")
  redis-cli -p "$p" function load replace "$LIB" >/dev/null
  redis-cli -p "$p" set k:1 v >/dev/null
done

# bench PORT PID PIPELINE TEST -> "rps cpu_us_per_request"
bench() {
  local port=$1 pid=$2 p=$3 t=$4 args
  case $t in
    eval_get) args=(EVAL "$GET" 1 k:1) ;;
    eval_incr) args=(-r 100000 EVAL "$INCR" 1 'c:__rand_int__') ;;
    evalsha_incr) args=(-r 100000 EVALSHA "$SHA" 1 'c:__rand_int__') ;;
    fcall_incr) args=(-r 100000 FCALL incr_expire 1 'c:__rand_int__') ;;
    eval_lock) args=(-r 100000 EVAL "$UNLOCK" 1 'lock:__rand_int__' owner) ;;
  esac
  local t0 out t1
  t0=$(ticks "$pid")
  out=$(redis-benchmark -p "$port" -c 50 -n "$N" -P "$p" -q "${args[@]}" 2>/dev/null | tr '\r' '\n' \
    | grep 'requests per second' | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/')
  t1=$(ticks "$pid")
  echo "$out $(echo "($t1 - $t0) * 1000000 / $HZ / $N" | bc -l)"
}

RES=$TMP/results.txt
: > "$RES"
for run in $(seq "$RUNS"); do
  for P in 1 16; do
    for t in eval_get eval_incr evalsha_incr fcall_incr eval_lock; do
      if [ $(((run + P) % 2)) = 0 ]; then order="t r"; else order="r t"; fi
      for who in $order; do
        if [ "$who" = t ]; then r=$(bench "$TP" "$TPID" "$P" "$t"); else r=$(bench "$RP" "$RPID" "$P" "$t"); fi
        echo "$t P$P $who $r" >> "$RES"
      done
    done
  done
done

python3 - "$RES" "$RUNS" <<'PY'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    t, p, who, rps, cpu = line.split()
    rows.setdefault((t, p), {"t": [], "r": []})[who].append((float(rps), float(cpu)))
def med(xs):
    return st.median(xs), min(xs), max(xs)
print("%s run(s); median (min-max); ratio = tripod/redis rps; cpu eff = redis cpu/tripod cpu" % sys.argv[2])
print("%-13s %-4s %22s %22s %18s %18s" % ("test", "P", "tripod rps", "redis rps", "rps ratio", "cpu eff"))
for (t, p), d in rows.items():
    n = min(len(d["t"]), len(d["r"]))
    ratios = [d["t"][i][0] / d["r"][i][0] for i in range(n)]
    effs = [d["r"][i][1] / d["t"][i][1] for i in range(n) if d["t"][i][1] > 0]
    tm, rm = med([x[0] for x in d["t"]]), med([x[0] for x in d["r"]])
    rr, ee = med(ratios), med(effs or [0])
    print("%-13s %-4s %10.0f (%4.0fk-%4.0fk) %10.0f (%4.0fk-%4.0fk) %6.2f (%.2f-%.2f) %6.2f (%.2f-%.2f)" % (
        t, p, tm[0], tm[1] / 1e3, tm[2] / 1e3, rm[0], rm[1] / 1e3, rm[2] / 1e3, *rr, *ee))
PY
