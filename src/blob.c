/* The key-blob codec (see blob.h for the layouts, the check order and the
 * buffer rule). Untrusted bytes reach this file first: every read is
 * preceded by a length check written as "offset + size > len" in
 * overflow-checked arithmetic. */
#include "config.h"
#include "blob.h"
#include "util.h"

#include <string.h>

/* Little-endian integers, read and written byte by byte: blobs are
 * little-endian whatever the host is, and need not be aligned. */
static DWORD le32_read(const BYTE *p)
{
	return (DWORD)p[0] | (DWORD)p[1] << 8 | (DWORD)p[2] << 16 | (DWORD)p[3] << 24;
}

static void le32_write(BYTE *p, DWORD v)
{
	p[0] = (BYTE)v;
	p[1] = (BYTE)(v >> 8);
	p[2] = (BYTE)(v >> 16);
	p[3] = (BYTE)(v >> 24);
}

static void header_write(BYTE *p, BYTE type, ALG_ID alg)
{
	p[0] = type;
	p[1] = CUR_BLOB_VERSION;
	p[2] = 0;
	p[3] = 0;
	le32_write(p + 4, alg);
}

/* The blob sizes that go back to CryptExportKey must fit its DWORD. */
static size_t size_or_zero(bool ok, size_t size)
{
	return ok && size <= UINT32_MAX ? size : 0;
}

/* The buffer rule shared by every builder (see blob.h). */
static DWORD buffer_check(size_t size, BYTE *out, size_t out_len, size_t *needed)
{
	*needed = size;
	if (out != NULL && out_len < size)
		return ERROR_MORE_DATA;
	return ERROR_SUCCESS;
}

/* ---- Big numbers ------------------------------------------------------------ */

size_t bn_be_len(const BYTE *be, size_t len)
{
	size_t skip = 0;

	while (skip < len && be[skip] == 0)
		skip++;
	return len - skip;
}

static size_t bn_le_len(const BYTE *le, size_t len)
{
	while (len > 0 && le[len - 1] == 0)
		len--;
	return len;
}

bool bn_be_to_le(const BYTE *be, size_t len, BYTE *le, size_t width)
{
	size_t n = bn_be_len(be, len);

	if (n > width)
		return false;
	/* Indexing from the end of be keeps an empty number (be NULL) legal. */
	for (size_t i = 0; i < n; i++)
		le[i] = be[len - 1 - i];
	memset(le + n, 0, width - n);
	return true;
}

bool bn_le_to_be(const BYTE *le, size_t len, BYTE *be, size_t width)
{
	size_t n = bn_le_len(le, len);

	if (n > width)
		return false;
	memset(be, 0, width - n);
	for (size_t i = 0; i < n; i++)
		be[width - 1 - i] = le[i];
	return true;
}

void bn_reverse_copy(BYTE *dst, const BYTE *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = src[len - 1 - i];
}

void bn_reverse(BYTE *b, size_t len)
{
	for (size_t i = 0; i < len / 2; i++) {
		BYTE t = b[i];

		b[i] = b[len - 1 - i];
		b[len - 1 - i] = t;
	}
}

bool bn_be_to_dword(const BYTE *be, size_t len, DWORD *out)
{
	size_t n = bn_be_len(be, len);
	DWORD v = 0;

	if (n > 4)
		return false;
	for (size_t i = len - n; i < len; i++)
		v = v << 8 | be[i];
	*out = v;
	return true;
}

size_t bn_dword_to_be(DWORD v, BYTE out[4])
{
	size_t n = 1;

	while (n < 4 && (v >> (8 * n)) != 0)
		n++;
	for (size_t i = 0; i < n; i++)
		out[n - 1 - i] = (BYTE)(v >> (8 * i));
	return n;
}

/* ---- BLOBHEADER ---------------------------------------------------------- */

static bool type_is_known(BYTE type)
{
	switch (type) {
	case SIMPLEBLOB:
	case PUBLICKEYBLOB:
	case PRIVATEKEYBLOB:
	case PLAINTEXTKEYBLOB:
	case OPAQUEKEYBLOB:
	case SYMMETRICWRAPKEYBLOB:
		return true;
	default:
		return false;
	}
}

