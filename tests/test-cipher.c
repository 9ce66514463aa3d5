/* CryptEncrypt and CryptDecrypt against a throwaway SoftHSM token (SPEC
 * section 6). Expected ciphertexts come from `openssl enc` (session keys,
 * CBC and ECB, PKCS#5 padding) and RSA results are checked with `openssl
 * pkeyutl` on the key exported as a PRIVATEKEYBLOB; the size rules, the
 * errors and the byte order are Microsoft's (CryptEncrypt/CryptDecrypt
 * pages) as rsaenh reproduces them. The contexts go through the p11shim,
 * which counts PKCS#11 calls: a size query must make none.
 *
 * With CAPI11_TEST_PROFILE set (tests/local.mk), the same tests run on one
 * of the shim's card profiles (p11shim.h): the session keys then live on
 * the companion token (capi11.conf(5)) and must pass the same openssl
 * checks; the RSA tests use the card's own key, openssl's rsa1024, put on
 * the token with pkcs11-tool, and public-key operations go wherever the
 * card sends them. */
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *label;
static char *uri;
/* Single DES in SoftHSM (and in openssl) needs OpenSSL's legacy provider,
 * which this process switches on through OPENSSL_CONF (see main). */
static bool des_available;
/* The card profile (testutil.h), and the container a card comes with. */
static enum testutil_card card;
#define CARD_CONTAINER "card"

/* Whether single DES runs where capi11 makes the key: SoftHSM needs
 * OpenSSL's legacy provider; on a card the key is the companion's, and
 * NSS's softokn has DES of its own (capi11.conf(5)). */
static bool des_runs(void)
{
	return card != CARD_SOFTHSM || des_available;
}

struct cipher {
	ALG_ID alg;
	DWORD key_len;
	DWORD block;
	const char *cbc, *ecb;        /* openssl enc names */
};

static const struct cipher ciphers[] = {
	{ CALG_AES_128, 16, 16, "aes-128-cbc", "aes-128-ecb" },
	{ CALG_AES_192, 24, 16, "aes-192-cbc", "aes-192-ecb" },
	{ CALG_AES_256, 32, 16, "aes-256-cbc", "aes-256-ecb" },
	{ CALG_3DES, 24, 8, "des-ede3-cbc", "des-ede3-ecb" },
	{ CALG_3DES_112, 16, 8, "des-ede-cbc", "des-ede-ecb" },
	{ CALG_DES, 8, 8, "des-cbc", "des-ecb" },
};

/* ---- helpers ---- */

static HCRYPTPROV open_verify(void)
{
	HCRYPTPROV h = 0;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	return h;
}

/* The ciphertext openssl makes of pt; iv NULL for ECB. */
static BYTE *openssl_enc(const char *name, const BYTE *key, DWORD key_len, const BYTE *iv,
			 DWORD block, bool pad, const BYTE *pt, DWORD n, DWORD *out_len)
{
	char key_hex[65], iv_hex[33] = "", iv_arg[40] = "";
	char *in = testutil_temp_write("in", pt, n), *out = testutil_temp_path("ct");
	BYTE *ct;
	int st;

	testutil_hex_put(key_hex, key, key_len);
	if (iv != NULL) {
		testutil_hex_put(iv_hex, iv, block);
		snprintf(iv_arg, sizeof iv_arg, "-iv %s", iv_hex);
	}
	st = fixture_run("%s enc -e -%s %s -K %s %s %s -in %s -out %s", OPENSSL_BIN, name,
			 strncmp(name, "des-", 4) == 0 && strncmp(name, "des-ede", 7) != 0 ?
			 "-provider legacy -provider default" : "",
			 key_hex, iv_arg, pad ? "" : "-nopad", in, out);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	ct = testutil_file_read(out, out_len);
	free(in);
	free(out);
	return ct;
}

static HCRYPTKEY import_key(HCRYPTPROV h, ALG_ID alg, const BYTE *key, DWORD len)
{
	BYTE blob[12 + 32];
	HCRYPTKEY k = 0;

	blob[0] = PLAINTEXTKEYBLOB;
	blob[1] = 2;
	blob[2] = blob[3] = 0;
	memcpy(blob + 4, &alg, 4);
	memcpy(blob + 8, &len, 4);
	memcpy(blob + 12, key, len);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, 12 + len, 0, 0, &k));
	return k;
}

static void fill(BYTE *b, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (BYTE)(i * 7 + seed);
}

static const struct p11shim_ops *shim(void)
{
	const struct p11shim_ops *ops = fixture_shim();

	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	return ops;
}

/* ---- known answers, session keys ---- */

