/* Contexts: acquiring (provider resolution, token, PIN, container),
 * login, release. */
#include "config.h"
#include "context.h"
#include "prov-default.h"
#include "companion.h"
#include "config-cache.h"
#include "container.h"
#include "container-lock.h"
#include "errors.h"
#include "key.h"
#include "pin.h"
#include "prov-names.h"
#include "prov-type.h"
#include "sign.h"
#include "trace.h"
#include "uri.h"
#include "util.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define VALID_ACQUIRE_FLAGS (CRYPT_VERIFYCONTEXT | CRYPT_NEWKEYSET | CRYPT_DELETEKEYSET | \
			     CRYPT_MACHINE_KEYSET | CRYPT_SILENT | CRYPT_DEFAULT_CONTAINER_OPTIONAL)

/* What acquiring needs from the configuration, copied out of it so that
 * a reload cannot pull it from under the context. */
struct provider_choice {
	char *name;
	char *uri;                     /* NULL: first token of the registered modules */
	bool uri_borrowed;             /* uri is the caller's provider string */
	DWORD type;                    /* 0: any type of the RSA personality */
	char *pin_value;
	char *pin_source;
	char *default_container;
	char *pin_prompt;
	char *companion;               /* NULL: the default (nss) */
	struct config_settings settings;
};

static void provider_choice_clear(struct provider_choice *pc)
{
	capi11_free(pc->name);
	/* A provider URI may carry its PIN (pin-value); the caller's own
	 * string is the caller's to wipe. */
	if (!pc->uri_borrowed)
		capi11_free_string_secret(pc->uri);
	capi11_free_string_secret(pc->pin_value);
	capi11_free(pc->pin_source);
	capi11_free(pc->default_container);
	capi11_free(pc->pin_prompt);
	/* A companion URI may carry its PIN. */
	capi11_free_string_secret(pc->companion);
	memset(pc, 0, sizeof *pc);
}

static char *strdup_or_null(const char *s, bool *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = capi11_strdup(s);
	if (d == NULL)
		*failed = true;
	return d;
}

/* What provider_choose asks of the configuration. */
struct provider_query {
	const char *provider;
	const char *caller_provider;   /* CryptAcquireContext's, alive until it returns */
	DWORD type;
	struct provider_choice *pc;
};

static DWORD provider_choose_in(const struct capi11_config *cfg, void *data)
{
	const struct provider_query *q = data;
	struct provider_choice *pc = q->pc;
	const struct config_provider *p = NULL;
	const struct config_settings *settings = config_settings_global(cfg);
	const char *name = q->provider, *uri = NULL;
	DWORD alias_type = 0;
	bool failed = false;

	/* No name: the machine's default of this type first (CryptSetProviderEx
	 * with CRYPT_MACHINE_DEFAULT), then default-provider below. */
	if (name == NULL || name[0] == '\0')
		name = config_type_default(cfg, q->type);
	if (name != NULL && name[0] != '\0' && strncmp(name, "pkcs11:", 7) != 0 &&
	    config_provider_find(cfg, name) == NULL) {
		if (!prov_ms_name_find(name, &alias_type))
			return NTE_KEYSET_NOT_DEF;
		pc->name = strdup_or_null(name, &failed);
		name = NULL;           /* served by the default provider */
	}
	if (name == NULL || name[0] == '\0')
		name = config_default_provider(cfg);

	if (name != NULL && strncmp(name, "pkcs11:", 7) == 0) {
		uri = name;
	} else if (name != NULL) {
		p = config_provider_find(cfg, name);
		/* A default-provider naming no section is a broken file. */
		if (p == NULL)
			return NTE_KEYSET_NOT_DEF;
		uri = p->uri;
		settings = &p->settings;
		if (pc->name == NULL)
			pc->name = strdup_or_null(p->name, &failed);
	}
	/* A Microsoft name keeps the type Windows registers it with. */
	pc->type = alias_type != 0 ? alias_type : p != NULL ? p->type : 0;
	if (pc->type != 0 && pc->type != q->type)
		return NTE_PROV_TYPE_NO_MATCH;
	if (pc->name == NULL)
		pc->name = strdup_or_null(PROV_NAME_DEFAULT, &failed);
	/* A URI the caller passed lives until the acquire returns: no copy.
	 * One from the configuration may go with a reload. */
	if (uri != NULL && uri == q->caller_provider) {
		pc->uri = (char *)uri;
		pc->uri_borrowed = true;
	} else {
		pc->uri = strdup_or_null(uri, &failed);
	}
	if (p != NULL) {
		pc->pin_value = strdup_or_null(p->pin_value, &failed);
		pc->pin_source = strdup_or_null(p->pin_source, &failed);
	}
	pc->settings = *settings;
	pc->default_container = strdup_or_null(settings->default_container, &failed);
	pc->pin_prompt = strdup_or_null(settings->pin_prompt, &failed);
	pc->companion = strdup_or_null(settings->companion, &failed);
	pc->settings.default_container = NULL;
	pc->settings.pin_prompt = NULL;
	pc->settings.companion = NULL;
	return failed ? NTE_NO_MEMORY : ERROR_SUCCESS;
}

