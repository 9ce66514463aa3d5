/* Fuzz target for the DER walk behind CryptSetKeyParam(KP_CERTIFICATE)
 * (src/cert.h): the caller gives a pointer and no length, so the walk is
 * bounded only by the certificate's own header and CERT_DER_MAX. Any bytes
 * must be refused or described by views that lie inside the certificate,
 * which lies inside the input. */
#include "config.h"
#include "fuzz.h"
#include "cert.h"

/* A view [p, p + n) inside [base, base + len). */
static int view_inside(const BYTE *p, size_t n, const BYTE *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

void fuzz_cert_one(const uint8_t *data, size_t size)
{
	struct cert_der c;

	if (!cert_der_parse(data, size, &c))
		return;
	fuzz_check(c.len <= size);
	fuzz_check(view_inside(c.serial, c.serial_len, data, c.len));
	fuzz_check(view_inside(c.issuer, c.issuer_len, data, c.len));
	fuzz_check(view_inside(c.subject, c.subject_len, data, c.len));
	/* The public key, when the walk reached one: its numbers lie inside
	 * the SubjectPublicKeyInfo. */
	if (c.spki != NULL) {
		const BYTE *n, *e;
		size_t n_len, e_len;

		fuzz_check(view_inside(c.spki, c.spki_len, data, c.len));
		if (cert_spki_rsa(c.spki, c.spki_len, &n, &n_len, &e, &e_len)) {
			fuzz_check(view_inside(n, n_len, c.spki, c.spki_len));
			fuzz_check(view_inside(e, e_len, c.spki, c.spki_len));
		}
	}
	/* The walk never looks past the certificate's own end: the same
	 * bytes with nothing after them parse the same way. */
	{
		struct cert_der again;

		fuzz_check(cert_der_parse(data, c.len, &again));
		fuzz_check(again.len == c.len && again.subject == c.subject &&
			   again.subject_len == c.subject_len);
	}
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_cert_one(data, size);
	return 0;
}
#endif
