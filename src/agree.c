/* Diffie-Hellman agreement on the token. */
#include "config.h"
#include "agree.h"
#include "alg.h"
#include "blob-dh.h"
#include "dh.h"
#include "errors.h"
#include "key.h"
#include "prov-type.h"
#include "session.h"
#include "token-ops.h"
#include "trace.h"
#include "util.h"

#include <string.h>

/* What KP_ALGID needs: the private key and the partner's value, to derive
 * the session key's bytes again on the token. */
struct agreed {
	struct keyobj *priv;          /* referenced; objects on the context's token */
	BYTE *y;                      /* partner's y, big-endian */
	size_t y_len;
	size_t p_len;                 /* bytes of the prime */
	bool exportable;              /* CryptImportKey's CRYPT_EXPORTABLE */
};

void agreed_free_locked(struct context *ctx, struct agreed *a)
{
	if (a == NULL)
		return;
	keyobj_unref_locked(ctx, a->priv);
	capi11_free(a->y);
	capi11_free(a);
}

struct agreed *agreed_dup_locked(const struct agreed *a)
{
	struct agreed *copy = capi11_calloc(1, sizeof *copy);

	if (copy == NULL)
		return NULL;
	*copy = *a;
	copy->y = capi11_malloc(a->y_len);
	if (copy->y == NULL) {
		capi11_free(copy);
		return NULL;
	}
	memcpy(copy->y, a->y, a->y_len);
	atomic_fetch_add(&copy->priv->refs, 1);
	return copy;
}

/* Compares big-endian numbers of any widths: <0, 0, >0. */
static int be_cmp(const BYTE *a, size_t a_len, const BYTE *b, size_t b_len)
{
	size_t la = bn_be_len(a, a_len), lb = bn_be_len(b, b_len);

	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(a + a_len - la, b + b_len - lb, la);
}

/* C_DeriveKey(CKM_DH_PKCS_DERIVE) of a session generic secret from the
 * private key and y: len bytes (CKA_VALUE_LEN; shorter than the secret,
 * the token keeps its low-order ones), readable when readable, else
 * sensitive and not extractable. Either way the object can do nothing:
 * every usage FALSE (CKA_SIGN, CKA_VERIFY, CKA_ENCRYPT, CKA_DECRYPT,
 * CKA_WRAP, CKA_UNWRAP, CKA_DERIVE), so that the token itself refuses to
 * run a function of the whole agreed secret (an HMAC, a digest of it
 * under C_SignInit...) should anything ask: KP_ALGID derives the session
 * key again from the private key, never from this object. A token that
 * refuses those attributes is asked again without them; capi11 refuses
 * every use of an agreed key itself (agree.h). */
static CK_RV agree_derive(struct tsession *ts, CK_OBJECT_HANDLE priv, const BYTE *y, size_t y_len,
			  CK_ULONG len, bool readable, CK_OBJECT_HANDLE *out)
{
	static const CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	static const CK_KEY_TYPE generic = CKK_GENERIC_SECRET;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&cls, sizeof cls },
		{ CKA_KEY_TYPE, (void *)&generic, sizeof generic },
		{ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_PRIVATE, token_bool(tsession_is_logged_in(ts)), sizeof(CK_BBOOL) },
		{ CKA_SENSITIVE, token_bool(!readable), sizeof(CK_BBOOL) },
		{ CKA_EXTRACTABLE, token_bool(readable), sizeof(CK_BBOOL) },
		{ CKA_VALUE_LEN, &len, sizeof len },
		/* AGREE_BASE_ATTRS above, the usages below. */
		{ CKA_SIGN, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_VERIFY, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_ENCRYPT, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_DECRYPT, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_WRAP, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_UNWRAP, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_DERIVE, token_bool(false), sizeof(CK_BBOOL) },
	};
	enum { AGREE_BASE_ATTRS = 7 };
	CK_MECHANISM mech = { CKM_DH_PKCS_DERIVE, (void *)y, y_len };
	CK_RV rv;

	*out = CK_INVALID_HANDLE;
	rv = token_derive_key(ts, &mech, priv, tmpl, CAPI11_N_ELEMENTS(tmpl), out);
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_VALUE_INVALID ||
	    rv == CKR_TEMPLATE_INCONSISTENT) {
		*out = CK_INVALID_HANDLE;
		rv = token_derive_key(ts, &mech, priv, tmpl, AGREE_BASE_ATTRS, out);
	}
	return rv;
}

