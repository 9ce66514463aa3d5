/* Key protection by the token (SPEC section 3, issue "Key protection that
 * the token enforces"): every sequence by which a program got a sensitive
 * key out in plaintext under the old rule (a sensitive key left under any
 * CRYPT_KEK key, or under an RSA public key whose private half capi11
 * could not see; wrapped arrivals were sensitive only under a KEK) is run
 * here and must now fail with the Windows code SPEC gives, while the
 * routes the security officer opened (a trusted key-encryption key, a
 * trusted partner key, both made with Capi11TrustKeyA) work and carry the
 * right key, which openssl confirms. Ends with a sweep over every export
 * and import route between two providers on two tokens that looks for any
 * 8 bytes of the secret keys in everything capi11 hands back.
 *
 * Tokens: T1 and T2 (SoftHSM, each under a sensitive-policy and a plain
 * provider), and three reached through the test shim: one that refuses
 * CKA_WRAP_WITH_TRUSTED, one that takes and ignores it, one that
 * advertises CKM_AES_KEY_WRAP and refuses it at use. Expected codes are
 * written as numbers (winerror.h) where the public header could be wrong
 * with the code. */
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
#include <sys/wait.h>
#include <unistd.h>

#define V_NTE_BAD_KEY 0x80090003u
#define V_NTE_BAD_DATA 0x80090005u
#define V_NTE_BAD_ALGID 0x80090008u
#define V_NTE_BAD_FLAGS 0x80090009u
#define V_NTE_BAD_TYPE 0x8009000Au
#define V_NTE_BAD_KEY_STATE 0x8009000Bu
#define V_NTE_NO_KEY 0x8009000Du
#define V_NTE_PERM 0x80090010u
#define V_NTE_BAD_KEYSET 0x80090016u
#define V_NTE_BAD_PUBLIC_KEY 0x80090015u
#define V_NTE_NOT_SUPPORTED 0x80090029u
#define V_SCARD_E_SHARING_VIOLATION 0x8010000Bu
#define V_SCARD_W_WRONG_CHV 0x8010006Bu
#define V_ERROR_INVALID_PARAMETER 87u

#define TOOL TEST_BUILDDIR "/../capi11-tool"
#define BIG 4096

enum { T1, T2, T_REFUSE, T_STRIP, T_NOWRAP, N_TOKENS };
static char *labels[N_TOKENS];
/* Providers of capi11.conf: T1 and T2 under each policy, the shim tokens
 * under the sensitive one. */
static const char *const SENS1 = "sens1", *const PLAIN1 = "plain1";
static const char *const SENS2 = "sens2", *const PLAIN2 = "plain2";
static const char *const P_REFUSE = "refuse", *const P_STRIP = "strip";
static const char *const P_NOWRAP = "nowrap";

/* The operator's key-encryption key (the same on both tokens), a key the
 * caller knows, and the secret session key of the sweep. */
static const BYTE operator_kek[32] = {
	0x3c, 0x91, 0x0e, 0x6a, 0xd4, 0x27, 0xb8, 0x5f, 0x02, 0xe9, 0x73, 0x1b, 0xa6, 0x48, 0xcd, 0x90,
	0x5d, 0x16, 0xfa, 0x83, 0x2e, 0xb1, 0x47, 0x0c, 0x99, 0x64, 0xd2, 0x3b, 0x8e, 0x75, 0x1f, 0xc0,
};
static const BYTE caller_kek[32] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00,
	0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};
static const BYTE secret_key[32] = {
	0xa7, 0x3e, 0x51, 0xc8, 0x0b, 0x9d, 0x64, 0xf2, 0x1c, 0x87, 0xe5, 0x36, 0x4a, 0xbf, 0x08, 0xd1,
	0x72, 0xc4, 0x2b, 0x9e, 0x55, 0x03, 0xf8, 0x6d, 0xa1, 0x3f, 0xe6, 0x14, 0x89, 0xdb, 0x27, 0x5c,
};
static const BYTE des3_known[24] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98,
	0x76, 0x54, 0x32, 0x10, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67,
};

/* ---- helpers ---- */

static HCRYPTPROV acquire(const char *provider, const char *name, DWORD flags)
{
	HCRYPTPROV h = 0;

	SetLastError(SENTINEL);
	if (!CryptAcquireContextA(&h, name, provider, PROV_RSA_AES, flags))
		fprintf(stderr, "\n  acquire %s/%s: 0x%08x", provider, name ? name : "-",
			(unsigned)GetLastError());
	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	return h;
}

static HCRYPTKEY import_plain(HCRYPTPROV h, ALG_ID alg, const BYTE *key, DWORD len, DWORD flags)
{
	BYTE blob[12 + 32];
	DWORD n = testutil_plaintext_blob(blob, alg, key, len);
	HCRYPTKEY k = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, flags, &k));
	return k;
}

static HCRYPTKEY gen(HCRYPTPROV h, ALG_ID alg, DWORD flags)
{
	HCRYPTKEY k = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, alg, flags, &k));
	return k;
}

static BOOL trust(HCRYPTPROV h, const BYTE *blob, DWORD len)
{
	return Capi11TrustKeyA(h, blob, len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, NULL);
}

/* The security officer's step for a new container: the operator's KEK,
 * and a partner's PUBLICKEYBLOB when pub is not NULL. The step wants the
 * token to itself, so the container is let go again; open it with flags
 * 0 afterwards. */
static void make_trusted(const char *provider, const char *name, const BYTE *pub, DWORD pub_len)
{
	BYTE blob[12 + 32];
	DWORD len = testutil_plaintext_blob(blob, CALG_AES_256, operator_kek, 32);
	HCRYPTPROV h = acquire(provider, name, CRYPT_NEWKEYSET);

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(trust(h, blob, len));
	if (pub != NULL)
		CU_ASSERT_TRUE_FATAL(trust(h, pub, pub_len));
	CU_ASSERT_TRUE_FATAL(CryptReleaseContext(h, 0));
}

static HCRYPTKEY trusted_kek(HCRYPTPROV h)
{
	HCRYPTKEY k = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, CAPI11_AT_KEK, &k));
	return k;
}

static DWORD permissions(HCRYPTKEY k)
{
	DWORD p = 0, len = sizeof p;

	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_PERMISSIONS, (BYTE *)&p, &len, 0));
	return p;
}

static DWORD protection(HCRYPTPROV h)
{
	DWORD p = 0, len = sizeof p;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_CAPI11_KEY_PROTECTION, (BYTE *)&p, &len, 0));
	CU_ASSERT_EQUAL(len, 4);
	return p;
}

/* An export the token must refuse: NTE_BAD_KEY_STATE for the size query
 * and for the export, whose buffer and length stay as they were. */
static void check_refused(HCRYPTKEY k, HCRYPTKEY exp, DWORD type, DWORD flags)
{
	BYTE buf[BIG];
	DWORD len = 0, i;

	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptExportKey(k, exp, type, flags, NULL, &len));
	CU_ASSERT_EQUAL(GetLastError(), V_NTE_BAD_KEY_STATE);
	memset(buf, 0xa5, sizeof buf);
	len = sizeof buf;
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptExportKey(k, exp, type, flags, buf, &len));
	CU_ASSERT_EQUAL(GetLastError(), V_NTE_BAD_KEY_STATE);
	CU_ASSERT_EQUAL(len, sizeof buf);
	for (i = 0; i < sizeof buf && buf[i] == 0xa5; i++)
		;
	CU_ASSERT_EQUAL(i, sizeof buf);
}

/* CryptEncrypt(Final) of a fixed message gives the same bytes under both
 * keys: the same key value. */
static void check_same_encryption(HCRYPTKEY a, HCRYPTKEY b)
{
	static const BYTE msg[32] = "one value, two keys, same bytes";
	BYTE ca[64], cb[64];
	DWORD la = sizeof msg, lb = sizeof msg;

	memcpy(ca, msg, sizeof msg);
	memcpy(cb, msg, sizeof msg);
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(a, 0, TRUE, 0, ca, &la, sizeof ca));
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(b, 0, TRUE, 0, cb, &lb, sizeof cb));
	CU_ASSERT(la == 48 && la == lb && memcmp(ca, cb, la) == 0);
}

/* ---- openssl: a partner outside every token ---- */

/* A new 1024-bit RSA key by openssl: its PEM path, malloc'd. */
static char *openssl_rsa_new(void)
{
	char *pem = testutil_temp_path("partner");

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genrsa -out %s 1024", OPENSSL_BIN, pem), 0);
	return pem;
}

/* The key as openssl's MSBLOB: PUBLICKEYBLOB or PRIVATEKEYBLOB. */
static BYTE *openssl_msblob(const char *pem, bool public, DWORD *len)
{
	char *out = testutil_temp_path("msblob");
	BYTE *blob;

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s rsa -in %s %s -outform MSBLOB -out %s", OPENSSL_BIN,
					  pem, public ? "-pubout" : "", out), 0);
	blob = testutil_file_read(out, len);
	free(out);
	return blob;
}

/* The key bytes in a SIMPLEBLOB, by openssl with the private key. */
static BYTE *openssl_simple_key(const char *pem, const BYTE *simple, DWORD len, bool oaep,
				DWORD *key_len)
{
	BYTE ct[512];
	DWORD i, n = len - 12;
	char *ct_path, *out = testutil_temp_path("simple-key");
	BYTE *key;

	CU_ASSERT_FATAL(len > 12 && n <= sizeof ct);
	for (i = 0; i < n; i++)
		ct[i] = simple[len - 1 - i];
	ct_path = testutil_temp_write("simple-ct", ct, n);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkeyutl -decrypt -inkey %s -in %s -out %s "
					  "-pkeyopt rsa_padding_mode:%s", OPENSSL_BIN, pem, ct_path,
					  out, oaep ? "oaep" : "pkcs1"), 0);
	key = testutil_file_read(out, key_len);
	free(ct_path);
	free(out);
	return key;
}

