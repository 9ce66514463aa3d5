/* capi11-tool end to end: every subcommand run as a separate process against
 * a throwaway SoftHSM token. Outputs are checked with tools that do not
 * share capi11's code: openssl (its MSBLOB reader, pkeyutl to open
 * SIMPLEBLOBs, enc for AES-CBC and the RFC 3394 key wrap) and pkcs11-tool
 * reading the token on its own. Blob layouts from Microsoft's "Base
 * Provider Key BLOBs"; exit codes 0/1/2 from the tool's contract. */
#include "config.h"

#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <ctype.h>
#include <poll.h>
#include <pty.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOOL TEST_BUILDDIR "/../capi11-tool"

static char *label;
static char *common;    /* --provider <uri without PIN> --pin-file <file> */

/* ---- helpers ---- */

/* Runs capi11-tool with the arguments; returns its exit status and, in
 * *out, stdout and stderr together. */
static int tool(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int tool(char **out, const char *fmt, ...)
{
	char args[4096];
	char *text;
	va_list ap;
	int st = -1;

	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	text = fixture_capture(&st, "%s %s 2>&1", TOOL, args);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	if (out != NULL)
		*out = text;
	else
		free(text);
	return st;
}

/* A path in the fixture directory; sixteen live at once, enough for every
 * argument list below. */
static char *path_of(const char *name)
{
	static char buf[16][1024];
	static int n;
	char *p = buf[n++ % 16];

	snprintf(p, 1024, "%s/%s", fixture_dir(), name);
	return p;
}

static unsigned char *read_all(const char *path, size_t *len)
{
	DWORD n = 0;
	unsigned char *buf = testutil_file_read(path, &n);

	*len = n;
	return buf;
}

static bool files_equal(const char *a, const char *b)
{
	size_t al, bl;
	unsigned char *x = read_all(a, &al), *y = read_all(b, &bl);
	bool same = al == bl && memcmp(x, y, al) == 0;

	free(x);
	free(y);
	return same;
}

static void write_bytes(const char *name, const void *data, size_t len)
{
	char *p;

	unlink(path_of(name));
	p = fixture_write_file(name, data, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	free(p);
}

/* The text without blanks and newlines, lowercased: dump prints big
 * numbers over several lines. */
static char *squeeze(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			*o++ = (char)tolower((unsigned char)*s);
	*o = '\0';
	return out;
}

/* The hex of "Modulus=HEX" that openssl rsa prints for the key in path,
 * lowercased; opts says how to read the file. */
static char *openssl_modulus(const char *opts, const char *path)
{
	char *out, *p, *nl;
	int st;

	out = fixture_capture(&st, "%s rsa %s -in %s -noout -modulus", OPENSSL_BIN, opts, path);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	p = strstr(out, "Modulus=");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p += strlen("Modulus=");
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	p = squeeze(p);
	free(out);
	return p;
}

/* The SIMPLEBLOB's key, decrypted by openssl with the recipient's private
 * key: the ciphertext follows BLOBHEADER and the ALG_ID, byte-reversed. */
static unsigned char *openssl_open_simple(const char *blob_name, const char *key_pem, bool oaep,
					  size_t *key_len)
{
	size_t len;
	unsigned char *blob = read_all(path_of(blob_name), &len), *ct;
	int st;

	CU_ASSERT_FATAL(len > 12);
	ct = malloc(len - 12);
	for (size_t i = 0; i < len - 12; i++)
		ct[i] = blob[len - 1 - i];
	write_bytes("simple.ct", ct, len - 12);
	st = fixture_run("%s pkeyutl -decrypt -inkey %s %s -in %s -out %s", OPENSSL_BIN, key_pem,
			 oaep ? "-pkeyopt rsa_padding_mode:oaep" : "", path_of("simple.ct"),
			 path_of("simple.key"));
	CU_ASSERT_EQUAL_FATAL(st, 0);
	free(ct);
	free(blob);
	return read_all(path_of("simple.key"), key_len);
}

static void make_partner(void)
{
	static bool done;

	if (done)
		return;
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genrsa -out %s 1024", OPENSSL_BIN,
					  path_of("partner.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s rsa -in %s -pubout -out %s", OPENSSL_BIN,
					  path_of("partner.pem"), path_of("partner.pub.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s rsa -in %s -pubout -outform MSBLOB -out %s",
					  OPENSSL_BIN, path_of("partner.pem"),
					  path_of("partner.publickeyblob")), 0);
	done = true;
}

/* A PLAINTEXTKEYBLOB (Microsoft's layout: BLOBHEADER, dwKeySize, key) of
 * 32 random bytes for CALG_AES_256; the key bytes go to *key. */
static void make_aes256_blob(const char *name, unsigned char key[32])
{
	/* PLAINTEXTKEYBLOB 0x8, version 2, CALG_AES_256 0x6610, 32 bytes. */
	unsigned char blob[12 + 32] = { 0x08, 2, 0, 0, 0x10, 0x66, 0, 0, 32, 0, 0, 0 };
	FILE *f = fopen("/dev/urandom", "rb");

	CU_ASSERT_FATAL(f != NULL && fread(key, 1, 32, f) == 32);
	fclose(f);
	memcpy(blob + 12, key, 32);
	write_bytes(name, blob, sizeof blob);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	CU_ASSERT_EQUAL_FATAL(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void write_mode(const char *name, const char *text, mode_t mode)
{
	write_bytes(name, text, strlen(text));
	CU_ASSERT_EQUAL_FATAL(chmod(path_of(name), mode), 0);
}

/* ---- usage ---- */

static void test_help_and_usage(void)
{
	static const char *const cmds[] = { "list", "genkey", "export", "import", "wrap",
					    "trust", "dump", "demo", "hash", "sign", "verify" };
	char *out;

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char want[64];

		CU_ASSERT_EQUAL(tool(&out, "%s --help", cmds[i]), 0);
		snprintf(want, sizeof want, "Usage: capi11-tool %s", cmds[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
		free(out);
	}
	CU_ASSERT_EQUAL(tool(NULL, "--help"), 0);
	CU_ASSERT_EQUAL(tool(NULL, " "), 2);
	CU_ASSERT_EQUAL(tool(NULL, "frobnicate"), 2);
	CU_ASSERT_EQUAL(tool(NULL, "export --no-such-option"), 2);
	CU_ASSERT_EQUAL(tool(NULL, "export --type NOTABLOB"), 2);
	CU_ASSERT_EQUAL(tool(NULL, "export --type SIMPLEBLOB --format pem"), 2);
	CU_ASSERT_EQUAL(tool(NULL, "export --type SYMMETRICWRAPKEYBLOB"), 2);
	CU_ASSERT_EQUAL(tool(NULL, "genkey --spec sideways"), 2);
	CU_ASSERT_EQUAL(tool(NULL, "wrap"), 2);
	CU_ASSERT_EQUAL(tool(NULL, "import"), 2);
	CU_ASSERT_EQUAL(tool(NULL, "trust"), 2);
	CU_ASSERT_EQUAL(tool(NULL, "trust --kek a --public-key b"), 2);
	/* A PIN is never a plain command-line argument. */
	CU_ASSERT_EQUAL(tool(NULL, "list --pin 1234"), 2);
}

/* --pin-file is held to what OpenSSH asks of a private key: a regular file
 * that neither group nor others may read or write (a FIFO must not hang
 * the tool); a file that cannot hold a right PIN (empty, two lines) is
 * refused before C_Login, where a card would count a wrong try. */
static void test_pin_file_checks(void)
{
	static const struct { const char *text; mode_t mode; const char *says; } files[] = {
		{ FIXTURE_PIN "\n", 0644, "group or others" },
		{ FIXTURE_PIN "\n", 0620, "group or others" },
		{ "\n", 0600, "one PIN on one line" },
		{ "", 0600, "one PIN on one line" },
		{ FIXTURE_PIN "\n" FIXTURE_PIN "\n", 0600, "one PIN on one line" },
	};
	char *out;

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		write_mode("bad.pin", files[i].text, files[i].mode);
		CU_ASSERT_EQUAL(tool(&out, "list --provider 'pkcs11:token=%s?module-path=%s' "
				     "--pin-file %s", label, SOFTHSM_MODULE, path_of("bad.pin")), 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, files[i].says));
		CU_ASSERT_PTR_NULL(strstr(out, "C_Login"));
		free(out);
	}
	unlink(path_of("pin.fifo"));
	CU_ASSERT_EQUAL_FATAL(mkfifo(path_of("pin.fifo"), 0600), 0);
	CU_ASSERT_EQUAL(tool(&out, "list --provider 'pkcs11:token=%s?module-path=%s' --pin-file %s",
			     label, SOFTHSM_MODULE, path_of("pin.fifo")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "not a regular file"));
	free(out);
}

/* A provider whose configured URI carries pin-value: list, in text and
 * JSON, by enumeration and by name, when the PIN is wrong (every error
 * path) and right, never prints the PIN. The canary is a PIN nothing else
 * in the output could contain. */
static void test_list_config_pin_value(void)
{
	static const char canary[] = "Zq9-canary-PIN";
	char *saved = strdup(getenv("CAPI11_CONF"));
	char *uri = fixture_token_uri_nopin(label);
	char text[4096];
	char *conf, *out = NULL;
	const char *const runs[] = { "list", "list --json", "list --provider canary",
				     "list --provider canary --json", "list --provider good",
				     "list --provider good --json" };

	snprintf(text, sizeof text,
		 "[provider \"canary\"]\n"
		 "uri = %s&pin-value=%s\n"
		 "[provider \"good\"]\n"
		 "uri = %s\n"
		 "pin-value = %s\n",
		 uri, canary, uri, FIXTURE_PIN);
	conf = fixture_write_file("capi11-canary.conf", text, strlen(text));
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	CU_ASSERT_EQUAL(chmod(conf, 0600), 0);
	setenv("CAPI11_CONF", conf, 1);
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		int st = tool(&out, "%s", runs[i]);

		CU_ASSERT_TRUE(st == 0 || st == 1);
		CU_ASSERT_PTR_NULL(strstr(out, canary));
		if (strstr(out, canary) != NULL)
			fprintf(stderr, "%s printed the PIN:\n%s\n", runs[i], out);
		/* The listing did reach the token through the good provider. */
		if (strstr(runs[i], "canary") == NULL)
			CU_ASSERT_PTR_NOT_NULL(strstr(out, "c1"));
		free(out);
	}
	setenv("CAPI11_CONF", saved, 1);
	free(saved);
	free(conf);
	free(uri);
}

/* A PIN inside a pkcs11: URI on the command line is as visible to every
 * user (ps, /proc/PID/cmdline) as --pin: refused as a usage error, exit 2,
 * whichever option or argument carries it and however the attribute name
 * is spelled, with a message that points to the PIN sources that are not
 * argv and does not repeat the PIN. */
static void test_pin_value_in_argv(void)
{
	static const char *const cmds[] = {
		"list --provider 'pkcs11:token=t?module-path=/nowhere.so&pin-value=CANARY-17'",
		"list --provider='pkcs11:token=t?pin-value=CANARY-17'",
		"list --provider 'pkcs11:token=t?PIN-Value=CANARY-17'",
		"list --provider 'pkcs11:token=t?pin%2dvalue=CANARY-17'",
		"list --provider 'pkcs11:token=t;pin-value=CANARY-17'",
		"export --provider 'pkcs11:token=t?pin-value=CANARY-17' --out x",
		"genkey --container c --provider 'pkcs11:?pin-value=CANARY-17'",
		"wrap --to x --provider 'pkcs11:token=t?module-name=m&pin-value=CANARY-17'",
		"import --container c 'pkcs11:token=t?pin-value=CANARY-17'",
		"dump 'pkcs11:token=t?pin-value=CANARY-17'",
		"demo 'pkcs11:token=t?pin-value=CANARY-17'",
	};
	char *out;

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		CU_ASSERT_EQUAL(tool(&out, "%s", cmds[i]), 2);
		CU_ASSERT_PTR_NULL(strstr(out, "CANARY-17"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "--pin-file"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "pin-source="));
		if (strstr(out, "--pin-file") == NULL || strstr(out, "CANARY-17") != NULL)
			fprintf(stderr, "%s:\n%s\n", cmds[i], out);
		free(out);
	}
	/* pin-source names a file: not a PIN, not refused (the module is
	 * missing: a failure, exit 1). */
	CU_ASSERT_EQUAL(tool(&out, "list --provider 'pkcs11:token=t?module-path=/nowhere.so&"
			     "pin-source=/nowhere.pin'"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_"));
	free(out);
}

/* ---- genkey and list ---- */

static void test_genkey_list(void)
{
	char *out = NULL, *json;
	int st;

	CU_ASSERT_EQUAL(tool(&out, "genkey %s --container c1 --bits 1024 --exportable", common), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "1024 bits"));
	free(out);
	CU_ASSERT_EQUAL(tool(NULL, "genkey %s --container c1 --spec signature --bits 1024", common),
			0);
	CU_ASSERT_EQUAL(tool(NULL, "genkey %s --container c2 --bits 1024 --exportable", common), 0);

	/* pkcs11-tool sees the key pairs, labelled with the container. */
	st = fixture_pkcs11_tool(label, true, &out, "--list-objects --type privkey");
	CU_ASSERT_EQUAL_FATAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "label:      c1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "label:      c2"));
	free(out);

	CU_ASSERT_EQUAL(tool(&json, "list %s --json", common), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "{\"name\":\"c1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "{\"spec\":\"exchange\",\"algorithm\":\"CALG_RSA_KEYX\","
				      "\"bits\":1024,\"exportable\":true,\"certificate\":false}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "{\"spec\":\"signature\",\"algorithm\":\"CALG_RSA_SIGN\","
				      "\"bits\":1024,\"exportable\":false,\"certificate\":false}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"reader\":\"SoftHSM slot"));
	free(json);

	CU_ASSERT_EQUAL(tool(&out, "list %s", common), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "container \"c2\""));
	free(out);
	CU_ASSERT_EQUAL(tool(NULL, "list %s --container c1", common), 2);
}

/* Whether the JSON listing's container NAME holds a key starting KEY. */
static bool json_container_has(const char *json, const char *name, const char *key)
{
	char head[256];
	const char *c, *next, *k;

	snprintf(head, sizeof head, "{\"name\":\"%s\"", name);
	c = strstr(json, head);
	if (c == NULL)
		return false;
	next = strstr(c + 1, "{\"name\":");
	k = strstr(c, key);
	return k != NULL && (next == NULL || k < next);
}

/* genkey without --bits: 2048 bits and says so ("(default)"), not the 1024
 * that CryptGenKey makes for programs passing 0; a provider whose
 * configuration sets rsa-bits above 1024 gets that instead, and the tool
 * says where it came from. A configured 1024 does not lower the default. */
static void test_genkey_default_bits(void)
{
	char *saved = strdup(getenv("CAPI11_CONF"));
	char *uri = fixture_token_uri(label);
	char text[4096];
	char *conf, *out = NULL;

	CU_ASSERT_EQUAL(tool(&out, "genkey %s --container d1", common), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "generated exchange key: CALG_RSA_KEYX, 2048 bits (default), "
				      "not exportable"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "list %s --json", common), 0);
	CU_ASSERT_TRUE(json_container_has(out, "d1", "{\"spec\":\"exchange\","
					  "\"algorithm\":\"CALG_RSA_KEYX\",\"bits\":2048,"));
	free(out);
	/* --bits given: that size, without a word on defaults. */
	CU_ASSERT_EQUAL(tool(&out, "genkey %s --container d1 --spec signature --bits 1024", common), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_RSA_SIGN, 1024 bits, not exportable"));
	free(out);

	snprintf(text, sizeof text,
		 "[capi11]\n"
		 "rsa-bits = 1024\n"
		 "[provider \"big\"]\n"
		 "uri = %s\n"
		 "rsa-bits = 1536\n"
		 "[provider \"small\"]\n"
		 "uri = %s\n",
		 uri, uri);
	conf = fixture_write_file("capi11-bits.conf", text, strlen(text));
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	CU_ASSERT_EQUAL(chmod(conf, 0600), 0);
	setenv("CAPI11_CONF", conf, 1);
	CU_ASSERT_EQUAL(tool(&out, "genkey --provider big --container d2 --spec signature"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "generated signature key: CALG_RSA_SIGN, 1536 bits "
				      "(configured rsa-bits), not exportable"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "genkey --provider small --container d3 --exportable"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_RSA_KEYX, 2048 bits (default), exportable"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "list --provider big --json"), 0);
	CU_ASSERT_TRUE(json_container_has(out, "d2", "{\"spec\":\"signature\","
					  "\"algorithm\":\"CALG_RSA_SIGN\",\"bits\":1536,"));
	CU_ASSERT_TRUE(json_container_has(out, "d3", "{\"spec\":\"exchange\","
					  "\"algorithm\":\"CALG_RSA_KEYX\",\"bits\":2048,"));
	free(out);

	setenv("CAPI11_CONF", saved, 1);
	free(saved);
	free(conf);
	free(uri);
}

/* A certificate sharing the key's CKA_ID (written by pkcs11-tool) shows in
 * list as present. */
static void test_list_certificate(void)
{
	char *out = NULL, *p, id[128] = "";
	int st;

	st = fixture_pkcs11_tool(label, true, &out, "--list-objects --type privkey");
	CU_ASSERT_EQUAL_FATAL(st, 0);
	p = strstr(out, "label:      c2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p = strstr(p, "ID:");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	sscanf(p, "ID: %127s", id);
	free(out);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s req -x509 -newkey rsa:1024 -nodes -keyout %s "
					  "-subj /CN=c2 -days 2 -outform DER -out %s", OPENSSL_BIN,
					  path_of("cert.key"), path_of("c2.cert.der")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(label, true, NULL, "--write-object %s --type cert "
						  "--id %s --label c2", path_of("c2.cert.der"), id),
			      0);
	CU_ASSERT_EQUAL(tool(&out, "list %s --json", common), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"name\":\"c2\""));
	p = strstr(out, "{\"name\":\"c2\"");
	if (p != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(p, "\"spec\":\"exchange\",\"algorithm\":"
						 "\"CALG_RSA_KEYX\",\"bits\":1024,\"exportable\":true,"
						 "\"certificate\":true}"));
	free(out);
}

/* Without --provider, list shows every provider CryptEnumProviders gives:
 * the configuration's in file order, then Microsoft's names, which the
 * default provider serves; one whose token is absent is shown with the
 * error acquiring it gives, and the listing still succeeds. */
static void test_list_enumerated(void)
{
	static const char bad[] = "[capi11]\nno-such-key = 1\n";
	char *saved = strdup(getenv("CAPI11_CONF"));
	char *uri = fixture_token_uri(label);
	char text[4096];
	char *conf, *out = NULL, *tok, *gone, *ms, *p;

	snprintf(text, sizeof text,
		 "[capi11]\n"
		 "default-provider = tok\n"
		 "[provider \"tok\"]\n"
		 "uri = %s\n"
		 "[provider \"gone\"]\n"
		 "uri = pkcs11:token=no-such-token?module-path=%s\n"
		 "type = rsa_aes\n",
		 uri, SOFTHSM_MODULE);
	conf = fixture_write_file("capi11-enum.conf", text, strlen(text));
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	setenv("CAPI11_CONF", conf, 1);

	CU_ASSERT_EQUAL(tool(&out, "list"), 0);
	tok = strstr(out, "provider tok (type 1)\n");
	gone = strstr(out, "provider gone (type 24)\n  error: SCARD_E_NO_SMARTCARD (0x8010000c)");
	ms = strstr(out, "provider Microsoft Base Cryptographic Provider v1.0 (type 1)\n");
	CU_ASSERT_PTR_NOT_NULL(tok);
	CU_ASSERT_PTR_NOT_NULL(gone);
	CU_ASSERT_PTR_NOT_NULL(ms);
	CU_ASSERT_TRUE(tok < gone && gone < ms);
	/* The token's containers, under its own name and under the Microsoft
	 * name that reaches it with the AES type. */
	p = tok != NULL ? strstr(tok, "container \"c1\"") : NULL;
	CU_ASSERT_TRUE(p != NULL && p < gone);
	p = strstr(out, "provider Microsoft Enhanced RSA and AES Cryptographic Provider (type 24)\n");
	CU_ASSERT_PTR_NOT_NULL(p);
	if (p != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(p, "container \"c1\""));
	free(out);

	CU_ASSERT_EQUAL(tool(&out, "list --json"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"providers\":[{\"provider\":\"tok\",\"type\":1,"
				      "\"name\":\"tok\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"provider\":\"gone\",\"type\":24,\"error\":true,"
				      "\"code\":\"SCARD_E_NO_SMARTCARD (0x8010000c)\","
				      "\"containers\":[]}"));
	free(out);

	/* --provider still lists just that one. */
	CU_ASSERT_EQUAL(tool(&out, "list --provider tok"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "container \"c1\""));
	CU_ASSERT_PTR_NULL(strstr(out, "Microsoft"));
	free(out);
	/* A PIN belongs to one token. */
	CU_ASSERT_EQUAL(tool(NULL, "list --pin-file %s", path_of("pin")), 2);
	/* A broken file fails the listing, with the acquire error. */
	free(conf);
	conf = fixture_write_file("capi11-enum-bad.conf", bad, strlen(bad));
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	setenv("CAPI11_CONF", conf, 1);
	CU_ASSERT_EQUAL(tool(&out, "list"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_KEYSET_ENTRY_BAD"));
	free(out);

	setenv("CAPI11_CONF", saved, 1);
	free(saved);
	free(conf);
	free(uri);
}

/* ---- export ---- */

/* PUBLICKEYBLOB --format pem equals openssl's conversion of the blob and
 * the token's public key as pkcs11-tool reads it; --format der too. */
static void test_export_public_formats(void)
{
	char *m_blob, *m_token;

	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s --container c2 --out %s", common,
				   path_of("c2.publickeyblob")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s --container c2 --format pem --out %s", common,
				   path_of("c2.ours.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s --container c2 --format der --out %s", common,
				   path_of("c2.ours.der")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s rsa -pubin -inform MSBLOB -in %s -outform PEM -out %s",
					  OPENSSL_BIN, path_of("c2.publickeyblob"),
					  path_of("c2.openssl.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s rsa -pubin -inform MSBLOB -in %s -outform DER -out %s",
					  OPENSSL_BIN, path_of("c2.publickeyblob"),
					  path_of("c2.openssl.der")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("c2.ours.pem"), path_of("c2.openssl.pem")));
	CU_ASSERT_TRUE(files_equal(path_of("c2.ours.der"), path_of("c2.openssl.der")));

	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(label, true, NULL,
						  "--read-object --type pubkey --label c2 -o %s",
						  path_of("c2.token.der")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkey -pubin -inform DER -in %s -outform PEM -out %s",
					  OPENSSL_BIN, path_of("c2.token.der"),
					  path_of("c2.token.pem")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("c2.ours.pem"), path_of("c2.token.pem")));

	/* The blob on stdout is the same bytes. */
	CU_ASSERT_EQUAL(fixture_run("%s export %s --container c2 > %s", TOOL, common,
				    path_of("c2.stdout")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("c2.stdout"), path_of("c2.publickeyblob")));

	m_blob = openssl_modulus("-pubin -inform MSBLOB", path_of("c2.publickeyblob"));
	m_token = openssl_modulus("-pubin -inform DER", path_of("c2.token.der"));
	CU_ASSERT_STRING_EQUAL(m_blob, m_token);
	free(m_blob);
	free(m_token);
}

static void test_export_private(void)
{
	char *out, *m_priv, *m_token;

	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s --container c2 --type PRIVATEKEYBLOB --out %s",
				   common, path_of("c2.privatekeyblob")), 0);
	CU_ASSERT_EQUAL(fixture_run("%s rsa -inform MSBLOB -in %s -check -noout", OPENSSL_BIN,
				    path_of("c2.privatekeyblob")), 0);
	/* --format pem is PKCS#8, as openssl writes the same key. */
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s --container c2 --type private --format pem "
				   "--out %s", common, path_of("c2.key.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkey -inform MSBLOB -in %s -out %s", OPENSSL_BIN,
					  path_of("c2.privatekeyblob"),
					  path_of("c2.openssl.key.pem")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("c2.key.pem"), path_of("c2.openssl.key.pem")));

	m_priv = openssl_modulus("-inform MSBLOB", path_of("c2.privatekeyblob"));
	m_token = openssl_modulus("-pubin -inform DER", path_of("c2.token.der"));
	CU_ASSERT_STRING_EQUAL(m_priv, m_token);
	free(m_priv);
	free(m_token);

	/* Not exportable: the Windows code and no file. */
	unlink(path_of("c1.sig.private"));
	CU_ASSERT_EQUAL(tool(&out, "export %s --container c1 --spec signature --type private "
			     "--out %s", common, path_of("c1.sig.private")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_KEY_STATE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "PKCS#11 cause:"));
	CU_ASSERT_NOT_EQUAL(access(path_of("c1.sig.private"), F_OK), 0);
	free(out);
}

/* ---- hash, sign, verify ---- */

static bool tool_write_bytes(const char *path, const unsigned char *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	bool ok = f != NULL && fwrite(p, 1, n, f) == n;

	if (f != NULL && fclose(f) != 0)
		ok = false;
	return ok;
}



/* Against openssl with c2's key (test_export_private wrote it as PEM):
 * the same digest, the same signature (PKCS#1 v1.5 is deterministic),
 * verified both ways; Windows' byte order is the reverse of openssl's. */
static void test_sign_verify(void)
{
	static const char text[] = "capi11-tool signs what openssl verifies\n";
	const char *msg = path_of("msg.txt");
	char *out, *want, hexout[200];
	unsigned char *der, *win;
	size_t der_len, win_len;
	FILE *f = fopen(msg, "wb");
	int st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(text, 1, sizeof text - 1, f), sizeof text - 1);
	CU_ASSERT_EQUAL(fclose(f), 0);

	want = fixture_capture(&st, "%s dgst -sha384 -r %s", OPENSSL_BIN, msg);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	CU_ASSERT_EQUAL(tool(&out, "hash %s --hash sha384 %s", common, msg), 0);
	snprintf(hexout, sizeof hexout, "%.96s", want);
	CU_ASSERT_EQUAL(strncmp(out, hexout, 96), 0);
	CU_ASSERT_EQUAL(out[96], '\n');
	free(out);
	free(want);

	CU_ASSERT_EQUAL_FATAL(tool(NULL, "sign %s --container c2 --format der --out %s %s", common,
				   path_of("sig.der"), msg), 0);
	CU_ASSERT_EQUAL(fixture_run("%s dgst -sha256 -verify %s -signature %s %s", OPENSSL_BIN,
				    path_of("c2.ours.pem"), path_of("sig.der"), msg), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s dgst -sha256 -sign %s -out %s %s", OPENSSL_BIN,
					  path_of("c2.key.pem"), path_of("sig.openssl"), msg), 0);
	CU_ASSERT_TRUE(files_equal(path_of("sig.der"), path_of("sig.openssl")));
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "sign %s --container c2 --out %s %s", common,
				   path_of("sig.win"), msg), 0);
	der = read_all(path_of("sig.der"), &der_len);
	win = read_all(path_of("sig.win"), &win_len);
	CU_ASSERT_EQUAL_FATAL(der_len, win_len);
	for (size_t i = 0; i < der_len; i++)
		CU_ASSERT_EQUAL(der[i], win[der_len - 1 - i]);

	/* openssl's signature verifies against a PEM key and the container. */
	CU_ASSERT_EQUAL(tool(&out, "verify %s --key %s --format der --signature %s %s", common,
			     path_of("c2.ours.pem"), path_of("sig.openssl"), msg), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "signature valid"));
	free(out);
	CU_ASSERT_EQUAL(tool(NULL, "verify %s --container c2 --signature %s %s", common,
			     path_of("sig.win"), msg), 0);
	CU_ASSERT_EQUAL(tool(NULL, "verify %s --key %s --signature %s %s", common,
			     path_of("c2.publickeyblob"), path_of("sig.win"), msg), 0);
	/* A flipped bit, another hash, another message: exit 1. */
	win[7] ^= 0x01;
	CU_ASSERT_TRUE(tool_write_bytes(path_of("sig.bad"), win, win_len));
	CU_ASSERT_EQUAL(tool(&out, "verify %s --container c2 --signature %s %s", common,
			     path_of("sig.bad"), msg), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NOT valid"));
	free(out);
	CU_ASSERT_EQUAL(tool(NULL, "verify %s --container c2 --hash sha1 --signature %s %s", common,
			     path_of("sig.win"), msg), 1);
	CU_ASSERT_EQUAL(tool(NULL, "verify %s --container c2 --signature %s %s", common,
			     path_of("sig.win"), path_of("c2.ours.pem")), 1);
	/* Usage errors. */
	CU_ASSERT_EQUAL(tool(NULL, "sign %s --container c2 --hash md2 %s", common, msg), 2);
	CU_ASSERT_EQUAL(tool(NULL, "verify %s --container c2 %s", common, msg), 2);
	CU_ASSERT_EQUAL(tool(NULL, "hash %s --out x %s", common, msg), 2);
	CU_ASSERT_EQUAL(tool(NULL, "sign %s --container c2", common), 2);
	free(der);
	free(win);
}

