/* Digests, keyed digests and signatures on a token session. */
#include "config.h"
#include "token-sign.h"
#include "objguard.h"
#include "p11call.h"
#include "util.h"

#include <limits.h>

/* Callers pass DWORD lengths; a CK_ULONG is at least as wide on every
 * platform capi11 builds for (LP64, and 32-bit long on ILP32). */
_Static_assert(sizeof(CK_ULONG) >= 4, "CK_ULONG holds a DWORD");

CK_RV token_digest_init(struct tsession *ts, CK_MECHANISM_TYPE mech)
{
	CK_MECHANISM m = { mech, NULL, 0 };

	return p11_DigestInit(ts, &m);
}

CK_RV token_digest_update(struct tsession *ts, const unsigned char *in, size_t in_len)
{
	return p11_DigestUpdate(ts, (unsigned char *)in, (CK_ULONG)in_len);
}

CK_RV token_digest_key(struct tsession *ts, CK_OBJECT_HANDLE key)
{
	CK_RV rv = objguard_enter(ts->tok, key);

	if (rv != CKR_OK)
		return rv;
	rv = p11_DigestKey(ts, key);
	objguard_leave(ts->tok, key);
	return rv;
}

CK_RV token_digest_final(struct tsession *ts, unsigned char *out, CK_ULONG *out_len)
{
	return p11_DigestFinal(ts, out, out_len);
}

CK_RV token_mac_init(struct tsession *ts, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_RV rv = objguard_enter(ts->tok, key);

	if (rv != CKR_OK)
		return rv;
	rv = p11_SignInit(ts, &m, key);
	objguard_leave(ts->tok, key);
	return rv;
}

CK_RV token_mac_update(struct tsession *ts, const unsigned char *in, size_t in_len)
{
	return p11_SignUpdate(ts, (unsigned char *)in, (CK_ULONG)in_len);
}

CK_RV token_mac_final(struct tsession *ts, unsigned char *out, CK_ULONG *out_len)
{
	return p11_SignFinal(ts, out, out_len);
}

CK_RV token_cbc_init(struct tsession *ts, CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
	CK_RV rv = objguard_enter(ts->tok, key);

	if (rv != CKR_OK)
		return rv;
	rv = p11_EncryptInit(ts, mech, key);
	objguard_leave(ts->tok, key);
	return rv;
}

CK_RV token_cbc_update(struct tsession *ts, const unsigned char *in, CK_ULONG in_len,
		       unsigned char *out)
{
	CK_ULONG out_len = in_len;
	CK_RV rv = p11_EncryptUpdate(ts, (unsigned char *)in, in_len, out, &out_len);

	/* Whole blocks in, as many out: anything else is a module that
	 * contradicts itself. */
	if (rv == CKR_OK && out_len != in_len)
		rv = CKR_GENERAL_ERROR;
	return rv;
}

CK_RV token_cbc_final(struct tsession *ts)
{
	unsigned char rest[TOKEN_DIGEST_MAX];
	CK_ULONG len = sizeof rest;

	return p11_EncryptFinal(ts, rest, &len);
}

void token_operation_cancel(struct tsession *ts, enum token_op op)
{
	unsigned char scratch[TOKEN_DIGEST_MAX];
	CK_ULONG len = sizeof scratch;

	if (ts->handle == CK_INVALID_HANDLE || op == TOKEN_OP_NONE)
		return;
	/* PKCS#11 2.40 has no cancel: a final call into a buffer large enough
	 * ends the operation. The value is thrown away. */
	p11call_cleanup_begin();
	if (op == TOKEN_OP_DIGEST)
		p11_DigestFinal(ts, scratch, &len);
	else if (op == TOKEN_OP_SIGN)
		p11_SignFinal(ts, scratch, &len);
	else
		p11_EncryptFinal(ts, scratch, &len);
	p11call_cleanup_end();
	capi11_wipe(scratch, sizeof scratch);
}

CK_RV token_operation_state_get(struct tsession *ts, unsigned char **state, CK_ULONG *len)
{
	unsigned char *buf;
	CK_ULONG n = 0, size;
	CK_RV rv;

	*state = NULL;
	*len = 0;
	rv = p11_GetOperationState(ts, NULL, &n);
	if (rv != CKR_OK)
		return rv;
	if (n == 0 || n > (CK_ULONG)INT_MAX)
		return CKR_GENERAL_ERROR;
	size = n;
	buf = capi11_malloc(size);
	if (buf == NULL)
		return CKR_HOST_MEMORY;
	rv = p11_GetOperationState(ts, buf, &n);
	/* The length the module reports now is not trusted past the buffer
	 * it was given: the state is wiped and freed by what was allocated. */
	if (rv == CKR_OK && (n == 0 || n > size))
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK) {
		capi11_free_secret(buf, size);
		return rv;
	}
	*state = buf;
	*len = n;
	return CKR_OK;
}

