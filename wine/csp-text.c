/* ANSI code page <-> UTF-8 for the CSP (csp-text.h). */
#include "csp-text.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <winnls.h>
#include <wincrypt.h>

void csp_text_wipe(void *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
}

BOOL csp_text_acp_to_wide(const char *s, WCHAR **out)
{
	int n;

	*out = NULL;
	if (s == NULL)
		return TRUE;
	n = MultiByteToWideChar(CP_ACP, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
	if (n <= 0) {
		SetLastError(NTE_BAD_KEYSET_PARAM);
		return FALSE;
	}
	*out = calloc((size_t)n, sizeof(WCHAR));
	if (*out == NULL) {
		SetLastError(NTE_NO_MEMORY);
		return FALSE;
	}
	MultiByteToWideChar(CP_ACP, MB_ERR_INVALID_CHARS, s, -1, *out, n);
	return TRUE;
}

BOOL csp_text_acp_to_utf8(const char *s, char **out, size_t *len)
{
	WCHAR *wide = NULL;
	size_t wide_len;
	int n;
	BOOL ok = FALSE;

	*out = NULL;
	if (!csp_text_acp_to_wide(s, &wide))
		return FALSE;
	wide_len = ((size_t)lstrlenW(wide) + 1) * sizeof(WCHAR);
	n = WideCharToMultiByte(CP_UTF8, 0, wide, -1, NULL, 0, NULL, NULL);
	if (n <= 0) {
		SetLastError(NTE_BAD_KEYSET_PARAM);
		goto out;
	}
	*out = malloc((size_t)n);
	if (*out == NULL) {
		SetLastError(NTE_NO_MEMORY);
		goto out;
	}
	WideCharToMultiByte(CP_UTF8, 0, wide, -1, *out, n, NULL, NULL);
	*len = (size_t)n;
	ok = TRUE;
out:
	csp_text_wipe(wide, wide_len);
	free(wide);
	return ok;
}

BOOL csp_text_utf8_to_acp_inplace(char *buf, DWORD cap, DWORD *len)
{
	WCHAR *wide;
	int n, m;

	/* libcapi11 terminates what it stores; a string that is not is
	 * taken as far as cap goes (and no further than an int counts). */
	size_t utf8_len = strnlen(buf, cap < INT_MAX ? cap : INT_MAX);

	n = utf8_len ? MultiByteToWideChar(CP_UTF8, 0, buf, (int)utf8_len, NULL, 0) : 0;
	if (n < 0 || (wide = calloc((size_t)n + 1, sizeof(WCHAR))) == NULL) {
		SetLastError(NTE_NO_MEMORY);
		return FALSE;
	}
	if (n > 0)
		MultiByteToWideChar(CP_UTF8, 0, buf, (int)utf8_len, wide, n);
	m = WideCharToMultiByte(CP_ACP, 0, wide, -1, NULL, 0, NULL, NULL);
	if (m <= 0 || (DWORD)m > cap) {
		free(wide);
		SetLastError(NTE_FAIL);
		return FALSE;
	}
	WideCharToMultiByte(CP_ACP, 0, wide, -1, buf, m, NULL, NULL);
	free(wide);
	*len = (DWORD)m;
	return TRUE;
}
