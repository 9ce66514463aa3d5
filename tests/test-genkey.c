/* CryptGenKey, CryptGetUserKey, CryptDuplicateKey, CryptDestroyKey and
 * CryptGetKeyParam through the public API, on throwaway SoftHSM tokens.
 *
 * What a call leaves on the token is read back in another process, which
 * asks SoftHSM directly (C_GetAttributeValue), never through capi11.
 * Expected codes and values come from Microsoft's CryptGenKey/CryptGetKeyParam
 * pages and from Wine's advapi32 and rsaenh, whose conformance tests run
 * against Windows; what the token can do comes from C_GetMechanismInfo. */
#include "config.h"
#include "cutest.h"
#include "fixture.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wincrypt.h>

/* Never a value a call would store: a failing call that forgets
 * SetLastError, or a DWORD parameter that is not written, shows up. */
#define SENTINEL 0xdeadbeefu

/* KP_PERMISSIONS of every key rsaenh makes: CRYPT_ENCRYPT | CRYPT_DECRYPT |
 * CRYPT_READ | CRYPT_WRITE | CRYPT_MAC; CRYPT_EXPORTABLE adds CRYPT_EXPORT. */
#define PERMS_BASE 0x3bu
#define PERMS_EXPORTABLE (PERMS_BASE | 0x4u)

/* ALG_IDs as KP_ALGID reports them for the two container key pairs. */
#define ALGID_RSA_KEYX 0xa400u
#define ALGID_RSA_SIGN 0x2400u

/* rsaenh's new_key() answers an RSA length that is not a multiple of 8 or
 * lies outside 384..16384 with NTE_BAD_DATA: only the DES family has
 * NTE_BAD_FLAGS (the same split SPEC section 3 gives for session keys).
 * Microsoft's page says ERROR_INVALID_PARAMETER for out-of-range sizes; no
 * Windows run is recorded for RSA, so Wine's CSP is followed. */
#define RSA_BAD_LENGTH_ERROR NTE_BAD_DATA

/* Modes in which this program, run again by itself, acts as the "other
 * process" of a test (argv[1]). */
#define HELPER_SIGN_PAIR "--helper-sign-pair"
#define HELPER_USER_KEY "--helper-user-key"
#define HELPER_OBJECTS "--helper-objects"
#define HELPER_MECHANISMS "--helper-mechanisms"

/* Exit codes of the user-key check, one per step, so that a failure in the
 * child names the step in the parent's assertion message. */
enum {
	CHECK_OK = 0,
	CHECK_ACQUIRE = 10,
	CHECK_USER_KEY = 11,
	CHECK_KEYLEN = 12,
	CHECK_KEYLEN_VALUE = 13,
	CHECK_ALGID = 14,
};

static char self_exe[4096];

/* ---- Last error and parameters ---- */

static void check_error(BOOL ok, DWORD want, unsigned line, const char *call)
{
	DWORD got = GetLastError();
	char msg[512];

	snprintf(msg, sizeof msg, "%s: want FALSE / 0x%08x, got %s / 0x%08x", call,
		 (unsigned)want, ok ? "TRUE" : "FALSE", (unsigned)got);
	CU_assertImplementation(!ok && got == want, line, msg, __FILE__, "", CU_FALSE);
}

static bool check_ok(BOOL ok, unsigned line, const char *call)
{
	DWORD got = GetLastError();
	char msg[512];

	snprintf(msg, sizeof msg, "%s failed, last error 0x%08x", call, (unsigned)got);
	CU_assertImplementation(ok != FALSE, line, msg, __FILE__, "", CU_FALSE);
	return ok != FALSE;
}

/* The call fails and sets exactly this last error. */
#define EXPECT_ERROR(call, want) \
	do { \
		SetLastError(SENTINEL); \
		check_error((call), (want), __LINE__, #call); \
	} while (0)

#define EXPECT_OK(call) check_ok((call), __LINE__, #call)

/* A DWORD parameter: TRUE, exactly 4 bytes, *pdwDataLen == 4. */
static bool key_dword(HCRYPTKEY key, DWORD param, DWORD *value)
{
	BYTE buf[8];
	DWORD len = sizeof buf;

	memset(buf, 0xa5, sizeof buf);
	*value = SENTINEL;
	if (!CryptGetKeyParam(key, param, buf, &len, 0) || len != sizeof(DWORD) ||
	    buf[4] != 0xa5)
		return false;
	memcpy(value, buf, sizeof *value);
	return true;
}

static void check_param(HCRYPTKEY key, DWORD param, DWORD want, unsigned line,
		const char *what)
{
	DWORD got = SENTINEL;
	bool read;
	char msg[512];

	SetLastError(SENTINEL);
	read = key_dword(key, param, &got);
	snprintf(msg, sizeof msg, "%s: want 0x%x, got %s0x%x (last error 0x%08x)",
		 what, (unsigned)want, read ? "" : "no DWORD, ", (unsigned)got,
		 (unsigned)GetLastError());
	CU_assertImplementation(read && got == want, line, msg, __FILE__, "", CU_FALSE);
}

#define EXPECT_PARAM(key, param, want) \
	check_param((key), (param), (want), __LINE__, #key " " #param)

/* ---- Tokens ---- */

/* One token per suite. SoftHSM 2.6.1 reads its token directory only at
 * C_Initialize, and capi11 keeps the module initialized for the life of the
 * process: every token must exist before the first suite touches capi11,
 * so main() makes them all and each suite's init checks its own. */
struct suite_token {
	const char *prefix;
	char *label;
	char *uri;
	char *uri_nopin;
};

static struct suite_token tok_gen = { "gen", NULL, NULL, NULL };
static struct suite_token tok_objs = { "objs", NULL, NULL, NULL };
static struct suite_token tok_user = { "user", NULL, NULL, NULL };
static struct suite_token tok_persist = { "persist", NULL, NULL, NULL };
static struct suite_token tok_session = { "session", NULL, NULL, NULL };
static struct suite_token tok_verify = { "verify", NULL, NULL, NULL };
static struct suite_token tok_handles = { "handles", NULL, NULL, NULL };

static struct suite_token *all_tokens[] = {
	&tok_gen, &tok_objs, &tok_user, &tok_persist, &tok_session, &tok_verify,
	&tok_handles,
};

static void suite_token_make(struct suite_token *t)
{
	t->label = fixture_label_new(t->prefix);
	if (t->label == NULL || fixture_token_new(t->label) != 0) {
		free(t->label);
		t->label = NULL;
		return;
	}
	t->uri = fixture_token_uri(t->label);
	t->uri_nopin = fixture_token_uri_nopin(t->label);
}

static void suite_token_free(struct suite_token *t)
{
	free(t->label);
	free(t->uri);
	free(t->uri_nopin);
}

static int suite_token_check(const struct suite_token *t)
{
	return t->label != NULL && t->uri != NULL && t->uri_nopin != NULL ? 0 : -1;
}

/* A new, empty container on the token; its malloc'd name in *name. */
static HCRYPTPROV container_new(const struct suite_token *t, DWORD type, char **name)
{
	HCRYPTPROV prov = 0;

	*name = fixture_label_new("c");
	if (*name == NULL)
		return 0;
	if (!EXPECT_OK(CryptAcquireContextA(&prov, *name, t->uri, type, CRYPT_NEWKEYSET)))
		return 0;
	return prov;
}

/* ---- The token seen from another process ---- */

/* What a call leaves on the token is read by this program run again in a
 * helper mode (HELPER_OBJECTS, HELPER_MECHANISMS), which loads SoftHSM
 * itself and prints what C_GetAttributeValue and C_GetMechanismInfo say in
 * a fixed form of its own: a fresh process sees only what the token
 * keeps, and no tool's text output, which changes between versions, is
 * parsed. */

#define TOOL_MAX 64

struct tool_obj {
	char kind;		/* 'v' private key, 'p' public key, 's' secret key, 'o' other */
	unsigned bits;		/* RSA modulus size, 0 for other objects */
	char label[80];
	char id[80];		/* CKA_ID in lowercase hex */
	char usage[200];	/* "encrypt, decrypt, sign, verify, wrap, unwrap", those TRUE */
	char access[200];	/* "sensitive, always sensitive, extractable,
				 * never extractable, local", those TRUE */
};

/* A session on the token with this label in a SoftHSM loaded by this
 * process, logged in when login is true; 0, or a helper exit code. */
static int helper_open(const char *token, bool login, CK_FUNCTION_LIST **f,
		       CK_SESSION_HANDLE *s)
{
	CK_C_INITIALIZE_ARGS init = { .flags = CKF_OS_LOCKING_OK };
	CK_C_GetFunctionList get_list;
	CK_SLOT_ID slots[64];
	CK_ULONG n_slots = 64;
	CK_TOKEN_INFO info;
	char padded[32];
	void *module, *sym;
	CK_RV rv;

	if (strlen(token) > sizeof padded)
		return 2;
	memset(padded, ' ', sizeof padded);
	memcpy(padded, token, strlen(token));
	module = dlopen(SOFTHSM_MODULE, RTLD_NOW | RTLD_LOCAL);
	sym = module ? dlsym(module, "C_GetFunctionList") : NULL;
	if (sym == NULL)
		return 3;
	memcpy(&get_list, &sym, sizeof get_list);
	if (get_list(f) != CKR_OK || (*f)->C_Initialize(&init) != CKR_OK)
		return 4;
	if ((*f)->C_GetSlotList(CK_TRUE, slots, &n_slots) != CKR_OK)
		return 5;
	for (CK_ULONG i = 0; i < n_slots; i++) {
		if ((*f)->C_GetTokenInfo(slots[i], &info) != CKR_OK ||
		    memcmp(info.label, padded, sizeof padded) != 0)
			continue;
		if ((*f)->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
					s) != CKR_OK)
			return 6;
		if (!login)
			return 0;
		rv = (*f)->C_Login(*s, CKU_USER, (CK_UTF8CHAR_PTR)FIXTURE_PIN, strlen(FIXTURE_PIN));
		return rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN ? 0 : 7;
	}
	return 9;
}

static void helper_close(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s)
{
	f->C_Logout(s);
	f->C_CloseSession(s);
	f->C_Finalize(NULL);
}

/* The words of the boolean attributes that are TRUE, comma-separated. */
static void helper_words(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			 const CK_ATTRIBUTE_TYPE *types, const char *const *words, size_t n,
			 char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		CK_BBOOL v = CK_FALSE;
		CK_ATTRIBUTE a = { types[i], &v, sizeof v };

		if (f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK || v != CK_TRUE)
			continue;
		used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "",
					 words[i]);
		if (used >= size)
			break;
	}
}

