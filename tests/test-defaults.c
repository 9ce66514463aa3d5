/* Default providers per type: CryptGetDefaultProvider, CryptSetProvider,
 * CryptSetProviderEx (A and W) over a scratch system file and a scratch
 * $XDG_CONFIG_HOME. Expected answers are advapi32's (Wine's
 * implementation and its conformance tests on Windows: argument order,
 * CRYPT_DELETE_DEFAULT alone is NTE_BAD_FLAGS, an unknown provider
 * NTE_BAD_PROVIDER) and Windows' registered defaults (type 1: "Microsoft
 * Strong Cryptographic Provider", type 24: "Microsoft Enhanced RSA and
 * AES Cryptographic Provider"). Edited files are compared with the text
 * the test expects, built here, byte for byte. */
#include "config.h"
#include <wincrypt.h>

#include "conffile.h"
#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *label;
static char *uri;
static char sys_path[512], xdg[512], user_path[600];
static char *sys_text;

static char *file_text(const char *path)
{
	DWORD len = 0;
	BYTE *b = testutil_file_read(path, &len);
	char *s;

	if (b == NULL)
		return NULL;
	s = malloc(len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memcpy(s, b, len);
	s[len] = '\0';
	free(b);
	return s;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	CU_ASSERT_EQUAL(fclose(f), 0);
	CU_ASSERT_EQUAL(chmod(path, mode), 0);
}

static void get_default(DWORD type, DWORD flags, char *out, DWORD size)
{
	DWORD len = size;

	out[0] = '\0';
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGetDefaultProviderA(type, NULL, flags, out, &len));
	CU_ASSERT_EQUAL(len, strlen(out) + 1);
}

