"""tapswitch, with raw-fd TAP ports (tap:), DPDK net_tap ports (dpdk:net_tap...), or link: ports
on the host ends of veth pairs (the bridge's own plumbing)."""
import contextlib
import json
import os
import re

from .. import netns, proc
from .base import System

KIND_LABEL = {"tap": "tapswitch (tap)", "net_tap": "tapswitch (net_tap)", "link": "tapswitch (link, veth)"}
KIND_TAG = {"tap": "tr", "net_tap": "tn", "link": "tl"}


def has_option(binary, option):
    r = proc.run([binary, "--help"], check=False)
    return re.search(rf"(^|\s|\[ ){re.escape(option)}\b", r.stdout) is not None


def memory_mb(kind, nports, fdb_size, queues=1):
    mbufs = 8192 + nports * queues * (1088 if kind == "net_tap" else 96)  # link: as tap
    # A raw-fd tap queue also keeps up to 80 (32 in-flight reads with io_uring + 48) 64 KB
    # buffers for GSO frames: about 5.3 MB (tapswitch's own --memory default accounts for the same).
    big = nports * queues * 5.5 if kind in ("tap", "link") else 0
    mb = 256 + mbufs * 2.5 / 1024 + big + fdb_size * 128 / 2**20
    return int((mb + 63) // 64 * 64)


class Tapswitch(System):
    tag = ""
    max_ports = 0
    fdb_scaling = True

    def __init__(self, kind, workers=1, poll=None, io=None, wake=None, ring=None):
        """workers > 1: that many workers, each port with as many queues (a multi-queue tap);
        poll: --poll busy or adaptive (None: tapswitch's default, adaptive);
        io: --tap-io syscall or uring (None: tapswitch's default, auto);
        wake: --wake-cpu any or home (None: tapswitch's default, others);
        ring: "off" reads link: ports with recvmsg() instead of a receive ring (None: the default, on)."""
        self.kind = kind
        self.workers = workers
        self.poll = poll
        self.io = io
        self.wake = wake
        self.ring = ring
        self.key = f"tapswitch-{kind.replace('_', '')}"
        self.label = KIND_LABEL[kind]
        self.tag = KIND_TAG[kind]
        if workers > 1:
            self.key += f"-w{workers}"
            self.label += f", {workers} workers"
            self.tag = {"tap": "tw", "net_tap": "tu", "link": "tv"}[kind]
        if poll:
            self.key += f"-{poll}"
            self.label += f", --poll {poll}"
            self.tag = "tb" if poll == "busy" else "ta"
        if io:
            self.key += f"-{io}"
            self.label += f", --tap-io {io}"
            self.tag = "ts" if io == "syscall" else "tq" if poll == "busy" else "ty"
        if ring:
            self.key += f"-ring{ring}"
            self.label += f", ring={ring}"
            self.tag = "tz"
        if wake:
            self.key += f"-{wake}"
            self.label += f", --wake-cpu {wake}"
            self.tag = "th" if wake == "home" else "tk"
        self.max_ports = 0 if kind == "tap" else 16  # 256 net_tap ports want ~700 MB of mbufs
        self.fdb_scaling = kind == "tap" and workers == 1 and not poll and not io and not wake
        self.ports_scaling = workers == 1 and not poll and not wake and not ring  # the others: core table only

    def unavailable(self, s):
        for b in (s.tapswitch, s.ctl_binary()):
            if not os.access(b, os.X_OK):
                return f"{b} not built"
        return None

    def lcores(self, s, workers):
        ncpu = os.cpu_count() or 1
        cores = [f"0@({s.gen_cpu})"]
        cores += [f"{w + 1}@({(s.switch_cpu + w) % ncpu})" for w in range(workers)]
        return ",".join(cores)

    def describe(self, s):
        if self.workers > 1:
            cpus = ", ".join(str((s.switch_cpu + w) % (os.cpu_count() or 1)) for w in range(self.workers))
            where = (f"{self.workers} workers on CPUs {cpus} (sharing the generators' CPU), {self.workers} "
                     f"queues per port")
        else:
            where = f"worker on CPU {s.switch_cpu}"
        poll = f", --poll {self.poll}" if self.poll else ""
        io = f", --tap-io {self.io}" if self.io else ""
        wake = f", --wake-cpu {self.wake}" if self.wake else ""
        return (f"{self.kind} ports; EAL --lcores={self.lcores(s, self.workers)}: {where}, "
                f"control thread on CPU {s.gen_cpu}{poll}{io}{wake}")

    def spec(self, index, ifname):
        q = f",queues={self.workers}" if self.workers > 1 else ""
        if self.kind == "link":
            r = f",ring={self.ring}" if self.ring else ""
            return f"link:{ifname}x{q}{r}"  # the host end of the veth whose other end is ifname
        return f"tap:{ifname}{q}" if self.kind == "tap" else f"dpdk:net_tap{index},iface={ifname}{q}"

    @staticmethod
    def veths(stack, ifnames):
        """link: ports: a veth pair per port, NAME (for a namespace) and NAMEx (for the switch),
        up, with IPv6 off on the switch's end (as the bridge has its veth ends)."""
        lines = []
        for i in ifnames:
            lines += [f"link add {i} type veth peer name {i}x", f"link set dev {i}x up"]
            stack.callback(netns.del_link, f"{i}x")
        proc.ip_batch(lines)
        for i in ifnames:
            with open(f"/proc/sys/net/ipv6/conf/{i}x/disable_ipv6", "w") as f:
                f.write("1")

    @contextlib.contextmanager
    def start(self, s, log_prefix, nports=2, fdb_size=0, workers=None):
        workers = workers or self.workers
        names = netns.Names(self.tag)
        if_a, if_b = names.ifname("a"), names.ifname("b")
        idle = [names.ifname(f"i{k}") for k in range(nports - 2)]
        sock = f"/tmp/{names.base}.sock"
        table = max(65536, fdb_size + fdb_size // 4)
        mem = memory_mb(self.kind, nports, table, queues=self.workers)
        eal = (f"--no-huge --no-pci --no-shconf -m {mem} --lcores={self.lcores(s, workers)} "
               "--log-level=lib.eal:notice")
        cmd = [s.tapswitch, "--ctl", sock, "--log-level", "info", "--eal", eal, "--fdb-size", table]
        if workers > 1:
            cmd += ["--workers", workers]
        if self.poll:
            cmd += ["--poll", self.poll]
        if self.io:
            cmd += ["--tap-io", self.io]
        if self.wake:
            cmd += ["--wake-cpu", self.wake]
        for i, ifname in enumerate([if_a, if_b] + idle):
            cmd += ["--port", self.spec(i, ifname)]
        ctl = [s.ctl_binary(), "--ctl", sock, "-j"]
        with contextlib.ExitStack() as stack, contextlib.ExitStack() as procs:
            if self.kind == "link":
                self.veths(stack, [if_a, if_b] + idle)
            p = proc.Process(cmd, log=log_prefix + ".log")
            procs.callback(stop_checked, p)
            proc.wait_until(lambda: proc.run(ctl + ["show", "ports"], check=False).returncode == 0, 120,
                            "tapswitch start", alive=p.alive, interval=0.1)
            ns_a, ns_b = netns.attach(stack, names, if_a, if_b, idle)

            def fdb_count():
                return json.loads(proc.out(ctl + ["show", "fdb", "stats"]))["entries"]

            yield netns.Topology(ns_a, ns_b, if_a, if_b, pid=p.pid, fdb_count=fdb_count)


def stop_checked(p):
    """Stops tapswitch with SIGTERM; a clean stop exits 0 and logs no WARN or ERROR."""
    rc = p.stop()
    if rc != 0:
        raise proc.CommandError(f"tapswitch exited with {rc}; see {p.log_path}")
    bad = [line for line in open(p.log_path, errors="replace")
           if re.match(r"\S+ (warning|warn|error|critical) ", line)]
    if bad:
        raise proc.CommandError(f"tapswitch logged {len(bad)} WARN/ERROR lines, first: {bad[0].strip()}")
