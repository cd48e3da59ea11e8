#!/usr/bin/python3
"""tapswitch --check-config: good and bad configuration files.

A good file prints "configuration OK" and exits 0; each bad one prints its one-line error and
exits 2. Either way nothing is started: no tap appears, no control socket, no DPDK directory.
"""
import os

import opslib
import tslib
from tslib import check, say

GOOD = """\
# every kind of port, placement and access
port = tap:{a}
port = dpdk:net_tap0,iface={b},queues=2
port = tapfd:7,name=guest
workers = 2
rxq-affinity = {b}:1=1
rxq-affinity = {a}:0=0
ctl = {ctl}
ctl-group = users
log-level = debug
memory = 256
eal = --no-huge --no-pci --no-shconf -m 256 'two words'
fdb-size = 1024
"""

BAD = [
    # (label, file text, what the error must say)
    ("unknown key", "colour = red\n", "unrecognised option 'colour'"),
    ("malformed port", "port = tap\n", "expected KIND:ARGS"),
    ("duplicate port", "port = tap:{a}\nport = tap:{a}\n", "already configured"),
    ("pin to a missing port", "port = tap:{a}\nrxq-affinity = nope:0=0\n", "there is no port named 'nope'"),
    ("pin to a missing queue", "port = tap:{a}\nrxq-affinity = {a}:3=0\n", "queue 3 does not exist"),
    ("pin to a missing worker", "port = tap:{a}\nrxq-affinity = {a}:0=4\n", "names worker 4"),
    ("unknown group", "ctl-group = no-such-group-tapswitch\n", "no group named 'no-such-group-tapswitch'"),
    ("CPU not allowed", "lcores = 0,999\n", "CPU 999"),
    ("bad log level", "log-level = loud\n", "--log-level: 'loud'"),
    ("unbalanced EAL quote", "eal = --no-huge 'x\n", "unterminated quote"),
    ("too little memory", "memory = 1\n", "--memory"),
]


def nothing_started(t, label, pid, ctl):
    left = [n for n in tslib.link_names() if n.startswith(t.prefix)]
    check(not left, f"{label}: --check-config created interfaces: {left}")
    check(not os.path.exists(ctl), f"{label}: --check-config created the control socket")
    dirs = [d for d in opslib.runtime_dirs(pid) if os.path.exists(d)]
    check(not dirs, f"{label}: --check-config started DPDK: {dirs}")


def write(t, name, text):
    path = os.path.join(t.tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test(t):
    a, b = t.name("a"), t.name("b")
    ctl = os.path.join(t.tmp, "ctl.sock")
    fmt = {"a": a, "b": b, "ctl": ctl}

    good = write(t, "good.conf", GOOD.format(**fmt))
    r = opslib.run_tapswitch(t, ["--check-config", "--config", good])
    check(r.returncode == 0 and r.stdout == "configuration OK\n" and r.stderr == "",
          f"good file: rc {r.returncode}, stdout {r.stdout!r}, stderr {r.stderr!r}")
    nothing_started(t, "good file", r.pid, ctl)
    say("good file: configuration OK, nothing started")

    cpu = sorted(os.sched_getaffinity(0))[0]
    r = opslib.run_tapswitch(t, ["--check-config", "--port", f"tap:{a}", "--lcores", str(cpu),
                                 "--rxq-affinity", f"{a}:0=0"])
    check(r.returncode == 0, f"--lcores {cpu}: {r.stderr}")

    # The installed example configuration checks too.
    example = os.path.join(os.path.dirname(__file__), "..", "..", "..", "configs", "example.conf")
    r = opslib.run_tapswitch(t, ["--check-config", "--config", example])
    check(r.returncode == 0, f"configs/example.conf: {r.stderr}")

    for label, text, want in BAD:
        path = write(t, "bad.conf", text.format(**fmt))
        r = opslib.run_tapswitch(t, ["--check-config", "--config", path, "--ctl", ctl])
        lines = r.stderr.splitlines()
        check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith("tapswitch: error: ")
              and want in lines[0] and r.stdout == "",
              f"{label}: rc {r.returncode}, stdout {r.stdout!r}, stderr {r.stderr!r} (want {want!r})")
        nothing_started(t, label, r.pid, ctl)
        say(f"ok  {label}: {lines[0]}")

    r = opslib.run_tapswitch(t, ["--check-config", "--config", os.path.join(t.tmp, "missing.conf")])
    check(r.returncode == 2 and "cannot read" in r.stderr, f"missing file: {r.stderr}")
    # Options on the command line are checked with the file.
    r = opslib.run_tapswitch(t, ["--check-config", "--config", good, "--port", f"tap:{a}"])
    check(r.returncode == 2 and "already configured" in r.stderr, f"command line + file: {r.stderr}")


if __name__ == "__main__":
    opslib.main("chk", test)
