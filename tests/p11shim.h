/* Control interface of p11shim, the test PKCS#11 module that forwards every
 * call to a real module (SoftHSM), counts the calls and injects faults.
 *
 * The shim is loaded twice over: as a PKCS#11 module (by p11-kit on behalf
 * of capi11, through a module-path URI) and by the tests through dlopen of the
 * same file, which yields the same instance; the tests then drive it with the
 * functions below, usually through fixture_shim(). All of them are
 * thread-safe. State set here survives C_Finalize and a reload of the module
 * as long as some handle keeps the shim loaded (fixture_shim() keeps one).
 *
 * The target is loaded once per process, so the shim and a direct user of
 * SoftHSM share one SoftHSM. When the target is already initialized by that
 * other user, the shim's C_Initialize succeeds and its C_Finalize returns
 * CKR_OK without finalizing the target; finalizing SoftHSM directly while the
 * shim is in use still pulls it from under the shim. */
#ifndef CAPI11_P11SHIM_H
#define CAPI11_P11SHIM_H

#include <stdbool.h>
#include <p11-kit/pkcs11.h>

/* The module the shim forwards to: this variable when set, else SoftHSM. */
#define P11SHIM_TARGET_ENV "P11SHIM_TARGET"

/* p11shim_count() of a name that is not a PKCS#11 v2.40 function, so that a
 * misspelt name makes a "count == 0" assertion fail instead of passing. */
#define P11SHIM_UNKNOWN ((unsigned long)-1)

/* Modes of p11shim_tamper_length(). */
enum {
	/* Every ulValueLen of the template becomes CK_UNAVAILABLE_INFORMATION
	 * while the return value stays what the module said (often CKR_OK):
	 * a module that contradicts itself. */
	P11SHIM_LEN_UNAVAILABLE = 1,
	/* Every attribute that had a buffer (pValue != NULL) reports one byte
	 * more than the caller's buffer holds; the buffer itself is left as the
	 * module filled it. Size queries (pValue == NULL) are untouched, so aim
	 * nth at the second call of a query-then-fetch pair. */
	P11SHIM_LEN_TOO_LARGE = 2,
};

/* Clears everything: counters, pending faults and length tampering, pinpad,
 * token absence, the removable flag, bent mechanisms and attributes. */
void p11shim_reset(void);

/* Calls of the named function ("C_Login") since the last reset, faulted
 * calls included; P11SHIM_UNKNOWN for a name that is no PKCS#11 function.
 * C_GetFunctionList counts too (p11-kit calls it when it loads the shim). */
unsigned long p11shim_count(const char *fn);

/* All calls since the last reset. */
unsigned long p11shim_total(void);

/* The name of the nth (1-based) call since the last reset, so that a test
 * that fails "call n" can say which function that was; NULL past the calls
 * made, or past the first 4096 (only those are remembered). Not in struct
 * p11shim_ops: resolve it with dlsym. */
const char *p11shim_call_name(unsigned long nth);

/* Fails the nth (1-based) future call of fn, or of any function when fn is
 * NULL, with rv instead of forwarding it; nth 0 fails every call from now
 * on. Several faults can be pending (up to 16, more are ignored); when two
 * fall on one call, the one set first gives the return value and both are
 * used up. Calls that fail this way are still counted. A name that is no
 * PKCS#11 function sets nothing. */
void p11shim_fail(const char *fn, unsigned long nth, CK_RV rv);

/* Tampers with the lengths that the nth (1-based; 0: every) future
 * C_GetAttributeValue call reports, after forwarding it; mode is one of
 * P11SHIM_LEN_*. */
void p11shim_tamper_length(unsigned long nth, int mode);

/* C_GetAttributeValue calls since the last reset whose lengths the
 * tampering actually changed (a size query is left alone by
 * P11SHIM_LEN_TOO_LARGE). Not in struct p11shim_ops: resolve it with dlsym. */
unsigned long p11shim_tamper_hits(void);

/* Makes every token look like one behind a pinpad reader: C_GetTokenInfo
 * adds CKF_PROTECTED_AUTHENTICATION_PATH, and C_Login with a NULL PIN logs in
 * with this PIN, as if typed on the pinpad. A C_Login with a PIN is forwarded
 * unchanged. NULL turns it off. */
void p11shim_set_pinpad(const char *pin);

/* Makes every slot look empty: C_GetSlotList(CK_TRUE) lists no slot,
 * C_GetSlotInfo clears CKF_TOKEN_PRESENT, and the calls that take a slot
 * (C_GetTokenInfo, C_OpenSession, C_GetMechanismList, C_GetMechanismInfo,
 * C_InitToken) return CKR_TOKEN_NOT_PRESENT. Sessions already open are left
 * alone. */
