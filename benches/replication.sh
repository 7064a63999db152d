#!/usr/bin/env bash
# Replication of tripod-server next to redis-server, in one run:
#  1. full sync: time for a new replica to finish syncing a master holding one
#     million keys, disk-based and diskless (repl-diskless-sync-delay 0);
#  2. lag: how far behind a replica stays (bytes of offset, and milliseconds for a
#     probe key to appear) while redis-benchmark writes to the master.
# Prints each figure and the ratio tripod/redis (goal: no worse than Redis).
# Usage: benches/replication.sh [keys]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
cargo build --release -q --bin tripod-server
TMP=$(mktemp -d)
pick_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PIDS=()
trap 'kill ${PIDS[@]} 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
start() { # bin port dir [args...]
  local bin=$1 port=$2 dir=$3; shift 3; mkdir -p "$dir"
  "$bin" --port "$port" --bind 127.0.0.1 --save "" --dir "$dir" --logfile "$dir/log" --repl-diskless-sync "${DISKLESS:-no}" --repl-diskless-sync-delay 0 "$@" >/dev/null 2>&1 &
  PIDS+=($!)
}
wait_up() { for _ in $(seq 2000); do redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return; sleep 0.005; done; }
field() { redis-cli -p "$1" info replication | tr -d '\r' | grep "^$2:" | cut -d: -f2; }
ms() { date +%s%3N; }

full_sync() { # bin -> sets MP RP SYNC_MS
  local bin=$1 mp rp a b
  mp=$(pick_port); rp=$(pick_port)
  start "$bin" "$mp" "$TMP/$mp"; wait_up "$mp"
  python3 -c "
import sys
for i in range($N):
    k = 'key:%d' % i; v = 'value-%020d' % i
    sys.stdout.write('*3\r\n\$3\r\nSET\r\n\$%d\r\n%s\r\n\$%d\r\n%s\r\n' % (len(k), k, len(v), v))
" | redis-cli -p "$mp" --pipe >/dev/null
  start "$bin" "$rp" "$TMP/$rp"; wait_up "$rp"
  a=$(ms)
  redis-cli -p "$rp" replicaof 127.0.0.1 "$mp" >/dev/null
  until [ "$(field "$rp" master_link_status)" = up ] && [ "$(field "$rp" master_sync_in_progress)" = 0 ]; do sleep 0.01; done
  b=$(ms)
  MP=$mp; RP=$rp; SYNC_MS=$((b - a))
}

lag() { # master replica -> prints "max_bytes avg_ms max_ms"
  local mp=$1 rp=$2
  redis-benchmark -p "$mp" -t set,lpush,hset -n 300000 -r 100000 -c 50 -P 16 -q >/dev/null 2>&1 &
  local bpid=$!
  python3 - "$mp" "$rp" "$bpid" <<'PY'
import socket, sys, time, os
mp, rp, bpid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def conn(p):
    s = socket.create_connection(("127.0.0.1", p)); s.settimeout(10); return s
def cmd(s, *a):
    s.sendall(("*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a)).encode())
    buf = b""
    while not buf.endswith(b"\r\n") or (buf.startswith(b"$") and buf.count(b"\r\n") < 2 and not buf.startswith(b"$-1")):
        buf += s.recv(65536)
    return buf
def offset(s, name):
    info = cmd(s, "INFO", "replication").decode()
    for l in info.split("\r\n"):
        if l.startswith(name + ":"): return int(l.split(":")[1])
    return 0
m, r = conn(mp), conn(rp)
max_bytes, lat = 0, []
i = 0
while True:
    try:
        os.kill(bpid, 0)
    except OSError:
        break
    max_bytes = max(max_bytes, offset(m, "master_repl_offset") - offset(r, "slave_repl_offset"))
    key = "probe:%d" % i; i += 1
    t0 = time.time()
    cmd(m, "SET", key, "1")
    while cmd(r, "GET", key).startswith(b"$-1"):
        if time.time() - t0 > 5: break
    lat.append((time.time() - t0) * 1000)
    time.sleep(0.02)
lat.sort()
print(max_bytes, "%.2f" % (sum(lat) / max(len(lat), 1)), "%.2f" % (lat[-1] if lat else 0))
PY
  wait $bpid 2>/dev/null || true
}

DISKLESS=yes full_sync target/release/tripod-server; tdl=$SYNC_MS
DISKLESS=yes full_sync redis-server; rdl=$SYNC_MS
full_sync target/release/tripod-server; tm=$MP; tr=$RP; tsync=$SYNC_MS
full_sync redis-server; rm=$MP; rr=$RP; rsync=$SYNC_MS
read -r tb tavg tmax <<<"$(lag "$tm" "$tr")"
read -r rb ravg rmax <<<"$(lag "$rm" "$rr")"
printf '%-22s %12s %12s %8s\n' "($N keys)" tripod redis ratio
printf '%-22s %12s %12s %8.2f\n' full_sync_disk_ms "$tsync" "$rsync" "$(echo "$tsync / $rsync" | bc -l)"
printf '%-22s %12s %12s %8.2f\n' full_sync_diskless_ms "$tdl" "$rdl" "$(echo "$tdl / $rdl" | bc -l)"
printf '%-22s %12s %12s %8.2f\n' lag_max_bytes "$tb" "$rb" "$(echo "($tb + 1) / ($rb + 1)" | bc -l)"
printf '%-22s %12s %12s %8.2f\n' probe_latency_avg_ms "$tavg" "$ravg" "$(echo "$tavg / $ravg" | bc -l)"
printf '%-22s %12s %12s %8.2f\n' probe_latency_max_ms "$tmax" "$rmax" "$(echo "$tmax / $rmax" | bc -l)"
