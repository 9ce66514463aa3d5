/*
 * The public header against the Windows SDK: every constant, type size and
 * structure layout that Windows code and Windows-made blobs rely on.
 *
 * Expected values are typed from Microsoft's documentation (the page is
 * named above each group) and the Windows SDK headers, never taken from
 * wincrypt.h itself.  Nothing here calls into the library, so the program
 * needs no token and no library symbol.
 */

/* First, before anything else: the header must compile on its own. */
#include <wincrypt.h>

/* ...and bring nothing beyond <stdint.h> and <stddef.h>, so that ported
 * code does not come to depend on what it happens to drag in. */
#if defined(EOF) || defined(EXIT_SUCCESS) || defined(RAND_MAX) || \
	defined(ENOMEM) || defined(PTHREAD_MUTEX_INITIALIZER)
#error "wincrypt.h includes more than <stdint.h> and <stddef.h>"
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cutest.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct constant {
	const char *name;
	uint64_t value;
	uint64_t expected;
};

#define K(name, expected) { #name, (uint64_t)(name), (uint64_t)(expected) }

/* Compares a table and names every mismatch, so one run lists them all. */
static void constants_check(const struct constant *table, size_t n)
{
	size_t i;

	CU_ASSERT_FATAL(n > 0);
	for (i = 0; i < n; i++) {
		if (table[i].value != table[i].expected)
			fprintf(stderr, "%s = 0x%llx, Windows has 0x%llx\n",
				table[i].name,
				(unsigned long long)table[i].value,
				(unsigned long long)table[i].expected);
		CU_ASSERT_EQUAL(table[i].value, table[i].expected);
	}
}

/* ALG_ID values, class/type/sid fields.
 * https://learn.microsoft.com/en-us/windows/win32/seccrypto/alg-id
 * (numeric table); class, type and sid macros from the Windows SDK
 * um/wincrypt.h. */
static const struct constant alg_ids[] = {
	K(ALG_CLASS_ANY, 0), K(ALG_CLASS_SIGNATURE, 0x2000),
	K(ALG_CLASS_MSG_ENCRYPT, 0x4000), K(ALG_CLASS_DATA_ENCRYPT, 0x6000),
	K(ALG_CLASS_HASH, 0x8000), K(ALG_CLASS_KEY_EXCHANGE, 0xa000),
	K(ALG_CLASS_ALL, 0xe000),
	K(ALG_TYPE_ANY, 0), K(ALG_TYPE_DSS, 0x200), K(ALG_TYPE_RSA, 0x400),
	K(ALG_TYPE_BLOCK, 0x600), K(ALG_TYPE_STREAM, 0x800),
	K(ALG_TYPE_DH, 0xa00), K(ALG_TYPE_SECURECHANNEL, 0xc00),
	K(ALG_TYPE_ECDH, 0xe00), K(ALG_TYPE_THIRDPARTY, 0x1000),
	K(ALG_SID_ANY, 0), K(ALG_SID_DES, 1), K(ALG_SID_3DES, 3),
	K(ALG_SID_3DES_112, 9), K(ALG_SID_AES_128, 14), K(ALG_SID_AES_192, 15),
	K(ALG_SID_AES_256, 16), K(ALG_SID_AES, 17), K(ALG_SID_RC2, 2),
	K(ALG_SID_RC4, 1), K(ALG_SID_MD5, 3), K(ALG_SID_SHA1, 4),
	K(ALG_SID_HMAC, 9), K(ALG_SID_SHA_256, 12), K(ALG_SID_SHA_384, 13),
	K(ALG_SID_SHA_512, 14), K(ALG_SID_SSL2_MASTER, 5),

	K(CALG_3DES, 0x00006603),
	K(CALG_3DES_112, 0x00006609),
	K(CALG_AES, 0x00006611),
	K(CALG_AES_128, 0x0000660e),
	K(CALG_AES_192, 0x0000660f),
	K(CALG_AES_256, 0x00006610),
	K(CALG_AGREEDKEY_ANY, 0x0000aa03),
	K(CALG_CYLINK_MEK, 0x0000660c),
	K(CALG_DES, 0x00006601),
	K(CALG_DESX, 0x00006604),
	K(CALG_DH_EPHEM, 0x0000aa02),
	K(CALG_DH_SF, 0x0000aa01),
	K(CALG_DSS_SIGN, 0x00002200),
	K(CALG_ECDH, 0x0000aa05),
	K(CALG_ECDH_EPHEM, 0x0000ae06),
	K(CALG_ECDSA, 0x00002203),
	K(CALG_ECMQV, 0x0000a001),
	K(CALG_HASH_REPLACE_OWF, 0x0000800b),
	K(CALG_HUGHES_MD5, 0x0000a003),
	K(CALG_HMAC, 0x00008009),
	K(CALG_KEA_KEYX, 0x0000aa04),
	K(CALG_MAC, 0x00008005),
	K(CALG_MD2, 0x00008001),
	K(CALG_MD4, 0x00008002),
	K(CALG_MD5, 0x00008003),
	K(CALG_NO_SIGN, 0x00002000),
	K(CALG_NULLCIPHER, 0x00006000),
	K(CALG_OID_INFO_CNG_ONLY, 0xffffffff),
	K(CALG_OID_INFO_PARAMETERS, 0xfffffffe),
	K(CALG_PCT1_MASTER, 0x00004c04),
	K(CALG_RC2, 0x00006602),
	K(CALG_RC4, 0x00006801),
	K(CALG_RC5, 0x0000660d),
	K(CALG_RSA_KEYX, 0x0000a400),
	K(CALG_RSA_SIGN, 0x00002400),
	K(CALG_SCHANNEL_ENC_KEY, 0x00004c07),
	K(CALG_SCHANNEL_MAC_KEY, 0x00004c03),
	K(CALG_SCHANNEL_MASTER_HASH, 0x00004c02),
	K(CALG_SEAL, 0x00006802),
	K(CALG_SHA, 0x00008004),
	K(CALG_SHA1, 0x00008004),
	K(CALG_SHA_256, 0x0000800c),
	K(CALG_SHA_384, 0x0000800d),
	K(CALG_SHA_512, 0x0000800e),
	K(CALG_SKIPJACK, 0x0000660a),
	K(CALG_SSL2_MASTER, 0x00004c05),
	K(CALG_SSL3_MASTER, 0x00004c01),
	K(CALG_SSL3_SHAMD5, 0x00008008),
	K(CALG_TEK, 0x0000660b),
	K(CALG_TLS1_MASTER, 0x00004c06),
	K(CALG_TLS1PRF, 0x0000800a),
	K(CALG_THIRDPARTY_KEY_EXCHANGE, 0x0000b000),
	K(CALG_THIRDPARTY_SIGNATURE, 0x00003000),
	K(CALG_THIRDPARTY_CIPHER, 0x00007000),
	K(CALG_THIRDPARTY_HASH, 0x00009000),

	/* The crackers take an ALG_ID apart. */
	K(GET_ALG_CLASS(CALG_AES_128), 0x6000),
	K(GET_ALG_TYPE(CALG_AES_128), 0x0600),
	K(GET_ALG_SID(CALG_AES_128), 14),
	K(GET_ALG_CLASS(CALG_RSA_KEYX), 0xa000),
	K(GET_ALG_TYPE(CALG_RSA_KEYX), 0x0400),
	K(GET_ALG_CLASS(CALG_SHA_256), 0x8000),
};

