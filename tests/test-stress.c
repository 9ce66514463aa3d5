/* Threads for a while: several threads mix acquire, generate, export,
 * import and encrypt on handles of their own and on handles they share,
 * while one more thread keeps destroying a shared key and releasing a
 * shared context under the others' feet. Every call either works, with
 * the right result, or - on a handle that another thread has just let go -
 * fails ERROR_INVALID_PARAMETER (SPEC 2); nothing crashes, and once
 * everything is released no allocation of the library is left over.
 *
 * The run lasts CAPI11_STRESS_SECONDS seconds (default 5). Built with
 * -fsanitize=thread, the same run is the race check of the library
 * (SoftHSM and p11-kit are not instrumented: only the library's own
 * accesses and the locks around them are checked).
 *
 * Expected bytes come from openssl (tests/vectors and an "openssl enc" run
 * at start) and from Microsoft's blob layouts, never from the library.
 * Threads only count; CUnit assertions run in the main thread. */
#include "config.h"
#include "cutest.h"
#include "fixture.h"
#include "testutil.h"
#include "util.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wincrypt.h>

#define V_ERROR_INVALID_PARAMETER 87u
#define V_PROV_RSA_AES 24u
#define V_CALG_AES_128 0x660eu
#define V_CALG_AES_256 0x6610u

#define WORKERS 4
#define DEFAULT_SECONDS 5
#define CONTAINER "stress"

static char *label, *uri;
static BYTE *priv_blob, *pub_blob, *aes_key;
static DWORD priv_len, pub_len, aes_len;
static BYTE plain_blob[12 + 16];
/* 40 bytes of plaintext and their AES-128-CBC encryption under aes128.key
 * with a zero IV and PKCS#5 padding (CryptEncrypt's defaults, SPEC 6), by
 * openssl. */
static BYTE plaintext[40];
static BYTE ciphertext[48];

/* ---- Shared handles ---- */

static HCRYPTPROV shared_verify, shared_container;
static HCRYPTKEY shared_aes;
/* The victims: replaced by the killer thread, used by everyone. */
static _Atomic HCRYPTPROV victim_prov;
static _Atomic HCRYPTKEY victim_key;
static atomic_bool stop;

struct worker {
	pthread_t thread;
	unsigned id;
	unsigned long ops;
	unsigned failures;
	const char *first_step;
	DWORD first_error;
};

static void fail(struct worker *w, const char *step)
{
	if (w->failures++ == 0) {
		w->first_step = step;
		w->first_error = GetLastError();
	}
}

/* A call on a victim: success, or ERROR_INVALID_PARAMETER once the
 * killer has let the handle go. */
static void victim_note(struct worker *w, BOOL ok, const char *step)
{
	if (!ok && GetLastError() != V_ERROR_INVALID_PARAMETER)
		fail(w, step);
}

static bool encrypts_as_openssl(HCRYPTKEY k)
{
	BYTE buf[64];
	DWORD len = sizeof plaintext;

	memcpy(buf, plaintext, sizeof plaintext);
	return CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf) && len == sizeof ciphertext &&
	       memcmp(buf, ciphertext, len) == 0;
}

/* A context of the thread's own: everything from acquire to release. */
static void op_private(struct worker *w)
{
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0, g = 0;
	DWORD bits = 0, len = sizeof bits;

	SetLastError(SENTINEL);
	if (!CryptAcquireContextA(&h, NULL, uri, V_PROV_RSA_AES, CRYPT_VERIFYCONTEXT)) {
		fail(w, "acquire (own)");
		return;
	}
	if (!CryptImportKey(h, plain_blob, sizeof plain_blob, 0, CRYPT_EXPORTABLE, &k))
		fail(w, "import PLAINTEXTKEYBLOB (own)");
	else if (!testutil_exports_as(k, PLAINTEXTKEYBLOB, plain_blob, sizeof plain_blob))
		fail(w, "export PLAINTEXTKEYBLOB (own)");
	else if (!encrypts_as_openssl(k))
		fail(w, "CryptEncrypt (own)");
	if (!CryptGenKey(h, V_CALG_AES_256, 0, &g))
		fail(w, "CryptGenKey (own)");
	else if (!CryptGetKeyParam(g, KP_KEYLEN, (BYTE *)&bits, &len, 0) || bits != 256)
		fail(w, "KP_KEYLEN (own)");
	if (g != 0 && !CryptDestroyKey(g))
		fail(w, "CryptDestroyKey (own)");
	if (k != 0 && !CryptDestroyKey(k))
		fail(w, "CryptDestroyKey (own import)");
	if (!CryptReleaseContext(h, 0))
		fail(w, "release (own)");
}

