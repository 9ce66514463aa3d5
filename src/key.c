/* Keys: generation, the container's keys, duplication, parameters and
 * the handle bookkeeping. */
#include "config.h"
#include "key.h"
#include "alg.h"
#include "container.h"
#include "container-pending.h"
#include "agree.h"
#include "dh.h"
#include "dss.h"
#include "key-card.h"
#include "p11call.h"
#include "prov-type.h"
#include "route.h"
#include "container-lock.h"
#include "errors.h"
#include "random.h"
#include "trace.h"
#include "trust.h"
#include "util.h"

#include <string.h>

/* Permissions every key has; CRYPT_EXPORT is added for exportable keys. */
#define KEY_BASE_PERMISSIONS (CRYPT_ENCRYPT | CRYPT_DECRYPT | CRYPT_READ | CRYPT_WRITE | CRYPT_MAC)

/* CryptGenKey flags capi11 acts on or accepts; the others are refused. */
#define VALID_GENKEY_FLAGS (CRYPT_EXPORTABLE | CRYPT_USER_PROTECTED | CRYPT_CREATE_SALT | \
			    CRYPT_NO_SALT | CRYPT_PREGEN | CRYPT_ARCHIVABLE | \
			    CRYPT_FORCE_KEY_PROTECTION_HIGH | CRYPT_UPDATE_KEY)

struct tsession *keyobj_session(struct context *ctx, const struct keyobj *obj)
{
	return obj->companion ? &ctx->cts : &ctx->ts;
}

struct tsession *context_session_on_locked(struct context *ctx, const struct token *tok)
{
	if (ctx->ts.tok == tok)
		return &ctx->ts;
	if (ctx->cts.tok == tok && ctx->cts.handle != CK_INVALID_HANDLE)
		return &ctx->cts;
	return NULL;
}

struct tsession *key_session(const struct key *key)
{
	return keyobj_session(key->ctx, key->obj);
}

struct token *key_token(const struct key *key)
{
	return key_session(key)->tok;
}

bool key_new_is_sensitive(const struct context *ctx, bool exportable)
{
	return !exportable || ctx->settings.exportable_policy == CONFIG_EXPORT_SENSITIVE;
}

void key_secret_template_locked(struct context *ctx, struct tsession *ts, const CK_KEY_TYPE *type,
				bool exportable, CK_ATTRIBUTE *tmpl)
{
	static const CK_OBJECT_CLASS secret_class = CKO_SECRET_KEY;
	bool logged_in;

	/* Session objects may be private only after login. The companion was
	 * logged in when it was opened, or needs no login (softokn). */
	if (ts == &ctx->ts)
		context_login_locked(ctx, false);
	logged_in = tsession_is_logged_in(ts);
	tmpl[0] = (CK_ATTRIBUTE){ CKA_CLASS, (void *)&secret_class, sizeof secret_class };
	tmpl[1] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, (void *)type, sizeof *type };
	tmpl[2] = (CK_ATTRIBUTE){ CKA_TOKEN, token_bool(false), sizeof(CK_BBOOL) };
	tmpl[3] = (CK_ATTRIBUTE){ CKA_PRIVATE, token_bool(logged_in), sizeof(CK_BBOOL) };
	tmpl[4] = (CK_ATTRIBUTE){ CKA_SENSITIVE, token_bool(key_new_is_sensitive(ctx, exportable)),
				  sizeof(CK_BBOOL) };
	tmpl[5] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, token_bool(exportable), sizeof(CK_BBOOL) };
	tmpl[6] = (CK_ATTRIBUTE){ CKA_ENCRYPT, token_bool(true), sizeof(CK_BBOOL) };
	tmpl[7] = (CK_ATTRIBUTE){ CKA_DECRYPT, token_bool(true), sizeof(CK_BBOOL) };
}

DWORD key_kek_flag_check(ALG_ID alg, DWORD flags)
{
	return (flags & CRYPT_KEK) && !alg_is_aes(alg) ? NTE_BAD_FLAGS : ERROR_SUCCESS;
}

CK_ULONG key_secret_template_kek(CK_ATTRIBUTE *tmpl, bool kek)
{
	CK_ULONG i;

	if (!kek)
		return KEY_SECRET_ATTRS;
	for (i = 0; i < KEY_SECRET_ATTRS; i++) {
		if (tmpl[i].type == CKA_ENCRYPT || tmpl[i].type == CKA_DECRYPT)
			tmpl[i].pValue = token_bool(false);
	}
	tmpl[KEY_SECRET_ATTRS] = (CK_ATTRIBUTE){ CKA_WRAP, token_bool(true), sizeof(CK_BBOOL) };
	tmpl[KEY_SECRET_ATTRS + 1] = (CK_ATTRIBUTE){ CKA_UNWRAP, token_bool(true), sizeof(CK_BBOOL) };
	return KEY_SECRET_ATTRS + KEY_KEK_ATTRS;
}

DWORD key_template_protect_locked(struct tsession *ts, CK_ATTRIBUTE *tmpl, CK_ULONG *n,
				  bool wrapped)
{
	bool sensitive = false, extractable = false;
	CK_ULONG i;

	for (i = 0; i < *n; i++) {
		if (tmpl[i].type == CKA_SENSITIVE && wrapped)
			tmpl[i].pValue = token_bool(true);
		if (tmpl[i].type == CKA_SENSITIVE)
			sensitive = *(CK_BBOOL *)tmpl[i].pValue == CK_TRUE;
		else if (tmpl[i].type == CKA_EXTRACTABLE)
			extractable = *(CK_BBOOL *)tmpl[i].pValue == CK_TRUE;
		else if (tmpl[i].type == CKA_WRAP_WITH_TRUSTED)
			return ERROR_SUCCESS;
	}
	/* A key that arrives wrapped carries the attribute even when it may
	 * not leave at all: a trusted key-encryption key's unwrap template
	 * asks for it, and the token refuses a template without it
	 * (CKR_TEMPLATE_INCONSISTENT). */
	return trust_template_add_locked(ts, sensitive, extractable || wrapped, tmpl, n);
}

void key_mark_wrap_only(struct key *key)
{
	key->obj->wrap_only = true;
	key->permissions &= ~(DWORD)(CRYPT_ENCRYPT | CRYPT_DECRYPT);
}

struct tsession *key_session_in_locked(struct context *ctx, const struct key *key)
{
	struct tsession *cts;

	if (key == NULL)
		return NULL;
	if (key_token(key) == ctx->ts.tok)
		return &ctx->ts;
	/* A companion key, perhaps of another context: the companion of this
	 * one must be that token. */
	if (key->obj->companion && context_has_companion_locked(ctx) &&
	    context_companion_locked(ctx, &cts) == ERROR_SUCCESS && cts->tok == key_token(key))
		return cts;
	return NULL;
}

