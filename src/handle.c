/* Handle table: a chained hash map under one reader-writer lock. Lookups
 * are the hot path (every call makes one) and take the read side. */
#include "config.h"
#include "handle.h"
#include "util.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

struct entry {
	ULONG_PTR value;
	struct handle_obj *obj;
	struct entry *next;
};

static struct entry **buckets;
static size_t n_buckets;
static size_t n_entries;
/* Handle values step by 16 from an odd-looking base, so that small
 * integers, NULL-ish values and pointers are never valid handles. */
static uint64_t next_value = 0x5ca1100000ULL;

/* The table lock: a reader-writer lock of one word, the count of readers
 * in the low bits. glibc's rwlock cost about 95 instructions per lookup,
 * as much as the rest of a size query; this one costs a compare-and-swap
 * and a subtraction. A writer waiting (TABLE_WAITING) keeps new readers
 * out, so that a stream of lookups cannot starve a release. Waiters yield
 * the processor: the critical sections are a few dozen instructions, but
 * the holder may have been preempted. */
#define TABLE_WRITER 0x80000000u
#define TABLE_WAITING 0x40000000u

static atomic_uint table_lock;

static void table_read_lock(void)
{
	unsigned v;

	for (;;) {
		v = atomic_load_explicit(&table_lock, memory_order_relaxed);
		/* Another reader's entry or exit only changes the count: retry
		 * at once (a failed exchange reloads v); yield to writers only. */
		while (!(v & (TABLE_WRITER | TABLE_WAITING))) {
			if (atomic_compare_exchange_weak_explicit(&table_lock, &v, v + 1,
								  memory_order_acquire,
								  memory_order_relaxed))
				return;
		}
		sched_yield();
	}
}

static void table_read_unlock(void)
{
	atomic_fetch_sub_explicit(&table_lock, 1, memory_order_release);
}

static void table_write_lock(void)
{
	unsigned v;

	for (;;) {
		v = atomic_load_explicit(&table_lock, memory_order_relaxed);
		if ((v & ~TABLE_WAITING) == 0) {
			if (atomic_compare_exchange_weak_explicit(&table_lock, &v, TABLE_WRITER,
								  memory_order_acquire,
								  memory_order_relaxed))
				return;
			continue;
		}
		if (!(v & TABLE_WAITING))
			atomic_fetch_or_explicit(&table_lock, TABLE_WAITING, memory_order_relaxed);
		sched_yield();
	}
}

/* Clears TABLE_WAITING too: another waiting writer sets it again. */
static void table_write_unlock(void)
{
	atomic_store_explicit(&table_lock, 0, memory_order_release);
}

/* fork() copies only the forking thread: the table lock, held by another
 * thread at that moment, would stay taken in the child for ever. The
 * forking thread takes it for writing first; both processes release it. */
static void table_fork_prepare(void)
{
	table_write_lock();
}

static void table_fork_release(void)
{
	table_write_unlock();
}

/* Registered when the library is loaded rather than on first use, which
 * kept a pthread_once on every lookup. The table lock is a leaf (nothing
 * else is taken under it), and handlers registered first prepare last, so
 * the forking thread takes it after every other lock. */
__attribute__((constructor)) static void table_atfork_register(void)
{
	pthread_atfork(table_fork_prepare, table_fork_release, table_fork_release);
}

void handle_obj_init(struct handle_obj *obj, enum handle_kind kind,
		     void (*destroy)(struct handle_obj *obj))
{
	atomic_init(&obj->refs, 1);
	obj->kind = kind;
	obj->destroy = destroy;
}

struct handle_obj *handle_obj_ref(struct handle_obj *obj)
{
	atomic_fetch_add(&obj->refs, 1);
	return obj;
}

void handle_obj_unref(struct handle_obj *obj)
{
	if (obj == NULL)
		return;
	if (atomic_fetch_sub(&obj->refs, 1) == 1)
		obj->destroy(obj);
}

static size_t bucket_of(ULONG_PTR value, size_t n)
{
	uint64_t h = (uint64_t)value * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (n - 1);
}

static bool table_grow_locked(void)
{
	size_t n = n_buckets ? n_buckets * 2 : 256;
	struct entry **nb = capi11_calloc(n, sizeof *nb);
	size_t i;

	if (nb == NULL)
		return false;
	for (i = 0; i < n_buckets; i++) {
		struct entry *e = buckets[i], *next;
		for (; e != NULL; e = next) {
			size_t b = bucket_of(e->value, n);
			next = e->next;
			e->next = nb[b];
			nb[b] = e;
		}
	}
	capi11_free(buckets);
	buckets = nb;
	n_buckets = n;
	return true;
}

ULONG_PTR handle_register(struct handle_obj *obj)
{
	struct entry *e = capi11_malloc(sizeof *e);
	ULONG_PTR value = 0;
	size_t b;

	if (e == NULL)
		return 0;
	table_write_lock();
	if (n_entries + 1 > n_buckets * 2 && !table_grow_locked()) {
		capi11_free(e);
		goto out;
	}
	next_value += 16;
	value = (ULONG_PTR)(next_value | (uint64_t)obj->kind);
	e->value = value;
	e->obj = handle_obj_ref(obj);
	b = bucket_of(value, n_buckets);
	e->next = buckets[b];
	buckets[b] = e;
	n_entries++;
out:
	table_write_unlock();
	return value;
}

struct handle_obj *handle_lookup(ULONG_PTR value, enum handle_kind kind)
{
	struct handle_obj *found = NULL;
	struct entry *e;

	if (value == 0)
		return NULL;
	table_read_lock();
	if (n_buckets > 0) {
		for (e = buckets[bucket_of(value, n_buckets)]; e != NULL; e = e->next) {
			if (e->value == value) {
				if (e->obj->kind == kind)
					found = handle_obj_ref(e->obj);
				break;
			}
		}
	}
	table_read_unlock();
	return found;
}

struct handle_obj *handle_remove(ULONG_PTR value, enum handle_kind kind)
{
	struct handle_obj *found = NULL;
	struct entry **pe, *e;

	if (value == 0)
		return NULL;
	table_write_lock();
	if (n_buckets > 0) {
		for (pe = &buckets[bucket_of(value, n_buckets)]; (e = *pe) != NULL; pe = &e->next) {
			if (e->value != value)
				continue;
			if (e->obj->kind == kind) {
				found = e->obj;
				*pe = e->next;
				capi11_free(e);
				n_entries--;
			}
			break;
		}
	}
	table_write_unlock();
	return found;
}
