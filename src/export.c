/* CryptExportKey: which PKCS#11 calls serve each blob type. The blob
 * layouts are blob.c's; this file reads the key from the token and hands
 * the numbers over. Every buffer that held key bytes is wiped. */
#include "config.h"
#include "export.h"
#include "alg.h"
#include "blob.h"
#include "errors.h"
#include "util.h"

#include <string.h>

/* No key attribute capi11 reads is anywhere near this. */
#define ATTR_MAX_LEN (64 * 1024)
#define ATTRS_MAX 8

/* Attributes read into buffers of their own, with the allocated sizes
 * kept apart: a failed read may leave ulValueLen unusable for wiping. */
struct attr_set {
	CK_ATTRIBUTE a[ATTRS_MAX];
	CK_ULONG cap[ATTRS_MAX];
	CK_ULONG n;
};

static void attr_set_init(struct attr_set *set, const CK_ATTRIBUTE_TYPE *types, CK_ULONG n)
{
	CK_ULONG i;

	memset(set, 0, sizeof *set);
	for (i = 0; i < n && i < ATTRS_MAX; i++)
		set->a[i].type = types[i];
	set->n = i;
}

static void attr_set_clear(struct attr_set *set)
{
	CK_ULONG i;

	for (i = 0; i < set->n; i++) {
		capi11_free_secret(set->a[i].pValue, set->cap[i]);
		set->a[i].pValue = NULL;
		set->cap[i] = 0;
	}
}

/* Reads every attribute of set from obj. One the token hides (sensitive,
 * not extractable) fails CKR_ATTRIBUTE_SENSITIVE: nothing of a key that
 * may not leave is ever read. */
static CK_RV attr_set_read(struct context *ctx, CK_OBJECT_HANDLE obj, struct attr_set *set)
{
	CK_ULONG i;
	CK_RV rv;

	rv = token_get_attributes(ctx->tok, ctx->session, obj, set->a, set->n);
	if (rv != CKR_OK)
		return rv;
	for (i = 0; i < set->n; i++) {
		if (set->a[i].ulValueLen == CK_UNAVAILABLE_INFORMATION)
			return CKR_ATTRIBUTE_SENSITIVE;
		if (set->a[i].ulValueLen > ATTR_MAX_LEN)
			return CKR_GENERAL_ERROR;
		set->cap[i] = set->a[i].ulValueLen ? set->a[i].ulValueLen : 1;
		set->a[i].pValue = capi11_malloc(set->cap[i]);
		if (set->a[i].pValue == NULL)
			return CKR_HOST_MEMORY;
		set->a[i].ulValueLen = set->cap[i];
	}
	rv = token_get_attributes(ctx->tok, ctx->session, obj, set->a, set->n);
	if (rv != CKR_OK)
		return rv;
	for (i = 0; i < set->n; i++) {
		if (set->a[i].ulValueLen == CK_UNAVAILABLE_INFORMATION)
			return CKR_ATTRIBUTE_SENSITIVE;
	}
	return CKR_OK;
}

static struct blob_bytes attr_bytes(const struct attr_set *set, CK_ULONG i)
{
	struct blob_bytes b = { set->a[i].pValue, set->a[i].ulValueLen };
	return b;
}

/* Stores a builder's result in the caller's length, per SPEC section 2. */
static DWORD export_finish(DWORD err, size_t needed, DWORD *len)
{
	if (err != ERROR_SUCCESS && err != ERROR_MORE_DATA)
		return err;
	if (needed > 0xffffffffu)
		return NTE_FAIL;
	*len = (DWORD)needed;
	return err;
}

/* Whether the token lets the private or secret key's value out in
 * plaintext: CKA_EXTRACTABLE and not CKA_SENSITIVE. Asked of the token
 * itself, so that a key another tool made sensitive is refused before
 * anything is read. */
static DWORD export_check_plain_locked(struct key *key)
{
	struct context *ctx = key->ctx;
	bool extractable = false, sensitive = true;
	CK_RV rv;

	if (!key->exportable || key->obj->priv == CK_INVALID_HANDLE)
		return NTE_BAD_KEY_STATE;
	rv = token_get_bool(ctx->tok, ctx->session, key->obj->priv, CKA_EXTRACTABLE, &extractable);
	if (rv == CKR_OK)
		rv = token_get_bool(ctx->tok, ctx->session, key->obj->priv, CKA_SENSITIVE, &sensitive);
	context_note_rv_locked(ctx, rv);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	return extractable && !sensitive ? ERROR_SUCCESS : NTE_BAD_KEY_STATE;
}

/* PUBLICKEYBLOB: the modulus and public exponent, from the public key
 * object, or from the private key when the pair has no public object
 * (RSA private keys expose both). */
