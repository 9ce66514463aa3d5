/* capi11-tool genkey: an RSA key pair in a container, made on the token. */
#include "config.h"
#include "tool.h"
#include "names.h"

#include <getopt.h>

static const char genkey_help[] =
	"Usage: capi11-tool genkey --container C [--spec exchange|signature]\n"
	"                          [--bits N] [--exportable] [OPTIONS]\n"
	"Generates an RSA key pair on the token as the container's exchange\n"
	"(AT_KEYEXCHANGE, default) or signature (AT_SIGNATURE) key, replacing the one\n"
	"there. The container is created when it does not exist.\n"
	"  --spec S         exchange or signature\n"
	"  --bits N         modulus size, a multiple of 8 (default: the provider's\n"
	"                   rsa-bits from capi11.conf when above 1024, else 2048)\n"
	"  --exportable     CRYPT_EXPORTABLE: the private key may leave the token\n"
	TOOL_COMMON_HELP;

enum { OPT_SPEC = OPT_FIRST_OWN, OPT_BITS, OPT_EXPORTABLE };

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
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts opts = { 0 };
	unsigned long bits = 0;
	DWORD spec = AT_KEYEXCHANGE, flags = 0, got_bits = 0;
	HCRYPTPROV prov = 0;
	HCRYPTKEY key = 0;
	const char *why = "";
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
	if (!tool_acquire(&opts, 0, true, &prov))
		return EXIT_FAIL;
	if (bits == 0)
		bits = genkey_default_bits(prov, spec, &why);
	if (!CryptGenKey(prov, spec, (DWORD)bits << 16 | flags, &key)) {
		tool_fail(GetLastError(), "generating the %s key", tool_spec_name(spec));
		goto out;
	}
	tool_key_dword(key, KP_KEYLEN, &got_bits);
	printf("generated %s key: %s, %lu bits%s, %s\n", tool_spec_name(spec),
	       spec == AT_KEYEXCHANGE ? "CALG_RSA_KEYX" : "CALG_RSA_SIGN", (unsigned long)got_bits,
	       why, (flags & CRYPT_EXPORTABLE) ? "exportable" : "not exportable");
	rc = EXIT_OK;
out:
	if (key != 0)
		CryptDestroyKey(key);
	tool_release_made(&opts, prov, rc != EXIT_OK);
	return rc;
}
