/* What every CryptoAPI entry point (api-*.c) shares: the way it ends. */
#ifndef CAPI11_API_H
#define CAPI11_API_H

#include <wincrypt.h>

/* Ends an entry point: TRUE, or FALSE with err as the last error; traced.
 * A failure keeps the PKCS#11 call behind it for Capi11GetLastPkcs11Error. */
BOOL api_finish(const char *fn, DWORD err);

/* CryptAcquireContextA/W after their names are UTF-8: argument checks in
 * Windows' order, the context, and ERROR_SUCCESS as the last error. */
BOOL api_acquire(const char *fn, HCRYPTPROV *phProv, const char *container, const char *provider,
		 DWORD type, DWORD flags);

#endif
