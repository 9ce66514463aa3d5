/* Secrets stay secret (SPEC 1, 2 and 4): with tracing at its most verbose
 * (CAPI11_TRACE=3: every API call and every PKCS#11 call), a canary PIN
 * and canary key bytes never appear on standard error, and every block the
 * library frees that held them has been wiped first. The second half is
 * checked through the library's allocator hook (capi11_set_free_hook in
 * src/util.h), which sees each block just before it goes back to the
 * system: the hook looks for the canaries in it.
 *
 * The canaries go every way a secret can: a PIN in the URI, in a
 * pin-source file, through PP_KEYEXCHANGE_PIN, and a wrong one; URIs with
 * the PIN that are traced (opened, refused, naming no token, from a
 * configuration file, one that others may read); key bytes
 * through PLAINTEXTKEYBLOB and PRIVATEKEYBLOB imports and exports, and
 * SIMPLEBLOB, SYMMETRICWRAPKEYBLOB and OPAQUEKEYBLOB round trips, and the
 * failure paths (faults injected by
 * the shim after the token has seen the bytes). */
#define _GNU_SOURCE 1
#include "config.h"
#include "cutest.h"
#include "fixture.h"
#include "testutil.h"
#include "util.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wincrypt.h>

#define V_SCARD_W_WRONG_CHV 0x8010006Bu
#define V_SCARD_E_NO_SMARTCARD 0x8010000Cu
#define V_NTE_BAD_PROVIDER 0x80090013u
#define V_NTE_KEYSET_ENTRY_BAD 0x8009001Au
#define V_PROV_RSA_AES 24u
#define V_CALG_AES_256 0x6610u

/* The token's user PIN, set before anything loads SoftHSM, and a wrong
 * one: both must stay out of every trace and every freed block. */
#define CANARY_PIN "Pq7CanaryPin4242"
#define WRONG_PIN "Zx9WrongCanary31"
/* AES-256 key bytes nobody would write by chance. */
static const BYTE canary_key[32] = "Kz!CanaryKeyBytes#0123456789-XYZ";

static char *label, *wrong_label;
static char *uri_pin, *uri_nopin, *uri_wrong;

static BYTE *priv_blob;
static DWORD priv_len;
/* PLAINTEXTKEYBLOB {8, 2, 0, CALG_AES_256}, 32, canary_key (Microsoft,
 * "PLAINTEXTKEYBLOB"). */
static BYTE plain_blob[12 + 32];
/* A known message and its AES-256-CBC encryption under canary_key, zero
 * IV, PKCS#5 padding (CryptEncrypt's defaults), by openssl before any
 * trace is on. */
static const BYTE known[32] = "capi11: a known 32-byte message";
static BYTE known_ct[48];

/* ---- What to look for ---- */

#define MAX_PATTERNS 16
#define PATTERN_LEN 16

struct pattern {
	const char *what;
	BYTE bytes[64];
	size_t len;
};

static struct pattern patterns[MAX_PATTERNS];
static size_t n_patterns;

static void pattern_add(const char *what, const void *bytes, size_t len, bool reversed)
{
	struct pattern *p = &patterns[n_patterns++];

	p->what = what;
	p->len = len;
	for (size_t i = 0; i < len; i++)
		p->bytes[i] = ((const BYTE *)bytes)[reversed ? len - 1 - i : i];
}

/* The key's numbers as the blob holds them (little-endian) and as PKCS#11
 * holds them (big-endian): a 16-byte piece of each end of each private
 * number of the vector. Layout: Microsoft, "Private Key BLOBs". */
static void patterns_from_private_blob(void)
{
	static const struct { const char *name; size_t off, len; } nums[] = {
		{ "prime1", 20 + 128, 64 },
		{ "prime2", 20 + 128 + 64, 64 },
		{ "coefficient", 20 + 128 + 4 * 64, 64 },
		{ "privateExponent", 20 + 128 + 5 * 64, 128 },
	};

	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		const BYTE *n = priv_blob + nums[i].off;

		/* Low bytes as the blob stores them, high bytes as the token does. */
		pattern_add(nums[i].name, n, PATTERN_LEN, false);
		pattern_add(nums[i].name, n + nums[i].len - PATTERN_LEN, PATTERN_LEN, true);
	}
}

static void patterns_init(void)
{
	pattern_add("PIN", CANARY_PIN, strlen(CANARY_PIN), false);
	pattern_add("wrong PIN", WRONG_PIN, strlen(WRONG_PIN), false);
	pattern_add("AES key", canary_key, PATTERN_LEN, false);
	pattern_add("AES key", canary_key + 16, PATTERN_LEN, false);
	pattern_add("AES key, reversed", canary_key, PATTERN_LEN, true);
	patterns_from_private_blob();
}

