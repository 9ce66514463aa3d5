/* Token capabilities (SPEC section 7): what capi11 does on a token that
 * lacks a mechanism, or advertises one and refuses it at use.
 *
 * SoftHSM has every mechanism capi11 uses, so the tests go through p11shim,
 * which hides chosen mechanisms (C_GetMechanismList leaves them out,
 * C_GetMechanismInfo answers CKR_MECHANISM_INVALID) or refuses them at use
 * (CKR_MECHANISM_INVALID from the call, as SoftHSM does for the DES3 wraps it
 * advertises). capi11 keeps what a token told of its mechanisms for the life
 * of the process, so every hidden mechanism gets a token of its own, hidden
 * before capi11 first looks at it. Expected codes: SPEC section 7
 * (NTE_NOT_SUPPORTED for what the token cannot do), SPEC section 3 and
 * Microsoft's CryptGenKey page (NTE_BAD_ALGID for an algorithm the provider
 * does not offer), and the PP_ENUMALGS entries Microsoft's providers list.
 * That nothing is made on the token is read from the shim's call counts:
 * no call that creates an object reaches the token, or the one that does
 * fails there.
 *
 * The quirks table (src/quirks.c) is keyed by what a token says of
 * itself: a token whose manufacturer the shim reports as another maker's
 * gets none of SoftHSM's quirks, which the tests read from what the token
 * layer does (the store lock, CKA_VALUE_LEN in unwrap templates). */
#include "config.h"
#include "context.h"
#include "cutest.h"
#include "fixture.h"
#include "key.h"
#include "quirks.h"
#include "testutil.h"
#include "token-private.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wincrypt.h>

#define CONTAINER "caps"
#define RSA1024 (1024u << 16)

enum {
	TOK_MAIN,	/* every mechanism; refusals at use */
	TOK_WRAP,	/* CKM_AES_KEY_WRAP hidden */
	TOK_PAD,	/* CKM_AES_KEY_WRAP_PAD hidden */
	TOK_DES3,	/* CKM_DES3_CBC hidden */
	TOK_CBC,	/* CKM_AES_CBC and CKM_AES_ECB hidden */
	TOK_OAEP,	/* CKM_RSA_PKCS_OAEP hidden */
	TOK_GEN,	/* CKM_AES_KEY_GEN hidden */
	TOK_OTHER,	/* reports another manufacturer than SoftHSM's */
	TOK_ECB,	/* CKM_AES_CBC and CKM_DES3_CBC hidden, ECB there */
	TOK_IBM,	/* reports openCryptoki's manufacturer: no CKK_DES2 */
	TOK_NOWWT,	/* no CKM_AES_KEY_WRAP, no CKA_WRAP_WITH_TRUSTED */
	TOK_COUNT
};

static char *labels[TOK_COUNT];
static char *uris[TOK_COUNT];
static const struct p11shim_ops *shim;
static void (*set_mechanism)(CK_MECHANISM_TYPE mech, int mode);
static void (*set_manufacturer)(const char *manufacturer);
static void (*set_attribute)(CK_ATTRIBUTE_TYPE type, int mode);
static unsigned long (*attribute_hits)(void);

/* A fixed 256-bit wrapping key, imported on two tokens so that a blob made
 * on one is a valid blob on the other. */
static const BYTE kek_value[32] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
	0xee, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f,
};

static HCRYPTPROV acquire(int tok)
{
	HCRYPTPROV h = 0;

	if (!CryptAcquireContextA(&h, CONTAINER, uris[tok], PROV_RSA_AES, 0) &&
	    !CryptAcquireContextA(&h, CONTAINER, uris[tok], PROV_RSA_AES, CRYPT_NEWKEYSET))
		h = 0;
	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	return h;
}

static HCRYPTKEY gen(HCRYPTPROV h, ALG_ID alg, DWORD flags)
{
	HCRYPTKEY k = 0;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, alg, flags, &k));
	return k;
}

static HCRYPTKEY import_plain(HCRYPTPROV h, ALG_ID alg, const BYTE *value, DWORD len, DWORD flags)
{
	BYTE blob[12 + 32];
	HCRYPTKEY k = 0;
	DWORD n = testutil_plaintext_blob(blob, alg, value, len);

	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, flags, &k));
	return k;
}

/* Calls that make an object on the token; the shim counts each. */
static const char *const creating_calls[] = {
	"C_CreateObject", "C_CopyObject", "C_GenerateKey", "C_GenerateKeyPair",
	"C_DeriveKey",
};

static unsigned long creations(void)
{
	unsigned long n = 0;

	for (size_t i = 0; i < sizeof creating_calls / sizeof *creating_calls; i++)
		n += shim->count(creating_calls[i]);
	return n;
}

/* Mechanisms are hidden per test, on the token of that test only, and
 * shown again by the shim reset that ends every test. */
static void hide(CK_MECHANISM_TYPE mech)
{
	set_mechanism(mech, P11SHIM_MECH_HIDDEN);
}

/* An export that must fail with code, as a size query and into a buffer,
 * without anything reaching C_WrapKey when hidden is true (the token said
 * it cannot, so capi11 must not try) and without making anything. */
static void check_export_fails(HCRYPTKEY k, HCRYPTKEY exp, DWORD type, DWORD flags, DWORD code,
			       bool hidden)
{
	BYTE buf[2048];
	DWORD len = 0;
	unsigned long wraps = shim->count("C_WrapKey"), made = creations();

	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptExportKey(k, exp, type, flags, NULL, &len));
	CU_ASSERT_EQUAL(GetLastError(), code);
	len = sizeof buf;
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptExportKey(k, exp, type, flags, buf, &len));
	CU_ASSERT_EQUAL(GetLastError(), code);
	if (hidden)
		CU_ASSERT_EQUAL(shim->count("C_WrapKey"), wraps);
	CU_ASSERT_EQUAL(creations(), made);
}

/* An import that must fail with code and leave nothing behind: no handle,
 * no object made, and no unwrap reaching the token when hidden is true. */
static void check_import_fails(HCRYPTPROV h, const BYTE *blob, DWORD len, HCRYPTKEY pub,
			       DWORD flags, DWORD code, bool hidden)
{
	HCRYPTKEY k = 0;
	unsigned long unwraps = shim->count("C_UnwrapKey"), made = creations();
	unsigned long decrypts = shim->count("C_DecryptInit");

	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptImportKey(h, blob, len, pub, flags, &k));
	CU_ASSERT_EQUAL(GetLastError(), code);
	CU_ASSERT_EQUAL(k, 0);
	if (hidden) {
		CU_ASSERT_EQUAL(shim->count("C_UnwrapKey"), unwraps);
		CU_ASSERT_EQUAL(shim->count("C_DecryptInit"), decrypts);
	}
	CU_ASSERT_EQUAL(creations(), made);
}

