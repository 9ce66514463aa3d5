/* The token layer. Lock order: modules_lock, then a token's lock. Neither
 * is held across a C_* call that can block on a card, except token->lock
 * around C_Login, which must not run twice at once for one token. */
#include "config.h"
#include "token.h"
#include "errors.h"
#include "objguard.h"
#include "pin.h"
#include "trace.h"
#include "util.h"

#include <p11-kit/p11-kit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MAX 16
#define MECH_CACHE_MAX 32

struct module {
	CK_FUNCTION_LIST *fl;
	/* False when someone else in the process initialised it first: then
	 * it is not ours to finalise or re-initialise after fork. */
	bool ours;
	unsigned generation;
	/* The path it was loaded by, so that acquiring by path again skips
	 * p11_kit_module_load (a dlopen and p11-kit's registry each time). */
	char *path;
	struct module *next;
};

struct mech_cache {
	CK_MECHANISM_TYPE mech;
	CK_RV rv;
	CK_MECHANISM_INFO info;
};

struct token {
	struct module *mod;
	CK_SLOT_ID slot;
	char label[33];
	char serial[17];
	char slot_description[65];
	CK_FLAGS token_flags;
	CK_FLAGS slot_flags;
	CK_ULONG max_pin_len;      /* ulMaxPinLen, as the token reported it */

	pthread_mutex_t lock;
	/* Serialises the calls that search, create or destroy objects: SoftHSM
	 * 2.6.1 fails them spuriously when threads run them at once on one
	 * token (upstream #573). Crypto calls on existing objects stay
	 * parallel. Never held together with lock. */
	pthread_mutex_t store_lock;
	unsigned generation;       /* of the pooled sessions */
	CK_SESSION_HANDLE pool[POOL_MAX];
	size_t n_pool;
	struct mech_cache mechs[MECH_CACHE_MAX];
	size_t n_mechs;
	/* What the token does with CKA_WRAP_WITH_TRUSTED (enum
	 * token_wrap_trust), learnt once by trust.c. */
	atomic_int wrap_trust;
	/* Sessions leased to contexts and not yet given back. */
	atomic_uint leased;
	struct token *next;
};

static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct module *modules;
static struct token *tokens;
static atomic_uint fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* fork() copies only the forking thread: a lock that another thread held
 * at that moment would stay locked in the child for ever. So the forking
 * thread takes the token layer's locks first (modules_lock, then each
 * token's two, an order no other code takes them in reverse; holding lock
 * and store_lock together is only ever done here) and both processes
 * release them afterwards. */
static void on_fork_prepare(void)
{
	struct token *tok;

	pthread_mutex_lock(&modules_lock);
	for (tok = tokens; tok != NULL; tok = tok->next) {
		pthread_mutex_lock(&tok->lock);
		pthread_mutex_lock(&tok->store_lock);
	}
}

static void on_fork_parent(void)
{
	struct token *tok;

	for (tok = tokens; tok != NULL; tok = tok->next) {
		pthread_mutex_unlock(&tok->store_lock);
		pthread_mutex_unlock(&tok->lock);
	}
	pthread_mutex_unlock(&modules_lock);
}

static void on_fork_child(void)
{
	atomic_fetch_add(&fork_generation, 1);
	on_fork_parent();
}

static void atfork_register(void)
{
	pthread_atfork(on_fork_prepare, on_fork_parent, on_fork_child);
}

unsigned token_generation(void)
{
	pthread_once(&atfork_once, atfork_register);
	return atomic_load(&fork_generation);
}

CK_BBOOL *token_bool(bool value)
{
	static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

	return value ? &yes : &no;
}

/* Every C_* result passes here on its way back, for tracing. */
static CK_RV traced(const char *fn, CK_RV rv)
{
	trace_ckr(fn, rv);
	return rv;
}

/* Copies a blank-padded PKCS#11 string and trims it. */
static void copy_padded(char *dst, const CK_UTF8CHAR *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
	while (n > 0 && dst[n - 1] == ' ')
		dst[--n] = '\0';
}

static CK_RV module_initialize(CK_FUNCTION_LIST *fl, bool *ours)
{
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	memset(&args, 0, sizeof args);
	/* Without CKF_OS_LOCKING_OK SoftHSM switches off all of its locking. */
	args.flags = CKF_OS_LOCKING_OK;
	rv = traced("C_Initialize", fl->C_Initialize(&args));
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		*ours = false;
		return CKR_OK;
	}
	*ours = (rv == CKR_OK);
	return rv;
}

/* In a forked child the module may still hold the parent's sessions and
 * login (SoftHSM keeps them unless reset_on_fork is set): start it afresh
 * and forget every pooled session. C_Initialize comes first, as PKCS#11
 * asks of a child: a module that knows it was forked starts afresh there
 * (p11-kit's client module opens a connection of its own, and takes a
 * C_Finalize in the child for a broken precondition, which it reports on
 * stderr, or aborts on with P11_KIT_STRICT); one that answers
 * CKR_CRYPTOKI_ALREADY_INITIALIZED kept the parent's state and is
 * finalised and initialised again. Called with modules_lock held. */
