/* CryptAcquireContextA, CryptReleaseContext, CryptGetProvParam,
 * CryptSetProvParam and CryptGenRandom against throwaway SoftHSM tokens:
 * every flag and its error (SPEC section 2), containers, PIN sources,
 * pinpads, absent cards and the configuration file. */
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* SoftHSM reads its token directory once per process: every token the
 * tests use is made before the first CryptoAPI call. */
enum {
	TOK_MAIN,         /* flags, containers, parameters */
	TOK_PIN_FILE,     /* PIN from a pin-source path */
	TOK_PIN_FILEURI,  /* PIN from a pin-source file: URI */
	TOK_PIN_PARAM,    /* PIN from PP_KEYEXCHANGE_PIN */
	TOK_SILENT,       /* CRYPT_SILENT without any PIN */
	TOK_WRONG,        /* rejected PINs (through the counting shim) */
	TOK_PINPAD,       /* protected authentication path (shim) */
	TOK_CONF,         /* providers from the configuration file */
	TOK_ABSENT,       /* a card that is not in its reader (shim) */
	TOK_TRACE,        /* tracing of a rejected PIN (never logged in) */
	TOK_PROMPT,       /* PIN typed at capi11's terminal prompt */
	N_TOKENS
};
static char *labels[N_TOKENS];

static BOOL acquire(HCRYPTPROV *h, const char *container, const char *provider, DWORD flags)
{
	*h = 0;
	SetLastError(SENTINEL);
	return CryptAcquireContextA(h, container, provider, PROV_RSA_FULL, flags);
}

static char *uri_of(int tok)
{
	return fixture_token_uri(labels[tok]);
}

static DWORD get_dword(HCRYPTPROV h, DWORD param)
{
	DWORD v = 0xffffffff, len = sizeof v;

	CU_ASSERT_TRUE_FATAL(CryptGetProvParam(h, param, (BYTE *)&v, &len, 0));
	CU_ASSERT_EQUAL(len, 4);
	return v;
}

static void get_string(HCRYPTPROV h, DWORD param, char *buf, DWORD size)
{
	DWORD len = size;

	CU_ASSERT_TRUE_FATAL(CryptGetProvParam(h, param, (BYTE *)buf, &len, 0));
	CU_ASSERT_EQUAL(len, strlen(buf) + 1);
}

/* Whether pkcs11-tool, reading the token on its own, lists an object with
 * this label (of type "data", "privkey", ... or any type when NULL). */
static bool token_has_label(int tok, const char *type, const char *label)
{
	char *out = NULL, *line, *save = NULL;
	bool found = false;
	int st = fixture_pkcs11_tool(labels[tok], true, &out, "--list-objects%s%s",
				     type ? " --type " : "", type ? type : "");

	CU_ASSERT_EQUAL_FATAL(st, 0);
	/* pkcs11-tool prints "label:  name" for keys, "label:  'name'" for data. */
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, "label:");
		size_t n;
		if (p == NULL)
			continue;
		p += strlen("label:");
		while (*p == ' ' || *p == '\t')
			p++;
		n = strlen(p);
		if (n >= 2 && p[0] == '\'' && p[n - 1] == '\'') {
			p[n - 1] = '\0';
			p++;
		}
		if (strcmp(p, label) == 0)
			found = true;
	}
	free(out);
	return found;
}

/* ---- arguments and flags ---- */