static BYTE *export_ok(HCRYPTKEY k, HCRYPTKEY exp, DWORD type, DWORD flags, DWORD *len)
{
	BYTE *blob = testutil_blob_export(k, exp, type, flags, len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	return blob;
}

/* ---- CKM_AES_KEY_WRAP hidden --------------------------------------------- */

static void test_aes_wrap_hidden(void)
{
	HCRYPTPROV hm = acquire(TOK_MAIN), h;
	HCRYPTKEY wm, km, w, k, kek, imported = 0;
	BYTE *blob;
	DWORD len;

	/* The same blob is a valid import where the token has the wrap. */
	wm = import_plain(hm, CALG_AES_256, kek_value, sizeof kek_value, 0);
	km = gen(hm, CALG_AES_128, CRYPT_EXPORTABLE);
	blob = export_ok(km, wm, SYMMETRICWRAPKEYBLOB, 0, &len);
	CU_ASSERT_TRUE(CryptImportKey(hm, blob, len, wm, 0, &imported));
	CryptDestroyKey(imported);

	hide(CKM_AES_KEY_WRAP);
	h = acquire(TOK_WRAP);
	w = import_plain(h, CALG_AES_256, kek_value, sizeof kek_value, 0);
	k = gen(h, CALG_AES_256, CRYPT_EXPORTABLE);
	kek = gen(h, CALG_AES_256, CRYPT_KEK);
	check_export_fails(k, w, SYMMETRICWRAPKEYBLOB, 0, NTE_NOT_SUPPORTED, true);
	/* A 32-byte key goes into an OPAQUEKEYBLOB by CKM_AES_KEY_WRAP too. */
	check_export_fails(k, kek, OPAQUEKEYBLOB, 0, NTE_NOT_SUPPORTED, true);
	check_import_fails(h, blob, len, w, 0, NTE_NOT_SUPPORTED, true);

	free(blob);
	CryptDestroyKey(kek);
	CryptDestroyKey(k);
	CryptDestroyKey(w);
	CryptDestroyKey(km);
	CryptDestroyKey(wm);
	CryptReleaseContext(h, 0);
	CryptReleaseContext(hm, 0);
}

/* ---- CKM_AES_KEY_WRAP_PAD hidden ----------------------------------------- */

static void test_aes_wrap_pad_hidden(void)
{
	HCRYPTPROV h;
	HCRYPTKEY kek, rsa, des, aes;
	BYTE *blob;
	DWORD len;

	hide(CKM_AES_KEY_WRAP_PAD);
	h = acquire(TOK_PAD);
	kek = gen(h, CALG_AES_256, CRYPT_KEK);
	rsa = gen(h, AT_KEYEXCHANGE, RSA1024 | CRYPT_EXPORTABLE);
	des = gen(h, CALG_DES, CRYPT_EXPORTABLE);
	aes = gen(h, CALG_AES_128, CRYPT_EXPORTABLE);
	/* PKCS#8 of an RSA key and keys shorter than 16 bytes need the pad. */
	check_export_fails(rsa, kek, OPAQUEKEYBLOB, 0, NTE_NOT_SUPPORTED, true);
	check_export_fails(des, kek, OPAQUEKEYBLOB, 0, NTE_NOT_SUPPORTED, true);
	/* Whole blocks of 16 bytes or more still go by CKM_AES_KEY_WRAP. */
	blob = export_ok(aes, kek, OPAQUEKEYBLOB, 0, &len);
	free(blob);

	CryptDestroyKey(aes);
	CryptDestroyKey(des);
	CryptDestroyKey(rsa);
	CryptDestroyKey(kek);
	CryptReleaseContext(h, 0);
}

/* ---- CKM_DES3_CBC hidden: RFC 3217 cannot, the 3DES cipher can ----------- */

static void test_des3_cbc_hidden(void)
{
	HCRYPTPROV h;
	HCRYPTKEY w, k;
	BYTE blob[12 + 40] = { SYMMETRICWRAPKEYBLOB, 2, 0, 0 };
	BYTE data[16] = { 0 };
	DWORD n = 8;
	unsigned long inits;

	hide(CKM_DES3_CBC);
	h = acquire(TOK_DES3);
	w = gen(h, CALG_3DES, CRYPT_EXPORTABLE);
	k = gen(h, CALG_3DES, CRYPT_EXPORTABLE);
	check_export_fails(k, w, SYMMETRICWRAPKEYBLOB, 0, NTE_NOT_SUPPORTED, true);
	/* A blob of RFC 3217's shape (40 wrapped bytes): the token cannot
	 * unwrap it, whatever it holds. */
	testutil_le32_put(blob + 4, CALG_3DES);
	testutil_le32_put(blob + 8, CALG_3DES);
	memset(blob + 12, 0x5a, 40);
	check_import_fails(h, blob, sizeof blob, w, 0, NTE_NOT_SUPPORTED, true);
	/* The cipher runs, CBC composed from the token's CKM_DES3_ECB: one
	 * token encryption per block (test_cbc_from_ecb has the known
	 * answers). */
	inits = shim->count("C_EncryptInit");
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, data, &n, sizeof data));
	CU_ASSERT_EQUAL(n, 16);
	CU_ASSERT_EQUAL(shim->count("C_EncryptInit"), inits + 2);

	CryptDestroyKey(k);
	CryptDestroyKey(w);
	CryptReleaseContext(h, 0);
}

/* ---- CKM_AES_CBC and CKM_AES_ECB hidden ---------------------------------- */

