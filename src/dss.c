/* DSS signature keys on the token. */
#include "config.h"
#include "dss.h"
#include "dh.h"
#include "container-lock.h"
#include "errors.h"
#include "key.h"
#include "key-card.h"
#include "param.h"
#include "route.h"
#include "session.h"
#include "trace.h"
#include "token-ops.h"
#include "util.h"

#include <string.h>

/* Whether tok offers mech with every flag of use. */
static bool dss_token_does(struct token *tok, CK_MECHANISM_TYPE mech, CK_FLAGS use)
{
	CK_MECHANISM_INFO info;

	return token_mechanism_info(tok, mech, &info) == CKR_OK && (info.flags & use) == use;
}

bool dss_token_verifies(struct token *tok)
{
	return dss_token_does(tok, CKM_DSA, CKF_VERIFY);
}

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

/* Domain parameters given by the caller (CRYPT_PREGEN), big-endian. */
struct dss_given {
	const BYTE *p, *q, *g;
	size_t p_len, q_len, g_len;
};

static DWORD dss_make_locked(struct context *ctx, DWORD flags, const struct dss_given *given,
			     struct key **out);

DWORD dss_generate_locked(struct context *ctx, DWORD flags, struct key **out)
{
	return dss_make_locked(ctx, flags, NULL, out);
}

DWORD dss_generate_with_locked(struct context *ctx, DWORD flags, const BYTE *p, size_t p_len,
			       const BYTE *q, size_t q_len, const BYTE *g, size_t g_len,
			       struct key **out)
{
	struct dss_given given = { p, q, g, p_len, q_len, g_len };

	return dss_make_locked(ctx, (flags & 0xffffu) | (DWORD)(p_len * 8) << 16, &given, out);
}

static DWORD dss_make_locked(struct context *ctx, DWORD flags, const struct dss_given *given,
			     struct key **out)
{
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
	if (given != NULL) {
		p_len = given->p_len;
		q_len = given->q_len;
		g_len = given->g_len;
	} else {
		rv = dss_params_new(&ctx->ts, bits, &p, &p_len, &q, &q_len, &g, &g_len);
		if (rv != CKR_OK) {
			err = error_from_ckr(rv, ERROR_OP_GENKEY);
			goto out;
		}
	}
	plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_PRIME, given ? (void *)given->p : p, p_len };
	plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_SUBPRIME, given ? (void *)given->q : q, q_len };
	plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_BASE, given ? (void *)given->g : g, g_len };
	err = key_pair_generate_locked(ctx, &plan, CKM_DSA_KEY_PAIR_GEN, flags, out);
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

/* ---- blobs ---- */

/* The numbers of a DSS key for a blob, read from the token: p, q, g and,
 * when asked, y from the public half and x (CKA_VALUE) from the private
 * key. The buffers are freed by dss_numbers_clear, x wiped. */
struct dss_read {
	struct blob_dss_numbers n;
	void *buf[5];
	CK_ULONG len[5];
};

static void dss_numbers_clear(struct dss_read *r)
{
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(r->buf); i++)
		capi11_free_secret(r->buf[i], r->len[i]);
	memset(r, 0, sizeof *r);
}

