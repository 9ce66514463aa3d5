/* Throwaway SoftHSM tokens and the commands around them (fixture.h). */
/* vasprintf, pipe2 and nftw's FTW_PHYS are GNU/XSI extensions. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"
#include "fixture.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Characters RFC 7512 allows unencoded besides its unreserved set
 * (ALPHA / DIGIT / "-" / "." / "_" / "~"): pk11-path-res-avail in the path
 * part, pk11-query-res-avail in the query part. */
#define URI_PATH_ALLOWED ":[]@!$'()*+,=&"
#define URI_QUERY_ALLOWED ":[]@!$'()*+,=/?|"

static struct {
	char *dir;	/* NULL until fixture_init() */
	char *conf;
} fixture;

static void fixture_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void fixture_die(const char *fmt, ...)
{
	va_list ap;

	fputs("fixture: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(FIXTURE_HARD_ERROR);
}

static char *str_vprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

static char *str_vprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		fixture_die("out of memory");
	return s;
}

static char *str_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = str_vprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* fixture_write_file() for the fixture's own files, which must not fail. */
static void file_write_all(const char *name, const void *data, size_t len)
{
	char *path = fixture_write_file(name, data, len);

	if (!path)
		fixture_die("cannot write %s: %s", name, strerror(errno));
	free(path);
}

void fixture_no_installed_conf(void)
{
	const char *conf = getenv("CAPI11_CONF");

	if (conf == NULL || *conf == '\0')
		setenv("CAPI11_CONF", "/dev/null", 1);
	/* Nor does the user's file (per-user default providers). */
	if (getenv("XDG_CONFIG_HOME") == NULL)
		setenv("XDG_CONFIG_HOME", "/nonexistent/capi11-test-xdg", 1);
}

bool fixture_init(void)
{
	const char *tmp = getenv("TMPDIR");
	char *tokens, *conf_text;

	if (fixture.dir)
		return true;
	fixture_no_installed_conf();
	/* configure leaves the paths empty when SoftHSM is not installed. */
	if (!*SOFTHSM_MODULE || !*SOFTHSM2_UTIL ||
	    access(SOFTHSM_MODULE, R_OK) != 0 ||
	    access(SOFTHSM2_UTIL, X_OK) != 0)
		return false;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	fixture.dir = str_printf("%s/capi11-test-XXXXXX", tmp);
	if (!mkdtemp(fixture.dir))
		fixture_die("mkdtemp %s: %s", fixture.dir, strerror(errno));
	tokens = str_printf("%s/tokens", fixture.dir);
	if (mkdir(tokens, 0700) != 0)
		fixture_die("mkdir %s: %s", tokens, strerror(errno));

	/* Non-removable slots, so that a removable flag seen by a test can only
	 * come from the shim. */
	conf_text = str_printf("directories.tokendir = %s\n"
			       "objectstore.backend = file\n"
			       "log.level = ERROR\n"
			       "slots.removable = false\n", tokens);
	file_write_all("softhsm2.conf", conf_text, strlen(conf_text));
	fixture.conf = str_printf("%s/softhsm2.conf", fixture.dir);
	if (setenv("SOFTHSM2_CONF", fixture.conf, 1) != 0)
		fixture_die("setenv: %s", strerror(errno));
	/* capi11's container locks (a capi11/ folder in the runtime
	 * directory) go with the tokens, and are removed with them. */
	if (setenv("XDG_RUNTIME_DIR", fixture.dir, 1) != 0)
		fixture_die("setenv: %s", strerror(errno));
	free(conf_text);
	free(tokens);
	return true;
}

static int tree_remove_entry(const char *path, const struct stat *st,
		int type, struct FTW *ftw)
{
	return remove(path) == 0 ? 0 : -1;
}

void fixture_cleanup(bool remove_dir)
{
	if (!fixture.dir)
		return;
	if (remove_dir) {
		/* Depth first, and never following a link out of the tree. */
		if (nftw(fixture.dir, tree_remove_entry, 16,
			 FTW_DEPTH | FTW_PHYS) != 0)
			fprintf(stderr, "fixture: cannot remove %s: %s\n",
				fixture.dir, strerror(errno));
	} else {
		fprintf(stderr, "fixture: kept %s for inspection\n",
			fixture.dir);
	}
	unsetenv("SOFTHSM2_CONF");
	free(fixture.conf);
	free(fixture.dir);
	fixture.conf = NULL;
	fixture.dir = NULL;
}

const char *fixture_dir(void)
{
	return fixture.dir;
}

char *fixture_label_new(const char *prefix)
{
	static atomic_uint counter;
	char *label = str_printf("%s-%ld-%u", prefix, (long)getpid(),
				 atomic_fetch_add(&counter, 1) + 1);

	if (strlen(label) > FIXTURE_LABEL_MAX) {
		free(label);
		return NULL;
	}
	return label;
}

