/* Windows' answers for the provider API where capi11 used to differ
 * (issue "the rest of the provider API"): the last error after a
 * successful acquire, the order of CryptAcquireContext's checks, flags
 * rsaenh accepts, PP_ENUMCONTAINERS sizes, the keyset parameters, KP_SALT
 * on an RSA key and a SIMPLEBLOB of an algorithm the token cannot hold.
 * Expected values cite Microsoft's pages (learn.microsoft.com, wincrypt.h
 * reference) or rsaenh's behaviour as Wine's conformance tests, run on
 * Windows, pin it. */
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPI11_TEST_N(a) (sizeof (a) / sizeof (a)[0])

static char *label;
static char *uri;

static DWORD prov_dword(HCRYPTPROV h, DWORD param)
{
	DWORD v = SENTINEL, len = sizeof v;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGetProvParam(h, param, (BYTE *)&v, &len, 0));
	CU_ASSERT_EQUAL(len, sizeof(DWORD));
	return v;
}

/* ---- CryptAcquireContext ---- */

static void test_success_clears_last_error(void)
{
	HCRYPTPROV h = 0;

	/* Wine's advapi32 conformance test (test_acquire_context) sets
	 * 0xdeadbeef and, on Windows, finds ERROR_SUCCESS or an informational
	 * code after success, never the old value. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_FULL, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_EQUAL(GetLastError(), ERROR_SUCCESS);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "provapi-new", uri, PROV_RSA_FULL,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_EQUAL(GetLastError(), ERROR_SUCCESS);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "provapi-new", uri, PROV_RSA_FULL,
					    CRYPT_DELETEKEYSET));
	CU_ASSERT_EQUAL(GetLastError(), ERROR_SUCCESS);
}

static void test_prov_type_first(void)
{
	/* The provider type is the first check: Wine's test_acquire_context
	 * (order "matches Windows XP's rsaenh.dll") gives NTE_BAD_PROV_TYPE for
	 * 0 and 1000; with phProv NULL as well the type still wins. */
	CHECK_FAILS_WITH(CryptAcquireContextA(NULL, NULL, uri, 0, 0), NTE_BAD_PROV_TYPE);
	CHECK_FAILS_WITH(CryptAcquireContextA(NULL, NULL, NULL, 1000, CRYPT_VERIFYCONTEXT),
			 NTE_BAD_PROV_TYPE);
	/* A valid type and no phProv: ERROR_INVALID_PARAMETER (Microsoft's
	 * CryptAcquireContext page: "One of the parameters contains a value
	 * that is not valid. This is most often a pointer that is not valid"). */
	CHECK_FAILS_WITH(CryptAcquireContextA(NULL, NULL, uri, PROV_RSA_FULL, CRYPT_VERIFYCONTEXT),
			 ERROR_INVALID_PARAMETER);
}

static void test_verify_newkeyset(void)
{
	HCRYPTPROV h = 0;
	DWORD len = 0;

	/* rsaenh's CPAcquireContext takes CRYPT_VERIFYCONTEXT | CRYPT_NEWKEYSET
	 * as a verify context: nothing is created. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_FULL,
						  CRYPT_VERIFYCONTEXT | CRYPT_NEWKEYSET));
	CU_ASSERT_EQUAL(GetLastError(), ERROR_SUCCESS);
	/* A verify context has no container: PP_CONTAINER is empty. */
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_CONTAINER, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 1);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* Deleting from a verify context stays an error (Microsoft: the
	 * CRYPT_VERIFYCONTEXT flag is for contexts without a key container). */
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_FULL,
					      CRYPT_VERIFYCONTEXT | CRYPT_DELETEKEYSET), NTE_BAD_FLAGS);
}

/* ---- CryptGetProvParam ---- */