/* HELPER_OBJECTS <token>: every object the user sees, one line each:
 * kind, bits, id, usage, access and label, tab-separated. */
static int helper_objects(int argc, char **argv)
{
	static const CK_ATTRIBUTE_TYPE usage_types[] = {
		CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN, CKA_VERIFY, CKA_WRAP, CKA_UNWRAP,
	};
	static const char *const usage_words[] = {
		"encrypt", "decrypt", "sign", "verify", "wrap", "unwrap",
	};
	static const CK_ATTRIBUTE_TYPE access_types[] = {
		CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE, CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE, CKA_LOCAL,
	};
	static const char *const access_words[] = {
		"sensitive", "always sensitive", "extractable", "never extractable", "local",
	};
	CK_FUNCTION_LIST *f = NULL;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE objs[TOOL_MAX];
	CK_ULONG n = 0;
	int rc;

	if (argc != 3)
		return 2;
	rc = helper_open(argv[2], true, &f, &s);
	if (rc != 0)
		return rc;
	if (f->C_FindObjectsInit(s, NULL, 0) != CKR_OK ||
	    f->C_FindObjects(s, objs, TOOL_MAX, &n) != CKR_OK ||
	    f->C_FindObjectsFinal(s) != CKR_OK)
		return 10;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
		CK_BYTE label[80], id[39], modulus[2048];
		CK_ATTRIBUTE a[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_LABEL, label, sizeof label - 1 },
			{ CKA_ID, id, sizeof id },
			{ CKA_MODULUS, modulus, sizeof modulus },
		};
		char usage[200], access[200], id_hex[80];

		/* Attributes an object lacks come back as unavailable, the
		 * others are still filled in. */
		f->C_GetAttributeValue(s, objs[i], a, 4);
		for (size_t j = 1; j < 4; j++) {
			if (a[j].ulValueLen == CK_UNAVAILABLE_INFORMATION)
				a[j].ulValueLen = 0;
		}
		label[a[1].ulValueLen] = '\0';
		for (CK_ULONG j = 0; j < a[2].ulValueLen; j++)
			snprintf(id_hex + 2 * j, 3, "%02x", id[j]);
		id_hex[2 * a[2].ulValueLen] = '\0';
		helper_words(f, s, objs[i], usage_types, usage_words, 6, usage, sizeof usage);
		helper_words(f, s, objs[i], access_types, access_words, 5, access, sizeof access);
		printf("%c\t%lu\t%s\t%s\t%s\t%s\n",
		       cls == CKO_PRIVATE_KEY ? 'v' : cls == CKO_PUBLIC_KEY ? 'p' :
		       cls == CKO_SECRET_KEY ? 's' : 'o',
		       (unsigned long)a[3].ulValueLen * 8, id_hex, usage, access, (char *)label);
	}
	helper_close(f, s);
	return 0;
}

/* HELPER_MECHANISMS <token>: every mechanism, one line each: its number,
 * flags and key sizes as C_GetMechanismInfo gives them, in hex. */
static int helper_mechanisms(int argc, char **argv)
{
	CK_FUNCTION_LIST *f = NULL;
	CK_SESSION_HANDLE s;
	CK_MECHANISM_TYPE mechs[512];
	CK_ULONG n = 512;
	CK_SESSION_INFO si;
	int rc;

	if (argc != 3)
		return 2;
	rc = helper_open(argv[2], false, &f, &s);
	if (rc != 0)
		return rc;
	if (f->C_GetSessionInfo(s, &si) != CKR_OK ||
	    f->C_GetMechanismList(si.slotID, mechs, &n) != CKR_OK)
		return 10;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_MECHANISM_INFO info;

		if (f->C_GetMechanismInfo(si.slotID, mechs[i], &info) != CKR_OK)
			return 11;
		printf("%lx %lx %lx %lx\n", (unsigned long)mechs[i], (unsigned long)info.flags,
		       (unsigned long)info.ulMinKeySize, (unsigned long)info.ulMaxKeySize);
	}
	helper_close(f, s);
	return 0;
}

