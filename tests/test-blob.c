/* The key-blob codec against independent expectations: RSA blobs and
 * numbers written by the openssl CLI (tests/vectors/make-vectors.sh), the
 * layouts of Microsoft's documentation, the error codes that Windows' CSPs
 * return (SPEC sections 4 and 5), and the OPAQUEKEYBLOB layout of
 * docs/OPAQUEKEYBLOB.md. Malformed inputs are handed over in buffers of
 * exactly their length, so that a sanitizer or valgrind run catches any
 * read past the end. */
#include "config.h"
#include "cutest.h"
#include "blob.h"
#include "util.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Windows SDK and PKCS#11 values written out, so that a wrong constant in
 * a header cannot make the test agree with the code. */
#define V_CALG_AES_128 0x660e
#define V_CALG_AES_256 0x6610
#define V_CALG_RSA_KEYX 0xa400
#define V_CKM_AES_KEY_WRAP 0x2109
#define V_CKM_AES_KEY_WRAP_PAD 0x210a
#define V_CKK_AES 0x1f

/* ---- helpers -------------------------------------------------------------- */

/* A heap copy of exactly len bytes: reading one byte more is caught. */
static BYTE *copy_exact(const BYTE *src, size_t len)
{
	BYTE *p = malloc(len);

	CU_ASSERT_FATAL(p != NULL || len == 0);
	if (len > 0)
		memcpy(p, src, len);
	return p;
}

static BYTE *file_read(const char *name, size_t *len)
{
	char path[512];
	BYTE *buf;
	FILE *f;
	long size;

	snprintf(path, sizeof path, "%s/vectors/%s", TEST_SRCDIR, name);
	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)size);
	if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static void le32_put(BYTE *p, DWORD v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

/* Compares a little-endian blob field with a big-endian number by value:
 * leading (big-endian) or trailing (little-endian) zero bytes do not count. */
static bool number_equal(const struct blob_bytes *le, const BYTE *be, size_t be_len)
{
	size_t nl = le->len, nb = be_len;

	while (nl > 0 && le->data[nl - 1] == 0)
		nl--;
	while (nb > 0 && be[be_len - nb] == 0)
		nb--;
	if (nl != nb)
		return false;
	for (size_t i = 0; i < nl; i++) {
		if (le->data[i] != be[be_len - 1 - i])
			return false;
	}
	return true;
}

/* ---- RSA vectors from openssl ------------------------------------------------ */

struct hexnum {
	BYTE bytes[1100];
	size_t len;
};

struct rsa_vector {
	unsigned bits;
	BYTE *priv, *pub, *simple, *simple_ct, *session_key;
	size_t priv_len, pub_len, simple_len, simple_ct_len, session_key_len;
	/* Big-endian, as `openssl rsa -text` prints them. */
	struct hexnum n, e, d, p, q, dp, dq, qinv;
};

static struct rsa_vector vec512 = { .bits = 512 }, vec1024 = { .bits = 1024 };

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool hexnum_parse(const char *hex, struct hexnum *out)
{
	size_t n = strlen(hex);

	while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
		n--;
	if (n % 2 != 0 || n / 2 > sizeof out->bytes)
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out->bytes[i] = (BYTE)(hi << 4 | lo);
	}
	out->len = n / 2;
	return true;
}

static bool numbers_read(const char *name, struct rsa_vector *v)
{
	static const struct {
		const char *key;
		size_t offset;
	} fields[] = {
		{ "modulus", offsetof(struct rsa_vector, n) },
		{ "publicExponent", offsetof(struct rsa_vector, e) },
		{ "privateExponent", offsetof(struct rsa_vector, d) },
		{ "prime1", offsetof(struct rsa_vector, p) },
		{ "prime2", offsetof(struct rsa_vector, q) },
		{ "exponent1", offsetof(struct rsa_vector, dp) },
		{ "exponent2", offsetof(struct rsa_vector, dq) },
		{ "coefficient", offsetof(struct rsa_vector, qinv) },
	};
	char path[512], line[4096];
	unsigned found = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/vectors/%s", TEST_SRCDIR, name);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof line, f) != NULL) {
		char *eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
			if (strcmp(line, fields[i].key) == 0 &&
			    hexnum_parse(eq + 1, (struct hexnum *)((char *)v + fields[i].offset)))
				found |= 1u << i;
		}
	}
	fclose(f);
	return found == 0xff;
}

static int vector_load(struct rsa_vector *v)
{
	char name[64];

	snprintf(name, sizeof name, "rsa%u-priv.blob", v->bits);
	v->priv = file_read(name, &v->priv_len);
	snprintf(name, sizeof name, "rsa%u-pub.blob", v->bits);
	v->pub = file_read(name, &v->pub_len);
	snprintf(name, sizeof name, "rsa%u-simple.blob", v->bits);
	v->simple = file_read(name, &v->simple_len);
	snprintf(name, sizeof name, "rsa%u-simple.ct", v->bits);
	v->simple_ct = file_read(name, &v->simple_ct_len);
	v->session_key = file_read("aes128.key", &v->session_key_len);
	snprintf(name, sizeof name, "rsa%u.txt", v->bits);
	if (v->priv == NULL || v->pub == NULL || v->simple == NULL || v->simple_ct == NULL ||
	    v->session_key == NULL || !numbers_read(name, v))
		return 1;
	return 0;
}

static void vector_free(struct rsa_vector *v)
{
	free(v->priv);
	free(v->pub);
	free(v->simple);
	free(v->simple_ct);
	free(v->session_key);
}

static int vectors_init(void)
{
	return vector_load(&vec512) || vector_load(&vec1024);
}

static int vectors_cleanup(void)
{
	vector_free(&vec512);
	vector_free(&vec1024);
	return 0;
}

static struct blob_bytes bytes_of(const struct hexnum *h)
{
	return (struct blob_bytes){ h->bytes, h->len };
}

static struct blob_rsa_numbers numbers_of(const struct rsa_vector *v)
{
	return (struct blob_rsa_numbers){
		.alg = V_CALG_RSA_KEYX,
		.modulus = bytes_of(&v->n),
		.public_exponent = bytes_of(&v->e),
		.prime1 = bytes_of(&v->p),
		.prime2 = bytes_of(&v->q),
		.exponent1 = bytes_of(&v->dp),
		.exponent2 = bytes_of(&v->dq),
		.coefficient = bytes_of(&v->qinv),
		.private_exponent = bytes_of(&v->d),
	};
}

/* ---- big numbers ---------------------------------------------------------------- */

static void test_bn_be_to_le(void)
{
	const BYTE be[] = { 0x00, 0x00, 0x01, 0x02 };
	const BYTE big[] = { 0x01, 0x02, 0x03 };
	BYTE le[4];

	CU_ASSERT(bn_be_len(be, sizeof be) == 2);
	CU_ASSERT(bn_be_len(be, 2) == 0);

	/* Leading zeros stripped before the width check. */
	memset(le, 0xaa, sizeof le);
	CU_ASSERT(bn_be_to_le(be, sizeof be, le, 2));
	CU_ASSERT(le[0] == 0x02 && le[1] == 0x01 && le[2] == 0xaa);
	/* Short numbers zero-padded at the high end. */
	CU_ASSERT(bn_be_to_le(be + 2, 2, le, 4));
	CU_ASSERT(memcmp(le, "\x02\x01\x00\x00", 4) == 0);
	/* Too long: refused, output untouched. */
	memset(le, 0xaa, sizeof le);
	CU_ASSERT(!bn_be_to_le(big, sizeof big, le, 2));
	CU_ASSERT(le[0] == 0xaa && le[1] == 0xaa);
	/* An empty number is zero. */
	CU_ASSERT(bn_be_to_le(NULL, 0, le, 3));
	CU_ASSERT(memcmp(le, "\x00\x00\x00", 3) == 0);
}

static void test_bn_le_to_be(void)
{
	const BYTE le[] = { 0x02, 0x01, 0x00, 0x00 };
	const BYTE big[] = { 0x01, 0x02, 0x03 };
	BYTE be[4];

	CU_ASSERT(bn_le_to_be(le, sizeof le, be, 2));
	CU_ASSERT(be[0] == 0x01 && be[1] == 0x02);
	CU_ASSERT(bn_le_to_be(le, 2, be, 3));
	CU_ASSERT(memcmp(be, "\x00\x01\x02", 3) == 0);
	memset(be, 0xaa, sizeof be);
	CU_ASSERT(!bn_le_to_be(big, sizeof big, be, 2));
	CU_ASSERT(be[0] == 0xaa && be[1] == 0xaa);

	bn_reverse_copy(be, big, 3);
	CU_ASSERT(memcmp(be, "\x03\x02\x01", 3) == 0);
}

