/* Key protection that the token enforces: CKA_WRAP_WITH_TRUSTED on every
 * sensitive, extractable key capi11 makes, CKA_TRUSTED only on keys the
 * security officer made trusted (SPEC section 3). */
#ifndef CAPI11_TRUST_H
#define CAPI11_TRUST_H

#include "context.h"
#include "key.h"

/* What the context's token does with CKA_WRAP_WITH_TRUSTED, learnt once
 * per token with two throwaway session keys and a wrap. Errors: the mapped
 * failure of the token (not remembered: asked again next time). */
DWORD trust_wrap_state_locked(struct context *ctx, enum token_wrap_trust *state);
/* The same for any token (the companion's: the policy holds there too). */
DWORD trust_wrap_state_on(struct token *tok, enum token_wrap_trust *state);

/* Appends CKA_WRAP_WITH_TRUSTED TRUE at tmpl[*n] for a new key on ts's token that is
 * sensitive and extractable, unless the token refuses the attribute (then
 * trust_check_wrap_locked keeps such keys in). tmpl has room for one more
 * attribute. Errors: trust_wrap_state_locked's. */
DWORD trust_template_add_locked(struct tsession *ts, bool sensitive, bool extractable,
				CK_ATTRIBUTE *tmpl, CK_ULONG *n);

/* Whether a sensitive key may be wrapped under the wrapping object (both
 * on ts's token): the
 * token enforces CKA_WRAP_WITH_TRUSTED, the key carries it, and the
 * wrapping object has CKA_TRUSTED; else NTE_BAD_KEY_STATE. Asked before
 * the wrap so that a size query answers as the export; the token decides
 * again in C_WrapKey. */
DWORD trust_check_wrap_locked(struct tsession *ts, CK_OBJECT_HANDLE key,
			      CK_OBJECT_HANDLE wrapping);

/* A trusted RSA public key object with this modulus and exponent
 * (big-endian, leading zeros allowed), or CK_INVALID_HANDLE. */
CK_RV trust_find_public(struct context *ctx, const BYTE *modulus, size_t mod_len, const BYTE *e,
			size_t e_len, CK_OBJECT_HANDLE *obj);

/* CryptGetUserKey(CAPI11_AT_KEK): the container's trusted AES
 * key-encryption key, wrap-only; NTE_NO_KEY when it has none. */
DWORD trust_get_kek_locked(struct context *ctx, struct key **out);

/* Capi11TrustKeyA's work: a PLAINTEXTKEYBLOB of an AES key becomes the
 * container's trusted key-encryption key, a PUBLICKEYBLOB a trusted public
 * key, both made final in a security officer session: public objects
 * (the SO may make no other) that nobody can change or copy, the KEK
 * never extractable and unwrapping only into sensitive, private keys.
 * Errors: blob errors as CryptImportKey's, NTE_BAD_PUBLIC_KEY (the public
 * key's private half is on the token), NTE_NOT_SUPPORTED (the token
 * refuses the attributes that make the key safe),
 * SCARD_E_SHARING_VIOLATION (another context uses the token, or this one
 * holds key handles), SCARD_W_WRONG_CHV (SO or user PIN rejected),
 * NTE_SILENT_CONTEXT (no user PIN to log back in with), mapped token
 * failures. Nothing is left on the token on failure. */
DWORD trust_import_locked(struct context *ctx, const BYTE *data, size_t len, const char *so_pin,
			  const char *user_pin, struct key **out);

#endif
