/* Hash objects: creation, data, value, parameters, duplication and the
 * handle bookkeeping. The token calls are in token-sign.c. */
#include "config.h"
#include "hash.h"
#include "errors.h"
#include "param.h"
#include "util.h"
#include "trace.h"

#include <string.h>

/* DER of DigestInfo { AlgorithmIdentifier { OID, NULL }, OCTET STRING }
 * up to the digest value, as PKCS#1 v1.5 signatures carry it (RFC 8017,
 * section 9.2, note 1). */
static const BYTE prefix_md5[] = {
	0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05,
	0x05, 0x00, 0x04, 0x10,
};
static const BYTE prefix_sha1[] = {
	0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
};
static const BYTE prefix_sha256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00, 0x04, 0x20,
};
static const BYTE prefix_sha384[] = {
	0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
	0x05, 0x00, 0x04, 0x30,
};
static const BYTE prefix_sha512[] = {
	0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
	0x05, 0x00, 0x04, 0x40,
};

static const struct hash_alg hash_algs[] = {
	{ CALG_MD5, CKM_MD5, CKM_MD5_HMAC, 16, prefix_md5, sizeof prefix_md5 },
	{ CALG_SHA1, CKM_SHA_1, CKM_SHA_1_HMAC, 20, prefix_sha1, sizeof prefix_sha1 },
	{ CALG_SHA_256, CKM_SHA256, CKM_SHA256_HMAC, 32, prefix_sha256, sizeof prefix_sha256 },
	{ CALG_SHA_384, CKM_SHA384, CKM_SHA384_HMAC, 48, prefix_sha384, sizeof prefix_sha384 },
	{ CALG_SHA_512, CKM_SHA512, CKM_SHA512_HMAC, 64, prefix_sha512, sizeof prefix_sha512 },
};

/* CALG_SSL3_SHAMD5: MD5 followed by SHA-1 of the TLS handshake, which
 * the caller computes and sets (HP_HASHVAL). */
#define SSL3_SHAMD5_SIZE 36

const struct hash_alg *hash_alg_find(ALG_ID algid)
{
	size_t i;

	for (i = 0; i < CAPI11_N_ELEMENTS(hash_algs); i++) {
		if (hash_algs[i].algid == algid)
			return &hash_algs[i];
	}
	return NULL;
}

DWORD hash_digest_token(struct context *ctx, CK_MECHANISM_TYPE mech, CK_FLAGS use,
			struct token **tok)
{
	CK_MECHANISM_INFO info;

	struct tsession *cts;

	if (token_mechanism_info(ctx->ts.tok, mech, &info) == CKR_OK && (info.flags & use)) {
		*tok = ctx->ts.tok;
		return ERROR_SUCCESS;
	}
	/* A digest the token lacks runs on the companion token, as Windows'
	 * smart card CSP hashes in its software CSP. Keyed hashes run where
	 * their key lives and come here only to be listed (PP_ENUMALGS): a
	 * key the token cannot hold is the companion's. */
	if (context_has_companion_locked(ctx) &&
	    context_companion_locked(ctx, &cts) == ERROR_SUCCESS &&
	    token_mechanism_info(cts->tok, mech, &info) == CKR_OK && (info.flags & use)) {
		trace_route("route: digest 0x%lx on the companion token %s", (unsigned long)mech,
			    token_label(cts->tok));
		*tok = cts->tok;
		return ERROR_SUCCESS;
	}
	return NTE_BAD_ALGID;
}

DWORD hash_digest_session(struct context *ctx, CK_MECHANISM_TYPE mech, struct tsession **ts)
{
	struct token *tok;
	DWORD err = hash_digest_token(ctx, mech, CKF_DIGEST, &tok);

	if (err != ERROR_SUCCESS)
		return err;
	if (tok == ctx->ts.tok) {
		*ts = &ctx->ts;
		return ERROR_SUCCESS;
	}
	return context_companion_locked(ctx, ts);
}

/* ---- the token operation ---- */

/* Ends the operation and gives the session back; the hash keeps its
 * value and state. */
