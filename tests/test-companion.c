/* The companion token: what a token that lacks an ability gets from the
 * companion (NSS's softokn in memory by default, a SoftHSM token by URI,
 * or nothing with companion = none).
 *
 * The "card" is a SoftHSM token behind p11shim with the abilities a smart
 * card lacks taken away: the symmetric key generators and ciphers hidden
 * (C_GetMechanismInfo says CKR_MECHANISM_INVALID), and C_UnwrapKey,
 * C_WrapKey, C_EncryptInit and C_GenerateRandom refused at use, as OpenSC
 * and tpm2-pkcs11 refuse them. The card keeps RSA decryption with its
 * private key. capi11 keeps what a token said of a mechanism for the life
 * of the process, so the mechanisms are hidden before every test (the
 * same set each time) and the shim is reset after it.
 *
 * Expected values come from openssl: blobs and ciphertexts that
 * CryptoAPI makes are decrypted by `openssl pkeyutl` with the same RSA key
 * (tests/vectors/rsa1024.pem), and keys are checked by encrypting a known
 * message with `openssl enc`. That nothing is made on the card is read
 * from the shim's call counts. */
#include "config.h"
#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wincrypt.h>

#define CONTAINER "companion"

enum {
	TOK_CARD,	/* a card, the default companion (softokn) */
	TOK_NONE,	/* a card, provider "card-none": companion = none */
	TOK_URI,	/* a card, provider "card-uri": companion = TOK_COMP */
	TOK_COMP,	/* the SoftHSM token the URI companion names */
	TOK_CREATE,	/* C_CreateObject refused with CKR_ARGUMENTS_BAD */
	TOK_PARTNER,	/* a card refusing C_CreateObject too */
	/* Cards first used by one test each, whose missing mechanisms are set
	 * before capi11 first asks (it asks a token once, then remembers). */
	TOK_NODIGEST,	/* no SHA-256 */
	TOK_NOHMAC,	/* no HMAC */
	TOK_NOVERIFY,	/* no public-key operations */
	TOK_UNWRAPS,	/* a token that unwraps (no card profile) */
	TOK_GENERATES,	/* a token that makes session keys (no card profile) */
	TOK_CREATES,	/* a token that takes secret key objects (no card profile) */
	TOK_COUNT
};

static char *labels[TOK_COUNT];
static char *uris[TOK_COUNT];
static const struct p11shim_ops *shim;
static void (*set_mechanism)(CK_MECHANISM_TYPE mech, int mode);
static void (*set_attribute)(CK_ATTRIBUTE_TYPE type, int mode);
static void (*set_profile)(unsigned flags);

/* What a card cannot do by mechanism. */
static const CK_MECHANISM_TYPE card_hidden[] = {
	CKM_AES_KEY_GEN, CKM_DES_KEY_GEN, CKM_DES2_KEY_GEN, CKM_DES3_KEY_GEN,
	CKM_AES_CBC, CKM_AES_ECB, CKM_DES_CBC, CKM_DES_ECB, CKM_DES3_CBC, CKM_DES3_ECB,
	CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD,
};

/* ... and by refusing the call; rng false keeps the generator for now. */
static void card_begin_rng(bool rng)
{
	for (size_t i = 0; i < sizeof card_hidden / sizeof *card_hidden; i++)
		set_mechanism(card_hidden[i], P11SHIM_MECH_HIDDEN);
	shim->fail("C_UnwrapKey", 0, CKR_FUNCTION_NOT_SUPPORTED);
	shim->fail("C_WrapKey", 0, CKR_FUNCTION_NOT_SUPPORTED);
	shim->fail("C_EncryptInit", 0, CKR_FUNCTION_NOT_SUPPORTED);
	if (!rng)
		shim->fail("C_GenerateRandom", 0, CKR_RANDOM_NO_RNG);
}

static void card_begin(void)
{
	card_begin_rng(false);
}

static void card_end(void)
{
	shim->reset();
}

static const char *const creating_calls[] = {
	"C_CreateObject", "C_CopyObject", "C_GenerateKey", "C_GenerateKeyPair", "C_DeriveKey",
};

/* Calls that reached the card to make an object. */
static unsigned long creations(void)
{
	unsigned long n = 0;

	for (size_t i = 0; i < sizeof creating_calls / sizeof *creating_calls; i++)
		n += shim->count(creating_calls[i]);
	return n;
}

static HCRYPTPROV acquire_as(const char *provider)
{
	HCRYPTPROV h = 0;

	if (!CryptAcquireContextA(&h, CONTAINER, provider, PROV_RSA_AES, 0) &&
	    !CryptAcquireContextA(&h, CONTAINER, provider, PROV_RSA_AES, CRYPT_NEWKEYSET))
		h = 0;
	if (h == 0)
		fprintf(stderr, "acquire %s: %#x\n", provider, (unsigned)GetLastError());
	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	return h;
}

/* The card's exchange key: rsa1024.pem, imported. */
static HCRYPTKEY card_rsa(HCRYPTPROV h)
{
	HCRYPTKEY k = 0;
	DWORD len = 0;
	BYTE *priv = testutil_vector_load("rsa1024-priv.blob", &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(priv);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, len, 0, 0, &k));
	free(priv);
	return k;
}

/* openssl pkeyutl -decrypt of a little-endian (CryptoAPI) RSA ciphertext
 * of 128 bytes under rsa1024.pem; the plaintext's length, -1 on failure. */
static int openssl_rsa_decrypt(const BYTE *le, bool oaep, BYTE *out, size_t cap)
{
	BYTE be[128];
	char *ct, *pt = testutil_temp_path("comp-pt"), *pem = testutil_temp_path("comp-pem");
	BYTE *got = NULL;
	DWORD got_len = 0;
	int n = -1;

	for (size_t i = 0; i < sizeof be; i++)
		be[i] = le[sizeof be - 1 - i];
	ct = fixture_write_file("comp.ct", be, sizeof be);
	if (ct != NULL && pt != NULL && pem != NULL &&
	    fixture_run("cp %s/vectors/rsa1024.pem %s && %s pkeyutl -decrypt -inkey %s "
			"-pkeyopt rsa_padding_mode:%s -in %s -out %s", TEST_SRCDIR, pem,
			OPENSSL_BIN, pem, oaep ? "oaep" : "pkcs1", ct, pt) == 0)
		got = testutil_file_read(pt, &got_len);
	if (got != NULL && got_len <= cap) {
		memcpy(out, got, got_len);
		n = (int)got_len;
	}
	free(got);
	free(ct);
	free(pt);
	free(pem);
	return n;
}

/* A SIMPLEBLOB of key under rsa1024.pem made by openssl (PKCS#1 v1.5 or
 * OAEP SHA-1), as CryptoAPI lays it out; its length, 0 on failure. */
