/* capi11-tool genkey: a key pair in a container (RSA; DSS and
 * Diffie-Hellman in the DSS provider types), made on the token. */
#include "config.h"
#include "tool.h"
#include "keys.h"
#include "names.h"

#include <getopt.h>
#include <strings.h>

static const char genkey_help[] =
	"Usage: capi11-tool genkey --container C [--spec exchange|signature]\n"
	"                          [--alg A] [--bits N] [--exportable] [--out FILE]\n"
	"                          [OPTIONS]\n"
	"Generates a key pair on the token as the container's exchange\n"
	"(AT_KEYEXCHANGE, default) or signature (AT_SIGNATURE) key, replacing the one\n"
	"there. The container is created when it does not exist.\n"
	"  --spec S         exchange or signature\n"
	"  --alg A          rsa (default), dss (CALG_DSS_SIGN, the signature key),\n"
	"                   dh (CALG_DH_SF, the exchange key) or dh_ephem\n"
	"                   (CALG_DH_EPHEM: lives only while the command runs, so\n"
	"                   --out is its only use); dss and dh acquire PROV_DSS_DH\n"
	"                   unless --prov-type says otherwise\n"
	"  --bits N         RSA: modulus size, a multiple of 8 (default: the\n"
	"                   provider's rsa-bits from capi11.conf when above 1024, else\n"
	"                   2048); DSS and DH: prime size, 512 to 1024 in steps of 64\n"
	"                   for DSS (default: the provider's, 1024)\n"
	"  --exportable     CRYPT_EXPORTABLE: the private key may leave the token\n"
	"  --out FILE       also write the new key's PUBLICKEYBLOB to FILE\n"
	TOOL_COMMON_HELP;

enum { OPT_SPEC = OPT_FIRST_OWN, OPT_BITS, OPT_EXPORTABLE, OPT_ALG, OPT_OUT };

/* --alg: "rsa" (0: by --spec), "dss", "dh", "dh_ephem", or an ALG_ID name
 * of one of them. BAD_ALG when unknown. */
#define BAD_ALG ((ALG_ID)-1)

static ALG_ID genkey_parse_alg(const char *s)
{
	ALG_ID alg;

	if (strcasecmp(s, "rsa") == 0)
		return 0;
	if (strcasecmp(s, "dss") == 0 || strcasecmp(s, "dsa") == 0)
		return CALG_DSS_SIGN;
	if (strcasecmp(s, "dh") == 0)
		return CALG_DH_SF;
	alg = names_alg_parse(s);
	switch (alg) {
	case CALG_RSA_KEYX:
	case CALG_RSA_SIGN:
	case CALG_DSS_SIGN:
	case CALG_DH_SF:
	case CALG_DH_EPHEM:
		return alg;
	default:
		return BAD_ALG;
	}
}

/* The container slot a key of alg fills (0 for the ephemeral DH key). */
static DWORD alg_spec(ALG_ID alg, DWORD spec)
{
	switch (alg) {
	case CALG_RSA_SIGN:
	case CALG_DSS_SIGN:
		return AT_SIGNATURE;
	case CALG_RSA_KEYX:
	case CALG_DH_SF:
		return AT_KEYEXCHANGE;
	case CALG_DH_EPHEM:
		return 0;
	default:
		return spec;
	}
}

/* The tool's own default modulus size, used unless the provider's is larger. */
#define GENKEY_DEFAULT_BITS 2048u

/* The provider's default length for the spec's RSA algorithm, as
 * PP_ENUMALGS_EX gives it (capi11: capi11.conf's rsa-bits, else 1024,
 * Windows' default for programs that pass 0); 0 when not listed. */
static DWORD provider_default_bits(HCRYPTPROV prov, DWORD spec)
{
	ALG_ID want = spec == AT_KEYEXCHANGE ? CALG_RSA_KEYX : CALG_RSA_SIGN;
	PROV_ENUMALGS_EX alg;
	DWORD len, flags = CRYPT_FIRST;

	for (;;) {
		len = sizeof alg;
		if (!CryptGetProvParam(prov, PP_ENUMALGS_EX, (BYTE *)&alg, &len, flags))
			return 0;
		if (alg.aiAlgid == want)
			return alg.dwDefaultLen;
		flags = 0;
	}
}

/* The modulus size genkey makes without --bits, and the words saying where
 * it comes from: the provider's default when the configuration raised it
 * above Windows' 1024, else the tool's 2048. */
static DWORD genkey_default_bits(HCRYPTPROV prov, DWORD spec, const char **why)
{
	DWORD bits = provider_default_bits(prov, spec);

	if (bits > 1024) {
		*why = " (configured rsa-bits)";
		return bits;
	}
	*why = " (default)";
	return GENKEY_DEFAULT_BITS;
}

