/* Entry points for data and key parameters: argument checks, handle
 * lookup, last error. */
#include "config.h"
#include "api.h"
#include "cipher.h"
#include "key.h"
#include "util.h"

#include <wincrypt.h>

/* capi11 has no hash objects yet: any hHash names nothing, which is
 * ERROR_INVALID_PARAMETER like every other handle that names nothing
 * (SPEC section 2). */
static DWORD api_check_hash(HCRYPTHASH hHash)
{
	return hHash == 0 ? ERROR_SUCCESS : ERROR_INVALID_PARAMETER;
}

BOOL CryptEncrypt(HCRYPTKEY hKey, HCRYPTHASH hHash, BOOL Final, DWORD dwFlags, BYTE *pbData,
		  DWORD *pdwDataLen, DWORD dwBufLen)
{
	struct key *key;
	DWORD err;

	if (pdwDataLen == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = key_get_locked(hKey, &key);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = api_check_hash(hHash);
	if (err == ERROR_SUCCESS)
		err = cipher_encrypt_flags_locked(key, Final != FALSE, dwFlags, pbData, pdwDataLen,
						  dwBufLen);
	key_put_locked(key);
	return api_finish(__func__, err);
}

BOOL CryptDecrypt(HCRYPTKEY hKey, HCRYPTHASH hHash, BOOL Final, DWORD dwFlags, BYTE *pbData,
		  DWORD *pdwDataLen)
{
	struct key *key;
	DWORD err;

	if (pdwDataLen == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = key_get_locked(hKey, &key);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = api_check_hash(hHash);
	if (err == ERROR_SUCCESS)
		err = cipher_decrypt_flags_locked(key, Final != FALSE, dwFlags, pbData, pdwDataLen);
	key_put_locked(key);
	return api_finish(__func__, err);
}

BOOL CryptSetKeyParam(HCRYPTKEY hKey, DWORD dwParam, const BYTE *pbData, DWORD dwFlags)
{
	struct key *key;
	DWORD err;

	if (pbData == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = key_get_locked(hKey, &key);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = dwFlags != 0 ? NTE_BAD_FLAGS : key_set_param_locked(key, dwParam, pbData);
	key_put_locked(key);
	return api_finish(__func__, err);
}