static DWORD openssl_simple_blob(BYTE *out, ALG_ID alg, const BYTE *key, size_t key_len, bool oaep)
{
	char *in = fixture_write_file("comp-key.in", key, key_len);
	char *pem = testutil_temp_path("comp-pem");
	char *ct_path = testutil_temp_path("comp-simple.ct");
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

static DWORD key_dword(HCRYPTKEY k, DWORD param)
{
	DWORD v = 0, n = sizeof v;

	CU_ASSERT_TRUE(CryptGetKeyParam(k, param, (BYTE *)&v, &n, 0));
	return v;
}

/* ---- Session keys ---------------------------------------------------------- */

/* openssl's name of each cipher, for the check of a key's value. */
static const struct {
	ALG_ID alg;
	const char *cipher;
	DWORD bits;
	size_t block;
} session_algs[] = {
	{ CALG_AES_128, "-aes-128-cbc", 128, 16 },
	{ CALG_AES_192, "-aes-192-cbc", 192, 16 },
	{ CALG_AES_256, "-aes-256-cbc", 256, 16 },
	{ CALG_3DES, "-des-ede3-cbc", 192, 8 },
	{ CALG_3DES_112, "-des-ede-cbc", 128, 8 },
	/* Single DES and RC2 are in OpenSSL 3's legacy provider; RC2's
	 * effective length is its key length, as openssl takes it by default. */
	{ CALG_DES, "-des-cbc -provider legacy -provider default", 64, 8 },
	{ CALG_RC2, "-rc2-cbc -provider legacy -provider default", 128, 8 },
};

/* CryptGenKey on a card without key generators: the key is made on the
 * companion (nothing reaches the card), encrypts as openssl does with the
 * value its PLAINTEXTKEYBLOB gives, and decrypts what it encrypted. */
static void test_genkey_on_companion(void)
{
	HCRYPTPROV h;
	unsigned long made;

	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	made = creations();
	for (size_t i = 0; i < sizeof session_algs / sizeof *session_algs; i++) {
		HCRYPTKEY k = 0;
		BYTE *blob, msg[32] = "sixteen bytes...sixteen bytes...";
		BYTE buf[48];
		DWORD len, n = sizeof msg;

		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, session_algs[i].alg, CRYPT_EXPORTABLE, &k));
		CU_ASSERT_EQUAL(key_dword(k, KP_KEYLEN), session_algs[i].bits);
		blob = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
		CU_ASSERT_EQUAL_FATAL(len, 12 + session_algs[i].bits / 8);
		testutil_check_encrypts_as(k, session_algs[i].cipher, blob + 12, len - 12,
					   session_algs[i].block);
		memcpy(buf, msg, sizeof msg);
		CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &n, sizeof buf));
		CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, 0, buf, &n));
		CU_ASSERT(n == sizeof msg && memcmp(buf, msg, n) == 0);
		free(blob);
		CU_ASSERT_TRUE(CryptDestroyKey(k));
	}
	/* The sensitive-key policy holds there too: a key made without
	 * CRYPT_EXPORTABLE never leaves in plaintext. */
	{
		HCRYPTKEY k = 0;
		DWORD len = 0;

		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &k));
		CHECK_FAILS_WITH(CryptExportKey(k, 0, PLAINTEXTKEYBLOB, 0, NULL, &len),
				 NTE_BAD_KEY_STATE);
		CryptDestroyKey(k);
	}
	CU_ASSERT_EQUAL(creations(), made);
	CU_ASSERT_EQUAL(shim->count("C_GenerateKey"), 0);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* A token that makes session keys and refuses one C_GenerateKey template
 * (a key length it does not take, answered CKR_ATTRIBUTE_VALUE_INVALID by
 * some modules instead of CKR_KEY_SIZE_RANGE) still makes the next key:
 * the refusal was of that template, not of C_GenerateKey, and must not
 * send every later session key of the process to the companion. */
static void test_genkey_refused_template(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k = 0;

	h = acquire_as(uris[TOK_GENERATES]);
	shim->reset();
	shim->fail("C_GenerateKey", 1, CKR_ATTRIBUTE_VALUE_INVALID);
	if (CryptGenKey(h, CALG_AES_192, 0, &k))
		CryptDestroyKey(k);
	shim->reset();
	k = 0;
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &k));
	CU_ASSERT_EQUAL(shim->count("C_GenerateKey"), 1);
	CryptDestroyKey(k);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	shim->reset();
}

/* PLAINTEXTKEYBLOB import of an algorithm the card lacks: on the
 * companion, with the value it was given. */
static void test_plaintext_import_on_companion(void)
{
	static const BYTE value[32] = {
		0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0, 0x85,
		0x7d, 0x77, 0x81, 0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7, 0x2d, 0x98,
		0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4,
	};
	BYTE blob[12 + 32];
	HCRYPTPROV h;
	HCRYPTKEY k = 0;
	DWORD n;
	unsigned long made;

	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	made = creations();
	n = testutil_plaintext_blob(blob, CALG_AES_256, value, sizeof value);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, CRYPT_EXPORTABLE, &k));
	testutil_check_encrypts_as(k, "-aes-256-cbc", value, sizeof value, 16);
	CU_ASSERT(testutil_exports_as(k, PLAINTEXTKEYBLOB, blob, n));
	CryptDestroyKey(k);
	CU_ASSERT_EQUAL(creations(), made);
	/* CRYPT_IPSEC_HMAC_KEY: an RC2 key longer than 16 bytes is an HMAC
	 * key (Microsoft's CryptImportKey page), held where HMACs run: this
	 * card hides its ciphers but keeps SoftHSM's HMAC mechanisms, so the
	 * key is the card's (test-hash checks its HMACs). */
	n = testutil_plaintext_blob(blob, CALG_RC2, value, 20);
	k = 0;
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, CRYPT_IPSEC_HMAC_KEY | CRYPT_EXPORTABLE,
					    &k));
	CryptDestroyKey(k);
	CU_ASSERT_EQUAL(creations(), made + 1);
	made = creations();
	/* A length aiKeyAlg does not have is still bad data. */
	n = testutil_plaintext_blob(blob, CALG_AES_256, value, 20);
	k = 0;
	CHECK_FAILS_WITH(CryptImportKey(h, blob, n, 0, 0, &k), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_EQUAL(creations(), made);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* A token that takes secret key objects and refuses one value
 * (CKR_ATTRIBUTE_VALUE_INVALID, as a module answers a DES key it judges
 * weak) still holds the next plaintext key itself: the answer was about
 * that value, and must not send every later import to the companion. */
static void test_plaintext_refused_value(void)
{
	static const BYTE value[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
					0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
	BYTE blob[12 + 16];
	HCRYPTPROV h;
	HCRYPTKEY k = 0;
	DWORD n;

	h = acquire_as(uris[TOK_CREATES]);
	n = testutil_plaintext_blob(blob, CALG_AES_128, value, sizeof value);
	shim->reset();
	shim->fail("C_CreateObject", 1, CKR_ATTRIBUTE_VALUE_INVALID);
	if (CryptImportKey(h, blob, n, 0, 0, &k))
		CryptDestroyKey(k);
	shim->reset();
	k = 0;
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, 0, &k));
	CU_ASSERT_EQUAL(shim->count("C_CreateObject"), 1);
	testutil_check_encrypts_as(k, "-aes-128-cbc", value, sizeof value, 16);
	CryptDestroyKey(k);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	shim->reset();
}

/* The same for a partner's public key: a token that refused one key's
 * numbers (CKR_ATTRIBUTE_VALUE_INVALID) still holds the next partner key
 * itself, where a trusted copy of it could be found and used. */
