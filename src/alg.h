/* What capi11 knows of each ALG_ID it serves: key lengths, families and the
 * PKCS#11 key type behind it. Table lookups only, no token involved. */
#ifndef CAPI11_ALG_H
#define CAPI11_ALG_H

#include <wincrypt.h>
#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>

/* RSA modulus sizes in bits, Microsoft's documented range for
 * CALG_RSA_KEYX/CALG_RSA_SIGN in the Enhanced and AES providers (in 8-bit
 * steps). A token's own range (CK_MECHANISM_INFO) is usually narrower and
 * is checked by the code that talks to the token. */
#define ALG_RSA_MIN_BITS 384
#define ALG_RSA_MAX_BITS 16384

/* The storage length in bytes of a fixed-length session key: AES_128/192/256
 * 16/24/32, DES 8, 3DES_112 16, 3DES 24 (DES keys are stored with their
 * parity bits). False for every other ALG_ID, variable-length RC2/RC4 and
 * CALG_AES (0x6611, which names no length) included. */
bool alg_symmetric_key_len(ALG_ID alg, size_t *len);

/* The range of key lengths in bytes that a session-key algorithm takes:
 * min == max for the fixed-length ones above; RC2 and RC4 take 5 to 16
 * bytes (40 to 128 bits, what Microsoft's Enhanced provider imports).
 * False for an ALG_ID that is not a session-key algorithm. */
bool alg_symmetric_key_range(ALG_ID alg, size_t *min, size_t *max);

/* CALG_DES, CALG_3DES_112 and CALG_3DES: Windows reports a bad length of
 * these with NTE_BAD_FLAGS where other algorithms give NTE_BAD_DATA. */
bool alg_is_des_family(ALG_ID alg);

/* CALG_AES_128/192/256. */
bool alg_is_aes(ALG_ID alg);

/* CALG_RSA_KEYX and CALG_RSA_SIGN. */
bool alg_is_rsa(ALG_ID alg);

/* The PKCS#11 key type of the keys of alg: CKK_AES, CKK_DES, CKK_DES2
 * (3DES_112), CKK_DES3, CKK_RC2, CKK_RC4, CKK_RSA. False for others. */
bool alg_key_type(ALG_ID alg, CK_KEY_TYPE *type);

#endif
