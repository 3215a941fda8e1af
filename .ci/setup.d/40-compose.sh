# The compose stack's tests validate docker-compose.yml with Compose itself: Debian's docker-compose (v1) checks the
# file against Compose's schema without a Docker engine (the test skips without it, or uses `docker compose` if present).
if ! command -v docker-compose >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1; then
  apt_install docker-compose || echo "warning: could not install docker-compose; Compose's validation of docker-compose.yml will skip." >&2
fi
