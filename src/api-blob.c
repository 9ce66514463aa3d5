/* Entry points for key blobs: argument checks, handle lookup, last error. */
#include "config.h"
#include "api.h"
#include "container-lock.h"
#include "context.h"
#include "export.h"
#include "import.h"
#include "key.h"
#include "util.h"

#include <wincrypt.h>


BOOL CryptExportKey(HCRYPTKEY hKey, HCRYPTKEY hExpKey, DWORD dwBlobType, DWORD dwFlags,
		    BYTE *pbData, DWORD *pdwDataLen)
{
	struct key *key, *exp = NULL;
	DWORD err;

	if (pdwDataLen == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	if (pbData == NULL && dwBlobType == SIMPLEBLOB && hExpKey != 0 &&
	    export_simple_size_fast(hKey, hExpKey, dwFlags, pdwDataLen))
		return api_finish(__func__, ERROR_SUCCESS);
	/* Only key's context is locked: the routes that use hExpKey read its
	 * fixed fields, never its context's state; the one that encrypts
	 * with it (PRIVATEKEYBLOB) takes it from key's own context only. */
	err = key_get_locked(hKey, &key);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	/* 0 means "no key", judged by the blob rules; anything else must be
	 * a live key (SPEC section 2). */
	if (hExpKey != 0 && (exp = key_lookup_other(hExpKey)) == NULL)
		err = ERROR_INVALID_PARAMETER;
	else
		err = export_key_locked(key, exp, dwBlobType, dwFlags, pbData, pdwDataLen);
	key_put_locked(key);
	key_unref(exp);
	return api_finish(__func__, err);
}

/* A private key blob goes into the container's slot, replacing its pair:
 * a change of the container, serialised across processes
 * (container-lock.h). The lock is never held across a PIN prompt: it is
 * taken when the token is logged in after trying the PIN the context
 * already has; an import that must prompt runs as before, unlocked. */
static DWORD import_lock_locked(struct context *ctx, const BYTE *data,
				struct container_lock *lock)
{
	DWORD err;

	lock->fd = -1;
	if (ctx->verify || (data[0] != PRIVATEKEYBLOB && data[0] != OPAQUEKEYBLOB))
		return ERROR_SUCCESS;
	err = context_login_locked(ctx, false);
	if (err == NTE_SILENT_CONTEXT)
		return ERROR_SUCCESS;
	if (err != ERROR_SUCCESS)
		return err;
	return container_lock_take(ctx->ts.tok, ctx->container, lock);
}

BOOL CryptImportKey(HCRYPTPROV hProv, const BYTE *pbData, DWORD dwDataLen, HCRYPTKEY hPubKey,
		    DWORD dwFlags, HCRYPTKEY *phKey)
{
	struct context *ctx;
	struct key *pub = NULL, *key = NULL;
	struct container_lock lock = { -1 };
	DWORD err;

	if (pbData == NULL || dwDataLen == 0 || phKey == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = context_get_locked(hProv, &ctx);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	if (hPubKey != 0 && (pub = key_lookup_other(hPubKey)) == NULL)
		err = ERROR_INVALID_PARAMETER;
	else if ((err = import_lock_locked(ctx, pbData, &lock)) == ERROR_SUCCESS)
		err = import_key_locked(ctx, pbData, dwDataLen, pub, dwFlags, &key);
	container_lock_release(&lock);
	if (err == ERROR_SUCCESS)
		err = key_register_locked(key, phKey);
	context_put_locked(ctx);
	/* Registered or not, this reference was the maker's. */
	key_unref(key);
	key_unref(pub);
	return api_finish(__func__, err);
}
