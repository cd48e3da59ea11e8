"""tslib: the harness of tapswitch's integration tests (real taps in network namespaces).

Python 3 standard library only. A test script is a function of a Test, run by tslib.main():

    def test(t):
        a = t.netns("a")
        sw = t.daemon(["tap:" + t.name("a")])
        a.take(t.name("a"), "10.0.0.1/24")
        ...
        sw.stop()          # SIGTERM; asserts exit code 0, a clean log, nothing left behind
    tslib.main("xx", test)

Every namespace and interface is named "ti" + tag + pid + suffix (at most 15 characters), so
tests run in parallel. Whatever a test creates is registered for cleanup at once, and cleanup
runs on success, failure, exception and SIGTERM/SIGINT. Without root or /dev/net/tun the test
exits with 77, meson's "skipped".
"""
import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
DPDK_RUN = "/run/dpdk"


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def say(msg):
    print(msg, flush=True)


def binary(env, name):
    """The built program: $env (set by meson), else build/apps/NAME next to the sources."""
    path = os.environ.get(env) or os.path.join(HERE, "..", "..", "build", "apps", name)
    if not os.access(path, os.X_OK):
        raise TestFailure(f"{name} not found at {path} (set ${env})")
    return os.path.abspath(path)


def sh(*cmd, check=True, timeout=30, **kw):
    """Runs a command, capturing its output; fails the test when it fails (unless check=False)."""
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise TestFailure(f"`{' '.join(map(str, cmd))}` exited with {r.returncode}: "
                          f"{(r.stderr or r.stdout).strip()}")
    return r