/* The shared verify context: keys made and imported on it at once by
 * every thread, and the shared key duplicated (its IV is per handle). */
static void op_shared_verify(struct worker *w)
{
	HCRYPTKEY k = 0, d = 0, p = 0;

	SetLastError(SENTINEL);
	if (!CryptGenKey(shared_verify, V_CALG_AES_128, CRYPT_EXPORTABLE, &k))
		fail(w, "CryptGenKey (shared)");
	else if (!CryptDestroyKey(k))
		fail(w, "CryptDestroyKey (shared)");
	if (!CryptDuplicateKey(shared_aes, NULL, 0, &d))
		fail(w, "CryptDuplicateKey (shared)");
	else if (!encrypts_as_openssl(d))
		fail(w, "CryptEncrypt (shared key, duplicate)");
	if (d != 0 && !CryptDestroyKey(d))
		fail(w, "CryptDestroyKey (duplicate)");
	if (!CryptImportKey(shared_verify, pub_blob, pub_len, 0, 0, &p))
		fail(w, "import PUBLICKEYBLOB (shared)");
	else if (!testutil_exports_as(p, PUBLICKEYBLOB, pub_blob, pub_len))
		fail(w, "export PUBLICKEYBLOB (imported)");
	if (p != 0 && !CryptDestroyKey(p))
		fail(w, "CryptDestroyKey (imported public)");
}

/* The shared container: its pair found and exported by every thread. */
static void op_shared_container(struct worker *w)
{
	HCRYPTKEY k = 0;

	SetLastError(SENTINEL);
	if (!CryptGetUserKey(shared_container, AT_KEYEXCHANGE, &k)) {
		fail(w, "CryptGetUserKey (shared)");
		return;
	}
	if (!testutil_exports_as(k, PUBLICKEYBLOB, pub_blob, pub_len))
		fail(w, "export PUBLICKEYBLOB (shared)");
	if (!testutil_exports_as(k, PRIVATEKEYBLOB, priv_blob, priv_len))
		fail(w, "export PRIVATEKEYBLOB (shared)");
	if (!CryptDestroyKey(k))
		fail(w, "CryptDestroyKey (user key)");
}

/* Whatever the killer has published right now. */
static void op_victims(struct worker *w)
{
	HCRYPTPROV h = atomic_load(&victim_prov);
	HCRYPTKEY k = atomic_load(&victim_key), n = 0;
	BYTE buf[64];
	DWORD len = sizeof buf;
	BOOL ok;

	SetLastError(SENTINEL);
	victim_note(w, CryptExportKey(k, 0, PLAINTEXTKEYBLOB, 0, buf, &len), "export (victim)");
	len = 32;
	SetLastError(SENTINEL);
	victim_note(w, CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf), "CryptEncrypt (victim)");
	SetLastError(SENTINEL);
	ok = CryptGenKey(h, V_CALG_AES_128, 0, &n);
	victim_note(w, ok, "CryptGenKey (victim context)");
	/* The context may be gone by now, and the new key with it. */
	if (ok) {
		SetLastError(SENTINEL);
		victim_note(w, CryptDestroyKey(n), "CryptDestroyKey (victim's new key)");
	}
	SetLastError(SENTINEL);
	ok = CryptImportKey(h, plain_blob, sizeof plain_blob, 0, 0, &n);
	victim_note(w, ok, "import (victim context)");
	if (ok) {
		SetLastError(SENTINEL);
		victim_note(w, CryptDestroyKey(n), "CryptDestroyKey (victim's import)");
	}
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop)) {
		switch ((w->ops + w->id) % 4) {
		case 0:
			op_private(w);
			break;
		case 1:
			op_shared_verify(w);
			break;
		case 2:
			op_shared_container(w);
			break;
		default:
			op_victims(w);
			break;
		}
		w->ops++;
	}
	return NULL;
}