static void hash_session_end(struct hash *hash)
{
	if (hash->ts.handle == CK_INVALID_HANDLE)
		return;
	if (tsession_is_current(&hash->ts))
		token_operation_cancel(&hash->ts, hash->op);
	hash->op = TOKEN_OP_NONE;
	tsession_release(&hash->ts);
}

static void hash_log_drop(struct hash *hash)
{
	capi11_free_secret(hash->log, hash->log_cap);
	hash->log = NULL;
	hash->log_len = hash->log_cap = 0;
	hash->replay = false;
}

/* Keeps data for a replay while the log stays under HASH_REPLAY_MAX. */
static void hash_log_add(struct hash *hash, const BYTE *data, size_t len)
{
	size_t need, cap;
	BYTE *grown;

	if (!hash->replay || len == 0)
		return;
	if (!capi11_add_size(hash->log_len, len, &need) || need > HASH_REPLAY_MAX) {
		hash_log_drop(hash);
		return;
	}
	if (need > hash->log_cap) {
		cap = hash->log_cap ? hash->log_cap : 256;
		while (cap < need)
			cap *= 2;
		if (cap > HASH_REPLAY_MAX)
			cap = HASH_REPLAY_MAX;
		/* Not realloc: the old block held caller data and is wiped. */
		grown = capi11_malloc(cap);
		if (grown == NULL) {
			hash_log_drop(hash);
			return;
		}
		if (hash->log_len > 0)
			memcpy(grown, hash->log, hash->log_len);
		capi11_free_secret(hash->log, hash->log_cap);
		hash->log = grown;
		hash->log_cap = cap;
	}
	memcpy(hash->log + hash->log_len, data, len);
	hash->log_len = need;
}

/* CALG_MAC's CBC mechanism for the key's type; 0 for keys that have none
 * (RSA, stream ciphers, HMAC keys). */
static CK_MECHANISM_TYPE mac_mechanism(const struct key *key)
{
	if (key->block_bits == 0)
		return 0;
	switch (key->obj->type) {
	case CKK_AES:
		return CKM_AES_CBC;
	case CKK_DES2:
	case CKK_DES3:
		return CKM_DES3_CBC;
	case CKK_DES:
		return CKM_DES_CBC;
	default:
		return 0;
	}
}

/* Whole blocks go to the token in pieces of this size at most. */
#define MAC_CHUNK 4096

/* Feeds data to the CBC-MAC: whole blocks to the token, the rest kept;
 * the last ciphertext block is the MAC so far. */
static CK_RV mac_feed(struct hash *hash, const BYTE *data, size_t len)
{
	BYTE out[MAC_CHUNK];
	size_t b = hash->block, take, whole;
	CK_RV rv = CKR_OK;

	if (hash->mac_part_len > 0) {
		take = b - hash->mac_part_len < len ? b - hash->mac_part_len : len;
		memcpy(hash->mac_part + hash->mac_part_len, data, take);
		hash->mac_part_len += take;
		data += take;
		len -= take;
		if (hash->mac_part_len < b)
			return CKR_OK;
		rv = token_cbc_update(&hash->ts, hash->mac_part, b, out);
		if (rv != CKR_OK)
			goto out;
		memcpy(hash->mac_last, out, b);
		hash->mac_part_len = 0;
	}
	while (len >= b) {
		whole = len - len % b;
		if (whole > sizeof out)
			whole = sizeof out;        /* a multiple of 8 and of 16 */
		rv = token_cbc_update(&hash->ts, data, whole, out);
		if (rv != CKR_OK)
			goto out;
		memcpy(hash->mac_last, out + whole - b, b);
		data += whole;
		len -= whole;
	}
	memcpy(hash->mac_part, data, len);
	hash->mac_part_len = len;
out:
	capi11_wipe(out, sizeof out);
	return rv;
}