bool key_is_session_key_on(const struct key *k, const struct token *tok)
{
	return k != NULL && !keyobj_is_pair(k->obj) && k->obj->priv != CK_INVALID_HANDLE &&
	       key_token(k) == tok;
}

CK_RV key_read_wrap_only_locked(struct context *ctx, const struct key *key, bool *wrap_only)
{
	CK_BBOOL wrap = CK_FALSE, enc = CK_TRUE, dec = CK_TRUE;
	CK_ATTRIBUTE attrs[] = {
		{ CKA_WRAP, &wrap, sizeof wrap },
		{ CKA_ENCRYPT, &enc, sizeof enc },
		{ CKA_DECRYPT, &dec, sizeof dec },
	};
	struct tsession *ts;
	CK_RV rv;

	*wrap_only = false;
	if (key->obj->type == CKK_RSA || key->obj->priv == CK_INVALID_HANDLE)
		return CKR_OK;
	/* The key's own token: a key of another context on a token ctx has a
	 * session on is visible from that session. Which of ctx's sessions
	 * that is comes from the token, not from the key's flag: the other
	 * context's companion may be ctx's main token, and the reverse. */
	ts = key->ctx == ctx ? key_session(key) : context_session_on_locked(ctx, key_token(key));
	if (ts == NULL)
		return CKR_KEY_HANDLE_INVALID;
	rv = token_get_attributes(ts, key->obj->priv, attrs, 3);
	if (rv != CKR_OK)
		return rv;
	/* An attribute the token does not report counts against the key. */
	*wrap_only = attrs[0].ulValueLen == sizeof wrap && wrap == CK_TRUE &&
		     attrs[1].ulValueLen == sizeof enc && enc == CK_FALSE &&
		     attrs[2].ulValueLen == sizeof dec && dec == CK_FALSE;
	return CKR_OK;
}

static _Atomic uint64_t destroy_epoch;

uint64_t keyobj_destroy_epoch(void)
{
	return atomic_load(&destroy_epoch);
}

void keyobj_destroy_objects_locked(struct context *ctx, struct keyobj *obj)
{
	struct tsession *ts = keyobj_session(ctx, obj);
	size_t i;

	if (obj->priv != CK_INVALID_HANDLE)
		token_destroy(ts, obj->priv);
	if (obj->pub != CK_INVALID_HANDLE)
		token_destroy(ts, obj->pub);
	if (obj->dh_q_obj != CK_INVALID_HANDLE)
		token_destroy(ts, obj->dh_q_obj);
	obj->priv = obj->pub = obj->dh_q_obj = CK_INVALID_HANDLE;
	atomic_fetch_add(&destroy_epoch, 1);
	if (obj->owned) {
		context_remove_owned_locked(ctx, obj);
		obj->owned = false;
	}
	/* A verify context's pair is gone for CryptGetUserKey too. */
	for (i = 0; i < CAPI11_N_ELEMENTS(ctx->verify_keys); i++) {
		if (ctx->verify_keys[i] == obj) {
			ctx->verify_keys[i] = NULL;
			keyobj_unref_locked(ctx, obj);
		}
	}
}

static void key_destroy_obj(struct handle_obj *base)
{
	struct key *key = (struct key *)base;
	struct context *ctx = key->ctx;

	pthread_mutex_lock(&ctx->lock);
	keyobj_unref_locked(ctx, key->obj);
	agreed_free_locked(ctx, key->agreed);
	pregen_free(key->pregen);
	pthread_mutex_unlock(&ctx->lock);
	capi11_wipe(key->iv, sizeof key->iv);
	capi11_wipe(key->chain, sizeof key->chain);
	capi11_free(key);
	context_unref(ctx);
}

void keyobj_unref_locked(struct context *ctx, struct keyobj *obj)
{
	if (obj == NULL || atomic_fetch_sub(&obj->refs, 1) > 1)
		return;
	if (obj->owned && !obj->gone) {
		/* Still a live session object of a live context. */
		if (!ctx->released && ctx->generation == token_generation()) {
			struct tsession *ts = keyobj_session(ctx, obj);

			token_destroy(ts, obj->priv);
			if (obj->pub != CK_INVALID_HANDLE)
				token_destroy(ts, obj->pub);
		}
		context_remove_owned_locked(ctx, obj);
	}
	capi11_free(atomic_load(&obj->public_numbers));
	capi11_free(obj->dh_q);
	capi11_free(obj);
}

static struct keyobj *keyobj_new(CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub, CK_KEY_TYPE type,
				 bool owned)
{
	struct keyobj *obj = capi11_calloc(1, sizeof *obj);

	if (obj == NULL)
		return NULL;
	atomic_init(&obj->refs, 1);
	obj->priv = priv;
	obj->pub = pub;
	obj->type = type;
	obj->owned = owned;
	return obj;
}

/* Frees a key that never got a handle; its keyobj is the caller's. */
static void key_discard(struct key *key)
{
	if (key == NULL)
		return;
	context_unref(key->ctx);
	capi11_free(key);
}

static _Atomic uint64_t key_serials = 1;

static struct key *key_new(struct context *ctx, struct keyobj *obj)
{
	struct key *key = capi11_calloc(1, sizeof *key);

	if (key == NULL)
		return NULL;
	handle_obj_init(&key->base, HANDLE_KEY, key_destroy_obj);
	handle_obj_ref(&ctx->base);
	key->ctx = ctx;
	key->obj = obj;
	key->serial = atomic_fetch_add(&key_serials, 1);
	key->mode = CRYPT_MODE_CBC;
	key->padding = PKCS5_PADDING;
	return key;
}

DWORD key_register_locked(struct key *key, HCRYPTKEY *out)
{
	HCRYPTKEY h = handle_register(&key->base);

	if (h == 0)
		return NTE_NO_MEMORY;
	if (!context_add_key_locked(key->ctx, h)) {
		handle_obj_unref(handle_remove(h, HANDLE_KEY));
		return NTE_NO_MEMORY;
	}
	*out = h;
	return ERROR_SUCCESS;
}

struct key *key_lookup(HCRYPTKEY h)
{
	return (struct key *)handle_lookup(h, HANDLE_KEY);
}

struct key *key_lookup_other(HCRYPTKEY h)
{
	struct key *key = key_lookup(h);

	/* A key from before a fork names objects of the parent's sessions;
	 * a key of a released context names objects destroyed (or being
	 * destroyed) with it. */
	if (key != NULL && (context_is_inherited(key->ctx) || atomic_load(&key->ctx->released))) {
		key_unref(key);
		key = NULL;
	}
	return key;
}

