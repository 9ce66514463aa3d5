/* The DSS provider types (PROV_DSS, PROV_DSS_DH) against throwaway SoftHSM
 * tokens: acquiring them by type, by Microsoft's names and by configured
 * sections; the algorithms they list; DSS signature keys made on the
 * token. Names, types and lengths are Microsoft's (CryptAcquireContext,
 * PP_ENUMALGS_EX and the DSS provider pages: 512 to 1024 bits in steps of
 * 64); numbers of the keys are checked by openssl. */
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
static unsigned int conf_serial;

static void write_conf(const char *text)
{
	char name[64];
	char *path;

	snprintf(name, sizeof name, "dss-%u.conf", conf_serial++);
	path = fixture_write_file(name, text, strlen(text));
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	setenv("CAPI11_CONF", path, 1);
	free(path);
}

static DWORD prov_dword(HCRYPTPROV h, DWORD param)
{
	DWORD value = SENTINEL, len = sizeof value;

	CU_ASSERT_TRUE(CryptGetProvParam(h, param, (BYTE *)&value, &len, 0));
	return value;
}

static DWORD key_dword(HCRYPTKEY k, DWORD param)
{
	DWORD value = SENTINEL, len = sizeof value;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGetKeyParam(k, param, (BYTE *)&value, &len, 0));
	CU_ASSERT_EQUAL(len, 4);
	return value;
}

/* How many private keys labelled container the test token holds. */
static int private_keys(const char *container)
{
	return testutil_token_count(label, "privkey", container);
}

/* ---- acquiring ---- */

static void test_acquire_types(void)
{
	HCRYPTPROV h;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_EQUAL(prov_dword(h, PP_PROVTYPE), PROV_DSS);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_EQUAL(prov_dword(h, PP_PROVTYPE), PROV_DSS_DH);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* A container, as for the RSA types. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dss-acquire", uri, PROV_DSS,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dss-acquire", uri, PROV_DSS, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dss-acquire", uri, PROV_DSS, CRYPT_DELETEKEYSET));
}

static void test_acquire_names(void)
{
	static const struct {
		const char *name;
		DWORD type;
	} names[] = {
		{ MS_DEF_DSS_PROV_A, PROV_DSS },
		{ MS_DEF_DSS_DH_PROV_A, PROV_DSS_DH },
		{ MS_ENH_DSS_DH_PROV_A, PROV_DSS_DH },
	};
	char text[4096], name[256];
	DWORD len;
	HCRYPTPROV h;
	size_t i;

	snprintf(text, sizeof text,
		 "[capi11]\n"
		 "default-provider = main\n"
		 "[provider \"main\"]\n"
		 "uri = %s\n"
		 "[provider \"signer\"]\n"
		 "uri = %s\n"
		 "type = dss\n"
		 "[provider \"agreer\"]\n"
		 "uri = %s\n"
		 "type = dss_dh\n",
		 uri, uri, uri);
	write_conf(text);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, names[i].name, names[i].type,
							  CRYPT_VERIFYCONTEXT));
		len = sizeof name;
		CU_ASSERT_TRUE(CryptGetProvParam(h, PP_NAME, (BYTE *)name, &len, 0));
		CU_ASSERT_STRING_EQUAL(name, names[i].name);
		CU_ASSERT_EQUAL(prov_dword(h, PP_PROVTYPE), names[i].type);
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
		/* Each name keeps the type Windows registers it with. */
		CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, names[i].name, PROV_RSA_FULL,
						      CRYPT_VERIFYCONTEXT), NTE_PROV_TYPE_NO_MATCH);
	}
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, MS_DEF_DSS_PROV_A, PROV_DSS_DH,
					      CRYPT_VERIFYCONTEXT), NTE_PROV_TYPE_NO_MATCH);
	/* Configured types, by name. */
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, "signer", PROV_DSS, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, "signer", PROV_DSS_DH, CRYPT_VERIFYCONTEXT),
			 NTE_PROV_TYPE_NO_MATCH);
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, "signer", PROV_RSA_FULL,
					      CRYPT_VERIFYCONTEXT), NTE_PROV_TYPE_NO_MATCH);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, "agreer", PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, "agreer", PROV_DSS, CRYPT_VERIFYCONTEXT),
			 NTE_PROV_TYPE_NO_MATCH);
	/* A section without a type serves the DSS types too. */
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, "main", PROV_DSS, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	setenv("CAPI11_CONF", "/dev/null", 1);
}

/* ---- PP_ENUMALGS and PP_ENUMALGS_EX ---- */

struct listed {
	bool seen;
	PROV_ENUMALGS_EX ex;
	PROV_ENUMALGS plain;
};

/* Enumerates both lists of h into by_alg (indexed by position in algs);
 * fails on an entry twice or on the two lists disagreeing. Returns how
 * many entries PP_ENUMALGS_EX gave. */