/* The helper's standard output for this token, NULL when it failed. */
static char *helper_output(const char *mode, const char *token)
{
	char *q = fixture_quote(token);
	char *out;
	int status = -1;

	out = fixture_capture(&status, "%s %s %s", self_exe, mode, q);
	free(q);
	if (status != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The next tab-separated field of line into dst; the rest after it. */
static const char *field_take(const char *line, const char *end, char *dst, size_t size)
{
	const char *tab = memchr(line, '\t', (size_t)(end - line));
	const char *stop = tab != NULL ? tab : end;
	size_t len = (size_t)(stop - line);

	if (len >= size)
		len = size - 1;
	memcpy(dst, line, len);
	dst[len] = '\0';
	return tab != NULL ? tab + 1 : end;
}

/* Every object the user sees on the token with this label, read in
 * another process; -1 when that failed. */
static int tool_objects(const char *token, struct tool_obj *objs, int max)
{
	char *out = helper_output(HELPER_OBJECTS, token);
	char bits[16];
	int n = 0;

	if (out == NULL)
		return -1;
	for (const char *line = out; *line && n < max;) {
		const char *end = strchr(line, '\n');
		struct tool_obj *cur = &objs[n++];

		if (end == NULL)
			end = line + strlen(line);
		memset(cur, 0, sizeof *cur);
		cur->kind = *line;
		line = field_take(line, end, bits, sizeof bits);
		line = field_take(line, end, bits, sizeof bits);
		cur->bits = (unsigned)strtoul(bits, NULL, 10);
		line = field_take(line, end, cur->id, sizeof cur->id);
		line = field_take(line, end, cur->usage, sizeof cur->usage);
		line = field_take(line, end, cur->access, sizeof cur->access);
		field_take(line, end, cur->label, sizeof cur->label);
		line = *end ? end + 1 : end;
	}
	free(out);
	return n;
}

/* Whether a comma-separated list ("decrypt, sign, unwrap") has this exact
 * word: "never extractable" is not "extractable". */
static bool word_listed(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');

		if (end == NULL)
			end = p + strlen(p);
		while (p < end && *p == ' ')
			p++;
		if ((size_t)(end - p) == len && strncmp(p, word, len) == 0)
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

/* The objects of one kind with this label (NULL: any label). */
static int tool_select(const struct tool_obj *objs, int n, char kind, const char *label,
		const struct tool_obj **found, int max)
{
	int count = 0;

	for (int i = 0; i < n; i++) {
		if (objs[i].kind != kind || (label != NULL && strcmp(objs[i].label, label) != 0))
			continue;
		if (count < max)
			found[count] = &objs[i];
		count++;
	}
	return count;
}

/* The token's mechanisms, as HELPER_MECHANISMS prints them. */
static char *tool_mechanisms(const char *token)
{
	return helper_output(HELPER_MECHANISMS, token);
}

/* Whether the list has this mechanism with CKF_GENERATE and, when bytes is
 * not 0, a key size range holding it. */
static bool mech_can_generate(const char *list, CK_MECHANISM_TYPE mech, unsigned bytes)
{
	for (const char *line = list; line && *line;) {
		unsigned long type, flags, lo, hi;

		if (sscanf(line, "%lx %lx %lx %lx", &type, &flags, &lo, &hi) == 4 && type == mech) {
			if (!(flags & CKF_GENERATE))
				return false;
			return bytes == 0 || (lo <= bytes && bytes <= hi);
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return false;
}

/* ---- Other processes ---- */

static int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

/* Runs this program again with these arguments; its exit code. */
static int self_run(const char *mode, ...)
{
	const char *argv[8] = { self_exe, mode };
	int argc = 2, status;
	va_list ap;
	pid_t pid;

	va_start(ap, mode);
	while (argc < 7 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv(self_exe, (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status_code(status);
}

/* Opens the container, gets its key of that spec and checks its size and
 * ALG_ID; the CHECK_* code of the first step that failed. */
static int user_key_check(const char *uri, const char *container, DWORD spec, DWORD bits)
{
	HCRYPTPROV prov = 0;
	HCRYPTKEY key = 0;
	DWORD value;
	int rc = CHECK_OK;

	if (!CryptAcquireContextA(&prov, container, uri, PROV_RSA_FULL, 0))
		return CHECK_ACQUIRE;
	if (!CryptGetUserKey(prov, spec, &key))
		rc = CHECK_USER_KEY;
	else if (!key_dword(key, KP_KEYLEN, &value))
		rc = CHECK_KEYLEN;
	else if (value != bits)
		rc = CHECK_KEYLEN_VALUE;
	else if (!key_dword(key, KP_ALGID, &value) ||
		 value != (spec == AT_KEYEXCHANGE ? ALGID_RSA_KEYX : ALGID_RSA_SIGN))
		rc = CHECK_ALGID;
	if (key != 0)
		CryptDestroyKey(key);
	CryptReleaseContext(prov, 0);
	return rc;
}

static int helper_user_key(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	return user_key_check(argv[2], argv[3], (DWORD)strtoul(argv[4], NULL, 10),
			      (DWORD)strtoul(argv[5], NULL, 10));
}

/* pkcs11-tool only ever sets usages to TRUE, and SoftHSM defaults all of
 * them to TRUE, so no installed tool makes a pair that cannot decrypt. This
 * mode makes one with plain PKCS#11 calls, outside capi11: CKA_DECRYPT,
 * CKA_UNWRAP, CKA_ENCRYPT and CKA_WRAP FALSE, as a card provisioned for
 * signing only has it. */
static int helper_sign_pair(int argc, char **argv)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bits = 512;
	CK_BYTE exponent[] = { 0x01, 0x00, 0x01 }, id[] = { 0x02 };
	CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_FUNCTION_LIST *f = NULL;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE pub, priv;
	const char *label;
	CK_RV rv;
	int rc;

	if (argc != 4)
		return 2;
	label = argv[3];
	CK_ATTRIBUTE pub_tmpl[] = {
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, id, sizeof id },
		{ CKA_MODULUS_BITS, &bits, sizeof bits },
		{ CKA_PUBLIC_EXPONENT, exponent, sizeof exponent },
		{ CKA_VERIFY, &yes, sizeof yes },
		{ CKA_ENCRYPT, &no, sizeof no },
		{ CKA_WRAP, &no, sizeof no },
	};
	CK_ATTRIBUTE priv_tmpl[] = {
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &yes, sizeof yes },
		{ CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, id, sizeof id },
		{ CKA_SIGN, &yes, sizeof yes },
		{ CKA_DECRYPT, &no, sizeof no },
		{ CKA_UNWRAP, &no, sizeof no },
	};

	rc = helper_open(argv[2], true, &f, &s);
	if (rc != 0)
		return rc;
	rv = f->C_GenerateKeyPair(s, &mech, pub_tmpl, 8, priv_tmpl, 8, &pub, &priv);
	helper_close(f, s);
	return rv == CKR_OK ? 0 : 8;
}

/* ---- Suite: RSA key pairs ---- */

static int gen_init(void)
{
	return suite_token_check(&tok_gen);
}

/* Each way of naming the two pairs, on both RSA provider types: the pair
 * lands in the slot its ALG_ID names, and nowhere else. */
static void test_gen_specs(void)
{
	static const DWORD types[] = { PROV_RSA_FULL, PROV_RSA_AES };
	static const struct {
		ALG_ID alg;
		DWORD spec, other, algid;
	} cases[] = {
		{ AT_KEYEXCHANGE, AT_KEYEXCHANGE, AT_SIGNATURE, ALGID_RSA_KEYX },
		{ AT_SIGNATURE, AT_SIGNATURE, AT_KEYEXCHANGE, ALGID_RSA_SIGN },
		{ CALG_RSA_KEYX, AT_KEYEXCHANGE, AT_SIGNATURE, ALGID_RSA_KEYX },
		{ CALG_RSA_SIGN, AT_SIGNATURE, AT_KEYEXCHANGE, ALGID_RSA_SIGN },
	};

	for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			HCRYPTKEY key = 0, user = 0;
			char *name;
			HCRYPTPROV prov = container_new(&tok_gen, types[t], &name);

			CU_ASSERT_FATAL(prov != 0);
			if (EXPECT_OK(CryptGenKey(prov, cases[i].alg, 512u << 16, &key))) {
				CU_ASSERT(key != 0);
				EXPECT_PARAM(key, KP_ALGID, cases[i].algid);
				EXPECT_PARAM(key, KP_KEYLEN, 512);
				EXPECT_PARAM(key, KP_BLOCKLEN, 512);
				EXPECT_PARAM(key, KP_PERMISSIONS, PERMS_BASE);
				EXPECT_OK(CryptDestroyKey(key));
			}
			if (EXPECT_OK(CryptGetUserKey(prov, cases[i].spec, &user))) {
				EXPECT_PARAM(user, KP_ALGID, cases[i].algid);
				EXPECT_PARAM(user, KP_KEYLEN, 512);
				EXPECT_OK(CryptDestroyKey(user));
			}
			EXPECT_ERROR(CryptGetUserKey(prov, cases[i].other, &user), NTE_NO_KEY);
			EXPECT_OK(CryptReleaseContext(prov, 0));
			free(name);
		}
	}
}

/* The modulus size is HIWORD(dwFlags); 0 is the 1024-bit default of the
 * Strong and Enhanced providers (Microsoft's CryptGenKey table). */
static void test_gen_lengths(void)
{
	static const struct {
		DWORD hiword, bits;
	} cases[] = {
		{ 512, 512 }, { 1024, 1024 }, { 2048, 2048 }, { 0, 1024 },
	};
	char *name;
	HCRYPTPROV prov = container_new(&tok_gen, PROV_RSA_FULL, &name);

	CU_ASSERT_FATAL(prov != 0);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		HCRYPTKEY key = 0;

		if (EXPECT_OK(CryptGenKey(prov, AT_SIGNATURE, cases[i].hiword << 16, &key))) {
			EXPECT_PARAM(key, KP_KEYLEN, cases[i].bits);
			EXPECT_PARAM(key, KP_BLOCKLEN, cases[i].bits);
			EXPECT_OK(CryptDestroyKey(key));
		}
	}
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* Sizes no RSA provider makes fail, and leave the container without a key,
 * on the token as well. */
static void test_gen_bad_lengths(void)
{
	/* Too small, not a multiple of 8, one step above 16384, HIWORD max. */
	static const DWORD bad[] = { 100, 1004, 16392, 0xffff };
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	HCRYPTKEY key = 0;
	char *name;
	HCRYPTPROV prov = container_new(&tok_gen, PROV_RSA_FULL, &name);
	int n;

	CU_ASSERT_FATAL(prov != 0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		EXPECT_ERROR(CryptGenKey(prov, AT_KEYEXCHANGE, bad[i] << 16, &key),
			     RSA_BAD_LENGTH_ERROR);
		EXPECT_ERROR(CryptGenKey(prov, AT_SIGNATURE, bad[i] << 16, &key),
			     RSA_BAD_LENGTH_ERROR);
	}
	EXPECT_ERROR(CryptGetUserKey(prov, AT_KEYEXCHANGE, &key), NTE_NO_KEY);
	EXPECT_ERROR(CryptGetUserKey(prov, AT_SIGNATURE, &key), NTE_NO_KEY);

	n = tool_objects(tok_gen.label, objs, TOOL_MAX);
	CU_ASSERT_FATAL(n >= 0);
	CU_ASSERT_EQUAL(tool_select(objs, n, 'v', name, found, 4), 0);
	CU_ASSERT_EQUAL(tool_select(objs, n, 'p', name, found, 4), 0);
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

static void test_gen_exportable(void)
{
	char *name;
	HCRYPTPROV prov = container_new(&tok_gen, PROV_RSA_AES, &name);
	HCRYPTKEY key = 0;

	CU_ASSERT_FATAL(prov != 0);
	if (EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, (512u << 16) | CRYPT_EXPORTABLE, &key))) {
		EXPECT_PARAM(key, KP_PERMISSIONS, PERMS_EXPORTABLE);
		EXPECT_OK(CryptDestroyKey(key));
	}
	if (EXPECT_OK(CryptGenKey(prov, AT_SIGNATURE, (512u << 16) | CRYPT_EXPORTABLE, &key))) {
		EXPECT_PARAM(key, KP_PERMISSIONS, PERMS_EXPORTABLE);
		EXPECT_OK(CryptDestroyKey(key));
	}
	/* Found again on the token, the key is still exportable. */
	if (EXPECT_OK(CryptGetUserKey(prov, AT_KEYEXCHANGE, &key))) {
		EXPECT_PARAM(key, KP_PERMISSIONS, PERMS_EXPORTABLE);
		EXPECT_OK(CryptDestroyKey(key));
	}
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* SPEC section 2's buffer rule, which rsaenh's copy_param() follows. */
static void test_gen_param_buffers(void)
{
	char *name;
	HCRYPTPROV prov = container_new(&tok_gen, PROV_RSA_FULL, &name);
	HCRYPTKEY key = 0;
	BYTE buf[8];
	DWORD len, value;

	CU_ASSERT_FATAL(prov != 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, 512u << 16, &key)));

	/* Size query. */
	len = 1000;
	CU_ASSERT_TRUE(EXPECT_OK(CryptGetKeyParam(key, KP_KEYLEN, NULL, &len, 0)));
	CU_ASSERT_EQUAL(len, 4);
	len = 0;
	CU_ASSERT_TRUE(EXPECT_OK(CryptGetKeyParam(key, KP_ALGID, NULL, &len, 0)));
	CU_ASSERT_EQUAL(len, 4);

	/* Too small: the size, ERROR_MORE_DATA, the buffer untouched. */
	memset(buf, 0xa5, sizeof buf);
	len = 2;
	EXPECT_ERROR(CryptGetKeyParam(key, KP_KEYLEN, buf, &len, 0), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, 4);
	CU_ASSERT_EQUAL(buf[0], 0xa5);
	CU_ASSERT_EQUAL(buf[1], 0xa5);

	/* A larger buffer: exactly 4 bytes written, *pdwDataLen = 4. */
	memset(buf, 0xa5, sizeof buf);
	len = sizeof buf;
	CU_ASSERT_TRUE(EXPECT_OK(CryptGetKeyParam(key, KP_KEYLEN, buf, &len, 0)));
	CU_ASSERT_EQUAL(len, 4);
	memcpy(&value, buf, 4);
	CU_ASSERT_EQUAL(value, 512);
	for (size_t i = 4; i < sizeof buf; i++)
		CU_ASSERT_EQUAL(buf[i], 0xa5);

	/* An exact buffer. */
	len = 4;
	value = SENTINEL;
	CU_ASSERT_TRUE(EXPECT_OK(CryptGetKeyParam(key, KP_BLOCKLEN, (BYTE *)&value, &len, 0)));
	CU_ASSERT_EQUAL(len, 4);
	CU_ASSERT_EQUAL(value, 512);

	len = sizeof buf;
	EXPECT_ERROR(CryptGetKeyParam(key, 9999, buf, &len, 0), NTE_BAD_TYPE);
	len = sizeof buf;
	EXPECT_ERROR(CryptGetKeyParam(key, KP_KEYLEN, buf, &len, 1), NTE_BAD_FLAGS);
	EXPECT_ERROR(CryptGetKeyParam(key, KP_KEYLEN, buf, NULL, 0), ERROR_INVALID_PARAMETER);

	EXPECT_OK(CryptDestroyKey(key));
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* advapi32 refuses these before any provider runs. */
static void test_gen_bad_args(void)
{
	char *name;
	HCRYPTPROV prov = container_new(&tok_gen, PROV_RSA_FULL, &name), gone = 0;
	HCRYPTKEY key = 0, session = 0;

	CU_ASSERT_FATAL(prov != 0);
	EXPECT_ERROR(CryptGenKey(prov, AT_KEYEXCHANGE, 512u << 16, NULL), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptGenKey(prov, CALG_AES_128, 0, NULL), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptGenKey(0, AT_KEYEXCHANGE, 512u << 16, &key), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptGenKey(12345, AT_KEYEXCHANGE, 512u << 16, &key),
		     ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptGetUserKey(prov, AT_KEYEXCHANGE, NULL), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptGetUserKey(0, AT_KEYEXCHANGE, &key), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptGetUserKey(12345, AT_KEYEXCHANGE, &key), ERROR_INVALID_PARAMETER);

	/* A key handle is not a context handle. */
	if (EXPECT_OK(CryptGenKey(prov, CALG_AES_128, 0, &session))) {
		EXPECT_ERROR(CryptGenKey((HCRYPTPROV)session, AT_KEYEXCHANGE, 512u << 16, &key),
			     ERROR_INVALID_PARAMETER);
		EXPECT_ERROR(CryptGetUserKey((HCRYPTPROV)session, AT_KEYEXCHANGE, &key),
			     ERROR_INVALID_PARAMETER);
		EXPECT_OK(CryptDestroyKey(session));
	}

	/* A released context. */
	if (EXPECT_OK(CryptAcquireContextA(&gone, name, tok_gen.uri, PROV_RSA_FULL, 0))) {
		EXPECT_OK(CryptReleaseContext(gone, 0));
		EXPECT_ERROR(CryptGenKey(gone, CALG_AES_128, 0, &key), ERROR_INVALID_PARAMETER);
		EXPECT_ERROR(CryptGetUserKey(gone, AT_KEYEXCHANGE, &key), ERROR_INVALID_PARAMETER);
	}
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* ---- Suite: the objects on the token ---- */

static int objs_init(void)
{
	return suite_token_check(&tok_objs);
}


static void test_objects_exchange(void)
{
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	HCRYPTKEY key = 0;
	char *name;
	HCRYPTPROV prov = container_new(&tok_objs, PROV_RSA_FULL, &name);
	int n;

	CU_ASSERT_FATAL(prov != 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, 512u << 16, &key)));

	n = tool_objects(tok_objs.label, objs, TOOL_MAX);
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'v', name, found, 4), 1);
	CU_ASSERT_TRUE(word_listed(found[0]->usage, "decrypt"));
	CU_ASSERT_TRUE(word_listed(found[0]->usage, "unwrap"));
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'p', name, found, 4), 1);
	CU_ASSERT_TRUE(word_listed(found[0]->usage, "encrypt"));
	CU_ASSERT_TRUE(word_listed(found[0]->usage, "wrap"));
	CU_ASSERT_EQUAL(found[0]->bits, 512);

	EXPECT_OK(CryptDestroyKey(key));
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* SoftHSM defaults every usage to TRUE: a signature pair shows none of the
 * exchange usages only if they were refused explicitly. */
