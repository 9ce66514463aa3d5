/* CryptEnumProviderTypes: the provider types CryptAcquireContext serves. */
#ifndef CAPI11_PROV_TYPES_H
#define CAPI11_PROV_TYPES_H

#include <wincrypt.h>

/* The index-th provider type, in ascending order as Windows lists its
 * "Type NNN" registry keys, with Windows' TypeName. Returns
 * ERROR_SUCCESS, or ERROR_NO_MORE_ITEMS past the end. */
DWORD prov_type_at(DWORD index, DWORD *type, const char **name);

#endif