static void test_aes_cipher_hidden(void)
{
	HCRYPTPROV h;
	HCRYPTKEY aes, des3;
	BYTE data[32] = { 0 };
	DWORD n, mode = CRYPT_MODE_ECB;
	unsigned long enc, dec;

	hide(CKM_AES_CBC);
	hide(CKM_AES_ECB);
	h = acquire(TOK_CBC);
	aes = gen(h, CALG_AES_128, 0);
	des3 = gen(h, CALG_3DES, 0);
	enc = shim->count("C_EncryptInit");
	dec = shim->count("C_DecryptInit");
	n = 16;
	CHECK_FAILS_WITH(CryptEncrypt(aes, 0, TRUE, 0, data, &n, sizeof data), NTE_NOT_SUPPORTED);
	n = 16;
	CHECK_FAILS_WITH(CryptDecrypt(aes, 0, FALSE, 0, data, &n), NTE_NOT_SUPPORTED);
	CU_ASSERT_TRUE(CryptSetKeyParam(aes, KP_MODE, (BYTE *)&mode, 0));
	n = 16;
	CHECK_FAILS_WITH(CryptEncrypt(aes, 0, TRUE, 0, data, &n, sizeof data), NTE_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(shim->count("C_EncryptInit"), enc);
	CU_ASSERT_EQUAL(shim->count("C_DecryptInit"), dec);
	/* What the token has still runs. */
	n = 8;
	CU_ASSERT_TRUE(CryptEncrypt(des3, 0, TRUE, 0, data, &n, sizeof data));
	CU_ASSERT_EQUAL(n, 16);

	CryptDestroyKey(des3);
	CryptDestroyKey(aes);
	CryptReleaseContext(h, 0);
}

/* ---- CKM_AES_CBC and CKM_DES3_CBC hidden, ECB there: CBC composed -------- */

/* openssl enc's CBC ciphertext of pt with a zero IV, PKCS#5 padding. */
static BYTE *openssl_cbc(const char *cipher, const BYTE *key, DWORD key_len, DWORD block,
			 const BYTE *pt, DWORD n, DWORD *out_len)
{
	char key_hex[65], iv_hex[33];
	char *in = testutil_temp_write("caps-cbc-in", pt, n);
	char *out = testutil_temp_path("caps-cbc-ct");
	static const BYTE zero[16];
	BYTE *ct = NULL;

	testutil_hex_put(key_hex, key, key_len);
	testutil_hex_put(iv_hex, zero, block);
	if (in != NULL && out != NULL &&
	    fixture_run("%s enc -e -%s -K %s -iv %s -in %s -out %s", OPENSSL_BIN, cipher,
			key_hex, iv_hex, in, out) == 0)
		ct = testutil_file_read(out, out_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	free(out);
	free(in);
	return ct;
}

struct cbc_case {
	ALG_ID alg;
	const char *cipher;	/* openssl enc's name */
	DWORD key_len, block;
};

/* CryptEncrypt/CryptDecrypt in the default mode (CBC, zero IV) of a key
 * whose token lacks the CBC mechanism: openssl's bytes, in one call and
 * streamed over three, with one token encryption per block and one token
 * decryption per call. */
static void check_cbc_composed(HCRYPTPROV h, const struct cbc_case *c)
{
	static const DWORD lens[] = { 0, 15, 16, 17, 48 };
	static const BYTE key_value[24] = {
		0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88,
		0x09, 0xcf, 0x4f, 0x3c, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	};
	HCRYPTKEY k = import_plain(h, c->alg, key_value, c->key_len, 0);
	BYTE pt[48], buf[48 + 16], *exp;
	DWORD n, exp_len = 0, part, done;
	unsigned long enc, dec;

	for (size_t i = 0; i < sizeof pt; i++)
		pt[i] = (BYTE)(i * 11 + 3);
	for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
		exp = openssl_cbc(c->cipher, key_value, c->key_len, c->block, pt, lens[i],
				  &exp_len);
		memcpy(buf, pt, lens[i]);
		n = lens[i];
		enc = shim->count("C_EncryptInit");
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &n, sizeof buf));
		CU_ASSERT_EQUAL(n, exp_len);
		CU_ASSERT(n == exp_len && memcmp(buf, exp, n) == 0);
		CU_ASSERT_EQUAL(shim->count("C_EncryptInit") - enc, exp_len / c->block);
		dec = shim->count("C_DecryptInit");
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, 0, buf, &n));
		CU_ASSERT_EQUAL(n, lens[i]);
		CU_ASSERT(n == lens[i] && memcmp(buf, pt, n) == 0);
		CU_ASSERT_EQUAL(shim->count("C_DecryptInit") - dec, 1);
		free(exp);
	}

	/* 48 bytes streamed as 16 + 16 + 16 (Final on the last), each way:
	 * the chaining value carries from call to call. */
	exp = openssl_cbc(c->cipher, key_value, c->key_len, c->block, pt, 48, &exp_len);
	CU_ASSERT_EQUAL_FATAL(exp_len, 48 + c->block);
	memcpy(buf, pt, 48);
	for (done = 0; done < 48; done += part) {
		part = 16;
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptEncrypt(k, 0, done + 16 == 48, 0, buf + done, &part,
						  sizeof buf - done));
	}
	CU_ASSERT_EQUAL(done, exp_len);
	CU_ASSERT(memcmp(buf, exp, exp_len) == 0);
	for (done = 0; done < exp_len; done += part) {
		bool final = exp_len - done <= 16 + c->block;

		part = final ? exp_len - done : 16;
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptDecrypt(k, 0, final, 0, buf + done, &part));
		if (final)
			break;
	}
	CU_ASSERT_EQUAL(done + part, 48);
	CU_ASSERT(memcmp(buf, pt, 48) == 0);
	free(exp);

	/* Bad padding is still NTE_BAD_DATA, and the stream starts again. */
	memset(buf, 0x5a, 16);
	n = 16;
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, buf, &n), NTE_BAD_DATA);
	CryptDestroyKey(k);
}

static void test_cbc_from_ecb(void)
{
	static const struct cbc_case cases[] = {
		{ CALG_AES_128, "aes-128-cbc", 16, 16 },
		{ CALG_AES_192, "aes-192-cbc", 24, 16 },
		{ CALG_3DES, "des-ede3-cbc", 24, 8 },
	};
	HCRYPTPROV h;

	hide(CKM_AES_CBC);
	hide(CKM_DES3_CBC);
	h = acquire(TOK_ECB);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		check_cbc_composed(h, &cases[i]);
	CryptReleaseContext(h, 0);
}

/* ---- CKM_RSA_PKCS_OAEP hidden -------------------------------------------- */

/* A SIMPLEBLOB of key under rsa1024.pem made by openssl with OAEP (SHA-1,
 * MGF1-SHA-1, what CRYPT_OAEP means): BLOBHEADER, CALG_RSA_KEYX, the
 * ciphertext little-endian. */
static DWORD simple_blob(BYTE *out, ALG_ID alg, const BYTE *key, size_t key_len, bool oaep)
{
	char *in = fixture_write_file("caps-oaep.in", key, key_len);
	char *pem = testutil_temp_path("caps-pem");
	char *ct_path = testutil_temp_path("caps-oaep.ct");
	BYTE *ct = NULL;
	DWORD ct_len = 0, n = 0;

	if (in != NULL && pem != NULL && ct_path != NULL &&
	    fixture_run("cp %s/vectors/rsa1024.pem %s && %s pkeyutl -encrypt -inkey %s "
			"-pkeyopt rsa_padding_mode:%s -in %s -out %s", TEST_SRCDIR, pem,
			OPENSSL_BIN, pem, oaep ? "oaep" : "pkcs1", in, ct_path) == 0)
		ct = testutil_file_read(ct_path, &ct_len);
	if (ct != NULL && ct_len == 128) {
		out[0] = SIMPLEBLOB;
		out[1] = 2;
		out[2] = out[3] = 0;
		testutil_le32_put(out + 4, alg);
		testutil_le32_put(out + 8, CALG_RSA_KEYX);
		for (DWORD i = 0; i < ct_len; i++)
			out[12 + i] = ct[ct_len - 1 - i];
		n = 12 + ct_len;
	}
	free(ct);
	free(ct_path);
	free(pem);
	free(in);
	return n;
}