static const struct pattern *pattern_find(const void *buf, size_t len)
{
	for (size_t i = 0; i < n_patterns; i++) {
		if (memmem(buf, len, patterns[i].bytes, patterns[i].len) != NULL)
			return &patterns[i];
	}
	return NULL;
}

/* A secret written as text: hex, either case. */
static const struct pattern *pattern_find_hex(const char *text)
{
	char hex[2 * 64 + 1];

	for (size_t i = 0; i < n_patterns; i++) {
		for (int upper = 0; upper < 2; upper++) {
			for (size_t j = 0; j < patterns[i].len; j++)
				snprintf(hex + 2 * j, 3, upper ? "%02X" : "%02x", patterns[i].bytes[j]);
			if (strstr(text, hex) != NULL)
				return &patterns[i];
		}
	}
	return NULL;
}

/* ---- The allocator hook ---- */

static atomic_uint unwiped;
static const char *_Atomic first_unwiped;
static atomic_size_t first_unwiped_len;
static atomic_uint blocks_seen;

static void free_hook(void *ptr, size_t len)
{
	const struct pattern *p = pattern_find(ptr, len);

	atomic_fetch_add(&blocks_seen, 1);
	if (p == NULL)
		return;
	if (atomic_fetch_add(&unwiped, 1) == 0) {
		atomic_store(&first_unwiped, p->what);
		atomic_store(&first_unwiped_len, len);
	}
}

/* The hook sees what it must: a block freed with the canary in it is
 * caught, the same block wiped first is not. */
