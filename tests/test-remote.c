/* A token exported with `p11-kit server` and reached through p11-kit's
 * client module (issue 13, "Remote tokens"): the same throwaway SoftHSM
 * token, the same calls, the same answers as on the direct route.
 *
 * The test starts `p11-kit server --foreground` for its token as a child
 * process (its own process group, a socket in the fixture directory),
 * sets P11_KIT_SERVER_ADDRESS before capi11 first loads the client module
 * (the module reads it in C_GetFunctionList), and names the token with a
 * URI whose module-path is p11-kit-client.so; SoftHSM itself is never
 * loaded into this process. The server is killed and reaped by the
 * suite's cleanup; should this process die first, the server's --timeout
 * ends it once the last connection has gone.
 *
 * Expected values come from outside capi11: the modulus SoftHSM reports
 * for the key, read directly with pkcs11-tool and decoded by openssl,
 * against openssl's reading of the exported MSBLOBs; ciphertexts from
 * `openssl enc`; the errors from SPEC section 2 and README (stale handles
 * after fork: ERROR_INVALID_PARAMETER). A forked child reports failures as
 * bits of its exit status, each printed by name, as in test-fork.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* asprintf */
#endif
#include "config.h"
#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wincrypt.h>

extern char **environ;

/* The server exits this long after its last client has gone. */
#define SERVER_IDLE_SECONDS "60"
/* How long the server may take to listen, and to stop. */
#define SERVER_START_MS 10000
#define SERVER_STOP_MS 5000
/* A child that hangs is killed. */
#define CHILD_SECONDS 30

static char *label, *uri, *sock_path;
static pid_t server_pid = -1;
static BYTE *priv_blob, *pub_blob, *aes_key;
static DWORD priv_len, pub_len, aes_len;
static BYTE plain_blob[12 + 16];

/* ---- The server ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Whether a client can connect to the socket now. */
static bool server_listening(const char *path)
{
	struct sockaddr_un sa;
	int fd, rc;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path)
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	return rc == 0;
}

/* Stops the server and the p11-kit-remote processes it forked for its
 * connections (all in its process group), reaps it, and returns once no
 * process of the group is left. */
static void server_stop(void)
{
	int status, waited = 0;

	if (server_pid <= 0)
		return;
	kill(-server_pid, SIGTERM);
	while (waitpid(server_pid, &status, WNOHANG) == 0) {
		if (waited >= SERVER_STOP_MS) {
			kill(-server_pid, SIGKILL);
			waitpid(server_pid, &status, 0);
			break;
		}
		sleep_ms(20);
		waited += 20;
	}
	/* The p11-kit-remote processes are the server's children: once it
	 * has gone, init reaps them. */
	for (waited = 0; kill(-server_pid, 0) == 0; waited += 20) {
		if (waited == SERVER_STOP_MS)
			kill(-server_pid, SIGKILL);
		if (waited >= 2 * SERVER_STOP_MS)
			break;
		sleep_ms(20);
	}
	server_pid = -1;
	if (sock_path)
		unlink(sock_path);
}

/* `p11-kit server --foreground` for the token, its output in
 * p11-kit-server.log of the fixture directory; returns once it accepts
 * connections. False when it exited or did not listen in time. */
static bool server_start(void)
{
	char *token_uri = NULL, *log_path = NULL;
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	bool ok = false;
	int waited;

	free(sock_path);
	sock_path = NULL;
	if (asprintf(&token_uri, "pkcs11:token=%s", label) < 0 ||
	    asprintf(&log_path, "%s/p11-kit-server.log", fixture_dir()) < 0 ||
	    asprintf(&sock_path, "%s/p11-kit.sock", fixture_dir()) < 0)
		return false;
	if (strlen(sock_path) >= sizeof((struct sockaddr_un *)0)->sun_path) {
		fprintf(stderr, "socket path too long: %s\n", sock_path);
		goto out;
	}
	{
		char *const argv[] = {
			(char *)P11_KIT_BIN, (char *)"server", (char *)"--foreground",
			(char *)"--name", sock_path,
			(char *)"--provider", (char *)SOFTHSM_MODULE,
			(char *)"--timeout", (char *)SERVER_IDLE_SECONDS,
			token_uri, NULL,
		};

		posix_spawn_file_actions_init(&actions);
		posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path,
						 O_WRONLY | O_CREAT | O_APPEND, 0600);
		posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
		posix_spawnattr_init(&attr);
		/* A group of its own, so that stopping it reaches the
		 * p11-kit-remote process of every connection too. */
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setpgroup(&attr, 0);
		/* SOFTHSM2_CONF goes with the environment, to the server and
		 * from it to p11-kit-remote, which loads SoftHSM. */
		if (posix_spawn(&server_pid, P11_KIT_BIN, &actions, &attr, argv, environ) != 0)
			server_pid = -1;
		posix_spawnattr_destroy(&attr);
		posix_spawn_file_actions_destroy(&actions);
	}
	if (server_pid <= 0)
		goto out;
	for (waited = 0; waited < SERVER_START_MS; waited += 20) {
		int status;

		if (waitpid(server_pid, &status, WNOHANG) == server_pid) {
			fprintf(stderr, "p11-kit server exited at once (see %s)\n", log_path);
			server_pid = -1;
			goto out;
		}
		if (server_listening(sock_path)) {
			ok = true;
			break;
		}
		sleep_ms(20);
	}
	if (!ok) {
		fprintf(stderr, "p11-kit server did not listen on %s (see %s)\n", sock_path,
			log_path);
		server_stop();
	}
