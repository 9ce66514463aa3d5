/* Shared plumbing of capi11-tool: options, contexts, failures, files. */
#include "config.h"
#include "tool.h"
#include "names.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define PIN_MAX 256

/* --verbose: capi11 traces every call to stderr. */
static bool trace_verbose;
/* The context that logged in with --pin-file; it keeps the login alive. */
static HCRYPTPROV login_prov;

static FILE *msg(void)
{
	return stderr;
}

/* ---- PINs in URIs ---------------------------------------------------------- */

#define REDACT_BUFS 4
#define REDACT_LEN 1024
#define PIN_VALUE_ATTR "pin-value"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 7512 separates path attributes with ';' and query attributes with
 * '&' after '?'; a value ends at the next of those (or a fragment). */
static bool uri_separator(char c)
{
	return c == ':' || c == ';' || c == '?' || c == '&';
}

/* Whether the attribute name in [name, end) is pin-value once its
 * percent-escapes are decoded, compared without case. */
static bool name_is_pin_value(const char *name, const char *end)
{
	const char *want = PIN_VALUE_ATTR;

	while (name < end) {
		int c = (unsigned char)*name;

		if (c == '%' && end - name >= 3 && hex_digit(name[1]) >= 0 && hex_digit(name[2]) >= 0) {
			c = hex_digit(name[1]) << 4 | hex_digit(name[2]);
			name += 3;
		} else {
			name++;
		}
		if (*want == '\0' || tolower(c) != *want)
			return false;
		want++;
	}
	return *want == '\0';
}

/* Calls found(value, value_end) for each pin-value attribute of the
 * pkcs11: URIs in s; returns how many there are. */
static int pin_value_walk(const char *s, void (*found)(const char *, const char *, void *),
			  void *data)
{
	const char *p = s;
	int n = 0;

	for (; (p = strcasestr(p, "pkcs11:")) != NULL; ) {
		p += strlen("pkcs11:") - 1;     /* at the ':' that opens the path */
		while (*p != '\0' && uri_separator(*p)) {
			const char *name = p + 1, *eq = name, *end;

			while (*eq != '\0' && *eq != '=' && !uri_separator(*eq) && *eq != '#')
				eq++;
			end = eq;
			if (*eq == '=')
				for (end = eq + 1; *end != '\0' && !uri_separator(*end) && *end != '#';
				     end++)
					;
			if (*eq == '=' && name_is_pin_value(name, eq)) {
				n++;
				if (found != NULL)
					found(eq + 1, end, data);
			}
			p = end;
		}
	}
	return n;
}

static void pin_value_scrub(const char *value, const char *end, void *data)
{
	(void)data;
	/* The bytes are argv's own: const only because the walk is shared. */
	memset((char *)value, '*', (size_t)(end - value));
}

bool tool_arg_scrub_pin_value(char *arg)
{
	return pin_value_walk(arg, pin_value_scrub, NULL) > 0;
}

struct redaction {
	const char *from;       /* the next byte of the source to copy */
	char *out;
	size_t len, max;
};

static void redact_put(struct redaction *r, const char *p, size_t n)
{
	if (r->len < r->max)
		r->len += (size_t)snprintf(r->out + r->len, r->max - r->len, "%.*s", (int)n, p);
	if (r->len > r->max)
		r->len = r->max;
}

static void redact_value(const char *value, const char *end, void *data)
{
	struct redaction *r = data;

	redact_put(r, r->from, (size_t)(value - r->from));
	redact_put(r, "***", 3);
	r->from = end;
}

const char *tool_redact(const char *s)
{
	static char bufs[REDACT_BUFS][REDACT_LEN];
	static int next;
	struct redaction r;

	if (s == NULL)
		return NULL;
	r.out = bufs[next++ % REDACT_BUFS];
	r.out[0] = '\0';
	r.len = 0;
	r.max = REDACT_LEN;
	r.from = s;
	if (pin_value_walk(s, redact_value, &r) == 0)
		return s;
	redact_put(&r, r.from, strlen(r.from));
	return r.out;
}

