/* Diffie-Hellman keys on the token, and CRYPT_PREGEN keys. */
#include "config.h"
#include "dh.h"
#include "blob-dss.h"
#include "container-lock.h"
#include "dss.h"
#include "errors.h"
#include "key.h"
#include "key-card.h"
#include "param.h"
#include "session.h"
#include "token-ops.h"
#include "trace.h"
#include "util.h"

#include <string.h>

/* ---- lengths ---- */

static bool mech_has(struct token *tok, CK_MECHANISM_TYPE mech, CK_FLAGS flag,
		     CK_MECHANISM_INFO *info)
{
	return token_mechanism_info(tok, mech, info) == CKR_OK && (info->flags & flag);
}

/* dh_token_bits for the token tok (the context's own, or its companion). */
/* The range of tok for a pair of ctx: with params, the token must make
 * domain parameters too; without, p and g come from elsewhere
 * (CRYPT_PREGEN). */
static bool dh_range(struct context *ctx, struct token *tok, bool params_needed, DWORD *min,
		     DWORD *max)
{
	CK_MECHANISM_INFO params, pair, derive;
	DWORD lo = DH_MIN_BITS, hi = DH_ENH_MAX_BITS;

	if (ctx->prov_name != NULL && strcmp(ctx->prov_name, MS_DEF_DSS_DH_PROV_A) == 0)
		hi = DH_BASE_MAX_BITS;
	if (token_cap(tok, TOKEN_CAP_GENERATE_KEY_PAIR) == TOKEN_CAP_NO)
		return false;
	/* A key that cannot agree is of no use: the mechanisms or none. */
	memset(&params, 0, sizeof params);
	if ((params_needed && !mech_has(tok, CKM_DH_PKCS_PARAMETER_GEN, CKF_GENERATE, &params)) ||
	    !mech_has(tok, CKM_DH_PKCS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR, &pair) ||
	    !mech_has(tok, CKM_DH_PKCS_DERIVE, CKF_DERIVE, &derive))
		return false;
	/* Each mechanism's range, in bits, narrows Microsoft's; 0 says nothing. */
	const CK_MECHANISM_INFO *infos[] = { &params, &pair, &derive };
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(infos); i++) {
		if (infos[i]->ulMinKeySize > lo)
			lo = (DWORD)infos[i]->ulMinKeySize;
		if (infos[i]->ulMaxKeySize != 0 && infos[i]->ulMaxKeySize < hi)
			hi = (DWORD)infos[i]->ulMaxKeySize;
	}
	lo = (lo + DH_STEP_BITS - 1) / DH_STEP_BITS * DH_STEP_BITS;
	hi = hi / DH_STEP_BITS * DH_STEP_BITS;
	if (lo > hi)
		return false;
	*min = lo;
	*max = hi;
	return true;
}

bool dh_token_bits_on(struct context *ctx, struct token *tok, DWORD *min, DWORD *max)
{
	return dh_range(ctx, tok, true, min, max);
}

bool dh_token_bits(struct context *ctx, DWORD *min, DWORD *max)
{
	return dh_range(ctx, ctx->ts.tok, true, min, max);
}

bool dh_token_pairs_on(struct context *ctx, struct token *tok, DWORD *min, DWORD *max)
{
	return dh_range(ctx, tok, false, min, max);
}

bool dh_token_agrees(struct token *tok)
{
	CK_MECHANISM_INFO info;

	return mech_has(tok, CKM_DH_PKCS_DERIVE, CKF_DERIVE, &info);
}

/* Where an ephemeral pair is made, and its lengths there: the context's
 * token when it makes DH pairs (and their parameters, as for the
 * container's), else the companion token, as session keys go there
 * (route.h); there, params_needed says the pair's p and g are to be made
 * too (not CRYPT_PREGEN's). Neither: NTE_BAD_ALGID, the algorithm is not
 * there. A companion that cannot be opened says why. */
DWORD dh_ephem_session_locked(struct context *ctx, bool params_needed, struct tsession **ts,
			      DWORD *min, DWORD *max)
{
	struct tsession *cts;
	DWORD err;

	if (dh_range(ctx, ctx->ts.tok, true, min, max)) {
		*ts = &ctx->ts;
		return ERROR_SUCCESS;
	}
	if (!context_has_companion_locked(ctx))
		return NTE_BAD_ALGID;
	err = context_companion_locked(ctx, &cts);
	if (err != ERROR_SUCCESS)
		return err;
	if (!dh_range(ctx, cts->tok, params_needed, min, max))
		return NTE_BAD_ALGID;
	*ts = cts;
	return ERROR_SUCCESS;
}

/* The length CryptGenKey asks for (HIWORD(flags), 0: the default), checked
 * against the context's range: NTE_BAD_FLAGS outside it, as Windows'
 * DSS/DH providers answer (Wine's dssenh tests, run on Windows). */
static DWORD dh_bits(DWORD min, DWORD max, DWORD flags, DWORD *bits)
{
	DWORD want = HIWORD(flags);

	if (want == 0)
		want = DH_DEFAULT_BITS <= max ? DH_DEFAULT_BITS : max;
	if (want % DH_STEP_BITS != 0 || want < min || want > max)
		return NTE_BAD_FLAGS;
	*bits = want;
	return ERROR_SUCCESS;
}

/* ---- generation ---- */

/* New domain parameters of bits bits, made by the token: p and g are
 * read from a session object that is destroyed at once. */
static CK_RV dh_params_new(struct tsession *ts, CK_ULONG bits, void **p, CK_ULONG *p_len,
			   void **g, CK_ULONG *g_len)
{
	static const CK_OBJECT_CLASS cls = CKO_DOMAIN_PARAMETERS;
	static const CK_KEY_TYPE dh = CKK_DH;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&cls, sizeof cls },
		{ CKA_KEY_TYPE, (void *)&dh, sizeof dh },
		{ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_PRIME_BITS, &bits, sizeof bits },
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv;

	*p = *g = NULL;
	rv = token_generate_key(ts, CKM_DH_PKCS_PARAMETER_GEN, tmpl, CAPI11_N_ELEMENTS(tmpl), &h);
	if (rv != CKR_OK)
		return rv;
	rv = token_get_attribute_alloc(ts, h, CKA_PRIME, p, p_len);
	if (rv == CKR_OK)
		rv = token_get_attribute_alloc(ts, h, CKA_BASE, g, g_len);
	token_destroy(ts, h);
	/* A token that made another length than asked made no key of it. */
	if (rv == CKR_OK && (bn_be_len(*p, *p_len) != bits / 8 || bn_be_len(*g, *g_len) == 0))
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK) {
		capi11_free(*p);
		capi11_free(*g);
		*p = *g = NULL;
	}
	return rv;
}

