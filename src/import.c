/* CryptImportKey: blobs become objects on the token. The blob is parsed by
 * blob.c before the token sees anything; every buffer that held key bytes
 * in the token's byte order is wiped; a failed import destroys whatever it
 * created. */
#include "config.h"
#include "import.h"
#include "agree.h"
#include "dh.h"
#include "dss.h"
#include "prov-type.h"
#include "key-card.h"
#include "route.h"
#include "alg.h"
#include "blob.h"
#include "cipher.h"
#include "container.h"
#include "des3-wrap.h"
#include "errors.h"
#include "hmac-key.h"
#include "rsa-mech.h"
#include "trace.h"
#include "trust.h"
#include "util.h"

#include <string.h>

/* A modulus the token cannot use is bad data, as a bitlen outside
 * Microsoft's range is. A token that does not say lets C_CreateObject
 * decide. */
static DWORD import_check_rsa_bits(struct context *ctx, DWORD bits)
{
	CK_ULONG min, max;

	if (token_rsa_bits_range(ctx->ts.tok, CKM_RSA_PKCS, &min, &max) != CKR_OK)
		return ERROR_SUCCESS;
	if (bits < min || (max != 0 && bits > max))
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
 * it belongs to no container and never replaces the container's keys. A
 * key equal to a trusted public key on the token is that object instead
 * (trust.c), not destroyed with the handle. */
static DWORD import_rsa_public_locked(struct context *ctx, const BYTE *data, size_t len,
				      struct key **out)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE type = CKK_RSA;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct tsession *ts = &ctx->ts;
	enum error_op op;
	bool trusted = false;
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

		/* The same key made trusted by the security officer is used as
		 * it is, so that keys the token guards may be wrapped to it. */
		rv = trust_find_public(ctx, be.modulus, be.k, be.pubexp, be.pubexp_len, &h);
		trusted = rv == CKR_OK && h != CK_INVALID_HANDLE;
		op = ERROR_OP_GENERIC;
		if (rv == CKR_OK && !trusted) {
			/* A token that refuses public key objects (a card:
			 * CKR_ARGUMENTS_BAD, CKR_FUNCTION_NOT_SUPPORTED) has the
			 * key made on the companion, where it can encrypt and wrap. */
			if (token_cap(ctx->ts.tok, TOKEN_CAP_CREATE_PUBLIC_KEY) != TOKEN_CAP_NO ||
			    !context_has_companion_locked(ctx)) {
				rv = token_create(ts, tmpl, CAPI11_N_ELEMENTS(tmpl), &h);
				/* Numbers the token judges (a modulus it will
				 * not take) say nothing of the next key's. */
				if (rv != CKR_ATTRIBUTE_VALUE_INVALID)
					token_cap_learn(ctx->ts.tok, TOKEN_CAP_CREATE_PUBLIC_KEY,
							rv);
			} else {
				rv = CKR_FUNCTION_NOT_SUPPORTED;
			}
			if (token_rv_is_refusal(rv) && context_has_companion_locked(ctx)) {
				err = context_companion_locked(ctx, &ts);
				if (err != ERROR_SUCCESS) {
					rsa_be_clear(&be);
					return err;
				}
				trace_route("route: PUBLICKEYBLOB on the companion token %s",
					      token_label(ts->tok));
				rv = token_create(ts, tmpl, CAPI11_N_ELEMENTS(tmpl), &h);
			}
			op = ERROR_OP_IMPORT;
		}
	}
	rsa_be_clear(&be);
	/* A card that holds no public key of a partner (OpenSC:
	 * CKR_ARGUMENTS_BAD): the companion token's (route.h). */
	if (op == ERROR_OP_IMPORT && token_rv_is_refusal(rv))
		return route_needs_companion(ROUTE_PUBLIC_KEY, rv);
	if (rv != CKR_OK)
		return error_from_ckr(rv, op);
	err = key_adopt_on_locked(ctx, ts, CK_INVALID_HANDLE, h, CKK_RSA, rsa.alg, 0, false, !trusted,
				  out);
	if (err != ERROR_SUCCESS) {
		if (!trusted)
			token_destroy(ts, h);
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
		err = key_pair_create_private_locked(ctx, &plan, flags, &priv, &rv);
		if (rv == CKR_OK) {
			rv = token_create(&ctx->ts, plan.pub, plan.n_pub, &pub);
			token_cap_learn(ctx->ts.tok, TOKEN_CAP_CREATE_PUBLIC_KEY, rv);
		}
	}
	rsa_be_clear(&be);
	return key_pair_store_locked(ctx, &plan, rv, err, ERROR_OP_IMPORT, priv, pub, out);
}

/* PRIVATEKEYBLOB encrypted under a session key (hPubKey), as
 * CryptExportKey writes it: everything after the BLOBHEADER is decrypted
 * on the token, as CryptDecrypt(hPubKey, 0, TRUE, ...) would, into a copy
 * wiped on return, then imported as the plaintext blob is. hPubKey must
 * belong to this context, whose lock the cipher needs. Every failure of
 * the decryption itself is NTE_BAD_DATA (SPEC section 5), and nothing has
 * reached the token then. */
static ALG_ID blob_alg(const BYTE *blob)
{
	return (ALG_ID)blob[4] | (ALG_ID)blob[5] << 8 | (ALG_ID)blob[6] << 16 |
	       (ALG_ID)blob[7] << 24;
}

static DWORD import_rsa_private_encrypted_locked(struct context *ctx, const BYTE *data,
						 size_t len, struct key *pub, DWORD flags,
						 struct key **out)
{
	DWORD body_len, err;
	BYTE *buf;

