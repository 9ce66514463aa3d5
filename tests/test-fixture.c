/* Checks the test infrastructure itself against independent tools: the
 * SoftHSM fixture against softhsm2-util, pkcs11-tool, the shell and p11-kit's
 * URI parser; the shim against SoftHSM's own answers. Every other test
 * program trusts these pieces, so they get tests of their own. */
#include "config.h"
#include "cutest.h"
#include "fixture.h"

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

/* ---- Helpers ---- */

/* Whether a "Field: value" line of a tool's report (softhsm2-util,
 * pkcs11-tool) has exactly this value, blanks around it ignored. */
static bool report_has(const char *report, const char *field,
		const char *value)
{
	size_t field_len = strlen(field), value_len = strlen(value);

	for (const char *line = report; line && *line;) {
		const char *end = strchr(line, '\n');
		const char *p = line;

		if (!end)
			end = line + strlen(line);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) >= field_len &&
		    strncmp(p, field, field_len) == 0) {
			const char *v = p + field_len, *v_end = end;

			while (v < v_end && *v == ' ')
				v++;
			while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\r'))
				v_end--;
			if ((size_t)(v_end - v) == value_len &&
			    strncmp(v, value, value_len) == 0)
				return true;
		}
		line = *end ? end + 1 : end;
	}
	return false;
}

/* PKCS#11 labels are blank-padded to 32 bytes, not NUL-terminated. */
static bool label_is(const CK_UTF8CHAR label[32], const char *want)
{
	size_t len = strlen(want);

	if (len > 32 || memcmp(label, want, len) != 0)
		return false;
	for (size_t i = len; i < 32; i++) {
		if (label[i] != ' ')
			return false;
	}
	return true;
}

static CK_FUNCTION_LIST *module_open(const char *path)
{
	CK_C_GetFunctionList get_list;
	CK_FUNCTION_LIST *list = NULL;
	void *module, *sym;

	module = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
	if (!module)
		return NULL;
	sym = dlsym(module, "C_GetFunctionList");
	memcpy(&get_list, &sym, sizeof get_list);
	if (!get_list || get_list(&list) != CKR_OK)
		return NULL;
	return list;
}

static CK_RV module_initialize(CK_FUNCTION_LIST *module)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };

	return module->C_Initialize(&args);
}

/* The slot whose token has this label, found through the module's slot list
 * of present tokens. */
static bool slot_find(CK_FUNCTION_LIST *module, const char *label,
		CK_SLOT_ID *slot)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	CK_TOKEN_INFO info;

	if (module->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return false;
	for (CK_ULONG i = 0; i < n; i++) {
		if (module->C_GetTokenInfo(slots[i], &info) == CKR_OK &&
		    label_is(info.label, label)) {
			*slot = slots[i];
			return true;
		}
	}
	return false;
}

static size_t dir_count_entries(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	size_t n = 0;

	if (!dir)
		return 0;
	while ((e = readdir(dir))) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	}
	closedir(dir);
	return n;
}

/* ---- The fixture ---- */