static size_t enum_all(HCRYPTPROV h, const ALG_ID *algs, size_t n, struct listed *by_alg,
		       bool *unknown_seen)
{
	PROV_ENUMALGS_EX ex;
	PROV_ENUMALGS plain;
	DWORD len, flags = CRYPT_FIRST;
	size_t count = 0, i;

	memset(by_alg, 0, n * sizeof *by_alg);
	*unknown_seen = false;
	for (;;) {
		len = sizeof ex;
		if (!CryptGetProvParam(h, PP_ENUMALGS_EX, (BYTE *)&ex, &len, flags))
			break;
		flags = 0;
		count++;
		for (i = 0; i < n && algs[i] != ex.aiAlgid; i++)
			;
		if (i == n) {
			*unknown_seen = true;
			continue;
		}
		CU_ASSERT_FALSE(by_alg[i].seen);
		by_alg[i].seen = true;
		by_alg[i].ex = ex;
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	flags = CRYPT_FIRST;
	for (;;) {
		len = sizeof plain;
		if (!CryptGetProvParam(h, PP_ENUMALGS, (BYTE *)&plain, &len, flags))
			break;
		flags = 0;
		for (i = 0; i < n && algs[i] != plain.aiAlgid; i++)
			;
		if (i < n) {
			CU_ASSERT_TRUE(by_alg[i].seen);
			by_alg[i].plain = plain;
		}
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	return count;
}

static const ALG_ID enum_algs[] = {
	CALG_DSS_SIGN, CALG_SHA1, CALG_MD5, CALG_RSA_SIGN, CALG_RSA_KEYX, CALG_AES_128,
	CALG_3DES, CALG_DES, CALG_RC4, CALG_HMAC, CALG_MAC, CALG_SSL3_SHAMD5, CALG_SHA_256,
};
enum { E_DSS, E_SHA1, E_MD5, E_RSA_SIGN, E_RSA_KEYX, E_AES128, E_3DES, E_DES, E_RC4, E_HMAC,
       E_MAC, E_SSL3, E_SHA256, E_COUNT };

static void test_enum_dss(void)
{
	struct listed l[E_COUNT];
	HCRYPTPROV h;
	bool unknown;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS, CRYPT_VERIFYCONTEXT));
	enum_all(h, enum_algs, E_COUNT, l, &unknown);
	/* Microsoft's Base DSS provider: DSA_SIGN, 1024 by default, 512 to
	 * 1024 (SoftHSM makes them all). */
	CU_ASSERT_TRUE_FATAL(l[E_DSS].seen);
	CU_ASSERT_STRING_EQUAL(l[E_DSS].ex.szName, "DSA_SIGN");
	CU_ASSERT_EQUAL(l[E_DSS].ex.dwNameLen, sizeof "DSA_SIGN");
	CU_ASSERT_STRING_EQUAL(l[E_DSS].ex.szLongName, "Digital Signature Algorithm");
	CU_ASSERT_EQUAL(l[E_DSS].ex.dwDefaultLen, 1024);
	CU_ASSERT_EQUAL(l[E_DSS].ex.dwMinLen, 512);
	CU_ASSERT_EQUAL(l[E_DSS].ex.dwMaxLen, 1024);
	CU_ASSERT_EQUAL(l[E_DSS].plain.dwBitLen, 1024);
	CU_ASSERT_STRING_EQUAL(l[E_DSS].plain.szName, "DSA_SIGN");
	CU_ASSERT_TRUE(l[E_SHA1].seen);
	CU_ASSERT_TRUE(l[E_MD5].seen);
	CU_ASSERT_TRUE(l[E_SHA256].seen);
	/* No RSA, no session keys and nothing that needs one. */
	CU_ASSERT_FALSE(l[E_RSA_SIGN].seen);
	CU_ASSERT_FALSE(l[E_RSA_KEYX].seen);
	CU_ASSERT_FALSE(l[E_AES128].seen);
	CU_ASSERT_FALSE(l[E_3DES].seen);
	CU_ASSERT_FALSE(l[E_DES].seen);
	CU_ASSERT_FALSE(l[E_RC4].seen);
	CU_ASSERT_FALSE(l[E_HMAC].seen);
	CU_ASSERT_FALSE(l[E_MAC].seen);
	CU_ASSERT_FALSE(l[E_SSL3].seen);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static void test_enum_dss_dh(void)
{
	struct listed l[E_COUNT];
	HCRYPTPROV h;
	bool unknown;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	enum_all(h, enum_algs, E_COUNT, l, &unknown);
	CU_ASSERT_TRUE(l[E_DSS].seen);
	CU_ASSERT_TRUE(l[E_SHA1].seen);
	/* The session-key algorithms, as the RSA types list them. */
	CU_ASSERT_TRUE(l[E_AES128].seen);
	CU_ASSERT_TRUE(l[E_3DES].seen);
	CU_ASSERT_TRUE(l[E_DES].seen);
	CU_ASSERT_TRUE(l[E_HMAC].seen);
	CU_ASSERT_EQUAL(l[E_3DES].ex.dwDefaultLen, 168);
	CU_ASSERT_FALSE(l[E_RSA_SIGN].seen);
	CU_ASSERT_FALSE(l[E_RSA_KEYX].seen);
	CU_ASSERT_FALSE(l[E_SSL3].seen);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	/* The RSA types do not list DSS. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	enum_all(h, enum_algs, E_COUNT, l, &unknown);
	CU_ASSERT_FALSE(l[E_DSS].seen);
	CU_ASSERT_TRUE(l[E_RSA_SIGN].seen);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- keys ---- */

static void test_algorithms_by_type(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS, CRYPT_VERIFYCONTEXT));
	CHECK_FAILS_WITH(CryptGenKey(h, CALG_RSA_SIGN, 0, &k), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptGenKey(h, CALG_RSA_KEYX, 0, &k), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptGenKey(h, AT_KEYEXCHANGE, 0, &k), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptGenKey(h, CALG_AES_128, 0, &k), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptGenKey(h, CALG_3DES, 0, &k), NTE_BAD_ALGID);
	/* Nor from a hash. */
	{
		HCRYPTHASH hash;

		CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hash));
		CU_ASSERT_TRUE(CryptHashData(hash, (const BYTE *)"pass", 4, 0));
		CHECK_FAILS_WITH(CryptDeriveKey(h, CALG_AES_128, hash, 0, &k), NTE_BAD_ALGID);
		CU_ASSERT_TRUE(CryptDestroyHash(hash));
	}
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	CHECK_FAILS_WITH(CryptGenKey(h, CALG_RSA_SIGN, 0, &k), NTE_BAD_ALGID);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGenKey(h, CALG_3DES, 0, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_3DES);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_FULL, CRYPT_VERIFYCONTEXT));
	CHECK_FAILS_WITH(CryptGenKey(h, CALG_DSS_SIGN, 0, &k), NTE_BAD_ALGID);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* A number CryptGetKeyParam gives, little-endian, as openssl's hex. */
static char *param_hex(HCRYPTKEY k, DWORD param, DWORD *len)
{
	BYTE buf[256], be[256];
	DWORD i;

	*len = 0;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGetKeyParam(k, param, NULL, len, 0));
	CU_ASSERT_TRUE_FATAL(*len > 0 && *len <= sizeof buf);
	CU_ASSERT_TRUE(CryptGetKeyParam(k, param, buf, len, 0));
	for (i = 0; i < *len; i++)
		be[i] = buf[*len - 1 - i];
	return testutil_hex_new(be, *len);
}