/* The last block, padded as CryptEncrypt pads (PKCS#5), ends the MAC. */
static CK_RV mac_finish(struct hash *hash)
{
	BYTE pad = (BYTE)(hash->block - hash->mac_part_len), out[KEY_IV_MAX];
	CK_RV rv;

	memset(hash->mac_part + hash->mac_part_len, pad, pad);
	rv = token_cbc_update(&hash->ts, hash->mac_part, hash->block, out);
	if (rv == CKR_OK)
		rv = token_cbc_final(&hash->ts);
	if (rv == CKR_OK)
		memcpy(hash->value, out, hash->block);
	capi11_wipe(out, sizeof out);
	capi11_wipe(hash->mac_part, sizeof hash->mac_part);
	return rv;
}

/* Leases a session of the hash's token and starts the operation there:
 * a digest, or for CALG_HMAC the keyed digest under its key. */
static DWORD hash_session_start(struct hash *hash)
{
	bool mac = hash->algid == CALG_MAC;
	CK_MECHANISM_TYPE mech = mac ? mac_mechanism(hash->key)
				 : hash->key ? hash->alg->hmac : hash->alg->digest;
	CK_FLAGS use = mac ? CKF_ENCRYPT : hash->key ? CKF_SIGN : CKF_DIGEST;
	struct token *tok;
	DWORD err;
	CK_RV rv;

	if (hash->key != NULL) {
		/* A keyed hash runs where its key lives. */
		struct tsession *kts = key_session_in_locked(hash->ctx, hash->key);
		CK_MECHANISM_INFO info;

		if (kts == NULL)
			return NTE_BAD_KEY;
		tok = kts->tok;
		if (token_mechanism_info(tok, mech, &info) != CKR_OK || !(info.flags & use))
			return NTE_BAD_ALGID;
	} else {
		err = hash_digest_token(hash->ctx, mech, use, &tok);
		if (err != ERROR_SUCCESS)
			return err;
	}
	rv = tsession_acquire(tok, &hash->ts);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	if (mac) {
		CK_MECHANISM m = { mech, hash->mac_iv, hash->block };

		hash->mac_part_len = 0;
		memcpy(hash->mac_last, hash->mac_iv, hash->block);
		rv = token_cbc_init(&hash->ts, &m, hash->key->obj->priv);
		hash->op = TOKEN_OP_ENCRYPT;
	} else if (hash->key) {
		rv = token_mac_init(&hash->ts, mech, hash->key->obj->priv);
		hash->op = TOKEN_OP_SIGN;
	} else {
		rv = token_digest_init(&hash->ts, mech);
		hash->op = TOKEN_OP_DIGEST;
	}
	if (rv != CKR_OK) {
		hash->op = TOKEN_OP_NONE;
		tsession_release(&hash->ts);
		/* The token refusing this key for the HMAC mechanism. */
		if (hash->key && (rv == CKR_KEY_TYPE_INCONSISTENT || rv == CKR_KEY_SIZE_RANGE ||
				  rv == CKR_KEY_FUNCTION_NOT_PERMITTED || rv == CKR_KEY_HANDLE_INVALID))
			return NTE_BAD_KEY;
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	}
	return ERROR_SUCCESS;
}

static DWORD hash_update(struct hash *hash, const BYTE *data, size_t len)
{
	CK_RV rv;

	if (hash->op == TOKEN_OP_ENCRYPT)
		rv = mac_feed(hash, data, len);
	else if (hash->op == TOKEN_OP_SIGN)
		rv = token_mac_update(&hash->ts, data, len);
	else
		rv = token_digest_update(&hash->ts, data, len);
	if (rv != CKR_OK) {
		/* A failed update ends the operation on the token (PKCS#11
		 * 2.40, section 5.1): the hash cannot go on. The session goes
		 * back with the operation ended for sure (hash_session_end), in
		 * case the module did not end it. */
		hash->broken = true;
		hash_session_end(hash);
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	}
	return ERROR_SUCCESS;
}

/* ---- objects and handles ---- */

