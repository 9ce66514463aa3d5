/* Entry points for the default provider of each type, A and W forms:
 * argument checks in advapi32's order (Wine's implementation and its
 * tests on Windows), then prov-default.c. */
#include "config.h"
#include "api.h"
#include "param.h"
#include "prov-default.h"
#include "utf16.h"
#include "util.h"

#include <stdint.h>
#include <string.h>
#include <wincrypt.h>

#define DEFAULT_WHERE_FLAGS (CRYPT_USER_DEFAULT | CRYPT_MACHINE_DEFAULT)

static DWORD get_default_check(DWORD type, const DWORD *reserved, DWORD flags, const DWORD *len)
{
	if (reserved != NULL || len == NULL)
		return ERROR_INVALID_PARAMETER;
	if (flags & ~(DWORD)DEFAULT_WHERE_FLAGS)
		return NTE_BAD_FLAGS;
	if (type > 999)
		return NTE_BAD_PROV_TYPE;
	return ERROR_SUCCESS;
}

BOOL CryptGetDefaultProviderA(DWORD dwProvType, DWORD *pdwReserved, DWORD dwFlags,
			      LPSTR pszProvName, DWORD *pcbProvName)
{
	char *name = NULL;
	DWORD err = get_default_check(dwProvType, pdwReserved, dwFlags, pcbProvName);

	if (err == ERROR_SUCCESS)
		err = prov_default_get(dwProvType, (dwFlags & CRYPT_USER_DEFAULT) != 0, &name);
	if (err == ERROR_SUCCESS)
		err = param_put((BYTE *)pszProvName, pcbProvName, name, (DWORD)strlen(name) + 1);
	capi11_free(name);
	return api_finish(__func__, err);
}

BOOL CryptGetDefaultProviderW(DWORD dwProvType, DWORD *pdwReserved, DWORD dwFlags,
			      LPWSTR pszProvName, DWORD *pcbProvName)
{
	char *name = NULL;
	size_t units = 0;
	DWORD err = get_default_check(dwProvType, pdwReserved, dwFlags, pcbProvName);

	if (err == ERROR_SUCCESS)
		err = prov_default_get(dwProvType, (dwFlags & CRYPT_USER_DEFAULT) != 0, &name);
	/* The files are UTF-8 text; a name that is not is a broken entry. */
	if (err == ERROR_SUCCESS && !utf8_to_utf16(name, NULL, 0, &units))
		err = NTE_KEYSET_ENTRY_BAD;
	if (err == ERROR_SUCCESS && units > UINT32_MAX / sizeof(WCHAR))
		err = NTE_NO_MEMORY;
	if (err == ERROR_SUCCESS) {
		/* pcbProvName counts bytes, the NUL included. */
		if (pszProvName != NULL && *pcbProvName / sizeof(WCHAR) < units)
			err = ERROR_MORE_DATA;
		else if (pszProvName != NULL)
			utf8_to_utf16(name, pszProvName, units, &units);
		*pcbProvName = (DWORD)(units * sizeof(WCHAR));
	}
	capi11_free(name);
	return api_finish(__func__, err);
}

static DWORD set_default(const char *name, DWORD type, const DWORD *reserved, DWORD flags)
{
	if (name == NULL || reserved != NULL)
		return ERROR_INVALID_PARAMETER;
	if (type > 999)
		return NTE_BAD_PROV_TYPE;
	/* CRYPT_DELETE_DEFAULT says what, not where: alone it is no request. */
	if ((flags & ~(DWORD)(DEFAULT_WHERE_FLAGS | CRYPT_DELETE_DEFAULT)) ||
	    flags == CRYPT_DELETE_DEFAULT)
		return NTE_BAD_FLAGS;
	/* CRYPT_USER_DEFAULT wins over CRYPT_MACHINE_DEFAULT, as in advapi32. */
	return prov_default_set(name, type, (flags & CRYPT_USER_DEFAULT) != 0,
				(flags & CRYPT_DELETE_DEFAULT) != 0);
}

BOOL CryptSetProviderExA(LPCSTR pszProvName, DWORD dwProvType, DWORD *pdwReserved, DWORD dwFlags)
{
	return api_finish(__func__, set_default(pszProvName, dwProvType, pdwReserved, dwFlags));
}

BOOL CryptSetProviderA(LPCSTR pszProvName, DWORD dwProvType)
{
	return api_finish(__func__, set_default(pszProvName, dwProvType, NULL,
						CRYPT_USER_DEFAULT));
}

/* The name as UTF-8; invalid UTF-16 is ERROR_INVALID_PARAMETER. */
static DWORD set_default_w(LPCWSTR wname, DWORD type, const DWORD *reserved, DWORD flags)
{
	char *name = NULL;
	bool nomem = false;
	DWORD err;

	if (wname != NULL && !utf16_to_utf8_new(wname, &name, &nomem))
		return nomem ? NTE_NO_MEMORY : ERROR_INVALID_PARAMETER;
	err = set_default(name, type, reserved, flags);
	capi11_free(name);
	return err;
}

BOOL CryptSetProviderExW(LPCWSTR pszProvName, DWORD dwProvType, DWORD *pdwReserved, DWORD dwFlags)
{
	return api_finish(__func__, set_default_w(pszProvName, dwProvType, pdwReserved, dwFlags));
}

BOOL CryptSetProviderW(LPCWSTR pszProvName, DWORD dwProvType)
{
	return api_finish(__func__, set_default_w(pszProvName, dwProvType, NULL,
						  CRYPT_USER_DEFAULT));
}