static void test_dir_and_conf(void)
{
	const char *dir = fixture_dir();
	char conf[4096], line[4096], *text;
	int status;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	CU_ASSERT_EQUAL(access(dir, W_OK), 0);
	snprintf(conf, sizeof conf, "%s/softhsm2.conf", dir);
	CU_ASSERT_STRING_EQUAL(getenv("SOFTHSM2_CONF"), conf);

	/* Read back by cat, not by this file's writer. */
	text = fixture_capture(&status, "cat \"$SOFTHSM2_CONF\"");
	CU_ASSERT_EQUAL(status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	snprintf(line, sizeof line, "directories.tokendir = %s/tokens\n", dir);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "objectstore.backend = file\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "slots.removable = false\n"));
	free(text);
}

/* softhsm2-util, reading the fixture's configuration, lists the new token,
 * and SoftHSM's file store holds one more token directory. */
static void test_token_new(void)
{
	char *label = fixture_label_new("fx"), *other = fixture_label_new("fx");
	char tokens[4096], *report;
	size_t before;
	int status;

	CU_ASSERT_PTR_NOT_NULL_FATAL(label);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	snprintf(tokens, sizeof tokens, "%s/tokens", fixture_dir());
	before = dir_count_entries(tokens);

	CU_ASSERT_EQUAL(fixture_token_new(label), 0);
	CU_ASSERT_EQUAL(dir_count_entries(tokens), before + 1);
	report = fixture_capture(&status, "%s --show-slots", SOFTHSM2_UTIL);
	CU_ASSERT_EQUAL(status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(report);
	CU_ASSERT_TRUE(report_has(report, "Label:", label));
	CU_ASSERT_FALSE(report_has(report, "Label:", other));
	free(report);
	free(other);
	free(label);
}

static void test_label_new(void)
{
	char *a = fixture_label_new("lbl"), *b = fixture_label_new("lbl");
	char pid[32];

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	snprintf(pid, sizeof pid, "lbl-%ld-", (long)getpid());
	CU_ASSERT_EQUAL(strncmp(a, pid, strlen(pid)), 0);
	/* A label that would not fit a token is refused, not truncated. */
	CU_ASSERT_PTR_NULL(fixture_label_new("a-prefix-of-thirty-two-characters"));
	free(b);
	free(a);
}

static void test_run_status(void)
{
	char *out, *log;
	int status = -1;

	CU_ASSERT_EQUAL(fixture_run("exit 3"), 3);
	CU_ASSERT_EQUAL(fixture_run("true"), 0);
	/* The shell's convention for a command killed by SIGKILL (9). */
	CU_ASSERT_EQUAL(fixture_run("kill -9 $$"), 128 + 9);

	out = fixture_capture(&status, "echo out; echo err-%d >&2; exit 4", 42);
	CU_ASSERT_EQUAL(status, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_STRING_EQUAL(out, "out\n");
	free(out);

	/* stderr went to the command log, after the command line. */
	log = fixture_capture(&status, "cat '%s/commands.log'", fixture_dir());
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "$ echo out; echo err-42 >&2; exit 4\nerr-42\n"));
	free(log);

	/* Large output must not deadlock the pipe. */
	out = fixture_capture(&status, "head -c 200000 /dev/zero | tr '\\0' x");
	CU_ASSERT_EQUAL(status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(strlen(out), 200000);
	free(out);
}

static void test_quote(void)
{
	static const char tricky[] = "it's $HOME `id` \"q\" \\ ; *";
	char *quoted = fixture_quote(tricky), *out;
	int status;

	out = fixture_capture(&status, "printf '%%s' %s", quoted);
	CU_ASSERT_EQUAL(status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_STRING_EQUAL(out, tricky);
	free(out);
	free(quoted);
}

static void test_write_file(void)
{
	static const unsigned char data[] = { 'a', 0, 'b', 0xff, '\n' };
	char *path = fixture_write_file("blob.bin", data, sizeof data);
	char prefix[4096], *out;
	int status;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	snprintf(prefix, sizeof prefix, "%s/", fixture_dir());
	CU_ASSERT_EQUAL(strncmp(path, prefix, strlen(prefix)), 0);
	/* od prints the bytes in octal: a NUL b 377 \n. */
	out = fixture_capture(&status, "od -An -v -to1 '%s' | tr -s ' \\n' ' '",
			      path);
	CU_ASSERT_EQUAL(status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_STRING_EQUAL(out, " 141 000 142 377 012 ");
	free(out);
	free(path);
}

/* The URIs follow RFC 7512's grammar, and p11-kit's parser reads back the
 * label, module and PIN that were put in. */
static void test_uri(void)
{
	/* Space, '/', '%', ';' and non-ASCII must be encoded in the path;
	 * '&' is allowed there (pk11-path-res-avail). */
	static const char label[] = "a b/c%&;\xc3\xa9";
	static const char encoded[] = "a%20b%2Fc%25&%3B%C3%A9";
	char *uri = fixture_token_uri(label), *nopin = fixture_token_uri_nopin(label);
	char expect[512];
	P11KitUri *parsed;

	CU_ASSERT_PTR_NOT_NULL_FATAL(uri);
	CU_ASSERT_PTR_NOT_NULL_FATAL(nopin);
	/* The module path needs no encoding in the query part (a '/' is
	 * pk11-query-res-avail); check that premise before relying on it. */
	CU_ASSERT_EQUAL(strspn(SOFTHSM_MODULE, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/"),
			strlen(SOFTHSM_MODULE));
	snprintf(expect, sizeof expect, "pkcs11:token=%s?module-path=%s&pin-value=1234",
		 encoded, SOFTHSM_MODULE);
	CU_ASSERT_STRING_EQUAL(uri, expect);
	snprintf(expect, sizeof expect, "pkcs11:token=%s?module-path=%s",
		 encoded, SOFTHSM_MODULE);
	CU_ASSERT_STRING_EQUAL(nopin, expect);

	parsed = p11_kit_uri_new();
	CU_ASSERT_EQUAL_FATAL(p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, parsed),
			      P11_KIT_URI_OK);
	CU_ASSERT_TRUE(label_is(p11_kit_uri_get_token_info(parsed)->label, label));
	CU_ASSERT_STRING_EQUAL(p11_kit_uri_get_module_path(parsed), SOFTHSM_MODULE);
	CU_ASSERT_STRING_EQUAL(p11_kit_uri_get_pin_value(parsed), FIXTURE_PIN);
	CU_ASSERT_EQUAL_FATAL(p11_kit_uri_parse(nopin, P11_KIT_URI_FOR_ANY, parsed),
			      P11_KIT_URI_OK);
	CU_ASSERT_PTR_NULL(p11_kit_uri_get_pin_value(parsed));
	p11_kit_uri_free(parsed);
	free(nopin);
	free(uri);
}

static void test_uri_shim(void)
{
	const char *path = fixture_shim_path();
	char *uri = fixture_token_uri_shim("t", false);
	char expect[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(uri);
	CU_ASSERT_EQUAL(path[0], '/');
	CU_ASSERT_EQUAL(access(path, R_OK), 0);
	snprintf(expect, sizeof expect, "pkcs11:token=t?module-path=%s", path);
	CU_ASSERT_STRING_EQUAL(uri, expect);
	free(uri);
}

/* ---- pkcs11-tool through the fixture ---- */

static char *tool_label;

static int tool_suite_init(void)
{
	if (!*PKCS11_TOOL) {
		cutest_skip("pkcs11-tool (OpenSC) is not installed");
		return 0;
	}
	tool_label = fixture_label_new("tool");
	return tool_label && fixture_token_new(tool_label) == 0 ? 0 : -1;
}

static int tool_suite_cleanup(void)
{
	free(tool_label);
	return 0;
}

static void test_tool_keypair(void)
{
	char *out;

	CU_ASSERT_EQUAL(fixture_pkcs11_tool(tool_label, true, NULL,
			"--keypairgen --key-type rsa:1024 --label %s --id 01",
			"fxkey"), 0);

	CU_ASSERT_EQUAL(fixture_pkcs11_tool(tool_label, true, &out,
					    "--list-objects"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Private Key Object; RSA"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Public Key Object; RSA 1024 bits"));
	CU_ASSERT_TRUE(report_has(out, "label:", "fxkey"));
	CU_ASSERT_TRUE(report_has(out, "ID:", "01"));
	free(out);

	/* Without login the private key (CKA_PRIVATE) stays hidden: the login
	 * above was real. */
	CU_ASSERT_EQUAL(fixture_pkcs11_tool(tool_label, false, &out,
					    "--list-objects"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NULL(strstr(out, "Private Key Object"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Public Key Object"));
	free(out);
}

static void test_tool_errors(void)
{
	char *out = NULL;

	CU_ASSERT_NOT_EQUAL(fixture_pkcs11_tool("no-such-token", false, &out,
						"--list-objects"), 0);
	free(out);
	CU_ASSERT_NOT_EQUAL(fixture_pkcs11_tool(tool_label, false, NULL,
						"--login --pin 0000 --list-objects"), 0);
}

/* ---- The shim, driven directly ---- */

static const struct p11shim_ops *shim;
static CK_FUNCTION_LIST *shim_module;
static CK_SLOT_ID shim_slot;
static CK_SESSION_HANDLE session;

static int shim_suite_init(void)
{
	char *label = fixture_label_new("shim");
	bool ok;

	/* Before SoftHSM is initialized: it reads its tokens then only. */
	ok = label && fixture_token_new(label) == 0;
	shim = fixture_shim();
	shim_module = module_open(fixture_shim_path());
	ok = ok && shim && shim_module &&
	     module_initialize(shim_module) == CKR_OK &&
	     slot_find(shim_module, label, &shim_slot);
	free(label);
	return ok ? 0 : -1;
}

static int shim_suite_cleanup(void)
{
	return shim_module && shim_module->C_Finalize(NULL) == CKR_OK ? 0 : -1;
}

static void shim_setup(void)
{
	shim->reset();
	session = CK_INVALID_HANDLE;
	shim_module->C_OpenSession(shim_slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				   NULL, NULL, &session);
	shim->reset();
}

static void shim_teardown(void)
{
	shim->reset();
	/* Closing the last session also ends the login. */
	shim_module->C_CloseSession(session);
}

static CK_STATE session_state(void)
{
	CK_SESSION_INFO info;

	if (shim_module->C_GetSessionInfo(session, &info) != CKR_OK)
		return (CK_STATE)-1;
	return info.state;
}

static CK_RV login(const char *pin)
{
	return shim_module->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin,
				    pin ? strlen(pin) : 0);
}

/* The tests' own dlopen of the shim and fixture_shim() reach one instance. */
static void test_shim_same_instance(void)
{
	void *module = dlopen(fixture_shim_path(), RTLD_NOW | RTLD_NOLOAD);
	void *total, *ops_total;

	CU_ASSERT_PTR_NOT_NULL_FATAL(module);
	total = dlsym(module, "p11shim_total");
	memcpy(&ops_total, &shim->total, sizeof ops_total);
	CU_ASSERT_PTR_NOT_NULL(total);
	CU_ASSERT_PTR_EQUAL(total, ops_total);
	dlclose(module);
}

static void test_shim_counts(void)
{
	CU_ASSERT_NOT_EQUAL_FATAL(session, CK_INVALID_HANDLE);
	CU_ASSERT_EQUAL(shim->total(), 0);
	CU_ASSERT_EQUAL(login(FIXTURE_PIN), CKR_OK);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 1);
	CU_ASSERT_EQUAL(shim->total(), 1);
	CU_ASSERT_EQUAL(session_state(), CKS_RW_USER_FUNCTIONS);
	CU_ASSERT_EQUAL(shim->count("C_GetSessionInfo"), 1);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 1);
	CU_ASSERT_EQUAL(shim->total(), 2);
	CU_ASSERT_EQUAL(shim->count("C_Logout"), 0);
	/* A misspelt name cannot pass for "never called". */
	CU_ASSERT_EQUAL(shim->count("C_Loggin"), P11SHIM_UNKNOWN);
	shim->reset();
	CU_ASSERT_EQUAL(shim->count("C_Login"), 0);
	CU_ASSERT_EQUAL(shim->total(), 0);
}

/* SoftHSM's own refusals come through unchanged: a wrong PIN, and a session
 * without CKF_SERIAL_SESSION, which PKCS#11 v2.40 (C_OpenSession) answers
 * with CKR_SESSION_PARALLEL_NOT_SUPPORTED. */
static void test_shim_forwards_errors(void)
{
	CU_ASSERT_EQUAL(login("0000"), CKR_PIN_INCORRECT);
	CU_ASSERT_EQUAL(session_state(), CKS_RW_PUBLIC_SESSION);
	CU_ASSERT_EQUAL(shim_module->C_OpenSession(shim_slot, 0, NULL, NULL,
			&(CK_SESSION_HANDLE){ 0 }), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
}

static void test_shim_fault_not_forwarded(void)
{
	shim->fail("C_Login", 1, CKR_PIN_INCORRECT);
	CU_ASSERT_EQUAL(login(FIXTURE_PIN), CKR_PIN_INCORRECT);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 1);
	/* SoftHSM never saw the correct PIN. */
	CU_ASSERT_EQUAL(session_state(), CKS_RW_PUBLIC_SESSION);
	/* One-shot: the next call goes through. */
	CU_ASSERT_EQUAL(login(FIXTURE_PIN), CKR_OK);
	CU_ASSERT_EQUAL(session_state(), CKS_RW_USER_FUNCTIONS);
	CU_ASSERT_EQUAL(shim->count("C_Login"), 2);
}

static void test_shim_fault_nth(void)
{
	shim->fail("C_GetSessionInfo", 2, CKR_DEVICE_ERROR);
	CU_ASSERT_EQUAL(session_state(), CKS_RW_PUBLIC_SESSION);
	CU_ASSERT_EQUAL(session_state(), (CK_STATE)-1);
	CU_ASSERT_EQUAL(session_state(), CKS_RW_PUBLIC_SESSION);
	CU_ASSERT_EQUAL(shim->count("C_GetSessionInfo"), 3);
}

static void test_shim_fault_every(void)
{
	CK_SESSION_INFO info;

	shim->fail("C_GetSessionInfo", 0, CKR_DEVICE_REMOVED);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(shim_module->C_GetSessionInfo(session, &info),
				CKR_DEVICE_REMOVED);
	shim->reset();
	CU_ASSERT_EQUAL(shim_module->C_GetSessionInfo(session, &info), CKR_OK);
}

static void test_shim_fault_any(void)
{
	CK_ULONG n;

	shim->fail(NULL, 2, CKR_GENERAL_ERROR);
	CU_ASSERT_EQUAL(shim_module->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	CU_ASSERT_EQUAL(session_state(), (CK_STATE)-1);
	CU_ASSERT_EQUAL(shim_module->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	CU_ASSERT_EQUAL(shim->total(), 3);
}

/* Two faults on one call: the first set wins, both are used up. */
static void test_shim_fault_order(void)
{
	shim->fail("C_GetSessionInfo", 1, CKR_DEVICE_MEMORY);
	shim->fail(NULL, 1, CKR_GENERAL_ERROR);
	CU_ASSERT_EQUAL(shim_module->C_GetSessionInfo(session, &(CK_SESSION_INFO){ 0 }),
			CKR_DEVICE_MEMORY);
	CU_ASSERT_EQUAL(session_state(), CKS_RW_PUBLIC_SESSION);
}

static CK_OBJECT_HANDLE data_object_new(void)
{
	static const char value[] = "hello";
	CK_OBJECT_CLASS klass = CKO_DATA;
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE templ[] = {
		{ CKA_CLASS, &klass, sizeof klass },
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_PRIVATE, &no, sizeof no },
		{ CKA_VALUE, (void *)value, 5 },
	};
	CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;

	shim_module->C_CreateObject(session, templ, 4, &object);
	return object;
}

static void test_shim_tamper_unavailable(void)
{
	CK_OBJECT_HANDLE object = data_object_new();
	char buf[16];
	CK_ATTRIBUTE attr = { CKA_VALUE, buf, sizeof buf };

	CU_ASSERT_NOT_EQUAL_FATAL(object, CK_INVALID_HANDLE);
	shim->tamper_length(1, P11SHIM_LEN_UNAVAILABLE);
	CU_ASSERT_EQUAL(shim_module->C_GetAttributeValue(session, object, &attr, 1),
			CKR_OK);
	CU_ASSERT_EQUAL(attr.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	/* Only the first call was touched. */
	attr.ulValueLen = sizeof buf;
	CU_ASSERT_EQUAL(shim_module->C_GetAttributeValue(session, object, &attr, 1),
			CKR_OK);
	CU_ASSERT_EQUAL(attr.ulValueLen, 5);
	CU_ASSERT_EQUAL(memcmp(buf, "hello", 5), 0);
}

static void test_shim_tamper_too_large(void)
{
	CK_OBJECT_HANDLE object = data_object_new();
	char buf[5];
	CK_ATTRIBUTE attr = { CKA_VALUE, NULL, 0 };

	CU_ASSERT_NOT_EQUAL_FATAL(object, CK_INVALID_HANDLE);
	shim->tamper_length(2, P11SHIM_LEN_TOO_LARGE);
	CU_ASSERT_EQUAL(shim_module->C_GetAttributeValue(session, object, &attr, 1),
			CKR_OK);
	CU_ASSERT_EQUAL(attr.ulValueLen, 5);
	attr.pValue = buf;
	CU_ASSERT_EQUAL(shim_module->C_GetAttributeValue(session, object, &attr, 1),
			CKR_OK);
	CU_ASSERT_EQUAL(attr.ulValueLen, sizeof buf + 1);
	CU_ASSERT_EQUAL(memcmp(buf, "hello", 5), 0);
	attr.ulValueLen = sizeof buf;
	CU_ASSERT_EQUAL(shim_module->C_GetAttributeValue(session, object, &attr, 1),
			CKR_OK);
	CU_ASSERT_EQUAL(attr.ulValueLen, 5);
}

static void test_shim_pinpad(void)
{
	CK_TOKEN_INFO info;

	/* SoftHSM itself has no pinpad and wants a PIN. */
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetTokenInfo(shim_slot, &info), CKR_OK);
	CU_ASSERT_FALSE(info.flags & CKF_PROTECTED_AUTHENTICATION_PATH);
	CU_ASSERT_NOT_EQUAL(login(NULL), CKR_OK);
	CU_ASSERT_EQUAL(session_state(), CKS_RW_PUBLIC_SESSION);

	shim->set_pinpad(FIXTURE_PIN);
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetTokenInfo(shim_slot, &info), CKR_OK);
	CU_ASSERT_TRUE(info.flags & CKF_PROTECTED_AUTHENTICATION_PATH);
	CU_ASSERT_EQUAL(login(NULL), CKR_OK);
	CU_ASSERT_EQUAL(session_state(), CKS_RW_USER_FUNCTIONS);
	CU_ASSERT_EQUAL(shim_module->C_Logout(session), CKR_OK);

	/* The "typed" PIN is what SoftHSM checks; a PIN from the host is
	 * passed on as is. */
	shim->set_pinpad("0000");
	CU_ASSERT_EQUAL(login(NULL), CKR_PIN_INCORRECT);
	CU_ASSERT_EQUAL(login(FIXTURE_PIN), CKR_OK);
	CU_ASSERT_EQUAL(shim_module->C_Logout(session), CKR_OK);

	shim->set_pinpad(NULL);
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetTokenInfo(shim_slot, &info), CKR_OK);
	CU_ASSERT_FALSE(info.flags & CKF_PROTECTED_AUTHENTICATION_PATH);
}

static bool slot_listed(CK_BBOOL token_present)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;

	if (shim_module->C_GetSlotList(token_present, slots, &n) != CKR_OK)
		return false;
	for (CK_ULONG i = 0; i < n; i++) {
		if (slots[i] == shim_slot)
			return true;
	}
	return false;
}

static void test_shim_token_absent(void)
{
	CK_SLOT_INFO slot_info;
	CK_TOKEN_INFO token_info;
	CK_SESSION_HANDLE other;
	CK_ULONG n = 99;

	CU_ASSERT_TRUE(slot_listed(CK_TRUE));
	shim->set_token_absent(true);
	CU_ASSERT_EQUAL(shim_module->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_FALSE(slot_listed(CK_TRUE));
	CU_ASSERT_TRUE(slot_listed(CK_FALSE));
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetSlotInfo(shim_slot, &slot_info), CKR_OK);
	CU_ASSERT_FALSE(slot_info.flags & CKF_TOKEN_PRESENT);
	CU_ASSERT_EQUAL(shim_module->C_GetTokenInfo(shim_slot, &token_info),
			CKR_TOKEN_NOT_PRESENT);
	CU_ASSERT_EQUAL(shim_module->C_OpenSession(shim_slot, CKF_SERIAL_SESSION,
						   NULL, NULL, &other),
			CKR_TOKEN_NOT_PRESENT);

	shim->set_token_absent(false);
	CU_ASSERT_TRUE(slot_listed(CK_TRUE));
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetSlotInfo(shim_slot, &slot_info), CKR_OK);
	CU_ASSERT_TRUE(slot_info.flags & CKF_TOKEN_PRESENT);
	CU_ASSERT_EQUAL(shim_module->C_GetTokenInfo(shim_slot, &token_info), CKR_OK);
}

static void test_shim_removable(void)
{
	CK_SLOT_INFO info;

	/* The fixture configures SoftHSM with non-removable slots. */
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetSlotInfo(shim_slot, &info), CKR_OK);
	CU_ASSERT_FALSE(info.flags & CKF_REMOVABLE_DEVICE);
	shim->set_removable(true);
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetSlotInfo(shim_slot, &info), CKR_OK);
	CU_ASSERT_TRUE(info.flags & CKF_REMOVABLE_DEVICE);
	shim->reset();
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetSlotInfo(shim_slot, &info), CKR_OK);
	CU_ASSERT_FALSE(info.flags & CKF_REMOVABLE_DEVICE);
}