static void test_export_errors(void)
{
	char *out;

	CU_ASSERT_EQUAL(tool(&out, "export %s --container no-such-container", common), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_KEYSET"));
	free(out);
	write_bytes("wrong.pin", "0000\n", 5);
	CU_ASSERT_EQUAL(tool(&out, "export --provider 'pkcs11:token=%s?module-path=%s' --pin-file %s"
			     " --container c1", label, SOFTHSM_MODULE, path_of("wrong.pin")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "SCARD_W_WRONG_CHV"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "C_Login: CKR_PIN_INCORRECT"));
	free(out);
	/* --verbose traces the PKCS#11 calls themselves. */
	CU_ASSERT_EQUAL(tool(&out, "export %s --container c2 --verbose --out %s", common,
			     path_of("verbose.blob")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "C_GetAttributeValue: CKR_OK"));
	/* Success says nothing more after the trace. */
	CU_ASSERT_PTR_NULL(strstr(out, "capi11-tool: failed"));
	free(out);
	/* A failure under --verbose: the release of the context traces after
	 * the verdict, which is therefore said again as the very last line. */
	CU_ASSERT_EQUAL(tool(&out, "export %s --container no-such-container -v", common), 1);
	{
		size_t len = strlen(out);
		const char *last;

		CU_ASSERT_FATAL(len > 1 && out[len - 1] == '\n');
		out[len - 1] = '\0';
		last = strrchr(out, '\n');
		last = last != NULL ? last + 1 : out;
		CU_ASSERT_EQUAL(strncmp(last, "capi11-tool: failed: ", 21), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(last, "NTE_BAD_KEYSET"));
		/* ... and the trace is there before it. */
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "capi11: CryptAcquireContextA: NTE_BAD_KEYSET"));
	}
	free(out);
	/* Without --verbose the verdict is said once. */
	CU_ASSERT_EQUAL(tool(&out, "export %s --container no-such-container", common), 1);
	CU_ASSERT_PTR_NULL(strstr(out, "capi11-tool: failed"));
	free(out);
}

/* SIMPLEBLOB of a new session key for a partner, opened by openssl. */
static void test_export_simple(void)
{
	unsigned char *key;
	size_t len;

	make_partner();
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s --container c2 --type SIMPLEBLOB --alg AES_192 "
				   "--to %s --out %s", common, path_of("partner.pub.pem"),
				   path_of("s192.simpleblob")), 0);
	key = openssl_open_simple("s192.simpleblob", path_of("partner.pem"), false, &len);
	CU_ASSERT_EQUAL(len, 24);
	free(key);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s --container c2 --type simple --alg 3des --oaep "
				   "--to %s --out %s", common, path_of("partner.publickeyblob"),
				   path_of("s3des.simpleblob")), 0);
	key = openssl_open_simple("s3des.simpleblob", path_of("partner.pem"), true, &len);
	CU_ASSERT_EQUAL(len, 24);
	free(key);
}

/* ---- trust ---- */

/* capi11-tool trust: the security officer makes a key-encryption key and a
 * partner's public key trusted; under the sensitive policy a key then
 * leaves under those (README, "Key protection"), and under nothing else:
 * not under a key-encryption key the caller knows, not to another public
 * key. openssl checks the SIMPLEBLOB it opens with the partner's key. */
