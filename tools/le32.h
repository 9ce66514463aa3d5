/* Little-endian 32-bit fields, as every CryptoAPI blob stores its
 * integers; shared by the tool's blob readers and writers. */
#ifndef CAPI11_TOOL_LE32_H
#define CAPI11_TOOL_LE32_H

#include <wincrypt.h>

static inline DWORD le32_get(const BYTE *p)
{
	return (DWORD)p[0] | (DWORD)p[1] << 8 | (DWORD)p[2] << 16 | (DWORD)p[3] << 24;
}

static inline void le32_put(BYTE *p, DWORD v)
{
	p[0] = (BYTE)v;
	p[1] = (BYTE)(v >> 8);
	p[2] = (BYTE)(v >> 16);
	p[3] = (BYTE)(v >> 24);
}

#endif
