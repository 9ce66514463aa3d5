/*
 * wincrypt.h - the Windows CryptoAPI (CAPI 1) for Linux, backed by PKCS#11
 * tokens.
 *
 * Code written for Windows includes this header and compiles unchanged.
 * It is self-sufficient: it brings the Windows base types with the sizes
 * they have on Windows (on LP64 Linux `long` is 64 bits, so DWORD and LONG
 * are fixed-width types here, never `long`), the structures with Windows'
 * layout, every constant with its Windows SDK value, and the functions
 * capi11 implements.
 *
 * Every function returns TRUE or FALSE; on FALSE, GetLastError() returns
 * the reason.  Error codes are DWORDs so that `GetLastError() == NTE_BAD_KEY`
 * compiles without sign-compare warnings.
 */
#ifndef CAPI11_WINCRYPT_H
#define CAPI11_WINCRYPT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Calling-convention and linkage decorations are empty on Linux; they exist
 * so that declarations copied from Windows code compile. */
#ifndef WINAPI
#define WINAPI
#endif
#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef WINADVAPI
#define WINADVAPI
#endif

/* ------------------------------------------------------------------------
 * Base types, with the widths Windows gives them (LLP64 data model).
 */
typedef uint8_t BYTE, *PBYTE, *LPBYTE;
typedef uint16_t WORD, *PWORD, *LPWORD;
typedef uint32_t DWORD, *PDWORD, *LPDWORD;
typedef uint32_t ULONG, *PULONG;
typedef int32_t LONG, *PLONG;
typedef int32_t HRESULT;
typedef uint16_t USHORT;
typedef int16_t SHORT;
typedef int INT;
typedef unsigned int UINT;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef int BOOL, *PBOOL, *LPBOOL;
typedef BYTE BOOLEAN;
typedef char CHAR, *PCHAR;
typedef CHAR *LPSTR, *PSTR;
typedef const CHAR *LPCSTR, *PCSTR;
/* Windows' wide characters are UTF-16 code units, not Linux' 32-bit
 * wchar_t. */
typedef uint16_t WCHAR;
typedef WCHAR *LPWSTR, *PWSTR;
typedef const WCHAR *LPCWSTR, *PCWSTR;
/* winnt.h's generic text types, for programs that use them with this
 * header alone: WCHAR under UNICODE, else CHAR. */
#ifndef CAPI11_NO_TCHAR
#ifdef UNICODE
typedef WCHAR TCHAR;
#define TEXT(s) L##s
#else
typedef CHAR TCHAR;
#define TEXT(s) s
#endif
typedef TCHAR *LPTSTR;
typedef const TCHAR *LPCTSTR;
#endif
typedef void VOID, *PVOID, *LPVOID;
typedef const void *LPCVOID;
typedef uintptr_t ULONG_PTR, *PULONG_PTR;
typedef intptr_t LONG_PTR;
typedef uintptr_t DWORD_PTR;
typedef uintptr_t UINT_PTR;
typedef intptr_t INT_PTR;
typedef uint32_t ALG_ID;

#ifndef FALSE
#define FALSE 0
#endif
#ifndef TRUE
#define TRUE 1
#endif

#define LOBYTE(w) ((BYTE)(((DWORD_PTR)(w)) & 0xff))
#define HIBYTE(w) ((BYTE)((((DWORD_PTR)(w)) >> 8) & 0xff))
#define LOWORD(l) ((WORD)(((DWORD_PTR)(l)) & 0xffff))
#define HIWORD(l) ((WORD)((((DWORD_PTR)(l)) >> 16) & 0xffff))
#define MAKEWORD(a, b) ((WORD)(((BYTE)(((DWORD_PTR)(a)) & 0xff)) | \
	((WORD)((BYTE)(((DWORD_PTR)(b)) & 0xff))) << 8))
#define MAKELONG(a, b) ((LONG)(((WORD)(((DWORD_PTR)(a)) & 0xffff)) | \
	((DWORD)((WORD)(((DWORD_PTR)(b)) & 0xffff))) << 16))

/* ------------------------------------------------------------------------
 * Handles.  Windows declares them as ULONG_PTR, and programs store them in
 * integers, so they are integers here too; 0 is never a valid handle.
 */
typedef ULONG_PTR HCRYPTPROV;
typedef ULONG_PTR HCRYPTKEY;
typedef ULONG_PTR HCRYPTHASH;

/* ------------------------------------------------------------------------
 * Algorithm identifiers: class (bits 13-15) | type (bits 9-12) | sid
 * (bits 0-8).
 */
#define GET_ALG_CLASS(x) ((x) & (7 << 13))
#define GET_ALG_TYPE(x) ((x) & (15 << 9))
#define GET_ALG_SID(x) ((x) & (511))

#define ALG_CLASS_ANY (0)
#define ALG_CLASS_SIGNATURE (1 << 13)
#define ALG_CLASS_MSG_ENCRYPT (2 << 13)
#define ALG_CLASS_DATA_ENCRYPT (3 << 13)
#define ALG_CLASS_HASH (4 << 13)
#define ALG_CLASS_KEY_EXCHANGE (5 << 13)
#define ALG_CLASS_ALL (7 << 13)

#define ALG_TYPE_ANY (0)
#define ALG_TYPE_DSS (1 << 9)
#define ALG_TYPE_RSA (2 << 9)
#define ALG_TYPE_BLOCK (3 << 9)
#define ALG_TYPE_STREAM (4 << 9)
#define ALG_TYPE_DH (5 << 9)
#define ALG_TYPE_SECURECHANNEL (6 << 9)
#define ALG_TYPE_ECDH (7 << 9)
#define ALG_TYPE_THIRDPARTY (8 << 9)

#define ALG_SID_ANY (0)
#define ALG_SID_THIRDPARTY_ANY (0)

/* RSA */
#define ALG_SID_RSA_ANY 0
#define ALG_SID_RSA_PKCS 1
#define ALG_SID_RSA_MSATWORK 2
#define ALG_SID_RSA_ENTRUST 3
#define ALG_SID_RSA_PGP 4

/* DSS */
#define ALG_SID_DSS_ANY 0
#define ALG_SID_DSS_PKCS 1
#define ALG_SID_DSS_DMS 2
#define ALG_SID_ECDSA 3

/* Block ciphers */
#define ALG_SID_DES 1
#define ALG_SID_3DES 3
#define ALG_SID_DESX 4
#define ALG_SID_IDEA 5
#define ALG_SID_CAST 6
#define ALG_SID_SAFERSK64 7
#define ALG_SID_SAFERSK128 8
#define ALG_SID_3DES_112 9
#define ALG_SID_CYLINK_MEK 12
#define ALG_SID_RC5 13
#define ALG_SID_AES_128 14
#define ALG_SID_AES_192 15
#define ALG_SID_AES_256 16
#define ALG_SID_AES 17

/* Fortezza */
#define ALG_SID_SKIPJACK 10
#define ALG_SID_TEK 11

/* KP_MODE values of the Fortezza provider */
#define CRYPT_MODE_CBCI 6
#define CRYPT_MODE_CFBP 7
#define CRYPT_MODE_OFBP 8
#define CRYPT_MODE_CBCOFM 9
#define CRYPT_MODE_CBCOFMI 10

/* RC2 */
#define ALG_SID_RC2 2

/* Stream ciphers */
#define ALG_SID_RC4 1
#define ALG_SID_SEAL 2

/* Diffie-Hellman and other key agreements */
#define ALG_SID_DH_SANDF 1
#define ALG_SID_DH_EPHEM 2
#define ALG_SID_AGREED_KEY_ANY 3
#define ALG_SID_KEA 4
#define ALG_SID_ECDH 5
#define ALG_SID_ECDH_EPHEM 6

/* Hashes */
#define ALG_SID_MD2 1
#define ALG_SID_MD4 2
#define ALG_SID_MD5 3
#define ALG_SID_SHA 4
#define ALG_SID_SHA1 4
#define ALG_SID_MAC 5
#define ALG_SID_RIPEMD 6
#define ALG_SID_RIPEMD160 7
#define ALG_SID_SSL3SHAMD5 8
#define ALG_SID_HMAC 9
#define ALG_SID_TLS1PRF 10
#define ALG_SID_HASH_REPLACE_OWF 11
#define ALG_SID_SHA_256 12
#define ALG_SID_SHA_384 13
#define ALG_SID_SHA_512 14

/* Secure channel */
#define ALG_SID_SSL3_MASTER 1
#define ALG_SID_SCHANNEL_MASTER_HASH 2
#define ALG_SID_SCHANNEL_MAC_KEY 3
#define ALG_SID_PCT1_MASTER 4
#define ALG_SID_SSL2_MASTER 5
#define ALG_SID_TLS1_MASTER 6
#define ALG_SID_SCHANNEL_ENC_KEY 7

/* ECC */
#define ALG_SID_ECMQV 1

#define ALG_SID_EXAMPLE 80

#define CALG_MD2 (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_MD2)
#define CALG_MD4 (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_MD4)
#define CALG_MD5 (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_MD5)
#define CALG_SHA (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_SHA)
#define CALG_SHA1 (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_SHA1)
#define CALG_MAC (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_MAC)
#define CALG_RSA_SIGN (ALG_CLASS_SIGNATURE | ALG_TYPE_RSA | ALG_SID_RSA_ANY)
#define CALG_DSS_SIGN (ALG_CLASS_SIGNATURE | ALG_TYPE_DSS | ALG_SID_DSS_ANY)
#define CALG_NO_SIGN (ALG_CLASS_SIGNATURE | ALG_TYPE_ANY | ALG_SID_ANY)
#define CALG_RSA_KEYX (ALG_CLASS_KEY_EXCHANGE | ALG_TYPE_RSA | ALG_SID_RSA_ANY)
#define CALG_DES (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_DES)
#define CALG_3DES_112 (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_3DES_112)
#define CALG_3DES (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_3DES)
#define CALG_DESX (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_DESX)
#define CALG_RC2 (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_RC2)
#define CALG_RC4 (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_STREAM | ALG_SID_RC4)
#define CALG_SEAL (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_STREAM | ALG_SID_SEAL)
#define CALG_DH_SF (ALG_CLASS_KEY_EXCHANGE | ALG_TYPE_DH | ALG_SID_DH_SANDF)
#define CALG_DH_EPHEM (ALG_CLASS_KEY_EXCHANGE | ALG_TYPE_DH | ALG_SID_DH_EPHEM)
#define CALG_AGREEDKEY_ANY (ALG_CLASS_KEY_EXCHANGE | ALG_TYPE_DH | ALG_SID_AGREED_KEY_ANY)
#define CALG_KEA_KEYX (ALG_CLASS_KEY_EXCHANGE | ALG_TYPE_DH | ALG_SID_KEA)
#define CALG_HUGHES_MD5 (ALG_CLASS_KEY_EXCHANGE | ALG_TYPE_ANY | ALG_SID_MD5)
#define CALG_SKIPJACK (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_SKIPJACK)
#define CALG_TEK (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_TEK)
#define CALG_CYLINK_MEK (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_CYLINK_MEK)
#define CALG_SSL3_SHAMD5 (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_SSL3SHAMD5)
#define CALG_SSL3_MASTER (ALG_CLASS_MSG_ENCRYPT | ALG_TYPE_SECURECHANNEL | ALG_SID_SSL3_MASTER)
#define CALG_SCHANNEL_MASTER_HASH (ALG_CLASS_MSG_ENCRYPT | ALG_TYPE_SECURECHANNEL | ALG_SID_SCHANNEL_MASTER_HASH)
#define CALG_SCHANNEL_MAC_KEY (ALG_CLASS_MSG_ENCRYPT | ALG_TYPE_SECURECHANNEL | ALG_SID_SCHANNEL_MAC_KEY)
#define CALG_SCHANNEL_ENC_KEY (ALG_CLASS_MSG_ENCRYPT | ALG_TYPE_SECURECHANNEL | ALG_SID_SCHANNEL_ENC_KEY)
#define CALG_PCT1_MASTER (ALG_CLASS_MSG_ENCRYPT | ALG_TYPE_SECURECHANNEL | ALG_SID_PCT1_MASTER)
#define CALG_SSL2_MASTER (ALG_CLASS_MSG_ENCRYPT | ALG_TYPE_SECURECHANNEL | ALG_SID_SSL2_MASTER)
#define CALG_TLS1_MASTER (ALG_CLASS_MSG_ENCRYPT | ALG_TYPE_SECURECHANNEL | ALG_SID_TLS1_MASTER)
#define CALG_RC5 (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_RC5)
#define CALG_HMAC (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_HMAC)
#define CALG_TLS1PRF (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_TLS1PRF)
#define CALG_HASH_REPLACE_OWF (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_HASH_REPLACE_OWF)
#define CALG_AES_128 (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_AES_128)
#define CALG_AES_192 (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_AES_192)
#define CALG_AES_256 (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_AES_256)
#define CALG_AES (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_BLOCK | ALG_SID_AES)
#define CALG_SHA_256 (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_SHA_256)
#define CALG_SHA_384 (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_SHA_384)
#define CALG_SHA_512 (ALG_CLASS_HASH | ALG_TYPE_ANY | ALG_SID_SHA_512)
#define CALG_ECDH (ALG_CLASS_KEY_EXCHANGE | ALG_TYPE_DH | ALG_SID_ECDH)
#define CALG_ECDH_EPHEM (ALG_CLASS_KEY_EXCHANGE | ALG_TYPE_ECDH | ALG_SID_ECDH_EPHEM)
#define CALG_ECMQV (ALG_CLASS_KEY_EXCHANGE | ALG_TYPE_ANY | ALG_SID_ECMQV)
#define CALG_ECDSA (ALG_CLASS_SIGNATURE | ALG_TYPE_DSS | ALG_SID_ECDSA)
#define CALG_NULLCIPHER (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_ANY | 0)
#define CALG_THIRDPARTY_KEY_EXCHANGE (ALG_CLASS_KEY_EXCHANGE | ALG_TYPE_THIRDPARTY | ALG_SID_THIRDPARTY_ANY)
#define CALG_THIRDPARTY_SIGNATURE (ALG_CLASS_SIGNATURE | ALG_TYPE_THIRDPARTY | ALG_SID_THIRDPARTY_ANY)
#define CALG_THIRDPARTY_CIPHER (ALG_CLASS_DATA_ENCRYPT | ALG_TYPE_THIRDPARTY | ALG_SID_THIRDPARTY_ANY)
#define CALG_THIRDPARTY_HASH (ALG_CLASS_HASH | ALG_TYPE_THIRDPARTY | ALG_SID_THIRDPARTY_ANY)