static DWORD export_rsa_public_locked(struct key *key, BYTE *data, DWORD *len)
{
	static const CK_ATTRIBUTE_TYPE types[] = { CKA_MODULUS, CKA_PUBLIC_EXPONENT };
	struct context *ctx = key->ctx;
	CK_OBJECT_HANDLE obj = key->obj->pub != CK_INVALID_HANDLE ? key->obj->pub : key->obj->priv;
	struct blob_rsa_numbers nums = { .alg = key->algid };
	struct attr_set set;
	size_t needed = 0;
	DWORD err;
	CK_RV rv;

	attr_set_init(&set, types, CAPI11_N_ELEMENTS(types));
	rv = attr_set_read(ctx, obj, &set);
	context_note_rv_locked(ctx, rv);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_EXPORT);
		goto out;
	}
	nums.modulus = attr_bytes(&set, 0);
	nums.public_exponent = attr_bytes(&set, 1);
	err = blob_build_rsa_public(&nums, data, data ? *len : 0, &needed);
	err = export_finish(err, needed, len);
out:
	attr_set_clear(&set);
	return err;
}

/* PRIVATEKEYBLOB in plaintext (hExpKey 0). */
static DWORD export_rsa_private_locked(struct key *key, struct key *exp, BYTE *data, DWORD *len)
{
	static const CK_ATTRIBUTE_TYPE types[] = {
		CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
		CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT, CKA_PRIVATE_EXPONENT,
	};
	struct context *ctx = key->ctx;
	struct blob_rsa_numbers nums = { .alg = key->algid };
	struct attr_set set;
	size_t needed = 0;
	DWORD err;
	CK_RV rv;

	/* Windows reports a key that may not leave even to a size query. */
	err = export_check_plain_locked(key);
	if (err != ERROR_SUCCESS)
		return err;
	/* The PRIVATEKEYBLOB encrypted under a session key is not served yet. */
	if (exp != NULL)
		return NTE_NOT_SUPPORTED;

	/* A size query reads the public numbers only. */
	attr_set_init(&set, types, data == NULL ? 2 : CAPI11_N_ELEMENTS(types));
	rv = attr_set_read(ctx, key->obj->priv, &set);
	context_note_rv_locked(ctx, rv);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_EXPORT);
		goto out;
	}
	if (data == NULL) {
		size_t k = bn_be_len(set.a[0].pValue, set.a[0].ulValueLen);

		needed = k <= ALG_RSA_MAX_BITS / 8 ? blob_size_rsa_private((DWORD)k * 8) : 0;
		err = needed != 0 ? export_finish(ERROR_SUCCESS, needed, len) : NTE_BAD_KEY;
		goto out;
	}
	nums.modulus = attr_bytes(&set, 0);
	nums.public_exponent = attr_bytes(&set, 1);
	nums.prime1 = attr_bytes(&set, 2);
	nums.prime2 = attr_bytes(&set, 3);
	nums.exponent1 = attr_bytes(&set, 4);
	nums.exponent2 = attr_bytes(&set, 5);
	nums.coefficient = attr_bytes(&set, 6);
	nums.private_exponent = attr_bytes(&set, 7);
	err = blob_build_rsa_private(&nums, data, *len, &needed);
	err = export_finish(err, needed, len);
out:
	attr_set_clear(&set);
	return err;
}

/* The length of a secret key's value: fixed by the algorithm, else the
 * length it was made with (RC2/RC4). Tokens may hand back more (a value
 * unwrapped with CKM_AES_KEY_WRAP_PAD keeps its zero padding). */
static size_t export_secret_len(const struct key *key)
{
	size_t n;

	if (alg_symmetric_key_len(key->algid, &n))
		return n;
	return key->bits / 8;
}

/* PLAINTEXTKEYBLOB: CKA_VALUE of an exportable session key. */
static DWORD export_plaintext_locked(struct key *key, BYTE *data, DWORD *len)
{
	static const CK_ATTRIBUTE_TYPE types[] = { CKA_VALUE };
	struct context *ctx = key->ctx;
	size_t key_len = export_secret_len(key), needed = 0;
	struct attr_set set;
	DWORD err;
	CK_RV rv;

	err = export_check_plain_locked(key);
	if (err != ERROR_SUCCESS)
		return err;
	if (key_len == 0)
		return NTE_BAD_KEY;
	if (data == NULL)
		return export_finish(ERROR_SUCCESS, blob_size_plaintext(key_len), len);

	attr_set_init(&set, types, CAPI11_N_ELEMENTS(types));
	rv = attr_set_read(ctx, key->obj->priv, &set);
	context_note_rv_locked(ctx, rv);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_EXPORT);
		goto out;
	}
	if (set.a[0].ulValueLen < key_len) {
		err = NTE_FAIL;
		goto out;
	}
	err = blob_build_plaintext(key->algid, set.a[0].pValue, key_len, data, *len, &needed);
	err = export_finish(err, needed, len);
out:
	attr_set_clear(&set);
	return err;
}

/* The RSA mechanism of a SIMPLEBLOB: PKCS#1 v1.5, or OAEP with SHA-1 and
 * MGF1-SHA-1 (what Windows' CRYPT_OAEP means, and all SoftHSM offers). */
static const CK_RSA_PKCS_OAEP_PARAMS simple_oaep = {
	CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0,
};

