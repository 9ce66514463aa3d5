/* The handle table (src/handle.h) and the handle rules of SPEC section 2
 * through the public API: an invalid, stale, foreign or forged handle is
 * ERROR_INVALID_PARAMETER (what Windows' advapi32 answers before the
 * provider runs), values are never handed out twice, and an object lives
 * exactly as long as its last reference. */
#include "config.h"
#include "cutest.h"
#include "fixture.h"
#include "handle.h"
#include "context.h"
#include "util.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* winerror.h values written out, so that a wrong constant in the public
 * header cannot make the test agree with the code. */
#define V_ERROR_INVALID_PARAMETER 87u
#define V_NTE_BAD_FLAGS 0x80090009u
#define V_PROV_RSA_AES 24u

/* Put in the last error before a call that must fail, so that a failure
 * which forgets SetLastError shows. */
#define SENTINEL 0x5eed5eedu

/* Asserts that call returns FALSE with this last error; the assertion
 * reports the line of the caller. */
#define EXPECT_FAIL(call, want) do { \
		SetLastError(SENTINEL); \
		BOOL ret_ = (call); \
		DWORD err_ = GetLastError(); \
		CU_ASSERT_FALSE(ret_); \
		CU_ASSERT_EQUAL(err_, (DWORD)(want)); \
	} while (0)

#define EXPECT_OK(call) do { \
		SetLastError(SENTINEL); \
		BOOL ret_ = (call); \
		if (!ret_) \
			fprintf(stderr, "\n  %s failed: 0x%08x\n", #call, (unsigned)GetLastError()); \
		CU_ASSERT_TRUE(ret_); \
	} while (0)

/* ---- Test objects ---- */

/* A handle object that records its destruction instead of freeing
 * itself, so that a lookup returning a destroyed object is seen rather
 * than being a use after free. */
struct tobj {
	struct handle_obj base;
	ULONG_PTR value;
	atomic_bool dead;
	atomic_uint *destroyed;
};

static atomic_uint destroyed_count;

static void tobj_destroy(struct handle_obj *obj)
{
	struct tobj *t = (struct tobj *)obj;

	atomic_store(&t->dead, true);
	atomic_fetch_add(t->destroyed, 1);
}

static void tobj_init(struct tobj *t, enum handle_kind kind, atomic_uint *counter)
{
	memset(t, 0, sizeof *t);
	atomic_init(&t->dead, false);
	t->destroyed = counter;
	handle_obj_init(&t->base, kind, tobj_destroy);
}

static const enum handle_kind all_kinds[] = { HANDLE_PROV, HANDLE_KEY, HANDLE_HASH };

/* ---- Unit tests of the table ---- */

static void test_register_lookup_remove(void)
{
	struct tobj t;
	struct handle_obj *found;
	ULONG_PTR v;

	tobj_init(&t, HANDLE_KEY, &destroyed_count);
	v = handle_register(&t.base);
	CU_ASSERT_NOT_EQUAL_FATAL(v, 0);

	found = handle_lookup(v, HANDLE_KEY);
	CU_ASSERT_PTR_EQUAL(found, &t.base);
	handle_obj_unref(found);
	/* The same object again: lookups do not consume the handle. */
	found = handle_lookup(v, HANDLE_KEY);
	CU_ASSERT_PTR_EQUAL(found, &t.base);
	handle_obj_unref(found);

	found = handle_remove(v, HANDLE_KEY);
	CU_ASSERT_PTR_EQUAL(found, &t.base);
	handle_obj_unref(found);
	CU_ASSERT_PTR_NULL(handle_lookup(v, HANDLE_KEY));
	CU_ASSERT_PTR_NULL(handle_remove(v, HANDLE_KEY));

	CU_ASSERT_FALSE(atomic_load(&t.dead));
	handle_obj_unref(&t.base);
	CU_ASSERT_TRUE(atomic_load(&t.dead));
}

/* A key handle passed where a context is expected (and every other
 * mix-up) finds nothing, and a remove of the wrong kind leaves the handle
 * alone. */