static void test_public_refused_value(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k = 0;
	DWORD len = 0;
	BYTE *blob = testutil_vector_load("rsa1024-pub.blob", &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	h = acquire_as(uris[TOK_CREATES]);
	shim->reset();
	shim->fail("C_CreateObject", 1, CKR_ATTRIBUTE_VALUE_INVALID);
	if (CryptImportKey(h, blob, len, 0, 0, &k))
		CryptDestroyKey(k);
	shim->reset();
	k = 0;
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, 0, 0, &k));
	CU_ASSERT_EQUAL(shim->count("C_CreateObject"), 1);
	CryptDestroyKey(k);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	shim->reset();
	free(blob);
}

/* A token that has the algorithm but refuses to create objects (an
 * OpenSC card: CKR_ARGUMENTS_BAD): the import goes to the companion after
 * the one refusal, and the next one does not ask the token again. */
static void test_create_refused(void)
{
	static const BYTE value[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
					0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
	BYTE blob[12 + 16];
	HCRYPTPROV h = acquire_as(uris[TOK_CREATE]);
	HCRYPTKEY k = 0;
	DWORD n = testutil_plaintext_blob(blob, CALG_AES_128, value, sizeof value);
	unsigned long creates = shim->count("C_CreateObject");

	shim->fail("C_CreateObject", 0, CKR_ARGUMENTS_BAD);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, 0, &k));
	testutil_check_encrypts_as(k, "-aes-128-cbc", value, sizeof value, 16);
	CryptDestroyKey(k);
	CU_ASSERT_EQUAL(shim->count("C_CreateObject"), creates + 1);
	creates = shim->count("C_CreateObject");
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, 0, &k));
	CU_ASSERT_EQUAL(shim->count("C_CreateObject"), creates);
	CryptDestroyKey(k);
	/* A partner's public key goes to the companion too; a session key the
	 * token made itself cannot be wrapped under it there (the key never
	 * leaves its token), nor can the public key come to the token: no
	 * route. */
	{
		HCRYPTKEY pub = 0, own = 0;
		DWORD len = 0;
		BYTE *pub_blob = testutil_vector_load("rsa1024-pub.blob", &len);

		CU_ASSERT_PTR_NOT_NULL_FATAL(pub_blob);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub_blob, len, 0, 0, &pub));
		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, CRYPT_EXPORTABLE, &own));
		len = 0;
		CHECK_FAILS_WITH(CryptExportKey(own, pub, SIMPLEBLOB, 0, NULL, &len) &&
				 CryptExportKey(own, pub, SIMPLEBLOB, 0, pub_blob, &len),
				 NTE_NOT_SUPPORTED);
		CryptDestroyKey(own);
		CryptDestroyKey(pub);
		free(pub_blob);
	}
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	shim->reset();
}

/* SYMMETRICWRAPKEYBLOB and OPAQUEKEYBLOB between two companion keys: the AES key wrap runs
 * on the companion, and the blob imports there again under the same
 * key-encryption key. softokn takes CKA_WRAP_WITH_TRUSTED but wraps such
 * a key under any key (measured: docs/capi11.conf.5), so capi11 lets no
 * sensitive key leave it, exactly as on such a token. */
static void test_symwrap_on_companion(void)
{
	static const BYTE value[16] = { 0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87,
					0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f };
	BYTE plain[12 + 16];
	HCRYPTPROV h;
	HCRYPTKEY kek = 0, k = 0, back = 0, sens = 0;
	BYTE *blob;
	DWORD len, n = testutil_plaintext_blob(plain, CALG_AES_128, value, sizeof value);
	unsigned long made;

	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	made = creations();
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &kek));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, plain, n, 0, CRYPT_EXPORTABLE, &k));
	blob = testutil_blob_export(k, kek, SYMMETRICWRAPKEYBLOB, 0, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	/* BLOBHEADER, the wrapping ALG_ID, RFC 3394's 16 + 8 bytes. */
	CU_ASSERT_EQUAL(len, 12 + 24);
	CU_ASSERT_EQUAL(testutil_le32(blob + 8), CALG_AES_256);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, kek, 0, &back));
	testutil_check_encrypts_as(back, "-aes-128-cbc", value, sizeof value, 16);
	free(blob);
	CryptDestroyKey(back);
	/* OPAQUEKEYBLOB (docs/OPAQUEKEYBLOB.md) too. */
	blob = testutil_blob_export(k, kek, OPAQUEKEYBLOB, 0, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	back = 0;
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, kek, 0, &back));
	testutil_check_encrypts_as(back, "-aes-128-cbc", value, sizeof value, 16);
	free(blob);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &sens));
	CHECK_FAILS_WITH(CryptExportKey(sens, kek, SYMMETRICWRAPKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CU_ASSERT_EQUAL(creations(), made);
	CryptDestroyKey(sens);
	CryptDestroyKey(back);
	CryptDestroyKey(k);
	CryptDestroyKey(kek);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* ---- SIMPLEBLOB ------------------------------------------------------------ */

/* SIMPLEBLOB import on a card that cannot unwrap: the card decrypts with
 * its exchange key, the key is made on the companion; the key encrypts as
 * openssl does with the value openssl wrapped. It arrived wrapped, so it
 * is sensitive: no PLAINTEXTKEYBLOB, even with CRYPT_EXPORTABLE. */
static void test_simple_import_decrypt(void)
{
	static const BYTE value[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
					0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	BYTE simple[12 + 128];
	HCRYPTPROV h;
	HCRYPTKEY rsa, k = 0;
	DWORD len, n = 0;
	unsigned long made, unwraps;

	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	rsa = card_rsa(h);
	made = creations();
	for (int oaep = 0; oaep <= 1; oaep++) {
		len = openssl_simple_blob(simple, CALG_AES_128, value, sizeof value, oaep);
		CU_ASSERT_EQUAL_FATAL(len, sizeof simple);
		k = 0;
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, simple, len, rsa,
						    CRYPT_EXPORTABLE | (oaep ? CRYPT_OAEP : 0), &k));
		testutil_check_encrypts_as(k, "-aes-128-cbc", value, sizeof value, 16);
		CHECK_FAILS_WITH(CryptExportKey(k, 0, PLAINTEXTKEYBLOB, 0, NULL, &n),
				 NTE_BAD_KEY_STATE);
		CryptDestroyKey(k);
	}
	/* The first refusal of C_UnwrapKey is learnt: later imports go
	 * straight to C_Decrypt. */
	unwraps = shim->count("C_UnwrapKey");
	CU_ASSERT(unwraps <= 1);
	len = openssl_simple_blob(simple, CALG_AES_128, value, sizeof value, false);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, simple, len, rsa, 0, &k));
	CU_ASSERT_EQUAL(shim->count("C_UnwrapKey"), unwraps);
	CryptDestroyKey(k);
	/* 15 key bytes are no AES-128 key; a broken ciphertext is bad data
	 * too; nothing is left behind. */
	len = openssl_simple_blob(simple, CALG_AES_128, value, 15, false);
	CU_ASSERT_EQUAL_FATAL(len, sizeof simple);
	k = 0;
	CHECK_FAILS_WITH(CryptImportKey(h, simple, len, rsa, 0, &k), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(k, 0);
	len = openssl_simple_blob(simple, CALG_AES_128, value, sizeof value, false);
	simple[40] ^= 0x55;
	CHECK_FAILS_WITH(CryptImportKey(h, simple, len, rsa, 0, &k), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_EQUAL(creations(), made);
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* A token that unwraps keeps unwrapping whatever the first SIMPLEBLOB it
 * meets holds. openCryptoki 3.8 answers the readable unwrap template with
 * CKR_ATTRIBUTE_READ_ONLY (import.c), and a blob with broken padding then
 * fails the protected unwrap too: neither answer says that the token has
 * no C_UnwrapKey, so the next, good blob is still unwrapped by the token
 * (C_UnwrapKey), never decrypted into this process (C_Decrypt) for the
 * companion. */
static void test_simple_bad_first_blob(void)
{
	static const BYTE value[16] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
					0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };
	BYTE simple[12 + 128], broken[12 + 128];
	HCRYPTPROV h;
	HCRYPTKEY rsa, k = 0;
	DWORD len;

	h = acquire_as(uris[TOK_UNWRAPS]);
	rsa = card_rsa(h);
	len = openssl_simple_blob(simple, CALG_AES_128, value, sizeof value, false);
	CU_ASSERT_EQUAL_FATAL(len, sizeof simple);
	memcpy(broken, simple, len);
	broken[40] ^= 0x55;
	shim->reset();
	shim->fail("C_UnwrapKey", 1, CKR_ATTRIBUTE_READ_ONLY);
	shim->fail("C_UnwrapKey", 2, CKR_ENCRYPTED_DATA_INVALID);
	CHECK_FAILS_WITH(CryptImportKey(h, broken, len, rsa, 0, &k), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(k, 0);
	shim->reset();
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, simple, len, rsa, 0, &k));
	CU_ASSERT(shim->count("C_UnwrapKey") >= 1);
	CU_ASSERT_EQUAL(shim->count("C_Decrypt"), 0);
	testutil_check_encrypts_as(k, "-aes-128-cbc", value, sizeof value, 16);
	CryptDestroyKey(k);
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	shim->reset();
}

