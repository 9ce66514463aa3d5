/* CryptImportKey: blobs become objects on the token. The blob is parsed by
 * blob.c before the token sees anything; every buffer that held key bytes
 * in the token's byte order is wiped; a failed import destroys whatever it
 * created. */
#include "config.h"
#include "import.h"
#include "alg.h"
#include "blob.h"
#include "container.h"
#include "errors.h"
#include "export.h"
#include "util.h"

#include <string.h>


/* Whether the exportable flag leaves the value readable: the policy may
 * keep exportable keys sensitive, as CryptGenKey does. */
/* A modulus the token cannot use is bad data, as a bitlen outside
 * Microsoft's range is. A token that does not say lets C_CreateObject
 * decide. */
static DWORD import_check_rsa_bits(struct context *ctx, DWORD bits)
{
	CK_MECHANISM_INFO info;

	if (token_mechanism_info(ctx->tok, CKM_RSA_PKCS, &info) != CKR_OK)
		return ERROR_SUCCESS;
	/* Most tokens give the range in bits; some in bytes. */
	if (info.ulMaxKeySize != 0 && info.ulMaxKeySize < 64) {
		info.ulMinKeySize *= 8;
		info.ulMaxKeySize *= 8;
	}
	if (bits < info.ulMinKeySize || (info.ulMaxKeySize != 0 && bits > info.ulMaxKeySize))
		return NTE_BAD_DATA;
	return ERROR_SUCCESS;
}

/* The numbers of an RSA blob in PKCS#11's big-endian form, each at its
 * blob width, in one buffer wiped on release. */
struct rsa_be {
	BYTE *buf;
	size_t buf_len;
	BYTE *modulus, *prime1, *prime2, *exponent1, *exponent2, *coefficient, *private_exponent;
	size_t k, h;
	BYTE pubexp[4];
	size_t pubexp_len;
};

static void rsa_be_clear(struct rsa_be *be)
{
	capi11_free_secret(be->buf, be->buf_len);
	memset(be, 0, sizeof *be);
}

static bool rsa_be_put(const struct blob_bytes *le, BYTE *out, size_t width)
{
	return bn_le_to_be(le->data, le->len, out, width);
}

/* Converts a parsed blob. A truncated privateExponent is zero-extended to
 * k bytes, as Windows accepts it (SoftHSM needs the attribute, and signs
 * and decrypts with the CRT values). */
static DWORD rsa_be_from_blob(const struct blob_rsa *rsa, bool private, struct rsa_be *be)
{
	size_t k = rsa->modulus.len, h = (k + 1) / 2;
	bool ok;

	memset(be, 0, sizeof *be);
	be->k = k;
	be->h = h;
	be->pubexp_len = bn_dword_to_be(rsa->pubexp, be->pubexp);
	/* k + 5h + k: the parser has bounded k by ALG_RSA_MAX_BITS. */
	be->buf_len = private ? 2 * k + 5 * h : k;
	be->buf = capi11_malloc(be->buf_len);
	if (be->buf == NULL)
		return NTE_NO_MEMORY;
	be->modulus = be->buf;
	ok = rsa_be_put(&rsa->modulus, be->modulus, k);
	if (private) {
		be->prime1 = be->modulus + k;
		be->prime2 = be->prime1 + h;
		be->exponent1 = be->prime2 + h;
		be->exponent2 = be->exponent1 + h;
		be->coefficient = be->exponent2 + h;
		be->private_exponent = be->coefficient + h;
		ok = ok && rsa_be_put(&rsa->prime1, be->prime1, h) &&
		     rsa_be_put(&rsa->prime2, be->prime2, h) &&
		     rsa_be_put(&rsa->exponent1, be->exponent1, h) &&
		     rsa_be_put(&rsa->exponent2, be->exponent2, h) &&
		     rsa_be_put(&rsa->coefficient, be->coefficient, h) &&
		     rsa_be_put(&rsa->private_exponent, be->private_exponent, k);
	}
	if (!ok) {
		rsa_be_clear(be);
		return NTE_BAD_DATA;
	}
	return ERROR_SUCCESS;
}

