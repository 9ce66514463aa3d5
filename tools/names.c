/* Name tables for capi11-tool and the blob dumper. Every name is the Windows
 * SDK's, so that an operator can search Microsoft's documentation for it. */
#include "config.h"
#include "names.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct name {
	DWORD value;
	const char *name;
};

#define NAME(x) { (DWORD)(x), #x }

static const struct name alg_names[] = {
	NAME(CALG_RSA_KEYX), NAME(CALG_RSA_SIGN), NAME(CALG_DSS_SIGN), NAME(CALG_DH_SF),
	NAME(CALG_DH_EPHEM), NAME(CALG_AES_128), NAME(CALG_AES_192), NAME(CALG_AES_256),
	NAME(CALG_AES), NAME(CALG_DES), NAME(CALG_3DES_112), NAME(CALG_3DES), NAME(CALG_DESX),
	NAME(CALG_RC2), NAME(CALG_RC4), NAME(CALG_RC5), NAME(CALG_SEAL), NAME(CALG_SKIPJACK),
	NAME(CALG_CYLINK_MEK), NAME(CALG_KEA_KEYX), NAME(CALG_NO_SIGN), NAME(CALG_ECDH),
	NAME(CALG_ECDH_EPHEM), NAME(CALG_ECDSA), NAME(CALG_MD2), NAME(CALG_MD4), NAME(CALG_MD5),
	NAME(CALG_SHA1), NAME(CALG_SHA_256), NAME(CALG_SHA_384), NAME(CALG_SHA_512),
	NAME(CALG_MAC), NAME(CALG_HMAC), NAME(CALG_SSL3_SHAMD5), NAME(CALG_TLS1PRF),
	NAME(CALG_SSL3_MASTER), NAME(CALG_SSL2_MASTER), NAME(CALG_TLS1_MASTER),
	NAME(CALG_PCT1_MASTER), NAME(CALG_SCHANNEL_MASTER_HASH), NAME(CALG_SCHANNEL_MAC_KEY),
	NAME(CALG_SCHANNEL_ENC_KEY), NAME(CALG_NULLCIPHER),
};

static const struct name blob_names[] = {
	NAME(SIMPLEBLOB), NAME(PUBLICKEYBLOB), NAME(PRIVATEKEYBLOB), NAME(PLAINTEXTKEYBLOB),
	NAME(OPAQUEKEYBLOB), NAME(PUBLICKEYBLOBEX), NAME(SYMMETRICWRAPKEYBLOB),
	NAME(KEYSTATEBLOB),
};

/* Every code wincrypt.h defines, so a failure is never shown as a bare
 * number when Windows has a name for it. */
