/* Fuzz target for the key-blob codec (src/blob.h, src/blob-dss.h,
 * src/blob-dh.h), every
 * parser. Beyond the memory errors that the sanitizers or valgrind catch,
 * it checks what blob.h promises for any input:
 *  - the header is judged first: when blob_parse_header refuses a blob,
 *    every per-type parser refuses it with the same code; when it accepts
 *    a blob of one type, the parsers of the other types say NTE_BAD_TYPE;
 *  - every view a parser returns lies inside the input;
 *  - building a parsed blob back gives the bytes it was parsed from, and
 *    the builder keeps the buffer rule (size query, one byte short, exact).
 * The round trip is what catches a parser that reads a field from the
 * wrong offset or accepts what the builder cannot write. */
#include "config.h"
#include "fuzz.h"
#include "blob.h"
#include "blob-dss.h"
#include "blob-dh.h"

#include <string.h>

#define RSA_MAX_BYTES (ALG_RSA_MAX_BITS / 8)

static const BYTE blob_types[] = {
	PUBLICKEYBLOB, PRIVATEKEYBLOB, SIMPLEBLOB, PLAINTEXTKEYBLOB, SYMMETRICWRAPKEYBLOB,
	OPAQUEKEYBLOB,
};

/* SIMPLEBLOB's length depends on the unwrapping key: the modulus lengths
 * tried besides the one that makes the input exact. */
static const size_t simple_modulus_lens[] = { 1, 48, 64, 128, 256, 512, RSA_MAX_BYTES };

static DWORD le32_get(const BYTE *p)
{
	return (DWORD)p[0] | (DWORD)p[1] << 8 | (DWORD)p[2] << 16 | (DWORD)p[3] << 24;
}

static bool view_is_inside(const struct blob_bytes *v, const BYTE *data, size_t size)
{
	uintptr_t lo = (uintptr_t)data, p = (uintptr_t)v->data;

	if (v->len == 0)
		return true;
	return p >= lo && v->len <= size && p - lo <= size - v->len;
}

/* ---- builders behind one signature, for check_build -------------------------- */

struct build_args {
	ALG_ID alg, wrap_alg;
	struct blob_bytes bytes;
	const struct blob_rsa_numbers *rsa;
	const struct blob_opaque *opaque;
};

typedef DWORD (*build_fn)(const struct build_args *a, BYTE *out, size_t out_len, size_t *needed);

static DWORD build_rsa_public(const struct build_args *a, BYTE *out, size_t out_len, size_t *needed)
{
	return blob_build_rsa_public(a->rsa, out, out_len, needed);
}

static DWORD build_rsa_private(const struct build_args *a, BYTE *out, size_t out_len, size_t *needed)
{
	return blob_build_rsa_private(a->rsa, out, out_len, needed);
}

static DWORD build_simple(const struct build_args *a, BYTE *out, size_t out_len, size_t *needed)
{
	return blob_build_simple(a->alg, a->wrap_alg, a->bytes.data, a->bytes.len, out, out_len,
				 needed);
}

static DWORD build_plaintext(const struct build_args *a, BYTE *out, size_t out_len, size_t *needed)
{
	return blob_build_plaintext(a->alg, a->bytes.data, a->bytes.len, out, out_len, needed);
}

static DWORD build_symwrap(const struct build_args *a, BYTE *out, size_t out_len, size_t *needed)
{
	return blob_build_symwrap(a->alg, a->wrap_alg, a->bytes.data, a->bytes.len, out, out_len,
				  needed);
}

static DWORD build_opaque(const struct build_args *a, BYTE *out, size_t out_len, size_t *needed)
{
	return blob_build_opaque(a->opaque, out, out_len, needed);
}

/* The buffer rule of blob.h, then the bytes. */
static void check_build(build_fn build, const struct build_args *a, const BYTE *expect,
			size_t expect_len)
{
	size_t needed = 0, written = 0;
	BYTE *out;

	fuzz_check(expect_len > 0);
	fuzz_check(build(a, NULL, 0, &needed) == ERROR_SUCCESS);
	fuzz_check(needed == expect_len);
	/* Exactly needed bytes: a write past them is caught. */
	out = malloc(needed);
	fuzz_check(out != NULL);
	fuzz_check(build(a, out, needed - 1, &written) == ERROR_MORE_DATA);
	fuzz_check(written == needed);
	fuzz_check(build(a, out, needed, &written) == ERROR_SUCCESS);
	fuzz_check(written == needed);
	fuzz_check(memcmp(out, expect, needed) == 0);
	free(out);
}

