/* fork() and the library: the child acquires its own contexts and exports
 * from them, with the parent's keys found on the token; contexts and keys
 * inherited from the parent are invalid in the child (README, "Decisions
 * where Windows leaves room": ERROR_INVALID_PARAMETER, what SPEC 2 gives
 * every stale handle); and the parent, whose session objects the child
 * never touches, goes on as if nothing happened, while the child runs and
 * after it has gone.
 *
 * Expected blobs come from openssl (tests/vectors: the MSBLOBs of one RSA
 * key) and from Microsoft's PLAINTEXTKEYBLOB layout. A child cannot use
 * CUnit: it reports failures as bits of its exit status, each printed by
 * name. */
#include "config.h"
#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wincrypt.h>

#define V_ERROR_INVALID_PARAMETER 87u
#define V_PROV_RSA_AES 24u
#define V_CALG_AES_128 0x660eu

/* A child that hangs (a lock taken over from the parent) is killed. */
#define CHILD_SECONDS 20

static char *label, *uri;
static BYTE *priv_blob, *pub_blob, *aes_key;
static DWORD priv_len, pub_len, aes_len;
static BYTE plain_blob[12 + 16];

static bool fails_invalid_parameter(BOOL ok)
{
	return !ok && GetLastError() == V_ERROR_INVALID_PARAMETER;
}

/* What the parent holds when it forks. */
struct parent_state {
	char container[40];
	HCRYPTPROV prov;
	HCRYPTKEY pair, aes;
};

/* ---- The child ---- */

enum child_check {
	CHILD_OLD_PROV = 1 << 0,       /* inherited hProv is ERROR_INVALID_PARAMETER */
	CHILD_OLD_KEYS = 1 << 1,       /* inherited hKeys are ERROR_INVALID_PARAMETER */
	CHILD_ACQUIRE = 1 << 2,        /* a context of its own on the parent's container */
	CHILD_EXPORT_PAIR = 1 << 3,    /* the parent's pair, PUBLIC- and PRIVATEKEYBLOB */
	CHILD_SESSION_KEY = 1 << 4,    /* a session key of its own, in and out */
	CHILD_GENKEY = 1 << 5,         /* a new container with a new pair */
	CHILD_RELEASE_OLD = 1 << 6,    /* inherited handles refuse release and destroy */
	CHILD_OLD_PARTNER = 1 << 7,    /* inherited hExpKey/hPubKey are ERROR_INVALID_PARAMETER */
	CHILD_OLD_HASH_KEY = 1 << 8,   /* ... and so is an inherited key of a hash call */
};

static const char *const child_check_names[] = {
	"inherited hProv usable or wrong error",
	"inherited hKey usable or wrong error",
	"CryptAcquireContext in the child failed",
	"the parent's pair does not export in the child",
	"a session key of the child does not round-trip",
	"CryptGenKey in a new container failed in the child",
	"inherited handles misbehave when released",
	"inherited hExpKey or hPubKey usable or wrong error",
	"an inherited key of a hash call usable or wrong error",
};

static int child_failed(enum child_check check)
{
	unsigned i = 0;

	while ((1u << i) != (unsigned)check)
		i++;
	fprintf(stderr, "\n  child %d: %s (last error 0x%08x)", (int)getpid(),
		child_check_names[i], (unsigned)GetLastError());
	return check;
}

