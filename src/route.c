/* Routes the main token cannot serve: see route.h. */
#include "config.h"
#include "route.h"
#include "context.h"
#include "dh.h"
#include "dss.h"
#include "p11call.h"
#include "token.h"
#include "trace.h"

#include <stdio.h>

static const struct {
	const char *what;
	enum p11_id fn;          /* the call that the token refused or lacks */
} needs[] = {
	[ROUTE_SESSION_KEY] = { "a session key", P11_C_GenerateKey },
	[ROUTE_PUBLIC_KEY] = { "a partner's public key", P11_C_CreateObject },
	[ROUTE_PUBLIC_OP] = { "a public-key operation", P11_C_EncryptInit },
	[ROUTE_UNWRAP] = { "a SIMPLEBLOB's key", P11_C_UnwrapKey },
	[ROUTE_RANDOM] = { "random numbers", P11_C_GenerateRandom },
};

DWORD route_needs_companion(enum route_need need, CK_RV cause)
{
	if ((unsigned)need >= sizeof needs / sizeof needs[0])
		return NTE_NOT_SUPPORTED;
	trace_message("no route for %s on this token without a companion token: NTE_NOT_SUPPORTED",
		      needs[need].what);
	p11call_note_refusal(needs[need].fn, cause != CKR_OK ? cause : CKR_FUNCTION_NOT_SUPPORTED);
	return NTE_NOT_SUPPORTED;
}

/* Whether tok has mech with every flag of use, and has not refused cap
 * (TOKEN_CAP_COUNT: no capability to ask). */
static bool token_does(struct token *tok, CK_MECHANISM_TYPE mech, CK_FLAGS use,
		       enum token_cap cap)
{
	CK_MECHANISM_INFO info;

	if (cap != TOKEN_CAP_COUNT && token_cap(tok, cap) == TOKEN_CAP_NO)
		return false;
	if (mech == CK_UNAVAILABLE_INFORMATION)
		return true;
	return token_mechanism_info(tok, mech, &info) == CKR_OK && (info.flags & use) == use;
}

DWORD route_describe_locked(struct context *ctx, char *text, size_t len)
{
	struct token *tok = ctx->ts.tok, *ctok = NULL;
	struct tsession *cts;
	bool protected_ = token_is_write_protected(tok);
	const char *companion = "none";
	bool on[11], comp[11];
	static const char *const names[11] = {
		"session-key", "simpleblob-import", "rsa-encrypt", "public-key-import", "random",
		"key-pair", "private-key-import", "dss-key-pair", "dss-public-key-import",
		"dh-key-pair", "dh-ephem",
	};
	DWORD dss_min, dss_max, dh_min, dh_max;
	size_t used = 0;
	int n;

	if (context_has_companion_locked(ctx)) {
		if (context_companion_locked(ctx, &cts) == ERROR_SUCCESS) {
			ctok = cts->tok;
			companion = token_label(ctok);
		} else {
			companion = "unavailable";
		}
	}
	/* What the main token does (the routes try it first) ... */
	on[0] = token_does(tok, CKM_AES_KEY_GEN, CKF_GENERATE, TOKEN_CAP_GENERATE_KEY);
	on[1] = on[0] && token_does(tok, CKM_RSA_PKCS, CKF_UNWRAP, TOKEN_CAP_UNWRAP);
	on[2] = token_does(tok, CKM_RSA_PKCS, CKF_ENCRYPT, TOKEN_CAP_COUNT);
	on[3] = token_does(tok, CK_UNAVAILABLE_INFORMATION, 0, TOKEN_CAP_CREATE_PUBLIC_KEY);
	on[4] = token_has_rng(tok) && token_does(tok, CK_UNAVAILABLE_INFORMATION, 0, TOKEN_CAP_RANDOM);
	on[5] = !protected_ && token_does(tok, CKM_RSA_PKCS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR,
					  TOKEN_CAP_GENERATE_KEY_PAIR);
	on[6] = !protected_ && token_does(tok, CK_UNAVAILABLE_INFORMATION, 0,
					  TOKEN_CAP_CREATE_PRIVATE_KEY);
	/* DSS: pairs where the token makes DSA pairs (dss.c), a partner's
	 * public key where CKM_DSA verifies and public keys may be held. */
	on[7] = !protected_ && dss_token_bits(tok, &dss_min, &dss_max);
	on[8] = dss_token_verifies(tok) &&
		token_does(tok, CK_UNAVAILABLE_INFORMATION, 0, TOKEN_CAP_CREATE_PUBLIC_KEY);
	/* DH (dh.c): the container's pair (CALG_DH_SF) where the token makes
	 * and agrees with DH pairs; an ephemeral pair, a session object, the
	 * same way. */
	on[9] = !protected_ && dh_token_bits(ctx, &dh_min, &dh_max);
	on[10] = dh_token_bits(ctx, &dh_min, &dh_max);
	/* ... and what the companion takes over: the SIMPLEBLOB's key is
	 * decrypted by the main token's exchange key and held there. Key pairs
	 * and private keys belong to the container, on the main token only. */
	comp[0] = ctok != NULL && token_does(ctok, CKM_AES_KEY_GEN, CKF_GENERATE, TOKEN_CAP_GENERATE_KEY);
	comp[1] = comp[0] && token_does(tok, CKM_RSA_PKCS, CKF_DECRYPT, TOKEN_CAP_COUNT);
	comp[2] = ctok != NULL && token_does(ctok, CKM_RSA_PKCS, CKF_ENCRYPT, TOKEN_CAP_COUNT);
	comp[3] = comp[2];
	comp[4] = ctok != NULL && token_has_rng(ctok);
	comp[5] = comp[6] = comp[7] = false;
	comp[8] = ctok != NULL && dss_token_verifies(ctok);
	/* An ephemeral pair, and the agreement with it, on the companion:
	 * of new parameters only where it makes them too (NSS's softokn
	 * does not), else of CRYPT_PREGEN's. */
	comp[9] = false;
	comp[10] = ctok != NULL && dh_token_pairs_on(ctx, ctok, &dh_min, &dh_max);
	for (int i = 0; i < 11; i++) {
		const char *route = on[i] ? "token"
				    : comp[i] ? (i == 1 ? "token-decrypt+companion" : "companion")
				    : "none";

		n = snprintf(text + used, len - used, "%s=%s ", names[i], route);
		if (n < 0 || (size_t)n >= len - used)
			return NTE_FAIL;
		used += (size_t)n;
	}
	/* The label last: it may hold blanks. */
	n = snprintf(text + used, len - used, "companion=%s", companion);
	if (n < 0 || (size_t)n >= len - used)
		return NTE_FAIL;
	return ERROR_SUCCESS;
}