static void test_oaep_hidden(void)
{
	static const BYTE aes_value[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	HCRYPTPROV h;
	HCRYPTKEY rsa = 0, k;
	BYTE *priv, *blob, simple[12 + 128], data[128] = { 0 };
	DWORD priv_len = 0, len, n;
	unsigned long inits;

	hide(CKM_RSA_PKCS_OAEP);
	h = acquire(TOK_OAEP);
	priv = testutil_vector_load("rsa1024-priv.blob", &priv_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(priv);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, CRYPT_EXPORTABLE, &rsa));
	k = gen(h, CALG_AES_128, CRYPT_EXPORTABLE);
	check_export_fails(k, rsa, SIMPLEBLOB, CRYPT_OAEP, NTE_NOT_SUPPORTED, true);
	/* PKCS#1 v1.5 is still there. */
	blob = export_ok(k, rsa, SIMPLEBLOB, 0, &len);
	free(blob);

	len = simple_blob(simple, CALG_AES_128, aes_value, sizeof aes_value, true);
	CU_ASSERT_EQUAL_FATAL(len, sizeof simple);
	check_import_fails(h, simple, len, rsa, CRYPT_OAEP, NTE_NOT_SUPPORTED, true);

	inits = shim->count("C_EncryptInit");
	n = 16;
	CHECK_FAILS_WITH(CryptEncrypt(rsa, 0, TRUE, CRYPT_OAEP, data, &n, sizeof data),
			 NTE_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(shim->count("C_EncryptInit"), inits);

	free(priv);
	CryptDestroyKey(k);
	CryptDestroyKey(rsa);
	CryptReleaseContext(h, 0);
}

/* ---- CKM_AES_KEY_GEN hidden ---------------------------------------------- */

static void test_aes_keygen_hidden(void)
{
	static const ALG_ID aes[] = { CALG_AES_128, CALG_AES_192, CALG_AES_256 };
	HCRYPTPROV h;
	HCRYPTKEY k;
	BYTE blob[12 + 32];
	DWORD n;
	unsigned long made;

	hide(CKM_AES_KEY_GEN);
	h = acquire(TOK_GEN);
	made = creations();
	for (size_t i = 0; i < sizeof aes / sizeof *aes; i++) {
		k = 0;
		CHECK_FAILS_WITH(CryptGenKey(h, aes[i], 0, &k), NTE_BAD_ALGID);
		CU_ASSERT_EQUAL(k, 0);
		CHECK_FAILS_WITH(CryptGenKey(h, aes[i], CRYPT_KEK, &k), NTE_BAD_ALGID);
	}
	/* The provider offers no AES at all, so a plaintext AES key is as
	 * unknown as any algorithm it lacks. */
	n = testutil_plaintext_blob(blob, CALG_AES_256, kek_value, sizeof kek_value);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, n, 0, 0, &k), NTE_BAD_ALGID);
	CU_ASSERT_EQUAL(creations(), made);
	k = gen(h, CALG_3DES, 0);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
}

