#!/usr/bin/python3
"""Multi-queue raw-fd taps: `queues=N` opens the tap with IFF_MULTI_QUEUE and one fd per queue.

1. Two created taps with queues=2 under --workers 2: the kernel sees multi-queue taps with two
   queues; each worker owns one rx queue of each port; 32 UDP flows from one namespace are
   spread by the kernel over both queues of the port, every datagram arrives, and the datagrams
   of each flow arrive in order; a TCP transfer passes its checksum; a multi-queue port can be
   added and removed back to back at runtime.
2. A persistent multi-queue tap is attached with queues=2 (and refused while another process
   holds one of its queues); one made single-queue is refused with queues=2 (one clear line,
   exit 2) and still works without it.
3. An adopted fd of a multi-queue tap, already in its namespace, with queues=2: the switch opens
   the second queue inside that namespace; an adopted single-queue fd with queues=2 is refused.
4. link: ports with queues=2 (two packet sockets in a hash fanout group each; one reads receive
   rings, the other, ring=off, recvmsg()) on veth pairs under --workers 2: the flows are spread over both sockets, all arrive, each in order; TCP passes
   its checksum; nothing is dropped; frames the host sends out of the interface are not switched.
"""
import os
import socket
import struct
import time

import tslib
from tslib import check, ping_all_pairs, say
from tsframes import IFF_MULTI_QUEUE, open_tap
from tsoffload import host_sends_unseen, tcp_transfer

from test_bad_input import run_bad

FLOWS = 32
PER_FLOW = 50
CHURN = 5
SO_RCVBUFFORCE = 33


def tun_flags(ns, ifname):
    return int(ns.exec("cat", f"/sys/class/net/{ifname}/tun_flags").stdout, 16)


def kernel_queues(ns, ifname):
    return sorted(ns.exec("ls", f"/sys/class/net/{ifname}/queues").stdout.split())


def udp_flows(src_ns, dst_ns, dst_ip):
    """FLOWS source ports send PER_FLOW numbered datagrams each; returns {flow: [seq...]}."""
    with dst_ns.enter():
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    rx.bind((dst_ip, 0))
    port = rx.getsockname()[1]
    with src_ns.enter():
        txs = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(FLOWS)]
    try:
        for seq in range(PER_FLOW):
            for f, s in enumerate(txs):
                s.sendto(struct.pack("!II", f, seq), (dst_ip, port))
            time.sleep(0.002)  # stay within the tap's and the socket's queues
        got = {f: [] for f in range(FLOWS)}
        rx.settimeout(2.0)
        try:
            while sum(len(v) for v in got.values()) < FLOWS * PER_FLOW:
                f, seq = struct.unpack("!II", rx.recv(64))
                got[f].append(seq)
        except socket.timeout:
            pass
        return got
    finally:
        rx.close()
        for s in txs:
            s.close()


def flows_over_queues(sw, port, src_ns, dst_ns, dst_ip):
    """udp_flows from src_ns to dst_ip: every datagram arrives, each flow in order, and every rx
    queue of `port` (src_ns's) carried some flows whole. Returns the frames per queue."""
    before = [q["rx_packets"] for q in sw.ports()[port]["details"]["queues"]]
    got = udp_flows(src_ns, dst_ns, dst_ip)
    lost = {f: PER_FLOW - len(s) for f, s in got.items() if len(s) != PER_FLOW}
    check(not lost, f"datagrams lost per flow: {lost}")
    disordered = [f for f, s in got.items() if s != list(range(PER_FLOW))]
    check(not disordered, f"flows reordered: {disordered}")
    after = [q["rx_packets"] for q in sw.ports()[port]["details"]["queues"]]
    per_queue = [x - y for x, y in zip(after, before)]
    check(all(n >= PER_FLOW for n in per_queue), f"the kernel did not use every queue of {port}: {per_queue} frames")
    return per_queue


