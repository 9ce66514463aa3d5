/* The wide-character entry points: UTF-16 names converted strictly to the
 * UTF-8 that the token's labels and the configuration hold, and back.
 * Expected encodings are the Unicode standard's (U+00FC is C3 BC in UTF-8,
 * U+20AC is E2 82 AC, U+1F511 is F0 9F 94 91 and the pair D83D DD11 in
 * UTF-16); labels are read back by pkcs11-tool, independently of capi11;
 * argument rules are Microsoft's CryptAcquireContext, CryptEnumProviders,
 * CryptSignHash and CryptVerifySignature pages. */
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "testenv.h"
#include "testutil.h"
#include "utf16.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *label;
static char *uri;

/* "Schlüssel € 🔑" in both encodings. */
static const WCHAR name16[] = { 'S', 'c', 'h', 'l', 0x00fc, 's', 's', 'e', 'l', ' ', 0x20ac, ' ',
				0xd83d, 0xdd11, 0 };
static const char name8[] = "Schl\xc3\xbcssel \xe2\x82\xac \xf0\x9f\x94\x91";

/* s as WCHARs (ASCII only), in a static buffer. */
static const WCHAR *wide_ascii(const char *s, WCHAR *buf, size_t cap)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
		buf[i] = (WCHAR)(unsigned char)s[i];
	buf[i] = 0;
	CU_ASSERT_EQUAL_FATAL(s[i], '\0');
	return buf;
}

static size_t wlen(const WCHAR *s)
{
	size_t n = 0;

	while (s[n] != 0)
		n++;
	return n;
}

static bool token_has_label(const char *want)
{
	char *out = NULL;
	bool found;

	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(label, true, &out, "--list-objects"), 0);
	found = out != NULL && strstr(out, want) != NULL;
	free(out);
	return found;
}

/* ---- the codec ---- */

static void test_codec(void)
{
	static const WCHAR lone_high[] = { 'a', 0xd83d, 'b', 0 };
	static const WCHAR lone_low[] = { 'a', 0xdd11, 0 };
	static const WCHAR high_at_end[] = { 'a', 0xd83d, 0 };
	static const WCHAR reversed[] = { 0xdd11, 0xd83d, 0 };
	static const char *const bad8[] = {
		"\xc0\xaf",             /* overlong '/' */
		"\xe0\x80\xaf",         /* overlong, 3 bytes */
		"\xed\xa0\x80",         /* the surrogate U+D800 */
		"\xf4\x90\x80\x80",     /* past U+10FFFF */
		"\xe2\x82",             /* truncated */
		"\x80",                 /* a lone continuation byte */
		"\xff",
	};
	WCHAR out[32];
	char *s = NULL;
	size_t units = 0;
	bool nomem;

	CU_ASSERT_TRUE(utf16_to_utf8_new(name16, &s, &nomem));
	CU_ASSERT_STRING_EQUAL(s, name8);
	capi11_free(s);
	CU_ASSERT_TRUE(utf8_to_utf16(name8, out, 32, &units));
	CU_ASSERT_EQUAL(units, sizeof name16 / sizeof name16[0]);
	CU_ASSERT_EQUAL(memcmp(out, name16, sizeof name16), 0);
	/* Too small: the count, nothing written. */
	out[0] = 0x1234;
	CU_ASSERT_TRUE(utf8_to_utf16(name8, out, 3, &units));
	CU_ASSERT_EQUAL(units, 15);
	CU_ASSERT_EQUAL(out[0], 0x1234);

	CU_ASSERT_FALSE(utf16_to_utf8_new(lone_high, &s, &nomem));
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_FALSE(nomem);
	CU_ASSERT_FALSE(utf16_to_utf8_new(lone_low, &s, &nomem));
	CU_ASSERT_FALSE(utf16_to_utf8_new(high_at_end, &s, &nomem));
	CU_ASSERT_FALSE(utf16_to_utf8_new(reversed, &s, &nomem));
	for (size_t i = 0; i < sizeof bad8 / sizeof bad8[0]; i++)
		CU_ASSERT_FALSE(utf8_to_utf16(bad8[i], out, 32, &units));
}

/* ---- CryptAcquireContextW ---- */