/* Resolves the provider name of CryptAcquireContext into pc. */
static DWORD provider_choose(const char *provider, DWORD type, struct provider_choice *pc)
{
	struct provider_query q = { .provider = provider, .caller_provider = provider,
				    .type = type, .pc = pc };
	char *user_default = NULL;
	DWORD err;

	/* No name: the user's default of this type comes first, as HKCU's
	 * comes before HKLM's on Windows. */
	if (provider == NULL || provider[0] == '\0') {
		err = prov_default_user(type, &user_default);
		if (err != ERROR_SUCCESS)
			return err;
		if (user_default != NULL)
			q.provider = user_default;
	}
	err = config_cache_visit(provider_choose_in, &q);
	capi11_free(user_default);
	return err;
}

/* Opens the token and takes the PIN the URI carries, if any. A URI that
 * uri_parse_provider refuses is NTE_BAD_PROVIDER, as one that p11-kit
 * cannot parse always was: the provider string itself is wrong. */
static DWORD provider_open_token(struct provider_choice *pc, struct token **tok)
{
	struct uri_cache_entry *ref = NULL;
	P11KitUri *uri = NULL;
	const char *v, *reason = NULL;
	char what[128];
	bool failed = false;
	CK_RV rv;
	int rc;

	if (pc->uri == NULL)
		return error_from_ckr(token_open_default(tok), ERROR_OP_GENERIC);
	trace_uri(2, "provider URI", pc->uri);
	rc = uri_cache_get(pc->uri, &uri, &ref, &reason);
	if (rc != 0) {
		snprintf(what, sizeof what, "provider URI refused (%s)", reason);
		trace_uri(1, what, pc->uri);
		return rc == ENOMEM ? NTE_NO_MEMORY : NTE_BAD_PROVIDER;
	}
	/* The URI's PIN wins over the configuration's. */
	v = p11_kit_uri_get_pin_value(uri);
	if (v != NULL) {
		capi11_free_string_secret(pc->pin_value);
		capi11_free(pc->pin_source);
		pc->pin_source = NULL;
		pc->pin_value = strdup_or_null(v, &failed);
	} else if ((v = p11_kit_uri_get_pin_source(uri)) != NULL) {
		capi11_free_string_secret(pc->pin_value);
		capi11_free(pc->pin_source);
		pc->pin_value = NULL;
		pc->pin_source = strdup_or_null(v, &failed);
	}
	rv = failed ? CKR_HOST_MEMORY : token_open_uri(uri, tok);
	if (rv == CKR_TOKEN_NOT_PRESENT)
		trace_uri(1, "no token present matches the provider URI", pc->uri);
	/* A cached parse stays in the cache (uri.h); one with a PIN goes. */
	if (ref != NULL)
		uri_cache_put(ref);
	else
		uri_free_wiped(uri);
	return error_from_ckr(rv, ERROR_OP_GENERIC);
}

