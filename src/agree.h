/* Diffie-Hellman agreement: CryptImportKey of a partner's DH
 * PUBLICKEYBLOB with hPubKey a DH private key gives a CALG_AGREEDKEY_ANY
 * key, derived on the token (CKM_DH_PKCS_DERIVE); CryptSetKeyParam
 * (KP_ALGID) turns it into a session key of a cipher, as Microsoft's
 * DSS/DH providers do:
 *
 *   the agreed secret ZZ = y_partner^x mod p, written little-endian
 *   (CNG's BCRYPT_KDF_RAW_SECRET form), and the cipher's key the first
 *   n bytes of it: the n lowest-order bytes of ZZ, least significant
 *   first. n is the key's length: 8 DES, 16 3DES_112, 24 3DES, 16/24/32
 *   AES_128/192/256, 16 RC2 and RC4 (the DSS/DH providers' 128-bit
 *   default).
 *
 * PKCS#11 holds ZZ big-endian, and a token truncates a derived value to
 * CKA_VALUE_LEN by keeping its trailing (low-order) bytes, in big-endian
 * order: the token can make the right bytes but not in Windows' order,
 * and no standard mechanism reverses bytes. So KP_ALGID derives those n
 * bytes alone on the token, reads them once, reverses them, creates the
 * session key from them and wipes them: ZZ itself never leaves the token
 * (README, "Diffie-Hellman keys").
 *
 * Before KP_ALGID an agreed key is ZZ itself, and nothing may run a
 * function of it ("After a key is agreed upon with the CryptImportKey
 * function, the session key is enabled for use by setting its algorithm
 * type", CryptSetKeyParam's KP_ALGID). The token object is made with every
 * usage FALSE where the token takes that template, and capi11 refuses the
 * key itself: CryptEncrypt/CryptDecrypt NTE_BAD_ALGID (cipher.c);
 * CryptHashSessionKey, CryptCreateHash(CALG_HMAC/CALG_MAC), and hExpKey of
 * CryptExportKey or hPubKey of a non-public CryptImportKey NTE_BAD_KEY;
 * no export of it (its object is sensitive). */
#ifndef CAPI11_AGREE_H
#define CAPI11_AGREE_H

#include "context.h"

#include <wincrypt.h>

struct key;
struct agreed;

/* CryptImportKey of a DH PUBLICKEYBLOB (version 2 or 3) with priv the DH
 * private key of this context (CALG_DH_SF or CALG_DH_EPHEM). The blob's
 * length must be the key's; a version 3 blob's p and g must be the key's.
 * Errors: NTE_BAD_PUBLIC_KEY (priv missing, not a DH private key, of
 * another context), NTE_BAD_DATA (the blob, y not in 1 < y < p - 1, or,
 * for a key whose q is known (key.h), y^q != 1 mod p, checked on the
 * token), the token's failures mapped. CRYPT_EXPORTABLE makes the session key
 * KP_ALGID will make exportable. */
DWORD agree_import_locked(struct context *ctx, const BYTE *data, size_t len, struct key *priv,
			  DWORD flags, struct key **out);

/* CryptSetKeyParam(KP_ALGID) of an agreed key. Errors: NTE_BAD_TYPE (not
 * an agreed key), NTE_BAD_ALGID (a cipher the provider type or the token
 * does not have), the token's failures mapped. */
DWORD agree_set_algid_locked(struct key *key, ALG_ID alg);

struct agreed *agreed_dup_locked(const struct agreed *a);
void agreed_free_locked(struct context *ctx, struct agreed *a);

#endif
