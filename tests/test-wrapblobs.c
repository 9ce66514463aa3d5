/* Wrapped key blobs against throwaway SoftHSM tokens: key-encryption keys
 * (CRYPT_KEK), SYMMETRICWRAPKEYBLOB with RFC 3394 (AES) and RFC 3217
 * (3DES), OPAQUEKEYBLOB between two tokens, and the rule that a sensitive
 * key leaves only wrapped under a key the token trusts, which only the
 * security officer makes (SPEC sections 3-5).
 * Known answers come from RFC 3394 section 4 and from openssl doing the
 * AES key wrap, the Triple-DES CBC passes and SHA-1 on its own; key values
 * are read back through PLAINTEXTKEYBLOB where the key may show, else
 * through what the key encrypts (compared with openssl enc) or a second
 * deterministic wrap; token objects are counted by pkcs11-tool, and their
 * attributes read through SoftHSM's own module. */
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *labels[2];   /* token 1 and token 2 */
static char *uris[2];     /* plain exportable policy, by URI */
static const char *SENS1 = "sens1";  /* token 1 under exportable-policy = sensitive */
static const char *PLAIN1 = "plain1"; /* token 1 again, under the plain policy */

/* ---- helpers ---- */

static HCRYPTPROV open_verify(int tok)
{
	HCRYPTPROV h = 0;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uris[tok], PROV_RSA_AES,
						  CRYPT_VERIFYCONTEXT));
	return h;
}

static HCRYPTPROV open_container(const char *provider, const char *name)
{
	HCRYPTPROV h = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, name, provider, PROV_RSA_AES, CRYPT_NEWKEYSET));
	return h;
}

static HCRYPTPROV open_existing(const char *provider, const char *name)
{
	HCRYPTPROV h = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, name, provider, PROV_RSA_AES, 0));
	return h;
}

/* The key-encryption key the operator provisions on both tokens: its
 * bytes are known to the operator, and to this test (SPEC section 3). */
static const BYTE trusted_kek[32] = {
	0x7b, 0x0e, 0x4c, 0x2a, 0x91, 0xd3, 0x58, 0x06, 0xe4, 0x3f, 0xa2, 0x17, 0xc9, 0x60, 0x8d, 0x35,
	0x1a, 0xf7, 0x42, 0xbe, 0x03, 0x6c, 0x95, 0xd8, 0x2e, 0x71, 0xcb, 0x4f, 0x86, 0x19, 0xe0, 0x5d,
};

/* Makes the container (CRYPT_NEWKEYSET) and its trusted key-encryption
 * key from trusted_kek with the security officer's PIN, then lets the
 * container go: the trust step wants the token to itself, so no other
 * context may be open on it. pub: a partner's PUBLICKEYBLOB to trust as
 * well, or NULL. */
static void p11_close(void);

static void make_trusted(const char *provider, const char *name, const BYTE *pub, DWORD pub_len)
{
	BYTE blob[12 + 32];
	DWORD len = testutil_plaintext_blob(blob, CALG_AES_256, trusted_kek, 32);
	HCRYPTPROV h;

	/* The security officer logs in only while the process holds no
	 * read-only session on the token: the test's own reader goes. */
	p11_close();
	h = open_container(provider, name);

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(Capi11TrustKeyA(h, blob, len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, NULL));
	if (pub != NULL)
		CU_ASSERT_TRUE_FATAL(Capi11TrustKeyA(h, pub, pub_len, FIXTURE_SO_PIN, FIXTURE_PIN, 0,
						     NULL));
	CU_ASSERT_TRUE_FATAL(CryptReleaseContext(h, 0));
}

static HCRYPTKEY trusted_kek_of(HCRYPTPROV h)
{
	HCRYPTKEY k = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, CAPI11_AT_KEK, &k));
	return k;
}

/* Microsoft's layouts: BLOBHEADER {type, 2, 0, alg}. */
static void header_put(BYTE *p, BYTE type, ALG_ID alg)
{
	p[0] = type;
	p[1] = 2;
	p[2] = p[3] = 0;
	testutil_le32_put(p + 4, alg);
}

static HCRYPTKEY import_plain(HCRYPTPROV h, ALG_ID alg, const BYTE *key, DWORD len, DWORD flags)
{
	BYTE blob[12 + 32];
	DWORD blob_len = testutil_plaintext_blob(blob, alg, key, len);
	HCRYPTKEY k = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, blob_len, 0, flags, &k));
	return k;
}

/* The key bytes of a PLAINTEXTKEYBLOB export equal key. */
static void check_plain_value(HCRYPTKEY k, const BYTE *key, DWORD key_len)
{
	DWORD len = 0;
	BYTE *b = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &len);

	CU_ASSERT_EQUAL(len, 12 + key_len);
	CU_ASSERT_EQUAL(testutil_le32(b + 8), key_len);
	CU_ASSERT(len == 12 + key_len && memcmp(b + 12, key, key_len) == 0);
	free(b);
}

/* Runs "openssl <args> -out <out>" on in_len bytes of input; returns what
 * openssl wrote (malloc'd) and its length. */
static BYTE *openssl_run(const char *args, const BYTE *in, size_t in_len, size_t *out_len)
{
	char *in_path = testutil_temp_write("ossl-in", in, in_len);
	char *out_path = testutil_temp_path("ossl-out");
	DWORD len = 0;
	BYTE *out;
	int st;

	st = fixture_run("%s %s -out %s < %s", OPENSSL_BIN, args, out_path, in_path);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	out = testutil_file_read(out_path, &len);
	*out_len = len;
	free(in_path);
	free(out_path);
	return out;
}

/* openssl enc -id-aesNNN-wrap: RFC 3394 with its default IV A6A6...A6. */
static BYTE *openssl_aes_wrap(const BYTE *kek, size_t kek_len, const BYTE *key, size_t key_len,
			      size_t *out_len)
{
	char args[256], *k = testutil_hex_new(kek, kek_len);
	BYTE *out;

	snprintf(args, sizeof args, "enc -id-aes%zu-wrap -K %s -iv A6A6A6A6A6A6A6A6 -nopad",
		 kek_len * 8, k);
	out = openssl_run(args, key, key_len, out_len);
	free(k);
	return out;
}

static BYTE *openssl_des3_cbc(bool encrypt, const BYTE *kek, const BYTE *iv, const BYTE *in,
			      size_t in_len)
{
	char args[256], *k = testutil_hex_new(kek, 24), *v = testutil_hex_new(iv, 8);
	size_t out_len = 0;
	BYTE *out;

	snprintf(args, sizeof args, "enc %s -des-ede3-cbc -K %s -iv %s -nopad",
		 encrypt ? "-e" : "-d", k, v);
	out = openssl_run(args, in, in_len, &out_len);
	CU_ASSERT_EQUAL_FATAL(out_len, in_len);
	free(k);
	free(v);
	return out;
}

static void openssl_sha1(const BYTE *in, size_t in_len, BYTE digest[20])
{
	size_t len = 0;
	BYTE *d = openssl_run("dgst -sha1 -binary", in, in_len, &len);

	CU_ASSERT_EQUAL_FATAL(len, 20);
	memcpy(digest, d, 20);
	free(d);
}

static void reverse(BYTE *dst, const BYTE *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

/* Every shorter prefix of a blob fails with NTE_BAD_DATA. */
static void check_truncations(HCRYPTPROV h, const BYTE *blob, DWORD len, HCRYPTKEY pub)
{
	HCRYPTKEY k = 0;
	DWORD n;

	for (n = 1; n < len; n++) {
		BYTE *copy = malloc(n);

		CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
		memcpy(copy, blob, n);
		SetLastError(SENTINEL);
		CU_ASSERT_FALSE(CryptImportKey(h, copy, n, pub, 0, &k));
		CU_ASSERT_EQUAL(GetLastError(), NTE_BAD_DATA);
		free(copy);
	}
}

/* RFC 3394 section 4.1 and 4.6. */
static const BYTE kek128[16] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};
static const BYTE kek256[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const BYTE data128[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
static const BYTE rfc3394_41[24] = {
	0x1f, 0xa6, 0x8b, 0x0a, 0x81, 0x12, 0xb4, 0x47, 0xae, 0xf3, 0x4b, 0xd8,
	0xfb, 0x5a, 0x7b, 0x82, 0x9d, 0x3e, 0x86, 0x23, 0x71, 0xd2, 0xcf, 0xe5,
};
static const BYTE data256[32] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};
static const BYTE rfc3394_46[40] = {
	0x28, 0xc9, 0xf4, 0x04, 0xc4, 0xb8, 0x10, 0xf4, 0xcb, 0xcc, 0xb3, 0x5c, 0xfb, 0x87,
	0xf8, 0x26, 0x3f, 0x57, 0x86, 0xe2, 0xd8, 0x0e, 0xd3, 0x26, 0xcb, 0xc7, 0xf0, 0xe7,
	0x1a, 0x99, 0xf4, 0x3b, 0xfb, 0x98, 0x8b, 0x9b, 0x7a, 0x02, 0xdd, 0x21,
};

/* Triple-DES keys. RFC 3217 first sets odd parity in every byte of the
 * key it wraps: des3_key has even bytes, des3_key_odd is the same key with
 * odd parity (each low bit set so that the byte has an odd number of
 * ones); the others have odd parity already. */
static const BYTE des3_kek[24] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98,
	0x76, 0x54, 0x32, 0x10, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67,
};
static const BYTE des3_key[24] = {
	0x29, 0x23, 0xbe, 0x84, 0xe1, 0x6c, 0xd6, 0xae, 0x52, 0x90, 0x49, 0xf1,
	0xf1, 0xbb, 0xe9, 0xeb, 0xb3, 0xa6, 0xdb, 0x3c, 0x87, 0x0c, 0x3e, 0x99,
};
static const BYTE des3_key_odd[24] = {
	0x29, 0x23, 0xbf, 0x85, 0xe0, 0x6d, 0xd6, 0xae, 0x52, 0x91, 0x49, 0xf1,
	0xf1, 0xba, 0xe9, 0xea, 0xb3, 0xa7, 0xda, 0x3d, 0x86, 0x0d, 0x3e, 0x98,
};
static const BYTE des3_key2[24] = {
	0x10, 0x31, 0x6e, 0x02, 0x8c, 0x8f, 0x3b, 0x4a, 0x0e, 0x0b, 0x79, 0xd6,
	0x0d, 0xb9, 0x75, 0x10, 0xe3, 0x57, 0x3d, 0x86, 0xb5, 0x89, 0x26, 0x8c,
};
static const BYTE rfc3217_iv2[8] = { 0x4a, 0xdd, 0xa2, 0x2c, 0x79, 0xe8, 0x21, 0x05 };