/* The pair of a plan made with p and g: the container's (CALG_DH_SF,
 * key_pair_generate_locked) or a session pair on ts (CALG_DH_EPHEM). */
static DWORD dh_pair_make_locked(struct context *ctx, struct tsession *ts,
				 struct key_pair_plan *plan, ALG_ID algid, DWORD flags, const void *p,
				 CK_ULONG p_len, const void *g, CK_ULONG g_len, struct key **out)
{
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	DWORD err;
	CK_RV rv;

	plan->pub[plan->n_pub++] = (CK_ATTRIBUTE){ CKA_PRIME, (void *)p, p_len };
	plan->pub[plan->n_pub++] = (CK_ATTRIBUTE){ CKA_BASE, (void *)g, g_len };
	if (algid == CALG_DH_SF)
		return key_pair_generate_locked(ctx, plan, CKM_DH_PKCS_KEY_PAIR_GEN, flags, out);
	rv = token_generate_key_pair(ts, CKM_DH_PKCS_KEY_PAIR_GEN, plan->pub, plan->n_pub,
				     plan->priv, plan->n_priv, &pub, &priv);
	if (rv == CKR_OK || rv == CKR_FUNCTION_NOT_SUPPORTED)
		token_cap_learn(ts->tok, TOKEN_CAP_GENERATE_KEY_PAIR, rv);
	err = key_exportable_learn(ts, (flags & CRYPT_EXPORTABLE) != 0, rv);
	if (rv != CKR_OK)
		return err != ERROR_SUCCESS ? err : error_from_ckr(rv, ERROR_OP_GENKEY);
	/* An ephemeral pair is the handle's alone: destroyed with it. */
	err = key_adopt_on_locked(ctx, ts, priv, pub, CKK_DH, CALG_DH_EPHEM, 0, false, true, out);
	if (err != ERROR_SUCCESS) {
		token_destroy(ts, priv);
		token_destroy(ts, pub);
	}
	return err;
}

/* The template of an ephemeral pair on the companion token: session
 * objects of no container, private there when the companion is logged in
 * (softokn needs no login), sensitive and extractable as on the main
 * token (key_pair_begin_session_locked), the private key deriving only. */
static DWORD dh_companion_plan(struct context *ctx, struct tsession *ts, bool exportable,
			       struct key_pair_plan *plan)
{
	static const CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
	static const CK_KEY_TYPE dh = CKK_DH;
	bool logged_in = tsession_is_logged_in(ts);
	CK_ATTRIBUTE *a;

	memset(plan, 0, sizeof *plan);
	plan->spec = AT_KEYEXCHANGE;
	plan->type = CKK_DH;
	plan->old.priv = plan->old.pub = CK_INVALID_HANDLE;
	a = plan->priv;
	a[0] = (CK_ATTRIBUTE){ CKA_CLASS, (void *)&priv_class, sizeof priv_class };
	a[1] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, (void *)&dh, sizeof dh };
	a[2] = (CK_ATTRIBUTE){ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) };
	a[3] = (CK_ATTRIBUTE){ CKA_PRIVATE, token_bool(logged_in), sizeof(CK_BBOOL) };
	a[4] = (CK_ATTRIBUTE){ CKA_SENSITIVE, token_bool(key_new_is_sensitive(ctx, exportable)),
			       sizeof(CK_BBOOL) };
	a[5] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, token_bool(exportable), sizeof(CK_BBOOL) };
	a[6] = (CK_ATTRIBUTE){ CKA_DERIVE, token_bool(true), sizeof(CK_BBOOL) };
	plan->n_priv = 7;
	a = plan->pub;
	a[0] = (CK_ATTRIBUTE){ CKA_CLASS, (void *)&pub_class, sizeof pub_class };
	a[1] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, (void *)&dh, sizeof dh };
	a[2] = (CK_ATTRIBUTE){ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) };
	a[3] = (CK_ATTRIBUTE){ CKA_PRIVATE, token_bool(logged_in), sizeof(CK_BBOOL) };
	plan->n_pub = 4;
	return key_template_protect_locked(ts, plan->priv, &plan->n_priv, false);
}

/* A DH pair of bits bits for algid; p and g given (CRYPT_PREGEN) or, when
 * p is NULL, made by the token. An ephemeral pair is made on ts (the
 * context's session or its companion's); a container's always on the
 * context's own token. */
static DWORD dh_make_locked(struct context *ctx, struct tsession *ts, ALG_ID algid, DWORD flags,
			    DWORD bits, const void *p_in, CK_ULONG p_in_len, const void *g_in,
			    CK_ULONG g_in_len, const BYTE *q, size_t q_len, struct key **out)
{
	CK_OBJECT_HANDLE q_obj = CK_INVALID_HANDLE;
	struct container_lock lock = { -1 };
	struct key_pair_plan plan;
	bool stored = algid == CALG_DH_SF && !ctx->verify;
	void *p = NULL, *g = NULL;
	CK_ULONG p_len = 0, g_len = 0;
	DWORD err;
	CK_RV rv;

	err = key_store_check(&ctx->ts, stored);
	if (err != ERROR_SUCCESS)
		return err;
	/* Replacing the container's pair is one change of the container,
	 * serialised across processes, as for RSA and DSS. */
	if (stored) {
		err = context_login_locked(ctx, true);
		if (err == ERROR_SUCCESS)
			err = container_lock_take(ctx->ts.tok, ctx->container, &lock);
		if (err != ERROR_SUCCESS)
			return err;
	}
	if (algid == CALG_DH_SF)
		ts = &ctx->ts;
	if (ts != &ctx->ts)
		err = dh_companion_plan(ctx, ts, (flags & CRYPT_EXPORTABLE) != 0, &plan);
	else
		err = algid == CALG_DH_SF
			      ? key_pair_begin_type_locked(ctx, AT_KEYEXCHANGE, CKK_DH,
							   (flags & CRYPT_EXPORTABLE) != 0, &plan)
			      : key_pair_begin_session_locked(ctx, AT_KEYEXCHANGE, CKK_DH,
							      (flags & CRYPT_EXPORTABLE) != 0, &plan);
	if (err != ERROR_SUCCESS)
		goto out;
	if (ts != &ctx->ts)
		trace_route("route: CALG_DH_EPHEM pair on the companion token %s",
			    token_label(ts->tok));
	if (p_in == NULL) {
		rv = dh_params_new(ts, bits, &p, &p_len, &g, &g_len);
		if (rv != CKR_OK) {
			err = error_from_ckr(rv, ERROR_OP_GENKEY);
			goto out;
		}
		p_in = p;
		p_in_len = p_len;
		g_in = g;
		g_in_len = g_len;
	}
	/* A container's pair of a group given with q (CRYPT_PREGEN, KP_Q):
	 * q stored first, as at import. */
	if (stored && q != NULL) {
		err = dh_q_store_locked(ctx, &plan, q, q_len, &q_obj);
		if (err != ERROR_SUCCESS)
			goto out;
	}
	err = dh_pair_make_locked(ctx, ts, &plan, algid, flags, p_in, p_in_len, g_in, g_in_len,
				  out);
	if (err == ERROR_SUCCESS)
		(*out)->obj->dh_q_obj = q_obj;
	else if (q_obj != CK_INVALID_HANDLE)
		token_destroy(&ctx->ts, q_obj);
out:
	capi11_free(p);
	capi11_free(g);
	container_lock_release(&lock);
	return err;
}

