/* capi11-tool import: a blob, PEM or DER key into a container. */
#include "config.h"
#include "tool.h"
#include "keys.h"
#include "names.h"
#include "le32.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define DATA_MAX (64u << 20)

static const char import_help[] =
	"Usage: capi11-tool import [--spec S] [--exportable] [--unwrap-with K]\n"
	"                          [--oaep] [--decrypt IN --out OUT] [OPTIONS] FILE\n"
	"Imports FILE (or stdin for '-'): any CryptoAPI key blob, or an RSA or DSA key\n"
	"in PEM or DER (PKCS#8, PKCS#1, SubjectPublicKeyInfo). A PRIVATEKEYBLOB, or a\n"
	"private PEM/DER key, becomes the container's key pair (the container is\n"
	"created when missing); a public key or a session key lives only while the\n"
	"command runs, so the import checks it and can decrypt with it (--decrypt).\n"
	"DSS and DH blobs and DSA keys in a file are imported into PROV_DSS_DH unless\n"
	"--prov-type says otherwise (from standard input, give --prov-type); a DSA\n"
	"key becomes the DSS signature key. A Diffie-Hellman PUBLICKEYBLOB (a partner's\n"
	"key) agrees with the container's DH exchange key: the agreed key\n"
	"(CALG_AGREEDKEY_ANY) lives while the command runs.\n"
	"  --spec S         exchange (default) or signature, for RSA PEM/DER keys; a\n"
	"                   blob names its own algorithm\n"
	"  --exportable     CRYPT_EXPORTABLE\n"
	"  --unwrap-with K  the key that unwraps the blob: 'exchange' (the container's\n"
	"                   exchange key, the default for SIMPLEBLOB and a DH\n"
	"                   PUBLICKEYBLOB), 'kek' (its\n"
	"                   trusted key-encryption key) or a FILE holding\n"
	"                   a key blob (e.g. the PLAINTEXTKEYBLOB of a wrapping key for\n"
	"                   SYMMETRICWRAPKEYBLOB, OPAQUEKEYBLOB or an encrypted\n"
	"                   PRIVATEKEYBLOB)\n"
	"  --oaep           the SIMPLEBLOB was made with RSA-OAEP (CRYPT_OAEP)\n"
	"  --decrypt IN     decrypt IN with the imported session key (CBC, zero IV,\n"
	"                   PKCS#5 padding: what 'wrap --data' writes) into --out\n"
	"  --out OUT        where --decrypt writes (default: stdout)\n"
	TOOL_COMMON_HELP;

enum {
	OPT_SPEC = OPT_FIRST_OWN, OPT_EXPORTABLE, OPT_UNWRAP_WITH, OPT_OAEP, OPT_DECRYPT, OPT_OUT,
};

static bool decrypt_file(HCRYPTKEY key, const char *in, const char *out)
{
	unsigned char *data;
	size_t len;
	DWORD n;
	bool ok = false;

	data = tool_read_file(in, DATA_MAX, &len);
	if (data == NULL)
		return false;
	n = (DWORD)len;
	if (!CryptDecrypt(key, 0, TRUE, 0, data, &n))
		tool_fail(GetLastError(), "decrypting %s", in);
	else
		ok = tool_write_file(out, data, n, true);
	tool_free_secret(data, DATA_MAX + 1);
	return ok;
}

static void describe(HCRYPTKEY key, DWORD type, const char *container)
{
	DWORD alg = 0, bits = 0;
	const char *name;

	tool_key_dword(key, KP_ALGID, &alg);
	tool_key_dword(key, KP_KEYLEN, &bits);
	name = names_alg(alg);
	printf("imported %s: %s, %lu bits", names_blob_type(type), name ? name : "unknown",
	       (unsigned long)bits);
	if (type == PRIVATEKEYBLOB)
		printf(", into container %s as its %s key\n", container ? container : "(default)",
		       alg == CALG_RSA_SIGN || alg == CALG_DSS_SIGN ? "signature" : "exchange");
	else if (type == PUBLICKEYBLOB && alg == CALG_AGREEDKEY_ANY)
		printf(" (the key agreed with the container's Diffie-Hellman exchange key: it "
		       "exists while the command runs)\n");
	else if (type == PUBLICKEYBLOB)
		printf(" (a session object: a PUBLICKEYBLOB never replaces the container's keys)\n");
	else
		printf(" (a session key: it exists while the command runs)\n");
}

int cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "exportable", no_argument, NULL, OPT_EXPORTABLE },
		{ "unwrap-with", required_argument, NULL, OPT_UNWRAP_WITH },
		{ "oaep", no_argument, NULL, OPT_OAEP },
		{ "decrypt", required_argument, NULL, OPT_DECRYPT },
		{ "out", required_argument, NULL, OPT_OUT },
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts opts = { 0 };
	const char *unwrap_with = NULL, *decrypt = NULL, *out = NULL, *path;
	DWORD spec = AT_KEYEXCHANGE, flags = 0, type;
	HCRYPTPROV prov = 0;
	HCRYPTKEY key = 0, unwrap = 0;
	unsigned char head[8];
	size_t head_len;
	FILE *f;
	int opt, rc = EXIT_FAIL;

	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(import_help, stdout);
			return EXIT_OK;
		case OPT_SPEC:
			spec = tool_parse_spec(optarg);
			if (spec == 0)
				return tool_usage_error("import", "--spec takes exchange or signature");
			break;
		case OPT_EXPORTABLE:
			flags |= CRYPT_EXPORTABLE;
			break;
		case OPT_UNWRAP_WITH:
			unwrap_with = optarg;
			break;
		case OPT_OAEP:
			flags |= CRYPT_OAEP;
			break;
		case OPT_DECRYPT:
			decrypt = optarg;
			break;
		case OPT_OUT:
			out = optarg;
			break;
		default:
			if (!tool_common_option(&opts, opt, optarg))
				return tool_usage_error("import", "unknown option");
		}
	}
	if (argc - optind != 1)
		return tool_usage_error("import", "one FILE to import");
	path = argv[optind];
	if (out != NULL && decrypt == NULL)
		return tool_usage_error("import", "--out goes with --decrypt");
	if (strcmp(path, "-") == 0 && decrypt != NULL && strcmp(decrypt, "-") == 0)
		return tool_usage_error("import", "FILE and --decrypt cannot both be stdin");

	/* The blob type decides what the unwrapping key is; peek at it. PEM
	 * and DER keys count as PRIVATEKEYBLOB/PUBLICKEYBLOB below. */
	type = 0;
	if (strcmp(path, "-") != 0) {
		f = fopen(path, "rb");
		if (f == NULL) {
			tool_error("cannot open %s", path);
			return EXIT_FAIL;
		}
		head_len = fread(head, 1, sizeof head, f);
		fclose(f);
		if (head_len == sizeof head && pem_is_blob(head, head_len))
			type = head[0];
	}
	if (unwrap_with == NULL && type == SIMPLEBLOB)
		unwrap_with = "exchange";
	/* A partner's Diffie-Hellman public key is imported as an agreement
	 * with the container's DH exchange key (hPubKey), as Windows' DSS/DH
	 * providers import it. */
	if (unwrap_with == NULL && type == PUBLICKEYBLOB &&
	    (le32_get(head + 4) == CALG_DH_SF || le32_get(head + 4) == CALG_DH_EPHEM))
		unwrap_with = "exchange";

	/* DSS and DH keys live in the DSS provider types only. */
	if (opts.prov_type == 0)
		opts.prov_type = keys_file_prov_type(path);
	if (!tool_acquire(&opts, 0, true, &prov))
		return EXIT_FAIL;
	if (unwrap_with != NULL && (strcmp(unwrap_with, "exchange") == 0 ||
				    strcmp(unwrap_with, "kek") == 0)) {
		bool kek = unwrap_with[0] == 'k';

		if (!CryptGetUserKey(prov, kek ? CAPI11_AT_KEK : AT_KEYEXCHANGE, &unwrap)) {
			tool_fail(GetLastError(), "the container has no %s to unwrap with",
				  kek ? "trusted key-encryption key" : "exchange key");
			unwrap = 0;
			goto out;
		}
	} else if (unwrap_with != NULL &&
		   !keys_import_file(prov, unwrap_with, 0, keys_wrapping_flags(unwrap_with, type),
				     CALG_AES_256, &unwrap, NULL)) {
		goto out;
	}
	if (!keys_import_file(prov, path, unwrap, flags,
			      spec == AT_SIGNATURE ? CALG_RSA_SIGN : CALG_RSA_KEYX, &key, &type))
		goto out;
	/* Decrypted data on stdout must not be mixed with the description. */
	if (decrypt == NULL || (out != NULL && strcmp(out, "-") != 0))
		describe(key, type, opts.container);
	if (decrypt != NULL && !decrypt_file(key, decrypt, out))
		goto out;
	rc = EXIT_OK;
out:
	if (key != 0)
		CryptDestroyKey(key);
	if (unwrap != 0)
		CryptDestroyKey(unwrap);
	tool_release_made(&opts, prov, rc != EXIT_OK);
	return rc;
}
