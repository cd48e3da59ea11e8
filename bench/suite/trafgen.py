"""trafgen (netsniff-ng): configurations and a runner pinned to the generator's CPU.

Frames are IPv4/UDP from pa's MAC and address to pb's MAC, sent to 10.77.0.99, an address pb
does not own: pb's kernel counts each frame in rx_packets and drops it without a reply.
Lengths are Ethernet frames without the FCS: 60 bytes is the minimum frame, 1514 a full
1500-byte MTU packet.
"""
import signal

from . import proc

SINK_IP = "10.77.0.99"


def config(path, size, dst_mac, src_mac, src_ip, src_count=0):
    """Writes a trafgen configuration of one frame of `size` bytes. With src_count, the last
    4 bytes of the source MAC count from 0 to src_count-1, one step per frame (02:00:...)."""
    payload = size - 14 - 20 - 8
    if payload < 0:
        raise ValueError(f"frame of {size} bytes is too short for IPv4/UDP")
    if src_count:
        eth = f"eth(da={dst_mac}, sa=02:00:00:00:00:00, sa=dinc(0, {src_count - 1}), type=0x0800)"
    else:
        eth = f"eth(da={dst_mac}, sa={src_mac}, type=0x0800)"
    text = (f"{{ {eth},\n  ipv4(sa={src_ip}, da={SINK_IP}, ttl=64),\n  udp(sp=9, dp=9),\n"
            f"  fill(0x41, {payload}) }}\n")
    with open(path, "w") as f:
        f.write(text)
    return path


class Trafgen:
    """A running trafgen in namespace `ns`, pinned to `cpu`, sending until stopped (or `count`
    frames)."""

    def __init__(self, ns, ifname, conf, cpu, log, count=0):
        cmd = ["trafgen", "--dev", ifname, "--conf", conf, "--cpus", "1", "--no-sock-mem"]
        if count:
            cmd += ["--num", str(count)]
        self.p = proc.Process(cmd, ns=ns, cpu=cpu, log=log)

    def wait(self, timeout):
        try:
            self.p.popen.wait(timeout)
        except Exception:
            pass
        return self.p.stop(signal.SIGINT)

    def stop(self):
        return self.p.stop(signal.SIGINT)