	if (keyobj_is_pair(pub->obj) || pub->obj->wrap_only || pub->ctx != ctx)
		return NTE_BAD_KEY;
	if (len <= sizeof(BLOBHEADER) || len > 0xffffffffu)
		return NTE_BAD_DATA;
	buf = capi11_malloc(len);
	if (buf == NULL)
		return NTE_NO_MEMORY;
	memcpy(buf, data, len);
	body_len = (DWORD)(len - sizeof(BLOBHEADER));
	err = error_for_op(cipher_decrypt_locked(pub, true, buf + sizeof(BLOBHEADER), &body_len),
			   ERROR_OP_BLOB_DECRYPT);
	/* The header stayed in the clear: it names the key's algorithm. */
	if (err == ERROR_SUCCESS && blob_alg(buf) == CALG_DSS_SIGN)
		err = dss_import_private_locked(ctx, buf, sizeof(BLOBHEADER) + (size_t)body_len,
						flags, out);
	else if (err == ERROR_SUCCESS &&
		 (blob_alg(buf) == CALG_DH_SF || blob_alg(buf) == CALG_DH_EPHEM))
		err = dh_import_private_locked(ctx, buf, sizeof(BLOBHEADER) + (size_t)body_len,
					       flags, out);
	else if (err == ERROR_SUCCESS)
		err = import_rsa_private_locked(ctx, buf, sizeof(BLOBHEADER) + (size_t)body_len,
						flags, out);
	capi11_free_secret(buf, len);
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

/* ---- Keys wrapped under a session key ------------------------------------ */

/* The algorithm of a secret key to import: one the token can make, as
 * CryptGenKey offers only those, and CRYPT_KEK only for AES. */
static DWORD import_check_secret_alg_on(struct token *tok, ALG_ID alg, DWORD flags,
					CK_KEY_TYPE *type)
{
	CK_MECHANISM_INFO info;

	if (!alg_key_type(alg, type) || *type == CKK_RSA)
		return NTE_BAD_ALGID;
	/* A token without CKK_DES2 holds a 3DES_112 key as K1|K2|K1, which
	 * only a plaintext import can build (import_plaintext_locked): an
	 * unwrapped 16-byte value cannot be stretched on the token. */
	if (*type == CKK_DES2 && !token_has_des2(tok))
		return NTE_BAD_ALGID;
	if (token_mechanism_info(tok, import_keygen_mech(*type), &info) != CKR_OK)
		return NTE_BAD_ALGID;
	return key_kek_flag_check(alg, flags);
}

static DWORD import_check_secret_alg(struct context *ctx, ALG_ID alg, DWORD flags,
				     CK_KEY_TYPE *type)
{
	return import_check_secret_alg_on(ctx->ts.tok, alg, flags, type);
}

/* Gives a key to the secret key object h that the token has just unwrapped
 * or made. key_len is the length aiKeyAlg and the blob give (tokens report
 * none for an unwrapped key); when the token does tell the value's length
 * it must match, as SoftHSM checks no secret key length: padded allows the
 * zero padding CKM_AES_KEY_WRAP_PAD leaves on SoftHSM. wrapped: h arrived
 * wrapped and was made sensitive (key_template_protect_locked), and
 * KP_PERMISSIONS follows the rule for sensitive keys found on the token.
 * On failure h is destroyed: a failed import leaves nothing behind. */
static DWORD import_secret_finish_locked(struct context *ctx, struct tsession *ts,
					 CK_OBJECT_HANDLE h, CK_KEY_TYPE type, ALG_ID alg,
					 size_t key_len, bool padded, bool wrapped, DWORD flags,
					 struct key **out)
{
	CK_ATTRIBUTE value = { CKA_VALUE, NULL, 0 };
	bool extractable = (flags & CRYPT_EXPORTABLE) != 0;
	bool sensitive = wrapped || key_new_is_sensitive(ctx, extractable);
	/* A 3DES_112 key held as K1|K2|K1 (token_has_des2). */
	bool held_as_des3 = alg == CALG_3DES_112 && type == CKK_DES3;
	DWORD err = ERROR_SUCCESS;
	CK_RV rv;

	rv = token_get_attributes(ts, h, &value, 1);
	/* A hidden value comes back as CKR_OK without a length; a failure is
	 * the token's (a lost session takes the new key along with it). */
	if (rv != CKR_OK)
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
	else if (value.ulValueLen != CK_UNAVAILABLE_INFORMATION &&
		 value.ulValueLen != (held_as_des3 ? DES3_KEY_LEN : key_len) && !(padded && value.ulValueLen == (key_len + 7) / 8 * 8))
		err = NTE_BAD_DATA;
	if (err == ERROR_SUCCESS)
		err = key_adopt_on_locked(ctx, ts, h, CK_INVALID_HANDLE, type, alg,
					  (DWORD)key_len * 8,
					  key_exportable_from_attrs(ctx, extractable, sensitive), true,
					  out);
	if (err != ERROR_SUCCESS) {
		token_destroy(ts, h);
		return err;
	}
	if (flags & CRYPT_KEK)
		key_mark_wrap_only(*out);
	return ERROR_SUCCESS;
}

/* C_UnwrapKey of a secret key under hPubKey, a key-encryption key, with
 * the session secret key template (wrap-only with CRYPT_KEK), always
 * sensitive (key_template_protect_locked). Any failure of the unwrap
 * itself is NTE_BAD_DATA (errors.c). */
static DWORD import_unwrap_secret_locked(struct context *ctx, struct tsession *ts, struct key *pub,
					 CK_MECHANISM_TYPE mech_type, const struct blob_bytes *wrapped,
					 const CK_KEY_TYPE *type, DWORD flags, CK_OBJECT_HANDLE *h)
{
	CK_ATTRIBUTE tmpl[KEY_SECRET_ATTRS + KEY_KEK_ATTRS + KEY_PROTECT_ATTRS];
	CK_MECHANISM mech = { mech_type, NULL, 0 };
	CK_ULONG n;
	DWORD err;
	CK_RV rv;

	err = token_check_mechanism(ts->tok, mech_type, CKF_UNWRAP);
	if (err != ERROR_SUCCESS)
		return err;
	/* No CKA_VALUE_LEN: the key type does not tell the length, and
	 * SoftHSM would refuse it (QUIRK_NO_UNWRAP_VALUE_LEN). */
	key_secret_template_locked(ctx, ts, type, (flags & CRYPT_EXPORTABLE) != 0, tmpl);
	n = key_secret_template_kek(tmpl, (flags & CRYPT_KEK) != 0);
	err = key_template_protect_locked(ts, tmpl, &n, true);
	if (err != ERROR_SUCCESS)
		return err;
	rv = token_unwrap_key(ts, &mech, pub->obj->priv, wrapped->data,
			      wrapped->len, tmpl, n, h);
	return rv == CKR_OK ? ERROR_SUCCESS : error_from_ckr(rv, ERROR_OP_UNWRAP);
}

/* RFC 3217's unwrap, composed from token operations as the export is
 * (des3-wrap.c), then the key by C_CreateObject. A checksum that does not
 * match, like any failed decryption: NTE_BAD_DATA. */
static DWORD import_symwrap_3des_locked(struct context *ctx, struct tsession *ts,
					const struct blob_symwrap *sw, struct key *pub, const CK_KEY_TYPE *type, DWORD flags,
					struct key **out)
{
	CK_ATTRIBUTE tmpl[KEY_SECRET_ATTRS + KEY_KEK_ATTRS + KEY_PROTECT_ATTRS + 1];
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	BYTE cek[DES3_KEY_LEN];
	CK_ULONG count;
	DWORD err;
	CK_RV rv;