static void test_objects_signature(void)
{
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	HCRYPTKEY key = 0;
	char *name;
	HCRYPTPROV prov = container_new(&tok_objs, PROV_RSA_FULL, &name);
	int n;

	CU_ASSERT_FATAL(prov != 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, AT_SIGNATURE, 512u << 16, &key)));

	n = tool_objects(tok_objs.label, objs, TOOL_MAX);
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'v', name, found, 4), 1);
	CU_ASSERT_TRUE(word_listed(found[0]->usage, "sign"));
	CU_ASSERT_FALSE(word_listed(found[0]->usage, "decrypt"));
	CU_ASSERT_FALSE(word_listed(found[0]->usage, "unwrap"));
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'p', name, found, 4), 1);
	CU_ASSERT_TRUE(word_listed(found[0]->usage, "verify"));
	CU_ASSERT_FALSE(word_listed(found[0]->usage, "encrypt"));
	CU_ASSERT_FALSE(word_listed(found[0]->usage, "wrap"));

	EXPECT_OK(CryptDestroyKey(key));
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

static void test_objects_exportable(void)
{
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	HCRYPTKEY key = 0;
	char *plain, *locked;
	HCRYPTPROV prov = container_new(&tok_objs, PROV_RSA_FULL, &plain);
	HCRYPTPROV prov2 = container_new(&tok_objs, PROV_RSA_FULL, &locked);
	int n;

	CU_ASSERT_FATAL(prov != 0 && prov2 != 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE,
					      (512u << 16) | CRYPT_EXPORTABLE, &key)));
	EXPECT_OK(CryptDestroyKey(key));
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov2, AT_KEYEXCHANGE, 512u << 16, &key)));
	EXPECT_OK(CryptDestroyKey(key));

	/* CRYPT_EXPORTABLE: extractable and not sensitive. */
	n = tool_objects(tok_objs.label, objs, TOOL_MAX);
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'v', plain, found, 4), 1);
	CU_ASSERT_TRUE(word_listed(found[0]->access, "extractable"));
	CU_ASSERT_FALSE(word_listed(found[0]->access, "sensitive"));
	CU_ASSERT_FALSE(word_listed(found[0]->access, "never extractable"));

	/* Without it: sensitive and never extractable. */
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'v', locked, found, 4), 1);
	CU_ASSERT_TRUE(word_listed(found[0]->access, "sensitive"));
	CU_ASSERT_TRUE(word_listed(found[0]->access, "never extractable"));
	CU_ASSERT_FALSE(word_listed(found[0]->access, "extractable"));

	EXPECT_OK(CryptReleaseContext(prov2, 0));
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(locked);
	free(plain);
}

