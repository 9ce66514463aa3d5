/* DSS key blobs. */
#include "config.h"
#include "blob-dss.h"

#include <string.h>

#define DSS_V2_HEAD (BLOB_HEADER_LEN + 8)             /* + DSSPUBKEY */
#define DSS_SEED_STRUCT_LEN (4 + BLOB_DSS_SEED_LEN)   /* DSSSEED */
#define DSS_V3_PUB_HEAD (BLOB_HEADER_LEN + 16 + DSS_SEED_STRUCT_LEN)
#define DSS_V3_PRIV_HEAD (BLOB_HEADER_LEN + 20 + DSS_SEED_STRUCT_LEN)

static DWORD rd32(const BYTE *p)
{
	return (DWORD)p[0] | (DWORD)p[1] << 8 | (DWORD)p[2] << 16 | (DWORD)p[3] << 24;
}

static void wr32(BYTE *p, DWORD v)
{
	p[0] = (BYTE)v;
	p[1] = (BYTE)(v >> 8);
	p[2] = (BYTE)(v >> 16);
	p[3] = (BYTE)(v >> 24);
}

static bool bits_ok(DWORD bits)
{
	return bits % DSS_STEP_BITS == 0 && bits >= DSS_MIN_BITS && bits <= DSS_MAX_BITS;
}

/* Compares two little-endian numbers of any widths: <0, 0, >0. */
static int le_cmp(struct blob_bytes a, struct blob_bytes b)
{
	size_t la = a.len, lb = b.len;

	while (la > 0 && a.data[la - 1] == 0)
		la--;
	while (lb > 0 && b.data[lb - 1] == 0)
		lb--;
	if (la != lb)
		return la < lb ? -1 : 1;
	while (la > 0) {
		la--;
		if (a.data[la] != b.data[la])
			return a.data[la] < b.data[la] ? -1 : 1;
	}
	return 0;
}

/* Whether the little-endian number is greater than one. */
static bool le_above_one(struct blob_bytes a)
{
	static const BYTE one = 1;

	return le_cmp(a, (struct blob_bytes){ &one, 1 }) > 0;
}

static void take(const BYTE *data, size_t *pos, size_t n, struct blob_bytes *view)
{
	view->data = data + *pos;
	view->len = n;
	*pos += n;
}

static DWORD dss_values_check(const struct blob_dss *d)
{
	static const BYTE zero = 0;
	struct blob_bytes none = { &zero, 1 };

	/* The top bits the DSS pages require of p and q. */
	if (!(d->p.data[d->p.len - 1] & 0x80) || !(d->q.data[d->q.len - 1] & 0x80))
		return NTE_BAD_DATA;
	if (!le_above_one(d->g) || le_cmp(d->g, d->p) >= 0)
		return NTE_BAD_DATA;
	if (d->y.len > 0 && (!le_above_one(d->y) || le_cmp(d->y, d->p) >= 0))
		return NTE_BAD_DATA;
	if (d->private && (le_cmp(d->x, none) == 0 || le_cmp(d->x, d->q) >= 0))
		return NTE_BAD_DATA;
	return ERROR_SUCCESS;
}

static DWORD parse_v2(const BYTE *data, size_t len, struct blob_dss *d)
{
	size_t P, need, pos = DSS_V2_HEAD;

	if (len < DSS_V2_HEAD)
		return NTE_BAD_DATA;
	if (rd32(data + 8) != (d->private ? CAPI11_DSS2_MAGIC : CAPI11_DSS1_MAGIC))
		return NTE_BAD_DATA;
	d->bitlen = rd32(data + 12);
	/* Checked before it sizes anything: a huge bitlen cannot overflow. */
	if (!bits_ok(d->bitlen))
		return NTE_BAD_DATA;
	P = d->bitlen / 8;
	need = DSS_V2_HEAD + 2 * P + BLOB_DSS_Q_LEN + (d->private ? BLOB_DSS_X_LEN : P) +
	       DSS_SEED_STRUCT_LEN;
	if (len < need)
		return NTE_BAD_DATA;
	take(data, &pos, P, &d->p);
	take(data, &pos, BLOB_DSS_Q_LEN, &d->q);
	take(data, &pos, P, &d->g);
	if (d->private)
		take(data, &pos, BLOB_DSS_X_LEN, &d->x);
	else
		take(data, &pos, P, &d->y);
	d->counter = rd32(data + pos);
	d->seed = data + pos + 4;
	return ERROR_SUCCESS;
}

static DWORD parse_v3(const BYTE *data, size_t len, struct blob_dss *d)
{
	size_t head = d->private ? DSS_V3_PRIV_HEAD : DSS_V3_PUB_HEAD, pos = head;
	size_t P, Q, J, X = 0, need;
	DWORD bits_q, bits_j, bits_x = 0;

	if (len < head)
		return NTE_BAD_DATA;
	if (rd32(data + 8) != (d->private ? CAPI11_DSS4_MAGIC : CAPI11_DSS3_MAGIC))
		return NTE_BAD_DATA;
	d->bitlen = rd32(data + 12);
	bits_q = rd32(data + 16);
	bits_j = rd32(data + 20);
	if (d->private)
		bits_x = rd32(data + 24);
	d->counter = rd32(data + head - DSS_SEED_STRUCT_LEN);
	d->seed = data + head - BLOB_DSS_SEED_LEN;
	/* Every width is bounded before any is summed. */
	if (!bits_ok(d->bitlen) || bits_q != 8 * BLOB_DSS_Q_LEN || bits_j % 8 != 0 ||
	    bits_j > d->bitlen || (d->private && bits_x != 8 * BLOB_DSS_X_LEN))
		return NTE_BAD_DATA;
	P = d->bitlen / 8;
	Q = bits_q / 8;
	J = bits_j / 8;
	X = bits_x / 8;
	need = head + 3 * P + Q + J + X;
	if (len < need)
		return NTE_BAD_DATA;
	take(data, &pos, P, &d->p);
	take(data, &pos, Q, &d->q);
	take(data, &pos, P, &d->g);
	take(data, &pos, J, &d->j);
	take(data, &pos, P, &d->y);
	if (d->private)
		take(data, &pos, X, &d->x);
	return ERROR_SUCCESS;
}

