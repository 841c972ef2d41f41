#!/usr/bin/env bash
# End to end, per format: the simulator's every-type stream through the real
# daemon into a file sink, one run per format, side by side. Prints wall time,
# CPU (user + system, from bash's `time`), events per CPU-second and bytes per
# event; the ratio to native is the figure to watch.
#
#   bash benches/formats_e2e.sh            # ENTRIES=500000 FORMATS="native ecs ocsf"
set -euo pipefail
cd "$(dirname "$0")/.."
entries="${ENTRIES:-500000}"
formats="${FORMATS:-native ecs ocsf}"
cargo build --release --quiet
binary="${CARGO_TARGET_DIR:-$PWD/target}/release/auditfwd"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "formats e2e: simulator ($entries entries, all eleven types, sessions and signals on) -> file sink"
native_rate=""
for format in $formats; do
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
  times="$( { time "$binary" run -c "$work/auditfwd.toml" --exit-when-caught-up >/dev/null 2>"$work/log"; } 2>&1 )"
  read -r wall user sys <<<"$times"
  events="$(wc -l < "$work/events.ndjson")"
  bytes="$(wc -c < "$work/events.ndjson")"
  rate="$(awk -v e="$events" -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", e / (u + s) }')"
  [ -n "$native_rate" ] || native_rate="$rate"
  awk -v f="$format" -v w="$wall" -v u="$user" -v s="$sys" -v e="$events" -v b="$bytes" -v r="$rate" -v n="$native_rate" \
    'BEGIN { printf "%-6s wall %6.1f s  cpu %6.1f s  %8d events  %8d events/cpu-s  %5d bytes/event  %.2f x native\n", f, w, u + s, e, r, b / e, r / n }'
done
