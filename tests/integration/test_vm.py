#!/usr/bin/python3
"""A real VM on the switch, talking to a namespace behind a raw-fd tap.

    test_vm.py link | vhost

qemu (software emulation: nested KVM does not boot here) runs Debian's kernel with a busybox
initramfs built by this test, and a virtio-net NIC
  link:  on a tap that qemu itself holds, as libvirt sets a VM up; the switch attaches that
         tap's kernel side at run time (`port add link:NAME`);
  vhost: on vhost-user, with DPDK's net_vhost as the switch's side (`port add
         dpdk:net_vhost0,iface=SOCKET,tso=1`, added before qemu connects; guest memory shared
         through a memfd).
The guest, on its own:
  - pings the namespace (retrying while the port is being added);
  - fetches 4 MB of random data over HTTP from it (the switch's frames into the guest);
  - sends the same 4 MB back over TCP (the guest's virtio-net offloads: partial checksums and
    GSO packets that qemu hands to the tap, which DPDK's af_packet could not carry);
  - prints what it got, idles for 3 s (the worker must sleep on the port meanwhile, not back
    off), then powers off.
The VM then runs a second time, as after a restart: for link:, qemu makes the tap anew and the
switch's port must attach to it by itself (no second `port add`); for vhost, a new qemu connects
to the same socket (new guest memory, new kick fds).
The test compares both sha256 sums and checks the counters: no port dropped anything, and the
guest's GSO packets crossed whole. Needs qemu-system-x86,
linux-image-amd64 and busybox-static (installed by scripts/bootstrap.sh).
"""
import glob
import hashlib
import os
import re
import struct
import subprocess
import sys
import time

import tslib
from tslib import check, say, sh, wait_for

MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
           "failover", "net_failover", "virtio_net"]
GUEST_IP, HOST_IP = "10.85.0.9", "10.85.0.1"
BLOB = 4 << 20

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in MODULES; do [ -f /mods/$m.ko ] && insmod /mods/$m.ko; done
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
ip=$(arg tsip); peer=$(arg tspeer); size=$(arg tssize)
ip link set lo up
ip link set eth0 up && ip addr add $ip/24 dev eth0
echo "TS-NIC $(cat /sys/class/net/eth0/address) $(cat /sys/class/net/eth0/features 2>/dev/null)"
n=0
until ping -c 1 -W 1 $peer >/dev/null 2>&1; do
  n=$((n + 1)); [ $n -ge 60 ] && break
done
echo "TS-PING $(ping -c 3 -W 2 $peer | grep -o '[0-9]* packets received')"
wget -q -O /tmp/blob http://$peer:8080/blob; echo "TS-WGET $?"
echo "TS-SHA $(sha256sum /tmp/blob | cut -d' ' -f1)"
nc $peer 5400 < /tmp/blob; echo "TS-NC $?"
echo "TS-IDLE"
sleep 3
echo "TS-DONE"
poweroff -f
""".replace("MODULES", " ".join(MODULES))

# Reads exactly N bytes, prints their count and sha256, then closes (busybox nc waits for that).
SINK = r"""
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
c.settimeout(60)
h, n, want = hashlib.sha256(), 0, int(sys.argv[3])
while n < want:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
c.close()
print(n, h.hexdigest(), flush=True)
"""


def newc(entries):
    """A cpio archive in the kernel's initramfs format: entries of (name, mode, data, rdev)."""
    out = bytearray()

    def pad():
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data, rdev) in enumerate(entries + [("TRAILER!!!", 0, b"", (0, 0))], 1):
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
        pad()
        out += data
        pad()
    return bytes(out)


def has_interpreter(elf):
    """True if a 64-bit ELF file names a program interpreter (it is dynamically linked)."""
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    return any(struct.unpack_from("<I", elf, phoff + i * phentsize)[0] == 3 for i in range(phnum))  # PT_INTERP