static char *default_container_name(const struct provider_choice *pc)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (pc->default_container != NULL)
		return capi11_strdup(pc->default_container);
	/* Windows names the default container after the user. */
	if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res != NULL)
		return capi11_strdup(res->pw_name);
	return capi11_strdup("default");
}

static void context_destroy(struct handle_obj *base)
{
	struct context *ctx = (struct context *)base;

	container_list_free(ctx->enum_names, ctx->n_enum_names);
	capi11_free(ctx->keys);
	capi11_free(ctx->owned);
	capi11_free(ctx->prov_name);
	capi11_free(ctx->container);
	capi11_free_string_secret(ctx->pin);
	capi11_free(ctx->pin_prompt);
	capi11_free(ctx->pin_source);
	capi11_free_string_secret(ctx->companion_spec);
	pthread_mutex_destroy(&ctx->lock);
	capi11_free(ctx);
}

static struct context *context_new(void)
{
	struct context *ctx = capi11_calloc(1, sizeof *ctx);

	if (ctx == NULL)
		return NULL;
	handle_obj_init(&ctx->base, HANDLE_PROV, context_destroy);
	pthread_mutex_init(&ctx->lock, NULL);
	atomic_init(&ctx->api_refs, 1);
	ctx->ts.handle = CK_INVALID_HANDLE;
	ctx->cts.handle = CK_INVALID_HANDLE;
	return ctx;
}

DWORD context_check_mechanism(struct context *ctx, CK_MECHANISM_TYPE mech, CK_FLAGS use)
{
	return token_check_mechanism(ctx->ts.tok, mech, use);
}

DWORD token_check_mechanism(struct token *tok, CK_MECHANISM_TYPE mech, CK_FLAGS use)
{
	CK_MECHANISM_INFO info;

	if (token_mechanism_info(tok, mech, &info) != CKR_OK || !(info.flags & use))
		return NTE_NOT_SUPPORTED;
	return ERROR_SUCCESS;
}

/* Why no PIN came from a pin-source file or a prompt, for a Windows
 * caller. A PIN that was read but cannot be a PIN (too long, a NUL byte)
 * is what the token would call a wrong PIN (CKR_PIN_LEN_RANGE,
 * CKR_PIN_INVALID), so it gets the same code as one that C_Login refuses;
 * otherwise: other. */
static DWORD pin_error(int perr, DWORD other)
{
	switch (perr) {
	case E2BIG:
	case EILSEQ:
		return SCARD_W_WRONG_CHV;
	case ENOMEM:
		return NTE_NO_MEMORY;
	case ECANCELED:
	case EINTR:
		return SCARD_W_CANCELLED_BY_USER;
	default:
		return other;
	}
}

DWORD context_login_locked(struct context *ctx, bool may_prompt)
{
	char *pin = NULL;
	int perr = 0;
	CK_RV rv;

	if (!token_needs_login(ctx->ts.tok) || tsession_is_logged_in(&ctx->ts))
		return ERROR_SUCCESS;
	if (ctx->pin == NULL && token_has_pinpad(ctx->ts.tok)) {
		/* The reader asks for the PIN itself. */
		rv = tsession_login(&ctx->ts, NULL, 0);
		return error_from_ckr(rv, ERROR_OP_LOGIN);
	}
	if (ctx->pin != NULL) {
		pin = ctx->pin;
		ctx->pin = NULL;
	} else if (ctx->pin_source != NULL) {
		/* Logged out since acquire (the security officer's step): the
		 * provider's file again, never a prompt in its stead. */
		pin = pin_read_source(ctx->pin_source, &perr);
		if (pin == NULL)
			return pin_error(perr, NTE_KEYSET_ENTRY_BAD);
	} else if (ctx->silent || !may_prompt) {
		return NTE_SILENT_CONTEXT;
	} else {
		pin = pin_request(ctx->pin_prompt, token_label(ctx->ts.tok), &perr);
		if (pin == NULL)
			return pin_error(perr, NTE_SILENT_CONTEXT);
	}
	/* One attempt per PIN: a rejected PIN is wiped, never retried, so that
	 * the library cannot lock a card by itself. */
	rv = tsession_login(&ctx->ts, pin, strlen(pin));
	capi11_free_string_secret(pin);
	return error_from_ckr(rv, ERROR_OP_LOGIN);
}