static void test_genkey(void)
{
	static const DWORD bad_bits[] = { 448, 520, 1000, 1088 };
	HCRYPTPROV h, rsa;
	HCRYPTKEY k, k2, r;
	DWORD len;
	size_t i;
	char *p, *q, *g, *p2, *p_new;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dss-gen", uri, PROV_DSS, CRYPT_NEWKEYSET));
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_SIGNATURE, &k), NTE_NO_KEY);
	SetLastError(SENTINEL);
	/* SoftHSM 2.6.1 over OpenSSL 3 makes domain parameters of every
	 * length but key pairs of 1024 bits alone. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 1024 << 16, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_DSS_SIGN);
	CU_ASSERT_EQUAL(key_dword(k, KP_KEYLEN), 1024);
	/* Not exportable unless asked. */
	CU_ASSERT_EQUAL(key_dword(k, KP_PERMISSIONS) & CRYPT_EXPORT, 0);
	p = param_hex(k, KP_P, &len);
	CU_ASSERT_EQUAL(len, 128);
	q = param_hex(k, KP_Q, &len);
	CU_ASSERT_EQUAL(len, 20);
	g = param_hex(k, KP_G, &len);
	CU_ASSERT_TRUE(len > 0 && len <= 128);
	/* p and q are primes, q divides p - 1 and g has order q: openssl's
	 * own check of DSA domain parameters. */
	{
		char cmd[2048];
		int status = -1;
		char *out;

		snprintf(cmd, sizeof cmd,
			 "printf 'asn1=SEQUENCE:params\\n[params]\\np=INTEGER:0x%s\\n"
			 "q=INTEGER:0x%s\\ng=INTEGER:0x%s\\n' > %s/dssparam.cnf && "
			 "openssl asn1parse -genconf %s/dssparam.cnf -out %s/dssparam.der >/dev/null && "
			 "{ echo '-----BEGIN DSA PARAMETERS-----'; base64 -w64 %s/dssparam.der; "
			 "echo '-----END DSA PARAMETERS-----'; } > %s/dssparam.pem && "
			 "openssl pkeyparam -in %s/dssparam.pem -check -noout",
			 p, q, g, fixture_dir(), fixture_dir(), fixture_dir(), fixture_dir(),
			 fixture_dir(), fixture_dir());
		out = fixture_capture(&status, "%s", cmd);
		CU_ASSERT_EQUAL(status, 0);
		free(out);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_EQUAL(private_keys("dss-gen"), 1);

	/* The container's DSS key, found again; a new one replaces it. */
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_DSS_SIGN);
	CU_ASSERT_EQUAL(key_dword(k, KP_KEYLEN), 1024);
	p2 = param_hex(k, KP_P, &len);
	CU_ASSERT_STRING_EQUAL(p2, p);
	free(p2);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DSS_SIGN, CRYPT_EXPORTABLE, &k2));
	CU_ASSERT_EQUAL(key_dword(k2, KP_KEYLEN), 1024);
	CU_ASSERT_EQUAL(key_dword(k2, KP_PERMISSIONS) & CRYPT_EXPORT, CRYPT_EXPORT);
	p_new = param_hex(k2, KP_P, &len);
	CU_ASSERT_STRING_NOT_EQUAL(p_new, p);
	CU_ASSERT_TRUE(CryptDestroyKey(k2));
	CU_ASSERT_EQUAL(private_keys("dss-gen"), 1);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &k));
	p2 = param_hex(k, KP_P, &len);
	CU_ASSERT_STRING_EQUAL(p2, p_new);
	free(p2);
	CU_ASSERT_EQUAL(key_dword(k, KP_PERMISSIONS) & CRYPT_EXPORT, CRYPT_EXPORT);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_KEYEXCHANGE, &k), NTE_NO_KEY);

	/* The RSA types do not see the DSS key, and their own signature key
	 * does not replace it. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&rsa, "dss-gen", uri, PROV_RSA_FULL, 0));
	CHECK_FAILS_WITH(CryptGetUserKey(rsa, AT_SIGNATURE, &r), NTE_NO_KEY);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(rsa, AT_SIGNATURE, 1024 << 16, &r));
	CU_ASSERT_EQUAL(key_dword(r, KP_ALGID), CALG_RSA_SIGN);
	CU_ASSERT_TRUE(CryptDestroyKey(r));
	CU_ASSERT_EQUAL(private_keys("dss-gen"), 2);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_DSS_SIGN);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(rsa, AT_SIGNATURE, &r));
	CU_ASSERT_EQUAL(key_dword(r, KP_ALGID), CALG_RSA_SIGN);
	/* KP_P and its kin are DSS numbers. */
	len = 0;
	CHECK_FAILS_WITH(CryptGetKeyParam(r, KP_P, NULL, &len, 0), NTE_BAD_TYPE);
	CU_ASSERT_TRUE(CryptDestroyKey(r));
	CU_ASSERT_TRUE(CryptReleaseContext(rsa, 0));

	/* Lengths outside 512..1024 or off the 64-bit steps: nothing made. */
	for (i = 0; i < sizeof bad_bits / sizeof bad_bits[0]; i++)
		CHECK_FAILS_WITH(CryptGenKey(h, AT_SIGNATURE, bad_bits[i] << 16, &k), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(private_keys("dss-gen"), 2);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &k));
	p2 = param_hex(k, KP_P, &len);
	CU_ASSERT_STRING_EQUAL(p2, p_new);
	free(p2);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dss-gen", uri, PROV_DSS, CRYPT_DELETEKEYSET));
	CU_ASSERT_EQUAL(private_keys("dss-gen"), 0);
	free(p);
	free(p_new);
	free(q);
	free(g);
}

static void test_genkey_default_and_verify(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k;

	/* A verify context keeps its pair in memory, as for RSA; the default
	 * length is Microsoft's 1024. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS, CRYPT_VERIFYCONTEXT));
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_SIGNATURE, &k), NTE_NO_KEY);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 0, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_KEYLEN), 1024);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_DSS_SIGN);
	CU_ASSERT_EQUAL(key_dword(k, KP_KEYLEN), 1024);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}


/* ---- blobs ---- */

/* The 24 bytes of a version 2 blob's DSSSEED. */
#define SEED_STRUCT 24

static BYTE *export_blob(HCRYPTKEY k, DWORD type, DWORD flags, DWORD *len)
{
	BYTE *blob;
	DWORD size = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, type, flags, NULL, &size));
	blob = malloc(size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	*len = size;
	CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, type, flags, blob, len));
	CU_ASSERT_EQUAL(*len, size);
	return blob;
}

/* Runs openssl with a blob written to a file; returns its stdout and
 * stores its exit status. */
static char *openssl_on_blob(const BYTE *blob, DWORD len, int *status, const char *args)
{
	char *path = testutil_temp_write("dssblob", blob, len);
	char *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	out = fixture_capture(status, "%s dsa %s -in %s", OPENSSL_BIN, args, path);
	free(path);
	return out;
}

/* openssl's MSBLOB writing of what it read from blob: the public blob of
 * a private key blob (openssl derives y from x), or the same blob again. */
