/* Provider URIs: the strict reading and the redacted copy (uri.h). The
 * attributes are walked here on the URI text itself, because p11-kit's
 * parsed form cannot tell that an attribute was given twice. */
#include "config.h"
#include "uri.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#define URI_SCHEME "pkcs11:"
#define REDACTED "***"

/* RFC 7512's attributes, path and query: a name that decodes to one of
 * these but was written encoded would be skipped by p11-kit. */
static const char *const standard_names[] = {
	"token", "manufacturer", "serial", "model",
	"library-manufacturer", "library-description", "library-version",
	"slot-description", "slot-manufacturer", "slot-id",
	"object", "id", "type",
	"pin-source", "pin-value", "module-name", "module-path",
};

/* Object attributes: they name keys, which a provider URI does not. */
static const char *const object_names[] = { "object", "id", "type" };

struct attr {
	const char *name;          /* as written */
	size_t name_len;
	const char *value;         /* after the '='; NULL without one */
	size_t value_len;
};

/* Where the attributes start: after the scheme, or at the start of a
 * string that has none (redaction takes anything). */
static const char *attrs_start(const char *s)
{
	return strncasecmp(s, URI_SCHEME, strlen(URI_SCHEME)) == 0 ? s + strlen(URI_SCHEME) : s;
}

/* The next attribute from *pos: path attributes are separated by ';' and
 * end at the first '?', query attributes are separated by '&'. Empty ones
 * are skipped, as p11-kit skips them. */
static bool attr_next(const char **pos, bool *in_query, struct attr *a)
{
	const char *p = *pos;
	const char *eq;
	size_t n;

	for (;;) {
		if (*p == '\0')
			return false;
		if (*p == '?' && !*in_query)
			*in_query = true;
		else if (!((*p == ';' && !*in_query) || (*p == '&' && *in_query)))
			break;
		p++;
	}
	n = strcspn(p, *in_query ? "&" : ";?");
	eq = memchr(p, '=', n);
	a->name = p;
	a->name_len = eq != NULL ? (size_t)(eq - p) : n;
	a->value = eq != NULL ? eq + 1 : NULL;
	a->value_len = eq != NULL ? n - a->name_len - 1 : 0;
	*pos = p + n;
	return true;
}

/* Whether the path part holds an empty attribute before another (";"
 * first, or ";;"). p11-kit 0.24 then reads everything after it as query
 * attributes split at '&', so that text this file reads as one path
 * attribute can hold a pin-value for p11-kit: such a URI is refused, and
 * taken to carry a PIN by the checks that keep PINs out of sight. */
static bool path_has_empty_attr(const char *s)
{
	const char *p = attrs_start(s);
	size_t n = strcspn(p, "?");

	if (n > 0 && p[0] == ';')
		return true;
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] == ';' && p[i + 1] == ';')
			return true;
	}
	return false;
}

/* The decoded character of a's name at *i, which moves past it; -1 for a
 * malformed escape or an encoded NUL. */
static int name_char(const struct attr *a, size_t *i)
{
	int hi, lo;

	if (a->name[*i] != '%')
		return (unsigned char)a->name[(*i)++];
	hi = *i + 2 < a->name_len ? capi11_hex_value(a->name[*i + 1]) : -1;
	lo = hi >= 0 ? capi11_hex_value(a->name[*i + 2]) : -1;
	if (lo < 0 || (hi == 0 && lo == 0))
		return -1;
	*i += 3;
	return hi << 4 | lo;
}

/* The percent-decoded name, capi11_malloc'd; *bad set for a malformed
 * escape or an encoded NUL, the name then decoded up to it. */
static char *name_decode(const struct attr *a, bool *bad)
{
	char *out = capi11_malloc(a->name_len + 1), *d = out;
	size_t i = 0;
	int c;

	*bad = false;
	if (out == NULL)
		return NULL;
	while (i < a->name_len) {
		if ((c = name_char(a, &i)) < 0) {
			*bad = true;
			break;
		}
		*d++ = (char)c;
	}
	*d = '\0';
	return out;
}

