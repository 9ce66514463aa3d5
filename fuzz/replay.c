/* Replays the fuzz corpus and every saved finding through the fuzz
 * targets' entry functions in the ordinary build, so that `make check`
 * (and `make memcheck`, and a --enable-sanitizers build) catches a
 * regression of a fixed crash without clang or libFuzzer. A target that
 * trips aborts the program: the test fails with the file name printed
 * last on stderr. */
#include "config.h"
#include "cutest.h"
#include "fuzz.h"
#include "blob.h"
#include "cert.h"
#include "fixture.h"

#include <dirent.h>
#include <string.h>

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "fuzz"
#endif

typedef void (*target_fn)(const uint8_t *data, size_t size);

/* A heap copy of exactly the file's size, as libFuzzer hands inputs over:
 * a read one byte past the end is caught by the sanitizers or valgrind. */
static uint8_t *file_read_exact(const char *path, size_t *size)
{
	uint8_t *buf = NULL;
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(n > 0 ? (size_t)n : 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* Feeds every regular file of FUZZ_SRCDIR/kind/target to fn; returns how
 * many, -1 when the directory is missing. blob_types counts the BLOBHEADER
 * types seen (indexed by bType), when not NULL. */
static int dir_replay(const char *kind, const char *target, target_fn fn, int blob_types[256])
{
	char dir[1024], path[2048];
	struct dirent *e;
	DIR *d;
	int count = 0;

	snprintf(dir, sizeof dir, "%s/%s/%s", FUZZ_SRCDIR, kind, target);
	d = opendir(dir);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		BLOBHEADER h;
		uint8_t *data;
		size_t size = 0;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		data = file_read_exact(path, &size);
		CU_ASSERT_PTR_NOT_NULL(data);
		if (data == NULL) {
			fprintf(stderr, "cannot read %s\n", path);
			continue;
		}
		fprintf(stderr, "%s\n", path);
		fn(data, size);
		if (blob_types != NULL && blob_parse_header(data, size, &h) == ERROR_SUCCESS)
			blob_types[h.bType]++;
		free(data);
		count++;
	}
	closedir(d);
	return count;
}

/* The corpus must exist and hold something; the regressions may not exist
 * yet for a target that never had a finding. */
static void target_replay(const char *target, target_fn fn, int blob_types[256])
{
	int corpus = dir_replay("corpus", target, fn, blob_types);
	int regressions = dir_replay("regressions", target, fn, blob_types);

	CU_ASSERT(corpus > 0);
	fprintf(stderr, "%s: %d corpus and %d regression inputs replayed\n", target, corpus,
		regressions > 0 ? regressions : 0);
}

static void test_blob(void)
{
	static const BYTE types[] = {
		PUBLICKEYBLOB, PRIVATEKEYBLOB, SIMPLEBLOB, PLAINTEXTKEYBLOB, SYMMETRICWRAPKEYBLOB,
		OPAQUEKEYBLOB,
	};
	int seen[256] = { 0 };

	target_replay("blob", fuzz_blob_one, seen);
	/* A corpus without a well-formed blob of some type would leave that
	 * parser's deeper checks to chance. */
	for (size_t i = 0; i < sizeof types; i++) {
		CU_ASSERT(seen[types[i]] > 0);
		if (seen[types[i]] == 0)
			fprintf(stderr, "no corpus blob of type %#x\n", types[i]);
	}
}

static void test_dump(void)
{
	target_replay("dump", fuzz_dump_one, NULL);
}

/* The certificate walk: at least one corpus input must be a certificate
 * it accepts, or only its refusals would be exercised. */
static int certs_accepted;

static void cert_count_one(const uint8_t *data, size_t size)
{
	struct cert_der c;

	fuzz_cert_one(data, size);
	if (cert_der_parse(data, size, &c))
		certs_accepted++;
}

static void test_cert(void)
{
	certs_accepted = 0;
	target_replay("cert", cert_count_one, NULL);
	CU_ASSERT(certs_accepted >= 2);
}

/* The API target makes its token with the test fixture; without SoftHSM
 * it has nothing to drive. */
static void test_api(void)
{
	if (!fixture_init()) {
		fprintf(stderr, "SoftHSM is not installed: the api inputs are not replayed\n");
		return;
	}
	target_replay("api", fuzz_api_one, NULL);
}

static CU_TestInfo replay_tests[] = {
	{ "blob codec: corpus and regressions", test_blob },
	{ "dump decoder: corpus and regressions", test_dump },
	{ "certificate DER walk: corpus and regressions", test_cert },
	{ "API entry points on a token: corpus and regressions", test_api },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "replay", NULL, NULL, NULL, NULL, replay_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_run(suites);
}