DWORD context_set_pin_locked(struct context *ctx, const char *pin)
{
	char *copy;
	CK_RV rv;

	/* A PIN that cannot be right is refused even when nothing would
	 * check it (a token already logged in). */
	rv = token_pin_check(ctx->ts.tok, pin, strlen(pin));
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_LOGIN);
	copy = capi11_strdup(pin);
	if (copy == NULL)
		return NTE_NO_MEMORY;
	capi11_free_string_secret(ctx->pin);
	ctx->pin = copy;
	if (tsession_is_logged_in(&ctx->ts)) {
		/* Nothing to check the PIN against without logging out, which
		 * would kill every session object on the token. */
		capi11_free_string_secret(ctx->pin);
		ctx->pin = NULL;
		return ERROR_SUCCESS;
	}
	return context_login_locked(ctx, false);
}

/* Opens, creates or deletes the container, per the acquire flags. */
static DWORD context_open_container_locked(struct context *ctx, DWORD flags, bool *deleted)
{
	struct container_lock lock = { -1 };
	bool exists = false;
	DWORD err;
	CK_RV rv;

	/* Deleting destroys private objects: it needs the login first, and
	 * then the container's lock (container-lock.h), never held across a
	 * PIN prompt. */
	if (flags & CRYPT_DELETEKEYSET) {
		err = context_login_locked(ctx, true);
		if (err == ERROR_SUCCESS)
			err = container_lock_take(ctx->ts.tok, ctx->container, &lock);
		if (err != ERROR_SUCCESS)
			return err;
		rv = container_delete(&ctx->ts, ctx->container, &exists);
		container_lock_release(&lock);
		if (rv != CKR_OK)
			return error_from_ckr(rv, ERROR_OP_GENERIC);
		*deleted = true;
		return exists ? ERROR_SUCCESS : NTE_BAD_KEYSET;
	}
	/* Public objects (the marker, public keys) tell without a PIN; a
	 * container of private keys only shows after login. */
	rv = container_exists(&ctx->ts, ctx->container, &exists);
	if (rv == CKR_OK && !exists && token_needs_login(ctx->ts.tok) &&
	    !tsession_is_logged_in(&ctx->ts)) {
		err = context_login_locked(ctx, true);
		/* A silent CRYPT_NEWKEYSET without a PIN still makes its (public)
		 * marker, so that the Windows pattern of a silent acquire followed
		 * by PP_KEYEXCHANGE_PIN works; opening needs to see the keys. */
		if (err == NTE_SILENT_CONTEXT && (flags & CRYPT_NEWKEYSET))
			err = ERROR_SUCCESS;
		else if (err != ERROR_SUCCESS)
			return err;
		else
			rv = container_exists(&ctx->ts, ctx->container, &exists);
	}
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	if (flags & CRYPT_NEWKEYSET) {
		if (exists)
			return NTE_EXISTS;
		/* Asked again under the lock: another process may have made it
		 * since, and two markers would make one container twice. */
		err = container_lock_take(ctx->ts.tok, ctx->container, &lock);
		if (err != ERROR_SUCCESS)
			return err;
		rv = container_exists(&ctx->ts, ctx->container, &exists);
		if (rv == CKR_OK && !exists)
			rv = container_create(&ctx->ts, ctx->container);
		container_lock_release(&lock);
		if (rv == CKR_OK && exists)
			return NTE_EXISTS;
		return error_from_ckr(rv, ERROR_OP_GENERIC);
	}
	return exists ? ERROR_SUCCESS : NTE_BAD_KEYSET;
}