static void test_trust(void)
{
	char *tok = fixture_token_make("trust"), *conf_text, *conf, *out = NULL, *args, *list;
	const char *old_conf = getenv("CAPI11_CONF");
	unsigned char kek[32], *key;
	size_t len, n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	make_partner();
	make_aes256_blob("trusted.kek", kek);
	make_aes256_blob("caller.kek", kek);
	write_mode("so.pin", FIXTURE_SO_PIN "\n", 0600);
	write_mode("so-open.pin", FIXTURE_SO_PIN "\n", 0644);
	write_mode("so-wrong.pin", "999999\n", 0600);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genrsa -out %s 1024", OPENSSL_BIN,
					  path_of("other.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s rsa -in %s -pubout -out %s", OPENSSL_BIN,
					  path_of("other.pem"), path_of("other.pub.pem")), 0);
	n = strlen(tok) + strlen(SOFTHSM_MODULE) + 256;
	conf_text = malloc(n);
	snprintf(conf_text, n, "[provider \"guarded\"]\nuri = pkcs11:token=%s?module-path=%s\n"
		 "exportable-policy = sensitive\n", tok, SOFTHSM_MODULE);
	conf = fixture_write_file("trust.conf", conf_text, strlen(conf_text));
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	setenv("CAPI11_CONF", conf, 1);
	n = strlen(path_of("pin")) + 128;
	args = malloc(n);
	list = malloc(n);
	snprintf(args, n, "--provider guarded --container t --pin-file '%s'", path_of("pin"));
	snprintf(list, n, "--provider guarded --pin-file '%s'", path_of("pin"));

	/* The SO PIN file is held to the PIN file rule; a wrong SO PIN is
	 * refused by the token, and neither leaves a key behind. */
	CU_ASSERT_EQUAL(tool(&out, "trust %s --kek %s --so-pin-file %s", args,
			     path_of("trusted.kek"), path_of("so-open.pin")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "chmod 600"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "trust %s --kek %s --so-pin-file %s", args,
			     path_of("trusted.kek"), path_of("so-wrong.pin")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "SCARD_W_WRONG_CHV"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "list %s", list), 0);
	CU_ASSERT_PTR_NULL(strstr(out, " kek "));
	free(out);
	/* A PLAINTEXTKEYBLOB is no public key, and the other way round. */
	CU_ASSERT_EQUAL(tool(NULL, "trust %s --public-key %s --so-pin-file %s", args,
			     path_of("trusted.kek"), path_of("so.pin")), 1);
	CU_ASSERT_EQUAL(tool(NULL, "trust %s --kek %s --so-pin-file %s", args,
			     path_of("partner.publickeyblob"), path_of("so.pin")), 1);

	CU_ASSERT_EQUAL_FATAL(tool(NULL, "trust %s --kek %s --so-pin-file %s", args,
				   path_of("trusted.kek"), path_of("so.pin")), 0);
	CU_ASSERT_EQUAL(tool(&out, "list %s", list), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "kek "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_AES_256"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "sensitive keys leave: wrapped under trusted keys"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "list --json %s", list), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"sensitive_keys_leave\":\"wrapped under trusted keys\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"spec\":\"kek\""));
	free(out);

	/* A sensitive exchange key leaves under the trusted key only. */
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "genkey %s --exportable", args), 0);
	CU_ASSERT_EQUAL(tool(NULL, "export %s --type opaque --wrap-key kek --out %s", args,
			     path_of("t.opaque")), 0);
	CU_ASSERT_EQUAL(tool(&out, "export %s --type opaque --wrap-key %s --out %s", args,
			     path_of("caller.kek"), path_of("c.opaque")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_KEY_STATE"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "export %s --type private --out %s", args, path_of("t.private")),
			1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_KEY_STATE"));
	free(out);

	/* A session key goes to the trusted partner, not to another key. */
	CU_ASSERT_EQUAL(tool(&out, "export %s --type simple --alg AES_256 --to %s --out %s", args,
			     path_of("partner.pub.pem"), path_of("t.simpleblob")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_KEY_STATE"));
	free(out);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "trust %s --public-key %s --so-pin-file %s", args,
				   path_of("partner.pub.pem"), path_of("so.pin")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s --type simple --alg AES_256 --to %s --out %s",
				   args, path_of("partner.publickeyblob"),
				   path_of("t.simpleblob")), 0);
	key = openssl_open_simple("t.simpleblob", path_of("partner.pem"), false, &len);
	CU_ASSERT_EQUAL(len, 32);
	free(key);
	CU_ASSERT_EQUAL(tool(&out, "export %s --type simple --alg AES_256 --to %s --out %s", args,
			     path_of("other.pub.pem"), path_of("o.simpleblob")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_KEY_STATE"));
	free(out);

	if (old_conf != NULL)
		setenv("CAPI11_CONF", old_conf, 1);
	else
		setenv("CAPI11_CONF", "/dev/null", 1);
	free(args);
	free(list);
	free(conf);
	free(conf_text);
	free(tok);
}

/* ---- wrap ---- */

static void test_wrap(void)
{
	static const char msg[] = "partner, this travels under a session key from the HSM\n";
	unsigned char *key;
	size_t len, blen;
	char *khex;
	unsigned char *blob;

	make_partner();
	write_bytes("msg.txt", msg, sizeof msg - 1);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "wrap %s --to %s --alg AES_128 --out %s --data %s "
				   "--data-out %s", common, path_of("partner.pub.pem"),
				   path_of("wrap.simpleblob"), path_of("msg.txt"),
				   path_of("msg.enc")), 0);
	blob = read_all(path_of("wrap.simpleblob"), &blen);
	/* BLOBHEADER {SIMPLEBLOB, 2, 0, CALG_AES_128}, then CALG_RSA_KEYX. */
	CU_ASSERT_EQUAL(blen, 8 + 4 + 128);
	CU_ASSERT_EQUAL(memcmp(blob, "\x01\x02\x00\x00\x0e\x66\x00\x00\x00\xa4\x00\x00", 12), 0);
	free(blob);
	key = openssl_open_simple("wrap.simpleblob", path_of("partner.pem"), false, &len);
	CU_ASSERT_EQUAL_FATAL(len, 16);
	khex = testutil_hex_new(key, len);
	/* CryptoAPI's defaults: CBC, zero IV, PKCS#5 padding. */
	CU_ASSERT_EQUAL(fixture_run("%s enc -d -aes-128-cbc -K %s -iv 00000000000000000000000000000000"
				    " -in %s -out %s", OPENSSL_BIN, khex, path_of("msg.enc"),
				    path_of("msg.dec")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("msg.txt"), path_of("msg.dec")));
	free(khex);
	free(key);

	/* OAEP, recipient given as a PUBLICKEYBLOB, no container. */
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "wrap --provider 'pkcs11:token=%s?module-path=%s' "
				   "--pin-file %s --to %s --oaep --out %s",
				   label, SOFTHSM_MODULE, path_of("pin"),
				   path_of("partner.publickeyblob"), path_of("wrap-oaep.simpleblob")),
			      0);
	key = openssl_open_simple("wrap-oaep.simpleblob", path_of("partner.pem"), true, &len);
	CU_ASSERT_EQUAL(len, 32);
	free(key);

	/* The partner side through capi11: import its key, open the SIMPLEBLOB,
	 * decrypt the data. */
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "import %s --container partner %s", common,
				   path_of("partner.pem")), 0);
	CU_ASSERT_EQUAL(tool(NULL, "import %s --container partner --decrypt %s --out %s %s", common,
			     path_of("msg.enc"), path_of("msg.dec2"), path_of("wrap.simpleblob")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("msg.txt"), path_of("msg.dec2")));
	CU_ASSERT_EQUAL(tool(NULL, "wrap %s --to %s --data %s", common, path_of("partner.pub.pem"),
			     path_of("msg.txt")), 2);
}

/* ---- --out files ---- */

/* Key blobs are secrets: a new --out file is 0600 whatever the umask,
 * public blobs too; an existing file keeps its mode (a secret narrows one
 * that group or others could read, as capi11-tool(1) says) and is
 * truncated, never replaced by a wider one. */
static void test_out_modes(void)
{
	static const mode_t umasks[] = { 022, 0 };
	size_t len;
	unsigned char *b;
	mode_t saved;

	for (size_t i = 0; i < sizeof umasks / sizeof umasks[0]; i++) {
		saved = umask(umasks[i]);
		unlink(path_of("new.pub"));
		unlink(path_of("new.priv"));
		CU_ASSERT_EQUAL(tool(NULL, "export %s --container c2 --out %s", common,
				     path_of("new.pub")), 0);
		CU_ASSERT_EQUAL(tool(NULL, "export %s --container c2 --type private --out %s",
				     common, path_of("new.priv")), 0);
		umask(saved);
		CU_ASSERT_EQUAL(mode_of(path_of("new.pub")), 0600);
		CU_ASSERT_EQUAL(mode_of(path_of("new.priv")), 0600);
	}
	CU_ASSERT_TRUE(files_equal(path_of("new.pub"), path_of("c2.publickeyblob")));
	CU_ASSERT_TRUE(files_equal(path_of("new.priv"), path_of("c2.privatekeyblob")));

	/* 0600 stays 0600; the old, longer content is gone. */
	write_mode("old.priv", "an old file, longer than nothing at all and than a header........"
		   "..................................................................."
		   "..................................................................."
		   "..................................................................."
		   "..................................................................."
		   "..................................................................."
		   "...................................................................",
		   0600);
	CU_ASSERT_EQUAL(tool(NULL, "export %s --container c2 --type private --out %s", common,
			     path_of("old.priv")), 0);
	CU_ASSERT_EQUAL(mode_of(path_of("old.priv")), 0600);
	CU_ASSERT_TRUE(files_equal(path_of("old.priv"), path_of("c2.privatekeyblob")));
	/* 0640 is not widened: a public blob leaves it as it is... */
	write_mode("old.pub", "old", 0640);
	CU_ASSERT_EQUAL(tool(NULL, "export %s --container c2 --out %s", common,
			     path_of("old.pub")), 0);
	CU_ASSERT_EQUAL(mode_of(path_of("old.pub")), 0640);
	b = read_all(path_of("old.pub"), &len);
	CU_ASSERT_EQUAL(len, 20 + 128);
	free(b);
	/* ...and a secret narrows it to the owner before it is written. */
	write_mode("old.priv2", "old", 0640);
	CU_ASSERT_EQUAL(tool(NULL, "export %s --container c2 --type private --out %s", common,
			     path_of("old.priv2")), 0);
	CU_ASSERT_EQUAL(mode_of(path_of("old.priv2")), 0600);
	write_mode("old.priv3", "old", 0444);
	CU_ASSERT_EQUAL(tool(NULL, "export %s --container c2 --type private --out %s", common,
			     path_of("old.priv3")), geteuid() == 0 ? 0 : 1);
	CU_ASSERT_EQUAL(mode_of(path_of("old.priv3")), geteuid() == 0 ? 0400 : 0444);
}

/* --out never follows a symbolic link, dangling or not: refused with an
 * error that says so, and the link's target is left as it was. */
static void test_out_symlink(void)
{
	char *out, *text;
	size_t len;

	write_mode("victim", "untouched", 0644);
	unlink(path_of("out.lnk"));
	unlink(path_of("out.dangling"));
	unlink(path_of("nowhere"));
	CU_ASSERT_EQUAL_FATAL(symlink(path_of("victim"), path_of("out.lnk")), 0);
	CU_ASSERT_EQUAL_FATAL(symlink(path_of("nowhere"), path_of("out.dangling")), 0);
	CU_ASSERT_EQUAL(tool(&out, "export %s --container c2 --type private --out %s", common,
			     path_of("out.lnk")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "symbolic link"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "export %s --container c2 --out %s", common,
			     path_of("out.lnk")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "symbolic link"));
	free(out);
	text = (char *)read_all(path_of("victim"), &len);
	CU_ASSERT_TRUE(len == 9 && memcmp(text, "untouched", 9) == 0);
	free(text);
	CU_ASSERT_EQUAL(mode_of(path_of("victim")), 0644);
	CU_ASSERT_EQUAL(tool(&out, "wrap %s --to %s --out %s", common, path_of("partner.pub.pem"),
			     path_of("out.dangling")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "symbolic link"));
	free(out);
	CU_ASSERT_NOT_EQUAL(access(path_of("nowhere"), F_OK), 0);
}

/* ---- import ---- */

static void test_import(void)
{
	char *out, *m_pem, *m_blob;
	size_t al, bl;
	unsigned char *a, *b;

	/* A PEM private key becomes the container's exchange pair. */
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genrsa -out %s 1024", OPENSSL_BIN,
					  path_of("imp.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(&out, "import %s --container imp --exportable %s", common,
				   path_of("imp.pem")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_RSA_KEYX"));
	free(out);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s --container imp --out %s", common,
				   path_of("imp.publickeyblob")), 0);
	m_pem = openssl_modulus("", path_of("imp.pem"));
	m_blob = openssl_modulus("-pubin -inform MSBLOB", path_of("imp.publickeyblob"));
	CU_ASSERT_STRING_EQUAL(m_pem, m_blob);
	free(m_pem);
	free(m_blob);

	/* openssl's PRIVATEKEYBLOB in, the same bytes out. */
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s rsa -in %s -outform MSBLOB -out %s", OPENSSL_BIN,
					  path_of("imp.pem"), path_of("imp.openssl.privblob")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "import %s --container imp2 --exportable %s", common,
				   path_of("imp.openssl.privblob")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s --container imp2 --type private --out %s",
				   common, path_of("imp2.privblob")), 0);
	a = read_all(path_of("imp.openssl.privblob"), &al);
	b = read_all(path_of("imp2.privblob"), &bl);
	CU_ASSERT_TRUE(al == bl && memcmp(a, b, al) == 0);
	free(a);
	free(b);

	/* A DER key (PKCS#8) as the signature key, not exportable. */
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkcs8 -topk8 -nocrypt -in %s -outform DER -out %s",
					  OPENSSL_BIN, path_of("imp.pem"), path_of("imp.p8.der")), 0);
	CU_ASSERT_EQUAL(tool(&out, "import %s --container imp3 --spec signature %s", common,
			     path_of("imp.p8.der")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_RSA_SIGN"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "export %s --container imp3 --spec signature --type private",
			     common), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_KEY_STATE"));
	free(out);

	/* Not a key at all: a failure, not a crash. */
	write_bytes("junk", "hello, not a key", 16);
	CU_ASSERT_EQUAL(tool(NULL, "import %s --container imp4 %s", common, path_of("junk")), 1);
}

/* SYMMETRICWRAPKEYBLOB under an AES-256 key given as a PLAINTEXTKEYBLOB,
 * opened by openssl's RFC 3394 key wrap; then imported back. */
static void test_symmetric_wrap(void)
{
	unsigned char kek[32], *blob;
	char *khex, *out;
	size_t len;
	int st;

	make_aes256_blob("kek.blob", kek);
	st = tool(&out, "export %s --container c2 --type SYMMETRICWRAPKEYBLOB --alg AES_128 "
		  "--wrap-key %s --out %s", common, path_of("kek.blob"), path_of("sw.blob"));
	if (st == 1 && strstr(out, "NTE_NOT_SUPPORTED") != NULL) {
		free(out);
		return;     /* the route is not in this build: said clearly */
	}
	CU_ASSERT_EQUAL_FATAL(st, 0);
	free(out);
	blob = read_all(path_of("sw.blob"), &len);
	/* BLOBHEADER {0xB, 2, 0, CALG_AES_128}, CALG_AES_256, 24 wrapped bytes. */
	CU_ASSERT_EQUAL_FATAL(len, 12 + 24);
	CU_ASSERT_EQUAL(memcmp(blob, "\x0b\x02\x00\x00\x0e\x66\x00\x00\x10\x66\x00\x00", 12), 0);
	write_bytes("sw.wrapped", blob + 12, 24);
	khex = testutil_hex_new(kek, 32);
	CU_ASSERT_EQUAL(fixture_run("%s enc -d -id-aes256-wrap -K %s -iv A6A6A6A6A6A6A6A6 -in %s "
				    "-out %s", OPENSSL_BIN, khex, path_of("sw.wrapped"),
				    path_of("sw.key")), 0);
	free(khex);
	free(blob);
	blob = read_all(path_of("sw.key"), &len);
	CU_ASSERT_EQUAL(len, 16);
	free(blob);
	CU_ASSERT_EQUAL(tool(&out, "import %s --container c2 --unwrap-with %s %s", common,
			     path_of("kek.blob"), path_of("sw.blob")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_AES_128"));
	free(out);
}

/* A 3DES wrapping key: Microsoft's RFC 3217 SYMMETRICWRAPKEYBLOB. The
 * wrapping key is an ordinary session key (CRYPT_KEK is for AES keys), so
 * the tool must not ask for a key-encryption key here. */
static void test_symmetric_wrap_3des(void)
{
	/* PLAINTEXTKEYBLOB 0x8, version 2, CALG_3DES 0x6603, 24 bytes. */
	unsigned char kek[12 + 24] = { 0x08, 2, 0, 0, 0x03, 0x66, 0, 0, 24, 0, 0, 0 }, *blob;
	char *out;
	size_t len;

	for (size_t i = 0; i < 24; i++)
		kek[12 + i] = (unsigned char)(0x31 + 7 * i);
	write_bytes("kek3.blob", kek, sizeof kek);
	CU_ASSERT_EQUAL_FATAL(tool(&out, "export %s --container c2 --type symmetricwrap --alg 3DES "
				   "--wrap-key %s --out %s", common, path_of("kek3.blob"),
				   path_of("sw3.blob")), 0);
	free(out);
	blob = read_all(path_of("sw3.blob"), &len);
	/* BLOBHEADER {0xB, 2, 0, CALG_3DES}, CALG_3DES, then RFC 3217's 40
	 * bytes: the 24-byte key, its 8-byte checksum, and the 8-byte IV. */
	CU_ASSERT_EQUAL_FATAL(len, 12 + 40);
	CU_ASSERT_EQUAL(memcmp(blob, "\x0b\x02\x00\x00\x03\x66\x00\x00\x03\x66\x00\x00", 12), 0);
	free(blob);
	CU_ASSERT_EQUAL(tool(&out, "import %s --container c2 --unwrap-with %s %s", common,
			     path_of("kek3.blob"), path_of("sw3.blob")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_3DES"));
	free(out);
}

/* OPAQUEKEYBLOB and the encrypted PRIVATEKEYBLOB: routes whose absence
 * must be reported as NTE_NOT_SUPPORTED. */
static void test_opaque_and_encrypted(void)
{
	unsigned char k[32];
	char *out;
	int st;

	make_aes256_blob("opq.kek", k);
	st = tool(&out, "export %s --container c2 --type OPAQUEKEYBLOB --wrap-key %s --out %s",
		  common, path_of("opq.kek"), path_of("c2.opaque"));
	if (st != 0)
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_NOT_SUPPORTED"));
	free(out);
	if (st == 0) {
		CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("c2.opaque")), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"C11O\""));
		free(out);
	}

	make_aes256_blob("enc.key", k);
	st = tool(&out, "export %s --container c2 --type PRIVATEKEYBLOB --wrap-key %s --out %s",
		  common, path_of("enc.key"), path_of("c2.encpriv"));
	if (st != 0)
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_NOT_SUPPORTED"));
	free(out);
	if (st != 0)
		return;
	/* Only the header is clear: dump says so instead of decoding noise. */
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("c2.encpriv")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "encrypted"));
	free(out);
	CU_ASSERT_EQUAL(tool(NULL, "import %s --container c2copy --unwrap-with %s %s", common,
			     path_of("enc.key"), path_of("c2.encpriv")), 0);
	CU_ASSERT_EQUAL(tool(NULL, "export %s --container c2copy --out %s", common,
			     path_of("c2copy.publickeyblob")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("c2copy.publickeyblob"), path_of("c2.publickeyblob")));
}

/* ---- dump ---- */

