"""Scaling studies: ports 2 -> 16 -> 256 (2 busy), FDB size, workers.

Each step starts the system afresh and measures the 60-byte frame rate from pa to pb.
"""
import time

from . import netns, trafgen, workloads
from .systems.tapswitch import Tapswitch, has_option

FILL_PASSES = 6


def ports(systems, s, results, log, run):
    for n in s.ports_steps:
        for sysm in systems:
            if not sysm.ports_scaling or (sysm.max_ports and n > sysm.max_ports):
                continue
            step(results, sysm, "ports", n, run, lambda: measure(sysm, s, log(sysm, f"ports{n}"), nports=n))


def fdb(systems, s, results, log, run):
    for n in s.fdb_steps:
        for sysm in systems:
            if sysm.fdb_scaling:
                step(results, sysm, "fdb", n, run, lambda: measure(sysm, s, log(sysm, f"fdb{n}"), fdb_size=n))


def workers(systems, s, results, log, run):
    ts = [x for x in systems if isinstance(x, Tapswitch) and x.kind == "tap"]
    if not ts:
        return
    if not has_option(s.tapswitch, "--workers"):
        note = f"workers scaling skipped: {s.tapswitch} has no --workers option"
        if note not in results.notes:
            results.notes.append(note)
        return
    for w in s.workers_steps:
        step(results, ts[0], "workers", w, run, lambda: measure(ts[0], s, log(ts[0], f"workers{w}"), workers=w))


def step(results, sysm, study, param, run, fn):
    print(f"  {sysm.label}: {study} {param} ...", flush=True)
    try:
        value, extra = fn()
        results.add(system=sysm.key, study=study, metric="rate60", run=run, value=value, param=param, extra=extra)
        print(f"  {sysm.label}: {study} {param}: {value:.1f} kpps", flush=True)
    except Exception as e:  # one failed step must not end the run
        results.error(sysm.key, study, run, e, param)
        print(f"  {sysm.label}: {study} {param}: FAILED: {e}", flush=True)


def measure(sysm, s, log_prefix, nports=2, fdb_size=0, workers=1):
    with sysm.start(s, log_prefix, nports=nports, fdb_size=fdb_size, workers=workers) as topo:
        workloads.warm_up(topo, s)
        extra = {}
        if fdb_size:
            extra = fill_fdb(topo, s, fdb_size, log_prefix)
        r = workloads.frame_rate(topo, s, 60, log_prefix, src_count=fdb_size)
        extra.update({k: v for k, v in r.items() if k != "value"})
        return r["value"], extra


def fill_fdb(topo, s, n, log_prefix):
    """Sends frames from n different source MACs until the system has learned (nearly) all of
    them, at most FILL_PASSES passes. Returns what was learned and how long it took."""
    # Unicast to pb, like the measurement that follows.
    conf = trafgen.config(f"{log_prefix}.fill.cfg", 60, netns.mac(topo.ns_b, topo.if_b), None, topo.ip_a,
                          src_count=n)
    t0 = time.monotonic()
    learned = topo.fdb_count() if topo.fdb_count else None
    passes = 0
    while passes < FILL_PASSES and (learned is None or learned < 0.99 * n):
        passes += 1
        gen = trafgen.Trafgen(topo.ns_a, topo.if_a, conf, s.gen_cpu, f"{log_prefix}.fill.log", count=n)
        gen.wait(timeout=120 + n / 10000)
        time.sleep(0.5)  # let the learning catch up
        if topo.fdb_count is None:
            break
        learned = topo.fdb_count()
    return {"learned": learned, "fill_passes": passes, "fill_seconds": round(time.monotonic() - t0, 2)}
