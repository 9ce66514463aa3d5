/* Which token a provider URI opens, and what reaches C_Login: every RFC
 * 7512 attribute selects (slot-id, slot-description, slot-manufacturer,
 * library-*), a URI that could be read two ways is refused before any
 * module is called, PINs that cannot be valid never reach the token, PIN
 * and configuration files that others may read or write are refused, and
 * a FIFO named as either never hangs the caller. The shim counts the
 * PKCS#11 calls, so "no C_Login" is asserted, not assumed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "pin.h"
#include "testutil.h"
#include "uri.h"
#include "util.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* SoftHSM reads its token directory once per process: the tokens are
 * made in suite init. */
enum {
	TOK_A,       /* selected by slot-id / slot-description */
	TOK_B,
	TOK_FRESH,   /* never logged in: C_Login counts mean something */
	TOK_LAZY,    /* logged in only by test_pin_file_logged_in */
	N_TOKENS
};
static char *labels[N_TOKENS];
static unsigned long slots[N_TOKENS];
static char descriptions[N_TOKENS][65];
static const char *shim_path;
static const struct p11shim_ops *shim;

static BOOL acquire(HCRYPTPROV *h, const char *provider, DWORD flags)
{
	*h = 0;
	SetLastError(SENTINEL);
	return CryptAcquireContextA(h, NULL, provider, PROV_RSA_FULL, flags);
}

/* softhsm2-util --show-slots: "Slot <n>", then "Description: ..." and
 * "Label: ..." lines for each slot. */
static int slots_load(void)
{
	char *out, *line, *save = NULL;
	unsigned long slot = 0;
	char desc[65] = "";
	int status = -1, found = 0;

	out = fixture_capture(&status, "%s --show-slots", SOFTHSM2_UTIL);
	if (out == NULL || status != 0) {
		free(out);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *v;
		size_t n;

		if (sscanf(line, "Slot %lu", &slot) == 1)
			continue;
		v = strstr(line, "Description:");
		if (v == NULL)
			v = strstr(line, "Label:");
		if (v == NULL)
			continue;
		v = strchr(v, ':') + 1;
		while (*v == ' ')
			v++;
		n = strlen(v);
		while (n > 0 && v[n - 1] == ' ')
			v[--n] = '\0';
		if (strstr(line, "Description:") != NULL) {
			snprintf(desc, sizeof desc, "%s", v);
			continue;
		}
		for (int t = 0; t < N_TOKENS; t++) {
			if (strcmp(v, labels[t]) == 0) {
				slots[t] = slot;
				memcpy(descriptions[t], desc, sizeof desc);
				found++;
			}
		}
	}
	free(out);
	return found == N_TOKENS ? 0 : -1;
}

/* A URI through the shim: path attributes, then query attributes after
 * module-path. */
static char *shim_uri(const char *path_attrs, const char *query_attrs)
{
	char *uri;

	if (asprintf(&uri, "pkcs11:%s?module-path=%s%s%s", path_attrs, shim_path,
		     query_attrs[0] != '\0' ? "&" : "", query_attrs) < 0)
		return NULL;
	return uri;
}

static void reader_is(HCRYPTPROV h, int tok)
{
	char reader[128] = "";
	DWORD len = sizeof reader;

	CU_ASSERT_TRUE_FATAL(CryptGetProvParam(h, PP_SMARTCARD_READER, (BYTE *)reader, &len, 0));
	if (strcmp(reader, descriptions[tok]) != 0)
		fprintf(stderr, "\n  opened \"%s\", wanted \"%s\"", reader, descriptions[tok]);
	CU_ASSERT_STRING_EQUAL(reader, descriptions[tok]);
}

/* ---- URI checks and redaction, without a token ---- */

