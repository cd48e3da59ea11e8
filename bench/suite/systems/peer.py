"""A peer forwarder we build ourselves (bench/peers/): one process, started with
`--cpu CPU IFACE_A IFACE_B`, that creates both interfaces, says "forwarding" in its log when it
is ready, prints its counters and exits 0 on SIGTERM."""
import contextlib
import os

from .. import netns, proc
from .base import System


class PeerForwarder(System):
    max_ports = 2
    binary_setting = ""  # the Settings attribute holding the binary's path

    def binary(self, s):
        return getattr(s, self.binary_setting)

    def unavailable(self, s):
        return None if os.access(self.binary(s), os.X_OK) else f"{self.binary(s)} not built"

    @contextlib.contextmanager
    def start(self, s, log_prefix, nports=2, fdb_size=0, workers=1):
        names = netns.Names(self.tag)
        if_a, if_b = names.ifname("a"), names.ifname("b")
        # Two stacks: on the way out the forwarder stops before its namespaces go.
        with contextlib.ExitStack() as stack, contextlib.ExitStack() as procs:
            p = proc.Process([self.binary(s), "--cpu", s.switch_cpu, if_a, if_b], log=log_prefix + ".log")
            procs.callback(self.stop_checked, p)
            proc.wait_until(lambda: netns.link_exists(if_a) and netns.link_exists(if_b), 30,
                            f"{self.key} start", alive=p.alive)
            proc.wait_until(lambda: "forwarding" in open(p.log_path).read(), 30, f"{self.key} ports",
                            alive=p.alive)
            ns_a, ns_b = netns.attach(stack, names, if_a, if_b)
            yield netns.Topology(ns_a, ns_b, if_a, if_b, pid=p.pid)

    def stop_checked(self, p):
        rc = p.stop()
        if rc != 0:
            raise proc.CommandError(f"{self.key} exited with {rc}; see {p.log_path}")