static BYTE *openssl_rewrite(const BYTE *blob, DWORD len, bool in_private, bool out_public,
			     DWORD *out_len)
{
	char *in = testutil_temp_write("dssin", blob, len);
	char *outp = testutil_temp_path("dssout");
	BYTE *out;
	int st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	st = fixture_run("%s dsa -inform MSBLOB %s -in %s -outform MSBLOB %s -out %s", OPENSSL_BIN,
			 in_private ? "" : "-pubin", in, out_public ? "-pubout" : "", outp);
	CU_ASSERT_EQUAL(st, 0);
	out = testutil_file_load(outp, out_len);
	free(in);
	free(outp);
	return out;
}

/* Whether two version 2 blobs are equal but for the DSSSEED at their end:
 * openssl writes 0xff bytes there, capi11 Windows' counter 0xffffffff and
 * zero seed bytes. Checks capi11's seed is that. */
static bool same_but_seed(const BYTE *capi, DWORD capi_len, const BYTE *other, DWORD other_len)
{
	static const BYTE no_seed[SEED_STRUCT] = { 0xff, 0xff, 0xff, 0xff };

	if (capi_len != other_len || capi_len < SEED_STRUCT)
		return false;
	return memcmp(capi, other, capi_len - SEED_STRUCT) == 0 &&
	       memcmp(capi + capi_len - SEED_STRUCT, no_seed, SEED_STRUCT) == 0;
}

/* A DSA key made by openssl, as its MSBLOB private and public blobs. */
static void openssl_dsa_key(BYTE **priv, DWORD *priv_len, BYTE **pub, DWORD *pub_len)
{
	char *pem = testutil_temp_path("dsakey");
	char *prm = testutil_temp_path("dsaprm");
	char *privp = testutil_temp_path("dsapriv");
	char *pubp = testutil_temp_path("dsapub");

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genpkey -genparam -algorithm DSA "
					  "-pkeyopt dsa_paramgen_bits:1024 "
					  "-pkeyopt dsa_paramgen_q_bits:160 -out %s && "
					  "%s genpkey -paramfile %s -out %s && "
					  "%s dsa -in %s -outform MSBLOB -out %s && "
					  "%s dsa -in %s -pubout -outform MSBLOB -out %s",
					  OPENSSL_BIN, prm, OPENSSL_BIN, prm, pem, OPENSSL_BIN, pem,
					  privp, OPENSSL_BIN, pem, pubp), 0);
	*priv = testutil_file_load(privp, priv_len);
	*pub = testutil_file_load(pubp, pub_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*priv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*pub);
	free(pem);
	free(prm);
	free(privp);
	free(pubp);
}

static void test_blobs_of_token_keys(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k;
	BYTE *pub, *priv, *pub3, *priv3, *again;
	DWORD pub_len, priv_len, pub3_len, priv3_len, again_len, len;
	char *out;
	int st;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dss-blobs", uri, PROV_DSS, CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, CRYPT_EXPORTABLE, &k));
	pub = export_blob(k, PUBLICKEYBLOB, 0, &pub_len);
	priv = export_blob(k, PRIVATEKEYBLOB, 0, &priv_len);
	/* Microsoft's sizes: 8 + 8 + 3 * 128 + 20 + 24, and 8 + 8 + 2 * 128 +
	 * 20 + 20 + 24. */
	CU_ASSERT_EQUAL(pub_len, 444);
	CU_ASSERT_EQUAL(priv_len, 336);
	CU_ASSERT_EQUAL(testutil_le32(pub + 8), 0x31535344);
	CU_ASSERT_EQUAL(testutil_le32(priv + 8), 0x32535344);
	CU_ASSERT_EQUAL(testutil_le32(pub + 4), CALG_DSS_SIGN);
	/* CRYPT_Y_ONLY changes nothing. */
	again = export_blob(k, PUBLICKEYBLOB, CRYPT_Y_ONLY, &again_len);
	CU_ASSERT_TRUE(again_len == pub_len && memcmp(again, pub, pub_len) == 0);
	free(again);

	/* openssl reads both; from the private blob it computes y itself and
	 * writes the public blob capi11 wrote, seed aside. */
	out = openssl_on_blob(pub, pub_len, &st, "-pubin -inform MSBLOB -noout -text");
	CU_ASSERT_EQUAL(st, 0);
	free(out);
	out = openssl_on_blob(priv, priv_len, &st, "-inform MSBLOB -noout -text");
	CU_ASSERT_EQUAL(st, 0);
	free(out);
	again = openssl_rewrite(priv, priv_len, true, true, &again_len);
	CU_ASSERT_TRUE(same_but_seed(pub, pub_len, again, again_len));
	free(again);
	again = openssl_rewrite(priv, priv_len, true, false, &again_len);
	CU_ASSERT_TRUE(same_but_seed(priv, priv_len, again, again_len));
	free(again);

	/* Version 3: the same numbers in the DSSPUBKEY_VER3/DSSPRIVKEY_VER3
	 * layout, no J, no seed. */
	pub3 = export_blob(k, PUBLICKEYBLOB, CRYPT_BLOB_VER3, &pub3_len);
	priv3 = export_blob(k, PRIVATEKEYBLOB, CRYPT_BLOB_VER3, &priv3_len);
	CU_ASSERT_EQUAL(pub3_len, 8 + 40 + 3 * 128 + 20);
	CU_ASSERT_EQUAL(priv3_len, 8 + 44 + 3 * 128 + 20 + 20);
	CU_ASSERT_EQUAL(pub3[1], 3);
	CU_ASSERT_EQUAL(testutil_le32(pub3 + 8), 0x33535344);
	CU_ASSERT_EQUAL(testutil_le32(pub3 + 12), 1024);
	CU_ASSERT_EQUAL(testutil_le32(pub3 + 16), 160);
	CU_ASSERT_EQUAL(testutil_le32(pub3 + 20), 0);
	CU_ASSERT_EQUAL(testutil_le32(pub3 + 24), 0xffffffffu);
	CU_ASSERT_EQUAL(testutil_le32(priv3 + 8), 0x34535344);
	CU_ASSERT_EQUAL(testutil_le32(priv3 + 24), 160);
	CU_ASSERT_EQUAL(testutil_le32(priv3 + 28), 0xffffffffu);
	/* p q g y of version 3 are p q g y of version 2; x follows y. */
	CU_ASSERT_EQUAL(memcmp(pub3 + 48, pub + 16, 3 * 128 + 20), 0);
	CU_ASSERT_EQUAL(memcmp(priv3 + 52, pub + 16, 3 * 128 + 20), 0);
	CU_ASSERT_EQUAL(memcmp(priv3 + 52 + 3 * 128 + 20, priv + 16 + 2 * 128 + 20, 20), 0);

	/* A key that is not exportable stays in: RSA's rule. */
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 0, &k));
	len = 0;
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PRIVATEKEYBLOB, CRYPT_BLOB_VER3, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PLAINTEXTKEYBLOB, 0, NULL, &len), NTE_BAD_KEY);
	/* ... and its public blob leaves as any. */
	again = export_blob(k, PUBLICKEYBLOB, 0, &again_len);
	CU_ASSERT_EQUAL(again_len, 444);
	free(again);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	/* Import takes both versions: the version 3 private blob makes the
	 * pair whose version 2 blobs are the first ones. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dss-blobs", uri, PROV_DSS, 0));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv3, priv3_len, 0, CRYPT_EXPORTABLE, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_DSS_SIGN);
	CU_ASSERT_EQUAL(key_dword(k, KP_KEYLEN), 1024);
	CU_ASSERT_TRUE(testutil_exports_as(k, PUBLICKEYBLOB, pub, pub_len));
	CU_ASSERT_TRUE(testutil_exports_as(k, PRIVATEKEYBLOB, priv, priv_len));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_EQUAL(private_keys("dss-blobs"), 1);
	/* It is the container's signature key now. */
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &k));
	CU_ASSERT_TRUE(testutil_exports_as(k, PUBLICKEYBLOB, pub, pub_len));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	/* A public blob of either version is a key in no container. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub3, pub3_len, 0, 0, &k));
	CU_ASSERT_TRUE(testutil_exports_as(k, PUBLICKEYBLOB, pub, pub_len));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &k));
	again = export_blob(k, PUBLICKEYBLOB, CRYPT_BLOB_VER3, &again_len);
	CU_ASSERT_TRUE(again_len == pub3_len && memcmp(again, pub3, pub3_len) == 0);
	free(again);
	len = 0;
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_EQUAL(private_keys("dss-blobs"), 1);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dss-blobs", uri, PROV_DSS, CRYPT_DELETEKEYSET));
	free(pub);
	free(priv);
	free(pub3);
	free(priv3);
}

static void test_blobs_of_openssl(void)
{
	BYTE *priv, *pub, *mine;
	DWORD priv_len, pub_len, mine_len;
	HCRYPTPROV h;
	HCRYPTKEY k;

	openssl_dsa_key(&priv, &priv_len, &pub, &pub_len);
	CU_ASSERT_EQUAL(priv_len, 336);
	CU_ASSERT_EQUAL(pub_len, 444);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dss-ossl", uri, PROV_DSS, CRYPT_NEWKEYSET));
	/* The public blob: the same numbers out as in. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &k));
	mine = export_blob(k, PUBLICKEYBLOB, 0, &mine_len);
	CU_ASSERT_TRUE(same_but_seed(mine, mine_len, pub, pub_len));
	free(mine);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	/* The private blob, into the container. It carries no y: the token
	 * computes it, and the public blob is openssl's. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, CRYPT_EXPORTABLE, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_DSS_SIGN);
	mine = export_blob(k, PRIVATEKEYBLOB, 0, &mine_len);
	CU_ASSERT_TRUE(same_but_seed(mine, mine_len, priv, priv_len));
	free(mine);
	mine = export_blob(k, PUBLICKEYBLOB, 0, &mine_len);
	CU_ASSERT_TRUE(same_but_seed(mine, mine_len, pub, pub_len));
	free(mine);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_EQUAL(private_keys("dss-ossl"), 1);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dss-ossl", uri, PROV_DSS, CRYPT_DELETEKEYSET));
	free(priv);
	free(pub);
}

/* A token that will not destroy the temporary key holding x (made to
 * compute y of a version-2 private blob): the session it sits on is not
 * pooled but closed when the context is released, which destroys it. */
