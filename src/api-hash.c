/* Entry points for hash objects and signatures: argument checks, handle
 * lookup, last error. */
#include "config.h"
#include "api.h"
#include "context.h"
#include "derive.h"
#include "hash.h"
#include "key.h"
#include "sign.h"
#include "util.h"

#include <wincrypt.h>

BOOL CryptCreateHash(HCRYPTPROV hProv, ALG_ID Algid, HCRYPTKEY hKey, DWORD dwFlags,
		     HCRYPTHASH *phHash)
{
	struct context *ctx;
	struct key *key = NULL;
	struct hash *hash = NULL;
	DWORD err;

	if (phHash == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	/* A non-zero hKey must name a live key, as every handle must
	 * (SPEC section 2); whether it belongs here is the algorithm's rule. */
	if (hKey != 0 && (key = key_lookup_other(hKey)) == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = context_get_locked(hProv, &ctx);
	if (err == ERROR_SUCCESS) {
		err = hash_create_locked(ctx, Algid, key, dwFlags, &hash);
		if (err == ERROR_SUCCESS)
			err = hash_register_locked(hash, phHash);
		context_put_locked(ctx);
	}
	/* Registered or not, this reference was the maker's. */
	hash_unref(hash);
	key_unref(key);
	return api_finish(__func__, err);
}

BOOL CryptHashData(HCRYPTHASH hHash, const BYTE *pbData, DWORD dwDataLen, DWORD dwFlags)
{
	struct hash *hash;
	DWORD err;

	err = hash_get_locked(hHash, &hash);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	if (pbData == NULL && dwDataLen != 0)
		err = ERROR_INVALID_PARAMETER;
	else if (dwFlags & ~(DWORD)CRYPT_USERDATA)
		/* CRYPT_USERDATA is accepted and changes nothing, as in
		 * Microsoft's providers. */
		err = NTE_BAD_FLAGS;
	else
		err = hash_data_locked(hash, pbData, dwDataLen);
	hash_put_locked(hash);
	return api_finish(__func__, err);
}

BOOL CryptHashSessionKey(HCRYPTHASH hHash, HCRYPTKEY hKey, DWORD dwFlags)
{
	struct hash *hash;
	struct key *key = key_lookup_other(hKey);
	DWORD err;

	if (key == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = hash_get_locked(hHash, &hash);
	if (err == ERROR_SUCCESS) {
		err = hash_session_key_locked(hash, key, dwFlags);
		hash_put_locked(hash);
	}
	key_unref(key);
	return api_finish(__func__, err);
}

BOOL CryptGetHashParam(HCRYPTHASH hHash, DWORD dwParam, BYTE *pbData, DWORD *pdwDataLen,
		       DWORD dwFlags)
{
	struct hash *hash;
	DWORD err;

	if (pdwDataLen == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = hash_get_locked(hHash, &hash);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = dwFlags != 0 ? NTE_BAD_FLAGS : hash_get_param_locked(hash, dwParam, pbData, pdwDataLen);
	hash_put_locked(hash);
	return api_finish(__func__, err);
}

BOOL CryptSetHashParam(HCRYPTHASH hHash, DWORD dwParam, const BYTE *pbData, DWORD dwFlags)
{
	struct hash *hash;
	DWORD err;

	if (pbData == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = hash_get_locked(hHash, &hash);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = dwFlags != 0 ? NTE_BAD_FLAGS : hash_set_param_locked(hash, dwParam, pbData);
	hash_put_locked(hash);
	return api_finish(__func__, err);
}

BOOL CryptDuplicateHash(HCRYPTHASH hHash, DWORD *pdwReserved, DWORD dwFlags, HCRYPTHASH *phHash)
{
	struct hash *hash, *copy = NULL;
	DWORD err;

	/* rsaenh answers all three with ERROR_INVALID_PARAMETER. */
	if (pdwReserved != NULL || dwFlags != 0 || phHash == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = hash_get_locked(hHash, &hash);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = hash_duplicate_locked(hash, &copy);
	if (err == ERROR_SUCCESS)
		err = hash_register_locked(copy, phHash);
	hash_put_locked(hash);
	hash_unref(copy);
	return api_finish(__func__, err);
}

BOOL CryptDestroyHash(HCRYPTHASH hHash)
{
	return api_finish(__func__, hash_destroy(hHash));
}

BOOL CryptSignHashA(HCRYPTHASH hHash, DWORD dwKeySpec, LPCSTR szDescription, DWORD dwFlags,
		    BYTE *pbSignature, DWORD *pdwSigLen)
{
	struct hash *hash;
	struct key *key = NULL;
	DWORD err;

	/* Microsoft: szDescription "must be set to NULL"; capi11 does not
	 * hash it in as the old Base provider did. */
	if (pdwSigLen == NULL || szDescription != NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = hash_get_locked(hHash, &hash);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = sign_hash_locked(hash, dwKeySpec, dwFlags, pbSignature, pdwSigLen, &key);
	hash_put_locked(hash);
	key_unref(key);
	return api_finish(__func__, err);
}

BOOL CryptVerifySignatureA(HCRYPTHASH hHash, const BYTE *pbSignature, DWORD dwSigLen,
			   HCRYPTKEY hPubKey, LPCSTR szDescription, DWORD dwFlags)
{
	struct hash *hash;
	struct key *key;
	DWORD err;

	if (pbSignature == NULL || dwSigLen == 0 || szDescription != NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	key = key_lookup_other(hPubKey);
	if (key == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = hash_get_locked(hHash, &hash);
	if (err == ERROR_SUCCESS) {
		err = sign_verify_locked(hash, pbSignature, dwSigLen, key, dwFlags);
		hash_put_locked(hash);
	}
	key_unref(key);
	return api_finish(__func__, err);
}

BOOL CryptDeriveKey(HCRYPTPROV hProv, ALG_ID Algid, HCRYPTHASH hBaseData, DWORD dwFlags,
		    HCRYPTKEY *phKey)
{
	struct context *ctx;
	struct hash *hash = NULL;
	struct key *key = NULL;
	DWORD err;

	if (phKey == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = context_get_locked(hProv, &ctx);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	/* The hash must be one of this context's (SPEC section 2). */
	err = hash_get_in_locked(hBaseData, ctx, &hash);
	if (err == ERROR_SUCCESS)
		err = derive_key_locked(ctx, Algid, hash, dwFlags, &key);
	if (err == ERROR_SUCCESS)
		err = key_register_locked(key, phKey);
	context_put_locked(ctx);
	key_unref(key);
	hash_unref(hash);
	return api_finish(__func__, err);
}
