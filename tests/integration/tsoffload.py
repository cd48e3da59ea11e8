"""tsoffload: helpers for the offload, MTU and I/O-path tests of raw-fd taps.

  - tcp_transfer(): a file of random bytes sent over TCP between namespaces, checked by sha256;
  - build_packet(), parse_packet(): TCP/UDP over IPv4/IPv6 frames, and a checker of their IP
    and L4 checksums written here, independently of the switch;
  - RawSocket: an AF_PACKET socket inside a namespace, optionally with PACKET_VNET_HDR, so a
    test can hand the kernel a GSO frame (it then leaves through the tap whole) or capture
    what arrives.

Names created here use this suite's prefix: fastio(t) turns tslib's "ti" into "tv".
"""
import hashlib
import os
import select
import socket
import struct
import subprocess
import time

from tslib import TestFailure, check

SOL_PACKET = 263
PACKET_VNET_HDR = 15
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40

GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4 = 0, 1, 4, 5
NEEDS_CSUM = 1


def fastio(t):
    """Gives the test this suite's name prefix (tv...) before it creates anything."""
    t.prefix = "tv" + t.prefix[2:]


# ---------------------------------------------------------------------------------------------
# TCP transfer with a checksum of the data.

_SERVER = r"""
import hashlib, socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
print(n, h.hexdigest(), flush=True)
"""

_CLIENT = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
with open(sys.argv[3], "rb") as f:
    c.sendall(f.read())
