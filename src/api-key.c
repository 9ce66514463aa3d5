/* Entry points for keys: argument checks, handle lookup, last error. */
#include "config.h"
#include "api.h"
#include "context.h"
#include "key.h"
#include "util.h"

#include <wincrypt.h>

BOOL CryptGenKey(HCRYPTPROV hProv, ALG_ID Algid, DWORD dwFlags, HCRYPTKEY *phKey)
{
	struct context *ctx;
	struct key *key = NULL;
	DWORD err;

	if (phKey == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = context_get_locked(hProv, &ctx);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = key_generate_locked(ctx, Algid, dwFlags, &key);
	if (err == ERROR_SUCCESS)
		err = key_register_locked(key, phKey);
	context_put_locked(ctx);
	/* Registered or not, this reference was the maker's. */
	key_unref(key);
	return api_finish(__func__, err);
}

BOOL CryptGetUserKey(HCRYPTPROV hProv, DWORD dwKeySpec, HCRYPTKEY *phUserKey)
{
	struct context *ctx;
	struct key *key = NULL;
	DWORD err;

	if (phUserKey == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = context_get_locked(hProv, &ctx);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = key_get_user_locked(ctx, dwKeySpec, &key);
	if (err == ERROR_SUCCESS)
		err = key_register_locked(key, phUserKey);
	context_put_locked(ctx);
	key_unref(key);
	return api_finish(__func__, err);
}

BOOL CryptDestroyKey(HCRYPTKEY hKey)
{
	return api_finish(__func__, key_destroy(hKey));
}

BOOL CryptDuplicateKey(HCRYPTKEY hKey, DWORD *pdwReserved, DWORD dwFlags, HCRYPTKEY *phKey)
{
	struct key *key, *copy = NULL;
	DWORD err;

	if (pdwReserved != NULL || dwFlags != 0 || phKey == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = key_get_locked(hKey, &key);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = key_duplicate_locked(key, &copy);
	if (err == ERROR_SUCCESS)
		err = key_register_locked(copy, phKey);
	key_put_locked(key);
	key_unref(copy);
	return api_finish(__func__, err);
}

BOOL CryptGetKeyParam(HCRYPTKEY hKey, DWORD dwParam, BYTE *pbData, DWORD *pdwDataLen,
		      DWORD dwFlags)
{
	struct key *key;
	DWORD err;

	if (pdwDataLen == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = key_get_locked(hKey, &key);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = dwFlags != 0 ? NTE_BAD_FLAGS : key_get_param_locked(key, dwParam, pbData, pdwDataLen);
	key_put_locked(key);
	return api_finish(__func__, err);
}
