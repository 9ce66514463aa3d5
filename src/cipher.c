/* CryptEncrypt and CryptDecrypt.
 *
 * Session keys: every call is one complete C_EncryptInit + C_Encrypt (or
 * the decrypt pair) with the token's unpadded CBC or ECB mechanism, the CBC
 * chaining value kept in struct key and passed as the IV. Nothing stays
 * active on the context's session between calls, so two keys can stream
 * at once in one context, and a non-final CryptDecrypt returns every whole
 * block it was given (the *_CBC_PAD mechanisms would hold the last one
 * back). PKCS#5 padding is added and checked here; the cipher itself runs
 * in the token.
 *
 * RSA: PKCS#1 v1.5 or OAEP with the public object, decryption with the
 * private object; Windows keeps RSA ciphertext little-endian, PKCS#11
 * big-endian, so the bytes are reversed on the way out and in. */
#include "config.h"
#include "cipher.h"
#include "blob.h"
#include "errors.h"
#include "rsa-mech.h"
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
};

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

/* The mechanism for the key's mode; the IV of CBC is the chaining value.
 * Modes capi11 cannot run never reach here (KP_MODE refuses them), but a
 * key duplicated or adopted with another mode still fails cleanly. */
static DWORD cipher_block_mechanism(struct key *key, CK_MECHANISM *mech)
{
	const struct cipher_mechs *m = cipher_block_mechs(key);

	if (m == NULL)
		return NTE_NOT_SUPPORTED;
	switch (key->mode) {
	case CRYPT_MODE_CBC:
		*mech = (CK_MECHANISM){ m->cbc, key->chain, key->block_bits / 8 };
		return ERROR_SUCCESS;
	case CRYPT_MODE_ECB:
		*mech = (CK_MECHANISM){ m->ecb, NULL, 0 };
		return ERROR_SUCCESS;
	default:
		return NTE_BAD_ALGID;
	}
}

/* Runs the token over n whole blocks of data in place and advances the
 * chaining value. */
static DWORD cipher_block_run(struct key *key, bool encrypt, BYTE *data, DWORD n)
{
	struct context *ctx = key->ctx;
	DWORD bl = key->block_bits / 8;
	BYTE next[KEY_IV_MAX];
	CK_MECHANISM mech;
	CK_ULONG out_len = n;
	DWORD err;
	CK_RV rv;

	if (n == 0)
		return ERROR_SUCCESS;
	err = cipher_block_mechanism(key, &mech);
	if (err == ERROR_SUCCESS)
		err = context_check_mechanism(key->ctx, mech.mechanism,
					      encrypt ? CKF_ENCRYPT : CKF_DECRYPT);
	if (err != ERROR_SUCCESS)
		return err;
	/* Decrypting in place overwrites the block that chains onward. */
	if (!encrypt)
		memcpy(next, data + n - bl, bl);
	if (encrypt)
		rv = token_encrypt(&ctx->ts, &mech, key->obj->priv, data, n, data,
				   &out_len);
	else
		rv = token_decrypt(&ctx->ts, &mech, key->obj->priv, data, n, data,
				   &out_len);
	if (rv != CKR_OK)
		return error_from_ckr(rv, encrypt ? ERROR_OP_ENCRYPT : ERROR_OP_DECRYPT);
	if (out_len != n)
		return NTE_FAIL;
	memcpy(key->chain, encrypt ? data + n - bl : next, bl);
	return ERROR_SUCCESS;
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

/* The public exponent of the public object: 1 turns encryption into a
 * copy, so such keys never encrypt (SPEC section 4). */
static DWORD cipher_rsa_check_exponent(struct key *key, CK_OBJECT_HANDLE pub)
{
	struct context *ctx = key->ctx;
	BYTE e[64];
	CK_ATTRIBUTE attr = { CKA_PUBLIC_EXPONENT, e, sizeof e };
	DWORD value;
	CK_RV rv;

	rv = token_get_attributes(&ctx->ts, pub, &attr, 1);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_ENCRYPT);
	/* Longer than a DWORD is a big exponent, which is fine. */
	if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return NTE_BAD_KEY;
	if (bn_be_to_dword(e, attr.ulValueLen, &value) && value <= 1)
		return NTE_BAD_KEY;
	return ERROR_SUCCESS;
}

