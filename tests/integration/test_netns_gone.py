#!/usr/bin/python3
"""A port whose tap lived in a namespace that is deleted (`ip netns del`) is seen gone.

The switch must not keep the namespace alive: a socket it kept there for the link checks did,
so the tap (and the namespace) lived on and the port stayed "up" forever. Now it is logged
once, shown as gone and its FDB entries flushed, while the other ports keep forwarding.
"""
import tslib
from tslib import check, say, wait_for


def test(t):
    a_if, b_if, g_if = t.name("a"), t.name("b"), t.name("g")
    sw = t.daemon([f"tap:{a_if}", f"tap:{b_if}", f"tap:{g_if}"],
                  allow=[rf"warning port {g_if}: its interface was deleted"])
    na, nb, ng = t.netns("a"), t.netns("b"), t.netns("g")
    na.take(a_if, "10.81.0.1/24")
    nb.take(b_if, "10.81.0.2/24")
    ng.take(g_if, "10.81.0.3/24")
    r = ng.exec("ping", "-c", "2", "-i", "0.2", "-q", "10.81.0.1", check=False)
    check(r.returncode == 0, f"g cannot ping a:\n{r.stdout}")
    wait_for(lambda: sw.ports()[g_if]["state"] == "up", f"{g_if} to be seen up")
    # Let the link monitor look at g in its namespace at least once before it goes.
    wait_for(lambda: sw.ports()[g_if]["details"].get("mtu") == 1500, f"{g_if}'s MTU to be read")

    ng.delete()
    wait_for(lambda: sw.ports()[g_if]["state"] == "gone", f"{g_if} to be seen gone after `ip netns del`",
             timeout=8.0)
    wait_for(lambda: f"port {g_if}: its interface was deleted" in sw.log(), "the deletion to be logged")
    check(sw.log().count(f"port {g_if}: its interface was deleted") == 1, "the deletion must be logged once")
    r = na.exec("ping", "-c", "3", "-i", "0.2", "-q", "10.81.0.2", check=False)
    check(r.returncode == 0, f"a cannot ping b after g's namespace went:\n{r.stdout}")
    say(f"{g_if}'s namespace deleted: the port is gone, logged once; a and b keep forwarding")
    sw.stop()


if __name__ == "__main__":
    tslib.main("ng", test)
