#!/usr/bin/python3
"""GSO frames leave whole where the egress takes them, and are cut, with correct checksums,
where it does not.

Five namespaces, one port each:
  a  tap, offload=on   the sender: a packet socket with PACKET_VNET_HDR hands a's kernel exact
                       GSO frames (TCP/IPv4, TCP/IPv6, UDP GSO over both), which a's tap passes
                       to the switch whole
  b  tap, offload=off  must get the segments: each with right IP and L4 checksums, at most the
                       MTU, TCP sequence numbers in order, the payload intact
  c  net_tap           the same
  d  tap, offload=on   must get each GSO frame whole
  e  tap, offload=on, mtu=1000   TCP cut to its MTU though it takes TSO; UDP GSO datagrams are
                       larger than its MTU and cannot be re-cut: dropped, counted as oversize
Broadcast GSO frames reach every port (a shared frame: segmented by copy), then a unicast one
reaches b alone (a private frame: segmented by librte_gso). Last, a UDP GSO frame longer than one
read of a tap brings whole is cut by a's kernel (the switch lowered a's gso_max_size) and arrives.
"""
import struct

import tslib
from tslib import check, say
from tsoffload import (GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4, RawSocket, build_packet, fastio, parse_packet,
                       vnet_hdr)

BCAST = "ff:ff:ff:ff:ff:ff"
SRC = "02:00:00:00:00:a1"
CASES = [  # name, v6, udp, payload, gso_size
    ("tcp4", False, False, 30000, 1448),
    ("tcp6", True, False, 20000, 1428),
    ("udp4", False, True, 6000, 1200),
    ("udp6", True, True, 4000, 1200),
]


def flow(f):
    p = parse_packet(f)
    return p is not None and p[1]["sport"] == 40000


def send_gso(sock, dst, v6, udp, payload_len, mss, seq=5000):
    payload = bytes((i * 7 + 3) & 0xFF for i in range(payload_len))
    f = build_packet(dst, SRC, payload, v6=v6, udp=udp, seq=seq, partial=True)
    l3 = 40 if v6 else 20
    l4 = 8 if udp else 20
    gso = GSO_UDP_L4 if udp else (GSO_TCPV6 if v6 else GSO_TCPV4)
    sock.send(f, vnet_hdr(gso, mss, 14 + l3, 6 if udp else 16, 14 + l3 + l4))
    return payload