void p11shim_set_token_absent(bool absent);

/* Makes C_GetSlotInfo report CKF_REMOVABLE_DEVICE on every slot; false
 * leaves the flag as the target reports it. */
void p11shim_set_removable(bool removable);

/* Makes C_GetTokenInfo report this manufacturerID (blank-padded, at most
 * 32 bytes) on every token, as a token of another maker would; NULL or ""
 * turns it off. capi11 reads its quirks table (src/quirks.c) when it first
 * meets a token, so set it before that. Not in struct p11shim_ops: resolve
 * it with dlsym. */
void p11shim_set_manufacturer(const char *manufacturer);

/* Calls on a session after a fault declared it gone (CKR_SESSION_HANDLE_INVALID,
 * CKR_SESSION_CLOSED or CKR_DEVICE_REMOVED from a call on it), since the
 * last reset: every call on it but C_CloseSession (which ends it, so that
 * the handle may be given out again), C_DestroyObject and C_Logout counts.
 * A session is remembered as gone across resets until it is closed. Not
 * in struct p11shim_ops: resolve it with dlsym. */
unsigned long p11shim_lost_session_uses(void);

/* Modes of p11shim_set_mechanism(), which can be combined. */
enum {
	/* The token does not offer the mechanism: C_GetMechanismList leaves it
	 * out and C_GetMechanismInfo answers CKR_MECHANISM_INVALID. Calls that
	 * use it still go to the target unless P11SHIM_MECH_REFUSED is set too. */
	P11SHIM_MECH_HIDDEN = 1,
	/* The token refuses the mechanism at use while still advertising it
	 * (as SoftHSM does with CKF_WRAP for DES3_CBC): every call that takes a
	 * CK_MECHANISM of that type (C_*Init, C_GenerateKey, C_GenerateKeyPair,
	 * C_WrapKey, C_UnwrapKey, C_DeriveKey) returns CKR_MECHANISM_INVALID
	 * without reaching the target. The call is still counted. */
	P11SHIM_MECH_REFUSED = 2,
};

/* Sets how the shim presents one mechanism on every slot: a combination of
 * P11SHIM_MECH_*, or 0 to forward it unchanged again. Up to 32 mechanisms
 * can be bent at once; more are ignored. p11shim_reset() clears them all.
 * Not in struct p11shim_ops: resolve it with dlsym. */
void p11shim_set_mechanism(CK_MECHANISM_TYPE mech, int mode);

/* Modes of p11shim_set_attribute(), for a token that does not know an
 * attribute. */
enum {
	/* A template holding the attribute, at its top level or inside a
	 * CKA_WRAP_TEMPLATE or CKA_UNWRAP_TEMPLATE, is refused with
	 * CKR_ATTRIBUTE_TYPE_INVALID by C_CreateObject, C_CopyObject,
	 * C_GenerateKey, C_GenerateKeyPair and C_UnwrapKey, without reaching
	 * the target. */
	P11SHIM_ATTR_REFUSED = 1,
	/* The same calls take such a template but the attribute is left out
	 * of what reaches the target (nested templates included): a token
	 * that accepts it and ignores it. */
	P11SHIM_ATTR_STRIPPED = 2,
	/* C_GetAttributeValue never shows the attribute, as a card hides the
	 * public numbers of its keys: its length comes back
	 * CK_UNAVAILABLE_INFORMATION with CKR_ATTRIBUTE_TYPE_INVALID, the
	 * other attributes of the call filled. */
	P11SHIM_ATTR_UNREADABLE = 4,
	/* The same calls take the attribute but it reaches the target as
	 * CK_TRUE, or CK_FALSE, whatever the template asked (nested
	 * templates included): a token that ignores a boolean and keeps its
	 * own default, such as a secret key left readable whatever
	 * CKA_SENSITIVE and CKA_EXTRACTABLE said. */
	P11SHIM_ATTR_FORCED_TRUE = 8,
	P11SHIM_ATTR_FORCED_FALSE = 16,
};

/* Sets how the shim treats one attribute type in templates: one of
 * P11SHIM_ATTR_*, or 0 to forward it unchanged again. Up to 8 attributes at
 * once; p11shim_reset() clears them. Not in struct p11shim_ops: resolve it
 * with dlsym. */
void p11shim_set_attribute(CK_ATTRIBUTE_TYPE type, int mode);

/* Templates since the last reset in which a p11shim_set_attribute() mode
 * refused or stripped something. Not in struct p11shim_ops: resolve it
 * with dlsym. */
unsigned long p11shim_attribute_hits(void);

/* Card profiles: bits of p11shim_set_profile(), each imitating what a real
 * card or TPM module does (the module named beside it), on top of what the
 * target does. A profile applies to every slot, counts its refusals as
 * calls, and answers them without reaching the target. */