void export_simple_mechanism(bool oaep, CK_MECHANISM *mech)
{
	mech->mechanism = oaep ? CKM_RSA_PKCS_OAEP : CKM_RSA_PKCS;
	mech->pParameter = oaep ? (void *)&simple_oaep : NULL;
	mech->ulParameterLen = oaep ? sizeof simple_oaep : 0;
}

/* hExpKey of a SIMPLEBLOB: an RSA exchange key with a public object on
 * the same token, whose exponent is not one (an exponent of one turns the
 * wrap into a copy). */
static DWORD export_check_simple_wrapper_locked(struct key *key, struct key *exp)
{
	struct context *ctx = key->ctx;
	BYTE e[8];
	CK_ATTRIBUTE attr = { CKA_PUBLIC_EXPONENT, e, sizeof e };
	DWORD value;
	CK_RV rv;

	if (exp == NULL || exp->obj->type != CKK_RSA || exp->algid != CALG_RSA_KEYX ||
	    exp->obj->pub == CK_INVALID_HANDLE || exp->ctx->tok != ctx->tok)
		return NTE_BAD_PUBLIC_KEY;
	rv = token_get_attributes(ctx->tok, ctx->session, exp->obj->pub, &attr, 1);
	context_note_rv_locked(ctx, rv);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    !bn_be_to_dword(e, attr.ulValueLen, &value) || value <= 1)
		return NTE_BAD_PUBLIC_KEY;
	return ERROR_SUCCESS;
}

/* SIMPLEBLOB: the session key wrapped by the token under an RSA public
 * key, byte-reversed. A sensitive key (the policy's) is wrapped only
 * under a public key whose private half this context cannot use, or a
 * decrypt would reveal it. */
static DWORD export_simple_locked(struct key *key, struct key *exp, DWORD flags, BYTE *data,
				  DWORD *len)
{
	struct context *ctx = key->ctx;
	CK_MECHANISM mech;
	CK_ULONG ct_len;
	BYTE *ct = NULL;
	bool sensitive = true;
	size_t needed = 0;
	DWORD err;
	CK_RV rv;

	err = export_check_simple_wrapper_locked(key, exp);
	if (err != ERROR_SUCCESS)
		return err;
	if (key->obj->type == CKK_RSA)
		return NTE_BAD_KEY;
	if (!key->exportable)
		return NTE_BAD_KEY_STATE;
	rv = token_get_bool(ctx->tok, ctx->session, key->obj->priv, CKA_SENSITIVE, &sensitive);
	context_note_rv_locked(ctx, rv);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	if (sensitive && exp->obj->priv != CK_INVALID_HANDLE)
		return NTE_BAD_KEY_STATE;
	/* A size query never wraps: the ciphertext is as long as the modulus. */
	if (data == NULL) {
		needed = blob_size_simple(exp->bits);
		return needed != 0 ? export_finish(ERROR_SUCCESS, needed, len) : NTE_BAD_PUBLIC_KEY;
	}
	ct_len = (exp->bits + 7) / 8;
	ct = capi11_malloc(ct_len ? ct_len : 1);
	if (ct == NULL)
		return NTE_NO_MEMORY;
	export_simple_mechanism((flags & CRYPT_OAEP) != 0, &mech);
	rv = token_wrap_key(ctx->tok, ctx->session, &mech, exp->obj->pub, key->obj->priv, ct,
			    &ct_len);
	context_note_rv_locked(ctx, rv);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_EXPORT);
		goto out;
	}
	err = blob_build_simple(key->algid, CALG_RSA_KEYX, ct, ct_len, data, *len, &needed);
	err = export_finish(err, needed, len);
out:
	capi11_free(ct);
	return err;
}

DWORD export_key_locked(struct key *key, struct key *exp, DWORD blob_type, DWORD flags,
			BYTE *data, DWORD *len)
{
	bool rsa = key->obj->type == CKK_RSA;

	if (flags & ~(DWORD)EXPORT_VALID_FLAGS)
		return NTE_BAD_FLAGS;
	if ((flags & CRYPT_SSL2_FALLBACK) && key->algid != CALG_SSL2_MASTER)
		return NTE_BAD_KEY;

	switch (blob_type) {
	case PUBLICKEYBLOB:
		/* A public key is exported as it is: no key may protect it. */
		if (!rsa || exp != NULL)
			return NTE_BAD_KEY;
		return export_rsa_public_locked(key, data, len);
	case PRIVATEKEYBLOB:
		if (!rsa)
			return NTE_BAD_KEY;
		return export_rsa_private_locked(key, exp, data, len);
	case PLAINTEXTKEYBLOB:
		if (rsa)
			return NTE_BAD_KEY;
		return export_plaintext_locked(key, data, len);
	case SIMPLEBLOB:
		return export_simple_locked(key, exp, flags, data, len);
	case OPAQUEKEYBLOB:
	case SYMMETRICWRAPKEYBLOB:
		return NTE_NOT_SUPPORTED;
	default:
		return NTE_BAD_TYPE;
	}
}
