/* CryptImportKey's strategies: which PKCS#11 calls turn each blob type
 * into objects on the token. */
#ifndef CAPI11_IMPORT_H
#define CAPI11_IMPORT_H

#include "key.h"

#include <wincrypt.h>

/* CryptImportKey's work, with ctx locked. pub is hPubKey's key, NULL for
 * 0. The blob is checked in the order of SPEC section 5 before the token
 * sees anything; a failed import leaves no object behind.
 * Implemented: PUBLICKEYBLOB and PRIVATEKEYBLOB (RSA; plaintext, or
 * encrypted under pub, a session key of ctx: NTE_BAD_KEY for any other),
 * PLAINTEXTKEYBLOB (CRYPT_IPSEC_HMAC_KEY with CALG_RC2: HMAC keys,
 * hmac-key.h),
 * SIMPLEBLOB, SYMMETRICWRAPKEYBLOB, OPAQUEKEYBLOB; CRYPT_KEK makes an
 * imported secret key wrap-only. Any other blob type: NTE_BAD_TYPE (SPEC
 * section 5). A mechanism the token lacks: NTE_NOT_SUPPORTED (SPEC
 * section 7).
 * Errors: NTE_BAD_DATA, NTE_BAD_TYPE, NTE_BAD_ALGID, NTE_BAD_FLAGS,
 * NTE_BAD_PUBLIC_KEY, NTE_BAD_KEY (no usable unwrapping key),
 * NTE_NOT_SUPPORTED, and what the token reports. */
DWORD import_key_locked(struct context *ctx, const BYTE *data, size_t len, struct key *pub,
			DWORD flags, struct key **out);

#endif
