/* Entry points for data and key parameters: argument checks, handle
 * lookup, last error. */
#include "config.h"
#include "api.h"
#include "cipher.h"
#include "hash.h"
#include "key.h"
#include "util.h"

#include <string.h>
#include <wincrypt.h>

/* The hash named by hHash (NULL for 0), of the key's context: one lock
 * guards both. Any other value is ERROR_INVALID_PARAMETER (SPEC section
 * 2). A hash that takes no data fails the call before anything is
 * encrypted or decrypted, as rsaenh hashes first. */
static DWORD api_get_hash(HCRYPTHASH hHash, struct key *key, struct hash **out)
{
	DWORD err;

	*out = NULL;
	if (hHash == 0)
		return ERROR_SUCCESS;
	err = hash_get_in_locked(hHash, key->ctx, out);
	if (err == ERROR_SUCCESS)
		err = hash_check_data_locked(*out);
	return err;
}

BOOL CryptEncrypt(HCRYPTKEY hKey, HCRYPTHASH hHash, BOOL Final, DWORD dwFlags, BYTE *pbData,
		  DWORD *pdwDataLen, DWORD dwBufLen)
{
	struct key *key;
	struct hash *hash = NULL;
	BYTE *plain = NULL;
	DWORD err, plain_len = 0;

	if (pdwDataLen == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = key_get_locked(hKey, &key);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = api_get_hash(hHash, key, &hash);
	/* The plaintext is hashed, as Windows does; it is encrypted in place,
	 * so a copy waits for the encryption to succeed. */
	if (err == ERROR_SUCCESS && hash != NULL && pbData != NULL && *pdwDataLen > 0) {
		plain_len = *pdwDataLen;
		plain = capi11_malloc(plain_len);
		if (plain == NULL)
			err = NTE_NO_MEMORY;
		else
			memcpy(plain, pbData, plain_len);
	}
	if (err == ERROR_SUCCESS)
		err = cipher_encrypt_flags_locked(key, Final != FALSE, dwFlags, pbData, pdwDataLen,
						  dwBufLen);
	if (err == ERROR_SUCCESS && plain != NULL)
		err = hash_data_locked(hash, plain, plain_len);
	capi11_free_secret(plain, plain_len);
	key_put_locked(key);
	hash_unref(hash);
	return api_finish(__func__, err);
}

BOOL CryptDecrypt(HCRYPTKEY hKey, HCRYPTHASH hHash, BOOL Final, DWORD dwFlags, BYTE *pbData,
		  DWORD *pdwDataLen)
{
	struct key *key;
	struct hash *hash = NULL;
	DWORD err;

	if (pdwDataLen == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = key_get_locked(hKey, &key);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = api_get_hash(hHash, key, &hash);
	if (err == ERROR_SUCCESS)
		err = cipher_decrypt_flags_locked(key, Final != FALSE, dwFlags, pbData, pdwDataLen);
	/* The plaintext is hashed once it exists. */
	if (err == ERROR_SUCCESS && hash != NULL && pbData != NULL)
		err = hash_data_locked(hash, pbData, *pdwDataLen);
	key_put_locked(key);
	hash_unref(hash);
	return api_finish(__func__, err);
}

BOOL CryptSetKeyParam(HCRYPTKEY hKey, DWORD dwParam, const BYTE *pbData, DWORD dwFlags)
{
	struct key *key;
	DWORD err;

	/* KP_X with no data makes a CRYPT_PREGEN key's pair (dh.h). */
	if (pbData == NULL && dwParam != KP_X)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = key_get_locked(hKey, &key);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	/* Whatever the parameter, the kept SIMPLEBLOB size is not trusted
	 * after it (export.c). */
	atomic_store(&key->simple_size, 0);
	err = dwFlags != 0 ? NTE_BAD_FLAGS : key_set_param_locked(key, dwParam, pbData);
	key_put_locked(key);
	return api_finish(__func__, err);
}
