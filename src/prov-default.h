/* The default provider of each type (CryptGetDefaultProvider,
 * CryptSetProviderEx): default-provider-<type> in the user's file
 * ($XDG_CONFIG_HOME/capi11/capi11.conf) over the system one (capi11.conf). */
#ifndef CAPI11_PROV_DEFAULT_H
#define CAPI11_PROV_DEFAULT_H

#include <stdbool.h>
#include <wincrypt.h>

/* The user's configuration file: $XDG_CONFIG_HOME/capi11/capi11.conf,
 * $XDG_CONFIG_HOME unset or relative: ~/.config/capi11/capi11.conf (the
 * XDG base directory rule); capi11_malloc'd, NULL when no home is known.
 * The environment is ignored in setuid programs. */
char *prov_default_user_path(void);

/* The user's (user) or the machine's default provider name of type, a
 * capi11_malloc'd string in *name. The machine's, when the system file
 * sets none, is default-provider when it names a section serving type,
 * else the Microsoft name Windows registers as that type's default
 * (PROV_RSA_FULL: MS_STRONG_PROV, PROV_RSA_AES: MS_ENH_RSA_AES_PROV),
 * which capi11's default provider serves.
 * Returns ERROR_SUCCESS, NTE_PROV_TYPE_NOT_DEF (none), NTE_KEYSET_ENTRY_BAD
 * (a broken file), NTE_NO_MEMORY. */
DWORD prov_default_get(DWORD type, bool user, char **name);

/* The user's default of type, NULL without error when none is set: what
 * CryptAcquireContext uses first for a NULL provider. */
DWORD prov_default_user(DWORD type, char **name);

/* Sets (name) or removes (remove) the user's or the machine's default of
 * type. A name to set must be a provider CryptAcquireContext knows for
 * that type: a [provider] section of the system file, or a Microsoft name.
 * Returns ERROR_SUCCESS, NTE_BAD_PROVIDER, ERROR_ACCESS_DENIED (the file
 * may not be written), NTE_KEYSET_ENTRY_BAD, NTE_NO_MEMORY, NTE_FAIL. */
DWORD prov_default_set(const char *name, DWORD type, bool user, bool remove);

#endif
