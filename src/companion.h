/* The companion token: a second PKCS#11 token beside the provider's, for
 * what that token cannot do (session keys, public-key operations, random
 * numbers), as Windows' smart card CSP hands such work to a software CSP
 * beside the card. capi11 still implements no cryptography: the companion
 * is reached through the same token layer as every token. Which token it
 * is comes from the provider's `companion` setting (capi11.conf(5)). */
#ifndef CAPI11_COMPANION_H
#define CAPI11_COMPANION_H

#include "token.h"

#include <stdbool.h>

/* The LibraryParameters that open NSS's softokn in memory: no database,
 * no files, nothing to set up. */
#define COMPANION_NSS_PARAMS \
	"configdir='' certPrefix='' keyPrefix='' secmod='' " \
	"flags=readOnly,noCertDB,noModDB,forceOpen,optimizeSpace"
/* The softokn slot that does the cryptography (the other is its key
 * database, empty here). */
#define COMPANION_NSS_TOKEN "NSS Generic Crypto Services"

/* Whether a `companion` setting turns the companion off ("none"). */
bool companion_is_none(const char *spec);
/* Whether spec is a value the setting takes: "nss", "none" or a pkcs11:
 * URI (checked as a provider URI is, by the configuration parser). */
bool companion_spec_is_keyword(const char *spec);

/* Opens the companion that spec names: NULL or "nss" the in-memory
 * softokn (CAPI11_SOFTOKN_PATH from configure, else the usual library
 * directories); a pkcs11: URI a token found as a provider's is, whose
 * pin-value or pin-source PIN comes back in *pin (capi11_malloc'd, for the
 * caller to log in with and wipe; NULL when the URI has none). "none":
 * CKR_FUNCTION_NOT_SUPPORTED. No softokn found: CAPI11_CKR_MODULE_LOAD. */
CK_RV companion_open(const char *spec, struct token **out, char **pin);

#endif
