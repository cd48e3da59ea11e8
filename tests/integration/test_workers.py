#!/usr/bin/python3
"""The multi-core data plane: two workers forwarding among four namespaces.

    test_workers.py tap | net_tap

One port of each kind has two queues (a multi-queue tap, or net_tap queues). Ping every pair;
per-flow order (sequence-numbered frames arrive in order); exact flood copies
at every other port and none at the ingress; every rx queue owned by exactly one worker; the
mbuf pool back to its baseline after traffic; and an idle switch using at most 1% of a core,
measured from /proc.
"""
import os
import socket
import sys
import time

import tslib
from tslib import check, ping_all_pairs, say, wait_for

from tsframes import BROADCAST, Endpoint, exchange, expect_counts

ORDERED = 400
FLOOD = 100
IDLE_SECONDS = 5
STASH_SLACK = 64  # mbufs a raw-fd tap queue may keep in its receive stash
SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>; Python does not name it


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test(t, kind):
    sfx = "abcd"
    names = [t.name(s) for s in sfx]
    if kind == "tap":
        ports = [f"tap:{n}" + (",queues=2" if i == 0 else "") for i, n in enumerate(names)]
    else:
        ports = [f"dpdk:net_tap{i},iface={n}" + (",queues=2" if i == 0 else "") for i, n in enumerate(names)]
    sw = t.daemon(ports, args=["--workers", "2"])
    nss = [t.netns(s) for s in sfx]
    for i, (ns, n) in enumerate(zip(nss, names)):
        ns.take(n, f"10.78.0.{i + 1}/24")

    workers = sw.ctl("show", "workers")
    check(len(workers) == 2, f"expected 2 workers, got {len(workers)}")
    owned = [(q["port"], q["queue"]) for w in workers for q in w["rx_queues"]]
    expected = sum(p["rx_queues"] for p in sw.ports().values())
    check(len(owned) == len(set(owned)) == expected,
          f"every rx queue must belong to exactly one worker: {owned} ({expected} queues)")
    check(all(w["rx_queues"] for w in workers), f"a worker got no rx queue: {workers}")
    say(f"2 workers own {expected} rx queues: " + "; ".join(
        f"w{w['index']}: " + " ".join(f"{q['port']}:{q['queue']}" for q in w["rx_queues"]) for w in workers))

    ping_all_pairs([(ns, f"10.78.0.{i + 1}") for i, ns in enumerate(nss)])
    baseline = sw.ctl("show", "stats")["pool"]["in_use"]

    eps = [Endpoint(ns, n) for ns, n in zip(nss, names)]
    for e in eps:  # room for a whole burst of frames before the test reads them
        e.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    a, b, c, d = eps
    # b's MAC is known (the pings); a's frames to it must arrive in the order they were sent.
    for src, dst in ((a, b), (c, d)):
        got = exchange(src, eps, lambda: src.send(dst.mac, n=ORDERED))
        seqs = [f[3] for f in got[dst.label]]
        check(seqs == list(range(ORDERED)),
              f"{src.label} -> {dst.label}: {len(seqs)} of {ORDERED} frames, in order: {seqs == sorted(seqs)}")
        expect_counts(got, {e.label: (ORDERED if e is dst else 0) for e in eps}, f"{ORDERED} unicast frames")
    say(f"{ORDERED} sequence-numbered frames per flow arrived complete and in order")

    got = exchange(b, eps, lambda: b.send(BROADCAST, n=FLOOD))
    expect_counts(got, {e.label: (0 if e is b else FLOOD) for e in eps}, f"{FLOOD} broadcast frames from b")
    stats = sw.ctl("show", "stats")
    check(stats["frame_copies"] == 0, f"the switch copied frame data: {stats['frame_copies']}")
    say(f"flooding: exactly {FLOOD} copies at a, c and d, none back at b; 0 frame copies")

    slack = STASH_SLACK * (expected if kind == "tap" else 0)  # per rx queue
    wait_for(lambda: sw.ctl("show", "stats")["pool"]["in_use"] <= baseline + slack,
             f"the mbuf pool to return to its baseline ({baseline} + {slack})")
    say(f"mbuf pool back to baseline ({baseline}, now {sw.ctl('show', 'stats')['pool']['in_use']})")

    for e in eps:
        e.close()
    time.sleep(1)  # let the last ARP/ND settle before measuring idleness
    before = cpu_ticks(sw.pid)
    time.sleep(IDLE_SECONDS)
    used = (cpu_ticks(sw.pid) - before) / os.sysconf("SC_CLK_TCK")
    pct = 100.0 * used / IDLE_SECONDS
    say(f"idle: {used:.2f} s of CPU in {IDLE_SECONDS} s ({pct:.2f}% of a core)")
    check(pct <= 1.0, f"an idle switch used {pct:.2f}% of a core (at most 1%)")
    sw.stop()


if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "tap"
    tslib.main("wk" if kind == "tap" else "wn", lambda t: test(t, kind))
