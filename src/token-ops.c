/* Objects and cryptography on a token session; see token-ops.h. */
#include "config.h"
#include "token-ops.h"
#include "objguard.h"
#include "p11call.h"
#include "token-private.h"
#include "util.h"

#include <pthread.h>
#include <string.h>

CK_BBOOL *token_bool(bool value)
{
	static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

	return value ? &yes : &no;
}

/* The store lock, on tokens that need it (QUIRK_STORE_RACE): elsewhere a
 * slow key generation on a card must not hold up every search. */
static void store_enter(struct tsession *ts)
{
	if (ts->tok->quirks->flags & QUIRK_STORE_RACE)
		pthread_mutex_lock(&ts->tok->store_lock);
}

static void store_leave(struct tsession *ts)
{
	if (ts->tok->quirks->flags & QUIRK_STORE_RACE)
		pthread_mutex_unlock(&ts->tok->store_lock);
}

/* Ends a search that a failure may have left open; its own result says
 * nothing about that failure. */
static CK_RV find_final_cleanup(struct tsession *ts)
{
	CK_RV rv;

	p11call_cleanup_begin();
	rv = p11_FindObjectsFinal(ts);
	p11call_cleanup_end();
	return rv;
}

/* Starts a search, in the token's store section (store_enter); on
 * failure the section is left and the search ended. */
static CK_RV find_begin(struct tsession *ts, CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_RV rv;

	store_enter(ts);
	rv = p11_FindObjectsInit(ts, tmpl, n);
	if (rv == CKR_OPERATION_ACTIVE) {
		/* A search whose C_FindObjectsFinal failed earlier is still open
		 * on this pooled session: end it and start again, once. */
		find_final_cleanup(ts);
		rv = p11_FindObjectsInit(ts, tmpl, n);
	}
	if (rv != CKR_OK) {
		/* SoftHSM can fail after marking the search active: end it, or the
		 * pooled session refuses every later search. */
		find_final_cleanup(ts);
		store_leave(ts);
	}
	return rv;
}

/* Ends a search find_begin started, whose calls answered rv, and leaves
 * the store section; rv, else C_FindObjectsFinal's failure. */
static CK_RV find_end(struct tsession *ts, CK_RV rv)
{
	CK_RV frv = rv == CKR_OK ? p11_FindObjectsFinal(ts) : find_final_cleanup(ts);

	store_leave(ts);
	return rv == CKR_OK ? frv : rv;
}

CK_RV token_find(struct tsession *ts, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		 CK_OBJECT_HANDLE **objs, CK_ULONG *count)
{
	CK_OBJECT_HANDLE *all = NULL, *grown;
	CK_ULONG have = 0, cap = 0, got;
	CK_RV rv;

	rv = find_begin(ts, tmpl, n);
	if (rv != CKR_OK)
		return rv;
	for (;;) {
		if (have == cap) {
			cap = cap ? cap * 2 : 16;
			grown = capi11_realloc(all, cap * sizeof *all);
			if (grown == NULL) {
				rv = CKR_HOST_MEMORY;
				break;
			}
			all = grown;
		}
		got = 0;
		rv = p11_FindObjects(ts, all + have, cap - have, &got);
		if (rv != CKR_OK || got == 0)
			break;
		/* A module that claims more than it was given room for. */
		if (got > cap - have) {
			rv = CKR_GENERAL_ERROR;
			break;
		}
		have += got;
	}
	rv = find_end(ts, rv);
	if (rv != CKR_OK) {
		capi11_free(all);
		return rv;
	}
	*objs = all;
	*count = have;
	return CKR_OK;
}

CK_RV token_find_any(struct tsession *ts, CK_ATTRIBUTE *tmpl, CK_ULONG n, bool *found)
{
	CK_OBJECT_HANDLE obj;
	CK_ULONG got = 0;
	CK_RV rv;

	*found = false;
	rv = find_begin(ts, tmpl, n);
	if (rv != CKR_OK)
		return rv;
	rv = find_end(ts, p11_FindObjects(ts, &obj, 1, &got));
	if (rv == CKR_OK)
		*found = got > 0;
	return rv;
}

