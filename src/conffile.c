/* Reading capi11.conf. The format is line-based INI, documented in
 * capi11.conf(5): [capi11] for global settings, [provider "name"] for each
 * named provider, "key = value" lines, # and ; comments. Unknown keys and
 * sections are errors that name their line, so a typo never silently falls
 * back to a default. The text may hold PINs: every buffer it passed
 * through is wiped before it is freed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* secure_getenv */
#endif
#include "config.h"
#include "conffile.h"
#include "companion.h"
#include "uri.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#error "SYSCONFDIR must be defined by the build, e.g. -DSYSCONFDIR='\"/etc\"'"
#endif

/* A configuration is a few hundred bytes; the cap only stops a wrong path
 * (a device, a huge log) from being read into memory. */
#define CONFIG_FILE_MAX (1024 * 1024)

#define URI_SCHEME "pkcs11:"

enum section_kind {
	SECTION_NONE,
	SECTION_GLOBAL,
	SECTION_PROVIDER,
};

enum key_id {
	KEY_DEFAULT_PROVIDER,
	KEY_TRACE,
	KEY_RSA_BITS,
	KEY_EXPORTABLE_POLICY,
	KEY_DEFAULT_CONTAINER,
	KEY_PIN_PROMPT,
	KEY_COMPANION,
	KEY_URI,
	KEY_TYPE,
	KEY_PIN_SOURCE,
	KEY_PIN_VALUE,
	KEY_TYPE_DEFAULT,      /* default-provider-<type>, see config_key_find */
};

#define IN_GLOBAL (1u << SECTION_GLOBAL)
#define IN_PROVIDER (1u << SECTION_PROVIDER)

static const struct {
	const char *name;
	enum key_id id;
	unsigned int sections;
} key_table[] = {
	{ "default-provider", KEY_DEFAULT_PROVIDER, IN_GLOBAL },
	{ "trace", KEY_TRACE, IN_GLOBAL },
	{ "rsa-bits", KEY_RSA_BITS, IN_GLOBAL | IN_PROVIDER },
	{ "exportable-policy", KEY_EXPORTABLE_POLICY, IN_GLOBAL | IN_PROVIDER },
	{ "default-container", KEY_DEFAULT_CONTAINER, IN_GLOBAL | IN_PROVIDER },
	{ "pin-prompt", KEY_PIN_PROMPT, IN_GLOBAL | IN_PROVIDER },
	{ "companion", KEY_COMPANION, IN_GLOBAL | IN_PROVIDER },
	{ "uri", KEY_URI, IN_PROVIDER },
	{ "type", KEY_TYPE, IN_PROVIDER },
	{ "pin-source", KEY_PIN_SOURCE, IN_PROVIDER },
	{ "pin-value", KEY_PIN_VALUE, IN_PROVIDER },
};

/* Windows' provider type names without their PROV_ prefix. */
static const struct {
	const char *name;
	uint32_t type;
} type_table[] = {
	{ "rsa_full", 1 },
	{ "dss", 3 },
	{ "dss_dh", 13 },
	{ "rsa_aes", 24 },
};

/* What one section said; 0 or NULL where it said nothing. */
struct settings_given {
	unsigned int rsa_bits;
	bool has_policy;
	enum config_export_policy policy;
	char *default_container;
	char *pin_prompt;
	char *companion;
};

struct provider {
	char *name;
	char *uri;
	uint32_t type;
	char *pin_source;
	char *pin_value;
	struct settings_given given;
	unsigned int line;              /* of the section header */
	struct config_provider view;    /* resolved by config_resolve */
};

/* default-provider-<type>: the default provider of one type, as
 * CryptSetProviderEx writes it (prov-default.c). */
struct type_default {
	uint32_t type;
	char *name;
};

struct capi11_config {
	struct settings_given given;
	char *default_provider;
	unsigned int default_provider_line;
	struct type_default *type_defaults;
	size_t n_type_defaults;
	unsigned int trace;
	struct provider *providers;
	size_t n_providers;
	struct config_settings global;  /* resolved by config_resolve */
};

