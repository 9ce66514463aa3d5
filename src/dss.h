/* DSS signature keys (CALG_DSS_SIGN) of the DSS provider types, made on the
 * token: domain parameters by CKM_DSA_PARAMETER_GEN, the pair by
 * CKM_DSA_KEY_PAIR_GEN, in the container as RSA pairs are. */
#ifndef CAPI11_DSS_H
#define CAPI11_DSS_H

#include "context.h"

#include <wincrypt.h>

struct key;

/* Prime lengths of Microsoft's DSS providers: 512 to 1024 bits in steps
 * of 64, 1024 by default. */
#define DSS_MIN_BITS 512
#define DSS_MAX_BITS 1024
#define DSS_STEP_BITS 64
#define DSS_DEFAULT_BITS 1024

/* CryptGenKey(AT_SIGNATURE or CALG_DSS_SIGN) in a DSS context, with the
 * context locked; HIWORD(flags) is the prime length (0: the default).
 * Errors: NTE_BAD_DATA for a length outside the range above or outside
 * the token's, NTE_BAD_ALGID when the token makes no DSA pairs, the
 * token's failures mapped. A failure leaves nothing on the token. */
DWORD dss_generate_locked(struct context *ctx, DWORD flags, struct key **out);

/* The longest p, q or g capi11 reads from a DSA key (a 16384-bit prime),
 * whatever made the key. */
#define DSS_MAX_PARAM_BYTES (16384 / 8)

/* CryptGetKeyParam(KP_P, KP_Q or KP_G) of a DSS key: the number,
 * little-endian as CryptoAPI numbers are, without padding. NTE_BAD_TYPE
 * for any other key. */
DWORD dss_get_param_locked(struct key *key, DWORD param, BYTE *data, DWORD *len);

/* The token's range of DSA prime lengths within Microsoft's; false when
 * the token makes no DSA domain parameters or pairs. */
bool dss_token_bits(struct token *tok, DWORD *min, DWORD *max);

#endif