/* openssl enc -d -aes-256-cbc with a zero IV: what capi11 encrypted with
 * CryptEncrypt's defaults, decrypted under the 32-byte key. */
static BYTE *openssl_aes256_decrypt(const BYTE *key, const BYTE *ct, DWORD ct_len, DWORD *len)
{
	char *k = testutil_hex_new(key, 32);
	char *in = testutil_temp_write("enc-ct", ct, ct_len), *out = testutil_temp_path("enc-pt");
	BYTE *pt;

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s enc -d -aes-256-cbc -K %s -iv "
					  "00000000000000000000000000000000 -in %s -out %s",
					  OPENSSL_BIN, k, in, out), 0);
	pt = testutil_file_read(out, len);
	free(k);
	free(in);
	free(out);
	return pt;
}

/* ---- SoftHSM seen directly, outside capi11 ---- */

static CK_FUNCTION_LIST *hsm;

/* A read-write session of SoftHSM's own module on the token, logged in
 * as the user; close it with hsm->C_CloseSession before a trust step. */
static CK_SESSION_HANDLE hsm_session(const char *label)
{
	hsm = testutil_softhsm();
	return testutil_softhsm_session(label, true, true);
}

/* The first object of the class with this label, or CK_INVALID_HANDLE. */
static CK_OBJECT_HANDLE hsm_find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG n = 0;

	CU_ASSERT_EQUAL_FATAL(hsm->C_FindObjectsInit(s, t, 2), CKR_OK);
	CU_ASSERT_EQUAL(hsm->C_FindObjects(s, &h, 1, &n), CKR_OK);
	CU_ASSERT_EQUAL(hsm->C_FindObjectsFinal(s), CKR_OK);
	return n == 1 ? h : CK_INVALID_HANDLE;
}

static CK_BBOOL hsm_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = { type, &v, sizeof v };

	CU_ASSERT_EQUAL(hsm->C_GetAttributeValue(s, h, &a, 1), CKR_OK);
	return v;
}

/* ---- (a) a key-encryption key the caller knows ---- */

static void test_caller_kek(void)
{
	HCRYPTPROV h = acquire(SENS1, "t-a", CRYPT_NEWKEYSET);
	HCRYPTKEY kek = import_plain(h, CALG_AES_256, caller_kek, 32, CRYPT_KEK);
	HCRYPTKEY s = gen(h, CALG_AES_256, CRYPT_EXPORTABLE);
	HCRYPTKEY rsa = gen(h, AT_KEYEXCHANGE, (1024u << 16) | CRYPT_EXPORTABLE);
	BYTE blob[12 + 32];
	DWORD blob_len = testutil_plaintext_blob(blob, CALG_AES_256, caller_kek, 32);
	char *kek_path = testutil_temp_write("caller-kek", blob, blob_len);
	char *out_path;
	DWORD out_len = 0;
	BYTE *out;
	int st;

	/* The session key and the RSA key, in either wrapped form, size
	 * query and export alike; CRYPT_DESTROYKEY changes nothing. */
	check_refused(s, kek, SYMMETRICWRAPKEYBLOB, 0);
	check_refused(s, kek, OPAQUEKEYBLOB, 0);
	check_refused(s, kek, OPAQUEKEYBLOB, CRYPT_DESTROYKEY);
	check_refused(rsa, kek, OPAQUEKEYBLOB, 0);
	check_refused(rsa, kek, OPAQUEKEYBLOB, CRYPT_DESTROYKEY);
	/* Both keys are still there and work. */
	CU_ASSERT_EQUAL(permissions(s) & CRYPT_EXPORT, CRYPT_EXPORT);
	{
		HCRYPTKEY again = 0;

		CU_ASSERT_TRUE(CryptGetUserKey(h, AT_KEYEXCHANGE, &again));
		CryptDestroyKey(again);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(rsa));
	CU_ASSERT_TRUE(CryptDestroyKey(s));
	CU_ASSERT_TRUE(CryptDestroyKey(kek));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	/* The same through capi11-tool, the container's exchange key and a
	 * new session key: refused, nothing written. */
	out_path = testutil_temp_path("tool-out");
	st = fixture_run("%s export --provider %s --container t-a --type opaque --spec exchange "
			 "--wrap-key %s --out %s", TOOL, SENS1, kek_path, out_path);
	CU_ASSERT_EQUAL(st, 1);
	out = testutil_file_load(out_path, &out_len);
	CU_ASSERT(out == NULL || out_len == 0);
	free(out);
	st = fixture_run("%s export --provider %s --container t-a --type opaque --alg AES_256 "
			 "--wrap-key %s --out %s", TOOL, SENS1, kek_path, out_path);
	CU_ASSERT_EQUAL(st, 1);
	out = testutil_file_load(out_path, &out_len);
	CU_ASSERT(out == NULL || out_len == 0);
	free(out);
	/* The same command line works where the key is not sensitive (the
	 * plain policy): it is the protection that stops it above. */
	h = acquire(PLAIN1, "t-a-plain", CRYPT_NEWKEYSET);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	st = fixture_run("%s export --provider %s --container t-a-plain --type opaque "
			 "--alg AES_256 --wrap-key %s --out %s", TOOL, PLAIN1, kek_path, out_path);
	CU_ASSERT_EQUAL(st, 0);
	out = testutil_file_load(out_path, &out_len);
	CU_ASSERT(out != NULL && out_len == 40 + 40 && out[0] == OPAQUEKEYBLOB);
	free(out);
	free(out_path);
	free(kek_path);
}

/* ---- (b) the trusted KEK stays in; what it unwraps is sensitive ---- */

static void test_trusted_kek_stays(void)
{
	HCRYPTPROV h, hp;
	HCRYPTKEY tk, tkp, kek, xchg, s, k = 0, back = 0, pk = 0;
	BYTE data[32] = { 0 }, *w;
	DWORD n, w_len = 0, len = 0;

	make_trusted(SENS1, "t-b", NULL, 0);
	make_trusted(PLAIN1, "t-b-plain", NULL, 0);
	h = acquire(SENS1, "t-b", 0);
	hp = acquire(PLAIN1, "t-b-plain", 0);
	tk = trusted_kek(h);
	tkp = trusted_kek(hp);
	kek = import_plain(h, CALG_AES_256, caller_kek, 32, CRYPT_KEK);
	xchg = gen(h, AT_KEYEXCHANGE, 1024u << 16);

	/* Not extractable: no form of it leaves (SPEC section 3), not even
	 * under itself or the other trusted key of the token. */
	check_refused(tk, 0, PLAINTEXTKEYBLOB, 0);
	check_refused(tk, kek, SYMMETRICWRAPKEYBLOB, 0);
	check_refused(tk, tk, SYMMETRICWRAPKEYBLOB, 0);
	check_refused(tk, tkp, SYMMETRICWRAPKEYBLOB, 0);
	check_refused(tk, kek, OPAQUEKEYBLOB, 0);
	check_refused(tk, tkp, OPAQUEKEYBLOB, 0);
	check_refused(tk, xchg, SIMPLEBLOB, 0);
	CHECK_FAILS_WITH(CryptExportKey(tk, 0, PUBLICKEYBLOB, 0, NULL, &len), V_NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptExportKey(tk, 0, PRIVATEKEYBLOB, 0, NULL, &len), V_NTE_BAD_KEY);
	/* Wrap-only, and never exportable. */
	CU_ASSERT_EQUAL(permissions(tk) & (CRYPT_EXPORT | CRYPT_ENCRYPT | CRYPT_DECRYPT), 0);
	n = 16;
	CHECK_FAILS_WITH(CryptEncrypt(tk, 0, FALSE, 0, data, &n, sizeof data), V_NTE_PERM);
	n = 16;
	CHECK_FAILS_WITH(CryptDecrypt(tk, 0, FALSE, 0, data, &n), V_NTE_PERM);

	/* A SYMMETRICWRAPKEYBLOB under it, imported without CRYPT_KEK, with
	 * and without CRYPT_EXPORTABLE, under either policy: the key is the
	 * same, and sensitive (no plaintext). */
	s = gen(h, CALG_AES_256, CRYPT_EXPORTABLE);
	w = testutil_blob_export(s, tk, SYMMETRICWRAPKEYBLOB, 0, &w_len);
	CU_ASSERT_EQUAL_FATAL(w_len, 12 + 40);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, w, w_len, tk, 0, &k));
	check_refused(k, 0, PLAINTEXTKEYBLOB, 0);
	check_refused(k, tk, SYMMETRICWRAPKEYBLOB, 0);	/* not extractable */
	check_same_encryption(s, k);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, w, w_len, tk, CRYPT_EXPORTABLE, &back));
	check_refused(back, 0, PLAINTEXTKEYBLOB, 0);
	check_refused(back, kek, SYMMETRICWRAPKEYBLOB, 0);
	check_same_encryption(s, back);
	/* On the plain provider of the same token, under its own trusted KEK:
	 * sensitive too, and without CRYPT_EXPORT. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, w, w_len, tkp, CRYPT_EXPORTABLE, &pk));
	check_refused(pk, 0, PLAINTEXTKEYBLOB, 0);
	CU_ASSERT_EQUAL(permissions(pk) & CRYPT_EXPORT, 0);
	check_same_encryption(s, pk);
	free(w);
	CryptDestroyKey(pk);
	CryptDestroyKey(back);
	CryptDestroyKey(k);
	CryptDestroyKey(s);
	CryptDestroyKey(xchg);
	CryptDestroyKey(kek);
	CryptDestroyKey(tkp);
	CryptDestroyKey(tk);
	CU_ASSERT_TRUE(CryptReleaseContext(hp, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- (c) the container's own exchange key in disguise ---- */