struct parser {
	struct capi11_config *cfg;
	enum section_kind section;
	size_t provider;                /* index, while in a provider section */
	uint32_t seen;                  /* keys set in the current section */
	bool global_seen;
	uint32_t key_type;              /* the <type> of default-provider-<type> */
	unsigned int line;
	struct config_error *error;
};

static int parser_fail(struct parser *p, int code, const char *reason)
{
	if (p->error != NULL) {
		p->error->line = p->line;
		p->error->code = code;
		p->error->reason = reason;
	}
	return code;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static char *skip_blank(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

/* After a section header or a quoted value only a comment may follow. */
static bool is_line_end(const char *s)
{
	while (is_blank(*s))
		s++;
	return *s == '\0' || *s == '#' || *s == ';';
}

/* Decodes the quoted string that starts at s (on the opening quote) in
 * place: \" and \\ are the only escapes. Returns the reason on failure;
 * on success *end points after the closing quote. */
static const char *quoted_decode(char *s, char **end)
{
	char *src = s + 1;
	char *dst = s;

	for (;;) {
		if (*src == '\0')
			return "unterminated quoted string";
		if (*src == '"')
			break;
		if (*src == '\\') {
			src++;
			if (*src != '"' && *src != '\\')
				return "invalid escape in quoted string (only \\\" and \\\\)";
		}
		*dst++ = *src++;
	}
	*end = src + 1;
	*dst = '\0';
	return NULL;
}

/* Unquoted values end where a comment starts: a # or ; that follows a
 * blank. A bare ; inside a value stays, because pkcs11: URIs use it to
 * separate attributes. */
static void unquoted_trim(char *s)
{
	char *end = s + strlen(s);
	char *c;

	for (c = s; *c != '\0'; c++) {
		if ((*c == '#' || *c == ';') && (c == s || is_blank(c[-1]))) {
			end = c;
			break;
		}
	}
	while (end > s && is_blank(end[-1]))
		end--;
	*end = '\0';
}

/* Decimal digits only: no sign, no leading blanks, no overflow. */
static bool number_parse(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long n = 0, digit;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		digit = (unsigned long)(*s - '0');
		if (digit > max || n > (max - digit) / 10)
			return false;
		n = n * 10 + digit;
	}
	*out = n;
	return true;
}

static bool type_parse(const char *s, uint32_t *out)
{
	unsigned long n;
	size_t i;

	if (strncasecmp(s, "prov_", 5) == 0)
		s += 5;
	for (i = 0; i < CAPI11_N_ELEMENTS(type_table); i++) {
		if (strcasecmp(s, type_table[i].name) == 0) {
			*out = type_table[i].type;
			return true;
		}
	}
	if (!number_parse(s, 999, &n))
		return false;
	for (i = 0; i < CAPI11_N_ELEMENTS(type_table); i++) {
		if (type_table[i].type == n) {
			*out = type_table[i].type;
			return true;
		}
	}
	return false;
}

static bool has_uri_scheme(const char *s)
{
	return strncasecmp(s, URI_SCHEME, strlen(URI_SCHEME)) == 0;
}

/* Checked as CryptAcquireContext will read it (uri.h), so that a misspelt
 * or repeated attribute is reported here rather than opening another
 * token. */
static const char *uri_check(const char *s)
{
	const char *reason = NULL;

	uri_parse_provider(s, NULL, &reason);
	return reason;
}

static int string_take(struct parser *p, char **dst, const char *value)
{
	*dst = capi11_strdup(value);
	if (*dst == NULL)
		return parser_fail(p, ENOMEM, "out of memory");
	return 0;
}

static int settings_set(struct parser *p, struct settings_given *g,
                        enum key_id id, const char *value)
{
	const char *reason;
	unsigned long n;

	switch (id) {
	case KEY_RSA_BITS:
		if (!number_parse(value, CONFIG_RSA_BITS_MAX, &n) ||
		    n < CONFIG_RSA_BITS_MIN || n % 8 != 0)
			return parser_fail(p, EINVAL,
			                   "rsa-bits must be a multiple of 8 from 384 to 16384");
		g->rsa_bits = (unsigned int)n;
		return 0;
	case KEY_EXPORTABLE_POLICY:
		if (strcasecmp(value, "plain") == 0)
			g->policy = CONFIG_EXPORT_PLAIN;
		else if (strcasecmp(value, "sensitive") == 0)
			g->policy = CONFIG_EXPORT_SENSITIVE;
		else
			return parser_fail(p, EINVAL,
			                   "exportable-policy must be plain or sensitive");
		g->has_policy = true;
		return 0;
	case KEY_DEFAULT_CONTAINER:
		return string_take(p, &g->default_container, value);
	case KEY_PIN_PROMPT:
		return string_take(p, &g->pin_prompt, value);
	case KEY_COMPANION:
		/* A URI is checked as a provider's is; it may carry a PIN, and
		 * is wiped on free like one. */
		if (!has_uri_scheme(value) && !companion_spec_is_keyword(value))
			return parser_fail(p, EINVAL,
			                   "companion must be nss, none or a pkcs11: URI");
		if (has_uri_scheme(value) && (reason = uri_check(value)) != NULL)
			return parser_fail(p, EINVAL, reason);
		return string_take(p, &g->companion, value);
	default:
		return parser_fail(p, EINVAL, "key not valid in this section");
	}
}

static int type_default_add(struct parser *p, const char *value)
{
	struct capi11_config *cfg = p->cfg;
	struct type_default *grown;
	size_t i;
	int rc;

	for (i = 0; i < cfg->n_type_defaults; i++) {
		if (cfg->type_defaults[i].type == p->key_type)
			return parser_fail(p, EINVAL, "duplicate key");
	}
	/* A default is a provider name, as Windows keeps it; never a URI
	 * (which could carry a PIN into a file many read). */
	if (has_uri_scheme(value))
		return parser_fail(p, EINVAL, "default-provider-<type> must name a provider");
	grown = capi11_realloc(cfg->type_defaults, (cfg->n_type_defaults + 1) * sizeof *grown);
	if (grown == NULL)
		return parser_fail(p, ENOMEM, "out of memory");
	cfg->type_defaults = grown;
	grown[cfg->n_type_defaults].type = p->key_type;
	grown[cfg->n_type_defaults].name = NULL;
	rc = string_take(p, &grown[cfg->n_type_defaults].name, value);
	if (rc == 0)
		cfg->n_type_defaults++;
	return rc;
}

static int global_set(struct parser *p, enum key_id id, const char *value)
{
	struct capi11_config *cfg = p->cfg;
	const char *reason;
	unsigned long n;

	switch (id) {
	case KEY_DEFAULT_PROVIDER:
		if (has_uri_scheme(value) && (reason = uri_check(value)) != NULL)
			return parser_fail(p, EINVAL, reason);
		/* Wiped on free like uri: it may be a URI with pin-value. */
		cfg->default_provider_line = p->line;
		return string_take(p, &cfg->default_provider, value);
	case KEY_TYPE_DEFAULT:
		return type_default_add(p, value);
	case KEY_TRACE:
		if (!number_parse(value, CONFIG_TRACE_MAX, &n))
			return parser_fail(p, EINVAL, "trace must be a number from 0 to 3");
		cfg->trace = (unsigned int)n;
		return 0;
	default:
		return settings_set(p, &cfg->given, id, value);
	}
}

static int provider_set(struct parser *p, enum key_id id, const char *value)
{
	struct provider *prov = &p->cfg->providers[p->provider];
	const char *reason;

	switch (id) {
	case KEY_URI:
		reason = uri_check(value);
		if (reason != NULL)
			return parser_fail(p, EINVAL, reason);
		return string_take(p, &prov->uri, value);
	case KEY_TYPE:
		if (!type_parse(value, &prov->type))
			return parser_fail(p, EINVAL,
			                   "type must be rsa_full, rsa_aes, dss, dss_dh or 1, 24, 3, 13");
		return 0;
	/* One PIN per provider: with both, which one the token gets would be
	 * a rule nobody reads. */
	case KEY_PIN_SOURCE:
		if (prov->pin_value != NULL)
			return parser_fail(p, EINVAL, "pin-source and pin-value exclude each other");
		return string_take(p, &prov->pin_source, value);
	case KEY_PIN_VALUE:
		if (prov->pin_source != NULL)
			return parser_fail(p, EINVAL, "pin-source and pin-value exclude each other");
		return string_take(p, &prov->pin_value, value);
	default:
		return settings_set(p, &prov->given, id, value);
	}
}

static int section_open_provider(struct parser *p, const char *name)
{
	struct capi11_config *cfg = p->cfg;
	struct provider *grown;
	size_t i, count;

	if (*name == '\0')
		return parser_fail(p, EINVAL, "empty provider name");
	/* CryptAcquireContext reads a provider string that starts with
	 * pkcs11: as a URI, so such a name could never be selected. */
	if (has_uri_scheme(name))
		return parser_fail(p, EINVAL, "a provider name may not start with pkcs11:");
	for (i = 0; i < cfg->n_providers; i++) {
		if (strcmp(cfg->providers[i].name, name) == 0)
			return parser_fail(p, EINVAL, "duplicate provider");
	}
	if (!capi11_add_size(cfg->n_providers, 1, &count))
		return parser_fail(p, ENOMEM, "out of memory");
	grown = capi11_realloc(cfg->providers, count * sizeof *grown);
	if (grown == NULL)
		return parser_fail(p, ENOMEM, "out of memory");
	cfg->providers = grown;
	memset(&grown[cfg->n_providers], 0, sizeof *grown);
	grown[cfg->n_providers].line = p->line;
	grown[cfg->n_providers].name = capi11_strdup(name);
	if (grown[cfg->n_providers].name == NULL)
		return parser_fail(p, ENOMEM, "out of memory");
	p->provider = cfg->n_providers;
	cfg->n_providers = count;
	p->section = SECTION_PROVIDER;
	p->seen = 0;
	return 0;
}

/* s points at the '[' of a header line. */
static int section_parse(struct parser *p, char *s)
{
	const char *reason;
	char *word, *end;
	size_t len;

	s = skip_blank(s + 1);
	word = s;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	       (*s >= '0' && *s <= '9'))
		s++;
	len = (size_t)(s - word);

	if (len == 6 && strncasecmp(word, "capi11", len) == 0) {
		s = skip_blank(s);
		if (*s != ']' || !is_line_end(s + 1))
			return parser_fail(p, EINVAL, "malformed section header");
		if (p->global_seen)
			return parser_fail(p, EINVAL, "duplicate section [capi11]");
		p->global_seen = true;
		p->section = SECTION_GLOBAL;
		p->seen = 0;
		return 0;
	}
	if (len == 8 && strncasecmp(word, "provider", len) == 0) {
		s = skip_blank(s);
		if (*s != '"')
			return parser_fail(p, EINVAL, "provider name must be quoted: [provider \"name\"]");
		reason = quoted_decode(s, &end);
		if (reason != NULL)
			return parser_fail(p, EINVAL, reason);
		end = skip_blank(end);
		if (*end != ']' || !is_line_end(end + 1))
			return parser_fail(p, EINVAL, "malformed section header");
		return section_open_provider(p, s);
	}
	return parser_fail(p, EINVAL, "unknown section");
}

