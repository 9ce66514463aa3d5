/* The benchmark's shared pieces: timing (timing.c), the throwaway token
 * (setup.c), the raw PKCS#11 side (raw.c) and the capi11 side (capi.c). */
#ifndef CAPI11_BENCH_H
#define CAPI11_BENCH_H

#include <p11-kit/pkcs11.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_PIN "1234"
#define BENCH_SO_PIN "5678"
#define BENCH_CONTAINER "bench-container"   /* not hex: found by label only */
#define BENCH_DATA_LEN 4096
#define BENCH_HASH_LEN 65536       /* hash-sha256-64k */
#define BENCH_SIGN_LEN 1024        /* sign-rsa2048: the message signed */

/* One timed call: 0 on success, else the failing error code (a Windows
 * code for the capi11 side, a CK_RV for the raw side). */
typedef uint32_t (*bench_fn)(void *arg);

struct bench_side {
	const char *label;         /* column heading: "capi11", "raw", "2 threads"... */
	bench_fn fn;
	void *arg;                 /* per thread when threads > 1 */
	void **thread_args;
	unsigned threads;          /* 0 or 1: the calling thread */
};

struct bench_params {
	unsigned rounds;
	double slice_seconds;      /* time each side runs per round */
	unsigned long iterations;  /* instead: calls per round (profiling) */
};

struct bench_result {
	double median_a, median_b;  /* ops/s */
	double min_a, max_a, min_b, max_b;
	bool failed;
	char side;                 /* 'a' or 'b': which one failed */
	uint32_t error;
};

/* Runs a, b, a, b... for params->rounds rounds and takes the median
 * ops/s of each. A failing call stops the comparison and is reported. */
void bench_compare(const struct bench_params *params, const struct bench_side *a,
		   const struct bench_side *b, struct bench_result *out);
double bench_now(void);
/* Set by SIGINT, SIGTERM and SIGHUP: slices end at once, so that the
 * program still removes its token on the way out. */
extern volatile sig_atomic_t bench_interrupted;

/* The throwaway token: a private SoftHSM configuration in a temporary
 * directory, SOFTHSM2_CONF pointing at it, one token initialised with
 * softhsm2-util. Returns false (with a message on stderr) on failure. */
bool setup_token(const char *label);
/* The file holding the token's user PIN, made by setup_token. */
const char *setup_pin_file(void);
void setup_cleanup(void);

/* The raw side: the module loaded with dlopen, sessions opened directly. */
struct raw;
struct raw *raw_new(const char *module_path, const char *token_label, uint32_t *error);
void raw_free(struct raw *raw);
uint32_t raw_public_blob(void *raw);
uint32_t raw_simple_export(void *raw);
uint32_t raw_simple_import(void *raw);
uint32_t raw_symwrap_export(void *raw);
uint32_t raw_plaintext(void *raw);
uint32_t raw_open_find_close(void *raw);
uint32_t raw_slot_open_close(void *raw);
uint32_t raw_encrypt(void *raw);
uint32_t raw_hash(void *raw);
uint32_t raw_sign(void *raw);

/* The capi11 side. */
struct capi;
struct capi *capi_new(const char *uri, uint32_t *error);
void capi_free(struct capi *capi);
/* A second context on the same container, for the thread comparison. */
struct capi *capi_new_second(const char *uri, uint32_t *error);
uint32_t capi_public_blob(void *capi);
uint32_t capi_simple_export(void *capi);
uint32_t capi_simple_size(void *capi);
uint32_t capi_simple_import(void *capi);
uint32_t capi_symwrap_export(void *capi);
uint32_t capi_plaintext(void *capi);
uint32_t capi_acquire_release(void *capi);
uint32_t capi_acquire_release_verify(void *capi);
uint32_t capi_encrypt(void *capi);
uint32_t capi_hash(void *capi);
uint32_t capi_sign(void *capi);

/* The companion rows (companion.c): capi11 on the bench token behind the
 * test shim as a card without AES and C_UnwrapKey, its session keys on the
 * companion (softokn); raw: the same calls on SoftHSM and softokn. */
struct companion;
struct companion *companion_new(const char *shim_path, const char *card_uri,
				const char *token_label, uint32_t *error);
void companion_free(struct companion *c);
uint32_t capi_simple_import_card(void *c);
uint32_t raw_simple_import_card(void *c);
uint32_t capi_encrypt_companion(void *c);
uint32_t raw_encrypt_companion(void *c);

#endif