/* SIMPLEBLOB export of a companion session key under the card's exchange
 * key: the public key is copied to the companion for the wrap; openssl
 * unwraps the key that PLAINTEXTKEYBLOB gives. */
static void test_simple_export_under_card_key(void)
{
	HCRYPTPROV h;
	HCRYPTKEY rsa, k = 0;
	BYTE *simple, *plain, pt[128];
	DWORD simple_len, plain_len;
	int n;

	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	rsa = card_rsa(h);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_EXPORTABLE, &k));
	for (int oaep = 0; oaep <= 1; oaep++) {
		simple = testutil_blob_export(k, rsa, SIMPLEBLOB, oaep ? CRYPT_OAEP : 0,
					      &simple_len);
		plain = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &plain_len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(simple);
		CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
		CU_ASSERT_EQUAL_FATAL(simple_len, 12 + 128);
		CU_ASSERT_EQUAL(testutil_le32(simple + 4), CALG_AES_256);
		CU_ASSERT_EQUAL(testutil_le32(simple + 8), CALG_RSA_KEYX);
		n = openssl_rsa_decrypt(simple + 12, oaep, pt, sizeof pt);
		CU_ASSERT_EQUAL(n, 32);
		CU_ASSERT(n == 32 && memcmp(pt, plain + 12, 32) == 0);
		free(simple);
		free(plain);
	}
	CryptDestroyKey(k);
	/* A sensitive key does not leave under a copy of a public key (no
	 * copy is trusted). */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &k));
	CHECK_FAILS_WITH(CryptExportKey(k, rsa, SIMPLEBLOB, 0, NULL, &simple_len),
			 NTE_BAD_KEY_STATE);
	CryptDestroyKey(k);
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* ---- Public-key operations ------------------------------------------------- */

/* RSA CryptEncrypt with the card's key on a card without public-key
 * encryption: on the companion; openssl decrypts it, and so does the card
 * with its private key. */
static void test_rsa_encrypt_on_companion(void)
{
	static const BYTE msg[20] = "a message for a card";
	HCRYPTPROV h;
	HCRYPTKEY rsa;
	BYTE data[128], pt[128];
	DWORD n;
	int got;

	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	rsa = card_rsa(h);
	for (int oaep = 0; oaep <= 1; oaep++) {
		memcpy(data, msg, sizeof msg);
		n = sizeof msg;
		CU_ASSERT_TRUE_FATAL(CryptEncrypt(rsa, 0, TRUE, oaep ? CRYPT_OAEP : 0, data, &n,
						  sizeof data));
		CU_ASSERT_EQUAL_FATAL(n, 128);
		got = openssl_rsa_decrypt(data, oaep, pt, sizeof pt);
		CU_ASSERT(got == (int)sizeof msg && memcmp(pt, msg, sizeof msg) == 0);
		CU_ASSERT_TRUE(CryptDecrypt(rsa, 0, TRUE, oaep ? CRYPT_OAEP : 0, data, &n));
		CU_ASSERT(n == sizeof msg && memcmp(data, msg, sizeof msg) == 0);
	}
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* A partner's PUBLICKEYBLOB that the card refuses to hold
 * (CKR_ARGUMENTS_BAD) is made on the companion, where it encrypts and
 * wraps: openssl decrypts both. */
static void test_public_blob_on_companion(void)
{
	static const BYTE msg[16] = "partner message";
	HCRYPTPROV h;
	HCRYPTKEY pub = 0, k = 0;
	BYTE *blob, *simple, *plain, data[128], pt[128];
	DWORD len = 0, simple_len, plain_len, n;
	int got;

	card_begin();
	h = acquire_as(uris[TOK_PARTNER]);
	blob = testutil_vector_load("rsa1024-pub.blob", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	shim->fail("C_CreateObject", 0, CKR_ARGUMENTS_BAD);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, 0, 0, &pub));
	CU_ASSERT_EQUAL(key_dword(pub, KP_KEYLEN), 1024);
	memcpy(data, msg, sizeof msg);
	n = sizeof msg;
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(pub, 0, TRUE, 0, data, &n, sizeof data));
	got = openssl_rsa_decrypt(data, false, pt, sizeof pt);
	CU_ASSERT(got == (int)sizeof msg && memcmp(pt, msg, sizeof msg) == 0);
	/* A session key for the partner, made on the companion (the card has
	 * no AES), beside the public key. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, CRYPT_EXPORTABLE, &k));
	simple = testutil_blob_export(k, pub, SIMPLEBLOB, 0, &simple_len);
	plain = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &plain_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(simple);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	got = openssl_rsa_decrypt(simple + 12, false, pt, sizeof pt);
	CU_ASSERT(got == 16 && memcmp(pt, plain + 12, 16) == 0);
	free(simple);
	free(plain);
	free(blob);
	CryptDestroyKey(k);
	CryptDestroyKey(pub);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	shim->reset();
}

/* PUBLICKEYBLOB of a card key whose objects stop showing their public
 * numbers (the shim hides CKA_MODULUS from every read, as some cards do)
 * by the time of the export: from the certificate beside the key, made by
 * openssl from the same key; the blob equals the vector of that key. */
