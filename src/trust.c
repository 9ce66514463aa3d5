/* Key protection that the token enforces (SPEC section 3).
 *
 * A library cannot know which keys its caller knows, so capi11 does not
 * judge wrapping keys itself. Every sensitive, extractable key it makes or
 * imports carries CKA_WRAP_WITH_TRUSTED, and the token then refuses to wrap
 * it under any key without CKA_TRUSTED, which only the security officer
 * can set. This file learns whether a token enforces that, checks a wrap
 * before the token does (so that a size query answers as the export
 * would), and makes the trusted objects in the operator's SO-authenticated
 * step: key-encryption keys and partners' public keys. */
#include "config.h"
#include "trust.h"
#include "alg.h"
#include "blob.h"
#include "errors.h"
#include "trace.h"
#include "util.h"

#include <string.h>

/* ---- What the token does with CKA_WRAP_WITH_TRUSTED ---------------------- */

/* A throwaway 16-byte AES session key on the scratch session s, for the
 * probes below: extractable; guarded: sensitive and wrap-with-trusted
 * (the kind whose wraps the token must guard), else neither and able to
 * wrap. Public keys need no login. */
static CK_RV throwaway_aes(struct tsession *s, bool private, bool guarded, CK_OBJECT_HANDLE *h)
{
	static const CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	static const CK_KEY_TYPE aes = CKK_AES;
	static const CK_ULONG len = 16;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&cls, sizeof cls },
		{ CKA_KEY_TYPE, (void *)&aes, sizeof aes },
		{ CKA_VALUE_LEN, (void *)&len, sizeof len },
		{ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_PRIVATE, token_bool(private), sizeof(CK_BBOOL) },
		{ CKA_EXTRACTABLE, token_bool(true), sizeof(CK_BBOOL) },
		{ CKA_WRAP, token_bool(!guarded), sizeof(CK_BBOOL) },
		{ CKA_SENSITIVE, token_bool(guarded), sizeof(CK_BBOOL) },
		{ CKA_WRAP_WITH_TRUSTED, token_bool(true), sizeof(CK_BBOOL) },
	};

	/* The last attribute, CKA_WRAP_WITH_TRUSTED, for guarded keys only. */
	return token_generate_key(s, CKM_AES_KEY_GEN, tmpl,
				  CAPI11_N_ELEMENTS(tmpl) - (guarded ? 0 : 1), h);
}

/* Makes a key that must be wrapped only under trusted keys and tries to
 * wrap it under an untrusted one. Only a definite answer is kept: a
 * failure of the token itself is returned, to be asked again next time.
 * The probe works on a session of its own, whose closing takes both keys
 * along: nothing is left on the token, whatever call fails. */
