#!/bin/sh
# tests/test-matrix on the shim's readonly card profile.
exec sh "${srcdir:-.}/tests/on-card.sh" readonly test-matrix