/* PUBLICKEYBLOB: a session public-key object that can encrypt and wrap;
 * it belongs to no container and never replaces the container's keys. */
static DWORD import_rsa_public_locked(struct context *ctx, const BYTE *data, size_t len,
				      struct key **out)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE type = CKK_RSA;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct blob_rsa rsa;
	struct rsa_be be;
	DWORD err;
	CK_RV rv;

	err = blob_parse_rsa_public(data, len, &rsa);
	if (err == ERROR_SUCCESS)
		err = import_check_rsa_bits(ctx, rsa.bitlen);
	if (err == ERROR_SUCCESS)
		err = rsa_be_from_blob(&rsa, false, &be);
	if (err != ERROR_SUCCESS)
		return err;
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_KEY_TYPE, &type, sizeof type },
			{ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_PRIVATE, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_MODULUS, be.modulus, be.k },
			{ CKA_PUBLIC_EXPONENT, be.pubexp, be.pubexp_len },
			{ CKA_ENCRYPT, token_bool(true), sizeof(CK_BBOOL) },
			{ CKA_WRAP, token_bool(true), sizeof(CK_BBOOL) },
			{ CKA_VERIFY, token_bool(true), sizeof(CK_BBOOL) },
		};

		rv = token_create(ctx->tok, ctx->session, tmpl, CAPI11_N_ELEMENTS(tmpl), &h);
	}
	rsa_be_clear(&be);
	context_note_rv_locked(ctx, rv);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_IMPORT);
	err = key_adopt_locked(ctx, CK_INVALID_HANDLE, h, CKK_RSA, rsa.alg, 0, false, true, out);
	if (err != ERROR_SUCCESS) {
		token_destroy(ctx->tok, ctx->session, h);
		return err;
	}
	/* A public key alone is no container key. */
	(*out)->spec = 0;
	return ERROR_SUCCESS;
}

/* PRIVATEKEYBLOB in plaintext: a private and a public key object in the
 * container's slot that aiKeyAlg names, usages set as CryptGenKey sets
 * them so that the exchange/signature rule (SPEC section 3) classifies the
 * pair; token objects, or session objects in a verify context. */
static DWORD import_rsa_private_locked(struct context *ctx, const BYTE *data, size_t len,
				       DWORD flags, struct key **out)
{
	CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
	struct key_pair_plan plan;
	struct blob_rsa rsa;
	struct rsa_be be = { 0 };
	DWORD err;
	CK_RV rv;

	err = blob_parse_rsa_private(data, len, &rsa);
	if (err == ERROR_SUCCESS)
		err = import_check_rsa_bits(ctx, rsa.bitlen);
	if (err == ERROR_SUCCESS)
		err = key_pair_begin_locked(ctx, rsa.alg == CALG_RSA_KEYX ? AT_KEYEXCHANGE : AT_SIGNATURE,
					    (flags & CRYPT_EXPORTABLE) != 0, &plan);
	if (err == ERROR_SUCCESS)
		err = rsa_be_from_blob(&rsa, true, &be);
	if (err != ERROR_SUCCESS)
		return err;

	{
		CK_ATTRIBUTE material[] = {
			{ CKA_MODULUS, be.modulus, be.k },
			{ CKA_PUBLIC_EXPONENT, be.pubexp, be.pubexp_len },
			{ CKA_PRIVATE_EXPONENT, be.private_exponent, be.k },
			{ CKA_PRIME_1, be.prime1, be.h },
			{ CKA_PRIME_2, be.prime2, be.h },
			{ CKA_EXPONENT_1, be.exponent1, be.h },
			{ CKA_EXPONENT_2, be.exponent2, be.h },
			{ CKA_COEFFICIENT, be.coefficient, be.h },
		};
		size_t i;

		for (i = 0; i < CAPI11_N_ELEMENTS(material); i++)
			plan.priv[plan.n_priv++] = material[i];
		/* The public half: modulus and public exponent. */
		plan.pub[plan.n_pub++] = material[0];
		plan.pub[plan.n_pub++] = material[1];
		rv = token_create(ctx->tok, ctx->session, plan.priv, plan.n_priv, &priv);
		if (rv == CKR_OK)
			rv = token_create(ctx->tok, ctx->session, plan.pub, plan.n_pub, &pub);
	}
	rsa_be_clear(&be);
	context_note_rv_locked(ctx, rv);
	err = rv == CKR_OK ? key_pair_finish_locked(ctx, &plan, priv, pub, out)
			   : error_from_ckr(rv, ERROR_OP_IMPORT);
	if (err != ERROR_SUCCESS) {
		/* A failed import leaves no object on the token. */
		if (priv != CK_INVALID_HANDLE)
			token_destroy(ctx->tok, ctx->session, priv);
		if (pub != CK_INVALID_HANDLE)
			token_destroy(ctx->tok, ctx->session, pub);
	}
	return err;
}