DWORD dh_generate_locked(struct context *ctx, ALG_ID algid, DWORD flags, struct key **out)
{
	struct tsession *ts = &ctx->ts;
	DWORD bits = 0, min, max, err;

	err = key_store_check(&ctx->ts, algid == CALG_DH_SF && !ctx->verify);
	if (err != ERROR_SUCCESS)
		return err;
	/* A container's pair lives on the card alone; an ephemeral one may
	 * go to the companion. */
	if (algid == CALG_DH_EPHEM)
		err = dh_ephem_session_locked(ctx, true, &ts, &min, &max);
	else if (!dh_token_bits(ctx, &min, &max))
		err = NTE_BAD_ALGID;
	if (err == ERROR_SUCCESS)
		err = dh_bits(min, max, flags, &bits);
	if (err != ERROR_SUCCESS)
		return err;
	return dh_make_locked(ctx, ts, algid, flags, bits, NULL, 0, NULL, 0, NULL, 0, out);
}

static bool be_equal(const BYTE *a, size_t a_len, const BYTE *b, size_t b_len);

/* ---- CRYPT_PREGEN ---- */

struct pregen {
	ALG_ID algid;
	DWORD flags;                  /* CryptGenKey's */
	DWORD bits;                   /* asked length, 0: taken from KP_P */
	BYTE *p, *q, *g;              /* big-endian, NULL until set */
	size_t p_len, q_len, g_len;
};

void pregen_free(struct pregen *pg)
{
	if (pg == NULL)
		return;
	capi11_free(pg->p);
	capi11_free(pg->q);
	capi11_free(pg->g);
	capi11_free(pg);
}

static BYTE *bytes_dup(const BYTE *b, size_t len)
{
	BYTE *copy;

	if (b == NULL)
		return NULL;
	copy = capi11_malloc(len ? len : 1);
	if (copy != NULL)
		memcpy(copy, b, len);
	return copy;
}

struct pregen *pregen_dup(const struct pregen *pg)
{
	struct pregen *copy = capi11_calloc(1, sizeof *copy);

	if (copy == NULL)
		return NULL;
	*copy = *pg;
	copy->p = bytes_dup(pg->p, pg->p_len);
	copy->q = bytes_dup(pg->q, pg->q_len);
	copy->g = bytes_dup(pg->g, pg->g_len);
	if ((pg->p && !copy->p) || (pg->q && !copy->q) || (pg->g && !copy->g)) {
		pregen_free(copy);
		return NULL;
	}
	return copy;
}

DWORD dh_pregen_locked(struct context *ctx, ALG_ID algid, DWORD flags, struct key **out)
{
	struct pregen *pg;
	DWORD bits = HIWORD(flags), min, max, err;

	/* The length is judged now, as for a generation; 0 leaves it to KP_P. */
	if (algid == CALG_DSS_SIGN) {
		if (!dss_token_bits(ctx->ts.tok, &min, &max))
			return NTE_BAD_ALGID;
		if (bits != 0 && (bits % DSS_STEP_BITS != 0 || bits < min || bits > max))
			return NTE_BAD_DATA;
	} else {
		struct tsession *ts;

		if (algid == CALG_DH_EPHEM) {
			err = dh_ephem_session_locked(ctx, false, &ts, &min, &max);
			if (err != ERROR_SUCCESS)
				return err;
		} else if (!dh_token_bits(ctx, &min, &max)) {
			return NTE_BAD_ALGID;
		}
		if (bits != 0 && (bits % DH_STEP_BITS != 0 || bits < min || bits > max))
			return NTE_BAD_FLAGS;
	}
	err = key_store_check(&ctx->ts, algid != CALG_DH_EPHEM && !ctx->verify);
	if (err != ERROR_SUCCESS)
		return err;
	pg = capi11_calloc(1, sizeof *pg);
	if (pg == NULL)
		return NTE_NO_MEMORY;
	pg->algid = algid;
	pg->flags = flags & ~(DWORD)CRYPT_PREGEN;
	pg->bits = bits;
	err = key_new_pending_locked(ctx, algid == CALG_DSS_SIGN ? CKK_DSA : CKK_DH, algid, out);
	if (err != ERROR_SUCCESS) {
		pregen_free(pg);
		return err;
	}
	(*out)->pregen = pg;
	(*out)->spec = algid == CALG_DSS_SIGN ? AT_SIGNATURE : AT_KEYEXCHANGE;
	(*out)->bits = bits;
	return ERROR_SUCCESS;
}

/* Whether a big-endian number is above one and below the big-endian m. */
static bool be_between_one_and(const BYTE *v, size_t v_len, const BYTE *m, size_t m_len)
{
	size_t lv = bn_be_len(v, v_len), lm = bn_be_len(m, m_len);

	v += v_len - lv;
	m += m_len - lm;
	if (lv == 0 || (lv == 1 && v[0] == 1))
		return false;
	return lv < lm || (lv == lm && memcmp(v, m, lv) < 0);
}

/* g = p - 1 generates {1, p - 1}, as hostile as g = 1. */
bool dh_between_one_and_pm1(const BYTE *v, size_t v_len, const BYTE *p, size_t p_len)
{
	BYTE *pm1;
	bool ok;

	if (p_len == 0 || !(p[p_len - 1] & 1))
		return false;
	pm1 = capi11_malloc(p_len);
	if (pm1 == NULL)
		return false;
	memcpy(pm1, p, p_len);
	pm1[p_len - 1] &= 0xfe;
	ok = be_between_one_and(v, v_len, pm1, p_len);
	capi11_free(pm1);
	return ok;
}

/* KP_X: the pair, made on the token with the parameters set, replaces
 * the empty key's nothing; the handle stays. */
