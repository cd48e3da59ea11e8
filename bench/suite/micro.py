"""The switching-core microbenchmark (build/bench/switch_bench, Google Benchmark), run pinned to
the switch CPU; its JSON goes into the results directory and a table into the report."""
import json
import os
import re

from . import proc
from .settings import REPO_DIR

DEFAULT = os.path.join(REPO_DIR, "build", "bench", "switch_bench")


def run(s, results):
    """Returns the benchmark rows, or None if the binary is not built."""
    binary = s.switch_bench or DEFAULT
    if not os.access(binary, os.X_OK):
        results.notes.append(f"switching-core microbenchmark skipped: {binary} not built (libbenchmark-dev)")
        return None
    out = os.path.join(s.out_dir, "switch_bench.json")
    cmd = [binary, f"--benchmark_out={out}", "--benchmark_out_format=json", "--benchmark_format=console"]
    if s.quick:
        cmd += ["--benchmark_filter=ports:2/|WireOnly/ports:2", "--benchmark_min_time=0.05"]
    print("-- switching core alone (switch_bench)", flush=True)
    r = proc.run(cmd, cpu=s.switch_cpu, check=False, timeout=1800)
    if r.returncode != 0 or not os.path.exists(out):
        results.errors.append({"system": "switch_bench", "study": "micro", "run": 1, "param": None,
                               "error": f"switch_bench exited with {r.returncode}: {r.stderr.strip()[-300:]}"})
        return None
    rows = []
    for b in json.load(open(out))["benchmarks"]:
        if b.get("error_occurred"):
            continue
        rows.append({"name": re.sub(r"/min_time:[0-9.]+", "", b["name"]), "mpps": b["items_per_second"] / 1e6,
                     "out_mpps": b.get("out_per_second", 0) / 1e6})
    return rows


def markdown(rows):
    if not rows:
        return []
    out = ["", "## Switching core alone (switch_bench, one core, in-memory ports)", "",
           "Frames switched per second of CPU time (Mpps in), and frames sent (Mpps out: a flood leaves "
           "through every other port). Target: 25 Mpps per core. BM_WireOnly is the harness alone.", "",
           "| benchmark | Mpps in | Mpps out |", "|---|---|---|"]
    out += [f"| {r['name']} | {r['mpps']:.2f} | {r['out_mpps']:.2f} |" for r in rows]
    return out