/* Provider types and key specs.
 * https://learn.microsoft.com/en-us/windows/win32/seccrypto/cryptographic-provider-types
 * with the numbers of the Windows SDK um/wincrypt.h. */
static const struct constant providers[] = {
	K(PROV_RSA_FULL, 1), K(PROV_RSA_SIG, 2), K(PROV_DSS, 3),
	K(PROV_FORTEZZA, 4), K(PROV_MS_EXCHANGE, 5), K(PROV_SSL, 6),
	K(PROV_RSA_SCHANNEL, 12), K(PROV_DSS_DH, 13),
	K(PROV_EC_ECDSA_SIG, 14), K(PROV_EC_ECNRA_SIG, 15),
	K(PROV_EC_ECDSA_FULL, 16), K(PROV_EC_ECNRA_FULL, 17),
	K(PROV_DH_SCHANNEL, 18), K(PROV_SPYRUS_LYNKS, 20), K(PROV_RNG, 21),
	K(PROV_INTEL_SEC, 22), K(PROV_REPLACE_OWF, 23), K(PROV_RSA_AES, 24),
	K(AT_KEYEXCHANGE, 1), K(AT_SIGNATURE, 2),
	K(MAXUIDLEN, 64),
};

/* Flags of CryptAcquireContext, CryptGenKey, CryptExportKey,
 * CryptImportKey, CryptDecrypt.
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-cryptacquirecontexta
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-cryptgenkey
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-cryptexportkey
 * (flag values printed on the page) and the Windows SDK um/wincrypt.h. */
static const struct constant flags[] = {
	K(CRYPT_VERIFYCONTEXT, 0xF0000000),
	K(CRYPT_NEWKEYSET, 0x8),
	K(CRYPT_DELETEKEYSET, 0x10),
	K(CRYPT_MACHINE_KEYSET, 0x20),
	K(CRYPT_SILENT, 0x40),
	K(CRYPT_DEFAULT_CONTAINER_OPTIONAL, 0x80),

	K(CRYPT_EXPORTABLE, 0x1),
	K(CRYPT_USER_PROTECTED, 0x2),
	K(CRYPT_CREATE_SALT, 0x4),
	K(CRYPT_UPDATE_KEY, 0x8),
	K(CRYPT_NO_SALT, 0x10),
	K(CRYPT_PREGEN, 0x40),
	K(CRYPT_RECIPIENT, 0x10),
	K(CRYPT_INITIATOR, 0x40),
	K(CRYPT_ONLINE, 0x80),
	K(CRYPT_SF, 0x100),
	K(CRYPT_CREATE_IV, 0x200),
	K(CRYPT_KEK, 0x400),
	K(CRYPT_DATA_KEY, 0x800),
	K(CRYPT_VOLATILE, 0x1000),
	K(CRYPT_SGCKEY, 0x2000),
	K(CRYPT_ARCHIVABLE, 0x4000),
	K(CRYPT_FORCE_KEY_PROTECTION_HIGH, 0x8000),
	K(CRYPT_USER_PROTECTED_STRONG, 0x100000),
	K(RSA1024BIT_KEY, 0x04000000),
	K(CRYPT_SERVER, 0x400),
	K(KEY_LENGTH_MASK, 0xFFFF0000),

	K(CRYPT_Y_ONLY, 0x1),
	K(CRYPT_SSL2_FALLBACK, 0x2),
	K(CRYPT_DESTROYKEY, 0x4),
	K(CRYPT_OAEP, 0x40),
	K(CRYPT_BLOB_VER3, 0x80),
	K(CRYPT_IPSEC_HMAC_KEY, 0x100),
	K(CRYPT_DECRYPT_RSA_NO_PADDING_CHECK, 0x20),

	K(CRYPT_SECRETDIGEST, 0x1),
	K(CRYPT_OWF_REPL_LM_HASH, 0x1),
	K(CRYPT_LITTLE_ENDIAN, 0x1),
	K(CRYPT_NOHASHOID, 0x1),
	K(CRYPT_TYPE2_FORMAT, 0x2),
	K(CRYPT_X931_FORMAT, 0x4),
	K(CRYPT_MACHINE_DEFAULT, 0x1),
	K(CRYPT_USER_DEFAULT, 0x2),
	K(CRYPT_DELETE_DEFAULT, 0x4),
	K(CRYPT_USERDATA, 1),
	K(CRYPT_FAILED, 0),
	K(CRYPT_SUCCEED, 1),
};

/* Key blobs.
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/ns-wincrypt-publickeystruc
 * and the Windows SDK um/wincrypt.h; magic numbers from
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/ns-wincrypt-rsapubkey
 * https://learn.microsoft.com/en-us/previous-versions/windows/desktop/legacy/aa381982(v=vs.85) (DSSPUBKEY)
 * https://learn.microsoft.com/en-us/previous-versions/windows/desktop/legacy/aa381983(v=vs.85) (DSSPUBKEY_VER3)
 * https://learn.microsoft.com/en-us/previous-versions/windows/desktop/legacy/aa381981(v=vs.85) (DSSPRIVKEY_VER3)
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/ns-wincrypt-dhpubkey_ver3
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/ns-wincrypt-dhprivkey_ver3 */
static const struct constant blobs[] = {
	K(SIMPLEBLOB, 0x1), K(PUBLICKEYBLOB, 0x6), K(PRIVATEKEYBLOB, 0x7),
	K(PLAINTEXTKEYBLOB, 0x8), K(OPAQUEKEYBLOB, 0x9),
	K(PUBLICKEYBLOBEX, 0xA), K(SYMMETRICWRAPKEYBLOB, 0xB),
	K(KEYSTATEBLOB, 0xC),
	K(CUR_BLOB_VERSION, 2),
	K(CAPI11_RSA1_MAGIC, 0x31415352),
	K(CAPI11_RSA2_MAGIC, 0x32415352),
	K(CAPI11_DSS1_MAGIC, 0x31535344),
	K(CAPI11_DSS3_MAGIC, 0x33535344),
	K(CAPI11_DSS4_MAGIC, 0x34535344),
	K(CAPI11_DH3_MAGIC, 0x33484400),
	K(CAPI11_DH4_MAGIC, 0x34484400),
};

/* CryptGetKeyParam / CryptSetKeyParam / CryptGetHashParam.
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-cryptgetkeyparam
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-cryptsetkeyparam
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-cryptgethashparam
 * with the numbers of the Windows SDK um/wincrypt.h. */