/* One-shot CryptEncrypt with Final = TRUE against openssl, then back. */
static void check_kat(HCRYPTKEY k, const struct cipher *c, const BYTE *key, const BYTE *iv,
		      bool ecb, DWORD n)
{
	BYTE pt[64], buf[96];
	DWORD len = n, exp_len;
	BYTE *exp;

	fill(pt, n, n + 1);
	exp = openssl_enc(ecb ? c->ecb : c->cbc, key, c->key_len, ecb ? NULL : iv, c->block, true,
			  pt, n, &exp_len);
	memcpy(buf, pt, n);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(len, exp_len);
	CU_ASSERT_EQUAL(len, (n / c->block + 1) * c->block);
	CU_ASSERT_EQUAL(memcmp(buf, exp, exp_len), 0);
	CU_ASSERT_TRUE_FATAL(CryptDecrypt(k, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, n);
	CU_ASSERT_EQUAL(memcmp(buf, pt, n), 0);
	free(exp);
}

static void test_known_answers(void)
{
	static const DWORD lengths[] = { 0, 5, 8, 16, 35 };
	HCRYPTPROV h = open_verify();
	BYTE key[32], iv[16];
	DWORD mode, i, j;
	HCRYPTKEY k;

	for (i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
		const struct cipher *c = &ciphers[i];

		if (c->alg == CALG_DES && !des_available)
			continue;
		fill(key, c->key_len, 0x40 + i);
		k = import_key(h, c->alg, key, c->key_len);
		/* The default: CBC with a zero IV. */
		memset(iv, 0, sizeof iv);
		for (j = 0; j < sizeof lengths / sizeof lengths[0]; j++)
			check_kat(k, c, key, iv, false, lengths[j]);
		/* A KP_IV of the caller's. */
		fill(iv, c->block, 0x90);
		CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(k, KP_IV, iv, 0));
		check_kat(k, c, key, iv, false, 21);
		/* ECB through KP_MODE. */
		mode = CRYPT_MODE_ECB;
		CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(k, KP_MODE, (BYTE *)&mode, 0));
		check_kat(k, c, key, NULL, true, 0);
		check_kat(k, c, key, NULL, true, 19);
		CU_ASSERT_TRUE(CryptDestroyKey(k));
	}
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* On a card the session keys are the companion's: the provider says so
 * (PP_CAPI11_ROUTES), and making and using one asks the card nothing of
 * secret keys (the shim counts the card's calls). */
static void test_card_session_keys_elsewhere(void)
{
	static const char *const card_calls[] = {
		"C_GenerateKey", "C_CreateObject", "C_EncryptInit", "C_DecryptInit",
	};
	const struct p11shim_ops *ops = shim();
	unsigned long before[sizeof card_calls / sizeof card_calls[0]];
	HCRYPTPROV h = open_verify();
	BYTE key[16], buf[32];
	char routes[512];
	DWORD len = sizeof routes;
	HCRYPTKEY k;
	size_t i;

	CU_ASSERT_TRUE_FATAL(CryptGetProvParam(h, PP_CAPI11_ROUTES, (BYTE *)routes, &len, 0));
	CU_ASSERT_PTR_NOT_NULL(strstr(routes, "session-key=companion "));
	for (i = 0; i < sizeof card_calls / sizeof card_calls[0]; i++)
		before[i] = ops->count(card_calls[i]);
	fill(key, 16, 5);
	k = import_key(h, CALG_AES_128, key, 16);
	testutil_check_encrypts_as(k, "-aes-128-cbc", key, 16, 16);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	/* A generated key, there and back. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_3DES, 0, &k));
	memcpy(buf, "on the companion", 16);
	len = 16;
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(len, 24);
	CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, 0, buf, &len));
	CU_ASSERT(len == 16 && memcmp(buf, "on the companion", 16) == 0);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	for (i = 0; i < sizeof card_calls / sizeof card_calls[0]; i++)
		CU_ASSERT_EQUAL(ops->count(card_calls[i]), before[i]);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* Where the token cannot run single DES (OpenSSL 3 without its legacy
 * provider), CryptEncrypt says so instead of failing vaguely. */
static void test_des_generated(void)
{
	HCRYPTPROV h = open_verify();
	BYTE buf[16] = "des data";
	DWORD len = 8;
	HCRYPTKEY k;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DES, 0, &k));
	SetLastError(SENTINEL);
	if (des_runs()) {
		CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
		CU_ASSERT_EQUAL(len, 16);
		CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, 0, buf, &len));
		CU_ASSERT_EQUAL(len, 8);
		CU_ASSERT_EQUAL(memcmp(buf, "des data", 8), 0);
	} else {
		CU_ASSERT_FALSE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
		CU_ASSERT_EQUAL(GetLastError(), NTE_NOT_SUPPORTED);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- streaming ---- */

static void test_streaming(void)
{
	HCRYPTPROV h = open_verify();
	BYTE key[16], zero[16] = { 0 }, pt[100], buf[128];
	DWORD len, exp_len, total;
	BYTE *exp;
	HCRYPTKEY k;

	fill(key, 16, 3);
	fill(pt, sizeof pt, 9);
	k = import_key(h, CALG_AES_128, key, 16);
	exp = openssl_enc("aes-128-cbc", key, 16, zero, 16, true, pt, 87, &exp_len);
	CU_ASSERT_EQUAL_FATAL(exp_len, 96);

	/* 32 + 0 + 48 bytes non-final, then 7 with Final. */
	memcpy(buf, pt, 87);
	len = 32;
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(k, 0, FALSE, 0, buf, &len, 32));
	CU_ASSERT_EQUAL(len, 32);
	/* A partial block refused mid-stream leaves the stream going. */
	len = 17;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, FALSE, 0, buf + 32, &len, 48), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(memcmp(buf + 32, pt + 32, 48), 0);
	len = 0;
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(k, 0, FALSE, 0, buf + 32, &len, 0));
	CU_ASSERT_EQUAL(len, 0);
	len = 48;
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(k, 0, FALSE, 0, buf + 32, &len, 48));
	/* A size query between the calls leaves the stream alone. */
	total = 7;
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, NULL, &total, 0));
	CU_ASSERT_EQUAL(total, 16);
	len = 7;
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(k, 0, TRUE, 0, buf + 80, &len, 16));
	CU_ASSERT_EQUAL(len, 16);
	CU_ASSERT_EQUAL(memcmp(buf, exp, 96), 0);

	/* Decrypting block by block returns every whole block at once: no
	 * block is held back for the padding. */
	len = 16;
	CU_ASSERT_TRUE_FATAL(CryptDecrypt(k, 0, FALSE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, 16);
	CU_ASSERT_EQUAL(memcmp(buf, pt, 16), 0);
	len = 15;
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, FALSE, 0, buf + 16, &len), NTE_BAD_DATA);
	len = 64;
	CU_ASSERT_TRUE_FATAL(CryptDecrypt(k, 0, FALSE, 0, buf + 16, &len));
	CU_ASSERT_EQUAL(len, 64);
	len = 16;
	CU_ASSERT_TRUE_FATAL(CryptDecrypt(k, 0, TRUE, 0, buf + 80, &len));
	CU_ASSERT_EQUAL(len, 7);
	CU_ASSERT_EQUAL(memcmp(buf, pt, 87), 0);

	/* After Final the key starts again from KP_IV: the same plaintext
	 * gives the same ciphertext twice. */
	memcpy(buf, pt, 20);
	len = 20;
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(memcmp(buf, exp, 16), 0);
	memcpy(buf, pt, 20);
	len = 20;
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(memcmp(buf, exp, 16), 0);
	free(exp);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* Two keys of one context stream at the same time: neither leaves an
 * operation open on the shared session. */
