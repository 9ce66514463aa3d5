/* The Triple-DES key wrap of RFC 3217 (SYMMETRICWRAPKEYBLOB under a
 * CALG_3DES key), composed from token operations. */
#ifndef CAPI11_DES3_WRAP_H
#define CAPI11_DES3_WRAP_H

#include "context.h"

#include <wincrypt.h>

/* A Triple-DES key's value (CEK, three DES keys). */
#define DES3_KEY_LEN 24
/* IV || CBC(KEK, IV, CEK || ICV), reversed and encrypted again: RFC
 * 3217's wrapped Triple-DES key. */
#define DES3_WRAPPED_LEN 40

/* Whether the context's token offers what the composition needs:
 * CKM_DES3_CBC for use (CKF_ENCRYPT to wrap, CKF_DECRYPT to unwrap), then
 * CKM_SHA_1 for CKF_DIGEST. What it lacks is NTE_NOT_SUPPORTED. */
DWORD des3_check_mechanisms(struct token *tok, CK_FLAGS use);

/* RFC 3217 section 3.1: wraps the DES3_KEY_LEN bytes of cek (parity need
 * not be set) under the Triple-DES key object kek into DES3_WRAPPED_LEN
 * bytes of wrapped, on ts, the session holding kek (its context locked). A failure of the
 * token is its error for CryptExportKey (ERROR_OP_EXPORT). */
DWORD des3_wrap_locked(struct tsession *ts, CK_OBJECT_HANDLE kek, const BYTE *cek, BYTE *wrapped);

/* RFC 3217 section 3.2: unwraps DES3_WRAPPED_LEN bytes under kek into the
 * DES3_KEY_LEN bytes of cek, written only when the key checksum matches;
 * the caller wipes cek. A checksum that does not match is NTE_BAD_DATA,
 * as a failed decryption is (ERROR_OP_DECRYPT); a failed digest is the
 * token's error (ERROR_OP_GENERIC). */
DWORD des3_unwrap_locked(struct tsession *ts, CK_OBJECT_HANDLE kek, const BYTE *wrapped,
			 BYTE *cek);

#endif
