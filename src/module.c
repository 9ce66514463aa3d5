/* Modules and fork: see module.h for the lock rules. */
#include "config.h"
#include "module.h"
#include "errors.h"
#include "p11call.h"
#include "session.h"
#include "token-private.h"
#include "util.h"

#include <p11-kit/p11-kit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
/* Signalled when a module stops being busy. */
static pthread_cond_t modules_cond = PTHREAD_COND_INITIALIZER;
static struct module *modules;
static atomic_uint fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

void module_table_lock(void)
{
	pthread_mutex_lock(&modules_lock);
}

void module_table_unlock(void)
{
	pthread_mutex_unlock(&modules_lock);
}

/* fork() copies only the forking thread: a lock that another thread held
 * at that moment would stay locked in the child for ever. So the forking
 * thread takes the token layer's locks first and both processes release
 * them afterwards. */
static void on_fork_prepare(void)
{
	pthread_mutex_lock(&modules_lock);
	token_table_fork_lock();
}

static void on_fork_parent(void)
{
	token_table_fork_unlock();
	pthread_mutex_unlock(&modules_lock);
}

/* A module that another thread of the parent was initialising is started
 * again in the child: that thread does not exist here. */
static void on_fork_child(void)
{
	unsigned old = atomic_fetch_add(&fork_generation, 1);
	struct module *mod;

	for (mod = modules; mod != NULL; mod = mod->next) {
		if (mod->busy) {
			mod->busy = false;
			mod->ours = true;
			mod->generation = old;
		}
	}
	pthread_cond_init(&modules_cond, NULL);
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

/* params: the module's LibraryParameters string (pReserved), or NULL. */
static CK_RV module_initialize(CK_FUNCTION_LIST *fl, const char *params, bool *ours)
{
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	memset(&args, 0, sizeof args);
	/* Without CKF_OS_LOCKING_OK SoftHSM switches off all of its locking. */
	args.flags = CKF_OS_LOCKING_OK;
	/* NSS's softokn reads its configuration from here (the companion
	 * token, companion.c); other modules are given nothing. */
	args.pReserved = (void *)params;
	rv = p11_Initialize(fl, &args);
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		*ours = false;
		return CKR_OK;
	}
	*ours = (rv == CKR_OK);
	return rv;
}

/* Waits while mod is busy, then, in a forked child, starts it afresh:
 * the module may still hold the parent's sessions and login (SoftHSM
 * keeps them unless reset_on_fork is set). C_Initialize comes first, as
 * PKCS#11 asks of a child: a module that knows it was forked starts afresh
 * there (p11-kit's client module opens a connection of its own, and takes
 * a C_Finalize in the child for a broken precondition, which it reports
 * on stderr, or aborts on with P11_KIT_STRICT); one that answers
 * CKR_CRYPTOKI_ALREADY_INITIALIZED kept the parent's state and is
 * finalised and initialised again. Pooled sessions are forgotten lazily
 * (token_pool_check_generation_locked). Called with modules_lock held,
 * which it drops while the module runs. */
static CK_RV module_ready_locked(struct module *mod, unsigned gen)
{
	CK_RV rv = CKR_OK;
	bool ours = mod->ours;

	while (mod->busy)
		pthread_cond_wait(&modules_cond, &modules_lock);
	if (mod->generation == gen)
		return CKR_OK;
	if (mod->ours) {
		mod->busy = true;
		pthread_mutex_unlock(&modules_lock);
		rv = module_initialize(mod->fl, mod->init_params, &ours);
		if (rv == CKR_OK && !ours) {
			p11_Finalize(mod->fl, NULL);
			rv = module_initialize(mod->fl, mod->init_params, &ours);
		}
		pthread_mutex_lock(&modules_lock);
		mod->busy = false;
		pthread_cond_broadcast(&modules_cond);
		if (rv != CKR_OK)
			return rv;
		mod->ours = ours;
	}
	mod->generation = gen;
	return CKR_OK;
}

CK_RV module_check_fork(struct module *mod)
{
	unsigned gen = token_generation();
	CK_RV rv;

	if (mod->generation == gen)
		return CKR_OK;
	pthread_mutex_lock(&modules_lock);
	rv = module_ready_locked(mod, gen);
	pthread_mutex_unlock(&modules_lock);
	return rv;
}