/* The ALG_IDs a provider lists with PP_ENUMALGS or PP_ENUMALGS_EX. */
static size_t enum_algs(HCRYPTPROV h, DWORD param, ALG_ID *out, size_t max)
{
	BYTE buf[sizeof(PROV_ENUMALGS_EX)];
	DWORD flags = CRYPT_FIRST, len;
	size_t n = 0;

	for (;;) {
		len = sizeof buf;
		if (!CryptGetProvParam(h, param, buf, &len, flags))
			break;
		flags = 0;
		if (n < max)
			out[n++] = (ALG_ID)testutil_le32(buf);
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	return n;
}

static bool alg_listed(const ALG_ID *algs, size_t n, ALG_ID alg)
{
	for (size_t i = 0; i < n; i++) {
		if (algs[i] == alg)
			return true;
	}
	return false;
}

static void test_enumalgs_hidden(void)
{
	static const DWORD params[] = { PP_ENUMALGS, PP_ENUMALGS_EX };
	static const ALG_ID aes[] = { CALG_AES_128, CALG_AES_192, CALG_AES_256 };
	HCRYPTPROV hm = acquire(TOK_MAIN), h;
	ALG_ID all[2][64], some[64];
	size_t n_alls[2], n_all, n_some;

	for (size_t p = 0; p < 2; p++)
		n_alls[p] = enum_algs(hm, params[p], all[p], 64);
	hide(CKM_AES_KEY_GEN);
	h = acquire(TOK_GEN);
	for (size_t p = 0; p < 2; p++) {
		n_all = n_alls[p];
		n_some = enum_algs(h, params[p], some, 64);
		for (size_t i = 0; i < 3; i++) {
			CU_ASSERT_TRUE(alg_listed(all[p], n_all, aes[i]));
			CU_ASSERT_FALSE(alg_listed(some, n_some, aes[i]));
		}
		/* Everything else is listed as before. */
		CU_ASSERT_EQUAL(n_some, n_all - 3);
		for (size_t i = 0; i < n_all; i++) {
			if (!alg_listed(aes, 3, all[p][i]))
				CU_ASSERT_TRUE(alg_listed(some, n_some, all[p][i]));
		}
		CU_ASSERT_TRUE(alg_listed(some, n_some, CALG_RSA_KEYX));
		CU_ASSERT_TRUE(alg_listed(some, n_some, CALG_RSA_SIGN));
		CU_ASSERT_TRUE(alg_listed(some, n_some, CALG_3DES));
	}
	CryptReleaseContext(h, 0);
	CryptReleaseContext(hm, 0);
}

/* ---- Advertised, refused at use ------------------------------------------ */

static void test_refused_at_use(void)
{
	HCRYPTPROV h = acquire(TOK_MAIN);
	static const BYTE zero[16];
	HCRYPTKEY w, k, w3, k3, rsa = 0, imported = 0;
	BYTE *blob, *priv, data[128] = { 0 }, ct[32], ct3[16];
	DWORD len, n, priv_len = 0;
	unsigned long wraps, made;

	w = import_plain(h, CALG_AES_256, kek_value, sizeof kek_value, 0);
	k = gen(h, CALG_AES_128, CRYPT_EXPORTABLE);
	w3 = gen(h, CALG_3DES, CRYPT_EXPORTABLE);
	k3 = gen(h, CALG_3DES, CRYPT_EXPORTABLE);
	priv = testutil_vector_load("rsa1024-priv.blob", &priv_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(priv);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, CRYPT_EXPORTABLE, &rsa));
	blob = export_ok(k, w, SYMMETRICWRAPKEYBLOB, 0, &len);
	/* capi11 learns once per token whether it enforces
	 * CKA_WRAP_WITH_TRUSTED, with two throwaway keys and a wrap; a key
	 * that arrives wrapped asks. Learnt here, before anything is refused
	 * or counted (test-trust covers the learning itself). */
	{
		DWORD prot = 0, plen = sizeof prot;

		CU_ASSERT_TRUE(CryptGetProvParam(h, PP_CAPI11_KEY_PROTECTION, (BYTE *)&prot, &plen,
						 0));
		CU_ASSERT_EQUAL(prot, CAPI11_PROTECTION_TRUSTED_WRAP);
	}

	/* The wrap itself is refused: the export fails, a size query cannot
	 * know. */
	set_mechanism(CKM_AES_KEY_WRAP, P11SHIM_MECH_REFUSED);
	wraps = shim->count("C_WrapKey");
	n = len;
	CHECK_FAILS_WITH(CryptExportKey(k, w, SYMMETRICWRAPKEYBLOB, 0, data, &n),
			 NTE_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(shim->count("C_WrapKey"), wraps + 1);
	check_import_fails(h, blob, len, w, 0, NTE_NOT_SUPPORTED, false);

	set_mechanism(CKM_DES3_CBC, P11SHIM_MECH_REFUSED);
	n = sizeof data;
	CHECK_FAILS_WITH(CryptExportKey(k3, w3, SYMMETRICWRAPKEYBLOB, 0, data, &n),
			 NTE_NOT_SUPPORTED);
	/* A CBC mechanism refused at use: CBC is composed from the token's
	 * ECB (SPEC section 7), and gives what the token's own CBC gives once
	 * the refusal is gone (below). With ECB refused too, the token cannot
	 * run CBC at all. */
	memset(ct3, 0, sizeof ct3);
	n = 8;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptEncrypt(k3, 0, TRUE, 0, ct3, &n, sizeof ct3));
	CU_ASSERT_EQUAL(n, 16);

	set_mechanism(CKM_AES_CBC, P11SHIM_MECH_REFUSED);
	memset(ct, 0, sizeof ct);
	n = 16;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, ct, &n, sizeof ct));
	CU_ASSERT_EQUAL(n, 32);
	memcpy(data, ct, 32);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, 0, data, &n));
	CU_ASSERT_EQUAL(n, 16);
	CU_ASSERT(memcmp(data, zero, 16) == 0);
	set_mechanism(CKM_AES_ECB, P11SHIM_MECH_REFUSED);
	n = 16;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, 0, data, &n, sizeof data), NTE_NOT_SUPPORTED);
	memcpy(data, ct, 32);
	n = 32;
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, data, &n), NTE_NOT_SUPPORTED);

	set_mechanism(CKM_RSA_PKCS_OAEP, P11SHIM_MECH_REFUSED);
	n = sizeof data;
	CHECK_FAILS_WITH(CryptExportKey(k, rsa, SIMPLEBLOB, CRYPT_OAEP, data, &n),
			 NTE_NOT_SUPPORTED);
	n = 16;
	CHECK_FAILS_WITH(CryptEncrypt(rsa, 0, TRUE, CRYPT_OAEP, data, &n, sizeof data),
			 NTE_NOT_SUPPORTED);

	/* A key the token will not make is an algorithm the provider lacks. */
	set_mechanism(CKM_AES_KEY_GEN, P11SHIM_MECH_REFUSED);
	made = creations();
	CHECK_FAILS_WITH(CryptGenKey(h, CALG_AES_256, 0, &imported), NTE_BAD_ALGID);
	CU_ASSERT_EQUAL(imported, 0);
	CU_ASSERT_EQUAL(creations(), made + 1);	/* the refused C_GenerateKey */

	/* Nothing of it stuck: the same calls work again, and the token's own
	 * CBC gives the composed ciphertexts. */
	shim->reset();
	n = sizeof data;
	CU_ASSERT_TRUE(CryptExportKey(k, w, SYMMETRICWRAPKEYBLOB, 0, data, &n));
	CU_ASSERT_TRUE(CryptImportKey(h, blob, len, w, 0, &imported));
	CryptDestroyKey(imported);
	memset(data, 0, 16);
	n = 16;
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, data, &n, sizeof data));
	CU_ASSERT(n == 32 && memcmp(data, ct, 32) == 0);
	memset(data, 0, 8);
	n = 8;
	CU_ASSERT_TRUE(CryptEncrypt(k3, 0, TRUE, 0, data, &n, sizeof data));
	CU_ASSERT(n == 16 && memcmp(data, ct3, 16) == 0);
	CU_ASSERT(shim->count("C_EncryptInit") > 0);

	free(priv);
	free(blob);
	CryptDestroyKey(rsa);
	CryptDestroyKey(k3);
	CryptDestroyKey(w3);
	CryptDestroyKey(k);
	CryptDestroyKey(w);
	CryptReleaseContext(h, 0);
}

/* ---- The shim's own control, against SoftHSM directly -------------------- */

/* ---- A token that will not change a key's attributes -------------------- */

/* A SIMPLEBLOB's key is unwrapped readable, measured, then made sensitive
 * with C_SetAttributeValue. A token that refuses the change gets the key
 * unwrapped once more, sensitive from the start: the import still works
 * and still refuses a key of the wrong length, leaving nothing behind.
 * The blobs come from openssl with the test vector's public key. */
static void test_attributes_read_only(void)
{
	static const BYTE aes_value[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };
	static const BYTE short_value[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	HCRYPTPROV h = acquire(TOK_MAIN);
	HCRYPTKEY rsa = 0, k = 0, ref;
	BYTE *priv, simple[12 + 128], a[32], b[32];
	DWORD priv_len = 0, len, na = 16, nb = 16;
	unsigned long unwraps, destroys;

	priv = testutil_vector_load("rsa1024-priv.blob", &priv_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(priv);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, 0, &rsa));
	len = simple_blob(simple, CALG_AES_128, aes_value, sizeof aes_value, false);
	CU_ASSERT_EQUAL_FATAL(len, sizeof simple);
	shim->fail("C_SetAttributeValue", 0, CKR_ATTRIBUTE_READ_ONLY);
	unwraps = shim->count("C_UnwrapKey");
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptImportKey(h, simple, len, rsa, 0, &k));
	CU_ASSERT_EQUAL(shim->count("C_UnwrapKey"), unwraps + 2);
	/* The same key: it encrypts as the value openssl wrapped does. */
	ref = import_plain(h, CALG_AES_128, aes_value, sizeof aes_value, 0);
	memset(a, 0x5a, sizeof a);
	memcpy(b, a, sizeof b);
	CU_ASSERT_TRUE(k != 0 && CryptEncrypt(k, 0, TRUE, 0, a, &na, sizeof a));
	CU_ASSERT_TRUE(CryptEncrypt(ref, 0, TRUE, 0, b, &nb, sizeof b));
	CU_ASSERT_EQUAL(na, 32);
	CU_ASSERT_EQUAL(na, nb);
	CU_ASSERT_EQUAL(memcmp(a, b, na), 0);
	CryptDestroyKey(k);
	k = 0;
	/* Ten bytes are no AES-128 key: refused, and the readable copy gone. */
	len = simple_blob(simple, CALG_AES_128, short_value, sizeof short_value, false);
	CU_ASSERT_EQUAL_FATAL(len, sizeof simple);
	unwraps = shim->count("C_UnwrapKey");
	destroys = shim->count("C_DestroyObject");
	CHECK_FAILS_WITH(CryptImportKey(h, simple, len, rsa, 0, &k), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_EQUAL(shim->count("C_UnwrapKey"), unwraps + 1);
	CU_ASSERT_EQUAL(shim->count("C_DestroyObject"), destroys + 1);
	shim->reset();
	free(priv);
	CryptDestroyKey(ref);
	CryptDestroyKey(rsa);
	CryptReleaseContext(h, 0);
}

