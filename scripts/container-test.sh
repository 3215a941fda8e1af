#!/usr/bin/env bash
# Builds the Dockerfile's runtime target and runs it, without a Docker engine:
#   1. local stand-ins for the sdk and aspnet base images (scripts/make-base-images.sh; cached between runs);
#   2. buildah bud --target runtime with those as SDK_IMAGE and RUNTIME_IMAGE;
#   3. the image's own entry point, user, working directory and environment (read from the image, not retyped), run
#      by buildah run --isolation chroot in its own network namespace (a veth pair to the host), /data a host
#      directory and /tmp a tmpfs: waits for /health/ready, runs the image's HEALTHCHECK, posts a real photo to the
#      selfie model and checks the PNG, checks the server's uid, creates an evaluation run, stops it (SIGTERM) and
#      checks it wrote nothing outside /data, /tmp and its home directory;
#   4. starts a new container from the image with the root file system read-only (buildah run cannot: it writes into
#      the root at start, so a private mount namespace bind-mounts the image's root read-only and chroots into it)
#      and the same /data: the evaluation run is still there and the model still serves.
# Prints PASS or FAIL per check and each phase's time; exits 0 only when every check passes (2: cannot run here).
#
# Usage: scripts/container-test.sh   (as root; apt-get install -y buildah debootstrap jq curl iproute2)
# Environment: SEGSERVE_TEST_PHOTO (default ../shared/data/photos/astronaut.png, else docs/examples/camera.png),
#              SEGSERVE_KEEP_IMAGE=1 keeps localhost/segserve:container-test; the store: scripts/make-base-images.sh.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

readonly IMAGE=localhost/segserve:container-test
readonly PORT=8080
readonly READY_TIMEOUT=180

for tool in buildah debootstrap curl jq ss ip unshare nsenter chroot; do
  command -v "$tool" >/dev/null || { echo "container-test: $tool is missing (apt-get install -y buildah debootstrap curl jq iproute2)" >&2; exit 2; }
done
[[ "$(id -u)" -eq 0 ]] || { echo "container-test: run as root (buildah's chroot isolation and mount namespaces need it)" >&2; exit 2; }
# The container gets its own network namespace with a veth pair to the host, as a bridge network would: port 8080
# cannot clash with anything on the host, and a server listening on loopback only would not be reachable.
readonly NETNS="segserve-ct-$$" HOST_IF="sct$$h" CTR_IF="sct$$c" HOST_ADDR=10.231.7.1 ADDR=10.231.7.2
export ADDR
# buildah's chroot isolation only shares the network namespace it runs in, so buildah runs in the container's.
in_netns() { nsenter --net="/var/run/netns/$NETNS" "$@"; }
if ip -o addr show | grep -q " $HOST_ADDR/"; then
  echo "container-test: $HOST_ADDR is in use (another container test running?)" >&2; exit 2
fi

photo="${SEGSERVE_TEST_PHOTO:-}"
if [[ -z "$photo" ]]; then
  photo=../shared/data/photos/astronaut.png
  [[ -f "$photo" ]] || photo=docs/examples/camera.png
fi

mapfile -t STORE < <(scripts/make-base-images.sh --storage-options)
bah() { buildah "${STORE[@]}" "$@"; }

