#!/usr/bin/env bash
# Times `tripod deploy` of three hosts: a fresh deploy (nothing on the hosts) and a no-change
# re-deploy, over several runs, over SSH (three sshd on 127.0.0.11-13:2222, as in the tests)
# and with `connection: local`. Goal: a no-change re-deploy under one second.
#
# Usage: benches/deploy.sh [RUNS]        (as root for the SSH part; from the repository root)
# Environment: TRIPOD_SERVER_BIN  the server binary to deploy (default: target/release/tripod-server;
#              set it to /usr/bin/redis-server while tripod-server's replication is unfinished)
#              MODES              "ssh local" (default), or one of them
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
MODES=${MODES:-"ssh local"}

cargo build --release -q --bins
TRIPOD=$PWD/target/release/tripod
export TRIPOD_SERVER_BIN=${TRIPOD_SERVER_BIN:-$PWD/target/release/tripod-server}

tmp=$(mktemp -d /tmp/tripod-bench-XXXXXX)
sshd_pids=()
cleanup() {
  for pf in $(find "$tmp" -name redis.pid 2>/dev/null); do kill -9 "$(cat "$pf")" 2>/dev/null || true; done
  for p in "${sshd_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

now() { date +%s.%N; }
stats() { # prints min / median / max of the numbers on stdin
  sort -n | awk '{a[NR]=$1} END {printf "min %.3fs  median %.3fs  max %.3fs", a[1], a[int((NR+1)/2)], a[NR]}'
}

inventory() { # $1 = mode, $2 = file
  local mode=$1 file=$2 addrs ports=(17101 17102 17103)
  if [ "$mode" = ssh ]; then addrs=(127.0.0.11 127.0.0.12 127.0.0.13); else addrs=(127.0.0.1 127.0.0.1 127.0.0.1); fi
  {
    echo "cluster: bench-$mode"
    echo "connection: $mode"
    if [ "$mode" = ssh ]; then
      printf 'ssh:\n  user: %s\n  port: 2222\n  identity_file: %s\n  known_hosts: %s\n  host_key_checking: accept-new\n' \
        "$(id -un)" "$tmp/client_key" "$tmp/known_hosts"
    fi
    printf 'redis:\n  password: "bench-pw"\n  config:\n    repl-diskless-sync-delay: 0\nhosts:\n'
    local names=(m r1 r2) roles=(master replica replica)
    for i in 0 1 2; do
      printf '  - name: %s\n    address: %s\n    role: %s\n    redis: { port: %s, bind: %s, install_dir: %s }\n' \
        "${names[$i]}" "${addrs[$i]}" "${roles[$i]}" "${ports[$i]}" "${addrs[$i]}" "$tmp/$mode/${names[$i]}"
    done
  } > "$file"
}

start_sshd() {
  mkdir -p /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$tmp/client_key"
  cp "$tmp/client_key.pub" "$tmp/authorized_keys"
  for i in 1 2 3; do
    ssh-keygen -q -t ed25519 -N '' -f "$tmp/host_key_$i"
    cat > "$tmp/sshd_$i.conf" <<CONF
ListenAddress 127.0.0.1$i:2222
HostKey $tmp/host_key_$i
AuthorizedKeysFile $tmp/authorized_keys
PermitRootLogin yes
StrictModes no
UsePAM no
PasswordAuthentication no
PidFile $tmp/sshd_$i.pid
LogLevel ERROR
CONF
    /usr/sbin/sshd -D -e -f "$tmp/sshd_$i.conf" 2>"$tmp/sshd_$i.log" &
    sshd_pids+=($!)
  done
  for i in 1 2 3; do
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1$i/2222) 2>/dev/null && break; sleep 0.05; done
  done
}

echo "server binary: $TRIPOD_SERVER_BIN; $RUNS runs per mode"
for mode in $MODES; do
  if [ "$mode" = ssh ]; then
    if [ ! -x /usr/sbin/sshd ] || [ "$(id -u)" -ne 0 ]; then echo "ssh: skipped (needs root and openssh-server)"; continue; fi
    start_sshd
  fi
  inv="$tmp/$mode.yaml"
  inventory "$mode" "$inv"
  : > "$tmp/fresh.$mode"; : > "$tmp/again.$mode"
  for run in $(seq "$RUNS"); do
    rm -rf "${tmp:?}/$mode"
    t0=$(now)
    "$TRIPOD" deploy "$inv" > "$tmp/deploy.log" 2>&1 || { cat "$tmp/deploy.log"; exit 1; }
    t1=$(now)
    "$TRIPOD" deploy "$inv" > "$tmp/redeploy.log" 2>&1 || { cat "$tmp/redeploy.log"; exit 1; }
    t2=$(now)
    [ "$(grep -c '^[A-Za-z0-9_.-]* *unchanged$' "$tmp/redeploy.log")" -eq 3 ] || { echo "re-deploy changed something:"; cat "$tmp/redeploy.log"; exit 1; }
    "$TRIPOD" stop "$inv" > /dev/null
    awk "BEGIN{print $t1 - $t0}" >> "$tmp/fresh.$mode"
    awk "BEGIN{print $t2 - $t1}" >> "$tmp/again.$mode"
  done
  printf '%-5s fresh deploy      %s\n' "$mode" "$(stats < "$tmp/fresh.$mode")"
  printf '%-5s no-change deploy  %s\n' "$mode" "$(stats < "$tmp/again.$mode")"
  worst=$(sort -n "$tmp/again.$mode" | tail -1)
  if awk "BEGIN{exit !($worst < 1)}"; then echo "$mode: goal met (no-change re-deploy under 1s)"; else echo "$mode: goal MISSED (no-change re-deploy ${worst}s)"; fi
done
