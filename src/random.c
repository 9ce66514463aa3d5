/* CryptGenRandom's work. */
#include "config.h"
#include "random.h"
#include "errors.h"
#include "trace.h"

/* The token's generator when it has one (CKF_RNG, and no refusal of
 * C_GenerateRandom seen), else the companion's: a card without a
 * generator still serves CryptGenRandom, as Windows' smart card CSP does
 * from its software CSP. */
DWORD random_fill_locked(struct context *ctx, BYTE *buf, DWORD len)
{
	struct tsession *cts;
	DWORD err;
	CK_RV rv = CKR_RANDOM_NO_RNG;

	if (len == 0)
		return ERROR_SUCCESS;
	/* Without a companion the token is asked whatever it says of itself. */
	if ((token_has_rng(ctx->ts.tok) && token_cap(ctx->ts.tok, TOKEN_CAP_RANDOM) != TOKEN_CAP_NO) ||
	    !context_has_companion_locked(ctx)) {
		rv = token_random(&ctx->ts, buf, len);
		token_cap_learn(ctx->ts.tok, TOKEN_CAP_RANDOM, rv);
		if (!token_rv_is_refusal(rv) || !context_has_companion_locked(ctx))
			return token_rv_is_refusal(rv) ? NTE_NOT_SUPPORTED
						       : error_from_ckr(rv, ERROR_OP_GENERIC);
	}
	err = context_companion_locked(ctx, &cts);
	if (err != ERROR_SUCCESS)
		return err;
	trace_route("route: CryptGenRandom on the companion token %s", token_label(cts->tok));
	return error_from_ckr(token_random(cts, buf, len), ERROR_OP_GENERIC);
}