#define THREADS 4
#define CALLS_PER_THREAD 500

static void *thread_call_loop(void *arg)
{
	unsigned long *failed = arg;
	CK_ULONG n;

	for (int i = 0; i < CALLS_PER_THREAD; i++) {
		if (shim_module->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK)
			(*failed)++;
	}
	return NULL;
}

/* Counters and one-shot faults stay exact under concurrent calls. */
static void test_shim_threads(void)
{
	pthread_t threads[THREADS];
	unsigned long failed[THREADS] = { 0 }, failed_total = 0;

	shim->fail("C_GetSlotList", 777, CKR_DEVICE_ERROR);
	for (int i = 0; i < THREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&threads[i], NULL,
				      thread_call_loop, &failed[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
		failed_total += failed[i];
	}
	CU_ASSERT_EQUAL(shim->count("C_GetSlotList"), THREADS * CALLS_PER_THREAD);
	CU_ASSERT_EQUAL(shim->total(), THREADS * CALLS_PER_THREAD);
	CU_ASSERT_EQUAL(failed_total, 1);
}

/* ---- The shim beside a direct user of SoftHSM ---- */

/* capi11 may hold SoftHSM directly and through the shim at once: the shim
 * joins the initialized module and leaves it initialized when finalized. */
static void test_shim_shared_target(void)
{
	CK_FUNCTION_LIST *softhsm = module_open(SOFTHSM_MODULE);
	CK_FUNCTION_LIST *module = module_open(fixture_shim_path());
	CK_ULONG n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(softhsm);
	CU_ASSERT_PTR_NOT_NULL_FATAL(module);
	CU_ASSERT_EQUAL_FATAL(module_initialize(softhsm), CKR_OK);
	/* SoftHSM's own answer to a second initialization. */
	CU_ASSERT_EQUAL(module_initialize(softhsm), CKR_CRYPTOKI_ALREADY_INITIALIZED);

	CU_ASSERT_EQUAL(module_initialize(module), CKR_OK);
	CU_ASSERT_EQUAL(module_initialize(module), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	CU_ASSERT_EQUAL(module->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	CU_ASSERT_EQUAL(module->C_Finalize(NULL), CKR_OK);
	CU_ASSERT_EQUAL(module->C_GetSlotList(CK_TRUE, NULL, &n),
			CKR_CRYPTOKI_NOT_INITIALIZED);
	CU_ASSERT_EQUAL(softhsm->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	CU_ASSERT_EQUAL(softhsm->C_Finalize(NULL), CKR_OK);
	CU_ASSERT_EQUAL(softhsm->C_GetSlotList(CK_TRUE, NULL, &n),
			CKR_CRYPTOKI_NOT_INITIALIZED);
}

/* ---- The shim loaded by p11-kit, as capi11 loads it ---- */

static char *kit_label;

static int kit_suite_init(void)
{
	/* SoftHSM was finalized by the suites before, so this token made now
	 * must show up at the next C_Initialize. */
	kit_label = fixture_label_new("kit");
	return kit_label && fixture_token_new(kit_label) == 0 &&
	       fixture_shim() ? 0 : -1;
}

static int kit_suite_cleanup(void)
{
	free(kit_label);
	return 0;
}

static void test_p11kit_loads_shim(void)
{
	char *uri_text = fixture_token_uri_shim(kit_label, true);
	char *other_text = fixture_token_uri_shim("no-such-token", true);
	P11KitUri *uri = p11_kit_uri_new(), *other = p11_kit_uri_new();
	CK_FUNCTION_LIST *module;
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	CK_TOKEN_INFO info;
	const struct p11shim_ops *ops = fixture_shim();
	int matches = 0, other_matches = 0;

	ops->reset();
	CU_ASSERT_EQUAL_FATAL(p11_kit_uri_parse(uri_text, P11_KIT_URI_FOR_ANY, uri),
			      P11_KIT_URI_OK);
	CU_ASSERT_EQUAL_FATAL(p11_kit_uri_parse(other_text, P11_KIT_URI_FOR_ANY, other),
			      P11_KIT_URI_OK);
	module = p11_kit_module_load(p11_kit_uri_get_module_path(uri), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(module);
	CU_ASSERT_EQUAL(p11_kit_module_initialize(module), CKR_OK);
	CU_ASSERT_EQUAL(ops->count("C_Initialize"), 1);

	CU_ASSERT_EQUAL(module->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n; i++) {
		if (module->C_GetTokenInfo(slots[i], &info) != CKR_OK)
			continue;
		matches += p11_kit_uri_match_token_info(uri, &info);
		other_matches += p11_kit_uri_match_token_info(other, &info);
	}
	CU_ASSERT_EQUAL(matches, 1);
	CU_ASSERT_EQUAL(other_matches, 0);
	/* Every call p11-kit made went through the shim. */
	CU_ASSERT_EQUAL(ops->count("C_GetTokenInfo"), n);

	CU_ASSERT_EQUAL(p11_kit_module_finalize(module), CKR_OK);
	CU_ASSERT_EQUAL(ops->count("C_Finalize"), 1);
	p11_kit_module_release(module);
	p11_kit_uri_free(other);
	p11_kit_uri_free(uri);
	free(other_text);
	free(uri_text);
}


/* ---- Card profiles ---- */

static void (*set_profile)(unsigned flags);
static unsigned long (*profile_hits)(void);

/* Resolves the profile controls; fatal when the shim lacks them. */
static void profile_controls(void)
{
	void *module = dlopen(fixture_shim_path(), RTLD_NOW | RTLD_NOLOAD);

	CU_ASSERT_PTR_NOT_NULL_FATAL(module);
	*(void **)&set_profile = dlsym(module, "p11shim_set_profile");
	*(void **)&profile_hits = dlsym(module, "p11shim_profile_hits");
	dlclose(module);
	CU_ASSERT_PTR_NOT_NULL_FATAL(set_profile);
	CU_ASSERT_PTR_NOT_NULL_FATAL(profile_hits);
}

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

/* A session CKO_DATA object, public or private. */
static CK_RV data_create(CK_BBOOL private, CK_OBJECT_HANDLE *obj)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_PRIVATE, &private, sizeof private },
		{ CKA_VALUE, "x", 1 },
	};

	return shim_module->C_CreateObject(session, t, 4, obj);
}

/* A session RSA pair whose private half never decrypts, extractable or
 * not; the public key encrypts and the private key signs when usable. */
static CK_RV pair_generate(CK_BBOOL extractable, CK_BBOOL usable, CK_OBJECT_HANDLE *pub,
			   CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = 1024;
	CK_BYTE e[] = { 1, 0, 1 };
	CK_ATTRIBUTE pt[] = {
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_MODULUS_BITS, &bits, sizeof bits },
		{ CKA_PUBLIC_EXPONENT, e, sizeof e },
		{ CKA_ENCRYPT, &usable, sizeof usable },
		{ CKA_VERIFY, &yes, sizeof yes },
	};
	CK_ATTRIBUTE st[] = {
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_PRIVATE, &yes, sizeof yes },
		{ CKA_SENSITIVE, &no, sizeof no },
		{ CKA_EXTRACTABLE, &extractable, sizeof extractable },
		{ CKA_DECRYPT, &no, sizeof no },
		{ CKA_SIGN, &usable, sizeof usable },
	};

	return shim_module->C_GenerateKeyPair(session, &mech, pt, 5, st, 6, pub, priv);
}

