/* Strings between the Windows side of the CSP, where narrow strings are in
 * the ANSI code page (CP_ACP) as advapi32 hands them over, and libcapi11,
 * whose narrow strings are UTF-8 (the labels on the token). */
#ifndef CAPI11_CSP_TEXT_H
#define CAPI11_CSP_TEXT_H

#include <stdarg.h>

#include <windef.h>
#include <winbase.h>

/* An ANSI string as a new UTF-16 string (NULL stays NULL). Fails with the
 * Windows last error NTE_NO_MEMORY, or NTE_BAD_KEYSET_PARAM for a string
 * the code page cannot convert. Free with free(). */
BOOL csp_text_acp_to_wide(const char *s, WCHAR **out);

/* An ANSI string as a new UTF-8 string, in a buffer of *len bytes (the
 * terminating NUL included) that the caller wipes (it may hold a PIN) and
 * frees. Errors as csp_text_acp_to_wide. */
BOOL csp_text_acp_to_utf8(const char *s, char **out, size_t *len);

/* The NUL-terminated UTF-8 string in buf (at most cap bytes) in the ANSI
 * code page, in place: a character the code page lacks becomes '?', as
 * WideCharToMultiByte makes it. The result is never longer than the UTF-8
 * (one to four bytes a character become one or two), so it fits. *len is
 * its size with the NUL. Fails with NTE_NO_MEMORY or NTE_FAIL. */
BOOL csp_text_utf8_to_acp_inplace(char *buf, DWORD cap, DWORD *len);

/* Wipes n bytes, out of the compiler's reach. */
void csp_text_wipe(void *p, size_t n);

#endif
