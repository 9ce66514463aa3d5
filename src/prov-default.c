/* Per-type default providers, kept as default-provider-<type> keys of the
 * [capi11] section: the user's file over the system's, as Windows keeps
 * them under HKCU over HKLM. */
#include "config.h"
#include "prov-default.h"
#include "conf-edit.h"
#include "config-cache.h"
#include "conffile.h"
#include "prov-names.h"
#include "util.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USER_CONF_DIR "capi11"
#define USER_CONF_FILE "capi11.conf"

static char *path_join3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
	char *s = capi11_malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

char *prov_default_user_path(void)
{
	const char *xdg = secure_getenv("XDG_CONFIG_HOME");
	const char *home = secure_getenv("HOME");
	struct passwd pw, *res = NULL;
	char buf[4096];

	/* XDG: a relative $XDG_CONFIG_HOME is invalid and ignored. */
	if (xdg != NULL && xdg[0] == '/')
		return path_join3(xdg, "/" USER_CONF_DIR "/", USER_CONF_FILE);
	if (home == NULL || home[0] != '/') {
		if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) != 0 || res == NULL ||
		    pw.pw_dir == NULL || pw.pw_dir[0] != '/')
			return NULL;
		home = pw.pw_dir;
	}
	return path_join3(home, "/.config/" USER_CONF_DIR "/", USER_CONF_FILE);
}

DWORD prov_default_user(DWORD type, char **name)
{
	struct capi11_config *cfg;
	char *path = prov_default_user_path();
	const char *v;
	DWORD err = ERROR_SUCCESS;

	*name = NULL;
	if (path == NULL)
		return ERROR_SUCCESS;
	/* A missing file is an empty configuration. */
	cfg = config_load(path, NULL);
	capi11_free(path);
	if (cfg == NULL)
		return NTE_KEYSET_ENTRY_BAD;
	v = config_type_default(cfg, type);
	if (v != NULL) {
		*name = capi11_strdup(v);
		if (*name == NULL)
			err = NTE_NO_MEMORY;
	}
	config_free(cfg);
	return err;
}

/* Windows' registered machine defaults for the types capi11 serves. */
static const char *windows_machine_default(DWORD type)
{
	return type == PROV_RSA_FULL ? MS_STRONG_PROV_A
	       : type == PROV_RSA_AES ? MS_ENH_RSA_AES_PROV_A : NULL;
}

/* Whether the system file's section p serves type (a section without a
 * type serves both RSA types). */
static bool section_serves(const struct config_provider *p, DWORD type)
{
	if (p->type != 0)
		return p->type == type;
	return type == PROV_RSA_FULL || type == PROV_RSA_AES;
}

struct default_query {
	DWORD type;
	const char *name;       /* in: the provider to check (set) */
	char *out;              /* out: the machine default (get) */
};

static DWORD machine_get_in(const struct capi11_config *cfg, void *data)
{
	struct default_query *q = data;
	const char *v = config_type_default(cfg, q->type);
	const char *d = config_default_provider(cfg);
	const struct config_provider *p;

	if (v == NULL && d != NULL && (p = config_provider_find(cfg, d)) != NULL &&
	    section_serves(p, q->type))
		v = p->name;
	if (v == NULL)
		v = windows_machine_default(q->type);
	if (v == NULL)
		return NTE_PROV_TYPE_NOT_DEF;
	q->out = capi11_strdup(v);
	return q->out != NULL ? ERROR_SUCCESS : NTE_NO_MEMORY;
}

DWORD prov_default_get(DWORD type, bool user, char **name)
{
	struct default_query q = { .type = type };
	DWORD err;

	*name = NULL;
	if (user) {
		err = prov_default_user(type, name);
		if (err == ERROR_SUCCESS && *name == NULL)
			err = NTE_PROV_TYPE_NOT_DEF;
		return err;
	}
	err = config_cache_visit(machine_get_in, &q);
	if (err == ERROR_SUCCESS)
		*name = q.out;
	else
		capi11_free(q.out);
	return err;
}

static DWORD provider_known_in(const struct capi11_config *cfg, void *data)
{
	const struct default_query *q = data;
	const struct config_provider *p = config_provider_find(cfg, q->name);
	DWORD ms_type;

	if (p != NULL)
		return section_serves(p, q->type) ? ERROR_SUCCESS : NTE_BAD_PROVIDER;
	if (prov_ms_name_find(q->name, &ms_type) && ms_type == q->type)
		return ERROR_SUCCESS;
	return NTE_BAD_PROVIDER;
}

/* mkdir -p of the user file's directory, private to the user (XDG). */
static DWORD user_dir_make(const char *path)
{
	char *dir = capi11_strdup(path), *p;
	DWORD err = ERROR_SUCCESS;

	if (dir == NULL)
		return NTE_NO_MEMORY;
	p = strrchr(dir, '/');
	if (p != NULL)
		*p = '\0';
	for (p = dir + 1; err == ERROR_SUCCESS; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			err = errno == EACCES || errno == EPERM || errno == EROFS
			      ? ERROR_ACCESS_DENIED : NTE_FAIL;
		if (last)
			break;
		*p = '/';
	}
	capi11_free(dir);
	return err;
}

DWORD prov_default_set(const char *name, DWORD type, bool user, bool remove)
{
	struct default_query q = { .type = type, .name = name };
	char key[32], *path;
	DWORD err;

	/* Removing needs no such provider: a stale default goes too. */
	if (!remove) {
		err = config_cache_visit(provider_known_in, &q);
		if (err != ERROR_SUCCESS)
			return err;
	}
	snprintf(key, sizeof key, "default-provider-%u", (unsigned)type);
	if (user) {
		path = prov_default_user_path();
		if (path == NULL)
			return ERROR_ACCESS_DENIED;
		err = user_dir_make(path);
		if (err == ERROR_SUCCESS)
			err = conf_edit_set(path, key, remove ? NULL : name, 0600);
		capi11_free(path);
		return err;
	}
	/* The system file: written where the process may, as HKLM is. */
	return conf_edit_set(config_path_default(), key, remove ? NULL : name, 0644);
}