static void test_public_blob_from_certificate(void)
{
	HCRYPTPROV h;
	HCRYPTKEY rsa;
	char *pem = testutil_temp_path("comp-cert-key"), *der = testutil_temp_path("comp-cert");
	BYTE *cert = NULL, *want, got[512];
	DWORD cert_len = 0, want_len = 0, got_len = sizeof got;

	CU_ASSERT_FATAL(pem != NULL && der != NULL);
	CU_ASSERT_EQUAL_FATAL(fixture_run("cp %s/vectors/rsa1024.pem %s && %s req -new -x509 "
					  "-key %s -subj /CN=card -days 2 -outform DER -out %s",
					  TEST_SRCDIR, pem, OPENSSL_BIN, pem, der), 0);
	cert = testutil_file_read(der, &cert_len);
	want = testutil_vector_load("rsa1024-pub.blob", &want_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	rsa = card_rsa(h);
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(rsa, KP_CERTIFICATE, cert, 0));
	set_attribute(CKA_MODULUS, P11SHIM_ATTR_UNREADABLE);
	CU_ASSERT_TRUE(CryptExportKey(rsa, 0, PUBLICKEYBLOB, 0, got, &got_len));
	CU_ASSERT_EQUAL(got_len, want_len);
	CU_ASSERT(got_len == want_len && memcmp(got, want, want_len) == 0);
	/* Without a certificate there is nothing to export from. */
	{
		HCRYPTKEY pub = 0;
		DWORD len = 0;
		BYTE *blob = testutil_vector_load("rsa1024-pub.blob", &len);

		set_attribute(CKA_MODULUS, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, 0, 0, &pub));
		set_attribute(CKA_MODULUS, P11SHIM_ATTR_UNREADABLE);
		got_len = sizeof got;
		CHECK_FAILS_WITH(CryptExportKey(pub, 0, PUBLICKEYBLOB, 0, got, &got_len),
				 NTE_BAD_KEY);
		CryptDestroyKey(pub);
		free(blob);
	}
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
	free(cert);
	free(want);
	free(pem);
	free(der);
}

/* A card key whose modulus shows and whose exponent does not: the
 * certificate beside it gives PUBLICKEYBLOB only if it is of this key.
 * One of another key of the same length, which KP_CERTIFICATE stores
 * without looking, must not put that key's numbers in the blob (a partner
 * would then wrap its session keys for whoever holds the other key). */
static void test_public_blob_foreign_certificate(void)
{
	HCRYPTPROV h;
	HCRYPTKEY rsa;
	char *pem = testutil_temp_path("comp-other-key"), *der = testutil_temp_path("comp-other");
	BYTE *cert = NULL, *want = NULL, got[512];
	DWORD cert_len = 0, want_len = 0, got_len = sizeof got;

	CU_ASSERT_FATAL(pem != NULL && der != NULL);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s req -new -x509 -newkey rsa:1024 -nodes -keyout %s "
					  "-subj /CN=other -days 2 -outform DER -out %s",
					  OPENSSL_BIN, pem, der), 0);
	cert = testutil_file_read(der, &cert_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	rsa = card_rsa(h);
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(rsa, KP_CERTIFICATE, cert, 0));
	set_attribute(CKA_PUBLIC_EXPONENT, P11SHIM_ATTR_UNREADABLE);
	CHECK_FAILS_WITH(CryptExportKey(rsa, 0, PUBLICKEYBLOB, 0, got, &got_len), NTE_BAD_KEY);
	/* The key's own certificate still gives the blob openssl made. */
	free(cert);
	cert = NULL;
	CU_ASSERT_EQUAL_FATAL(fixture_run("cp %s/vectors/rsa1024.pem %s && %s req -new -x509 "
					  "-key %s -subj /CN=card -days 2 -outform DER -out %s",
					  TEST_SRCDIR, pem, OPENSSL_BIN, pem, der), 0);
	cert = testutil_file_read(der, &cert_len);
	want = testutil_vector_load("rsa1024-pub.blob", &want_len);
	CU_ASSERT_FATAL(cert != NULL && want != NULL);
	set_attribute(CKA_PUBLIC_EXPONENT, 0);
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(rsa, KP_CERTIFICATE, cert, 0));
	set_attribute(CKA_PUBLIC_EXPONENT, P11SHIM_ATTR_UNREADABLE);
	got_len = sizeof got;
	CU_ASSERT_TRUE(CryptExportKey(rsa, 0, PUBLICKEYBLOB, 0, got, &got_len));
	CU_ASSERT(got_len == want_len && memcmp(got, want, want_len) == 0);
	set_attribute(CKA_PUBLIC_EXPONENT, 0);
	free(want);
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
	free(cert);
	free(pem);
	free(der);
}

/* ---- Random numbers -------------------------------------------------------- */

static void test_random_on_companion(void)
{
	HCRYPTPROV h;
	BYTE a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };
	unsigned long asked;

	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	asked = shim->count("C_GenerateRandom");
	CU_ASSERT_TRUE(CryptGenRandom(h, sizeof a, a));
	CU_ASSERT(shim->count("C_GenerateRandom") <= asked + 1);
	asked = shim->count("C_GenerateRandom");
	CU_ASSERT_TRUE(CryptGenRandom(h, sizeof b, b));
	/* The card's refusal was learnt. */
	CU_ASSERT_EQUAL(shim->count("C_GenerateRandom"), asked);
	CU_ASSERT(memcmp(a, zero, sizeof a) != 0 && memcmp(a, b, sizeof a) != 0);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* ---- PP_ENUMALGS_EX -------------------------------------------------------- */