static void test_two_streams(void)
{
	HCRYPTPROV h = open_verify();
	BYTE ka[16], kb[24], zero[16] = { 0 }, pt[64], a[80], b[80];
	DWORD len, la, lb;
	BYTE *ea, *eb;
	HCRYPTKEY k1, k2;

	fill(ka, 16, 1);
	fill(kb, 24, 2);
	fill(pt, sizeof pt, 5);
	k1 = import_key(h, CALG_AES_128, ka, 16);
	k2 = import_key(h, CALG_3DES, kb, 24);
	ea = openssl_enc("aes-128-cbc", ka, 16, zero, 16, true, pt, 40, &la);
	eb = openssl_enc("des-ede3-cbc", kb, 24, zero, 8, true, pt, 40, &lb);
	memcpy(a, pt, 40);
	memcpy(b, pt, 40);
	len = 16;
	CU_ASSERT_TRUE(CryptEncrypt(k1, 0, FALSE, 0, a, &len, 16));
	len = 16;
	CU_ASSERT_TRUE(CryptEncrypt(k2, 0, FALSE, 0, b, &len, 16));
	len = 24;
	CU_ASSERT_TRUE(CryptEncrypt(k1, 0, TRUE, 0, a + 16, &len, 64));
	CU_ASSERT_EQUAL(len, 32);
	len = 24;
	CU_ASSERT_TRUE(CryptEncrypt(k2, 0, TRUE, 0, b + 16, &len, 64));
	CU_ASSERT_EQUAL(len, 32);
	CU_ASSERT_EQUAL(la, 48);
	CU_ASSERT_EQUAL(lb, 48);
	CU_ASSERT_EQUAL(memcmp(a, ea, 48), 0);
	CU_ASSERT_EQUAL(memcmp(b, eb, 48), 0);
	free(ea);
	free(eb);
	CU_ASSERT_TRUE(CryptDestroyKey(k1));
	CU_ASSERT_TRUE(CryptDestroyKey(k2));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- sizes and buffers ---- */

static void test_sizes(void)
{
	const struct p11shim_ops *ops = shim();
	HCRYPTPROV h = open_verify();
	BYTE key[24], buf[64];
	unsigned long calls;
	HCRYPTKEY aes, des3;
	DWORD len;

	fill(key, 24, 7);
	aes = import_key(h, CALG_AES_128, key, 16);
	des3 = import_key(h, CALG_3DES, key, 24);

	/* pbData NULL: the size, from the key alone, whatever dwBufLen says. */
	calls = ops->total();
	len = 0;
	CU_ASSERT_TRUE(CryptEncrypt(aes, 0, TRUE, 0, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 16);
	len = 17;
	CU_ASSERT_TRUE(CryptEncrypt(aes, 0, TRUE, 0, NULL, &len, 1));
	CU_ASSERT_EQUAL(len, 32);
	len = 16;
	CU_ASSERT_TRUE(CryptEncrypt(aes, 0, TRUE, 0, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 32);
	len = 32;
	CU_ASSERT_TRUE(CryptEncrypt(aes, 0, FALSE, 0, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 32);
	len = 8;
	CU_ASSERT_TRUE(CryptEncrypt(des3, 0, TRUE, 0, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 16);
	len = 13;
	CU_ASSERT_TRUE(CryptEncrypt(des3, 0, TRUE, 0, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 16);
	len = 32;
	CU_ASSERT_TRUE(CryptDecrypt(aes, 0, TRUE, 0, NULL, &len));
	CU_ASSERT_EQUAL(len, 32);
	CU_ASSERT_EQUAL(ops->total(), calls);

	/* Too small a buffer: the size and ERROR_MORE_DATA, data untouched,
	 * the token untouched. */
	memset(buf, 0xa5, sizeof buf);
	len = 16;
	CHECK_FAILS_WITH(CryptEncrypt(aes, 0, TRUE, 0, buf, &len, 16), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, 32);
	CU_ASSERT_EQUAL(buf[16], 0xa5);
	CU_ASSERT_EQUAL(buf[0], 0xa5);
	len = 24;
	CHECK_FAILS_WITH(CryptEncrypt(des3, 0, FALSE, 0, buf, &len, 16), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, 24);
	CU_ASSERT_EQUAL(ops->total(), calls);

	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptDestroyKey(des3));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* Lengths near 2^32 with a small real buffer: a padded length past a
 * DWORD is NTE_BAD_LEN (rsaenh computes it in 32 bits, wraps to a small
 * size and writes past the buffer; capi11 refuses), a length that fits is
 * judged against dwBufLen, and nothing is read or written beyond the
 * buffer (ASan would see it). */
static void test_huge_lengths(void)
{
	HCRYPTPROV h = open_verify();
	BYTE key[24], buf[64];
	HCRYPTKEY aes, des3;
	DWORD len;

	fill(key, 24, 9);
	aes = import_key(h, CALG_AES_128, key, 16);
	des3 = import_key(h, CALG_3DES, key, 24);
	memset(buf, 0xa5, sizeof buf);

	/* Final: a whole padding block more than a DWORD holds. */
	len = 0xffffffffu;
	CHECK_FAILS_WITH(CryptEncrypt(aes, 0, TRUE, 0, buf, &len, sizeof buf), NTE_BAD_LEN);
	len = 0xfffffff0u;
	CHECK_FAILS_WITH(CryptEncrypt(aes, 0, TRUE, 0, buf, &len, 0xffffffffu), NTE_BAD_LEN);
	len = 0xfffffff0u;
	CHECK_FAILS_WITH(CryptEncrypt(aes, 0, TRUE, 0, NULL, &len, 0), NTE_BAD_LEN);
	len = 0xfffffff8u;
	CHECK_FAILS_WITH(CryptEncrypt(des3, 0, TRUE, 0, buf, &len, sizeof buf), NTE_BAD_LEN);
	/* The largest that fits: its size, and ERROR_MORE_DATA for the
	 * small buffer. */
	len = 0xffffffefu;
	CU_ASSERT_TRUE(CryptEncrypt(aes, 0, TRUE, 0, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 0xfffffff0u);
	len = 0xffffffefu;
	CHECK_FAILS_WITH(CryptEncrypt(aes, 0, TRUE, 0, buf, &len, sizeof buf), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, 0xfffffff0u);
	/* Not final: the length itself against dwBufLen. */
	len = 0xfffffff0u;
	CHECK_FAILS_WITH(CryptEncrypt(aes, 0, FALSE, 0, buf, &len, sizeof buf), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, 0xfffffff0u);
	len = 0xffffffffu;
	CHECK_FAILS_WITH(CryptEncrypt(aes, 0, FALSE, 0, buf, &len, 0xffffffffu), NTE_BAD_DATA);
	/* Decryption: a partial block is refused before any byte is read. */
	len = 0xffffffffu;
	CHECK_FAILS_WITH(CryptDecrypt(aes, 0, TRUE, 0, buf, &len), NTE_BAD_DATA);
	len = 0xffffffffu;
	CHECK_FAILS_WITH(CryptDecrypt(des3, 0, FALSE, 0, buf, &len), NTE_BAD_DATA);
	len = 0xfffffff0u;
	CU_ASSERT_TRUE(CryptDecrypt(aes, 0, TRUE, 0, NULL, &len));
	CU_ASSERT_EQUAL(len, 0xfffffff0u);
	CU_ASSERT_EQUAL(buf[0], 0xa5);
	CU_ASSERT_EQUAL(buf[sizeof buf - 1], 0xa5);

	/* The key still works from KP_IV. */
	len = 16;
	CU_ASSERT_TRUE(CryptEncrypt(aes, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(len, 32);
	CU_ASSERT_TRUE(CryptDecrypt(aes, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, 16);
	CU_ASSERT_EQUAL(buf[0], 0xa5);

	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptDestroyKey(des3));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- errors ---- */

static void test_errors(void)
{
	HCRYPTPROV h = open_verify();
	BYTE key[16], zero[16] = { 0 }, buf[64], good[32];
	DWORD len, exp_len, perms;
	BYTE *exp;
	HCRYPTKEY k;

	fill(key, 16, 11);
	k = import_key(h, CALG_AES_128, key, 16);

	/* Handles and pointers. */
	len = 16;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, 0, buf, NULL, 64), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, buf, NULL), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptEncrypt(0, 0, TRUE, 0, buf, &len, 64), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDecrypt(0x4242, 0, TRUE, 0, buf, &len), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptEncrypt((HCRYPTKEY)h, 0, TRUE, 0, buf, &len, 64),
			 ERROR_INVALID_PARAMETER);
	/* A value that names no hash object. */
	CHECK_FAILS_WITH(CryptEncrypt(k, 0x1234, TRUE, 0, buf, &len, 64), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDecrypt(k, 0x1234, TRUE, 0, buf, &len), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, 0x1, buf, &len, 64), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0x10000, buf, &len), NTE_BAD_FLAGS);

	/* A partial block is only allowed in the final encryption. */
	len = 17;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, FALSE, 0, buf, &len, 64), NTE_BAD_DATA);
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, FALSE, 0, NULL, &len, 64), NTE_BAD_DATA);
	len = 17;
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, FALSE, 0, buf, &len), NTE_BAD_DATA);
	len = 17;
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, buf, &len), NTE_BAD_DATA);
	/* A final decryption of nothing. */
	len = 0;
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, buf, &len), NTE_BAD_LEN);

	/* Bad padding: openssl encrypts, without padding, blocks whose last
	 * bytes are no PKCS#5 padding. */
	{
		static const BYTE tails[][3] = {
			{ 0x02, 0x03, 0x00 },   /* pad byte 0 */
			{ 0x02, 0x03, 0x11 },   /* longer than a block */
			{ 0x03, 0x02, 0x03 },   /* inconsistent */
		};
		size_t i;

		for (i = 0; i < sizeof tails / sizeof tails[0]; i++) {
			BYTE pt[16];

			fill(pt, 16, 1);
			memcpy(pt + 13, tails[i], 3);
			exp = openssl_enc("aes-128-cbc", key, 16, zero, 16, false, pt, 16, &exp_len);
			memcpy(buf, exp, 16);
			len = 16;
			CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, buf, &len), NTE_BAD_DATA);
			free(exp);
		}
	}
	/* A failed final call leaves the key at KP_IV: good data decrypts. */
	fill(good, 20, 4);
	exp = openssl_enc("aes-128-cbc", key, 16, zero, 16, true, good, 20, &exp_len);
	memcpy(buf, exp, 32);
	len = 16;
	CU_ASSERT_TRUE(CryptDecrypt(k, 0, FALSE, 0, buf, &len));   /* mid-stream */
	memcpy(buf, exp, 32);
	buf[31] ^= 0x5a;
	len = 32;
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, buf, &len), NTE_BAD_DATA);
	memcpy(buf, exp, 32);
	len = 32;
	CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, 20);
	CU_ASSERT_EQUAL(memcmp(buf, good, 20), 0);
	free(exp);

	/* KP_PERMISSIONS is what the key may do. */
	perms = CRYPT_DECRYPT | CRYPT_READ | CRYPT_WRITE | CRYPT_MAC;
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_PERMISSIONS, (BYTE *)&perms, 0));
	len = 16;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, 0, buf, &len, 64), NTE_PERM);
	perms = CRYPT_ENCRYPT | CRYPT_READ;
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_PERMISSIONS, (BYTE *)&perms, 0));
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, 64));
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, buf, &len), NTE_PERM);

	CU_ASSERT_TRUE(CryptDestroyKey(k));
	/* A key of a released context is a dead handle. */
	k = import_key(h, CALG_AES_128, key, 16);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	len = 16;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, 0, buf, &len, 64), ERROR_INVALID_PARAMETER);
}

