/* Provider parameters. Strings are returned with their NUL, DWORDs as 4
 * bytes; enumerations advance only when something was written. */
#include "config.h"
#include "prov-param.h"
#include "trust.h"
#include "container.h"
#include "dh.h"
#include "dss.h"
#include "errors.h"
#include "key.h"
#include "hash.h"
#include "param.h"
#include "prov-type.h"
#include "route.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* The version rsaenh reports: 2.0. */
#define CAPI11_PROV_VERSION 0x200

struct alg_entry {
	ALG_ID algid;
	CK_MECHANISM_TYPE mech;     /* what the token must have */
	DWORD default_bits, min_bits, max_bits;
	const char *name;           /* at most 19 characters: szName[20] */
	const char *long_name;      /* at most 39: szLongName[40] */
};

/* What capi11 can do with a token, with the names Microsoft's providers
 * use. RSA lengths come from the token (see alg_bits). */
static const struct alg_entry alg_entries[] = {
	{ CALG_RSA_SIGN, CKM_RSA_PKCS_KEY_PAIR_GEN, 0, 0, 0, "RSA_SIGN", "RSA Signature" },
	{ CALG_RSA_KEYX, CKM_RSA_PKCS_KEY_PAIR_GEN, 0, 0, 0, "RSA_KEYX", "RSA Key Exchange" },
	/* The DSS types' signature key, with the names of Microsoft's DSS
	 * providers; lengths from dss_token_bits. */
	{ CALG_DSS_SIGN, CKM_DSA_KEY_PAIR_GEN, 0, 0, 0, "DSA_SIGN", "Digital Signature Algorithm" },
	/* PROV_DSS_DH's Diffie-Hellman keys, "DH_KEYX" as Microsoft's
	 * "Enumerating the Supported Protocols (Diffie-Hellman)" lists them;
	 * lengths from dh_token_bits. */
	{ CALG_DH_SF, CKM_DH_PKCS_KEY_PAIR_GEN, 0, 0, 0, "DH_KEYX", "Diffie-Hellman Key Exchange" },
	{ CALG_DH_EPHEM, CKM_DH_PKCS_KEY_PAIR_GEN, 0, 0, 0, "DH_KEYX",
	  "Diffie-Hellman Key Exchange" },
	{ CALG_DES, CKM_DES_KEY_GEN, 56, 56, 56, "DES", "Data Encryption Standard (DES)" },
	{ CALG_3DES_112, CKM_DES2_KEY_GEN, 112, 112, 112, "3DES TWO KEY", "Two Key Triple DES" },
	{ CALG_3DES, CKM_DES3_KEY_GEN, 168, 168, 168, "3DES", "Three Key Triple DES" },
	{ CALG_RC2, CKM_RC2_KEY_GEN, 128, 40, 128, "RC2", "RSA Data Security's RC2" },
	{ CALG_RC4, CKM_RC4_KEY_GEN, 128, 40, 128, "RC4", "RSA Data Security's RC4" },
	{ CALG_AES_128, CKM_AES_KEY_GEN, 128, 128, 128, "AES 128",
	  "Advanced Encryption Standard (AES) 128" },
	{ CALG_AES_192, CKM_AES_KEY_GEN, 192, 192, 192, "AES 192",
	  "Advanced Encryption Standard (AES) 192" },
	{ CALG_AES_256, CKM_AES_KEY_GEN, 256, 256, 256, "AES 256",
	  "Advanced Encryption Standard (AES) 256" },
	/* Hashes (hash.c), where the token digests: the names and lengths of
	 * Microsoft's Enhanced RSA and AES provider. */
	{ CALG_SHA1, CKM_SHA_1, 160, 160, 160, "SHA-1", "Secure Hash Algorithm (SHA-1)" },
	{ CALG_MD5, CKM_MD5, 128, 128, 128, "MD5", "Message Digest 5 (MD5)" },
	{ CALG_SSL3_SHAMD5, 0, 288, 288, 288, "SSL3 SHAMD5", "SSL3 SHAMD5" },
	{ CALG_MAC, CKM_AES_CBC, 0, 0, 0, "MAC", "Message Authentication Code" },
	{ CALG_HMAC, CKM_SHA_1_HMAC, 0, 0, 0, "HMAC", "Hugo's MAC (HMAC)" },
	{ CALG_SHA_256, CKM_SHA256, 256, 256, 256, "SHA-256", "Secure Hash Algorithm (SHA-256)" },
	{ CALG_SHA_384, CKM_SHA384, 384, 384, 384, "SHA-384", "Secure Hash Algorithm (SHA-384)" },
	{ CALG_SHA_512, CKM_SHA512, 512, 512, 512, "SHA-512", "Secure Hash Algorithm (SHA-512)" },
};

