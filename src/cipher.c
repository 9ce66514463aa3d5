/* CryptEncrypt and CryptDecrypt.
 *
 * Session keys: every call is one complete C_EncryptInit + C_Encrypt (or
 * the decrypt pair) with the token's unpadded CBC or ECB mechanism, the CBC
 * chaining value kept in struct key and passed as the IV. Nothing stays
 * active on the context's session between calls, so two keys can stream
 * at once in one context, and a non-final CryptDecrypt returns every whole
 * block it was given (the *_CBC_PAD mechanisms would hold the last one
 * back). PKCS#5 padding is added and checked here; the cipher itself runs
 * in the token. A token without the CBC mechanism but with ECB (p11-kit's
 * client module) gets CBC composed from ECB calls, the key still inside.
 *
 * RSA: PKCS#1 v1.5 or OAEP with the public object, decryption with the
 * private object; Windows keeps RSA ciphertext little-endian, PKCS#11
 * big-endian, so the bytes are reversed on the way out and in. */
#include "config.h"
#include "cipher.h"
#include "blob.h"
#include "errors.h"
#include "rsa-mech.h"
#include "trace.h"
#include "util.h"

#include <string.h>

struct cipher_mechs {
	CK_KEY_TYPE type;
	CK_MECHANISM_TYPE cbc, ecb;
};

/* The unpadded block mechanisms per key type. Two-key 3DES runs under the
 * DES3 mechanisms, which take CKK_DES2 keys. */
static const struct cipher_mechs block_mechs[] = {
	{ CKK_AES, CKM_AES_CBC, CKM_AES_ECB },
	{ CKK_DES, CKM_DES_CBC, CKM_DES_ECB },
	{ CKK_DES2, CKM_DES3_CBC, CKM_DES3_ECB },
	{ CKK_DES3, CKM_DES3_CBC, CKM_DES3_ECB },
	{ CKK_RC2, CKM_RC2_CBC, CKM_RC2_ECB },
};

/* The parameters RC2 takes: its effective key length, which Windows' CSPs
 * (since XP SP1, Microsoft KB 841715) set to the key's length. PKCS#11's
 * CK_RC2_PARAMS (a CK_ULONG) and CK_RC2_CBC_PARAMS, which p11-kit's
 * header does not declare. */
struct rc2_cbc_params {
	CK_ULONG ulEffectiveBits;
	CK_BYTE iv[8];
};
union cipher_params {
	CK_ULONG rc2;
	struct rc2_cbc_params rc2_cbc;
};

/* The ECB mechanism of the key, with the parameters it needs in p. */
static CK_MECHANISM cipher_ecb_mech(const struct key *key, CK_MECHANISM_TYPE ecb,
				    union cipher_params *p)
{
	if (key->obj->type != CKK_RC2)
		return (CK_MECHANISM){ ecb, NULL, 0 };
	p->rc2 = key->bits;
	return (CK_MECHANISM){ ecb, &p->rc2, sizeof p->rc2 };
}

/* The CBC mechanism of the key, the chaining value as its IV. */
static CK_MECHANISM cipher_cbc_mech(struct key *key, CK_MECHANISM_TYPE cbc, union cipher_params *p)
{
	DWORD bl = key->block_bits / 8;

	if (key->obj->type != CKK_RC2)
		return (CK_MECHANISM){ cbc, key->chain, bl };
	p->rc2_cbc.ulEffectiveBits = key->bits;
	memcpy(p->rc2_cbc.iv, key->chain, sizeof p->rc2_cbc.iv);
	return (CK_MECHANISM){ cbc, &p->rc2_cbc, sizeof p->rc2_cbc };
}

static const struct cipher_mechs *cipher_block_mechs(const struct key *key)
{
	size_t i;

	for (i = 0; i < CAPI11_N_ELEMENTS(block_mechs); i++) {
		if (block_mechs[i].type == key->obj->type)
			return &block_mechs[i];
	}
	return NULL;
}

/* Back to KP_IV: the start of a new stream. */
static void cipher_restart(struct key *key)
{
	memcpy(key->chain, key->iv, sizeof key->chain);
}

/* One C_EncryptInit + C_Encrypt (or the decrypt pair) of n bytes from in
 * to out, which may be the same buffer. *rv receives the token's answer,
 * so that a caller can tell a refusal at use from other failures. */
