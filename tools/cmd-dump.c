/* capi11-tool dump: any blob, field by field. */
#include "config.h"
#include "tool.h"
#include "dump.h"

#include <getopt.h>
#include <stdlib.h>

#define DUMP_MAX_BYTES (1u << 20)

static const char dump_help[] =
	"Usage: capi11-tool dump [FILE]\n"
	"Decodes a CryptoAPI key blob (FILE, or stdin for '-' or no FILE) into one line\n"
	"per field: offset, field, value. Magics are shown in hex and as ASCII (RSA1,\n"
	"RSA2, DSS1...), big numbers as big-endian hex. A malformed blob is decoded up\n"
	"to the first problem, which is named on a line starting with 'error:'.\n"
	"Exit status: 0 well-formed, 1 malformed or unreadable, 2 usage error.\n";

int cmd_dump(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = "-";
	unsigned char *data;
	size_t len;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(dump_help, stdout);
			return EXIT_OK;
		}
		return tool_usage_error("dump", "unknown option");
	}
	if (argc - optind > 1)
		return tool_usage_error("dump", "one FILE at most");
	if (optind < argc)
		path = argv[optind];
	data = tool_read_file(path, DUMP_MAX_BYTES, &len);
	if (data == NULL)
		return EXIT_FAIL;
	rc = dump_blob(stdout, data, len) == 0 ? EXIT_OK : EXIT_FAIL;
	fflush(stdout);
	tool_free_secret(data, DUMP_MAX_BYTES + 1);
	return rc;
}