def check_segments(where, frames, payload, max_len, mss, udp, seq=5000):
    check(frames, f"{where}: nothing arrived")
    want = -(-len(payload) // mss)
    check(len(frames) == want, f"{where}: {len(frames)} frames, expected {want} segments")
    got = b""
    for i, f in enumerate(frames):
        ok, info = parse_packet(f)
        check(ok, f"{where}: segment {i} has a wrong checksum or length")
        check(len(f) <= max_len, f"{where}: segment {i} is {len(f)} bytes, over {max_len}")
        check(len(info["payload"]) <= mss, f"{where}: segment {i} carries {len(info['payload'])} > {mss}")
        if not udp:
            check(info["seq"] == seq + len(got), f"{where}: segment {i} seq {info['seq']} out of order")
            check(bool(info["flags"] & 0x08) == (i == len(frames) - 1), f"{where}: PSH not only on the last")
        got += info["payload"]
    check(got == payload, f"{where}: the payload differs after segmentation")


def test(t):
    fastio(t)
    sfx = "abcde"
    names = {s: t.name(s) for s in sfx}
    sw = t.daemon([f"tap:{names['a']},offload=on", f"tap:{names['b']},offload=off",
                   f"dpdk:net_tap0,iface={names['c']}", f"tap:{names['d']},offload=on",
                   f"tap:{names['e']},offload=on,mtu=1000"])
    ns = {s: t.netns(s) for s in sfx}
    for s in sfx:
        ns[s].take(names[s])
    ports = sw.ports()
    offl = ports[names["a"]]["details"]["offloads"]
    say(f"a's offloads: {offl}; e's MTU: {ports[names['e']]['details']['mtu']}")
    check("tso4" in offl and "tso6" in offl, f"the kernel took no TSO on a: {offl}")
    uso = "uso" in offl
    tx = RawSocket(ns["a"], names["a"], vnet=True)
    rx = {s: RawSocket(ns[s], names[s]) for s in "bcde"}
    for r in rx.values():
        r.flush()
    base = sw.ports()  # frames flooded to a port before it was up failed to be written (EIO)

    for name, v6, udp, size, mss in CASES:
        if udp and not uso:
            say(f"{name}: skipped, this kernel takes no UDP GSO on a tap")
            continue
        payload = send_gso(tx, BCAST, v6, udp, size, mss)
        full = 14 + (40 if v6 else 20) + (8 if udp else 20) + size
        segs = -(-size // mss)
        want = {"b": segs, "c": segs, "d": 1, "e": 0 if udp else -(-size // (1000 - (40 if v6 else 20) - 20))}
        got = {s: r.collect(flow, 5 if want[s] else 1, until=lambda g, s=s: want[s] and len(g) >= want[s])
               for s, r in rx.items()}
        check_segments(f"{name} at b (offload=off)", got["b"], payload, 1514, mss, udp)
        check_segments(f"{name} at c (net_tap)", got["c"], payload, 1514, mss, udp)
        check(len(got["d"]) == 1 and len(got["d"][0]) == full,
              f"{name} at d (offload=on): expected one frame of {full} bytes, got {[len(f) for f in got['d']]}")
        check(parse_packet(got["d"][0])[1]["payload"] == payload, f"{name} at d: the payload differs")
        if udp:
            check(not got["e"], f"{name} at e (MTU 1000): datagrams larger than the MTU arrived")
        else:
            check_segments(f"{name} at e (MTU 1000)", got["e"], payload, 1014, 1000 - (40 if v6 else 20) - 20, udp)
        say(f"{name}: {size} bytes in one GSO frame -> {segs} segments at b and c, whole at d, "
            f"{'dropped' if udp else str(len(got['e'])) + ' segments'} at e")

    # Unicast to b: b's MAC is learned first, so the frame goes to b alone, unshared.
    b_mac = ns["b"].mac(names["b"])
    rx["b"].sock.send(bytes.fromhex(BCAST.replace(":", "") + b_mac.replace(":", "")) + struct.pack("!H", 0x88B5) + bytes(46))
    sw.wait_learned(b_mac, names["b"])
    for r in rx.values():
        r.flush()
    payload = send_gso(tx, b_mac, False, False, 40000, 1448, seq=9000)
    got = {s: r.collect(flow, 5 if s == "b" else 1, until=lambda g, s=s: s == "b" and len(g) >= 28)
           for s, r in rx.items()}
    check_segments("unicast tcp4 at b", got["b"], payload, 1514, 1448, False, seq=9000)
    check(not got["c"] and not got["d"] and not got["e"], "the unicast frame reached other ports")
    say("unicast tcp4: 40000 bytes -> 28 segments at b only")

    big_segs = 0
    if uso:
        # A UDP GSO datagram near the 64 KB IP limit is longer than one read of a's fd brings
        # whole (65,406 bytes, ports/tap_frames.h). The switch capped a's gso_max_size, so a's
        # kernel cuts it before the switch sees it, instead of the switch dropping it.
        for r in rx.values():
            r.flush()
        big, mss = 65400, 1400
        big_segs = -(-big // mss)
        payload = send_gso(tx, BCAST, False, True, big, mss)
        got_b = rx["b"].collect(flow, 5, until=lambda g: len(g) >= big_segs)
        check_segments(f"udp4 GSO frame of {14 + 20 + 8 + big} bytes at b", got_b, payload, 1514, mss, True)
        say(f"udp4: a {14 + 20 + 8 + big}-byte GSO frame is cut by a's kernel and arrives as {big_segs} datagrams")

    ports = sw.ports()
    for n, p in ports.items():
        for k in ("no_mbuf", "bad_offload", "tx_full", "rx_errors", "tx_errors"):
            d = p["drops"].get(k, 0) - base[n]["drops"].get(k, 0)
            check(d == 0, f"port {n}: {d} more {k} ({p['details']})")
    check(ports[names["a"]]["drops"]["rx_oversize"] == 0, f"a: rx_oversize {ports[names['a']]['drops']['rx_oversize']}")
    want_oversize = 2 + big_segs if uso else 0  # e (MTU 1000) drops the UDP datagrams
    check(ports[names["e"]]["drops"]["oversize"] == want_oversize,
          f"e: oversize {ports[names['e']]['drops']['oversize']}, expected {want_oversize}")
    for s in (tx, *rx.values()):
        s.close()
    sw.stop()


if __name__ == "__main__":
    tslib.main("gs", test)
