/* CryptExportKey and CryptImportKey against a throwaway SoftHSM token:
 * PUBLICKEYBLOB, PRIVATEKEYBLOB, PLAINTEXTKEYBLOB and SIMPLEBLOB both ways (SPEC
 * sections 4 and 5). Expected blobs and numbers come from openssl (the
 * vectors, its MSBLOB reader) and from pkcs11-tool reading the token on
 * its own; layouts from Microsoft's "Base Provider Key BLOBs". */
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *label;   /* the one token; every test uses its own containers */
static char *uri;

/* ---- helpers ---- */

static HCRYPTPROV open_container(const char *name)
{
	HCRYPTPROV h = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, name, uri, PROV_RSA_FULL, CRYPT_NEWKEYSET));
	return h;
}

static HCRYPTPROV open_verify(void)
{
	HCRYPTPROV h = 0;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_FULL, CRYPT_VERIFYCONTEXT));
	return h;
}

/* "Modulus=HEX" as openssl prints it, without the newline; malloc'd. */
static char *modulus_line(char *out)
{
	char *nl;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	CU_ASSERT_EQUAL(strncmp(out, "Modulus=", 8), 0);
	return out;
}

/* The modulus of an MSBLOB as openssl reads it. */
static char *openssl_blob_modulus(const BYTE *blob, DWORD len, bool public)
{
	char *path = testutil_temp_write("blob", blob, len);
	int st = -1;
	char *out = fixture_capture(&st, "%s rsa %s -inform MSBLOB -noout -modulus -in %s",
				    OPENSSL_BIN, public ? "-pubin" : "", path);

	CU_ASSERT_EQUAL(st, 0);
	free(path);
	return modulus_line(out);
}

/* The modulus of the public key labelled name, read from the token by
 * pkcs11-tool and decoded by openssl. */
static char *token_pubkey_modulus(const char *name)
{
	static int n;
	char file[64], *path, *q_name, *out;
	int st;

	snprintf(file, sizeof file, "%s/pub-%d.der", fixture_dir(), n++);
	path = fixture_quote(file);
	q_name = fixture_quote(name);
	st = fixture_pkcs11_tool(label, true, NULL, "--read-object --type pubkey --label %s -o %s",
				 q_name, path);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	out = fixture_capture(&st, "%s rsa -pubin -inform DER -noout -modulus -in %s",
			      OPENSSL_BIN, path);
	CU_ASSERT_EQUAL(st, 0);
	free(q_name);
	free(path);
	return modulus_line(out);
}

static const BYTE *blob_modulus_le(const BYTE *blob)
{
	return blob + 20;
}

/* ---- PUBLICKEYBLOB export ---- */

static void check_rsa_public_header(const BYTE *b, DWORD len, ALG_ID alg, DWORD bits)
{
	CU_ASSERT_EQUAL(len, 20 + bits / 8);
	CU_ASSERT_EQUAL(b[0], PUBLICKEYBLOB);
	CU_ASSERT_EQUAL(b[1], 2);
	CU_ASSERT_EQUAL(b[2], 0);
	CU_ASSERT_EQUAL(b[3], 0);
	CU_ASSERT_EQUAL(testutil_le32(b + 4), alg);
	CU_ASSERT_EQUAL(memcmp(b + 8, "RSA1", 4), 0);
	CU_ASSERT_EQUAL(testutil_le32(b + 12), bits);
	CU_ASSERT_EQUAL(testutil_le32(b + 16), 65537);
}

static void test_export_public(void)
{
	HCRYPTPROV h = open_container("pubx");
	HCRYPTKEY k, user;
	BYTE *blob, *again, small[16];
	DWORD len, len2, need;
	char *m_blob, *m_token;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16, &k));
	blob = testutil_blob_export(k, 0, PUBLICKEYBLOB, 0, &len);
	check_rsa_public_header(blob, len, CALG_RSA_KEYX, 1024);
	/* The modulus openssl reads from the blob is the token's. */
	m_blob = openssl_blob_modulus(blob, len, true);
	m_token = token_pubkey_modulus("pubx");
	CU_ASSERT_STRING_EQUAL(m_blob, m_token);

	/* The container's key, found again, exports the same blob. */
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &user));
	again = testutil_blob_export(user, 0, PUBLICKEYBLOB, 0, &len2);
	CU_ASSERT_EQUAL(len2, len);
	CU_ASSERT_EQUAL(memcmp(again, blob, len), 0);

	/* Buffer rules: too small stores the size and fails. */
	need = sizeof small;
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PUBLICKEYBLOB, 0, small, &need), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(need, len);
	/* CRYPT_OAEP does not apply to PUBLICKEYBLOB: ignored. */
	len2 = len;
	CU_ASSERT_TRUE(CryptExportKey(k, 0, PUBLICKEYBLOB, CRYPT_OAEP, again, &len2));
	CU_ASSERT_EQUAL(memcmp(again, blob, len), 0);

	free(again);
	free(blob);
	free(m_blob);
	free(m_token);
	CU_ASSERT_TRUE(CryptDestroyKey(user));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static void test_export_public_signature(void)
{
	HCRYPTPROV h = open_container("pubsig");
	HCRYPTKEY k;
	BYTE *blob;
	DWORD len;
	char *m_blob, *m_token;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k));
	blob = testutil_blob_export(k, 0, PUBLICKEYBLOB, 0, &len);
	check_rsa_public_header(blob, len, CALG_RSA_SIGN, 512);
	m_blob = openssl_blob_modulus(blob, len, true);
	m_token = token_pubkey_modulus("pubsig");
	CU_ASSERT_STRING_EQUAL(m_blob, m_token);
	free(blob);
	free(m_blob);
	free(m_token);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static void test_export_errors(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTKEY rsa, aes;
	BYTE buf[1024];
	DWORD len = sizeof buf;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, (512 << 16) | CRYPT_EXPORTABLE, &rsa));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, CRYPT_EXPORTABLE, &aes));

	/* Handles and pointers: what advapi32 checks before the provider. */
	CHECK_FAILS_WITH(CryptExportKey(rsa, 0, PUBLICKEYBLOB, 0, buf, NULL), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptExportKey(0, 0, PUBLICKEYBLOB, 0, buf, &len), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptExportKey(0x4242, 0, PUBLICKEYBLOB, 0, buf, &len),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptExportKey(rsa, 0x4242, PUBLICKEYBLOB, 0, buf, &len),
			 ERROR_INVALID_PARAMETER);
	/* A context handle is not a key handle. */
	CHECK_FAILS_WITH(CryptExportKey((HCRYPTKEY)h, 0, PUBLICKEYBLOB, 0, buf, &len),
			 ERROR_INVALID_PARAMETER);

	/* A session key has no public form; a public key takes no hExpKey. */
	CHECK_FAILS_WITH(CryptExportKey(aes, 0, PUBLICKEYBLOB, 0, buf, &len), NTE_BAD_KEY);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(rsa, aes, PUBLICKEYBLOB, 0, buf, &len), NTE_BAD_KEY);
	/* No plaintext form for a key pair, no private form for a session key. */
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(rsa, 0, PLAINTEXTKEYBLOB, 0, buf, &len), NTE_BAD_KEY);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(aes, 0, PRIVATEKEYBLOB, 0, buf, &len), NTE_BAD_KEY);

	/* Unknown blob types. */
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(rsa, 0, 0, 0, buf, &len), NTE_BAD_TYPE);
	CHECK_FAILS_WITH(CryptExportKey(rsa, 0, 0x42, 0, buf, &len), NTE_BAD_TYPE);
	/* Flags: bits outside the five documented ones; SSL2 fallback is for
	 * CALG_SSL2_MASTER keys only. */
	CHECK_FAILS_WITH(CryptExportKey(rsa, 0, PUBLICKEYBLOB, 0x100, buf, &len), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptExportKey(rsa, 0, PUBLICKEYBLOB, 0x80000000, NULL, &len),
			 NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptExportKey(rsa, 0, PUBLICKEYBLOB, CRYPT_SSL2_FALLBACK, buf, &len),
			 NTE_BAD_KEY);

	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptDestroyKey(rsa));
	/* A key of a released context is a dead handle. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, CRYPT_EXPORTABLE, &aes));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(aes, 0, PLAINTEXTKEYBLOB, 0, buf, &len),
			 ERROR_INVALID_PARAMETER);
}

/* ---- PRIVATEKEYBLOB export ---- */

