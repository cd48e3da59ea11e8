#!/usr/bin/python3
"""Every bad input gives one clear line naming the problem and exit code 2, with nothing left
behind: no tap or net_tap interface, no control socket, no DPDK runtime directory.

Cases (issue 2, section 3): an unknown option, malformed port specs, a tap name over 15
characters, a tap already held by another process (this test holds it), a duplicate port, no
/dev/net/tun (a tmpfs over /dev/net in a private mount namespace), no permission (as nobody),
and bad --eal arguments. Where ports open before the failing one, the switch must tear them down.
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
    run_bad(t, "net_tap on a tap held by another process", ["--port", f"dpdk:net_tap0,iface={held}"],
            [held, "TUNSETIFF"], keep=[held])
    t.release_tap(fd)
    tslib.wait_for(lambda: not tslib.link_exists(held), f"{held} to go once closed")

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
