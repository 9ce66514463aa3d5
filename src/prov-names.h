/* The provider names capi11 answers to besides its configuration's
 * [provider] sections and pkcs11: URIs: its default provider's own name,
 * and the Microsoft RSA and DSS provider names that Windows programs ask
 * for. */
#ifndef CAPI11_PROV_NAMES_H
#define CAPI11_PROV_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <wincrypt.h>

/* PP_NAME of a context of the default provider, when no name chose it. */
#define PROV_NAME_DEFAULT "capi11"

/* The index-th Microsoft provider name that the default provider
 * serves, with the type Windows registers it with (type may be NULL);
 * NULL past the end. */
const char *prov_ms_name_at(size_t index, DWORD *type);
/* Whether name is one of them; *type gets its registered type. */
bool prov_ms_name_find(const char *name, DWORD *type);

#endif