static void test_export_private(void)
{
	HCRYPTPROV h = open_container("privx");
	HCRYPTKEY k;
	BYTE *priv, *pub;
	DWORD len, plen;
	char *path, *out, *m_priv, *m_pub, *m_token;
	int st = -1;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, (1024 << 16) | CRYPT_EXPORTABLE, &k));
	priv = testutil_blob_export(k, 0, PRIVATEKEYBLOB, 0, &len);
	/* 20 + 2k + 5h with k = 128, h = 64 (Microsoft's layout). */
	CU_ASSERT_EQUAL(len, 20 + 2 * 128 + 5 * 64);
	CU_ASSERT_EQUAL(priv[0], PRIVATEKEYBLOB);
	CU_ASSERT_EQUAL(priv[1], 2);
	CU_ASSERT_EQUAL(testutil_le32(priv + 4), CALG_RSA_KEYX);
	CU_ASSERT_EQUAL(memcmp(priv + 8, "RSA2", 4), 0);
	CU_ASSERT_EQUAL(testutil_le32(priv + 12), 1024);

	/* openssl finds a consistent RSA key in it... */
	path = testutil_temp_write("blob", priv, len);
	out = fixture_capture(&st, "%s rsa -inform MSBLOB -check -noout -in %s", OPENSSL_BIN, path);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(out);
	CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, "RSA key ok") : NULL);
	free(out);
	free(path);
	/* ...with the token's modulus. */
	m_priv = openssl_blob_modulus(priv, len, false);
	m_token = token_pubkey_modulus("privx");
	CU_ASSERT_STRING_EQUAL(m_priv, m_token);
	pub = testutil_blob_export(k, 0, PUBLICKEYBLOB, 0, &plen);
	m_pub = openssl_blob_modulus(pub, plen, true);
	CU_ASSERT_STRING_EQUAL(m_pub, m_token);
	/* The modulus field is the same bytes in both blobs. */
	CU_ASSERT_EQUAL(memcmp(blob_modulus_le(priv), blob_modulus_le(pub), 128), 0);

	free(priv);
	free(pub);
	free(m_priv);
	free(m_pub);
	free(m_token);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static void test_export_not_exportable(void)
{
	HCRYPTPROV h = open_container("noexp");
	HCRYPTKEY k, aes;
	BYTE buf[2048];
	DWORD len = sizeof buf;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, 0, &aes));
	/* Windows says so even to a size query. */
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, buf, &len), NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(aes, 0, PLAINTEXTKEYBLOB, 0, buf, &len), NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(aes, 0, PLAINTEXTKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	/* The public half of a non-exportable pair is always available. */
	len = sizeof buf;
	CU_ASSERT_TRUE(CryptExportKey(k, 0, PUBLICKEYBLOB, 0, buf, &len));
	CU_ASSERT_EQUAL(len, 20 + 64);
	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- PLAINTEXTKEYBLOB ---- */

static void test_plaintext_roundtrip(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTKEY k, locked, gen;
	DWORD key_len, blob_len, len, alg = 0, alg_len = sizeof alg;
	BYTE *key = testutil_vector_read("aes128.key", &key_len);
	BYTE blob[64], *out;

	CU_ASSERT_EQUAL_FATAL(key_len, 16);
	blob_len = testutil_plaintext_blob(blob, CALG_AES_128, key, key_len);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, blob_len, 0, CRYPT_EXPORTABLE, &k));
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_ALGID, (BYTE *)&alg, &alg_len, 0));
	CU_ASSERT_EQUAL(alg, CALG_AES_128);
	out = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, blob_len);
	CU_ASSERT_EQUAL(memcmp(out, blob, blob_len), 0);
	free(out);

	/* Imported without CRYPT_EXPORTABLE, it stays in the token. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, blob_len, 0, 0, &locked));
	len = sizeof blob;
	CHECK_FAILS_WITH(CryptExportKey(locked, 0, PLAINTEXTKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);

	/* A generated exportable AES-256 key: 12 + 32 bytes. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_EXPORTABLE, &gen));
	out = testutil_blob_export(gen, 0, PLAINTEXTKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, 12 + 32);
	CU_ASSERT_EQUAL(out[0], PLAINTEXTKEYBLOB);
	CU_ASSERT_EQUAL(testutil_le32(out + 4), CALG_AES_256);
	CU_ASSERT_EQUAL(testutil_le32(out + 8), 32);
	free(out);

	CU_ASSERT_TRUE(CryptDestroyKey(gen));
	CU_ASSERT_TRUE(CryptDestroyKey(locked));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(key);
}

static void test_plaintext_3des(void)
{
	static const BYTE key24[24] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98,
		0x76, 0x54, 0x32, 0x10, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67,
	};
	HCRYPTPROV h = open_verify();
	HCRYPTKEY k;
	BYTE blob[64], *out;
	DWORD blob_len, len;

	blob_len = testutil_plaintext_blob(blob, CALG_3DES, key24, sizeof key24);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, blob_len, 0, CRYPT_EXPORTABLE, &k));
	out = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, blob_len);
	CU_ASSERT_EQUAL(memcmp(out, blob, blob_len), 0);
	free(out);
	CU_ASSERT_TRUE(CryptDestroyKey(k));

	/* A key length the algorithm does not have: NTE_BAD_FLAGS for the DES
	 * family, NTE_BAD_DATA for the others (SPEC section 5). */
	blob_len = testutil_plaintext_blob(blob, CALG_3DES, key24, 16);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, blob_len, 0, 0, &k), NTE_BAD_FLAGS);
	blob_len = testutil_plaintext_blob(blob, CALG_AES_128, key24, 15);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, blob_len, 0, 0, &k), NTE_BAD_DATA);
	/* An ALG_ID that is no session key. */
	blob_len = testutil_plaintext_blob(blob, CALG_RSA_KEYX, key24, 16);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, blob_len, 0, 0, &k), NTE_BAD_ALGID);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- PRIVATEKEYBLOB and PUBLICKEYBLOB import ---- */

