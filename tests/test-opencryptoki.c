/* capi11 on a real module beside SoftHSM: openCryptoki's software token
 * (openCryptoki 3.8.1 on Debian 12, served by pkcsslotd), whose provider
 * URI scripts/with-opencryptoki.sh puts in $OCK_PROV on a freshly
 * initialised token. Run by `make check-opencryptoki` (root: the script
 * owns the machine's one openCryptoki token); not part of `make check`.
 * Without $OCK_PROV the program is skipped (77).
 *
 * What a key holds is checked by openssl, never by capi11 reading it back:
 * the public key as openssl reads a PUBLICKEYBLOB (MSBLOB), session keys by
 * encrypting as `openssl enc` does, SIMPLEBLOBs by openssl making or
 * opening them with the keys at each end. */
#include "config.h"
#include "cutest.h"
#include "fixture.h"
#include "key.h"
#include "testutil.h"
#include "token-ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wincrypt.h>

#define CONTAINER "ock-container"
#define RSA1024 (1024u << 16)

static const char *prov;

static HCRYPTPROV open_container(void)
{
	HCRYPTPROV h = 0;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, CONTAINER, prov, PROV_RSA_AES, 0));
	return h;
}

static HCRYPTKEY import_plain(HCRYPTPROV h, ALG_ID alg, const BYTE *value, DWORD len, DWORD flags)
{
	BYTE blob[12 + 32];
	HCRYPTKEY k = 0;
	DWORD n = testutil_plaintext_blob(blob, alg, value, len);

	if (!CryptImportKey(h, blob, n, 0, flags, &k)) {
		fprintf(stderr, "\n  import of 0x%04x: 0x%08x", (unsigned)alg,
			(unsigned)GetLastError());
		CU_FAIL_FATAL("PLAINTEXTKEYBLOB import failed");
	}
	return k;
}

static DWORD key_param(HCRYPTKEY k, DWORD param)
{
	DWORD v = SENTINEL, len = sizeof v;

	CU_ASSERT_TRUE(CryptGetKeyParam(k, param, (BYTE *)&v, &len, 0));
	return v;
}

/* The exchange key's public key as PEM, by openssl from capi11's
 * PUBLICKEYBLOB; its path, malloc'd. */
static char *exchange_pem(HCRYPTPROV h)
{
	HCRYPTKEY xchg = 0;
	BYTE *blob;
	DWORD len = 0;
	char *blob_path, *pem = testutil_temp_path("ock-xchg.pem");

	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &xchg));
	blob = testutil_blob_export(xchg, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	blob_path = fixture_write_file("ock-xchg.blob", blob, len);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s rsa -pubin -inform MSBLOB -in %s -outform PEM -out %s",
					  OPENSSL_BIN, blob_path, pem), 0);
	free(blob_path);
	free(blob);
	CryptDestroyKey(xchg);
	return pem;
}

/* ---- Containers and key pairs --------------------------------------------- */

static void test_container(void)
{
	HCRYPTPROV h = 0, again = 0;
	HCRYPTKEY k = 0;
	char name[256];
	DWORD len, flags = CRYPT_FIRST;
	bool listed = false;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, CONTAINER, prov, PROV_RSA_AES,
						  CRYPT_NEWKEYSET));
	CHECK_FAILS_WITH(CryptAcquireContextA(&again, CONTAINER, prov, PROV_RSA_AES,
					      CRYPT_NEWKEYSET), NTE_EXISTS);
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_KEYEXCHANGE, &k), NTE_NO_KEY);
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_SIGNATURE, &k), NTE_NO_KEY);
	for (;;) {
		len = sizeof name;
		if (!CryptGetProvParam(h, PP_ENUMCONTAINERS, (BYTE *)name, &len, flags))
			break;
		flags = 0;
		listed = listed || strcmp(name, CONTAINER) == 0;
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	CU_ASSERT_TRUE(listed);
	CryptReleaseContext(h, 0);
	h = open_container();
	CryptReleaseContext(h, 0);
}