void key_unref(struct key *key)
{
	if (key != NULL)
		handle_obj_unref(&key->base);
}

DWORD key_get_locked(HCRYPTKEY h, struct key **out)
{
	struct key *key = key_lookup(h);
	DWORD err;

	if (key == NULL)
		return ERROR_INVALID_PARAMETER;
	err = context_lock(key->ctx);
	if (err != ERROR_SUCCESS) {
		key_unref(key);
		return err;
	}
	*out = key;
	return ERROR_SUCCESS;
}

void key_put_locked(struct key *key)
{
	context_unlock(key->ctx);
	key_unref(key);
}

DWORD key_destroy(HCRYPTKEY h)
{
	struct key *key = key_lookup(h);
	bool inherited;

	if (key == NULL)
		return ERROR_INVALID_PARAMETER;
	/* A key of a context from before a fork stays as the parent left it
	 * (see context_release). The table holds a reference, so this one is
	 * not the last. */
	inherited = context_is_inherited(key->ctx);
	key_unref(key);
	if (inherited)
		return ERROR_INVALID_PARAMETER;
	key = (struct key *)handle_remove(h, HANDLE_KEY);
	if (key == NULL)
		return ERROR_INVALID_PARAMETER;
	pthread_mutex_lock(&key->ctx->lock);
	context_remove_key_locked(key->ctx, h);
	pthread_mutex_unlock(&key->ctx->lock);
	key_unref(key);
	return ERROR_SUCCESS;
}

bool key_exportable_from_attrs(const struct context *ctx, bool extractable, bool sensitive)
{
	if (ctx->settings.exportable_policy == CONFIG_EXPORT_SENSITIVE)
		return extractable;
	return extractable && !sensitive;
}

/* Reads the facts of an RSA or DSA private/public pair into key: the
 * length of the modulus or of the prime p. */
static CK_RV key_read_rsa_locked(struct key *key)
{
	struct context *ctx = key->ctx;
	CK_OBJECT_HANDLE obj = key->obj->pub != CK_INVALID_HANDLE ? key->obj->pub : key->obj->priv;
	bool prime = key->obj->type == CKK_DSA || key->obj->type == CKK_DH;
	CK_ATTRIBUTE modulus = { prime ? CKA_PRIME : CKA_MODULUS, NULL, 0 };
	bool extractable = false, sensitive = true;
	CK_RV rv;

	rv = token_get_attributes(key_session(key), obj, &modulus, 1);
	if (rv != CKR_OK)
		return rv;
	if (modulus.ulValueLen == CK_UNAVAILABLE_INFORMATION || modulus.ulValueLen == 0 ||
	    modulus.ulValueLen > ALG_RSA_MAX_BITS / 8)
		return CKR_GENERAL_ERROR;
	key->bits = (DWORD)modulus.ulValueLen * 8;
	if (key->obj->priv != CK_INVALID_HANDLE) {
		rv = token_get_bool(key_session(key), key->obj->priv, CKA_EXTRACTABLE, &extractable);
		if (rv == CKR_OK)
			rv = token_get_bool(key_session(key), key->obj->priv, CKA_SENSITIVE,
					    &sensitive);
		if (rv != CKR_OK)
			return rv;
	}
	/* A DSS or DH key has no block (KP_BLOCKLEN 0). */
	key->block_bits = prime ? 0 : key->bits;
	key->exportable = key_exportable_from_attrs(ctx, extractable, sensitive);
	key->permissions = KEY_BASE_PERMISSIONS | (key->exportable ? CRYPT_EXPORT : 0);
	return CKR_OK;
}

static DWORD key_pair_gen_missing(struct context *ctx)
{
	CK_MECHANISM_INFO info;

	if (token_mechanism_info(ctx->ts.tok, CKM_RSA_PKCS, &info) != CKR_OK)
		return NTE_BAD_ALGID;
	p11call_note_refusal(P11_C_GenerateKeyPair, CKR_MECHANISM_INVALID);
	return NTE_NOT_SUPPORTED;
}

static DWORD key_rsa_bits(struct context *ctx, DWORD flags, CK_ULONG *bits)
{
	CK_ULONG min, max;
	DWORD want = HIWORD(flags);
	CK_RV rv;

	if (want == 0)
		want = ctx->settings.rsa_bits;
	/* rsaenh answers a length it cannot make with NTE_BAD_DATA for every
	 * algorithm but the DES family (which gets NTE_BAD_FLAGS). */
	if (want % 8 != 0 || want < ALG_RSA_MIN_BITS || want > ALG_RSA_MAX_BITS)
		return NTE_BAD_DATA;
	rv = token_rsa_bits_range(ctx->ts.tok, CKM_RSA_PKCS_KEY_PAIR_GEN, &min, &max);
	/* A card that uses RSA keys but cannot make them (a PIV card without
	 * its management key) cannot do what is asked; a token without RSA
	 * does not know the algorithm. */
	if (rv == CKR_MECHANISM_INVALID)
		return key_pair_gen_missing(ctx);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENKEY);
	if (want < min || (max != 0 && want > max))
		return NTE_BAD_DATA;
	*bits = want;
	return ERROR_SUCCESS;
}

/* Drops the CK_BBOOL attributes of tmpl[0..n-1] that are FALSE usages
 * (CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_SIGN, CKA_VERIFY);
 * returns the new count. */
static CK_ULONG template_drop_false(CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_ULONG kept = 0;

	for (CK_ULONG i = 0; i < n; i++) {
		CK_ATTRIBUTE_TYPE t = tmpl[i].type;
		bool usage = t == CKA_ENCRYPT || t == CKA_DECRYPT || t == CKA_WRAP ||
			     t == CKA_UNWRAP || t == CKA_SIGN || t == CKA_VERIFY;

		if (usage && tmpl[i].ulValueLen == sizeof(CK_BBOOL) &&
		    *(const CK_BBOOL *)tmpl[i].pValue == CK_FALSE)
			continue;
		tmpl[kept++] = tmpl[i];
	}
	return kept;
}

DWORD key_pair_begin_locked(struct context *ctx, DWORD spec, bool exportable,
			    struct key_pair_plan *plan)
{
	return key_pair_begin_type_locked(ctx, spec, CKK_RSA, exportable, plan);
}

static DWORD key_pair_begin_any_locked(struct context *ctx, DWORD spec, CK_KEY_TYPE type,
				       bool exportable, bool in_container,
				       struct key_pair_plan *plan)
{
	static const CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
	static const CK_KEY_TYPE rsa = CKK_RSA, dsa = CKK_DSA, dh = CKK_DH;
	const CK_KEY_TYPE *key_type = type == CKK_DSA ? &dsa : type == CKK_DH ? &dh : &rsa;
	/* A DH key agrees (CKA_DERIVE); it neither decrypts nor signs. */
	bool agree = type == CKK_DH;
	bool exchange = spec == AT_KEYEXCHANGE && !agree;
	bool on_token = !ctx->verify && in_container;
	const char *label = in_container ? ctx->container : NULL;
	CK_ATTRIBUTE *a;
	bool logged_in;
	DWORD err;
	CK_RV rv;