/* A failing token call in the middle of a final call still puts the key
 * back at KP_IV (SPEC section 6), and leaves no operation active. */
static void test_token_failure(void)
{
	const struct p11shim_ops *ops = shim();
	HCRYPTPROV h = open_verify();
	BYTE key[16], zero[16] = { 0 }, pt[32], buf[64];
	DWORD len, exp_len;
	BYTE *exp;
	HCRYPTKEY k;

	fill(key, 16, 21);
	fill(pt, 32, 22);
	k = import_key(h, CALG_AES_128, key, 16);
	exp = openssl_enc("aes-128-cbc", key, 16, zero, 16, true, pt, 32, &exp_len);
	memcpy(buf, pt, 32);
	len = 16;
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, FALSE, 0, buf, &len, 16));
	ops->fail("C_Encrypt", 1, CKR_DEVICE_ERROR);
	len = 16;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, 0, buf + 16, &len, 48), NTE_FAIL);
	memcpy(buf, pt, 32);
	len = 32;
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(len, 48);
	CU_ASSERT_EQUAL(memcmp(buf, exp, 48), 0);
	/* Any failure of the decryption itself is bad data. */
	ops->fail("C_Decrypt", 1, CKR_GENERAL_ERROR);
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, buf, &len), NTE_BAD_DATA);
	memcpy(buf, exp, 48);
	len = 48;
	CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, 32);
	CU_ASSERT_EQUAL(memcmp(buf, pt, 32), 0);
	free(exp);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* CryptDuplicateKey copies IV and mode; the copy streams on its own. */
