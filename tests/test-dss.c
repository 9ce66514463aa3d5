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

static CU_SuiteInfo suites[] = {
	{ "DSS providers", NULL, NULL, NULL, NULL, provider_tests },
	{ "DSS keys", NULL, NULL, NULL, NULL, key_tests },
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