out:
	free(token_uri);
	free(log_path);
	return ok;
}

/* ---- Helpers ---- */

/* "Modulus=HEX" as openssl prints it, without the newline; malloc'd. */
static char *modulus_line(char *out)
{
	char *nl;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	CU_ASSERT_EQUAL(strncmp(out, "Modulus=", 8), 0);
	return out;
}

/* The modulus of an MSBLOB as openssl reads it. */
static char *openssl_blob_modulus(const BYTE *blob, DWORD len, bool public)
{
	char *path = testutil_temp_write("blob", blob, len);
	int st = -1;
	char *out = fixture_capture(&st, "%s rsa %s -inform MSBLOB -noout -modulus -in %s",
				    OPENSSL_BIN, public ? "-pubin" : "", path);

	CU_ASSERT_EQUAL(st, 0);
	free(path);
	return modulus_line(out);
}

/* The modulus of the public key labelled name, as SoftHSM reports it on
 * the direct route: pkcs11-tool with the SoftHSM module, decoded by
 * openssl. */
static char *direct_pubkey_modulus(const char *name)
{
	static int n;
	char file[4200], *path, *q_name, *out;
	int st;

	snprintf(file, sizeof file, "%s/direct-pub-%d.der", fixture_dir(), n++);
	path = fixture_quote(file);
	q_name = fixture_quote(name);
	st = fixture_pkcs11_tool(label, true, NULL, "--read-object --type pubkey --label %s -o %s",
				 q_name, path);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	out = fixture_capture(&st, "%s rsa -pubin -inform DER -noout -modulus -in %s",
			      OPENSSL_BIN, path);
	CU_ASSERT_EQUAL(st, 0);
	free(q_name);
	free(path);
	return modulus_line(out);
}

static HCRYPTPROV acquire(const char *container, DWORD flags)
{
	HCRYPTPROV h = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, container, uri, PROV_RSA_AES, flags));
	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	return h;
}

static void delete_keyset(const char *container)
{
	HCRYPTPROV h = 1;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, container, uri, PROV_RSA_AES, CRYPT_DELETEKEYSET));
	CU_ASSERT_EQUAL(h, 0);
}

/* ---- The route itself ---- */

/* Nothing in this process talks to SoftHSM: every call goes through the
 * client module and the socket. */
static void test_softhsm_not_loaded(void)
{
	HCRYPTPROV h = acquire(NULL, CRYPT_VERIFYCONTEXT);
	BYTE buf[64];
	DWORD len = sizeof buf;
	char line[4200];
	int client = 0, softhsm = 0;
	FILE *maps;

	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_PROVTYPE, buf, &len, 0));
	/* /proc files have no size: read them line by line. */
	maps = fopen("/proc/self/maps", "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(maps);
	while (fgets(line, sizeof line, maps) != NULL) {
		client += strstr(line, "/p11-kit-client.so") != NULL;
		softhsm += strstr(line, "libsofthsm2") != NULL;
	}
	fclose(maps);
	CU_ASSERT(client > 0);
	CU_ASSERT_EQUAL(softhsm, 0);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- Containers (SPEC 2, flags of CryptAcquireContext) ---- */

/* How many data objects labelled name SoftHSM holds, read directly with
 * pkcs11-tool (which quotes the labels of data objects). */
static int direct_marker_count(const char *name)
{
	char *out = NULL, *line, *save = NULL, *quoted;
	int count = 0;
	int st = fixture_pkcs11_tool(label, true, &out, "--list-objects --type data");

	CU_ASSERT_EQUAL_FATAL(st, 0);
	CU_ASSERT_FATAL(asprintf(&quoted, "'%s'", name) > 0);
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, "label:");

		if (p == NULL)
			continue;
		p += strlen("label:");
		p += strspn(p, " \t");
		count += strcmp(p, quoted) == 0;
	}
	free(quoted);
	free(out);
	return count;
}

static void test_acquire_flags(void)
{
	const char *name = "remote-keyset";
	HCRYPTPROV h = 0, h2 = 0;
	char buf[256];
	DWORD len = sizeof buf;

	/* Missing: NTE_BAD_KEYSET; new: TRUE; again: NTE_EXISTS. */
	CHECK_FAILS_WITH(CryptAcquireContextA(&h2, name, uri, PROV_RSA_AES, 0), NTE_BAD_KEYSET);
	h = acquire(name, CRYPT_NEWKEYSET);
	CHECK_FAILS_WITH(CryptAcquireContextA(&h2, name, uri, PROV_RSA_AES, CRYPT_NEWKEYSET),
			 NTE_EXISTS);
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_CONTAINER, (BYTE *)buf, &len, 0));
	CU_ASSERT_STRING_EQUAL(buf, name);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	/* It is on the token: opened again, and listed. */
	h = acquire(name, 0);
	len = sizeof buf;
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_UNIQUE_CONTAINER, (BYTE *)buf, &len, 0));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\\remote-keyset"));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_EQUAL(direct_marker_count(name), 1);

	/* Deleted: TRUE with *phProv = 0; then gone. */
	delete_keyset(name);
	CU_ASSERT_EQUAL(direct_marker_count(name), 0);
	CHECK_FAILS_WITH(CryptAcquireContextA(&h2, name, uri, PROV_RSA_AES, 0), NTE_BAD_KEYSET);
	CHECK_FAILS_WITH(CryptAcquireContextA(&h2, name, uri, PROV_RSA_AES, CRYPT_DELETEKEYSET),
			 NTE_BAD_KEYSET);
}

/* ---- Key pairs and their blobs ---- */

