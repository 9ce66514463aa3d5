/* Hash objects (HCRYPTHASH): a digest, or a keyed digest (CALG_HMAC,
 * CALG_MAC), computed on a token. A hash handle names a struct hash, a handle object
 * like a key (handle.h), belonging to its context: released with it.
 *
 * A PKCS#11 session carries one active digest at a time, and a context may
 * keep several hashes alive and interleave their data. So each hash
 * streams on a session of its own, leased from the token's pool when the
 * hash starts and given back once its value is read: memory stays constant
 * however much is hashed, and the context's own session stays free for
 * keys and signatures. CryptDuplicateHash copies the token's operation
 * state (C_GetOperationState) where the token can save it; where it
 * cannot (SoftHSM 2.6.1), it replays the data hashed so far, which each
 * hash keeps while it stays under HASH_REPLAY_MAX bytes (wiped when
 * freed). All of a hash's state is guarded by its context's lock. */
#ifndef CAPI11_HASH_H
#define CAPI11_HASH_H

#include "context.h"
#include "handle.h"
#include "key.h"
#include "token-sign.h"

#include <stdbool.h>
#include <wincrypt.h>

/* Data kept for a CryptDuplicateHash replay, at most: copying and wiping
 * more costs streaming hashes measurably (docs/PERFORMANCE.md), and the
 * hashes programs duplicate (TLS handshakes) are short. */
#define HASH_REPLAY_MAX (16u * 1024u)

/* What capi11 knows of a hash algorithm: the token's mechanisms and
 * PKCS#1's DigestInfo prefix (RFC 8017, section 9.2 notes). */
struct hash_alg {
	ALG_ID algid;
	CK_MECHANISM_TYPE digest;      /* CKM_SHA256 ... */
	CK_MECHANISM_TYPE hmac;        /* CKM_SHA256_HMAC ... */
	DWORD size;                    /* bytes of the value */
	const BYTE *prefix;            /* DER DigestInfo up to the value */
	DWORD prefix_len;
};

/* The algorithm of algid among MD5, SHA1, SHA_256/384/512; NULL otherwise. */
const struct hash_alg *hash_alg_find(ALG_ID algid);

struct hash {
	struct handle_obj base;        /* first: a hash is a handle object */
	struct context *ctx;           /* referenced */
	ALG_ID algid;                  /* HP_ALGID */
	DWORD size;                    /* HP_HASHSIZE */
	/* The digest algorithm: the hash's own, or HMAC's inner one once
	 * HP_HMAC_INFO has chosen it; NULL before (HMAC) and for
	 * CALG_SSL3_SHAMD5, whose value is only ever set. */
	const struct hash_alg *alg;
	struct key *key;               /* CALG_HMAC's key, referenced */
	/* The session the operation streams on, leased while op is active. */
	struct tsession ts;
	enum token_op op;
	/* The value has been read, signed or set: no more data
	 * (NTE_BAD_HASH_STATE). */
	bool finished;
	/* The token failed the operation midway; the hash takes nothing more. */
	bool broken;
	BYTE value[TOKEN_DIGEST_MAX];
	/* CALG_MAC: the CBC-MAC under key, by a CBC encryption on the token
	 * whose last ciphertext block is the value. The token takes whole
	 * blocks; a partial one waits here. */
	DWORD block;                   /* the cipher's block, bytes */
	BYTE mac_iv[KEY_IV_MAX];       /* the key's KP_IV at creation */
	BYTE mac_part[KEY_IV_MAX];
	DWORD mac_part_len;
	BYTE mac_last[KEY_IV_MAX];     /* the last ciphertext block so far */
	/* Data hashed so far, for a duplicate on a token that cannot save
	 * an operation's state; dropped (replay false) past HASH_REPLAY_MAX
	 * or after CryptHashSessionKey, which no replay can repeat. */
	BYTE *log;
	size_t log_len, log_cap;
	bool replay;
};

/* The token a digest with mech runs on for ctx: the context's own token
 * when it has the mechanism for use, else the companion token
 * (companion.h) when it has it; else NTE_BAD_ALGID. The one place that
 * decides it. Callers: a hash's session (hash_session_start, for unkeyed
 * digests), PP_ENUMALGS (prov-param.c, also with use CKF_SIGN for HMAC and
 * CKF_ENCRYPT for CALG_MAC: whether some token runs them) and
 * hash_digest_session. Keyed hashes run on their key's token, never
 * through here. */
DWORD hash_digest_token(struct context *ctx, CK_MECHANISM_TYPE mech, CK_FLAGS use,
			struct token **tok);
/* A session of ctx (locked) on the token hash_digest_token picks for a
 * digest with mech: the context's own, or its companion session. For
 * digests that run on a context's session (CryptDeriveKey's expansion). */
DWORD hash_digest_session(struct context *ctx, CK_MECHANISM_TYPE mech, struct tsession **ts);