static void check_same_encryption(HCRYPTKEY a, HCRYPTKEY b);
static void check_symwrap_header(const BYTE *b, ALG_ID alg, ALG_ID wrap_alg);

/* ---- key-encryption keys ---- */

static void test_kek_flag(void)
{
	HCRYPTPROV h = open_verify(0);
	HCRYPTKEY kek = 0, k = 0;
	DWORD perm = 0, len = sizeof perm;
	BYTE data[16] = { 0 };
	DWORD data_len = 16;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &kek));
	/* Wrap-only: no encryption, no decryption; a key without the
	 * permission is NTE_PERM to CryptEncrypt, as in rsaenh. */
	CU_ASSERT_TRUE(CryptGetKeyParam(kek, KP_PERMISSIONS, (BYTE *)&perm, &len, 0));
	CU_ASSERT_EQUAL(perm & (CRYPT_ENCRYPT | CRYPT_DECRYPT), 0);
	CU_ASSERT_EQUAL(perm & CRYPT_EXPORT, 0);
	CHECK_FAILS_WITH(CryptEncrypt(kek, 0, FALSE, 0, data, &data_len, sizeof data), NTE_PERM);
	/* Only AES keys can be key-encryption keys. */
	CHECK_FAILS_WITH(CryptGenKey(h, CALG_3DES, CRYPT_KEK, &k), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptGenKey(h, AT_KEYEXCHANGE, CRYPT_KEK | (512 << 16), &k), NTE_BAD_FLAGS);
	{
		BYTE blob[12 + 24];

		header_put(blob, PLAINTEXTKEYBLOB, CALG_3DES);
		testutil_le32_put(blob + 8, 24);
		memcpy(blob + 12, des3_key, 24);
		CHECK_FAILS_WITH(CryptImportKey(h, blob, sizeof blob, 0, CRYPT_KEK, &k),
				 NTE_BAD_FLAGS);
	}
	/* Imported with CRYPT_KEK: wrap-only too. */
	k = import_plain(h, CALG_AES_128, kek128, 16, CRYPT_KEK | CRYPT_EXPORTABLE);
	len = sizeof perm;
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_PERMISSIONS, (BYTE *)&perm, &len, 0));
	CU_ASSERT_EQUAL(perm & (CRYPT_ENCRYPT | CRYPT_DECRYPT), 0);
	data_len = 16;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, FALSE, 0, data, &data_len, sizeof data), NTE_PERM);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptDestroyKey(kek));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- SYMMETRICWRAPKEYBLOB under AES: RFC 3394 ---- */

static void check_symwrap_header(const BYTE *b, ALG_ID alg, ALG_ID wrap_alg)
{
	CU_ASSERT_EQUAL(b[0], SYMMETRICWRAPKEYBLOB);
	CU_ASSERT_EQUAL(b[1], 2);
	CU_ASSERT_EQUAL(b[2] | b[3], 0);
	CU_ASSERT_EQUAL(testutil_le32(b + 4), alg);
	CU_ASSERT_EQUAL(testutil_le32(b + 8), wrap_alg);
}

