/* capi11-tool: keys out of and into PKCS#11 tokens in Windows CryptoAPI blob
 * formats, through capi11's public API only. main() picks the subcommand;
 * each lives in its own cmd-*.c file. */
#include "config.h"
#include "tool.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "list", cmd_list, "tokens, containers and keys of a provider" },
	{ "genkey", cmd_genkey, "generate an RSA key pair in a container" },
	{ "export", cmd_export, "export a container's key or a new session key as a blob" },
	{ "import", cmd_import, "import a blob, PEM or DER key into a container" },
	{ "wrap", cmd_wrap, "make a session key on the token, wrap it for a recipient" },
	{ "trust", cmd_trust, "as security officer, make a key the token trusts for wraps" },
	{ "hash", cmd_hash, "hash a file on the token" },
	{ "sign", cmd_sign, "sign a file with a container's key" },
	{ "verify", cmd_verify, "check a signature of a file" },
	{ "dump", cmd_dump, "decode a blob into an annotated listing" },
	{ "demo", cmd_demo, "the whole job on a throwaway SoftHSM token" },
	{ "wine-register", cmd_wine_register, "make capi11 a CSP of a Wine prefix" },
};

static void usage(FILE *out)
{
	fputs("Usage: capi11-tool COMMAND [OPTIONS]\n"
	      "Windows CryptoAPI key blobs from and to PKCS#11 tokens, through capi11.\n\n"
	      "Commands:\n", out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'capi11-tool COMMAND --help' describes a command; capi11-tool(1) has the\n"
	      "details. Exit status: 0 success, 1 failure, 2 usage error.\n", out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("capi11-tool %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	/* Before anything else, and whatever option (or argument) carries it:
	 * a PIN in argv is readable by every user through ps. The message
	 * does not repeat the argument. */
	for (int j = 1; j < argc; j++)
		if (tool_arg_scrub_pin_value(argv[j])) {
			fputs("capi11-tool: a PIN is never taken from the command line, where every "
			      "user can read it with ps: remove pin-value from the URI and use "
			      "--pin-file, the URI's pin-source=, capi11.conf or the prompt\n",
			      stderr);
			return EXIT_USAGE;
		}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			/* --verbose may come anywhere; the trace must be set up
			 * before the first call into capi11 either way. */
			bool verbose = false;

			for (int j = 2; j < argc && strcmp(argv[j], "--") != 0; j++)
				if (strcmp(argv[j], "-v") == 0 || strcmp(argv[j], "--verbose") == 0)
					verbose = true;
			int status;

			tool_trace_init(verbose);
			status = commands[i].run(argc - 1, argv + 1);
			tool_trace_finish(status);
			return status;
		}
	fprintf(stderr, "capi11-tool: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
