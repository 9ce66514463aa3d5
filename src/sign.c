/* Signatures of hash values: DigestInfo, the token's CKM_RSA_PKCS, and
 * Windows' little-endian byte order. */
#include "config.h"
#include "sign.h"
#include "dss-sign.h"
#include "prov-type.h"
#include "cipher.h"
#include "alg.h"
#include "rsa-mech.h"
#include "errors.h"
#include "pin.h"
#include "token-ops.h"
#include "token-sign.h"
#include "util.h"

#include <errno.h>
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

	/* HMAC and MAC values are not signed: no DigestInfo names them. */
	if (hash->algid == CALG_HMAC || hash->algid == CALG_MAC || (oid && alg == NULL))
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

/* ---- the container keys kept between signatures ----
 *
 * CryptSignHash names a key by its spec, and finding a container's key on
 * the token takes searches and attribute reads (about 28 calls on
 * SoftHSM), as much as the RSA signature itself. Windows' CSPs keep the
 * container's keys in memory; so does capi11, with a check that costs one
 * call: the kept private key must still be there with the CKA_ID it had.
 * A pair replaced since (CryptGenKey, an import, another process) fails
 * the check and is looked up again; a token failing the check fails the
 * signature, as it would have failed the lookup. Verify contexts keep their pairs in
 * memory already (key_get_user_locked). */
#define SIGN_ID_MAX 64

struct sign_slot {
	struct keyobj *obj;            /* referenced, or NULL */
	DWORD bits;
	/* CKA_ALWAYS_AUTHENTICATE (a PIV card's signature key): each
	 * signature needs a context-specific login. */
	bool always_auth;
	BYTE id[SIGN_ID_MAX];
	CK_ULONG id_len;
};

struct sign_cache {
	struct sign_slot slot[2];      /* AT_KEYEXCHANGE, AT_SIGNATURE */
};

static void sign_slot_clear(struct context *ctx, struct sign_slot *slot)
{
	keyobj_unref_locked(ctx, slot->obj);
	slot->obj = NULL;
	slot->id_len = 0;
}

void sign_cache_free_locked(struct context *ctx)
{
	size_t i;

	if (ctx->sign_cache == NULL)
		return;
	for (i = 0; i < CAPI11_N_ELEMENTS(ctx->sign_cache->slot); i++)
		sign_slot_clear(ctx, &ctx->sign_cache->slot[i]);
	capi11_free(ctx->sign_cache);
	ctx->sign_cache = NULL;
}

/* The kept key of spec, checked against the token: *slot is NULL when
 * none is kept or the pair was replaced or destroyed since (its handle or
 * CKA_ID no longer answer). Errors: the token's failure of the check, and
 * CKR_GENERAL_ERROR for a module that contradicts itself (a length it
 * cannot have). */
static CK_RV sign_cache_get(struct context *ctx, DWORD spec, struct sign_slot **out)
{
	struct sign_slot *slot;
	BYTE id[SIGN_ID_MAX];
	CK_ATTRIBUTE attr = { CKA_ID, id, sizeof id };
	CK_RV rv;

	*out = NULL;
	if (ctx->sign_cache == NULL || ctx->verify)
		return CKR_OK;
	slot = &ctx->sign_cache->slot[spec - 1];
	if (slot->obj == NULL)
		return CKR_OK;
	rv = slot->obj->priv == CK_INVALID_HANDLE ? CKR_OBJECT_HANDLE_INVALID
		: token_get_attributes(&ctx->ts, slot->obj->priv, &attr, 1);
	if (rv == CKR_OK && attr.ulValueLen > sizeof id)
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK || attr.ulValueLen != slot->id_len ||
	    memcmp(id, slot->id, slot->id_len) != 0)
		sign_slot_clear(ctx, slot);
	if (rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID)
		return CKR_OK;
	if (rv == CKR_OK && slot->obj != NULL)
		*out = slot;
	return rv;
}

/* CKA_ALWAYS_AUTHENTICATE of a private key; a token that does not know
 * the attribute (or hides it) has no such keys. */
static CK_RV sign_read_always_auth(struct context *ctx, CK_OBJECT_HANDLE priv, bool *always)
{
	*always = false;
	return token_get_bool(&ctx->ts, priv, CKA_ALWAYS_AUTHENTICATE, always);
}

