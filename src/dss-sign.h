/* DSS signatures (CryptSignHash and CryptVerifySignature in the DSS
 * provider types): C_Sign and C_Verify with CKM_DSA over the hash's SHA-1
 * value, on the token. Windows' signature is 40 bytes, r then s, each 20
 * bytes little-endian; PKCS#11's is r then s, each 20 bytes big-endian. */
#ifndef CAPI11_DSS_SIGN_H
#define CAPI11_DSS_SIGN_H

#include "hash.h"
#include "key.h"

#include <wincrypt.h>

#define DSS_SIGNATURE_LEN 40

/* sign_hash_locked for a DSS context: the container's AT_SIGNATURE DSS
 * key signs. sig NULL stores 40 in *len without signing or finishing the
 * hash. Errors: NTE_BAD_FLAGS (other than CRYPT_NOHASHOID, which means
 * nothing to DSS), NTE_BAD_ALGID (a spec other than AT_SIGNATURE and
 * AT_KEYEXCHANGE, a hash other than CALG_SHA1), NTE_NO_KEY,
 * ERROR_MORE_DATA, the errors of hash_value_locked, NTE_BAD_KEY (the
 * token refuses the key), mapped token failures. *used as for
 * sign_hash_locked. */
DWORD dss_sign_hash_locked(struct hash *hash, DWORD spec, DWORD flags, BYTE *sig, DWORD *len,
			   struct key **used);

/* sign_verify_locked for a DSS key (any context of the same token):
 * NTE_BAD_SIGNATURE for a signature of the wrong length or not of this
 * hash's value by that key; NTE_BAD_ALGID for a hash other than
 * CALG_SHA1; NTE_BAD_KEY without a public half on this token. */
DWORD dss_verify_locked(struct hash *hash, const BYTE *sig, DWORD sig_len, struct key *key,
			DWORD flags);

#endif
