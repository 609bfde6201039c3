#!/usr/bin/env bash
# Install what the engine and its test bed need on a Debian 12 machine (run as root), then
# the Python environment. Idempotent: what is already there is left alone.
#   scripts/setup-host.sh          engine, prompts and the Asterisk test bed
#   scripts/setup-host.sh --test   the same plus PostgreSQL and Chromium for the test suite
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

with_tests=no
[ "${1:-}" = "--test" ] && with_tests=yes

fail() { echo "setup: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (it installs Debian packages and builds the Asterisk root)"

packages=()
command -v python3 >/dev/null || packages+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
command -v espeak-ng >/dev/null || packages+=(espeak-ng)
command -v sox >/dev/null || packages+=(sox)
command -v debootstrap >/dev/null || packages+=(debootstrap)
command -v sipp >/dev/null || packages+=(sip-tester)
command -v make >/dev/null || packages+=(make)
if [ "$with_tests" = yes ] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    packages+=(postgresql)
fi
# The wallboard's page test: Debian's headless browser and its matching driver.
if [ "$with_tests" = yes ]; then
    [ -x /usr/bin/chromium ] || packages+=(chromium)
    [ -x /usr/bin/chromedriver ] || packages+=(chromium-driver)
fi
if [ "${#packages[@]}" -gt 0 ]; then
    echo "setup: installing ${packages[*]}"
    apt-get update -qq || fail "apt-get update failed: check the package sources"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null \
        || fail "could not install: ${packages[*]}"
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv || fail "python3 -m venv failed"
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e '.[dev]' || fail "pip install of the project failed"
    touch "$stamp"
fi

bash asterisk/provision.sh
.venv/bin/ivr-engine prompts build
[ "$with_tests" = yes ] && bash scripts/ensure-postgres.sh
echo "setup: ready"