static void test_import_private_roundtrip(void)
{
	HCRYPTPROV h = open_container("impx");
	HCRYPTKEY k, user;
	DWORD priv_len, pub_len, len;
	BYTE *priv = testutil_vector_read("rsa1024-priv.blob", &priv_len);
	BYTE *pub = testutil_vector_read("rsa1024-pub.blob", &pub_len);
	BYTE *out;
	char *m_file, *m_token;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, CRYPT_EXPORTABLE, &k));
	/* Byte for byte what openssl wrote. */
	out = testutil_blob_export(k, 0, PRIVATEKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, priv_len);
	CU_ASSERT_EQUAL(memcmp(out, priv, priv_len), 0);
	free(out);
	out = testutil_blob_export(k, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, pub_len);
	CU_ASSERT_EQUAL(memcmp(out, pub, pub_len), 0);
	free(out);

	/* On the token, in the container, as its exchange key. */
	CU_ASSERT_EQUAL(testutil_token_count(label, "privkey", "impx"), 1);
	CU_ASSERT_EQUAL(testutil_token_count(label, "pubkey", "impx"), 1);
	m_file = openssl_blob_modulus(pub, pub_len, true);
	m_token = token_pubkey_modulus("impx");
	CU_ASSERT_STRING_EQUAL(m_file, m_token);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &user));
	out = testutil_blob_export(user, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, pub_len);
	CU_ASSERT_EQUAL(memcmp(out, pub, pub_len), 0);
	free(out);
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_SIGNATURE, &k), NTE_NO_KEY);

	CU_ASSERT_TRUE(CryptDestroyKey(user));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* Token objects outlive the context. */
	CU_ASSERT_EQUAL(testutil_token_count(label, "privkey", "impx"), 1);
	free(m_file);
	free(m_token);
	free(priv);
	free(pub);
}

static void test_import_private_slots(void)
{
	HCRYPTPROV h = open_container("slots");
	HCRYPTKEY k, user;
	DWORD p1024_len, p512_len, pub512_len, pub1024_len, len, alg = 0, alg_len = sizeof alg;
	BYTE *p1024 = testutil_vector_read("rsa1024-priv.blob", &p1024_len);
	BYTE *p512 = testutil_vector_read("rsa512-priv.blob", &p512_len);
	BYTE *pub512 = testutil_vector_read("rsa512-pub.blob", &pub512_len);
	BYTE *pub1024 = testutil_vector_read("rsa1024-pub.blob", &pub1024_len);
	BYTE *out;

	/* aiKeyAlg CALG_RSA_SIGN (BLOBHEADER bytes 4-7) puts it in the
	 * signature slot. */
	p1024[4] = CALG_RSA_SIGN & 0xff;
	p1024[5] = (CALG_RSA_SIGN >> 8) & 0xff;
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, p1024, p1024_len, 0, 0, &k));
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_ALGID, (BYTE *)&alg, &alg_len, 0));
	CU_ASSERT_EQUAL(alg, CALG_RSA_SIGN);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_KEYEXCHANGE, &user), NTE_NO_KEY);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &user));
	out = testutil_blob_export(user, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, pub1024_len);
	CU_ASSERT_EQUAL(testutil_le32(out + 4), CALG_RSA_SIGN);
	CU_ASSERT_EQUAL(memcmp(out + 8, pub1024 + 8, pub1024_len - 8), 0);
	free(out);
	/* Not exportable without CRYPT_EXPORTABLE, even for a size query. */
	len = 0;
	CHECK_FAILS_WITH(CryptExportKey(user, 0, PRIVATEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyKey(user));

	/* An exchange key beside it, then a second one that replaces it. */
	p1024[4] = CALG_RSA_KEYX & 0xff;
	p1024[5] = (CALG_RSA_KEYX >> 8) & 0xff;
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, p1024, p1024_len, 0, 0, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_EQUAL(testutil_token_count(label, "privkey", "slots"), 2);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, p512, p512_len, 0, 0, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_EQUAL(testutil_token_count(label, "privkey", "slots"), 2);
	CU_ASSERT_EQUAL(testutil_token_count(label, "pubkey", "slots"), 2);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &user));
	out = testutil_blob_export(user, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, pub512_len);
	CU_ASSERT_EQUAL(memcmp(out, pub512, pub512_len), 0);
	free(out);
	CU_ASSERT_TRUE(CryptDestroyKey(user));
	/* The signature key is untouched. */
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &user));
	out = testutil_blob_export(user, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, pub1024_len);
	free(out);
	CU_ASSERT_TRUE(CryptDestroyKey(user));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(p1024);
	free(p512);
	free(pub512);
	free(pub1024);
}

