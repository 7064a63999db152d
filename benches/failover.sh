#!/usr/bin/env bash
# Automatic failover time with Redis Sentinel: from `kill -9` of the master to the first write
# acknowledged by the new master (SET answered OK by the node the Sentinels now name), and to
# the first write acknowledged by a replica too (WAIT 1), for tripod-server nodes against
# redis-server nodes, with the same Sentinels (Debian's redis-sentinel) and the same settings
# (quorum 2, down_after_ms 1000, failover_timeout_ms 4000). Three nodes and three Sentinels
# deployed by tripod with `connection: local` on 127.0.0.1; prints each run, the medians and
# the ratio tripod-server / redis-server (goal: no slower, a ratio of at most 1).
#
# Usage: benches/failover.sh [RUNS]      (from the repository root; RUNS per server, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
SENTINEL=$(readlink -f "$(command -v redis-sentinel || command -v redis-server)")

cargo build --release -q --bins
TRIPOD=$PWD/target/release/tripod

tmp=$(mktemp -d /tmp/tripod-failover-bench-XXXXXX)
cleanup() {
  # every server and Sentinel started here, by its pid
  for pf in $(find "$tmp" -name redis.pid -o -name sentinel.pid 2>/dev/null); do
    kill -9 "$(cat "$pf")" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

inventory() { # $1 = folder
  local dir=$1 names=(m r1 r2) roles=(master replica replica)
  {
    printf 'cluster: fobench\nconnection: local\nredis:\n  bind: 127.0.0.1\n  password: "bench-pw"\n'
    printf '  config:\n    repl-diskless-sync-delay: 0\n'
    printf 'sentinel:\n  quorum: 2\n  down_after_ms: 1000\n  failover_timeout_ms: 4000\n  binary: %s\nhosts:\n' "$SENTINEL"
    for i in 0 1 2; do
      printf '  - name: %s\n    address: 127.0.0.1\n    role: %s\n    redis: { port: %s, install_dir: %s }\n    sentinel: { port: %s }\n' \
        "${names[$i]}" "${roles[$i]}" "$(free_port)" "$dir/${names[$i]}" "$(free_port)"
    done
  } > "$dir/inv.yaml"
}

# Kills the master (pid $1, port $2) and prints "<ms to first SET OK> <ms to first WAIT 1>",
# asking the Sentinels (ports $3...) where the master is, as a Sentinel-aware client does.
measure() {
  python3 - "$@" <<'PY'
import os, signal, socket, sys, time
pid, old_port, sentinels = int(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]

def cmd(port, *args, auth=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
    f = s.makefile("rb")
    def send(*a):
        s.sendall(("*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a)).encode())
        return reply(f)
    try:
        if auth:
            send("AUTH", "bench-pw")
        return send(*args)
    finally:
        s.close()

def reply(f):
    line = f.readline().decode().rstrip("\r\n")
    if not line:
        raise OSError("closed")
    t, rest = line[0], line[1:]
    if t in "+:-":
        return line
    if t == "$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode()
    if t == "*":
        return [reply(f) for _ in range(max(int(rest), 0))]
    return line

t0 = time.monotonic()
os.kill(pid, signal.SIGKILL)
first_ok = first_wait = None
n = 0
while first_wait is None and time.monotonic() - t0 < 60:
    n += 1
    port = None
    for sp in sentinels:
        try:
            a = cmd(sp, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "fobench")
            if a and int(a[1]) != old_port:
                port = int(a[1])
                break
        except (OSError, ValueError, IndexError):
            pass
    if port is None:
        time.sleep(0.005)
        continue
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1.0)
        f = s.makefile("rb")
        def send(*a):
            s.sendall(("*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a)).encode())
            return reply(f)
        send("AUTH", "bench-pw")
        if send("SET", "k%d" % n, "v") == "+OK":
            if first_ok is None:
                first_ok = time.monotonic() - t0
            if send("WAIT", "1", "100") not in (":0", None):
                first_wait = time.monotonic() - t0
        s.close()
    except OSError:
        time.sleep(0.005)
if first_ok is None or first_wait is None:
    print("timeout timeout")
else:
    print("%.0f %.0f" % (first_ok * 1000, first_wait * 1000))
PY
}

run_one() { # $1 = server binary; prints "<ok ms> <wait ms>"
  local dir
  dir=$(mktemp -d "$tmp/run-XXXXXX")
  inventory "$dir"
  TRIPOD_SERVER_BIN=$1 "$TRIPOD" deploy "$dir/inv.yaml" > "$dir/deploy.log" 2>&1 ||
    { echo "deploy failed, see below" >&2; cat "$dir/deploy.log" >&2; exit 1; }
  local mport sports
  mport=$(awk '/- name: m$/{f=1} f && /port:/{gsub(/[^0-9 ]/," "); print $1; exit}' "$dir/inv.yaml")
  sports=$(grep -o 'sentinel: { port: [0-9]*' "$dir/inv.yaml" | grep -o '[0-9]*$' | tr '\n' ' ')
  # a little traffic first, so the Sentinels and replicas are in their steady state
  sleep 2
  # shellcheck disable=SC2086
  measure "$(cat "$dir/m/redis.pid")" "$mport" $sports
  "$TRIPOD" stop "$dir/inv.yaml" > /dev/null 2>&1 || true
  for pf in $(find "$dir" -name redis.pid -o -name sentinel.pid 2>/dev/null); do kill -9 "$(cat "$pf")" 2>/dev/null || true; done
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A ok wait
for kind in tripod-server redis-server; do ok[$kind]=""; wait[$kind]=""; done
for i in $(seq "$RUNS"); do
  for kind in tripod-server redis-server; do
    if [ "$kind" = tripod-server ]; then bin=$PWD/target/release/tripod-server; else bin=/usr/bin/redis-server; fi
    read -r a b < <(run_one "$bin")
    echo "run $i $kind: first SET OK after ${a} ms, first WAIT 1 after ${b} ms"
    ok[$kind]+="$a"$'\n'
    wait[$kind]+="$b"$'\n'
  done
done
for kind in tripod-server redis-server; do
  echo "$kind: median first SET OK $(printf '%s' "${ok[$kind]}" | median) ms, first WAIT 1 $(printf '%s' "${wait[$kind]}" | median) ms"
done
t_ok=$(printf '%s' "${ok[tripod-server]}" | median); r_ok=$(printf '%s' "${ok[redis-server]}" | median)
t_w=$(printf '%s' "${wait[tripod-server]}" | median); r_w=$(printf '%s' "${wait[redis-server]}" | median)
awk -v a="$t_ok" -v b="$r_ok" -v c="$t_w" -v d="$r_w" \
  'BEGIN {printf "ratio tripod-server / redis-server: first SET OK %.2f, first WAIT 1 %.2f\n", a/b, c/d}'
