/* Provider URIs (RFC 7512) as capi11 reads them: p11-kit's parser, plus
 * the checks it leaves out, and the redacted form that traces show.
 * p11-kit keeps the last of two equal attributes without a word, ignores
 * query attributes it does not know and reads an empty or overlong slot-id
 * as some number: each would open another token than the one meant and
 * send it the PIN. */
#ifndef CAPI11_URI_H
#define CAPI11_URI_H

#include <stdbool.h>

#include <p11-kit/uri.h>

/* Parses a URI that names a token (a provider). Refused, with EINVAL and
 * *reason set to a static phrase that never quotes the URI:
 *   - what p11-kit cannot parse, or a path attribute it does not know;
 *   - an attribute given twice, in the path or in the query (names are
 *     compared after percent-decoding, so token=a;%74oken=b repeats);
 *   - a standard attribute name written percent-encoded (p11-kit would
 *     not see it);
 *   - both pin-value and pin-source;
 *   - a slot-id that is not a decimal slot number;
 *   - %00 in any value (a PIN or a label cannot hold a NUL byte);
 *   - object attributes (object, id, type): a provider names a token, and
 *     the container argument names the keys.
 * Returns 0 with *out the parsed URI (p11_kit_uri_free it; it holds the
 * pin-value, to be wiped), EINVAL, or ENOMEM. out may be NULL to check
 * only. */
int uri_parse_provider(const char *s, P11KitUri **out, const char **reason);

/* The parsed form of a provider URI string, shared by every acquire that
 * names the same string: p11-kit's parse and capi11's checks cost more
 * than the rest of a verify-context acquire. The last URI_CACHE_MAX
 * strings that parsed are kept, compared byte for byte (a URI that differs
 * in any byte) and hold no secret: a URI carrying a pin-value is parsed
 * afresh each time, and refused ones are not kept, so each refusal is
 * reported and traced again. Parsing depends on the string alone, so
 * entries stay valid across fork. Returns what uri_parse_provider
 * returns; on 0, *out is the parsed URI, read-only, and *ref is given back
 * with uri_cache_put once the caller is done with *out; *ref NULL (a URI
 * with a PIN): *out is the caller's, for uri_free_wiped. */
#define URI_CACHE_MAX 8
struct uri_cache_entry;
int uri_cache_get(const char *s, P11KitUri **out, struct uri_cache_entry **ref,
		  const char **reason);
void uri_cache_put(struct uri_cache_entry *ref);
/* p11_kit_uri_free, after wiping p11-kit's copy of the URI's pin-value. */
void uri_free_wiped(P11KitUri *uri);

/* Whether the URI carries a pin-value attribute (in any case, in the path
 * or the query), parsed or not. */
bool uri_has_pin_value(const char *s);

/* A capi11_malloc'd copy of s for traces and messages, with the value of
 * every pin-value attribute replaced by "***" (whatever its case or
 * encoding, in the path or the query, and in strings that do not parse).
 * NULL when s is NULL or memory runs out. capi11_free it. */
char *uri_redact(const char *s);

#endif