static void test_wrong_kind(void)
{
	struct tobj t[3];
	ULONG_PTR v[3];

	for (size_t i = 0; i < 3; i++) {
		tobj_init(&t[i], all_kinds[i], &destroyed_count);
		v[i] = handle_register(&t[i].base);
		CU_ASSERT_NOT_EQUAL_FATAL(v[i], 0);
	}
	for (size_t i = 0; i < 3; i++) {
		for (size_t k = 0; k < 3; k++) {
			struct handle_obj *found = handle_lookup(v[i], all_kinds[k]);

			if (k == i) {
				CU_ASSERT_PTR_EQUAL(found, &t[i].base);
			} else {
				CU_ASSERT_PTR_NULL(found);
				CU_ASSERT_PTR_NULL(handle_remove(v[i], all_kinds[k]));
			}
			handle_obj_unref(found);
		}
	}
	for (size_t i = 0; i < 3; i++) {
		struct handle_obj *found = handle_lookup(v[i], all_kinds[i]);

		CU_ASSERT_PTR_EQUAL(found, &t[i].base);
		handle_obj_unref(found);
		handle_obj_unref(handle_remove(v[i], all_kinds[i]));
		handle_obj_unref(&t[i].base);
		CU_ASSERT_TRUE(atomic_load(&t[i].dead));
	}
}

/* Values a caller could make up: 0, small integers, all ones, the
 * object's own address (what a pointer-as-handle design would accept),
 * and the neighbours of a live value. */
static void test_forged_values(void)
{
	struct tobj t;
	ULONG_PTR v;

	tobj_init(&t, HANDLE_PROV, &destroyed_count);
	v = handle_register(&t.base);
	CU_ASSERT_NOT_EQUAL_FATAL(v, 0);

	const ULONG_PTR forged[] = {
		0, 1, 2, 3, 0xffffffffu, (ULONG_PTR)-1, (ULONG_PTR)&t, (ULONG_PTR)&t.base,
		(ULONG_PTR)&v, v + 1, v - 1, v ^ 0x100, v << 1,
	};
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(forged); i++) {
		if (forged[i] == v)
			continue;
		for (size_t k = 0; k < 3; k++) {
			CU_ASSERT_PTR_NULL(handle_lookup(forged[i], all_kinds[k]));
			CU_ASSERT_PTR_NULL(handle_remove(forged[i], all_kinds[k]));
		}
	}
	handle_obj_unref(handle_remove(v, HANDLE_PROV));
	handle_obj_unref(&t.base);
	CU_ASSERT_TRUE(atomic_load(&t.dead));
}

static int value_cmp(const void *a, const void *b)
{
	ULONG_PTR x = *(const ULONG_PTR *)a, y = *(const ULONG_PTR *)b;

	return x < y ? -1 : x > y;
}

/* Whether a sorted array holds a value twice. */
static bool values_have_duplicate(ULONG_PTR *values, size_t n)
{
	qsort(values, n, sizeof *values, value_cmp);
	for (size_t i = 1; i < n; i++) {
		if (values[i] == values[i - 1])
			return true;
	}
	return false;
}

#define MANY 100000

/* A removed value stays dead while 100000 new objects are registered
 * (a table that recycles slots would hand it out again), and no two of
 * those share a value. */