static void test_duplicate(void)
{
	HCRYPTPROV h = open_verify();
	BYTE key[16], iv[16], got_iv[16], pt[16], buf[32];
	DWORD len, mode = CRYPT_MODE_ECB, exp_len;
	BYTE *exp;
	HCRYPTKEY k, copy;

	fill(key, 16, 31);
	fill(iv, 16, 32);
	fill(pt, 16, 33);
	k = import_key(h, CALG_AES_128, key, 16);
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(k, KP_IV, iv, 0));
	CU_ASSERT_TRUE_FATAL(CryptDuplicateKey(k, NULL, 0, &copy));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	len = sizeof got_iv;
	CU_ASSERT_TRUE(CryptGetKeyParam(copy, KP_IV, got_iv, &len, 0));
	CU_ASSERT_EQUAL(len, 16);
	CU_ASSERT_EQUAL(memcmp(got_iv, iv, 16), 0);
	exp = openssl_enc("aes-128-cbc", key, 16, iv, 16, true, pt, 16, &exp_len);
	memcpy(buf, pt, 16);
	len = 16;
	CU_ASSERT_TRUE(CryptEncrypt(copy, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(memcmp(buf, exp, 32), 0);
	free(exp);

	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(copy, KP_MODE, (BYTE *)&mode, 0));
	CU_ASSERT_TRUE_FATAL(CryptDuplicateKey(copy, NULL, 0, &k));
	mode = 0;
	len = sizeof mode;
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_MODE, (BYTE *)&mode, &len, 0));
	CU_ASSERT_EQUAL(mode, CRYPT_MODE_ECB);
	exp = openssl_enc("aes-128-ecb", key, 16, NULL, 16, true, pt, 16, &exp_len);
	memcpy(buf, pt, 16);
	len = 16;
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(memcmp(buf, exp, 32), 0);
	free(exp);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptDestroyKey(copy));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* A wrap-only key-encryption key (CRYPT_KEK) never encrypts or decrypts
 * data, or a wrap could be decrypted into a plaintext export (SPEC section
 * 3). Its KP_PERMISSIONS lack both data permissions; given them back, the
 * token still refuses (CKA_ENCRYPT/CKA_DECRYPT FALSE), with the same code. */
static void test_wrap_only(void)
{
	HCRYPTPROV h = open_verify();
	DWORD len, perms = CRYPT_ENCRYPT | CRYPT_DECRYPT | CRYPT_READ | CRYPT_WRITE | CRYPT_MAC;
	BYTE buf[32] = { 0 };
	HCRYPTKEY kek;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &kek));
	len = 16;
	CHECK_FAILS_WITH(CryptEncrypt(kek, 0, TRUE, 0, buf, &len, sizeof buf), NTE_PERM);
	len = 16;
	CHECK_FAILS_WITH(CryptDecrypt(kek, 0, FALSE, 0, buf, &len), NTE_PERM);
	/* A key-encryption key stays wrap-only: the data permissions cannot
	 * be given back (README, CRYPT_KEK). */
	CHECK_FAILS_WITH(CryptSetKeyParam(kek, KP_PERMISSIONS, (BYTE *)&perms, 0), NTE_BAD_DATA);
	len = sizeof perms;
	CU_ASSERT_TRUE(CryptGetKeyParam(kek, KP_PERMISSIONS, (BYTE *)&perms, &len, 0));
	CU_ASSERT_EQUAL(perms & (CRYPT_ENCRYPT | CRYPT_DECRYPT), 0);
	len = 16;
	CHECK_FAILS_WITH(CryptEncrypt(kek, 0, TRUE, 0, buf, &len, sizeof buf), NTE_PERM);
	len = 16;
	CHECK_FAILS_WITH(CryptDecrypt(kek, 0, FALSE, 0, buf, &len), NTE_PERM);
	CU_ASSERT_TRUE(CryptDestroyKey(kek));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- RSA ---- */

/* The exchange key as a PEM file openssl can use, from its
 * PRIVATEKEYBLOB. */
static char *rsa_pem(HCRYPTKEY k)
{
	BYTE blob[2048];
	DWORD len = sizeof blob;
	char *in, *out = testutil_temp_path("key");
	int st;

	CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, blob, &len));
	in = testutil_temp_write("in", blob, len);
	st = fixture_run("%s rsa -inform MSBLOB -in %s -out %s", OPENSSL_BIN, in, out);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	free(in);
	return out;
}

/* On a card: the container it came with, and its exchange key
 * (openssl's rsa1024, tests/vectors); false on SoftHSM, whose tests make
 * their own. */
static bool card_key(HCRYPTPROV *h, HCRYPTKEY *k)
{
	if (card == CARD_SOFTHSM)
		return false;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(h, CARD_CONTAINER, uri, PROV_RSA_AES, 0));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(*h, AT_KEYEXCHANGE, k));
	return true;
}