/* The mechanism that makes keys of alg: what the token cannot make, capi11
 * does not import either, as CryptGenKey does not offer it. */
static CK_MECHANISM_TYPE import_keygen_mech(CK_KEY_TYPE type)
{
	switch (type) {
	case CKK_AES:
		return CKM_AES_KEY_GEN;
	case CKK_DES:
		return CKM_DES_KEY_GEN;
	case CKK_DES2:
		return CKM_DES2_KEY_GEN;
	case CKK_DES3:
		return CKM_DES3_KEY_GEN;
	case CKK_RC2:
		return CKM_RC2_KEY_GEN;
	default:
		return CKM_RC4_KEY_GEN;
	}
}

/* PLAINTEXTKEYBLOB: a secret-key session object. */
static DWORD import_plaintext_locked(struct context *ctx, const BYTE *data, size_t len,
				     DWORD flags, struct key **out)
{
	bool exportable = (flags & CRYPT_EXPORTABLE) != 0;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_MECHANISM_INFO info;
	CK_KEY_TYPE type;
	struct blob_plaintext plain;
	DWORD err;
	CK_RV rv;

	/* HMAC keys of any length (CRYPT_IPSEC_HMAC_KEY) are not served yet. */
	if (flags & CRYPT_IPSEC_HMAC_KEY)
		return NTE_NOT_SUPPORTED;
	err = blob_parse_plaintext(data, len, &plain);
	if (err != ERROR_SUCCESS)
		return err;
	if (!alg_key_type(plain.alg, &type))
		return NTE_BAD_ALGID;
	if (token_mechanism_info(ctx->tok, import_keygen_mech(type), &info) != CKR_OK)
		return NTE_BAD_ALGID;
	{
		CK_ATTRIBUTE tmpl[KEY_SECRET_ATTRS + 1];

		/* Never CKA_VALUE_LEN: SoftHSM refuses it with
		 * CKR_ATTRIBUTE_READ_ONLY in C_CreateObject. */
		key_secret_template_locked(ctx, &type, exportable, tmpl);
		tmpl[KEY_SECRET_ATTRS] = (CK_ATTRIBUTE){ CKA_VALUE, (void *)plain.key.data,
							 plain.key.len };
		rv = token_create(ctx->tok, ctx->session, tmpl, KEY_SECRET_ATTRS + 1, &h);
	}
	context_note_rv_locked(ctx, rv);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_IMPORT);
	err = key_adopt_locked(ctx, h, CK_INVALID_HANDLE, type, plain.alg,
			       (DWORD)plain.key.len * 8, exportable, true, out);
	if (err != ERROR_SUCCESS)
		token_destroy(ctx->tok, ctx->session, h);
	return err;
}

/* SIMPLEBLOB: the token unwraps the key with the private half of hPubKey,
 * which must be the container's RSA exchange key. Every failure of the
 * unwrap itself is NTE_BAD_DATA (errors.c): the answer says nothing about
 * where the padding broke. */
static DWORD import_simple_locked(struct context *ctx, const BYTE *data, size_t len,
				  struct key *pub, DWORD flags, struct key **out)
{
	bool exportable = (flags & CRYPT_EXPORTABLE) != 0;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ATTRIBUTE value = { CKA_VALUE, NULL, 0 };
	CK_MECHANISM mech;
	CK_KEY_TYPE type;
	struct blob_simple simple;
	size_t key_len = 0, alg_len;
	BYTE *ct = NULL;
	DWORD err;
	CK_RV rv;

