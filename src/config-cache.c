/* The cached configuration, its reload, and its lock across fork(). */
#include "config.h"
#include "config-cache.h"
#include "trace.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t config_atfork_once = PTHREAD_ONCE_INIT;
static struct capi11_config *config_cache;
static char *config_cache_path;
static struct stat config_cache_stat;
static bool config_cache_absent;

/* fork() copies only the forking thread: config_lock, held by another
 * thread at that moment, would stay taken in the child for ever. The
 * forking thread takes it first; both processes release it. */
static void config_fork_prepare(void)
{
	pthread_mutex_lock(&config_lock);
}

static void config_fork_release(void)
{
	pthread_mutex_unlock(&config_lock);
}

static void config_atfork_register(void)
{
	pthread_atfork(config_fork_prepare, config_fork_release, config_fork_release);
}

/* Returns the current configuration with config_lock held. */
static DWORD config_get_locked(const struct capi11_config **out)
{
	const char *path = config_path_default();
	struct config_error cerr;
	struct stat st;
	bool absent = stat(path, &st) != 0;

	if (config_cache != NULL && config_cache_path != NULL &&
	    strcmp(config_cache_path, path) == 0 && absent == config_cache_absent &&
	    (absent || (st.st_mtim.tv_sec == config_cache_stat.st_mtim.tv_sec &&
			st.st_mtim.tv_nsec == config_cache_stat.st_mtim.tv_nsec &&
			st.st_size == config_cache_stat.st_size && st.st_ino == config_cache_stat.st_ino &&
			/* chmod and chown change only the ctime: a file made
			 * readable by others is checked again. */
			st.st_ctim.tv_sec == config_cache_stat.st_ctim.tv_sec &&
			st.st_ctim.tv_nsec == config_cache_stat.st_ctim.tv_nsec))) {
		*out = config_cache;
		return ERROR_SUCCESS;
	}
	config_free(config_cache);
	capi11_free(config_cache_path);
	config_cache = config_load(path, &cerr);
	config_cache_path = capi11_strdup(path);
	config_cache_absent = absent;
	if (!absent)
		config_cache_stat = st;
	if (config_cache == NULL) {
		/* The reason is a fixed phrase: it never quotes a value. */
		trace_set_level(0);
		trace_message("%s:%u: %s", path, cerr.line, cerr.reason);
		return cerr.code == ENOMEM ? NTE_NO_MEMORY : NTE_KEYSET_ENTRY_BAD;
	}
	trace_set_level(config_trace(config_cache));
	*out = config_cache;
	return ERROR_SUCCESS;
}

DWORD config_cache_visit(DWORD (*fn)(const struct capi11_config *cfg, void *data), void *data)
{
	const struct capi11_config *cfg;
	DWORD err;

	return_val_if_fail(fn != NULL, ERROR_INVALID_PARAMETER);
	pthread_once(&config_atfork_once, config_atfork_register);
	pthread_mutex_lock(&config_lock);
	err = config_get_locked(&cfg);
	if (err == ERROR_SUCCESS)
		err = fn(cfg, data);
	pthread_mutex_unlock(&config_lock);
	return err;
}
