/* Entry points for contexts: argument checks, handle lookup, last error. */
#include "config.h"
#include "api.h"
#include "context.h"
#include "prov-param.h"
#include "prov-enum.h"
#include "prov-types.h"
#include "param.h"
#include "random.h"
#include "util.h"

#include <string.h>
#include <wincrypt.h>

BOOL CryptAcquireContextA(HCRYPTPROV *phProv, LPCSTR szContainer, LPCSTR szProvider,
			  DWORD dwProvType, DWORD dwFlags)
{
	return api_acquire(__func__, phProv, szContainer, szProvider, dwProvType, dwFlags);
}

BOOL api_acquire(const char *fn, HCRYPTPROV *phProv, const char *container, const char *provider,
		 DWORD type, DWORD flags)
{
	HCRYPTPROV h = 0;
	DWORD err;

	/* The provider type is checked first, before phProv (Wine's tests of
	 * rsaenh; advapi32 does the same). */
	err = context_check_prov_type(type);
	if (err != ERROR_SUCCESS)
		return api_finish(fn, err);
	if (phProv == NULL)
		return api_finish(fn, ERROR_INVALID_PARAMETER);
	err = context_acquire(container, provider, type, flags, &h);
	if (err != ERROR_SUCCESS)
		return api_finish(fn, err);
	/* 0 after CRYPT_DELETEKEYSET, which leaves no context behind. */
	*phProv = h;
	/* Unlike most entry points, a successful acquire leaves ERROR_SUCCESS
	 * as the last error on Windows; programs test GetLastError() after it. */
	SetLastError(ERROR_SUCCESS);
	return api_finish(fn, ERROR_SUCCESS);
}

BOOL CryptReleaseContext(HCRYPTPROV hProv, DWORD dwFlags)
{
	DWORD err = context_release(hProv);

	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	/* Windows releases the context even when it then complains. */
	return api_finish(__func__, dwFlags != 0 ? NTE_BAD_FLAGS : ERROR_SUCCESS);
}

BOOL CryptContextAddRef(HCRYPTPROV hProv, DWORD *pdwReserved, DWORD dwFlags)
{
	struct context *ctx;

	if (pdwReserved != NULL || dwFlags != 0)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	ctx = context_lookup(hProv);
	if (ctx == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	atomic_fetch_add(&ctx->api_refs, 1);
	context_unref(ctx);
	return api_finish(__func__, ERROR_SUCCESS);
}

BOOL CryptEnumProvidersA(DWORD dwIndex, DWORD *pdwReserved, DWORD dwFlags, DWORD *pdwProvType,
			 LPSTR szProvName, DWORD *pcbProvName)
{
	if (pdwReserved != NULL || pcbProvName == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	if (dwFlags != 0)
		return api_finish(__func__, NTE_BAD_FLAGS);
	return api_finish(__func__, prov_enum(dwIndex, pdwProvType, szProvName, pcbProvName));
}

BOOL CryptEnumProviderTypesA(DWORD dwIndex, DWORD *pdwReserved, DWORD dwFlags, DWORD *pdwProvType,
			     LPSTR szTypeName, DWORD *pcbTypeName)
{
	const char *name;
	DWORD err;

	/* As advapi32 checks them (Wine's implementation and tests). */
	if (pdwReserved != NULL || pdwProvType == NULL || pcbTypeName == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	if (dwFlags != 0)
		return api_finish(__func__, NTE_BAD_FLAGS);
	err = prov_type_at(dwIndex, pdwProvType, &name);
	if (err == ERROR_SUCCESS)
		err = param_put((BYTE *)szTypeName, pcbTypeName, name, (DWORD)strlen(name) + 1);
	return api_finish(__func__, err);
}

BOOL CryptGetProvParam(HCRYPTPROV hProv, DWORD dwParam, BYTE *pbData, DWORD *pdwDataLen,
		       DWORD dwFlags)
{
	struct context *ctx;
	DWORD err;

	if (pdwDataLen == NULL)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = context_get_locked(hProv, &ctx);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = prov_get_param_locked(ctx, dwParam, pbData, pdwDataLen, dwFlags);
	context_put_locked(ctx);
	return api_finish(__func__, err);
}

BOOL CryptSetProvParam(HCRYPTPROV hProv, DWORD dwParam, const BYTE *pbData, DWORD dwFlags)
{
	struct context *ctx;
	DWORD err = context_get_locked(hProv, &ctx);

	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = prov_set_param_locked(ctx, dwParam, pbData, dwFlags);
	context_put_locked(ctx);
	return api_finish(__func__, err);
}

BOOL CryptGenRandom(HCRYPTPROV hProv, DWORD dwLen, BYTE *pbBuffer)
{
	struct context *ctx;
	DWORD err;

	if (pbBuffer == NULL && dwLen != 0)
		return api_finish(__func__, ERROR_INVALID_PARAMETER);
	err = context_get_locked(hProv, &ctx);
	if (err != ERROR_SUCCESS)
		return api_finish(__func__, err);
	err = random_fill_locked(ctx, pbBuffer, dwLen);
	context_put_locked(ctx);
	return api_finish(__func__, err);
}
