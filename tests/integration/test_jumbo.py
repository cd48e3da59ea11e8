#!/usr/bin/python3
"""One meaning of MTU: jumbo frames pass end to end where every port allows them; a frame
longer than the egress MTU is dropped and counted, never truncated.

Three namespaces: a (raw-fd tap, mtu=9000), b (raw-fd tap, mtu=9000, offload=off) and c
(net_tap at 1500: DPDK 22.11's net_tap takes no MTU above 1504, and mtu=9000 on it is
refused at start with that reason). The ports set their interfaces' MTU, which the namespaces
keep.
  1. ping -s 8972 -M do (9014-byte frames) between a and b both ways; 8 MB over TCP a->b and
     b->a with sha256 (b, without offloads, sends real 9014-byte frames; a sends GSO frames cut
     to 9014 bytes for b). Jumbo pings from a to c are dropped at c, counted as `oversize`;
     TCP a->c and c->b pass (the kernels agree on the smaller MSS);
  2. b's MTU goes down to 1500 inside its namespace; the switch follows (show ports), and
     8972-byte pings from a to b get no reply: b's port counts each as `oversize`. TCP a->b
     still works with its data intact.
"""
import os

import tslib
from tslib import check, say, wait_for
from tsoffload import fastio, tcp_transfer

BIG = 8972  # ICMP payload of a 9000-byte IPv4 packet


def ping(ns, ip, size, count=3):
    return ns.exec("ping", "-c", str(count), "-i", "0.2", "-W", "1", "-s", str(size), "-M", "do", "-q", ip,
                   check=False)


def test(t):
    fastio(t)
    names = {s: t.name(s) for s in "abc"}
    r = tslib.sh(t.tapswitch, "--ctl", os.path.join(t.tmp, "refused.sock"),
                 "--port", f"dpdk:net_tap0,iface={names['c']},mtu=9000", check=False)
    check(r.returncode == 2 and "takes an MTU of at most" in r.stderr, f"net_tap mtu=9000: {r.stderr}")
    sw = t.daemon([f"tap:{names['a']},mtu=9000", f"tap:{names['b']},mtu=9000,offload=off",
                   f"dpdk:net_tap0,iface={names['c']}"])
    ns = {s: t.netns(s) for s in "abc"}
    ips = {"a": "10.79.1.1", "b": "10.79.1.2", "c": "10.79.1.3"}
    for s in "abc":
        ns[s].take(names[s], ips[s] + "/24")
        mtu = ns[s].exec("cat", f"/sys/class/net/{names[s]}/mtu").stdout.strip()
        check(mtu == ("1500" if s == "c" else "9000"), f"{names[s]} has MTU {mtu} in its namespace")
    mtus = {n: p["details"]["mtu"] for n, p in sw.ports().items()}
    check(mtus == {names["a"]: 9000, names["b"]: 9000, names["c"]: 1500}, f"port MTUs: {mtus}")

    # Learn every MAC first: a jumbo frame flooded to c (MTU 1500) would be, rightly, oversize.
    for x, y in (("a", "b"), ("a", "c"), ("b", "c")):
        ping(ns[x], ips[y], 56, count=1)
    for s in "abc":
        sw.wait_learned(ns[s].mac(names[s]), names[s])
    base = sw.ports()
    for x, y in (("a", "b"), ("b", "a")):
        r = ping(ns[x], ips[y], BIG)
        if r.returncode != 0:  # the first may cost an ARP exchange
            r = ping(ns[x], ips[y], BIG)
        check(r.returncode == 0, f"{BIG}-byte ping {x} -> {y} failed: {r.stdout.strip()}")
    say("9014-byte frames pass between a and b")
    for x, y in (("a", "b"), ("b", "a"), ("a", "c"), ("c", "b")):
        tcp_transfer(t, ns[x], ns[y], ips[y], nbytes=8 << 20, port=5310)
    say("8 MB over TCP a->b, b->a (MTU 9000), a->c, c->b (MSS of 1500): sha256 equal")
    ports = sw.ports()
    for n, p in ports.items():
        for k in ("oversize", "bad_offload", "no_mbuf", "rx_oversize"):
            d = p["drops"].get(k, 0) - base[n]["drops"].get(k, 0)
            check(d == 0, f"port {n}: {d} more {k}")
    b_rx = ports[names["b"]]["switch"]
    check(b_rx["rx_bytes"] / b_rx["rx_packets"] > 4000, "b sent no jumbo frames")
    r = ping(ns["a"], ips["c"], BIG, count=4)
    check(" 0 received" in r.stdout, f"jumbo pings to c (net_tap, MTU 1500) got replies: {r.stdout}")
    dropped = sw.ports()[names["c"]]["drops"]["oversize"] - base[names["c"]]["drops"]["oversize"]
    check(dropped == 4, f"c counted {dropped} oversize drops for 4 jumbo pings")
    stats = {p["name"]: p for p in sw.ctl("show", "stats")["ports"]}[names["c"]]
    want = sw.ports()[names["c"]]["drops"]["oversize"]
    check(stats["drops"]["oversize"] == want and stats["dropped"] >= want,
          f"show stats: c's oversize drops {stats['drops']} (dropped {stats['dropped']}), show ports says {want}")
    say("jumbo pings to net_tap (MTU 1500): 4 dropped as oversize, never truncated")

    ns["b"].exec("ip", "link", "set", names["b"], "mtu", "1500")
    wait_for(lambda: sw.ports()[names["b"]]["details"]["mtu"] == 1500, "the switch to see b's MTU of 1500")
    before = sw.ports()[names["b"]]["drops"]["oversize"]
    r = ping(ns["a"], ips["b"], BIG, count=4)
    check(r.returncode != 0 and " 0 received" in r.stdout, f"{BIG}-byte pings to b (MTU 1500) got replies: {r.stdout}")
    dropped = sw.ports()[names["b"]]["drops"]["oversize"] - before
    check(dropped == 4, f"b counted {dropped} oversize drops for 4 jumbo pings")
    check(ping(ns["a"], ips["b"], 1472).returncode == 0, "1500-byte pings to b failed")
    tcp_transfer(t, ns["a"], ns["b"], ips["b"], nbytes=8 << 20, port=5311)
    say("b at MTU 1500: 4 jumbo pings dropped as oversize; 1500-byte pings and TCP pass")
    sw.stop()


if __name__ == "__main__":
    tslib.main("jm", test)
