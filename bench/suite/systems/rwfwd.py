"""rwfwd: the naive read()/write() forwarder between two raw-fd taps (bench/peers/rwfwd.cpp)."""
from .peer import PeerForwarder


class Rwfwd(PeerForwarder):
    key = "rwfwd"
    label = "naive read/write fwd"
    tag = "rw"
    binary_setting = "rwfwd"

    def describe(self, s):
        return (f"rwfwd: two raw-fd taps with IFF_VNET_HDR and TUNSETOFFLOAD, poll() then one read() and "
                f"one write() per frame on CPU {s.switch_cpu}, no learning")
