/* GetLastError/SetLastError: one value per thread, as on Windows. */
#include "config.h"
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