def wait_for(cond, what, timeout=10.0, interval=0.05):
    """Polls cond() until it returns something true. The timeout only bounds a failure."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TestFailure(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Cleanup that always runs.

class _Cleanup:
    def __init__(self):
        self._stack = []

    def push(self, fn, *args, **kw):
        self._stack.append((fn, args, kw))

    def run(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # cleanup itself must not be interrupted
        while self._stack:
            fn, args, kw = self._stack.pop()
            try:
                fn(*args, **kw)
            except Exception as e:  # keep cleaning: one failure must not leave the rest behind
                say(f"cleanup: {getattr(fn, '__name__', fn)}{args}: {e}")


_cleanup = _Cleanup()
atexit.register(_cleanup.run)


def _on_signal(sig, _frame):
    raise SystemExit(128 + sig)  # unwinds through the test's finally blocks, then atexit


def require_root():
    reason = None
    if os.geteuid() != 0:
        reason = "not running as root"
    elif not os.path.exists("/dev/net/tun"):
        reason = "/dev/net/tun is missing"
    else:
        try:
            os.close(os.open("/dev/net/tun", os.O_RDWR))
        except OSError as e:
            reason = f"cannot open /dev/net/tun: {e.strerror}"
    if reason is None and not shutil.which("ip"):
        reason = "the ip command (iproute2) is missing"
    if reason:
        say(f"SKIP: needs root and /dev/net/tun ({reason})")
        sys.exit(SKIP)


# ---------------------------------------------------------------------------------------------
# Namespaces and interfaces.

def link_names(netns=None):
    """Names of the interfaces in a namespace (the test's own when netns is None)."""
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["-o", "link", "show"]
    out = sh(*cmd).stdout
    return [m.group(1) for m in re.finditer(r"^\d+: ([^:@]+)[:@]", out, re.M)]


def link_exists(name, netns=None):
    return name in link_names(netns)


class Namespace:
    """A network namespace with lo up and IPv6 off (so the kernel sends nothing by itself)."""

    def __init__(self, name):
        self.name = name
        _cleanup.push(self.delete)
        sh("ip", "netns", "add", name)
        self.exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        sh("ip", "-n", name, "link", "set", "lo", "up")

    def delete(self):
        # Deleting a namespace destroys the taps and veths inside it.
        sh("ip", "netns", "del", self.name, check=False)

    def exec(self, *cmd, **kw):
        return sh("ip", "netns", "exec", self.name, *cmd, **kw)

    def take(self, ifname, addr=None):
        """Moves ifname into this namespace, gives it addr (CIDR) if any, and sets it up."""
        sh("ip", "link", "set", ifname, "netns", self.name)
        if addr:
            sh("ip", "-n", self.name, "addr", "add", addr, "dev", ifname)
        sh("ip", "-n", self.name, "link", "set", ifname, "up")

    def has_link(self, ifname):
        return link_exists(ifname, self.name)

    def mac(self, ifname):
        out = sh("ip", "-n", self.name, "-o", "link", "show", ifname).stdout
        m = re.search(r"link/ether ([0-9a-f:]{17})", out)
        check(m, f"no MAC on {ifname} in {self.name}: {out}")
        return m.group(1)

    def enter(self):
        """A context manager: the calling thread is in this namespace inside the block."""
        from tsframes import netns_entered
        return netns_entered(self.name)


def ping_all_pairs(hosts, attempts=3):
    """hosts: [(namespace, ip)]. Every ordered pair must get 3 of 3 replies; a pair may try
    again (the first ARP exchange can cost a request). Pairs run concurrently."""
    pending = [(a, b) for a in hosts for b in hosts if a is not b]
    for attempt in range(1, attempts + 1):
        procs = [(a, b, subprocess.Popen(
            ["ip", "netns", "exec", a[0].name, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-q", b[1]],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)) for a, b in pending]
        failed = []
        for a, b, p in procs:
            out = p.communicate(timeout=30)[0]
            ok = p.returncode == 0 and " 3 received" in out
            if not ok:
                failed.append((a, b, out.strip().splitlines()[-2:] if out.strip() else []))
        say(f"attempt {attempt}: {len(pending) - len(failed)}/{len(pending)} pairs answered 3/3")
        if not failed:
            return
        pending = [(a, b) for a, b, _ in failed]
    check(False, "no 3/3 replies between: " + "; ".join(
        f"{a[0].name} -> {b[1]} ({' / '.join(o)})" for a, b, o in failed))


# ---------------------------------------------------------------------------------------------
# The daemon.

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+ (trace|debug|info|warning|error|critical) ")


def unexpected_lines(text, allow=()):
    """Lines that are neither a trace/debug/info log line nor matched by an allow regex."""
    bad = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = LOG_LINE.match(line)
        if m and m.group(1) in ("trace", "debug", "info"):
            continue
        if any(re.search(a, line) for a in allow):
            continue
        bad.append(line)
    return bad


def dpdk_runtime_dirs(pid, since, extra=()):
    """EAL's per-instance directories (default --file-prefix tapswitch-PID) that exist and were
    touched since `since` (time.time()): a directory an earlier process with the same pid
    left behind is not ours."""
    dirs = [os.path.join(d, f"tapswitch-{pid}") for d in (DPDK_RUN, "/tmp/dpdk", *extra)]
    out = []
    for d in dirs:
        try:
            if os.stat(d).st_mtime >= since - 0.05:
                out.append(d)
        except FileNotFoundError:
            pass
    return out


class Daemon:
    """One tapswitch, with its own control socket and log in a private directory."""

    def __init__(self, test, ports, args=(), pass_fds=(), allow=(), wrap=()):
        self.test = test
        self.allow = list(allow)
        self.dir = tempfile.mkdtemp(prefix="sw-", dir=test.tmp)
        self.ctl_path = os.path.join(self.dir, "ctl.sock")
        self.log_path = os.path.join(self.dir, "tapswitch.log")
        self.cmd = [*wrap, test.tapswitch, "--ctl", self.ctl_path]  # wrap: a launcher, e.g. no_uring
        for p in ports:
            self.cmd += ["--port", p]
        self.cmd += list(args)
        self.started = time.time()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, pass_fds=pass_fds)
        self.pid = self.proc.pid
        _cleanup.push(self.kill)
        test.daemons.append(self)
        self.wait_ready()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_ready(self, timeout=20.0):
        def ready():
            if self.proc.poll() is not None:
                raise TestFailure(f"tapswitch exited with {self.proc.returncode} while starting "
                                  f"({' '.join(self.cmd)}):\n{self.log()}")
            return self.ctl_run("show", "ports").returncode == 0
        wait_for(ready, "tapswitch to answer on its control socket", timeout)

    def ctl_run(self, *args):
        return sh(self.test.tapswitchctl, "--ctl", self.ctl_path, *args, check=False)

    def ctl(self, *args):
        """Runs `tapswitchctl -j ARGS` and returns the parsed JSON."""
        r = self.ctl_run("-j", *args)
        check(r.returncode == 0, f"tapswitchctl {' '.join(args)} exited with {r.returncode}: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def ports(self):
        return {p["name"]: p for p in self.ctl("show", "ports")}

    def fdb(self):
        return self.ctl("show", "fdb")

    def fdb_entry(self, mac):
        for e in self.fdb():
            if e["mac"] == mac:
                return e
        return None

    def wait_learned(self, mac, port):
        return wait_for(lambda: (e := self.fdb_entry(mac)) and e["port"] == port and e,
                        f"{mac} to be learned on {port}; fdb: {self.fdb()}")

    def stop(self):
        """SIGTERM; asserts exit code 0, no unexpected log line, socket and EAL directory gone."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise TestFailure("tapswitch did not exit within 30 s of SIGTERM")
        log = self.log()
        check(rc == 0, f"tapswitch exited with {rc} after SIGTERM:\n{log}")
        bad = unexpected_lines(log, self.allow)
        check(not bad, "unexpected lines in tapswitch's log:\n  " + "\n  ".join(bad))
        check(not os.path.exists(self.ctl_path), f"control socket {self.ctl_path} left behind")
        left = dpdk_runtime_dirs(self.pid, self.started)
        check(not left, f"DPDK runtime directory left behind: {left}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for d in dpdk_runtime_dirs(self.pid, self.started):
            shutil.rmtree(d, ignore_errors=True)  # only after a failure: stop() asserts it is gone


# ---------------------------------------------------------------------------------------------
# The test context.

class Test:
    def __init__(self, tag):
        check(re.fullmatch(r"[a-z]{1,3}", tag), f"bad test tag {tag!r}")
        self.prefix = f"ti{tag}{os.getpid()}"
        self.tapswitch = binary("TAPSWITCH", "tapswitch")
        self.tapswitchctl = binary("TAPSWITCHCTL", "tapswitchctl")
        self.daemons = []
        self.held_fds = set()
        self.tmp = tempfile.mkdtemp(prefix=f"tapswitch-{self.prefix}-")
        _cleanup.push(shutil.rmtree, self.tmp, True)

    def name(self, suffix):
        """A unique interface or namespace name: prefix + suffix, at most 15 characters."""
        check(re.match(r"[a-z]", suffix), f"suffix {suffix!r} must start with a letter (after the pid)")
        n = self.prefix + suffix
        check(len(n) <= 15, f"interface name {n} is longer than 15 characters")
        return n

    def netns(self, suffix):
        return Namespace(self.name(suffix))

    def daemon(self, ports, **kw):
        return Daemon(self, ports, **kw)

    def veth(self, suffix, peer_suffix):
        """A veth pair; the first end stays here, up, with IPv6 off (for af_packet ports)."""
        host, peer = self.name(suffix), self.name(peer_suffix)
        _cleanup.push(sh, "ip", "link", "del", host, check=False)
        sh("ip", "link", "add", host, "type", "veth", "peer", "name", peer)
        sh("sysctl", "-qw", f"net.ipv6.conf.{host}.disable_ipv6=1")
        sh("ip", "link", "set", host, "up")
        return host, peer

    def veth_host(self, suffix, addr):
        """A veth pair whose peer sits in a new namespace (named and suffixed like the peer) with
        address `addr`; returns (the host end, for a link: port; the namespace)."""
        host, peer = self.veth(suffix + "h", suffix)
        ns = self.netns(suffix)
        ns.take(peer, addr)
        return host, ns

    def persistent_tap(self, suffix, multi_queue=False):
        name = self.name(suffix)
        _cleanup.push(sh, "ip", "link", "del", name, check=False)
        sh("ip", "tuntap", "add", name, "mode", "tap", *(["multi_queue"] if multi_queue else []))
        sh("sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1")
        return name

    def hold_tap(self, suffix, multi_queue=False):
        """Creates a tap held open by this test process; returns (name, fd)."""
        from tsframes import IFF_MULTI_QUEUE, open_tap
        name = self.name(suffix)
        fd = open_tap(name, IFF_MULTI_QUEUE if multi_queue else 0)
        self.held_fds.add(fd)
        _cleanup.push(self.release_tap, fd)
        sh("sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1")
        return name, fd

    def keep_fd(self, fd):
        """An fd (a duplicate of a held tap's, under a chosen number) closed at cleanup; returns it."""
        self.held_fds.add(fd)
        _cleanup.push(self.release_tap, fd)
        return fd

    def release_tap(self, fd):
        """Closes a tap fd from hold_tap() (once; cleanup does it otherwise)."""
        if fd in self.held_fds:
            self.held_fds.discard(fd)
            os.close(fd)

    def leftovers(self):
        """Anything of this test still present after cleanup."""
        left = [f"netns {n}" for n in sh("ip", "netns", "list").stdout.split() if n.startswith(self.prefix)]
        left += [f"link {n}" for n in link_names() if n.startswith(self.prefix)]
        for d in self.daemons:
            left += [f"dir {p}" for p in dpdk_runtime_dirs(d.pid, d.started)]
        return left


def main(tag, fn):
    """Runs fn(Test) with skip, cleanup and reporting; exits 0 (pass), 1 (fail) or 77 (skip)."""
    require_root()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    rc = 1
    t = None
    try:
        t = Test(tag)
        fn(t)
        rc = 0
    except TestFailure as e:
        say(f"FAIL: {e}")
    except SystemExit as e:
        say(f"FAIL: interrupted ({e.code})")
    except Exception:
        say("FAIL: the test raised an exception")
        traceback.print_exc(file=sys.stdout)
    finally:
        if rc != 0 and t:
            for d in t.daemons:
                say(f"--- tapswitch {' '.join(d.cmd)} (pid {d.pid}) log:\n{d.log()}---")
        _cleanup.run()
    if t:
        left = t.leftovers()
        if left:
            say("FAIL: left behind after cleanup: " + ", ".join(left))
            rc = 1
    say("PASS" if rc == 0 else "FAILED")
    sys.stdout.flush()
    os._exit(rc)