static void test_temporary_key_not_pooled(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	char *shim_uri = fixture_token_uri_shim(label, true);
	BYTE *priv, *pub;
	DWORD priv_len, pub_len;
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;
	unsigned long closes;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	CU_ASSERT_PTR_NOT_NULL_FATAL(shim_uri);
	openssl_dsa_key(&priv, &priv_len, &pub, &pub_len);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, shim_uri, PROV_DSS,
						  CRYPT_VERIFYCONTEXT));
	shim->reset();
	shim->fail("C_DestroyObject", 0, CKR_ACTION_PROHIBITED);
	CU_ASSERT_TRUE(CryptImportKey(h, priv, priv_len, 0, 0, &k));
	CU_ASSERT(shim->count("C_DestroyObject") >= 1);
	closes = shim->count("C_CloseSession");
	if (k != 0)
		CryptDestroyKey(k);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_EQUAL(shim->count("C_CloseSession"), closes + 1);
	shim->reset();
	free(priv);
	free(pub);
	free(shim_uri);
}

/* Imports a changed copy of blob; it must fail with code and leave the
 * container's private keys as they were. */
static void check_bad(HCRYPTPROV h, const BYTE *blob, DWORD len, DWORD code, const char *container,
		      int keys)
{
	HCRYPTKEY k = 0;

	CHECK_FAILS_WITH(CryptImportKey(h, blob, len, 0, CRYPT_EXPORTABLE, &k), code);
	if (GetLastError() != code)
		fprintf(stderr, "want 0x%08lx got 0x%08lx (magic %08lx bitlen %lu)\n",
			(unsigned long)code, (unsigned long)GetLastError(),
			(unsigned long)testutil_le32(blob + 8), (unsigned long)testutil_le32(blob + 12));
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_EQUAL(private_keys(container), keys);
}

