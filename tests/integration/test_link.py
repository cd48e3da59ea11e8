#!/usr/bin/python3
"""link: ports, existing interfaces attached through a packet socket with offloads.

Namespaces a and b sit behind veth pairs whose host ends are link: ports (the way a VM's tap
that qemu holds is attached); c has a raw-fd tap. The veth peers keep their default offloads
(partial checksums, TSO), which is what broke TCP through DPDK's net_af_packet: its frames
carry no virtio-net header, so a partial checksum arrived as it was and the receiver dropped it.
  - ping between every pair;
  - 16 MB over TCP a -> b (link to link), c -> a (tap to link) and a -> c, each checked by
    sha256, with GSO frames crossing whole (a's port receives frames longer than the MTU);
  - VLAN-tagged frames from a: the kernel keeps a received frame's tag aside, the port puts it
    back; a TCP frame with a partial checksum (which then starts 4 bytes later) reaches d, a tap
    without offloads, with its checksum completed right;
  - a's interface down, then up: seen, forwarding resumes, and the idle worker still sleeps on
    the port's socket (which polled an error once), and the first frame after the up is not
    dropped for the socket's stale ENETDOWN (also with a busy-polling worker, which never reads
    it); b's deleted: seen gone; b's made anew under the same name (a restarted VM's tap):
    attached again by itself, counters kept;
  - bad specs are refused with a reason: not Ethernet, a bridge's port, an option; a port for an
    interface that does not exist yet (configured at start, or added later) waits; when it
    appears as a bridge's port the switch says once why it cannot attach, and attaches once the
    interface leaves the bridge; an attached one made a bridge's port is detached (said once) and
    attached again when it leaves.
"""
import time

import tslib
from tslib import check, ping_all_pairs, say, sh, wait_for
from tsoffload import RawSocket, build_packet, host_sends_unseen, parse_packet, tcp_transfer, vnet_hdr

ERRORS = ("rx_errors", "rx_oversize", "rx_missed", "tx_errors", "bad_offload", "oversize", "no_mbuf")