static void test_uri_parse(void)
{
	static const char *const good[] = {
		"pkcs11:",
		"pkcs11:token=a",
		"pkcs11:token=a;slot-id=5;slot-description=x%20y;slot-manufacturer=m",
		"pkcs11:library-manufacturer=SoftHSM;library-description=d;library-version=2.6",
		"pkcs11:token=a?module-path=/x.so&pin-value=1234",
		"pkcs11:token=a?pin-source=file:/p&module-name=softhsm2",
		"pkcs11:token=a?",
		"pkcs11:?x-vendor=1",
	};
	static const struct {
		const char *uri;
		const char *word;   /* of the reason */
	} bad[] = {
		{ "pkcs11:token=a;token=b", "twice" },
		{ "pkcs11:token=a;%74oken=a", "" },
		{ "pkcs11:?pin-value=1&pin-value=2", "twice" },
		{ "pkcs11:?module-path=/a.so&module-path=/b.so", "twice" },
		{ "pkcs11:?module-name=a&module-name=a", "twice" },
		{ "pkcs11:?x-v=1&x-v=2", "twice" },
		{ "pkcs11:slot-id=1;slot-id=1", "twice" },
		{ "pkcs11:?pin-value=1&pin-source=/p", "exclude" },
		{ "pkcs11:?pin-source=/p&pin-value=1", "exclude" },
		{ "pkcs11:?module%2Dpath=/x.so", "encoded" },
		{ "pkcs11:%74oken=a", "encoded" },
		{ "pkcs11:slot-id=", "slot-id" },
		{ "pkcs11:slot-id=x", "slot-id" },
		{ "pkcs11:slot-id=-1", "slot-id" },
		{ "pkcs11:slot-id=18446744073709551615", "slot-id" },
		{ "pkcs11:slot-id=99999999999999999999999", "slot-id" },
		{ "pkcs11:token=a%00b", "%00" },
		{ "pkcs11:?pin-value=12%0034", "%00" },
		{ "pkcs11:token=a;object=k", "object" },
		{ "pkcs11:id=%01", "object" },
		{ "pkcs11:type=private", "object" },
		{ "pkcs11:tokn=a", "p11-kit does not know" },
		{ "pkcs11:token=%zz", "valid" },
		{ "pkcs11:token=a?pin-value=%zz", "valid" },
		{ "http://example.com/", "pkcs11:" },
	};
	const char *reason;
	P11KitUri *uri;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		reason = "unset";
		uri = NULL;
		CU_ASSERT_EQUAL(uri_parse_provider(good[i], &uri, &reason), 0);
		if (reason != NULL)
			fprintf(stderr, "\n  %s: %s", good[i], reason);
		CU_ASSERT_PTR_NULL(reason);
		CU_ASSERT_PTR_NOT_NULL(uri);
		if (uri != NULL)
			p11_kit_uri_free(uri);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		reason = NULL;
		uri = (P11KitUri *)1;
		CU_ASSERT_EQUAL(uri_parse_provider(bad[i].uri, &uri, &reason), EINVAL);
		CU_ASSERT_PTR_NULL(uri);
		CU_ASSERT_PTR_NOT_NULL_FATAL(reason);
		if (strstr(reason, bad[i].word) == NULL)
			fprintf(stderr, "\n  %s: \"%s\" lacks \"%s\"", bad[i].uri, reason, bad[i].word);
		CU_ASSERT_PTR_NOT_NULL(strstr(reason, bad[i].word));
	}
	/* The slot-id that p11-kit reads is the one written. */
	CU_ASSERT_EQUAL(uri_parse_provider("pkcs11:slot-id=4294967296", &uri, &reason), 0);
	CU_ASSERT_EQUAL(p11_kit_uri_get_slot_id(uri), (CK_SLOT_ID)4294967296ul);
	p11_kit_uri_free(uri);
}

/* p11-kit reads what follows an empty path attribute (a leading ';' or
 * ";;") as the query, split at '&' (p11-kit 0.24): whatever pin-value
 * p11-kit takes from a URI, the text check must see (it decides whether a
 * configuration file holds a PIN) and the trace must hide. p11-kit's own
 * parse is the reference. */
static void test_pin_value_as_p11kit_reads(void)
{
	static const char *const uris[] = {
		"pkcs11:;token=b&pin-value=31337",
		"pkcs11:token=b;;x=1&pin-value=31337",
		"pkcs11:;token=b;x=1&pin-value=31337",
		"pkcs11:token=b?pin-value=31337",
	};

	for (size_t i = 0; i < CAPI11_N_ELEMENTS(uris); i++) {
		P11KitUri *u = p11_kit_uri_new();
		const char *pin;
		char *shown;

		CU_ASSERT_PTR_NOT_NULL_FATAL(u);
		CU_ASSERT_EQUAL(p11_kit_uri_parse(uris[i], P11_KIT_URI_FOR_ANY, u), P11_KIT_URI_OK);
		pin = p11_kit_uri_get_pin_value(u);
		if (pin != NULL) {
			shown = uri_redact(uris[i]);
			CU_ASSERT_TRUE(uri_has_pin_value(uris[i]));
			CU_ASSERT_PTR_NOT_NULL(shown);
			if (shown != NULL)
				CU_ASSERT_PTR_NULL(strstr(shown, pin));
			capi11_free(shown);
		}
		p11_kit_uri_free(u);
	}
}

static void test_uri_redact(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "pkcs11:token=a?module-path=/m.so&pin-value=1234",
		  "pkcs11:token=a?module-path=/m.so&pin-value=***" },
		{ "pkcs11:token=a?pin-value=1234&module-path=/m.so",
		  "pkcs11:token=a?pin-value=***&module-path=/m.so" },
		{ "pkcs11:?pin-value=", "pkcs11:?pin-value=***" },
		{ "pkcs11:?pin-value=1&pin-value=22", "pkcs11:?pin-value=***&pin-value=***" },
		/* Whatever the case or the encoding of the name, wherever it is. */
		{ "pkcs11:?PIN-VALUE=1234", "pkcs11:?PIN-VALUE=***" },
		{ "pkcs11:?pin%2Dvalue=1234", "pkcs11:?pin%2Dvalue=***" },
		{ "pkcs11:pin-value=1234;token=a", "pkcs11:pin-value=***;token=a" },
		{ "pkcs11:?%50in%2dVALUE=1234", "pkcs11:?%50in%2dVALUE=***" },
		/* A name that decodes to pin-value before a malformed escape
		 * errs on the side of hiding. */
		{ "pkcs11:?pin-value%z=1234", "pkcs11:?pin-value%z=***" },
		{ "pkcs11:?pin-value%00=1234", "pkcs11:?pin-value%00=***" },
		/* Broken URIs are redacted too. */
		{ "pkcs11:token=%zz?pin-value=12%3", "pkcs11:token=%zz?pin-value=***" },
		{ "PKCS11:?pin-value=1234", "PKCS11:?pin-value=***" },
		/* Nothing to hide. */
		{ "pkcs11:token=a?pin-source=/p", "pkcs11:token=a?pin-source=/p" },
		{ "pkcs11:token=pin-value", "pkcs11:token=pin-value" },
		{ "pkcs11:?pin-value", "pkcs11:?pin-value" },
		{ "pkcs11:?pin-valu=1", "pkcs11:?pin-valu=1" },
		{ "pkcs11:?pin-values=1", "pkcs11:?pin-values=1" },
		{ "pkcs11:?pin-valu%zz=1", "pkcs11:?pin-valu%zz=1" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *r = uri_redact(cases[i].in);

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		if (strcmp(r, cases[i].out) != 0)
			fprintf(stderr, "\n  %s -> %s", cases[i].in, r);
		CU_ASSERT_STRING_EQUAL(r, cases[i].out);
		capi11_free(r);
	}
	CU_ASSERT_PTR_NULL(uri_redact(NULL));
	CU_ASSERT_TRUE(uri_has_pin_value("pkcs11:?pin-value=1"));
	CU_ASSERT_TRUE(uri_has_pin_value("pkcs11:?Pin-Value="));
	CU_ASSERT_FALSE(uri_has_pin_value("pkcs11:?pin-source=/p"));
	CU_ASSERT_FALSE(uri_has_pin_value(NULL));
}

