#!/usr/bin/env bash
# Runs a command beside a throwaway openCryptoki software token (Debian 12:
# openCryptoki 3.8.1, the "IBM SoftTok" PKCS11_SW.so behind the API library
# PKCS11_API.so, slot 3 of Debian's default opencryptoki.conf), served by
# pkcsslotd. The command sees:
#   OCK_PROV     the capi11 provider URI (token label "ocktok"; the user PIN
#                comes from a pin-source file, never from the URI)
#   OCK_MODULE   the module path
#   OCK_PIN_FILE the file holding the user PIN
#
# openCryptoki 3.8 keeps its one software token in fixed places, so this
# script is for root on a machine of its own (CI, a container): it WIPES
# /var/lib/opencryptoki/swtok and /dev/shm/var.lib.opencryptoki.swtok,
# initialises a fresh token, starts pkcsslotd (stopping one that runs first:
# the daemon holds token state in shared memory) and stops it at the end.
# Runs are serialised by a lock file. Exit status: the command's, or 2 when
# the token cannot be set up.
#
# Needs: opencryptoki libopencryptoki0 (scripts/install-deps.sh).
set -u
module=/usr/lib/x86_64-linux-gnu/pkcs11/PKCS11_API.so
slot=3
tokdir=/var/lib/opencryptoki/swtok
sopin=76543210
userpin=1234

fail() {
	echo "with-opencryptoki.sh: $*" >&2
	exit 2
}
[[ $# -gt 0 ]] || fail "usage: with-opencryptoki.sh CMD..."
[[ $(id -u) -eq 0 ]] || fail "runs as root (it owns openCryptoki's token files and pkcsslotd)"
[[ -e $module ]] || fail "openCryptoki is not installed (apt-get install opencryptoki libopencryptoki0)"
command -v pkcsslotd >/dev/null && command -v pkcsconf >/dev/null ||
	fail "pkcsslotd or pkcsconf is missing"

exec 9>/run/lock/capi11-with-opencryptoki.lock
flock 9

stop_slotd() {
	local pid i
	pid=$(pgrep -x pkcsslotd) || return 0
	kill "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
}

work=$(mktemp -d) || fail "mktemp"
cleanup() {
	stop_slotd
	rm -rf "$work"
}
trap cleanup EXIT

systemd-tmpfiles --create /usr/lib/tmpfiles.d/opencryptoki.conf >/dev/null 2>&1 ||
	mkdir -p /var/lock/opencryptoki/swtok "$tokdir/TOK_OBJ"
stop_slotd
rm -rf "$tokdir"/NVTOK.DAT "$tokdir"/MK_SO "$tokdir"/MK_USER "$tokdir"/TOK_OBJ/* \
	/dev/shm/var.lib.opencryptoki.swtok
pkcsslotd || fail "pkcsslotd does not start"
# pkcsslotd is up once its socket answers: pkcsconf -t sees the slot.
for ((i = 0; i < 50; i++)); do
	pkcsconf -t -c $slot >/dev/null 2>&1 && break
	sleep 0.2
done
# Factory SO PIN 87654321; openCryptoki wants both PINs changed from the
# defaults before the token can be used.
{ echo ocktok | pkcsconf -I -c $slot -S 87654321 &&
	pkcsconf -P -c $slot -S 87654321 -n $sopin &&
	pkcsconf -u -c $slot -S $sopin -n 12345678 &&
	pkcsconf -p -c $slot -U 12345678 -n $userpin; } >"$work/setup.log" 2>&1 ||
	{ cat "$work/setup.log" >&2; fail "openCryptoki token setup failed"; }

printf '%s' "$userpin" >"$work/pin"
chmod 600 "$work/pin"
export OCK_MODULE=$module
export OCK_PIN_FILE=$work/pin
export OCK_PROV="pkcs11:token=ocktok?module-path=$module&pin-source=file:$work/pin"
"$@"