static int child_run(const struct parent_state *p)
{
	HCRYPTPROV h = 0, v = 0, n = 0;
	HCRYPTKEY k = 0, s = 0, g = 0;
	BYTE buf[2048];
	DWORD len = sizeof buf, type = 0;
	char name[64];
	int failed = 0;

	SetLastError(SENTINEL);
	len = sizeof type;
	if (!fails_invalid_parameter(CryptGetProvParam(p->prov, PP_PROVTYPE, (BYTE *)&type, &len, 0)) ||
	    !fails_invalid_parameter(CryptGenKey(p->prov, V_CALG_AES_128, 0, &s)))
		failed |= child_failed(CHILD_OLD_PROV);
	len = sizeof buf;
	if (!fails_invalid_parameter(CryptExportKey(p->aes, 0, PLAINTEXTKEYBLOB, 0, buf, &len)) ||
	    !fails_invalid_parameter(CryptExportKey(p->pair, 0, PUBLICKEYBLOB, 0, buf, &len)) ||
	    !fails_invalid_parameter(CryptExportKey(p->aes, p->pair, SIMPLEBLOB, 0, NULL, &len)))
		failed |= child_failed(CHILD_OLD_KEYS);

	SetLastError(SENTINEL);
	if (!CryptAcquireContextA(&h, p->container, uri, V_PROV_RSA_AES, 0))
		return failed | child_failed(CHILD_ACQUIRE);
	if (!CryptGetUserKey(h, AT_KEYEXCHANGE, &k) ||
	    !testutil_exports_as(k, PUBLICKEYBLOB, pub_blob, pub_len) ||
	    !testutil_exports_as(k, PRIVATEKEYBLOB, priv_blob, priv_len))
		failed |= child_failed(CHILD_EXPORT_PAIR);

	if (!CryptAcquireContextA(&v, NULL, uri, V_PROV_RSA_AES, CRYPT_VERIFYCONTEXT) ||
	    !CryptImportKey(v, plain_blob, sizeof plain_blob, 0, CRYPT_EXPORTABLE, &s) ||
	    !testutil_exports_as(s, PLAINTEXTKEYBLOB, plain_blob, sizeof plain_blob))
		failed |= child_failed(CHILD_SESSION_KEY);

	/* The parent's keys as the second key of the child's call: their
	 * object handles name nothing (or something else) in the child's
	 * session of the token, so they are as stale there as given alone. A
	 * SIMPLEBLOB's header is enough: hPubKey is judged first. */
	{
		static const BYTE simple_hdr[12] = { SIMPLEBLOB, 2, 0, 0, 0x0e, 0x66, 0, 0,
						     0x00, 0xa4, 0, 0 };
		HCRYPTKEY w = 0;

		SetLastError(SENTINEL);
		len = sizeof buf;
		if (s == 0 || k == 0 ||
		    !fails_invalid_parameter(CryptExportKey(s, p->aes, SYMMETRICWRAPKEYBLOB, 0, buf,
							    &len)) ||
		    !fails_invalid_parameter(CryptImportKey(h, simple_hdr, sizeof simple_hdr,
							    p->pair, 0, &w)))
			failed |= child_failed(CHILD_OLD_PARTNER);
		if (w != 0)
			CryptDestroyKey(w);
	}
	/* ... and as the key of the child's hash calls. */
	{
		HCRYPTHASH hh = 0, mac = 0;
		BYTE sig[128] = { 0 };

		SetLastError(SENTINEL);
		if (v == 0 || !CryptCreateHash(v, CALG_SHA_256, 0, 0, &hh) ||
		    !fails_invalid_parameter(CryptHashSessionKey(hh, p->aes, CRYPT_LITTLE_ENDIAN)) ||
		    !fails_invalid_parameter(CryptCreateHash(v, CALG_MAC, p->aes, 0, &mac)) ||
		    !fails_invalid_parameter(CryptVerifySignatureA(hh, sig, sizeof sig, p->pair, NULL,
								   0)))
			failed |= child_failed(CHILD_OLD_HASH_KEY);
		if (mac != 0)
			CryptDestroyHash(mac);
		if (hh != 0)
			CryptDestroyHash(hh);
	}

	snprintf(name, sizeof name, "%s-c%d", p->container, (int)getpid());
	if (!CryptAcquireContextA(&n, name, uri, V_PROV_RSA_AES, CRYPT_NEWKEYSET) ||
	    !CryptGenKey(n, AT_SIGNATURE, 1024u << 16, &g) ||
	    !CryptExportKey(g, 0, PUBLICKEYBLOB, 0, NULL, &len) || len != 20 + 128)
		failed |= child_failed(CHILD_GENKEY);
	if (g != 0)
		CryptDestroyKey(g);
	if (n != 0)
		CryptReleaseContext(n, 0);
	CryptAcquireContextA(&n, name, uri, V_PROV_RSA_AES, CRYPT_DELETEKEYSET);

	/* What the parent left cannot be let go of here either: release and
	 * destroy fail, twice, and the parent's session and objects are not
	 * touched. */
	SetLastError(SENTINEL);
	if (!fails_invalid_parameter(CryptDestroyKey(p->aes)) ||
	    !fails_invalid_parameter(CryptReleaseContext(p->prov, 0)) ||
	    !fails_invalid_parameter(CryptReleaseContext(p->prov, 0)) ||
	    !fails_invalid_parameter(CryptDestroyKey(p->aes)))
		failed |= child_failed(CHILD_RELEASE_OLD);

	if (s != 0)
		CryptDestroyKey(s);
	if (k != 0)
		CryptDestroyKey(k);
	if (v != 0)
		CryptReleaseContext(v, 0);
	CryptReleaseContext(h, 0);
	return failed;
}