static void test_dump_wellformed(void)
{
	char *out, *flat, *mod;
	int st;

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genrsa -out %s 1024", OPENSSL_BIN,
					  path_of("d.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s rsa -in %s -outform MSBLOB -out %s", OPENSSL_BIN,
					  path_of("d.pem"), path_of("d.priv")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s rsa -in %s -pubout -outform MSBLOB -out %s",
					  OPENSSL_BIN, path_of("d.pem"), path_of("d.pub")), 0);
	mod = openssl_modulus("", path_of("d.pem"));

	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("d.pub")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "PUBLICKEYBLOB"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x31415352 \"RSA1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_RSA_KEYX"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "65537"));
	flat = squeeze(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(flat, mod));
	free(flat);
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "dump - < %s", path_of("d.priv")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x32415352 \"RSA2\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "privateExponent"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "coefficient"));
	free(out);

	/* DSS blobs as openssl writes them (160-bit q, as DSSPUBKEY needs). */
	st = fixture_run("%s genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 "
			 "-pkeyopt dsa_paramgen_q_bits:160 -out %s && %s genpkey -paramfile %s "
			 "-out %s && %s dsa -in %s -pubout -outform MSBLOB -out %s && "
			 "%s dsa -in %s -outform MSBLOB -out %s", OPENSSL_BIN, path_of("dsap.pem"),
			 OPENSSL_BIN, path_of("dsap.pem"), path_of("dsa.pem"), OPENSSL_BIN,
			 path_of("dsa.pem"), path_of("dsa.pub"), OPENSSL_BIN, path_of("dsa.pem"),
			 path_of("dsa.priv"));
	CU_ASSERT_EQUAL_FATAL(st, 0);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dsa.pub")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x31535344 \"DSS1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_DSS_SIGN"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dsa.priv")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x32535344 \"DSS2\""));
	free(out);
	/* docs/OPAQUEKEYBLOB.md's examples: a key-encryption key in format
	 * version 2, and an AES-128 key in version 1, which has no usage. */
	{
		BYTE kek[40 + 40] = { OPAQUEKEYBLOB, 2, 0, 0, 0x10, 0x66, 0, 0, 'C', '1', '1', 'O',
				      2, 0, 0, 0, 0x09, 0x21, 0, 0, 0x1f, 0, 0, 0, 32, 0, 0, 0,
				      0x0e, 0x66, 0, 0, 1, 0, 0, 0, 40, 0, 0, 0 };
		BYTE v1[36 + 24] = { OPAQUEKEYBLOB, 2, 0, 0, 0x0e, 0x66, 0, 0, 'C', '1', '1', 'O',
				     1, 0, 0, 0, 0x09, 0x21, 0, 0, 0x1f, 0, 0, 0, 16, 0, 0, 0,
				     0x10, 0x66, 0, 0, 24, 0, 0, 0 };

		memset(kek + 40, 0x5c, 40);
		write_bytes("kek.opaque", kek, sizeof kek);
		CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("kek.opaque")), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "ok: well-formed"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x000c  version"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x0020  usage                0x00000001 "
						   "wrap-only key-encryption key"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x0024  wrappedLength        40 "));
		free(out);
		kek[32] = 0;
		write_bytes("kek.opaque", kek, sizeof kek);
		CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("kek.opaque")), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x0020  usage                0x00000000 "
						   "(not a key-encryption key)"));
		free(out);
		memset(v1 + 36, 0x5c, 24);
		write_bytes("v1.opaque", v1, sizeof v1);
		CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("v1.opaque")), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "ok: well-formed"));
		CU_ASSERT_PTR_NULL(strstr(out, "usage"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x0020  wrappedLength        24 "));
		free(out);
	}
	/* Blobs the tool wrote. */
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("wrap.simpleblob")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "SIMPLEBLOB"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_AES_128"));
	free(out);
	free(mod);
}

/* Truncated and corrupted blobs: exit 1 and an "error:" line naming the
 * problem, never a crash (a signal shows as an exit status above 128). */
static void test_dump_malformed(void)
{
	static const size_t cuts[] = { 0, 1, 7, 8, 11, 19, 20, 100, 147, 148 + 200, 467 };
	size_t len;
	unsigned char *priv = read_all(path_of("d.priv"), &len), *bad;
	char *out;

	CU_ASSERT_EQUAL_FATAL(len, 20 + 128 + 5 * 64 + 128);
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		write_bytes("cut.blob", priv, cuts[i]);
		CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("cut.blob")), 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "error: "));
		if (cuts[i] >= 20)
			CU_ASSERT_PTR_NOT_NULL(strstr(out, "truncated"));
		free(out);
	}
	/* Windows accepts a PRIVATEKEYBLOB whose privateExponent is cut short
	 * (20 + k + 5h bytes is enough): well-formed, with a note. */
	write_bytes("cut.blob", priv, 468);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("cut.blob")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "privateExponent truncated"));
	free(out);

	bad = malloc(len);
	/* wrong magic, reserved, version, bit length, type, exponent */
	struct { size_t off; unsigned char val; const char *says; } corrupt[] = {
		{ 8, 'X', "unknown magic" },
		{ 2, 1, "reserved" },
		{ 1, 9, "bVersion 9" },
		{ 12, 0xff, "bitlen" },
		{ 0, 0x55, "unknown blob type" },
		{ 16, 1, "pubexp" },
		{ 8, 0x31, "public-key magic in a PRIVATEKEYBLOB" },
	};
	for (size_t i = 0; i < sizeof corrupt / sizeof corrupt[0]; i++) {
		memcpy(bad, priv, len);
		bad[corrupt[i].off] = corrupt[i].val;
		if (corrupt[i].off == 16)
			bad[17] = bad[18] = 0;
		if (corrupt[i].off == 8 && corrupt[i].val == 0x31)
			bad[8] = 'R', bad[9] = 'S', bad[10] = 'A', bad[11] = '1';
		write_bytes("bad.blob", bad, len);
		CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("bad.blob")), 1);
		if (strstr(out, corrupt[i].says) == NULL)
			fprintf(stderr, "corruption %zu: no \"%s\" in:\n%s\n", i, corrupt[i].says, out);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, corrupt[i].says));
		free(out);
	}
	/* A huge declared size must not be trusted. */
	memcpy(bad, "\x08\x02\x00\x00\x10\x66\x00\x00\xff\xff\xff\xff", 12);
	write_bytes("bad.blob", bad, 40);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("bad.blob")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "dwKeySize"));
	free(out);
	CU_ASSERT_EQUAL(tool(NULL, "dump %s", path_of("no-such-file")), 1);
	free(bad);
	free(priv);
}

/* ---- DSS keys and Diffie-Hellman blobs ---- */

/* The number openssl's "-text" prints after field (e.g. "pub:", "P:"), as
 * lowercase hex without colons or leading zero bytes: the indented lines
 * below the label, or an inline "N (0xHEX)" for a small one. */
static char *openssl_text_number(const char *text, const char *field)
{
	const char *p = strstr(text, field), *nl, *inl;
	char *out, *o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p += strlen(field);
	nl = strchr(p, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
	out = calloc(1, strlen(p) + 1);
	o = out;
	inl = strstr(p, "(0x");
	if (inl != NULL && inl < nl) {
		for (inl += 3; isxdigit((unsigned char)*inl); inl++)
			*o++ = (char)tolower((unsigned char)*inl);
		return out;
	}
	/* The continuation lines start with blanks; the next label does not. */
	for (p = nl + 1; *p == ' '; p = strchr(p, '\n') + 1) {
		for (; *p != '\n' && *p != '\0'; p++)
			if (isxdigit((unsigned char)*p))
				*o++ = (char)tolower((unsigned char)*p);
		if (*p == '\0')
			break;
	}
	while (out[0] == '0' && out[1] == '0' && out[2] != '\0')
		memmove(out, out + 2, strlen(out + 2) + 1);
	return out;
}

/* Whether the squeezed dump output holds hex as one of its numbers. */
static bool dump_shows(const char *flat, const char *hex)
{
	return strstr(flat, hex) != NULL;
}

/* A DSS key made on the token with genkey, exported as blob, PEM and DER,
 * public and private, both blob versions: openssl's MSBLOB reader and
 * GnuTLS's p11tool reading the token's public key object give the same
 * key (byte-equal PEM), the version 3 blobs' numbers are openssl's, and a
 * key made without CRYPT_EXPORTABLE does not leave. */
static void test_dss_genkey_export(void)
{
	char *out, *text, *flat, *hex;
	const char *dss = "--prov-type dss --container dss1";

	CU_ASSERT_EQUAL_FATAL(tool(&out, "genkey %s --container dss1 --alg dss --exportable",
				   common), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "generated signature key: CALG_DSS_SIGN, 1024 bits"));
	free(out);
	/* Microsoft's DSS range: 512 to 1024 in steps of 64 (NTE_BAD_DATA).
	 * (SoftHSM 2.6 on OpenSSL 3 makes only 1024-bit DSA pairs.) */
	CU_ASSERT_EQUAL(tool(&out, "genkey %s --container dss520 --alg dss --bits 520", common), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_DATA"));
	free(out);
	/* An RSA context neither makes nor sees DSS keys. */
	CU_ASSERT_EQUAL(tool(&out, "genkey %s --container dss1 --alg dss --prov-type rsa_aes",
			     common), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_ALGID"));
	free(out);
	CU_ASSERT_EQUAL(tool(NULL, "genkey %s --alg dss --spec exchange", common), 2);
	CU_ASSERT_EQUAL(tool(NULL, "genkey %s --alg dh_ephem", common), 2);
	CU_ASSERT_EQUAL(tool(NULL, "export %s --prov-type dsss", common), 2);

	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --out %s", common, dss,
				   path_of("dss1.pub")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --format pem --out %s", common, dss,
				   path_of("dss1.pub.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --format der --out %s", common, dss,
				   path_of("dss1.pub.der")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --type private --out %s", common, dss,
				   path_of("dss1.priv")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --type private --format pem --out %s",
				   common, dss, path_of("dss1.key.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --ver3 --out %s", common, dss,
				   path_of("dss1.pub3")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --type private --ver3 --out %s", common,
				   dss, path_of("dss1.priv3")), 0);

	/* openssl's MSBLOB reader (version 2 only) writes the same PEM. */
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkey -pubin -inform MSBLOB -in %s -pubout -out %s",
					  OPENSSL_BIN, path_of("dss1.pub"),
					  path_of("dss1.openssl.pub.pem")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("dss1.pub.pem"), path_of("dss1.openssl.pub.pem")));
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkey -pubin -inform MSBLOB -in %s -pubout -outform "
					  "DER -out %s", OPENSSL_BIN, path_of("dss1.pub"),
					  path_of("dss1.openssl.pub.der")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("dss1.pub.der"), path_of("dss1.openssl.pub.der")));
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkey -inform MSBLOB -in %s -out %s", OPENSSL_BIN,
					  path_of("dss1.priv"), path_of("dss1.openssl.key.pem")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("dss1.key.pem"), path_of("dss1.openssl.key.pem")));
	/* openssl dsa reads both PEMs, and the private one's public half is
	 * the public one. */
	CU_ASSERT_EQUAL(fixture_run("%s dsa -pubin -in %s -noout", OPENSSL_BIN,
				    path_of("dss1.pub.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s dsa -in %s -pubout -out %s", OPENSSL_BIN,
					  path_of("dss1.key.pem"), path_of("dss1.derived.pem")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("dss1.pub.pem"), path_of("dss1.derived.pem")));
	/* The token's own public key object, read by p11tool (pkcs11-tool
	 * reads no DSA public keys). */
	CU_ASSERT_FATAL(P11TOOL[0] != '\0');
	CU_ASSERT_EQUAL_FATAL(fixture_run("GNUTLS_PIN=%s %s --provider %s --login --export-pubkey "
					  "'pkcs11:token=%s;object=dss1;type=public' --outfile %s "
					  "2>/dev/null", FIXTURE_PIN, P11TOOL, SOFTHSM_MODULE, label,
					  path_of("dss1.token.pem")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("dss1.pub.pem"), path_of("dss1.token.pem")));

	/* The version 3 blobs, dumped: Microsoft's fields, openssl's numbers. */
	text = fixture_capture(NULL, "%s pkey -in %s -text -noout", OPENSSL_BIN,
			       path_of("dss1.key.pem"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dss1.priv3")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x34535344 \"DSS4\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bVersion             3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bitlenP              1024"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bitlenQ              160"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bitlenJ              0 (0x00000000) (J is not in the "
					   "blob)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bitlenX              160"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(0xffffffff) no seed"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "ok: well-formed PRIVATEKEYBLOB"));
	flat = squeeze(out);
	{
		static const char *const labels[] = { "P:", "Q:", "G:", "pub:", "priv:" };

		for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
			hex = openssl_text_number(text, labels[i]);
			CU_ASSERT_TRUE(strlen(hex) >= 40);
			if (!dump_shows(flat, hex))
				fprintf(stderr, "dump of DSS4 lacks openssl's %s %s\n", labels[i], hex);
			CU_ASSERT_TRUE(dump_shows(flat, hex));
			free(hex);
		}
	}
	free(flat);
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dss1.pub3")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x33535344 \"DSS3\""));
	CU_ASSERT_PTR_NULL(strstr(out, "bitlenX"));
	flat = squeeze(out);
	hex = openssl_text_number(text, "pub:");
	CU_ASSERT_TRUE(dump_shows(flat, hex));
	free(hex);
	free(flat);
	free(out);
	free(text);

	/* Not exportable: NTE_BAD_KEY_STATE, and no file in any format. */
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "genkey %s --container dss2 --alg dss --bits 1024", common),
			      0);
	unlink(path_of("dss2.priv"));
	CU_ASSERT_EQUAL(tool(&out, "export %s --prov-type dss --container dss2 --type private "
			     "--out %s", common, path_of("dss2.priv")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_KEY_STATE"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "export %s --prov-type dss --container dss2 --type private "
			     "--format pem --out %s", common, path_of("dss2.priv")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_KEY_STATE"));
	free(out);
	CU_ASSERT_NOT_EQUAL(access(path_of("dss2.priv"), F_OK), 0);
	/* Its public half leaves as any public key does. */
	CU_ASSERT_EQUAL(tool(NULL, "export %s --prov-type dss --container dss2 --format pem "
			     "--out %s", common, path_of("dss2.pub.pem")), 0);
	CU_ASSERT_EQUAL(fixture_run("%s dsa -pubin -in %s -noout", OPENSSL_BIN,
				    path_of("dss2.pub.pem")), 0);
}

/* A DSS signature as CryptSignHash writes it (r then s, 20 bytes each,
 * little-endian: Microsoft's CryptSignHash page for DSS) turned into the
 * DER SEQUENCE of two INTEGERs openssl reads, here by hand so that the
 * tool's own conversion is checked against something else. */
static size_t der_integer(const BYTE *le, BYTE *out)
{
	BYTE be[21];
	size_t n = 20, at = 0, start;

	for (size_t i = 0; i < 20; i++)
		be[i + 1] = le[19 - i];
	be[0] = 0;
	start = 1;
	while (n > 1 && be[start] == 0) {
		start++;
		n--;
	}
	if (be[start] & 0x80) {
		start--;
		n++;
	}
	out[at++] = 0x02;
	out[at++] = (BYTE)n;
	memcpy(out + at, be + start, n);
	return at + n;
}

static size_t dss_sig_der(const BYTE win[40], BYTE out[48])
{
	size_t n = 2;

	n += der_integer(win, out + n);
	n += der_integer(win + 20, out + n);
	out[0] = 0x30;
	out[1] = (BYTE)(n - 2);
	return n;
}

/* A DSA key made by openssl imported into a container, signed with there,
 * the signature verified by openssl; openssl's signature verified by
 * capi11; keys of sizes Microsoft's DSS providers do not take refused. */
static void test_dss_import_sign(void)
{
	static const char text[] = "DSS: capi11-tool signs what openssl verifies\n";
	char *msg = strdup(path_of("dss.msg"));
	BYTE der[48];
	unsigned char *win;
	size_t win_len, der_len;
	char *out;

	write_bytes("dss.msg", text, sizeof text - 1);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genpkey -genparam -algorithm DSA -pkeyopt "
					  "dsa_paramgen_bits:1024 -pkeyopt dsa_paramgen_q_bits:160 "
					  "-out %s 2>/dev/null && %s genpkey -paramfile %s -out %s && "
					  "%s pkey -in %s -pubout -out %s", OPENSSL_BIN,
					  path_of("imp.dsap.pem"), OPENSSL_BIN, path_of("imp.dsap.pem"),
					  path_of("imp.dsa.pem"), OPENSSL_BIN, path_of("imp.dsa.pem"),
					  path_of("imp.dsa.pub.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(&out, "import %s --container dssimp %s", common,
				   path_of("imp.dsa.pem")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "imported PRIVATEKEYBLOB: CALG_DSS_SIGN, 1024 bits, "
					   "into container dssimp as its signature key"));
	free(out);
	/* The container's public key is openssl's. */
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s --prov-type dss --container dssimp --format pem "
				   "--out %s", common, path_of("dssimp.pub.pem")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("dssimp.pub.pem"), path_of("imp.dsa.pub.pem")));

	/* capi11 signs (SHA-1, Windows' byte order), openssl verifies. */
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "sign %s --prov-type dss --container dssimp --hash sha1 "
				   "--out %s %s", common, path_of("dss.sig.win"), msg), 0);
	win = read_all(path_of("dss.sig.win"), &win_len);
	CU_ASSERT_EQUAL_FATAL(win_len, 40);
	der_len = dss_sig_der(win, der);
	write_bytes("dss.sig.der", der, der_len);
	CU_ASSERT_EQUAL(fixture_run("%s dgst -sha1 -verify %s -signature %s %s >/dev/null",
				    OPENSSL_BIN, path_of("imp.dsa.pub.pem"), path_of("dss.sig.der"),
				    msg), 0);
	/* The tool's --format der is the same conversion. */
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "sign %s --prov-type dss --container dssimp --hash sha1 "
				   "--format der --out %s %s", common, path_of("dss.sig.tool.der"),
				   msg), 0);
	CU_ASSERT_EQUAL(fixture_run("%s dgst -sha1 -verify %s -signature %s %s >/dev/null",
				    OPENSSL_BIN, path_of("imp.dsa.pub.pem"),
				    path_of("dss.sig.tool.der"), msg), 0);
	/* A changed r fails openssl's check. */
	win[3] ^= 0x10;
	der_len = dss_sig_der(win, der);
	write_bytes("dss.sig.bad", der, der_len);
	CU_ASSERT_NOT_EQUAL(fixture_run("%s dgst -sha1 -verify %s -signature %s %s >/dev/null "
					"2>&1", OPENSSL_BIN, path_of("imp.dsa.pub.pem"),
					path_of("dss.sig.bad"), msg), 0);
	free(win);

	/* openssl signs, capi11 verifies: with the public PEM (a session
	 * object in a DSS verify context) and with the container's key. */
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s dgst -sha1 -sign %s -out %s %s", OPENSSL_BIN,
					  path_of("imp.dsa.pem"), path_of("dss.osig.der"), msg), 0);
	CU_ASSERT_EQUAL(tool(&out, "verify %s --key %s --hash sha1 --format der --signature %s %s",
			     common, path_of("imp.dsa.pub.pem"), path_of("dss.osig.der"), msg), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "signature valid"));
	free(out);
	CU_ASSERT_EQUAL(tool(NULL, "verify %s --prov-type dss --container dssimp --hash sha1 "
			     "--format der --signature %s %s", common, path_of("dss.osig.der"),
			     msg), 0);
	CU_ASSERT_EQUAL(tool(&out, "verify %s --prov-type dss --container dssimp --hash sha1 "
			     "--format der --signature %s %s", common, path_of("dss.osig.der"),
			     path_of("imp.dsa.pem")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NOT valid"));
	free(out);
	/* The public PEM imports on its own, as a session object. */
	CU_ASSERT_EQUAL(tool(&out, "import %s %s", common, path_of("imp.dsa.pub.pem")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "imported PUBLICKEYBLOB: CALG_DSS_SIGN, 1024 bits"));
	free(out);

	/* A 256-bit q is no DSS key of Microsoft's providers: refused by the
	 * tool with the reason, no container left behind. */
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genpkey -genparam -algorithm DSA -pkeyopt "
					  "dsa_paramgen_bits:1024 -pkeyopt dsa_paramgen_q_bits:256 "
					  "-out %s 2>/dev/null && %s genpkey -paramfile %s -out %s",
					  OPENSSL_BIN, path_of("q256p.pem"), OPENSSL_BIN,
					  path_of("q256p.pem"), path_of("q256.pem")), 0);
	CU_ASSERT_EQUAL(tool(&out, "import %s --container dssq256 %s", common, path_of("q256.pem")),
			1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "160-bit q"));
	free(out);
	{
		char *uri = fixture_token_uri(label);
		HCRYPTPROV h = 0;

		SetLastError(0xdeadbeef);
		CU_ASSERT_FALSE(CryptAcquireContextA(&h, "dssq256", uri, PROV_DSS_DH, 0));
		CU_ASSERT_EQUAL(GetLastError(), NTE_BAD_KEYSET);
		free(uri);
	}
	free(msg);
}

