/* Certificates beside keys: a bounded DER walk for the fields PKCS#11
 * stores with a certificate. No parsing beyond the outer structure: the
 * token and the caller own the meaning. Pure code, no PKCS#11 call, so
 * that it can be fuzzed alone. */
#include "config.h"
#include "cert.h"
#include "util.h"

#include <string.h>

#define DER_SEQUENCE 0x30
#define DER_INTEGER 0x02
#define DER_VERSION_TAG 0xa0           /* [0] EXPLICIT Version */

/* One TLV at p with n bytes available: its tag, header length and content
 * length; the content must fit in n. Only the header bytes the length form
 * announces are read. */
static bool der_tlv(const BYTE *p, size_t n, BYTE *tag, size_t *hdr, size_t *len)
{
	size_t k, i, v = 0;

	if (n < 2 || (p[0] & 0x1f) == 0x1f)    /* high tag numbers: not in X.509 */
		return false;
	*tag = p[0];
	if (p[1] < 0x80) {
		*hdr = 2;
		*len = p[1];
	} else {
		/* Indefinite lengths are BER, not DER; four bytes is plenty. */
		k = p[1] & 0x7f;
		if (k == 0 || k > 4 || 2 + k > n)
			return false;
		for (i = 0; i < k; i++)
			v = (v << 8) | p[2 + i];
		*hdr = 2 + k;
		*len = v;
	}
	/* *hdr <= n here; written so that a four-byte length cannot wrap a
	 * 32-bit size_t. */
	return *hdr <= n && *len <= n - *hdr;
}

/* Steps over the next element of a SEQUENCE's content [*pos, end) when it
 * has the wanted tag; with want 0 any tag is taken. */
static bool der_next(const BYTE *base, size_t *pos, size_t end, BYTE want, const BYTE **elem,
		     size_t *elem_len)
{
	size_t hdr, len;
	BYTE tag;

	if (*pos >= end || !der_tlv(base + *pos, end - *pos, &tag, &hdr, &len))
		return false;
	if (want != 0 && tag != want)
		return false;
	*elem = base + *pos;
	*elem_len = hdr + len;
	*pos += hdr + len;
	return true;
}

bool cert_der_parse(const BYTE *der, size_t max, struct cert_der *out)
{
	const BYTE *tbs, *skip;
	size_t hdr, len, tbs_hdr, tbs_len, pos, end, skip_len;
	BYTE tag;

	/* der_tlv reads only the header bytes before trusting the length:
	 * the certificate's own length is all CryptSetKeyParam gives. */
	if (der == NULL || !der_tlv(der, max, &tag, &hdr, &len) || tag != DER_SEQUENCE)
		return false;
	out->len = hdr + len;

	/* TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber,
	 * signature, issuer, validity, subject, ... } */
	if (!der_tlv(der + hdr, len, &tag, &tbs_hdr, &tbs_len) || tag != DER_SEQUENCE)
		return false;
	tbs = der + hdr;
	pos = tbs_hdr;
	end = tbs_hdr + tbs_len;
	if (pos < end && tbs[pos] == DER_VERSION_TAG && !der_next(tbs, &pos, end, 0, &skip, &skip_len))
		return false;
	if (!der_next(tbs, &pos, end, DER_INTEGER, &out->serial, &out->serial_len) ||
	    !der_next(tbs, &pos, end, DER_SEQUENCE, &skip, &skip_len) ||
	    !der_next(tbs, &pos, end, DER_SEQUENCE, &out->issuer, &out->issuer_len) ||
	    !der_next(tbs, &pos, end, DER_SEQUENCE, &skip, &skip_len) ||
	    !der_next(tbs, &pos, end, DER_SEQUENCE, &out->subject, &out->subject_len))
		return false;
	/* Read only by the routes that want the key (cert_spki_rsa). */
	if (!der_next(tbs, &pos, end, DER_SEQUENCE, &out->spki, &out->spki_len)) {
		out->spki = NULL;
		out->spki_len = 0;
	}
	return true;
}

/* The content of the TLV at p (len bytes in all, as der_next gives it). */
static bool der_content(const BYTE *p, size_t len, BYTE want, const BYTE **c, size_t *c_len)
{
	size_t hdr, n;
	BYTE tag;

	if (!der_tlv(p, len, &tag, &hdr, &n) || tag != want || hdr + n != len)
		return false;
	*c = p + hdr;
	*c_len = n;
	return true;
}

bool cert_spki_rsa(const BYTE *spki, size_t spki_len, const BYTE **n, size_t *n_len,
		   const BYTE **e, size_t *e_len)
{
	/* OBJECT IDENTIFIER 1.2.840.113549.1.1.1, rsaEncryption. */
	static const BYTE rsa_oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
					0x01, 0x01, 0x01 };
	const BYTE *body, *alg, *oid, *bits, *key, *elem;
	size_t body_len, alg_len, oid_len, bits_len, key_len, elem_len, pos = 0, apos = 0, kpos = 0;

	/* SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
	 * subjectPublicKey BIT STRING } */
	if (spki == NULL || !der_content(spki, spki_len, DER_SEQUENCE, &body, &body_len) ||
	    !der_next(body, &pos, body_len, DER_SEQUENCE, &elem, &elem_len) ||
	    !der_content(elem, elem_len, DER_SEQUENCE, &alg, &alg_len) ||
	    !der_next(alg, &apos, alg_len, 0x06, &oid, &oid_len) ||
	    oid_len != sizeof rsa_oid || memcmp(oid, rsa_oid, sizeof rsa_oid) != 0 ||
	    !der_next(body, &pos, body_len, 0x03, &elem, &elem_len) ||
	    !der_content(elem, elem_len, 0x03, &bits, &bits_len))
		return false;
	/* No unused bits: the BIT STRING holds the DER RSAPublicKey. */
	if (bits_len < 1 || bits[0] != 0 ||
	    !der_content(bits + 1, bits_len - 1, DER_SEQUENCE, &key, &key_len) ||
	    !der_next(key, &kpos, key_len, DER_INTEGER, &elem, &elem_len) ||
	    !der_content(elem, elem_len, DER_INTEGER, n, n_len) ||
	    !der_next(key, &kpos, key_len, DER_INTEGER, &elem, &elem_len) ||
	    !der_content(elem, elem_len, DER_INTEGER, e, e_len))
		return false;
	return *n_len > 0 && *e_len > 0;
}
