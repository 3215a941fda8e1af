#!/usr/bin/env bash
# The service over HTTP against raw ONNX Runtime, in one run on one machine.
#
#   bench/load/service-vs-raw.sh [-d SECONDS] [-c "1 4 16 64"] [--model selfie] [--out DIR]
#                                [--variant NAME "--Setting=value ..."]...
#
# 1. Makes the uploads: ../shared/data/photos cropped to 512×512, JPEG quality 90 (bench make-images).
# 2. For each variant (default: one, "service", with the manifest's settings), starts the Release build of the API
#    on 127.0.0.1:8090 with the CPU provider and those extra settings, waits for /health/ready, and drives
#    POST /v1/models/{model}/segment with ../shared/tools/load/load.sh (wrk, closed loop) at each concurrency.
# 3. Runs the raw ONNX Runtime loop (bench raw-ort) on the same images: prepared tensors only, and with JPEG
#    decode + preprocess added back, at 1 and 2 parallel runs.
# 4. Writes OUT/results.md (tables, ratios against the raw loop) and the raw JSON files.
#
# Needs: the .NET SDK, ../shared (photos and the load tool), wrk (apt-get install -y wrk), jq.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
load="$repo/../shared/tools/load/load.sh"
seconds=10
concurrencies="1 4 16 64"
model=selfie
out="$repo/artifacts/bench/load"
variants=()
while [ $# -gt 0 ]; do
  case "$1" in
    -d) seconds="$2"; shift 2 ;;
    -c) concurrencies="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --variant) variants+=("$2|$3"); shift 3 ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
  esac
done
[ "${#variants[@]}" -gt 0 ] || variants=("service|")
[ -x "$load" ] || [ -r "$load" ] || { echo "the load tool $load is missing: ../shared must be beside the clone" >&2; exit 3; }
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 3; }
command -v jq >/dev/null || { echo "jq not found: apt-get install -y jq" >&2; exit 3; }

mkdir -p "$out"
rm -f "$out"/*.json
images="$out/images"
dotnet build "$repo/src/Api/SegServe.Api.csproj" -c Release --nologo -v quiet >/dev/null
dotnet build "$repo/bench/SegServe.Benchmarks/SegServe.Benchmarks.csproj" -c Release --nologo -v quiet >/dev/null
bench="$repo/bench/SegServe.Benchmarks/bin/Release/net10.0/SegServe.Benchmarks"
api="$repo/src/Api/bin/Release/net10.0/SegServe.Api.dll"
"$bench" make-images --out "$images" >/dev/null

url="http://127.0.0.1:8090"
server=""
stop_server() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi; }
trap stop_server EXIT

for variant in "${variants[@]}"; do
  name="${variant%%|*}"; settings="${variant#*|}"
  # shellcheck disable=SC2086 # settings are whitespace-separated command-line arguments
  (cd "$repo/src/Api" && exec dotnet "$api" --urls "$url" --Inference:ModelsDirectory="$repo/models" \
      --Inference:ExecutionProvider=Cpu --Logging:LogLevel:Default=Warning $settings) >"$out/server-$name.log" 2>&1 &
  server=$!
  for _ in $(seq 1 120); do
    curl -fs "$url/health/ready" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fs "$url/health/ready" >/dev/null || { echo "the server ($name) did not become ready; see $out/server-$name.log" >&2; exit 4; }
  for c in $concurrencies; do
    echo "== $name: concurrency $c" >&2
    bash "$load" "$url/v1/models/$model/segment" image "$images"/*.jpg -c "$c" -d "$seconds" --warmup 2 \
        --json "$out/service-$name-c$c.json" >&2
  done
  curl -fs "$url/v1/models/$model/stats" >"$out/stats-$name.json" 2>/dev/null || true
  stop_server
done

# Raw ONNX Runtime: prepared tensors at 1 and 2 parallel runs and several batch sizes (the upper bound), then with
# JPEG decode + preprocess added back per image.
for spec in "p1 1 1" "p2 2 1" "p2-b4 2 4" "p2-b8 2 8"; do
  read -r tag parallel batch <<<"$spec"
  echo "== raw-$tag" >&2
  "$bench" raw-ort --model "$repo/models/$model" --images "$images" --seconds "$seconds" --parallel "$parallel" --batch "$batch" \
      --json "$out/raw-$tag.json" >&2
done
for parallel in 1 2; do
  echo "== raw-decode-p$parallel" >&2
  "$bench" raw-ort --model "$repo/models/$model" --images "$images" --seconds "$seconds" --parallel "$parallel" --batch 1 --with-decode \
      --json "$out/raw-decode-p$parallel.json" >&2
done

# The tables.
raw_best=$(jq -s 'map(.imagesPerSecond) | max' "$out"/raw-p*.json)
rawdec_best=$(jq -s 'map(.imagesPerSecond) | max' "$out"/raw-decode-p*.json)
raw_p50=$(jq '.runP50Ms' "$out/raw-p1.json")
rawdec_p50=$(jq '.runP50Ms' "$out/raw-decode-p1.json")
{
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $(dotnet --version) SDK; model $model; ${seconds} s per point."
  echo
  echo "| load | images/s | p50 ms | p99 ms |"
  echo "|---|---|---|---|"
  for f in "$out"/raw-p1.json "$out"/raw-p2.json "$out"/raw-p2-b4.json "$out"/raw-p2-b8.json "$out"/raw-decode-p1.json "$out"/raw-decode-p2.json; do
    jq -r '"| \(.mode), \(.parallel) parallel run(s), batch \(.batch) | \(.imagesPerSecond) | \(.runP50Ms) | \(.runP99Ms) |"' "$f"
  done
  echo
  echo "| variant | concurrency | req/s | × raw ORT best | × raw ORT + decode best | p50 ms | p50 − raw+decode p50 (ms) | p99 ms | non-2xx |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for variant in "${variants[@]}"; do
    name="${variant%%|*}"
    for c in $concurrencies; do
      jq -r --arg name "$name" --argjson raw "$raw_best" --argjson rawdec "$rawdec_best" --argjson rawdecp50 "$rawdec_p50" \
        '"| \($name) | \(.concurrency) | \(.result.rps) | \(.result.rps / $raw * 100 | round / 100) | \(.result.rps / $rawdec * 100 | round / 100) | \(.result.p50_ms) | \((.result.p50_ms - $rawdecp50) * 100 | round / 100) | \(.result.p99_ms) | \(.result.errors.non2xx3xx) |"' \
        "$out/service-$name-c$c.json"
    done
  done
  echo
  echo "raw ORT p50 (1 run at a time): $raw_p50 ms; with decode + preprocess: $rawdec_p50 ms."
  echo
  echo "| variant | model runs by batch size | mean batch size |"
  echo "|---|---|---|"
  for variant in "${variants[@]}"; do
    name="${variant%%|*}"
    if [ -s "$out/stats-$name.json" ]; then
      jq -r --arg name "$name" '"| \($name) | \(.batchSizes | to_entries | map("\(.key): \(.value)") | join(", ")) | \(.meanBatchSize) |"' "$out/stats-$name.json"
    fi
  done
} >"$out/results.md"
cat "$out/results.md"