/* Values of CRYPT_OID_INFO.Algid, not real algorithms. */
#define CALG_OID_INFO_CNG_ONLY 0xFFFFFFFF
#define CALG_OID_INFO_PARAMETERS 0xFFFFFFFE

/* ------------------------------------------------------------------------
 * Provider types and names.
 */
#define PROV_RSA_FULL 1
#define PROV_RSA_SIG 2
#define PROV_DSS 3
#define PROV_FORTEZZA 4
#define PROV_MS_EXCHANGE 5
#define PROV_SSL 6
#define PROV_STT_MER 7
#define PROV_STT_ACQ 8
#define PROV_STT_BRND 9
#define PROV_STT_ROOT 10
#define PROV_STT_ISS 11
#define PROV_RSA_SCHANNEL 12
#define PROV_DSS_DH 13
#define PROV_EC_ECDSA_SIG 14
#define PROV_EC_ECNRA_SIG 15
#define PROV_EC_ECDSA_FULL 16
#define PROV_EC_ECNRA_FULL 17
#define PROV_DH_SCHANNEL 18
#define PROV_SPYRUS_LYNKS 20
#define PROV_RNG 21
#define PROV_INTEL_SEC 22
#define PROV_REPLACE_OWF 23
#define PROV_RSA_AES 24

/* Windows' provider names.  capi11 accepts its own configured names and
 * PKCS#11 URIs; these are here so that programs naming a Microsoft CSP
 * compile (the configuration may map them to a token).  The _W forms are
 * L"" literals as in the SDK: they are UTF-16 (WCHAR) only when the program
 * is compiled with -fshort-wchar, as a Windows program ported unchanged
 * must be. */
#define MS_DEF_PROV_A "Microsoft Base Cryptographic Provider v1.0"
#define MS_ENHANCED_PROV_A "Microsoft Enhanced Cryptographic Provider v1.0"
#define MS_STRONG_PROV_A "Microsoft Strong Cryptographic Provider"
#define MS_DEF_RSA_SIG_PROV_A "Microsoft RSA Signature Cryptographic Provider"
#define MS_DEF_RSA_SCHANNEL_PROV_A "Microsoft RSA SChannel Cryptographic Provider"
#define MS_DEF_DSS_PROV_A "Microsoft Base DSS Cryptographic Provider"
#define MS_DEF_DSS_DH_PROV_A "Microsoft Base DSS and Diffie-Hellman Cryptographic Provider"
#define MS_ENH_DSS_DH_PROV_A "Microsoft Enhanced DSS and Diffie-Hellman Cryptographic Provider"
#define MS_DEF_DH_SCHANNEL_PROV_A "Microsoft DH SChannel Cryptographic Provider"
#define MS_SCARD_PROV_A "Microsoft Base Smart Card Crypto Provider"
#define MS_ENH_RSA_AES_PROV_A "Microsoft Enhanced RSA and AES Cryptographic Provider"
#define MS_ENH_RSA_AES_PROV_XP_A "Microsoft Enhanced RSA and AES Cryptographic Provider (Prototype)"
#define MS_DEF_PROV_W L"Microsoft Base Cryptographic Provider v1.0"
#define MS_ENHANCED_PROV_W L"Microsoft Enhanced Cryptographic Provider v1.0"
#define MS_STRONG_PROV_W L"Microsoft Strong Cryptographic Provider"
#define MS_DEF_RSA_SIG_PROV_W L"Microsoft RSA Signature Cryptographic Provider"
#define MS_DEF_RSA_SCHANNEL_PROV_W L"Microsoft RSA SChannel Cryptographic Provider"
#define MS_DEF_DSS_PROV_W L"Microsoft Base DSS Cryptographic Provider"
#define MS_DEF_DSS_DH_PROV_W L"Microsoft Base DSS and Diffie-Hellman Cryptographic Provider"
#define MS_ENH_DSS_DH_PROV_W L"Microsoft Enhanced DSS and Diffie-Hellman Cryptographic Provider"
#define MS_DEF_DH_SCHANNEL_PROV_W L"Microsoft DH SChannel Cryptographic Provider"
#define MS_SCARD_PROV_W L"Microsoft Base Smart Card Crypto Provider"
#define MS_ENH_RSA_AES_PROV_W L"Microsoft Enhanced RSA and AES Cryptographic Provider"
#define MS_ENH_RSA_AES_PROV_XP_W L"Microsoft Enhanced RSA and AES Cryptographic Provider (Prototype)"

/* As the SDK: UNICODE maps the unsuffixed names to the wide forms. */
#ifdef UNICODE
#define MS_DEF_PROV MS_DEF_PROV_W
#define MS_ENHANCED_PROV MS_ENHANCED_PROV_W
#define MS_STRONG_PROV MS_STRONG_PROV_W
#define MS_DEF_RSA_SIG_PROV MS_DEF_RSA_SIG_PROV_W
#define MS_DEF_RSA_SCHANNEL_PROV MS_DEF_RSA_SCHANNEL_PROV_W
#define MS_DEF_DSS_PROV MS_DEF_DSS_PROV_W
#define MS_DEF_DSS_DH_PROV MS_DEF_DSS_DH_PROV_W
#define MS_ENH_DSS_DH_PROV MS_ENH_DSS_DH_PROV_W
#define MS_DEF_DH_SCHANNEL_PROV MS_DEF_DH_SCHANNEL_PROV_W
#define MS_SCARD_PROV MS_SCARD_PROV_W
#define MS_ENH_RSA_AES_PROV MS_ENH_RSA_AES_PROV_W
#define MS_ENH_RSA_AES_PROV_XP MS_ENH_RSA_AES_PROV_XP_W
#else
#define MS_DEF_PROV MS_DEF_PROV_A
#define MS_ENHANCED_PROV MS_ENHANCED_PROV_A
#define MS_STRONG_PROV MS_STRONG_PROV_A
#define MS_DEF_RSA_SIG_PROV MS_DEF_RSA_SIG_PROV_A
#define MS_DEF_RSA_SCHANNEL_PROV MS_DEF_RSA_SCHANNEL_PROV_A
#define MS_DEF_DSS_PROV MS_DEF_DSS_PROV_A
#define MS_DEF_DSS_DH_PROV MS_DEF_DSS_DH_PROV_A
#define MS_ENH_DSS_DH_PROV MS_ENH_DSS_DH_PROV_A
#define MS_DEF_DH_SCHANNEL_PROV MS_DEF_DH_SCHANNEL_PROV_A
#define MS_SCARD_PROV MS_SCARD_PROV_A
#define MS_ENH_RSA_AES_PROV MS_ENH_RSA_AES_PROV_A
#define MS_ENH_RSA_AES_PROV_XP MS_ENH_RSA_AES_PROV_XP_A
#endif

#define MAXUIDLEN 64

/* ------------------------------------------------------------------------
 * CryptAcquireContext flags.
 */
#define CRYPT_VERIFYCONTEXT 0xF0000000
#define CRYPT_NEWKEYSET 0x00000008
#define CRYPT_DELETEKEYSET 0x00000010
#define CRYPT_MACHINE_KEYSET 0x00000020
#define CRYPT_SILENT 0x00000040
#define CRYPT_DEFAULT_CONTAINER_OPTIONAL 0x00000080

/* ------------------------------------------------------------------------
 * CryptGenKey / CryptDeriveKey / CryptImportKey flags.  The key length in
 * bits goes in the upper 16 bits of dwFlags.
 */
#define CRYPT_EXPORTABLE 0x00000001
#define CRYPT_USER_PROTECTED 0x00000002
#define CRYPT_CREATE_SALT 0x00000004
#define CRYPT_UPDATE_KEY 0x00000008
#define CRYPT_NO_SALT 0x00000010
#define CRYPT_PREGEN 0x00000040
#define CRYPT_RECIPIENT 0x00000010
#define CRYPT_INITIATOR 0x00000040
#define CRYPT_ONLINE 0x00000080
#define CRYPT_SF 0x00000100
#define CRYPT_CREATE_IV 0x00000200
/* capi11: with CryptGenKey(CALG_AES_128/192/256) or CryptImportKey of a
 * secret key, a wrap-only key-encryption key (CKA_WRAP/CKA_UNWRAP TRUE,
 * CKA_ENCRYPT/CKA_DECRYPT FALSE on the token; KP_PERMISSIONS without
 * CRYPT_ENCRYPT/CRYPT_DECRYPT). Such a key wraps keys that are not
 * sensitive; a sensitive key leaves only under a key the token trusts
 * (CAPI11_AT_KEK, Capi11TrustKeyA). With any other algorithm:
 * NTE_BAD_FLAGS. */
#define CRYPT_KEK 0x00000400
#define CRYPT_DATA_KEY 0x00000800
#define CRYPT_VOLATILE 0x00001000
#define CRYPT_SGCKEY 0x00002000
#define CRYPT_USER_PROTECTED_STRONG 0x00100000
#define CRYPT_ARCHIVABLE 0x00004000
#define CRYPT_FORCE_KEY_PROTECTION_HIGH 0x00008000
#define RSA1024BIT_KEY 0x04000000
#define CRYPT_SERVER 0x00000400
#define KEY_LENGTH_MASK 0xFFFF0000