static CK_RV module_refresh_locked(struct module *mod, unsigned gen)
{
	struct token *tok;
	CK_RV rv;
	bool ours;

	if (mod->generation == gen)
		return CKR_OK;
	if (mod->ours) {
		rv = module_initialize(mod->fl, &ours);
		if (rv == CKR_OK && !ours) {
			mod->fl->C_Finalize(NULL);
			rv = module_initialize(mod->fl, &ours);
		}
		if (rv != CKR_OK)
			return rv;
		mod->ours = ours;
	}
	for (tok = tokens; tok != NULL; tok = tok->next) {
		if (tok->mod != mod)
			continue;
		pthread_mutex_lock(&tok->lock);
		tok->n_pool = 0;
		tok->generation = gen;
		pthread_mutex_unlock(&tok->lock);
		/* The parent's contexts hold its sessions; the child never gives
		 * them back (context.c leaves them alone). */
		atomic_store(&tok->leased, 0);
	}
	mod->generation = gen;
	return CKR_OK;
}

/* Adds a loaded function list to the module table, initialising it the
 * first time. A module loaded twice (by path and by name) is one entry;
 * release_extra gives back a load reference that the table does not need
 * (false for the registered list, which keeps its own). */
static CK_RV module_adopt(CK_FUNCTION_LIST *fl, bool release_extra, struct module **out)
{
	struct module *mod;
	unsigned gen = token_generation();
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&modules_lock);
	for (mod = modules; mod != NULL; mod = mod->next) {
		if (mod->fl == fl)
			break;
	}
	if (mod != NULL) {
		/* p11-kit counts loads; this one is not needed. */
		if (release_extra)
			p11_kit_module_release(fl);
		rv = module_refresh_locked(mod, gen);
		goto out;
	}
	mod = capi11_calloc(1, sizeof *mod);
	if (mod == NULL) {
		if (release_extra)
			p11_kit_module_release(fl);
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	rv = module_initialize(fl, &mod->ours);
	if (rv != CKR_OK) {
		if (release_extra)
			p11_kit_module_release(fl);
		capi11_free(mod);
		mod = NULL;
		goto out;
	}
	mod->fl = fl;
	mod->generation = gen;
	mod->next = modules;
	modules = mod;
out:
	pthread_mutex_unlock(&modules_lock);
	*out = mod;
	return rv;
}

/* The module already loaded by this path, restarted after a fork. */
static struct module *module_find_path(const char *path, CK_RV *rv)
{
	unsigned gen = token_generation();
	struct module *mod;

	pthread_mutex_lock(&modules_lock);
	for (mod = modules; mod != NULL; mod = mod->next) {
		if (mod->path != NULL && strcmp(mod->path, path) == 0)
			break;
	}
	if (mod != NULL)
		*rv = module_refresh_locked(mod, gen);
	pthread_mutex_unlock(&modules_lock);
	return mod;
}

static CK_RV module_load_path(const char *path, struct module **out)
{
	CK_FUNCTION_LIST *fl;
	CK_RV rv = CKR_OK;

	*out = module_find_path(path, &rv);
	if (*out != NULL)
		return rv;
	fl = p11_kit_module_load(path, P11_KIT_MODULE_UNMANAGED);
	if (fl == NULL)
		return CAPI11_CKR_MODULE_LOAD;
	rv = module_adopt(fl, true, out);
	if (rv != CKR_OK)
		return rv;
	/* Modules live as long as the process; a copy that fails to be made
	 * only costs the next acquire a load. */
	pthread_mutex_lock(&modules_lock);
	if ((*out)->path == NULL)
		(*out)->path = capi11_strdup(path);
	pthread_mutex_unlock(&modules_lock);
	return CKR_OK;
}

static bool module_is_trust_policy(CK_FUNCTION_LIST *fl)
{
	char *opt = p11_kit_config_option(fl, "trust-policy");
	bool yes = opt != NULL && (strcmp(opt, "yes") == 0 || strcmp(opt, "true") == 0);

	free(opt);
	return yes;
}

/* The modules p11-kit has registered, loaded once per process: reading
 * p11-kit's configuration and opening every module is far too much work
 * for each CryptAcquireContext. */
static CK_FUNCTION_LIST **registered_list(void)
{
	static CK_FUNCTION_LIST **list;

	pthread_mutex_lock(&modules_lock);
	if (list == NULL)
		list = p11_kit_modules_load(NULL, P11_KIT_MODULE_UNMANAGED);
	pthread_mutex_unlock(&modules_lock);
	return list;
}

/* The registered modules to search. With name set, only the module of that
 * name; else every module that may hold keys. */
static CK_RV modules_load_registered(const char *name, struct module ***out, size_t *n_out)
{
	CK_FUNCTION_LIST **list = registered_list();
	struct module **mods;
	size_t n = 0, total = 0, i;
	CK_RV rv = CKR_OK;

	if (list == NULL)
		return CAPI11_CKR_MODULE_LOAD;
	while (list[total] != NULL)
		total++;
	mods = capi11_calloc(total + 1, sizeof *mods);
	if (mods == NULL)
		return CKR_HOST_MEMORY;
	for (i = 0; i < total; i++) {
		CK_FUNCTION_LIST *fl = list[i];
		char *mod_name = p11_kit_module_get_name(fl);
		bool keep;

		if (name != NULL)
			keep = mod_name != NULL && strcmp(mod_name, name) == 0;
		else
			keep = !module_is_trust_policy(fl);
		free(mod_name);
		if (!keep)
			continue;
		/* A module that fails to start is skipped, as p11-kit's proxy does,
		 * unless it is the one asked for by name. */
		rv = module_adopt(fl, false, &mods[n]);
		if (rv == CKR_OK)
			n++;
		else if (name != NULL)
			break;
		rv = CKR_OK;
	}
	if (rv == CKR_OK && n == 0)
		rv = CAPI11_CKR_MODULE_LOAD;
	if (rv != CKR_OK) {
		capi11_free(mods);
		return rv;
	}
	*out = mods;
	*n_out = n;
	return CKR_OK;
}