static CK_RV dss_numbers_read(struct key *key, bool want_y, bool want_x, struct dss_read *r)
{
	static const CK_ATTRIBUTE_TYPE params[] = { CKA_PRIME, CKA_SUBPRIME, CKA_BASE };
	struct tsession *ts = key_session(key);
	CK_OBJECT_HANDLE from = key->obj->pub != CK_INVALID_HANDLE ? key->obj->pub : key->obj->priv;
	struct blob_bytes *dst[5] = { &r->n.p, &r->n.q, &r->n.g, &r->n.y, &r->n.x };
	CK_RV rv = CKR_OK;
	size_t i;

	memset(r, 0, sizeof *r);
	for (i = 0; i < 3 && rv == CKR_OK; i++)
		rv = token_get_attribute_alloc(ts, from, params[i], &r->buf[i], &r->len[i]);
	if (rv == CKR_OK && want_y)
		rv = token_get_attribute_alloc(ts, key->obj->pub, CKA_VALUE, &r->buf[3], &r->len[3]);
	if (rv == CKR_OK && want_x)
		rv = token_get_attribute_alloc(ts, key->obj->priv, CKA_VALUE, &r->buf[4],
					       &r->len[4]);
	for (i = 0; i < 5; i++)
		*dst[i] = (struct blob_bytes){ r->buf[i], r->buf[i] ? r->len[i] : 0 };
	r->n.bitlen = (DWORD)bn_be_len(r->n.p.data, r->n.p.len) * 8;
	if (rv != CKR_OK)
		dss_numbers_clear(r);
	return rv;
}

DWORD dss_export_locked(struct key *key, bool private, BYTE version, BYTE *data, DWORD *len)
{
	struct dss_read r;
	size_t needed = 0;
	DWORD err;
	CK_RV rv;

	/* y lives in the public half only: a public blob, and a private blob
	 * of version 3, need one. */
	if ((!private || version == 3) && key->obj->pub == CK_INVALID_HANDLE)
		return NTE_BAD_KEY;
	if (private && key->obj->priv == CK_INVALID_HANDLE)
		return NTE_BAD_KEY_STATE;
	rv = dss_numbers_read(key, !private || version == 3, private && data != NULL, &r);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	/* A size query reads no secret: any x of the right width sizes it. */
	if (private && data == NULL) {
		static const BYTE one = 1;
		r.n.x = (struct blob_bytes){ &one, 1 };
	}
	err = blob_build_dss(&r.n, private, version, data, data ? *len : 0, &needed);
	dss_numbers_clear(&r);
	if (err != ERROR_SUCCESS && err != ERROR_MORE_DATA)
		return err;
	if (needed > 0xffffffffu)
		return NTE_FAIL;
	*len = (DWORD)needed;
	return err;
}

/* A number of a parsed blob, big-endian for PKCS#11, in a buffer the
 * caller frees with capi11_free_secret(be, width). */
static BYTE *dss_be_new(struct blob_bytes le)
{
	BYTE *be = capi11_malloc(le.len ? le.len : 1);

	if (be != NULL)
		bn_le_to_be(le.data, le.len, be, le.len);
	return be;
}

struct dss_be {
	BYTE *p, *q, *g, *y, *x;
	size_t p_len, q_len, g_len, y_len, x_len;
};

static void dss_be_clear(struct dss_be *b)
{
	capi11_free_secret(b->p, b->p_len);
	capi11_free_secret(b->q, b->q_len);
	capi11_free_secret(b->g, b->g_len);
	capi11_free_secret(b->y, b->y_len);
	capi11_free_secret(b->x, b->x_len);
	memset(b, 0, sizeof *b);
}

static DWORD dss_be_from_blob(const struct blob_dss *d, struct dss_be *b)
{
	memset(b, 0, sizeof *b);
	/* The parser gave every number its full width (never 0 bytes). */
	b->p = dss_be_new(d->p);
	b->p_len = d->p.len;
	b->q = dss_be_new(d->q);
	b->q_len = d->q.len;
	b->g = dss_be_new(d->g);
	b->g_len = d->g.len;
	if (d->y.len > 0) {
		b->y = dss_be_new(d->y);
		b->y_len = d->y.len;
	}
	if (d->private) {
		b->x = dss_be_new(d->x);
		b->x_len = d->x.len;
	}
	if (b->p == NULL || b->q == NULL || b->g == NULL || (d->y.len > 0 && b->y == NULL) ||
	    (d->private && b->x == NULL)) {
		dss_be_clear(b);
		return NTE_NO_MEMORY;
	}
	return ERROR_SUCCESS;
}