/* CryptExportKey / CryptImportKey flags */
#define CRYPT_Y_ONLY 0x00000001
#define CRYPT_SSL2_FALLBACK 0x00000002
#define CRYPT_DESTROYKEY 0x00000004
#define CRYPT_OAEP 0x00000040
#define CRYPT_BLOB_VER3 0x00000080
#define CRYPT_IPSEC_HMAC_KEY 0x00000100

/* CryptDecrypt flags */
#define CRYPT_DECRYPT_RSA_NO_PADDING_CHECK 0x00000020

/* CryptCreateHash flags */
#define CRYPT_SECRETDIGEST 0x00000001

/* CryptHashData flags */
#define CRYPT_OWF_REPL_LM_HASH 0x00000001

/* CryptHashSessionKey flags */
#define CRYPT_LITTLE_ENDIAN 0x00000001

/* CryptSignHash / CryptVerifySignature flags */
#define CRYPT_NOHASHOID 0x00000001
#define CRYPT_TYPE2_FORMAT 0x00000002
#define CRYPT_X931_FORMAT 0x00000004

/* CryptSetProviderEx / CryptGetDefaultProvider flags */
#define CRYPT_MACHINE_DEFAULT 0x00000001
#define CRYPT_USER_DEFAULT 0x00000002
#define CRYPT_DELETE_DEFAULT 0x00000004

/* ------------------------------------------------------------------------
 * Key blobs (CryptExportKey / CryptImportKey).
 */
#define SIMPLEBLOB 0x1
#define PUBLICKEYBLOB 0x6
#define PRIVATEKEYBLOB 0x7
#define PLAINTEXTKEYBLOB 0x8
#define OPAQUEKEYBLOB 0x9
#define PUBLICKEYBLOBEX 0xA
#define SYMMETRICWRAPKEYBLOB 0xB
#define KEYSTATEBLOB 0xC

#define CUR_BLOB_VERSION 2

/* Key specifications */
#define AT_KEYEXCHANGE 1
#define AT_SIGNATURE 2

#define CRYPT_USERDATA 1

/* Magic numbers that follow BLOBHEADER, as little-endian DWORDs: the ASCII
 * tags "RSA1", "RSA2", "DSS1"... read as integers.  Windows' header names
 * none of them, hence the capi11 prefix. */
#define CAPI11_RSA1_MAGIC 0x31415352	/* "RSA1": RSA public key */
#define CAPI11_RSA2_MAGIC 0x32415352	/* "RSA2": RSA private key */
#define CAPI11_DSS1_MAGIC 0x31535344	/* "DSS1": DSS public key */
#define CAPI11_DSS2_MAGIC 0x32535344	/* "DSS2": DSS private key */
#define CAPI11_DSS3_MAGIC 0x33535344	/* "DSS3": DSS public key, version 3 */
#define CAPI11_DSS4_MAGIC 0x34535344	/* "DSS4": DSS private key, version 3 */
#define CAPI11_DH1_MAGIC 0x31484400	/* "\0DH1": DH public key */
#define CAPI11_DH2_MAGIC 0x32484400	/* "\0DH2": DH private key */
#define CAPI11_DH3_MAGIC 0x33484400	/* "\0DH3": DH public key, version 3 */
#define CAPI11_DH4_MAGIC 0x34484400	/* "\0DH4": DH private key, version 3 */

/* ------------------------------------------------------------------------
 * CryptGetKeyParam / CryptSetKeyParam.
 */
#define KP_IV 1
#define KP_SALT 2
#define KP_PADDING 3
#define KP_MODE 4
#define KP_MODE_BITS 5
#define KP_PERMISSIONS 6
#define KP_ALGID 7
#define KP_BLOCKLEN 8
#define KP_KEYLEN 9
#define KP_SALT_EX 10
#define KP_P 11
#define KP_G 12
#define KP_Q 13
#define KP_X 14
#define KP_Y 15
#define KP_RA 16
#define KP_RB 17
#define KP_INFO 18
#define KP_EFFECTIVE_KEYLEN 19
#define KP_SCHANNEL_ALG 20
#define KP_CLIENT_RANDOM 21
#define KP_SERVER_RANDOM 22
#define KP_RP 23
#define KP_PRECOMP_MD5 24
#define KP_PRECOMP_SHA 25
#define KP_CERTIFICATE 26
#define KP_CLEAR_KEY 27
#define KP_PUB_EX_LEN 28
#define KP_PUB_EX_VAL 29
#define KP_KEYVAL 30
#define KP_ADMIN_PIN 31
#define KP_KEYEXCHANGE_PIN 32
#define KP_SIGNATURE_PIN 33
#define KP_PREHASH 34
#define KP_ROUNDS 35
#define KP_OAEP_PARAMS 36
#define KP_CMS_KEY_INFO 37
#define KP_CMS_DH_KEY_INFO 38
#define KP_PUB_PARAMS 39
#define KP_VERIFY_PARAMS 40
#define KP_HIGHEST_VERSION 41
#define KP_GET_USE_COUNT 42
#define KP_PIN_ID 43
#define KP_PIN_INFO 44

/* KP_PADDING */
#define PKCS5_PADDING 1
#define RANDOM_PADDING 2
#define ZERO_PADDING 3

/* KP_MODE */
#define CRYPT_MODE_CBC 1
#define CRYPT_MODE_ECB 2
#define CRYPT_MODE_OFB 3
#define CRYPT_MODE_CFB 4
#define CRYPT_MODE_CTS 5

/* KP_PERMISSIONS */
#define CRYPT_ENCRYPT 0x0001
#define CRYPT_DECRYPT 0x0002
#define CRYPT_EXPORT 0x0004
#define CRYPT_READ 0x0008
#define CRYPT_WRITE 0x0010
#define CRYPT_MAC 0x0020
#define CRYPT_EXPORT_KEY 0x0040
#define CRYPT_IMPORT_KEY 0x0080
#define CRYPT_ARCHIVE 0x0100

/* ------------------------------------------------------------------------
 * CryptGetHashParam / CryptSetHashParam.
 */
#define HP_ALGID 0x0001
#define HP_HASHVAL 0x0002
#define HP_HASHSIZE 0x0004
#define HP_HMAC_INFO 0x0005
#define HP_TLS1PRF_LABEL 0x0006
#define HP_TLS1PRF_SEED 0x0007

/* ------------------------------------------------------------------------
 * CryptGetProvParam / CryptSetProvParam.
 */
#define PP_CLIENT_HWND 1
#define PP_ENUMALGS 1
#define PP_ENUMCONTAINERS 2
#define PP_IMPTYPE 3
#define PP_NAME 4
#define PP_VERSION 5
#define PP_CONTAINER 6
#define PP_CHANGE_PASSWORD 7
#define PP_KEYSET_SEC_DESCR 8
#define PP_CERTCHAIN 9
#define PP_KEY_TYPE_SUBTYPE 10
#define PP_CONTEXT_INFO 11
#define PP_KEYEXCHANGE_KEYSIZE 12
#define PP_SIGNATURE_KEYSIZE 13
#define PP_KEYEXCHANGE_ALG 14
#define PP_SIGNATURE_ALG 15
#define PP_PROVTYPE 16
#define PP_KEYSTORAGE 17
#define PP_APPLI_CERT 18
#define PP_SYM_KEYSIZE 19
#define PP_SESSION_KEYSIZE 20
#define PP_UI_PROMPT 21
#define PP_ENUMALGS_EX 22
#define PP_DELETEKEY 24
#define PP_ENUMMANDROOTS 25
#define PP_ENUMELECTROOTS 26
#define PP_KEYSET_TYPE 27
#define PP_ADMIN_PIN 31
#define PP_KEYEXCHANGE_PIN 32
#define PP_SIGNATURE_PIN 33
#define PP_SIG_KEYSIZE_INC 34
#define PP_KEYX_KEYSIZE_INC 35
#define PP_UNIQUE_CONTAINER 36
#define PP_SGC_INFO 37
#define PP_USE_HARDWARE_RNG 38
#define PP_KEYSPEC 39
#define PP_ENUMEX_SIGNING_PROT 40
#define PP_CRYPT_COUNT_KEY_USE 41
#define PP_USER_CERTSTORE 42
#define PP_SMARTCARD_READER 43
#define PP_PIN_PROMPT_STRING 44
#define PP_SMARTCARD_GUID 45
#define PP_ROOT_CERTSTORE 46
#define PP_SECURE_KEYEXCHANGE_PIN 47
#define PP_SMARTCARD_READER_ICON 47
#define PP_SECURE_SIGNATURE_PIN 48
#define PP_DISMISS_PIN_UI_SEC 49
#define PP_IS_PFX_EPHEMERAL 50

/* Enumeration flags of PP_ENUMALGS, PP_ENUMALGS_EX, PP_ENUMCONTAINERS */
#define CRYPT_FIRST 1
#define CRYPT_NEXT 2
#define CRYPT_SGC_ENUM 4

/* PP_IMPTYPE */
#define CRYPT_IMPL_HARDWARE 1
#define CRYPT_IMPL_SOFTWARE 2
#define CRYPT_IMPL_MIXED 3
#define CRYPT_IMPL_UNKNOWN 4
#define CRYPT_IMPL_REMOVABLE 8

/* PP_KEYSTORAGE */
#define CRYPT_SEC_DESCR 0x00000001
#define CRYPT_PSTORE 0x00000002
#define CRYPT_UI_PROMPT 0x00000004

/* PROV_ENUMALGS_EX.dwProtocols */
#define CRYPT_FLAG_PCT1 0x0001
#define CRYPT_FLAG_SSL2 0x0002
#define CRYPT_FLAG_SSL3 0x0004
#define CRYPT_FLAG_TLS1 0x0008
#define CRYPT_FLAG_IPSEC 0x0010
#define CRYPT_FLAG_SIGNING 0x0020

/* PP_SGC_INFO */
#define CRYPT_SGC 0x0001
#define CRYPT_FASTSGC 0x0002

/* Historical boolean aliases */
#define CRYPT_FAILED FALSE
#define CRYPT_SUCCEED TRUE
#define RCRYPT_SUCCEEDED(rt) ((rt) == CRYPT_SUCCEED)
#define RCRYPT_FAILED(rt) ((rt) == CRYPT_FAILED)

/* ------------------------------------------------------------------------
 * Structures, with Windows' layout (checked at the end of this file).
 */

/* Header of every key blob: bType is the blob type, bVersion
 * CUR_BLOB_VERSION, aiKeyAlg the ALG_ID of the key inside. */
typedef struct _PUBLICKEYSTRUC {
	BYTE bType;
	BYTE bVersion;
	WORD reserved;
	ALG_ID aiKeyAlg;
} BLOBHEADER, PUBLICKEYSTRUC;

/* Follows BLOBHEADER in RSA PUBLICKEYBLOB and PRIVATEKEYBLOB. */
typedef struct _RSAPUBKEY {
	DWORD magic;
	DWORD bitlen;
	DWORD pubexp;
} RSAPUBKEY;

/* Follows BLOBHEADER in DSS and DH blobs of version 2. */
typedef struct _PUBKEY {
	DWORD magic;
	DWORD bitlen;
} DHPUBKEY, DSSPUBKEY, KEAPUBKEY, TEKPUBKEY;

typedef struct _DSSSEED {
	DWORD counter;
	BYTE seed[20];
} DSSSEED;

/* Version 3 DSS and DH blobs (CRYPT_BLOB_VER3). */
typedef struct _PUBKEYVER3 {
	DWORD magic;
	DWORD bitlenP;
	DWORD bitlenQ;
	DWORD bitlenJ;
	DSSSEED DSSSeed;
} DHPUBKEY_VER3, DSSPUBKEY_VER3;

