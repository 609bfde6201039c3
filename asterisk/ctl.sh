#!/usr/bin/env bash
# Run the local Asterisk 22 test bed (the Debian root built by asterisk/provision.sh).
#
#   asterisk/ctl.sh start      deploy the project's configuration, mount, start, wait for boot
#   asterisk/ctl.sh stop       stop Asterisk gracefully (kill if it hangs), unmount everything
#   asterisk/ctl.sh restart    stop, then start
#   asterisk/ctl.sh status     running/stopped, pid, uptime; exit 0 running, 3 stopped,
#                              1 a process is there but does not answer on its control socket
#   asterisk/ctl.sh cli "CMD"  run an Asterisk CLI command (exit 3 when stopped)
#
# Environment:
#   ASTERISK_ROOT            the root (default: asterisk/root next to this script)
#   ASTERISK_START_TIMEOUT   seconds to wait for a full boot and AMI (default 30)
#   IVR_ENGINE_SETTINGS, IVR_ENGINE_<SECTION>__<KEY>
#                            which engine settings manager.conf and ivr_globals.conf are
#                            rendered from (see ivr_engine/settings.py)
#
# Asterisk runs as root inside the chroot, without -U (see the notes in asterisk.conf), with
# /proc, /dev, the project's dialplans/ (read-only) and prompts/sounds/<lang> bind-mounted.
# Its standard output goes to asterisk/run/asterisk.log, its log file is
# <root>/var/log/asterisk/messages. Does not depend on the current directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/.." && pwd)"
root="${ASTERISK_ROOT:-$here/root}"
run="$here/run"
pidfile="$run/asterisk.pid"
outlog="$run/asterisk.log"
messages="$root/var/log/asterisk/messages"
start_timeout="${ASTERISK_START_TIMEOUT:-30}"
sounds="/usr/share/asterisk/sounds"
prompt_langs=(en zh)

fail() { echo "asterisk/ctl.sh: $*" >&2; exit 1; }
say() { echo "asterisk/ctl.sh: $*"; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (chroot and mount need it)"

provisioned() { [ -f "$root/.provisioned" ] && [ -x "$root/usr/sbin/asterisk" ]; }

require_provisioned() {
    provisioned || fail "no Asterisk root at $root: run asterisk/provision.sh (or make setup) first"
}

# --- Processes -----------------------------------------------------------------------------

# Is $1 a live process whose root directory is our root? (Guards against a reused pid.)
is_ours() {
    local pid="$1" proc_root
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    proc_root="$(readlink "/proc/$pid/root" 2>/dev/null)" || return 1
    [ "$proc_root" = "$(readlink -m "$root")" ] || return 1
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in asterisk) return 0 ;; *) return 1 ;; esac
}

