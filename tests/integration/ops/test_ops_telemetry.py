#!/usr/bin/python3
"""DPDK telemetry reads the same numbers as tapswitchctl.

After traffic between two namespaces, /tapswitch/ports (and /tapswitch/ports,NAME),
/tapswitch/fdb_stats, /tapswitch/workers and /tapswitch/stats on DPDK's telemetry socket must
equal `show ports -j`, `show fdb stats -j`, `show workers -j` and `show stats -j`. Counters only
move with traffic, so a telemetry reading taken between two equal tapswitchctl readings must
equal them. /tapswitch/ports and /tapswitch/stats list the port names; a port's figures are
asked with its name (",NAME"), so 130 ports fit in DPDK's 16 KB reply. DPDK's own client,
dpdk-telemetry.py (package dpdk-dev), is used too when present.
"""
import json
import shutil
import subprocess
import threading

import opslib
import tslib
from tslib import ping_all_pairs
from tslib import check, say

PORT_FIELDS = ["id", "name", "kind", "state", "rx_queues", "tx_queues", "rx_packets", "rx_bytes",
               "tx_packets", "tx_bytes", "flooded", "dropped", "switch"]


def stable(sw, read_telemetry, ctl_args):
    """(ctl reading, telemetry reading) taken between two equal ctl readings."""
    for _ in range(20):
        before = sw.ctl(*ctl_args)
        tel = read_telemetry()
        after = sw.ctl(*ctl_args)
        if before == after:
            return before, tel
    raise tslib.TestFailure(f"{' '.join(ctl_args)} never held still")


def test(t):
    na, nb = t.netns("a"), t.netns("b")
    a, b = t.name("a"), t.name("b")
    sw = t.daemon([f"tap:{a}", f"dpdk:net_tap0,iface={b}"])
    na.take(a, "10.81.0.1/24")
    nb.take(b, "10.81.0.2/24")
    ping_all_pairs([(na, "10.81.0.1"), (nb, "10.81.0.2")])
    tel = opslib.Telemetry(sw.pid)

    commands = tel.query("/")
    for c in ("/tapswitch/ports", "/tapswitch/fdb_stats", "/tapswitch/workers", "/tapswitch/stats"):
        check(c in commands, f"{c} is not registered: {commands}")

    got = tel.query("/tapswitch/ports")
    check(sorted(got) == sorted([a, b]), f"/tapswitch/ports names: {got}")
    for name in (a, b):
        ctl, one = stable(sw, lambda: tel.query(f"/tapswitch/ports,{name}"), ["show", "ports"])
        p = next(p for p in ctl if p["name"] == name)
        for f in PORT_FIELDS:
            check(one[f] == p[f], f"{name}.{f}: telemetry {one[f]} != ctl {p[f]}")
        check(one["drops"] == p["drops"], f"/tapswitch/ports,{name} drops: {one['drops']} != {p['drops']}")
        check(p["rx_packets"] > 0 and p["tx_packets"] > 0, f"no traffic on {name}: {p}")
    say(f"/tapswitch/ports lists {got}; /tapswitch/ports,NAME = show ports -j for each")
    check(tel.query("/tapswitch/ports,nosuchport") is None, "an unknown port must answer null")

    ctl, got = stable(sw, lambda: tel.query("/tapswitch/fdb_stats"), ["show", "fdb", "stats"])
    check(got == ctl and ctl["entries"] >= 2, f"/tapswitch/fdb_stats {got} != {ctl}")

    ctl, got = stable(sw, lambda: tel.query("/tapswitch/stats"), ["show", "stats"])
    check(got["pool"] == ctl["pool"] and got["rx_frames"] == ctl["rx_frames"], f"/tapswitch/stats {got} != {ctl}")
    check(sorted(got["ports"]) == sorted(p["name"] for p in ctl["ports"]), f"/tapswitch/stats ports: {got['ports']}")
    for name in (a, b):
        ctl, one = stable(sw, lambda: tel.query(f"/tapswitch/stats,{name}"), ["show", "stats"])
        p = next(p for p in ctl["ports"] if p["name"] == name)
        check(one["rx_packets"] == p["rx_packets"] and one["drops"] == p["drops"], f"/tapswitch/stats,{name}: {one}")

    workers = tel.query("/tapswitch/workers")
    ctl_workers = sw.ctl("show", "workers")
    check(len(workers) == len(ctl_workers) == 1, f"/tapswitch/workers: {workers}")
    w = workers["0"]
    check(w["lcore"] == ctl_workers[0]["lcore"] and w["rx_frames"] <= ctl_workers[0]["rx_frames"]
          and w["rx_frames"] > 0, f"/tapswitch/workers: {w} vs {ctl_workers[0]}")

    # Telemetry runs on DPDK's own threads while the control thread adds and removes ports:
    # every reply must show a whole port set, never a half-added or half-removed port.
    # (A new name each cycle: re-adding a tap the instant it was removed is another test's
    # subject, tests/integration/test_runtime.py.)
    extra = [t.name(f"c{i:x}") for i in range(15)]
    replies, errors, stop = [], [], threading.Event()

    def hammer():
        try:
            reader = opslib.Telemetry(sw.pid)
            while not stop.is_set():
                replies.append(set(reader.query("/tapswitch/ports")))
            reader.close()
        except Exception as e:  # reported below
            errors.append(e)

    th = threading.Thread(target=hammer)
    th.start()
    try:
        for c in extra:
            sw.ctl("port", "add", f"tap:{c}")
            sw.ctl("port", "del", c)
    finally:
        stop.set()
        th.join(30)
    check(not errors, f"telemetry failed during port add/del: {errors}")
    odd = [r for r in replies if not (r == {a, b} or (len(r) == 3 and {a, b} < r and (r - {a, b}) <= set(extra)))]
    check(replies and not odd, f"{len(replies)} telemetry replies, odd port sets: {odd[:3]}")
    say(f"{len(replies)} telemetry readings during 15 port add/del cycles, all consistent")
    tel.close()

    client = shutil.which("dpdk-telemetry.py")
    if client:
        r = subprocess.run([client, "-f", f"tapswitch-{sw.pid}"], input="/tapswitch/fdb_stats\n",
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, f"dpdk-telemetry.py: {r.stderr}")
        got = json.loads(r.stdout.strip().splitlines()[-1])["/tapswitch/fdb_stats"]
        check(got == sw.ctl("show", "fdb", "stats"), f"dpdk-telemetry.py: {got}")
        say("dpdk-telemetry.py reads the same FDB counters")
    else:
        say("dpdk-telemetry.py not installed (package dpdk-dev): raw client only")
    sw.stop()

    # Many ports: every name is listed (a reply over DPDK's 16 KB used to be cut short silently).
    many = [t.name(f"m{i:x}") for i in range(130)]
    big = t.daemon([f"tap:{n}" for n in many])
    tel = opslib.Telemetry(big.pid)
    got = tel.query("/tapswitch/ports")
    check(sorted(got or []) == sorted(many), f"/tapswitch/ports lists {len(got or [])} of {len(many)} ports")
    got = tel.query("/tapswitch/stats")
    check(sorted(got["ports"]) == sorted(many), f"/tapswitch/stats lists {len(got['ports'])} of {len(many)} ports")
    check(tel.query(f"/tapswitch/ports,{many[-1]}")["name"] == many[-1], "the last port's own reply")
    tel.close()
    big.stop()
    say(f"{len(many)} ports: /tapswitch/ports and /tapswitch/stats list every one")


if __name__ == "__main__":
    opslib.main("tel", test)