static void test_enum_containers_sizes(void)
{
	HCRYPTPROV h = 0, v = 0;
	char name[400], small[4];
	DWORD len, flags = CRYPT_FIRST;
	int seen = 0;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "provapi-enum", uri, PROV_RSA_FULL,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&v, NULL, uri, PROV_RSA_FULL, CRYPT_VERIFYCONTEXT));
	/* rsaenh answers a size query with MAX_PATH + 1 (261), the most any
	 * name can need, whatever the names are. */
	len = 0;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGetProvParam(v, PP_ENUMCONTAINERS, NULL, &len, CRYPT_FIRST));
	CU_ASSERT_EQUAL(len, 261);
	/* A name that fits leaves *pdwDataLen as the caller gave it. */
	for (;;) {
		len = sizeof name;
		if (!CryptGetProvParam(v, PP_ENUMCONTAINERS, (BYTE *)name, &len, flags))
			break;
		flags = 0;
		CU_ASSERT_EQUAL(len, sizeof name);
		if (strcmp(name, "provapi-enum") == 0)
			seen++;
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	CU_ASSERT_EQUAL(seen, 1);
	/* Past the end a size query still answers the size (rsaenh). */
	len = 0;
	CU_ASSERT_TRUE(CryptGetProvParam(v, PP_ENUMCONTAINERS, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 261);
	/* Too small a buffer: ERROR_MORE_DATA and the size one buffer needs. */
	len = sizeof small;
	CHECK_FAILS_WITH(CryptGetProvParam(v, PP_ENUMCONTAINERS, (BYTE *)small, &len, CRYPT_FIRST),
			 ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, 261);
	CU_ASSERT_TRUE(CryptReleaseContext(v, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "provapi-enum", uri, PROV_RSA_FULL,
					    CRYPT_DELETEKEYSET));
}

static void test_keyset_params(void)
{
	HCRYPTPROV h = 0, m = 0, s = 0;
	BYTE buf[64];
	DWORD len = sizeof buf;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_FULL, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&m, NULL, uri, PROV_RSA_FULL,
						  CRYPT_VERIFYCONTEXT | CRYPT_MACHINE_KEYSET));
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&s, NULL, uri, PROV_RSA_FULL,
						  CRYPT_VERIFYCONTEXT | CRYPT_SILENT));
	/* CryptGetProvParam, PP_KEYSET_TYPE: "the DWORD will be set to the
	 * CRYPT_MACHINE_KEYSET flag if that flag was passed to the
	 * CryptAcquireContext function"; 0 otherwise. */
	CU_ASSERT_EQUAL(prov_dword(h, PP_KEYSET_TYPE), 0);
	CU_ASSERT_EQUAL(prov_dword(m, PP_KEYSET_TYPE), CRYPT_MACHINE_KEYSET);
	/* PP_SIG_KEYSIZE_INC, PP_KEYX_KEYSIZE_INC: the bit increment of
	 * signature and exchange key lengths; rsaenh answers 8. */
	CU_ASSERT_EQUAL(prov_dword(h, PP_SIG_KEYSIZE_INC), 8);
	CU_ASSERT_EQUAL(prov_dword(h, PP_KEYX_KEYSIZE_INC), 8);
	/* PP_KEYSTORAGE: the token needs a login and the URI gives the PIN
	 * only as pin-value (no pin-source), so a later login may prompt:
	 * CRYPT_UI_PROMPT; a silent context never prompts. Neither
	 * CRYPT_SEC_DESCR nor CRYPT_PSTORE describes a token. */
	CU_ASSERT_EQUAL(prov_dword(h, PP_KEYSTORAGE), CRYPT_UI_PROMPT);
	CU_ASSERT_EQUAL(prov_dword(s, PP_KEYSTORAGE), 0);
	/* PP_KEYSET_SEC_DESCR is unsupported by choice: NTE_BAD_TYPE, the
	 * page's answer for "an unknown parameter number". */
	CHECK_FAILS_WITH(CryptGetProvParam(h, PP_KEYSET_SEC_DESCR, buf, &len,
					   0x1 /* OWNER_SECURITY_INFORMATION */), NTE_BAD_TYPE);
	CU_ASSERT_TRUE(CryptReleaseContext(s, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(m, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- keys ---- */

static void test_rsa_salt(void)
{
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;
	DWORD len = 0;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16, &k));
	/* Wine's rsaenh tests ("An RSA key doesn't support salt"), run on
	 * Windows: NTE_BAD_KEY (NTE_NOT_FOUND on Windows 7 only). */
	CHECK_FAILS_WITH(CryptGetKeyParam(k, KP_SALT, NULL, &len, 0), NTE_BAD_KEY);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* Whether pkcs11-tool, on its own, lists this mechanism on the token. */
static bool token_lists_mechanism(const char *mech)
{
	char *out = NULL;
	bool found;

	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(label, false, &out, "--list-mechanisms"), 0);
	found = out != NULL && strstr(out, mech) != NULL;
	free(out);
	return found;
}

static void test_simpleblob_unheld_alg(void)
{
	HCRYPTPROV h = 0;
	HCRYPTKEY x = 0, k = 0;
	BYTE blob[8 + 4 + 128];

	/* SoftHSM has no RC4: checked independently of capi11. */
	if (token_lists_mechanism("RC4")) {
		CU_FAIL("the token lists RC4; this test needs a token without it");
		return;
	}
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "provapi-simple", uri, PROV_RSA_FULL,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16, &x));
	/* BLOBHEADER {SIMPLEBLOB, CUR_BLOB_VERSION, 0, CALG_RC4}, the wrapping
	 * ALG_ID, then a modulus-long ciphertext. */
	memset(blob, 0x5a, sizeof blob);
	blob[0] = SIMPLEBLOB;
	blob[1] = CUR_BLOB_VERSION;
	blob[2] = blob[3] = 0;
	testutil_le32_put(blob + 4, CALG_RC4);
	testutil_le32_put(blob + 8, CALG_RSA_KEYX);
	/* rsaenh (CryptImportKey of a SIMPLEBLOB) makes the key with
	 * aiKeyAlg and answers NTE_BAD_ALGID for an algorithm it does not
	 * offer, before it decrypts anything; Microsoft's CryptImportKey page
	 * lists NTE_BAD_ALGID for a simple key BLOB it cannot take. */
	CHECK_FAILS_WITH(CryptImportKey(h, blob, sizeof blob, x, 0, &k), NTE_BAD_ALGID);
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_TRUE(CryptDestroyKey(x));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "provapi-simple", uri, PROV_RSA_FULL,
					    CRYPT_DELETEKEYSET));
}

