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
	NAME(CALG_DH_EPHEM), NAME(CALG_AGREEDKEY_ANY), NAME(CALG_AES_128), NAME(CALG_AES_192), NAME(CALG_AES_256),
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
	/* The library's own table (a capi11 extension), so that the tool and
	 * the library's trace never name a code differently. */
	return Capi11ErrorNameA(code);
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