static void test_import_private_verify(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTKEY k;
	DWORD priv_len, pub_len, len, before = testutil_token_count(label, "privkey", NULL);
	BYTE *priv = testutil_vector_read("rsa512-priv.blob", &priv_len);
	BYTE *pub = testutil_vector_read("rsa512-pub.blob", &pub_len);
	BYTE *out;

	/* A verify context's keys are session objects: nothing on the token. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, CRYPT_EXPORTABLE, &k));
	CU_ASSERT_EQUAL(testutil_token_count(label, "privkey", NULL), before);
	out = testutil_blob_export(k, 0, PRIVATEKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, priv_len);
	CU_ASSERT_EQUAL(memcmp(out, priv, priv_len), 0);
	free(out);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	/* As in rsaenh, the imported pair is the verify context's user key of
	 * the slot aiKeyAlg names (openssl writes CALG_RSA_KEYX); its public
	 * half is the public blob openssl made from the same key. */
	SetLastError(0xdeadbeef);
	CU_ASSERT_FALSE(CryptGetUserKey(h, AT_SIGNATURE, &k));
	CU_ASSERT_EQUAL(GetLastError(), NTE_NO_KEY);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	out = testutil_blob_export(k, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL_FATAL(len, pub_len);
	CU_ASSERT_EQUAL(memcmp(out, pub, pub_len), 0);
	free(out);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(priv);
	free(pub);
}

static void test_import_public(void)
{
	HCRYPTPROV h = open_container("impub");
	HCRYPTKEY k, mine, user;
	DWORD pub_len, len, mine_len, alg = 0, alg_len = sizeof alg;
	BYTE *pub = testutil_vector_read("rsa1024-pub.blob", &pub_len);
	BYTE *out, *mine_blob, buf[1024];
	int pubkeys;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 512 << 16, &mine));
	mine_blob = testutil_blob_export(mine, 0, PUBLICKEYBLOB, 0, &mine_len);
	pubkeys = testutil_token_count(label, "pubkey", NULL);

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &k));
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_ALGID, (BYTE *)&alg, &alg_len, 0));
	CU_ASSERT_EQUAL(alg, CALG_RSA_KEYX);
	out = testutil_blob_export(k, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, pub_len);
	CU_ASSERT_EQUAL(memcmp(out, pub, pub_len), 0);
	free(out);
	/* A public key has no private form. */
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, buf, &len), NTE_BAD_KEY_STATE);
	/* A session object: the token's objects and the container's key are
	 * what they were. */
	CU_ASSERT_EQUAL(testutil_token_count(label, "pubkey", NULL), pubkeys);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &user));
	out = testutil_blob_export(user, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(len, mine_len);
	CU_ASSERT_EQUAL(memcmp(out, mine_blob, mine_len), 0);
	free(out);

	CU_ASSERT_TRUE(CryptDestroyKey(user));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptDestroyKey(mine));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(mine_blob);
	free(pub);
}

/* ---- every object of the token, as the module shows it ---- */

/* SoftHSM's own module, the instance p11-kit loaded for capi11: a session
 * of it sees capi11's session objects too (they are visible to every
 * session of the application), which pkcs11-tool, another process, never
 * does. So a failed import that left a session key behind shows here. */
static CK_FUNCTION_LIST *p11;
static CK_SESSION_HANDLE p11_session = CK_INVALID_HANDLE;

static void p11_open(void)
{
	if (p11_session != CK_INVALID_HANDLE)
		return;
	p11 = testutil_softhsm();
	p11_session = testutil_softhsm_session(label, false, true);
}

static void p11_close(void)
{
	if (p11_session != CK_INVALID_HANDLE)
		p11->C_CloseSession(p11_session);
	p11_session = CK_INVALID_HANDLE;
}

/* How many objects the token holds now, session objects included. */
static CK_ULONG p11_count(void)
{
	CK_OBJECT_HANDLE objs[512];
	CK_ULONG n = 0;

	p11_open();
	CU_ASSERT_EQUAL_FATAL(p11->C_FindObjectsInit(p11_session, NULL, 0), CKR_OK);
	CU_ASSERT_EQUAL(p11->C_FindObjects(p11_session, objs, 512, &n), CKR_OK);
	CU_ASSERT_EQUAL(p11->C_FindObjectsFinal(p11_session), CKR_OK);
	CU_ASSERT_FATAL(n < 512);
	return n;
}

/* ---- bad blobs ---- */

static void test_import_bad_arguments(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTKEY k = 0;
	DWORD pub_len;
	BYTE *pub = testutil_vector_read("rsa512-pub.blob", &pub_len);

	CHECK_FAILS_WITH(CryptImportKey(h, NULL, pub_len, 0, 0, &k), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptImportKey(h, pub, 0, 0, 0, &k), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptImportKey(h, pub, pub_len, 0, 0, NULL), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptImportKey(0, pub, pub_len, 0, 0, &k), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptImportKey(0x4242, pub, pub_len, 0, 0, &k), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptImportKey(h, pub, pub_len, 0x4242, 0, &k), ERROR_INVALID_PARAMETER);
	/* The pointer checks come before the blob is looked at. */
	CHECK_FAILS_WITH(CryptImportKey(h, (const BYTE *)"", 0, 0, 0, &k), ERROR_INVALID_PARAMETER);
	/* CRYPT_IPSEC_HMAC_KEY belongs to PLAINTEXTKEYBLOB only. */
	CHECK_FAILS_WITH(CryptImportKey(h, pub, pub_len, 0, CRYPT_IPSEC_HMAC_KEY, &k),
			 NTE_BAD_FLAGS);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(pub);
}