/* ---- The parent ---- */

static void parent_setup(struct parent_state *p)
{
	static unsigned seq;

	memset(p, 0, sizeof *p);
	snprintf(p->container, sizeof p->container, "fork-%u", seq++);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&p->prov, p->container, uri, V_PROV_RSA_AES,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(p->prov, priv_blob, priv_len, 0, CRYPT_EXPORTABLE,
					    &p->pair));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(p->prov, plain_blob, sizeof plain_blob, 0,
					    CRYPT_EXPORTABLE, &p->aes));
	/* A SIMPLEBLOB size query answered once is kept with the key and
	 * answered again without the context lock (export.c): the child must
	 * not get it. */
	{
		DWORD len = 0;

		CU_ASSERT_TRUE(CryptExportKey(p->aes, p->pair, SIMPLEBLOB, 0, NULL, &len));
		CU_ASSERT_TRUE(len > 12);
	}
}

/* One round of the parent's work: its session key and its pair export as
 * before, and the context still makes keys. */
static bool parent_round(const struct parent_state *p)
{
	HCRYPTKEY s = 0;
	bool ok;

	DWORD len = 0;

	ok = testutil_exports_as(p->aes, PLAINTEXTKEYBLOB, plain_blob, sizeof plain_blob) &&
	     testutil_exports_as(p->pair, PUBLICKEYBLOB, pub_blob, pub_len) &&
	     CryptExportKey(p->aes, p->pair, SIMPLEBLOB, 0, NULL, &len) && len > 12 &&
	     CryptGenKey(p->prov, V_CALG_AES_128, 0, &s);
	if (s != 0)
		CryptDestroyKey(s);
	return ok;
}

static void parent_teardown(struct parent_state *p)
{
	HCRYPTPROV h;

	CU_ASSERT_TRUE(CryptDestroyKey(p->aes));
	CU_ASSERT_TRUE(CryptDestroyKey(p->pair));
	CU_ASSERT_TRUE(CryptReleaseContext(p->prov, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, p->container, uri, V_PROV_RSA_AES,
					    CRYPT_DELETEKEYSET));
}

static pid_t child_start(const struct parent_state *p)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		alarm(CHILD_SECONDS);
		_exit(child_run(p) != 0);
	}
	return pid;
}

static void child_wait(pid_t pid)
{
	int status = 0;

	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fprintf(stderr, "\n  child killed by signal %d", WTERMSIG(status));
	CU_ASSERT_TRUE(WIFEXITED(status));
	if (WIFEXITED(status))
		CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
}

/* The child does its work; then the parent does its own, unaffected. */
static void test_child_acquires_and_exports(void)
{
	struct parent_state p;
	pid_t pid;

	parent_setup(&p);
	CU_ASSERT_TRUE(parent_round(&p));
	pid = child_start(&p);
	CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
	child_wait(pid);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(parent_round(&p));
	parent_teardown(&p);
}

/* The parent keeps working while the child runs: the child's module
 * restart (C_Finalize, C_Initialize in its own process) and its new
 * sessions take nothing from the parent. */
