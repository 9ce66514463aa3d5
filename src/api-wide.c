/* The wide-character (W) entry points: UTF-16 names in, UTF-16 names out,
 * UTF-8 everywhere behind them. Argument checks come first, in the order
 * of the A forms; then the names are converted, strictly. */
#include "config.h"
#include "api.h"
#include "context.h"
#include "prov-enum.h"
#include "prov-types.h"
#include "utf16.h"
#include "util.h"

#include <stdint.h>
#include <wincrypt.h>

/* A caller's name as UTF-8 in *out (NULL stays NULL). Returns
 * ERROR_SUCCESS, bad (the caller's error for invalid UTF-16) or
 * NTE_NO_MEMORY. */
static DWORD wide_in(const WCHAR *s, char **out, DWORD bad)
{
	bool nomem;

	*out = NULL;
	if (s == NULL)
		return ERROR_SUCCESS;
	if (!utf16_to_utf8_new(s, out, &nomem))
		return nomem ? NTE_NO_MEMORY : bad;
	return ERROR_SUCCESS;
}

BOOL CryptAcquireContextW(HCRYPTPROV *phProv, LPCWSTR szContainer, LPCWSTR szProvider,
			  DWORD dwProvType, DWORD dwFlags)
{
	char *container = NULL, *provider = NULL;
	DWORD err;
	BOOL ok;

	/* The A form's first checks, before any name is read. */
	err = context_check_prov_type(dwProvType);
	if (err == ERROR_SUCCESS && phProv == NULL)
		err = ERROR_INVALID_PARAMETER;
	/* Microsoft's CryptAcquireContext page: NTE_BAD_KEYSET_PARAM, "the
	 * pszContainer or pszProvider parameter is set to a value that is not
	 * valid"; a name that is not UTF-16 is such a value. */
	if (err == ERROR_SUCCESS)
		err = wide_in(szContainer, &container, NTE_BAD_KEYSET_PARAM);
	if (err == ERROR_SUCCESS)
		err = wide_in(szProvider, &provider, NTE_BAD_KEYSET_PARAM);
	if (err != ERROR_SUCCESS) {
		capi11_free(container);
		capi11_free(provider);
		return api_finish(__func__, err);
	}
	ok = api_acquire(__func__, phProv, container, provider, dwProvType, dwFlags);
	capi11_free(container);
	capi11_free(provider);
	return ok;
}

/* The index-th provider's UTF-8 name, capi11_malloc'd, in *out. */
static DWORD enum_name_new(DWORD index, DWORD *type, char **out)
{
	DWORD len = 0, err;

	*out = NULL;
	/* The configuration can change between the size and the name: ask
	 * again a few times rather than fail. */
	for (int tries = 0; tries < 4; tries++) {
		err = prov_enum(index, type, NULL, &len);
		if (err != ERROR_SUCCESS)
			return err;
		*out = capi11_malloc(len);
		if (*out == NULL)
			return NTE_NO_MEMORY;
		err = prov_enum(index, type, *out, &len);
		if (err != ERROR_MORE_DATA)
			break;
		capi11_free(*out);
		*out = NULL;
	}
	if (err != ERROR_SUCCESS) {
		capi11_free(*out);
		*out = NULL;
	}
	return err;
}

BOOL CryptEnumProvidersW(DWORD dwIndex, DWORD *pdwReserved, DWORD dwFlags, DWORD *pdwProvType,
			 LPWSTR szProvName, DWORD *pcbProvName)
{
	char *name = NULL;
	size_t units = 0;
	DWORD err;

	if (pdwReserved != NULL || pcbProvName == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	if (dwFlags != 0)
		return api_finish(__func__, NTE_BAD_FLAGS);
	err = enum_name_new(dwIndex, pdwProvType, &name);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	/* The configuration is read as UTF-8 text; a name that is not is a
	 * broken entry, as CryptAcquireContext would find it. */
	if (!utf8_to_utf16(name, NULL, 0, &units))
		err = NTE_KEYSET_ENTRY_BAD;
	else if (units > UINT32_MAX / sizeof(WCHAR))
		err = NTE_NO_MEMORY;
	/* pcbProvName counts bytes, the NUL included (Microsoft's page). */
	else if (szProvName == NULL)
		*pcbProvName = (DWORD)(units * sizeof(WCHAR));
	else if (*pcbProvName / sizeof(WCHAR) < units) {
		*pcbProvName = (DWORD)(units * sizeof(WCHAR));
		err = ERROR_MORE_DATA;
	} else {
		utf8_to_utf16(name, szProvName, *pcbProvName / sizeof(WCHAR), &units);
		*pcbProvName = (DWORD)(units * sizeof(WCHAR));
	}
	capi11_free(name);
	return api_finish(__func__, err);
}

/* A type name (ASCII) as UTF-16 by the buffer rule, counted in bytes. */
BOOL CryptEnumProviderTypesW(DWORD dwIndex, DWORD *pdwReserved, DWORD dwFlags, DWORD *pdwProvType,
			     LPWSTR szTypeName, DWORD *pcbTypeName)
{
	const char *name;
	size_t units = 0;
	DWORD err;

	if (pdwReserved != NULL || pdwProvType == NULL || pcbTypeName == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	if (dwFlags != 0)
		return api_finish(__func__, NTE_BAD_FLAGS);
	err = prov_type_at(dwIndex, pdwProvType, &name);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	utf8_to_utf16(name, NULL, 0, &units);
	if (szTypeName != NULL && *pcbTypeName / sizeof(WCHAR) < units)
		err = ERROR_MORE_DATA;
	else if (szTypeName != NULL)
		utf8_to_utf16(name, szTypeName, units, &units);
	*pcbTypeName = (DWORD)(units * sizeof(WCHAR));
	return api_finish(__func__, err);
}

/* szDescription must be NULL in every form (Microsoft's CryptSignHash and
 * CryptVerifySignature pages), so the W forms differ from the A forms only
 * in its type. */
BOOL CryptSignHashW(HCRYPTHASH hHash, DWORD dwKeySpec, LPCWSTR szDescription, DWORD dwFlags,
		    BYTE *pbSignature, DWORD *pdwSigLen)
{
	if (szDescription != NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	return CryptSignHashA(hHash, dwKeySpec, NULL, dwFlags, pbSignature, pdwSigLen);
}

BOOL CryptVerifySignatureW(HCRYPTHASH hHash, const BYTE *pbSignature, DWORD dwSigLen,
			   HCRYPTKEY hPubKey, LPCWSTR szDescription, DWORD dwFlags)
{
	if (szDescription != NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	return CryptVerifySignatureA(hHash, pbSignature, dwSigLen, hPubKey, NULL, dwFlags);
}
