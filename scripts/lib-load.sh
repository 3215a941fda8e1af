#!/usr/bin/env bash
# Shared by overload.sh and soak.sh (after lib-server.sh): drive the running server with wrk and check the answers.
repo="${repo:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
load_lua="$repo/scripts/reliability-load.lua"
load_files=("$repo/docs/examples/astronaut.jpg" "$repo/docs/examples/camera.png")

# run_wrk URL CONCURRENCY SECONDS OUT.json [DELAY_MS]: closed loop (each connection sends its next request when its
# answer arrives, after DELAY_MS); writes the CHECK line's JSON to OUT.json and echoes it.
run_wrk() {
  local url="$1" conc="$2" secs="$3" json="$4" delay="${5:-0}" threads=1
  [ "$conc" -ge 4 ] && threads=2
  local out
  out=$(DELAY_MS="$delay" wrk -t "$threads" -c "$conc" -d "${secs}s" --timeout 30s -s "$load_lua" "$url" -- image "${load_files[@]}" 2>&1) || true
  local line
  line=$(grep '^CHECK ' <<<"$out" | sed 's/^CHECK //')
  [ -n "$line" ] || { echo "wrk gave no result: $out" >&2; return 5; }
  printf '%s\n' "$line" >"$json"
  printf '%s\n' "$line"
}

# measure_saturation URL OUTDIR SECONDS "1 2 4 8 16 32": throughput at each concurrency; the saturation concurrency
# is the smallest whose req/s is within 5% of the best. Prints "CONCURRENCY RPS P50_MS".
measure_saturation() {
  local url="$1" dir="$2" secs="$3" levels="$4" best=0 c
  mkdir -p "$dir"
  run_wrk "$url" 2 3 "$dir/warmup.json" >/dev/null   # JIT and pools warm
  for c in $levels; do
    run_wrk "$url" "$c" "$secs" "$dir/c$c.json" >/dev/null
    echo "  concurrency $c: $(jq -r '"\(.rps) req/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms"' "$dir/c$c.json")" >&2
  done
  best=$(for c in $levels; do jq '.rps' "$dir/c$c.json"; done | sort -g | tail -1)
  for c in $levels; do
    if jq -e --argjson best "$best" '.rps >= 0.95 * $best' "$dir/c$c.json" >/dev/null; then
      echo "$c $(jq '.rps' "$dir/c$c.json") $(jq '.p50_ms' "$dir/c$c.json")"
      return 0
    fi
  done
}

# sample_rss PID FILE: appends "seconds rss_mb hwm_mb" every 0.5 s while PID lives (run in the background)
sample_rss() {
  local pid="$1" file="$2" t0
  t0=$(date +%s.%N)
  while kill -0 "$pid" 2>/dev/null; do
    read -r r h < <(rss_mb "$pid")
    echo "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN{printf "%.1f", a-b}') $r $h" >>"$file"
    sleep 0.5
  done
}