static void test_bad_blobs(void)
{
	HCRYPTPROV h, rsa;
	HCRYPTKEY k;
	BYTE *blobs[4], *copy;
	DWORD lens[4], i, cut;
	int keys;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dss-bad", uri, PROV_DSS, CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, CRYPT_EXPORTABLE, &k));
	blobs[0] = export_blob(k, PUBLICKEYBLOB, 0, &lens[0]);
	blobs[1] = export_blob(k, PRIVATEKEYBLOB, 0, &lens[1]);
	blobs[2] = export_blob(k, PUBLICKEYBLOB, CRYPT_BLOB_VER3, &lens[2]);
	blobs[3] = export_blob(k, PRIVATEKEYBLOB, CRYPT_BLOB_VER3, &lens[3]);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	keys = private_keys("dss-bad");
	CU_ASSERT_EQUAL(keys, 1);

	/* Every truncation (an empty blob is ERROR_INVALID_PARAMETER at the
	 * API, as for every blob type). */
	for (i = 0; i < 4; i++) {
		for (cut = 1; cut < lens[i]; cut++) {
			SetLastError(SENTINEL);
			k = 0;
			if (CryptImportKey(h, blobs[i], cut, 0, CRYPT_EXPORTABLE, &k)) {
				CU_FAIL("a truncated DSS blob was imported");
				CryptDestroyKey(k);
			} else if (GetLastError() != NTE_BAD_DATA) {
				CU_FAIL("a truncated DSS blob did not give NTE_BAD_DATA");
			}
		}
	}
	CU_ASSERT_EQUAL(private_keys("dss-bad"), keys);

	copy = malloc(lens[3]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
#define MUTATE(which, stmt, code) do { \
		memcpy(copy, blobs[which], lens[which]); \
		stmt; \
		check_bad(h, copy, lens[which], code, "dss-bad", keys); \
	} while (0)
	/* Magic of the other type or version. */
	MUTATE(0, testutil_le32_put(copy + 8, 0x32535344), NTE_BAD_DATA);
	MUTATE(1, testutil_le32_put(copy + 8, 0x31535344), NTE_BAD_DATA);
	MUTATE(1, testutil_le32_put(copy + 8, 0x34535344), NTE_BAD_DATA);
	MUTATE(3, testutil_le32_put(copy + 8, 0x32535344), NTE_BAD_DATA);
	MUTATE(1, copy[1] = 3, NTE_BAD_DATA);
	MUTATE(3, copy[1] = 2, NTE_BAD_DATA);
	/* Lengths outside Microsoft's: 1000 bits, 448, 2048; q or x not 160. */
	MUTATE(1, testutil_le32_put(copy + 12, 1000), NTE_BAD_DATA);
	MUTATE(1, testutil_le32_put(copy + 12, 448), NTE_BAD_DATA);
	MUTATE(0, testutil_le32_put(copy + 12, 2048), NTE_BAD_DATA);
	MUTATE(1, testutil_le32_put(copy + 12, 0xffffffc0u), NTE_BAD_DATA);
	MUTATE(3, testutil_le32_put(copy + 16, 128), NTE_BAD_DATA);
	MUTATE(3, testutil_le32_put(copy + 24, 152), NTE_BAD_DATA);
	MUTATE(3, testutil_le32_put(copy + 20, 1032), NTE_BAD_DATA);
	MUTATE(2, testutil_le32_put(copy + 20, 0xfffffff8u), NTE_BAD_DATA);
	/* A J the blob says it has but does not carry: too short. */
	MUTATE(3, testutil_le32_put(copy + 20, 864), NTE_BAD_DATA);
	/* p or q without its top bit. */
	MUTATE(1, copy[16 + 127] &= 0x7f, NTE_BAD_DATA);
	MUTATE(1, copy[16 + 128 + 19] &= 0x7f, NTE_BAD_DATA);
	/* g of 0 or 1, g = p; y of 0; x of 0, x = q. */
	MUTATE(1, memset(copy + 16 + 148, 0, 128), NTE_BAD_DATA);
	MUTATE(1, (memset(copy + 16 + 148, 0, 128), copy[16 + 148] = 1), NTE_BAD_DATA);
	MUTATE(1, memcpy(copy + 16 + 148, copy + 16, 128), NTE_BAD_DATA);
	MUTATE(0, memset(copy + 16 + 276, 0, 128), NTE_BAD_DATA);
	MUTATE(1, memset(copy + 16 + 276, 0, 20), NTE_BAD_DATA);
	MUTATE(1, memcpy(copy + 16 + 276, copy + 16 + 128, 20), NTE_BAD_DATA);
	/* A version 3 private blob whose y is not g^x mod p (here y = g):
	 * the container would get a public half that is not its private
	 * key's. */
	MUTATE(3, memcpy(copy + 52 + 276, copy + 52 + 148, 128), NTE_BAD_DATA);
	MUTATE(3, copy[52 + 276] ^= 1, NTE_BAD_DATA);
	/* A DSS blob that names another algorithm is read as that
	 * algorithm's: RSA is none of PROV_DSS's. */
	MUTATE(1, testutil_le32_put(copy + 4, CALG_RSA_SIGN), NTE_BAD_ALGID);
	MUTATE(1, testutil_le32_put(copy + 4, CALG_DH_SF), NTE_BAD_ALGID);
#undef MUTATE
	free(copy);

	/* An RSA context takes no DSS blob. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&rsa, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	CHECK_FAILS_WITH(CryptImportKey(rsa, blobs[0], lens[0], 0, 0, &k), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptImportKey(rsa, blobs[1], lens[1], 0, 0, &k), NTE_BAD_ALGID);
	CU_ASSERT_TRUE(CryptReleaseContext(rsa, 0));
	CU_ASSERT_EQUAL(private_keys("dss-bad"), keys);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dss-bad", uri, PROV_DSS, CRYPT_DELETEKEYSET));
	for (i = 0; i < 4; i++)
		free(blobs[i]);
}


/* A PRIVATEKEYBLOB under a session key (PROV_DSS_DH has them): the
 * header in clear, the rest as CryptEncrypt with that key gives it. */
static void test_encrypted_private_blob(void)
{
	HCRYPTPROV h, h2;
	HCRYPTKEY k, sk, sk_copy, sk2, k2;
	BYTE *plain, *enc, *dec, *key_blob;
	DWORD plain_len, enc_len, dec_len, key_len, size, v;

	for (v = 0; v < 2; v++) {
		DWORD flags = v ? CRYPT_BLOB_VER3 : 0;

		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dss-enc", uri, PROV_DSS_DH,
							  CRYPT_NEWKEYSET));
		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h2, "dss-enc2", uri, PROV_DSS_DH,
							  CRYPT_NEWKEYSET));
		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, CRYPT_EXPORTABLE, &k));
		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_3DES, CRYPT_EXPORTABLE, &sk));
		/* The session key, also in the second context. */
		key_blob = export_blob(sk, PLAINTEXTKEYBLOB, 0, &key_len);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, key_blob, key_len, 0, 0, &sk2));
		free(key_blob);

		plain = export_blob(k, PRIVATEKEYBLOB, flags, &plain_len);
		size = 0;
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptExportKey(k, sk, PRIVATEKEYBLOB, flags, NULL, &size));
		enc = malloc(size);
		CU_ASSERT_PTR_NOT_NULL_FATAL(enc);
		enc_len = size;
		CU_ASSERT_TRUE_FATAL(CryptExportKey(k, sk, PRIVATEKEYBLOB, flags, enc, &enc_len));
		/* 3DES-CBC with PKCS#5 padding: up to one block more. */
		CU_ASSERT_TRUE(enc_len > plain_len && enc_len <= plain_len + 8);
		CU_ASSERT_EQUAL(memcmp(enc, plain, 8), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(enc + 8, plain + 8, plain_len - 8), 0);
		/* CryptDecrypt with a copy of the session key gives the plain blob. */
		CU_ASSERT_TRUE_FATAL(CryptDuplicateKey(sk, NULL, 0, &sk_copy));
		dec = malloc(enc_len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(dec);
		memcpy(dec, enc, enc_len);
		dec_len = enc_len - 8;
		CU_ASSERT_TRUE(CryptDecrypt(sk_copy, 0, TRUE, 0, dec + 8, &dec_len));
		CU_ASSERT_TRUE(dec_len + 8 == plain_len && memcmp(dec, plain, plain_len) == 0);
		CU_ASSERT_TRUE(CryptDestroyKey(sk_copy));
		free(dec);

		/* Imported under the same key into another container: the same
		 * key comes out. A wrong byte in the first block garbles the
		 * magic: NTE_BAD_DATA, nothing made. */
		enc[8] ^= 0x55;
		CHECK_FAILS_WITH(CryptImportKey(h2, enc, enc_len, sk2, CRYPT_EXPORTABLE, &k2),
				 NTE_BAD_DATA);
		CU_ASSERT_EQUAL(private_keys("dss-enc2"), 0);
		enc[8] ^= 0x55;
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, enc, enc_len, sk2, CRYPT_EXPORTABLE, &k2));
		dec = export_blob(k2, PRIVATEKEYBLOB, flags, &dec_len);
		CU_ASSERT_TRUE(dec_len == plain_len && memcmp(dec, plain, plain_len) == 0);
		free(dec);
		CU_ASSERT_EQUAL(private_keys("dss-enc2"), 1);

		CU_ASSERT_TRUE(CryptDestroyKey(k2));
		CU_ASSERT_TRUE(CryptDestroyKey(sk2));
		CU_ASSERT_TRUE(CryptDestroyKey(k));
		CU_ASSERT_TRUE(CryptDestroyKey(sk));
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
		CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
		CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dss-enc", uri, PROV_DSS_DH,
						    CRYPT_DELETEKEYSET));
		CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dss-enc2", uri, PROV_DSS_DH,
						    CRYPT_DELETEKEYSET));
		free(plain);
		free(enc);
	}
}