DWORD dss_import_public_locked(struct context *ctx, const BYTE *data, size_t len,
			       struct key **out)
{
	static const CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	static const CK_KEY_TYPE dsa = CKK_DSA;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct token *tok = ctx->ts.tok;
	struct tsession *ts = &ctx->ts;
	bool verifies = dss_token_verifies(tok), own;
	struct blob_dss d;
	struct dss_be b;
	DWORD err;
	CK_RV rv;

	err = blob_parse_dss(data, len, &d);
	if (err == ERROR_SUCCESS && d.private)
		err = NTE_BAD_TYPE;
	if (err != ERROR_SUCCESS)
		return err;
	/* The key goes where DSS signatures can be verified: the token, when
	 * it has CKM_DSA and holds public keys; else the companion token, as
	 * a partner's RSA key does (route.h). A token without DSA and no
	 * companion: the algorithm is not there. */
	own = verifies && token_cap(tok, TOKEN_CAP_CREATE_PUBLIC_KEY) != TOKEN_CAP_NO;
	if (!own && !context_has_companion_locked(ctx))
		return verifies ? route_needs_companion(ROUTE_PUBLIC_KEY, CKR_FUNCTION_NOT_SUPPORTED)
				: NTE_BAD_ALGID;
	err = dss_be_from_blob(&d, &b);
	if (err != ERROR_SUCCESS)
		return err;
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, (void *)&cls, sizeof cls },
			{ CKA_KEY_TYPE, (void *)&dsa, sizeof dsa },
			{ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_PRIVATE, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_VERIFY, token_bool(true), sizeof(CK_BBOOL) },
			{ CKA_PRIME, b.p, d.p.len },
			{ CKA_SUBPRIME, b.q, d.q.len },
			{ CKA_BASE, b.g, d.g.len },
			{ CKA_VALUE, b.y, d.y.len },
		};

		rv = CKR_FUNCTION_NOT_SUPPORTED;
		if (own) {
			rv = token_create(ts, tmpl, CAPI11_N_ELEMENTS(tmpl), &h);
			/* Numbers the token judges say nothing of the next key's. */
			if (rv != CKR_ATTRIBUTE_VALUE_INVALID)
				token_cap_learn(tok, TOKEN_CAP_CREATE_PUBLIC_KEY, rv);
		}
		if ((!own || token_rv_is_refusal(rv)) && context_has_companion_locked(ctx)) {
			err = context_companion_locked(ctx, &ts);
			if (err == ERROR_SUCCESS && !dss_token_verifies(ts->tok))
				err = verifies ? route_needs_companion(ROUTE_PUBLIC_KEY, rv)
					       : NTE_BAD_ALGID;
			if (err == ERROR_SUCCESS) {
				trace_route("route: DSS PUBLICKEYBLOB on the companion token %s",
					    token_label(ts->tok));
				rv = token_create(ts, tmpl, CAPI11_N_ELEMENTS(tmpl), &h);
			}
		}
	}
	dss_be_clear(&b);
	if (err != ERROR_SUCCESS)
		return err;
	if (token_rv_is_refusal(rv))
		return route_needs_companion(ROUTE_PUBLIC_KEY, rv);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_IMPORT);
	err = key_adopt_on_locked(ctx, ts, CK_INVALID_HANDLE, h, CKK_DSA, CALG_DSS_SIGN, 0, false,
				  true, out);
	if (err != ERROR_SUCCESS) {
		token_destroy(ts, h);
		return err;
	}
	/* A public key alone is no container key. */
	(*out)->spec = 0;
	return ERROR_SUCCESS;
}

/* y = g^x mod p of a private key, computed by the token: a Diffie-Hellman
 * derivation (CKM_DH_PKCS_DERIVE) with x as the private value and g as the
 * partner's public value gives exactly that. The temporary DH key is a
 * sensitive session object, destroyed with the derived value once y is
 * read. *y (big-endian, *y_len bytes) is freed by the caller.
 * CKR_MECHANISM_INVALID when the token cannot derive. */