DWORD context_check_prov_type(DWORD type)
{
	return (type == 0 || type > 999) ? NTE_BAD_PROV_TYPE : ERROR_SUCCESS;
}

/* The provider's own checks, after advapi32 has found the provider:
 * rsaenh's order, the container name's length, then the flags. */
static DWORD acquire_check_args(const char *container, DWORD flags)
{
	if (container != NULL && strlen(container) > CONTAINER_NAME_MAX)
		return NTE_BAD_KEYSET_PARAM;
	if (flags & ~(DWORD)VALID_ACQUIRE_FLAGS)
		return NTE_BAD_FLAGS;
	if ((flags & CRYPT_NEWKEYSET) && (flags & CRYPT_DELETEKEYSET))
		return NTE_BAD_FLAGS;
	/* rsaenh takes CRYPT_VERIFYCONTEXT | CRYPT_NEWKEYSET as a plain verify
	 * context (there is nothing to create); deleting from one is an error. */
	if ((flags & CRYPT_VERIFYCONTEXT) &&
	    ((flags & CRYPT_DELETEKEYSET) || (container != NULL && container[0] != '\0')))
		return NTE_BAD_FLAGS;
	return ERROR_SUCCESS;
}

DWORD context_acquire(const char *container, const char *provider, DWORD type, DWORD flags,
		      HCRYPTPROV *out)
{
	struct provider_choice pc;
	struct context *ctx = NULL;
	struct token *tok = NULL;
	bool deleted = false;
	int perr = 0;
	DWORD err;
	CK_RV rv;

	*out = 0;
	memset(&pc, 0, sizeof pc);
	/* Windows' order: the type's range; the provider, found by name or
	 * as the type's default (NTE_KEYSET_NOT_DEF, NTE_PROV_TYPE_NO_MATCH,
	 * NTE_PROV_TYPE_NOT_DEF come from advapi32); then the provider's own
	 * checks of the container name and the flags (acquire_check_args). */
	err = context_check_prov_type(type);
	if (err != ERROR_SUCCESS)
		return err;
	err = provider_choose(provider, type, &pc);
	if (err != ERROR_SUCCESS)
		goto out;
	/* The RSA types and the DSS types (prov-type.h); the others have no
	 * provider. */
	if (type != PROV_RSA_FULL && type != PROV_RSA_AES && !prov_type_is_dss(type)) {
		err = NTE_PROV_TYPE_NOT_DEF;
		goto out;
	}
	err = acquire_check_args(container, flags);
	if (err != ERROR_SUCCESS)
		goto out;
	ctx = context_new();
	if (ctx == NULL) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	ctx->prov_type = type;
	ctx->verify = (flags & CRYPT_VERIFYCONTEXT) != 0;
	ctx->silent = (flags & CRYPT_SILENT) != 0;
	ctx->machine_keyset = (flags & CRYPT_MACHINE_KEYSET) != 0;
	ctx->settings = pc.settings;
	ctx->prov_name = pc.name;
	ctx->pin_prompt = pc.pin_prompt;
	ctx->companion_spec = pc.companion;
	pc.name = NULL;
	pc.pin_prompt = NULL;
	pc.companion = NULL;

	err = provider_open_token(&pc, &tok);
	if (err != ERROR_SUCCESS)
		goto out;
	ctx->ts.tok = tok;
	if (pc.pin_value != NULL) {
		ctx->pin = pc.pin_value;
		pc.pin_value = NULL;
	} else {
		ctx->pin_source = pc.pin_source;
		pc.pin_source = NULL;
	}
	if (!ctx->verify) {
		ctx->container = (container != NULL && container[0] != '\0')
			? capi11_strdup(container) : default_container_name(&pc);
		if (ctx->container == NULL) {
			err = NTE_NO_MEMORY;
			goto out;
		}
	}

	rv = tsession_acquire(tok, &ctx->ts);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
		goto out;
	}
	ctx->generation = ctx->ts.generation;
	atomic_store(&ctx->session_ok, true);
	if (ctx->pin == NULL && ctx->pin_source != NULL) {
		/* A file that cannot be read, or that others may read or
		 * write, is a broken provider entry; the trace says why. A
		 * token already logged in checks no PIN: its file is checked
		 * but not read, and the PIN is read when a login needs it. */
		if (ctx->ts.seen_logged_in)
			perr = pin_check_source(ctx->pin_source);
		else if ((ctx->pin = pin_read_source(ctx->pin_source, &perr)) == NULL && perr == 0)
			perr = EINVAL;
		if (perr != 0) {
			err = pin_error(perr, NTE_KEYSET_ENTRY_BAD);
			goto out;
		}
	}

	pthread_mutex_lock(&ctx->lock);
	/* A PIN at hand is used at once, so that a wrong one fails here; verify
	 * contexts never prompt (their keys are session objects, public when
	 * nobody logged in). A token already logged in, as the pool's liveness
	 * check just saw, has nothing to check it against (as
	 * context_login_locked would find, one C_GetSessionInfo later). */
	if (ctx->pin != NULL && !ctx->ts.seen_logged_in)
		err = context_login_locked(ctx, false);
	if (err == ERROR_SUCCESS && !ctx->verify)
		err = context_open_container_locked(ctx, flags, &deleted);
	pthread_mutex_unlock(&ctx->lock);
	if (err != ERROR_SUCCESS || deleted)
		goto out;

	*out = handle_register(&ctx->base);
	if (*out == 0) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	/* From here the handle table's reference keeps the context alive. */
	context_unref(ctx);
	ctx = NULL;
