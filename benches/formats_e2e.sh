#!/usr/bin/env bash
# End to end, per format: the simulator's every-type stream through the real
# daemon into a file sink, one run per format, side by side. Prints wall time,
# CPU (user + system, from bash's `time`), events per CPU-second and bytes per
# event; the ratio to native is the figure to watch.
#
#   bash benches/formats_e2e.sh            # ENTRIES=500000 FORMATS="native ecs ocsf"
#
# BINARY=path runs that build instead of building this tree; BASELINE=path
# runs another build (say, main's) right after each format, so a before and
# after share one run of a shared machine ("base" lines, ratios to this
# build's native).
#
# CPU is split into user and system time: the file is new on every run, so
# the kernel allocates a page-cache page for every 4 KiB written, and on some
# virtual machines that costs more than the encoding (here dd wrote a new
# file at 0.54 GB/s, an existing one at 11.7 GB/s). A format that writes more
# bytes pays that per byte, whatever its encoder does.
set -euo pipefail
cd "$(dirname "$0")/.."
entries="${ENTRIES:-500000}"
formats="${FORMATS:-native ecs ocsf}"
if [ -z "${BINARY:-}" ]; then
  cargo build --release --quiet
fi
binary="${BINARY:-${CARGO_TARGET_DIR:-$PWD/target}/release/auditfwd}"
baseline="${BASELINE:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "formats e2e: simulator ($entries entries, all eleven types, sessions and signals on) -> file sink"
native_rate=""
base_native_rate=""
for run in $formats; do
 for build in this ${baseline:+base}; do
  format="$run"
  if [ "$build" = base ]; then exe="$baseline"; label="base-$format"; else exe="$binary"; label="$format"; fi
  rm -rf "$work/data" "$work/events.ndjson"
  cat > "$work/auditfwd.toml" <<TOML
[source]
batch_rows = 1000
audit_types = ["JS", "PW", "CP", "AF", "SV", "PS", "GR", "CA", "OW", "AD", "PA"]
[source.simulator]
total_events = $entries
events_per_second = 0
[filter]
entry_types = []
exclude_users = []
[state]
dir = "$work/data"
[log]
level = "warn"
[[sinks]]
type = "file"
path = "$work/events.ndjson"
format = "$format"
TOML
  TIMEFORMAT='%R %U %S'
  times="$( { time "$exe" run -c "$work/auditfwd.toml" --exit-when-caught-up >/dev/null 2>"$work/log"; } 2>&1 )"
  read -r wall user sys <<<"$times"
  events="$(wc -l < "$work/events.ndjson")"
  bytes="$(wc -c < "$work/events.ndjson")"
  rate="$(awk -v e="$events" -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", e / (u + s) }')"
  if [ "$build" = base ]; then
    [ -n "$base_native_rate" ] || base_native_rate="$rate"
    reference="$base_native_rate"
  else
    [ -n "$native_rate" ] || native_rate="$rate"
    reference="$native_rate"
  fi
  awk -v f="$label" -v w="$wall" -v u="$user" -v s="$sys" -v e="$events" -v b="$bytes" -v r="$rate" -v n="$reference" \
    'BEGIN { printf "%-11s wall %6.1f s  cpu %6.1f s (user %5.1f, sys %5.1f)  %8d events  %8d events/cpu-s  %5d bytes/event  %.2f x native\n", f, w, u + s, u, s, e, r, b / e, r / n }'
 done
done
