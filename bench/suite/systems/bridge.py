"""Linux bridge + veth pairs: the reference every figure is divided by."""
import contextlib

from .. import netns, proc
from .base import System


def set_rps(ifname, cpu):
    """Receive packet steering: frames a veth receives are processed on `cpu`."""
    with open(f"/sys/class/net/{ifname}/queues/rx-0/rps_cpus", "w") as f:
        f.write(format(1 << cpu, "x"))


class LinuxBridge(System):
    key = "bridge"
    label = "Linux bridge"
    tag = "lb"
    max_ports = 0
    fdb_scaling = True

    def describe(self, s):
        where = (f"RPS on the bridge's veth ends steers forwarding to CPU {s.switch_cpu}" if s.bridge_rps
                 else "forwarding runs in softirq on the sender's CPU (no RPS)")
        return f"bridge (STP off) + veth pairs; {where}"

    @contextlib.contextmanager
    def start(self, s, log_prefix, nports=2, fdb_size=0, workers=1):
        names = netns.Names(self.tag)
        br = names.ifname("br")
        with contextlib.ExitStack() as stack:
            proc.run(["ip", "link", "add", br, "type", "bridge"])
            stack.callback(netns.del_link, br)
            ends = [("a", "ax"), ("b", "bx")] + [(f"i{k}", f"j{k}") for k in range(nports - 2)]
            lines = []
            for inner, outer in ends:
                i, o = names.ifname(inner), names.ifname(outer)
                lines += [f"link add {i} type veth peer name {o}", f"link set dev {o} master {br}",
                          f"link set dev {o} up"]
            proc.ip_batch(lines)
            # Deleting one end of a veth deletes both; the namespaces take the inner ends away.
            for _, outer in ends:
                stack.callback(netns.del_link, names.ifname(outer))
            if s.bridge_rps:
                for _, outer in ends[:2]:
                    set_rps(names.ifname(outer), s.switch_cpu)
            proc.run(["ip", "link", "set", "dev", br, "up"])
            if_a, if_b = names.ifname("a"), names.ifname("b")
            idle = [names.ifname(inner) for inner, _ in ends[2:]]
            ns_a, ns_b = netns.attach(stack, names, if_a, if_b, idle)
            slab0 = slab_objects()
            yield netns.Topology(ns_a, ns_b, if_a, if_b, pid=None, fdb_count=lambda: fdb_count(br, slab0))


SLAB = "/sys/kernel/slab/net_bridge_fdb_entry/objects"
EXACT_LIMIT = 100000


def slab_objects():
    try:
        return int(open(SLAB).read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def fdb_count(br, slab0):
    """Learned (dynamic) entries of the bridge. The kernel's FDB dump restarts from the first
    entry for every netlink message, so listing a million entries takes minutes; past
    EXACT_LIMIT the count is estimated from the growth of the slab cache that holds FDB entries
    (shared with a few other caches of the same object size: approximate)."""
    now = slab_objects()
    if slab0 is not None and now is not None and now - slab0 > EXACT_LIMIT:
        return now - slab0
    n = 0
    for line in proc.out(["bridge", "fdb", "show", "br", br], timeout=300).splitlines():
        if "permanent" not in line and "static" not in line:
            n += 1
    return n
