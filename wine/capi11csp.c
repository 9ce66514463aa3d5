/* capi11csp.dll: a cryptographic service provider for Wine whose every
 * entry point forwards to libcapi11.
 *
 * Wine's advapi32 loads the DLL named by the provider's "Image Path" and
 * calls these CP* functions with the provider's own handles: the values
 * that libcapi11 returns travel through advapi32 unchanged and come back
 * here as the hProv/hKey/hHash arguments. The hProv that advapi32 passes
 * with a key or hash is the context the key or hash belongs to; libcapi11
 * finds the context from the key or hash handle itself and checks it.
 *
 * A CP function that fails returns FALSE with the Windows last error set
 * to libcapi11's error code (both are Windows error values). */
#include "csp-lib.h"
#include "csp-text.h"

#include <stdlib.h>
#include <string.h>

#include <windef.h>
#include <winbase.h>
#include <winnls.h>

/* The name this CSP registers under (capi11-tool wine-register). Acquired
 * by it, the CSP opens capi11's default provider; acquired by one of
 * Microsoft's names that the registration took over, it passes that name
 * on, so that libcapi11 serves it as on Linux (capi11.conf may define the
 * name; otherwise the default provider with the name's registered type). */
#define CSP_NAME "capi11 PKCS#11 Provider"

/* The provider name libcapi11 gets for the name advapi32 resolved (the
 * type's default when the program named none): NULL, capi11's default
 * provider, for the CSP's own name; Microsoft's AES provider for its
 * "(Prototype)" name, which Wine registers and libcapi11 does not list;
 * any other name as it is. */
static const char *csp_provider_name(const char *name)
{
	static const char aes[] = "Microsoft Enhanced RSA and AES Cryptographic Provider";

	if (name == NULL || strcmp(name, CSP_NAME) == 0)
		return NULL;
	if (strncmp(name, aes, sizeof aes - 1) == 0 && strcmp(name + sizeof aes - 1,
							       " (Prototype)") == 0)
		return aes;
	return name;
}

/* For an entry point that finds no library: FALSE with
 * NTE_PROVIDER_DLL_FAIL, as advapi32 reports a provider DLL that does not
 * work (advapi32 loaded this DLL; it is the library behind it that is
 * missing). */
static BOOL no_lib(void)
{
	SetLastError(NTE_PROVIDER_DLL_FAIL);
	return FALSE;
}

/* Passes a result of libcapi11 on: its last error becomes the Windows
 * thread's last error when it failed. */
static BOOL pass(const struct csp_lib *l, BOOL ok)
{
	if (!ok)
		SetLastError(l->get_last_error());
	return ok;
}

BOOL WINAPI CPAcquireContext(HCRYPTPROV *phProv, LPSTR pszContainer, DWORD dwFlags,
			     PVTableProvStruc pVTable)
{
	const struct csp_lib *l = csp_lib_get();
	WCHAR *container = NULL, *provider = NULL;
	BOOL ok = FALSE;

	if (l == NULL)
		return no_lib();
	if (pVTable == NULL) {
		SetLastError(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	if (!csp_text_acp_to_wide(pszContainer, &container))
		goto out;
	if (!csp_text_acp_to_wide(csp_provider_name(pVTable->pszProvName), &provider))
		goto out;
	ok = pass(l, l->acquire_w(phProv, container, provider, pVTable->dwProvType, dwFlags));
out:
	free(container);
	free(provider);
	return ok;
}

BOOL WINAPI CPReleaseContext(HCRYPTPROV hProv, DWORD dwFlags)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->release(hProv, dwFlags));
}

/* capi11's own parameter (include/capi11/wincrypt.h), whose value holds
 * the companion token's label. */
#define PP_CAPI11_ROUTES ((DWORD)0x43310004)

/* The parameters whose value is a string of names: UTF-8 in libcapi11
 * (container labels, the token's slot description, the companion's
 * label), the ANSI code page on the Windows side. */
