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

/* The NUL-terminated UTF-8 string s (its NUL within the first cap bytes)
 * as a new ANSI string of *len bytes (the NUL included), to free(). Only
 * an exact conversion is given: one that reads back as the same
 * characters, with no best fit ("\uff21" is not 'A'), no default
 * character ('?') and no U+FFFD for bytes that are not UTF-8; it is never
 * longer than the UTF-8. Otherwise it fails with ERROR_NO_UNICODE_TRANSLATION
 * (the name is no name in the code page), or NTE_NO_MEMORY. */
BOOL csp_text_utf8_to_acp(const char *s, DWORD cap, char **out, DWORD *len);

/* Wipes n bytes, out of the compiler's reach. */
void csp_text_wipe(void *p, size_t n);

#endif
