/* Throwaway SoftHSM tokens for the tests, and the helpers around them.
 *
 * Each test process gets one fresh directory holding a softhsm2.conf and the
 * token store; SOFTHSM2_CONF points there for the process and for every
 * command run through this file (and XDG_RUNTIME_DIR, where capi11 keeps
 * its container locks), so that tests run in parallel
 * (make -j check) never see each other's tokens. Typical use:
 *
 *	if (!fixture_init())
 *		return CUTEST_SKIP;
 *	rc = cutest_run(suites);
 *	fixture_cleanup(rc == 0);
 *
 * SoftHSM 2.6.1 reads its token directory at C_Initialize only: a token made
 * with fixture_token_new() after SoftHSM was initialized in this process
 * (directly, through the shim or through capi11) stays invisible until the
 * module is finalized and initialized again. Make tokens in suite init.
 *
 * Failures of the environment itself (no temporary directory, out of memory)
 * end the process with FIXTURE_HARD_ERROR rather than being reported as a
 * skip or as a test failure. */
#ifndef CAPI11_FIXTURE_H
#define CAPI11_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "p11shim.h"
#include "testenv.h"

#define FIXTURE_PIN "1234"	/* user PIN of every fixture token */
#define FIXTURE_SO_PIN "5678"

/* Exit code automake's test driver reads as a hard error (not a failure). */
#define FIXTURE_HARD_ERROR 99

/* PKCS#11 token labels are 32 bytes, blank-padded. */
#define FIXTURE_LABEL_MAX 32

/* Creates the process's fixture directory ("capi11-test-XXXXXX" under
 * $TMPDIR or /tmp) with a softhsm2.conf (token store <dir>/tokens, file
 * backend, log level ERROR, non-removable slots) and sets SOFTHSM2_CONF to it.
 * Call it once, before SoftHSM is first initialized in the process; later
 * calls do nothing. Returns false when SoftHSM is not installed (module or
 * softhsm2-util missing): the caller then skips with CUTEST_SKIP. */
bool fixture_init(void);

/* Unless the test chose a configuration (CAPI11_CONF), sets "no
 * configuration" (/dev/null, capi11.conf(5)): the library then never reads
 * the installed capi11.conf, whose settings (exportable-policy,
 * default-provider, trace) would change what the tests see. fixture_init
 * and cutest_run call it; a test that clears CAPI11_CONF sets /dev/null
 * back instead. Likewise XDG_CONFIG_HOME, when unset, is pointed at a
 * directory that does not exist, so that the user's own capi11.conf
 * (per-user default providers) stays out of the tests. */
void fixture_no_installed_conf(void);

/* Removes the fixture directory and everything in it when remove is true
 * (pass "all tests passed"); else keeps it and prints its path to stderr so
 * that the tokens and commands.log can be inspected. */
void fixture_cleanup(bool remove);

/* The fixture directory, NULL before fixture_init(). */
const char *fixture_dir(void);

/* A label "<prefix>-<pid>-<n>", unique in the process, malloc'd; NULL when it
 * would not fit in FIXTURE_LABEL_MAX bytes (keep prefixes under 16 chars). */
char *fixture_label_new(const char *prefix);

/* Initialises a new token with this label on a free slot, user PIN
 * FIXTURE_PIN and SO PIN FIXTURE_SO_PIN, with softhsm2-util. Returns 0, or -1
 * on failure (see commands.log in the fixture directory). */
int fixture_token_new(const char *label);

/* fixture_label_new() and fixture_token_new() in one step, for main()
 * before the tests run: the new token's label, malloc'd. Ends the process
 * with FIXTURE_HARD_ERROR when the token cannot be made. */
char *fixture_token_make(const char *prefix);

/* RFC 7512 URIs naming the token, malloc'd:
 * "pkcs11:token=<label>?module-path=<SoftHSM>&pin-value=1234", or without the
 * pin-value. The label and the path are percent-encoded where RFC 7512 does
 * not allow the character as is. */
char *fixture_token_uri(const char *label);
char *fixture_token_uri_nopin(const char *label);

/* The same URI with the shim (fixture_shim_path()) as module; the shim
 * forwards to SoftHSM. NULL when the shim was not built. */
char *fixture_token_uri_shim(const char *label, bool with_pin);

/* Absolute path of the built shim module, NULL when it cannot be found. It is
 * looked for in TEST_BUILDDIR/.libs, then in the .libs of the directory above
 * (where libtool puts it when the library is named without a directory). */
const char *fixture_shim_path(void);

/* The shim's control functions, resolved from the module at
 * fixture_shim_path(). The module stays loaded for the rest of the process,
 * so counters and faults survive capi11 unloading and reloading it. NULL when
 * the shim cannot be loaded. */
const struct p11shim_ops *fixture_shim(void);

/* Runs a shell command (/bin/sh -c) in the fixture environment, stdin from
 * /dev/null, stdout and stderr appended to <fixture dir>/commands.log after
 * the command line. Returns the exit status, 128 + the signal number when
 * the command was killed, -1 when it could not be run. */
int fixture_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same, but returns the command's stdout, malloc'd and NUL-terminated
 * (NULL when it could not be run), and stores the exit status in *status
 * when status is not NULL. Only stderr goes to commands.log. */
char *fixture_capture(int *status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Runs pkcs11-tool with the SoftHSM module on the token with this label,
 * logged in with FIXTURE_PIN when login is true, followed by the arguments
 * (shell syntax: quote them with fixture_quote() when needed). Returns its
 * exit status, -1 when pkcs11-tool is not installed or cannot run; when out
 * is not NULL, *out receives its stdout as fixture_capture() does. */
int fixture_pkcs11_tool(const char *label, bool login, char **out,
		const char *args_fmt, ...) __attribute__((format(printf, 4, 5)));

/* s quoted for the shell, malloc'd ('it'\''s'). */
char *fixture_quote(const char *s);

/* Writes len bytes of data to the new file <fixture dir>/<name> and returns
 * its malloc'd path, NULL on failure. */
char *fixture_write_file(const char *name, const void *data, size_t len);

#endif
