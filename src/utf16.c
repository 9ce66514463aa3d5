/* UTF-16 <-> UTF-8 for the wide entry points (api-wide.c). */
#include "config.h"
#include "utf16.h"
#include "util.h"

#include <stdint.h>
#include <string.h>

/* The code point at s[*i], advancing *i; false for an unpaired surrogate. */
static bool utf16_next(const WCHAR *s, size_t *i, uint32_t *cp)
{
	uint32_t hi = s[*i];

	if (hi >= 0xdc00 && hi <= 0xdfff)
		return false;
	if (hi >= 0xd800 && hi <= 0xdbff) {
		uint32_t lo = s[*i + 1];

		if (lo < 0xdc00 || lo > 0xdfff)
			return false;
		*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
		*i += 2;
		return true;
	}
	*cp = hi;
	*i += 1;
	return true;
}

static size_t utf8_len_of(uint32_t cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static char *utf8_put(char *p, uint32_t cp)
{
	switch (utf8_len_of(cp)) {
	case 1:
		*p++ = (char)cp;
		break;
	case 2:
		*p++ = (char)(0xc0 | (cp >> 6));
		*p++ = (char)(0x80 | (cp & 0x3f));
		break;
	case 3:
		*p++ = (char)(0xe0 | (cp >> 12));
		*p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*p++ = (char)(0x80 | (cp & 0x3f));
		break;
	default:
		*p++ = (char)(0xf0 | (cp >> 18));
		*p++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*p++ = (char)(0x80 | (cp & 0x3f));
		break;
	}
	return p;
}

bool utf16_to_utf8_new(const WCHAR *s, char **out, bool *nomem)
{
	size_t i = 0, need = 1;
	uint32_t cp = 0;
	char *p;

	*out = NULL;
	*nomem = false;
	/* First pass: validate and measure. Each code unit gives at most 3
	 * bytes (a pair gives 4 for 2 units), so need cannot wrap before the
	 * string's own size would. */
	while (s[i] != 0) {
		if (!utf16_next(s, &i, &cp))
			return false;
		need += utf8_len_of(cp);
	}
	*out = capi11_malloc(need);
	if (*out == NULL) {
		*nomem = true;
		return false;
	}
	p = *out;
	for (i = 0; s[i] != 0;) {
		utf16_next(s, &i, &cp);
		p = utf8_put(p, cp);
	}
	*p = '\0';
	return true;
}

/* The code point at s, its length in *n; false when the bytes there are
 * not a shortest-form UTF-8 scalar value. */
static bool utf8_next(const unsigned char *s, uint32_t *cp, size_t *n)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len, k;
	uint32_t v;

	if (s[0] < 0x80) {
		*cp = s[0];
		*n = 1;
		return true;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		v = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		v = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		v = s[0] & 0x07;
	} else {
		return false;
	}
	/* A NUL inside ends the string: it fails the continuation test. */
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return false;
		v = (v << 6) | (s[k] & 0x3f);
	}
	if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return false;
	*cp = v;
	*n = len;
	return true;
}

bool utf8_to_utf16(const char *s, WCHAR *out, size_t cap, size_t *units)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need = 1, n, j = 0;
	uint32_t cp = 0;

	for (; *p != 0; p += n) {
		if (!utf8_next(p, &cp, &n))
			return false;
		need += cp >= 0x10000 ? 2 : 1;
	}
	*units = need;
	if (out == NULL || cap < need)
		return true;
	for (p = (const unsigned char *)s; *p != 0; p += n) {
		utf8_next(p, &cp, &n);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			out[j++] = (WCHAR)(0xd800 + (cp >> 10));
			out[j++] = (WCHAR)(0xdc00 + (cp & 0x3ff));
		} else {
			out[j++] = (WCHAR)cp;
		}
	}
	out[j] = 0;
	return true;
}
