# The browser tests (tests/Api.FunctionalTests/Browser) drive Debian's chromium, headless, through Playwright for .NET
# (Playwright's own browser download is not used). The tests skip without it.
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium || echo "warning: could not install chromium; the browser tests will skip." >&2
fi
