/* Tracing to standard error. */
#include "config.h"
#include "trace.h"
#include "errors.h"
#include "uri.h"
#include "util.h"

#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_uint level;

void trace_set_level(unsigned value)
{
	const char *env = getenv("CAPI11_TRACE");
	unsigned long from_env = env ? strtoul(env, NULL, 10) : 0;

	atomic_store(&level, from_env > value ? (unsigned)from_env : value);
}

void trace_message(const char *fmt, ...)
{
	va_list ap;

	if (atomic_load(&level) < 1)
		return;
	va_start(ap, fmt);
	fputs("capi11: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void trace_route(const char *fmt, ...)
{
	va_list ap;

	if (atomic_load(&level) < 2)
		return;
	va_start(ap, fmt);
	fputs("capi11: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void trace_uri(unsigned at, const char *what, const char *uri)
{
	char *shown;

	if (atomic_load(&level) < at || at == 0)
		return;
	shown = uri_redact(uri);
	fprintf(stderr, "capi11: %s: %s\n", what, shown != NULL ? shown : "(URI not shown)");
	capi11_free(shown);
}

void trace_api(const char *fn, DWORD err)
{
	unsigned l = atomic_load(&level);
	const char *name;

	if (l == 0 || (err == ERROR_SUCCESS && l < 2))
		return;
	name = error_name(err);
	fprintf(stderr, "capi11: %s: %s (0x%08x)\n", fn, name ? name : "unknown error",
		(unsigned)err);
}

bool trace_enabled(unsigned at)
{
	return atomic_load(&level) >= at;
}

void trace_ckr(const char *fn, CK_RV rv, const char *detail)
{
	const char *name;

	if (atomic_load(&level) < 3)
		return;
	name = error_ckr_name(rv);
	fprintf(stderr, "capi11:   %s: %s (0x%lx)%s%s%s\n", fn, name ? name : "unknown CK_RV",
		(unsigned long)rv, detail[0] ? " [" : "", detail, detail[0] ? "]" : "");
}