static void reverse(BYTE *b, DWORD n)
{
	DWORD i;

	for (i = 0; i < n / 2; i++) {
		BYTE t = b[i];

		b[i] = b[n - 1 - i];
		b[n - 1 - i] = t;
	}
}

static const char *pkeyopt(bool oaep)
{
	return oaep ? "-pkeyopt rsa_padding_mode:oaep" : "-pkeyopt rsa_padding_mode:pkcs1";
}

static void test_rsa(void)
{
	static const char msg[] = "the session key travels here";
	HCRYPTPROV h = 0;
	HCRYPTKEY k, sig, pub;
	BYTE buf[256], blob[512];
	DWORD len, n, bloblen, exp_len;
	char *pem, *in, *out;
	BYTE *got;
	int st, oaep;

	if (card_key(&h, &k)) {
		CU_ASSERT_NOT_EQUAL_FATAL(asprintf(&pem, "%s/vectors/rsa1024.pem", TEST_SRCDIR),
					  -1);
	} else {
		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "rsa", uri, PROV_RSA_AES,
							  CRYPT_NEWKEYSET));
		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, (1024 << 16) | CRYPT_EXPORTABLE,
						 &k));
		pem = rsa_pem(k);
	}

	/* The size is the modulus, with or without a buffer. */
	len = 5;
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 128);
	len = 5;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, 0, buf, &len, 127), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, 128);

	for (oaep = 0; oaep <= 1; oaep++) {
		DWORD flags = oaep ? CRYPT_OAEP : 0;

		/* Encrypt here, little-endian; openssl decrypts the reversed
		 * bytes with the exported private key. */
		memcpy(buf, msg, sizeof msg);
		len = sizeof msg;
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptEncrypt(k, 0, TRUE, flags, buf, &len, sizeof buf));
		CU_ASSERT_EQUAL_FATAL(len, 128);
		reverse(buf, len);
		in = testutil_temp_write("in", buf, len);
		out = testutil_temp_path("pt");
		st = fixture_run("%s pkeyutl -decrypt -inkey %s %s -in %s -out %s", OPENSSL_BIN, pem,
				 pkeyopt(oaep), in, out);
		CU_ASSERT_EQUAL_FATAL(st, 0);
		got = testutil_file_read(out, &n);
		CU_ASSERT_EQUAL(n, sizeof msg);
		CU_ASSERT_EQUAL(memcmp(got, msg, sizeof msg), 0);
		free(got);
		free(in);
		free(out);

		/* openssl encrypts; the token decrypts the reversed bytes. */
		in = testutil_temp_write("in", msg, sizeof msg);
		out = testutil_temp_path("ct");
		st = fixture_run("%s pkeyutl -encrypt -inkey %s %s -in %s -out %s", OPENSSL_BIN, pem,
				 pkeyopt(oaep), in, out);
		CU_ASSERT_EQUAL_FATAL(st, 0);
		got = testutil_file_read(out, &exp_len);
		CU_ASSERT_EQUAL_FATAL(exp_len, 128);
		reverse(got, 128);
		memcpy(buf, got, 128);
		len = 128;
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, flags, buf, &len));
		CU_ASSERT_EQUAL(len, sizeof msg);
		CU_ASSERT_EQUAL(memcmp(buf, msg, sizeof msg), 0);
		/* The wrong forms of a ciphertext: test_rsa_wrong_forms, on fixed
		 * vectors (here a fresh key and a random padding could decrypt
		 * one now and then). */
		free(got);
		free(in);
		free(out);
	}

	/* Lengths: PKCS#1 v1.5 takes up to k - 11 bytes, OAEP k - 42. */
	memset(buf, 0x41, sizeof buf);
	len = 117;
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
	len = 118;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf), NTE_BAD_LEN);
	len = 86;
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, CRYPT_OAEP, buf, &len, sizeof buf));
	len = 87;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, CRYPT_OAEP, buf, &len, sizeof buf), NTE_BAD_LEN);
	/* Ciphertext must be one modulus long. */
	len = 127;
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, buf, &len), NTE_BAD_DATA);
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, CRYPT_DECRYPT_RSA_NO_PADDING_CHECK, buf, &len),
			 NTE_BAD_FLAGS);

	/* A signature key neither encrypts nor decrypts: one made here, or a
	 * PIV card's digital signature key; a read-only card makes none and
	 * came with none (NTE_PERM, docs/CARDS.md). */
	sig = 0;
	SetLastError(SENTINEL);
	if (card == CARD_PIV) {
		CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &sig));
	} else if (card == CARD_READONLY) {
		CHECK_FAILS_WITH(CryptGenKey(h, AT_SIGNATURE, 1024 << 16, &sig), NTE_PERM);
	} else {
		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 1024 << 16, &sig));
	}
	if (sig != 0) {
		len = 5;
		CHECK_FAILS_WITH(CryptEncrypt(sig, 0, TRUE, 0, buf, &len, sizeof buf), NTE_BAD_KEY);
		CHECK_FAILS_WITH(CryptEncrypt(sig, 0, TRUE, 0, NULL, &len, 0), NTE_BAD_KEY);
		len = 128;
		CHECK_FAILS_WITH(CryptDecrypt(sig, 0, TRUE, 0, buf, &len), NTE_BAD_KEY);
		CU_ASSERT_TRUE(CryptDestroyKey(sig));
	}

	/* A public key alone encrypts, and has nothing to decrypt with. */
	bloblen = sizeof blob;
	CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, PUBLICKEYBLOB, 0, blob, &bloblen));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, bloblen, 0, 0, &pub));
	memcpy(buf, msg, sizeof msg);
	len = sizeof msg;
	CU_ASSERT_TRUE(CryptEncrypt(pub, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(len, 128);
	/* ... which the container's private key reads. */
	CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, sizeof msg);
	CU_ASSERT_EQUAL(memcmp(buf, msg, sizeof msg), 0);
	len = 128;
	CHECK_FAILS_WITH(CryptDecrypt(pub, 0, TRUE, 0, buf, &len), NTE_BAD_KEY);

	free(pem);
	CU_ASSERT_TRUE(CryptDestroyKey(pub));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* A ciphertext in the wrong form is NTE_BAD_DATA: not byte-reversed, or
 * decrypted with the other padding. On a fixed key (tests/vectors/rsa1024,
 * imported from openssl's PRIVATEKEYBLOB) and fixed ciphertexts of
 * aes128.key that openssl made and, as make-vectors.sh checked, refuses in
 * every wrong form; each vector first decrypts in its right form, so the
 * refusals cannot come from a wrong key or a broken file. */
static void test_rsa_wrong_forms(void)
{
	static const struct {
		const char *file;
		DWORD flags, other;
	} vectors[] = {
		{ "rsa1024-simple.ct", 0, CRYPT_OAEP },
		{ "rsa1024-oaep.ct", CRYPT_OAEP, 0 },
	};
	BYTE *priv, *key, *ct;
	DWORD priv_len, key_len, ct_len, len;
	BYTE buf[128];
	HCRYPTPROV h = 0;
	HCRYPTKEY k;
	size_t i;

	priv = testutil_vector_read("rsa1024-priv.blob", &priv_len);
	key = testutil_vector_read("aes128.key", &key_len);
	if (!card_key(&h, &k)) {
		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "rsafixed", uri, PROV_RSA_AES,
							  CRYPT_NEWKEYSET));
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, 0, &k));
	}
	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		ct = testutil_vector_read(vectors[i].file, &ct_len);
		CU_ASSERT_EQUAL_FATAL(ct_len, sizeof buf);
		/* The right form: little-endian, its own padding. */
		memcpy(buf, ct, sizeof buf);
		reverse(buf, sizeof buf);
		len = sizeof buf;
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, vectors[i].flags, buf, &len));
		CU_ASSERT_EQUAL(len, key_len);
		CU_ASSERT_EQUAL(memcmp(buf, key, key_len), 0);
		/* Big-endian as openssl wrote it, with either padding. */
		memcpy(buf, ct, sizeof buf);
		len = sizeof buf;
		CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, vectors[i].flags, buf, &len), NTE_BAD_DATA);
		memcpy(buf, ct, sizeof buf);
		len = sizeof buf;
		CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, vectors[i].other, buf, &len), NTE_BAD_DATA);
		/* Reversed, with the other padding. */
		memcpy(buf, ct, sizeof buf);
		reverse(buf, sizeof buf);
		len = sizeof buf;
		CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, vectors[i].other, buf, &len), NTE_BAD_DATA);
		free(ct);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(priv);
	free(key);
}

