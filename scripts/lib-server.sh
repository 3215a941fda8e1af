#!/usr/bin/env bash
# Shared by hostile.sh, overload.sh and soak.sh: build the Release API and start/stop it on a loopback port.
#   source scripts/lib-server.sh; build_api; start_server PORT LOGFILE [--Setting=value ...]; ...; stop_server
# start_server sets $server_pid (the dotnet process serving) and waits for /health/ready.
repo="${repo:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
api_dll="$repo/src/Api/bin/Release/net10.0/SegServe.Api.dll"
server_pid=""

build_api() {
  dotnet build "$repo/src/Api/SegServe.Api.csproj" -c Release --nologo -v quiet >/dev/null
}

start_server() {
  local port="$1" log="$2"; shift 2
  # the API reads its content root from its own folder: run from src/Api so the relative defaults resolve
  (cd "$repo/src/Api" && Authentication__AllowAnonymous=true exec dotnet "$api_dll" --urls "http://127.0.0.1:$port" \
      --Inference:ModelsDirectory="$repo/models" --Inference:ExecutionProvider=Cpu --Logging:LogLevel:Default=Warning \
      --Evaluation:DatabasePath="$(dirname "$log")/evaluations-$port.db" "$@") >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 240); do
    curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || { echo "the server exited while starting; see $log" >&2; return 4; }
    sleep 0.5
  done
  echo "the server did not become ready in 120 s; see $log" >&2
  return 4
}

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}

# VmRSS and VmHWM of a process in MB: "rss hwm"
rss_mb() {
  awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "%d %d\n", r / 1024, h / 1024 }' "/proc/$1/status" 2>/dev/null || echo "0 0"
}