static void hash_destroy_obj(struct handle_obj *base)
{
	struct hash *hash = (struct hash *)base;

	/* The last reference: nobody else uses the hash's session. */
	hash_session_end(hash);
	hash_log_drop(hash);
	capi11_wipe(hash->value, sizeof hash->value);
	capi11_wipe(hash->mac_part, sizeof hash->mac_part);
	capi11_wipe(hash->mac_last, sizeof hash->mac_last);
	key_unref(hash->key);
	context_unref(hash->ctx);
	capi11_free(hash);
}

static struct hash *hash_new(struct context *ctx, ALG_ID algid, DWORD size)
{
	struct hash *hash = capi11_calloc(1, sizeof *hash);

	if (hash == NULL)
		return NULL;
	handle_obj_init(&hash->base, HANDLE_HASH, hash_destroy_obj);
	handle_obj_ref(&ctx->base);
	hash->ctx = ctx;
	hash->algid = algid;
	hash->size = size;
	hash->ts.handle = CK_INVALID_HANDLE;
	hash->replay = true;
	return hash;
}

void hash_unref(struct hash *hash)
{
	if (hash != NULL)
		handle_obj_unref(&hash->base);
}

DWORD hash_create_locked(struct context *ctx, ALG_ID algid, struct key *key, DWORD flags,
			 struct hash **out)
{
	const struct hash_alg *alg = hash_alg_find(algid);
	struct token *tok;
	struct hash *hash;
	DWORD size, err;

	/* rsaenh's order: the algorithm, then the flags, then the key. */
	if (alg != NULL) {
		size = alg->size;
		err = hash_digest_token(ctx, alg->digest, CKF_DIGEST, &tok);
		if (err != ERROR_SUCCESS)
			return err;
	} else if (algid == CALG_SSL3_SHAMD5) {
		size = SSL3_SHAMD5_SIZE;
	} else if (algid == CALG_HMAC) {
		size = 0;              /* the inner hash's, once chosen */
	} else if (algid == CALG_MAC) {
		size = key != NULL ? key->block_bits / 8 : 0;
	} else {
		return NTE_BAD_ALGID;
	}
	if (flags != 0)
		return NTE_BAD_FLAGS;
	/* An agreed key is no key to use until KP_ALGID makes it a session
	 * key ("After a key is agreed upon with the CryptImportKey function,
	 * the session key is enabled for use by setting its algorithm type",
	 * CryptSetKeyParam's KP_ALGID): before, it is the whole agreed secret,
	 * and an HMAC or MAC under it would give out a function of it. */
	if ((algid == CALG_HMAC || algid == CALG_MAC) && key != NULL &&
	    key->algid == CALG_AGREEDKEY_ANY)
		return NTE_BAD_KEY;
	/* CALG_MAC: a block cipher key of this token in CBC mode (Microsoft's
	 * CryptCreateHash page), whose block the value is. Never a wrap-only
	 * key-encryption key: the MAC is a CBC encryption under the key, of
	 * a block the caller chooses through KP_IV, and such a key encrypts
	 * nothing (cipher.c refuses it too, whatever the token allows). */
	if (algid == CALG_MAC) {
		if (key == NULL || key->obj->wrap_only || mac_mechanism(key) == 0 ||
		    key->mode != CRYPT_MODE_CBC ||
		    key->obj->priv == CK_INVALID_HANDLE || key_session_in_locked(ctx, key) == NULL ||
		    size > KEY_IV_MAX)
			return NTE_BAD_KEY;
	}
	if (algid == CALG_MAC) {
		/* checked above */
	} else if (algid == CALG_HMAC) {
		/* A secret key on this context's token; its HMAC use is the
		 * token's to allow (CKA_SIGN, key type) at HP_HMAC_INFO. */
		if (key == NULL || keyobj_is_pair(key->obj) || key->obj->wrap_only ||
		    key->obj->priv == CK_INVALID_HANDLE || key_session_in_locked(ctx, key) == NULL)
			return NTE_BAD_KEY;
	} else if (key != NULL) {
		/* A key where the algorithm takes none: Microsoft's page asks
		 * for 0, and a key passed by mistake must not be ignored. */
		return NTE_BAD_KEY;
	}
	hash = hash_new(ctx, algid, size);
	if (hash == NULL)
		return NTE_NO_MEMORY;
	if (algid == CALG_MAC) {
		hash->key = (struct key *)handle_obj_ref(&key->base);
		hash->block = size;
		memcpy(hash->mac_iv, key->iv, size);
		err = hash_session_start(hash);
		if (err != ERROR_SUCCESS) {
			/* Not the key's last reference: the caller holds one. */
			hash_unref(hash);
			return err;
		}
	} else if (algid == CALG_HMAC) {
		hash->key = (struct key *)handle_obj_ref(&key->base);
	} else if (alg != NULL) {
		hash->alg = alg;
		err = hash_session_start(hash);
		if (err != ERROR_SUCCESS) {
			hash_unref(hash);
			return err;
		}
	}
	*out = hash;
	return ERROR_SUCCESS;
}