	if (sw->alg != CALG_3DES)
		return NTE_BAD_KEY;
	if (sw->wrapped.len != DES3_WRAPPED_LEN)
		return NTE_BAD_DATA;
	err = des3_check_mechanisms(ts->tok, CKF_DECRYPT);
	if (err != ERROR_SUCCESS)
		return err;
	err = des3_unwrap_locked(ts, pub->obj->priv, sw->wrapped.data, cek);
	if (err != ERROR_SUCCESS)
		goto out;
	key_secret_template_locked(ctx, ts, type, (flags & CRYPT_EXPORTABLE) != 0, tmpl);
	count = key_secret_template_kek(tmpl, (flags & CRYPT_KEK) != 0);
	/* It arrived wrapped: sensitive here, as every wrapped arrival. */
	err = key_template_protect_locked(ts, tmpl, &count, true);
	if (err != ERROR_SUCCESS)
		goto out;
	tmpl[count++] = (CK_ATTRIBUTE){ CKA_VALUE, cek, DES3_KEY_LEN };
	rv = token_create(ts, tmpl, count, &h);
	err = rv == CKR_OK ? import_secret_finish_locked(ctx, ts, h, *type, sw->alg,
							 DES3_KEY_LEN, false, true, flags, out)
			   : error_from_ckr(rv, ERROR_OP_IMPORT);
out:
	capi11_wipe(cek, sizeof cek);
	return err;
}

/* SYMMETRICWRAPKEYBLOB: unwrapped under hPubKey, a session key of this
 * token (else NTE_BAD_KEY) of the algorithm the blob names (else
 * NTE_BAD_DATA, as for any key that did not wrap it): RFC 3394 by the
 * token under AES, RFC 3217 under 3DES. */

static DWORD import_symwrap_locked(struct context *ctx, const BYTE *data, size_t len,
				   struct key *pub, DWORD flags, struct key **out)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct tsession *ts;
	struct blob_symwrap sw;
	CK_KEY_TYPE type;
	size_t key_len, min, max;
	DWORD err;

	err = blob_parse_symwrap(data, len, &sw);
	if (err != ERROR_SUCCESS)
		return err;
	/* The new key lands beside hPubKey: on the token or the companion. */
	ts = key_session_in_locked(ctx, pub);
	if (ts == NULL || !key_is_session_key_on(pub, ts->tok))
		return NTE_BAD_KEY;
	if (pub->algid != sw.wrap_alg)
		return NTE_BAD_DATA;
	err = import_check_secret_alg_on(ts->tok, sw.alg, flags, &type);
	if (err != ERROR_SUCCESS)
		return err;
	if (pub->algid == CALG_3DES)
		return import_symwrap_3des_locked(ctx, ts, &sw, pub, &type, flags, out);
	if (!alg_is_aes(pub->algid))
		return NTE_BAD_KEY;
	/* RFC 3394 gives the key's length plus 8; keys it cannot wrap (DES)
	 * have no such blob. */
	alg_symmetric_key_range(sw.alg, &min, &max);
	if (blob_aes_wrap_len(max, false) == 0)
		return NTE_BAD_KEY;
	key_len = sw.wrapped.len - 8;
	if (key_len < min || key_len > max || blob_aes_wrap_len(key_len, false) == 0)
		return NTE_BAD_DATA;
	err = import_unwrap_secret_locked(ctx, ts, pub, CKM_AES_KEY_WRAP, &sw.wrapped, &type, flags, &h);
	if (err != ERROR_SUCCESS)
		return err;
	return import_secret_finish_locked(ctx, ts, h, type, sw.alg, key_len, false, true, flags,
					   out);
}

/* OPAQUEKEYBLOB of an RSA private key: the PKCS#8 key unwrapped by the
 * token straight into the container's slot that aiKeyAlg names (token
 * objects; session objects in a verify context), always sensitive
 * (key_template_protect_locked), and a public key object made from the
 * private key's public numbers. */
static DWORD import_opaque_rsa_locked(struct context *ctx, const struct blob_opaque *o,
				      struct key *pub, DWORD flags, struct key **out)
{
	CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pubh = CK_INVALID_HANDLE;
	CK_MECHANISM mech = { o->mechanism, NULL, 0 };
	CK_ULONG mod_len = 0, e_len = 0;
	void *modulus = NULL, *e = NULL;
	struct key_pair_plan plan;
	DWORD err, e_value = 0;
	CK_RV rv;

