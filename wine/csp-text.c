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

/* Whether the ANSI string a (n bytes, its NUL included) reads back as the
 * n_wide UTF-16 characters of wide (its NUL included): the conversion lost
 * nothing and substituted nothing. */
static BOOL acp_reads_back(const char *a, int n, const WCHAR *wide, int n_wide)
{
	WCHAR *back;
	int k;
	BOOL same;

	k = MultiByteToWideChar(CP_ACP, MB_ERR_INVALID_CHARS, a, n, NULL, 0);
	if (k != n_wide)
		return FALSE;
	back = calloc((size_t)k, sizeof(WCHAR));
	if (back == NULL)
		return FALSE;
	same = MultiByteToWideChar(CP_ACP, MB_ERR_INVALID_CHARS, a, n, back, k) == k &&
	       memcmp(back, wide, (size_t)k * sizeof(WCHAR)) == 0;
	free(back);
	return same;
}

BOOL csp_text_utf8_to_acp(const char *s, DWORD cap, char **out, DWORD *len)
{
	WCHAR *wide = NULL;
	char *a = NULL;
	size_t utf8_len = strnlen(s, cap);
	BOOL used_default = FALSE, exact = TRUE;
	/* Under the UTF-8 code page WideCharToMultiByte takes neither flags
	 * nor a default character; the read-back below checks it alike. */
	BOOL utf8_acp = GetACP() == CP_UTF8;
	int n, m;

	*out = NULL;
	/* libcapi11 terminates what it stores; a string that is not is no
	 * name this side can give out. */
	if (utf8_len >= cap || utf8_len >= INT_MAX) {
		SetLastError(ERROR_NO_UNICODE_TRANSLATION);
		return FALSE;
	}
	/* The NUL is converted with the rest (n and m count it). Bytes that
	 * are not UTF-8 fail here rather than becoming U+FFFD. */
	n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)utf8_len + 1, NULL, 0);
	if (n <= 0) {
		SetLastError(ERROR_NO_UNICODE_TRANSLATION);
		return FALSE;
	}
	wide = calloc((size_t)n, sizeof(WCHAR));
	if (wide == NULL)
		goto nomem;
	MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)utf8_len + 1, wide, n);
	m = WideCharToMultiByte(CP_ACP, utf8_acp ? 0 : WC_NO_BEST_FIT_CHARS, wide, n, NULL, 0,
				NULL, NULL);
	if (m <= 0) {
		exact = FALSE;
	} else if ((a = malloc((size_t)m)) == NULL) {
		goto nomem;
	} else {
		WideCharToMultiByte(CP_ACP, utf8_acp ? 0 : WC_NO_BEST_FIT_CHARS, wide, n, a, m,
				    NULL, utf8_acp ? NULL : &used_default);
		/* Never longer than the UTF-8 form, whose size libcapi11's size
		 * query gave: that answer stays an upper bound. */
		exact = !used_default && (size_t)m <= utf8_len + 1 &&
			acp_reads_back(a, m, wide, n);
	}
	free(wide);
	if (!exact) {
		free(a);
		SetLastError(ERROR_NO_UNICODE_TRANSLATION);
		return FALSE;
	}
	*out = a;
	*len = (DWORD)m;
	return TRUE;
nomem:
	free(wide);
	SetLastError(NTE_NO_MEMORY);
	return FALSE;
}
