/* Digests, keyed digests (HMAC) and signatures on a token session: the
 * token-layer half of hash objects (hash.c) and CryptSignHash /
 * CryptVerifySignature (sign.c). Each call goes through the call table
 * (p11call.h); calls naming a key hold an object guard use of it
 * (objguard.h). Everything here returns CK_RV.
 *
 * A multi-part operation (digest or keyed digest) stays active on its
 * session between calls, so a session carries at most one: a hash object
 * owns the session it streams on. token_operation_cancel ends an operation
 * that a caller gives up, so that the session can go back to the pool. */
#ifndef CAPI11_TOKEN_SIGN_H
#define CAPI11_TOKEN_SIGN_H

#include "session.h"

#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>

/* The largest digest or keyed digest value these calls produce (SHA-512). */
#define TOKEN_DIGEST_MAX 64

/* Which operation a session has active, for token_operation_cancel. */
enum token_op {
	TOKEN_OP_NONE = 0,
	TOKEN_OP_DIGEST,      /* C_DigestInit ... C_DigestFinal */
	TOKEN_OP_SIGN,        /* C_SignInit ... C_SignFinal (HMAC) */
	TOKEN_OP_ENCRYPT,     /* C_EncryptInit ... C_EncryptFinal (CBC-MAC) */
};

/* C_DigestInit; then any number of token_digest_update (lengths of any
 * size: fed in pieces a CK_ULONG holds) and token_digest_key calls, then
 * token_digest_final, which ends the operation. out must hold the whole
 * value (*out_len is its room, then the length written): a short buffer
 * would leave the operation active. */
CK_RV token_digest_init(struct tsession *ts, CK_MECHANISM_TYPE mech);
CK_RV token_digest_update(struct tsession *ts, const unsigned char *in, size_t in_len);
/* C_DigestKey: the key's value enters the digest inside the token, so that
 * a sensitive key is hashed without leaving it. */
CK_RV token_digest_key(struct tsession *ts, CK_OBJECT_HANDLE key);
CK_RV token_digest_final(struct tsession *ts, unsigned char *out, CK_ULONG *out_len);

/* The same for a keyed digest computed by C_SignInit/Update/Final (the
 * CKM_SHA*_HMAC mechanisms). */
CK_RV token_mac_init(struct tsession *ts, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key);
CK_RV token_mac_update(struct tsession *ts, const unsigned char *in, size_t in_len);
CK_RV token_mac_final(struct tsession *ts, unsigned char *out, CK_ULONG *out_len);

/* A multi-part CBC encryption under key (mech carries the IV), whose
 * ciphertext only feeds a CBC-MAC: token_cbc_update takes whole blocks
 * (in_len a multiple of the block, out as long as in) and
 * token_cbc_final ends the operation. */
CK_RV token_cbc_init(struct tsession *ts, CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV token_cbc_update(struct tsession *ts, const unsigned char *in, CK_ULONG in_len,
		       unsigned char *out);
CK_RV token_cbc_final(struct tsession *ts);

/* Ends an operation left active (a hash destroyed before its value was
 * read, a failure between two parts), so that the session is clean for
 * its next user. Failures are traced but not reported: a session where
 * even that fails is marked lost by the call table and never pooled. */
void token_operation_cancel(struct tsession *ts, enum token_op op);

/* The state of the active operation (C_GetOperationState), in a
 * capi11_malloc'd buffer; CKR_FUNCTION_NOT_SUPPORTED and the like when
 * the token cannot save it. token_operation_state_set restores one on
 * another session of the same token. */
CK_RV token_operation_state_get(struct tsession *ts, unsigned char **state, CK_ULONG *len);
CK_RV token_operation_state_set(struct tsession *ts, const unsigned char *state, CK_ULONG len);

/* One-shot C_DigestInit + C_Digest; out holds the whole digest (*out_len
 * its room, then the length), and no operation stays active afterwards,
 * even after a failure. */
CK_RV token_digest_once(struct tsession *ts, CK_MECHANISM_TYPE mech, const unsigned char *in,
			CK_ULONG in_len, unsigned char *out, CK_ULONG *out_len);

/* One-shot C_SignInit + C_Sign with key; *out_len is out's room, then the
 * length written. out must hold the signature (the modulus length for
 * RSA), so that no operation stays active. */
CK_RV token_sign(struct tsession *ts, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
		 const unsigned char *in, CK_ULONG in_len, unsigned char *out, CK_ULONG *out_len);
/* The same for a key with CKA_ALWAYS_AUTHENTICATE: between C_SignInit and
 * C_Sign, C_Login(CKU_CONTEXT_SPECIFIC) with pin (pin_len bytes; NULL on a
 * pinpad reader, which asks itself). A rejected PIN is returned as is,
 * never retried. */
CK_RV token_sign_reauth(struct tsession *ts, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
			const char *pin, size_t pin_len, const unsigned char *in, CK_ULONG in_len,
			unsigned char *out, CK_ULONG *out_len);

/* One-shot C_VerifyInit + C_Verify: CKR_OK when sig is a valid signature
 * of in, CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE when not. */
CK_RV token_verify(struct tsession *ts, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
		   const unsigned char *in, CK_ULONG in_len, const unsigned char *sig,
		   CK_ULONG sig_len);

#endif
