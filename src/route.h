/* Routes that the main token cannot serve. Windows' smart card CSP hands
 * session keys, public-key operations and random numbers to a software
 * CSP beside the card; capi11's equivalent is a companion PKCS#11 token
 * (companion.h, capi11.conf(5)). A route that neither token serves ends
 * with one documented answer, route_needs_companion; route_describe_locked
 * tells which token each operation of a context will use. */
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

/* The answer of a route that needs a companion token where there is none
 * (or it cannot do it either): NTE_NOT_SUPPORTED, with cause, what the
 * token said (or would say), recorded against the call it refused, for
 * Capi11GetLastPkcs11Error, and traced. */
DWORD route_needs_companion(enum route_need need, CK_RV cause);

struct context;

/* PP_CAPI11_ROUTES (wincrypt.h): which token each operation of ctx will
 * take, as "name=route" words separated by one space, written into text
 * (len bytes, NUL-terminated). Decided as the routes decide: from the
 * token's mechanisms and their CKF_ flags, what attempts taught
 * (token_cap), and the provider's companion, which is opened to be named.
 * With the context locked. Errors: NTE_FAIL when text is too short. */
DWORD route_describe_locked(struct context *ctx, char *text, size_t len);

#endif
