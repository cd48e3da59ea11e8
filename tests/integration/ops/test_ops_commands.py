#!/usr/bin/python3
"""Every tapswitchctl command, in text and in JSON (-j), against a switch that forwards.

Two namespaces ping each other through two raw-fd taps. Each command the switch lists in
`help` is run both ways and its output checked; at the end the test fails if `help` lists a
command it did not run, or one that docs/tapswitchctl.8 does not document.
"""
import json
import os
import re
import subprocess

import opslib
import tslib
from tslib import check, say
from tslib import ping_all_pairs

HERE = os.path.dirname(os.path.abspath(__file__))
MAN = os.path.join(HERE, "..", "..", "..", "docs", "tapswitchctl.8")
MAN_DAEMON = os.path.join(HERE, "..", "..", "..", "docs", "tapswitch.8")


def man_text(path):
    with open(path) as f:
        return f.read().replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "")


def command_words(usage):
    """'fdb flush [port NAME | vlan N] [all]' -> ('fdb', 'flush')."""
    words = []
    for w in usage.split():
        if not re.fullmatch(r"[a-z]+", w):
            break
        words.append(w)
    return tuple(words)


def test(t):
    na, nb = t.netns("a"), t.netns("b")
    a, b, c, d = t.name("a"), t.name("b"), t.name("c"), t.name("d")
    sw = t.daemon([f"tap:{a}", f"tap:{b}"])
    na.take(a, "10.79.0.1/24")
    nb.take(b, "10.79.0.2/24")
    ping_all_pairs([(na, "10.79.0.1"), (nb, "10.79.0.2")])
    mac_a, mac_b = na.mac(a), nb.mac(b)
    done = set()

    def both(*args):
        """Runs the command as text and as JSON; returns (text, data)."""
        text = opslib.ctl_text(sw, *args)
        data = sw.ctl(*args)
        return text, data

    # help
    text, data = both("help")
    listed = {command_words(e["command"]): e["command"] for e in data}
    for e in data:
        check(e["command"] in text, f"help text lacks {e['command']}")
    done.add(("help",))
    say(f"help lists {len(listed)} commands")

    # show ...
    text, data = both("show", "ports")
    check({p["name"] for p in data} == {a, b}, f"show ports -j: {data}")
    check(a in text and b in text and "RX_PKTS" in text, f"show ports text:\n{text}")
    check(all(p["rx_packets"] > 0 for p in data), f"no traffic counted: {data}")
    done.add(("show", "ports"))

    text, data = both("show", "fdb")
    macs = {e["mac"]: e for e in data}
    check(macs.get(mac_a, {}).get("port") == a and macs.get(mac_b, {}).get("port") == b, f"show fdb -j: {data}")
    check(mac_a in text and mac_b in text, f"show fdb text:\n{text}")
    done.add(("show", "fdb"))

    text, data = both("show", "fdb", "stats")
    check(data["entries"] >= 2 and data["learned"] >= 2, f"show fdb stats -j: {data}")
    check("entries" in text, f"show fdb stats text:\n{text}")
    done.add(("show", "fdb", "stats"))

    text, data = both("show", "workers")
    check(len(data) == 1 and data[0]["rx_frames"] > 0, f"show workers -j: {data}")
    check("WORKER" in text and a in text, f"show workers text:\n{text}")
    done.add(("show", "workers"))

    text, data = both("show", "stats")
    check({p["name"] for p in data["ports"]} == {a, b} and data["pool"]["size"] > 0, f"show stats -j: {data}")
    check("mbuf pool" in text, f"show stats text:\n{text}")
    done.add(("show", "stats"))

    # port add / del, once as text and once as JSON
    out = opslib.ctl_text(sw, "port", "add", f"tap:{c}")
    check(f"port {c} added" in out and tslib.link_exists(c), f"port add text: {out}")
    data = sw.ctl("port", "add", f"tap:{d}")
    check(data["name"] == d and data["kind"] == "tap", f"port add -j: {data}")
    check(set(sw.ports()) == {a, b, c, d}, f"ports after add: {list(sw.ports())}")
    out = opslib.ctl_text(sw, "port", "del", c)
    check(f"port {c} removed" in out, f"port del text: {out}")
    data = sw.ctl("port", "del", d)
    check(data == {"removed": d}, f"port del -j: {data}")
    tslib.wait_for(lambda: not tslib.link_exists(c) and not tslib.link_exists(d), "removed taps to disappear")
    done.update({("port", "add"), ("port", "del")})

    # fdb add / del / flush
    static1, static2 = "02:00:5e:00:00:01", "02:00:5e:00:00:02"
    opslib.ctl_text(sw, "fdb", "add", static1, a)
    sw.ctl("fdb", "add", static2, b, "vlan", "5")
    fdb = {(e["mac"], e["vlan"]): e for e in sw.fdb()}
    check(fdb.get((static1, 0), {}).get("type") == "static", f"fdb add text: {fdb}")
    check(fdb.get((static2, 5), {}).get("port") == b, f"fdb add -j: {fdb}")
    opslib.ctl_text(sw, "fdb", "del", static1)
    sw.ctl("fdb", "del", static2, "vlan", "5")
    check(not any(e["mac"] in (static1, static2) for e in sw.fdb()), f"fdb del: {sw.fdb()}")
    opslib.ctl_text(sw, "fdb", "flush", "port", a)
    check(sw.fdb_entry(mac_a) is None, f"fdb flush port {a}: {sw.fdb()}")
    data = sw.ctl("fdb", "flush")
    check(isinstance(data, dict) and sw.fdb() == [], f"fdb flush -j: {data}, left {sw.fdb()}")
    done.update({("fdb", "add"), ("fdb", "del"), ("fdb", "flush")})

    # log level
    check(opslib.ctl_text(sw, "log", "level") == "log level info\n", "log level text")
    data = sw.ctl("log", "level", "debug")
    check(data == {"level": "debug", "previous": "info"}, f"log level debug -j: {data}")
    check(sw.ctl("log", "level") == {"level": "debug"}, "log level -j after the change")
    check("was debug" in opslib.ctl_text(sw, "log", "level", "info"), "log level info text")
    r = sw.ctl_run("log", "level", "loud")
    check(r.returncode == 1 and "loud" in r.stderr, f"log level loud: rc {r.returncode} {r.stderr}")
    done.add(("log", "level"))

    # capture (start, status and stop are what `tapswitchctl capture` sends)
    pinger = subprocess.Popen(["ip", "netns", "exec", na.name, "ping", "-i", "0.05", "-q", "10.79.0.2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tslib._cleanup.push(pinger.kill)
    try:
        f1, f2 = os.path.join(t.tmp, "c1.pcapng"), os.path.join(t.tmp, "c2.pcapng")
        out = opslib.ctl_text(sw, "capture", a, "-w", f1, "-c", "3")
        check("3 frames captured" in out and os.path.getsize(f1) > 0, f"capture text: {out}")
        data = sw.ctl("capture", b, "-w", f2, "-c", "2", "--dir", "rx")
        check(data["written"] == 2 and data["done"], f"capture -j: {data}")
    finally:
        pinger.kill()
        pinger.wait()
    r = sw.ctl_run("capture", "status", "999")
    check(r.returncode == 1, f"capture status of an unknown id: rc {r.returncode}")
    done.update({("capture", "start"), ("capture", "status"), ("capture", "stop")})

    missing = sorted(" ".join(w) for w in listed if w not in done)
    check(not missing, f"help lists commands this test does not run: {missing}")
    man = man_text(MAN)
    undocumented = sorted(" ".join(w) for w in listed if " ".join(w) not in man)
    check(not undocumented, f"docs/tapswitchctl.8 does not document: {undocumented}")
    say(f"ran {len(done)} commands in text and JSON; all are in the man page")
    options = set(re.findall(r"^\s+(?:-\w \[ )?(--[a-z-]+)", tslib.sh(t.tapswitch, "--help").stdout, re.M))
    daemon_man = man_text(MAN_DAEMON)
    undocumented = sorted(o for o in options if o not in daemon_man)
    check(len(options) > 15 and not undocumented, f"docs/tapswitch.8 does not document: {undocumented}")
    say(f"all {len(options)} tapswitch options are in tapswitch(8)")
    sw.stop()


if __name__ == "__main__":
    opslib.main("cmd", test)
