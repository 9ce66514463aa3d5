/* Sessions: the per-token pool, scratch sessions, login. */
#include "config.h"
#include "session.h"
#include "p11call.h"
#include "pin.h"
#include "token-private.h"
#include "trace.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* Points ts at tok with no session yet, after restarting the module in a
 * forked child. */
static CK_RV tsession_init(struct token *tok, struct tsession *ts, bool scratch)
{
	/* Field by field: lost is read without the context lock
	 * (export.c), so it is never written by a memset. */
	ts->tok = tok;
	ts->fl = tok->mod->fl;
	ts->handle = CK_INVALID_HANDLE;
	ts->generation = token_generation();
	atomic_store(&ts->lost, false);
	ts->lost_rv = CKR_OK;
	ts->scratch = scratch;
	ts->retire = false;
	ts->last_rv = CKR_OK;
	ts->seen_logged_in = false;
	return module_check_fork(tok->mod);
}

static CK_RV tsession_open(struct tsession *ts)
{
	CK_RV rv = p11_OpenSession(ts->fl, ts->tok->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				   NULL, NULL, &ts->handle);

	if (rv != CKR_OK)
		ts->handle = CK_INVALID_HANDLE;
	return rv;
}

/* The pooled session on top, or CK_INVALID_HANDLE. */
static CK_SESSION_HANDLE pool_take(struct token *tok, unsigned gen)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

	pthread_mutex_lock(&tok->lock);
	token_pool_check_generation_locked(tok, gen);
	if (tok->n_pool > 0)
		s = tok->pool[--tok->n_pool];
	pthread_mutex_unlock(&tok->lock);
	return s;
}

CK_RV tsession_acquire(struct token *tok, struct tsession *ts)
{
	CK_SESSION_INFO info;
	CK_RV rv = tsession_init(tok, ts, false);

	if (rv != CKR_OK)
		return rv;
	ts->handle = pool_take(tok, ts->generation);
	atomic_fetch_add(&tok->leased, 1);
	if (ts->handle != CK_INVALID_HANDLE) {
		/* Pooled sessions die with a card pulled and put back while nobody
		 * used them: the first context to meet the token again would fail
		 * on one. Such a session takes the pool with it (release). */
		if (p11_GetSessionInfo(ts, &info) == CKR_OK)
			ts->seen_logged_in = info.state == CKS_RW_USER_FUNCTIONS ||
					     info.state == CKS_RO_USER_FUNCTIONS ||
					     info.state == CKS_RW_SO_FUNCTIONS;
		if (!ts->lost)
			return CKR_OK;
		ts->seen_logged_in = false;
		tsession_release(ts);
		atomic_fetch_add(&tok->leased, 1);
		ts->lost = false;
	}
	rv = tsession_open(ts);
	if (rv != CKR_OK)
		atomic_fetch_sub(&tok->leased, 1);
	return rv;
}

void tsession_release(struct tsession *ts)
{
	struct token *tok = ts->tok;
	bool pooled = false;

	if (ts->handle == CK_INVALID_HANDLE || ts->scratch)
		return;
	/* A session from before a fork belongs to the parent: left alone. */
	if (!tsession_is_current(ts)) {
		ts->handle = CK_INVALID_HANDLE;
		return;
	}
	pthread_mutex_lock(&tok->lock);
	token_pool_check_generation_locked(tok, ts->generation);
	atomic_fetch_sub(&tok->leased, 1);
	if (ts->lost) {
		/* The token went away: every pooled session went with it. */
		tok->n_pool = 0;
	} else if (!ts->retire && tok->n_pool < POOL_MAX) {
		tok->pool[tok->n_pool++] = ts->handle;
		pooled = true;
	}
	pthread_mutex_unlock(&tok->lock);
	if (!pooled)
		p11_CloseSession(ts);
	ts->handle = CK_INVALID_HANDLE;
	ts->retire = false;
}

CK_RV tsession_scratch_open(struct token *tok, struct tsession *ts)
{
	CK_RV rv = tsession_init(tok, ts, true);

	if (rv != CKR_OK)
		return rv;
	return tsession_open(ts);
}

