/* RSA and DSS key conversions between CryptoAPI blobs and PEM/DER (and a
 * Diffie-Hellman public key to PEM/DER), on libcrypto. */
#include "config.h"
#include "pem.h"
#include "le32.h"
#include "tool.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define RSA_HEADER_LEN 20   /* BLOBHEADER + RSAPUBKEY */
#define RSA_MAX_BYTES 2048  /* 16384 bits, Windows' limit */

/* DSS blobs (Microsoft's DSSPUBKEY, DSSPUBKEY_VER3 and DSSPRIVKEY_VER3
 * pages): version 2 is BLOBHEADER, {magic, bitlen}, p q g, y or x, then a
 * DSSSEED; version 3 is BLOBHEADER, {magic, bitlenP, bitlenQ, bitlenJ,
 * [bitlenX,] DSSSEED}, then p q g j y [x]. Microsoft's DSS providers take
 * primes of 512 to 1024 bits in steps of 64 and a 160-bit q. */
#define DSS_V2_HEADER_LEN 16
#define DSS_SEED_LEN 24     /* DSSSEED: counter, 20 seed bytes */
#define DSS_Q_LEN 20
#define DSS_MIN_BITS 512
#define DSS_MAX_BITS 1024
#define DSS_NO_SEED 0xFFFFFFFFu
/* BLOBHEADER + DSSPUBKEY_VER3 (magic, three bit lengths, DSSSEED) or
 * DSSPRIVKEY_VER3 (one more bit length). */
#define BLOB_V3_HEAD(priv) (8 + 16 + ((priv) ? 4 : 0) + DSS_SEED_LEN)

bool pem_is_blob(const unsigned char *data, size_t len)
{
	if (len < 8 || (data[1] != 2 && data[1] != 3) || data[2] != 0 || data[3] != 0)
		return false;
	switch (data[0]) {
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

/* Names of the RSA numbers in OpenSSL's parameter interface, in the order
 * a PRIVATEKEYBLOB stores them after the modulus. */
static const char *const crt_names[5] = {
	OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
	OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
	OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
};

/* Builds the EVP_PKEY from the blob's little-endian numbers. */
static EVP_PKEY *rsa_pkey_from_blob(const BYTE *blob, size_t len, bool *is_private)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn[8] = { NULL };
	size_t k, h, off;
	DWORD magic, bitlen;

	if (len < RSA_HEADER_LEN || (blob[0] != PUBLICKEYBLOB && blob[0] != PRIVATEKEYBLOB)) {
		tool_error("only RSA, DSS and DH key pair blobs have a PEM/DER form");
		return NULL;
	}
	magic = le32_get(blob + 8);
	bitlen = le32_get(blob + 12);
	*is_private = blob[0] == PRIVATEKEYBLOB;
	if (magic != (*is_private ? CAPI11_RSA2_MAGIC : CAPI11_RSA1_MAGIC)) {
		tool_error("the blob is not a plaintext RSA key (magic 0x%08lx): no PEM/DER form",
			   (unsigned long)magic);
		return NULL;
	}
	k = bitlen / 8;
	h = (k + 1) / 2;
	if (bitlen == 0 || bitlen % 8 != 0 || k > RSA_MAX_BYTES ||
	    len < RSA_HEADER_LEN + k + (*is_private ? 5 * h + k : 0)) {
		tool_error("malformed RSA blob (bitlen %lu, %zu bytes): see capi11-tool dump",
			   (unsigned long)bitlen, len);
		return NULL;
	}
	bld = OSSL_PARAM_BLD_new();
	bn[0] = BN_lebin2bn(blob + RSA_HEADER_LEN, (int)k, NULL);
	bn[1] = BN_new();
	if (bld == NULL || bn[0] == NULL || bn[1] == NULL ||
	    !BN_set_word(bn[1], le32_get(blob + 16)) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn[0]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn[1]))
		goto out;
	if (*is_private) {
		off = RSA_HEADER_LEN + k;
		for (int i = 0; i < 5; i++, off += h) {
			bn[2 + i] = BN_secure_new();
			if (bn[2 + i] == NULL || BN_lebin2bn(blob + off, (int)h, bn[2 + i]) == NULL ||
			    !OSSL_PARAM_BLD_push_BN(bld, crt_names[i], bn[2 + i]))
				goto out;
		}
		bn[7] = BN_secure_new();
		if (bn[7] == NULL || BN_lebin2bn(blob + off, (int)k, bn[7]) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, bn[7]))
			goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, *is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
			      params) <= 0)
		pkey = NULL;