/* A non-extractable session pair whose templates name no usage. */
static CK_RV pair_generate_plain(CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = 1024;
	CK_BYTE e[] = { 1, 0, 1 };
	CK_ATTRIBUTE pt[] = {
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_MODULUS_BITS, &bits, sizeof bits },
		{ CKA_PUBLIC_EXPONENT, e, sizeof e },
	};
	CK_ATTRIBUTE st[] = {
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_PRIVATE, &yes, sizeof yes },
		{ CKA_EXTRACTABLE, &no, sizeof no },
	};

	return shim_module->C_GenerateKeyPair(session, &mech, pt, 3, st, 3, pub, priv);
}

static CK_BBOOL bool_attr(CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = 0xff;
	CK_ATTRIBUTE a = { type, &v, sizeof v };

	if (shim_module->C_GetAttributeValue(session, obj, &a, 1) != CKR_OK)
		return 0xff;
	return v;
}

static bool mech_listed(CK_MECHANISM_TYPE mech)
{
	CK_MECHANISM_TYPE list[512];
	CK_ULONG n = 512;

	if (shim_module->C_GetMechanismList(shim_slot, list, &n) != CKR_OK)
		return false;
	for (CK_ULONG i = 0; i < n; i++) {
		if (list[i] == mech)
			return true;
	}
	return false;
}