/* ---- Token selection ---- */

static void test_slot_id_selects(void)
{
	HCRYPTPROV h;
	char attrs[128], *uri;

	/* Each token by its slot-id alone, twice over, so that the URI cache
	 * is asked too; whichever the module lists first. */
	for (int round = 0; round < 2; round++) {
		for (int t = TOK_A; t <= TOK_B; t++) {
			snprintf(attrs, sizeof attrs, "slot-id=%lu", slots[t]);
			uri = shim_uri(attrs, "pin-value=" FIXTURE_PIN);
			CU_ASSERT_PTR_NOT_NULL_FATAL(uri);
			CU_ASSERT_TRUE(acquire(&h, uri, CRYPT_VERIFYCONTEXT));
			if (h != 0) {
				reader_is(h, t);
				CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
			}
			free(uri);
		}
	}
	/* slot-id and token together must both hold. */
	snprintf(attrs, sizeof attrs, "token=%s;slot-id=%lu", labels[TOK_A], slots[TOK_B]);
	uri = shim_uri(attrs, "pin-value=" FIXTURE_PIN);
	shim->reset();
	CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), SCARD_E_NO_SMARTCARD);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 0);
	free(uri);
}

static void test_no_such_slot(void)
{
	HCRYPTPROV h;
	char *uri;

	/* A slot nobody has, with the PIN of every token there. */
	uri = shim_uri("slot-id=4242424242", "pin-value=" FIXTURE_PIN);
	shim->reset();
	CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), SCARD_E_NO_SMARTCARD);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 0);
	CU_ASSERT_EQUAL(shim->count("C_OpenSession"), 0);
	CU_ASSERT(shim->count("C_GetSlotList") > 0);
	free(uri);
}

static void test_slot_attributes_select(void)
{
	static const char *const mismatches[] = {
		"slot-description=No%20such%20reader",
		"slot-manufacturer=Nobody",
		"library-manufacturer=Nobody",
		"library-description=Nothing",
		"library-version=99.1",
		"manufacturer=Nobody",
		"model=Nothing",
		"serial=0000",
	};
	HCRYPTPROV h;
	char attrs[256], *uri, *p;

	for (size_t i = 0; i < sizeof mismatches / sizeof mismatches[0]; i++) {
		uri = shim_uri(mismatches[i], "pin-value=" FIXTURE_PIN);
		shim->reset();
		CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), SCARD_E_NO_SMARTCARD);
		CU_ASSERT_EQUAL(shim->count("C_Login"), 0);
		free(uri);
	}
	/* The description of B's slot, blanks percent-encoded, opens B. */
	strcpy(attrs, "slot-description=");
	p = attrs + strlen(attrs);
	for (const char *s = descriptions[TOK_B]; *s != '\0'; s++)
		p += *s == ' ' ? sprintf(p, "%%20") : sprintf(p, "%c", *s);
	uri = shim_uri(attrs, "pin-value=" FIXTURE_PIN);
	CU_ASSERT_TRUE(acquire(&h, uri, CRYPT_VERIFYCONTEXT));
	if (h != 0) {
		reader_is(h, TOK_B);
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	}
	free(uri);
	/* And SoftHSM's slot manufacturer matches every slot. */
	snprintf(attrs, sizeof attrs, "slot-manufacturer=SoftHSM%%20project;token=%s",
		 labels[TOK_A]);
	uri = shim_uri(attrs, "pin-value=" FIXTURE_PIN);
	CU_ASSERT_TRUE(acquire(&h, uri, CRYPT_VERIFYCONTEXT));
	if (h != 0) {
		reader_is(h, TOK_A);
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	}
	free(uri);
}

/* ---- URIs that could be read two ways ---- */

