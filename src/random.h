/* CryptGenRandom: random bytes from the context's token (C_GenerateRandom,
 * SPEC section 6). */
#ifndef CAPI11_RANDOM_H
#define CAPI11_RANDOM_H

#include "context.h"

#include <wincrypt.h>

/* Fills len bytes of buf from the token, or from the companion token when
 * the token has no generator (CKF_RNG clear, or C_GenerateRandom refused),
 * with the context locked; len 0 asks the token nothing. Errors:
 * NTE_NOT_SUPPORTED (no generator on the token and no companion), the
 * token's failure, mapped. */
DWORD random_fill_locked(struct context *ctx, BYTE *buf, DWORD len);

#endif
