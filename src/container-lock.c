/* The advisory lock of container changes: see container-lock.h. */
#include "config.h"
#include "container-lock.h"
#include "trace.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* File names stay well under NAME_MAX (255 on Linux filesystems). */
#define NAME_CHUNK 200
#define HELD_MAX 64

/* Locks held now, so that a forked child drops its copies: an flock lock
 * belongs to the open file, which the child shares until it closes it. */
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static int held[HELD_MAX];
static size_t n_held;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void held_fork_prepare(void)
{
	pthread_mutex_lock(&held_lock);
}

static void held_fork_parent(void)
{
	pthread_mutex_unlock(&held_lock);
}

static void held_fork_child(void)
{
	size_t i;

	/* Closing a copy does not unlock the parent's lock: only LOCK_UN or
	 * the last close of the open file does. */
	for (i = 0; i < n_held; i++)
		close(held[i]);
	n_held = 0;
	pthread_mutex_unlock(&held_lock);
}

static void held_atfork_register(void)
{
	pthread_atfork(held_fork_prepare, held_fork_parent, held_fork_child);
}

static char *hex_name(const char *prefix, const char *s)
{
	size_t n = strlen(s), p = strlen(prefix), i;
	char *out;

	if (n > (SIZE_MAX - p - 1) / 2)
		return NULL;
	out = capi11_malloc(p + 2 * n + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, prefix, p);
	for (i = 0; i < n; i++)
		snprintf(out + p + 2 * i, 3, "%02x", (unsigned char)s[i]);
	out[p + 2 * n] = '\0';
	return out;
}

/* Opens (making it 0700 when missing) the directory name under dirfd,
 * never through a symbolic link. With check, the directory must belong to
 * this user and be writable by nobody else. Returns the fd or -1 (errno;
 * EPERM for a directory that fails the check). */
static int dir_open(int dirfd, const char *name, bool check)
{
	struct stat st;
	int fd;

	if (mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !check)
		return fd;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* The user's lock directory, open; its path for messages in where. */
static int lock_dir_open(char *where, size_t where_len)
{
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	char sub[64];
	int parent, fd;

	if (runtime != NULL && runtime[0] == '/') {
		snprintf(sub, sizeof sub, "capi11");
	} else {
		/* No runtime directory: a private one in /tmp, named for the uid
		 * so that users do not meet; another user's squatting on it is
		 * refused below rather than trusted. */
		runtime = "/tmp";
		snprintf(sub, sizeof sub, "capi11-%lu", (unsigned long)geteuid());
	}
	snprintf(where, where_len, "%s/%s", runtime, sub);
	parent = open(runtime, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0)
		return -1;
	fd = dir_open(parent, sub, true);
	close(parent);
	return fd;
}

/* Opens the lock file of the container under the token's directory,
 * walking the name's chunks as directories. */
static int lock_file_open(int tokfd, const char *hex)
{
	char chunk[NAME_CHUNK + 8];
	size_t len = strlen(hex);
	int dirfd = tokfd, next, fd;

	while (len > NAME_CHUNK) {
		memcpy(chunk, hex, NAME_CHUNK);
		chunk[NAME_CHUNK] = '\0';
		next = dir_open(dirfd, chunk, false);
		if (dirfd != tokfd)
			close(dirfd);
		if (next < 0)
			return -1;
		dirfd = next;
		hex += NAME_CHUNK;
		len -= NAME_CHUNK;
	}
	snprintf(chunk, sizeof chunk, "%s.lock", hex);
	fd = openat(dirfd, chunk, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dirfd != tokfd)
		close(dirfd);
	return fd;
}

DWORD container_lock_take(struct token *tok, const char *container, struct container_lock *lock)
{
	const char *id = token_serial(tok)[0] != '\0' ? token_serial(tok) : token_label(tok);
	char where[4096];
	char *tok_name = NULL, *name = NULL;
	int dirfd = -1, tokfd = -1, fd = -1;
	DWORD err = NTE_FAIL;

	lock->fd = -1;
	return_val_if_fail(container != NULL, ERROR_INVALID_PARAMETER);
	pthread_once(&atfork_once, held_atfork_register);
	/* "s" for a serial, "l" for a label: the two never name one file. */
	tok_name = hex_name(token_serial(tok)[0] != '\0' ? "s" : "l", id);
	name = hex_name("c", container);
	if (tok_name == NULL || name == NULL) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	dirfd = lock_dir_open(where, sizeof where);
	if (dirfd < 0) {
		trace_message("container lock directory %s: %s", where,
			      errno == EPERM ? "owned by another user or writable by others; refused"
					     : strerror(errno));
		goto out;
	}
	tokfd = dir_open(dirfd, tok_name, false);
	if (tokfd >= 0)
		fd = lock_file_open(tokfd, name);
	if (fd < 0) {
		trace_message("container lock in %s: %s", where, strerror(errno));
		goto out;
	}
	/* Registered before the wait, so that a fork during it drops the
	 * child's copy too. */
	pthread_mutex_lock(&held_lock);
	if (n_held < HELD_MAX)
		held[n_held++] = fd;
	pthread_mutex_unlock(&held_lock);
	lock->fd = fd;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			trace_message("container lock in %s: flock: %s", where, strerror(errno));
			container_lock_release(lock);
			goto out;
		}
	}
	err = ERROR_SUCCESS;
out:
	if (tokfd >= 0)
		close(tokfd);
	if (dirfd >= 0)
		close(dirfd);
	capi11_free(tok_name);
	capi11_free(name);
	return err;
}

void container_lock_release(struct container_lock *lock)
{
	size_t i;

	if (lock == NULL || lock->fd < 0)
		return;
	pthread_mutex_lock(&held_lock);
	for (i = 0; i < n_held; i++) {
		if (held[i] == lock->fd) {
			held[i] = held[--n_held];
			break;
		}
	}
	pthread_mutex_unlock(&held_lock);
	flock(lock->fd, LOCK_UN);
	close(lock->fd);
	lock->fd = -1;
}