/* ---- CryptEnumProviderTypes ---- */

static void test_enum_provider_types(void)
{
	/* Windows' TypeName values for the types capi11 acquires, in
	 * Windows' order (HKLM\...\Cryptography\Defaults\Provider
	 * Types\Type 001, 003, 013, 024; Microsoft's CryptEnumProviderTypes
	 * example prints the same list). */
	static const struct {
		DWORD type;
		const char *name;
	} want[] = {
		{ PROV_RSA_FULL, "RSA Full (Signature and Key Exchange)" },
		{ PROV_DSS, "DSS Signature" },
		{ PROV_DSS_DH, "DSS Signature with Diffie-Hellman Key Exchange" },
		{ PROV_RSA_AES, "RSA Full and AES" },
	};
	char name[128], small[4];
	DWORD i, type, len, reserved = 0;
	HCRYPTPROV h = 0;

	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		type = 0;
		len = 0;
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptEnumProviderTypesA(i, NULL, 0, &type, NULL, &len));
		CU_ASSERT_EQUAL(len, strlen(want[i].name) + 1);
		len = sizeof name;
		CU_ASSERT_TRUE_FATAL(CryptEnumProviderTypesA(i, NULL, 0, &type, name, &len));
		CU_ASSERT_EQUAL(type, want[i].type);
		CU_ASSERT_STRING_EQUAL(name, want[i].name);
		CU_ASSERT_EQUAL(len, strlen(want[i].name) + 1);
		/* Every listed type can be acquired. */
		CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, uri, type, CRYPT_VERIFYCONTEXT));
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	}
	len = sizeof name;
	CHECK_FAILS_WITH(CryptEnumProviderTypesA(sizeof want / sizeof want[0], NULL, 0, &type,
						 name, &len),
			 ERROR_NO_MORE_ITEMS);
	len = sizeof small;
	CHECK_FAILS_WITH(CryptEnumProviderTypesA(1, NULL, 0, &type, small, &len), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, strlen(want[1].name) + 1);
	/* Argument checks as advapi32 makes them (Wine's tests on Windows). */
	len = sizeof name;
	CHECK_FAILS_WITH(CryptEnumProviderTypesA(0, &reserved, 0, &type, name, &len),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptEnumProviderTypesA(0, NULL, 0, NULL, name, &len),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptEnumProviderTypesA(0, NULL, 0, &type, name, NULL),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptEnumProviderTypesA(0, NULL, 1, &type, name, &len), NTE_BAD_FLAGS);
}

