/* PIN sources: pin-source files (plain paths and file: URIs, RFC 8089) and
 * the terminal prompt, driven through a real pseudo-terminal. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* asprintf, memmem */
#endif
#include "config.h"
#include "cutest.h"
#include "testutil.h"

#include "pin.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pin.h>

static int suite_init(void)
{
	return testutil_scratch_init("pin");
}

static void assert_pin(const char *source, const char *expected)
{
	char *pin;
	int err = -1;

	pin = pin_read_source(source, &err);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pin);
	CU_ASSERT_STRING_EQUAL(pin, expected);
	capi11_free_string_secret(pin);
}

static void assert_no_pin(const char *source, int expected_err)
{
	char *pin;
	int err = 0;

	pin = pin_read_source(source, &err);
	CU_ASSERT_PTR_NULL(pin);
	CU_ASSERT_EQUAL(err, expected_err);
	capi11_free_string_secret(pin);
}

static void test_plain_path(void)
{
	const char *path = testutil_scratch_write_text("plain.pin", "1234\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	assert_pin(path, "1234");
}

static void test_file_uri(void)
{
	const char *path = testutil_scratch_write_text("uri.pin", "5678");
	char *uri;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_FATAL(asprintf(&uri, "file:%s", path) > 0);
	assert_pin(uri, "5678");
	free(uri);
	/* The scheme is case-insensitive (RFC 3986, 3.1). */
	CU_ASSERT_FATAL(asprintf(&uri, "FILE:%s", path) > 0);
	assert_pin(uri, "5678");
	free(uri);
	/* An empty authority and "localhost" both mean this host (RFC 8089). */
	CU_ASSERT_FATAL(asprintf(&uri, "file://localhost%s", path) > 0);
	assert_pin(uri, "5678");
	free(uri);
}

static void test_file_uri_percent(void)
{
	const char *path = testutil_scratch_write_text("my pin #1.txt", "24680\n");
	char *uri;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_FATAL(asprintf(&uri, "file://%s/my%%20pin%%20%%231.txt", testutil_scratch_dir()) > 0);
	assert_pin(uri, "24680");
	free(uri);
	/* Lower-case hex digits are the same octet (RFC 3986, 2.1). */
	CU_ASSERT_FATAL(asprintf(&uri, "file://%s/my%%20pin%%20%%231%%2etxt", testutil_scratch_dir()) > 0);
	assert_pin(uri, "24680");
	free(uri);
	/* Outside a URI, "%20" is part of the file name. */
	CU_ASSERT_FATAL(asprintf(&uri, "%s/my%%20pin%%20%%231.txt", testutil_scratch_dir()) > 0);
	assert_no_pin(uri, ENOENT);
	free(uri);
}

static void test_line_end(void)
{
	const char *crlf = testutil_scratch_write_text("crlf.pin", "1111\r\n");
	const char *two = testutil_scratch_write_text("two.pin", "2222\n\n");
	const char *blank = testutil_scratch_write_text("blank.pin", "33 3 \n");
	const char *empty = testutil_scratch_write_text("empty.pin", "");

	CU_ASSERT_PTR_NOT_NULL_FATAL(crlf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(two);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blank);
	CU_ASSERT_PTR_NOT_NULL_FATAL(empty);
	assert_pin(crlf, "1111");
	/* Only one line end is stripped. */
	assert_pin(two, "2222\n");
	assert_pin(blank, "33 3 ");
	assert_pin(empty, "");
}

static void test_errors(void)
{
	char max[PIN_MAX + 2], *uri;
	const char *path, *nul;

	assert_no_pin(NULL, EINVAL);
	assert_no_pin("", EINVAL);
	CU_ASSERT_FATAL(asprintf(&uri, "%s/absent.pin", testutil_scratch_dir()) > 0);
	assert_no_pin(uri, ENOENT);
	free(uri);
	CU_ASSERT_FATAL(asprintf(&uri, "file://%s/absent.pin", testutil_scratch_dir()) > 0);
	assert_no_pin(uri, ENOENT);
	free(uri);
	assert_no_pin(testutil_scratch_dir(), EISDIR);

	/* file: URIs that name no local absolute path. */
	assert_no_pin("file:relative.pin", EINVAL);
	assert_no_pin("file://otherhost/etc/pin", EINVAL);
	assert_no_pin("file:/tmp/a%2", EINVAL);
	assert_no_pin("file:/tmp/a%zz", EINVAL);
	assert_no_pin("file:/tmp/a%00b", EINVAL);
	assert_no_pin("file:/tmp/a?query", EINVAL);

	/* A NUL byte cannot be part of a C string PIN. */
	nul = testutil_scratch_write("nul.pin", "12\0" "34", 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(nul);
	assert_no_pin(nul, EILSEQ);

	/* PIN_MAX bytes are accepted with either line end, one more is not. */
	memset(max, '7', PIN_MAX);
	max[PIN_MAX] = '\n';
	path = testutil_scratch_write("max.pin", max, PIN_MAX + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	max[PIN_MAX] = '\0';
	assert_pin(path, max);
	max[PIN_MAX] = '\r';
	max[PIN_MAX + 1] = '\n';
	path = testutil_scratch_write("max-crlf.pin", max, PIN_MAX + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	max[PIN_MAX] = '\0';
	assert_pin(path, max);
	max[PIN_MAX] = '7';
	path = testutil_scratch_write("long.pin", max, PIN_MAX + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	assert_no_pin(path, E2BIG);
	path = testutil_scratch_write("long-nl.pin", max, PIN_MAX + 2);   /* "7...77\n" */
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	assert_no_pin(path, E2BIG);
	/* Only regular files: a device is refused before it is read. */
	assert_no_pin("/dev/zero", EINVAL);
}

static const char secret_pin[] = "p1n-7345-secret";
static unsigned int secret_leaks;
static unsigned int blocks_freed;

static void free_hook_check(void *ptr, size_t len)
{
	blocks_freed++;
	if (memmem(ptr, len, secret_pin, sizeof secret_pin - 1) != NULL)
		secret_leaks++;
}

static void test_wiped(void)
{
	const char *path = testutil_scratch_write_text("secret.pin", "p1n-7345-secret\n");
	char *uri, *pin;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_FATAL(asprintf(&uri, "file://%s", path) > 0);
	secret_leaks = 0;
	blocks_freed = 0;
	capi11_set_free_hook(free_hook_check);
	pin = pin_read_source(uri, NULL);
	CU_ASSERT_PTR_NOT_NULL(pin);
	capi11_free_string_secret(pin);
	capi11_set_free_hook(NULL);
	free(uri);
	/* The URI's decoded path and the PIN itself were freed. */
	CU_ASSERT(blocks_freed >= 2);
	CU_ASSERT_EQUAL(secret_leaks, 0);
}

/* pin_request with an application's own p11-kit source. */
static P11KitPin *app_callback(const char *source, P11KitUri *uri, const char *description,
                               P11KitPinFlags flags, void *data)
{
	const char *value = data;

	(void)source;
	(void)uri;
	(void)flags;
	if (strcmp(description, "card") != 0)
		return NULL;
	/* "nul" is handed over with its terminator. */
	return p11_kit_pin_new((const unsigned char *)value,
	                       strlen(value) + (strcmp(value, "nul") == 0));
}

static void test_request_other_source(void)
{
	char *pin;
	int err = -1;

	CU_ASSERT_EQUAL_FATAL(p11_kit_pin_register_callback("test-app", app_callback,
	                                                    "8642", NULL), 0);
	CU_ASSERT_EQUAL_FATAL(p11_kit_pin_register_callback("test-nul", app_callback,
	                                                    "nul", NULL), 0);
	pin = pin_request("test-app", "card", &err);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_PTR_NOT_NULL(pin);
	if (pin != NULL)
		CU_ASSERT_STRING_EQUAL(pin, "8642");
	capi11_free_string_secret(pin);

	/* The callback gives nothing for this token. */
	pin = pin_request("test-app", "other", &err);
	CU_ASSERT_PTR_NULL(pin);
	CU_ASSERT_EQUAL(err, ENOENT);
	/* Nobody registered this source. */
	pin = pin_request("test-nobody", "card", &err);
	CU_ASSERT_PTR_NULL(pin);
	CU_ASSERT_EQUAL(err, ENOENT);
	/* A PIN with a NUL byte. */
	pin = pin_request("test-nul", "card", &err);
	CU_ASSERT_PTR_NULL(pin);
	CU_ASSERT_EQUAL(err, EILSEQ);

	p11_kit_pin_unregister_callback("test-app", app_callback, "8642");
	p11_kit_pin_unregister_callback("test-nul", app_callback, "nul");
}

/* The terminal prompt runs in a child process whose controlling terminal
 * is a fresh pseudo-terminal; the test plays the user on the master side. */

#define PTY_TIMEOUT_MS 10000

struct prompt_result {
	int returned;         /* the child reported back */
	int err;
	int echo_before;      /* ECHO was on before the prompt */
	int echo_after;       /* and is on again after it */
	int own_handler_ran;  /* the child's own SIGINT handler */
	char pin[PIN_MAX + 1];
};

static volatile sig_atomic_t child_got_sigint;

static void child_on_sigint(int sig)
{
	(void)sig;
	child_got_sigint = 1;
}

static void child_prompt(int report, const char *label)
{
	struct prompt_result r = { .returned = 1 };
	struct sigaction act = { .sa_handler = child_on_sigint };
	struct termios t;
	char *pin;

	sigemptyset(&act.sa_mask);
	sigaction(SIGINT, &act, NULL);
	if (tcgetattr(STDIN_FILENO, &t) == 0)
		r.echo_before = (t.c_lflag & ECHO) != 0;
	pin = pin_prompt(label, &r.err);
	if (tcgetattr(STDIN_FILENO, &t) == 0)
		r.echo_after = (t.c_lflag & ECHO) != 0;
	r.own_handler_ran = child_got_sigint;
	if (pin != NULL)
		snprintf(r.pin, sizeof r.pin, "%s", pin);
	capi11_free_string_secret(pin);
	if (write(report, &r, sizeof r) != (ssize_t)sizeof r)
		_exit(2);
	_exit(0);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Appends what the terminal shows to screen until it contains needle
 * (NULL: until the child closes the terminal) or the time is up. */
static bool screen_read(int master, char *screen, size_t cap, size_t *len,
                        const char *needle, long deadline)
{
	struct pollfd pfd = { .fd = master, .events = POLLIN };
	ssize_t n;

	for (;;) {
		screen[*len] = '\0';
		if (needle != NULL && strstr(screen, needle) != NULL)
			return true;
		if (now_ms() >= deadline || *len + 1 >= cap)
			return false;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(master, screen + *len, cap - 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)            /* EIO: the child has gone */
			return needle == NULL;
		*len += (size_t)n;
	}
}

/* Runs pin_prompt(label) on a pseudo-terminal and types answer once the
 * prompt is shown. screen receives everything the terminal displayed. */
static bool prompt_run(const char *label, const char *answer, struct prompt_result *res,
                       char *screen, size_t cap)
{
	long deadline = now_ms() + PTY_TIMEOUT_MS;
	struct pollfd pfd;
	size_t len = 0;
	int report[2], master, status;
	bool shown, ok = true;
	pid_t pid;

	memset(res, 0, sizeof *res);
	if (pipe(report) < 0)
		return false;
	pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0) {
		close(report[0]);
		close(report[1]);
		return false;
	}
	if (pid == 0) {
		close(report[0]);
		child_prompt(report[1], label);
	}
	close(report[1]);

	/* The prompt ends in ": "; echo is already off when it appears. */
	shown = screen_read(master, screen, cap, &len, ": ", deadline);
	CU_ASSERT(shown);
	if (shown && write(master, answer, strlen(answer)) != (ssize_t)strlen(answer))
		ok = false;

	pfd = (struct pollfd){ .fd = report[0], .events = POLLIN };
	if (poll(&pfd, 1, PTY_TIMEOUT_MS) != 1 ||
	    read(report[0], res, sizeof *res) != (ssize_t)sizeof *res)
		ok = false;
	screen_read(master, screen, cap, &len, NULL, now_ms() + 2000);

	if (!ok)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(report[0]);
	close(master);
	return ok && res->returned;
}

static void test_prompt_pty(void)
{
	struct prompt_result res;
	char screen[4096];

	CU_ASSERT_FATAL(prompt_run("demo-token", "4321\n", &res, screen, sizeof screen));
	CU_ASSERT_EQUAL(res.err, 0);
	CU_ASSERT_STRING_EQUAL(res.pin, "4321");
	/* The prompt names the token, on the terminal. */
	CU_ASSERT_PTR_NOT_NULL(strstr(screen, "demo-token"));
	/* Echo was on before, was off while typing, and is on again. */
	CU_ASSERT_EQUAL(res.echo_before, 1);
	CU_ASSERT_PTR_NULL(strstr(screen, "4321"));
	CU_ASSERT_EQUAL(res.echo_after, 1);
}

/* Control characters of a label never reach the terminal; the blanks
 * that pad a PKCS#11 label are dropped. */
static void test_prompt_label(void)
{
	struct prompt_result res;
	char screen[4096];

	CU_ASSERT_FATAL(prompt_run("evil\033]0;title\007token    ", "1\n", &res,
	                           screen, sizeof screen));
	CU_ASSERT_STRING_EQUAL(res.pin, "1");
	CU_ASSERT_PTR_NOT_NULL(strstr(screen, "evil?]0;title?token\""));
	CU_ASSERT_PTR_NULL(strchr(screen, '\033'));
	CU_ASSERT_PTR_NULL(strchr(screen, '\007'));
}

/* ^C while the prompt waits: the terminal is restored, then the
 * application's own SIGINT handler runs. */
static void test_prompt_interrupted(void)
{
	struct prompt_result res;
	char screen[4096];

	CU_ASSERT_FATAL(prompt_run("demo-token", "12\003", &res, screen, sizeof screen));
	CU_ASSERT_EQUAL(res.err, EINTR);
	CU_ASSERT_STRING_EQUAL(res.pin, "");
	CU_ASSERT_EQUAL(res.echo_before, 1);
	CU_ASSERT_EQUAL(res.echo_after, 1);
	CU_ASSERT_EQUAL(res.own_handler_ran, 1);
}

/* ^D on an empty line cancels. */
static void test_prompt_eof(void)
{
	struct prompt_result res;
	char screen[4096];

	CU_ASSERT_FATAL(prompt_run("demo-token", "\004", &res, screen, sizeof screen));
	CU_ASSERT_EQUAL(res.err, ECANCELED);
	CU_ASSERT_EQUAL(res.echo_after, 1);
}

static void test_prompt_too_long(void)
{
	struct prompt_result res;
	char screen[4096], answer[PIN_MAX + 3];

	memset(answer, '5', PIN_MAX + 1);
	answer[PIN_MAX + 1] = '\n';
	answer[PIN_MAX + 2] = '\0';
	CU_ASSERT_FATAL(prompt_run("demo-token", answer, &res, screen, sizeof screen));
	CU_ASSERT_EQUAL(res.err, E2BIG);
	CU_ASSERT_STRING_EQUAL(res.pin, "");
	CU_ASSERT_EQUAL(res.echo_after, 1);
}

/* Without a controlling terminal the prompt fails at once with ENXIO,
 * and it never reads stdin instead, even when stdin holds a line. */
static void test_prompt_no_tty(void)
{
	long deadline = now_ms() + 5000;
	int in[2], report[2], status = 0, err = 0;
	pid_t pid, done = 0;

	CU_ASSERT_FATAL(pipe(in) == 0);
	CU_ASSERT_FATAL(pipe(report) == 0);
	CU_ASSERT_FATAL(write(in[1], "9999\n", 5) == 5);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		char *pin;
		int e = 0;

		close(report[0]);
		setsid();
		dup2(in[0], STDIN_FILENO);
		pin = pin_prompt("demo-token", &e);
		if (pin != NULL)
			e = -1;
		capi11_free_string_secret(pin);
		_exit(write(report[1], &e, sizeof e) == (ssize_t)sizeof e ? 0 : 2);
	}
	close(report[1]);
	close(in[0]);
	close(in[1]);
	while (now_ms() < deadline) {
		done = waitpid(pid, &status, WNOHANG);
		if (done != 0)
			break;
		usleep(10000);
	}
	if (done == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	CU_ASSERT_EQUAL(done, pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_EQUAL(read(report[0], &err, sizeof err), (ssize_t)sizeof err);
	CU_ASSERT_EQUAL(err, ENXIO);
	close(report[0]);
}

static CU_TestInfo source_tests[] = {
	{ "plain path", test_plain_path },
	{ "file: URI", test_file_uri },
	{ "file:/// URI with percent-encoding", test_file_uri_percent },
	{ "one line end stripped", test_line_end },
	{ "missing, malformed and long sources", test_errors },
	{ "buffers wiped", test_wiped },
	{ "another p11-kit source", test_request_other_source },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo prompt_tests[] = {
	{ "prompt on a pseudo-terminal", test_prompt_pty },
	{ "label sanitised", test_prompt_label },
	{ "interrupted prompt", test_prompt_interrupted },
	{ "end of input", test_prompt_eof },
	{ "over-long line", test_prompt_too_long },
	{ "no controlling terminal", test_prompt_no_tty },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "pin-source", suite_init, testutil_scratch_cleanup, NULL, NULL, source_tests },
	{ "prompt", NULL, NULL, NULL, NULL, prompt_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_run(suites);
}