static void test_import_bad_blobs(void)
{
	HCRYPTPROV h = open_container("badblob");
	HCRYPTKEY k = 0;
	DWORD priv_len, pub_len;
	BYTE *priv = testutil_vector_read("rsa1024-priv.blob", &priv_len);
	BYTE *pub = testutil_vector_read("rsa1024-pub.blob", &pub_len);
	BYTE *b = malloc(priv_len);
	int objects = testutil_token_count(label, "privkey", NULL) +
		      testutil_token_count(label, "pubkey", NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* Shorter than a BLOBHEADER. */
	CHECK_FAILS_WITH(CryptImportKey(h, priv, 7, 0, 0, &k), NTE_BAD_DATA);
	/* bVersion 3 is for DSS/DH only; reserved must be 0. */
	memcpy(b, priv, priv_len);
	b[1] = 3;
	CHECK_FAILS_WITH(CryptImportKey(h, b, priv_len, 0, 0, &k), NTE_BAD_DATA);
	memcpy(b, priv, priv_len);
	b[2] = 1;
	CHECK_FAILS_WITH(CryptImportKey(h, b, priv_len, 0, 0, &k), NTE_BAD_DATA);
	/* Unknown bType. */
	memcpy(b, priv, priv_len);
	b[0] = 0x42;
	CHECK_FAILS_WITH(CryptImportKey(h, b, priv_len, 0, 0, &k), NTE_BAD_TYPE);
	/* PRIVATEKEYBLOB needs "RSA2", PUBLICKEYBLOB "RSA1". */
	memcpy(b, priv, priv_len);
	memcpy(b + 8, "RSA1", 4);
	CHECK_FAILS_WITH(CryptImportKey(h, b, priv_len, 0, 0, &k), NTE_BAD_DATA);
	memcpy(b, pub, pub_len);
	memcpy(b + 8, "RSA2", 4);
	CHECK_FAILS_WITH(CryptImportKey(h, b, pub_len, 0, 0, &k), NTE_BAD_DATA);
	/* Truncated: fewer bytes than bitlen needs (20 + k + 5h). */
	CHECK_FAILS_WITH(CryptImportKey(h, priv, 20 + 128 + 5 * 64 - 1, 0, 0, &k), NTE_BAD_DATA);
	CHECK_FAILS_WITH(CryptImportKey(h, pub, pub_len - 1, 0, 0, &k), NTE_BAD_DATA);
	/* Public exponent 1 (RSAPUBKEY.pubexp at offset 16). */
	memcpy(b, priv, priv_len);
	b[16] = 1;
	b[17] = b[18] = b[19] = 0;
	CHECK_FAILS_WITH(CryptImportKey(h, b, priv_len, 0, 0, &k), NTE_BAD_DATA);
	memcpy(b, pub, pub_len);
	b[16] = 1;
	b[17] = b[18] = b[19] = 0;
	CHECK_FAILS_WITH(CryptImportKey(h, b, pub_len, 0, 0, &k), NTE_BAD_DATA);
	/* bitlen not a multiple of 8. */
	memcpy(b, priv, priv_len);
	b[12] = 0x01;
	b[13] = 0x04;
	CHECK_FAILS_WITH(CryptImportKey(h, b, priv_len, 0, 0, &k), NTE_BAD_DATA);
	/* aiKeyAlg that is no RSA algorithm. */
	memcpy(b, priv, priv_len);
	b[4] = CALG_AES_128 & 0xff;
	b[5] = (CALG_AES_128 >> 8) & 0xff;
	CHECK_FAILS_WITH(CryptImportKey(h, b, priv_len, 0, 0, &k), NTE_BAD_ALGID);
	/* 384 bits: in Microsoft's range but below SoftHSM's 512. */
	memcpy(b, priv, priv_len);
	b[12] = 0x80;
	b[13] = 0x01;
	CHECK_FAILS_WITH(CryptImportKey(h, b, priv_len, 0, 0, &k), NTE_BAD_DATA);

	/* None of it reached the token, and the container has no key. */
	CU_ASSERT_EQUAL(testutil_token_count(label, "privkey", NULL) +
			testutil_token_count(label, "pubkey", NULL), objects);
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_KEYEXCHANGE, &k), NTE_NO_KEY);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(b);
	free(priv);
	free(pub);
}

/* ---- SIMPLEBLOB ---- */

/* The key bytes in a SIMPLEBLOB, decrypted by openssl with the vector's
 * private key: un-reverse the ciphertext (Microsoft's layout), then
 * pkeyutl -decrypt. */
static BYTE *openssl_simple_key(const BYTE *blob, DWORD len, bool oaep, DWORD *key_len)
{
	static int n;
	BYTE *ct = malloc(len);
	char *ct_path, out_path[4096], *out;
	DWORD i, ct_len = len - 12;
	int st = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	for (i = 0; i < ct_len; i++)
		ct[i] = blob[len - 1 - i];
	ct_path = testutil_temp_write("blob", ct, ct_len);
	snprintf(out_path, sizeof out_path, "%s/simple-key-%d.bin", fixture_dir(), n++);
	out = fixture_capture(&st, "%s pkeyutl -decrypt -inkey %s/vectors/rsa1024.pem -in %s "
			      "-out %s -pkeyopt rsa_padding_mode:%s", OPENSSL_BIN, TEST_SRCDIR,
			      ct_path, out_path, oaep ? "oaep" : "pkcs1");
	CU_ASSERT_EQUAL_FATAL(st, 0);
	free(out);
	free(ct_path);
	free(ct);
	return testutil_file_read(out_path, key_len);
}