/* ---- per type ---------------------------------------------------------------- */

static void rsa_round_trip(const struct blob_rsa *r, bool private, const BYTE *data)
{
	static BYTE modulus[RSA_MAX_BYTES], d[RSA_MAX_BYTES], crt[5][RSA_MAX_BYTES / 2];
	const struct blob_bytes *crt_views[5] = {
		&r->prime1, &r->prime2, &r->exponent1, &r->exponent2, &r->coefficient,
	};
	struct blob_rsa_numbers n = { .alg = r->alg };
	struct build_args a = { .rsa = &n };
	size_t k = r->modulus.len, half = (k + 1) / 2, prefix, size;
	BYTE e[4];
	BYTE *expect;

	fuzz_check(k == r->bitlen / 8 && k > 0 && k <= RSA_MAX_BYTES);
	fuzz_check(blob_size_rsa_public(r->bitlen) == BLOB_RSA_HEADER_LEN + k);
	fuzz_check(blob_size_rsa_private(r->bitlen) == BLOB_RSA_HEADER_LEN + 2 * k + 5 * half);
	/* The builder writes bitlen from the modulus without its leading
	 * zeros: only a modulus with a nonzero top byte comes back as it was. */
	if (r->modulus.data[k - 1] == 0)
		return;

	bn_reverse_copy(modulus, r->modulus.data, k);
	n.modulus = (struct blob_bytes){ modulus, k };
	n.public_exponent = (struct blob_bytes){ e, bn_dword_to_be(r->pubexp, e) };
	if (!private) {
		check_build(build_rsa_public, &a, data, BLOB_RSA_HEADER_LEN + k);
		return;
	}
	for (size_t i = 0; i < 5; i++) {
		fuzz_check(crt_views[i]->len == half);
		bn_reverse_copy(crt[i], crt_views[i]->data, half);
	}
	fuzz_check(r->private_exponent.len <= k);
	bn_reverse_copy(d, r->private_exponent.data, r->private_exponent.len);
	n.prime1 = (struct blob_bytes){ crt[0], half };
	n.prime2 = (struct blob_bytes){ crt[1], half };
	n.exponent1 = (struct blob_bytes){ crt[2], half };
	n.exponent2 = (struct blob_bytes){ crt[3], half };
	n.coefficient = (struct blob_bytes){ crt[4], half };
	n.private_exponent = (struct blob_bytes){ d, r->private_exponent.len };

	/* A truncated privateExponent comes back zero-padded to k bytes. */
	size = blob_size_rsa_private(r->bitlen);
	prefix = BLOB_RSA_HEADER_LEN + k + 5 * half + r->private_exponent.len;
	expect = calloc(1, size);
	fuzz_check(expect != NULL);
	memcpy(expect, data, prefix);
	check_build(build_rsa_private, &a, expect, size);
	free(expect);
}

static void fuzz_rsa(const BYTE *data, size_t size)
{
	struct blob_rsa r;
	const struct blob_bytes *views[7] = {
		&r.modulus, &r.prime1, &r.prime2, &r.exponent1, &r.exponent2, &r.coefficient,
		&r.private_exponent,
	};

	for (int private = 0; private <= 1; private++) {
		DWORD err = private ? blob_parse_rsa_private(data, size, &r)
				    : blob_parse_rsa_public(data, size, &r);

		if (err != ERROR_SUCCESS)
			continue;
		fuzz_check(r.alg == le32_get(data + 4) && alg_is_rsa(r.alg));
		fuzz_check(r.bitlen % 8 == 0 && r.bitlen >= ALG_RSA_MIN_BITS &&
			   r.bitlen <= ALG_RSA_MAX_BITS);
		fuzz_check(r.pubexp > 1);
		for (size_t i = 0; i < 7; i++)
			fuzz_check(view_is_inside(views[i], data, size));
		if (!private)
			fuzz_check(r.prime1.len == 0 && r.private_exponent.len == 0);
		rsa_round_trip(&r, private, data);
	}
}

