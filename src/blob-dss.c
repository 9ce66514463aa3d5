/* DSS key blobs. */
#include "config.h"
#include "blob-dss.h"
#include "blob-v3.h"

#include <string.h>

#define DSS_V2_HEAD (BLOB_HEADER_LEN + 8)             /* + DSSPUBKEY */
#define DSS_SEED_STRUCT_LEN (4 + BLOB_DSS_SEED_LEN)   /* DSSSEED */

static bool bits_ok(DWORD bits)
{
	return bits % DSS_STEP_BITS == 0 && bits >= DSS_MIN_BITS && bits <= DSS_MAX_BITS;
}

/* Whether the little-endian number is greater than one. */
static bool le_above_one(struct blob_bytes a)
{
	static const BYTE one = 1;

	return blob_le_cmp(a, (struct blob_bytes){ &one, 1 }) > 0;
}

static DWORD dss_values_check(const struct blob_dss *d)
{
	static const BYTE zero = 0;
	struct blob_bytes none = { &zero, 1 };

	/* The top bits the DSS pages require of p and q. */
	if (!(d->p.data[d->p.len - 1] & 0x80) || !(d->q.data[d->q.len - 1] & 0x80))
		return NTE_BAD_DATA;
	if (!le_above_one(d->g) || blob_le_cmp(d->g, d->p) >= 0)
		return NTE_BAD_DATA;
	if (d->y.len > 0 && (!le_above_one(d->y) || blob_le_cmp(d->y, d->p) >= 0))
		return NTE_BAD_DATA;
	if (d->private && (blob_le_cmp(d->x, none) == 0 || blob_le_cmp(d->x, d->q) >= 0))
		return NTE_BAD_DATA;
	return ERROR_SUCCESS;
}

static DWORD parse_v2(const BYTE *data, size_t len, struct blob_dss *d)
{
	size_t P, need, pos = DSS_V2_HEAD;

	if (len < DSS_V2_HEAD)
		return NTE_BAD_DATA;
	if (blob_rd32(data + 8) != (d->private ? CAPI11_DSS2_MAGIC : CAPI11_DSS1_MAGIC))
		return NTE_BAD_DATA;
	d->bitlen = blob_rd32(data + 12);
	/* Checked before it sizes anything: a huge bitlen cannot overflow. */
	if (!bits_ok(d->bitlen))
		return NTE_BAD_DATA;
	P = d->bitlen / 8;
	need = DSS_V2_HEAD + 2 * P + BLOB_DSS_Q_LEN + (d->private ? BLOB_DSS_X_LEN : P) +
	       DSS_SEED_STRUCT_LEN;
	if (len < need)
		return NTE_BAD_DATA;
	blob_take(data, &pos, P, &d->p);
	blob_take(data, &pos, BLOB_DSS_Q_LEN, &d->q);
	blob_take(data, &pos, P, &d->g);
	if (d->private)
		blob_take(data, &pos, BLOB_DSS_X_LEN, &d->x);
	else
		blob_take(data, &pos, P, &d->y);
	d->counter = blob_rd32(data + pos);
	d->seed = data + pos + 4;
	return ERROR_SUCCESS;
}

static DWORD parse_v3(const BYTE *data, size_t len, struct blob_dss *d)
{
	struct blob_v3 v;
	DWORD err;

	err = blob_v3_head(data, len, d->private,
			   d->private ? CAPI11_DSS4_MAGIC : CAPI11_DSS3_MAGIC, &v);
	if (err != ERROR_SUCCESS)
		return err;
	/* Every width is bounded before any is summed. */
	if (!bits_ok(v.bits_p) || v.bits_q != 8 * BLOB_DSS_Q_LEN || v.bits_j % 8 != 0 ||
	    v.bits_j > v.bits_p || (d->private && v.bits_x != 8 * BLOB_DSS_X_LEN))
		return NTE_BAD_DATA;
	err = blob_v3_numbers(data, len, d->private, &v);
	if (err != ERROR_SUCCESS)
		return err;
	d->bitlen = v.bits_p;
	d->counter = v.counter;
	d->seed = v.seed;
	d->p = v.p;
	d->q = v.q;
	d->g = v.g;
	d->j = v.j;
	d->y = v.y;
	d->x = v.x;
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
	return (private ? BLOB_V3_PRIV_HEAD : BLOB_V3_PUB_HEAD) + 3 * P + BLOB_DSS_Q_LEN +
	       (private ? BLOB_DSS_X_LEN : 0);
}

size_t blob_size_dss_private(DWORD bitlen, BYTE version)
{
	return dss_size(bitlen, true, version);
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
	blob_wr32(o + 4, CALG_DSS_SIGN);
	if (version == 2) {
		blob_wr32(o + 8, private ? CAPI11_DSS2_MAGIC : CAPI11_DSS1_MAGIC);
		blob_wr32(o + 12, nums->bitlen);
		pos = DSS_V2_HEAD;
	} else {
		pos = blob_v3_head_write(o, private, private ? CAPI11_DSS4_MAGIC : CAPI11_DSS3_MAGIC,
					 nums->bitlen, 8 * BLOB_DSS_Q_LEN, 8 * BLOB_DSS_X_LEN);
	}
	blob_put(nums->p, o, &pos, P);
	blob_put(nums->q, o, &pos, BLOB_DSS_Q_LEN);
	blob_put(nums->g, o, &pos, P);
	if (version == 3 || !private)
		blob_put(nums->y, o, &pos, P);
	if (private)
		blob_put(nums->x, o, &pos, BLOB_DSS_X_LEN);
	if (version == 2) {
		blob_wr32(o + pos, BLOB_DSS_NO_SEED);
		memset(o + pos + 4, 0, BLOB_DSS_SEED_LEN);
		pos += DSS_SEED_STRUCT_LEN;
	}
	return pos == size ? ERROR_SUCCESS : NTE_FAIL;
}
