/* Key handles the subcommands build from files and algorithms: recipients'
 * public keys, wrapping keys given as blobs, new session keys. */
#ifndef CAPI11_TOOL_KEYS_H
#define CAPI11_TOOL_KEYS_H

#include <stdbool.h>

#include <wincrypt.h>

#include "pem.h"

/* Imports a recipient's RSA public key: a PUBLICKEYBLOB, a PEM/DER public
 * key or certificate (or the public half of a private key). The key is a
 * session object of prov. Reports failures. */
bool keys_import_recipient(HCRYPTPROV prov, const char *path, HCRYPTKEY *key);

/* Imports the blob, PEM or DER key in path into prov with CryptImportKey
 * (hPubKey unwraps it, 0 for none). PEM/DER keys become blobs of
 * algorithm alg. *type (may be NULL) is the blob type imported. Reports
 * failures. */
/* The import flags of the wrapping key in path for a blob of blob_type:
 * CRYPT_KEK (wrap-only) for the blob types that wrap, when the file is
 * not a PLAINTEXTKEYBLOB of another algorithm than AES (a 3DES key wraps
 * RFC 3217's SYMMETRICWRAPKEYBLOB as an ordinary key); else 0. */
DWORD keys_wrapping_flags(const char *path, DWORD blob_type);

bool keys_import_file(HCRYPTPROV prov, const char *path, HCRYPTKEY unwrap, DWORD flags,
		      ALG_ID alg, HCRYPTKEY *key, DWORD *type);

/* The provider type a key file needs: PROV_DSS_DH for a DSS or DH blob or
 * a DSA PEM/DER key, else 0 (the default, an RSA type). Standard input
 * ("-") and an unreadable file give 0, silently: the import reads and
 * reports them. */
DWORD keys_file_prov_type(const char *path);

/* A new exportable session key of algorithm alg on the token. */
bool keys_session_new(HCRYPTPROV prov, ALG_ID alg, HCRYPTKEY *key);

/* Parses --format. */
bool keys_parse_format(const char *s, enum pem_format *format);

/* Writes a blob to path (stdout for NULL) as format; PEM and DER exist for
 * plaintext RSA and DSS PUBLICKEYBLOB and PRIVATEKEYBLOB. Reports
 * failures. */
bool keys_write_blob(const BYTE *blob, DWORD len, enum pem_format format, const char *path);

#endif