	err = context_check_mechanism(ctx, o->mechanism, CKF_UNWRAP);
	if (err == ERROR_SUCCESS)
		err = key_pair_begin_locked(ctx, o->alg == CALG_RSA_KEYX ? AT_KEYEXCHANGE : AT_SIGNATURE,
					    (flags & CRYPT_EXPORTABLE) != 0, &plan);
	if (err == ERROR_SUCCESS)
		err = key_template_protect_locked(&ctx->ts, plan.priv, &plan.n_priv, true);
	if (err != ERROR_SUCCESS)
		return err;
	rv = token_unwrap_key(&ctx->ts, &mech, pub->obj->priv, o->wrapped.data,
			      o->wrapped.len, plan.priv, plan.n_priv, &priv);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_UNWRAP);
	rv = token_get_attribute_alloc(&ctx->ts, priv, CKA_MODULUS, &modulus, &mod_len);
	if (rv == CKR_OK)
		rv = token_get_attribute_alloc(&ctx->ts, priv, CKA_PUBLIC_EXPONENT, &e,
					       &e_len);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_IMPORT);
		goto out;
	}
	/* The key is the one the blob describes, with no exponent of one. */
	if (bn_be_len(modulus, mod_len) != o->key_len || !bn_be_to_dword(e, e_len, &e_value) ||
	    e_value <= 1) {
		err = NTE_BAD_DATA;
		goto out;
	}
	plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_MODULUS, modulus, mod_len };
	plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, e, e_len };
	rv = token_create(&ctx->ts, plan.pub, plan.n_pub, &pubh);
	err = rv == CKR_OK ? key_pair_finish_locked(ctx, &plan, priv, pubh, out)
			   : error_from_ckr(rv, ERROR_OP_IMPORT);
out:
	if (err != ERROR_SUCCESS) {
		token_destroy(&ctx->ts, priv);
		if (pubh != CK_INVALID_HANDLE)
			token_destroy(&ctx->ts, pubh);
	}
	capi11_free(modulus);
	capi11_free(e);
	return err;
}

/* OPAQUEKEYBLOB (docs/OPAQUEKEYBLOB.md): unwrapped by the token under
 * hPubKey, which must be a wrap-only AES key (else NTE_BAD_KEY: a key that
 * could decrypt the blob could reveal a sensitive key) of the wrapping
 * ALG_ID the blob names (else NTE_BAD_DATA, as for a wrong key). A blob
 * whose usage says wrap-only makes a wrap-only key, as CRYPT_KEK does,
 * whatever the flags say; CRYPT_KEK alone still makes one. */
static DWORD import_opaque_locked(struct context *ctx, const BYTE *data, size_t len,
				  struct key *pub, DWORD flags, struct key **out)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct tsession *ts;
	struct blob_opaque o;
	CK_KEY_TYPE type;
	bool kek = false;
	DWORD err;
	CK_RV rv;

	err = blob_parse_opaque(data, len, &o);
	if (err != ERROR_SUCCESS)
		return err;
	/* A secret key lands beside hPubKey (token or companion); a private
	 * key only in the container, on the token. */
	ts = key_session_in_locked(ctx, pub);
	if (ts == NULL || !key_is_session_key_on(pub, ts->tok))
		return NTE_BAD_KEY;
	if (o.key_type == CKK_RSA && ts != &ctx->ts)
		return NTE_BAD_KEY;
	rv = key_read_wrap_only_locked(ctx, pub, &kek);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	if (!kek)
		return NTE_BAD_KEY;
	if (pub->algid != o.wrap_alg)
		return NTE_BAD_DATA;
	if (o.key_type == CKK_RSA)
		return import_opaque_rsa_locked(ctx, &o, pub, flags, out);
	err = import_check_secret_alg_on(ts->tok, o.alg, flags, &type);
	/* A key-encryption key stays one when it moves: the blob's usage can
	 * add wrap-only, never take it away. After the flag check, which
	 * judges the caller's flags. */
	if (o.usage & BLOB_OPAQUE_USAGE_KEK)
		flags |= CRYPT_KEK;
	if (err == ERROR_SUCCESS)
		err = import_unwrap_secret_locked(ctx, ts, pub, o.mechanism, &o.wrapped, &type,
						  flags, &h);
	if (err != ERROR_SUCCESS)
		return err;
	return import_secret_finish_locked(ctx, ts, h, type, o.alg, o.key_len,
					   o.mechanism == CKM_AES_KEY_WRAP_PAD, true, flags, out);
}

/* The secret key of a plaintext import, made on ts (the context's own
 * session or its companion's) as a session object; *rv is the token's
 * answer to the creation, so that a refusal can go to the companion.
 * CKA_VALUE comes from value (len bytes); wrapped: it arrived wrapped
 * (a SIMPLEBLOB decrypted by the token), so it is made sensitive. */
static DWORD import_secret_create_locked(struct context *ctx, struct tsession *ts, ALG_ID alg,
					 const BYTE *value, size_t len, bool wrapped, DWORD flags,
					 struct key **out, CK_RV *rv)
{
	bool exportable = (flags & CRYPT_EXPORTABLE) != 0;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_KEY_TYPE type;
	/* K1|K2|K1 of a 3DES_112 key on a token without CKK_DES2. */
	BYTE stretched[DES3_KEY_LEN];
	bool held_as_des3;
	DWORD err;

