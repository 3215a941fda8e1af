# Helpers for .ci/run and its setup steps (.ci/setup.d/*.sh, sourced in name order).

# as_root CMD...: runs CMD as root (directly, or through password-less sudo); fails when neither is possible.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}

# apt_install PACKAGE...: installs Debian packages without starting their system services (policy-rc.d refuses every
# start while apt runs), updating the package lists once if the first try fails. Returns non-zero on failure.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  local policy=/usr/sbin/policy-rc.d placed="" status=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod +x "$policy" && placed=1
  fi
  { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 \
      || { as_root apt-get update >/dev/null 2>&1 \
           && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; }; } \
    || status=$?
  if [ -n "$placed" ]; then as_root rm -f "$policy"; fi
  return "$status"
}