DWORD tool_parse_prov_type(const char *s)
{
	static const struct { const char *name; DWORD type; } types[] = {
		{ "rsa_aes", PROV_RSA_AES }, { "rsa_full", PROV_RSA_FULL },
		{ "dss", PROV_DSS }, { "dss_dh", PROV_DSS_DH },
	};
	char name[16];
	unsigned long n;
	size_t i;

	if (tool_parse_uint(s, 1, 999, &n)) {
		for (i = 0; i < sizeof types / sizeof types[0]; i++)
			if (types[i].type == n)
				return (DWORD)n;
		return 0;
	}
	if (strncasecmp(s, "PROV_", 5) == 0)
		s += 5;
	for (i = 0; s[i] != '\0' && i + 1 < sizeof name; i++)
		name[i] = s[i] == '-' ? '_' : (char)tolower((unsigned char)s[i]);
	if (s[i] != '\0')
		return 0;
	name[i] = '\0';
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(name, types[i].name) == 0)
			return types[i].type;
	return 0;
}

DWORD tool_prov_type(const struct tool_opts *opts)
{
	return opts->prov_type != 0 ? opts->prov_type : PROV_RSA_AES;
}

bool tool_common_option(struct tool_opts *opts, int opt, const char *arg)
{
	switch (opt) {
	case OPT_PROVIDER:
		opts->provider = arg;
		return true;
	case OPT_CONTAINER:
		opts->container = arg;
		return true;
	case OPT_PIN_FILE:
		opts->pin_file = arg;
		return true;
	case OPT_PROV_TYPE:
		opts->prov_type = tool_parse_prov_type(arg);
		if (opts->prov_type == 0) {
			fprintf(msg(), "capi11-tool: --prov-type takes rsa_aes, rsa_full, dss or "
				"dss_dh, not '%s'\n", arg);
			exit(EXIT_USAGE);
		}
		return true;
	case OPT_PIN_REFUSED:
		/* A PIN in argv is visible to every user through ps. */
		fputs("capi11-tool: a PIN is never taken from the command line: use --pin-file, "
		      "the URI's pin-source, capi11.conf, or the prompt\n", msg());
		exit(EXIT_USAGE);
	case 'v':
		opts->verbose = true;
		tool_trace_init(true);
		return true;
	default:
		return false;
	}
}

/* The first failure said under --verbose, for tool_trace_finish. */
static char verdict[512];

/* Keeps the first failure line under --verbose. */
static void verdict_keep(const char *fmt, va_list ap)
{
	if (!trace_verbose || verdict[0] != '\0')
		return;
	vsnprintf(verdict, sizeof verdict, fmt, ap);
}

void tool_trace_finish(int status)
{
	if (!trace_verbose || status == 0)
		return;
	if (verdict[0] != '\0')
		fprintf(msg(), "capi11-tool: failed: %s\n", verdict);
	else
		fprintf(msg(), "capi11-tool: failed (exit status %d)\n", status);
	fflush(msg());
}

void tool_trace_init(bool verbose)
{
	if (!verbose || trace_verbose)
		return;
	trace_verbose = true;
	setenv("CAPI11_TRACE", "3", 1);
}

const char *tool_error_text(DWORD err, char *buf, size_t len)
{
	const char *name = names_error(err);

	snprintf(buf, len, "%s (0x%08lx)", name ? name : "unknown error", (unsigned long)err);
	return buf;
}

void tool_fail(DWORD err, const char *fmt, ...)
{
	char text[64], fn[64];
	const char *name;
	DWORD ckr;
	va_list ap;

	fputs("capi11-tool: ", msg());
	va_start(ap, fmt);
	vfprintf(msg(), fmt, ap);
	va_end(ap);
	fprintf(msg(), ": %s\n", tool_error_text(err, text, sizeof text));
	if (trace_verbose && verdict[0] == '\0') {
		size_t used;

		va_start(ap, fmt);
		verdict_keep(fmt, ap);
		va_end(ap);
		used = strlen(verdict);
		if (used < sizeof verdict)
			snprintf(verdict + used, sizeof verdict - used, ": %s", text);
	}
	/* The library keeps the PKCS#11 call behind its last failure (a capi11
	 * extension); the trace of --verbose shows the rest. */
	ckr = Capi11GetLastPkcs11Error(fn, sizeof fn);
	name = Capi11Pkcs11ErrorNameA(ckr);
	if (ckr != 0)
		fprintf(msg(), "  PKCS#11 cause: %s: %s (0x%lx)\n", fn, name ? name : "unknown CK_RV",
			(unsigned long)ckr);
	else
		fputs("  PKCS#11 cause: none (no PKCS#11 call failed: capi11 itself refused)\n", msg());
	if (err == NTE_NOT_SUPPORTED)
		fputs("  (this capi11 build or this token does not provide that operation)\n",
		      msg());
}

