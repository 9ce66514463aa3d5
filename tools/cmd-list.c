/* capi11-tool list: what providers expose through the public API. There is
 * no CryptoAPI call that enumerates PKCS#11 slots, so a "token" is what one
 * provider reaches: its PP_NAME and PP_SMARTCARD_READER, its
 * PP_ENUMCONTAINERS, and per container the CryptGetUserKey pairs with
 * CryptGetKeyParam facts. The providers are the --provider arguments, or
 * else every one CryptEnumProviders lists. */
#include "config.h"
#include "tool.h"
#include "names.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROVIDERS 16

static const char list_help[] =
	"Usage: capi11-tool list [--provider P]... [--json] [OPTIONS]\n"
	"Lists, for each --provider (default: every provider CryptEnumProviders\n"
	"lists), the token's name and reader, its containers, and each container's\n"
	"exchange and signature keys: algorithm, bits, exportable, certificate\n"
	"present. An enumerated provider that cannot be opened is shown with its\n"
	"error. --pin-file needs --provider: one PIN is not tried on every token.\n"
	"  --json           one JSON document on stdout, for scripts\n"
	TOOL_COMMON_HELP;

struct key_facts {
	bool present;
	ALG_ID alg;
	DWORD bits;
	bool exportable;
	int certificate;        /* 1 yes, 0 no, -1 unknown */
};

struct list_state {
	bool json;
	bool first_provider;
	int failures;
};

/* One provider to list: a --provider argument (type 0: PROV_RSA_AES, as
 * every subcommand acquires) or an enumerated one with its type. */
struct list_target {
	const char *provider;
	DWORD type;
	bool enumerated;
};

static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* A string property; empty when the provider does not have it. */
static char *prov_string(HCRYPTPROV prov, DWORD param, DWORD flags)
{
	DWORD len = 0;
	char *s;

	if (!CryptGetProvParam(prov, param, NULL, &len, flags) || len == 0)
		return strdup("");
	s = calloc(1, (size_t)len + 1);
	if (s != NULL && !CryptGetProvParam(prov, param, (BYTE *)s, &len, flags))
		s[0] = '\0';
	return s;
}

static void key_facts_get(HCRYPTPROV prov, DWORD spec, struct key_facts *f)
{
	HCRYPTKEY key;
	DWORD perms = 0, len = 0;

	memset(f, 0, sizeof(*f));
	if (!CryptGetUserKey(prov, spec, &key))
		return;
	f->present = true;
	tool_key_dword(key, KP_ALGID, &f->alg);
	tool_key_dword(key, KP_KEYLEN, &f->bits);
	if (tool_key_dword(key, KP_PERMISSIONS, &perms))
		f->exportable = (perms & CRYPT_EXPORT) != 0;
	if (CryptGetKeyParam(key, KP_CERTIFICATE, NULL, &len, 0))
		f->certificate = 1;
	else
		f->certificate = GetLastError() == SCARD_E_NO_SUCH_CERTIFICATE ? 0 : -1;
	CryptDestroyKey(key);
}

static void key_print(const struct list_state *st, DWORD spec, const struct key_facts *f,
		      bool *first)
{
	const char *alg = names_alg(f->alg);

	if (!f->present)
		return;
	if (st->json) {
		printf("%s{\"spec\":\"%s\",\"algorithm\":", *first ? "" : ",", tool_spec_name(spec));
		json_string(alg ? alg : "unknown");
		printf(",\"bits\":%lu,\"exportable\":%s,\"certificate\":%s}",
		       (unsigned long)f->bits, f->exportable ? "true" : "false",
		       f->certificate < 0 ? "null" : f->certificate ? "true" : "false");
	} else {
		printf("    %-9s  %-13s %5lu bits  exportable: %-3s  certificate: %s\n",
		       tool_spec_name(spec), alg ? alg : "unknown", (unsigned long)f->bits,
		       f->exportable ? "yes" : "no",
		       f->certificate < 0 ? "unknown" : f->certificate ? "yes" : "no");
	}
	*first = false;
}

