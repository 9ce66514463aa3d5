/* Allocation and wiping. Every block carries its size in a small header so
 * that a test hook can inspect what is about to be freed (secrets must have
 * been wiped by then). */
#include "config.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <stdatomic.h>
#include <stdint.h>

/* Keeps max_align_t alignment for the caller's part of the block. */
union alloc_header {
	size_t len;
	max_align_t align;
};

static _Atomic(capi11_free_hook) free_hook;
/* Blocks handed out and not yet freed, for leak checks in the tests. */
static atomic_size_t live_blocks;

void capi11_wipe(void *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(buf, len);
#else
	volatile unsigned char *p = buf;
	while (len--)
		*p++ = 0;
#endif
}

void capi11_set_free_hook(capi11_free_hook hook)
{
	atomic_store(&free_hook, hook);
}

size_t capi11_alloc_live(void)
{
	return atomic_load(&live_blocks);
}

void *capi11_malloc(size_t len)
{
	union alloc_header *h;
	size_t total;

	if (!capi11_add_size(len, sizeof *h, &total))
		return NULL;
	h = malloc(total);
	if (h == NULL)
		return NULL;
	h->len = len;
	atomic_fetch_add(&live_blocks, 1);
	return h + 1;
}

void *capi11_calloc(size_t n, size_t len)
{
	size_t total;
	void *p;

	if (!capi11_mul_size(n, len, &total))
		return NULL;
	p = capi11_malloc(total);
	if (p != NULL)
		memset(p, 0, total);
	return p;
}

/* Moves to a fresh block so that the old one can be wiped: realloc could
 * leave a copy of key bytes behind in memory it gives back. */
void *capi11_realloc(void *ptr, size_t len)
{
	union alloc_header *h;
	void *p;

	if (ptr == NULL)
		return capi11_malloc(len);
	h = (union alloc_header *)ptr - 1;
	p = capi11_malloc(len);
	if (p == NULL)
		return NULL;
	memcpy(p, ptr, h->len < len ? h->len : len);
	capi11_free_secret(ptr, h->len);
	return p;
}

char *capi11_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = capi11_malloc(len + 1);

	if (d == NULL)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *capi11_strdup(const char *s)
{
	return capi11_strndup(s, strlen(s));
}

void capi11_free(void *ptr)
{
	union alloc_header *h;
	capi11_free_hook hook;

	if (ptr == NULL)
		return;
	h = (union alloc_header *)ptr - 1;
	hook = atomic_load(&free_hook);
	if (hook != NULL)
		hook(ptr, h->len);
	atomic_fetch_sub(&live_blocks, 1);
	free(h);
}

void capi11_free_secret(void *ptr, size_t len)
{
	if (ptr == NULL)
		return;
	capi11_wipe(ptr, len);
	capi11_free(ptr);
}

void capi11_free_string_secret(char *s)
{
	if (s == NULL)
		return;
	capi11_free_secret(s, strlen(s));
}

int capi11_read_fd(int fd, size_t max, char **out, size_t *len, size_t *size)
{
	char *buf = NULL, *grown;
	size_t used = 0, cap = 0;
	ssize_t n;
	int rc = 0;

	for (;;) {
		if (used > max) {
			rc = EFBIG;
			goto out;
		}
		if (used + 1 >= cap) {
			/* capi11_realloc wipes the block it leaves. */
			grown = capi11_realloc(buf, cap == 0 ? 256 : cap * 2);
			if (grown == NULL) {
				rc = ENOMEM;
				goto out;
			}
			buf = grown;
			cap = cap == 0 ? 256 : cap * 2;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = errno;
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
out:
	if (rc != 0) {
		capi11_free_secret(buf, cap);
		return rc;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	*size = cap;
	return 0;
}

/* /dev/null is the documented way to say "no configuration"
 * (CAPI11_CONF=/dev/null); it reads as an empty file and never blocks. */
static bool is_null_device(const struct stat *st)
{
	struct stat null;

	return S_ISCHR(st->st_mode) && stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode) &&
	       st->st_rdev == null.st_rdev;
}

/* Only a regular file, or the null device (an empty file), is read:
 * EISDIR for a directory, EINVAL for any other kind. */
static int file_kind_readable(const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return EISDIR;
	return S_ISREG(st->st_mode) || is_null_device(st) ? 0 : EINVAL;
}

int capi11_read_file(const char *path, size_t max, struct stat *st, char **out, size_t *len,
		     size_t *size)
{
	int fd, rc;

	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	 * writer, for ever. It changes nothing for the regular files that are
	 * read below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno;
	if (fstat(fd, st) != 0)
		rc = errno;
	else if ((rc = file_kind_readable(st)) == 0)
		rc = capi11_read_fd(fd, max, out, len, size);
	close(fd);
	return rc;
}

int capi11_stat_file(const char *path, size_t max, struct stat *st)
{
	int rc;

	if (stat(path, st) != 0)
		return errno;
	rc = file_kind_readable(st);
	if (rc != 0 || is_null_device(st))
		return rc;
	/* Whether open(2) would let the process read it is the kernel's to
	 * say (capabilities, ACLs, security modules), and is said before the
	 * size, as a read learns the size only once the file is open. */
	if (faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) != 0)
		return errno;
	if (st->st_size < 0 || (uintmax_t)st->st_size > max)
		return EFBIG;
	return 0;
}

int capi11_file_check_private(const struct stat *st, const char **why)
{
	const char *reason = NULL;

	if (st->st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH))
		reason = "readable or writable by group or others (chmod 600 it)";
	else if (st->st_uid != geteuid() && st->st_uid != 0)
		reason = "owned by another user than the process's and root";
	if (why != NULL)
		*why = reason;
	return reason != NULL ? EPERM : 0;
}

int capi11_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
