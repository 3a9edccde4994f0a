#!/usr/bin/env bash
# The system programs the tests drive for real, from Debian's packages; `make test` runs this before pytest.
#   chromium      browser tests: Playwright's Python package drives /usr/bin/chromium. Never `playwright install`:
#                 this network is closed, and the distribution's browser is what a fresh machine can get.
#   redis-server  the tests start their own, on free ports (the machine's Redis on 6379 is not used).
#   spamassassin  scores a rendered email (local rules only).
#   postgresql    the server programs (initdb, pg_ctl): when nothing lets user postgres in on 127.0.0.1:5432, the
#                 tests start a throwaway cluster of their own (tests/postgres.py), so the machine's is never touched.
# As root, whatever is missing is installed. Otherwise this prints the command to run, and the tests that need a
# missing part skip, saying so. Under CI=true a part still missing fails here, so CI can't pass with tests skipped.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v spamassassin >/dev/null || missing+=(spamassassin)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)

[ ${#missing[@]} -eq 0 ] && exit 0

# Recommends left out: for chromium they are a desktop (GTK, notifications, upower); a font comes with its Depends.
install=(apt-get install --yes --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "system parts: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    "${install[@]}"
    exit 0
fi

echo "system parts missing: ${missing[*]}. Install them with:" >&2
echo "    sudo apt-get update && sudo ${install[*]}" >&2
if [ "${CI:-}" = true ]; then
    echo "CI=true: a missing part fails the run instead of skipping its tests." >&2
    exit 1
fi
echo "(the tests that need them will skip)" >&2
