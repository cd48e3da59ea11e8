#!/usr/bin/python3
"""An attached persistent tap survives exit, with its gso_max_size given back (the switch caps it
while attached); the taps the switch created are gone after SIGTERM; the control socket and
DPDK's runtime directory are removed.

Port a is a persistent tap made beforehand (`ip tuntap add`), which the switch attaches to.
Ports b (raw-fd) and c (net_tap) are created by the switch. All three carry pings, then the
switch gets SIGTERM and must exit 0 with a clean log. A second switch on the surviving tap is
stopped by SIGHUP (its terminal closed), with the same clean exit. A third is killed (SIGKILL):
the fourth removes the runtime directory it left, and gives the tap the kernel's gso_max_size
back at exit although it found the killed switch's cap on it.
"""
import os
import signal

import tslib
from tslib import check, ping_all_pairs, say, sh


def gso_max_size(ns, ifname):
    words = sh("ip", *(["-n", ns] if ns else []), "-d", "link", "show", ifname).stdout.split()
    return words[words.index("gso_max_size") + 1] if "gso_max_size" in words else "?"


def test(t):
    pers = t.persistent_tap("a")
    own_gso = gso_max_size(None, pers)
    names = [pers, t.name("b"), t.name("c")]
    nss = [t.netns(s) for s in "abc"]
    ports = [f"tap:{pers}", f"tap:{names[1]}", f"dpdk:net_tap0,iface={names[2]}"]
    sw = t.daemon(ports)

    info = sw.ports()
    check(info[pers]["details"]["origin"] == "attached",
          f"{pers} should be attached, not {info[pers]['details'].get('origin')}")
    check(info[names[1]]["details"]["origin"] == "created",
          f"{names[1]} should be created, not {info[names[1]]['details'].get('origin')}")

    hosts = []
    for i, (ns, name) in enumerate(zip(nss, names)):
        ns.take(name, f"10.78.0.{i + 1}/24")
        hosts.append((ns, f"10.78.0.{i + 1}"))
    ping_all_pairs(hosts)

    ctl_path = sw.ctl_path
    check(os.path.exists(ctl_path), f"control socket {ctl_path} missing while running")
    sw.stop()  # asserts exit code 0, a clean log, no socket, no DPDK runtime directory
    check(not os.path.exists(ctl_path), f"control socket {ctl_path} left behind")

    check(nss[0].has_link(pers), f"persistent tap {pers} did not survive the switch's exit")
    details = sh("ip", "-n", nss[0].name, "-d", "link", "show", pers).stdout
    check("tun type tap" in details, f"{pers} is no longer a tap: {details}")
    gso = gso_max_size(nss[0].name, pers)
    check(gso == own_gso, f"{pers} kept gso_max_size {gso} after the switch's exit, not its own {own_gso}")
    for ns, name in zip(nss[1:], names[1:]):
        check(not ns.has_link(name), f"tap {name}, created by the switch, still exists in {ns.name}")
        check(not tslib.link_exists(name), f"tap {name}, created by the switch, still exists")
    say(f"after exit: {pers} (persistent) is still there, gso_max_size {gso}; {names[1]} and {names[2]} are gone")

    # The surviving tap can be attached again by a new switch, and still works.
    sh("ip", "-n", nss[0].name, "link", "set", pers, "netns", str(os.getpid()))
    sw2 = t.daemon([f"tap:{pers}", f"tap:{names[1]}"])
    nss[0].take(pers, "10.78.0.1/24")
    nss[1].take(names[1], "10.78.0.2/24")
    ping_all_pairs(hosts[:2])
    sw2.proc.send_signal(signal.SIGHUP)
    rc = sw2.proc.wait(timeout=30)
    check(rc == 0, f"tapswitch exited with {rc} after SIGHUP, not 0 after a clean shutdown:\n{sw2.log()}")
    check("received SIGHUP, shutting down" in sw2.log(), f"no shutdown on SIGHUP in the log:\n{sw2.log()}")
    sw2.stop()  # it has exited: only the checks (clean log, no socket, no DPDK runtime directory)
    check(nss[0].has_link(pers), f"persistent tap {pers} did not survive the second switch")
    gso = gso_max_size(nss[0].name, pers)
    check(gso == own_gso, f"{pers} kept gso_max_size {gso} after SIGHUP, not its own {own_gso}")
    check(not nss[1].has_link(names[1]) and not tslib.link_exists(names[1]),
          f"tap {names[1]}, created by the second switch, still exists")
    say(f"after SIGHUP: {pers} is still there, gso_max_size {gso}; {names[1]} is gone")

    # A switch killed outright leaves its cap on the tap and its DPDK runtime directory; the next
    # switch removes that directory at start and gives the tap the kernel's default back at exit.
    sh("ip", "-n", nss[0].name, "link", "set", pers, "netns", str(os.getpid()))
    sw3 = t.daemon([f"tap:{pers}"])
    capped = gso_max_size(None, pers)
    sw3.proc.kill()
    sw3.proc.wait(timeout=30)
    left = tslib.dpdk_runtime_dirs(sw3.pid, sw3.started)
    check(left and capped != own_gso, f"after SIGKILL: runtime dirs {left}, gso_max_size {capped}: the test "
          "expects a killed switch to leave both")
    sw4 = t.daemon([f"tap:{pers}"])
    check(not any(os.path.exists(d) for d in left), f"the next switch did not remove {left}")
    sw4.stop()
    gso = gso_max_size(None, pers)
    check(gso == own_gso, f"{pers} kept gso_max_size {gso} after a killed switch and a clean one, not {own_gso}")
    say(f"after SIGKILL: the next switch removed {len(left)} stale runtime directory and gave {pers} "
        f"gso_max_size {gso} back")


if __name__ == "__main__":
    tslib.main("lc", test)