static CK_RV probe_wrap_trust(struct token *tok, enum token_wrap_trust *state)
{
	CK_OBJECT_HANDLE key = CK_INVALID_HANDLE, wrapping = CK_INVALID_HANDLE;
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP, NULL, 0 };
	struct tsession s;
	BYTE out[32];
	CK_ULONG out_len = sizeof out;
	CK_MECHANISM_INFO info;
	bool can_wrap;
	CK_RV rv;

	/* Without AES keys capi11 has nothing to try; sensitive keys then do
	 * not leave. */
	if (token_mechanism_info(tok, CKM_AES_KEY_GEN, &info) != CKR_OK) {
		*state = TOKEN_WRAP_TRUST_IGNORED;
		return CKR_OK;
	}
	can_wrap = token_mechanism_info(tok, CKM_AES_KEY_WRAP, &info) == CKR_OK &&
		   (info.flags & CKF_WRAP);
	rv = tsession_scratch_open(tok, &s);
	if (rv != CKR_OK)
		return rv;
	/* A token that does not know the attribute refuses every template
	 * with it (openCryptoki 3.8: CKR_ATTRIBUTE_TYPE_INVALID), with or
	 * without an AES key wrap to enforce it on. */
	rv = throwaway_aes(&s, false, true, &key);
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_TEMPLATE_INCONSISTENT ||
	    rv == CKR_ATTRIBUTE_VALUE_INVALID) {
		*state = TOKEN_WRAP_TRUST_UNSUPPORTED;
		rv = CKR_OK;
		goto out;
	}
	/* Without an AES key wrap nothing can be enforced that capi11 could
	 * try; sensitive keys then do not leave. */
	if (rv == CKR_OK && !can_wrap) {
		*state = TOKEN_WRAP_TRUST_IGNORED;
		goto out;
	}
	if (rv == CKR_OK)
		rv = throwaway_aes(&s, false, false, &wrapping);
	if (rv == CKR_OK) {
		rv = token_wrap_key(&s, &mech, wrapping, key, out, &out_len);
		if (rv == CKR_OK) {
			*state = TOKEN_WRAP_TRUST_IGNORED;
		} else if (rv == CKR_KEY_NOT_WRAPPABLE || rv == CKR_KEY_UNEXTRACTABLE ||
			   rv == CKR_WRAPPING_KEY_TYPE_INCONSISTENT) {
			*state = TOKEN_WRAP_TRUST_ENFORCED;
			rv = CKR_OK;
		} else if (rv == CKR_MECHANISM_INVALID) {
			/* The AES key wrap is advertised but refused at use: as
			 * without it. */
			*state = TOKEN_WRAP_TRUST_IGNORED;
			rv = CKR_OK;
		}
	}
out:
	capi11_wipe(out, sizeof out);
	tsession_scratch_close(&s);
	return rv;
}

DWORD trust_wrap_state_locked(struct context *ctx, enum token_wrap_trust *state)
{
	return trust_wrap_state_on(ctx->ts.tok, state);
}

DWORD trust_wrap_state_on(struct token *tok, enum token_wrap_trust *state)
{
	CK_RV rv;

	*state = token_wrap_trust(tok);
	if (*state != TOKEN_WRAP_TRUST_UNKNOWN)
		return ERROR_SUCCESS;
	rv = probe_wrap_trust(tok, state);
	if (rv != CKR_OK) {
		*state = TOKEN_WRAP_TRUST_UNKNOWN;
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	}
	trace_message("token %s: CKA_WRAP_WITH_TRUSTED %s", token_label(tok),
		  *state == TOKEN_WRAP_TRUST_ENFORCED ? "enforced" :
		  *state == TOKEN_WRAP_TRUST_IGNORED ? "not enforced: sensitive keys stay"
						     : "unknown to the token: sensitive keys stay");
	token_set_wrap_trust(tok, *state);
	return ERROR_SUCCESS;
}

DWORD trust_template_add_locked(struct tsession *ts, bool sensitive, bool extractable,
				CK_ATTRIBUTE *tmpl, CK_ULONG *n)
{
	enum token_wrap_trust state;
	DWORD err;

	/* A key that cannot leave, or that leaves as plaintext anyway, needs
	 * no guard on its wraps. */
	if (!sensitive || !extractable)
		return ERROR_SUCCESS;
	err = trust_wrap_state_on(ts->tok, &state);
	if (err != ERROR_SUCCESS)
		return err;
	if (state != TOKEN_WRAP_TRUST_UNSUPPORTED)
		tmpl[(*n)++] = (CK_ATTRIBUTE){ CKA_WRAP_WITH_TRUSTED, token_bool(true),
					       sizeof(CK_BBOOL) };
	return ERROR_SUCCESS;
}

