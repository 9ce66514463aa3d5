/* Tracing to standard error, off unless the configuration's trace key
 * asks for it: 1 failed API calls, 2 every API call, 3 every PKCS#11 call
 * as well. Only function names, result codes and the PKCS#11 arguments
 * that the call table names are traced (handles, mechanisms, counts,
 * lengths): never a PIN, a key byte, or caller data. */
#ifndef CAPI11_TRACE_H
#define CAPI11_TRACE_H

#include <wincrypt.h>
#include <p11-kit/pkcs11.h>
#include <stdbool.h>

/* The configuration's level; $CAPI11_TRACE, when set, raises it, so that
 * an operator can trace a program whose configuration does not parse. */
void trace_set_level(unsigned level);

/* A line about capi11's own state, traced from level 1. */
void trace_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Which token serves an operation that the provider's token cannot do (a
 * companion route), traced from level 2, with every API call. */
void trace_route(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line that quotes a PKCS#11 URI, traced from level: what, ": ", then
 * the URI with every pin-value shown as "***" (uri_redact in uri.h). Every
 * trace of a URI goes through here. */
void trace_uri(unsigned level, const char *what, const char *uri);

/* A CryptoAPI entry point's result. */
void trace_api(const char *fn, DWORD err);
/* Whether lines of that level are traced now. */
bool trace_enabled(unsigned at);
/* A PKCS#11 call's result, with what the call table (p11call.h) says of
 * its arguments (may be ""). */
void trace_ckr(const char *fn, CK_RV rv, const char *detail);

#endif
