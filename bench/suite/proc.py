"""Running commands: in a network namespace, pinned to CPUs, with logs, stopped by pid."""
import os
import signal
import subprocess
import time


class CommandError(RuntimeError):
    pass


def wrap(cmd, ns=None, cpu=None):
    """The argv that runs `cmd` inside namespace `ns`, pinned to CPU list `cpu` (e.g. "0")."""
    cmd = [str(c) for c in cmd]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    if ns is not None:
        cmd = ["ip", "netns", "exec", ns] + cmd
    return cmd


def run(cmd, ns=None, cpu=None, check=True, timeout=120, env=None, input=None):
    """Runs to completion; returns CompletedProcess with text stdout/stderr."""
    argv = wrap(cmd, ns, cpu)
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, input=input)
    except subprocess.TimeoutExpired as e:
        raise CommandError(f"timed out after {timeout}s: {' '.join(argv)}") from e
    if check and r.returncode != 0:
        raise CommandError(f"failed ({r.returncode}): {' '.join(argv)}\n{r.stderr.strip()[-2000:]}")
    return r


def out(cmd, **kw):
    return run(cmd, **kw).stdout


def ip_batch(lines, ns=None):
    """Runs many `ip` commands in one process (ip -batch -)."""
    if not lines:
        return
    argv = ["ip"] + (["-n", ns] if ns else []) + ["-batch", "-"]
    run(argv, input="\n".join(lines) + "\n", timeout=300)


class Process:
    """A background process we started, in its own session; stop() ends it by its process group
    id (which is its pid), never by name."""

    def __init__(self, cmd, ns=None, cpu=None, log=None, env=None, stdout=None):
        self.argv = wrap(cmd, ns, cpu)
        self.log_path = log
        self._log = open(log, "ab") if log else subprocess.DEVNULL
        self.popen = subprocess.Popen(self.argv, stdout=stdout if stdout is not None else self._log,
                                      stderr=self._log, start_new_session=True, env=env)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signals the process group; waits; kills it if it lingers. Returns the exit code."""
        if self.alive():
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        if self._log is not subprocess.DEVNULL:
            self._log.close()
            self._log = subprocess.DEVNULL
        return self.popen.returncode


def wait_until(pred, timeout, what, interval=0.05, alive=None):
    """Polls pred() until true; raises CommandError naming `what` on timeout or if `alive()`
    turns false first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        if alive is not None and not alive():
            raise CommandError(f"{what}: the process exited")
        time.sleep(interval)
    raise CommandError(f"{what}: not ready after {timeout}s")


def kill_pidfile(path, sig=signal.SIGTERM, timeout=10):
    """Stops a daemon we started that wrote its pid to `path`."""
    try:
        pid = int(open(path).read().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