static DWORD cipher_token_run(struct key *key, bool encrypt, CK_MECHANISM *mech,
			      const BYTE *in, BYTE *out, DWORD n, CK_RV *rv)
{
	CK_ULONG out_len = n;

	if (encrypt)
		*rv = token_encrypt(key_session(key), mech, key->obj->priv, in, n, out, &out_len);
	else
		*rv = token_decrypt(key_session(key), mech, key->obj->priv, in, n, out, &out_len);
	if (*rv != CKR_OK)
		return error_from_ckr(*rv, encrypt ? ERROR_OP_ENCRYPT : ERROR_OP_DECRYPT);
	return out_len == n ? ERROR_SUCCESS : NTE_FAIL;
}

static void cipher_xor(BYTE *data, const BYTE *with, DWORD n)
{
	DWORD i;

	for (i = 0; i < n; i++)
		data[i] ^= with[i];
}

/* CBC on a token that has only ECB (SPEC section 7: a composition that
 * keeps the key in the token; p11-kit's client module carries no
 * mechanism with a parameter, CKM_AES_CBC among them, but carries ECB).
 * Each block is XORed with the chaining value here and enciphered on the
 * token: one call per block, since each block's input is the previous
 * block's output. */
static DWORD cipher_cbc_encrypt_composed(struct key *key, CK_MECHANISM_TYPE ecb, BYTE *data,
					 DWORD n)
{
	union cipher_params params;
	CK_MECHANISM mech = cipher_ecb_mech(key, ecb, &params);
	DWORD bl = key->block_bits / 8, off;
	const BYTE *chain = key->chain;
	DWORD err;
	CK_RV rv;

	for (off = 0; off < n; off += bl) {
		cipher_xor(data + off, chain, bl);
		err = cipher_token_run(key, true, &mech, data + off, data + off, bl, &rv);
		if (err != ERROR_SUCCESS)
			return err;
		chain = data + off;
	}
	memcpy(key->chain, data + n - bl, bl);
	return ERROR_SUCCESS;
}

/* Decryption has no such dependency: one ECB decryption of every block,
 * then each block XORed with the ciphertext block before it (the first
 * with the chaining value). The ciphertext is kept aside for that. */
static DWORD cipher_cbc_decrypt_composed(struct key *key, CK_MECHANISM_TYPE ecb, BYTE *data,
					 DWORD n)
{
	union cipher_params params;
	CK_MECHANISM mech = cipher_ecb_mech(key, ecb, &params);
	DWORD bl = key->block_bits / 8;
	BYTE *ct = capi11_malloc(n);
	DWORD err;
	CK_RV rv;

	if (ct == NULL)
		return NTE_NO_MEMORY;
	memcpy(ct, data, n);
	err = cipher_token_run(key, false, &mech, ct, data, n, &rv);
	if (err == ERROR_SUCCESS) {
		cipher_xor(data, key->chain, bl);
		cipher_xor(data + bl, ct, n - bl);
		memcpy(key->chain, ct + n - bl, bl);
	}
	capi11_free(ct);
	return err;
}

/* CBC by the token's own mechanism, the chaining value as its IV. */
static DWORD cipher_cbc_token(struct key *key, bool encrypt, CK_MECHANISM_TYPE cbc, BYTE *data,
			      DWORD n, CK_RV *rv)
{
	DWORD bl = key->block_bits / 8;
	union cipher_params params;
	CK_MECHANISM mech = cipher_cbc_mech(key, cbc, &params);
	BYTE next[KEY_IV_MAX];
	DWORD err;

	/* Decrypting in place overwrites the block that chains onward. */
	memcpy(next, data + n - bl, bl);
	err = cipher_token_run(key, encrypt, &mech, data, data, n, rv);
	if (err == ERROR_SUCCESS)
		memcpy(key->chain, encrypt ? data + n - bl : next, bl);
	return err;
}

/* CBC in the order of SPEC section 7: the token's CBC mechanism when it
 * offers it and does not refuse it at use, else CBC composed from the
 * token's ECB, else NTE_NOT_SUPPORTED. */
