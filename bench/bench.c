/* capi11-bench: each CryptoAPI operation against the raw PKCS#11 calls
 * that do the same work on the same throwaway SoftHSM token, interleaved,
 * medians of several rounds. Usage: capi11-bench [--quick] [--rounds N]
 * [--slice SECONDS] [--iterations N] [--only OPERATION]; --iterations
 * makes each slice a fixed number of calls, for callgrind. The last lines are
 * "ratio <operation> <a over b>" (or "ratio <operation> n/a ..."), for
 * scripts; docs/PERFORMANCE.md explains each comparison. */
#include "config.h"
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define TOKEN_LABEL "capi11-bench"
#define URI_MAX 4096

struct op {
	const char *name;
	const char *a_label, *b_label;
	bench_fn a_fn, b_fn;
	double target;              /* a / b should reach this */
	bool capi_is_b;             /* b is capi11 too (a capi11-against-itself row) */
	bool raw_is_a;              /* a is the raw side (reference rows) */
	bool threads;               /* a runs on two contexts in two threads */
	bool info;                  /* a reference row: no target, no ratio line */
	bool companion;             /* both sides on the companion setup (companion.c) */
};

#define ROW(n, al, bl, af, bf, t) .name = n, .a_label = al, .b_label = bl, .a_fn = af, \
	.b_fn = bf, .target = t

static const struct op ops[] = {
	{ ROW("publickeyblob", "capi11", "raw", capi_public_blob, raw_public_blob, 0.95) },
	{ ROW("simpleblob-export", "capi11", "raw", capi_simple_export, raw_simple_export, 0.95) },
	{ ROW("simpleblob-import", "capi11", "raw", capi_simple_import, raw_simple_import, 0.95) },
	{ ROW("symwrap-export", "capi11", "raw", capi_symwrap_export, raw_symwrap_export, 0.95) },
	{ ROW("plaintextblob", "capi11", "raw", capi_plaintext, raw_plaintext, 0.95) },
	/* A size query never wraps: it must cost next to nothing beside the
	 * export itself. */
	{ ROW("simpleblob-sizequery", "size query", "export", capi_simple_size,
	      capi_simple_export, 100), .capi_is_b = true },
	{ ROW("acquire-release", "capi11", "raw", capi_acquire_release, raw_open_find_close, 0.95) },
	/* The raw side checks the token's presence too: capi11 must, so that
	 * an absent card is SCARD_E_NO_SMARTCARD at once. */
	{ ROW("acquire-release-verify", "capi11", "raw", capi_acquire_release_verify,
	      raw_slot_open_close, 1.0) },
	{ ROW("encrypt-aes256-4k", "capi11", "raw", capi_encrypt, raw_encrypt, 0.95) },
	/* A card without C_UnwrapKey nor AES: the SIMPLEBLOB decrypted on the
	 * card and the key made on the companion (softokn); data encrypted
	 * there. */
	{ ROW("simpleblob-import-card", "capi11", "raw", capi_simple_import_card,
	      raw_simple_import_card, 0.95), .companion = true },
	{ ROW("encrypt-aes256-4k-companion", "capi11", "raw", capi_encrypt_companion,
	      raw_encrypt_companion, 0.95), .companion = true },
	{ ROW("hash-sha256-64k", "capi11", "raw", capi_hash, raw_hash, 0.95) },
	{ ROW("sign-rsa2048", "capi11", "raw", capi_sign, raw_sign, 0.95) },
	{ ROW("publickeyblob-threads", "2 threads", "1 thread", capi_public_blob,
	      capi_public_blob, 1.6), .capi_is_b = true, .threads = true },
	/* The raw sequence in two threads on two sessions: how far the token
	 * lets reads of one object run in parallel. */
	{ ROW("raw-publickey-threads", "raw 2 threads", "raw 1 thread", raw_public_blob,
	      raw_public_blob, 0), .raw_is_a = true, .threads = true, .info = true },
};

#define N_OPS (sizeof ops / sizeof ops[0])

struct options {
	bool quick;
	struct bench_params params;
	const char *only;
};

static void usage(void)
{
	fprintf(stderr, "usage: capi11-bench [--quick] [--rounds N] [--slice SECONDS] "
		"[--iterations N] [--only OPERATION]\n");
	exit(2);
}

