#!/usr/bin/env bash
# Provision the local Asterisk 22 test bed: a Debian root under asterisk/root holding
# Asterisk from Debian's packages, plus SIPp on the host. Idempotent: a second run that
# finds everything in place changes nothing and says so.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${ASTERISK_ROOT:-$here/root}"
suite="${ASTERISK_SUITE:-sid}"
stamp="$root/.provisioned"
packages="asterisk,asterisk-modules,asterisk-core-sounds-en-gsm"

fail() { echo "provision: $*" >&2; exit 1; }
say() { echo "provision: $*"; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (debootstrap and chroot need it)"
command -v apt-get >/dev/null || fail "apt-get not found: this script needs a Debian machine"

need_host=()
command -v debootstrap >/dev/null || need_host+=(debootstrap)
command -v sipp >/dev/null || need_host+=(sip-tester)
if [ "${#need_host[@]}" -gt 0 ]; then
    say "installing host packages: ${need_host[*]}"
    apt-get update -qq || fail "apt-get update failed: check the machine's package sources"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_host[@]}" >/dev/null \
        || fail "could not install ${need_host[*]} from the package sources"
fi
[ -f /usr/share/sip-tester/dtmf_2833_0.pcap ] || say "warning: SIPp's RFC 2833 recordings are missing"

if [ -f "$stamp" ] && [ -x "$root/usr/sbin/asterisk" ]; then
    say "Asterisk root already provisioned at $root ($(cat "$stamp")): nothing to do"
    exit 0
fi

# The mirror comes from the machine's own apt sources: no registry host is written here.
mirror="${ASTERISK_MIRROR:-}"
if [ -z "$mirror" ]; then
    mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '{print $2}' | grep -v security | head -n 1 || true)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1=="deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list || true)
fi
[ -n "$mirror" ] || fail "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; set ASTERISK_MIRROR"

# Paths mounted under the root (asterisk/ctl.sh bind-mounts /proc, /dev, the dialplans and
# the prompts there), deepest first. rm -rf must never run while one is mounted: a bind
# mount of the project's own files is on the same file system, so --one-file-system alone
# would not stop rm from deleting them through it.
mounts_under_root() {
    awk -v r="$root/" '{ gsub(/\\040/, " ", $2) } index($2 "/", r) == 1 { print $2 }' /proc/mounts \
        | sort -r
}

if [ -d "$root" ] && [ ! -f "$stamp" ]; then
    say "removing an unfinished root at $root"
    mounts_under_root | while IFS= read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
    [ -z "$(mounts_under_root)" ] || fail "cannot unmount everything under $root: $(mounts_under_root | tr '\n' ' ')"
    rm -rf --one-file-system "$root"
fi

say "building an Asterisk root from suite '$suite' at $root (about a minute)"
log="$(mktemp)"
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    fail "debootstrap of '$suite' from $mirror failed (log above; full log $log)"
fi
rm -f "$log"
[ -x "$root/usr/sbin/asterisk" ] || fail "debootstrap finished but $root/usr/sbin/asterisk is missing"

# Asterisk needs writable state directories inside the root. /var/run is an absolute
# symlink to /run: seen from the host it would point at the host's own /run, so the run
# directory is made at the root's real /run (asterisk/ctl.sh makes them all again on start).
mkdir -p "$root/var/lib/asterisk" "$root/run/asterisk" "$root/var/log/asterisk" \
         "$root/var/spool/asterisk"
version=$(chroot "$root" asterisk -V 2>/dev/null || echo unknown)
echo "$version" > "$stamp"
say "done: $version"
