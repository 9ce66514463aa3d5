/* Microsoft's provider names. */
#include "config.h"
#include "prov-names.h"
#include "util.h"

#include <string.h>

/* Windows programs name Microsoft's RSA and DSS providers; capi11 serves
 * them with its default provider unless the configuration defines the name
 * itself. Each keeps its registered type, so that a mismatch is reported
 * as on Windows. */
static const struct {
	const char *name;
	DWORD type;
} ms_names[] = {
	{ MS_DEF_PROV_A, PROV_RSA_FULL },
	{ MS_ENHANCED_PROV_A, PROV_RSA_FULL },
	{ MS_STRONG_PROV_A, PROV_RSA_FULL },
	{ MS_SCARD_PROV_A, PROV_RSA_FULL },
	{ MS_ENH_RSA_AES_PROV_A, PROV_RSA_AES },
	{ MS_DEF_DSS_PROV_A, PROV_DSS },
	{ MS_DEF_DSS_DH_PROV_A, PROV_DSS_DH },
	{ MS_ENH_DSS_DH_PROV_A, PROV_DSS_DH },
};

const char *prov_ms_name_at(size_t index, DWORD *type)
{
	if (index >= CAPI11_N_ELEMENTS(ms_names))
		return NULL;
	if (type != NULL)
		*type = ms_names[index].type;
	return ms_names[index].name;
}

bool prov_ms_name_find(const char *name, DWORD *type)
{
	size_t i;

	for (i = 0; i < CAPI11_N_ELEMENTS(ms_names); i++) {
		if (strcmp(name, ms_names[i].name) == 0) {
			*type = ms_names[i].type;
			return true;
		}
	}
	return false;
}