static DWORD pregen_generate_locked(struct key *key)
{
	struct pregen *pg = key->pregen;
	struct context *ctx = key->ctx;
	struct key *made = NULL;
	DWORD err;

	if (pg->p == NULL || pg->g == NULL || (pg->algid == CALG_DSS_SIGN && pg->q == NULL))
		return NTE_BAD_KEY_STATE;
	if (pg->algid == CALG_DSS_SIGN) {
		err = dss_generate_with_locked(ctx, pg->flags, pg->p, pg->p_len, pg->q, pg->q_len,
					       pg->g, pg->g_len, &made);
	} else {
		struct tsession *ts = &ctx->ts;
		DWORD min, max;

		err = pg->algid == CALG_DH_EPHEM
			      ? dh_ephem_session_locked(ctx, false, &ts, &min, &max)
			      : ERROR_SUCCESS;
		/* A DH group given with its q: g must generate the subgroup of
		 * order q, or q says nothing of the group agreement checks
		 * partners against. */
		if (err == ERROR_SUCCESS && pg->q != NULL)
			err = dh_check_subgroup(ts, pg->p, pg->p_len, pg->q, pg->q_len, pg->g,
						pg->g_len);
		if (err == ERROR_SUCCESS)
			err = dh_make_locked(ctx, ts, pg->algid, pg->flags, (DWORD)pg->p_len * 8,
					     pg->p, pg->p_len, pg->g, pg->g_len, pg->q, pg->q_len,
					     &made);
		/* The pair keeps q for agreement (key.h). */
		if (err == ERROR_SUCCESS && pg->q != NULL) {
			made->obj->dh_q = pg->q;
			made->obj->dh_q_len = pg->q_len;
			pg->q = NULL;
		}
	}
	if (err != ERROR_SUCCESS)
		return err;
	key_take_pair_locked(key, made);
	pregen_free(pg);
	key->pregen = NULL;
	return ERROR_SUCCESS;
}

DWORD dh_pregen_set_locked(struct key *key, DWORD param, const BYTE *data)
{
	struct pregen *pg = key->pregen;
	CRYPT_DATA_BLOB blob;
	BYTE **slot;
	size_t *slot_len, n, p_len, q_len, g_len;
	const BYTE *p, *q, *g;
	BYTE *be;
	DWORD max_bits, err;

	if (pg == NULL)
		return NTE_BAD_TYPE;
	if (param == KP_X) {
		/* "pbData must be NULL" (CryptSetKeyParam, KP_X). */
		if (data != NULL)
			return NTE_BAD_DATA;
		return pregen_generate_locked(key);
	}
	if (data == NULL)
		return ERROR_INVALID_PARAMETER;
	if (param != KP_P && param != KP_G && param != KP_Q)
		return NTE_BAD_TYPE;
	memcpy(&blob, data, sizeof blob);
	max_bits = pg->algid == CALG_DSS_SIGN ? DSS_MAX_BITS : DH_ENH_MAX_BITS;
	if (blob.cbData == 0 || blob.pbData == NULL || blob.cbData > max_bits / 8)
		return NTE_BAD_DATA;
	be = capi11_malloc(blob.cbData);
	if (be == NULL)
		return NTE_NO_MEMORY;
	bn_le_to_be(blob.pbData, blob.cbData, be, blob.cbData);
	/* Trimmed: PKCS#11 takes the numbers as they are. */
	n = bn_be_len(be, blob.cbData);
	memmove(be, be + blob.cbData - n, n);
	/* Judged with the other numbers as they would stand, before anything
	 * is replaced: a refused value leaves the key as it was. */
	p = param == KP_P ? be : pg->p;
	p_len = param == KP_P ? n : pg->p_len;
	q = param == KP_Q ? be : pg->q;
	q_len = param == KP_Q ? n : pg->q_len;
	g = param == KP_G ? be : pg->g;
	g_len = param == KP_G ? n : pg->g_len;
	err = ERROR_SUCCESS;
	switch (param) {
	case KP_P: {
		DWORD min, max, step = pg->algid == CALG_DSS_SIGN ? DSS_STEP_BITS : DH_STEP_BITS;
		struct tsession *ts;
		bool ok = pg->algid == CALG_DSS_SIGN ? dss_token_bits(key->ctx->ts.tok, &min, &max)
			  : pg->algid == CALG_DH_EPHEM
				  ? dh_ephem_session_locked(key->ctx, false, &ts, &min, &max) ==
					    ERROR_SUCCESS
				  : dh_token_bits(key->ctx, &min, &max);

		/* p of the asked length (any in range when none was asked),
		 * its top bit set, odd (an even number is no prime). */
		if (!ok || (pg->bits != 0 && n * 8 != pg->bits) || n * 8 < min || n * 8 > max ||
		    (n * 8) % step != 0 || !(be[0] & 0x80) || !(be[n - 1] & 1))
			err = NTE_BAD_DATA;
		break;
	}
	case KP_Q:
		/* DSS: 160 bits, top bit set. DH (the q of a DSA-style group,
		 * p - 1 = q * j, as DH3/DH4 blobs carry it): a whole number of
		 * bytes, top bit set, odd. */
		if (n == 0 || !(be[0] & 0x80) || !(be[n - 1] & 1) ||
		    (pg->algid == CALG_DSS_SIGN && n != BLOB_DSS_Q_LEN))
			err = NTE_BAD_DATA;
		break;
	default:
		break;
	}
	/* 1 < g < p - 1 and 1 < q < p - 1, whichever came first. */
	if (err == ERROR_SUCCESS && p != NULL && g != NULL &&
	    !dh_between_one_and_pm1(g, g_len, p, p_len))
		err = NTE_BAD_DATA;
	if (err == ERROR_SUCCESS && p != NULL && q != NULL &&
	    !dh_between_one_and_pm1(q, q_len, p, p_len))
		err = NTE_BAD_DATA;
	if (err != ERROR_SUCCESS) {
		capi11_free(be);
		return err;
	}
	slot = param == KP_P ? &pg->p : param == KP_Q ? &pg->q : &pg->g;
	slot_len = param == KP_P ? &pg->p_len : param == KP_Q ? &pg->q_len : &pg->g_len;
	capi11_free(*slot);
	*slot = be;
	*slot_len = n;
	if (param == KP_P)
		key->bits = (DWORD)pg->p_len * 8;
	return ERROR_SUCCESS;
}

/* ---- parameters ---- */

static DWORD put_le(BYTE *data, DWORD *len, const BYTE *be, size_t be_len)
{
	size_t n = bn_be_len(be, be_len);
	BYTE *le;
	DWORD err;

	if (n == 0)
		return NTE_BAD_KEY;
	le = capi11_malloc(n);
	if (le == NULL)
		return NTE_NO_MEMORY;
	bn_be_to_le(be, be_len, le, n);
	err = param_put(data, len, le, (DWORD)n);
	capi11_free(le);
	return err;
}