/* Makes a victim context and key, lets the others use them for a moment,
 * then destroys the key or releases the context (and so its keys) - in
 * turn - while they may be in the middle of a call. */
static void *killer_run(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop)) {
		HCRYPTPROV h = 0;
		HCRYPTKEY k = 0;

		SetLastError(SENTINEL);
		if (!CryptAcquireContextA(&h, NULL, uri, V_PROV_RSA_AES, CRYPT_VERIFYCONTEXT) ||
		    !CryptImportKey(h, plain_blob, sizeof plain_blob, 0, CRYPT_EXPORTABLE, &k)) {
			fail(w, "killer: acquire and import");
			break;
		}
		atomic_store(&victim_prov, h);
		atomic_store(&victim_key, k);
		usleep(2000);
		if (w->ops % 2 == 0 && !CryptDestroyKey(k))
			fail(w, "killer: CryptDestroyKey");
		usleep(1000);
		if (!CryptReleaseContext(h, 0))
			fail(w, "killer: CryptReleaseContext");
		w->ops++;
	}
	return NULL;
}

static unsigned stress_seconds(void)
{
	const char *s = getenv("CAPI11_STRESS_SECONDS");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 && v < 24 * 3600 ? (unsigned)v : DEFAULT_SECONDS;
}

static void test_stress(void)
{
	struct worker w[WORKERS + 1];
	HCRYPTPROV warm = 0;
	HCRYPTKEY pair = 0;
	unsigned seconds = stress_seconds();
	size_t live;

	/* The first acquire loads the module and finds the token: caches that
	 * live as long as the process, taken before the count. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&warm, NULL, uri, V_PROV_RSA_AES,
						  CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptReleaseContext(warm, 0));
	live = capi11_alloc_live();

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&shared_verify, NULL, uri, V_PROV_RSA_AES,
						  CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(shared_verify, plain_blob, sizeof plain_blob, 0, 0,
					    &shared_aes));
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&shared_container, CONTAINER, uri,
						  V_PROV_RSA_AES, CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(shared_container, priv_blob, priv_len, 0,
					    CRYPT_EXPORTABLE, &pair));
	CU_ASSERT_TRUE_FATAL(CryptDestroyKey(pair));

	memset(w, 0, sizeof w);
	atomic_store(&stop, false);
	for (unsigned i = 0; i < WORKERS; i++) {
		w[i].id = i;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&w[i].thread, NULL, worker_run, &w[i]), 0);
	}
	CU_ASSERT_EQUAL_FATAL(pthread_create(&w[WORKERS].thread, NULL, killer_run, &w[WORKERS]), 0);
	sleep(seconds);
	atomic_store(&stop, true);
	for (unsigned i = 0; i <= WORKERS; i++)
		pthread_join(w[i].thread, NULL);

	for (unsigned i = 0; i <= WORKERS; i++) {
		if (w[i].failures > 0)
			fprintf(stderr, "\n  thread %u: %u failures in %lu rounds, first %s: 0x%08x", i,
				w[i].failures, w[i].ops, w[i].first_step, (unsigned)w[i].first_error);
		CU_ASSERT_EQUAL(w[i].failures, 0);
		CU_ASSERT(w[i].ops > 0);
	}

	/* The shared handles survived it all, and still work. */
	CU_ASSERT_TRUE(encrypts_as_openssl(shared_aes));
	CU_ASSERT_TRUE(CryptDestroyKey(shared_aes));
	CU_ASSERT_TRUE(CryptReleaseContext(shared_verify, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(shared_container, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&warm, CONTAINER, uri, V_PROV_RSA_AES,
					    CRYPT_DELETEKEYSET));
	/* Everything released: nothing the threads made is left over. */
	if (capi11_alloc_live() != live)
		fprintf(stderr, "\n  %zd blocks left over", (ssize_t)(capi11_alloc_live() - live));
	CU_ASSERT_EQUAL(capi11_alloc_live(), live);
}

/* ---- A pair replaced while other contexts use it ---- */

#define REPLACED "replaced"
#define REPLACE_SECONDS 2
#define DECRYPTORS 2
#define V_NTE_BAD_KEY 0x80090003u

static atomic_bool replace_stop;

struct decryptor {
	pthread_t thread;
	unsigned long rounds, decrypted, refused;
	unsigned failures;
	const char *first_step;
	DWORD first_error;
};

/* A refusal is clean when it names the key: its objects went away under
 * the handle (SPEC 2 says handles never crash). */
static void decryptor_note(struct decryptor *d, BOOL ok, const char *step)
{
	if (ok)
		return;
	if (GetLastError() == V_NTE_BAD_KEY) {
		d->refused++;
		return;
	}
	if (d->failures++ == 0) {
		d->first_step = step;
		d->first_error = GetLastError();
	}
}

/* Its own context on the container: the exchange key, found again now
 * and then, encrypts and decrypts while another context replaces it. A
 * decrypt that works gives the plaintext back. */
static void *decryptor_run(void *arg)
{
	static const char msg[] = "replaced under my feet";
	struct decryptor *d = arg;
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;
	BYTE buf[128];
	DWORD len;

	if (!CryptAcquireContextA(&h, REPLACED, uri, V_PROV_RSA_AES, 0)) {
		decryptor_note(d, FALSE, "acquire");
		return NULL;
	}
	while (!atomic_load(&replace_stop)) {
		if (k == 0 || d->rounds % 8 == 0) {
			if (k != 0 && !CryptDestroyKey(k))
				decryptor_note(d, FALSE, "CryptDestroyKey");
			k = 0;
			SetLastError(SENTINEL);
			if (!CryptGetUserKey(h, AT_KEYEXCHANGE, &k)) {
				decryptor_note(d, FALSE, "CryptGetUserKey");
				k = 0;
				continue;
			}
		}
		d->rounds++;
		memcpy(buf, msg, sizeof msg);
		len = sizeof msg;
		SetLastError(SENTINEL);
		if (!CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf)) {
			decryptor_note(d, FALSE, "CryptEncrypt");
			continue;
		}
		SetLastError(SENTINEL);
		if (!CryptDecrypt(k, 0, TRUE, 0, buf, &len)) {
			decryptor_note(d, FALSE, "CryptDecrypt");
			continue;
		}
		if (len != sizeof msg || memcmp(buf, msg, sizeof msg) != 0) {
			SetLastError(0);
			decryptor_note(d, FALSE, "CryptDecrypt gave other bytes");
			continue;
		}
		d->decrypted++;
	}
	if (k != 0 && !CryptDestroyKey(k))
		decryptor_note(d, FALSE, "CryptDestroyKey");
	if (!CryptReleaseContext(h, 0))
		decryptor_note(d, FALSE, "release");
	return NULL;
}

