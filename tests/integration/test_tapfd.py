#!/usr/bin/python3
"""An adopted fd works: the test opens /dev/net/tun itself (TUNSETIFF, IFF_TAP | IFF_NO_PI), the
way a VM manager does for qemu, hands the fd to tapswitch as `--port tapfd:N,name=LABEL`, and
pings through it to a raw-fd tap and a net_tap port; `show ports` names each one's namespace.

The switch closes its copy at exit; the interface belongs to the parent (this test), so it
stays until the test closes its own fd.
"""
import tslib
from tslib import check, ping_all_pairs, say


def test(t):
    tapname, fd = t.hold_tap("a")
    label = t.name("vm")
    names = [tapname, t.name("b"), t.name("c")]
    nss = [t.netns(s) for s in "abc"]
    ports = [f"tapfd:{fd},name={label}", f"tap:{names[1]}", f"dpdk:net_tap0,iface={names[2]}"]
    sw = t.daemon(ports, pass_fds=(fd,))

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
    entry = sw.wait_learned(nss[0].mac(tapname), label)
    say(f"adopted fd {fd} as {label} ({tapname}): pings answered, fdb {entry}")

    sw.stop()
    check(nss[0].has_link(tapname), f"{tapname} vanished while this test still holds its fd")
    t.release_tap(fd)
    tslib.wait_for(lambda: not nss[0].has_link(tapname), f"{tapname} to go once its last fd closed")


if __name__ == "__main__":
    tslib.main("fd", test)
