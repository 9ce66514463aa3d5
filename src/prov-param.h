/* CryptGetProvParam / CryptSetProvParam: what a context tells about its
 * provider, token and containers. */
#ifndef CAPI11_PROV_PARAM_H
#define CAPI11_PROV_PARAM_H

#include "context.h"

/* With the context locked. Returns 0 or the Windows error code. */
DWORD prov_get_param_locked(struct context *ctx, DWORD param, BYTE *data, DWORD *len,
			    DWORD flags);
DWORD prov_set_param_locked(struct context *ctx, DWORD param, const BYTE *data, DWORD flags);

#endif