	*rv = CKR_OK;
	/* The value is the caller's: where the token has no CKK_DES2 it
	 * becomes the three-key K1|K2|K1, which encrypts as K1|K2 does, and
	 * the key remains CALG_3DES_112 (KP_KEYLEN 128, a 16-byte export). */
	held_as_des3 = alg == CALG_3DES_112 && !token_has_des2(ts->tok);
	err = import_check_secret_alg_on(ts->tok, held_as_des3 ? CALG_3DES : alg, flags, &type);
	if (err != ERROR_SUCCESS)
		return err;
	if (held_as_des3) {
		if (len != 16)
			return NTE_BAD_DATA;
		memcpy(stretched, value, 16);
		memcpy(stretched + 16, value, 8);
	}
	{
		CK_ATTRIBUTE tmpl[KEY_SECRET_ATTRS + KEY_KEK_ATTRS + KEY_PROTECT_ATTRS + 1];
		CK_ULONG n;

		/* Never CKA_VALUE_LEN: SoftHSM refuses it with
		 * CKR_ATTRIBUTE_READ_ONLY in C_CreateObject. */
		key_secret_template_locked(ctx, ts, &type, exportable, tmpl);
		n = key_secret_template_kek(tmpl, (flags & CRYPT_KEK) != 0);
		err = key_template_protect_locked(ts, tmpl, &n, wrapped);
		if (err == ERROR_SUCCESS) {
			if (held_as_des3)
				tmpl[n++] = (CK_ATTRIBUTE){ CKA_VALUE, stretched, sizeof stretched };
			else
				tmpl[n++] = (CK_ATTRIBUTE){ CKA_VALUE, (void *)value, len };
			*rv = token_create(ts, tmpl, n, &h);
			/* A value the token judges (a weak DES key) says nothing
			 * of the next key's: only the other refusals are learnt. */
			if (*rv != CKR_ATTRIBUTE_VALUE_INVALID)
				token_cap_learn(ts->tok, TOKEN_CAP_CREATE_SECRET_KEY, *rv);
		}
	}
	if (held_as_des3)
		capi11_wipe(stretched, sizeof stretched);
	if (err != ERROR_SUCCESS)
		return err;
	if (*rv != CKR_OK)
		return error_from_ckr(*rv, ERROR_OP_IMPORT);
	return import_secret_finish_locked(ctx, ts, h, type, alg, len, false, wrapped, flags, out);
}

/* Whether the main token cannot hold a secret key of alg: it lacks the
 * algorithm, or has refused to create secret keys before. */
static bool import_secret_needs_companion(struct context *ctx, ALG_ID alg, DWORD flags)
{
	CK_KEY_TYPE type;
	ALG_ID as = alg == CALG_3DES_112 && !token_has_des2(ctx->ts.tok) ? CALG_3DES : alg;

	if (token_cap(ctx->ts.tok, TOKEN_CAP_CREATE_SECRET_KEY) == TOKEN_CAP_NO)
		return true;
	return import_check_secret_alg(ctx, as, flags, &type) == NTE_BAD_ALGID;
}

/* A secret key from its plaintext value: on the main token, else - the
 * token lacks the algorithm or refuses the creation - on the companion. */
static DWORD import_secret_value_locked(struct context *ctx, ALG_ID alg, const BYTE *value,
					size_t len, bool wrapped, DWORD flags, struct key **out)
{
	struct tsession *cts;
	DWORD err;
	CK_RV rv = CKR_OK;
	bool routable = context_has_companion_locked(ctx) && key_alg_has_companion_route(alg);

	if (!import_secret_needs_companion(ctx, alg, flags)) {
		err = import_secret_create_locked(ctx, &ctx->ts, alg, value, len, wrapped, flags, out,
						  &rv);
		if (!token_rv_is_refusal(rv) || !routable)
			return err;
	} else if (!routable) {
		/* What the main token says without the companion. */
		return import_secret_create_locked(ctx, &ctx->ts, alg, value, len, wrapped, flags,
						   out, &rv);
	}
	err = context_companion_locked(ctx, &cts);
	if (err != ERROR_SUCCESS)
		return err;
	trace_route("route: secret key %#x on the companion token %s", (unsigned)alg,
		      token_label(cts->tok));
	return import_secret_create_locked(ctx, cts, alg, value, len, wrapped, flags, out, &rv);
}

/* PLAINTEXTKEYBLOB: a secret-key session object. */
static DWORD import_plaintext_locked(struct context *ctx, const BYTE *data, size_t len,
				     DWORD flags, struct key **out)
{
	struct blob_plaintext plain;
	DWORD err;

	/* CRYPT_IPSEC_HMAC_KEY with CALG_RC2: an HMAC key (hmac-key.c). */
	if (hmac_key_requested(data, len, flags))
		return hmac_key_import_locked(ctx, data, len, flags, out);
	err = blob_parse_plaintext(data, len, &plain);
	if (err != ERROR_SUCCESS)
		return err;
	return import_secret_value_locked(ctx, plain.alg, plain.key.data, plain.key.len, false,
					  flags, out);
}

/* The length of the secret key object h as the token tells it: the
 * length of CKA_VALUE where the value may be read (only the length is
 * asked, never the bytes), else CKA_VALUE_LEN; 0 when it tells neither.
 * SoftHSM hides the value of a sensitive or unextractable key and reports
 * CKA_VALUE_LEN 0 for every key it unwrapped. */
static CK_RV import_secret_len(struct tsession *ts, CK_OBJECT_HANDLE h, size_t *len)
{
	CK_ULONG value_len = 0;
	CK_ATTRIBUTE attrs[] = {
		{ CKA_VALUE, NULL, 0 },
		{ CKA_VALUE_LEN, &value_len, sizeof value_len },
	};
	CK_RV rv;

	*len = 0;
	rv = token_get_attributes(ts, h, attrs, CAPI11_N_ELEMENTS(attrs));
	/* A sensitive key hides CKA_VALUE; the call still fills the length. */
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE)
		return rv;
	if (attrs[0].ulValueLen != CK_UNAVAILABLE_INFORMATION)
		*len = attrs[0].ulValueLen;
	else if (attrs[1].ulValueLen == sizeof value_len)
		*len = value_len;
	return CKR_OK;
}

/* Makes a SIMPLEBLOB's key, unwrapped readable so that the token could
 * tell its length, what every key arriving wrapped is: sensitive, and not
 * extractable unless exportable (CKA_WRAP_WITH_TRUSTED it has from the
 * unwrap). PKCS#11 lets both change only that way. A token that will not
 * change them gets the key unwrapped once more with that template from
 * the start (*again). The readable key is destroyed on any failure, and
 * if even that fails the import fails and the session goes with it rather
 * than back to the pool. */
