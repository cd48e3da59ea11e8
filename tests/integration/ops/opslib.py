"""opslib: helpers for the operations tests (control socket, telemetry, sd_notify, check-config),
on top of tslib. Names use this suite's prefix: "to" + tag + pid.
"""
import json
import os
import socket
import subprocess
import time

import tslib
from tslib import TestFailure, check


def main(tag, fn):
    """tslib.main with this suite's interface/namespace prefix."""
    def run(t):
        t.prefix = f"to{tag}{os.getpid()}"
        fn(t)
    tslib.main(tag, run)


def ctl_text(sw, *args):
    """tapswitchctl ARGS (text); returns stdout, failing the test on a non-zero exit."""
    r = sw.ctl_run(*args)
    check(r.returncode == 0, f"tapswitchctl {' '.join(args)} exited with {r.returncode}: {r.stderr.strip()}")
    return r.stdout


class RawClient:
    """A raw connection to the control socket, to send anything at all."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        # A full listen backlog makes connect() fail with EAGAIN on a UNIX socket: try again.
        tslib.wait_for(lambda: self._connect(path), f"a connection to {path}", timeout)
        self.buf = b""

    def _connect(self, path):
        try:
            self.sock.connect(path)
            return True
        except BlockingIOError:
            return False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def request(self, argv, json_reply=False):
        self.send(json.dumps({"argv": argv, "json": json_reply}) + "\n")
        return self.reply()

    def reply(self):
        """The next reply line as JSON; None if the server closed the connection first."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def closed_by_server(self):
        """Reads until EOF; True if the server closed the connection (within the timeout)."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def runtime_dirs(pid):
    """Where EAL puts the per-instance directory of tapswitch's default --file-prefix."""
    return [os.path.join(d, f"tapswitch-{pid}") for d in (tslib.DPDK_RUN, "/tmp/dpdk")]


def telemetry_socket_path(pid):
    for d in runtime_dirs(pid):
        p = os.path.join(d, "dpdk_telemetry.v2")
        if os.path.exists(p):
            return p
    return None


class Telemetry:
    """DPDK's telemetry protocol: SOCK_SEQPACKET; the server greets with a JSON info message,
    then answers each "/command[,params]" with one JSON message."""

    def __init__(self, pid):
        path = tslib.wait_for(lambda: telemetry_socket_path(pid), "DPDK's telemetry socket")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(10)
        self.sock.connect(path)
        info = json.loads(self.sock.recv(16384))
        self.max_len = info["max_output_len"]

    def query(self, cmd):
        self.sock.send(cmd.encode())
        reply = json.loads(self.sock.recv(self.max_len))
        key = cmd.split(",", 1)[0]
        check(key in reply, f"telemetry reply to {cmd} has no {key}: {reply}")
        return reply[key]

    def close(self):
        self.sock.close()


class NotifySocket:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def wait_for(self, key, timeout=30.0):
        """Waits for a message holding KEY (e.g. "READY=1"); returns it as a dict."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self.messages:
                if key in m.split("\n"):
                    return dict(kv.split("=", 1) for kv in m.split("\n") if "=" in kv)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure(f"no {key} on NOTIFY_SOCKET within {timeout:.0f} s; got {self.messages}")
            self.sock.settimeout(left)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass

    def close(self):
        self.sock.close()


def run_tapswitch(t, args, timeout=30, **kw):
    """Runs tapswitch to completion (for --check-config); returns a CompletedProcess with the
    process's pid as .pid."""
    cmd = [t.tapswitch] + list(args)
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise TestFailure(f"{' '.join(cmd)} did not exit within {timeout} s")
    r = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    r.pid = p.pid
    return r