static void test_own_key_disguised(void)
{
	HCRYPTPROV h = acquire(SENS1, "t-c", CRYPT_NEWKEYSET);
	HCRYPTKEY xchg = gen(h, AT_KEYEXCHANGE, 1024u << 16);
	HCRYPTKEY s = gen(h, CALG_AES_256, CRYPT_EXPORTABLE), exact = 0, wide = 0;
	DWORD pub_len = 0, bits;
	BYTE *pub = testutil_blob_export(xchg, 0, PUBLICKEYBLOB, 0, &pub_len), *w;

	CU_ASSERT_EQUAL_FATAL(pub_len, 20 + 128);
	/* The same modulus with one more, zero, top byte and bitlen + 8. */
	w = calloc(1, pub_len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	memcpy(w, pub, pub_len);
	bits = testutil_le32(w + 12);
	testutil_le32_put(w + 12, bits + 8);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, w, pub_len + 1, 0, 0, &wide));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &exact));
	check_refused(s, wide, SIMPLEBLOB, 0);
	check_refused(s, wide, SIMPLEBLOB, CRYPT_OAEP);
	check_refused(s, exact, SIMPLEBLOB, 0);
	check_refused(s, exact, SIMPLEBLOB, CRYPT_OAEP);
	check_refused(s, xchg, SIMPLEBLOB, 0);
	free(w);
	free(pub);
	CryptDestroyKey(exact);
	CryptDestroyKey(wide);
	CryptDestroyKey(s);
	CryptDestroyKey(xchg);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- (d) a foreign public key, before and after the SO trusts it ---- */

static void test_foreign_key(void)
{
	static const BYTE msg[40] = "data for the partner, encrypted by capi1";
	char *pem = openssl_rsa_new();
	DWORD pub_len = 0, simple_len = 0, key_len = 0, n, pt_len = 0;
	BYTE *pub = openssl_msblob(pem, true, &pub_len), *simple, *key, *pt, ct[64];
	HCRYPTPROV h;
	HCRYPTKEY p, s;
	int oaep;

	CU_ASSERT_FATAL(pub != NULL && pub_len == 20 + 128 && pub[0] == PUBLICKEYBLOB);
	h = acquire(SENS1, "t-d", CRYPT_NEWKEYSET);
	p = 0;
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &p));
	s = import_plain(h, CALG_AES_256, secret_key, 32, CRYPT_EXPORTABLE);
	/* Its private half may be anyone's: refused. */
	check_refused(s, p, SIMPLEBLOB, 0);
	check_refused(s, p, SIMPLEBLOB, CRYPT_OAEP);
	CryptDestroyKey(s);
	CryptDestroyKey(p);

	/* The security officer trusts it (the session keys of the context
	 * would not survive the step: the same key is imported again). */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(trust(h, pub, pub_len));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &p));
	s = import_plain(h, CALG_AES_256, secret_key, 32, CRYPT_EXPORTABLE);
	check_refused(s, 0, PLAINTEXTKEYBLOB, 0);
	for (oaep = 0; oaep < 2; oaep++) {
		simple = testutil_blob_export(s, p, SIMPLEBLOB, oaep ? CRYPT_OAEP : 0, &simple_len);
		CU_ASSERT_EQUAL_FATAL(simple_len, 12 + 128);
		CU_ASSERT_EQUAL(testutil_le32(simple + 4), CALG_AES_256);
		CU_ASSERT_EQUAL(testutil_le32(simple + 8), CALG_RSA_KEYX);
		/* The partner's private key recovers a key under which openssl
		 * decrypts what capi11 encrypted with the session key. */
		key = openssl_simple_key(pem, simple, simple_len, oaep, &key_len);
		CU_ASSERT_EQUAL_FATAL(key_len, 32);
		CU_ASSERT(memcmp(key, secret_key, 32) == 0);
		memcpy(ct, msg, sizeof msg);
		n = sizeof msg;
		CU_ASSERT_TRUE_FATAL(CryptEncrypt(s, 0, TRUE, 0, ct, &n, sizeof ct));
		CU_ASSERT_EQUAL_FATAL(n, 48);
		pt = openssl_aes256_decrypt(key, ct, n, &pt_len);
		CU_ASSERT(pt_len == sizeof msg && memcmp(pt, msg, sizeof msg) == 0);
		free(pt);
		free(key);
		free(simple);
	}
	CryptDestroyKey(s);
	CryptDestroyKey(p);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(pub);
	free(pem);
}

/* ---- (e) a SIMPLEBLOB arrives on a plain-policy provider ---- */

static void test_simple_arrival_plain(void)
{
	HCRYPTPROV h = acquire(PLAIN1, "t-e", CRYPT_NEWKEYSET);
	DWORD priv_len = 0, simple_len = 0, key_len = 0, p;
	BYTE *priv = testutil_vector_read("rsa1024-priv.blob", &priv_len);
	BYTE *simple = testutil_vector_read("rsa1024-simple.blob", &simple_len);
	BYTE *key = testutil_vector_read("aes128.key", &key_len);
	HCRYPTKEY kx = 0, k = 0;

	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, 0, &kx));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, simple, simple_len, kx, CRYPT_EXPORTABLE, &k));
	check_refused(k, 0, PLAINTEXTKEYBLOB, 0);
	p = permissions(k);
	CU_ASSERT_EQUAL(p & CRYPT_EXPORT, 0);
	p |= CRYPT_EXPORT;
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_PERMISSIONS, (BYTE *)&p, 0), V_NTE_BAD_DATA);
	check_refused(k, 0, PLAINTEXTKEYBLOB, 0);
	/* Still the key openssl wrapped. */
	CU_ASSERT_EQUAL_FATAL(key_len, 16);
	testutil_check_encrypts_as(k, "-aes-128-cbc", key, 16, 16);
	CryptDestroyKey(k);
	CryptDestroyKey(kx);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(key);
	free(simple);
	free(priv);
}

/* ---- (f) sensitive, extractable keys made by pkcs11-tool ---- */

static void test_tool_keys(void)
{
	HCRYPTPROV h, ht, hs;
	HCRYPTKEY rsa = 0, tk, kek, session, k = 0;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	DWORD len = 0;

	/* The premise: both are sensitive and extractable, without
	 * CKA_WRAP_WITH_TRUSTED, so the token would wrap them under anything. */
	s = hsm_session(labels[T1]);
	o = hsm_find(s, CKO_PRIVATE_KEY, "tool-rsa");
	CU_ASSERT_FATAL(o != CK_INVALID_HANDLE);
	CU_ASSERT(hsm_bool(s, o, CKA_SENSITIVE) && hsm_bool(s, o, CKA_EXTRACTABLE));
	CU_ASSERT_FALSE(hsm_bool(s, o, CKA_WRAP_WITH_TRUSTED));
	o = hsm_find(s, CKO_SECRET_KEY, "tool-aes");
	CU_ASSERT_FATAL(o != CK_INVALID_HANDLE);
	CU_ASSERT(hsm_bool(s, o, CKA_SENSITIVE) && hsm_bool(s, o, CKA_EXTRACTABLE));
	CU_ASSERT_FALSE(hsm_bool(s, o, CKA_WRAP_WITH_TRUSTED));
	hsm->C_CloseSession(s);

	make_trusted(SENS1, "t-f", NULL, 0);
	ht = acquire(SENS1, "t-f", 0);
	tk = trusted_kek(ht);
	/* The pair is the exchange key of the container named by its label
	 * (SPEC section 3), under either policy. */
	h = acquire(SENS1, "tool-rsa", 0);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &rsa));
	kek = import_plain(h, CALG_AES_256, caller_kek, 32, CRYPT_KEK);
	session = import_plain(h, CALG_AES_256, caller_kek, 32, 0);
	check_refused(rsa, 0, PRIVATEKEYBLOB, 0);
	check_refused(rsa, session, PRIVATEKEYBLOB, 0);
	check_refused(rsa, kek, OPAQUEKEYBLOB, 0);
	check_refused(rsa, tk, OPAQUEKEYBLOB, 0);
	CryptDestroyKey(session);
	CryptDestroyKey(kek);
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	h = acquire(PLAIN1, "tool-rsa", 0);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &rsa));
	CU_ASSERT_EQUAL(permissions(rsa) & CRYPT_EXPORT, 0);
	check_refused(rsa, 0, PRIVATEKEYBLOB, 0);
	check_refused(rsa, tk, OPAQUEKEYBLOB, 0);
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* capi11 gives no handle on a secret key another tool made: the one
	 * way to a secret key on the token is a trusted KEK, and this key is
	 * not trusted. */
	hs = acquire(SENS1, "tool-aes", 0);
	CHECK_FAILS_WITH(CryptGetUserKey(hs, CAPI11_AT_KEK, &k), V_NTE_NO_KEY);
	CHECK_FAILS_WITH(CryptGetUserKey(hs, AT_KEYEXCHANGE, &k), V_NTE_NO_KEY);
	(void)len;
	CU_ASSERT_TRUE(CryptReleaseContext(hs, 0));
	CryptDestroyKey(tk);
	CU_ASSERT_TRUE(CryptReleaseContext(ht, 0));
}

/* ---- (g) one operator KEK on two tokens ---- */