static void check_public_blob(const BYTE *b, DWORD len, ALG_ID alg, DWORD bits)
{
	CU_ASSERT_EQUAL_FATAL(len, 20 + bits / 8);
	CU_ASSERT_EQUAL(b[0], PUBLICKEYBLOB);
	CU_ASSERT_EQUAL(b[1], 2);
	CU_ASSERT_EQUAL(testutil_le32(b + 4), alg);
	CU_ASSERT_EQUAL(memcmp(b + 8, "RSA1", 4), 0);
	CU_ASSERT_EQUAL(testutil_le32(b + 12), bits);
	CU_ASSERT_EQUAL(testutil_le32(b + 16), 65537);
}

/* CryptGenKey for one spec in a new container; the PUBLICKEYBLOB, read by
 * openssl, carries the modulus SoftHSM holds for the key. */
static void genkey_spec(const char *name, DWORD spec, ALG_ID alg, DWORD bits, DWORD flags)
{
	HCRYPTPROV h = acquire(name, CRYPT_NEWKEYSET);
	HCRYPTKEY k = 0, u = 0;
	char *want, *got;
	BYTE *blob;
	DWORD len;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, spec, (bits << 16) | flags, &k));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, spec, &u));
	blob = testutil_blob_export(u, 0, PUBLICKEYBLOB, 0, &len);
	check_public_blob(blob, len, alg, bits);
	want = direct_pubkey_modulus(name);
	got = openssl_blob_modulus(blob, len, true);
	CU_ASSERT_STRING_EQUAL(got, want);
	/* The other spec is not there. */
	CHECK_FAILS_WITH(CryptGetUserKey(h, spec == AT_KEYEXCHANGE ? AT_SIGNATURE : AT_KEYEXCHANGE,
					 &u),
			 NTE_NO_KEY);
	free(got);
	free(want);
	free(blob);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static void test_genkey_exchange(void)
{
	genkey_spec("remote-kx", AT_KEYEXCHANGE, CALG_RSA_KEYX, 1024, CRYPT_EXPORTABLE);
	delete_keyset("remote-kx");
}

static void test_genkey_signature(void)
{
	genkey_spec("remote-sig", AT_SIGNATURE, CALG_RSA_SIGN, 2048, 0);
	delete_keyset("remote-sig");
}

/* An exportable pair leaves as a PRIVATEKEYBLOB openssl accepts, with the
 * token's modulus; a pair made without CRYPT_EXPORTABLE does not leave
 * (NTE_BAD_KEY_STATE, README "Key blobs"). */
static void test_private_blob(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k = 0;
	BYTE *blob, buf[16];
	DWORD len;
	char *path, *out, *want, *got;
	int st = -1;

	genkey_spec("remote-priv", AT_KEYEXCHANGE, CALG_RSA_KEYX, 1024, CRYPT_EXPORTABLE);
	h = acquire("remote-priv", 0);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	blob = testutil_blob_export(k, 0, PRIVATEKEYBLOB, 0, &len);
	CU_ASSERT_EQUAL(blob[0], PRIVATEKEYBLOB);
	CU_ASSERT_EQUAL(memcmp(blob + 8, "RSA2", 4), 0);
	path = testutil_temp_write("priv", blob, len);
	out = fixture_capture(&st, "%s rsa -inform MSBLOB -check -noout -in %s", OPENSSL_BIN,
			      path);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(out != NULL ? strstr(out, "RSA key ok") : NULL);
	want = direct_pubkey_modulus("remote-priv");
	got = openssl_blob_modulus(blob, len, false);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
	free(want);
	free(out);
	free(path);
	free(blob);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	delete_keyset("remote-priv");

	h = acquire("remote-fixed", CRYPT_NEWKEYSET);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024u << 16, &k));
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, NULL, &len), NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	delete_keyset("remote-fixed");
}

/* ---- Session keys ---- */

/* openssl enc -e of in under the AES-128 key, PKCS#5 padding, with a zero
 * IV for CBC; true when it ran and wrote exactly out_len bytes to out. */
static bool openssl_aes128(const char *cipher, bool cbc, const BYTE *in, size_t in_len,
			   BYTE *out, DWORD out_len)
{
	char key_hex[33], *in_path, *out_path;
	BYTE *ct;
	DWORD len = 0;
	bool ok;

	testutil_hex_put(key_hex, aes_key, 16);
	in_path = testutil_temp_write("aes-in", in, in_len);
	out_path = testutil_temp_path("aes-out");
	ok = fixture_run("%s enc %s -K %s%s -in %s -out %s", OPENSSL_BIN, cipher, key_hex,
			 cbc ? " -iv 00000000000000000000000000000000" : "", in_path,
			 out_path) == 0;
	ct = ok ? testutil_file_load(out_path, &len) : NULL;
	ok = ct != NULL && len == out_len;
	if (ok)
		memcpy(out, ct, out_len);
	free(ct);
	free(out_path);
	free(in_path);
	return ok;
}

static const BYTE aes_msg[] = "a message of forty-one bytes for AES-128";
#define AES_CT_LEN ((DWORD)(sizeof aes_msg + 16 - sizeof aes_msg % 16))

/* k holds aes128.key: CryptEncrypt in this mode gives openssl's
 * ciphertext (PKCS#5 padding; CBC with a zero IV, the default), and
 * CryptDecrypt gives the message back. */