typedef struct _PRIVKEYVER3 {
	DWORD magic;
	DWORD bitlenP;
	DWORD bitlenQ;
	DWORD bitlenJ;
	DWORD bitlenX;
	DSSSEED DSSSeed;
} DHPRIVKEY_VER3, DSSPRIVKEY_VER3;

/* PP_ENUMALGS */
typedef struct _PROV_ENUMALGS {
	ALG_ID aiAlgid;
	DWORD dwBitLen;
	DWORD dwNameLen;
	CHAR szName[20];
} PROV_ENUMALGS;

/* PP_ENUMALGS_EX */
typedef struct _PROV_ENUMALGS_EX {
	ALG_ID aiAlgid;
	DWORD dwDefaultLen;
	DWORD dwMinLen;
	DWORD dwMaxLen;
	DWORD dwProtocols;
	DWORD dwNameLen;
	CHAR szName[20];
	DWORD dwLongNameLen;
	CHAR szLongName[40];
} PROV_ENUMALGS_EX;

/* Key state carried by KEYSTATEBLOB. */
typedef struct _CRYPT_RC4_KEY_STATE {
	unsigned char Key[16];
	unsigned char SBox[256];
	unsigned char i;
	unsigned char j;
} CRYPT_RC4_KEY_STATE, *PCRYPT_RC4_KEY_STATE;

typedef struct _CRYPT_DES_KEY_STATE {
	unsigned char Key[8];
	unsigned char IV[8];
	unsigned char Feedback[8];
} CRYPT_DES_KEY_STATE, *PCRYPT_DES_KEY_STATE;

typedef struct _CRYPT_3DES_KEY_STATE {
	unsigned char Key[24];
	unsigned char IV[8];
	unsigned char Feedback[8];
} CRYPT_3DES_KEY_STATE, *PCRYPT_3DES_KEY_STATE;

typedef struct _CRYPT_AES_128_KEY_STATE {
	unsigned char Key[16];
	unsigned char IV[16];
	unsigned char EncryptionState[11][16];
	unsigned char DecryptionState[11][16];
	unsigned char Feedback[16];
} CRYPT_AES_128_KEY_STATE, *PCRYPT_AES_128_KEY_STATE;

typedef struct _CRYPT_AES_256_KEY_STATE {
	unsigned char Key[32];
	unsigned char IV[16];
	unsigned char EncryptionState[15][16];
	unsigned char DecryptionState[15][16];
	unsigned char Feedback[16];
} CRYPT_AES_256_KEY_STATE, *PCRYPT_AES_256_KEY_STATE;

/* HP_HMAC_INFO */
typedef struct _HMAC_Info {
	ALG_ID HashAlgid;
	BYTE *pbInnerString;
	DWORD cbInnerString;
	BYTE *pbOuterString;
	DWORD cbOuterString;
} HMAC_INFO, *PHMAC_INFO;

/* KP_SCHANNEL_ALG */
typedef struct _SCHANNEL_ALG {
	DWORD dwUse;
	ALG_ID Algid;
	DWORD cBits;
	DWORD dwFlags;
	DWORD dwReserved;
} SCHANNEL_ALG, *PSCHANNEL_ALG;

/* SCHANNEL_ALG.dwUse */
#define SCHANNEL_MAC_KEY 0x00000000
#define SCHANNEL_ENC_KEY 0x00000001

/* SCHANNEL_ALG.dwFlags */
#define INTERNATIONAL_USAGE 0x00000001

/* A counted byte string. */
typedef struct _CRYPTOAPI_BLOB {
	DWORD cbData;
	BYTE *pbData;
} CRYPT_INTEGER_BLOB, *PCRYPT_INTEGER_BLOB,
  CRYPT_UINT_BLOB, *PCRYPT_UINT_BLOB,
  CRYPT_OBJID_BLOB, *PCRYPT_OBJID_BLOB,
  CERT_NAME_BLOB, *PCERT_NAME_BLOB,
  CERT_RDN_VALUE_BLOB, *PCERT_RDN_VALUE_BLOB,
  CERT_BLOB, *PCERT_BLOB,
  CRL_BLOB, *PCRL_BLOB,
  DATA_BLOB, *PDATA_BLOB,
  CRYPT_DATA_BLOB, *PCRYPT_DATA_BLOB,
  CRYPT_HASH_BLOB, *PCRYPT_HASH_BLOB,
  CRYPT_DIGEST_BLOB, *PCRYPT_DIGEST_BLOB,
  CRYPT_DER_BLOB, *PCRYPT_DER_BLOB,
  CRYPT_ATTR_BLOB, *PCRYPT_ATTR_BLOB;

/* ------------------------------------------------------------------------
 * Error codes (winerror.h numbers), typed DWORD like GetLastError().
 */
#define ERROR_SUCCESS ((DWORD)0)
#define NO_ERROR ((DWORD)0)
#define ERROR_FILE_NOT_FOUND ((DWORD)2)
#define ERROR_ACCESS_DENIED ((DWORD)5)
#define ERROR_INVALID_HANDLE ((DWORD)6)
#define ERROR_NOT_ENOUGH_MEMORY ((DWORD)8)
#define ERROR_INVALID_DATA ((DWORD)13)
#define ERROR_OUTOFMEMORY ((DWORD)14)
#define ERROR_NOT_SUPPORTED ((DWORD)50)
#define ERROR_INVALID_PARAMETER ((DWORD)87)
#define ERROR_CALL_NOT_IMPLEMENTED ((DWORD)120)
#define ERROR_INSUFFICIENT_BUFFER ((DWORD)122)
#define ERROR_BUSY ((DWORD)170)
#define ERROR_MORE_DATA ((DWORD)234)
#define ERROR_NO_MORE_ITEMS ((DWORD)259)
#define ERROR_INVALID_FLAGS ((DWORD)1004)
#define ERROR_NOT_FOUND ((DWORD)1168)
#define ERROR_CANCELLED ((DWORD)1223)
#define ERROR_INTERNAL_ERROR ((DWORD)1359)

#define NTE_OP_OK ((DWORD)0)
#define NTE_BAD_UID ((DWORD)0x80090001)
#define NTE_BAD_HASH ((DWORD)0x80090002)
#define NTE_BAD_KEY ((DWORD)0x80090003)
#define NTE_BAD_LEN ((DWORD)0x80090004)
#define NTE_BAD_DATA ((DWORD)0x80090005)
#define NTE_BAD_SIGNATURE ((DWORD)0x80090006)
#define NTE_BAD_VER ((DWORD)0x80090007)
#define NTE_BAD_ALGID ((DWORD)0x80090008)
#define NTE_BAD_FLAGS ((DWORD)0x80090009)
#define NTE_BAD_TYPE ((DWORD)0x8009000A)
#define NTE_BAD_KEY_STATE ((DWORD)0x8009000B)
#define NTE_BAD_HASH_STATE ((DWORD)0x8009000C)
#define NTE_NO_KEY ((DWORD)0x8009000D)
#define NTE_NO_MEMORY ((DWORD)0x8009000E)
#define NTE_EXISTS ((DWORD)0x8009000F)
#define NTE_PERM ((DWORD)0x80090010)
#define NTE_NOT_FOUND ((DWORD)0x80090011)
#define NTE_DOUBLE_ENCRYPT ((DWORD)0x80090012)
#define NTE_BAD_PROVIDER ((DWORD)0x80090013)
#define NTE_BAD_PROV_TYPE ((DWORD)0x80090014)
#define NTE_BAD_PUBLIC_KEY ((DWORD)0x80090015)
#define NTE_BAD_KEYSET ((DWORD)0x80090016)
#define NTE_PROV_TYPE_NOT_DEF ((DWORD)0x80090017)
#define NTE_PROV_TYPE_ENTRY_BAD ((DWORD)0x80090018)
#define NTE_KEYSET_NOT_DEF ((DWORD)0x80090019)
#define NTE_KEYSET_ENTRY_BAD ((DWORD)0x8009001A)
#define NTE_PROV_TYPE_NO_MATCH ((DWORD)0x8009001B)
#define NTE_SIGNATURE_FILE_BAD ((DWORD)0x8009001C)
#define NTE_PROVIDER_DLL_FAIL ((DWORD)0x8009001D)
#define NTE_PROV_DLL_NOT_FOUND ((DWORD)0x8009001E)
#define NTE_BAD_KEYSET_PARAM ((DWORD)0x8009001F)
#define NTE_FAIL ((DWORD)0x80090020)
#define NTE_SYS_ERR ((DWORD)0x80090021)
#define NTE_SILENT_CONTEXT ((DWORD)0x80090022)
#define NTE_TOKEN_KEYSET_STORAGE_FULL ((DWORD)0x80090023)
#define NTE_TEMPORARY_PROFILE ((DWORD)0x80090024)
#define NTE_FIXEDPARAMETER ((DWORD)0x80090025)
#define NTE_INVALID_HANDLE ((DWORD)0x80090026)
#define NTE_INVALID_PARAMETER ((DWORD)0x80090027)
#define NTE_BUFFER_TOO_SMALL ((DWORD)0x80090028)
#define NTE_NOT_SUPPORTED ((DWORD)0x80090029)
#define NTE_NO_MORE_ITEMS ((DWORD)0x8009002A)
#define NTE_BUFFERS_OVERLAP ((DWORD)0x8009002B)
#define NTE_DECRYPTION_FAILURE ((DWORD)0x8009002C)
#define NTE_INTERNAL_ERROR ((DWORD)0x8009002D)
#define NTE_UI_REQUIRED ((DWORD)0x8009002E)
#define NTE_HMAC_NOT_SUPPORTED ((DWORD)0x8009002F)
#define NTE_DEVICE_NOT_READY ((DWORD)0x80090030)
#define NTE_AUTHENTICATION_IGNORED ((DWORD)0x80090031)
#define NTE_VALIDATION_FAILED ((DWORD)0x80090032)
#define NTE_INCORRECT_PASSWORD ((DWORD)0x80090033)
#define NTE_ENCRYPTION_FAILURE ((DWORD)0x80090034)
#define NTE_DEVICE_NOT_FOUND ((DWORD)0x80090035)
#define NTE_USER_CANCELLED ((DWORD)0x80090036)
#define NTE_NOT_ACTIVE_CONSOLE ((DWORD)0x80090038)

