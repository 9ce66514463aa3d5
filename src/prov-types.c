/* The provider types capi11 can acquire, with the TypeName Windows gives
 * each under HKLM\SOFTWARE\Microsoft\Cryptography\Defaults\Provider Types.
 * Only types that CryptAcquireContext serves are listed (context.c), in
 * Windows' order (by type): the SChannel types join when their providers
 * exist. */
#include "config.h"
#include "prov-types.h"
#include "util.h"

static const struct {
	DWORD type;
	const char *name;
} prov_types[] = {
	{ PROV_RSA_FULL, "RSA Full (Signature and Key Exchange)" },
	{ PROV_DSS, "DSS Signature" },
	{ PROV_DSS_DH, "DSS Signature with Diffie-Hellman Key Exchange" },
	{ PROV_RSA_AES, "RSA Full and AES" },
};

DWORD prov_type_at(DWORD index, DWORD *type, const char **name)
{
	if (index >= CAPI11_N_ELEMENTS(prov_types))
		return ERROR_NO_MORE_ITEMS;
	*type = prov_types[index].type;
	*name = prov_types[index].name;
	return ERROR_SUCCESS;
}
