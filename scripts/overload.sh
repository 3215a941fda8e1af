#!/usr/bin/env bash
# Overload: builds Release, starts the API on a loopback port with the embedded model (CPU), measures the saturation
# concurrency (wrk, closed loop: the smallest concurrency within 5% of the best req/s), then drives it at FACTOR× that
# concurrency for DURATION seconds and at a spike of SPIKE connections for SPIKE_DURATION seconds. Every answer is
# checked (scripts/reliability-load.lua): a 200 must be a segmentation JSON with a class map, a 429 must carry
# Retry-After; 5xx, socket errors and the server's peak RSS are recorded. The per-caller rate limit is off (wrk is
# one address): what is measured is the service's own admission (queue-full / overloaded).
#
#   scripts/overload.sh [--duration 300] [--factor 4] [--spike 400] [--spike-duration 30] [--saturation C]
#                       [--levels "1 2 4 8 16 32"] [--level-seconds 10] [--port 8098] [--out DIR] [-- --Setting=value ...]
#
# Exit code 0 when: the server is alive afterwards, no 5xx, every 200 is a correct segmentation, every 429 has
# Retry-After. Writes DIR/overload.json, DIR/overload.md, DIR/rss.txt, DIR/server.log.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=lib-server.sh
source "$repo/scripts/lib-server.sh"
# shellcheck source=lib-load.sh
source "$repo/scripts/lib-load.sh"
duration=300 factor=4 spike=400 spike_duration=30 saturation="" levels="1 2 4 8 16 32" level_seconds=10 port=8098
out="$repo/artifacts/reliability/overload" server_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --factor) factor="$2"; shift 2 ;;
    --spike) spike="$2"; shift 2 ;;
    --spike-duration) spike_duration="$2"; shift 2 ;;
    --saturation) saturation="$2"; shift 2 ;;
    --levels) levels="$2"; shift 2 ;;
    --level-seconds) level_seconds="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --) shift; server_args=("$@"); break ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 3; }
command -v jq >/dev/null || { echo "jq not found: apt-get install -y jq" >&2; exit 3; }
ulimit -n 65536 2>/dev/null || true
mkdir -p "$out"; rm -f "$out"/*.json "$out"/rss.txt "$out"/evaluations-*.db*
url="http://127.0.0.1:$port/v1/models/selfie/segment"

echo "building (Release)…" >&2
build_api
trap stop_server EXIT
start_server "$port" "$out/server.log" --RateLimiting:Enabled=false "${server_args[@]}"
pid=$server_pid
sample_rss "$pid" "$out/rss.txt" & sampler=$!

if [ -z "$saturation" ]; then
  echo "measuring the saturation concurrency (${level_seconds} s per level: $levels)…" >&2
  read -r saturation sat_rps sat_p50 < <(measure_saturation "$url" "$out/saturation" "$level_seconds" "$levels")
else
  sat_rps=null sat_p50=null
fi
overload_c=$((saturation * factor))
echo "saturation concurrency $saturation ($sat_rps req/s); overload at $overload_c connections for ${duration} s…" >&2
run_wrk "$url" "$overload_c" "$duration" "$out/overload-run.json" >/dev/null
read -r _ hwm_overload < <(rss_mb "$pid")
echo "spike: $spike connections for ${spike_duration} s…" >&2
run_wrk "$url" "$spike" "$spike_duration" "$out/spike-run.json" >/dev/null
sleep 1
alive=false
curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && alive=true
after=$(curl -s -o /dev/null -w '%{http_code}' -F image=@"$repo/docs/examples/astronaut.jpg" "$url" || true)
read -r rss_end hwm_end < <(rss_mb "$pid")
peak_sampled=$(awk 'BEGIN{m=0} { if ($2 > m) m = $2 } END{print m}' "$out/rss.txt")
kill "$sampler" 2>/dev/null || true
stop_server

jq -n --argjson sat "$saturation" --argjson satrps "$sat_rps" --argjson satp50 "$sat_p50" --argjson factor "$factor" \
  --argjson overload "$(cat "$out/overload-run.json")" --argjson spikerun "$(cat "$out/spike-run.json")" \
  --argjson conc "$overload_c" --argjson spike "$spike" --argjson duration "$duration" --argjson spikedur "$spike_duration" \
  --argjson alive "$alive" --arg after "$after" --argjson hwm "$hwm_end" --argjson hwmov "$hwm_overload" --argjson peak "$peak_sampled" --argjson rssend "$rss_end" \
  '{saturation:{concurrency:$sat, rps:$satrps, p50_ms:$satp50}, factor:$factor,
    overload:($overload + {connections:$conc, seconds:$duration}), spike:($spikerun + {connections:$spike, seconds:$spikedur}),
    alive_after:$alive, segment_after:$after, peak_rss_mb:([$hwm, $peak] | max), vmhwm_after_overload_mb:$hwmov, rss_end_mb:$rssend}' >"$out/overload.json"

fail=()
[ "$alive" = true ] && [ "$after" = 200 ] || fail+=("the server was not ready / did not segment afterwards")
for phase in overload spike; do
  j="$out/$phase-run.json"
  bad=$(jq '[.counts | to_entries[] | select(.key | test("^status_5")) | .value] | add // 0' "$j")
  [ "$bad" -eq 0 ] || fail+=("$phase: $bad responses 5xx")
  b200=$(jq '.counts.bad_200 // 0' "$j"); [ "$b200" -eq 0 ] || fail+=("$phase: $b200 responses 200 that were not a segmentation")
  nora=$(jq '.counts["429_without_retry_after"] // 0' "$j"); [ "$nora" -eq 0 ] || fail+=("$phase: $nora responses 429 without Retry-After")
done
{
  echo "# Overload: $([ ${#fail[@]} -eq 0 ] && echo PASS || echo FAIL)"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$repo" rev-parse --short HEAD), $(nproc) cores. Saturation concurrency $saturation ($sat_rps req/s, p50 $sat_p50 ms)."
  echo
  echo "| phase | connections | seconds | requests | req/s | p50 ms | p99 ms | max ms | 200 correct | 200 wrong | 429 (with Retry-After) | 429 without | 5xx | other statuses | socket errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for phase in overload spike; do
    jq -r --arg phase "$phase" '"| \($phase) | \(.connections) | \(.seconds) | \(.requests) | \(.rps) | \(.p50_ms) | \(.p99_ms) | \(.max_ms) | \(.counts.ok // 0) | \(.counts.bad_200 // 0) | \(.counts["429_retry_after"] // 0) | \(.counts["429_without_retry_after"] // 0) | \([.counts | to_entries[] | select(.key | test("^status_5")) | .value] | add // 0) | \([.counts | to_entries[] | select(.key | test("^status_[^25]|^status_4")) | select(.key != "status_429") | "\(.key | ltrimstr("status_"))×\(.value)"] | join(", ")) | \(.socket_errors | "c\(.connect) r\(.read) w\(.write) t\(.timeout)") |"' \
      <(jq --arg phase "$phase" '.[$phase]' "$out/overload.json")
  done
  echo
  echo "Peak server RSS $(jq .peak_rss_mb "$out/overload.json") MB (VmHWM after the ${factor}× phase $hwm_overload MB); at the end $rss_end MB. Alive and segmenting afterwards: $alive / HTTP $after."
  for f in "${fail[@]}"; do echo "- FAILED: $f"; done
} >"$out/overload.md"
cat "$out/overload.md"
[ ${#fail[@]} -eq 0 ]