	memset(plan, 0, sizeof *plan);
	plan->spec = spec;
	plan->type = *key_type;
	plan->old.priv = plan->old.pub = CK_INVALID_HANDLE;
	err = key_store_check(&ctx->ts, on_token);
	if (err == ERROR_SUCCESS)
		err = key_exportable_check(&ctx->ts, exportable);
	if (err != ERROR_SUCCESS)
		return err;
	/* Keys are private objects: without login the token refuses them. */
	err = context_login_locked(ctx, on_token);
	if (err != ERROR_SUCCESS && !(ctx->verify && err == NTE_SILENT_CONTEXT))
		return err;
	logged_in = tsession_is_logged_in(&ctx->ts);
	/* The pair this one replaces is found first: afterwards the container
	 * holds two pairs of the spec until the old one goes. The two pairs of
	 * a container differ in CKA_ID. */
	rv = on_token ? container_find_key_type(&ctx->ts, label, spec, *key_type, &plan->old)
		      : CKR_OK;
	/* The ID records the spec (key-card.h). */
	if (rv == CKR_OK)
		rv = key_id_draw(&ctx->ts, spec, plan->id);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);

	a = plan->priv;
	a[0] = (CK_ATTRIBUTE){ CKA_CLASS, (void *)&priv_class, sizeof priv_class };
	a[1] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, (void *)key_type, sizeof *key_type };
	a[2] = (CK_ATTRIBUTE){ CKA_TOKEN, token_bool(on_token), sizeof(CK_BBOOL) };
	a[3] = (CK_ATTRIBUTE){ CKA_PRIVATE, token_bool(logged_in), sizeof(CK_BBOOL) };
	a[4] = (CK_ATTRIBUTE){ CKA_ID, plan->id, sizeof plan->id };
	a[5] = (CK_ATTRIBUTE){ CKA_SENSITIVE, token_bool(key_new_is_sensitive(ctx, exportable)),
			       sizeof(CK_BBOOL) };
	a[6] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, token_bool(exportable), sizeof(CK_BBOOL) };
	a[7] = (CK_ATTRIBUTE){ CKA_DECRYPT, token_bool(exchange), sizeof(CK_BBOOL) };
	a[8] = (CK_ATTRIBUTE){ CKA_UNWRAP, token_bool(exchange), sizeof(CK_BBOOL) };
	a[9] = (CK_ATTRIBUTE){ CKA_SIGN, token_bool(!agree), sizeof(CK_BBOOL) };
	plan->n_priv = 10;
	if (agree)
		a[plan->n_priv++] = (CK_ATTRIBUTE){ CKA_DERIVE, token_bool(true), sizeof(CK_BBOOL) };

	a = plan->pub;
	a[0] = (CK_ATTRIBUTE){ CKA_CLASS, (void *)&pub_class, sizeof pub_class };
	a[1] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, (void *)key_type, sizeof *key_type };
	a[2] = (CK_ATTRIBUTE){ CKA_TOKEN, token_bool(on_token), sizeof(CK_BBOOL) };
	/* A DSA public half is guarded by the PIN as its private key is
	 * (container_find_public). */
	a[3] = (CK_ATTRIBUTE){ CKA_PRIVATE, token_bool((type == CKK_DSA || agree) && logged_in),
			       sizeof(CK_BBOOL) };
	a[4] = (CK_ATTRIBUTE){ CKA_ID, plan->id, sizeof plan->id };
	a[5] = (CK_ATTRIBUTE){ CKA_ENCRYPT, token_bool(exchange), sizeof(CK_BBOOL) };
	a[6] = (CK_ATTRIBUTE){ CKA_WRAP, token_bool(exchange), sizeof(CK_BBOOL) };
	a[7] = (CK_ATTRIBUTE){ CKA_VERIFY, token_bool(!agree), sizeof(CK_BBOOL) };
	plan->n_pub = 8;
	/* A token that couples the usages refuses a pair whose template
	 * denies any of them (tpm2-pkcs11: CKR_GENERAL_ERROR) and gives every
	 * key all of them: the denials are left out, and the spec is in the
	 * ID there. */
	if (token_couples_usage(ctx->ts.tok)) {
		plan->n_priv = template_drop_false(plan->priv, plan->n_priv);
		plan->n_pub = template_drop_false(plan->pub, plan->n_pub);
	}

	/* Keys of a verify context belong to no container: no label. */
	if (label != NULL) {
		CK_ATTRIBUTE l = { CKA_LABEL, (void *)label, strlen(label) };
		plan->priv[plan->n_priv++] = l;
		plan->pub[plan->n_pub++] = l;
	}
	return key_template_protect_locked(&ctx->ts, plan->priv, &plan->n_priv, false);
}

DWORD key_pair_begin_type_locked(struct context *ctx, DWORD spec, CK_KEY_TYPE type,
				 bool exportable, struct key_pair_plan *plan)
{
	return key_pair_begin_any_locked(ctx, spec, type, exportable, true, plan);
}

DWORD key_pair_begin_session_locked(struct context *ctx, DWORD spec, CK_KEY_TYPE type,
				    bool exportable, struct key_pair_plan *plan)
{
	return key_pair_begin_any_locked(ctx, spec, type, exportable, false, plan);
}

