#!/usr/bin/env bash
# RDB persistence of tripod-server next to redis-server, in one run: SAVE time,
# file size and load time (start-up until the server answers) for one million
# keys of mixed types (strings, small hashes, lists, sets and sorted sets).
# Prints each figure and the ratio tripod/redis. Goals: time <= 1.5x, size <= 1.1x.
# Usage: benches/rdb.sh [keys]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
cargo build --release -q --bin tripod-server
TMP=$(mktemp -d)
mkdir -p "$TMP/t" "$TMP/r"
pick_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TP=$(pick_port); RP=$(pick_port)
TBIN=target/release/tripod-server
start() { # bin port dir
  "$1" --port "$2" --bind 127.0.0.1 --save "" --dir "$3" --logfile "$3/log" --daemonize no >/dev/null 2>&1 &
  echo $!
}
wait_up() { for _ in $(seq 2000); do redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return; sleep 0.005; done; }
TPID=$(start "$TBIN" "$TP" "$TMP/t"); RPID=$(start redis-server "$RP" "$TMP/r")
trap 'kill $TPID $RPID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
wait_up "$TP"; wait_up "$RP"

python3 - "$TMP/load.txt" "$N" <<'PY'
import sys
n = int(sys.argv[2])
def cmd(*a):
    out = ["*%d\r\n" % len(a)]
    for x in a:
        x = str(x)
        out.append("$%d\r\n%s\r\n" % (len(x.encode()), x))
    return "".join(out)
with open(sys.argv[1], "w") as f:
    for i in range(n):
        k = i % 5
        if k == 0:
            f.write(cmd("SET", "s:%d" % i, "value-%d-%s" % (i, "x" * (i % 40))))
        elif k == 1:
            f.write(cmd("HSET", "h:%d" % i, "name", "user%d" % i, "age", i % 90))
        elif k == 2:
            f.write(cmd("RPUSH", "l:%d" % i, "a%d" % i, "b", i))
        elif k == 3:
            f.write(cmd("SADD", "t:%d" % i, i, i + 1, i + 2))
        else:
            f.write(cmd("ZADD", "z:%d" % i, 1, "a%d" % i, 2.5, "b"))
PY
for p in "$TP" "$RP"; do redis-cli -p "$p" --pipe < "$TMP/load.txt" >/dev/null; done

ms() { date +%s%3N; }
save_ms() { local a b; a=$(ms); redis-cli -p "$1" save >/dev/null; b=$(ms); echo $((b - a)); }
ts=$(save_ms "$TP"); rs=$(save_ms "$RP")
tz=$(stat -c %s "$TMP/t/dump.rdb"); rz=$(stat -c %s "$TMP/r/dump.rdb")
redis-cli -p "$TP" shutdown nosave >/dev/null 2>&1 || true
redis-cli -p "$RP" shutdown nosave >/dev/null 2>&1 || true
wait $TPID $RPID 2>/dev/null || true
load_ms() { # bin port dir
  local a b pid; a=$(ms); pid=$(start "$1" "$2" "$3"); wait_up "$2"; b=$(ms)
  redis-cli -p "$2" shutdown nosave >/dev/null 2>&1 || true; wait "$pid" 2>/dev/null || true
  echo $((b - a))
}
tl=$(load_ms "$TBIN" "$TP" "$TMP/t"); rl=$(load_ms redis-server "$RP" "$TMP/r")
printf '%-14s %12s %12s %8s\n' "($N keys)" tripod redis ratio
printf '%-14s %12s %12s %8.2f\n' save_ms "$ts" "$rs" "$(echo "$ts / $rs" | bc -l)"
printf '%-14s %12s %12s %8.2f\n' file_bytes "$tz" "$rz" "$(echo "$tz / $rz" | bc -l)"
printf '%-14s %12s %12s %8.2f\n' load_ms "$tl" "$rl" "$(echo "$tl / $rl" | bc -l)"