def created(t):
    a, b = t.name("a"), t.name("b")
    sw = t.daemon([f"tap:{a},queues=2", f"tap:{b},queues=2"], args=["--workers", "2"])
    na, nb = t.netns("na"), t.netns("nb")
    na.take(a, "10.81.0.1/24")
    nb.take(b, "10.81.0.2/24")
    for ns, n in ((na, a), (nb, b)):
        check(tun_flags(ns, n) & IFF_MULTI_QUEUE, f"{n} is not a multi-queue tap: {tun_flags(ns, n):#x}")
        check(kernel_queues(ns, n) == ["rx-0", "rx-1", "tx-0", "tx-1"], f"{n}'s queues: {kernel_queues(ns, n)}")
    ports = sw.ports()
    for n in (a, b):
        check(ports[n]["rx_queues"] == 2 and ports[n]["tx_queues"] == 2, f"{n}: {ports[n]}")
        check(ports[n]["details"]["multi_queue"] and len(ports[n]["details"]["queues"]) == 2, f"{n}: {ports[n]['details']}")
    owned = sorted((w["index"], q["port"], q["queue"]) for w in sw.ctl("show", "workers") for q in w["rx_queues"])
    check(owned == [(0, a, 0), (0, b, 0), (1, a, 1), (1, b, 1)], f"rx queue placement: {owned}")
    say(f"{a} and {b}: multi-queue taps, 2 queues each, one of each per worker")

    ping_all_pairs([(na, "10.81.0.1"), (nb, "10.81.0.2")])
    per_queue = flows_over_queues(sw, a, na, nb, "10.81.0.2")
    say(f"{FLOWS} UDP flows x {PER_FLOW}: all arrived in order, over {a}'s queues as {per_queue}")

    gbps = tcp_transfer(t, na, nb, "10.81.0.2", nbytes=8 << 20, port=5311)
    say(f"TCP over multi-queue taps: 8 MiB with a matching sha256 ({gbps:.1f} Gbit/s)")

    # Back-to-back port add/del of one multi-queue tap: the queues of the port just removed may
    # linger for a moment (io_uring releases files asynchronously); that is not another process.
    z = t.name("z")
    for i in range(CHURN):
        for cmd in (("port", "add", f"tap:{z},queues=2"), ("port", "del", z)):
            r = sw.ctl_run(*cmd)
            check(r.returncode == 0, f"cycle {i}: {' '.join(cmd)}: {r.stderr.strip()}")
            if cmd[1] == "add":  # not "attached": it goes when the switch lets go of it
                origin = sw.ports()[z]["details"]["origin"]
                check(origin == "created", f"cycle {i}: {z} is {origin}, not created")
    tslib.wait_for(lambda: not tslib.link_exists(z), f"removed port {z} to disappear")
    say(f"{CHURN} back-to-back add/del cycles of multi-queue tap {z}")
    sw.stop()


def persistent(t):
    mq, sq, peer = t.persistent_tap("m", multi_queue=True), t.persistent_tap("s"), t.name("p")
    run_bad(t, "single-queue tap asked for 2 queues", ["--port", f"tap:{sq},queues=2"],
            [sq, "single-queue", "multi_queue"], keep=(mq, sq))
    held = open_tap(mq, IFF_MULTI_QUEUE)  # the kernel would let a second process share its queues
    try:
        run_bad(t, "multi-queue tap with a queue held elsewhere", ["--port", f"tap:{mq},queues=2"],
                [mq, "held by another process"], keep=(mq, sq))
    finally:
        os.close(held)
    sw = t.daemon([f"tap:{mq},queues=2", f"tap:{sq}", f"tap:{peer}"])
    ports = sw.ports()
    check(ports[mq]["rx_queues"] == 2 and ports[mq]["details"]["origin"] == "attached", f"{mq}: {ports[mq]}")
    check(ports[sq]["rx_queues"] == 1 and not ports[sq]["details"]["multi_queue"], f"{sq}: {ports[sq]}")
    nss = [t.netns(s) for s in ("pm", "ps", "pp")]
    for i, (ns, n) in enumerate(zip(nss, (mq, sq, peer))):
        ns.take(n, f"10.82.0.{i + 1}/24")
    ping_all_pairs([(ns, f"10.82.0.{i + 1}") for i, ns in enumerate(nss)])
    say(f"persistent multi-queue {mq} attached with 2 queues; single-queue {sq} with 1")
    sw.stop()
    check(nss[0].has_link(mq) and nss[1].has_link(sq), "a persistent tap did not survive the switch")