/* A key = value name of the file: its id, when the current section takes it. */
static int config_key_find(struct parser *p, const char *name, size_t len, enum key_id *id)
{
	static const char type_prefix[] = "default-provider-";
	const size_t plen = sizeof type_prefix - 1;
	size_t i;

	/* default-provider-<type>, <type> a decimal PROV_* value 1..999
	 * without leading zeros, in [capi11] only. */
	if (len > plen && len <= plen + 3 && strncasecmp(name, type_prefix, plen) == 0 &&
	    name[plen] != '0') {
		uint32_t t = 0;

		for (i = plen; i < len && name[i] >= '0' && name[i] <= '9'; i++)
			t = t * 10 + (uint32_t)(name[i] - '0');
		if (i == len) {
			if (p->section != SECTION_GLOBAL)
				return parser_fail(p, EINVAL, "key not valid in a [provider] section");
			p->key_type = t;
			*id = KEY_TYPE_DEFAULT;
			return 0;
		}
	}
	for (i = 0; i < CAPI11_N_ELEMENTS(key_table); i++) {
		if (strlen(key_table[i].name) != len ||
		    strncasecmp(key_table[i].name, name, len) != 0)
			continue;
		if (!(key_table[i].sections & (1u << p->section)))
			return parser_fail(p, EINVAL, p->section == SECTION_GLOBAL ?
			                   "key not valid in [capi11]" :
			                   "key not valid in a [provider] section");
		*id = key_table[i].id;
		return 0;
	}
	return parser_fail(p, EINVAL, "unknown key");
}

