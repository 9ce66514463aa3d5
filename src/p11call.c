/* The wrappers of the PKCS#11 call table (p11call.h), and what happens
 * after every call: tracing, session loss, the thread's last failure. */
#include "config.h"
#include "p11call.h"
#include "errors.h"
#include "session.h"
#include "trace.h"

#include <stdarg.h>
#include <stdio.h>

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

/* Everything that follows a call, in one place. ts is NULL for calls on
 * the module or a slot. */
static CK_RV __attribute__((format(printf, 4, 5)))
p11call_end(struct tsession *ts, enum p11_id id, CK_RV rv, const char *fmt, ...)
{
	char detail[160];
	va_list ap;

	if (trace_enabled(3)) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof detail, fmt, ap);
		va_end(ap);
		trace_ckr(descs[id].name, rv, detail);
	}
	if (rv != CKR_OK && cleanup_depth == 0) {
		current.set = true;
		current.id = id;
		current.rv = rv;
	}
	if (ts != NULL) {
		ts->last_rv = rv;
		if (descs[id].loss != P11_LOSS_NONE && p11call_rv_loses_session(rv)) {
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

#define P11_DEFINE_MODULE_CALL(name, loss, params, args, trace) \
	CK_RV p11_##name(CK_FUNCTION_LIST *fl P11_UNPAREN params) \
	{ \
		CK_RV rv = fl->C_##name(P11_UNPAREN args); \
		return p11call_end(NULL, P11_C_##name, rv, P11_UNPAREN trace); \
	}
#define P11_DEFINE_SESSION_CALL(name, loss, params, args, trace) \
	CK_RV p11_##name(struct tsession *ts P11_UNPAREN params) \
	{ \
		CK_RV rv; \
		if (p11call_refused(ts, P11_C_##name, &rv)) \
			return rv; \
		rv = ts->fl->C_##name(ts->handle P11_UNPAREN args); \
		return p11call_end(ts, P11_C_##name, rv, P11_UNPAREN trace); \
	}
P11_MODULE_CALLS(P11_DEFINE_MODULE_CALL)
P11_SESSION_CALLS(P11_DEFINE_SESSION_CALL)

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
