/* The RSA encryption mechanism of CryptoAPI: PKCS#1 v1.5, or with
 * CRYPT_OAEP, OAEP as Windows means it (SHA-1, MGF1-SHA-1, no label; also
 * all SoftHSM offers). One home for CryptEncrypt/CryptDecrypt of RSA keys
 * and the SIMPLEBLOB wrap and unwrap. */
#ifndef CAPI11_RSA_MECH_H
#define CAPI11_RSA_MECH_H

#include "context.h"

#include <p11-kit/pkcs11.h>
#include <stdbool.h>

/* Bytes of the modulus that the padding takes: PKCS#1 v1.5 11; OAEP with
 * SHA-1 2 * 20 + 2. */
#define RSA_PKCS1_OVERHEAD 11
#define RSA_OAEP_OVERHEAD 42

/* CKM_RSA_PKCS, or with oaep CKM_RSA_PKCS_OAEP with the parameters above,
 * for a use (CKF_ENCRYPT, CKF_DECRYPT, CKF_WRAP, CKF_UNWRAP) that the
 * context's token must offer it for (context_check_mechanism): else
 * NTE_NOT_SUPPORTED. The parameters are static: mech stays valid. */
DWORD rsa_mech_choose(struct context *ctx, bool oaep, CK_FLAGS use, CK_MECHANISM *mech);
/* The same on any token (the companion's, for a route there). */
DWORD rsa_mech_choose_on(struct token *tok, bool oaep, CK_FLAGS use, CK_MECHANISM *mech);

#endif