/* ---- argument-check order: two bad arguments at a time ---- */

/* One bad argument of a call, and the error it alone gives. The table
 * lists them in the order Windows checks them, so that of any two the
 * earlier one's error is the answer. */
struct bad_arg {
	const char *what;
	DWORD error;
};

static void check_pairs(const char *fn, const struct bad_arg *bad, size_t n,
			BOOL (*call)(unsigned mask))
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			SetLastError(SENTINEL);
			CU_ASSERT_FALSE(call((1u << i) | (1u << j)));
			if (GetLastError() != bad[i].error)
				fprintf(stderr, "%s: %s + %s: got 0x%08x, want 0x%08x\n", fn,
					bad[i].what, bad[j].what, (unsigned)GetLastError(),
					(unsigned)bad[i].error);
			CU_ASSERT_EQUAL(GetLastError(), bad[i].error);
		}
	}
}

/* CryptAcquireContext: the type's range first (Wine's test_acquire_context,
 * "the order matches Windows XP's rsaenh.dll"), then phProv; advapi32 then
 * finds the provider (NTE_KEYSET_NOT_DEF) before rsaenh's own checks: the
 * container name's length (NTE_BAD_KEYSET_PARAM), then the flags
 * (NTE_BAD_FLAGS for CRYPT_NEWKEYSET | CRYPT_DELETEKEYSET). */
static const struct bad_arg acquire_bad[] = {
	{ "dwProvType 0", NTE_BAD_PROV_TYPE },
	{ "phProv NULL", ERROR_INVALID_PARAMETER },
	{ "unknown provider", NTE_KEYSET_NOT_DEF },
	{ "container name too long", NTE_BAD_KEYSET_PARAM },
	{ "NEWKEYSET | DELETEKEYSET", NTE_BAD_FLAGS },
};

static BOOL acquire_with(unsigned mask)
{
	char longname[300];
	HCRYPTPROV h = 0;

	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	return CryptAcquireContextA((mask & 2) ? NULL : &h, (mask & 8) ? longname : "order-c",
				    (mask & 4) ? "no such provider" : uri,
				    (mask & 1) ? 0 : PROV_RSA_FULL,
				    (mask & 16) ? CRYPT_NEWKEYSET | CRYPT_DELETEKEYSET : 0);
}

/* CryptGetProvParam: advapi32 validates the handle and rsaenh pdwDataLen
 * (both ERROR_INVALID_PARAMETER) before the parameter (NTE_BAD_TYPE), which
 * comes before the buffer's size (ERROR_MORE_DATA). */
static const struct bad_arg getprov_bad[] = {
	{ "bad handle", ERROR_INVALID_PARAMETER },
	{ "pdwDataLen NULL", ERROR_INVALID_PARAMETER },
	{ "unknown parameter", NTE_BAD_TYPE },
	{ "buffer too small", ERROR_MORE_DATA },
};

static HCRYPTPROV order_prov;

static BOOL getprov_with(unsigned mask)
{
	BYTE small[1];
	DWORD len = sizeof small;

	return CryptGetProvParam((mask & 1) ? order_prov + 0x10000 : order_prov,
				 (mask & 4) ? 0x7777 : PP_NAME, small, (mask & 2) ? NULL : &len, 0);
}

/* CryptExportKey: advapi32 checks hKey and pdwDataLen (ERROR_INVALID_PARAMETER),
 * rsaenh then the blob type (NTE_BAD_TYPE) before it sizes the blob
 * (ERROR_MORE_DATA). */