static void simple_round_trip(const BYTE *data, size_t size, size_t modulus_len)
{
	static BYTE ciphertext[RSA_MAX_BYTES];
	struct blob_simple s;
	struct build_args a;

	if (blob_parse_simple(data, size, modulus_len, &s) != ERROR_SUCCESS)
		return;
	fuzz_check(s.alg == le32_get(data + 4) && s.wrap_alg == le32_get(data + 8));
	fuzz_check(s.ciphertext.len == modulus_len);
	fuzz_check(view_is_inside(&s.ciphertext, data, size));
	if (modulus_len > RSA_MAX_BYTES)
		return;
	bn_reverse_copy(ciphertext, s.ciphertext.data, modulus_len);
	a = (struct build_args){ .alg = s.alg, .wrap_alg = s.wrap_alg,
				 .bytes = { ciphertext, modulus_len } };
	check_build(build_simple, &a, data, 12 + modulus_len);
	if (modulus_len * 8 >= ALG_RSA_MIN_BITS)
		fuzz_check(blob_size_simple((DWORD)(modulus_len * 8)) == 12 + modulus_len);
}

static void fuzz_simple(const BYTE *data, size_t size)
{
	for (size_t i = 0; i < sizeof simple_modulus_lens / sizeof simple_modulus_lens[0]; i++)
		simple_round_trip(data, size, simple_modulus_lens[i]);
	if (size > 12)
		simple_round_trip(data, size, size - 12);
	/* One byte more than there is must be refused. */
	if (size >= 12) {
		struct blob_simple s;

		fuzz_check(blob_parse_simple(data, size, size - 12 + 1, &s) != ERROR_SUCCESS);
	}
}

static void fuzz_plaintext(const BYTE *data, size_t size)
{
	struct blob_plaintext p;
	struct build_args a;
	size_t min, max;

	if (blob_parse_plaintext(data, size, &p) != ERROR_SUCCESS)
		return;
	fuzz_check(p.alg == le32_get(data + 4));
	fuzz_check(p.key.len == le32_get(data + 8));
	fuzz_check(view_is_inside(&p.key, data, size));
	fuzz_check(alg_symmetric_key_range(p.alg, &min, &max) && p.key.len >= min &&
		   p.key.len <= max);
	a = (struct build_args){ .alg = p.alg, .bytes = p.key };
	check_build(build_plaintext, &a, data, 12 + p.key.len);
	fuzz_check(blob_size_plaintext(p.key.len) == 12 + p.key.len);
}

static void fuzz_symwrap(const BYTE *data, size_t size)
{
	struct blob_symwrap w;
	struct build_args a;

	if (blob_parse_symwrap(data, size, &w) != ERROR_SUCCESS)
		return;
	fuzz_check(w.alg == le32_get(data + 4) && w.wrap_alg == le32_get(data + 8));
	fuzz_check(view_is_inside(&w.wrapped, data, size));
	/* The wrapped bytes are the rest of the blob: it comes back whole. */
	a = (struct build_args){ .alg = w.alg, .wrap_alg = w.wrap_alg, .bytes = w.wrapped };
	check_build(build_symwrap, &a, data, size);
	fuzz_check(blob_size_symwrap(w.wrapped.len) == size);
}

static void fuzz_opaque(const BYTE *data, size_t size)
{
	struct blob_opaque o;
	struct build_args a;
	size_t header_len;

	if (blob_parse_opaque(data, size, &o) != ERROR_SUCCESS)
		return;
	/* Two format versions: version 1 without the usage field. */
	fuzz_check(o.version == le32_get(data + 12));
	fuzz_check(o.version == BLOB_OPAQUE_VERSION_1 || o.version == BLOB_OPAQUE_VERSION);
	header_len = o.version == BLOB_OPAQUE_VERSION_1 ? BLOB_OPAQUE_HEADER_LEN_V1
							: BLOB_OPAQUE_HEADER_LEN;
	fuzz_check(o.usage == (o.version == BLOB_OPAQUE_VERSION_1 ? 0 : le32_get(data + 32)));
	fuzz_check((o.usage & ~(DWORD)BLOB_OPAQUE_USAGE_KEK) == 0);
	fuzz_check(o.alg == le32_get(data + 4));
	fuzz_check(o.wrapped.len == le32_get(data + header_len - 4));
	fuzz_check(o.wrapped.data == data + header_len);
	fuzz_check(view_is_inside(&o.wrapped, data, size));
	fuzz_check(alg_is_aes(o.wrap_alg));
	fuzz_check(o.mechanism == CKM_AES_KEY_WRAP || o.mechanism == CKM_AES_KEY_WRAP_PAD);
	a = (struct build_args){ .opaque = &o };
	check_build(build_opaque, &a, data, header_len + o.wrapped.len);
	fuzz_check(blob_size_opaque(o.version, o.wrapped.len) == header_len + o.wrapped.len);
}