static void test_bn_dword(void)
{
	const BYTE e[] = { 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01 };
	const BYTE five[] = { 0x01, 0x00, 0x00, 0x00, 0x00 };
	BYTE out[4];
	DWORD v = 7;

	CU_ASSERT(bn_be_to_dword(e, sizeof e, &v) && v == 65537);
	CU_ASSERT(!bn_be_to_dword(five, sizeof five, &v));
	CU_ASSERT(bn_be_to_dword(five + 1, 4, &v) && v == 0);
	CU_ASSERT(bn_dword_to_be(65537, out) == 3 && memcmp(out, "\x01\x00\x01", 3) == 0);
	CU_ASSERT(bn_dword_to_be(0, out) == 1 && out[0] == 0);
	CU_ASSERT(bn_dword_to_be(3, out) == 1 && out[0] == 3);
	CU_ASSERT(bn_dword_to_be(0xffffffff, out) == 4 && memcmp(out, "\xff\xff\xff\xff", 4) == 0);
}

/* ---- BLOBHEADER ------------------------------------------------------------------- */

static DWORD header_try(BYTE type, BYTE version, WORD reserved, DWORD alg)
{
	BYTE raw[8] = { type, version, (BYTE)(reserved & 0xff), (BYTE)(reserved >> 8) };
	BLOBHEADER h;
	BYTE *b;
	DWORD err;

	le32_put(raw + 4, alg);
	b = copy_exact(raw, sizeof raw);
	err = blob_parse_header(b, sizeof raw, &h);
	if (err == ERROR_SUCCESS)
		CU_ASSERT(h.bType == type && h.bVersion == version && h.aiKeyAlg == alg);
	free(b);
	return err;
}

static void test_header(void)
{
	const BYTE ok[8] = { 0x06, 0x02, 0x00, 0x00, 0x00, 0xa4, 0x00, 0x00 };
	const BYTE known[] = { 0x1, 0x6, 0x7, 0x8, 0x9, 0xb };
	const BYTE unknown[] = { 0x0, 0x2, 0x3, 0x4, 0x5, 0xa, 0xc, 0xff };
	BLOBHEADER h;

	/* Fewer than 8 bytes: NTE_BAD_DATA, nothing read past the end. */
	for (size_t len = 0; len < sizeof ok; len++) {
		BYTE *b = copy_exact(ok, len);
		CU_ASSERT(blob_parse_header(b, len, &h) == NTE_BAD_DATA);
		free(b);
	}
	CU_ASSERT(header_try(0x6, 2, 0, V_CALG_RSA_KEYX) == ERROR_SUCCESS);
	for (size_t i = 0; i < sizeof known; i++)
		CU_ASSERT(header_try(known[i], 2, 0, V_CALG_AES_128) == ERROR_SUCCESS);
	for (size_t i = 0; i < sizeof unknown; i++)
		CU_ASSERT(header_try(unknown[i], 2, 0, V_CALG_AES_128) == NTE_BAD_TYPE);

	CU_ASSERT(header_try(0x6, 2, 1, V_CALG_RSA_KEYX) == NTE_BAD_DATA);
	CU_ASSERT(header_try(0x6, 2, 0x100, V_CALG_RSA_KEYX) == NTE_BAD_DATA);
	CU_ASSERT(header_try(0x6, 0, 0, V_CALG_RSA_KEYX) == NTE_BAD_DATA);
	CU_ASSERT(header_try(0x6, 1, 0, V_CALG_RSA_KEYX) == NTE_BAD_DATA);
	CU_ASSERT(header_try(0x6, 3, 0, V_CALG_RSA_KEYX) == NTE_BAD_DATA);
	CU_ASSERT(header_try(0x6, 0xff, 0, V_CALG_RSA_KEYX) == NTE_BAD_DATA);
	/* Version 3: the DSS/DH key pairs only (CALG_DSS_SIGN 0x2200,
	 * CALG_DH_SF 0xaa01, CALG_DH_EPHEM 0xaa02). */
	CU_ASSERT(header_try(0x6, 3, 0, 0x2200) == ERROR_SUCCESS);
	CU_ASSERT(header_try(0x7, 3, 0, 0xaa01) == ERROR_SUCCESS);
	CU_ASSERT(header_try(0x7, 3, 0, 0xaa02) == ERROR_SUCCESS);
	CU_ASSERT(header_try(0x1, 3, 0, 0x2200) == NTE_BAD_DATA);
	CU_ASSERT(header_try(0x6, 1, 0, 0x2200) == NTE_BAD_DATA);
	CU_ASSERT(header_try(0x6, 4, 0, 0x2200) == NTE_BAD_DATA);
	/* The version is judged before the type. */
	CU_ASSERT(header_try(0x5, 3, 0, V_CALG_RSA_KEYX) == NTE_BAD_DATA);
	CU_ASSERT(header_try(0x5, 2, 1, V_CALG_RSA_KEYX) == NTE_BAD_DATA);
}

/* ---- RSA blobs: openssl's vectors --------------------------------------------------- */

static void check_parse_private(const struct rsa_vector *v)
{
	size_t k = v->bits / 8, h = k / 2;
	struct blob_rsa r;
	BYTE *b = copy_exact(v->priv, v->priv_len);

	CU_ASSERT_FATAL(blob_parse_rsa_private(b, v->priv_len, &r) == ERROR_SUCCESS);
	CU_ASSERT(r.alg == V_CALG_RSA_KEYX);
	CU_ASSERT(r.bitlen == v->bits);
	CU_ASSERT(r.pubexp == 65537);
	CU_ASSERT(r.modulus.len == k && r.private_exponent.len == k);
	CU_ASSERT(r.prime1.len == h && r.prime2.len == h && r.exponent1.len == h &&
		  r.exponent2.len == h && r.coefficient.len == h);
	CU_ASSERT(number_equal(&r.modulus, v->n.bytes, v->n.len));
	CU_ASSERT(number_equal(&r.prime1, v->p.bytes, v->p.len));
	CU_ASSERT(number_equal(&r.prime2, v->q.bytes, v->q.len));
	CU_ASSERT(number_equal(&r.exponent1, v->dp.bytes, v->dp.len));
	CU_ASSERT(number_equal(&r.exponent2, v->dq.bytes, v->dq.len));
	CU_ASSERT(number_equal(&r.coefficient, v->qinv.bytes, v->qinv.len));
	CU_ASSERT(number_equal(&r.private_exponent, v->d.bytes, v->d.len));
	/* Views point into the caller's buffer. */
	CU_ASSERT(r.modulus.data == b + 20);
	free(b);
}

static void check_parse_public(const struct rsa_vector *v)
{
	struct blob_rsa r;
	BYTE *b = copy_exact(v->pub, v->pub_len);

	CU_ASSERT_FATAL(blob_parse_rsa_public(b, v->pub_len, &r) == ERROR_SUCCESS);
	CU_ASSERT(r.alg == V_CALG_RSA_KEYX);
	CU_ASSERT(r.bitlen == v->bits);
	CU_ASSERT(r.pubexp == 65537);
	CU_ASSERT(r.modulus.len == v->bits / 8);
	CU_ASSERT(number_equal(&r.modulus, v->n.bytes, v->n.len));
	CU_ASSERT(r.private_exponent.len == 0 && r.prime1.len == 0);
	free(b);
}

static void check_build(const struct rsa_vector *v)
{
	struct blob_rsa_numbers num = numbers_of(v);
	size_t needed = 0;
	BYTE *out;

	/* Size query, too small a buffer, then the build. */
	CU_ASSERT(blob_build_rsa_private(&num, NULL, 0, &needed) == ERROR_SUCCESS);
	CU_ASSERT_FATAL(needed == v->priv_len);
	CU_ASSERT(blob_size_rsa_private(v->bits) == v->priv_len);
	out = malloc(needed);
	memset(out, 0xaa, needed);
	CU_ASSERT(blob_build_rsa_private(&num, out, needed - 1, &needed) == ERROR_MORE_DATA);
	CU_ASSERT(needed == v->priv_len && out[0] == 0xaa);
	CU_ASSERT(blob_build_rsa_private(&num, out, needed, &needed) == ERROR_SUCCESS);
	CU_ASSERT(memcmp(out, v->priv, v->priv_len) == 0);
	free(out);

	CU_ASSERT(blob_build_rsa_public(&num, NULL, 0, &needed) == ERROR_SUCCESS);
	CU_ASSERT_FATAL(needed == v->pub_len);
	CU_ASSERT(blob_size_rsa_public(v->bits) == v->pub_len);
	out = malloc(needed);
	CU_ASSERT(blob_build_rsa_public(&num, out, needed - 1, &needed) == ERROR_MORE_DATA);
	CU_ASSERT(blob_build_rsa_public(&num, out, needed, &needed) == ERROR_SUCCESS);
	CU_ASSERT(memcmp(out, v->pub, v->pub_len) == 0);
	free(out);
}

