/* Tokens: the table of tokens met, finding one by URI, their facts and
 * mechanisms. Lock order: the module table lock (module.h), then a
 * token's lock; neither is held across a C_* call, except the token's
 * lock around C_Login and C_Logout (session.c), which must not run twice
 * at once for one token. */
#include "config.h"
#include "token.h"
#include "errors.h"
#include "p11call.h"
#include "session.h"
#include "token-private.h"
#include "trace.h"
#include "util.h"

#include <p11-kit/p11-kit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static struct token *tokens;

void token_table_fork_lock(void)
{
	struct token *tok;

	for (tok = tokens; tok != NULL; tok = tok->next) {
		pthread_mutex_lock(&tok->lock);
		pthread_mutex_lock(&tok->store_lock);
	}
}

void token_table_fork_unlock(void)
{
	struct token *tok;

	for (tok = tokens; tok != NULL; tok = tok->next) {
		pthread_mutex_unlock(&tok->store_lock);
		pthread_mutex_unlock(&tok->lock);
	}
}

/* Copies a blank-padded PKCS#11 string and trims it. */
static void copy_padded(char *dst, const CK_UTF8CHAR *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
	while (n > 0 && dst[n - 1] == ' ')
		dst[--n] = '\0';
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
	module_table_lock();
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
	tok->quirks = quirks_lookup(&mod->info, ti);
	/* What no attempt needs to tell: the quirks table knows it. */
	if (tok->quirks->flags & QUIRK_NO_EXTRACTABLE_PRIVATE)
		atomic_store(&tok->caps[TOKEN_CAP_EXTRACTABLE_PRIVATE], TOKEN_CAP_NO);
	tok->next = tokens;
	tokens = tok;
out:
	module_table_unlock();
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
		rv = p11_GetInfo(fl, &info);
		if (rv != CKR_OK)
			return rv;
		if (!p11_kit_uri_match_module_info(uri, &info))
			return CKR_TOKEN_NOT_PRESENT;
	}
	rv = p11_GetSlotList(fl, CK_FALSE, NULL, &n);
	if (rv != CKR_OK)
		return rv;
	if (n == 0)
		return CKR_TOKEN_NOT_PRESENT;
	slots = capi11_calloc(n, sizeof *slots);
	if (slots == NULL)
		return CKR_HOST_MEMORY;
	rv = p11_GetSlotList(fl, CK_FALSE, slots, &n);
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
		if (p11_GetSlotInfo(fl, slots[i], &si) != CKR_OK)
			continue;
		if (uri != NULL && !p11_kit_uri_match_slot_info(uri, &si))
			continue;
		if (!(si.flags & CKF_TOKEN_PRESENT)) {
			*saw_empty_slot = true;
			continue;
		}
		if (p11_GetTokenInfo(fl, slots[i], &ti) != CKR_OK)
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
 * Entries are guarded by the module table lock and die with a fork. */
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

	module_table_lock();
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
	module_table_unlock();
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

	if (p11_GetSlotInfo(fl, tok->slot, &si) != CKR_OK ||
	    !(si.flags & CKF_TOKEN_PRESENT))
		return false;
	if (!(si.flags & CKF_REMOVABLE_DEVICE))
		return true;
	if (p11_GetTokenInfo(fl, tok->slot, &ti) != CKR_OK ||
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

	module_table_lock();
	for (i = 0; i < URI_HITS_MAX && tok == NULL; i++) {
		if (uri_hit_matches(&uri_hits[i], uri, gen))
			tok = uri_hits[i].tok;
	}
	module_table_unlock();
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

CK_RV token_open_module_params(const char *path, const char *params, P11KitUri *uri,
			       struct token **out)
{
	struct module *mod;
	CK_RV rv;

	rv = module_load_path_params(path, params, &mod);
	if (rv != CKR_OK)
		return rv;
	return modules_find_token(&mod, 1, uri, out);
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

enum token_wrap_trust token_wrap_trust(const struct token *tok)
{
	return (enum token_wrap_trust)atomic_load(&tok->wrap_trust);
}

void token_set_wrap_trust(struct token *tok, enum token_wrap_trust state)
{
	atomic_store(&tok->wrap_trust, (int)state);
}

CK_RV token_mechanism_info(struct token *tok, CK_MECHANISM_TYPE mech, CK_MECHANISM_INFO *info)
{
	struct mech_cache entry;
	size_t i, n = atomic_load_explicit(&tok->n_mechs, memory_order_acquire);

	/* Every entry below n is complete and stays as it is (token-private.h). */
	for (i = 0; i < n; i++) {
		if (tok->mechs[i].mech == mech) {
			*info = tok->mechs[i].info;
			return tok->mechs[i].rv;
		}
	}

	memset(&entry, 0, sizeof entry);
	entry.mech = mech;
	entry.rv = p11_GetMechanismInfo(tok->mod->fl, tok->slot, mech, &entry.info);
	/* Only definite answers are cached; a removed card is asked again. */
	if (entry.rv == CKR_OK || entry.rv == CKR_MECHANISM_INVALID) {
		pthread_mutex_lock(&tok->lock);
		n = atomic_load_explicit(&tok->n_mechs, memory_order_relaxed);
		if (n < MECH_CACHE_MAX) {
			tok->mechs[n] = entry;
			atomic_store_explicit(&tok->n_mechs, n + 1, memory_order_release);
		}
		pthread_mutex_unlock(&tok->lock);
	}
	*info = entry.info;
	return entry.rv;
}


CK_RV token_rsa_bits_range(struct token *tok, CK_MECHANISM_TYPE mech, CK_ULONG *min_bits,
			   CK_ULONG *max_bits)
{
	CK_MECHANISM_INFO info;
	CK_RV rv = token_mechanism_info(tok, mech, &info);

	if (rv != CKR_OK)
		return rv;
	*min_bits = quirks_rsa_bits(tok->quirks, info.ulMinKeySize, info.ulMaxKeySize);
	*max_bits = quirks_rsa_bits(tok->quirks, info.ulMaxKeySize, info.ulMaxKeySize);
	return CKR_OK;
}

bool token_has_rng(const struct token *tok)
{
	return (tok->token_flags & CKF_RNG) != 0;
}

bool token_is_write_protected(const struct token *tok)
{
	return (tok->token_flags & CKF_WRITE_PROTECTED) != 0;
}

static const char *const cap_names[TOKEN_CAP_COUNT] = {
	[TOKEN_CAP_WRAP] = "wrap",
	[TOKEN_CAP_UNWRAP] = "unwrap",
	[TOKEN_CAP_GENERATE_KEY] = "generate-key",
	[TOKEN_CAP_GENERATE_KEY_PAIR] = "generate-key-pair",
	[TOKEN_CAP_RANDOM] = "random",
	[TOKEN_CAP_CREATE_DATA_PUBLIC] = "create-public-data",
	[TOKEN_CAP_CREATE_DATA_PRIVATE] = "create-private-data",
	[TOKEN_CAP_CREATE_PUBLIC_KEY] = "create-public-key",
	[TOKEN_CAP_CREATE_PRIVATE_KEY] = "create-private-key",
	[TOKEN_CAP_CREATE_SECRET_KEY] = "create-secret-key",
	[TOKEN_CAP_EXTRACTABLE_PRIVATE] = "extractable-private-key",
};

const char *token_cap_name(enum token_cap cap)
{
	if ((unsigned)cap >= TOKEN_CAP_COUNT)
		return "?";
	return cap_names[cap];
}

enum token_cap_state token_cap(const struct token *tok, enum token_cap cap)
{
	if ((unsigned)cap >= TOKEN_CAP_COUNT)
		return TOKEN_CAP_UNKNOWN;
	return (enum token_cap_state)atomic_load(&tok->caps[cap]);
}

/* Sets cap NO unless an attempt has said otherwise. */
static void cap_seed_no(struct token *tok, enum token_cap cap)
{
	int expected = TOKEN_CAP_UNKNOWN;

	atomic_compare_exchange_strong(&tok->caps[cap], &expected, TOKEN_CAP_NO);
}

void token_caps_probe(struct token *tok)
{
	CK_MECHANISM_TYPE *mechs = NULL;
	CK_MECHANISM_INFO info;
	CK_FLAGS all = 0;
	CK_ULONG n = 0;
	bool listed = false;

	if (atomic_exchange(&tok->caps_probed, true))
		return;
	if (p11_GetMechanismList(tok->mod->fl, tok->slot, NULL, &n) == CKR_OK && n > 0 &&
	    n <= 4096 && (mechs = capi11_calloc(n, sizeof *mechs)) != NULL &&
	    p11_GetMechanismList(tok->mod->fl, tok->slot, mechs, &n) == CKR_OK) {
		listed = true;
		for (CK_ULONG i = 0; i < n; i++) {
			if (p11_GetMechanismInfo(tok->mod->fl, tok->slot, mechs[i], &info) == CKR_OK)
				all |= info.flags;
			else
				listed = false;
		}
	}
	capi11_free(mechs);
	if (listed) {
		if (!(all & CKF_WRAP))
			cap_seed_no(tok, TOKEN_CAP_WRAP);
		if (!(all & CKF_UNWRAP))
			cap_seed_no(tok, TOKEN_CAP_UNWRAP);
		if (!(all & CKF_GENERATE))
			cap_seed_no(tok, TOKEN_CAP_GENERATE_KEY);
		if (!(all & CKF_GENERATE_KEY_PAIR))
			cap_seed_no(tok, TOKEN_CAP_GENERATE_KEY_PAIR);
	}
	if (!(tok->token_flags & CKF_RNG))
		cap_seed_no(tok, TOKEN_CAP_RANDOM);
}

bool token_rv_is_refusal(CK_RV rv)
{
	switch (rv) {
	case CKR_FUNCTION_NOT_SUPPORTED:
	case CKR_ARGUMENTS_BAD:
	case CKR_TEMPLATE_INCONSISTENT:
	case CKR_TEMPLATE_INCOMPLETE:
	case CKR_ATTRIBUTE_VALUE_INVALID:
	case CKR_ATTRIBUTE_TYPE_INVALID:
	case CKR_ATTRIBUTE_READ_ONLY:
	case CKR_MECHANISM_INVALID:
	case CKR_KEY_TYPE_INCONSISTENT:
	case CKR_TOKEN_WRITE_PROTECTED:
	case CKR_SESSION_READ_ONLY:
	case CKR_RANDOM_NO_RNG:
		return true;
	default:
		return false;
	}
}

void token_cap_learn(struct token *tok, enum token_cap cap, CK_RV rv)
{
	int expected = TOKEN_CAP_UNKNOWN;

	if ((unsigned)cap >= TOKEN_CAP_COUNT)
		return;
	if (rv == CKR_OK) {
		if (atomic_load(&tok->caps[cap]) != TOKEN_CAP_YES)
			atomic_store(&tok->caps[cap], TOKEN_CAP_YES);
	} else if (token_rv_is_refusal(rv)) {
		/* Once done, a later refusal is of that call's shape, not of
		 * the ability. */
		atomic_compare_exchange_strong(&tok->caps[cap], &expected, TOKEN_CAP_NO);
	}
}

bool token_takes_value_len(const struct token *tok)
{
	return !(tok->quirks->flags & QUIRK_NO_UNWRAP_VALUE_LEN);
}

CK_ULONG token_rc2_max_bytes(struct token *tok)
{
	CK_MECHANISM_INFO info;

	if (token_mechanism_info(tok, CKM_RC2_KEY_GEN, &info) != CKR_OK)
		return 0;
	if (tok->quirks->flags & QUIRK_RC2_SIZE_BYTES)
		return info.ulMaxKeySize;
	return info.ulMaxKeySize / 8;
}

bool token_has_des2(const struct token *tok)
{
	return !(tok->quirks->flags & QUIRK_NO_DES2);
}

bool token_couples_usage(const struct token *tok)
{
	return (tok->quirks->flags & QUIRK_COUPLED_USAGE) != 0;
}

bool token_has_piv_key_ids(const struct token *tok)
{
	return (tok->quirks->flags & QUIRK_PIV_KEY_IDS) != 0;
}

void token_pool_check_generation_locked(struct token *tok, unsigned gen)
{
	if (tok->generation == gen)
		return;
	/* The parent's contexts hold its sessions; the child never gives
	 * them back (context.c leaves them alone). */
	tok->n_pool = 0;
	tok->generation = gen;
	atomic_store(&tok->leased, 0);
}