/* Opens the fixture's command log for appending (stderr when there is no
 * fixture directory yet) and writes the command line to it. */
static int log_open(const char *command)
{
	char *path;
	int fd;

	if (!fixture.dir)
		return fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
	path = str_printf("%s/commands.log", fixture.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(path);
	if (fd >= 0)
		dprintf(fd, "$ %s\n", command);
	return fd;
}

/* Reads fd to its end into a malloc'd NUL-terminated string. */
static char *fd_read_all(int fd)
{
	size_t len = 0, size = 4096;
	char *buf = malloc(size);
	ssize_t n;

	if (!buf)
		fixture_die("out of memory");
	for (;;) {
		if (len + 1 >= size) {
			size *= 2;
			buf = realloc(buf, size);
			if (!buf)
				fixture_die("out of memory");
		}
		n = read(fd, buf + len, size - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

/* Runs command with /bin/sh -c. posix_spawn rather than fork: tests may have
 * threads running, and the fork handlers of capi11 and p11-kit must not run
 * for a child that only execs. With out set, the child's stdout is captured
 * into *out. */
static int command_run(const char *command, char **out)
{
	const char *const argv[] = { "/bin/sh", "-c", command, NULL };
	posix_spawn_file_actions_t actions;
	int pipe_fds[2] = { -1, -1 };
	int log_fd, wstatus, status = -1;
	pid_t pid;

	if (out)
		*out = NULL;
	log_fd = log_open(command);
	if (log_fd < 0)
		return -1;
	if (out && pipe2(pipe_fds, O_CLOEXEC) != 0) {
		close(log_fd);
		return -1;
	}

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&actions, out ? pipe_fds[1] : log_fd,
					 STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
	if (posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv,
			environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&actions);
	close(log_fd);
	if (out)
		close(pipe_fds[1]);
	if (pid < 0)
		goto cleanup;

	/* Read before waiting: a child filling the pipe would never exit. */
	if (out)
		*out = fd_read_all(pipe_fds[0]);
	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR)
			goto cleanup;
	}
	if (WIFEXITED(wstatus))
		status = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		status = 128 + WTERMSIG(wstatus);
cleanup:
	if (out && pipe_fds[0] >= 0)
		close(pipe_fds[0]);
	if (out && status < 0) {
		free(*out);
		*out = NULL;
	}
	return status;
}

int fixture_run(const char *fmt, ...)
{
	va_list ap;
	char *command;
	int status;

	va_start(ap, fmt);
	command = str_vprintf(fmt, ap);
	va_end(ap);
	status = command_run(command, NULL);
	free(command);
	return status;
}

char *fixture_capture(int *status, const char *fmt, ...)
{
	va_list ap;
	char *command, *out;
	int rc;

	va_start(ap, fmt);
	command = str_vprintf(fmt, ap);
	va_end(ap);
	rc = command_run(command, &out);
	free(command);
	if (status)
		*status = rc;
	return out;
}

char *fixture_quote(const char *s)
{
	size_t len = 2;
	char *quoted, *p;

	/* Inside single quotes only the quote itself needs care: ' -> '\'' */
	for (const char *c = s; *c; c++)
		len += *c == '\'' ? 4 : 1;
	quoted = malloc(len + 1);
	if (!quoted)
		fixture_die("out of memory");
	p = quoted;
	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return quoted;
}

int fixture_token_new(const char *label)
{
	char *q_util, *q_label;
	int status;

	q_util = fixture_quote(SOFTHSM2_UTIL);
	q_label = fixture_quote(label);
	status = fixture_run("%s --init-token --free --label %s"
			     " --pin " FIXTURE_PIN " --so-pin " FIXTURE_SO_PIN,
			     q_util, q_label);
	free(q_label);
	free(q_util);
	return status == 0 ? 0 : -1;
}

char *fixture_token_make(const char *prefix)
{
	char *label = fixture_label_new(prefix);

	if (label == NULL || fixture_token_new(label) != 0)
		fixture_die("cannot make a %s token (see %s/commands.log)", prefix,
			    fixture.dir);
	return label;
}

int fixture_pkcs11_tool(const char *label, bool login, char **out,
		const char *args_fmt, ...)
{
	va_list ap;
	char *args, *q_tool, *q_module, *q_label;
	int status;

	if (out)
		*out = NULL;
	if (!*PKCS11_TOOL)
		return -1;
	va_start(ap, args_fmt);
	args = str_vprintf(args_fmt, ap);
	va_end(ap);
	q_tool = fixture_quote(PKCS11_TOOL);
	q_module = fixture_quote(SOFTHSM_MODULE);
	q_label = fixture_quote(label);

	if (out) {
		*out = fixture_capture(&status, "%s --module %s --token-label %s%s %s",
				       q_tool, q_module, q_label,
				       login ? " --login --pin " FIXTURE_PIN : "",
				       args);
	} else {
		status = fixture_run("%s --module %s --token-label %s%s %s",
				     q_tool, q_module, q_label,
				     login ? " --login --pin " FIXTURE_PIN : "",
				     args);
	}
	free(q_label);
	free(q_module);
	free(q_tool);
	free(args);
	return status;
}

/* s with every byte percent-encoded that is neither unreserved nor in
 * allowed (RFC 7512 section 2.3). */
static char *uri_encode(const char *s, const char *allowed)
{
	static const char hex[] = "0123456789ABCDEF";
	char *encoded = malloc(strlen(s) * 3 + 1), *p = encoded;

	if (!encoded)
		fixture_die("out of memory");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		/* ASCII ranges, not isalnum(): the locale must not matter. */
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || strchr("-._~", c) ||
			     strchr(allowed, c);

		if (plain) {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 0xf];
		}
	}
	*p = '\0';
	return encoded;
}

