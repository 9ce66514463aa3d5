/* Diffie-Hellman key blobs. */
#include "config.h"
#include "blob-dh.h"
#include "blob-v3.h"

#include <string.h>

#define DH_V2_HEAD (BLOB_HEADER_LEN + 8)              /* + DHPUBKEY */

static bool bits_ok(DWORD bits)
{
	return bits % 8 == 0 && bits >= DH_BLOB_MIN_BITS && bits <= DH_BLOB_MAX_BITS;
}

static bool le_above(struct blob_bytes a, BYTE small)
{
	return blob_le_cmp(a, (struct blob_bytes){ &small, 1 }) > 0;
}

static DWORD dh_values_check(const struct blob_dh *d)
{
	bool have_p = d->p.len > 0;

	if (have_p && !(d->p.data[d->p.len - 1] & 0x80))
		return NTE_BAD_DATA;
	if (d->q.len > 0 && !(d->q.data[d->q.len - 1] & 0x80))
		return NTE_BAD_DATA;
	if (have_p && (!le_above(d->g, 1) || blob_le_cmp(d->g, d->p) >= 0))
		return NTE_BAD_DATA;
	if (d->y.len > 0 && (!le_above(d->y, 1) || (have_p && blob_le_cmp(d->y, d->p) >= 0)))
		return NTE_BAD_DATA;
	if (d->private && (!le_above(d->x, 0) || blob_le_cmp(d->x, d->p) >= 0))
		return NTE_BAD_DATA;
	return ERROR_SUCCESS;
}

static DWORD parse_v2(const BYTE *data, size_t len, struct blob_dh *d)
{
	size_t P, need, pos = DH_V2_HEAD;

	if (len < DH_V2_HEAD)
		return NTE_BAD_DATA;
	if (blob_rd32(data + 8) != (d->private ? CAPI11_DH2_MAGIC : CAPI11_DH1_MAGIC))
		return NTE_BAD_DATA;
	d->bitlen = blob_rd32(data + 12);
	/* Checked before it sizes anything: a huge bitlen cannot overflow. */
	if (!bits_ok(d->bitlen))
		return NTE_BAD_DATA;
	P = d->bitlen / 8;
	need = DH_V2_HEAD + (d->private ? 3 * P : P);
	if (len < need)
		return NTE_BAD_DATA;
	if (d->private) {
		blob_take(data, &pos, P, &d->p);
		blob_take(data, &pos, P, &d->g);
		blob_take(data, &pos, P, &d->x);
	} else {
		blob_take(data, &pos, P, &d->y);
	}
	d->counter = BLOB_V3_NO_SEED;
	return ERROR_SUCCESS;
}

static DWORD parse_v3(const BYTE *data, size_t len, struct blob_dh *d)
{
	struct blob_v3 v;
	DWORD err;

	err = blob_v3_head(data, len, d->private,
			   d->private ? CAPI11_DH4_MAGIC : CAPI11_DH3_MAGIC, &v);
	if (err != ERROR_SUCCESS)
		return err;
	/* Every width is bounded before any is summed. */
	if (!bits_ok(v.bits_p) || v.bits_q % 8 != 0 || v.bits_q > v.bits_p ||
	    v.bits_j % 8 != 0 || v.bits_j > v.bits_p || v.bits_x % 8 != 0 ||
	    v.bits_x > v.bits_p || (d->private && v.bits_x == 0))
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
		return (private ? BLOB_V3_PRIV_HEAD + P : BLOB_V3_PUB_HEAD) + 3 * P + q_bits / 8;
	return 0;
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
	blob_wr32(o + 4, nums->alg);
	if (version == 2) {
		blob_wr32(o + 8, private ? CAPI11_DH2_MAGIC : CAPI11_DH1_MAGIC);
		blob_wr32(o + 12, nums->bitlen);
		pos = DH_V2_HEAD;
		if (private) {
			blob_put(nums->p, o, &pos, P);
			blob_put(nums->g, o, &pos, P);
			blob_put(nums->x, o, &pos, P);
		} else {
			blob_put(nums->y, o, &pos, P);
		}
		return pos == size ? ERROR_SUCCESS : NTE_FAIL;
	}
	/* x as wide as p. */
	pos = blob_v3_head_write(o, private, private ? CAPI11_DH4_MAGIC : CAPI11_DH3_MAGIC,
				 nums->bitlen, (DWORD)Q * 8, nums->bitlen);
	blob_put(nums->p, o, &pos, P);
	if (Q > 0)
		blob_put(nums->q, o, &pos, Q);
	blob_put(nums->g, o, &pos, P);
	blob_put(nums->y, o, &pos, P);
	if (private)
		blob_put(nums->x, o, &pos, P);
	return pos == size ? ERROR_SUCCESS : NTE_FAIL;
}
