#!/usr/bin/python3
"""The control socket under abuse, and who may use it.

While two namespaces ping through the switch, clients send garbage, invalid UTF-8, wrong
types, unknown commands, an oversized request, half a request then hang up; one connects and
never sends, one sends requests and never reads; the client limit is exceeded. Each gets an
error reply or a closed connection, tapswitchctl keeps working meanwhile, the daemon stays up
with a clean log, and the pings lose nothing.

Then permissions: by default the socket is 0600 root and nobody is refused; with
--ctl-group users it is 0660 group users, a member of users (as nobody) is accepted and a
non-member (nobody without groups) is refused.
"""
import grp
import os
import socket
import stat
import subprocess

import opslib
import tslib
from tslib import ping_all_pairs
from tslib import check, say, sh

MAX_REQUEST = 64 * 1024
MAX_CLIENTS = 64


def expect_error(client, payload, words):
    client.send(payload)
    r = client.reply()
    check(r is not None and r.get("ok") is False, f"{payload[:40]!r}: no error reply: {r}")
    check(all(w in r["error"] for w in words), f"{payload[:40]!r}: error {r['error']!r} lacks {words}")
    return r


def ctl_works(sw):
    data = sw.ctl("show", "ports")
    check(len(data) == 2, f"show ports while abused: {data}")


def abuse(t, sw):
    c = opslib.RawClient(sw.ctl_path)
    expect_error(c, b"hello switch\n", ["not valid JSON"])
    expect_error(c, b'{"argv": ["show", "\xff\xfe"]}\n', ["not valid JSON"])
    expect_error(c, b'{"argv": "show ports"}\n', ["expected"])
    expect_error(c, b'{"argv": ["show", 1]}\n', ["strings"])
    expect_error(c, b'{"argv": ["show", "ports"], "json": "yes"}\n', ["json must be true or false"])
    expect_error(c, b'["argv"]\n', ["expected"])
    expect_error(c, b'{"argv": []}\n', ["empty command"])
    expect_error(c, b'{"argv": ["frobnicate", "now"]}\n', ["unknown command 'frobnicate now'"])
    expect_error(c, b'{"argv": ["show", "ports", "extra"]}\n', ["unexpected argument"])
    r = c.request(["show", "ports"], json_reply=True)
    check(r["ok"] and len(r["data"]) == 2, f"the connection is still usable after errors: {r}")
    c.close()
    say("garbage, bad UTF-8, wrong types, unknown commands: error replies, connection usable")

    c = opslib.RawClient(sw.ctl_path)
    expect_error(c, b'{"argv": ["' + b"a" * (MAX_REQUEST + 10) + b'"]}\n', ["too large"])
    check(c.closed_by_server(), "the server kept an oversized request's connection open")
    c.close()
    c = opslib.RawClient(sw.ctl_path)
    try:
        c.send(b"x" * (MAX_REQUEST * 3))  # no newline at all
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed while we were still sending: fine
    else:
        r = c.reply()
        check(r is None or "too large" in r.get("error", ""), f"endless line: {r}")
    c.close()
    say("oversized requests: error reply, connection closed")

    for partial in (b'{"argv": ["show", "po', b'{"argv": ["port", "add", "tap:', b"\xff" * 100):
        c = opslib.RawClient(sw.ctl_path)
        c.send(partial)
        c.close()
        ctl_works(sw)
    check(set(sw.ports()) == {t.name("a"), t.name("b")}, "a half request changed the ports")
    say("half a request then hang-up: ignored, daemon serves on")

    # A client that never sends and one that never reads, while tapswitchctl works.
    silent = opslib.RawClient(sw.ctl_path)
    greedy = opslib.RawClient(sw.ctl_path)
    greedy.sock.setblocking(False)
    sent = 0
    req = b'{"argv": ["show", "ports"], "json": true}\n'
    try:
        for _ in range(20000):
            greedy.sock.send(req)
            sent += 1
    except BlockingIOError:
        pass
    for _ in range(5):
        ctl_works(sw)
    check(sw.proc.poll() is None, "the daemon died")
    say(f"a silent client and one that sent {sent} requests without reading do not stall others")
    silent.close()
    greedy.close()

    # More clients than the server takes: the extra one is told, the others are served later.
    held = [opslib.RawClient(sw.ctl_path) for _ in range(MAX_CLIENTS)]
    extra = opslib.RawClient(sw.ctl_path)
    r = extra.reply()
    check(r is not None and "too many" in r.get("error", ""), f"client {MAX_CLIENTS + 1}: {r}")
    extra.close()
    for h in held:
        h.close()
    tslib.wait_for(lambda: sw.ctl_run("show", "ports").returncode == 0, "the server to serve again")
    say(f"client {MAX_CLIENTS + 1} is turned away; the server recovers when they leave")


