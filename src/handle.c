/* Handle table: a chained hash map under one reader-writer lock. Lookups
 * are the hot path (every call makes one) and take the read side. */
#include "config.h"
#include "handle.h"
#include "util.h"

#include <pthread.h>
#include <stdint.h>

struct entry {
	ULONG_PTR value;
	struct handle_obj *obj;
	struct entry *next;
};

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static struct entry **buckets;
static size_t n_buckets;
static size_t n_entries;
/* Handle values step by 16 from an odd-looking base, so that small
 * integers, NULL-ish values and pointers are never valid handles. */
static uint64_t next_value = 0x5ca1100000ULL;

/* fork() copies only the forking thread: the table lock, held by another
 * thread at that moment, would stay taken in the child for ever. The
 * forking thread takes it for writing first; both processes release it. */
static void table_fork_prepare(void)
{
	pthread_rwlock_wrlock(&table_lock);
}

static void table_fork_parent(void)
{
	pthread_rwlock_unlock(&table_lock);
}

/* glibc knows a rwlock's writer by thread ID, which the child's only
 * thread does not share with the parent's: the unlock is taken for a
 * reader's, and leaves the lock in a state of its own. The child, alone,
 * then starts with a fresh lock. (The unlock stays, for thread checkers
 * that do not see an init as a release.) */
static void table_fork_child(void)
{
	pthread_rwlock_unlock(&table_lock);
	pthread_rwlock_init(&table_lock, NULL);
}

static void table_atfork_register(void)
{
	pthread_atfork(table_fork_prepare, table_fork_parent, table_fork_child);
}

static void table_lock_ready(void)
{
	pthread_once(&atfork_once, table_atfork_register);
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
	table_lock_ready();
	pthread_rwlock_wrlock(&table_lock);
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
	pthread_rwlock_unlock(&table_lock);
	return value;
}

struct handle_obj *handle_lookup(ULONG_PTR value, enum handle_kind kind)
{
	struct handle_obj *found = NULL;
	struct entry *e;

	if (value == 0)
		return NULL;
	table_lock_ready();
	pthread_rwlock_rdlock(&table_lock);
	if (n_buckets > 0) {
		for (e = buckets[bucket_of(value, n_buckets)]; e != NULL; e = e->next) {
			if (e->value == value) {
				if (e->obj->kind == kind)
					found = handle_obj_ref(e->obj);
				break;
			}
		}
	}
	pthread_rwlock_unlock(&table_lock);
	return found;
}

struct handle_obj *handle_remove(ULONG_PTR value, enum handle_kind kind)
{
	struct handle_obj *found = NULL;
	struct entry **pe, *e;

	if (value == 0)
		return NULL;
	table_lock_ready();
	pthread_rwlock_wrlock(&table_lock);
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
	pthread_rwlock_unlock(&table_lock);
	return found;
}