static struct module *module_find_locked(CK_FUNCTION_LIST *fl)
{
	struct module *mod;

	for (mod = modules; mod != NULL; mod = mod->next) {
		if (mod->fl == fl)
			return mod;
	}
	return NULL;
}

static void module_unlink_locked(struct module *gone)
{
	struct module **p;

	for (p = &modules; *p != NULL; p = &(*p)->next) {
		if (*p == gone) {
			*p = gone->next;
			return;
		}
	}
}

/* Initialises a new module entry, published busy so that a second thread
 * adopting the same list waits instead of initialising it twice. Called
 * with modules_lock held, which it drops during the calls. An entry that
 * fails is unlinked and freed: nobody else holds it (waiters look it up
 * again after each wait, and tokens are only made on started modules). */
static CK_RV module_start_locked(struct module *mod, unsigned gen)
{
	CK_INFO info;
	CK_RV rv;
	bool ours = false;

	mod->busy = true;
	mod->next = modules;
	modules = mod;
	pthread_mutex_unlock(&modules_lock);
	rv = module_initialize(mod->fl, mod->init_params, &ours);
	memset(&info, 0, sizeof info);
	/* Only the quirks table reads it: a module without an answer gets no
	 * quirk. */
	if (rv == CKR_OK)
		p11_GetInfo(mod->fl, &info);
	pthread_mutex_lock(&modules_lock);
	mod->busy = false;
	pthread_cond_broadcast(&modules_cond);
	if (rv != CKR_OK) {
		module_unlink_locked(mod);
		capi11_free(mod);
		return rv;
	}
	mod->ours = ours;
	mod->info = info;
	mod->generation = gen;
	return CKR_OK;
}

/* Adds a loaded function list to the module table, initialising it the
 * first time. A module loaded twice (by path and by name) is one entry;
 * release_extra gives back a load reference that the table does not need
 * (false for the registered list, which keeps its own). */
static CK_RV module_adopt(CK_FUNCTION_LIST *fl, const char *params, bool release_extra,
			  struct module **out)
{
	struct module *mod;
	unsigned gen = token_generation();
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&modules_lock);
	while ((mod = module_find_locked(fl)) != NULL && mod->busy)
		pthread_cond_wait(&modules_cond, &modules_lock);
	if (mod != NULL) {
		/* p11-kit counts loads; this one is not needed. */
		if (release_extra)
			p11_kit_module_release(fl);
		rv = module_ready_locked(mod, gen);
		goto out;
	}
	mod = capi11_calloc(1, sizeof *mod);
	if (mod == NULL) {
		rv = CKR_HOST_MEMORY;
	} else {
		mod->fl = fl;
		mod->init_params = params;
		rv = module_start_locked(mod, gen);
	}
	if (rv != CKR_OK) {
		mod = NULL;
		if (release_extra)
			p11_kit_module_release(fl);
	}
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
		*rv = module_ready_locked(mod, gen);
	pthread_mutex_unlock(&modules_lock);
	return mod;
}

CK_RV module_load_path_params(const char *path, const char *params, struct module **out)
{
	CK_FUNCTION_LIST *fl;
	CK_RV rv = CKR_OK;

	*out = module_find_path(path, &rv);
	if (*out != NULL)
		return rv;
	fl = p11_kit_module_load(path, P11_KIT_MODULE_UNMANAGED);
	if (fl == NULL)
		return CAPI11_CKR_MODULE_LOAD;
	rv = module_adopt(fl, params, true, out);
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

CK_RV module_load_path(const char *path, struct module **out)
{
	return module_load_path_params(path, NULL, out);
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
 * for each CryptAcquireContext. p11-kit only loads them here (unmanaged:
 * capi11 initialises each itself, in module_adopt). */
static CK_FUNCTION_LIST **registered_list(void)
{
	static CK_FUNCTION_LIST **list;

	pthread_mutex_lock(&modules_lock);
	if (list == NULL)
		list = p11_kit_modules_load(NULL, P11_KIT_MODULE_UNMANAGED);
	pthread_mutex_unlock(&modules_lock);
	return list;
}

CK_RV modules_load_registered(const char *name, struct module ***out, size_t *n_out)
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
		rv = module_adopt(fl, NULL, false, &mods[n]);
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
