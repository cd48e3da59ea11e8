"""Names, namespaces and interfaces of one system under test.

Every namespace and interface the suite creates is named "tb" + a two-letter system tag + the
suite's pid + a short suffix, at most 15 characters (IFNAMSIZ - 1), so that runs never collide
with each other or with anything else on the machine, and a sweep can find leftovers by prefix.
"""
import json
import os
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from . import proc

IP_A, IP_B = "10.77.0.1", "10.77.0.2"
PREFIX_LEN = 24


class Names:
    def __init__(self, tag, pid=None):
        assert len(tag) == 2
        self.base = f"tb{tag}{pid or os.getpid()}"

    def ifname(self, suffix):
        name = self.base + suffix
        if len(name) > 15:
            raise ValueError(f"interface name {name} is longer than 15 characters")
        return name

    def ns(self, role):
        return self.base + role


@dataclass
class Topology:
    """Two namespaces joined through a system: frames go from if_a in ns_a to if_b in ns_b."""
    ns_a: str
    ns_b: str
    if_a: str
    if_b: str
    ip_a: str = IP_A
    ip_b: str = IP_B
    pid: Optional[int] = None                       # the forwarder's process, if it has one
    fdb_count: Optional[Callable[[], int]] = None   # learned MACs, if the system can say
    notes: List[str] = field(default_factory=list)


def add_ns(name):
    proc.run(["ip", "netns", "add", name])
    # No IPv6: no router solicitations or neighbour discovery in the counters.
    for key in ("all", "default"):
        proc.run(["sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"], ns=name)
    proc.run(["ip", "-n", name, "link", "set", "lo", "up"])


def del_ns(name):
    proc.run(["ip", "netns", "del", name], check=False)


def link_exists(name, ns=None):
    argv = ["ip"] + (["-n", ns] if ns else []) + ["link", "show", "dev", name]
    return proc.run(argv, check=False).returncode == 0


def del_link(name, ns=None):
    if link_exists(name, ns):
        proc.run(["ip"] + (["-n", ns] if ns else []) + ["link", "del", "dev", name], check=False)


def attach(stack, names, if_a, if_b, idle=()):
    """Creates pa and pb (and pc for idle ports), moves the interfaces there, addresses a and b
    and brings everything up. Registers namespace deletion on `stack`. Returns (ns_a, ns_b)."""
    ns_a, ns_b = names.ns("pa"), names.ns("pb")
    for ns, ifname, ip in ((ns_a, if_a, IP_A), (ns_b, if_b, IP_B)):
        add_ns(ns)
        stack.callback(del_ns, ns)
        proc.run(["ip", "link", "set", "dev", ifname, "netns", ns])
        proc.run(["ip", "-n", ns, "addr", "add", f"{ip}/{PREFIX_LEN}", "dev", ifname])
        proc.run(["ip", "-n", ns, "link", "set", "dev", ifname, "up"])
    if idle:
        ns_c = names.ns("pc")
        add_ns(ns_c)
        stack.callback(del_ns, ns_c)
        proc.ip_batch([f"link set dev {i} netns {ns_c}" for i in idle])
        proc.ip_batch([f"link set dev {i} up" for i in idle], ns=ns_c)
    return ns_a, ns_b


def counters(ns, ifname):
    """The kernel's counters of an interface: rx_packets, tx_packets, rx_dropped, ..."""
    data = json.loads(proc.out(["ip", "-n", ns, "-s", "-j", "link", "show", "dev", ifname]))
    s = data[0]["stats64"]
    return {"rx_packets": s["rx"]["packets"], "rx_bytes": s["rx"]["bytes"], "rx_dropped": s["rx"]["dropped"],
            "tx_packets": s["tx"]["packets"], "tx_bytes": s["tx"]["bytes"], "tx_dropped": s["tx"]["dropped"]}


def mac(ns, ifname):
    data = json.loads(proc.out(["ip", "-n", ns, "-j", "link", "show", "dev", ifname]))
    return data[0]["address"]


def ours(name, pid):
    """True if `name` was made by suite process `pid`: tb + tag (2) + pid + a non-digit suffix."""
    rest = name[4 + len(pid):]
    return name.startswith("tb") and name[4:4 + len(pid)] == pid and rest[:1].isalpha()


def sweep(pid=None):
    """Deletes every namespace and root-namespace link left behind by suite process `pid`."""
    pid = str(pid or os.getpid())
    for line in proc.out(["ip", "netns", "list"], check=False).splitlines():
        name = line.split()[0] if line.split() else ""
        if ours(name, pid):
            del_ns(name)
    for link in json.loads(proc.out(["ip", "-j", "link", "show"], check=False) or "[]"):
        name = link.get("ifname", "")
        if ours(name, pid):
            del_link(name)