/* DH blobs, built here from the numbers openssl prints for a DH key (the
 * layouts of Microsoft's DHPUBKEY, DHPUBKEY_VER3 and DHPRIVKEY_VER3
 * pages), decoded by dump with those numbers; and malformed ones named. */
static void hex_to_le(const char *hex, BYTE *out, size_t width)
{
	size_t digits = strlen(hex), n = (digits + 1) / 2;

	CU_ASSERT_FATAL(n <= width);
	memset(out, 0, width);
	/* From the last digit: an odd count leaves one digit for the top
	 * byte (openssl prints a small g as "2"). */
	for (size_t i = 0; i < n; i++) {
		size_t end = digits - 2 * i, start = end >= 2 ? end - 2 : 0;
		char two[3] = { 0 };
		unsigned v;

		memcpy(two, hex + start, end - start);
		CU_ASSERT_FATAL(sscanf(two, "%x", &v) == 1);
		out[i] = (BYTE)v;
	}
}

/* hex left-padded with zeros to width bytes, as dump prints a field. */
static char *hex_padded(const char *hex, size_t width)
{
	size_t digits = strlen(hex);
	char *out = malloc(2 * width + 1);

	CU_ASSERT_FATAL(out != NULL && digits <= 2 * width);
	memset(out, '0', 2 * width - digits);
	memcpy(out + 2 * width - digits, hex, digits + 1);
	return out;
}

static void test_dh_dump(void)
{
	char *text, *x, *y, *p, *g, *out, *flat;
	BYTE blob[16 + 4 * 64 + 64];
	size_t P = 64, at;

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genpkey -genparam -algorithm DH -pkeyopt "
					  "dh_paramgen_prime_len:512 -out %s 2>/dev/null && "
					  "%s genpkey -paramfile %s -out %s", OPENSSL_BIN,
					  path_of("dhp.pem"), OPENSSL_BIN, path_of("dhp.pem"),
					  path_of("dh.pem")), 0);
	text = fixture_capture(NULL, "%s pkey -in %s -text -noout", OPENSSL_BIN, path_of("dh.pem"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	x = openssl_text_number(text, "private-key:");
	y = openssl_text_number(text, "public-key:");
	p = openssl_text_number(text, "P:");
	g = openssl_text_number(text, "G:");
	CU_ASSERT_EQUAL_FATAL(strlen(p), 2 * P);

	/* "\0DH1": BLOBHEADER, DHPUBKEY {magic, bitlen}, y. */
	memset(blob, 0, sizeof blob);
	blob[0] = PUBLICKEYBLOB;
	blob[1] = 2;
	testutil_le32_put(blob + 4, CALG_DH_SF);
	testutil_le32_put(blob + 8, 0x31484400);
	testutil_le32_put(blob + 12, 512);
	hex_to_le(y, blob + 16, P);
	write_bytes("dh1.blob", blob, 16 + P);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dh1.blob")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "0x31484400 \"\\0DH1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_DH_SF"));
	/* Judged as CryptImportKey judges it: an agreement with the
	 * context's DH key. */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "the import is an agreement"));
	CU_ASSERT_PTR_NULL(strstr(out, "does not import"));
	flat = squeeze(out);
	CU_ASSERT_TRUE(dump_shows(flat, y));
	free(flat);
	free(out);
	/* Cut: truncated, with the import's code. */
	write_bytes("dh1.cut", blob, 16 + P - 1);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dh1.cut")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "error: truncated"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(CryptImportKey: NTE_BAD_DATA)"));
	free(out);

	/* "\0DH2": prime, generator, secret, each bitlen / 8 bytes. */
	blob[0] = PRIVATEKEYBLOB;
	testutil_le32_put(blob + 4, CALG_DH_EPHEM);
	testutil_le32_put(blob + 8, 0x32484400);
	hex_to_le(p, blob + 16, P);
	hex_to_le(g, blob + 16 + P, P);
	hex_to_le(x, blob + 16 + 2 * P, P);
	write_bytes("dh2.blob", blob, 16 + 3 * P);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dh2.blob")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"\\0DH2\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_DH_EPHEM"));
	flat = squeeze(out);
	CU_ASSERT_TRUE(dump_shows(flat, p));
	CU_ASSERT_TRUE(dump_shows(flat, x));
	CU_ASSERT_TRUE(strstr(flat, "g64bytes,little-endian;value(big-endian"
				    "hex):000000") != NULL);
	free(flat);
	free(out);
	/* A public magic in a PRIVATEKEYBLOB. */
	testutil_le32_put(blob + 8, 0x31484400);
	write_bytes("dh2.bad", blob, 16 + 3 * P);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dh2.bad")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "error: magic 0x31484400"));
	free(out);

	/* "\0DH4" (version 3): bitlenP, bitlenQ 0 (q not available), bitlenJ
	 * 0, bitlenX, DSSSEED without a seed, then p, g, y, x. */
	memset(blob, 0, sizeof blob);
	blob[0] = PRIVATEKEYBLOB;
	blob[1] = 3;
	testutil_le32_put(blob + 4, CALG_DH_SF);
	testutil_le32_put(blob + 8, 0x34484400);
	testutil_le32_put(blob + 12, 512);
	testutil_le32_put(blob + 24, 512);
	testutil_le32_put(blob + 28, 0xffffffffu);
	at = 8 + 20 + 24;
	hex_to_le(p, blob + at, P);
	hex_to_le(g, blob + at + P, P);
	hex_to_le(y, blob + at + 2 * P, P);
	hex_to_le(x, blob + at + 3 * P, P);
	write_bytes("dh4.blob", blob, at + 4 * P);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dh4.blob")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"\\0DH4\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bitlenQ              0 (0x00000000) (Q is not "
					   "available)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(0xffffffff) no seed"));
	flat = squeeze(out);
	CU_ASSERT_TRUE(dump_shows(flat, p));
	CU_ASSERT_TRUE(dump_shows(flat, y));
	CU_ASSERT_TRUE(dump_shows(flat, x));
	free(flat);
	free(out);
	/* "\0DH3": the public form, no bitlenX. */
	blob[0] = PUBLICKEYBLOB;
	testutil_le32_put(blob + 8, 0x33484400);
	memmove(blob + 24, blob + 28, 24);
	at = 8 + 16 + 24;
	hex_to_le(p, blob + at, P);
	hex_to_le(g, blob + at + P, P);
	hex_to_le(y, blob + at + 2 * P, P);
	write_bytes("dh3.blob", blob, at + 3 * P);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dh3.blob")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"\\0DH3\""));
	CU_ASSERT_PTR_NULL(strstr(out, "bitlenX"));
	flat = squeeze(out);
	CU_ASSERT_TRUE(dump_shows(flat, y));
	free(flat);
	free(out);
	/* bitlenQ longer than P is no DH blob. */
	testutil_le32_put(blob + 16, 1024);
	write_bytes("dh3.bad", blob, at + 3 * P);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dh3.bad")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bitlenQ 1024: whole bytes, no longer than p"));
	free(out);
	free(text);
	free(x);
	free(y);
	free(p);
	free(g);
}

/* A little-endian field of a blob as lowercase big-endian hex without
 * leading zero bytes, as openssl_text_number gives numbers. */
static char *le_hex(const BYTE *le, size_t n)
{
	char *out = calloc(1, 2 * n + 3), *o = out;
	size_t i = n;

	while (i > 1 && le[i - 1] == 0)
		i--;
	while (i-- > 0)
		o += sprintf(o, "%02x", le[i]);
	return out;
}

/* The PKCS#8 DH private key of a "\0DH2" blob of P-byte numbers, written
 * as DER by openssl's asn1parse -genconf (PrivateKeyInfo: version 0, the
 * dhKeyAgreement AlgorithmIdentifier with DHParameter {p, g}, x in an
 * OCTET STRING), so that openssl alone says which y belongs to the blob's
 * x and what the key's public SubjectPublicKeyInfo is. */
static void dh2_to_pkcs8(const char *blob_name, size_t P, const char *der_name)
{
	size_t len;
	BYTE *b = read_all(path_of(blob_name), &len);
	char *p, *g, *x, *conf;
	int n;

	CU_ASSERT_EQUAL_FATAL(len, 16 + 3 * P);
	CU_ASSERT_EQUAL_FATAL(b[0], PRIVATEKEYBLOB);
	CU_ASSERT_EQUAL_FATAL(b[1], 2);
	p = le_hex(b + 16, P);
	g = le_hex(b + 16 + P, P);
	x = le_hex(b + 16 + 2 * P, P);
	n = asprintf(&conf, "asn1=SEQUENCE:pk\n[pk]\nver=INTEGER:0\nalg=SEQUENCE:alg\n"
		     "key=OCTWRAP,INTEGER:0x%s\n[alg]\noid=OID:dhKeyAgreement\n"
		     "params=SEQUENCE:params\n[params]\np=INTEGER:0x%s\ng=INTEGER:0x%s\n", x, p, g);
	CU_ASSERT_FATAL(n > 0);
	write_bytes("dh.genconf", conf, strlen(conf));
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s asn1parse -genconf %s -noout -out %s", OPENSSL_BIN,
					  path_of("dh.genconf"), path_of(der_name)), 0);
	explicit_bzero(conf, strlen(conf));
	explicit_bzero(x, strlen(x));
	explicit_bzero(b, len);
	free(conf);
	free(p);
	free(g);
	free(x);
	free(b);
}

/* capi11-tool and Diffie-Hellman keys, end to end: genkey of CALG_DH_SF
 * and CALG_DH_EPHEM, export of both blob types in both versions, the
 * public key as PEM/DER, import of private blobs (the tool's and one
 * built from openssl's numbers), a partner's public blob agreed with the
 * container's key, and dump of each. Expected numbers come from openssl:
 * the version 2 private blob, rebuilt as PKCS#8 by asn1parse, gives
 * openssl's p, g, x and the y it computes itself. */