static bool padded_is(const CK_UTF8CHAR *field, size_t n, const char *want)
{
	size_t len = strlen(want);

	if (len > n || memcmp(field, want, len) != 0)
		return false;
	for (size_t i = len; i < n; i++) {
		if (field[i] != ' ')
			return false;
	}
	return true;
}

/* tpm2-pkcs11: public data objects, extractable private keys, wrapping
 * and secret keys are refused; a private key always decrypts and signs. */
static void test_shim_profile_tpm(void)
{
	CK_MECHANISM aes = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_MECHANISM wrap = { CKM_RSA_PKCS, NULL, 0 };
	CK_MECHANISM_INFO mi;
	CK_OBJECT_HANDLE obj, pub, priv;
	CK_BYTE out[512];
	CK_ULONG out_len = sizeof out;
	CK_TOKEN_INFO ti;
	CK_INFO info;

	profile_controls();
	CU_ASSERT_EQUAL_FATAL(login(FIXTURE_PIN), CKR_OK);
	/* The untouched token first, so that every refusal below is the
	 * profile's. */
	CU_ASSERT_EQUAL(data_create(CK_FALSE, &obj), CKR_OK);
	CU_ASSERT_EQUAL(pair_generate(CK_TRUE, CK_FALSE, &pub, &priv), CKR_OK);
	CU_ASSERT_EQUAL(bool_attr(priv, CKA_DECRYPT), CK_FALSE);
	CU_ASSERT_TRUE(mech_listed(CKM_AES_CBC));

	set_profile(P11SHIM_PROFILE_TPM);
	CU_ASSERT_EQUAL(shim_module->C_GetInfo(&info), CKR_OK);
	CU_ASSERT_TRUE(padded_is(info.manufacturerID, sizeof info.manufacturerID,
				 "tpm2-software.github.io"));
	CU_ASSERT_TRUE(padded_is(info.libraryDescription, sizeof info.libraryDescription,
				 "TPM2.0 Cryptoki"));
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetTokenInfo(shim_slot, &ti), CKR_OK);
	CU_ASSERT_TRUE(padded_is(ti.manufacturerID, sizeof ti.manufacturerID, "IBM"));
	CU_ASSERT_EQUAL(data_create(CK_FALSE, &obj), CKR_ATTRIBUTE_VALUE_INVALID);
	CU_ASSERT_EQUAL(data_create(CK_TRUE, &obj), CKR_OK);
	CU_ASSERT_EQUAL(pair_generate(CK_TRUE, CK_FALSE, &pub, &priv), CKR_ATTRIBUTE_VALUE_INVALID);
	/* A template that denies a usage the TPM couples. */
	CU_ASSERT_EQUAL(pair_generate(CK_FALSE, CK_FALSE, &pub, &priv), CKR_GENERAL_ERROR);
	CU_ASSERT_EQUAL_FATAL(pair_generate_plain(&pub, &priv), CKR_OK);
	/* Asked for neither: the token made it do both. */
	CU_ASSERT_EQUAL(bool_attr(priv, CKA_DECRYPT), CK_TRUE);
	CU_ASSERT_EQUAL(bool_attr(priv, CKA_SIGN), CK_TRUE);
	CU_ASSERT_EQUAL(shim_module->C_GenerateKey(session, &aes, NULL, 0, &obj),
			CKR_FUNCTION_NOT_SUPPORTED);
	CU_ASSERT_FALSE(mech_listed(CKM_AES_CBC));
	CU_ASSERT_FALSE(mech_listed(CKM_DES3_CBC));
	CU_ASSERT_TRUE(mech_listed(CKM_RSA_PKCS));
	CU_ASSERT_EQUAL(shim_module->C_GetMechanismInfo(shim_slot, CKM_AES_KEY_WRAP, &mi),
			CKR_MECHANISM_INVALID);
	CU_ASSERT_EQUAL(shim_module->C_WrapKey(session, &wrap, pub, priv, out, &out_len),
			CKR_FUNCTION_NOT_SUPPORTED);
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetMechanismInfo(shim_slot, CKM_RSA_PKCS, &mi), CKR_OK);
	CU_ASSERT_FALSE(mi.flags & (CKF_WRAP | CKF_UNWRAP));
	CU_ASSERT_TRUE(mi.flags & CKF_ENCRYPT);
	CU_ASSERT_TRUE(profile_hits() > 0);
}

