/* Signatures of hash values: DigestInfo, the token's CKM_RSA_PKCS, and
 * Windows' little-endian byte order. */
#include "config.h"
#include "sign.h"
#include "alg.h"
#include "rsa-mech.h"
#include "errors.h"
#include "token-sign.h"
#include "util.h"

#include <string.h>

/* Prefix (at most 19 bytes) and value (at most 64). */
#define DIGEST_INFO_MAX 96

/* What the token signs for this hash: the DigestInfo, or with
 * CRYPT_NOHASHOID (and always for CALG_SSL3_SHAMD5) the bare value.
 * Finishes the hash. */
static DWORD sign_input(struct hash *hash, DWORD flags, BYTE *out, DWORD *out_len)
{
	bool oid = !(flags & CRYPT_NOHASHOID) && hash->algid != CALG_SSL3_SHAMD5;
	const struct hash_alg *alg = hash_alg_find(hash->algid);
	const BYTE *value;
	DWORD n = 0, err;

	/* HMAC values are not signed: no DigestInfo names them. */
	if (hash->algid == CALG_HMAC || (oid && alg == NULL))
		return NTE_BAD_ALGID;
	err = hash_value_locked(hash, &value);
	if (err != ERROR_SUCCESS)
		return err;
	if (oid) {
		memcpy(out, alg->prefix, alg->prefix_len);
		n = alg->prefix_len;
	}
	memcpy(out + n, value, hash->size);
	*out_len = n + hash->size;
	return ERROR_SUCCESS;
}

/* The length of what sign_input gives, before finishing anything. */
static DWORD sign_input_len(const struct hash *hash, DWORD flags)
{
	const struct hash_alg *alg = hash_alg_find(hash->algid);
	bool oid = !(flags & CRYPT_NOHASHOID) && alg != NULL;

	return (oid ? alg->prefix_len : 0) + hash->size;
}

static void reverse_copy(BYTE *dst, const BYTE *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

DWORD sign_hash_locked(struct hash *hash, DWORD spec, DWORD flags, BYTE *sig, DWORD *len,
		       struct key **used)
{
	struct context *ctx = hash->ctx;
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	BYTE input[DIGEST_INFO_MAX];
	BYTE *out = NULL;
	CK_ULONG out_len;
	struct key *key = NULL;
	DWORD in_len, k, err;
	CK_RV rv;

	*used = NULL;
	if (flags & ~(DWORD)CRYPT_NOHASHOID)
		return NTE_BAD_FLAGS;
	if (spec != AT_KEYEXCHANGE && spec != AT_SIGNATURE)
		return NTE_BAD_ALGID;
	if (hash->algid == CALG_HMAC)
		return NTE_BAD_ALGID;
	err = key_get_user_locked(ctx, spec, &key);
	if (err != ERROR_SUCCESS)
		return err;
	k = key->bits / 8;
	if (sig == NULL || *len < k) {
		*len = k;
		err = sig == NULL ? ERROR_SUCCESS : ERROR_MORE_DATA;
		goto out;
	}
	/* PKCS#1 v1.5 needs 11 bytes of padding around the DigestInfo. */
	if (hash->size == 0 || sign_input_len(hash, flags) + RSA_PKCS1_OVERHEAD > k) {
		err = hash->size == 0 ? NTE_BAD_HASH_STATE : NTE_BAD_LEN;
		goto out;
	}
	err = sign_input(hash, flags, input, &in_len);
	if (err != ERROR_SUCCESS)
		goto out;
	out = capi11_malloc(k);
	if (out == NULL) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	out_len = k;
	rv = token_sign(&ctx->ts, &mech, key->obj->priv, input, in_len, out, &out_len);
	if (rv == CKR_OK && out_len != k)
		rv = CKR_GENERAL_ERROR;
	if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED || rv == CKR_KEY_TYPE_INCONSISTENT) {
		err = NTE_BAD_KEY;
		goto out;
	}
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
		goto out;
	}
	reverse_copy(sig, out, k);
	*len = k;
out:
	capi11_free(out);
	capi11_wipe(input, sizeof input);
	*used = key;
	return err;
}

DWORD sign_verify_locked(struct hash *hash, const BYTE *sig, DWORD sig_len, struct key *key,
			 DWORD flags)
{
	struct context *ctx = hash->ctx;
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	BYTE input[DIGEST_INFO_MAX];
	BYTE *be = NULL;
	DWORD in_len, k, err;
	CK_RV rv;

	if (flags & ~(DWORD)CRYPT_NOHASHOID)
		return NTE_BAD_FLAGS;
	if (key->obj->type != CKK_RSA || key->obj->pub == CK_INVALID_HANDLE ||
	    key->ctx->ts.tok != ctx->ts.tok)
		return NTE_BAD_KEY;
	if (hash->algid == CALG_HMAC)
		return NTE_BAD_ALGID;
	k = key->bits / 8;
	if (sig_len != k)
		return NTE_BAD_SIGNATURE;
	err = sign_input(hash, flags, input, &in_len);
	if (err != ERROR_SUCCESS)
		return err;
	be = capi11_malloc(k);
	if (be == NULL)
		return NTE_NO_MEMORY;
	reverse_copy(be, sig, k);
	rv = token_verify(&ctx->ts, &mech, key->obj->pub, input, in_len, be, k);
	if (rv == CKR_SIGNATURE_INVALID || rv == CKR_SIGNATURE_LEN_RANGE)
		err = NTE_BAD_SIGNATURE;
	else if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED || rv == CKR_KEY_TYPE_INCONSISTENT)
		err = NTE_BAD_KEY;
	else if (rv != CKR_OK)
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
	capi11_free(be);
	return err;
}