out:
	if (pkey == NULL)
		tool_error("OpenSSL cannot build an RSA key from the blob");
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	for (int i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	return pkey;
}

/* Where a DSS blob keeps its numbers: offsets and widths, little-endian;
 * y_len 0 for a version 2 private blob, which has none. */
struct dss_layout {
	bool is_private;
	size_t p, q, g, y, x;
	size_t p_len, q_len, y_len, x_len;
};

/* Reads the DSS blob's layout, checking every width fits in len. */
static bool dss_layout_read(const BYTE *blob, size_t len, struct dss_layout *l)
{
	DWORD magic, bits_p, bits_q = 8 * DSS_Q_LEN, bits_j = 0, bits_x = 8 * DSS_Q_LEN;
	bool v3 = blob[1] == 3;
	size_t pos, need;

	memset(l, 0, sizeof *l);
	l->is_private = blob[0] == PRIVATEKEYBLOB;
	magic = le32_get(blob + 8);
	if (magic != (l->is_private ? (v3 ? CAPI11_DSS4_MAGIC : CAPI11_DSS2_MAGIC)
				    : (v3 ? CAPI11_DSS3_MAGIC : CAPI11_DSS1_MAGIC)))
		return false;
	bits_p = le32_get(blob + 12);
	pos = DSS_V2_HEADER_LEN;
	if (v3) {
		if (len < BLOB_V3_HEAD(l->is_private))
			return false;
		bits_q = le32_get(blob + 16);
		bits_j = le32_get(blob + 20);
		if (l->is_private)
			bits_x = le32_get(blob + 24);
		pos = BLOB_V3_HEAD(l->is_private);
	}
	/* Bounded before anything is summed. */
	if (bits_p < DSS_MIN_BITS || bits_p > DSS_MAX_BITS || bits_p % 64 != 0 ||
	    bits_q != 8 * DSS_Q_LEN || bits_x != 8 * DSS_Q_LEN || bits_j % 8 != 0 ||
	    bits_j > bits_p)
		return false;
	l->p_len = bits_p / 8;
	l->q_len = DSS_Q_LEN;
	l->p = pos;
	l->q = l->p + l->p_len;
	l->g = l->q + l->q_len;
	pos = l->g + l->p_len + bits_j / 8;
	if (v3 || !l->is_private) {
		l->y = pos;
		l->y_len = l->p_len;
		pos += l->y_len;
	}
	if (l->is_private) {
		l->x = pos;
		l->x_len = DSS_Q_LEN;
		pos += l->x_len;
	}
	need = pos + (v3 ? 0 : DSS_SEED_LEN);
	return need <= len;
}

/* Builds the EVP_PKEY of a DSS blob (either version). */
static EVP_PKEY *dss_pkey_from_blob(const BYTE *blob, size_t len, bool *is_private)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn[5] = { NULL };
	struct dss_layout l;

	if (!dss_layout_read(blob, len, &l)) {
		tool_error("malformed DSS blob (%zu bytes): see capi11-tool dump", len);
		return NULL;
	}
	*is_private = l.is_private;
	bld = OSSL_PARAM_BLD_new();
	bn[0] = BN_lebin2bn(blob + l.p, (int)l.p_len, NULL);
	bn[1] = BN_lebin2bn(blob + l.q, (int)l.q_len, NULL);
	bn[2] = BN_lebin2bn(blob + l.g, (int)l.p_len, NULL);
	if (bld == NULL || bn[0] == NULL || bn[1] == NULL || bn[2] == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, bn[0]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_Q, bn[1]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, bn[2]))
		goto out;
	if (l.y_len > 0 && ((bn[3] = BN_lebin2bn(blob + l.y, (int)l.y_len, NULL)) == NULL ||
			    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, bn[3])))
		goto out;
	if (l.is_private && ((bn[4] = BN_secure_new()) == NULL ||
			     BN_lebin2bn(blob + l.x, (int)l.x_len, bn[4]) == NULL ||
			     !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn[4])))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, l.is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
			      params) <= 0)
		pkey = NULL;
