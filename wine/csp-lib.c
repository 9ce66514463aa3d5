/* Loading libcapi11 for the CSP: see csp-lib.h for why by dlopen. */
#include "csp-lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef CAPI11_LIBRARY_PATH
#error "CAPI11_LIBRARY_PATH must name the installed libcapi11 (set by the build)"
#endif

static struct csp_lib lib;
static const struct csp_lib *lib_ready;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

/* Each entry: the library's symbol and where its address goes. */
#define SYM(field, name) { name, (void **)&lib.field }
static const struct {
	const char *name;
	void **slot;
} symbols[] = {
	SYM(acquire_w, "CryptAcquireContextW"),
	SYM(release, "CryptReleaseContext"),
	SYM(get_prov_param, "CryptGetProvParam"),
	SYM(set_prov_param, "CryptSetProvParam"),
	SYM(gen_random, "CryptGenRandom"),
	SYM(gen_key, "CryptGenKey"),
	SYM(get_user_key, "CryptGetUserKey"),
	SYM(destroy_key, "CryptDestroyKey"),
	SYM(duplicate_key, "CryptDuplicateKey"),
	SYM(get_key_param, "CryptGetKeyParam"),
	SYM(set_key_param, "CryptSetKeyParam"),
	SYM(encrypt, "CryptEncrypt"),
	SYM(decrypt, "CryptDecrypt"),
	SYM(export_key, "CryptExportKey"),
	SYM(import_key, "CryptImportKey"),
	SYM(create_hash, "CryptCreateHash"),
	SYM(hash_data, "CryptHashData"),
	SYM(hash_session_key, "CryptHashSessionKey"),
	SYM(get_hash_param, "CryptGetHashParam"),
	SYM(set_hash_param, "CryptSetHashParam"),
	SYM(duplicate_hash, "CryptDuplicateHash"),
	SYM(destroy_hash, "CryptDestroyHash"),
	SYM(sign_hash_w, "CryptSignHashW"),
	SYM(verify_signature_w, "CryptVerifySignatureW"),
	SYM(derive_key, "CryptDeriveKey"),
	SYM(get_last_error, "GetLastError"),
};
#undef SYM

static void lib_load(void)
{
	const char *path = getenv("CAPI11_WINE_LIBRARY");
	void *handle;

	if (path == NULL || *path == '\0')
		path = CAPI11_LIBRARY_PATH;
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
	if (handle == NULL) {
		/* Wine's stderr is the program's console: one line, once. */
		fprintf(stderr, "capi11csp: cannot load %s: %s\n", path, dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		*symbols[i].slot = dlsym(handle, symbols[i].name);
		if (*symbols[i].slot == NULL) {
			fprintf(stderr, "capi11csp: %s has no %s: not a libcapi11\n", path,
				symbols[i].name);
			dlclose(handle);
			return;
		}
	}
	lib_ready = &lib;
}

const struct csp_lib *csp_lib_get(void)
{
	pthread_once(&lib_once, lib_load);
	return lib_ready;
}