DWORD dh_get_param_locked(struct key *key, DWORD param, BYTE *data, DWORD *len)
{
	struct pregen *pg = key->pregen;
	CK_OBJECT_HANDLE obj;
	void *value = NULL;
	CK_ULONG value_len = 0;
	DWORD err;
	CK_RV rv;

	if (pg != NULL) {
		const BYTE *v = param == KP_P ? pg->p : param == KP_Q ? pg->q : pg->g;
		size_t v_len = param == KP_P ? pg->p_len : param == KP_Q ? pg->q_len : pg->g_len;

		if (v == NULL)
			return NTE_BAD_KEY_STATE;
		return put_le(data, len, v, v_len);
	}
	if (key->obj->type != CKK_DH)
		return NTE_BAD_TYPE;
	/* q only where capi11 was given it (PKCS#11 DH keys carry none). */
	if (param == KP_Q)
		return key->obj->dh_q != NULL ? put_le(data, len, key->obj->dh_q, key->obj->dh_q_len)
					      : NTE_BAD_TYPE;
	obj = key->obj->pub != CK_INVALID_HANDLE ? key->obj->pub : key->obj->priv;
	rv = token_get_attribute_alloc(key_session(key), obj, param == KP_P ? CKA_PRIME : CKA_BASE,
				       &value, &value_len);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	err = value_len > DSS_MAX_PARAM_BYTES ? NTE_BAD_KEY : put_le(data, len, value, value_len);
	capi11_free(value);
	return err;
}

/* ---- blobs ---- */

/* The numbers of a DH key for a blob, read from the token: p and g, y from
 * the public half and x from the private key when asked. Freed (x
 * wiped) by dh_read_clear. */
struct dh_read {
	struct blob_dh_numbers n;
	void *buf[4];
	CK_ULONG len[4];
};

static void dh_read_clear(struct dh_read *r)
{
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(r->buf); i++)
		capi11_free_secret(r->buf[i], r->len[i]);
	memset(r, 0, sizeof *r);
}

static CK_RV dh_read(struct key *key, bool want_y, bool want_x, struct dh_read *r)
{
	struct tsession *ts = key_session(key);
	CK_OBJECT_HANDLE from = key->obj->pub != CK_INVALID_HANDLE ? key->obj->pub : key->obj->priv;
	struct blob_bytes *dst[4] = { &r->n.p, &r->n.g, &r->n.y, &r->n.x };
	CK_RV rv;

	memset(r, 0, sizeof *r);
	rv = token_get_attribute_alloc(ts, from, CKA_PRIME, &r->buf[0], &r->len[0]);
	if (rv == CKR_OK)
		rv = token_get_attribute_alloc(ts, from, CKA_BASE, &r->buf[1], &r->len[1]);
	if (rv == CKR_OK && want_y)
		rv = token_get_attribute_alloc(ts, key->obj->pub, CKA_VALUE, &r->buf[2], &r->len[2]);
	if (rv == CKR_OK && want_x)
		rv = token_get_attribute_alloc(ts, key->obj->priv, CKA_VALUE, &r->buf[3],
					       &r->len[3]);
	for (size_t i = 0; i < 4; i++)
		*dst[i] = (struct blob_bytes){ r->buf[i], r->buf[i] ? r->len[i] : 0 };
	/* q where capi11 knows it: version 3 blobs carry it (bitlenQ 0
	 * otherwise, "not available"). */
	if (key->obj->dh_q != NULL)
		r->n.q = (struct blob_bytes){ key->obj->dh_q, key->obj->dh_q_len };
	r->n.alg = key->algid == CALG_DH_EPHEM ? CALG_DH_EPHEM : CALG_DH_SF;
	r->n.bitlen = (DWORD)bn_be_len(r->n.p.data, r->n.p.len) * 8;
	if (rv != CKR_OK)
		dh_read_clear(r);
	return rv;
}

DWORD dh_export_locked(struct key *key, bool private, BYTE version, BYTE *data, DWORD *len)
{
	struct dh_read r;
	size_t needed = 0;
	bool want_y = !private || version == 3;
	DWORD err;
	CK_RV rv;

	if (want_y && key->obj->pub == CK_INVALID_HANDLE)
		return NTE_BAD_KEY;
	if (private && key->obj->priv == CK_INVALID_HANDLE)
		return NTE_BAD_KEY_STATE;
	rv = dh_read(key, want_y, private && data != NULL, &r);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	/* A size query reads no secret: any x of the right width sizes it. */
	if (private && data == NULL) {
		static const BYTE one = 1;
		r.n.x = (struct blob_bytes){ &one, 1 };
	}
	err = blob_build_dh(&r.n, private, version, data, data ? *len : 0, &needed);
	dh_read_clear(&r);
	if (err != ERROR_SUCCESS && err != ERROR_MORE_DATA)
		return err;
	if (needed > 0xffffffffu)
		return NTE_FAIL;
	*len = (DWORD)needed;
	return err;
}

size_t dh_private_blob_len(const struct key *key, BYTE version)
{
	DWORD q_bits = key->obj->dh_q != NULL
			       ? (DWORD)bn_be_len(key->obj->dh_q, key->obj->dh_q_len) * 8
			       : 0;

	return blob_size_dh(key->bits, version == 3 ? q_bits : 0, true, version);
}