CK_RV token_get_attributes(struct tsession *ts, CK_OBJECT_HANDLE obj,
			   CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_ULONG asked[16];
	CK_ULONG i;
	CK_RV rv;

	return_val_if_fail(n <= CAPI11_N_ELEMENTS(asked), CKR_ARGUMENTS_BAD);
	for (i = 0; i < n; i++)
		asked[i] = tmpl[i].ulValueLen;
	rv = objguard_enter(ts->tok, obj);
	if (rv != CKR_OK)
		return rv;
	rv = p11_GetAttributeValue(ts, obj, tmpl, n);
	objguard_leave(ts->tok, obj);
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_ATTRIBUTE_TYPE_INVALID)
		return rv;
	/* Trust no length a module reports: one larger than the buffer it was
	 * given would make a caller read past it, and an attribute it says is
	 * unavailable while answering CKR_OK (PKCS#11 requires one of the two
	 * codes above then) leaves nothing the caller could rely on. */
	for (i = 0; i < n; i++) {
		if (tmpl[i].ulValueLen == CK_UNAVAILABLE_INFORMATION) {
			if (rv == CKR_OK)
				return CKR_GENERAL_ERROR;
			continue;
		}
		if (tmpl[i].pValue != NULL && tmpl[i].ulValueLen > asked[i])
			return CKR_GENERAL_ERROR;
	}
	return CKR_OK;
}

CK_RV token_get_attribute_alloc(struct tsession *ts, CK_OBJECT_HANDLE obj,
				CK_ATTRIBUTE_TYPE type, void **value, CK_ULONG *len)
{
	CK_ATTRIBUTE attr = { type, NULL, 0 };
	CK_ULONG size;
	CK_RV rv;

	rv = objguard_enter(ts->tok, obj);
	if (rv != CKR_OK)
		return rv;
	rv = p11_GetAttributeValue(ts, obj, &attr, 1);
	objguard_leave(ts->tok, obj);
	if (rv != CKR_OK)
		return rv;
	/* CKR_OK with no length: a module contradicting itself. */
	if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return CKR_GENERAL_ERROR;
	/* Bounded: no key attribute capi11 reads is anywhere near this. */
	if (attr.ulValueLen > 64 * 1024)
		return CKR_GENERAL_ERROR;
	size = attr.ulValueLen ? attr.ulValueLen : 1;
	attr.pValue = capi11_malloc(size);
	if (attr.pValue == NULL)
		return CKR_HOST_MEMORY;
	rv = token_get_attributes(ts, obj, &attr, 1);
	if (rv == CKR_OK && attr.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		rv = CKR_ATTRIBUTE_SENSITIVE;
	if (rv != CKR_OK) {
		/* A module may have filled the buffer before failing (a length
		 * past it, say), and the value may be a key's. */
		capi11_free_secret(attr.pValue, size);
		return rv;
	}
	*value = attr.pValue;
	*len = attr.ulValueLen;
	return CKR_OK;
}

CK_RV token_get_bool(struct tsession *ts, CK_OBJECT_HANDLE obj,
		     CK_ATTRIBUTE_TYPE type, bool *value)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE attr = { type, &b, sizeof b };
	CK_RV rv = token_get_attributes(ts, obj, &attr, 1);

	if (rv != CKR_OK)
		return rv;
	/* A value the token hides or lacks leaves the caller's default, which
	 * each caller picks to fail safe (not extractable, sensitive). */
	if (attr.ulValueLen == sizeof b)
		*value = b == CK_TRUE;
	return CKR_OK;
}

CK_RV token_create(struct tsession *ts, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		   CK_OBJECT_HANDLE *obj)
{
	CK_RV rv;

	store_enter(ts);
	rv = p11_CreateObject(ts, tmpl, n, obj);
	store_leave(ts);
	return rv;
}

CK_RV token_set_attributes(struct tsession *ts, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *tmpl,
			   CK_ULONG n)
{
	CK_RV rv;

	rv = objguard_enter(ts->tok, obj);
	if (rv != CKR_OK)
		return rv;
	rv = p11_SetAttributeValue(ts, obj, tmpl, n);
	objguard_leave(ts->tok, obj);
	return rv;
}

CK_RV token_destroy(struct tsession *ts, CK_OBJECT_HANDLE obj)
{
	CK_RV rv;

	/* Not while another thread's call uses it (objguard.h). */
	objguard_destroy_begin(ts->tok, obj);
	store_enter(ts);
	rv = p11_DestroyObject(ts, obj);
	store_leave(ts);
	objguard_destroy_end(ts->tok, obj);
	return rv;
}

CK_RV token_generate_key(struct tsession *ts, CK_MECHANISM_TYPE mech,
			 CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *key)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_RV rv;

	store_enter(ts);
	rv = p11_GenerateKey(ts, &m, tmpl, n, key);
	store_leave(ts);
	return rv;
}

CK_RV token_generate_key_pair(struct tsession *ts, CK_MECHANISM_TYPE mech,
			      CK_ATTRIBUTE *pub, CK_ULONG n_pub, CK_ATTRIBUTE *priv, CK_ULONG n_priv,
			      CK_OBJECT_HANDLE *pub_key, CK_OBJECT_HANDLE *priv_key)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_RV rv;

	store_enter(ts);
	rv = p11_GenerateKeyPair(ts, &m, pub, n_pub, priv, n_priv, pub_key, priv_key);
	store_leave(ts);
	return rv;
}

