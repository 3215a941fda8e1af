#!/usr/bin/env bash
# Evaluation samples under load, by store: one instance on SQLite, one on PostgreSQL, two instances sharing one
# PostgreSQL database. Each request adds a zip of PAIRS CamVid label-map pairs to one run; afterwards the run must hold
# PAIRS × (requests answered 200) samples — plus at most one request per connection that wrk cut off at the end, which
# the server still completed — and every instance must report the same count and the same scores.
#   bench/load/evaluation-store.sh [-c CONNECTIONS] [-d SECONDS] [-r REPEATS] [--pairs N] [--out DIR]
# Needs wrk, jq, zip, curl, PostgreSQL's server binaries (initdb, pg_ctl: Debian's postgresql) and ../shared's CamVid.
# PostgreSQL runs as Debian's default: fsync on, synchronous_commit on (as durable as SQLite's WAL here).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
. "$repo/scripts/lib-server.sh"
conc=4 duration=30 repeats=3 pairs=4 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    -c) conc="$2"; shift 2 ;; -d) duration="$2"; shift 2 ;; -r) repeats="$2"; shift 2 ;;
    --pairs) pairs="$2"; shift 2 ;; --out) out="$2"; shift 2 ;;
    *) sed -n '2,7p' "$0" >&2; exit 2 ;;
  esac
done
camvid="$repo/../shared/data/camvid-val/annotations"
[ -d "$camvid" ] || { echo "needs ../shared/data/camvid-val (CamVid label maps)" >&2; exit 2; }
for tool in wrk jq zip curl; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }; done
bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -1)")
[ -x "$bin/pg_ctl" ] || { echo "needs PostgreSQL's server binaries (apt-get install postgresql)" >&2; exit 2; }
out="${out:-$(mktemp -d /tmp/segserve-evalstore-XXXXXX)}"; mkdir -p "$out"
work=$(mktemp -d /tmp/segserve-evalstore-work-XXXXXX)
pids=()
pg_stop() { [ -d "$work/pg" ] && as_pg "$bin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true; }
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pg_stop; rm -rf "$work"; }
trap cleanup EXIT
# postgres refuses to run as root: as root, run its binaries as the postgres user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# The zip each request adds: groundTruth/NAME.png = frame i, prediction/NAME.png = frame i+1 (real, imperfect overlap).
mapfile -t frames < <(ls "$camvid" | sort | head -n $((pairs + 1)))
mkdir -p "$work/zip/groundTruth" "$work/zip/prediction"
for ((i = 0; i < pairs; i++)); do
  cp "$camvid/${frames[$i]}" "$work/zip/groundTruth/pair$i.png"
  cp "$camvid/${frames[$((i + 1))]}" "$work/zip/prediction/pair$i.png"
done
(cd "$work/zip" && zip -qr "$work/pairs.zip" groundTruth prediction)

echo "building the Release API…" >&2
build_api
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/pg" && chown -R postgres "$work" 2>/dev/null || true
as_pg "$bin/initdb" -D "$work/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
as_pg "$bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-h 127.0.0.1 -p $pg_port -k $work -c max_connections=200" start >/dev/null

# start_instance PORT STORE(sqlite|postgres DB) → appends its pid
start_instance() {
  local port=$1 store=$2 db=${3:-}
  local args=(--RateLimiting:Enabled=false --Evaluation:MaxSamplesPerRun=1000000 --Evaluation:MaxStoredBytesPerKey=17179869184)
  if [ "$store" = postgres ]; then args+=("--ConnectionStrings:Evaluations=Host=127.0.0.1;Port=$pg_port;Database=$db;Username=postgres"); fi
  start_server "$port" "$work/server-$port.log" "${args[@]}"
  pids+=("$server_pid")
}

