#!/usr/bin/python3
"""How long this machine takes to wake a thread sleeping on another, idle CPU.

    bench/wake_latency.py [SAMPLES]

A process pinned to CPU 1 sleeps in epoll on a pipe; one pinned to CPU 0 writes a timestamp
into it every 10 ms (so CPU 1 is idle, and halted, each time). The delay from the write to the
sleeper's return is the floor that a forwarder sleeping between frames (tapswitch --poll
adaptive) adds to every round trip whose first frame finds it asleep. The Linux bridge pays
none: it forwards in the sender's context. Not a pass/fail test.
"""
import os
import select
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {1})
        ep = select.epoll()
        ep.register(r, select.EPOLLIN)
        lat = []
        for _ in range(n):
            ep.poll()
            now = time.perf_counter_ns()
            lat.append((now - int.from_bytes(os.read(r, 8), "little")) / 1000)
        lat.sort()
        print(f"wake-up of a thread on idle CPU 1 from CPU 0, {n} samples: min {lat[0]:.0f} us, "
              f"median {lat[n // 2]:.0f} us, p90 {lat[n * 9 // 10]:.0f} us")
        os._exit(0)
    os.sched_setaffinity(0, {0})
    for _ in range(n):
        time.sleep(0.01)
        os.write(w, time.perf_counter_ns().to_bytes(8, "little"))
    os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