static void check_aes(HCRYPTKEY k, DWORD mode, const char *cipher)
{
	BYTE buf[sizeof aes_msg + 16], want[sizeof aes_msg + 16];
	DWORD len = sizeof aes_msg;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(k, KP_MODE, (const BYTE *)&mode, 0));
	memcpy(buf, aes_msg, sizeof aes_msg);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL_FATAL(len, AES_CT_LEN);
	CU_ASSERT_TRUE_FATAL(openssl_aes128(cipher, mode == CRYPT_MODE_CBC, aes_msg,
					    sizeof aes_msg, want, AES_CT_LEN));
	CU_ASSERT(memcmp(buf, want, AES_CT_LEN) == 0);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, sizeof aes_msg);
	CU_ASSERT(memcmp(buf, aes_msg, sizeof aes_msg) == 0);
}

/* Whether pkcs11-tool lists the mechanism (by its name there, e.g.
 * "AES-CBC") for the token: through p11-kit's client module when remote,
 * else directly with SoftHSM. */
static bool token_lists_mechanism(const char *name, bool remote)
{
	char *q_tool = fixture_quote(PKCS11_TOOL);
	char *q_module = fixture_quote(remote ? P11KIT_CLIENT_MODULE : SOFTHSM_MODULE);
	char *q_label = fixture_quote(label);
	char *out, *line, *save = NULL;
	size_t n = strlen(name);
	bool found = false;
	int st = -1;

	out = fixture_capture(&st, "%s --module %s --token-label %s -M", q_tool, q_module,
			      q_label);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " ");
		found |= strncmp(line, name, n) == 0 && line[n] == ',';
	}
	free(out);
	free(q_label);
	free(q_module);
	free(q_tool);
	return found;
}

static void test_aes_ecb(void)
{
	HCRYPTPROV h = acquire(NULL, CRYPT_VERIFYCONTEXT);
	HCRYPTKEY k = 0;

	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, plain_blob, sizeof plain_blob, 0, 0, &k));
	check_aes(k, CRYPT_MODE_ECB, "-aes-128-ecb");
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* CBC, the default mode. p11-kit 0.24.1 (Debian 12) carries no mechanism
 * with a parameter its RPC cannot encode, CKM_AES_CBC among them: its
 * client module leaves it out of C_GetMechanismList and refuses it
 * (CKR_MECHANISM_INVALID) before the server sees the call, while SoftHSM
 * has it. ECB passes, and capi11 composes CBC from it on the token (SPEC
 * section 7): either way CBC gives openssl's ciphertext, in one call and
 * streamed over several. */
static void test_aes_cbc(void)
{
	HCRYPTPROV h = acquire(NULL, CRYPT_VERIFYCONTEXT);
	HCRYPTKEY k = 0;
	BYTE buf[48 + 16], want[48 + 16];
	DWORD part, done;

	CU_ASSERT_TRUE(token_lists_mechanism("AES-CBC", false));
	CU_ASSERT_TRUE(token_lists_mechanism("AES-ECB", true));
	if (!token_lists_mechanism("AES-CBC", true))
		fprintf(stderr, "\n  p11-kit's client module does not pass CKM_AES_CBC: "
			"CBC composed from ECB on this route");
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, plain_blob, sizeof plain_blob, 0, 0, &k));
	check_aes(k, CRYPT_MODE_CBC, "-aes-128-cbc");

	/* 48 bytes of the message streamed as 16 + 16 + 16, Final last. */
	memcpy(buf, aes_msg, 41);
	memcpy(buf + 41, aes_msg, 7);
	CU_ASSERT_TRUE_FATAL(openssl_aes128("-aes-128-cbc", true, buf, 48, want, 64));
	for (done = 0; done < 48; done += part) {
		part = 16;
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptEncrypt(k, 0, done == 32, 0, buf + done, &part,
						  sizeof buf - done));
	}
	CU_ASSERT_EQUAL(done, 64);
	CU_ASSERT(memcmp(buf, want, 64) == 0);
	for (done = 0; done < 32; done += 16) {
		part = 16;
		CU_ASSERT_TRUE(CryptDecrypt(k, 0, FALSE, 0, buf + done, &part));
	}
	part = 32;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptDecrypt(k, 0, TRUE, 0, buf + 32, &part));
	CU_ASSERT_EQUAL(part, 16);
	CU_ASSERT(memcmp(buf, aes_msg, 41) == 0 && memcmp(buf + 41, aes_msg, 7) == 0);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* aes128.key, sent as a SIMPLEBLOB to the container's exchange key
 * (PKCS#1 v1.5, and OAEP), comes back by CryptImportKey with that key as
 * the same key: it encrypts as openssl does with aes128.key. As on the
 * direct route (test-blobkeys.c), a key that arrives wrapped is sensitive
 * whatever CRYPT_EXPORTABLE says. */
static void test_simpleblob_round_trip(void)
{
	static const DWORD flags[] = { 0, CRYPT_OAEP };
	HCRYPTPROV h = acquire("remote-simple", CRYPT_NEWKEYSET);
	HCRYPTKEY kx = 0;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, (1024u << 16), &kx));
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		HCRYPTKEY s = 0, back = 0;
		BYTE *simple;
		DWORD simple_len, len;

		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, plain_blob, sizeof plain_blob, 0,
						    CRYPT_EXPORTABLE, &s));
		simple = testutil_blob_export(s, kx, SIMPLEBLOB, flags[i], &simple_len);
		CU_ASSERT_EQUAL(simple_len, 8 + 4 + 128);
		CU_ASSERT_EQUAL(simple[0], SIMPLEBLOB);
		CU_ASSERT_EQUAL(testutil_le32(simple + 4), CALG_AES_128);
		CU_ASSERT_EQUAL(testutil_le32(simple + 8), CALG_RSA_KEYX);
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, simple, simple_len, kx,
						    CRYPT_EXPORTABLE | flags[i], &back));
		check_aes(back, CRYPT_MODE_ECB, "-aes-128-ecb");
		CHECK_FAILS_WITH(CryptExportKey(back, 0, PLAINTEXTKEYBLOB, 0, NULL, &len),
				 NTE_BAD_KEY_STATE);
		free(simple);
		CU_ASSERT_TRUE(CryptDestroyKey(back));
		CU_ASSERT_TRUE(CryptDestroyKey(s));
	}
	CU_ASSERT_TRUE(CryptDestroyKey(kx));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	delete_keyset("remote-simple");
}

