#!/bin/sh
# The main job on a throwaway SoftHSM token: a token is made in a temporary
# directory, a Windows CryptoAPI program runs against it, the token is removed.
#   scripts/demo.sh <keyset-demo binary> <SoftHSM module>
set -eu
demo=$1
module=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/capi11-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
mkdir "$dir/tokens"
cat > "$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
CONF
export SOFTHSM2_CONF="$dir/softhsm2.conf"
# No PIN on any command line, where every user can read it with ps:
# softhsm2-util prompts for the SO PIN and the user PIN (each twice) and reads
# them only from a terminal, so script(1) gives it one and the PINs go through
# a pipe. Its prompt does not flush what was typed ahead.
printf '5678\n5678\n1234\n1234\n' |
	script -qec "softhsm2-util --init-token --free --label capi11-demo" /dev/null >/dev/null
(umask 077 && printf '1234' > "$dir/pin")
# No system configuration leaks into the demonstration.
export CAPI11_CONF=/dev/null
"$demo" "pkcs11:token=capi11-demo?module-path=$module&pin-source=file:$dir/pin"
