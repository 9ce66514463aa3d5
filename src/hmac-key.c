/* HMAC keys as CKK_GENERIC_SECRET session objects. */
#include "config.h"
#include "hmac-key.h"
#include "blob.h"
#include "errors.h"
#include "route.h"
#include "trace.h"
#include "util.h"

#include <string.h>

bool hmac_key_requested(const BYTE *data, size_t len, DWORD flags)
{
	BLOBHEADER hdr;

	return (flags & CRYPT_IPSEC_HMAC_KEY) &&
	       blob_parse_header(data, len, &hdr) == ERROR_SUCCESS &&
	       hdr.bType == PLAINTEXTKEYBLOB && hdr.aiKeyAlg == CALG_RC2;
}

/* RFC 2104 pads a key shorter than the hash's block with zeros, so a
 * key padded with zeros up to any length within the block gives the same
 * HMAC. Tokens may want HMAC keys at least as long as the hash's output
 * (SoftHSM: CKR_KEY_SIZE_RANGE below it); capi11 pads a shorter key to
 * the longest minimum of the token's HMAC mechanisms, at most 64 bytes
 * (the smallest block, MD5's to SHA-256's), so that every inner hash
 * takes it and the value is unchanged. */
#define HMAC_SMALLEST_BLOCK 64

static size_t hmac_key_padded_len(struct token *tok, size_t len)
{
	static const CK_MECHANISM_TYPE mechs[] = {
		CKM_MD5_HMAC, CKM_SHA_1_HMAC, CKM_SHA256_HMAC, CKM_SHA384_HMAC, CKM_SHA512_HMAC,
	};
	CK_MECHANISM_INFO info;
	size_t want = len, i;

	for (i = 0; i < CAPI11_N_ELEMENTS(mechs); i++) {
		if (token_mechanism_info(tok, mechs[i], &info) == CKR_OK &&
		    info.ulMinKeySize > want && info.ulMinKeySize <= HMAC_SMALLEST_BLOCK)
			want = info.ulMinKeySize;
	}
	return want;
}

/* Whether tok runs an HMAC with keys it holds: one of the HMAC
 * mechanisms signs, and it has not refused secret-key objects. */
static bool hmac_key_token_takes(struct token *tok)
{
	static const CK_MECHANISM_TYPE mechs[] = {
		CKM_MD5_HMAC, CKM_SHA_1_HMAC, CKM_SHA256_HMAC, CKM_SHA384_HMAC, CKM_SHA512_HMAC,
	};
	CK_MECHANISM_INFO info;

	if (token_cap(tok, TOKEN_CAP_CREATE_SECRET_KEY) == TOKEN_CAP_NO)
		return false;
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(mechs); i++) {
		if (token_mechanism_info(tok, mechs[i], &info) == CKR_OK &&
		    (info.flags & CKF_SIGN))
			return true;
	}
	return false;
}

/* The HMAC key made on ts (the context's session or its companion's);
 * *rv is the token's answer to the creation. */
static DWORD hmac_key_create_on(struct context *ctx, struct tsession *ts,
				const struct blob_plaintext *plain, DWORD flags, struct key **out,
				CK_RV *rv)
{
	static const CK_KEY_TYPE generic = CKK_GENERIC_SECRET;
	CK_ATTRIBUTE tmpl[KEY_SECRET_ATTRS + KEY_PROTECT_ATTRS + 3];
	bool exportable = (flags & CRYPT_EXPORTABLE) != 0;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	BYTE padded[HMAC_SMALLEST_BLOCK];
	size_t value_len;
	CK_ULONG n, i;
	DWORD err;

	*rv = CKR_OK;
	value_len = hmac_key_padded_len(ts->tok, plain->key.len);
	memset(padded, 0, sizeof padded);
	if (value_len > plain->key.len)
		memcpy(padded, plain->key.data, plain->key.len);
	key_secret_template_locked(ctx, ts, &generic, exportable, tmpl);
	/* An HMAC key signs and verifies; it encrypts nothing. */
	for (i = 0; i < KEY_SECRET_ATTRS; i++) {
		if (tmpl[i].type == CKA_ENCRYPT || tmpl[i].type == CKA_DECRYPT)
			tmpl[i].pValue = token_bool(false);
	}
	n = KEY_SECRET_ATTRS;
	err = key_template_protect_locked(ts, tmpl, &n, false);
	if (err != ERROR_SUCCESS) {
		capi11_wipe(padded, sizeof padded);
		return err;
	}
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_SIGN, token_bool(true), sizeof(CK_BBOOL) };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_VERIFY, token_bool(true), sizeof(CK_BBOOL) };
	if (value_len > plain->key.len)
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_VALUE, padded, value_len };
	else
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_VALUE, (void *)plain->key.data, plain->key.len };
	*rv = token_create(ts, tmpl, n, &h);
	capi11_wipe(padded, sizeof padded);
	token_cap_learn(ts->tok, TOKEN_CAP_CREATE_SECRET_KEY, *rv);
	if (*rv != CKR_OK)
		return token_rv_is_refusal(*rv) ? NTE_NOT_SUPPORTED
						: error_from_ckr(*rv, ERROR_OP_IMPORT);
	err = key_adopt_on_locked(ctx, ts, h, CK_INVALID_HANDLE, CKK_GENERIC_SECRET, CALG_RC2,
				  (DWORD)plain->key.len * 8, exportable, true, out);
	if (err != ERROR_SUCCESS)
		token_destroy(ts, h);
	return err;
}

DWORD hmac_key_import_locked(struct context *ctx, const BYTE *data, size_t len, DWORD flags,
			     struct key **out)
{
	struct blob_plaintext plain;
	struct tsession *cts;
	DWORD err;
	CK_RV rv = CKR_FUNCTION_NOT_SUPPORTED;

	err = blob_parse_plaintext_long_rc2(data, len, HMAC_KEY_MAX, &plain);
	if (err != ERROR_SUCCESS)
		return err;
	/* The main token first; the companion where it holds no HMAC key (a
	 * card), as for every session key. */
	if (hmac_key_token_takes(ctx->ts.tok)) {
		err = hmac_key_create_on(ctx, &ctx->ts, &plain, flags, out, &rv);
		if (err == ERROR_SUCCESS || !token_rv_is_refusal(rv))
			return err;
	}
	if (!context_has_companion_locked(ctx))
		return route_needs_companion(ROUTE_SESSION_KEY, rv);
	err = context_companion_locked(ctx, &cts);
	if (err != ERROR_SUCCESS)
		return err;
	if (!hmac_key_token_takes(cts->tok))
		return route_needs_companion(ROUTE_SESSION_KEY, rv);
	trace_route("route: HMAC key on the companion token %s", token_label(cts->tok));
	return hmac_key_create_on(ctx, cts, &plain, flags, out, &rv);
}
