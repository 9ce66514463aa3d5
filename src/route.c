/* Routes the main token cannot serve: see route.h. */
#include "config.h"
#include "route.h"
#include "p11call.h"
#include "token.h"
#include "trace.h"

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

bool route_token_has_session_keys(struct token *tok)
{
	static const CK_MECHANISM_TYPE gens[] = {
		CKM_AES_KEY_GEN, CKM_DES3_KEY_GEN, CKM_DES2_KEY_GEN, CKM_DES_KEY_GEN,
	};
	CK_MECHANISM_INFO info;

	for (size_t i = 0; i < sizeof gens / sizeof gens[0]; i++) {
		if (token_mechanism_info(tok, gens[i], &info) == CKR_OK &&
		    (info.flags & CKF_GENERATE))
			return true;
	}
	return false;
}

DWORD route_needs_companion(enum route_need need, CK_RV cause)
{
	if ((unsigned)need >= sizeof needs / sizeof needs[0])
		return NTE_NOT_SUPPORTED;
	trace_message("no route for %s on this token without a companion token: NTE_NOT_SUPPORTED",
		      needs[need].what);
	p11call_note_refusal(needs[need].fn, cause != CKR_OK ? cause : CKR_FUNCTION_NOT_SUPPORTED);
	return NTE_NOT_SUPPORTED;
}
