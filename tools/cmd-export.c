/* capi11-tool export: a container's key, or a session key made for the
 * occasion, as any blob type. */
#include "config.h"
#include "tool.h"
#include "keys.h"
#include "names.h"

#include <getopt.h>
#include <string.h>

static const char export_help[] =
	"Usage: capi11-tool export [--type T] [--spec S | --alg A] [--to FILE]\n"
	"                          [--wrap-key FILE] [--oaep] [--format F]\n"
	"                          [--out FILE] [OPTIONS]\n"
	"Exports the container's key pair (--spec) or a new session key (--alg) as a\n"
	"CryptoAPI blob, to FILE or stdout. DSS and Diffie-Hellman keys are seen by\n"
	"the DSS provider types only: --prov-type dss (whose key is the signature\n"
	"key, the default --spec there) or dss_dh.\n"
	"  --type T         PUBLICKEYBLOB (default), PRIVATEKEYBLOB, SIMPLEBLOB,\n"
	"                   PLAINTEXTKEYBLOB, SYMMETRICWRAPKEYBLOB or OPAQUEKEYBLOB\n"
	"                   (also: public, private, simple, plaintext, symmetricwrap,\n"
	"                   opaque)\n"
	"  --spec S         the container's exchange (default) or signature key\n"
	"  --alg A          make a session key of algorithm A on the token and export\n"
	"                   that: AES_128, AES_192, AES_256, 3DES, 3DES_112, DES\n"
	"                   (default AES_256 for the session-key blob types)\n"
	"  --to FILE        SIMPLEBLOB: the recipient's PUBLICKEYBLOB, PEM or DER public\n"
	"                   key or certificate (default: the container's exchange key)\n"
	"  --wrap-key FILE  the key blob (e.g. PLAINTEXTKEYBLOB) that protects a\n"
	"                   SYMMETRICWRAPKEYBLOB, an OPAQUEKEYBLOB or an encrypted\n"
	"                   PRIVATEKEYBLOB; 'kek': the container's trusted\n"
	"                   key-encryption key (capi11-tool trust), the only one a\n"
	"                   sensitive key leaves under\n"
	"  --oaep           SIMPLEBLOB with RSA-OAEP (CRYPT_OAEP) instead of PKCS#1 v1.5\n"
	"  --format F       blob (default), pem or der: PUBLICKEYBLOB as\n"
	"                   SubjectPublicKeyInfo, PRIVATEKEYBLOB as PKCS#8 (RSA and\n"
	"                   DSS keys; a DH key's public half only, from its version 3\n"
	"                   blob, as OpenSSL's DH key)\n"
	"  --ver3           CRYPT_BLOB_VER3: the version 3 forms of a DSS or DH key\n"
	"                   pair's blobs (DSSPUBKEY_VER3, DSSPRIVKEY_VER3, DHPUBKEY_VER3,\n"
	"                   DHPRIVKEY_VER3)\n"
	"  --out FILE       output file (default: stdout)\n"
	TOOL_COMMON_HELP;

enum {
	OPT_TYPE = OPT_FIRST_OWN, OPT_SPEC, OPT_ALG, OPT_TO, OPT_WRAP_KEY, OPT_OAEP, OPT_FORMAT,
	OPT_OUT, OPT_VER3,
};

static bool type_is_session(DWORD type)
{
	return type == SIMPLEBLOB || type == PLAINTEXTKEYBLOB || type == SYMMETRICWRAPKEYBLOB;
}