/* s is a trimmed, non-empty line that is neither comment nor header. */
static int assignment_parse(struct parser *p, char *s)
{
	const char *reason;
	char *name, *value, *end;
	size_t len;
	enum key_id id;
	bool quoted;
	int rc;

	name = s;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	       (*s >= '0' && *s <= '9') || *s == '-' || *s == '_')
		s++;
	len = (size_t)(s - name);
	s = skip_blank(s);
	if (len == 0 || *s != '=')
		return parser_fail(p, EINVAL, "expected key = value");
	if (p->section == SECTION_NONE)
		return parser_fail(p, EINVAL, "key outside a section");
	rc = config_key_find(p, name, len, &id);
	if (rc != 0)
		return rc;
	/* Per-type defaults are told apart by type (type_default_add). */
	if (id != KEY_TYPE_DEFAULT) {
		if (p->seen & (1u << id))
			return parser_fail(p, EINVAL, "duplicate key");
		p->seen |= 1u << id;
	}

	value = skip_blank(s + 1);
	quoted = *value == '"';
	if (quoted) {
		reason = quoted_decode(value, &end);
		if (reason != NULL)
			return parser_fail(p, EINVAL, reason);
		if (!is_line_end(end))
			return parser_fail(p, EINVAL, "text after the closing quote");
	} else {
		unquoted_trim(value);
	}
	/* "pin-value =" left half-edited is caught here; pin-value = ""
	 * parses, and like every PIN that cannot be valid is refused before
	 * C_Login (token_pin_check), with the code a wrong PIN gets. */
	if (*value == '\0' && !(quoted && id == KEY_PIN_VALUE))
		return parser_fail(p, EINVAL, "missing value");

	if (p->section == SECTION_GLOBAL)
		return global_set(p, id, value);
	return provider_set(p, id, value);
}

