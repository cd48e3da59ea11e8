#!/usr/bin/python3
"""A stuck port costs drops on that port only.

Two namespaces, a and b, exchange traffic through two workers while two other ports cannot
take frames: a raw-fd tap whose interface is down (every write fails) and an af_packet port on
a veth whose peer is down. Unicast between a and b loses nothing, a fast ping loses nothing,
floods still reach b exactly, and the stuck ports count what they could not send; the down tap
is not written once per flooded frame (it holds off for a millisecond after a refusal).
"""
import tslib
from tslib import check, say, sh
from tsframes import BROADCAST, Endpoint, exchange, expect_counts

SO_RCVBUFFORCE = 33
N = 500


def syscw(pid):
    """The process's write system calls so far (write, writev: what a tap is written with)."""
    with open(f"/proc/{pid}/io") as f:
        return int(next(l for l in f if l.startswith("syscw:")).split()[1])


def test(t):
    a_if, b_if, down_if = t.name("a"), t.name("b"), t.name("s")
    host, peer = t.veth("vh", "vp")
    sh("ip", "link", "set", peer, "down")
    ports = [f"tap:{a_if}", f"tap:{b_if}", f"tap:{down_if}", f"dpdk:net_af_packet0,iface={host}"]
    sw = t.daemon(ports, args=["--workers", "2"])
    na, nb = t.netns("a"), t.netns("b")
    na.take(a_if, "10.79.0.1/24")
    nb.take(b_if, "10.79.0.2/24")

    r = na.exec("ping", "-c", "200", "-i", "0.005", "-q", "10.79.0.2", check=False)
    check(r.returncode == 0 and " 0% packet loss" in r.stdout, f"fast ping lost frames:\n{r.stdout}")
    say("200 pings at 5 ms: no loss")

    a, b = Endpoint(na, a_if), Endpoint(nb, b_if)
    for e in (a, b):
        e.sock.setsockopt(1, SO_RCVBUFFORCE, 8 << 20)
    got = exchange(a, [a, b], lambda: a.send(b.mac, n=N))
    expect_counts(got, {a.label: 0, b.label: N}, f"{N} unicast frames a -> b")
    writes = syscw(sw.pid)
    got = exchange(a, [a, b], lambda: a.send(BROADCAST, n=N))
    writes = syscw(sw.pid) - writes
    expect_counts(got, {a.label: 0, b.label: N}, f"{N} broadcast frames from a")
    # Each copy for b is a write; the down tap's are not, except one try a millisecond.
    check(writes < N * 1.5, f"{writes} write system calls for {N} broadcasts: the down tap is written once per frame")
    say(f"{N} broadcasts: {writes} write system calls (b's {N}, and the down tap's tries)")
    say(f"{N} unicast and {N} broadcast frames a -> b: none lost")

    p = sw.ports()
    stuck = p[down_if]["drops"]
    # The kernel refuses a write to a tap whose interface is down (EIO): a link-down drop, not
    # an error.
    check(stuck["tx_link_down"] >= N and stuck["tx_errors"] == 0,
          f"the down tap should count the flood it could not send as tx_link_down: {stuck}")
    check(p[down_if]["tx_packets"] == 0, f"the down tap claims to have sent {p[down_if]['tx_packets']} frames")
    for name in (a_if, b_if):
        d = p[name]["drops"]
        check(d["tx_full"] == 0 and d["tx_errors"] == 0 and d["tx_link_down"] == 0, f"{name} dropped on tx: {d}")
    stats = {s["name"]: s for s in sw.ctl("show", "stats")["ports"]}[down_if]
    check(stats["drops"]["tx_link_down"] >= stuck["tx_link_down"] and stats["dropped"] >= stats["drops"]["tx_link_down"],
          f"show stats -j does not count the link-down drops: {stats}")
    text = sw.ctl_run("show", "stats").stdout
    check("tx_link_down=" in text, f"show stats does not name the link-down drops:\n{text}")
    say(f"the down tap counted {stuck['tx_link_down']} frames it could not send (link down); a and b dropped none")
    sw.stop()


if __name__ == "__main__":
    tslib.main("sp", test)