def as_nobody(sw, groups, *args):
    ids = ["--reuid", "nobody", "--regid", "nogroup"]
    ids += ["--groups", groups] if groups else ["--clear-groups"]
    return sh("setpriv", *ids, sw.test.tapswitchctl, "--ctl", sw.ctl_path, *args, check=False)


def open_dirs(t, sw):
    """Lets other users reach the socket's directory (the socket's own mode still applies)."""
    os.chmod(t.tmp, 0o755)
    os.chmod(sw.dir, 0o755)


def permissions(t, sw_default):
    users = grp.getgrnam("users").gr_gid
    st = os.stat(sw_default.ctl_path)
    check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0, f"default socket mode {oct(st.st_mode)}")
    open_dirs(t, sw_default)
    r = as_nobody(sw_default, str(users), "show", "ports")
    check(r.returncode == 2 and "Permission denied" in r.stderr, f"nobody on a 0600 socket: {r.returncode} {r.stderr}")

    sw = t.daemon([], args=["--ctl-group", "users"])
    st = os.stat(sw.ctl_path)
    check(stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == users,
          f"--ctl-group users: mode {oct(st.st_mode)} gid {st.st_gid}")
    open_dirs(t, sw)
    r = as_nobody(sw, None, "show", "ports")
    check(r.returncode == 2 and "Permission denied" in r.stderr and "--ctl-group" in r.stderr,
          f"a user outside the group: rc {r.returncode}: {r.stderr}")
    r = as_nobody(sw, str(users), "-j", "show", "ports")
    check(r.returncode == 0 and r.stdout.strip() == "[]", f"a member of the group: rc {r.returncode}: {r.stderr}")
    say("0600 by default: nobody refused; --ctl-group users: 0660, members in, others refused")
    sw.stop()

    ctl = os.path.join(t.tmp, "nogroup.sock")
    r = opslib.run_tapswitch(t, ["--ctl", ctl, "--ctl-group", "no-such-group-tapswitch"])
    check(r.returncode == 2 and r.stderr.strip() ==
          "tapswitch: error: --ctl-group: there is no group named 'no-such-group-tapswitch'",
          f"unknown group: rc {r.returncode}: {r.stderr}")
    check(not os.path.exists(ctl), "a socket was created for an unknown group")


def test(t):
    na, nb = t.netns("a"), t.netns("b")
    a, b = t.name("a"), t.name("b")
    sw = t.daemon([f"tap:{a}", f"tap:{b}"])
    na.take(a, "10.80.0.1/24")
    nb.take(b, "10.80.0.2/24")
    ping_all_pairs([(na, "10.80.0.1"), (nb, "10.80.0.2")])

    count = 40
    ping = subprocess.Popen(["ip", "netns", "exec", na.name, "ping", "-c", str(count), "-i", "0.1", "-W", "5",
                             "-q", "10.80.0.2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tslib._cleanup.push(ping.kill)
    abuse(t, sw)
    out = ping.communicate(timeout=60)[0]
    check(f"{count} received" in out, f"pings were lost while the control socket was abused:\n{out}")
    say(f"{count}/{count} pings answered while the control socket was abused")

    permissions(t, sw)
    check(sw.proc.poll() is None, "the daemon died")
    sw.stop()  # exit 0, no WARN/ERROR in the log


if __name__ == "__main__":
    opslib.main("sck", test)