/* Version 3 exists only for the DSS and DH key pairs (CRYPT_BLOB_VER3). */
static bool version_is_valid(BYTE version, BYTE type, ALG_ID alg)
{
	if (version == CUR_BLOB_VERSION)
		return true;
	return version == 3 && (type == PUBLICKEYBLOB || type == PRIVATEKEYBLOB) &&
	       (alg == CALG_DSS_SIGN || alg == CALG_DH_SF || alg == CALG_DH_EPHEM);
}

DWORD blob_parse_header(const BYTE *data, size_t len, BLOBHEADER *out)
{
	BLOBHEADER h;

	return_val_if_fail(out != NULL, ERROR_INVALID_PARAMETER);
	return_val_if_fail(data != NULL || len == 0, ERROR_INVALID_PARAMETER);

	if (len < BLOB_HEADER_LEN)
		return NTE_BAD_DATA;
	h.bType = data[0];
	h.bVersion = data[1];
	h.reserved = (WORD)(data[2] | data[3] << 8);
	h.aiKeyAlg = le32_read(data + 4);
	/* Windows judges the version and the reserved field before the type. */
	if (h.reserved != 0 || !version_is_valid(h.bVersion, h.bType, h.aiKeyAlg))
		return NTE_BAD_DATA;
	if (!type_is_known(h.bType))
		return NTE_BAD_TYPE;
	*out = h;
	return ERROR_SUCCESS;
}

/* The header of a per-type parser: steps 1 and 2, the expected type, and
 * version 2 (a version 3 header passes blob_parse_header only for DSS/DH,
 * which none of the forms below carries). */
static DWORD header_expect(const BYTE *data, size_t len, BYTE type, BLOBHEADER *h)
{
	DWORD err = blob_parse_header(data, len, h);

	if (err != ERROR_SUCCESS)
		return err;
	if (h->bType != type)
		return NTE_BAD_TYPE;
	if (h->bVersion != CUR_BLOB_VERSION)
		return NTE_BAD_DATA;
	return ERROR_SUCCESS;
}

/* ---- RSA --------------------------------------------------------------------- */

/* Carves the next size bytes of the blob at *pos into view. The caller has
 * checked that they are there. */
static void rsa_take(const BYTE *data, size_t *pos, size_t size, struct blob_bytes *view)
{
	view->data = data + *pos;
	view->len = size;
	*pos += size;
}

static DWORD rsa_parse(const BYTE *data, size_t len, BYTE type, struct blob_rsa *out)
{
	BLOBHEADER h;
	DWORD magic, bitlen, pubexp, err;
	size_t k, half, need, pos, crt;
	struct blob_rsa r = { 0 };

	return_val_if_fail(out != NULL, ERROR_INVALID_PARAMETER);

	err = header_expect(data, len, type, &h);
	if (err != ERROR_SUCCESS)
		return err;
	if (len < BLOB_RSA_HEADER_LEN)
		return NTE_BAD_DATA;
	magic = le32_read(data + 8);
	bitlen = le32_read(data + 12);
	pubexp = le32_read(data + 16);
	if (magic != (type == PUBLICKEYBLOB ? CAPI11_RSA1_MAGIC : CAPI11_RSA2_MAGIC))
		return NTE_BAD_DATA;

	/* The length check comes before the bitlen is judged, as in Windows'
	 * CSPs; a huge bitlen simply needs more bytes than there are. */
	k = bitlen / 8;
	half = (k + 1) / 2;
	if (!capi11_add_size(BLOB_RSA_HEADER_LEN, k, &need))
		return NTE_BAD_DATA;
	if (type == PRIVATEKEYBLOB &&
	    !(capi11_mul_size(half, 5, &crt) && capi11_add_size(need, crt, &need)))
		return NTE_BAD_DATA;
	if (need > len)
		return NTE_BAD_DATA;

	if (!alg_is_rsa(h.aiKeyAlg))
		return NTE_BAD_ALGID;
	if (bitlen % 8 != 0 || bitlen < ALG_RSA_MIN_BITS || bitlen > ALG_RSA_MAX_BITS)
		return NTE_BAD_DATA;
	/* No RSA key has an even exponent or one below 3 (it must be odd to
	 * be invertible, and 1 turns RSA into a copy), nor a modulus that is
	 * even or shorter than the shortest key (zero and one included; a
	 * modulus of 1 makes every ciphertext 0): a wrap under such a "key"
	 * hides nothing. */
	if (pubexp < 3 || pubexp % 2 == 0)
		return NTE_BAD_DATA;

	r.alg = h.aiKeyAlg;
	r.bitlen = bitlen;
	r.pubexp = pubexp;
	pos = BLOB_RSA_HEADER_LEN;
	rsa_take(data, &pos, k, &r.modulus);
	/* Little-endian: the first byte is the lowest. */
	if (r.modulus.data[0] % 2 == 0 || bn_le_len(r.modulus.data, k) < ALG_RSA_MIN_BITS / 8)
		return NTE_BAD_DATA;
	if (type == PRIVATEKEYBLOB) {
		rsa_take(data, &pos, half, &r.prime1);
		rsa_take(data, &pos, half, &r.prime2);
		rsa_take(data, &pos, half, &r.exponent1);
		rsa_take(data, &pos, half, &r.exponent2);
		rsa_take(data, &pos, half, &r.coefficient);
		/* Windows imports a privateExponent cut short or missing: take
		 * what is there, up to k bytes (pos == need <= len here). */
		rsa_take(data, &pos, len - pos < k ? len - pos : k, &r.private_exponent);
	}
	*out = r;
	return ERROR_SUCCESS;
}