DWORD trust_check_wrap_locked(struct tsession *ts, CK_OBJECT_HANDLE key, CK_OBJECT_HANDLE wrapping)
{
	CK_BBOOL wwt = CK_FALSE, trusted = CK_FALSE;
	CK_ATTRIBUTE a = { CKA_WRAP_WITH_TRUSTED, &wwt, sizeof wwt };
	CK_ATTRIBUTE b = { CKA_TRUSTED, &trusted, sizeof trusted };
	enum token_wrap_trust state;
	DWORD err;
	CK_RV rv;

	err = trust_wrap_state_on(ts->tok, &state);
	if (err != ERROR_SUCCESS)
		return err;
	/* A token that would wrap the key under anything keeps it. */
	if (state != TOKEN_WRAP_TRUST_ENFORCED)
		return NTE_BAD_KEY_STATE;
	rv = token_get_attributes(ts, key, &a, 1);
	if (rv == CKR_OK)
		rv = token_get_attributes(ts, wrapping, &b, 1);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	/* A sensitive key without the attribute (made by another tool) would
	 * be wrapped under any key the caller knows: it stays. */
	if (a.ulValueLen != sizeof wwt || wwt != CK_TRUE)
		return NTE_BAD_KEY_STATE;
	if (b.ulValueLen != sizeof trusted || trusted != CK_TRUE)
		return NTE_BAD_KEY_STATE;
	return ERROR_SUCCESS;
}

/* ---- Trusted objects ----------------------------------------------------- */

CK_RV trust_find_public(struct context *ctx, const BYTE *modulus, size_t mod_len, const BYTE *e,
			size_t e_len, CK_OBJECT_HANDLE *obj)
{
	static const CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	static const CK_KEY_TYPE rsa = CKK_RSA;
	CK_OBJECT_HANDLE *objs = NULL;
	CK_ULONG count = 0;
	size_t mod_skip = mod_len - bn_be_len(modulus, mod_len);
	size_t e_skip = e_len - bn_be_len(e, e_len);
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&cls, sizeof cls },
		{ CKA_KEY_TYPE, (void *)&rsa, sizeof rsa },
		{ CKA_TRUSTED, token_bool(true), sizeof(CK_BBOOL) },
		{ CKA_WRAP, token_bool(true), sizeof(CK_BBOOL) },
		/* Trusted keys are stored without leading zero bytes. */
		{ CKA_MODULUS, (void *)(modulus + mod_skip), mod_len - mod_skip },
		{ CKA_PUBLIC_EXPONENT, (void *)(e + e_skip), e_len - e_skip },
	};
	CK_RV rv;

	*obj = CK_INVALID_HANDLE;
	rv = token_find(&ctx->ts, tmpl, CAPI11_N_ELEMENTS(tmpl), &objs, &count);
	if (rv == CKR_OK && count > 0)
		*obj = objs[0];
	capi11_free(objs);
	/* A token that cannot search by CKA_TRUSTED has no trusted keys. */
	return rv == CKR_ATTRIBUTE_TYPE_INVALID ? CKR_OK : rv;
}

/* The container's trusted key-encryption keys, lowest CKA_ID first when
 * there are several (two operators' steps), so that every process picks
 * the same one. */
static CK_RV trust_find_kek(struct context *ctx, CK_OBJECT_HANDLE *obj)
{
	static const CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_OBJECT_HANDLE *objs = NULL;
	CK_ULONG count = 0, i;
	BYTE best[64], id[64];
	CK_ULONG best_len = 0;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&cls, sizeof cls },
		{ CKA_LABEL, ctx->container, strlen(ctx->container) },
		{ CKA_TRUSTED, token_bool(true), sizeof(CK_BBOOL) },
		{ CKA_WRAP, token_bool(true), sizeof(CK_BBOOL) },
		/* Wrap-only and unchangeable, as Capi11TrustKeyA makes it: a
		 * trusted key that could decrypt, or be made to, would undo
		 * every wrap made under it. */
		{ CKA_ENCRYPT, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_DECRYPT, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_MODIFIABLE, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_COPYABLE, token_bool(false), sizeof(CK_BBOOL) },
	};
	CK_RV rv;

	*obj = CK_INVALID_HANDLE;
	rv = token_find(&ctx->ts, tmpl, CAPI11_N_ELEMENTS(tmpl), &objs, &count);
	for (i = 0; rv == CKR_OK && i < count; i++) {
		CK_ATTRIBUTE a = { CKA_ID, id, sizeof id };

		rv = token_get_attributes(&ctx->ts, objs[i], &a, 1);
		if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
			a.ulValueLen = 0;
		if (*obj == CK_INVALID_HANDLE ||
		    memcmp(id, best, a.ulValueLen < best_len ? a.ulValueLen : best_len) < 0 ||
		    (a.ulValueLen < best_len && memcmp(id, best, a.ulValueLen) == 0)) {
			*obj = objs[i];
			memcpy(best, id, a.ulValueLen);
			best_len = a.ulValueLen;
		}
	}
	if (count > 1)
		trace_message("container %s holds %lu trusted key-encryption keys: using the "
			  "one with the lowest CKA_ID", ctx->container, (unsigned long)count);
	capi11_free(objs);
	return rv == CKR_ATTRIBUTE_TYPE_INVALID ? CKR_OK : rv;
}