/* What the client module does not carry (README, "Remote tokens"): with
 * no AES key wrap, neither SYMMETRICWRAPKEYBLOB under AES nor
 * OPAQUEKEYBLOB can be made (NTE_NOT_SUPPORTED), and the wrap-trust probe
 * finding none, sensitive keys never leave (CAPI11_PROTECTION_NO_WRAP).
 * Where the client carries the wrap, the exports work. */
static void test_route_limits(void)
{
	bool wrap = token_lists_mechanism("AES-KEY-WRAP", true);
	HCRYPTPROV h = acquire("remote-limits", CRYPT_NEWKEYSET);
	HCRYPTKEY s = 0, kek = 0, wrapper = 0;
	DWORD prot = 0, len = sizeof prot;
	BYTE buf[2048];

	CU_ASSERT_TRUE(token_lists_mechanism("AES-KEY-WRAP", false));
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_CAPI11_KEY_PROTECTION, (BYTE *)&prot, &len, 0));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, plain_blob, sizeof plain_blob, 0, CRYPT_EXPORTABLE,
					    &s));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_EXPORTABLE, &wrapper));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &kek));
	if (!wrap) {
		CU_ASSERT_EQUAL(prot, CAPI11_PROTECTION_NO_WRAP);
		len = sizeof buf;
		CHECK_FAILS_WITH(CryptExportKey(s, wrapper, SYMMETRICWRAPKEYBLOB, 0, buf, &len),
				 NTE_NOT_SUPPORTED);
		len = sizeof buf;
		CHECK_FAILS_WITH(CryptExportKey(s, kek, OPAQUEKEYBLOB, 0, buf, &len),
				 NTE_NOT_SUPPORTED);
	} else {
		len = sizeof buf;
		CU_ASSERT_TRUE(CryptExportKey(s, wrapper, SYMMETRICWRAPKEYBLOB, 0, buf, &len));
		len = sizeof buf;
		CU_ASSERT_TRUE(CryptExportKey(s, kek, OPAQUEKEYBLOB, 0, buf, &len));
	}
	CU_ASSERT_TRUE(CryptDestroyKey(kek));
	CU_ASSERT_TRUE(CryptDestroyKey(wrapper));
	CU_ASSERT_TRUE(CryptDestroyKey(s));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	delete_keyset("remote-limits");
}

/* A PRIVATEKEYBLOB encrypted under a session key goes through the cipher,
 * so it works on this route in CBC (composed from ECB where the client
 * lacks CKM_AES_CBC) as in ECB: after its BLOBHEADER, the blob is the
 * unencrypted PRIVATEKEYBLOB's body as `openssl enc -aes-128-cbc` (zero
 * IV, PKCS#5 padding) encrypts it, and it imports under the same key in
 * another container as the same pair. */
static void test_private_blob_encrypted(void)
{
	static const DWORD modes[] = { CRYPT_MODE_CBC, CRYPT_MODE_ECB };
	HCRYPTPROV h = acquire("remote-encpriv", CRYPT_NEWKEYSET), h2;
	HCRYPTKEY kx = 0, s = 0, s2 = 0, k2 = 0;
	BYTE *plain, *blob, *pub1, *pub2, *want;
	DWORD plain_len, blob_len, pub1_len, len;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, (1024u << 16) | CRYPT_EXPORTABLE, &kx));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, plain_blob, sizeof plain_blob, 0, 0, &s));
	plain = testutil_blob_export(kx, 0, PRIVATEKEYBLOB, 0, &plain_len);
	pub1 = testutil_blob_export(kx, 0, PUBLICKEYBLOB, 0, &pub1_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	h2 = acquire("remote-encpriv-2", CRYPT_NEWKEYSET);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, plain_blob, sizeof plain_blob, 0, 0, &s2));
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		bool cbc = modes[i] == CRYPT_MODE_CBC;

		CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(s, KP_MODE, (const BYTE *)&modes[i], 0));
		CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(s2, KP_MODE, (const BYTE *)&modes[i], 0));
		blob = testutil_blob_export(kx, s, PRIVATEKEYBLOB, 0, &blob_len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
		CU_ASSERT_EQUAL(blob[0], PRIVATEKEYBLOB);
		CU_ASSERT(memcmp(blob, plain, 8) == 0);
		len = (plain_len - 8) / 16 * 16 + 16;
		CU_ASSERT_EQUAL_FATAL(blob_len, 8 + len);
		want = malloc(len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(want);
		CU_ASSERT_TRUE(openssl_aes128(cbc ? "-aes-128-cbc" : "-aes-128-ecb", cbc,
					      plain + 8, plain_len - 8, want, len));
		CU_ASSERT(memcmp(blob + 8, want, len) == 0);
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, blob, blob_len, s2, 0, &k2));
		pub2 = testutil_blob_export(k2, 0, PUBLICKEYBLOB, 0, &len);
		CU_ASSERT(len == pub1_len && memcmp(pub1, pub2, len) == 0);
		free(pub2);
		free(want);
		free(blob);
		CU_ASSERT_TRUE(CryptDestroyKey(k2));
	}
	CU_ASSERT_TRUE(CryptDestroyKey(s2));
	CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
	delete_keyset("remote-encpriv-2");
	free(pub1);
	free(plain);
	CU_ASSERT_TRUE(CryptDestroyKey(s));
	CU_ASSERT_TRUE(CryptDestroyKey(kx));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	delete_keyset("remote-encpriv");
}