DWORD blob_parse_rsa_public(const BYTE *data, size_t len, struct blob_rsa *out)
{
	return rsa_parse(data, len, PUBLICKEYBLOB, out);
}

DWORD blob_parse_rsa_private(const BYTE *data, size_t len, struct blob_rsa *out)
{
	return rsa_parse(data, len, PRIVATEKEYBLOB, out);
}

/* The k and h of a key given as numbers; NTE_BAD_KEY when the modulus is
 * zero or beyond what a blob may carry. */
static DWORD rsa_widths(const struct blob_rsa_numbers *key, size_t *k, size_t *half)
{
	*k = bn_be_len(key->modulus.data, key->modulus.len);
	if (*k == 0 || *k > ALG_RSA_MAX_BITS / 8)
		return NTE_BAD_KEY;
	*half = (*k + 1) / 2;
	return ERROR_SUCCESS;
}

static bool bn_fits(const struct blob_bytes *n, size_t width)
{
	return bn_be_len(n->data, n->len) <= width;
}

static DWORD rsa_check(const struct blob_rsa_numbers *key, bool private, size_t *k, size_t *half,
		       DWORD *pubexp)
{
	DWORD err;

	if (!alg_is_rsa(key->alg))
		return NTE_BAD_ALGID;
	err = rsa_widths(key, k, half);
	if (err != ERROR_SUCCESS)
		return err;
	if (!bn_be_to_dword(key->public_exponent.data, key->public_exponent.len, pubexp) ||
	    *pubexp == 0)
		return NTE_BAD_KEY;
	if (private &&
	    !(bn_fits(&key->prime1, *half) && bn_fits(&key->prime2, *half) &&
	      bn_fits(&key->exponent1, *half) && bn_fits(&key->exponent2, *half) &&
	      bn_fits(&key->coefficient, *half) && bn_fits(&key->private_exponent, *k)))
		return NTE_BAD_KEY;
	return ERROR_SUCCESS;
}

/* Writes a number checked by rsa_check: it fits, so this cannot fail. */
static void rsa_put(BYTE *out, size_t *pos, const struct blob_bytes *n, size_t width)
{
	bn_be_to_le(n->data, n->len, out + *pos, width);
	*pos += width;
}

static DWORD rsa_build(const struct blob_rsa_numbers *key, bool private, BYTE *out, size_t out_len,
		       size_t *needed)
{
	size_t k, half, size, pos;
	DWORD pubexp, err;

	return_val_if_fail(key != NULL && needed != NULL, ERROR_INVALID_PARAMETER);

	err = rsa_check(key, private, &k, &half, &pubexp);
	if (err != ERROR_SUCCESS)
		return err;
	/* k <= 2048, so these sums cannot overflow. */
	size = BLOB_RSA_HEADER_LEN + k + (private ? 5 * half + k : 0);
	err = buffer_check(size, out, out_len, needed);
	if (err != ERROR_SUCCESS || out == NULL)
		return err;

	header_write(out, private ? PRIVATEKEYBLOB : PUBLICKEYBLOB, key->alg);
	le32_write(out + 8, private ? CAPI11_RSA2_MAGIC : CAPI11_RSA1_MAGIC);
	le32_write(out + 12, (DWORD)(8 * k));
	le32_write(out + 16, pubexp);
	pos = BLOB_RSA_HEADER_LEN;
	rsa_put(out, &pos, &key->modulus, k);
	if (private) {
		rsa_put(out, &pos, &key->prime1, half);
		rsa_put(out, &pos, &key->prime2, half);
		rsa_put(out, &pos, &key->exponent1, half);
		rsa_put(out, &pos, &key->exponent2, half);
		rsa_put(out, &pos, &key->coefficient, half);
		rsa_put(out, &pos, &key->private_exponent, k);
	}
	return ERROR_SUCCESS;
}

