/* Key parameters: CryptGetKeyParam and CryptSetKeyParam. Values follow
 * Microsoft's providers as rsaenh reproduces them (its tests run on
 * Windows): lengths in bits, PKCS5_PADDING only, CRYPT_EXPORT that can be
 * neither added nor taken away. KP_CERTIFICATE reads and writes the
 * container's certificate that shares the key's CKA_ID. */
#include "config.h"
#include "key.h"
#include "cert.h"
#include "agree.h"
#include "dh.h"
#include "dss.h"
#include "container-lock.h"
#include "errors.h"
#include "param.h"
#include "util.h"

#include <string.h>

/* The key's CKA_ID, from whichever of its objects exists. An empty ID
 * (NULL, 0) is no ID. */
static CK_RV key_param_read_id(struct key *key, void **id, CK_ULONG *id_len)
{
	CK_OBJECT_HANDLE obj = key->obj->priv != CK_INVALID_HANDLE ? key->obj->priv : key->obj->pub;
	CK_RV rv;

	*id = NULL;
	*id_len = 0;
	rv = token_get_attribute_alloc(key_session(key), obj, CKA_ID, id, id_len);
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || (rv == CKR_OK && *id_len == 0)) {
		capi11_free(*id);
		*id = NULL;
		*id_len = 0;
		return CKR_OK;
	}
	return rv;
}

/* The X.509 certificates of the key's container whose CKA_ID is id: a
 * capi11_malloc'd array. Only the container's own: two containers may
 * hold keys of one ID (pkcs11-tool pairs with different labels), and
 * setting one's certificate must leave the other's alone. */
static CK_RV cert_find(struct key *key, const void *id, size_t id_len, CK_OBJECT_HANDLE **objs,
		       CK_ULONG *count)
{
	struct context *ctx = key->ctx;
	CK_OBJECT_HANDLE *found = NULL;
	CK_ULONG n = 0, kept = 0, i;
	CK_RV rv;

	rv = container_find_with_id(&ctx->ts, ctx->container, CKO_CERTIFICATE, id,
				    id_len, &found, &n);
	for (i = 0; rv == CKR_OK && i < n; i++) {
		CK_CERTIFICATE_TYPE type = (CK_CERTIFICATE_TYPE)-1;
		CK_ATTRIBUTE attr = { CKA_CERTIFICATE_TYPE, &type, sizeof type };

		rv = token_get_attributes(&ctx->ts, found[i], &attr, 1);
		if (rv == CKR_OK && attr.ulValueLen == sizeof type && type == CKC_X_509)
			found[kept++] = found[i];
	}
	if (rv != CKR_OK) {
		capi11_free(found);
		return rv;
	}
	*objs = found;
	*count = kept;
	return CKR_OK;
}

/* KP_CERTIFICATE: the DER value of the container's X.509 certificate
 * with the key's CKA_ID. Smart card providers answer SCARD_E_NO_SUCH_CERTIFICATE when the
 * card holds none; a session key never has one. */
static DWORD key_param_get_certificate(struct key *key, BYTE *data, DWORD *len)
{
	struct context *ctx = key->ctx;
	CK_OBJECT_HANDLE *objs = NULL;
	CK_ULONG n = 0, value_len = 0;
	void *id = NULL, *value = NULL;
	CK_ULONG id_len = 0;
	DWORD err;
	CK_RV rv;

	if (key->obj->type != CKK_RSA)
		return NTE_BAD_TYPE;
	rv = key_param_read_id(key, &id, &id_len);
	if (rv == CKR_OK && id_len > 0)
		rv = cert_find(key, id, id_len, &objs, &n);
	if (rv == CKR_OK && n > 0)
		rv = token_get_attribute_alloc(&ctx->ts, objs[0], CKA_VALUE, &value,
					       &value_len);
	if (rv != CKR_OK)
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
	else if (n == 0 || value_len == 0)
		err = SCARD_E_NO_SUCH_CERTIFICATE;
	else if (value_len > CERT_DER_MAX)
		err = NTE_FAIL;
	else
		err = param_put(data, len, value, (DWORD)value_len);
	capi11_free(value);
	capi11_free(objs);
	capi11_free(id);
	return err;
}

