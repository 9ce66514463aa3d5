/* What DSS and Diffie-Hellman blobs share (blob-v3.h). */
#include "config.h"
#include "blob-v3.h"

#include <string.h>

int blob_le_cmp(struct blob_bytes a, struct blob_bytes b)
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

void blob_take(const BYTE *data, size_t *pos, size_t n, struct blob_bytes *view)
{
	view->data = data + *pos;
	view->len = n;
	*pos += n;
}

void blob_put(struct blob_bytes be, BYTE *out, size_t *pos, size_t width)
{
	bn_be_to_le(be.data, be.len, out + *pos, width);
	*pos += width;
}

DWORD blob_v3_head(const BYTE *data, size_t len, bool private, DWORD magic, struct blob_v3 *v)
{
	size_t head = private ? BLOB_V3_PRIV_HEAD : BLOB_V3_PUB_HEAD;

	memset(v, 0, sizeof *v);
	if (len < head || blob_rd32(data + 8) != magic)
		return NTE_BAD_DATA;
	v->bits_p = blob_rd32(data + 12);
	v->bits_q = blob_rd32(data + 16);
	v->bits_j = blob_rd32(data + 20);
	if (private)
		v->bits_x = blob_rd32(data + 24);
	v->counter = blob_rd32(data + head - BLOB_V3_SEED_STRUCT_LEN);
	v->seed = data + head - BLOB_V3_SEED_LEN;
	return ERROR_SUCCESS;
}

DWORD blob_v3_numbers(const BYTE *data, size_t len, bool private, struct blob_v3 *v)
{
	size_t pos = private ? BLOB_V3_PRIV_HEAD : BLOB_V3_PUB_HEAD;
	size_t P = v->bits_p / 8, Q = v->bits_q / 8, J = v->bits_j / 8, X = v->bits_x / 8;

	/* Each width is at most 65536 bytes (the caller's bound): no sum of
	 * them overflows. */
	if (P > 65536 || Q > 65536 || J > 65536 || X > 65536 || len < pos + 3 * P + Q + J + X)
		return NTE_BAD_DATA;
	blob_take(data, &pos, P, &v->p);
	blob_take(data, &pos, Q, &v->q);
	blob_take(data, &pos, P, &v->g);
	blob_take(data, &pos, J, &v->j);
	blob_take(data, &pos, P, &v->y);
	if (private)
		blob_take(data, &pos, X, &v->x);
	return ERROR_SUCCESS;
}

size_t blob_v3_head_write(BYTE *out, bool private, DWORD magic, DWORD bits_p, DWORD bits_q,
			  DWORD bits_x)
{
	size_t pos = 24;

	blob_wr32(out + 8, magic);
	blob_wr32(out + 12, bits_p);
	blob_wr32(out + 16, bits_q);
	blob_wr32(out + 20, 0);         /* no j */
	if (private) {
		blob_wr32(out + pos, bits_x);
		pos += 4;
	}
	blob_wr32(out + pos, BLOB_V3_NO_SEED);
	memset(out + pos + 4, 0, BLOB_V3_SEED_LEN);
	return pos + BLOB_V3_SEED_STRUCT_LEN;
}
