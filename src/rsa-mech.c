/* The RSA encryption mechanism of CryptoAPI. */
#include "config.h"
#include "rsa-mech.h"
#include "route.h"

static const CK_RSA_PKCS_OAEP_PARAMS rsa_oaep = {
	CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0,
};

DWORD rsa_mech_choose(struct context *ctx, bool oaep, CK_FLAGS use, CK_MECHANISM *mech)
{
	return rsa_mech_choose_on(ctx->ts.tok, oaep, use, mech);
}

DWORD rsa_mech_choose_on(struct token *tok, bool oaep, CK_FLAGS use, CK_MECHANISM *mech)
{
	mech->mechanism = oaep ? CKM_RSA_PKCS_OAEP : CKM_RSA_PKCS;
	mech->pParameter = oaep ? (void *)&rsa_oaep : NULL;
	mech->ulParameterLen = oaep ? sizeof rsa_oaep : 0;
	return token_check_mechanism(tok, mech->mechanism, use);
}
