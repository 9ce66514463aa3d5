#!/bin/sh
# tests/test-cipher on the shim's readonly card profile.
exec sh "${srcdir:-.}/tests/on-card.sh" readonly test-cipher
