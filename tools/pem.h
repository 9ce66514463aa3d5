/* RSA and DSS keys between CryptoAPI blobs and the standard encodings,
 * through OpenSSL's libcrypto: PUBLICKEYBLOB <-> SubjectPublicKeyInfo and
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

/* Converts an RSA or DSS (either version) PUBLICKEYBLOB (to
 * SubjectPublicKeyInfo) or plaintext PRIVATEKEYBLOB (to PKCS#8) into
 * format PEM or DER. A version 2 DSS private blob holds no y: libcrypto's
 * PKCS#8 form needs none, its readers compute it. A Diffie-Hellman key
 * converts from its version 3 PUBLICKEYBLOB ("\0DH3", which holds p and
 * g) only, to OpenSSL's DH (or, with a q, DHX) SubjectPublicKeyInfo;
 * other DH blobs are refused with the reason. *out is allocated;
 * free it with tool_free_secret(*out, *out_len). Reports failures. */
bool pem_from_blob(const BYTE *blob, size_t len, enum pem_format format, unsigned char **out,
		   size_t *out_len);

/* True when data looks like a CryptoAPI blob (a known bType, bVersion 2
 * or 3, reserved 0) rather than PEM or DER. */
bool pem_is_blob(const unsigned char *data, size_t len);

/* Reads an RSA or DSA key in PEM or DER (a private key in PKCS#8 or
 * PKCS#1, a public key as SubjectPublicKeyInfo or PKCS#1, or an X.509
 * certificate's key) and builds a PRIVATEKEYBLOB or PUBLICKEYBLOB: of
 * algorithm alg for RSA; for DSA a CALG_DSS_SIGN blob, public as version 2
 * ("DSS1"), private as version 3 ("DSS4", with y), no seed, and only for
 * the sizes of Microsoft's DSS providers (p of 512 to 1024 bits in steps
 * of 64, q of 160).
 * want_public: take only the public half even of a private key. *blob is
 * allocated; free it with tool_free_secret. Reports failures. */
bool pem_to_blob(const unsigned char *data, size_t len, ALG_ID alg, bool want_public,
		 BYTE **blob, DWORD *blob_len);

/* A DSS signature as CryptSignHash gives it: r then s, 20 bytes each,
 * little-endian. */
#define PEM_DSS_SIG_LEN 40
/* Windows' DSS signature (len must be PEM_DSS_SIG_LEN) as the DER
 * SEQUENCE { r INTEGER, s INTEGER } openssl writes; *der is allocated
 * (free()). Reports failures. */
bool pem_dss_sig_to_der(const BYTE *sig, size_t len, unsigned char **der, size_t *der_len);
/* The inverse: a DER DSA signature into Windows' 40 bytes. A DER that is
 * not exactly one such SEQUENCE, or numbers over 160 bits: reported,
 * false. */
bool pem_dss_sig_from_der(const unsigned char *der, size_t len, BYTE sig[PEM_DSS_SIG_LEN]);

/* True when data is a DSA key in one of the encodings pem_to_blob reads. */
bool pem_is_dsa(const unsigned char *data, size_t len);

#endif
