"""The forwarders the suite compares. Each joins two namespaces; see base.System."""
from .bridge import LinuxBridge
from .ntfwd import Ntfwd
from .ovs import Ovs
from .rwfwd import Rwfwd
from .tapswitch import Tapswitch


def all_systems():
    """Every system, in table order. Linux bridge first: every figure is a ratio to it."""
    return [LinuxBridge(), Tapswitch("tap"), Tapswitch("tap", wake="any"), Tapswitch("tap", wake="home"),
            Tapswitch("tap", workers=2),
            Tapswitch("tap", poll="busy"),
            Tapswitch("tap", io="uring"), Tapswitch("tap", io="syscall"), Tapswitch("tap", poll="busy", io="uring"),
            Tapswitch("net_tap"), Tapswitch("link"), Tapswitch("link", ring="off"),
            Tapswitch("link", workers=2), Ovs(tso=False), Ovs(tso=True), Ntfwd(), Rwfwd()]
