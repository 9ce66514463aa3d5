/* Diffie-Hellman key blobs. */
#include "config.h"
#include "blob-dh.h"

#include <string.h>

#define DH_V2_HEAD (BLOB_HEADER_LEN + 8)              /* + DHPUBKEY */
#define DH_SEED_LEN 20
#define DH_SEED_STRUCT_LEN (4 + DH_SEED_LEN)         /* DSSSEED */
#define DH_V3_PUB_HEAD (BLOB_HEADER_LEN + 16 + DH_SEED_STRUCT_LEN)
#define DH_V3_PRIV_HEAD (BLOB_HEADER_LEN + 20 + DH_SEED_STRUCT_LEN)
#define DH_NO_SEED 0xffffffffu

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
	return bits % 8 == 0 && bits >= DH_BLOB_MIN_BITS && bits <= DH_BLOB_MAX_BITS;
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

static bool le_above(struct blob_bytes a, BYTE small)
{
	return le_cmp(a, (struct blob_bytes){ &small, 1 }) > 0;
}

static void take(const BYTE *data, size_t *pos, size_t n, struct blob_bytes *view)
{
	view->data = data + *pos;
	view->len = n;
	*pos += n;
}

static DWORD dh_values_check(const struct blob_dh *d)
{
	bool have_p = d->p.len > 0;

	if (have_p && !(d->p.data[d->p.len - 1] & 0x80))
		return NTE_BAD_DATA;
	if (d->q.len > 0 && !(d->q.data[d->q.len - 1] & 0x80))
		return NTE_BAD_DATA;
	if (have_p && (!le_above(d->g, 1) || le_cmp(d->g, d->p) >= 0))
		return NTE_BAD_DATA;
	if (d->y.len > 0 && (!le_above(d->y, 1) || (have_p && le_cmp(d->y, d->p) >= 0)))
		return NTE_BAD_DATA;
	if (d->private && (!le_above(d->x, 0) || le_cmp(d->x, d->p) >= 0))
		return NTE_BAD_DATA;
	return ERROR_SUCCESS;
}

static DWORD parse_v2(const BYTE *data, size_t len, struct blob_dh *d)
{
	size_t P, need, pos = DH_V2_HEAD;

	if (len < DH_V2_HEAD)
		return NTE_BAD_DATA;
	if (rd32(data + 8) != (d->private ? CAPI11_DH2_MAGIC : CAPI11_DH1_MAGIC))
		return NTE_BAD_DATA;
	d->bitlen = rd32(data + 12);
	/* Checked before it sizes anything: a huge bitlen cannot overflow. */
	if (!bits_ok(d->bitlen))
		return NTE_BAD_DATA;
	P = d->bitlen / 8;
	need = DH_V2_HEAD + (d->private ? 3 * P : P);
	if (len < need)
		return NTE_BAD_DATA;
	if (d->private) {
		take(data, &pos, P, &d->p);
		take(data, &pos, P, &d->g);
		take(data, &pos, P, &d->x);
	} else {
		take(data, &pos, P, &d->y);
	}
	d->counter = DH_NO_SEED;
	return ERROR_SUCCESS;
}

