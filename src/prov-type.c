/* Provider types and the algorithms they serve. */
#include "config.h"
#include "prov-type.h"

bool prov_type_is_dss(DWORD prov_type)
{
	return prov_type == PROV_DSS || prov_type == PROV_DSS_DH;
}

bool prov_type_serves(DWORD prov_type, ALG_ID alg)
{
	bool dss = prov_type_is_dss(prov_type);

	switch (alg) {
	case CALG_RSA_SIGN:
	case CALG_RSA_KEYX:
		return !dss;
	case CALG_DSS_SIGN:
		return dss;
	/* PROV_DSS_DH's Diffie-Hellman keys (dh.h). */
	case CALG_DH_SF:
	case CALG_DH_EPHEM:
		return prov_type == PROV_DSS_DH;
	/* Microsoft's DSS providers do not know the SSL3 hash of the RSA
	 * SChannel handshake. */
	case CALG_SSL3_SHAMD5:
		return !dss;
	case CALG_MAC:
	case CALG_HMAC:
		return prov_type != PROV_DSS;
	default:
		break;
	}
	if (GET_ALG_CLASS(alg) == ALG_CLASS_DATA_ENCRYPT)
		return prov_type != PROV_DSS;
	return true;
}
