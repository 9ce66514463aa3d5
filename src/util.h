/* Small helpers shared by every layer: wiping, allocation, preconditions. */
#ifndef CAPI11_UTIL_H
#define CAPI11_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/stat.h>

/* Overwrite a buffer that held a PIN or key bytes; never optimised away. */
void capi11_wipe(void *buf, size_t len);

/* Every allocation of the library goes through these, so that a test can
 * install a hook and check that buffers which held secrets were wiped. */
void *capi11_malloc(size_t len);
void *capi11_calloc(size_t n, size_t len);
void *capi11_realloc(void *ptr, size_t len);
char *capi11_strdup(const char *s);
char *capi11_strndup(const char *s, size_t n);
void capi11_free(void *ptr);
/* Wipes len bytes of ptr, then frees it. Accepts NULL. */
void capi11_free_secret(void *ptr, size_t len);
/* Wipes a NUL-terminated string, then frees it. Accepts NULL. */
void capi11_free_string_secret(char *s);

/* Test hook: called with every block just before it is freed. */
typedef void (*capi11_free_hook)(void *ptr, size_t len);
void capi11_set_free_hook(capi11_free_hook hook);
/* Test hook: blocks allocated here and not yet freed. */
size_t capi11_alloc_live(void);

/* Reads everything fd holds, at most max bytes, into a NUL-terminated
 * capi11_malloc'd buffer of *size bytes; *len is the byte count. Files read
 * this way may hold PINs: the caller frees with capi11_free_secret(buf,
 * *size), and every intermediate buffer is wiped. Returns 0 or an errno
 * value: EFBIG past max bytes, ENOMEM, or read(2)'s. */
int capi11_read_fd(int fd, size_t max, char **out, size_t *len, size_t *size);

/* Opens path and reads it with capi11_read_fd, for the files that capi11
 * reads by name (capi11.conf, pin-source files). Symbolic links are
 * followed (configuration often sits behind /etc/alternatives); what is
 * checked is the file finally opened. Only a regular file is read: the open
 * never blocks (O_NONBLOCK), so that a FIFO or a device named by mistake
 * or by an attacker cannot hang the caller, and is then refused; the null
 * device (/dev/null) reads as an empty file. *st
 * receives the file's status (fstat of the open file) for
 * capi11_file_check_private. Returns 0 or an errno value: open(2)'s
 * (ENOENT, EACCES, ...), EISDIR for a directory, EINVAL for any other file
 * that is not regular (FIFO, socket, device), EFBIG, ENOMEM, read(2)'s. */
int capi11_read_file(const char *path, size_t max, struct stat *st, char **out, size_t *len,
		     size_t *size);

/* What capi11_read_file would refuse of path, told without opening it (a
 * FIFO or device is never opened): stat(2)'s errors, EISDIR, EINVAL,
 * faccessat(2)'s answer for reading with the effective IDs (EACCES), then
 * EFBIG by the file's size. */
int capi11_stat_file(const char *path, size_t max, struct stat *st);

/* Whether a file read by capi11_read_file may hold a secret, by the rule
 * OpenSSH applies to private keys: no read or write access for group or
 * others, and owned by the effective user or by root. Returns 0, or EPERM
 * with *why (may be NULL) set to a static phrase that says which rule the
 * file breaks and never quotes its content. */
int capi11_file_check_private(const struct stat *st, const char **why);

/* The value of a hexadecimal digit (either case), or -1: for the
 * percent-encoding of URIs. */
int capi11_hex_value(char c);

/* Overflow-checked size arithmetic: false when the result does not fit. */
static inline bool capi11_add_size(size_t a, size_t b, size_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}
static inline bool capi11_mul_size(size_t a, size_t b, size_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

/* Preconditions: the macro name says that it returns. */
#define return_val_if_fail(expr, val) \
	do { if (!(expr)) return (val); } while (0)

#define CAPI11_N_ELEMENTS(a) (sizeof (a) / sizeof ((a)[0]))

#endif