/* The ALG_ID of an AES key of len bytes. */
static ALG_ID aes_alg(CK_ULONG len)
{
	return len == 16 ? CALG_AES_128 : len == 24 ? CALG_AES_192 : len == 32 ? CALG_AES_256 : 0;
}

DWORD trust_get_kek_locked(struct context *ctx, struct key **out)
{
	CK_OBJECT_HANDLE h;
	CK_KEY_TYPE type = CKK_VENDOR_DEFINED;
	CK_ULONG len = 0;
	CK_ATTRIBUTE a[] = {
		{ CKA_KEY_TYPE, &type, sizeof type },
		{ CKA_VALUE_LEN, &len, sizeof len },
	};
	ALG_ID alg;
	DWORD err;
	CK_RV rv;

	if (ctx->verify)
		return NTE_NO_KEY;
	/* Private copies show only after login. */
	err = context_login_locked(ctx, true);
	if (err != ERROR_SUCCESS && err != NTE_SILENT_CONTEXT)
		return err;
	rv = trust_find_kek(ctx, &h);
	if (rv == CKR_OK && h != CK_INVALID_HANDLE)
		rv = token_get_attributes(&ctx->ts, h, a, CAPI11_N_ELEMENTS(a));
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	if (h == CK_INVALID_HANDLE)
		return NTE_NO_KEY;
	alg = type == CKK_AES ? aes_alg(len) : 0;
	if (alg == 0)
		return NTE_NO_KEY;
	err = key_adopt_locked(ctx, h, CK_INVALID_HANDLE, CKK_AES, alg, (DWORD)len * 8, false, false,
			       out);
	if (err == ERROR_SUCCESS)
		key_mark_wrap_only(*out);
	return err;
}

/* ---- The operator's step ------------------------------------------------- */

/* What a trusted object is made from: an AES key-encryption key or an RSA
 * public key, in PKCS#11's byte order. */
struct trust_plan {
	BLOBHEADER hdr;
	CK_OBJECT_CLASS cls;
	CK_KEY_TYPE type;
	BYTE id[16];
	const BYTE *value;            /* AES: the key bytes in the blob */
	size_t value_len;
	BYTE *modulus;                /* RSA: big-endian, no leading zeros */
	size_t mod_len;
	BYTE exponent[4];
	size_t e_len;
	ALG_ID alg;
	DWORD bits;
};

static void trust_plan_clear(struct trust_plan *p)
{
	capi11_free(p->modulus);
	memset(p, 0, sizeof *p);
}