static void test_two_tokens(void)
{
	static const BYTE msg[32] = "moved under the operator's KEK!";
	HCRYPTPROV ha, hb;
	HCRYPTKEY ka, kb, s, b1 = 0, b2 = 0, rsa, rb = 0, kek_b;
	BYTE *op, *sw, *pa, *pb, data[128];
	DWORD op_len = 0, sw_len = 0, pa_len = 0, pb_len = 0, n;

	make_trusted(SENS1, "t-g", NULL, 0);
	make_trusted(SENS2, "t-g", NULL, 0);
	ha = acquire(SENS1, "t-g", 0);
	hb = acquire(SENS2, "t-g", 0);
	ka = trusted_kek(ha);
	kb = trusted_kek(hb);

	/* A sensitive AES-256 key on A, as both blobs under A's KEK. */
	s = import_plain(ha, CALG_AES_256, secret_key, 32, CRYPT_EXPORTABLE);
	check_refused(s, 0, PLAINTEXTKEYBLOB, 0);
	op = testutil_blob_export(s, ka, OPAQUEKEYBLOB, 0, &op_len);
	sw = testutil_blob_export(s, ka, SYMMETRICWRAPKEYBLOB, 0, &sw_len);
	CU_ASSERT_EQUAL(op_len, 40 + 40);
	CU_ASSERT_EQUAL(sw_len, 12 + 40);
	/* B's KEK has the same bytes: it unwraps both. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hb, op, op_len, kb, CRYPT_EXPORTABLE, &b1));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hb, sw, sw_len, kb, CRYPT_EXPORTABLE, &b2));
	check_same_encryption(s, b1);
	check_same_encryption(s, b2);
	testutil_check_encrypts_as(b1, "-aes-256-cbc", secret_key, 32, 16);
	/* Sensitive on B: no plaintext, and no way out but a trusted key. */
	kek_b = import_plain(hb, CALG_AES_256, caller_kek, 32, CRYPT_KEK);
	check_refused(b1, 0, PLAINTEXTKEYBLOB, 0);
	check_refused(b2, 0, PLAINTEXTKEYBLOB, 0);
	check_refused(b1, kek_b, OPAQUEKEYBLOB, 0);
	check_refused(b2, kek_b, SYMMETRICWRAPKEYBLOB, 0);

	/* An RSA exchange key moved by OPAQUEKEYBLOB decrypts on B what A's
	 * public key encrypted. */
	rsa = gen(ha, AT_KEYEXCHANGE, (1024u << 16) | CRYPT_EXPORTABLE);
	pa = testutil_blob_export(rsa, 0, PUBLICKEYBLOB, 0, &pa_len);
	free(op);
	op = testutil_blob_export_bound(rsa, ka, OPAQUEKEYBLOB, 0, &op_len);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hb, op, op_len, kb, CRYPT_EXPORTABLE, &rb));
	pb = testutil_blob_export(rb, 0, PUBLICKEYBLOB, 0, &pb_len);
	CU_ASSERT(pa_len == pb_len && memcmp(pa, pb, pa_len) == 0);
	memcpy(data, msg, sizeof msg);
	n = sizeof msg;
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(rsa, 0, TRUE, 0, data, &n, sizeof data));
	CU_ASSERT_EQUAL_FATAL(n, 128);
	CU_ASSERT_TRUE_FATAL(CryptDecrypt(rb, 0, TRUE, 0, data, &n));
	CU_ASSERT(n == sizeof msg && memcmp(data, msg, sizeof msg) == 0);
	check_refused(rb, 0, PRIVATEKEYBLOB, 0);
	check_refused(rb, kek_b, OPAQUEKEYBLOB, 0);

	free(pa);
	free(pb);
	free(op);
	free(sw);
	CryptDestroyKey(rb);
	CryptDestroyKey(rsa);
	CryptDestroyKey(kek_b);
	CryptDestroyKey(b2);
	CryptDestroyKey(b1);
	CryptDestroyKey(s);
	CryptDestroyKey(kb);
	CryptDestroyKey(ka);
	CU_ASSERT_TRUE(CryptReleaseContext(hb, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(ha, 0));
}

/* ---- (h) the security officer's step refused ---- */

static void test_trust_errors(void)
{
	BYTE kek_blob[12 + 32], des[12 + 8], des3[12 + 24];
	DWORD kek_len = testutil_plaintext_blob(kek_blob, CALG_AES_256, operator_kek, 32);
	DWORD priv_len = 0, len;
	BYTE *priv = testutil_vector_read("rsa1024-priv.blob", &priv_len);
	HCRYPTPROV h, h2, hv;
	HCRYPTKEY k = 0, s, x = 0;
	int secr, pubk;

	h = acquire(SENS1, "t-h", CRYPT_NEWKEYSET);
	secr = testutil_token_count(labels[T1], "secrkey", "t-h");
	pubk = testutil_token_count(labels[T1], "pubkey", "t-h");
	/* A wrong SO PIN: nothing made, and the context keeps its login. */
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(Capi11TrustKeyA(h, kek_blob, kek_len, "0000", FIXTURE_PIN, 0, &k));
	CU_ASSERT_EQUAL(GetLastError(), V_SCARD_W_WRONG_CHV);
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_EQUAL(testutil_token_count(labels[T1], "secrkey", "t-h"), secr);
	CU_ASSERT_EQUAL(testutil_token_count(labels[T1], "pubkey", "t-h"), pubk);
	CHECK_FAILS_WITH(CryptGetUserKey(h, CAPI11_AT_KEK, &k), V_NTE_NO_KEY);
	/* SO PINs that cannot be right never reach the token, and the user's
	 * login is not touched for them (PINs, README). */
	CHECK_FAILS_WITH(Capi11TrustKeyA(h, kek_blob, kek_len, "", FIXTURE_PIN, 0, &k),
			 V_SCARD_W_WRONG_CHV);
	CHECK_FAILS_WITH(Capi11TrustKeyA(h, kek_blob, kek_len, "56\n78", NULL, 0, &k),
			 V_SCARD_W_WRONG_CHV);
	CU_ASSERT_EQUAL(k, 0);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGenKey(h, AT_KEYEXCHANGE, 1024u << 16, &x));
	CryptDestroyKey(x);
	/* Not AES, not a key blob the step takes, bad arguments. */
	len = testutil_plaintext_blob(des, CALG_DES, des3_known, 8);
	CHECK_FAILS_WITH(Capi11TrustKeyA(h, des, len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, &k),
			 V_NTE_BAD_ALGID);
	len = testutil_plaintext_blob(des3, CALG_3DES, des3_known, 24);
	CHECK_FAILS_WITH(Capi11TrustKeyA(h, des3, len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, &k),
			 V_NTE_BAD_ALGID);
	CHECK_FAILS_WITH(Capi11TrustKeyA(h, priv, priv_len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, &k),
			 V_NTE_BAD_TYPE);
	CHECK_FAILS_WITH(Capi11TrustKeyA(h, kek_blob, kek_len, FIXTURE_SO_PIN, FIXTURE_PIN, 1, &k),
			 V_NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(Capi11TrustKeyA(h, kek_blob, kek_len, NULL, FIXTURE_PIN, 0, &k),
			 V_ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(Capi11TrustKeyA(h, NULL, kek_len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, &k),
			 V_ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(Capi11TrustKeyA(0, kek_blob, kek_len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, &k),
			 V_ERROR_INVALID_PARAMETER);
	/* The token in use: another context on it, or session keys in this
	 * one (the SO's login would end them). */
	h2 = acquire(PLAIN1, "t-h", 0);
	CHECK_FAILS_WITH(trust(h, kek_blob, kek_len), V_SCARD_E_SHARING_VIOLATION);
	CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
	s = gen(h, CALG_AES_128, 0);
	CHECK_FAILS_WITH(trust(h, kek_blob, kek_len), V_SCARD_E_SHARING_VIOLATION);
	CryptDestroyKey(s);
	/* Nor any key handle: the logout gives the container's private
	 * objects new handles on SoftHSM, so a handle held across the step
	 * would point at nothing. */
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &x));
	CHECK_FAILS_WITH(trust(h, kek_blob, kek_len), V_SCARD_E_SHARING_VIOLATION);
	CryptDestroyKey(x);
	CU_ASSERT_EQUAL(testutil_token_count(labels[T1], "secrkey", "t-h"), secr);
	/* Now it works, and the KEK is found. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(Capi11TrustKeyA(h, kek_blob, kek_len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, &k));
	CU_ASSERT_NOT_EQUAL(k, 0);
	CryptDestroyKey(k);
	k = trusted_kek(h);
	CryptDestroyKey(k);
	/* The container's pair, found again after the step, works. */
	{
		BYTE data[128] = "after the security officer";
		DWORD n = 27;

		x = 0;
		CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &x));
		CU_ASSERT_TRUE(CryptEncrypt(x, 0, TRUE, 0, data, &n, sizeof data));
		CU_ASSERT_TRUE(CryptDecrypt(x, 0, TRUE, 0, data, &n));
		CU_ASSERT(n == 27 && memcmp(data, "after the security officer", 27) == 0);
		CryptDestroyKey(x);
	}
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* A verify context has no container to hold it. */
	hv = acquire(SENS1, NULL, CRYPT_VERIFYCONTEXT);
	CHECK_FAILS_WITH(trust(hv, kek_blob, kek_len), V_NTE_BAD_KEYSET);
	CU_ASSERT_TRUE(CryptReleaseContext(hv, 0));
	free(priv);

	/* What the design rests on: a user session cannot make a key with
	 * CKA_TRUSTED (PKCS#11 leaves it to the security officer). */
	{
		CK_SESSION_HANDLE ss = hsm_session(labels[T1]);
		CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
		CK_KEY_TYPE type = CKK_AES;
		CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_KEY_TYPE, &type, sizeof type },
			{ CKA_TOKEN, &no, sizeof no },
			{ CKA_WRAP, &yes, sizeof yes },
			{ CKA_TRUSTED, &yes, sizeof yes },
			{ CKA_VALUE, (void *)caller_kek, 32 },
		};
		CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;

		CU_ASSERT_EQUAL(hsm->C_CreateObject(ss, t, 6, &o), CKR_ATTRIBUTE_READ_ONLY);
		CU_ASSERT_EQUAL(o, CK_INVALID_HANDLE);
		hsm->C_CloseSession(ss);
	}
}

/* ---- (i) tokens without CKA_WRAP_WITH_TRUSTED ---- */

static void (*set_attribute)(CK_ATTRIBUTE_TYPE type, int mode);
static unsigned long (*attribute_hits)(void);
static void (*set_mechanism)(CK_MECHANISM_TYPE mech, int mode);

/* Under the sensitive policy on a token that cannot guard wraps: keys are
 * made as ever, the provider says so, and no sensitive key leaves, not
 * even under a trusted KEK. */