/* The PIN of a context-specific login: the one the context has not used
 * yet, its provider's pin-source file, the pinpad, or a prompt, as
 * context_login_locked finds one; under CRYPT_SILENT never a prompt
 * (NTE_SILENT_CONTEXT). *pin NULL with success: the pinpad asks. */
static DWORD sign_reauth_pin(struct context *ctx, char **pin)
{
	int perr = 0;

	*pin = NULL;
	if (ctx->pin != NULL) {
		*pin = capi11_strdup(ctx->pin);
		return *pin != NULL ? ERROR_SUCCESS : NTE_NO_MEMORY;
	}
	if (ctx->pin_source != NULL) {
		*pin = pin_read_source(ctx->pin_source, &perr);
		if (*pin == NULL)
			return perr == ENOMEM ? NTE_NO_MEMORY : NTE_KEYSET_ENTRY_BAD;
		return ERROR_SUCCESS;
	}
	if (token_has_pinpad(ctx->ts.tok))
		return ERROR_SUCCESS;
	if (ctx->silent)
		return NTE_SILENT_CONTEXT;
	*pin = pin_request(ctx->pin_prompt, token_label(ctx->ts.tok), &perr);
	if (*pin == NULL)
		return perr == ECANCELED || perr == EINTR ? SCARD_W_CANCELLED_BY_USER
			: perr == ENOMEM ? NTE_NO_MEMORY : NTE_SILENT_CONTEXT;
	return ERROR_SUCCESS;
}

/* Keeps the key just found by key_get_user_locked. A CKA_ID longer than
 * SIGN_ID_MAX is not kept; errors as for sign_cache_get. */
static CK_RV sign_cache_put(struct context *ctx, DWORD spec, struct key *key)
{
	struct sign_slot *slot;
	CK_ATTRIBUTE attr;
	CK_RV rv;

	if (ctx->verify)
		return CKR_OK;
	if (ctx->sign_cache == NULL) {
		ctx->sign_cache = capi11_calloc(1, sizeof *ctx->sign_cache);
		if (ctx->sign_cache == NULL)
			return CKR_OK;
	}
	slot = &ctx->sign_cache->slot[spec - 1];
	sign_slot_clear(ctx, slot);
	rv = sign_read_always_auth(ctx, key->obj->priv, &slot->always_auth);
	if (rv != CKR_OK)
		return rv;
	attr = (CK_ATTRIBUTE){ CKA_ID, slot->id, sizeof slot->id };
	rv = token_get_attributes(&ctx->ts, key->obj->priv, &attr, 1);
	if (rv == CKR_BUFFER_TOO_SMALL)
		return CKR_OK;
	if (rv == CKR_OK && attr.ulValueLen > sizeof slot->id)
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK)
		return rv;
	slot->id_len = attr.ulValueLen;
	atomic_fetch_add(&key->obj->refs, 1);
	slot->obj = key->obj;
	slot->bits = key->bits;
	return CKR_OK;
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
	struct sign_slot *kept;
	CK_OBJECT_HANDLE priv;
	bool always_auth = false;
	char *pin = NULL;
	DWORD in_len, k, err;
	CK_RV rv;

	*used = NULL;
	/* The DSS types sign with DSS keys alone (dss-sign.c). */
	if (prov_type_is_dss(ctx->prov_type))
		return dss_sign_hash_locked(hash, spec, flags, sig, len, used);
	if (flags & ~(DWORD)CRYPT_NOHASHOID)
		return NTE_BAD_FLAGS;
	if (spec != AT_KEYEXCHANGE && spec != AT_SIGNATURE)
		return NTE_BAD_ALGID;
	if (hash->algid == CALG_HMAC || hash->algid == CALG_MAC)
		return NTE_BAD_ALGID;
	rv = sign_cache_get(ctx, spec, &kept);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	if (kept == NULL) {
		err = key_get_user_locked(ctx, spec, used);
		if (err != ERROR_SUCCESS)
			return err;
		rv = sign_cache_put(ctx, spec, *used);
		if (rv == CKR_OK && ctx->sign_cache != NULL &&
		    ctx->sign_cache->slot[spec - 1].obj == (*used)->obj)
			always_auth = ctx->sign_cache->slot[spec - 1].always_auth;
		else if (rv == CKR_OK && !ctx->verify)
			rv = sign_read_always_auth(ctx, (*used)->obj->priv, &always_auth);
		if (rv != CKR_OK)
			return error_from_ckr(rv, ERROR_OP_GENERIC);
		priv = (*used)->obj->priv;
		k = (*used)->bits / 8;
	} else {
		priv = kept->obj->priv;
		k = kept->bits / 8;
		always_auth = kept->always_auth;
	}
	if (sig == NULL || *len < k) {
		*len = k;
		return sig == NULL ? ERROR_SUCCESS : ERROR_MORE_DATA;
	}
	/* PKCS#1 v1.5 needs 11 bytes of padding around the DigestInfo. */
	if (hash->size == 0)
		return NTE_BAD_HASH_STATE;
	if (sign_input_len(hash, flags) + RSA_PKCS1_OVERHEAD > k)
		return NTE_BAD_LEN;
	err = sign_input(hash, flags, input, &in_len);
	if (err != ERROR_SUCCESS)
		goto out;
	out = capi11_malloc(k);
	if (out == NULL) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	out_len = k;
	if (always_auth) {
		err = sign_reauth_pin(ctx, &pin);
		if (err != ERROR_SUCCESS)
			goto out;
		rv = token_sign_reauth(&ctx->ts, &mech, priv, pin, pin ? strlen(pin) : 0, input,
				       in_len, out, &out_len);
		if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_LEN_RANGE) {
			err = error_from_ckr(rv, ERROR_OP_LOGIN);
			goto out;
		}
	} else {
		rv = token_sign(&ctx->ts, &mech, priv, input, in_len, out, &out_len);
	}
	if (rv == CKR_OK && out_len != k)
		rv = CKR_GENERAL_ERROR;
	if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED || rv == CKR_KEY_TYPE_INCONSISTENT) {
		err = NTE_BAD_KEY;
		goto out;
	}
	if (rv != CKR_OK) {
		/* A kept key gone between the check and the signature: forgotten,
		 * and found afresh by the next call. */
		if (kept != NULL)
			sign_slot_clear(ctx, kept);
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
		goto out;
	}
	reverse_copy(sig, out, k);
	*len = k;