DWORD blob_build_rsa_public(const struct blob_rsa_numbers *key, BYTE *out, size_t out_len,
			    size_t *needed)
{
	return rsa_build(key, false, out, out_len, needed);
}

DWORD blob_build_rsa_private(const struct blob_rsa_numbers *key, BYTE *out, size_t out_len,
			     size_t *needed)
{
	return rsa_build(key, true, out, out_len, needed);
}

/* ceil(bits / 8) within the blob range, else 0. */
static size_t rsa_bytes(DWORD bits)
{
	if (bits == 0 || bits > ALG_RSA_MAX_BITS)
		return 0;
	return ((size_t)bits + 7) / 8;
}

size_t blob_size_rsa_public(DWORD bits)
{
	size_t k = rsa_bytes(bits);

	return k == 0 ? 0 : BLOB_RSA_HEADER_LEN + k;
}

size_t blob_size_rsa_private(DWORD bits)
{
	size_t k = rsa_bytes(bits);

	return k == 0 ? 0 : BLOB_RSA_HEADER_LEN + 2 * k + 5 * ((k + 1) / 2);
}

/* ---- SIMPLEBLOB ------------------------------------------------------------- */

#define BLOB_ALGID_HEADER_LEN 12   /* BLOBHEADER + one ALG_ID or DWORD */

DWORD blob_parse_simple(const BYTE *data, size_t len, size_t modulus_len, struct blob_simple *out)
{
	BLOBHEADER h;
	size_t need;
	DWORD err;

	return_val_if_fail(out != NULL && modulus_len > 0, ERROR_INVALID_PARAMETER);

	err = header_expect(data, len, SIMPLEBLOB, &h);
	if (err != ERROR_SUCCESS)
		return err;
	if (!capi11_add_size(BLOB_ALGID_HEADER_LEN, modulus_len, &need) || need > len)
		return NTE_BAD_DATA;
	if (!alg_symmetric_key_range(h.aiKeyAlg, NULL, NULL))
		return NTE_BAD_ALGID;

	out->alg = h.aiKeyAlg;
	out->wrap_alg = le32_read(data + 8);
	out->ciphertext.data = data + BLOB_ALGID_HEADER_LEN;
	out->ciphertext.len = modulus_len;
	return ERROR_SUCCESS;
}

DWORD blob_build_simple(ALG_ID alg, ALG_ID wrap_alg, const BYTE *ciphertext, size_t ciphertext_len,
			BYTE *out, size_t out_len, size_t *needed)
{
	size_t size;
	DWORD err;

	return_val_if_fail(needed != NULL && (ciphertext != NULL || ciphertext_len == 0),
			   ERROR_INVALID_PARAMETER);

	if (!alg_symmetric_key_range(alg, NULL, NULL))
		return NTE_BAD_ALGID;
	if (ciphertext_len == 0 || ciphertext_len > ALG_RSA_MAX_BITS / 8)
		return NTE_BAD_LEN;
	size = BLOB_ALGID_HEADER_LEN + ciphertext_len;
	err = buffer_check(size, out, out_len, needed);
	if (err != ERROR_SUCCESS || out == NULL)
		return err;

	header_write(out, SIMPLEBLOB, alg);
	le32_write(out + 8, wrap_alg);
	/* Windows stores RSA ciphertext little-endian. */
	bn_reverse_copy(out + BLOB_ALGID_HEADER_LEN, ciphertext, ciphertext_len);
	return ERROR_SUCCESS;
}

size_t blob_size_simple(DWORD modulus_bits)
{
	size_t k = rsa_bytes(modulus_bits);

	return k == 0 ? 0 : BLOB_ALGID_HEADER_LEN + k;
}

/* ---- PLAINTEXTKEYBLOB ---------------------------------------------------------- */

