#!/usr/bin/python3
"""A MAC flood does not hurt other hosts: fair eviction keeps the FDB within its cap.

Three namespaces: p and q ping each other while f sends thousands of frames from random source
MACs. The switch runs with --fdb-size 256. The pings lose nothing, the table never holds more
than 256 entries (checked while the flood runs), entries are evicted from f's port only, and p
and q stay learned on their ports throughout.
"""
import random
import subprocess
import time

import tslib
from tslib import check, say
from tsframes import Endpoint
from tslib import ping_all_pairs

CAP = 256
MIN_FLOOD = 5000
PINGS = 40


def stats(sw):
    return sw.ctl("show", "fdb", "stats")


def test(t):
    t.prefix = "tf" + t.prefix[2:]  # this helper's own interface/namespace prefix
    names = [t.name(s) for s in "pqf"]
    nsp, nsq, nsf = [t.netns(s) for s in "pqf"]
    ports = [f"tap:{names[0]}", f"dpdk:net_tap0,iface={names[1]}", f"tap:{names[2]}"]
    sw = t.daemon(ports, args=["--fdb-size", str(CAP)])
    nsp.take(names[0], "10.77.0.1/24")
    nsq.take(names[1], "10.77.0.2/24")
    nsf.take(names[2])
    hosts = [(nsp, "10.77.0.1"), (nsq, "10.77.0.2")]
    ping_all_pairs(hosts)
    mac_p, mac_q = nsp.mac(names[0]), nsq.mac(names[1])
    sw.wait_learned(mac_p, names[0])
    sw.wait_learned(mac_q, names[1])
    f = Endpoint(nsf, names[2])

    pings = [subprocess.Popen(["ip", "netns", "exec", a.name, "ping", "-c", str(PINGS), "-i", "0.05", "-W", "1",
                               "-q", ip], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for (a, _), (_, ip) in ((hosts[0], hosts[1]), (hosts[1], hosts[0]))]
    rng = random.Random(7)
    sent, peak = 0, 0
    while sent < MIN_FLOOD or any(p.poll() is None for p in pings):
        for _ in range(200):
            src = "02:66:%02x:%02x:%02x:%02x" % tuple(rng.randrange(256) for _ in range(4))
            f.send("02:66:ff:ff:ff:ff", src=src)
        sent += 200
        peak = max(peak, stats(sw)["entries"])
        check(peak <= CAP, f"the FDB holds {peak} entries, over its cap of {CAP}")
        time.sleep(0.005)
    for p in pings:
        out = p.communicate(timeout=30)[0]
        check(p.returncode == 0 and f"{PINGS} received" in out, f"pings lost during the flood: {out.strip()}")
    s = stats(sw)
    say(f"flood: {sent} random sources, table peak {peak}/{CAP}; pings {PINGS}/{PINGS} both ways; stats {s}")
    check(s["entries"] <= CAP, f"entries {s['entries']} over the cap")
    check(s["evicted"] > 0, f"nothing was evicted: {s}")
    e_p, e_q = sw.fdb_entry(mac_p), sw.fdb_entry(mac_q)
    check(e_p and e_p["port"] == names[0] and e_q and e_q["port"] == names[1],
          f"p or q lost its entry during the flood: {e_p} {e_q}")
    per_port = {}
    for e in sw.fdb():
        per_port[e["port"]] = per_port.get(e["port"], 0) + 1
    check(per_port.get(names[0]) == 1 and per_port.get(names[1]) == 1, f"entries per port: {per_port}")
    sw.stop()


if __name__ == "__main__":
    tslib.main("ff", test)