/* Whether tok can make the entry's keys, as CryptGenKey decides it
 * (key.c): the mechanism with a generate flag, CKK_DES2 for 3DES_112
 * (whose keys a token without it only imports), no refusal seen. */
static bool alg_token_makes(struct token *tok, const struct alg_entry *e)
{
	CK_MECHANISM_INFO info;

	if (e->algid == CALG_3DES_112 && !token_has_des2(tok))
		return false;
	if (e->default_bits != 0 && token_cap(tok, TOKEN_CAP_GENERATE_KEY) == TOKEN_CAP_NO)
		return false;
	return token_mechanism_info(tok, e->mech, &info) == CKR_OK &&
	       (info.flags & (CKF_GENERATE | CKF_GENERATE_KEY_PAIR));
}

/* The entry's lengths; false when no route serves it: the token, or for
 * a session key the companion token (opened here when the provider has
 * one), as CryptGenKey would use it. */
static bool alg_bits(struct context *ctx, const struct alg_entry *e, DWORD *def, DWORD *min,
		     DWORD *max)
{
	struct tsession *cts;
	CK_ULONG lo, hi;

	/* Hashes are listed where CryptCreateHash would run them: on the
	 * token hash_digest_token picks. CALG_SSL3_SHAMD5 needs none. */
	if (GET_ALG_CLASS(e->algid) == ALG_CLASS_HASH) {
		struct token *tok;

		CK_FLAGS use = e->algid == CALG_HMAC ? CKF_SIGN
			       : e->algid == CALG_MAC ? CKF_ENCRYPT : CKF_DIGEST;

		if (e->mech != 0 && hash_digest_token(ctx, e->mech, use, &tok) != ERROR_SUCCESS)
			return false;
		*def = e->default_bits;
		*min = e->min_bits;
		*max = e->max_bits;
		return true;
	}
	if (e->algid == CALG_DSS_SIGN) {
		if (!dss_token_bits(ctx->ts.tok, min, max))
			return false;
		*def = DSS_DEFAULT_BITS <= *max ? DSS_DEFAULT_BITS : *max;
		return true;
	}
	if (e->algid == CALG_DH_SF || e->algid == CALG_DH_EPHEM) {
		if (!dh_token_bits(ctx, min, max))
			return false;
		*def = DH_DEFAULT_BITS <= *max ? DH_DEFAULT_BITS : *max;
		return true;
	}
	if (!alg_token_makes(ctx->ts.tok, e)) {
		if (e->default_bits == 0 || !key_alg_has_companion_route(e->algid) ||
		    !context_has_companion_locked(ctx) ||
		    context_companion_locked(ctx, &cts) != ERROR_SUCCESS ||
		    !alg_token_makes(cts->tok, e))
			return false;
	}
	if (e->default_bits != 0) {
		*def = e->default_bits;
		*min = e->min_bits;
		*max = e->max_bits;
		return true;
	}
	/* RSA: the token's range. */
	if (token_rsa_bits_range(ctx->ts.tok, e->mech, &lo, &hi) != CKR_OK)
		return false;
	*def = ctx->settings.rsa_bits;
	*min = (DWORD)lo;
	*max = (DWORD)hi;
	return true;
}

/* Next served entry at or after *pos; false at the end. */
static const struct alg_entry *alg_next(struct context *ctx, size_t *pos, DWORD *def, DWORD *min,
					DWORD *max)
{
	for (; *pos < CAPI11_N_ELEMENTS(alg_entries); (*pos)++) {
		if (prov_type_serves(ctx->prov_type, alg_entries[*pos].algid) &&
		    alg_bits(ctx, &alg_entries[*pos], def, min, max))
			return &alg_entries[*pos];
	}
	return NULL;
}