out:
	if (pkey == NULL)
		tool_error("OpenSSL cannot build a DSA key from the blob");
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	for (int i = 0; i < 5; i++)
		BN_clear_free(bn[i]);
	return pkey;
}

/* A Diffie-Hellman public key from a version 3 "\0DH3" blob (Microsoft's
 * DHPUBKEY_VER3: magic, bitlenP, bitlenQ, bitlenJ, DSSSEED, then p, q, g,
 * j, y), the one DH blob that holds the group as well as y: OpenSSL's
 * "DH" key (PKCS#3 dhKeyAgreement), or "DHX" (X9.42) when the blob has a
 * q. A version 2 public blob has y alone, and private DH keys get no
 * PEM/DER form from capi11-tool. */
#define DH_V3_PUB_HEAD (8 + 16 + DSS_SEED_LEN)
#define DH_MIN_BITS 512
#define DH_MAX_BITS 4096

static EVP_PKEY *dh_pkey_from_blob(const BYTE *blob, size_t len, bool *is_private)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn[4] = { NULL };
	DWORD bits_p, bits_q, bits_j;
	size_t P, Q, J, pos = DH_V3_PUB_HEAD;

	*is_private = blob[0] == PRIVATEKEYBLOB;
	if (*is_private) {
		tool_error("a Diffie-Hellman private key has no PEM/DER form here: export it as "
			   "a blob");
		return NULL;
	}
	if (blob[1] != 3 || len < DH_V3_PUB_HEAD || le32_get(blob + 8) != CAPI11_DH3_MAGIC) {
		tool_error("a Diffie-Hellman public key has a PEM/DER form from its version 3 "
			   "blob (\"\\0DH3\", CRYPT_BLOB_VER3) only: a version 2 blob lacks p "
			   "and g");
		return NULL;
	}
	bits_p = le32_get(blob + 12);
	bits_q = le32_get(blob + 16);
	bits_j = le32_get(blob + 20);
	/* Every width bounded before any is summed. */
	if (bits_p % 8 != 0 || bits_p < DH_MIN_BITS || bits_p > DH_MAX_BITS || bits_q % 8 != 0 ||
	    bits_q > bits_p || bits_j % 8 != 0 || bits_j > bits_p ||
	    len < DH_V3_PUB_HEAD + 3 * (size_t)(bits_p / 8) + bits_q / 8 + bits_j / 8) {
		tool_error("malformed DH blob (%zu bytes): see capi11-tool dump", len);
		return NULL;
	}
	P = bits_p / 8;
	Q = bits_q / 8;
	J = bits_j / 8;
	bld = OSSL_PARAM_BLD_new();
	bn[0] = BN_lebin2bn(blob + pos, (int)P, NULL);
	pos += P;
	if (Q > 0)
		bn[1] = BN_lebin2bn(blob + pos, (int)Q, NULL);
	pos += Q;
	bn[2] = BN_lebin2bn(blob + pos, (int)P, NULL);
	pos += P + J;
	bn[3] = BN_lebin2bn(blob + pos, (int)P, NULL);
	if (bld == NULL || bn[0] == NULL || (Q > 0 && bn[1] == NULL) || bn[2] == NULL ||
	    bn[3] == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, bn[0]) ||
	    (Q > 0 && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_Q, bn[1])) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, bn[2]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, bn[3]))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, Q > 0 ? "DHX" : "DH", NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
out:
	if (pkey == NULL)
		tool_error("OpenSSL cannot build a DH key from the blob");
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	for (int i = 0; i < 4; i++)
		BN_free(bn[i]);
	return pkey;
}

/* The key of an RSA, DSS or DH PUBLICKEYBLOB or plaintext RSA/DSS
 * PRIVATEKEYBLOB. */