CK_RV dh_public_value(struct tsession *ts, const BYTE *p, size_t p_len, const BYTE *g,
		      size_t g_len, const BYTE *x, size_t x_len, void **y_out, CK_ULONG *y_out_len)
{
	static const CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, secret_class = CKO_SECRET_KEY;
	static const CK_KEY_TYPE dh = CKK_DH, generic = CKK_GENERIC_SECRET;
	CK_OBJECT_HANDLE base = CK_INVALID_HANDLE, derived = CK_INVALID_HANDLE;
	CK_ULONG value_len = p_len, y_len = 0;
	CK_MECHANISM_INFO info;
	void *y = NULL;
	CK_RV rv;

	if (!mech_has(ts->tok, CKM_DH_PKCS_DERIVE, CKF_DERIVE, &info))
		return CKR_MECHANISM_INVALID;
	{
		CK_ATTRIBUTE key[] = {
			{ CKA_CLASS, (void *)&priv_class, sizeof priv_class },
			{ CKA_KEY_TYPE, (void *)&dh, sizeof dh },
			{ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_PRIVATE, token_bool(tsession_is_logged_in(ts)), sizeof(CK_BBOOL) },
			{ CKA_SENSITIVE, token_bool(true), sizeof(CK_BBOOL) },
			{ CKA_EXTRACTABLE, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_DERIVE, token_bool(true), sizeof(CK_BBOOL) },
			{ CKA_PRIME, (void *)p, p_len },
			{ CKA_BASE, (void *)g, g_len },
			{ CKA_VALUE, (void *)x, x_len },
		};
		/* The derived value is the public number y, not a secret. */
		CK_ATTRIBUTE out[] = {
			{ CKA_CLASS, (void *)&secret_class, sizeof secret_class },
			{ CKA_KEY_TYPE, (void *)&generic, sizeof generic },
			{ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_SENSITIVE, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_EXTRACTABLE, token_bool(true), sizeof(CK_BBOOL) },
			{ CKA_VALUE_LEN, &value_len, sizeof value_len },
		};
		CK_MECHANISM mech = { CKM_DH_PKCS_DERIVE, (void *)g, g_len };

		rv = token_create(ts, key, CAPI11_N_ELEMENTS(key), &base);
		if (rv == CKR_OK)
			rv = token_derive_key(ts, &mech, base, out, CAPI11_N_ELEMENTS(out), &derived);
	}
	if (rv == CKR_OK)
		rv = token_get_attribute_alloc(ts, derived, CKA_VALUE, &y, &y_len);
	if (derived != CK_INVALID_HANDLE)
		token_destroy(ts, derived);
	/* The temporary key holds x: a token that will not destroy it has the
	 * session closed at release rather than pooled, which destroys it. */
	if (base != CK_INVALID_HANDLE && token_destroy(ts, base) != CKR_OK)
		ts->retire = true;
	/* A token that derived something else than a number below p. */
	if (rv == CKR_OK && (bn_be_len(y, y_len) == 0 || bn_be_len(y, y_len) > p_len))
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK) {
		capi11_free(y);
		return rv;
	}
	*y_out = y;
	*y_out_len = y_len;
	return CKR_OK;
}

/* v^e mod p on the token, e = q + add (add 0 or 1), into *w. */
static CK_RV dh_power_q(struct tsession *ts, const BYTE *p, size_t p_len, const BYTE *q,
			size_t q_len, unsigned add, const BYTE *v, size_t v_len, void **w,
			CK_ULONG *w_len)
{
	BYTE *e;
	unsigned carry = add;
	size_t n;
	CK_RV rv;

	/* One byte wider for the carry. */
	e = capi11_malloc(q_len + 1);
	if (e == NULL)
		return CKR_HOST_MEMORY;
	e[0] = 0;
	memcpy(e + 1, q, q_len);
	for (size_t i = q_len + 1; i-- > 0 && carry;) {
		unsigned sum = (unsigned)e[i] + carry;

		e[i] = (BYTE)sum;
		carry = sum >> 8;
	}
	n = bn_be_len(e, q_len + 1);
	rv = dh_public_value(ts, p, p_len, v, v_len, e + q_len + 1 - n, n, w, w_len);
	capi11_free(e);
	return rv;
}

DWORD dh_check_subgroup(struct tsession *ts, const BYTE *p, size_t p_len, const BYTE *q,
			size_t q_len, const BYTE *v, size_t v_len)
{
	static const BYTE one = 1;
	void *w = NULL;
	CK_ULONG w_len = 0;
	DWORD err;
	CK_RV rv;

	if (bn_be_len(q, q_len) == 0 || q_len >= SIZE_MAX || p_len == 0)
		return NTE_BAD_DATA;
	rv = dh_power_q(ts, p, p_len, q, q_len, 1, v, v_len, &w, &w_len);
	if (rv == CKR_OK) {
		err = be_equal(w, w_len, v, v_len) ? ERROR_SUCCESS : NTE_BAD_DATA;
		capi11_free(w);
		return err;
	}
	/* The token would not derive v^(q+1): tokens refuse a secret of 1
	 * (SoftHSM's OpenSSL does), which it is for no v of the subgroup
	 * (there it is v itself). Told apart from a failing token by v^q:
	 * derived, and not 1, it puts v outside the subgroup. */
	err = error_from_ckr(rv, ERROR_OP_GENERIC);
	if (dh_power_q(ts, p, p_len, q, q_len, 0, v, v_len, &w, &w_len) == CKR_OK) {
		if (!be_equal(w, w_len, &one, 1))
			err = NTE_BAD_DATA;
		capi11_free(w);
	}
	return err;
}

static BYTE *be_new(struct blob_bytes le)
{
	BYTE *be = capi11_malloc(le.len ? le.len : 1);

	if (be != NULL)
		bn_le_to_be(le.data, le.len, be, le.len);
	return be;
}

static bool be_equal(const BYTE *a, size_t a_len, const BYTE *b, size_t b_len)
{
	size_t la = bn_be_len(a, a_len), lb = bn_be_len(b, b_len);

	return la == lb && memcmp(a + a_len - la, b + b_len - lb, la) == 0;
}

DWORD dh_import_private_locked(struct context *ctx, const BYTE *data, size_t len, DWORD flags,
			       struct key **out)
{
	CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE q_obj = CK_INVALID_HANDLE;
	struct key_pair_plan plan;
	struct blob_dh d;
	BYTE *p = NULL, *g = NULL, *x = NULL, *y_blob = NULL, *q = NULL;
	size_t q_len = 0;
	void *y = NULL;
	CK_ULONG y_len = 0;
	DWORD err;
	CK_RV rv = CKR_OK;