DWORD hash_check_data_locked(const struct hash *hash)
{
	if (hash->algid == CALG_SSL3_SHAMD5)
		return NTE_BAD_ALGID;
	if (hash->finished || hash->broken || hash->op == TOKEN_OP_NONE)
		return NTE_BAD_HASH_STATE;
	return ERROR_SUCCESS;
}

DWORD hash_data_locked(struct hash *hash, const BYTE *data, DWORD len)
{
	DWORD err = hash_check_data_locked(hash);

	if (err != ERROR_SUCCESS)
		return err;
	if (len == 0)
		return ERROR_SUCCESS;
	err = hash_update(hash, data, len);
	if (err == ERROR_SUCCESS)
		hash_log_add(hash, data, len);
	return err;
}

DWORD hash_value_locked(struct hash *hash, const BYTE **value)
{
	CK_ULONG len = sizeof hash->value;
	CK_RV rv;

	if (!hash->finished) {
		if (hash->broken || hash->op == TOKEN_OP_NONE)
			return NTE_BAD_HASH_STATE;
		if (hash->op == TOKEN_OP_ENCRYPT) {
			rv = mac_finish(hash);
			len = hash->block;
		} else if (hash->op == TOKEN_OP_SIGN) {
			rv = token_mac_final(&hash->ts, hash->value, &len);
		} else {
			rv = token_digest_final(&hash->ts, hash->value, &len);
		}
		/* Done, or failed: either way no operation may stay active. */
		if (rv == CKR_OK)
			hash->op = TOKEN_OP_NONE;
		hash_session_end(hash);
		if (rv == CKR_OK && len != hash->size)
			rv = CKR_GENERAL_ERROR;
		if (rv != CKR_OK) {
			hash->broken = true;
			return error_from_ckr(rv, ERROR_OP_GENERIC);
		}
		hash->finished = true;
		hash_log_drop(hash);
	}
	*value = hash->value;
	return ERROR_SUCCESS;
}

DWORD hash_get_param_locked(struct hash *hash, DWORD param, BYTE *data, DWORD *len)
{
	const BYTE *value;
	DWORD err;

	switch (param) {
	case HP_ALGID:
		return param_put_dword(data, len, hash->algid);
	case HP_HASHSIZE:
		return param_put_dword(data, len, hash->size);
	case HP_HASHVAL:
		/* A size query leaves the hash open, as rsaenh does. An HMAC
		 * whose inner hash is not chosen has no size yet. */
		if (hash->size == 0)
			return NTE_BAD_HASH_STATE;
		if (data == NULL || *len < hash->size)
			return param_put(data, len, NULL, hash->size);
		err = hash_value_locked(hash, &value);
		if (err != ERROR_SUCCESS)
			return err;
		return param_put(data, len, value, hash->size);
	default:
		return NTE_BAD_TYPE;
	}
}

/* HP_HMAC_INFO: the inner hash, and the pads, which the token's HMAC
 * mechanisms fix at RFC 2104's 0x36/0x5c. */