/* A PIV card through OpenSC: no objects can be made, no key pairs, no
 * public-key operations, no random numbers. */
static void test_shim_profile_piv(void)
{
	CK_OBJECT_CLASS pub_class = CKO_PUBLIC_KEY;
	CK_KEY_TYPE rsa = CKK_RSA;
	CK_BYTE n[128] = { 0xc1 }, e[] = { 1, 0, 1 }, buf[128];
	CK_ATTRIBUTE pt[] = {
		{ CKA_CLASS, &pub_class, sizeof pub_class },
		{ CKA_KEY_TYPE, &rsa, sizeof rsa },
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_MODULUS, n, sizeof n },
		{ CKA_PUBLIC_EXPONENT, e, sizeof e },
	};
	CK_MECHANISM pkcs = { CKM_RSA_PKCS, NULL, 0 };
	CK_OBJECT_HANDLE obj, pub, priv;
	CK_MECHANISM_INFO mi;
	CK_TOKEN_INFO ti;

	profile_controls();
	n[127] = 1;
	CU_ASSERT_EQUAL_FATAL(login(FIXTURE_PIN), CKR_OK);
	CU_ASSERT_EQUAL_FATAL(pair_generate(CK_FALSE, CK_TRUE, &pub, &priv), CKR_OK);
	CU_ASSERT_EQUAL(shim_module->C_GenerateRandom(session, buf, 8), CKR_OK);
	CU_ASSERT_EQUAL(shim_module->C_EncryptInit(session, &pkcs, pub), CKR_OK);
	CU_ASSERT_EQUAL(shim_module->C_Encrypt(session, buf, 8, buf, &(CK_ULONG){ sizeof buf }),
			CKR_OK);

	set_profile(P11SHIM_PROFILE_PIV);
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetTokenInfo(shim_slot, &ti), CKR_OK);
	CU_ASSERT_TRUE(padded_is(ti.manufacturerID, sizeof ti.manufacturerID, "piv_II"));
	CU_ASSERT_FALSE(ti.flags & CKF_RNG);
	CU_ASSERT_EQUAL(data_create(CK_TRUE, &obj), CKR_FUNCTION_NOT_SUPPORTED);
	CU_ASSERT_EQUAL(shim_module->C_CreateObject(session, pt, 5, &obj), CKR_ARGUMENTS_BAD);
	CU_ASSERT_EQUAL(pair_generate(CK_FALSE, CK_TRUE, &pub, &priv), CKR_FUNCTION_NOT_SUPPORTED);
	CU_ASSERT_FALSE(mech_listed(CKM_RSA_PKCS_KEY_PAIR_GEN));
	CU_ASSERT_EQUAL(shim_module->C_GenerateRandom(session, buf, 8), CKR_RANDOM_NO_RNG);
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetMechanismInfo(shim_slot, CKM_RSA_PKCS, &mi), CKR_OK);
	CU_ASSERT_FALSE(mi.flags & (CKF_ENCRYPT | CKF_VERIFY | CKF_WRAP));
	CU_ASSERT_TRUE(mi.flags & CKF_DECRYPT);
	CU_ASSERT_TRUE(mi.flags & CKF_SIGN);
	CU_ASSERT_EQUAL(shim_module->C_EncryptInit(session, &pkcs, pub), CKR_MECHANISM_INVALID);
	CU_ASSERT_EQUAL(shim_module->C_VerifyInit(session, &pkcs, pub), CKR_MECHANISM_INVALID);
	/* Private-key operations go on. */
	CU_ASSERT_EQUAL(shim_module->C_SignInit(session, &pkcs, priv), CKR_OK);
	CU_ASSERT_EQUAL(shim_module->C_Sign(session, buf, 8, buf, &(CK_ULONG){ sizeof buf }),
			CKR_OK);

	/* Without the other bits, data objects alone are refused. */
	set_profile(P11SHIM_CARD_NO_DATA);
	CU_ASSERT_EQUAL(data_create(CK_TRUE, &obj), CKR_TEMPLATE_INCONSISTENT);
	CU_ASSERT_EQUAL(shim_module->C_CreateObject(session, pt, 5, &obj), CKR_OK);
}

