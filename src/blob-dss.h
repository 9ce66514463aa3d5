/* DSS key blobs (CALG_DSS_SIGN): PUBLICKEYBLOB and PRIVATEKEYBLOB in
 * version 2 ("DSS1"/"DSS2") and version 3 ("DSS3"/"DSS4",
 * CRYPT_BLOB_VER3). Pure functions in the manner of blob.h: no PKCS#11
 * call, no allocation; parsed numbers are little-endian views into the
 * blob.
 *
 * Version 2 (Microsoft's "DSS Provider Public/Private-Key Blob" pages):
 *   BLOBHEADER {type, 2, 0, CALG_DSS_SIGN}
 *   DSSPUBKEY {magic "DSS1" or "DSS2", bitlen}
 *   p[P] q[20] g[P] then y[P] (public) or x[20] (private)
 *   DSSSEED {counter, seed[20]}                    P = bitlen / 8
 * Version 3 (the DSSPUBKEY_VER3 and DSSPRIVKEY_VER3 pages):
 *   BLOBHEADER {type, 3, 0, CALG_DSS_SIGN}
 *   DSSPUBKEY_VER3 {"DSS3", bitlenP, bitlenQ, bitlenJ, DSSSEED} or
 *   DSSPRIVKEY_VER3 {"DSS4", bitlenP, bitlenQ, bitlenJ, bitlenX, DSSSEED}
 *   p[P] q[Q] g[P] j[J] y[P], then x[X] (private)
 *
 * Parsing checks, after blob_parse_header's: the magic of the type and
 * version, then lengths (bytes past the declared ones are ignored, as
 * blob.h's parsers ignore them): NTE_BAD_DATA; aiKeyAlg not CALG_DSS_SIGN:
 * NTE_BAD_ALGID; then the values, NTE_BAD_DATA: bitlen/bitlenP a multiple
 * of 64 from 512 to 1024 (Microsoft's DSS range), bitlenQ and bitlenX 160,
 * bitlenJ a multiple of 8 no longer than P; p and q with their top bit
 * set, 1 < g < p, 1 < y < p, 0 < x < q. The seed is carried, not judged:
 * checking it would mean redoing the prime generation. */
#ifndef CAPI11_BLOB_DSS_H
#define CAPI11_BLOB_DSS_H

#include "blob.h"

/* Prime lengths of Microsoft's DSS providers: 512 to 1024 bits in steps
 * of 64, 1024 by default. */
#define DSS_MIN_BITS 512
#define DSS_MAX_BITS 1024
#define DSS_STEP_BITS 64
#define DSS_DEFAULT_BITS 1024

#define BLOB_DSS_Q_LEN 20
#define BLOB_DSS_X_LEN 20
#define BLOB_DSS_SEED_LEN 20
/* The counter of a DSSSEED that carries no seed (DSSSEED page); the seed
 * bytes are then zero, as Microsoft's own code writes them. */
#define BLOB_DSS_NO_SEED 0xffffffffu

struct blob_dss {
	bool private;
	BYTE version;                 /* 2 or 3 */
	DWORD bitlen;                 /* of p */
	DWORD counter;
	const BYTE *seed;             /* BLOB_DSS_SEED_LEN bytes, or NULL */
	struct blob_bytes p, q, g;
	struct blob_bytes j;          /* version 3 only; len 0 when absent */
	struct blob_bytes y;          /* absent (len 0) in a version 2 private blob */
	struct blob_bytes x;          /* private only */
};

/* Parses either version of either type; type is the blob's bType. */
DWORD blob_parse_dss(const BYTE *data, size_t len, struct blob_dss *out);

/* The numbers of a DSS key for a blob, big-endian as PKCS#11 gives them
 * (leading zeros allowed). y may be empty for a version 2 private blob;
 * x empty for public blobs. j is never written (bitlenJ 0: "J is not in
 * the BLOB"), and the seed is counter BLOB_DSS_NO_SEED with zero bytes. */
struct blob_dss_numbers {
	DWORD bitlen;                 /* of p: a multiple of 64, 512 to 1024 */
	struct blob_bytes p, q, g, y, x;
};

/* The size of a private blob of a bitlen-bit key in that version (0 for a
 * length or version blob_build_dss refuses). */
size_t blob_size_dss_private(DWORD bitlen, BYTE version);

/* Builds a blob of version 2 or 3, public or private, by the buffer rule
 * of blob.h. Numbers that do not fit their fields: NTE_BAD_KEY. */
DWORD blob_build_dss(const struct blob_dss_numbers *nums, bool private, BYTE version, BYTE *out,
		     size_t out_len, size_t *needed);

#endif
