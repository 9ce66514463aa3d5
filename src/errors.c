/* CK_RV → Windows error code, in one table, with the per-operation
 * overrides beside it. */
#include "config.h"
#include "errors.h"
#include "util.h"

#include <stddef.h>

struct ckr_map {
	CK_RV rv;
	const char *name;
	DWORD code;
};

#define ROW(rv, code) { rv, #rv, code }

/* The default meaning of each CK_RV for a Windows caller. A PKCS#11 failure
 * that a CSP has no word for becomes NTE_FAIL. */
static const struct ckr_map ckr_table[] = {
	ROW(CKR_OK, ERROR_SUCCESS),
	ROW(CKR_CANCEL, SCARD_W_CANCELLED_BY_USER),
	ROW(CKR_HOST_MEMORY, NTE_NO_MEMORY),
	ROW(CKR_SLOT_ID_INVALID, SCARD_E_READER_UNAVAILABLE),
	ROW(CKR_GENERAL_ERROR, NTE_FAIL),
	ROW(CKR_FUNCTION_FAILED, NTE_FAIL),
	/* capi11 passes well-formed arguments; a module that still calls
	 * them bad declines the request's shape (OpenSC answers it for a
	 * public key object it will not hold): what the token cannot do. */
	ROW(CKR_ARGUMENTS_BAD, NTE_NOT_SUPPORTED),
	ROW(CKR_ATTRIBUTE_SENSITIVE, NTE_BAD_KEY_STATE),
	ROW(CKR_ATTRIBUTE_TYPE_INVALID, NTE_NOT_SUPPORTED),
	ROW(CKR_ATTRIBUTE_VALUE_INVALID, NTE_BAD_DATA),
	ROW(CKR_ATTRIBUTE_READ_ONLY, NTE_FAIL),
	ROW(CKR_DATA_INVALID, NTE_BAD_DATA),
	ROW(CKR_DATA_LEN_RANGE, NTE_BAD_LEN),
	ROW(CKR_DEVICE_ERROR, NTE_FAIL),
	ROW(CKR_DEVICE_MEMORY, NTE_TOKEN_KEYSET_STORAGE_FULL),
	/* A card pulled out of its reader: Windows' smart card stack says so. */
	ROW(CKR_DEVICE_REMOVED, SCARD_E_NO_SMARTCARD),
	ROW(CKR_TOKEN_NOT_PRESENT, SCARD_E_NO_SMARTCARD),
	ROW(CKR_TOKEN_NOT_RECOGNIZED, SCARD_E_CARD_UNSUPPORTED),
	/* Nothing may be stored on the token: access denied, as Windows
	 * answers a change it may not make. */
	ROW(CKR_TOKEN_WRITE_PROTECTED, NTE_PERM),
	ROW(CKR_ENCRYPTED_DATA_INVALID, NTE_BAD_DATA),
	ROW(CKR_ENCRYPTED_DATA_LEN_RANGE, NTE_BAD_LEN),
	ROW(CKR_FUNCTION_CANCELED, SCARD_W_CANCELLED_BY_USER),
	ROW(CKR_FUNCTION_NOT_SUPPORTED, NTE_NOT_SUPPORTED),
	ROW(CKR_KEY_HANDLE_INVALID, NTE_BAD_KEY),
	ROW(CKR_KEY_SIZE_RANGE, NTE_BAD_LEN),
	ROW(CKR_KEY_TYPE_INCONSISTENT, NTE_BAD_KEY),
	ROW(CKR_KEY_FUNCTION_NOT_PERMITTED, NTE_PERM),
	ROW(CKR_KEY_NOT_WRAPPABLE, NTE_BAD_KEY_STATE),
	ROW(CKR_KEY_UNEXTRACTABLE, NTE_BAD_KEY_STATE),
	ROW(CKR_MECHANISM_INVALID, NTE_BAD_ALGID),
	ROW(CKR_MECHANISM_PARAM_INVALID, NTE_FAIL),
	ROW(CKR_OBJECT_HANDLE_INVALID, NTE_BAD_KEY),
	ROW(CKR_OPERATION_ACTIVE, NTE_FAIL),
	ROW(CKR_OPERATION_NOT_INITIALIZED, NTE_FAIL),
	ROW(CKR_PIN_INCORRECT, SCARD_W_WRONG_CHV),
	ROW(CKR_PIN_INVALID, SCARD_W_WRONG_CHV),
	ROW(CKR_PIN_LEN_RANGE, SCARD_W_WRONG_CHV),
	ROW(CKR_PIN_EXPIRED, SCARD_W_CHV_BLOCKED),
	ROW(CKR_PIN_LOCKED, SCARD_W_CHV_BLOCKED),
	/* Sessions vanish when the token goes away under them. */
	ROW(CKR_SESSION_CLOSED, SCARD_W_REMOVED_CARD),
	ROW(CKR_SESSION_COUNT, NTE_FAIL),
	ROW(CKR_SESSION_HANDLE_INVALID, SCARD_W_REMOVED_CARD),
	ROW(CKR_SESSION_READ_ONLY, NTE_PERM),
	ROW(CKR_SESSION_EXISTS, NTE_FAIL),
	ROW(CKR_TEMPLATE_INCOMPLETE, NTE_BAD_DATA),
	ROW(CKR_TEMPLATE_INCONSISTENT, NTE_BAD_DATA),
	ROW(CKR_UNWRAPPING_KEY_HANDLE_INVALID, NTE_BAD_KEY),
	ROW(CKR_UNWRAPPING_KEY_SIZE_RANGE, NTE_BAD_KEY),
	ROW(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, NTE_BAD_KEY),
	ROW(CKR_USER_ALREADY_LOGGED_IN, ERROR_SUCCESS),
	ROW(CKR_USER_NOT_LOGGED_IN, SCARD_W_CARD_NOT_AUTHENTICATED),
	ROW(CKR_USER_PIN_NOT_INITIALIZED, SCARD_W_CARD_NOT_AUTHENTICATED),
	ROW(CKR_USER_TYPE_INVALID, NTE_FAIL),
	ROW(CKR_WRAPPED_KEY_INVALID, NTE_BAD_DATA),
	ROW(CKR_WRAPPED_KEY_LEN_RANGE, NTE_BAD_DATA),
	ROW(CKR_WRAPPING_KEY_HANDLE_INVALID, NTE_BAD_KEY),
	ROW(CKR_WRAPPING_KEY_SIZE_RANGE, NTE_BAD_KEY),
	ROW(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, NTE_BAD_KEY),
	ROW(CKR_RANDOM_NO_RNG, NTE_NOT_SUPPORTED),
	ROW(CKR_BUFFER_TOO_SMALL, NTE_FAIL),
	ROW(CKR_CRYPTOKI_NOT_INITIALIZED, NTE_PROVIDER_DLL_FAIL),
	ROW(CKR_CRYPTOKI_ALREADY_INITIALIZED, ERROR_SUCCESS),
	ROW(CAPI11_CKR_MODULE_LOAD, NTE_PROV_DLL_NOT_FOUND),
	ROW(CAPI11_CKR_STALE, ERROR_INVALID_PARAMETER),
};