static int line_parse(struct parser *p, char *line)
{
	char *s = skip_blank(line);
	char *end = s + strlen(s);

	while (end > s && is_blank(end[-1]))
		end--;
	*end = '\0';
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return section_parse(p, s);
	return assignment_parse(p, s);
}

static void settings_resolve(struct config_settings *out, const struct settings_given *g,
                             const struct config_settings *fallback)
{
	out->rsa_bits = g->rsa_bits != 0 ? g->rsa_bits : fallback->rsa_bits;
	out->exportable_policy = g->has_policy ? g->policy : fallback->exportable_policy;
	out->default_container = g->default_container != NULL ?
	                         g->default_container : fallback->default_container;
	out->pin_prompt = g->pin_prompt != NULL ? g->pin_prompt : fallback->pin_prompt;
	out->companion = g->companion != NULL ? g->companion : fallback->companion;
}

/* Checks that need the whole file ([capi11] may come last) and fills in
 * every value the file left to its fallback. */
static int config_resolve(struct parser *p)
{
	static const struct config_settings builtin = {
		.rsa_bits = CONFIG_RSA_BITS_DEFAULT,
		.exportable_policy = CONFIG_EXPORT_PLAIN,
	};
	struct capi11_config *cfg = p->cfg;
	struct provider *prov;
	size_t i;

	settings_resolve(&cfg->global, &cfg->given, &builtin);
	for (i = 0; i < cfg->n_providers; i++) {
		prov = &cfg->providers[i];
		if (prov->uri == NULL) {
			p->line = prov->line;
			return parser_fail(p, EINVAL, "provider has no uri");
		}
		prov->view.name = prov->name;
		prov->view.uri = prov->uri;
		prov->view.type = prov->type;
		prov->view.pin_source = prov->pin_source;
		prov->view.pin_value = prov->pin_value;
		settings_resolve(&prov->view.settings, &prov->given, &cfg->global);
	}
	if (cfg->default_provider != NULL && !has_uri_scheme(cfg->default_provider) &&
	    config_provider_find(cfg, cfg->default_provider) == NULL) {
		p->line = cfg->default_provider_line;
		return parser_fail(p, EINVAL, "default-provider names no [provider] section");
	}
	return 0;
}