static DWORD hash_set_hmac_info(struct hash *hash, const HMAC_INFO *info)
{
	const struct hash_alg *alg;
	DWORD err;

	if (hash->algid != CALG_HMAC)
		return NTE_BAD_TYPE;
	if (hash->alg != NULL || hash->finished)
		return NTE_BAD_HASH_STATE;
	if ((info->pbInnerString != NULL && info->cbInnerString != 0) ||
	    (info->pbOuterString != NULL && info->cbOuterString != 0))
		return NTE_BAD_DATA;
	alg = hash_alg_find(info->HashAlgid);
	if (alg == NULL)
		return NTE_BAD_ALGID;
	hash->alg = alg;
	hash->size = alg->size;
	err = hash_session_start(hash);
	if (err != ERROR_SUCCESS) {
		hash->alg = NULL;
		hash->size = 0;
	}
	return err;
}

DWORD hash_set_param_locked(struct hash *hash, DWORD param, const BYTE *data)
{
	switch (param) {
	case HP_HASHVAL:
		if (hash->size == 0)
			return NTE_BAD_HASH_STATE;
		/* The value replaces whatever was hashed: the operation ends. */
		hash_session_end(hash);
		hash_log_drop(hash);
		memcpy(hash->value, data, hash->size);
		hash->finished = true;
		hash->broken = false;
		return ERROR_SUCCESS;
	case HP_HMAC_INFO:
		return hash_set_hmac_info(hash, (const HMAC_INFO *)data);
	default:
		return NTE_BAD_TYPE;
	}
}

/* The key's bytes in the order CryptHashSessionKey hashes them by
 * default: reversed ("big-endian form", as rsaenh reverses them). Only a
 * key whose value may be read can be reversed: the token digests a key
 * only as it stores it. "May be read" is capi11's rule before the
 * token's, as for PLAINTEXTKEYBLOB (export.c): a token that leaves a
 * non-exportable key readable must not let its bytes out here, where a
 * CALG_MAC under a key the caller knows would give them back. */
static DWORD hash_key_reversed(struct hash *hash, struct key *key, BYTE **out, size_t *out_len,
			       size_t *alloc_len)
{
	struct tsession *kts = key_session_in_locked(hash->ctx, key);
	void *value = NULL;
	CK_ULONG len = 0, i;
	BYTE *p, t;
	CK_RV rv;

	if (kts == NULL)
		return NTE_BAD_KEY;
	if (!key->exportable)
		return NTE_BAD_KEY_STATE;
	rv = token_get_attribute_alloc(kts, key->obj->priv, CKA_VALUE, &value, &len);
	if (rv == CKR_ATTRIBUTE_SENSITIVE || (rv == CKR_OK && value == NULL))
		return NTE_BAD_KEY_STATE;
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	*alloc_len = len;
	/* A 3DES_112 key held as K1|K2|K1 is K1|K2 to its caller. */
	if (key->bits / 8 < len)
		len = key->bits / 8;
	p = value;
	for (i = 0; i < len / 2; i++) {
		t = p[i];
		p[i] = p[len - 1 - i];
		p[len - 1 - i] = t;
	}
	*out = p;
	*out_len = len;
	return ERROR_SUCCESS;
}

