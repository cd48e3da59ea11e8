"""bench/run: the command line and the order of the run."""
import argparse
import datetime
import os
import re
import shutil
import signal
import sys
import time

from . import machine, micro, netns, plots, report, scaling, workloads
from .settings import BENCH_DIR, Settings
from .stats import Results
from .systems import all_systems
from .systems.ovs import log_problems

CORE = ("tcp", "rate", "ping", "loadping", "idle")
STUDIES = ("ports", "fdb", "workers")
OTHER = ("micro",)


def parse(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=(
        "Runs the tapswitch benchmark suite: the same workloads, in the same run, on tapswitch "
        "(tap: and net_tap ports), the Linux bridge, Open vSwitch (userspace, with and without TSO) "
        "and a plain DPDK net_tap forwarder. Needs root."))
    p.add_argument("--quick", action="store_true",
                   help="one run, tiny durations: only checks that the suite runs end to end")
    p.add_argument("--out", help="output directory (default bench/results/DATE, or a temporary one with --quick)")
    p.add_argument("--runs", type=int, help="repetitions (default 3, quick 1); the table shows the median")
    p.add_argument("--tapswitch", help="the tapswitch binary to measure (default build/apps/tapswitch)")
    p.add_argument("--tapswitchctl", help="its control tool (default: next to the binary)")
    p.add_argument("--ntfwd", help="the ntfwd peer (default build/bench/peers/ntfwd)")
    p.add_argument("--rwfwd", help="the rwfwd peer (default build/bench/peers/rwfwd)")
    p.add_argument("--switch-bench", help="the switching-core microbenchmark (default build/bench/switch_bench)")
    p.add_argument("--systems", help="comma-separated system keys (default: all available): "
                   + ",".join(x.key for x in all_systems()))
    p.add_argument("--skip", default="", help="comma-separated parts to leave out: " + ",".join(CORE + STUDIES + OTHER))
    p.add_argument("--switch-cpu", type=int, help="the forwarder's CPU (default 1)")
    p.add_argument("--gen-cpu", type=int, help="the generators' CPU (default 0)")
    p.add_argument("--ping-interval", type=float,
                   help="seconds between pings (default 0.01); ping -i needs root below 0.002")
    p.add_argument("--ping-background", type=float,
                   help="also send pa's other ping, one every this many seconds, while the ping RTT is "
                        "measured (default: none): a second, sparse flow, as on a real network")
    p.add_argument("--bridge-rps", action="store_true",
                   help="steer the Linux bridge's forwarding to the switch CPU with RPS (default: it runs in "
                        "softirq on the sender's CPU; RPS costs an IPI per batch, expensive in a VM)")
    return p.parse_args(argv)


def make_settings(a):
    s = Settings.quick_mode() if a.quick else Settings()
    if a.runs:
        s.runs = a.runs
    for attr in ("tapswitch", "tapswitchctl", "ntfwd", "rwfwd", "switch_bench", "switch_cpu", "gen_cpu",
                 "ping_interval", "ping_background"):
        if getattr(a, attr) is not None:
            setattr(s, attr, os.path.abspath(getattr(a, attr)) if isinstance(getattr(a, attr), str)
                    else getattr(a, attr))
    s.bridge_rps = a.bridge_rps
    s.systems = [x for x in (a.systems or "").split(",") if x]
    s.skip = [x for x in a.skip.split(",") if x]
    if a.out:
        s.out_dir = os.path.abspath(a.out)
    elif a.quick:
        s.out_dir = f"/tmp/tapswitch-bench-quick-{os.getpid()}"
    else:
        day = datetime.date.today().isoformat()
        s.out_dir = os.path.join(BENCH_DIR, "results", day)
        if os.path.exists(s.out_dir) and os.listdir(s.out_dir):
            s.out_dir += datetime.datetime.now().strftime("-%H%M%S")
    s.log_dir = os.path.join(s.out_dir, "logs")
    return s


REQUIRED = {"ip": "iproute2", "iperf3": "iperf3", "trafgen": "netsniff-ng", "ping": "iputils-ping",
            "taskset": "util-linux", "sysctl": "procps"}


def missing_tools():
    """Debian packages to install for the commands the suite cannot do without."""
    return sorted({pkg for cmd, pkg in REQUIRED.items() if not shutil.which(cmd)})


class LogNames:
    """log(system, what) -> the path prefix of that step's logs in the current run."""

    def __init__(self, d):
        self.dir, self.run = d, 0

    def __call__(self, x, what):
        return os.path.join(self.dir, f"{x.key}.{what}.run{self.run}")