static DWORD cipher_cbc_run(struct key *key, bool encrypt, const struct cipher_mechs *m,
			    BYTE *data, DWORD n)
{
	CK_FLAGS use = encrypt ? CKF_ENCRYPT : CKF_DECRYPT;
	DWORD err;
	CK_RV rv;

	if (token_check_mechanism(key_token(key), m->cbc, use) == ERROR_SUCCESS) {
		err = cipher_cbc_token(key, encrypt, m->cbc, data, n, &rv);
		if (rv != CKR_MECHANISM_INVALID)
			return err;
	}
	if (token_check_mechanism(key_token(key), m->ecb, use) != ERROR_SUCCESS)
		return NTE_NOT_SUPPORTED;
	return encrypt ? cipher_cbc_encrypt_composed(key, m->ecb, data, n)
		       : cipher_cbc_decrypt_composed(key, m->ecb, data, n);
}

/* Runs the token over n whole blocks of data in place and advances the
 * chaining value. Modes capi11 cannot run never reach here (KP_MODE
 * refuses them), but a key duplicated or adopted with another mode still
 * fails cleanly. */
static DWORD cipher_block_run(struct key *key, bool encrypt, BYTE *data, DWORD n)
{
	const struct cipher_mechs *m = cipher_block_mechs(key);
	union cipher_params params;
	CK_MECHANISM mech;
	CK_RV rv;

	if (n == 0)
		return ERROR_SUCCESS;
	if (m == NULL)
		return NTE_NOT_SUPPORTED;
	switch (key->mode) {
	case CRYPT_MODE_CBC:
		return cipher_cbc_run(key, encrypt, m, data, n);
	case CRYPT_MODE_ECB:
		if (token_check_mechanism(key_token(key), m->ecb,
					  encrypt ? CKF_ENCRYPT : CKF_DECRYPT) != ERROR_SUCCESS)
			return NTE_NOT_SUPPORTED;
		mech = cipher_ecb_mech(key, m->ecb, &params);
		return cipher_token_run(key, encrypt, &mech, data, data, n, &rv);
	default:
		return NTE_BAD_ALGID;
	}
}

static DWORD cipher_block_encrypt(struct key *key, bool final, BYTE *data, DWORD *len, DWORD cap)
{
	DWORD bl = key->block_bits / 8;
	uint64_t out_len;
	DWORD i, err;

	if (!final && *len % bl != 0)
		return NTE_BAD_DATA;
	/* A whole padding block even when the length is a multiple. */
	out_len = final ? ((uint64_t)*len / bl + 1) * bl : *len;
	if (out_len > UINT32_MAX)
		return NTE_BAD_LEN;
	/* A size query and a short buffer leave the stream as it was, so that
	 * the caller can ask again (rsaenh answers both before any block). */
	if (data == NULL) {
		*len = (DWORD)out_len;
		return ERROR_SUCCESS;
	}
	if (cap < out_len) {
		*len = (DWORD)out_len;
		return ERROR_MORE_DATA;
	}
	for (i = *len; i < out_len; i++)
		data[i] = (BYTE)(out_len - *len);
	err = cipher_block_run(key, true, data, (DWORD)out_len);
	if (err == ERROR_SUCCESS)
		*len = (DWORD)out_len;
	if (final || err != ERROR_SUCCESS)
		cipher_restart(key);
	return err;
}

/* PKCS#5: the last byte n (1..block) and n copies of it. Every byte is
 * looked at whatever the outcome. */
static bool cipher_padding_check(const BYTE *data, DWORD len, DWORD bl, DWORD *pad)
{
	BYTE n = data[len - 1];
	unsigned bad = (n == 0) | (n > bl) | (n > len);
	DWORD i;

	for (i = 1; i <= bl && i <= len; i++)
		bad |= (i <= n) & (data[len - i] != n);
	*pad = n;
	return bad == 0;
}

static DWORD cipher_block_decrypt(struct key *key, bool final, BYTE *data, DWORD *len)
{
	DWORD bl = key->block_bits / 8;
	DWORD pad = 0, err;

	/* Lengths are judged before any block; a non-final call refused for
	 * its length leaves the stream as it was, as in cipher_block_encrypt. */
	if (final && *len == 0)
		err = NTE_BAD_LEN;
	else if (*len % bl != 0)
		err = NTE_BAD_DATA;
	else if (data == NULL)
		return ERROR_SUCCESS;     /* plaintext is never longer */
	else
		err = ERROR_SUCCESS;
	if (err != ERROR_SUCCESS && !final)
		return err;
	if (err == ERROR_SUCCESS)
		err = cipher_block_run(key, false, data, *len);
	if (err == ERROR_SUCCESS && final) {
		if (cipher_padding_check(data, *len, bl, &pad))
			*len -= pad;
		else
			err = NTE_BAD_DATA;
	}
	if (final || err != ERROR_SUCCESS)
		cipher_restart(key);
	return err;
}

