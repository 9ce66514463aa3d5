/* The wrappers of the PKCS#11 call table (p11call.h), and what happens
 * after every call: tracing, session loss, the thread's last failure. */
#include "config.h"
#include "p11call.h"
#include "errors.h"
#include "quirks.h"
#include "session.h"
#include "trace.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

struct p11_desc {
	const char *name;
	enum p11_loss loss;
};

#define P11_DESC(name, loss, params, args, trace) { "C_" #name, loss },
static const struct p11_desc descs[P11_N_CALLS] = {
	P11_MODULE_CALLS(P11_DESC)
	P11_SESSION_CALLS(P11_DESC)
};
#undef P11_DESC

struct p11_failure {
	bool set;
	enum p11_id id;
	CK_RV rv;
};

/* The failure of the entry point running now, and the one of the last
 * entry point that failed; per thread, as GetLastError. */
static _Thread_local struct p11_failure current, reported;
static _Thread_local unsigned cleanup_depth;

const char *p11call_name(enum p11_id id)
{
	return id < P11_N_CALLS ? descs[id].name : "C_?";
}

bool p11call_rv_loses_session(CK_RV rv)
{
	switch (rv) {
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
		return true;
	default:
		return false;
	}
}

void p11call_cleanup_begin(void)
{
	cleanup_depth++;
}

void p11call_cleanup_end(void)
{
	if (cleanup_depth > 0)
		cleanup_depth--;
}