/* Parses a writable, NUL-terminated copy of the text in place. */
static struct capi11_config *config_parse_buffer(char *text, size_t len,
                                                 struct config_error *error)
{
	struct parser p = { .error = error };
	char *line, *next, *stop = text + len;
	int rc = 0;

	p.cfg = capi11_calloc(1, sizeof *p.cfg);
	if (p.cfg == NULL) {
		rc = parser_fail(&p, ENOMEM, "out of memory");
		goto out;
	}
	for (line = text; line < stop && rc == 0; line = next) {
		p.line++;
		next = memchr(line, '\n', (size_t)(stop - line));
		if (next == NULL)
			next = stop;
		/* A NUL would end the line early and hide the rest of it. */
		if (memchr(line, '\0', (size_t)(next - line)) != NULL) {
			rc = parser_fail(&p, EINVAL, "NUL byte in the file");
			break;
		}
		if (next < stop)
			*next++ = '\0';
		rc = line_parse(&p, line);
	}
	if (rc == 0)
		rc = config_resolve(&p);

out:
	if (rc != 0) {
		config_free(p.cfg);
		return NULL;
	}
	return p.cfg;
}

struct capi11_config *config_parse(const char *text, size_t len, struct config_error *error)
{
	struct capi11_config *cfg;
	size_t size;
	char *copy;

	return_val_if_fail(text != NULL || len == 0, NULL);

	if (!capi11_add_size(len, 1, &size) || (copy = capi11_malloc(size)) == NULL) {
		if (error != NULL)
			*error = (struct config_error){ 0, ENOMEM, "out of memory" };
		return NULL;
	}
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	cfg = config_parse_buffer(copy, len, error);
	capi11_free_secret(copy, size);
	return cfg;
}

const char *config_path_default(void)
{
	/* secure_getenv: a setuid program must not be pointed at a file
	 * chosen by its caller. */
	const char *env = secure_getenv(CONFIG_ENV_PATH);

	if (env != NULL && *env != '\0')
		return env;
	return SYSCONFDIR "/capi11.conf";
}

/* Whether the file holds a PIN: a pin-value key, or a URI carrying one. */
static bool config_holds_pin(const struct capi11_config *cfg)
{
	size_t i;

	if (uri_has_pin_value(cfg->default_provider) || uri_has_pin_value(cfg->given.companion))
		return true;
	for (i = 0; i < cfg->n_providers; i++) {
		if (cfg->providers[i].pin_value != NULL || uri_has_pin_value(cfg->providers[i].uri) ||
		    uri_has_pin_value(cfg->providers[i].given.companion))
			return true;
	}
	return false;
}