static BOOL prov_param_is_text(DWORD param)
{
	switch (param) {
	case PP_NAME:
	case PP_CONTAINER:
	case PP_UNIQUE_CONTAINER:
	case PP_ENUMCONTAINERS:
	case PP_SMARTCARD_READER:
	case PP_CAPI11_ROUTES:
		return TRUE;
	default:
		return FALSE;
	}
}

/* PP_ENUMCONTAINERS with a buffer: the next name that the ANSI code page
 * holds exactly; a name it does not is skipped, never given out as
 * another name nor ending the listing. libcapi11 gets a buffer of the
 * caller's size (no more than its size query's answer, the longest name),
 * so that a buffer too small fails there without moving on; the ANSI form
 * is never longer than the UTF-8 one (csp_text_utf8_to_acp), so what fits
 * there fits converted. */
static BOOL enum_containers(const struct csp_lib *l, HCRYPTPROV hProv, BYTE *pbData,
			    DWORD *pdwDataLen, DWORD dwFlags)
{
	DWORD need = 0, len, err, ansi_len;
	char *buf, *ansi;
	BOOL ok;

	if (!pass(l, l->get_prov_param(hProv, PP_ENUMCONTAINERS, NULL, &need, dwFlags)))
		return FALSE;
	buf = malloc(need ? need : 1);
	if (buf == NULL) {
		SetLastError(NTE_NO_MEMORY);
		return FALSE;
	}
	for (;;) {
		len = *pdwDataLen < need ? *pdwDataLen : need;
		if (!l->get_prov_param(hProv, PP_ENUMCONTAINERS, (BYTE *)buf, &len, dwFlags)) {
			err = l->get_last_error();
			if (err == ERROR_MORE_DATA)
				*pdwDataLen = len;
			SetLastError(err);
			ok = FALSE;
			break;
		}
		if (csp_text_utf8_to_acp(buf, len, &ansi, &ansi_len)) {
			/* A name that fits leaves the length as the caller gave
			 * it, as libcapi11 and rsaenh do. */
			memcpy(pbData, ansi, ansi_len);
			free(ansi);
			ok = TRUE;
			break;
		}
		if (GetLastError() != ERROR_NO_UNICODE_TRANSLATION) {
			ok = FALSE;
			break;
		}
		/* On to the next name; CRYPT_FIRST would start again. */
		dwFlags &= ~(DWORD)CRYPT_FIRST;
	}
	free(buf);
	return ok;
}

BOOL WINAPI CPGetProvParam(HCRYPTPROV hProv, DWORD dwParam, BYTE *pbData, DWORD *pdwDataLen,
			   DWORD dwFlags)
{
	const struct csp_lib *l = csp_lib_get();
	DWORD len = 0, ansi_len = 0;
	char *buf, *ansi = NULL;
	BOOL ok;

	if (l == NULL)
		return no_lib();
	if (!prov_param_is_text(dwParam) || pdwDataLen == NULL)
		return pass(l, l->get_prov_param(hProv, dwParam, pbData, pdwDataLen, dwFlags));
	if (dwParam == PP_ENUMCONTAINERS) {
		/* A size query: libcapi11's longest UTF-8 name, an upper bound
		 * of every name given out. */
		if (pbData == NULL)
			return pass(l, l->get_prov_param(hProv, dwParam, NULL, pdwDataLen,
							  dwFlags));
		return enum_containers(l, hProv, pbData, pdwDataLen, dwFlags);
	}
	/* One name: fetched whole, converted, and its exact ANSI size (the
	 * answer of a size query too) compared with the caller's. */
	if (!pass(l, l->get_prov_param(hProv, dwParam, NULL, &len, dwFlags)))
		return FALSE;
	buf = malloc(len ? len : 1);
	if (buf == NULL) {
		SetLastError(NTE_NO_MEMORY);
		return FALSE;
	}
	ok = pass(l, l->get_prov_param(hProv, dwParam, (BYTE *)buf, &len, dwFlags)) &&
	     csp_text_utf8_to_acp(buf, len, &ansi, &ansi_len);
	free(buf);
	if (!ok)
		return FALSE;
	if (pbData != NULL && *pdwDataLen < ansi_len) {
		SetLastError(ERROR_MORE_DATA);
		ok = FALSE;
	} else if (pbData != NULL) {
		memcpy(pbData, ansi, ansi_len);
	}
	*pdwDataLen = ansi_len;
	free(ansi);
	return ok;
}