void tool_error(const char *fmt, ...)
{
	va_list ap;

	fputs("capi11-tool: ", msg());
	va_start(ap, fmt);
	vfprintf(msg(), fmt, ap);
	va_end(ap);
	fputc('\n', msg());
	va_start(ap, fmt);
	verdict_keep(fmt, ap);
	va_end(ap);
}

int tool_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(msg(), "capi11-tool %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(msg(), fmt, ap);
	va_end(ap);
	fprintf(msg(), "\nTry 'capi11-tool %s --help'.\n", cmd);
	return EXIT_USAGE;
}

/* At most max_len bytes of f into a new buffer; one byte more than allowed
 * tells "too long" from "exactly max_len", and leaves room for a NUL. */
static unsigned char *read_stream(FILE *f, const char *path, size_t max_len, size_t *len)
{
	unsigned char *buf;
	size_t n;

	*len = 0;
	buf = malloc(max_len + 1);
	if (buf == NULL) {
		tool_error("out of memory");
		return NULL;
	}
	n = fread(buf, 1, max_len + 1, f);
	if (ferror(f)) {
		tool_error("cannot read %s: %s", path, strerror(errno));
		tool_free_secret(buf, max_len + 1);
		return NULL;
	}
	if (n > max_len) {
		tool_error("%s is longer than %zu bytes", path, max_len);
		tool_free_secret(buf, max_len + 1);
		return NULL;
	}
	*len = n;
	return buf;
}

/* A PIN file is held to what OpenSSH asks of a private key: a regular file
 * (a FIFO would block, a device would never end: the open does not block
 * and the descriptor is judged, not the name), that neither group nor
 * others may read or write. Standard input ("-") is the caller's pipe and
 * is taken as it is. Returns the open stream, or NULL after an error. */