static void test_aes_wrap_known_answers(void)
{
	HCRYPTPROV h = open_verify(0);
	HCRYPTKEY kek, kek_plain, kek2, key, key2, got = 0;
	BYTE *b, *ossl, blob[12 + 40];
	size_t ossl_len = 0;
	DWORD len = 0;
	static const BYTE fresh[32] = {
		0x5e, 0x1f, 0x0c, 0x95, 0x3a, 0x87, 0x42, 0xd1, 0x6b, 0x20, 0xf4, 0x8e, 0x13, 0x77,
		0xa9, 0x02, 0xcd, 0x58, 0x31, 0xe6, 0x9f, 0x04, 0xb2, 0x7a, 0x66, 0x1d, 0xc3, 0x48,
		0x85, 0xfa, 0x2e, 0x90,
	};

	/* RFC 3394 4.1: 128-bit key under a 128-bit KEK. */
	kek = import_plain(h, CALG_AES_128, kek128, 16, CRYPT_KEK);
	key = import_plain(h, CALG_AES_128, data128, 16, CRYPT_EXPORTABLE);
	b = testutil_blob_export(key, kek, SYMMETRICWRAPKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL_FATAL(len, 12 + 24);
	check_symwrap_header(b, CALG_AES_128, CALG_AES_128);
	CU_ASSERT(memcmp(b + 12, rfc3394_41, 24) == 0);
	ossl = openssl_aes_wrap(kek128, 16, data128, 16, &ossl_len);
	CU_ASSERT(ossl_len == 24 && memcmp(ossl, b + 12, 24) == 0);
	free(ossl);
	/* An exportable key may be wrapped under any AES key that can wrap:
	 * the same value without CRYPT_KEK gives the same blob. */
	kek_plain = import_plain(h, CALG_AES_128, kek128, 16, 0);
	free(b);
	b = testutil_blob_export(key, kek_plain, SYMMETRICWRAPKEYBLOB, 0, &len);
	CU_ASSERT(len == 36 && memcmp(b + 12, rfc3394_41, 24) == 0);
	free(b);
	/* A buffer one byte short: the size, and no wrap. */
	{
		BYTE small[35];

		len = sizeof small;
		CHECK_FAILS_WITH(CryptExportKey(key, kek, SYMMETRICWRAPKEYBLOB, 0, small, &len),
				 ERROR_MORE_DATA);
		CU_ASSERT_EQUAL(len, 36);
	}

	/* RFC 3394 4.6: 256-bit key under a 256-bit KEK. */
	kek2 = import_plain(h, CALG_AES_256, kek256, 32, CRYPT_KEK);
	key2 = import_plain(h, CALG_AES_256, data256, 32, CRYPT_EXPORTABLE);
	b = testutil_blob_export(key2, kek2, SYMMETRICWRAPKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL_FATAL(len, 12 + 40);
	check_symwrap_header(b, CALG_AES_256, CALG_AES_256);
	CU_ASSERT(memcmp(b + 12, rfc3394_46, 40) == 0);
	free(b);
	/* 3DES keys have whole blocks: RFC 3394 wraps them under AES. */
	{
		HCRYPTKEY d = import_plain(h, CALG_3DES, des3_key, 24, CRYPT_EXPORTABLE);

		b = testutil_blob_export(d, kek2, SYMMETRICWRAPKEYBLOB, 0, &len);
		ossl = openssl_aes_wrap(kek256, 32, des3_key, 24, &ossl_len);
		CU_ASSERT(len == 12 + 32 && ossl_len == 32 && memcmp(ossl, b + 12, 32) == 0);
		check_symwrap_header(b, CALG_3DES, CALG_AES_256);
		free(ossl);
		free(b);
		CU_ASSERT_TRUE(CryptDestroyKey(d));
	}

	/* Import: a key openssl wrapped, read back as plaintext. */
	ossl = openssl_aes_wrap(kek256, 32, fresh, 32, &ossl_len);
	CU_ASSERT_EQUAL_FATAL(ossl_len, 40);
	header_put(blob, SYMMETRICWRAPKEYBLOB, CALG_AES_256);
	testutil_le32_put(blob + 8, CALG_AES_256);
	memcpy(blob + 12, ossl, 40);
	free(ossl);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, sizeof blob, kek2, CRYPT_EXPORTABLE, &got));
	/* Unwrapped under a KEK, the key is sensitive: its value shows in
	 * what it encrypts. */
	CHECK_FAILS_WITH(CryptExportKey(got, 0, PLAINTEXTKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	testutil_check_encrypts_as(got, "-aes-256-cbc", fresh, 32, 16);
	CU_ASSERT_TRUE(CryptDestroyKey(got));
	/* The RFC's own vector, as a 128-bit key. */
	header_put(blob, SYMMETRICWRAPKEYBLOB, CALG_AES_128);
	testutil_le32_put(blob + 8, CALG_AES_128);
	memcpy(blob + 12, rfc3394_41, 24);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, 36, kek, CRYPT_EXPORTABLE, &got));
	testutil_check_encrypts_as(got, "-aes-128-cbc", data128, 16, 16);
	CU_ASSERT_TRUE(CryptDestroyKey(got));

	/* Import errors. */
	CHECK_FAILS_WITH(CryptImportKey(h, blob, 36, 0, 0, &got), NTE_BAD_KEY);
	check_truncations(h, blob, 36, kek);
	/* Another KEK of the same size, and one of another size. */
	CHECK_FAILS_WITH(CryptImportKey(h, blob, 36, key, 0, &got), NTE_BAD_DATA);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, 36, kek2, 0, &got), NTE_BAD_DATA);
	blob[20] ^= 0x01;
	CHECK_FAILS_WITH(CryptImportKey(h, blob, 36, kek, 0, &got), NTE_BAD_DATA);
	blob[20] ^= 0x01;
	/* A wrapped length that is not the key's. */
	header_put(blob, SYMMETRICWRAPKEYBLOB, CALG_AES_256);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, 36, kek, 0, &got), NTE_BAD_DATA);
	/* No RFC 3394 wrap of an 8-byte DES key. */
	header_put(blob, SYMMETRICWRAPKEYBLOB, CALG_DES);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, 36, kek, 0, &got), NTE_BAD_KEY);
	header_put(blob, SYMMETRICWRAPKEYBLOB, CALG_AES_128);
	blob[1] = 3;
	CHECK_FAILS_WITH(CryptImportKey(h, blob, 36, kek, 0, &got), NTE_BAD_DATA);
	blob[1] = 2;
	testutil_le32_put(blob + 8, CALG_RSA_KEYX);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, 36, kek, 0, &got), NTE_BAD_ALGID);
	/* With CRYPT_KEK the unwrapped key is a key-encryption key. */
	testutil_le32_put(blob + 8, CALG_AES_128);
	CU_ASSERT_TRUE(CryptImportKey(h, blob, 36, kek, CRYPT_KEK, &got));
	CU_ASSERT_TRUE(CryptDestroyKey(got));

	CU_ASSERT_TRUE(CryptDestroyKey(key2));
	CU_ASSERT_TRUE(CryptDestroyKey(kek2));
	CU_ASSERT_TRUE(CryptDestroyKey(kek_plain));
	CU_ASSERT_TRUE(CryptDestroyKey(key));
	CU_ASSERT_TRUE(CryptDestroyKey(kek));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static void test_symwrap_export_errors(void)
{
	HCRYPTPROV h, ht;
	HCRYPTKEY kek, key, fixed, pub = 0, des = 0, des3_112, tkek;
	BYTE blob[12 + 24];
	DWORD len = sizeof blob;
	BYTE *pubblob;
	DWORD pub_len = 0;

	/* A container with a trusted key-encryption key, made while the token
	 * is free; its key wraps keys of the verify context too. */
	make_trusted(uris[0], "wb-errors", NULL, 0);
	ht = open_existing(uris[0], "wb-errors");
	tkek = trusted_kek_of(ht);
	h = open_verify(0);
	kek = import_plain(h, CALG_AES_128, kek128, 16, CRYPT_KEK);
	key = import_plain(h, CALG_AES_128, data128, 16, CRYPT_EXPORTABLE);
	fixed = import_plain(h, CALG_AES_128, data128, 16, 0);
	/* hExpKey 0, and keys that are no session key. */
	CHECK_FAILS_WITH(CryptExportKey(key, 0, SYMMETRICWRAPKEYBLOB, 0, NULL, &len), NTE_BAD_KEY);
	pubblob = testutil_vector_read("rsa1024-pub.blob", &pub_len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pubblob, pub_len, 0, 0, &pub));
	free(pubblob);
	CHECK_FAILS_WITH(CryptExportKey(key, pub, SYMMETRICWRAPKEYBLOB, 0, NULL, &len), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptExportKey(pub, kek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len), NTE_BAD_KEY);
	{
		HCRYPTKEY got = 0;

		header_put(blob, SYMMETRICWRAPKEYBLOB, CALG_AES_128);
		testutil_le32_put(blob + 8, CALG_AES_128);
		memcpy(blob + 12, rfc3394_41, 24);
		CHECK_FAILS_WITH(CryptImportKey(h, blob, sizeof blob, pub, 0, &got), NTE_BAD_KEY);
		/* CRYPT_KEK makes AES keys only. */
		header_put(blob, SYMMETRICWRAPKEYBLOB, CALG_3DES_112);
		CHECK_FAILS_WITH(CryptImportKey(h, blob, sizeof blob, kek, CRYPT_KEK, &got),
				 NTE_BAD_FLAGS);
	}
	/* Not exportable: refused, also to a size query. */
	CHECK_FAILS_WITH(CryptExportKey(fixed, kek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	len = sizeof blob;
	CHECK_FAILS_WITH(CryptExportKey(fixed, kek, SYMMETRICWRAPKEYBLOB, 0, blob, &len),
			 NTE_BAD_KEY_STATE);
	/* A DES key has no RFC 3394 wrap. */
	{
		static const BYTE des_key[8] = { 0x01, 0x02, 0x04, 0x07, 0x08, 0x0b, 0x0d, 0x0e };
		BYTE pb[12 + 8];

		header_put(pb, PLAINTEXTKEYBLOB, CALG_DES);
		testutil_le32_put(pb + 8, 8);
		memcpy(pb + 12, des_key, 8);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pb, sizeof pb, 0, CRYPT_EXPORTABLE, &des));
		CHECK_FAILS_WITH(CryptExportKey(des, kek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
				 NTE_BAD_KEY);
		/* OPAQUEKEYBLOB takes it, with the padded AES wrap. */
		{
			HCRYPTKEY back = 0;
			DWORD op_len = 0;
			BYTE *op = testutil_blob_export(des, kek, OPAQUEKEYBLOB, 0, &op_len);

			CU_ASSERT_EQUAL_FATAL(op_len, 40 + 16);
			CU_ASSERT(testutil_le32(op + 4) == CALG_DES && testutil_le32(op + 12) == 2 &&
				  testutil_le32(op + 16) == 0x210a);
			CU_ASSERT(testutil_le32(op + 20) == 0x13 && testutil_le32(op + 24) == 8 &&
				  testutil_le32(op + 32) == 0 && testutil_le32(op + 36) == 16);
			CU_ASSERT_TRUE_FATAL(CryptImportKey(h, op, op_len, kek, CRYPT_EXPORTABLE, &back));
			/* Sensitive now, and it leaves only under a key the token
			 * trusts (SPEC section 3): not under the caller's KEK again. */
			CHECK_FAILS_WITH(CryptExportKey(back, 0, PLAINTEXTKEYBLOB, 0, NULL, &len),
					 NTE_BAD_KEY_STATE);
			CHECK_FAILS_WITH(CryptExportKey(back, kek, OPAQUEKEYBLOB, 0, NULL, &len),
					 NTE_BAD_KEY_STATE);
			/* SoftHSM runs no single-DES cipher, so the value is
			 * checked through a wrap under the trusted KEK, whose
			 * bytes the operator knows; openssl undoes it (RFC 5649). */
			{
				DWORD w_len = 0;
				size_t v_len = 0;
				BYTE *w = testutil_blob_export(back, tkek, OPAQUEKEYBLOB, 0, &w_len);
				char args[256], *k = testutil_hex_new(trusted_kek, 32);
				BYTE *v;

				CU_ASSERT_EQUAL_FATAL(w_len, 40 + 16);
				snprintf(args, sizeof args,
					 "enc -d -id-aes256-wrap-pad -K %s -iv A65959A6 -nopad", k);
				v = openssl_run(args, w + 40, 16, &v_len);
				CU_ASSERT(v_len == 8 && memcmp(v, des_key, 8) == 0);
				free(v);
				free(k);
				free(w);
			}
			CU_ASSERT_TRUE(CryptDestroyKey(back));
			free(op);
		}
		CU_ASSERT_TRUE(CryptDestroyKey(des));
	}
	/* Flags outside the documented five (a capi11 decision). */
	CHECK_FAILS_WITH(CryptExportKey(key, kek, SYMMETRICWRAPKEYBLOB, 0x100000, NULL, &len),
			 NTE_BAD_FLAGS);
	/* 2-key 3DES has no wrap of its own. */
	des3_112 = import_plain(h, CALG_3DES_112, des3_key, 16, CRYPT_EXPORTABLE);
	CHECK_FAILS_WITH(CryptExportKey(key, des3_112, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY);
	CU_ASSERT_TRUE(CryptDestroyKey(des3_112));
	CU_ASSERT_TRUE(CryptDestroyKey(pub));
	CU_ASSERT_TRUE(CryptDestroyKey(fixed));
	CU_ASSERT_TRUE(CryptDestroyKey(key));
	CU_ASSERT_TRUE(CryptDestroyKey(kek));
	CU_ASSERT_TRUE(CryptDestroyKey(tkek));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(ht, 0));
}

/* ---- SYMMETRICWRAPKEYBLOB under 3DES: RFC 3217 ---- */