static void test_bad_arguments(void)
{
	HCRYPTPROV h = 0;
	char *uri = uri_of(TOK_MAIN);

	CHECK_FAILS_WITH(CryptAcquireContextA(NULL, NULL, uri, PROV_RSA_FULL, CRYPT_VERIFYCONTEXT),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, uri, 0, CRYPT_VERIFYCONTEXT),
			 NTE_BAD_PROV_TYPE);
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, uri, 1000, CRYPT_VERIFYCONTEXT),
			 NTE_BAD_PROV_TYPE);
	/* Types Windows knows but capi11 serves no provider of. */
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_SIG, CRYPT_VERIFYCONTEXT),
			 NTE_PROV_TYPE_NOT_DEF);
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, uri, PROV_DH_SCHANNEL, CRYPT_VERIFYCONTEXT),
			 NTE_PROV_TYPE_NOT_DEF);
	CHECK_FAILS_WITH(CryptAcquireContextA(&h, NULL, "no such provider", PROV_RSA_FULL,
					      CRYPT_VERIFYCONTEXT), NTE_KEYSET_NOT_DEF);
	/* Windows' own name for this provider type is served by capi11. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(uri);
}

static void test_bad_flags(void)
{
	HCRYPTPROV h;
	char *uri = uri_of(TOK_MAIN);

	CHECK_FAILS_WITH(acquire(&h, "c", uri, 0x1), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(acquire(&h, "c", uri, 0x100), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(acquire(&h, "c", uri, CRYPT_NEWKEYSET | CRYPT_DELETEKEYSET), NTE_BAD_FLAGS);
	/* A verify context has no container. */
	CHECK_FAILS_WITH(acquire(&h, "c", uri, CRYPT_VERIFYCONTEXT), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT | CRYPT_DELETEKEYSET),
			 NTE_BAD_FLAGS);
	/* Accepted flags. */
	CU_ASSERT_TRUE(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT | CRYPT_SILENT | CRYPT_MACHINE_KEYSET));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(acquire(&h, "", uri, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* rsaenh takes this pair as a verify context (test-provapi). */
	CU_ASSERT_TRUE(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT | CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(uri);
}

/* ---- containers ---- */

static void test_container_lifecycle(void)
{
	HCRYPTPROV h, h2;
	HCRYPTKEY k;
	char *uri = uri_of(TOK_MAIN);
	char name[256];

	CHECK_FAILS_WITH(acquire(&h, "life", uri, 0), NTE_BAD_KEYSET);
	CU_ASSERT_TRUE_FATAL(acquire(&h, "life", uri, CRYPT_NEWKEYSET));
	CU_ASSERT_NOT_EQUAL(h, 0);
	/* The container exists on the token at once, as a marker object. */
	CU_ASSERT_TRUE(token_has_label(TOK_MAIN, "data", "life"));
	get_string(h, PP_CONTAINER, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, "life");
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_KEYEXCHANGE, &k), NTE_NO_KEY);
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_SIGNATURE, &k), NTE_NO_KEY);
	CHECK_FAILS_WITH(acquire(&h2, "life", uri, CRYPT_NEWKEYSET), NTE_EXISTS);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	CU_ASSERT_TRUE_FATAL(acquire(&h, "life", uri, 0));
	CU_ASSERT_TRUE(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(token_has_label(TOK_MAIN, "privkey", "life"));

	h = 0x1234;
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "life", uri, PROV_RSA_FULL, CRYPT_DELETEKEYSET));
	CU_ASSERT_EQUAL(h, 0);
	/* Marker, keys: all gone. */
	CU_ASSERT_FALSE(token_has_label(TOK_MAIN, NULL, "life"));
	CHECK_FAILS_WITH(acquire(&h, "life", uri, 0), NTE_BAD_KEYSET);
	CHECK_FAILS_WITH(acquire(&h, "life", uri, CRYPT_DELETEKEYSET), NTE_BAD_KEYSET);
	free(uri);
}

static void test_default_container(void)
{
	struct passwd *pw = getpwuid(geteuid());
	HCRYPTPROV h;
	char *uri = uri_of(TOK_MAIN);
	char name[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
	/* Windows: a NULL container is the default one, named after the user. */
	CU_ASSERT_TRUE_FATAL(acquire(&h, NULL, uri, CRYPT_NEWKEYSET));
	get_string(h, PP_CONTAINER, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, pw->pw_name);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(acquire(&h, NULL, uri, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(acquire(&h, NULL, uri, CRYPT_DELETEKEYSET));
	free(uri);
}

static void test_foreign_container(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k;
	char *uri = uri_of(TOK_MAIN);
	DWORD bits = 0, len = sizeof bits;

	/* A key pair made by another tool is a container named by its label. */
	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(labels[TOK_MAIN], true, NULL,
		"--keypairgen --key-type rsa:1024 --label foreign --id 01"), 0);
	CU_ASSERT_TRUE_FATAL(acquire(&h, "foreign", uri, 0));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_KEYLEN, (BYTE *)&bits, &len, 0));
	CU_ASSERT_EQUAL(bits, 1024);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CHECK_FAILS_WITH(acquire(&h, "foreign", uri, CRYPT_NEWKEYSET), NTE_EXISTS);
	free(uri);
}

