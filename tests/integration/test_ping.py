#!/usr/bin/python3
"""Ping every pair across three or more switch ports, for one mix of port kinds.

    test_ping.py tap | net_tap | mixed | af_packet

Each namespace owns one port: raw-fd taps (tap:), DPDK's net_tap (dpdk:net_tapN,iface=), both
mixed, or af_packet on the host end of a veth whose other end is in the namespace.
"""
import sys

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
    sw.stop()


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "mixed"
    if mode not in MODES:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(MODES)}")
    tslib.main({"tap": "pt", "net_tap": "pn", "mixed": "pm", "af_packet": "pa"}[mode],
               lambda t: test(t, mode))
