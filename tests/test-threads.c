/* Threads and fork against the public API on a throwaway SoftHSM token.
 * Windows programs call CryptoAPI from any thread: contexts are
 * independent, one context may be shared, GetLastError is per thread
 * (SPEC 1), and a handle released under another thread's feet is
 * ERROR_INVALID_PARAMETER, never a crash (SPEC 2). After fork, state
 * from before the fork is dead in the child, which starts afresh on the
 * same token, while the parent carries on.
 *
 * Every loop is bounded by a count, never by time, and threads only count
 * failures: the CUnit assertions run in the main thread, as CUnit is not
 * thread-safe. */
#include "config.h"
#include "cutest.h"
#include "fixture.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wincrypt.h>

/* winerror.h and wincrypt.h values written out, so that a wrong constant
 * in the public header cannot make the test agree with the code. */
#define V_ERROR_INVALID_PARAMETER 87u
#define V_PROV_RSA_AES 24u
#define V_CALG_AES_256 0x6610u

#define SENTINEL 0x5eed5eedu
#define MAX_THREADS 4
#define LOOPS 50

static char *token_label, *token_uri;

/* Both suites share one token: SoftHSM reads its token directory at
 * C_Initialize only, so a token made once capi11 has loaded it would stay
 * invisible. */
static int suite_init(void)
{
	if (token_uri != NULL)
		return 0;
	if (!fixture_init()) {
		cutest_skip("SoftHSM is not installed");
		return 0;
	}
	token_label = fixture_label_new("threads");
	if (token_label == NULL || fixture_token_new(token_label) != 0)
		return -1;
	token_uri = fixture_token_uri(token_label);
	return token_uri ? 0 : -1;
}

/* ---- Workers ---- */

struct worker {
	pthread_t thread;
	pthread_barrier_t *start;
	/* Own context: acquired by the thread with these, released at its end.
	 * Shared context: prov is set and stays the caller's. */
	const char *container;         /* NULL: CRYPT_VERIFYCONTEXT */
	HCRYPTPROV prov;
	bool acquire_cycles;           /* also acquire and release each loop */
	unsigned loops, done;
	unsigned failures;
	const char *first_step;        /* the first failure, for the report */
	DWORD first_error;
};

static void worker_fail(struct worker *w, const char *step)
{
	if (w->failures++ == 0) {
		w->first_step = step;
		w->first_error = GetLastError();
	}
}

/* The first failure of each worker, printed by the main thread. */
static void workers_report(struct worker *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (w[i].failures > 0)
			fprintf(stderr, "\n  thread %u: %u failures, first %s: 0x%08x\n", i,
				w[i].failures, w[i].first_step, (unsigned)w[i].first_error);
	}
}

static bool random_looks_random(const BYTE *a, const BYTE *b, size_t len)
{
	static const BYTE zero[64];

	return memcmp(a, zero, len) != 0 && memcmp(a, b, len) != 0;
}

/* One round on a context: a session key made, measured and dropped, and
 * random bytes read. */
static void worker_round(struct worker *w, HCRYPTPROV h, BYTE prev[32])
{
	HCRYPTKEY k = 0;
	BYTE buf[32];
	DWORD bits = 0, len = sizeof bits;

	SetLastError(SENTINEL);
	if (!CryptGenKey(h, V_CALG_AES_256, 0, &k)) {
		worker_fail(w, "CryptGenKey");
		return;
	}
	if (!CryptGetKeyParam(k, KP_KEYLEN, (BYTE *)&bits, &len, 0))
		worker_fail(w, "CryptGetKeyParam");
	else if (len != sizeof bits || bits != 256)
		worker_fail(w, "KP_KEYLEN value");
	if (!CryptGenRandom(h, sizeof buf, buf))
		worker_fail(w, "CryptGenRandom");
	else if (!random_looks_random(buf, prev, sizeof buf))
		worker_fail(w, "CryptGenRandom value");
	memcpy(prev, buf, sizeof buf);
	if (!CryptDestroyKey(k))
		worker_fail(w, "CryptDestroyKey");
}

