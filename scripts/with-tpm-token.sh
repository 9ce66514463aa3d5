#!/usr/bin/env bash
# Runs a command beside a throwaway tpm2-pkcs11 token (Debian 12:
# libtpm2-pkcs11-1 1.9) on a software TPM: swtpm, with tpm2-abrmd as its
# resource manager on a private D-Bus session bus (straight to swtpm,
# tpm2_ptool runs out of TPM object contexts). Everything lives in one new
# directory under $TMPDIR (or /tmp): the TPM's state, the token store, the
# PIN file and the daemons' logs; nothing else on the machine is touched,
# so runs in parallel do not meet. The command sees:
#   TPM_PROV      the capi11 provider URI (token label "tpmtok"; the user
#                 PIN comes from a pin-source file, never from the URI)
#   TPM_MODULE    the module path
#   TPM_PIN_FILE  the file holding the user PIN
#   TPM_TOKEN     the token label
#   TPM2_PKCS11_STORE, TPM2_PKCS11_TCTI, TPM2TOOLS_TCTI   for the module
#                 and for tpm2_ptool / tpm2-tools run by the command
# The time the setup took goes to standard error. Exit status: the
# command's, or 2 when the token cannot be set up (the daemons' logs are
# then printed).
#
# Needs: swtpm swtpm-tools tpm2-abrmd libtss2-tcti-tabrmd0 libtpm2-pkcs11-1
# libtpm2-pkcs11-tools python3-tpm2-pkcs11-tools tpm2-tools dbus
# (scripts/install-deps.sh). Runs as any user; as root, tpm2-abrmd is
# told to allow it.
set -u
module=/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so
label=tpmtok
sopin=87654321
userpin=1234

fail() {
	echo "with-tpm-token.sh: $*" >&2
	exit 2
}
[[ $# -gt 0 ]] || fail "usage: with-tpm-token.sh CMD..."
[[ -e $module ]] || fail "tpm2-pkcs11 is not installed (scripts/install-deps.sh)"
for tool in swtpm swtpm_ioctl tpm2-abrmd tpm2_ptool tpm2_getrandom dbus-daemon; do
	command -v $tool >/dev/null || fail "$tool is missing (scripts/install-deps.sh)"
done

start=$(date +%s.%N)
dir=$(mktemp -d "${TMPDIR:-/tmp}/capi11-tpm.XXXXXX") || fail "mktemp"
swtpm_pid='' abrmd_pid='' bus_pid=''
# Whether the process runs: an exited one that no parent has reaped yet (the
# forked dbus-daemon's parent is not this script) is a zombie, gone too.
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}
stop() {
	local pid i
	for pid in $abrmd_pid $swtpm_pid $bus_pid; do
		kill "$pid" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	abrmd_pid='' swtpm_pid='' bus_pid=''
}
cmd_pid=''
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	[[ -n $cmd_pid ]] && kill "$cmd_pid" 2>/dev/null
	stop
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
setup_failed() {
	for f in "$dir"/*.log; do
		[[ -s $f ]] && { echo "--- $f" && cat "$f"; } >&2
	done
	fail "$*"
}

# The resource manager talks D-Bus: a session bus of its own, so that
# nothing of the machine's is used and runs in parallel do not meet. The
# daemon forks once it listens, having printed its address and pid.
dbus-daemon --session --fork --nopidfile --print-address=3 --print-pid=4 \
	3>"$dir/bus.address" 4>"$dir/bus.pid" </dev/null >/dev/null 2>"$dir/dbus.log" ||
	setup_failed "dbus-daemon does not start"
bus_pid=$(cat "$dir/bus.pid")
DBUS_SESSION_BUS_ADDRESS=$(cat "$dir/bus.address")
[[ -n $bus_pid && -n $DBUS_SESSION_BUS_ADDRESS ]] || setup_failed "dbus-daemon gave no address"
export DBUS_SESSION_BUS_ADDRESS

# swtpm on a free TCP port pair: a port taken by someone else makes it exit
# at once, so try a few. It is up once its control channel answers.
up=
for ((try = 0; try < 5 && !up; try++)); do
	port=$((20000 + RANDOM % 20000))
	swtpm socket --tpmstate dir="$dir" --tpm2 \
		--server type=tcp,port=$port,bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
		--flags not-need-init,startup-clear >"$dir/swtpm.log" 2>&1 &
	swtpm_pid=$!
	for ((i = 0; i < 50; i++)); do
		kill -0 $swtpm_pid 2>/dev/null || break
		if swtpm_ioctl --tcp 127.0.0.1:$((port + 1)) -g >/dev/null 2>&1; then
			up=1
			break
		fi
		sleep 0.1
	done
	[[ -n $up ]] || stop
done
[[ -n $up ]] || setup_failed "swtpm does not start"

# tpm2-abrmd refuses root unless told; it is up once a TPM command passes
# through it.
export TPM2TOOLS_TCTI="tabrmd:bus_type=session" TPM2_PKCS11_TCTI="tabrmd:bus_type=session"
root_flag=
[[ $(id -u) -eq 0 ]] && root_flag=--allow-root
tpm2-abrmd --session --tcti=swtpm:host=127.0.0.1,port="$port" $root_flag >"$dir/abrmd.log" 2>&1 &
abrmd_pid=$!
up=
for ((i = 0; i < 100; i++)); do
	kill -0 $abrmd_pid 2>/dev/null || break
	if tpm2_getrandom 4 >/dev/null 2>&1; then
		up=1
		break
	fi
	sleep 0.1
done
[[ -n $up ]] || setup_failed "tpm2-abrmd does not start"

# The token: a store of its own (the module reads TPM2_PKCS11_STORE), one
# primary object, one token.
export TPM2_PKCS11_STORE=$dir/store
mkdir -p "$TPM2_PKCS11_STORE"
{ tpm2_ptool init --path="$TPM2_PKCS11_STORE" &&
	tpm2_ptool addtoken --pid=1 --sopin=$sopin --userpin=$userpin --label=$label \
		--path="$TPM2_PKCS11_STORE"; } >"$dir/ptool.log" 2>&1 ||
	setup_failed "tpm2_ptool cannot make the token"

(umask 077 && printf '%s' "$userpin" >"$dir/pin") || setup_failed "cannot write the PIN file"
export TPM_MODULE=$module TPM_TOKEN=$label TPM_PIN_FILE=$dir/pin
export TPM_PROV="pkcs11:token=$label?module-path=$module&pin-source=file:$dir/pin"
awk -v s="$start" -v e="$(date +%s.%N)" \
	'BEGIN { printf "with-tpm-token.sh: token ready in %.2f s\n", e - s }' >&2

# In the background, so that a signal to this script ends the run (and the
# daemons) at once rather than after the command; stdin stays the
# script's.
"$@" <&0 &
cmd_pid=$!
wait $cmd_pid
rc=$?
cmd_pid=''
exit $rc
