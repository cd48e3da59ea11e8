#!/bin/bash
# Raw-fd tap I/O of tapswitch against the Linux bridge, in one run on this machine.
#
#   bench/tap_io_perf.sh [BUILD_DIR] [RUNS]          (as root; BUILD_DIR defaults to build)
#
# Two namespaces joined by each system under test:
#   bridge           Linux bridge + veth pairs
#   uring / syscall  tapswitch, two raw-fd taps (offload=on), --tap-io uring or syscall
#   uring-nooff      tapswitch, io_uring, offload=off on both taps
# tapswitch's one worker is pinned to CPU 1 (--lcores 1); trafgen runs on CPU 0. Per system,
# RUNS times (default 3), and the median is printed:
#   TCP    one iperf3 stream for 5 s, Gbit/s at the receiver
#   60B    trafgen sending 60-byte UDP frames from CPU 0 for 5 s, kpps counted as rx_packets of
#          the receiving interface
#   ping   average RTT of 20 pings, microseconds
# The machine is shared and noisy: compare systems within one run only. Nothing here is a
# pass/fail test.
set -euo pipefail

build=${1:-build}
runs=${2:-3}
tapswitch="$build/apps/tapswitch"
ctlbin="$build/apps/tapswitchctl"
tag="tvp$$"
round=0  # each setup gets names of its own: deleting a namespace frees its interfaces later
id=""
na=""
nb=""
tmp=$(mktemp -d /tmp/tap_io_perf.XXXXXX)
sw_pid=""

for tool in iperf3 trafgen ping; do
  command -v "$tool" >/dev/null || { echo "tap_io_perf: $tool is missing" >&2; exit 2; }
done
[ -x "$tapswitch" ] || { echo "tap_io_perf: no $tapswitch (build first)" >&2; exit 2; }

new_names() {
  round=$((round + 1))
  id="${tag}r$round"
  na="${id}a"
  nb="${id}b"
}

teardown() {
  if [ -n "$sw_pid" ]; then
    kill "$sw_pid" 2>/dev/null || true
    wait "$sw_pid" 2>/dev/null || true
    sw_pid=""
  fi
  [ -n "$id" ] || return 0
  ip netns del "$na" 2>/dev/null || true
  ip netns del "$nb" 2>/dev/null || true
  ip link del "${id}br" 2>/dev/null || true
}
trap 'teardown; rm -rf "$tmp"' EXIT

# Interfaces ${id}0 (10.78.0.1) in $na and ${id}1 (10.78.0.2) in $nb.
address() {
  ip netns add "$na"
  ip netns add "$nb"
  ip link set "${id}0" netns "$na"
  ip link set "${id}1" netns "$nb"
  ip -n "$na" addr add 10.78.0.1/24 dev "${id}0"
  ip -n "$nb" addr add 10.78.0.2/24 dev "${id}1"
  for n in "$na" "$nb"; do ip -n "$n" link set lo up; done
  ip -n "$na" link set "${id}0" up
  ip -n "$nb" link set "${id}1" up
}

setup_bridge() {
  new_names
  ip link add "${id}br" type bridge
  ip link set "${id}br" up
  for i in 0 1; do
    ip link add "${id}$i" type veth peer name "${id}p$i"
    ip link set "${id}p$i" master "${id}br" up
  done
  address
}

setup_tapswitch() {  # io offload
  new_names
  "$tapswitch" --ctl "$tmp/ctl" --lcores 1 --tap-io "$1" \
    --port "tap:${id}0,offload=$2" --port "tap:${id}1,offload=$2" >"$tmp/log" 2>&1 &
  sw_pid=$!
  for _ in $(seq 100); do
    "$ctlbin" --ctl "$tmp/ctl" show ports >/dev/null 2>&1 && break
    kill -0 "$sw_pid" 2>/dev/null || { cat "$tmp/log"; exit 1; }
    sleep 0.1
  done
  address
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

tcp_gbps() {
  ip netns exec "$nb" iperf3 -s -1 -D -p 5299 >/dev/null
  sleep 0.3
  ip netns exec "$na" iperf3 -c 10.78.0.2 -p 5299 -t 5 -J >"$tmp/iperf.json"
  python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$tmp/iperf.json"
}

frames_kpps() {
  local mac_a mac_b before after
  mac_a=$(ip netns exec "$na" cat "/sys/class/net/${id}0/address")
  mac_b=$(ip netns exec "$nb" cat "/sys/class/net/${id}1/address")
  cat >"$tmp/trafgen.cfg" <<EOF
{ $(echo "$mac_b" | sed 's/^/0x/; s/:/, 0x/g'), $(echo "$mac_a" | sed 's/^/0x/; s/:/, 0x/g'), 0x08, 0x00,
  0x45, 0x00, const16(46), const16(0), 0x40, 0x00, 64, 17, csumip(14, 33),
  10, 78, 0, 1, 10, 78, 0, 2, const16(9), const16(9), const16(26), const16(0), fill(0x41, 18) }
EOF
  ip netns exec "$na" taskset -c 0 timeout 7 trafgen --dev "${id}0" --conf "$tmp/trafgen.cfg" --cpus 1 -q \
    >/dev/null 2>&1 &
  local tg=$!
  sleep 1
  before=$(ip netns exec "$nb" cat "/sys/class/net/${id}1/statistics/rx_packets")
  sleep 5
  after=$(ip netns exec "$nb" cat "/sys/class/net/${id}1/statistics/rx_packets")
  wait "$tg" || true
  echo $(((after - before) / 5000))
}

ping_us() {
  ip netns exec "$na" ping -c 20 -i 0.05 -q 10.78.0.2 | awk -F/ '/^rtt/ {printf "%.0f\n", $5 * 1000}'
}

measure() {  # name setup...
  local name=$1
  shift
  local tcp=() fr=() rtt=()
  for r in $(seq "$runs"); do
    "$@"
    ip netns exec "$na" ping -c 2 -i 0.2 -q 10.78.0.2 >/dev/null || true  # learn both MACs
    tcp+=("$(tcp_gbps)")
    fr+=("$(frames_kpps)")
    rtt+=("$(ping_us)")
    teardown
  done
  printf '%-12s %8s %8s %8s    runs: TCP %s | 60B %s | ping %s\n' "$name" \
    "$(printf '%s\n' "${tcp[@]}" | median)" "$(printf '%s\n' "${fr[@]}" | median)" \
    "$(printf '%s\n' "${rtt[@]}" | median)" "${tcp[*]}" "${fr[*]}" "${rtt[*]}"
}

echo "tap_io_perf: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), medians of $runs"
printf '%-12s %8s %8s %8s\n' system "TCP Gb/s" "60B kpps" "ping us"
measure bridge setup_bridge
measure uring setup_tapswitch uring on
measure syscall setup_tapswitch syscall on
measure uring-nooff setup_tapswitch uring off
