/* Diffie-Hellman key blobs (CALG_DH_SF, CALG_DH_EPHEM): PUBLICKEYBLOB and
 * PRIVATEKEYBLOB in version 2 ("DH1"/"DH2") and version 3 ("DH3"/"DH4",
 * CRYPT_BLOB_VER3). Pure functions in the manner of blob.h: no PKCS#11
 * call, no allocation; parsed numbers are little-endian views into the
 * blob.
 *
 * Version 2 (Microsoft's "Diffie-Hellman Key BLOBs" page and DHPUBKEY):
 *   BLOBHEADER {type, 2, 0, alg}  DHPUBKEY {magic "\0DH1"/"\0DH2", bitlen}
 *   public:  y[P]                     (p and g are not in the blob)
 *   private: p[P] g[P] x[P]           P = bitlen / 8
 * Version 3 (the "Diffie-Hellman Version 3 Public/Private Key BLOBs"
 * pages, DHPUBKEY_VER3 and DHPRIVKEY_VER3):
 *   BLOBHEADER {type, 3, 0, alg}
 *   DHPUBKEY_VER3 {"\0DH3", bitlenP, bitlenQ, bitlenJ, DSSSEED} or
 *   DHPRIVKEY_VER3 {"\0DH4", bitlenP, bitlenQ, bitlenJ, bitlenX, DSSSEED}
 *   p[P] q[Q] g[P] j[J] y[P], then x[X] (private); Q, J may be 0.
 *
 * Parsing checks, after blob_parse_header's: the magic of the type and
 * version, then lengths (bytes past the declared ones are ignored, as
 * blob.h's parsers ignore them): NTE_BAD_DATA; aiKeyAlg not CALG_DH_SF or
 * CALG_DH_EPHEM: NTE_BAD_ALGID; then the values, NTE_BAD_DATA: bitlen a
 * multiple of 8 from DH_BLOB_MIN_BITS to DH_BLOB_MAX_BITS, bitlenQ,
 * bitlenJ and bitlenX multiples of 8 no longer than P, bitlenX not 0; p
 * with its top bit set (the private-blob page requires it), q too when
 * present, 1 < g < p, 1 < y < p where p is known (a version 2 public
 * blob: y > 1), 0 < x < p. The seed is carried, not judged. */
#ifndef CAPI11_BLOB_DH_H
#define CAPI11_BLOB_DH_H

#include "blob.h"

/* Prime lengths blobs may carry: the widest range of Microsoft's DH
 * providers (the Enhanced provider's 512 to 4096 bits). */
#define DH_BLOB_MIN_BITS 512
#define DH_BLOB_MAX_BITS 4096

struct blob_dh {
	bool private;
	BYTE version;                 /* 2 or 3 */
	ALG_ID alg;                   /* CALG_DH_SF or CALG_DH_EPHEM */
	DWORD bitlen;                 /* of p */
	DWORD counter;                /* version 3 */
	const BYTE *seed;             /* version 3: 20 bytes */
	struct blob_bytes p, q, g, j; /* absent (len 0) in a version 2 public blob; q, j optional */
	struct blob_bytes y;          /* absent in a version 2 private blob */
	struct blob_bytes x;          /* private only */
};

/* Parses either version of either type. */
DWORD blob_parse_dh(const BYTE *data, size_t len, struct blob_dh *out);

/* The numbers of a DH key for a blob, big-endian as PKCS#11 gives them
 * (leading zeros allowed). A version 2 public blob needs y alone; a
 * version 2 private blob p, g and x; version 3 all of p, g, y (and x when
 * private). q may be empty (bitlenQ 0); j is never written and the seed
 * is counter 0xffffffff with zero bytes ("not available"). x is written
 * P bytes wide (bitlenX = bitlenP). */
struct blob_dh_numbers {
	ALG_ID alg;
	DWORD bitlen;                 /* of p: a multiple of 8 in the blob range */
	struct blob_bytes p, q, g, y, x;
};

/* The size of a blob of a bitlen-bit key (q_bits: 0 or q's length) in
 * that version; 0 for what blob_build_dh refuses. */
size_t blob_size_dh(DWORD bitlen, DWORD q_bits, bool private, BYTE version);

/* Builds a blob by the buffer rule of blob.h. Numbers that do not fit
 * their fields, or are missing: NTE_BAD_KEY. */
DWORD blob_build_dh(const struct blob_dh_numbers *nums, bool private, BYTE version, BYTE *out,
		    size_t out_len, size_t *needed);

#endif
