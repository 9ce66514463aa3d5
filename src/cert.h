/* Certificates beside keys (KP_CERTIFICATE) are CKO_CERTIFICATE objects of
 * type CKC_X_509 that share their key's CKA_ID; this is the DER walk for
 * the few fields PKCS#11 wants next to the certificate's value. */
#ifndef CAPI11_CERT_H
#define CAPI11_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <wincrypt.h>

/* Certificates larger than this are refused: real ones are a few KiB,
 * and CryptSetKeyParam gives no buffer length to check against. */
#define CERT_DER_MAX (64 * 1024)

/* Pointers into a DER certificate: whole TLVs, as PKCS#11 stores them. */
struct cert_der {
	size_t len;                    /* the whole certificate */
	const BYTE *serial;            /* INTEGER, for CKA_SERIAL_NUMBER */
	size_t serial_len;
	const BYTE *issuer;            /* Name, for CKA_ISSUER */
	size_t issuer_len;
	const BYTE *subject;           /* Name, for CKA_SUBJECT */
	size_t subject_len;
	/* SubjectPublicKeyInfo, or NULL when the walk did not reach one. */
	const BYTE *spki;
	size_t spki_len;
};

/* Walks the outer structure of an X.509 certificate: Certificate and
 * TBSCertificate SEQUENCEs, then version, serial, signature, issuer,
 * validity and subject. The certificate's own length bounds every read;
 * bytes past it are never touched, and nothing is read beyond max.
 * False when the bytes are not a certificate of at most max bytes. */
bool cert_der_parse(const BYTE *der, size_t max, struct cert_der *out);

/* The RSA key of a SubjectPublicKeyInfo (algorithm rsaEncryption, RFC
 * 8017's RSAPublicKey in the BIT STRING): pointers to the contents of the
 * modulus and exponent INTEGERs, big-endian, a leading zero byte
 * included where DER put one. False for another algorithm or DER that
 * does not parse within spki_len. */
bool cert_spki_rsa(const BYTE *spki, size_t spki_len, const BYTE **n, size_t *n_len,
		   const BYTE **e, size_t *e_len);

#endif
