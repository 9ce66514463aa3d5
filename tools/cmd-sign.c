/* capi11-tool hash, sign and verify: CryptCreateHash, CryptHashData,
 * CryptSignHash and CryptVerifySignature over a file. */
#include "config.h"
#include "tool.h"
#include "keys.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char hash_help[] =
	"Usage: capi11-tool hash [--hash H] [OPTIONS] FILE\n"
	"Hashes FILE (\"-\": standard input) on the token and prints the value in hex.\n"
	"  --hash H         md5, sha1, sha256 (default), sha384 or sha512\n"
	TOOL_COMMON_HELP;

static const char sign_help[] =
	"Usage: capi11-tool sign --container C [--spec exchange|signature] [--hash H]\n"
	"                        [--format windows|der] [--out F] [OPTIONS] FILE\n"
	"Signs FILE (\"-\": standard input) with the container's key (PKCS#1 v1.5,\n"
	"CryptSignHash): the signature in Windows' byte order (little-endian, as\n"
	"CryptSignHash returns it), or with --format der big-endian, as openssl dgst\n"
	"-sign writes it. With --prov-type dss or dss_dh the key is the container's\n"
	"DSS key (SHA-1 only, as Microsoft's DSS providers sign): Windows' signature is\n"
	"r and s, 20 bytes each, little-endian; --format der is the DER SEQUENCE of\n"
	"the two INTEGERs that openssl writes.\n"
	"  --spec S         exchange (default; signature in the DSS types) or signature\n"
	"  --hash H         md5, sha1, sha256 (default), sha384 or sha512\n"
	"  --format F       windows (default) or der\n"
	"  --out F          write the signature to F (default: standard output)\n"
	TOOL_COMMON_HELP;

static const char verify_help[] =
	"Usage: capi11-tool verify --signature S [--key F | --container C\n"
	"                          [--spec exchange|signature]] [--hash H]\n"
	"                          [--format windows|der] [OPTIONS] FILE\n"
	"Checks that S is a signature of FILE (CryptVerifySignature) by the public key\n"
	"in F (a PUBLICKEYBLOB, a PEM or DER public key or certificate) or else by the\n"
	"container's key. A DSS key (a DSS blob or DSA PEM/DER key in F, or\n"
	"--prov-type dss) takes the signature as sign writes it for DSS.\n"
	"Exit status 0: valid; 1: not valid (or a failure).\n"
	"  --signature S    the signature, in the byte order of --format\n"
	"  --key F          the signer's public key\n"
	"  --spec S         exchange (default) or signature\n"
	"  --hash H         md5, sha1, sha256 (default), sha384 or sha512\n"
	"  --format F       windows (default) or der (big-endian, openssl's)\n"
	TOOL_COMMON_HELP;

enum { OPT_HASH = OPT_FIRST_OWN, OPT_SPEC, OPT_FORMAT, OPT_OUT, OPT_SIGNATURE, OPT_KEY };

/* The largest signature read: RSA-16384. */
#define SIGNATURE_MAX 2048
#define HASH_CHUNK 65536

static ALG_ID parse_hash(const char *s)
{
	static const struct { const char *name; ALG_ID alg; } names[] = {
		{ "md5", CALG_MD5 }, { "sha1", CALG_SHA1 }, { "sha256", CALG_SHA_256 },
		{ "sha384", CALG_SHA_384 }, { "sha512", CALG_SHA_512 },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(s, names[i].name) == 0)
			return names[i].alg;
	}
	return 0;
}

/* 1 for windows, 0 for der, -1 otherwise. */
static int parse_order(const char *s)
{
	if (strcmp(s, "windows") == 0)
		return 1;
	if (strcmp(s, "der") == 0)
		return 0;
	return -1;
}

static void reverse(BYTE *p, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		BYTE t = p[i];
		p[i] = p[n - 1 - i];
		p[n - 1 - i] = t;
	}
}

/* A new hash of alg over the file's bytes, read in pieces. Reports
 * failures. */