static void container_list(struct list_state *st, const struct tool_opts *opts,
			   DWORD type, const char *name, bool first)
{
	/* The key pairs, then the trusted key-encryption key (a capi11
	 * extension) where the security officer made one. */
	static const DWORD specs[3] = { AT_KEYEXCHANGE, AT_SIGNATURE, CAPI11_AT_KEK };
	HCRYPTPROV prov;
	char *unique = NULL;
	bool first_key = true, any = false;

	if (st->json) {
		printf("%s{\"name\":", first ? "" : ",");
		json_string(name);
	} else {
		printf("  container \"%s\"\n", name);
	}
	if (!CryptAcquireContext(&prov, name, opts->provider, type, 0)) {
		tool_fail(GetLastError(), "cannot open container %s", name);
		st->failures++;
		if (st->json)
			printf(",\"error\":true,\"keys\":[]}");
		return;
	}
	unique = prov_string(prov, PP_UNIQUE_CONTAINER, 0);
	if (st->json) {
		printf(",\"unique\":");
		json_string(unique);
		printf(",\"keys\":[");
	} else if (unique && unique[0]) {
		printf("    unique name: %s\n", unique);
	}
	for (int i = 0; i < 3; i++) {
		struct key_facts f;

		key_facts_get(prov, specs[i], &f);
		key_print(st, specs[i], &f, &first_key);
		any = any || f.present;
	}
	if (st->json)
		printf("]}");
	else if (!any)
		printf("    (no key)\n");
	free(unique);
	CryptReleaseContext(prov, 0);
}

/* An enumerated provider whose token is absent is a fact of the listing,
 * not a failure of it: shown with its error, the listing goes on. */
static bool enumerated_acquire(struct list_state *st, const struct list_target *t,
			       HCRYPTPROV *prov)
{
	char text[64];
	DWORD err;

	if (CryptAcquireContext(prov, NULL, t->provider, t->type, CRYPT_VERIFYCONTEXT))
		return true;
	err = GetLastError();
	tool_error_text(err, text, sizeof text);
	if (st->json) {
		printf(",\"error\":true,\"code\":");
		json_string(text);
		printf(",\"containers\":[]}");
	} else {
		printf("  error: %s\n", text);
	}
	return false;
}

/* PP_CAPI11_TOKEN_CAPS ("name=state ... write-protected=yes|no") as
 * ,"capabilities":{"name":"state",...},"write_protected":bool; nothing
 * when the provider did not say. */