static void test_rsa_parse_openssl(void)
{
	check_parse_private(&vec512);
	check_parse_private(&vec1024);
	check_parse_public(&vec512);
	check_parse_public(&vec1024);
}

static void test_rsa_build_openssl(void)
{
	check_build(&vec512);
	check_build(&vec1024);
}

/* Every prefix of a PUBLICKEYBLOB is refused with NTE_BAD_DATA. */
static void check_truncated_public(const struct rsa_vector *v)
{
	for (size_t len = 0; len < v->pub_len; len++) {
		struct blob_rsa r;
		BYTE *b = copy_exact(v->pub, len);
		CU_ASSERT(blob_parse_rsa_public(b, len, &r) == NTE_BAD_DATA);
		free(b);
	}
}

/* Every prefix of a PRIVATEKEYBLOB shorter than 20 + k + 5h is refused;
 * longer ones are accepted with the privateExponent bytes present, whose
 * zero-extension is the low-order part of openssl's d. */
static void check_truncated_private(const struct rsa_vector *v)
{
	size_t k = v->bits / 8, h = k / 2, base = 20 + k + 5 * h;
	BYTE full_d[1024], got[1024], expect[1024];

	CU_ASSERT_FATAL(v->priv_len == base + k);
	/* openssl's d, big-endian in exactly k bytes. */
	memset(full_d, 0, k);
	{
		size_t n = v->d.len;
		const BYTE *src = v->d.bytes;
		while (n > k && *src == 0) {
			src++;
			n--;
		}
		CU_ASSERT_FATAL(n <= k);
		memcpy(full_d + k - n, src, n);
	}

	for (size_t len = 0; len < v->priv_len; len++) {
		struct blob_rsa r;
		BYTE *b = copy_exact(v->priv, len);
		DWORD err = blob_parse_rsa_private(b, len, &r);

		if (len < base) {
			CU_ASSERT(err == NTE_BAD_DATA);
		} else {
			size_t present = len - base;
			CU_ASSERT_FATAL(err == ERROR_SUCCESS);
			CU_ASSERT(r.private_exponent.len == present);
			CU_ASSERT(number_equal(&r.coefficient, v->qinv.bytes, v->qinv.len));
			memset(expect, 0, k);
			memcpy(expect + k - present, full_d + k - present, present);
			CU_ASSERT(bn_le_to_be(r.private_exponent.data, r.private_exponent.len, got, k));
			CU_ASSERT(memcmp(got, expect, k) == 0);
		}
		free(b);
	}
}

static void test_rsa_truncated(void)
{
	check_truncated_public(&vec512);
	check_truncated_public(&vec1024);
	check_truncated_private(&vec512);
	check_truncated_private(&vec1024);
}

/* A private blob cut inside privateExponent, imported then exported again,
 * comes back with d zero-padded: the same bytes plus zeros. */
static void test_rsa_truncated_reexport(void)
{
	const struct rsa_vector *v = &vec1024;
	size_t k = 128, cut = v->priv_len - 50, needed;
	BYTE be[7][128], *out;
	struct blob_rsa r;
	struct blob_rsa_numbers num = { 0 };
	struct blob_bytes *fields[] = { &r.modulus, &r.prime1, &r.prime2, &r.exponent1,
					&r.exponent2, &r.coefficient, &r.private_exponent };
	struct blob_bytes *dest[] = { &num.modulus, &num.prime1, &num.prime2, &num.exponent1,
				      &num.exponent2, &num.coefficient, &num.private_exponent };
	BYTE e[4];
	BYTE *b = copy_exact(v->priv, cut);

	CU_ASSERT_FATAL(blob_parse_rsa_private(b, cut, &r) == ERROR_SUCCESS);
	for (size_t i = 0; i < 7; i++) {
		CU_ASSERT_FATAL(bn_le_to_be(fields[i]->data, fields[i]->len, be[i], k));
		*dest[i] = (struct blob_bytes){ be[i], k };
	}
	num.alg = r.alg;
	num.public_exponent = (struct blob_bytes){ e, bn_dword_to_be(r.pubexp, e) };
	CU_ASSERT_FATAL(blob_build_rsa_private(&num, NULL, 0, &needed) == ERROR_SUCCESS);
	CU_ASSERT_FATAL(needed == v->priv_len);
	out = calloc(1, needed);
	CU_ASSERT(blob_build_rsa_private(&num, out, needed, &needed) == ERROR_SUCCESS);
	CU_ASSERT(memcmp(out, v->priv, cut) == 0);
	for (size_t i = cut; i < needed; i++)
		CU_ASSERT(out[i] == 0);
	free(out);
	free(b);
}

/* Parses an exact-length copy of a patched blob with the public or the
 * private parser. */
static DWORD rsa_try(const BYTE *blob, size_t len, bool private)
{
	struct blob_rsa r;
	BYTE *b = copy_exact(blob, len);
	DWORD err = private ? blob_parse_rsa_private(b, len, &r) : blob_parse_rsa_public(b, len, &r);

	free(b);
	return err;
}

static void test_rsa_malformed(void)
{
	const struct rsa_vector *v = &vec1024;
	BYTE pub[148 + 8], priv[596], big[20 + 2049];
	struct blob_rsa r;

	CU_ASSERT_FATAL(v->pub_len == 148 && v->priv_len == 596);
#define RESET() (memcpy(pub, v->pub, 148), memcpy(priv, v->priv, 596))

	RESET();
	CU_ASSERT(rsa_try(pub, 148, false) == ERROR_SUCCESS);
	CU_ASSERT(rsa_try(priv, 596, true) == ERROR_SUCCESS);

	/* Exponent of one: refused (it turns RSA into a copy); zero too. */
	RESET(); le32_put(pub + 16, 1); le32_put(priv + 16, 1);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);
	RESET(); le32_put(pub + 16, 0);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	RESET(); le32_put(pub + 16, 3);
	CU_ASSERT(rsa_try(pub, 148, false) == ERROR_SUCCESS);
	/* No RSA key has an even exponent, 2 included. */
	RESET(); le32_put(pub + 16, 2); le32_put(priv + 16, 2);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);
	RESET(); le32_put(pub + 16, 0x10000); le32_put(priv + 16, 0xfffffffeu);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);

	/* Nor a modulus of zero, of one, an even one, or one shorter than
	 * the shortest key, 384 bits (little-endian: the lowest byte first,
	 * at offset 20). */
	RESET(); memset(pub + 20, 0, 128); memset(priv + 20, 0, 128);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);
	pub[20] = 1; priv[20] = 1;
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);
	memset(pub + 20, 0xff, 47); memset(priv + 20, 0xff, 47);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);
	pub[20 + 47] = 1; priv[20 + 47] = 1;
	CU_ASSERT(rsa_try(pub, 148, false) == ERROR_SUCCESS);
	CU_ASSERT(rsa_try(priv, 596, true) == ERROR_SUCCESS);
	RESET(); pub[20] &= 0xfe; priv[20] &= 0xfe;
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);

	/* Magic: PUBLICKEYBLOB needs "RSA1", PRIVATEKEYBLOB "RSA2". */
	RESET(); memcpy(pub + 8, "RSA2", 4); memcpy(priv + 8, "RSA1", 4);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);
	RESET(); memcpy(pub + 8, "DSS1", 4);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);

	/* Header: reserved, bVersion. */
	RESET(); pub[2] = 1; priv[3] = 1;
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);
	RESET(); pub[1] = 3; priv[1] = 3;
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);
	RESET(); pub[1] = 1;
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);

	/* A 2^31-bit claim: refused on length, in a 16-byte blob, in a
	 * 20-byte one and in the full blob. */
	RESET(); le32_put(pub + 12, 0x80000000u); le32_put(priv + 12, 0x80000000u);
	CU_ASSERT(rsa_try(pub, 16, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(pub, 20, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);
	RESET(); le32_put(pub + 12, 0xffffffffu); le32_put(priv + 12, 0xfffffff8u);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);

	/* bitlen not a multiple of 8, with enough bytes for it. */
	RESET(); le32_put(pub + 12, 1020); le32_put(priv + 12, 1020);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_DATA);
	/* Outside Microsoft's 384..16384: 0, 376, 16392. */
	RESET(); le32_put(pub + 12, 0);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	RESET(); le32_put(pub + 12, 376);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
	memset(big, 0x55, sizeof big);
	memcpy(big, v->pub, 20);
	le32_put(big + 12, 16392);
	CU_ASSERT(rsa_try(big, sizeof big, false) == NTE_BAD_DATA);
	le32_put(big + 12, 16384);
	CU_ASSERT(rsa_try(big, 20 + 2048, false) == ERROR_SUCCESS);
	CU_ASSERT(rsa_try(big, 20 + 2047, false) == NTE_BAD_DATA);

	/* More bytes than declared: accepted, the excess ignored. */
	RESET(); memset(pub + 148, 0x77, 8);
	CU_ASSERT(blob_parse_rsa_public(pub, sizeof pub, &r) == ERROR_SUCCESS);
	CU_ASSERT(r.modulus.len == 128);
	RESET(); le32_put(pub + 12, 1016);
	CU_ASSERT(blob_parse_rsa_public(pub, 148, &r) == ERROR_SUCCESS);
	CU_ASSERT(r.bitlen == 1016 && r.modulus.len == 127);

	/* Unknown bType; a blob of the other RSA type. */
	RESET(); pub[0] = 0x5;
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_TYPE);
	CU_ASSERT(rsa_try(v->priv, 596, false) == NTE_BAD_TYPE);
	CU_ASSERT(rsa_try(v->pub, 148, true) == NTE_BAD_TYPE);

	/* Unknown aiKeyAlg; CALG_RSA_SIGN (0x2400) is an RSA key too. */
	RESET(); le32_put(pub + 4, V_CALG_AES_128); le32_put(priv + 4, 0x2200 /* CALG_DSS_SIGN */);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_ALGID);
	CU_ASSERT(rsa_try(priv, 596, true) == NTE_BAD_ALGID);
	RESET(); le32_put(pub + 4, 0);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_ALGID);
	RESET(); le32_put(pub + 4, 0x2400);
	CU_ASSERT(blob_parse_rsa_public(pub, 148, &r) == ERROR_SUCCESS);
	CU_ASSERT(r.alg == 0x2400);

	/* Check order: length before aiKeyAlg, aiKeyAlg before bitlen and
	 * pubexp; the header before the type. */
	RESET(); le32_put(pub + 4, V_CALG_AES_128);
	CU_ASSERT(rsa_try(pub, 147, false) == NTE_BAD_DATA);
	RESET(); le32_put(pub + 4, V_CALG_AES_128); le32_put(pub + 12, 1020);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_ALGID);
	RESET(); le32_put(pub + 4, V_CALG_AES_128); le32_put(pub + 16, 1);
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_ALGID);
	RESET(); pub[0] = 0x5; pub[1] = 3;
	CU_ASSERT(rsa_try(pub, 148, false) == NTE_BAD_DATA);