static void test_acquire_w_round_trip(void)
{
	WCHAR wuri[1024];
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;
	char buf[400];
	DWORD len, flags = CRYPT_FIRST;
	int seen = 0;

	wide_ascii(uri, wuri, 1024);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextW(&h, name16, wuri, PROV_RSA_FULL, CRYPT_NEWKEYSET));
	CU_ASSERT_EQUAL(GetLastError(), ERROR_SUCCESS);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	/* PP_CONTAINER is a byte string on Windows too: here UTF-8. */
	len = sizeof buf;
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_CONTAINER, (BYTE *)buf, &len, 0));
	CU_ASSERT_STRING_EQUAL(buf, name8);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* On the token the label is the UTF-8 bytes, as pkcs11-tool reads it. */
	CU_ASSERT_TRUE(token_has_label(name8));

	/* The A form opens it by its UTF-8 name, and lists it. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, name8, uri, PROV_RSA_FULL, 0));
	CU_ASSERT_TRUE(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	for (;;) {
		len = sizeof buf;
		if (!CryptGetProvParam(h, PP_ENUMCONTAINERS, (BYTE *)buf, &len, flags))
			break;
		flags = 0;
		if (strcmp(buf, name8) == 0)
			seen++;
	}
	CU_ASSERT_EQUAL(seen, 1);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	/* And the W form deletes it. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextW(&h, name16, wuri, PROV_RSA_FULL, CRYPT_DELETEKEYSET));
	CU_ASSERT_EQUAL(GetLastError(), ERROR_SUCCESS);
	CU_ASSERT_FALSE(token_has_label(name8));
}

static void test_acquire_w_bad_names(void)
{
	static const WCHAR lone[] = { 'c', 0xd800, 0 };
	WCHAR wuri[1024];
	HCRYPTPROV h = 0;

	wide_ascii(uri, wuri, 1024);
	/* NTE_BAD_KEYSET_PARAM: "The pszContainer or pszProvider parameter is
	 * set to a value that is not valid" (CryptAcquireContext page). */
	CHECK_FAILS_WITH(CryptAcquireContextW(&h, lone, wuri, PROV_RSA_FULL, CRYPT_NEWKEYSET),
			 NTE_BAD_KEYSET_PARAM);
	CHECK_FAILS_WITH(CryptAcquireContextW(&h, NULL, lone, PROV_RSA_FULL, CRYPT_VERIFYCONTEXT),
			 NTE_BAD_KEYSET_PARAM);
	/* The provider type and phProv are checked before the names. */
	CHECK_FAILS_WITH(CryptAcquireContextW(&h, lone, lone, 0, 0), NTE_BAD_PROV_TYPE);
	CHECK_FAILS_WITH(CryptAcquireContextW(NULL, lone, wuri, PROV_RSA_FULL, 0),
			 ERROR_INVALID_PARAMETER);
	CU_ASSERT_FALSE(token_has_label("c"));
}

/* ---- CryptEnumProvidersW ---- */