work="$(mktemp -d)"
container=""
fresh=""
server_job=""
failures=0
cleanup() {
  if [[ -n "$server_job" ]] && kill -0 "$server_job" 2>/dev/null; then
    kill -KILL "$(server_pid)" 2>/dev/null || true
    kill "$server_job" 2>/dev/null || true
    wait "$server_job" 2>/dev/null || true
  fi
  ip link del "$HOST_IF" 2>/dev/null || true
  ip netns del "$NETNS" 2>/dev/null || true
  for c in $container $fresh; do
    bah umount "$c" >/dev/null 2>&1 || true
    bah rm "$c" >/dev/null 2>&1 || true
  done
  if [[ "${SEGSERVE_KEEP_IMAGE:-}" != 1 ]]; then bah rmi "$IMAGE" >/dev/null 2>&1 || true; fi
  # The logs of a failed run stay for CI to show.
  if (( failures > 0 )); then
    rm -rf artifacts/container-test && mkdir -p artifacts/container-test && cp "$work"/*.log artifacts/container-test/ 2>/dev/null || true
    echo "logs: artifacts/container-test/"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

check() { # check NAME COMMAND...: runs COMMAND, prints PASS or FAIL with NAME
  if "${@:2}"; then echo "PASS  $1"; else echo "FAIL  $1"; failures=$((failures + 1)); fi
}
phase_started=$SECONDS
phase() { echo "== $1 ($(( SECONDS - phase_started )) s since start)"; }
fail_fast() { echo "FAIL  $1"; failures=$((failures + 1)); [[ -z "${2:-}" ]] || tail -n 40 "$2"; exit 1; }

# ---- 1. stand-in base images -------------------------------------------------------------------------------------
phase "stand-in base images"
t=$SECONDS
scripts/make-base-images.sh || fail_fast "stand-in base images"
echo "   stand-ins: $(( SECONDS - t )) s"

# ---- 2. build --------------------------------------------------------------------------------------------------
phase "buildah bud --target runtime"
t=$SECONDS
mapfile -t containers_before < <(bah containers --quiet --notruncate)
if ! bah bud --isolation chroot --network host --format docker --layers --target runtime \
     --build-arg SDK_IMAGE=localhost/segserve-standin-sdk:10.0 \
     --build-arg RUNTIME_IMAGE=localhost/segserve-standin-aspnet:10.0 \
     -t "$IMAGE" . >"$work/build.log" 2>&1; then
  fail_fast "image builds" "$work/build.log"
fi
echo "PASS  image builds ($(( SECONDS - t )) s)"
# buildah 1.28 leaves the working container of a stage that is only a FROM (aspnet) behind: remove what the build left.
while read -r id; do
  [[ " ${containers_before[*]} " == *" $id "* ]] || bah rm "$id" >/dev/null 2>&1 || true
done < <(bah containers --quiet --notruncate)
# Intermediate images of earlier builds (--layers keeps one per step) are dropped; this build's stay as the cache.
mapfile -t used < <(grep -oE '^--> (Using cache )?[0-9a-f]{11,64}' "$work/build.log" | grep -oE '[0-9a-f]{11,64}$')
while read -r id; do
  keep=""
  for u in "${used[@]}"; do [[ "$id" == "$u"* || "$u" == "$id"* ]] && keep=1; done
  [[ -n "$keep" ]] || bah rmi "$id" >/dev/null 2>&1 || true
done < <(bah images --filter dangling=true --noheading --no-trunc --format '{{.ID}}' | sed 's/^sha256://')

# ---- 3. what went into the image --------------------------------------------------------------------------------
phase "image contents"
fmt() { bah inspect --type image --format "$1" "$IMAGE"; }
mapfile -t entrypoint < <(fmt '{{range .Docker.Config.Entrypoint}}{{.}}{{"\n"}}{{end}}')
mapfile -t cmd < <(fmt '{{range .Docker.Config.Cmd}}{{.}}{{"\n"}}{{end}}')
mapfile -t healthcheck < <(fmt '{{range .Docker.Config.Healthcheck.Test}}{{.}}{{"\n"}}{{end}}')
mapfile -t image_env < <(fmt '{{range .Docker.Config.Env}}{{.}}{{"\n"}}{{end}}')
user="$(fmt '{{.Docker.Config.User}}')"
workdir="$(fmt '{{.Docker.Config.WorkingDir}}')"
echo "   entry point: ${entrypoint[*]} ${cmd[*]}; user: $user; working directory: $workdir"
echo "   image size: $(bah images --noheading --format '{{.Size}}' "$IMAGE" | head -n 1)"

container="$(bah from --pull=never "$IMAGE")"
root="$(bah mount "$container")"
mapfile -t volumes < <(fmt '{{range $path, $_ := .Docker.Config.Volumes}}{{$path}}{{"\n"}}{{end}}')
check "the image declares the writable paths /data and /tmp as volumes (${volumes[*]})" \
  bash -c '[[ " $* " == *" /data "* && " $* " == *" /tmp "* ]]' _ "${volumes[@]}"
# The test mounts both itself, as a runtime does for declared volumes; buildah 1.28's run would otherwise give each
# declared volume an anonymous directory that shadows the explicit mounts.
bah config --volume /data- --volume /tmp- "$container"
onnx="$(find "$root$workdir" -name 'libonnxruntime*' -printf '%f %s\n' | sort)"
echo "   ONNX Runtime native libraries:"; sed 's/^/     /' <<<"$onnx"
echo "   ONNX Runtime total: $(awk '{ s += $2 } END { printf "%.1f MiB", s / 1048576 }' <<<"$onnx")"
check "only linux-x64 ONNX Runtime libraries (no runtimes/, no win/osx builds, no CUDA provider in the CPU image)" \
  bash -c '[[ ! -d "$1/runtimes" ]] && [[ -f "$1/libonnxruntime.so" ]] \
    && [[ -z "$(find "$1" \( -name "*.dll" -path "*native*" -o -name "*.dylib" -o -name "onnxruntime.dll" -o -name "libonnxruntime_providers_cuda.so" \) -print -quit)" ]]' _ "$root$workdir"
check "the image runs as a non-root user" bash -c '[[ -n "$1" && "$1" != 0 && "$1" != root && "$1" != 0:* && "$1" != root:* ]]' _ "$user"

# The uid and gid the image's user maps to, as a container runtime resolves them from the image's /etc/passwd.
uid="${user%%:*}"
if [[ ! "$uid" =~ ^[0-9]+$ ]]; then uid="$(awk -F: -v u="$uid" '$1 == u { print $3 }' "$root/etc/passwd")"; fi
gid="$(awk -F: -v u="$uid" '$3 == u { print $4 }' "$root/etc/passwd")"
[[ "$user" == *:* ]] && gid="${user#*:}"
home="$(awk -F: -v u="$uid" '$3 == u { print $6 }' "$root/etc/passwd")"

# /data is a host directory, owned like the image's /data (as a named volume would be initialised).
data="$work/data"
mkdir -p "$data"
chown "$(stat -c %u:%g "$root/data")" "$data"

ip netns add "$NETNS"
ip link add "$HOST_IF" type veth peer name "$CTR_IF"
ip link set "$CTR_IF" netns "$NETNS"
ip -n "$NETNS" addr add "$ADDR/30" dev "$CTR_IF"
ip -n "$NETNS" link set "$CTR_IF" up
ip -n "$NETNS" link set lo up
ip addr add "$HOST_ADDR/30" dev "$HOST_IF"
ip link set "$HOST_IF" up

# The test's only configuration change: anonymous access instead of API keys.
test_env=(Authentication__AllowAnonymous=true)
env_args=()
for e in "${test_env[@]}"; do env_args+=(--env "$e"); done
run_args=(--isolation chroot --network host --mount type=tmpfs,destination=/tmp,tmpfs-mode=1777 --volume "$data:/data")

server_pid() { in_netns ss -ltnpH "sport = :$PORT" | grep -oE 'pid=[0-9]+' | head -n 1 | cut -d= -f2; }

wait_ready() { # wait_ready LOG: until /health/ready is 200, the server dies or READY_TIMEOUT passes
  local deadline=$(( SECONDS + READY_TIMEOUT ))
  while (( SECONDS < deadline )); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR:$PORT/health/ready")" == 200 ]] && return 0
    kill -0 "$server_job" 2>/dev/null || { echo "   the server exited:"; tail -n 30 "$1"; return 1; }
    sleep 1
  done
  echo "   not ready after $READY_TIMEOUT s:"; tail -n 30 "$1"; return 1
}

stop_server() { # stop_server: SIGTERM to the server, as a container runtime stops it; succeeds when it exits 0
  local pid status=0
  pid="$(server_pid)"
  [[ -n "$pid" ]] || return 1
  kill -TERM "$pid"
  wait "$server_job" || status=$?
  server_job=""
  echo "   exit status $status"
  return "$status"
}

# png_size FILE: "WIDTHxHEIGHT" from a PNG's signature and IHDR, or nothing when FILE is not a complete PNG.
png_size() {
  [[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] || return 0
  [[ "$(tail -c 8 "$1" | head -c 4)" == IEND ]] || return 0
  local w h
  w=$(( 16#$(tail -c +17 "$1" | head -c 4 | od -An -tx1 | tr -d ' \n') ))
  h=$(( 16#$(tail -c +21 "$1" | head -c 4 | od -An -tx1 | tr -d ' \n') ))
  echo "${w}x${h}"
}
photo_size="$(png_size "$photo")"
if [[ -z "$photo_size" ]]; then echo "container-test: $photo is not a PNG" >&2; exit 2; fi

segment() { # segment OUT: posts the photo to the selfie model for a class-map PNG; succeeds on 200 + a PNG of the photo's size
  local code
  code="$(curl -sS -o "$1" -w '%{http_code} %{content_type}' -H 'Accept: image/png' -F "image=@$photo" \
          "http://$ADDR:$PORT/v1/models/selfie/segment")"
  echo "   POST /v1/models/selfie/segment: $code, $(stat -c %s "$1") bytes, PNG $(png_size "$1") (photo $photo_size)"
  [[ "$code" == "200 image/png" && "$(png_size "$1")" == "$photo_size" ]]
}

process_ids() { # process_ids PID: "uid gid" (real, effective, saved and file ids all equal) of a process, else nothing
  awk '/^Uid:/ { u = ($2 == $3 && $3 == $4 && $4 == $5) ? $2 : "mixed" }
       /^Gid:/ { g = ($2 == $3 && $3 == $4 && $4 == $5) ? $2 : "mixed" }
       END { print u, g }' "/proc/$1/status"
}

# ---- 4. first start: buildah run ---------------------------------------------------------------------------------
phase "first start (buildah run, /data and /tmp mounted)"
# buildah run writes its mount points (/etc/hosts, /etc/resolv.conf, /run/.containerenv) into the root at start; a
# run of true makes them before the marker, so that what remains newer than it was written by the server.
in_netns buildah "${STORE[@]}" run "${run_args[@]}" "$container" -- true
touch "$work/marker"
sleep 1
t=$SECONDS
in_netns buildah "${STORE[@]}" run "${run_args[@]}" "${env_args[@]}" "$container" -- "${entrypoint[@]}" "${cmd[@]}" >"$work/run1.log" 2>&1 &
server_job=$!
wait_ready "$work/run1.log" || fail_fast "ready after the first start"
echo "PASS  /health/ready is 200 ($(( SECONDS - t )) s after start)"
pid="$(server_pid)"
echo "   server process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
check "the server process runs as uid $uid, gid $gid (the image's user), not root" \
  bash -c '[[ "$(awk "/^Uid:/ { print \$2 }" /proc/$1/status)" != 0 && "$2" == "$3 $4" ]]' _ "$pid" "$(process_ids "$pid")" "$uid" "$gid"
check "Kestrel listens on every interface, port $PORT (reached from the host at $ADDR)" grep -qE "Now listening on: http://(\[::\]|0\.0\.0\.0|\+):$PORT" "$work/run1.log"

hc=("${healthcheck[@]:1}")
[[ "${healthcheck[0]:-}" == CMD-SHELL ]] && hc=(/bin/sh -c "${healthcheck[1]}")
check "the image's HEALTHCHECK passes: ${healthcheck[*]:1}" in_netns buildah "${STORE[@]}" run --isolation chroot --network host "$container" -- "${hc[@]}"
check "the selfie model segments $photo into a PNG of its size" segment "$work/mask1.png"
check "the model runs on the CPU provider" bash -c \
  '[[ "$(curl -s "http://$ADDR:$1/v1/models" | jq -r "(if type == \"array\" then . else .models end)[] | select(.name == \"selfie\") | .executionProvider")" == CPU ]]' _ "$PORT"

created="$(curl -sS -w '\n%{http_code}' -H 'Content-Type: application/json' -d '{"task":"semantic","numClasses":2}' \
           "http://$ADDR:$PORT/v1/evaluations/")"
run_id="$(head -n 1 <<<"$created" | jq -r .id)"
check "POST /v1/evaluations creates a run ($run_id)" bash -c '[[ "$1" == 201 && -n "$2" && "$2" != null ]]' _ "$(tail -n 1 <<<"$created")" "$run_id"

t=$SECONDS
check "SIGTERM stops the server with exit status 0" stop_server
echo "   stopped in $(( SECONDS - t )) s"
check "the HEALTHCHECK fails once the server is down" bash -c '! "$@"' _ nsenter --net="/var/run/netns/$NETNS" buildah "${STORE[@]}" run --isolation chroot --network host "$container" -- "${hc[@]}" 2>/dev/null

# Overlay keeps the container's own writes in its upper directory; with vfs the mount is the whole root.
upper="$root"
[[ "${STORE[*]}" == *"--storage-driver overlay"* ]] && upper="$(dirname "$root")/diff"
# Files only: buildah run itself touches the directories of its mount points (/run, /etc).
written="$(cd "$upper" && find . -xdev -mindepth 1 -newer "$work/marker" ! -type d | sed 's/^\.//' | sort)"
in_home="$(grep -E "^$home/" <<<"$written" || true)"
elsewhere="$(grep -vE "^($home|/data|/tmp)/" <<<"$written" || true)"
# The home directory gets ASP.NET Core's data-protection key ring and ONNX Runtime's device id when it is writable;
# both do without it (the read-only start below proves it), so they are reported, not failed.
[[ -z "$in_home" ]] || { echo "   written in the home directory (optional caches):"; sed 's/^/     /' <<<"$in_home"; }
[[ -z "$elsewhere" ]] || { echo "   written elsewhere:"; sed 's/^/     /' <<<"$elsewhere"; }
check "the server wrote nothing in the root file system outside /data, /tmp and its home directory" test -z "$elsewhere"
check "/data holds the evaluation database, owned by uid $uid" bash -c '[[ "$(stat -c %u "$1/evaluations.db")" == "$2" ]]' _ "$data" "$uid"

# ---- 5. second start: read-only root ---------------------------------------------------------------------------
phase "second start (a new container from the image, root file system read-only, same /data, models mounted)"
# A new container, as a runtime restarts a service: only /data carries over, and the root is the image's as built.
fresh="$(bah from --pull=never "$IMAGE")"
fresh_root="$(bah mount "$fresh")"
# A models folder of the operator's, mounted read-only over the baked-in one: here only the selfie model, so the
# service must list exactly it (the image bakes in more).
models_dir="$(printf '%s\n' "${image_env[@]}" | sed -n 's/^Inference__ModelsDirectory=//p')"
mkdir -p "$work/models" && cp -r "$repo_root/models/selfie" "$work/models/"
chown -R "$uid:$gid" "$work/models"
# The image's environment, then the test's; HOME from the image's passwd entry as container runtimes set it.
env_list=(env -i "HOME=$home" "${image_env[@]}" "${test_env[@]}")
t=$SECONDS
in_netns unshare --mount --pid --fork --propagation private -- bash -c '
  set -e
  root=$1 data=$2 uid=$3 gid=$4 workdir=$5 models=$6 models_dir=$7; shift 7
  mount --bind "$root" "$root"
  mount --bind "$data" "$root/data"
  mount --bind "$models" "$root$models_dir"
  mount -o remount,bind,ro "$root$models_dir"
  mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$root/tmp"
  mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount -o remount,bind,ro "$root"
  exec chroot --userspec="$uid:$gid" --groups="$gid" "$root" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$workdir" "$@"
' _ "$fresh_root" "$data" "$uid" "$gid" "$workdir" "$work/models" "$models_dir" "${env_list[@]}" "${entrypoint[@]}" "${cmd[@]}" >"$work/run2.log" 2>&1 &
server_job=$!
wait_ready "$work/run2.log" || fail_fast "ready after a restart with a read-only root"
echo "PASS  /health/ready is 200 with a read-only root ($(( SECONDS - t )) s after start)"
pid="$(server_pid)"
check "the server's root file system is mounted read-only" \
  bash -c 'awk "\$5 == \"/\" { print \$6 }" "/proc/$1/mountinfo" | tail -n 1 | grep -qE "^ro(,|$)"' _ "$pid"
check "the server process runs as uid $uid, gid $gid" bash -c '[[ "$1" == "$2 $3" ]]' _ "$(process_ids "$pid")" "$uid" "$gid"
check "the evaluation run survived the restart (GET /v1/evaluations/$run_id)" bash -c \
  '[[ "$(curl -s "http://$ADDR:$1/v1/evaluations/$2" | jq -r .id)" == "$2" ]]' _ "$PORT" "$run_id"
check "a models folder mounted on $models_dir replaces the baked-in models (GET /v1/models lists only selfie)" bash -c \
  '[[ "$(curl -s "http://$ADDR:$1/v1/models" | jq -c "[.models[].name]")" == "[\"selfie\"]" ]]' _ "$PORT"
check "the selfie model segments again with a read-only root" segment "$work/mask2.png"
check "the same photo gives the same mask after the restart" cmp -s "$work/mask1.png" "$work/mask2.png"
# Warnings say what a read-only root changes (an in-memory key ring, say); errors other than the readiness probe's
# "not ready yet" while the models load fail the check.
grep -E -A1 '^warn:' "$work/run2.log" | grep -vE '^(--|warn:)' | sed 's/^ */   warning: /' | sort -u || true
errors="$(grep -E -A1 '^(fail|crit):' "$work/run2.log" | grep -vE '^--$' | paste - - | grep -v 'HealthChecks.DefaultHealthCheckService' || true)"
[[ -z "$errors" ]] || { echo "   errors logged:"; sed 's/^/     /' <<<"$errors"; }
check "no error logged with a read-only root" test -z "$errors"
check "SIGTERM stops the server with exit status 0" stop_server

phase "done"
if (( failures > 0 )); then echo "container-test: $failures check(s) failed"; exit 1; fi
echo "container-test: all checks passed"