/* CryptGenKey(AT_KEYEXCHANGE) in one context destroys the pair that
 * CryptDecrypt uses in another: the token object must outlive the
 * decrypt (SoftHSM 2.6.1 crashes in C_Decrypt otherwise), and a handle
 * whose pair is gone fails NTE_BAD_KEY. */
static void test_replace_under_decrypt(void)
{
	struct decryptor d[DECRYPTORS];
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;
	unsigned replaced = 0, failed = 0;
	DWORD first_error = 0;
	time_t end;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, REPLACED, uri, V_PROV_RSA_AES,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 512u << 16, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	memset(d, 0, sizeof d);
	atomic_store(&replace_stop, false);
	for (unsigned i = 0; i < DECRYPTORS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&d[i].thread, NULL, decryptor_run, &d[i]), 0);
	end = time(NULL) + REPLACE_SECONDS;
	while (time(NULL) < end) {
		SetLastError(SENTINEL);
		if (!CryptGenKey(h, AT_KEYEXCHANGE, 512u << 16, &k)) {
			if (failed++ == 0)
				first_error = GetLastError();
			continue;
		}
		replaced++;
		CU_ASSERT_TRUE(CryptDestroyKey(k));
	}
	atomic_store(&replace_stop, true);
	for (unsigned i = 0; i < DECRYPTORS; i++)
		pthread_join(d[i].thread, NULL);

	if (failed > 0)
		fprintf(stderr, "\n  CryptGenKey: %u failures, first 0x%08x", failed,
			(unsigned)first_error);
	CU_ASSERT_EQUAL(failed, 0);
	fprintf(stderr, "\n  %u replacements", replaced);
	CU_ASSERT(replaced > 0);
	for (unsigned i = 0; i < DECRYPTORS; i++) {
		fprintf(stderr, "\n  decryptor %u: %lu rounds, %lu decrypted, %lu refused NTE_BAD_KEY",
			i, d[i].rounds, d[i].decrypted, d[i].refused);
		if (d[i].failures > 0)
			fprintf(stderr, "; %u failures, first %s: 0x%08x", d[i].failures,
				d[i].first_step, (unsigned)d[i].first_error);
		CU_ASSERT_EQUAL(d[i].failures, 0);
		CU_ASSERT(d[i].decrypted > 0);
	}
	/* Every replacement removed the pair it replaced. */
	CU_ASSERT_EQUAL(testutil_token_count(label, "privkey", REPLACED), 1);
	CU_ASSERT_EQUAL(testutil_token_count(label, "pubkey", REPLACED), 1);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, REPLACED, uri, V_PROV_RSA_AES, CRYPT_DELETEKEYSET));
}