DWORD hash_session_key_locked(struct hash *hash, struct key *key, DWORD flags)
{
	BYTE *reversed = NULL;
	size_t len = 0, alloc_len = 0;
	DWORD err;
	CK_RV rv;

	/* rsaenh's order: the key, the flags, then the hash. An agreed key
	 * before KP_ALGID is the whole agreed secret, not yet a session key
	 * (CryptSetKeyParam's KP_ALGID: "the session key is enabled for use
	 * by setting its algorithm type"): its digest would be a function of
	 * the secret, which never leaves the token (agree.h). */
	if (key->algid == CALG_AGREEDKEY_ANY || keyobj_is_pair(key->obj) ||
	    key->obj->priv == CK_INVALID_HANDLE ||
	    key_session_in_locked(hash->ctx, key) == NULL)
		return NTE_BAD_KEY;
	if (flags & ~(DWORD)CRYPT_LITTLE_ENDIAN)
		return NTE_BAD_FLAGS;
	if (hash->algid == CALG_SSL3_SHAMD5)
		return NTE_BAD_ALGID;
	if (hash->finished || hash->broken || hash->op == TOKEN_OP_NONE)
		return NTE_BAD_HASH_STATE;
	if (!(flags & CRYPT_LITTLE_ENDIAN)) {
		err = hash_key_reversed(hash, key, &reversed, &len, &alloc_len);
		if (err == ERROR_SUCCESS)
			err = hash_update(hash, reversed, len);
		if (err == ERROR_SUCCESS)
			hash_log_add(hash, reversed, len);
		capi11_free_secret(reversed, alloc_len);
		return err;
	}
	/* As the token stores it: digested inside the token, so that a
	 * sensitive key is hashed without leaving it. A digest that has taken
	 * nothing yet moves to the key's token when it runs elsewhere (a
	 * companion key beside a card), where it starts afresh. */
	if (hash->op == TOKEN_OP_DIGEST && hash->ts.tok != key_token(key) && hash->replay &&
	    hash->log_len == 0) {
		CK_MECHANISM_INFO info;
		struct token *ktok = key_token(key);

		if (token_mechanism_info(ktok, hash->alg->digest, &info) == CKR_OK &&
		    (info.flags & CKF_DIGEST)) {
			hash_session_end(hash);
			rv = tsession_acquire(ktok, &hash->ts);
			if (rv == CKR_OK) {
				rv = token_digest_init(&hash->ts, hash->alg->digest);
				if (rv != CKR_OK)
					tsession_release(&hash->ts);
			}
			if (rv != CKR_OK) {
				hash->broken = true;
				return error_from_ckr(rv, ERROR_OP_GENERIC);
			}
			hash->op = TOKEN_OP_DIGEST;
		}
	}
	if (hash->op != TOKEN_OP_DIGEST || hash->ts.tok != key_token(key) ||
	    (key->algid == CALG_3DES_112 && !token_has_des2(hash->ts.tok)))
		return NTE_BAD_KEY;
	rv = token_digest_key(&hash->ts, key->obj->priv);
	if (rv != CKR_OK) {
		hash->broken = true;
		hash_session_end(hash);
		if (rv == CKR_KEY_INDIGESTIBLE || rv == CKR_KEY_HANDLE_INVALID ||
		    rv == CKR_OBJECT_HANDLE_INVALID)
			return NTE_BAD_KEY;
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	}
	/* No replay can repeat a key digested inside the token. */
	hash_log_drop(hash);
	return ERROR_SUCCESS;
}

/* The copy continues on a session of its own from the original's state. */
static DWORD hash_duplicate_operation(struct hash *hash, struct hash *copy)
{
	unsigned char *state = NULL;
	CK_ULONG state_len = 0;
	DWORD err;
	CK_RV rv;

	rv = token_operation_state_get(&hash->ts, &state, &state_len);
	if (rv == CKR_OK) {
		rv = tsession_acquire(hash->ts.tok, &copy->ts);
		if (rv == CKR_OK) {
			rv = token_operation_state_set(&copy->ts, state, state_len);
			if (rv == CKR_OK) {
				copy->op = hash->op;
				memcpy(copy->mac_part, hash->mac_part, sizeof copy->mac_part);
				copy->mac_part_len = hash->mac_part_len;
				memcpy(copy->mac_last, hash->mac_last, sizeof copy->mac_last);
				/* The data behind the state, for a later replay of the
				 * copy, or nothing may ever replay it: a copy that
				 * seemed to have taken nothing would restart without
				 * it (a copy's copy, CryptHashSessionKey's move). */
				if (hash->replay)
					hash_log_add(copy, hash->log, hash->log_len);
				else
					hash_log_drop(copy);
			}
		}
		capi11_free_secret(state, state_len);
		return rv == CKR_OK ? ERROR_SUCCESS : error_from_ckr(rv, ERROR_OP_GENERIC);
	}
	/* The token cannot save the state (SoftHSM: CKR_FUNCTION_NOT_SUPPORTED;
	 * some tokens refuse it for keyed operations): replay the data. */
	if (!hash->replay)
		return NTE_NOT_SUPPORTED;
	err = hash_session_start(copy);
	if (err == ERROR_SUCCESS && hash->log_len > 0)
		err = hash_update(copy, hash->log, hash->log_len);
	if (err == ERROR_SUCCESS)
		hash_log_add(copy, hash->log, hash->log_len);
	return err;
}

