#!/usr/bin/env bash
# This checkout's service against an earlier revision of it, over HTTP, in one run on one machine.
#
#   bench/load/versus-revision.sh REVISION [-d SECONDS] [-r ROUNDS] [--model selfie] [--out DIR]
#
# Builds REVISION (e.g. a commit before a change) in a temporary git worktree and this checkout, both Release. Then,
# ROUNDS times, alternating the two (old, new, old, new, … so that drift of the shared machine hits both alike),
# starts each on 127.0.0.1:8090 with the CPU provider, waits for /health/ready, and drives with wrk
# (../shared/tools/load/load.sh, closed loop, 512×512 JPEG uploads):
#   segment-c1    POST /v1/models/{model}/segment (JSON), concurrency 1   — the latency one request pays
#   segment-c16   the same at concurrency 16                              — throughput
#   bad-param-c16 POST …/segment?threshold=2 (a 400), concurrency 16     — the binding and error path alone
# Also reads the server's own CPU time (/proc/PID/stat) around each measurement: CPU milliseconds per request, which
# the machine's other tenants disturb less than throughput does.
# Writes OUT/results.md with the median of the rounds for each and the ratio new/old, and the raw JSON files.
#
# Needs: the .NET SDK, git, ../shared (photos and the load tool), wrk and jq (apt-get install -y wrk jq).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
load="$repo/../shared/tools/load/load.sh"
revision="${1:-}"; [ -n "$revision" ] || { sed -n '2,14p' "$0" >&2; exit 2; }
shift
seconds=10 rounds=3 model=selfie out="$repo/artifacts/bench/versus-revision"
while [ $# -gt 0 ]; do
  case "$1" in
    -d) seconds="$2"; shift 2 ;;
    -r) rounds="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
  esac
done
[ -r "$load" ] || { echo "the load tool $load is missing: ../shared must be beside the clone" >&2; exit 3; }
for tool in wrk jq git; do command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 3; }; done

mkdir -p "$out"; rm -f "$out"/*.json
old="$(mktemp -d)/old"
git -C "$repo" worktree add --detach "$old" "$revision" >/dev/null 2>&1
cleanup() { stop_server; git -C "$repo" worktree remove --force "$old" >/dev/null 2>&1 || true; }
server=""
stop_server() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi; }
trap cleanup EXIT

for tree in "$old" "$repo"; do
  dotnet build "$tree/src/Api/SegServe.Api.csproj" -c Release --nologo -v quiet >/dev/null
done
dotnet build "$repo/bench/SegServe.Benchmarks/SegServe.Benchmarks.csproj" -c Release --nologo -v quiet >/dev/null
images="$out/images"
"$repo/bench/SegServe.Benchmarks/bin/Release/net10.0/SegServe.Benchmarks" make-images --out "$images" >/dev/null
url="http://127.0.0.1:8090"

measure() { # name scenario round url concurrency
  local name="$1" scenario="$2" round="$3" target="$4" concurrency="$5" before after json="$out/$1-$2-r$3.json"
  before=$(awk '{ print $14 + $15 }' "/proc/$server/stat")
  bash "$load" "$target" image "$images"/*.jpg -c "$concurrency" -d "$seconds" --json "$json" >&2
  after=$(awk '{ print $14 + $15 }' "/proc/$server/stat")
  jq --argjson ticks "$((after - before))" --argjson hz "$(getconf CLK_TCK)" \
     '. + {server_cpu_ms_per_request: ($ticks * 1000 / $hz / (.result.requests | if . == 0 then 1 else . end))}' "$json" >"$json.tmp"
  mv "$json.tmp" "$json"
}

run_version() { # name tree round
  local name="$1" tree="$2" round="$3"
  (cd "$tree/src/Api" && exec dotnet "$tree/src/Api/bin/Release/net10.0/SegServe.Api.dll" --urls "$url" \
      --Inference:ModelsDirectory="$repo/models" --Inference:ExecutionProvider=Cpu --Logging:LogLevel:Default=Warning \
      --Evaluation:DatabasePath="$out/$name.db") >"$out/server-$name.log" 2>&1 &
  server=$!
  for _ in $(seq 1 240); do curl -fs "$url/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fs "$url/health/ready" >/dev/null || { echo "$name did not become ready; see $out/server-$name.log" >&2; exit 4; }
  # Unmeasured warm-up of every path measured: a fresh server needs ~15 s of load before tiered compilation has
  # optimised the request path (../shared/docs/performance-notes.md, "Cold start"), and that is not what is compared.
  bash "$load" "$url/v1/models/$model/segment" image "$images"/*.jpg -c 16 -d 20 >/dev/null
  bash "$load" "$url/v1/models/$model/segment" image "$images"/*.jpg -c 1 -d 3 >/dev/null
  bash "$load" "$url/v1/models/$model/segment?threshold=2" image "$images"/*.jpg -c 16 -d 3 >/dev/null
  measure "$name" segment-c1 "$round" "$url/v1/models/$model/segment" 1
  measure "$name" segment-c16 "$round" "$url/v1/models/$model/segment" 16
  measure "$name" bad-param-c16 "$round" "$url/v1/models/$model/segment?threshold=2" 16
  stop_server
}

for round in $(seq 1 "$rounds"); do
  echo "== round $round: $revision" >&2; run_version old "$old" "$round"
  echo "== round $round: this checkout" >&2; run_version new "$repo" "$round"
done

median() { local field="$1"; shift; jq -s "map($field) | sort | .[(length - 1) / 2 | floor]" "$@"; }
{
  echo "# This checkout ($(git -C "$repo" rev-parse --short HEAD)) against $revision ($(git -C "$repo" rev-parse --short "$revision"))"
  echo
  echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); model $model, 512×512 JPEG uploads; medians of $rounds interleaved rounds of ${seconds} s."
  echo
  echo "| scenario | old req/s | new req/s | new/old | old p50 ms | new p50 ms | old p99 ms | new p99 ms | old CPU ms/req | new CPU ms/req | new/old CPU |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for scenario in segment-c1 segment-c16 bad-param-c16; do
    o_rps=$(median .result.rps "$out"/old-"$scenario"-r*.json); n_rps=$(median .result.rps "$out"/new-"$scenario"-r*.json)
    o_p50=$(median .result.p50_ms "$out"/old-"$scenario"-r*.json); n_p50=$(median .result.p50_ms "$out"/new-"$scenario"-r*.json)
    o_p99=$(median .result.p99_ms "$out"/old-"$scenario"-r*.json); n_p99=$(median .result.p99_ms "$out"/new-"$scenario"-r*.json)
    o_cpu=$(median .server_cpu_ms_per_request "$out"/old-"$scenario"-r*.json); n_cpu=$(median .server_cpu_ms_per_request "$out"/new-"$scenario"-r*.json)
    ratio=$(jq -n "$n_rps / $o_rps * 100 | round / 100")
    cpu_ratio=$(jq -n "$n_cpu / $o_cpu * 100 | round / 100")
    round3() { jq -n "$1 * 1000 | round / 1000"; }
    echo "| $scenario | $o_rps | $n_rps | $ratio | $o_p50 | $n_p50 | $o_p99 | $n_p99 | $(round3 "$o_cpu") | $(round3 "$n_cpu") | $cpu_ratio |"
  done
} >"$out/results.md"
cat "$out/results.md"