static void check_no_wrap(const char *provider, bool refuses)
{
	BYTE blob[12 + 32];
	DWORD len = testutil_plaintext_blob(blob, CALG_AES_256, operator_kek, 32);
	HCRYPTPROV h;
	HCRYPTKEY tk, s, rsa, imported;

	if (refuses) {
		/* A token that refuses the attribute refuses the trusted KEK's
		 * unwrap template too: no trusted KEK at all, rather than one
		 * that unwraps readable keys (README, Key protection). */
		h = acquire(provider, "t-i", CRYPT_NEWKEYSET);
		CHECK_FAILS_WITH(Capi11TrustKeyA(h, blob, len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, NULL),
				 V_NTE_NOT_SUPPORTED);
		CHECK_FAILS_WITH(CryptGetUserKey(h, CAPI11_AT_KEK, &tk), V_NTE_NO_KEY);
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	} else {
		make_trusted(provider, "t-i", NULL, 0);
	}
	h = acquire(provider, "t-i", 0);
	CU_ASSERT_EQUAL(protection(h), CAPI11_PROTECTION_NO_WRAP);
	/* Without a trusted KEK, the operator's value as a caller's KEK. */
	tk = refuses ? import_plain(h, CALG_AES_256, operator_kek, 32, CRYPT_KEK) : trusted_kek(h);
	s = gen(h, CALG_AES_256, CRYPT_EXPORTABLE);
	rsa = gen(h, AT_KEYEXCHANGE, (1024u << 16) | CRYPT_EXPORTABLE);
	imported = import_plain(h, CALG_AES_256, secret_key, 32, CRYPT_EXPORTABLE);
	CU_ASSERT_EQUAL(permissions(s) & CRYPT_EXPORT, CRYPT_EXPORT);
	check_refused(s, tk, SYMMETRICWRAPKEYBLOB, 0);
	check_refused(s, tk, OPAQUEKEYBLOB, 0);
	check_refused(imported, tk, SYMMETRICWRAPKEYBLOB, 0);
	check_refused(imported, tk, OPAQUEKEYBLOB, 0);
	check_refused(imported, 0, PLAINTEXTKEYBLOB, 0);
	check_refused(rsa, tk, OPAQUEKEYBLOB, 0);
	check_refused(rsa, 0, PRIVATEKEYBLOB, 0);
	/* The keys work. */
	testutil_check_encrypts_as(imported, "-aes-256-cbc", secret_key, 32, 16);
	CryptDestroyKey(imported);
	CryptDestroyKey(rsa);
	CryptDestroyKey(s);
	CryptDestroyKey(tk);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* Capi11TrustKeyA without a user PIN: the user logs in again with the
 * provider's pin-source file (read once more: the PIN it gave at acquire
 * was wiped after C_Login), and the trusted KEK is the container's. Run in
 * a child, whose capi11 starts afresh after the fork, so that the token is
 * not logged in already when the context is acquired (a context that finds
 * it logged in keeps its PIN). Exit codes name the step that failed. */
static int trust_pin_source_child(const char *uri)
{
	BYTE kek_blob[12 + 32];
	DWORD kek_len = testutil_plaintext_blob(kek_blob, CALG_AES_256, operator_kek, 32);
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;
	DWORD alg = 0, len = sizeof alg;

	if (!CryptAcquireContextA(&h, "t-pin-source", uri, PROV_RSA_AES,
				  CRYPT_NEWKEYSET | CRYPT_SILENT))
		return 10;
	if (!Capi11TrustKeyA(h, kek_blob, kek_len, FIXTURE_SO_PIN, NULL, 0, &k))
		return GetLastError() == NTE_SILENT_CONTEXT ? 11 : 12;
	if (!CryptGetKeyParam(k, KP_ALGID, (BYTE *)&alg, &len, 0) || alg != CALG_AES_256)
		return 13;
	CryptDestroyKey(k);
	/* Logged in again: the private trusted key shows to the context. */
	if (!CryptGetUserKey(h, CAPI11_AT_KEK, &k))
		return 14;
	CryptDestroyKey(k);
	return CryptReleaseContext(h, 0) ? 0 : 15;
}

static void test_trust_pin_source(void)
{
	char *pin = fixture_write_file("trust-user.pin", FIXTURE_PIN "\n", strlen(FIXTURE_PIN) + 1);
	char *base = fixture_token_uri_nopin(labels[T2]), uri[BIG];
	int status = -1;
	pid_t pid;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pin);
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	snprintf(uri, sizeof uri, "%s&pin-source=%s", base, pin);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int rc = trust_pin_source_child(uri);

		/* What the child copied of the parent's is the child's to free
		 * (a memcheck run counts it). */
		free(base);
		free(pin);
		_exit(rc);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "\n  child: status 0x%x", (unsigned)status);
	free(base);
	free(pin);
}

static void test_without_wrap_with_trusted(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	HCRYPTPROV h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	CU_ASSERT_PTR_NOT_NULL_FATAL(set_attribute);
	/* A token that refuses the attribute. */
	shim->reset();
	set_attribute(CKA_WRAP_WITH_TRUSTED, P11SHIM_ATTR_REFUSED);
	check_no_wrap(P_REFUSE, true);
	CU_ASSERT(attribute_hits() > 0);
	/* A token that takes it and ignores it. */
	shim->reset();
	set_attribute(CKA_WRAP_WITH_TRUSTED, P11SHIM_ATTR_STRIPPED);
	check_no_wrap(P_STRIP, false);
	CU_ASSERT(attribute_hits() > 0);
	/* A token that takes one of the trusted KEK's guards and ignores it
	 * gets no trusted KEK: Capi11TrustKeyA tries each on the token and
	 * leaves nothing behind (README, Key protection). */
	{
		static const CK_ATTRIBUTE_TYPE guards[] = {
			CKA_UNWRAP_TEMPLATE, CKA_WRAP_TEMPLATE, CKA_ALLOWED_MECHANISMS,
			CKA_MODIFIABLE, CKA_COPYABLE,
		};
		BYTE blob[12 + 32];
		DWORD blen = testutil_plaintext_blob(blob, CALG_AES_256, operator_kek, 32);
		HCRYPTKEY k = 0;
		char name[32];

		for (size_t i = 0; i < sizeof guards / sizeof guards[0]; i++) {
			shim->reset();
			set_attribute(guards[i], P11SHIM_ATTR_STRIPPED);
			snprintf(name, sizeof name, "t-i-guard%zu", i);
			h = acquire(P_STRIP, name, CRYPT_NEWKEYSET);
			CHECK_FAILS_WITH(Capi11TrustKeyA(h, blob, blen, FIXTURE_SO_PIN, FIXTURE_PIN,
							 0, &k), V_NTE_NOT_SUPPORTED);
			CU_ASSERT(attribute_hits() > 0);
			CU_ASSERT_EQUAL(k, 0);
			shim->reset();
			CHECK_FAILS_WITH(CryptGetUserKey(h, CAPI11_AT_KEK, &k), V_NTE_NO_KEY);
			CU_ASSERT_EQUAL(testutil_token_count(labels[T_STRIP], "secrkey", name), 0);
			CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
		}
	}
	/* A token that advertises the AES key wrap and refuses it at use. */
	shim->reset();
	set_mechanism(CKM_AES_KEY_WRAP, P11SHIM_MECH_REFUSED);
	h = acquire(P_NOWRAP, NULL, CRYPT_VERIFYCONTEXT);
	CU_ASSERT_EQUAL(protection(h), CAPI11_PROTECTION_NO_WRAP);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	shim->reset();
	/* SoftHSM itself enforces it. */
	h = acquire(SENS1, NULL, CRYPT_VERIFYCONTEXT);
	CU_ASSERT_EQUAL(protection(h), CAPI11_PROTECTION_TRUSTED_WRAP);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	h = acquire(PLAIN2, NULL, CRYPT_VERIFYCONTEXT);
	CU_ASSERT_EQUAL(protection(h), CAPI11_PROTECTION_TRUSTED_WRAP);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- (j) the sweep: no plaintext byte of a sensitive key, anywhere ---- */

/* Every 8-byte window of the secrets, sorted, to look for in outputs. */
static uint64_t windows[1024];
static size_t n_windows;
static unsigned leaks, buffers_scanned;

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void windows_add(const BYTE *secret, size_t len)
{
	for (size_t i = 0; i + 8 <= len && n_windows < 1024; i++)
		memcpy(&windows[n_windows++], secret + i, 8);
	qsort(windows, n_windows, sizeof windows[0], u64_cmp);
}

/* Any 8 bytes of a secret in buf is a leak: reported with what made it. */
static void scan(const BYTE *buf, size_t len, const char *what)
{
	uint64_t w;

	buffers_scanned++;
	for (size_t i = 0; i + 8 <= len; i++) {
		memcpy(&w, buf + i, 8);
		if (bsearch(&w, windows, n_windows, sizeof w, u64_cmp) != NULL) {
			leaks++;
			fprintf(stderr, "\n  LEAK: secret bytes at offset %zu of %s", i, what);
			return;
		}
	}
}

struct out {
	BYTE *blob;
	DWORD len;
	char what[160];
};
static struct out outs[256];
static size_t n_outs;

static const struct {
	DWORD type;
	const char *name;
} types[] = {
	{ PUBLICKEYBLOB, "PUBLICKEYBLOB" }, { PRIVATEKEYBLOB, "PRIVATEKEYBLOB" },
	{ SIMPLEBLOB, "SIMPLEBLOB" }, { PLAINTEXTKEYBLOB, "PLAINTEXTKEYBLOB" },
	{ SYMMETRICWRAPKEYBLOB, "SYMMETRICWRAPKEYBLOB" }, { OPAQUEKEYBLOB, "OPAQUEKEYBLOB" },
};

/* Exports key under exp in every form, flags 0 and CRYPT_OAEP; keeps
 * what came out. Returns how many exports worked. */
static unsigned export_all(HCRYPTKEY key, const char *key_name, HCRYPTKEY exp,
			   const char *exp_name, bool trusted)
{
	static BYTE buf[BIG];
	unsigned worked = 0;

	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		for (int oaep = 0; oaep < 2; oaep++) {
			DWORD len = 0;
			char what[160];

			snprintf(what, sizeof what, "%s of %s under %s%s", types[t].name, key_name,
				 exp_name, oaep ? " (OAEP)" : "");
			CryptExportKey(key, exp, types[t].type, oaep ? CRYPT_OAEP : 0, NULL, &len);
			memset(buf, 0, sizeof buf);
			len = sizeof buf;
			if (!CryptExportKey(key, exp, types[t].type, oaep ? CRYPT_OAEP : 0, buf,
					    &len)) {
				scan(buf, sizeof buf, what);
				continue;
			}
			worked++;
			scan(buf, sizeof buf, what);
			/* Only the public half, or a wrap under a trusted key. */
			if (types[t].type != PUBLICKEYBLOB && !trusted) {
				fprintf(stderr, "\n  unexpected export: %s", what);
				CU_FAIL("a sensitive key left under an untrusted key");
			}
			if (n_outs < sizeof outs / sizeof outs[0]) {
				outs[n_outs].blob = malloc(len);
				CU_ASSERT_PTR_NOT_NULL_FATAL(outs[n_outs].blob);
				memcpy(outs[n_outs].blob, buf, len);
				outs[n_outs].len = len;
				snprintf(outs[n_outs].what, sizeof outs[n_outs].what, "%s", what);
				n_outs++;
			}
		}
	}
	return worked;
}

