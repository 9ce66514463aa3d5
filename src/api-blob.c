/* Entry points for key blobs: argument checks, handle lookup, last error. */
#include "config.h"
#include "context.h"
#include "export.h"
#include "import.h"
#include "key.h"
#include "trace.h"
#include "util.h"

#include <wincrypt.h>

BOOL CryptExportKey(HCRYPTKEY hKey, HCRYPTKEY hExpKey, DWORD dwBlobType, DWORD dwFlags,
		    BYTE *pbData, DWORD *pdwDataLen)
{
	struct key *key, *exp = NULL;
	DWORD err;

	if (pdwDataLen == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	key = key_lookup(hKey);
	if (key == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	/* 0 means "no key", judged by the blob rules; anything else must be
	 * a live key (SPEC section 2). */
	if (hExpKey != 0) {
		exp = key_lookup(hExpKey);
		if (exp == NULL) {
			key_unref(key);
			return api_finish(__func__, ERROR_INVALID_PARAMETER);
		}
	}
	/* Only key's context is locked: the routes that use hExpKey read its
	 * fixed fields, never its context's state. */
	err = context_lock(key->ctx);
	if (err == ERROR_SUCCESS) {
		err = export_key_locked(key, exp, dwBlobType, dwFlags, pbData, pdwDataLen);
		context_unlock(key->ctx);
	}
	key_unref(exp);
	key_unref(key);
	return api_finish(__func__, err);
}

BOOL CryptImportKey(HCRYPTPROV hProv, const BYTE *pbData, DWORD dwDataLen, HCRYPTKEY hPubKey,
		    DWORD dwFlags, HCRYPTKEY *phKey)
{
	struct context *ctx;
	struct key *pub = NULL, *key = NULL;
	DWORD err;

	if (pbData == NULL || dwDataLen == 0 || phKey == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	ctx = context_lookup(hProv);
	if (ctx == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	if (hPubKey != 0) {
		pub = key_lookup(hPubKey);
		if (pub == NULL) {
			context_unref(ctx);
			return api_finish(__func__, ERROR_INVALID_PARAMETER);
		}
	}
	err = context_lock(ctx);
	if (err == ERROR_SUCCESS) {
		err = import_key_locked(ctx, pbData, dwDataLen, pub, dwFlags, &key);
		if (err == ERROR_SUCCESS)
			err = key_register_locked(key, phKey);
		context_unlock(ctx);
	}
	/* Registered or not, this reference was the maker's. */
	key_unref(key);
	key_unref(pub);
	context_unref(ctx);
	return api_finish(__func__, err);
}