static void options_parse(int argc, char **argv, struct options *o)
{
	int i;

	memset(o, 0, sizeof *o);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			o->quick = true;
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			o->params.rounds = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--slice") == 0 && i + 1 < argc)
			o->params.slice_seconds = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc)
			o->params.iterations = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			o->only = argv[++i];
		else
			usage();
	}
	/* Full: 10 operations x 11 rounds x 2 sides x 0.25 s, about a minute.
	 * Quick: the same shape in a few seconds, for CI. */
	if (o->only != NULL) {
		for (i = 0; i < (int)N_OPS && strcmp(ops[i].name, o->only) != 0; i++)
			;
		if (i == (int)N_OPS)
			usage();
	}
	if (o->params.rounds == 0)
		o->params.rounds = o->quick ? 5 : 11;
	if (o->params.slice_seconds <= 0)
		o->params.slice_seconds = o->quick ? 0.02 : 0.25;
}

/* RFC 7512 allows these unencoded in a query value. */
static bool uri_query_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("-._~:[]@!$'()*+,=/?|", c) != NULL;
}

/* Appends s to uri[*n..], percent-encoding what a query value may not
 * hold unencoded. */
static void uri_put_value(char *uri, size_t size, size_t *n, const char *s)
{
	for (const char *p = s; *p != '\0' && *n + 4 < size; p++) {
		if (uri_query_char(*p))
			uri[(*n)++] = *p;
		else
			*n += (size_t)snprintf(uri + *n, size - *n, "%%%02X", (unsigned char)*p);
	}
	uri[*n] = '\0';
}

static void uri_build(char *uri, size_t size, const char *module)
{
	size_t n;

	n = (size_t)snprintf(uri, size, "pkcs11:token=%s?module-path=", TOKEN_LABEL);
	uri_put_value(uri, size, &n, module);
	n += (size_t)snprintf(uri + n, size - n, "&pin-source=");
	uri_put_value(uri, size, &n, setup_pin_file());
}