/* The two pairs of a container differ in CKA_ID; each public key shares
 * its private key's. */
static void test_objects_ids(void)
{
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *priv[4] = { NULL }, *pub[4] = { NULL };
	HCRYPTKEY key = 0;
	char *name;
	HCRYPTPROV prov = container_new(&tok_objs, PROV_RSA_FULL, &name);
	int n;

	CU_ASSERT_FATAL(prov != 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, 512u << 16, &key)));
	EXPECT_OK(CryptDestroyKey(key));
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, AT_SIGNATURE, 512u << 16, &key)));
	EXPECT_OK(CryptDestroyKey(key));

	n = tool_objects(tok_objs.label, objs, TOOL_MAX);
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'v', name, priv, 4), 2);
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'p', name, pub, 4), 2);
	CU_ASSERT(priv[0]->id[0] != '\0' && priv[1]->id[0] != '\0');
	CU_ASSERT_STRING_NOT_EQUAL(priv[0]->id, priv[1]->id);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT(strcmp(pub[i]->id, priv[0]->id) == 0 ||
			  strcmp(pub[i]->id, priv[1]->id) == 0);
	}
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* CryptGenKey replaces the container's pair of that spec, as on Windows,
 * and leaves the other pair alone. */
static void test_objects_regenerate(void)
{
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	HCRYPTKEY key = 0;
	char *name;
	HCRYPTPROV prov = container_new(&tok_objs, PROV_RSA_FULL, &name);
	int exchange = 0, signature = 0, n, total;

	CU_ASSERT_FATAL(prov != 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, AT_SIGNATURE, 512u << 16, &key)));
	EXPECT_OK(CryptDestroyKey(key));
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, 512u << 16, &key)));
	EXPECT_OK(CryptDestroyKey(key));
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, 1024u << 16, &key)));
	EXPECT_PARAM(key, KP_KEYLEN, 1024);
	EXPECT_OK(CryptDestroyKey(key));

	total = tool_objects(tok_objs.label, objs, TOOL_MAX);
	n = tool_select(objs, total, 'v', name, found, 4);
	CU_ASSERT_EQUAL(n, 2);
	for (int i = 0; i < n && i < 4; i++) {
		if (word_listed(found[i]->usage, "decrypt"))
			exchange++;
		else
			signature++;
	}
	CU_ASSERT_EQUAL(exchange, 1);
	CU_ASSERT_EQUAL(signature, 1);
	n = tool_select(objs, total, 'p', name, found, 4);
	CU_ASSERT_EQUAL(n, 2);
	exchange = 0;
	for (int i = 0; i < n && i < 4; i++) {
		if (word_listed(found[i]->usage, "encrypt")) {
			exchange++;
			CU_ASSERT_EQUAL(found[i]->bits, 1024);
		} else {
			CU_ASSERT_EQUAL(found[i]->bits, 512);
		}
	}
	CU_ASSERT_EQUAL(exchange, 1);

	if (EXPECT_OK(CryptGetUserKey(prov, AT_KEYEXCHANGE, &key))) {
		EXPECT_PARAM(key, KP_KEYLEN, 1024);
		EXPECT_OK(CryptDestroyKey(key));
	}
	if (EXPECT_OK(CryptGetUserKey(prov, AT_SIGNATURE, &key))) {
		EXPECT_PARAM(key, KP_KEYLEN, 512);
		EXPECT_OK(CryptDestroyKey(key));
	}
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* ---- Suite: CryptGetUserKey ---- */

static int user_init(void)
{
	return suite_token_check(&tok_user);
}

static void test_user_empty(void)
{
	HCRYPTKEY key = 0;
	char *name;
	HCRYPTPROV prov = container_new(&tok_user, PROV_RSA_FULL, &name);

	CU_ASSERT_FATAL(prov != 0);
	EXPECT_ERROR(CryptGetUserKey(prov, AT_KEYEXCHANGE, &key), NTE_NO_KEY);
	EXPECT_ERROR(CryptGetUserKey(prov, AT_SIGNATURE, &key), NTE_NO_KEY);
	/* rsaenh: any other spec names no key either. */
	EXPECT_ERROR(CryptGetUserKey(prov, 0, &key), NTE_NO_KEY);
	EXPECT_ERROR(CryptGetUserKey(prov, 3, &key), NTE_NO_KEY);
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

static void test_user_after_gen(void)
{
	HCRYPTKEY key = 0, user = 0, user2 = 0;
	char *name;
	HCRYPTPROV prov = container_new(&tok_user, PROV_RSA_AES, &name);

	CU_ASSERT_FATAL(prov != 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, 512u << 16, &key)));
	EXPECT_ERROR(CryptGetUserKey(prov, AT_SIGNATURE, &user), NTE_NO_KEY);
	if (EXPECT_OK(CryptGetUserKey(prov, AT_KEYEXCHANGE, &user))) {
		CU_ASSERT(user != key);
		EXPECT_PARAM(user, KP_ALGID, ALGID_RSA_KEYX);
		EXPECT_PARAM(user, KP_KEYLEN, 512);
		EXPECT_PARAM(user, KP_PERMISSIONS, PERMS_BASE);
		/* Each call gives a handle of its own. */
		if (EXPECT_OK(CryptGetUserKey(prov, AT_KEYEXCHANGE, &user2))) {
			CU_ASSERT(user2 != user);
			EXPECT_OK(CryptDestroyKey(user2));
		}
		EXPECT_OK(CryptDestroyKey(user));
	}
	EXPECT_OK(CryptDestroyKey(key));
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* A pair made by pkcs11-tool forms a container named by its label; the
 * spec follows from the private key's usages on the token. */
static void check_foreign_pair(const char *label, unsigned bits)
{
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	HCRYPTPROV prov = 0;
	HCRYPTKEY key = 0;
	DWORD spec, other;
	int n = tool_objects(tok_user.label, objs, TOOL_MAX);

	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'v', label, found, 4), 1);
	if (word_listed(found[0]->usage, "decrypt") || word_listed(found[0]->usage, "unwrap")) {
		spec = AT_KEYEXCHANGE;
		other = AT_SIGNATURE;
	} else {
		spec = AT_SIGNATURE;
		other = AT_KEYEXCHANGE;
	}

	CU_ASSERT_FATAL(EXPECT_OK(CryptAcquireContextA(&prov, label, tok_user.uri,
						       PROV_RSA_FULL, 0)));
	if (EXPECT_OK(CryptGetUserKey(prov, spec, &key))) {
		EXPECT_PARAM(key, KP_ALGID, spec == AT_KEYEXCHANGE ? ALGID_RSA_KEYX :
							      ALGID_RSA_SIGN);
		EXPECT_PARAM(key, KP_KEYLEN, bits);
		EXPECT_PARAM(key, KP_BLOCKLEN, bits);
		/* pkcs11-tool's keys are sensitive and never extractable. */
		if (word_listed(found[0]->access, "sensitive"))
			EXPECT_PARAM(key, KP_PERMISSIONS, PERMS_BASE);
		EXPECT_OK(CryptDestroyKey(key));
	}
	EXPECT_ERROR(CryptGetUserKey(prov, other, &key), NTE_NO_KEY);
	EXPECT_OK(CryptReleaseContext(prov, 0));
}

static void test_user_foreign_default(void)
{
	char *label = fixture_label_new("x");
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	int n;

	CU_ASSERT_FATAL(label != NULL);
	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(tok_user.label, true, NULL,
		"--keypairgen --key-type rsa:1024 --label %s --id 01", label), 0);
	/* Default usage is every usage: decrypt, so an exchange pair. */
	n = tool_objects(tok_user.label, objs, TOOL_MAX);
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'v', label, found, 4), 1);
	CU_ASSERT_TRUE(word_listed(found[0]->usage, "decrypt"));
	check_foreign_pair(label, 1024);
	free(label);
}

/* pkcs11-tool --usage-sign adds CKA_SIGN but does not refuse decrypt, and
 * SoftHSM then defaults it to TRUE: the expected spec is whatever the
 * tool's listing says the key may do. */