/* rc2_max: the longest RC2 key accepted, 0 for the algorithm's own 16. */
static DWORD plaintext_parse(const BYTE *data, size_t len, size_t rc2_max,
			     struct blob_plaintext *out)
{
	BLOBHEADER h;
	size_t key_len, need, min, max;
	DWORD err;

	return_val_if_fail(out != NULL, ERROR_INVALID_PARAMETER);

	err = header_expect(data, len, PLAINTEXTKEYBLOB, &h);
	if (err != ERROR_SUCCESS)
		return err;
	if (len < BLOB_ALGID_HEADER_LEN)
		return NTE_BAD_DATA;
	key_len = le32_read(data + 8);
	if (!capi11_add_size(BLOB_ALGID_HEADER_LEN, key_len, &need) || need > len)
		return NTE_BAD_DATA;
	if (!alg_symmetric_key_range(h.aiKeyAlg, &min, &max))
		return NTE_BAD_ALGID;
	if (h.aiKeyAlg == CALG_RC2 && rc2_max != 0) {
		min = 1;
		max = rc2_max;
	}
	/* Windows' CSPs report a DES-family length as a flags error, the
	 * length being the HIWORD of CryptGenKey's dwFlags there. */
	if (key_len < min || key_len > max)
		return alg_is_des_family(h.aiKeyAlg) ? NTE_BAD_FLAGS : NTE_BAD_DATA;

	out->alg = h.aiKeyAlg;
	out->key.data = data + BLOB_ALGID_HEADER_LEN;
	out->key.len = key_len;
	return ERROR_SUCCESS;
}

DWORD blob_parse_plaintext(const BYTE *data, size_t len, struct blob_plaintext *out)
{
	return plaintext_parse(data, len, 0, out);
}

DWORD blob_parse_plaintext_long_rc2(const BYTE *data, size_t len, size_t rc2_max,
				    struct blob_plaintext *out)
{
	return_val_if_fail(rc2_max != 0, ERROR_INVALID_PARAMETER);
	return plaintext_parse(data, len, rc2_max, out);
}

DWORD blob_build_plaintext(ALG_ID alg, const BYTE *key, size_t key_len, BYTE *out, size_t out_len,
			   size_t *needed)
{
	size_t size;
	DWORD err;

	return_val_if_fail(needed != NULL && (key != NULL || key_len == 0), ERROR_INVALID_PARAMETER);

	if (!alg_symmetric_key_range(alg, NULL, NULL))
		return NTE_BAD_ALGID;
	size = blob_size_plaintext(key_len);
	if (key_len == 0 || size == 0)
		return NTE_BAD_LEN;
	err = buffer_check(size, out, out_len, needed);
	if (err != ERROR_SUCCESS || out == NULL)
		return err;

	header_write(out, PLAINTEXTKEYBLOB, alg);
	le32_write(out + 8, (DWORD)key_len);
	memcpy(out + BLOB_ALGID_HEADER_LEN, key, key_len);
	return ERROR_SUCCESS;
}

size_t blob_size_plaintext(size_t key_len)
{
	size_t size;
	bool ok = capi11_add_size(BLOB_ALGID_HEADER_LEN, key_len, &size);

	return size_or_zero(ok, size);
}

/* ---- SYMMETRICWRAPKEYBLOB ------------------------------------------------------ */

/* RFC 3394 and RFC 3217 both output whole 8-byte blocks: an integrity block
 * plus at least one key block. */
static bool symwrap_len_is_valid(size_t wrapped_len)
{
	return wrapped_len >= 16 && wrapped_len % 8 == 0;
}

DWORD blob_parse_symwrap(const BYTE *data, size_t len, struct blob_symwrap *out)
{
	BLOBHEADER h;
	size_t wrapped_len;
	ALG_ID wrap_alg;
	DWORD err;

	return_val_if_fail(out != NULL, ERROR_INVALID_PARAMETER);

	err = header_expect(data, len, SYMMETRICWRAPKEYBLOB, &h);
	if (err != ERROR_SUCCESS)
		return err;
	if (len < BLOB_ALGID_HEADER_LEN)
		return NTE_BAD_DATA;
	wrap_alg = le32_read(data + 8);
	if (!alg_symmetric_key_range(h.aiKeyAlg, NULL, NULL) ||
	    !alg_symmetric_key_range(wrap_alg, NULL, NULL))
		return NTE_BAD_ALGID;
	wrapped_len = len - BLOB_ALGID_HEADER_LEN;
	if (!symwrap_len_is_valid(wrapped_len))
		return NTE_BAD_DATA;

	out->alg = h.aiKeyAlg;
	out->wrap_alg = wrap_alg;
	out->wrapped.data = data + BLOB_ALGID_HEADER_LEN;
	out->wrapped.len = wrapped_len;
	return ERROR_SUCCESS;
}

