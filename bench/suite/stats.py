"""Samples, and their summary: median with min and max over the runs."""
import statistics
from dataclasses import asdict, dataclass, field
from typing import Optional

# metric id -> (label, unit, higher is better)
METRICS = {
    "tcp1": ("TCP, 1 stream", "Gbit/s", True),
    "tcp4": ("TCP, 4 streams", "Gbit/s", True),
    "rate60": ("60 B frames", "kpps", True),
    "rate1514": ("1514 B frames", "kpps", True),
    "cpu60": ("CPU per 60 B frame, whole machine", "µs", False),
    "cpu1514": ("CPU per 1514 B frame, whole machine", "µs", False),
    "ping_min": ("ping min", "µs", False),
    "ping_avg": ("ping avg", "µs", False),
    "ping_p99": ("ping p99", "µs", False),
    "load_ping_avg": ("ping avg under TCP load", "µs", False),
    "load_ping_p99": ("ping p99 under TCP load", "µs", False),
    "idle_cpu": ("idle CPU", "% of a core", False),
}

# scaling study -> (label of its parameter, metric measured at each step)
STUDIES = {
    "ports": ("ports (2 busy)", "rate60"),
    "fdb": ("learned MACs", "rate60"),
    "workers": ("workers", "rate60"),
}


@dataclass
class Sample:
    system: str
    study: str            # "core", or a scaling study: "ports", "fdb", "workers"
    metric: str
    run: int
    value: Optional[float]
    param: Optional[int] = None   # the scaling step
    extra: dict = field(default_factory=dict)


@dataclass
class Summary:
    median: float
    lo: float
    hi: float
    n: int


class Results:
    def __init__(self):
        self.samples = []
        self.errors = []    # {system, study, run, error}
        self.notes = []     # free text for the report

    def add(self, **kw):
        s = Sample(**kw)
        self.samples.append(s)
        return s

    def error(self, system, study, run, err, param=None):
        self.errors.append({"system": system, "study": study, "run": run, "param": param, "error": str(err)})

    def summarize(self):
        """{(study, metric, param, system): Summary} over the runs, None values left out."""
        groups = {}
        for s in self.samples:
            if s.value is not None:
                groups.setdefault((s.study, s.metric, s.param, s.system), []).append(s.value)
        return {k: Summary(statistics.median(v), min(v), max(v), len(v)) for k, v in groups.items()}

    def to_json(self):
        return {"samples": [asdict(s) for s in self.samples], "errors": self.errors, "notes": self.notes}
