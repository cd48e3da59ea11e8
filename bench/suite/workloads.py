"""The workloads, each measured across one netns.Topology.

Generators (iperf3 client and server, trafgen, ping) run on settings.gen_cpu; the forwarder
under test is on settings.switch_cpu (each system pins itself, see systems/).
"""
import json
import math
import os
import re
import time

from . import netns, proc, trafgen


def warm_up(topo, s):
    """A few pings: ARP resolved, both MACs learned, before anything is measured."""
    proc.wait_until(lambda: proc.run(["ping", "-c", "1", "-W", "1", topo.ip_b], ns=topo.ns_a, check=False)
                    .returncode == 0, 30, "first ping through the system")
    proc.run(["ping", "-c", "3", "-i", "0.05", "-W", "1", topo.ip_b], ns=topo.ns_a, check=False)


def tcp(topo, s, streams, log_prefix):
    """iperf3 TCP throughput from pa to pb, in Gbit/s (received)."""
    server = proc.Process(["iperf3", "-s", "-1", "-B", topo.ip_b], ns=topo.ns_b, cpu=s.gen_cpu,
                          log=f"{log_prefix}.iperf3-server.log")
    try:
        for attempt in range(20):
            r = proc.run(["iperf3", "-c", topo.ip_b, "-t", s.tcp_seconds, "-P", streams, "-J"], ns=topo.ns_a,
                         cpu=s.gen_cpu, check=False, timeout=s.tcp_seconds + 60)
            data = json.loads(r.stdout or "{}")
            if "unable to connect" in data.get("error", "") and attempt < 19:
                time.sleep(0.1)  # the server is not listening yet
                continue
            if r.returncode != 0 or "error" in data:
                raise proc.CommandError(f"iperf3: {data.get('error', r.stderr.strip())}")
            break
        end = data["end"]
        return {"value": end["sum_received"]["bits_per_second"] / 1e9,
                "retransmits": end.get("sum_sent", {}).get("retransmits")}
    finally:
        server.stop()


def _counter(ns, ifname):
    t0 = time.monotonic()
    c = netns.counters(ns, ifname)
    return c, (t0 + time.monotonic()) / 2


# /proc/stat columns that count a CPU as busy: user, nice, system, irq, softirq (guest time is
# inside user; idle, iowait and steal are not the machine's own work).
_BUSY_COLUMNS = (0, 1, 2, 5, 6)


def cpu_busy_ticks():
    """{"all": ticks, cpu number: ticks} of busy time from /proc/stat, in USER_HZ ticks."""
    busy = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *cols = line.split()
            if not name.startswith("cpu"):
                break
            key = "all" if name == "cpu" else int(name[3:])
            busy[key] = sum(int(cols[i]) for i in _BUSY_COLUMNS)
    return busy


GEN_ATTEMPTS = 3


def frame_rate(topo, s, size, log_prefix, src_count=0):
    """Frames of `size` bytes per second delivered to pb's interface while trafgen floods pa's,
    minus what pb receives with the generator off; in kpps. Also the offered load, and what the
    whole machine spent on it: busy CPU time (every CPU, user and kernel, generator and sink
    included) per delivered frame in µs, and each pinned CPU's busy share. A system that keeps
    both CPUs busy for fewer frames spends more per frame: this is the figure that says whether
    a rate is bounded by work or by how it is spread over the CPUs.

    trafgen gives up ("Flushing TX_RING failed: Resource temporarily unavailable") when the
    sending interface's queue stays stopped, which a slow forwarder causes: the kernel's tun
    stops the queue while its ring is full. A window in which the generator died would count
    too few frames, so it is measured again with a new generator (GEN_ATTEMPTS in all)."""
    conf = trafgen.config(f"{log_prefix}.trafgen-{size}.cfg", size, netns.mac(topo.ns_b, topo.if_b),
                          netns.mac(topo.ns_a, topo.if_a), topo.ip_a, src_count)
    quiet = min(1.0, s.rate_seconds)
    b0, t0 = _counter(topo.ns_b, topo.if_b)
    time.sleep(quiet)
    b1, t1 = _counter(topo.ns_b, topo.if_b)
    baseline = (b1["rx_packets"] - b0["rx_packets"]) / (t1 - t0)

    for attempt in range(1, GEN_ATTEMPTS + 1):
        gen_log = f"{log_prefix}.trafgen-{size}-{attempt}.log"
        gen = trafgen.Trafgen(topo.ns_a, topo.if_a, conf, s.gen_cpu, gen_log)
        try:
            time.sleep(s.rate_warmup)
            survived_warmup = gen.p.alive()
            if survived_warmup:
                a0, _ = _counter(topo.ns_a, topo.if_a)
                b0, t0 = _counter(topo.ns_b, topo.if_b)
                c0 = cpu_busy_ticks()
                time.sleep(s.rate_seconds)
                c1 = cpu_busy_ticks()
                a1, _ = _counter(topo.ns_a, topo.if_a)
                b1, t1 = _counter(topo.ns_b, topo.if_b)
            survived = survived_warmup and gen.p.alive()
        finally:
            gen.stop()
        if survived:
            break
        if attempt == GEN_ATTEMPTS:
            raise proc.CommandError(f"trafgen exited before the end of the measurement {attempt} times; "
                                    f"see {gen_log}")
    dt = t1 - t0
    rx = (b1["rx_packets"] - b0["rx_packets"]) / dt - baseline
    offered = (a1["tx_packets"] + a1["tx_dropped"] - a0["tx_packets"] - a0["tx_dropped"]) / dt
    hz = os.sysconf("SC_CLK_TCK")
    busy_s = {k: (c1[k] - c0[k]) / hz for k in c1 if k in c0}
    delivered = max(0.0, rx) * dt
    return {"value": max(0.0, rx) / 1e3, "offered_kpps": offered / 1e3, "baseline_pps": baseline,
            "gbps": max(0.0, rx) * size * 8 / 1e9, "generator_attempts": attempt,
            "cpu_us_per_frame": busy_s["all"] * 1e6 / delivered if delivered else None,
            "gen_cpu_busy": busy_s.get(s.gen_cpu, 0.0) / dt, "switch_cpu_busy": busy_s.get(s.switch_cpu, 0.0) / dt}