DWORD key_certificate_rsa_locked(struct key *key, BYTE **der, const BYTE **n, size_t *n_len,
				 const BYTE **e, size_t *e_len)
{
	struct cert_der cert;
	DWORD len = 0, err;

	*der = NULL;
	err = key_param_get_certificate(key, NULL, &len);
	if (err != ERROR_SUCCESS)
		return err;
	*der = capi11_malloc(len ? len : 1);
	if (*der == NULL)
		return NTE_NO_MEMORY;
	err = key_param_get_certificate(key, *der, &len);
	if (err == ERROR_SUCCESS &&
	    (!cert_der_parse(*der, len, &cert) ||
	     !cert_spki_rsa(cert.spki, cert.spki_len, n, n_len, e, e_len)))
		err = NTE_BAD_KEY;
	if (err != ERROR_SUCCESS) {
		capi11_free(*der);
		*der = NULL;
	}
	return err;
}

/* KP_CERTIFICATE set: stores the certificate on the token beside the key
 * (CKA_ID of the key, CKA_LABEL of the container) and only then drops the
 * certificates it replaces, so a failure leaves the old one in place. A
 * verify context has no container to keep it in. */
static DWORD key_param_set_certificate(struct key *key, const BYTE *der)
{
	static const CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	static const CK_CERTIFICATE_TYPE x509 = CKC_X_509;
	struct context *ctx = key->ctx;
	CK_OBJECT_HANDLE *old = NULL, cert = CK_INVALID_HANDLE;
	CK_ULONG n_old = 0, id_len = 0, i, n;
	struct container_lock lock = { -1 };
	struct cert_der parts;
	void *id = NULL;
	DWORD err;
	CK_RV rv;

	if (key->obj->type != CKK_RSA)
		return NTE_BAD_TYPE;
	if (ctx->verify)
		return NTE_PERM;
	if (!cert_der_parse(der, CERT_DER_MAX, &parts))
		return NTE_BAD_DATA;
	/* Replacing the container's certificate is a change of the container
	 * (container-lock.h), locked after the login. */
	err = context_login_locked(ctx, true);
	if (err == ERROR_SUCCESS)
		err = container_lock_take(ctx->ts.tok, ctx->container, &lock);
	if (err != ERROR_SUCCESS)
		return err;
	rv = key_param_read_id(key, &id, &id_len);
	if (rv == CKR_OK && id_len == 0) {
		err = NTE_BAD_KEY;
		goto out;
	}
	if (rv == CKR_OK)
		rv = cert_find(key, id, id_len, &old, &n_old);
	if (rv == CKR_OK) {
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, (void *)&cls, sizeof cls },
			{ CKA_CERTIFICATE_TYPE, (void *)&x509, sizeof x509 },
			{ CKA_TOKEN, token_bool(true), sizeof(CK_BBOOL) },
			{ CKA_PRIVATE, token_bool(false), sizeof(CK_BBOOL) },
			{ CKA_ID, id, id_len },
			{ CKA_SUBJECT, (void *)parts.subject, parts.subject_len },
			{ CKA_ISSUER, (void *)parts.issuer, parts.issuer_len },
			{ CKA_SERIAL_NUMBER, (void *)parts.serial, parts.serial_len },
			{ CKA_VALUE, (void *)der, parts.len },
			{ CKA_LABEL, ctx->container, ctx->container ? strlen(ctx->container) : 0 },
		};

		n = CAPI11_N_ELEMENTS(tmpl) - (ctx->container == NULL ? 1 : 0);
		rv = token_create(&ctx->ts, tmpl, n, &cert);
	}
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
		goto out;
	}
	for (i = 0; i < n_old; i++)
		token_destroy(&ctx->ts, old[i]);
	err = ERROR_SUCCESS;
out:
	container_lock_release(&lock);
	capi11_free(old);
	capi11_free(id);
	return err;
}