	err = blob_parse_dh(data, len, &d);
	if (err == ERROR_SUCCESS && !d.private)
		err = NTE_BAD_TYPE;
	/* The container's pair lives on its token alone: one that cannot
	 * agree (nor compute y) does not have the algorithm. */
	if (err == ERROR_SUCCESS && !dh_token_agrees(ctx->ts.tok))
		err = NTE_BAD_ALGID;
	if (err == ERROR_SUCCESS)
		err = key_pair_begin_type_locked(ctx, AT_KEYEXCHANGE, CKK_DH,
						 (flags & CRYPT_EXPORTABLE) != 0, &plan);
	if (err != ERROR_SUCCESS)
		return err;
	p = be_new(d.p);
	g = be_new(d.g);
	x = be_new(d.x);
	if (d.y.len > 0)
		y_blob = be_new(d.y);
	if (d.q.len > 0) {
		q = be_new(d.q);
		q_len = d.q.len;
	}
	if (p == NULL || g == NULL || x == NULL || (d.y.len > 0 && y_blob == NULL) ||
	    (d.q.len > 0 && q == NULL)) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	/* A group given with its q (bitlenQ > 0): g must generate the subgroup
	 * of order q, checked on the token before any object is made; q then
	 * stays with the key for agreement (key.h). */
	if (q != NULL) {
		size_t n = bn_be_len(q, q_len);

		memmove(q, q + q_len - n, n);
		q_len = n;
		/* The rules a stored q is held to when the key is opened again
		 * (dh_q_read_checked): odd, its top bit set, 1 < q < p - 1. */
		err = n > 0 && (q[0] & 0x80) && (q[n - 1] & 1) &&
				      dh_between_one_and_pm1(q, n, p, d.p.len)
			      ? dh_check_subgroup(&ctx->ts, p, d.p.len, q, q_len, g, d.g.len)
			      : NTE_BAD_DATA;
		/* Stored before the pair, so that no stored pair ever lacks
		 * the q its ID promises; destroyed below if the pair fails. */
		if (err == ERROR_SUCCESS)
			err = dh_q_store_locked(ctx, &plan, q, q_len, &q_obj);
		if (err != ERROR_SUCCESS)
			goto out;
	}
	plan.priv[plan.n_priv++] = (CK_ATTRIBUTE){ CKA_PRIME, p, d.p.len };
	plan.priv[plan.n_priv++] = (CK_ATTRIBUTE){ CKA_BASE, g, d.g.len };
	plan.priv[plan.n_priv++] = (CK_ATTRIBUTE){ CKA_VALUE, x, d.x.len };
	err = key_pair_create_private_locked(ctx, &plan, flags, &priv, &rv);
	/* The public half: y as the token computes it from x. A version 3
	 * blob's own y must be that number, or the container would hold a
	 * public key that is not its private key's. */
	if (rv == CKR_OK && err == ERROR_SUCCESS) {
		rv = dh_public_value(&ctx->ts, p, d.p.len, g, d.g.len, x, d.x.len, &y, &y_len);
		if (rv == CKR_OK && y_blob != NULL && !be_equal(y_blob, d.y.len, y, y_len)) {
			err = NTE_BAD_DATA;
			rv = CKR_ARGUMENTS_BAD;
		}
	}
	if (rv == CKR_OK && err == ERROR_SUCCESS) {
		plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_PRIME, p, d.p.len };
		plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_BASE, g, d.g.len };
		plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_VALUE, y, y_len };
		rv = token_create(&ctx->ts, plan.pub, plan.n_pub, &pub);
		token_cap_learn(ctx->ts.tok, TOKEN_CAP_CREATE_PUBLIC_KEY, rv);
	}
	/* Either algorithm's blob becomes the container's exchange pair: an
	 * ephemeral key is one that is never stored, and this one is. */
	err = key_pair_store_locked(ctx, &plan, rv, err, ERROR_OP_IMPORT, priv, pub, out);
	if (err == ERROR_SUCCESS && q != NULL) {
		(*out)->obj->dh_q = q;
		(*out)->obj->dh_q_len = q_len;
		(*out)->obj->dh_q_obj = q_obj;
		q = NULL;
	} else if (err != ERROR_SUCCESS && q_obj != CK_INVALID_HANDLE) {
		token_destroy(&ctx->ts, q_obj);
	}
out:
	capi11_free(q);
	capi11_free(p);
	capi11_free(g);
	capi11_free_secret(x, d.x.len);
	capi11_free(y_blob);
	capi11_free(y);
	return err;
}

/* ---- q stored with a container's pair ---- */

#define DH_Q_VALUE_MAX (KEY_ID_LEN + DH_ENH_MAX_BITS / 8)

static CK_RV dh_q_create(struct tsession *ts, const char *container, const unsigned char *id,
			 const BYTE *q, size_t q_len, CK_OBJECT_HANDLE *obj)
{
	static const CK_OBJECT_CLASS data_class = CKO_DATA;
	BYTE value[DH_Q_VALUE_MAX];
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&data_class, sizeof data_class },
		{ CKA_TOKEN, token_bool(true), sizeof(CK_BBOOL) },
		{ CKA_PRIVATE, token_bool(true), sizeof(CK_BBOOL) },
		{ CKA_LABEL, (void *)container, strlen(container) },
		{ CKA_APPLICATION, (void *)CONTAINER_DH_Q_APPLICATION,
		  strlen(CONTAINER_DH_Q_APPLICATION) },
		{ CKA_VALUE, value, KEY_ID_LEN + q_len },
	};
	CK_RV rv;

	if (q_len == 0 || q_len > DH_ENH_MAX_BITS / 8)
		return CKR_ARGUMENTS_BAD;
	/* Refused before: not asked again. */
	if (token_cap(ts->tok, TOKEN_CAP_CREATE_DATA_PRIVATE) == TOKEN_CAP_NO)
		return CKR_TEMPLATE_INCONSISTENT;
	memcpy(value, id, KEY_ID_LEN);
	memcpy(value + KEY_ID_LEN, q, q_len);
	rv = token_create(ts, tmpl, CAPI11_N_ELEMENTS(tmpl), obj);
	token_cap_learn(ts->tok, TOKEN_CAP_CREATE_DATA_PRIVATE, rv);
	return rv;
}

DWORD dh_q_store_locked(struct context *ctx, struct key_pair_plan *plan, const BYTE *q,
			size_t q_len, CK_OBJECT_HANDLE *obj)
{
	CK_RV rv;

	*obj = CK_INVALID_HANDLE;
	if (q == NULL || ctx->verify || ctx->container == NULL)
		return ERROR_SUCCESS;
	/* The mark first: the object names the pair by its ID as made. */
	key_id_mark_dh_q(plan->id, true);
	rv = dh_q_create(&ctx->ts, ctx->container, plan->id, q, q_len, obj);
	if (rv == CKR_OK)
		return ERROR_SUCCESS;
	*obj = CK_INVALID_HANDLE;
	key_id_mark_dh_q(plan->id, false);
	if (token_rv_is_refusal(rv) && rv != CKR_TOKEN_WRITE_PROTECTED &&
	    rv != CKR_SESSION_READ_ONLY) {
		trace_message("container \"%s\": the token keeps no private data object; the DH "
			      "key's q stays with this handle only",
			      ctx->container);
		return ERROR_SUCCESS;
	}
	return error_from_ckr(rv, ERROR_OP_GENERIC);
}

/* The container's q objects; *objs capi11_malloc'd. */
static CK_RV dh_q_find(struct tsession *ts, const char *container, CK_OBJECT_HANDLE **objs,
		       CK_ULONG *n)
{
	static const CK_OBJECT_CLASS data_class = CKO_DATA;
	static const CK_BBOOL yes = CK_TRUE;
	/* Private ones only: a public object could be anyone's, and one
	 * added beside the real q would otherwise block the key. */
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&data_class, sizeof data_class },
		{ CKA_PRIVATE, (void *)&yes, sizeof yes },
		{ CKA_LABEL, (void *)container, strlen(container) },
		{ CKA_APPLICATION, (void *)CONTAINER_DH_Q_APPLICATION,
		  strlen(CONTAINER_DH_Q_APPLICATION) },
	};

	return token_find(ts, tmpl, CAPI11_N_ELEMENTS(tmpl), objs, n);
}

