#!/usr/bin/python3
"""The FDB's policies through real taps in namespaces, with exact frame counts.

Three namespaces (tap, net_tap, tap), the switch started with --fdb-aging 2 and a static entry
for b's MAC. Checked, each with `show fdb -j` / `show fdb stats -j`:
  - aging: a's entry disappears after about 2 s without a frame from a, and frames to it flood
    again (before, they went to a only);
  - a MAC move from a's namespace to c's: the entry follows and `moved` counts it;
  - the static entry: frames from b's MAC sent by c are counted as static_conflicts and change
    nothing; frames to b's MAC still reach b only; it does not age;
  - `fdb add` / `fdb del` / `fdb flush port` from tapswitchctl.
Waits are polls bounded by a timeout that only limits a failure.
"""
import tslib
from tslib import check, say, sh, wait_for
from tsframes import BROADCAST, Endpoint, exchange, expect_counts

N = 10
STATIC = "02:54:46:00:00:0b"   # b's MAC, configured static on b's port
MOVER = "02:54:46:00:00:01"
ADDED = "02:54:46:00:00:0c"    # added at run time on c's port


def stats(sw):
    return sw.ctl("show", "fdb", "stats")


def test(t):
    t.prefix = "tf" + t.prefix[2:]  # this helper's own interface/namespace prefix
    names = [t.name(s) for s in "abc"]
    nss = [t.netns(s) for s in "abc"]
    ports = [f"tap:{names[0]}", f"dpdk:net_tap0,iface={names[1]}", f"tap:{names[2]}"]
    sw = t.daemon(ports, args=["--fdb-aging", "2", "--fdb-static", f"{STATIC},{names[1]}"])
    for ns, name in zip(nss, names):
        ns.take(name)  # no IP address: the kernel sends nothing, so counts are exact
    sh("ip", "-n", nss[1].name, "link", "set", names[1], "address", STATIC)
    a, b, c = eps = [Endpoint(ns, name) for ns, name in zip(nss, names)]
    check(b.mac == STATIC, f"b's MAC is {b.mac}")

    s = stats(sw)
    check(s["aging"] == 2 and s["static"] == 1, f"initial fdb stats: {s}")
    e = sw.fdb_entry(STATIC)
    check(e and e["type"] == "static" and e["port"] == b.ifname, f"static entry: {e}")

    # --- aging -------------------------------------------------------------------------------
    exchange(a, eps, lambda: a.send(BROADCAST))
    sw.wait_learned(a.mac, a.ifname)
    got = exchange(c, eps, lambda: c.send(a.mac, n=N))
    expect_counts(got, {a.label: N, b.label: 0, c.label: 0}, "frames to a while learned")
    aged_before = stats(sw)["aged"]
    wait_for(lambda: sw.fdb_entry(a.mac) is None, f"{a.mac} to age out; fdb: {sw.fdb()}", timeout=15)
    check(stats(sw)["aged"] > aged_before, f"aged did not move: {stats(sw)}")
    got = exchange(c, eps, lambda: c.send(a.mac, n=N))
    expect_counts(got, {a.label: N, b.label: N, c.label: 0}, "frames to a after it aged: flooded")
    say("aging: a's entry went after ~2 s idle and frames to a flood again")
    e = sw.fdb_entry(STATIC)
    check(e and e["type"] == "static", f"the static entry aged: {sw.fdb()}")
    check(e["age"] is None, f"a static entry has no age: {e}")

    # --- a MAC move between namespaces --------------------------------------------------------
    moved = stats(sw)["moved"]
    exchange(a, eps, lambda: a.send(BROADCAST, src=MOVER))
    sw.wait_learned(MOVER, a.ifname)
    exchange(c, eps, lambda: c.send(BROADCAST, src=MOVER))
    sw.wait_learned(MOVER, c.ifname)
    check(stats(sw)["moved"] == moved + 1, f"moved: {moved} -> {stats(sw)['moved']}")
    got = exchange(b, eps, lambda: b.send(MOVER, n=N))
    expect_counts(got, {a.label: 0, b.label: 0, c.label: N}, "frames to the MAC that moved to c")
    say("move: the entry followed MOVER from a to c and was counted")

    # --- static entry: anti-spoofing ----------------------------------------------------------
    conflicts = stats(sw)["static_conflicts"]
    sw.wait_learned(a.mac, a.ifname)  # a's markers taught it again
    got = exchange(c, eps, lambda: c.send(a.mac, src=STATIC, n=N))
    expect_counts(got, {a.label: N, b.label: 0, c.label: 0}, "spoofed frames from c to a")
    check(stats(sw)["static_conflicts"] == conflicts + N,
          f"static_conflicts: {conflicts} -> {stats(sw)['static_conflicts']}, expected +{N}")
    e = sw.fdb_entry(STATIC)
    check(e["port"] == b.ifname and e["type"] == "static", f"the static entry moved: {e}")
    got = exchange(a, eps, lambda: a.send(STATIC, n=N))
    expect_counts(got, {a.label: 0, b.label: N, c.label: 0}, "frames to the static MAC")
    say(f"static: {N} spoofed frames counted, the entry stayed on {b.ifname}")

    # --- fdb add / del / flush ----------------------------------------------------------------
    sw.ctl("fdb", "add", ADDED, c.ifname)
    e = sw.fdb_entry(ADDED)
    check(e and e["type"] == "static" and e["port"] == c.ifname, f"fdb add: {e}")
    got = exchange(a, eps, lambda: a.send(ADDED, n=N))
    expect_counts(got, {a.label: 0, b.label: 0, c.label: N}, "frames to a MAC added by fdb add")
    sw.ctl("fdb", "del", ADDED)
    check(sw.fdb_entry(ADDED) is None, "fdb del left the entry")
    got = exchange(a, eps, lambda: a.send(ADDED, n=N))
    expect_counts(got, {a.label: 0, b.label: N, c.label: N}, "frames to a deleted MAC: flooded")
    flushed = stats(sw)["flushed"]
    r = sw.ctl("fdb", "flush", "port", a.ifname)
    check(r["removed"] >= 1 and sw.fdb_entry(a.mac) is None, f"fdb flush port: {r}; fdb {sw.fdb()}")
    check(stats(sw)["flushed"] == flushed + r["removed"], f"flushed: {stats(sw)}")
    check(sw.fdb_entry(STATIC) is not None, "a flush of learned entries removed the static one")
    bad = sw.ctl_run("fdb", "add", "01:00:5e:00:00:01", c.ifname)
    check(bad.returncode != 0 and "group address" in bad.stderr, f"fdb add of a group MAC: {bad.stderr}")
    say("ctl: fdb add, del and flush port behave")

    s = stats(sw)
    check(s["entries"] == sum(1 for _ in sw.fdb()), f"entries {s['entries']} != listed {len(sw.fdb())}")
    say(f"fdb stats: {s}")
    sw.stop()


if __name__ == "__main__":
    tslib.main("fd", test)
