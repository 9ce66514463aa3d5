#!/bin/sh
# tests/test-matrix on the shim's piv card profile.
exec sh "${srcdir:-.}/tests/on-card.sh" piv test-matrix
