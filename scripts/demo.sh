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
softhsm2-util --init-token --free --label capi11-demo --pin 1234 --so-pin 5678 >/dev/null
printf '1234' > "$dir/pin"
# No system configuration leaks into the demonstration.
export CAPI11_CONF=/dev/null
"$demo" "pkcs11:token=capi11-demo?module-path=$module&pin-source=file:$dir/pin"
