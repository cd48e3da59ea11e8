#!/usr/bin/python3
"""No frame ever comes back out of its ingress port.

Three namespaces, one per port kind that has a kernel side here: raw-fd tap, net_tap, and
af_packet on a veth. Each in turn sends known unicast, broadcast, multicast, unknown unicast,
and unicast to a MAC learned on its own port. Its own namespace must see none of them come
back; the others see exactly what a learning bridge delivers; the frames to its own port are
dropped and counted as same_port.
"""
import tslib
from tslib import check, say
from tsframes import BROADCAST, Endpoint, exchange, expect_counts

N = 5
MULTICAST = "01:00:5e:01:02:03"
UNKNOWN = "02:54:53:00:00:99"


def local_mac(i):
    return f"02:54:53:00:01:{i:02x}"  # a MAC that lives behind port i


def test(t):
    names = [t.name(s) for s in "abc"]
    nss = [t.netns(s) for s in "abc"]
    host, _ = t.veth("ch", "c")
    ports = [f"tap:{names[0]}", f"dpdk:net_tap0,iface={names[1]}", f"dpdk:net_af_packet0,iface={host}"]
    sw = t.daemon(ports)
    for ns, name in zip(nss, names):
        ns.take(name)
    eps = [Endpoint(ns, name) for ns, name in zip(nss, names)]
    port_of = {e.label: p for e, p in zip(eps, [names[0], names[1], host])}

    # Every host and its extra local MAC are learned on their own ports.
    for i, e in enumerate(eps):
        exchange(e, eps, lambda: (e.send(BROADCAST), e.send(BROADCAST, src=local_mac(i))))
    for i, e in enumerate(eps):
        sw.wait_learned(e.mac, port_of[e.label])
        sw.wait_learned(local_mac(i), port_of[e.label])

    for i, s in enumerate(eps):
        peer = eps[(i + 1) % len(eps)]
        others = [e for e in eps if e is not s]
        before = sw.ports()[port_of[s.label]]

        def burst():
            s.send(peer.mac, n=N, seq0=0)          # known unicast
            s.send(BROADCAST, n=N, seq0=100)       # broadcast
            s.send(MULTICAST, n=N, seq0=200)       # multicast
            s.send(UNKNOWN, n=N, seq0=300)         # unknown unicast
            s.send(local_mac(i), n=N, seq0=400)    # destination on the ingress port
            s.send(s.mac, n=N, seq0=500)           # to itself: destination on the ingress port
        got = exchange(s, eps, burst)
        expected = {s.label: 0}
        for e in others:
            expected[e.label] = 3 * N + (N if e is peer else 0)
        expect_counts(got, expected, f"frames sent from {s.label}")
        check(not got[s.label], f"{s.label} received its own frames back: {got[s.label][:5]}")
        after = sw.ports()[port_of[s.label]]
        same = after["drops"]["same_port"] - before["drops"]["same_port"]
        check(same == 2 * N, f"{s.label}: {same} frames counted as same_port drops, expected {2 * N}")
        check(after["tx_packets"] == before["tx_packets"],
              f"{s.label}'s port transmitted {after['tx_packets'] - before['tx_packets']} frames "
              f"while only its own host was sending")
        say(f"{s.label}: {sum(expected.values())} frames delivered to the others, none back, "
            f"{same} dropped as same_port")
    sw.stop()


if __name__ == "__main__":
    tslib.main("nh", test)
