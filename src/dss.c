/* DSS signature keys on the token. */
#include "config.h"
#include "dss.h"
#include "container-lock.h"
#include "errors.h"
#include "key.h"
#include "key-card.h"
#include "param.h"
#include "token-ops.h"
#include "util.h"

#include <string.h>

bool dss_token_bits(struct token *tok, DWORD *min, DWORD *max)
{
	CK_MECHANISM_INFO params, pair;
	DWORD lo = DSS_MIN_BITS, hi = DSS_MAX_BITS;

	if (token_cap(tok, TOKEN_CAP_GENERATE_KEY_PAIR) == TOKEN_CAP_NO)
		return false;
	if (token_mechanism_info(tok, CKM_DSA_PARAMETER_GEN, &params) != CKR_OK ||
	    !(params.flags & CKF_GENERATE) ||
	    token_mechanism_info(tok, CKM_DSA_KEY_PAIR_GEN, &pair) != CKR_OK ||
	    !(pair.flags & CKF_GENERATE_KEY_PAIR))
		return false;
	/* Both mechanisms' ranges, in bits, narrow Microsoft's; 0 says
	 * nothing. */
	if (pair.ulMinKeySize > lo)
		lo = (DWORD)pair.ulMinKeySize;
	if (params.ulMinKeySize > lo)
		lo = (DWORD)params.ulMinKeySize;
	if (pair.ulMaxKeySize != 0 && pair.ulMaxKeySize < hi)
		hi = (DWORD)pair.ulMaxKeySize;
	if (params.ulMaxKeySize != 0 && params.ulMaxKeySize < hi)
		hi = (DWORD)params.ulMaxKeySize;
	/* Steps of 64 bits inside the token's range. */
	lo = (lo + DSS_STEP_BITS - 1) / DSS_STEP_BITS * DSS_STEP_BITS;
	hi = hi / DSS_STEP_BITS * DSS_STEP_BITS;
	if (lo > hi)
		return false;
	*min = lo;
	*max = hi;
	return true;
}

/* New domain parameters of bits bits, made by the token: p, q and g are
 * read from a session object that is destroyed at once. */
static CK_RV dss_params_new(struct tsession *ts, CK_ULONG bits, void **p, CK_ULONG *p_len,
			    void **q, CK_ULONG *q_len, void **g, CK_ULONG *g_len)
{
	static const CK_OBJECT_CLASS cls = CKO_DOMAIN_PARAMETERS;
	static const CK_KEY_TYPE dsa = CKK_DSA;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&cls, sizeof cls },
		{ CKA_KEY_TYPE, (void *)&dsa, sizeof dsa },
		{ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_PRIME_BITS, &bits, sizeof bits },
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv;

	*p = *q = *g = NULL;
	rv = token_generate_key(ts, CKM_DSA_PARAMETER_GEN, tmpl, CAPI11_N_ELEMENTS(tmpl), &h);
	if (rv != CKR_OK)
		return rv;
	rv = token_get_attribute_alloc(ts, h, CKA_PRIME, p, p_len);
	if (rv == CKR_OK)
		rv = token_get_attribute_alloc(ts, h, CKA_SUBPRIME, q, q_len);
	if (rv == CKR_OK)
		rv = token_get_attribute_alloc(ts, h, CKA_BASE, g, g_len);
	token_destroy(ts, h);
	/* A token that made other lengths than asked made no DSS key. */
	if (rv == CKR_OK && (*p_len != bits / 8 || *q_len != 20 || *g_len == 0 ||
			     *g_len > *p_len))
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK) {
		capi11_free(*p);
		capi11_free(*q);
		capi11_free(*g);
		*p = *q = *g = NULL;
	}
	return rv;
}