DWORD agree_import_locked(struct context *ctx, const BYTE *data, size_t len, struct key *priv,
			  DWORD flags, struct key **out)
{
	struct tsession *ts;
	struct agreed *a = NULL;
	struct blob_dh d;
	CK_OBJECT_HANDLE from, h = CK_INVALID_HANDLE;
	void *p = NULL, *g = NULL;
	CK_ULONG p_len = 0, g_len = 0;
	BYTE *y = NULL;
	DWORD err;
	CK_RV rv;

	/* hPubKey must be this context's DH private key. */
	if (priv == NULL || priv->ctx != ctx || priv->obj->type != CKK_DH ||
	    priv->obj->priv == CK_INVALID_HANDLE || priv->pregen != NULL)
		return NTE_BAD_PUBLIC_KEY;
	err = blob_parse_dh(data, len, &d);
	if (err != ERROR_SUCCESS)
		return err;
	if (d.private)
		return NTE_BAD_TYPE;
	ts = key_session(priv);
	from = priv->obj->pub != CK_INVALID_HANDLE ? priv->obj->pub : priv->obj->priv;
	rv = token_get_attribute_alloc(ts, from, CKA_PRIME, &p, &p_len);
	if (rv == CKR_OK)
		rv = token_get_attribute_alloc(ts, from, CKA_BASE, &g, &g_len);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
		goto out;
	}
	/* The partner's key must be of the same group: the same length and,
	 * where the blob says, the same p and g. */
	if (d.bitlen != bn_be_len(p, p_len) * 8) {
		err = NTE_BAD_DATA;
		goto out;
	}
	y = capi11_malloc(d.y.len);
	if (y == NULL) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	bn_le_to_be(d.y.data, d.y.len, y, d.y.len);
	if (d.version == 3) {
		BYTE *bp = capi11_malloc(d.p.len), *bg = capi11_malloc(d.g.len);
		bool same = bp != NULL && bg != NULL;

		if (same) {
			bn_le_to_be(d.p.data, d.p.len, bp, d.p.len);
			bn_le_to_be(d.g.data, d.g.len, bg, d.g.len);
			same = be_cmp(bp, d.p.len, p, p_len) == 0 && be_cmp(bg, d.g.len, g, g_len) == 0;
		}
		err = bp == NULL || bg == NULL ? NTE_NO_MEMORY : same ? ERROR_SUCCESS : NTE_BAD_DATA;
		capi11_free(bp);
		capi11_free(bg);
		if (err != ERROR_SUCCESS)
			goto out;
	}
	/* 1, p - 1 and values outside the group give a secret anyone knows. */
	if (!dh_between_one_and_pm1(y, d.y.len, p, p_len)) {
		err = NTE_BAD_DATA;
		goto out;
	}
	/* A group of known q (p - 1 = q * j): a y outside the subgroup of
	 * order q may have a small order r, and its secret, one of r values,
	 * would tell x mod r (Lim and Lee). Checked on the token: y^q = 1.
	 * A group whose q capi11 was not given is not checked (README). */
	if (priv->obj->dh_q_bad) {
		trace_message("agreement refused: the DH key's stored q is missing or not valid");
		err = NTE_BAD_KEY;
		goto out;
	}
	if (priv->obj->dh_q != NULL) {
		err = dh_check_subgroup(ts, p, p_len, priv->obj->dh_q, priv->obj->dh_q_len, y,
					d.y.len);
		if (err != ERROR_SUCCESS)
			goto out;
	}
	a = capi11_calloc(1, sizeof *a);
	if (a == NULL) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	/* The whole secret, as long as p (tokens ask for CKA_VALUE_LEN of a
	 * generic secret). */
	rv = agree_derive(ts, priv->obj->priv, y, d.y.len, (CK_ULONG)bn_be_len(p, p_len), false,
			  &h);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
		goto out;
	}
	err = key_adopt_on_locked(ctx, ts, h, CK_INVALID_HANDLE, CKK_GENERIC_SECRET,
				  CALG_AGREEDKEY_ANY, priv->bits, false, true, out);
	if (err != ERROR_SUCCESS) {
		token_destroy(ts, h);
		goto out;
	}
	a->priv = priv->obj;
	atomic_fetch_add(&a->priv->refs, 1);
	a->y = y;
	a->y_len = d.y.len;
	a->p_len = bn_be_len(p, p_len);
	a->exportable = (flags & CRYPT_EXPORTABLE) != 0;
	y = NULL;
	(*out)->agreed = a;
	a = NULL;
out:
	capi11_free(a);
	capi11_free(y);
	capi11_free(p);
	capi11_free(g);
	return err;
}

/* Key lengths of the ciphers an agreed key becomes, in bytes. */
static size_t agree_key_len(ALG_ID alg)
{
	switch (alg) {
	case CALG_DES:
		return 8;
	case CALG_3DES_112:
		return 16;
	case CALG_3DES:
		return 24;
	case CALG_AES_128:
		return 16;
	case CALG_AES_192:
		return 24;
	case CALG_AES_256:
		return 32;
	case CALG_RC2:
	case CALG_RC4:
		return 16;
	default:
		return 0;
	}
}