/* The token table entry for the card in a slot. Its facts are written
 * once, before it is published, so readers need no lock; another card in
 * the same slot (a different serial or label) gets an entry of its own. */
static struct token *token_get(struct module *mod, CK_SLOT_ID slot,
			       const CK_TOKEN_INFO *ti, const CK_SLOT_INFO *si)
{
	char label[sizeof ti->label + 1], serial[sizeof ti->serialNumber + 1];
	struct token *tok;

	copy_padded(label, ti->label, sizeof ti->label);
	copy_padded(serial, ti->serialNumber, sizeof ti->serialNumber);
	pthread_mutex_lock(&modules_lock);
	for (tok = tokens; tok != NULL; tok = tok->next) {
		if (tok->mod == mod && tok->slot == slot && strcmp(tok->label, label) == 0 &&
		    strcmp(tok->serial, serial) == 0)
			goto out;
	}
	tok = capi11_calloc(1, sizeof *tok);
	if (tok == NULL)
		goto out;
	pthread_mutex_init(&tok->lock, NULL);
	pthread_mutex_init(&tok->store_lock, NULL);
	tok->mod = mod;
	tok->slot = slot;
	tok->generation = mod->generation;
	memcpy(tok->label, label, sizeof label);
	memcpy(tok->serial, serial, sizeof serial);
	copy_padded(tok->slot_description, si->slotDescription, sizeof si->slotDescription);
	tok->token_flags = ti->flags;
	tok->slot_flags = si->flags;
	tok->max_pin_len = ti->ulMaxPinLen;
	tok->next = tokens;
	tokens = tok;
out:
	pthread_mutex_unlock(&modules_lock);
	return tok;
}

/* Searches one module for the first token the URI matches (any token when
 * uri is NULL). *saw_empty_slot tells a caller that a reader was there but
 * empty. */