/* ---- CryptGenRandom ---- */

static void test_gen_random(void)
{
	static const BYTE zero[32];
	HCRYPTPROV h = acquire(NULL, CRYPT_VERIFYCONTEXT);
	BYTE a[32], b[32];

	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGenRandom(h, sizeof a, a));
	CU_ASSERT_TRUE(CryptGenRandom(h, sizeof b, b));
	CU_ASSERT(memcmp(a, zero, sizeof a) != 0);
	CU_ASSERT(memcmp(a, b, sizeof a) != 0);
	CU_ASSERT_TRUE(CryptGenRandom(h, 0, NULL));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- fork ---- */

struct parent_state {
	char container[40];
	HCRYPTPROV prov;
	HCRYPTKEY pair, aes;
};

enum child_check {
	CHILD_OLD_PROV = 1 << 0,       /* inherited hProv is ERROR_INVALID_PARAMETER */
	CHILD_OLD_KEYS = 1 << 1,       /* inherited hKeys are ERROR_INVALID_PARAMETER */
	CHILD_ACQUIRE = 1 << 2,        /* a context of its own on the parent's container */
	CHILD_EXPORT_PAIR = 1 << 3,    /* the parent's pair, PUBLIC- and PRIVATEKEYBLOB */
	CHILD_SESSION_KEY = 1 << 4,    /* a session key of its own, in and out */
	CHILD_GENKEY = 1 << 5,         /* a new container with a new pair */
	CHILD_RELEASE_OLD = 1 << 6,    /* inherited handles refuse release and destroy */
};

static const char *const child_check_names[] = {
	"inherited hProv usable or wrong error",
	"inherited hKey usable or wrong error",
	"CryptAcquireContext in the child failed",
	"the parent's pair does not export in the child",
	"a session key of the child does not round-trip",
	"CryptGenKey in a new container failed in the child",
	"inherited handles misbehave when released",
};

static bool fails_invalid_parameter(BOOL ok)
{
	return !ok && GetLastError() == ERROR_INVALID_PARAMETER;
}

static int child_failed(enum child_check check)
{
	unsigned i = 0;

	while ((1u << i) != (unsigned)check)
		i++;
	fprintf(stderr, "\n  child %d: %s (last error 0x%08x)", (int)getpid(),
		child_check_names[i], (unsigned)GetLastError());
	return check;
}

/* What a forked child does on the remote token: the parent's handles are
 * dead, its own contexts work (a new connection to the server). */
static int child_run(const struct parent_state *p)
{
	HCRYPTPROV h = 0, v = 0, n = 0;
	HCRYPTKEY k = 0, s = 0, g = 0;
	BYTE buf[2048];
	DWORD len, type = 0;
	char name[64];
	int failed = 0;

	SetLastError(SENTINEL);
	len = sizeof type;
	if (!fails_invalid_parameter(CryptGetProvParam(p->prov, PP_PROVTYPE, (BYTE *)&type, &len, 0)) ||
	    !fails_invalid_parameter(CryptGenKey(p->prov, CALG_AES_128, 0, &s)))
		failed |= child_failed(CHILD_OLD_PROV);
	len = sizeof buf;
	if (!fails_invalid_parameter(CryptExportKey(p->aes, 0, PLAINTEXTKEYBLOB, 0, buf, &len)) ||
	    !fails_invalid_parameter(CryptExportKey(p->pair, 0, PUBLICKEYBLOB, 0, buf, &len)))
		failed |= child_failed(CHILD_OLD_KEYS);

	SetLastError(SENTINEL);
	if (!CryptAcquireContextA(&h, p->container, uri, PROV_RSA_AES, 0))
		return failed | child_failed(CHILD_ACQUIRE);
	if (!CryptGetUserKey(h, AT_KEYEXCHANGE, &k) ||
	    !testutil_exports_as(k, PUBLICKEYBLOB, pub_blob, pub_len) ||
	    !testutil_exports_as(k, PRIVATEKEYBLOB, priv_blob, priv_len))
		failed |= child_failed(CHILD_EXPORT_PAIR);

	if (!CryptAcquireContextA(&v, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT) ||
	    !CryptImportKey(v, plain_blob, sizeof plain_blob, 0, CRYPT_EXPORTABLE, &s) ||
	    !testutil_exports_as(s, PLAINTEXTKEYBLOB, plain_blob, sizeof plain_blob))
		failed |= child_failed(CHILD_SESSION_KEY);

	snprintf(name, sizeof name, "%s-c%d", p->container, (int)getpid());
	len = 0;
	if (!CryptAcquireContextA(&n, name, uri, PROV_RSA_AES, CRYPT_NEWKEYSET) ||
	    !CryptGenKey(n, AT_SIGNATURE, 1024u << 16, &g) ||
	    !CryptExportKey(g, 0, PUBLICKEYBLOB, 0, NULL, &len) || len != 20 + 128)
		failed |= child_failed(CHILD_GENKEY);
	if (g != 0)
		CryptDestroyKey(g);
	if (n != 0)
		CryptReleaseContext(n, 0);
	CryptAcquireContextA(&n, name, uri, PROV_RSA_AES, CRYPT_DELETEKEYSET);

	SetLastError(SENTINEL);
	if (!fails_invalid_parameter(CryptDestroyKey(p->aes)) ||
	    !fails_invalid_parameter(CryptReleaseContext(p->prov, 0)) ||
	    !fails_invalid_parameter(CryptReleaseContext(p->prov, 0)))
		failed |= child_failed(CHILD_RELEASE_OLD);

	if (s != 0)
		CryptDestroyKey(s);
	if (k != 0)
		CryptDestroyKey(k);
	if (v != 0)
		CryptReleaseContext(v, 0);
	CryptReleaseContext(h, 0);
	return failed;
}