DWORD blob_build_symwrap(ALG_ID alg, ALG_ID wrap_alg, const BYTE *wrapped, size_t wrapped_len,
			 BYTE *out, size_t out_len, size_t *needed)
{
	size_t size;
	DWORD err;

	return_val_if_fail(needed != NULL && (wrapped != NULL || wrapped_len == 0),
			   ERROR_INVALID_PARAMETER);

	if (!alg_symmetric_key_range(alg, NULL, NULL) || !alg_symmetric_key_range(wrap_alg, NULL, NULL))
		return NTE_BAD_ALGID;
	size = blob_size_symwrap(wrapped_len);
	if (!symwrap_len_is_valid(wrapped_len) || size == 0)
		return NTE_BAD_LEN;
	err = buffer_check(size, out, out_len, needed);
	if (err != ERROR_SUCCESS || out == NULL)
		return err;

	header_write(out, SYMMETRICWRAPKEYBLOB, alg);
	le32_write(out + 8, wrap_alg);
	memcpy(out + BLOB_ALGID_HEADER_LEN, wrapped, wrapped_len);
	return ERROR_SUCCESS;
}

size_t blob_size_symwrap(size_t wrapped_len)
{
	size_t size;
	bool ok = capi11_add_size(BLOB_ALGID_HEADER_LEN, wrapped_len, &size);

	return size_or_zero(ok, size);
}

/* ---- OPAQUEKEYBLOB ------------------------------------------------------------- */

size_t blob_aes_wrap_len(size_t key_len, bool pad)
{
	size_t blocks;

	if (!pad)
		return key_len >= 16 && key_len % 8 == 0 && key_len <= SIZE_MAX - 8 ? key_len + 8 : 0;
	/* The padded wrap rounds up to whole blocks, at least one. */
	if (key_len == 0 || key_len > SIZE_MAX - 16)
		return 0;
	blocks = (key_len + 7) / 8;
	return 8 * blocks + 8;
}

/* The header length of a format version; 0 for a version that does not
 * exist. */
static size_t opaque_header_len(DWORD version)
{
	switch (version) {
	case BLOB_OPAQUE_VERSION_1:
		return BLOB_OPAQUE_HEADER_LEN_V1;
	case BLOB_OPAQUE_VERSION:
		return BLOB_OPAQUE_HEADER_LEN;
	default:
		return 0;
	}
}

/* The usage field's rules: only known bits, and none in version 1, which
 * has no field to carry them. */
static DWORD opaque_check_usage(DWORD version, DWORD usage)
{
	if (usage & ~(DWORD)BLOB_OPAQUE_USAGE_KEK)
		return NTE_BAD_DATA;
	if (version == BLOB_OPAQUE_VERSION_1 && usage != 0)
		return NTE_BAD_DATA;
	return ERROR_SUCCESS;
}

/* The consistency rules of blob.h, shared by the parser and the builder. */
static DWORD opaque_check(const struct blob_opaque *key)
{
	CK_KEY_TYPE type;
	size_t min, max;

	if (!alg_key_type(key->alg, &type))
		return NTE_BAD_ALGID;
	if (!alg_is_aes(key->wrap_alg))
		return NTE_BAD_ALGID;
	if (key->mechanism != CKM_AES_KEY_WRAP && key->mechanism != CKM_AES_KEY_WRAP_PAD)
		return NTE_BAD_DATA;
	if (key->key_type != type)
		return NTE_BAD_DATA;
	if (type == CKK_RSA) {
		/* An RSA key's usage is its slot's, which aiKeyAlg names. */
		if (key->usage & BLOB_OPAQUE_USAGE_KEK)
			return NTE_BAD_DATA;
		/* A PKCS#8 PrivateKeyInfo has no fixed length; its wrap is whole
		 * blocks, at least two plus the integrity block. */
		if (key->key_len < ALG_RSA_MIN_BITS / 8 || key->key_len > ALG_RSA_MAX_BITS / 8)
			return NTE_BAD_DATA;
		if (key->wrapped.len < 24 || key->wrapped.len % 8 != 0)
			return NTE_BAD_DATA;
		return ERROR_SUCCESS;
	}
	if (!alg_symmetric_key_range(key->alg, &min, &max) || key->key_len < min ||
	    key->key_len > max)
		return NTE_BAD_DATA;
	if (key->wrapped.len != blob_aes_wrap_len(key->key_len, key->mechanism == CKM_AES_KEY_WRAP_PAD))
		return NTE_BAD_DATA;
	return ERROR_SUCCESS;
}