/* A write-protected card says so and refuses every change. */
static void test_shim_profile_readonly(void)
{
	CK_OBJECT_HANDLE obj, pub, priv;
	CK_ATTRIBUTE label = { CKA_LABEL, "x", 1 };
	CK_TOKEN_INFO ti;

	profile_controls();
	CU_ASSERT_EQUAL_FATAL(login(FIXTURE_PIN), CKR_OK);
	CU_ASSERT_EQUAL_FATAL(data_create(CK_TRUE, &obj), CKR_OK);
	set_profile(P11SHIM_PROFILE_READONLY_CARD);
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetTokenInfo(shim_slot, &ti), CKR_OK);
	CU_ASSERT_TRUE(ti.flags & CKF_WRITE_PROTECTED);
	CU_ASSERT_EQUAL(data_create(CK_TRUE, &obj), CKR_TOKEN_WRITE_PROTECTED);
	CU_ASSERT_EQUAL(pair_generate(CK_FALSE, CK_FALSE, &pub, &priv), CKR_TOKEN_WRITE_PROTECTED);
	CU_ASSERT_EQUAL(shim_module->C_SetAttributeValue(session, obj, &label, 1),
			CKR_TOKEN_WRITE_PROTECTED);
	CU_ASSERT_EQUAL(shim_module->C_DestroyObject(session, obj), CKR_TOKEN_WRITE_PROTECTED);
	/* Profile 0 (and a reset) is the plain token again. */
	set_profile(0);
	CU_ASSERT_EQUAL_FATAL(shim_module->C_GetTokenInfo(shim_slot, &ti), CKR_OK);
	CU_ASSERT_FALSE(ti.flags & CKF_WRITE_PROTECTED);
	CU_ASSERT_EQUAL(shim_module->C_DestroyObject(session, obj), CKR_OK);
	set_profile(P11SHIM_CARD_READ_ONLY);
	shim->reset();
	CU_ASSERT_EQUAL(data_create(CK_TRUE, &obj), CKR_OK);
	CU_ASSERT_EQUAL(profile_hits(), 0);
}