#undef RESET
}

static void test_rsa_build_errors(void)
{
	struct blob_rsa_numbers num = numbers_of(&vec1024);
	const BYTE zero[] = { 0, 0, 0 };
	const BYTE e_long[] = { 0x01, 0x00, 0x00, 0x00, 0x01 };
	const BYTE e_padded[] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01 };
	BYTE long_prime[65];
	size_t needed;

	CU_ASSERT(blob_build_rsa_public(&num, NULL, 0, &needed) == ERROR_SUCCESS);

	num.public_exponent = (struct blob_bytes){ e_padded, sizeof e_padded };
	CU_ASSERT(blob_build_rsa_public(&num, NULL, 0, &needed) == ERROR_SUCCESS);
	num.public_exponent = (struct blob_bytes){ e_long, sizeof e_long };
	CU_ASSERT(blob_build_rsa_public(&num, NULL, 0, &needed) == NTE_BAD_KEY);
	num.public_exponent = (struct blob_bytes){ zero, sizeof zero };
	CU_ASSERT(blob_build_rsa_public(&num, NULL, 0, &needed) == NTE_BAD_KEY);

	num = numbers_of(&vec1024);
	num.modulus = (struct blob_bytes){ zero, sizeof zero };
	CU_ASSERT(blob_build_rsa_public(&num, NULL, 0, &needed) == NTE_BAD_KEY);

	num = numbers_of(&vec1024);
	num.alg = V_CALG_AES_128;
	CU_ASSERT(blob_build_rsa_public(&num, NULL, 0, &needed) == NTE_BAD_ALGID);

	/* A CRT number longer than h = 64 bytes does not fit its field. */
	num = numbers_of(&vec1024);
	memset(long_prime, 0x01, sizeof long_prime);
	num.prime2 = (struct blob_bytes){ long_prime, sizeof long_prime };
	CU_ASSERT(blob_build_rsa_private(&num, NULL, 0, &needed) == NTE_BAD_KEY);
	/* The public blob does not look at it. */
	CU_ASSERT(blob_build_rsa_public(&num, NULL, 0, &needed) == ERROR_SUCCESS);

	/* Sizes from the key size alone. */
	CU_ASSERT(blob_size_rsa_public(2048) == 20 + 256);
	CU_ASSERT(blob_size_rsa_private(2048) == 20 + 256 + 5 * 128 + 256);
	CU_ASSERT(blob_size_rsa_public(0) == 0);
	CU_ASSERT(blob_size_rsa_public(16392) == 0);
	CU_ASSERT(blob_size_rsa_private(0x80000000u) == 0);
}

/* ---- SIMPLEBLOB ------------------------------------------------------------------------ */

static void check_simple(const struct rsa_vector *v)
{
	size_t k = v->bits / 8, needed;
	struct blob_simple s;
	BYTE *out, ct[128];
	BYTE *b;

	CU_ASSERT_FATAL(v->simple_ct_len == k && v->simple_len == 12 + k);

	/* Built from openssl's big-endian ciphertext: the documented layout
	 * with the ciphertext byte-reversed (written by the script). */
	CU_ASSERT(blob_build_simple(V_CALG_AES_128, V_CALG_RSA_KEYX, v->simple_ct, k, NULL, 0,
				    &needed) == ERROR_SUCCESS);
	CU_ASSERT_FATAL(needed == 12 + k);
	CU_ASSERT(blob_size_simple(v->bits) == 12 + k);
	out = malloc(needed);
	CU_ASSERT(blob_build_simple(V_CALG_AES_128, V_CALG_RSA_KEYX, v->simple_ct, k, out,
				    needed - 1, &needed) == ERROR_MORE_DATA);
	CU_ASSERT(blob_build_simple(V_CALG_AES_128, V_CALG_RSA_KEYX, v->simple_ct, k, out, needed,
				    &needed) == ERROR_SUCCESS);
	CU_ASSERT(memcmp(out, v->simple, v->simple_len) == 0);
	free(out);

	/* Parsed back: the reversed ciphertext is openssl's again. */
	b = copy_exact(v->simple, v->simple_len);
	CU_ASSERT_FATAL(blob_parse_simple(b, v->simple_len, k, &s) == ERROR_SUCCESS);
	CU_ASSERT(s.alg == V_CALG_AES_128 && s.wrap_alg == V_CALG_RSA_KEYX);
	CU_ASSERT_FATAL(s.ciphertext.len == k);
	bn_reverse_copy(ct, s.ciphertext.data, k);
	CU_ASSERT(memcmp(ct, v->simple_ct, k) == 0);
	/* The modulus of another key size: too few bytes. */
	CU_ASSERT(blob_parse_simple(b, v->simple_len, k + 1, &s) == NTE_BAD_DATA);
	free(b);

	for (size_t len = 0; len < v->simple_len; len++) {
		b = copy_exact(v->simple, len);
		CU_ASSERT(blob_parse_simple(b, len, k, &s) == NTE_BAD_DATA);
		free(b);
	}
}