static void test_dh_tool(void)
{
	const char *dh = "--prov-type dss_dh --container dh1";
	const size_t P = 128;
	char *out, *text, *flat, *hex, *osl[5];
	static const char *const labels[5] = { "P:", "G:", "public-key:", "private-key:", NULL };
	size_t len;
	BYTE *b;

	CU_ASSERT_EQUAL_FATAL(tool(&out, "genkey %s --container dh1 --alg dh --exportable",
				   common), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "generated exchange key: CALG_DH_SF, 1024 bits"));
	free(out);
	/* Not a multiple of 64: NTE_BAD_FLAGS, Windows' answer (dh.h). */
	CU_ASSERT_EQUAL(tool(&out, "genkey %s --container dh520 --alg dh --bits 520", common), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_FLAGS"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "genkey %s --container dh1 --alg dh --prov-type rsa_aes",
			     common), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_ALGID"));
	free(out);
	CU_ASSERT_EQUAL(tool(NULL, "genkey %s --alg dh --spec signature", common), 2);

	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --out %s", common, dh, path_of("dh1.pub")),
			      0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --ver3 --out %s", common, dh,
				   path_of("dh1.pub3")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --type private --out %s", common, dh,
				   path_of("dh1.priv")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --type private --ver3 --out %s", common, dh,
				   path_of("dh1.priv4")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --format pem --out %s", common, dh,
				   path_of("dh1.pub.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(tool(NULL, "export %s %s --format der --out %s", common, dh,
				   path_of("dh1.pub.der")), 0);
	/* A private DH key has no PEM/DER form here; nothing is written. */
	unlink(path_of("dh1.key.pem"));
	CU_ASSERT_EQUAL(tool(&out, "export %s %s --type private --format pem --out %s", common,
			     dh, path_of("dh1.key.pem")), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Diffie-Hellman private key has no PEM/DER form"));
	free(out);
	CU_ASSERT_NOT_EQUAL(access(path_of("dh1.key.pem"), F_OK), 0);
	/* The sizes of Microsoft's layouts (DHPUBKEY, DHPUBKEY_VER3 with no
	 * q or j, DHPRIVKEY_VER3 with x as long as p). */
	b = read_all(path_of("dh1.pub"), &len);
	CU_ASSERT_EQUAL(len, 16 + P);
	free(b);
	b = read_all(path_of("dh1.pub3"), &len);
	CU_ASSERT_EQUAL(len, 48 + 3 * P);
	free(b);
	b = read_all(path_of("dh1.priv4"), &len);
	CU_ASSERT_EQUAL(len, 52 + 4 * P);
	explicit_bzero(b, len);
	free(b);

	/* openssl's reading of the version 2 private blob. */
	dh2_to_pkcs8("dh1.priv", P, "dh1.p8.der");
	text = fixture_capture(NULL, "%s pkey -inform DER -in %s -text -noout", OPENSSL_BIN,
			       path_of("dh1.p8.der"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(text, "DH Private-Key: (1024 bit)"));
	/* Each as wide as its blob field (P bytes), as dump prints it. */
	for (int i = 0; labels[i] != NULL; i++) {
		hex = openssl_text_number(text, labels[i]);
		CU_ASSERT_TRUE(strlen(hex) >= 1);
		osl[i] = hex_padded(hex, P);
		free(hex);
	}
	CU_ASSERT_TRUE(strchr("89abcdef", osl[0][0]) != NULL);   /* p of 1024 bits */
	free(text);
	/* Its public key, as openssl writes it, is the tool's PEM and DER. */
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkey -inform DER -in %s -pubout -out %s",
					  OPENSSL_BIN, path_of("dh1.p8.der"),
					  path_of("dh1.openssl.pub.pem")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("dh1.pub.pem"), path_of("dh1.openssl.pub.pem")));
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkey -inform DER -in %s -pubout -outform DER -out %s",
					  OPENSSL_BIN, path_of("dh1.p8.der"),
					  path_of("dh1.openssl.pub.der")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("dh1.pub.der"), path_of("dh1.openssl.pub.der")));

	/* dump: every blob well formed, with openssl's numbers where the
	 * layout has them. */
	{
		static const struct { const char *file, *magic; int has[4]; } blobs[] = {
			{ "dh1.pub", "0x31484400 \"\\0DH1\"", { 0, 0, 1, 0 } },
			{ "dh1.pub3", "0x33484400 \"\\0DH3\"", { 1, 1, 1, 0 } },
			{ "dh1.priv", "0x32484400 \"\\0DH2\"", { 1, 1, 0, 1 } },
			{ "dh1.priv4", "0x34484400 \"\\0DH4\"", { 1, 1, 1, 1 } },
		};

		for (size_t i = 0; i < sizeof blobs / sizeof blobs[0]; i++) {
			CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of(blobs[i].file)), 0);
			CU_ASSERT_PTR_NOT_NULL(strstr(out, blobs[i].magic));
			CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_DH_SF"));
			CU_ASSERT_PTR_NOT_NULL(strstr(out, "ok: well-formed"));
			CU_ASSERT_PTR_NULL(strstr(out, "does not import"));
			flat = squeeze(out);
			for (int k = 0; k < 4; k++) {
				if (blobs[i].has[k] && !dump_shows(flat, osl[k])) {
					CU_FAIL("dump lacks one of openssl's numbers");
					fprintf(stderr, "dump of %s lacks openssl's %s\n",
						blobs[i].file, labels[k]);
				}
			}
			free(flat);
			free(out);
		}
	}
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dh1.priv4")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bVersion             3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bitlenP              1024"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bitlenQ              0 (0x00000000) (Q is not "
					   "available)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bitlenJ              0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bitlenX              1024"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(0xffffffff) no seed"));
	free(out);

	/* Import: either private blob becomes a container's exchange pair
	 * whose public blob is the original's. */
	CU_ASSERT_EQUAL(tool(&out, "import %s --container dh1i --exportable %s", common,
			     path_of("dh1.priv")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "imported PRIVATEKEYBLOB: CALG_DH_SF, 1024 bits, into "
					   "container dh1i as its exchange key"));
	free(out);
	CU_ASSERT_EQUAL(tool(NULL, "export %s --prov-type dss_dh --container dh1i --out %s",
			     common, path_of("dh1i.pub")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("dh1.pub"), path_of("dh1i.pub")));
	CU_ASSERT_EQUAL(tool(NULL, "import %s --container dh1j %s", common, path_of("dh1.priv4")),
			0);
	CU_ASSERT_EQUAL(tool(NULL, "export %s --prov-type dss_dh --container dh1j --ver3 --out %s",
			     common, path_of("dh1j.pub3")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("dh1.pub3"), path_of("dh1j.pub3")));
	/* Imported without --exportable: its private blob stays. */
	CU_ASSERT_EQUAL(tool(&out, "export %s --prov-type dss_dh --container dh1j --type private "
			     "--out %s", common, path_of("dh1j.priv")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_KEY_STATE"));
	free(out);

	/* A partner's public blob agrees with the container's key: dh1j
	 * holds the same group (and key) as dh1. */
	CU_ASSERT_EQUAL(tool(&out, "import %s --container dh1j %s", common, path_of("dh1.pub")),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "imported PUBLICKEYBLOB: CALG_AGREEDKEY_ANY, 1024 bits "
					   "(the key agreed with the container's Diffie-Hellman "
					   "exchange key"));
	free(out);
	CU_ASSERT_EQUAL(tool(NULL, "import %s --container dh1j %s", common, path_of("dh1.pub3")),
			0);

	/* An ephemeral key: its public blob is its only trace. */
	CU_ASSERT_EQUAL(tool(&out, "genkey %s --alg dh_ephem --bits 512 --out %s", common,
			     path_of("eph.pub")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "generated ephemeral key: CALG_DH_EPHEM, 512 bits"));
	free(out);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("eph.pub")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CALG_DH_EPHEM"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bitlen               512"));
	free(out);
	/* Of another group (and length) than dh1's key: NTE_BAD_DATA. */
	CU_ASSERT_EQUAL(tool(&out, "import %s --container dh1 %s", common, path_of("eph.pub")), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_DATA"));
	free(out);

	/* A key openssl made, as a "\0DH2" blob of its numbers: imported,
	 * its public blob holds the y openssl computed. */
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genpkey -genparam -algorithm DH -pkeyopt "
					  "dh_paramgen_prime_len:512 -out %s 2>/dev/null && "
					  "%s genpkey -paramfile %s -out %s", OPENSSL_BIN,
					  path_of("dho.params"), OPENSSL_BIN, path_of("dho.params"),
					  path_of("dho.pem")), 0);
	text = fixture_capture(NULL, "%s pkey -in %s -text -noout", OPENSSL_BIN,
			       path_of("dho.pem"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	{
		BYTE blob[16 + 3 * 64];
		char *p = openssl_text_number(text, "P:"), *g = openssl_text_number(text, "G:");
		char *x = openssl_text_number(text, "private-key:");

		CU_ASSERT_EQUAL_FATAL(strlen(p), 2 * 64);
		memset(blob, 0, sizeof blob);
		blob[0] = PRIVATEKEYBLOB;
		blob[1] = 2;
		testutil_le32_put(blob + 4, CALG_DH_SF);
		testutil_le32_put(blob + 8, 0x32484400);
		testutil_le32_put(blob + 12, 512);
		hex_to_le(p, blob + 16, 64);
		hex_to_le(g, blob + 16 + 64, 64);
		hex_to_le(x, blob + 16 + 128, 64);
		write_bytes("dho.priv", blob, sizeof blob);
		explicit_bzero(blob, sizeof blob);
		free(p);
		free(g);
		free(x);
	}
	CU_ASSERT_EQUAL(tool(NULL, "import %s --container dho %s", common, path_of("dho.priv")), 0);
	CU_ASSERT_EQUAL(tool(NULL, "export %s --prov-type dss_dh --container dho --out %s", common,
			     path_of("dho.pub")), 0);
	b = read_all(path_of("dho.pub"), &len);
	CU_ASSERT_EQUAL_FATAL(len, 16 + 64);
	hex = le_hex(b + 16, 64);
	free(b);
	{
		char *y = openssl_text_number(text, "public-key:");

		CU_ASSERT_STRING_EQUAL(hex, y);
		free(y);
	}
	free(hex);
	free(text);
	/* The PEM of its version 3 public blob is openssl's public key. */
	CU_ASSERT_EQUAL(tool(NULL, "export %s --prov-type dss_dh --container dho --format pem "
			     "--out %s", common, path_of("dho.pub.pem")), 0);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkey -in %s -pubout -out %s", OPENSSL_BIN,
					  path_of("dho.pem"), path_of("dho.openssl.pub.pem")), 0);
	CU_ASSERT_TRUE(files_equal(path_of("dho.pub.pem"), path_of("dho.openssl.pub.pem")));

	for (int i = 0; labels[i] != NULL; i++)
		free(osl[i]);
}

/* ---- dump and CryptImportKey agree ---- */

/* The keys that open each kind of blob, in a container of the tool's token:
 * the exchange key (SIMPLEBLOB), a wrap-only AES-256 key (OPAQUEKEYBLOB),
 * an AES-256 and a 3DES session key (SYMMETRICWRAPKEYBLOB under each). */
enum agree_pub { PUB_NONE, PUB_EXCHANGE, PUB_KEK, PUB_AES, PUB_3DES, PUB_DH, PUB_COUNT };

struct agreement {
	HCRYPTPROV prov;
	HCRYPTKEY pub[PUB_COUNT];
	int rows;
};

static const char *code_name(DWORD code)
{
	switch (code) {
	case NTE_BAD_DATA: return "NTE_BAD_DATA";
	case NTE_BAD_TYPE: return "NTE_BAD_TYPE";
	case NTE_BAD_ALGID: return "NTE_BAD_ALGID";
	case NTE_BAD_FLAGS: return "NTE_BAD_FLAGS";
	case NTE_BAD_KEY: return "NTE_BAD_KEY";
	default: return "?";
	}
}

static void le32_put(BYTE *p, DWORD v)
{
	p[0] = (BYTE)v;
	p[1] = (BYTE)(v >> 8);
	p[2] = (BYTE)(v >> 16);
	p[3] = (BYTE)(v >> 24);
}

/* A malformed blob: dump must call it malformed, name the problem (says)
 * and the code the import gives; CryptImportKey, opened with the key that
 * fits the blob type, must refuse it with that code, which comes from the
 * SPEC (section 5) or docs/OPAQUEKEYBLOB.md. */
static void agree_bad(struct agreement *a, const char *name, const BYTE *blob, size_t len,
		      enum agree_pub pub, DWORD code, const char *says)
{
	char want[64], *out, *line;
	HCRYPTKEY k = 0;
	BOOL ok;

	a->rows++;
	write_bytes("agree.blob", blob, len);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("agree.blob")), 1);
	line = strstr(out, "error: ");
	snprintf(want, sizeof want, "(CryptImportKey: %s)", code_name(code));
	CU_ASSERT_PTR_NOT_NULL(line);
	if (line == NULL || strstr(line, says) == NULL || strstr(line, want) == NULL) {
		CU_FAIL("dump does not name the problem and the import's code");
		fprintf(stderr, "%s: want \"%s\" and \"%s\" in:\n%s\n", name, says, want, out);
	}
	free(out);

	SetLastError(0xdeadbeef);
	ok = CryptImportKey(a->prov, blob, (DWORD)len, a->pub[pub], 0, &k);
	if (ok) {
		CryptDestroyKey(k);
		CU_FAIL("CryptImportKey took a blob dump calls malformed");
		fprintf(stderr, "%s: imported\n", name);
		return;
	}
	CU_ASSERT_EQUAL(GetLastError(), code);
	if (GetLastError() != code)
		fprintf(stderr, "%s: CryptImportKey 0x%08lx, want %s\n", name,
			(unsigned long)GetLastError(), code_name(code));
}

/* A well-formed blob: dump says so, and the import takes it. */
static void agree_good(struct agreement *a, const char *name, const BYTE *blob, size_t len,
		       enum agree_pub pub)
{
	HCRYPTKEY k = 0;
	char *out;

	a->rows++;
	write_bytes("agree.blob", blob, len);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("agree.blob")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "ok: well-formed"));
	free(out);
	CU_ASSERT_TRUE(CryptImportKey(a->prov, blob, (DWORD)len, a->pub[pub], 0, &k));
	if (k == 0)
		fprintf(stderr, "%s: CryptImportKey 0x%08lx\n", name, (unsigned long)GetLastError());
	else
		CryptDestroyKey(k);
}

/* Blob, then a copy with one DWORD (or byte) changed or cut. */
static BYTE *copy_of(const BYTE *blob, size_t len)
{
	BYTE *c = malloc(len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	memcpy(c, blob, len);
	return c;
}

static void agree_rsa(struct agreement *a)
{
	BYTE *pub = NULL, *priv = NULL, *c;
	DWORD pub_len = 0, priv_len = 0;
	HCRYPTKEY x = a->pub[PUB_EXCHANGE];
	static const struct { size_t off; DWORD value; DWORD code; const char *says; } edits[] = {
		{ 12, 8, NTE_BAD_DATA, "bitlen 8" },
		{ 12, 1028, NTE_BAD_DATA, "bitlen 1028" },
		{ 12, 376, NTE_BAD_DATA, "bitlen 376" },
		{ 12, 0xfffffff8u, NTE_BAD_DATA, "truncated" },
		{ 8, 0x32415352u, NTE_BAD_DATA, "private-key magic" },   /* RSA2 */
		{ 8, 0x31535344u, NTE_BAD_DATA, "does not go with this magic" }, /* DSS1 */
		{ 8, 0x12345678u, NTE_BAD_DATA, "unknown magic" },
		{ 4, CALG_AES_128, NTE_BAD_ALGID, "aiKeyAlg" },
		{ 16, 1, NTE_BAD_DATA, "pubexp 1" },
		{ 16, 0, NTE_BAD_DATA, "pubexp 0" },
		{ 16, 2, NTE_BAD_DATA, "pubexp 2" },
		{ 16, 65536, NTE_BAD_DATA, "pubexp 65536" },
	};

	CU_ASSERT_TRUE_FATAL(CryptExportKey(x, 0, PUBLICKEYBLOB, 0, NULL, &pub_len));
	pub = malloc(pub_len);
	CU_ASSERT_TRUE_FATAL(CryptExportKey(x, 0, PUBLICKEYBLOB, 0, pub, &pub_len));
	CU_ASSERT_EQUAL_FATAL(pub_len, 20 + 128);
	agree_good(a, "PUBLICKEYBLOB", pub, pub_len, PUB_NONE);
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		c = copy_of(pub, pub_len);
		le32_put(c + edits[i].off, edits[i].value);
		agree_bad(a, edits[i].says, c, pub_len, PUB_NONE, edits[i].code, edits[i].says);
		free(c);
	}
	agree_bad(a, "PUBLICKEYBLOB cut", pub, 100, PUB_NONE, NTE_BAD_DATA, "truncated");
	agree_bad(a, "RSAPUBKEY cut", pub, 19, PUB_NONE, NTE_BAD_DATA, "truncated");
	/* Degenerate moduli: even, 0, 1. */
	c = copy_of(pub, pub_len);
	c[20] &= 0xfe;
	agree_bad(a, "even modulus", c, pub_len, PUB_NONE, NTE_BAD_DATA, "modulus is even");
	memset(c + 20, 0, 128);
	agree_bad(a, "zero modulus", c, pub_len, PUB_NONE, NTE_BAD_DATA, "modulus is 0");
	c[20] = 1;
	agree_bad(a, "modulus 1", c, pub_len, PUB_NONE, NTE_BAD_DATA, "modulus is 1");
	free(c);

	/* PRIVATEKEYBLOB: refused before anything reaches the container. */
	CU_ASSERT_TRUE_FATAL(CryptExportKey(x, 0, PRIVATEKEYBLOB, 0, NULL, &priv_len));
	priv = malloc(priv_len);
	CU_ASSERT_TRUE_FATAL(CryptExportKey(x, 0, PRIVATEKEYBLOB, 0, priv, &priv_len));
	CU_ASSERT_EQUAL_FATAL(priv_len, 20 + 128 + 5 * 64 + 128);
	agree_bad(a, "PRIVATEKEYBLOB cut", priv, 20 + 128 + 5 * 64 - 1, PUB_NONE, NTE_BAD_DATA,
		  "truncated");
	c = copy_of(priv, priv_len);
	le32_put(c + 16, 1);
	agree_bad(a, "PRIVATEKEYBLOB pubexp 1", c, priv_len, PUB_NONE, NTE_BAD_DATA, "pubexp 1");
	le32_put(c + 16, 65537);
	le32_put(c + 8, 0x31415352u);  /* RSA1 */
	agree_bad(a, "RSA1 in a PRIVATEKEYBLOB", c, priv_len, PUB_NONE, NTE_BAD_DATA,
		  "public-key magic");
	free(c);
	explicit_bzero(priv, priv_len);
	free(priv);
	free(pub);
}

static void agree_header(struct agreement *a)
{
	/* A valid AES-128 PLAINTEXTKEYBLOB to break. */
	BYTE b[12 + 16] = { PLAINTEXTKEYBLOB, 2, 0, 0, 0x0e, 0x66, 0, 0, 16, 0, 0, 0 };
	BYTE *c;

	memset(b + 12, 0x5a, 16);
	agree_good(a, "PLAINTEXTKEYBLOB AES-128", b, sizeof b, PUB_NONE);
	agree_bad(a, "7 bytes", b, 7, PUB_NONE, NTE_BAD_DATA, "truncated");
	c = copy_of(b, sizeof b);
	c[2] = 1;
	agree_bad(a, "reserved", c, sizeof b, PUB_NONE, NTE_BAD_DATA, "reserved");
	c[2] = 0;
	c[1] = 9;
	agree_bad(a, "bVersion 9", c, sizeof b, PUB_NONE, NTE_BAD_DATA, "bVersion 9");
	c[1] = 3;
	agree_bad(a, "bVersion 3", c, sizeof b, PUB_NONE, NTE_BAD_DATA, "bVersion 3");
	c[1] = 2;
	c[0] = 0x55;
	agree_bad(a, "bType 0x55", c, sizeof b, PUB_NONE, NTE_BAD_TYPE, "unknown blob type");
	c[0] = 0x0a;        /* PUBLICKEYBLOBEX: named, not imported */
	agree_bad(a, "bType 0x0a", c, sizeof b, PUB_NONE, NTE_BAD_TYPE, "0x0a");
	free(c);
}

static void agree_plaintext(struct agreement *a)
{
	BYTE b[12 + 24] = { PLAINTEXTKEYBLOB, 2, 0, 0, 0x03, 0x66, 0, 0, 24, 0, 0, 0 };
	BYTE *c;

	memset(b + 12, 0x3c, 24);
	agree_good(a, "PLAINTEXTKEYBLOB 3DES", b, sizeof b, PUB_NONE);
	c = copy_of(b, sizeof b);
	le32_put(c + 8, 16);
	agree_bad(a, "3DES of 16 bytes", c, sizeof b, PUB_NONE, NTE_BAD_FLAGS, "dwKeySize 16");
	le32_put(c + 4, CALG_AES_128);
	le32_put(c + 8, 1);
	agree_bad(a, "AES-128 of 1 byte", c, 13, PUB_NONE, NTE_BAD_DATA, "dwKeySize 1");
	le32_put(c + 4, CALG_AES);
	agree_bad(a, "CALG_AES", c, 13, PUB_NONE, NTE_BAD_ALGID, "CALG_AES");
	le32_put(c + 4, CALG_RSA_KEYX);
	agree_bad(a, "CALG_RSA_KEYX", c, 13, PUB_NONE, NTE_BAD_ALGID, "aiKeyAlg");
	le32_put(c + 4, CALG_AES_128);
	le32_put(c + 8, 0);
	agree_bad(a, "dwKeySize 0", c, sizeof b, PUB_NONE, NTE_BAD_DATA, "dwKeySize 0");
	le32_put(c + 8, 0xffffffffu);
	agree_bad(a, "dwKeySize huge", c, sizeof b, PUB_NONE, NTE_BAD_DATA, "truncated");
	agree_bad(a, "11 bytes", c, 11, PUB_NONE, NTE_BAD_DATA, "truncated");
	free(c);
}