static const struct name error_names[] = {
	NAME(ERROR_SUCCESS), NAME(ERROR_FILE_NOT_FOUND), NAME(ERROR_ACCESS_DENIED),
	NAME(ERROR_INVALID_HANDLE), NAME(ERROR_NOT_ENOUGH_MEMORY), NAME(ERROR_INVALID_DATA),
	NAME(ERROR_OUTOFMEMORY), NAME(ERROR_NOT_SUPPORTED), NAME(ERROR_INVALID_PARAMETER),
	NAME(ERROR_CALL_NOT_IMPLEMENTED), NAME(ERROR_INSUFFICIENT_BUFFER), NAME(ERROR_BUSY),
	NAME(ERROR_MORE_DATA), NAME(ERROR_NO_MORE_ITEMS), NAME(ERROR_INVALID_FLAGS),
	NAME(ERROR_NOT_FOUND), NAME(ERROR_CANCELLED), NAME(ERROR_INTERNAL_ERROR),
	NAME(NTE_BAD_UID), NAME(NTE_BAD_HASH), NAME(NTE_BAD_KEY), NAME(NTE_BAD_LEN),
	NAME(NTE_BAD_DATA), NAME(NTE_BAD_SIGNATURE), NAME(NTE_BAD_VER), NAME(NTE_BAD_ALGID),
	NAME(NTE_BAD_FLAGS), NAME(NTE_BAD_TYPE), NAME(NTE_BAD_KEY_STATE),
	NAME(NTE_BAD_HASH_STATE), NAME(NTE_NO_KEY), NAME(NTE_NO_MEMORY), NAME(NTE_EXISTS),
	NAME(NTE_PERM), NAME(NTE_NOT_FOUND), NAME(NTE_DOUBLE_ENCRYPT), NAME(NTE_BAD_PROVIDER),
	NAME(NTE_BAD_PROV_TYPE), NAME(NTE_BAD_PUBLIC_KEY), NAME(NTE_BAD_KEYSET),
	NAME(NTE_PROV_TYPE_NOT_DEF), NAME(NTE_PROV_TYPE_ENTRY_BAD), NAME(NTE_KEYSET_NOT_DEF),
	NAME(NTE_KEYSET_ENTRY_BAD), NAME(NTE_PROV_TYPE_NO_MATCH), NAME(NTE_SIGNATURE_FILE_BAD),
	NAME(NTE_PROVIDER_DLL_FAIL), NAME(NTE_PROV_DLL_NOT_FOUND), NAME(NTE_BAD_KEYSET_PARAM),
	NAME(NTE_FAIL), NAME(NTE_SYS_ERR), NAME(NTE_SILENT_CONTEXT),
	NAME(NTE_TOKEN_KEYSET_STORAGE_FULL), NAME(NTE_TEMPORARY_PROFILE),
	NAME(NTE_FIXEDPARAMETER), NAME(NTE_INVALID_HANDLE), NAME(NTE_INVALID_PARAMETER),
	NAME(NTE_BUFFER_TOO_SMALL), NAME(NTE_NOT_SUPPORTED), NAME(NTE_NO_MORE_ITEMS),
	NAME(NTE_BUFFERS_OVERLAP), NAME(NTE_DECRYPTION_FAILURE), NAME(NTE_INTERNAL_ERROR),
	NAME(NTE_UI_REQUIRED), NAME(NTE_HMAC_NOT_SUPPORTED), NAME(NTE_DEVICE_NOT_READY),
	NAME(NTE_AUTHENTICATION_IGNORED), NAME(NTE_VALIDATION_FAILED),
	NAME(NTE_INCORRECT_PASSWORD), NAME(NTE_ENCRYPTION_FAILURE), NAME(NTE_DEVICE_NOT_FOUND),
	NAME(NTE_USER_CANCELLED), NAME(NTE_NOT_ACTIVE_CONSOLE),
	NAME(SCARD_F_INTERNAL_ERROR), NAME(SCARD_E_CANCELLED), NAME(SCARD_E_INVALID_HANDLE),
	NAME(SCARD_E_INVALID_PARAMETER), NAME(SCARD_E_INVALID_TARGET), NAME(SCARD_E_NO_MEMORY),
	NAME(SCARD_F_WAITED_TOO_LONG), NAME(SCARD_E_INSUFFICIENT_BUFFER),
	NAME(SCARD_E_UNKNOWN_READER), NAME(SCARD_E_TIMEOUT), NAME(SCARD_E_SHARING_VIOLATION),
	NAME(SCARD_E_NO_SMARTCARD), NAME(SCARD_E_UNKNOWN_CARD), NAME(SCARD_E_CANT_DISPOSE),
	NAME(SCARD_E_PROTO_MISMATCH), NAME(SCARD_E_NOT_READY), NAME(SCARD_E_INVALID_VALUE),
	NAME(SCARD_E_SYSTEM_CANCELLED), NAME(SCARD_F_COMM_ERROR), NAME(SCARD_F_UNKNOWN_ERROR),
	NAME(SCARD_E_INVALID_ATR), NAME(SCARD_E_NOT_TRANSACTED), NAME(SCARD_E_READER_UNAVAILABLE),
	NAME(SCARD_P_SHUTDOWN), NAME(SCARD_E_PCI_TOO_SMALL), NAME(SCARD_E_READER_UNSUPPORTED),
	NAME(SCARD_E_DUPLICATE_READER), NAME(SCARD_E_CARD_UNSUPPORTED), NAME(SCARD_E_NO_SERVICE),
	NAME(SCARD_E_SERVICE_STOPPED), NAME(SCARD_E_UNEXPECTED), NAME(SCARD_E_ICC_INSTALLATION),
	NAME(SCARD_E_ICC_CREATEORDER), NAME(SCARD_E_UNSUPPORTED_FEATURE),
	NAME(SCARD_E_DIR_NOT_FOUND), NAME(SCARD_E_FILE_NOT_FOUND), NAME(SCARD_E_NO_DIR),
	NAME(SCARD_E_NO_FILE), NAME(SCARD_E_NO_ACCESS), NAME(SCARD_E_WRITE_TOO_MANY),
	NAME(SCARD_E_BAD_SEEK), NAME(SCARD_E_INVALID_CHV), NAME(SCARD_E_UNKNOWN_RES_MNG),
	NAME(SCARD_E_NO_SUCH_CERTIFICATE), NAME(SCARD_E_CERTIFICATE_UNAVAILABLE),
	NAME(SCARD_E_NO_READERS_AVAILABLE), NAME(SCARD_E_COMM_DATA_LOST),
	NAME(SCARD_E_NO_KEY_CONTAINER), NAME(SCARD_E_SERVER_TOO_BUSY),
	NAME(SCARD_E_PIN_CACHE_EXPIRED), NAME(SCARD_E_NO_PIN_CACHE), NAME(SCARD_E_READ_ONLY_CARD),
	NAME(SCARD_W_UNSUPPORTED_CARD), NAME(SCARD_W_UNRESPONSIVE_CARD),
	NAME(SCARD_W_UNPOWERED_CARD), NAME(SCARD_W_RESET_CARD), NAME(SCARD_W_REMOVED_CARD),
	NAME(SCARD_W_SECURITY_VIOLATION), NAME(SCARD_W_WRONG_CHV), NAME(SCARD_W_CHV_BLOCKED),
	NAME(SCARD_W_EOF), NAME(SCARD_W_CANCELLED_BY_USER), NAME(SCARD_W_CARD_NOT_AUTHENTICATED),
	NAME(SCARD_W_CACHE_ITEM_NOT_FOUND), NAME(SCARD_W_CACHE_ITEM_STALE),
	NAME(SCARD_W_CACHE_ITEM_TOO_BIG),
};

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_find(const struct name *table, size_t n, DWORD value)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].value == value)
			return table[i].name;
	return NULL;
}

