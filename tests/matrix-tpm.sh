#!/bin/sh
# tests/test-matrix on the shim's tpm card profile.
exec sh "${srcdir:-.}/tests/on-card.sh" tpm test-matrix