/* Whether PP_ENUMALGS_EX lists alg. */
static bool enum_lists(HCRYPTPROV h, ALG_ID alg)
{
	PROV_ENUMALGS_EX a;
	DWORD flags = CRYPT_FIRST, n;
	bool found = false;

	for (;;) {
		n = sizeof a;
		if (!CryptGetProvParam(h, PP_ENUMALGS_EX, (BYTE *)&a, &n, flags))
			break;
		flags = 0;
		found |= a.aiAlgid == alg;
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	return found;
}

/* The session keys a card cannot make are listed when the companion makes
 * them (softokn has AES, DES, two- and three-key 3DES, RC2), and not
 * without a companion; RSA is the card's own either way. RC4 is never made
 * on the companion, as CryptEncrypt does not run it. */
static void test_enum_algs(void)
{
	static const ALG_ID routed[] = {
		CALG_AES_128, CALG_AES_192, CALG_AES_256, CALG_DES, CALG_3DES, CALG_3DES_112,
		CALG_RC2,
	};
	HCRYPTPROV h, none;

	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	none = acquire_as("card-none");
	for (size_t i = 0; i < sizeof routed / sizeof *routed; i++) {
		CU_ASSERT_TRUE(enum_lists(h, routed[i]));
		CU_ASSERT_FALSE(enum_lists(none, routed[i]));
	}
	CU_ASSERT_FALSE(enum_lists(h, CALG_RC4));
	CU_ASSERT_TRUE(enum_lists(h, CALG_RSA_KEYX));
	CU_ASSERT_TRUE(enum_lists(none, CALG_RSA_KEYX));
	CU_ASSERT_TRUE(CryptReleaseContext(none, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* ---- companion = none ------------------------------------------------------ */

/* The answers of a card without a companion (docs/capi11.conf.5,
 * "Companion token"): NTE_BAD_ALGID for a session key nobody can make,
 * NTE_NOT_SUPPORTED for an operation nobody can run. */
static void test_companion_none(void)
{
	static const BYTE value[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	BYTE blob[12 + 16], data[128] = "x", rnd[16];
	HCRYPTPROV h;
	HCRYPTKEY rsa, k = 0;
	DWORD n;

	card_begin_rng(true);
	h = acquire_as("card-none");
	rsa = card_rsa(h);
	shim->fail("C_GenerateRandom", 0, CKR_RANDOM_NO_RNG);
	CHECK_FAILS_WITH(CryptGenKey(h, CALG_AES_128, 0, &k), NTE_BAD_ALGID);
	CU_ASSERT_EQUAL(k, 0);
	n = testutil_plaintext_blob(blob, CALG_AES_128, value, sizeof value);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, n, 0, 0, &k), NTE_BAD_ALGID);
	n = 1;
	CHECK_FAILS_WITH(CryptGenRandom(h, sizeof rnd, rnd), NTE_NOT_SUPPORTED);
	CHECK_FAILS_WITH(CryptEncrypt(rsa, 0, TRUE, 0, data, &n, sizeof data), NTE_NOT_SUPPORTED);
	/* A SIMPLEBLOB the card cannot unwrap, and nothing else can hold. */
	{
		BYTE simple[12 + 128];
		DWORD len = openssl_simple_blob(simple, CALG_AES_128, value, sizeof value, false);

		CU_ASSERT_EQUAL_FATAL(len, sizeof simple);
		k = 0;
		CHECK_FAILS_WITH(CryptImportKey(h, simple, len, rsa, 0, &k), NTE_NOT_SUPPORTED);
		CHECK_FAILS_WITH(CryptImportKey(h, simple, len, rsa, 0, &k), NTE_NOT_SUPPORTED);
		CU_ASSERT_EQUAL(k, 0);
	}
	/* A new pair's CKA_ID is a name, not a secret: without any generator
	 * it comes from the system (docs/CARDS.md), and the pair is made. */
	{
		DWORD len = 0;
		BYTE *priv = testutil_vector_load("rsa1024-priv.blob", &len);
		HCRYPTKEY again = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(priv);
		CU_ASSERT_TRUE(CryptImportKey(h, priv, len, 0, 0, &again));
		CU_ASSERT_NOT_EQUAL(again, 0);
		if (again != 0)
			CryptDestroyKey(again);
		free(priv);
	}
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* ---- companion = <pkcs11 URI> ---------------------------------------------- */

/* A second SoftHSM token as the companion: the key is made there
 * (C_GenerateKey reaches SoftHSM directly, not through the card's shim). */
static void test_companion_uri(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k = 0;
	BYTE *blob;
	DWORD len;
	unsigned long made;

	card_begin();
	h = acquire_as("card-uri");
	made = creations();
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_192, CRYPT_EXPORTABLE, &k));
	blob = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	testutil_check_encrypts_as(k, "-aes-192-cbc", blob + 12, 24, 16);
	free(blob);
	CU_ASSERT_EQUAL(creations(), made);
	CryptDestroyKey(k);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* A key of one context on the token that is another context's main
 * token: "card-uri"'s companion key-encryption key, on the SoftHSM token
 * that a second context opens as its own token. The second context never
 * opened a companion; the KEK is read on its session of the KEK's token,
 * and the OPAQUEKEYBLOB lands there beside it. */
static void test_companion_key_on_other_main(void)
{
	char *comp_uri = fixture_token_uri(labels[TOK_COMP]);
	HCRYPTPROV card, soft = 0;
	HCRYPTKEY kek = 0, k = 0, got = 0;
	BYTE *opaque, *plain;
	DWORD opaque_len, plain_len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(comp_uri);
	card_begin();
	card = acquire_as("card-uri");
	CU_ASSERT_TRUE_FATAL(CryptGenKey(card, CALG_AES_256, CRYPT_KEK, &kek));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(card, CALG_AES_128, CRYPT_EXPORTABLE, &k));
	opaque = testutil_blob_export(k, kek, OPAQUEKEYBLOB, 0, &opaque_len);
	plain = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &plain_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(opaque);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&soft, NULL, comp_uri, PROV_RSA_AES,
						  CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptImportKey(soft, opaque, opaque_len, kek, 0, &got));
	if (got != 0) {
		testutil_check_encrypts_as(got, "-aes-128-cbc", plain + 12, plain_len - 12, 16);
		CryptDestroyKey(got);
	}
	free(opaque);
	free(plain);
	CryptDestroyKey(k);
	CryptDestroyKey(kek);
	CU_ASSERT_TRUE(CryptReleaseContext(soft, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(card, 0));
	free(comp_uri);
	card_end();
}

/* A SIMPLEBLOB of an algorithm the companion lacks (RC2: SoftHSM, the
 * card-uri provider's companion, has none) on a card that cannot unwrap:
 * the answer is the same whether the blob's padding holds or not, and the
 * card decrypts nothing. Were the algorithm judged after C_Decrypt, a
 * well-padded blob would answer NTE_BAD_ALGID and a broken one
 * NTE_BAD_DATA: a padding oracle on the card's exchange key. */
static void test_simple_decrypt_no_oracle(void)
{
	static const BYTE value[16] = { 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
					0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f };
	BYTE simple[12 + 128], broken[12 + 128];
	HCRYPTPROV h;
	HCRYPTKEY rsa, k = 0;
	DWORD len, good_err, broken_err;

	card_begin();
	h = acquire_as("card-uri");
	rsa = card_rsa(h);
	len = openssl_simple_blob(simple, CALG_RC2, value, sizeof value, false);
	CU_ASSERT_EQUAL_FATAL(len, sizeof simple);
	memcpy(broken, simple, len);
	broken[40] ^= 0x55;
	shim->reset();
	card_begin();
	CU_ASSERT_FALSE(CryptImportKey(h, simple, len, rsa, 0, &k));
	good_err = GetLastError();
	CU_ASSERT_FALSE(CryptImportKey(h, broken, len, rsa, 0, &k));
	broken_err = GetLastError();
	CU_ASSERT_EQUAL(good_err, broken_err);
	CU_ASSERT_EQUAL(good_err, (DWORD)NTE_BAD_ALGID);
	CU_ASSERT_EQUAL(shim->count("C_Decrypt"), 0);
	CU_ASSERT_EQUAL(k, 0);
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* ---- threads --------------------------------------------------------------- */

#define THREAD_ROUNDS 25

/* One context per thread, each making and using companion keys at once:
 * each context keeps its own companion session (one thread at a time per
 * session). The key's value, read back as PLAINTEXTKEYBLOB, is the one it
 * was imported with, and the data comes back. Returns the failures. */
static void *thread_body(void *arg)
{
	const BYTE *value = arg;
	HCRYPTPROV h = 0;
	BYTE blob[12 + 16];
	DWORD n = testutil_plaintext_blob(blob, CALG_AES_128, value, 16);
	uintptr_t failures = 0;

	if (!CryptAcquireContextA(&h, NULL, uris[TOK_CARD], PROV_RSA_AES, CRYPT_VERIFYCONTEXT))
		return (void *)(uintptr_t)THREAD_ROUNDS;
	for (int i = 0; i < THREAD_ROUNDS; i++) {
		HCRYPTKEY k = 0, g = 0;
		BYTE data[48] = "thirty-two bytes of data, twice";
		DWORD len = 32;

		if (!CryptImportKey(h, blob, n, 0, CRYPT_EXPORTABLE, &k) ||
		    !testutil_exports_as(k, PLAINTEXTKEYBLOB, blob, n) ||
		    !CryptGenKey(h, CALG_AES_256, 0, &g) ||
		    !CryptEncrypt(g, 0, TRUE, 0, data, &len, sizeof data) ||
		    !CryptDecrypt(g, 0, TRUE, 0, data, &len) || len != 32 ||
		    memcmp(data, "thirty-two bytes of data, twice", 32) != 0)
			failures++;
		CryptDestroyKey(g);
		CryptDestroyKey(k);
	}
	CryptReleaseContext(h, 0);
	return (void *)failures;
}

static void test_threads(void)
{
	static const BYTE values[2][16] = {
		{ 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 121, 98, 219 },
		{ 2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5, 9, 0, 4, 5 },
	};
	pthread_t t[2];
	void *ret;

	card_begin();
	for (int i = 0; i < 2; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, thread_body, (void *)values[i]), 0);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(pthread_join(t[i], &ret), 0);
		CU_ASSERT_EQUAL((uintptr_t)ret, 0);
	}
	card_end();
}

/* ---- fork ------------------------------------------------------------------ */

/* A child of a fork uses the companion afresh (softokn is initialised
 * again there); the parent's key handles are not the child's, and the
 * parent's keep working. */
static void test_fork(void)
{
	static const BYTE value[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };
	BYTE blob[12 + 16];
	HCRYPTPROV h;
	HCRYPTKEY k = 0;
	DWORD n = testutil_plaintext_blob(blob, CALG_AES_128, value, sizeof value);
	int status = -1;
	pid_t pid;

	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, CRYPT_EXPORTABLE, &k));
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		HCRYPTPROV c = 0;
		HCRYPTKEY ck = 0;
		BYTE rnd[8];
		int rc = 0;

		if (CryptEncrypt(k, 0, TRUE, 0, rnd, &(DWORD){ 0 }, sizeof rnd) ||
		    GetLastError() != ERROR_INVALID_PARAMETER)
			rc |= 1;
		if (!CryptAcquireContextA(&c, CONTAINER, uris[TOK_CARD], PROV_RSA_AES, 0))
			rc |= 2;
		else if (!CryptImportKey(c, blob, n, 0, CRYPT_EXPORTABLE, &ck) ||
			 !testutil_exports_as(ck, PLAINTEXTKEYBLOB, blob, n))
			rc |= 4;
		if (c != 0 && !CryptGenRandom(c, sizeof rnd, rnd))
			rc |= 8;
		_exit(rc);
	}
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT(testutil_exports_as(k, PLAINTEXTKEYBLOB, blob, n));
	CryptDestroyKey(k);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* ---- hashes, keyed hashes and signatures beside a card ---- */

