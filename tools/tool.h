/* What every capi11-tool subcommand shares: the common options, opening a
 * context, reporting failures, reading and writing files. */
#ifndef CAPI11_TOOL_H
#define CAPI11_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <wincrypt.h>

/* Exit codes: success, a failed operation, a usage error. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* Options every subcommand that touches a token takes. */
struct tool_opts {
	const char *provider;   /* pkcs11: URI or configured name; NULL: default */
	const char *container;  /* NULL: the default container */
	const char *pin_file;   /* file holding the user PIN, or NULL */
	DWORD prov_type;        /* --prov-type; 0: PROV_RSA_AES */
	bool verbose;
};

/* getopt_long values of the common options, above any short option.
 * "--pin" exists only to be refused: getopt_long would otherwise take it
 * as an abbreviation of --pin-file and treat the PIN as a file name. */
enum {
	OPT_PROVIDER = 0x100,
	OPT_CONTAINER,
	OPT_PIN_FILE,
	OPT_PIN_REFUSED,
	OPT_PROV_TYPE,
	OPT_FIRST_OWN,          /* subcommands number their own options from here */
};

#define TOOL_COMMON_LONGOPTS \
	{ "provider", required_argument, NULL, OPT_PROVIDER }, \
	{ "container", required_argument, NULL, OPT_CONTAINER }, \
	{ "pin-file", required_argument, NULL, OPT_PIN_FILE }, \
	{ "pin", required_argument, NULL, OPT_PIN_REFUSED }, \
	{ "prov-type", required_argument, NULL, OPT_PROV_TYPE }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }

#define TOOL_COMMON_HELP \
	"  --provider P     pkcs11: URI or provider name from capi11.conf (default: the\n" \
	"                   configured default provider)\n" \
	"  --container C    key container (default: the configured default container)\n" \
	"  --pin-file F     read the user PIN from file F (else the URI's pin-source,\n" \
	"                   the configuration, or a prompt on the terminal; a URI with\n" \
	"                   pin-value is refused: argv is visible to every user)\n" \
	"  --prov-type T    the provider type to acquire: rsa_aes (default), rsa_full,\n" \
	"                   dss or dss_dh (PROV_DSS, PROV_DSS_DH: the DSS and\n" \
	"                   Diffie-Hellman keys, which RSA contexts do not see)\n" \
	"  -v, --verbose    trace every CryptoAPI and PKCS#11 call to stderr\n" \
	"  -h, --help       this help\n"

/* Whether arg holds a PKCS#11 URI ("pkcs11:" anywhere in it, so that
 * "--provider=pkcs11:..." counts) with a pin-value attribute (names
 * percent-decoded and compared without case, as a lenient parser might
 * read them). A PIN on the command line is visible to every user through
 * ps: the value is overwritten in place with '*', which is what
 * /proc/PID/cmdline shows from then on, and the caller refuses the command. */
bool tool_arg_scrub_pin_value(char *arg);
/* A copy of s for printing: every pin-value= in it is shown as "***", for
 * URIs from the configuration or anywhere else the tool did not refuse.
 * Returned in one of a few rotating static buffers: print it at once. */
const char *tool_redact(const char *s);

/* Parses --prov-type: "rsa_aes", "rsa_full", "dss", "dss_dh" (also with
 * PROV_ and in capitals, '-' for '_', or the number). 0 if not. */
DWORD tool_parse_prov_type(const char *s);
/* The type tool_acquire uses: opts' --prov-type, else PROV_RSA_AES. */
DWORD tool_prov_type(const struct tool_opts *opts);

/* Handles one of the common options; false when opt is not one of them.
 * An unknown --prov-type is a usage error: the tool exits with EXIT_USAGE. */
bool tool_common_option(struct tool_opts *opts, int opt, const char *arg);

/* Sets up tracing before the first call into capi11: with verbose, every
 * CryptoAPI and PKCS#11 call is traced to stderr; without, nothing. */
