/* CryptEnumProvidersA: the configuration's providers in file order, then
 * Microsoft's RSA provider names; the buffer rules and errors that
 * Microsoft documents and that Windows shows (Wine's advapi32 tests). */
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Microsoft's provider names and the types Windows registers them with,
 * in the order that capi11's README lists them. */
#define MS_BASE "Microsoft Base Cryptographic Provider v1.0"
#define MS_ENHANCED "Microsoft Enhanced Cryptographic Provider v1.0"
#define MS_STRONG "Microsoft Strong Cryptographic Provider"
#define MS_SCARD "Microsoft Base Smart Card Crypto Provider"
#define MS_AES "Microsoft Enhanced RSA and AES Cryptographic Provider"
#define MS_DSS "Microsoft Base DSS Cryptographic Provider"
#define MS_DSS_DH "Microsoft Base DSS and Diffie-Hellman Cryptographic Provider"
#define MS_ENH_DSS_DH "Microsoft Enhanced DSS and Diffie-Hellman Cryptographic Provider"

struct expected {
	const char *name;
	DWORD type;
};

static const struct expected ms_only[] = {
	{ MS_BASE, 1 }, { MS_ENHANCED, 1 }, { MS_STRONG, 1 }, { MS_SCARD, 1 }, { MS_AES, 24 },
	{ MS_DSS, 3 }, { MS_DSS_DH, 13 }, { MS_ENH_DSS_DH, 13 },
};

static char *token_label;
static unsigned int conf_serial;

/* Each configuration gets a file of its own: the library re-reads the
 * file when its identity or time stamp changes. */
static void write_conf(const char *text)
{
	char name[64];
	char *path;

	snprintf(name, sizeof name, "enum-%u.conf", conf_serial++);
	path = fixture_write_file(name, text, strlen(text));
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	setenv("CAPI11_CONF", path, 1);
	free(path);
}

/* Enumerates every provider and compares with want, then checks the end. */
static void check_list(const struct expected *want, size_t n)
{
	char name[512];
	DWORD type, len;
	size_t i;

	for (i = 0; i < n; i++) {
		len = sizeof name;
		type = 0xdeadbeef;
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptEnumProvidersA((DWORD)i, NULL, 0, &type, name, &len));
		CU_ASSERT_STRING_EQUAL(name, want[i].name);
		CU_ASSERT_EQUAL(type, want[i].type);
		CU_ASSERT_EQUAL(len, strlen(want[i].name) + 1);
	}
	len = sizeof name;
	CHECK_FAILS_WITH(CryptEnumProvidersA((DWORD)n, NULL, 0, &type, name, &len),
			 ERROR_NO_MORE_ITEMS);
	len = sizeof name;
	CHECK_FAILS_WITH(CryptEnumProvidersA(0xffffffffu, NULL, 0, &type, NULL, &len),
			 ERROR_NO_MORE_ITEMS);
}

static void test_arguments(void)
{
	DWORD reserved = 5, type, len = 0;
	char name[256];

	setenv("CAPI11_CONF", "/nonexistent/capi11.conf", 1);
	/* pdwReserved is checked before dwFlags, as on Windows. */
	CHECK_FAILS_WITH(CryptEnumProvidersA(0, &reserved, 5, &type, NULL, &len),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptEnumProvidersA(0, NULL, 5, &type, NULL, &len), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptEnumProvidersA(0, NULL, 0, &type, name, NULL),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptEnumProvidersA(0, NULL, 0, &type, NULL, NULL),
			 ERROR_INVALID_PARAMETER);
	/* The generic name maps to the ANSI function. */
	len = sizeof name;
	CU_ASSERT_TRUE(CryptEnumProviders(0, NULL, 0, &type, name, &len));
	setenv("CAPI11_CONF", "/dev/null", 1);
}

static void test_buffer_rules(void)
{
	const DWORD need = sizeof MS_BASE;
	char name[256];
	DWORD type, len;

	setenv("CAPI11_CONF", "/nonexistent/capi11.conf", 1);
	/* NULL buffer: the size with the terminating NUL, whatever *len was. */
	len = 3;
	type = 0;
	CU_ASSERT_TRUE(CryptEnumProvidersA(0, NULL, 0, &type, NULL, &len));
	CU_ASSERT_EQUAL(len, need);
	CU_ASSERT_EQUAL(type, PROV_RSA_FULL);

	/* One byte short, and empty: ERROR_MORE_DATA with the size, the
	 * buffer left alone. */
	memset(name, 'x', sizeof name);
	len = need - 1;
	CHECK_FAILS_WITH(CryptEnumProvidersA(0, NULL, 0, &type, name, &len), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, need);
	CU_ASSERT_EQUAL(name[0], 'x');
	len = 0;
	CHECK_FAILS_WITH(CryptEnumProvidersA(0, NULL, 0, &type, name, &len), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, need);

	/* Exactly the size, and a huge size: the bytes stored. */
	len = need;
	CU_ASSERT_TRUE(CryptEnumProvidersA(0, NULL, 0, &type, name, &len));
	CU_ASSERT_STRING_EQUAL(name, MS_BASE);
	CU_ASSERT_EQUAL(len, need);
	CU_ASSERT_EQUAL(name[need], 'x');
	len = (DWORD)-1000;
	name[0] = '\0';
	CU_ASSERT_TRUE(CryptEnumProvidersA(0, NULL, 0, &type, name, &len));
	CU_ASSERT_STRING_EQUAL(name, MS_BASE);
	CU_ASSERT_EQUAL(len, need);

	/* The type pointer may be left out. */
	len = sizeof name;
	CU_ASSERT_TRUE(CryptEnumProvidersA(4, NULL, 0, NULL, name, &len));
	CU_ASSERT_STRING_EQUAL(name, MS_AES);
	setenv("CAPI11_CONF", "/dev/null", 1);
}