DWORD blob_parse_dss(const BYTE *data, size_t len, struct blob_dss *out)
{
	struct blob_dss d;
	BLOBHEADER h;
	DWORD err;

	memset(out, 0, sizeof *out);
	err = blob_parse_header(data, len, &h);
	if (err != ERROR_SUCCESS)
		return err;
	if (h.bType != PUBLICKEYBLOB && h.bType != PRIVATEKEYBLOB)
		return NTE_BAD_TYPE;
	memset(&d, 0, sizeof d);
	d.private = h.bType == PRIVATEKEYBLOB;
	d.version = h.bVersion;
	err = d.version == 3 ? parse_v3(data, len, &d) : parse_v2(data, len, &d);
	if (err != ERROR_SUCCESS)
		return err;
	if (h.aiKeyAlg != CALG_DSS_SIGN)
		return NTE_BAD_ALGID;
	err = dss_values_check(&d);
	if (err != ERROR_SUCCESS)
		return err;
	*out = d;
	return ERROR_SUCCESS;
}

static size_t dss_size(DWORD bitlen, bool private, BYTE version)
{
	size_t P = bitlen / 8;

	if (!bits_ok(bitlen) || (version != 2 && version != 3))
		return 0;
	if (version == 2)
		return DSS_V2_HEAD + 2 * P + BLOB_DSS_Q_LEN + (private ? BLOB_DSS_X_LEN : P) +
		       DSS_SEED_STRUCT_LEN;
	return (private ? DSS_V3_PRIV_HEAD : DSS_V3_PUB_HEAD) + 3 * P + BLOB_DSS_Q_LEN +
	       (private ? BLOB_DSS_X_LEN : 0);
}

size_t blob_size_dss_private(DWORD bitlen, BYTE version)
{
	return dss_size(bitlen, true, version);
}

/* A big-endian number into its little-endian field at *pos (checked to
 * fit by the caller). */
static void put(struct blob_bytes be, BYTE *o, size_t *pos, size_t width)
{
	bn_be_to_le(be.data, be.len, o + *pos, width);
	*pos += width;
}

DWORD blob_build_dss(const struct blob_dss_numbers *nums, bool private, BYTE version, BYTE *out,
		     size_t out_len, size_t *needed)
{
	size_t P, size, pos;
	BYTE *o;

	*needed = 0;
	if (!bits_ok(nums->bitlen) || (version != 2 && version != 3))
		return NTE_BAD_KEY;
	P = nums->bitlen / 8;
	/* What the blob must carry, and every number within its field. */
	if (bn_be_len(nums->p.data, nums->p.len) != P ||
	    bn_be_len(nums->q.data, nums->q.len) != BLOB_DSS_Q_LEN ||
	    bn_be_len(nums->g.data, nums->g.len) > P ||
	    bn_be_len(nums->y.data, nums->y.len) > P ||
	    bn_be_len(nums->x.data, nums->x.len) > BLOB_DSS_X_LEN)
		return NTE_BAD_KEY;
	if ((!private || version == 3) && bn_be_len(nums->y.data, nums->y.len) == 0)
		return NTE_BAD_KEY;
	if (private && bn_be_len(nums->x.data, nums->x.len) == 0)
		return NTE_BAD_KEY;
	size = dss_size(nums->bitlen, private, version);
	*needed = size;
	if (out == NULL)
		return ERROR_SUCCESS;
	if (out_len < size)
		return ERROR_MORE_DATA;

	o = out;
	o[0] = private ? PRIVATEKEYBLOB : PUBLICKEYBLOB;
	o[1] = version;
	o[2] = o[3] = 0;
	wr32(o + 4, CALG_DSS_SIGN);
	if (version == 2) {
		wr32(o + 8, private ? CAPI11_DSS2_MAGIC : CAPI11_DSS1_MAGIC);
		wr32(o + 12, nums->bitlen);
		pos = DSS_V2_HEAD;
	} else {
		wr32(o + 8, private ? CAPI11_DSS4_MAGIC : CAPI11_DSS3_MAGIC);
		wr32(o + 12, nums->bitlen);
		wr32(o + 16, 8 * BLOB_DSS_Q_LEN);
		wr32(o + 20, 0);                 /* no J */
		pos = 24;
		if (private) {
			wr32(o + pos, 8 * BLOB_DSS_X_LEN);
			pos += 4;
		}
		wr32(o + pos, BLOB_DSS_NO_SEED);
		memset(o + pos + 4, 0, BLOB_DSS_SEED_LEN);
		pos += DSS_SEED_STRUCT_LEN;
	}
	put(nums->p, o, &pos, P);
	put(nums->q, o, &pos, BLOB_DSS_Q_LEN);
	put(nums->g, o, &pos, P);
	if (version == 3 || !private)
		put(nums->y, o, &pos, P);
	if (private)
		put(nums->x, o, &pos, BLOB_DSS_X_LEN);
	if (version == 2) {
		wr32(o + pos, BLOB_DSS_NO_SEED);
		memset(o + pos + 4, 0, BLOB_DSS_SEED_LEN);
		pos += DSS_SEED_STRUCT_LEN;
	}
	return pos == size ? ERROR_SUCCESS : NTE_FAIL;
}
