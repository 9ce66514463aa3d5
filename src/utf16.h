/* UTF-16 (Windows' WCHAR strings) to and from UTF-8 (what capi11 keeps:
 * container labels, provider names). Pure functions, no PKCS#11; both
 * directions are strict, so that a name reads back as it was written. */
#ifndef CAPI11_UTF16_H
#define CAPI11_UTF16_H

#include <stdbool.h>
#include <stddef.h>
#include <wincrypt.h>

/* The NUL-terminated UTF-16 string s as a new NUL-terminated UTF-8
 * string (capi11_free it) in *out. An unpaired surrogate is invalid.
 * Returns false with *out NULL when s is invalid or memory runs out;
 * *nomem tells which. */
bool utf16_to_utf8_new(const WCHAR *s, char **out, bool *nomem);

/* The NUL-terminated UTF-8 string s as UTF-16 in out (cap code units, the
 * NUL included); *units gets the count needed, NUL included, whether or
 * not it fit. Overlong forms, surrogate code points, values past U+10FFFF
 * and truncated sequences are invalid. Returns false when s is invalid;
 * out is written only when everything fits (out may be NULL with cap 0). */
bool utf8_to_utf16(const char *s, WCHAR *out, size_t cap, size_t *units);

#endif
