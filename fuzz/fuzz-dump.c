/* Fuzz target for the decoder behind `capi11-tool dump` (tools/dump.h):
 * any bytes, blob or not, must be described or refused without a memory
 * error, a leak or undefined behaviour. The text goes to /dev/null: what
 * it says is tests/test-tool's concern, that writing it stays inside the
 * input is this target's. */
#include "config.h"
#include "fuzz.h"
#include "dump.h"

/* Opened once: reopening per input would make the file table the slowest
 * part of a run. Never closed; the process ends with the run. */
static FILE *sink_get(void)
{
	static FILE *sink;

	if (sink == NULL)
		sink = fopen("/dev/null", "w");
	fuzz_check(sink != NULL);
	return sink;
}

void fuzz_dump_one(const uint8_t *data, size_t size)
{
	FILE *out = sink_get();
	int rc = dump_blob(out, data, size);

	/* 0 well-formed, 1 malformed: dump.h knows no third answer. */
	fuzz_check(rc == 0 || rc == 1);
	fuzz_check(!ferror(out));
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_dump_one(data, size);
	return 0;
}
#endif