static EVP_PKEY *pkey_from_blob(const BYTE *blob, size_t len, bool *is_private)
{
	if (len >= DSS_V2_HEADER_LEN && (blob[0] == PUBLICKEYBLOB || blob[0] == PRIVATEKEYBLOB) &&
	    le32_get(blob + 4) == CALG_DSS_SIGN)
		return dss_pkey_from_blob(blob, len, is_private);
	if (len >= DSS_V2_HEADER_LEN && (blob[0] == PUBLICKEYBLOB || blob[0] == PRIVATEKEYBLOB) &&
	    (le32_get(blob + 4) == CALG_DH_SF || le32_get(blob + 4) == CALG_DH_EPHEM))
		return dh_pkey_from_blob(blob, len, is_private);
	return rsa_pkey_from_blob(blob, len, is_private);
}

/* The memory BIO's contents, copied out. */
static bool bio_take(BIO *bio, unsigned char **out, size_t *out_len)
{
	char *mem;
	long n = BIO_get_mem_data(bio, &mem);

	if (n <= 0 || (*out = malloc((size_t)n)) == NULL)
		return false;
	memcpy(*out, mem, (size_t)n);
	*out_len = (size_t)n;
	return true;
}

bool pem_from_blob(const BYTE *blob, size_t len, enum pem_format format, unsigned char **out,
		   size_t *out_len)
{
	bool is_private = false, ok = false;
	EVP_PKEY *pkey;
	BIO *bio;
	int rc;

	pkey = pkey_from_blob(blob, len, &is_private);
	if (pkey == NULL)
		return false;
	/* A secure-heap-free memory BIO is fine here: the PKCS#8 bytes go to
	 * the caller, who wipes them. */
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		goto out;
	if (is_private)
		rc = format == PEM_FORMAT_PEM
			? PEM_write_bio_PKCS8PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
			: i2d_PKCS8PrivateKey_bio(bio, pkey, NULL, NULL, 0, NULL, NULL);
	else
		rc = format == PEM_FORMAT_PEM ? PEM_write_bio_PUBKEY(bio, pkey)
					      : i2d_PUBKEY_bio(bio, pkey);
	ok = rc > 0 && bio_take(bio, out, out_len);
out:
	if (!ok)
		tool_error("OpenSSL cannot encode the key");
	BIO_free_all(bio);
	EVP_PKEY_free(pkey);
	return ok;
}

/* Tries every encoding an operator may hand over: PEM private key, PEM
 * public key (SPKI or PKCS#1), PEM certificate, then the DER forms. */
static EVP_PKEY *pkey_read_any(const unsigned char *data, size_t len, bool *is_private)
{
	const unsigned char *p;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	BIO *bio;

	*is_private = false;
	if (len > LONG_MAX)
		return NULL;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL)
		return NULL;
	if ((pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) != NULL) {
		*is_private = true;
		goto out;
	}
	(void)BIO_reset(bio);
	if ((pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) != NULL)
		goto out;
	(void)BIO_reset(bio);
	if ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		pkey = X509_get_pubkey(cert);
		goto out;
	}
	p = data;
	if ((pkey = d2i_AutoPrivateKey(NULL, &p, (long)len)) != NULL) {
		*is_private = true;
		goto out;
	}
	p = data;
	if ((pkey = d2i_PUBKEY(NULL, &p, (long)len)) != NULL)
		goto out;
	p = data;
	if ((pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len)) != NULL)
		goto out;
	p = data;
	if ((cert = d2i_X509(NULL, &p, (long)len)) != NULL)
		pkey = X509_get_pubkey(cert);
out:
	X509_free(cert);
	BIO_free(bio);
	return pkey;
}

bool pem_is_dsa(const unsigned char *data, size_t len)
{
	bool is_private;
	EVP_PKEY *pkey = pkey_read_any(data, len, &is_private);
	bool dsa = pkey != NULL && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_DSA;

	EVP_PKEY_free(pkey);
	return dsa;
}

/* Writes the numbers into the blob little-endian, each zero-padded to
 * width; false when one does not fit. */
static bool put_bn(EVP_PKEY *pkey, const char *name, BYTE *dst, size_t width)
{
	BIGNUM *bn = NULL;
	bool ok;

	if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
		return false;
	ok = BN_bn2lebinpad(bn, dst, (int)width) == (int)width;
	BN_clear_free(bn);
	return ok;
}

/* A DSA key as a DSS blob: a public key as version 2 "DSS1" (the form
 * every DSS provider reads), a private key as version 3 "DSS4", which
 * carries y for the import to check against x. No seed (counter
 * 0xFFFFFFFF, the DSSSEED page's "not available"), no j (bitlenJ 0). */