static DWORD trust_plan_parse(const BYTE *data, size_t len, struct trust_plan *p)
{
	DWORD err;

	memset(p, 0, sizeof *p);
	err = blob_parse_header(data, len, &p->hdr);
	if (err != ERROR_SUCCESS)
		return err;
	if (p->hdr.bType == PLAINTEXTKEYBLOB) {
		struct blob_plaintext plain;

		err = blob_parse_plaintext(data, len, &plain);
		if (err != ERROR_SUCCESS)
			return err;
		if (!alg_is_aes(plain.alg))
			return NTE_BAD_ALGID;
		p->cls = CKO_SECRET_KEY;
		p->type = CKK_AES;
		p->value = plain.key.data;
		p->value_len = plain.key.len;
		p->alg = plain.alg;
		p->bits = (DWORD)plain.key.len * 8;
		return ERROR_SUCCESS;
	}
	if (p->hdr.bType == PUBLICKEYBLOB) {
		struct blob_rsa rsa;
		size_t k, skip;

		err = blob_parse_rsa_public(data, len, &rsa);
		if (err != ERROR_SUCCESS)
			return err;
		k = rsa.modulus.len;
		p->modulus = capi11_malloc(k);
		if (p->modulus == NULL)
			return NTE_NO_MEMORY;
		if (!bn_le_to_be(rsa.modulus.data, rsa.modulus.len, p->modulus, k))
			return NTE_BAD_DATA;
		skip = k - bn_be_len(p->modulus, k);
		memmove(p->modulus, p->modulus + skip, k - skip);
		p->mod_len = k - skip;
		/* Only an odd modulus of the declared size with an odd exponent of
		 * at least 3 is an RSA key anyone could hold the private half of. */
		if (p->mod_len * 8 < rsa.bitlen - 7 || (p->modulus[p->mod_len - 1] & 1) == 0 ||
		    rsa.pubexp < 3 || (rsa.pubexp & 1) == 0)
			return NTE_BAD_DATA;
		p->e_len = bn_dword_to_be(rsa.pubexp, p->exponent);
		p->cls = CKO_PUBLIC_KEY;
		p->type = CKK_RSA;
		p->alg = CALG_RSA_KEYX;
		p->bits = rsa.bitlen;
		return ERROR_SUCCESS;
	}
	return NTE_BAD_TYPE;
}

/* The trusted object's template: a public token object (the security
 * officer may make no other), in the container, wrap-only, that nobody
 * can change or copy (CKA_MODIFIABLE, CKA_COPYABLE FALSE): a copy would be
 * trusted too, and could be given CKA_DECRYPT. A KEK is sensitive and
 * never extractable, so that no copy of it can decrypt what it wraps. Its
 * unwrap template makes what it unwraps sensitive, wrap-with-trusted and
 * private, and its wrap template takes private keys only: public as it
 * is, it works only for a process that holds the user's PIN.
 * trust_check_kek confirms the token enforces all of it. */
static CK_ULONG trust_template(struct context *ctx, struct trust_plan *p, CK_ATTRIBUTE *t)
{
	static CK_ATTRIBUTE unwrapped[] = {
		{ CKA_SENSITIVE, NULL, sizeof(CK_BBOOL) },
		{ CKA_WRAP_WITH_TRUSTED, NULL, sizeof(CK_BBOOL) },
		{ CKA_PRIVATE, NULL, sizeof(CK_BBOOL) },
	};
	static CK_ATTRIBUTE wrapped[] = {
		{ CKA_PRIVATE, NULL, sizeof(CK_BBOOL) },
	};
	static const CK_MECHANISM_TYPE kek_mechs[] = { CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD };
	CK_ULONG n = 0;

	unwrapped[0].pValue = token_bool(true);
	unwrapped[1].pValue = token_bool(true);
	unwrapped[2].pValue = token_bool(true);
	wrapped[0].pValue = token_bool(true);
	t[n++] = (CK_ATTRIBUTE){ CKA_CLASS, &p->cls, sizeof p->cls };
	t[n++] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, &p->type, sizeof p->type };
	t[n++] = (CK_ATTRIBUTE){ CKA_TOKEN, token_bool(true), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_PRIVATE, token_bool(false), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_MODIFIABLE, token_bool(false), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_COPYABLE, token_bool(false), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_LABEL, ctx->container, strlen(ctx->container) };
	t[n++] = (CK_ATTRIBUTE){ CKA_ID, p->id, sizeof p->id };
	t[n++] = (CK_ATTRIBUTE){ CKA_TRUSTED, token_bool(true), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_WRAP, token_bool(true), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_ENCRYPT, token_bool(p->cls == CKO_PUBLIC_KEY),
				 sizeof(CK_BBOOL) };
	if (p->cls == CKO_PUBLIC_KEY) {
		t[n++] = (CK_ATTRIBUTE){ CKA_VERIFY, token_bool(false), sizeof(CK_BBOOL) };
		t[n++] = (CK_ATTRIBUTE){ CKA_MODULUS, p->modulus, p->mod_len };
		t[n++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, p->exponent, p->e_len };
		return n;
	}
	t[n++] = (CK_ATTRIBUTE){ CKA_UNWRAP, token_bool(true), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_DECRYPT, token_bool(false), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_SIGN, token_bool(false), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_VERIFY, token_bool(false), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_SENSITIVE, token_bool(true), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, token_bool(false), sizeof(CK_BBOOL) };
	t[n++] = (CK_ATTRIBUTE){ CKA_VALUE, (void *)p->value, p->value_len };
	t[n++] = (CK_ATTRIBUTE){ CKA_UNWRAP_TEMPLATE, unwrapped, sizeof unwrapped };
	/* It wraps only private keys, so only for a process that holds the
	 * user's PIN (else anyone could wrap a key of their choosing into a
	 * blob it would accept), and only with the AES key wraps (else
	 * CKM_AES_CBC would make it an encryption oracle). */
	t[n++] = (CK_ATTRIBUTE){ CKA_WRAP_TEMPLATE, wrapped, sizeof wrapped };
	t[n++] = (CK_ATTRIBUTE){ CKA_ALLOWED_MECHANISMS, (void *)kek_mechs, sizeof kek_mechs };
	return n;
}