/* Compares ignoring case and the characters '_' and '-', so that
 * "aes_256", "AES-256" and "aes256" all match "AES_256". */
static int name_loose_equal(const char *a, const char *b)
{
	for (;;) {
		while (*a == '_' || *a == '-')
			a++;
		while (*b == '_' || *b == '-')
			b++;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
		a++;
		b++;
	}
}

/* Matches name with or without the table's prefix ("CALG_", or for blob
 * types the "BLOB" / "KEYBLOB" suffix). */
static DWORD name_parse(const struct name *table, size_t n, const char *name, const char *prefix,
			const char *suffix)
{
	size_t plen = strlen(prefix), slen = strlen(suffix);

	for (size_t i = 0; i < n; i++) {
		const char *full = table[i].name;
		char shortname[64];
		size_t flen = strlen(full);

		if (name_loose_equal(name, full))
			return table[i].value;
		if (strncmp(full, prefix, plen) != 0 || flen < plen + slen ||
		    flen - plen - slen >= sizeof(shortname))
			continue;
		if (slen > 0 && strcmp(full + flen - slen, suffix) != 0)
			continue;
		memcpy(shortname, full + plen, flen - plen - slen);
		shortname[flen - plen - slen] = '\0';
		if (name_loose_equal(name, shortname))
			return table[i].value;
	}
	return 0;
}

const char *names_alg(ALG_ID alg)
{
	return name_find(alg_names, N_ELEMENTS(alg_names), alg);
}

ALG_ID names_alg_parse(const char *name)
{
	return name_parse(alg_names, N_ELEMENTS(alg_names), name, "CALG_", "");
}

const char *names_blob_type(DWORD type)
{
	return name_find(blob_names, N_ELEMENTS(blob_names), type);
}

DWORD names_blob_type_parse(const char *name)
{
	DWORD type = name_parse(blob_names, N_ELEMENTS(blob_names), name, "", "KEYBLOB");

	if (type == 0)
		type = name_parse(blob_names, N_ELEMENTS(blob_names), name, "", "BLOB");
	return type;
}

const char *names_error(DWORD code)
{
	return name_find(error_names, N_ELEMENTS(error_names), code);
}

unsigned names_alg_key_bytes(ALG_ID alg)
{
	switch (alg) {
	case CALG_AES_128:
	case CALG_3DES_112:
		return 16;
	case CALG_AES_192:
	case CALG_3DES:
		return 24;
	case CALG_AES_256:
		return 32;
	case CALG_DES:
		return 8;
	default:
		return 0;
	}
}
