# The telemetry tests scrape the service with a real Prometheus (Debian's package; the test skips without it).
if [ ! -x /usr/bin/prometheus ]; then
  apt_install prometheus || echo "warning: could not install prometheus; the Prometheus scrape test will skip." >&2
fi
