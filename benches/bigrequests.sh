#!/usr/bin/env bash
# Big requests, side by side with redis-server in one interleaved run (issue 11):
# a 100 MB pipeline of small commands and one 64 MB multibulk (an MSET of 500,000
# pairs), each sent in one go while the replies are read. Prints seconds per MB for
# each server, the median of RUNS runs with its spread, and the tripod/redis ratio
# (below 1: tripod is faster). The server's CPU time per MB (utime+stime from
# /proc/PID/stat) is printed too: it is what the machine's noise hardly moves.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
. benches/pair.sh

python3 - "$TP" "$TPID" "$RP" "$RPID" "$RUNS" <<'PY'
import os, socket, statistics, sys, threading, time
tp, tpid, rp, rpid, runs = map(int, sys.argv[1:])
tick = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)

def pipeline():
    one = enc(b"INCRBY", b"counter:with:a:rather:long:name", b"1")
    n = (100 << 20) // len(one) + 1
    return one * n, n

def multibulk():
    pairs = 500_000
    parts = [b"*%d\r\n$4\r\nMSET\r\n" % (1 + 2 * pairs)]
    v = b"v" * 128
    for i in range(pairs):
        k = b"key:%08d" % i
        parts.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
    return b"".join(parts), 1

def run(port, pid, payload, replies):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(enc(b"FLUSHALL")); s.recv(16)
    c0, t0 = cpu(pid), time.perf_counter()
    w = threading.Thread(target=s.sendall, args=(payload,)); w.start()
    seen = 0
    while seen < replies:
        b = s.recv(1 << 16)
        if not b:
            raise SystemExit("server closed the connection")
        seen += b.count(b"\n")
    w.join()
    t, c = time.perf_counter() - t0, cpu(pid) - c0
    s.close()
    mb = len(payload) / (1 << 20)
    return t / mb, c / mb

for name, make in [("100 MB pipeline of INCRBY", pipeline), ("one 64 MB MSET", multibulk)]:
    payload, replies = make()
    res = {"tripod": [], "redis": []}
    for _ in range(runs):
        res["tripod"].append(run(tp, tpid, payload, replies))
        res["redis"].append(run(rp, rpid, payload, replies))
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    spread = lambda xs, i: (max(x[i] for x in xs) - min(x[i] for x in xs))
    print(f"{name} ({len(payload)/(1<<20):.0f} MB, median of {runs}):")
    for who in ("tripod", "redis"):
        print(f"  {who:7s} {med(res[who],0)*1000:7.2f} ms/MB (spread {spread(res[who],0)*1000:.2f})"
              f"   cpu {med(res[who],1)*1000:7.2f} ms/MB")
    print(f"  ratio tripod/redis: time {med(res['tripod'],0)/med(res['redis'],0):.2f}"
          f"  cpu {med(res['tripod'],1)/max(med(res['redis'],1),1e-9):.2f}")
PY
