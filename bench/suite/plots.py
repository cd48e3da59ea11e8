"""PNG plots with gnuplot (Debian's gnuplot-nox): bars with min-max error bars for the core
workloads, lines for the scaling studies."""
import os
import shutil

from . import proc
from .stats import METRICS, STUDIES

BAR_GROUPS = {
    "tcp.png": ("TCP throughput (Gbit/s)", ["tcp1", "tcp4"]),
    "frames.png": ("Frame rate pa -> pb (kpps)", ["rate60", "rate1514"]),
    "latency.png": ("Ping round trip (µs)", ["ping_min", "ping_avg", "ping_p99"]),
    "latency-load.png": ("Ping round trip during one TCP stream pa -> pb (µs)", ["load_ping_avg", "load_ping_p99"]),
}
HEADER = 'set terminal pngcairo size 960,540 noenhanced font "sans,10"\nset datafile missing "?"\n'


def q(text):
    return '"' + text.replace('"', "'") + '"'


def triple(summary, key):
    m = summary.get(key)
    return ["?", "?", "?"] if m is None else [f"{m.median:.6g}", f"{m.lo:.6g}", f"{m.hi:.6g}"]


def bars(d, name, title, metrics, systems, labels, summary):
    metrics = [m for m in metrics if any(("core", m, None, k) in summary for k in systems)]
    if not metrics:
        return
    dat = os.path.join(d, "plot-data", name.replace(".png", ".dat"))
    with open(dat, "w") as f:
        for m in metrics:
            row = [q(METRICS[m][0])]
            for k in systems:
                row += triple(summary, ("core", m, None, k))
            f.write(" ".join(row) + "\n")
    plot = [f"{q(dat)} using {2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i}{':xtic(1)' if i == 0 else ''} title {q(labels[k])}"
            for i, k in enumerate(systems)]
    return (HEADER + f"set output {q(os.path.join(d, name))}\nset title {q(title)}\n"
            "set style data histogram\nset style histogram errorbars gap 2 lw 1\n"
            "set style fill solid 0.7 border -1\nset yrange [0:*]\nset grid ytics\nset key top left\n"
            "plot " + ", ".join(plot) + "\n")


def lines(d, study, systems, labels, summary):
    param_label, metric = STUDIES[study]
    steps = sorted({k[2] for k in summary if k[0] == study})
    rows = [k for k in systems if any((study, metric, p, k) in summary for p in steps)]
    if not rows or not steps:
        return
    name = f"scaling_{study}"
    dat = os.path.join(d, "plot-data", name + ".dat")
    with open(dat, "w") as f:
        for p in steps:
            row = [str(p)]
            for k in rows:
                row += triple(summary, (study, metric, p, k))
            f.write(" ".join(row) + "\n")
    plot = [f"{q(dat)} using 1:{2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i} with yerrorlines title {q(labels[k])}"
            for i, k in enumerate(rows)]
    logx = "set logscale x\n" if steps[-1] / max(1, steps[0]) >= 8 else ""
    return (HEADER + f"set output {q(os.path.join(d, name + '.png'))}\n"
            f"set title {q(METRICS[metric][0] + ' (' + METRICS[metric][1] + ') vs ' + param_label)}\n"
            f"{logx}set offsets graph 0.05, graph 0.05, 0, 0\nset xtics ({', '.join(f'{q(str(p))} {p}' for p in steps)})\nset yrange [0:*]\n"
            f"set xlabel {q(param_label)}\nset grid\nset key outside right\nplot " + ", ".join(plot) + "\n")


def draw(s, meta, results):
    if not shutil.which("gnuplot"):
        results.notes.append("no plots: gnuplot is not installed (apt-get install gnuplot-nox)")
        return
    summary = results.summarize()
    os.makedirs(os.path.join(s.out_dir, "plot-data"), exist_ok=True)
    systems = list(meta["systems"])
    labels = {k: v["label"] for k, v in meta["systems"].items()}
    scripts = [bars(s.out_dir, n, t, m, systems, labels, summary) for n, (t, m) in BAR_GROUPS.items()]
    scripts += [lines(s.out_dir, study, systems, labels, summary) for study in STUDIES]
    for i, script in enumerate(x for x in scripts if x):
        path = os.path.join(s.out_dir, "plot-data", f"plot{i}.gp")
        with open(path, "w") as f:
            f.write(script)
        r = proc.run(["gnuplot", path], check=False)
        if r.returncode != 0:
            results.notes.append(f"gnuplot failed on {path}: {r.stderr.strip()[:200]}")