def test(t):
    ha, a_if = t.veth("ha", "a")
    hb, b_if = t.veth("hb", "b")
    c_if, d_if = t.name("c"), t.name("d")
    hy = t.name("hy")  # configured, but no such interface: the switch starts, the port waits
    sw = t.daemon([f"link:{ha}", f"link:{hb}", f"tap:{c_if}", f"tap:{d_if},offload=off", f"link:{hy}"],
                  allow=[rf"warning port {hb}: its interface was deleted",
                         rf"warning port ({hy}|{t.name('hz')}) .* there is no interface named",
                         rf"warning port {t.name('hz')}: cannot attach: .* is a port of",
                         rf"warning port {t.name('hz')}: detached, \d+ FDB entries flushed: .* is a port of"])
    p = sw.ports()[hy]
    check(p["state"] == "gone" and p["details"].get("waiting") is True and "netns" in p and p["netns"] is None,
          f"{hy}, configured without an interface (netns null, not absent): {p}")
    r = sw.ctl_run("port", "del", hy)
    check(r.returncode == 0, f"port del {hy}: {r.stderr.strip()}")
    na, nb, nc, nd = t.netns("a"), t.netns("b"), t.netns("c"), t.netns("d")
    na.take(a_if, "10.83.0.1/24")
    nb.take(b_if, "10.83.0.2/24")
    nc.take(c_if, "10.83.0.3/24")
    nd.take(d_if)
    features = na.exec("ethtool", "-k", a_if, check=False).stdout
    say(f"{a_if}: " + ", ".join(l.strip() for l in features.splitlines()
                                 if l.split(":")[0].strip() in ("tx-checksumming", "tcp-segmentation-offload")))

    ports = sw.ports()
    for h in (ha, hb):
        d = ports[h]["details"]
        check(ports[h]["kind"] == "link", f"port {h} is of kind {ports[h]['kind']}")
        check(d.get("origin") == "link" and d.get("ifname") == h and d.get("vnet_hdr_len") == 10,
              f"port {h}'s details: {d}")
        check(d.get("offloads") == "csum tso4 tso6", f"port {h} offers {d.get('offloads')}")
        check(d.get("rx_ring") is True, f"port {h} reads no receive ring: {d}")
        check(ports[h].get("netns") == "", f"port {h} is not said to be in the switch's namespace: {ports[h]}")
    ping_all_pairs([(na, "10.83.0.1"), (nb, "10.83.0.2"), (nc, "10.83.0.3")])

    before = sw.ports()
    gbps = tcp_transfer(t, na, nb, "10.83.0.2", port=5311)
    say(f"a -> b (link to link): 16 MB, sha256 equal ({gbps:.2f} Gbit/s)")
    gbps = tcp_transfer(t, nc, na, "10.83.0.1", port=5312)
    say(f"c -> a (tap to link): 16 MB, sha256 equal ({gbps:.2f} Gbit/s)")
    mid = sw.ports()
    gbps = tcp_transfer(t, na, nc, "10.83.0.3", port=5313)
    after = sw.ports()
    rx = after[ha]["rx_packets"] - mid[ha]["rx_packets"]
    avg = (after[ha]["rx_bytes"] - mid[ha]["rx_bytes"]) / max(rx, 1)
    say(f"a -> c (link to tap): 16 MB, sha256 equal ({gbps:.2f} Gbit/s); {rx} frames from a, {avg:.0f} bytes "
        "on average")
    check(avg > 1514, f"a's frames averaged {avg:.0f} bytes: its GSO packets did not cross whole")
    for name, p in after.items():
        bad = {k: v for k, v in p["drops"].items() if k in ERRORS and v != before[name]["drops"].get(k, 0)}
        check(not bad, f"port {name} dropped frames during the transfers: {bad}")

    # Tagged frames from a, flooded (their MACs are new): c and d must see the tag. The second
    # has a partial checksum, which the switch completes for d (no offloads).
    ra, rc, rd = RawSocket(na, a_if, vnet=True), RawSocket(nc, c_if, aux=True), RawSocket(nd, d_if, aux=True)
    src, dst = "02:00:00:83:00:0a", "02:00:00:83:00:0d"
    udp = build_packet(dst, src, b"tagged udp" * 10, udp=True, vlan=10)
    tcp = build_packet(dst, src, b"tagged tcp" * 50, seq=7, partial=True, vlan=10)
    rc.flush()
    rd.flush()
    ra.send(udp)
    ra.send(tcp, vnet_hdr(0, 0, 14 + 4 + 20, 16, 14 + 4 + 20 + 20))
    mine = lambda f: f[6:12] == bytes.fromhex(src.replace(":", ""))
    for name, sock in (("c", rc), ("d", rd)):
        got = sock.collect(mine, 3.0, until=lambda fs: len(fs) >= 2)
        check(len(got) == 2, f"{name} got {len(got)} of the 2 tagged frames")
        check(got[0] == udp, f"{name}'s UDP frame differs from what a sent (its tag?):\n{got[0].hex()}\n{udp.hex()}")
        check(got[1][12:16] == bytes.fromhex("8100000a"), f"{name}'s TCP frame lost its tag: {got[1][:18].hex()}")
        if name == "d":
            ok, info = parse_packet(got[1])
            check(ok and info["payload"] == b"tagged tcp" * 50 and info["seq"] == 7,
                  f"d's TCP frame has a wrong checksum or payload: {got[1].hex()}")
    for sock in (ra, rc, rd):
        sock.close()
    say("VLAN 10: tags kept on the way through a's link port; a partial checksum completed right for d")
    n = host_sends_unseen(ha, nc, c_if)
    say(f"{n} broadcasts the host sent out of {ha} were not switched")

    # a's interface goes down and up again, with nothing sent to it meanwhile. Its packet socket
    # holds the ENETDOWN until something reads it: the worker must read it (not spin on a socket
    # that polls an error, at 100% of a core) and the first frame sent after the up must not take
    # it for its own (a frame dropped as tx_link_down on an interface that is up).
    cpu_of = lambda: sum(int(x) for x in open(f"/proc/{sw.pid}/stat").read().rsplit(")", 1)[1].split()[11:13])
    sh("ip", "link", "set", ha, "down")
    wait_for(lambda: sw.ports()[ha]["state"] == "down", f"{ha} to be seen down")
    time.sleep(0.3)
    t0, s0 = cpu_of(), sw.ctl("show", "workers")[0]["sleeps"]
    time.sleep(1.0)
    ticks, n = cpu_of() - t0, sw.ctl("show", "workers")[0]["sleeps"] - s0
    check(n < 100 and ticks < 30, f"with {ha} down, the idle switch slept {n} times and used {ticks} ticks in 1 s")
    sh("ip", "link", "set", ha, "up")
    wait_for(lambda: sw.ports()[ha]["state"] == "up", f"{ha} to be seen up again")
    before = sw.ports()[ha]["drops"]["tx_link_down"]
    r = nc.exec("ping", "-c", "1", "-W", "2", "-q", "10.83.0.1", check=False)
    check(r.returncode == 0, f"c cannot ping a after its interface came back up:\n{r.stdout}")
    after = sw.ports()[ha]["drops"]["tx_link_down"]
    check(after == before, f"{ha}, up again, dropped {after - before} frames as tx_link_down")
    say(f"a down and up with nothing sent meanwhile: the idle switch slept {n} times in 1 s while it was down, "
        "and the first frame after the up went through")

    # Down again, and a flood toward it.
    sh("ip", "link", "set", ha, "down")
    wait_for(lambda: sw.ports()[ha]["state"] == "down", f"{ha} to be seen down")
    # A flood toward it is dropped as tx_link_down (the socket refuses a down interface), not
    # as an error; the other ports get it.
    before = sw.ports()
    sender = RawSocket(nc, c_if)
    flood = build_packet("ff:ff:ff:ff:ff:ff", "02:00:00:83:00:33", b"to a down port" * 4, udp=True)
    for _ in range(50):
        sender.send(flood)
    sender.close()
    wait_for(lambda: sw.ports()[hb]["tx_packets"] >= before[hb]["tx_packets"] + 50, f"{hb} to get the flood")
    da, db = (sw.ports()[n]["drops"] for n in (ha, hb))
    check(da["tx_link_down"] >= before[ha]["drops"]["tx_link_down"] + 50 and da["tx_errors"] == 0,
          f"{ha}, down, should count the flood as tx_link_down: {da}")
    check(db["tx_link_down"] == 0 and db["tx_errors"] == 0, f"{hb} dropped some of the flood: {db}")
    sh("ip", "link", "set", ha, "up")
    wait_for(lambda: sw.ports()[ha]["state"] == "up", f"{ha} to be seen up again")
    r = na.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "-q", "10.83.0.3", check=False)
    check(r.returncode == 0, f"a cannot ping c after its interface came back up:\n{r.stdout}")
    # The socket said ENETDOWN once (it polled EPOLLERR): the idle worker must still sleep on it,
    # not back off with short sleeps (about 1000 a second).
    time.sleep(0.3)
    before = sw.ctl("show", "workers")[0]["sleeps"]
    time.sleep(1.0)
    n = sw.ctl("show", "workers")[0]["sleeps"] - before
    check(n < 100, f"after {ha} went down and up, the idle worker slept {n} times in 1 s: it stopped watching the port")
    # b's is deleted.
    sh("ip", "link", "del", hb)
    wait_for(lambda: sw.ports()[hb]["state"] == "gone", f"{hb} to be seen gone after its deletion")
    r = nc.exec("ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", "10.83.0.1", check=False)
    check(r.returncode == 0, f"c cannot ping a after b's interface was deleted:\n{r.stdout}")
    say("a down and up: seen, forwarding again; b deleted: seen gone, a and c unaffected")
    # An interface of b's name appears again (a VM restarted, its tap made anew): the port
    # attaches to it on its own, keeps its counters, and the idle worker sleeps on the new socket.
    gone_rx = sw.ports()[hb]["rx_packets"]
    sh("ip", "link", "add", hb, "type", "veth", "peer", "name", b_if)
    sh("sysctl", "-qw", f"net.ipv6.conf.{hb}.disable_ipv6=1")
    sh("ip", "link", "set", hb, "up")
    nb.take(b_if, "10.83.0.2/24")
    wait_for(lambda: sw.ports()[hb]["state"] == "up", f"{hb} to be attached again once it exists again")
    ping_all_pairs([(nb, "10.83.0.2"), (nc, "10.83.0.3")])
    back = sw.ports()[hb]
    check(back["rx_packets"] > gone_rx > 0, f"{hb}'s counters restarted or stood still: rx {gone_rx} -> "
          f"{back['rx_packets']}")
    check(back["details"].get("ifname") == hb, f"{hb}'s port shows {back['details']}")
    time.sleep(0.3)
    before = sw.ctl("show", "workers")[0]["sleeps"]
    time.sleep(1.0)
    n = sw.ctl("show", "workers")[0]["sleeps"] - before
    check(n < 100, f"after {hb} came back, the idle worker slept {n} times in 1 s: it does not watch the new socket")
    say(f"{hb} made anew: attached again by itself, b and c ping each other, counters kept")
    after = sw.ports()
    for name in (ha, c_if):
        bad = {k: v for k, v in after[name]["drops"].items() if k in ("rx_errors", "tx_errors") and v}
        check(not bad, f"port {name} counted errors: {bad}")

    br = t.name("br")
    tslib._cleanup.push(sh, "ip", "link", "del", br, check=False)
    sh("ip", "link", "add", br, "type", "bridge")
    mem, _ = t.veth("m", "n")
    sh("ip", "link", "set", mem, "master", br)
    for spec, reason in (("link:lo", "is not an Ethernet interface"),
                         (f"link:{mem}", f"is a port of '{br}'"),
                         (f"link:{ha},offload=off", "unknown option 'offload'")):
        r = sw.ctl_run("port", "add", spec)
        check(r.returncode != 0 and reason in r.stderr, f"port add {spec}: rc {r.returncode}, said {r.stderr.strip()!r}")
    say("bad link: specs refused with their reason")

    # A port for an interface that does not exist yet (a VM not started) waits for it.
    hz, z_if = t.name("hz"), t.name("z")
    r = sw.ctl_run("port", "add", f"link:{hz}")
    check(r.returncode == 0 and f"waiting for an interface named '{hz}'" in r.stdout,
          f"port add link:{hz} (no such interface yet): rc {r.returncode}, said {r.stdout.strip()!r} {r.stderr.strip()!r}")
    p = sw.ports()[hz]
    check(p["state"] == "gone" and p["details"].get("waiting") is True, f"the waiting port shows {p}")
    tslib._cleanup.push(sh, "ip", "link", "del", hz, check=False)
    sh("ip", "link", "add", hz, "type", "veth", "peer", "name", z_if)
    sh("sysctl", "-qw", f"net.ipv6.conf.{hz}.disable_ipv6=1")
    # It appears as a bridge's port first: refused, said once, not attached.
    sh("ip", "link", "set", hz, "master", br)
    wait_for(lambda: f"port {hz}: cannot attach" in sw.log(), f"the switch to say why {hz} cannot attach")
    time.sleep(2.2)
    said = sw.log().count(f"port {hz}: cannot attach")
    check(said == 1 and sw.ports()[hz]["state"] == "gone", f"{hz} as a bridge's port: said {said} times, "
          f"state {sw.ports()[hz]['state']}")
    sh("ip", "link", "set", hz, "nomaster")
    sh("ip", "link", "set", hz, "up")
    nz = t.netns("z")
    nz.take(z_if, "10.83.0.5/24")
    wait_for(lambda: sw.ports()[hz]["state"] == "up", f"{hz} to be attached once it exists")
    ping_all_pairs([(nz, "10.83.0.5"), (nc, "10.83.0.3")])
    say(f"link:{hz} added before its interface existed: attached when it appeared, z and c ping each other")
    # It becomes a bridge's port while attached (the bridge would forward its frames too):
    # detached and said once, attached again when it leaves the bridge.
    said = lambda: sw.log().count(f"port {hz}: detached") + sw.log().count(f"port {hz}: cannot attach")
    before = said()
    sh("ip", "link", "set", hz, "master", br)
    wait_for(lambda: sw.ports()[hz]["state"] == "gone", f"{hz} to be detached once it is a port of {br}")
    time.sleep(2.2)
    check(said() - before == 1, f"{hz} made a port of {br}: said {said() - before} times")
    sh("ip", "link", "set", hz, "nomaster")
    wait_for(lambda: sw.ports()[hz]["state"] == "up", f"{hz} to be attached again once it left {br}")
    ping_all_pairs([(nz, "10.83.0.5"), (nc, "10.83.0.3")])
    say(f"{hz} made a bridge's port while attached: detached, said once; attached again when it left the bridge")
    sw.stop()

    # A busy-polling worker never sleeps, so nothing reads the socket's pending ENETDOWN before
    # the first send after the interface came back: that send must not be dropped for it.
    hq, nq = t.veth_host("q", "10.83.0.6/24")
    hr, nr = t.veth_host("r", "10.83.0.7/24")
    busy = t.daemon([f"link:{hq}", f"link:{hr}"], args=["--poll", "busy"])
    ping_all_pairs([(nq, "10.83.0.6"), (nr, "10.83.0.7")])
    sh("ip", "link", "set", hq, "down")
    wait_for(lambda: busy.ports()[hq]["state"] == "down", f"{hq} to be seen down")
    sh("ip", "link", "set", hq, "up")
    wait_for(lambda: busy.ports()[hq]["state"] == "up", f"{hq} to be seen up again")
    before = busy.ports()[hq]["drops"]["tx_link_down"]
    r = nr.exec("ping", "-c", "1", "-W", "2", "-q", "10.83.0.6", check=False)
    after = busy.ports()[hq]["drops"]["tx_link_down"]
    check(r.returncode == 0 and after == before, f"--poll busy: after {hq} went down and up, r's ping got "
          f"{'no' if r.returncode else 'a'} reply and {after - before} frames were dropped as tx_link_down")
    busy.stop()
    say("--poll busy: the first frame after a down and up went through")


if __name__ == "__main__":
    tslib.main("lk", test)