static void test_simple(void)
{
	const struct rsa_vector *v = &vec512;
	BYTE blob[76 + 5];
	struct blob_simple s;
	size_t needed;

	check_simple(&vec512);
	check_simple(&vec1024);

	CU_ASSERT_FATAL(v->simple_len == 76);
	/* Excess bytes are ignored. */
	memcpy(blob, v->simple, 76);
	memset(blob + 76, 0x99, 5);
	CU_ASSERT(blob_parse_simple(blob, sizeof blob, 64, &s) == ERROR_SUCCESS);
	CU_ASSERT(s.ciphertext.len == 64);
	/* A session key algorithm is required. */
	le32_put(blob + 4, V_CALG_RSA_KEYX);
	CU_ASSERT(blob_parse_simple(blob, 76, 64, &s) == NTE_BAD_ALGID);
	CU_ASSERT(blob_parse_simple(blob, 75, 64, &s) == NTE_BAD_DATA);
	le32_put(blob + 4, 0x6611 /* CALG_AES: no length */);
	CU_ASSERT(blob_parse_simple(blob, 76, 64, &s) == NTE_BAD_ALGID);
	memcpy(blob, v->simple, 76);
	blob[1] = 3;
	CU_ASSERT(blob_parse_simple(blob, 76, 64, &s) == NTE_BAD_DATA);
	CU_ASSERT(blob_parse_simple(v->pub, v->pub_len, 64, &s) == NTE_BAD_TYPE);

	CU_ASSERT(blob_build_simple(V_CALG_RSA_KEYX, V_CALG_RSA_KEYX, v->simple_ct, 64, NULL, 0,
				    &needed) == NTE_BAD_ALGID);
	CU_ASSERT(blob_size_simple(0) == 0);
}

/* ---- PLAINTEXTKEYBLOB ------------------------------------------------------------------ */

/* The key lengths of SPEC section 5 and Microsoft's CryptExportKey page,
 * and the error Windows gives for any other length. */
static const struct {
	ALG_ID alg;
	size_t len;
	DWORD bad_len;
} plaintext_algs[] = {
	{ 0x660e /* AES_128 */, 16, NTE_BAD_DATA },
	{ 0x660f /* AES_192 */, 24, NTE_BAD_DATA },
	{ 0x6610 /* AES_256 */, 32, NTE_BAD_DATA },
	{ 0x6601 /* DES */, 8, NTE_BAD_FLAGS },
	{ 0x6609 /* 3DES_112 */, 16, NTE_BAD_FLAGS },
	{ 0x6603 /* 3DES */, 24, NTE_BAD_FLAGS },
};

static DWORD plaintext_try(ALG_ID alg, DWORD declared, size_t present, struct blob_plaintext *pt)
{
	BYTE raw[12 + 64] = { 0x08, 0x02, 0x00, 0x00 };
	BYTE *b;
	DWORD err;

	CU_ASSERT_FATAL(12 + present <= sizeof raw);
	le32_put(raw + 4, alg);
	le32_put(raw + 8, declared);
	for (size_t i = 0; i < present; i++)
		raw[12 + i] = (BYTE)(0x40 + i);
	b = copy_exact(raw, 12 + present);
	err = blob_parse_plaintext(b, 12 + present, pt);
	if (err == ERROR_SUCCESS)
		CU_ASSERT(pt->key.data == b + 12);
	free(b);
	return err;
}

static void test_plaintext_lengths(void)
{
	struct blob_plaintext pt;

	for (size_t i = 0; i < CAPI11_N_ELEMENTS(plaintext_algs); i++) {
		for (size_t len = 0; len <= 40; len++) {
			DWORD err = plaintext_try(plaintext_algs[i].alg, (DWORD)len, len, &pt);
			if (len == plaintext_algs[i].len) {
				CU_ASSERT(err == ERROR_SUCCESS);
				CU_ASSERT(pt.alg == plaintext_algs[i].alg && pt.key.len == len);
			} else {
				CU_ASSERT(err == plaintext_algs[i].bad_len);
			}
		}
	}
	/* RC2 (0x6602) and RC4 (0x6801): 40 to 128 bits, Enhanced provider. */
	CU_ASSERT(plaintext_try(0x6602, 5, 5, &pt) == ERROR_SUCCESS);
	CU_ASSERT(plaintext_try(0x6801, 16, 16, &pt) == ERROR_SUCCESS);
	CU_ASSERT(plaintext_try(0x6602, 4, 4, &pt) == NTE_BAD_DATA);
	CU_ASSERT(plaintext_try(0x6801, 17, 17, &pt) == NTE_BAD_DATA);
}

static void test_plaintext_malformed(void)
{
	const BYTE expect[12 + 16] = { 0x08, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00,
				       0x10, 0x00, 0x00, 0x00, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
				       10, 11, 12, 13, 14, 15 };
	struct blob_plaintext pt;
	BYTE out[28];
	size_t needed;

	/* Declared longer than present, huge, or no length at all. */
	CU_ASSERT(plaintext_try(V_CALG_AES_128, 16, 15, &pt) == NTE_BAD_DATA);
	CU_ASSERT(plaintext_try(V_CALG_AES_128, 0xffffffffu, 16, &pt) == NTE_BAD_DATA);
	for (size_t len = 0; len < sizeof expect; len++) {
		BYTE *b = copy_exact(expect, len);
		CU_ASSERT(blob_parse_plaintext(b, len, &pt) == NTE_BAD_DATA);
		free(b);
	}
	/* Excess ignored. */
	CU_ASSERT(plaintext_try(V_CALG_AES_128, 16, 20, &pt) == ERROR_SUCCESS);
	CU_ASSERT(pt.key.len == 16);
	/* Unknown algorithms: CALG_AES (no length), RSA, 0; the length check
	 * comes first. */
	CU_ASSERT(plaintext_try(0x6611, 16, 16, &pt) == NTE_BAD_ALGID);
	CU_ASSERT(plaintext_try(V_CALG_RSA_KEYX, 16, 16, &pt) == NTE_BAD_ALGID);
	CU_ASSERT(plaintext_try(0, 16, 16, &pt) == NTE_BAD_ALGID);
	CU_ASSERT(plaintext_try(0x6611, 16, 10, &pt) == NTE_BAD_DATA);

	/* The documented layout, built. */
	CU_ASSERT(blob_size_plaintext(16) == sizeof expect);
	CU_ASSERT(blob_build_plaintext(V_CALG_AES_128, expect + 12, 16, NULL, 0, &needed) ==
		  ERROR_SUCCESS);
	CU_ASSERT(needed == sizeof expect);
	CU_ASSERT(blob_build_plaintext(V_CALG_AES_128, expect + 12, 16, out, 27, &needed) ==
		  ERROR_MORE_DATA);
	CU_ASSERT(blob_build_plaintext(V_CALG_AES_128, expect + 12, 16, out, sizeof out, &needed) ==
		  ERROR_SUCCESS);
	CU_ASSERT(memcmp(out, expect, sizeof expect) == 0);
	CU_ASSERT(blob_build_plaintext(V_CALG_RSA_KEYX, expect + 12, 16, out, sizeof out, &needed) ==
		  NTE_BAD_ALGID);
	CU_ASSERT(blob_parse_plaintext(expect, sizeof expect, &pt) == ERROR_SUCCESS);
	CU_ASSERT(pt.alg == V_CALG_AES_128 && pt.key.len == 16 &&
		  memcmp(pt.key.data, expect + 12, 16) == 0);
}

/* ---- SYMMETRICWRAPKEYBLOB --------------------------------------------------------------- */

static void test_symwrap(void)
{
	BYTE blob[12 + 24 + 1] = { 0x0b, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00,
				   0x10, 0x66, 0x00, 0x00 };
	struct blob_symwrap sw;
	BYTE out[36];
	size_t needed;

	for (size_t i = 0; i < 24; i++)
		blob[12 + i] = (BYTE)(0xa0 + i);
	CU_ASSERT_FATAL(blob_parse_symwrap(blob, 36, &sw) == ERROR_SUCCESS);
	CU_ASSERT(sw.alg == V_CALG_AES_128 && sw.wrap_alg == V_CALG_AES_256);
	CU_ASSERT(sw.wrapped.data == blob + 12 && sw.wrapped.len == 24);

	CU_ASSERT(blob_size_symwrap(24) == 36);
	CU_ASSERT(blob_build_symwrap(V_CALG_AES_128, V_CALG_AES_256, blob + 12, 24, out, 35,
				     &needed) == ERROR_MORE_DATA);
	CU_ASSERT(needed == 36);
	CU_ASSERT(blob_build_symwrap(V_CALG_AES_128, V_CALG_AES_256, blob + 12, 24, out, 36,
				     &needed) == ERROR_SUCCESS);
	CU_ASSERT(memcmp(out, blob, 36) == 0);

	/* Too short for the wrapping ALG_ID or for a wrapped key; not whole
	 * 8-byte blocks. */
	for (size_t len = 0; len < 36; len++) {
		BYTE *b = copy_exact(blob, len);
		CU_ASSERT(blob_parse_symwrap(b, len, &sw) == (len < 12 ? NTE_BAD_DATA :
			  len == 12 + 16 ? ERROR_SUCCESS : NTE_BAD_DATA));
		free(b);
	}
	CU_ASSERT(blob_parse_symwrap(blob, 37, &sw) == NTE_BAD_DATA);
	CU_ASSERT(blob_build_symwrap(V_CALG_AES_128, V_CALG_AES_256, blob + 12, 23, NULL, 0,
				     &needed) == NTE_BAD_LEN);

	le32_put(blob + 8, V_CALG_RSA_KEYX);
	CU_ASSERT(blob_parse_symwrap(blob, 36, &sw) == NTE_BAD_ALGID);
	le32_put(blob + 8, V_CALG_AES_256);
	le32_put(blob + 4, 0x6611);
	CU_ASSERT(blob_parse_symwrap(blob, 36, &sw) == NTE_BAD_ALGID);
	le32_put(blob + 4, V_CALG_AES_128);
	blob[2] = 1;
	CU_ASSERT(blob_parse_symwrap(blob, 36, &sw) == NTE_BAD_DATA);
}