static void test_user_foreign_usage_sign(void)
{
	char *label = fixture_label_new("s");

	CU_ASSERT_FATAL(label != NULL);
	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(tok_user.label, true, NULL,
		"--keypairgen --key-type rsa:1024 --usage-sign --label %s --id 01", label), 0);
	check_foreign_pair(label, 1024);
	free(label);
}

/* A pair whose private key cannot decrypt or unwrap is a signature pair. */
static void test_user_foreign_sign_only(void)
{
	char *label = fixture_label_new("g");
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	int n;

	CU_ASSERT_FATAL(label != NULL);
	CU_ASSERT_EQUAL_FATAL(self_run(HELPER_SIGN_PAIR, tok_user.label, label, NULL), 0);
	n = tool_objects(tok_user.label, objs, TOOL_MAX);
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'v', label, found, 4), 1);
	CU_ASSERT_TRUE(word_listed(found[0]->usage, "sign"));
	CU_ASSERT_FALSE(word_listed(found[0]->usage, "decrypt"));
	CU_ASSERT_FALSE(word_listed(found[0]->usage, "unwrap"));
	check_foreign_pair(label, 512);
	free(label);
}

/* ---- Suite: persistence ---- */

static int persist_init(void)
{
	return suite_token_check(&tok_persist);
}

/* A container holding a 512-bit exchange pair, its context released. */
static char *persisted_container(void)
{
	HCRYPTKEY key = 0;
	char *name;
	HCRYPTPROV prov = container_new(&tok_persist, PROV_RSA_FULL, &name);

	if (prov == 0)
		return NULL;
	if (!EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, 512u << 16, &key))) {
		CryptReleaseContext(prov, 0);
		free(name);
		return NULL;
	}
	EXPECT_OK(CryptDestroyKey(key));
	EXPECT_OK(CryptReleaseContext(prov, 0));
	return name;
}

static void test_persist_same_process(void)
{
	char *name = persisted_container();

	CU_ASSERT_FATAL(name != NULL);
	CU_ASSERT_EQUAL(user_key_check(tok_persist.uri, name, AT_KEYEXCHANGE, 512), CHECK_OK);
	free(name);
}

static void test_persist_pkcs11_tool(void)
{
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	char *name = persisted_container();
	int n;

	CU_ASSERT_FATAL(name != NULL);
	n = tool_objects(tok_persist.label, objs, TOOL_MAX);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(tool_select(objs, n, 'v', name, found, 4), 1);
	CU_ASSERT_EQUAL_FATAL(tool_select(objs, n, 'p', name, found, 4), 1);
	CU_ASSERT_EQUAL(found[0]->bits, 512);
	free(name);
}

/* A child forked from this process, which has capi11 and SoftHSM already
 * initialized, opens the container itself. */
static void test_persist_forked_child(void)
{
	char *name = persisted_container();
	int status = 0;
	pid_t pid;

	CU_ASSERT_FATAL(name != NULL);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		_exit(user_key_check(tok_persist.uri, name, AT_KEYEXCHANGE, 512));
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_EQUAL(status_code(status), CHECK_OK);
	free(name);
}

/* A fresh process, nothing inherited but the environment. */
static void test_persist_exec_child(void)
{
	char *name = persisted_container();
	char spec[16], bits[16];

	CU_ASSERT_FATAL(name != NULL);
	snprintf(spec, sizeof spec, "%u", (unsigned)AT_KEYEXCHANGE);
	snprintf(bits, sizeof bits, "%u", 512u);
	CU_ASSERT_EQUAL(self_run(HELPER_USER_KEY, tok_persist.uri, name, spec, bits, NULL),
			CHECK_OK);
	free(name);
}

/* ---- Suite: session keys ---- */

static char *session_mechs;

static int session_init(void)
{
	if (suite_token_check(&tok_session) != 0)
		return -1;
	session_mechs = tool_mechanisms(tok_session.label);
	return session_mechs != NULL ? 0 : -1;
}

static int session_cleanup(void)
{
	free(session_mechs);
	session_mechs = NULL;
	return 0;
}

struct session_alg {
	ALG_ID alg;
	CK_MECHANISM_TYPE mech;	/* the key-gen mechanism */
	unsigned bytes;		/* key size the mechanism must allow (0: fixed) */
	DWORD keylen, blocklen;	/* KP_KEYLEN and KP_BLOCKLEN in bits */
};

static const struct session_alg session_algs[] = {
	{ CALG_AES_128, CKM_AES_KEY_GEN, 16, 128, 128 },
	{ CALG_AES_192, CKM_AES_KEY_GEN, 24, 192, 128 },
	{ CALG_AES_256, CKM_AES_KEY_GEN, 32, 256, 128 },
	{ CALG_3DES, CKM_DES3_KEY_GEN, 0, 192, 64 },
	{ CALG_3DES_112, CKM_DES2_KEY_GEN, 0, 128, 64 },
	{ CALG_DES, CKM_DES_KEY_GEN, 0, 64, 64 },
};

static const struct session_alg *session_alg_find(ALG_ID alg)
{
	for (size_t i = 0; i < sizeof session_algs / sizeof *session_algs; i++) {
		if (session_algs[i].alg == alg)
			return &session_algs[i];
	}
	return NULL;
}

static bool session_alg_available(ALG_ID alg)
{
	const struct session_alg *a = session_alg_find(alg);

	return a != NULL && mech_can_generate(session_mechs, a->mech, a->bytes);
}

/* What the token can generate, capi11 makes; what it cannot is
 * NTE_BAD_ALGID, as for an algorithm the CSP does not have. */