static DWORD import_simple_protect_locked(struct context *ctx, CK_OBJECT_HANDLE h,
					  bool exportable, bool *again)
{
	CK_ATTRIBUTE set[] = {
		{ CKA_SENSITIVE, token_bool(true), sizeof(CK_BBOOL) },
		{ CKA_EXTRACTABLE, token_bool(exportable), sizeof(CK_BBOOL) },
	};
	CK_RV rv, drv;

	*again = false;
	rv = token_set_attributes(&ctx->ts, h, set, CAPI11_N_ELEMENTS(set));
	if (rv == CKR_OK)
		return ERROR_SUCCESS;
	drv = token_destroy(&ctx->ts, h);
	if (drv != CKR_OK) {
		/* Retired: closing the session takes the readable key along. */
		if (!ctx->ts.lost) {
			ctx->ts.lost = true;
			ctx->ts.lost_rv = drv;
		}
		return error_from_ckr(drv, ERROR_OP_GENERIC);
	}
	*again = rv == CKR_ATTRIBUTE_READ_ONLY || rv == CKR_FUNCTION_NOT_SUPPORTED ||
		 rv == CKR_ACTION_PROHIBITED || rv == CKR_TEMPLATE_INCONSISTENT;
	return *again ? ERROR_SUCCESS : error_from_ckr(rv, ERROR_OP_GENERIC);
}

/* What a SIMPLEBLOB unwrap teaches of the token: that it has C_UnwrapKey
 * (CKR_OK), or that it has none (CKR_FUNCTION_NOT_SUPPORTED, or the
 * mechanism refused at use). Every other refusal is about this call's
 * template (openCryptoki's CKR_ATTRIBUTE_READ_ONLY for the readable one)
 * or this blob's contents (a key of the wrong length against
 * CKA_VALUE_LEN): learnt, it would send every later SIMPLEBLOB of the
 * process to the decrypt route, its key through this process to the
 * companion, on the strength of one bad blob. */
static void import_unwrap_learn(struct token *tok, CK_RV rv)
{
	if (rv == CKR_OK || rv == CKR_FUNCTION_NOT_SUPPORTED || rv == CKR_MECHANISM_INVALID)
		token_cap_learn(tok, TOKEN_CAP_UNWRAP, rv);
}

/* C_UnwrapKey of a SIMPLEBLOB's key with the container's exchange key,
 * with the template of every wrapped arrival; readable: not sensitive and
 * extractable for now. */
static DWORD import_simple_unwrap_locked(struct context *ctx, CK_MECHANISM *mech, struct key *pub,
					 const BYTE *ct, size_t ct_len, ALG_ID alg,
					 const CK_KEY_TYPE *type, DWORD flags, bool readable,
					 CK_OBJECT_HANDLE *h)
{
	CK_ATTRIBUTE tmpl[KEY_SECRET_ATTRS + KEY_KEK_ATTRS + KEY_PROTECT_ATTRS + 1];
	void *protected_values[2] = { NULL, NULL };
	CK_ULONG i, n, value_len = 0;
	size_t min = 0, max = 0;
	DWORD err;
	CK_RV rv;

	key_secret_template_locked(ctx, &ctx->ts, type, (flags & CRYPT_EXPORTABLE) != 0, tmpl);
	n = key_secret_template_kek(tmpl, (flags & CRYPT_KEK) != 0);
	err = key_template_protect_locked(&ctx->ts, tmpl, &n, true);
	if (err != ERROR_SUCCESS)
		return err;
	/* A token that takes CKA_VALUE_LEN here checks the length of an
	 * algorithm that has one itself; SoftHSM refuses the attribute
	 * (QUIRK_NO_UNWRAP_VALUE_LEN), and the length read afterwards tells. */
	if (alg_symmetric_key_range(alg, &min, &max) && min == max &&
	    token_takes_value_len(ctx->ts.tok)) {
		value_len = (CK_ULONG)min;
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_VALUE_LEN, &value_len, sizeof value_len };
	}
	/* Readable: neither sensitive nor unextractable, for now. */
	for (i = 0; readable && i < n; i++) {
		if (tmpl[i].type == CKA_SENSITIVE) {
			protected_values[0] = tmpl[i].pValue;
			tmpl[i].pValue = token_bool(false);
		} else if (tmpl[i].type == CKA_EXTRACTABLE) {
			protected_values[1] = tmpl[i].pValue;
			tmpl[i].pValue = token_bool(true);
		}
	}
	rv = token_unwrap_key(&ctx->ts, mech, pub->obj->priv, ct, ct_len, tmpl, n, h);
	import_unwrap_learn(ctx->ts.tok, rv);
	/* openCryptoki 3.8 takes CKA_SENSITIVE only TRUE and CKA_EXTRACTABLE
	 * only FALSE in an unwrap template (else CKR_ATTRIBUTE_READ_ONLY):
	 * the key arrives protected, and its length is read from
	 * CKA_VALUE_LEN. */
	if (readable && rv == CKR_ATTRIBUTE_READ_ONLY) {
		for (i = 0; i < n; i++) {
			if (tmpl[i].type == CKA_SENSITIVE)
				tmpl[i].pValue = protected_values[0];
			else if (tmpl[i].type == CKA_EXTRACTABLE)
				tmpl[i].pValue = protected_values[1];
		}
		rv = token_unwrap_key(&ctx->ts, mech, pub->obj->priv, ct, ct_len, tmpl, n, h);
		import_unwrap_learn(ctx->ts.tok, rv);
	}
	return rv == CKR_OK ? ERROR_SUCCESS : error_from_ckr(rv, ERROR_OP_UNWRAP);
}

/* SIMPLEBLOB on a token that cannot unwrap (a card: no C_UnwrapKey, or
 * no CKK_DES2 for a two-key 3DES key): the exchange key decrypts the
 * ciphertext on the token (C_Decrypt, PKCS#1 v1.5 or OAEP as the flags
 * say), and the key is created from the plaintext on the companion, as
 * Windows' smart card CSP decrypts on the card and keeps the session key
 * in its software CSP. The plaintext is wiped as soon as the key exists
 * (or failed to). Its length must be one aiKeyAlg allows, else
 * NTE_BAD_DATA; every failure of the decryption is NTE_BAD_DATA too. The
 * key is made as every wrapped arrival: sensitive, and wrap-with-trusted
 * where the companion enforces it. */