enum {
	/* C_CreateObject of a CKO_DATA whose CKA_PRIVATE is FALSE or absent:
	 * CKR_ATTRIBUTE_VALUE_INVALID (tpm2-pkcs11: "CKA_PRIVATE cannot be
	 * CK_FALSE"). */
	P11SHIM_CARD_NO_PUBLIC_DATA = 0x1,
	/* Every C_CreateObject of a CKO_DATA: CKR_TEMPLATE_INCONSISTENT
	 * (OpenSC PIV, ykcs11). */
	P11SHIM_CARD_NO_DATA = 0x2,
	/* Every C_CreateObject: CKR_FUNCTION_NOT_SUPPORTED (an OpenSC card). */
	P11SHIM_CARD_NO_CREATE = 0x4,
	/* C_CreateObject of a CKO_PUBLIC_KEY: CKR_ARGUMENTS_BAD (OpenSC);
	 * weighed before P11SHIM_CARD_NO_CREATE. */
	P11SHIM_CARD_CREATE_ARGS_BAD = 0x8,
	/* C_WrapKey and C_UnwrapKey: CKR_FUNCTION_NOT_SUPPORTED, and no
	 * mechanism advertises CKF_WRAP or CKF_UNWRAP. */
	P11SHIM_CARD_NO_WRAP = 0x10,
	/* Secret-key mechanisms (RC2, RC4, DES, 3DES, AES, their key
	 * generation and key wraps, generic secrets) are hidden from
	 * C_GetMechanismList, CKR_MECHANISM_INVALID from C_GetMechanismInfo
	 * and refused at use; C_GenerateKey is CKR_FUNCTION_NOT_SUPPORTED and
	 * C_CreateObject of a CKO_SECRET_KEY CKR_TEMPLATE_INCONSISTENT. */
	P11SHIM_CARD_NO_SYMMETRIC = 0x20,
	/* C_GenerateKeyPair: CKR_FUNCTION_NOT_SUPPORTED, and the pair
	 * generation mechanisms (RSA, DSA and DH with their domain
	 * parameters, EC) hidden (a PIV card without the management key). */
	P11SHIM_CARD_NO_KEYGEN = 0x40,
	/* Every private key generated or created gets CKA_DECRYPT and
	 * CKA_SIGN TRUE whatever the template says: the template is rewritten
	 * on the way in; and C_GenerateKeyPair with a template that sets
	 * CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN or CKA_VERIFY FALSE is
	 * CKR_GENERAL_ERROR (tpm2-pkcs11). */
	P11SHIM_CARD_COUPLED_USAGE = 0x80,
	/* A private key both CKA_PRIVATE (or without it: private) and
	 * CKA_EXTRACTABLE TRUE is refused with CKR_ATTRIBUTE_VALUE_INVALID by
	 * C_GenerateKeyPair and C_CreateObject (tpm2-pkcs11). */
	P11SHIM_CARD_NO_EXTRACTABLE_PRIVATE = 0x100,
	/* RSA mechanisms are advertised without CKF_ENCRYPT, CKF_VERIFY,
	 * CKF_VERIFY_RECOVER and CKF_WRAP, and C_EncryptInit, C_VerifyInit
	 * and C_VerifyRecoverInit with them are CKR_MECHANISM_INVALID: the
	 * card does private-key operations only. */
	P11SHIM_CARD_NO_PUBLIC_OPS = 0x200,
	/* C_GenerateRandom and C_SeedRandom: CKR_RANDOM_NO_RNG; CKF_RNG
	 * cleared in C_GetTokenInfo. */
	P11SHIM_CARD_NO_RANDOM = 0x400,
	/* CKF_WRITE_PROTECTED in C_GetTokenInfo; C_CreateObject,
	 * C_CopyObject, C_GenerateKey, C_GenerateKeyPair, C_UnwrapKey,
	 * C_DestroyObject and C_SetAttributeValue: CKR_TOKEN_WRITE_PROTECTED.
	 * Read-write sessions still open, as capi11 needs one to log in. */
	P11SHIM_CARD_READ_ONLY = 0x800,
	/* C_GetInfo says what tpm2-pkcs11 says of itself: manufacturerID
	 * "tpm2-software.github.io", libraryDescription "TPM2.0 Cryptoki";
	 * C_GetTokenInfo names the TPM's maker as tpm2-pkcs11 does on swtpm:
	 * manufacturerID "IBM". capi11 reads the module's info when it first
	 * loads the module: set this bit before that. */
	P11SHIM_CARD_TPM_INFO = 0x1000,
	/* C_GetTokenInfo says what OpenSC says of a PIV card: manufacturerID
	 * "piv_II". The card's fixed key IDs (01 PIV authentication, 02
	 * digital signature, 03 key management, 04 card authentication) are
	 * the test's to create on the target before the profile is set. */
	P11SHIM_CARD_PIV_INFO = 0x2000,
	/* C_CreateObject of a CKO_PRIVATE_KEY: CKR_ATTRIBUTE_VALUE_INVALID
	 * (tpm2-pkcs11: "Can only create RSA Public key objects or data
	 * objects"). */
	P11SHIM_CARD_NO_PRIVATE_CREATE = 0x4000,
	/* DSA and Diffie-Hellman mechanisms (CKM_DSA*, their key pair and
	 * domain parameter generation, CKM_DH_PKCS_* and CKM_X9_42_DH_*) are
	 * hidden from C_GetMechanismList, CKR_MECHANISM_INVALID from
	 * C_GetMechanismInfo and refused at use: a token of RSA and EC only
	 * (tpm2-pkcs11). */
	P11SHIM_CARD_NO_DSA_DH = 0x8000,
};