/* docs/OPAQUEKEYBLOB.md's examples: an AES-128 key under an AES-256 key,
 * 24 wrapped bytes, in format version 2 (n at offset 36) and version 1
 * (no usage, n at 32). Edits of the fields both versions share. */
static void agree_opaque_fields(struct agreement *a, const BYTE *b, size_t len, size_t n_off)
{
	const struct { size_t off; DWORD value; DWORD code; const char *says; } edits[] = {
		{ 24, 0xffffffffu, NTE_BAD_DATA, "keyLength 4294967295" },
		{ 8, 0x4f313144u, NTE_BAD_DATA, "magic" },
		{ 12, 3, NTE_BAD_DATA, "format version 3" },
		{ 12, 0, NTE_BAD_DATA, "format version 0" },
		{ n_off, 25, NTE_BAD_DATA, "truncated" },
		{ 28, CALG_3DES, NTE_BAD_ALGID, "not AES" },
		{ 16, 0x1085, NTE_BAD_DATA, "mechanism" },
		{ 20, 0x13, NTE_BAD_DATA, "keyType" },
		{ n_off, 16, NTE_BAD_DATA, "wrappedLength 16" },
		{ 4, CALG_AES, NTE_BAD_ALGID, "aiKeyAlg" },
	};
	BYTE *c;

	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		c = copy_of(b, len);
		le32_put(c + edits[i].off, edits[i].value);
		agree_bad(a, edits[i].says, c, len, PUB_KEK, edits[i].code, edits[i].says);
		free(c);
	}
	agree_bad(a, "35 bytes", b, 35, PUB_KEK, NTE_BAD_DATA, "truncated");
	/* An RSA key: its modulus length, and a PKCS#8 wrap of whole blocks. */
	c = copy_of(b, len);
	le32_put(c + 4, CALG_RSA_KEYX);
	le32_put(c + 20, 0);
	le32_put(c + 24, 16);
	agree_bad(a, "RSA keyLength 16", c, len, PUB_KEK, NTE_BAD_DATA, "keyLength 16");
	le32_put(c + 24, 128);
	le32_put(c + n_off, 20);
	agree_bad(a, "RSA wrappedLength 20", c, len, PUB_KEK, NTE_BAD_DATA, "wrappedLength 20");
	free(c);
}

static void agree_opaque(struct agreement *a)
{
	BYTE v2[40 + 24] = { OPAQUEKEYBLOB, 2, 0, 0, 0x0e, 0x66, 0, 0, 'C', '1', '1', 'O',
			     2, 0, 0, 0, 0x09, 0x21, 0, 0, 0x1f, 0, 0, 0, 16, 0, 0, 0,
			     0x10, 0x66, 0, 0, 0, 0, 0, 0, 24, 0, 0, 0 };
	BYTE v1[36 + 24] = { OPAQUEKEYBLOB, 2, 0, 0, 0x0e, 0x66, 0, 0, 'C', '1', '1', 'O',
			     1, 0, 0, 0, 0x09, 0x21, 0, 0, 0x1f, 0, 0, 0, 16, 0, 0, 0,
			     0x10, 0x66, 0, 0, 24, 0, 0, 0 };
	BYTE *c;

	memset(v2 + 40, 0xa5, 24);
	memset(v1 + 36, 0xa5, 24);
	agree_opaque_fields(a, v2, sizeof v2, 36);
	agree_opaque_fields(a, v1, sizeof v1, 32);

	/* Version 2's usage field: reserved bits, and a cut inside it or just
	 * after it, where version 1's header would be whole. */
	c = copy_of(v2, sizeof v2);
	le32_put(c + 32, 2);
	agree_bad(a, "usage 2", c, sizeof v2, PUB_KEK, NTE_BAD_DATA, "reserved");
	le32_put(c + 32, 0x80000001u);
	agree_bad(a, "usage 0x80000001", c, sizeof v2, PUB_KEK, NTE_BAD_DATA, "reserved");
	/* Before the algorithms, as the import checks. */
	le32_put(c + 4, CALG_AES);
	agree_bad(a, "usage 0x80000001, CALG_AES", c, sizeof v2, PUB_KEK, NTE_BAD_DATA,
		  "reserved");
	free(c);
	agree_bad(a, "34 bytes of version 2", v2, 34, PUB_KEK, NTE_BAD_DATA, "truncated");
	agree_bad(a, "38 bytes of version 2", v2, 38, PUB_KEK, NTE_BAD_DATA, "truncated");
	agree_bad(a, "39 bytes of version 2", v2, 39, PUB_KEK, NTE_BAD_DATA, "truncated");
	/* Version 1 relabelled 2: its n (24) reads as a reserved usage. */
	c = copy_of(v1, sizeof v1);
	le32_put(c + 12, 2);
	agree_bad(a, "version 1 read as 2", c, sizeof v1, PUB_KEK, NTE_BAD_DATA, "reserved");
	free(c);
	/* The wrap-only bit belongs to secret keys. */
	c = copy_of(v2, sizeof v2);
	le32_put(c + 4, CALG_RSA_KEYX);
	le32_put(c + 20, 0);
	le32_put(c + 24, 128);
	le32_put(c + 32, 1);
	agree_bad(a, "RSA key with usage 1", c, sizeof v2, PUB_KEK, NTE_BAD_DATA,
		  "an RSA key is no key-encryption key");
	free(c);
}

static void agree_symwrap(struct agreement *a)
{
	BYTE b[12 + 40] = { SYMMETRICWRAPKEYBLOB, 2, 0, 0, 0x0e, 0x66, 0, 0, 0x10, 0x66, 0, 0 };
	BYTE *c = copy_of(b, sizeof b);

	agree_bad(a, "12 wrapped bytes", c, 12 + 12, PUB_AES, NTE_BAD_DATA, "wrapped key of 12");
	agree_bad(a, "AES-128 in 32", c, 12 + 32, PUB_AES, NTE_BAD_DATA, "24 key bytes");
	le32_put(c + 8, CALG_AES);
	agree_bad(a, "wrapped by CALG_AES", c, 12 + 24, PUB_AES, NTE_BAD_ALGID, "wrapping");
	le32_put(c + 8, CALG_3DES);
	agree_bad(a, "AES-128 under 3DES", c, 12 + 40, PUB_3DES, NTE_BAD_KEY, "no key wrap");
	le32_put(c + 4, CALG_3DES);
	agree_bad(a, "3DES in 32", c, 12 + 32, PUB_3DES, NTE_BAD_DATA, "RFC 3217");
	le32_put(c + 4, CALG_RSA_KEYX);
	agree_bad(a, "RSA key wrapped", c, 12 + 40, PUB_3DES, NTE_BAD_ALGID, "aiKeyAlg");
	agree_bad(a, "11 bytes", c, 11, PUB_3DES, NTE_BAD_DATA, "truncated");
	free(c);
}

static void agree_simple(struct agreement *a)
{
	HCRYPTKEY session = 0;
	BYTE *blob, *c;
	DWORD len = 0;

	/* A real one first: the exchange key opens it. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(a->prov, CALG_AES_128, CRYPT_EXPORTABLE, &session));
	CU_ASSERT_TRUE_FATAL(CryptExportKey(session, a->pub[PUB_EXCHANGE], SIMPLEBLOB, 0, NULL,
					    &len));
	blob = malloc(len);
	CU_ASSERT_TRUE_FATAL(CryptExportKey(session, a->pub[PUB_EXCHANGE], SIMPLEBLOB, 0, blob,
					    &len));
	CryptDestroyKey(session);
	CU_ASSERT_EQUAL_FATAL(len, 12 + 128);
	agree_good(a, "SIMPLEBLOB", blob, len, PUB_EXCHANGE);
	/* Shorter than any RSA key the library takes. */
	agree_bad(a, "SIMPLEBLOB of 40", blob, 12 + 40, PUB_EXCHANGE, NTE_BAD_DATA, "truncated");
	agree_bad(a, "SIMPLEBLOB of 9", blob, 9, PUB_EXCHANGE, NTE_BAD_DATA, "truncated");
	c = copy_of(blob, len);
	le32_put(c + 4, CALG_AES);
	agree_bad(a, "SIMPLEBLOB CALG_AES", c, len, PUB_EXCHANGE, NTE_BAD_ALGID, "CALG_AES");
	le32_put(c + 4, CALG_RSA_KEYX);
	agree_bad(a, "SIMPLEBLOB CALG_RSA_KEYX", c, len, PUB_EXCHANGE, NTE_BAD_ALGID, "aiKeyAlg");
	free(c);
	free(blob);
}

/* issue 11: dump called blobs well-formed that CryptImportKey refuses
 * (bitlen 8, a 1-byte AES key, OPAQUEKEYBLOB keyLength 0xffffffff). Every
 * malformed blob here goes to both, on the tool's token, so any drift
 * between dump's rules and the library's fails this test. */
/* DSS blobs in a DSS context (the rules of Microsoft's DSSPUBKEY,
 * DSSPUBKEY_VER3 and DSSPRIVKEY_VER3 pages, SPEC section 5's codes):
 * every edit is NTE_BAD_DATA, and dump names it as the import refuses it. */
static void agree_dss(struct agreement *a, HCRYPTPROV dss)
{
	HCRYPTPROV rsa = a->prov;
	HCRYPTKEY k;
	BYTE *b[4], *c;
	DWORD len[4];
	static const DWORD flags[4] = { 0, CRYPT_BLOB_VER3, 0, CRYPT_BLOB_VER3 };
	static const DWORD types[4] = { PUBLICKEYBLOB, PUBLICKEYBLOB, PRIVATEKEYBLOB,
					PRIVATEKEYBLOB };
	/* Offsets of a 1024-bit key's numbers (P = 128): version 2 after the
	 * 16-byte header, version 3 after 48 (public) or 52 (private). */
	const size_t P = 128, p2 = 16, q2 = p2 + P, g2 = q2 + 20, yx2 = g2 + P;
	const size_t p3 = 48;
	static const struct { int blob; size_t off; DWORD value; const char *says; } edits[] = {
		{ 0, 8, 0x32535344u, "magic 0x32535344" },        /* DSS2 in a public blob */
		{ 0, 12, 448, "bitlen 448" },
		{ 0, 12, 1088, "bitlen 1088" },
		{ 0, 12, 1000, "bitlen 1000" },
		{ 0, 12, 0xffffffc0u, "bitlen 4294967232" },
		{ 1, 8, 0x31535344u, "magic 0x31535344" },        /* DSS1 in version 3 */
		{ 1, 12, 1536, "bitlenP 1536" },
		{ 1, 16, 168, "bitlenQ 168" },
		{ 1, 16, 0, "bitlenQ 0" },
		{ 1, 20, 12, "bitlenJ 12" },
		{ 1, 20, 1032, "bitlenJ 1032" },
		{ 1, 20, 64, "truncated" },                       /* a j the blob lacks */
		{ 3, 24, 128, "bitlenX 128" },
		{ 2, 8, 0x34535344u, "magic 0x34535344" },        /* DSS4 in version 2 */
	};

	a->prov = dss;
	CU_ASSERT_TRUE_FATAL(CryptGenKey(dss, CALG_DSS_SIGN, 1024 << 16 | CRYPT_EXPORTABLE, &k));
	for (int i = 0; i < 4; i++) {
		len[i] = 0;
		CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, types[i], flags[i], NULL, &len[i]));
		b[i] = malloc(len[i]);
		CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, types[i], flags[i], b[i], &len[i]));
	}
	CryptDestroyKey(k);
	/* The sizes of the pages' layouts. */
	CU_ASSERT_EQUAL_FATAL(len[0], 16 + 3 * P + 20 + 24);
	CU_ASSERT_EQUAL_FATAL(len[1], p3 + 3 * P + 20);
	CU_ASSERT_EQUAL_FATAL(len[2], 16 + 2 * P + 20 + 20 + 24);
	CU_ASSERT_EQUAL_FATAL(len[3], p3 + 4 + 3 * P + 20 + 20);
	agree_good(a, "DSS1", b[0], len[0], PUB_NONE);
	agree_good(a, "DSS3", b[1], len[1], PUB_NONE);
	agree_good(a, "DSS2", b[2], len[2], PUB_NONE);
	agree_good(a, "DSS4", b[3], len[3], PUB_NONE);
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		c = copy_of(b[edits[i].blob], len[edits[i].blob]);
		le32_put(c + edits[i].off, edits[i].value);
		agree_bad(a, edits[i].says, c, len[edits[i].blob], PUB_NONE, NTE_BAD_DATA,
			  edits[i].says);
		free(c);
	}
	agree_bad(a, "DSS1 cut", b[0], len[0] - 1, PUB_NONE, NTE_BAD_DATA, "truncated");
	agree_bad(a, "DSS1 header cut", b[0], 14, PUB_NONE, NTE_BAD_DATA, "truncated");
	agree_bad(a, "DSS3 fixed part cut", b[1], 40, PUB_NONE, NTE_BAD_DATA, "truncated");
	agree_bad(a, "DSS4 cut", b[3], len[3] - 1, PUB_NONE, NTE_BAD_DATA, "truncated");
	/* The values: top bits of p and q, 1 < g < p, 1 < y < p, 0 < x < q. */
	c = copy_of(b[0], len[0]);
	c[p2 + P - 1] &= 0x7f;
	agree_bad(a, "p short", c, len[0], PUB_NONE, NTE_BAD_DATA, "p does not have its top bit");
	memcpy(c, b[0], len[0]);
	c[q2 + 19] &= 0x7f;
	agree_bad(a, "q short", c, len[0], PUB_NONE, NTE_BAD_DATA, "q does not have its top bit");
	memcpy(c, b[0], len[0]);
	memset(c + g2, 0, P);
	c[g2] = 1;
	agree_bad(a, "g 1", c, len[0], PUB_NONE, NTE_BAD_DATA, "g is not between 1 and p");
	memcpy(c, b[0], len[0]);
	memcpy(c + g2, c + p2, P);
	agree_bad(a, "g p", c, len[0], PUB_NONE, NTE_BAD_DATA, "g is not between 1 and p");
	memcpy(c, b[0], len[0]);
	memset(c + yx2, 0, P);
	agree_bad(a, "y 0", c, len[0], PUB_NONE, NTE_BAD_DATA, "y is not between 1 and p");
	free(c);
	c = copy_of(b[2], len[2]);
	memset(c + yx2, 0, 20);
	agree_bad(a, "x 0", c, len[2], PUB_NONE, NTE_BAD_DATA, "x is not between 0 and q");
	memcpy(c + yx2, c + q2, 20);
	agree_bad(a, "x q", c, len[2], PUB_NONE, NTE_BAD_DATA, "x is not between 0 and q");
	free(c);
	c = copy_of(b[1], len[1]);
	memset(c + p3 + P + 20, 0, P);     /* g of version 3 */
	agree_bad(a, "DSS3 g 0", c, len[1], PUB_NONE, NTE_BAD_DATA, "g is not between 1 and p");
	free(c);
	for (int i = 0; i < 4; i++) {
		explicit_bzero(b[i], len[i]);
		free(b[i]);
	}
	a->prov = rsa;
}

/* Diffie-Hellman blobs in a PROV_DSS_DH context: the public ones imported
 * as agreements with the context's DH key (hPubKey), the private ones as
 * its exchange pair; dump and the import must agree on each edit. The
 * public rows come first: a private blob's import replaces the pair whose
 * handle opens them. */