/* Whether q object h names the pair of that ID; its value in *value
 * (capi11_malloc'd) when it does. */
static bool dh_q_names(struct tsession *ts, CK_OBJECT_HANDLE h, const void *id, CK_ULONG id_len,
		       void **value, CK_ULONG *value_len)
{
	void *v = NULL;
	CK_ULONG len = 0;

	/* Only a whole capi11 ID that promises a q names one: a shorter ID
	 * (another tool's, or none) would match every q object by prefix. */
	if (id_len != KEY_ID_LEN || !key_id_has_dh_q(id, id_len))
		return false;
	if (token_get_attribute_alloc(ts, h, CKA_VALUE, &v, &len) != CKR_OK)
		return false;
	if (len <= id_len || memcmp(v, id, id_len) != 0) {
		capi11_free(v);
		return false;
	}
	*value = v;
	*value_len = len;
	return true;
}

void dh_q_destroy_for_id(struct tsession *ts, const char *container, const void *id,
			 CK_ULONG id_len)
{
	CK_OBJECT_HANDLE *objs = NULL;
	CK_ULONG n = 0;

	if (container == NULL || dh_q_find(ts, container, &objs, &n) != CKR_OK)
		return;
	for (CK_ULONG i = 0; i < n; i++) {
		void *v = NULL;
		CK_ULONG len;

		if (dh_q_names(ts, objs[i], id, id_len, &v, &len))
			token_destroy(ts, objs[i]);
		capi11_free(v);
	}
	capi11_free(objs);
}

/* The q object of the pair whose ID is id: the one found, checked. NULL
 * (*why says what failed) when there is none, several, or its q is not
 * one of the key's group. */
static BYTE *dh_q_read_checked(struct key *key, const void *id, CK_ULONG id_len,
			       size_t *q_len, CK_OBJECT_HANDLE *q_obj, const char **why)
{
	struct tsession *ts = key_session(key);
	CK_OBJECT_HANDLE from = key->obj->pub != CK_INVALID_HANDLE ? key->obj->pub : key->obj->priv;
	CK_OBJECT_HANDLE *objs = NULL, found = CK_INVALID_HANDLE;
	void *value = NULL, *p = NULL, *g = NULL;
	CK_ULONG n = 0, matches = 0, value_len = 0, p_len = 0, g_len = 0;
	BYTE *q = NULL;
	size_t len = 0;
	CK_BBOOL priv = CK_FALSE, token = CK_FALSE;

	*why = "its q object could not be searched";
	if (dh_q_find(ts, key->ctx->container, &objs, &n) != CKR_OK)
		goto out;
	for (CK_ULONG i = 0; i < n; i++) {
		void *v = NULL;
		CK_ULONG l = 0;

		if (!dh_q_names(ts, objs[i], id, id_len, &v, &l))
			continue;
		matches++;
		capi11_free(value);
		value = v;
		value_len = l;
		found = objs[i];
	}
	*why = matches == 0 ? "its q object is missing" : "it has several q objects";
	if (matches != 1)
		goto out;
	/* Only a PIN holder makes a private token object: a public one could
	 * be anyone's. */
	{
		CK_ATTRIBUTE a[] = {
			{ CKA_PRIVATE, &priv, sizeof priv },
			{ CKA_TOKEN, &token, sizeof token },
		};

		*why = "its q object is not a private token object";
		if (token_get_attributes(ts, found, a, 2) != CKR_OK || !priv || !token)
			goto out;
	}
	q = (BYTE *)value + id_len;
	len = value_len - id_len;
	*why = "its stored q is not odd, lacks its top bit, or is not below p";
	if (len == 0 || len > DH_ENH_MAX_BITS / 8 || !(q[0] & 0x80) || !(q[len - 1] & 1))
		goto out;
	if (token_get_attribute_alloc(ts, from, CKA_PRIME, &p, &p_len) != CKR_OK ||
	    token_get_attribute_alloc(ts, from, CKA_BASE, &g, &g_len) != CKR_OK ||
	    !dh_between_one_and_pm1(q, len, p, p_len))
		goto out;
	*why = "its group's g is not of the stored q's order (g^q != 1), or the token could not "
	       "tell";
	if (dh_check_subgroup(ts, p, p_len, q, len, g, g_len) != ERROR_SUCCESS)
		goto out;
	*why = "out of memory";
	q = capi11_malloc(len);
	if (q == NULL)
		goto out;
	memcpy(q, (BYTE *)value + id_len, len);
	*q_len = len;
	*q_obj = found;
	capi11_free(objs);
	capi11_free(value);
	capi11_free(p);
	capi11_free(g);
	return q;
out:
	capi11_free(objs);
	capi11_free(value);
	capi11_free(p);
	capi11_free(g);
	return NULL;
}

void dh_q_load_locked(struct key *key)
{
	void *id = NULL;
	CK_ULONG id_len = 0;
	const char *why = NULL;
	CK_OBJECT_HANDLE q_obj = CK_INVALID_HANDLE;
	size_t q_len = 0;
	BYTE *q;

	if (key->obj->type != CKK_DH || key->obj->dh_q != NULL || key->ctx->container == NULL ||
	    key->obj->priv == CK_INVALID_HANDLE)
		return;
	/* An ID the token will not show cannot say whether a q is stored:
	 * the key is not run unchecked. */
	if (token_get_attribute_alloc(key_session(key), key->obj->priv, CKA_ID, &id, &id_len) !=
	    CKR_OK) {
		key->obj->dh_q_bad = true;
		trace_message("container \"%s\": the DH key's CKA_ID cannot be read, so whether "
			      "its group q is stored is unknown; agreement with the key is refused",
			      key->ctx->container);
		return;
	}
	/* Only a pair whose ID says so has a q stored: pairs of other tools,
	 * and capi11's own made without q, are as before. */
	if (!key_id_has_dh_q(id, id_len)) {
		capi11_free(id);
		return;
	}
	q = dh_q_read_checked(key, id, id_len, &q_len, &q_obj, &why);
	capi11_free(id);
	if (q == NULL) {
		key->obj->dh_q_bad = true;
		trace_message("container \"%s\": the DH key's group q is stored, but %s; agreement "
			      "with the key is refused",
			      key->ctx->container, why);
		return;
	}
	key->obj->dh_q = q;
	key->obj->dh_q_len = q_len;
	key->obj->dh_q_obj = q_obj;
}
