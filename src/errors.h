/* The one mapping from PKCS#11 return values to the codes a Windows caller
 * expects from GetLastError(). The token layer speaks CK_RV; the core speaks
 * DWORD Windows codes (0 = success); only the entry points call SetLastError. */
#ifndef CAPI11_ERRORS_H
#define CAPI11_ERRORS_H

#include <wincrypt.h>
#include <p11-kit/pkcs11.h>

/* capi11's own CK_RV values for failures that happen around the module
 * rather than inside it. */
#define CAPI11_CKR_BASE            (CKR_VENDOR_DEFINED + 0x0CA11000UL)
#define CAPI11_CKR_MODULE_LOAD     (CAPI11_CKR_BASE + 1) /* module file not loadable */
#define CAPI11_CKR_STALE           (CAPI11_CKR_BASE + 3) /* state from before a fork */

/* What the failing call was doing: some operations report a CK_RV
 * differently (see the override table in errors.c). */
enum error_op {
	ERROR_OP_GENERIC = 0,
	ERROR_OP_LOGIN,     /* C_Login */
	ERROR_OP_GENKEY,    /* C_GenerateKey(Pair) */
	ERROR_OP_EXPORT,    /* C_GetAttributeValue of key material, C_WrapKey */
	ERROR_OP_IMPORT,    /* C_CreateObject of key material */
	ERROR_OP_DECRYPT,   /* C_Decrypt* of caller data */
	ERROR_OP_UNWRAP,    /* C_UnwrapKey of a caller's blob */
	ERROR_OP_ENCRYPT,   /* C_Encrypt* */
	ERROR_OP_BLOB_DECRYPT, /* decrypting an encrypted blob's body (error_for_op) */
};

DWORD error_from_ckr(CK_RV rv, enum error_op op);
/* A Windows code as an operation reports it: some operations turn every
 * failure but a few into one code (the table in errors.c); others leave
 * err as it is. */
DWORD error_for_op(DWORD err, enum error_op op);

/* Symbolic names, for messages: "NTE_BAD_KEY", "CKR_PIN_INCORRECT". Unknown
 * values give NULL. */
const char *error_name(DWORD code);
const char *error_ckr_name(CK_RV rv);

#endif