/* An exchange key found on the token without its public object (another
 * tool wrote the private key alone): a session public key made from the
 * private key's public attributes encrypts instead, so that the work still
 * happens in the token. The caller destroys *pub. */
static DWORD cipher_rsa_session_public(struct key *key, CK_OBJECT_HANDLE *pub)
{
	static const CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	static const CK_KEY_TYPE rsa = CKK_RSA;
	struct context *ctx = key->ctx;
	void *n = NULL, *e = NULL;
	CK_ULONG n_len = 0, e_len = 0;
	DWORD err = ERROR_SUCCESS;
	CK_RV rv;

	rv = token_get_attribute_alloc(&ctx->ts, key->obj->priv, CKA_MODULUS, &n,
				       &n_len);
	if (rv == CKR_OK)
		rv = token_get_attribute_alloc(&ctx->ts, key->obj->priv,
					       CKA_PUBLIC_EXPONENT, &e, &e_len);
	if (rv == CKR_OK && (n_len == 0 || e_len == 0)) {
		err = NTE_BAD_KEY;
	} else if (rv == CKR_OK) {
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, (void *)&cls, sizeof cls },
			{ CKA_KEY_TYPE, (void *)&rsa, sizeof rsa },
			{ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_PRIVATE, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_ENCRYPT, token_bool(true), sizeof(CK_BBOOL) },
			{ CKA_MODULUS, n, n_len },
			{ CKA_PUBLIC_EXPONENT, e, e_len },
		};

		rv = token_create(&ctx->ts, tmpl, CAPI11_N_ELEMENTS(tmpl), pub);
	}
	if (rv != CKR_OK)
		err = error_from_ckr(rv, ERROR_OP_ENCRYPT);
	capi11_free(n);
	capi11_free(e);
	return err;
}

static DWORD cipher_rsa_encrypt(struct key *key, DWORD flags, BYTE *data, DWORD *len, DWORD cap)
{
	struct context *ctx = key->ctx;
	bool oaep = (flags & CRYPT_OAEP) != 0;
	CK_OBJECT_HANDLE pub = key->obj->pub;
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
	err = rsa_mech_choose(key->ctx, oaep, CKF_ENCRYPT, &mech);
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
	if (key->obj->pub == CK_INVALID_HANDLE) {
		err = cipher_rsa_session_public(key, &pub);
		if (err != ERROR_SUCCESS)
			return err;
	}
	err = cipher_rsa_check_exponent(key, pub);
	if (err != ERROR_SUCCESS)
		goto out;
	/* The ciphertext is longer than the plaintext: keep the input apart
	 * rather than trust every module with overlapping buffers. */
	in = capi11_malloc(in_len ? in_len : 1);
	if (in == NULL) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	memcpy(in, data, in_len);
	rv = token_encrypt(&ctx->ts, &mech, pub, in, in_len, data, &out_len);
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
	if (pub != key->obj->pub)
		token_destroy(&ctx->ts, pub);
	capi11_free_secret(in, in_len ? in_len : 1);
	return err;
}

static DWORD cipher_rsa_decrypt(struct key *key, DWORD flags, BYTE *data, DWORD *len)
{
	struct context *ctx = key->ctx;
	DWORD k = key->bits / 8;
	CK_MECHANISM mech;
	CK_ULONG out_len = k;
	BYTE *in = NULL;
	DWORD err;
	CK_RV rv;

	if (key->algid != CALG_RSA_KEYX || key->obj->priv == CK_INVALID_HANDLE)
		return NTE_BAD_KEY;
	err = rsa_mech_choose(key->ctx, (flags & CRYPT_OAEP) != 0, CKF_DECRYPT, &mech);
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
	rv = token_decrypt(&ctx->ts, &mech, key->obj->priv, in, k, data, &out_len);
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
	if (key->obj->type != CKK_RSA && cipher_block_mechs(key) == NULL)
		return NTE_NOT_SUPPORTED;
	/* KP_PERMISSIONS is what the key may do (Microsoft's KP_PERMISSIONS
	 * page): a wrap-only key-encryption key lacks both data permissions. */
	if (!(key->permissions & permission))
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
