#!/usr/bin/env bash
# The cost of telemetry: the service with telemetry fully on (request, stage and batch spans recorded; metrics
# collected and /metrics scraped every second, as Prometheus would) against Telemetry:Enabled=false, in one run on one
# machine, the two variants alternating, RUNS times each; prints the medians and their ratios, with the server's own
# CPU time per request (less sensitive than throughput to other work on the machine). The per-caller rate limit is off
# (one load generator is one caller), and every run must answer 200 only: see the status lines.
#
#   bench/load/telemetry-cost.sh [-d SECONDS] [-c "4 16"] [-r RUNS] [--model selfie] [--out DIR]
#
# Needs: the .NET SDK, ../shared (photos and the load tool), wrk, jq, curl.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
load="$repo/../shared/tools/load/load.sh"
seconds=10
concurrencies="4 16"
runs=3
model=selfie
out="$repo/artifacts/bench/telemetry"
while [ $# -gt 0 ]; do
  case "$1" in
    -d) seconds="$2"; shift 2 ;;
    -c) concurrencies="$2"; shift 2 ;;
    -r) runs="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) sed -n '2,8p' "$0" >&2; exit 2 ;;
  esac
done
[ -r "$load" ] || { echo "the load tool $load is missing: ../shared must be beside the clone" >&2; exit 3; }
for tool in wrk jq curl; do command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 3; }; done

mkdir -p "$out"
rm -f "$out"/*.json
images="$out/images"
dotnet build "$repo/src/Api/SegServe.Api.csproj" -c Release --nologo -v quiet >/dev/null
dotnet build "$repo/bench/SegServe.Benchmarks/SegServe.Benchmarks.csproj" -c Release --nologo -v quiet >/dev/null
"$repo/bench/SegServe.Benchmarks/bin/Release/net10.0/SegServe.Benchmarks" make-images --out "$images" >/dev/null
api="$repo/src/Api/bin/Release/net10.0/SegServe.Api.dll"

url="http://127.0.0.1:8091"
server="" scraper=""
stop() {
  if [ -n "$scraper" ]; then kill "$scraper" 2>/dev/null || true; wait "$scraper" 2>/dev/null || true; scraper=""; fi
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi
}
trap stop EXIT

for run in $(seq 1 "$runs"); do
  # Alternating order (on first in odd runs, off first in even ones): a machine that warms up or cools down while
  # the script runs favours neither.
  order="on off"; [ $((run % 2)) -eq 0 ] && order="off on"
  for variant in $order; do
    enabled=true; [ "$variant" = off ] && enabled=false
    (cd "$repo/src/Api" && exec dotnet "$api" --urls "$url" --Inference:ModelsDirectory="$repo/models" \
        --Inference:ExecutionProvider=Cpu --Logging:LogLevel:Default=Warning --RateLimiting:Enabled=false \
        --Telemetry:Enabled="$enabled") \
        >"$out/server-$variant-$run.log" 2>&1 &
    server=$!
    for _ in $(seq 1 120); do curl -fs "$url/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
    curl -fs "$url/health/ready" >/dev/null || { echo "the server ($variant) did not become ready" >&2; exit 4; }
    if [ "$variant" = on ]; then
      (while true; do curl -fs "$url/metrics" >/dev/null || true; sleep 1; done) &
      scraper=$!
    fi
    for c in $concurrencies; do
      echo "== run $run, telemetry $variant, concurrency $c" >&2
      json="$out/$variant-c$c-r$run.json"
      bash "$load" "$url/v1/models/$model/segment" image "$images"/*.jpg -c "$c" -d 3 >/dev/null 2>&1
      # The server's own CPU time (/proc/PID/stat) around the measured part: CPU milliseconds per request.
      before=$(awk '{ print $14 + $15 }' "/proc/$server/stat")
      bash "$load" "$url/v1/models/$model/segment" image "$images"/*.jpg -c "$c" -d "$seconds" --json "$json" >&2
      after=$(awk '{ print $14 + $15 }' "/proc/$server/stat")
      jq --argjson ticks "$((after - before))" --argjson hz "$(getconf CLK_TCK)" \
         '. + {server_cpu_ms_per_request: ($ticks * 1000 / $hz / (.result.requests | if . == 0 then 1 else . end))}' "$json" >"$json.tmp"
      mv "$json.tmp" "$json"
    done
    stop
  done
done

{
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; model $model; ${seconds} s per point; medians of $runs runs."
  echo
  echo "| concurrency | req/s on | req/s off | on/off | p50 ms on | p50 ms off | on/off | p99 ms on | p99 ms off | on/off | CPU ms/req on | CPU ms/req off | on/off |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for c in $concurrencies; do
    jq -rs --argjson c "$c" '
      def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
      def r2: . * 100 | round / 100;
      (map(select(.variant == "on")) | map(.result)) as $on |
      (map(select(.variant == "off")) | map(.result)) as $off |
      ($on | map(.rps) | median) as $ron | ($off | map(.rps) | median) as $roff |
      ($on | map(.p50_ms) | median) as $pon | ($off | map(.p50_ms) | median) as $poff |
      ($on | map(.p99_ms) | median) as $qon | ($off | map(.p99_ms) | median) as $qoff |
      (map(select(.variant == "on")) | map(.server_cpu_ms_per_request) | median) as $con |
      (map(select(.variant == "off")) | map(.server_cpu_ms_per_request) | median) as $coff |
      "| \($c) | \($ron | r2) | \($roff | r2) | \($ron / $roff * 1000 | round / 1000) | \($pon | r2) | \($poff | r2) | \($pon / $poff * 1000 | round / 1000) | \($qon | r2) | \($qoff | r2) | \($qon / $qoff * 1000 | round / 1000) | \($con | r2) | \($coff | r2) | \($con / $coff * 1000 | round / 1000) |"' \
      <(for f in "$out"/on-c"$c"-r*.json; do jq '. + {variant: "on"}' "$f"; done; for f in "$out"/off-c"$c"-r*.json; do jq '. + {variant: "off"}' "$f"; done)
  done
} >"$out/results.md"
cat "$out/results.md"