static void test_never_reused_while_live(void)
{
	struct tobj old, *objs = calloc(MANY, sizeof *objs);
	ULONG_PTR old_value, *values = calloc(MANY, sizeof *values);
	atomic_uint destroyed = 0;
	size_t reused = 0, zero = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(objs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(values);
	tobj_init(&old, HANDLE_PROV, &destroyed);
	old_value = handle_register(&old.base);
	CU_ASSERT_NOT_EQUAL_FATAL(old_value, 0);
	handle_obj_unref(&old.base);
	handle_obj_unref(handle_remove(old_value, HANDLE_PROV));
	CU_ASSERT_TRUE(atomic_load(&old.dead));

	for (size_t i = 0; i < MANY; i++) {
		tobj_init(&objs[i], all_kinds[i % 3], &destroyed);
		values[i] = handle_register(&objs[i].base);
		handle_obj_unref(&objs[i].base);
		zero += values[i] == 0;
		reused += values[i] == old_value;
	}
	CU_ASSERT_EQUAL(zero, 0);
	CU_ASSERT_EQUAL(reused, 0);
	for (size_t k = 0; k < 3; k++)
		CU_ASSERT_PTR_NULL(handle_lookup(old_value, all_kinds[k]));

	/* Every one is live and names its own object. */
	size_t wrong = 0;
	for (size_t i = 0; i < MANY; i++) {
		struct handle_obj *found = handle_remove(values[i], all_kinds[i % 3]);

		wrong += found != &objs[i].base;
		handle_obj_unref(found);
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(atomic_load(&destroyed), MANY + 1);
	CU_ASSERT_FALSE(values_have_duplicate(values, MANY));
	free(values);
	free(objs);
}

/* Register, remove, register again, 100000 times: each new object gets a
 * value never seen before, even though the table is empty each time. */
static void test_never_reused_after_remove(void)
{
	ULONG_PTR *values = calloc(MANY, sizeof *values);
	atomic_uint destroyed = 0;
	size_t stale_found = 0;
	struct tobj t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(values);
	for (size_t i = 0; i < MANY; i++) {
		tobj_init(&t, HANDLE_PROV, &destroyed);
		values[i] = handle_register(&t.base);
		handle_obj_unref(&t.base);
		/* The previous value must not name this new object. */
		if (i > 0) {
			struct handle_obj *found = handle_lookup(values[i - 1], HANDLE_PROV);

			stale_found += found != NULL;
			handle_obj_unref(found);
		}
		handle_obj_unref(handle_remove(values[i], HANDLE_PROV));
	}
	CU_ASSERT_EQUAL(stale_found, 0);
	CU_ASSERT_EQUAL(atomic_load(&destroyed), MANY);
	CU_ASSERT_FALSE(values_have_duplicate(values, MANY));
	free(values);
}

/* destroy runs exactly once, when the last of the maker's, the table's
 * and the lookups' references goes, in whatever order they go. */
static void test_refcount(void)
{
	atomic_uint destroyed = 0;
	struct handle_obj *a, *b, *table_ref;
	struct tobj t;
	ULONG_PTR v;

	tobj_init(&t, HANDLE_HASH, &destroyed);
	v = handle_register(&t.base);
	CU_ASSERT_NOT_EQUAL_FATAL(v, 0);
	handle_obj_unref(&t.base);              /* the maker's */
	CU_ASSERT_EQUAL(atomic_load(&destroyed), 0);

	a = handle_lookup(v, HANDLE_HASH);
	b = handle_lookup(v, HANDLE_HASH);
	CU_ASSERT_PTR_EQUAL_FATAL(a, &t.base);
	CU_ASSERT_PTR_EQUAL_FATAL(b, &t.base);
	table_ref = handle_remove(v, HANDLE_HASH);
	CU_ASSERT_PTR_EQUAL_FATAL(table_ref, &t.base);
	handle_obj_unref(table_ref);
	CU_ASSERT_EQUAL(atomic_load(&destroyed), 0);
	handle_obj_unref(a);
	CU_ASSERT_EQUAL(atomic_load(&destroyed), 0);
	/* A reference taken from a held one counts like any other. */
	handle_obj_ref(b);
	handle_obj_unref(b);
	CU_ASSERT_EQUAL(atomic_load(&destroyed), 0);
	handle_obj_unref(b);
	CU_ASSERT_EQUAL(atomic_load(&destroyed), 1);
	CU_ASSERT_TRUE(atomic_load(&t.dead));
	/* NULL is accepted (handle.h). */
	handle_obj_unref(NULL);
	CU_ASSERT_EQUAL(atomic_load(&destroyed), 1);
}

/* ---- Concurrency ---- */

#define N_THREADS 4
#define ITERATIONS 150000
#define WINDOW 8           /* live objects each thread keeps */
#define SHARED_SLOTS 64    /* values published for the other threads */

struct worker {
	pthread_t thread;
	unsigned id;
	struct tobj *objs;     /* ITERATIONS of them, freed after the join */
	ULONG_PTR *values;
	atomic_uint destroyed;
	/* Failures, counted here and asserted by the main thread: CUnit's
	 * assertions are not thread-safe. */
	unsigned register_failed, own_lookup_failed, wrong_kind_found;
	unsigned remove_failed, foreign_bad;
	unsigned long foreign_found;
};

static _Atomic ULONG_PTR shared_values[SHARED_SLOTS];
static _Atomic int shared_kinds[SHARED_SLOTS];

static enum handle_kind kind_of(size_t i)
{
	return all_kinds[i % 3];
}

/* A lookup of another thread's published value may find nothing (it may
 * have been removed meanwhile) but what it finds must be alive, of the
 * kind asked for and named by that value. */
static void worker_probe_foreign(struct worker *w, size_t i)
{
	size_t slot = (i * 7 + w->id * 13) % SHARED_SLOTS;
	ULONG_PTR v = atomic_load(&shared_values[slot]);
	enum handle_kind kind = (enum handle_kind)atomic_load(&shared_kinds[slot]);
	struct handle_obj *found;

	if (v == 0)
		return;
	found = handle_lookup(v, kind);
	if (found == NULL)
		return;
	w->foreign_found++;
	if (found->kind != kind || atomic_load(&((struct tobj *)found)->dead) ||
	    ((struct tobj *)found)->value != v)
		w->foreign_bad++;
	handle_obj_unref(found);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (size_t i = 0; i < ITERATIONS; i++) {
		struct tobj *t = &w->objs[i];
		struct handle_obj *found_other;
		size_t slot = w->id * (SHARED_SLOTS / N_THREADS) + i % (SHARED_SLOTS / N_THREADS);
		ULONG_PTR v;

		tobj_init(t, kind_of(i), &w->destroyed);
		v = handle_register(&t->base);
		if (v == 0) {
			w->register_failed++;
			handle_obj_unref(&t->base);
			continue;
		}
		t->value = v;
		w->values[i] = v;
		handle_obj_unref(&t->base);
		/* Published for the other threads' probes: kind first, a reader
		 * that pairs a new value with an old kind just finds nothing. */
		atomic_store(&shared_kinds[slot], (int)kind_of(i));
		atomic_store(&shared_values[slot], v);

		/* Every object of the window is live: each lookup succeeds. */
		for (size_t j = i >= WINDOW ? i - WINDOW + 1 : 0; j <= i; j++) {
			struct handle_obj *found;

			if (w->values[j] == 0)
				continue;
			found = handle_lookup(w->values[j], kind_of(j));
			if (found != &w->objs[j].base)
				w->own_lookup_failed++;
			handle_obj_unref(found);
		}
		found_other = handle_lookup(v, kind_of(i + 1));
		w->wrong_kind_found += found_other != NULL;
		handle_obj_unref(found_other);
		worker_probe_foreign(w, i);

		if (i >= WINDOW - 1 && w->values[i - WINDOW + 1] != 0) {
			size_t old = i - WINDOW + 1;
			struct handle_obj *removed = handle_remove(w->values[old], kind_of(old));

			if (removed != &w->objs[old].base)
				w->remove_failed++;
			handle_obj_unref(removed);
		}
	}
	/* The last window goes too. */
	for (size_t j = ITERATIONS - WINDOW + 1; j < ITERATIONS; j++) {
		if (w->values[j] != 0)
			handle_obj_unref(handle_remove(w->values[j], kind_of(j)));
	}
	return NULL;
}

/* Four threads register, look up and remove at once, bounded by counts,
 * not by time. Every object ends destroyed exactly once. */
static void test_concurrent(void)
{
	struct worker w[N_THREADS];
	unsigned long foreign_found = 0;

	memset(w, 0, sizeof w);
	for (unsigned i = 0; i < N_THREADS; i++) {
		w[i].id = i;
		atomic_init(&w[i].destroyed, 0);
		w[i].objs = calloc(ITERATIONS, sizeof *w[i].objs);
		w[i].values = calloc(ITERATIONS, sizeof *w[i].values);
		CU_ASSERT_PTR_NOT_NULL_FATAL(w[i].objs);
		CU_ASSERT_PTR_NOT_NULL_FATAL(w[i].values);
	}
	for (unsigned i = 0; i < N_THREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&w[i].thread, NULL, worker_run, &w[i]), 0);
	for (unsigned i = 0; i < N_THREADS; i++)
		pthread_join(w[i].thread, NULL);

	for (unsigned i = 0; i < N_THREADS; i++) {
		CU_ASSERT_EQUAL(w[i].register_failed, 0);
		CU_ASSERT_EQUAL(w[i].own_lookup_failed, 0);
		CU_ASSERT_EQUAL(w[i].wrong_kind_found, 0);
		CU_ASSERT_EQUAL(w[i].remove_failed, 0);
		CU_ASSERT_EQUAL(w[i].foreign_bad, 0);
		CU_ASSERT_EQUAL(atomic_load(&w[i].destroyed), ITERATIONS);
		foreign_found += w[i].foreign_found;
	}
	/* The cross-thread probes did look at live objects, or the check
	 * above proved nothing. */
	CU_ASSERT(foreign_found > 0);

	/* No value was handed to two objects, across threads either. */
	ULONG_PTR *all = calloc((size_t)N_THREADS * ITERATIONS, sizeof *all);
	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	for (unsigned i = 0; i < N_THREADS; i++)
		memcpy(all + (size_t)i * ITERATIONS, w[i].values, ITERATIONS * sizeof *all);
	CU_ASSERT_FALSE(values_have_duplicate(all, (size_t)N_THREADS * ITERATIONS));
	free(all);
	for (unsigned i = 0; i < N_THREADS; i++) {
		free(w[i].objs);
		free(w[i].values);
	}
	for (size_t s = 0; s < SHARED_SLOTS; s++)
		atomic_store(&shared_values[s], 0);
}

/* ---- The public API with a real token ---- */

static char *api_label, *api_uri;

static int api_suite_init(void)
{
	if (!fixture_init()) {
		cutest_skip("SoftHSM is not installed");
		return 0;
	}
	api_label = fixture_label_new("handles");
	if (api_label == NULL || fixture_token_new(api_label) != 0)
		return -1;
	api_uri = fixture_token_uri(api_label);
	return api_uri ? 0 : -1;
}

static int api_suite_cleanup(void)
{
	free(api_uri);
	free(api_label);
	return 0;
}

static HCRYPTPROV verify_context(void)
{
	HCRYPTPROV h = 0;

	SetLastError(SENTINEL);
	if (!CryptAcquireContextA(&h, NULL, api_uri, V_PROV_RSA_AES, CRYPT_VERIFYCONTEXT)) {
		fprintf(stderr, "\n  CryptAcquireContextA: 0x%08x\n", (unsigned)GetLastError());
		return 0;
	}
	return h;
}

static bool prov_type_is(HCRYPTPROV h, DWORD want)
{
	DWORD type = 0, len = sizeof type;

	return CryptGetProvParam(h, PP_PROVTYPE, (BYTE *)&type, &len, 0) &&
		len == sizeof type && type == want;
}

static bool key_bits_are(HCRYPTKEY k, DWORD want)
{
	DWORD bits = 0, len = sizeof bits;

	return CryptGetKeyParam(k, KP_KEYLEN, (BYTE *)&bits, &len, 0) &&
		len == sizeof bits && bits == want;
}

/* Every context entry point refuses 0 and made-up values. */
static void test_api_forged_prov(void)
{
	HCRYPTPROV h = verify_context();
	struct context *ctx;
	BYTE buf[64];
	DWORD len;
	HCRYPTKEY k;

	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	/* The context's own address, as a pointer-as-handle design uses. */
	ctx = context_lookup(h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	const HCRYPTPROV forged[] = {
		0, 1, 2, 0xffffffffu, (HCRYPTPROV)-1, (HCRYPTPROV)ctx, (HCRYPTPROV)&h,
		h + 1, h - 1, h + 16, h ^ 0x1000,
	};
	context_unref(ctx);

	for (size_t i = 0; i < CAPI11_N_ELEMENTS(forged); i++) {
		len = sizeof buf;
		EXPECT_FAIL(CryptGetProvParam(forged[i], PP_PROVTYPE, buf, &len, 0),
			    V_ERROR_INVALID_PARAMETER);
		EXPECT_FAIL(CryptGenRandom(forged[i], 16, buf), V_ERROR_INVALID_PARAMETER);
		EXPECT_FAIL(CryptGenKey(forged[i], CALG_AES_256, 0, &k), V_ERROR_INVALID_PARAMETER);
		EXPECT_FAIL(CryptGetUserKey(forged[i], AT_KEYEXCHANGE, &k), V_ERROR_INVALID_PARAMETER);
		EXPECT_FAIL(CryptContextAddRef(forged[i], NULL, 0), V_ERROR_INVALID_PARAMETER);
		EXPECT_FAIL(CryptReleaseContext(forged[i], 0), V_ERROR_INVALID_PARAMETER);
	}
	/* None of that touched the real context. */
	CU_ASSERT_TRUE(prov_type_is(h, V_PROV_RSA_AES));
	EXPECT_OK(CryptReleaseContext(h, 0));
}

/* SPEC 2: a second release is ERROR_INVALID_PARAMETER, and so is every
 * later use of the handle. */
static void test_api_double_release(void)
{
	HCRYPTPROV h = verify_context();
	BYTE buf[16];

	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	EXPECT_OK(CryptReleaseContext(h, 0));
	EXPECT_FAIL(CryptReleaseContext(h, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptGenRandom(h, sizeof buf, buf), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptContextAddRef(h, NULL, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptReleaseContext(h, 0), V_ERROR_INVALID_PARAMETER);
}

/* SPEC 2: flags != 0 is NTE_BAD_FLAGS, but the context is released anyway. */
static void test_api_release_flags(void)
{
	HCRYPTPROV h = verify_context();
	DWORD type, len = sizeof type;

	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	EXPECT_FAIL(CryptReleaseContext(h, 1), V_NTE_BAD_FLAGS);
	EXPECT_FAIL(CryptGetProvParam(h, PP_PROVTYPE, (BYTE *)&type, &len, 0),
		    V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptReleaseContext(h, 0), V_ERROR_INVALID_PARAMETER);
}

/* CryptContextAddRef counts: n+1 references need n+1 releases (Microsoft's
 * CryptContextAddRef page), and the context works until the last. */
static void test_api_addref(void)
{
	HCRYPTPROV h = verify_context();

	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	EXPECT_OK(CryptContextAddRef(h, NULL, 0));
	EXPECT_OK(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(prov_type_is(h, V_PROV_RSA_AES));
	EXPECT_OK(CryptReleaseContext(h, 0));
	CU_ASSERT_FALSE(prov_type_is(h, V_PROV_RSA_AES));
	EXPECT_FAIL(CryptReleaseContext(h, 0), V_ERROR_INVALID_PARAMETER);

	/* Two extra references, the last release with bad flags: it still
	 * counts as a release. */
	h = verify_context();
	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	EXPECT_OK(CryptContextAddRef(h, NULL, 0));
	EXPECT_OK(CryptContextAddRef(h, NULL, 0));
	EXPECT_OK(CryptReleaseContext(h, 0));
	EXPECT_OK(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(prov_type_is(h, V_PROV_RSA_AES));
	EXPECT_FAIL(CryptReleaseContext(h, 2), V_NTE_BAD_FLAGS);
	EXPECT_FAIL(CryptReleaseContext(h, 0), V_ERROR_INVALID_PARAMETER);
}

/* pdwReserved and dwFlags are reserved: Microsoft's page lists
 * ERROR_INVALID_PARAMETER for a parameter that is not valid. A refused
 * call adds no reference. */
static void test_api_addref_reserved(void)
{
	HCRYPTPROV h = verify_context();
	DWORD reserved = 0;

	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	EXPECT_FAIL(CryptContextAddRef(h, &reserved, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptContextAddRef(h, NULL, 1), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptContextAddRef(h, &reserved, 0x80000000u), V_ERROR_INVALID_PARAMETER);
	EXPECT_OK(CryptReleaseContext(h, 0));
	EXPECT_FAIL(CryptReleaseContext(h, 0), V_ERROR_INVALID_PARAMETER);
}

/* A key handle is not a context handle and the other way round, and a
 * refused call leaves both intact. */
static void test_api_crossed_handles(void)
{
	HCRYPTPROV h = verify_context();
	HCRYPTKEY k = 0, k2;
	BYTE buf[64];
	DWORD len;

	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	EXPECT_OK(CryptGenKey(h, CALG_AES_256, 0, &k));
	CU_ASSERT_NOT_EQUAL_FATAL(k, 0);
	CU_ASSERT_NOT_EQUAL(k, h);

	len = sizeof buf;
	EXPECT_FAIL(CryptGetProvParam(k, PP_PROVTYPE, buf, &len, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptGenRandom(k, 16, buf), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptGenKey(k, CALG_AES_256, 0, &k2), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptContextAddRef(k, NULL, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptReleaseContext(k, 0), V_ERROR_INVALID_PARAMETER);

	len = sizeof buf;
	EXPECT_FAIL(CryptGetKeyParam(h, KP_KEYLEN, buf, &len, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptDuplicateKey(h, NULL, 0, &k2), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptDestroyKey(h), V_ERROR_INVALID_PARAMETER);

	CU_ASSERT_TRUE(key_bits_are(k, 256));
	CU_ASSERT_TRUE(prov_type_is(h, V_PROV_RSA_AES));
	EXPECT_OK(CryptDestroyKey(k));
	EXPECT_OK(CryptReleaseContext(h, 0));
}

/* Destroyed keys, keys of a released context and made-up key values are
 * all ERROR_INVALID_PARAMETER. */
static void test_api_stale_keys(void)
{
	HCRYPTPROV h = verify_context();
	HCRYPTKEY k = 0, orphan = 0, copy;
	BYTE buf[16];
	DWORD len;

	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	EXPECT_OK(CryptGenKey(h, CALG_AES_256, 0, &k));
	EXPECT_OK(CryptGenKey(h, CALG_AES_128, 0, &orphan));
	CU_ASSERT_TRUE(key_bits_are(orphan, 128));

	EXPECT_OK(CryptDestroyKey(k));
	EXPECT_FAIL(CryptDestroyKey(k), V_ERROR_INVALID_PARAMETER);
	len = sizeof buf;
	EXPECT_FAIL(CryptGetKeyParam(k, KP_KEYLEN, buf, &len, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptDuplicateKey(k, NULL, 0, &copy), V_ERROR_INVALID_PARAMETER);

	const HCRYPTKEY forged[] = { 0, 1, 2, 0xffffffffu, (HCRYPTKEY)&k, orphan + 1 };
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(forged); i++) {
		len = sizeof buf;
		EXPECT_FAIL(CryptGetKeyParam(forged[i], KP_KEYLEN, buf, &len, 0),
			    V_ERROR_INVALID_PARAMETER);
		EXPECT_FAIL(CryptDestroyKey(forged[i]), V_ERROR_INVALID_PARAMETER);
	}

	/* The context goes; its key handle is an orphan now. */
	EXPECT_OK(CryptReleaseContext(h, 0));
	len = sizeof buf;
	EXPECT_FAIL(CryptGetKeyParam(orphan, KP_KEYLEN, buf, &len, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptDuplicateKey(orphan, NULL, 0, &copy), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptDestroyKey(orphan), V_ERROR_INVALID_PARAMETER);
}

/* SPEC 2: NULL required pointers are ERROR_INVALID_PARAMETER. */
static void test_api_null_pointers(void)
{
	HCRYPTPROV h = verify_context();
	HCRYPTKEY k = 0;
	BYTE buf[64];

	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	EXPECT_FAIL(CryptGetProvParam(h, PP_PROVTYPE, NULL, NULL, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptGetProvParam(h, PP_PROVTYPE, buf, NULL, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptGetProvParam(h, PP_NAME, buf, NULL, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptGenKey(h, CALG_AES_256, 0, NULL), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptAcquireContextA(NULL, NULL, api_uri, V_PROV_RSA_AES, CRYPT_VERIFYCONTEXT),
		    V_ERROR_INVALID_PARAMETER);

	EXPECT_OK(CryptGenKey(h, CALG_AES_256, 0, &k));
	EXPECT_FAIL(CryptGetKeyParam(k, KP_KEYLEN, buf, NULL, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptGetKeyParam(k, KP_KEYLEN, NULL, NULL, 0), V_ERROR_INVALID_PARAMETER);
	EXPECT_FAIL(CryptDuplicateKey(k, NULL, 0, NULL), V_ERROR_INVALID_PARAMETER);

	CU_ASSERT_TRUE(prov_type_is(h, V_PROV_RSA_AES));
	CU_ASSERT_TRUE(key_bits_are(k, 256));
	EXPECT_OK(CryptDestroyKey(k));
	EXPECT_OK(CryptReleaseContext(h, 0));
}

static CU_TestInfo table_tests[] = {
	{ "register, lookup, remove", test_register_lookup_remove },
	{ "wrong kind finds nothing", test_wrong_kind },
	{ "forged values find nothing", test_forged_values },
	{ "removed value not reused by 100000 live objects", test_never_reused_while_live },
	{ "no value reused over 100000 register/remove", test_never_reused_after_remove },
	{ "destroy once, on the last reference", test_refcount },
	{ "4 threads register/lookup/remove", test_concurrent },
	CU_TEST_INFO_NULL,
};

/* A session of this process's own on the suite's token, through SoftHSM
 * directly: the module capi11 loaded, so it sees every session object of
 * the process, whichever session made it. */
static CK_FUNCTION_LIST *hsm;
static CK_SESSION_HANDLE hsm_session = CK_INVALID_HANDLE;

static bool hsm_open(void)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_C_GetFunctionList get;
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	CK_TOKEN_INFO ti;
	char padded[32];
	void *mod, *sym;
	CK_RV rv;

	memset(padded, ' ', sizeof padded);
	memcpy(padded, api_label, strlen(api_label));
	mod = dlopen(SOFTHSM_MODULE, RTLD_NOW | RTLD_LOCAL);
	sym = mod != NULL ? dlsym(mod, "C_GetFunctionList") : NULL;
	if (sym == NULL)
		return false;
	memcpy(&get, &sym, sizeof get);
	if (get(&hsm) != CKR_OK)
		return false;
	/* capi11 initialized it already; never finalized here, that would
	 * pull SoftHSM from under the library. */
	rv = hsm->C_Initialize(&args);
	if ((rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) ||
	    hsm->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return false;
	for (CK_ULONG i = 0; i < n; i++) {
		if (hsm->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
		    memcmp(ti.label, padded, sizeof padded) != 0)
			continue;
		if (hsm->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &hsm_session) !=
		    CKR_OK)
			return false;
		/* Private session objects show to a logged-in token only. */
		rv = hsm->C_Login(hsm_session, CKU_USER, (CK_UTF8CHAR_PTR)FIXTURE_PIN,
				  strlen(FIXTURE_PIN));
		return rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN;
	}
	return false;
}

/* The session objects on the token, of every session of the process. */
static CK_ULONG session_objects(void)
{
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE tmpl = { CKA_TOKEN, &no, sizeof no };
	CK_OBJECT_HANDLE objs[256];
	CK_ULONG n = 0;

	CU_ASSERT_EQUAL_FATAL(hsm->C_FindObjectsInit(hsm_session, &tmpl, 1), CKR_OK);
	CU_ASSERT_EQUAL(hsm->C_FindObjects(hsm_session, objs, 256, &n), CKR_OK);
	CU_ASSERT_EQUAL(hsm->C_FindObjectsFinal(hsm_session), CKR_OK);
	return n;
}

/* SPEC section 2: CryptReleaseContext destroys the session objects the
 * context still owns before its session goes back to the pool, where the
 * session (and so every object it made) outlives the context. The keys
 * here are left for the release to destroy: an RSA pair, an AES key and
 * an imported public key of a verify context, and a session key of a
 * container's context. */
static void test_api_release_destroys_session_objects(void)
{
	HCRYPTPROV v, c = 0;
	HCRYPTKEY pair, aes, pub, des;
	BYTE blob[1024];
	DWORD len = sizeof blob;
	CK_ULONG before;

	v = verify_context();
	CU_ASSERT_FATAL(v != 0);
	CU_ASSERT_TRUE_FATAL(hsm_open());
	before = session_objects();
	CU_ASSERT_TRUE_FATAL(CryptGenKey(v, AT_KEYEXCHANGE, 512u << 16, &pair));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(v, CALG_AES_128, 0, &aes));
	CU_ASSERT_TRUE_FATAL(CryptExportKey(pair, 0, PUBLICKEYBLOB, 0, blob, &len));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(v, blob, len, 0, 0, &pub));
	CU_ASSERT_EQUAL(session_objects(), before + 4);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptReleaseContext(v, 0));
	CU_ASSERT_EQUAL(session_objects(), before);

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&c, "released", api_uri, V_PROV_RSA_AES,
						  CRYPT_NEWKEYSET));
	before = session_objects();
	CU_ASSERT_TRUE_FATAL(CryptGenKey(c, CALG_3DES, CRYPT_EXPORTABLE, &des));
	CU_ASSERT_EQUAL(session_objects(), before + 1);
	CU_ASSERT_TRUE(CryptReleaseContext(c, 0));
	CU_ASSERT_EQUAL(session_objects(), before);

	hsm->C_CloseSession(hsm_session);
	hsm_session = CK_INVALID_HANDLE;
}

static CU_TestInfo api_tests[] = {
	{ "0 and forged HCRYPTPROV", test_api_forged_prov },
	{ "double release", test_api_double_release },
	{ "release with flags releases", test_api_release_flags },
	{ "CryptContextAddRef counts", test_api_addref },
	{ "CryptContextAddRef reserved arguments", test_api_addref_reserved },
	{ "key and context handles crossed", test_api_crossed_handles },
	{ "destroyed, orphaned and forged keys", test_api_stale_keys },
	{ "NULL required pointers", test_api_null_pointers },
	{ "release destroys the session objects", test_api_release_destroys_session_objects },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "handle table", NULL, NULL, NULL, NULL, table_tests },
	{ "public API handles", api_suite_init, api_suite_cleanup, NULL, NULL, api_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc = cutest_run(suites);

	fixture_cleanup(rc == 0 || rc == CUTEST_SKIP);
	return rc;
}
