#!/usr/bin/python3
"""Every bad input gives one clear line naming the problem and exit code 2, with nothing left
behind: no tap or net_tap interface, no control socket, no DPDK runtime directory.

Cases (issue 2, section 3): an unknown option, malformed port specs, a tap name over 15
characters, a tap already held by another process (this test holds it), a duplicate port, no
/dev/net/tun (a tmpfs over /dev/net in a private mount namespace), no permission (as nobody),
bad --eal arguments, negative and oversized numbers, a tap MTU the kernel refuses, more memory
than the machine has, and a directory as --config; --check-config refuses what a start refuses.
Where ports open before the failing one, the switch must tear them down. Last, the errors of
bad runtime commands (port add, fdb add/del) name what was typed.
"""
import os
import shutil
import subprocess
import tempfile
import time

import tslib
from tslib import check, say

SHELL_NO_TUN = 'mount -n -t tmpfs none /dev/net && exec "$0" "$@"'


def run_bad(t, label, args, expect, wrapper=(), env=None, ctl_dir=None, keep=(), pass_fds=()):
    """Runs tapswitch with bad input; checks rc 2, one stderr line holding every `expect`
    substring, an empty stdout, and no leftovers. `keep` are interfaces that must survive."""
    ctl_dir = ctl_dir or tempfile.mkdtemp(prefix="bad-", dir=t.tmp)
    ctl = os.path.join(ctl_dir, "ctl.sock")
    cmd = list(wrapper) + [t.tapswitch, "--ctl", ctl] + list(args)
    started = time.time()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, pass_fds=pass_fds)
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise tslib.TestFailure(f"{label}: tapswitch did not exit: {' '.join(cmd)}")
    where = f"{label} ({' '.join(cmd[len(wrapper):])})"
    lines = err.splitlines()
    check(p.returncode == 2, f"{where}: exit code {p.returncode}, expected 2; stderr:\n{err}")
    check(len(lines) == 1, f"{where}: stderr has {len(lines)} lines, expected 1:\n{err}")
    line = lines[0]
    check(line.startswith("tapswitch: error: "), f"{where}: not an error line: {line}")
    missing = [e for e in expect if e not in line]
    check(not missing, f"{where}: the message does not name {missing}: {line}")
    check(out == "", f"{where}: unexpected stdout:\n{out}")

    left = [n for n in tslib.link_names() if n.startswith(t.prefix) and n not in keep]
    check(not left, f"{where}: interfaces left behind: {left}")
    check(all(n in tslib.link_names() for n in keep), f"{where}: removed an interface it did not own: {keep}")
    check(not os.path.exists(ctl), f"{where}: control socket {ctl} left behind")
    xdg = [os.path.join(env["XDG_RUNTIME_DIR"], "dpdk")] if env and env.get("XDG_RUNTIME_DIR") else []
    left = tslib.dpdk_runtime_dirs(p.pid, started, xdg)
    check(not left, f"{where}: DPDK runtime directory left behind: {left}")
    say(f"ok  {label}: {line}")