/* The trace line of a call, at trace level 3. */
static void __attribute__((format(printf, 3, 4)))
p11call_trace(enum p11_id id, CK_RV rv, const char *fmt, ...)
{
	char detail[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	trace_ckr(descs[id].name, rv, detail);
}

/* Everything that follows a call, in one place. ts is NULL for calls on
 * the module or a slot. The trace's arguments are only formatted when
 * the trace is on. */
#define p11call_end(ts, id, rv, ...) \
	(trace_enabled(3) ? p11call_trace((id), (rv), __VA_ARGS__) : (void)0, \
	 p11call_finish((ts), (id), (rv)))

static inline CK_RV p11call_finish(struct tsession *ts, enum p11_id id, CK_RV rv)
{
	if (rv != CKR_OK && cleanup_depth == 0) {
		current.set = true;
		current.id = id;
		current.rv = rv;
	}
	if (ts != NULL) {
		ts->last_rv = rv;
		if (rv != CKR_OK && descs[id].loss != P11_LOSS_NONE &&
		    p11call_rv_loses_session(rv)) {
			ts->lost = true;
			ts->lost_rv = rv;
		}
	}
	return rv;
}

/* A session the token said is gone takes no new work: such calls fail at
 * once with the result that lost it. Undoing still reaches the module
 * (P11_LOSS_SESSION_UNDO), and closing it. */
static bool p11call_refused(struct tsession *ts, enum p11_id id, CK_RV *rv)
{
	if (!ts->lost || descs[id].loss != P11_LOSS_SESSION)
		return false;
	if (trace_enabled(3))
		trace_message("  %s: not called, the session is lost", descs[id].name);
	*rv = ts->lost_rv;
	return true;
}

/* SIGPIPE around a module call. A module that talks to a server over a
 * socket (p11-kit's client module writes with write(2)) raises SIGPIPE in
 * the calling thread once the server has gone, and SIGPIPE's default
 * action ends the host program; a library must not. So the call runs with
 * SIGPIPE blocked in this thread, a SIGPIPE it raised is consumed before
 * the mask comes back, and the module's error reaches the caller as a
 * Windows error. A SIGPIPE already pending before the call is not ours
 * and is left for the program, as is everything when the program blocks
 * SIGPIPE itself. Thread-directed, so other threads are unaffected.
 *
 * The mask costs four system calls per call (about a tenth of a 4 KiB
 * AES encryption on SoftHSM), so only modules that need it pay: those
 * whose C_GetInfo the quirks table marks QUIRK_SIGPIPE, and, until its
 * C_GetInfo has answered, any module (C_Initialize of the client module
 * connects already). */
struct p11_sigpipe {
	sigset_t old;
	bool blocked;    /* by us: restore the mask after the call */
	bool pending;    /* pending before the call: not ours to consume */
};

/* What C_GetInfo said of each module: an append-only table read without
 * a lock; an entry is refreshed when its module answers again (a module
 * reloaded at the same address). Past its size, modules are guarded. */
#define P11_MODULES_MAX 32
static struct {
	_Atomic(CK_FUNCTION_LIST *) fl;
	atomic_bool guard;
} modules[P11_MODULES_MAX];
static atomic_uint n_modules;
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;

static bool p11call_module_guarded(CK_FUNCTION_LIST *fl)
{
	unsigned i, n = atomic_load_explicit(&n_modules, memory_order_acquire);

	for (i = 0; i < n; i++) {
		if (atomic_load_explicit(&modules[i].fl, memory_order_relaxed) == fl)
			return atomic_load_explicit(&modules[i].guard, memory_order_relaxed);
	}
	return true;
}

static void p11call_module_learn(CK_FUNCTION_LIST *fl, const CK_INFO *info)
{
	/* No token: only entries keyed by the module alone match. */
	static const CK_TOKEN_INFO no_token;
	bool guard = (quirks_lookup(info, &no_token)->flags & QUIRK_SIGPIPE) != 0;
	unsigned i, n;

	pthread_mutex_lock(&modules_lock);
	n = atomic_load_explicit(&n_modules, memory_order_relaxed);
	for (i = 0; i < n && atomic_load_explicit(&modules[i].fl, memory_order_relaxed) != fl; i++)
		;
	if (i < n) {
		atomic_store_explicit(&modules[i].guard, guard, memory_order_relaxed);
	} else if (n < P11_MODULES_MAX) {
		atomic_store_explicit(&modules[n].fl, fl, memory_order_relaxed);
		atomic_store_explicit(&modules[n].guard, guard, memory_order_relaxed);
		atomic_store_explicit(&n_modules, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&modules_lock);
}

/* After a module call: C_GetInfo's answer tells whether the module's
 * calls need the guard. The arguments are the call's own. */
static void p11call_module_answered(CK_FUNCTION_LIST *fl, enum p11_id id, CK_RV rv, ...)
{
	va_list ap;

	if (id != P11_C_GetInfo || rv != CKR_OK)
		return;
	va_start(ap, rv);
	p11call_module_learn(fl, va_arg(ap, CK_INFO_PTR));
	va_end(ap);
}

static void p11call_sigpipe_block(CK_FUNCTION_LIST *fl, struct p11_sigpipe *sp)
{
	sigset_t set, pending;

	sp->blocked = false;
	if (!p11call_module_guarded(fl))
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sp->blocked = pthread_sigmask(SIG_BLOCK, &set, &sp->old) == 0 &&
		      !sigismember(&sp->old, SIGPIPE);
	sp->pending = sp->blocked && sigpending(&pending) == 0 &&
		      sigismember(&pending, SIGPIPE);
}

static void p11call_sigpipe_restore(struct p11_sigpipe *sp)
{
	static const struct timespec now = { 0, 0 };
	sigset_t set, pending;

	if (!sp->blocked)
		return;
	if (!sp->pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		sigtimedwait(&set, NULL, &now);
	}
	pthread_sigmask(SIG_SETMASK, &sp->old, NULL);
}

#define P11_DEFINE_MODULE_CALL(name, loss, params, args, trace) \
	CK_RV p11_##name(CK_FUNCTION_LIST *fl P11_UNPAREN params) \
	{ \
		struct p11_sigpipe sp; \
		CK_RV rv; \
		p11call_sigpipe_block(fl, &sp); \
		rv = fl->C_##name(P11_UNPAREN args); \
		p11call_sigpipe_restore(&sp); \
		p11call_module_answered(fl, P11_C_##name, rv, P11_UNPAREN args); \
		return p11call_end(NULL, P11_C_##name, rv, P11_UNPAREN trace); \
	}
#define P11_DEFINE_SESSION_CALL(name, loss, params, args, trace) \
	CK_RV p11_##name(struct tsession *ts P11_UNPAREN params) \
	{ \
		struct p11_sigpipe sp; \
		CK_RV rv; \
		if (p11call_refused(ts, P11_C_##name, &rv)) \
			return rv; \
		p11call_sigpipe_block(ts->fl, &sp); \
		rv = ts->fl->C_##name(ts->handle P11_UNPAREN args); \
		p11call_sigpipe_restore(&sp); \
		return p11call_end(ts, P11_C_##name, rv, P11_UNPAREN trace); \
	}
P11_MODULE_CALLS(P11_DEFINE_MODULE_CALL)
P11_SESSION_CALLS(P11_DEFINE_SESSION_CALL)

void p11call_note_refusal(enum p11_id id, CK_RV rv)
{
	const char *name = error_ckr_name(rv);

	if (rv == CKR_OK || id >= P11_N_CALLS)
		return;
	trace_message("%s not called: the token refused it before (%s)", descs[id].name,
		      name != NULL ? name : "?");
	if (cleanup_depth == 0) {
		current.set = true;
		current.id = id;
		current.rv = rv;
	}
}

bool p11call_last_failure(enum p11_id *id, CK_RV *rv)
{
	if (!current.set)
		return false;
	*id = current.id;
	*rv = current.rv;
	return true;
}

void p11call_api_end(bool failed)
{
	if (failed)
		reported = current;
	current.set = false;
	cleanup_depth = 0;
}

bool p11call_reported_failure(enum p11_id *id, CK_RV *rv)
{
	if (!reported.set)
		return false;
	*id = reported.id;
	*rv = reported.rv;
	return true;
}
