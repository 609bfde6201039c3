#!/usr/bin/env bash
# Run the Asterisk test bed and the engine together in the foreground (what `make run` does).
# Ctrl-C reaches the engine, which lets live calls finish; then Asterisk is stopped too.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

.venv/bin/ivr-engine check config/menus || exit 1
.venv/bin/ivr-engine data load-demo || exit 1
bash asterisk/ctl.sh start || exit 1
trap 'bash asterisk/ctl.sh stop' EXIT
# This script must outlive Ctrl-C to stop Asterisk: note it, and let the engine finish.
trap 'echo "run: stopping the engine, then Asterisk"' INT TERM
echo "run: hotline on sip:10086@127.0.0.1:5060, health at http://127.0.0.1:8080/health"
.venv/bin/ivr-engine run
