"""What one run of the suite does: durations, repetitions, pinning, binaries."""
import os
from dataclasses import dataclass, field
from typing import List

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(BENCH_DIR)


@dataclass
class Settings:
    quick: bool = False
    runs: int = 3                 # repetitions of every measurement; the table shows the median
    tcp_seconds: float = 5.0      # each iperf3 test
    rate_seconds: float = 3.0     # frame-rate counting window
    rate_warmup: float = 0.5      # generator running before the window opens
    ping_count: int = 300
    ping_interval: float = 0.01
    ping_background: float = 0.0  # > 0: a second ping flow, one every this many seconds, during ping
    idle_seconds: float = 3.0
    frame_sizes: List[int] = field(default_factory=lambda: [60, 1514])
    ports_steps: List[int] = field(default_factory=lambda: [2, 16, 256])
    fdb_steps: List[int] = field(default_factory=lambda: [1000, 65536, 1000000])
    workers_steps: List[int] = field(default_factory=lambda: [1, 2])
    switch_cpu: int = 1           # the forwarder's core
    gen_cpu: int = 0              # generators, iperf3, ping (and tapswitch's control thread)
    bridge_rps: bool = False      # steer the Linux bridge's forwarding onto switch_cpu with RPS
    tapswitch: str = os.path.join(REPO_DIR, "build", "apps", "tapswitch")
    tapswitchctl: str = ""        # default: next to tapswitch
    ntfwd: str = os.path.join(REPO_DIR, "build", "bench", "peers", "ntfwd")
    rwfwd: str = os.path.join(REPO_DIR, "build", "bench", "peers", "rwfwd")
    switch_bench: str = ""        # default: build/bench/switch_bench
    systems: List[str] = field(default_factory=list)  # empty: every available one
    skip: List[str] = field(default_factory=list)     # workloads or scaling studies to leave out
    out_dir: str = ""
    log_dir: str = ""

    @staticmethod
    def quick_mode():
        """One run, tiny durations, small scaling steps: checks that the suite runs end to end."""
        return Settings(quick=True, runs=1, tcp_seconds=1.0, rate_seconds=1.0, rate_warmup=0.3,
                        ping_count=30, idle_seconds=1.0, ports_steps=[2, 16], fdb_steps=[1000],
                        workers_steps=[1, 2])

    @property
    def load_ping_count(self):
        """Pings under TCP load: a third of ping_count (the stream must outlast them)."""
        return max(10, self.ping_count // 3)

    def ctl_binary(self):
        return self.tapswitchctl or os.path.join(os.path.dirname(self.tapswitch), "tapswitchctl")
