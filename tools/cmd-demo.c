/* capi11-tool demo: the main job on a throwaway SoftHSM token. It makes a
 * token in a temporary directory, generates keys, exports every blob type,
 * dumps each, checks the RSA blobs with `openssl rsa -inform MSBLOB`, and
 * removes the token. A blob route that this capi11 build does not provide
 * (NTE_NOT_SUPPORTED) is reported as skipped, not as a failure. */
#include "config.h"
#include "tool.h"
#include "dump.h"
#include "keys.h"
#include "names.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SOFTHSM_MODULE
#define SOFTHSM_MODULE ""
#endif
#ifndef SOFTHSM2_UTIL
#define SOFTHSM2_UTIL ""
#endif
#ifndef OPENSSL_BIN
#define OPENSSL_BIN "openssl"
#endif

#define DEMO_LABEL "capi11-demo"
#define DEMO_PIN "1234"
#define DEMO_SO_PIN "123456"
#define DEMO_CONTAINER "demo"
#define DEMO_BITS 1024
#define FILE_MAX (1u << 20)

static const char demo_help[] =
	"Usage: capi11-tool demo [--keep] [--quiet] [-v]\n"
	"Creates a throwaway SoftHSM token in a temporary directory, generates an\n"
	"exportable exchange key pair and a non-exportable signature key pair, exports\n"
	"every blob type (PUBLICKEYBLOB, PRIVATEKEYBLOB, SIMPLEBLOB with PKCS#1 and\n"
	"OAEP, PLAINTEXTKEYBLOB, SYMMETRICWRAPKEYBLOB, OPAQUEKEYBLOB, encrypted\n"
	"PRIVATEKEYBLOB), dumps each, checks the RSA blobs with\n"
	"'openssl rsa -inform MSBLOB', imports them back, and removes the token.\n"
	"Routes this capi11 build does not provide are reported as skipped.\n"
	"  --keep           keep the temporary directory (its path is printed)\n"
	"  --quiet          no blob dumps, only the step results\n"
	"Environment: CAPI11_SOFTHSM_MODULE, CAPI11_SOFTHSM2_UTIL and CAPI11_OPENSSL\n"
	"override the SoftHSM module, softhsm2-util and openssl found by configure.\n";

struct demo {
	char dir[64];
	char path[512];         /* scratch for file names */
	const char *openssl;
	char *uri;
	bool quiet;
	int ok, skipped, failed;
	HCRYPTPROV prov;
};

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : fallback;
}

static const char *demo_file(struct demo *d, const char *name)
{
	snprintf(d->path, sizeof d->path, "%s/%s", d->dir, name);
	return d->path;
}

