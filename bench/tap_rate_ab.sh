#!/bin/bash
# 60-byte frame rate through two tapswitch binaries, alternating, on this machine.
#
#   bench/tap_rate_ab.sh BIN_A BIN_B [ROUNDS] [-- TAPSWITCH_ARGS...]   (as root; ROUNDS default 3)
#
# For an A/B of one change: build it into a second build directory (or copy the binary aside
# before the change) and give both. Per round and binary: two namespaces joined by the binary
# with two raw-fd taps, its worker pinned to CPU 1 (--lcores 1), trafgen sending 60-byte UDP
# frames from CPU 0 for 3 s after a 1 s warm-up; the rate is the receiving tap's rx_packets.
# Prints every round and the medians. Not a pass/fail test; compare within one run only.
# RPS_B=MASK sets the receiving tap's rps_cpus to MASK in B's rounds (RPS_B=1 BIN BIN: the same
# binary with and without RPS to CPU 0).
set -euo pipefail
# shellcheck source=bench/taps.sh
. "$(dirname "$0")/taps.sh"

[ $# -ge 2 ] || { echo "usage: $0 BIN_A BIN_B [ROUNDS] [-- TAPSWITCH_ARGS...]" >&2; exit 2; }
a=$1 b=$2
shift 2
rounds=3
if [ $# -gt 0 ] && [ "$1" != -- ]; then rounds=$1; shift; fi
[ $# -gt 0 ] && [ "$1" = -- ] && shift
tag="tab$$"
tmp=$(mktemp -d /tmp/tap_rate_ab.XXXXXX)
sw=""
tg=""

teardown() {
  [ -n "$tg" ] && { wait "$tg" 2>/dev/null || true; }
  [ -n "$sw" ] && kill "$sw" 2>/dev/null && { wait "$sw" 2>/dev/null || true; }
  tg="" sw=""
  ip netns del "${tag}a" 2>/dev/null || true
  ip netns del "${tag}b" 2>/dev/null || true
}
trap 'teardown; rm -rf "$tmp"' EXIT

# rate BIN RPS_MASK: prints kpps of 60 B frames through BIN (RPS_MASK empty: no RPS)
rate() {
  local bin=$1 rps=$2 na="${tag}a" nb="${tag}b" ia="${tag}pa" ib="${tag}pb"
  shift 2
  ip netns add "$na"; ip netns add "$nb"
  for n in "$na" "$nb"; do ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
  start_tapswitch "$bin" "$tmp/switch.log" "$ia" "$ib" --lcores 1 --ctl "$tmp/ctl.sock" "$@"
  ip link set "$ia" netns "$na"; ip link set "$ib" netns "$nb"
  ip -n "$na" addr add 10.79.0.1/24 dev "$ia"; ip -n "$na" link set "$ia" up
  ip -n "$nb" addr add 10.79.0.2/24 dev "$ib"; ip -n "$nb" link set "$ib" up
  [ -n "$rps" ] && ip netns exec "$nb" sh -c "echo $rps > /sys/class/net/$ib/queues/rx-0/rps_cpus"
  ip netns exec "$na" ping -c 2 -i 0.05 10.79.0.2 >/dev/null
  local mb
  mb=$(ip -n "$nb" -br link show "$ib" | awk '{print $3}')
  echo "{ eth(da=$mb, type=0x0800), ipv4(sa=10.79.0.1, da=10.79.0.99, ttl=64), udp(sp=9, dp=9), fill(0x41, 18) }" >"$tmp/tg.conf"
  # (timeout ends trafgen, and its sending child, after the window; SIGINT is how it stops)
  ip netns exec "$na" timeout -s INT -k 1 5 taskset -c 0 trafgen --dev "$ia" --conf "$tmp/tg.conf" --cpus 1 \
    --no-sock-mem -q >/dev/null 2>&1 &
  tg=$!
  sleep 1
  local c0 c1
  c0=$(ip netns exec "$nb" cat "/sys/class/net/$ib/statistics/rx_packets")
  sleep 3
  c1=$(ip netns exec "$nb" cat "/sys/class/net/$ib/statistics/rx_packets")
  teardown
  echo $(( (c1 - c0) / 3000 ))
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

: >"$tmp/a"; : >"$tmp/b"
for r in $(seq "$rounds"); do
  # Alternate which binary goes first, so a drift of the machine hits both alike.
  if [ $((r % 2)) = 1 ]; then order="a b"; else order="b a"; fi
  for which in $order; do
    bin=$a rps=""
    [ "$which" = b ] && bin=$b rps=${RPS_B:-}
    k=$(rate "$bin" "$rps" "$@")
    echo "$k" >>"$tmp/$which"
    echo "round $r $which: $k kpps"
  done
done
echo "median A ($a): $(median <"$tmp/a") kpps"
echo "median B ($b): $(median <"$tmp/b") kpps"
