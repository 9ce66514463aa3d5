/* CryptEnumProviders over the configuration and the Microsoft names.
 *
 * Nothing here touches a token: a provider is listed because the
 * configuration makes its name acquirable, whether or not its token is
 * present at this moment, as Windows lists its smart card provider with
 * an empty reader. The Microsoft names follow the same rule: the default
 * provider (configured, or else the first token p11-kit offers) serves
 * them, so they are listed even when that token is absent, and acquiring
 * them then fails as acquiring the default provider would. */
#include "config.h"
#include "prov-enum.h"
#include "config-cache.h"
#include "param.h"
#include "prov-names.h"
#include "util.h"

#include <string.h>

struct enum_query {
	DWORD index;
	DWORD *type;
	char *name;
	DWORD *len;
};

/* Finds the index-th name; the configuration is only valid inside. */
static const char *entry_find(const struct capi11_config *cfg, DWORD index, DWORD *type)
{
	size_t count = config_provider_count(cfg), rest, i;
	const struct config_provider *p;
	const char *alias;

	if (index < count) {
		p = config_provider_at(cfg, index);
		/* A section without a type key serves both RSA types; the
		 * enumeration reports the one Windows programs ask for most. */
		*type = p->type != 0 ? p->type : PROV_RSA_FULL;
		return p->name;
	}
	rest = index - count;
	for (i = 0; (alias = prov_ms_name_at(i, type)) != NULL; i++) {
		/* A section of the same name was listed in file order; it,
		 * not the default provider, serves that name. */
		if (config_provider_find(cfg, alias) != NULL)
			continue;
		if (rest == 0)
			return alias;
		rest--;
	}
	return NULL;
}

static DWORD entry_copy(const struct capi11_config *cfg, void *data)
{
	struct enum_query *q = data;
	const char *name;
	DWORD type = 0, err;

	name = entry_find(cfg, q->index, &type);
	if (name == NULL)
		return ERROR_NO_MORE_ITEMS;
	/* The name with its terminating NUL, by the buffer rule of every
	 * parameter (SPEC section 2). */
	err = param_put((BYTE *)q->name, q->len, name, (DWORD)strlen(name) + 1);
	if (err == ERROR_SUCCESS && q->type != NULL)
		*q->type = type;
	return err;
}

DWORD prov_enum(DWORD index, DWORD *type, char *name, DWORD *len)
{
	struct enum_query q = { .index = index, .type = type, .name = name, .len = len };

	return_val_if_fail(len != NULL, ERROR_INVALID_PARAMETER);
	return config_cache_visit(entry_copy, &q);
}