/* RSA decryption of every modulus-sized stretch of a blob with an
 * exchange key, PKCS#1 and OAEP; what comes out is scanned. */
static void decrypt_all(HCRYPTKEY rsa, const char *rsa_name, const struct out *o)
{
	static const DWORD offsets[] = { 8, 12, 36 };
	BYTE buf[256];
	char what[256];

	for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		for (int oaep = 0; oaep < 2; oaep++) {
			DWORD n = 128;

			if (o->len < offsets[i] + 128)
				continue;
			memset(buf, 0, sizeof buf);
			memcpy(buf, o->blob + offsets[i], 128);
			snprintf(what, sizeof what, "CryptDecrypt by %s of %s at %u%s", rsa_name,
				 o->what, (unsigned)offsets[i], oaep ? " (OAEP)" : "");
			if (CryptDecrypt(rsa, 0, TRUE, oaep ? CRYPT_OAEP : 0, buf, &n))
				scan(buf, n, what);
			else
				scan(buf, sizeof buf, what);
		}
	}
}

/* Every key an import made: out through the routes a caller has. */
static void drain(HCRYPTKEY k, HCRYPTKEY known_aes, HCRYPTKEY known_kek, const char *what)
{
	static BYTE buf[BIG];
	static const DWORD drains[] = { PLAINTEXTKEYBLOB, PRIVATEKEYBLOB };
	char w[512];

	for (size_t i = 0; i < 2; i++) {
		DWORD len = sizeof buf;

		memset(buf, 0, sizeof buf);
		snprintf(w, sizeof w, "export %u of %s", (unsigned)drains[i], what);
		CryptExportKey(k, 0, drains[i], 0, buf, &len);
		scan(buf, sizeof buf, w);
		len = sizeof buf;
		memset(buf, 0, sizeof buf);
		snprintf(w, sizeof w, "export %u under a known key of %s", (unsigned)drains[i],
			 what);
		CryptExportKey(k, known_aes, drains[i], 0, buf, &len);
		scan(buf, sizeof buf, w);
	}
	for (size_t i = 0; i < 2; i++) {
		DWORD len = sizeof buf, type = i ? OPAQUEKEYBLOB : SYMMETRICWRAPKEYBLOB;

		memset(buf, 0, sizeof buf);
		snprintf(w, sizeof w, "wrap under the caller's KEK of %s", what);
		/* A wrap under a key the caller knows would be plaintext to it. */
		if (CryptExportKey(k, known_kek, type, 0, buf, &len)) {
			fprintf(stderr, "\n  unexpected wrap: %s", w);
			CU_FAIL("a key that arrived wrapped left under the caller's KEK");
		}
		scan(buf, sizeof buf, w);
	}
}

static void test_no_plaintext_sweep(void)
{
	char *partner_pem = openssl_rsa_new(), *foreign_pem = openssl_rsa_new();
	char *r_pem = openssl_rsa_new();
	DWORD partner_len = 0, fpub_len = 0, fpriv_len = 0, r_len = 0, own_len = 0;
	BYTE *partner_pub = openssl_msblob(partner_pem, true, &partner_len);
	BYTE *foreign_pub = openssl_msblob(foreign_pem, true, &fpub_len);
	BYTE *foreign_priv = openssl_msblob(foreign_pem, false, &fpriv_len);
	BYTE *r_priv = openssl_msblob(r_pem, false, &r_len), *own_pub;
	HCRYPTPROV h1, h2, h3;
	HCRYPTKEY S, R, exps[9];
	const char *exp_names[9] = {
		"no key", "the caller's KEK", "the trusted KEK", "the own exchange key",
		"the own public key re-imported", "a foreign public key",
		"the trusted partner's public key", "a session key the caller knows",
		"a 3DES key the caller knows",
	};
	/* On the other token: hPubKey candidates, per target container. */
	HCRYPTKEY tgt2[5], tgt3[5], F = 0;
	static const DWORD import_flags[] = {
		0, CRYPT_EXPORTABLE, CRYPT_KEK, CRYPT_OAEP, CRYPT_OAEP | CRYPT_EXPORTABLE,
		CRYPT_KEK | CRYPT_EXPORTABLE,
	};
	unsigned trusted_worked = 0, imports_worked = 0;
	size_t i, j, f;

	CU_ASSERT_FATAL(partner_pub && foreign_pub && foreign_priv && r_priv && r_len == 20 + 128 + 5 * 64 + 128);
	n_windows = 0;
	leaks = buffers_scanned = 0;
	n_outs = 0;
	windows_add(secret_key, 32);
	/* The private numbers of R (after BLOBHEADER, RSAPUBKEY, modulus). */
	windows_add(r_priv + 20 + 128, r_len - 20 - 128);

	/* T1, sensitive policy: a trusted KEK and partner key. T2, plain
	 * policy: the operator's KEK in two containers; the foreign key's
	 * private half is the attacker's, in the first. */
	make_trusted(SENS1, "t-j", partner_pub, partner_len);
	make_trusted(PLAIN2, "t-j2", NULL, 0);
	make_trusted(PLAIN2, "t-j3", NULL, 0);
	h1 = acquire(SENS1, "t-j", 0);
	h2 = acquire(PLAIN2, "t-j2", 0);
	h3 = acquire(PLAIN2, "t-j3", 0);

	/* The secrets, from bytes the test made, as sensitive keys. */
	S = import_plain(h1, CALG_AES_256, secret_key, 32, CRYPT_EXPORTABLE);
	R = 0;
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h1, r_priv, r_len, 0, CRYPT_EXPORTABLE, &R));
	own_pub = testutil_blob_export(R, 0, PUBLICKEYBLOB, 0, &own_len);

	exps[0] = 0;
	exps[1] = import_plain(h1, CALG_AES_256, caller_kek, 32, CRYPT_KEK);
	exps[2] = trusted_kek(h1);
	exps[3] = R;
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h1, own_pub, own_len, 0, 0, &exps[4]));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h1, foreign_pub, fpub_len, 0, 0, &exps[5]));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h1, partner_pub, partner_len, 0, 0, &exps[6]));
	exps[7] = import_plain(h1, CALG_AES_256, caller_kek, 32, 0);
	exps[8] = import_plain(h1, CALG_3DES, des3_known, 24, 0);

	for (i = 0; i < 9; i++) {
		bool trusted = i == 2 || i == 6;

		trusted_worked += trusted ? export_all(S, "the session key", exps[i], exp_names[i],
						       true)
					  : 0;
		if (!trusted)
			export_all(S, "the session key", exps[i], exp_names[i], false);
		if (i != 3) {
			if (trusted)
				trusted_worked += export_all(R, "the RSA key", exps[i], exp_names[i],
							     true);
			else
				export_all(R, "the RSA key", exps[i], exp_names[i], false);
		}
	}
	/* The trusted routes work (the sweep is not empty): S as SIMPLEBLOB
	 * to the partner (both paddings) and under the KEK (both forms, each
	 * with either flag), R under the KEK. */
	CU_ASSERT(trusted_worked >= 2 + 4 + 2);

	/* Everything that came out goes to the other token, under every key
	 * the caller has there, with every flag; what it makes is drained. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, foreign_priv, fpriv_len, 0, 0, &F));
	tgt2[0] = 0;
	tgt2[1] = trusted_kek(h2);
	tgt2[2] = import_plain(h2, CALG_AES_256, caller_kek, 32, CRYPT_KEK);
	tgt2[3] = F;
	tgt2[4] = import_plain(h2, CALG_AES_256, caller_kek, 32, 0);
	tgt3[0] = 0;
	tgt3[1] = trusted_kek(h3);
	tgt3[2] = import_plain(h3, CALG_AES_256, caller_kek, 32, CRYPT_KEK);
	tgt3[3] = 0;
	tgt3[4] = import_plain(h3, CALG_AES_256, caller_kek, 32, 0);
	for (i = 0; i < n_outs; i++) {
		/* RSA keys go to a container of their own, so that the foreign
		 * key stays the first one's exchange key. */
		bool rsa = testutil_le32(outs[i].blob + 4) == CALG_RSA_KEYX;
		HCRYPTPROV h = rsa ? h3 : h2;
		HCRYPTKEY *pubs = rsa ? tgt3 : tgt2;

		decrypt_all(F, "the foreign key", &outs[i]);
		decrypt_all(R, "the own exchange key", &outs[i]);
		for (j = 0; j < 5; j++) {
			for (f = 0; f < sizeof import_flags / sizeof import_flags[0]; f++) {
				HCRYPTKEY k = 0;
				char what[256];

				if (!CryptImportKey(h, outs[i].blob, outs[i].len, pubs[j],
						    import_flags[f], &k))
					continue;
				imports_worked++;
				snprintf(what, sizeof what, "%s imported (key %zu, flags 0x%x)",
					 outs[i].what, j, (unsigned)import_flags[f]);
				drain(k, pubs[4], pubs[2], what);
				CryptDestroyKey(k);
			}
		}
	}
	/* The partner's blobs and the wraps under the operator's KEK did
	 * arrive on the other token. */
	CU_ASSERT(imports_worked > 0);
	CU_ASSERT(buffers_scanned > 500);
	CU_ASSERT_EQUAL(leaks, 0);
	fprintf(stderr, "\n  sweep: %zu blobs out, %u imports, %u buffers scanned, %u leaks",
		n_outs, imports_worked, buffers_scanned, leaks);

	for (i = 0; i < n_outs; i++)
		free(outs[i].blob);
	for (j = 1; j < 5; j++) {
		CryptDestroyKey(tgt2[j]);
		if (tgt3[j] != 0)
			CryptDestroyKey(tgt3[j]);
	}
	for (i = 1; i < 9; i++)
		CryptDestroyKey(exps[i]);
	CryptDestroyKey(S);
	CU_ASSERT_TRUE(CryptReleaseContext(h3, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h1, 0));
	free(own_pub);
	free(partner_pub);
	free(foreign_pub);
	free(foreign_priv);
	free(r_priv);
	free(partner_pem);
	free(foreign_pem);
	free(r_pem);
}