/* Creates the trusted object as the security officer and logs out again.
 * A token that refuses any attribute of the template (no unwrap template,
 * no CKA_COPYABLE) gets no trusted key: a trusted key it could copy, or
 * that unwraps readable keys for anyone, would be a way around the
 * protection it is for (NTE_NOT_SUPPORTED). */
static DWORD trust_create_as_so(struct context *ctx, struct trust_plan *p, const char *so_pin,
				CK_OBJECT_HANDLE *h)
{
	CK_ATTRIBUTE t[24];
	CK_ULONG n;
	CK_RV rv, lrv;

	rv = tsession_login_so(&ctx->ts, so_pin, strlen(so_pin));
	/* PKCS#11 lets the security officer in only while no read-only
	 * session is open on the token: another part of the process uses it. */
	if (rv == CKR_SESSION_READ_ONLY_EXISTS)
		return SCARD_E_SHARING_VIOLATION;
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_LOGIN);
	n = trust_template(ctx, p, t);
	rv = token_create(&ctx->ts, t, n, h);
	if (rv != CKR_OK) {
		lrv = tsession_logout(&ctx->ts);
		if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_VALUE_INVALID ||
		    rv == CKR_TEMPLATE_INCONSISTENT)
			return NTE_NOT_SUPPORTED;
		return error_from_ckr(rv, ERROR_OP_IMPORT);
	}
	/* The security officer's logout failing says nothing of the blob. */
	lrv = tsession_logout(&ctx->ts);
	if (lrv != CKR_OK) {
		token_destroy(&ctx->ts, *h);
		*h = CK_INVALID_HANDLE;
		return error_from_ckr(lrv, ERROR_OP_GENERIC);
	}
	return ERROR_SUCCESS;
}

/* A call that the KEK's attributes must make the token refuse: CKR_OK
 * when it did (a refusal of that kind), *ok false when it went through,
 * the call's own failure when it failed for another reason. */
static CK_RV refused(CK_RV rv, bool *ok)
{
	switch (rv) {
	case CKR_OK:
		*ok = false;
		return CKR_OK;
	case CKR_KEY_NOT_WRAPPABLE:
	case CKR_KEY_FUNCTION_NOT_PERMITTED:
	case CKR_MECHANISM_INVALID:
	case CKR_TEMPLATE_INCONSISTENT:
	case CKR_ATTRIBUTE_VALUE_INVALID:
		return CKR_OK;
	default:
		return rv;
	}
}

