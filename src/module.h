/* PKCS#11 modules: loading through p11-kit (by path or by registered
 * name), initialising once per process with CKF_OS_LOCKING_OK, and
 * starting afresh in a forked child. Private to the token layer.
 *
 * Locks: the module table lock guards the module and token tables and
 * the URI cache (token.c); it is taken before any token's own locks and
 * never held across a call into a module. A module being initialised or
 * finalised is marked busy instead: other threads wanting it wait for it
 * without holding the lock, so that a slow C_Initialize (a card reader
 * service starting) does not stop acquires on every other module, and a
 * module that forks inside C_Initialize does not deadlock in capi11's own
 * fork handler, which takes the lock. */
#ifndef CAPI11_MODULE_H
#define CAPI11_MODULE_H

#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>

struct module {
	CK_FUNCTION_LIST *fl;
	/* False when someone else in the process initialised it first: then
	 * it is not ours to finalise or re-initialise after fork. */
	bool ours;
	/* C_Initialize or C_Finalize running in some thread. */
	bool busy;
	unsigned generation;
	/* What C_GetInfo said, for the quirks table (quirks.h). */
	CK_INFO info;
	/* The path it was loaded by, so that acquiring by path again skips
	 * p11_kit_module_load (a dlopen and p11-kit's registry each time). */
	char *path;
	/* What C_Initialize passes in pReserved, again after each fork: a
	 * static string, or NULL (module_load_path_params). */
	const char *init_params;
	struct module *next;
};

void module_table_lock(void);
void module_table_unlock(void);

/* The module at path, loaded and initialised. Modules live as long as the
 * process. */
CK_RV module_load_path(const char *path, struct module **out);
/* The same, initialising the module with a LibraryParameters string in
 * CK_C_INITIALIZE_ARGS.pReserved (NSS's softokn reads its configuration
 * there). params must live as long as the process. A module already
 * loaded by this path keeps the parameters it was started with. */
CK_RV module_load_path_params(const char *path, const char *params, struct module **out);
/* The registered modules to search, in a capi11_malloc'd array: with name
 * set, only the module of that name; else every module that may hold keys
 * (trust-policy modules such as p11-kit-trust are skipped). */
CK_RV modules_load_registered(const char *name, struct module ***out, size_t *n_out);
/* Restarts the module in a forked child (once per fork generation). */
CK_RV module_check_fork(struct module *mod);

#endif