static void test_simple_export(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTKEY pubk, aes, locked, rsa, sig;
	DWORD pub_len, len, plain_len, key_len, size = 0;
	BYTE *pub = testutil_vector_read("rsa1024-pub.blob", &pub_len);
	BYTE *blob, *plain, *key, buf[512];
	int oaep;

	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &pubk));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, CRYPT_EXPORTABLE, &aes));
	plain = testutil_blob_export(aes, 0, PLAINTEXTKEYBLOB, 0, &plain_len);
	CU_ASSERT_EQUAL_FATAL(plain_len, 12 + 16);
	for (oaep = 0; oaep < 2; oaep++) {
		blob = testutil_blob_export(aes, pubk, SIMPLEBLOB, oaep ? CRYPT_OAEP : 0, &len);
		/* BLOBHEADER, ALG_ID of the wrapping key, k ciphertext bytes. */
		CU_ASSERT_EQUAL(len, 12 + 128);
		CU_ASSERT_EQUAL(blob[0], SIMPLEBLOB);
		CU_ASSERT_EQUAL(blob[1], 2);
		CU_ASSERT_EQUAL(testutil_le32(blob + 4), CALG_AES_128);
		CU_ASSERT_EQUAL(testutil_le32(blob + 8), CALG_RSA_KEYX);
		key = openssl_simple_key(blob, len, oaep, &key_len);
		CU_ASSERT_EQUAL(key_len, 16);
		CU_ASSERT_EQUAL(memcmp(key, plain + 12, 16), 0);
		free(key);
		free(blob);
	}
	/* A size query does not wrap, but answers the same. */
	CU_ASSERT_TRUE(CryptExportKey(aes, pubk, SIMPLEBLOB, 0, NULL, &size));
	CU_ASSERT_EQUAL(size, 12 + 128);

	/* hExpKey must be an RSA public key (Windows: NTE_BAD_PUBLIC_KEY). */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &locked));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 512 << 16, &rsa));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &sig));
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(aes, 0, SIMPLEBLOB, 0, buf, &len), NTE_BAD_PUBLIC_KEY);
	CHECK_FAILS_WITH(CryptExportKey(aes, 0, SIMPLEBLOB, 0, NULL, &len), NTE_BAD_PUBLIC_KEY);
	CHECK_FAILS_WITH(CryptExportKey(aes, locked, SIMPLEBLOB, 0, buf, &len), NTE_BAD_PUBLIC_KEY);
	CHECK_FAILS_WITH(CryptExportKey(aes, sig, SIMPLEBLOB, 0, buf, &len), NTE_BAD_PUBLIC_KEY);
	/* A key pair is no session key; a non-exportable key stays. */
	CHECK_FAILS_WITH(CryptExportKey(rsa, pubk, SIMPLEBLOB, 0, buf, &len), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptExportKey(locked, pubk, SIMPLEBLOB, 0, buf, &len), NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(locked, pubk, SIMPLEBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);

	CU_ASSERT_TRUE(CryptDestroyKey(sig));
	CU_ASSERT_TRUE(CryptDestroyKey(rsa));
	CU_ASSERT_TRUE(CryptDestroyKey(locked));
	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptDestroyKey(pubk));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(plain);
	free(pub);
}

/* Programs ask for a SIMPLEBLOB's size before each export; capi11 keeps
 * the answer with the key and gives it again without the context lock
 * (src/export.c). Whatever is kept, every answer is the one the route
 * gives: per hExpKey, with or without CRYPT_OAEP, for a copy of the key,
 * and the errors of a destroyed hExpKey, a bad flag and a key moved away
 * by CRYPT_DESTROYKEY (NTE_BAD_KEY, wincrypt.h). */
static void test_simple_size_kept(void)
{
	HCRYPTPROV h = open_container("simpsize");
	HCRYPTKEY pubk, rsa, aes, dup, kek;
	DWORD pub_len, size, len, mode = CRYPT_MODE_ECB, op_len = 0;
	BYTE *pub = testutil_vector_read("rsa1024-pub.blob", &pub_len);
	BYTE *op;

	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &pubk));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 512 << 16, &rsa));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, CRYPT_EXPORTABLE, &aes));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &kek));

	/* BLOBHEADER, ALG_ID, then as many bytes as hExpKey's modulus. */
	for (int round = 0; round < 2; round++) {
		size = 0;
		CU_ASSERT_TRUE(CryptExportKey(aes, pubk, SIMPLEBLOB, 0, NULL, &size));
		CU_ASSERT_EQUAL(size, 12 + 128);
		size = 0;
		CU_ASSERT_TRUE(CryptExportKey(aes, rsa, SIMPLEBLOB, 0, NULL, &size));
		CU_ASSERT_EQUAL(size, 12 + 64);
		size = 0;
		CU_ASSERT_TRUE(CryptExportKey(aes, pubk, SIMPLEBLOB, CRYPT_OAEP, NULL, &size));
		CU_ASSERT_EQUAL(size, 12 + 128);
		CHECK_FAILS_WITH(CryptExportKey(aes, pubk, SIMPLEBLOB, CRYPT_OAEP | 0x80000000u, NULL,
						&len), NTE_BAD_FLAGS);
	}
	/* A parameter set in between changes nothing of the size. */
	CU_ASSERT_TRUE(CryptSetKeyParam(aes, KP_MODE, (const BYTE *)&mode, 0));
	size = 0;
	CU_ASSERT_TRUE(CryptExportKey(aes, pubk, SIMPLEBLOB, 0, NULL, &size));
	CU_ASSERT_EQUAL(size, 12 + 128);
	CU_ASSERT_TRUE_FATAL(CryptDuplicateKey(aes, NULL, 0, &dup));
	size = 0;
	CU_ASSERT_TRUE(CryptExportKey(dup, pubk, SIMPLEBLOB, 0, NULL, &size));
	CU_ASSERT_EQUAL(size, 12 + 128);

	/* hExpKey destroyed: its handle is no key any more. */
	CU_ASSERT_TRUE(CryptDestroyKey(rsa));
	CHECK_FAILS_WITH(CryptExportKey(aes, rsa, SIMPLEBLOB, 0, NULL, &len),
			 ERROR_INVALID_PARAMETER);

	/* Moved away: the key and its copy only await CryptDestroyKey. */
	op = testutil_blob_export(aes, kek, OPAQUEKEYBLOB, CRYPT_DESTROYKEY, &op_len);
	CU_ASSERT_PTR_NOT_NULL(op);
	CHECK_FAILS_WITH(CryptExportKey(aes, pubk, SIMPLEBLOB, 0, NULL, &len), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptExportKey(dup, pubk, SIMPLEBLOB, 0, NULL, &len), NTE_BAD_KEY);
	free(op);

	CU_ASSERT_TRUE(CryptDestroyKey(dup));
	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptDestroyKey(kek));
	CU_ASSERT_TRUE(CryptDestroyKey(pubk));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(pub);
}