BOOL WINAPI CPSetProvParam(HCRYPTPROV hProv, DWORD dwParam, BYTE *pbData, DWORD dwFlags)
{
	const struct csp_lib *l = csp_lib_get();
	char *pin = NULL;
	size_t pin_len = 0;
	BOOL ok;

	if (l == NULL)
		return no_lib();
	/* A PIN arrives in the ANSI code page; PKCS#11 PINs are UTF-8. */
	if ((dwParam != PP_KEYEXCHANGE_PIN && dwParam != PP_SIGNATURE_PIN) || pbData == NULL)
		return pass(l, l->set_prov_param(hProv, dwParam, pbData, dwFlags));
	if (!csp_text_acp_to_utf8((const char *)pbData, &pin, &pin_len))
		return FALSE;
	ok = pass(l, l->set_prov_param(hProv, dwParam, (const BYTE *)pin, dwFlags));
	csp_text_wipe(pin, pin_len);
	free(pin);
	return ok;
}

BOOL WINAPI CPGenRandom(HCRYPTPROV hProv, DWORD dwLen, BYTE *pbBuffer)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->gen_random(hProv, dwLen, pbBuffer));
}

BOOL WINAPI CPGenKey(HCRYPTPROV hProv, ALG_ID Algid, DWORD dwFlags, HCRYPTKEY *phKey)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->gen_key(hProv, Algid, dwFlags, phKey));
}

BOOL WINAPI CPGetUserKey(HCRYPTPROV hProv, DWORD dwKeySpec, HCRYPTKEY *phUserKey)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->get_user_key(hProv, dwKeySpec, phUserKey));
}

BOOL WINAPI CPDeriveKey(HCRYPTPROV hProv, ALG_ID Algid, HCRYPTHASH hBaseData, DWORD dwFlags,
			HCRYPTKEY *phKey)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->derive_key(hProv, Algid, hBaseData, dwFlags, phKey));
}

BOOL WINAPI CPDestroyKey(HCRYPTPROV hProv, HCRYPTKEY hKey)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->destroy_key(hKey));
}

BOOL WINAPI CPDuplicateKey(HCRYPTPROV hUID, HCRYPTKEY hKey, DWORD *pdwReserved, DWORD dwFlags,
			   HCRYPTKEY *phKey)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->duplicate_key(hKey, pdwReserved, dwFlags, phKey));
}

BOOL WINAPI CPGetKeyParam(HCRYPTPROV hProv, HCRYPTKEY hKey, DWORD dwParam, BYTE *pbData,
			  DWORD *pdwDataLen, DWORD dwFlags)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->get_key_param(hKey, dwParam, pbData, pdwDataLen, dwFlags));
}

BOOL WINAPI CPSetKeyParam(HCRYPTPROV hProv, HCRYPTKEY hKey, DWORD dwParam, BYTE *pbData,
			  DWORD dwFlags)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->set_key_param(hKey, dwParam, pbData, dwFlags));
}

BOOL WINAPI CPEncrypt(HCRYPTPROV hProv, HCRYPTKEY hKey, HCRYPTHASH hHash, BOOL Final,
		      DWORD dwFlags, BYTE *pbData, DWORD *pdwDataLen, DWORD dwBufLen)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->encrypt(hKey, hHash, Final, dwFlags, pbData, pdwDataLen, dwBufLen));
}