static void test_shim_hides(void)
{
	CK_FUNCTION_LIST *fl = NULL;
	CK_C_GetFunctionList get;
	CK_SLOT_ID slots[64];
	CK_ULONG n_slots = 64, n_all = 0, n_some = 0, n_small = 1;
	CK_MECHANISM_TYPE list[512];
	CK_MECHANISM_INFO info;
	void *mod = dlopen(fixture_shim_path(), RTLD_NOW | RTLD_LOCAL);
	bool found = false;
	CK_RV rv;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mod);
	*(void **)&get = dlsym(mod, "C_GetFunctionList");
	CU_ASSERT_PTR_NOT_NULL_FATAL(get);
	CU_ASSERT_EQUAL_FATAL(get(&fl), CKR_OK);
	rv = fl->C_Initialize(NULL);
	CU_ASSERT_TRUE_FATAL(rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED);
	CU_ASSERT_EQUAL_FATAL(fl->C_GetSlotList(CK_TRUE, slots, &n_slots), CKR_OK);
	CU_ASSERT_FATAL(n_slots > 0);
	shim->reset();
	CU_ASSERT_EQUAL(fl->C_GetMechanismList(slots[0], NULL, &n_all), CKR_OK);
	CU_ASSERT_EQUAL(fl->C_GetMechanismInfo(slots[0], CKM_AES_KEY_WRAP, &info), CKR_OK);
	set_mechanism(CKM_AES_KEY_WRAP, P11SHIM_MECH_HIDDEN);
	CU_ASSERT_EQUAL(fl->C_GetMechanismInfo(slots[0], CKM_AES_KEY_WRAP, &info),
			CKR_MECHANISM_INVALID);
	CU_ASSERT_EQUAL(fl->C_GetMechanismList(slots[0], NULL, &n_some), CKR_OK);
	CU_ASSERT_EQUAL(n_some, n_all - 1);
	CU_ASSERT_EQUAL(fl->C_GetMechanismList(slots[0], list, &n_small), CKR_BUFFER_TOO_SMALL);
	CU_ASSERT_EQUAL(n_small, n_some);
	n_some = 512;
	CU_ASSERT_EQUAL(fl->C_GetMechanismList(slots[0], list, &n_some), CKR_OK);
	for (CK_ULONG i = 0; i < n_some; i++)
		found = found || list[i] == CKM_AES_KEY_WRAP;
	CU_ASSERT_FALSE(found);
	set_mechanism(CKM_AES_KEY_WRAP, 0);
	CU_ASSERT_EQUAL(fl->C_GetMechanismInfo(slots[0], CKM_AES_KEY_WRAP, &info), CKR_OK);
	set_mechanism(CKM_AES_KEY_WRAP, P11SHIM_MECH_HIDDEN);
	shim->reset();
	CU_ASSERT_EQUAL(fl->C_GetMechanismInfo(slots[0], CKM_AES_KEY_WRAP, &info), CKR_OK);
	/* capi11 shares this instance: finalize only what this test began. */
	if (rv == CKR_OK)
		fl->C_Finalize(NULL);
}

/* ---- The quirks table ---- */

/* The token a context of h works on. */
static struct token *context_token(HCRYPTPROV h)
{
	struct context *ctx;
	struct token *tok;

	CU_ASSERT_EQUAL_FATAL(context_get_locked(h, &ctx), ERROR_SUCCESS);
	tok = ctx->ts.tok;
	context_put_locked(ctx);
	return tok;
}

/* The first acquire meets TOK_OTHER while the shim calls its maker
 * "Other Corp": the quirks table is read then. */
static HCRYPTPROV acquire_other(void)
{
	HCRYPTPROV h;

	set_manufacturer("Other Corp");
	h = acquire(TOK_OTHER);
	set_manufacturer(NULL);
	return h;
}

struct search {
	HCRYPTPROV h;
	BOOL ok;
	DWORD err;
};

/* CryptGetUserKey on a container without a key: a search on the token. */
static void *search_thread(void *arg)
{
	struct search *s = arg;
	HCRYPTKEY k = 0;

	s->ok = CryptGetUserKey(s->h, AT_SIGNATURE, &k);
	s->err = GetLastError();
	if (s->ok)
		CryptDestroyKey(k);
	return NULL;
}

/* Whether a search on h's token finishes within ms while this thread
 * holds the token's store lock; joins the thread either way. */
static bool search_passes_store_lock(HCRYPTPROV h, long ms)
{
	struct token *tok = context_token(h);
	struct search s = { h, TRUE, 0 };
	struct timespec until;
	pthread_t t;
	bool passed;

	pthread_mutex_lock(&tok->store_lock);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, search_thread, &s), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	passed = pthread_timedjoin_np(t, NULL, &until) == 0;
	pthread_mutex_unlock(&tok->store_lock);
	if (!passed)
		pthread_join(t, NULL);
	/* The container has no signature key, either way. */
	CU_ASSERT_FALSE(s.ok);
	CU_ASSERT_EQUAL(s.err, NTE_NO_KEY);
	return passed;
}

/* SoftHSM's search/create race (upstream #573) serialises object calls
 * on SoftHSM tokens only: a search on another maker's token does not wait
 * for the store lock, one on SoftHSM's does until it is released. */
static void test_quirks_store_lock(void)
{
	HCRYPTPROV other = acquire_other(), softhsm = acquire(TOK_MAIN);

	CU_ASSERT_EQUAL(context_token(other)->quirks->flags & QUIRK_STORE_RACE, 0);
	CU_ASSERT_NOT_EQUAL(context_token(softhsm)->quirks->flags & QUIRK_STORE_RACE, 0);
	CU_ASSERT_TRUE(search_passes_store_lock(other, 10000));
	CU_ASSERT_FALSE(search_passes_store_lock(softhsm, 300));
	CryptReleaseContext(other, 0);
	CryptReleaseContext(softhsm, 0);
}

