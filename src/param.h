/* The buffer rule of every CryptGet*Param value (SPEC section 2): data
 * NULL asks for the size; a buffer too small is ERROR_MORE_DATA with the
 * size needed in *len and nothing written. */
#ifndef CAPI11_PARAM_H
#define CAPI11_PARAM_H

#include <wincrypt.h>

/* Copies value_len bytes of value out by that rule; *len is the size of
 * data on entry and receives value_len in every case.
 * Errors: ERROR_MORE_DATA. */
DWORD param_put(BYTE *data, DWORD *len, const void *value, DWORD value_len);
/* The same for a DWORD value. */
DWORD param_put_dword(BYTE *data, DWORD *len, DWORD value);

#endif