static const struct bad_arg export_bad[] = {
	{ "bad hKey", ERROR_INVALID_PARAMETER },
	{ "pdwDataLen NULL", ERROR_INVALID_PARAMETER },
	{ "unknown blob type", NTE_BAD_TYPE },
	{ "buffer too small", ERROR_MORE_DATA },
};

static HCRYPTKEY order_key;

static BOOL export_with(unsigned mask)
{
	BYTE small[8];
	DWORD len = sizeof small;

	return CryptExportKey((mask & 1) ? order_key + 0x10000 : order_key, 0,
			      (mask & 4) ? 0x77 : PUBLICKEYBLOB, 0, small, (mask & 2) ? NULL : &len);
}

/* CryptImportKey: advapi32 checks hProv, pbData, dwDataLen and phKey
 * (ERROR_INVALID_PARAMETER); rsaenh then a blob shorter than its header
 * (NTE_BAD_DATA) before the blob type (NTE_BAD_TYPE). */
static const struct bad_arg import_bad[] = {
	{ "bad hProv", ERROR_INVALID_PARAMETER },
	{ "phKey NULL", ERROR_INVALID_PARAMETER },
	{ "dwDataLen 0", ERROR_INVALID_PARAMETER },
	{ "shorter than BLOBHEADER", NTE_BAD_DATA },
	{ "unknown blob type", NTE_BAD_TYPE },
};

static BOOL import_with(unsigned mask)
{
	BYTE blob[8 + 4 + 16] = { PLAINTEXTKEYBLOB, CUR_BLOB_VERSION, 0, 0, 0x0e, 0x66, 0, 0,
			      16, 0, 0, 0 };
	HCRYPTKEY k = 0;
	DWORD len = (mask & 4) ? 0 : (mask & 8) ? 4 : sizeof blob;

	if (mask & 16)
		blob[0] = 0x77;
	return CryptImportKey((mask & 1) ? order_prov + 0x10000 : order_prov, blob, len, 0, 0,
			      (mask & 2) ? NULL : &k);
}

static void test_argument_order(void)
{
	HCRYPTPROV h = 0;

	check_pairs("CryptAcquireContext", acquire_bad, CAPI11_TEST_N(acquire_bad), acquire_with);
	/* No container was made or opened on the way. */
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, "order-c", uri, PROV_RSA_FULL, 0), NTE_BAD_KEYSET);

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&order_prov, NULL, uri, PROV_RSA_AES,
						  CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(order_prov, AT_KEYEXCHANGE, 1024 << 16, &order_key));
	check_pairs("CryptGetProvParam", getprov_bad, CAPI11_TEST_N(getprov_bad), getprov_with);
	check_pairs("CryptExportKey", export_bad, CAPI11_TEST_N(export_bad), export_with);
	check_pairs("CryptImportKey", import_bad, CAPI11_TEST_N(import_bad), import_with);
	CU_ASSERT_TRUE(CryptDestroyKey(order_key));
	CU_ASSERT_TRUE(CryptReleaseContext(order_prov, 0));
}

static CU_TestInfo acquire_tests[] = {
	{ "success leaves ERROR_SUCCESS", test_success_clears_last_error },
	{ "provider type checked first", test_prov_type_first },
	{ "CRYPT_VERIFYCONTEXT | CRYPT_NEWKEYSET", test_verify_newkeyset },
	{ "CryptEnumProviderTypesA", test_enum_provider_types },
	{ "argument-check order, two at a time", test_argument_order },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo param_tests[] = {
	{ "PP_ENUMCONTAINERS sizes", test_enum_containers_sizes },
	{ "keyset parameters", test_keyset_params },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo key_tests[] = {
	{ "KP_SALT of an RSA key", test_rsa_salt },
	{ "SIMPLEBLOB of an algorithm the token lacks", test_simpleblob_unheld_alg },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "CryptAcquireContext", NULL, NULL, NULL, NULL, acquire_tests },
	{ "CryptGetProvParam", NULL, NULL, NULL, NULL, param_tests },
	{ "keys", NULL, NULL, NULL, NULL, key_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	label = fixture_token_make("provapi");
	uri = fixture_token_uri(label);
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	free(uri);
	free(label);
	return rc;
}
