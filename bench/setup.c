/* The benchmark's throwaway token. SoftHSM reads its token directory at
 * C_Initialize only, so this runs before anything loads the module. */
#include "config.h"
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char setup_dir[4096];
static char pin_file[4200];

static int tree_remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

void setup_cleanup(void)
{
	if (setup_dir[0] == '\0')
		return;
	/* Depth first, never following a link out of the tree. */
	if (nftw(setup_dir, tree_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "bench: cannot remove %s: %s\n", setup_dir, strerror(errno));
	setup_dir[0] = '\0';
}

/* Runs softhsm2-util with its output kept out of the benchmark's table. */
static bool util_run(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "bench: cannot run %s: %s\n", argv[0], strerror(rc));
		return false;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return false;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

const char *setup_pin_file(void)
{
	return pin_file;
}

bool setup_token(const char *label)
{
	const char *tmp = getenv("TMPDIR");
	char conf[4200], tokens[4200];
	FILE *f;
	char *argv[] = {
		(char *)SOFTHSM2_UTIL, "--init-token", "--free", "--label", (char *)label,
		"--pin", BENCH_PIN, "--so-pin", BENCH_SO_PIN, NULL,
	};

	if (SOFTHSM_MODULE[0] == '\0' || SOFTHSM2_UTIL[0] == '\0' ||
	    access(SOFTHSM_MODULE, R_OK) != 0 || access(SOFTHSM2_UTIL, X_OK) != 0) {
		fprintf(stderr, "bench: SoftHSM (module and softhsm2-util) is not installed\n");
		return false;
	}
	snprintf(setup_dir, sizeof setup_dir, "%s/capi11-bench-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(setup_dir) == NULL) {
		fprintf(stderr, "bench: mkdtemp %s: %s\n", setup_dir, strerror(errno));
		setup_dir[0] = '\0';
		return false;
	}
	snprintf(tokens, sizeof tokens, "%s/tokens", setup_dir);
	snprintf(conf, sizeof conf, "%s/softhsm2.conf", setup_dir);
	if (mkdir(tokens, 0700) != 0)
		goto failed;
	f = fopen(conf, "w");
	if (f == NULL)
		goto failed;
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\n"
		"log.level = ERROR\nslots.removable = false\n", tokens);
	if (fclose(f) != 0)
		goto failed;
	/* No system configuration of either library may leak in. */
	if (setenv("SOFTHSM2_CONF", conf, 1) != 0 || setenv("CAPI11_CONF", "/dev/null", 1) != 0)
		goto failed;
	if (!util_run(argv)) {
		fprintf(stderr, "bench: softhsm2-util --init-token failed\n");
		setup_cleanup();
		return false;
	}
	/* The user PIN for capi11's URIs, as operators give it: a private
	 * file named by pin-source (a pin-value URI is never cached). */
	snprintf(pin_file, sizeof pin_file, "%s/pin", setup_dir);
	{
		int fd = open(pin_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd < 0 || write(fd, BENCH_PIN, strlen(BENCH_PIN)) != (ssize_t)strlen(BENCH_PIN)) {
			if (fd >= 0)
				close(fd);
			goto failed;
		}
		if (close(fd) != 0)
			goto failed;
	}
	return true;
failed:
	fprintf(stderr, "bench: cannot set up %s: %s\n", setup_dir, strerror(errno));
	setup_cleanup();
	return false;
}