def percentile(sorted_values, p):
    """Nearest-rank percentile."""
    k = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[k]


def _ping_rtts(topo, s, count):
    """{min, avg, p99} in µs and `lost` of `count` pings pa -> pb every settings.ping_interval s."""
    r = proc.run(["ping", "-i", s.ping_interval, "-c", count, "-W", "1", topo.ip_b], ns=topo.ns_a,
                 cpu=s.gen_cpu, check=False, timeout=count * (s.ping_interval + 0.01) + 60)
    rtts = sorted(float(m) * 1000 for m in re.findall(r"time=([\d.]+) ms", r.stdout))
    if not rtts:
        raise proc.CommandError(f"ping got no replies: {r.stdout[-300:]} {r.stderr[-300:]}")
    return {"min": rtts[0], "avg": sum(rtts) / len(rtts), "p99": percentile(rtts, 99), "lost": count - len(rtts)}


def ping(topo, s):
    """Round-trip times of pings every settings.ping_interval s: min, avg, p99 in µs. With
    settings.ping_background, a second ping flow (its own ICMP id) runs meanwhile; only the
    measured flow's times count."""
    background = None
    if s.ping_background:
        background = proc.Process(["ping", "-q", "-i", str(s.ping_background), topo.ip_b], ns=topo.ns_a,
                                  cpu=s.gen_cpu)
    try:
        return _ping_rtts(topo, s, s.ping_count)
    finally:
        if background:
            background.stop()


def ping_under_load(topo, s, log_prefix):
    """Ping RTT pa -> pb (settings.load_ping_count pings) while one iperf3 stream runs pa -> pb
    through the same system: what a frame waits behind bulk traffic in the forwarder and its
    queues. min, avg, p99 in µs."""
    count = s.load_ping_count
    seconds = count * s.ping_interval + 3
    server = proc.Process(["iperf3", "-s", "-1", "-B", topo.ip_b], ns=topo.ns_b, cpu=s.gen_cpu,
                          log=f"{log_prefix}.load-iperf3-server.log")
    client = None
    try:
        for attempt in range(20):  # the server may not listen yet: the client then exits at once
            client = proc.Process(["iperf3", "-c", topo.ip_b, "-t", f"{seconds:g}"], ns=topo.ns_a, cpu=s.gen_cpu,
                                  log=f"{log_prefix}.load-iperf3-client-{attempt + 1}.log")
            time.sleep(1.0)  # connected, and the stream up to speed
            if client.alive():
                break
            client = None
        if client is None:
            raise proc.CommandError(f"iperf3 for ping under load did not start; see {log_prefix}.load-iperf3-*.log")
        r = _ping_rtts(topo, s, count)
        if not client.alive():
            raise proc.CommandError("the iperf3 stream ended before the pings did: not under load")
        return r
    finally:
        if client:
            client.stop()
        server.stop()


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, all threads


def idle_cpu(topo, s):
    """CPU the forwarder's process burns with no traffic, in % of one core (None: no process)."""
    if topo.pid is None:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    c0, t0 = cpu_ticks(topo.pid), time.monotonic()
    time.sleep(s.idle_seconds)
    c1, t1 = cpu_ticks(topo.pid), time.monotonic()
    return 100.0 * (c1 - c0) / hz / (t1 - t0)