static bool worker_acquire(struct worker *w, HCRYPTPROV *h, DWORD flags)
{
	*h = 0;
	SetLastError(SENTINEL);
	if (!CryptAcquireContextA(h, w->container, token_uri, V_PROV_RSA_AES,
				  w->container ? flags : CRYPT_VERIFYCONTEXT)) {
		worker_fail(w, flags & CRYPT_NEWKEYSET ? "CryptAcquireContextA(NEWKEYSET)"
			    : "CryptAcquireContextA");
		return false;
	}
	return true;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	HCRYPTPROV h = w->prov, cycle;
	bool own = h == 0;
	BYTE prev[32] = { 0 };

	/* All threads acquire at once: that is the contended moment. */
	if (w->start)
		pthread_barrier_wait(w->start);
	if (own && !worker_acquire(w, &h, CRYPT_NEWKEYSET))
		return NULL;
	for (unsigned i = 0; i < w->loops; i++) {
		worker_round(w, h, prev);
		if (w->acquire_cycles && worker_acquire(w, &cycle, 0)) {
			BYTE buf[16];

			if (!CryptGenRandom(cycle, sizeof buf, buf))
				worker_fail(w, "CryptGenRandom (cycle)");
			if (!CryptReleaseContext(cycle, 0))
				worker_fail(w, "CryptReleaseContext (cycle)");
		}
		w->done++;
	}
	if (own && !CryptReleaseContext(h, 0))
		worker_fail(w, "CryptReleaseContext");
	return NULL;
}

/* Starts n workers, waits for them and asserts that every call of every
 * thread succeeded and every loop ran. */
static void workers_run(struct worker *w, unsigned n)
{
	pthread_barrier_t start;

	CU_ASSERT_EQUAL_FATAL(pthread_barrier_init(&start, NULL, n), 0);
	for (unsigned i = 0; i < n; i++) {
		w[i].start = &start;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&w[i].thread, NULL, worker_run, &w[i]), 0);
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	pthread_barrier_destroy(&start);

	workers_report(w, n);
	for (unsigned i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(w[i].failures, 0);
		CU_ASSERT_EQUAL(w[i].done, w[i].loops);
	}
}

static void run_verify(unsigned n)
{
	struct worker w[MAX_THREADS];

	memset(w, 0, sizeof w);
	for (unsigned i = 0; i < n; i++) {
		w[i].loops = LOOPS;
		w[i].acquire_cycles = true;
	}
	workers_run(w, n);
}

static void test_verify_2(void)
{
	run_verify(2);
}

static void test_verify_4(void)
{
	run_verify(4);
}

/* Each thread creates its own container (CRYPT_NEWKEYSET, all at once),
 * works in it and reopens it (flags 0) each loop; the containers are
 * deleted afterwards, which also proves that each was created. SoftHSM
 * 2.6.1 can fail token-object creation, and a search that meets an object
 * being written, when threads do it at once (upstream #573, SPEC 7): the
 * library has to cope with that, as a Windows program creating keysets
 * from several threads expects every call to work. */
static void run_containers(unsigned n)
{
	struct worker w[MAX_THREADS];
	char *names[MAX_THREADS] = { NULL };

	memset(w, 0, sizeof w);
	for (unsigned i = 0; i < n; i++) {
		names[i] = fixture_label_new("thr");
		CU_ASSERT_PTR_NOT_NULL_FATAL(names[i]);
		w[i].container = names[i];
		w[i].loops = LOOPS;
		w[i].acquire_cycles = true;
	}
	workers_run(w, n);
	for (unsigned i = 0; i < n; i++) {
		HCRYPTPROV h = SENTINEL;

		SetLastError(SENTINEL);
		CU_ASSERT_TRUE(CryptAcquireContextA(&h, names[i], token_uri, V_PROV_RSA_AES,
						    CRYPT_DELETEKEYSET));
		CU_ASSERT_EQUAL(h, 0);
		free(names[i]);
	}
}

static void test_containers_2(void)
{
	run_containers(2);
}

static void test_containers_4(void)
{
	run_containers(4);
}

/* One hProv used by two threads at once: calls on one context are
 * serialised by the library, not by the caller. */
static void test_shared_context(void)
{
	struct worker w[2];
	HCRYPTPROV h = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, token_uri, V_PROV_RSA_AES,
						  CRYPT_VERIFYCONTEXT));
	memset(w, 0, sizeof w);
	for (unsigned i = 0; i < 2; i++) {
		w[i].prov = h;
		w[i].loops = LOOPS * 2;
	}
	workers_run(w, 2);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- GetLastError is per thread ---- */

struct last_error_probe {
	pthread_barrier_t *barrier;
	DWORD mine;
	DWORD seen_after_set, seen_after_other_failed;
	bool fail_a_call;
};

static void *last_error_run(void *arg)
{
	struct last_error_probe *p = arg;

	SetLastError(p->mine);
	/* Both threads have set their value before either reads it. */
	pthread_barrier_wait(p->barrier);
	p->seen_after_set = GetLastError();
	pthread_barrier_wait(p->barrier);
	/* One thread makes the library fail: only its own value changes. */
	if (p->fail_a_call && !CryptReleaseContext(0, 0))
		p->mine = GetLastError();
	pthread_barrier_wait(p->barrier);
	p->seen_after_other_failed = GetLastError();
	return NULL;
}