/* DSS blobs (src/blob-dss.h): the views lie inside the input, the sizes
 * are Microsoft's, and a blob capi11 would write itself (no seed, no J)
 * comes back byte for byte from its numbers. */
static void fuzz_dss(const BYTE *data, size_t size)
{
	static BYTE be[5][DSS_MAX_BITS / 8];
	struct blob_dss d;
	struct blob_dss_numbers n;
	const struct blob_bytes *views[6] = { &d.p, &d.q, &d.g, &d.j, &d.y, &d.x };
	const struct blob_bytes *nums[5] = { &d.p, &d.q, &d.g, &d.y, &d.x };
	struct blob_bytes *out[5] = { &n.p, &n.q, &n.g, &n.y, &n.x };
	static const BYTE zero_seed[BLOB_DSS_SEED_LEN];
	static BYTE rebuilt[8 + 44 + 3 * (DSS_MAX_BITS / 8) + 40];
	size_t needed = 0;

	if (blob_parse_dss(data, size, &d) != ERROR_SUCCESS)
		return;
	fuzz_check(le32_get(data + 4) == CALG_DSS_SIGN);
	fuzz_check(d.private == (data[0] == PRIVATEKEYBLOB) && d.version == data[1]);
	fuzz_check(d.bitlen % 64 == 0 && d.bitlen >= DSS_MIN_BITS && d.bitlen <= DSS_MAX_BITS);
	fuzz_check(d.p.len == d.bitlen / 8 && d.g.len == d.p.len && d.q.len == BLOB_DSS_Q_LEN);
	fuzz_check(d.private ? d.x.len == BLOB_DSS_X_LEN : d.x.len == 0);
	fuzz_check(d.y.len == ((d.version == 3 || !d.private) ? d.p.len : 0));
	for (size_t i = 0; i < 6; i++)
		fuzz_check(view_is_inside(views[i], data, size));
	fuzz_check(d.seed != NULL && d.seed >= data && d.seed + BLOB_DSS_SEED_LEN <= data + size);
	if (d.counter != BLOB_DSS_NO_SEED || memcmp(d.seed, zero_seed, sizeof zero_seed) != 0 ||
	    d.j.len != 0)
		return;
	memset(&n, 0, sizeof n);
	n.bitlen = d.bitlen;
	for (size_t i = 0; i < 5; i++) {
		fuzz_check(nums[i]->len <= sizeof be[i]);
		fuzz_check(bn_le_to_be(nums[i]->data, nums[i]->len, be[i], nums[i]->len));
		*out[i] = (struct blob_bytes){ be[i], nums[i]->len };
	}
	fuzz_check(blob_build_dss(&n, d.private, d.version, NULL, 0, &needed) == ERROR_SUCCESS);
	fuzz_check(needed <= size && needed <= sizeof rebuilt);
	fuzz_check(blob_build_dss(&n, d.private, d.version, rebuilt, needed - 1, &needed) ==
		   ERROR_MORE_DATA);
	fuzz_check(blob_build_dss(&n, d.private, d.version, rebuilt, needed, &needed) ==
		   ERROR_SUCCESS);
	fuzz_check(memcmp(rebuilt, data, needed) == 0);
}

/* DH blobs (src/blob-dh.h): the views lie inside the input, the sizes are
 * Microsoft's, and a blob capi11 would write itself (no seed, no J, x as
 * wide as p) comes back byte for byte from its numbers. */
