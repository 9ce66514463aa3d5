/* The CryptGet*Param buffer rule. */
#include "config.h"
#include "param.h"

#include <string.h>

DWORD param_put(BYTE *data, DWORD *len, const void *value, DWORD value_len)
{
	if (data == NULL) {
		*len = value_len;
		return ERROR_SUCCESS;
	}
	if (*len < value_len) {
		*len = value_len;
		return ERROR_MORE_DATA;
	}
	memcpy(data, value, value_len);
	*len = value_len;
	return ERROR_SUCCESS;
}

DWORD param_put_dword(BYTE *data, DWORD *len, DWORD value)
{
	return param_put(data, len, &value, sizeof value);
}
