/* The in-process table of containers without a marker object: see
 * container-pending.h. */
#include "config.h"
#include "container-pending.h"
#include "util.h"

#include <pthread.h>
#include <string.h>

struct pending {
	const struct token *tok;
	char *name;
	struct pending *next;
};

static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pending *pending_head;

static struct pending **pending_find_locked(const struct token *tok, const char *name)
{
	struct pending **p;

	for (p = &pending_head; *p != NULL; p = &(*p)->next) {
		if ((*p)->tok == tok && strcmp((*p)->name, name) == 0)
			return p;
	}
	return p;
}

CK_RV container_pending_add(const struct token *tok, const char *name)
{
	struct pending *e;
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&pending_lock);
	if (*pending_find_locked(tok, name) != NULL)
		goto out;
	e = capi11_calloc(1, sizeof *e);
	if (e != NULL)
		e->name = capi11_strdup(name);
	if (e == NULL || e->name == NULL) {
		capi11_free(e);
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	e->tok = tok;
	e->next = pending_head;
	pending_head = e;
out:
	pthread_mutex_unlock(&pending_lock);
	return rv;
}

bool container_pending_has(const struct token *tok, const char *name)
{
	bool has;

	pthread_mutex_lock(&pending_lock);
	has = *pending_find_locked(tok, name) != NULL;
	pthread_mutex_unlock(&pending_lock);
	return has;
}

bool container_pending_remove(const struct token *tok, const char *name)
{
	struct pending **p, *e = NULL;

	pthread_mutex_lock(&pending_lock);
	p = pending_find_locked(tok, name);
	if (*p != NULL) {
		e = *p;
		*p = e->next;
	}
	pthread_mutex_unlock(&pending_lock);
	if (e == NULL)
		return false;
	capi11_free(e->name);
	capi11_free(e);
	return true;
}

CK_RV container_pending_append(const struct token *tok, char ***names, size_t *n, size_t *cap)
{
	struct pending *e;
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&pending_lock);
	for (e = pending_head; e != NULL && rv == CKR_OK; e = e->next) {
		char *copy;

		if (e->tok != tok)
			continue;
		if (*n == *cap) {
			size_t grown_cap = *cap ? *cap * 2 : 16;
			char **grown = capi11_realloc(*names, grown_cap * sizeof **names);

			if (grown == NULL) {
				rv = CKR_HOST_MEMORY;
				break;
			}
			*names = grown;
			*cap = grown_cap;
		}
		copy = capi11_strdup(e->name);
		if (copy == NULL)
			rv = CKR_HOST_MEMORY;
		else
			(*names)[(*n)++] = copy;
	}
	pthread_mutex_unlock(&pending_lock);
	return rv;
}
