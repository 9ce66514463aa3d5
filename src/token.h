/* The token layer: the only code that calls PKCS#11 C_* functions.
 * Modules are loaded through p11-kit (by path or by registered name) and
 * initialised once per process with CKF_OS_LOCKING_OK; tokens are found by
 * RFC 7512 URI; sessions are pooled per token; login happens once per token.
 * Everything here returns CK_RV. */
#ifndef CAPI11_TOKEN_H
#define CAPI11_TOKEN_H

#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>
#include <stdbool.h>
#include <stddef.h>

struct token;

/* Finds the token that uri names. The module comes from the URI's
 * module-path or module-name query; without either, every module p11-kit
 * has registered is searched. No matching token present:
 * CKR_TOKEN_NOT_PRESENT. Tokens live as long as the process. */
CK_RV token_open_uri(P11KitUri *uri, struct token **out);
/* The first token present in the modules p11-kit has registered, skipping
 * modules that hold no keys (trust-policy modules such as p11-kit-trust). */
CK_RV token_open_default(struct token **out);

/* Token facts, read when the token was opened; strings are trimmed of
 * PKCS#11's blank padding. */
const char *token_label(const struct token *tok);
const char *token_serial(const struct token *tok);
const char *token_slot_description(const struct token *tok);
bool token_is_removable(const struct token *tok);
bool token_has_pinpad(const struct token *tok);
bool token_needs_login(const struct token *tok);

/* The fork generation that the token's sessions belong to: state stamped
 * with another value came from the parent of a fork and is dead. */
unsigned token_generation(void);

/* Leases a read-write session from the token's pool (opening one when the
 * pool is empty). A leased session is used by one thread at a time. */
CK_RV token_session_acquire(struct token *tok, CK_SESSION_HANDLE *out);
/* Gives a session back; last_rv is the last result seen on it, and a
 * session that the token has dropped (removal, invalid handle) is closed
 * instead of pooled. */
void token_session_release(struct token *tok, CK_SESSION_HANDLE s, CK_RV last_rv);
/* True when rv says that the session, or the token, is gone. */
bool token_rv_is_session_lost(CK_RV rv);

/* Whether pin (pin_len bytes) could be a PIN of the token: not empty, at
 * most PIN_MAX bytes (pin.h) and at most the token's ulMaxPinLen when it
 * reports one, no "\n", "\r" or NUL byte. CKR_PIN_LEN_RANGE or
 * CKR_PIN_INVALID otherwise (traced, without the PIN); the token is not
 * called. tok may be NULL (PIN_MAX only). */
CK_RV token_pin_check(const struct token *tok, const char *pin, size_t pin_len);

/* Logs the user in once for the whole token. pin NULL with a pinpad token
 * logs in through the protected path. Already logged in: CKR_OK without a
 * C_Login. A PIN that token_pin_check refuses is refused without a C_Login.
 * A rejected PIN is returned as is, never retried. */
CK_RV token_login(struct token *tok, CK_SESSION_HANDLE s, const char *pin, size_t pin_len);
bool token_is_logged_in(struct token *tok, CK_SESSION_HANDLE s);

/* A session of its own for a short piece of work, never pooled nor
 * counted as leased; closing it destroys the session objects made on it
 * (PKCS#11), so that work leaves nothing behind even when a C_DestroyObject
 * would have failed. */
CK_RV token_scratch_open(struct token *tok, CK_SESSION_HANDLE *out);
void token_scratch_close(struct token *tok, CK_SESSION_HANDLE s);

/* C_Login as the security officer, for capi11's trust step only
 * (trust.c): no PIN is kept, and a rejected one is returned as is. */
CK_RV token_login_so(struct token *tok, CK_SESSION_HANDLE s, const char *pin, size_t pin_len);
/* C_Logout; not logged in counts as done. Every private session object
 * of this process on the token dies with it. */
CK_RV token_logout(struct token *tok, CK_SESSION_HANDLE s);
/* How many sessions contexts hold leased now. */
unsigned token_sessions_leased(const struct token *tok);

