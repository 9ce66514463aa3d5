/* The table of token objects in use: see objguard.h. A fixed table, so
 * that taking a use never allocates: entries live only while an object
 * has users or is being destroyed, which is a handful at a time. */
#include "config.h"
#include "objguard.h"

#include <pthread.h>
#include <stddef.h>

struct objguard_entry {
	const void *tok;               /* NULL: free slot */
	CK_OBJECT_HANDLE obj;
	unsigned users;
	bool dying;
};

static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
/* Signalled when an object loses its last user or its destroyer. */
static pthread_cond_t guard_cond = PTHREAD_COND_INITIALIZER;
static struct objguard_entry entries[OBJGUARD_MAX];
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* fork() copies the forking thread only: the lock must not be held by
 * another thread at that moment, and the child has none of the parent's
 * users, so it starts with an empty table. */
static void guard_fork_prepare(void)
{
	pthread_mutex_lock(&guard_lock);
}

static void guard_fork_parent(void)
{
	pthread_mutex_unlock(&guard_lock);
}

static void guard_fork_child(void)
{
	size_t i;

	for (i = 0; i < OBJGUARD_MAX; i++)
		entries[i].tok = NULL;
	pthread_cond_init(&guard_cond, NULL);
	pthread_mutex_unlock(&guard_lock);
}

static void guard_atfork_register(void)
{
	pthread_atfork(guard_fork_prepare, guard_fork_parent, guard_fork_child);
}

static struct objguard_entry *entry_find_locked(const void *tok, CK_OBJECT_HANDLE obj)
{
	size_t i;

	for (i = 0; i < OBJGUARD_MAX; i++) {
		if (entries[i].tok == tok && entries[i].obj == obj)
			return &entries[i];
	}
	return NULL;
}

static struct objguard_entry *entry_add_locked(const void *tok, CK_OBJECT_HANDLE obj)
{
	size_t i;

	for (i = 0; i < OBJGUARD_MAX; i++) {
		if (entries[i].tok == NULL) {
			entries[i].tok = tok;
			entries[i].obj = obj;
			entries[i].users = 0;
			entries[i].dying = false;
			return &entries[i];
		}
	}
	return NULL;
}

CK_RV objguard_enter(const void *tok, CK_OBJECT_HANDLE obj)
{
	struct objguard_entry *e;
	CK_RV rv = CKR_OK;

	if (obj == CK_INVALID_HANDLE)
		return CKR_OK;
	pthread_once(&atfork_once, guard_atfork_register);
	pthread_mutex_lock(&guard_lock);
	e = entry_find_locked(tok, obj);
	if (e == NULL)
		e = entry_add_locked(tok, obj);
	if (e == NULL)
		rv = CKR_HOST_MEMORY;
	else if (e->dying)
		rv = CKR_OBJECT_HANDLE_INVALID;    /* gone, for every purpose */
	else
		e->users++;
	pthread_mutex_unlock(&guard_lock);
	return rv;
}

void objguard_leave(const void *tok, CK_OBJECT_HANDLE obj)
{
	struct objguard_entry *e;

	if (obj == CK_INVALID_HANDLE)
		return;
	pthread_mutex_lock(&guard_lock);
	e = entry_find_locked(tok, obj);
	if (e != NULL && e->users > 0 && --e->users == 0) {
		/* A destroyer waits for this, or for a free slot. */
		if (!e->dying)
			e->tok = NULL;
		pthread_cond_broadcast(&guard_cond);
	}
	pthread_mutex_unlock(&guard_lock);
}

void objguard_destroy_begin(const void *tok, CK_OBJECT_HANDLE obj)
{
	struct objguard_entry *e;

	if (obj == CK_INVALID_HANDLE)
		return;
	pthread_once(&atfork_once, guard_atfork_register);
	pthread_mutex_lock(&guard_lock);
	/* Another thread destroying it: its C_DestroyObject goes first, and
	 * this one then hears from the module that the object is gone. */
	while ((e = entry_find_locked(tok, obj)) != NULL && e->dying)
		pthread_cond_wait(&guard_cond, &guard_lock);
	/* A full table frees slots as calls end; a destroyer holds no use, so
	 * waiting for one cannot block the calls it waits for. */
	while (e == NULL && (e = entry_add_locked(tok, obj)) == NULL)
		pthread_cond_wait(&guard_cond, &guard_lock);
	e->dying = true;
	while (e->users > 0)
		pthread_cond_wait(&guard_cond, &guard_lock);
	pthread_mutex_unlock(&guard_lock);
}

void objguard_destroy_end(const void *tok, CK_OBJECT_HANDLE obj)
{
	struct objguard_entry *e;

	if (obj == CK_INVALID_HANDLE)
		return;
	pthread_mutex_lock(&guard_lock);
	e = entry_find_locked(tok, obj);
	if (e != NULL && e->dying) {
		e->tok = NULL;
		pthread_cond_broadcast(&guard_cond);
	}
	pthread_mutex_unlock(&guard_lock);
}