/* A TPM behind tpm2-pkcs11. */
#define P11SHIM_PROFILE_TPM \
	(P11SHIM_CARD_NO_PUBLIC_DATA | P11SHIM_CARD_NO_WRAP | P11SHIM_CARD_NO_SYMMETRIC | \
	 P11SHIM_CARD_COUPLED_USAGE | P11SHIM_CARD_NO_EXTRACTABLE_PRIVATE | \
	 P11SHIM_CARD_NO_PRIVATE_CREATE | P11SHIM_CARD_TPM_INFO | P11SHIM_CARD_NO_DSA_DH)
/* A PIV card (or YubiKey) through OpenSC, without the management key. */
#define P11SHIM_PROFILE_PIV \
	(P11SHIM_CARD_NO_DATA | P11SHIM_CARD_NO_CREATE | P11SHIM_CARD_CREATE_ARGS_BAD | \
	 P11SHIM_CARD_NO_WRAP | P11SHIM_CARD_NO_SYMMETRIC | P11SHIM_CARD_NO_KEYGEN | \
	 P11SHIM_CARD_NO_PUBLIC_OPS | P11SHIM_CARD_NO_RANDOM | P11SHIM_CARD_PIV_INFO)
/* A card that says it is write-protected (an OpenSC CAC card). */
#define P11SHIM_PROFILE_READONLY_CARD \
	(P11SHIM_CARD_READ_ONLY | P11SHIM_CARD_NO_WRAP | P11SHIM_CARD_NO_SYMMETRIC | \
	 P11SHIM_CARD_NO_KEYGEN | P11SHIM_CARD_NO_PUBLIC_OPS | P11SHIM_CARD_NO_RANDOM)

/* Sets the card profile, a combination of P11SHIM_CARD_* (0: the target
 * as it is). p11shim_reset() sets 0. capi11 reads token and module info
 * when it first meets a token, so set a profile with *_INFO bits before
 * that. Not in struct p11shim_ops: resolve it with dlsym. */
void p11shim_set_profile(unsigned flags);

/* Makes C_GetOperationState answer itself, as a module that contradicts
 * itself: a size query (NULL buffer) gives query_len and CKR_OK; a call
 * with a buffer fills what fits of query_len bytes, then reports fetch_len
 * and returns fetch_rv. query_len 0 forwards the calls again; so does
 * p11shim_reset(). Not in struct p11shim_ops: resolve it with dlsym. */
void p11shim_lie_operation_state(CK_ULONG query_len, CK_ULONG fetch_len, CK_RV fetch_rv);

/* Makes the shim save and restore digests' states itself, as a token
 * that can (C_GetOperationState / C_SetOperationState on a digest; a
 * digest that took a key gives CKR_STATE_UNSAVEABLE): the state is the
 * mechanism and the data the digest took, which a restore feeds to the
 * target again. The shim records digests all the time; this decides
 * whether it answers those two calls itself. p11shim_reset() turns it
 * off. Not in struct p11shim_ops: resolve it with dlsym. */
void p11shim_emulate_digest_state(bool on);

/* Calls the profile answered itself since the last reset (refusals and
 * rewritten templates). Not in struct p11shim_ops: resolve it with dlsym. */
unsigned long p11shim_profile_hits(void);

/* The control functions as tests see them once resolved with dlsym. */
struct p11shim_ops {
	void (*reset)(void);
	unsigned long (*count)(const char *fn);
	unsigned long (*total)(void);
	void (*fail)(const char *fn, unsigned long nth, CK_RV rv);
	void (*tamper_length)(unsigned long nth, int mode);
	void (*set_pinpad)(const char *pin);
	void (*set_token_absent)(bool absent);
	void (*set_removable)(bool removable);
};

#endif