static CK_RV module_find_token(struct module *mod, P11KitUri *uri, struct token **out,
			       bool *saw_empty_slot)
{
	CK_FUNCTION_LIST *fl = mod->fl;
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i;
	CK_INFO info;
	CK_RV rv;

	if (uri != NULL) {
		rv = traced("C_GetInfo", fl->C_GetInfo(&info));
		if (rv != CKR_OK)
			return rv;
		if (!p11_kit_uri_match_module_info(uri, &info))
			return CKR_TOKEN_NOT_PRESENT;
	}
	rv = traced("C_GetSlotList", fl->C_GetSlotList(CK_FALSE, NULL, &n));
	if (rv != CKR_OK)
		return rv;
	if (n == 0)
		return CKR_TOKEN_NOT_PRESENT;
	slots = capi11_calloc(n, sizeof *slots);
	if (slots == NULL)
		return CKR_HOST_MEMORY;
	rv = traced("C_GetSlotList", fl->C_GetSlotList(CK_FALSE, slots, &n));
	if (rv != CKR_OK)
		goto out;
	rv = CKR_TOKEN_NOT_PRESENT;
	for (i = 0; i < n; i++) {
		CK_SLOT_INFO si;
		CK_TOKEN_INFO ti;

		/* p11-kit's slot matcher reads slot-description and
		 * slot-manufacturer only: slot-id is compared here, and (CK_SLOT_ID)-1
		 * is p11-kit's "the URI has none". */
		if (uri != NULL && p11_kit_uri_get_slot_id(uri) != (CK_SLOT_ID)-1 &&
		    p11_kit_uri_get_slot_id(uri) != slots[i])
			continue;
		if (fl->C_GetSlotInfo(slots[i], &si) != CKR_OK)
			continue;
		if (uri != NULL && !p11_kit_uri_match_slot_info(uri, &si))
			continue;
		if (!(si.flags & CKF_TOKEN_PRESENT)) {
			*saw_empty_slot = true;
			continue;
		}
		if (fl->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		/* SoftHSM always offers one uninitialised token to set up. */
		if (!(ti.flags & CKF_TOKEN_INITIALIZED))
			continue;
		if (uri != NULL && !p11_kit_uri_match_token_info(uri, &ti))
			continue;
		*out = token_get(mod, slots[i], &ti, &si);
		rv = *out != NULL ? CKR_OK : CKR_HOST_MEMORY;
		break;
	}
out:
	capi11_free(slots);
	return rv;
}

static CK_RV modules_find_token(struct module **mods, size_t n, P11KitUri *uri,
				struct token **out)
{
	bool saw_empty_slot = false;
	CK_RV rv = CKR_TOKEN_NOT_PRESENT;
	size_t i;

	for (i = 0; i < n; i++) {
		rv = module_find_token(mods[i], uri, out, &saw_empty_slot);
		if (rv == CKR_OK)
			return CKR_OK;
	}
	/* Whatever went wrong on the way, the caller's answer is that the card
	 * it wants is not there; a module failure on its only module is kept. */
	if (n == 1 && rv != CKR_TOKEN_NOT_PRESENT && !saw_empty_slot)
		return rv;
	return CKR_TOKEN_NOT_PRESENT;
}

/* Where a URI led last time. Acquiring again checks that the token is
 * still in that slot instead of walking every slot of every module: the
 * walk reads every token's information, which SoftHSM serves from a file.
 * An entry holds every selection criterion of the URI (module path or
 * name, the library-*, slot-* and token attributes, slot-id), so that two
 * URIs that differ in any of them never share an entry; never its PIN.
 * Entries are guarded by modules_lock and die with a fork. */
#define URI_HITS_MAX 8

struct uri_hit {
	struct token *tok;         /* NULL: a free entry */
	unsigned generation;
	char *module_path, *module_name;
	CK_SLOT_ID slot_id;
	CK_INFO module_info;
	CK_SLOT_INFO slot_info;
	CK_TOKEN_INFO token_info;
};

static struct uri_hit uri_hits[URI_HITS_MAX];
static size_t uri_hit_victim;

static bool str_equal(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* p11-kit keeps these structures zeroed where the URI is silent, padding
 * included (it allocates them cleared), so equal criteria compare equal. */
static bool uri_hit_matches(const struct uri_hit *hit, P11KitUri *uri, unsigned gen)
{
	return hit->tok != NULL && hit->generation == gen &&
	       hit->slot_id == p11_kit_uri_get_slot_id(uri) &&
	       str_equal(hit->module_path, p11_kit_uri_get_module_path(uri)) &&
	       str_equal(hit->module_name, p11_kit_uri_get_module_name(uri)) &&
	       memcmp(&hit->module_info, p11_kit_uri_get_module_info(uri),
		      sizeof hit->module_info) == 0 &&
	       memcmp(&hit->slot_info, p11_kit_uri_get_slot_info(uri), sizeof hit->slot_info) == 0 &&
	       memcmp(&hit->token_info, p11_kit_uri_get_token_info(uri),
		      sizeof hit->token_info) == 0;
}

static void uri_hit_clear(struct uri_hit *hit)
{
	capi11_free(hit->module_path);
	capi11_free(hit->module_name);
	memset(hit, 0, sizeof *hit);
}

/* Records where the walk led (tok), or forgets the URI (tok NULL). */
static void uri_hit_update(P11KitUri *uri, struct token *tok)
{
	unsigned gen = token_generation();
	const char *path = p11_kit_uri_get_module_path(uri);
	const char *name = p11_kit_uri_get_module_name(uri);
	struct uri_hit *hit;
	bool failed = false;
	size_t i;

	pthread_mutex_lock(&modules_lock);
	for (i = 0; i < URI_HITS_MAX; i++) {
		if (uri_hit_matches(&uri_hits[i], uri, gen))
			uri_hit_clear(&uri_hits[i]);
	}
	if (tok == NULL)
		goto out;
	hit = &uri_hits[uri_hit_victim];
	uri_hit_victim = (uri_hit_victim + 1) % URI_HITS_MAX;
	uri_hit_clear(hit);
	hit->module_path = path != NULL ? capi11_strdup(path) : NULL;
	hit->module_name = name != NULL ? capi11_strdup(name) : NULL;
	failed = (path != NULL && hit->module_path == NULL) || (name != NULL && hit->module_name == NULL);
	if (failed) {
		uri_hit_clear(hit);
		goto out;
	}
	hit->generation = gen;
	hit->slot_id = p11_kit_uri_get_slot_id(uri);
	/* memcpy, not assignment: the padding must be copied too for the
	 * memcmp in uri_hit_matches. */
	memcpy(&hit->module_info, p11_kit_uri_get_module_info(uri), sizeof hit->module_info);
	memcpy(&hit->slot_info, p11_kit_uri_get_slot_info(uri), sizeof hit->slot_info);
	memcpy(&hit->token_info, p11_kit_uri_get_token_info(uri), sizeof hit->token_info);
	hit->tok = tok;
out:
	pthread_mutex_unlock(&modules_lock);
}

/* Whether the token found before is still in its slot. A token in a
 * fixed slot (SoftHSM, an HSM) stays while the module runs, so the slot's
 * presence flag is enough; a reader may hold another card by now, so for
 * removable slots the token's label and serial must be the same card's.
 * Anything else goes back to the walk, which reports an absent card. */
static bool token_still_present(struct token *tok, P11KitUri *uri)
{
	CK_FUNCTION_LIST *fl = tok->mod->fl;
	char label[sizeof tok->label], serial[sizeof tok->serial];
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;

	if (traced("C_GetSlotInfo", fl->C_GetSlotInfo(tok->slot, &si)) != CKR_OK ||
	    !(si.flags & CKF_TOKEN_PRESENT))
		return false;
	if (!(si.flags & CKF_REMOVABLE_DEVICE))
		return true;
	if (traced("C_GetTokenInfo", fl->C_GetTokenInfo(tok->slot, &ti)) != CKR_OK ||
	    !(ti.flags & CKF_TOKEN_INITIALIZED) || !p11_kit_uri_match_token_info(uri, &ti))
		return false;
	copy_padded(label, ti.label, sizeof ti.label);
	copy_padded(serial, ti.serialNumber, sizeof ti.serialNumber);
	return strcmp(label, tok->label) == 0 && strcmp(serial, tok->serial) == 0;
}

static struct token *uri_hit_lookup(P11KitUri *uri)
{
	unsigned gen = token_generation();
	struct token *tok = NULL;
	size_t i;

	pthread_mutex_lock(&modules_lock);
	for (i = 0; i < URI_HITS_MAX && tok == NULL; i++) {
		if (uri_hit_matches(&uri_hits[i], uri, gen))
			tok = uri_hits[i].tok;
	}
	pthread_mutex_unlock(&modules_lock);
	if (tok == NULL || !token_still_present(tok, uri))
		return NULL;
	return tok;
}

CK_RV token_open_uri(P11KitUri *uri, struct token **out)
{
	const char *path = p11_kit_uri_get_module_path(uri);
	const char *name = p11_kit_uri_get_module_name(uri);
	struct module **mods = NULL;
	struct module *one;
	size_t n = 0;
	CK_RV rv;

	*out = uri_hit_lookup(uri);
	if (*out != NULL)
		return CKR_OK;
	if (path != NULL) {
		rv = module_load_path(path, &one);
		if (rv != CKR_OK)
			return rv;
		rv = modules_find_token(&one, 1, uri, out);
	} else {
		rv = modules_load_registered(name, &mods, &n);
		if (rv != CKR_OK)
			return rv;
		rv = modules_find_token(mods, n, uri, out);
		capi11_free(mods);
	}
	uri_hit_update(uri, rv == CKR_OK ? *out : NULL);
	return rv;
}

CK_RV token_open_default(struct token **out)
{
	struct module **mods = NULL;
	size_t n = 0;
	CK_RV rv;

	rv = modules_load_registered(NULL, &mods, &n);
	if (rv != CKR_OK)
		return rv;
	rv = modules_find_token(mods, n, NULL, out);
	capi11_free(mods);
	return rv;
}

const char *token_label(const struct token *tok)
{
	return tok->label;
}

const char *token_serial(const struct token *tok)
{
	return tok->serial;
}

const char *token_slot_description(const struct token *tok)
{
	return tok->slot_description;
}

bool token_is_removable(const struct token *tok)
{
	return (tok->slot_flags & CKF_REMOVABLE_DEVICE) != 0;
}

bool token_has_pinpad(const struct token *tok)
{
	return (tok->token_flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
}

bool token_needs_login(const struct token *tok)
{
	return (tok->token_flags & CKF_LOGIN_REQUIRED) != 0;
}

bool token_rv_is_session_lost(CK_RV rv)
{
	switch (rv) {
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
		return true;
	default:
		return false;
	}
}

/* Makes sure the module has been restarted in a forked child. */
static CK_RV token_check_fork(struct token *tok)
{
	unsigned gen = token_generation();
	CK_RV rv = CKR_OK;

	if (tok->mod->generation == gen)
		return CKR_OK;
	pthread_mutex_lock(&modules_lock);
	rv = module_refresh_locked(tok->mod, gen);
	pthread_mutex_unlock(&modules_lock);
	return rv;
}

CK_RV token_session_acquire(struct token *tok, CK_SESSION_HANDLE *out)
{
	CK_RV rv = token_check_fork(tok);

	if (rv != CKR_OK)
		return rv;
	pthread_mutex_lock(&tok->lock);
	if (tok->n_pool > 0) {
		CK_SESSION_INFO info;
		CK_SESSION_HANDLE s = tok->pool[--tok->n_pool];

		pthread_mutex_unlock(&tok->lock);
		/* Pooled sessions die with a card pulled and put back while nobody
		 * used them: the first context to meet the token again would fail
		 * on one. Such a session takes the pool with it (release). */
		rv = traced("C_GetSessionInfo", tok->mod->fl->C_GetSessionInfo(s, &info));
		atomic_fetch_add(&tok->leased, 1);
		if (!token_rv_is_session_lost(rv)) {
			*out = s;
			return CKR_OK;
		}
		/* Counted as leased just above: the release gives the count back. */
		token_session_release(tok, s, rv);
	} else {
		pthread_mutex_unlock(&tok->lock);
	}
	rv = traced("C_OpenSession",
		    tok->mod->fl->C_OpenSession(tok->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
						NULL, NULL, out));
	if (rv == CKR_OK)
		atomic_fetch_add(&tok->leased, 1);
	return rv;
}

void token_session_release(struct token *tok, CK_SESSION_HANDLE s, CK_RV last_rv)
{
	bool pooled = false;

	atomic_fetch_sub(&tok->leased, 1);
	if (token_rv_is_session_lost(last_rv)) {
		/* The token went away: every pooled session went with it. */
		pthread_mutex_lock(&tok->lock);
		tok->n_pool = 0;
		pthread_mutex_unlock(&tok->lock);
		tok->mod->fl->C_CloseSession(s);
		return;
	}
	pthread_mutex_lock(&tok->lock);
	if (tok->generation == atomic_load(&fork_generation) && tok->n_pool < POOL_MAX) {
		tok->pool[tok->n_pool++] = s;
		pooled = true;
	}
	pthread_mutex_unlock(&tok->lock);
	if (!pooled)
		tok->mod->fl->C_CloseSession(s);
}

CK_RV token_scratch_open(struct token *tok, CK_SESSION_HANDLE *out)
{
	CK_RV rv = token_check_fork(tok);

	if (rv != CKR_OK)
		return rv;
	return traced("C_OpenSession",
		      tok->mod->fl->C_OpenSession(tok->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
						  NULL, NULL, out));
}

void token_scratch_close(struct token *tok, CK_SESSION_HANDLE s)
{
	traced("C_CloseSession", tok->mod->fl->C_CloseSession(s));
}

bool token_is_logged_in(struct token *tok, CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO info;

	if (tok->mod->fl->C_GetSessionInfo(s, &info) != CKR_OK)
		return false;
	return info.state == CKS_RW_USER_FUNCTIONS || info.state == CKS_RO_USER_FUNCTIONS ||
	       info.state == CKS_RW_SO_FUNCTIONS;
}

CK_RV token_pin_check(const struct token *tok, const char *pin, size_t pin_len)
{
	CK_ULONG max = PIN_MAX;
	const char *why = NULL;
	CK_RV rv = CKR_OK;

	/* The token's own bound when it reports one; 0 and
	 * CK_UNAVAILABLE_INFORMATION say nothing. */
	if (tok != NULL && tok->max_pin_len > 0 && tok->max_pin_len < max)
		max = tok->max_pin_len;
	if (pin_len == 0) {
		rv = CKR_PIN_LEN_RANGE;
		why = "empty";
	} else if (pin_len > max) {
		rv = CKR_PIN_LEN_RANGE;
		why = "longer than the token or capi11 allows";
	} else if (memchr(pin, '\n', pin_len) != NULL || memchr(pin, '\r', pin_len) != NULL ||
		   memchr(pin, '\0', pin_len) != NULL) {
		rv = CKR_PIN_INVALID;
		why = "holds a line break or a NUL byte";
	}
	if (why != NULL)
		trace_message("PIN refused without C_Login: %s", why);
	return rv;
}

CK_RV token_login(struct token *tok, CK_SESSION_HANDLE s, const char *pin, size_t pin_len)
{
	CK_RV rv;

	/* A PIN that cannot be right never reaches the token: on a card each
	 * failed C_Login uses up a retry. */
	if (pin != NULL) {
		rv = token_pin_check(tok, pin, pin_len);
		if (rv != CKR_OK)
			return rv;
	}
	pthread_mutex_lock(&tok->lock);
	if (token_is_logged_in(tok, s)) {
		rv = CKR_OK;
	} else {
		rv = traced("C_Login", tok->mod->fl->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, pin ? pin_len : 0));
		if (rv == CKR_USER_ALREADY_LOGGED_IN)
			rv = CKR_OK;
	}
	pthread_mutex_unlock(&tok->lock);
	return rv;
}

CK_RV token_login_so(struct token *tok, CK_SESSION_HANDLE s, const char *pin, size_t pin_len)
{
	CK_RV rv = token_pin_check(tok, pin, pin_len);

	if (rv != CKR_OK)
		return rv;
	pthread_mutex_lock(&tok->lock);
	rv = traced("C_Login", tok->mod->fl->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)pin, pin_len));
	pthread_mutex_unlock(&tok->lock);
	return rv;
}