out:
	capi11_free_string_secret(pin);
	capi11_free(out);
	capi11_wipe(input, sizeof input);
	return err;
}

DWORD sign_verify_locked(struct hash *hash, const BYTE *sig, DWORD sig_len, struct key *key,
			 DWORD flags)
{
	struct context *ctx = hash->ctx;
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	BYTE input[DIGEST_INFO_MAX];
	BYTE *be = NULL;
	struct tsession *kts;
	DWORD in_len, k, err;
	CK_RV rv;

	if (key->obj->type == CKK_DSA)
		return dss_verify_locked(hash, sig, sig_len, key, flags);
	if (flags & ~(DWORD)CRYPT_NOHASHOID)
		return NTE_BAD_FLAGS;
	kts = key_session_in_locked(ctx, key);
	if (key->obj->type != CKK_RSA || key->obj->pub == CK_INVALID_HANDLE || kts == NULL)
		return NTE_BAD_KEY;
	if (hash->algid == CALG_HMAC || hash->algid == CALG_MAC)
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
	/* A card that verifies nothing: the public key on the companion, for
	 * a key of this context (cipher.h). */
	if (key->ctx == ctx) {
		struct rsa_public_route route;

		err = cipher_rsa_public_route_locked(key, false, CKF_VERIFY, false, &route);
		if (err == ERROR_SUCCESS)
			rv = token_verify(route.ts, &route.mech, route.pub, input, in_len, be, k);
		cipher_rsa_public_route_end(&route);
		if (err != ERROR_SUCCESS) {
			capi11_free(be);
			return err;
		}
	} else {
		rv = token_verify(kts, &mech, key->obj->pub, input, in_len, be, k);
	}
	if (rv == CKR_SIGNATURE_INVALID || rv == CKR_SIGNATURE_LEN_RANGE)
		err = NTE_BAD_SIGNATURE;
	else if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED || rv == CKR_KEY_TYPE_INCONSISTENT)
		err = NTE_BAD_KEY;
	else if (rv != CKR_OK)
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
	capi11_free(be);
	return err;
}
