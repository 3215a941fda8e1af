# The evaluation store's contract tests and the two-replica test run against a real PostgreSQL server, which the tests
# start themselves (initdb and pg_ctl in a temporary folder, on loopback): only Debian's binaries are needed, no
# system service (apt_install keeps it from starting one). Without them those tests skip, saying why.
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  apt_install postgresql || echo "warning: could not install postgresql; the PostgreSQL store tests will skip." >&2
fi