/* Smart card errors, reported when a token is absent, removed or locked. */
#define SCARD_S_SUCCESS NO_ERROR
#define SCARD_F_INTERNAL_ERROR ((DWORD)0x80100001)
#define SCARD_E_CANCELLED ((DWORD)0x80100002)
#define SCARD_E_INVALID_HANDLE ((DWORD)0x80100003)
#define SCARD_E_INVALID_PARAMETER ((DWORD)0x80100004)
#define SCARD_E_INVALID_TARGET ((DWORD)0x80100005)
#define SCARD_E_NO_MEMORY ((DWORD)0x80100006)
#define SCARD_F_WAITED_TOO_LONG ((DWORD)0x80100007)
#define SCARD_E_INSUFFICIENT_BUFFER ((DWORD)0x80100008)
#define SCARD_E_UNKNOWN_READER ((DWORD)0x80100009)
#define SCARD_E_TIMEOUT ((DWORD)0x8010000A)
#define SCARD_E_SHARING_VIOLATION ((DWORD)0x8010000B)
#define SCARD_E_NO_SMARTCARD ((DWORD)0x8010000C)
#define SCARD_E_UNKNOWN_CARD ((DWORD)0x8010000D)
#define SCARD_E_CANT_DISPOSE ((DWORD)0x8010000E)
#define SCARD_E_PROTO_MISMATCH ((DWORD)0x8010000F)
#define SCARD_E_NOT_READY ((DWORD)0x80100010)
#define SCARD_E_INVALID_VALUE ((DWORD)0x80100011)
#define SCARD_E_SYSTEM_CANCELLED ((DWORD)0x80100012)
#define SCARD_F_COMM_ERROR ((DWORD)0x80100013)
#define SCARD_F_UNKNOWN_ERROR ((DWORD)0x80100014)
#define SCARD_E_INVALID_ATR ((DWORD)0x80100015)
#define SCARD_E_NOT_TRANSACTED ((DWORD)0x80100016)
#define SCARD_E_READER_UNAVAILABLE ((DWORD)0x80100017)
#define SCARD_P_SHUTDOWN ((DWORD)0x80100018)
#define SCARD_E_PCI_TOO_SMALL ((DWORD)0x80100019)
#define SCARD_E_READER_UNSUPPORTED ((DWORD)0x8010001A)
#define SCARD_E_DUPLICATE_READER ((DWORD)0x8010001B)
#define SCARD_E_CARD_UNSUPPORTED ((DWORD)0x8010001C)
#define SCARD_E_NO_SERVICE ((DWORD)0x8010001D)
#define SCARD_E_SERVICE_STOPPED ((DWORD)0x8010001E)
#define SCARD_E_UNEXPECTED ((DWORD)0x8010001F)
#define SCARD_E_ICC_INSTALLATION ((DWORD)0x80100020)
#define SCARD_E_ICC_CREATEORDER ((DWORD)0x80100021)
#define SCARD_E_UNSUPPORTED_FEATURE ((DWORD)0x80100022)
#define SCARD_E_DIR_NOT_FOUND ((DWORD)0x80100023)
#define SCARD_E_FILE_NOT_FOUND ((DWORD)0x80100024)
#define SCARD_E_NO_DIR ((DWORD)0x80100025)
#define SCARD_E_NO_FILE ((DWORD)0x80100026)
#define SCARD_E_NO_ACCESS ((DWORD)0x80100027)
#define SCARD_E_WRITE_TOO_MANY ((DWORD)0x80100028)
#define SCARD_E_BAD_SEEK ((DWORD)0x80100029)
#define SCARD_E_INVALID_CHV ((DWORD)0x8010002A)
#define SCARD_E_UNKNOWN_RES_MNG ((DWORD)0x8010002B)
#define SCARD_E_NO_SUCH_CERTIFICATE ((DWORD)0x8010002C)
#define SCARD_E_CERTIFICATE_UNAVAILABLE ((DWORD)0x8010002D)
#define SCARD_E_NO_READERS_AVAILABLE ((DWORD)0x8010002E)
#define SCARD_E_COMM_DATA_LOST ((DWORD)0x8010002F)
#define SCARD_E_NO_KEY_CONTAINER ((DWORD)0x80100030)
#define SCARD_E_SERVER_TOO_BUSY ((DWORD)0x80100031)
#define SCARD_E_PIN_CACHE_EXPIRED ((DWORD)0x80100032)
#define SCARD_E_NO_PIN_CACHE ((DWORD)0x80100033)
#define SCARD_E_READ_ONLY_CARD ((DWORD)0x80100034)
#define SCARD_W_UNSUPPORTED_CARD ((DWORD)0x80100065)
#define SCARD_W_UNRESPONSIVE_CARD ((DWORD)0x80100066)
#define SCARD_W_UNPOWERED_CARD ((DWORD)0x80100067)
#define SCARD_W_RESET_CARD ((DWORD)0x80100068)
#define SCARD_W_REMOVED_CARD ((DWORD)0x80100069)
#define SCARD_W_SECURITY_VIOLATION ((DWORD)0x8010006A)
#define SCARD_W_WRONG_CHV ((DWORD)0x8010006B)
#define SCARD_W_CHV_BLOCKED ((DWORD)0x8010006C)
#define SCARD_W_EOF ((DWORD)0x8010006D)
#define SCARD_W_CANCELLED_BY_USER ((DWORD)0x8010006E)
#define SCARD_W_CARD_NOT_AUTHENTICATED ((DWORD)0x8010006F)
#define SCARD_W_CACHE_ITEM_NOT_FOUND ((DWORD)0x80100070)
#define SCARD_W_CACHE_ITEM_STALE ((DWORD)0x80100071)
#define SCARD_W_CACHE_ITEM_TOO_BIG ((DWORD)0x80100072)

/* ------------------------------------------------------------------------
 * Functions.
 */

/* The last error of the calling thread.  Every function below sets it when
 * it returns FALSE; a successful call may leave it unchanged. */
DWORD GetLastError(void);
void SetLastError(DWORD dwErrCode);

/* Opens (flags 0), creates (CRYPT_NEWKEYSET) or destroys
 * (CRYPT_DELETEKEYSET, *phProv set to 0) the container szContainer on the
 * token named by szProvider: NULL or "" for the configured default, a
 * provider name from the configuration, or a PKCS#11 URI.
 * CRYPT_VERIFYCONTEXT gives a context without a container.
 * Errors: ERROR_INVALID_PARAMETER (phProv NULL), NTE_BAD_PROV_TYPE (type 0
 * or above 999), NTE_KEYSET_NOT_DEF (unknown provider),
 * NTE_PROV_TYPE_NO_MATCH (provider configured for another type),
 * NTE_BAD_FLAGS (unknown flag combination, or a container name with
 * CRYPT_VERIFYCONTEXT), NTE_BAD_KEYSET (no such container), NTE_EXISTS
 * (CRYPT_NEWKEYSET of an existing container), NTE_SILENT_CONTEXT (a PIN is
 * needed but CRYPT_SILENT forbids asking), SCARD_E_NO_SMARTCARD (token
 * absent, or no token matches the URI), SCARD_W_WRONG_CHV (PIN rejected,
 * or refused without C_Login: empty, a line break, too long),
 * SCARD_W_CHV_BLOCKED (PIN locked), NTE_BAD_PROVIDER (a provider URI that
 * does not parse or could be read two ways: a repeated attribute,
 * pin-value with pin-source), NTE_KEYSET_ENTRY_BAD (broken configuration,
 * or a pin-source or PIN-holding configuration file that is not a regular
 * file private to its owner), NTE_NO_MEMORY, NTE_FAIL (the module
 * failed). */
BOOL CryptAcquireContextA(HCRYPTPROV *phProv, LPCSTR szContainer,
			  LPCSTR szProvider, DWORD dwProvType, DWORD dwFlags);
/* The same with UTF-16 names (stored on the token as UTF-8 labels).
 * Errors: as CryptAcquireContextA, and NTE_BAD_KEYSET_PARAM for a
 * container or provider name that is not valid UTF-16 (an unpaired
 * surrogate), checked after the provider type and phProv. */
BOOL CryptAcquireContextW(HCRYPTPROV *phProv, LPCWSTR szContainer,
			  LPCWSTR szProvider, DWORD dwProvType, DWORD dwFlags);
#ifdef UNICODE
#define CryptAcquireContext CryptAcquireContextW
#else
#define CryptAcquireContext CryptAcquireContextA
#endif

/* The dwIndex-th provider name that CryptAcquireContext accepts (besides
 * a PKCS#11 URI), from 0 up: the configuration's [provider] sections in
 * file order, each with its configured type (PROV_RSA_FULL when it sets
 * none), then the Microsoft RSA provider names that the default provider
 * serves and that no section defines. Tokens are not consulted: a listed
 * provider whose token is absent fails when acquired. szProvName NULL
 * gives the size, terminating NUL included, in *pcbProvName.
 * Errors: ERROR_INVALID_PARAMETER (pdwReserved not NULL, pcbProvName
 * NULL), NTE_BAD_FLAGS (dwFlags not 0), ERROR_MORE_DATA (buffer too small;
 * *pcbProvName holds the size), ERROR_NO_MORE_ITEMS (dwIndex past the
 * end), NTE_KEYSET_ENTRY_BAD (the configuration file is broken, as for
 * CryptAcquireContext), NTE_NO_MEMORY. */
BOOL CryptEnumProvidersA(DWORD dwIndex, DWORD *pdwReserved, DWORD dwFlags,
			 DWORD *pdwProvType, LPSTR szProvName, DWORD *pcbProvName);
/* The same name in UTF-16; *pcbProvName counts bytes, the NUL included.
 * Errors: as CryptEnumProvidersA; a configured name that is not UTF-8 is
 * NTE_KEYSET_ENTRY_BAD. */
BOOL CryptEnumProvidersW(DWORD dwIndex, DWORD *pdwReserved, DWORD dwFlags,
			 DWORD *pdwProvType, LPWSTR szProvName, DWORD *pcbProvName);
#ifdef UNICODE
#define CryptEnumProviders CryptEnumProvidersW
#else
#define CryptEnumProviders CryptEnumProvidersA
#endif

/* The dwIndex-th provider type that CryptAcquireContext serves, from 0
 * up in ascending order (PROV_RSA_FULL, PROV_RSA_AES), with Windows' type
 * name ("RSA Full (Signature and Key Exchange)", "RSA Full and AES").
 * szTypeName NULL gives the size, the NUL included, in *pcbTypeName (bytes
 * in both forms).
 * Errors: ERROR_INVALID_PARAMETER (pdwReserved not NULL, pdwProvType or
 * pcbTypeName NULL), NTE_BAD_FLAGS (dwFlags not 0), ERROR_MORE_DATA
 * (buffer too small; *pcbTypeName holds the size), ERROR_NO_MORE_ITEMS
 * (dwIndex past the end). */
BOOL CryptEnumProviderTypesA(DWORD dwIndex, DWORD *pdwReserved, DWORD dwFlags,
			     DWORD *pdwProvType, LPSTR szTypeName, DWORD *pcbTypeName);
BOOL CryptEnumProviderTypesW(DWORD dwIndex, DWORD *pdwReserved, DWORD dwFlags,
			     DWORD *pdwProvType, LPWSTR szTypeName, DWORD *pcbTypeName);
#ifdef UNICODE
#define CryptEnumProviderTypes CryptEnumProviderTypesW
#else
#define CryptEnumProviderTypes CryptEnumProviderTypesA
#endif

/* The default provider name of a type: the user's (CRYPT_USER_DEFAULT),
 * default-provider-<type> in $XDG_CONFIG_HOME/capi11/capi11.conf, or the
 * machine's (CRYPT_MACHINE_DEFAULT or 0), default-provider-<type> in
 * capi11.conf, else its default-provider when that names a section serving
 * the type, else the name Windows registers (MS_STRONG_PROV for
 * PROV_RSA_FULL, MS_ENH_RSA_AES_PROV for PROV_RSA_AES), which the default
 * provider serves. pszProvName NULL gives the size, NUL included, in
 * *pcbProvName (bytes in both forms).
 * Errors: ERROR_INVALID_PARAMETER (pdwReserved not NULL, pcbProvName
 * NULL), NTE_BAD_FLAGS, NTE_BAD_PROV_TYPE (past 999), NTE_PROV_TYPE_NOT_DEF
 * (no default of that type), ERROR_MORE_DATA, NTE_KEYSET_ENTRY_BAD (a
 * broken file), NTE_NO_MEMORY. */
BOOL CryptGetDefaultProviderA(DWORD dwProvType, DWORD *pdwReserved, DWORD dwFlags,
			      LPSTR pszProvName, DWORD *pcbProvName);
BOOL CryptGetDefaultProviderW(DWORD dwProvType, DWORD *pdwReserved, DWORD dwFlags,
			      LPWSTR pszProvName, DWORD *pcbProvName);
#ifdef UNICODE
#define CryptGetDefaultProvider CryptGetDefaultProviderW
#else
#define CryptGetDefaultProvider CryptGetDefaultProviderA
#endif