static void test_hook_catches(void)
{
	unsigned before = atomic_load(&unwiped);
	BYTE *b;

	capi11_set_free_hook(free_hook);
	b = capi11_malloc(64);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memset(b, 0x55, 64);
	memcpy(b + 10, canary_key, sizeof canary_key);
	capi11_free(b);
	CU_ASSERT_EQUAL(atomic_load(&unwiped), before + 1);

	b = capi11_malloc(64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memcpy(b + 3, CANARY_PIN, strlen(CANARY_PIN));
	capi11_free_secret(b, 64);
	CU_ASSERT_EQUAL(atomic_load(&unwiped), before + 1);
	capi11_set_free_hook(NULL);
	atomic_store(&unwiped, 0);
	atomic_store(&first_unwiped, NULL);
}

/* ---- The secrets' journeys ---- */

static BYTE *export_blob(HCRYPTKEY k, HCRYPTKEY exp, DWORD type, DWORD *len)
{
	DWORD size = 0;
	BYTE *buf;

	if (!CryptExportKey(k, exp, type, 0, NULL, &size))
		return NULL;
	buf = malloc(size);
	*len = size;
	if (buf != NULL && !CryptExportKey(k, exp, type, 0, buf, len)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Key bytes in and out, every blob route, each failure path too. */
static void journey_keys(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	HCRYPTPROV h = 0;
	HCRYPTKEY aes = 0, pair = 0, back = 0, k = 0;
	BYTE *blob;
	DWORD len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "secrets", uri_pin, V_PROV_RSA_AES,
						  CRYPT_NEWKEYSET));

	CU_ASSERT_TRUE(CryptImportKey(h, plain_blob, sizeof plain_blob, 0, CRYPT_EXPORTABLE, &aes));
	blob = export_blob(aes, 0, PLAINTEXTKEYBLOB, &len);
	CU_ASSERT(blob != NULL && len == sizeof plain_blob &&
		  memcmp(blob, plain_blob, len) == 0);
	free(blob);

	CU_ASSERT_TRUE(CryptImportKey(h, priv_blob, priv_len, 0, CRYPT_EXPORTABLE, &pair));
	blob = export_blob(pair, 0, PRIVATEKEYBLOB, &len);
	CU_ASSERT(blob != NULL && len == priv_len && memcmp(blob, priv_blob, len) == 0);
	free(blob);

	/* SIMPLEBLOB there and back: the key unwrapped is the canary. It
	 * arrived wrapped, so it is sensitive (SPEC section 3): no plaintext,
	 * and its value shows through what it encrypts. */
	blob = export_blob(aes, pair, SIMPLEBLOB, &len);
	CU_ASSERT_PTR_NOT_NULL(blob);
	if (blob != NULL) {
		CU_ASSERT_TRUE(CryptImportKey(h, blob, len, pair, CRYPT_EXPORTABLE, &back));
		free(blob);
		len = 0;
		SetLastError(SENTINEL);
		CU_ASSERT_FALSE(CryptExportKey(back, 0, PLAINTEXTKEYBLOB, 0, NULL, &len));
		CU_ASSERT_EQUAL(GetLastError(), NTE_BAD_KEY_STATE);
		{
			BYTE ct[sizeof known_ct];
			DWORD ct_len = sizeof known;

			memcpy(ct, known, sizeof known);
			CU_ASSERT(CryptEncrypt(back, 0, TRUE, 0, ct, &ct_len, sizeof ct) &&
				  ct_len == sizeof known_ct &&
				  memcmp(ct, known_ct, sizeof known_ct) == 0);
		}
	}

	/* Under a wrap-only key, in the Microsoft and in capi11's own form. */
	{
		static const DWORD types[] = { SYMMETRICWRAPKEYBLOB, OPAQUEKEYBLOB };
		HCRYPTKEY kek = 0, w = 0;

		CU_ASSERT_TRUE(CryptGenKey(h, V_CALG_AES_256, CRYPT_KEK, &kek));
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
			blob = export_blob(aes, kek, types[i], &len);
			CU_ASSERT_PTR_NOT_NULL(blob);
			if (blob == NULL)
				continue;
			w = 0;
			CU_ASSERT_TRUE(CryptImportKey(h, blob, len, kek, CRYPT_EXPORTABLE, &w));
			free(blob);
			/* Sensitive once unwrapped under a KEK: the value shows
			 * through what it encrypts. */
			{
				BYTE ct[sizeof known_ct];
				DWORD ct_len = sizeof known;

				memcpy(ct, known, sizeof known);
				CU_ASSERT(CryptEncrypt(w, 0, TRUE, 0, ct, &ct_len, sizeof ct) &&
					  ct_len == sizeof known_ct &&
					  memcmp(ct, known_ct, sizeof known_ct) == 0);
			}
			if (w != 0)
				CryptDestroyKey(w);
		}
		CryptDestroyKey(kek);
	}

	/* The token has the bytes, then the call fails. */
	shim->reset();
	shim->fail("C_CreateObject", 1, CKR_GENERAL_ERROR);
	CU_ASSERT_FALSE(CryptImportKey(h, plain_blob, sizeof plain_blob, 0, CRYPT_EXPORTABLE, &k));
	shim->reset();
	shim->fail("C_CreateObject", 2, CKR_DEVICE_MEMORY);
	CU_ASSERT_FALSE(CryptImportKey(h, priv_blob, priv_len, 0, CRYPT_EXPORTABLE, &k));
	/* The module fills the buffers with the private numbers, then lies
	 * about their lengths: the export fails, the buffers are wiped. */
	shim->reset();
	shim->tamper_length(0, P11SHIM_LEN_TOO_LARGE);
	len = 4096;
	blob = malloc(len);
	CU_ASSERT_FALSE(CryptExportKey(pair, 0, PRIVATEKEYBLOB, 0, blob, &len));
	shim->reset();
	shim->tamper_length(0, P11SHIM_LEN_TOO_LARGE);
	len = 4096;
	CU_ASSERT_FALSE(CryptExportKey(aes, 0, PLAINTEXTKEYBLOB, 0, blob, &len));
	shim->reset();
	/* A caller's buffer too small: ERROR_MORE_DATA, nothing left behind. */
	len = 16;
	CU_ASSERT_FALSE(CryptExportKey(pair, 0, PRIVATEKEYBLOB, 0, blob, &len));
	free(blob);

	CU_ASSERT_TRUE(CryptDestroyKey(back));
	CU_ASSERT_TRUE(CryptDestroyKey(pair));
	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* Key bytes through hash objects: CryptHashSessionKey's reversed form
 * (which reads the key), as data kept for a duplicate's replay, as the
 * plaintext CryptEncrypt hashes, and as an HMAC key; then a module that
 * fills the key's value and lies about its length. */
static void journey_hashes(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	HCRYPTPROV h = 0;
	HCRYPTHASH hh = 0, copy = 0;
	HCRYPTKEY aes = 0, hmac = 0;
	BYTE hmac_blob[12 + 32], data[48], value[32];
	DWORD len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	shim->reset();
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri_pin, V_PROV_RSA_AES,
						  CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptImportKey(h, plain_blob, sizeof plain_blob, 0, CRYPT_EXPORTABLE, &aes));

	CU_ASSERT_TRUE(CryptCreateHash(h, CALG_SHA_256, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptHashData(hh, canary_key, sizeof canary_key, 0));
	CU_ASSERT_TRUE(CryptHashSessionKey(hh, aes, 0));
	CU_ASSERT_TRUE(CryptDuplicateHash(hh, NULL, 0, &copy));
	len = sizeof value;
	CU_ASSERT_TRUE(CryptGetHashParam(copy, HP_HASHVAL, value, &len, 0));
	CryptDestroyHash(copy);
	CryptDestroyHash(hh);

	CU_ASSERT_TRUE(CryptCreateHash(h, CALG_SHA_256, 0, 0, &hh));
	memcpy(data, canary_key, sizeof canary_key);
	len = sizeof canary_key;
	CU_ASSERT_TRUE(CryptEncrypt(aes, hh, TRUE, 0, data, &len, sizeof data));
	CryptDestroyHash(hh);

	memcpy(hmac_blob, plain_blob, 12);
	hmac_blob[4] = 0x02;	/* CALG_RC2, 0x6602 */
	memcpy(hmac_blob + 12, canary_key, sizeof canary_key);
	CU_ASSERT_TRUE(CryptImportKey(h, hmac_blob, sizeof hmac_blob, 0, CRYPT_IPSEC_HMAC_KEY,
				      &hmac));
	if (hmac != 0)
		CryptDestroyKey(hmac);

	/* The module gives the key's bytes, then a length past the buffer. */
	CU_ASSERT_TRUE(CryptCreateHash(h, CALG_SHA_256, 0, 0, &hh));
	shim->tamper_length(0, P11SHIM_LEN_TOO_LARGE);
	CU_ASSERT_FALSE(CryptHashSessionKey(hh, aes, 0));
	CU_ASSERT(shim->count("C_GetAttributeValue") >= 2);
	shim->reset();
	CryptDestroyHash(hh);

	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* The PIN from every source the library takes it from. */
static void journey_pins(void)
{
	HCRYPTPROV h = 0;
	char *path, *source_uri;
	size_t n;

	/* A PIN file ending in a newline, as editors write it. */
	path = fixture_write_file("pin.txt", CANARY_PIN "\n", strlen(CANARY_PIN) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	n = strlen(uri_nopin) + strlen(path) + 32;
	source_uri = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(source_uri);
	snprintf(source_uri, n, "%s&pin-source=%s", uri_nopin, path);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, source_uri, V_PROV_RSA_AES,
					    CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, uri_nopin, V_PROV_RSA_AES,
					    CRYPT_VERIFYCONTEXT | CRYPT_SILENT));
	CU_ASSERT_TRUE(CryptSetProvParam(h, PP_KEYEXCHANGE_PIN, (const BYTE *)CANARY_PIN, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	/* A wrong PIN on a token nobody has logged in to. */
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptAcquireContextA(&h, NULL, uri_wrong, V_PROV_RSA_AES,
					     CRYPT_VERIFYCONTEXT));
	CU_ASSERT_EQUAL(GetLastError(), V_SCARD_W_WRONG_CHV);
	free(source_uri);
	free(path);
}

/* URIs carrying the PIN, where the library traces them: opened, refused
 * as ambiguous, naming no token, with the name in capitals (which p11-kit
 * cannot parse), and from a configuration file. */
static void journey_uris(void)
{
	HCRYPTPROV h = 0;
	char *text, *conf;
	char uri[1024];

	snprintf(uri, sizeof uri, "%s&pin-value=%s&pin-value=%s", uri_nopin, CANARY_PIN,
		 CANARY_PIN);
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptAcquireContextA(&h, NULL, uri, V_PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_EQUAL(GetLastError(), V_NTE_BAD_PROVIDER);

	snprintf(uri, sizeof uri, "pkcs11:token=no-such-token?module-path=%s&pin-value=%s",
		 SOFTHSM_MODULE, CANARY_PIN);
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptAcquireContextA(&h, NULL, uri, V_PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_EQUAL(GetLastError(), V_SCARD_E_NO_SMARTCARD);

	/* p11-kit cannot parse it: refused, traced masked all the same. */
	snprintf(uri, sizeof uri, "%s&PIN-VALUE=%s", uri_nopin, CANARY_PIN);
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptAcquireContextA(&h, NULL, uri, V_PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_EQUAL(GetLastError(), V_NTE_BAD_PROVIDER);

	/* A default provider given as a URI with the PIN, in a private file,
	 * then in one that others may read (refused, and traced). */
	CU_ASSERT_FATAL(asprintf(&text, "[capi11]\ndefault-provider = %s&pin-value=%s\n",
				 uri_nopin, CANARY_PIN) > 0);
	conf = fixture_write_file("secrets.conf", text, strlen(text));
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	setenv("CAPI11_CONF", conf, 1);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, NULL, V_PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_EQUAL(chmod(conf, 0644), 0);
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptAcquireContextA(&h, NULL, NULL, V_PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_EQUAL(GetLastError(), V_NTE_KEYSET_ENTRY_BAD);
	setenv("CAPI11_CONF", "/nonexistent/capi11.conf", 1);
	free(conf);
	free(text);
}

static void test_no_secret_escapes(void)
{
	const struct pattern *p;
	size_t len;
	char *text;

	capi11_set_free_hook(free_hook);
	testutil_stderr_begin("trace.txt");
	journey_pins();
	journey_uris();
	journey_keys();
	journey_hashes();
	text = testutil_stderr_end(&len);
	capi11_set_free_hook(NULL);

	/* Tracing was on: the calls are there, the secrets are not. */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "C_Login"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "C_CreateObject"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "CryptImportKey"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "CryptExportKey"));
	/* The URIs were traced, their PINs masked. */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "pin-value=***"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "PIN-VALUE=***"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "refused"));
	p = pattern_find(text, len);
	if (p == NULL)
		p = pattern_find_hex(text);
	if (p != NULL)
		fprintf(stderr, "\n  the trace shows the %s (%s/trace.txt)", p->what,
			fixture_dir());
	CU_ASSERT_PTR_NULL(p);
	free(text);

	CU_ASSERT(atomic_load(&blocks_seen) > 0);
	if (atomic_load(&unwiped) > 0)
		fprintf(stderr, "\n  %u freed blocks held a secret, the first the %s (%zu bytes)",
			atomic_load(&unwiped), atomic_load(&first_unwiped),
			atomic_load(&first_unwiped_len));
	CU_ASSERT_EQUAL(atomic_load(&unwiped), 0);
}

/* ---- Suite ---- */

static char *uri_with(const char *base, const char *pin)
{
	size_t n = strlen(base) + strlen(pin) + 16;
	char *u = malloc(n);

	if (u != NULL)
		snprintf(u, n, "%s&pin-value=%s", base, pin);
	return u;
}

static int suite_init(void)
{
	static const BYTE head[12] = { 0x08, 0x02, 0x00, 0x00, 0x10, 0x66, 0x00, 0x00,
				       0x20, 0x00, 0x00, 0x00 };
	char *base;

	if (!fixture_init()) {
		cutest_skip("SoftHSM is not installed");
		return 0;
	}
	if (fixture_shim() == NULL) {
		cutest_skip("the fault-injecting shim was not built");
		return 0;
	}
	priv_blob = testutil_vector_load("rsa1024-priv.blob", &priv_len);
	if (priv_blob == NULL || priv_len != 20 + 128 * 2 + 64 * 5)
		return -1;
	memcpy(plain_blob, head, sizeof head);
	memcpy(plain_blob + 12, canary_key, sizeof canary_key);
	if (!testutil_openssl_enc_load("-aes-256-cbc", canary_key, sizeof canary_key, 16, known,
				       sizeof known, known_ct, sizeof known_ct))
		return -1;
	patterns_init();

	label = fixture_label_new("secrets");
	wrong_label = fixture_label_new("wrongpin");
	if (label == NULL || wrong_label == NULL || fixture_token_new(label) != 0 ||
	    fixture_token_new(wrong_label) != 0)
		return -1;
	/* The canary becomes the token's PIN before anything in this process
	 * loads SoftHSM. */
	if (fixture_pkcs11_tool(label, true, NULL, "--change-pin --new-pin " CANARY_PIN) != 0)
		return -1;
	base = fixture_token_uri_shim(label, false);
	uri_nopin = base;
	uri_pin = base ? uri_with(base, CANARY_PIN) : NULL;
	base = fixture_token_uri_shim(wrong_label, false);
	uri_wrong = base ? uri_with(base, WRONG_PIN) : NULL;
	free(base);
	if (uri_pin == NULL || uri_wrong == NULL)
		return -1;
	/* Tracing at its most verbose, whatever the configuration says. */
	setenv("CAPI11_CONF", "/nonexistent/capi11.conf", 1);
	setenv("CAPI11_TRACE", "3", 1);
	return 0;
}

static CU_TestInfo tests[] = {
	{ "the free hook catches an unwiped block", test_hook_catches },
	{ "no PIN or key byte in traces or freed memory", test_no_secret_escapes },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "secrets", suite_init, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc = cutest_run(suites);

	fixture_cleanup(rc == 0 || rc == CUTEST_SKIP);
	free(uri_pin);
	free(uri_nopin);
	free(uri_wrong);
	free(label);
	free(wrong_label);
	free(priv_blob);
	return rc;
}