def guest_files():
    """The guest kernel and an initramfs with busybox and the virtio-net modules."""
    kernels = sorted(glob.glob("/boot/vmlinuz-*"))
    check(kernels, "no /boot/vmlinuz-*: install linux-image-amd64 (scripts/bootstrap.sh does)")
    kernel = kernels[-1]
    version = kernel[len("/boot/vmlinuz-"):]
    check(os.path.exists("/bin/busybox"), "no /bin/busybox: install busybox-static (scripts/bootstrap.sh does)")
    with open("/bin/busybox", "rb") as f:
        busybox = f.read()
    check(not has_interpreter(busybox), "/bin/busybox is linked dynamically: install busybox-static")
    entries = [(d, 0o40755, b"", (0, 0)) for d in ("bin", "dev", "proc", "sys", "tmp", "mods")]
    entries.append(("dev/console", 0o20600, b"", (5, 1)))
    entries.append(("bin/busybox", 0o100755, busybox, (0, 0)))
    entries.append(("init", 0o100755, INIT.encode(), (0, 0)))
    found = []
    for m in MODULES:
        paths = glob.glob(f"/lib/modules/{version}/kernel/**/{m}.ko", recursive=True)
        if paths:
            with open(paths[0], "rb") as f:
                entries.append((f"mods/{m}.ko", 0o100644, f.read(), (0, 0)))
            found.append(m)
    check("virtio_net" in found, f"virtio_net.ko of kernel {version} not found under /lib/modules")
    return kernel, newc(entries)