static void test_ambiguous_refused(void)
{
	char *uris[8];
	HCRYPTPROV h;
	char attrs[128];
	size_t n = 0;

	snprintf(attrs, sizeof attrs, "token=%s;token=%s", labels[TOK_A], labels[TOK_B]);
	uris[n++] = shim_uri(attrs, "pin-value=" FIXTURE_PIN);
	snprintf(attrs, sizeof attrs, "token=%s;%%74oken=%s", labels[TOK_A], labels[TOK_A]);
	uris[n++] = shim_uri(attrs, "pin-value=" FIXTURE_PIN);
	snprintf(attrs, sizeof attrs, "token=%s", labels[TOK_FRESH]);
	uris[n++] = shim_uri(attrs, "pin-value=1&pin-value=" FIXTURE_PIN);
	uris[n++] = shim_uri(attrs, "module-path=/nonexistent.so&pin-value=" FIXTURE_PIN);
	uris[n++] = shim_uri(attrs, "pin-value=" FIXTURE_PIN "&pin-source=/nonexistent.pin");
	snprintf(attrs, sizeof attrs, "token=%s;slot-id=", labels[TOK_FRESH]);
	uris[n++] = shim_uri(attrs, "pin-value=" FIXTURE_PIN);
	snprintf(attrs, sizeof attrs, "token=%s;object=k", labels[TOK_FRESH]);
	uris[n++] = shim_uri(attrs, "pin-value=" FIXTURE_PIN);

	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(uris[i]);
		shim->reset();
		CHECK_FAILS_WITH(acquire(&h, uris[i], CRYPT_VERIFYCONTEXT), NTE_BAD_PROVIDER);
		/* Refused before any module was called. */
		if (shim->total() != 0)
			fprintf(stderr, "\n  %s reached the module", uris[i]);
		CU_ASSERT_EQUAL(shim->total(), 0);
		free(uris[i]);
	}
}

/* ---- PINs that cannot be valid ---- */

static char *long_pin(size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memset(p, '7', n);
		p[n] = '\0';
	}
	return p;
}

static void test_bad_pins_never_sent(void)
{
	/* URI forms: empty, "12\n34", "12\r34", 1000 bytes, and 256 (within
	 * capi11's bound, over SoftHSM's ulMaxPinLen of 255). */
	char *thousand = long_pin(1000), *over_token = long_pin(256), *q;
	const char *values[] = { "", "12%0A34", "12%0D34", "1234%0A", thousand, over_token };
	char attrs[128], *uri;
	HCRYPTPROV h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(thousand);
	CU_ASSERT_PTR_NOT_NULL_FATAL(over_token);
	snprintf(attrs, sizeof attrs, "token=%s", labels[TOK_FRESH]);
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		CU_ASSERT_FATAL(asprintf(&q, "pin-value=%s", values[i]) > 0);
		uri = shim_uri(attrs, q);
		shim->reset();
		CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), SCARD_W_WRONG_CHV);
		CU_ASSERT_EQUAL(shim->count("C_Login"), 0);
		free(uri);
		free(q);
	}

	/* The same through CryptSetProvParam on a silent context. */
	uri = shim_uri(attrs, "");
	CU_ASSERT_TRUE_FATAL(acquire(&h, uri, CRYPT_VERIFYCONTEXT | CRYPT_SILENT));
	{
		const char *pins[] = { "", "12\n34", "1234\r\n", thousand, over_token };

		for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++) {
			shim->reset();
			SetLastError(SENTINEL);
			CU_ASSERT_FALSE(CryptSetProvParam(h, PP_KEYEXCHANGE_PIN,
							  (const BYTE *)pins[i], 0));
			CU_ASSERT_EQUAL(GetLastError(), SCARD_W_WRONG_CHV);
			CU_ASSERT_EQUAL(shim->count("C_Login"), 0);
		}
		/* The control: a PIN of a possible shape does reach the token,
		 * which refuses it. */
		shim->reset();
		SetLastError(SENTINEL);
		CU_ASSERT_FALSE(CryptSetProvParam(h, PP_SIGNATURE_PIN, (const BYTE *)"9999", 0));
		CU_ASSERT_EQUAL(GetLastError(), SCARD_W_WRONG_CHV);
		CU_ASSERT_EQUAL(shim->count("C_Login"), 1);
	}
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(uri);

	/* And through pin-source files (mode 0600). */
	{
		static const struct {
			const char *name, *text;
			size_t len;
		} files[] = {
			{ "pin-empty", "", 0 },
			{ "pin-newline-only", "\n", 1 },
			{ "pin-two-lines", "12\n34", 5 },
			{ "pin-two-ends", "1234\n\n", 6 },
			{ "pin-nul", "12\0" "34", 5 },
		};
		char *path;

		for (size_t i = 0; i < sizeof files / sizeof files[0] + 1; i++) {
			if (i < sizeof files / sizeof files[0])
				path = fixture_write_file(files[i].name, files[i].text, files[i].len);
			else
				path = fixture_write_file("pin-long", thousand, 1000);
			CU_ASSERT_PTR_NOT_NULL_FATAL(path);
			CU_ASSERT_FATAL(asprintf(&q, "pin-source=%s", path) > 0);
			uri = shim_uri(attrs, q);
			shim->reset();
			CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), SCARD_W_WRONG_CHV);
			CU_ASSERT_EQUAL(shim->count("C_Login"), 0);
			free(uri);
			free(q);
			free(path);
		}
	}
	free(thousand);
	free(over_token);
}

/* ---- Files that others may read or write ---- */

/* CAPI11_TRACE is read when the configuration is (re)loaded: a new
 * (absent) configuration path makes the library read both again. */
