/* What DSS and Diffie-Hellman blobs share (blob-dss.h, blob-dh.h): their
 * little-endian numbers, and the version 3 layout, whose fields are the
 * same for both (DSSPUBKEY_VER3 and DHPUBKEY_VER3, DSSPRIVKEY_VER3 and
 * DHPRIVKEY_VER3):
 *   BLOBHEADER {type, 3, 0, alg}
 *   {magic, bitlenP, bitlenQ, bitlenJ, [bitlenX: private], DSSSEED}
 *   p[P] q[Q] g[P] j[J] y[P], then x[X] (private)
 * Pure functions, no allocation; views point into the blob. */
#ifndef CAPI11_BLOB_V3_H
#define CAPI11_BLOB_V3_H

#include "blob.h"

#define BLOB_V3_SEED_LEN 20
#define BLOB_V3_SEED_STRUCT_LEN (4 + BLOB_V3_SEED_LEN)      /* DSSSEED */
#define BLOB_V3_PUB_HEAD (BLOB_HEADER_LEN + 16 + BLOB_V3_SEED_STRUCT_LEN)
#define BLOB_V3_PRIV_HEAD (BLOB_HEADER_LEN + 20 + BLOB_V3_SEED_STRUCT_LEN)
/* The DSSSEED counter that says no seed is available. */
#define BLOB_V3_NO_SEED 0xffffffffu

/* Little-endian integers, byte by byte: blobs need not be aligned. */
static inline DWORD blob_rd32(const BYTE *p)
{
	return (DWORD)p[0] | (DWORD)p[1] << 8 | (DWORD)p[2] << 16 | (DWORD)p[3] << 24;
}

static inline void blob_wr32(BYTE *p, DWORD v)
{
	p[0] = (BYTE)v;
	p[1] = (BYTE)(v >> 8);
	p[2] = (BYTE)(v >> 16);
	p[3] = (BYTE)(v >> 24);
}

/* Compares two little-endian numbers of any widths: <0, 0, >0. */
int blob_le_cmp(struct blob_bytes a, struct blob_bytes b);
/* The view of the n bytes at *pos, which moves past them. */
void blob_take(const BYTE *data, size_t *pos, size_t n, struct blob_bytes *view);
/* A big-endian number into its little-endian field of width bytes at *pos
 * (checked to fit by the caller), which moves past it. */
void blob_put(struct blob_bytes be, BYTE *out, size_t *pos, size_t width);

struct blob_v3 {
	DWORD bits_p, bits_q, bits_j, bits_x; /* bits_x 0 in a public blob */
	DWORD counter;
	const BYTE *seed;                     /* BLOB_V3_SEED_LEN bytes */
	struct blob_bytes p, q, g, j, y, x;   /* q, j of length 0 when absent */
};

/* The fixed part of a version 3 blob: NTE_BAD_DATA when len is shorter
 * than it or the magic is not magic. The widths are read, not judged. */
DWORD blob_v3_head(const BYTE *data, size_t len, bool private, DWORD magic, struct blob_v3 *v);

/* The numbers after the fixed part, once the caller has bounded every
 * width to at most 8 * 65536 bits and to whole bytes (so that their sum
 * cannot overflow): NTE_BAD_DATA when len is shorter than they say. */
DWORD blob_v3_numbers(const BYTE *data, size_t len, bool private, struct blob_v3 *v);

/* Writes the fixed part with bitlenJ 0 (no j) and no seed, the counter
 * BLOB_V3_NO_SEED with zero bytes; returns the offset of p. */
size_t blob_v3_head_write(BYTE *out, bool private, DWORD magic, DWORD bits_p, DWORD bits_q,
			  DWORD bits_x);

#endif