DWORD hash_duplicate_locked(struct hash *hash, struct hash **out)
{
	struct hash *copy = hash_new(hash->ctx, hash->algid, hash->size);
	DWORD err = ERROR_SUCCESS;

	if (copy == NULL)
		return NTE_NO_MEMORY;
	copy->alg = hash->alg;
	copy->block = hash->block;
	memcpy(copy->mac_iv, hash->mac_iv, sizeof copy->mac_iv);
	copy->finished = hash->finished;
	copy->broken = hash->broken;
	memcpy(copy->value, hash->value, sizeof copy->value);
	/* Borrowed until the copy is made: dropping a reference to a key
	 * here, with the context locked, could be the key's last. */
	copy->key = hash->key;
	if (hash->op != TOKEN_OP_NONE)
		err = hash_duplicate_operation(hash, copy);
	if (err != ERROR_SUCCESS) {
		copy->key = NULL;
		hash_unref(copy);
		return err;
	}
	if (copy->key)
		handle_obj_ref(&copy->key->base);
	*out = copy;
	return ERROR_SUCCESS;
}

DWORD hash_register_locked(struct hash *hash, HCRYPTHASH *out)
{
	HCRYPTHASH h = handle_register(&hash->base);

	if (h == 0)
		return NTE_NO_MEMORY;
	/* The context's handle list holds its keys and hashes alike: both go
	 * when it is released. */
	if (!context_add_key_locked(hash->ctx, h)) {
		handle_obj_unref(handle_remove(h, HANDLE_HASH));
		return NTE_NO_MEMORY;
	}
	*out = h;
	return ERROR_SUCCESS;
}

DWORD hash_get_locked(HCRYPTHASH h, struct hash **out)
{
	struct hash *hash = (struct hash *)handle_lookup(h, HANDLE_HASH);
	DWORD err;

	if (hash == NULL)
		return ERROR_INVALID_PARAMETER;
	err = context_lock(hash->ctx);
	if (err != ERROR_SUCCESS) {
		hash_unref(hash);
		return err;
	}
	*out = hash;
	return ERROR_SUCCESS;
}

DWORD hash_get_in_locked(HCRYPTHASH h, struct context *ctx, struct hash **out)
{
	struct hash *hash = (struct hash *)handle_lookup(h, HANDLE_HASH);

	if (hash == NULL)
		return ERROR_INVALID_PARAMETER;
	if (hash->ctx != ctx) {
		hash_unref(hash);
		return ERROR_INVALID_PARAMETER;
	}
	*out = hash;
	return ERROR_SUCCESS;
}

void hash_put_locked(struct hash *hash)
{
	context_unlock(hash->ctx);
	hash_unref(hash);
}

DWORD hash_destroy(HCRYPTHASH h)
{
	struct hash *hash = (struct hash *)handle_lookup(h, HANDLE_HASH);
	bool inherited;

	if (hash == NULL)
		return ERROR_INVALID_PARAMETER;
	/* A hash of a context from before a fork stays as the parent left it,
	 * as keys do (key_destroy). */
	inherited = context_is_inherited(hash->ctx);
	hash_unref(hash);
	if (inherited)
		return ERROR_INVALID_PARAMETER;
	hash = (struct hash *)handle_remove(h, HANDLE_HASH);
	if (hash == NULL)
		return ERROR_INVALID_PARAMETER;
	pthread_mutex_lock(&hash->ctx->lock);
	context_remove_key_locked(hash->ctx, h);
	pthread_mutex_unlock(&hash->ctx->lock);
	hash_unref(hash);
	return ERROR_SUCCESS;
}