struct capi11_config *config_load(const char *path, struct config_error *error)
{
	struct capi11_config *cfg = NULL;
	const char *why = NULL;
	char *text = NULL;
	size_t len = 0, size = 0;
	struct stat st;
	int rc;

	if (path == NULL)
		path = config_path_default();

	rc = capi11_read_file(path, CONFIG_FILE_MAX, &st, &text, &len, &size);
	if (rc == ENOENT)
		return config_parse("", 0, error);
	if (rc == 0)
		cfg = config_parse_buffer(text, len, error);
	/* A file that holds a PIN is held to the rule of a pin-source file;
	 * one without (the usual case: pin-source, prompts) may stay
	 * world-readable, as /etc files are. */
	if (cfg != NULL && config_holds_pin(cfg) && capi11_file_check_private(&st, &why) != 0) {
		why = (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) ?
		      "holds a pin-value, so group and others may not read or write it (chmod 600)" :
		      "holds a pin-value, so only the user or root may own it";
		config_free(cfg);
		cfg = NULL;
		rc = EPERM;
	}

	if (rc != 0 && error != NULL) {
		if (why == NULL)
			why = rc == EFBIG ? "file larger than 1 MiB" :
			      rc == EINVAL ? "not a regular file" : "cannot read the file";
		*error = (struct config_error){ 0, rc, why };
	}
	capi11_free_secret(text, size);
	return cfg;
}

static void settings_given_free(struct settings_given *g)
{
	capi11_free(g->default_container);
	capi11_free(g->pin_prompt);
	capi11_free_string_secret(g->companion);
}

void config_free(struct capi11_config *cfg)
{
	struct provider *prov;
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_providers; i++) {
		prov = &cfg->providers[i];
		capi11_free(prov->name);
		/* A URI may carry pin-value in its query. */
		capi11_free_string_secret(prov->uri);
		capi11_free(prov->pin_source);
		capi11_free_string_secret(prov->pin_value);
		settings_given_free(&prov->given);
	}
	capi11_free(cfg->providers);
	settings_given_free(&cfg->given);
	capi11_free_string_secret(cfg->default_provider);
	for (i = 0; i < cfg->n_type_defaults; i++)
		capi11_free(cfg->type_defaults[i].name);
	capi11_free(cfg->type_defaults);
	capi11_free(cfg);
}

const char *config_type_default(const struct capi11_config *cfg, uint32_t type)
{
	size_t i;

	return_val_if_fail(cfg != NULL, NULL);
	for (i = 0; i < cfg->n_type_defaults; i++) {
		if (cfg->type_defaults[i].type == type)
			return cfg->type_defaults[i].name;
	}
	return NULL;
}

const char *config_default_provider(const struct capi11_config *cfg)
{
	return_val_if_fail(cfg != NULL, NULL);
	return cfg->default_provider;
}

unsigned int config_trace(const struct capi11_config *cfg)
{
	return_val_if_fail(cfg != NULL, 0);
	return cfg->trace;
}

const struct config_settings *config_settings_global(const struct capi11_config *cfg)
{
	return_val_if_fail(cfg != NULL, NULL);
	return &cfg->global;
}

const struct config_provider *config_provider_find(const struct capi11_config *cfg,
                                                   const char *name)
{
	size_t i;

	return_val_if_fail(cfg != NULL, NULL);
	return_val_if_fail(name != NULL, NULL);

	for (i = 0; i < cfg->n_providers; i++) {
		if (strcmp(cfg->providers[i].name, name) == 0)
			return &cfg->providers[i].view;
	}
	return NULL;
}

size_t config_provider_count(const struct capi11_config *cfg)
{
	return_val_if_fail(cfg != NULL, 0);
	return cfg->n_providers;
}

const struct config_provider *config_provider_at(const struct capi11_config *cfg,
                                                 size_t index)
{
	return_val_if_fail(cfg != NULL, NULL);
	return_val_if_fail(index < cfg->n_providers, NULL);
	return &cfg->providers[index].view;
}
