#!/usr/bin/env bash
# AOF persistence of tripod-server next to redis-server, in one run (issue 15):
#  1. SET throughput (redis-benchmark, 50 clients, N requests, no pipelining) with
#     `appendonly yes` and `appendfsync everysec`, then `always`, the two servers
#     interleaved RUNS times; the median of each and the ratio tripod/redis
#     (goal: at least 1.0).
#  2. For KEYS keys of mixed types: BGREWRITEAOF time (from the command until
#     aof_rewrite_in_progress is 0) with the RDB preamble (the default) and with
#     a base of commands, and the load time of each folder at start-up (until
#     the server answers PING). Ratio tripod/redis (goal: at most 1.0).
# Both servers write to the same file system (a temporary directory).
# Usage: benches/aof.sh            (env: N=200000 RUNS=3 KEYS=1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
RUNS=${RUNS:-3}
KEYS=${KEYS:-1000000}
cargo build --release -q --bin tripod-server
TBIN=target/release/tripod-server
TMP=$(mktemp -d)
mkdir -p "$TMP/t" "$TMP/r"
pick_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TP=$(pick_port); RP=$(pick_port)
start() { # bin port dir extra...
  local bin=$1 port=$2 dir=$3; shift 3
  "$bin" --port "$port" --bind 127.0.0.1 --save "" --dir "$dir" --logfile "$dir/log" \
    --daemonize no --appendonly yes "$@" >/dev/null 2>&1 &
  echo $! >> "$TMP/pids" # start runs in $(...): a file outlives the subshell
  echo $!
}
wait_up() { # port: until PONG (not -LOADING); fails loudly after 120 s
  for _ in $(seq 24000); do redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return; sleep 0.005; done
  echo "server on port $1 did not answer PING" >&2; exit 1
}
stop() { # port pid: the pid was started in a subshell, so poll it rather than `wait`
  redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true
  while kill -0 "$2" 2>/dev/null; do sleep 0.01; done
}
trap 'for p in $(cat "$TMP/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done; sleep 0.2; rm -rf "$TMP"' EXIT
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
rps() { # port
  redis-benchmark -p "$1" -c 50 -n "$N" -r 100000 -t set -q 2>/dev/null | tr '\r' '\n' \
    | grep 'requests per second' | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/'
}
ratio() { echo "$1 / $2" | bc -l; }

printf '%-26s %12s %12s %8s\n' "" tripod redis ratio
for policy in everysec always; do
  rm -rf "$TMP/t"/* "$TMP/r"/*
  tpid=$(start "$TBIN" "$TP" "$TMP/t" --appendfsync "$policy")
  rpid=$(start redis-server "$RP" "$TMP/r" --appendfsync "$policy")
  wait_up "$TP"; wait_up "$RP"
  : > "$TMP/t.rps"; : > "$TMP/r.rps"
  for _ in $(seq "$RUNS"); do
    rps "$TP" >> "$TMP/t.rps"
    rps "$RP" >> "$TMP/r.rps"
  done
  t=$(median < "$TMP/t.rps"); r=$(median < "$TMP/r.rps")
  printf '%-26s %12.0f %12.0f %8.2f\n' "SET/s appendfsync $policy" "$t" "$r" "$(ratio "$t" "$r")"
  stop "$TP" "$tpid"; stop "$RP" "$rpid"
done

python3 - "$TMP/load.txt" "$KEYS" <<'PY'
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

rewrite_ms() { # port
  local a b
  a=$(ms)
  redis-cli -p "$1" bgrewriteaof >/dev/null
  until redis-cli -p "$1" info persistence | grep -q 'aof_rewrite_in_progress:0' \
      && redis-cli -p "$1" info persistence | grep -q 'aof_rewrite_scheduled:0'; do
    sleep 0.01
  done
  b=$(ms); echo $((b - a))
}
load_ms() { # bin port dir extra...
  local bin=$1 port=$2 dir=$3 a b pid; shift 3
  a=$(ms); pid=$(start "$bin" "$port" "$dir" "$@"); wait_up "$port"; b=$(ms)
  stop "$port" "$pid"
  echo $((b - a))
}
for preamble in yes no; do
  rm -rf "$TMP/t"/* "$TMP/r"/*
  tpid=$(start "$TBIN" "$TP" "$TMP/t" --aof-use-rdb-preamble "$preamble")
  rpid=$(start redis-server "$RP" "$TMP/r" --aof-use-rdb-preamble "$preamble")
  wait_up "$TP"; wait_up "$RP"
  for p in "$TP" "$RP"; do redis-cli -p "$p" --pipe < "$TMP/load.txt" >/dev/null; done
  tr=$(rewrite_ms "$TP"); rr=$(rewrite_ms "$RP")
  stop "$TP" "$tpid"; stop "$RP" "$rpid"
  # Loads alternate which server goes first (the first one shares the disk with
  # the kernel still writing back the files just written); median of three.
  sync
  : > "$TMP/t.load"; : > "$TMP/r.load"
  for i in 1 2 3; do
    if [ $((i % 2)) -eq 1 ]; then
      load_ms "$TBIN" "$TP" "$TMP/t" >> "$TMP/t.load"; load_ms redis-server "$RP" "$TMP/r" >> "$TMP/r.load"
    else
      load_ms redis-server "$RP" "$TMP/r" >> "$TMP/r.load"; load_ms "$TBIN" "$TP" "$TMP/t" >> "$TMP/t.load"
    fi
  done
  tl=$(median < "$TMP/t.load"); rl=$(median < "$TMP/r.load")
  printf '%-26s %12s %12s %8.2f\n' "rewrite_ms preamble=$preamble" "$tr" "$rr" "$(ratio "$tr" "$rr")"
  printf '%-26s %12s %12s %8.2f\n' "load_ms preamble=$preamble" "$tl" "$rl" "$(ratio "$tl" "$rl")"
done
echo "($KEYS keys; SET runs of $N requests, median of $RUNS)"