/* Collects PP_ENUMCONTAINERS into one string "a,b,c,". */
static void enum_containers(HCRYPTPROV h, char *all, size_t size)
{
	char name[300];
	DWORD len, largest = 0, flags = CRYPT_FIRST;

	all[0] = '\0';
	CU_ASSERT_TRUE_FATAL(CryptGetProvParam(h, PP_ENUMCONTAINERS, NULL, &largest, CRYPT_FIRST));
	for (;;) {
		len = sizeof name;
		SetLastError(SENTINEL);
		if (!CryptGetProvParam(h, PP_ENUMCONTAINERS, (BYTE *)name, &len, flags))
			break;
		flags = 0;
		/* A name that fits leaves len as given (rsaenh). */
		CU_ASSERT_EQUAL(len, sizeof name);
		CU_ASSERT_TRUE(strlen(name) + 1 <= largest);
		strncat(all, name, size - strlen(all) - 2);
		strcat(all, ",");
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
}

static void test_enum_containers(void)
{
	HCRYPTPROV h, v;
	char *uri = uri_of(TOK_MAIN);
	char all[4096], again[4096], small[2];
	DWORD len;

	CU_ASSERT_TRUE_FATAL(acquire(&h, "enum-a", uri, CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE_FATAL(acquire(&h, "enum-bb", uri, CRYPT_NEWKEYSET));
	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(labels[TOK_MAIN], true, NULL,
		"--keypairgen --key-type rsa:512 --label enum-foreign --id 0e"), 0);

	/* Enumerating from a verify context, the usual Windows pattern. */
	CU_ASSERT_TRUE_FATAL(acquire(&v, NULL, uri, CRYPT_VERIFYCONTEXT));
	enum_containers(v, all, sizeof all);
	CU_ASSERT_PTR_NOT_NULL(strstr(all, "enum-a,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(all, "enum-bb,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(all, "enum-foreign,"));
	/* CRYPT_FIRST restarts from the beginning. */
	enum_containers(v, again, sizeof again);
	CU_ASSERT_STRING_EQUAL(all, again);
	/* Too small a buffer: the size and ERROR_MORE_DATA, nothing skipped. */
	len = sizeof small;
	CHECK_FAILS_WITH(CryptGetProvParam(v, PP_ENUMCONTAINERS, (BYTE *)small, &len, CRYPT_FIRST),
			 ERROR_MORE_DATA);
	CU_ASSERT_TRUE(len > sizeof small);
	CU_ASSERT_TRUE(CryptReleaseContext(v, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(uri);
}

/* ---- provider parameters ---- */

static void test_prov_params(void)
{
	HCRYPTPROV h;
	char *uri = uri_of(TOK_MAIN);
	char buf[256], reader[256];
	DWORD len, v;
	BYTE canary[8];
	char *slots;

	CU_ASSERT_TRUE_FATAL(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_EQUAL(get_dword(h, PP_PROVTYPE), PROV_RSA_FULL);
	CU_ASSERT_EQUAL(get_dword(h, PP_VERSION), 0x200);
	CU_ASSERT_EQUAL(get_dword(h, PP_KEYSPEC), AT_KEYEXCHANGE | AT_SIGNATURE);
	CU_ASSERT_TRUE(get_dword(h, PP_IMPTYPE) & CRYPT_IMPL_HARDWARE);
	get_string(h, PP_NAME, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(buf, "capi11");
	get_string(h, PP_CONTAINER, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(buf, "");

	/* The reader is the slot pkcs11-tool describes. */
	get_string(h, PP_SMARTCARD_READER, reader, sizeof reader);
	slots = fixture_capture(NULL, "%s --module %s --list-slots", PKCS11_TOOL, SOFTHSM_MODULE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(slots);
	CU_ASSERT_TRUE(reader[0] != '\0');
	CU_ASSERT_PTR_NOT_NULL(strstr(slots, reader));
	free(slots);

	/* Buffer rules: size query, too small, exact length written. */
	len = 0;
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_PROVTYPE, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 4);
	len = 2;
	CHECK_FAILS_WITH(CryptGetProvParam(h, PP_PROVTYPE, canary, &len, 0), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, 4);
	memset(canary, 0xa5, sizeof canary);
	len = sizeof canary;
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_PROVTYPE, canary, &len, 0));
	CU_ASSERT_EQUAL(len, 4);
	CU_ASSERT_EQUAL(canary[4], 0xa5);
	len = 0;
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_NAME, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, strlen("capi11") + 1);

	len = sizeof v;
	CHECK_FAILS_WITH(CryptGetProvParam(h, 0x7777, (BYTE *)&v, &len, 0), NTE_BAD_TYPE);
	CHECK_FAILS_WITH(CryptGetProvParam(h, PP_NAME, (BYTE *)buf, NULL, 0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSetProvParam(h, 0x7777, (const BYTE *)"x", 0), NTE_BAD_TYPE);
	CHECK_FAILS_WITH(CryptSetProvParam(h, PP_KEYEXCHANGE_PIN, NULL, 0), ERROR_INVALID_PARAMETER);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(uri);
}

/* The RSA range PP_ENUMALGS_EX reports is the token's own, as pkcs11-tool
 * reads it ("RSA-PKCS-KEY-PAIR-GEN, keySize={512,16384}"). */
static void test_enum_algs(void)
{
	HCRYPTPROV h;
	char *uri = uri_of(TOK_MAIN);
	char *mechs, *p;
	unsigned long tool_min = 0, tool_max = 0;
	PROV_ENUMALGS_EX ex;
	PROV_ENUMALGS a;
	DWORD len, flags;
	bool saw_rsa = false, saw_aes256 = false, saw_rc4 = false;
	int n = 0, n_ex = 0;

	mechs = fixture_capture(NULL, "%s --module %s --token-label %s -M", PKCS11_TOOL,
				SOFTHSM_MODULE, labels[TOK_MAIN]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mechs);
	p = strstr(mechs, "RSA-PKCS-KEY-PAIR-GEN, keySize={");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(sscanf(p, "RSA-PKCS-KEY-PAIR-GEN, keySize={%lu,%lu}", &tool_min, &tool_max), 2);
	free(mechs);

	CU_ASSERT_TRUE_FATAL(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT));
	for (flags = CRYPT_FIRST;; flags = 0) {
		len = sizeof ex;
		if (!CryptGetProvParam(h, PP_ENUMALGS_EX, (BYTE *)&ex, &len, flags))
			break;
		n_ex++;
		CU_ASSERT_EQUAL(len, sizeof ex);
		CU_ASSERT_EQUAL(ex.dwNameLen, strlen(ex.szName) + 1);
		if (ex.aiAlgid == CALG_RSA_KEYX) {
			saw_rsa = true;
			CU_ASSERT_EQUAL(ex.dwMinLen, tool_min);
			CU_ASSERT_EQUAL(ex.dwMaxLen, tool_max);
			CU_ASSERT_EQUAL(ex.dwDefaultLen, 1024);
		}
		if (ex.aiAlgid == CALG_AES_256) {
			saw_aes256 = true;
			CU_ASSERT_EQUAL(ex.dwDefaultLen, 256);
		}
		if (ex.aiAlgid == CALG_RC4)
			saw_rc4 = true;
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	CU_ASSERT_TRUE(saw_rsa);
	CU_ASSERT_TRUE(saw_aes256);
	/* SoftHSM has no RC4: capi11 does not offer what the token lacks. */
	CU_ASSERT_FALSE(saw_rc4);

	for (flags = CRYPT_FIRST;; flags = 0) {
		len = sizeof a;
		if (!CryptGetProvParam(h, PP_ENUMALGS, (BYTE *)&a, &len, flags))
			break;
		n++;
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	CU_ASSERT_EQUAL(n, n_ex);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(uri);
}

static void test_gen_random(void)
{
	HCRYPTPROV h;
	char *uri = uri_of(TOK_MAIN);
	BYTE buf[64], zero[64];

	memset(buf, 0, sizeof buf);
	memset(zero, 0, sizeof zero);
	CU_ASSERT_TRUE_FATAL(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptGenRandom(h, sizeof buf, buf));
	CU_ASSERT_NOT_EQUAL(memcmp(buf, zero, sizeof buf), 0);
	CU_ASSERT_TRUE(CryptGenRandom(h, 0, NULL));
	CHECK_FAILS_WITH(CryptGenRandom(h, 8, NULL), ERROR_INVALID_PARAMETER);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CHECK_FAILS_WITH(CryptGenRandom(h, sizeof buf, buf), ERROR_INVALID_PARAMETER);
	free(uri);
}

/* ---- PINs ---- */

static void test_pin_source_path(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k;
	char *base = fixture_token_uri_nopin(labels[TOK_PIN_FILE]);
	char *pin_path = fixture_write_file("pin-plain", FIXTURE_PIN "\n", strlen(FIXTURE_PIN) + 1);
	char uri[2048];

	CU_ASSERT_PTR_NOT_NULL_FATAL(pin_path);
	snprintf(uri, sizeof uri, "%s&pin-source=%s", base, pin_path);
	CU_ASSERT_TRUE_FATAL(acquire(&h, "pinfile", uri, CRYPT_NEWKEYSET | CRYPT_SILENT));
	/* Logged in: a private key pair can be made without any prompt. */
	CU_ASSERT_TRUE(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(base);
	free(pin_path);
}

static void test_pin_source_file_uri(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k;
	char *base = fixture_token_uri_nopin(labels[TOK_PIN_FILEURI]);
	char *pin_path = fixture_write_file("pin-uri", FIXTURE_PIN, strlen(FIXTURE_PIN));
	char uri[2048];

	CU_ASSERT_PTR_NOT_NULL_FATAL(pin_path);
	/* p11-kit passes "file:" on untouched; capi11 reads the file it names. */
	snprintf(uri, sizeof uri, "%s&pin-source=file:%s", base, pin_path);
	CU_ASSERT_TRUE_FATAL(acquire(&h, "pinfileuri", uri, CRYPT_NEWKEYSET | CRYPT_SILENT));
	CU_ASSERT_TRUE(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(base);
	free(pin_path);
}

static void test_pin_param(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k;
	char *uri = fixture_token_uri_nopin(labels[TOK_PIN_PARAM]);

	/* The Windows pattern: a silent context, then the PIN as a parameter. */
	CU_ASSERT_TRUE_FATAL(acquire(&h, "pinparam", uri, CRYPT_NEWKEYSET | CRYPT_SILENT));
	CHECK_FAILS_WITH(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k), NTE_SILENT_CONTEXT);
	CU_ASSERT_TRUE(CryptSetProvParam(h, PP_KEYEXCHANGE_PIN, (const BYTE *)FIXTURE_PIN, 0));
	CU_ASSERT_TRUE(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(uri);
}

static void test_silent_without_pin(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k;
	char *uri = fixture_token_uri_nopin(labels[TOK_SILENT]);

	/* A container of private keys only cannot be seen without the PIN. */
	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(labels[TOK_SILENT], true, NULL,
		"--keypairgen --key-type rsa:512 --label hidden --id 02 --private"), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(labels[TOK_SILENT], true, NULL,
		"--delete-object --type pubkey --id 02"), 0);
	CHECK_FAILS_WITH(acquire(&h, "hidden", uri, CRYPT_SILENT), NTE_SILENT_CONTEXT);
	/* Verify contexts work without a PIN, with public session objects. */
	CU_ASSERT_TRUE_FATAL(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT | CRYPT_SILENT));
	CU_ASSERT_TRUE(CryptGenKey(h, CALG_AES_128, 0, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(uri);
}

static void test_wrong_pin_not_retried(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	char *base = fixture_token_uri_shim(labels[TOK_WRONG], false);
	char uri[2048];
	HCRYPTPROV h;
	HCRYPTKEY k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	shim->reset();
	snprintf(uri, sizeof uri, "%s&pin-value=9999", base);
	CHECK_FAILS_WITH(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT), SCARD_W_WRONG_CHV);
	/* Exactly one attempt: the library never tries a rejected PIN again. */
	CU_ASSERT_EQUAL(shim->count("C_Login"), 1);

	/* A wrong PIN given as a parameter: one attempt, then nothing more. */
	CU_ASSERT_TRUE_FATAL(acquire(&h, "wrongpin", base, CRYPT_NEWKEYSET | CRYPT_SILENT));
	CHECK_FAILS_WITH(CryptSetProvParam(h, PP_KEYEXCHANGE_PIN, (const BYTE *)"0000", 0),
			 SCARD_W_WRONG_CHV);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 2);
	CHECK_FAILS_WITH(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k), NTE_SILENT_CONTEXT);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 2);
	/* The right PIN still works afterwards. */
	CU_ASSERT_TRUE(CryptSetProvParam(h, PP_KEYEXCHANGE_PIN, (const BYTE *)FIXTURE_PIN, 0));
	CU_ASSERT_EQUAL(shim->count("C_Login"), 3);
	CU_ASSERT_TRUE(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* Logged in once per token: a second context logs in no more. */
	CU_ASSERT_TRUE_FATAL(acquire(&h, "wrongpin", uri, 0));
	CU_ASSERT_EQUAL(shim->count("C_Login"), 3);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(base);
}

static void test_sessions_pooled(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	char *uri = fixture_token_uri_shim(labels[TOK_WRONG], true);
	HCRYPTPROV h;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	/* Warm: the token is logged in and one session sits in the pool. */
	CU_ASSERT_TRUE_FATAL(acquire(&h, "wrongpin", uri, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	shim->reset();
	for (i = 0; i < 10; i++) {
		CU_ASSERT_TRUE_FATAL(acquire(&h, "wrongpin", uri, 0));
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	}
	/* Acquiring costs neither a new session nor a login. */
	CU_ASSERT_EQUAL(shim->count("C_OpenSession"), 0);
	CU_ASSERT_EQUAL(shim->count("C_CloseSession"), 0);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 0);
	/* Two contexts at once hold two sessions. */
	{
		HCRYPTPROV a, b;
		CU_ASSERT_TRUE_FATAL(acquire(&a, "wrongpin", uri, 0));
		CU_ASSERT_TRUE_FATAL(acquire(&b, "wrongpin", uri, 0));
		CU_ASSERT_EQUAL(shim->count("C_OpenSession"), 1);
		CU_ASSERT_TRUE(CryptReleaseContext(a, 0));
		CU_ASSERT_TRUE(CryptReleaseContext(b, 0));
	}
	free(uri);
}

/* Reads the terminal until text holds want or two seconds pass. */
static bool pty_wait_for(int master, char *text, size_t cap, const char *want)
{
	size_t len = 0;
	struct pollfd pfd = { master, POLLIN, 0 };
	ssize_t n;

	text[0] = '\0';
	while (strstr(text, want) == NULL && len + 1 < cap) {
		if (poll(&pfd, 1, 2000) != 1)
			return false;
		n = read(master, text + len, cap - len - 1);
		if (n <= 0)
			return false;
		len += (size_t)n;
		text[len] = '\0';
	}
	return strstr(text, want) != NULL;
}

/* No PIN anywhere and no CRYPT_SILENT: capi11 asks on the terminal. */
static void test_pin_prompt(void)
{
	char *uri = fixture_token_uri_nopin(labels[TOK_PROMPT]);
	char screen[4096], want[128];
	int master, status = -1;
	pid_t pid;

	pid = forkpty(&master, NULL, NULL, NULL);
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		HCRYPTPROV h;
		HCRYPTKEY k;
		BOOL ok;

		/* The container has nothing public yet: opening it needs the PIN. */
		ok = CryptAcquireContextA(&h, "prompted", uri, PROV_RSA_FULL, CRYPT_NEWKEYSET);
		free(uri);
		if (!ok)
			_exit(1);
		if (!CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k))
			_exit(2);
		_exit(CryptReleaseContext(h, 0) ? 0 : 3);
	}
	snprintf(want, sizeof want, "Enter PIN for \"%s\": ", labels[TOK_PROMPT]);
	CU_ASSERT_TRUE(pty_wait_for(master, screen, sizeof screen, want));
	CU_ASSERT_EQUAL(write(master, FIXTURE_PIN "\n", strlen(FIXTURE_PIN) + 1),
			(ssize_t)strlen(FIXTURE_PIN) + 1);
	waitpid(pid, &status, 0);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Echo was off: the PIN never appeared on the screen. */
	pty_wait_for(master, screen, sizeof screen, "\n\n");
	CU_ASSERT_PTR_NULL(strstr(screen, FIXTURE_PIN));
	close(master);
	/* The child logged in and made its key: pkcs11-tool sees it. */
	CU_ASSERT_TRUE(token_has_label(TOK_PROMPT, "privkey", "prompted"));
	free(uri);
}

static void test_pinpad(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	char *uri = fixture_token_uri_shim(labels[TOK_PINPAD], false);
	HCRYPTPROV h;
	HCRYPTKEY k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	shim->reset();
	/* The reader takes the PIN: capi11 logs in with none, and never asks. */
	shim->set_pinpad(FIXTURE_PIN);
	CU_ASSERT_TRUE_FATAL(acquire(&h, "pinpad", uri, CRYPT_NEWKEYSET | CRYPT_SILENT));
	CU_ASSERT_TRUE(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k));
	CU_ASSERT_EQUAL(shim->count("C_Login"), 1);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	shim->set_pinpad(NULL);
	free(uri);
}

/* ---- absent cards, modules, URIs ---- */

static void test_no_smartcard(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	char *uri = fixture_token_uri_shim(labels[TOK_ABSENT], true);
	char other[2048];
	HCRYPTPROV h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	shim->set_token_absent(true);
	CHECK_FAILS_WITH(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT), SCARD_E_NO_SMARTCARD);
	shim->set_token_absent(false);
	/* Put back, it is found again. */
	CU_ASSERT_TRUE(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* Taken out after it was found: the answer is still immediate. */
	shim->set_token_absent(true);
	CHECK_FAILS_WITH(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT), SCARD_E_NO_SMARTCARD);
	shim->set_token_absent(false);
	CU_ASSERT_TRUE(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	/* A token that is not there at all. */
	snprintf(other, sizeof other, "pkcs11:token=no-such-token?module-path=%s", SOFTHSM_MODULE);
	CHECK_FAILS_WITH(acquire(&h, NULL, other, CRYPT_VERIFYCONTEXT), SCARD_E_NO_SMARTCARD);
	/* OpenSC's module with no card (and no reader service) answers at once. */
	if (OPENSC_MODULE[0] != '\0') {
		snprintf(other, sizeof other, "pkcs11:?module-path=%s", OPENSC_MODULE);
		CHECK_FAILS_WITH(acquire(&h, NULL, other, CRYPT_VERIFYCONTEXT | CRYPT_SILENT),
				 SCARD_E_NO_SMARTCARD);
	}
	free(uri);
}

static void test_bad_module_and_uri(void)
{
	HCRYPTPROV h;

	CHECK_FAILS_WITH(acquire(&h, NULL, "pkcs11:token=x?module-path=/nonexistent/module.so",
				 CRYPT_VERIFYCONTEXT), NTE_PROV_DLL_NOT_FOUND);
	CHECK_FAILS_WITH(acquire(&h, NULL, "pkcs11:token=%zz", CRYPT_VERIFYCONTEXT),
			 NTE_BAD_PROVIDER);
}

static void test_module_name(void)
{
	HCRYPTPROV h;
	char uri[512];

	/* SoftHSM registered with p11-kit as "softhsm2". */
	snprintf(uri, sizeof uri, "pkcs11:token=%s?module-name=softhsm2&pin-value=%s",
		 labels[TOK_MAIN], FIXTURE_PIN);
	CU_ASSERT_TRUE(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* Registered modules searched for the token when no module is named. */
	snprintf(uri, sizeof uri, "pkcs11:token=%s", labels[TOK_MAIN]);
	CU_ASSERT_TRUE(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	snprintf(uri, sizeof uri, "pkcs11:token=%s?module-name=no-such-module", labels[TOK_MAIN]);
	CHECK_FAILS_WITH(acquire(&h, NULL, uri, CRYPT_VERIFYCONTEXT), NTE_PROV_DLL_NOT_FOUND);
}

/* ---- configuration ---- */

static char *write_conf(const char *name, const char *text)
{
	char *path = fixture_write_file(name, text, strlen(text));

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	setenv("CAPI11_CONF", path, 1);
	return path;
}

static void test_config_providers(void)
{
	char *base = fixture_token_uri_nopin(labels[TOK_CONF]);
	char *pin_path = fixture_write_file("pin-conf", FIXTURE_PIN "\n", strlen(FIXTURE_PIN) + 1);
	char text[4096];
	char *conf;
	char name[256];
	HCRYPTPROV h;
	HCRYPTKEY k;

	snprintf(text, sizeof text,
		 "[capi11]\n"
		 "default-provider = demo\n"
		 "[provider \"demo\"]\n"
		 "uri = %s\n"
		 "type = 1\n"
		 "pin-source = %s\n"
		 "[provider \"aes\"]\n"
		 "uri = %s\n"
		 "type = 24\n",
		 base, pin_path, base);
	conf = write_conf("capi11-providers.conf", text);

	CU_ASSERT_TRUE_FATAL(acquire(&h, "conf", "demo", CRYPT_NEWKEYSET | CRYPT_SILENT));
	get_string(h, PP_NAME, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, "demo");
	/* The PIN came from the configured pin-source. */
	CU_ASSERT_TRUE(CryptGenKey(h, AT_SIGNATURE, 512 << 16, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* NULL and "" are the default provider. */
	CU_ASSERT_TRUE(acquire(&h, "conf", NULL, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(acquire(&h, "conf", "", 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* A configured type that differs from the one asked for. */
	CHECK_FAILS_WITH(acquire(&h, NULL, "aes", CRYPT_VERIFYCONTEXT), NTE_PROV_TYPE_NO_MATCH);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, "aes", PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* Microsoft's provider names reach the default provider, keeping the
	 * type Windows registers them with. */
	CU_ASSERT_TRUE(acquire(&h, "conf", MS_ENHANCED_PROV_A, 0));
	get_string(h, PP_NAME, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, MS_ENHANCED_PROV_A);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CHECK_FAILS_WITH(acquire(&h, NULL, MS_ENH_RSA_AES_PROV_A, CRYPT_VERIFYCONTEXT),
			 NTE_PROV_TYPE_NO_MATCH);
	CHECK_FAILS_WITH(acquire(&h, NULL, "undefined", CRYPT_VERIFYCONTEXT), NTE_KEYSET_NOT_DEF);

	/* A broken file is reported, not half-read. */
	free(conf);
	conf = write_conf("capi11-broken.conf", "[capi11]\nno-such-key = 1\n");
	CHECK_FAILS_WITH(acquire(&h, NULL, "demo", CRYPT_VERIFYCONTEXT), NTE_KEYSET_ENTRY_BAD);
	setenv("CAPI11_CONF", "/dev/null", 1);
	free(conf);
	free(base);
	free(pin_path);
}

/* Runs an acquire with stderr captured into a file; returns what was written. */
static char *capture_stderr_acquire(const char *provider, DWORD flags, BOOL *ok, DWORD *err)
{
	HCRYPTPROV h = 0;
	char *text;

	testutil_stderr_begin("stderr.txt");
	SetLastError(SENTINEL);
	*ok = CryptAcquireContextA(&h, NULL, provider, PROV_RSA_FULL, flags);
	*err = GetLastError();
	text = testutil_stderr_end(NULL);
	if (*ok)
		CryptReleaseContext(h, 0);
	return text;
}

static void test_trace_never_shows_pin(void)
{
	char *base = fixture_token_uri_shim(labels[TOK_TRACE], false);
	char text[4096], uri[2048];
	char *conf, *out;
	BOOL ok;
	DWORD err;

	/* A canary PIN, wrong on purpose, with tracing at its most verbose. */
	snprintf(uri, sizeof uri, "%s&pin-value=97531", base);
	snprintf(text, sizeof text, "[capi11]\ntrace = 3\n");
	conf = write_conf("capi11-trace.conf", text);
	out = capture_stderr_acquire(uri, CRYPT_VERIFYCONTEXT, &ok, &err);
	CU_ASSERT_FALSE(ok);
	CU_ASSERT_EQUAL(err, SCARD_W_WRONG_CHV);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "C_Login: CKR_PIN_INCORRECT"));
	{
		/* The same cause without the trace (wincrypt.h): the call and
		 * its CK_RV, the last error left alone, a short buffer cut. */
		char fn[32] = "sentinel", cut[4];

		SetLastError(SENTINEL);
		CU_ASSERT_EQUAL(Capi11GetLastPkcs11Error(fn, sizeof fn), 0xA0u);
		CU_ASSERT_STRING_EQUAL(fn, "C_Login");
		CU_ASSERT_EQUAL(Capi11GetLastPkcs11Error(cut, sizeof cut), 0xA0u);
		CU_ASSERT_STRING_EQUAL(cut, "C_L");
		CU_ASSERT_EQUAL(Capi11GetLastPkcs11Error(NULL, 0), 0xA0u);
		CU_ASSERT_STRING_EQUAL(Capi11Pkcs11ErrorNameA(0xA0u), "CKR_PIN_INCORRECT");
		CU_ASSERT_EQUAL(GetLastError(), SENTINEL);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CryptAcquireContextA: SCARD_W_WRONG_CHV"));
	CU_ASSERT_PTR_NULL(strstr(out, "97531"));
	free(out);

	/* Without tracing the library prints nothing at all. */
	setenv("CAPI11_CONF", "/dev/null", 1);
	out = capture_stderr_acquire(uri, CRYPT_VERIFYCONTEXT, &ok, &err);
	CU_ASSERT_FALSE(ok);
	CU_ASSERT_STRING_EQUAL(out, "");
	free(out);
	{
		/* A failure capi11 decides alone has no PKCS#11 cause, and one
		 * that succeeds leaves the last cause as it was. */
		char fn[32] = "sentinel";
		HCRYPTPROV h = 0;

		CU_ASSERT_FALSE(CryptAcquireContextA(&h, NULL, uri, 0, CRYPT_VERIFYCONTEXT));
		CU_ASSERT_EQUAL(Capi11GetLastPkcs11Error(fn, sizeof fn), 0);
		CU_ASSERT_STRING_EQUAL(fn, "");
	}
	free(conf);
	free(base);
}

static void test_default_provider_registered(void)
{
	HCRYPTPROV h;
	char reader[256];

	/* No configuration: the first token of the registered modules, skipping
	 * p11-kit's trust module (its slots hold certificates, not keys). */
	setenv("CAPI11_CONF", "/nonexistent/capi11.conf", 1);
	CU_ASSERT_TRUE_FATAL(acquire(&h, NULL, NULL, CRYPT_VERIFYCONTEXT | CRYPT_SILENT));
	get_string(h, PP_SMARTCARD_READER, reader, sizeof reader);
	CU_ASSERT_PTR_NULL(strstr(reader, "Trust"));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	setenv("CAPI11_CONF", "/dev/null", 1);
}

static CU_TestInfo flag_tests[] = {
	{ "bad arguments", test_bad_arguments },
	{ "bad flags", test_bad_flags },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo container_tests[] = {
	{ "create, open, delete", test_container_lifecycle },
	{ "default container is the user's", test_default_container },
	{ "key pair from pkcs11-tool is a container", test_foreign_container },
	{ "PP_ENUMCONTAINERS", test_enum_containers },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo param_tests[] = {
	{ "provider parameters", test_prov_params },
	{ "PP_ENUMALGS(_EX) from the token", test_enum_algs },
	{ "CryptGenRandom", test_gen_random },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo pin_tests[] = {
	{ "pin-source path", test_pin_source_path },
	{ "pin-source file: URI", test_pin_source_file_uri },
	{ "PP_KEYEXCHANGE_PIN", test_pin_param },
	{ "CRYPT_SILENT without PIN", test_silent_without_pin },
	{ "wrong PIN is not retried", test_wrong_pin_not_retried },
	{ "sessions are pooled", test_sessions_pooled },
	{ "pinpad reader", test_pinpad },
	{ "PIN prompt on the terminal", test_pin_prompt },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo provider_tests[] = {
	{ "no smartcard", test_no_smartcard },
	{ "bad module, bad URI", test_bad_module_and_uri },
	{ "module-name and registered modules", test_module_name },
	{ "configured providers", test_config_providers },
	{ "default provider without configuration", test_default_provider_registered },
	{ "tracing never shows a PIN", test_trace_never_shows_pin },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "acquire flags", NULL, NULL, NULL, NULL, flag_tests },
	{ "containers", NULL, NULL, NULL, NULL, container_tests },
	{ "provider parameters", NULL, NULL, NULL, NULL, param_tests },
	{ "PINs", NULL, NULL, NULL, NULL, pin_tests },
	{ "providers", NULL, NULL, NULL, NULL, provider_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	static const char *prefixes[N_TOKENS] = {
		"main", "pinfile", "pinuri", "pinparam", "silent", "wrong", "pinpad", "conf", "absent", "trace", "prompt",
	};
	int i, rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	/* Tests choose their configuration; none leaks in from the machine. */
	setenv("CAPI11_CONF", "/dev/null", 1);
	for (i = 0; i < N_TOKENS; i++)
		labels[i] = fixture_token_make(prefixes[i]);
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	for (i = 0; i < N_TOKENS; i++)
		free(labels[i]);
	return rc;
}