run_one() {  # MODE REPEAT → one JSON line
  local mode=$1 rep=$2 ports=() p1 p2 db=""
  pids=()
  p1=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  case "$mode" in
    sqlite) rm -f "$work"/evaluations-*.db*; start_instance "$p1" sqlite; ports=("$p1") ;;
    postgres|postgres-2) db="bench_${mode/-/_}_$rep"; as_pg "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$db"
      start_instance "$p1" postgres "$db"; ports=("$p1")
      if [ "$mode" = postgres-2 ]; then
        p2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        start_instance "$p2" postgres "$db"; ports+=("$p2")
      fi ;;
  esac
  local id; id=$(curl -fs -H 'Content-Type: application/json' -d '{"task":"semantic","numClasses":11,"ignoreIndex":11}' "http://127.0.0.1:${ports[0]}/v1/evaluations" | jq -r .id)
  # Warm-up: one request per instance (JIT, connection pools), not counted in the run's expected samples.
  local warm=0
  for p in "${ports[@]}"; do curl -fs -o /dev/null -F archive=@"$work/pairs.zip" "http://127.0.0.1:$p/v1/evaluations/$id/samples"; warm=$((warm + pairs)); done
  local per=$(( conc / ${#ports[@]} )) i=0 jsons=()
  for p in "${ports[@]}"; do
    i=$((i + 1))
    "$repo/../shared/tools/load/load.sh" "http://127.0.0.1:$p/v1/evaluations/$id/samples" archive "$work/pairs.zip" -c "$per" -d "$duration" --json "$work/load_${mode}_r${rep}_i$i.json" >/dev/null 2>&1 &
    jsons+=($!)
  done
  for j in "${jsons[@]}"; do wait "$j"; done
  sleep 1
  local ok=0 miou=null
  for ((k = 1; k <= ${#ports[@]}; k++)); do
    f="$work/load_${mode}_r${rep}_i$k.json"
    ok=$((ok + $(jq '.result.status["200"] // 0' "$f")))
  done
  local expected=$((warm + ok * pairs)) counts=() scores=()
  for p in "${ports[@]}"; do
    r=$(curl -fs "http://127.0.0.1:$p/v1/evaluations/$id")
    counts+=("$(jq '.sampleCount' <<<"$r")"); scores+=("$(jq -c '.scores' <<<"$r" | sha256sum | cut -c1-16)"); miou=$(jq '.scores.meanIou' <<<"$r")
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
  jq -n -c --arg mode "$mode" --argjson rep "$rep" --argjson instances "${#ports[@]}" --argjson conc "$conc" --argjson duration "$duration" \
     --argjson pairs "$pairs" --argjson ok "$ok" --argjson expected "$expected" --argjson counts "[$(IFS=,; echo "${counts[*]}")]" \
     --argjson scores "$(printf '%s\n' "${scores[@]}" | jq -R . | jq -s .)" --argjson miou "$miou" --slurpfile loads <(cat "$work"/load_"$mode"_r"$rep"_i*.json) \
     '{mode:$mode, repeat:$rep, instances:$instances, connections:$conc, seconds:$duration, pairs_per_request:$pairs,
       requests_ok:$ok, samples_per_s:(($ok * $pairs) / $duration), expected_samples:$expected, sample_counts:$counts,
       consistent:(all($counts[]; . >= $expected and . <= $expected + $conc * $pairs) and ($counts | unique | length) == 1 and ($scores | unique | length) == 1), mean_iou:$miou,
       p50_ms:([$loads[].result.p50_ms] | max), p99_ms:([$loads[].result.p99_ms] | max),
       other_statuses:([$loads[].result.status | to_entries[] | select(.key != "200")] | map("\(.key)×\(.value)") | join(", "))}'
}

: >"$out/runs.jsonl"
for ((rep = 1; rep <= repeats; rep++)); do
  for mode in sqlite postgres postgres-2; do
    echo "run $rep: $mode…" >&2
    run_one "$mode" "$rep" | tee -a "$out/runs.jsonl"
  done
done
echo "results: $out/runs.jsonl" >&2
jq -s -e 'all(.[]; .consistent)' "$out/runs.jsonl" >/dev/null || { echo "FAIL: a run's sample count differs from the samples added" >&2; exit 1; }
