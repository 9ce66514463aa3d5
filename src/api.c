/* The common end of every entry point. */
#include "config.h"
#include "api.h"
#include "p11call.h"
#include "trace.h"

BOOL api_finish(const char *fn, DWORD err)
{
	trace_api(fn, err);
	p11call_api_end(err != ERROR_SUCCESS);
	if (err != ERROR_SUCCESS) {
		SetLastError(err);
		return FALSE;
	}
	return TRUE;
}