def test(t, mode):
    check(sh("which", "qemu-system-x86_64", check=False).returncode == 0,
          "qemu-system-x86_64 is missing: install qemu-system-x86 (scripts/bootstrap.sh does)")
    kernel, initrd = guest_files()
    initrd_path = os.path.join(t.tmp, "initrd.cpio")
    with open(initrd_path, "wb") as f:
        f.write(initrd)
    blob = os.path.join(t.tmp, "blob")
    with open(blob, "wb") as f:
        f.write(os.urandom(BLOB))
    with open(blob, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()

    h_if, vm_if = t.name("h"), t.name("v")
    sw = t.daemon([f"tap:{h_if}"], allow=[rf"warning port {vm_if}: its interface was deleted"])
    nh = t.netns("h")
    nh.take(h_if, HOST_IP + "/24")
    web = subprocess.Popen(["ip", "netns", "exec", nh.name, "python3", "-m", "http.server", "8080", "--bind",
                            HOST_IP, "--directory", t.tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tslib._cleanup.push(web.kill)
    port = vm_if if mode == "link" else "net_vhost0"
    if mode == "vhost":
        sock = os.path.join(t.tmp, "vhost.sock")
        r = sw.ctl_run("port", "add", f"dpdk:net_vhost0,iface={sock},tso=1")
        check(r.returncode == 0, f"port add net_vhost0: {r.stderr.strip()}")
        netdev = ["-chardev", f"socket,id=c0,path={sock}", "-netdev", "vhost-user,id=n0,chardev=c0",
                  "-object", "memory-backend-memfd,id=mem,size=256M,share=on", "-machine", "memory-backend=mem"]
        # qemu 7.2 under software emulation crashes starting a vhost-user device with MSI-X
        # (msix_set_vector_notifiers in vhost_net_start): legacy interrupts instead.
        msix = ",vectors=0"
    else:
        netdev = ["-netdev", f"tap,id=n0,ifname={vm_if},script=no,downscript=no"]
        msix = ""
        tslib._cleanup.push(sh, "ip", "link", "del", vm_if, check=False)
    # The same VM twice, as after a restart: the second time, a link: port attaches by itself
    # to the tap qemu makes anew, and net_vhost serves a new connection on its socket.
    before = None
    for boot in (1, 2):
        sink = subprocess.Popen(["ip", "netns", "exec", nh.name, "python3", "-c", SINK, HOST_IP, "5400", str(BLOB)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tslib._cleanup.push(sink.kill)
        check(sink.stdout.readline().strip() == "ready", "the TCP sink did not start")
        console = os.path.join(t.tmp, f"console{boot}.log")
        qemu = subprocess.Popen(
            ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "256", "-nodefaults", "-display", "none",
             "-no-reboot", "-serial", f"file:{console}", "-kernel", kernel, "-initrd", initrd_path,
             "-append", f"console=ttyS0 panic=-1 quiet tsip={GUEST_IP} tspeer={HOST_IP}",
             *netdev, "-device", f"virtio-net-pci,netdev=n0,mac=52:54:00:85:00:09{msix}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tslib._cleanup.push(qemu.kill)
        t0 = time.monotonic()
        if mode == "link":
            attach_link(sw, qemu, vm_if, add=boot == 1)

        def log():
            if not os.path.exists(console):  # (qemu has not opened it yet)
                return ""
            with open(console, errors="replace") as f:
                return f.read()

        # While the guest idles (connected, sending nothing), the worker must sleep on the port,
        # not back off (about 1000 wake-ups a second).
        wait_for(lambda: "TS-IDLE" in log() or qemu.poll() is not None, "the guest to finish its transfers",
                 timeout=100)
        sleeps = sw.ctl("show", "workers")[0]["sleeps"]
        time.sleep(1.5)
        idle_sleeps = (sw.ctl("show", "workers")[0]["sleeps"] - sleeps) / 1.5
        try:
            rc = qemu.wait(timeout=100)
        except subprocess.TimeoutExpired:
            raise tslib.TestFailure(f"the guest did not power off within 100 s; its console:\n{log()}")
        secs = time.monotonic() - t0
        say(f"boot {boot}:")
        before = check_guest(sw, log(), rc, secs, sink, digest, port, before)
        say(f"guest connected and idle: the worker slept {idle_sleeps:.0f} times a second")
        check(idle_sleeps < 100, f"the worker woke {idle_sleeps:.0f} times a second beside an idle guest: it backs "
              "off instead of sleeping on the port")
        if mode == "link":
            wait_for(lambda: sw.ports()[port]["state"] == "gone", f"{port} to be seen gone after the guest powered off")
    sw.stop()


def attach_link(sw, qemu, vm_if, add):
    """Brings up the tap qemu made (as libvirt does) and, if add, adds it to the switch as a
    link: port; otherwise the port from the guest's first boot must attach to it by itself."""
    wait_for(lambda: tslib.link_exists(vm_if) or qemu.poll() is not None, f"qemu to create tap {vm_if}")
    if qemu.poll() is not None:
        raise tslib.TestFailure(f"qemu exited with {qemu.returncode}: {qemu.stdout.read()}")
    conf = f"/proc/sys/net/ipv6/conf/{vm_if}/disable_ipv6"
    if os.path.exists("/proc/sys/net/ipv6"):
        wait_for(lambda: os.path.exists(conf), f"{conf} to appear")
        sh("sysctl", "-qw", f"net.ipv6.conf.{vm_if}.disable_ipv6=1")
    sh("ip", "link", "set", vm_if, "up")
    if add:
        r = sw.ctl_run("port", "add", f"link:{vm_if}")
        check(r.returncode == 0, f"port add link:{vm_if}: {r.stderr.strip()}")


def check_guest(sw, out, rc, secs, sink, digest, port, before):
    """What the guest printed, what the sink received, and the port's counters since before
    (show ports by name, None: since the start). Returns the counters now."""
    lines = dict(m.groups() for m in re.finditer(r"^(TS-[A-Z]+) ?(.*?)\r?$", out, re.M))
    check("TS-DONE" in lines, f"the guest did not finish (qemu exited with {rc}); its console:\n{out}")
    say(f"guest NIC: {lines.get('TS-NIC', '?')[:17]}; booted, ran and powered off in {secs:.0f} s")
    check(lines.get("TS-PING") == "3 packets received", f"guest ping: {lines.get('TS-PING')!r}\n{out}")
    check(lines.get("TS-WGET") == "0" and lines.get("TS-SHA") == digest,
          f"the guest's download: wget {lines.get('TS-WGET')}, sha256 {lines.get('TS-SHA')} (sent {digest})")
    got = sink.communicate(timeout=30)[0].split()
    check(lines.get("TS-NC") == "0" and got == [str(BLOB), digest],
          f"the guest's upload: nc {lines.get('TS-NC')}, the sink got {got} (want {BLOB} {digest})")
    say("guest <- namespace: 4 MB over HTTP, sha256 equal; guest -> namespace: 4 MB over TCP, sha256 equal")
    ports = sw.ports()
    p = ports.get(port)
    check(p is not None, f"port {port} is not listed")
    b = (before or {}).get(port, {})
    rx, tx = p["rx_packets"] - b.get("rx_packets", 0), p["tx_packets"] - b.get("tx_packets", 0)
    avg = (p["rx_bytes"] - b.get("rx_bytes", 0)) / max(rx, 1)
    say(f"port {port}: {rx} frames from the guest ({avg:.0f} bytes on average), {tx} to it; state {p['state']}")
    for name, q in ports.items():
        bad = {k: v for k, v in q["drops"].items()
               if k in ("rx_errors", "rx_oversize", "rx_missed", "tx_errors", "bad_offload", "oversize") and v}
        check(not bad, f"port {name} dropped frames: {bad}")
    check(avg > 1514, f"the guest's frames averaged {avg:.0f} bytes: its GSO packets did not cross whole")
    return ports


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "link"
    tslib.main("vm", lambda t: test(t, mode))