out:
	if (ctx != NULL) {
		tsession_release(&ctx->ts);
		if (ctx->cts.tok != NULL)
			tsession_release(&ctx->cts);
		context_destroy(&ctx->base);
	}
	provider_choice_clear(&pc);
	return err;
}

static void context_forget_owned_locked(struct context *ctx, const struct tsession *ts);

DWORD context_companion_locked(struct context *ctx, struct tsession **out)
{
	struct token *tok = ctx->cts.tok, *before = ctx->cts.tok;
	char *pin = NULL;
	CK_RV rv = CKR_OK;

	*out = NULL;
	if (companion_is_none(ctx->companion_spec))
		return NTE_NOT_SUPPORTED;
	/* A companion session the token dropped takes the objects made on it
	 * along; the next one starts empty. */
	if (ctx->cts.handle != CK_INVALID_HANDLE && ctx->cts.lost) {
		tsession_release(&ctx->cts);
		context_forget_owned_locked(ctx, &ctx->cts);
	}
	if (ctx->cts.handle != CK_INVALID_HANDLE) {
		*out = &ctx->cts;
		return ERROR_SUCCESS;
	}
	if (tok == NULL)
		rv = companion_open(ctx->companion_spec, &tok, &pin);
	if (rv == CKR_OK && tok == ctx->ts.tok) {
		/* The provider's own token as its companion adds nothing. */
		trace_message("companion: the provider's own token; no companion");
		rv = CKR_FUNCTION_NOT_SUPPORTED;
	}
	if (rv == CKR_OK)
		rv = tsession_acquire(tok, &ctx->cts);
	if (rv == CKR_OK && pin != NULL && token_needs_login(tok))
		rv = tsession_login(&ctx->cts, pin, strlen(pin));
	capi11_free_string_secret(pin);
	if (rv != CKR_OK) {
		if (ctx->cts.handle != CK_INVALID_HANDLE)
			tsession_release(&ctx->cts);
		/* Keys already made there keep naming their token. */
		ctx->cts.tok = before;
		trace_ckr("companion", rv, "no companion token: the route is not supported");
		/* What no token can do here is not supported, whatever stopped
		 * the companion from opening (the trace says which). */
		return rv == CKR_HOST_MEMORY ? NTE_NO_MEMORY : NTE_NOT_SUPPORTED;
	}
	*out = &ctx->cts;
	return ERROR_SUCCESS;
}

