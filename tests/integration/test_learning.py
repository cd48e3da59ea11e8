#!/usr/bin/python3
"""Learning shows in `show fdb -j` (mac, vlan, port, type), and `show ports -j` counters move
by exactly what was sent.

Three namespaces on mixed port kinds. Each sends one frame; its MAC must appear on its own port.
Frames with a multicast, broadcast or all-zero source are dropped and counted, never learned. A MAC that moves to
another port is re-learned there. N known-unicast frames move the ingress port's rx counter and
the egress port's tx counter by exactly N, and no other port's tx counter.
"""
import tslib
from tslib import check, say
from tsframes import BROADCAST, Endpoint, exchange, expect_counts

N = 25
MOVER = "02:54:53:00:00:01"


def test(t):
    names = [t.name(s) for s in "abc"]
    nss = [t.netns(s) for s in "abc"]
    ports = [f"tap:{names[0]}", f"dpdk:net_tap0,iface={names[1]}", f"tap:{names[2]}"]
    sw = t.daemon(ports)
    for ns, name in zip(nss, names):
        ns.take(name)  # no IP address: the kernel sends nothing, so counts are exact
    a, b, c = eps = [Endpoint(ns, name) for ns, name in zip(nss, names)]

    # Each host speaks once (broadcast); the switch learns each MAC on its own port.
    for e in eps:
        got = exchange(e, eps, lambda: e.send(BROADCAST))
        expect_counts(got, {x.label: (0 if x is e else 1) for x in eps}, f"broadcast from {e.label}")
    for e in eps:
        entry = sw.wait_learned(e.mac, e.ifname)
        check(entry["vlan"] == 0 and entry["type"] == "dynamic",
              f"fdb entry for {e.mac}: expected vlan 0 and type dynamic, got {entry}")
    fdb = sw.fdb()
    for entry in fdb:
        check(set(entry) >= {"mac", "vlan", "port", "type"}, f"fdb entry lacks a field: {entry}")
    macs = [entry["mac"] for entry in fdb]
    check(len(macs) == len(set(macs)), f"a MAC is listed twice: {fdb}")
    say(f"learned: {[(x['mac'], x['port']) for x in fdb]}")

    # Multicast, broadcast and all-zero sources are no station's: dropped (bad_source), never
    # learned, as the Linux bridge does.
    bad_sources = ["01:00:5e:00:00:05", BROADCAST, "00:00:00:00:00:00"]
    before = sw.ports()[a.ifname]["drops"].get("bad_source", 0)
    got = exchange(a, eps, lambda: [a.send(b.mac, src=s) for s in bad_sources])
    expect_counts(got, {a.label: 0, b.label: 0, c.label: 0}, "unicast frames with invalid sources")
    dropped = sw.ports()[a.ifname]["drops"].get("bad_source", 0) - before
    check(dropped == 3, f"{a.ifname} counted {dropped} bad_source drops, expected 3")
    for s in bad_sources:
        check(sw.fdb_entry(s) is None, f"{s} was learned: {sw.fdb()}")

    # A MAC moves: seen first behind a, then behind c.
    exchange(a, eps, lambda: a.send(BROADCAST, src=MOVER))
    sw.wait_learned(MOVER, a.ifname)
    exchange(c, eps, lambda: c.send(BROADCAST, src=MOVER))
    sw.wait_learned(MOVER, c.ifname)
    got = exchange(b, eps, lambda: b.send(MOVER, n=3))
    expect_counts(got, {a.label: 0, b.label: 0, c.label: 3}, "unicast to a MAC that moved from a to c")

    # Counters: N known-unicast frames a -> b, plus the marker (a broadcast) at the end.
    before = sw.ports()
    got = exchange(a, eps, lambda: a.send(b.mac, n=N))
    expect_counts(got, {a.label: 0, b.label: N, c.label: 0}, f"{N} known unicast frames a -> b")
    after = sw.ports()

    def delta(port, *path):
        x, y = after[port], before[port]
        for k in path:
            x, y = x[k], y[k]
        return x - y

    want = {
        (a.ifname, "rx_packets"): N + 1, (a.ifname, "switch", "rx_packets"): N + 1,
        (a.ifname, "tx_packets"): 0, (a.ifname, "flooded"): 1,
        (b.ifname, "tx_packets"): N + 1, (b.ifname, "switch", "tx_packets"): N + 1,
        (b.ifname, "rx_packets"): 0,
        (c.ifname, "tx_packets"): 1, (c.ifname, "switch", "tx_packets"): 1,
        (c.ifname, "rx_packets"): 0,
    }
    wrong = [f"{'.'.join(k)} moved by {delta(*k)}, expected {v}" for k, v in want.items() if delta(*k) != v]
    check(not wrong, "show ports counters: " + "; ".join(wrong))
    for name in after:
        check(delta(name, "dropped") == 0, f"port {name} dropped frames: {after[name]['drops']}")
    sw.stop()


if __name__ == "__main__":
    tslib.main("le", test)