DWORD blob_parse_opaque(const BYTE *data, size_t len, struct blob_opaque *out)
{
	BLOBHEADER h;
	struct blob_opaque o;
	size_t header_len, wrapped_len, need;
	DWORD err;

	return_val_if_fail(out != NULL, ERROR_INVALID_PARAMETER);

	err = header_expect(data, len, OPAQUEKEYBLOB, &h);
	if (err != ERROR_SUCCESS)
		return err;
	/* Version 1's header, the shorter, holds the magic and the version. */
	if (len < BLOB_OPAQUE_HEADER_LEN_V1 || le32_read(data + 8) != BLOB_OPAQUE_MAGIC)
		return NTE_BAD_DATA;
	o.version = le32_read(data + 12);
	header_len = opaque_header_len(o.version);
	if (header_len == 0 || len < header_len)
		return NTE_BAD_DATA;
	/* Version 2 has the usage before n; version 1 has none. */
	o.usage = o.version == BLOB_OPAQUE_VERSION_1 ? 0 : le32_read(data + 32);
	err = opaque_check_usage(o.version, o.usage);
	if (err != ERROR_SUCCESS)
		return err;
	wrapped_len = le32_read(data + header_len - 4);
	if (!capi11_add_size(header_len, wrapped_len, &need) || need > len)
		return NTE_BAD_DATA;

	o.alg = h.aiKeyAlg;
	o.mechanism = le32_read(data + 16);
	o.key_type = le32_read(data + 20);
	o.key_len = le32_read(data + 24);
	o.wrap_alg = le32_read(data + 28);
	o.wrapped.data = data + header_len;
	o.wrapped.len = wrapped_len;
	err = opaque_check(&o);
	if (err != ERROR_SUCCESS)
		return err;
	*out = o;
	return ERROR_SUCCESS;
}

DWORD blob_build_opaque(const struct blob_opaque *key, BYTE *out, size_t out_len, size_t *needed)
{
	size_t header_len, size;
	DWORD err;

	return_val_if_fail(key != NULL && needed != NULL, ERROR_INVALID_PARAMETER);
	return_val_if_fail(key->wrapped.data != NULL || key->wrapped.len == 0, ERROR_INVALID_PARAMETER);

	header_len = opaque_header_len(key->version);
	if (header_len == 0)
		return NTE_BAD_DATA;
	err = opaque_check_usage(key->version, key->usage);
	if (err == ERROR_SUCCESS)
		err = opaque_check(key);
	if (err != ERROR_SUCCESS)
		return err;
	size = blob_size_opaque(key->version, key->wrapped.len);
	if (size == 0)
		return NTE_BAD_DATA;
	err = buffer_check(size, out, out_len, needed);
	if (err != ERROR_SUCCESS || out == NULL)
		return err;

	header_write(out, OPAQUEKEYBLOB, key->alg);
	le32_write(out + 8, BLOB_OPAQUE_MAGIC);
	le32_write(out + 12, key->version);
	le32_write(out + 16, (DWORD)key->mechanism);
	le32_write(out + 20, (DWORD)key->key_type);
	le32_write(out + 24, key->key_len);
	le32_write(out + 28, key->wrap_alg);
	if (key->version != BLOB_OPAQUE_VERSION_1)
		le32_write(out + 32, key->usage);
	le32_write(out + header_len - 4, (DWORD)key->wrapped.len);
	memcpy(out + header_len, key->wrapped.data, key->wrapped.len);
	return ERROR_SUCCESS;
}

size_t blob_size_opaque(DWORD version, size_t wrapped_len)
{
	size_t header_len = opaque_header_len(version), size = 0;
	bool ok = header_len != 0 && capi11_add_size(header_len, wrapped_len, &size);

	return size_or_zero(ok, size);
}
