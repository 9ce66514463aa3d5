/* DSS signature keys (CALG_DSS_SIGN) of the DSS provider types, made on the
 * token: domain parameters by CKM_DSA_PARAMETER_GEN, the pair by
 * CKM_DSA_KEY_PAIR_GEN, in the container as RSA pairs are. */
#ifndef CAPI11_DSS_H
#define CAPI11_DSS_H

#include "blob-dss.h"
#include "context.h"

#include <wincrypt.h>

struct key;


/* CryptGenKey(AT_SIGNATURE or CALG_DSS_SIGN) in a DSS context, with the
 * context locked; HIWORD(flags) is the prime length (0: the default).
 * Errors: NTE_BAD_DATA for a length outside the range above or outside
 * the token's, NTE_BAD_ALGID when the token makes no DSA pairs, the
 * token's failures mapped. A failure leaves nothing on the token. */
DWORD dss_generate_locked(struct context *ctx, DWORD flags, struct key **out);

/* dss_generate_locked with domain parameters given (CRYPT_PREGEN, dh.h):
 * p, q and g big-endian; the length is p's. */
DWORD dss_generate_with_locked(struct context *ctx, DWORD flags, const BYTE *p, size_t p_len,
			       const BYTE *q, size_t q_len, const BYTE *g, size_t g_len,
			       struct key **out);

/* The longest p, q or g capi11 reads from a DSA key (a 16384-bit prime),
 * whatever made the key. */
#define DSS_MAX_PARAM_BYTES (16384 / 8)

/* CryptGetKeyParam(KP_P, KP_Q or KP_G) of a DSS key: the number,
 * little-endian as CryptoAPI numbers are, without padding. NTE_BAD_TYPE
 * for any other key. */
DWORD dss_get_param_locked(struct key *key, DWORD param, BYTE *data, DWORD *len);

/* CryptExportKey of a DSS key, PUBLICKEYBLOB (private false) or plaintext
 * PRIVATEKEYBLOB, version 2 or 3 (blob-dss.h); the caller has checked
 * that a private key may leave, and encrypts it when asked (export.c). A public blob, and a version 3 private
 * one, need the public half (y): without it NTE_BAD_KEY. */
DWORD dss_export_locked(struct key *key, bool private, BYTE version, BYTE *data, DWORD *len);

/* CryptImportKey of a DSS PUBLICKEYBLOB: a session public-key object that
 * verifies, in no container: on the token when it verifies with CKM_DSA
 * and holds public keys, else on the companion token (route.h), as a
 * partner's RSA key. Errors after the blob's: NTE_BAD_ALGID when neither
 * token has CKM_DSA (or there is no companion and the token lacks it);
 * NTE_NOT_SUPPORTED (route_needs_companion) when the token refuses public
 * keys and no companion takes it. */
DWORD dss_import_public_locked(struct context *ctx, const BYTE *data, size_t len,
			       struct key **out);
/* CryptImportKey of a plaintext DSS PRIVATEKEYBLOB (import.c decrypts an
 * encrypted one first; NTE_BAD_ALGID when the token does not sign with
 * CKM_DSA): the container's
 * AT_SIGNATURE DSS pair (session objects in a verify context), replacing
 * the one it had. The public half's y is the blob's (version 3) or the
 * token's computation (version 2; none on a token without
 * CKM_DH_PKCS_DERIVE). A failure leaves nothing on the token. */
DWORD dss_import_private_locked(struct context *ctx, const BYTE *data, size_t len, DWORD flags,
				struct key **out);

/* Whether tok verifies DSA signatures (CKM_DSA with CKF_VERIFY). */
bool dss_token_verifies(struct token *tok);

/* The token's range of DSA prime lengths within Microsoft's; false when
 * the token makes no DSA domain parameters or pairs. */
bool dss_token_bits(struct token *tok, DWORD *min, DWORD *max);

#endif
