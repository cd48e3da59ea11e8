"""ntfwd: the plain DPDK net_tap io-forward baseline (bench/peers/ntfwd.cpp)."""
import contextlib
import os

from .. import netns, proc
from .base import System


class Ntfwd(System):
    key = "ntfwd"
    label = "DPDK net_tap io-fwd"
    tag = "nf"
    max_ports = 2

    def unavailable(self, s):
        return None if os.access(s.ntfwd, os.X_OK) else f"{s.ntfwd} not built"

    def describe(self, s):
        return f"ntfwd: two net_tap ports, rx_burst/tx_burst loop on CPU {s.switch_cpu}, no learning"

    @contextlib.contextmanager
    def start(self, s, log_prefix, nports=2, fdb_size=0, workers=1):
        names = netns.Names(self.tag)
        if_a, if_b = names.ifname("a"), names.ifname("b")
        # Two stacks: on the way out the forwarder stops before its namespaces go.
        with contextlib.ExitStack() as stack, contextlib.ExitStack() as procs:
            p = proc.Process([s.ntfwd, "--cpu", s.switch_cpu, if_a, if_b], log=log_prefix + ".log")
            procs.callback(stop_checked, p)
            proc.wait_until(lambda: netns.link_exists(if_a) and netns.link_exists(if_b), 30,
                            "ntfwd start", alive=p.alive)
            proc.wait_until(lambda: "forwarding" in open(p.log_path).read(), 30, "ntfwd ports", alive=p.alive)
            ns_a, ns_b = netns.attach(stack, names, if_a, if_b)
            yield netns.Topology(ns_a, ns_b, if_a, if_b, pid=p.pid)


def stop_checked(p):
    rc = p.stop()
    if rc != 0:
        raise proc.CommandError(f"ntfwd exited with {rc}; see {p.log_path}")