/* CryptCreateHash's work, with the context locked. key is the caller's
 * hKey (NULL for 0), referenced by the caller.
 * Errors: NTE_BAD_ALGID (algorithm unknown, or no token here can run it),
 * NTE_BAD_FLAGS (dwFlags not 0), NTE_BAD_KEY (a key with a hash that takes
 * none, CALG_HMAC without a secret key of the same token, CALG_MAC without
 * a block cipher key in CBC mode, either with a wrap-only key), NTE_NO_MEMORY,
 * mapped token failures. */
DWORD hash_create_locked(struct context *ctx, ALG_ID algid, struct key *key, DWORD flags,
			 struct hash **out);
/* Whether the hash takes data now: NTE_BAD_ALGID (CALG_SSL3_SHAMD5),
 * NTE_BAD_HASH_STATE (finished, broken, HMAC before HP_HMAC_INFO). */
DWORD hash_check_data_locked(const struct hash *hash);
/* CryptHashData's work. Errors: NTE_BAD_HASH_STATE (value read, signed or
 * set, HMAC before HP_HMAC_INFO, a token failure earlier), NTE_BAD_ALGID
 * (CALG_SSL3_SHAMD5, which takes no data), mapped token failures. */
DWORD hash_data_locked(struct hash *hash, const BYTE *data, DWORD len);
/* The value, finishing the hash if it is not yet: *value points into the
 * hash. Errors: NTE_BAD_HASH_STATE (nothing to finish: CALG_SSL3_SHAMD5
 * never set, HMAC before HP_HMAC_INFO, a broken hash), mapped token
 * failures. */
DWORD hash_value_locked(struct hash *hash, const BYTE **value);
/* CryptGetHashParam's work (buffer rules of SPEC section 2; a size query
 * of HP_HASHVAL does not finish the hash). Errors: NTE_BAD_TYPE,
 * ERROR_MORE_DATA, those of hash_value_locked. */
DWORD hash_get_param_locked(struct hash *hash, DWORD param, BYTE *data, DWORD *len);
/* CryptSetHashParam's work. HP_HASHVAL: the value becomes the first
 * HP_HASHSIZE bytes of data, and the hash is finished. HP_HMAC_INFO: an
 * HMAC_INFO choosing CALG_HMAC's inner hash, with the standard pads
 * (pbInnerString/pbOuterString NULL or empty).
 * Errors: NTE_BAD_TYPE (unknown, HP_HMAC_INFO on another hash),
 * NTE_BAD_HASH_STATE (HP_HMAC_INFO after data), NTE_BAD_ALGID (an inner
 * hash the token cannot run), NTE_BAD_DATA (pads other than HMAC's own),
 * mapped token failures. */
DWORD hash_set_param_locked(struct hash *hash, DWORD param, const BYTE *data);
/* CryptHashSessionKey's work. The key's bytes enter the digest reversed,
 * as Windows hashes them by default ("big-endian form"), which needs a key
 * whose value may be read; with CRYPT_LITTLE_ENDIAN as the token stores
 * them, inside the token (C_DigestKey), so that a sensitive key is hashed
 * without leaving it. Errors: NTE_BAD_KEY (not a session key of this
 * token, one the token cannot digest, HMAC with CRYPT_LITTLE_ENDIAN),
 * NTE_BAD_FLAGS, NTE_BAD_ALGID (CALG_SSL3_SHAMD5), NTE_BAD_HASH_STATE,
 * NTE_BAD_KEY_STATE (the reversed form of a key that may not be read),
 * mapped token failures. */
DWORD hash_session_key_locked(struct hash *hash, struct key *key, DWORD flags);
/* CryptDuplicateHash's work: a new hash in the same state.
 * Errors: NTE_NOT_SUPPORTED (an operation the token cannot save, with
 * more than HASH_REPLAY_MAX bytes behind it), NTE_NO_MEMORY, mapped
 * token failures. */
DWORD hash_duplicate_locked(struct hash *hash, struct hash **out);

/* Handle bookkeeping, as for keys: hash_register_locked registers a new
 * hash with the handle table and its context; hash_get_locked finds the
 * hash a handle names, referenced, with its context locked
 * (ERROR_INVALID_PARAMETER for 0, unknown, foreign or orphaned values);
 * hash_put_locked unlocks and drops the reference. */
DWORD hash_register_locked(struct hash *hash, HCRYPTHASH *out);
DWORD hash_get_locked(HCRYPTHASH h, struct hash **out);
void hash_put_locked(struct hash *hash);
/* The hash a handle names, referenced, when it belongs to ctx, whose lock
 * the caller holds (the hHash of CryptEncrypt/CryptDecrypt); else
 * ERROR_INVALID_PARAMETER. Release it with hash_unref after unlocking. */
DWORD hash_get_in_locked(HCRYPTHASH h, struct context *ctx, struct hash **out);
void hash_unref(struct hash *hash);
/* CryptDestroyHash's work. Errors: ERROR_INVALID_PARAMETER. */
DWORD hash_destroy(HCRYPTHASH h);

#endif
