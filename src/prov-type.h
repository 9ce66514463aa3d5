/* Which algorithms each provider type serves. The RSA types serve what
 * capi11 always served; PROV_DSS serves DSS signatures and hashing, as
 * Microsoft's Base DSS provider does; PROV_DSS_DH adds the session-key
 * algorithms. Table lookups only, no token involved. */
#ifndef CAPI11_PROV_TYPE_H
#define CAPI11_PROV_TYPE_H

#include <stdbool.h>
#include <wincrypt.h>

/* PROV_DSS and PROV_DSS_DH. */
bool prov_type_is_dss(DWORD prov_type);

/* Whether a context of prov_type lists and makes keys and hashes of alg:
 * RSA keys only in the RSA types, CALG_DSS_SIGN only in the DSS types,
 * session keys (and the keyed hashes CALG_MAC and CALG_HMAC, which need
 * one) everywhere but PROV_DSS, unkeyed hashes everywhere; the
 * Diffie-Hellman keys in PROV_DSS_DH. An ALG_ID no type names is left to the
 * caller (true). */
bool prov_type_serves(DWORD prov_type, ALG_ID alg);

#endif
