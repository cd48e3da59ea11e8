#!/bin/bash
# Whether a net_tap port should use DPDK's own tx offloads (its TSO and checksums), or have
# tapswitch segment and complete checksums (librte_gso, DPDK's checksum helpers) before it.
#
#   bench/net_tap_offload.sh [BUILD_DIR] [RUNS]          (as root; BUILD_DIR defaults to build)
#
# Namespace a sits behind a raw-fd tap with offloads (its TCP arrives as 64 KB GSO frames with
# partial checksums), namespace b behind a net_tap port. One iperf3 stream a -> b for 5 s, RUNS
# times (default 3), per setting of the net_tap port:
#   offload=off  (the default) tapswitch segments and completes checksums
#   offload=on   net_tap is handed the GSO frames and partial checksums
#   on, mtu1400  the same with a's MTU at 1400 (segments well under net_tap's MTU check)
# Prints each run's Gbit/s at the receiver, the median, and the net_tap port's drops. The
# worker is pinned to CPU 1, iperf3 to CPU 0. Not a pass/fail test.
set -euo pipefail

build=${1:-build}
runs=${2:-3}
tapswitch="$build/apps/tapswitch"
ctlbin="$build/apps/tapswitchctl"
tag="tno$$"
round=0
id=""
sw_pid=""
tmp=$(mktemp -d /tmp/net_tap_offload.XXXXXX)

command -v iperf3 >/dev/null || { echo "net_tap_offload: iperf3 is missing" >&2; exit 2; }
[ -x "$tapswitch" ] || { echo "net_tap_offload: no $tapswitch (build first)" >&2; exit 2; }

teardown() {
  if [ -n "$sw_pid" ]; then
    kill "$sw_pid" 2>/dev/null || true
    wait "$sw_pid" 2>/dev/null || true
    sw_pid=""
  fi
  [ -n "$id" ] || return 0
  ip netns del "${id}a" 2>/dev/null || true
  ip netns del "${id}b" 2>/dev/null || true
}
trap 'teardown; rm -rf "$tmp"' EXIT

# setup OFFLOAD MTU_OF_A
setup() {
  round=$((round + 1))
  id="${tag}r$round"
  ip netns add "${id}a"
  ip netns add "${id}b"
  "$tapswitch" --lcores 1 --ctl "$tmp/ctl.sock" --port "tap:${id}a" \
    --port "dpdk:net_tap0,iface=${id}b,offload=$1" >"$tmp/log" 2>&1 &
  sw_pid=$!
  for _ in $(seq 100); do
    ip link show "${id}a" >/dev/null 2>&1 && ip link show "${id}b" >/dev/null 2>&1 && break
    sleep 0.1
  done
  sleep 0.3
  ip link set "${id}a" netns "${id}a"
  ip link set "${id}b" netns "${id}b"
  for s in a b; do
    ip netns exec "${id}$s" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip -n "${id}$s" link set lo up
  done
  ip -n "${id}a" addr add 10.77.9.1/24 dev "${id}a"
  ip -n "${id}a" link set "${id}a" mtu "$2" up
  ip -n "${id}b" addr add 10.77.9.2/24 dev "${id}b"
  ip -n "${id}b" link set "${id}b" up
  ip netns exec "${id}a" ping -c 3 -i 0.2 -W 2 -q 10.77.9.2 >/dev/null || { echo "no ping through the switch" >&2; exit 1; }
}

# measure LABEL OFFLOAD MTU_OF_A
measure() {
  setup "$2" "$3"
  local all=()
  for _ in $(seq "$runs"); do
    ip netns exec "${id}b" taskset -c 0 iperf3 -s -1 -D -B 10.77.9.2 >/dev/null 2>&1
    sleep 0.3
    local g
    g=$(ip netns exec "${id}a" taskset -c 0 timeout 20 iperf3 -c 10.77.9.2 -t 5 -J 2>/dev/null |
      python3 -c 'import json,sys; print("%.4g" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))' ||
      echo 0)
    all+=("$g")
  done
  local median drops
  median=$(printf '%s\n' "${all[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
  drops=$("$ctlbin" --ctl "$tmp/ctl.sock" -j show ports |
    python3 -c 'import json,sys; p=[x for x in json.load(sys.stdin) if x["kind"]=="dpdk"][0]; print(p["dropped"], {k: v for k, v in p["drops"].items() if v})')
  printf '%-14s TCP Gbit/s: %-24s median %-7s net_tap port dropped: %s\n' "$1" "${all[*]}" "$median" "$drops"
  teardown
}

echo "net_tap tx offloads, $(date -u +%FT%TZ), $runs runs of 5 s each"
measure "offload=off" off 1500
measure "offload=on" on 1500
measure "on, mtu1400" on 1400