static void test_last_error_thread_local(void)
{
	pthread_barrier_t barrier;
	struct last_error_probe a = { .mine = 111, .fail_a_call = true };
	struct last_error_probe b = { .mine = 222 };
	pthread_t ta, tb;

	CU_ASSERT_EQUAL_FATAL(pthread_barrier_init(&barrier, NULL, 2), 0);
	a.barrier = b.barrier = &barrier;
	SetLastError(333);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&ta, NULL, last_error_run, &a), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&tb, NULL, last_error_run, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&barrier);

	CU_ASSERT_EQUAL(a.seen_after_set, 111);
	CU_ASSERT_EQUAL(b.seen_after_set, 222);
	CU_ASSERT_EQUAL(a.mine, V_ERROR_INVALID_PARAMETER);
	CU_ASSERT_EQUAL(a.seen_after_other_failed, V_ERROR_INVALID_PARAMETER);
	CU_ASSERT_EQUAL(b.seen_after_other_failed, 222);
	/* The main thread's value was never touched either. */
	CU_ASSERT_EQUAL(GetLastError(), 333);
}

/* ---- Release under another thread's feet ---- */

#define RACE_ROUNDS 20
/* The user thread goes on until it has seen the release, then makes
 * RACE_AFTER more rounds; RACE_CAP only bounds a release that never comes. */
#define RACE_AFTER 20
#define RACE_CAP 100000

struct race {
	HCRYPTPROV prov;
	HCRYPTKEY key;
	atomic_uint progress;
	atomic_bool released;          /* set once CryptReleaseContext returned */
	atomic_bool user_done;
	unsigned rounds_after_release;
	unsigned bad_errors;           /* failures other than ERROR_INVALID_PARAMETER */
	unsigned used_after_release;   /* successes that started after the release */
	unsigned failed;
	DWORD first_bad;
	const char *first_bad_call;
};

static void race_note(struct race *r, bool ok, bool released_before, const char *call)
{
	DWORD err = GetLastError();

	if (ok) {
		r->used_after_release += released_before;
		if (released_before && r->first_bad_call == NULL)
			r->first_bad_call = call;
		return;
	}
	r->failed++;
	if (err != V_ERROR_INVALID_PARAMETER) {
		if (r->bad_errors++ == 0) {
			r->first_bad = err;
			r->first_bad_call = call;
		}
	}
}

/* Uses the context and its key while the main thread releases them. */
static void *race_user(void *arg)
{
	struct race *r = arg;

	for (unsigned i = 0; i < RACE_CAP && r->rounds_after_release < RACE_AFTER; i++) {
		bool before;
		DWORD bits, len;
		HCRYPTKEY k2, dup;
		BYTE buf[16];
		BOOL ok;

		before = atomic_load(&r->released);
		len = sizeof bits;
		SetLastError(SENTINEL);
		ok = CryptGetKeyParam(r->key, KP_KEYLEN, (BYTE *)&bits, &len, 0);
		race_note(r, ok, before, "CryptGetKeyParam");

		before = atomic_load(&r->released);
		SetLastError(SENTINEL);
		ok = CryptGenRandom(r->prov, sizeof buf, buf);
		race_note(r, ok, before, "CryptGenRandom");

		before = atomic_load(&r->released);
		SetLastError(SENTINEL);
		ok = CryptGenKey(r->prov, V_CALG_AES_256, 0, &k2);
		race_note(r, ok, before, "CryptGenKey");
		if (ok) {
			/* The context may have gone meanwhile, taking k2 along. */
			SetLastError(SENTINEL);
			ok = CryptDestroyKey(k2);
			race_note(r, ok, false, "CryptDestroyKey(new)");
		}

		before = atomic_load(&r->released);
		SetLastError(SENTINEL);
		ok = CryptDuplicateKey(r->key, NULL, 0, &dup);
		race_note(r, ok, before, "CryptDuplicateKey");
		if (ok) {
			SetLastError(SENTINEL);
			ok = CryptDestroyKey(dup);
			race_note(r, ok, false, "CryptDestroyKey(dup)");
		}
		atomic_fetch_add(&r->progress, 1);
		r->rounds_after_release += atomic_load(&r->released);
	}
	atomic_store(&r->user_done, true);
	return NULL;
}