DWORD dss_generate_locked(struct context *ctx, DWORD flags, struct key **out)
{
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	struct container_lock lock = { -1 };
	struct key_pair_plan plan;
	void *p = NULL, *q = NULL, *g = NULL;
	CK_ULONG p_len = 0, q_len = 0, g_len = 0, bits;
	DWORD want = HIWORD(flags), min, max, err;
	CK_RV rv;

	err = key_store_check(&ctx->ts, !ctx->verify);
	if (err != ERROR_SUCCESS)
		return err;
	if (!dss_token_bits(ctx->ts.tok, &min, &max))
		return NTE_BAD_ALGID;
	if (want == 0)
		want = DSS_DEFAULT_BITS <= max ? DSS_DEFAULT_BITS : max;
	/* A length Microsoft's DSS providers would not make, or the token
	 * cannot, is bad data, as rsaenh answers a bad RSA length. */
	if (want % DSS_STEP_BITS != 0 || want < min || want > max)
		return NTE_BAD_DATA;
	bits = want;
	if (!ctx->verify) {
		err = context_login_locked(ctx, true);
		if (err == ERROR_SUCCESS)
			err = container_lock_take(ctx->ts.tok, ctx->container, &lock);
		if (err != ERROR_SUCCESS)
			return err;
	}
	err = key_pair_begin_type_locked(ctx, AT_SIGNATURE, CKK_DSA,
					 (flags & CRYPT_EXPORTABLE) != 0, &plan);
	if (err != ERROR_SUCCESS)
		goto out;
	rv = dss_params_new(&ctx->ts, bits, &p, &p_len, &q, &q_len, &g, &g_len);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_GENKEY);
		goto out;
	}
	plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_PRIME, p, p_len };
	plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_SUBPRIME, q, q_len };
	plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_BASE, g, g_len };
	rv = token_generate_key_pair(&ctx->ts, CKM_DSA_KEY_PAIR_GEN, plan.pub, plan.n_pub,
				     plan.priv, plan.n_priv, &pub, &priv);
	if (rv == CKR_OK || rv == CKR_FUNCTION_NOT_SUPPORTED)
		token_cap_learn(ctx->ts.tok, TOKEN_CAP_GENERATE_KEY_PAIR, rv);
	err = key_exportable_learn(&ctx->ts, (flags & CRYPT_EXPORTABLE) != 0, rv);
	if (rv != CKR_OK) {
		if (err == ERROR_SUCCESS)
			err = error_from_ckr(rv, ERROR_OP_GENKEY);
		goto out;
	}
	err = key_pair_finish_locked(ctx, &plan, priv, pub, out);
	if (err != ERROR_SUCCESS) {
		/* A failed CryptGenKey leaves nothing behind on the token. */
		token_destroy(&ctx->ts, priv);
		token_destroy(&ctx->ts, pub);
	}
out:
	capi11_free(p);
	capi11_free(q);
	capi11_free(g);
	container_lock_release(&lock);
	return err;
}

DWORD dss_get_param_locked(struct key *key, DWORD param, BYTE *data, DWORD *len)
{
	CK_ATTRIBUTE_TYPE type = param == KP_P ? CKA_PRIME : param == KP_Q ? CKA_SUBPRIME : CKA_BASE;
	CK_OBJECT_HANDLE obj;
	BYTE *value = NULL;
	CK_ULONG value_len = 0, i;
	DWORD err;
	CK_RV rv;

	if (key->obj->type != CKK_DSA)
		return NTE_BAD_TYPE;
	obj = key->obj->pub != CK_INVALID_HANDLE ? key->obj->pub : key->obj->priv;
	rv = token_get_attribute_alloc(key_session(key), obj, type, (void **)&value, &value_len);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	if (value_len == 0 || value_len > DSS_MAX_PARAM_BYTES) {
		capi11_free(value);
		return NTE_BAD_KEY;
	}
	/* PKCS#11 numbers are big-endian; CryptoAPI's are little-endian. */
	for (i = 0; i < value_len / 2; i++) {
		BYTE t = value[i];
		value[i] = value[value_len - 1 - i];
		value[value_len - 1 - i] = t;
	}
	err = param_put(data, len, value, (DWORD)value_len);
	capi11_free(value);
	return err;
}