def test(t):
    a, b, c = t.name("a"), t.name("b"), t.name("c")
    long_name = t.prefix + "x" * (16 - len(t.prefix))
    eal_ok = "--no-huge --no-pci --no-shconf -m 256"

    run_bad(t, "unknown option", ["--bogus-option"], ["--bogus-option"])
    run_bad(t, "unknown option in a config file", ["--config", write_conf(t, "bogus-key = 1\n")],
            ["bogus-key"])
    run_bad(t, "port spec without a kind", ["--port", a], ["expected KIND:ARGS"])
    run_bad(t, "unknown port kind", ["--port", f"vhost:{a}"], ["unknown port kind", "vhost"])
    run_bad(t, "empty tap name", ["--port", "tap:"], ["empty"])
    run_bad(t, "unknown port option", ["--port", f"tap:{a},colour=red"], ["unknown option", "colour"])
    run_bad(t, "tap queues out of range", ["--port", f"tap:{a},queues=17"], ["queues='17'", "from 1 to 16"])
    run_bad(t, "tapfd not a number", ["--port", "tapfd:x"], ["not a file descriptor"])
    run_bad(t, "tapfd not open", ["--port", "tapfd:77"], ["fd 77", "not open"])
    run_bad(t, "tap name over 15 characters", ["--port", f"tap:{long_name}"], [long_name, "at most 15"])
    run_bad(t, "net_tap iface over 15 characters", ["--port", f"dpdk:net_tap0,iface={long_name}"],
            [long_name, "at most 15"])
    run_bad(t, "duplicate tap", ["--port", f"tap:{a}", "--port", f"tap:{a}"], [a, "already"])
    run_bad(t, "duplicate DPDK device", ["--port", f"dpdk:net_tap0,iface={a}", "--port",
                                         f"dpdk:net_tap0,iface={b}"], ["net_tap0", "already"])
    run_bad(t, "the same interface twice", ["--port", f"tap:{a}", "--port", f"dpdk:net_tap0,iface={a}"],
            [a, "already"])

    run_bad(t, "unknown DPDK driver", ["--port", "dpdk:net_bogus0"], ["net_bogus0"])
    run_bad(t, "af_packet on a missing interface", ["--port", f"tap:{a}", "--port",
                                                    f"dpdk:net_af_packet0,iface={b}"], [b, "No such device"])

    held, fd = t.hold_tap("h")
    run_bad(t, "tap held by another process", ["--port", f"tap:{held}"], [held, "in use"], keep=[held])
    run_bad(t, "tap held, after ports that opened",
            ["--port", f"tap:{a}", "--port", f"dpdk:net_tap0,iface={b}", "--port", f"tap:{held}"],
            [held, "in use"], keep=[held])
    run_bad(t, "net_tap on an interface that is not a tap", ["--port", "dpdk:net_tap0,iface=lo"],
            ["iface=lo", "interface 'lo' exists and is not a tap"], keep=[held])
    run_bad(t, "net_tap on a tap held by another process", ["--port", f"dpdk:net_tap0,iface={held}"],
            [held, "TUNSETIFF", f"a single-queue tap '{held}' exists", f"use tap:{held}"], keep=[held])
    # One interface, two ports: a loop (the tap's name is known only once the fd is adopted).
    fd2 = os.dup(fd)
    for label, ports, which in [
            ("a tapfd port's tap again as link:", [f"tapfd:{fd}", f"link:{held}"], f"link:{held}"),
            ("link: before a tapfd port of its interface", [f"link:{held}", f"tapfd:{fd},name=vm"],
             f"tapfd:{fd},name=vm"),
            ("a tapfd port's tap again as tap:", [f"tapfd:{fd},name=vm", f"tap:{held}"], f"tap:{held}"),
            ("one tap by two fds", [f"tapfd:{fd}", f"tapfd:{fd2},name=vm"], f"tapfd:{fd2},name=vm")]:
        args = [a for p in ports for a in ("--port", p)]
        run_bad(t, label, args, [f"port '{which}': interface '{held}' is switched by port '{ports[0]}'"],
                keep=[held], pass_fds=(fd, fd2))
    os.close(fd2)
    # The same at run time: the adopted tap cannot be added again by name.
    sw = t.daemon([f"tapfd:{fd},name=vm"], pass_fds=(fd,))
    r = sw.ctl_run("port", "add", f"link:{held}")
    check(r.returncode == 1 and f"interface '{held}' is switched by port 'tapfd:{fd},name=vm'" in r.stderr,
          f"port add link:{held} beside tapfd:{fd}: exit code {r.returncode}: {r.stderr.strip()}")
    check(list(sw.ports()) == ["vm"], f"ports changed: {list(sw.ports())}")
    sw.stop()
    say(f"ok  port add link:{held} beside its tapfd port: {r.stderr.strip()}")
    # Moved away, the tap is another interface than a new tap of its name here, but its port
    # would have that name too.
    away = t.netns("away")
    away.take(held)
    run_bad(t, "a tapfd port named as another port", ["--port", f"tapfd:{fd}", "--port", f"tap:{held}"],
            [f"port 'tap:{held}': its name '{held}' is taken by port 'tapfd:{fd}'", "name="], pass_fds=(fd,))
    t.release_tap(fd)
    tslib.wait_for(lambda: not tslib.link_exists(held, away.name), f"{held} to go once closed")

    run_bad(t, "no /dev/net/tun", ["--port", f"tap:{a}"], ["/dev/net/tun"],
            wrapper=["unshare", "-m", "sh", "-c", SHELL_NO_TUN])
    run_bad(t, "no /dev/net/tun for a net_tap port", ["--port", f"dpdk:net_tap0,iface={b}"], ["/dev/net/tun"],
            wrapper=["unshare", "-m", "sh", "-c", SHELL_NO_TUN])

    # As nobody, in a directory nobody may use, so that the tap is what lacks permission.
    open_dir = tempfile.mkdtemp(prefix=f"tapswitch-{t.prefix}-nobody-")
    tslib._cleanup.push(shutil.rmtree, open_dir, True)
    os.chmod(open_dir, 0o777)
    env = dict(os.environ, XDG_RUNTIME_DIR=open_dir)
    run_bad(t, "no permission", ["--port", f"tap:{c}"], ["permission", c],
            wrapper=["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"],
            env=env, ctl_dir=open_dir)
    run_bad(t, "no permission for a net_tap port", ["--port", f"dpdk:net_tap0,iface={c}"], [c, "not permitted"],
            wrapper=["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"],
            env=env, ctl_dir=open_dir)

    run_bad(t, "unknown EAL option", ["--port", f"tap:{a}", "--eal", f"{eal_ok} --bogus-eal"],
            ["EAL", "--bogus-eal"])
    run_bad(t, "EAL without a worker lcore", ["--port", f"tap:{a}", "--eal", f"{eal_ok} -l 0"],
            ["lcore"])
    run_bad(t, "EAL with too little memory", ["--port", f"tap:{a}", "--eal", "--no-huge --no-pci -m 1"],
            ["memory"])
    if no_hugepages():
        run_bad(t, "EAL without --no-huge on a machine with no hugepages",
                ["--port", f"tap:{a}", "--eal", "--no-pci -l 0-1"], ["hugepage"])
    run_bad(t, "unterminated quote in --eal", ["--port", f"tap:{a}", "--eal", "--no-huge 'oops"],
            ["quote"])

    # Numbers: Boost reads "-1" into an unsigned as 4294967295; each must be refused as it is.
    for opt, lo, hi in [("memory", 64, 524288), ("mbufs", 1024, 134217728), ("fdb-size", 16, 16777216),
                        ("fdb-aging", 2, 1000000), ("fdb-port-limit", 1, 16777216), ("workers", 1, 64)]:
        run_bad(t, f"negative --{opt}", ["--port", f"tap:{a}", f"--{opt}", "-1"],
                [f"--{opt}: '-1' is not a number from {lo} to {hi}"])
    run_bad(t, "negative number in a config file", ["--config", write_conf(t, "fdb-size = -5\n")],
            ["--fdb-size: '-5' is not a number from 16 to"])
    ram_mb = machine_memory_mb()
    too_much = [("--fdb-size", "4294967295"), ("--memory", "99999999"), ("--mbufs", "999999999"),
                ("--mbufs", "-1"), ("--fdb-port-limit", "-1")]
    for check_only in ([], ["--check-config"]):
        what = " (--check-config)" if check_only else ""
        for opt, value in too_much:
            run_bad(t, f"{opt} {value}{what}", check_only + ["--port", f"tap:{a}", opt, value],
                    [f"{opt}: '{value}' is not a number from"])
        if ram_mb + 1024 <= 524288:
            run_bad(t, f"more --memory than the machine has{what}",
                    check_only + ["--port", f"tap:{a}", "--memory", str(ram_mb + 1024)],
                    ["--memory", "more than this machine's memory"])
        if ram_mb < 100000:  # a pool of 50M mbufs takes about 150 GB
            run_bad(t, f"more mbufs than the machine's memory holds{what}",
                    check_only + ["--port", f"tap:{a}", "--mbufs", "50000000"],
                    ["a pool of 50000000 mbufs", "more than this machine's"])
        run_bad(t, f"tap MTU over 65521{what}", check_only + ["--port", f"tap:{a},mtu=65530"],
                [f"tap:{a},mtu=65530", "from 68 to 65521"])
        run_bad(t, f"a directory as --config{what}", check_only + ["--config", t.tmp], [t.tmp, "is a directory"])

    bad_runtime_commands(t, a)