/* ---- signatures ---- */

/* Windows' 40-byte signature (r, s little-endian) as DER Dss-Sig-Value,
 * what openssl verifies; returns its length. */
static size_t sig_to_der(const BYTE sig[40], BYTE der[48])
{
	size_t n = 2, half, i;

	der[0] = 0x30;
	for (half = 0; half < 2; half++) {
		BYTE be[21];
		size_t start = 0, len;

		be[0] = 0;
		for (i = 0; i < 20; i++)
			be[1 + i] = sig[half * 20 + 19 - i];
		/* Minimal INTEGER: no leading zero unless the sign bit needs one. */
		while (start < 20 && be[start] == 0 && !(be[start + 1] & 0x80))
			start++;
		len = 21 - start;
		der[n++] = 0x02;
		der[n++] = (BYTE)len;
		memcpy(der + n, be + start, len);
		n += len;
	}
	der[1] = (BYTE)(n - 2);
	return n;
}

/* The inverse, for openssl's signatures; false when der is not one. */
static bool der_to_sig(const BYTE *der, size_t der_len, BYTE sig[40])
{
	size_t pos = 2, half, len, i;

	if (der_len < 8 || der[0] != 0x30 || der[1] != der_len - 2)
		return false;
	memset(sig, 0, 40);
	for (half = 0; half < 2; half++) {
		if (pos + 2 > der_len || der[pos] != 0x02)
			return false;
		len = der[pos + 1];
		pos += 2;
		if (pos + len > der_len)
			return false;
		while (len > 20 && der[pos] == 0) {
			pos++;
			len--;
		}
		if (len > 20)
			return false;
		for (i = 0; i < len; i++)
			sig[half * 20 + i] = der[pos + len - 1 - i];
		pos += len;
	}
	return pos == der_len;
}

static HCRYPTHASH sha1_of(HCRYPTPROV h, const BYTE *data, DWORD len)
{
	HCRYPTHASH hash = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hash));
	CU_ASSERT_TRUE(CryptHashData(hash, data, len, 0));
	return hash;
}

/* Whether openssl verifies a 40-byte signature of data under the public
 * key of a DSS PUBLICKEYBLOB. */
static bool openssl_verifies(const BYTE *pub, DWORD pub_len, const BYTE *data, size_t data_len,
			     const BYTE sig[40])
{
	BYTE der[48];
	size_t der_len = sig_to_der(sig, der);
	char *blob = testutil_temp_write("sigpub", pub, pub_len);
	char *msg = testutil_temp_write("sigmsg", data, data_len);
	char *sigp = testutil_temp_write("sigder", der, der_len);
	char *pem = testutil_temp_path("sigpem");
	int st;

	st = fixture_run("%s dsa -pubin -inform MSBLOB -in %s -pubout -out %s && "
			 "%s dgst -sha1 -verify %s -signature %s %s",
			 OPENSSL_BIN, blob, pem, OPENSSL_BIN, pem, sigp, msg);
	free(blob);
	free(msg);
	free(sigp);
	free(pem);
	return st == 0;
}

static const BYTE message[] = "The DSS provider signs the SHA-1 value of this text.";