static void test_simple_import(void)
{
	HCRYPTPROV h = open_container("simp");
	HCRYPTKEY kx, sig, pubk, aes, k = 0;
	DWORD priv_len, pub_len, simple_len, key_len, len;
	BYTE *priv = testutil_vector_read("rsa1024-priv.blob", &priv_len);
	BYTE *pub = testutil_vector_read("rsa1024-pub.blob", &pub_len);
	BYTE *simple = testutil_vector_read("rsa1024-simple.blob", &simple_len);
	BYTE *key = testutil_vector_read("aes128.key", &key_len);
	BYTE *b = malloc(simple_len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, 0, &kx));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &sig));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &pubk));

	/* openssl's SIMPLEBLOB of aes128.key, unwrapped by the exchange key.
	 * A key that arrives wrapped is sensitive whatever CRYPT_EXPORTABLE
	 * says (SPEC section 3): no plaintext, no CRYPT_EXPORT, not even to
	 * the exchange key it came under. Its value shows in what it
	 * encrypts. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, simple, simple_len, kx, CRYPT_EXPORTABLE, &aes));
	CHECK_FAILS_WITH(CryptExportKey(aes, 0, PLAINTEXTKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	{
		DWORD perm = 0, plen = sizeof perm;

		CU_ASSERT_TRUE(CryptGetKeyParam(aes, KP_PERMISSIONS, (BYTE *)&perm, &plen, 0));
		CU_ASSERT_EQUAL(perm & CRYPT_EXPORT, 0);
	}
	CU_ASSERT_EQUAL(key_len, 16);
	testutil_check_encrypts_as(aes, "-aes-128-cbc", key, 16, 16);
	CHECK_FAILS_WITH(CryptExportKey(aes, kx, SIMPLEBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);

	/* Round trip under the container's own exchange key, with OAEP, of
	 * the same value made exportable from a PLAINTEXTKEYBLOB. */
	{
		HCRYPTKEY plain, back;
		BYTE pb[12 + 16], *wrapped;

		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pb, testutil_plaintext_blob(pb, CALG_AES_128,
										key, 16),
						    0, CRYPT_EXPORTABLE, &plain));
		wrapped = testutil_blob_export(plain, kx, SIMPLEBLOB, CRYPT_OAEP, &len);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, wrapped, len, kx,
						    CRYPT_OAEP | CRYPT_EXPORTABLE, &back));
		CHECK_FAILS_WITH(CryptExportKey(back, 0, PLAINTEXTKEYBLOB, 0, NULL, &len),
				 NTE_BAD_KEY_STATE);
		testutil_check_encrypts_as(back, "-aes-128-cbc", key, 16, 16);
		/* Without CRYPT_OAEP the padding does not match. */
		CHECK_FAILS_WITH(CryptImportKey(h, wrapped, 12 + 128, kx, 0, &k), NTE_BAD_DATA);
		CU_ASSERT_TRUE(CryptDestroyKey(back));
		CU_ASSERT_TRUE(CryptDestroyKey(plain));
		free(wrapped);
	}

	/* hPubKey: only the container's exchange key, checked before the
	 * blob's length. */
	CHECK_FAILS_WITH(CryptImportKey(h, simple, 20, 0, 0, &k), NTE_BAD_PUBLIC_KEY);
	CHECK_FAILS_WITH(CryptImportKey(h, simple, simple_len, 0, 0, &k), NTE_BAD_PUBLIC_KEY);
	CHECK_FAILS_WITH(CryptImportKey(h, simple, 20, pubk, 0, &k), NTE_BAD_PUBLIC_KEY);
	CHECK_FAILS_WITH(CryptImportKey(h, simple, simple_len, sig, 0, &k), NTE_BAD_PUBLIC_KEY);
	CHECK_FAILS_WITH(CryptImportKey(h, simple, simple_len, aes, 0, &k), NTE_BAD_PUBLIC_KEY);
	/* Then the blob. */
	CHECK_FAILS_WITH(CryptImportKey(h, simple, simple_len - 1, kx, 0, &k), NTE_BAD_DATA);
	memcpy(b, simple, simple_len);
	b[20] ^= 0x55;
	CHECK_FAILS_WITH(CryptImportKey(h, b, simple_len, kx, 0, &k), NTE_BAD_DATA);
	/* PKCS#1 v1.5 padding read as OAEP. */
	CHECK_FAILS_WITH(CryptImportKey(h, simple, simple_len, kx, CRYPT_OAEP, &k), NTE_BAD_DATA);
	/* 16 key bytes are no AES-256 key. */
	memcpy(b, simple, simple_len);
	b[4] = CALG_AES_256 & 0xff;
	CHECK_FAILS_WITH(CryptImportKey(h, b, simple_len, kx, CRYPT_EXPORTABLE, &k), NTE_BAD_DATA);

	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptDestroyKey(pubk));
	CU_ASSERT_TRUE(CryptDestroyKey(sig));
	CU_ASSERT_TRUE(CryptDestroyKey(kx));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(b);
	free(key);
	free(simple);
	free(pub);
	free(priv);
}

/* A SIMPLEBLOB carries the key bytes its ALG_ID takes: the token unwraps
 * whatever the RSA ciphertext holds (SoftHSM takes an AES key of any
 * length, reports CKA_VALUE_LEN 0 and hides the value of a sensitive key),
 * so 16 bytes imported as AES-256 would run as AES-128. Every length but
 * the algorithm's is NTE_BAD_DATA, exportable or not, and leaves no object
 * behind. The blobs are made here: CryptEncrypt with the exchange key
 * gives the byte-reversed PKCS#1 ciphertext that a SIMPLEBLOB carries. */
