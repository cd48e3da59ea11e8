"""rwfwd: the naive read()/write() forwarder between two raw-fd taps (bench/peers/rwfwd.cpp)."""
import contextlib
import os

from .. import netns, proc
from .base import System


class Rwfwd(System):
    key = "rwfwd"
    label = "naive read/write fwd"
    tag = "rw"
    max_ports = 2

    def unavailable(self, s):
        return None if os.access(s.rwfwd, os.X_OK) else f"{s.rwfwd} not built"

    def describe(self, s):
        return (f"rwfwd: two raw-fd taps with IFF_VNET_HDR and TUNSETOFFLOAD, poll() then one read() and "
                f"one write() per frame on CPU {s.switch_cpu}, no learning")

    @contextlib.contextmanager
    def start(self, s, log_prefix, nports=2, fdb_size=0, workers=1):
        names = netns.Names(self.tag)
        if_a, if_b = names.ifname("a"), names.ifname("b")
        # Two stacks: on the way out the forwarder stops before its namespaces go.
        with contextlib.ExitStack() as stack, contextlib.ExitStack() as procs:
            p = proc.Process([s.rwfwd, "--cpu", s.switch_cpu, if_a, if_b], log=log_prefix + ".log")
            procs.callback(stop_checked, p)
            proc.wait_until(lambda: "forwarding" in open(p.log_path).read(), 30, "rwfwd start", alive=p.alive)
            ns_a, ns_b = netns.attach(stack, names, if_a, if_b)
            yield netns.Topology(ns_a, ns_b, if_a, if_b, pid=p.pid)


def stop_checked(p):
    rc = p.stop()
    if rc != 0:
        raise proc.CommandError(f"rwfwd exited with {rc}; see {p.log_path}")