static void demo_result(struct demo *d, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void demo_result(struct demo *d, const char *status, const char *fmt, ...)
{
	va_list ap;

	if (strcmp(status, "ok") == 0)
		d->ok++;
	else if (strcmp(status, "skip") == 0)
		d->skipped++;
	else
		d->failed++;
	printf("[%-4s] ", status);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The failure of a CryptoAPI step: NTE_NOT_SUPPORTED is a route this build
 * does not have yet, anything else a failure. */
static void demo_api_failure(struct demo *d, DWORD err, const char *what)
{
	char text[64];

	if (err == NTE_NOT_SUPPORTED) {
		demo_result(d, "skip", "%s: %s, not provided by this capi11 build", what,
			    tool_error_text(err, text, sizeof text));
		return;
	}
	demo_result(d, "FAIL", "%s", what);
	tool_fail(err, "%s", what);
}

/* Runs argv with stdout and stderr into out_path; the exit status, or -1. */
static int demo_run(const char *const argv[], const char *out_path)
{
	pid_t pid;
	int status, fd;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			_exit(127);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs argv with stdin on a new pseudo-terminal that receives input, and
 * stdout and stderr into out_path; the exit status, or -1. softhsm2-util
 * takes its PINs either from argv, where every user can read them with ps,
 * or from a prompt that insists on a terminal (it reads with echo off, and
 * its tcsetattr does not flush what was typed ahead, so the whole input can
 * be written at once). */
static int demo_run_tty(const char *const argv[], const char *input, const char *out_path)
{
	char slave[128];
	pid_t pid;
	int status, master, fd, rc = -1;
	size_t left = strlen(input);

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return -1;
	if (grantpt(master) != 0 || unlockpt(master) != 0 ||
	    ptsname_r(master, slave, sizeof slave) != 0) {
		close(master);
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(master);
		return -1;
	}
	if (pid == 0) {
		/* A session of its own makes the terminal its controlling one. */
		setsid();
		fd = open(slave, O_RDWR);
		if (fd < 0)
			_exit(127);
		dup2(fd, STDIN_FILENO);
		close(fd);
		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			_exit(127);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (left > 0) {
		ssize_t n = write(master, input, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		input += n;
		left -= (size_t)n;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			goto out;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
out:
	/* The terminal's echo of what was typed goes unread, with it. */
	close(master);
	return rc;
}

/* The openssl binary: a path as configure found it, else looked up. */
static bool demo_find_openssl(struct demo *d)
{
	static char found[256];
	const char *dirs[] = { "/usr/bin", "/usr/local/bin", "/bin" };

	d->openssl = env_or("CAPI11_OPENSSL", OPENSSL_BIN);
	if (strchr(d->openssl, '/') != NULL)
		return access(d->openssl, X_OK) == 0;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(found, sizeof found, "%s/openssl", dirs[i]);
		if (access(found, X_OK) == 0) {
			d->openssl = found;
			return true;
		}
	}
	return false;
}

static bool demo_write(struct demo *d, const char *name, const void *data, size_t len)
{
	return tool_write_file(demo_file(d, name), data, len, true);
}

static bool files_equal(const char *a, const char *b)
{
	unsigned char *x, *y;
	size_t xl, yl;
	bool same;

	x = tool_read_file(a, FILE_MAX, &xl);
	y = x ? tool_read_file(b, FILE_MAX, &yl) : NULL;
	same = x && y && xl == yl && memcmp(x, y, xl) == 0;
	tool_free_secret(x, FILE_MAX + 1);
	tool_free_secret(y, FILE_MAX + 1);
	return same;
}

/* Returns dump_blob's verdict; quiet still decodes, so a malformed blob
 * is caught either way. */
static int demo_dump(struct demo *d, const BYTE *blob, DWORD len)
{
	FILE *sink;
	int rc;

	if (!d->quiet)
		return dump_blob(stdout, blob, len);
	sink = fopen("/dev/null", "w");
	if (sink == NULL)
		return 1;
	rc = dump_blob(sink, blob, len);
	fclose(sink);
	return rc;
}

/* Exports key as type under exp, writes it to name and dumps it. */
static BYTE *demo_export(struct demo *d, HCRYPTKEY key, HCRYPTKEY exp, DWORD type, DWORD flags,
			 const char *name, const char *what, DWORD *len)
{
	DWORD size = 0;
	BYTE *blob;

	if (!CryptExportKey(key, exp, type, flags, NULL, &size)) {
		demo_api_failure(d, GetLastError(), what);
		return NULL;
	}
	blob = calloc(1, size);
	if (blob == NULL || !CryptExportKey(key, exp, type, flags, blob, &size)) {
		demo_api_failure(d, blob ? GetLastError() : NTE_NO_MEMORY, what);
		free(blob);
		return NULL;
	}
	*len = size;
	if (!demo_write(d, name, blob, size)) {
		demo_result(d, "FAIL", "%s: cannot write %s", what, name);
		tool_free_secret(blob, size);
		return NULL;
	}
	if (!d->quiet)
		printf("\n--- capi11-tool dump %s\n", name);
	if (demo_dump(d, blob, size) != 0) {
		demo_result(d, "FAIL", "%s: the dump finds it malformed", what);
		tool_free_secret(blob, size);
		return NULL;
	}
	return blob;
}

/* PUBLICKEYBLOB / PRIVATEKEYBLOB: openssl reads the blob, and its PEM must be
 * byte for byte what capi11-tool makes of the same blob. */
static void demo_check_openssl(struct demo *d, const BYTE *blob, DWORD len, const char *name,
			       bool private_blob)
{
	char in[512], theirs[600], ours[600], log[600];
	unsigned char *pem = NULL;
	size_t pem_len = 0;
	const char *check[] = { d->openssl, "rsa", "-inform", "MSBLOB", "-in", in, "-check",
				"-noout", NULL };
	const char *pub[] = { d->openssl, "rsa", "-pubin", "-inform", "MSBLOB", "-in", in,
			      "-outform", "PEM", "-out", theirs, NULL };
	const char *priv[] = { d->openssl, "rsa", "-inform", "MSBLOB", "-in", in, "-outform",
			       "PEM", "-out", theirs, NULL };

	snprintf(in, sizeof in, "%s", demo_file(d, name));
	snprintf(theirs, sizeof theirs, "%s.openssl.pem", in);
	snprintf(ours, sizeof ours, "%s.pem", in);
	snprintf(log, sizeof log, "%s.log", in);
	if (private_blob && demo_run(check, log) != 0) {
		demo_result(d, "FAIL", "openssl rsa -inform MSBLOB -check rejects %s (see %s)", name,
			    log);
		return;
	}
	if (demo_run(private_blob ? priv : pub, log) != 0) {
		demo_result(d, "FAIL", "openssl rsa -inform MSBLOB cannot read %s (see %s)", name,
			    log);
		return;
	}
	if (!pem_from_blob(blob, len, PEM_FORMAT_PEM, &pem, &pem_len) ||
	    !tool_write_file(ours, pem, pem_len, true)) {
		demo_result(d, "FAIL", "%s: no PEM form", name);
		goto out;
	}
	if (files_equal(ours, theirs))
		demo_result(d, "ok", "%s: openssl reads it%s; --format pem gives the same %s",
			    name, private_blob ? " and -check passes" : "",
			    private_blob ? "PKCS#8" : "SubjectPublicKeyInfo");
	else
		demo_result(d, "FAIL", "%s: openssl's PEM differs from capi11-tool's", name);
out:
	tool_free_secret(pem, pem_len);
}

/* PLAINTEXTKEYBLOB of a session key, to compare two keys' values. */
/* Whether two session keys hold the same value, judged by what they do:
 * the same block encrypted under each (CBC from the key's IV, no padding)
 * gives the same ciphertext. Works for keys that may not be read, such as
 * one that arrived wrapped under a key-encryption key. Copies do the work,
 * so the keys' own chaining values stay as they were. */
static bool demo_same_value(HCRYPTKEY a, HCRYPTKEY b)
{
	static const BYTE probe[32] = "capi11 demo: same key or not?..";
	BYTE x[sizeof probe], y[sizeof probe];
	DWORD xl = sizeof probe, yl = sizeof probe;
	HCRYPTKEY ca = 0, cb = 0;
	bool same;

	memcpy(x, probe, sizeof probe);
	memcpy(y, probe, sizeof probe);
	same = CryptDuplicateKey(a, NULL, 0, &ca) && CryptDuplicateKey(b, NULL, 0, &cb) &&
	       CryptEncrypt(ca, 0, FALSE, 0, x, &xl, sizeof x) &&
	       CryptEncrypt(cb, 0, FALSE, 0, y, &yl, sizeof y) &&
	       xl == yl && memcmp(x, y, xl) == 0;
	if (ca != 0)
		CryptDestroyKey(ca);
	if (cb != 0)
		CryptDestroyKey(cb);
	return same;
}

static void demo_key_pairs(struct demo *d, HCRYPTKEY *exchange, HCRYPTKEY *signature)
{
	BYTE *blob;
	DWORD len;

	if (!CryptGenKey(d->prov, AT_KEYEXCHANGE, DEMO_BITS << 16 | CRYPT_EXPORTABLE, exchange)) {
		*exchange = 0;
		demo_api_failure(d, GetLastError(), "genkey exchange (exportable)");
	} else {
		demo_result(d, "ok", "genkey: %d-bit exportable exchange key pair", DEMO_BITS);
	}
	if (!CryptGenKey(d->prov, AT_SIGNATURE, DEMO_BITS << 16, signature)) {
		*signature = 0;
		demo_api_failure(d, GetLastError(), "genkey signature");
	} else {
		demo_result(d, "ok", "genkey: %d-bit non-exportable signature key pair", DEMO_BITS);
	}
	if (*exchange != 0) {
		blob = demo_export(d, *exchange, 0, PUBLICKEYBLOB, 0, "exchange.publickeyblob",
				   "PUBLICKEYBLOB of the exchange key", &len);
		if (blob != NULL) {
			demo_check_openssl(d, blob, len, "exchange.publickeyblob", false);
			free(blob);
		}
		blob = demo_export(d, *exchange, 0, PRIVATEKEYBLOB, 0, "exchange.privatekeyblob",
				   "PRIVATEKEYBLOB of the exchange key", &len);
		if (blob != NULL) {
			demo_check_openssl(d, blob, len, "exchange.privatekeyblob", true);
			tool_free_secret(blob, len);
		}
	}
	if (*signature != 0) {
		len = 0;
		if (CryptExportKey(*signature, 0, PRIVATEKEYBLOB, 0, NULL, &len))
			demo_result(d, "FAIL", "PRIVATEKEYBLOB of a non-exportable key was allowed");
		else if (GetLastError() == NTE_BAD_KEY_STATE)
			demo_result(d, "ok", "PRIVATEKEYBLOB of the non-exportable signature key is "
				    "refused: NTE_BAD_KEY_STATE");
		else
			demo_api_failure(d, GetLastError(), "refusal of a non-exportable export");
	}
}

/* CryptSignHash with the non-exportable signature key, checked by openssl
 * against the key's PUBLICKEYBLOB, and by CryptVerifySignature. */
static void demo_sign(struct demo *d, HCRYPTKEY signature)
{
	static const char message[] = "capi11 demo: signed on the token\n";
	char msg[512], sig[512], pub[512], log[600];
	const char *to_pem[] = { d->openssl, "rsa", "-pubin", "-inform", "MSBLOB", "-in", pub,
				 "-out", NULL, NULL };
	char pem[600];
	const char *verify[] = { d->openssl, "dgst", "-sha256", "-verify", pem, "-signature", sig,
				 msg, NULL };
	HCRYPTHASH h = 0;
	BYTE s[512], be[512], *blob;
	DWORD len = sizeof s, blob_len;

	snprintf(msg, sizeof msg, "%s", demo_file(d, "message.txt"));
	snprintf(sig, sizeof sig, "%s", demo_file(d, "message.sig"));
	snprintf(pub, sizeof pub, "%s", demo_file(d, "signature.publickeyblob"));
	snprintf(pem, sizeof pem, "%s.pem", pub);
	snprintf(log, sizeof log, "%s.log", sig);
	to_pem[8] = pem;
	if (!CryptCreateHash(d->prov, CALG_SHA_256, 0, 0, &h) ||
	    !CryptHashData(h, (const BYTE *)message, sizeof message - 1, 0) ||
	    !CryptSignHash(h, AT_SIGNATURE, NULL, 0, s, &len)) {
		demo_api_failure(d, GetLastError(), "CryptSignHash with the signature key");
		goto out;
	}
	/* Windows stores signatures little-endian; openssl reads big-endian. */
	for (DWORD i = 0; i < len; i++)
		be[i] = s[len - 1 - i];
	blob = demo_export(d, signature, 0, PUBLICKEYBLOB, 0, "signature.publickeyblob",
			   "PUBLICKEYBLOB of the signature key", &blob_len);
	if (blob == NULL)
		goto out;
	free(blob);
	if (!demo_write(d, "message.txt", message, sizeof message - 1) ||
	    !demo_write(d, "message.sig", be, len)) {
		demo_result(d, "FAIL", "cannot write the message and its signature");
		goto out;
	}
	if (demo_run(to_pem, log) != 0 || demo_run(verify, log) != 0) {
		demo_result(d, "FAIL", "openssl dgst -verify rejects CryptSignHash's signature "
			    "(see %s)", log);
		goto out;
	}
	demo_result(d, "ok", "CryptSignHash (SHA-256, signature key): openssl dgst -verify "
		    "accepts it, byte-reversed");
	CryptDestroyHash(h);
	h = 0;
	if (!CryptCreateHash(d->prov, CALG_SHA_256, 0, 0, &h) ||
	    !CryptHashData(h, (const BYTE *)message, sizeof message - 1, 0) ||
	    !CryptVerifySignature(h, s, len, signature, NULL, 0)) {
		demo_api_failure(d, GetLastError(), "CryptVerifySignature");
		goto out;
	}
	demo_result(d, "ok", "CryptVerifySignature accepts it too");
out:
	if (h != 0)
		CryptDestroyHash(h);
}

static void demo_simple(struct demo *d, HCRYPTKEY exchange, bool oaep)
{
	const char *name = oaep ? "aes128.simpleblob-oaep" : "aes128.simpleblob";
	HCRYPTKEY session = 0, back = 0;
	BYTE *blob;
	DWORD len;

	if (!CryptGenKey(d->prov, CALG_AES_128, CRYPT_EXPORTABLE, &session)) {
		demo_api_failure(d, GetLastError(), "AES-128 session key");
		return;
	}
	blob = demo_export(d, session, exchange, SIMPLEBLOB, oaep ? CRYPT_OAEP : 0, name,
			   oaep ? "SIMPLEBLOB (OAEP)" : "SIMPLEBLOB (PKCS#1 v1.5)", &len);
	if (blob == NULL)
		goto out;
	if (!CryptImportKey(d->prov, blob, len, exchange, CRYPT_EXPORTABLE | (oaep ? CRYPT_OAEP : 0),
			    &back))
		demo_api_failure(d, GetLastError(), "import of the SIMPLEBLOB");
	else if (!demo_same_value(session, back))
		demo_result(d, "FAIL", "%s: the imported key differs", name);
	else
		demo_result(d, "ok", "%s: %s, imported back with the exchange key, same key",
			    name, oaep ? "RSA-OAEP" : "RSA PKCS#1 v1.5");
	free(blob);
out:
	if (back)
		CryptDestroyKey(back);
	CryptDestroyKey(session);
}

static void demo_plaintext(struct demo *d)
{
	HCRYPTKEY session = 0, back = 0;
	BYTE *blob;
	DWORD len;

	if (!CryptGenKey(d->prov, CALG_3DES, CRYPT_EXPORTABLE, &session)) {
		demo_api_failure(d, GetLastError(), "3DES session key");
		return;
	}
	blob = demo_export(d, session, 0, PLAINTEXTKEYBLOB, 0, "3des.plaintextkeyblob",
			   "PLAINTEXTKEYBLOB", &len);
	if (blob != NULL) {
		if (!CryptImportKey(d->prov, blob, len, 0, CRYPT_EXPORTABLE, &back))
			demo_api_failure(d, GetLastError(), "import of the PLAINTEXTKEYBLOB");
		else if (!demo_same_value(session, back))
			demo_result(d, "FAIL", "PLAINTEXTKEYBLOB: the imported key differs");
		else
			demo_result(d, "ok", "3des.plaintextkeyblob: 24 key bytes, imported back");
		tool_free_secret(blob, len);
	}
	if (back)
		CryptDestroyKey(back);
	CryptDestroyKey(session);
}

/* SYMMETRICWRAPKEYBLOB and OPAQUEKEYBLOB under a wrap-only AES-256 key. */
static void demo_wrapped(struct demo *d, HCRYPTKEY exchange)
{
	HCRYPTKEY kek = 0, session = 0, back = 0;
	BYTE *blob;
	DWORD len;

	if (!CryptGenKey(d->prov, CALG_AES_256, CRYPT_KEK, &kek)) {
		demo_api_failure(d, GetLastError(), "wrap-only AES-256 key (CRYPT_KEK)");
		return;
	}
	if (!CryptGenKey(d->prov, CALG_AES_128, CRYPT_EXPORTABLE, &session)) {
		demo_api_failure(d, GetLastError(), "AES-128 session key");
		goto out;
	}
	blob = demo_export(d, session, kek, SYMMETRICWRAPKEYBLOB, 0, "aes128.symmetricwrapkeyblob",
			   "SYMMETRICWRAPKEYBLOB under AES-256", &len);
	if (blob != NULL) {
		if (!CryptImportKey(d->prov, blob, len, kek, CRYPT_EXPORTABLE, &back))
			demo_api_failure(d, GetLastError(), "import of the SYMMETRICWRAPKEYBLOB");
		else if (!demo_same_value(session, back))
			demo_result(d, "FAIL", "aes128.symmetricwrapkeyblob: the imported key differs");
		else
			demo_result(d, "ok", "aes128.symmetricwrapkeyblob: RFC 3394 wrap, imported back, same key");
		if (back)
			CryptDestroyKey(back);
		back = 0;
		free(blob);
	}
	blob = demo_export(d, session, kek, OPAQUEKEYBLOB, 0, "aes128.opaquekeyblob",
			   "OPAQUEKEYBLOB of an AES-128 key", &len);
	if (blob != NULL) {
		if (!CryptImportKey(d->prov, blob, len, kek, CRYPT_EXPORTABLE, &back))
			demo_api_failure(d, GetLastError(), "import of the OPAQUEKEYBLOB");
		else if (!demo_same_value(session, back))
			demo_result(d, "FAIL", "aes128.opaquekeyblob: the imported key differs");
		else
			demo_result(d, "ok", "aes128.opaquekeyblob: wrapped on the token, imported back, same key");
		free(blob);
	}
	if (exchange != 0) {
		blob = demo_export(d, exchange, kek, OPAQUEKEYBLOB, 0, "exchange.opaquekeyblob",
				   "OPAQUEKEYBLOB of the RSA exchange key", &len);
		if (blob != NULL) {
			demo_result(d, "ok", "exchange.opaquekeyblob: PKCS#8 wrapped on the token");
			free(blob);
		}
	}
out:
	if (back)
		CryptDestroyKey(back);
	if (session)
		CryptDestroyKey(session);
	CryptDestroyKey(kek);
}

/* Copies a session key into another context through its PLAINTEXTKEYBLOB. */
static bool demo_copy_key(HCRYPTKEY key, HCRYPTPROV to, HCRYPTKEY *copy)
{
	DWORD len = 0;
	BYTE *blob;
	bool ok;

	if (!CryptExportKey(key, 0, PLAINTEXTKEYBLOB, 0, NULL, &len) ||
	    (blob = calloc(1, len)) == NULL)
		return false;
	ok = CryptExportKey(key, 0, PLAINTEXTKEYBLOB, 0, blob, &len) &&
	     CryptImportKey(to, blob, len, 0, 0, copy);
	tool_free_secret(blob, len);
	return ok;
}

/* The exchange key's PRIVATEKEYBLOB encrypted under an AES session key,
 * imported into a second container and compared by its public key. */
static void demo_encrypted_private(struct demo *d, HCRYPTKEY exchange)
{
	HCRYPTKEY session = 0, back = 0, copy_session = 0;
	HCRYPTPROV copy = 0;
	BYTE *blob = NULL, *pub_a = NULL, *pub_b = NULL;
	DWORD len = 0, size = 0, al = 0, bl = 0;

	if (!CryptGenKey(d->prov, CALG_AES_256, CRYPT_EXPORTABLE, &session)) {
		demo_api_failure(d, GetLastError(), "AES-256 session key");
		return;
	}
	if (!CryptExportKey(exchange, session, PRIVATEKEYBLOB, 0, NULL, &size)) {
		demo_api_failure(d, GetLastError(), "encrypted PRIVATEKEYBLOB");
		goto out;
	}
	blob = calloc(1, size);
	len = size;
	if (blob == NULL || !CryptExportKey(exchange, session, PRIVATEKEYBLOB, 0, blob, &len)) {
		demo_api_failure(d, GetLastError(), "encrypted PRIVATEKEYBLOB");
		goto out;
	}
	demo_write(d, "exchange.privatekeyblob-aes256", blob, len);
	/* Only the header is clear text; dump would (rightly) call the rest
	 * malformed. */
	if (!d->quiet)
		printf("\n--- exchange.privatekeyblob-aes256: BLOBHEADER %02x %02x %02x%02x "
		       "%02x%02x%02x%02x, then %lu encrypted bytes\n", blob[0], blob[1], blob[3],
		       blob[2], blob[7], blob[6], blob[5], blob[4], (unsigned long)len - 8);
	if (!CryptAcquireContext(&copy, DEMO_CONTAINER "-copy", d->uri, PROV_RSA_AES,
				 CRYPT_NEWKEYSET)) {
		demo_api_failure(d, GetLastError(), "container for the copy");
		goto out;
	}
	/* Session keys belong to their context: the copy's context gets the
	 * AES key through a PLAINTEXTKEYBLOB first. */
	if (!demo_copy_key(session, copy, &copy_session)) {
		demo_api_failure(d, GetLastError(), "AES key into the copy's context");
		goto out;
	}
	if (!CryptImportKey(copy, blob, len, copy_session, 0, &back)) {
		demo_api_failure(d, GetLastError(), "import of the encrypted PRIVATEKEYBLOB");
		goto out;
	}
	CryptExportKey(exchange, 0, PUBLICKEYBLOB, 0, NULL, &al);
	CryptExportKey(back, 0, PUBLICKEYBLOB, 0, NULL, &bl);
	pub_a = calloc(1, al ? al : 1);
	pub_b = calloc(1, bl ? bl : 1);
	if (pub_a && pub_b && al == bl && CryptExportKey(exchange, 0, PUBLICKEYBLOB, 0, pub_a, &al) &&
	    CryptExportKey(back, 0, PUBLICKEYBLOB, 0, pub_b, &bl) && memcmp(pub_a, pub_b, al) == 0)
		demo_result(d, "ok", "exchange.privatekeyblob-aes256: encrypted PRIVATEKEYBLOB, "
			    "imported into container %s-copy, same key pair", DEMO_CONTAINER);
	else
		demo_result(d, "FAIL", "encrypted PRIVATEKEYBLOB: the imported key pair differs");
out:
	free(pub_a);
	free(pub_b);
	if (back)
		CryptDestroyKey(back);
	if (copy_session)
		CryptDestroyKey(copy_session);
	if (copy) {
		HCRYPTPROV gone;

		CryptReleaseContext(copy, 0);
		CryptAcquireContext(&gone, DEMO_CONTAINER "-copy", d->uri, PROV_RSA_AES,
				    CRYPT_DELETEKEYSET);
	}
	tool_free_secret(blob, size);
	CryptDestroyKey(session);
}

/* The wrap job: a session key for a recipient, and data under it. */
static void demo_wrap_data(struct demo *d, HCRYPTKEY exchange)
{
	static const char message[] = "capi11 demo: data encrypted under a wrapped session key";
	BYTE buf[128];
	HCRYPTKEY session = 0, back = 0;
	BYTE *blob;
	DWORD len, n = sizeof(message) - 1;

	if (!CryptGenKey(d->prov, CALG_AES_256, CRYPT_EXPORTABLE, &session)) {
		demo_api_failure(d, GetLastError(), "AES-256 session key");
		return;
	}
	blob = demo_export(d, session, exchange, SIMPLEBLOB, 0, "wrap.simpleblob",
			   "wrap: SIMPLEBLOB of an AES-256 key", &len);
	if (blob == NULL)
		goto out;
	memcpy(buf, message, n);
	if (!CryptEncrypt(session, 0, TRUE, 0, buf, &n, sizeof buf)) {
		demo_api_failure(d, GetLastError(), "wrap: CryptEncrypt of the data");
		goto out;
	}
	demo_write(d, "wrap.data", buf, n);
	if (!CryptImportKey(d->prov, blob, len, exchange, 0, &back) ||
	    !CryptDecrypt(back, 0, TRUE, 0, buf, &n)) {
		demo_api_failure(d, GetLastError(), "wrap: unwrap and decrypt");
		goto out;
	}
	if (n == sizeof(message) - 1 && memcmp(buf, message, n) == 0)
		demo_result(d, "ok", "wrap: data encrypted under the session key decrypts after "
			    "unwrapping the SIMPLEBLOB");
	else
		demo_result(d, "FAIL", "wrap: the decrypted data differs");
out:
	free(blob);
	if (back)
		CryptDestroyKey(back);
	CryptDestroyKey(session);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static bool demo_token_new(struct demo *d, const char *module, const char *util)
{
	char tokens[128], conf[128], log[128];
	/* No PIN in argv: softhsm2-util prompts for the SO PIN and the user
	 * PIN, each twice, and gets them through a terminal. */
	const char *init[] = { util, "--init-token", "--free", "--label", DEMO_LABEL, NULL };
	const char *pins = DEMO_SO_PIN "\n" DEMO_SO_PIN "\n" DEMO_PIN "\n" DEMO_PIN "\n";
	FILE *f;
	size_t n;

	snprintf(d->dir, sizeof d->dir, "/tmp/capi11-demo-XXXXXX");
	if (mkdtemp(d->dir) == NULL) {
		tool_error("cannot create a temporary directory: %s", strerror(errno));
		return false;
	}
	snprintf(tokens, sizeof tokens, "%s/tokens", d->dir);
	snprintf(conf, sizeof conf, "%s/softhsm2.conf", d->dir);
	snprintf(log, sizeof log, "%s/softhsm2-util.log", d->dir);
	if (mkdir(tokens, 0700) != 0 || (f = fopen(conf, "w")) == NULL) {
		tool_error("cannot prepare %s", d->dir);
		return false;
	}
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
		tokens);
	fclose(f);
	setenv("SOFTHSM2_CONF", conf, 1);
	/* Keep the operator's capi11.conf out of the demo. */
	if (!demo_write(d, "capi11.conf", "", 0) || !demo_write(d, "pin", DEMO_PIN "\n", 5))
		return false;
	setenv("CAPI11_CONF", demo_file(d, "capi11.conf"), 1);
	if (demo_run_tty(init, pins, log) != 0) {
		tool_error("%s --init-token failed (see %s)", util, log);
		return false;
	}
	n = strlen(module) + strlen(d->dir) + 128;
	d->uri = malloc(n);
	if (d->uri == NULL)
		return false;
	snprintf(d->uri, n, "pkcs11:token=" DEMO_LABEL "?module-path=%s&pin-source=%s/pin", module,
		 d->dir);
	printf("token %s in %s\nprovider %s\n\n", DEMO_LABEL, d->dir, d->uri);
	return true;
}

int cmd_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "keep", no_argument, NULL, OPT_FIRST_OWN },
		{ "quiet", no_argument, NULL, OPT_FIRST_OWN + 1 },
		{ NULL, 0, NULL, 0 },
	};
	const char *module = env_or("CAPI11_SOFTHSM_MODULE", SOFTHSM_MODULE);
	const char *util = env_or("CAPI11_SOFTHSM2_UTIL", SOFTHSM2_UTIL);
	struct demo d = { .quiet = false };
	HCRYPTKEY exchange = 0, signature = 0;
	bool keep = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(demo_help, stdout);
			return EXIT_OK;
		} else if (opt == OPT_FIRST_OWN) {
			keep = true;
		} else if (opt == OPT_FIRST_OWN + 1) {
			d.quiet = true;
		} else if (opt != 'v') {
			return tool_usage_error("demo", "unknown option");
		}
	}
	if (optind < argc)
		return tool_usage_error("demo", "unexpected argument '%s'", argv[optind]);
	if (module[0] == '\0' || access(module, R_OK) != 0) {
		tool_error("SoftHSM module '%s' not found: install softhsm2 or set "
			   "CAPI11_SOFTHSM_MODULE", module);
		return EXIT_FAIL;
	}
	if (util[0] == '\0' || access(util, X_OK) != 0) {
		tool_error("softhsm2-util '%s' not found: install softhsm2 or set "
			   "CAPI11_SOFTHSM2_UTIL", util);
		return EXIT_FAIL;
	}
	if (!demo_find_openssl(&d)) {
		tool_error("openssl not found: install openssl or set CAPI11_OPENSSL");
		return EXIT_FAIL;
	}
	if (!demo_token_new(&d, module, util)) {
		d.failed++;
		goto out;
	}
	if (!CryptAcquireContext(&d.prov, DEMO_CONTAINER, d.uri, PROV_RSA_AES, CRYPT_NEWKEYSET)) {
		d.prov = 0;
		demo_api_failure(&d, GetLastError(), "container " DEMO_CONTAINER);
		goto out;
	}
	demo_result(&d, "ok", "container %s created (PIN from the URI's pin-source)",
		    DEMO_CONTAINER);
	demo_key_pairs(&d, &exchange, &signature);
	if (signature != 0)
		demo_sign(&d, signature);
	if (exchange != 0) {
		demo_simple(&d, exchange, false);
		demo_simple(&d, exchange, true);
	}
	demo_plaintext(&d);
	demo_wrapped(&d, exchange);
	if (exchange != 0) {
		demo_encrypted_private(&d, exchange);
		demo_wrap_data(&d, exchange);
	}
out:
	if (exchange)
		CryptDestroyKey(exchange);
	if (signature)
		CryptDestroyKey(signature);
	if (d.prov) {
		HCRYPTPROV gone;

		CryptReleaseContext(d.prov, 0);
		CryptAcquireContext(&gone, DEMO_CONTAINER, d.uri, PROV_RSA_AES, CRYPT_DELETEKEYSET);
	}
	if (d.dir[0] != '\0' && !keep)
		nftw(d.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	else if (d.dir[0] != '\0')
		printf("kept %s\n", d.dir);
	printf("\n%d ok, %d skipped, %d failed%s\n", d.ok, d.skipped, d.failed,
	       keep ? "" : "; token removed");
	free(d.uri);
	return d.failed ? EXIT_FAIL : EXIT_OK;
}