static void test_no_config(void)
{
	/* No file, and the explicit empty configuration: only Microsoft's
	 * names, served by the first token p11-kit offers. */
	setenv("CAPI11_CONF", "/nonexistent/capi11.conf", 1);
	check_list(ms_only, 8);
	setenv("CAPI11_CONF", "/dev/null", 1);
	check_list(ms_only, 8);
	setenv("CAPI11_CONF", "/dev/null", 1);
}

static void test_order_and_types(void)
{
	static const struct expected want[] = {
		{ "zeta", 24 },
		{ "alpha", 1 },         /* no type key */
		{ MS_STRONG, 24 },      /* the configuration's own, not the alias */
		{ "gone", 1 },          /* its token does not exist: still listed */
		{ MS_BASE, 1 }, { MS_ENHANCED, 1 }, { MS_SCARD, 1 }, { MS_AES, 24 },
		{ MS_DSS, 3 }, { MS_DSS_DH, 13 }, { MS_ENH_DSS_DH, 13 },
	};
	char *uri = fixture_token_uri(token_label);
	char text[4096];

	snprintf(text, sizeof text,
		 "[capi11]\n"
		 "default-provider = alpha\n"
		 "[provider \"zeta\"]\n"
		 "uri = %s\n"
		 "type = rsa_aes\n"
		 "[provider \"alpha\"]\n"
		 "uri = %s\n"
		 "[provider \"" MS_STRONG "\"]\n"
		 "uri = %s\n"
		 "type = 24\n"
		 "[provider \"gone\"]\n"
		 "uri = pkcs11:token=no-such-token-anywhere\n"
		 "type = rsa_full\n",
		 uri, uri, uri);
	write_conf(text);
	check_list(want, sizeof want / sizeof want[0]);
	setenv("CAPI11_CONF", "/dev/null", 1);
	free(uri);
}

/* Windows programs enumerate, then acquire what they found by name and
 * type: every name listed must open. */
static void test_enumerated_are_acquirable(void)
{
	char *uri = fixture_token_uri(token_label);
	char text[4096], name[512];
	HCRYPTPROV h;
	DWORD i, type, len;

	snprintf(text, sizeof text,
		 "[capi11]\n"
		 "default-provider = main\n"
		 "[provider \"main\"]\n"
		 "uri = %s\n"
		 "[provider \"aes\"]\n"
		 "uri = %s\n"
		 "type = rsa_aes\n"
		 "[provider \"" MS_ENHANCED "\"]\n"
		 "uri = %s\n"
		 "type = rsa_aes\n",
		 uri, uri, uri);
	write_conf(text);
	for (i = 0;; i++) {
		len = sizeof name;
		if (!CryptEnumProvidersA(i, NULL, 0, &type, name, &len))
			break;
		SetLastError(SENTINEL);
		if (!CryptAcquireContextA(&h, NULL, name, type, CRYPT_VERIFYCONTEXT | CRYPT_SILENT)) {
			fprintf(stderr, "%s (type %lu): 0x%08lx\n", name, (unsigned long)type,
				(unsigned long)GetLastError());
			CU_FAIL("an enumerated provider cannot be acquired");
			continue;
		}
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	/* Three sections and the seven Microsoft names they leave. */
	CU_ASSERT_EQUAL(i, 10);
	setenv("CAPI11_CONF", "/dev/null", 1);
	free(uri);
}

static void test_broken_config(void)
{
	char name[256];
	HCRYPTPROV h;
	DWORD type, len = sizeof name;

	/* The error CryptAcquireContext gives for the same file. */
	write_conf("[capi11]\nno-such-key = 1\n[provider \"x\"]\nuri = pkcs11:\n");
	CHECK_FAILS_WITH(CryptEnumProvidersA(0, NULL, 0, &type, name, &len), NTE_KEYSET_ENTRY_BAD);
	CHECK_FAILS_WITH(CryptEnumProvidersA(5, NULL, 0, &type, NULL, &len), NTE_KEYSET_ENTRY_BAD);
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, NULL, PROV_RSA_FULL, CRYPT_VERIFYCONTEXT),
			 NTE_KEYSET_ENTRY_BAD);
	/* A default-provider naming no section is broken too. */
	write_conf("[capi11]\ndefault-provider = missing\n");
	len = sizeof name;
	CHECK_FAILS_WITH(CryptEnumProvidersA(0, NULL, 0, &type, name, &len), NTE_KEYSET_ENTRY_BAD);
	/* Once repaired, the file is read again. */
	write_conf("[provider \"fixed\"]\nuri = pkcs11:token=x\n");
	len = sizeof name;
	CU_ASSERT_TRUE(CryptEnumProvidersA(0, NULL, 0, &type, name, &len));
	CU_ASSERT_STRING_EQUAL(name, "fixed");
	setenv("CAPI11_CONF", "/dev/null", 1);
}

static CU_TestInfo enum_tests[] = {
	{ "arguments", test_arguments },
	{ "buffer rules", test_buffer_rules },
	{ "no configuration file", test_no_config },
	{ "file order and types", test_order_and_types },
	{ "enumerated names are acquirable", test_enumerated_are_acquirable },
	{ "broken configuration", test_broken_config },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "CryptEnumProviders", NULL, NULL, NULL, NULL, enum_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	setenv("CAPI11_CONF", "/dev/null", 1);
	token_label = fixture_token_make("enum");
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	free(token_label);
	return rc;
}