void tool_trace_init(bool verbose);
/* With --verbose, the release of contexts and keys traces after the
 * command has said why it failed, burying its verdict among trace lines:
 * the first failure tool_fail or tool_error printed is said once more,
 * as the very last line, by this (called as the command returns). Without
 * --verbose, or after success, it prints nothing. */
void tool_trace_finish(int status);

/* Prints "capi11-tool: <what>: NTE_NAME (0x...)" and the PKCS#11 cause of
 * the last failure (Capi11GetLastPkcs11Error), for err = GetLastError() of
 * a failed CryptoAPI call. */
void tool_fail(DWORD err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "capi11-tool: <message>" for failures outside capi11. */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "capi11-tool <cmd>: <message>" and a pointer to --help. */
int tool_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "NTE_BAD_KEYSET (0x80090016)" into buf. */
const char *tool_error_text(DWORD err, char *buf, size_t len);

/* Opens the container of opts (flags as CryptAcquireContext takes them:
 * 0, CRYPT_NEWKEYSET, CRYPT_VERIFYCONTEXT; with create, a container that
 * does not exist is made). Logs in first with the PIN of --pin-file.
 * Reports the failure and returns false. */
bool tool_acquire(const struct tool_opts *opts, DWORD flags, bool create, HCRYPTPROV *prov);
/* Releases everything tool_acquire kept (the login context). */
void tool_release(HCRYPTPROV prov);
/* tool_release after a command that failed (failed true) or succeeded:
 * a container that tool_acquire made for this run and that still holds
 * no key pair is deleted again, so that a failed genkey or import leaves
 * nothing on the token. */
void tool_release_made(const struct tool_opts *opts, HCRYPTPROV prov, bool failed);
/* Releases only the context that logged in with --pin-file (the token
 * stays logged in), for steps that need the token to themselves. */
void tool_release_login(void);
/* A PIN from a file ("-": standard input), one trailing newline dropped,
 * in a buffer to free with tool_free_secret(p, TOOL_PIN_BUF). The file
 * must be a regular file that neither group nor others may read or write,
 * and hold one non-empty line. Reports the failure and returns NULL. */
#define TOOL_PIN_BUF 257
char *tool_read_pin_file(const char *path);
/* Asks for a secret on the controlling terminal with echo off; same
 * buffer rule. Reports the failure and returns NULL. */
char *tool_prompt_secret(const char *prompt);

/* Whole file (or stdin for "-") into a new buffer; max_len bounds it.
 * Reports the failure and returns NULL. */
unsigned char *tool_read_file(const char *path, size_t max_len, size_t *len);
/* Writes len bytes to path (stdout for NULL or "-"). A new file is created
 * 0600, whatever the umask; the path's last component is never followed
 * when it is a symbolic link (refused with an error); an existing file is
 * truncated and rewritten in place, so it keeps its mode, owner and links,
 * except that a secret (key bytes, decrypted data) narrows a mode that lets
 * group or others in to the owner's bits before any byte is written.
 * Reports the failure and returns false. */
bool tool_write_file(const char *path, const void *data, size_t len, bool secret);
/* Zeroes then frees a buffer that held key bytes. */
void tool_free_secret(void *p, size_t len);

/* Parses "exchange"/"signature" (also AT_KEYEXCHANGE, 1, 2...). 0 if not. */
DWORD tool_parse_spec(const char *s);
const char *tool_spec_name(DWORD spec);
/* Parses a decimal number in [min, max]. */
bool tool_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* CryptExportKey into a new buffer (size query first). Reports failures. */
BYTE *tool_export(HCRYPTKEY key, HCRYPTKEY exp_key, DWORD type, DWORD flags, DWORD *len,
		  const char *what);
/* CryptGetKeyParam of a DWORD value. */
bool tool_key_dword(HCRYPTKEY key, DWORD param, DWORD *value);

/* The subcommands: argv[0] is the subcommand's name. */
int cmd_list(int argc, char **argv);
int cmd_genkey(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_wrap(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_hash(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_wine_register(int argc, char **argv);

#endif