static void test_genkey(void)
{
	HCRYPTPROV h = open_container();
	HCRYPTKEY xchg = 0, sig = 0, k = 0;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, RSA1024, &xchg));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, RSA1024, &sig));
	CU_ASSERT_EQUAL(key_param(xchg, KP_ALGID), CALG_RSA_KEYX);
	CU_ASSERT_EQUAL(key_param(sig, KP_ALGID), CALG_RSA_SIGN);
	CU_ASSERT_EQUAL(key_param(xchg, KP_KEYLEN), 1024);
	CryptDestroyKey(xchg);
	CryptDestroyKey(sig);
	CryptReleaseContext(h, 0);
	/* Both found again by a new context, each in its own slot. */
	h = open_container();
	CU_ASSERT_TRUE(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	CU_ASSERT_EQUAL(key_param(k, KP_ALGID), CALG_RSA_KEYX);
	CryptDestroyKey(k);
	CU_ASSERT_TRUE(CryptGetUserKey(h, AT_SIGNATURE, &k));
	CU_ASSERT_EQUAL(key_param(k, KP_ALGID), CALG_RSA_SIGN);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
}

/* The PUBLICKEYBLOB is a 1024-bit RSA key to openssl. */
static void test_publickeyblob(void)
{
	HCRYPTPROV h = open_container();
	char *pem = exchange_pem(h);
	char *text = fixture_capture(NULL, "%s rsa -pubin -in %s -noout -text", OPENSSL_BIN, pem);

	CU_ASSERT_PTR_NOT_NULL(text);
	CU_ASSERT_PTR_NOT_NULL(text ? strstr(text, "Public-Key: (1024 bit)") : NULL);
	free(text);
	free(pem);
	CryptReleaseContext(h, 0);
}

/* ---- RSA ------------------------------------------------------------------ */

static void test_rsa_round_trip(void)
{
	static const char msg[] = "openCryptoki decrypts what capi11 encrypts";
	HCRYPTPROV h = open_container();
	HCRYPTKEY xchg = 0;
	BYTE buf[128];
	DWORD len = sizeof msg - 1;

	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &xchg));
	memcpy(buf, msg, len);
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(xchg, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(len, 128);
	CU_ASSERT_TRUE_FATAL(CryptDecrypt(xchg, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, sizeof msg - 1);
	CU_ASSERT_EQUAL(memcmp(buf, msg, sizeof msg - 1), 0);
	CryptDestroyKey(xchg);
	CryptReleaseContext(h, 0);
}

/* openssl encrypts (PKCS#1 v1.5) with the exported public key; capi11
 * decrypts on the token, the input byte-reversed as Windows takes it. */
static void test_rsa_openssl_encrypts(void)
{
	static const char msg[] = "openssl to openCryptoki";
	HCRYPTPROV h = open_container();
	HCRYPTKEY xchg = 0;
	char *pem = exchange_pem(h);
	char *in = fixture_write_file("ock-rsa.in", msg, sizeof msg - 1);
	char *out = testutil_temp_path("ock-rsa.ct");
	BYTE *ct = NULL, buf[128];
	DWORD ct_len = 0, len;

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkeyutl -encrypt -pubin -inkey %s -in %s -out %s",
					  OPENSSL_BIN, pem, in, out), 0);
	ct = testutil_file_read(out, &ct_len);
	CU_ASSERT_EQUAL_FATAL(ct_len, 128);
	for (DWORD i = 0; i < ct_len; i++)
		buf[i] = ct[ct_len - 1 - i];
	len = ct_len;
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &xchg));
	CU_ASSERT_TRUE(CryptDecrypt(xchg, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, sizeof msg - 1);
	CU_ASSERT_EQUAL(memcmp(buf, msg, sizeof msg - 1), 0);
	CryptDestroyKey(xchg);
	free(ct);
	free(out);
	free(in);
	free(pem);
	CryptReleaseContext(h, 0);
}

/* ---- SIMPLEBLOB ----------------------------------------------------------- */

/* CKA_SENSITIVE and CKA_EXTRACTABLE of the key's object, as the token
 * tells them. */
static void token_flags(HCRYPTKEY k, CK_BBOOL *sensitive, CK_BBOOL *extractable)
{
	CK_ATTRIBUTE a[] = {
		{ CKA_SENSITIVE, sensitive, sizeof *sensitive },
		{ CKA_EXTRACTABLE, extractable, sizeof *extractable },
	};
	struct key *key;

	*sensitive = *extractable = 0xff;
	CU_ASSERT_EQUAL_FATAL(key_get_locked(k, &key), ERROR_SUCCESS);
	CU_ASSERT_EQUAL(token_get_attributes(&key->ctx->ts, key->obj->priv, a, 2), CKR_OK);
	key_put_locked(key);
}