/* RFC 3217 section 3.2's unwrap, every cipher step done by openssl:
 * returns the CEK after checking the key checksum. */
static void rfc3217_unwrap(const BYTE *kek, const BYTE wrapped[40], BYTE cek[24])
{
	BYTE *temp3, temp2[40], *cekicv, digest[20];

	temp3 = openssl_des3_cbc(false, kek, rfc3217_iv2, wrapped, 40);
	reverse(temp2, temp3, 40);
	cekicv = openssl_des3_cbc(false, kek, temp2, temp2 + 8, 32);
	openssl_sha1(cekicv, 24, digest);
	CU_ASSERT(memcmp(digest, cekicv + 24, 8) == 0);
	memcpy(cek, cekicv, 24);
	free(temp3);
	free(cekicv);
}

/* RFC 3217 section 3.1's wrap by openssl, with a given IV. */
static void rfc3217_wrap(const BYTE *kek, const BYTE cek[24], const BYTE iv[8], BYTE out[40])
{
	BYTE cekicv[32], digest[20], temp2[40], temp3[40], *temp1, *result;

	openssl_sha1(cek, 24, digest);
	memcpy(cekicv, cek, 24);
	memcpy(cekicv + 24, digest, 8);
	temp1 = openssl_des3_cbc(true, kek, iv, cekicv, 32);
	memcpy(temp2, iv, 8);
	memcpy(temp2 + 8, temp1, 32);
	reverse(temp3, temp2, 40);
	result = openssl_des3_cbc(true, kek, rfc3217_iv2, temp3, 40);
	memcpy(out, result, 40);
	free(temp1);
	free(result);
}

