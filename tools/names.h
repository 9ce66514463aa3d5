/* Names of the CryptoAPI numbers that capi11-tool prints and parses: ALG_IDs,
 * blob types and Windows error codes. Lookup tables only, no state. */
#ifndef CAPI11_TOOL_NAMES_H
#define CAPI11_TOOL_NAMES_H

#include <wincrypt.h>

/* "CALG_RSA_KEYX"..., NULL for an ALG_ID without a name. */
const char *names_alg(ALG_ID alg);
/* Parses "CALG_AES_256", "AES_256", "aes256", "3des"...: 0 when unknown. */
ALG_ID names_alg_parse(const char *name);
/* "PUBLICKEYBLOB"..., NULL for an unknown blob type. */
const char *names_blob_type(DWORD type);
/* Parses "PUBLICKEYBLOB", "publickeyblob", "public"...: 0 when unknown. */
DWORD names_blob_type_parse(const char *name);
/* "NTE_BAD_KEYSET", "ERROR_MORE_DATA", "SCARD_W_WRONG_CHV"..., NULL for a
 * code that wincrypt.h does not name: the library's Capi11ErrorNameA. */
const char *names_error(DWORD code);
/* Bytes of a secret key of algorithm alg (AES 16/24/32, DES 8, 3DES_112 16,
 * 3DES 24), 0 for an algorithm without a fixed length. */
unsigned names_alg_key_bytes(ALG_ID alg);

#endif
