"""The results directory: raw data (JSON, CSV), the summary (CSV) and the markdown table."""
import csv
import json
import os
import sys

from . import micro
from .stats import METRICS, STUDIES

REFERENCE = "bridge"


def fmt(v):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


def ratio(summary, key):
    """This figure's median divided by the Linux bridge's at the same metric and step."""
    ref = summary.get(key[:3] + (REFERENCE,))
    mine = summary.get(key)
    if not ref or not mine or ref.median == 0:
        return None
    return mine.median / ref.median


def cell(summary, key):
    m = summary.get(key)
    if m is None:
        return "—"
    r = ratio(summary, key)
    spread = f" ({fmt(m.lo)}–{fmt(m.hi)})" if m.n > 1 else ""
    head = f"**{r:.2f}×** " if r is not None else ""
    return f"{head}{fmt(m.median)}{spread}"


def command_line(s):
    return "bench/run" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")


def write(s, meta, results):
    os.makedirs(s.out_dir, exist_ok=True)
    summary = results.summarize()
    meta["command"] = command_line(s)
    with open(os.path.join(s.out_dir, "raw.json"), "w") as f:
        json.dump({"meta": meta, **results.to_json()}, f, indent=1, default=str)
    with open(os.path.join(s.out_dir, "samples.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["system", "study", "metric", "param", "run", "value", "extra"])
        for x in results.samples:
            w.writerow([x.system, x.study, x.metric, x.param, x.run, x.value, json.dumps(x.extra)])
    with open(os.path.join(s.out_dir, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["study", "metric", "param", "system", "unit", "median", "min", "max", "runs", "ratio_to_bridge"])
        for key in sorted(summary, key=str):
            m = summary[key]
            r = ratio(summary, key)
            w.writerow(list(key) + [METRICS[key[1]][1], m.median, m.lo, m.hi, m.n,
                                    "" if r is None else round(r, 4)])
    with open(os.path.join(s.out_dir, "results.md"), "w") as f:
        f.write(markdown(s, meta, results, summary))


def markdown(s, meta, results, summary):
    systems = list(meta["systems"])
    labels = {k: v["label"] for k, v in meta["systems"].items()}
    v = meta["versions"]
    out = [f"# tapswitch benchmark, {meta['date']}", ""]
    out += [f"Command: `{meta['command']}` ({'quick mode: checks the suite runs, numbers mean nothing' if s.quick else f'{s.runs} runs'}), "
            f"{meta['duration_s']} s.",
            f"Machine: {meta['host']}, {meta['cpus']} CPUs ({meta['cpu_model']}), kernel {v['kernel']}; "
            f"load average {meta['load_start'][0]:.2f} at start, {meta['load_end'][0]:.2f} at end.",
            f"tapswitch: `{v['tapswitch']}` (git {meta['git']}); {v['ovs-vswitchd'] or 'no OVS'}; {v['iperf3']}; "
            f"{v['trafgen']}.", ""]
    out += ["Each cell: **ratio to the Linux bridge** (this median / the bridge's median), then the median "
            f"and, in parentheses, min–max over the runs. Throughput: higher is better; latency and CPU: "
            "lower is better.", ""]
    out += ["## Throughput, latency, idle CPU", ""]
    out += ["| | " + " | ".join(labels[k] for k in systems) + " |", "|---" * (len(systems) + 1) + "|"]
    for metric, (label, unit, _) in METRICS.items():
        if any(("core", metric, None, k) in summary for k in systems):
            out.append(f"| {label} ({unit}) | " + " | ".join(cell(summary, ("core", metric, None, k)) for k in systems)
                       + " |")
    for study, (param_label, metric) in STUDIES.items():
        steps = sorted({k[2] for k in summary if k[0] == study})
        rows = [k for k in systems if any((study, metric, p, k) in summary for p in steps)]
        if not rows:
            continue
        out += ["", f"## Scaling: {param_label}, {METRICS[metric][0]} ({METRICS[metric][1]})", ""]
        out += [f"| system | " + " | ".join(str(p) for p in steps) + " |", "|---" * (len(steps) + 1) + "|"]
        for k in rows:
            out.append(f"| {labels[k]} | " + " | ".join(cell(summary, (study, metric, p, k)) for p in steps) + " |")
        if study == "fdb":
            out += ["", "Learned MACs actually reached (first run; the Linux bridge's counts above 100000 are "
                    "estimated from its FDB slab cache): " + "; ".join(
                f"{labels[x.system]} {x.param}: {x.extra.get('learned')}" for x in results.samples
                if x.study == "fdb" and x.run == 1)]
    out += micro.markdown(meta.get("micro"))
    out += ["", "## Setup and pinning", ""]
    out += [f"- Generators (trafgen, iperf3 client and server, ping) on CPU {s.gen_cpu}; forwarders on CPU "
            f"{s.switch_cpu}."]
    out += [f"- {labels[k]}: {meta['systems'][k]['setup']}" for k in systems]
    out += [f"- TCP: iperf3 -t {s.tcp_seconds:g}, 1 and 4 streams (-P), pa to pb. Frames: trafgen for "
            f"{s.rate_seconds:g} s after {s.rate_warmup:g} s of warm-up, counted as rx_packets at pb minus "
            f"pb's rate with the generator off; CPU per frame: busy time of every CPU (user, system, irq, "
            f"softirq; generator and receiving stack included) over that window, per frame delivered. "
            f"Ping: {s.ping_count} at {s.ping_interval:g} s intervals"
            + (f", with a second ping flow every {s.ping_background:g} s meanwhile. " if s.ping_background else ". ")
            + f"Ping under TCP load: {s.load_ping_count} pings pa to pb while one iperf3 stream runs pa to pb. "
            + f"Idle CPU: the forwarder process over {s.idle_seconds:g} s without traffic."]
    plots = [p for p in ("tcp.png", "frames.png", "latency.png", "latency-load.png", "scaling_ports.png",
                         "scaling_fdb.png", "scaling_workers.png")
             if os.path.exists(os.path.join(s.out_dir, p))]
    if plots:
        out += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    if results.notes or results.errors:
        out += ["", "## Notes and errors", ""]
        out += [f"- {n}" for n in results.notes]
        out += [f"- ERROR {e['system']} {e['study']}{'' if e['param'] is None else ' ' + str(e['param'])} "
                f"run {e['run']}: {e['error'].splitlines()[0][:300]}" for e in results.errors]
    return "\n".join(out) + "\n"