CK_RV token_logout(struct token *tok, CK_SESSION_HANDLE s)
{
	CK_RV rv;

	pthread_mutex_lock(&tok->lock);
	rv = traced("C_Logout", tok->mod->fl->C_Logout(s));
	pthread_mutex_unlock(&tok->lock);
	return rv == CKR_USER_NOT_LOGGED_IN ? CKR_OK : rv;
}

unsigned token_sessions_leased(const struct token *tok)
{
	return atomic_load(&tok->leased);
}

enum token_wrap_trust token_wrap_trust(const struct token *tok)
{
	return (enum token_wrap_trust)atomic_load(&tok->wrap_trust);
}

void token_set_wrap_trust(struct token *tok, enum token_wrap_trust state)
{
	atomic_store(&tok->wrap_trust, (int)state);
}

CK_RV token_find(struct token *tok, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		 CK_OBJECT_HANDLE **objs, CK_ULONG *count)
{
	CK_FUNCTION_LIST *fl = tok->mod->fl;
	CK_OBJECT_HANDLE *all = NULL, *grown;
	CK_ULONG have = 0, cap = 0, got;
	CK_RV rv, frv;

	pthread_mutex_lock(&tok->store_lock);
	rv = traced("C_FindObjectsInit", fl->C_FindObjectsInit(s, tmpl, n));
	if (rv == CKR_OPERATION_ACTIVE) {
		/* A search whose C_FindObjectsFinal failed earlier is still open
		 * on this pooled session: end it and start again, once. */
		fl->C_FindObjectsFinal(s);
		rv = traced("C_FindObjectsInit", fl->C_FindObjectsInit(s, tmpl, n));
	}
	if (rv != CKR_OK) {
		/* SoftHSM can fail after marking the search active: end it, or the
		 * pooled session refuses every later search. */
		fl->C_FindObjectsFinal(s);
		pthread_mutex_unlock(&tok->store_lock);
		return rv;
	}
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
		rv = traced("C_FindObjects", fl->C_FindObjects(s, all + have, cap - have, &got));
		if (rv != CKR_OK || got == 0)
			break;
		/* A module that claims more than it was given room for. */
		if (got > cap - have) {
			rv = CKR_GENERAL_ERROR;
			break;
		}
		have += got;
	}
	frv = fl->C_FindObjectsFinal(s);
	pthread_mutex_unlock(&tok->store_lock);
	if (rv == CKR_OK)
		rv = frv;
	if (rv != CKR_OK) {
		capi11_free(all);
		return rv;
	}
	*objs = all;
	*count = have;
	return CKR_OK;
}