/* A SIMPLEBLOB import's unwrap template; the shim strips CKA_VALUE_LEN
 * before SoftHSM (which would refuse it) and counts the templates that
 * held it. */
static unsigned long simple_import_value_lens(HCRYPTPROV h)
{
	HCRYPTKEY xchg = 0, session = gen(h, CALG_AES_128, CRYPT_EXPORTABLE), back = 0;
	BYTE blob[512];
	DWORD len = sizeof blob, protection = 0, plen = sizeof protection;
	unsigned long before;

	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &xchg) ||
			     CryptGenKey(h, AT_KEYEXCHANGE, RSA1024, &xchg));
	CU_ASSERT_TRUE_FATAL(CryptExportKey(session, xchg, SIMPLEBLOB, 0, blob, &len));
	/* The import learns whether the token enforces CKA_WRAP_WITH_TRUSTED
	 * with a key generated with CKA_VALUE_LEN: before the stripping. */
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_CAPI11_KEY_PROTECTION, (BYTE *)&protection, &plen,
					 0));
	set_attribute(CKA_VALUE_LEN, P11SHIM_ATTR_STRIPPED);
	before = attribute_hits();
	if (!CryptImportKey(h, blob, len, xchg, 0, &back)) {
		fprintf(stderr, "\n  SIMPLEBLOB import: 0x%08x", (unsigned)GetLastError());
		CU_FAIL("SIMPLEBLOB import failed");
	}
	before = attribute_hits() - before;
	set_attribute(CKA_VALUE_LEN, 0);
	CryptDestroyKey(back);
	CryptDestroyKey(session);
	CryptDestroyKey(xchg);
	return before;
}

/* SoftHSM refuses CKA_VALUE_LEN in C_UnwrapKey: only its tokens go
 * without; another token checks the length of an AES-128 key itself. */
static void test_quirks_value_len(void)
{
	HCRYPTPROV other = acquire_other(), softhsm = acquire(TOK_MAIN);

	CU_ASSERT_TRUE(simple_import_value_lens(other) > 0);
	CU_ASSERT_EQUAL(simple_import_value_lens(softhsm), 0);
	CryptReleaseContext(other, 0);
	CryptReleaseContext(softhsm, 0);
}

/* A token that calls its maker "IBM Corp." (openCryptoki's tokens) gets
 * QUIRK_NO_DES2, read when the first acquire meets it. */
static HCRYPTPROV acquire_ibm(void)
{
	HCRYPTPROV h;

	set_manufacturer("IBM Corp.");
	h = acquire(TOK_IBM);
	set_manufacturer(NULL);
	return h;
}

/* No CKK_DES2 on openCryptoki: a CALG_3DES_112 PLAINTEXTKEYBLOB becomes
 * the CKK_DES3 key K1|K2|K1, which encrypts as two-key 3DES does
 * (openssl's des-ede-cbc), keeps KP_ALGID CALG_3DES_112 and KP_KEYLEN
 * 128, and exports as the 16 bytes imported. CryptGenKey cannot make one
 * without the key passing through the process (NTE_BAD_ALGID, and
 * PP_ENUMALGS does not list it); a SIMPLEBLOB of one cannot be stretched
 * on the token (NTE_BAD_ALGID). SoftHSM's own tokens keep CKK_DES2. */
static void test_quirks_no_des2(void)
{
	static const BYTE value[16] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
	};
	static const DWORD params[] = { PP_ENUMALGS, PP_ENUMALGS_EX };
	HCRYPTPROV ibm = acquire_ibm(), softhsm = acquire(TOK_MAIN);
	HCRYPTKEY k = 0, rsa = 0;
	BYTE blob[12 + 16], simple[12 + 128], *back, *priv;
	DWORD n = testutil_plaintext_blob(blob, CALG_3DES_112, value, sizeof value), back_len = 0;
	DWORD v, vlen, priv_len = 0;
	struct key *key;
	ALG_ID algs[64];
	size_t n_algs;

	CU_ASSERT_NOT_EQUAL(context_token(ibm)->quirks->flags & QUIRK_NO_DES2, 0);
	CU_ASSERT_EQUAL(context_token(softhsm)->quirks->flags & QUIRK_NO_DES2, 0);

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(ibm, blob, n, 0, CRYPT_EXPORTABLE, &k));
	CU_ASSERT_EQUAL_FATAL(key_get_locked(k, &key), ERROR_SUCCESS);
	CU_ASSERT_EQUAL(key->obj->type, CKK_DES3);
	key_put_locked(key);
	vlen = sizeof v;
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_ALGID, (BYTE *)&v, &vlen, 0));
	CU_ASSERT_EQUAL(v, CALG_3DES_112);
	vlen = sizeof v;
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_KEYLEN, (BYTE *)&v, &vlen, 0));
	CU_ASSERT_EQUAL(v, 128);
	testutil_check_encrypts_as(k, "-des-ede-cbc", value, sizeof value, 8);
	back = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &back_len);
	CU_ASSERT_PTR_NOT_NULL(back);
	CU_ASSERT_EQUAL(back_len, n);
	CU_ASSERT_TRUE(back != NULL && back_len == n && memcmp(back, blob, n) == 0);
	free(back);
	CryptDestroyKey(k);
	k = 0;

	CHECK_FAILS_WITH(CryptGenKey(ibm, CALG_3DES_112, CRYPT_EXPORTABLE, &k), NTE_BAD_ALGID);
	CU_ASSERT_EQUAL(k, 0);
	for (size_t p = 0; p < 2; p++) {
		n_algs = enum_algs(ibm, params[p], algs, 64);
		CU_ASSERT_FALSE(alg_listed(algs, n_algs, CALG_3DES_112));
		CU_ASSERT_TRUE(alg_listed(algs, n_algs, CALG_3DES));
		n_algs = enum_algs(softhsm, params[p], algs, 64);
		CU_ASSERT_TRUE(alg_listed(algs, n_algs, CALG_3DES_112));
	}

	priv = testutil_vector_load("rsa1024-priv.blob", &priv_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(priv);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(ibm, priv, priv_len, 0, 0, &rsa));
	n = simple_blob(simple, CALG_3DES_112, value, sizeof value, false);
	CU_ASSERT_EQUAL_FATAL(n, sizeof simple);
	CHECK_FAILS_WITH(CryptImportKey(ibm, simple, n, rsa, 0, &k), NTE_BAD_ALGID);
	CU_ASSERT_EQUAL(k, 0);
	free(priv);
	CryptDestroyKey(rsa);
	CryptReleaseContext(ibm, 0);
	CryptReleaseContext(softhsm, 0);
}