/* What a token does with CKA_WRAP_WITH_TRUSTED, learnt once (trust.c). */
enum token_wrap_trust {
	TOKEN_WRAP_TRUST_UNKNOWN = 0,
	/* It refuses to wrap such a key under a key without CKA_TRUSTED. */
	TOKEN_WRAP_TRUST_ENFORCED,
	/* It takes the attribute but wraps such a key under any key. */
	TOKEN_WRAP_TRUST_IGNORED,
	/* It refuses templates holding the attribute. */
	TOKEN_WRAP_TRUST_UNSUPPORTED,
};
enum token_wrap_trust token_wrap_trust(const struct token *tok);
void token_set_wrap_trust(struct token *tok, enum token_wrap_trust state);

/* Objects. token_find returns a capi11_malloc'd array (capi11_free it). */
CK_RV token_find(struct token *tok, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		 CK_OBJECT_HANDLE **objs, CK_ULONG *count);
/* Fills the template; an attribute the token hides (sensitive) or lacks
 * comes back with ulValueLen CK_UNAVAILABLE_INFORMATION and CKR_OK when
 * the others are filled (only CKR_ATTRIBUTE_SENSITIVE/TYPE_INVALID are
 * swallowed). Lengths larger than a caller's buffer are refused. */
CK_RV token_get_attributes(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
			   CK_ATTRIBUTE *tmpl, CK_ULONG n);
/* Reads one variable-length attribute into a capi11_malloc'd buffer. */
CK_RV token_get_attribute_alloc(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
				CK_ATTRIBUTE_TYPE type, void **value, CK_ULONG *len);
/* A boolean attribute; one the token hides or lacks leaves *value as the
 * caller set it. */
CK_RV token_get_bool(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		     CK_ATTRIBUTE_TYPE type, bool *value);
CK_RV token_create(struct token *tok, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		   CK_OBJECT_HANDLE *obj);
CK_RV token_destroy(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj);
/* C_CopyObject: a copy of obj with the template's attributes changed. */
CK_RV token_copy(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		 CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *copy);
CK_RV token_set_attributes(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
			   CK_ATTRIBUTE *tmpl, CK_ULONG n);
CK_RV token_generate_key(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech,
			 CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *key);
CK_RV token_generate_key_pair(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech,
			      CK_ATTRIBUTE *pub, CK_ULONG n_pub, CK_ATTRIBUTE *priv, CK_ULONG n_priv,
			      CK_OBJECT_HANDLE *pub_key, CK_OBJECT_HANDLE *priv_key);
CK_RV token_random(struct token *tok, CK_SESSION_HANDLE s, unsigned char *buf, size_t len);
/* One-shot C_DigestInit + C_Digest; out must hold the whole digest, so
 * that no operation stays active on the session. */
CK_RV token_digest(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech,
		   const unsigned char *in, CK_ULONG in_len, unsigned char *out, CK_ULONG *out_len);

/* Pointers to a CK_TRUE or CK_FALSE that lives forever, for templates. */
CK_BBOOL *token_bool(bool value);

/* What the token says of a mechanism, cached per token: CKR_MECHANISM_INVALID
 * when it does not have it. */
CK_RV token_mechanism_info(struct token *tok, CK_MECHANISM_TYPE mech, CK_MECHANISM_INFO *info);

/* C_WrapKey / C_UnwrapKey. out NULL asks for the length. */
CK_RV token_wrap_key(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
		     CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key, unsigned char *out,
		     CK_ULONG *out_len);
CK_RV token_unwrap_key(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
		       CK_OBJECT_HANDLE unwrapping, const unsigned char *wrapped,
		       CK_ULONG wrapped_len, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		       CK_OBJECT_HANDLE *key);

/* One-shot C_EncryptInit + C_Encrypt / C_DecryptInit + C_Decrypt. in and
 * out may be the same buffer; *out_len is out's room and becomes the
 * length written. Nothing stays active on the session afterwards as long
 * as out is large enough. */
CK_RV token_encrypt(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
		    CK_OBJECT_HANDLE key, const unsigned char *in, CK_ULONG in_len,
		    unsigned char *out, CK_ULONG *out_len);
CK_RV token_decrypt(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
		    CK_OBJECT_HANDLE key, const unsigned char *in, CK_ULONG in_len,
		    unsigned char *out, CK_ULONG *out_len);

#endif
