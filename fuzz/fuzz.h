/* The fuzz targets' entry points. Each target file defines one function
 * that takes an input of exactly size bytes; libFuzzer's
 * LLVMFuzzerTestOneInput calls it in `make fuzz` builds (FUZZ_LIBFUZZER
 * defined, one target per binary), and tests/test-fuzz-replay calls all of
 * them on every corpus and regression file in the ordinary build. */
#ifndef CAPI11_FUZZ_H
#define CAPI11_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* fuzz/fuzz-blob.c: every parser of src/blob.h, with round trips. */
void fuzz_blob_one(const uint8_t *data, size_t size);
/* fuzz/fuzz-dump.c: the decoder behind `capi11-tool dump`. */
void fuzz_dump_one(const uint8_t *data, size_t size);
/* fuzz/fuzz-cert.c: the DER walk of KP_CERTIFICATE (src/cert.h). */
void fuzz_cert_one(const uint8_t *data, size_t size);
/* fuzz/fuzz-api.c: the data, blob and hash entry points with hostile lengths,
 * on a SoftHSM token made at the first call (nothing without SoftHSM). */
void fuzz_api_one(const uint8_t *data, size_t size);

/* A broken invariant is a finding: abort, so that libFuzzer saves the input
 * and the replay test fails, with or without a sanitizer in the build. */
#define fuzz_check(expr) \
	do { if (!(expr)) fuzz_fail(__FILE__, __LINE__, #expr); } while (0)

static inline _Noreturn void fuzz_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, expr);
	abort();
}

#endif