static bool hash_file(HCRYPTPROV prov, ALG_ID alg, const char *path, HCRYPTHASH *out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	BYTE *buf = NULL;
	HCRYPTHASH h = 0;
	size_t n;
	bool ok = false;

	if (f == NULL) {
		tool_error("%s: cannot open", path);
		return false;
	}
	buf = malloc(HASH_CHUNK);
	if (buf == NULL) {
		tool_error("out of memory");
		goto out;
	}
	if (!CryptCreateHash(prov, alg, 0, 0, &h)) {
		tool_fail(GetLastError(), "creating the hash");
		goto out;
	}
	while ((n = fread(buf, 1, HASH_CHUNK, f)) > 0) {
		if (!CryptHashData(h, buf, (DWORD)n, 0)) {
			tool_fail(GetLastError(), "hashing %s", path);
			goto out;
		}
	}
	if (ferror(f)) {
		tool_error("%s: read error", path);
		goto out;
	}
	*out = h;
	h = 0;
	ok = true;
out:
	if (h != 0)
		CryptDestroyHash(h);
	free(buf);
	if (f != stdin)
		fclose(f);
	return ok;
}

struct sign_args;
static bool is_dss(const struct sign_args *a);

/* Options shared by the three commands. */
struct sign_args {
	struct tool_opts opts;
	ALG_ID alg;
	DWORD spec;
	bool spec_given;
	int windows_order;
	const char *out, *signature, *key;
	const char *file;
};

/* Whether the signatures are DSS's: a DSS provider type. */
static bool is_dss(const struct sign_args *a)
{
	DWORD type = tool_prov_type(&a->opts);

	return type == PROV_DSS || type == PROV_DSS_DH;
}

static int parse(const char *cmd, int argc, char **argv, const char *help, struct sign_args *a)
{
	static const struct option longopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "hash", required_argument, NULL, OPT_HASH },
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "signature", required_argument, NULL, OPT_SIGNATURE },
		{ "key", required_argument, NULL, OPT_KEY },
		{ NULL, 0, NULL, 0 },
	};
	bool is_hash = strcmp(cmd, "hash") == 0, is_sign = strcmp(cmd, "sign") == 0;
	int opt;

	memset(a, 0, sizeof *a);
	a->alg = CALG_SHA_256;
	a->spec = AT_KEYEXCHANGE;
	a->windows_order = 1;
	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			return -1;
		case OPT_HASH:
			a->alg = parse_hash(optarg);
			if (a->alg == 0)
				return tool_usage_error(cmd, "--hash takes md5, sha1, sha256, "
							"sha384 or sha512");
			break;
		case OPT_SPEC:
			a->spec = is_hash ? 0 : tool_parse_spec(optarg);
			a->spec_given = true;
			if (a->spec == 0)
				return tool_usage_error(cmd, is_hash ? "unknown option" :
							"--spec takes exchange or signature");
			break;
		case OPT_FORMAT:
			a->windows_order = is_hash ? -1 : parse_order(optarg);
			if (a->windows_order < 0)
				return tool_usage_error(cmd, is_hash ? "unknown option" :
							"--format takes windows or der");
			break;
		case OPT_OUT:
			if (!is_sign)
				return tool_usage_error(cmd, "unknown option");
			a->out = optarg;
			break;
		case OPT_SIGNATURE:
		case OPT_KEY:
			if (is_hash || is_sign)
				return tool_usage_error(cmd, "unknown option");
			if (opt == OPT_SIGNATURE)
				a->signature = optarg;
			else
				a->key = optarg;
			break;
		default:
			if (!tool_common_option(&a->opts, opt, optarg))
				return tool_usage_error(cmd, "unknown option");
		}
	}
	if (optind + 1 != argc)
		return tool_usage_error(cmd, "one FILE to %s is needed", cmd);
	a->file = argv[optind];
	/* A DSS or DSA key file is verified in a DSS context. */
	if (a->key != NULL && a->opts.prov_type == 0)
		a->opts.prov_type = keys_file_prov_type(a->key);
	/* The DSS types' one signing key is the signature key. */
	if (is_dss(a) && !a->spec_given)
		a->spec = AT_SIGNATURE;
	return 0;
}