static void trace_on(bool on)
{
	static unsigned serial;
	char path[64];

	if (on)
		setenv("CAPI11_TRACE", "1", 1);
	else
		unsetenv("CAPI11_TRACE");
	snprintf(path, sizeof path, "/nonexistent/capi11-%u.conf", serial++);
	setenv("CAPI11_CONF", path, 1);
}

static void test_pin_file_private(void)
{
	char *path, *q, *uri, *trace;
	char attrs[128];
	HCRYPTPROV h;

	snprintf(attrs, sizeof attrs, "token=%s", labels[TOK_B]);
	path = fixture_write_file("pin-shared", FIXTURE_PIN "\n", strlen(FIXTURE_PIN) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_FATAL(asprintf(&q, "pin-source=%s", path) > 0);
	uri = shim_uri(attrs, q);

	CU_ASSERT_EQUAL_FATAL(chmod(path, 0644), 0);
	shim->reset();
	trace_on(true);
	testutil_stderr_begin("pin-shared.trace");
	CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), NTE_KEYSET_ENTRY_BAD);
	trace = testutil_stderr_end(NULL);
	trace_on(false);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 0);
	/* The trace names the file and the rule, never the PIN. */
	CU_ASSERT_PTR_NOT_NULL(strstr(trace, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(trace, "group or others"));
	free(trace);

	CU_ASSERT_EQUAL_FATAL(chmod(path, 0640), 0);
	CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), NTE_KEYSET_ENTRY_BAD);
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0602), 0);
	CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), NTE_KEYSET_ENTRY_BAD);
	/* Execute bits give nobody the PIN. */
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0711), 0);
	CU_ASSERT_TRUE(acquire(&h, uri, CRYPT_VERIFYCONTEXT));
	if (h != 0)
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0600), 0);
	CU_ASSERT_TRUE(acquire(&h, uri, CRYPT_VERIFYCONTEXT));
	if (h != 0)
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0400), 0);
	CU_ASSERT_TRUE(acquire(&h, uri, CRYPT_VERIFYCONTEXT));
	if (h != 0)
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	/* Owned by another user: only root can make one. */
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL_FATAL(chown(path, 65534, 65534), 0);
		CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), NTE_KEYSET_ENTRY_BAD);
	}
	free(uri);
	free(q);
	free(path);
}

/* A token some context already logged in checks no PIN: acquire checks the
 * pin-source file as a read would (it exists, others can neither read nor
 * write it) but does not read the PIN, which is read when a login needs
 * it (src/pin.h, pin_check_source). Before anyone logged in, the same
 * file's content is read and refused. */
static void test_pin_file_logged_in(void)
{
	static const char nul_pin[] = "12\0" "34\n";
	char *path, *q, *uri, *holder_uri;
	char attrs[128];
	HCRYPTPROV h, holder = 0;

	snprintf(attrs, sizeof attrs, "token=%s", labels[TOK_LAZY]);
	path = fixture_write_file("pin-nul", nul_pin, sizeof nul_pin - 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0600), 0);
	CU_ASSERT_FATAL(asprintf(&q, "pin-source=%s", path) > 0);
	uri = shim_uri(attrs, q);
	holder_uri = shim_uri(attrs, "pin-value=" FIXTURE_PIN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(uri);
	CU_ASSERT_PTR_NOT_NULL_FATAL(holder_uri);

	/* Nobody logged in: the PIN is read, and a NUL in it is refused
	 * before any C_Login, as a PIN that cannot be right. */
	shim->reset();
	CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), SCARD_W_WRONG_CHV);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 0);

	CU_ASSERT_TRUE_FATAL(acquire(&holder, holder_uri, CRYPT_VERIFYCONTEXT));
	/* A context released gives its session back to the pool, where the
	 * next acquire's liveness check sees the token logged in. */
	CU_ASSERT_TRUE_FATAL(acquire(&h, holder_uri, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* Logged in: the same file is not read (its PIN could not be
	 * checked), and nothing logs in again. */
	shim->reset();
	CU_ASSERT_TRUE(acquire(&h, uri, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_EQUAL(shim->count("C_Login"), 0);
	if (h != 0)
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* The file's rules still hold. */
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0640), 0);
	CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), NTE_KEYSET_ENTRY_BAD);
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0600), 0);
	/* Longer than any PIN file may be, by its size alone. */
	CU_ASSERT_EQUAL_FATAL(truncate(path, 4096), 0);
	CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), SCARD_W_WRONG_CHV);
	CU_ASSERT_EQUAL_FATAL(unlink(path), 0);
	CHECK_FAILS_WITH(acquire(&h, uri, CRYPT_VERIFYCONTEXT), NTE_KEYSET_ENTRY_BAD);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 0);

	CU_ASSERT_TRUE(CryptReleaseContext(holder, 0));
	free(holder_uri);
	free(uri);
	free(q);
	free(path);
}

/* capi11_stat_file tells what opening the file to read it would refuse,
 * without opening it (src/util.h). Compared with open(2) itself, as root
 * and, in a child, as a user who is not root (where root can make one). */
static int stat_vs_open(const char *path)
{
	struct stat st;
	int by_stat = capi11_stat_file(path, 1024, &st);
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	int by_open = fd >= 0 ? 0 : errno;

	if (fd >= 0)
		close(fd);
	return by_stat == by_open ? 0 : -1;
}