static void fuzz_dh(const BYTE *data, size_t size)
{
	static BYTE be[5][DH_BLOB_MAX_BITS / 8];
	static const BYTE zero_seed[20];
	static BYTE rebuilt[8 + 44 + 5 * (DH_BLOB_MAX_BITS / 8)];
	struct blob_dh d;
	struct blob_dh_numbers n;
	const struct blob_bytes *views[6] = { &d.p, &d.q, &d.g, &d.j, &d.y, &d.x };
	const struct blob_bytes *nums[5] = { &d.p, &d.q, &d.g, &d.y, &d.x };
	struct blob_bytes *out[5] = { &n.p, &n.q, &n.g, &n.y, &n.x };
	size_t needed = 0, P;
	bool full;

	if (blob_parse_dh(data, size, &d) != ERROR_SUCCESS)
		return;
	fuzz_check(d.alg == le32_get(data + 4));
	fuzz_check(d.alg == CALG_DH_SF || d.alg == CALG_DH_EPHEM);
	fuzz_check(d.private == (data[0] == PRIVATEKEYBLOB) && d.version == data[1]);
	fuzz_check(d.bitlen % 8 == 0 && d.bitlen >= DH_BLOB_MIN_BITS &&
		   d.bitlen <= DH_BLOB_MAX_BITS);
	P = d.bitlen / 8;
	full = d.version == 3 || d.private;
	fuzz_check(d.p.len == (full ? P : 0) && d.g.len == d.p.len);
	fuzz_check(d.y.len == ((d.version == 3 || !d.private) ? P : 0));
	fuzz_check(d.private ? d.x.len > 0 && d.x.len <= P : d.x.len == 0);
	fuzz_check(d.q.len <= P && d.j.len <= P);
	for (size_t i = 0; i < 6; i++)
		fuzz_check(view_is_inside(views[i], data, size));
	if (d.version == 3) {
		fuzz_check(d.seed != NULL && d.seed >= data && d.seed + 20 <= data + size);
		if (d.counter != 0xffffffffu || memcmp(d.seed, zero_seed, sizeof zero_seed) != 0 ||
		    d.j.len != 0 || (d.private && d.x.len != P))
			return;
	}
	memset(&n, 0, sizeof n);
	n.alg = d.alg;
	n.bitlen = d.bitlen;
	for (size_t i = 0; i < 5; i++) {
		fuzz_check(nums[i]->len <= sizeof be[i]);
		fuzz_check(bn_le_to_be(nums[i]->data, nums[i]->len, be[i], nums[i]->len));
		*out[i] = (struct blob_bytes){ be[i], nums[i]->len };
	}
	fuzz_check(blob_build_dh(&n, d.private, d.version, NULL, 0, &needed) == ERROR_SUCCESS);
	fuzz_check(needed <= size && needed <= sizeof rebuilt);
	fuzz_check(blob_build_dh(&n, d.private, d.version, rebuilt, needed - 1, &needed) ==
		   ERROR_MORE_DATA);
	fuzz_check(blob_build_dh(&n, d.private, d.version, rebuilt, needed, &needed) ==
		   ERROR_SUCCESS);
	fuzz_check(memcmp(rebuilt, data, needed) == 0);
}

/* ---- the header first ---------------------------------------------------------- */

static DWORD parse_as(BYTE type, const BYTE *data, size_t size)
{
	union {
		struct blob_rsa rsa;
		struct blob_simple simple;
		struct blob_plaintext plaintext;
		struct blob_symwrap symwrap;
		struct blob_opaque opaque;
	} out;

	switch (type) {
	case PUBLICKEYBLOB:
		return blob_parse_rsa_public(data, size, &out.rsa);
	case PRIVATEKEYBLOB:
		return blob_parse_rsa_private(data, size, &out.rsa);
	case SIMPLEBLOB:
		return blob_parse_simple(data, size, 128, &out.simple);
	case PLAINTEXTKEYBLOB:
		return blob_parse_plaintext(data, size, &out.plaintext);
	case SYMMETRICWRAPKEYBLOB:
		return blob_parse_symwrap(data, size, &out.symwrap);
	default:
		return blob_parse_opaque(data, size, &out.opaque);
	}
}

static void fuzz_header(const BYTE *data, size_t size)
{
	BLOBHEADER h;
	DWORD herr = blob_parse_header(data, size, &h);

	if (herr == ERROR_SUCCESS) {
		fuzz_check(size >= BLOB_HEADER_LEN);
		fuzz_check(h.bType == data[0] && h.bVersion == data[1] && h.reserved == 0);
		fuzz_check(h.aiKeyAlg == le32_get(data + 4));
	}
	for (size_t i = 0; i < sizeof blob_types; i++) {
		DWORD err = parse_as(blob_types[i], data, size);

		if (herr != ERROR_SUCCESS)
			fuzz_check(err == herr);
		else if (h.bType != blob_types[i])
			fuzz_check(err == NTE_BAD_TYPE);
		else
			fuzz_check(err != NTE_BAD_TYPE);
	}
}

void fuzz_blob_one(const uint8_t *data, size_t size)
{
	fuzz_header(data, size);
	fuzz_rsa(data, size);
	fuzz_simple(data, size);
	fuzz_plaintext(data, size);
	fuzz_symwrap(data, size);
	fuzz_opaque(data, size);
	fuzz_dss(data, size);
	fuzz_dh(data, size);
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_blob_one(data, size);
	return 0;
}
#endif