/* The wrapped forms capi11 writes: RFC 3394 section 4.1 (128-bit key under
 * a 128-bit AES key, 24 bytes) and 4.4 (192-bit key, 32 bytes) after
 * Microsoft's BLOBHEADER and wrapping ALG_ID; an RFC 3217 Triple-DES wrap
 * is always 40 bytes (IV, 24 key bytes and the 8-byte checksum, one block
 * longer than the key and checksum it encrypts). */
static void test_symwrap_vectors(void)
{
	static const BYTE rfc3394_41[24] = {
		0x1f, 0xa6, 0x8b, 0x0a, 0x81, 0x12, 0xb4, 0x47, 0xae, 0xf3, 0x4b, 0xd8,
		0xfb, 0x5a, 0x7b, 0x82, 0x9d, 0x3e, 0x86, 0x23, 0x71, 0xd2, 0xcf, 0xe5,
	};
	static const BYTE expect[12] = {
		0x0b, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00,
	};
	BYTE out[36], des3[12 + 40] = { 0x0b, 0x02, 0x00, 0x00, 0x03, 0x66, 0x00, 0x00,
				       0x03, 0x66, 0x00, 0x00 };
	struct blob_symwrap sw;
	size_t needed = 0;

	CU_ASSERT(blob_aes_wrap_len(16, false) == sizeof rfc3394_41);
	CU_ASSERT(blob_aes_wrap_len(24, false) == 32);
	CU_ASSERT(blob_build_symwrap(V_CALG_AES_128, V_CALG_AES_128, rfc3394_41, 24, out, sizeof out,
				     &needed) == ERROR_SUCCESS);
	CU_ASSERT(needed == 36 && memcmp(out, expect, 12) == 0 &&
		  memcmp(out + 12, rfc3394_41, 24) == 0);
	CU_ASSERT_FATAL(blob_parse_symwrap(out, 36, &sw) == ERROR_SUCCESS);
	CU_ASSERT(sw.alg == V_CALG_AES_128 && sw.wrap_alg == V_CALG_AES_128 && sw.wrapped.len == 24);

	memset(des3 + 12, 0x5a, 40);
	CU_ASSERT_FATAL(blob_parse_symwrap(des3, sizeof des3, &sw) == ERROR_SUCCESS);
	CU_ASSERT(sw.alg == 0x6603 && sw.wrap_alg == 0x6603 && sw.wrapped.len == 40);
	CU_ASSERT(blob_size_symwrap(40) == 52);
	/* Not whole blocks: no wrap of either RFC. */
	CU_ASSERT(blob_parse_symwrap(des3, sizeof des3 - 1, &sw) == NTE_BAD_DATA);
}

/* ---- OPAQUEKEYBLOB -------------------------------------------------------------------------- */

/* docs/OPAQUEKEYBLOB.md's examples, written out from the document. The
 * wrapped bytes are a counting pattern: the codec never unwraps. */

/* An AES-128 key wrapped by CKM_AES_KEY_WRAP under an AES-256 key,
 * version 2, usage 0 (64 bytes). */
static void opaque_sample(BYTE blob[40 + 24])
{
	static const BYTE head[40] = {
		0x09, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00, /* BLOBHEADER */
		'C', '1', '1', 'O',                             /* magic */
		0x02, 0x00, 0x00, 0x00,                         /* version 2 */
		0x09, 0x21, 0x00, 0x00,                         /* CKM_AES_KEY_WRAP */
		0x1f, 0x00, 0x00, 0x00,                         /* CKK_AES */
		0x10, 0x00, 0x00, 0x00,                         /* 16 key bytes */
		0x10, 0x66, 0x00, 0x00,                         /* CALG_AES_256 */
		0x00, 0x00, 0x00, 0x00,                         /* usage 0 */
		0x18, 0x00, 0x00, 0x00,                         /* 24 wrapped bytes */
	};

	memcpy(blob, head, sizeof head);
	for (size_t i = 0; i < 24; i++)
		blob[40 + i] = (BYTE)(0xc0 + i);
}

/* An AES-256 key-encryption key wrapped by CKM_AES_KEY_WRAP under an
 * AES-128 key, version 2, usage 0x1 (80 bytes). */
static void opaque_sample_kek(BYTE blob[40 + 40])
{
	static const BYTE head[40] = {
		0x09, 0x02, 0x00, 0x00, 0x10, 0x66, 0x00, 0x00, /* BLOBHEADER, CALG_AES_256 */
		'C', '1', '1', 'O',                             /* magic */
		0x02, 0x00, 0x00, 0x00,                         /* version 2 */
		0x09, 0x21, 0x00, 0x00,                         /* CKM_AES_KEY_WRAP */
		0x1f, 0x00, 0x00, 0x00,                         /* CKK_AES */
		0x20, 0x00, 0x00, 0x00,                         /* 32 key bytes */
		0x0e, 0x66, 0x00, 0x00,                         /* CALG_AES_128 */
		0x01, 0x00, 0x00, 0x00,                         /* usage: wrap-only KEK */
		0x28, 0x00, 0x00, 0x00,                         /* 40 wrapped bytes */
	};

	memcpy(blob, head, sizeof head);
	for (size_t i = 0; i < 40; i++)
		blob[40 + i] = (BYTE)(0x80 + i);
}

/* The first key as version 1 wrote it: no usage field (60 bytes). */
static void opaque_sample_v1(BYTE blob[36 + 24])
{
	static const BYTE head[36] = {
		0x09, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00, /* BLOBHEADER */
		'C', '1', '1', 'O',                             /* magic */
		0x01, 0x00, 0x00, 0x00,                         /* version 1 */
		0x09, 0x21, 0x00, 0x00,                         /* CKM_AES_KEY_WRAP */
		0x1f, 0x00, 0x00, 0x00,                         /* CKK_AES */
		0x10, 0x00, 0x00, 0x00,                         /* 16 key bytes */
		0x10, 0x66, 0x00, 0x00,                         /* CALG_AES_256 */
		0x18, 0x00, 0x00, 0x00,                         /* 24 wrapped bytes */
	};

	memcpy(blob, head, sizeof head);
	for (size_t i = 0; i < 24; i++)
		blob[36 + i] = (BYTE)(0xc0 + i);
}

static DWORD opaque_try(const BYTE *blob, size_t len, struct blob_opaque *o)
{
	BYTE *b = copy_exact(blob, len);
	DWORD err = blob_parse_opaque(b, len, o);

	free(b);
	return err;
}

/* Parsed, then built back: the same bytes, and the buffer rule. */
static void opaque_round_trip(const BYTE *blob, size_t len)
{
	struct blob_opaque o;
	BYTE *out = malloc(len);
	size_t needed = 0;

	CU_ASSERT_FATAL(out != NULL);
	CU_ASSERT_FATAL(blob_parse_opaque(blob, len, &o) == ERROR_SUCCESS);
	CU_ASSERT(blob_build_opaque(&o, NULL, 0, &needed) == ERROR_SUCCESS && needed == len);
	CU_ASSERT(blob_build_opaque(&o, out, len - 1, &needed) == ERROR_MORE_DATA);
	CU_ASSERT(blob_build_opaque(&o, out, len, &needed) == ERROR_SUCCESS && needed == len);
	CU_ASSERT(memcmp(out, blob, len) == 0);
	CU_ASSERT(blob_size_opaque(o.version, o.wrapped.len) == len);
	free(out);
}