DWORD key_get_param_locked(struct key *key, DWORD param, BYTE *data, DWORD *len)
{
	bool block = key->obj->type != CKK_RSA && key->block_bits != 0;

	switch (param) {
	case KP_ALGID:
		return param_put_dword(data, len, key->algid);
	case KP_KEYLEN:
		return param_put_dword(data, len, key->bits);
	case KP_EFFECTIVE_KEYLEN:
		/* Only RC2 has an effective length apart from its key length. */
		return param_put_dword(data, len, key->bits);
	case KP_BLOCKLEN:
		return param_put_dword(data, len, key->block_bits);
	case KP_PERMISSIONS:
		return param_put_dword(data, len, key->permissions);
	case KP_PADDING:
		return param_put_dword(data, len, key->padding);
	case KP_MODE:
		return param_put_dword(data, len, key->mode);
	case KP_IV:
		if (!block)
			return NTE_BAD_TYPE;
		return param_put(data, len, key->iv, key->block_bits / 8);
	case KP_CERTIFICATE:
		return key_param_get_certificate(key, data, len);
	case KP_SALT:
		/* A key pair (RSA, DSS) has no salt: NTE_BAD_KEY, as rsaenh (Wine's tests;
		 * Windows 7 says NTE_NOT_FOUND). capi11 keeps no salt for
		 * session keys either. */
		return keyobj_is_pair(key->obj) ? NTE_BAD_KEY : NTE_BAD_TYPE;
	case KP_P:
	case KP_Q:
	case KP_G:
		if (key->pregen != NULL || key->obj->type == CKK_DH)
			return dh_get_param_locked(key, param, data, len);
		return dss_get_param_locked(key, param, data, len);
	default:
		return NTE_BAD_TYPE;
	}
}

DWORD key_set_param_locked(struct key *key, DWORD param, const BYTE *data)
{
	bool block = key->obj->type != CKK_RSA && key->block_bits != 0;
	DWORD value;

	/* KP_X alone takes no data: it makes a CRYPT_PREGEN key's pair. */
	if (param == KP_X)
		return dh_pregen_set_locked(key, param, data);
	return_val_if_fail(data != NULL, ERROR_INVALID_PARAMETER);
	switch (param) {
	case KP_P:
	case KP_Q:
	case KP_G:
		return dh_pregen_set_locked(key, param, data);
	case KP_ALGID: {
		ALG_ID alg;

		memcpy(&alg, data, sizeof alg);
		return agree_set_algid_locked(key, alg);
	}
	case KP_PADDING:
		memcpy(&value, data, sizeof value);
		/* Microsoft's providers know PKCS#5 padding only. */
		return value == PKCS5_PADDING ? ERROR_SUCCESS : NTE_BAD_DATA;
	case KP_MODE:
		if (!block)
			return NTE_BAD_TYPE;
		memcpy(&value, data, sizeof value);
		/* Windows also has OFB, CFB and CTS; PKCS#11 tokens have no
		 * block-size CFB or CTS to run them with, and saying so here
		 * beats failing at the first CryptEncrypt. */
		if (value == CRYPT_MODE_OFB || value == CRYPT_MODE_CFB || value == CRYPT_MODE_CTS)
			return NTE_NOT_SUPPORTED;
		if (value != CRYPT_MODE_CBC && value != CRYPT_MODE_ECB)
			return NTE_BAD_DATA;
		key->mode = value;
		memcpy(key->chain, key->iv, sizeof key->chain);
		return ERROR_SUCCESS;
	case KP_IV:
		if (!block)
			return NTE_BAD_TYPE;
		/* One block from the caller, and a new stream starts from it. */
		memcpy(key->iv, data, key->block_bits / 8);
		memcpy(key->chain, key->iv, sizeof key->chain);
		return ERROR_SUCCESS;
	case KP_PERMISSIONS:
		memcpy(&value, data, sizeof value);
		/* Adding CRYPT_EXPORT fails; clearing it is silently ignored, as
		 * on Windows (rsaenh's tests). */
		if ((value & CRYPT_EXPORT) && !(key->permissions & CRYPT_EXPORT))
			return NTE_BAD_DATA;
		/* A key-encryption key stays wrap-only: it may never encrypt or
		 * decrypt what it wrapped (the token would refuse too). */
		if (key->obj->wrap_only && (value & (CRYPT_ENCRYPT | CRYPT_DECRYPT)) &&
		    (value & (CRYPT_ENCRYPT | CRYPT_DECRYPT)) !=
			    (key->permissions & (CRYPT_ENCRYPT | CRYPT_DECRYPT)))
			return NTE_BAD_DATA;
		key->permissions = value | (key->permissions & CRYPT_EXPORT);
		return ERROR_SUCCESS;
	case KP_EFFECTIVE_KEYLEN:
		/* Settable for RC2 alone, which capi11 runs with the effective
		 * length equal to the key length (Windows' default since XP SP1);
		 * another length is not offered. */
		return NTE_BAD_TYPE;
	case KP_CERTIFICATE:
		return key_param_set_certificate(key, data);
	default:
		return NTE_BAD_TYPE;
	}
}