DWORD key_pair_finish_locked(struct context *ctx, const struct key_pair_plan *plan,
			     CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub, struct key **out)
{
	ALG_ID algid = plan->type == CKK_DSA ? CALG_DSS_SIGN
		       : plan->type == CKK_DH ? CALG_DH_SF
		       : plan->spec == AT_KEYEXCHANGE ? CALG_RSA_KEYX : CALG_RSA_SIGN;
	struct keyobj *previous;
	DWORD err;

	err = key_adopt_locked(ctx, priv, pub, plan->type, algid, 0, false, ctx->verify, out);
	if (err != ERROR_SUCCESS)
		return err;
	/* The container is its keys from now on (container-pending.h). */
	if (!ctx->verify)
		container_pending_remove(ctx->ts.tok, ctx->container);
	if (ctx->verify) {
		/* A verify context keeps its pairs in memory for CryptGetUserKey,
		 * as rsaenh does; the new pair replaces the previous one. */
		previous = ctx->verify_keys[plan->spec - 1];
		atomic_fetch_add(&(*out)->obj->refs, 1);
		ctx->verify_keys[plan->spec - 1] = (*out)->obj;
		keyobj_unref_locked(ctx, previous);
	} else if (plan->old.priv != CK_INVALID_HANDLE) {
		/* Windows replaces a container's key once the new pair is
		 * complete. Certificates stay: nothing but the key is lost. The
		 * old private key goes first; while it cannot, the new pair is
		 * given up (the caller destroys it) rather than leaving two pairs
		 * of one spec in the container. Once it is gone, destroying the
		 * old public key is tidying: the new pair is the container's. */
		unsigned char old_id[KEY_ID_LEN];
		CK_ATTRIBUTE old_id_attr = { CKA_ID, old_id, sizeof old_id };
		/* A DH pair's stored q (dh.h) goes with it: its ID, read while
		 * the key is there. */
		bool old_id_read = plan->type == CKK_DH &&
				   token_get_attributes(&ctx->ts, plan->old.priv, &old_id_attr, 1) ==
					   CKR_OK;
		CK_RV rv = token_destroy(&ctx->ts, plan->old.priv);

		/* Destroyed meanwhile by another context: gone is what is asked. */
		if (rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID)
			rv = CKR_OK;
		if (rv != CKR_OK) {
			keyobj_unref_locked(ctx, (*out)->obj);
			key_discard(*out);
			*out = NULL;
			return error_from_ckr(rv, ERROR_OP_GENERIC);
		}
		if (plan->old.pub != CK_INVALID_HANDLE)
			token_destroy(&ctx->ts, plan->old.pub);
		if (old_id_read)
			dh_q_destroy_for_id(&ctx->ts, ctx->container, old_id,
					    old_id_attr.ulValueLen);
	}
	return ERROR_SUCCESS;
}

DWORD key_pair_store_locked(struct context *ctx, const struct key_pair_plan *plan, CK_RV rv,
			    DWORD err, enum error_op op, CK_OBJECT_HANDLE priv,
			    CK_OBJECT_HANDLE pub, struct key **out)
{
	if (rv == CKR_OK && err == ERROR_SUCCESS)
		err = key_pair_finish_locked(ctx, plan, priv, pub, out);
	else if (err == ERROR_SUCCESS)
		err = error_from_ckr(rv, op);
	if (err != ERROR_SUCCESS) {
		/* A failed call leaves no object on the token. */
		if (priv != CK_INVALID_HANDLE)
			token_destroy(&ctx->ts, priv);
		if (pub != CK_INVALID_HANDLE)
			token_destroy(&ctx->ts, pub);
	}
	return err;
}

DWORD key_pair_create_private_locked(struct context *ctx, struct key_pair_plan *plan,
				     DWORD flags, CK_OBJECT_HANDLE *priv, CK_RV *rv)
{
	DWORD err;

	/* A token that takes no private key (tpm2-pkcs11, cards) is asked
	 * once; afterwards its refusal is only recalled. */
	if (token_cap(ctx->ts.tok, TOKEN_CAP_CREATE_PRIVATE_KEY) == TOKEN_CAP_NO) {
		*rv = CKR_TEMPLATE_INCONSISTENT;
		p11call_note_refusal(P11_C_CreateObject, *rv);
	} else {
		*rv = token_create(&ctx->ts, plan->priv, plan->n_priv, priv);
		/* An extractable key refused says nothing of private keys. */
		if (*rv == CKR_OK || !(flags & CRYPT_EXPORTABLE))
			token_cap_learn(ctx->ts.tok, TOKEN_CAP_CREATE_PRIVATE_KEY, *rv);
	}
	err = key_exportable_learn(&ctx->ts, (flags & CRYPT_EXPORTABLE) != 0, *rv);
	/* The token will not hold a private key made elsewhere: no route to
	 * import one (SPEC section 7's code for an operation the CSP cannot
	 * do). */
	if (err == ERROR_SUCCESS && *rv != CKR_OK && token_rv_is_refusal(*rv) &&
	    token_cap(ctx->ts.tok, TOKEN_CAP_CREATE_PRIVATE_KEY) == TOKEN_CAP_NO)
		err = NTE_NOT_SUPPORTED;
	return err;
}

DWORD key_pair_generate_locked(struct context *ctx, struct key_pair_plan *plan,
			       CK_MECHANISM_TYPE mech, DWORD flags, struct key **out)
{
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	DWORD err;
	CK_RV rv;

	rv = token_generate_key_pair(&ctx->ts, mech, plan->pub, plan->n_pub, plan->priv,
				     plan->n_priv, &pub, &priv);
	/* Only the function's own refusal says the token never makes pairs;
	 * a refused template (an extractable key on a TPM) says nothing of
	 * the next one. */
	if (rv == CKR_OK || rv == CKR_FUNCTION_NOT_SUPPORTED)
		token_cap_learn(ctx->ts.tok, TOKEN_CAP_GENERATE_KEY_PAIR, rv);
	err = key_exportable_learn(&ctx->ts, (flags & CRYPT_EXPORTABLE) != 0, rv);
	if (rv != CKR_OK)
		pub = priv = CK_INVALID_HANDLE;
	return key_pair_store_locked(ctx, plan, rv, err, ERROR_OP_GENKEY, priv, pub, out);
}

static DWORD key_generate_rsa_locked(struct context *ctx, ALG_ID algid, DWORD flags,
				     struct key **out)
{
	DWORD spec = (algid == AT_KEYEXCHANGE || algid == CALG_RSA_KEYX) ? AT_KEYEXCHANGE : AT_SIGNATURE;
	static CK_BYTE exponent[] = { 0x01, 0x00, 0x01 };
	struct container_lock lock = { -1 };
	struct key_pair_plan plan;
	CK_ULONG bits = 0;
	DWORD err;

	/* A write-protected token answers that before anything else; a
	 * token that refused C_GenerateKeyPair once is not asked again. */
	err = key_store_check(&ctx->ts, !ctx->verify);
	if (err == ERROR_SUCCESS &&
	    token_cap(ctx->ts.tok, TOKEN_CAP_GENERATE_KEY_PAIR) == TOKEN_CAP_NO)
		err = key_pair_gen_missing(ctx);
	if (err == ERROR_SUCCESS)
		err = key_rsa_bits(ctx, flags, &bits);
	if (err != ERROR_SUCCESS)
		return err;
	/* Finding the pair to replace and replacing it is one change of the
	 * container, serialised across processes (container-lock.h); the
	 * login, which may prompt, comes first. */
	if (!ctx->verify) {
		err = context_login_locked(ctx, true);
		if (err == ERROR_SUCCESS)
			err = container_lock_take(ctx->ts.tok, ctx->container, &lock);
		if (err != ERROR_SUCCESS)
			return err;
	}
	err = key_pair_begin_locked(ctx, spec, (flags & CRYPT_EXPORTABLE) != 0, &plan);
	if (err != ERROR_SUCCESS)
		goto out;
	plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &bits, sizeof bits };
	plan.pub[plan.n_pub++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, exponent, sizeof exponent };
	err = key_pair_generate_locked(ctx, &plan, CKM_RSA_PKCS_KEY_PAIR_GEN, flags, out);