static void test_stat_file_as_open(void)
{
	static const mode_t modes[] = { 0600, 0400, 0200, 0000, 0700 };
	/* A directory anyone may pass through, so that only the file's own
	 * bits decide. */
	char dir[] = "/tmp/capi11-stat-XXXXXX";
	char path[64], big[64];
	struct stat st;
	pid_t pid;
	int status, fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_EQUAL_FATAL(chmod(dir, 0711), 0);
	snprintf(path, sizeof path, "%s/pin", dir);
	snprintf(big, sizeof big, "%s/big", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "1234", 4), 4);
	close(fd);
	fd = open(big, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL(truncate(big, 1025), 0);
	CU_ASSERT_EQUAL(capi11_stat_file(big, 1024, &st), EFBIG);
	CU_ASSERT_EQUAL(capi11_stat_file("/nonexistent/pin", 1024, &st), ENOENT);
	CU_ASSERT_EQUAL(capi11_stat_file("/", 1024, &st), EISDIR);
	CU_ASSERT_EQUAL(capi11_stat_file("/dev/null", 1024, &st), 0);
	CU_ASSERT_EQUAL(capi11_stat_file("/dev/zero", 1024, &st), EINVAL);
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		CU_ASSERT_EQUAL_FATAL(chmod(path, modes[i]), 0);
		CU_ASSERT_EQUAL(stat_vs_open(path), 0);
	}
	if (geteuid() != 0)
		goto out;
	/* Not root: a file of one's own by its owner bit, root's never. */
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int bad = 0;

		for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
			if (chown(path, 65534, 65534) != 0 || chmod(path, modes[i]) != 0)
				_exit(2);
			if (seteuid(65534) != 0)
				_exit(3);
			bad += stat_vs_open(path) != 0;
			if (seteuid(0) != 0 || chown(path, 0, 0) != 0)
				_exit(4);
			if (seteuid(65534) != 0)
				_exit(3);
			bad += stat_vs_open(path) != 0;
			if (seteuid(0) != 0)
				_exit(4);
		}
		_exit(bad == 0 ? 0 : 1);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
out:
	unlink(path);
	unlink(big);
	rmdir(dir);
}

/* The check of a logged-in token's pin-source file refuses what reading the
 * file refuses for want of permission (src/pin.h, pin_check_source). The
 * execute bits of group and others let nobody read a file (open(2) reads
 * by the read bits alone) and capi11_file_check_private accepts them, so a
 * file whose owner may not read it is refused by the read and must be
 * refused by the check too, whatever its execute bits. As a user who is
 * not root: root reads any file. */
static void test_pin_check_exec_bits(void)
{
	static const mode_t modes[] = { 0301, 0210, 0201, 0110, 0011, 0001 };
	char dir[] = "/tmp/capi11-pinx-XXXXXX";
	char path[64];
	pid_t pid;
	int status, fd;

	if (geteuid() != 0)
		return;
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_EQUAL_FATAL(chmod(dir, 0711), 0);
	snprintf(path, sizeof path, "%s/pin", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "1234", 4), 4);
	close(fd);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int bad = 0, by_read;
		char *pin;

		for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
			/* The user's own file, then root's. */
			for (int owner = 0; owner < 2; owner++) {
				uid_t uid = owner == 0 ? 65534 : 0;

				if (seteuid(0) != 0 || chown(path, uid, uid) != 0 ||
				    chmod(path, modes[i]) != 0)
					_exit(2);
				if (seteuid(65534) != 0)
					_exit(3);
				pin = pin_read_source(path, &by_read);
				if (pin != NULL || by_read != EACCES)
					_exit(4);
				if (pin_check_source(path) != EACCES) {
					fprintf(stderr, "mode %04o owner %u: checked, not refused\n",
						(unsigned)modes[i], (unsigned)uid);
					bad++;
				}
			}
		}
		/* Unreadable and too long: the read says EACCES before it
		 * could learn the length; so must the check. */
		if (seteuid(0) != 0 || chown(path, 65534, 65534) != 0 || chmod(path, 0200) != 0 ||
		    truncate(path, 1 << 20) != 0 || seteuid(65534) != 0)
			_exit(2);
		pin = pin_read_source(path, &by_read);
		if (pin != NULL || by_read != EACCES)
			_exit(4);
		if (pin_check_source(path) != EACCES) {
			fprintf(stderr, "unreadable, 1 MiB: not refused as unreadable\n");
			bad++;
		}
		_exit(bad == 0 ? 0 : 1);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(path);
	rmdir(dir);
}

static char *conf_write(const char *name, const char *text, mode_t mode)
{
	char *path = fixture_write_file(name, text, strlen(text));

	if (path != NULL && chmod(path, mode) != 0) {
		free(path);
		path = NULL;
	}
	return path;
}

/* A provider URI whose PIN p11-kit reads after an empty path attribute
 * (p11-kit 0.24 takes what follows as the query, see
 * test_pin_value_as_p11kit_reads) is a PIN in the configuration file all
 * the same: a file others may read is refused before any PKCS#11 call, and
 * the trace never shows the PIN. */