/* Releases the context at a different point of the other thread's work
 * each round. Every call of the other thread succeeds or fails
 * ERROR_INVALID_PARAMETER, and none that starts after the release
 * succeeds. */
static void test_release_while_in_use(void)
{
	for (unsigned round = 0; round < RACE_ROUNDS; round++) {
		struct race r;
		pthread_t user;
		unsigned release_at = (round * 7) % 40;

		memset(&r, 0, sizeof r);
		atomic_init(&r.progress, 0);
		atomic_init(&r.released, false);
		atomic_init(&r.user_done, false);
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&r.prov, NULL, token_uri, V_PROV_RSA_AES,
							  CRYPT_VERIFYCONTEXT));
		CU_ASSERT_TRUE_FATAL(CryptGenKey(r.prov, V_CALG_AES_256, 0, &r.key));
		CU_ASSERT_EQUAL_FATAL(pthread_create(&user, NULL, race_user, &r), 0);

		/* Bounded: the user thread ends after RACE_CAP rounds. */
		while (atomic_load(&r.progress) < release_at && !atomic_load(&r.user_done))
			sched_yield();
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE(CryptReleaseContext(r.prov, 0));
		atomic_store(&r.released, true);
		pthread_join(user, NULL);

		if (r.bad_errors > 0 || r.used_after_release > 0)
			fprintf(stderr, "\n  round %u: %u bad errors (first %s: 0x%08x), %u used after release\n",
				round, r.bad_errors, r.first_bad_call ? r.first_bad_call : "-",
				(unsigned)r.first_bad, r.used_after_release);
		CU_ASSERT_EQUAL(r.bad_errors, 0);
		CU_ASSERT_EQUAL(r.used_after_release, 0);
		/* The other thread was still calling when the release came, and
		 * its calls after it failed. */
		if (r.rounds_after_release != RACE_AFTER)
			fprintf(stderr, "\n  round %u: %u rounds after the release, progress %u, failed %u\n",
				round, r.rounds_after_release, atomic_load(&r.progress), r.failed);
		CU_ASSERT_EQUAL(r.rounds_after_release, RACE_AFTER);
		CU_ASSERT(r.failed > 0);
		/* Once released, the handles stay dead. */
		SetLastError(SENTINEL);
		CU_ASSERT_FALSE(CryptDestroyKey(r.key));
		CU_ASSERT_EQUAL(GetLastError(), V_ERROR_INVALID_PARAMETER);
		SetLastError(SENTINEL);
		CU_ASSERT_FALSE(CryptReleaseContext(r.prov, 0));
		CU_ASSERT_EQUAL(GetLastError(), V_ERROR_INVALID_PARAMETER);
	}
}

/* ---- fork ---- */

/* What the child found, one bit per failed check, as its exit status. */
enum child_check {
	CHILD_OLD_PROV_DEAD = 1 << 0,     /* inherited hProv: ERROR_INVALID_PARAMETER */
	CHILD_OLD_KEY_DEAD = 1 << 1,      /* inherited hKey: ERROR_INVALID_PARAMETER */
	CHILD_ACQUIRE = 1 << 2,           /* a new context on the same container */
	CHILD_USER_KEY = 1 << 3,          /* CryptGetUserKey finds the parent's key */
	CHILD_USER_KEY_LEN = 1 << 4,      /* ... 1024 bits */
	CHILD_WORKS = 1 << 5,             /* CryptGenKey and CryptGenRandom */
	CHILD_RELEASE = 1 << 6,
	CHILD_OLD_PROV_STILL_DEAD = 1 << 7,
};

static const char *const child_check_names[] = {
	"inherited hProv not ERROR_INVALID_PARAMETER",
	"inherited hKey not ERROR_INVALID_PARAMETER",
	"new context in the child failed",
	"CryptGetUserKey in the child failed",
	"user key length wrong in the child",
	"CryptGenKey/CryptGenRandom failed in the child",
	"CryptReleaseContext failed in the child",
	"inherited hProv came back to life",
};

static bool fails_invalid_parameter(BOOL ok)
{
	return !ok && GetLastError() == V_ERROR_INVALID_PARAMETER;
}

/* The child cannot assert: it says what went wrong and sets a bit. */
static int child_failed(enum child_check check)
{
	unsigned i = 0;

	while ((1u << i) != (unsigned)check)
		i++;
	fprintf(stderr, "\n  child: %s (last error 0x%08x)\n", child_check_names[i],
		(unsigned)GetLastError());
	return check;
}