int cmd_genkey(int argc, char **argv)
{
	static const struct option longopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "spec", required_argument, NULL, OPT_SPEC },
		{ "bits", required_argument, NULL, OPT_BITS },
		{ "exportable", no_argument, NULL, OPT_EXPORTABLE },
		{ "alg", required_argument, NULL, OPT_ALG },
		{ "out", required_argument, NULL, OPT_OUT },
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts opts = { 0 };
	unsigned long bits = 0;
	DWORD spec = AT_KEYEXCHANGE, flags = 0, got_bits = 0, got_alg = 0, pub_len = 0;
	ALG_ID alg = 0;
	bool spec_given = false;
	HCRYPTPROV prov = 0;
	HCRYPTKEY key = 0;
	BYTE *pub = NULL;
	const char *why = "", *out = NULL, *name;
	int opt, rc = EXIT_FAIL;

	while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(genkey_help, stdout);
			return EXIT_OK;
		case OPT_SPEC:
			spec = tool_parse_spec(optarg);
			if (spec == 0)
				return tool_usage_error("genkey", "--spec takes exchange or signature");
			spec_given = true;
			break;
		case OPT_ALG:
			alg = genkey_parse_alg(optarg);
			if (alg == BAD_ALG)
				return tool_usage_error("genkey", "--alg takes rsa, dss, dh or dh_ephem");
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_BITS:
			if (!tool_parse_uint(optarg, 1, 0xFFFF, &bits))
				return tool_usage_error("genkey", "--bits takes a number up to 65535");
			break;
		case OPT_EXPORTABLE:
			flags |= CRYPT_EXPORTABLE;
			break;
		default:
			if (!tool_common_option(&opts, opt, optarg))
				return tool_usage_error("genkey", "unknown option");
		}
	}
	if (optind < argc)
		return tool_usage_error("genkey", "unexpected argument '%s'", argv[optind]);
	if (alg != 0 && spec_given && alg_spec(alg, spec) != spec)
		return tool_usage_error("genkey", "--alg %s makes no %s key", names_alg(alg),
					tool_spec_name(spec));
	if (alg == CALG_DH_EPHEM && out == NULL)
		return tool_usage_error("genkey", "an ephemeral key ends with the command: "
					"--alg dh_ephem needs --out");
	/* The DSS and DH keys live in the DSS provider types only. */
	if (opts.prov_type == 0 && (alg == CALG_DSS_SIGN || alg == CALG_DH_SF ||
				    alg == CALG_DH_EPHEM))
		opts.prov_type = PROV_DSS_DH;
	spec = alg_spec(alg, spec);
	if (!tool_acquire(&opts, 0, true, &prov))
		return EXIT_FAIL;
	/* RSA alone has the tool's own default; the DSS types' default is
	 * the provider's (bits 0). */
	if (bits == 0 && (alg == 0 || alg == CALG_RSA_KEYX || alg == CALG_RSA_SIGN) &&
	    (opts.prov_type == 0 || opts.prov_type == PROV_RSA_AES ||
	     opts.prov_type == PROV_RSA_FULL))
		bits = genkey_default_bits(prov, spec, &why);
	else if (bits == 0)
		why = " (the provider's default)";
	if (!CryptGenKey(prov, alg != 0 ? alg : spec, (DWORD)bits << 16 | flags, &key)) {
		tool_fail(GetLastError(), "generating the %s key", alg == CALG_DH_EPHEM ?
			  "ephemeral" : tool_spec_name(spec));
		goto out;
	}
	tool_key_dword(key, KP_KEYLEN, &got_bits);
	tool_key_dword(key, KP_ALGID, &got_alg);
	name = names_alg(got_alg);
	printf("generated %s key: %s, %lu bits%s, %s\n", alg == CALG_DH_EPHEM ? "ephemeral" :
	       tool_spec_name(spec), name ? name : "unknown ALG_ID", (unsigned long)got_bits, why,
	       (flags & CRYPT_EXPORTABLE) ? "exportable" : "not exportable");
	if (out != NULL) {
		pub = tool_export(key, 0, PUBLICKEYBLOB, 0, &pub_len, "the new key");
		if (pub == NULL || !keys_write_blob(pub, pub_len, PEM_FORMAT_BLOB, out))
			goto out;
	}
	rc = EXIT_OK;
out:
	if (pub != NULL)
		tool_free_secret(pub, pub_len);
	if (key != 0)
		CryptDestroyKey(key);
	tool_release_made(&opts, prov, rc != EXIT_OK);
	return rc;
}