static void test_sign_for_openssl(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k;
	HCRYPTHASH hash;
	BYTE sig[64], *pub;
	DWORD len, pub_len;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dss-sign", uri, PROV_DSS, CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 0, &k));
	pub = export_blob(k, PUBLICKEYBLOB, 0, &pub_len);

	hash = sha1_of(h, message, sizeof message);
	/* The size first: Windows' 40 bytes. */
	len = 0;
	CU_ASSERT_TRUE(CryptSignHashA(hash, AT_SIGNATURE, NULL, 0, NULL, &len));
	CU_ASSERT_EQUAL(len, 40);
	len = 39;
	CHECK_FAILS_WITH(CryptSignHashA(hash, AT_SIGNATURE, NULL, 0, sig, &len), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, 40);
	len = sizeof sig;
	CU_ASSERT_TRUE_FATAL(CryptSignHashA(hash, AT_SIGNATURE, NULL, 0, sig, &len));
	CU_ASSERT_EQUAL(len, 40);
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	CU_ASSERT_TRUE(openssl_verifies(pub, pub_len, message, sizeof message, sig));
	/* capi11 verifies it too, with the container's key or the public
	 * blob's; a changed byte of r or of s, or of the text, does not. */
	hash = sha1_of(h, message, sizeof message);
	CU_ASSERT_TRUE(CryptVerifySignatureA(hash, sig, 40, k, NULL, 0));
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	sig[0] ^= 1;
	CU_ASSERT_FALSE(openssl_verifies(pub, pub_len, message, sizeof message, sig));
	hash = sha1_of(h, message, sizeof message);
	CHECK_FAILS_WITH(CryptVerifySignatureA(hash, sig, 40, k, NULL, 0), NTE_BAD_SIGNATURE);
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	sig[0] ^= 1;
	sig[39] ^= 0x80;
	hash = sha1_of(h, message, sizeof message);
	CHECK_FAILS_WITH(CryptVerifySignatureA(hash, sig, 40, k, NULL, 0), NTE_BAD_SIGNATURE);
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	sig[39] ^= 0x80;
	hash = sha1_of(h, message, sizeof message - 1);
	CHECK_FAILS_WITH(CryptVerifySignatureA(hash, sig, 40, k, NULL, 0), NTE_BAD_SIGNATURE);
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	hash = sha1_of(h, message, sizeof message);
	CHECK_FAILS_WITH(CryptVerifySignatureA(hash, sig, 39, k, NULL, 0), NTE_BAD_SIGNATURE);
	CU_ASSERT_TRUE(CryptDestroyHash(hash));

	/* DSS signs SHA-1 values only; there is no exchange key to sign with. */
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_MD5, 0, 0, &hash));
	CU_ASSERT_TRUE(CryptHashData(hash, message, sizeof message, 0));
	len = sizeof sig;
	CHECK_FAILS_WITH(CryptSignHashA(hash, AT_SIGNATURE, NULL, 0, sig, &len), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptSignHashA(hash, AT_KEYEXCHANGE, NULL, 0, sig, &len), NTE_NO_KEY);
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dss-sign", uri, PROV_DSS, CRYPT_DELETEKEYSET));
	free(pub);
}

static void test_openssl_signatures(void)
{
	BYTE *priv, *pub, der[64], sig[64];
	DWORD priv_len, pub_len, len;
	char *msg, *pem, *sigp, *privp;
	BYTE *der_file;
	DWORD der_len = 0;
	HCRYPTPROV h;
	HCRYPTKEY k, kp;
	HCRYPTHASH hash;

	openssl_dsa_key(&priv, &priv_len, &pub, &pub_len);
	/* openssl signs; capi11 verifies with the public blob. */
	privp = testutil_temp_write("osslpriv", priv, priv_len);
	msg = testutil_temp_write("osslmsg", message, sizeof message);
	pem = testutil_temp_path("osslpem");
	sigp = testutil_temp_path("osslsig");
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s dsa -inform MSBLOB -in %s -out %s && "
					  "%s dgst -sha1 -sign %s -out %s %s", OPENSSL_BIN, privp,
					  pem, OPENSSL_BIN, pem, sigp, msg), 0);
	der_file = testutil_file_load(sigp, &der_len);
	CU_ASSERT_TRUE_FATAL(der_len <= sizeof der);
	memcpy(der, der_file, der_len);
	CU_ASSERT_TRUE_FATAL(der_to_sig(der, der_len, sig));

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dss-ossl-sig", uri, PROV_DSS,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &k));
	hash = sha1_of(h, message, sizeof message);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptVerifySignatureA(hash, sig, 40, k, NULL, 0));
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	sig[20] ^= 4;
	hash = sha1_of(h, message, sizeof message);
	CHECK_FAILS_WITH(CryptVerifySignatureA(hash, sig, 40, k, NULL, 0), NTE_BAD_SIGNATURE);
	CU_ASSERT_TRUE(CryptDestroyHash(hash));

	/* openssl's private key, imported, signs what openssl verifies, and
	 * verifies it with the public half the token computed. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, 0, &kp));
	hash = sha1_of(h, message, sizeof message);
	len = sizeof sig;
	CU_ASSERT_TRUE(CryptSignHashA(hash, AT_SIGNATURE, NULL, 0, sig, &len));
	CU_ASSERT_EQUAL(len, 40);
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	CU_ASSERT_TRUE(openssl_verifies(pub, pub_len, message, sizeof message, sig));
	hash = sha1_of(h, message, sizeof message);
	CU_ASSERT_TRUE(CryptVerifySignatureA(hash, sig, 40, k, NULL, 0));
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	hash = sha1_of(h, message, sizeof message);
	CU_ASSERT_TRUE(CryptVerifySignatureA(hash, sig, 40, kp, NULL, 0));
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	CU_ASSERT_TRUE(CryptDestroyKey(kp));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dss-ossl-sig", uri, PROV_DSS, CRYPT_DELETEKEYSET));
	free(der_file);
	free(priv);
	free(pub);
	free(privp);
	free(msg);
	free(pem);
	free(sigp);
}

static CU_TestInfo provider_tests[] = {
	{ "PROV_DSS and PROV_DSS_DH by type", test_acquire_types },
	{ "Microsoft's DSS names and configured types", test_acquire_names },
	{ "PP_ENUMALGS(_EX) of PROV_DSS", test_enum_dss },
	{ "PP_ENUMALGS(_EX) of PROV_DSS_DH and the RSA types", test_enum_dss_dh },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo key_tests[] = {
	{ "algorithms each type makes", test_algorithms_by_type },
	{ "DSS keys in a container", test_genkey },
	{ "DSS keys of a verify context", test_genkey_default_and_verify },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo blob_tests[] = {
	{ "blobs of keys made on the token, both versions", test_blobs_of_token_keys },
	{ "blobs written by openssl", test_blobs_of_openssl },
	{ "a temporary key the token keeps is not pooled", test_temporary_key_not_pooled },
	{ "truncated and inconsistent blobs", test_bad_blobs },
	{ "private blobs under a session key", test_encrypted_private_blob },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo sign_tests[] = {
	{ "signatures openssl verifies", test_sign_for_openssl },
	{ "openssl's signatures and keys", test_openssl_signatures },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "DSS providers", NULL, NULL, NULL, NULL, provider_tests },
	{ "DSS keys", NULL, NULL, NULL, NULL, key_tests },
	{ "DSS blobs", NULL, NULL, NULL, NULL, blob_tests },
	{ "DSS signatures", NULL, NULL, NULL, NULL, sign_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	setenv("CAPI11_CONF", "/dev/null", 1);
	label = fixture_token_make("dss");
	uri = fixture_token_uri(label);
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	free(uri);
	free(label);
	return rc;
}
