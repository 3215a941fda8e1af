#!/usr/bin/env bash
# Soak: builds Release, starts the API on a loopback port with the embedded model (CPU), measures the saturation
# (as overload.sh; or takes --saturation C --saturation-rps R), then holds LOAD% of the saturated throughput for
# WARMUP + DURATION seconds: SATURATION connections, each pausing between its requests so that the rate is about
# LOAD% of the saturated req/s (wrk's delay()). The server's RSS is sampled every 0.5 s; the RSS after the warm-up is
# compared with the RSS at the end. Every answer is checked as in overload.sh.
#
#   scripts/soak.sh [--duration 600] [--warmup 60] [--load 80] [--max-growth 10] [--saturation C --saturation-rps R]
#                   [--levels "1 2 4 8 16 32"] [--level-seconds 10] [--port 8099] [--out DIR] [-- --Setting=value ...]
#
# Exit code 0 when RSS at the end is within --max-growth % of the RSS after the warm-up, no 5xx, every 200 correct,
# and the server alive. Writes DIR/soak.json, DIR/soak.md, DIR/rss.txt (seconds, RSS MB, VmHWM MB), DIR/server.log.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=lib-server.sh
source "$repo/scripts/lib-server.sh"
# shellcheck source=lib-load.sh
source "$repo/scripts/lib-load.sh"
duration=600 warmup=60 load=80 max_growth=10 saturation="" sat_rps="" levels="1 2 4 8 16 32" level_seconds=10 port=8099
out="$repo/artifacts/reliability/soak" server_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --load) load="$2"; shift 2 ;;
    --max-growth) max_growth="$2"; shift 2 ;;
    --saturation) saturation="$2"; shift 2 ;;
    --saturation-rps) sat_rps="$2"; shift 2 ;;
    --levels) levels="$2"; shift 2 ;;
    --level-seconds) level_seconds="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --) shift; server_args=("$@"); break ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 3; }