/* The public exponent of a key object (its public object, else its
 * private one): 1 turns encryption into a copy, so such keys never
 * encrypt (SPEC section 4). */
static DWORD cipher_rsa_check_exponent(struct tsession *ts, CK_OBJECT_HANDLE pub)
{
	BYTE e[64];
	CK_ATTRIBUTE attr = { CKA_PUBLIC_EXPONENT, e, sizeof e };
	DWORD value;
	CK_RV rv;

	rv = token_get_attributes(ts, pub, &attr, 1);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_ENCRYPT);
	/* Longer than a DWORD is a big exponent, which is fine. */
	if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return NTE_BAD_KEY;
	if (bn_be_to_dword(e, attr.ulValueLen, &value) && value <= 1)
		return NTE_BAD_KEY;
	return ERROR_SUCCESS;
}

DWORD cipher_rsa_public_copy(struct tsession *from, CK_OBJECT_HANDLE src, struct tsession *to,
			     CK_FLAGS use, CK_OBJECT_HANDLE *pub)
{
	static const CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	static const CK_KEY_TYPE rsa = CKK_RSA;
	void *n = NULL, *e = NULL;
	CK_ULONG n_len = 0, e_len = 0;
	DWORD err = ERROR_SUCCESS;
	CK_RV rv;

	rv = token_get_attribute_alloc(from, src, CKA_MODULUS, &n, &n_len);
	if (rv == CKR_OK)
		rv = token_get_attribute_alloc(from, src, CKA_PUBLIC_EXPONENT, &e, &e_len);
	if (rv == CKR_OK && (n_len == 0 || e_len == 0)) {
		err = NTE_BAD_KEY;
	} else if (rv == CKR_OK) {
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, (void *)&cls, sizeof cls },
			{ CKA_KEY_TYPE, (void *)&rsa, sizeof rsa },
			{ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_PRIVATE, token_bool(false), sizeof(CK_BBOOL) },
			{ use == CKF_WRAP ? CKA_WRAP : use == CKF_VERIFY ? CKA_VERIFY : CKA_ENCRYPT,
			  token_bool(true),
			  sizeof(CK_BBOOL) },
			{ CKA_MODULUS, n, n_len },
			{ CKA_PUBLIC_EXPONENT, e, e_len },
		};

		rv = token_create(to, tmpl, CAPI11_N_ELEMENTS(tmpl), pub);
		token_cap_learn(to->tok, TOKEN_CAP_CREATE_PUBLIC_KEY, rv);
		/* A token that takes no public key objects leaves no route. */
		if (token_rv_is_refusal(rv))
			err = NTE_NOT_SUPPORTED;
	}
	if (rv != CKR_OK && err == ERROR_SUCCESS)
		err = error_from_ckr(rv, ERROR_OP_ENCRYPT);
	capi11_free(n);
	capi11_free(e);
	return err;
}

/* A session public key on ts made from the key's public numbers (its
 * public object, else the private object's CKA_MODULUS and
 * CKA_PUBLIC_EXPONENT): an exchange key whose public object another tool
 * did not write, or one whose token cannot encrypt. */
static DWORD cipher_rsa_session_public(struct key *key, struct tsession *ts, CK_FLAGS use,
				       CK_OBJECT_HANDLE *pub)
{
	CK_OBJECT_HANDLE src = key->obj->pub != CK_INVALID_HANDLE ? key->obj->pub : key->obj->priv;

	return cipher_rsa_public_copy(key_session(key), src, ts, use, pub);
}