static const struct constant key_params[] = {
	K(KP_IV, 1), K(KP_SALT, 2), K(KP_PADDING, 3), K(KP_MODE, 4),
	K(KP_MODE_BITS, 5), K(KP_PERMISSIONS, 6), K(KP_ALGID, 7),
	K(KP_BLOCKLEN, 8), K(KP_KEYLEN, 9), K(KP_SALT_EX, 10), K(KP_P, 11),
	K(KP_G, 12), K(KP_Q, 13), K(KP_X, 14), K(KP_Y, 15), K(KP_RA, 16),
	K(KP_RB, 17), K(KP_INFO, 18), K(KP_EFFECTIVE_KEYLEN, 19),
	K(KP_SCHANNEL_ALG, 20), K(KP_CLIENT_RANDOM, 21),
	K(KP_SERVER_RANDOM, 22), K(KP_RP, 23), K(KP_PRECOMP_MD5, 24),
	K(KP_PRECOMP_SHA, 25), K(KP_CERTIFICATE, 26), K(KP_CLEAR_KEY, 27),
	K(KP_PUB_EX_LEN, 28), K(KP_PUB_EX_VAL, 29), K(KP_KEYVAL, 30),
	K(KP_ADMIN_PIN, 31), K(KP_KEYEXCHANGE_PIN, 32),
	K(KP_SIGNATURE_PIN, 33), K(KP_PREHASH, 34), K(KP_ROUNDS, 35),
	K(KP_OAEP_PARAMS, 36), K(KP_CMS_KEY_INFO, 37),
	K(KP_CMS_DH_KEY_INFO, 38), K(KP_PUB_PARAMS, 39),
	K(KP_VERIFY_PARAMS, 40), K(KP_HIGHEST_VERSION, 41),
	K(KP_GET_USE_COUNT, 42), K(KP_PIN_ID, 43), K(KP_PIN_INFO, 44),

	K(PKCS5_PADDING, 1), K(RANDOM_PADDING, 2), K(ZERO_PADDING, 3),

	K(CRYPT_MODE_CBC, 1), K(CRYPT_MODE_ECB, 2), K(CRYPT_MODE_OFB, 3),
	K(CRYPT_MODE_CFB, 4), K(CRYPT_MODE_CTS, 5), K(CRYPT_MODE_CBCI, 6),
	K(CRYPT_MODE_CFBP, 7), K(CRYPT_MODE_OFBP, 8),
	K(CRYPT_MODE_CBCOFM, 9), K(CRYPT_MODE_CBCOFMI, 10),

	K(CRYPT_ENCRYPT, 0x1), K(CRYPT_DECRYPT, 0x2), K(CRYPT_EXPORT, 0x4),
	K(CRYPT_READ, 0x8), K(CRYPT_WRITE, 0x10), K(CRYPT_MAC, 0x20),
	K(CRYPT_EXPORT_KEY, 0x40), K(CRYPT_IMPORT_KEY, 0x80),
	K(CRYPT_ARCHIVE, 0x100),

	K(HP_ALGID, 1), K(HP_HASHVAL, 2), K(HP_HASHSIZE, 4),
	K(HP_HMAC_INFO, 5), K(HP_TLS1PRF_LABEL, 6), K(HP_TLS1PRF_SEED, 7),

	K(SCHANNEL_MAC_KEY, 0), K(SCHANNEL_ENC_KEY, 1),
	K(INTERNATIONAL_USAGE, 1),
};

/* CryptGetProvParam / CryptSetProvParam.
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-cryptgetprovparam
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-cryptsetprovparam
 * with the numbers of the Windows SDK um/wincrypt.h. */
static const struct constant prov_params[] = {
	K(PP_ENUMALGS, 1), K(PP_ENUMCONTAINERS, 2), K(PP_IMPTYPE, 3),
	K(PP_NAME, 4), K(PP_VERSION, 5), K(PP_CONTAINER, 6),
	K(PP_CHANGE_PASSWORD, 7), K(PP_KEYSET_SEC_DESCR, 8),
	K(PP_CERTCHAIN, 9), K(PP_KEY_TYPE_SUBTYPE, 10), K(PP_PROVTYPE, 16),
	K(PP_KEYSTORAGE, 17), K(PP_APPLI_CERT, 18), K(PP_SYM_KEYSIZE, 19),
	K(PP_SESSION_KEYSIZE, 20), K(PP_UI_PROMPT, 21),
	K(PP_ENUMALGS_EX, 22), K(PP_ENUMMANDROOTS, 25),
	K(PP_ENUMELECTROOTS, 26), K(PP_KEYSET_TYPE, 27), K(PP_ADMIN_PIN, 31),
	K(PP_KEYEXCHANGE_PIN, 32), K(PP_SIGNATURE_PIN, 33),
	K(PP_SIG_KEYSIZE_INC, 34), K(PP_KEYX_KEYSIZE_INC, 35),
	K(PP_UNIQUE_CONTAINER, 36), K(PP_SGC_INFO, 37),
	K(PP_USE_HARDWARE_RNG, 38), K(PP_KEYSPEC, 39),
	K(PP_ENUMEX_SIGNING_PROT, 40), K(PP_CRYPT_COUNT_KEY_USE, 41),
	K(PP_USER_CERTSTORE, 42), K(PP_SMARTCARD_READER, 43),
	K(PP_SMARTCARD_GUID, 45), K(PP_ROOT_CERTSTORE, 46),
	K(PP_SMARTCARD_READER_ICON, 47),

	K(PP_CLIENT_HWND, 1), K(PP_CONTEXT_INFO, 11),
	K(PP_KEYEXCHANGE_KEYSIZE, 12), K(PP_SIGNATURE_KEYSIZE, 13),
	K(PP_KEYEXCHANGE_ALG, 14), K(PP_SIGNATURE_ALG, 15),
	K(PP_DELETEKEY, 24), K(PP_PIN_PROMPT_STRING, 44),
	K(PP_SECURE_KEYEXCHANGE_PIN, 47), K(PP_SECURE_SIGNATURE_PIN, 48),
	K(PP_DISMISS_PIN_UI_SEC, 49), K(PP_IS_PFX_EPHEMERAL, 50),

	K(CRYPT_FIRST, 1), K(CRYPT_NEXT, 2), K(CRYPT_SGC_ENUM, 4),
	K(CRYPT_IMPL_HARDWARE, 1), K(CRYPT_IMPL_SOFTWARE, 2),
	K(CRYPT_IMPL_MIXED, 3), K(CRYPT_IMPL_UNKNOWN, 4),
	K(CRYPT_IMPL_REMOVABLE, 8),
	K(CRYPT_SEC_DESCR, 0x1), K(CRYPT_PSTORE, 0x2), K(CRYPT_UI_PROMPT, 0x4),
	K(CRYPT_FLAG_PCT1, 0x1), K(CRYPT_FLAG_SSL2, 0x2),
	K(CRYPT_FLAG_SSL3, 0x4), K(CRYPT_FLAG_TLS1, 0x8),
	K(CRYPT_FLAG_IPSEC, 0x10), K(CRYPT_FLAG_SIGNING, 0x20),
	K(CRYPT_SGC, 0x1), K(CRYPT_FASTSGC, 0x2),
};

