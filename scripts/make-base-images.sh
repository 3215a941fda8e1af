#!/usr/bin/env bash
# Makes local stand-ins for the Dockerfile's base images, for machines that cannot pull from mcr.microsoft.com or
# run a Docker engine (scripts/container-test.sh uses them):
#   localhost/segserve-standin-base:bookworm  debootstrap of Debian 12 (minbase + the libraries .NET loads)
#   localhost/segserve-standin-sdk:10.0       base + this machine's .NET SDK (/usr/share/dotnet) and its CA bundle
#   localhost/segserve-standin-aspnet:10.0    base + the dotnet host, Microsoft.NETCore.App and
#                                             Microsoft.AspNetCore.App only, and the user app (uid 1654)
# They mirror what the Dockerfile relies on in Microsoft's images: /usr/share/dotnet, /usr/bin/dotnet, bash, the user
# app with APP_UID=1654, root as the default user.
#
# Idempotent and cached: the images live in a fixed buildah store (below) and are rebuilt only when the content hash
# of their inputs, kept in the label org.segserve.standin.inputs, changes (this script's recipe, the .NET versions on
# this machine, the CA bundle, the parent image).
#
# Usage: scripts/make-base-images.sh                   build what is missing or stale; prints the image names
#        scripts/make-base-images.sh --storage-options  print the buildah storage options, one a line
# Environment: SEGSERVE_BUILDAH_ROOT (default /var/lib/segserve/buildah), SEGSERVE_BUILDAH_RUNROOT
#              (default /run/segserve/buildah), SEGSERVE_BUILDAH_DRIVER (default overlay when the kernel mounts it,
#              else vfs), DEBIAN_MIRROR (default http://deb.debian.org/debian), DOTNET_HOME (default: where the dotnet on
#              PATH is installed, else /usr/share/dotnet).
# Needs root, buildah and debootstrap (Debian: apt-get install buildah debootstrap).
set -euo pipefail

readonly ROOT="${SEGSERVE_BUILDAH_ROOT:-/var/lib/segserve/buildah}"
readonly RUNROOT="${SEGSERVE_BUILDAH_RUNROOT:-/run/segserve/buildah}"
readonly MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The SDK that runs here: the dotnet on PATH, wherever it is installed.
default_dotnet_home=/usr/share/dotnet
if command -v dotnet >/dev/null 2>&1; then default_dotnet_home="$(dirname "$(readlink -f "$(command -v dotnet)")")"; fi
readonly DOTNET_HOME="${DOTNET_HOME:-$default_dotnet_home}"
readonly LABEL=org.segserve.standin.inputs
readonly BASE_IMAGE=localhost/segserve-standin-base:bookworm
readonly SDK_IMAGE=localhost/segserve-standin-sdk:10.0
readonly ASPNET_IMAGE=localhost/segserve-standin-aspnet:10.0
# What Microsoft's Debian/Ubuntu images install for .NET (ICU, OpenSSL, zlib, tzdata, CA certificates).
readonly PACKAGES=ca-certificates,libicu72,libssl3,zlib1g,tzdata,libstdc++6,libgcc-s1

# The storage driver is fixed when the store is created: overlay where the kernel can mount it (copy-on-write, fast),
# else vfs (a full copy per layer, works anywhere).
storage_driver() {
  if [[ -n "${SEGSERVE_BUILDAH_DRIVER:-}" ]]; then echo "$SEGSERVE_BUILDAH_DRIVER"; return; fi
  if [[ -f "$ROOT/driver" ]]; then cat "$ROOT/driver"; return; fi
  local probe driver=vfs
  probe="$(mktemp -d)"
  mkdir -p "$probe"/{lower,upper,work,merged}
  if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
    umount "$probe/merged"
    driver=overlay
  fi
  rm -rf "$probe"
  mkdir -p "$ROOT"
  echo "$driver" > "$ROOT/driver"
  echo "$driver"
}

STORE=(--root "$ROOT/storage" --runroot "$RUNROOT" --storage-driver "$(storage_driver)")
if [[ "${1:-}" == "--storage-options" ]]; then
  printf '%s\n' "${STORE[@]}"
  exit 0
fi

for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || { echo "make-base-images: $tool is missing (apt-get install -y buildah debootstrap)" >&2; exit 2; }
done
[[ "$(id -u)" -eq 0 ]] || { echo "make-base-images: run as root (debootstrap and buildah's chroot isolation need it)" >&2; exit 2; }
[[ -x "$DOTNET_HOME/dotnet" ]] || { echo "make-base-images: no .NET SDK in $DOTNET_HOME (set DOTNET_HOME)" >&2; exit 2; }

bah() { buildah "${STORE[@]}" "$@"; }

# The inputs hash an existing image was made from, or nothing.
image_inputs() {
  bah inspect --type image --format "{{index .OCIv1.Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true
}

image_id() { bah inspect --type image --format '{{.FromImageID}}' "$1"; }

