#!/bin/sh
# on-card.sh PROFILE PROGRAM: runs the test program tests/PROGRAM once more
# on one of the shim's card profiles over SoftHSM (tpm, piv or readonly;
# CAPI11_TEST_PROFILE in tests/testutil.h), from the build directory as
# make check runs it.
CAPI11_TEST_PROFILE=$1
export CAPI11_TEST_PROFILE
exec "./tests/$2"