static FILE *pin_file_open(const char *path)
{
	struct stat st;
	FILE *f;
	int fd;

	if (strcmp(path, "-") == 0)
		return stdin;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		tool_error("cannot open %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		tool_error("PIN file %s is not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((st.st_mode & 077) != 0) {
		tool_error("PIN file %s may be read or written by group or others (mode %04o): "
			   "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "rb");
	if (f == NULL) {
		tool_error("cannot open %s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

char *tool_read_pin_file(const char *path)
{
	unsigned char *pin;
	size_t len;
	FILE *f = pin_file_open(path);

	if (f == NULL)
		return NULL;
	pin = read_stream(f, path, PIN_MAX, &len);
	if (f != stdin)
		fclose(f);
	if (pin == NULL)
		return NULL;
	/* One trailing newline is the file's, not the PIN's. */
	if (len > 0 && pin[len - 1] == '\n')
		len--;
	if (len > 0 && pin[len - 1] == '\r')
		len--;
	pin[len] = '\0';
	/* Each refused login can cost a card one of its tries: a PIN that
	 * cannot be right never reaches C_Login. */
	if (len == 0 || memchr(pin, '\n', len) != NULL || memchr(pin, '\r', len) != NULL ||
	    memchr(pin, '\0', len) != NULL) {
		tool_free_secret(pin, PIN_MAX + 1);
		tool_error("%s does not hold one PIN on one line (it is empty, or has more "
			   "than one line): not tried", path);
		return NULL;
	}
	return (char *)pin;
}

char *tool_prompt_secret(const char *prompt)
{
	struct termios old, quiet;
	char *buf = malloc(PIN_MAX + 1);
	FILE *tty = fopen("/dev/tty", "r+");
	size_t len;
	bool ok = false;

	if (buf == NULL || tty == NULL) {
		tool_error("no terminal to ask for the %s on", prompt);
		goto out;
	}
	if (tcgetattr(fileno(tty), &old) != 0) {
		tool_error("cannot turn echo off on the terminal");
		goto out;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	fprintf(tty, "%s: ", prompt);
	fflush(tty);
	if (tcsetattr(fileno(tty), TCSAFLUSH, &quiet) != 0) {
		tool_error("cannot turn echo off on the terminal");
		goto out;
	}
	ok = fgets(buf, PIN_MAX + 1, tty) != NULL;
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	len = ok ? strlen(buf) : 0;
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (ok)
		ok = false;        /* longer than PIN_MAX, or no line at all */
	if (!ok)
		tool_error("no %s was read", prompt);
out:
	if (tty != NULL)
		fclose(tty);
	if (!ok && buf != NULL) {
		tool_free_secret(buf, PIN_MAX + 1);
		buf = NULL;
	}
	return buf;
}

void tool_release_login(void)
{
	if (login_prov != 0) {
		CryptReleaseContext(login_prov, 0);
		login_prov = 0;
	}
}

/* --pin-file: a silent verify context logs in to the token with the PIN;
 * PKCS#11 login is per token, so the container context opened next finds
 * the token logged in. */
static bool tool_login_from_file(const struct tool_opts *opts)
{
	unsigned char *pin;
	DWORD err;

	if (login_prov != 0)
		return true;
	pin = (unsigned char *)tool_read_pin_file(opts->pin_file);
	if (pin == NULL)
		return false;
	if (!CryptAcquireContext(&login_prov, NULL, opts->provider, PROV_RSA_AES,
				 CRYPT_VERIFYCONTEXT | CRYPT_SILENT)) {
		err = GetLastError();
		tool_free_secret(pin, PIN_MAX + 1);
		login_prov = 0;
		tool_fail(err, "cannot open provider %s",
			  opts->provider ? tool_redact(opts->provider) : "(default)");
		return false;
	}
	if (!CryptSetProvParam(login_prov, PP_KEYEXCHANGE_PIN, pin, 0)) {
		err = GetLastError();
		tool_free_secret(pin, PIN_MAX + 1);
		CryptReleaseContext(login_prov, 0);
		login_prov = 0;
		tool_fail(err, "login with the PIN of %s failed", opts->pin_file);
		return false;
	}
	tool_free_secret(pin, PIN_MAX + 1);
	return true;
}

/* Whether tool_acquire made the container it opened (CRYPT_NEWKEYSET). */
static bool container_made;

bool tool_acquire(const struct tool_opts *opts, DWORD flags, bool create, HCRYPTPROV *prov)
{
	const char *container = (flags & CRYPT_VERIFYCONTEXT) ? NULL : opts->container;
	DWORD err;

	*prov = 0;
	if (opts->pin_file != NULL && !tool_login_from_file(opts))
		return false;
	if (CryptAcquireContext(prov, container, opts->provider, tool_prov_type(opts), flags))
		return true;
	err = GetLastError();
	if (err == NTE_BAD_KEYSET && create &&
	    CryptAcquireContext(prov, container, opts->provider, tool_prov_type(opts),
				flags | CRYPT_NEWKEYSET)) {
		container_made = true;
		return true;
	}
	if (err == NTE_BAD_KEYSET && create)
		err = GetLastError();
	*prov = 0;
	if (container != NULL)
		tool_fail(err, "cannot open container %s on provider %s", container,
			  opts->provider ? tool_redact(opts->provider) : "(default)");
	else
		tool_fail(err, "cannot open %s on provider %s", (flags & CRYPT_VERIFYCONTEXT) ?
			  "a context" : "the default container",
			  opts->provider ? tool_redact(opts->provider) : "(default)");
	return false;
}

/* Whether the container of prov holds a key pair of either spec. */
static bool container_has_keys(HCRYPTPROV prov)
{
	static const DWORD specs[] = { AT_KEYEXCHANGE, AT_SIGNATURE };
	HCRYPTKEY key;

	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		if (CryptGetUserKey(prov, specs[i], &key)) {
			CryptDestroyKey(key);
			return true;
		}
		if (GetLastError() != NTE_NO_KEY)
			return true;	/* cannot tell: keep it */
	}
	return false;
}

void tool_release_made(const struct tool_opts *opts, HCRYPTPROV prov, bool failed)
{
	HCRYPTPROV gone = 0;
	bool drop = failed && container_made && prov != 0 && !container_has_keys(prov);

	container_made = false;
	if (prov != 0)
		CryptReleaseContext(prov, 0);
	/* Still logged in through the --pin-file context, released last. */
	if (drop)
		CryptAcquireContext(&gone, opts->container, opts->provider, tool_prov_type(opts),
				    CRYPT_DELETEKEYSET);
	tool_release(0);
}

void tool_release(HCRYPTPROV prov)
{
	if (prov != 0)
		CryptReleaseContext(prov, 0);
	if (login_prov != 0) {
		CryptReleaseContext(login_prov, 0);
		login_prov = 0;
	}
}

unsigned char *tool_read_file(const char *path, size_t max_len, size_t *len)
{
	bool is_stdin = strcmp(path, "-") == 0;
	unsigned char *buf;
	FILE *f;

	*len = 0;
	f = is_stdin ? stdin : fopen(path, "rb");
	if (f == NULL) {
		tool_error("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = read_stream(f, path, max_len, len);
	if (!is_stdin)
		fclose(f);
	return buf;
}

/* Opens path for tool_write_file: never through a symbolic link, a new
 * file 0600, an existing one in place (so its mode is never widened: open
 * without creating changes no mode). A secret narrows an existing regular
 * file that group or others may read or write to its owner's bits before a
 * byte is written; a file the tool may not chmod is refused instead. */
static int out_open(const char *path, bool secret)
{
	struct stat st;
	int fd, err;

	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno;
		/* O_NOFOLLOW answers ELOOP for a link, dangling or not. */
		if (err == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			tool_error("refusing to write %s: it is a symbolic link, which the tool "
				   "never follows (name the target itself, or '-' for stdout)",
				   path);
		else
			tool_error("cannot create %s: %s", path, strerror(err));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		tool_error("cannot create %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return fd;      /* a device or a pipe: nothing to truncate or narrow */
	if (secret && (st.st_mode & 077) != 0 && fchmod(fd, st.st_mode & 0700) != 0) {
		tool_error("refusing to write a secret to %s: group or others may read it "
			   "(mode %04o) and it cannot be made private: %s", path,
			   (unsigned)(st.st_mode & 07777), strerror(errno));
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) != 0) {
		tool_error("cannot truncate %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

bool tool_write_file(const char *path, const void *data, size_t len, bool secret)
{
	bool to_stdout = path == NULL || strcmp(path, "-") == 0;
	int fd = STDOUT_FILENO;
	const unsigned char *p = data;
	bool ok = true;

	if (!to_stdout) {
		fd = out_open(path, secret);
		if (fd < 0)
			return false;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			tool_error("cannot write %s: %s", to_stdout ? "stdout" : path,
				   strerror(errno));
			ok = false;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!to_stdout && close(fd) != 0 && ok) {
		tool_error("cannot write %s: %s", path, strerror(errno));
		ok = false;
	}
	return ok;
}

void tool_free_secret(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

DWORD tool_parse_spec(const char *s)
{
	if (strcasecmp(s, "exchange") == 0 || strcasecmp(s, "AT_KEYEXCHANGE") == 0 ||
	    strcasecmp(s, "keyexchange") == 0 || strcmp(s, "1") == 0)
		return AT_KEYEXCHANGE;
	if (strcasecmp(s, "signature") == 0 || strcasecmp(s, "AT_SIGNATURE") == 0 ||
	    strcmp(s, "2") == 0)
		return AT_SIGNATURE;
	return 0;
}

const char *tool_spec_name(DWORD spec)
{
	return spec == AT_KEYEXCHANGE ? "exchange" : spec == AT_SIGNATURE ? "signature" :
	       spec == CAPI11_AT_KEK ? "kek" : "?";
}

bool tool_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

BYTE *tool_export(HCRYPTKEY key, HCRYPTKEY exp_key, DWORD type, DWORD flags, DWORD *len,
		  const char *what)
{
	const char *type_name = names_blob_type(type);
	DWORD size = 0, allocated;
	BYTE *blob;

	if (!CryptExportKey(key, exp_key, type, flags, NULL, &size)) {
		tool_fail(GetLastError(), "export of %s as %s", what, type_name);
		return NULL;
	}
	allocated = size ? size : 1;
	blob = calloc(1, allocated);
	if (blob == NULL) {
		tool_error("out of memory");
		return NULL;
	}
	if (!CryptExportKey(key, exp_key, type, flags, blob, &size)) {
		tool_fail(GetLastError(), "export of %s as %s", what, type_name);
		tool_free_secret(blob, allocated);
		return NULL;
	}
	*len = size;
	return blob;
}

bool tool_key_dword(HCRYPTKEY key, DWORD param, DWORD *value)
{
	DWORD len = sizeof(*value);

	return CryptGetKeyParam(key, param, (BYTE *)value, &len, 0) && len == sizeof(*value);
}