static CU_TestInfo fixture_tests[] = {
	{ "directory and softhsm2.conf", test_dir_and_conf },
	{ "token_new seen by softhsm2-util", test_token_new },
	{ "label_new", test_label_new },
	{ "run and capture status", test_run_status },
	{ "quote survives the shell", test_quote },
	{ "write_file", test_write_file },
	{ "URI encoding read back by p11-kit", test_uri },
	{ "shim URI", test_uri_shim },
	CU_TEST_INFO_NULL
};

static CU_TestInfo tool_tests[] = {
	{ "login, keypairgen, list-objects", test_tool_keypair },
	{ "wrong token or PIN fails", test_tool_errors },
	CU_TEST_INFO_NULL
};

static CU_TestInfo shim_tests[] = {
	{ "one instance", test_shim_same_instance },
	{ "counts calls", test_shim_counts },
	{ "forwards errors", test_shim_forwards_errors },
	{ "fault is not forwarded", test_shim_fault_not_forwarded },
	{ "fault on the nth call", test_shim_fault_nth },
	{ "fault on every call", test_shim_fault_every },
	{ "fault on any function", test_shim_fault_any },
	{ "faults in order", test_shim_fault_order },
	{ "length unavailable", test_shim_tamper_unavailable },
	{ "length too large", test_shim_tamper_too_large },
	{ "pinpad", test_shim_pinpad },
	{ "token absent", test_shim_token_absent },
	{ "removable", test_shim_removable },
	{ "threads", test_shim_threads },
	{ "profile: TPM", test_shim_profile_tpm },
	{ "profile: PIV card", test_shim_profile_piv },
	{ "profile: read-only card", test_shim_profile_readonly },
	CU_TEST_INFO_NULL
};

static CU_TestInfo shared_tests[] = {
	{ "shared SoftHSM", test_shim_shared_target },
	CU_TEST_INFO_NULL
};

static CU_TestInfo kit_tests[] = {
	{ "p11-kit loads the shim", test_p11kit_loads_shim },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "fixture", NULL, NULL, NULL, NULL, fixture_tests },
	{ "pkcs11-tool", tool_suite_init, tool_suite_cleanup, NULL, NULL, tool_tests },
	{ "shim", shim_suite_init, shim_suite_cleanup, shim_setup, shim_teardown,
	  shim_tests },
	{ "shim shared", NULL, NULL, NULL, NULL, shared_tests },
	{ "shim under p11-kit", kit_suite_init, kit_suite_cleanup, NULL, NULL,
	  kit_tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	char dir[4096];
	int rc;

	if (!fixture_init()) {
		printf("SKIP: SoftHSM is not installed\n");
		return CUTEST_SKIP;
	}
	snprintf(dir, sizeof dir, "%s", fixture_dir());
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0 || rc == CUTEST_SKIP);
	/* Removal on success is part of the fixture's contract. */
	if ((rc == 0 || rc == CUTEST_SKIP) && access(dir, F_OK) == 0) {
		fprintf(stderr, "fixture directory %s was not removed\n", dir);
		rc = 1;
	}
	return rc;
}
