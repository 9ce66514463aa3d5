/* The RSA encryption mechanism of CryptoAPI. */
#include "config.h"
#include "rsa-mech.h"
#include "route.h"

static const CK_RSA_PKCS_OAEP_PARAMS rsa_oaep = {
	CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0,
};

DWORD rsa_mech_choose(struct context *ctx, bool oaep, CK_FLAGS use, CK_MECHANISM *mech)
{
	DWORD err;

	mech->mechanism = oaep ? CKM_RSA_PKCS_OAEP : CKM_RSA_PKCS;
	mech->pParameter = oaep ? (void *)&rsa_oaep : NULL;
	mech->ulParameterLen = oaep ? sizeof rsa_oaep : 0;
	err = context_check_mechanism(ctx, mech->mechanism, use);
	/* A card that does private-key operations only: encrypting or
	 * wrapping with the public key, and unwrapping into a session key,
	 * are the companion token's (route.h). */
	if (err == NTE_NOT_SUPPORTED && (use & (CKF_ENCRYPT | CKF_WRAP)))
		return route_needs_companion(ROUTE_PUBLIC_OP, CKR_MECHANISM_INVALID);
	if (err == NTE_NOT_SUPPORTED && (use & CKF_UNWRAP))
		return route_needs_companion(ROUTE_UNWRAP, CKR_MECHANISM_INVALID);
	return err;
}
