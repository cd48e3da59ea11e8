"""What the report says about the machine, the binaries and the settings of the run."""
import dataclasses
import datetime
import os
import platform
import shutil

from . import proc
from .settings import REPO_DIR


def first_line(cmd):
    r = proc.run(cmd, check=False)
    text = (r.stdout or r.stderr).strip()
    return text.splitlines()[0] if text else ""


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def describe(s):
    versions = {"tapswitch": first_line([s.tapswitch, "--version"]) if os.access(s.tapswitch, os.X_OK) else None}
    for name, cmd in (("iperf3", ["iperf3", "--version"]), ("trafgen", ["trafgen", "--version"]),
                      ("ovs-vswitchd", ["ovs-vswitchd", "--version"]), ("kernel", ["uname", "-r"])):
        versions[name] = first_line(cmd) if shutil.which(cmd[0]) else None
    commit = proc.run(["git", "-C", REPO_DIR, "describe", "--always", "--dirty"], check=False).stdout.strip()
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_start": os.getloadavg(),
        "git": commit,
        "versions": versions,
        "settings": dataclasses.asdict(s),
    }
