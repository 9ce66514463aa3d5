#!/bin/sh
# tests/test-cipher on the shim's piv card profile.
exec sh "${srcdir:-.}/tests/on-card.sh" piv test-cipher
