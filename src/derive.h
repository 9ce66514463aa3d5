/* CryptDeriveKey: a session key from a hash's value, by Microsoft's
 * documented derivation, made on the token like an imported key. */
#ifndef CAPI11_DERIVE_H
#define CAPI11_DERIVE_H

#include "hash.h"
#include "key.h"

#include <wincrypt.h>

/* CryptDeriveKey's work, with the hash's context (ctx) locked. The key
 * bytes are the first n bytes of the hash value when it has that many;
 * otherwise (and for AES-128 from a 16- or 20-byte value, as Windows does)
 * the hash of the value XORed into 64 bytes of 0x36, followed by the hash
 * of it XORed into 64 bytes of 0x5C, both on the token. The hash is
 * finished. HIWORD(flags) is the key length in bits (0: the algorithm's).
 * Errors: NTE_BAD_ALGID (not a session-key algorithm the token makes, a
 * hash with no algorithm of its own), NTE_BAD_FLAGS (a length the DES
 * family does not have, flags capi11 does not know), NTE_BAD_DATA (a
 * length other algorithms do not have), the errors of hash_value_locked
 * and of a PLAINTEXTKEYBLOB import. */
DWORD derive_key_locked(struct context *ctx, ALG_ID algid, struct hash *hash, DWORD flags,
			struct key **out);

#endif