/* Sets the user's (CRYPT_USER_DEFAULT, which wins) or the machine's
 * (CRYPT_MACHINE_DEFAULT) default provider of a type, or with
 * CRYPT_DELETE_DEFAULT removes it. The file is changed in place, every
 * other line kept, and replaced atomically (temporary file and rename);
 * concurrent writers are serialised. CryptAcquireContext with a NULL
 * provider then uses the user's default of its type, else the machine's,
 * else default-provider. CryptSetProvider is CryptSetProviderEx with
 * CRYPT_USER_DEFAULT.
 * Errors: ERROR_INVALID_PARAMETER (pszProvName NULL or not valid UTF-16,
 * pdwReserved not NULL), NTE_BAD_PROV_TYPE (past 999), NTE_BAD_FLAGS
 * (unknown flags, or CRYPT_DELETE_DEFAULT alone), NTE_BAD_PROVIDER (not a
 * provider of that type: a [provider] section or a Microsoft name),
 * ERROR_ACCESS_DENIED (the file may not be written, or is not a regular
 * file), NTE_KEYSET_ENTRY_BAD (the file is broken: it is left alone),
 * NTE_NO_MEMORY, NTE_FAIL. */
BOOL CryptSetProviderExA(LPCSTR pszProvName, DWORD dwProvType, DWORD *pdwReserved,
			 DWORD dwFlags);
BOOL CryptSetProviderExW(LPCWSTR pszProvName, DWORD dwProvType, DWORD *pdwReserved,
			 DWORD dwFlags);
BOOL CryptSetProviderA(LPCSTR pszProvName, DWORD dwProvType);
BOOL CryptSetProviderW(LPCWSTR pszProvName, DWORD dwProvType);
#ifdef UNICODE
#define CryptSetProviderEx CryptSetProviderExW
#define CryptSetProvider CryptSetProviderW
#else
#define CryptSetProviderEx CryptSetProviderExA
#define CryptSetProvider CryptSetProviderA
#endif

/* Drops one reference to hProv; the last one destroys the context's
 * session keys and ends its session.
 * Errors: ERROR_INVALID_PARAMETER (unknown or already released handle),
 * NTE_BAD_FLAGS (dwFlags not 0; the reference is released anyway). */
BOOL CryptReleaseContext(HCRYPTPROV hProv, DWORD dwFlags);

/* Adds a reference to hProv, to be dropped by CryptReleaseContext.
 * pdwReserved must be NULL.
 * Errors: ERROR_INVALID_PARAMETER (unknown handle, pdwReserved not NULL,
 * dwFlags not 0). */
BOOL CryptContextAddRef(HCRYPTPROV hProv, DWORD *pdwReserved, DWORD dwFlags);

/* Reads a property of the provider or container (PP_NAME, PP_CONTAINER,
 * PP_UNIQUE_CONTAINER, PP_PROVTYPE, PP_IMPTYPE, PP_VERSION, PP_KEYSPEC,
 * PP_ENUMCONTAINERS, PP_ENUMALGS, PP_ENUMALGS_EX, PP_SMARTCARD_READER).
 * pbData NULL stores the size needed in *pdwDataLen.
 * Errors: ERROR_INVALID_PARAMETER (bad handle, pdwDataLen NULL),
 * ERROR_MORE_DATA (buffer too small; *pdwDataLen holds the size),
 * ERROR_NO_MORE_ITEMS (end of an enumeration), NTE_BAD_TYPE (unknown
 * dwParam), NTE_BAD_FLAGS. */
BOOL CryptGetProvParam(HCRYPTPROV hProv, DWORD dwParam, BYTE *pbData,
		       DWORD *pdwDataLen, DWORD dwFlags);

/* Sets a property of the context: PP_KEYEXCHANGE_PIN and PP_SIGNATURE_PIN
 * (a NUL-terminated PIN, used to log in to the token).
 * Errors: ERROR_INVALID_PARAMETER (bad handle, pbData NULL), NTE_BAD_TYPE
 * (unknown dwParam), NTE_BAD_FLAGS, SCARD_W_WRONG_CHV (PIN rejected, or
 * one that cannot be valid: empty, a line break, too long, refused
 * without C_Login), SCARD_W_CHV_BLOCKED (PIN locked). */
BOOL CryptSetProvParam(HCRYPTPROV hProv, DWORD dwParam, const BYTE *pbData,
		       DWORD dwFlags);

/* Fills pbBuffer with dwLen random bytes from the token.
 * Errors: ERROR_INVALID_PARAMETER (bad handle, pbBuffer NULL with dwLen
 * not 0), NTE_FAIL (the token failed). */
BOOL CryptGenRandom(HCRYPTPROV hProv, DWORD dwLen, BYTE *pbBuffer);

/* Generates a key: Algid AT_KEYEXCHANGE/CALG_RSA_KEYX or
 * AT_SIGNATURE/CALG_RSA_SIGN for the container's key pair, or a session
 * key (CALG_AES_128/192/256, CALG_3DES, CALG_3DES_112, CALG_DES, and
 * CALG_RC2/CALG_RC4 where the token has them).  The upper 16 bits of
 * dwFlags give the length in bits (0: the default).
 * In a CRYPT_VERIFYCONTEXT context key pairs are session objects.
 * CRYPT_KEK with an AES algorithm makes a wrap-only key-encryption key.
 * Errors: ERROR_INVALID_PARAMETER (bad handle, phKey NULL), NTE_BAD_ALGID
 * (algorithm not supported, CALG_AES included), NTE_BAD_FLAGS (length
 * invalid for a DES-family key, CRYPT_KEK with a non-AES algorithm),
 * NTE_BAD_DATA (length invalid for other
 * keys), NTE_NOT_SUPPORTED (the token cannot),
 * NTE_TOKEN_KEYSET_STORAGE_FULL (the token is full), NTE_FAIL. */
BOOL CryptGenKey(HCRYPTPROV hProv, ALG_ID Algid, DWORD dwFlags,
		 HCRYPTKEY *phKey);

/* Opens the container's key pair of the given dwKeySpec (or, with
 * CAPI11_AT_KEK, its trusted key-encryption key).
 * Errors: ERROR_INVALID_PARAMETER (bad handle, phUserKey NULL), NTE_NO_KEY
 * (the container has no such key, the context has no container, or
 * dwKeySpec is none of AT_KEYEXCHANGE, AT_SIGNATURE, CAPI11_AT_KEK). */
BOOL CryptGetUserKey(HCRYPTPROV hProv, DWORD dwKeySpec,
		     HCRYPTKEY *phUserKey);

/* Releases a key handle.  A session key is destroyed; the container's key
 * pairs stay on the token.
 * Errors: ERROR_INVALID_PARAMETER (unknown or already destroyed handle). */
BOOL CryptDestroyKey(HCRYPTKEY hKey);

/* Makes an independent copy of hKey, with its IV, mode and padding; it
 * stays valid after hKey is destroyed.  pdwReserved must be NULL.
 * Errors: ERROR_INVALID_PARAMETER (bad handle, phKey NULL, pdwReserved not
 * NULL), NTE_BAD_FLAGS (dwFlags not 0), NTE_FAIL. */
BOOL CryptDuplicateKey(HCRYPTKEY hKey, DWORD *pdwReserved, DWORD dwFlags,
		       HCRYPTKEY *phKey);

/* Reads a key property (KP_ALGID, KP_KEYLEN, KP_BLOCKLEN, KP_PERMISSIONS,
 * KP_IV, KP_MODE, KP_PADDING, KP_EFFECTIVE_KEYLEN, KP_CERTIFICATE...).
 * pbData NULL stores the size needed in *pdwDataLen.
 * Errors: ERROR_INVALID_PARAMETER (bad handle, pdwDataLen NULL),
 * ERROR_MORE_DATA (buffer too small; *pdwDataLen holds the size),
 * NTE_BAD_TYPE (unknown dwParam), SCARD_E_NO_SUCH_CERTIFICATE
 * (KP_CERTIFICATE: no certificate on the token shares the key's CKA_ID),
 * NTE_BAD_FLAGS. */
BOOL CryptGetKeyParam(HCRYPTKEY hKey, DWORD dwParam, BYTE *pbData,
		      DWORD *pdwDataLen, DWORD dwFlags);

/* Sets a key property (KP_IV, KP_MODE, KP_PADDING, KP_PERMISSIONS,
 * KP_EFFECTIVE_KEYLEN...).
 * KP_CERTIFICATE stores the DER certificate at pbData (its length is read
 * from its own header) on the token beside the key, replacing the one
 * there.
 * Errors: ERROR_INVALID_PARAMETER (bad handle, pbData NULL), NTE_BAD_TYPE
 * (unknown dwParam, or one the key does not have), NTE_BAD_DATA (a value
 * the key does not take, such as a padding other than PKCS5_PADDING, a
 * KP_MODE other than CRYPT_MODE_CBC/ECB, adding CRYPT_EXPORT to
 * KP_PERMISSIONS, or bytes that are no certificate), NTE_NOT_SUPPORTED
 * (CRYPT_MODE_OFB, CFB, CTS), NTE_PERM (a certificate in a verify
 * context), NTE_BAD_FLAGS. */
BOOL CryptSetKeyParam(HCRYPTKEY hKey, DWORD dwParam, const BYTE *pbData,
		      DWORD dwFlags);

/* Exports hKey as a blob of type dwBlobType, protected by hExpKey when the
 * blob type needs one (0: none).  pbData NULL stores the size needed in
 * *pdwDataLen without wrapping anything (for an RSA OPAQUEKEYBLOB an upper
 * bound; the export stores the exact length).
 * SYMMETRICWRAPKEYBLOB: under a 3DES hExpKey, a 3DES key in RFC 3217's
 * Triple-DES key wrap (Microsoft's format; extractable, non-sensitive keys
 * only); under an AES hExpKey, a key of 16 bytes or more in the RFC 3394
 * AES key wrap (a capi11 extension).  OPAQUEKEYBLOB: capi11's own format
 * (docs/OPAQUEKEYBLOB.md), a session key or RSA private key wrapped on the
 * token under a CRYPT_KEK key; CRYPT_DESTROYKEY then destroys the key on
 * the token (the handle stays, to be released by CryptDestroyKey; every
 * other use of it fails).  A sensitive key leaves only wrapped, and only
 * under a key with CKA_TRUSTED (a trusted key-encryption key from
 * CryptGetUserKey(CAPI11_AT_KEK), or a PUBLICKEYBLOB equal to a trusted
 * public key), as the token enforces through CKA_WRAP_WITH_TRUSTED; on a
 * token that does not enforce it, never.
 * Errors: ERROR_INVALID_PARAMETER (bad hKey, non-zero hExpKey that is not a
 * key, pdwDataLen NULL), ERROR_MORE_DATA (buffer too small; *pdwDataLen
 * holds the size), NTE_BAD_TYPE (unknown blob type), NTE_BAD_KEY (the key
 * cannot be exported in that form, or has no defined wrap under hExpKey:
 * also hExpKey 0 or not a session key for SYMMETRICWRAPKEYBLOB, not a
 * CRYPT_KEK AES key for OPAQUEKEYBLOB, a key destroyed by
 * CRYPT_DESTROYKEY), NTE_BAD_KEY_STATE (the key is not exportable, or is
 * sensitive and hExpKey is not trusted by the token; also for size queries of
 * PRIVATEKEYBLOB, SYMMETRICWRAPKEYBLOB and OPAQUEKEYBLOB), NTE_BAD_PUBLIC_KEY (SIMPLEBLOB without an RSA public
 * hExpKey), NTE_BAD_FLAGS (flags outside CRYPT_Y_ONLY, CRYPT_SSL2_FALLBACK,
 * CRYPT_DESTROYKEY, CRYPT_OAEP, CRYPT_BLOB_VER3), NTE_NOT_SUPPORTED (the
 * token cannot), NTE_FAIL. */
BOOL CryptExportKey(HCRYPTKEY hKey, HCRYPTKEY hExpKey, DWORD dwBlobType,
		    DWORD dwFlags, BYTE *pbData, DWORD *pdwDataLen);

