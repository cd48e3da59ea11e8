"""Open vSwitch, userspace (netdev) datapath, type=tap ports; its own private ovsdb-server and
ovs-vswitchd in a temporary directory, no systemd, stopped by the pids they wrote."""
import contextlib
import os
import re
import shutil
import tempfile

from .. import netns, proc
from .base import System

SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


class Ovs(System):
    max_ports = 0

    def __init__(self, tso):
        self.tso = tso
        self.key = "ovs-tso" if tso else "ovs"
        self.label = "OVS userspace + TSO" if tso else "OVS userspace"
        self.tag = "ot" if tso else "ov"

    def unavailable(self, s):
        for b in ("ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl"):
            if not shutil.which(b):
                return f"{b} not installed (openvswitch-switch)"
        if not os.path.exists(SCHEMA):
            return f"{SCHEMA} missing"
        return None

    def describe(self, s):
        tso = "userspace-tso-enable=true" if self.tso else "no TSO"
        return (f"datapath_type=netdev, type=tap ports, {tso}; ovs-vswitchd pinned to CPU {s.switch_cpu} "
                "(taps are polled by its main thread)")

    @contextlib.contextmanager
    def start(self, s, log_prefix, nports=2, fdb_size=0, workers=1):
        names = netns.Names(self.tag)
        br, if_a, if_b = names.ifname("br"), names.ifname("a"), names.ifname("b")
        idle = [names.ifname(f"i{k}") for k in range(nports - 2)]
        d = tempfile.mkdtemp(prefix=names.base + "-")
        env = dict(os.environ, OVS_RUNDIR=d, OVS_LOGDIR=d, OVS_DBDIR=d)
        vsctl = ["ovs-vsctl", f"--db=unix:{d}/db.sock", "--timeout=120"]
        with contextlib.ExitStack() as stack, contextlib.ExitStack() as procs:
            procs.callback(shutil.rmtree, d, True)
            procs.callback(collect_logs, d, log_prefix)
            proc.run(["ovsdb-tool", "create", f"{d}/conf.db", SCHEMA], env=env)
            proc.run(["ovsdb-server", f"{d}/conf.db", f"--remote=punix:{d}/db.sock", f"--pidfile={d}/ovsdb.pid",
                      "--detach", f"--log-file={d}/ovsdb.log"], cpu=s.gen_cpu, env=env)
            procs.callback(proc.kill_pidfile, f"{d}/ovsdb.pid")
            proc.run(vsctl + ["--no-wait", "init"], env=env)
            if self.tso:
                proc.run(vsctl + ["--no-wait", "set", "Open_vSwitch", ".",
                                  "other_config:userspace-tso-enable=true"], env=env)
            proc.run(["ovs-vswitchd", f"unix:{d}/db.sock", f"--pidfile={d}/vswitchd.pid", "--detach",
                      f"--log-file={d}/vswitchd.log"], cpu=s.switch_cpu, env=env)
            procs.callback(proc.kill_pidfile, f"{d}/vswitchd.pid")
            proc.run(vsctl + ["add-br", br, "--", "set", "bridge", br, "datapath_type=netdev"], env=env)
            procs.callback(proc.run, vsctl + ["--if-exists", "del-br", br], env=env, check=False)
            if fdb_size:
                proc.run(vsctl + ["set", "bridge", br, f"other_config:mac-table-size={fdb_size + fdb_size // 4}"],
                         env=env)
            ports = [if_a, if_b] + idle
            for i in range(0, len(ports), 64):
                args = []
                for p in ports[i:i + 64]:
                    args += ["--", "add-port", br, p, "--", "set", "Interface", p, "type=tap"]
                proc.run(vsctl + args[1:], env=env, timeout=300)
            proc.wait_until(lambda: all(netns.link_exists(p) for p in (if_a, if_b)), 30, "OVS tap ports")
            ns_a, ns_b = netns.attach(stack, names, if_a, if_b, idle)
            pid = int(open(f"{d}/vswitchd.pid").read().strip())
            yield netns.Topology(ns_a, ns_b, if_a, if_b, pid=pid, fdb_count=lambda: fdb_count(vsctl, br, env))


def fdb_count(vsctl, br, env):
    appctl = ["ovs-appctl", "-t", f"{env['OVS_RUNDIR']}/ovs-vswitchd.{read_pid(env)}.ctl", "fdb/show", br]
    lines = proc.out(appctl, env=env, timeout=300).splitlines()
    return max(0, len(lines) - 1)


def read_pid(env):
    return open(f"{env['OVS_RUNDIR']}/vswitchd.pid").read().strip()


def collect_logs(d, log_prefix):
    """Keeps OVS's logs with the run's other logs (the private directory is removed)."""
    for name in ("vswitchd.log", "ovsdb.log"):
        if os.path.exists(f"{d}/{name}"):
            shutil.copy(f"{d}/{name}", f"{log_prefix}.{name}")


def log_problems(log_prefix):
    """WARN/ERR lines ovs-vswitchd logged (OVS's own tests fail on these)."""
    try:
        text = open(f"{log_prefix}.vswitchd.log", errors="replace").read()
    except OSError:
        return []
    return [line for line in text.splitlines() if re.search(r"\|(WARN|ERR|EMER)\|", line)]