struct ckr_override {
	enum error_op op;
	CK_RV rv;         /* CKR_OK here means: every failure of that op */
	DWORD code;
};

/* Where an operation needs another word than the default:
 * - wrapping or unwrapping: a mechanism the token advertises and then
 *   refuses is what the token cannot do (SPEC section 7), as when its
 *   C_GetMechanismInfo had said so;
 * - decrypting or unwrapping caller data: any failure of the call itself is
 *   NTE_BAD_DATA, one code on every path, so that the error reveals nothing
 *   about where padding broke (SoftHSM reports bad padding as
 *   CKR_GENERAL_ERROR); a missing or unusable key is still the key's fault;
 * - key generation: a size the token refuses is bad data, as rsaenh
 *   answers a bad RSA length in HIWORD(dwFlags);
 * - importing key material: a template the token refuses is bad data;
 * - unwrapping on a token without C_UnwrapKey (a card): what the token
 *   cannot do, not bad data, listed before the blanket unwrap override;
 * - encrypting or decrypting caller data: a mechanism the token refuses
 *   at use (after C_GetMechanismInfo advertised it) is what the token
 *   cannot do (SPEC section 7), not the caller's algorithm choice; listed
 *   before the blanket decrypt override, which would call it bad data.
 * The first row that matches wins. */
static const struct ckr_override overrides[] = {
	{ ERROR_OP_ENCRYPT, CKR_MECHANISM_INVALID, NTE_NOT_SUPPORTED },
	{ ERROR_OP_ENCRYPT, CKR_FUNCTION_NOT_SUPPORTED, NTE_NOT_SUPPORTED },
	{ ERROR_OP_DECRYPT, CKR_MECHANISM_INVALID, NTE_NOT_SUPPORTED },
	{ ERROR_OP_DECRYPT, CKR_FUNCTION_NOT_SUPPORTED, NTE_NOT_SUPPORTED },
	{ ERROR_OP_GENKEY, CKR_KEY_SIZE_RANGE, NTE_BAD_DATA },
	{ ERROR_OP_EXPORT, CKR_MECHANISM_INVALID, NTE_NOT_SUPPORTED },
	{ ERROR_OP_UNWRAP, CKR_MECHANISM_INVALID, NTE_NOT_SUPPORTED },
	{ ERROR_OP_UNWRAP, CKR_FUNCTION_NOT_SUPPORTED, NTE_NOT_SUPPORTED },
	{ ERROR_OP_IMPORT, CKR_GENERAL_ERROR, NTE_BAD_DATA },
	{ ERROR_OP_IMPORT, CKR_KEY_SIZE_RANGE, NTE_BAD_DATA },
	{ ERROR_OP_DECRYPT, CKR_OK, NTE_BAD_DATA },
	{ ERROR_OP_UNWRAP, CKR_OK, NTE_BAD_DATA },
};

