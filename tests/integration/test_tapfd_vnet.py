#!/usr/bin/python3
"""An adopted tap fd that carries a virtio-net header (IFF_VNET_HDR) is honoured.

The test opens tap a itself with IFF_VNET_HDR and a 10-byte header (virtio_net_hdr without
num_buffers), and hands the fd to tapswitch (tapfd:N); b is an ordinary tap port.
  1. offload=on (the default): the port reads the fd's header size, probes offloads, and TCP
     moves 16 MB each way with sha256 equal, a's frames arriving as GSO frames; a's
     gso_max_size (a lives in another namespace) is capped at what one read brings whole,
     and given back when the switch stops;
  2. a second switch adopts the same fd with offload=off: the header stays (only the fd's
     creator could remove it), the offloads go (TUNSETOFFLOAD 0), and TCP still passes, in
     frames no longer than the MTU.
"""
import fcntl
import os
import struct

import tslib
from tslib import check, say
from tsoffload import fastio, tcp_transfer

TUNSETIFF = 0x400454CA
TUNSETVNETHDRSZ = 0x400454D8
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000


def open_vnet_tap(t, name, hdr_len):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    t.held_fds.add(fd)
    tslib._cleanup.push(t.release_tap, fd)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
    fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", hdr_len))
    tslib.sh("sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1")
    return fd


def test(t):
    fastio(t)
    a_if, b_if = t.name("a"), t.name("b")
    fd = open_vnet_tap(t, a_if, 10)
    a, b = t.netns("a"), t.netns("b")
    a.take(a_if, "10.79.2.1/24")

    def gso_max_size():
        link = a.exec("ip", "-d", "link", "show", a_if).stdout.split()
        return link[link.index("gso_max_size") + 1] if "gso_max_size" in link else "?"

    own_gso = gso_max_size()
    for offload in ("on", "off"):
        sw = t.daemon([f"tapfd:{fd},name=guest,offload={offload}", f"tap:{b_if}"], pass_fds=[fd])
        b.take(b_if, "10.79.2.2/24")  # each switch makes tap b anew, with a new MAC
        a.exec("ip", "neigh", "flush", "all")
        d = sw.ports()["guest"]["details"]
        check(d["vnet_hdr_len"] == 10, f"the adopted fd's header size was not honoured: {d}")
        check(("tso4" in d["offloads"]) == (offload == "on"), f"offload={offload}: {d['offloads']}")
        if offload == "on":  # the interface lives in namespace a, not the switch's
            gso = gso_max_size()
            check(gso == "65407", f"the adopted tap's gso_max_size is {gso}, not capped at 65407")
        a.exec("ping", "-c", "2", "-i", "0.2", "-W", "2", "10.79.2.2")
        before = sw.ports()["guest"]["switch"]
        tcp_transfer(t, a, b, "10.79.2.2", port=5320)
        tcp_transfer(t, b, a, "10.79.2.1", port=5321)
        after = sw.ports()["guest"]["switch"]
        frames = after["rx_packets"] - before["rx_packets"]
        avg = (after["rx_bytes"] - before["rx_bytes"]) / max(frames, 1)
        if offload == "on":
            check(avg > 3000, f"no GSO frames came through the adopted fd (average {avg:.0f} bytes)")
        else:
            check(avg <= 1514, f"frames longer than the MTU without offloads (average {avg:.0f} bytes)")
        say(f"adopted vnet fd, offload={offload}: header 10 bytes, offloads '{d['offloads']}', "
            f"TCP both ways intact, {frames} frames in from a (average {avg:.0f} bytes)")
        sw.stop()
        check(gso_max_size() == own_gso, f"offload={offload}: the switch left the adopted tap's gso_max_size at "
                                         f"{gso_max_size()}, not its own {own_gso}")


if __name__ == "__main__":
    tslib.main("tv", test)
