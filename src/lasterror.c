/* GetLastError/SetLastError: one value per thread, as on Windows; and
 * capi11's extension for the PKCS#11 call behind a failure. */
#include "config.h"
#include "p11call.h"

#include <stdio.h>
#include <wincrypt.h>

static _Thread_local DWORD last_error;

DWORD GetLastError(void)
{
	return last_error;
}

void SetLastError(DWORD code)
{
	last_error = code;
}

DWORD Capi11GetLastPkcs11Error(LPSTR szFunction, DWORD cchFunction)
{
	enum p11_id id;
	CK_RV rv;
	bool failed = p11call_reported_failure(&id, &rv);

	if (szFunction != NULL && cchFunction > 0)
		snprintf(szFunction, cchFunction, "%s", failed ? p11call_name(id) : "");
	return failed ? (DWORD)rv : 0;
}
