#!/usr/bin/python3
"""A stuck port costs drops on that port only.

Two namespaces, a and b, exchange traffic through two workers while two other ports cannot
take frames: a raw-fd tap whose interface is down (every write fails) and an af_packet port on
a veth whose peer is down. Unicast between a and b loses nothing, a fast ping loses nothing,
floods still reach b exactly, and the stuck ports count what they could not send.
"""
import tslib
from tslib import check, say, sh
from tsframes import BROADCAST, Endpoint, exchange, expect_counts

SO_RCVBUFFORCE = 33
N = 500


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
    got = exchange(a, [a, b], lambda: a.send(BROADCAST, n=N))
    expect_counts(got, {a.label: 0, b.label: N}, f"{N} broadcast frames from a")
    say(f"{N} unicast and {N} broadcast frames a -> b: none lost")

    p = sw.ports()
    stuck = p[down_if]
    lost = stuck["drops"]["tx_errors"] + stuck["drops"]["tx_full"]
    check(lost >= N, f"the down tap should count the flood it could not send: {stuck['drops']}")
    check(stuck["tx_packets"] == 0, f"the down tap claims to have sent {stuck['tx_packets']} frames")
    for name in (a_if, b_if):
        d = p[name]["drops"]
        check(d["tx_full"] == 0 and d["tx_errors"] == 0, f"{name} dropped on tx: {d}")
    say(f"the down tap counted {lost} frames it could not send; a and b dropped none")
    sw.stop()


if __name__ == "__main__":
    tslib.main("sp", test)
