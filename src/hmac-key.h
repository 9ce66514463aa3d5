/* HMAC keys: what Windows programs import with CryptImportKey as a
 * PLAINTEXTKEYBLOB of CALG_RC2 with CRYPT_IPSEC_HMAC_KEY, of any length.
 * capi11 makes such a key a CKK_GENERIC_SECRET session object that may
 * sign and verify (the token's CKM_*_HMAC mechanisms take no RC2 key), so
 * that CALG_HMAC works on tokens without RC2; the key keeps CALG_RC2 as
 * its KP_ALGID and the caller's length as KP_KEYLEN, and encrypts
 * nothing. A key shorter than the token's HMAC mechanisms take is stored
 * zero-padded (at most to 64 bytes), which RFC 2104 makes the same HMAC
 * key; a PLAINTEXTKEYBLOB export then gives the padded bytes. */
#ifndef CAPI11_HMAC_KEY_H
#define CAPI11_HMAC_KEY_H

#include "context.h"
#include "key.h"

#include <stdbool.h>
#include <stddef.h>
#include <wincrypt.h>

/* The longest HMAC key taken, in bytes: far beyond any hash's block. */
#define HMAC_KEY_MAX 4096

/* Whether CryptImportKey's blob and flags ask for an HMAC key: a
 * PLAINTEXTKEYBLOB of CALG_RC2 with CRYPT_IPSEC_HMAC_KEY. */
bool hmac_key_requested(const BYTE *data, size_t len, DWORD flags);

/* Makes the key, with the context locked. CRYPT_EXPORTABLE decides
 * CKA_EXTRACTABLE and CKA_SENSITIVE as for every secret key.
 * Errors: the PLAINTEXTKEYBLOB errors (NTE_BAD_DATA for a length of 0,
 * past the blob or past HMAC_KEY_MAX), NTE_NOT_SUPPORTED (the token
 * refuses such objects), NTE_NO_MEMORY, mapped token failures. Nothing
 * stays on the token after a failure. */
DWORD hmac_key_import_locked(struct context *ctx, const BYTE *data, size_t len, DWORD flags,
			     struct key **out);

#endif