static DWORD parse_v3(const BYTE *data, size_t len, struct blob_dh *d)
{
	size_t head = d->private ? DH_V3_PRIV_HEAD : DH_V3_PUB_HEAD, pos = head;
	size_t P, Q, J, X, need;
	DWORD bits_q, bits_j, bits_x = 0;

	if (len < head)
		return NTE_BAD_DATA;
	if (rd32(data + 8) != (d->private ? CAPI11_DH4_MAGIC : CAPI11_DH3_MAGIC))
		return NTE_BAD_DATA;
	d->bitlen = rd32(data + 12);
	bits_q = rd32(data + 16);
	bits_j = rd32(data + 20);
	if (d->private)
		bits_x = rd32(data + 24);
	d->counter = rd32(data + head - DH_SEED_STRUCT_LEN);
	d->seed = data + head - DH_SEED_LEN;
	/* Every width is bounded before any is summed. */
	if (!bits_ok(d->bitlen) || bits_q % 8 != 0 || bits_q > d->bitlen || bits_j % 8 != 0 ||
	    bits_j > d->bitlen || bits_x % 8 != 0 || bits_x > d->bitlen ||
	    (d->private && bits_x == 0))
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

DWORD blob_parse_dh(const BYTE *data, size_t len, struct blob_dh *out)
{
	struct blob_dh d;
	BLOBHEADER h;
	DWORD err;

	memset(out, 0, sizeof *out);
	err = blob_parse_header(data, len, &h);
	if (err != ERROR_SUCCESS)
		return err;
	if (h.bType != PUBLICKEYBLOB && h.bType != PRIVATEKEYBLOB)
		return NTE_BAD_TYPE;
	if (h.bVersion != 2 && h.bVersion != 3)
		return NTE_BAD_DATA;
	memset(&d, 0, sizeof d);
	d.private = h.bType == PRIVATEKEYBLOB;
	d.version = h.bVersion;
	d.alg = h.aiKeyAlg;
	err = d.version == 3 ? parse_v3(data, len, &d) : parse_v2(data, len, &d);
	if (err != ERROR_SUCCESS)
		return err;
	if (h.aiKeyAlg != CALG_DH_SF && h.aiKeyAlg != CALG_DH_EPHEM)
		return NTE_BAD_ALGID;
	err = dh_values_check(&d);
	if (err != ERROR_SUCCESS)
		return err;
	*out = d;
	return ERROR_SUCCESS;
}

size_t blob_size_dh(DWORD bitlen, DWORD q_bits, bool private, BYTE version)
{
	size_t P = bitlen / 8;

	if (!bits_ok(bitlen) || q_bits % 8 != 0 || q_bits > bitlen)
		return 0;
	if (version == 2)
		return DH_V2_HEAD + (private ? 3 * P : P);
	if (version == 3)
		return (private ? DH_V3_PRIV_HEAD + P : DH_V3_PUB_HEAD) + 3 * P + q_bits / 8;
	return 0;
}

/* A big-endian number into its little-endian field at *pos (checked to
 * fit by the caller). */
static void put(struct blob_bytes be, BYTE *o, size_t *pos, size_t width)
{
	bn_be_to_le(be.data, be.len, o + *pos, width);
	*pos += width;
}

DWORD blob_build_dh(const struct blob_dh_numbers *nums, bool private, BYTE version, BYTE *out,
		    size_t out_len, size_t *needed)
{
	size_t P, Q, size, pos;
	bool full = version == 3 || private;
	BYTE *o;

	*needed = 0;
	if (!bits_ok(nums->bitlen) || (version != 2 && version != 3) ||
	    (nums->alg != CALG_DH_SF && nums->alg != CALG_DH_EPHEM))
		return NTE_BAD_KEY;
	P = nums->bitlen / 8;
	Q = version == 3 ? bn_be_len(nums->q.data, nums->q.len) : 0;
	/* What the blob must carry, and every number within its field. */
	if (full && (bn_be_len(nums->p.data, nums->p.len) != P ||
		     bn_be_len(nums->g.data, nums->g.len) == 0 ||
		     bn_be_len(nums->g.data, nums->g.len) > P))
		return NTE_BAD_KEY;
	if ((!private || version == 3) && (bn_be_len(nums->y.data, nums->y.len) == 0 ||
					    bn_be_len(nums->y.data, nums->y.len) > P))
		return NTE_BAD_KEY;
	if (private && (bn_be_len(nums->x.data, nums->x.len) == 0 ||
			bn_be_len(nums->x.data, nums->x.len) > P))
		return NTE_BAD_KEY;
	if (Q > P)
		return NTE_BAD_KEY;
	size = blob_size_dh(nums->bitlen, (DWORD)Q * 8, private, version);
	*needed = size;
	if (out == NULL)
		return ERROR_SUCCESS;
	if (out_len < size)
		return ERROR_MORE_DATA;

	o = out;
	o[0] = private ? PRIVATEKEYBLOB : PUBLICKEYBLOB;
	o[1] = version;
	o[2] = o[3] = 0;
	wr32(o + 4, nums->alg);
	if (version == 2) {
		wr32(o + 8, private ? CAPI11_DH2_MAGIC : CAPI11_DH1_MAGIC);
		wr32(o + 12, nums->bitlen);
		pos = DH_V2_HEAD;
		if (private) {
			put(nums->p, o, &pos, P);
			put(nums->g, o, &pos, P);
			put(nums->x, o, &pos, P);
		} else {
			put(nums->y, o, &pos, P);
		}
		return pos == size ? ERROR_SUCCESS : NTE_FAIL;
	}
	wr32(o + 8, private ? CAPI11_DH4_MAGIC : CAPI11_DH3_MAGIC);
	wr32(o + 12, nums->bitlen);
	wr32(o + 16, (DWORD)Q * 8);
	wr32(o + 20, 0);                 /* no J */
	pos = 24;
	if (private) {
		wr32(o + pos, nums->bitlen); /* x as wide as p */
		pos += 4;
	}
	wr32(o + pos, DH_NO_SEED);
	memset(o + pos + 4, 0, DH_SEED_LEN);
	pos += DH_SEED_STRUCT_LEN;
	put(nums->p, o, &pos, P);
	if (Q > 0)
		put(nums->q, o, &pos, Q);
	put(nums->g, o, &pos, P);
	put(nums->y, o, &pos, P);
	if (private)
		put(nums->x, o, &pos, P);
	return pos == size ? ERROR_SUCCESS : NTE_FAIL;
}