static void agree_dh(struct agreement *a, HCRYPTPROV dss_dh)
{
	HCRYPTPROV rsa = a->prov;
	HCRYPTKEY k, other = 0;
	BYTE *b[4], *c;
	DWORD len[4];
	static const DWORD flags[4] = { 0, CRYPT_BLOB_VER3, 0, CRYPT_BLOB_VER3 };
	static const DWORD types[4] = { PUBLICKEYBLOB, PUBLICKEYBLOB, PRIVATEKEYBLOB,
					PRIVATEKEYBLOB };
	/* A 1024-bit key (P = 128): DH1 y at 16; DH3 p at 48, g 176, y 304
	 * (no q, no j); DH2 p at 16, g 144, x 272; DH4 p at 52, x 436. */
	const size_t P = 128, y1 = 16, p3 = 48, g3 = p3 + P, y3 = g3 + P, p2 = 16, x2 = 16 + 2 * P;
	static const struct { int blob; size_t off; DWORD value; const char *says; } edits[] = {
		{ 0, 8, 0x32484400u, "magic 0x32484400" },        /* DH2 in a public blob */
		{ 0, 12, 448, "bitlen 448" },
		{ 0, 12, 1028, "bitlen 1028" },
		{ 0, 12, 8192, "bitlen 8192" },
		{ 0, 12, 0xfffffff8u, "bitlen 4294967288" },
		{ 0, 12, 1088, "truncated" },                     /* a y the blob lacks */
		{ 1, 8, 0x31484400u, "magic 0x31484400" },        /* DH1 in version 3 */
		{ 1, 12, 4104, "bitlenP 4104" },
		{ 1, 16, 12, "bitlenQ 12" },
		{ 1, 16, 2048, "bitlenQ 2048" },
		{ 1, 16, 64, "truncated" },                       /* a q the blob lacks */
		{ 1, 20, 12, "bitlenJ 12" },
		{ 1, 20, 1032, "bitlenJ 1032" },
		{ 3, 24, 0, "bitlenX 0" },
		{ 3, 24, 1036, "bitlenX 1036" },
		{ 3, 24, 2048, "bitlenX 2048" },
		{ 2, 8, 0x34484400u, "magic 0x34484400" },        /* DH4 in version 2 */
	};

	a->prov = dss_dh;
	CU_ASSERT_TRUE_FATAL(CryptGenKey(dss_dh, CALG_DH_SF, 1024 << 16 | CRYPT_EXPORTABLE, &k));
	for (int i = 0; i < 4; i++) {
		len[i] = 0;
		CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, types[i], flags[i], NULL, &len[i]));
		b[i] = malloc(len[i]);
		CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, types[i], flags[i], b[i], &len[i]));
	}
	CU_ASSERT_EQUAL_FATAL(len[0], 16 + P);
	CU_ASSERT_EQUAL_FATAL(len[1], p3 + 3 * P);
	CU_ASSERT_EQUAL_FATAL(len[2], 16 + 3 * P);
	CU_ASSERT_EQUAL_FATAL(len[3], p3 + 4 + 4 * P);
	a->pub[PUB_DH] = k;
	agree_good(a, "DH1", b[0], len[0], PUB_DH);
	agree_good(a, "DH3", b[1], len[1], PUB_DH);
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		if (types[edits[i].blob] != PUBLICKEYBLOB)
			continue;
		c = copy_of(b[edits[i].blob], len[edits[i].blob]);
		le32_put(c + edits[i].off, edits[i].value);
		agree_bad(a, edits[i].says, c, len[edits[i].blob], PUB_DH, NTE_BAD_DATA,
			  edits[i].says);
		free(c);
	}
	agree_bad(a, "DH1 cut", b[0], len[0] - 1, PUB_DH, NTE_BAD_DATA, "truncated");
	agree_bad(a, "DH1 header cut", b[0], 14, PUB_DH, NTE_BAD_DATA, "truncated");
	agree_bad(a, "DH3 fixed part cut", b[1], 40, PUB_DH, NTE_BAD_DATA, "truncated");
	/* The values: y above 1 (version 2 has no p), then p's top bit,
	 * 1 < g < p, y < p in version 3. */
	c = copy_of(b[0], len[0]);
	memset(c + y1, 0, P);
	c[y1] = 1;
	agree_bad(a, "DH1 y 1", c, len[0], PUB_DH, NTE_BAD_DATA, "y is 0 or 1");
	free(c);
	c = copy_of(b[1], len[1]);
	c[p3 + P - 1] &= 0x7f;
	agree_bad(a, "DH3 p short", c, len[1], PUB_DH, NTE_BAD_DATA, "p does not have its top bit");
	memcpy(c, b[1], len[1]);
	memset(c + g3, 0, P);
	c[g3] = 1;
	agree_bad(a, "DH3 g 1", c, len[1], PUB_DH, NTE_BAD_DATA, "g is not between 1 and p");
	memcpy(c, b[1], len[1]);
	memcpy(c + g3, c + p3, P);
	agree_bad(a, "DH3 g p", c, len[1], PUB_DH, NTE_BAD_DATA, "g is not between 1 and p");
	memcpy(c, b[1], len[1]);
	memcpy(c + y3, c + p3, P);
	agree_bad(a, "DH3 y p", c, len[1], PUB_DH, NTE_BAD_DATA, "y is not between 1 and p");
	free(c);
	/* Well formed, and yet refused: dump's note names both. Without
	 * hPubKey no agreement (NTE_BAD_PUBLIC_KEY); in an RSA context the
	 * ALG_ID (NTE_BAD_ALGID). */
	SetLastError(0);
	CU_ASSERT_FALSE(CryptImportKey(dss_dh, b[0], len[0], 0, 0, &other));
	CU_ASSERT_EQUAL(GetLastError(), NTE_BAD_PUBLIC_KEY);
	SetLastError(0);
	CU_ASSERT_FALSE(CryptImportKey(rsa, b[0], len[0], 0, 0, &other));
	CU_ASSERT_EQUAL(GetLastError(), NTE_BAD_ALGID);

	/* The private blobs: refused ones first, then the good ones (which
	 * replace k's pair). */
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		if (types[edits[i].blob] != PRIVATEKEYBLOB)
			continue;
		c = copy_of(b[edits[i].blob], len[edits[i].blob]);
		le32_put(c + edits[i].off, edits[i].value);
		agree_bad(a, edits[i].says, c, len[edits[i].blob], PUB_NONE, NTE_BAD_DATA,
			  edits[i].says);
		free(c);
	}
	agree_bad(a, "DH2 cut", b[2], len[2] - 1, PUB_NONE, NTE_BAD_DATA, "truncated");
	agree_bad(a, "DH4 cut", b[3], len[3] - 1, PUB_NONE, NTE_BAD_DATA, "truncated");
	c = copy_of(b[2], len[2]);
	c[p2 + P - 1] &= 0x7f;
	agree_bad(a, "DH2 p short", c, len[2], PUB_NONE, NTE_BAD_DATA,
		  "p does not have its top bit");
	memcpy(c, b[2], len[2]);
	memset(c + x2, 0, P);
	agree_bad(a, "DH2 x 0", c, len[2], PUB_NONE, NTE_BAD_DATA, "x is not between 0 and p");
	memcpy(c + x2, c + p2, P);
	agree_bad(a, "DH2 x p", c, len[2], PUB_NONE, NTE_BAD_DATA, "x is not between 0 and p");
	free(c);
	agree_good(a, "DH2", b[2], len[2], PUB_NONE);
	agree_good(a, "DH4", b[3], len[3], PUB_NONE);
	a->pub[PUB_DH] = 0;
	CryptDestroyKey(k);
	for (int i = 0; i < 4; i++) {
		explicit_bzero(b[i], len[i]);
		free(b[i]);
	}
	a->prov = rsa;
}

static void test_dump_import_agree(void)
{
	char *uri = fixture_token_uri(label);
	struct agreement a = { 0 };
	HCRYPTPROV gone;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&a.prov, "agree", uri, PROV_RSA_AES,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(a.prov, AT_KEYEXCHANGE, 1024 << 16 | CRYPT_EXPORTABLE,
					 &a.pub[PUB_EXCHANGE]));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(a.prov, CALG_AES_256, CRYPT_KEK, &a.pub[PUB_KEK]));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(a.prov, CALG_AES_256, 0, &a.pub[PUB_AES]));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(a.prov, CALG_3DES, 0, &a.pub[PUB_3DES]));

	agree_header(&a);
	agree_rsa(&a);
	agree_plaintext(&a);
	agree_opaque(&a);
	agree_symwrap(&a);
	agree_simple(&a);
	{
		HCRYPTPROV dss;

		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&dss, "agree-dss", uri, PROV_DSS,
							  CRYPT_NEWKEYSET));
		agree_dss(&a, dss);
		CryptReleaseContext(dss, 0);
		CryptAcquireContextA(&gone, "agree-dss", uri, PROV_DSS, CRYPT_DELETEKEYSET);
	}
	{
		HCRYPTPROV dss_dh;

		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&dss_dh, "agree-dh", uri, PROV_DSS_DH,
							  CRYPT_NEWKEYSET));
		agree_dh(&a, dss_dh);
		CryptReleaseContext(dss_dh, 0);
		CryptAcquireContextA(&gone, "agree-dh", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET);
	}
	CU_ASSERT(a.rows >= 90);

	for (int i = PUB_EXCHANGE; i < PUB_COUNT; i++)
		if (a.pub[i] != 0)
			CryptDestroyKey(a.pub[i]);
	CryptReleaseContext(a.prov, 0);
	CryptAcquireContextA(&gone, "agree", uri, PROV_RSA_AES, CRYPT_DELETEKEYSET);
	free(uri);
}

/* Reads the terminal into text until it holds want (NULL: until the other
 * side is gone) or two seconds pass without output. */
static bool pty_read_until(int master, char *text, size_t cap, size_t *len, const char *want)
{
	struct pollfd pfd = { master, POLLIN, 0 };
	ssize_t n;

	while (want == NULL || strstr(text, want) == NULL) {
		if (*len + 1 >= cap || poll(&pfd, 1, 2000) != 1)
			return false;
		n = read(master, text + *len, cap - *len - 1);
		if (n <= 0)
			return want == NULL;    /* EIO: every slave descriptor closed */
		*len += (size_t)n;
		text[*len] = '\0';
	}
	return true;
}

/* No PIN source at all: capi11's prompt on the terminal, echo off. The tool
 * runs on a pseudo-terminal, and the PIN is typed once the prompt is there:
 * the prompt discards what was typed before it. */
static void test_pin_prompt(void)
{
	char screen[8192] = "", provider[1024];
	size_t len = 0;
	int master, status = -1;
	pid_t pid;

	snprintf(provider, sizeof provider, "pkcs11:token=%s?module-path=%s", label,
		 SOFTHSM_MODULE);
	unlink(path_of("prompted.blob"));
	fflush(NULL);
	pid = forkpty(&master, NULL, NULL, NULL);
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		execl(TOOL, TOOL, "export", "--provider", provider, "--container", "c2", "--type",
		      "private", "--out", path_of("prompted.blob"), (char *)NULL);
		_exit(127);
	}
	CU_ASSERT_TRUE(pty_read_until(master, screen, sizeof screen, &len, "PIN"));
	CU_ASSERT_EQUAL(write(master, FIXTURE_PIN "\n", strlen(FIXTURE_PIN) + 1),
			(ssize_t)strlen(FIXTURE_PIN) + 1);
	pty_read_until(master, screen, sizeof screen, &len, NULL);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	close(master);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Echo off: the PIN typed does not come back. */
	CU_ASSERT_PTR_NULL(strstr(screen, FIXTURE_PIN));
	CU_ASSERT_TRUE(files_equal(path_of("prompted.blob"), path_of("c2.privatekeyblob")));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "the prompted export failed:\n%s\n", screen);
}

/* ---- demo ---- */

/* The demo's PINs (tools/cmd-demo.c): its token's user and SO PIN. */
#define DEMO_PIN "1234"
#define DEMO_SO_PIN "123456"

/* Writes a stand-in for prog that appends its argv, one "quoted" element a
 * line as strace prints them, to log, then runs prog. */
static char *argv_logger(const char *name, const char *prog, const char *log)
{
	char text[2048];
	char *path;

	snprintf(text, sizeof text, "#!/bin/sh\nfor a in \"$0\" \"$@\"; do printf '\"%%s\"\\n' "
		 "\"$a\"; done >> '%s'\nexec '%s' \"$@\"\n", log, prog);
	unlink(path_of(name));
	path = fixture_write_file(name, text, strlen(text));
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0700), 0);
	return path;
}

/* The demo passes no PIN on any child's command line, where every user
 * could read it with ps. strace(1) (scripts/install-deps.sh installs it)
 * records every execve of the demo and its children; where it is missing
 * or may not trace, stand-ins for softhsm2-util and openssl, the demo's
 * only children, record their arguments instead. */
static void test_demo(void)
{
	const char *log = path_of("demo.argv");
	char *out, *argv_text, *p, tokdir[256] = "";
	bool traced;
	size_t len;
	int st;

	unlink(log);
	traced = fixture_run("strace -f -qq -e trace=execve -o /dev/null true") == 0;
	if (traced) {
		/* LeakSanitizer cannot run in a traced process: at exit it
		 * fails (status 1, its message in the tool's captured stderr,
		 * stdout's buffer lost). Leaks are not what this run checks. */
		out = fixture_capture(&st, "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}"
				      "detect_leaks=0\" strace -f -qq -e trace=execve -s 4096 -o %s "
				      "%s demo --quiet 2>&1", log, TOOL);
	} else {
		char *util = argv_logger("softhsm2-util", SOFTHSM2_UTIL, log);
		char *ossl = argv_logger("openssl", OPENSSL_BIN, log);

		fprintf(stderr, "no usable strace: the demo's children log their own argv\n");
		out = fixture_capture(&st, "CAPI11_SOFTHSM2_UTIL=%s CAPI11_OPENSSL=%s %s demo "
				      "--quiet 2>&1", util, ossl, TOOL);
		free(util);
		free(ossl);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, " 0 failed"));
	CU_ASSERT_PTR_NULL(strstr(out, "[FAIL]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "exchange.privatekeyblob: openssl reads it"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "openssl dgst -verify accepts it"));
	p = strstr(out, "token capi11-demo in ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	sscanf(p, "token capi11-demo in %255s", tokdir);
	/* The throwaway token is gone. */
	CU_ASSERT_NOT_EQUAL(access(tokdir, F_OK), 0);
	if (st != 0)
		fprintf(stderr, "%s\n", out);
	free(out);

	/* The children ran, and none of them had a PIN in its arguments. */
	argv_text = (char *)read_all(log, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(argv_text);
	argv_text = realloc(argv_text, len + 1);
	argv_text[len] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(argv_text, "softhsm2-util\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(argv_text, "--init-token\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(argv_text, "openssl\""));
	CU_ASSERT_PTR_NULL(strstr(argv_text, "\"" DEMO_PIN "\""));
	CU_ASSERT_PTR_NULL(strstr(argv_text, "\"" DEMO_SO_PIN "\""));
	CU_ASSERT_PTR_NULL(strstr(argv_text, "--pin\""));
	CU_ASSERT_PTR_NULL(strstr(argv_text, "--so-pin\""));
	CU_ASSERT_PTR_NULL(strstr(argv_text, "pin-value"));
	free(argv_text);
}

/* dump judges a DH blob as CryptImportKey does (blob-dh.h): a DHPUBKEY of
 * an 8-bit "prime" is NTE_BAD_DATA there, not a well-formed blob. */
static void test_dh_dump_judges_as_import(void)
{
	BYTE blob[17];
	char *out = NULL;

	memset(blob, 0, sizeof blob);
	blob[0] = PUBLICKEYBLOB;
	blob[1] = 2;
	testutil_le32_put(blob + 4, CALG_DH_SF);
	testutil_le32_put(blob + 8, 0x31484400);
	testutil_le32_put(blob + 12, 8);
	blob[16] = 5;
	write_bytes("dh1-8bit.blob", blob, sizeof blob);
	CU_ASSERT_EQUAL(tool(&out, "dump %s", path_of("dh1-8bit.blob")), 1);
	CU_ASSERT_PTR_NOT_NULL(out);
	if (out != NULL) {
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "NTE_BAD_DATA"));
		CU_ASSERT_PTR_NULL(strstr(out, "does not import"));
	}
	free(out);
}

static CU_TestInfo usage_tests[] = {
	{ "help and usage errors", test_help_and_usage },
	{ "pin-value on the command line is refused", test_pin_value_in_argv },
	CU_TEST_INFO_NULL,
};

/* In order: later tests use the containers and files of earlier ones. */
static CU_TestInfo token_tests[] = {
	{ "genkey and list", test_genkey_list },
	{ "list shows a certificate", test_list_certificate },
	{ "list without --provider enumerates", test_list_enumerated },
	{ "list never prints a configured pin-value", test_list_config_pin_value },
	{ "--pin-file: private, regular, one line", test_pin_file_checks },
	{ "export PUBLICKEYBLOB blob/pem/der", test_export_public_formats },
	{ "export PRIVATEKEYBLOB", test_export_private },
	{ "export errors name the cause", test_export_errors },
	{ "hash, sign and verify against openssl", test_sign_verify },
	{ "PIN prompt without echo", test_pin_prompt },
	{ "export SIMPLEBLOB for a partner", test_export_simple },
	{ "trust: the security officer's keys", test_trust },
	{ "wrap with data", test_wrap },
	{ "--out creates 0600, never widens", test_out_modes },
	{ "--out never follows a symbolic link", test_out_symlink },
	{ "import blob, PEM, DER", test_import },
	{ "SYMMETRICWRAPKEYBLOB", test_symmetric_wrap },
	{ "SYMMETRICWRAPKEYBLOB under a 3DES key", test_symmetric_wrap_3des },
	{ "OPAQUEKEYBLOB and encrypted PRIVATEKEYBLOB", test_opaque_and_encrypted },
	{ "dump well-formed blobs", test_dump_wellformed },
	{ "dump malformed blobs", test_dump_malformed },
	{ "dump and CryptImportKey agree", test_dump_import_agree },
	{ "genkey's default size", test_genkey_default_bits },
	{ "DSS keys: genkey, export blob/PEM/DER", test_dss_genkey_export },
	{ "DSS keys: import a PEM, sign, verify", test_dss_import_sign },
	{ "dump DH blobs of openssl's numbers", test_dh_dump },
	{ "DH keys: genkey, export, import, dump", test_dh_tool },
	{ "dump judges DH blobs as the import does", test_dh_dump_judges_as_import },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo demo_tests[] = {
	{ "demo", test_demo },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "usage", NULL, NULL, NULL, NULL, usage_tests },
	{ "token", NULL, NULL, NULL, NULL, token_tests },
	{ "demo", NULL, NULL, NULL, NULL, demo_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	char *conf, *pin;
	size_t n;
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	if (access(TOOL, X_OK) != 0) {
		fprintf(stderr, "%s is not built\n", TOOL);
		return FIXTURE_HARD_ERROR;
	}
	label = fixture_token_make("tool");
	/* An empty configuration: the operator's capi11.conf stays out. */
	conf = fixture_write_file("capi11.conf", "", 0);
	pin = fixture_write_file("pin", FIXTURE_PIN "\n", strlen(FIXTURE_PIN) + 1);
	if (conf == NULL || pin == NULL)
		return FIXTURE_HARD_ERROR;
	setenv("CAPI11_CONF", conf, 1);
	n = strlen(label) + strlen(SOFTHSM_MODULE) + strlen(pin) + 128;
	common = malloc(n);
	snprintf(common, n, "--provider 'pkcs11:token=%s?module-path=%s' --pin-file '%s'", label,
		 SOFTHSM_MODULE, pin);
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	free(conf);
	free(pin);
	free(common);
	free(label);
	return rc;
}