static void test_opaque_layout(void)
{
	BYTE expect[64], expect_kek[80], expect_v1[60], out[80], wrapped[640];
	struct blob_opaque o, back;
	size_t needed;

	opaque_sample(expect);
	opaque_sample_kek(expect_kek);
	opaque_sample_v1(expect_v1);

	/* Version 2, usage 0: 40 header bytes. */
	o = (struct blob_opaque){
		.version = 2,
		.alg = V_CALG_AES_128,
		.mechanism = V_CKM_AES_KEY_WRAP,
		.key_type = V_CKK_AES,
		.key_len = 16,
		.wrap_alg = V_CALG_AES_256,
		.usage = 0,
		.wrapped = { expect + 40, 24 },
	};
	CU_ASSERT(blob_size_opaque(2, 24) == 64);
	CU_ASSERT(blob_build_opaque(&o, NULL, 0, &needed) == ERROR_SUCCESS && needed == 64);
	CU_ASSERT(blob_build_opaque(&o, out, 63, &needed) == ERROR_MORE_DATA);
	CU_ASSERT(blob_build_opaque(&o, out, sizeof out, &needed) == ERROR_SUCCESS && needed == 64);
	CU_ASSERT(memcmp(out, expect, sizeof expect) == 0);
	CU_ASSERT_FATAL(blob_parse_opaque(out, 64, &back) == ERROR_SUCCESS);
	CU_ASSERT(back.version == 2 && back.alg == o.alg && back.mechanism == o.mechanism &&
		  back.key_type == o.key_type && back.key_len == o.key_len &&
		  back.wrap_alg == o.wrap_alg && back.usage == 0 && back.wrapped.data == out + 40 &&
		  back.wrapped.len == 24);

	/* The same key in version 1: 36 header bytes, no usage. */
	o.version = 1;
	o.wrapped.data = expect_v1 + 36;
	CU_ASSERT(blob_size_opaque(1, 24) == 60);
	CU_ASSERT(blob_build_opaque(&o, NULL, 0, &needed) == ERROR_SUCCESS && needed == 60);
	CU_ASSERT(blob_build_opaque(&o, out, 59, &needed) == ERROR_MORE_DATA);
	CU_ASSERT(blob_build_opaque(&o, out, sizeof out, &needed) == ERROR_SUCCESS && needed == 60);
	CU_ASSERT(memcmp(out, expect_v1, sizeof expect_v1) == 0);
	CU_ASSERT_FATAL(blob_parse_opaque(out, 60, &back) == ERROR_SUCCESS);
	CU_ASSERT(back.version == 1 && back.usage == 0 && back.key_len == 16 &&
		  back.wrap_alg == V_CALG_AES_256 && back.wrapped.data == out + 36 &&
		  back.wrapped.len == 24);
	/* Version 1 has no field for a usage. */
	o.usage = 1;
	CU_ASSERT(blob_build_opaque(&o, NULL, 0, &needed) == NTE_BAD_DATA);

	/* The key-encryption key: usage 0x1 at offset 32. */
	o = (struct blob_opaque){
		.version = 2,
		.alg = V_CALG_AES_256,
		.mechanism = V_CKM_AES_KEY_WRAP,
		.key_type = V_CKK_AES,
		.key_len = 32,
		.wrap_alg = V_CALG_AES_128,
		.usage = 1,
		.wrapped = { expect_kek + 40, 40 },
	};
	CU_ASSERT(blob_build_opaque(&o, out, sizeof out, &needed) == ERROR_SUCCESS && needed == 80);
	CU_ASSERT(memcmp(out, expect_kek, sizeof expect_kek) == 0);
	CU_ASSERT_FATAL(blob_parse_opaque(out, 80, &back) == ERROR_SUCCESS);
	CU_ASSERT(back.version == 2 && back.usage == 1 && back.alg == V_CALG_AES_256 &&
		  back.key_len == 32 && back.wrap_alg == V_CALG_AES_128 &&
		  back.wrapped.data == out + 40 && back.wrapped.len == 40);
	/* Reserved usage bits, and versions that do not exist. */
	o.usage = 2;
	CU_ASSERT(blob_build_opaque(&o, NULL, 0, &needed) == NTE_BAD_DATA);
	o.usage = 0x80000001u;
	CU_ASSERT(blob_build_opaque(&o, NULL, 0, &needed) == NTE_BAD_DATA);
	o.usage = 1;
	o.version = 3;
	CU_ASSERT(blob_build_opaque(&o, NULL, 0, &needed) == NTE_BAD_DATA);
	o.version = 0;
	CU_ASSERT(blob_build_opaque(&o, NULL, 0, &needed) == NTE_BAD_DATA);
	CU_ASSERT(blob_size_opaque(0, 24) == 0 && blob_size_opaque(3, 24) == 0);

	/* Each example parses and builds back to its own bytes. */
	opaque_round_trip(expect, sizeof expect);
	opaque_round_trip(expect_kek, sizeof expect_kek);
	opaque_round_trip(expect_v1, sizeof expect_v1);

	/* A DES key (8 bytes) needs the padded wrap: 16 bytes. */
	o = (struct blob_opaque){
		.version = 2,
		.alg = 0x6601,
		.mechanism = V_CKM_AES_KEY_WRAP,
		.key_type = 0x13, /* CKK_DES */
		.key_len = 8,
		.wrap_alg = V_CALG_AES_256,
		.wrapped = { expect + 40, 16 },
	};
	CU_ASSERT(blob_build_opaque(&o, NULL, 0, &needed) == NTE_BAD_DATA);
	o.mechanism = V_CKM_AES_KEY_WRAP_PAD;
	CU_ASSERT(blob_build_opaque(&o, out, sizeof out, &needed) == ERROR_SUCCESS);
	CU_ASSERT(needed == 56 && blob_parse_opaque(out, 56, &back) == ERROR_SUCCESS);
	o.version = 1;
	CU_ASSERT(blob_build_opaque(&o, out, sizeof out, &needed) == ERROR_SUCCESS);
	CU_ASSERT(needed == 52 && blob_parse_opaque(out, 52, &back) == ERROR_SUCCESS);

	/* An RSA private key, wrapped as PKCS#8 by the padded wrap. */
	memset(wrapped, 0x3c, sizeof wrapped);
	o = (struct blob_opaque){
		.version = 2,
		.alg = V_CALG_RSA_KEYX,
		.mechanism = V_CKM_AES_KEY_WRAP_PAD,
		.key_type = 0 /* CKK_RSA */,
		.key_len = 128,
		.wrap_alg = V_CALG_AES_256,
		.wrapped = { wrapped, sizeof wrapped },
	};
	{
		BYTE *big = malloc(40 + sizeof wrapped);

		CU_ASSERT_FATAL(big != NULL);
		CU_ASSERT(blob_build_opaque(&o, big, 40 + sizeof wrapped, &needed) == ERROR_SUCCESS);
		CU_ASSERT(needed == 40 + sizeof wrapped);
		CU_ASSERT(blob_parse_opaque(big, needed, &back) == ERROR_SUCCESS);
		CU_ASSERT(back.key_type == 0 && back.key_len == 128 && back.wrapped.len == 640 &&
			  back.usage == 0);
		/* An RSA key's usage is its slot's: no wrap-only bit. */
		le32_put(big + 32, 1);
		CU_ASSERT(opaque_try(big, needed, &back) == NTE_BAD_DATA);
		free(big);
	}
	o.usage = 1;
	CU_ASSERT(blob_build_opaque(&o, NULL, 0, &needed) == NTE_BAD_DATA);
	o.usage = 0;
	o.wrapped.len = 20;
	CU_ASSERT(blob_build_opaque(&o, NULL, 0, &needed) == NTE_BAD_DATA);

	/* RFC 3394 and RFC 5649 output lengths. */
	CU_ASSERT(blob_aes_wrap_len(16, false) == 24);
	CU_ASSERT(blob_aes_wrap_len(32, false) == 40);
	CU_ASSERT(blob_aes_wrap_len(8, false) == 0);
	CU_ASSERT(blob_aes_wrap_len(20, false) == 0);
	CU_ASSERT(blob_aes_wrap_len(5, true) == 16);
	CU_ASSERT(blob_aes_wrap_len(8, true) == 16);
	CU_ASSERT(blob_aes_wrap_len(17, true) == 32);
	CU_ASSERT(blob_aes_wrap_len(24, true) == 32);
}

/* The field edits that docs/OPAQUEKEYBLOB.md's validation table refuses,
 * in a blob whose n sits at n_off (32 in version 1, 36 in version 2) and
 * whose length is len. */
