/* DSS signatures on the token. */
#include "config.h"
#include "dss-sign.h"
#include "blob.h"
#include "errors.h"
#include "token-sign.h"
#include "util.h"

#include <string.h>

#define DSS_HALF (DSS_SIGNATURE_LEN / 2)

/* The flags and hash both calls take: DSS signs a SHA-1 value, with no
 * DigestInfo to leave out. */
static DWORD dss_check(const struct hash *hash, DWORD flags)
{
	if (flags & ~(DWORD)CRYPT_NOHASHOID)
		return NTE_BAD_FLAGS;
	if (hash->algid != CALG_SHA1)
		return NTE_BAD_ALGID;
	return ERROR_SUCCESS;
}

/* r and s swap byte order each on their own: Windows' halves and
 * PKCS#11's are both 20 bytes, in opposite orders. */
static void dss_halves_reverse(BYTE *dst, const BYTE *src)
{
	bn_reverse_copy(dst, src, DSS_HALF);
	bn_reverse_copy(dst + DSS_HALF, src + DSS_HALF, DSS_HALF);
}

DWORD dss_sign_hash_locked(struct hash *hash, DWORD spec, DWORD flags, BYTE *sig, DWORD *len,
			   struct key **used)
{
	struct context *ctx = hash->ctx;
	CK_MECHANISM mech = { CKM_DSA, NULL, 0 };
	BYTE out[DSS_SIGNATURE_LEN];
	CK_ULONG out_len = sizeof out;
	const BYTE *value;
	DWORD err;
	CK_RV rv;

	*used = NULL;
	if (flags & ~(DWORD)CRYPT_NOHASHOID)
		return NTE_BAD_FLAGS;
	if (spec != AT_KEYEXCHANGE && spec != AT_SIGNATURE)
		return NTE_BAD_ALGID;
	err = key_get_user_locked(ctx, spec, used);
	if (err != ERROR_SUCCESS)
		return err;
	if ((*used)->obj->type != CKK_DSA)
		return NTE_BAD_KEY;
	if (sig == NULL || *len < DSS_SIGNATURE_LEN) {
		*len = DSS_SIGNATURE_LEN;
		return sig == NULL ? ERROR_SUCCESS : ERROR_MORE_DATA;
	}
	err = dss_check(hash, flags);
	if (err != ERROR_SUCCESS)
		return err;
	err = hash_value_locked(hash, &value);
	if (err != ERROR_SUCCESS)
		return err;
	rv = token_sign(&ctx->ts, &mech, (*used)->obj->priv, value, hash->size, out, &out_len);
	if (rv == CKR_OK && out_len != DSS_SIGNATURE_LEN)
		rv = CKR_GENERAL_ERROR;
	if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED || rv == CKR_KEY_TYPE_INCONSISTENT)
		return NTE_BAD_KEY;
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	dss_halves_reverse(sig, out);
	*len = DSS_SIGNATURE_LEN;
	return ERROR_SUCCESS;
}

DWORD dss_verify_locked(struct hash *hash, const BYTE *sig, DWORD sig_len, struct key *key,
			DWORD flags)
{
	CK_MECHANISM mech = { CKM_DSA, NULL, 0 };
	BYTE be[DSS_SIGNATURE_LEN];
	struct tsession *kts;
	const BYTE *value;
	DWORD err;
	CK_RV rv;

	if (flags & ~(DWORD)CRYPT_NOHASHOID)
		return NTE_BAD_FLAGS;
	kts = key_session_in_locked(hash->ctx, key);
	if (key->obj->type != CKK_DSA || key->obj->pub == CK_INVALID_HANDLE || kts == NULL)
		return NTE_BAD_KEY;
	err = dss_check(hash, flags);
	if (err != ERROR_SUCCESS)
		return err;
	if (sig_len != DSS_SIGNATURE_LEN)
		return NTE_BAD_SIGNATURE;
	err = hash_value_locked(hash, &value);
	if (err != ERROR_SUCCESS)
		return err;
	dss_halves_reverse(be, sig);
	rv = token_verify(kts, &mech, key->obj->pub, value, hash->size, be, sizeof be);
	if (rv == CKR_SIGNATURE_INVALID || rv == CKR_SIGNATURE_LEN_RANGE)
		return NTE_BAD_SIGNATURE;
	if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED || rv == CKR_KEY_TYPE_INCONSISTENT)
		return NTE_BAD_KEY;
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	return ERROR_SUCCESS;
}
