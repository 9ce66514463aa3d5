/* The blob decoder behind `capi11-tool dump`: an annotated listing of any
 * CryptoAPI key blob, for people. It is also the fuzz targets' entry point,
 * so it must stay total: any bytes in, a listing out, never a read outside
 * data[0..len). */
#ifndef CAPI11_TOOL_DUMP_H
#define CAPI11_TOOL_DUMP_H

#include <stddef.h>
#include <stdio.h>

/* Writes one line per field to out: offset, field name, value (magics in
 * hex and as ASCII, ALG_IDs and blob types by name, big numbers as
 * big-endian hex). Returns 0 for a well-formed blob, 1 for a malformed one
 * after a line starting with "error:" that says what is wrong and where. */
int dump_blob(FILE *out, const unsigned char *data, size_t len);

#endif