CK_RV token_get_attributes(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
			   CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_ULONG asked[16];
	CK_ULONG i;
	CK_RV rv;

	return_val_if_fail(n <= CAPI11_N_ELEMENTS(asked), CKR_ARGUMENTS_BAD);
	for (i = 0; i < n; i++)
		asked[i] = tmpl[i].ulValueLen;
	rv = objguard_enter(tok, obj);
	if (rv != CKR_OK)
		return rv;
	rv = traced("C_GetAttributeValue", tok->mod->fl->C_GetAttributeValue(s, obj, tmpl, n));
	objguard_leave(tok, obj);
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

CK_RV token_get_attribute_alloc(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
				CK_ATTRIBUTE_TYPE type, void **value, CK_ULONG *len)
{
	CK_ATTRIBUTE attr = { type, NULL, 0 };
	CK_RV rv;

	rv = objguard_enter(tok, obj);
	if (rv != CKR_OK)
		return rv;
	rv = traced("C_GetAttributeValue", tok->mod->fl->C_GetAttributeValue(s, obj, &attr, 1));
	objguard_leave(tok, obj);
	if (rv != CKR_OK)
		return rv;
	/* CKR_OK with no length: a module contradicting itself. */
	if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return CKR_GENERAL_ERROR;
	/* Bounded: no key attribute capi11 reads is anywhere near this. */
	if (attr.ulValueLen > 64 * 1024)
		return CKR_GENERAL_ERROR;
	attr.pValue = capi11_malloc(attr.ulValueLen ? attr.ulValueLen : 1);
	if (attr.pValue == NULL)
		return CKR_HOST_MEMORY;
	rv = token_get_attributes(tok, s, obj, &attr, 1);
	if (rv == CKR_OK && attr.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		rv = CKR_ATTRIBUTE_SENSITIVE;
	if (rv != CKR_OK) {
		capi11_free(attr.pValue);
		return rv;
	}
	*value = attr.pValue;
	*len = attr.ulValueLen;
	return CKR_OK;
}

CK_RV token_get_bool(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		     CK_ATTRIBUTE_TYPE type, bool *value)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE attr = { type, &b, sizeof b };
	CK_RV rv = token_get_attributes(tok, s, obj, &attr, 1);

	if (rv != CKR_OK)
		return rv;
	/* A value the token hides or lacks leaves the caller's default, which
	 * each caller picks to fail safe (not extractable, sensitive). */
	if (attr.ulValueLen == sizeof b)
		*value = b == CK_TRUE;
	return CKR_OK;
}

CK_RV token_create(struct token *tok, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		   CK_OBJECT_HANDLE *obj)
{
	CK_RV rv;

	pthread_mutex_lock(&tok->store_lock);
	rv = traced("C_CreateObject", tok->mod->fl->C_CreateObject(s, tmpl, n, obj));
	pthread_mutex_unlock(&tok->store_lock);
	return rv;
}

CK_RV token_copy(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		 CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *copy)
{
	CK_RV rv;

	pthread_mutex_lock(&tok->store_lock);
	rv = traced("C_CopyObject", tok->mod->fl->C_CopyObject(s, obj, tmpl, n, copy));
	pthread_mutex_unlock(&tok->store_lock);
	return rv;
}

CK_RV token_destroy(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj)
{
	CK_RV rv;

	/* Not while another thread's call uses it (objguard.h). */
	objguard_destroy_begin(tok, obj);
	pthread_mutex_lock(&tok->store_lock);
	rv = traced("C_DestroyObject", tok->mod->fl->C_DestroyObject(s, obj));
	pthread_mutex_unlock(&tok->store_lock);
	objguard_destroy_end(tok, obj);
	return rv;
}

CK_RV token_set_attributes(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
			   CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_RV rv;

	rv = objguard_enter(tok, obj);
	if (rv != CKR_OK)
		return rv;
	pthread_mutex_lock(&tok->store_lock);
	rv = traced("C_SetAttributeValue", tok->mod->fl->C_SetAttributeValue(s, obj, tmpl, n));
	pthread_mutex_unlock(&tok->store_lock);
	objguard_leave(tok, obj);
	return rv;
}

CK_RV token_generate_key(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech,
			 CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *key)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_RV rv;

	pthread_mutex_lock(&tok->store_lock);
	rv = traced("C_GenerateKey", tok->mod->fl->C_GenerateKey(s, &m, tmpl, n, key));
	pthread_mutex_unlock(&tok->store_lock);
	return rv;
}