static void test_enum_providers_w(void)
{
	/* A configured provider named "Jeton café 🔑". */
	static const char conf_name8[] = "Jeton caf\xc3\xa9 \xf0\x9f\x94\x91";
	static const WCHAR conf_name16[] = { 'J', 'e', 't', 'o', 'n', ' ', 'c', 'a', 'f', 0x00e9, ' ',
					     0xd83d, 0xdd11, 0 };
	char text[2048], name[512];
	WCHAR wname[512], small[2];
	DWORD i, len, type, a_count = 0, w_count = 0;
	int found_a = 0, found_w = 0;
	HCRYPTPROV h = 0;
	char *conf;

	snprintf(text, sizeof text, "[provider \"%s\"]\nuri = %s\ntype = 24\n", conf_name8, uri);
	conf = testutil_temp_write("wide-conf", text, strlen(text));
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	setenv("CAPI11_CONF", conf, 1);

	for (i = 0;; i++) {
		len = sizeof name;
		if (!CryptEnumProvidersA(i, NULL, 0, &type, name, &len))
			break;
		a_count++;
		if (strcmp(name, conf_name8) == 0 && type == PROV_RSA_AES)
			found_a++;
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	for (i = 0;; i++) {
		DWORD size = 0;

		/* Size query: bytes, the NUL included. */
		SetLastError(SENTINEL);
		if (!CryptEnumProvidersW(i, NULL, 0, &type, NULL, &size))
			break;
		CU_ASSERT_EQUAL(size % sizeof(WCHAR), 0);
		len = sizeof wname;
		CU_ASSERT_TRUE_FATAL(CryptEnumProvidersW(i, NULL, 0, &type, wname, &len));
		CU_ASSERT_EQUAL(len, size);
		CU_ASSERT_EQUAL(len, (wlen(wname) + 1) * sizeof(WCHAR));
		w_count++;
		if (len == sizeof conf_name16 && memcmp(wname, conf_name16, len) == 0 &&
		    type == PROV_RSA_AES)
			found_w++;
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	CU_ASSERT_EQUAL(found_a, 1);
	CU_ASSERT_EQUAL(found_w, 1);
	CU_ASSERT_EQUAL(a_count, w_count);
	CU_ASSERT_TRUE(a_count >= 1);

	/* Too small a buffer: ERROR_MORE_DATA and the size in bytes. */
	len = sizeof small;
	CHECK_FAILS_WITH(CryptEnumProvidersW(0, NULL, 0, &type, small, &len), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, sizeof conf_name16);
	/* Argument checks as the A form. */
	len = sizeof wname;
	CHECK_FAILS_WITH(CryptEnumProvidersW(0, &len, 0, &type, wname, &len),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptEnumProvidersW(0, NULL, 0, &type, wname, NULL),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptEnumProvidersW(0, NULL, 1, &type, wname, &len), NTE_BAD_FLAGS);

	/* The listed wide name acquires the provider. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextW(&h, NULL, conf_name16, PROV_RSA_AES,
					    CRYPT_VERIFYCONTEXT));
	CU_ASSERT_EQUAL(GetLastError(), ERROR_SUCCESS);
	len = sizeof name;
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_NAME, (BYTE *)name, &len, 0));
	CU_ASSERT_STRING_EQUAL(name, conf_name8);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	setenv("CAPI11_CONF", "/dev/null", 1);
	free(conf);
}

/* ---- CryptEnumProviderTypesW ---- */

static void test_enum_provider_types_w(void)
{
	WCHAR wname[128], small[2];
	char name[128];
	DWORD i, type, wtype, len, wlen_bytes;

	/* The same types and names as the A form, in UTF-16, sizes in bytes. */
	for (i = 0;; i++) {
		len = sizeof name;
		if (!CryptEnumProviderTypesA(i, NULL, 0, &type, name, &len))
			break;
		wlen_bytes = 0;
		CU_ASSERT_TRUE_FATAL(CryptEnumProviderTypesW(i, NULL, 0, &wtype, NULL, &wlen_bytes));
		CU_ASSERT_EQUAL(wlen_bytes, len * sizeof(WCHAR));
		wlen_bytes = sizeof wname;
		CU_ASSERT_TRUE_FATAL(CryptEnumProviderTypesW(i, NULL, 0, &wtype, wname, &wlen_bytes));
		CU_ASSERT_EQUAL(wtype, type);
		CU_ASSERT_EQUAL(wlen_bytes, len * sizeof(WCHAR));
		for (DWORD j = 0; j < len; j++)
			CU_ASSERT_EQUAL(wname[j], (WCHAR)(unsigned char)name[j]);
	}
	/* RSA Full, DSS, DSS with DH, RSA with AES (test-provapi checks the
	 * names against Windows'). */
	CU_ASSERT_EQUAL(i, 4);
	len = sizeof wname;
	CHECK_FAILS_WITH(CryptEnumProviderTypesW(i, NULL, 0, &type, wname, &len),
			 ERROR_NO_MORE_ITEMS);
	len = sizeof small;
	CHECK_FAILS_WITH(CryptEnumProviderTypesW(0, NULL, 0, &type, small, &len), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, sizeof(WCHAR) * (strlen("RSA Full (Signature and Key Exchange)") + 1));
	CHECK_FAILS_WITH(CryptEnumProviderTypesW(0, NULL, 0, NULL, wname, &len),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptEnumProviderTypesW(0, NULL, 2, &type, wname, &len), NTE_BAD_FLAGS);
}

/* ---- CryptSignHashW, CryptVerifySignatureW ---- */

static void test_sign_w(void)
{
	static const WCHAR desc[] = { 'd', 0 };
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;
	HCRYPTHASH hh = 0;
	BYTE sig[256];
	DWORD len = sizeof sig;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "wide-sign", uri, PROV_RSA_AES,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 1024 << 16, &k));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptHashData(hh, (const BYTE *)"abc", 3, 0));
	/* szDescription must be NULL (Microsoft's pages). */
	CHECK_FAILS_WITH(CryptSignHashW(hh, AT_SIGNATURE, desc, 0, sig, &len),
			 ERROR_INVALID_PARAMETER);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptSignHashW(hh, AT_SIGNATURE, NULL, 0, sig, &len));
	CU_ASSERT_EQUAL(len, 128);
	CHECK_FAILS_WITH(CryptVerifySignatureW(hh, sig, len, k, desc, 0), ERROR_INVALID_PARAMETER);
	CU_ASSERT_TRUE(CryptVerifySignatureW(hh, sig, len, k, NULL, 0));
	CU_ASSERT_TRUE(CryptVerifySignatureA(hh, sig, len, k, NULL, 0));
	/* A changed signature fails the W form as it fails the A form. */
	sig[5] ^= 1;
	CHECK_FAILS_WITH(CryptVerifySignatureW(hh, sig, len, k, NULL, 0), NTE_BAD_SIGNATURE);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "wide-sign", uri, PROV_RSA_AES, CRYPT_DELETEKEYSET));
}

