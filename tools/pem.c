/* RSA key conversions between CryptoAPI blobs and PEM/DER, on libcrypto. */
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
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define RSA_HEADER_LEN 20   /* BLOBHEADER + RSAPUBKEY */
#define RSA_MAX_BYTES 2048  /* 16384 bits, Windows' limit */

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
static EVP_PKEY *pkey_from_blob(const BYTE *blob, size_t len, bool *is_private)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn[8] = { NULL };
	size_t k, h, off;
	DWORD magic, bitlen;

	if (len < RSA_HEADER_LEN || (blob[0] != PUBLICKEYBLOB && blob[0] != PRIVATEKEYBLOB)) {
		tool_error("only RSA PUBLICKEYBLOB and PRIVATEKEYBLOB have a PEM/DER form");
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
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		tool_error("only RSA keys can be converted to CryptoAPI blobs");
		goto out;
	}
	if (want_public)
		is_private = false;
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