DWORD cipher_rsa_public_route_locked(struct key *key, bool oaep, CK_FLAGS use,
				     bool force_companion, struct rsa_public_route *r)
{
	struct tsession *own = key_session(key);
	DWORD err = NTE_NOT_SUPPORTED;

	memset(r, 0, sizeof *r);
	r->pub = CK_INVALID_HANDLE;
	if (!force_companion)
		err = rsa_mech_choose_on(own->tok, oaep, use, &r->mech);
	if (err == ERROR_SUCCESS) {
		r->ts = own;
		r->pub = key->obj->pub;
	} else if (err == NTE_NOT_SUPPORTED && !key->obj->companion) {
		/* The main token cannot: the companion serves it. */
		err = context_companion_locked(key->ctx, &r->ts);
		if (err == ERROR_SUCCESS)
			err = rsa_mech_choose_on(r->ts->tok, oaep, use, &r->mech);
		if (err == ERROR_SUCCESS)
			trace_route("route: RSA public-key operation on the companion token %s",
				      token_label(r->ts->tok));
	}
	if (err != ERROR_SUCCESS)
		return err;
	if (r->pub == CK_INVALID_HANDLE) {
		err = cipher_rsa_session_public(key, r->ts, use, &r->pub);
		if (err != ERROR_SUCCESS)
			return err;
		r->made = true;
	}
	return ERROR_SUCCESS;
}

void cipher_rsa_public_route_end(struct rsa_public_route *r)
{
	if (r->made)
		token_destroy(r->ts, r->pub);
	r->made = false;
}

static DWORD cipher_rsa_encrypt(struct key *key, DWORD flags, BYTE *data, DWORD *len, DWORD cap)
{
	bool oaep = (flags & CRYPT_OAEP) != 0;
	struct rsa_public_route route = { .made = false };
	DWORD k = key->bits / 8;
	CK_MECHANISM mech;
	CK_ULONG out_len = k;
	BYTE *in = NULL;
	DWORD in_len = *len;
	DWORD err;
	CK_RV rv;

	/* Only an exchange key encrypts, as in rsaenh. */
	if (key->algid != CALG_RSA_KEYX)
		return NTE_BAD_KEY;
	/* The size query needs a route, not a token call. */
	err = rsa_mech_choose_on(key_token(key), oaep, CKF_ENCRYPT, &mech);
	if (err == NTE_NOT_SUPPORTED && !key->obj->companion &&
	    context_has_companion_locked(key->ctx))
		err = ERROR_SUCCESS;
	if (err != ERROR_SUCCESS)
		return err;
	if (data == NULL) {
		*len = k;
		return ERROR_SUCCESS;
	}
	if (cap < k) {
		*len = k;
		return ERROR_MORE_DATA;
	}
	/* Widened: *pdwDataLen near 2^32 plus the padding must not wrap
	 * round to a small sum and let 4 GiB of the caller's memory through. */
	if ((uint64_t)in_len + (oaep ? RSA_OAEP_OVERHEAD : RSA_PKCS1_OVERHEAD) > k)
		return NTE_BAD_LEN;
	/* The ciphertext is longer than the plaintext: keep the input apart
	 * rather than trust every module with overlapping buffers. */
	in = capi11_malloc(in_len ? in_len : 1);
	if (in == NULL)
		return NTE_NO_MEMORY;
	memcpy(in, data, in_len);
	/* The exponent is the key's, whichever token encrypts: read from its
	 * own object before a route copies it elsewhere (a companion that
	 * refuses to hold such a key would otherwise answer for it). */
	err = cipher_rsa_check_exponent(key_session(key), key->obj->pub != CK_INVALID_HANDLE ?
					key->obj->pub : key->obj->priv);
	if (err == ERROR_SUCCESS)
		err = cipher_rsa_public_route_locked(key, oaep, CKF_ENCRYPT, false, &route);
	if (err != ERROR_SUCCESS)
		goto out;
	rv = token_encrypt(route.ts, &route.mech, route.pub, in, in_len, data, &out_len);
	/* A token that advertises the mechanism and refuses it at use (a card
	 * without public-key operations): the companion, once. */
	if (token_rv_is_refusal(rv) && route.ts == key_session(key) && !key->obj->companion &&
	    context_has_companion_locked(key->ctx)) {
		cipher_rsa_public_route_end(&route);
		out_len = k;
		err = cipher_rsa_public_route_locked(key, oaep, CKF_ENCRYPT, true, &route);
		if (err != ERROR_SUCCESS)
			goto out;
		rv = token_encrypt(route.ts, &route.mech, route.pub, in, in_len, data, &out_len);
	}
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_ENCRYPT);
		goto out;
	}
	if (out_len != k) {
		err = NTE_FAIL;
		goto out;
	}
	bn_reverse(data, k);
	*len = k;
	err = ERROR_SUCCESS;