/* *pdwDataLen near 2^32 is data too long for the modulus, NTE_BAD_LEN as
 * in rsaenh's pad_data, however the padding overhead added to it wraps
 * in 32 bits (2^32 - 11 + 11 is 0). The buffer is small and real: a
 * length check that wraps reads 4 GiB beyond it (ASan, or a crash). */
static void test_rsa_huge_length(void)
{
	static const DWORD huge[] = {
		0xffffffffu, 0xfffffff5u, 0xfffffff6u, 0xffffffd6u, 0xffffffe0u, 0x80000000u,
	};
	HCRYPTPROV h = 0;
	HCRYPTKEY k;
	BYTE buf[256];
	DWORD len;
	size_t i;
	int oaep;

	if (!card_key(&h, &k)) {
		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_AES,
							  CRYPT_VERIFYCONTEXT));
		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16, &k));
	}
	for (oaep = 0; oaep <= 1; oaep++) {
		for (i = 0; i < sizeof huge / sizeof huge[0]; i++) {
			memset(buf, 0x41, sizeof buf);
			len = huge[i];
			CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, oaep ? CRYPT_OAEP : 0, buf, &len,
						      sizeof buf), NTE_BAD_LEN);
			CU_ASSERT_EQUAL(buf[0], 0x41);
			/* The size query still answers the modulus length. */
			len = huge[i];
			CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, oaep ? CRYPT_OAEP : 0, NULL, &len, 0));
			CU_ASSERT_EQUAL(len, 128);
		}
	}
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* An RSA pair with public exponent 1, written by pkcs11-tool: openssl
 * makes an ordinary key, and its n, p, q and coefficient are reassembled
 * with e = d = dp = dq = 1. SoftHSM stores it; capi11 must neither encrypt
 * nor wrap with it, since the "ciphertext" would be the padded plaintext. */
static void test_rsa_exponent_one(void)
{
	const char *dir = fixture_dir();
	HCRYPTPROV h = 0;
	BYTE buf[256];
	DWORD len;
	HCRYPTKEY k, session;
	int st, oaep;

	st = fixture_run("cd %s && %s genrsa -out e1.pem 1024 && "
			 "%s rsa -in e1.pem -traditional -outform DER -out e1src.der && "
			 "%s asn1parse -inform DER -in e1src.der | awk -F: '/INTEGER/ { v[n++] = $NF } "
			 "END { print \"asn1=SEQUENCE:k\\n[k]\\nv=INTEGER:0\\nn=INTEGER:0x\" v[1] "
			 "\"\\ne=INTEGER:1\\nd=INTEGER:1\\np=INTEGER:0x\" v[4] \"\\nq=INTEGER:0x\" v[5] "
			 "\"\\ndp=INTEGER:1\\ndq=INTEGER:1\\nqi=INTEGER:0x\" v[8] }' > e1.conf && "
			 "%s asn1parse -genconf e1.conf -out e1.der -noout && "
			 "%s rsa -inform DER -in e1.der -pubout -outform DER -out e1pub.der",
			 dir, OPENSSL_BIN, OPENSSL_BIN, OPENSSL_BIN, OPENSSL_BIN, OPENSSL_BIN);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	st = fixture_pkcs11_tool(label, true, NULL, "--write-object %s/e1.der --type privkey "
				 "--id e1e1 --label expone --usage-decrypt", dir);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	st = fixture_pkcs11_tool(label, true, NULL, "--write-object %s/e1pub.der --type pubkey "
				 "--id e1e1 --label expone", dir);
	CU_ASSERT_EQUAL_FATAL(st, 0);

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "expone", uri, PROV_RSA_AES, 0));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	memset(buf, 0x41, sizeof buf);
	len = 16;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, CRYPT_OAEP, buf, &len, sizeof buf), NTE_BAD_KEY);
	CU_ASSERT_EQUAL(buf[0], 0x41);
	/* Nor does it wrap: as hExpKey of a SIMPLEBLOB it is not a public key
	 * (SPEC section 4), for the size query and for the export itself,
	 * with either padding; the buffer is left alone. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, CRYPT_EXPORTABLE, &session));
	for (oaep = 0; oaep <= 1; oaep++) {
		DWORD flags = oaep ? CRYPT_OAEP : 0;

		len = 0;
		CHECK_FAILS_WITH(CryptExportKey(session, k, SIMPLEBLOB, flags, NULL, &len),
				 NTE_BAD_PUBLIC_KEY);
		memset(buf, 0x41, sizeof buf);
		len = sizeof buf;
		CHECK_FAILS_WITH(CryptExportKey(session, k, SIMPLEBLOB, flags, buf, &len),
				 NTE_BAD_PUBLIC_KEY);
		CU_ASSERT_EQUAL(buf[0], 0x41);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(session));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* An exchange key whose public object is missing (deleted here with
 * pkcs11-tool) still encrypts, through a session public key made from the
 * private key's public attributes; its private key decrypts the result. */