/* Whether the token made the trusted KEK as asked: a token may take an
 * attribute and ignore it, and a KEK that could be changed, copied, used
 * to decrypt, made to wrap a public key or to unwrap into a readable one
 * would undo the protection it is for. Its attributes are read back, then
 * tried on a scratch session (closing it removes the throwaway keys):
 * a public key must not wrap, a private one must, with AES key wrap only,
 * and its wrap must not unwrap readable. With the user logged in.
 * NTE_NOT_SUPPORTED when the token does not enforce all of it. */
static DWORD trust_check_kek(struct context *ctx, CK_OBJECT_HANDLE kek)
{
	static const CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	static const CK_KEY_TYPE aes = CKK_AES;
	static const struct { CK_ATTRIBUTE_TYPE type; bool want; } facts[] = {
		{ CKA_TRUSTED, true }, { CKA_SENSITIVE, true }, { CKA_WRAP, true },
		{ CKA_MODIFIABLE, false }, { CKA_COPYABLE, false }, { CKA_EXTRACTABLE, false },
		{ CKA_ENCRYPT, false }, { CKA_DECRYPT, false }, { CKA_PRIVATE, false },
	};
	CK_ATTRIBUTE readable[] = {
		{ CKA_CLASS, (void *)&cls, sizeof cls },
		{ CKA_KEY_TYPE, (void *)&aes, sizeof aes },
		{ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_SENSITIVE, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_PRIVATE, token_bool(false), sizeof(CK_BBOOL) },
	};
	CK_MECHANISM kw = { CKM_AES_KEY_WRAP, NULL, 0 };
	BYTE iv[16] = { 0 }, out[64];
	CK_MECHANISM cbc = { CKM_AES_CBC, iv, sizeof iv };
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE, un;
	CK_ULONG out_len;
	struct tsession ts;
	size_t i;
	bool ok = true;
	CK_RV rv;

	for (i = 0; ok && i < CAPI11_N_ELEMENTS(facts); i++) {
		bool value = !facts[i].want;

		rv = token_get_bool(&ctx->ts, kek, facts[i].type, &value);
		if (rv != CKR_OK)
			return error_from_ckr(rv, ERROR_OP_GENERIC);
		ok = value == facts[i].want;
	}
	if (!ok)
		return NTE_NOT_SUPPORTED;
	rv = tsession_scratch_open(ctx->ts.tok, &ts);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	rv = throwaway_aes(&ts, false, false, &pub);
	if (rv == CKR_OK)
		rv = throwaway_aes(&ts, true, false, &priv);
	/* Each refusal must be the token's answer to the attribute it
	 * enforces; any other failure is the token's and is reported. */
	if (rv == CKR_OK) {
		out_len = sizeof out;
		rv = refused(token_wrap_key(&ts, &kw, kek, pub, out, &out_len), &ok);
	}
	if (rv == CKR_OK) {
		out_len = sizeof out;
		rv = refused(token_wrap_key(&ts, &cbc, kek, priv, out, &out_len), &ok);
	}
	if (rv == CKR_OK) {
		out_len = sizeof out;
		rv = token_wrap_key(&ts, &kw, kek, priv, out, &out_len);
	}
	if (rv == CKR_OK)
		rv = refused(token_unwrap_key(&ts, &kw, kek, out, out_len, readable,
					      CAPI11_N_ELEMENTS(readable), &un), &ok);
	capi11_wipe(out, sizeof out);
	tsession_scratch_close(&ts);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	return ok ? ERROR_SUCCESS : NTE_NOT_SUPPORTED;
}

/* The user's login, with the PIN given, else as the context logs in (its
 * PIN source, a pinpad or a prompt). */
static DWORD trust_user_login(struct context *ctx, const char *user_pin)
{
	return user_pin != NULL ? context_set_pin_locked(ctx, user_pin)
				: context_login_locked(ctx, !ctx->silent);
}

