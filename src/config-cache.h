/* The configuration as the library uses it: read from capi11.conf once,
 * kept, and read again when the file changes (another path, the file
 * appearing or vanishing, or a new mtime, size, inode or ctime). */
#ifndef CAPI11_CONFIG_CACHE_H
#define CAPI11_CONFIG_CACHE_H

#include "conffile.h"

#include <wincrypt.h>

/* Calls fn with the current configuration, held under the lock that a
 * reload takes: cfg is valid only during the call. Each reload sets the
 * trace level from the file. Returns the error of reading the file
 * (NTE_KEYSET_ENTRY_BAD for a broken one, as CryptAcquireContext gives;
 * NTE_NO_MEMORY) or what fn returns. */
DWORD config_cache_visit(DWORD (*fn)(const struct capi11_config *cfg, void *data), void *data);

#endif