static DWORD enum_algs_locked(struct context *ctx, bool ex, BYTE *data, DWORD *len, DWORD flags)
{
	size_t *cursor = ex ? &ctx->enum_alg_ex_pos : &ctx->enum_alg_pos;
	size_t pos;
	const struct alg_entry *e;
	DWORD def = 0, min = 0, max = 0, err;

	if (flags & CRYPT_FIRST)
		*cursor = 0;
	pos = *cursor;
	e = alg_next(ctx, &pos, &def, &min, &max);
	if (e == NULL)
		return ERROR_NO_MORE_ITEMS;
	if (ex) {
		PROV_ENUMALGS_EX a;
		memset(&a, 0, sizeof a);
		a.aiAlgid = e->algid;
		a.dwDefaultLen = def;
		a.dwMinLen = min;
		a.dwMaxLen = max;
		a.dwNameLen = (DWORD)strlen(e->name) + 1;
		memcpy(a.szName, e->name, a.dwNameLen);
		a.dwLongNameLen = (DWORD)strlen(e->long_name) + 1;
		memcpy(a.szLongName, e->long_name, a.dwLongNameLen);
		err = param_put(data, len, &a, sizeof a);
	} else {
		PROV_ENUMALGS a;
		memset(&a, 0, sizeof a);
		a.aiAlgid = e->algid;
		a.dwBitLen = def;
		a.dwNameLen = (DWORD)strlen(e->name) + 1;
		memcpy(a.szName, e->name, a.dwNameLen);
		err = param_put(data, len, &a, sizeof a);
	}
	if (err == ERROR_SUCCESS && data != NULL)
		*cursor = pos + 1;
	return err;
}

/* What rsaenh answers a PP_ENUMCONTAINERS size query: MAX_PATH + 1, the
 * most any name can need, so that one buffer serves the whole listing. A
 * token label longer than that (a foreign key pair) raises it. */
#define ENUM_CONTAINER_SIZE (260 + 1)

static DWORD enum_containers_locked(struct context *ctx, BYTE *data, DWORD *len, DWORD flags)
{
	const char *name;
	size_t i, need, largest = ENUM_CONTAINER_SIZE;
	CK_RV rv;

	if ((flags & CRYPT_FIRST) || ctx->enum_names == NULL) {
		container_list_free(ctx->enum_names, ctx->n_enum_names);
		ctx->enum_names = NULL;
		ctx->n_enum_names = ctx->enum_pos = 0;
		rv = container_list(&ctx->ts, &ctx->enum_names, &ctx->n_enum_names);
		if (rv != CKR_OK)
			return error_from_ckr(rv, ERROR_OP_GENERIC);
	}
	for (i = 0; i < ctx->n_enum_names; i++) {
		need = strlen(ctx->enum_names[i]) + 1;
		if (need > largest)
			largest = need;
	}
	/* A size query succeeds even past the end, as rsaenh's does. */
	if (data == NULL) {
		*len = (DWORD)largest;
		return ERROR_SUCCESS;
	}
	if (ctx->enum_pos >= ctx->n_enum_names)
		return ERROR_NO_MORE_ITEMS;
	name = ctx->enum_names[ctx->enum_pos];
	need = strlen(name) + 1;
	if (*len < need) {
		*len = (DWORD)largest;
		return ERROR_MORE_DATA;
	}
	/* A name that fits leaves *len as the caller gave it (rsaenh). */
	memcpy(data, name, need);
	ctx->enum_pos++;
	return ERROR_SUCCESS;
}

/* PP_CAPI11_KEY_PROTECTION: whether sensitive keys may leave wrapped
 * under trusted keys on this token, or not at all. A size query asks the
 * token nothing. */
static DWORD key_protection_locked(struct context *ctx, BYTE *data, DWORD *len)
{
	enum token_wrap_trust state = TOKEN_WRAP_TRUST_ENFORCED;
	DWORD err;

	if (data != NULL) {
		err = trust_wrap_state_locked(ctx, &state);
		if (err != ERROR_SUCCESS)
			return err;
	}
	return param_put_dword(data, len, state == TOKEN_WRAP_TRUST_ENFORCED
					? CAPI11_PROTECTION_TRUSTED_WRAP : CAPI11_PROTECTION_NO_WRAP);
}

static DWORD put_string(BYTE *data, DWORD *len, const char *s)
{
	return param_put(data, len, s, (DWORD)strlen(s) + 1);
}

/* PP_CAPI11_TOKEN_CAPS: the token's capabilities as this process knows
 * them, and its write protection (wincrypt.h). */
static DWORD token_caps_locked(struct context *ctx, BYTE *data, DWORD *len)
{
	static const char *const states[] = {
		[TOKEN_CAP_UNKNOWN] = "unknown", [TOKEN_CAP_YES] = "yes", [TOKEN_CAP_NO] = "no",
	};
	char text[512];
	size_t used = 0;
	int n;

	token_caps_probe(ctx->ts.tok);
	for (int cap = 0; cap < TOKEN_CAP_COUNT; cap++) {
		enum token_cap_state st = token_cap(ctx->ts.tok, (enum token_cap)cap);

		n = snprintf(text + used, sizeof text - used, "%s=%s ",
			     token_cap_name((enum token_cap)cap),
			     (unsigned)st < CAPI11_N_ELEMENTS(states) ? states[st] : "unknown");
		if (n < 0 || (size_t)n >= sizeof text - used)
			return NTE_FAIL;
		used += (size_t)n;
	}
	n = snprintf(text + used, sizeof text - used, "write-protected=%s",
		     token_is_write_protected(ctx->ts.tok) ? "yes" : "no");
	if (n < 0 || (size_t)n >= sizeof text - used)
		return NTE_FAIL;
	return put_string(data, len, text);
}

