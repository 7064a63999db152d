#!/usr/bin/env bash
# Streams: tripod-server next to redis-server, in one interleaved run.
#
# Throughput (redis-benchmark, 50 clients, without and with -P 16; median of RUNS runs with
# the spread, the servers taking turns and the order alternating between runs):
#   xadd_one     XADD to one stream with auto ids (an event log)
#   xadd_many    XADD to 1,000 streams (-r 1000)
#   xreadgroup   XREADGROUP COUNT 1 ... > from a stream of N entries (a consumer taking jobs)
#   xack         XACK of random ids of the entries read above
#   xrange       XRANGE - + COUNT 10
# beside each, the server's CPU time per request (utime+stime from /proc/PID/stat) as
# "cpu eff" = redis cpu / tripod cpu.
# Memory per entry (bytes, from used_memory and from RSS, after loading and minus the
# empty server): 1,000,000 entries of 3 fields in one stream, and 100,000 streams of 10
# entries each.
# Goals (issue 14): throughput >= 1.0, memory <= 1.2 of Redis's.
#
# Usage: benches/streams.sh [RUNS] [REQUESTS]     (defaults 3 and 200000; MEMORY_ONLY=1 skips throughput)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
N=${2:-200000}
# shellcheck source=benches/pair.sh
. benches/pair.sh
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# The RESP encoder the data generators below share.
cat > "$TMP/resp_cmd.py" <<'PY'
def cmd(*a):
    out = ["*%d\r\n" % len(a)]
    for x in a:
        x = str(x)
        out.append("$%d\r\n%s\r\n" % (len(x.encode()), x))
    return "".join(out)
PY

# bench PORT PID PIPELINE TEST -> "rps cpu_us_per_request"
bench() {
  local port=$1 pid=$2 p=$3 t=$4 args
  case $t in
    xadd_one) args=(-r 1 XADD ev '*' user u:__rand_int__ action login ts __rand_int__) ;;
    xadd_many) args=(-r 1000 XADD 's:__rand_int__' '*' user u:__rand_int__ action login) ;;
    xreadgroup) args=(XREADGROUP GROUP g c COUNT 1 STREAMS q '>') ;;
    xack) args=(-r "$N" XACK q g '__rand_int__-1') ;;
    xrange) args=(XRANGE q - + COUNT 10) ;;
  esac
  local t0 out t1
  t0=$(ticks "$pid")
  out=$(redis-benchmark -p "$port" -c 50 -n "$N" -P "$p" -q "${args[@]}" 2>/dev/null | tr '\r' '\n' \
    | grep 'requests per second' | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/')
  t1=$(ticks "$pid")
  echo "$out $(echo "($t1 - $t0) * 1000000 / $HZ / $N" | bc -l)"
}

# The job stream: N entries with ids 1-1 .. N-1 (so XACK can name them), one group.
prepare_queue() {
  python3 - "$TMP/q.txt" "$N" "$TMP" <<'PY'
import sys
sys.path.insert(0, sys.argv[-1])
from resp_cmd import cmd
with open(sys.argv[1], "w") as f:
    for i in range(1, int(sys.argv[2]) + 1):
        f.write(cmd("XADD", "q", "%d-1" % i, "job", "j%d" % i, "payload", "x" * 20))
    f.write(cmd("XGROUP", "CREATE", "q", "g", "0"))
PY
  for p in "$TP" "$RP"; do
    redis-cli -p "$p" del q ev >/dev/null
    redis-cli -p "$p" --pipe < "$TMP/q.txt" >/dev/null
  done
}

RES=$TMP/results.txt
: > "$RES"
for run in $(seq "$RUNS"); do
  [ "${MEMORY_ONLY:-}" = 1 ] && break
  for P in 1 16; do
    prepare_queue
    for t in xadd_one xadd_many xreadgroup xack xrange; do
      if [ $(((run + P) % 2)) = 0 ]; then order="t r"; else order="r t"; fi
      for who in $order; do
        if [ "$who" = t ]; then r=$(bench "$TP" "$TPID" "$P" "$t"); else r=$(bench "$RP" "$RPID" "$P" "$t"); fi
        echo "$t P$P $who $r" >> "$RES"
      done
    done
  done
