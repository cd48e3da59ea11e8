#!/usr/bin/python3
"""`tapswitchctl capture`: several at once, a file left alone until a capture is accepted, the
end of a capture whose port goes, and a client that signals and switches that stop cleanly.

 1. A capture the switch refuses (the file cannot be written) uses no capture id. Then three
    captures run at once: port a's rx, port a's tx and port b; each writes its 5 frames, in
    the right direction. A fourth on a direction already captured is refused, saying so.
 2. A refused capture (bad --dir, unknown port, bad --snaplen, busy port) leaves an existing
    -w file as it was and creates no missing one; an accepted one replaces the old content.
 3. A capture ends when its port is removed (`port del`) or its interface deleted: the client
    prints its summary and why, and exits 0.
 4. Signals: while the switch is frozen (SIGSTOP), the client gets SIGINT, SIGINT and SIGTERM;
    once the switch runs again it ends the capture once, prints the summary and exits 0. A
    burst of 20 SIGINTs, and `timeout` (SIGTERM then SIGCONT), end a capture just as cleanly.
    Last, the switch stops during a capture: the client says so and what the file holds.
"""
import json
import os
import re
import signal
import subprocess
import time

import tslib
from tslib import check, say, sh, wait_for

FRAMES = 5


def test(t):
    a_if, b_if, c_if, d_if = t.name("a"), t.name("b"), t.name("c"), t.name("d")
    sw = t.daemon([f"tap:{a_if}", f"tap:{b_if}", f"tap:{c_if}", f"tap:{d_if}"],
                  allow=[rf"warning port {d_if}: its interface was deleted"])
    na, nb = t.netns("a"), t.netns("b")
    na.take(a_if, "10.81.0.1/24")
    nb.take(b_if, "10.81.0.2/24")
    for name in (c_if, d_if):
        sh("ip", "link", "set", name, "up")
    r = na.exec("ping", "-c", "3", "-i", "0.2", "-W", "1", "-q", "10.81.0.2", check=False)
    check(r.returncode == 0, f"a cannot ping b:\n{r.stdout}")

    def path(name):
        return os.path.join(t.tmp, name)

    def start(port, f, *args, json_out=False):
        cmd = [t.tapswitchctl, "--ctl", sw.ctl_path, *(["-j"] if json_out else []), "capture", port, "-w", f, *args]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        tslib._cleanup.push(lambda: p.poll() is None and (p.kill(), p.wait()))
        return p

    def started(n, p):
        def ok():
            if p.poll() is not None:
                args = " ".join(p.args[3:])
                check(False, f"tapswitchctl {args} exited with {p.returncode}: {''.join(p.communicate())}")
            return len(re.findall(r"info capture \d+ started on port", sw.log())) >= n
        wait_for(ok, f"{n} captures to have started")

    def finish(p, what, timeout=10):
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            check(False, f"{what}: the client was still waiting after {timeout} s: {out}{err}")
        return p.returncode, out, err

    def frames(f, field="ip.src"):
        r = sh("tshark", "-r", f, "-T", "fields", "-e", "frame.number", "-e", field)
        return [l.split("\t") for l in r.stdout.splitlines() if l.strip()]

    # 1. Several captures at once; a refused one uses no id.
    r = sw.ctl_run("capture", a_if, "-w", "/dev/full")
    check(r.returncode == 1 and "cannot write" in r.stderr, f"capture to /dev/full: rc {r.returncode}: {r.stderr}")
    runs = [(a_if, "rx", "10.81.0.1"), (a_if, "tx", "10.81.0.2"), (b_if, "both", None)]
    procs = []
    for i, (port, d, _) in enumerate(runs):
        procs.append(start(port, path(f"m{i}.pcapng"), "-c", str(FRAMES), "--dir", d, json_out=True))
        started(i + 1, procs[-1])
    r = sw.ctl_run("capture", a_if, "-w", path("busy.pcapng"), "--dir", "rx")
    check(r.returncode == 1 and "already being captured (rx by capture 1)" in r.stderr,
          f"a second rx capture on {a_if}: rc {r.returncode}: {r.stderr}")
    pinger = subprocess.Popen(["ip", "netns", "exec", na.name, "ping", "-i", "0.05", "-q", "10.81.0.2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tslib._cleanup.push(lambda: pinger.poll() is None and (pinger.kill(), pinger.wait()))
    try:
        results = [finish(p, f"capture {i + 1}") for i, p in enumerate(procs)]
    finally:
        pinger.kill()
        pinger.wait()
    ids = []
    for i, ((port, d, src), (rc, out, err)) in enumerate(zip(runs, results)):
        check(rc == 0, f"capture on {port} --dir {d}: rc {rc}: {out}{err}")
        data = json.loads(out)
        check(data["written"] == FRAMES and data["done"], f"capture on {port} --dir {d}: {data}")
        ids.append(data["id"])
        got = frames(path(f"m{i}.pcapng"))
        check(len(got) == FRAMES, f"tshark reads {len(got)} frames of capture {data['id']}, expected {FRAMES}")
        srcs = {row[1] for row in got if len(row) > 1 and row[1]}
        check(src is None or srcs <= {src}, f"capture on {port} --dir {d} holds frames from {srcs}")
    check(ids == [1, 2, 3], f"capture ids {ids}: the refused capture must not use one")
    say(f"refused capture used no id; 3 captures at once ({a_if} rx, {a_if} tx, {b_if}) wrote {FRAMES} frames each")

    # 2. The -w file is left alone unless the capture is accepted.
    keep, missing = path("keep.pcapng"), path("missing.pcapng")
    with open(keep, "w") as f:
        f.write("precious\n" * 1000)
    hold = start(b_if, path("hold.pcapng"), "--dir", "tx")
    started(4, hold)
    bad = [[a_if, "--dir", "bogus"], ["nosuch", "--dir", "rx"], [a_if, "--snaplen", "5"], [b_if, "--dir", "tx"]]
    for args in bad:
        for f in (keep, missing):
            r = sw.ctl_run("capture", args[0], "-w", f, *args[1:])
            check(r.returncode == 1, f"capture {' '.join(args)}: rc {r.returncode}: {r.stderr}")
        check(open(keep).read() == "precious\n" * 1000, f"capture {' '.join(args)} changed {keep}")
        check(not os.path.exists(missing), f"capture {' '.join(args)} created {missing}")
    os.kill(hold.pid, signal.SIGINT)
    rc, out, err = finish(hold, "the capture holding b's tx")
    check(rc == 0, f"capture on {b_if} --dir tx: rc {rc}: {out}{err}")
    p = start(a_if, keep, "-c", "1", "--snaplen", "64")
    started(5, p)
    na.exec("ping", "-c", "2", "-i", "0.1", "-s", "1000", "-q", "10.81.0.2", check=False)
    rc, out, err = finish(p, "capture into an existing file")
    check(rc == 0 and "1 frames captured" in out, f"capture into {keep}: rc {rc}: {out}{err}")
    check(len(frames(keep)) == 1 and b"precious" not in open(keep, "rb").read(),
          f"{keep} must hold just the new capture")
    # --snaplen cuts what is kept, not the length the frame had (a 1042-byte ping).
    lens = frames(keep, "frame.len")[0][1], frames(keep, "frame.cap_len")[0][1]
    check(lens == ("1042", "64"), f"--snaplen 64 on a 1042-byte frame: frame.len, cap_len = {lens}")
    say(f"{len(bad)} refused captures left an existing file as it was and created none; an accepted one replaced it")

    # 3. A capture ends with its port.
    for i, (port, remove, why) in enumerate([(c_if, lambda: sw.ctl_run("port", "del", c_if), "was removed"),
                                             (d_if, lambda: sh("ip", "link", "del", d_if), "lost its interface")]):
        p = start(port, path(f"gone-{port}.pcapng"))
        started(6 + i, p)
        remove()
        rc, out, err = finish(p, f"the capture on {port} after it went")
        check(rc == 0 and "frames captured" in out and f"capture ended: port {port} {why}" in out,
              f"capture on {port} after it went: rc {rc}: {out}{err}")
    check(sw.log().count("ended: port") == 2, f"each ended capture is logged once:\n{sw.log()}")
    say(f"captures ended when {c_if} was removed and {d_if}'s interface was deleted")

    # 4. Signals to the client, and a switch that goes away.
    n = 7
    stopped = sw.log().count(f"on port {a_if} stopped")
    p = start(a_if, path("sig.pcapng"))
    started(n + 1, p)
    os.kill(sw.pid, signal.SIGSTOP)
    try:
        for sig in (signal.SIGINT, signal.SIGINT, signal.SIGTERM):
            os.kill(p.pid, sig)
            time.sleep(0.3)
    finally:
        os.kill(sw.pid, signal.SIGCONT)
    rc, out, err = finish(p, "the capture signalled while the switch was frozen")
    check(rc == 0 and "frames captured on" in out and not err, f"signalled capture: rc {rc}: {out}{err}")
    check(sw.log().count(f"on port {a_if} stopped") == stopped + 1, f"the daemon must log capture {n + 1} as stopped")

    p = start(a_if, path("burst.pcapng"))
    started(n + 2, p)
    for _ in range(20):
        os.kill(p.pid, signal.SIGINT)
        time.sleep(0.002)
    rc, out, err = finish(p, "the capture given 20 SIGINTs")
    check(rc == 0 and "frames captured on" in out and not err, f"20 SIGINTs: rc {rc}: {out}{err}")

    r = sh("timeout", "--preserve-status", "1", t.tapswitchctl, "--ctl", sw.ctl_path, "capture", a_if,
           "-w", path("timeout.pcapng"), check=False)
    check(r.returncode == 0 and "frames captured on" in r.stdout and not r.stderr,
          f"timeout 1 tapswitchctl capture: rc {r.returncode}: {r.stdout}{r.stderr}")
    say("SIGINT, SIGINT, SIGTERM to a waiting client, 20 SIGINTs, and timeout's SIGTERM+SIGCONT: each ended cleanly")

    p = start(a_if, path("last.pcapng"))
    started(n + 4, p)
    sw.stop()
    rc, out, err = finish(p, "the capture whose switch stopped")
    check(rc == 2 and "the switch went away, so the capture on" in err and "last.pcapng holds" in err,
          f"capture when the switch stopped: rc {rc}: {out}{err}")
    check(sh("tshark", "-r", path("last.pcapng"), check=False).returncode == 0, "last.pcapng is not readable")
    say(f"the switch stopped during a capture: {err.strip()}")


if __name__ == "__main__":
    tslib.main("cpf", test)