bool context_has_companion_locked(const struct context *ctx)
{
	return !companion_is_none(ctx->companion_spec);
}

struct context *context_lookup(HCRYPTPROV h)
{
	return (struct context *)handle_lookup(h, HANDLE_PROV);
}

void context_unref(struct context *ctx)
{
	if (ctx != NULL)
		handle_obj_unref(&ctx->base);
}

/* Session objects of a lost session are gone with it: those of ts (the
 * context's own session or its companion session), or with ts NULL every
 * one. */
static void context_forget_owned_locked(struct context *ctx, const struct tsession *ts)
{
	size_t i = 0;

	while (i < ctx->n_owned) {
		struct keyobj *obj = ctx->owned[i];

		if (ts != NULL && keyobj_session(ctx, obj) != ts) {
			i++;
			continue;
		}
		obj->gone = true;
		ctx->owned[i] = ctx->owned[--ctx->n_owned];
	}
}

DWORD context_lock(struct context *ctx)
{
	CK_RV rv;

	/* A context from before a fork is refused before its lock is taken: a
	 * thread of the parent may have held that lock when the process forked,
	 * and in the child nobody would ever release it. The generation is set
	 * before the context is published and never changes. */
	if (ctx->generation != token_generation())
		return ERROR_INVALID_PARAMETER;
	pthread_mutex_lock(&ctx->lock);
	if (ctx->released || ctx->generation != token_generation()) {
		pthread_mutex_unlock(&ctx->lock);
		return ERROR_INVALID_PARAMETER;
	}
	/* A session the token dropped (or a failed replacement of one). */
	if (ctx->ts.lost || ctx->ts.handle == CK_INVALID_HANDLE) {
		atomic_store(&ctx->session_ok, false);
		tsession_release(&ctx->ts);
		context_forget_owned_locked(ctx, &ctx->ts);
		rv = tsession_acquire(ctx->ts.tok, &ctx->ts);
		if (rv != CKR_OK) {
			pthread_mutex_unlock(&ctx->lock);
			return error_from_ckr(rv, ERROR_OP_GENERIC);
		}
		atomic_store(&ctx->session_ok, true);
	}
	return ERROR_SUCCESS;
}

void context_unlock(struct context *ctx)
{
	pthread_mutex_unlock(&ctx->lock);
}

DWORD context_get_locked(HCRYPTPROV h, struct context **out)
{
	struct context *ctx = context_lookup(h);
	DWORD err;

	if (ctx == NULL)
		return ERROR_INVALID_PARAMETER;
	err = context_lock(ctx);
	if (err != ERROR_SUCCESS) {
		context_unref(ctx);
		return err;
	}
	*out = ctx;
	return ERROR_SUCCESS;
}

void context_put_locked(struct context *ctx)
{
	context_unlock(ctx);
	context_unref(ctx);
}

/* Grows a handle-sized array by one slot. */
static bool array_reserve(void **items, size_t n, size_t *cap, size_t size)
{
	void *grown;
	size_t new_cap;

	if (n < *cap)
		return true;
	new_cap = *cap ? *cap * 2 : 8;
	grown = capi11_realloc(*items, new_cap * size);
	if (grown == NULL)
		return false;
	*items = grown;
	*cap = new_cap;
	return true;
}

bool context_add_key_locked(struct context *ctx, ULONG_PTR key)
{
	if (!array_reserve((void **)&ctx->keys, ctx->n_keys, &ctx->cap_keys, sizeof *ctx->keys))
		return false;
	ctx->keys[ctx->n_keys++] = key;
	return true;
}

void context_remove_key_locked(struct context *ctx, ULONG_PTR key)
{
	size_t i;

	for (i = 0; i < ctx->n_keys; i++) {
		if (ctx->keys[i] == key) {
			ctx->keys[i] = ctx->keys[--ctx->n_keys];
			return;
		}
	}
}