/* Error codes, each also checked to be a DWORD like GetLastError(). */
struct error_code {
	const char *name;
	uint64_t value;
	uint64_t expected;
	int is_dword;
};

#define E(name, expected) \
	{ #name, (uint64_t)(name), (uint64_t)(expected), \
	  _Generic((name), DWORD: 1, default: 0) }

static const struct error_code errors[] = {
	/* https://learn.microsoft.com/en-us/windows/win32/debug/system-error-codes--0-499-
	 * https://learn.microsoft.com/en-us/windows/win32/debug/system-error-codes--1000-1299-
	 * https://learn.microsoft.com/en-us/windows/win32/debug/system-error-codes--1300-1699- */
	E(ERROR_SUCCESS, 0), E(NO_ERROR, 0), E(ERROR_FILE_NOT_FOUND, 2),
	E(ERROR_ACCESS_DENIED, 5), E(ERROR_INVALID_HANDLE, 6),
	E(ERROR_NOT_ENOUGH_MEMORY, 8), E(ERROR_INVALID_DATA, 13),
	E(ERROR_OUTOFMEMORY, 14), E(ERROR_NOT_SUPPORTED, 50),
	E(ERROR_INVALID_PARAMETER, 87), E(ERROR_CALL_NOT_IMPLEMENTED, 120),
	E(ERROR_INSUFFICIENT_BUFFER, 122), E(ERROR_BUSY, 170),
	E(ERROR_MORE_DATA, 234), E(ERROR_NO_MORE_ITEMS, 259),
	E(ERROR_INVALID_FLAGS, 1004), E(ERROR_NOT_FOUND, 1168),
	E(ERROR_CANCELLED, 1223), E(ERROR_INTERNAL_ERROR, 1359),

	/* COM Error Codes (Security and Setup):
	 * https://learn.microsoft.com/en-us/windows/win32/com/com-error-codes-4 */
	E(NTE_OP_OK, 0),
	E(NTE_BAD_UID, 0x80090001), E(NTE_BAD_HASH, 0x80090002),
	E(NTE_BAD_KEY, 0x80090003), E(NTE_BAD_LEN, 0x80090004),
	E(NTE_BAD_DATA, 0x80090005), E(NTE_BAD_SIGNATURE, 0x80090006),
	E(NTE_BAD_VER, 0x80090007), E(NTE_BAD_ALGID, 0x80090008),
	E(NTE_BAD_FLAGS, 0x80090009), E(NTE_BAD_TYPE, 0x8009000A),
	E(NTE_BAD_KEY_STATE, 0x8009000B), E(NTE_BAD_HASH_STATE, 0x8009000C),
	E(NTE_NO_KEY, 0x8009000D), E(NTE_NO_MEMORY, 0x8009000E),
	E(NTE_EXISTS, 0x8009000F), E(NTE_PERM, 0x80090010),
	E(NTE_NOT_FOUND, 0x80090011), E(NTE_DOUBLE_ENCRYPT, 0x80090012),
	E(NTE_BAD_PROVIDER, 0x80090013), E(NTE_BAD_PROV_TYPE, 0x80090014),
	E(NTE_BAD_PUBLIC_KEY, 0x80090015), E(NTE_BAD_KEYSET, 0x80090016),
	E(NTE_PROV_TYPE_NOT_DEF, 0x80090017),
	E(NTE_PROV_TYPE_ENTRY_BAD, 0x80090018),
	E(NTE_KEYSET_NOT_DEF, 0x80090019), E(NTE_KEYSET_ENTRY_BAD, 0x8009001A),
	E(NTE_PROV_TYPE_NO_MATCH, 0x8009001B),
	E(NTE_SIGNATURE_FILE_BAD, 0x8009001C),
	E(NTE_PROVIDER_DLL_FAIL, 0x8009001D),
	E(NTE_PROV_DLL_NOT_FOUND, 0x8009001E),
	E(NTE_BAD_KEYSET_PARAM, 0x8009001F), E(NTE_FAIL, 0x80090020),
	E(NTE_SYS_ERR, 0x80090021), E(NTE_SILENT_CONTEXT, 0x80090022),
	E(NTE_TOKEN_KEYSET_STORAGE_FULL, 0x80090023),
	E(NTE_TEMPORARY_PROFILE, 0x80090024),
	E(NTE_FIXEDPARAMETER, 0x80090025), E(NTE_INVALID_HANDLE, 0x80090026),
	E(NTE_INVALID_PARAMETER, 0x80090027),
	E(NTE_BUFFER_TOO_SMALL, 0x80090028), E(NTE_NOT_SUPPORTED, 0x80090029),
	E(NTE_NO_MORE_ITEMS, 0x8009002A), E(NTE_BUFFERS_OVERLAP, 0x8009002B),
	E(NTE_DECRYPTION_FAILURE, 0x8009002C),
	E(NTE_INTERNAL_ERROR, 0x8009002D), E(NTE_UI_REQUIRED, 0x8009002E),
	E(NTE_HMAC_NOT_SUPPORTED, 0x8009002F),
	E(NTE_DEVICE_NOT_READY, 0x80090030),
	E(NTE_AUTHENTICATION_IGNORED, 0x80090031),
	E(NTE_VALIDATION_FAILED, 0x80090032),
	E(NTE_INCORRECT_PASSWORD, 0x80090033),
	E(NTE_ENCRYPTION_FAILURE, 0x80090034),
	E(NTE_DEVICE_NOT_FOUND, 0x80090035),
	E(NTE_USER_CANCELLED, 0x80090036),
	E(NTE_NOT_ACTIVE_CONSOLE, 0x80090038),

	/* Smart Card Return Values:
	 * https://learn.microsoft.com/en-us/windows/win32/secauthn/authentication-return-values */
	E(SCARD_S_SUCCESS, 0),
	E(SCARD_F_INTERNAL_ERROR, 0x80100001), E(SCARD_E_CANCELLED, 0x80100002),
	E(SCARD_E_INVALID_HANDLE, 0x80100003),
	E(SCARD_E_INVALID_PARAMETER, 0x80100004),
	E(SCARD_E_INVALID_TARGET, 0x80100005), E(SCARD_E_NO_MEMORY, 0x80100006),
	E(SCARD_F_WAITED_TOO_LONG, 0x80100007),
	E(SCARD_E_INSUFFICIENT_BUFFER, 0x80100008),
	E(SCARD_E_UNKNOWN_READER, 0x80100009), E(SCARD_E_TIMEOUT, 0x8010000A),
	E(SCARD_E_SHARING_VIOLATION, 0x8010000B),
	E(SCARD_E_NO_SMARTCARD, 0x8010000C), E(SCARD_E_UNKNOWN_CARD, 0x8010000D),
	E(SCARD_E_CANT_DISPOSE, 0x8010000E),
	E(SCARD_E_PROTO_MISMATCH, 0x8010000F), E(SCARD_E_NOT_READY, 0x80100010),
	E(SCARD_E_INVALID_VALUE, 0x80100011),
	E(SCARD_E_SYSTEM_CANCELLED, 0x80100012),
	E(SCARD_F_COMM_ERROR, 0x80100013), E(SCARD_F_UNKNOWN_ERROR, 0x80100014),
	E(SCARD_E_INVALID_ATR, 0x80100015),
	E(SCARD_E_NOT_TRANSACTED, 0x80100016),
	E(SCARD_E_READER_UNAVAILABLE, 0x80100017),
	E(SCARD_P_SHUTDOWN, 0x80100018), E(SCARD_E_PCI_TOO_SMALL, 0x80100019),
	E(SCARD_E_READER_UNSUPPORTED, 0x8010001A),
	E(SCARD_E_DUPLICATE_READER, 0x8010001B),
	E(SCARD_E_CARD_UNSUPPORTED, 0x8010001C),
	E(SCARD_E_NO_SERVICE, 0x8010001D),
	E(SCARD_E_SERVICE_STOPPED, 0x8010001E),
	E(SCARD_E_UNEXPECTED, 0x8010001F),
	E(SCARD_E_ICC_INSTALLATION, 0x80100020),
	E(SCARD_E_ICC_CREATEORDER, 0x80100021),
	E(SCARD_E_UNSUPPORTED_FEATURE, 0x80100022),
	E(SCARD_E_DIR_NOT_FOUND, 0x80100023),
	E(SCARD_E_FILE_NOT_FOUND, 0x80100024), E(SCARD_E_NO_DIR, 0x80100025),
	E(SCARD_E_NO_FILE, 0x80100026), E(SCARD_E_NO_ACCESS, 0x80100027),
	E(SCARD_E_WRITE_TOO_MANY, 0x80100028), E(SCARD_E_BAD_SEEK, 0x80100029),
	E(SCARD_E_INVALID_CHV, 0x8010002A),
	E(SCARD_E_UNKNOWN_RES_MNG, 0x8010002B),
	E(SCARD_E_NO_SUCH_CERTIFICATE, 0x8010002C),
	E(SCARD_E_CERTIFICATE_UNAVAILABLE, 0x8010002D),
	E(SCARD_E_NO_READERS_AVAILABLE, 0x8010002E),
	E(SCARD_E_COMM_DATA_LOST, 0x8010002F),
	E(SCARD_E_NO_KEY_CONTAINER, 0x80100030),
	E(SCARD_E_SERVER_TOO_BUSY, 0x80100031),
	E(SCARD_E_PIN_CACHE_EXPIRED, 0x80100032),
	E(SCARD_E_NO_PIN_CACHE, 0x80100033),
	E(SCARD_E_READ_ONLY_CARD, 0x80100034),
	E(SCARD_W_UNSUPPORTED_CARD, 0x80100065),
	E(SCARD_W_UNRESPONSIVE_CARD, 0x80100066),
	E(SCARD_W_UNPOWERED_CARD, 0x80100067),
	E(SCARD_W_RESET_CARD, 0x80100068), E(SCARD_W_REMOVED_CARD, 0x80100069),
	E(SCARD_W_SECURITY_VIOLATION, 0x8010006A),
	E(SCARD_W_WRONG_CHV, 0x8010006B), E(SCARD_W_CHV_BLOCKED, 0x8010006C),
	E(SCARD_W_EOF, 0x8010006D), E(SCARD_W_CANCELLED_BY_USER, 0x8010006E),
	E(SCARD_W_CARD_NOT_AUTHENTICATED, 0x8010006F),
	E(SCARD_W_CACHE_ITEM_NOT_FOUND, 0x80100070),
	E(SCARD_W_CACHE_ITEM_STALE, 0x80100071),
	E(SCARD_W_CACHE_ITEM_TOO_BIG, 0x80100072),
};

