"""ntfwd: the plain DPDK net_tap io-forward baseline (bench/peers/ntfwd.cpp)."""
from .peer import PeerForwarder


class Ntfwd(PeerForwarder):
    key = "ntfwd"
    label = "DPDK net_tap io-fwd"
    tag = "nf"
    binary_setting = "ntfwd"

    def describe(self, s):
        return f"ntfwd: two net_tap ports, rx_burst/tx_burst loop on CPU {s.switch_cpu}, no learning"