command -v jq >/dev/null || { echo "jq not found: apt-get install -y jq" >&2; exit 3; }
mkdir -p "$out"; rm -f "$out"/*.json "$out"/rss.txt "$out"/evaluations-*.db*
url="http://127.0.0.1:$port/v1/models/selfie/segment"

echo "building (Release)…" >&2
build_api
trap stop_server EXIT
start_server "$port" "$out/server.log" --RateLimiting:Enabled=false "${server_args[@]}"
pid=$server_pid

if [ -z "$saturation" ] || [ -z "$sat_rps" ]; then
  echo "measuring the saturation concurrency (${level_seconds} s per level: $levels)…" >&2
  read -r saturation sat_rps _ < <(measure_saturation "$url" "$out/saturation" "$level_seconds" "$levels")
fi
# the latency of one request alone (concurrency 1)
if [ -s "$out/saturation/c1.json" ]; then base_p50=$(jq '.p50_ms' "$out/saturation/c1.json"); else base_p50=$(run_wrk "$url" 1 5 "$out/base.json" | jq '.p50_ms'); fi
# each of SATURATION connections sends one request every C / (LOAD% × R) seconds: its latency plus the pause (the
# latency of a request alone is used, so under load the rate comes out a little under the target: the report says what it was)
target_rps=$(awk -v r="$sat_rps" -v l="$load" 'BEGIN{printf "%.2f", r * l / 100}')
delay_ms=$(awk -v c="$saturation" -v t="$target_rps" -v p="$base_p50" 'BEGIN{d = 1000 * c / t - p; if (d < 0) d = 0; printf "%d", d}')
# one 10 s calibration at that pause: the latency it really had under this load sets the pause again
calibrated=$(run_wrk "$url" "$saturation" 10 "$out/calibration.json" "$delay_ms" | jq '.rps')
delay_ms=$(awk -v c="$saturation" -v t="$target_rps" -v a="$calibrated" -v d="$delay_ms" \
  'BEGIN{ l = 1000 * c / a - d; n = 1000 * c / t - l; if (n < 0) n = 0; printf "%d", n }')
echo "saturation concurrency $saturation at $sat_rps req/s; soak at ${load}% = $target_rps req/s (calibration gave $calibrated req/s): $saturation connections, ${delay_ms} ms pause, ${warmup} s warm-up + ${duration} s…" >&2

rm -f "$out/rss.txt"
sample_rss "$pid" "$out/rss.txt" & sampler=$!
run_wrk "$url" "$saturation" "$((warmup + duration))" "$out/soak-run.json" "$delay_ms" >/dev/null
alive=false
curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && alive=true
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
stop_server

# RSS after the warm-up: the first sample at or past WARMUP s; at the end: the last sample during the load
rss_warm=$(awk -v w="$warmup" '$1 >= w { print $2; exit }' "$out/rss.txt")
rss_end=$(awk -v e="$((warmup + duration))" '$1 <= e { r = $2 } END { print r }' "$out/rss.txt")
rss_max=$(awk 'BEGIN{m=0} { if ($2 > m) m = $2 } END{print m}' "$out/rss.txt")
growth=$(awk -v a="$rss_warm" -v b="$rss_end" 'BEGIN{printf "%.1f", 100 * (b - a) / a}')
jq -n --argjson sat "$saturation" --argjson satrps "$sat_rps" --argjson target "$target_rps" --argjson delay "$delay_ms" \
  --argjson load "$load" --argjson warmup "$warmup" --argjson duration "$duration" --argjson run "$(cat "$out/soak-run.json")" \
  --argjson warm "$rss_warm" --argjson last "$rss_end" --argjson max "$rss_max" --argjson growth "$growth" --argjson alive "$alive" \
  '{saturation:{concurrency:$sat, rps:$satrps}, load_percent:$load, target_rps:$target, delay_ms:$delay, warmup_s:$warmup, duration_s:$duration,
    run:$run, rss_after_warmup_mb:$warm, rss_end_mb:$last, rss_max_mb:$max, growth_percent:$growth, alive_after:$alive}' >"$out/soak.json"

fail=()
[ "$alive" = true ] || fail+=("the server was not ready afterwards")
awk -v g="$growth" -v m="$max_growth" 'BEGIN{exit !(g <= m)}' || fail+=("RSS grew ${growth}% (more than ${max_growth}%)")
bad=$(jq '[.counts | to_entries[] | select(.key | test("^status_5")) | .value] | add // 0' "$out/soak-run.json")
[ "$bad" -eq 0 ] || fail+=("$bad responses 5xx")
b200=$(jq '.counts.bad_200 // 0' "$out/soak-run.json"); [ "$b200" -eq 0 ] || fail+=("$b200 responses 200 that were not a segmentation")
{
  echo "# Soak: $([ ${#fail[@]} -eq 0 ] && echo PASS || echo FAIL)"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$repo" rev-parse --short HEAD), $(nproc) cores. Saturation: $saturation connections, $sat_rps req/s; load ${load}% = $target_rps req/s targeted ($saturation connections, ${delay_ms} ms pause)."
  echo
  jq -r '"Achieved \(.rps) req/s over \(.duration_s) s (\(.requests) requests; p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, max \(.max_ms) ms); statuses \(.counts | to_entries | map("\(.key)=\(.value)") | join(", ")); socket errors \(.socket_errors | "c\(.connect) r\(.read) w\(.write) t\(.timeout)")."' "$out/soak-run.json"
  echo
  echo "RSS after the ${warmup} s warm-up: $rss_warm MB; at the end ($((warmup + duration)) s): $rss_end MB; growth ${growth}% (limit ${max_growth}%); highest $rss_max MB."
  for f in "${fail[@]}"; do echo "- FAILED: $f"; done
} >"$out/soak.md"
cat "$out/soak.md"
[ ${#fail[@]} -eq 0 ]