CK_RV token_generate_key_pair(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech,
			      CK_ATTRIBUTE *pub, CK_ULONG n_pub, CK_ATTRIBUTE *priv, CK_ULONG n_priv,
			      CK_OBJECT_HANDLE *pub_key, CK_OBJECT_HANDLE *priv_key)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_RV rv;

	pthread_mutex_lock(&tok->store_lock);
	rv = traced("C_GenerateKeyPair", tok->mod->fl->C_GenerateKeyPair(s, &m, pub, n_pub, priv,
									       n_priv, pub_key, priv_key));
	pthread_mutex_unlock(&tok->store_lock);
	return rv;
}

CK_RV token_random(struct token *tok, CK_SESSION_HANDLE s, unsigned char *buf, size_t len)
{
	return traced("C_GenerateRandom", tok->mod->fl->C_GenerateRandom(s, buf, len));
}

CK_RV token_digest(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech,
		   const unsigned char *in, CK_ULONG in_len, unsigned char *out, CK_ULONG *out_len)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_RV rv;

	rv = traced("C_DigestInit", tok->mod->fl->C_DigestInit(s, &m));
	if (rv != CKR_OK)
		return rv;
	return traced("C_Digest", tok->mod->fl->C_Digest(s, (unsigned char *)in, in_len, out, out_len));
}