done

[ "${MEMORY_ONLY:-}" = 1 ] || python3 - "$RES" "$RUNS" <<'PY'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    t, p, who, rps, cpu = line.split()
    rows.setdefault((t, p), {"t": [], "r": []})[who].append((float(rps), float(cpu)))
def med(xs):
    return st.median(xs), min(xs), max(xs)
print("%s run(s); median (min-max); ratio = tripod/redis rps; cpu eff = redis cpu/tripod cpu" % sys.argv[2])
print("%-12s %-4s %22s %22s %18s %18s" % ("test", "P", "tripod rps", "redis rps", "rps ratio", "cpu eff"))
for (t, p), d in rows.items():
    n = min(len(d["t"]), len(d["r"]))
    ratios = [d["t"][i][0] / d["r"][i][0] for i in range(n)]
    effs = [d["r"][i][1] / d["t"][i][1] for i in range(n) if d["t"][i][1] > 0]
    tm, rm = med([x[0] for x in d["t"]]), med([x[0] for x in d["r"]])
    rr, ee = med(ratios), med(effs or [0])
    print("%-12s %-4s %10.0f (%4.0fk-%4.0fk) %10.0f (%4.0fk-%4.0fk) %6.2f (%.2f-%.2f) %6.2f (%.2f-%.2f)" % (
        t, p, tm[0], tm[1] / 1e3, tm[2] / 1e3, rm[0], rm[1] / 1e3, rm[2] / 1e3, *rr, *ee))
PY

# Memory per entry.
python3 - "$TMP/mem1.txt" "$TMP/mem2.txt" "$TMP" <<'PY'
import sys
sys.path.insert(0, sys.argv[-1])
from resp_cmd import cmd
with open(sys.argv[1], "w") as f:
    for i in range(1, 1000001):
        f.write(cmd("XADD", "big", "%d-0" % (1700000000000 + i), "user", "u%d" % (i % 5000), "action", "view", "item", i))
with open(sys.argv[2], "w") as f:
    for k in range(100000):
        for i in range(1, 11):
            f.write(cmd("XADD", "st:%d" % k, "%d-0" % (1700000000000 + i), "user", "u%d" % k, "n", i))
PY
used() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}'; }
rss() { grep VmRSS /proc/"$1"/status | awk '{print $2 * 1024}'; }
printf '\n%-34s %10s %10s %8s\n' "memory (bytes/entry), fresh servers" tripod redis ratio
for f in mem1 mem2; do
  declare -A U R
  for who in t r; do
    # A fresh server per dataset: freed memory stays with the allocator, so
    # a server that ran the tests above would understate what loading took.
    port=$(pick_port)
    if [ $who = t ]; then
      target/release/tripod-server --port "$port" --bind 127.0.0.1 --save "" --dir "$TMP" --logfile "$TMP/mt.log" &
    else
      redis-server --port "$port" --bind 127.0.0.1 --save "" --dir "$TMP" --logfile "$TMP/mr.log" &
    fi
    pid=$!
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
    u0=$(used "$port"); r0=$(rss "$pid")
    redis-cli -p "$port" --pipe < "$TMP/$f.txt" >/dev/null
    sleep 0.5
    U[$who]=$(( $(used "$port") - u0 )); R[$who]=$(( $(rss "$pid") - r0 ))
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
  label=$([ $f = mem1 ] && echo "1M entries, one stream" || echo "100k streams x 10")
  for kind in used_memory rss; do
    if [ $kind = used_memory ]; then a=${U[t]}; b=${U[r]}; else a=${R[t]}; b=${R[r]}; fi
    printf '%-34s %10.1f %10.1f %8.2f\n' "$label, $kind" "$(echo "$a / 1000000" | bc -l)" \
      "$(echo "$b / 1000000" | bc -l)" "$(echo "$a / $b" | bc -l)"
  done
done