def bad_runtime_commands(t, a):
    """tapswitchctl's errors quote what the user typed, in the command's own terms."""
    sw = t.daemon([f"tap:{a}"])
    mac = "02:00:00:00:00:01"

    def refused(args, expect, absent=()):
        r = sw.ctl_run(*args)
        err = r.stderr.strip()
        check(r.returncode == 1, f"tapswitchctl {' '.join(args)}: exit code {r.returncode}, expected 1: {err}")
        missing = [e for e in expect if e not in err]
        check(not missing, f"tapswitchctl {' '.join(args)}: the message does not name {missing}: {err}")
        present = [e for e in absent if e in err]
        check(not present, f"tapswitchctl {' '.join(args)}: the message should not say {present}: {err}")
        say(f"ok  tapswitchctl {' '.join(args)}: {err}")

    refused(["port", "add", f"dpdk:net_tap2,iface={a}"],
            [f"port 'dpdk:net_tap2,iface={a}': a port named '{a}' is already configured, as 'tap:{a}'"])
    refused(["fdb", "add", mac, a, "vlan", "4095"], ["VLAN '4095' is not a number from 0 to 4094"],
            absent=["--fdb-static"])
    refused(["fdb", "add", "01:00:5e:00:00:01", a], ["01:00:5e:00:00:01 is a group address"],
            absent=["--fdb-static"])
    refused(["fdb", "del", mac, "vlan", "10"], [f"{mac} is not in the FDB on VLAN 10"])
    check(list(sw.ports()) == [a], f"ports changed: {list(sw.ports())}")
    sw.stop()


def machine_memory_mb():
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") >> 20


def no_hugepages():
    with open("/proc/meminfo") as f:
        return any(line.split()[:2] == ["HugePages_Total:", "0"] for line in f)


def write_conf(t, text):
    path = os.path.join(t.tmp, "bad.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


if __name__ == "__main__":
    tslib.main("bi", test)