/* Failures that are about the key or the token, never about the data: the
 * blanket overrides above leave them alone. */
static int ckr_is_environmental(CK_RV rv)
{
	switch (rv) {
	case CKR_HOST_MEMORY:
	case CKR_DEVICE_MEMORY:
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_SESSION_CLOSED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_USER_NOT_LOGGED_IN:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
	case CKR_KEY_HANDLE_INVALID:
	case CKR_OBJECT_HANDLE_INVALID:
	case CKR_UNWRAPPING_KEY_HANDLE_INVALID:
	case CKR_KEY_FUNCTION_NOT_PERMITTED:
	case CKR_MECHANISM_INVALID:
		return 1;
	default:
		return 0;
	}
}

DWORD error_from_ckr(CK_RV rv, enum error_op op)
{
	size_t i;

	if (rv == CKR_OK)
		return ERROR_SUCCESS;
	for (i = 0; i < CAPI11_N_ELEMENTS(overrides); i++) {
		if (overrides[i].op != op)
			continue;
		if (overrides[i].rv == rv ||
		    (overrides[i].rv == CKR_OK && !ckr_is_environmental(rv)))
			return overrides[i].code;
	}
	for (i = 0; i < CAPI11_N_ELEMENTS(ckr_table); i++) {
		if (ckr_table[i].rv == rv)
			return ckr_table[i].code;
	}
	return NTE_FAIL;
}

/* Operations that turn every failure into one code but a few, whatever
 * layer the failure came from: decrypting the body of an encrypted
 * PRIVATEKEYBLOB is NTE_BAD_DATA however it broke (SPEC section 5: the
 * error reveals nothing about where the padding broke), unless the key
 * may not decrypt (NTE_BAD_KEY, NTE_PERM), memory ran out, or the token
 * cannot (NTE_NOT_SUPPORTED). */
static const DWORD blob_decrypt_kept[] = { NTE_BAD_KEY, NTE_PERM, NTE_NO_MEMORY, NTE_NOT_SUPPORTED };

static const struct code_override {
	enum error_op op;
	const DWORD *kept;
	size_t n_kept;
	DWORD code;
} code_overrides[] = {
	{ ERROR_OP_BLOB_DECRYPT, blob_decrypt_kept, CAPI11_N_ELEMENTS(blob_decrypt_kept),
	  NTE_BAD_DATA },
};

DWORD error_for_op(DWORD err, enum error_op op)
{
	size_t i, k;

	if (err == ERROR_SUCCESS)
		return err;
	for (i = 0; i < CAPI11_N_ELEMENTS(code_overrides); i++) {
		if (code_overrides[i].op != op)
			continue;
		for (k = 0; k < code_overrides[i].n_kept; k++) {
			if (code_overrides[i].kept[k] == err)
				return err;
		}
		return code_overrides[i].code;
	}
	return err;
}

const char *error_ckr_name(CK_RV rv)
{
	size_t i;

	for (i = 0; i < CAPI11_N_ELEMENTS(ckr_table); i++) {
		if (ckr_table[i].rv == rv)
			return ckr_table[i].name;
	}
	return NULL;
}

struct code_name {
	DWORD code;
	const char *name;
};

#define NAME(code) { code, #code }

/* Every code wincrypt.h defines, so that a failure is never shown as a
 * bare number where Windows has a name for it; exported as
 * Capi11ErrorNameA for programs and capi11-tool. */
static const struct code_name code_names[] = {
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

const char *error_name(DWORD code)
{
	size_t i;

	for (i = 0; i < CAPI11_N_ELEMENTS(code_names); i++) {
		if (code_names[i].code == code)
			return code_names[i].name;
	}
	return NULL;
}

LPCSTR Capi11ErrorNameA(DWORD dwError)
{
	return error_name(dwError);
}

LPCSTR Capi11Pkcs11ErrorNameA(DWORD dwCkr)
{
	return error_ckr_name((CK_RV)dwCkr);
}