bool context_add_owned_locked(struct context *ctx, struct keyobj *obj)
{
	if (!array_reserve((void **)&ctx->owned, ctx->n_owned, &ctx->cap_owned, sizeof *ctx->owned))
		return false;
	ctx->owned[ctx->n_owned++] = obj;
	return true;
}

void context_remove_owned_locked(struct context *ctx, struct keyobj *obj)
{
	size_t i;

	for (i = 0; i < ctx->n_owned; i++) {
		if (ctx->owned[i] == obj) {
			ctx->owned[i] = ctx->owned[--ctx->n_owned];
			return;
		}
	}
}

bool context_is_inherited(const struct context *ctx)
{
	return ctx->generation != token_generation();
}

DWORD context_release(HCRYPTPROV h)
{
	struct context *ctx = context_lookup(h);
	struct handle_obj *table_ref;
	ULONG_PTR *keys;
	size_t n_keys, i;
	bool stale;

	unsigned refs;

	if (ctx == NULL)
		return ERROR_INVALID_PARAMETER;
	/* In a forked child, a context from before the fork is invalid for
	 * release too: its lock may be held by a parent thread that does not
	 * exist here, and its session is the parent's. It stays in the handle
	 * table, part of the parent's image that the child keeps untouched
	 * (and reachable), and every use of the handle fails here. */
	if (context_is_inherited(ctx)) {
		context_unref(ctx);
		return ERROR_INVALID_PARAMETER;
	}
	/* Only one caller may take the count to zero; a release racing it
	 * finds zero and is told the handle is gone. */
	refs = atomic_load(&ctx->api_refs);
	do {
		if (refs == 0) {
			context_unref(ctx);
			return ERROR_INVALID_PARAMETER;
		}
	} while (!atomic_compare_exchange_weak(&ctx->api_refs, &refs, refs - 1));
	if (refs > 1) {
		context_unref(ctx);
		return ERROR_SUCCESS;
	}
	table_ref = handle_remove(h, HANDLE_PROV);

	pthread_mutex_lock(&ctx->lock);
	ctx->released = true;
	stale = ctx->generation != token_generation();
	/* Session objects die with the session anyway, but a pooled session
	 * outlives this context: destroy them now. Never C_Logout: that would
	 * kill every other context's session objects on the token. */
	for (i = 0; i < ctx->n_owned && !stale; i++) {
		struct keyobj *obj = ctx->owned[i];
		struct tsession *ts = keyobj_session(ctx, obj);

		if (ts->lost)
			continue;
		token_destroy(ts, obj->priv);
		if (obj->pub != CK_INVALID_HANDLE)
			token_destroy(ts, obj->pub);
	}
	context_forget_owned_locked(ctx, NULL);
	for (i = 0; i < CAPI11_N_ELEMENTS(ctx->verify_keys); i++) {
		keyobj_unref_locked(ctx, ctx->verify_keys[i]);
		ctx->verify_keys[i] = NULL;
	}
	sign_cache_free_locked(ctx);
	keys = ctx->keys;
	n_keys = ctx->n_keys;
	ctx->keys = NULL;
	ctx->n_keys = ctx->cap_keys = 0;
	/* Lost or from before a fork: tsession_release knows. */
	tsession_release(&ctx->ts);
	if (ctx->cts.tok != NULL)
		tsession_release(&ctx->cts);
	pthread_mutex_unlock(&ctx->lock);

	/* Key and hash handles of a released context are orphans: they go
	 * too (hash.c keeps its handles in the same list). */
	for (i = 0; i < n_keys; i++) {
		struct handle_obj *obj = handle_remove(keys[i], HANDLE_KEY);
		if (obj == NULL)
			obj = handle_remove(keys[i], HANDLE_HASH);
		handle_obj_unref(obj);
	}
	capi11_free(keys);
	handle_obj_unref(table_ref);
	context_unref(ctx);
	return ERROR_SUCCESS;
}
