# shellcheck shell=bash
# Sourced by the benchmark scripts that run tapswitch between two namespaces.

# start_tapswitch BIN LOG IFACE_A IFACE_B [ARGS...]: starts BIN in the background with raw-fd
# taps IFACE_A and IFACE_B (it creates them) and ARGS, its output to LOG, and sets $sw to its
# pid once both taps exist; prints LOG and exits 1 if they do not appear within 5 s.
start_tapswitch() {
  local bin=$1 log=$2 ia=$3 ib=$4
  shift 4
  "$bin" --port "tap:$ia" --port "tap:$ib" "$@" >"$log" 2>&1 &
  # shellcheck disable=SC2034  # (read by the sourcing script)
  sw=$!
  for _ in $(seq 50); do ip link show "$ib" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$0: $bin did not make its taps; its log:" >&2
  cat "$log" >&2
  exit 1
}