static void test_conf_pin_after_empty_attr(void)
{
	char *text, *path, *trace;
	HCRYPTPROV h = 0;

	CU_ASSERT_FATAL(asprintf(&text, "[capi11]\ndefault-provider = p\n"
				 "[provider \"p\"]\nuri = pkcs11:;token=%s&module-path=%s"
				 "&pin-value=%s\n", labels[TOK_B], shim_path, FIXTURE_PIN) > 0);
	path = conf_write("uri-pin-empty-attr.conf", text, 0644);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	setenv("CAPI11_TRACE", "2", 1);
	setenv("CAPI11_CONF", path, 1);
	shim->reset();
	testutil_stderr_begin("conf-empty-attr.trace");
	CHECK_FAILS_WITH(acquire(&h, NULL, CRYPT_VERIFYCONTEXT), NTE_KEYSET_ENTRY_BAD);
	trace = testutil_stderr_end(NULL);
	unsetenv("CAPI11_TRACE");
	unsetenv("CAPI11_CONF");
	CU_ASSERT_EQUAL(shim->count("C_Login"), 0);
	CU_ASSERT_PTR_NOT_NULL(trace);
	if (trace != NULL)
		CU_ASSERT_PTR_NULL(strstr(trace, FIXTURE_PIN));
	if (h != 0)
		CryptReleaseContext(h, 0);
	free(trace);
	free(path);
	free(text);
}

static void test_conf_with_pin_private(void)
{
	char *text, *path, *trace;
	HCRYPTPROV h;

	/* A pin-value key. */
	CU_ASSERT_FATAL(asprintf(&text, "[capi11]\ndefault-provider = p\n"
				 "[provider \"p\"]\nuri = pkcs11:token=%s?module-path=%s\n"
				 "pin-value = %s\n", labels[TOK_B], shim_path, FIXTURE_PIN) > 0);
	path = conf_write("pin-value-shared.conf", text, 0644);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	setenv("CAPI11_TRACE", "1", 1);
	setenv("CAPI11_CONF", path, 1);
	shim->reset();
	testutil_stderr_begin("conf-shared.trace");
	CHECK_FAILS_WITH(acquire(&h, NULL, CRYPT_VERIFYCONTEXT), NTE_KEYSET_ENTRY_BAD);
	trace = testutil_stderr_end(NULL);
	unsetenv("CAPI11_TRACE");
	CU_ASSERT_EQUAL(shim->total(), 0);
	/* CAPI11_TRACE reports why a configuration is refused. */
	CU_ASSERT_PTR_NOT_NULL(strstr(trace, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(trace, "pin-value"));
	CU_ASSERT_PTR_NULL(strstr(trace, FIXTURE_PIN));
	free(trace);
	/* Made private, the same file works (the cache sees the chmod). */
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0600), 0);
	CU_ASSERT_TRUE(acquire(&h, NULL, CRYPT_VERIFYCONTEXT));
	if (h != 0) {
		reader_is(h, TOK_B);
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	}
	/* And shared again: refused again. */
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0604), 0);
	CHECK_FAILS_WITH(acquire(&h, NULL, CRYPT_VERIFYCONTEXT), NTE_KEYSET_ENTRY_BAD);
	free(path);
	free(text);

	/* A PIN inside the provider's URI counts as well. */
	CU_ASSERT_FATAL(asprintf(&text, "[capi11]\ndefault-provider = p\n"
				 "[provider \"p\"]\nuri = pkcs11:token=%s?module-path=%s"
				 "&pin-value=%s\n", labels[TOK_B], shim_path, FIXTURE_PIN) > 0);
	path = conf_write("uri-pin-shared.conf", text, 0644);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	setenv("CAPI11_CONF", path, 1);
	CHECK_FAILS_WITH(acquire(&h, NULL, CRYPT_VERIFYCONTEXT), NTE_KEYSET_ENTRY_BAD);
	free(path);
	free(text);

	/* Without a PIN, a world-readable configuration is fine (/etc). */
	CU_ASSERT_FATAL(asprintf(&text, "[capi11]\ndefault-provider = p\n"
				 "[provider \"p\"]\nuri = pkcs11:token=%s?module-path=%s\n",
				 labels[TOK_B], shim_path) > 0);
	path = conf_write("no-pin.conf", text, 0644);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	setenv("CAPI11_CONF", path, 1);
	CU_ASSERT_TRUE(acquire(&h, NULL, CRYPT_VERIFYCONTEXT | CRYPT_SILENT));
	if (h != 0)
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	setenv("CAPI11_CONF", "/nonexistent/capi11.conf", 1);
	free(path);
	free(text);
}

/* ---- FIFOs ---- */

/* Runs the acquire in a child that an alarm ends, so that a hang fails
 * this test instead of stalling the suite. The child's exit status is 0
 * when the call failed with want, 1 otherwise. */