static void test_simple_import_lengths(void)
{
	static const struct {
		ALG_ID alg;
		DWORD len;
	} algs[] = {
		{ CALG_AES_128, 16 }, { CALG_AES_192, 24 }, { CALG_AES_256, 32 },
		{ CALG_3DES, 24 }, { CALG_3DES_112, 16 },
	};
	static const DWORD payloads[] = { 0, 1, 5, 8, 15, 16, 17, 20, 24, 31, 32, 33, 40 };
	HCRYPTPROV h = open_container("simplen");
	HCRYPTKEY kx, k;
	BYTE blob[12 + 128];
	DWORD len, keylen = 0, size = sizeof keylen;
	CK_ULONG objects;
	size_t a, p;
	int exportable;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16, &kx));
	objects = p11_count();
	for (a = 0; a < sizeof algs / sizeof algs[0]; a++) {
		for (p = 0; p < sizeof payloads / sizeof payloads[0]; p++) {
			DWORD n = payloads[p];

			blob[0] = SIMPLEBLOB;
			blob[1] = CUR_BLOB_VERSION;
			blob[2] = blob[3] = 0;
			testutil_le32_put(blob + 4, algs[a].alg);
			testutil_le32_put(blob + 8, CALG_RSA_KEYX);
			memset(blob + 12, 0x5c, n);
			len = n;
			CU_ASSERT_TRUE_FATAL(CryptEncrypt(kx, 0, TRUE, 0, blob + 12, &len, 128));
			CU_ASSERT_EQUAL_FATAL(len, 128);
			for (exportable = 0; exportable <= 1; exportable++) {
				DWORD flags = exportable ? CRYPT_EXPORTABLE : 0;

				if (n != algs[a].len) {
					k = 0;
					CHECK_FAILS_WITH(CryptImportKey(h, blob, sizeof blob, kx, flags,
									&k), NTE_BAD_DATA);
					CU_ASSERT_EQUAL(k, 0);
					CU_ASSERT_EQUAL(p11_count(), objects);
					continue;
				}
				SetLastError(SENTINEL);
				CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, sizeof blob, kx, flags, &k));
				CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_KEYLEN, (BYTE *)&keylen, &size, 0));
				CU_ASSERT_EQUAL(keylen, algs[a].alg == CALG_3DES ? 192 : n * 8);
				CU_ASSERT_TRUE(CryptDestroyKey(k));
				CU_ASSERT_EQUAL(p11_count(), objects);
			}
		}
	}
	CU_ASSERT_TRUE(CryptDestroyKey(kx));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* PUBLICKEYBLOBs that are no RSA key: a modulus of zero, one, an even one
 * or one shorter than any key, a public exponent even or below 3. Encryption or a wrap under them
 * would hide nothing (a modulus of 1 makes every ciphertext 0), so they
 * are NTE_BAD_DATA at import, before anything reaches the token. */
static void test_import_public_degenerate(void)
{
	HCRYPTPROV h = open_verify();
	DWORD pub_len;
	BYTE *pub = testutil_vector_read("rsa512-pub.blob", &pub_len);
	BYTE *b = malloc(pub_len);
	HCRYPTKEY k;
	CK_ULONG objects;
	size_t i;
	static const DWORD bad_exps[] = { 2, 4, 0x10000, 0x10002, 0xfffffffe };

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(pub_len, 20 + 64);
	objects = p11_count();
	/* The vector itself imports. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_EQUAL(p11_count(), objects);

	/* Modulus 0. */
	memcpy(b, pub, pub_len);
	memset(b + 20, 0, 64);
	k = 0;
	CHECK_FAILS_WITH(CryptImportKey(h, b, pub_len, 0, 0, &k), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(k, 0);
	/* Modulus 1 (little-endian: the first byte is the lowest), and 3,
	 * shorter than any key. */
	b[20] = 1;
	CHECK_FAILS_WITH(CryptImportKey(h, b, pub_len, 0, 0, &k), NTE_BAD_DATA);
	b[20] = 3;
	CHECK_FAILS_WITH(CryptImportKey(h, b, pub_len, 0, 0, &k), NTE_BAD_DATA);
	/* An even modulus: the vector's with its lowest bit cleared. */
	memcpy(b, pub, pub_len);
	b[20] &= 0xfe;
	CHECK_FAILS_WITH(CryptImportKey(h, b, pub_len, 0, 0, &k), NTE_BAD_DATA);
	/* Even exponents, and 2, the one below 3 that is not 0 or 1. */
	for (i = 0; i < sizeof bad_exps / sizeof bad_exps[0]; i++) {
		memcpy(b, pub, pub_len);
		testutil_le32_put(b + 16, bad_exps[i]);
		CHECK_FAILS_WITH(CryptImportKey(h, b, pub_len, 0, 0, &k), NTE_BAD_DATA);
	}
	/* As before: 0 and 1. */
	testutil_le32_put(b + 16, 0);
	CHECK_FAILS_WITH(CryptImportKey(h, b, pub_len, 0, 0, &k), NTE_BAD_DATA);
	testutil_le32_put(b + 16, 1);
	CHECK_FAILS_WITH(CryptImportKey(h, b, pub_len, 0, 0, &k), NTE_BAD_DATA);
	/* 3 is the smallest exponent there is. */
	testutil_le32_put(b + 16, 3);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptImportKey(h, b, pub_len, 0, 0, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));

	CU_ASSERT_EQUAL(p11_count(), objects);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(b);
	free(pub);
}

static CU_TestInfo export_tests[] = {
	{ "PUBLICKEYBLOB of an exchange key", test_export_public },
	{ "PUBLICKEYBLOB of a signature key", test_export_public_signature },
	{ "export errors", test_export_errors },
	{ "PRIVATEKEYBLOB of an exportable key", test_export_private },
	{ "non-exportable keys", test_export_not_exportable },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo import_tests[] = {
	{ "PLAINTEXTKEYBLOB AES round trip", test_plaintext_roundtrip },
	{ "PLAINTEXTKEYBLOB 3DES and bad lengths", test_plaintext_3des },
	{ "PRIVATEKEYBLOB round trip", test_import_private_roundtrip },
	{ "PRIVATEKEYBLOB container slots", test_import_private_slots },
	{ "PRIVATEKEYBLOB in a verify context", test_import_private_verify },
	{ "PUBLICKEYBLOB import", test_import_public },
	{ "bad arguments", test_import_bad_arguments },
	{ "bad blobs", test_import_bad_blobs },
	{ "degenerate PUBLICKEYBLOBs", test_import_public_degenerate },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo simple_tests[] = {
	{ "SIMPLEBLOB export", test_simple_export },
	{ "SIMPLEBLOB size queries answered again", test_simple_size_kept },
	{ "SIMPLEBLOB import", test_simple_import },
	{ "SIMPLEBLOB key length must match aiKeyAlg", test_simple_import_lengths },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "CryptExportKey", NULL, NULL, NULL, NULL, export_tests },
	{ "CryptImportKey", NULL, NULL, NULL, NULL, import_tests },
	{ "SIMPLEBLOB", NULL, NULL, NULL, NULL, simple_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	setenv("CAPI11_CONF", "/dev/null", 1);
	/* SoftHSM reads its token directory once per process: the token is
	 * made before the first CryptoAPI call. */
	label = fixture_token_make("blobkeys");
	uri = fixture_token_uri(label);
	rc = cutest_run(suites);
	p11_close();
	fixture_cleanup(rc == 0);
	free(uri);
	free(label);
	return rc;
}