out:
	container_lock_release(&lock);
	return err;
}

struct sym_gen {
	ALG_ID algid;
	CK_MECHANISM_TYPE mech;
	DWORD kp_keylen;               /* bits, as KP_KEYLEN reports them */
	DWORD block_bits;
	DWORD accept_a, accept_b;      /* HIWORD(dwFlags) values taken besides 0 */
};

/* Session keys CryptGenKey makes. DES-family lengths are accepted with and
 * without parity bits, as Windows accepts them. */
static const struct sym_gen sym_gens[] = {
	{ CALG_AES_128, CKM_AES_KEY_GEN, 128, 128, 128, 128 },
	{ CALG_AES_192, CKM_AES_KEY_GEN, 192, 128, 192, 192 },
	{ CALG_AES_256, CKM_AES_KEY_GEN, 256, 128, 256, 256 },
	{ CALG_DES, CKM_DES_KEY_GEN, 64, 64, 56, 64 },
	{ CALG_3DES_112, CKM_DES2_KEY_GEN, 128, 64, 112, 128 },
	{ CALG_3DES, CKM_DES3_KEY_GEN, 192, 64, 168, 192 },
	{ CALG_RC2, CKM_RC2_KEY_GEN, 128, 64, 0, 0 },
	{ CALG_RC4, CKM_RC4_KEY_GEN, 128, 0, 0, 0 },
};

/* Whether tok can generate g's keys: the mechanism with CKF_GENERATE,
 * CKK_DES2 for a two-key 3DES key (a token without it could hold
 * K1|K2|K1, but K1|K2 would have to pass through this process, where a key
 * that may not leave the token never is), and no refusal of C_GenerateKey
 * seen before. */
static bool key_token_generates(struct token *tok, const struct sym_gen *g)
{
	CK_MECHANISM_INFO info;

	if (g->algid == CALG_3DES_112 && !token_has_des2(tok))
		return false;
	if (token_cap(tok, TOKEN_CAP_GENERATE_KEY) == TOKEN_CAP_NO)
		return false;
	return token_mechanism_info(tok, g->mech, &info) == CKR_OK && (info.flags & CKF_GENERATE);
}

/* C_GenerateKey of g's key on ts, a session object; *rv the token's
 * answer, so that a refusal can go to the companion. */
static DWORD key_generate_secret_on_locked(struct context *ctx, struct tsession *ts,
					   const struct sym_gen *g, DWORD flags, DWORD bits,
					   struct key **out, CK_RV *rv)
{
	CK_ATTRIBUTE tmpl[KEY_SECRET_ATTRS + KEY_KEK_ATTRS + KEY_PROTECT_ATTRS + 1];
	bool exportable = (flags & CRYPT_EXPORTABLE) != 0;
	bool kek = (flags & CRYPT_KEK) != 0;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG value_len = 0, n;
	CK_KEY_TYPE type;
	DWORD err;

	*rv = CKR_OK;
	alg_key_type(g->algid, &type);
	key_secret_template_locked(ctx, ts, &type, exportable, tmpl);
	n = key_secret_template_kek(tmpl, kek);
	err = key_template_protect_locked(ts, tmpl, &n, false);
	if (err != ERROR_SUCCESS)
		return err;
	/* DES keys have a fixed length; only AES, RC2 and RC4 are told. */
	if (type != CKK_DES && type != CKK_DES2 && type != CKK_DES3) {
		value_len = bits / 8;
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_VALUE_LEN, &value_len, sizeof value_len };
	}
	*rv = token_generate_key(ts, g->mech, tmpl, n, &h);
	/* Only the function's own refusal says the token makes no session
	 * keys at all; a refused template (a length, a usage) says nothing of
	 * the next key, as for key pairs. */
	if (*rv == CKR_OK || *rv == CKR_FUNCTION_NOT_SUPPORTED)
		token_cap_learn(ts->tok, TOKEN_CAP_GENERATE_KEY, *rv);
	if (*rv != CKR_OK)
		return error_from_ckr(*rv, ERROR_OP_GENKEY);
	err = key_adopt_on_locked(ctx, ts, h, CK_INVALID_HANDLE, type, g->algid, bits, exportable,
				  true, out);
	if (err != ERROR_SUCCESS)
		token_destroy(ts, h);
	else if (kek)
		key_mark_wrap_only(*out);
	return err;
}

bool key_alg_has_companion_route(ALG_ID alg)
{
	/* The block ciphers CryptEncrypt runs (cipher.c); RC4, a stream
	 * cipher whose state would have to outlive a call, is not run there,
	 * so no key of it is made anywhere but on a token that has it. */
	return alg_is_aes(alg) || alg == CALG_DES || alg == CALG_3DES || alg == CALG_3DES_112 ||
	       alg == CALG_RC2;
}

/* A session key on the main token when it can make it, else on the
 * companion (issue routes: session keys of a card go to the companion, as
 * Windows' smart card CSP makes them in its software CSP). What neither
 * can make is NTE_BAD_ALGID, as before there was a companion. */
static DWORD key_generate_secret_locked(struct context *ctx, const struct sym_gen *g, DWORD flags,
					struct key **out)
{
	DWORD want = HIWORD(flags);
	DWORD bits = g->kp_keylen;
	size_t min_len, max_len;
	struct tsession *cts = NULL;
	DWORD err;
	CK_RV rv = CKR_OK;