/* SHA-256 of "abc" (FIPS 180-2, appendix B.1). */
static const BYTE sha256_abc[32] = {
	0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
	0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
	0xf2, 0x00, 0x15, 0xad,
};

static const CK_MECHANISM_TYPE card_hmacs[] = {
	CKM_MD5_HMAC, CKM_SHA_1_HMAC, CKM_SHA256_HMAC, CKM_SHA384_HMAC, CKM_SHA512_HMAC,
};

/* A card without SHA-256: the digest runs on the companion, and the card
 * sees no digest call. */
static void test_digest_on_companion(void)
{
	HCRYPTPROV h;
	HCRYPTHASH hh = 0;
	BYTE value[32];
	DWORD n = sizeof value;
	unsigned long digests;

	card_begin();
	set_mechanism(CKM_SHA256, P11SHIM_MECH_HIDDEN);
	h = acquire_as(uris[TOK_NODIGEST]);
	digests = shim->count("C_DigestInit");
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptHashData(hh, (const BYTE *)"abc", 3, 0));
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, value, &n, 0));
	CU_ASSERT(n == sizeof value && memcmp(value, sha256_abc, sizeof value) == 0);
	CU_ASSERT_EQUAL(shim->count("C_DigestInit"), digests);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* A card without HMAC: the key (CRYPT_IPSEC_HMAC_KEY) and its HMAC are
 * the companion's; RFC 2202's first HMAC-SHA-1 case. */
static void test_hmac_on_companion(void)
{
	static const BYTE want[20] = {
		0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b, 0xc0, 0xb6, 0xfb, 0x37,
		0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00,
	};
	HMAC_INFO info = { CALG_SHA1, NULL, 0, NULL, 0 };
	BYTE key[20], blob[12 + 20], value[20];
	HCRYPTPROV h;
	HCRYPTKEY k = 0;
	HCRYPTHASH hh = 0;
	DWORD n;
	unsigned long made;

	card_begin();
	for (size_t i = 0; i < sizeof card_hmacs / sizeof *card_hmacs; i++)
		set_mechanism(card_hmacs[i], P11SHIM_MECH_HIDDEN);
	h = acquire_as(uris[TOK_NOHMAC]);
	made = creations();
	memset(key, 0x0b, sizeof key);
	n = testutil_plaintext_blob(blob, CALG_RC2, key, sizeof key);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, CRYPT_IPSEC_HMAC_KEY, &k));
	CU_ASSERT_EQUAL(creations(), made);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_HMAC, k, 0, &hh));
	CU_ASSERT_TRUE(CryptSetHashParam(hh, HP_HMAC_INFO, (const BYTE *)&info, 0));
	CU_ASSERT_TRUE(CryptHashData(hh, (const BYTE *)"Hi There", 8, 0));
	n = sizeof value;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, value, &n, 0));
	CU_ASSERT(n == sizeof want && memcmp(value, want, sizeof want) == 0);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* Keyed hashes of a companion session key run where it lives: CALG_MAC
 * of an AES key the card could not hold is openssl's last CBC block, and
 * CryptHashSessionKey digests it. */
static void test_mac_with_companion_key(void)
{
	static const BYTE key[16] = "0123456789abcdef";
	static const BYTE msg[40] = "forty bytes of data for a CBC-MAC check";
	BYTE blob[12 + 16], ct[48], value[32];
	HCRYPTPROV h;
	HCRYPTKEY k = 0;
	HCRYPTHASH hh = 0;
	DWORD n;

	card_begin();
	h = acquire_as(uris[TOK_CARD]);
	n = testutil_plaintext_blob(blob, CALG_AES_128, key, sizeof key);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, 0, &k));
	CU_ASSERT_TRUE_FATAL(testutil_openssl_enc_load("-aes-128-cbc", key, sizeof key, 16, msg,
						       sizeof msg, ct, sizeof ct));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_MAC, k, 0, &hh));
	CU_ASSERT_TRUE(CryptHashData(hh, msg, sizeof msg, 0));
	n = sizeof value;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, value, &n, 0));
	CU_ASSERT(n == 16 && memcmp(value, ct + sizeof ct - 16, 16) == 0);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	/* The key digested inside the token that holds it: SHA-256 of its
	 * 16 bytes as stored (CRYPT_LITTLE_ENDIAN), which openssl gives too. */
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptHashSessionKey(hh, k, CRYPT_LITTLE_ENDIAN));
	n = sizeof value;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, value, &n, 0));
	{
		char *out = NULL, *hex = testutil_hex_new(value, 32);
		const char *path = testutil_temp_write("mackey", key, sizeof key);
		int st = -1;

		out = fixture_capture(&st, "%s dgst -sha256 -r %s", OPENSSL_BIN, path);
		CU_ASSERT(st == 0 && out != NULL && strncmp(out, hex, 64) == 0);
		free(out);
		free(hex);
		free((void *)path);
	}
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

