/* Token sessions: the object every PKCS#11 call on a session goes
 * through, the per-token pool it is leased from, and login.
 *
 * A struct tsession owns a token, a session handle on it, the fork
 * generation the handle belongs to, whether the token has dropped it, and
 * the last result seen on it. The call wrappers (p11call.h) keep the last
 * two up to date, so that a session the token dropped is never used nor
 * pooled again, whoever made the failing call. A tsession is used by one thread
 * at a time: a context's under the context's lock, a scratch one by its
 * maker. */
#ifndef CAPI11_SESSION_H
#define CAPI11_SESSION_H

#include "token.h"

#include <p11-kit/pkcs11.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct tsession {
	struct token *tok;             /* kept when the handle is retired */
	CK_FUNCTION_LIST *fl;          /* the token's module */
	CK_SESSION_HANDLE handle;      /* CK_INVALID_HANDLE: none */
	unsigned generation;           /* fork generation of the handle */
	/* The token said the session is gone. Atomic: export.c's lock-free
	 * size answer reads it without the context lock. */
	atomic_bool lost;
	CK_RV lost_rv;                 /* what it said then */
	bool scratch;                  /* not leased from the pool */
	/* Closed on release, never pooled: a session object made on it (a
	 * secret) could not be destroyed, and closing the session destroys
	 * it (PKCS#11) before anyone else can lease the session. */
	bool retire;
	CK_RV last_rv;                 /* of the last call on it */
	bool seen_logged_in;           /* tsession_acquire's liveness check of a
					* pooled session found it logged in */
};

/* The fork generation that sessions belong to: state stamped with another
 * value came from the parent of a fork and is dead. */
unsigned token_generation(void);

/* Leases a read-write session of tok into ts, from the token's pool or a
 * new one. A pooled session that the token dropped while nobody used it
 * (a card pulled and put back) is retired, with the pool, and replaced. */
CK_RV tsession_acquire(struct token *tok, struct tsession *ts);
/* Gives a leased session back: to the pool, unless it is lost (then it
 * is closed and the pool emptied: the token went away under it) or comes
 * from before a fork (then it is the parent's and left alone). ts keeps
 * its token and no handle. Accepts a tsession without a handle. */
void tsession_release(struct tsession *ts);
/* A session of its own for a short piece of work, never pooled nor
 * counted as leased; closing it destroys the session objects made on it
 * (PKCS#11), so that work leaves nothing behind even when a
 * C_DestroyObject would have failed. */
CK_RV tsession_scratch_open(struct token *tok, struct tsession *ts);
void tsession_scratch_close(struct tsession *ts);
/* Whether the session belongs to this process (not to the parent of a
 * fork). */
bool tsession_is_current(const struct tsession *ts);

/* How many sessions of tok contexts hold leased now. */
unsigned token_sessions_leased(const struct token *tok);
/* How many sessions of tok wait in its pool (tests). */
unsigned token_sessions_pooled(struct token *tok);

/* Whether pin (pin_len bytes) could be a PIN of the token: not empty, at
 * most PIN_MAX bytes (pin.h) and at most the token's ulMaxPinLen when it
 * reports one, no "\n", "\r" or NUL byte. CKR_PIN_LEN_RANGE or
 * CKR_PIN_INVALID otherwise (traced, without the PIN); the token is not
 * called. tok may be NULL (PIN_MAX only). */
CK_RV token_pin_check(const struct token *tok, const char *pin, size_t pin_len);

/* Logs the user in once for the whole token. pin NULL with a pinpad token
 * logs in through the protected path. Already logged in: CKR_OK without a
 * C_Login. A PIN that token_pin_check refuses is refused without a C_Login.
 * A rejected PIN is returned as is, never retried. */
CK_RV tsession_login(struct tsession *ts, const char *pin, size_t pin_len);
bool tsession_is_logged_in(struct tsession *ts);
/* C_Login as the security officer, for capi11's trust step only
 * (trust.c): no PIN is kept, and a rejected one is returned as is. */
CK_RV tsession_login_so(struct tsession *ts, const char *pin, size_t pin_len);
/* C_Logout; not logged in counts as done. Every private session object
 * of this process on the token dies with it. */
CK_RV tsession_logout(struct tsession *ts);

#endif
