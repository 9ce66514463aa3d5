/* Tokens: found by RFC 7512 URI (or the first of the registered modules),
 * their facts, mechanisms and quirks. Part of the token layer, the only
 * code that calls PKCS#11 (module.c loads modules, session.c leases
 * sessions and logs in, token-ops.c works on a session, p11call.c holds
 * the one table of C_* calls). Everything here returns CK_RV. */
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
/* The token that uri names in the module at path, the module initialised
 * with the LibraryParameters string params (module_load_path_params; it
 * must live as long as the process). The URI's own module attributes are
 * not read. */
CK_RV token_open_module_params(const char *path, const char *params, P11KitUri *uri,
			       struct token **out);
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

/* What the token says of a mechanism, cached per token: CKR_MECHANISM_INVALID
 * when it does not have it. */
CK_RV token_mechanism_info(struct token *tok, CK_MECHANISM_TYPE mech, CK_MECHANISM_INFO *info);
/* The range of key sizes, in bits, of an RSA mechanism (min 0 and max 0:
 * the token does not say). PKCS#11 gives them in bits; a few tokens give
 * bytes, which the quirks table (quirks.h) says or, for a token it does not
 * know, a maximum below 64 betrays. */
CK_RV token_rsa_bits_range(struct token *tok, CK_MECHANISM_TYPE mech, CK_ULONG *min_bits,
			   CK_ULONG *max_bits);
/* Whether a secret key template of C_CreateObject or C_UnwrapKey may hold
 * CKA_VALUE_LEN; SoftHSM refuses it (CKR_ATTRIBUTE_READ_ONLY), so the
 * length of a key it unwrapped comes from aiKeyAlg. */
bool token_takes_value_len(const struct token *tok);
/* The longest RC2 key the token makes, in bytes (CKM_RC2_KEY_GEN's
 * ulMaxKeySize, bits unless the quirks table says bytes); 0: no RC2. */
CK_ULONG token_rc2_max_bytes(struct token *tok);
/* Whether the token has CKK_DES2 keys. Where it has not (QUIRK_NO_DES2),
 * a CALG_3DES_112 key K1|K2 is held as the CKK_DES3 key K1|K2|K1. */
bool token_has_des2(const struct token *tok);
/* Whether every private key of the token both decrypts and signs, so
 * that usages cannot tell AT_KEYEXCHANGE from AT_SIGNATURE
 * (QUIRK_COUPLED_USAGE). */
bool token_couples_usage(const struct token *tok);
/* Whether the token's keys sit at the PIV card's fixed CKA_IDs
 * (QUIRK_PIV_KEY_IDS). */
bool token_has_piv_key_ids(const struct token *tok);

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

/* Whether the token says it has a random number generator (CKF_RNG). */
bool token_has_rng(const struct token *tok);

/* Whether the token says it is write-protected (CKF_WRITE_PROTECTED):
 * nothing can be stored on it, not even a session object on some cards. */
bool token_is_write_protected(const struct token *tok);

/* What a token does that only an attempt can tell, learnt from the first
 * answer and kept for the process (the mechanisms come from
 * token_mechanism_info). A route asks before it tries, and tells the token
 * what it saw after, so that a refusal is paid for once per token, not on
 * every call. */
enum token_cap {
	TOKEN_CAP_WRAP = 0,            /* C_WrapKey */
	TOKEN_CAP_UNWRAP,              /* C_UnwrapKey */
	TOKEN_CAP_GENERATE_KEY,        /* C_GenerateKey */
	TOKEN_CAP_GENERATE_KEY_PAIR,   /* C_GenerateKeyPair */
	TOKEN_CAP_RANDOM,              /* C_GenerateRandom */
	TOKEN_CAP_CREATE_DATA_PUBLIC,  /* C_CreateObject of a public CKO_DATA */
	TOKEN_CAP_CREATE_DATA_PRIVATE, /* ... of a private CKO_DATA */
	TOKEN_CAP_CREATE_PUBLIC_KEY,   /* ... of a CKO_PUBLIC_KEY */
	TOKEN_CAP_CREATE_PRIVATE_KEY,  /* ... of a CKO_PRIVATE_KEY */
	TOKEN_CAP_CREATE_SECRET_KEY,   /* ... of a CKO_SECRET_KEY */
	/* A private key both CKA_PRIVATE and CKA_EXTRACTABLE. */
	TOKEN_CAP_EXTRACTABLE_PRIVATE,
	TOKEN_CAP_COUNT
};
enum token_cap_state {
	TOKEN_CAP_UNKNOWN = 0,         /* never tried: try */
	TOKEN_CAP_YES,                 /* it did it once */
	TOKEN_CAP_NO,                  /* it refused, in a way that says it never will */
};
enum token_cap_state token_cap(const struct token *tok, enum token_cap cap);
/* Records what an attempt of cap returned: CKR_OK makes it YES; a
 * refusal of the function or of the template's shape
 * (token_rv_is_refusal) makes it NO unless it was once YES; anything else
 * (a PIN, a full token, a lost session) says nothing of the token's
 * abilities and is ignored. The quirks table may have fixed a cap at NO
 * when the token was opened. */
void token_cap_learn(struct token *tok, enum token_cap cap, CK_RV rv);
/* Fills in, once per token, what its mechanism list tells without an
 * attempt: no mechanism with CKF_WRAP (CKF_UNWRAP, CKF_GENERATE,
 * CKF_GENERATE_KEY_PAIR) makes that capability NO, and a token without
 * CKF_RNG has no random generator. Answers already learnt are kept. A
 * module that does not list its mechanisms teaches nothing. For the
 * capabilities a provider reports (PP_CAPI11_TOKEN_CAPS); the routes ask
 * the mechanisms themselves. */
void token_caps_probe(struct token *tok);
/* The name of a capability, for traces and capi11-tool list --json. */
const char *token_cap_name(enum token_cap cap);
/* Whether rv is a refusal that says the token will never do what was
 * asked in this shape: CKR_FUNCTION_NOT_SUPPORTED, CKR_ARGUMENTS_BAD,
 * CKR_TEMPLATE_INCONSISTENT, CKR_TEMPLATE_INCOMPLETE,
 * CKR_ATTRIBUTE_VALUE_INVALID, CKR_ATTRIBUTE_TYPE_INVALID,
 * CKR_ATTRIBUTE_READ_ONLY, CKR_MECHANISM_INVALID, CKR_KEY_TYPE_INCONSISTENT,
 * CKR_TOKEN_WRITE_PROTECTED, CKR_SESSION_READ_ONLY, CKR_RANDOM_NO_RNG. */
bool token_rv_is_refusal(CK_RV rv);

#endif
