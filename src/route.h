/* Routes that the main token cannot serve. Windows' smart card CSP hands
 * session keys, public-key operations and random numbers to a software
 * CSP beside the card; capi11's equivalent is a companion PKCS#11 token
 * (SPEC section 7). Until one is there, every such route ends here, with
 * one documented answer: NTE_NOT_SUPPORTED, the token's refusal behind it
 * recorded for Capi11GetLastPkcs11Error and traced. The companion token
 * redirects these routes in this one place. */
#ifndef CAPI11_ROUTE_H
#define CAPI11_ROUTE_H

#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <wincrypt.h>

struct token;

enum route_need {
	ROUTE_SESSION_KEY = 0,   /* make, import or use a symmetric session key */
	ROUTE_PUBLIC_KEY,        /* hold a partner's public key (PUBLICKEYBLOB) */
	ROUTE_PUBLIC_OP,         /* encrypt or wrap with an RSA public key */
	ROUTE_UNWRAP,            /* unwrap a SIMPLEBLOB's key */
	ROUTE_RANDOM,            /* random numbers (CryptGenRandom) */
};

/* Whether the token holds session keys at all: it makes AES or DES keys
 * (C_GetMechanismInfo of their key generation). A token that lacks just
 * one algorithm (SoftHSM without RC2) still does; a card without any
 * does not, and every session key of it is the companion's. */
bool route_token_has_session_keys(struct token *tok);

/* The answer of a route that needs the companion token; cause is what
 * the token said (or would say), recorded against fn. Always
 * NTE_NOT_SUPPORTED today. */
DWORD route_needs_companion(enum route_need need, CK_RV cause);

#endif
