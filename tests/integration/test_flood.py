#!/usr/bin/python3
"""Unknown unicast reaches every other namespace, and stops flooding once the destination is
learned, checked with exact frame counts.

Four namespaces on mixed port kinds: a sends, b will own the destination MAC, c and d are the
third parties. N frames to a MAC nobody has sent from reach b, c and d exactly N times each.
Then b sends one frame from that MAC; once `show fdb` has it on b's port, N more frames reach b
exactly N times and c and d not at all. a never sees any of them.
"""
import tslib
from tslib import say
from tsframes import Endpoint, exchange, expect_counts

N = 20
DEST = "02:54:53:00:00:0b"  # a MAC no host has; b takes it over later


def test(t):
    names = [t.name(s) for s in "abcd"]
    nss = [t.netns(s) for s in "abcd"]
    ports = [f"tap:{names[0]}", f"dpdk:net_tap0,iface={names[1]}",
             f"tap:{names[2]}", f"dpdk:net_tap1,iface={names[3]}"]
    sw = t.daemon(ports)
    for ns, name in zip(nss, names):
        ns.take(name)
    a, b, c, d = eps = [Endpoint(ns, name) for ns, name in zip(nss, names)]

    got = exchange(a, eps, lambda: a.send(DEST, n=N))
    expect_counts(got, {a.label: 0, b.label: N, c.label: N, d.label: N},
                  f"{N} frames to unknown {DEST}")
    for e in (b, c, d):
        seqs = sorted(f[3] for f in got[e.label])
        tslib.check(seqs == list(range(N)), f"{e.label} got frames {seqs}, expected 0..{N - 1} once each")
    say(f"unknown unicast: b, c and d each got the {N} frames")

    # b sends from DEST, so the switch learns DEST on b's port.
    got = exchange(b, eps, lambda: b.send(a.mac, src=DEST))
    expect_counts(got, {a.label: 1, b.label: 0, c.label: 0, d.label: 0}, "b's frame from DEST to a")
    sw.wait_learned(DEST, b.ifname)

    got = exchange(a, eps, lambda: a.send(DEST, n=N, seq0=N))
    expect_counts(got, {a.label: 0, b.label: N, c.label: 0, d.label: 0},
                  f"{N} frames to {DEST} once learned on b")
    seqs = sorted(f[3] for f in got[b.label])
    tslib.check(seqs == list(range(N, 2 * N)), f"b got frames {seqs}, expected {N}..{2 * N - 1} once each")
    say(f"known unicast: b got {N}, c and d got 0")
    sw.stop()


if __name__ == "__main__":
    tslib.main("fl", test)
