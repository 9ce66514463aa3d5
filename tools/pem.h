/* RSA keys between CryptoAPI blobs and the standard encodings, through
 * OpenSSL's libcrypto: PUBLICKEYBLOB <-> SubjectPublicKeyInfo and
 * PRIVATEKEYBLOB <-> PKCS#8 PrivateKeyInfo, each as PEM or DER. The blob
 * side is read and written here, field by field, so that OpenSSL's own
 * MSBLOB codec stays an independent check of it. */
#ifndef CAPI11_TOOL_PEM_H
#define CAPI11_TOOL_PEM_H

#include <stdbool.h>
#include <stddef.h>

#include <wincrypt.h>

enum pem_format {
	PEM_FORMAT_BLOB,
	PEM_FORMAT_PEM,
	PEM_FORMAT_DER,
};

/* Converts an RSA PUBLICKEYBLOB (to SubjectPublicKeyInfo) or plaintext
 * PRIVATEKEYBLOB (to PKCS#8) into format PEM or DER. *out is allocated;
 * free it with tool_free_secret(*out, *out_len). Reports failures. */
bool pem_from_blob(const BYTE *blob, size_t len, enum pem_format format, unsigned char **out,
		   size_t *out_len);

/* True when data looks like a CryptoAPI blob (a known bType, bVersion 2
 * or 3, reserved 0) rather than PEM or DER. */
bool pem_is_blob(const unsigned char *data, size_t len);

/* Reads an RSA key in PEM or DER (a private key in PKCS#8 or PKCS#1, a
 * public key as SubjectPublicKeyInfo or PKCS#1, or an X.509 certificate's
 * key) and builds a PRIVATEKEYBLOB or PUBLICKEYBLOB of algorithm alg.
 * want_public: take only the public half even of a private key. *blob is
 * allocated; free it with tool_free_secret. Reports failures. */
bool pem_to_blob(const unsigned char *data, size_t len, ALG_ID alg, bool want_public,
		 BYTE **blob, DWORD *blob_len);

#endif
