#!/bin/bash
# How much of a ping round trip is the vCPU coming out of halt, for the bridge and tapswitch.
#
#   bench/ping_halt.sh [TAPSWITCH] [COUNT]   (as root; default build/apps/tapswitch, 300 pings)
#
# Two namespaces joined by a Linux bridge (veth pairs), then by tapswitch (two raw-fd taps, its
# worker pinned to CPU 1, adaptive polling); ping every 10 ms from CPU 0, each way twice: with
# CPU 0 idle between pings (it halts, as in the suite's ping row), and with CPU 0 kept busy by
# a SCHED_IDLE spinner that yields to everything else (it never halts). Prints the average and
# median round trip of each. On a VM whose halted vCPUs come back cold, both forwarders are
# several times slower in the first case; the gap between the two cases is the halt's share.
# Not a pass/fail test; compare within one run only.
set -euo pipefail
# shellcheck source=bench/taps.sh
. "$(dirname "$0")/taps.sh"

bin=${1:-build/apps/tapswitch}
count=${2:-300}
tag="phl$$"
tmp=$(mktemp -d /tmp/ping_halt.XXXXXX)
spin="" sw=""

teardown() {
  [ -n "$spin" ] && { kill "$spin" 2>/dev/null; wait "$spin" 2>/dev/null || true; }
  [ -n "$sw" ] && { kill "$sw" 2>/dev/null; wait "$sw" 2>/dev/null || true; }
  spin="" sw=""
  ip netns del "${tag}a" 2>/dev/null || true
  ip netns del "${tag}b" 2>/dev/null || true
  ip link del "${tag}br" 2>/dev/null || true
}
trap 'teardown; rm -rf "$tmp"' EXIT

namespaces() {
  ip netns add "${tag}a"
  ip netns add "${tag}b"
  for n in a b; do ip netns exec "$tag$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
}

# address IFACE_A IFACE_B: both ends up, addressed, and one ping through
address() {
  ip -n "${tag}a" addr add 10.86.0.1/24 dev "$1"
  ip -n "${tag}a" link set "$1" up
  ip -n "${tag}b" addr add 10.86.0.2/24 dev "$2"
  ip -n "${tag}b" link set "$2" up
  ip netns exec "${tag}a" ping -c 3 -i 0.05 -W 1 10.86.0.2 >/dev/null
}

# rtts: prints "AVG MEDIAN" in us of COUNT pings a -> b every 10 ms from CPU 0
rtts() {
  ip netns exec "${tag}a" taskset -c 0 ping -c "$count" -i 0.01 10.86.0.2 >"$tmp/ping"
  grep -o 'time=[0-9.]*' "$tmp/ping" | cut -d= -f2 | sort -n |
    awk '{v[NR] = $1 * 1000; s += $1 * 1000} END {printf "%.0f %.0f\n", s / NR, v[int((NR + 1) / 2)]}'
}

# both NAME: the two measurements, idle then busy CPU 0
both() {
  local idle busy
  idle=$(rtts)
  taskset -c 0 chrt -i 0 sh -c 'while :; do :; done' &
  spin=$!
  sleep 0.2
  busy=$(rtts)
  kill "$spin"
  wait "$spin" 2>/dev/null || true
  spin=""
  # (each of idle and busy is "AVG MEDIAN": two columns)
  # shellcheck disable=SC2086
  printf '%-22s %8s %8s %14s %14s\n' "$1" ${idle} ${busy}
}

printf '%-22s %8s %8s %14s %14s\n' "" "avg" "median" "avg (busy)" "median (busy)"

namespaces
ip link add "${tag}br" type bridge stp_state 0
ip link set "${tag}br" up
for n in a b; do
  ip link add "${tag}$n" type veth peer name "${tag}${n}x"
  ip link set "${tag}${n}x" master "${tag}br" up
  ip link set "${tag}$n" netns "$tag$n"
done
address "${tag}a" "${tag}b"
both "Linux bridge (us)"
teardown

namespaces
start_tapswitch "$bin" "$tmp/switch.log" "${tag}pa" "${tag}pb" --ctl "$tmp/ctl.sock" \
  --eal "--no-huge --no-pci --no-shconf -m 256 --lcores=0@(0),1@(1)"
ip link set "${tag}pa" netns "${tag}a"
ip link set "${tag}pb" netns "${tag}b"
address "${tag}pa" "${tag}pb"
sleep 3  # past the switch's first seconds
both "tapswitch (us)"
