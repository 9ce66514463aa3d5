/* PIN sources: files named by pin-source, and the terminal prompt that
 * capi11 registers with p11-kit (libp11-kit has none of its own). Every
 * buffer that held PIN bytes is wiped before it is released. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* pipe2 */
#endif
#include "pin.h"
#include "trace.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <p11-kit/pin.h>

/* The largest PIN file: the PIN and a "\r\n" line end. */
#define PIN_FILE_MAX (PIN_MAX + 2)

/* The part of a token label shown in a prompt (PKCS#11 labels are 32
 * bytes; the bound only matters for labels from other sources). */
#define PROMPT_LABEL_MAX 64

/* The local path of a file: URI (RFC 8089): file:/p, file:///p and
 * file://localhost/p, percent-decoded. */
static int file_uri_path(const char *uri, char **out)
{
	const char *s = uri + strlen("file:");
	char *path, *d;
	int hi, lo;

	if (s[0] == '/' && s[1] == '/') {
		s += 2;
		if (strncasecmp(s, "localhost", 9) == 0)
			s += 9;
		/* Anything else here names a remote host. */
		if (*s != '/')
			return EINVAL;
	}
	if (*s != '/')
		return EINVAL;
	/* A query or fragment has no meaning for a PIN file; a literal ?
	 * or # in the file name is written %3F or %23. */
	if (strpbrk(s, "?#") != NULL)
		return EINVAL;

	path = capi11_malloc(strlen(s) + 1);
	if (path == NULL)
		return ENOMEM;
	for (d = path; *s != '\0'; s++) {
		if (*s != '%') {
			*d++ = *s;
			continue;
		}
		hi = capi11_hex_value(s[1]);
		lo = hi < 0 ? -1 : capi11_hex_value(s[2]);
		if (lo < 0 || (hi == 0 && lo == 0)) {
			capi11_free(path);
			return EINVAL;
		}
		*d++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*d = '\0';
	*out = path;
	return 0;
}

/* On failure *why is a static phrase for the trace, or NULL when the
 * errno says it all. */
static int pin_file_read(const char *path, char **out, const char **why)
{
	char *buf = NULL;
	size_t used = 0, size = 0;
	struct stat st;
	int rc;

	/* Without out, the file is checked without being opened (stat and
	 * faccessat): this is on the path of every acquire of a token
	 * already logged in. */
	rc = out != NULL ? capi11_read_file(path, PIN_FILE_MAX, &st, &buf, &used, &size)
			 : capi11_stat_file(path, PIN_FILE_MAX, &st);
	/* As OpenSSH treats a private key: a PIN that others could read is
	 * no secret, one that others could write is not the owner's. */
	if (rc == 0 && capi11_file_check_private(&st, why) != 0)
		rc = EPERM;
	if (rc == EFBIG)
		rc = E2BIG;
	if (rc != 0 || out == NULL)
		goto out;
	/* Exactly one line end: editors add one, and a PIN may itself end
	 * in a blank. */
	if (used > 0 && buf[used - 1] == '\n') {
		used--;
		if (used > 0 && buf[used - 1] == '\r')
			used--;
	}
	if (used > PIN_MAX)
		rc = E2BIG;
	else if (memchr(buf, '\0', used) != NULL)
		rc = EILSEQ;
	else if ((*out = capi11_strndup(buf, used)) == NULL)
		rc = ENOMEM;
out:
	/* The reasons of the file's own making (EPERM's is set above). */
	if (rc == EINVAL)
		*why = "not a regular file";
	else if (rc == E2BIG)
		*why = "longer than a PIN may be";
	else if (rc == EILSEQ)
		*why = "a NUL byte in the PIN";
	capi11_free_secret(buf, size);
	return rc;
}

/* Reads pin_source's PIN into *pin, or with pin NULL checks its file
 * without reading it. */
static int pin_source_get(const char *pin_source, char **pin)
{
	const char *why = NULL;
	char *path = NULL;
	int rc;

	if (pin_source == NULL || *pin_source == '\0') {
		rc = EINVAL;
		why = "empty pin-source";
		goto out;
	}
	/* p11-kit's own p11_kit_pin_file_callback opens the string as a path,
	 * so "file:/x" would not be found there: the URI form is handled
	 * here. */
	if (strncasecmp(pin_source, "file:", 5) == 0) {
		rc = file_uri_path(pin_source, &path);
		if (rc == EINVAL)
			why = "not a local file: URI";
		if (rc != 0)
			goto out;
		rc = pin_file_read(path, pin, &why);
	} else {
		rc = pin_file_read(pin_source, pin, &why);
	}

out:
	/* The file's name (never a secret) and the reason, never its
	 * content. */
	if (rc != 0)
		trace_message("pin-source %s: %s", pin_source != NULL ? pin_source : "(none)",
			      why != NULL ? why : strerror(rc));
	capi11_free(path);
	return rc;
}

char *pin_read_source(const char *pin_source, int *err)
{
	char *pin = NULL;
	int rc = pin_source_get(pin_source, &pin);

	if (err != NULL)
		*err = rc;
	return rc == 0 ? pin : NULL;
}

int pin_check_source(const char *pin_source)
{
	return pin_source_get(pin_source, NULL);
}

/* The terminal prompt. Only one prompt runs at a time (prompt_lock): there
 * is one terminal, and the signal handlers below are process-wide. */

static pthread_once_t prompt_once = PTHREAD_ONCE_INIT;
static int prompt_register_error;
static bool prompt_registered;
static pthread_mutex_t prompt_lock = PTHREAD_MUTEX_INITIALIZER;

/* Why the callback returned no PIN, for pin_request in the same thread:
 * p11_kit_pin_request itself only returns NULL. */
static _Thread_local int prompt_error;

/* Written by the signal handler while a prompt runs. The handler wakes the
 * reading thread through a pipe, because the signal may be delivered to
 * any thread of the process. */
static volatile sig_atomic_t prompt_signal;
static volatile sig_atomic_t prompt_got_ttou;
static volatile sig_atomic_t prompt_wake_fd = -1;

/* Signals whose default action would stop or end the process while echo
 * is off; the terminal is restored before they take effect. */
static const int prompt_signals[] = {
	SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU,
};

static void prompt_on_signal(int sig)
{
	int saved_errno = errno;
	char byte = 0;
	ssize_t ignored;

	if (prompt_signal == 0)
		prompt_signal = sig;
	if (sig == SIGTTOU)
		prompt_got_ttou = 1;
	if (prompt_wake_fd >= 0) {
		ignored = write(prompt_wake_fd, &byte, 1);
		(void)ignored;
	}
	errno = saved_errno;
}

struct prompt_state {
	int tty;
	int wake[2];
	bool tty_changed;
	struct termios saved;
	bool handled[CAPI11_N_ELEMENTS(prompt_signals)];
	struct sigaction old[CAPI11_N_ELEMENTS(prompt_signals)];
};

static void prompt_signals_catch(struct prompt_state *st)
{
	struct sigaction act;
	size_t i;

	memset(&act, 0, sizeof act);
	act.sa_handler = prompt_on_signal;
	/* No SA_RESTART: a blocked poll or tcsetattr must return. */
	sigemptyset(&act.sa_mask);
	for (i = 0; i < CAPI11_N_ELEMENTS(prompt_signals); i++)
		sigaddset(&act.sa_mask, prompt_signals[i]);

	for (i = 0; i < CAPI11_N_ELEMENTS(prompt_signals); i++) {
		if (sigaction(prompt_signals[i], NULL, &st->old[i]) < 0)
			continue;
		/* An ignored signal (nohup's SIGHUP) stays ignored. */
		if (st->old[i].sa_handler == SIG_IGN)
			continue;
		if (sigaction(prompt_signals[i], &act, NULL) == 0)
			st->handled[i] = true;
	}
}

static void prompt_signals_release(struct prompt_state *st)
{
	size_t i;

	for (i = 0; i < CAPI11_N_ELEMENTS(prompt_signals); i++) {
		if (st->handled[i])
			sigaction(prompt_signals[i], &st->old[i], NULL);
	}
}

static int tty_write(int tty, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	while (len > 0) {
		if (prompt_signal != 0)
			return EINTR;
		n = write(tty, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Token labels come from the token: control characters could drive the
 * terminal, so they are shown as '?'. */
static void label_format(const char *label, char out[PROMPT_LABEL_MAX + 1])
{
	size_t len = 0;

	for (; label != NULL && label[len] != '\0' && len < PROMPT_LABEL_MAX; len++) {
		unsigned char c = (unsigned char)label[len];
		out[len] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	/* PKCS#11 labels are padded with blanks. */
	while (len > 0 && out[len - 1] == ' ')
		len--;
	out[len] = '\0';
}

/* Reads one line into pin (PIN_MAX + 1 bytes). In canonical mode the
 * terminal reports the fd readable only once a whole line is there. */
static int tty_read_line(struct prompt_state *st, char *pin, size_t *len)
{
	struct pollfd fds[2];
	bool too_long = false;
	size_t used = 0;
	ssize_t n;
	char c = 0;
	int rc = 0;

	for (;;) {
		fds[0] = (struct pollfd){ .fd = st->tty, .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = st->wake[0], .events = POLLIN };
		if (prompt_signal != 0) {
			rc = EINTR;
			break;
		}
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = errno;
			break;
		}
		if (fds[1].revents != 0) {
			rc = EINTR;
			break;
		}
		if (fds[0].revents == 0)
			continue;
		n = read(st->tty, &c, 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			rc = errno;         /* EIO: the terminal hung up */
			break;
		}
		if (n == 0) {
			/* ^D on an empty line cancels; after some
			 * characters it ends the line. */
			if (used == 0 && !too_long)
				rc = ECANCELED;
			break;
		}
		if (c == '\n')
			break;
		if (used == PIN_MAX)
			too_long = true;   /* read on to the line's end */
		else
			pin[used++] = c;
	}
	capi11_wipe(&c, sizeof c);
	if (rc == 0 && too_long)
		rc = E2BIG;
	pin[used] = '\0';
	*len = used;
	return rc;
}

static int tty_restore(struct prompt_state *st)
{
	int rc;

	/* TCSAFLUSH: whatever was typed after the PIN line is dropped
	 * rather than handed to the shell. A process put in the background
	 * gets SIGTTOU for every attempt: retrying then would never end. */
	do {
		rc = tcsetattr(st->tty, TCSAFLUSH, &st->saved);
	} while (rc < 0 && errno == EINTR && !prompt_got_ttou);
	return rc < 0 ? errno : 0;
}

/* Runs with prompt_lock held. On return *caught is the signal that
 * cancelled the prompt, for the caller to raise again. */
static int tty_prompt(const char *label, char *pin, size_t *len, int *caught)
{
	struct prompt_state st = { .tty = -1, .wake = { -1, -1 } };
	struct termios quiet;
	char shown[PROMPT_LABEL_MAX + 1];
	char prompt[PROMPT_LABEL_MAX + 32];
	int rc, restored;

	*len = 0;
	*caught = 0;
	/* The controlling terminal, never stdin: stdin may be a pipe with
	 * data that is not meant as a PIN. */
	st.tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (st.tty < 0) {
		/* ENOENT: a container without /dev/tty, same meaning. */
		return errno == ENOENT ? ENXIO : errno;
	}
	if (pipe2(st.wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = errno;
		goto out;
	}
	prompt_signal = 0;
	prompt_got_ttou = 0;
	prompt_wake_fd = st.wake[1];
	prompt_signals_catch(&st);

	if (tcgetattr(st.tty, &st.saved) < 0) {
		rc = errno;
		goto out;
	}
	quiet = st.saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	/* A line-at-a-time terminal even if the application left it raw. */
	quiet.c_lflag |= ICANON;
	quiet.c_iflag |= ICRNL;
	/* Echo goes off before the prompt appears, so nothing typed in
	 * answer to it is ever shown. */
	if (tcsetattr(st.tty, TCSAFLUSH, &quiet) < 0) {
		rc = errno;
		goto out;
	}
	st.tty_changed = true;

	label_format(label, shown);
	if (shown[0] != '\0')
		snprintf(prompt, sizeof prompt, "Enter PIN for \"%s\": ", shown);
	else
		snprintf(prompt, sizeof prompt, "Enter PIN: ");
	rc = tty_write(st.tty, prompt);
	if (rc == 0)
		rc = tty_read_line(&st, pin, len);
	/* The Enter key was not echoed either. */
	if (rc != EINTR && rc != EIO)
		tty_write(st.tty, "\n");

out:
	if (st.tty_changed) {
		restored = tty_restore(&st);
		if (rc == 0)
			rc = restored;
	}
	prompt_signals_release(&st);
	prompt_wake_fd = -1;
	*caught = prompt_signal;
	if (*caught != 0)
		rc = EINTR;
	if (rc != 0) {
		capi11_wipe(pin, PIN_MAX + 1);
		*len = 0;
	}
	if (st.wake[0] >= 0)
		close(st.wake[0]);
	if (st.wake[1] >= 0)
		close(st.wake[1]);
	close(st.tty);
	return rc;
}

static void pin_buffer_free(void *buffer)
{
	capi11_free_secret(buffer, PIN_MAX + 1);
}

static P11KitPin *prompt_callback(const char *pin_source, P11KitUri *pin_uri,
                                  const char *pin_description, P11KitPinFlags pin_flags,
                                  void *callback_data)
{
	P11KitPin *pin = NULL;
	char *buffer;
	size_t len;
	int rc, caught;

	(void)pin_source;
	(void)pin_uri;
	(void)pin_flags;
	(void)callback_data;

	buffer = capi11_malloc(PIN_MAX + 1);
	if (buffer == NULL) {
		prompt_error = ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&prompt_lock);
	rc = tty_prompt(pin_description, buffer, &len, &caught);
	pthread_mutex_unlock(&prompt_lock);
	/* The application's own disposition of the signal, now that the
	 * terminal is back as it was. */
	if (caught != 0)
		raise(caught);

	if (rc == 0) {
		pin = p11_kit_pin_new_for_buffer((unsigned char *)buffer, len, pin_buffer_free);
		if (pin == NULL)
			rc = ENOMEM;
	}
	if (rc != 0) {
		prompt_error = rc;
		pin_buffer_free(buffer);
	}
	return pin;
}

static void prompt_register(void)
{
	if (p11_kit_pin_register_callback(PIN_PROMPT_SOURCE, prompt_callback, NULL, NULL) < 0)
		prompt_register_error = ENOMEM;
	else
		prompt_registered = true;
}

/* p11-kit outlives a dlclose()d capi11: its table must not keep a pointer
 * into unmapped code. */
__attribute__((destructor)) static void prompt_unregister(void)
{
	if (prompt_registered)
		p11_kit_pin_unregister_callback(PIN_PROMPT_SOURCE, prompt_callback, NULL);
}

char *pin_request(const char *callback_source, const char *token_label, int *err)
{
	P11KitPin *pin = NULL;
	const unsigned char *value;
	char *copy = NULL;
	size_t len;
	int rc = 0;

	if (callback_source == NULL)
		callback_source = PIN_PROMPT_SOURCE;
	if (strcmp(callback_source, PIN_PROMPT_SOURCE) == 0) {
		pthread_once(&prompt_once, prompt_register);
		if (prompt_register_error != 0) {
			rc = prompt_register_error;
			goto out;
		}
	}

	prompt_error = 0;
	pin = p11_kit_pin_request(callback_source, NULL,
	                          token_label != NULL ? token_label : "",
	                          P11_KIT_PIN_FLAGS_USER_LOGIN);
	if (pin == NULL) {
		rc = prompt_error != 0 ? prompt_error : ENOENT;
		goto out;
	}
	value = p11_kit_pin_get_value(pin, &len);
	/* Another application's callback may hand back anything. */
	if (len > PIN_MAX) {
		rc = E2BIG;
		goto out;
	}
	if (len > 0 && memchr(value, '\0', len) != NULL) {
		rc = EILSEQ;
		goto out;
	}
	copy = capi11_strndup((const char *)value, len);
	if (copy == NULL)
		rc = ENOMEM;

out:
	if (pin != NULL)
		p11_kit_pin_unref(pin);
	if (err != NULL)
		*err = rc;
	return copy;
}

char *pin_prompt(const char *token_label, int *err)
{
	return pin_request(PIN_PROMPT_SOURCE, token_label, err);
}
