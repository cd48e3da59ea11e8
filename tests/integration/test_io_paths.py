#!/usr/bin/python3
"""The io_uring path and the read/write path of raw-fd taps forward identical frame sequences.

Three namespaces: a sends, b (offload=off) and c (offload=on) capture. The same switch setup
runs four times: with --tap-io uring, with --tap-io syscall, with --tap-io uring where
io_uring is refused (io_uring_setup fails with ENOSYS under a seccomp filter, tests/integration/
no_uring.cpp), so the switch must fall back to read/write, and with --tap-io auto (the default),
whose one log line says which it chose; each time a sends one fixed sequence
through a packet socket with PACKET_VNET_HDR:
  - 300 frames of many sizes (60 to 1518 bytes), broadcast, multicast and unknown unicast,
    some 802.1Q-tagged, each numbered;
  - 4 TCP GSO frames (b gets them cut, c whole);
  - a final marker.
What b and c capture must be, byte for byte and in order, the same in every run; the plain
frames must also be exactly those sent, in order. Each run's ports must report the I/O path
asked for (or chosen), or read/write in the refused run, whose log must say why once (unless this kernel
refuses io_uring anyway, which the log says, and the test then skips).
"""
import re
import struct

import tslib
from tslib import check, say
from tsoffload import GSO_TCPV4, RawSocket, build_packet, fastio, vnet_hdr

SRC = bytes.fromhex("0200000000a1")
DSTS = [bytes.fromhex("ffffffffffff"), bytes.fromhex("01005e000001"), bytes.fromhex("0200000000b2")]
SIZES = [60, 61, 64, 100, 127, 128, 500, 999, 1000, 1499, 1514]
ET_TEST = 0x88B5


def sequence():
    """[(frame, vnet header or None)]: the same every time."""
    out = []
    for i in range(300):
        dst = DSTS[i % len(DSTS)]
        size = SIZES[i % len(SIZES)]
        if i % 7 == 3:  # tagged: may be 4 bytes longer
            head = dst + SRC + struct.pack("!HHH", 0x8100, 100 + i % 5, ET_TEST)
            size += 4
        else:
            head = dst + SRC + struct.pack("!H", ET_TEST)
        body = b"SEQ!" + struct.pack("!I", i)
        body += bytes((i + k) & 0xFF for k in range(size - len(head) - len(body)))
        out.append((head + body, None))
    for j, n in enumerate((3000, 10000, 20000, 40000)):
        payload = bytes((j * 31 + k) & 0xFF for k in range(n))
        f = build_packet("ff:ff:ff:ff:ff:ff", SRC.hex(":"), payload, seq=100000 * (j + 1), partial=True)
        out.append((f, vnet_hdr(GSO_TCPV4, 1448, 34, 16, 54)))
    out.append((DSTS[0] + SRC + struct.pack("!H", ET_TEST) + b"MARK".ljust(46, b"\0"), None))
    return out


def ours(f):
    return f[6:12] == SRC


def run(t, io, ns, names, refused=False):
    wrap = [tslib.binary("NO_URING", "no_uring")] if refused else []
    sw = t.daemon([f"tap:{names['a']},offload=on", f"tap:{names['b']},offload=off",
                   f"tap:{names['c']},offload=on"], args=["--tap-io", io], wrap=wrap)
    for s in "abc":
        ns[s].take(names[s])
    said = sw.log().count("io_uring is not available")
    if io == "auto":  # the default: the switch says what it chose, and the ports must use it
        chosen = re.findall(r"raw-fd tap I/O: (io_uring|read/write) \(--tap-io auto: a system call costs ([0-9.]+) us",
                            sw.log())
        check(len(chosen) == 1, f"--tap-io auto: expected one line saying what it chose:\n{sw.log()}")
        io = "uring" if chosen[0][0] == "io_uring" and not said else "syscall"
        say(f"auto: {chosen[0][0]} (a system call costs {chosen[0][1]} us)")
    if refused:
        check(said == 1, f"refused run: expected one line saying io_uring is not available:\n{sw.log()}")
        io = "syscall"  # what the ports must fall back to
    elif io == "uring" and said:
        say("SKIP: io_uring is refused on this machine: " + sw.log())
        sw.stop()
        return None
    for n, p in sw.ports().items():
        check(p["details"]["rx_io"] == io and p["details"]["tx_io"] == io, f"port {n} uses {p['details']}")
    tx = RawSocket(ns["a"], names["a"], vnet=True)
    rx = {s: RawSocket(ns[s], names[s]) for s in "bc"}
    for r in rx.values():
        r.flush()
    for f, hdr in sequence():
        tx.send(f, hdr)
    got = {}
    for s, r in rx.items():
        got[s] = r.collect(ours, 10, until=lambda g: g and g[-1][14:18] == b"MARK")
        check(got[s] and got[s][-1][14:18] == b"MARK", f"{io}: the marker never reached {s}")
    for sock in (tx, *rx.values()):
        sock.close()
    ports = sw.ports()
    for n, p in ports.items():
        # (Frames flooded before a tap was brought up in its namespace: its link was down.)
        bad = {k: v for k, v in p["drops"].items() if v and k != "tx_link_down"}
        check(not bad, f"{io}: port {n} dropped {bad}")
    sw.stop()
    say(f"{io}{' (io_uring refused)' if refused else ''}: b captured {len(got['b'])} frames, c {len(got['c'])}")
    return got


def test(t):
    fastio(t)
    names = {s: t.name(s) for s in "abc"}
    ns = {s: t.netns(s) for s in "abc"}
    uring = run(t, "uring", ns, names)
    if uring is None:
        tslib.sys.exit(tslib.SKIP)
    syscall = run(t, "syscall", ns, names)
    fallback = run(t, "uring", ns, names, refused=True)
    automatic = run(t, "auto", ns, names)
    # A packet socket reads 802.1Q frames with their tag taken out (it is in the aux data).
    sent_plain = [f[:12] + f[16:] if f[12:14] == b"\x81\x00" else f for f, hdr in sequence() if hdr is None]
    for s in "bc":
        plain = [f for f in uring[s] if struct.unpack("!H", f[12:14])[0] in (ET_TEST, 0x8100)]
        wrong = [i for i, (x, y) in enumerate(zip(plain, sent_plain)) if x != y]
        check(len(plain) == len(sent_plain) and not wrong,
              f"{s}: {len(plain)} plain frames of {len(sent_plain)} sent; these differ: {wrong[:10]}")
        check(len(uring[s]) == len(syscall[s]), f"{s}: {len(uring[s])} frames with io_uring, {len(syscall[s])} without")
        diff = [i for i, (x, y) in enumerate(zip(uring[s], syscall[s])) if x != y]
        check(not diff, f"{s}: frames {diff[:10]} differ between io_uring and read/write")
        check(fallback[s] == syscall[s], f"{s}: the fallback run's frames differ from read/write's")
        check(automatic[s] == syscall[s], f"{s}: --tap-io auto's frames differ from read/write's")
    check(len(uring["b"]) == 301 + 3 + 7 + 14 + 28, f"b: {len(uring['b'])} frames, expected the GSO frames cut")
    check(len(uring["c"]) == 301 + 4, f"c: {len(uring['c'])} frames, expected the GSO frames whole")
    say("io_uring, read/write, auto and the fallback from a refused io_uring: identical sequences at b "
        "(segmented) and c (whole)")


if __name__ == "__main__":
    tslib.main("io", test)
