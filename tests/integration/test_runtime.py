#!/usr/bin/python3
"""Operating a running switch: ports added and removed while others forward, an interface
deleted under the switch, and capture.

 1. 200 cycles of `port add` / `port del` (raw-fd taps, every tenth a net_tap) while a and b
    ping each other fast: no ping is lost, and the mbuf pool and the daemon's fd count return
    to their baselines.
 1b. 20 times, a raw-fd tap on io_uring removed with `port del` is gone when the command
    returns, and a net_tap takes its name at once.
 2. A `recreate=on` tap is deleted with `ip link del`: the switch logs it once, flushes its
    FDB entries, re-creates it, and a and b keep forwarding all along.
 3. `tapswitchctl capture PORT -w FILE -c N` writes N frames that tshark reads back, with the
    addresses of the ping; `-c ten` is a usage error that names -c and makes no file.
"""
import os
import subprocess
import threading
import time

import tslib
from tslib import check, say, sh, wait_for

CYCLES = 200
RELEASE_CYCLES = 20
STASH_SLACK = 64 * 2


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test(t):
    a_if, b_if, r_if = t.name("a"), t.name("b"), t.name("r")
    sw = t.daemon([f"tap:{a_if}", f"tap:{b_if}", f"tap:{r_if},recreate=on"], args=["--workers", "2"],
                  allow=[rf"warning port {r_if}: its interface was deleted"])
    na, nb = t.netns("a"), t.netns("b")
    na.take(a_if, "10.80.0.1/24")
    nb.take(b_if, "10.80.0.2/24")
    sh("ip", "link", "set", r_if, "up")
    r = na.exec("ping", "-c", "3", "-i", "0.2", "-q", "10.80.0.2", check=False)
    check(r.returncode == 0, f"a cannot ping b:\n{r.stdout}")
    pool0 = sw.ctl("show", "stats")["pool"]["in_use"]
    fds0 = fd_count(sw.pid)

    # 1. Port churn under traffic.
    # Pings run in whole batches of 50 for as long as the churn lasts, so none is cut short.
    churning = threading.Event()
    churning.set()
    results = []

    def pinger():
        while churning.is_set():
            r = na.exec("ping", "-c", "50", "-i", "0.01", "-W", "1", "-q", "10.80.0.2", check=False, timeout=60)
            results.append(r.stdout)

    th = threading.Thread(target=pinger)
    th.start()
    start = time.monotonic()
    for i in range(CYCLES):
        net_tap = i % 10 == 9
        name = t.name("y" if net_tap else "x")
        spec = f"dpdk:net_tap9,iface={name}" if net_tap else f"tap:{name}"
        r = sw.ctl_run("port", "add", spec)
        check(r.returncode == 0, f"cycle {i}: port add {spec}: {r.stderr.strip()}")
        r = sw.ctl_run("port", "del", name)
        check(r.returncode == 0, f"cycle {i}: port del {name}: {r.stderr.strip()}")
    took = time.monotonic() - start
    churning.clear()
    th.join()
    lossy = [o for o in results if " 0% packet loss" not in o]
    check(results and not lossy, f"pings were lost while ports came and went:\n{''.join(lossy)}")
    say(f"{CYCLES} port add/del cycles in {took:.1f} s; {50 * len(results)} pings in {len(results)} batches, none lost")
    for sfx in "xy":
        wait_for(lambda: not tslib.link_exists(t.name(sfx)), f"removed port {t.name(sfx)} to disappear")
    wait_for(lambda: sw.ctl("show", "stats")["pool"]["in_use"] <= pool0 + STASH_SLACK,
             f"the mbuf pool to return to its baseline {pool0}")
    # A control connection may be closing at either sample; a leak only ever adds fds.
    wait_for(lambda: fd_count(sw.pid) <= fds0, f"the fd count to return to its baseline {fds0}")
    say(f"mbuf pool {sw.ctl('show', 'stats')['pool']['in_use']} (baseline {pool0}), fds {fds0}: back to baseline")

    # 1b. A removed raw-fd tap on io_uring is let go by the time `port del` returns: its
    #     interface is gone at once (no armed poll still holds the tun file), and a net_tap takes
    #     the name straight away.
    for i in range(RELEASE_CYCLES):
        name = t.name("z")
        r = sw.ctl_run("port", "add", f"tap:{name},io=uring")
        check(r.returncode == 0, f"release {i}: port add tap:{name},io=uring: {r.stderr.strip()}")
        r = sw.ctl_run("port", "del", name)
        check(r.returncode == 0, f"release {i}: port del {name}: {r.stderr.strip()}")
        check(not os.path.exists(f"/sys/class/net/{name}"),
              f"release {i}: {name} still exists when `port del` has returned")
        r = sw.ctl_run("port", "add", f"dpdk:net_tap8,iface={name}")
        check(r.returncode == 0, f"release {i}: net_tap on {name} right after the raw-fd tap left: {r.stderr.strip()}")
        r = sw.ctl_run("port", "del", name)
        check(r.returncode == 0, f"release {i}: port del {name} (net_tap): {r.stderr.strip()}")
    say(f"{RELEASE_CYCLES} times a raw-fd tap deleted with `port del` was gone at once and a net_tap took its name")

    # 2. An interface deleted under the switch, re-created by it.
    sh("ip", "link", "del", r_if)
    wait_for(lambda: tslib.link_exists(r_if) and sw.ports()[r_if]["state"] != "gone",
             f"{r_if} to be re-created and attached again", timeout=10)
    r = na.exec("ping", "-c", "20", "-i", "0.01", "-q", "10.80.0.2", check=False)
    check(r.returncode == 0 and " 0% packet loss" in r.stdout, f"a and b stopped forwarding:\n{r.stdout}")
    check(sw.log().count("its interface was deleted") == 1, "the deletion must be logged exactly once")
    say(f"{r_if} deleted, logged once, re-created; a and b kept forwarding")

    # 3. Capture.
    pcap = os.path.join(t.tmp, "cap.pcapng")
    cap = subprocess.Popen([t.tapswitchctl, "--ctl", sw.ctl_path, "capture", a_if, "-w", pcap, "-c", "10"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.3)
    na.exec("ping", "-c", "10", "-i", "0.05", "-q", "10.80.0.2", check=False)
    out = cap.communicate(timeout=20)[0]
    check(cap.returncode == 0 and "10 frames captured" in out, f"capture: rc {cap.returncode}: {out}")
    r = sh("tshark", "-r", pcap, "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-Y", "icmp", check=False)
    rows = [l.split("\t") for l in r.stdout.splitlines() if l.strip()]
    frames = sh("tshark", "-r", pcap, "-T", "fields", "-e", "frame.number").stdout.split()
    check(len(frames) == 10, f"tshark reads {len(frames)} frames, expected 10")
    check(rows and all(set(x) == {"10.80.0.1", "10.80.0.2"} for x in rows), f"unexpected ICMP addresses: {rows}")
    say(f"capture: 10 frames, tshark reads {len(frames)}, {len(rows)} ICMP between 10.80.0.1 and 10.80.0.2")
    bad = os.path.join(t.tmp, "bad.pcapng")
    r = sh(t.tapswitchctl, "--ctl", sw.ctl_path, "capture", a_if, "-w", bad, "-c", "ten", check=False)
    check(r.returncode == 2 and "-c 'ten'" in r.stderr and "--count" not in r.stderr and not os.path.exists(bad),
          f"capture -c ten: rc {r.returncode}, stderr {r.stderr.strip()!r}, file made: {os.path.exists(bad)}")
    say("capture -c ten: a usage error naming -c (exit 2), no file made")
    sw.stop()


if __name__ == "__main__":
    tslib.main("rt", test)
