/* struct token's fields, for the files of the token layer (token.c,
 * session.c, token-ops.c, module.c); everyone else goes through token.h
 * and session.h. */
#ifndef CAPI11_TOKEN_PRIVATE_H
#define CAPI11_TOKEN_PRIVATE_H

#include "module.h"
#include "quirks.h"
#include "token.h"

#include <pthread.h>
#include <stdatomic.h>

#define POOL_MAX 16
#define MECH_CACHE_MAX 32

struct mech_cache {
	CK_MECHANISM_TYPE mech;
	CK_RV rv;
	CK_MECHANISM_INFO info;
};

struct token {
	struct module *mod;
	CK_SLOT_ID slot;
	char label[33];
	char serial[17];
	char slot_description[65];
	CK_FLAGS token_flags;
	CK_FLAGS slot_flags;
	CK_ULONG max_pin_len;      /* ulMaxPinLen, as the token reported it */
	/* What the quirks table says of this module and token; fixed when
	 * the entry is made. */
	const struct quirks *quirks;

	/* Guards the pool, the mechanism cache and C_Login/C_Logout (which
	 * must not run twice at once for one token). */
	pthread_mutex_t lock;
	/* Serialises the calls that search, create or destroy objects on
	 * tokens whose quirks say QUIRK_STORE_RACE (token-ops.c). Never held
	 * together with lock. */
	pthread_mutex_t store_lock;
	unsigned generation;       /* of the pooled sessions */
	CK_SESSION_HANDLE pool[POOL_MAX];
	size_t n_pool;
	/* Appended under lock; an entry is written before n_mechs counts it
	 * (release) and never changed after, so readers scan without lock. */
	struct mech_cache mechs[MECH_CACHE_MAX];
	atomic_size_t n_mechs;
	/* What the token does with CKA_WRAP_WITH_TRUSTED (enum
	 * token_wrap_trust), learnt once by trust.c. */
	atomic_int wrap_trust;
	/* What attempts taught (enum token_cap_state, by enum token_cap). */
	atomic_int caps[TOKEN_CAP_COUNT];
	atomic_bool caps_probed;       /* token_caps_probe ran */
	/* Sessions leased to contexts and not yet given back, in generation. */
	atomic_uint leased;
	struct token *next;
};

/* fork() copies only the forking thread: module.c's fork handler, holding
 * the module table lock, takes every token's two locks through these
 * (an order no other code takes them in reverse) and both processes give
 * them back. */
void token_table_fork_lock(void);
void token_table_fork_unlock(void);

/* A token's pool belongs to one fork generation: in a child, the first
 * use empties it (the parent's sessions are the parent's). Called with
 * tok->lock held. */
void token_pool_check_generation_locked(struct token *tok, unsigned gen);

#endif