/* A public key whose private half is on this token is no partner's: the
 * token would wrap sensitive keys to it, and whoever uses the private key
 * here could decrypt them (NTE_BAD_PUBLIC_KEY). Private keys show only
 * after the user's login. */
static DWORD trust_check_partner(struct context *ctx, const struct trust_plan *p)
{
	static const CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	static const CK_KEY_TYPE rsa = CKK_RSA;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&cls, sizeof cls },
		{ CKA_KEY_TYPE, (void *)&rsa, sizeof rsa },
		{ CKA_MODULUS, p->modulus, p->mod_len },
	};
	CK_OBJECT_HANDLE *objs = NULL;
	CK_ULONG count = 0;
	CK_RV rv;

	rv = token_find(&ctx->ts, tmpl, CAPI11_N_ELEMENTS(tmpl), &objs, &count);
	capi11_free(objs);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	return count == 0 ? ERROR_SUCCESS : NTE_BAD_PUBLIC_KEY;
}

DWORD trust_import_locked(struct context *ctx, const BYTE *data, size_t len, const char *so_pin,
			  const char *user_pin, struct key **out)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct trust_plan p;
	DWORD err;
	CK_RV rv;

	if (ctx->verify)
		return NTE_BAD_KEYSET;
	err = trust_plan_parse(data, len, &p);
	if (err != ERROR_SUCCESS)
		goto out;
	/* A PIN that cannot be right is refused before the user is logged
	 * out: on a card each refused C_Login costs a try. */
	rv = token_pin_check(ctx->ts.tok, so_pin, strlen(so_pin));
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_LOGIN);
		goto out;
	}
	/* The security officer's login ends the user's for the whole process:
	 * no other context may be using the token, and this one may hold no
	 * session objects, which the logout would destroy, nor any key handle:
	 * SoftHSM gives private objects new handles after a logout, so a
	 * handle on the container's pair would fail (or, on a token that
	 * reuses handles, reach another object) afterwards. */
	if (token_sessions_leased(ctx->ts.tok) > 1 || ctx->n_owned > 0 || ctx->n_keys > 0) {
		err = SCARD_E_SHARING_VIOLATION;
		goto out;
	}
	if (p.cls == CKO_PUBLIC_KEY) {
		err = trust_user_login(ctx, user_pin);
		if (err == ERROR_SUCCESS)
			err = trust_check_partner(ctx, &p);
		if (err != ERROR_SUCCESS)
			goto out;
	}
	rv = token_random(&ctx->ts, p.id, sizeof p.id);
	if (rv == CKR_OK)
		rv = tsession_logout(&ctx->ts);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
		goto out;
	}
	err = trust_create_as_so(ctx, &p, so_pin, &h);
	if (err == ERROR_SUCCESS)
		trace_message("container %s: trusted %s made by the security officer",
			      ctx->container,
			      p.cls == CKO_PUBLIC_KEY ? "public key" : "key-encryption key");
	/* The user logs in again, whether the security officer's step worked
	 * or not (a rejected SO PIN must not leave the context logged out).
	 * The step's own failure is the one reported. */
	{
		DWORD lerr = trust_user_login(ctx, user_pin);

		if (err == ERROR_SUCCESS)
			err = lerr;
	}
	if (err == ERROR_SUCCESS && p.cls == CKO_SECRET_KEY)
		err = trust_check_kek(ctx, h);
	if (err == ERROR_SUCCESS)
		err = key_adopt_locked(ctx, p.cls == CKO_SECRET_KEY ? h : CK_INVALID_HANDLE,
				       p.cls == CKO_PUBLIC_KEY ? h : CK_INVALID_HANDLE, p.type,
				       p.alg, p.bits, false, false, out);
	if (err == ERROR_SUCCESS && p.cls == CKO_SECRET_KEY)
		key_mark_wrap_only(*out);
	if (err != ERROR_SUCCESS && h != CK_INVALID_HANDLE) {
		/* A public object can be destroyed without any login. */
		token_destroy(&ctx->ts, h);
	}
out:
	trust_plan_clear(&p);
	return err;
}