static bool dss_blob_from_pkey(EVP_PKEY *pkey, bool is_private, BYTE **blob, DWORD *blob_len)
{
	BIGNUM *q = NULL, *p = NULL;
	size_t P, total, pos;
	BYTE *b = NULL;
	bool ok = false;
	int bits;

	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_FFC_P, &p) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_FFC_Q, &q)) {
		tool_error("the DSA key lacks its domain parameters");
		goto out;
	}
	bits = BN_num_bits(p);
	if (bits < DSS_MIN_BITS || bits > DSS_MAX_BITS || bits % 64 != 0 ||
	    BN_num_bits(q) != 8 * DSS_Q_LEN) {
		tool_error("a DSA key of a %d-bit p and a %d-bit q has no DSS blob: Microsoft's DSS "
			   "providers take p of 512 to 1024 bits in steps of 64 and a 160-bit q",
			   bits, BN_num_bits(q));
		goto out;
	}
	P = (size_t)bits / 8;
	total = is_private ? BLOB_V3_HEAD(true) + 3 * P + DSS_Q_LEN + DSS_Q_LEN
			   : DSS_V2_HEADER_LEN + 3 * P + DSS_Q_LEN + DSS_SEED_LEN;
	b = calloc(1, total);
	if (b == NULL)
		goto out;
	b[0] = is_private ? PRIVATEKEYBLOB : PUBLICKEYBLOB;
	b[1] = is_private ? 3 : CUR_BLOB_VERSION;
	le32_put(b + 4, CALG_DSS_SIGN);
	le32_put(b + 8, is_private ? CAPI11_DSS4_MAGIC : CAPI11_DSS1_MAGIC);
	le32_put(b + 12, (DWORD)bits);
	if (is_private) {
		le32_put(b + 16, 8 * DSS_Q_LEN);
		le32_put(b + 20, 0);
		le32_put(b + 24, 8 * DSS_Q_LEN);
		le32_put(b + 28, DSS_NO_SEED);
		pos = BLOB_V3_HEAD(true);
	} else {
		pos = DSS_V2_HEADER_LEN;
	}
	if (!put_bn(pkey, OSSL_PKEY_PARAM_FFC_P, b + pos, P) ||
	    !put_bn(pkey, OSSL_PKEY_PARAM_FFC_Q, b + pos + P, DSS_Q_LEN) ||
	    !put_bn(pkey, OSSL_PKEY_PARAM_FFC_G, b + pos + P + DSS_Q_LEN, P) ||
	    !put_bn(pkey, OSSL_PKEY_PARAM_PUB_KEY, b + pos + 2 * P + DSS_Q_LEN, P) ||
	    (is_private &&
	     !put_bn(pkey, OSSL_PKEY_PARAM_PRIV_KEY, b + pos + 3 * P + DSS_Q_LEN, DSS_Q_LEN))) {
		tool_error("the DSA key's numbers do not fit a DSS blob");
		goto out;
	}
	if (!is_private)
		le32_put(b + total - DSS_SEED_LEN, DSS_NO_SEED);
	*blob = b;
	*blob_len = (DWORD)total;
	b = NULL;
	ok = true;
out:
	if (b != NULL)
		tool_free_secret(b, total);
	BN_free(p);
	BN_free(q);
	return ok;
}

