/* CryptGenRandom's work. */
#include "config.h"
#include "random.h"
#include "errors.h"

DWORD random_fill_locked(struct context *ctx, BYTE *buf, DWORD len)
{
	CK_RV rv = len == 0 ? CKR_OK : token_random(&ctx->ts, buf, len);

	return error_from_ckr(rv, ERROR_OP_GENERIC);
}