/* openCryptoki 3.8's shape: no AES key wrap, CKA_WRAP_WITH_TRUSTED
 * unknown in every template (CKR_ATTRIBUTE_TYPE_INVALID), and an unwrap
 * template may not ask for a readable key (CKR_ATTRIBUTE_READ_ONLY for
 * CKA_SENSITIVE FALSE or CKA_EXTRACTABLE TRUE). The trust probe finds the
 * attribute unknown although there is no wrap to enforce it on, so no
 * template carries it, and a SIMPLEBLOB import unwraps the key protected
 * at once when the readable unwrap is refused. Its length must then come
 * from CKA_VALUE_LEN: openCryptoki tells it (make check-opencryptoki
 * imports such a key), SoftHSM reports 0 for an unwrapped key, so here
 * the import is refused NTE_BAD_DATA and the key destroyed. */
static void test_no_wrap_with_trusted(void)
{
	static const BYTE aes_value[16] = { 7, 6, 5, 4, 3, 2, 1, 0, 8, 9, 10, 11, 12, 13, 14, 15 };
	HCRYPTPROV h;
	HCRYPTKEY rsa = 0, k = 0;
	BYTE *priv, simple[12 + 128];
	DWORD priv_len = 0, len;
	unsigned long unwraps, destroys, hits;

	hide(CKM_AES_KEY_WRAP);
	set_attribute(CKA_WRAP_WITH_TRUSTED, P11SHIM_ATTR_REFUSED);
	h = acquire(TOK_NOWWT);
	priv = testutil_vector_load("rsa1024-priv.blob", &priv_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(priv);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, 0, &rsa));
	len = simple_blob(simple, CALG_AES_128, aes_value, sizeof aes_value, false);
	CU_ASSERT_EQUAL_FATAL(len, sizeof simple);
	shim->fail("C_UnwrapKey", 1, CKR_ATTRIBUTE_READ_ONLY);
	unwraps = shim->count("C_UnwrapKey");
	destroys = shim->count("C_DestroyObject");
	CHECK_FAILS_WITH(CryptImportKey(h, simple, len, rsa, 0, &k), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_EQUAL(shim->count("C_UnwrapKey"), unwraps + 2);
	CU_ASSERT_EQUAL(shim->count("C_DestroyObject"), destroys + 1);
	CU_ASSERT_EQUAL(token_wrap_trust(context_token(h)), TOKEN_WRAP_TRUST_UNSUPPORTED);
	/* Known now: no template carries the attribute any more. */
	hits = attribute_hits();
	k = gen(h, CALG_AES_128, 0);
	CU_ASSERT_EQUAL(attribute_hits(), hits);
	CryptDestroyKey(k);
	free(priv);
	CryptDestroyKey(rsa);
	CryptReleaseContext(h, 0);
}

static int suite_reset(void)
{
	shim->reset();
	return 0;
}

static void each_reset(void)
{
	shim->reset();
}

static CU_TestInfo shim_tests[] = {
	{ "hidden mechanisms leave the list and the info", test_shim_hides },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo refused_tests[] = {
	{ "advertised, refused at use", test_refused_at_use },
	{ "attributes that cannot change: SIMPLEBLOB import", test_attributes_read_only },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo hidden_tests[] = {
	{ "CKM_AES_KEY_WRAP hidden", test_aes_wrap_hidden },
	{ "CKM_AES_KEY_WRAP_PAD hidden", test_aes_wrap_pad_hidden },
	{ "CKM_DES3_CBC hidden", test_des3_cbc_hidden },
	{ "CKM_AES_CBC and CKM_AES_ECB hidden", test_aes_cipher_hidden },
	{ "CBC mechanisms hidden: CBC composed from ECB", test_cbc_from_ecb },
	{ "CKM_RSA_PKCS_OAEP hidden", test_oaep_hidden },
	{ "CKM_AES_KEY_GEN hidden", test_aes_keygen_hidden },
	{ "PP_ENUMALGS without the hidden", test_enumalgs_hidden },
	{ "no AES key wrap, no CKA_WRAP_WITH_TRUSTED", test_no_wrap_with_trusted },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo quirks_tests[] = {
	{ "the store lock is SoftHSM's", test_quirks_store_lock },
	{ "CKA_VALUE_LEN in unwrap templates but SoftHSM's", test_quirks_value_len },
	{ "no CKK_DES2 on openCryptoki: 3DES_112 as K1|K2|K1", test_quirks_no_des2 },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "quirks", suite_reset, NULL, NULL, each_reset, quirks_tests },
	{ "refused at use", suite_reset, NULL, NULL, each_reset, refused_tests },
	{ "hidden", suite_reset, NULL, NULL, each_reset, hidden_tests },
	{ "shim", suite_reset, NULL, NULL, each_reset, shim_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	static const char *const prefixes[TOK_COUNT] = {
		"caps", "caps-wrap", "caps-pad", "caps-des3", "caps-cbc", "caps-oaep", "caps-gen",
		"caps-other", "caps-ecb", "caps-ibm", "caps-nowwt",
	};
	void *mod;
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	/* These tests pin what a token that lacks something answers on its
	 * own: no companion token (test-companion runs the same tokens with
	 * one). */
	{
		static const char conf[] = "[capi11]\ncompanion = none\n";
		char *path = fixture_write_file("caps.conf", conf, sizeof conf - 1);

		if (path == NULL)
			return FIXTURE_HARD_ERROR;
		setenv("CAPI11_CONF", path, 1);
		free(path);
	}
	shim = fixture_shim();
	mod = fixture_shim_path() ? dlopen(fixture_shim_path(), RTLD_NOW | RTLD_LOCAL) : NULL;
	if (shim == NULL || mod == NULL) {
		fprintf(stderr, "the p11shim module was not built\n");
		return FIXTURE_HARD_ERROR;
	}
	*(void **)&set_mechanism = dlsym(mod, "p11shim_set_mechanism");
	*(void **)&set_manufacturer = dlsym(mod, "p11shim_set_manufacturer");
	*(void **)&set_attribute = dlsym(mod, "p11shim_set_attribute");
	*(void **)&attribute_hits = dlsym(mod, "p11shim_attribute_hits");
	if (set_mechanism == NULL || set_manufacturer == NULL || set_attribute == NULL ||
	    attribute_hits == NULL)
		return FIXTURE_HARD_ERROR;
	for (int i = 0; i < TOK_COUNT; i++) {
		labels[i] = fixture_token_make(prefixes[i]);
		uris[i] = labels[i] ? fixture_token_uri_shim(labels[i], true) : NULL;
		if (uris[i] == NULL)
			return FIXTURE_HARD_ERROR;
	}
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	for (int i = 0; i < TOK_COUNT; i++) {
		free(uris[i]);
		free(labels[i]);
	}
	return rc;
}
