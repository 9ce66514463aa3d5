/* Entry point of the security officer's step (a capi11 extension):
 * argument checks, handle lookup, last error. */
#include "config.h"
#include "api.h"
#include "context.h"
#include "key.h"
#include "trust.h"

#include <wincrypt.h>

BOOL Capi11TrustKeyA(HCRYPTPROV hProv, const BYTE *pbData, DWORD dwDataLen, LPCSTR szSoPin,
		     LPCSTR szUserPin, DWORD dwFlags, HCRYPTKEY *phKey)
{
	struct context *ctx;
	struct key *key = NULL;
	HCRYPTKEY unused;
	DWORD err;

	if (pbData == NULL || dwDataLen == 0 || szSoPin == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	if (dwFlags != 0)
		return api_finish(__func__, NTE_BAD_FLAGS);
	err = context_get_locked(hProv, &ctx);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = trust_import_locked(ctx, pbData, dwDataLen, szSoPin, szUserPin, &key);
	if (err == ERROR_SUCCESS)
		err = key_register_locked(key, phKey != NULL ? phKey : &unused);
	context_put_locked(ctx);
	key_unref(key);
	if (err == ERROR_SUCCESS && phKey == NULL)
		CryptDestroyKey(unused);
	return api_finish(__func__, err);
}