DWORD prov_get_param_locked(struct context *ctx, DWORD param, BYTE *data, DWORD *len,
			    DWORD flags)
{
	char unique[CONTAINER_NAME_MAX + 64];

	switch (param) {
	case PP_NAME:
		return put_string(data, len, ctx->prov_name);
	case PP_CONTAINER:
		/* A verify context has no container: an empty name, as rsaenh. */
		return put_string(data, len, ctx->container ? ctx->container : "");
	case PP_UNIQUE_CONTAINER:
		/* The token's serial number makes the name unique across tokens. */
		snprintf(unique, sizeof unique, "%s\\%s", token_serial(ctx->ts.tok),
			 ctx->container ? ctx->container : "");
		return put_string(data, len, unique);
	case PP_PROVTYPE:
		return param_put_dword(data, len, ctx->prov_type);
	case PP_IMPTYPE:
		return param_put_dword(data, len, CRYPT_IMPL_HARDWARE |
				       (token_is_removable(ctx->ts.tok) ? CRYPT_IMPL_REMOVABLE : 0));
	case PP_VERSION:
		return param_put_dword(data, len, CAPI11_PROV_VERSION);
	case PP_KEYSPEC:
		return param_put_dword(data, len, AT_KEYEXCHANGE | AT_SIGNATURE);
	case PP_SMARTCARD_READER:
		return put_string(data, len, token_slot_description(ctx->ts.tok));
	case PP_ENUMCONTAINERS:
		return enum_containers_locked(ctx, data, len, flags);
	case PP_ENUMALGS:
		return enum_algs_locked(ctx, false, data, len, flags);
	case PP_ENUMALGS_EX:
		return enum_algs_locked(ctx, true, data, len, flags);
	case PP_KEYSET_TYPE:
		return param_put_dword(data, len, ctx->machine_keyset ? CRYPT_MACHINE_KEYSET : 0);
	case PP_KEYSTORAGE:
		/* Keys live on the token: not under a security descriptor nor in
		 * protected storage (rsaenh's CRYPT_SEC_DESCR would be untrue).
		 * CRYPT_UI_PROMPT where a login can ask the user: the token needs
		 * one, no pin-source answers for the user, and the context may
		 * prompt (or the reader's pinpad does). */
		return param_put_dword(data, len,
				       token_needs_login(ctx->ts.tok) && ctx->pin_source == NULL &&
				       (!ctx->silent || token_has_pinpad(ctx->ts.tok))
				       ? CRYPT_UI_PROMPT : 0);
	case PP_SIG_KEYSIZE_INC:
	case PP_KEYX_KEYSIZE_INC:
		/* RSA lengths go in steps of 8 bits, as in Microsoft's providers. */
		return param_put_dword(data, len, 8);
	case PP_KEYSET_SEC_DESCR:
		/* Unsupported on purpose: a token guards its keys with a PIN,
		 * there is no ACL to read or set (docs/capi11.conf.5, README). */
		return NTE_BAD_TYPE;
	case PP_CAPI11_KEY_PROTECTION:
		return key_protection_locked(ctx, data, len);
	case PP_CAPI11_ROUTES: {
		char text[512];
		DWORD err = route_describe_locked(ctx, text, sizeof text);

		return err != ERROR_SUCCESS ? err : put_string(data, len, text);
	}
	case PP_CAPI11_TOKEN_CAPS:
		return token_caps_locked(ctx, data, len);
	default:
		return NTE_BAD_TYPE;
	}
}

DWORD prov_set_param_locked(struct context *ctx, DWORD param, const BYTE *data, DWORD flags)
{
	switch (param) {
	case PP_KEYEXCHANGE_PIN:
	case PP_SIGNATURE_PIN:
		/* One user PIN per token in PKCS#11: both name it. */
		if (data == NULL)
			return ERROR_INVALID_PARAMETER;
		return context_set_pin_locked(ctx, (const char *)data);
	default:
		return NTE_BAD_TYPE;
	}
}