/* openssl wraps an AES-128 key for the container's exchange key; the
 * imported key encrypts as openssl does with that value. openCryptoki 3.8
 * makes every unwrapped key readable whatever the template asks; without
 * CRYPT_EXPORTABLE the key must end sensitive and not extractable on the
 * token all the same. */
static void test_simpleblob_import(void)
{
	static const BYTE value[16] = {
		0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	};
	HCRYPTPROV h = open_container();
	HCRYPTKEY xchg = 0, k = 0;
	char *pem = exchange_pem(h);
	char *in = fixture_write_file("ock-simple.in", value, sizeof value);
	char *out = testutil_temp_path("ock-simple.ct");
	BYTE *ct = NULL, blob[12 + 128];
	DWORD ct_len = 0;
	CK_BBOOL sensitive, extractable;

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkeyutl -encrypt -pubin -inkey %s -in %s -out %s",
					  OPENSSL_BIN, pem, in, out), 0);
	ct = testutil_file_read(out, &ct_len);
	CU_ASSERT_EQUAL_FATAL(ct_len, 128);
	blob[0] = SIMPLEBLOB;
	blob[1] = 2;
	blob[2] = blob[3] = 0;
	testutil_le32_put(blob + 4, CALG_AES_128);
	testutil_le32_put(blob + 8, CALG_RSA_KEYX);
	for (DWORD i = 0; i < ct_len; i++)
		blob[12 + i] = ct[ct_len - 1 - i];
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &xchg));
	SetLastError(SENTINEL);
	if (!CryptImportKey(h, blob, sizeof blob, xchg, 0, &k)) {
		fprintf(stderr, "\n  SIMPLEBLOB import: 0x%08x", (unsigned)GetLastError());
		CU_FAIL_FATAL("SIMPLEBLOB import failed");
	}
	CU_ASSERT_EQUAL(key_param(k, KP_ALGID), CALG_AES_128);
	token_flags(k, &sensitive, &extractable);
	CU_ASSERT_EQUAL(sensitive, CK_TRUE);
	CU_ASSERT_EQUAL(extractable, CK_FALSE);
	testutil_check_encrypts_as(k, "-aes-128-cbc", value, sizeof value, 16);
	CryptDestroyKey(k);
	CryptDestroyKey(xchg);
	free(ct);
	free(out);
	free(in);
	free(pem);
	CryptReleaseContext(h, 0);
}

/* A session key made on the token, exported as a SIMPLEBLOB to a partner
 * whose key openssl made; openssl opens it, and the value it finds is the
 * key (it encrypts as openssl does with that value). */
static void test_simpleblob_export(void)
{
	HCRYPTPROV h = open_container();

	testutil_check_simpleblob_to_partner(h, "ock");
	CryptReleaseContext(h, 0);
}

/* ---- Session keys --------------------------------------------------------- */

/* Encrypts as openssl does, and decrypts its own ciphertext back. */
static void check_cipher(HCRYPTKEY k, const char *cipher, const BYTE *value, size_t len,
			 size_t block)
{
	static const char msg[] = "thirty-three bytes of plain text!";
	BYTE buf[64];
	DWORD n = sizeof msg - 1;

	testutil_check_encrypts_as(k, cipher, value, len, block);
	memcpy(buf, msg, n);
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(k, 0, TRUE, 0, buf, &n, sizeof buf));
	CU_ASSERT_EQUAL(n, (sizeof msg - 1) / block * block + block);
	CU_ASSERT_TRUE_FATAL(CryptDecrypt(k, 0, TRUE, 0, buf, &n));
	CU_ASSERT_EQUAL(n, sizeof msg - 1);
	CU_ASSERT_EQUAL(memcmp(buf, msg, sizeof msg - 1), 0);
}

static const BYTE value32[32] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
	0x32, 0x10, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x0f, 0x1e, 0x2d, 0x3c,
	0x4b, 0x5a, 0x69, 0x78,
};

static void test_aes(void)
{
	HCRYPTPROV h = open_container();
	HCRYPTKEY k;

	k = import_plain(h, CALG_AES_128, value32, 16, 0);
	check_cipher(k, "-aes-128-cbc", value32, 16, 16);
	CryptDestroyKey(k);
	k = import_plain(h, CALG_AES_256, value32, 32, 0);
	check_cipher(k, "-aes-256-cbc", value32, 32, 16);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
}