CK_RV token_operation_state_set(struct tsession *ts, const unsigned char *state, CK_ULONG len)
{
	return p11_SetOperationState(ts, (unsigned char *)state, len, CK_INVALID_HANDLE,
				     CK_INVALID_HANDLE);
}

/* C_SignInit, the context-specific login when reauth, C_Sign. */
static CK_RV sign_once(struct tsession *ts, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
		       bool reauth, const char *pin, size_t pin_len, const unsigned char *in,
		       CK_ULONG in_len, unsigned char *out, CK_ULONG *out_len)
{
	CK_RV rv = objguard_enter(ts->tok, key);

	if (rv != CKR_OK)
		return rv;
	rv = p11_SignInit(ts, mech, key);
	if (rv == CKR_OK && reauth) {
		rv = p11_Login(ts, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)pin_len);
		if (rv != CKR_OK) {
			/* The operation is still active: a C_Sign ends it (the
			 * token refuses it unauthenticated, which is all that is
			 * wanted here). */
			CK_ULONG room = *out_len;

			p11call_cleanup_begin();
			p11_Sign(ts, (unsigned char *)in, in_len, out, &room);
			p11call_cleanup_end();
			objguard_leave(ts->tok, key);
			return rv;
		}
	}
	if (rv == CKR_OK) {
		CK_ULONG room = *out_len;

		rv = p11_Sign(ts, (unsigned char *)in, in_len, out, out_len);
		/* A failed C_Sign ends the operation by PKCS#11's rules; a
		 * second call ends it for a module that breaks them, so that a
		 * pooled session is never left with one active (token-ops.c
		 * does the same for encryption). */
		if (rv != CKR_OK) {
			p11call_cleanup_begin();
			p11_Sign(ts, (unsigned char *)in, in_len, out, &room);
			p11call_cleanup_end();
		}
	}
	objguard_leave(ts->tok, key);
	return rv;
}

CK_RV token_sign(struct tsession *ts, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
		 const unsigned char *in, CK_ULONG in_len, unsigned char *out, CK_ULONG *out_len)
{
	return sign_once(ts, mech, key, false, NULL, 0, in, in_len, out, out_len);
}

CK_RV token_sign_reauth(struct tsession *ts, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
			const char *pin, size_t pin_len, const unsigned char *in, CK_ULONG in_len,
			unsigned char *out, CK_ULONG *out_len)
{
	return sign_once(ts, mech, key, true, pin, pin_len, in, in_len, out, out_len);
}

CK_RV token_verify(struct tsession *ts, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
		   const unsigned char *in, CK_ULONG in_len, const unsigned char *sig,
		   CK_ULONG sig_len)
{
	CK_RV rv = objguard_enter(ts->tok, key);

	if (rv != CKR_OK)
		return rv;
	/* C_Verify ends the operation whatever it answers. */
	rv = p11_VerifyInit(ts, mech, key);
	if (rv == CKR_OK) {
		rv = p11_Verify(ts, (unsigned char *)in, in_len, (unsigned char *)sig, sig_len);
		if (rv != CKR_OK && rv != CKR_SIGNATURE_INVALID && rv != CKR_SIGNATURE_LEN_RANGE) {
			p11call_cleanup_begin();
			p11_Verify(ts, (unsigned char *)in, in_len, (unsigned char *)sig, sig_len);
			p11call_cleanup_end();
		}
	}
	objguard_leave(ts->tok, key);
	return rv;
}

CK_RV token_digest_once(struct tsession *ts, CK_MECHANISM_TYPE mech, const unsigned char *in,
			CK_ULONG in_len, unsigned char *out, CK_ULONG *out_len)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_ULONG room = *out_len;
	CK_RV rv;

	rv = p11_DigestInit(ts, &m);
	if (rv != CKR_OK)
		return rv;
	rv = p11_Digest(ts, (unsigned char *)in, in_len, out, out_len);
	if (rv != CKR_OK) {
		p11call_cleanup_begin();
		p11_Digest(ts, (unsigned char *)in, in_len, out, &room);
		p11call_cleanup_end();
	}
	return rv;
}