CK_RV token_derive_key(struct tsession *ts, CK_MECHANISM *mech, CK_OBJECT_HANDLE base,
		       CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *key)
{
	CK_RV rv;

	store_enter(ts);
	rv = p11_DeriveKey(ts, mech, base, tmpl, n, key);
	store_leave(ts);
	return rv;
}

CK_RV token_random(struct tsession *ts, unsigned char *buf, size_t len)
{
	return p11_GenerateRandom(ts, buf, len);
}

CK_RV token_digest(struct tsession *ts, CK_MECHANISM_TYPE mech,
		   const unsigned char *in, CK_ULONG in_len, unsigned char *out, CK_ULONG *out_len)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_RV rv;

	rv = p11_DigestInit(ts, &m);
	if (rv != CKR_OK)
		return rv;
	return p11_Digest(ts, (unsigned char *)in, in_len, out, out_len);
}

CK_RV token_wrap_key(struct tsession *ts, CK_MECHANISM *mech,
		     CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key, unsigned char *out,
		     CK_ULONG *out_len)
{
	CK_RV rv;

	rv = objguard_enter(ts->tok, wrapping);
	if (rv != CKR_OK)
		return rv;
	rv = objguard_enter(ts->tok, key);
	if (rv == CKR_OK) {
		rv = p11_WrapKey(ts, mech, wrapping, key, out, out_len);
		objguard_leave(ts->tok, key);
	}
	objguard_leave(ts->tok, wrapping);
	return rv;
}

CK_RV token_unwrap_key(struct tsession *ts, CK_MECHANISM *mech,
		       CK_OBJECT_HANDLE unwrapping, const unsigned char *wrapped,
		       CK_ULONG wrapped_len, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		       CK_OBJECT_HANDLE *key)
{
	CK_RV rv;

	rv = objguard_enter(ts->tok, unwrapping);
	if (rv != CKR_OK)
		return rv;
	store_enter(ts);
	rv = p11_UnwrapKey(ts, mech, unwrapping, (unsigned char *)wrapped, wrapped_len, tmpl, n,
			   key);
	store_leave(ts);
	objguard_leave(ts->tok, unwrapping);
	return rv;
}

/* The ...Init and one-shot call of an encryption or decryption, so that
 * no operation stays active on the session between CryptoAPI calls (a
 * session outlives its context in the pool). A failed one-shot call ends
 * the operation by PKCS#11's rules, but a module that breaks them would
 * poison the session for good: a second, empty call with the same buffer
 * ends it either way, and its result is of no interest. The key must
 * outlive the one-shot call, not only the ...Init: SoftHSM 2.6.1 crashes
 * in C_Decrypt on a key destroyed in between. */
static CK_RV crypt_once(struct tsession *ts, bool encrypt, CK_MECHANISM *mech,
			CK_OBJECT_HANDLE key, const unsigned char *in, CK_ULONG in_len,
			unsigned char *out, CK_ULONG *out_len)
{
	CK_RV (*init)(struct tsession *, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) =
		encrypt ? p11_EncryptInit : p11_DecryptInit;
	CK_RV (*once)(struct tsession *, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) =
		encrypt ? p11_Encrypt : p11_Decrypt;
	CK_ULONG room = *out_len;
	CK_RV rv;

	rv = objguard_enter(ts->tok, key);
	if (rv != CKR_OK)
		return rv;
	rv = init(ts, mech, key);
	if (rv == CKR_OK) {
		rv = once(ts, (unsigned char *)in, in_len, out, out_len);
		if (rv != CKR_OK) {
			p11call_cleanup_begin();
			once(ts, (unsigned char *)in, 0, out, &room);
			p11call_cleanup_end();
		}
	}
	objguard_leave(ts->tok, key);
	return rv;
}

CK_RV token_encrypt(struct tsession *ts, CK_MECHANISM *mech,
		    CK_OBJECT_HANDLE key, const unsigned char *in, CK_ULONG in_len,
		    unsigned char *out, CK_ULONG *out_len)
{
	return crypt_once(ts, true, mech, key, in, in_len, out, out_len);
}

CK_RV token_decrypt(struct tsession *ts, CK_MECHANISM *mech,
		    CK_OBJECT_HANDLE key, const unsigned char *in, CK_ULONG in_len,
		    unsigned char *out, CK_ULONG *out_len)
{
	return crypt_once(ts, false, mech, key, in, in_len, out, out_len);
}