/* Imports the key blob pbData (dwDataLen bytes), unwrapped by hPubKey when
 * the blob type needs it (0: none).  The blob type and the key come from
 * its BLOBHEADER.
 * Errors: ERROR_INVALID_PARAMETER (bad hProv, non-zero hPubKey that is not
 * a key, pbData NULL, dwDataLen 0, phKey NULL), NTE_BAD_DATA (shorter than
 * its header or its declared sizes, bVersion or reserved wrong, wrong
 * magic, bad bit length, public exponent 1, or the unwrap or decryption
 * failed), NTE_BAD_TYPE (unknown blob type), NTE_BAD_ALGID (unknown
 * aiKeyAlg), NTE_BAD_FLAGS (a key length the algorithm does not have for
 * the DES family, CRYPT_IPSEC_HMAC_KEY outside PLAINTEXTKEYBLOB, CRYPT_KEK
 * with a secret key that is not AES), NTE_BAD_PUBLIC_KEY (SIMPLEBLOB
 * without the container's exchange key as hPubKey), NTE_BAD_KEY
 * (SYMMETRICWRAPKEYBLOB/OPAQUEKEYBLOB with hPubKey 0 or not a session key
 * of this token, OPAQUEKEYBLOB with an hPubKey that is not a CRYPT_KEK
 * key, a key with no wrap of that kind under hPubKey), NTE_NOT_SUPPORTED
 * (the token cannot), NTE_FAIL.  A wrapping key of another algorithm than
 * the blob names, like a wrong key, is NTE_BAD_DATA.  CRYPT_KEK makes the
 * imported secret key a wrap-only key-encryption key.  A key that arrives
 * wrapped (SIMPLEBLOB, SYMMETRICWRAPKEYBLOB, OPAQUEKEYBLOB) is sensitive on
 * the token whatever CRYPT_EXPORTABLE says, which sets only
 * CKA_EXTRACTABLE: it leaves again only wrapped under a trusted key.  A
 * PUBLICKEYBLOB equal to a public key the token trusts gives a handle on
 * that trusted object.  A failed import leaves nothing on the token. */
BOOL CryptImportKey(HCRYPTPROV hProv, const BYTE *pbData, DWORD dwDataLen,
		    HCRYPTKEY hPubKey, DWORD dwFlags, HCRYPTKEY *phKey);

/* capi11 extensions for key protection (README, "Key protection").
 *
 * CryptGetUserKey(hProv, CAPI11_AT_KEK, &h): the container's trusted AES
 * key-encryption key, made by Capi11TrustKeyA; wrap-only, never
 * exportable. NTE_NO_KEY when the container has none. */
#define CAPI11_AT_KEK ((DWORD)0x43310001)
/* CryptGetProvParam(hProv, PP_CAPI11_KEY_PROTECTION, ...): a DWORD, one of
 * the values below: whether the token enforces CKA_WRAP_WITH_TRUSTED, so
 * that sensitive keys may leave wrapped under trusted keys. */
#define PP_CAPI11_KEY_PROTECTION ((DWORD)0x43310002)
#define CAPI11_PROTECTION_TRUSTED_WRAP 1  /* wrapped under trusted keys only */
#define CAPI11_PROTECTION_NO_WRAP 2       /* sensitive keys never leave */
/* CryptGetProvParam(hProv, PP_CAPI11_TOKEN_CAPS, ...): a NUL-terminated
 * string of "name=state" words separated by one space: what the token was
 * seen to do in this process, each state "yes", "no" or "unknown" (never
 * tried), for wrap, unwrap, generate-key, generate-key-pair, random,
 * create-public-data, create-private-data, create-public-key,
 * create-private-key, create-secret-key and extractable-private-key; then
 * "write-protected=yes" or "write-protected=no". Names may be added. */
#define PP_CAPI11_TOKEN_CAPS ((DWORD)0x43310003)
/* CryptGetProvParam(hProv, PP_CAPI11_ROUTES, ...): a NUL-terminated string
 * of "name=route" words separated by one space, saying which token each
 * operation will use: session-key (CryptGenKey and PLAINTEXTKEYBLOB of
 * AES), simpleblob-import, rsa-encrypt, public-key-import, random,
 * key-pair, private-key-import, dss-key-pair (DSS pairs of the DSS
 * provider types), dss-public-key-import (a partner's DSS public key,
 * which verifies where it is held), dh-key-pair (the container's
 * CALG_DH_SF pair: "token" or "none") and dh-ephem (CALG_DH_EPHEM pairs and
 * the agreements with them; on a companion that makes no DH parameters,
 * of CRYPT_PREGEN's p and g only), each "token", "companion" or "none"
 * (simpleblob-import also "token-decrypt+companion": the token's exchange
 * key decrypts, the key is held on the companion); last
 * "companion=<token label>", "companion=none" or
 * "companion=unavailable" (configured, but it does not open). Asking opens
 * the companion token. Names may be added. */
#define PP_CAPI11_ROUTES ((DWORD)0x43310004)

/* The security officer's step: makes a key the token trusts, in the
 * container of hProv. pbData is a PLAINTEXTKEYBLOB of an AES key (it
 * becomes the container's trusted key-encryption key: wrap-only, never
 * extractable, neither modifiable nor copyable, unwrapping only into
 * sensitive private keys; CryptGetUserKey(CAPI11_AT_KEK) finds it) or a
 * PUBLICKEYBLOB of a partner's RSA key (it becomes a trusted public
 * object: a CryptImportKey of the same PUBLICKEYBLOB then wraps under it;
 * a key whose private half is on the token is refused,
 * NTE_BAD_PUBLIC_KEY). szSoPin is the security officer's PIN; szUserPin the user's,
 * or NULL for the provider's pin-source file, else a prompt (the security
 * officer's login ends the user's, which is then restored; a pin-value
 * given at acquire is not kept for it). The token is
 * used alone: no other context of the process may hold it, and hProv may
 * hold no key handles (the logout would end session keys, and tokens may
 * renumber the private objects others point to). dwFlags must be 0.
 * phKey may be NULL.
 * Errors: ERROR_INVALID_PARAMETER (bad handle, pbData or szSoPin NULL,
 * dwDataLen 0), NTE_BAD_FLAGS, the blob errors of CryptImportKey,
 * NTE_BAD_TYPE (neither blob type), NTE_BAD_ALGID (not AES), NTE_BAD_KEYSET
 * (a verify context), NTE_BAD_PUBLIC_KEY (the partner's private key is on
 * the token), NTE_NOT_SUPPORTED (the token refuses the trusted key's
 * attributes), SCARD_E_SHARING_VIOLATION (the token is in use),
 * SCARD_W_WRONG_CHV (a PIN was rejected), NTE_SILENT_CONTEXT (no user PIN
 * at hand), NTE_FAIL. Nothing is left on the token after a failure. */
BOOL Capi11TrustKeyA(HCRYPTPROV hProv, const BYTE *pbData, DWORD dwDataLen,
		     LPCSTR szSoPin, LPCSTR szUserPin, DWORD dwFlags, HCRYPTKEY *phKey);

/* capi11 extensions for reporting failures (README, "capi11-tool").
 *
 * Capi11GetLastPkcs11Error: the PKCS#11 call behind the calling thread's
 * most recent failed CryptoAPI call, as GetLastError gives its Windows
 * code: the last C_* call that failed during it, which is the cause when
 * the failure came from the token. Returns that call's CK_RV (as a DWORD;
 * 0, CKR_OK, when no PKCS#11 call failed in it: capi11 itself refused) and
 * copies the function's name ("C_Login") into szFunction, NUL-terminated
 * and cut to cchFunction - 1 characters ("" when none); szFunction may be
 * NULL. Per thread; a successful call leaves it as it was. Never changes
 * the last error, and never fails. */
DWORD Capi11GetLastPkcs11Error(LPSTR szFunction, DWORD cchFunction);
/* The name of a Windows error code ("NTE_BAD_KEYSET", "ERROR_MORE_DATA",
 * "SCARD_W_WRONG_CHV"), of a PKCS#11 CK_RV ("CKR_PIN_INCORRECT"), in
 * static storage; NULL for a value without a name. Never change the last
 * error. */
LPCSTR Capi11ErrorNameA(DWORD dwError);
LPCSTR Capi11Pkcs11ErrorNameA(DWORD dwCkr);

/* Encrypts *pdwDataLen bytes of pbData in place (dwBufLen bytes of room),
 * adding PKCS#5 padding when Final is TRUE; *pdwDataLen becomes the
 * ciphertext length.  pbData NULL stores the size needed.  hHash, when
 * not 0, is a hash of the key's context that the plaintext is added to
 * once the encryption succeeded.
 * Errors: ERROR_INVALID_PARAMETER (bad handle, an hHash that names no hash
 * of the key's context, pdwDataLen NULL), NTE_BAD_HASH_STATE (the hash
 * takes no more data: nothing is encrypted), ERROR_MORE_DATA (dwBufLen too small; *pdwDataLen holds
 * the size), NTE_BAD_DATA (a non-final length that is not a multiple of
 * the block size), NTE_BAD_KEY (a key that cannot encrypt: an RSA
 * signature key, or an RSA key with public exponent 1), NTE_BAD_LEN (RSA
 * plaintext longer than the modulus allows), NTE_PERM (no CRYPT_ENCRYPT
 * in KP_PERMISSIONS: wrap-only keys), NTE_NOT_SUPPORTED (the token cannot
 * run the cipher), NTE_BAD_FLAGS (flags other than CRYPT_OAEP), NTE_FAIL. */
BOOL CryptEncrypt(HCRYPTKEY hKey, HCRYPTHASH hHash, BOOL Final,
		  DWORD dwFlags, BYTE *pbData, DWORD *pdwDataLen,
		  DWORD dwBufLen);

/* Decrypts *pdwDataLen bytes of pbData in place, checking and removing the
 * PKCS#5 padding when Final is TRUE; *pdwDataLen becomes the plaintext
 * length.  hHash, when not 0, is a hash of the key's context that the
 * plaintext is added to.
 * Errors: ERROR_INVALID_PARAMETER (bad handle, an hHash that names no hash
 * of the key's context, pdwDataLen NULL), NTE_BAD_HASH_STATE (the hash
 * takes no more data: nothing is decrypted), NTE_BAD_LEN (Final with no data), NTE_BAD_DATA (bad padding, a length
 * that is not a multiple of the block size, or the decryption failed),
 * NTE_BAD_KEY (a key that cannot decrypt), NTE_PERM (no CRYPT_DECRYPT in
 * KP_PERMISSIONS: wrap-only keys), NTE_NOT_SUPPORTED (the token cannot
 * run the cipher), NTE_BAD_FLAGS (flags other than CRYPT_OAEP), NTE_FAIL. */
BOOL CryptDecrypt(HCRYPTKEY hKey, HCRYPTHASH hHash, BOOL Final,
		  DWORD dwFlags, BYTE *pbData, DWORD *pdwDataLen);

/* ------------------------------------------------------------------------
 * Hash objects and signatures (README, "Hashes and signatures"). Digests
 * run on the token: CALG_MD5, CALG_SHA1, CALG_SHA_256, CALG_SHA_384,
 * CALG_SHA_512 where it has the mechanism; CALG_SSL3_SHAMD5 (36 bytes,
 * MD5 then SHA-1) only takes a value through HP_HASHVAL; CALG_HMAC runs
 * under a secret key of the token, its inner hash chosen by HP_HMAC_INFO;
 * CALG_MAC is the CBC-MAC under a block cipher key in CBC mode.
 */

/* Creates a hash object of Algid in hProv; hKey is CALG_HMAC's or
 * CALG_MAC's key and must be 0 for the other algorithms.
 * Errors: ERROR_INVALID_PARAMETER (bad hProv, non-zero hKey that is not a
 * key, phHash NULL), NTE_BAD_ALGID (an algorithm capi11 or the token
 * cannot run), NTE_BAD_FLAGS (dwFlags not 0), NTE_BAD_KEY (a key with an
 * algorithm that takes none, CALG_HMAC without a secret key of the
 * token, CALG_MAC without a block cipher key in CBC mode), NTE_NO_MEMORY,
 * NTE_FAIL. */
