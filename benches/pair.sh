# Sourced by the throughput benchmarks: builds tripod-server and starts it next to
# redis-server on free loopback ports (TP/TPID and RP/RPID), both stopped on exit;
# rps PORT PIPELINE TEST prints redis-benchmark's requests/second (50 clients, N requests).
cargo build --release -q --bin tripod-server
TMP=$(mktemp -d)
pick_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TP=$(pick_port); RP=$(pick_port)
target/release/tripod-server --port "$TP" --bind 127.0.0.1 --save "" --dir "$TMP" --logfile "$TMP/t.log" &
TPID=$!
redis-server --port "$RP" --bind 127.0.0.1 --save "" --dir "$TMP" --logfile "$TMP/r.log" &
RPID=$!
trap 'kill $TPID $RPID 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
for p in "$TP" "$RP"; do
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
done

rps() { # port pipeline test
  redis-benchmark -p "$1" -c 50 -n "$N" -P "$2" -t "$3" -q 2>/dev/null | tr '\r' '\n' \
    | grep 'requests per second' | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/'
}