static void test_session_algs(void)
{
	char *name;
	HCRYPTPROV prov = container_new(&tok_session, PROV_RSA_AES, &name);

	CU_ASSERT_FATAL(prov != 0);
	for (size_t i = 0; i < sizeof session_algs / sizeof *session_algs; i++) {
		const struct session_alg *a = &session_algs[i];
		HCRYPTKEY key = 0;

		if (!mech_can_generate(session_mechs, a->mech, a->bytes)) {
			EXPECT_ERROR(CryptGenKey(prov, a->alg, 0, &key), NTE_BAD_ALGID);
			continue;
		}
		if (EXPECT_OK(CryptGenKey(prov, a->alg, 0, &key))) {
			EXPECT_PARAM(key, KP_ALGID, a->alg);
			EXPECT_PARAM(key, KP_KEYLEN, a->keylen);
			EXPECT_PARAM(key, KP_BLOCKLEN, a->blocklen);
			EXPECT_PARAM(key, KP_PERMISSIONS, PERMS_BASE);
			EXPECT_OK(CryptDestroyKey(key));
		}
		if (EXPECT_OK(CryptGenKey(prov, a->alg, CRYPT_EXPORTABLE, &key))) {
			EXPECT_PARAM(key, KP_PERMISSIONS, PERMS_EXPORTABLE);
			EXPECT_OK(CryptDestroyKey(key));
		}
	}
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

static void test_session_bad_algs(void)
{
	char *name;
	HCRYPTPROV prov = container_new(&tok_session, PROV_RSA_AES, &name);
	HCRYPTKEY key = 0;

	CU_ASSERT_FATAL(prov != 0);
	/* SoftHSM has no RC2 or RC4; asserted from its own list. RC2 keys are
	 * then made on the companion token, NSS's softokn, where configure
	 * found it (test-companion checks them); RC4 keys never are. */
	if (!mech_can_generate(session_mechs, CKM_RC2_KEY_GEN, 0) && CAPI11_SOFTOKN_PATH[0] == '\0')
		EXPECT_ERROR(CryptGenKey(prov, CALG_RC2, 0, &key), NTE_BAD_ALGID);
	if (!mech_can_generate(session_mechs, CKM_RC4_KEY_GEN, 0))
		EXPECT_ERROR(CryptGenKey(prov, CALG_RC4, 0, &key), NTE_BAD_ALGID);
	/* Wine's rsaenh tests, run on Windows: CALG_AES is refused, with or
	 * without a length. */
	EXPECT_ERROR(CryptGenKey(prov, CALG_AES, 0, &key), NTE_BAD_ALGID);
	EXPECT_ERROR(CryptGenKey(prov, CALG_AES, 128u << 16, &key), NTE_BAD_ALGID);
	/* An ALG_ID of no algorithm, and a hash algorithm. */
	EXPECT_ERROR(CryptGenKey(prov, 0x663f, 0, &key), NTE_BAD_ALGID);
	EXPECT_ERROR(CryptGenKey(prov, CALG_MD5, 0, &key), NTE_BAD_ALGID);
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* rsaenh's new_key(): the DES family takes its effective or its storage
 * length and reports the storage length; other lengths are NTE_BAD_FLAGS.
 * AES takes only its own length; others are NTE_BAD_DATA. */
static void test_session_lengths(void)
{
	static const struct {
		ALG_ID alg;
		DWORD hiword;
		DWORD error;	/* 0: success */
		DWORD keylen;
	} cases[] = {
		{ CALG_AES_128, 128, 0, 128 },
		{ CALG_AES_128, 192, NTE_BAD_DATA, 0 },
		{ CALG_AES_256, 256, 0, 256 },
		{ CALG_AES_256, 128, NTE_BAD_DATA, 0 },
		{ CALG_3DES, 168, 0, 192 },
		{ CALG_3DES, 192, 0, 192 },
		{ CALG_3DES, 100, NTE_BAD_FLAGS, 0 },
		{ CALG_3DES_112, 112, 0, 128 },
		{ CALG_3DES_112, 128, 0, 128 },
		{ CALG_3DES_112, 64, NTE_BAD_FLAGS, 0 },
		{ CALG_DES, 56, 0, 64 },
		{ CALG_DES, 64, 0, 64 },
		{ CALG_DES, 40, NTE_BAD_FLAGS, 0 },
	};
	char *name;
	HCRYPTPROV prov = container_new(&tok_session, PROV_RSA_AES, &name);
	int ran = 0;

	CU_ASSERT_FATAL(prov != 0);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		HCRYPTKEY key = 0;

		/* Lengths are judged for algorithms the token has. */
		if (!session_alg_available(cases[i].alg))
			continue;
		ran++;
		if (cases[i].error != 0) {
			EXPECT_ERROR(CryptGenKey(prov, cases[i].alg, cases[i].hiword << 16, &key),
				     cases[i].error);
		} else if (EXPECT_OK(CryptGenKey(prov, cases[i].alg, cases[i].hiword << 16,
						 &key))) {
			EXPECT_PARAM(key, KP_ALGID, cases[i].alg);
			EXPECT_PARAM(key, KP_KEYLEN, cases[i].keylen);
			EXPECT_OK(CryptDestroyKey(key));
		}
	}
	/* AES at least is always there (SoftHSM has AES-KEY-GEN). */
	CU_ASSERT(ran >= 4);
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* Session keys are session objects: another process never sees them, and
 * the token holds no more objects than before, while the keys are alive. */
static void test_session_not_on_token(void)
{
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	HCRYPTKEY aes = 0, des3 = 0;
	char *name;
	HCRYPTPROV prov = container_new(&tok_session, PROV_RSA_AES, &name);
	int before, after;

	CU_ASSERT_FATAL(prov != 0);
	before = tool_objects(tok_session.label, objs, TOOL_MAX);
	CU_ASSERT_FATAL(before >= 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, CALG_AES_256, CRYPT_EXPORTABLE, &aes)));
	if (session_alg_available(CALG_3DES))
		EXPECT_OK(CryptGenKey(prov, CALG_3DES, 0, &des3));

	after = tool_objects(tok_session.label, objs, TOOL_MAX);
	CU_ASSERT_EQUAL(after, before);
	CU_ASSERT_EQUAL(tool_select(objs, after, 's', NULL, found, 4), 0);
	/* The keys are alive all along. */
	EXPECT_PARAM(aes, KP_KEYLEN, 256);
	if (des3 != 0)
		EXPECT_OK(CryptDestroyKey(des3));
	EXPECT_OK(CryptDestroyKey(aes));
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* ---- Suite: verify contexts ---- */

static int verify_init(void)
{
	return suite_token_check(&tok_verify);
}

/* A verify context makes its key pairs as session objects, has no
 * container keys, and makes session keys, with or without a PIN. */
static void check_verify_context(const char *uri, DWORD type)
{
	struct tool_obj objs[TOOL_MAX];
	HCRYPTPROV prov = 0;
	HCRYPTKEY pair = 0, aes = 0, key = 0;
	int before, after;

	before = tool_objects(tok_verify.label, objs, TOOL_MAX);
	CU_ASSERT_FATAL(before >= 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptAcquireContextA(&prov, NULL, uri, type,
						       CRYPT_VERIFYCONTEXT)));
	EXPECT_ERROR(CryptGetUserKey(prov, AT_KEYEXCHANGE, &key), NTE_NO_KEY);
	EXPECT_ERROR(CryptGetUserKey(prov, AT_SIGNATURE, &key), NTE_NO_KEY);

	if (EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, 512u << 16, &pair))) {
		EXPECT_PARAM(pair, KP_ALGID, ALGID_RSA_KEYX);
		EXPECT_PARAM(pair, KP_KEYLEN, 512);
	}
	if (EXPECT_OK(CryptGenKey(prov, CALG_AES_128, 0, &aes))) {
		EXPECT_PARAM(aes, KP_ALGID, CALG_AES_128);
		EXPECT_PARAM(aes, KP_KEYLEN, 128);
	}
	after = tool_objects(tok_verify.label, objs, TOOL_MAX);
	CU_ASSERT_EQUAL(after, before);

	/* As in rsaenh, the pair a verify context made is its user key, even
	 * after the generating handle is gone; the other spec has none. */
	if (pair != 0)
		EXPECT_OK(CryptDestroyKey(pair));
	if (EXPECT_OK(CryptGetUserKey(prov, AT_KEYEXCHANGE, &key))) {
		EXPECT_PARAM(key, KP_ALGID, ALGID_RSA_KEYX);
		EXPECT_PARAM(key, KP_KEYLEN, 512);
		EXPECT_OK(CryptDestroyKey(key));
	}
	EXPECT_ERROR(CryptGetUserKey(prov, AT_SIGNATURE, &key), NTE_NO_KEY);
	if (aes != 0)
		EXPECT_OK(CryptDestroyKey(aes));
	EXPECT_OK(CryptReleaseContext(prov, 0));
	/* ... and dies with the context: the token has nothing left of it. */
	after = tool_objects(tok_verify.label, objs, TOOL_MAX);
	CU_ASSERT_EQUAL(after, before);
}

static void test_verify_with_pin(void)
{
	check_verify_context(tok_verify.uri, PROV_RSA_FULL);
}

static void test_verify_without_pin(void)
{
	check_verify_context(tok_verify.uri_nopin, PROV_RSA_FULL);
}

static void test_verify_aes_type(void)
{
	check_verify_context(tok_verify.uri_nopin, PROV_RSA_AES);
}

/* ---- Suite: destroying and duplicating handles ---- */

static int handles_init(void)
{
	return suite_token_check(&tok_handles);
}

static void test_destroy_session_key(void)
{
	char *name;
	HCRYPTPROV prov = container_new(&tok_handles, PROV_RSA_AES, &name);
	HCRYPTKEY key = 0;
	DWORD value, len = sizeof value;

	CU_ASSERT_FATAL(prov != 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, CALG_AES_128, 0, &key)));
	CU_ASSERT_TRUE(EXPECT_OK(CryptDestroyKey(key)));
	EXPECT_ERROR(CryptGetKeyParam(key, KP_ALGID, (BYTE *)&value, &len, 0),
		     ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptDestroyKey(key), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptDestroyKey(0), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptDestroyKey(12345), ERROR_INVALID_PARAMETER);
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* Destroying the handle of a container key leaves the key on the token. */
static void test_destroy_container_key(void)
{
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	char *name;
	HCRYPTPROV prov = container_new(&tok_handles, PROV_RSA_FULL, &name);
	HCRYPTKEY key = 0;
	DWORD value, len = sizeof value;
	int n;

	CU_ASSERT_FATAL(prov != 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, 512u << 16, &key)));
	CU_ASSERT_TRUE(EXPECT_OK(CryptDestroyKey(key)));
	EXPECT_ERROR(CryptGetKeyParam(key, KP_KEYLEN, (BYTE *)&value, &len, 0),
		     ERROR_INVALID_PARAMETER);

	if (EXPECT_OK(CryptGetUserKey(prov, AT_KEYEXCHANGE, &key))) {
		EXPECT_PARAM(key, KP_KEYLEN, 512);
		EXPECT_OK(CryptDestroyKey(key));
	}
	n = tool_objects(tok_handles.label, objs, TOOL_MAX);
	CU_ASSERT_EQUAL(tool_select(objs, n, 'v', name, found, 4), 1);
	CU_ASSERT_EQUAL(tool_select(objs, n, 'p', name, found, 4), 1);
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

static void check_duplicate(HCRYPTKEY key, DWORD algid, DWORD keylen)
{
	HCRYPTKEY copy = 0;

	if (!EXPECT_OK(CryptDuplicateKey(key, NULL, 0, &copy)))
		return;
	CU_ASSERT(copy != 0 && copy != key);
	EXPECT_PARAM(copy, KP_ALGID, algid);
	EXPECT_PARAM(copy, KP_KEYLEN, keylen);
	/* The copy outlives the original handle. */
	EXPECT_OK(CryptDestroyKey(key));
	EXPECT_PARAM(copy, KP_ALGID, algid);
	EXPECT_PARAM(copy, KP_KEYLEN, keylen);
	EXPECT_OK(CryptDestroyKey(copy));
}

