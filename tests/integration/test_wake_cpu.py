#!/usr/bin/python3
"""Where a pinned adaptive worker wakes up (--wake-cpu).

With the worker pinned to one CPU and pings sent from another every 20 ms (so the worker sleeps
between them): the default (--wake-cpu others) lets the kernel wake the worker only outside its
CPU, where the sender runs: every wake-up is counted in wakes_away, and the sleeping worker's
affinity is every CPU but its own. With --wake-cpu any the sleeping worker's affinity covers
every CPU and it wakes up away at least sometimes. Under sustained traffic (a flood ping) it
pins itself home again. With --wake-cpu home it never leaves its CPU. Needs two CPUs.
"""
import os
import sys
import threading
import time

import tslib
from tslib import SKIP, check, say, wait_for

PINGS = 40


def worker_tid(pid):
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().startswith("rte-worker"):
                return tid
    raise tslib.TestFailure(f"no rte-worker thread in tapswitch (pid {pid})")


def allowed(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    return "?"


def cpu_list(text):
    out = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def run(t, wake, home, sender):
    tag = wake[0]
    ports = [f"tap:{t.name(tag + 'a')}", f"tap:{t.name(tag + 'b')}"]
    sw = t.daemon(ports, args=["--lcores", str(home), "--wake-cpu", wake])
    a, b = t.netns(tag + "a"), t.netns(tag + "b")
    a.take(t.name(tag + "a"), "10.79.7.1/24")
    b.take(t.name(tag + "b"), "10.79.7.2/24")
    tid = worker_tid(sw.pid)
    wait_for(lambda: a.exec("ping", "-c", "1", "-W", "1", "10.79.7.2", check=False).returncode == 0,
             "a first ping through the switch", timeout=10)

    # Sparse pings from the sender's CPU: the worker sleeps between them.
    before = sw.ctl("show", "workers")[0]
    r = a.exec("taskset", "-c", str(sender), "ping", "-q", "-c", str(PINGS), "-i", "0.02", "-W", "1", "10.79.7.2",
               check=False, timeout=30)
    check(r.returncode == 0 and f"{PINGS} received" in r.stdout, f"pings lost: {r.stdout}")
    w = sw.ctl("show", "workers")[0]
    check(w["wake_cpu"] == wake, f"show workers says wake_cpu {w['wake_cpu']}, expected {wake}")
    check(w["cpus"] == [home], f"show workers says the worker's CPUs are {w['cpus']}, expected [{home}]")
    sleeps = w["sleeps"] - before["sleeps"]
    away = w["wakes_away"] - before["wakes_away"]
    check(sleeps >= PINGS // 2, f"the worker slept {sleeps} times in {PINGS} pings 20 ms apart")
    idle_set = allowed(sw.pid, tid)
    say(f"--wake-cpu {wake}: {sleeps} sleeps, {away} wake-ups away from CPU {home}; asleep on CPUs {idle_set}")

    # Sustained traffic: a flood ping keeps the worker awake, so it works from its own CPU.
    samples = []
    flood = threading.Thread(target=lambda: a.exec("taskset", "-c", str(sender), "ping", "-q", "-f", "-w", "2",
                                                   "10.79.7.2", check=False, timeout=30))
    flood.start()
    time.sleep(0.3)
    while flood.is_alive():
        samples.append(allowed(sw.pid, tid))
        time.sleep(0.02)
    flood.join()
    at_home = sum(1 for s in samples if s == str(home))
    say(f"during a flood ping, the worker was pinned home in {at_home} of {len(samples)} samples")

    if wake == "others":
        check(away >= sleeps - 2, f"the worker woke away from CPU {home} only {away} times after {sleeps} sleeps")
        want = set(os.sched_getaffinity(0)) - {home}
        check(cpu_list(idle_set) == want, f"a sleeping worker may run on CPUs {idle_set}, expected {sorted(want)}")
    if wake == "any":
        check(away >= 1, f"the worker never woke away from CPU {home} in {PINGS} pings sent from CPU {sender}")
        check(cpu_list(idle_set) == set(os.sched_getaffinity(0)), f"a sleeping worker may run only on CPUs {idle_set}")
    if wake != "home":
        check(at_home >= len(samples) // 2, f"under sustained traffic the worker stayed away from CPU {home}: "
                                            f"{samples}")
    else:
        check(away == 0, f"--wake-cpu home: the worker woke away from CPU {home} {away} times")
        check(idle_set == str(home), f"--wake-cpu home: a sleeping worker may run on CPUs {idle_set}")
        check(at_home == len(samples), f"--wake-cpu home: the worker left CPU {home}: {samples}")
    sw.stop()


def test(t):
    cpus = sorted(os.sched_getaffinity(0))
    home, sender = cpus[-1], cpus[0]
    for wake in ("others", "any", "home"):
        run(t, wake, home, sender)


if __name__ == "__main__":
    if len(os.sched_getaffinity(0)) < 2:
        say(f"SKIP: needs two CPUs, this process may use {sorted(os.sched_getaffinity(0))}")
        sys.exit(SKIP)
    tslib.main("wc", test)
