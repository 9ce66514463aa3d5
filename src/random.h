/* CryptGenRandom: random bytes from the context's token (C_GenerateRandom,
 * SPEC section 6). */
#ifndef CAPI11_RANDOM_H
#define CAPI11_RANDOM_H

#include "context.h"

#include <wincrypt.h>

/* Fills len bytes of buf from the token, with the context locked; len 0
 * asks the token nothing. Errors: the token's failure, mapped. */
DWORD random_fill_locked(struct context *ctx, BYTE *buf, DWORD len);

#endif