CK_RV token_mechanism_info(struct token *tok, CK_MECHANISM_TYPE mech, CK_MECHANISM_INFO *info)
{
	struct mech_cache entry;
	size_t i;

	pthread_mutex_lock(&tok->lock);
	for (i = 0; i < tok->n_mechs; i++) {
		if (tok->mechs[i].mech == mech) {
			entry = tok->mechs[i];
			pthread_mutex_unlock(&tok->lock);
			*info = entry.info;
			return entry.rv;
		}
	}
	pthread_mutex_unlock(&tok->lock);

	memset(&entry, 0, sizeof entry);
	entry.mech = mech;
	entry.rv = traced("C_GetMechanismInfo", tok->mod->fl->C_GetMechanismInfo(tok->slot, mech, &entry.info));
	/* Only definite answers are cached; a removed card is asked again. */
	if (entry.rv == CKR_OK || entry.rv == CKR_MECHANISM_INVALID) {
		pthread_mutex_lock(&tok->lock);
		if (tok->n_mechs < MECH_CACHE_MAX)
			tok->mechs[tok->n_mechs++] = entry;
		pthread_mutex_unlock(&tok->lock);
	}
	*info = entry.info;
	return entry.rv;
}

CK_RV token_wrap_key(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
		     CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key, unsigned char *out,
		     CK_ULONG *out_len)
{
	CK_RV rv;

	rv = objguard_enter(tok, wrapping);
	if (rv != CKR_OK)
		return rv;
	rv = objguard_enter(tok, key);
	if (rv == CKR_OK) {
		rv = traced("C_WrapKey", tok->mod->fl->C_WrapKey(s, mech, wrapping, key, out, out_len));
		objguard_leave(tok, key);
	}
	objguard_leave(tok, wrapping);
	return rv;
}

CK_RV token_unwrap_key(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
		       CK_OBJECT_HANDLE unwrapping, const unsigned char *wrapped,
		       CK_ULONG wrapped_len, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		       CK_OBJECT_HANDLE *key)
{
	CK_RV rv;

	rv = objguard_enter(tok, unwrapping);
	if (rv != CKR_OK)
		return rv;
	pthread_mutex_lock(&tok->store_lock);
	rv = traced("C_UnwrapKey", tok->mod->fl->C_UnwrapKey(s, mech, unwrapping,
							       (unsigned char *)wrapped, wrapped_len,
							       tmpl, n, key));
	pthread_mutex_unlock(&tok->store_lock);
	objguard_leave(tok, unwrapping);
	return rv;
}

/* C_EncryptInit and C_Encrypt in one call, so that no operation stays
 * active on the session between CryptoAPI calls (a session outlives its
 * context in the pool). A failed C_Encrypt ends the operation by PKCS#11's
 * rules, but a module that breaks them would poison the session for good:
 * a second, empty call with the same buffer ends it either way, and its
 * result is of no interest. */
CK_RV token_encrypt(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
		    CK_OBJECT_HANDLE key, const unsigned char *in, CK_ULONG in_len,
		    unsigned char *out, CK_ULONG *out_len)
{
	CK_ULONG room = *out_len;
	CK_RV rv;

	/* The key must outlive C_Encrypt, not only C_EncryptInit. */
	rv = objguard_enter(tok, key);
	if (rv != CKR_OK)
		return rv;
	rv = traced("C_EncryptInit", tok->mod->fl->C_EncryptInit(s, mech, key));
	if (rv == CKR_OK) {
		rv = traced("C_Encrypt", tok->mod->fl->C_Encrypt(s, (unsigned char *)in, in_len,
								   out, out_len));
		if (rv != CKR_OK)
			tok->mod->fl->C_Encrypt(s, (unsigned char *)in, 0, out, &room);
	}
	objguard_leave(tok, key);
	return rv;
}

CK_RV token_decrypt(struct token *tok, CK_SESSION_HANDLE s, CK_MECHANISM *mech,
		    CK_OBJECT_HANDLE key, const unsigned char *in, CK_ULONG in_len,
		    unsigned char *out, CK_ULONG *out_len)
{
	CK_ULONG room = *out_len;
	CK_RV rv;

	/* The key must outlive C_Decrypt, not only C_DecryptInit: SoftHSM
	 * 2.6.1 crashes in C_Decrypt on a key destroyed in between. */
	rv = objguard_enter(tok, key);
	if (rv != CKR_OK)
		return rv;
	rv = traced("C_DecryptInit", tok->mod->fl->C_DecryptInit(s, mech, key));
	if (rv == CKR_OK) {
		rv = traced("C_Decrypt", tok->mod->fl->C_Decrypt(s, (unsigned char *)in, in_len,
								   out, out_len));
		if (rv != CKR_OK)
			tok->mod->fl->C_Decrypt(s, (unsigned char *)in, 0, out, &room);
	}
	objguard_leave(tok, key);
	return rv;
}