static void acquire_in_child(const char *provider, const char *conf, DWORD want)
{
	int status = -1;
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		HCRYPTPROV h;
		BOOL ok;

		alarm(10);
		if (conf != NULL)
			setenv("CAPI11_CONF", conf, 1);
		ok = acquire(&h, provider, CRYPT_VERIFYCONTEXT | CRYPT_SILENT);
		_exit(!ok && GetLastError() == want ? 0 : 1);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fprintf(stderr, "\n  the acquire hung (signal %d)", WTERMSIG(status));
	CU_ASSERT_TRUE(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
}

static void test_fifo_never_blocks(void)
{
	char *fifo, *q, *uri;
	char attrs[128];

	CU_ASSERT_FATAL(asprintf(&fifo, "%s/fifo", fixture_dir()) > 0);
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);

	/* As the configuration file. */
	acquire_in_child(NULL, fifo, NTE_KEYSET_ENTRY_BAD);
	/* As pin-source, plain and as a file: URI. */
	snprintf(attrs, sizeof attrs, "token=%s", labels[TOK_B]);
	CU_ASSERT_FATAL(asprintf(&q, "pin-source=%s", fifo) > 0);
	uri = shim_uri(attrs, q);
	acquire_in_child(uri, NULL, NTE_KEYSET_ENTRY_BAD);
	free(uri);
	free(q);
	CU_ASSERT_FATAL(asprintf(&q, "pin-source=file:%s", fifo) > 0);
	uri = shim_uri(attrs, q);
	acquire_in_child(uri, NULL, NTE_KEYSET_ENTRY_BAD);
	free(uri);
	free(q);
	/* A device other than /dev/null is refused as well. */
	acquire_in_child(NULL, "/dev/zero", NTE_KEYSET_ENTRY_BAD);
	unlink(fifo);
	free(fifo);
}

/* ---- Suite ---- */

static int suite_init(void)
{
	if (!fixture_init()) {
		cutest_skip("SoftHSM is not installed");
		return 0;
	}
	shim = fixture_shim();
	shim_path = fixture_shim_path();
	if (shim == NULL || shim_path == NULL) {
		cutest_skip("the counting shim was not built");
		return 0;
	}
	labels[TOK_A] = fixture_token_make("uri-a");
	labels[TOK_B] = fixture_token_make("uri-b");
	labels[TOK_FRESH] = fixture_token_make("uri-fresh");
	labels[TOK_LAZY] = fixture_token_make("uri-lazy");
	if (slots_load() != 0)
		return -1;
	setenv("CAPI11_CONF", "/nonexistent/capi11.conf", 1);
	unsetenv("CAPI11_TRACE");
	return 0;
}

/* The parse cache serves a URI without a PIN from one parse, and never
 * keeps one that carries a PIN, however often it is asked for, even after
 * the same URI without its PIN was kept (src/uri.h). */
static void test_uri_cache_keeps_no_pin(void)
{
	static const char *const with_pin[] = {
		"pkcs11:token=cache-test?pin-value=1234",
		"pkcs11:token=cache-test?PIN%2DVALUE=1234",
		"pkcs11:token=cache-test?pin-value%zz=1234",
	};
	P11KitUri *a = NULL, *b = NULL;
	struct uri_cache_entry *ra = NULL, *rb = NULL;
	const char *reason;

	CU_ASSERT_EQUAL_FATAL(uri_cache_get("pkcs11:token=cache-test", &a, &ra, &reason), 0);
	CU_ASSERT_PTR_NOT_NULL(ra);
	CU_ASSERT_EQUAL_FATAL(uri_cache_get("pkcs11:token=cache-test", &b, &rb, &reason), 0);
	CU_ASSERT_PTR_EQUAL(ra, rb);
	CU_ASSERT_PTR_EQUAL(a, b);
	uri_cache_put(ra);
	uri_cache_put(rb);
	for (size_t i = 0; i < sizeof with_pin / sizeof with_pin[0]; i++) {
		for (int round = 0; round < 2; round++) {
			P11KitUri *u = NULL;
			struct uri_cache_entry *r = NULL;

			if (uri_cache_get(with_pin[i], &u, &r, &reason) != 0) {
				/* A refused URI is not kept either. */
				CU_ASSERT_PTR_NULL(u);
				CU_ASSERT_PTR_NULL(r);
				continue;
			}
			CU_ASSERT_PTR_NULL(r);
			CU_ASSERT_PTR_NOT_NULL(u);
			uri_free_wiped(u);
		}
	}
}

static CU_TestInfo unit_tests[] = {
	{ "refused and accepted URIs", test_uri_parse },
	{ "pin-value redacted", test_uri_redact },
	{ "pin-value as p11-kit reads it", test_pin_value_as_p11kit_reads },
	{ "the parse cache keeps no PIN", test_uri_cache_keeps_no_pin },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo token_tests[] = {
	{ "slot-id selects the token", test_slot_id_selects },
	{ "a slot nobody has: no token, no C_Login", test_no_such_slot },
	{ "slot, library and token attributes select", test_slot_attributes_select },
	{ "ambiguous URIs refused before any call", test_ambiguous_refused },
	{ "impossible PINs never reach C_Login", test_bad_pins_never_sent },
	{ "pin-source file private to its owner", test_pin_file_private },
	{ "a file checked by stat as open would", test_stat_file_as_open },
	{ "a token logged in: the pin-source file checked, not read", test_pin_file_logged_in },
	{ "a pin-source file its owner may not read: refused by the check", test_pin_check_exec_bits },
	{ "capi11.conf with a PIN private to its owner", test_conf_with_pin_private },
	{ "a PIN after an empty URI attribute: private all the same", test_conf_pin_after_empty_attr },
	{ "a FIFO never blocks CryptAcquireContext", test_fifo_never_blocks },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "URI checks", NULL, NULL, NULL, NULL, unit_tests },
	{ "token selection and PINs", suite_init, NULL, NULL, NULL, token_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc = cutest_run(suites);

	fixture_cleanup(rc == 0 || rc == CUTEST_SKIP);
	for (int t = 0; t < N_TOKENS; t++)
		free(labels[t]);
	return rc;
}