/* The machine the figures came from, for docs/PERFORMANCE.md. */
static void machine_print(void)
{
	char line[256], model[256] = "unknown CPU", load[64] = "?";
	struct utsname u;
	FILE *f;

	f = fopen("/proc/cpuinfo", "r");
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			snprintf(model, sizeof model, "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f != NULL)
		fclose(f);
	f = fopen("/proc/loadavg", "r");
	if (f != NULL) {
		if (fgets(load, sizeof load, f) != NULL)
			load[strcspn(load, "\n")] = '\0';
		fclose(f);
	}
	if (uname(&u) != 0)
		strcpy(u.release, "?");
	printf("machine: %s, %ld online CPUs, Linux %s, load average %s\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN), u.release, load);
	/* Other work on the machine takes CPU from one side or the other and,
	 * worse, from the second thread of the thread row. */
	if (strtod(load, NULL) >= 1.0)
		printf("note: the machine is busy (load average >= 1): wall-clock figures are "
		       "noisy, the thread row most of all\n");
}

static void result_print(const struct op *op, const struct bench_result *r)
{
	char sides[40];

	snprintf(sides, sizeof sides, "%s / %s", op->a_label, op->b_label);
	if (r->failed) {
		printf("%-24s %-22s %12s %12s %8s  %-9s error 0x%08X (%s)\n", op->name, sides,
		       "-", "-", "n/a", "", (unsigned)r->error,
		       r->side == 'a' ? op->a_label : op->b_label);
		return;
	}
	if (op->info) {
		printf("%-24s %-22s %12.1f %12.1f %8.3f  %-9s\n", op->name, sides, r->median_a,
		       r->median_b, r->median_a / r->median_b, "(info)");
		return;
	}
	printf("%-24s %-22s %12.1f %12.1f %8.3f  >= %-6g %s\n", op->name, sides, r->median_a,
	       r->median_b, r->median_a / r->median_b, op->target,
	       r->median_a / r->median_b >= op->target ? "met" : "MISSED");
}

static void ratio_print(const struct op *op, const struct bench_result *r)
{
	if (r->failed)
		printf("ratio %s n/a error 0x%08X from %s\n", op->name, (unsigned)r->error,
		       r->side == 'a' ? op->a_label : op->b_label);
	else
		printf("ratio %s %.3f\n", op->name, r->median_a / r->median_b);
}

static void on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
}

/* An interrupted run and a reader that went away (| head) still end
 * through the cleanup that removes the token directory. */
static void signals_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void side_make(struct bench_side *side, const char *label, bench_fn fn, void *arg,
		      unsigned threads, void **thread_args)
{
	memset(side, 0, sizeof *side);
	side->label = label;
	side->fn = fn;
	side->arg = arg;
	side->threads = threads;
	side->thread_args = thread_args;
}

int main(int argc, char **argv)
{
	struct bench_result results[N_OPS];
	struct options o;
	struct capi *capi = NULL, *capi2 = NULL;
	struct raw *raw = NULL, *raw2 = NULL;
	void *pair[2], *raw_pair[2];
	char uri[URI_MAX], card_uri[URI_MAX];
	struct companion *comp = NULL;
	uint32_t err = 0, err2 = 0, err3 = 0, err4 = 0;
	double start;
	size_t i;
	int rc = 1;

	options_parse(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signals_setup();
	if (!setup_token(TOKEN_LABEL))
		return 1;
	uri_build(uri, sizeof uri, SOFTHSM_MODULE);
	uri_build(card_uri, sizeof card_uri, P11SHIM_PATH);
	start = bench_now();
	capi = capi_new(uri, &err);
	if (capi == NULL) {
		fprintf(stderr, "bench: capi11 setup failed: 0x%08X\n", (unsigned)err);
		goto out;
	}
	raw = raw_new(SOFTHSM_MODULE, TOKEN_LABEL, &err);
	if (raw == NULL) {
		fprintf(stderr, "bench: raw PKCS#11 setup failed: CK_RV 0x%08lX\n",
			(unsigned long)err);
		goto out;
	}
	/* The second context may fail alone: only the thread row needs it. */
	capi2 = capi_new_second(uri, &err2);
	pair[0] = capi;
	pair[1] = capi2;
	raw2 = raw_new(SOFTHSM_MODULE, TOKEN_LABEL, &err3);
	raw_pair[0] = raw;
	raw_pair[1] = raw2;
	/* The companion rows may fail alone (no shim built, no softokn). */
	comp = companion_new(P11SHIM_PATH, card_uri, TOKEN_LABEL, &err4);

	printf("capi11 against raw PKCS#11 on one SoftHSM token (%s)\n", SOFTHSM_MODULE);
	machine_print();
	printf("RSA-2048 and AES-256; %u rounds of %.3f s per side, interleaved; median ops/s; "
	       "setup %.1f s\n\n", o.params.rounds, o.params.slice_seconds, bench_now() - start);
	printf("%-24s %-22s %12s %12s %8s  %-9s %s\n", "operation", "a / b", "a ops/s", "b ops/s",
	       "a/b", "target", "");
	for (i = 0; i < N_OPS && !bench_interrupted; i++) {
		const struct op *op = &ops[i];
		struct bench_side a, b;
		bool a_raw = op->raw_is_a;
		void *a_arg = op->companion ? (void *)comp : a_raw ? (void *)raw : (void *)capi;
		void *b_arg = op->companion ? (void *)comp : op->capi_is_b ? (void *)capi : (void *)raw;

		memset(&results[i], 0, sizeof results[i]);
		if (o.only != NULL && strcmp(o.only, op->name) != 0)
			continue;
		if (op->companion && comp == NULL) {
			results[i].failed = true;
			results[i].side = 'a';
			results[i].error = err4;
			result_print(op, &results[i]);
			continue;
		}
		if (op->threads && (a_raw ? raw2 == NULL : capi2 == NULL)) {
			results[i].failed = true;
			results[i].side = 'a';
			results[i].error = a_raw ? err3 : err2;
			result_print(op, &results[i]);
			continue;
		}
		side_make(&a, op->a_label, op->a_fn, a_arg, op->threads ? 2 : 1,
			  a_raw ? raw_pair : pair);
		side_make(&b, op->b_label, op->b_fn, b_arg, 1, NULL);
		bench_compare(&o.params, &a, &b, &results[i]);
		if (!bench_interrupted)
			result_print(op, &results[i]);
	}
	if (bench_interrupted) {
		fprintf(stderr, "bench: interrupted\n");
		rc = 130;
		goto out;
	}
	printf("\n");
	for (i = 0; i < N_OPS; i++) {
		if (!ops[i].info && (o.only == NULL || strcmp(o.only, ops[i].name) == 0))
			ratio_print(&ops[i], &results[i]);
	}
	rc = 0;
out:
	companion_free(comp);
	capi_free(capi2);
	capi_free(capi);
	raw_free(raw2);
	raw_free(raw);
	setup_cleanup();
	return rc;
}