static void test_parent_works_meanwhile(void)
{
	struct parent_state p;
	unsigned rounds = 0, failed = 0;
	int status = 0;
	pid_t pid, done = 0;

	parent_setup(&p);
	pid = child_start(&p);
	CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
	while (done == 0) {
		if (!parent_round(&p) && failed++ == 0)
			fprintf(stderr, "\n  parent round %u: 0x%08x", rounds,
				(unsigned)GetLastError());
		rounds++;
		done = waitpid(pid, &status, WNOHANG);
	}
	CU_ASSERT_EQUAL(done, pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT(rounds > 0);
	CU_ASSERT_EQUAL(failed, 0);
	parent_teardown(&p);
}

/* Fork after fork: a child's child starts afresh again. */
static void test_grandchild(void)
{
	struct parent_state p;
	int status = 0;
	pid_t pid;

	parent_setup(&p);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
	if (pid == 0) {
		pid_t grandchild;
		int st = 0, failed;

		alarm(CHILD_SECONDS);
		failed = child_run(&p);
		fflush(NULL);
		grandchild = fork();
		if (grandchild == 0)
			_exit(child_run(&p) != 0);
		if (grandchild < 0 || waitpid(grandchild, &st, 0) != grandchild ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
		/* An exit status keeps 8 bits: the checks that failed were
		 * printed by name, the status says whether any did. */
		_exit(failed != 0);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_TRUE(parent_round(&p));
	parent_teardown(&p);
}

/* Threads busy in the library while the process forks: whatever lock a
 * thread held at that moment, the child (which has only the forking
 * thread) must not wait on it for ever. The library's own locks are taken
 * around fork (pthread_atfork in token.c, context.c, handle.c), but
 * SoftHSM 2.6.1 has no such handlers: when a thread was inside SoftHSM at
 * the fork, the child's C_Finalize waits on SoftHSM's mutex for ever.
 * So this test runs only with CAPI11_FORK_BUSY=1, to check the library's
 * part on a module that handles fork, or to see SoftHSM's hang. */
#define BUSY_THREADS 2
#define BUSY_FORKS 8

static atomic_bool busy_stop;

static void *busy_run(void *arg)
{
	unsigned *rounds = arg;

	while (!atomic_load(&busy_stop)) {
		HCRYPTPROV h = 0;
		HCRYPTKEY k = 0;

		if (CryptAcquireContextA(&h, NULL, uri, V_PROV_RSA_AES, CRYPT_VERIFYCONTEXT)) {
			if (CryptImportKey(h, plain_blob, sizeof plain_blob, 0, CRYPT_EXPORTABLE, &k))
				CryptDestroyKey(k);
			CryptReleaseContext(h, 0);
		}
		(*rounds)++;
	}
	return NULL;
}

static void test_fork_with_busy_threads(void)
{
	pthread_t t[BUSY_THREADS];
	unsigned rounds[BUSY_THREADS] = { 0 };
	struct parent_state p;

	parent_setup(&p);
	atomic_store(&busy_stop, false);
	for (unsigned i = 0; i < BUSY_THREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, busy_run, &rounds[i]), 0);
	for (unsigned i = 0; i < BUSY_FORKS; i++) {
		pid_t pid;

		usleep(20000);
		pid = child_start(&p);
		CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
		child_wait(pid);
	}
	atomic_store(&busy_stop, true);
	for (unsigned i = 0; i < BUSY_THREADS; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT(rounds[i] > 0);
	}
	CU_ASSERT_TRUE(parent_round(&p));
	parent_teardown(&p);
}

static int suite_init(void)
{
	static const BYTE head[12] = { 0x08, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00,
				       0x10, 0x00, 0x00, 0x00 };

	if (!fixture_init()) {
		cutest_skip("SoftHSM is not installed");
		return 0;
	}
	priv_blob = testutil_vector_load("rsa1024-priv.blob", &priv_len);
	pub_blob = testutil_vector_load("rsa1024-pub.blob", &pub_len);
	aes_key = testutil_vector_load("aes128.key", &aes_len);
	if (!priv_blob || !pub_blob || !aes_key || aes_len != 16)
		return -1;
	memcpy(plain_blob, head, sizeof head);
	memcpy(plain_blob + 12, aes_key, 16);
	label = fixture_label_new("fork");
	if (label == NULL || fixture_token_new(label) != 0)
		return -1;
	uri = fixture_token_uri(label);
	return uri != NULL ? 0 : -1;
}

static CU_TestInfo tests[] = {
	{ "child acquires and exports, parent unaffected", test_child_acquires_and_exports },
	{ "parent works while the child runs", test_parent_works_meanwhile },
	{ "a child's child starts afresh too", test_grandchild },
	CU_TEST_INFO_NULL,	/* test_fork_with_busy_threads goes here when asked for */
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "fork", suite_init, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	if (getenv("CAPI11_FORK_BUSY") != NULL) {
		tests[3].pName = "fork while other threads are in the library";
		tests[3].pTestFunc = test_fork_with_busy_threads;
	}
	rc = cutest_run(suites);

	fixture_cleanup(rc == 0 || rc == CUTEST_SKIP);
	free(uri);
	free(label);
	free(priv_blob);
	free(pub_blob);
	free(aes_key);
	return rc;
}