# Is $1 a live (not zombie) process?
alive() {
    local state
    state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# The pid of the running Asterisk of this root, or nothing: from our pid file, Asterisk's
# own, or (both lost) any asterisk process whose root directory is this root.
running_pid() {
    local pid f p
    for f in "$pidfile" "$root/run/asterisk/asterisk.pid"; do
        [ -f "$f" ] || continue
        pid="$(tr -dc '0-9' <"$f")"
        if is_ours "$pid"; then
            echo "$pid"
            return 0
        fi
    done
    for p in /proc/[0-9]*; do
        pid="${p#/proc/}"
        if [ "$(cat "$p/comm" 2>/dev/null)" = asterisk ] && is_ours "$pid"; then
            echo "$pid"
            return 0
        fi
    done
    return 1
}

# Run a CLI command against the running instance (through its control socket in the root).
rx() { timeout "${RX_TIMEOUT:-10}" chroot "$root" /usr/sbin/asterisk -rx "$1"; }

# --- Mounts -----------------------------------------------------------------------------------

# Everything mounted under the root, deepest first.
mounts_under_root() {
    local r
    r="$(readlink -m "$root")"
    awk -v r="$r/" '{ gsub(/\\040/, " ", $2) } index($2 "/", r) == 1 { print $2 }' /proc/mounts \
        | sort -r
}

unmount_all() {
    local m left
    while IFS= read -r m; do
        [ -n "$m" ] || continue
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(mounts_under_root)
    left="$(mounts_under_root)"
    [ -z "$left" ] || fail "could not unmount: $(echo "$left" | tr '\n' ' ')"
}

bind_mount() { # SOURCE TARGET [ro]
    local src="$1" dst="$2"
    mkdir -p "$dst"
    if ! mountpoint -q "$dst"; then
        mount --bind "$src" "$dst"
        if [ "${3:-}" = ro ]; then
            mount -o remount,bind,ro "$dst"
        fi
    fi
}

# Follow symlinks of a path INSIDE the root, reading absolute link targets as paths inside
# the root (sounds/en -> /etc/alternatives/asterisk-prompt-en -> .../en_US_f_Allison).
resolve_in_root() {
    local p="$1" target hops=0
    while [ -L "$root$p" ]; do
        target="$(readlink "$root$p")"
        case "$target" in
            /*) p="$target" ;;
            *) p="$(dirname "$p")/$target" ;;
        esac
        p="$(realpath -m -s "$p")"
        hops=$((hops + 1))
        [ "$hops" -lt 20 ] || fail "too many symlinks resolving $1 inside $root"
    done
    echo "$p"
}

# --- Configuration ----------------------------------------------------------------------------

deploy_config() {
    local etc="$root/etc/asterisk" python
    # Stale mounts (a crashed run) must go before anything under etc/ is removed.
    unmount_all
    if [ ! -e "$root/etc/asterisk.dist" ] && [ -d "$etc" ]; then
        say "keeping Debian's stock configuration in $root/etc/asterisk.dist"
        mv "$etc" "$root/etc/asterisk.dist"
    fi
    mkdir -p "$etc"
    # Remove what a previous start deployed; dialplans/ is only ever an (unmounted) mount point.
    find "$etc" -mindepth 1 -maxdepth 1 ! -name dialplans -exec rm -rf {} +
    [ ! -d "$etc/dialplans" ] || rmdir "$etc/dialplans" 2>/dev/null \
        || fail "$etc/dialplans is not an empty mount point: refusing to touch it"
    cp -r "$here/etc/." "$etc/"

    python="$project/.venv/bin/python"
    [ -x "$python" ] || python="python3"
    # Render manager.conf and ivr_globals.conf from the engine's settings (the settings file
    # and overrides come from IVR_ENGINE_* in the environment). Prints the AMI host and port.
    ami="$(cd "$project" && PYTHONPATH="$project${PYTHONPATH:+:$PYTHONPATH}" "$python" -c '
import sys
from pathlib import Path
from ivr_engine.asterisk_conf import render_globals_conf, render_manager_conf
from ivr_engine.settings import SettingsError, load_settings
try:
    settings = load_settings()
except SettingsError as exc:
    sys.exit(f"engine settings: {exc}")
etc = Path(sys.argv[1])
(etc / "manager.conf").write_text(render_manager_conf(settings))
(etc / "ivr_globals.conf").write_text(render_globals_conf(settings))
print(settings.ami.host, settings.ami.port)
' "$etc")" || fail "could not render manager.conf and ivr_globals.conf from the engine settings"
    chmod 600 "$etc/manager.conf"
    ami_host="${ami% *}"
    ami_port="${ami#* }"
    case "$ami_host" in 0.0.0.0 | "") ami_host=127.0.0.1 ;; esac
}

mount_all() {
    local lang src dir
    bind_mount /proc "$root/proc"
    # Read-only: device nodes stay usable (/dev/null, /dev/urandom), but nothing run in or
    # against the root (rm -rf of a root still mounted, say) can delete the host's /dev.
    bind_mount /dev "$root/dev" ro
    bind_mount "$project/dialplans" "$root/etc/asterisk/dialplans" ro
    for lang in "${prompt_langs[@]}"; do
        src="$project/prompts/sounds/$lang"
        mkdir -p "$src"
        if [ -e "$root$sounds/$lang" ] || [ -L "$root$sounds/$lang" ]; then
            dir="$(resolve_in_root "$sounds/$lang")"
        else
            dir="$sounds/$lang"
        fi
        mkdir -p "$root$dir"
        bind_mount "$src" "$root$dir/hotline" ro
    done
}

make_state_dirs() {
    # /var/run is an absolute symlink to /run inside the root: create the real directory.
    mkdir -p "$root/run/asterisk" "$root/var/lib/asterisk" "$root/var/log/asterisk" \
        "$root/var/spool/asterisk" "$root/var/cache/asterisk" "$run"
    rm -f "$root/run/asterisk/asterisk.ctl" "$root/run/asterisk/asterisk.pid"
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

show_logs() {
    echo "--- last lines of $outlog ---" >&2
    tail -n 20 "$outlog" >&2 2>/dev/null || true
    echo "--- last lines of $messages ---" >&2
    tail -n 30 "$messages" >&2 2>/dev/null || true
}

# --- Commands -----------------------------------------------------------------------------

cmd_start() {
    local pid deadline booted=no
    require_provisioned
    if pid="$(running_pid)"; then
        say "Asterisk is already running (pid $pid): nothing to do"
        return 0
    fi
    deploy_config
    if port_open "$ami_host" "$ami_port"; then
        fail "something else already listens on the AMI port $ami_host:$ami_port"
    fi
    make_state_dirs
    mount_all
    : >"$outlog"
    : >"$messages"
    # -f: no fork (our background job is Asterisk itself); -n: no colours. setsid detaches
    # it from the caller's session so it outlives the shell (and pytest) that started it.
    # fd 9 (the lock) must not leak into Asterisk, or it would hold the lock for its lifetime.
    setsid chroot "$root" /usr/sbin/asterisk -f -n </dev/null >>"$outlog" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$pidfile"
    deadline=$((SECONDS + start_timeout))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! alive "$pid"; then
            show_logs
            rm -f "$pidfile"
            unmount_all
            fail "Asterisk exited during start (logs above)"
        fi
        if [ "$booted" = no ] && RX_TIMEOUT=5 rx "core waitfullybooted" >/dev/null 2>&1; then
            booted=yes
        fi
        if [ "$booted" = yes ] && port_open "$ami_host" "$ami_port"; then
            is_ours "$pid" || fail "pid $pid is not the Asterisk of $root"
            say "Asterisk started (pid $pid): $(rx 'core show version' 2>/dev/null | head -n 1)"
            say "SIP udp 127.0.0.1:5060, AMI $ami_host:$ami_port, log $messages"
            return 0
        fi
        sleep 0.2
    done
    show_logs
    say "Asterisk did not boot fully with AMI on $ami_host:$ami_port within ${start_timeout}s: stopping it" >&2
    cmd_stop >&2 || true
    exit 1
}

cmd_stop() {
    local pid waited
    if pid="$(running_pid)"; then
        rx "core stop now" >/dev/null 2>&1 || true
        for waited in $(seq 1 50); do
            is_ours "$pid" || break
            sleep 0.2
        done
        if is_ours "$pid"; then
            say "Asterisk (pid $pid) ignores 'core stop now': sending SIGTERM"
            kill -TERM "$pid" 2>/dev/null || true
            for waited in $(seq 1 25); do
                is_ours "$pid" || break
                sleep 0.2
            done
        fi
        if is_ours "$pid"; then
            say "Asterisk (pid $pid) still running: sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
        fi
        is_ours "$pid" && fail "could not stop Asterisk (pid $pid)"
        say "Asterisk stopped (was pid $pid)"
    else
        say "Asterisk is not running"
    fi
    rm -f "$pidfile"
    if provisioned || [ -d "$root" ]; then
        unmount_all
    fi
}

cmd_status() {
    local pid uptime
    if ! pid="$(running_pid)"; then
        echo "stopped"
        if [ -n "$(mounts_under_root 2>/dev/null)" ]; then
            echo "(stale mounts under $root: asterisk/ctl.sh stop removes them)"
        fi
        exit 3
    fi
    if ! uptime="$(rx "core show uptime")"; then
        echo "running (pid $pid) but not answering on its control socket"
        exit 1
    fi
    echo "running (pid $pid)"
    echo "$uptime"
}

cmd_cli() {
    [ "$#" -ge 1 ] || fail "usage: asterisk/ctl.sh cli \"CLI COMMAND\""
    require_provisioned
    running_pid >/dev/null || { echo "asterisk/ctl.sh: Asterisk is not running" >&2; exit 3; }
    rx "$*"
}

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
}

# One command at a time: two concurrent starts would race on the mounts and the pid file.
mkdir -p "$run"
exec 9>"$run/ctl.lock"
flock -w 120 9 || fail "another asterisk/ctl.sh is still running"

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    cli) shift; cmd_cli "$@" ;;
    *) usage ;;
esac
