/* capi11-tool trust: the security officer's step that makes a key the token
 * trusts (Capi11TrustKeyA): a key-encryption key from a PLAINTEXTKEYBLOB,
 * or a partner's RSA public key from a PUBLICKEYBLOB or PEM/DER file. */
#include "config.h"
#include "tool.h"
#include "names.h"
#include "pem.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define KEY_FILE_MAX (1u << 20)

static const char trust_help[] =
	"Usage: capi11-tool trust (--kek FILE | --public-key FILE) [--so-pin-file F]\n"
	"                         [OPTIONS]\n"
	"Makes a key the token trusts (CKA_TRUSTED), in a security officer session:\n"
	"the only keys under which sensitive keys leave the token.\n"
	"  --kek FILE        the PLAINTEXTKEYBLOB of an AES key: it becomes the\n"
	"                    container's trusted key-encryption key (wrap-only, never\n"
	"                    extractable); run it with the same blob on every token\n"
	"                    that must exchange keys, then destroy the file\n"
	"  --public-key FILE a partner's RSA public key (PUBLICKEYBLOB, PEM or DER):\n"
	"                    session keys may be sent to it as SIMPLEBLOBs\n"
	"  --so-pin-file F   read the security officer's PIN from F (mode 600); else\n"
	"                    it is asked on the terminal\n"
	TOOL_COMMON_HELP;

enum {
	OPT_KEK = OPT_FIRST_OWN, OPT_PUBLIC_KEY, OPT_SO_PIN_FILE,
};

/* The blob to trust: a key blob as it is, or a PEM/DER public key turned
 * into a PUBLICKEYBLOB. */
static bool trust_read_blob(const char *path, bool kek, BYTE **blob, DWORD *len)
{
	unsigned char *data;
	size_t n;
	bool ok = false;

	data = tool_read_file(path, KEY_FILE_MAX, &n);
	if (data == NULL)
		return false;
	if (pem_is_blob(data, n)) {
		BYTE want = kek ? PLAINTEXTKEYBLOB : PUBLICKEYBLOB;

		if (data[0] != want) {
			tool_error("%s is a %s; --%s takes a %s", path, names_blob_type(data[0]),
				   kek ? "kek" : "public-key", names_blob_type(want));
		} else if ((*blob = malloc(n)) != NULL) {
			memcpy(*blob, data, n);
			*len = (DWORD)n;
			ok = true;
		}
	} else if (kek) {
		tool_error("%s is not a key blob; --kek takes a PLAINTEXTKEYBLOB", path);
	} else {
		ok = pem_to_blob(data, n, CALG_RSA_KEYX, true, blob, len);
	}
	tool_free_secret(data, KEY_FILE_MAX + 1);
	return ok;
}

static int trust_run(const struct tool_opts *opts, const char *path, bool kek,
		     const char *so_pin_file)
{
	char *so_pin = NULL, *user_pin = NULL;
	HCRYPTPROV prov = 0;
	HCRYPTKEY key = 0;
	BYTE *blob = NULL;
	DWORD blob_len = 0, bits = 0;
	int rc = EXIT_FAIL;

	if (!trust_read_blob(path, kek, &blob, &blob_len))
		goto out;
	so_pin = so_pin_file ? tool_read_pin_file(so_pin_file)
			     : tool_prompt_secret("Security officer PIN");
	if (so_pin == NULL)
		goto out;
	if (opts->pin_file != NULL && (user_pin = tool_read_pin_file(opts->pin_file)) == NULL)
		goto out;
	if (!tool_acquire(opts, 0, true, &prov))
		goto out;
	/* The security officer's login ends the user's for the whole process:
	 * the step needs the token to itself (the token stays logged in). */
	tool_release_login();
	if (!Capi11TrustKeyA(prov, blob, blob_len, so_pin, user_pin, 0, &key)) {
		tool_fail(GetLastError(), "trusting the %s in %s", kek ? "key-encryption key"
									 : "public key", path);
		goto out;
	}
	tool_key_dword(key, KP_KEYLEN, &bits);
	printf("container %s: trusted %s, %lu bits\n", opts->container ? opts->container
									 : "(default)",
	       kek ? "key-encryption key (CryptGetUserKey CAPI11_AT_KEK)" : "RSA public key",
	       (unsigned long)bits);
	rc = EXIT_OK;
out:
	if (key != 0)
		CryptDestroyKey(key);
	tool_release(prov);
	if (so_pin != NULL)
		tool_free_secret(so_pin, TOOL_PIN_BUF);
	if (user_pin != NULL)
		tool_free_secret(user_pin, TOOL_PIN_BUF);
	if (blob != NULL)
		tool_free_secret(blob, blob_len);
	return rc;
}

int cmd_trust(int argc, char **argv)
{
	static const struct option longopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "kek", required_argument, NULL, OPT_KEK },
		{ "public-key", required_argument, NULL, OPT_PUBLIC_KEY },
		{ "so-pin-file", required_argument, NULL, OPT_SO_PIN_FILE },
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts opts = { 0 };
	const char *kek = NULL, *public_key = NULL, *so_pin_file = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(trust_help, stdout);
			return EXIT_OK;
		case OPT_KEK:
			kek = optarg;
			break;
		case OPT_PUBLIC_KEY:
			public_key = optarg;
			break;
		case OPT_SO_PIN_FILE:
			so_pin_file = optarg;
			break;
		default:
			if (!tool_common_option(&opts, opt, optarg))
				return tool_usage_error("trust", "unknown option");
		}
	}
	if (optind != argc)
		return tool_usage_error("trust", "unexpected argument '%s'", argv[optind]);
	if ((kek == NULL) == (public_key == NULL))
		return tool_usage_error("trust", "give one of --kek and --public-key");
	return trust_run(&opts, kek ? kek : public_key, kek != NULL, so_pin_file);
}