static void test_alg_ids(void)
{
	constants_check(alg_ids, ARRAY_LEN(alg_ids));
}

static void test_providers(void)
{
	constants_check(providers, ARRAY_LEN(providers));
}

static void test_flags(void)
{
	constants_check(flags, ARRAY_LEN(flags));
}

static void test_blobs(void)
{
	constants_check(blobs, ARRAY_LEN(blobs));
}

static void test_key_params(void)
{
	constants_check(key_params, ARRAY_LEN(key_params));
}

static void test_prov_params(void)
{
	constants_check(prov_params, ARRAY_LEN(prov_params));
}

static void test_error_codes(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(errors); i++) {
		if (errors[i].value != errors[i].expected || !errors[i].is_dword)
			fprintf(stderr, "%s = 0x%llx%s, Windows has 0x%llx\n",
				errors[i].name,
				(unsigned long long)errors[i].value,
				errors[i].is_dword ? "" : " (not a DWORD)",
				(unsigned long long)errors[i].expected);
		CU_ASSERT_EQUAL(errors[i].value, errors[i].expected);
		CU_ASSERT_TRUE(errors[i].is_dword);
	}
}

/* Code compares GetLastError() with the codes and stores them in DWORDs;
 * with -Wextra a signed code would warn here, so building this file is
 * part of the test. */
static void test_error_codes_as_dword(void)
{
	DWORD last = NTE_BAD_KEY;

	CU_ASSERT_TRUE(last == NTE_BAD_KEY);
	CU_ASSERT_TRUE(last > ERROR_SUCCESS);
	last = SCARD_E_NO_SMARTCARD;
	CU_ASSERT_TRUE(last == 0x8010000Cu);
	CU_ASSERT_TRUE(ERROR_MORE_DATA < NTE_BAD_UID);
}

/* The magic numbers are the ASCII tags stored little-endian, which is how
 * they appear in blob bytes. */
static uint32_t tag_le32(const char tag[4])
{
	return (uint32_t)(unsigned char)tag[0] |
	       (uint32_t)(unsigned char)tag[1] << 8 |
	       (uint32_t)(unsigned char)tag[2] << 16 |
	       (uint32_t)(unsigned char)tag[3] << 24;
}

