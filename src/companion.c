/* Finding and opening the companion token (companion.h). */
#include "config.h"
#include "companion.h"
#include "errors.h"
#include "pin.h"
#include "trace.h"
#include "uri.h"
#include "util.h"

#include <glob.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

bool companion_is_none(const char *spec)
{
	return spec != NULL && strcasecmp(spec, "none") == 0;
}

bool companion_spec_is_keyword(const char *spec)
{
	return strcasecmp(spec, "nss") == 0 || strcasecmp(spec, "none") == 0;
}

static char softokn_found[4096];
static pthread_once_t softokn_once = PTHREAD_ONCE_INIT;

/* The first softokn in the directories distributions use, Debian's
 * multiarch ones included. */
static void softokn_search(void)
{
	static const char *const patterns[] = {
		"/usr/lib/*/libsoftokn3.so",
		"/usr/lib64/libsoftokn3.so",
		"/usr/lib/libsoftokn3.so",
		"/usr/lib/*/nss/libsoftokn3.so",
		"/usr/lib64/nss/libsoftokn3.so",
	};
	size_t i;

	for (i = 0; i < CAPI11_N_ELEMENTS(patterns) && softokn_found[0] == '\0'; i++) {
		glob_t g;

		if (glob(patterns[i], 0, NULL, &g) == 0 && g.gl_pathc > 0 &&
		    strlen(g.gl_pathv[0]) < sizeof softokn_found)
			strcpy(softokn_found, g.gl_pathv[0]);
		globfree(&g);
	}
}

/* The path configure found, else the search's answer, made once per
 * process; NULL when there is none. */
static const char *softokn_path(void)
{
	if (CAPI11_SOFTOKN_PATH[0] != '\0' && access(CAPI11_SOFTOKN_PATH, R_OK) == 0)
		return CAPI11_SOFTOKN_PATH;
	pthread_once(&softokn_once, softokn_search);
	return softokn_found[0] != '\0' ? softokn_found : NULL;
}

static CK_RV companion_open_nss(struct token **out)
{
	const char *path = softokn_path();
	P11KitUri *uri;
	CK_RV rv;

	if (path == NULL) {
		trace_message("companion: NSS softokn (libsoftokn3.so) not found");
		return CAPI11_CKR_MODULE_LOAD;
	}
	uri = p11_kit_uri_new();
	if (uri == NULL)
		return CKR_HOST_MEMORY;
	/* The label picks the slot by what it is, not by its number. */
	if (p11_kit_uri_parse("pkcs11:token=NSS%20Generic%20Crypto%20Services",
			      P11_KIT_URI_FOR_TOKEN, uri) != P11_KIT_URI_OK) {
		p11_kit_uri_free(uri);
		return CKR_GENERAL_ERROR;
	}
	rv = token_open_module_params(path, COMPANION_NSS_PARAMS, uri, out);
	p11_kit_uri_free(uri);
	if (rv != CKR_OK)
		trace_ckr("companion: NSS softokn", rv, path);
	return rv;
}

static CK_RV companion_open_uri(const char *spec, struct token **out, char **pin)
{
	P11KitUri *uri = NULL;
	const char *reason = NULL, *v;
	int perr = 0;
	CK_RV rv;

	if (uri_parse_provider(spec, &uri, &reason) != 0) {
		trace_uri(1, "companion URI refused", spec);
		return CKR_ARGUMENTS_BAD;
	}
	rv = token_open_uri(uri, out);
	if (rv == CKR_OK && (v = p11_kit_uri_get_pin_value(uri)) != NULL) {
		*pin = capi11_strdup(v);
		if (*pin == NULL)
			rv = CKR_HOST_MEMORY;
	} else if (rv == CKR_OK && (v = p11_kit_uri_get_pin_source(uri)) != NULL) {
		*pin = pin_read_source(v, &perr);
		if (*pin == NULL)
			rv = CKR_PIN_INCORRECT;
	}
	/* p11-kit keeps a copy of pin-value in the URI. */
	v = p11_kit_uri_get_pin_value(uri);
	if (v != NULL)
		capi11_wipe((void *)v, strlen(v));
	p11_kit_uri_free(uri);
	if (rv != CKR_OK)
		trace_uri(1, "companion token not opened", spec);
	return rv;
}

CK_RV companion_open(const char *spec, struct token **out, char **pin)
{
	*pin = NULL;
	if (companion_is_none(spec))
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (spec == NULL || strcasecmp(spec, "nss") == 0)
		return companion_open_nss(out);
	return companion_open_uri(spec, out, pin);
}