static void test_3des(void)
{
	HCRYPTPROV h = open_container();
	HCRYPTKEY k = 0;
	BYTE *blob;
	DWORD len = 0;

	k = import_plain(h, CALG_3DES, value32, 24, 0);
	check_cipher(k, "-des-ede3-cbc", value32, 24, 8);
	CryptDestroyKey(k);
	/* A key the token made: its value, exported, is what it encrypts
	 * with. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_3DES, CRYPT_EXPORTABLE, &k));
	blob = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL_FATAL(len, 12 + 24);
	check_cipher(k, "-des-ede3-cbc", blob + 12, 24, 8);
	free(blob);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
}

/* No CKK_DES2 on openCryptoki: the two-key value is held as K1|K2|K1,
 * encrypts as openssl's two-key 3DES, and exports as the 16 bytes it came
 * as. CryptGenKey cannot make one there (no generator of K1|K2 on the
 * token): the companion token makes it, and it encrypts as openssl's
 * two-key 3DES with the value it exports. */
static void test_3des_112(void)
{
	HCRYPTPROV h = open_container();
	HCRYPTKEY k = 0;
	BYTE plain[12 + 16];
	DWORD n = testutil_plaintext_blob(plain, CALG_3DES_112, value32, 16);

	k = import_plain(h, CALG_3DES_112, value32, 16, CRYPT_EXPORTABLE);
	CU_ASSERT_EQUAL(key_param(k, KP_ALGID), CALG_3DES_112);
	CU_ASSERT_EQUAL(key_param(k, KP_KEYLEN), 128);
	check_cipher(k, "-des-ede-cbc", value32, 16, 8);
	CU_ASSERT_TRUE(testutil_exports_as(k, PLAINTEXTKEYBLOB, plain, n));
	CryptDestroyKey(k);
	k = 0;
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_3DES_112, CRYPT_EXPORTABLE, &k));
	CU_ASSERT_EQUAL(key_param(k, KP_KEYLEN), 128);
	{
		DWORD len = 0;
		BYTE *blob = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &len);

		CU_ASSERT_EQUAL_FATAL(len, 12 + 16);
		check_cipher(k, "-des-ede-cbc", blob + 12, 16, 8);
		free(blob);
	}
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
}

static void test_gen_random(void)
{
	HCRYPTPROV h = open_container();
	BYTE a[32], b[32], zero[32] = { 0 };

	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	CU_ASSERT_TRUE(CryptGenRandom(h, sizeof a, a));
	CU_ASSERT_TRUE(CryptGenRandom(h, sizeof b, b));
	CU_ASSERT_NOT_EQUAL(memcmp(a, zero, sizeof a), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, sizeof a), 0);
	CryptReleaseContext(h, 0);
}

/* Last: CRYPT_DELETEKEYSET takes the container and its keys away. */
static void test_delete(void)
{
	HCRYPTPROV h = 0;

	CU_ASSERT_TRUE(CryptAcquireContextA(&h, CONTAINER, prov, PROV_RSA_AES,
					    CRYPT_DELETEKEYSET));
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, CONTAINER, prov, PROV_RSA_AES, 0),
			 NTE_BAD_KEYSET);
}

static CU_TestInfo tests[] = {
	{ "CRYPT_NEWKEYSET makes a container", test_container },
	{ "genkey AT_KEYEXCHANGE and AT_SIGNATURE", test_genkey },
	{ "PUBLICKEYBLOB read by openssl", test_publickeyblob },
	{ "RSA CryptEncrypt/CryptDecrypt round trip", test_rsa_round_trip },
	{ "RSA: openssl encrypts, the token decrypts", test_rsa_openssl_encrypts },
	{ "SIMPLEBLOB import of openssl's", test_simpleblob_import },
	{ "SIMPLEBLOB export opened by openssl", test_simpleblob_export },
	{ "AES-128/256 as openssl enc", test_aes },
	{ "3DES as openssl enc", test_3des },
	{ "CALG_3DES_112 as K1|K2|K1", test_3des_112 },
	{ "CryptGenRandom", test_gen_random },
	{ "CRYPT_DELETEKEYSET", test_delete },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "opencryptoki", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	prov = getenv("OCK_PROV");
	if (prov == NULL || *prov == '\0') {
		fprintf(stderr, "test-opencryptoki: $OCK_PROV is not set "
				"(run it with scripts/with-opencryptoki.sh)\n");
		return CUTEST_SKIP;
	}
	if (!fixture_init())
		return CUTEST_SKIP;
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	return rc;
}