def adopted(t):
    single, sfd = t.hold_tap("f")
    run_bad(t, "adopted single-queue fd asked for 2 queues", ["--port", f"tapfd:{sfd},queues=2"],
            [f"fd {sfd}", "single-queue", "IFF_MULTI_QUEUE"], keep=(single,), pass_fds=(sfd,))
    t.release_tap(sfd)

    name, fd = t.hold_tap("g", multi_queue=True)
    peer = t.name("h")
    ng, nh = t.netns("ng"), t.netns("nh")
    ng.take(name, "10.83.0.1/24")  # before the switch starts: its second queue opens in ng
    sw = t.daemon([f"tapfd:{fd},name={t.name('vm')},queues=2", f"tap:{peer}"], pass_fds=(fd,))
    nh.take(peer, "10.83.0.2/24")
    p = sw.ports()[t.name("vm")]
    check(p["rx_queues"] == 2 and p["details"]["ifname"] == name, f"adopted port: {p}")
    check(kernel_queues(ng, name) == ["rx-0", "rx-1", "tx-0", "tx-1"], f"{name}'s queues: {kernel_queues(ng, name)}")
    ping_all_pairs([(ng, "10.83.0.1"), (nh, "10.83.0.2")])
    say(f"adopted multi-queue fd {fd} ({name}, in namespace {ng.name}) forwarding on 2 queues")
    sw.stop()
    check(kernel_queues(ng, name) == ["rx-0", "tx-0"], f"the switch left queues attached: {kernel_queues(ng, name)}")
    t.release_tap(fd)


def link_fanout(t):
    ha, na = t.veth_host("la", "10.84.0.1/24")
    hb, nb = t.veth_host("lb", "10.84.0.2/24")
    sw = t.daemon([f"link:{ha},queues=2", f"link:{hb},queues=2,ring=off"], args=["--workers", "2"])
    ports = sw.ports()
    for n in (ha, hb):
        check(ports[n]["rx_queues"] == 2 and ports[n]["tx_queues"] == 2 and len(ports[n]["details"]["queues"]) == 2,
              f"{n}: {ports[n]}")
    check(ports[ha]["details"]["rx_ring"] and not ports[hb]["details"]["rx_ring"], "rx_ring: "
          f"{ports[ha]['details']['rx_ring']} for {ha}, {ports[hb]['details']['rx_ring']} for {hb} (ring=off)")
    owned = sorted((w["index"], q["port"], q["queue"]) for w in sw.ctl("show", "workers") for q in w["rx_queues"])
    check(owned == [(0, ha, 0), (0, hb, 0), (1, ha, 1), (1, hb, 1)], f"rx queue placement: {owned}")
    ping_all_pairs([(na, "10.84.0.1"), (nb, "10.84.0.2")])
    per_queue = flows_over_queues(sw, ha, na, nb, "10.84.0.2")
    say(f"link: ports with queues=2 (fanout groups): {FLOWS} UDP flows x {PER_FLOW} all arrived in order, "
        f"over {ha}'s sockets as {per_queue}")
    gbps = tcp_transfer(t, na, nb, "10.84.0.2", nbytes=8 << 20, port=5312)
    say(f"TCP over link: ports with 2 queues: 8 MiB with a matching sha256 ({gbps:.1f} Gbit/s)")
    drops = {n: {k: v for k, v in p["drops"].items() if v and k != "no_dest"} for n, p in sw.ports().items()}
    check(not any(drops.values()), f"drops: {drops}")
    n = host_sends_unseen(ha, nb, t.name("lb"))
    say(f"{n} broadcasts the host sent out of {ha} were not switched (PACKET_IGNORE_OUTGOING does not reach a fanout group)")
    sw.stop()



def test(t):
    created(t)
    persistent(t)
    adopted(t)
    link_fanout(t)


if __name__ == "__main__":
    tslib.main("mq", test)
