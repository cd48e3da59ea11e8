#!/usr/bin/python3
"""sd_notify: with NOTIFY_SOCKET set, tapswitch sends READY=1 once it serves its control socket
and STOPPING=1 when it shuts down, as a Type=notify systemd unit expects.

The test owns the datagram socket NOTIFY_SOCKET points at. Built without libsystemd
(TAPSWITCH_SD_NOTIFY=0 from meson), tapswitch sends nothing, and the test checks that instead.
"""
import os
import signal

import opslib
import tslib
from tslib import check, say


def test(t):
    supported = os.environ.get("TAPSWITCH_SD_NOTIFY", "1") == "1"
    notify = opslib.NotifySocket(t.tmp)
    tslib._cleanup.push(notify.close)
    a = t.name("a")
    os.environ["NOTIFY_SOCKET"] = notify.path
    try:
        sw = t.daemon([f"tap:{a}"])
    finally:
        del os.environ["NOTIFY_SOCKET"]
    if not supported:
        check(not notify.messages, f"built without libsystemd, yet sent {notify.messages}")
        say("built without libsystemd: no notification, as documented")
        sw.stop()
        return
    ready = notify.wait_for("READY=1")
    check("forwarding on 1 ports" in ready.get("STATUS", ""), f"READY without a useful STATUS: {ready}")
    # READY means ready: the control socket answers and the port exists.
    check(list(sw.ports()) == [a], "READY=1 came before the switch could answer")
    say(f"READY=1, STATUS={ready['STATUS']}")
    sw.proc.send_signal(signal.SIGTERM)
    notify.wait_for("STOPPING=1")
    say("STOPPING=1 on SIGTERM")
    sw.stop()  # already signalled: waits, and checks exit 0 and a clean log


if __name__ == "__main__":
    opslib.main("ntf", test)