/* ---- a Windows program built with UNICODE ---- */

static void test_unicode_example(void)
{
	char *q = fixture_quote(uri), *out;
	int st = -1;

	out = fixture_capture(&st, "%s/../examples/unicode-demo %s --keep", TEST_BUILDDIR, q);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "signature: 128 bytes, verified\n"));
	/* Its TEXT("Schl\u00fcssel \u20ac \U0001F511") arrived as these bytes. */
	{
		char want[128];

		snprintf(want, sizeof want, "container: %s\n", name8);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
	}
	CU_ASSERT_TRUE(token_has_label(name8));
	free(out);
	/* Once more without --keep: the container exists now, so
	 * CRYPT_NEWKEYSET must fail with NTE_EXISTS, printed by the program. */
	out = fixture_capture(&st, "%s/../examples/unicode-demo %s 2>&1", TEST_BUILDDIR, q);
	CU_ASSERT_NOT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(out != NULL ? strstr(out, "0x8009000f") : NULL);
	free(out);
	/* Delete it with the A form and its UTF-8 name. */
	{
		HCRYPTPROV h = 0;

		CU_ASSERT_TRUE(CryptAcquireContextA(&h, name8, uri, PROV_RSA_FULL,
						    CRYPT_DELETEKEYSET));
	}
	CU_ASSERT_FALSE(token_has_label(name8));
	/* And a full run that deletes its own container. */
	out = fixture_capture(&st, "%s/../examples/unicode-demo %s", TEST_BUILDDIR, q);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(out != NULL ? strstr(out, "deleted\n") : NULL);
	CU_ASSERT_FALSE(token_has_label(name8));
	free(out);
	free(q);
}

static CU_TestInfo codec_tests[] = {
	{ "UTF-16 <-> UTF-8, strict", test_codec },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo api_tests[] = {
	{ "CryptAcquireContextW round trip", test_acquire_w_round_trip },
	{ "CryptAcquireContextW invalid names", test_acquire_w_bad_names },
	{ "CryptEnumProvidersW", test_enum_providers_w },
	{ "CryptEnumProviderTypesW", test_enum_provider_types_w },
	{ "CryptSignHashW, CryptVerifySignatureW", test_sign_w },
	{ "a program built with -DUNICODE -fshort-wchar", test_unicode_example },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "codec", NULL, NULL, NULL, NULL, codec_tests },
	{ "wide entry points", NULL, NULL, NULL, NULL, api_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	label = fixture_token_make("wide");
	uri = fixture_token_uri(label);
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	free(uri);
	free(label);
	return rc;
}
