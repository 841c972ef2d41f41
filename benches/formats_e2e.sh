#!/usr/bin/env bash
# End to end, per format: the simulator's every-type stream through the real
# daemon into a file sink, one run per format, side by side. Prints wall time,
# CPU (user + system, from bash's `time`), events per CPU-second and bytes per
# event; the ratio to native is the figure to watch.
#
#   bash benches/formats_e2e.sh            # ENTRIES=500000 FORMATS="native ecs ocsf" ROUNDS=1
#
# BINARY=path runs that build instead of building this tree; BASELINE=path
# runs another build (say, main's) right after each format, so a before and
# after share one run of a shared machine ("base" lines, ratios to this
# build's native).
#
# Before each run a scratch file larger than any output is written and
# removed (WARM=0 skips it), so that every run finds the same recycled pages.
#
# ROUNDS=n runs every format n times and ends with the median of each; with
# a BASELINE the order of the two builds alternates from round to round, so
# neither always goes first (the first run after a smaller file gets fewer
# recycled page-cache pages, see below).
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
# OUT_DIR=dir writes the output (and the warm-up file) there instead, say a
# tmpfs such as /dev/shm: page cache only, no file system block allocation and
# no writeback competing with the writer, whose cost on a virtual disk is the
# machine's rather than the daemon's.
out="${OUT_DIR:-$work}"
if [ -n "${OUT_DIR:-}" ]; then out="$(mktemp -d -p "$OUT_DIR")"; fi
trap 'rm -rf "$work" "$out"' EXIT
echo "formats e2e: simulator ($entries entries, all eleven types, sessions and signals on) -> file sink"
rounds="${ROUNDS:-1}"
results="$work/results"
: > "$results"
for round in $(seq 1 "$rounds"); do
 [ "$rounds" -gt 1 ] && echo "round $round"
 for run in $formats; do
  builds="this ${baseline:+base}"
  if [ -n "$baseline" ] && [ $((round % 2)) -eq 0 ]; then builds="base this"; fi
  for build in $builds; do
  format="$run"
  if [ "$build" = base ]; then exe="$baseline"; label="base-$format"; else exe="$binary"; label="$format"; fi
  rm -rf "$work/data" "$out/events.ndjson"
  if [ "${WARM:-1}" = 1 ]; then
    # Recycled page-cache pages for every run alike (see above): a file at
    # least as large as any output, written and removed just before.
    dd if=/dev/zero of="$out/warm" bs=1M count=$((entries * 4 / 1000)) status=none
    rm -f "$out/warm"
  fi
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
path = "$out/events.ndjson"
format = "$format"
TOML
  TIMEFORMAT='%R %U %S'
  times="$( { time "$exe" run -c "$work/auditfwd.toml" --exit-when-caught-up >/dev/null 2>"$work/log"; } 2>&1 )"
  read -r wall user sys <<<"$times"
  events="$(wc -l < "$out/events.ndjson")"
  bytes="$(wc -c < "$out/events.ndjson")"
  awk -v f="$label" -v w="$wall" -v u="$user" -v s="$sys" -v e="$events" -v b="$bytes" \
    'BEGIN { printf "%-11s wall %6.1f s  cpu %6.1f s (user %5.1f, sys %5.1f)  %8d events  %8d events/cpu-s  %8d events/user-s  %5d bytes/event\n", f, w, u + s, u, s, e, e / (u + s), e / u, b / e }'
  echo "$label $format $build $(awk -v e="$events" -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f %.0f", e / (u + s), e / u }')" >> "$results"
  done
 done
done
# The median of each label's rates, and its ratio to the same build's native
# median (events per CPU-second; per user-second beside it).
echo "median of $rounds round(s): events per CPU-second (per user-second), ratio to the same build's native"
awk '
  { label[$1] = 1; build[$1] = $3; format[$1] = $2; n[$1]++; cpu[$1, n[$1]] = $4; usr[$1, n[$1]] = $5 }
  function median(kind, l,    count, i, j, v, t) {
    count = n[l]
    for (i = 1; i <= count; i++) v[i] = (kind == "cpu" ? cpu[l, i] : usr[l, i])
    for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
  }
  END {
    for (l in label) { mc[l] = median("cpu", l); mu[l] = median("usr", l) }
    for (l in label) {
      native = (build[l] == "base" ? "base-native" : "native")
      if (native in mc) printf "%-11s %8d events/cpu-s %.2f x native   %8d events/user-s %.2f x native\n", l, mc[l], mc[l] / mc[native], mu[l], mu[l] / mu[native]
      else printf "%-11s %8d events/cpu-s   %8d events/user-s\n", l, mc[l], mu[l]
    }
  }' "$results" | sort