static void test_magic_tags(void)
{
	CU_ASSERT_EQUAL(CAPI11_RSA1_MAGIC, tag_le32("RSA1"));
	CU_ASSERT_EQUAL(CAPI11_RSA2_MAGIC, tag_le32("RSA2"));
	CU_ASSERT_EQUAL(CAPI11_DSS1_MAGIC, tag_le32("DSS1"));
	CU_ASSERT_EQUAL(CAPI11_DSS2_MAGIC, tag_le32("DSS2"));
	CU_ASSERT_EQUAL(CAPI11_DSS3_MAGIC, tag_le32("DSS3"));
	CU_ASSERT_EQUAL(CAPI11_DSS4_MAGIC, tag_le32("DSS4"));
	CU_ASSERT_EQUAL(CAPI11_DH1_MAGIC, tag_le32("\0DH1"));
	CU_ASSERT_EQUAL(CAPI11_DH2_MAGIC, tag_le32("\0DH2"));
	CU_ASSERT_EQUAL(CAPI11_DH3_MAGIC, tag_le32("\0DH3"));
	CU_ASSERT_EQUAL(CAPI11_DH4_MAGIC, tag_le32("\0DH4"));
}

/* Provider names, byte for byte.
 * https://learn.microsoft.com/en-us/windows/win32/seccrypto/cryptographic-provider-names */
