#!/usr/bin/env bash
# Data-structure throughput and memory of tripod-server next to redis-server, in
# one run. Prints requests/second for redis-benchmark's LPUSH, LPOP, SADD, HSET,
# ZADD and LRANGE_100 tests (50 clients, without and with -P 16), then the
# resident memory of each server after loading one million small collections
# (250k each of hashes, lists, sets and sorted sets), with ratios tripod/redis.
# Goals: throughput >= 0.8x, memory <= 1.3x.
# Usage: benches/datastructures.sh [requests]   (MEMORY_ONLY=1 skips throughput)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
# shellcheck source=benches/pair.sh
. benches/pair.sh
printf '%-12s %-4s %14s %14s %8s\n' test P tripod redis ratio
[ "${MEMORY_ONLY:-}" = 1 ] || for P in 1 16; do
  for t in lpush lpop sadd hset zadd lrange_100; do
    a=$(rps "$TP" "$P" "$t"); b=$(rps "$RP" "$P" "$t")
    printf '%-12s %-4s %14s %14s %8.2f\n' "$t" "$P" "$a" "$b" "$(echo "$a / $b" | bc -l)"
  done
done

# Memory: one million small collections through redis-cli --pipe.
for p in "$TP" "$RP"; do redis-cli -p "$p" flushall >/dev/null; done
python3 - "$TMP/load.txt" <<'PY'
import sys
def cmd(*a):
    out = ["*%d\r\n" % len(a)]
    for x in a:
        x = str(x)
        out.append("$%d\r\n%s\r\n" % (len(x.encode()), x))
    return "".join(out)
with open(sys.argv[1], "w") as f:
    for i in range(250000):
        f.write(cmd("HSET", "h:%d" % i, "name", "user%d" % i, "age", i % 90, "city", "c%d" % (i % 100)))
        f.write(cmd("RPUSH", "l:%d" % i, "a%d" % i, "b", "c", i))
        f.write(cmd("SADD", "s:%d" % i, i, i + 1, i + 2, "m%d" % i))
        f.write(cmd("ZADD", "z:%d" % i, 1, "a%d" % i, 2.5, "b", 3, "c"))
PY
rss() { grep VmRSS /proc/"$1"/status | awk '{print $2}'; }
for p in "$TP" "$RP"; do redis-cli -p "$p" --pipe < "$TMP/load.txt" >/dev/null; done
sleep 1
a=$(rss "$TPID"); b=$(rss "$RPID")
printf '%-12s %14s %14s %8.2f\n' "rss_kb(1M)" "$a" "$b" "$(echo "$a / $b" | bc -l)"