static bool name_in(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(name, list[i]) == 0)
			return true;
	}
	return false;
}

/* pin-value in any case, escapes decoded: redaction errs on the side of
 * hiding. Compared as it is decoded, without a copy. */
static bool attr_is_pin_value(const struct attr *a)
{
	static const char want[] = "pin-value";
	size_t i = 0, k = 0;
	int c;

	/* What was decoded before a malformed escape counts, as when the
	 * name is decoded whole. */
	while (i < a->name_len && (c = name_char(a, &i)) >= 0) {
		if (k >= sizeof want - 1 || tolower(c) != want[k])
			return false;
		k++;
	}
	return k == sizeof want - 1;
}

static bool value_has_nul(const struct attr *a)
{
	size_t i;

	for (i = 0; a->value != NULL && i + 2 < a->value_len; i++) {
		if (a->value[i] != '%')
			continue;
		if (a->value[i + 1] == '0' && a->value[i + 2] == '0')
			return true;
		i += 2;
	}
	return false;
}

/* 1*DIGIT that fits a CK_SLOT_ID, and not the all-ones value by which
 * p11-kit means "no slot-id". */
static bool slot_id_valid(const struct attr *a)
{
	unsigned long n = 0, digit;
	size_t i;

	if (a->value == NULL || a->value_len == 0)
		return false;
	for (i = 0; i < a->value_len; i++) {
		if (a->value[i] < '0' || a->value[i] > '9')
			return false;
		digit = (unsigned long)(a->value[i] - '0');
		if (n > (ULONG_MAX - 1 - digit) / 10)
			return false;
		n = n * 10 + digit;
	}
	return true;
}

/* The checks on the text; reason stays NULL when they pass. */
static int uri_scan(const char *s, const char **reason)
{
	const char *pos = attrs_start(s);
	char **names = NULL, **grown, *name;
	size_t n = 0, i;
	bool in_query = false, bad, pin_value = false, pin_source = false;
	struct attr a;
	int rc = 0;

	if (path_has_empty_attr(s))
		*reason = "an empty attribute in the path";
	while (rc == 0 && *reason == NULL && attr_next(&pos, &in_query, &a)) {
		name = name_decode(&a, &bad);
		if (name == NULL) {
			rc = ENOMEM;
			break;
		}
		if (bad)
			*reason = "malformed percent-encoding in an attribute name";
		else if (a.name_len != strlen(name) &&
			 name_in(name, standard_names, CAPI11_N_ELEMENTS(standard_names)))
			*reason = "an attribute name is percent-encoded";
		else if (name_in(name, object_names, CAPI11_N_ELEMENTS(object_names)))
			*reason = "the URI names an object; a provider URI names a token";
		else if (value_has_nul(&a))
			*reason = "%00 in an attribute value";
		else if (strcmp(name, "slot-id") == 0 && !slot_id_valid(&a))
			*reason = "slot-id is not a slot number";
		for (i = 0; *reason == NULL && i < n; i++) {
			if (strcmp(names[i], name) == 0)
				*reason = "an attribute is given twice";
		}
		pin_value = pin_value || strcmp(name, "pin-value") == 0;
		pin_source = pin_source || strcmp(name, "pin-source") == 0;
		grown = capi11_realloc(names, (n + 1) * sizeof *names);
		if (grown == NULL) {
			capi11_free(name);
			rc = ENOMEM;
			break;
		}
		names = grown;
		names[n++] = name;
	}
	if (rc == 0 && *reason == NULL && pin_value && pin_source)
		*reason = "pin-value and pin-source exclude each other";
	for (i = 0; i < n; i++)
		capi11_free(names[i]);
	capi11_free(names);
	if (rc == 0 && *reason != NULL)
		rc = EINVAL;
	return rc;
}