static void test_provider_names(void)
{
	static const struct {
		const char *name;
		const char *value;
		const char *expected;
	} names[] = {
		{ "MS_DEF_PROV_A", MS_DEF_PROV_A,
		  "Microsoft Base Cryptographic Provider v1.0" },
		{ "MS_ENHANCED_PROV_A", MS_ENHANCED_PROV_A,
		  "Microsoft Enhanced Cryptographic Provider v1.0" },
		{ "MS_STRONG_PROV_A", MS_STRONG_PROV_A,
		  "Microsoft Strong Cryptographic Provider" },
		{ "MS_DEF_RSA_SIG_PROV_A", MS_DEF_RSA_SIG_PROV_A,
		  "Microsoft RSA Signature Cryptographic Provider" },
		{ "MS_DEF_RSA_SCHANNEL_PROV_A", MS_DEF_RSA_SCHANNEL_PROV_A,
		  "Microsoft RSA SChannel Cryptographic Provider" },
		{ "MS_DEF_DSS_PROV_A", MS_DEF_DSS_PROV_A,
		  "Microsoft Base DSS Cryptographic Provider" },
		{ "MS_DEF_DSS_DH_PROV_A", MS_DEF_DSS_DH_PROV_A,
		  "Microsoft Base DSS and Diffie-Hellman Cryptographic Provider" },
		{ "MS_ENH_DSS_DH_PROV_A", MS_ENH_DSS_DH_PROV_A,
		  "Microsoft Enhanced DSS and Diffie-Hellman Cryptographic Provider" },
		{ "MS_DEF_DH_SCHANNEL_PROV_A", MS_DEF_DH_SCHANNEL_PROV_A,
		  "Microsoft DH SChannel Cryptographic Provider" },
		{ "MS_SCARD_PROV_A", MS_SCARD_PROV_A,
		  "Microsoft Base Smart Card Crypto Provider" },
		{ "MS_ENH_RSA_AES_PROV_A", MS_ENH_RSA_AES_PROV_A,
		  "Microsoft Enhanced RSA and AES Cryptographic Provider" },
		{ "MS_ENH_RSA_AES_PROV_XP_A", MS_ENH_RSA_AES_PROV_XP_A,
		  "Microsoft Enhanced RSA and AES Cryptographic Provider (Prototype)" },
		/* Without UNICODE the unsuffixed names are the ANSI ones. */
		{ "MS_DEF_PROV", MS_DEF_PROV,
		  "Microsoft Base Cryptographic Provider v1.0" },
		{ "MS_ENHANCED_PROV", MS_ENHANCED_PROV,
		  "Microsoft Enhanced Cryptographic Provider v1.0" },
		{ "MS_STRONG_PROV", MS_STRONG_PROV,
		  "Microsoft Strong Cryptographic Provider" },
		{ "MS_ENH_RSA_AES_PROV", MS_ENH_RSA_AES_PROV,
		  "Microsoft Enhanced RSA and AES Cryptographic Provider" },
		{ "MS_SCARD_PROV", MS_SCARD_PROV,
		  "Microsoft Base Smart Card Crypto Provider" },
		{ "MS_DEF_DSS_DH_PROV", MS_DEF_DSS_DH_PROV,
		  "Microsoft Base DSS and Diffie-Hellman Cryptographic Provider" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(names); i++) {
		if (strcmp(names[i].value, names[i].expected) != 0)
			fprintf(stderr, "%s = \"%s\"\n", names[i].name,
				names[i].value);
		CU_ASSERT_STRING_EQUAL(names[i].value, names[i].expected);
	}
}

/* Base types with their Windows (LLP64) widths on LP64 Linux.
 * https://learn.microsoft.com/en-us/windows/win32/winprog/windows-data-types */
static void test_type_sizes(void)
{
	CU_ASSERT_EQUAL(sizeof(BYTE), 1);
	CU_ASSERT_EQUAL(sizeof(WORD), 2);
	CU_ASSERT_EQUAL(sizeof(DWORD), 4);
	CU_ASSERT_EQUAL(sizeof(ALG_ID), 4);
	CU_ASSERT_EQUAL(sizeof(LONG), 4);
	CU_ASSERT_EQUAL(sizeof(ULONG), 4);
	CU_ASSERT_EQUAL(sizeof(HRESULT), 4);
	CU_ASSERT_EQUAL(sizeof(BOOL), 4);
	CU_ASSERT_EQUAL(sizeof(CHAR), 1);
	CU_ASSERT_EQUAL(sizeof(WCHAR), 2);
	CU_ASSERT_EQUAL(sizeof(ULONG_PTR), sizeof(void *));
	CU_ASSERT_EQUAL(sizeof(HCRYPTPROV), sizeof(void *));
	CU_ASSERT_EQUAL(sizeof(HCRYPTKEY), sizeof(void *));
	CU_ASSERT_EQUAL(sizeof(HCRYPTHASH), sizeof(void *));

	/* Signedness: DWORD, ALG_ID and the handles are unsigned, LONG and
	 * HRESULT signed. */
	CU_ASSERT_TRUE((BYTE)-1 > 0);
	CU_ASSERT_TRUE((WORD)-1 > 0);
	CU_ASSERT_TRUE((DWORD)-1 > 0);
	CU_ASSERT_TRUE((ULONG)-1 > 0);
	CU_ASSERT_TRUE((ALG_ID)-1 > 0);
	CU_ASSERT_TRUE((HCRYPTPROV)-1 > 0);
	CU_ASSERT_TRUE((LONG)-1 < 0);
	CU_ASSERT_TRUE((HRESULT)-1 < 0);

	/* The exact fixed-width types, never `long`, which is 64 bits here. */
	CU_ASSERT_TRUE(_Generic((DWORD)0, uint32_t: 1, default: 0));
	CU_ASSERT_TRUE(_Generic((ALG_ID)0, uint32_t: 1, default: 0));
	CU_ASSERT_TRUE(_Generic((ULONG)0, uint32_t: 1, default: 0));
	CU_ASSERT_TRUE(_Generic((LONG)0, int32_t: 1, default: 0));
	CU_ASSERT_TRUE(_Generic((HRESULT)0, int32_t: 1, default: 0));
	CU_ASSERT_TRUE(_Generic((BOOL)0, int: 1, default: 0));
	CU_ASSERT_TRUE(_Generic((HCRYPTPROV)0, uintptr_t: 1, default: 0));

	CU_ASSERT_EQUAL(TRUE, 1);
	CU_ASSERT_EQUAL(FALSE, 0);
}

/* Structures with Windows' layout; blobs made on Windows are read through
 * them.  Sizes and offsets follow from the member lists on
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/ns-wincrypt-publickeystruc
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/ns-wincrypt-rsapubkey
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/ns-wincrypt-dssseed
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/ns-wincrypt-prov_enumalgs
 * https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/ns-wincrypt-prov_enumalgs_ex
 * with the x64 alignment rules (4-byte DWORDs, 8-byte pointers). */
static void test_struct_layout(void)
{
	CU_ASSERT_EQUAL(sizeof(BLOBHEADER), 8);
	CU_ASSERT_EQUAL(sizeof(PUBLICKEYSTRUC), 8);
	CU_ASSERT_EQUAL(offsetof(BLOBHEADER, bType), 0);
	CU_ASSERT_EQUAL(offsetof(BLOBHEADER, bVersion), 1);
	CU_ASSERT_EQUAL(offsetof(BLOBHEADER, reserved), 2);
	CU_ASSERT_EQUAL(offsetof(BLOBHEADER, aiKeyAlg), 4);

	CU_ASSERT_EQUAL(sizeof(RSAPUBKEY), 12);
	CU_ASSERT_EQUAL(offsetof(RSAPUBKEY, magic), 0);
	CU_ASSERT_EQUAL(offsetof(RSAPUBKEY, bitlen), 4);
	CU_ASSERT_EQUAL(offsetof(RSAPUBKEY, pubexp), 8);

	CU_ASSERT_EQUAL(sizeof(DSSPUBKEY), 8);
	CU_ASSERT_EQUAL(sizeof(DHPUBKEY), 8);
	CU_ASSERT_EQUAL(offsetof(DSSPUBKEY, bitlen), 4);

	CU_ASSERT_EQUAL(sizeof(DSSSEED), 24);
	CU_ASSERT_EQUAL(offsetof(DSSSEED, counter), 0);
	CU_ASSERT_EQUAL(offsetof(DSSSEED, seed), 4);

	CU_ASSERT_EQUAL(sizeof(DSSPUBKEY_VER3), 40);
	CU_ASSERT_EQUAL(sizeof(DHPUBKEY_VER3), 40);
	CU_ASSERT_EQUAL(offsetof(DSSPUBKEY_VER3, bitlenP), 4);
	CU_ASSERT_EQUAL(offsetof(DSSPUBKEY_VER3, bitlenQ), 8);
	CU_ASSERT_EQUAL(offsetof(DSSPUBKEY_VER3, bitlenJ), 12);
	CU_ASSERT_EQUAL(offsetof(DSSPUBKEY_VER3, DSSSeed), 16);

	CU_ASSERT_EQUAL(sizeof(DSSPRIVKEY_VER3), 44);
	CU_ASSERT_EQUAL(sizeof(DHPRIVKEY_VER3), 44);
	CU_ASSERT_EQUAL(offsetof(DSSPRIVKEY_VER3, bitlenX), 16);
	CU_ASSERT_EQUAL(offsetof(DSSPRIVKEY_VER3, DSSSeed), 20);

	CU_ASSERT_EQUAL(sizeof(PROV_ENUMALGS), 32);
	CU_ASSERT_EQUAL(offsetof(PROV_ENUMALGS, dwBitLen), 4);
	CU_ASSERT_EQUAL(offsetof(PROV_ENUMALGS, dwNameLen), 8);
	CU_ASSERT_EQUAL(offsetof(PROV_ENUMALGS, szName), 12);

	CU_ASSERT_EQUAL(sizeof(PROV_ENUMALGS_EX), 88);
	CU_ASSERT_EQUAL(offsetof(PROV_ENUMALGS_EX, dwDefaultLen), 4);
	CU_ASSERT_EQUAL(offsetof(PROV_ENUMALGS_EX, dwMinLen), 8);
	CU_ASSERT_EQUAL(offsetof(PROV_ENUMALGS_EX, dwMaxLen), 12);
	CU_ASSERT_EQUAL(offsetof(PROV_ENUMALGS_EX, dwProtocols), 16);
	CU_ASSERT_EQUAL(offsetof(PROV_ENUMALGS_EX, dwNameLen), 20);
	CU_ASSERT_EQUAL(offsetof(PROV_ENUMALGS_EX, szName), 24);
	CU_ASSERT_EQUAL(offsetof(PROV_ENUMALGS_EX, dwLongNameLen), 44);
	CU_ASSERT_EQUAL(offsetof(PROV_ENUMALGS_EX, szLongName), 48);

	CU_ASSERT_EQUAL(sizeof(CRYPT_DATA_BLOB), 8 + sizeof(void *));
	CU_ASSERT_EQUAL(offsetof(CRYPT_DATA_BLOB, pbData), sizeof(void *));
	CU_ASSERT_EQUAL(sizeof(DATA_BLOB), sizeof(CRYPT_DATA_BLOB));

	CU_ASSERT_EQUAL(sizeof(SCHANNEL_ALG), 20);
	CU_ASSERT_EQUAL(offsetof(HMAC_INFO, pbInnerString), sizeof(void *));

	CU_ASSERT_EQUAL(sizeof(CRYPT_RC4_KEY_STATE), 16 + 256 + 2);
	CU_ASSERT_EQUAL(sizeof(CRYPT_DES_KEY_STATE), 24);
	CU_ASSERT_EQUAL(sizeof(CRYPT_3DES_KEY_STATE), 40);
	CU_ASSERT_EQUAL(sizeof(CRYPT_AES_128_KEY_STATE), 16 + 16 + 2 * 11 * 16 + 16);
	CU_ASSERT_EQUAL(sizeof(CRYPT_AES_256_KEY_STATE), 32 + 16 + 2 * 15 * 16 + 16);
}

/* Windows-derived macros: the key length rides in the upper 16 bits of
 * CryptGenKey's dwFlags.
 * https://learn.microsoft.com/en-us/windows/win32/api/minwindef/nf-minwindef-hiword */
static void test_word_macros(void)
{
	DWORD gen_flags = (2048u << 16) | CRYPT_EXPORTABLE;

	CU_ASSERT_EQUAL(HIWORD(gen_flags), 2048);
	CU_ASSERT_EQUAL(LOWORD(gen_flags), CRYPT_EXPORTABLE);
	CU_ASSERT_EQUAL(HIWORD(RSA1024BIT_KEY), 0x0400);
	CU_ASSERT_EQUAL((DWORD)MAKELONG(0x0001, 0x0800), 0x08000001u);
	CU_ASSERT_EQUAL(MAKEWORD(0x34, 0x12), 0x1234);
	CU_ASSERT_EQUAL(LOBYTE(0x1234), 0x34);
	CU_ASSERT_EQUAL(HIBYTE(0x1234), 0x12);
}

/* Without UNICODE, CryptAcquireContext names the ANSI function.  Checked on
 * the macro's expansion, so this program needs no library at link time. */
#define STRINGIFY(x) #x
#define EXPANDED(x) STRINGIFY(x)

static void test_acquire_maps_to_ansi(void)
{
	CU_ASSERT_STRING_EQUAL(EXPANDED(CryptAcquireContext),
			       "CryptAcquireContextA");
	CU_ASSERT_STRING_EQUAL(EXPANDED(CryptSignHash), "CryptSignHashA");
	CU_ASSERT_STRING_EQUAL(EXPANDED(CryptVerifySignature), "CryptVerifySignatureA");
}

/* Prototypes match the current Windows SDK (um/wincrypt.h), const-ness of
 * CryptSetProvParam/CryptSetKeyParam/CryptImportKey's pbData included.
 * __typeof__ does not evaluate, so no library symbol is referenced. */
#define PROTO(fn, type) \
	{ #fn, __builtin_types_compatible_p(__typeof__(&fn), type) }

static void test_prototypes(void)
{
	static const struct {
		const char *name;
		int matches;
	} protos[] = {
		PROTO(GetLastError, DWORD (*)(void)),
		PROTO(SetLastError, void (*)(DWORD)),
		PROTO(CryptAcquireContextA,
		      BOOL (*)(HCRYPTPROV *, LPCSTR, LPCSTR, DWORD, DWORD)),
		PROTO(CryptReleaseContext, BOOL (*)(HCRYPTPROV, DWORD)),
		PROTO(CryptContextAddRef, BOOL (*)(HCRYPTPROV, DWORD *, DWORD)),
		PROTO(CryptGetProvParam,
		      BOOL (*)(HCRYPTPROV, DWORD, BYTE *, DWORD *, DWORD)),
		PROTO(CryptSetProvParam,
		      BOOL (*)(HCRYPTPROV, DWORD, const BYTE *, DWORD)),
		PROTO(CryptGenRandom, BOOL (*)(HCRYPTPROV, DWORD, BYTE *)),
		PROTO(CryptGenKey,
		      BOOL (*)(HCRYPTPROV, ALG_ID, DWORD, HCRYPTKEY *)),
		PROTO(CryptGetUserKey, BOOL (*)(HCRYPTPROV, DWORD, HCRYPTKEY *)),
		PROTO(CryptDestroyKey, BOOL (*)(HCRYPTKEY)),
		PROTO(CryptDuplicateKey,
		      BOOL (*)(HCRYPTKEY, DWORD *, DWORD, HCRYPTKEY *)),
		PROTO(CryptGetKeyParam,
		      BOOL (*)(HCRYPTKEY, DWORD, BYTE *, DWORD *, DWORD)),
		PROTO(CryptSetKeyParam,
		      BOOL (*)(HCRYPTKEY, DWORD, const BYTE *, DWORD)),
		PROTO(CryptExportKey,
		      BOOL (*)(HCRYPTKEY, HCRYPTKEY, DWORD, DWORD, BYTE *,
			       DWORD *)),
		PROTO(CryptImportKey,
		      BOOL (*)(HCRYPTPROV, const BYTE *, DWORD, HCRYPTKEY, DWORD,
			       HCRYPTKEY *)),
		PROTO(CryptEncrypt,
		      BOOL (*)(HCRYPTKEY, HCRYPTHASH, BOOL, DWORD, BYTE *,
			       DWORD *, DWORD)),
		PROTO(CryptDecrypt,
		      BOOL (*)(HCRYPTKEY, HCRYPTHASH, BOOL, DWORD, BYTE *,
			       DWORD *)),
		PROTO(CryptCreateHash,
		      BOOL (*)(HCRYPTPROV, ALG_ID, HCRYPTKEY, DWORD, HCRYPTHASH *)),
		PROTO(CryptHashData, BOOL (*)(HCRYPTHASH, const BYTE *, DWORD, DWORD)),
		PROTO(CryptHashSessionKey, BOOL (*)(HCRYPTHASH, HCRYPTKEY, DWORD)),
		PROTO(CryptGetHashParam,
		      BOOL (*)(HCRYPTHASH, DWORD, BYTE *, DWORD *, DWORD)),
		PROTO(CryptSetHashParam,
		      BOOL (*)(HCRYPTHASH, DWORD, const BYTE *, DWORD)),
		PROTO(CryptDuplicateHash,
		      BOOL (*)(HCRYPTHASH, DWORD *, DWORD, HCRYPTHASH *)),
		PROTO(CryptDestroyHash, BOOL (*)(HCRYPTHASH)),
		PROTO(CryptSignHashA,
		      BOOL (*)(HCRYPTHASH, DWORD, LPCSTR, DWORD, BYTE *, DWORD *)),
		PROTO(CryptVerifySignatureA,
		      BOOL (*)(HCRYPTHASH, const BYTE *, DWORD, HCRYPTKEY, LPCSTR,
			       DWORD)),
		PROTO(CryptDeriveKey,
		      BOOL (*)(HCRYPTPROV, ALG_ID, HCRYPTHASH, DWORD, HCRYPTKEY *)),
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(protos); i++) {
		if (!protos[i].matches)
			fprintf(stderr, "%s: prototype differs from the SDK\n",
				protos[i].name);
		CU_ASSERT_TRUE(protos[i].matches);
	}
}

static CU_TestInfo constant_tests[] = {
	{ "ALG_ID values and crackers", test_alg_ids },
	{ "provider types and key specs", test_providers },
	{ "function flags", test_flags },
	{ "blob types and magic numbers", test_blobs },
	{ "magic numbers are the ASCII tags", test_magic_tags },
	{ "KP_*, HP_*, modes, padding, permissions", test_key_params },
	{ "PP_* and their values", test_prov_params },
	{ "ERROR_*, NTE_*, SCARD_* values and DWORD type", test_error_codes },
	{ "error codes compare as DWORD", test_error_codes_as_dword },
	{ "provider names", test_provider_names },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo type_tests[] = {
	{ "base type sizes and signedness", test_type_sizes },
	{ "structure sizes and offsets", test_struct_layout },
	{ "HIWORD/LOWORD/MAKELONG", test_word_macros },
	{ "CryptAcquireContext, CryptSignHash, CryptVerifySignature are the A forms",
	  test_acquire_maps_to_ansi },
	{ "prototypes match the SDK", test_prototypes },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "constants", NULL, NULL, NULL, NULL, constant_tests },
	{ "types", NULL, NULL, NULL, NULL, type_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_run(suites);
}