bool pem_to_blob(const unsigned char *data, size_t len, ALG_ID alg, bool want_public,
		 BYTE **blob, DWORD *blob_len)
{
	bool is_private = false, ok = false;
	BIGNUM *e = NULL;
	EVP_PKEY *pkey;
	size_t k, h, total = 0, off;
	BYTE *b = NULL;

	pkey = pkey_read_any(data, len, &is_private);
	if (pkey == NULL) {
		tool_error("not a key blob, nor a PEM or DER key or certificate");
		return false;
	}
	if (want_public)
		is_private = false;
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_DSA) {
		ok = dss_blob_from_pkey(pkey, is_private, blob, blob_len);
		goto out;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		tool_error("only RSA and DSA keys can be converted to CryptoAPI blobs");
		goto out;
	}
	k = (size_t)(EVP_PKEY_get_bits(pkey) + 7) / 8;
	h = (k + 1) / 2;
	if (k == 0 || k > RSA_MAX_BYTES || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) ||
	    BN_num_bytes(e) > 4) {
		tool_error("RSA key of %zu bytes or public exponent beyond 32 bits: no blob form", k);
		goto out;
	}
	total = RSA_HEADER_LEN + k + (is_private ? 5 * h + k : 0);
	b = calloc(1, total);
	if (b == NULL)
		goto out;
	b[0] = is_private ? PRIVATEKEYBLOB : PUBLICKEYBLOB;
	b[1] = CUR_BLOB_VERSION;
	le32_put(b + 4, alg);
	le32_put(b + 8, is_private ? CAPI11_RSA2_MAGIC : CAPI11_RSA1_MAGIC);
	le32_put(b + 12, (DWORD)(8 * k));
	le32_put(b + 16, (DWORD)BN_get_word(e));
	if (!put_bn(pkey, OSSL_PKEY_PARAM_RSA_N, b + RSA_HEADER_LEN, k))
		goto out;
	if (is_private) {
		off = RSA_HEADER_LEN + k;
		for (int i = 0; i < 5; i++, off += h)
			if (!put_bn(pkey, crt_names[i], b + off, h)) {
				tool_error("the private key lacks its CRT numbers");
				goto out;
			}
		if (!put_bn(pkey, OSSL_PKEY_PARAM_RSA_D, b + off, k))
			goto out;
	}
	*blob = b;
	*blob_len = (DWORD)total;
	b = NULL;
	ok = true;
out:
	if (b != NULL)
		tool_free_secret(b, total);
	BN_free(e);
	EVP_PKEY_free(pkey);
	return ok;
}

bool pem_dss_sig_to_der(const BYTE *sig, size_t len, unsigned char **der, size_t *der_len)
{
	BIGNUM *r = NULL, *s = NULL;
	DSA_SIG *ds = NULL;
	unsigned char *p = NULL;
	int n;

	if (len != PEM_DSS_SIG_LEN) {
		tool_error("a DSS signature has %d bytes, not %zu", PEM_DSS_SIG_LEN, len);
		return false;
	}
	r = BN_lebin2bn(sig, PEM_DSS_SIG_LEN / 2, NULL);
	s = BN_lebin2bn(sig + PEM_DSS_SIG_LEN / 2, PEM_DSS_SIG_LEN / 2, NULL);
	ds = DSA_SIG_new();
	if (r == NULL || s == NULL || ds == NULL || !DSA_SIG_set0(ds, r, s)) {
		BN_free(r);
		BN_free(s);
		goto out;
	}
	n = i2d_DSA_SIG(ds, &p);
	if (n <= 0)
		goto out;
	*der = malloc((size_t)n);
	if (*der == NULL)
		goto out;
	memcpy(*der, p, (size_t)n);
	*der_len = (size_t)n;
	OPENSSL_free(p);
	DSA_SIG_free(ds);
	return true;
out:
	tool_error("OpenSSL cannot encode the DSS signature");
	OPENSSL_free(p);
	DSA_SIG_free(ds);
	return false;
}

bool pem_dss_sig_from_der(const unsigned char *der, size_t len, BYTE sig[PEM_DSS_SIG_LEN])
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	DSA_SIG *ds = NULL;
	bool ok;

	if (len <= LONG_MAX)
		ds = d2i_DSA_SIG(NULL, &p, (long)len);
	/* Nothing may follow the SEQUENCE. */
	if (ds == NULL || p != der + len) {
		DSA_SIG_free(ds);
		tool_error("not a DER DSA signature (a SEQUENCE of two INTEGERs)");
		return false;
	}
	DSA_SIG_get0(ds, &r, &s);
	ok = BN_bn2lebinpad(r, sig, PEM_DSS_SIG_LEN / 2) == PEM_DSS_SIG_LEN / 2 &&
	     BN_bn2lebinpad(s, sig + PEM_DSS_SIG_LEN / 2, PEM_DSS_SIG_LEN / 2) ==
	     PEM_DSS_SIG_LEN / 2;
	DSA_SIG_free(ds);
	if (!ok)
		tool_error("the DSA signature's numbers are longer than 160 bits: not a DSS "
			   "signature");
	return ok;
}