static void test_duplicate(void)
{
	char *name;
	HCRYPTPROV prov = container_new(&tok_handles, PROV_RSA_AES, &name);
	HCRYPTKEY key = 0;

	CU_ASSERT_FATAL(prov != 0);
	if (EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, 512u << 16, &key)))
		check_duplicate(key, ALGID_RSA_KEYX, 512);
	if (EXPECT_OK(CryptGenKey(prov, CALG_AES_192, 0, &key)))
		check_duplicate(key, CALG_AES_192, 192);
	if (EXPECT_OK(CryptGetUserKey(prov, AT_KEYEXCHANGE, &key)))
		check_duplicate(key, ALGID_RSA_KEYX, 512);
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* advapi32 refuses a reserved pointer or flags before the CSP runs. */
static void test_duplicate_bad_args(void)
{
	char *name;
	HCRYPTPROV prov = container_new(&tok_handles, PROV_RSA_AES, &name);
	HCRYPTKEY key = 0, copy = 0;
	DWORD reserved = 0;

	CU_ASSERT_FATAL(prov != 0);
	CU_ASSERT_FATAL(EXPECT_OK(CryptGenKey(prov, CALG_AES_128, 0, &key)));
	EXPECT_ERROR(CryptDuplicateKey(key, &reserved, 0, &copy), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptDuplicateKey(key, NULL, 1, &copy), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptDuplicateKey(key, NULL, 0, NULL), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptDuplicateKey(0, NULL, 0, &copy), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptDuplicateKey(12345, NULL, 0, &copy), ERROR_INVALID_PARAMETER);
	EXPECT_ERROR(CryptDuplicateKey((HCRYPTKEY)prov, NULL, 0, &copy),
		     ERROR_INVALID_PARAMETER);
	/* None of them made a handle: the key is the only one to destroy. */
	EXPECT_OK(CryptDestroyKey(key));
	EXPECT_OK(CryptReleaseContext(prov, 0));
	free(name);
}

/* Every key handle dies with its context; container keys stay on the
 * token. */
static void test_release_invalidates_keys(void)
{
	struct tool_obj objs[TOOL_MAX];
	const struct tool_obj *found[4] = { NULL };
	char *name;
	HCRYPTPROV prov = container_new(&tok_handles, PROV_RSA_FULL, &name);
	HCRYPTKEY keys[4] = { 0 }, copy = 0;
	DWORD value, len;
	int n;

	CU_ASSERT_FATAL(prov != 0);
	EXPECT_OK(CryptGenKey(prov, AT_KEYEXCHANGE, 512u << 16, &keys[0]));
	EXPECT_OK(CryptGenKey(prov, CALG_AES_128, 0, &keys[1]));
	EXPECT_OK(CryptGetUserKey(prov, AT_KEYEXCHANGE, &keys[2]));
	EXPECT_OK(CryptDuplicateKey(keys[1], NULL, 0, &keys[3]));
	EXPECT_OK(CryptReleaseContext(prov, 0));

	for (size_t i = 0; i < 4; i++) {
		CU_ASSERT_FATAL(keys[i] != 0);
		len = sizeof value;
		EXPECT_ERROR(CryptGetKeyParam(keys[i], KP_ALGID, (BYTE *)&value, &len, 0),
			     ERROR_INVALID_PARAMETER);
		EXPECT_ERROR(CryptDuplicateKey(keys[i], NULL, 0, &copy), ERROR_INVALID_PARAMETER);
		EXPECT_ERROR(CryptDestroyKey(keys[i]), ERROR_INVALID_PARAMETER);
	}
	n = tool_objects(tok_handles.label, objs, TOOL_MAX);
	CU_ASSERT_EQUAL(tool_select(objs, n, 'v', name, found, 4), 1);
	CU_ASSERT_EQUAL(tool_select(objs, n, 's', NULL, found, 4), 0);
	free(name);
}

/* ---- Registration ---- */

static CU_TestInfo gen_tests[] = {
	{ "key specs and ALG_IDs", test_gen_specs },
	{ "lengths in HIWORD", test_gen_lengths },
	{ "bad lengths", test_gen_bad_lengths },
	{ "CRYPT_EXPORTABLE permissions", test_gen_exportable },
	{ "CryptGetKeyParam buffers", test_gen_param_buffers },
	{ "bad arguments", test_gen_bad_args },
	CU_TEST_INFO_NULL
};

static CU_TestInfo objs_tests[] = {
	{ "exchange pair usages", test_objects_exchange },
	{ "signature pair usages", test_objects_signature },
	{ "exportable or sensitive", test_objects_exportable },
	{ "pairs have distinct IDs", test_objects_ids },
	{ "regeneration replaces the pair", test_objects_regenerate },
	CU_TEST_INFO_NULL
};

static CU_TestInfo user_tests[] = {
	{ "empty container", test_user_empty },
	{ "after CryptGenKey", test_user_after_gen },
	{ "pkcs11-tool pair, default usage", test_user_foreign_default },
	{ "pkcs11-tool pair, --usage-sign", test_user_foreign_usage_sign },
	{ "sign-only pair", test_user_foreign_sign_only },
	CU_TEST_INFO_NULL
};

static CU_TestInfo persist_tests[] = {
	{ "same process", test_persist_same_process },
	{ "pkcs11-tool", test_persist_pkcs11_tool },
	{ "forked child", test_persist_forked_child },
	{ "new process", test_persist_exec_child },
	CU_TEST_INFO_NULL
};

static CU_TestInfo session_tests[] = {
	{ "algorithms the token has", test_session_algs },
	{ "refused algorithms", test_session_bad_algs },
	{ "lengths in HIWORD", test_session_lengths },
	{ "session objects only", test_session_not_on_token },
	CU_TEST_INFO_NULL
};

static CU_TestInfo verify_tests[] = {
	{ "with PIN", test_verify_with_pin },
	{ "without PIN", test_verify_without_pin },
	{ "PROV_RSA_AES without PIN", test_verify_aes_type },
	CU_TEST_INFO_NULL
};

static CU_TestInfo handles_tests[] = {
	{ "destroy a session key", test_destroy_session_key },
	{ "destroy a container key handle", test_destroy_container_key },
	{ "duplicate", test_duplicate },
	{ "duplicate, bad arguments", test_duplicate_bad_args },
	{ "release invalidates keys", test_release_invalidates_keys },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "RSA key pairs", gen_init, NULL, NULL, NULL, gen_tests },
	{ "token objects", objs_init, NULL, NULL, NULL, objs_tests },
	{ "CryptGetUserKey", user_init, NULL, NULL, NULL, user_tests },
	{ "persistence", persist_init, NULL, NULL, NULL, persist_tests },
	{ "session keys", session_init, session_cleanup, NULL, NULL, session_tests },
	{ "verify contexts", verify_init, NULL, NULL, NULL, verify_tests },
	{ "key handles", handles_init, NULL, NULL, NULL, handles_tests },
	CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
	static const char conf[] = "[capi11]\n";
	char *conf_path;
	ssize_t len;
	int rc;

	/* The helper modes run in the fixture environment of the parent,
	 * which they inherit: they must not make one of their own. */
	if (argc >= 2 && strcmp(argv[1], HELPER_SIGN_PAIR) == 0)
		return helper_sign_pair(argc, argv);
	if (argc >= 2 && strcmp(argv[1], HELPER_USER_KEY) == 0)
		return helper_user_key(argc, argv);
	if (argc >= 2 && strcmp(argv[1], HELPER_OBJECTS) == 0)
		return helper_objects(argc, argv);
	if (argc >= 2 && strcmp(argv[1], HELPER_MECHANISMS) == 0)
		return helper_mechanisms(argc, argv);

	if (!fixture_init()) {
		printf("SKIP: SoftHSM is not installed\n");
		return CUTEST_SKIP;
	}
	len = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
	if (len <= 0)
		return FIXTURE_HARD_ERROR;
	self_exe[len] = '\0';
	/* Built-in defaults only (1024-bit RSA, plain exportable keys), whatever
	 * the machine's capi11.conf says. */
	conf_path = fixture_write_file("capi11.conf", conf, sizeof conf - 1);
	if (conf_path == NULL || setenv("CAPI11_CONF", conf_path, 1) != 0)
		return FIXTURE_HARD_ERROR;
	free(conf_path);

	for (size_t i = 0; i < sizeof all_tokens / sizeof *all_tokens; i++)
		suite_token_make(all_tokens[i]);
	rc = cutest_run(suites);
	for (size_t i = 0; i < sizeof all_tokens / sizeof *all_tokens; i++)
		suite_token_free(all_tokens[i]);
	fixture_cleanup(rc == 0);
	return rc;
}