def interrupt(*_):
    raise KeyboardInterrupt()


def pick_systems(s, results):
    chosen = []
    for x in all_systems():
        if s.systems and x.key not in s.systems:
            continue
        why = x.unavailable(s)
        if why:
            results.notes.append(f"{x.label} skipped: {why}")
            print(f"skip {x.label}: {why}", flush=True)
        else:
            chosen.append(x)
    return chosen


def core_pass(x, s, results, run, log):
    """Every core workload on one system, started once."""
    prefix = log(x, "core")
    with x.start(s, prefix) as topo:
        workloads.warm_up(topo, s)

        def add(metric, value, **extra):
            results.add(system=x.key, study="core", metric=metric, run=run, value=value, extra=extra)
            shown = "n/a" if value is None else f"{value:.3g}"
            print(f"  {x.label}: {metric} {shown}", flush=True)

        if "tcp" not in s.skip:
            for n in (1, 4):
                r = workloads.tcp(topo, s, n, prefix)
                add(f"tcp{n}", r.pop("value"), **r)
        if "rate" not in s.skip:
            for size in s.frame_sizes:
                r = workloads.frame_rate(topo, s, size, prefix)
                cpu = r.pop("cpu_us_per_frame")
                add(f"rate{size}", r.pop("value"), **r)
                add(f"cpu{size}", cpu, gen_cpu_busy=r["gen_cpu_busy"], switch_cpu_busy=r["switch_cpu_busy"])
        if "ping" not in s.skip:
            r = workloads.ping(topo, s)
            for k in ("min", "avg", "p99"):
                add(f"ping_{k}", r[k], lost=r["lost"])
        if "loadping" not in s.skip:
            r = workloads.ping_under_load(topo, s, prefix)
            for k in ("avg", "p99"):
                add(f"load_ping_{k}", r[k], lost=r["lost"])
        if "idle" not in s.skip:
            add("idle_cpu", workloads.idle_cpu(topo, s))
    if x.key.startswith("ovs"):
        note_ovs_log(x, prefix, results)


def note_ovs_log(x, prefix, results):
    """One note per kind of WARN/ERR line ovs-vswitchd logged (timestamps and sequence numbers
    stripped). Moving its taps into namespaces makes it log 'ethtool ... No such device': it
    looks the interfaces up by name in its own namespace."""
    for line in log_problems(prefix):
        kind = re.sub(r"network device \S+", "network device X", line.split("|", 2)[-1])
        note = f"{x.label}: ovs-vswitchd logged {kind[:200]}"
        if note not in results.notes:
            results.notes.append(note)


def run_suite(s):
    os.makedirs(s.log_dir, exist_ok=True)
    results = Results()
    meta = machine.describe(s)
    systems = pick_systems(s, results)
    meta["systems"] = {x.key: {"label": x.label, "setup": x.describe(s)} for x in systems}
    started = time.monotonic()

    log = LogNames(s.log_dir)
    for run in range(1, s.runs + 1):
        log.run = run
        print(f"== run {run}/{s.runs}", flush=True)
        for x in systems if any(c not in s.skip for c in CORE) else []:
            print(f"{x.label}:", flush=True)
            try:
                core_pass(x, s, results, run, log)
            except Exception as e:
                results.error(x.key, "core", run, e)
                print(f"  {x.label}: FAILED: {e}", flush=True)
        for name in STUDIES:
            if name not in s.skip:
                print(f"-- scaling: {name}", flush=True)
                getattr(scaling, name)(systems, s, results, log, run)
    meta["micro"] = micro.run(s, results) if "micro" not in s.skip else None
    meta["duration_s"] = round(time.monotonic() - started)
    meta["load_end"] = os.getloadavg()
    plots.draw(s, meta, results)
    report.write(s, meta, results)
    return results


def main(argv=None):
    a = parse(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        print("bench/run: needs root (it creates network namespaces); skipped", file=sys.stderr)
        return 77
    s = make_settings(a)
    missing = missing_tools()
    if missing:
        print(f"bench/run: missing tools; install them with: apt-get install {' '.join(missing)}",
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, interrupt)  # so that every finally: tears its system down
    print(f"bench: results in {s.out_dir}", flush=True)
    try:
        results = run_suite(s)
    except KeyboardInterrupt:
        print("bench: interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        netns.sweep()
    print(f"bench: done: {s.out_dir}/results.md", flush=True)
    return 1 if results.errors else 0