	/* Checked before the blob's length, as Windows does. */
	if (pub == NULL || pub->obj->type != CKK_RSA || pub->spec != AT_KEYEXCHANGE ||
	    pub->obj->priv == CK_INVALID_HANDLE || pub->ctx->tok != ctx->tok || pub->bits == 0)
		return NTE_BAD_PUBLIC_KEY;
	err = blob_parse_simple(data, len, pub->bits / 8, &simple);
	if (err != ERROR_SUCCESS)
		return err;
	if (!alg_key_type(simple.alg, &type))
		return NTE_BAD_ALGID;
	ct = capi11_malloc(simple.ciphertext.len);
	if (ct == NULL)
		return NTE_NO_MEMORY;
	bn_reverse_copy(ct, simple.ciphertext.data, simple.ciphertext.len);
	export_simple_mechanism((flags & CRYPT_OAEP) != 0, &mech);
	{
		CK_ATTRIBUTE tmpl[KEY_SECRET_ATTRS];

		/* Never CKA_VALUE_LEN: SoftHSM refuses it in C_UnwrapKey. */
		key_secret_template_locked(ctx, &type, exportable, tmpl);
		rv = token_unwrap_key(ctx->tok, ctx->session, &mech, pub->obj->priv, ct,
				      simple.ciphertext.len, tmpl, KEY_SECRET_ATTRS, &h);
	}
	capi11_free(ct);
	context_note_rv_locked(ctx, rv);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_UNWRAP);
	/* The length the key really has, where the token tells it (not for a
	 * sensitive key): a key shorter or longer than aiKeyAlg says is bad
	 * data, as SoftHSM checks no secret key length. */
	rv = token_get_attributes(ctx->tok, ctx->session, h, &value, 1);
	context_note_rv_locked(ctx, rv);
	if (rv == CKR_OK && value.ulValueLen != CK_UNAVAILABLE_INFORMATION)
		key_len = value.ulValueLen;
	if (alg_symmetric_key_len(simple.alg, &alg_len)) {
		if (key_len != 0 && key_len != alg_len) {
			err = NTE_BAD_DATA;
			goto fail;
		}
		key_len = alg_len;
	}
	if (key_len == 0) {
		err = NTE_BAD_DATA;
		goto fail;
	}
	err = key_adopt_locked(ctx, h, CK_INVALID_HANDLE, type, simple.alg, (DWORD)key_len * 8,
			       exportable, true, out);
	if (err == ERROR_SUCCESS)
		return ERROR_SUCCESS;
fail:
	token_destroy(ctx->tok, ctx->session, h);
	return err;
}

DWORD import_key_locked(struct context *ctx, const BYTE *data, size_t len, struct key *pub,
			DWORD flags, struct key **out)
{
	BLOBHEADER hdr;
	DWORD err;

	err = blob_parse_header(data, len, &hdr);
	if (err != ERROR_SUCCESS)
		return err;
	if ((flags & CRYPT_IPSEC_HMAC_KEY) && hdr.bType != PLAINTEXTKEYBLOB)
		return NTE_BAD_FLAGS;

	switch (hdr.bType) {
	case PUBLICKEYBLOB:
		/* A public key needs no key to import it: hPubKey is ignored. */
		return import_rsa_public_locked(ctx, data, len, out);
	case PRIVATEKEYBLOB:
		/* A PRIVATEKEYBLOB encrypted under a session key is not served yet. */
		if (pub != NULL)
			return NTE_NOT_SUPPORTED;
		return import_rsa_private_locked(ctx, data, len, flags, out);
	case PLAINTEXTKEYBLOB:
		return import_plaintext_locked(ctx, data, len, flags, out);
	case SIMPLEBLOB:
		return import_simple_locked(ctx, data, len, pub, flags, out);
	case OPAQUEKEYBLOB:
	case SYMMETRICWRAPKEYBLOB:
		return NTE_NOT_SUPPORTED;
	default:
		return NTE_BAD_TYPE;
	}
}