/* ---- (k) a key-encryption key moved as OPAQUEKEYBLOB stays wrap-only ---- */

/* issue 11: re-importing a real KEK's OPAQUEKEYBLOB without CRYPT_KEK gave
 * a decrypt-capable twin (KP_PERMISSIONS 0x3b), with which ECB CryptDecrypt
 * undid RFC 3394. docs/OPAQUEKEYBLOB.md: format version 2 records the
 * usage (offset 32, bit 0), and the import keeps such a key wrap-only
 * whatever its flags say. */

/* A wrap-only key: no data permission, and no data operation even when
 * the caller adds the permissions back, since the token object itself
 * cannot encrypt or decrypt. */
static void check_wrap_only(HCRYPTKEY k)
{
	BYTE data[48] = "sixteen bytes...";
	DWORD p = permissions(k), n = 16;

	CU_ASSERT_EQUAL(p & (CRYPT_ENCRYPT | CRYPT_DECRYPT), 0);
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, 0, data, &n, sizeof data), V_NTE_PERM);
	n = 16;
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, data, &n), V_NTE_PERM);
	p |= CRYPT_ENCRYPT | CRYPT_DECRYPT;
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_PERMISSIONS, (BYTE *)&p, 0), V_NTE_BAD_DATA);
	CU_ASSERT_EQUAL(permissions(k) & (CRYPT_ENCRYPT | CRYPT_DECRYPT), 0);
	n = 16;
	CHECK_FAILS_WITH(CryptEncrypt(k, 0, TRUE, 0, data, &n, sizeof data), V_NTE_PERM);
	n = 16;
	CHECK_FAILS_WITH(CryptDecrypt(k, 0, TRUE, 0, data, &n), V_NTE_PERM);
}

/* The same key value: a key that is not sensitive, wrapped (RFC 3394,
 * deterministic) under both, gives the same bytes. */
static void check_same_wrap(HCRYPTKEY s, HCRYPTKEY a, HCRYPTKEY b)
{
	DWORD la = 0, lb = 0;
	BYTE *wa = testutil_blob_export(s, a, SYMMETRICWRAPKEYBLOB, 0, &la);
	BYTE *wb = testutil_blob_export(s, b, SYMMETRICWRAPKEYBLOB, 0, &lb);

	CU_ASSERT(la == 12 + 24 && la == lb && memcmp(wa + 8, wb + 8, la - 8) == 0);
	free(wa);
	free(wb);
}

static void test_kek_moves_wrap_only(void)
{
	HCRYPTPROV h1, h2, sa, sb;
	HCRYPTKEY kek, copy2, carrier1, carrier2, moved, twin, s, ka, kb, skek, smoved;
	BYTE *op, *plain, v1[36 + 40];
	DWORD op_len = 0, plain_len = 0, flags[] = { 0, CRYPT_EXPORTABLE };
	size_t i;

	/* The sensitive policy's trusted KEKs first: the security officer's
	 * step wants the tokens to itself. */
	make_trusted(SENS1, "t-k-sens", NULL, 0);
	make_trusted(SENS2, "t-k-sens", NULL, 0);
	h1 = acquire(PLAIN1, "t-k", CRYPT_NEWKEYSET);
	h2 = acquire(PLAIN2, "t-k", CRYPT_NEWKEYSET);

	/* A plain-policy KEK that may leave, and a carrier KEK of the same
	 * bytes on both tokens (docs/OPAQUEKEYBLOB.md: for keys that are not
	 * sensitive, a PLAINTEXTKEYBLOB imported with CRYPT_KEK suffices). */
	kek = gen(h1, CALG_AES_256, CRYPT_KEK | CRYPT_EXPORTABLE);
	check_wrap_only(kek);
	carrier1 = import_plain(h1, CALG_AES_256, caller_kek, 32, CRYPT_KEK);
	carrier2 = import_plain(h2, CALG_AES_256, caller_kek, 32, CRYPT_KEK);
	plain = testutil_blob_export(kek, 0, PLAINTEXTKEYBLOB, 0, &plain_len);
	CU_ASSERT_EQUAL_FATAL(plain_len, 12 + 32);

	/* docs/OPAQUEKEYBLOB.md: version 2, usage 0x1, 40 wrapped bytes. */
	op = testutil_blob_export(kek, carrier1, OPAQUEKEYBLOB, 0, &op_len);
	CU_ASSERT_EQUAL_FATAL(op_len, 40 + 40);
	CU_ASSERT(memcmp(op + 8, "C11O", 4) == 0 && testutil_le32(op + 12) == 2);
	CU_ASSERT(testutil_le32(op + 28) == CALG_AES_256 && testutil_le32(op + 32) == 1 &&
		  testutil_le32(op + 36) == 40);

	/* On token 2 without CRYPT_KEK, with or without CRYPT_EXPORTABLE:
	 * wrap-only, and the same key (it wraps as the original does). */
	s = gen(h2, CALG_AES_128, CRYPT_EXPORTABLE);
	copy2 = import_plain(h2, CALG_AES_256, plain + 12, 32, CRYPT_KEK);
	for (i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, op, op_len, carrier2, flags[i], &moved));
		check_wrap_only(moved);
		check_same_wrap(s, moved, copy2);
		CryptDestroyKey(moved);
	}
	/* CRYPT_KEK as well: the same. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, op, op_len, carrier2, CRYPT_KEK, &moved));
	check_wrap_only(moved);
	CryptDestroyKey(moved);

	/* The header is not authenticated (docs/OPAQUEKEYBLOB.md, "not a
	 * security boundary"): the same key in a version 1 blob, which records
	 * no usage, still imports, decrypt-capable without CRYPT_KEK (a key
	 * that was not sensitive: its value is no secret from the caller), and
	 * wrap-only with it. */
	memcpy(v1, op, 32);
	testutil_le32_put(v1 + 12, 1);
	memcpy(v1 + 32, op + 36, 4 + 40);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, v1, sizeof v1, carrier2, 0, &twin));
	CU_ASSERT_EQUAL(permissions(twin) & (CRYPT_ENCRYPT | CRYPT_DECRYPT),
			CRYPT_ENCRYPT | CRYPT_DECRYPT);
	testutil_check_encrypts_as(twin, "-aes-256-cbc", plain + 12, 32, 16);
	CryptDestroyKey(twin);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, v1, sizeof v1, carrier2, CRYPT_KEK, &twin));
	check_wrap_only(twin);
	CryptDestroyKey(twin);
	/* Reserved usage bits: refused, nothing made. */
	testutil_le32_put(op + 32, 3);
	CHECK_FAILS_WITH(CryptImportKey(h2, op, op_len, carrier2, 0, &twin), V_NTE_BAD_DATA);
	testutil_le32_put(op + 32, 1);
	free(op);

	/* A key that is no KEK travels with usage 0 and arrives as it was. */
	op = testutil_blob_export(s, carrier2, OPAQUEKEYBLOB, 0, &op_len);
	CU_ASSERT(op_len == 40 + 24 && testutil_le32(op + 32) == 0);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h1, op, op_len, carrier1, 0, &moved));
	CU_ASSERT_EQUAL(permissions(moved) & (CRYPT_ENCRYPT | CRYPT_DECRYPT),
			CRYPT_ENCRYPT | CRYPT_DECRYPT);
	check_same_encryption(s, moved);
	CryptDestroyKey(moved);
	free(op);

	/* Under the sensitive policy: a KEK made exportable leaves under the
	 * trusted KEK only, and stays wrap-only on the other token. */
	sa = acquire(SENS1, "t-k-sens", 0);
	sb = acquire(SENS2, "t-k-sens", 0);
	ka = trusted_kek(sa);
	kb = trusted_kek(sb);
	skek = gen(sa, CALG_AES_128, CRYPT_KEK | CRYPT_EXPORTABLE);
	check_refused(skek, carrier1, OPAQUEKEYBLOB, 0);
	op = testutil_blob_export(skek, ka, OPAQUEKEYBLOB, 0, &op_len);
	CU_ASSERT(op_len == 40 + 24 && testutil_le32(op + 32) == 1);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(sb, op, op_len, kb, CRYPT_EXPORTABLE, &smoved));
	check_wrap_only(smoved);
	check_refused(smoved, 0, PLAINTEXTKEYBLOB, 0);
	free(op);

	CryptDestroyKey(smoved);
	CryptDestroyKey(skek);
	CryptDestroyKey(kb);
	CryptDestroyKey(ka);
	CryptDestroyKey(copy2);
	CryptDestroyKey(s);
	CryptDestroyKey(carrier2);
	CryptDestroyKey(carrier1);
	CryptDestroyKey(kek);
	explicit_bzero(plain, plain_len);
	free(plain);
	CU_ASSERT_TRUE(CryptReleaseContext(sb, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(sa, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h1, 0));
}

