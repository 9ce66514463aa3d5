/* CryptExportKey's strategies: which PKCS#11 calls serve each blob type. */
#ifndef CAPI11_EXPORT_H
#define CAPI11_EXPORT_H

#include "key.h"

#include <wincrypt.h>

/* Flags CryptExportKey documents; any other bit is NTE_BAD_FLAGS. */
#define EXPORT_VALID_FLAGS (CRYPT_Y_ONLY | CRYPT_SSL2_FALLBACK | CRYPT_DESTROYKEY | CRYPT_OAEP | \
			    CRYPT_BLOB_VER3)

/* CryptExportKey's work, with key's context locked. exp is hExpKey's key,
 * NULL for 0; only its immutable fields are read. Buffer rules of SPEC
 * section 2: data NULL stores the size in *len.
 * Implemented: PUBLICKEYBLOB (RSA), PRIVATEKEYBLOB (RSA; plaintext, or under
 * a session key of key's context: NTE_BAD_KEY for any other), PLAINTEXTKEYBLOB,
 * SIMPLEBLOB, SYMMETRICWRAPKEYBLOB (RFC 3394 under AES, RFC 3217 under
 * 3DES), OPAQUEKEYBLOB (docs/OPAQUEKEYBLOB.md; CRYPT_DESTROYKEY destroys
 * the key's objects after a successful export). A sensitive key leaves
 * only under a wrap-only key or an RSA public key whose private half is
 * out of the context's reach (NTE_BAD_KEY_STATE). Any other blob type:
 * NTE_BAD_TYPE (SPEC section 4). A mechanism the token lacks:
 * NTE_NOT_SUPPORTED (SPEC section 7).
 * Errors: NTE_BAD_FLAGS, NTE_BAD_TYPE, NTE_BAD_KEY, NTE_BAD_KEY_STATE,
 * NTE_BAD_PUBLIC_KEY, NTE_NOT_SUPPORTED, ERROR_MORE_DATA, and what the token reports. */
/* The answer to a SIMPLEBLOB size query (pbData NULL) of h under exp_h,
 * without the context lock, where the locked route answered the same query
 * before and nothing it depends on can have changed since (export.c):
 * true with *len set, or false with nothing done, for the locked route to
 * answer. */
bool export_simple_size_fast(HCRYPTKEY h, HCRYPTKEY exp_h, DWORD flags, DWORD *len);

DWORD export_key_locked(struct key *key, struct key *exp, DWORD blob_type, DWORD flags,
			BYTE *data, DWORD *len);

#endif