/* The mechanism that runs a cipher of the key type, asked of the token
 * before any byte of the secret is read for a key it could not use. */
static CK_MECHANISM_TYPE agree_cipher_mech(CK_KEY_TYPE type)
{
	switch (type) {
	case CKK_AES:
		return CKM_AES_CBC;
	case CKK_DES:
		return CKM_DES_CBC;
	case CKK_DES2:
	case CKK_DES3:
		return CKM_DES3_CBC;
	case CKK_RC2:
		return CKM_RC2_CBC;
	default:
		return CKM_RC4;
	}
}

DWORD agree_set_algid_locked(struct key *key, ALG_ID alg)
{
	struct context *ctx = key->ctx;
	struct agreed *a = key->agreed;
	struct tsession *ts;
	CK_ATTRIBUTE tmpl[KEY_SECRET_ATTRS + KEY_PROTECT_ATTRS + 1];
	CK_OBJECT_HANDLE derived = CK_INVALID_HANDLE, h = CK_INVALID_HANDLE;
	struct tsession scratch = { 0 }, *on;
	CK_KEY_TYPE type;
	CK_MECHANISM_INFO info;
	CK_ULONG n_tmpl;
	size_t n = agree_key_len(alg);
	void *low = NULL;
	CK_ULONG low_len = 0;
	BYTE bytes[32];
	DWORD err;
	CK_RV rv;

	if (a == NULL)
		return NTE_BAD_TYPE;
	if (n == 0 || !prov_type_serves(ctx->prov_type, alg) || !alg_key_type(alg, &type) ||
	    n > a->p_len)
		return NTE_BAD_ALGID;
	ts = keyobj_session(ctx, a->priv);
	if ((type == CKK_DES2 && !token_has_des2(ts->tok)) ||
	    token_mechanism_info(ts->tok, agree_cipher_mech(type), &info) != CKR_OK ||
	    !(info.flags & CKF_ENCRYPT))
		return NTE_BAD_ALGID;
	/* The n low-order bytes of the secret, on the token; read once. They
	 * are derived on a session of their own, closed at once: closing it
	 * destroys the readable object even when the token will not
	 * C_DestroyObject it, so no other session ever finds the bytes. A
	 * token that opens no further session has them derived on the key's
	 * session; should their destroy fail there, the session is marked
	 * lost (the next entry into the context closes it, which destroys
	 * them, as import.c does for a SIMPLEBLOB) and KP_ALGID fails. */
	on = tsession_scratch_open(ts->tok, &scratch) == CKR_OK ? &scratch : ts;
	rv = agree_derive(on, a->priv->priv, a->y, a->y_len, n, true, &derived);
	if (rv == CKR_OK)
		rv = token_get_attribute_alloc(on, derived, CKA_VALUE, &low, &low_len);
	if (derived != CK_INVALID_HANDLE && token_destroy(on, derived) != CKR_OK && on == ts) {
		if (!ts->lost) {
			ts->lost = true;
			ts->lost_rv = CKR_SESSION_CLOSED;
		}
		if (rv == CKR_OK)
			rv = CKR_SESSION_CLOSED;
	}
	tsession_scratch_close(&scratch);
	if (rv == CKR_OK && low_len != n)
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK) {
		capi11_free_secret(low, low_len);
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	}
	/* Least significant first, as Windows' raw secret is. */
	bn_reverse_copy(bytes, low, n);
	capi11_free_secret(low, low_len);
	key_secret_template_locked(ctx, ts, &type, a->exportable, tmpl);
	n_tmpl = KEY_SECRET_ATTRS;
	err = key_template_protect_locked(ts, tmpl, &n_tmpl, false);
	if (err == ERROR_SUCCESS) {
		tmpl[n_tmpl++] = (CK_ATTRIBUTE){ CKA_VALUE, bytes, n };
		rv = token_create(ts, tmpl, n_tmpl, &h);
		token_cap_learn(ts->tok, TOKEN_CAP_CREATE_SECRET_KEY, rv);
		/* A token without the cipher's key type does not offer it. */
		if (rv == CKR_ATTRIBUTE_VALUE_INVALID || rv == CKR_TEMPLATE_INCONSISTENT ||
		    rv == CKR_KEY_TYPE_INCONSISTENT)
			err = NTE_BAD_ALGID;
		else if (rv != CKR_OK)
			err = error_from_ckr(rv, ERROR_OP_IMPORT);
	}
	capi11_wipe(bytes, sizeof bytes);
	if (err == ERROR_SUCCESS) {
		err = key_replace_secret_locked(key, ts, h, type, alg, (DWORD)n * 8, a->exportable);
		if (err != ERROR_SUCCESS)
			token_destroy(ts, h);
	}
	if (err == ERROR_SUCCESS) {
		key->agreed = NULL;
		agreed_free_locked(ctx, a);
	}
	return err;
}
