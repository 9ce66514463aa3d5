/* capi11-tool wrap: the HSM-backed wrapping job. A session key is generated
 * on the token, leaves it only as a SIMPLEBLOB for the recipient, and
 * optionally encrypts data on the token before it is forgotten. */
#include "config.h"
#include "tool.h"
#include "keys.h"
#include "names.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define DATA_MAX (64u << 20)
#define BLOCK_MAX 16u

static const char wrap_help[] =
	"Usage: capi11-tool wrap --to FILE [--alg A] [--oaep] [--out FILE]\n"
	"                        [--data IN --data-out OUT] [OPTIONS]\n"
	"Generates a session key on the token, writes it as a SIMPLEBLOB encrypted for\n"
	"the recipient's RSA public key, and optionally encrypts IN under it on the\n"
	"token (CBC, zero IV as CryptoAPI's default, PKCS#5 padding) into OUT. The\n"
	"session key never leaves the token in plaintext and is destroyed at the end.\n"
	"Without --container no container is needed (CRYPT_VERIFYCONTEXT).\n"
	"  --to FILE        the recipient's PUBLICKEYBLOB, PEM or DER public key or\n"
	"                   certificate\n"
	"  --alg A          AES_128, AES_192, AES_256 (default), 3DES, 3DES_112, DES\n"
	"  --oaep           RSA-OAEP (CRYPT_OAEP) instead of PKCS#1 v1.5\n"
	"  --out FILE       the SIMPLEBLOB (default: stdout)\n"
	"  --data IN        data to encrypt under the session key\n"
	"  --data-out OUT   where the encrypted data goes\n"
	TOOL_COMMON_HELP;

enum { OPT_TO = OPT_FIRST_OWN, OPT_ALG, OPT_OAEP, OPT_OUT, OPT_DATA, OPT_DATA_OUT };

static bool encrypt_file(HCRYPTKEY key, const char *in, const char *out)
{
	unsigned char *data, *buf = NULL;
	size_t len;
	DWORD n, size;
	bool ok = false;

	data = tool_read_file(in, DATA_MAX, &len);
	if (data == NULL)
		return false;
	size = n = (DWORD)len;
	if (!CryptEncrypt(key, 0, TRUE, 0, NULL, &size, 0)) {
		tool_fail(GetLastError(), "encrypting %s", in);
		goto out;
	}
	buf = malloc(size > len ? size : len + BLOCK_MAX);
	if (buf == NULL)
		goto out;
	memcpy(buf, data, len);
	if (!CryptEncrypt(key, 0, TRUE, 0, buf, &n, size)) {
		tool_fail(GetLastError(), "encrypting %s", in);
		goto out;
	}
	ok = tool_write_file(out, buf, n, false);
out:
	free(buf);
	tool_free_secret(data, DATA_MAX + 1);
	return ok;
}

int cmd_wrap(int argc, char **argv)
{
	static const struct option longopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "to", required_argument, NULL, OPT_TO },
		{ "alg", required_argument, NULL, OPT_ALG },
		{ "oaep", no_argument, NULL, OPT_OAEP },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "data", required_argument, NULL, OPT_DATA },
		{ "data-out", required_argument, NULL, OPT_DATA_OUT },
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts opts = { 0 };
	const char *to = NULL, *out = NULL, *data = NULL, *data_out = NULL;
	ALG_ID alg = CALG_AES_256;
	DWORD flags = 0, len = 0;
	HCRYPTPROV prov = 0;
	HCRYPTKEY key = 0, recipient = 0;
	BYTE *blob = NULL;
	int opt, rc = EXIT_FAIL;

	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(wrap_help, stdout);
			return EXIT_OK;
		case OPT_TO:
			to = optarg;
			break;
		case OPT_ALG:
			alg = names_alg_parse(optarg);
			if (alg == 0 || GET_ALG_CLASS(alg) != ALG_CLASS_DATA_ENCRYPT)
				return tool_usage_error("wrap", "--alg takes a session-key algorithm "
							"such as AES_256");
			break;
		case OPT_OAEP:
			flags |= CRYPT_OAEP;
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_DATA:
			data = optarg;
			break;
		case OPT_DATA_OUT:
			data_out = optarg;
			break;
		default:
			if (!tool_common_option(&opts, opt, optarg))
				return tool_usage_error("wrap", "unknown option");
		}
	}
	if (optind < argc)
		return tool_usage_error("wrap", "unexpected argument '%s'", argv[optind]);
	if (to == NULL)
		return tool_usage_error("wrap", "--to names the recipient's public key");
	if ((data == NULL) != (data_out == NULL))
		return tool_usage_error("wrap", "--data and --data-out go together");
	if (data_out != NULL && (strcmp(data_out, "-") == 0) && (out == NULL || !strcmp(out, "-")))
		return tool_usage_error("wrap", "the SIMPLEBLOB and the data cannot both go to "
					"stdout");

	if (!tool_acquire(&opts, opts.container ? 0 : CRYPT_VERIFYCONTEXT, false, &prov))
		return EXIT_FAIL;
	if (!keys_import_recipient(prov, to, &recipient) || !keys_session_new(prov, alg, &key))
		goto out;
	blob = tool_export(key, recipient, SIMPLEBLOB, flags, &len, names_alg(alg));
	if (blob == NULL || !tool_write_file(out, blob, len, false))
		goto out;
	if (data != NULL && !encrypt_file(key, data, data_out))
		goto out;
	rc = EXIT_OK;
out:
	free(blob);
	if (key != 0)
		CryptDestroyKey(key);
	if (recipient != 0)
		CryptDestroyKey(recipient);
	tool_release(prov);
	return rc;
}