static void opaque_malformed_fields(const BYTE *good, size_t len, size_t n_off)
{
	BYTE blob[64 + 4];
	struct blob_opaque o;

#define RESET() memcpy(blob, good, len)
	RESET();
	CU_ASSERT(opaque_try(blob, len, &o) == ERROR_SUCCESS);
	/* Every prefix: NTE_BAD_DATA. */
	for (size_t cut = 0; cut < len; cut++)
		CU_ASSERT(opaque_try(blob, cut, &o) == NTE_BAD_DATA);
	/* Excess ignored. */
	memset(blob + len, 0xee, 4);
	CU_ASSERT(opaque_try(blob, len + 4, &o) == ERROR_SUCCESS);
	CU_ASSERT(blob_parse_opaque(blob, len + 4, &o) == ERROR_SUCCESS);
	CU_ASSERT(o.wrapped.len == 24 && o.wrapped.data == blob + n_off + 4);

	RESET(); blob[11] = 'P';
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_DATA);
	RESET(); le32_put(blob + 12, 3);
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_DATA);
	RESET(); le32_put(blob + 12, 0);
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_DATA);
	RESET(); le32_put(blob + 12, 0xffffffffu);
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_DATA);
	RESET(); le32_put(blob + 16, 0x1082 /* CKM_AES_CBC */);
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_DATA);
	RESET(); le32_put(blob + 20, 0x15 /* CKK_DES3 */);
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_DATA);
	RESET(); le32_put(blob + 24, 24);
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_DATA);
	/* Wrapped length: huge, too long for the blob, inconsistent. */
	RESET(); le32_put(blob + n_off, 0xffffffffu);
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_DATA);
	RESET(); le32_put(blob + n_off, 25);
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_DATA);
	RESET(); le32_put(blob + n_off, 16);
	CU_ASSERT(opaque_try(blob, len - 8, &o) == NTE_BAD_DATA);
	/* Algorithms: the key's, then the wrapping key's (AES only). */
	RESET(); le32_put(blob + 4, 0x6611);
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_ALGID);
	RESET(); le32_put(blob + 28, 0x6603 /* CALG_3DES */);
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_ALGID);
	/* A truncation is found before the algorithm. */
	RESET(); le32_put(blob + 4, 0x6611); le32_put(blob + n_off, 25);
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_DATA);
	/* Header. */
	RESET(); blob[1] = 3;
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_DATA);
	RESET(); blob[0] = 0xc;
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_TYPE);
	RESET(); blob[0] = 0x8;
	CU_ASSERT(opaque_try(blob, len, &o) == NTE_BAD_TYPE);
#undef RESET
}

static void test_opaque_malformed(void)
{
	static const DWORD reserved[] = { 2, 3, 0x100, 0x80000000u, 0x80000001u, 0xfffffffeu,
					  0xffffffffu };
	BYTE v2[64], v1[60], kek[80], blob[80];
	struct blob_opaque o;

	opaque_sample(v2);
	opaque_sample_v1(v1);
	opaque_sample_kek(kek);
	opaque_malformed_fields(v2, sizeof v2, 36);
	opaque_malformed_fields(v1, sizeof v1, 32);

	/* Every prefix of the key-encryption key's blob, the usage field's
	 * among them (33 to 36 bytes, and 36 to 39 hold no n). */
	CU_ASSERT(opaque_try(kek, sizeof kek, &o) == ERROR_SUCCESS && o.usage == 1);
	for (size_t cut = 0; cut < sizeof kek; cut++)
		CU_ASSERT(opaque_try(kek, cut, &o) == NTE_BAD_DATA);

	/* The usage: bit 0 alone; any other bit is reserved. */
	memcpy(blob, v2, sizeof v2);
	le32_put(blob + 32, 1);
	CU_ASSERT(opaque_try(blob, sizeof v2, &o) == ERROR_SUCCESS && o.usage == 1);
	opaque_round_trip(blob, sizeof v2);
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(reserved); i++) {
		le32_put(blob + 32, reserved[i]);
		CU_ASSERT(opaque_try(blob, sizeof v2, &o) == NTE_BAD_DATA);
	}
	/* Found before the algorithms and the wrapped length. */
	le32_put(blob + 32, 2);
	le32_put(blob + 4, 0x6611);
	CU_ASSERT(opaque_try(blob, sizeof v2, &o) == NTE_BAD_DATA);
	le32_put(blob + 4, V_CALG_AES_128);
	le32_put(blob + 36, 0xffffffffu);
	CU_ASSERT(opaque_try(blob, sizeof v2, &o) == NTE_BAD_DATA);

	/* A version 2 blob too short for its header, whatever else is wrong:
	 * 36 to 39 bytes would be a whole version 1 header. */
	memcpy(blob, v2, sizeof v2);
	le32_put(blob + 4, 0x6611);
	for (size_t cut = 36; cut < 40; cut++)
		CU_ASSERT(opaque_try(blob, cut, &o) == NTE_BAD_DATA);

	/* One version read as the other: version 1's n (24) is a reserved
	 * usage in version 2; version 2's usage (0) is an n that does not fit
	 * a 16-byte key in version 1. */
	memcpy(blob, v1, sizeof v1);
	le32_put(blob + 12, 2);
	CU_ASSERT(opaque_try(blob, sizeof v1, &o) == NTE_BAD_DATA);
	memcpy(blob, v2, sizeof v2);
	le32_put(blob + 12, 1);
	CU_ASSERT(opaque_try(blob, sizeof v2, &o) == NTE_BAD_DATA);
	/* Version 1 reads as usage 0, whatever follows its header. */
	memcpy(blob, v1, sizeof v1);
	CU_ASSERT(opaque_try(blob, sizeof v1, &o) == ERROR_SUCCESS && o.version == 1 &&
		  o.usage == 0);
}

/* ---- ALG_ID table ------------------------------------------------------------------------ */

static void test_alg(void)
{
	size_t len = 0;

	for (size_t i = 0; i < CAPI11_N_ELEMENTS(plaintext_algs); i++) {
		CU_ASSERT(alg_symmetric_key_len(plaintext_algs[i].alg, &len));
		CU_ASSERT(len == plaintext_algs[i].len);
		CU_ASSERT(alg_is_des_family(plaintext_algs[i].alg) ==
			  (plaintext_algs[i].bad_len == NTE_BAD_FLAGS));
	}
	CU_ASSERT(!alg_symmetric_key_len(0x6611, &len));
	CU_ASSERT(!alg_symmetric_key_len(0x6602 /* RC2 */, &len));
	CU_ASSERT(!alg_symmetric_key_len(V_CALG_RSA_KEYX, &len));
	CU_ASSERT(!alg_is_des_family(V_CALG_AES_128));
	CU_ASSERT(!alg_is_des_family(0x6602));
}

static CU_TestInfo bn_tests[] = {
	{ "big-endian to little-endian, pad and strip", test_bn_be_to_le },
	{ "little-endian to big-endian, reverse", test_bn_le_to_be },
	{ "DWORD exponent conversions", test_bn_dword },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo header_tests[] = {
	{ "BLOBHEADER check order and errors", test_header },
	{ "ALG_ID key lengths and DES family", test_alg },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo rsa_tests[] = {
	{ "openssl blobs parse to openssl's numbers", test_rsa_parse_openssl },
	{ "openssl's numbers build openssl's blobs", test_rsa_build_openssl },
	{ "every truncation; privateExponent zero-extended", test_rsa_truncated },
	{ "truncated d re-exported zero-padded", test_rsa_truncated_reexport },
	{ "malformed RSA blobs and check order", test_rsa_malformed },
	{ "RSA builder errors and sizes", test_rsa_build_errors },
	{ "SIMPLEBLOB byte reversal with openssl ciphertext", test_simple },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo symmetric_tests[] = {
	{ "PLAINTEXTKEYBLOB lengths per algorithm", test_plaintext_lengths },
	{ "PLAINTEXTKEYBLOB malformed and layout", test_plaintext_malformed },
	{ "SYMMETRICWRAPKEYBLOB", test_symwrap },
	{ "SYMMETRICWRAPKEYBLOB with RFC 3394 and RFC 3217 sizes", test_symwrap_vectors },
	{ "OPAQUEKEYBLOB layout and round trip", test_opaque_layout },
	{ "OPAQUEKEYBLOB malformed", test_opaque_malformed },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "bn", NULL, NULL, NULL, NULL, bn_tests },
	{ "header", NULL, NULL, NULL, NULL, header_tests },
	{ "rsa", vectors_init, vectors_cleanup, NULL, NULL, rsa_tests },
	{ "symmetric", NULL, NULL, NULL, NULL, symmetric_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_run(suites);
}