static void test_des3_wrap(void)
{
	HCRYPTPROV h = open_verify(0);
	HCRYPTKEY kek, key, other, aes, fixed, got = 0;
	static const BYTE iv[8] = { 0xba, 0xd0, 0x5e, 0xed, 0x11, 0x22, 0x33, 0x44 };
	BYTE *b, *b2, cek[24], blob[12 + 40];
	DWORD len = 0, len2 = 0;

	kek = import_plain(h, CALG_3DES, des3_kek, 24, 0);
	key = import_plain(h, CALG_3DES, des3_key, 24, CRYPT_EXPORTABLE);
	b = testutil_blob_export(key, kek, SYMMETRICWRAPKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL_FATAL(len, 12 + 40);
	check_symwrap_header(b, CALG_3DES, CALG_3DES);
	rfc3217_unwrap(des3_kek, b + 12, cek);
	CU_ASSERT(memcmp(cek, des3_key_odd, 24) == 0);
	/* A fresh IV every time. */
	b2 = testutil_blob_export(key, kek, SYMMETRICWRAPKEYBLOB, 0, &len2);
	CU_ASSERT(len2 == len && memcmp(b, b2, len) != 0);
	free(b2);
	/* capi11 reads back its own blob: a key that arrives wrapped is
	 * sensitive (SPEC section 3), so its value shows in what it encrypts
	 * (DES ignores the parity bits). */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, b, len, kek, CRYPT_EXPORTABLE, &got));
	CHECK_FAILS_WITH(CryptExportKey(got, 0, PLAINTEXTKEYBLOB, 0, NULL, &len2),
			 NTE_BAD_KEY_STATE);
	testutil_check_encrypts_as(got, "-des-ede3-cbc", des3_key_odd, 24, 8);
	testutil_check_encrypts_as(got, "-des-ede3-cbc", des3_key, 24, 8);
	CU_ASSERT_TRUE(CryptDestroyKey(got));
	free(b);

	/* A blob openssl made the RFC 3217 way. */
	header_put(blob, SYMMETRICWRAPKEYBLOB, CALG_3DES);
	testutil_le32_put(blob + 8, CALG_3DES);
	rfc3217_wrap(des3_kek, des3_key2, iv, blob + 12);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, sizeof blob, kek, CRYPT_EXPORTABLE, &got));
	CHECK_FAILS_WITH(CryptExportKey(got, 0, PLAINTEXTKEYBLOB, 0, NULL, &len2),
			 NTE_BAD_KEY_STATE);
	testutil_check_encrypts_as(got, "-des-ede3-cbc", des3_key2, 24, 8);
	/* Nor does it leave under the 3DES key it came under: RFC 3217 reads
	 * the key. */
	CHECK_FAILS_WITH(CryptExportKey(got, kek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len2),
			 NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyKey(got));

	/* A wrong KEK or a changed byte breaks the key checksum. */
	other = import_plain(h, CALG_3DES, des3_key2, 24, 0);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, sizeof blob, other, 0, &got), NTE_BAD_DATA);
	blob[12 + 39] ^= 0x80;
	CHECK_FAILS_WITH(CryptImportKey(h, blob, sizeof blob, kek, 0, &got), NTE_BAD_DATA);
	blob[12 + 39] ^= 0x80;
	check_truncations(h, blob, sizeof blob, kek);
	/* RFC 3217 wraps 3DES keys only, in exactly 40 bytes. */
	header_put(blob, SYMMETRICWRAPKEYBLOB, CALG_AES_128);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, sizeof blob, kek, 0, &got), NTE_BAD_KEY);
	header_put(blob, SYMMETRICWRAPKEYBLOB, CALG_3DES);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, 12 + 32, kek, 0, &got), NTE_BAD_DATA);

	/* Export errors: a non-3DES key under 3DES; a key that may not leave. */
	aes = import_plain(h, CALG_AES_128, data128, 16, CRYPT_EXPORTABLE);
	CHECK_FAILS_WITH(CryptExportKey(aes, kek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY);
	fixed = import_plain(h, CALG_3DES, des3_key2, 24, 0);
	CHECK_FAILS_WITH(CryptExportKey(fixed, kek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyKey(fixed));
	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptDestroyKey(other));
	CU_ASSERT_TRUE(CryptDestroyKey(key));
	CU_ASSERT_TRUE(CryptDestroyKey(kek));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- the sensitive-export rule and OPAQUEKEYBLOB on one token ---- */

/* SPEC section 3: a sensitive key leaves only wrapped under a key with
 * CKA_TRUSTED, which only the security officer sets; under any other key
 * the token refuses the wrap (NTE_BAD_KEY_STATE), size queries included. */
static void test_sensitive_rule(void)
{
	HCRYPTPROV hp = open_container(uris[1], "rule-partner"), h;
	HCRYPTKEY k, plainwrap, kek, known, fixed, xchg, pub_own = 0, pub_foreign = 0, d3, d3kek;
	HCRYPTKEY tkek, partner, partner_pub = 0, back = 0;
	DWORD len = 0, pub_len = 0, partner_len = 0;
	BYTE *pub, *b, buf[64], *partner_blob, *v;
	DWORD foreign_len = 0;
	size_t v_len = 0;

	/* A partner's exchange key on token 2, whose public half the security
	 * officer of token 1 trusts, with a key-encryption key. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(hp, AT_KEYEXCHANGE, 1024 << 16, &partner));
	partner_blob = testutil_blob_export(partner, 0, PUBLICKEYBLOB, 0, &partner_len);
	make_trusted(SENS1, "rule", partner_blob, partner_len);
	h = open_existing(SENS1, "rule");
	tkek = trusted_kek_of(h);

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, CRYPT_EXPORTABLE, &k));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, CRYPT_EXPORTABLE, &plainwrap));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &kek));
	known = import_plain(h, CALG_AES_256, kek256, 32, CRYPT_KEK);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &fixed));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16, &xchg));

	/* Sensitive under the policy: no plaintext. */
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PLAINTEXTKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	/* Under a key that could decrypt the wrap: refused. */
	CHECK_FAILS_WITH(CryptExportKey(k, plainwrap, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	/* Under a key-encryption key the token does not trust: refused, be it
	 * one the caller made or one whose bytes the caller knows. */
	CHECK_FAILS_WITH(CryptExportKey(k, kek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(k, known, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(k, known, SYMMETRICWRAPKEYBLOB, 0, buf, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(k, known, OPAQUEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	/* Under the trusted key-encryption key: allowed, and what the
	 * operator's copy of it unwraps is the key k encrypts with. */
	b = testutil_blob_export(k, tkek, SYMMETRICWRAPKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL_FATAL(len, 12 + 24);
	check_symwrap_header(b, CALG_AES_128, CALG_AES_256);
	{
		char args[256], *kh = testutil_hex_new(trusted_kek, 32);

		snprintf(args, sizeof args,
			 "enc -d -id-aes256-wrap -K %s -iv A6A6A6A6A6A6A6A6 -nopad", kh);
		v = openssl_run(args, b + 12, 24, &v_len);
		CU_ASSERT_EQUAL_FATAL(v_len, 16);
		testutil_check_encrypts_as(k, "-aes-128-cbc", v, 16, 16);
		free(v);
		free(kh);
	}
	free(b);
	/* Under the container's exchange key, or its public half imported
	 * as a PUBLICKEYBLOB: refused. */
	CHECK_FAILS_WITH(CryptExportKey(k, xchg, SIMPLEBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	pub = testutil_blob_export(xchg, 0, PUBLICKEYBLOB, 0, &pub_len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &pub_own));
	free(pub);
	CHECK_FAILS_WITH(CryptExportKey(k, pub_own, SIMPLEBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	/* Someone else's public key the token does not trust: refused too (the
	 * private half of this one is a published test vector). */
	pub = testutil_vector_read("rsa1024-pub.blob", &foreign_len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, foreign_len, 0, 0, &pub_foreign));
	free(pub);
	CHECK_FAILS_WITH(CryptExportKey(k, pub_foreign, SIMPLEBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(k, pub_foreign, SIMPLEBLOB, 0, buf, &len),
			 NTE_BAD_KEY_STATE);
	/* The partner's public key, which the token trusts: allowed, and the
	 * partner unwraps the key k is. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, partner_blob, partner_len, 0, 0, &partner_pub));
	b = testutil_blob_export(k, partner_pub, SIMPLEBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, 12 + 128);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, b, len, partner, 0, &back));
	check_same_encryption(k, back);
	free(b);
	/* Not extractable at all: every route, size queries included, the
	 * trusted keys too. */
	CHECK_FAILS_WITH(CryptExportKey(fixed, kek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(fixed, tkek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(fixed, kek, OPAQUEKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(fixed, tkek, OPAQUEKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(fixed, kek, OPAQUEKEYBLOB, 0, buf, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(fixed, pub_foreign, SIMPLEBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(fixed, partner_pub, SIMPLEBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	/* RFC 3217 reads the key: never for a sensitive one. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_3DES, CRYPT_EXPORTABLE, &d3));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_3DES, 0, &d3kek));
	CHECK_FAILS_WITH(CryptExportKey(d3, d3kek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);

	free(partner_blob);
	CU_ASSERT_TRUE(CryptDestroyKey(back));
	CU_ASSERT_TRUE(CryptDestroyKey(partner_pub));
	CU_ASSERT_TRUE(CryptDestroyKey(partner));
	CU_ASSERT_TRUE(CryptDestroyKey(d3kek));
	CU_ASSERT_TRUE(CryptDestroyKey(d3));
	CU_ASSERT_TRUE(CryptDestroyKey(pub_foreign));
	CU_ASSERT_TRUE(CryptDestroyKey(pub_own));
	CU_ASSERT_TRUE(CryptDestroyKey(xchg));
	CU_ASSERT_TRUE(CryptDestroyKey(fixed));
	CU_ASSERT_TRUE(CryptDestroyKey(known));
	CU_ASSERT_TRUE(CryptDestroyKey(kek));
	CU_ASSERT_TRUE(CryptDestroyKey(tkek));
	CU_ASSERT_TRUE(CryptDestroyKey(plainwrap));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(hp, 0));
}

static void test_opaque_secret(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k, k2 = 0, kek, kek_other, kek128_k, plainwrap, xchg, moved, got = 0;
	BYTE *op, *w1, *w2, buf[128];
	DWORD op_len = 0, l1 = 0, l2 = 0, len = 0;

	make_trusted(SENS1, "opaque", NULL, 0);
	h = open_existing(SENS1, "opaque");
	kek = trusted_kek_of(h);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_192, CRYPT_EXPORTABLE, &k));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &kek_other));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, CRYPT_KEK, &kek128_k));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_EXPORTABLE, &plainwrap));

	/* A key-encryption key the token does not trust takes no sensitive
	 * key (SPEC section 3), size query and export alike. */
	CHECK_FAILS_WITH(CryptExportKey(k, kek_other, OPAQUEKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(k, kek_other, OPAQUEKEYBLOB, 0, buf, &len),
			 NTE_BAD_KEY_STATE);

	/* docs/OPAQUEKEYBLOB.md: header, then 24 key bytes wrapped by RFC 3394
	 * under the trusted key-encryption key. */
	op = testutil_blob_export(k, kek, OPAQUEKEYBLOB, 0, &op_len);
	CU_ASSERT_EQUAL_FATAL(op_len, 40 + 32);
	CU_ASSERT(op[0] == OPAQUEKEYBLOB && op[1] == 2 && testutil_le32(op + 4) == CALG_AES_192);
	CU_ASSERT(memcmp(op + 8, "C11O", 4) == 0 && testutil_le32(op + 12) == 2);
	CU_ASSERT(testutil_le32(op + 16) == 0x2109 && testutil_le32(op + 20) == 0x1f &&
		  testutil_le32(op + 24) == 24);
	/* Usage 0: not a key-encryption key. */
	CU_ASSERT(testutil_le32(op + 28) == CALG_AES_256 && testutil_le32(op + 32) == 0 &&
		  testutil_le32(op + 36) == 32);

	/* Back in, and the same value: both wrap to the same RFC 3394 bytes. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, op, op_len, kek, CRYPT_EXPORTABLE, &k2));
	w1 = testutil_blob_export(k, kek, SYMMETRICWRAPKEYBLOB, 0, &l1);
	w2 = testutil_blob_export(k2, kek, SYMMETRICWRAPKEYBLOB, 0, &l2);
	CU_ASSERT(l1 == 12 + 32 && l1 == l2 && memcmp(w1, w2, l1) == 0);
	free(w1);
	free(w2);
	CHECK_FAILS_WITH(CryptExportKey(k2, 0, PLAINTEXTKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);

	/* hExpKey: none, not wrap-only, not a session key. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &xchg));
	CHECK_FAILS_WITH(CryptExportKey(k, 0, OPAQUEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptExportKey(k, plainwrap, OPAQUEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptExportKey(k, xchg, OPAQUEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY);
	/* hPubKey: none, not wrap-only, another KEK, a KEK of another size. */
	CHECK_FAILS_WITH(CryptImportKey(h, op, op_len, 0, 0, &got), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptImportKey(h, op, op_len, plainwrap, 0, &got), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptImportKey(h, op, op_len, kek_other, 0, &got), NTE_BAD_DATA);
	CHECK_FAILS_WITH(CryptImportKey(h, op, op_len, kek128_k, 0, &got), NTE_BAD_DATA);
	check_truncations(h, op, op_len, kek);
	op[40] ^= 0x01;
	CHECK_FAILS_WITH(CryptImportKey(h, op, op_len, kek, 0, &got), NTE_BAD_DATA);
	op[40] ^= 0x01;
	testutil_le32_put(op + 4, CALG_AES_128);
	CHECK_FAILS_WITH(CryptImportKey(h, op, op_len, kek, 0, &got), NTE_BAD_DATA);
	free(op);

	/* CRYPT_DESTROYKEY: a size query destroys nothing; the export does,
	 * and the handle can then only be destroyed. */
	CU_ASSERT_TRUE(CryptExportKey(k2, kek, OPAQUEKEYBLOB, CRYPT_DESTROYKEY, NULL, &len));
	CU_ASSERT_TRUE(CryptDuplicateKey(k2, NULL, 0, &moved));
	op = testutil_blob_export(k2, kek, OPAQUEKEYBLOB, CRYPT_DESTROYKEY, &op_len);
	CHECK_FAILS_WITH(CryptExportKey(k2, kek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptExportKey(moved, kek, OPAQUEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY);
	CU_ASSERT_TRUE(CryptDestroyKey(k2));
	CU_ASSERT_TRUE(CryptDestroyKey(moved));
	/* What moved is the key: it comes back as k's value. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, op, op_len, kek, CRYPT_EXPORTABLE, &k2));
	w1 = testutil_blob_export(k, kek, SYMMETRICWRAPKEYBLOB, 0, &l1);
	w2 = testutil_blob_export(k2, kek, SYMMETRICWRAPKEYBLOB, 0, &l2);
	CU_ASSERT(l1 == l2 && memcmp(w1, w2, l1) == 0);
	free(w1);
	free(w2);
	free(op);
	/* What came back wrapped stays in under any other key. */
	CHECK_FAILS_WITH(CryptExportKey(k2, kek_other, OPAQUEKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(k2, kek_other, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);

	CU_ASSERT_TRUE(CryptDestroyKey(k2));
	CU_ASSERT_TRUE(CryptDestroyKey(xchg));
	CU_ASSERT_TRUE(CryptDestroyKey(plainwrap));
	CU_ASSERT_TRUE(CryptDestroyKey(kek128_k));
	CU_ASSERT_TRUE(CryptDestroyKey(kek_other));
	CU_ASSERT_TRUE(CryptDestroyKey(kek));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- OPAQUEKEYBLOB: a sensitive RSA key moves to another token ---- */

static void test_opaque_move(void)
{
	HCRYPTPROV hv, h1, h2;
	HCRYPTKEY kek1, kek2, known1, known2, wrong2, rsa1, rsa2 = 0, s, s2 = 0, got = 0;
	BYTE *pub1, *pub2, *op, *simple, kek_blob[12 + 32];
	DWORD kek_len, pub1_len = 0, pub2_len = 0, op_len = 0, simple_len = 0;
	DWORD len = 0;

	/* One KEK, provisioned on both tokens by their security officers. */
	make_trusted(SENS1, "mover", NULL, 0);
	make_trusted(uris[1], "mover", NULL, 0);
	hv = open_verify(0);
	h1 = open_existing(SENS1, "mover");
	h2 = open_existing(uris[1], "mover");
	kek1 = trusted_kek_of(h1);
	kek2 = trusted_kek_of(h2);
	/* The same bytes imported by the caller with CRYPT_KEK are no trusted
	 * key: the caller knows them. */
	kek_len = testutil_plaintext_blob(kek_blob, CALG_AES_256, trusted_kek, 32);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h1, kek_blob, kek_len, 0, CRYPT_KEK, &known1));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, kek_blob, kek_len, 0, CRYPT_KEK, &known2));

	/* A sensitive exchange key on token 1. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h1, AT_KEYEXCHANGE, CRYPT_EXPORTABLE | (1024 << 16), &rsa1));
	CHECK_FAILS_WITH(CryptExportKey(rsa1, 0, PRIVATEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	pub1 = testutil_blob_export(rsa1, 0, PUBLICKEYBLOB, 0, &pub1_len);
	CHECK_FAILS_WITH(CryptExportKey(rsa1, known1, OPAQUEKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(rsa1, known1, OPAQUEKEYBLOB, CRYPT_DESTROYKEY, NULL, &len),
			 NTE_BAD_KEY_STATE);
	op = testutil_blob_export_bound(rsa1, kek1, OPAQUEKEYBLOB, CRYPT_DESTROYKEY, &op_len);
	CU_ASSERT(testutil_le32(op + 4) == CALG_RSA_KEYX && testutil_le32(op + 16) == 0x210a &&
		  testutil_le32(op + 20) == 0);
	CU_ASSERT(testutil_le32(op + 24) == 128 && testutil_le32(op + 32) == 0 &&
		  testutil_le32(op + 36) + 40 == op_len);
	/* Moved: gone from token 1. */
	CHECK_FAILS_WITH(CryptGetUserKey(h1, AT_KEYEXCHANGE, &got), NTE_NO_KEY);
	CU_ASSERT_EQUAL(testutil_token_count(labels[0], "privkey", "mover"), 0);
	CU_ASSERT_EQUAL(testutil_token_count(labels[0], "pubkey", "mover"), 0);
	CU_ASSERT_TRUE(CryptDestroyKey(rsa1));

	/* Failed imports on token 2 leave nothing. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h2, CALG_AES_256, CRYPT_KEK, &wrong2));
	CHECK_FAILS_WITH(CryptImportKey(h2, op, op_len, wrong2, 0, &got), NTE_BAD_DATA);
	CHECK_FAILS_WITH(CryptImportKey(h2, op, op_len - 8, kek2, 0, &got), NTE_BAD_DATA);
	/* The caller's copy of the KEK bytes unwraps it, but what it makes is
	 * sensitive too (SPEC section 3): checked below for keys that arrive
	 * wrapped. Here only the trusted key is used. */
	CU_ASSERT_EQUAL(testutil_token_count(labels[1], "privkey", "mover"), 0);
	CU_ASSERT_EQUAL(testutil_token_count(labels[1], "pubkey", "mover"), 0);

	/* Token 2 takes it into its container, not exportable. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, op, op_len, kek2, 0, &rsa2));
	CU_ASSERT_EQUAL(testutil_token_count(labels[1], "privkey", "mover"), 1);
	CU_ASSERT_EQUAL(testutil_token_count(labels[1], "pubkey", "mover"), 1);
	CU_ASSERT_TRUE(CryptDestroyKey(rsa2));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h2, AT_KEYEXCHANGE, &rsa2));
	pub2 = testutil_blob_export(rsa2, 0, PUBLICKEYBLOB, 0, &pub2_len);
	CU_ASSERT(pub1_len == pub2_len && memcmp(pub1, pub2, pub1_len) == 0);
	CHECK_FAILS_WITH(CryptExportKey(rsa2, 0, PRIVATEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	/* Its private half works: a SIMPLEBLOB to it unwraps to the same key. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h2, CALG_AES_128, CRYPT_EXPORTABLE, &s));
	simple = testutil_blob_export(s, rsa2, SIMPLEBLOB, 0, &simple_len);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, simple, simple_len, rsa2, CRYPT_EXPORTABLE, &s2));
	CHECK_FAILS_WITH(CryptExportKey(s2, 0, PLAINTEXTKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	check_same_encryption(s, s2);

	free(simple);
	free(op);
	free(pub1);
	free(pub2);
	CU_ASSERT_TRUE(CryptDestroyKey(s2));
	CU_ASSERT_TRUE(CryptDestroyKey(s));
	CU_ASSERT_TRUE(CryptDestroyKey(rsa2));
	CU_ASSERT_TRUE(CryptDestroyKey(wrong2));
	CU_ASSERT_TRUE(CryptDestroyKey(kek2));
	CU_ASSERT_TRUE(CryptDestroyKey(kek1));
	CU_ASSERT_TRUE(CryptDestroyKey(known2));
	CU_ASSERT_TRUE(CryptDestroyKey(known1));
	CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h1, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(hv, 0));
}

/* ---- a key that arrives wrapped stays sensitive (SPEC section 3) ---- */

/* Token 1 seen from inside the process but outside capi11: SoftHSM's own
 * module, the instance p11-kit loaded for capi11, so that capi11's session
 * objects, visible to every session of the application, can be read. */
static CK_FUNCTION_LIST *p11;
static CK_SESSION_HANDLE p11_session = CK_INVALID_HANDLE;

static void p11_open(void)
{
	if (p11_session != CK_INVALID_HANDLE)
		return;
	p11 = testutil_softhsm();
	p11_session = testutil_softhsm_session(labels[0], false, false);
}

static void p11_close(void)
{
	if (p11_session != CK_INVALID_HANDLE)
		p11->C_CloseSession(p11_session);
	p11_session = CK_INVALID_HANDLE;
}

#define P11_MAX_OBJECTS 256

/* The handles of every object of a class the token shows now. */
static CK_ULONG p11_find(CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE tmpl = { CKA_CLASS, &cls, sizeof cls };
	CK_ULONG n = 0;

	p11_open();
	CU_ASSERT_EQUAL_FATAL(p11->C_FindObjectsInit(p11_session, &tmpl, 1), CKR_OK);
	CU_ASSERT_EQUAL(p11->C_FindObjects(p11_session, out, P11_MAX_OBJECTS, &n), CKR_OK);
	CU_ASSERT_EQUAL(p11->C_FindObjectsFinal(p11_session), CKR_OK);
	CU_ASSERT_FATAL(n < P11_MAX_OBJECTS);
	return n;
}

/* The one object of the class that was not among before: what the import
 * made. Its CKA_SENSITIVE and CKA_EXTRACTABLE must be these. */
static void p11_check_new(CK_OBJECT_CLASS cls, const CK_OBJECT_HANDLE *before, CK_ULONG n_before,
			  bool sensitive, bool extractable)
{
	CK_OBJECT_HANDLE now[P11_MAX_OBJECTS], made = CK_INVALID_HANDLE;
	CK_ULONG n = p11_find(cls, now), i, j, count = 0;
	CK_BBOOL s = CK_FALSE, x = CK_FALSE;
	CK_ATTRIBUTE attrs[] = {
		{ CKA_SENSITIVE, &s, sizeof s },
		{ CKA_EXTRACTABLE, &x, sizeof x },
	};

	for (i = 0; i < n; i++) {
		for (j = 0; j < n_before && before[j] != now[i]; j++)
			;
		if (j == n_before) {
			made = now[i];
			count++;
		}
	}
	CU_ASSERT_EQUAL_FATAL(count, 1);
	CU_ASSERT_EQUAL_FATAL(p11->C_GetAttributeValue(p11_session, made, attrs, 2), CKR_OK);
	CU_ASSERT_EQUAL(s, sensitive ? CK_TRUE : CK_FALSE);
	CU_ASSERT_EQUAL(x, extractable ? CK_TRUE : CK_FALSE);
}

/* openssl enc -d -id-aesNNN-wrap: RFC 3394's unwrap, checking the IV. */
static BYTE *openssl_aes_unwrap(const BYTE *kek, size_t kek_len, const BYTE *wrapped,
				size_t wrapped_len, size_t *out_len)
{
	char args[256], *k = testutil_hex_new(kek, kek_len);
	BYTE *out;

	snprintf(args, sizeof args, "enc -d -id-aes%zu-wrap -K %s -iv A6A6A6A6A6A6A6A6 -nopad",
		 kek_len * 8, k);
	out = openssl_run(args, wrapped, wrapped_len, out_len);
	free(k);
	return out;
}

/* CryptEncrypt(Final) of a fixed message under both keys gives the same
 * bytes: the same key value. */
static void check_same_encryption(HCRYPTKEY a, HCRYPTKEY b)
{
	static const BYTE msg[32] = "two keys, one value, same bytes";
	BYTE ca[48], cb[48];
	DWORD la = sizeof msg, lb = sizeof msg;

	memcpy(ca, msg, sizeof msg);
	memcpy(cb, msg, sizeof msg);
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(a, 0, TRUE, 0, ca, &la, sizeof ca));
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(b, 0, TRUE, 0, cb, &lb, sizeof cb));
	CU_ASSERT(la == 48 && la == lb && memcmp(ca, cb, la) == 0);
}

/* One trusted KEK on both providers of token 1: the security officer made
 * it from trusted_kek in both containers (make_trusted, before they were
 * opened); *blob is its PLAINTEXTKEYBLOB (12 + 32 bytes), which the
 * operator, and so the test, knows. The same bytes imported by the caller
 * with CRYPT_KEK are no trusted key: a sensitive key never leaves under
 * them. */
static void kek_share(HCRYPTPROV hs, HCRYPTPROV hp, HCRYPTKEY *kek_s, HCRYPTKEY *kek_p,
		      BYTE **blob)
{
	DWORD len;

	*blob = malloc(12 + 32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*blob);
	len = testutil_plaintext_blob(*blob, CALG_AES_256, trusted_kek, 32);
	CU_ASSERT_EQUAL_FATAL(len, 12 + 32);
	*kek_s = trusted_kek_of(hs);
	*kek_p = trusted_kek_of(hp);
}

/* The caller's own copy of the KEK bytes, wrap-only. */
static HCRYPTKEY known_kek(HCRYPTPROV h)
{
	return import_plain(h, CALG_AES_256, trusted_kek, 32, CRYPT_KEK);
}

/* Every way out for a sensitive secret key that came in under the KEK,
 * in the plain context hp: only the wrap under the trusted KEK works. */
static void check_secret_stays_in(HCRYPTPROV hp, HCRYPTKEY got, HCRYPTKEY kek_p)
{
	HCRYPTKEY plainwrap, xchg, pub_foreign = 0, dup = 0, d3 = 0, known = known_kek(hp);
	DWORD len = 0, perm = 0, plen = sizeof perm, foreign_len = 0;
	BYTE buf[256], *pub;

	CHECK_FAILS_WITH(CryptExportKey(got, 0, PLAINTEXTKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(got, 0, PLAINTEXTKEYBLOB, 0, buf, &len), NTE_BAD_KEY_STATE);
	/* A sensitive key on the plain provider: not exportable, and the
	 * permission cannot be added back. */
	CU_ASSERT_TRUE(CryptGetKeyParam(got, KP_PERMISSIONS, (BYTE *)&perm, &plen, 0));
	CU_ASSERT_EQUAL(perm & CRYPT_EXPORT, 0);
	CU_ASSERT_EQUAL(perm & (CRYPT_ENCRYPT | CRYPT_DECRYPT), CRYPT_ENCRYPT | CRYPT_DECRYPT);
	perm |= CRYPT_EXPORT;
	CHECK_FAILS_WITH(CryptSetKeyParam(got, KP_PERMISSIONS, (BYTE *)&perm, 0), NTE_BAD_DATA);
	CHECK_FAILS_WITH(CryptExportKey(got, 0, PLAINTEXTKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	/* A copy is no way out either. */
	CU_ASSERT_TRUE_FATAL(CryptDuplicateKey(got, NULL, 0, &dup));
	CHECK_FAILS_WITH(CryptExportKey(dup, 0, PLAINTEXTKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	/* SIMPLEBLOB under the plain context's own exchange key, and under a
	 * public key whose private half is a published test vector. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(hp, AT_KEYEXCHANGE, 1024 << 16, &xchg));
	CHECK_FAILS_WITH(CryptExportKey(got, xchg, SIMPLEBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	pub = testutil_vector_read("rsa1024-pub.blob", &foreign_len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, pub, foreign_len, 0, 0, &pub_foreign));
	free(pub);
	CHECK_FAILS_WITH(CryptExportKey(got, pub_foreign, SIMPLEBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	/* Under a key that can decrypt, or under RFC 3217 (which reads the
	 * key), or OPAQUEKEYBLOB under anything but a KEK. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(hp, CALG_AES_256, CRYPT_EXPORTABLE, &plainwrap));
	CHECK_FAILS_WITH(CryptExportKey(got, plainwrap, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(got, plainwrap, OPAQUEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(hp, CALG_3DES, CRYPT_EXPORTABLE, &d3));
	CHECK_FAILS_WITH(CryptExportKey(got, d3, SYMMETRICWRAPKEYBLOB, 0, NULL, &len), NTE_BAD_KEY);
	/* Under the caller's copy of the KEK bytes: the token does not trust
	 * it (SPEC section 3). */
	CHECK_FAILS_WITH(CryptExportKey(got, known, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(got, known, OPAQUEKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(got, known, OPAQUEKEYBLOB, 0, buf, &len),
			 NTE_BAD_KEY_STATE);
	/* Wrapped again under the trusted KEK: allowed, and it comes back
	 * sensitive. */
	{
		HCRYPTKEY again = 0;
		DWORD w_len = 0;
		BYTE *w = testutil_blob_export(got, kek_p, OPAQUEKEYBLOB, 0, &w_len);

		CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, w, w_len, kek_p, CRYPT_EXPORTABLE, &again));
		CHECK_FAILS_WITH(CryptExportKey(again, 0, PLAINTEXTKEYBLOB, 0, NULL, &len),
				 NTE_BAD_KEY_STATE);
		check_same_encryption(got, again);
		CU_ASSERT_TRUE(CryptDestroyKey(again));
		free(w);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(d3));
	CU_ASSERT_TRUE(CryptDestroyKey(plainwrap));
	CU_ASSERT_TRUE(CryptDestroyKey(pub_foreign));
	CU_ASSERT_TRUE(CryptDestroyKey(xchg));
	CU_ASSERT_TRUE(CryptDestroyKey(dup));
	CU_ASSERT_TRUE(CryptDestroyKey(known));
}

/* A sensitive AES key made under the sensitive policy, wrapped under a KEK
 * that both providers of token 1 hold, imported with CRYPT_EXPORTABLE
 * under the plain policy: sensitive on the token, usable, never plain. */
static void test_unwrapped_secret_sensitive(void)
{
	static const DWORD types[2] = { SYMMETRICWRAPKEYBLOB, OPAQUEKEYBLOB };
	HCRYPTPROV hs, hp;
	HCRYPTKEY k, kek_s = 0, kek_p = 0, got = 0, as_kek = 0, known;
	CK_OBJECT_HANDLE before[P11_MAX_OBJECTS];
	CK_ULONG n_before;
	BYTE *kek_blob, *blobs[2], *value, *w;
	DWORD blob_len[2], len = 0, w_len = 0;
	size_t value_len = 0;
	int i;

	make_trusted(SENS1, "hole-s", NULL, 0);
	make_trusted(PLAIN1, "hole-p", NULL, 0);
	hs = open_existing(SENS1, "hole-s");
	hp = open_existing(PLAIN1, "hole-p");
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(hs, CALG_AES_128, CRYPT_EXPORTABLE, &k));
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PLAINTEXTKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	kek_share(hs, hp, &kek_s, &kek_p, &kek_blob);
	known = known_kek(hs);
	for (i = 0; i < 2; i++)
		CHECK_FAILS_WITH(CryptExportKey(k, known, types[i], 0, NULL, &len),
				 NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyKey(known));
	for (i = 0; i < 2; i++)
		blobs[i] = testutil_blob_export(k, kek_s, types[i], 0, &blob_len[i]);
	CU_ASSERT_EQUAL_FATAL(blob_len[0], 12 + 24);
	/* k's value, by openssl from the wrap under the KEK's known bytes. */
	value = openssl_aes_unwrap(kek_blob + 12, 32, blobs[0] + 12, 24, &value_len);
	CU_ASSERT_EQUAL_FATAL(value_len, 16);

	for (i = 0; i < 2; i++) {
		n_before = p11_find(CKO_SECRET_KEY, before);
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, blobs[i], blob_len[i], kek_p,
						    CRYPT_EXPORTABLE, &got));
		/* On the token: sensitive, and extractable as CRYPT_EXPORTABLE asked. */
		p11_check_new(CKO_SECRET_KEY, before, n_before, true, true);
		/* The same key, working. */
		testutil_check_encrypts_as(got, "-aes-128-cbc", value, 16, 16);
		check_same_encryption(k, got);
		/* Wrapped again under the KEK: RFC 3394 is deterministic, so the
		 * same bytes as k's wrap. */
		w = testutil_blob_export(got, kek_p, SYMMETRICWRAPKEYBLOB, 0, &w_len);
		CU_ASSERT(w_len == blob_len[0] && memcmp(w, blobs[0], w_len) == 0);
		free(w);
		check_secret_stays_in(hp, got, kek_p);
		CU_ASSERT_TRUE(CryptDestroyKey(got));
		got = 0;
	}
	/* Without CRYPT_EXPORTABLE: sensitive and not extractable. */
	n_before = p11_find(CKO_SECRET_KEY, before);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, blobs[0], blob_len[0], kek_p, 0, &got));
	p11_check_new(CKO_SECRET_KEY, before, n_before, true, false);
	CHECK_FAILS_WITH(CryptExportKey(got, kek_p, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyKey(got));
	/* As a key-encryption key: sensitive as well. */
	n_before = p11_find(CKO_SECRET_KEY, before);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, blobs[1], blob_len[1], kek_p,
					    CRYPT_EXPORTABLE | CRYPT_KEK, &as_kek));
	p11_check_new(CKO_SECRET_KEY, before, n_before, true, true);
	CHECK_FAILS_WITH(CryptExportKey(as_kek, 0, PLAINTEXTKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyKey(as_kek));
	/* The KEK decrypts nothing, the wrapped bytes included. */
	{
		BYTE data[24];
		DWORD data_len = sizeof data;

		memcpy(data, blobs[0] + 12, sizeof data);
		CHECK_FAILS_WITH(CryptDecrypt(kek_p, 0, FALSE, 0, data, &data_len), NTE_PERM);
		CU_ASSERT(memcmp(data, blobs[0] + 12, sizeof data) == 0);
	}
	/* The RFC 3217 route too: a key that arrives wrapped is sensitive
	 * whatever the policy (SPEC section 3); PLAINTEXTKEYBLOB keeps the
	 * flag's meaning on the plain provider. */
	{
		static const BYTE d3kek[24] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
						0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
						0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67 };
		HCRYPTKEY wk = import_plain(hp, CALG_3DES, d3kek, 24, 0);
		HCRYPTKEY d = import_plain(hp, CALG_3DES, des3_key2, 24, CRYPT_EXPORTABLE), back = 0;
		BYTE *b = testutil_blob_export(d, wk, SYMMETRICWRAPKEYBLOB, 0, &w_len);

		n_before = p11_find(CKO_SECRET_KEY, before);
		check_plain_value(d, des3_key2, 24);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, b, w_len, wk, CRYPT_EXPORTABLE, &back));
		p11_check_new(CKO_SECRET_KEY, before, n_before, true, true);
		CHECK_FAILS_WITH(CryptExportKey(back, 0, PLAINTEXTKEYBLOB, 0, NULL, &len),
				 NTE_BAD_KEY_STATE);
		testutil_check_encrypts_as(back, "-des-ede3-cbc", des3_key2, 24, 8);
		free(b);
		CU_ASSERT_TRUE(CryptDestroyKey(back));
		CU_ASSERT_TRUE(CryptDestroyKey(d));
		CU_ASSERT_TRUE(CryptDestroyKey(wk));
	}

	free(value);
	for (i = 0; i < 2; i++)
		free(blobs[i]);
	free(kek_blob);
	CU_ASSERT_TRUE(CryptDestroyKey(kek_p));
	CU_ASSERT_TRUE(CryptDestroyKey(kek_s));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(hp, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(hs, 0));
}

/* The same for an RSA exchange key moved by OPAQUEKEYBLOB. */
static void test_unwrapped_rsa_sensitive(void)
{
	HCRYPTPROV hs, hp;
	HCRYPTKEY rsa_s, rsa_p = 0, kek_s = 0, kek_p = 0, session, plainwrap, s = 0, back = 0, known;
	CK_OBJECT_HANDLE before[P11_MAX_OBJECTS];
	CK_ULONG n_before;
	BYTE *kek_blob, *op, *pub_s, *pub_p, *simple, *again;
	DWORD op_len = 0, ps_len = 0, pp_len = 0, simple_len = 0, again_len = 0, len = 0;
	DWORD perm = 0, plen = sizeof perm;

	make_trusted(SENS1, "hole-rs", NULL, 0);
	make_trusted(PLAIN1, "hole-rp", NULL, 0);
	hs = open_existing(SENS1, "hole-rs");
	hp = open_existing(PLAIN1, "hole-rp");
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(hs, AT_KEYEXCHANGE, CRYPT_EXPORTABLE | (1024 << 16), &rsa_s));
	CHECK_FAILS_WITH(CryptExportKey(rsa_s, 0, PRIVATEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	kek_share(hs, hp, &kek_s, &kek_p, &kek_blob);
	known = known_kek(hs);
	CHECK_FAILS_WITH(CryptExportKey(rsa_s, known, OPAQUEKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyKey(known));
	op = testutil_blob_export_bound(rsa_s, kek_s, OPAQUEKEYBLOB, 0, &op_len);

	n_before = p11_find(CKO_PRIVATE_KEY, before);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, op, op_len, kek_p, CRYPT_EXPORTABLE, &rsa_p));
	p11_check_new(CKO_PRIVATE_KEY, before, n_before, true, true);
	/* The same pair. */
	pub_s = testutil_blob_export(rsa_s, 0, PUBLICKEYBLOB, 0, &ps_len);
	pub_p = testutil_blob_export(rsa_p, 0, PUBLICKEYBLOB, 0, &pp_len);
	CU_ASSERT(ps_len == pp_len && memcmp(pub_s, pub_p, ps_len) == 0);

	/* No PRIVATEKEYBLOB, plain or encrypted under a session key. */
	CHECK_FAILS_WITH(CryptExportKey(rsa_p, 0, PRIVATEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(hp, CALG_AES_256, CRYPT_EXPORTABLE, &session));
	CHECK_FAILS_WITH(CryptExportKey(rsa_p, session, PRIVATEKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptGetKeyParam(rsa_p, KP_PERMISSIONS, (BYTE *)&perm, &plen, 0));
	CU_ASSERT_EQUAL(perm & CRYPT_EXPORT, 0);
	/* Nor an OPAQUEKEYBLOB under a key that can decrypt. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(hp, CALG_AES_256, CRYPT_EXPORTABLE, &plainwrap));
	CHECK_FAILS_WITH(CryptExportKey(rsa_p, plainwrap, OPAQUEKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY);
	/* Nor under the caller's copy of the KEK bytes. */
	known = known_kek(hp);
	CHECK_FAILS_WITH(CryptExportKey(rsa_p, known, OPAQUEKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyKey(known));
	/* Its private half works: a SIMPLEBLOB to it unwraps to the same key. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(hp, CALG_AES_128, CRYPT_EXPORTABLE, &s));
	simple = testutil_blob_export(s, rsa_p, SIMPLEBLOB, 0, &simple_len);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, simple, simple_len, rsa_p, CRYPT_EXPORTABLE, &back));
	check_same_encryption(s, back);
	/* Wrapped again under the trusted KEK: allowed. */
	again = testutil_blob_export_bound(rsa_p, kek_p, OPAQUEKEYBLOB, 0, &again_len);
	CU_ASSERT(again_len > 36 && testutil_le32(again + 4) == CALG_RSA_KEYX);

	free(again);
	free(simple);
	free(pub_p);
	free(pub_s);
	free(op);
	free(kek_blob);
	CU_ASSERT_TRUE(CryptDestroyKey(back));
	CU_ASSERT_TRUE(CryptDestroyKey(s));
	CU_ASSERT_TRUE(CryptDestroyKey(plainwrap));
	CU_ASSERT_TRUE(CryptDestroyKey(session));
	CU_ASSERT_TRUE(CryptDestroyKey(rsa_p));
	CU_ASSERT_TRUE(CryptDestroyKey(kek_p));
	CU_ASSERT_TRUE(CryptDestroyKey(kek_s));
	CU_ASSERT_TRUE(CryptDestroyKey(rsa_s));
	CU_ASSERT_TRUE(CryptReleaseContext(hp, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(hs, 0));
}

static CU_TestInfo kek_tests[] = {
	{ "CRYPT_KEK makes wrap-only AES keys", test_kek_flag },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo symwrap_tests[] = {
	{ "RFC 3394 known answers and openssl both ways", test_aes_wrap_known_answers },
	{ "export errors", test_symwrap_export_errors },
	{ "RFC 3217 Triple-DES wrap checked by openssl", test_des3_wrap },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo sensitive_tests[] = {
	{ "sensitive keys leave only under a key the token trusts", test_sensitive_rule },
	{ "OPAQUEKEYBLOB of a sensitive secret key", test_opaque_secret },
	{ "OPAQUEKEYBLOB moves an RSA key to another token", test_opaque_move },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo unwrapped_tests[] = {
	{ "a secret key unwrapped under a KEK is sensitive under any policy",
	  test_unwrapped_secret_sensitive },
	{ "an RSA key unwrapped under a KEK is sensitive under any policy",
	  test_unwrapped_rsa_sensitive },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "CRYPT_KEK", NULL, NULL, NULL, NULL, kek_tests },
	{ "SYMMETRICWRAPKEYBLOB", NULL, NULL, NULL, NULL, symwrap_tests },
	{ "sensitive keys and OPAQUEKEYBLOB", NULL, NULL, NULL, NULL, sensitive_tests },
	{ "keys unwrapped under a KEK", NULL, NULL, NULL, NULL, unwrapped_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	char text[2048], *base, *conf;
	int rc, i;

	if (!fixture_init())
		return CUTEST_SKIP;
	/* SoftHSM reads its token directory once per process: both tokens are
	 * made before the first CryptoAPI call. */
	for (i = 0; i < 2; i++) {
		labels[i] = fixture_token_make(i == 0 ? "wrap1" : "wrap2");
		uris[i] = fixture_token_uri(labels[i]);
	}
	/* Token 1 once more as a provider that keeps exportable keys
	 * sensitive, and once more under the plain policy. */
	base = fixture_token_uri(labels[0]);
	snprintf(text, sizeof text,
		 "[provider \"%s\"]\nuri = %s\ntype = 24\nexportable-policy = sensitive\n\n"
		 "[provider \"%s\"]\nuri = %s\ntype = 24\nexportable-policy = plain\n", SENS1,
		 base, PLAIN1, base);
	conf = fixture_write_file("capi11-wrap.conf", text, strlen(text));
	if (conf == NULL)
		return FIXTURE_HARD_ERROR;
	setenv("CAPI11_CONF", conf, 1);
	rc = cutest_run(suites);
	p11_close();
	fixture_cleanup(rc == 0);
	for (i = 0; i < 2; i++) {
		free(uris[i]);
		free(labels[i]);
	}
	free(base);
	free(conf);
	return rc;
}