c.shutdown(socket.SHUT_WR)
c.recv(1)
"""


def random_file(t, nbytes):
    path = os.path.join(t.tmp, f"random-{nbytes}")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(os.urandom(nbytes))
    with open(path, "rb") as f:
        return path, hashlib.sha256(f.read()).hexdigest()


def tcp_transfer(t, src_ns, dst_ns, dst_ip, nbytes=16 << 20, port=5301, timeout=90):
    """Sends nbytes of random data from src_ns to dst_ip (in dst_ns) over one TCP connection;
    fails unless the receiver got every byte with the same sha256."""
    path, digest = random_file(t, nbytes)
    server = subprocess.Popen(["ip", "netns", "exec", dst_ns.name, "python3", "-c", _SERVER,
                               "::" if ":" in dst_ip else "0.0.0.0", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        check(server.stdout.readline().strip() == "ready", "the TCP receiver did not start")
        t0 = time.monotonic()
        client = subprocess.run(["ip", "netns", "exec", src_ns.name, "python3", "-c", _CLIENT,
                                 dst_ip, str(port), path], capture_output=True, text=True, timeout=timeout)
        check(client.returncode == 0, f"TCP sender failed: {client.stderr.strip()}")
        out = server.communicate(timeout=timeout)[0].split()
        secs = time.monotonic() - t0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    check(len(out) == 2, f"TCP receiver said {out}")
    check(int(out[0]) == nbytes, f"TCP receiver got {out[0]} bytes of {nbytes}")
    check(out[1] == digest, f"sha256 differs: sent {digest}, received {out[1]}")
    return nbytes * 8 / secs / 1e9


# ---------------------------------------------------------------------------------------------
# Frames and their checksums.

def ones_sum(data, s=0):
    if len(data) % 2:
        data += b"\0"
    s += sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def _pseudo(src, dst, proto, l4len, v6):
    if v6:
        return src + dst + struct.pack("!IxxxB", l4len, proto)
    return src + dst + struct.pack("!xBH", proto, l4len)


def build_packet(dst_mac, src_mac, payload, v6=False, udp=False, seq=1000, ipid=0x100,
                 partial=False, vlan=None, ports=(40000, 5302)):
    """A TCP (PSH|ACK) or UDP packet. partial: the L4 checksum field holds only the pseudo-header
    sum (as a kernel leaves it for an offloaded checksum)."""
    proto = 17 if udp else 6
    if udp:
        l4 = struct.pack("!HHHH", ports[0], ports[1], 8 + len(payload), 0)
    else:
        l4 = struct.pack("!HHIIBBHHH", ports[0], ports[1], seq, 1, 5 << 4, 0x18, 65535, 0, 0)
    l4len = len(l4) + len(payload)
    if v6:
        src, dst = bytes.fromhex("fd00000000000000000000000000000a"), bytes.fromhex("fd00000000000000000000000000000b")
        l3 = struct.pack("!IHBB", 6 << 28, l4len, proto, 64) + src + dst
    else:
        src, dst = bytes([10, 79, 0, 1]), bytes([10, 79, 0, 2])
        l3 = struct.pack("!BBHHHBBH", 0x45, 0, 20 + l4len, ipid, 0x4000, 64, proto, 0) + src + dst
        l3 = l3[:10] + struct.pack("!H", ~ones_sum(l3) & 0xFFFF) + l3[12:]
    ps = ones_sum(_pseudo(src, dst, proto, l4len, v6))
    csum = ps if partial else (~ones_sum(l4 + payload, ps) & 0xFFFF) or (0xFFFF if udp else 0)
    off = 6 if udp else 16
    l4 = l4[:off] + struct.pack("!H", csum) + l4[off + 2:]
    eth = bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", ""))
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan)
    eth += struct.pack("!H", 0x86DD if v6 else 0x0800)
    return eth + l3 + l4 + payload


def parse_packet(f):
    """(ok, info) for a TCP/UDP frame: ok if the IP lengths match the frame and every checksum
    is right; info has proto, ports, seq, flags, payload. None if it is not TCP/UDP over IP."""
    l2 = 14
    while struct.unpack("!H", f[l2 - 2:l2])[0] in (0x8100, 0x88A8):
        l2 += 4
    et = struct.unpack("!H", f[l2 - 2:l2])[0]
    if et == 0x0800:
        ihl = (f[l2] & 0xF) * 4
        total = struct.unpack("!H", f[l2 + 2:l2 + 4])[0]
        proto, src, dst = f[l2 + 9], f[l2 + 12:l2 + 16], f[l2 + 16:l2 + 20]
        ok = ones_sum(f[l2:l2 + ihl]) == 0xFFFF and l2 + total == len(f)
        l4off, v6 = l2 + ihl, False
    elif et == 0x86DD:
        plen = struct.unpack("!H", f[l2 + 4:l2 + 6])[0]
        proto, src, dst = f[l2 + 6], f[l2 + 8:l2 + 24], f[l2 + 24:l2 + 40]
        ok = l2 + 40 + plen == len(f)
        l4off, v6 = l2 + 40, True
    else:
        return None
    if proto not in (6, 17):
        return None
    l4 = f[l4off:]
    ok = ok and ones_sum(l4, ones_sum(_pseudo(src, dst, proto, len(l4), v6))) == 0xFFFF
    sport, dport = struct.unpack("!HH", l4[:4])
    if proto == 6:
        hl = (l4[12] >> 4) * 4
        info = dict(proto=6, sport=sport, dport=dport, seq=struct.unpack("!I", l4[4:8])[0],
                    flags=l4[13], payload=l4[hl:])
    else:
        ok = ok and struct.unpack("!H", l4[4:6])[0] == len(l4)
        info = dict(proto=17, sport=sport, dport=dport, payload=l4[8:])
    return ok, info


def vnet_hdr(gso_type, gso_size, csum_start, csum_offset, hdr_len):
    return struct.pack("<BBHHHH", NEEDS_CSUM, gso_type, hdr_len, gso_size, csum_start, csum_offset)


# ---------------------------------------------------------------------------------------------
# Raw sockets in namespaces.

class RawSocket:
    """AF_PACKET on one interface of a namespace; vnet=True adds PACKET_VNET_HDR to sends.
    aux=True: frames are collected with the VLAN tag the kernel took off put back, as they
    arrived on the wire (PACKET_AUXDATA)."""

    def __init__(self, ns, ifname, vnet=False, aux=False):
        with ns.enter():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.bind((ifname, ETH_P_ALL))
        if vnet:
            s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
        if aux:
            s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        s.setblocking(False)
        self.sock = s
        self.vnet = vnet
        self.aux = aux

    def close(self):
        self.sock.close()

    def send(self, frame, hdr=None):
        if self.vnet:
            frame = (hdr or b"\0" * 10) + frame
        self.sock.send(frame)

    def flush(self):
        self.collect(lambda f: False, 0.05)

    def collect(self, keep, seconds, until=None):
        """Incoming frames for which keep(frame) is true, for up to `seconds`, or until
        until(frames) is true."""
        got, end = [], time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            select.select([self.sock], [], [], left)
            while True:
                try:
                    data, anc, _, addr = self.sock.recvmsg(1 << 17, socket.CMSG_SPACE(20))
                except BlockingIOError:
                    break
                if self.vnet:
                    data = data[10:]
                for level, kind, a in anc:
                    if self.aux and level == SOL_PACKET and kind == PACKET_AUXDATA and len(a) >= 20:
                        status, tci, tpid = struct.unpack_from("=I", a)[0], *struct.unpack_from("=HH", a, 16)
                        if status & TP_STATUS_VLAN_VALID:
                            tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID and tpid else 0x8100
                            data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
                if addr[2] != PACKET_OUTGOING and keep(data):
                    got.append(data)
            if until and until(got):
                break
        return got


def expect(cond, msg):
    if not cond:
        raise TestFailure(msg)


def host_sends_unseen(host_if, ns, ifname, n=20):
    """Frames the host sends out of a link: port's interface are not the port's to receive: none
    of n broadcasts from a packet socket on host_if reaches ifname in ns. Returns n."""
    src = "02:00:00:84:00:99"
    rx = RawSocket(ns, ifname)
    rx.flush()
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        tx.bind((host_if, 0))
        frame = build_packet("ff:ff:ff:ff:ff:ff", src, b"sent by the host" * 4, udp=True)
        for _ in range(n):
            tx.send(frame)
        got = rx.collect(lambda f: f[6:12] == bytes.fromhex(src.replace(":", "")), 1.0)
        check(not got, f"{len(got)} of the {n} frames the host sent out of {host_if} were switched to {ifname}")
    finally:
        tx.close()
        rx.close()
    return n
