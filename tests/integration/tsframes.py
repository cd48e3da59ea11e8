"""tsframes: exact Ethernet frames sent and counted from inside network namespaces.

An Endpoint is an AF_PACKET socket on one interface of one namespace, bound to the test
ethertype 0x88b5 (IEEE local experimental), so nothing but the test's own frames is counted.
The socket is created inside the namespace (setns on this thread, then back), and keeps
belonging to it afterwards, so one process drives every namespace.

Counting is exact without timing: after its test frames, the sender sends a broadcast marker.
A switch keeps the order of frames between one ingress and one egress port, so once every
receiver has seen the marker, every test frame that was going to arrive has arrived. A short
linger after that catches anything late, which can only make a test stricter.
"""
import contextlib
import ctypes
import fcntl
import os
import select
import socket
import struct
import time

from tslib import TestFailure, check

ETH_P_TEST = 0x88B5
BROADCAST = "ff:ff:ff:ff:ff:ff"
PACKET_OUTGOING = 4
CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_MULTI_QUEUE = 0x0100
MAGIC = b"TSWT"
KIND_TEST = 1
KIND_MARKER = 2

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


@contextlib.contextmanager
def netns_entered(name):
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(target)
        os.close(own)


def open_tap(name, flags=0):
    """Opens /dev/net/tun and creates (or attaches to) tap NAME, IFF_TAP | IFF_NO_PI | flags."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TAP | IFF_NO_PI | flags))
    except OSError:
        os.close(fd)
        raise
    return fd


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def frame(dst, src, seq, kind=KIND_TEST):
    """A 60-byte test frame; the payload carries MAGIC, the test's pid, a kind and a sequence."""
    payload = MAGIC + struct.pack("!IBI", os.getpid(), kind, seq)
    f = mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", ETH_P_TEST) + payload
    return f.ljust(60, b"\0")


def parse(data):
    """(dst, src, kind, seq) of one of this process's test frames, else None."""
    if len(data) < 14 + 13 or data[14:18] != MAGIC:
        return None
    pid, kind, seq = struct.unpack("!IBI", data[18:27])
    if pid != os.getpid():
        return None
    return mac_str(data[0:6]), mac_str(data[6:12]), kind, seq


class Endpoint:
    """One namespace's interface, as a test host: its MAC, and a socket to send and count."""

    def __init__(self, ns, ifname, label=None):
        self.ns = ns
        self.ifname = ifname
        self.label = label or ifname
        self.mac = ns.mac(ifname)
        with ns.enter():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            s.bind((ifname, ETH_P_TEST))
        s.setblocking(False)
        self.sock = s
        self.got = []

    def close(self):
        self.sock.close()

    def send(self, dst, n=1, src=None, seq0=0, kind=KIND_TEST):
        for i in range(n):
            self.sock.send(frame(dst, src or self.mac, seq0 + i, kind))

    def drain(self):
        """Reads what is queued; keeps this process's frames that came in (not our own sends)."""
        while True:
            try:
                data, addr = self.sock.recvfrom(65536)
            except BlockingIOError:
                return
            if addr[2] == PACKET_OUTGOING:
                continue
            f = parse(data)
            if f:
                self.got.append(f)

    def frames(self, kind=KIND_TEST):
        return [f for f in self.got if f[2] == kind]

    def reset(self):
        self.drain()
        self.got = []


_marker_seq = [1000000]


def exchange(sender, endpoints, send, linger=0.3, timeout=10.0):
    """Clears every endpoint, runs send(), then has `sender` broadcast a marker and collects
    until every other endpoint saw it, plus `linger` seconds. Returns {label: [frames]}
    (test frames only; a marker reaching the sender itself is kept and fails the caller)."""
    for e in endpoints:
        e.reset()
    send()
    _marker_seq[0] += 1
    seq = _marker_seq[0]
    sender.send(BROADCAST, seq0=seq, kind=KIND_MARKER)
    waiting = [e for e in endpoints if e is not sender]
    deadline = time.monotonic() + timeout
    while waiting:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TestFailure("the marker broadcast from {} never reached {}".format(
                sender.label, ", ".join(e.label for e in waiting)))
        select.select([e.sock for e in waiting], [], [], left)
        for e in waiting:
            e.drain()
        waiting = [e for e in waiting if not any(f[2] == KIND_MARKER and f[3] == seq for f in e.got)]
    end = time.monotonic() + linger
    while (left := end - time.monotonic()) > 0:
        select.select([e.sock for e in endpoints], [], [], left)
        for e in endpoints:
            e.drain()
    out = {}
    for e in endpoints:
        own_markers = [f for f in e.got if f[2] == KIND_MARKER and e is sender]
        out[e.label] = e.frames() + own_markers
    return out


def expect_counts(got, expected, what):
    """Checks {label: n frames} exactly, with a readable message naming every mismatch."""
    wrong = [f"{k}: got {len(got[k])}, expected {n}" for k, n in expected.items() if len(got[k]) != n]
    check(not wrong, f"{what}: " + "; ".join(wrong))
