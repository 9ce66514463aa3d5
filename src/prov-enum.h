/* CryptEnumProviders: the provider names that CryptAcquireContext accepts
 * besides a pkcs11: URI. */
#ifndef CAPI11_PROV_ENUM_H
#define CAPI11_PROV_ENUM_H

#include <wincrypt.h>

/* The index-th provider: first the [provider] sections of the
 * configuration in file order, then the Microsoft RSA names that the
 * default provider serves and that no section defines. *type gets the
 * type to acquire it with (type may be NULL). name NULL asks for the size;
 * otherwise *len is the buffer size. *len gets the size with the
 * terminating NUL in every case but past the end.
 * Returns 0, ERROR_MORE_DATA (name too small), ERROR_NO_MORE_ITEMS,
 * NTE_KEYSET_ENTRY_BAD (configuration file broken) or NTE_NO_MEMORY. */
DWORD prov_enum(DWORD index, DWORD *type, char *name, DWORD *len);

#endif
