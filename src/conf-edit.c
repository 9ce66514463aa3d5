/* One key of capi11.conf changed in place: read, edit by lines, check,
 * write to a temporary file, rename. */
#include "config.h"
#include "conf-edit.h"
#include "conffile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The parser's limit (conffile.c). */
#define CONF_EDIT_MAX (1024u * 1024u)

static DWORD errno_error(int e)
{
	switch (e) {
	case EACCES:
	case EPERM:
	case EROFS:
		return ERROR_ACCESS_DENIED;
	case ENOMEM:
		return NTE_NO_MEMORY;
	default:
		return NTE_FAIL;
	}
}

/* A growing text buffer; may hold a PIN from the file, so it is wiped. */
struct text {
	char *buf;
	size_t len, size;
	bool failed;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	char *grown;
	size_t want;

	if (t->failed)
		return;
	if (n > CONF_EDIT_MAX * 2 || t->len + n + 1 > t->size) {
		want = t->size * 2 + n + 64;
		if (n > CONF_EDIT_MAX * 2 || want > CONF_EDIT_MAX * 4) {
			t->failed = true;
			return;
		}
		grown = capi11_malloc(want);
		if (grown == NULL) {
			t->failed = true;
			return;
		}
		if (t->buf != NULL)
			memcpy(grown, t->buf, t->len);
		capi11_free_secret(t->buf, t->size);
		t->buf = grown;
		t->size = want;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void text_add_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

/* key = "value", quoted so that blanks, # and ; stay in the value. */
static void text_add_assignment(struct text *t, const char *key, const char *value)
{
	text_add_str(t, key);
	text_add_str(t, " = \"");
	for (const char *v = value; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			text_add(t, "\\", 1);
		text_add(t, v, 1);
	}
	text_add_str(t, "\"\n");
}

static const char *skip_blank(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* Whether the line [s, end) is the [capi11] header, any case. */
static bool line_is_global_header(const char *s, const char *end)
{
	s = skip_blank(s, end);
	if ((size_t)(end - s) < 8 || strncasecmp(s, "[capi11]", 8) != 0)
		return false;
	s = skip_blank(s + 8, end);
	return s == end || *s == '#' || *s == ';' || *s == '\r';
}

static bool line_is_header(const char *s, const char *end)
{
	s = skip_blank(s, end);
	return s < end && *s == '[';
}

/* Whether the line [s, end) assigns key, as the parser reads names. */
static bool line_sets_key(const char *s, const char *end, const char *key)
{
	const char *name;
	size_t n = strlen(key);

	s = skip_blank(s, end);
	name = s;
	while (s < end && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			   (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
		s++;
	if ((size_t)(s - name) != n || strncasecmp(name, key, n) != 0)
		return false;
	s = skip_blank(s, end);
	return s < end && *s == '=';
}

/* Whether old sets key in its [capi11] section. */
static bool key_present(const char *old, size_t len, const char *key)
{
	const char *p = old, *end = old + len, *eol;
	bool in_global = false;

	for (; p < end; p = eol) {
		eol = memchr(p, '\n', (size_t)(end - p));
		eol = eol != NULL ? eol + 1 : end;
		if (line_is_header(p, eol))
			in_global = line_is_global_header(p, eol[-1] == '\n' ? eol - 1 : eol);
		else if (in_global && line_sets_key(p, eol, key))
			return true;
	}
	return false;
}

/* The edited text of old (len bytes) in out: an existing key's line is
 * replaced where it stands (or dropped), a new one goes right under the
 * [capi11] header, or into a new section at the end. */
static void edit_text(const char *old, size_t len, const char *key, const char *value,
		      struct text *out)
{
	const char *p = old, *end = old + len, *eol;
	bool in_global = false, header;
	bool pending = value != NULL && !key_present(old, len, key);
	bool written = false;

	for (; p < end; p = eol) {
		eol = memchr(p, '\n', (size_t)(end - p));
		eol = eol != NULL ? eol + 1 : end;
		header = line_is_header(p, eol);
		if (header)
			in_global = line_is_global_header(p, eol[-1] == '\n' ? eol - 1 : eol);
		if (!header && in_global && line_sets_key(p, eol, key)) {
			/* A second such line is dropped: the parser refuses it. */
			if (value != NULL && !written)
				text_add_assignment(out, key, value);
			written = true;
			continue;
		}
		text_add(out, p, (size_t)(eol - p));
		if (eol[-1] != '\n')
			text_add_str(out, "\n");
		if (header && in_global && pending) {
			text_add_assignment(out, key, value);
			pending = false;
		}
	}
	if (pending) {
		if (out->len > 0)
			text_add_str(out, "\n");
		text_add_str(out, "[capi11]\n");
		text_add_assignment(out, key, value);
	}
}

static DWORD write_replace(int dfd, const char *path, const struct text *t, mode_t mode,
			   const struct stat *old)
{
	size_t plen = strlen(path), done = 0;
	char *tmp = capi11_malloc(plen + 8);
	DWORD err = ERROR_SUCCESS;
	ssize_t n;
	int fd;

	if (tmp == NULL)
		return NTE_NO_MEMORY;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = errno_error(errno);
		capi11_free(tmp);
		return err;
	}
	if (fchmod(fd, mode) != 0)
		err = errno_error(errno);
	/* root editing another user's file keeps its owner. */
	if (err == ERROR_SUCCESS && old != NULL && geteuid() == 0 &&
	    fchown(fd, old->st_uid, old->st_gid) != 0)
		err = errno_error(errno);
	while (err == ERROR_SUCCESS && done < t->len) {
		n = write(fd, t->buf + done, t->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err = errno_error(n < 0 ? errno : EIO);
		else
			done += (size_t)n;
	}
	if (err == ERROR_SUCCESS && fsync(fd) != 0)
		err = errno_error(errno);
	if (close(fd) != 0 && err == ERROR_SUCCESS)
		err = errno_error(errno);
	if (err == ERROR_SUCCESS && rename(tmp, path) != 0)
		err = errno_error(errno);
	if (err != ERROR_SUCCESS)
		unlink(tmp);
	else
		(void)fsync(dfd);
	capi11_free(tmp);
	return err;
}

DWORD conf_edit_set(const char *path, const char *key, const char *value, mode_t new_mode)
{
	struct text out = { NULL, 0, 0, false };
	struct stat st, lst;
	struct capi11_config *cfg;
	char *dir = NULL, *slash, *old = NULL;
	size_t len = 0, size = 0;
	bool exists;
	DWORD err;
	int dfd = -1, rc;

	if (value != NULL && strpbrk(value, "\r\n") != NULL)
		return ERROR_INVALID_PARAMETER;
	/* Only a regular file is replaced: never /dev/null (the tests' "no
	 * configuration"), a device, or the target of a symbolic link. */
	exists = lstat(path, &lst) == 0;
	if (!exists && errno != ENOENT)
		return errno_error(errno);
	if (exists && !S_ISREG(lst.st_mode))
		return ERROR_ACCESS_DENIED;

	dir = capi11_strdup(path);
	if (dir == NULL)
		return NTE_NO_MEMORY;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = errno_error(errno);
		goto out;
	}
	/* Serialises writers; readers need no lock (rename is atomic). */
	while ((rc = flock(dfd, LOCK_EX)) != 0 && errno == EINTR)
		;
	if (rc != 0) {
		err = errno_error(errno);
		goto out;
	}
	rc = capi11_read_file(path, CONF_EDIT_MAX, &st, &old, &len, &size);
	exists = rc == 0;
	if (rc != 0 && rc != ENOENT) {
		err = rc == EFBIG ? NTE_KEYSET_ENTRY_BAD : errno_error(rc);
		goto out;
	}
	if (exists) {
		/* What was read must be the regular file at path itself, not a
		 * symbolic link put there since the first look (the directory
		 * may be another user's): else nothing is read from it into a
		 * file written here. */
		if (lstat(path, &lst) != 0 || !S_ISREG(lst.st_mode) || lst.st_ino != st.st_ino ||
		    lst.st_dev != st.st_dev) {
			err = ERROR_ACCESS_DENIED;
			goto out;
		}
		/* A broken file is not rewritten: the user fixes it first. */
		cfg = config_parse(old, len, NULL);
		if (cfg == NULL) {
			err = NTE_KEYSET_ENTRY_BAD;
			goto out;
		}
		config_free(cfg);
	}
	edit_text(exists ? old : "", exists ? len : 0, key, value, &out);
	if (out.failed) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	cfg = config_parse(out.buf != NULL ? out.buf : "", out.len, NULL);
	if (cfg == NULL) {
		err = NTE_KEYSET_ENTRY_BAD;
		goto out;
	}
	config_free(cfg);
	err = write_replace(dfd, path, &out, exists ? (st.st_mode & 07777) : new_mode,
			    exists ? &st : NULL);
out:
	if (dfd >= 0)
		close(dfd);     /* releases the lock */
	capi11_free_secret(old, size);
	capi11_free_secret(out.buf, out.size);
	capi11_free(dir);
	return err;
}
