/* Changing one [capi11] key of a configuration file in place, for
 * CryptSetProviderEx: every other line (comments, blank lines, providers)
 * stays as it was, byte for byte. */
#ifndef CAPI11_CONF_EDIT_H
#define CAPI11_CONF_EDIT_H

#include <sys/types.h>
#include <wincrypt.h>

/* Sets key to value in the [capi11] section of the file at path, or
 * removes the key when value is NULL. The key's line is replaced where it
 * is; a new key goes right after the [capi11] header, or in a new
 * [capi11] section at the end. The result must parse (config_parse), else
 * nothing is written. Writers take an exclusive flock on the file's
 * directory, so concurrent changes are serialised and none is lost; the
 * new text goes to a temporary file in the same directory, is synced and
 * renamed over the old one, so a reader sees the old file or the new,
 * never a mix. A new file gets new_mode; an existing one keeps its mode.
 * Returns ERROR_SUCCESS, ERROR_ACCESS_DENIED (no permission, or path is
 * not a regular file: /dev/null, a directory, a symbolic link),
 * NTE_KEYSET_ENTRY_BAD (the file, or the result, does not parse),
 * ERROR_INVALID_PARAMETER (a value with a line break), NTE_NO_MEMORY,
 * NTE_FAIL (another I/O error). */
DWORD conf_edit_set(const char *path, const char *key, const char *value, mode_t new_mode);

#endif