/* ---- Suite ---- */

static int suite_init(void)
{
	static const BYTE head[12] = { 0x08, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00,
				       0x10, 0x00, 0x00, 0x00 };

	if (!fixture_init()) {
		cutest_skip("SoftHSM is not installed");
		return 0;
	}
	priv_blob = testutil_vector_load("rsa1024-priv.blob", &priv_len);
	pub_blob = testutil_vector_load("rsa1024-pub.blob", &pub_len);
	aes_key = testutil_vector_load("aes128.key", &aes_len);
	if (!priv_blob || !pub_blob || !aes_key || aes_len != 16)
		return -1;
	memcpy(plain_blob, head, sizeof head);
	memcpy(plain_blob + 12, aes_key, 16);
	for (size_t i = 0; i < sizeof plaintext; i++)
		plaintext[i] = (BYTE)(0xa0 + i);
	if (!testutil_openssl_cbc_load(aes_key, plaintext, sizeof plaintext, ciphertext,
				       sizeof ciphertext))
		return -1;
	label = fixture_label_new("stress");
	if (label == NULL || fixture_token_new(label) != 0)
		return -1;
	uri = fixture_token_uri(label);
	return uri != NULL ? 0 : -1;
}

static CU_TestInfo tests[] = {
	{ "mixed work on shared and own handles, with handles let go", test_stress },
	{ "a pair replaced while other contexts decrypt with it", test_replace_under_decrypt },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "stress", suite_init, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc = cutest_run(suites);

	fixture_cleanup(rc == 0 || rc == CUTEST_SKIP);
	free(uri);
	free(label);
	free(priv_blob);
	free(pub_blob);
	free(aes_key);
	return rc;
}