container=""
cleanup() { if [[ -n "$container" ]]; then bah rm "$container" >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT

# commit IMAGE HASH: labels the working container with its inputs, commits it as IMAGE and removes it.
commit() {
  bah config --label "$LABEL=$2" "$container"
  bah commit --quiet --rm "$container" "$1" >/dev/null
  container=""
  echo "built $1"
}

# ensure IMAGE HASH BUILDER: runs BUILDER unless IMAGE exists with the same inputs hash.
ensure() {
  if [[ "$(image_inputs "$1")" == "$2" ]]; then
    echo "cached $1"
    return
  fi
  local started=$SECONDS
  "$3" "$1" "$2"
  echo "  ($(( SECONDS - started )) s)"
}

build_base() {
  container="$(bah from scratch)"
  local mnt
  mnt="$(bah mount "$container")"
  debootstrap --variant=minbase --include="$PACKAGES" bookworm "$mnt" "$MIRROR" >/dev/null
  # An image carries no package cache or lists; apt-get update refills them when a later stage needs packages.
  rm -rf "$mnt"/var/cache/apt/archives/*.deb "$mnt"/var/lib/apt/lists/* "$mnt"/var/log/*.log
  bah umount "$container" >/dev/null
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash "$container"
  commit "$@"
}

# The user of Microsoft's .NET images: app, uid and gid 1654, with a home directory.
add_app_user() {
  bah run --isolation chroot "$container" -- sh -c \
    'groupadd --gid=1654 app && useradd --no-log-init --uid=1654 --gid=1654 --create-home app'
}

build_sdk() {
  container="$(bah from "$BASE_IMAGE")"
  local mnt
  mnt="$(bah mount "$container")"
  cp -a "$DOTNET_HOME" "$mnt/usr/share/dotnet"
  ln -s /usr/share/dotnet/dotnet "$mnt/usr/bin/dotnet"
  # Restores inside the build go out through this machine's network, so the stand-in trusts what this machine trusts
  # (a TLS-inspecting egress proxy's CA, say); a machine with direct access would not need it.
  cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
  bah umount "$container" >/dev/null
  add_app_user
  local sdk env=()
  sdk="$("$DOTNET_HOME/dotnet" --version)"
  if [[ -n "${NUGET_CERT_REVOCATION_MODE:-}" ]]; then env+=(--env "NUGET_CERT_REVOCATION_MODE=$NUGET_CERT_REVOCATION_MODE"); fi
  bah config --env APP_UID=1654 --env DOTNET_RUNNING_IN_CONTAINER=true --env DOTNET_NOLOGO=true \
    --env DOTNET_CLI_TELEMETRY_OPTOUT=1 --env DOTNET_GENERATE_ASPNET_CERTIFICATE=false \
    --env NUGET_XMLDOC_MODE=skip --env "DOTNET_SDK_VERSION=$sdk" "${env[@]}" "$container"
  commit "$@"
}

build_aspnet() {
  container="$(bah from "$BASE_IMAGE")"
  local mnt
  mnt="$(bah mount "$container")"
  mkdir -p "$mnt/usr/share/dotnet/shared"
  cp -a "$DOTNET_HOME"/{dotnet,host,LICENSE.txt,ThirdPartyNotices.txt} "$mnt/usr/share/dotnet/"
  cp -a "$DOTNET_HOME/shared/Microsoft.NETCore.App" "$DOTNET_HOME/shared/Microsoft.AspNetCore.App" "$mnt/usr/share/dotnet/shared/"
  ln -s /usr/share/dotnet/dotnet "$mnt/usr/bin/dotnet"
  bah umount "$container" >/dev/null
  add_app_user
  bah config --env APP_UID=1654 --env ASPNETCORE_HTTP_PORTS=8080 --env DOTNET_RUNNING_IN_CONTAINER=true \
    --env "DOTNET_VERSION=$runtime" --env "ASPNET_VERSION=$runtime" "$container"
  commit "$@"
}

runtime="$(find "$DOTNET_HOME/shared/Microsoft.AspNetCore.App" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)"

hash() { sha256sum | cut -c1-16; }
base_hash="$( { declare -f build_base; echo "$PACKAGES $MIRROR"; } | hash)"
ensure "$BASE_IMAGE" "$base_hash" build_base
base_id="$(image_id "$BASE_IMAGE")"

sdk_hash="$( { declare -f build_sdk add_app_user; echo "$base_id ${NUGET_CERT_REVOCATION_MODE:-}";
               "$DOTNET_HOME/dotnet" --list-sdks; "$DOTNET_HOME/dotnet" --list-runtimes;
               sha256sum /etc/ssl/certs/ca-certificates.crt; } | hash)"
ensure "$SDK_IMAGE" "$sdk_hash" build_sdk

aspnet_hash="$( { declare -f build_aspnet add_app_user; echo "$base_id"; "$DOTNET_HOME/dotnet" --list-runtimes; } | hash)"
ensure "$ASPNET_IMAGE" "$aspnet_hash" build_aspnet