static DWORD import_simple_decrypt_locked(struct context *ctx, const struct blob_simple *simple,
					  struct key *pub, size_t min, size_t max, DWORD flags,
					  struct key **out)
{
	size_t k = simple->ciphertext.len;
	struct tsession *cts;
	CK_MECHANISM mech;
	CK_KEY_TYPE type;
	ALG_ID held_as;
	CK_ULONG pt_len = k;
	BYTE *ct = NULL, *pt = NULL;
	DWORD err;
	CK_RV rv;

	err = rsa_mech_choose(ctx, (flags & CRYPT_OAEP) != 0, CKF_DECRYPT, &mech);
	if (err == ERROR_SUCCESS)
		err = context_companion_locked(ctx, &cts);
	if (err != ERROR_SUCCESS)
		return err;
	/* Whether the companion can hold the key is judged before anything is
	 * decrypted: judged after, it would answer only for blobs whose
	 * padding holds, an oracle on the exchange key. */
	held_as = simple->alg == CALG_3DES_112 && !token_has_des2(cts->tok) ? CALG_3DES : simple->alg;
	err = import_check_secret_alg_on(cts->tok, held_as, flags, &type);
	if (err != ERROR_SUCCESS)
		return err;
	ct = capi11_malloc(k);
	pt = capi11_malloc(k);
	if (ct == NULL || pt == NULL) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	bn_reverse_copy(ct, simple->ciphertext.data, k);
	rv = token_decrypt(&ctx->ts, &mech, pub->obj->priv, ct, k, pt, &pt_len);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_UNWRAP);
		goto out;
	}
	if (pt_len < min || pt_len > max || pt_len > k) {
		err = NTE_BAD_DATA;
		goto out;
	}
	trace_route("route: SIMPLEBLOB decrypted on %s, key made on the companion token %s",
		      token_label(ctx->ts.tok), token_label(cts->tok));
	err = import_secret_create_locked(ctx, cts, simple->alg, pt, pt_len, true, flags, out, &rv);
out:
	capi11_free_secret(pt, k);
	capi11_free(ct);
	return err;
}

/* Whether tok lists a mechanism that makes keys of this type. */
static bool import_token_knows_key_type(struct token *tok, CK_KEY_TYPE type)
{
	CK_MECHANISM_INFO info;

	return token_mechanism_info(tok, import_keygen_mech(type), &info) == CKR_OK;
}

/* Whether a SIMPLEBLOB must take the decrypt route: the token lacks the
 * unwrap (mechanism or function) or the key type, and a companion is
 * configured to hold the key. */
static bool import_simple_needs_decrypt(struct context *ctx, CK_KEY_TYPE type, bool oaep)
{
	CK_MECHANISM mech;

	if (!context_has_companion_locked(ctx))
		return false;
	if (type == CKK_DES2 && !token_has_des2(ctx->ts.tok))
		return true;
	if (token_cap(ctx->ts.tok, TOKEN_CAP_UNWRAP) == TOKEN_CAP_NO)
		return true;
	return rsa_mech_choose(ctx, oaep, CKF_UNWRAP, &mech) != ERROR_SUCCESS;
}

/* SIMPLEBLOB: the token unwraps the key with the private half of hPubKey,
 * which must be the container's RSA exchange key. Every failure of the
 * unwrap itself is NTE_BAD_DATA (errors.c): the answer says nothing about
 * where the padding broke.
 *
 * The ciphertext may hold any number of key bytes, and the token takes
 * them as they are (SoftHSM makes an AES key of 0 to 40 bytes and checks
 * no secret key length), so a blob naming AES-256 with 16 bytes in it
 * would run as AES-128. The key must have exactly the length aiKeyAlg
 * gives, else NTE_BAD_DATA and the object is destroyed. That length is
 * read from the token, never by decrypting here: CKA_VALUE_LEN cannot go
 * in the unwrap template (SoftHSM refuses it, SPEC section 7) and reads 0
 * afterwards, and a sensitive key's value is hidden; so the key is
 * unwrapped readable, measured, and made sensitive before it is handed
 * out (import_simple_protect_locked). Readable for that moment, it gives
 * nobody more than they have: it lives in this context's session only,
 * PKCS#11 marks every unwrapped key neither always sensitive nor never
 * extractable, and the exchange key that unwraps it decrypts the same
 * ciphertext anyway. */
static DWORD import_simple_locked(struct context *ctx, const BYTE *data, size_t len,
				  struct key *pub, DWORD flags, struct key **out)
{
	bool exportable = (flags & CRYPT_EXPORTABLE) != 0;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_MECHANISM mech;
	CK_KEY_TYPE type;
	struct blob_simple simple;
	size_t key_len = 0, min = 0, max = 0;
	BYTE *ct = NULL;
	bool again = false;
	DWORD err;