int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "alg", required_argument, NULL, OPT_ALG },
		{ "to", required_argument, NULL, OPT_TO },
		{ "wrap-key", required_argument, NULL, OPT_WRAP_KEY },
		{ "oaep", no_argument, NULL, OPT_OAEP },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "ver3", no_argument, NULL, OPT_VER3 },
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts opts = { 0 };
	enum pem_format format = PEM_FORMAT_BLOB;
	const char *to = NULL, *wrap_key = NULL, *out = NULL;
	DWORD type = PUBLICKEYBLOB, spec = 0, flags = 0, len = 0;
	ALG_ID alg = 0;
	HCRYPTPROV prov = 0;
	HCRYPTKEY key = 0, exp_key = 0;
	BYTE *blob = NULL;
	int opt, rc = EXIT_FAIL;

	while ((opt = getopt_long(argc, argv, "hvo:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(export_help, stdout);
			return EXIT_OK;
		case OPT_TYPE:
			type = names_blob_type_parse(optarg);
			if (type == 0)
				return tool_usage_error("export", "unknown blob type '%s'", optarg);
			break;
		case OPT_SPEC:
			spec = tool_parse_spec(optarg);
			if (spec == 0)
				return tool_usage_error("export", "--spec takes exchange or signature");
			break;
		case OPT_ALG:
			alg = names_alg_parse(optarg);
			if (alg == 0 || GET_ALG_CLASS(alg) != ALG_CLASS_DATA_ENCRYPT)
				return tool_usage_error("export", "--alg takes a session-key "
							"algorithm such as AES_256");
			break;
		case OPT_TO:
			to = optarg;
			break;
		case OPT_WRAP_KEY:
			wrap_key = optarg;
			break;
		case OPT_OAEP:
			flags |= CRYPT_OAEP;
			break;
		case OPT_FORMAT:
			if (!keys_parse_format(optarg, &format))
				return tool_usage_error("export", "--format takes blob, pem or der");
			break;
		case 'o':
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_VER3:
			flags |= CRYPT_BLOB_VER3;
			break;
		default:
			if (!tool_common_option(&opts, opt, optarg))
				return tool_usage_error("export", "unknown option");
		}
	}
	if (optind < argc)
		return tool_usage_error("export", "unexpected argument '%s'", argv[optind]);
	if (type == PUBLICKEYBLOBEX || type == KEYSTATEBLOB)
		return tool_usage_error("export", "%s is not a type capi11 exports",
					names_blob_type(type));
	if (type_is_session(type) && spec != 0)
		return tool_usage_error("export", "a %s holds a session key: use --alg, not --spec",
					names_blob_type(type));
	if (alg != 0 && spec != 0)
		return tool_usage_error("export", "--alg and --spec exclude each other");
	if ((type == PUBLICKEYBLOB || type == PRIVATEKEYBLOB) && alg != 0)
		return tool_usage_error("export", "a %s holds the container's key pair: use --spec",
					names_blob_type(type));
	if (to != NULL && type != SIMPLEBLOB)
		return tool_usage_error("export", "--to is for SIMPLEBLOB");
	if (format != PEM_FORMAT_BLOB &&
	    (wrap_key != NULL || (type != PUBLICKEYBLOB && type != PRIVATEKEYBLOB)))
		return tool_usage_error("export", "--format %s exists only for PUBLICKEYBLOB and "
					"plaintext PRIVATEKEYBLOB", format == PEM_FORMAT_PEM ?
					"pem" : "der");
	if (wrap_key == NULL && (type == SYMMETRICWRAPKEYBLOB || type == OPAQUEKEYBLOB))
		return tool_usage_error("export", "%s needs --wrap-key", names_blob_type(type));
	if (type_is_session(type) && alg == 0)
		alg = CALG_AES_256;
	if ((flags & CRYPT_BLOB_VER3) && type != PUBLICKEYBLOB && type != PRIVATEKEYBLOB)
		return tool_usage_error("export", "--ver3 is for PUBLICKEYBLOB and PRIVATEKEYBLOB");
	/* PROV_DSS has one key pair, the DSS signature key. */
	if (spec == 0)
		spec = opts.prov_type == PROV_DSS ? AT_SIGNATURE : AT_KEYEXCHANGE;

	/* SIMPLEBLOB for oneself needs the exchange key; the container must
	 * exist for every case but a session key wrapped for someone else. */
	if (!tool_acquire(&opts, 0, false, &prov))
		return EXIT_FAIL;
	if (alg != 0) {
		if (!keys_session_new(prov, alg, &key))
			goto out;
	} else if (!CryptGetUserKey(prov, spec, &key)) {
		tool_fail(GetLastError(), "the container has no %s key", tool_spec_name(spec));
		key = 0;
		goto out;
	}
	if (type == SIMPLEBLOB) {
		if (to != NULL) {
			if (!keys_import_recipient(prov, to, &exp_key))
				goto out;
		} else if (!CryptGetUserKey(prov, AT_KEYEXCHANGE, &exp_key)) {
			tool_fail(GetLastError(), "SIMPLEBLOB without --to needs the container's "
				  "exchange key");
			exp_key = 0;
			goto out;
		}
	} else if (wrap_key != NULL && strcmp(wrap_key, "kek") == 0) {
		if (!CryptGetUserKey(prov, CAPI11_AT_KEK, &exp_key)) {
			tool_fail(GetLastError(), "the container has no trusted key-encryption key");
			exp_key = 0;
			goto out;
		}
	} else if (wrap_key != NULL &&
		   !keys_import_file(prov, wrap_key, 0, keys_wrapping_flags(wrap_key, type),
				     CALG_AES_256, &exp_key, NULL)) {
		goto out;
	}
	/* A version 2 DSS private blob has no y, which a PKCS#8 reader would
	 * have to compute: the PEM and DER forms start from version 3, whose
	 * y is the token's. */
	if (format != PEM_FORMAT_BLOB && type == PRIVATEKEYBLOB) {
		DWORD key_alg = 0;

		if (tool_key_dword(key, KP_ALGID, &key_alg) && key_alg == CALG_DSS_SIGN)
			flags |= CRYPT_BLOB_VER3;
		/* Refused before the private key leaves the token at all. */
		if (key_alg == CALG_DH_SF || key_alg == CALG_DH_EPHEM) {
			tool_error("--format %s: a Diffie-Hellman private key has no PEM/DER form "
				   "here; export it as a blob", format == PEM_FORMAT_PEM ? "pem" :
				   "der");
			rc = EXIT_USAGE;
			goto out;
		}
	}
	/* Only the version 3 public blob of a DH key holds p and g, which the
	 * SubjectPublicKeyInfo needs. */
	if (format != PEM_FORMAT_BLOB && type == PUBLICKEYBLOB) {
		DWORD key_alg = 0;

		if (tool_key_dword(key, KP_ALGID, &key_alg) &&
		    (key_alg == CALG_DH_SF || key_alg == CALG_DH_EPHEM))
			flags |= CRYPT_BLOB_VER3;
	}
	blob = tool_export(key, exp_key, type, flags, &len, alg ? names_alg(alg) :
			   spec == AT_KEYEXCHANGE ? "the exchange key" : "the signature key");
	if (blob == NULL)
		goto out;
	if (keys_write_blob(blob, len, format, out))
		rc = EXIT_OK;
out:
	if (blob != NULL)
		tool_free_secret(blob, len);
	if (exp_key != 0)
		CryptDestroyKey(exp_key);
	if (key != 0)
		CryptDestroyKey(key);
	tool_release(prov);
	return rc;
}
