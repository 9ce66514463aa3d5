/* CryptSignHash and CryptVerifySignature: PKCS#1 v1.5 signatures of a
 * hash's value with the container's RSA keys, byte-reversed as Windows
 * stores them. The token signs the DER DigestInfo that capi11 builds
 * (CKM_RSA_PKCS), which every token that signs at all offers, smartcards
 * included. */
#ifndef CAPI11_SIGN_H
#define CAPI11_SIGN_H

#include "hash.h"
#include "key.h"

#include <wincrypt.h>

/* CryptSignHash's work, with the hash's context locked. sig NULL stores
 * the signature length (the modulus length) in *len without signing or
 * finishing the hash. CRYPT_NOHASHOID signs the bare value; so does every
 * CALG_SSL3_SHAMD5 hash, which has no OID.
 * Errors: NTE_BAD_FLAGS (flags other than CRYPT_NOHASHOID), NTE_BAD_ALGID
 * (dwKeySpec neither AT_KEYEXCHANGE nor AT_SIGNATURE, a hash with no
 * DigestInfo: CALG_HMAC), NTE_NO_KEY (no such key in the container),
 * ERROR_MORE_DATA (*len too small; it receives the size),
 * NTE_BAD_LEN (the DigestInfo does not fit the modulus), the errors of
 * hash_value_locked, NTE_BAD_KEY (the token refuses the key for signing),
 * NTE_SILENT_CONTEXT / SCARD_W_WRONG_CHV / SCARD_W_CANCELLED_BY_USER (the
 * context-specific login of a CKA_ALWAYS_AUTHENTICATE key), mapped token
 * failures. The hash is finished afterwards. *used receives
 * the container key it looked up (or NULL), for the caller to release
 * with key_unref once the context is unlocked: dropping a key's last
 * reference takes its context's lock. */
DWORD sign_hash_locked(struct hash *hash, DWORD spec, DWORD flags, BYTE *sig, DWORD *len,
		       struct key **used);

/* CryptVerifySignature's work, with the hash's context locked; key may
 * belong to another context of the same token (it is only read).
 * Errors: NTE_BAD_FLAGS, NTE_BAD_KEY (not an RSA public key on this
 * token), NTE_BAD_SIGNATURE (wrong length, or not a signature of this
 * hash's value by that key), NTE_BAD_ALGID, the errors of
 * hash_value_locked, mapped token failures. */
/* Drops the container keys CryptSignHash keeps with the context, with the
 * context locked (its release). */
void sign_cache_free_locked(struct context *ctx);

DWORD sign_verify_locked(struct hash *hash, const BYTE *sig, DWORD sig_len, struct key *key,
			 DWORD flags);

#endif