BOOL CryptCreateHash(HCRYPTPROV hProv, ALG_ID Algid, HCRYPTKEY hKey,
		     DWORD dwFlags, HCRYPTHASH *phHash);

/* Adds dwDataLen bytes of pbData to the hash (0 bytes: nothing, TRUE).
 * Errors: ERROR_INVALID_PARAMETER (bad handle, pbData NULL with a
 * length), NTE_BAD_FLAGS (dwFlags not 0), NTE_BAD_HASH_STATE (the value
 * was read, signed or set, or CALG_HMAC before HP_HMAC_INFO),
 * NTE_BAD_ALGID (CALG_SSL3_SHAMD5), NTE_FAIL. */
BOOL CryptHashData(HCRYPTHASH hHash, const BYTE *pbData, DWORD dwDataLen,
		   DWORD dwFlags);

/* Adds the value of the session key hKey to the hash, inside the token
 * (C_DigestKey): a sensitive key is hashed without leaving it.
 * Errors: ERROR_INVALID_PARAMETER (bad handle), NTE_BAD_KEY (not a
 * session key of the hash's token, or one the token cannot digest),
 * NTE_BAD_FLAGS (flags other than CRYPT_LITTLE_ENDIAN), NTE_BAD_ALGID
 * (CALG_HMAC, CALG_SSL3_SHAMD5), NTE_BAD_HASH_STATE, NTE_FAIL. */
BOOL CryptHashSessionKey(HCRYPTHASH hHash, HCRYPTKEY hKey, DWORD dwFlags);

/* Reads HP_ALGID, HP_HASHSIZE (DWORDs) or HP_HASHVAL (the value, which
 * finishes the hash; a size query does not).
 * Errors: ERROR_INVALID_PARAMETER (bad handle, pdwDataLen NULL),
 * ERROR_MORE_DATA (buffer too small; *pdwDataLen holds the size),
 * NTE_BAD_TYPE (unknown dwParam), NTE_BAD_FLAGS, NTE_BAD_HASH_STATE (no
 * value to give: CALG_SSL3_SHAMD5 never set, CALG_HMAC before
 * HP_HMAC_INFO), NTE_FAIL. */
BOOL CryptGetHashParam(HCRYPTHASH hHash, DWORD dwParam, BYTE *pbData,
		       DWORD *pdwDataLen, DWORD dwFlags);

/* Sets HP_HASHVAL (HP_HASHSIZE bytes at pbData become the value; the hash
 * is finished) or, for CALG_HMAC, HP_HMAC_INFO (an HMAC_INFO naming the
 * inner hash; the pad strings must be NULL or empty: the standard ones).
 * Errors: ERROR_INVALID_PARAMETER (bad handle, pbData NULL), NTE_BAD_TYPE
 * (unknown dwParam, HP_HMAC_INFO on another hash), NTE_BAD_FLAGS,
 * NTE_BAD_ALGID (an inner hash the token cannot run), NTE_BAD_DATA (other
 * pad strings), NTE_BAD_HASH_STATE (HP_HMAC_INFO twice), NTE_BAD_KEY (the
 * token refuses the key for HMAC), NTE_FAIL. */
BOOL CryptSetHashParam(HCRYPTHASH hHash, DWORD dwParam, const BYTE *pbData,
		       DWORD dwFlags);

/* Makes an independent copy of the hash in its current state.
 * Errors: ERROR_INVALID_PARAMETER (bad handle, pdwReserved not NULL,
 * dwFlags not 0, phHash NULL), NTE_NOT_SUPPORTED (the token cannot save
 * the state of a digest with more than 16 KiB behind it), NTE_FAIL. */
BOOL CryptDuplicateHash(HCRYPTHASH hHash, DWORD *pdwReserved, DWORD dwFlags,
			HCRYPTHASH *phHash);

/* Releases a hash handle.
 * Errors: ERROR_INVALID_PARAMETER (unknown or already destroyed handle). */
BOOL CryptDestroyHash(HCRYPTHASH hHash);

/* Signs the hash's value with the container's key of dwKeySpec
 * (AT_KEYEXCHANGE or AT_SIGNATURE): PKCS#1 v1.5 over the DigestInfo
 * (CRYPT_NOHASHOID: over the bare value; CALG_SSL3_SHAMD5 always so),
 * little-endian as Windows stores signatures. pbSignature NULL stores the
 * size (the modulus length) without signing. The hash is finished. A key
 * with CKA_ALWAYS_AUTHENTICATE gets a context-specific login before each
 * signature (the context's unused PIN, its pin-source, the pinpad, or a
 * prompt; under CRYPT_SILENT without a PIN, NTE_SILENT_CONTEXT).
 * Errors: ERROR_INVALID_PARAMETER (bad handle, pdwSigLen NULL,
 * szDescription not NULL), ERROR_MORE_DATA (buffer too small; *pdwSigLen
 * holds the size), NTE_BAD_FLAGS (flags other than CRYPT_NOHASHOID),
 * NTE_BAD_ALGID (dwKeySpec invalid, or a hash that cannot be signed:
 * CALG_HMAC), NTE_NO_KEY (no such key in the container), NTE_BAD_LEN (the
 * DigestInfo does not fit the key), NTE_BAD_HASH_STATE, NTE_BAD_KEY (the
 * token refuses the key for signing), NTE_SILENT_CONTEXT, SCARD_W_WRONG_CHV
 * (the context-specific login's PIN was rejected), NTE_FAIL. */
BOOL CryptSignHashA(HCRYPTHASH hHash, DWORD dwKeySpec, LPCSTR szDescription,
		    DWORD dwFlags, BYTE *pbSignature, DWORD *pdwSigLen);
/* The same; szDescription must be NULL here too. */
BOOL CryptSignHashW(HCRYPTHASH hHash, DWORD dwKeySpec, LPCWSTR szDescription,
		    DWORD dwFlags, BYTE *pbSignature, DWORD *pdwSigLen);
#ifdef UNICODE
#define CryptSignHash CryptSignHashW
#else
#define CryptSignHash CryptSignHashA
#endif

/* Checks that pbSignature (dwSigLen bytes, Windows' byte order) is a
 * signature of the hash's value by the RSA public key hPubKey (a
 * container's key or an imported PUBLICKEYBLOB). The hash is finished.
 * Errors: ERROR_INVALID_PARAMETER (bad handles, pbSignature NULL, dwSigLen
 * 0, szDescription not NULL), NTE_BAD_SIGNATURE (wrong length, or not a
 * valid signature), NTE_BAD_KEY (not an RSA public key of the hash's
 * token), NTE_BAD_FLAGS (flags other than CRYPT_NOHASHOID), NTE_BAD_ALGID,
 * NTE_BAD_HASH_STATE, NTE_FAIL. */
BOOL CryptVerifySignatureA(HCRYPTHASH hHash, const BYTE *pbSignature,
			   DWORD dwSigLen, HCRYPTKEY hPubKey,
			   LPCSTR szDescription, DWORD dwFlags);
/* The same; szDescription must be NULL here too. */
BOOL CryptVerifySignatureW(HCRYPTHASH hHash, const BYTE *pbSignature,
			   DWORD dwSigLen, HCRYPTKEY hPubKey,
			   LPCWSTR szDescription, DWORD dwFlags);
#ifdef UNICODE
#define CryptVerifySignature CryptVerifySignatureW
#else
#define CryptVerifySignature CryptVerifySignatureA
#endif

/* Makes a session key of Algid from the value of hBaseData (a hash of
 * hProv), by Microsoft's documented derivation: the first bytes of the
 * value, or where it is too short (and for CALG_AES_128 from MD5 and SHA-1
 * values, as Windows does) the hashes of the value XORed into 64 bytes of
 * 0x36 and of 0x5C, concatenated. HIWORD(dwFlags) is the key length in
 * bits (0: the algorithm's); CRYPT_EXPORTABLE as for CryptGenKey. The hash
 * is finished. The key is a session object like an imported one.
 * Errors: ERROR_INVALID_PARAMETER (bad handles, a hash of another context,
 * phKey NULL), NTE_BAD_ALGID (not a session-key algorithm the token can
 * make, CALG_SSL3_SHAMD5 as base), NTE_BAD_FLAGS (unknown flags, a length
 * the DES family does not have), NTE_BAD_DATA (a length other algorithms
 * do not have), NTE_BAD_HASH_STATE, NTE_FAIL. */
BOOL CryptDeriveKey(HCRYPTPROV hProv, ALG_ID Algid, HCRYPTHASH hBaseData,
		    DWORD dwFlags, HCRYPTKEY *phKey);

/* ------------------------------------------------------------------------
 * Layout checks: blobs are parsed by overlaying these structures on bytes
 * produced on Windows, so a size or offset that differs would corrupt
 * every import.
 */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define CAPI11_LAYOUT_CHECK(expr, msg) static_assert(expr, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define CAPI11_LAYOUT_CHECK(expr, msg) _Static_assert(expr, msg)
#else
/* Before C11: an array of negative size fails the build the same way. */
#define CAPI11_LAYOUT_CAT2(a, b) a##b
#define CAPI11_LAYOUT_CAT(a, b) CAPI11_LAYOUT_CAT2(a, b)
#define CAPI11_LAYOUT_CHECK(expr, msg) \
	typedef char CAPI11_LAYOUT_CAT(capi11_layout_check_, __LINE__)[(expr) ? 1 : -1]
#endif

CAPI11_LAYOUT_CHECK(sizeof(BYTE) == 1, "BYTE is 8 bits");
CAPI11_LAYOUT_CHECK(sizeof(WORD) == 2, "WORD is 16 bits");
CAPI11_LAYOUT_CHECK(sizeof(DWORD) == 4, "DWORD is 32 bits");
CAPI11_LAYOUT_CHECK(sizeof(LONG) == 4, "LONG is 32 bits");
CAPI11_LAYOUT_CHECK(sizeof(ALG_ID) == 4, "ALG_ID is 32 bits");
CAPI11_LAYOUT_CHECK(sizeof(HCRYPTPROV) == sizeof(void *),
		    "handles are pointer-sized");
CAPI11_LAYOUT_CHECK(sizeof(BLOBHEADER) == 8, "BLOBHEADER is 8 bytes");
CAPI11_LAYOUT_CHECK(offsetof(BLOBHEADER, aiKeyAlg) == 4,
		    "BLOBHEADER.aiKeyAlg at offset 4");
CAPI11_LAYOUT_CHECK(sizeof(RSAPUBKEY) == 12, "RSAPUBKEY is 12 bytes");
CAPI11_LAYOUT_CHECK(sizeof(DSSPUBKEY) == 8, "DSSPUBKEY is 8 bytes");
CAPI11_LAYOUT_CHECK(sizeof(DSSSEED) == 24, "DSSSEED is 24 bytes");
CAPI11_LAYOUT_CHECK(sizeof(DSSPUBKEY_VER3) == 40, "DSSPUBKEY_VER3 is 40 bytes");
CAPI11_LAYOUT_CHECK(sizeof(DSSPRIVKEY_VER3) == 44, "DSSPRIVKEY_VER3 is 44 bytes");
CAPI11_LAYOUT_CHECK(sizeof(PROV_ENUMALGS) == 32, "PROV_ENUMALGS is 32 bytes");
CAPI11_LAYOUT_CHECK(sizeof(PROV_ENUMALGS_EX) == 88,
		    "PROV_ENUMALGS_EX is 88 bytes");
CAPI11_LAYOUT_CHECK(offsetof(PROV_ENUMALGS_EX, szLongName) == 48,
		    "PROV_ENUMALGS_EX.szLongName at offset 48");

#undef CAPI11_LAYOUT_CHECK
#undef CAPI11_LAYOUT_CAT
#undef CAPI11_LAYOUT_CAT2

#ifdef __cplusplus
}
#endif

#endif /* CAPI11_WINCRYPT_H */