static void parent_setup(struct parent_state *p)
{
	static unsigned seq;

	memset(p, 0, sizeof *p);
	snprintf(p->container, sizeof p->container, "remote-fork-%u", seq++);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&p->prov, p->container, uri, PROV_RSA_AES,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(p->prov, priv_blob, priv_len, 0, CRYPT_EXPORTABLE,
					    &p->pair));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(p->prov, plain_blob, sizeof plain_blob, 0,
					    CRYPT_EXPORTABLE, &p->aes));
}

/* One round of the parent's work on its own connection. */
static bool parent_round(const struct parent_state *p)
{
	HCRYPTKEY s = 0;
	bool ok;

	ok = testutil_exports_as(p->aes, PLAINTEXTKEYBLOB, plain_blob, sizeof plain_blob) &&
	     testutil_exports_as(p->pair, PUBLICKEYBLOB, pub_blob, pub_len) &&
	     CryptGenKey(p->prov, CALG_AES_128, 0, &s);
	if (s != 0)
		CryptDestroyKey(s);
	return ok;
}

static void parent_teardown(struct parent_state *p)
{
	CU_ASSERT_TRUE(CryptDestroyKey(p->aes));
	CU_ASSERT_TRUE(CryptDestroyKey(p->pair));
	CU_ASSERT_TRUE(CryptReleaseContext(p->prov, 0));
	delete_keyset(p->container);
}

static pid_t child_start(const struct parent_state *p)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		alarm(CHILD_SECONDS);
		_exit(child_run(p));
	}
	return pid;
}

/* The parent has used the remote token before the fork; the child works
 * on a connection of its own while the parent keeps working on its own,
 * and the parent is unaffected afterwards too. */
static void test_fork(void)
{
	struct parent_state p;
	unsigned rounds = 0, failed = 0;
	int status = 0;
	pid_t pid, done = 0;

	parent_setup(&p);
	CU_ASSERT_TRUE(parent_round(&p));
	pid = child_start(&p);
	CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
	while (done == 0) {
		if (!parent_round(&p) && failed++ == 0)
			fprintf(stderr, "\n  parent round %u: 0x%08x", rounds,
				(unsigned)GetLastError());
		rounds++;
		done = waitpid(pid, &status, WNOHANG);
	}
	CU_ASSERT_EQUAL(done, pid);
	if (WIFSIGNALED(status))
		fprintf(stderr, "\n  child killed by signal %d", WTERMSIG(status));
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT(rounds > 0);
	CU_ASSERT_EQUAL(failed, 0);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(parent_round(&p));
	parent_teardown(&p);
}

/* ---- The server goes away ---- */

/* A forked child's CryptAcquireContext on the remote URI: 0 when it
 * succeeds, else the last error. */
static DWORD child_acquire_result(void)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		HCRYPTPROV c = 0;
		BYTE b[8];

		alarm(CHILD_SECONDS);
		SetLastError(SENTINEL);
		if (CryptAcquireContextA(&c, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT) &&
		    CryptGenRandom(c, sizeof b, b) && CryptReleaseContext(c, 0))
			_exit(0);
		/* The code's low byte tells the parent which it was. */
		_exit(GetLastError() == SCARD_E_NO_SMARTCARD ? 1 : 2);
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_FATAL(WIFEXITED(status));
	switch (WEXITSTATUS(status)) {
	case 0:
		return 0;
	case 1:
		return SCARD_E_NO_SMARTCARD;
	default:
		return SENTINEL;
	}
}

/* Runs last. p11-kit's client writes to the socket with write(2): once
 * the server has gone, that raises SIGPIPE, whose default action would
 * end this process; capi11 blocks it around the client module's calls
 * (README, "Remote tokens"), so SIGPIPE keeps its default action here.
 * The contexts of this process fail with NTE_FAIL (the client's
 * CKR_DEVICE_ERROR), and a new process finds no token
 * (SCARD_E_NO_SMARTCARD); this thread's signal mask is as it was, with
 * no SIGPIPE left pending. With the server back, a new process works
 * again; this one, whose client module lost its connection, does not
 * (capi11 starts a module only once per process). */