int uri_parse_provider(const char *s, P11KitUri **out, const char **reason)
{
	P11KitUri *uri;
	const char *why = NULL;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (s == NULL || strncasecmp(s, URI_SCHEME, strlen(URI_SCHEME)) != 0) {
		*reason = "a URI must start with pkcs11:";
		return EINVAL;
	}
	rc = uri_scan(s, &why);
	if (rc == ENOMEM)
		why = "out of memory";
	if (rc != 0) {
		*reason = why;
		return rc;
	}
	uri = p11_kit_uri_new();
	if (uri == NULL) {
		*reason = "out of memory";
		return ENOMEM;
	}
	if (p11_kit_uri_parse(s, P11_KIT_URI_FOR_ANY, uri) != P11_KIT_URI_OK)
		why = "not a valid PKCS#11 URI";
	else if (p11_kit_uri_any_unrecognized(uri))
		why = "an attribute that p11-kit does not know";
	if (why != NULL || out == NULL) {
		/* p11-kit keeps a copy of pin-value. */
		const char *pin = p11_kit_uri_get_pin_value(uri);

		if (pin != NULL)
			capi11_wipe((void *)pin, strlen(pin));
		p11_kit_uri_free(uri);
		*reason = why;
		return why != NULL ? EINVAL : 0;
	}
	*out = uri;
	*reason = NULL;
	return 0;
}

struct uri_cache_entry {
	atomic_uint refs;          /* the cache's own, plus one per user */
	char *text;                /* may carry a PIN: wiped when freed */
	P11KitUri *uri;
};

static pthread_mutex_t uri_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t uri_cache_atfork_once = PTHREAD_ONCE_INIT;
static struct uri_cache_entry *uri_cache[URI_CACHE_MAX];
static size_t uri_cache_victim;

/* fork() copies only the forking thread: the cache lock, held by another
 * thread at that moment, would stay taken in the child. The forking thread
 * takes it first; both processes release it. */
static void uri_cache_fork_prepare(void)
{
	pthread_mutex_lock(&uri_cache_lock);
}

static void uri_cache_fork_release(void)
{
	pthread_mutex_unlock(&uri_cache_lock);
}

static void uri_cache_atfork_register(void)
{
	pthread_atfork(uri_cache_fork_prepare, uri_cache_fork_release, uri_cache_fork_release);
}

void uri_free_wiped(P11KitUri *uri)
{
	const char *pin;

	if (uri == NULL)
		return;
	/* p11-kit keeps a copy of pin-value. */
	pin = p11_kit_uri_get_pin_value(uri);
	if (pin != NULL)
		capi11_wipe((void *)pin, strlen(pin));
	p11_kit_uri_free(uri);
}

static void uri_cache_entry_free(struct uri_cache_entry *e)
{
	uri_free_wiped(e->uri);
	capi11_free_string_secret(e->text);
	capi11_free(e);
}

void uri_cache_put(struct uri_cache_entry *ref)
{
	if (ref != NULL && atomic_fetch_sub(&ref->refs, 1) == 1)
		uri_cache_entry_free(ref);
}

