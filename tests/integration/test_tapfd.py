#!/usr/bin/python3
"""An adopted fd works: the test opens /dev/net/tun itself (TUNSETIFF, IFF_TAP | IFF_NO_PI), the
way a VM manager does for qemu, hands the fd to tapswitch as `--port tapfd:N,name=LABEL`, and
pings through it to a raw-fd tap and a net_tap port; `show ports` names each one's namespace.
At run time, `port add tapfd:N` takes only an fd the switch inherited and no port adopted yet:
one of the switch's own fds is refused and left alone, and an inherited fd whose port was
refused can be adopted by a corrected command.

The switch closes its copy at exit; the interface belongs to the parent (this test), so it
stays until the test closes its own fd.
"""
import os

import tslib
from tslib import check, ping_all_pairs, say


def test(t):
    tapname, fd = t.hold_tap("a")
    spare_name, spare = t.hold_tap("e")  # inherited too, adopted only at run time
    # Both passed under numbers well above the switch's own fds (the switch closes an inherited
    # fd once its port is in place, and that number is then reused for fds of its own).
    held = fd
    fd, spare = t.keep_fd(os.dup2(fd, 121)), t.keep_fd(os.dup2(spare, 120))
    label = t.name("vm")
    names = [tapname, t.name("b"), t.name("c")]
    nss = [t.netns(s) for s in "abc"]
    ports = [f"tapfd:{fd},name={label}", f"tap:{names[1]}", f"dpdk:net_tap0,iface={names[2]}"]
    sw = t.daemon(ports, pass_fds=(fd, spare))

    p = sw.ports().get(label)
    check(p is not None, f"no port named {label}: {list(sw.ports())}")
    check(p["kind"] == "tapfd" and p["details"].get("origin") == "adopted",
          f"port {label} is not an adopted fd: {p}")
    check(p["details"].get("ifname") == tapname, f"port {label} is not on {tapname}: {p['details']}")

    hosts = []
    for i, (ns, name) in enumerate(zip(nss, names)):
        ns.take(name, f"10.79.0.{i + 1}/24")
        hosts.append((ns, f"10.79.0.{i + 1}"))
    ping_all_pairs(hosts)
    # show ports says where each port's interface is now: all three were moved into namespaces.
    where = {n: sw.ports()[n].get("netns") for n in (label, names[1], names[2])}
    check(where == {label: nss[0].name, names[1]: nss[1].name, names[2]: nss[2].name},
          f"show ports places the interfaces in {where}")
    text = sw.ctl_run("show", "ports").stdout
    check(all(ns.name in text for ns in nss), f"show ports text lacks the namespaces:\n{text}")
    p = sw.ports()[label]
    check(p["rx_packets"] > 0 and p["tx_packets"] > 0, f"no traffic counted on {label}: {p}")
    check(f"added as id 0; its tap was opened without IFF_VNET_HDR, so it has no offloads" in sw.log(),
          "the log does not say that the adopted tap (no IFF_VNET_HDR) has no offloads")
    entry = sw.wait_learned(nss[0].mac(tapname), label)
    say(f"adopted fd {fd} as {label} ({tapname}): pings answered, fdb {entry}")

    # tapfd: at run time adopts only an fd the switch inherited. Naming one of its own (here the
    # tap:'s fd) is refused and leaves that fd, and its port, alone: before, the refusal closed
    # it, and the tap: port lost its interface.
    own = sw.ports()[names[1]]["details"]["fd"]
    r = sw.ctl_run("port", "add", f"tapfd:{own},name={t.name('x')}")
    check(r.returncode == 1 and "was not inherited" in r.stderr, f"port add tapfd:{own} (the switch's own fd): rc "
          f"{r.returncode}, said {r.stderr.strip()!r}")
    check(os.path.exists(f"/proc/{sw.pid}/fd/{own}") and sw.ports()[names[1]]["state"] == "up",
          f"refusing tapfd:{own} closed the fd of port {names[1]}: {sw.ports()[names[1]]}")
    ping_all_pairs(hosts)
    # An inherited fd whose port is refused (two queues from a single-queue tap) stays on offer:
    # the corrected command adopts it; once adopted, it is not on offer again.
    r = sw.ctl_run("port", "add", f"tapfd:{spare},queues=2")
    check(r.returncode == 1 and "single-queue tap" in r.stderr, f"port add tapfd:{spare},queues=2 (a single-queue "
          f"tap): rc {r.returncode}, said {r.stderr.strip()!r}")
    r = sw.ctl_run("port", "add", f"tapfd:{spare}")
    check(r.returncode == 0 and sw.ports()[spare_name]["details"].get("ifname") == spare_name,
          f"port add tapfd:{spare} after a refused try: rc {r.returncode}, said {r.stderr.strip()!r}")
    r = sw.ctl_run("port", "del", spare_name)
    check(r.returncode == 0, f"port del {spare_name}: {r.stderr.strip()}")
    r = sw.ctl_run("port", "add", f"tapfd:{spare},name={t.name('y')}")
    check(r.returncode == 1 and "adopted by a port already" in r.stderr,
          f"port add tapfd:{spare} a second time: rc {r.returncode}, said {r.stderr.strip()!r}")
    say("tapfd: at run time: the switch's own fd refused (its port untouched), an inherited fd adopted after a "
        "refused try, and not again after its port's removal")

    sw.stop()
    check(nss[0].has_link(tapname), f"{tapname} vanished while this test still holds its fd")
    t.release_tap(fd)
    t.release_tap(held)
    tslib.wait_for(lambda: not nss[0].has_link(tapname), f"{tapname} to go once its last fd closed")


if __name__ == "__main__":
    tslib.main("fd", test)