static CK_RV dss_y_from_token(struct tsession *ts, const struct blob_dss *d,
			      const struct dss_be *b, void **y_out, CK_ULONG *y_out_len)
{
	return dh_public_value(ts, b->p, d->p.len, b->g, d->g.len, b->x, d->x.len, y_out,
			       y_out_len);
}

/* Whether two big-endian numbers are equal, whatever their widths. */
static bool dss_be_equal(const BYTE *a, size_t a_len, const BYTE *b, size_t b_len)
{
	size_t la = bn_be_len(a, a_len), lb = bn_be_len(b, b_len);

	return la == lb && memcmp(a + a_len - la, b + b_len - lb, la) == 0;
}

DWORD dss_import_private_locked(struct context *ctx, const BYTE *data, size_t len, DWORD flags,
				struct key **out)
{
	CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
	struct key_pair_plan plan;
	struct blob_dss d;
	struct dss_be b;
	DWORD err;
	CK_RV rv;

	err = blob_parse_dss(data, len, &d);
	if (err == ERROR_SUCCESS && !d.private)
		err = NTE_BAD_TYPE;
	/* A token that cannot sign with DSA gets no DSS private key: it
	 * would be of no use there (the pair is the container's, on the main
	 * token only). */
	if (err == ERROR_SUCCESS && !dss_token_does(ctx->ts.tok, CKM_DSA, CKF_SIGN))
		err = NTE_BAD_ALGID;
	if (err == ERROR_SUCCESS)
		err = key_pair_begin_type_locked(ctx, AT_SIGNATURE, CKK_DSA,
						 (flags & CRYPT_EXPORTABLE) != 0, &plan);
	if (err == ERROR_SUCCESS)
		err = dss_be_from_blob(&d, &b);
	if (err != ERROR_SUCCESS)
		return err;
	plan.priv[plan.n_priv++] = (CK_ATTRIBUTE){ CKA_PRIME, b.p, d.p.len };
	plan.priv[plan.n_priv++] = (CK_ATTRIBUTE){ CKA_SUBPRIME, b.q, d.q.len };
	plan.priv[plan.n_priv++] = (CK_ATTRIBUTE){ CKA_BASE, b.g, d.g.len };
	plan.priv[plan.n_priv++] = (CK_ATTRIBUTE){ CKA_VALUE, b.x, d.x.len };
	err = key_pair_create_private_locked(ctx, &plan, flags, &priv, &rv);
	/* The public half: y as the token computes it from x
	 * (dss_y_from_token). A version 3 blob's own y must be that number:
	 * another would give the container a public key that is not its
	 * private key's. A token that cannot derive takes a version 3 blob's
	 * y as it is, and leaves a version 2 key without a public half. */
	if (rv == CKR_OK) {
		void *y = NULL;
		CK_ULONG y_len = 0;

		rv = dss_y_from_token(&ctx->ts, &d, &b, &y, &y_len);
		if (rv == CKR_MECHANISM_INVALID) {
			rv = CKR_OK;
		} else if (rv == CKR_OK && b.y == NULL) {
			b.y = y;
			b.y_len = y_len;
		} else if (rv == CKR_OK) {
			if (!dss_be_equal(b.y, b.y_len, y, y_len)) {
				err = NTE_BAD_DATA;
				rv = CKR_ARGUMENTS_BAD;
			}
			capi11_free(y);
		}
	}
	if (rv == CKR_OK && b.y != NULL) {
		plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_PRIME, b.p, d.p.len };
		plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_SUBPRIME, b.q, d.q.len };
		plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_BASE, b.g, d.g.len };
		plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_VALUE, b.y, b.y_len };
		rv = token_create(&ctx->ts, plan.pub, plan.n_pub, &pub);
		token_cap_learn(ctx->ts.tok, TOKEN_CAP_CREATE_PUBLIC_KEY, rv);
	}
	dss_be_clear(&b);
	return key_pair_store_locked(ctx, &plan, rv, err, ERROR_OP_IMPORT, priv, pub, out);
}