void tsession_scratch_close(struct tsession *ts)
{
	if (ts->handle == CK_INVALID_HANDLE)
		return;
	p11_CloseSession(ts);
	ts->handle = CK_INVALID_HANDLE;
}

bool tsession_is_current(const struct tsession *ts)
{
	return ts->generation == token_generation();
}

unsigned token_sessions_leased(const struct token *tok)
{
	return atomic_load(&tok->leased);
}

unsigned token_sessions_pooled(struct token *tok)
{
	unsigned n;

	pthread_mutex_lock(&tok->lock);
	token_pool_check_generation_locked(tok, token_generation());
	n = (unsigned)tok->n_pool;
	pthread_mutex_unlock(&tok->lock);
	return n;
}

bool tsession_is_logged_in(struct tsession *ts)
{
	CK_SESSION_INFO info;

	if (p11_GetSessionInfo(ts, &info) != CKR_OK)
		return false;
	return info.state == CKS_RW_USER_FUNCTIONS || info.state == CKS_RO_USER_FUNCTIONS ||
	       info.state == CKS_RW_SO_FUNCTIONS;
}

CK_RV token_pin_check(const struct token *tok, const char *pin, size_t pin_len)
{
	CK_ULONG max = PIN_MAX;
	const char *why = NULL;
	CK_RV rv = CKR_OK;

	/* The token's own bound when it reports one; 0 and
	 * CK_UNAVAILABLE_INFORMATION say nothing. */
	if (tok != NULL && tok->max_pin_len > 0 && tok->max_pin_len < max)
		max = tok->max_pin_len;
	if (pin_len == 0) {
		rv = CKR_PIN_LEN_RANGE;
		why = "empty";
	} else if (pin_len > max) {
		rv = CKR_PIN_LEN_RANGE;
		why = "longer than the token or capi11 allows";
	} else if (memchr(pin, '\n', pin_len) != NULL || memchr(pin, '\r', pin_len) != NULL ||
		   memchr(pin, '\0', pin_len) != NULL) {
		rv = CKR_PIN_INVALID;
		why = "holds a line break or a NUL byte";
	}
	if (why != NULL)
		trace_message("PIN refused without C_Login: %s", why);
	return rv;
}

CK_RV tsession_login(struct tsession *ts, const char *pin, size_t pin_len)
{
	struct token *tok = ts->tok;
	CK_RV rv;

	/* A PIN that cannot be right never reaches the token: on a card each
	 * failed C_Login uses up a retry. */
	if (pin != NULL) {
		rv = token_pin_check(tok, pin, pin_len);
		if (rv != CKR_OK)
			return rv;
	}
	pthread_mutex_lock(&tok->lock);
	if (tsession_is_logged_in(ts)) {
		rv = CKR_OK;
	} else {
		rv = p11_Login(ts, CKU_USER, (CK_UTF8CHAR_PTR)pin, pin ? pin_len : 0);
		if (rv == CKR_USER_ALREADY_LOGGED_IN)
			rv = CKR_OK;
	}
	pthread_mutex_unlock(&tok->lock);
	return rv;
}

CK_RV tsession_login_so(struct tsession *ts, const char *pin, size_t pin_len)
{
	CK_RV rv = token_pin_check(ts->tok, pin, pin_len);

	if (rv != CKR_OK)
		return rv;
	pthread_mutex_lock(&ts->tok->lock);
	rv = p11_Login(ts, CKU_SO, (CK_UTF8CHAR_PTR)pin, pin_len);
	pthread_mutex_unlock(&ts->tok->lock);
	return rv;
}

CK_RV tsession_logout(struct tsession *ts)
{
	CK_RV rv;

	pthread_mutex_lock(&ts->tok->lock);
	rv = p11_Logout(ts);
	pthread_mutex_unlock(&ts->tok->lock);
	return rv == CKR_USER_NOT_LOGGED_IN ? CKR_OK : rv;
}