BOOL WINAPI CPDecrypt(HCRYPTPROV hProv, HCRYPTKEY hKey, HCRYPTHASH hHash, BOOL Final,
		      DWORD dwFlags, BYTE *pbData, DWORD *pdwDataLen)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->decrypt(hKey, hHash, Final, dwFlags, pbData, pdwDataLen));
}

BOOL WINAPI CPExportKey(HCRYPTPROV hProv, HCRYPTKEY hKey, HCRYPTKEY hPubKey, DWORD dwBlobType,
			DWORD dwFlags, BYTE *pbData, DWORD *pdwDataLen)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->export_key(hKey, hPubKey, dwBlobType, dwFlags, pbData, pdwDataLen));
}

BOOL WINAPI CPImportKey(HCRYPTPROV hProv, const BYTE *pbData, DWORD dwDataLen,
			HCRYPTKEY hPubKey, DWORD dwFlags, HCRYPTKEY *phKey)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->import_key(hProv, pbData, dwDataLen, hPubKey, dwFlags, phKey));
}

BOOL WINAPI CPCreateHash(HCRYPTPROV hProv, ALG_ID Algid, HCRYPTKEY hKey, DWORD dwFlags,
			 HCRYPTHASH *phHash)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->create_hash(hProv, Algid, hKey, dwFlags, phHash));
}

BOOL WINAPI CPHashData(HCRYPTPROV hProv, HCRYPTHASH hHash, const BYTE *pbData, DWORD dwDataLen,
		       DWORD dwFlags)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->hash_data(hHash, pbData, dwDataLen, dwFlags));
}

BOOL WINAPI CPHashSessionKey(HCRYPTPROV hProv, HCRYPTHASH hHash, HCRYPTKEY hKey, DWORD dwFlags)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->hash_session_key(hHash, hKey, dwFlags));
}

BOOL WINAPI CPGetHashParam(HCRYPTPROV hProv, HCRYPTHASH hHash, DWORD dwParam, BYTE *pbData,
			   DWORD *pdwDataLen, DWORD dwFlags)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->get_hash_param(hHash, dwParam, pbData, pdwDataLen, dwFlags));
}

BOOL WINAPI CPSetHashParam(HCRYPTPROV hProv, HCRYPTHASH hHash, DWORD dwParam, BYTE *pbData,
			   DWORD dwFlags)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->set_hash_param(hHash, dwParam, pbData, dwFlags));
}

BOOL WINAPI CPDuplicateHash(HCRYPTPROV hUID, HCRYPTHASH hHash, DWORD *pdwReserved,
			    DWORD dwFlags, HCRYPTHASH *phHash)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->duplicate_hash(hHash, pdwReserved, dwFlags, phHash));
}

BOOL WINAPI CPDestroyHash(HCRYPTPROV hProv, HCRYPTHASH hHash)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->destroy_hash(hHash));
}

BOOL WINAPI CPSignHash(HCRYPTPROV hProv, HCRYPTHASH hHash, DWORD dwKeySpec,
		       LPCWSTR sDescription, DWORD dwFlags, BYTE *pbSignature, DWORD *pdwSigLen)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->sign_hash_w(hHash, dwKeySpec, sDescription, dwFlags, pbSignature,
				      pdwSigLen));
}

BOOL WINAPI CPVerifySignature(HCRYPTPROV hProv, HCRYPTHASH hHash, const BYTE *pbSignature,
			      DWORD dwSigLen, HCRYPTKEY hPubKey, LPCWSTR sDescription,
			      DWORD dwFlags)
{
	const struct csp_lib *l = csp_lib_get();

	if (l == NULL)
		return no_lib();
	return pass(l, l->verify_signature_w(hHash, pbSignature, dwSigLen, hPubKey,
					     sDescription, dwFlags));
}