	alg_symmetric_key_range(g->algid, &min_len, &max_len);
	if (min_len == max_len) {
		if (want != 0 && want != g->accept_a && want != g->accept_b)
			return alg_is_des_family(g->algid) ? NTE_BAD_FLAGS : NTE_BAD_DATA;
	} else if (want != 0) {
		/* RC2 and RC4 take a length in 8-bit steps. */
		if (want % 8 != 0 || want / 8 < min_len || want / 8 > max_len)
			return NTE_BAD_DATA;
		bits = want;
	}
	if (key_token_generates(ctx->ts.tok, g)) {
		err = key_generate_secret_on_locked(ctx, &ctx->ts, g, flags, bits, out, &rv);
		/* Advertised and refused at use: the companion, once. */
		if (!token_rv_is_refusal(rv) || !context_has_companion_locked(ctx) ||
		    !key_alg_has_companion_route(g->algid))
			return err;
	}
	/* No token makes it: an algorithm this provider does not offer, the
	 * main token's refusal (or missing mechanism) named as the cause. A
	 * companion that cannot be opened says why. */
	if (context_has_companion_locked(ctx) && key_alg_has_companion_route(g->algid)) {
		err = context_companion_locked(ctx, &cts);
		if (err != ERROR_SUCCESS)
			return err;
	}
	if (cts == NULL || !key_token_generates(cts->tok, g)) {
		if (rv == CKR_OK || !token_rv_is_refusal(rv))
			p11call_note_refusal(P11_C_GenerateKey, CKR_MECHANISM_INVALID);
		return NTE_BAD_ALGID;
	}
	trace_route("route: CryptGenKey %#x on the companion token %s", (unsigned)g->algid,
		      token_label(cts->tok));
	return key_generate_secret_on_locked(ctx, cts, g, flags, bits, out, &rv);
}

DWORD key_adopt_locked(struct context *ctx, CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub,
		       CK_KEY_TYPE type, ALG_ID algid, DWORD bits, bool exportable, bool owned,
		       struct key **out)
{
	return key_adopt_on_locked(ctx, &ctx->ts, priv, pub, type, algid, bits, exportable, owned,
				   out);
}

DWORD key_adopt_on_locked(struct context *ctx, struct tsession *ts, CK_OBJECT_HANDLE priv,
			  CK_OBJECT_HANDLE pub, CK_KEY_TYPE type, ALG_ID algid, DWORD bits,
			  bool exportable, bool owned, struct key **out)
{
	struct keyobj *obj;
	struct key *key;
	size_t i;
	DWORD err;
	CK_RV rv;

	/* A session object made on a session that the token has dropped
	 * since (some call of this operation said so) is gone with it. */
	if (owned && ts->lost)
		return error_from_ckr(ts->lost_rv, ERROR_OP_GENERIC);
	obj = keyobj_new(priv, pub, type, owned);
	if (obj != NULL)
		obj->companion = (ts == &ctx->cts);
	key = obj ? key_new(ctx, obj) : NULL;
	if (key == NULL || (owned && !context_add_owned_locked(ctx, obj))) {
		key_discard(key);
		keyobj_unref_locked(ctx, obj);
		return NTE_NO_MEMORY;
	}
	key->algid = algid;
	if (type == CKK_RSA || type == CKK_DSA || type == CKK_DH) {
		key->spec = (algid == CALG_RSA_KEYX || type == CKK_DH) ? AT_KEYEXCHANGE
									 : AT_SIGNATURE;
		rv = key_read_rsa_locked(key);
		if (rv != CKR_OK) {
			err = error_from_ckr(rv, ERROR_OP_GENERIC);
			goto fail;
		}
	} else {
		key->bits = bits;
		for (i = 0; i < CAPI11_N_ELEMENTS(sym_gens); i++) {
			if (sym_gens[i].algid == algid)
				key->block_bits = sym_gens[i].block_bits;
		}
		key->exportable = exportable;
		key->permissions = KEY_BASE_PERMISSIONS | (exportable ? CRYPT_EXPORT : 0);
	}
	*out = key;
	return ERROR_SUCCESS;
fail:
	key_discard(key);
	if (owned)
		context_remove_owned_locked(ctx, obj);
	capi11_free(obj);
	return err;
}

DWORD key_generate_locked(struct context *ctx, ALG_ID algid, DWORD flags, struct key **out)
{
	size_t i;

	/* The DSS types make DSS signature keys (dss.c) and, PROV_DSS_DH,
	 * Diffie-Hellman keys (dh.c), AT_KEYEXCHANGE naming CALG_DH_SF as in
	 * Microsoft's DSS/DH provider. CRYPT_PREGEN makes a key whose
	 * numbers CryptSetKeyParam gives (dh.h). */
	if (prov_type_is_dss(ctx->prov_type)) {
		DWORD valid = VALID_GENKEY_FLAGS | CRYPT_PREGEN;

		if (algid == AT_SIGNATURE || algid == CALG_DSS_SIGN) {
			if (LOWORD(flags) & ~valid)
				return NTE_BAD_FLAGS;
			if (flags & CRYPT_PREGEN)
				return dh_pregen_locked(ctx, CALG_DSS_SIGN, flags, out);
			return dss_generate_locked(ctx, flags, out);
		}
		if (algid == AT_KEYEXCHANGE || algid == CALG_DH_SF || algid == CALG_DH_EPHEM) {
			if (ctx->prov_type != PROV_DSS_DH)
				return NTE_BAD_ALGID;
			if (LOWORD(flags) & ~valid)
				return NTE_BAD_FLAGS;
			algid = algid == CALG_DH_EPHEM ? CALG_DH_EPHEM : CALG_DH_SF;
			if (flags & CRYPT_PREGEN)
				return dh_pregen_locked(ctx, algid, flags, out);
			return dh_generate_locked(ctx, algid, flags, out);
		}
	}
	if (!prov_type_serves(ctx->prov_type, algid))
		return NTE_BAD_ALGID;
	if (algid == AT_KEYEXCHANGE || algid == AT_SIGNATURE || algid == CALG_RSA_KEYX ||
	    algid == CALG_RSA_SIGN) {
		if (LOWORD(flags) & ~(DWORD)VALID_GENKEY_FLAGS)
			return NTE_BAD_FLAGS;
		return key_generate_rsa_locked(ctx, algid, flags, out);
	}
	for (i = 0; i < CAPI11_N_ELEMENTS(sym_gens); i++) {
		if (sym_gens[i].algid == algid) {
			/* CRYPT_KEK: a wrap-only AES key (key_kek_flag_check). */
			if (LOWORD(flags) & ~(DWORD)(VALID_GENKEY_FLAGS | CRYPT_KEK))
				return NTE_BAD_FLAGS;
			if (key_kek_flag_check(algid, flags) != ERROR_SUCCESS)
				return NTE_BAD_FLAGS;
			return key_generate_secret_locked(ctx, &sym_gens[i], flags, out);
		}
	}
	return NTE_BAD_ALGID;
}

/* One attempt of CryptGetUserKey; *rv is the token's answer when one
 * failed the attempt. */