static void caps_json(const char *caps)
{
	const char *p = caps;
	bool first = true, write_protected = false;

	if (caps == NULL)
		return;
	printf(",\"capabilities\":{");
	while (*p != '\0') {
		const char *end = strchr(p, ' '), *eq;
		size_t n = end ? (size_t)(end - p) : strlen(p);

		eq = memchr(p, '=', n);
		if (eq != NULL && (size_t)(eq - p) == strlen("write-protected") &&
		    strncmp(p, "write-protected", (size_t)(eq - p)) == 0) {
			write_protected = n - (size_t)(eq + 1 - p) == 3 && strncmp(eq + 1, "yes", 3) == 0;
		} else if (eq != NULL) {
			printf("%s\"%.*s\":\"%.*s\"", first ? "" : ",", (int)(eq - p), p,
			       (int)(n - (size_t)(eq + 1 - p)), eq + 1);
			first = false;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	printf("},\"write_protected\":%s", write_protected ? "true" : "false");
}

/* PP_CAPI11_ROUTES ("name=route ... companion=<label>") as
 * ,"routes":{"name":"route",...},"companion":"<label>"; nothing when the
 * provider did not say. The companion's label, last, may hold blanks. */
static void routes_json(const char *routes)
{
	static const char tail[] = "companion=";
	const char *p = routes, *label;
	bool first = true;

	if (routes == NULL)
		return;
	label = strstr(routes, tail);
	printf(",\"routes\":{");
	while (*p != '\0' && p != label) {
		const char *end = strchr(p, ' '), *eq;
		size_t n = end ? (size_t)(end - p) : strlen(p);

		eq = memchr(p, '=', n);
		if (eq != NULL) {
			printf("%s\"%.*s\":\"%.*s\"", first ? "" : ",", (int)(eq - p), p,
			       (int)(n - (size_t)(eq + 1 - p)), eq + 1);
			first = false;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	printf("},\"companion\":");
	json_string(label != NULL ? label + strlen(tail) : "");
}

static void provider_list(struct list_state *st, const struct tool_opts *opts,
			  const struct list_target *t)
{
	HCRYPTPROV prov;
	char *name = NULL, *reader = NULL, *caps = NULL, *routes = NULL;
	DWORD len, flags = CRYPT_FIRST, imptype = 0, protection = 0;
	DWORD type = t->type != 0 ? t->type : PROV_RSA_AES;
	BYTE *buf = NULL;
	bool first = true;

	if (st->json) {
		printf("%s{\"provider\":", st->first_provider ? "" : ",");
		json_string(opts->provider ? tool_redact(opts->provider) : "");
		if (t->enumerated)
			printf(",\"type\":%lu", (unsigned long)t->type);
	} else if (t->enumerated) {
		printf("provider %s (type %lu)\n", tool_redact(t->provider), (unsigned long)t->type);
	}
	st->first_provider = false;
	if (t->enumerated) {
		if (!enumerated_acquire(st, t, &prov))
			return;
	} else if (!tool_acquire(opts, CRYPT_VERIFYCONTEXT, false, &prov)) {
		st->failures++;
		if (st->json)
			printf(",\"error\":true,\"containers\":[]}");
		return;
	}
	name = prov_string(prov, PP_NAME, 0);
	reader = prov_string(prov, PP_SMARTCARD_READER, 0);
	len = sizeof(imptype);
	CryptGetProvParam(prov, PP_IMPTYPE, (BYTE *)&imptype, &len, 0);
	/* Whether sensitive keys may leave, wrapped under trusted keys. */
	len = sizeof(protection);
	if (!CryptGetProvParam(prov, PP_CAPI11_KEY_PROTECTION, (BYTE *)&protection, &len, 0))
		protection = 0;
	caps = prov_string(prov, PP_CAPI11_TOKEN_CAPS, 0);
	routes = prov_string(prov, PP_CAPI11_ROUTES, 0);
	if (st->json) {
		printf(",\"name\":");
		json_string(tool_redact(name));
		printf(",\"reader\":");
		json_string(tool_redact(reader));
		caps_json(caps);
		routes_json(routes);
		printf(",\"removable\":%s,\"sensitive_keys_leave\":%s,\"containers\":[",
		       (imptype & CRYPT_IMPL_REMOVABLE) ? "true" : "false",
		       protection == CAPI11_PROTECTION_TRUSTED_WRAP ? "\"wrapped under trusted keys\""
		       : protection == CAPI11_PROTECTION_NO_WRAP ? "\"never\"" : "null");
	} else {
		if (!t->enumerated)
			printf("provider %s\n",
			       opts->provider ? tool_redact(opts->provider) : "(default)");
		printf("  name: %s\n  reader: %s%s\n", name ? tool_redact(name) : "",
		       reader ? tool_redact(reader) : "",
		       (imptype & CRYPT_IMPL_REMOVABLE) ? " (removable)" : "");
		if (caps != NULL)
			printf("  token: %s\n", caps);
		if (routes != NULL)
			printf("  routes: %s\n", routes);
		printf("  sensitive keys leave: %s\n",
		       protection == CAPI11_PROTECTION_TRUSTED_WRAP
		       ? "wrapped under trusted keys only (the token enforces CKA_WRAP_WITH_TRUSTED)"
		       : protection == CAPI11_PROTECTION_NO_WRAP
		       ? "never (the token does not enforce CKA_WRAP_WITH_TRUSTED)" : "unknown");
	}
	/* A NULL buffer gives the size any name can need (MAX_PATH + 1 or the
	 * longest label), so one buffer serves the whole enumeration. */
	len = 0;
	if (CryptGetProvParam(prov, PP_ENUMCONTAINERS, NULL, &len, CRYPT_FIRST) &&
	    (buf = calloc(1, (size_t)len + 1)) != NULL) {
		DWORD size = len;

		while (CryptGetProvParam(prov, PP_ENUMCONTAINERS, buf, &len, flags)) {
			buf[len < size ? len : size] = '\0';
			container_list(st, opts, type, (const char *)buf, first);
			first = false;
			flags = CRYPT_NEXT;
			len = size;
		}
		if (GetLastError() != ERROR_NO_MORE_ITEMS) {
			tool_fail(GetLastError(), "container enumeration");
			st->failures++;
		}
	} else if (GetLastError() != ERROR_NO_MORE_ITEMS) {
		tool_fail(GetLastError(), "container enumeration");
		st->failures++;
	}
	if (first && !st->json)
		printf("  (no container)\n");
	if (st->json)
		printf("]}");
	free(buf);
	free(name);
	free(reader);
	free(caps);
	free(routes);
	tool_release(prov);
}

/* Every provider CryptEnumProviders lists, in its order. */
static void enumerated_list(struct list_state *st, struct tool_opts *opts)
{
	struct list_target t = { .enumerated = true };
	char *name;
	DWORD index, len = 0;

	for (index = 0;; index++) {
		if (!CryptEnumProviders(index, NULL, 0, &t.type, NULL, &len))
			break;
		name = malloc(len);
		if (name == NULL) {
			tool_error("out of memory");
			st->failures++;
			return;
		}
		if (!CryptEnumProviders(index, NULL, 0, &t.type, name, &len)) {
			free(name);
			break;
		}
		t.provider = name;
		opts->provider = name;
		provider_list(st, opts, &t);
		opts->provider = NULL;
		free(name);
	}
	if (GetLastError() != ERROR_NO_MORE_ITEMS) {
		tool_fail(GetLastError(), "cannot enumerate the providers");
		st->failures++;
	}
}

int cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "json", no_argument, NULL, OPT_FIRST_OWN },
		{ NULL, 0, NULL, 0 },
	};
	const char *providers[MAX_PROVIDERS];
	struct tool_opts opts = { 0 };
	struct list_state st = { .first_provider = true };
	int n = 0, opt;

	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(list_help, stdout);
			return EXIT_OK;
		} else if (opt == OPT_FIRST_OWN) {
			st.json = true;
		} else if (opt == OPT_PROVIDER) {
			if (n == MAX_PROVIDERS)
				return tool_usage_error("list", "at most %d providers", MAX_PROVIDERS);
			providers[n++] = optarg;
		} else if (!tool_common_option(&opts, opt, optarg)) {
			return tool_usage_error("list", "unknown option");
		}
	}
	if (optind < argc)
		return tool_usage_error("list", "unexpected argument '%s'", argv[optind]);
	if (opts.container != NULL)
		return tool_usage_error("list", "--container does not apply: every container "
					"is listed");
	if (n == 0 && opts.pin_file != NULL)
		return tool_usage_error("list", "--pin-file needs --provider: a PIN is not tried "
					"on every token");
	if (st.json)
		printf("{\"providers\":[");
	if (n == 0)
		enumerated_list(&st, &opts);
	for (int i = 0; i < n; i++) {
		struct list_target t = { .provider = providers[i] };

		opts.provider = providers[i];
		provider_list(&st, &opts, &t);
	}
	if (st.json)
		printf("]}\n");
	return st.failures ? EXIT_FAIL : EXIT_OK;
}
