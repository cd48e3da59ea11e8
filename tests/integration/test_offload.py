#!/usr/bin/python3
"""TCP through the switch with and without offloads, its data checked by sha256.

    test_offload.py tap | tap-off | tap-mixed | net_tap | net_tap-off

Two namespaces, a and b, one port each:
  tap          raw-fd taps, offload=on both       GSO frames cross the switch whole
  tap-off      raw-fd taps, offload=off both      plain frames only
  tap-mixed    a offload=on, b offload=off        a's GSO frames are cut in software for b
  net_tap      a raw-fd offload=on, b net_tap     the same, towards DPDK's net_tap
  net_tap-off  a raw-fd offload=off, b net_tap
16 MB of random data go each way over one TCP connection; the receiver's sha256 must match.
Then the counters: no drop of any offload reason; where a sends GSO frames, b's port took more
frames than a's gave (they were segmented), or the same number, whole, when b takes them.
"""
import sys

import tslib
from tslib import check, say
from tsoffload import fastio, tcp_transfer

MODES = {
    "tap": ("tap:{a},offload=on", "tap:{b},offload=on"),
    "tap-off": ("tap:{a},offload=off", "tap:{b},offload=off"),
    "tap-mixed": ("tap:{a},offload=on", "tap:{b},offload=off"),
    "net_tap": ("tap:{a},offload=on", "dpdk:net_tap0,iface={b}"),
    "net_tap-off": ("tap:{a},offload=off", "dpdk:net_tap0,iface={b}"),
}
OFFLOAD_DROPS = ("oversize", "no_mbuf", "bad_offload", "tx_full", "rx_oversize", "rx_errors", "tx_errors")


def test(t, mode):
    fastio(t)
    a_if, b_if = t.name("a"), t.name("b")
    specs = [s.format(a=a_if, b=b_if) for s in MODES[mode]]
    sw = t.daemon(specs)
    a, b = t.netns("a"), t.netns("b")
    a.take(a_if, "10.79.0.1/24")
    b.take(b_if, "10.79.0.2/24")
    a.exec("ping", "-c", "2", "-i", "0.2", "-W", "2", "10.79.0.2")
    before = sw.ports()

    gbps = tcp_transfer(t, a, b, "10.79.0.2", port=5301)
    say(f"{mode}: a -> b: 16 MB, sha256 equal ({gbps:.2f} Gbit/s)")
    mid = sw.ports()
    gbps = tcp_transfer(t, b, a, "10.79.0.1", port=5302)
    say(f"{mode}: b -> a: 16 MB, sha256 equal ({gbps:.2f} Gbit/s)")
    after = sw.ports()

    for name, p in after.items():
        bad = {k: v for k, v in p["drops"].items() if k in OFFLOAD_DROPS and v != before[name]["drops"].get(k, 0)}
        check(not bad, f"port {name} dropped frames: {bad}")
    pa, pb = after[a_if], after[b_if]
    if "offloads" in pa["details"]:
        check((pa["details"]["offloads"] == "off") == ("offload=off" in specs[0]),
              f"port a offloads: {pa['details']['offloads']}")
    # a -> b: what a's port received (rx) and what the switch gave b's port (switch tx).
    a_rx = mid[a_if]["switch"]["rx_packets"] - before[a_if]["switch"]["rx_packets"]
    a_rx_bytes = mid[a_if]["switch"]["rx_bytes"] - before[a_if]["switch"]["rx_bytes"]
    b_tx = mid[b_if]["switch"]["tx_packets"] - before[b_if]["switch"]["tx_packets"]
    say(f"{mode}: a -> b: {a_rx} frames in from a (avg {a_rx_bytes // max(a_rx, 1)} bytes), {b_tx} out to b")
    if mode in ("tap", "tap-mixed", "net_tap"):
        check(a_rx_bytes / max(a_rx, 1) > 3000, "a's kernel sent no GSO frames: the offloads did not take")
    if mode == "tap":
        check(b_tx == a_rx, f"GSO frames should cross whole: {a_rx} in, {b_tx} out")
    elif mode in ("tap-mixed", "net_tap"):
        check(b_tx > 2 * a_rx, f"GSO frames should be cut for b: {a_rx} in, {b_tx} out")
        check(all(f <= 1514 for f in [mid[b_if]["switch"]["tx_bytes"] // max(b_tx, 1)]),
              "segments longer than the MTU")
    else:
        check(a_rx_bytes / max(a_rx, 1) <= 1514, "frames larger than the MTU without offloads")
    sw.stop()


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "tap"
    if mode not in MODES:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(MODES)}")
    tslib.main({"tap": "ot", "tap-off": "of", "tap-mixed": "om", "net_tap": "on", "net_tap-off": "ox"}[mode],
               lambda t: test(t, mode))