out:
	cipher_rsa_public_route_end(&route);
	capi11_free_secret(in, in_len ? in_len : 1);
	return err;
}

static DWORD cipher_rsa_decrypt(struct key *key, DWORD flags, BYTE *data, DWORD *len)
{
	DWORD k = key->bits / 8;
	CK_MECHANISM mech;
	CK_ULONG out_len = k;
	BYTE *in = NULL;
	DWORD err;
	CK_RV rv;

	if (key->algid != CALG_RSA_KEYX || key->obj->priv == CK_INVALID_HANDLE)
		return NTE_BAD_KEY;
	err = rsa_mech_choose_on(key_token(key), (flags & CRYPT_OAEP) != 0, CKF_DECRYPT, &mech);
	if (err != ERROR_SUCCESS)
		return err;
	if (data == NULL)
		return ERROR_SUCCESS;     /* plaintext is never longer */
	if (*len != k)
		return NTE_BAD_DATA;
	in = capi11_malloc(k);
	if (in == NULL)
		return NTE_NO_MEMORY;
	memcpy(in, data, k);
	bn_reverse(in, k);
	rv = token_decrypt(key_session(key), &mech, key->obj->priv, in, k, data, &out_len);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_DECRYPT);
		goto out;
	}
	if (out_len > k) {
		err = NTE_FAIL;
		goto out;
	}
	*len = (DWORD)out_len;
	err = ERROR_SUCCESS;
out:
	capi11_free(in);
	return err;
}

/* What every data call checks first: flags, the key's kind, its
 * permission. */
static DWORD cipher_check(struct key *key, DWORD flags, DWORD valid_flags, DWORD permission)
{
	if (flags & ~valid_flags)
		return NTE_BAD_FLAGS;
	/* An agreed key is no cipher's until KP_ALGID names one: "the hKey
	 * session key specifies an algorithm that this CSP does not support"
	 * (CryptEncrypt's NTE_BAD_ALGID). */
	if (key->algid == CALG_AGREEDKEY_ANY)
		return NTE_BAD_ALGID;
	if (key->obj->type != CKK_RSA && cipher_block_mechs(key) == NULL)
		return NTE_NOT_SUPPORTED;
	/* KP_PERMISSIONS is what the key may do (Microsoft's KP_PERMISSIONS
	 * page): a wrap-only key-encryption key lacks both data permissions. */
	if (!(key->permissions & permission) || key->obj->wrap_only)
		return NTE_PERM;
	return ERROR_SUCCESS;
}

DWORD cipher_encrypt_flags_locked(struct key *key, bool final, DWORD flags, BYTE *data,
				  DWORD *len, DWORD cap)
{
	DWORD err;

	return_val_if_fail(key != NULL && len != NULL, ERROR_INVALID_PARAMETER);
	/* CRYPT_OAEP matters to RSA keys only; rsaenh ignores it elsewhere. */
	err = cipher_check(key, flags, CRYPT_OAEP, CRYPT_ENCRYPT);
	if (err != ERROR_SUCCESS)
		return err;
	if (key->obj->type == CKK_RSA)
		return cipher_rsa_encrypt(key, flags, data, len, cap);
	return cipher_block_encrypt(key, final, data, len, cap);
}

DWORD cipher_decrypt_flags_locked(struct key *key, bool final, DWORD flags, BYTE *data,
				  DWORD *len)
{
	DWORD err;

	return_val_if_fail(key != NULL && len != NULL, ERROR_INVALID_PARAMETER);
	err = cipher_check(key, flags, CRYPT_OAEP, CRYPT_DECRYPT);
	if (err != ERROR_SUCCESS)
		return err;
	if (key->obj->type == CKK_RSA)
		return cipher_rsa_decrypt(key, flags, data, len);
	return cipher_block_decrypt(key, final, data, len);
}

DWORD cipher_encrypt_locked(struct key *key, bool final, BYTE *data, DWORD *len, DWORD cap)
{
	return cipher_encrypt_flags_locked(key, final, 0, data, len, cap);
}

DWORD cipher_decrypt_locked(struct key *key, bool final, BYTE *data, DWORD *len)
{
	return cipher_decrypt_flags_locked(key, final, 0, data, len);
}