	/* Checked before the blob's length, as Windows does. */
	if (pub == NULL || pub->obj->type != CKK_RSA || pub->spec != AT_KEYEXCHANGE ||
	    pub->obj->priv == CK_INVALID_HANDLE || pub->ctx->ts.tok != ctx->ts.tok || pub->bits == 0)
		return NTE_BAD_PUBLIC_KEY;
	err = blob_parse_simple(data, len, pub->bits / 8, &simple);
	if (err != ERROR_SUCCESS)
		return err;
	if (!alg_key_type(simple.alg, &type) || !alg_symmetric_key_range(simple.alg, &min, &max))
		return NTE_BAD_ALGID;
	err = key_kek_flag_check(simple.alg, flags);
	if (err != ERROR_SUCCESS)
		return err;
	if (import_simple_needs_decrypt(ctx, type, (flags & CRYPT_OAEP) != 0))
		return import_simple_decrypt_locked(ctx, &simple, pub, min, max, flags, out);
	/* No CKK_DES2: the unwrapped 16 bytes cannot become K1|K2|K1 on the
	 * token (import_check_secret_alg). */
	if (type == CKK_DES2 && !token_has_des2(ctx->ts.tok))
		return NTE_BAD_ALGID;
	err = rsa_mech_choose(ctx, (flags & CRYPT_OAEP) != 0, CKF_UNWRAP, &mech);
	if (err != ERROR_SUCCESS)
		return err;
	ct = capi11_malloc(simple.ciphertext.len);
	if (ct == NULL)
		return NTE_NO_MEMORY;
	bn_reverse_copy(ct, simple.ciphertext.data, simple.ciphertext.len);
	err = import_simple_unwrap_locked(ctx, &mech, pub, ct, simple.ciphertext.len, simple.alg,
					  &type, flags, true, &h);
	/* Refused at use (advertised, never done): the decrypt route, or
	 * without a companion no route at all. The token never unwrapped
	 * anything, so the answer says nothing about this blob's padding. */
	if (err != ERROR_SUCCESS && token_cap(ctx->ts.tok, TOKEN_CAP_UNWRAP) == TOKEN_CAP_NO) {
		capi11_free(ct);
		if (!context_has_companion_locked(ctx))
			return NTE_NOT_SUPPORTED;
		return import_simple_decrypt_locked(ctx, &simple, pub, min, max, flags, out);
	}
	/* An unwrap the token ran and failed, for a key type it has no
	 * mechanism for (SoftHSM and RC4): the algorithm is the cause, not the
	 * blob. rsaenh answers NTE_BAD_ALGID for an aiKeyAlg it does not offer
	 * before it decrypts anything; NTE_BAD_DATA would blame the padding. */
	if (err == NTE_BAD_DATA && !import_token_knows_key_type(ctx->ts.tok, type))
		err = NTE_BAD_ALGID;
	if (err != ERROR_SUCCESS)
		goto out;
	/* A failure to read is the token's (a lost session would take the new
	 * key along), not the blob's. */
	err = error_from_ckr(import_secret_len(&ctx->ts, h, &key_len), ERROR_OP_GENERIC);
	if (err == ERROR_SUCCESS && (key_len < min || key_len > max))
		err = NTE_BAD_DATA;
	if (err != ERROR_SUCCESS)
		goto out;
	/* From here the readable key is the protect step's to destroy. */
	err = import_simple_protect_locked(ctx, h, exportable, &again);
	if (err != ERROR_SUCCESS || again)
		h = CK_INVALID_HANDLE;
	if (err == ERROR_SUCCESS && again)
		err = import_simple_unwrap_locked(ctx, &mech, pub, ct, simple.ciphertext.len,
						  simple.alg, &type, flags, false, &h);
	if (err == ERROR_SUCCESS)
		err = key_adopt_locked(ctx, h, CK_INVALID_HANDLE, type, simple.alg,
				       (DWORD)key_len * 8,
				       key_exportable_from_attrs(ctx, exportable, true), true, out);
	if (err == ERROR_SUCCESS && (flags & CRYPT_KEK))
		key_mark_wrap_only(*out);
out:
	/* The key may still be the readable one: should its destroy fail,
	 * the session goes, and the key with it, rather than to the pool. */
	if (err != ERROR_SUCCESS && h != CK_INVALID_HANDLE &&
	    token_destroy(&ctx->ts, h) != CKR_OK && !ctx->ts.lost) {
		ctx->ts.lost = true;
		ctx->ts.lost_rv = CKR_SESSION_CLOSED;
	}
	capi11_free(ct);
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
	/* Each provider type imports the keys it makes (prov-type.h). */
	if (!prov_type_serves(ctx->prov_type, hdr.aiKeyAlg))
		return NTE_BAD_ALGID;
	/* An agreed key unwraps and decrypts nothing until KP_ALGID makes it
	 * a session key (CryptSetKeyParam's KP_ALGID; agree.h). A public
	 * blob's hPubKey is no decryption key: the agreement path judges it. */
	if (pub != NULL && pub->algid == CALG_AGREEDKEY_ANY && hdr.bType != PUBLICKEYBLOB)
		return NTE_BAD_KEY;
	if (hdr.aiKeyAlg == CALG_DSS_SIGN && hdr.bType == PUBLICKEYBLOB)
		return dss_import_public_locked(ctx, data, len, out);
	if (hdr.aiKeyAlg == CALG_DSS_SIGN && hdr.bType == PRIVATEKEYBLOB) {
		/* Under a session key as RSA's (the RSA path decrypts, then
		 * hands a DSS blob on). */
		if (pub != NULL)
			return import_rsa_private_encrypted_locked(ctx, data, len, pub, flags,
								   out);
		return dss_import_private_locked(ctx, data, len, flags, out);
	}
	if (hdr.aiKeyAlg == CALG_DH_SF || hdr.aiKeyAlg == CALG_DH_EPHEM) {
		/* A partner's public key agrees with hPubKey, the context's DH
		 * private key (agree.h); a private key is the container's, under
		 * a session key as RSA's when hPubKey is one. */
		if (hdr.bType == PUBLICKEYBLOB)
			return agree_import_locked(ctx, data, len, pub, flags, out);
		if (hdr.bType == PRIVATEKEYBLOB && pub != NULL)
			return import_rsa_private_encrypted_locked(ctx, data, len, pub, flags,
								   out);
		if (hdr.bType == PRIVATEKEYBLOB)
			return dh_import_private_locked(ctx, data, len, flags, out);
	}

	switch (hdr.bType) {
	case PUBLICKEYBLOB:
		/* A public key needs no key to import it: hPubKey is ignored. */
		return import_rsa_public_locked(ctx, data, len, out);
	case PRIVATEKEYBLOB:
		if (pub != NULL)
			return import_rsa_private_encrypted_locked(ctx, data, len, pub, flags, out);
		return import_rsa_private_locked(ctx, data, len, flags, out);
	case PLAINTEXTKEYBLOB:
		return import_plaintext_locked(ctx, data, len, flags, out);
	case SIMPLEBLOB:
		return import_simple_locked(ctx, data, len, pub, flags, out);
	case OPAQUEKEYBLOB:
		return import_opaque_locked(ctx, data, len, pub, flags, out);
	case SYMMETRICWRAPKEYBLOB:
		return import_symwrap_locked(ctx, data, len, pub, flags, out);
	default:
		return NTE_BAD_TYPE;
	}
}