static void test_rsa_private_only(void)
{
	static const char msg[] = "no public object";
	HCRYPTPROV h = 0;
	BYTE buf[256];
	DWORD len;
	HCRYPTKEY k;
	int st;

	st = fixture_pkcs11_tool(label, true, NULL, "--keypairgen --key-type rsa:1024 --id d00d "
				 "--label privonly --usage-decrypt");
	CU_ASSERT_EQUAL_FATAL(st, 0);
	st = fixture_pkcs11_tool(label, true, NULL, "--delete-object --type pubkey --id d00d");
	CU_ASSERT_EQUAL_FATAL(st, 0);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "privonly", uri, PROV_RSA_AES, 0));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	memcpy(buf, msg, sizeof msg);
	len = sizeof msg;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(len, 128);
	CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, sizeof msg);
	CU_ASSERT_EQUAL(memcmp(buf, msg, sizeof msg), 0);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static CU_TestInfo block_tests[] = {
	{ "known answers, CBC and ECB, every cipher", test_known_answers },
	{ "generated DES key", test_des_generated },
	{ "streaming equals one-shot", test_streaming },
	{ "two keys stream in one context", test_two_streams },
	{ "size queries and short buffers", test_sizes },
	{ "lengths near 2^32", test_huge_lengths },
	{ "errors", test_errors },
	{ "CryptDuplicateKey keeps IV and mode", test_duplicate },
	{ "wrap-only keys", test_wrap_only },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo rsa_tests[] = {
	{ "RSA exchange key, PKCS#1 and OAEP", test_rsa },
	{ "RSA ciphertexts in the wrong form", test_rsa_wrong_forms },
	{ "RSA data length near 2^32", test_rsa_huge_length },
	{ "RSA key with exponent one", test_rsa_exponent_one },
	{ "RSA key without its public object", test_rsa_private_only },
	CU_TEST_INFO_NULL,
};

/* Faults the shim injects: on SoftHSM only, as a card's session keys are
 * the companion's, which no shim stands before. */
static CU_TestInfo fault_tests[] = {
	{ "token failure mid-stream", test_token_failure },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "session keys", NULL, NULL, NULL, NULL, block_tests },
	{ "session keys, token faults", NULL, NULL, NULL, NULL, fault_tests },
	{ "RSA", NULL, NULL, NULL, NULL, rsa_tests },
	CU_SUITE_INFO_NULL,
};

static CU_TestInfo card_tests[] = {
	{ "session keys are the companion's", test_card_session_keys_elsewhere },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo card_suites[] = {
	{ "the card", NULL, NULL, NULL, NULL, card_tests },
	{ "session keys", NULL, NULL, NULL, NULL, block_tests },
	{ "RSA", NULL, NULL, NULL, NULL, rsa_tests },
	CU_SUITE_INFO_NULL,
};

/* An OpenSSL configuration that adds the legacy provider (single DES) to
 * the default one, for SoftHSM in this process. */
static void enable_legacy_provider(void)
{
	static const char conf[] =
		"openssl_conf = openssl_init\n"
		"[openssl_init]\n"
		"providers = provider_sect\n"
		"[provider_sect]\n"
		"default = default_sect\n"
		"legacy = legacy_sect\n"
		"[default_sect]\n"
		"activate = 1\n"
		"[legacy_sect]\n"
		"activate = 1\n";
	char *path = fixture_write_file("openssl-legacy.cnf", conf, sizeof conf - 1);
	int st;

	if (path == NULL)
		return;
	/* Only when openssl itself can load the provider. */
	st = fixture_run("%s list -providers -provider legacy", OPENSSL_BIN);
	if (st == 0) {
		setenv("OPENSSL_CONF", path, 1);
		des_available = true;
	}
	free(path);
}

int main(void)
{
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	if (!testutil_card_from_env(&card))
		return FIXTURE_HARD_ERROR;
	setenv("CAPI11_CONF", "/dev/null", 1);
	enable_legacy_provider();
	label = fixture_token_make("cipher");
	uri = fixture_token_uri_shim(label, true);
	/* The profile is on before capi11 first loads the module, which is
	 * when it reads the module's info (a TPM's quirks). */
	if (uri == NULL || !testutil_card_set_profile(testutil_card_flags(card))) {
		fprintf(stderr, "the p11shim module was not built\n");
		return FIXTURE_HARD_ERROR;
	}
	if (card != CARD_SOFTHSM) {
		if (!testutil_card_keys_load(label, card == CARD_PIV, CARD_CONTAINER)) {
			fprintf(stderr, "pkcs11-tool could not put the card's keys on the token\n");
			return FIXTURE_HARD_ERROR;
		}
		fprintf(stderr, "card profile: %s\n", testutil_card_name(card));
	}
	rc = cutest_run(card == CARD_SOFTHSM ? suites : card_suites);
	fixture_cleanup(rc == 0);
	free(uri);
	free(label);
	return rc;
}
