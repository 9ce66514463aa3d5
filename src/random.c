/* CryptGenRandom's work. */
#include "config.h"
#include "random.h"
#include "errors.h"
#include "route.h"

DWORD random_fill_locked(struct context *ctx, BYTE *buf, DWORD len)
{
	CK_RV rv = len == 0 ? CKR_OK : token_random(&ctx->ts, buf, len);

	token_cap_learn(ctx->ts.tok, TOKEN_CAP_RANDOM, rv);
	/* A card without a generator: the companion token's (route.h). */
	if (rv == CKR_RANDOM_NO_RNG || rv == CKR_FUNCTION_NOT_SUPPORTED)
		return route_needs_companion(ROUTE_RANDOM, rv);
	return error_from_ckr(rv, ERROR_OP_GENERIC);
}
