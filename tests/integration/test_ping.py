#!/usr/bin/python3
"""Ping every pair across three or more switch ports, for one mix of port kinds.

    test_ping.py tap | net_tap | mixed | af_packet

Each namespace owns one port: raw-fd taps (tap:), DPDK's net_tap (dpdk:net_tapN,iface=), both
mixed, or af_packet on the host end of a veth whose other end is in the namespace. With
af_packet ports, the idle worker must sleep on them, not back off, also after one's interface
went down and up (shown down meanwhile); and they leave no interface promiscuous.
"""
import re
import sys
import time

import tslib
from tslib import check, ping_all_pairs, say

# Port kinds per namespace, for each mode.
MODES = {
    "tap": ["tap", "tap", "tap"],
    "net_tap": ["net_tap", "net_tap", "net_tap"],
    "mixed": ["tap", "net_tap", "tap", "net_tap"],
    "af_packet": ["af_packet", "af_packet", "tap", "net_tap"],
}


def test(t, mode):
    kinds = MODES[mode]
    ports, plumbing, hosts = [], [], []
    dpdk_n = {"net_tap": 0, "af_packet": 0}
    for i, kind in enumerate(kinds):
        suffix = "abcdefgh"[i]
        ns = t.netns(suffix)
        ifname = t.name(suffix)
        if kind == "tap":
            ports.append(f"tap:{ifname}")
        elif kind == "net_tap":
            ports.append(f"dpdk:net_tap{dpdk_n['net_tap']},iface={ifname}")
            dpdk_n["net_tap"] += 1
        else:
            host, peer = t.veth(suffix + "h", suffix)
            ports.append(f"dpdk:net_af_packet{dpdk_n['af_packet']},iface={host}")
            dpdk_n["af_packet"] += 1
        plumbing.append((ns, ifname))
        hosts.append((ns, f"10.77.0.{i + 1}"))

    sw = t.daemon(ports)
    for (ns, ifname), (_, ip) in zip(plumbing, hosts):
        ns.take(ifname, ip + "/24")
    say(f"{mode}: {len(ports)} ports: {' '.join(ports)}")

    ping_all_pairs(hosts)

    ports_now = sw.ports()
    check(len(ports_now) == len(kinds), f"show ports lists {len(ports_now)} ports, expected {len(kinds)}")
    for name, p in ports_now.items():
        check(p["state"] == "up", f"port {name} is {p['state']} after the pings")
        check(p["rx_packets"] > 0 and p["tx_packets"] > 0, f"port {name} counted no traffic: {p}")
    if mode == "af_packet":
        idle_sleeps(sw, ports_now, [(ns, ip) for (ns, _), (_, ip), k in zip(plumbing, hosts, kinds) if k == "af_packet"])
        host = next(h for h in ports_now if ports_now[h]["details"].get("driver") == "net_af_packet")
        down_and_up(sw, host)
        deleted(sw, host)
    sw.stop()
    if mode == "af_packet":
        # The PMD turned the interfaces promiscuous; the switch turns that off again.
        for name, p in ports_now.items():
            if p["details"].get("driver") == "net_af_packet" and tslib.link_exists(name):
                words = tslib.sh("ip", "-d", "link", "show", name).stdout.split()
                check(words[words.index("promiscuity") + 1] == "0", f"{name} left promiscuous after the switch exited")
        say("af_packet interfaces promiscuous no more after exit")


def down_and_up(sw, host):
    """An af_packet port's interface taken down: shown down (its PMD says up whatever happens),
    and the idle worker keeps sleeping on the socket, which polled ENETDOWN once; up again."""
    tslib.sh("ip", "link", "set", host, "down")
    tslib.wait_for(lambda: sw.ports()[host]["state"] == "down", f"{host} to be shown down")
    time.sleep(0.3)
    before = sw.ctl("show", "workers")[0]["sleeps"]
    time.sleep(1.0)
    n = sw.ctl("show", "workers")[0]["sleeps"] - before
    check(n < 100, f"with {host} down, the idle worker slept {n} times in 1 s: it stopped watching the socket")
    tslib.sh("ip", "link", "set", host, "up")
    tslib.wait_for(lambda: sw.ports()[host]["state"] == "up", f"{host} to be shown up again")
    say(f"{host} down: shown down, {n} sleeps in 1 s; up again")


def deleted(sw, host):
    """An af_packet port's interface deleted: shown gone, with no network namespace (null, as
    for every port whose interface is gone; it said "", the switch's own)."""
    tslib.sh("ip", "link", "del", host)
    tslib.wait_for(lambda: sw.ports()[host]["state"] == "gone", f"{host} to be shown gone after its deletion")
    p = sw.ports()[host]
    check(p["netns"] is None, f"gone port {host} shows netns {p['netns']!r}, not null")
    say(f"{host} deleted: gone, netns null")


def idle_sleeps(sw, ports_now, af_hosts):
    """DPDK's af_packet has no rx interrupts: a single-queue af_packet port offers its packet
    socket instead, so the idle worker sleeps until a frame comes (or the 100 ms safety net)
    rather than backing off with sleeps of at most 1 ms (about 1000 a second)."""
    af = {name: p["details"] for name, p in ports_now.items() if p["details"].get("driver") == "net_af_packet"}
    check(len(af) == 2, f"expected two af_packet ports, show ports has {sorted(af)}")
    for name, d in af.items():
        check(d.get("rx_interrupts") is True, f"af_packet port {name} offers no fd to sleep on: {d}")
    before = sw.ctl("show", "workers")[0]["sleeps"]
    time.sleep(1.0)
    n = sw.ctl("show", "workers")[0]["sleeps"] - before
    say(f"idle worker: {n} sleeps in 1 s")
    check(n < 100, f"the idle worker slept {n} times in 1 s: it backs off instead of sleeping on its ports")
    # Frames wake it: pings 200 ms apart (each finds the worker asleep) are answered long before
    # the 100 ms safety net would end its sleep.
    (ns, _), (_, ip) = af_hosts[0], af_hosts[1]
    r = ns.exec("ping", "-q", "-c", "5", "-i", "0.2", "-W", "1", ip, check=False)
    m = re.search(r"= [\d.]+/[\d.]+/([\d.]+)/", r.stdout)
    check(r.returncode == 0 and m, f"pings between the af_packet hosts failed: {r.stdout}")
    say(f"pings to a sleeping worker: max {m.group(1)} ms")
    check(float(m.group(1)) < 50, f"a ping to the sleeping worker took {m.group(1)} ms: frames do not wake it")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "mixed"
    if mode not in MODES:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(MODES)}")
    tslib.main({"tap": "pt", "net_tap": "pn", "mixed": "pm", "af_packet": "pa"}[mode],
               lambda t: test(t, mode))