static DWORD key_get_user_try_locked(struct context *ctx, DWORD spec, struct key **out,
				     CK_RV *rv_out)
{
	bool dss = prov_type_is_dss(ctx->prov_type);
	CK_KEY_TYPE pair_type = CKK_RSA;
	struct container_key found;
	struct keyobj *obj;
	struct key *key;
	DWORD err;
	CK_RV rv;

	if (spec == CAPI11_AT_KEK)
		return trust_get_kek_locked(ctx, out);
	if (spec != AT_KEYEXCHANGE && spec != AT_SIGNATURE)
		return NTE_NO_KEY;
	/* A DSS context sees the container's DSS pair (and, PROV_DSS_DH, its
	 * Diffie-Hellman exchange pair), an RSA context its RSA pairs, as
	 * Windows keeps each provider's keys apart. */
	if (dss) {
		if (spec == AT_KEYEXCHANGE && ctx->prov_type != PROV_DSS_DH)
			return NTE_NO_KEY;
		pair_type = spec == AT_KEYEXCHANGE ? CKK_DH : CKK_DSA;
	}
	if (ctx->verify) {
		/* A verify context's key pairs live in memory, as rsaenh keeps
		 * them: the last one generated of each spec. */
		obj = ctx->verify_keys[spec - 1];
		if (obj == NULL)
			return NTE_NO_KEY;
		atomic_fetch_add(&obj->refs, 1);
	} else {
		/* Private keys show only after login. */
		err = context_login_locked(ctx, true);
		if (err != ERROR_SUCCESS)
			return err;
		rv = container_find_key_type(&ctx->ts, ctx->container, spec, pair_type, &found);
		*rv_out = rv;
		if (rv != CKR_OK)
			return error_from_ckr(rv, ERROR_OP_GENERIC);
		if (found.priv == CK_INVALID_HANDLE)
			return NTE_NO_KEY;
		obj = keyobj_new(found.priv, found.pub, found.type, false);
	}
	key = obj ? key_new(ctx, obj) : NULL;
	if (key == NULL) {
		keyobj_unref_locked(ctx, obj);
		return NTE_NO_MEMORY;
	}
	key->algid = pair_type == CKK_DH    ? CALG_DH_SF
		     : dss                  ? CALG_DSS_SIGN
		     : spec == AT_KEYEXCHANGE ? CALG_RSA_KEYX
					      : CALG_RSA_SIGN;
	key->spec = spec;
	rv = key_read_rsa_locked(key);
	*rv_out = rv;
	if (rv != CKR_OK) {
		key_discard(key);
		keyobj_unref_locked(ctx, obj);
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	}
	/* A stored DH pair finds its group's q again (dh.h). */
	if (pair_type == CKK_DH && !ctx->verify)
		dh_q_load_locked(key);
	*out = key;
	return ERROR_SUCCESS;
}

DWORD key_get_user_locked(struct context *ctx, DWORD spec, struct key **out)
{
	unsigned attempt;
	DWORD err;
	CK_RV rv;

	/* Another context or process may replace the pair between the search
	 * and the reads that follow it: the key found is then gone, and the
	 * container's new one is looked for again. */
	for (attempt = 0;; attempt++) {
		rv = CKR_OK;
		err = key_get_user_try_locked(ctx, spec, out, &rv);
		if ((rv != CKR_OBJECT_HANDLE_INVALID && rv != CKR_KEY_HANDLE_INVALID) || attempt == 2)
			return err;
	}
}

DWORD key_duplicate_locked(struct key *key, struct key **out)
{
	struct key *copy = capi11_malloc(sizeof *copy);

	if (copy == NULL)
		return NTE_NO_MEMORY;
	/* Everything after the handle header, which the context lock does not
	 * guard: other threads change its reference count at any time. */
	memcpy((char *)copy + sizeof copy->base, (const char *)key + sizeof key->base,
	       sizeof *key - sizeof key->base);
	/* An agreed key's copy has its own agreement record. */
	copy->agreed = NULL;
	copy->pregen = NULL;
	if ((key->agreed != NULL && (copy->agreed = agreed_dup_locked(key->agreed)) == NULL) ||
	    (key->pregen != NULL && (copy->pregen = pregen_dup(key->pregen)) == NULL)) {
		agreed_free_locked(key->ctx, copy->agreed);
		capi11_free(copy);
		return NTE_NO_MEMORY;
	}
	handle_obj_init(&copy->base, HANDLE_KEY, key_destroy_obj);
	copy->serial = atomic_fetch_add(&key_serials, 1);
	atomic_store(&copy->simple_size, 0);
	handle_obj_ref(&key->ctx->base);
	atomic_fetch_add(&key->obj->refs, 1);
	*out = copy;
	return ERROR_SUCCESS;
}

DWORD key_new_pending_locked(struct context *ctx, CK_KEY_TYPE type, ALG_ID algid,
			     struct key **out)
{
	struct keyobj *obj = keyobj_new(CK_INVALID_HANDLE, CK_INVALID_HANDLE, type, false);
	struct key *key = obj ? key_new(ctx, obj) : NULL;

	if (key == NULL) {
		capi11_free(obj);
		return NTE_NO_MEMORY;
	}
	key->algid = algid;
	key->permissions = KEY_BASE_PERMISSIONS;
	*out = key;
	return ERROR_SUCCESS;
}

void key_take_pair_locked(struct key *key, struct key *made)
{
	struct context *ctx = key->ctx;

	keyobj_unref_locked(ctx, key->obj);
	key->obj = made->obj;
	key->algid = made->algid;
	key->spec = made->spec;
	key->bits = made->bits;
	key->block_bits = made->block_bits;
	key->exportable = made->exportable;
	key->permissions = made->permissions;
	made->obj = NULL;
	key_discard(made);
}

DWORD key_replace_secret_locked(struct key *key, struct tsession *ts, CK_OBJECT_HANDLE h,
				CK_KEY_TYPE type, ALG_ID algid, DWORD bits, bool exportable)
{
	struct context *ctx = key->ctx;
	struct keyobj *obj = keyobj_new(h, CK_INVALID_HANDLE, type, true);
	size_t i;

	if (obj == NULL)
		return NTE_NO_MEMORY;
	obj->companion = (ts == &ctx->cts);
	if (!context_add_owned_locked(ctx, obj)) {
		capi11_free(obj);
		return NTE_NO_MEMORY;
	}
	keyobj_unref_locked(ctx, key->obj);
	key->obj = obj;
	key->algid = algid;
	key->bits = bits;
	key->block_bits = 0;
	for (i = 0; i < CAPI11_N_ELEMENTS(sym_gens); i++) {
		if (sym_gens[i].algid == algid)
			key->block_bits = sym_gens[i].block_bits;
	}
	key->exportable = exportable;
	key->permissions = KEY_BASE_PERMISSIONS | (exportable ? CRYPT_EXPORT : 0);
	key->mode = CRYPT_MODE_CBC;
	key->padding = PKCS5_PADDING;
	memset(key->iv, 0, sizeof key->iv);
	memset(key->chain, 0, sizeof key->chain);
	return ERROR_SUCCESS;
}