/* PP_NAME of a verify context acquired with no provider name. */
static void acquired_name(DWORD type, char *out, DWORD size)
{
	HCRYPTPROV h = 0;
	DWORD len = size;

	out[0] = '\0';
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, NULL, type, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_NAME, (BYTE *)out, &len, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static int suite_init(void)
{
	char text[4096];
	int n;

	snprintf(sys_path, sizeof sys_path, "%s/system", fixture_dir());
	snprintf(xdg, sizeof xdg, "%s/xdg", fixture_dir());
	if (mkdir(sys_path, 0755) != 0)
		return -1;
	strcat(sys_path, "/capi11.conf");
	snprintf(user_path, sizeof user_path, "%s/capi11/capi11.conf", xdg);
	n = snprintf(text, sizeof text,
		     "# system configuration: every comment stays\n"
		     "; another comment\n"
		     "\n"
		     "[capi11]\n"
		     "trace = 0   # an inline comment\n"
		     "default-provider = beta\n"
		     "\n"
		     "[provider \"alpha\"]\n"
		     "uri = %s\n"
		     "type = 1\n"
		     "\n"
		     "# between sections\n"
		     "[provider \"beta\"]\n"
		     "uri = %s\n"
		     "type = rsa_aes\n", uri, uri);
	if (n < 0 || (size_t)n >= sizeof text)
		return -1;
	sys_text = strdup(text);
	setenv("CAPI11_CONF", sys_path, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	{
		FILE *f = fopen(sys_path, "w");

		if (f == NULL || fputs(sys_text, f) < 0 || fclose(f) != 0 ||
		    chmod(sys_path, 0600) != 0)
			return -1;
	}
	return 0;
}

static int suite_clean(void)
{
	setenv("CAPI11_CONF", "/dev/null", 1);
	free(sys_text);
	return 0;
}

/* sys_text with line inserted right after its "[capi11]\n". */
static char *sys_text_with(const char *line)
{
	const char *at = strstr(sys_text, "[capi11]\n") + strlen("[capi11]\n");
	size_t head = (size_t)(at - sys_text);
	char *s = malloc(strlen(sys_text) + strlen(line) + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memcpy(s, sys_text, head);
	strcpy(s + head, line);
	strcat(s, at);
	return s;
}

static void test_machine_default(void)
{
	char name[256], *text, *want;
	DWORD len;

	/* Nothing set: default-provider where it serves the type (beta,
	 * PROV_RSA_AES), else Windows' registered default, which capi11's
	 * default provider serves; none for a type capi11 does not serve. */
	get_default(PROV_RSA_FULL, CRYPT_MACHINE_DEFAULT, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, "Microsoft Strong Cryptographic Provider");
	get_default(PROV_RSA_AES, 0, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, "beta");
	len = sizeof name;
	CHECK_FAILS_WITH(CryptGetDefaultProviderA(PROV_DSS, NULL, CRYPT_MACHINE_DEFAULT, name, &len),
			 NTE_PROV_TYPE_NOT_DEF);
	CHECK_FAILS_WITH(CryptGetDefaultProviderA(PROV_RSA_FULL, NULL, CRYPT_USER_DEFAULT, name,
						  &len), NTE_PROV_TYPE_NOT_DEF);

	/* Set: one line more, under [capi11]; everything else as it was. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptSetProviderExA("alpha", PROV_RSA_FULL, NULL, CRYPT_MACHINE_DEFAULT));
	text = file_text(sys_path);
	want = sys_text_with("default-provider-1 = \"alpha\"\n");
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
	free(want);
	get_default(PROV_RSA_FULL, CRYPT_MACHINE_DEFAULT, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, "alpha");
	acquired_name(PROV_RSA_FULL, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, "alpha");
	/* Replaced in place. */
	CU_ASSERT_TRUE(CryptSetProviderExA(MS_DEF_PROV_A, PROV_RSA_FULL, NULL,
					   CRYPT_MACHINE_DEFAULT));
	text = file_text(sys_path);
	want = sys_text_with("default-provider-1 = \"" MS_DEF_PROV_A "\"\n");
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
	free(want);

	/* Not a provider of that type: NTE_BAD_PROVIDER, the file unchanged. */
	CHECK_FAILS_WITH(CryptSetProviderExA("beta", PROV_RSA_FULL, NULL, CRYPT_MACHINE_DEFAULT),
			 NTE_BAD_PROVIDER);
	CHECK_FAILS_WITH(CryptSetProviderExA("gamma", PROV_RSA_FULL, NULL, CRYPT_MACHINE_DEFAULT),
			 NTE_BAD_PROVIDER);
	CHECK_FAILS_WITH(CryptSetProviderExA(MS_ENH_RSA_AES_PROV_A, PROV_RSA_FULL, NULL,
					     CRYPT_MACHINE_DEFAULT), NTE_BAD_PROVIDER);

	/* Deleted: the file is byte for byte what it was. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptSetProviderExA("whatever", PROV_RSA_FULL, NULL,
					   CRYPT_MACHINE_DEFAULT | CRYPT_DELETE_DEFAULT));
	text = file_text(sys_path);
	CU_ASSERT_STRING_EQUAL(text, sys_text);
	free(text);
	get_default(PROV_RSA_FULL, CRYPT_MACHINE_DEFAULT, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, "Microsoft Strong Cryptographic Provider");
}

static void test_user_default(void)
{
	static const WCHAR beta16[] = { 'b', 'e', 't', 'a', 0 };
	char name[256], *text;
	WCHAR wname[64];
	struct stat st;
	DWORD len;

	/* CryptSetProvider is the user's default (CryptSetProviderEx with
	 * CRYPT_USER_DEFAULT); the file and its folder are the user's alone. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptSetProviderA("beta", PROV_RSA_AES));
	CU_ASSERT_EQUAL_FATAL(stat(user_path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	text = file_text(user_path);
	CU_ASSERT_STRING_EQUAL(text, "[capi11]\ndefault-provider-24 = \"beta\"\n");
	free(text);
	get_default(PROV_RSA_AES, CRYPT_USER_DEFAULT, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, "beta");
	/* The machine's is unchanged, the system file untouched. */
	get_default(PROV_RSA_AES, CRYPT_MACHINE_DEFAULT, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, "beta");
	text = file_text(sys_path);
	CU_ASSERT_STRING_EQUAL(text, sys_text);
	free(text);

	/* The user's default comes before the machine's (here a Microsoft
	 * name, which default-provider, beta, serves). */
	CU_ASSERT_TRUE(CryptSetProviderExA(MS_ENH_RSA_AES_PROV_A, PROV_RSA_AES, NULL,
					   CRYPT_MACHINE_DEFAULT));
	acquired_name(PROV_RSA_AES, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, "beta");
	/* CRYPT_USER_DEFAULT wins when both are given (advapi32). */
	CU_ASSERT_TRUE(CryptSetProviderExA("beta", PROV_RSA_AES, NULL,
					   CRYPT_USER_DEFAULT | CRYPT_MACHINE_DEFAULT |
					   CRYPT_DELETE_DEFAULT));
	len = sizeof name;
	CHECK_FAILS_WITH(CryptGetDefaultProviderA(PROV_RSA_AES, NULL, CRYPT_USER_DEFAULT, name,
						  &len), NTE_PROV_TYPE_NOT_DEF);
	acquired_name(PROV_RSA_AES, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, MS_ENH_RSA_AES_PROV_A);
	CU_ASSERT_TRUE(CryptSetProviderExA(MS_ENH_RSA_AES_PROV_A, PROV_RSA_AES, NULL,
					   CRYPT_MACHINE_DEFAULT | CRYPT_DELETE_DEFAULT));
	text = file_text(sys_path);
	CU_ASSERT_STRING_EQUAL(text, sys_text);
	free(text);

	/* The W forms, sizes in bytes. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptSetProviderExW(beta16, PROV_RSA_AES, NULL, CRYPT_USER_DEFAULT));
	len = 0;
	CU_ASSERT_TRUE(CryptGetDefaultProviderW(PROV_RSA_AES, NULL, CRYPT_USER_DEFAULT, NULL, &len));
	CU_ASSERT_EQUAL(len, sizeof beta16);
	len = 4;
	CHECK_FAILS_WITH(CryptGetDefaultProviderW(PROV_RSA_AES, NULL, CRYPT_USER_DEFAULT, wname,
						  &len), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, sizeof beta16);
	len = sizeof wname;
	CU_ASSERT_TRUE(CryptGetDefaultProviderW(PROV_RSA_AES, NULL, CRYPT_USER_DEFAULT, wname, &len));
	CU_ASSERT_EQUAL(len, sizeof beta16);
	CU_ASSERT_EQUAL(memcmp(wname, beta16, sizeof beta16), 0);
	CU_ASSERT_TRUE(CryptSetProviderW(beta16, PROV_RSA_AES));
	CU_ASSERT_TRUE(CryptSetProviderExW(beta16, PROV_RSA_AES, NULL,
					   CRYPT_USER_DEFAULT | CRYPT_DELETE_DEFAULT));
	text = file_text(user_path);
	CU_ASSERT_STRING_EQUAL(text, "[capi11]\n");
	free(text);
}

static void test_arguments(void)
{
	static const WCHAR lone[] = { 'b', 0xd800, 0 };
	char name[64];
	DWORD len = sizeof name, reserved = 0;

	/* advapi32's order: pointers, then flags, then the type. */
	CHECK_FAILS_WITH(CryptGetDefaultProviderA(PROV_RSA_FULL, &reserved, 0x100, name, &len),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptGetDefaultProviderA(PROV_RSA_FULL, NULL, 0, name, NULL),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptGetDefaultProviderA(1000, NULL, 0x100, name, &len), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptGetDefaultProviderA(1000, NULL, 0, name, &len), NTE_BAD_PROV_TYPE);
	CHECK_FAILS_WITH(CryptSetProviderExA(NULL, 1000, NULL, 0x100), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSetProviderExA("alpha", 1, &reserved, 0x100), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSetProviderExA("alpha", 1000, NULL, 0x100), NTE_BAD_PROV_TYPE);
	CHECK_FAILS_WITH(CryptSetProviderExA("alpha", 1, NULL, 0x100), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptSetProviderExA("alpha", 1, NULL, CRYPT_DELETE_DEFAULT), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptSetProviderA(NULL, 1), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSetProviderExW(lone, 1, NULL, CRYPT_USER_DEFAULT),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSetProviderW(NULL, 1), ERROR_INVALID_PARAMETER);
}

static void test_not_writable(void)
{
	char link_path[600], *text;
	struct stat st;

	/* HKLM not writable: ERROR_ACCESS_DENIED. A path that is not a
	 * regular file is never replaced: /dev/null stays the device. */
	setenv("CAPI11_CONF", "/dev/null", 1);
	CHECK_FAILS_WITH(CryptSetProviderExA(MS_STRONG_PROV_A, PROV_RSA_FULL, NULL,
					     CRYPT_MACHINE_DEFAULT), ERROR_ACCESS_DENIED);
	CU_ASSERT_EQUAL(stat("/dev/null", &st), 0);
	CU_ASSERT_TRUE(S_ISCHR(st.st_mode));
	/* Nor is a symbolic link (its target stays as it was). */
	snprintf(link_path, sizeof link_path, "%s/link.conf", fixture_dir());
	CU_ASSERT_EQUAL_FATAL(symlink(sys_path, link_path), 0);
	setenv("CAPI11_CONF", link_path, 1);
	CHECK_FAILS_WITH(CryptSetProviderExA("alpha", PROV_RSA_FULL, NULL, CRYPT_MACHINE_DEFAULT),
			 ERROR_ACCESS_DENIED);
	text = file_text(sys_path);
	CU_ASSERT_STRING_EQUAL(text, sys_text);
	free(text);
	unlink(link_path);
	/* A folder the user may not write, where permissions apply. */
	if (geteuid() != 0) {
		char dir[600], path[700];

		snprintf(dir, sizeof dir, "%s/ro", fixture_dir());
		snprintf(path, sizeof path, "%s/capi11.conf", dir);
		CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
		write_text(path, "[capi11]\n", 0644);
		CU_ASSERT_EQUAL(chmod(dir, 0500), 0);
		setenv("CAPI11_CONF", path, 1);
		CHECK_FAILS_WITH(CryptSetProviderExA(MS_STRONG_PROV_A, PROV_RSA_FULL, NULL,
						     CRYPT_MACHINE_DEFAULT), ERROR_ACCESS_DENIED);
		CU_ASSERT_EQUAL(chmod(dir, 0700), 0);
	}
	setenv("CAPI11_CONF", sys_path, 1);
}

/* Writers in several processes at once; a reader meanwhile. Every read
 * parses and keeps the comment; at the end one line per key. */
static void test_concurrent_writers(void)
{
	enum { WRITERS = 4, ROUNDS = 25 };
	pid_t pids[WRITERS];
	int i, status, bad_reads = 0, reads = 0, live = WRITERS;
	char *text;

	write_text(user_path, "# my defaults\n[capi11]\n# keep me\n", 0600);
	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		CU_ASSERT_NOT_EQUAL_FATAL(pids[i], -1);
		if (pids[i] == 0) {
			int fails = 0;

			for (int r = 0; r < ROUNDS; r++) {
				const char *n = (r + i) % 2 ? "alpha" : MS_DEF_PROV_A;

				if (!CryptSetProviderExA(n, PROV_RSA_FULL, NULL, CRYPT_USER_DEFAULT))
					fails++;
				if (!CryptSetProviderExA("beta", PROV_RSA_AES, NULL,
							 CRYPT_USER_DEFAULT |
							 (r % 3 == 0 ? CRYPT_DELETE_DEFAULT : 0)))
					fails++;
			}
			_exit(fails == 0 ? 0 : 1);
		}
	}
	while (live > 0) {
		struct capi11_config *cfg;

		text = file_text(user_path);
		reads++;
		if (text == NULL || strstr(text, "# my defaults\n") == NULL ||
		    strstr(text, "# keep me\n") == NULL ||
		    (cfg = config_parse(text, strlen(text), NULL)) == NULL)
			bad_reads++;
		else
			config_free(cfg);
		free(text);
		live = 0;
		for (i = 0; i < WRITERS; i++) {
			if (pids[i] == 0)
				continue;
			if (waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
				pids[i] = 0;
			} else {
				live++;
			}
		}
	}
	CU_ASSERT_EQUAL(bad_reads, 0);
	CU_ASSERT_TRUE(reads > 0);
	text = file_text(user_path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	{
		const char *first = strstr(text, "default-provider-1 = ");

		CU_ASSERT_PTR_NOT_NULL(first);
		if (first != NULL)
			CU_ASSERT_PTR_NULL(strstr(first + 1, "default-provider-1 = "));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "# keep me\n"));
	free(text);
}

static CU_TestInfo tests[] = {
	{ "machine default: set, replace, delete", test_machine_default },
	{ "user default over the machine's", test_user_default },
	{ "argument checks", test_arguments },
	{ "a file that may not be written", test_not_writable },
	{ "concurrent writers never tear the file", test_concurrent_writers },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "default providers", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	label = fixture_token_make("defaults");
	uri = fixture_token_uri(label);
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	free(uri);
	free(label);
	return rc;
}