/* A card that verifies nothing (the shim's P11SHIM_CARD_NO_PUBLIC_OPS):
 * its key signs on the card and the signature is verified with its public
 * key on the companion; a flipped bit is NTE_BAD_SIGNATURE. */
static void test_verify_on_companion(void)
{
	HCRYPTPROV h;
	HCRYPTKEY rsa;
	HCRYPTHASH hh = 0;
	BYTE sig[128];
	DWORD n = sizeof sig;

	card_begin();
	set_profile(P11SHIM_CARD_NO_PUBLIC_OPS);
	h = acquire_as(uris[TOK_NOVERIFY]);
	rsa = card_rsa(h);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptHashData(hh, (const BYTE *)"abc", 3, 0));
	CU_ASSERT_TRUE_FATAL(CryptSignHashA(hh, AT_KEYEXCHANGE, NULL, 0, sig, &n));
	CU_ASSERT_EQUAL(n, 128);
	CU_ASSERT_TRUE(CryptVerifySignatureA(hh, sig, n, rsa, NULL, 0));
	sig[5] ^= 1;
	CHECK_FAILS_WITH(CryptVerifySignatureA(hh, sig, n, rsa, NULL, 0), NTE_BAD_SIGNATURE);
	CU_ASSERT_EQUAL(shim->count("C_VerifyInit"), 0);
	set_profile(0);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	card_end();
}

static CU_TestInfo route_tests[] = {
	{ "CryptGenKey on the companion", test_genkey_on_companion },
	{ "CryptGenKey: a refused template changes no route", test_genkey_refused_template },
	{ "PLAINTEXTKEYBLOB on the companion", test_plaintext_import_on_companion },
	{ "C_CreateObject refused: companion", test_create_refused },
	{ "PLAINTEXTKEYBLOB: a refused value changes no route", test_plaintext_refused_value },
	{ "PUBLICKEYBLOB: a refused value changes no route", test_public_refused_value },
	{ "SYMMETRICWRAPKEYBLOB, OPAQUEKEYBLOB on the companion", test_symwrap_on_companion },
	{ "SIMPLEBLOB import by C_Decrypt", test_simple_import_decrypt },
	{ "SIMPLEBLOB: a bad first blob changes no route", test_simple_bad_first_blob },
	{ "SIMPLEBLOB export under the card key", test_simple_export_under_card_key },
	{ "RSA CryptEncrypt on the companion", test_rsa_encrypt_on_companion },
	{ "PUBLICKEYBLOB on the companion", test_public_blob_on_companion },
	{ "PUBLICKEYBLOB from the certificate", test_public_blob_from_certificate },
	{ "PUBLICKEYBLOB: not from another key's certificate",
	  test_public_blob_foreign_certificate },
	{ "CryptGenRandom on the companion", test_random_on_companion },
	{ "threads", test_threads },
	{ "fork", test_fork },
	{ "digest on the companion", test_digest_on_companion },
	{ "HMAC key and HMAC on the companion", test_hmac_on_companion },
	{ "CALG_MAC and CryptHashSessionKey of a companion key", test_mac_with_companion_key },
	{ "CryptVerifySignature on the companion", test_verify_on_companion },
	CU_TEST_INFO_NULL
};

static CU_TestInfo config_tests[] = {
	{ "companion = none", test_companion_none },
	{ "PP_ENUMALGS_EX counts the companion", test_enum_algs },
	{ "companion = pkcs11 URI", test_companion_uri },
	{ "a companion key on another context's token", test_companion_key_on_other_main },
	{ "SIMPLEBLOB by C_Decrypt: no padding oracle", test_simple_decrypt_no_oracle },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "routes", NULL, NULL, NULL, NULL, route_tests },
	{ "configuration", NULL, NULL, NULL, NULL, config_tests },
	CU_SUITE_INFO_NULL
};

/* Named providers for the two card tokens whose companion is configured. */
static bool write_conf(void)
{
	char *companion = fixture_token_uri(labels[TOK_COMP]);
	char *text = NULL, *path = NULL;
	int len;

	if (companion == NULL)
		return false;
	len = asprintf(&text,
		       "[provider \"card-none\"]\nuri = %s\ncompanion = none\n\n"
		       "[provider \"card-uri\"]\nuri = %s\ncompanion = %s\n",
		       uris[TOK_NONE], uris[TOK_URI], companion);
	if (len > 0)
		path = fixture_write_file("companion.conf", text, (size_t)len);
	if (path != NULL)
		setenv("CAPI11_CONF", path, 1);
	free(text);
	free(companion);
	free(path);
	return path != NULL;
}

int main(void)
{
	static const char *const prefixes[TOK_COUNT] = {
		"comp-card", "comp-none", "comp-uri", "comp-soft", "comp-create", "comp-partner",
		"comp-nodigest", "comp-nohmac", "comp-noverify",
		"comp-unwraps", "comp-generates", "comp-creates",
	};
	void *mod;
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	/* The default companion is NSS's softokn: without it (configure found
	 * none) the routes have nothing to run on. */
	if (CAPI11_SOFTOKN_PATH[0] == '\0') {
		fprintf(stderr, "NSS softokn not found at configure time: install libnss3\n");
		return CUTEST_SKIP;
	}
	shim = fixture_shim();
	mod = fixture_shim_path() ? dlopen(fixture_shim_path(), RTLD_NOW | RTLD_LOCAL) : NULL;
	if (shim == NULL || mod == NULL) {
		fprintf(stderr, "the p11shim module was not built\n");
		return FIXTURE_HARD_ERROR;
	}
	*(void **)&set_mechanism = dlsym(mod, "p11shim_set_mechanism");
	*(void **)&set_attribute = dlsym(mod, "p11shim_set_attribute");
	*(void **)&set_profile = dlsym(mod, "p11shim_set_profile");
	if (set_mechanism == NULL || set_attribute == NULL || set_profile == NULL)
		return FIXTURE_HARD_ERROR;
	for (int i = 0; i < TOK_COUNT; i++) {
		labels[i] = fixture_token_make(prefixes[i]);
		uris[i] = labels[i] ? fixture_token_uri_shim(labels[i], true) : NULL;
		if (uris[i] == NULL)
			return FIXTURE_HARD_ERROR;
	}
	if (!write_conf())
		return FIXTURE_HARD_ERROR;
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	for (int i = 0; i < TOK_COUNT; i++) {
		free(uris[i]);
		free(labels[i]);
	}
	return rc;
}