int cmd_hash(int argc, char **argv)
{
	struct sign_args a;
	HCRYPTPROV prov = 0;
	HCRYPTHASH h = 0;
	BYTE value[64];
	DWORD len = sizeof value;
	int rc = parse("hash", argc, argv, hash_help, &a);

	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	if (!tool_acquire(&a.opts, CRYPT_VERIFYCONTEXT, false, &prov))
		return EXIT_FAIL;
	rc = EXIT_FAIL;
	if (!hash_file(prov, a.alg, a.file, &h))
		goto out;
	if (!CryptGetHashParam(h, HP_HASHVAL, value, &len, 0)) {
		tool_fail(GetLastError(), "reading the hash value");
		goto out;
	}
	for (DWORD i = 0; i < len; i++)
		printf("%02x", value[i]);
	printf("\n");
	rc = EXIT_OK;
out:
	if (h != 0)
		CryptDestroyHash(h);
	tool_release(prov);
	return rc;
}

int cmd_sign(int argc, char **argv)
{
	struct sign_args a;
	HCRYPTPROV prov = 0;
	HCRYPTHASH h = 0;
	BYTE *sig = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	DWORD len = 0;
	int rc = parse("sign", argc, argv, sign_help, &a);

	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	if (!tool_acquire(&a.opts, 0, false, &prov))
		return EXIT_FAIL;
	rc = EXIT_FAIL;
	if (!hash_file(prov, a.alg, a.file, &h))
		goto out;
	if (!CryptSignHashA(h, a.spec, NULL, 0, NULL, &len)) {
		tool_fail(GetLastError(), "signing with the %s key", tool_spec_name(a.spec));
		goto out;
	}
	sig = malloc(len);
	if (sig == NULL) {
		tool_error("out of memory");
		goto out;
	}
	if (!CryptSignHashA(h, a.spec, NULL, 0, sig, &len)) {
		tool_fail(GetLastError(), "signing with the %s key", tool_spec_name(a.spec));
		goto out;
	}
	if (!a.windows_order && is_dss(&a)) {
		if (!pem_dss_sig_to_der(sig, len, &der, &der_len))
			goto out;
		if (tool_write_file(a.out, der, der_len, false))
			rc = EXIT_OK;
		goto out;
	}
	if (!a.windows_order)
		reverse(sig, len);
	if (tool_write_file(a.out, sig, len, false))
		rc = EXIT_OK;
out:
	free(der);
	free(sig);
	if (h != 0)
		CryptDestroyHash(h);
	tool_release(prov);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	struct sign_args a;
	HCRYPTPROV prov = 0;
	HCRYPTHASH h = 0;
	HCRYPTKEY key = 0;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	DWORD err;
	int rc = parse("verify", argc, argv, verify_help, &a);

	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	if (a.signature == NULL)
		return tool_usage_error("verify", "--signature is needed");
	/* A public key from a file needs no container: a verify context. */
	if (!tool_acquire(&a.opts, a.key != NULL ? CRYPT_VERIFYCONTEXT : 0, false, &prov))
		return EXIT_FAIL;
	rc = EXIT_FAIL;
	sig = tool_read_file(a.signature, SIGNATURE_MAX, &sig_len);
	if (sig == NULL)
		goto out;
	if (!a.windows_order && is_dss(&a)) {
		BYTE rs[PEM_DSS_SIG_LEN];

		if (!pem_dss_sig_from_der(sig, sig_len, rs))
			goto out;
		memcpy(sig, rs, sizeof rs);
		sig_len = sizeof rs;
	} else if (!a.windows_order) {
		reverse(sig, sig_len);
	}
	if (a.key != NULL) {
		if (!keys_import_recipient(prov, a.key, &key))
			goto out;
	} else if (!CryptGetUserKey(prov, a.spec, &key)) {
		tool_fail(GetLastError(), "opening the %s key", tool_spec_name(a.spec));
		goto out;
	}
	if (!hash_file(prov, a.alg, a.file, &h))
		goto out;
	if (CryptVerifySignatureA(h, sig, (DWORD)sig_len, key, NULL, 0)) {
		printf("signature valid\n");
		rc = EXIT_OK;
	} else {
		err = GetLastError();
		if (err == NTE_BAD_SIGNATURE)
			printf("signature NOT valid\n");
		else
			tool_fail(err, "verifying the signature");
	}
out:
	free(sig);
	if (h != 0)
		CryptDestroyHash(h);
	if (key != 0)
		CryptDestroyKey(key);
	tool_release(prov);
	return rc;
}
