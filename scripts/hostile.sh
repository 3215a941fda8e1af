#!/usr/bin/env bash
# The hostile corpus (tools/Hostile): builds Release, starts the API on a loopback port with the embedded model
# (anonymous access, no per-caller rate limit: the corpus comes from one address), sends the generated corpus
# (7,000+ requests: damaged and bomb images, multipart framing, query/path values, evaluation inputs, zips, slow
# bodies, spikes, keys), checks the server afterwards, stops it and prints the summary.
#
#   scripts/hostile.sh [--out DIR] [--port 8097] [--seed 1] [--concurrency 4] [--max-seconds 2]
#                      [--seconds-per-mp 0.05] [--max-rss-mb 1536] [--categories image-bomb,eval-zip] [--kill-rss-mb 8192]
#                      [-- --Server:Setting=value ...]
#
# --kill-rss-mb protects a shared machine: a watchdog stops the server when its RSS passes it (the run then fails).
#
# Exit code: 0 when every criterion holds (no 5xx, none slower than --max-seconds except valid images near the pixel
# limit at --seconds-per-mp, peak server RSS under --max-rss-mb, alive and the reference photo segmented identically
# afterwards); 1 when one fails. Writes DIR/hostile.json, DIR/hostile.md, DIR/server.log.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=lib-server.sh
source "$repo/scripts/lib-server.sh"
out="$repo/artifacts/reliability/hostile" port=8097 tool_args=() server_args=() kill_rss_mb=8192
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --kill-rss-mb) kill_rss_mb="$2"; shift 2 ;;
    --seed|--concurrency|--max-seconds|--seconds-per-mp|--max-rss-mb|--categories|--min-requests) tool_args+=("$1" "$2"); shift 2 ;;
    --) shift; server_args=("$@"); break ;;
    *) sed -n '2,17p' "$0" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
photo="$repo/docs/examples/astronaut.jpg"

echo "building (Release)…" >&2
build_api
dotnet build "$repo/tools/Hostile/SegServe.Tools.Hostile.csproj" -c Release --nologo -v quiet >/dev/null
rm -f "$out"/evaluations-*.db*
trap stop_server EXIT
start_server "$port" "$out/server.log" --RateLimiting:Enabled=false "${server_args[@]}"
echo "server pid $server_pid on 127.0.0.1:$port" >&2
rm -f "$out/killed.txt"
( while kill -0 "$server_pid" 2>/dev/null; do
    read -r r _ < <(rss_mb "$server_pid")
    if [ "$r" -gt "$kill_rss_mb" ]; then
      echo "the server was killed: RSS $r MB passed --kill-rss-mb $kill_rss_mb" | tee "$out/killed.txt" >&2
      kill -KILL "$server_pid" 2>/dev/null || true   # at once: a graceful stop waits for the requests still decoding
      break
    fi
    sleep 0.2
  done ) & watchdog=$!
rc=0
"$repo/tools/Hostile/bin/Release/net10.0/SegServe.Tools.Hostile" run --url "http://127.0.0.1:$port" --pid "$server_pid" \
    --photo "$photo" --out "$out" "${tool_args[@]}" >"$out/run.log" || rc=$?
kill "$watchdog" 2>/dev/null || true
read -r rss hwm < <(rss_mb "$server_pid")
kill -0 "$server_pid" 2>/dev/null && alive=yes || alive=no
stop_server
cat "$out/hostile.md" 2>/dev/null || cat "$out/run.log"
echo
[ -s "$out/killed.txt" ] && cat "$out/killed.txt"
echo "server after the run: alive $alive, RSS $rss MB, VmHWM $hwm MB; results in $out" >&2
exit "$rc"