int uri_cache_get(const char *s, P11KitUri **out, struct uri_cache_entry **ref,
		  const char **reason)
{
	struct uri_cache_entry *e = NULL, *old;
	P11KitUri *uri;
	size_t i;
	int rc;

	*out = NULL;
	*ref = NULL;
	if (s == NULL)
		return uri_parse_provider(s, out, reason);
	/* Every text in the cache was checked to carry no PIN before it was
	 * kept, so a text equal to one of them carries none either. */
	pthread_once(&uri_cache_atfork_once, uri_cache_atfork_register);
	pthread_mutex_lock(&uri_cache_lock);
	for (i = 0; i < URI_CACHE_MAX && e == NULL; i++) {
		if (uri_cache[i] != NULL && strcmp(uri_cache[i]->text, s) == 0)
			e = uri_cache[i];
	}
	if (e != NULL)
		atomic_fetch_add(&e->refs, 1);
	pthread_mutex_unlock(&uri_cache_lock);
	if (e != NULL) {
		*out = e->uri;
		*ref = e;
		*reason = NULL;
		return 0;
	}
	/* A URI that carries a PIN is parsed afresh each time and wiped by
	 * its caller: the cache keeps no secret. */
	if (uri_has_pin_value(s))
		return uri_parse_provider(s, out, reason);

	rc = uri_parse_provider(s, &uri, reason);
	if (rc != 0)
		return rc;
	/* p11-kit found a PIN that the text check missed (it could not
	 * decode for want of memory): the caller's, not kept. */
	if (p11_kit_uri_get_pin_value(uri) != NULL) {
		*out = uri;
		return 0;
	}
	e = capi11_calloc(1, sizeof *e);
	if (e != NULL)
		e->text = capi11_strdup(s);
	if (e == NULL || e->text == NULL) {
		capi11_free(e);
		/* Not kept: the caller still gets its parse, as its own. */
		e = capi11_calloc(1, sizeof *e);
		if (e == NULL) {
			const char *pin = p11_kit_uri_get_pin_value(uri);

			if (pin != NULL)
				capi11_wipe((void *)pin, strlen(pin));
			p11_kit_uri_free(uri);
			*reason = "out of memory";
			return ENOMEM;
		}
		e->uri = uri;
		atomic_init(&e->refs, 1);
		*out = uri;
		*ref = e;
		return 0;
	}
	e->uri = uri;
	atomic_init(&e->refs, 2);
	pthread_mutex_lock(&uri_cache_lock);
	old = uri_cache[uri_cache_victim];
	uri_cache[uri_cache_victim] = e;
	uri_cache_victim = (uri_cache_victim + 1) % URI_CACHE_MAX;
	pthread_mutex_unlock(&uri_cache_lock);
	uri_cache_put(old);
	*out = uri;
	*ref = e;
	return 0;
}

/* What the cache holds does not outlive the library. */
__attribute__((destructor)) static void uri_cache_clear(void)
{
	size_t i;

	pthread_mutex_lock(&uri_cache_lock);
	for (i = 0; i < URI_CACHE_MAX; i++) {
		uri_cache_put(uri_cache[i]);
		uri_cache[i] = NULL;
	}
	pthread_mutex_unlock(&uri_cache_lock);
}

bool uri_has_pin_value(const char *s)
{
	const char *pos;
	bool in_query = false;
	struct attr a;

	if (s == NULL)
		return false;
	if (path_has_empty_attr(s))
		return true;
	pos = attrs_start(s);
	while (attr_next(&pos, &in_query, &a)) {
		if (attr_is_pin_value(&a))
			return true;
	}
	return false;
}

char *uri_redact(const char *s)
{
	const char *pos, *copied;
	char *out, *d;
	bool in_query = false;
	struct attr a;
	size_t len;

	if (s == NULL)
		return NULL;
	/* Where p11-kit would find attributes this file does not see, none
	 * of them is shown. */
	if (path_has_empty_attr(s)) {
		len = (size_t)(attrs_start(s) - s);
		out = capi11_malloc(len + sizeof REDACTED);
		if (out != NULL) {
			memcpy(out, s, len);
			memcpy(out + len, REDACTED, sizeof REDACTED);
		}
		return out;
	}
	/* "***" may be longer than the value it replaces. */
	len = strlen(s);
	if (!capi11_mul_size(len, 2, &len) || !capi11_add_size(len, 8, &len))
		return NULL;
	out = capi11_malloc(len);
	if (out == NULL)
		return NULL;
	d = out;
	pos = copied = attrs_start(s);
	memcpy(d, s, (size_t)(pos - s));
	d += pos - s;
	while (attr_next(&pos, &in_query, &a)) {
		if (a.value == NULL || !attr_is_pin_value(&a))
			continue;
		/* Everything up to the value as written, then the mask. */
		memcpy(d, copied, (size_t)(a.value - copied));
		d += a.value - copied;
		memcpy(d, REDACTED, strlen(REDACTED));
		d += strlen(REDACTED);
		copied = a.value + a.value_len;
	}
	strcpy(d, copied);
	return out;
}
