#!/bin/sh
# Installs the Debian 12 packages capi11 builds, tests and runs with.
# Installing packages needs root: run as root it installs them; run as
# anyone else it prints the command to run as root and fails, without
# calling sudo on its own.
set -eu
packages="build-essential autoconf automake libtool pkg-config
	libp11-kit-dev p11-kit p11-kit-modules softhsm2 opensc opensc-pkcs11
	libcunit1-dev libssl-dev openssl libnss3
	opencryptoki libopencryptoki0 procps util-linux
	swtpm swtpm-tools tpm2-abrmd libtss2-tcti-tabrmd0 libtpm2-pkcs11-1
	libtpm2-pkcs11-tools python3-tpm2-pkcs11-tools tpm2-tools dbus
	valgrind clang libclang-rt-dev
	strace bsdutils gnutls-bin
	wine wine64 wine64-tools libwine-dev gcc-mingw-w64-x86-64"
# shellcheck disable=SC2086
packages=$(echo $packages)
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: installing packages needs root; run as root:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $packages" >&2
	exit 1
fi
apt-get update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y $packages
