#!/bin/sh
# tests/test-cipher on the shim's tpm card profile.
exec sh "${srcdir:-.}/tests/on-card.sh" tpm test-cipher