static char *uri_build(const char *label, const char *module, bool with_pin)
{
	char *e_label, *e_module, *uri;

	if (!module)
		return NULL;
	e_label = uri_encode(label, URI_PATH_ALLOWED);
	e_module = uri_encode(module, URI_QUERY_ALLOWED);
	uri = str_printf("pkcs11:token=%s?module-path=%s%s", e_label, e_module,
			 with_pin ? "&pin-value=" FIXTURE_PIN : "");
	free(e_module);
	free(e_label);
	return uri;
}

char *fixture_token_uri(const char *label)
{
	return uri_build(label, SOFTHSM_MODULE, true);
}

char *fixture_token_uri_nopin(const char *label)
{
	return uri_build(label, SOFTHSM_MODULE, false);
}

char *fixture_token_uri_shim(const char *label, bool with_pin)
{
	return uri_build(label, fixture_shim_path(), with_pin);
}

static pthread_once_t shim_path_once = PTHREAD_ONCE_INIT;
static char *shim_path;

static void shim_path_find(void)
{
	static const char *const candidates[] = {
		TEST_BUILDDIR "/.libs/p11shim.so",
		TEST_BUILDDIR "/../.libs/p11shim.so",
	};

	for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
		/* Canonical, so that every URI names the shim the same way. */
		shim_path = realpath(candidates[i], NULL);
		if (shim_path)
			return;
	}
}

const char *fixture_shim_path(void)
{
	pthread_once(&shim_path_once, shim_path_find);
	return shim_path;
}

static pthread_once_t shim_ops_once = PTHREAD_ONCE_INIT;
static struct p11shim_ops shim_ops;
static bool shim_ops_ok;

/* dlsym into a function pointer of any type. */
static bool symbol_resolve(void *module, const char *name, void *fn_ptr)
{
	void *sym = dlsym(module, name);

	memcpy(fn_ptr, &sym, sizeof sym);
	return sym != NULL;
}

static void shim_ops_load(void)
{
	const char *path = fixture_shim_path();
	void *module;

	/* Loading the same file as p11-kit gives the same instance, with the
	 * same counters; the handle is never closed so that the instance
	 * outlives capi11's use of it. */
	module = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
	if (!module)
		return;
	shim_ops_ok =
		symbol_resolve(module, "p11shim_reset", &shim_ops.reset) &&
		symbol_resolve(module, "p11shim_count", &shim_ops.count) &&
		symbol_resolve(module, "p11shim_total", &shim_ops.total) &&
		symbol_resolve(module, "p11shim_fail", &shim_ops.fail) &&
		symbol_resolve(module, "p11shim_tamper_length",
			       &shim_ops.tamper_length) &&
		symbol_resolve(module, "p11shim_set_pinpad",
			       &shim_ops.set_pinpad) &&
		symbol_resolve(module, "p11shim_set_token_absent",
			       &shim_ops.set_token_absent) &&
		symbol_resolve(module, "p11shim_set_removable",
			       &shim_ops.set_removable);
}

const struct p11shim_ops *fixture_shim(void)
{
	pthread_once(&shim_ops_once, shim_ops_load);
	return shim_ops_ok ? &shim_ops : NULL;
}

char *fixture_write_file(const char *name, const void *data, size_t len)
{
	const unsigned char *p = data;
	bool ok = false;
	char *path;
	int fd;

	if (!fixture.dir)
		return NULL;
	path = str_printf("%s/%s", fixture.dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		p += n;
		len -= (size_t)n;
	}
	ok = close(fd) == 0;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (!ok) {
		free(path);
		path = NULL;
	}
	return path;
}
