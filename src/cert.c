/* Certificates beside keys: a bounded DER walk for the fields PKCS#11
 * stores with a certificate. No parsing beyond the outer structure: the
 * token and the caller own the meaning. Pure code, no PKCS#11 call, so
 * that it can be fuzzed alone. */
#include "config.h"
#include "cert.h"
#include "util.h"

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
	return der_next(tbs, &pos, end, DER_INTEGER, &out->serial, &out->serial_len) &&
	       der_next(tbs, &pos, end, DER_SEQUENCE, &skip, &skip_len) &&
	       der_next(tbs, &pos, end, DER_SEQUENCE, &out->issuer, &out->issuer_len) &&
	       der_next(tbs, &pos, end, DER_SEQUENCE, &skip, &skip_len) &&
	       der_next(tbs, &pos, end, DER_SEQUENCE, &out->subject, &out->subject_len);
}