static void test_server_gone(void)
{
	HCRYPTPROV h, h2 = 0;
	HCRYPTKEY k = 0;
	BYTE buf[32];
	DWORD len;
	sigset_t mask, pending;
	struct sigaction sa;

	signal(SIGPIPE, SIG_DFL);
	CU_ASSERT_EQUAL_FATAL(sigaction(SIGPIPE, NULL, &sa), 0);
	CU_ASSERT_FATAL(sa.sa_handler == SIG_DFL);
	h = acquire(NULL, CRYPT_VERIFYCONTEXT);
	CU_ASSERT_TRUE(CryptGenRandom(h, sizeof buf, buf));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, plain_blob, sizeof plain_blob, 0, 0, &k));
	CU_ASSERT_EQUAL(child_acquire_result(), 0);
	server_stop();

	CHECK_FAILS_WITH(CryptGenRandom(h, sizeof buf, buf), NTE_FAIL);
	CHECK_FAILS_WITH(CryptGenRandom(h, sizeof buf, buf), NTE_FAIL);
	memset(buf, 0, sizeof buf);
	len = 16;
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_NOT_EQUAL(GetLastError(), SENTINEL);
	CU_ASSERT_NOT_EQUAL(GetLastError(), ERROR_SUCCESS);
	CHECK_FAILS_WITH(CryptAcquireContextA(&h2, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT),
			 NTE_FAIL);
	CU_ASSERT_EQUAL(pthread_sigmask(SIG_BLOCK, NULL, &mask), 0);
	CU_ASSERT_FALSE(sigismember(&mask, SIGPIPE));
	CU_ASSERT_EQUAL(sigpending(&pending), 0);
	CU_ASSERT_FALSE(sigismember(&pending, SIGPIPE));
	CryptDestroyKey(k);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_EQUAL(child_acquire_result(), SCARD_E_NO_SMARTCARD);

	CU_ASSERT_TRUE_FATAL(server_start());
	CU_ASSERT_EQUAL(child_acquire_result(), 0);
	CHECK_FAILS_WITH(CryptAcquireContextA(&h2, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT),
			 NTE_FAIL);
}

/* ---- Suite ---- */

static int suite_init(void)
{
	static const BYTE head[12] = { 0x08, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00,
				       0x10, 0x00, 0x00, 0x00 };
	char *address = NULL;

	if (!fixture_init()) {
		cutest_skip("SoftHSM is not installed");
		return -1;
	}
	if (!*P11_KIT_BIN || !*P11KIT_CLIENT_MODULE || access(P11_KIT_BIN, X_OK) != 0 ||
	    access(P11KIT_CLIENT_MODULE, R_OK) != 0) {
		cutest_skip("p11-kit server or p11-kit-client.so is not installed");
		return -1;
	}
	if (!*PKCS11_TOOL || !*OPENSSL_BIN) {
		cutest_skip("pkcs11-tool or openssl is not installed");
		return -1;
	}
	priv_blob = testutil_vector_load("rsa1024-priv.blob", &priv_len);
	pub_blob = testutil_vector_load("rsa1024-pub.blob", &pub_len);
	aes_key = testutil_vector_load("aes128.key", &aes_len);
	if (!priv_blob || !pub_blob || !aes_key || aes_len != 16)
		return -1;
	memcpy(plain_blob, head, sizeof head);
	memcpy(plain_blob + 12, aes_key, 16);

	label = fixture_label_new("remote");
	if (label == NULL || fixture_token_new(label) != 0)
		return -1;
	if (!server_start())
		return -1;
	/* What `p11-kit server` prints for the shell to evaluate; the client
	 * module reads it when capi11 first loads it. */
	if (asprintf(&address, "unix:path=%s", sock_path) < 0 ||
	    setenv("P11_KIT_SERVER_ADDRESS", address, 1) != 0) {
		free(address);
		return -1;
	}
	free(address);
	/* p11-kit aborts on a broken precondition instead of printing a
	 * warning (such as C_Finalize of the client module in a forked child,
	 * which never initialised it). Read when the client module loads. */
	if (setenv("P11_KIT_STRICT", "1", 1) != 0)
		return -1;
	if (asprintf(&uri, "pkcs11:token=%s?module-path=%s&pin-value=%s", label,
		     P11KIT_CLIENT_MODULE, FIXTURE_PIN) < 0) {
		uri = NULL;
		return -1;
	}
	return 0;
}

static int suite_cleanup(void)
{
	server_stop();
	return 0;
}

static CU_TestInfo tests[] = {
	{ "only the client module is loaded", test_softhsm_not_loaded },
	{ "CRYPT_NEWKEYSET, open, CRYPT_DELETEKEYSET", test_acquire_flags },
	{ "CryptGenKey AT_KEYEXCHANGE: PUBLICKEYBLOB has the token's modulus",
	  test_genkey_exchange },
	{ "CryptGenKey AT_SIGNATURE: PUBLICKEYBLOB has the token's modulus",
	  test_genkey_signature },
	{ "PRIVATEKEYBLOB of an exportable pair, none of a fixed one", test_private_blob },
	{ "SIMPLEBLOB export and import, PKCS#1 and OAEP", test_simpleblob_round_trip },
	{ "AES-128 CBC as openssl enc, composed from ECB if need be", test_aes_cbc },
	{ "AES-128 ECB as openssl enc", test_aes_ecb },
	{ "what the client module does not carry", test_route_limits },
	{ "PRIVATEKEYBLOB under a session key, CBC and ECB", test_private_blob_encrypted },
	{ "CryptGenRandom", test_gen_random },
	{ "fork: the child works on its own connection, the parent on", test_fork },
	{ "the server stopped, and started again", test_server_gone },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "remote token (p11-kit server)", suite_init, suite_cleanup, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc = cutest_run(suites);

	/* The suite's cleanup stopped it; this is for a suite that failed
	 * to initialise after starting it. */
	server_stop();
	fixture_cleanup(rc == 0 || rc == CUTEST_SKIP);
	free(uri);
	free(label);
	free(sock_path);
	free(priv_blob);
	free(pub_blob);
	free(aes_key);
	return rc;
}