static int child_run(const char *container, HCRYPTPROV old_prov, HCRYPTKEY old_key)
{
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0, s = 0;
	DWORD type, bits = 0, len;
	BYTE buf[32];
	int failed = 0;

	len = sizeof type;
	SetLastError(SENTINEL);
	if (!fails_invalid_parameter(CryptGetProvParam(old_prov, PP_PROVTYPE, (BYTE *)&type, &len, 0)))
		failed |= child_failed(CHILD_OLD_PROV_DEAD);
	len = sizeof bits;
	SetLastError(SENTINEL);
	if (!fails_invalid_parameter(CryptGetKeyParam(old_key, KP_KEYLEN, (BYTE *)&bits, &len, 0)))
		failed |= child_failed(CHILD_OLD_KEY_DEAD);

	SetLastError(SENTINEL);
	if (!CryptAcquireContextA(&h, container, token_uri, V_PROV_RSA_AES, 0))
		return failed | child_failed(CHILD_ACQUIRE);
	if (!CryptGetUserKey(h, AT_KEYEXCHANGE, &k)) {
		failed |= child_failed(CHILD_USER_KEY);
	} else {
		len = sizeof bits;
		if (!CryptGetKeyParam(k, KP_KEYLEN, (BYTE *)&bits, &len, 0) || bits != 1024)
			failed |= child_failed(CHILD_USER_KEY_LEN);
		CryptDestroyKey(k);
	}
	SetLastError(SENTINEL);
	if (!CryptGenKey(h, V_CALG_AES_256, 0, &s) || !CryptGenRandom(h, sizeof buf, buf))
		failed |= child_failed(CHILD_WORKS);
	else
		CryptDestroyKey(s);

	len = sizeof type;
	SetLastError(SENTINEL);
	if (!fails_invalid_parameter(CryptGetProvParam(old_prov, PP_PROVTYPE, (BYTE *)&type, &len, 0)))
		failed |= child_failed(CHILD_OLD_PROV_STILL_DEAD);
	SetLastError(SENTINEL);
	if (!CryptReleaseContext(h, 0))
		failed |= child_failed(CHILD_RELEASE);
	return failed;
}

/* The parent's container key, made before the fork, is found by a new
 * context in the child; the child's module restart leaves the parent's
 * context working. */
static void test_fork(void)
{
	char *container = fixture_label_new("fork");
	HCRYPTPROV h = 0;
	HCRYPTKEY kx = 0, k = 0, s = 0;
	DWORD bits = 0, len;
	BYTE buf[32];
	int status = 0;
	pid_t pid;

	CU_ASSERT_PTR_NOT_NULL_FATAL(container);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, container, token_uri, V_PROV_RSA_AES,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024u << 16, &kx));

	fflush(NULL);
	pid = fork();
	CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
	if (pid == 0)
		_exit(child_run(container, h, kx));
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status));
	/* The child printed what failed; the bits say the same. */
	if (WIFEXITED(status))
		CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);

	/* The parent is unaffected by what the child did. */
	len = sizeof bits;
	CU_ASSERT_TRUE(CryptGetKeyParam(kx, KP_KEYLEN, (BYTE *)&bits, &len, 0));
	CU_ASSERT_EQUAL(bits, 1024);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	CU_ASSERT_TRUE(CryptGenKey(h, V_CALG_AES_256, 0, &s));
	CU_ASSERT_TRUE(CryptGenRandom(h, sizeof buf, buf));
	if (GetLastError() != SENTINEL)
		fprintf(stderr, "\n  parent after fork: 0x%08x\n", (unsigned)GetLastError());
	CU_ASSERT_TRUE(CryptDestroyKey(s));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptDestroyKey(kx));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, container, token_uri, V_PROV_RSA_AES,
					    CRYPT_DELETEKEYSET));
	free(container);
}

static CU_TestInfo context_tests[] = {
	{ "2 threads, verify contexts", test_verify_2 },
	{ "4 threads, verify contexts", test_verify_4 },
	{ "2 threads, own containers", test_containers_2 },
	{ "4 threads, own containers", test_containers_4 },
	{ "one context, two threads", test_shared_context },
	{ "GetLastError is per thread", test_last_error_thread_local },
	{ "release while another thread uses it", test_release_while_in_use },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo fork_tests[] = {
	{ "fork: child starts afresh, parent carries on", test_fork },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "threads", suite_init, NULL, NULL, NULL, context_tests },
	{ "fork", suite_init, NULL, NULL, NULL, fork_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc = cutest_run(suites);

	free(token_uri);
	free(token_label);
	fixture_cleanup(rc == 0 || rc == CUTEST_SKIP);
	return rc;
}
