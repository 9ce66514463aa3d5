#!/bin/sh
# Installs the Debian 12 packages capi11 builds, tests and runs with.
set -eu
packages="build-essential autoconf automake libtool pkg-config
	libp11-kit-dev p11-kit p11-kit-modules softhsm2 opensc opensc-pkcs11
	libcunit1-dev libssl-dev openssl
	valgrind clang libclang-rt-14-dev
	strace bsdutils"
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
else
	sudo="sudo"
fi
$sudo apt-get update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y $packages