/* ---- (l) the trusted objects cannot be turned against what they guard ---- */

/* The trusted KEK is final when the security officer makes it: public (the
 * only kind the SO may make) but neither modifiable nor copyable, so no
 * process, with the user's PIN or without, can give it CKA_DECRYPT or make
 * a copy that could; what it unwraps is sensitive, wrap-with-trusted and
 * private, by the token's unwrap template. A public key whose private half
 * is on the token is refused trust (README, Key protection). The token's
 * own answers are read through SoftHSM directly. */
static void test_trusted_objects_final(void)
{
	static const CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
	static const CK_KEY_TYPE aes = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE decrypt = { CKA_DECRYPT, &yes, sizeof yes };
	CK_ATTRIBUTE readable[] = {
		{ CKA_CLASS, (void *)&secret, sizeof secret },
		{ CKA_KEY_TYPE, (void *)&aes, sizeof aes },
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_SENSITIVE, &no, sizeof no },
		{ CKA_EXTRACTABLE, &yes, sizeof yes },
		{ CKA_WRAP_WITH_TRUSTED, &yes, sizeof yes },
	};
	CK_MECHANISM wrap = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_OBJECT_HANDLE kek, copy = CK_INVALID_HANDLE, un = CK_INVALID_HANDLE;
	CK_SESSION_HANDLE ss;
	HCRYPTPROV h;
	HCRYPTKEY tk, sk, x, k = 0;
	BYTE *w, *pub;
	DWORD w_len = 0, pub_len = 0;
	int pubs;

	make_trusted(SENS1, "t-l", NULL, 0);
	h = acquire(SENS1, "t-l", 0);
	tk = trusted_kek(h);
	sk = gen(h, CALG_AES_256, CRYPT_EXPORTABLE);
	w = testutil_blob_export(sk, tk, SYMMETRICWRAPKEYBLOB, 0, &w_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_EQUAL_FATAL(w_len, 12 + 40);

	ss = hsm_session(labels[T1]);
	kek = hsm_find(ss, CKO_SECRET_KEY, "t-l");
	CU_ASSERT_FATAL(kek != CK_INVALID_HANDLE);
	CU_ASSERT_TRUE(hsm_bool(ss, kek, CKA_TRUSTED));
	CU_ASSERT_FALSE(hsm_bool(ss, kek, CKA_MODIFIABLE));
	CU_ASSERT_FALSE(hsm_bool(ss, kek, CKA_COPYABLE));
	CU_ASSERT_FALSE(hsm_bool(ss, kek, CKA_DECRYPT));
	CU_ASSERT_FALSE(hsm_bool(ss, kek, CKA_EXTRACTABLE));
	/* Not made to decrypt, by change or by copy. */
	CU_ASSERT_NOT_EQUAL(hsm->C_SetAttributeValue(ss, kek, &decrypt, 1), CKR_OK);
	CU_ASSERT_NOT_EQUAL(hsm->C_CopyObject(ss, kek, &decrypt, 1, &copy), CKR_OK);
	CU_ASSERT_FALSE(hsm_bool(ss, kek, CKA_DECRYPT));
	/* What it wrapped comes out readable for nobody. */
	CU_ASSERT_NOT_EQUAL(hsm->C_UnwrapKey(ss, &wrap, kek, w + 12, 40, readable,
					     (sizeof readable / sizeof readable[0]), &un), CKR_OK);
	readable[3].pValue = &yes;
	{
		CK_RV urv = hsm->C_UnwrapKey(ss, &wrap, kek, w + 12, 40, readable,
					     sizeof readable / sizeof readable[0], &un);

		CU_ASSERT_EQUAL(urv, CKR_OK);
		if (urv != CKR_OK)
			fprintf(stderr, "\n  unwrap: 0x%lx", (unsigned long)urv);
	}
	CU_ASSERT_TRUE(hsm_bool(ss, un, CKA_PRIVATE));
	CU_ASSERT_TRUE(hsm_bool(ss, un, CKA_WRAP_WITH_TRUSTED));
	hsm->C_DestroyObject(ss, un);
	hsm->C_CloseSession(ss);
	free(w);
	CryptDestroyKey(sk);
	CryptDestroyKey(tk);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	/* The container's own exchange key is no partner. */
	h = acquire(SENS1, "t-l2", CRYPT_NEWKEYSET);
	x = gen(h, AT_KEYEXCHANGE, 1024u << 16);
	pub = testutil_blob_export(x, 0, PUBLICKEYBLOB, 0, &pub_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CryptDestroyKey(x);
	pubs = testutil_token_count(labels[T1], "pubkey", "t-l2");
	CHECK_FAILS_WITH(Capi11TrustKeyA(h, pub, pub_len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, &k),
			 V_NTE_BAD_PUBLIC_KEY);
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_EQUAL(testutil_token_count(labels[T1], "pubkey", "t-l2"), pubs);
	free(pub);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static CU_TestInfo trust_tests[] = {
	{ "(a) a KEK the caller knows takes no sensitive key", test_caller_kek },
	{ "(b) the trusted KEK stays in; what it unwraps is sensitive", test_trusted_kek_stays },
	{ "(c) the own exchange key in disguise takes no sensitive key", test_own_key_disguised },
	{ "(d) a foreign public key, before and after the SO trusts it", test_foreign_key },
	{ "(e) a SIMPLEBLOB arriving under the plain policy is sensitive",
	  test_simple_arrival_plain },
	{ "(f) pkcs11-tool's sensitive, extractable keys stay in", test_tool_keys },
	{ "(g) one operator KEK on two tokens moves sensitive keys", test_two_tokens },
	{ "(h) the security officer's step refused", test_trust_errors },
	{ "(h) the user's PIN again from the provider's pin-source", test_trust_pin_source },
	{ "(i) tokens without CKA_WRAP_WITH_TRUSTED", test_without_wrap_with_trusted },
	{ "(j) no plaintext byte on any route", test_no_plaintext_sweep },
	{ "(k) a KEK moved as OPAQUEKEYBLOB stays wrap-only", test_kek_moves_wrap_only },
	{ "(l) trusted objects are final, partners are not ours", test_trusted_objects_final },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "key protection by the token", NULL, NULL, NULL, NULL, trust_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	char text[8192], *uri[N_TOKENS], *conf;
	static const char *const prefixes[N_TOKENS] = {
		"trust1", "trust2", "trust-refuse", "trust-strip", "trust-nowrap",
	};
	void *mod;
	int rc, i, n;

	if (!fixture_init())
		return CUTEST_SKIP;
	/* SoftHSM reads its token directory once per process: the tokens and
	 * pkcs11-tool's keys are made before the first CryptoAPI call. */
	for (i = 0; i < N_TOKENS; i++)
		labels[i] = fixture_token_make(prefixes[i]);
	if (fixture_pkcs11_tool(labels[T1], true, NULL, "--keygen --key-type AES:32 --sensitive "
				"--extractable --label tool-aes --id 0b") != 0 ||
	    fixture_pkcs11_tool(labels[T1], true, NULL, "--keypairgen --key-type rsa:1024 "
				"--sensitive --extractable --label tool-rsa --id 0c") != 0) {
		fprintf(stderr, "pkcs11-tool failed\n");
		return FIXTURE_HARD_ERROR;
	}
	mod = fixture_shim_path() ? dlopen(fixture_shim_path(), RTLD_NOW | RTLD_LOCAL) : NULL;
	if (mod == NULL || fixture_shim() == NULL) {
		fprintf(stderr, "the shim was not built\n");
		return FIXTURE_HARD_ERROR;
	}
	*(void **)&set_attribute = dlsym(mod, "p11shim_set_attribute");
	*(void **)&attribute_hits = dlsym(mod, "p11shim_attribute_hits");
	*(void **)&set_mechanism = dlsym(mod, "p11shim_set_mechanism");
	if (set_attribute == NULL || attribute_hits == NULL || set_mechanism == NULL)
		return FIXTURE_HARD_ERROR;
	uri[T1] = fixture_token_uri(labels[T1]);
	uri[T2] = fixture_token_uri(labels[T2]);
	for (i = T_REFUSE; i < N_TOKENS; i++)
		uri[i] = fixture_token_uri_shim(labels[i], true);
	n = snprintf(text, sizeof text,
		     "[provider \"%s\"]\nuri = %s\ntype = 24\nexportable-policy = sensitive\n\n"
		     "[provider \"%s\"]\nuri = %s\ntype = 24\nexportable-policy = plain\n\n"
		     "[provider \"%s\"]\nuri = %s\ntype = 24\nexportable-policy = sensitive\n\n"
		     "[provider \"%s\"]\nuri = %s\ntype = 24\nexportable-policy = plain\n\n"
		     "[provider \"%s\"]\nuri = %s\ntype = 24\nexportable-policy = sensitive\n\n"
		     "[provider \"%s\"]\nuri = %s\ntype = 24\nexportable-policy = sensitive\n\n"
		     "[provider \"%s\"]\nuri = %s\ntype = 24\nexportable-policy = sensitive\n",
		     SENS1, uri[T1], PLAIN1, uri[T1], SENS2, uri[T2], PLAIN2, uri[T2], P_REFUSE,
		     uri[T_REFUSE], P_STRIP, uri[T_STRIP], P_NOWRAP, uri[T_NOWRAP]);
	if (n < 0 || (size_t)n >= sizeof text)
		return FIXTURE_HARD_ERROR;
	conf = fixture_write_file("capi11-trust.conf", text, (size_t)n);
	if (conf == NULL)
		return FIXTURE_HARD_ERROR;
	setenv("CAPI11_CONF", conf, 1);
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	for (i = 0; i < N_TOKENS; i++) {
		free(uri[i]);
		free(labels[i]);
	}
	free(conf);
	return rc;
}
