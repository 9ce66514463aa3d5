/* The CK_RV → Windows error table against what a Windows caller expects:
 * the codes of SPEC sections 2, 4, 5 and 7, the smart card codes Windows'
 * smart card CSPs return (SCARD_W_WRONG_CHV for a wrong PIN), and the
 * symbolic names the messages print. No mapping may turn a PKCS#11
 * failure into success by accident. */
#include "config.h"
#include "cutest.h"
#include "errors.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* winerror.h and PKCS#11 values written out, so that a wrong constant in
 * a header cannot make the test agree with the code. */
#define V_ERROR_INVALID_PARAMETER 87u
#define V_NTE_BAD_KEY 0x80090003u
#define V_NTE_BAD_DATA 0x80090005u
#define V_NTE_BAD_ALGID 0x80090008u
#define V_NTE_BAD_FLAGS 0x80090009u
#define V_NTE_BAD_KEY_STATE 0x8009000Bu
#define V_NTE_NO_MEMORY 0x8009000Eu
#define V_NTE_BAD_KEYSET 0x80090016u
#define V_NTE_FAIL 0x80090020u
#define V_NTE_PERM 0x80090010u
#define V_NTE_NOT_SUPPORTED 0x80090029u
#define V_SCARD_E_NO_SMARTCARD 0x8010000Cu
#define V_SCARD_W_WRONG_CHV 0x8010006Bu
#define V_SCARD_W_CHV_BLOCKED 0x8010006Cu

#define V_CKR_OK 0x000UL
#define V_CKR_HOST_MEMORY 0x002UL
#define V_CKR_GENERAL_ERROR 0x005UL
#define V_CKR_FUNCTION_FAILED 0x006UL
#define V_CKR_ATTRIBUTE_SENSITIVE 0x011UL
#define V_CKR_DATA_INVALID 0x020UL
#define V_CKR_DATA_LEN_RANGE 0x021UL
#define V_CKR_DEVICE_REMOVED 0x032UL
#define V_CKR_ENCRYPTED_DATA_INVALID 0x040UL
#define V_CKR_ENCRYPTED_DATA_LEN_RANGE 0x041UL
#define V_CKR_KEY_UNEXTRACTABLE 0x06AUL
#define V_CKR_MECHANISM_INVALID 0x070UL
#define V_CKR_PIN_INCORRECT 0x0A0UL
#define V_CKR_PIN_LOCKED 0x0A4UL
#define V_CKR_TOKEN_NOT_PRESENT 0x0E0UL
#define V_CKR_USER_ALREADY_LOGGED_IN 0x100UL
#define V_CKR_WRAPPED_KEY_INVALID 0x110UL
#define V_CKR_WRAPPED_KEY_LEN_RANGE 0x112UL
#define V_CKR_CRYPTOKI_ALREADY_INITIALIZED 0x191UL
#define V_CKR_VENDOR_DEFINED 0x80000000UL
#define V_CKR_ARGUMENTS_BAD 0x007UL
#define V_CKR_ATTRIBUTE_VALUE_INVALID 0x013UL
#define V_CKR_FUNCTION_NOT_SUPPORTED 0x054UL
#define V_CKR_KEY_TYPE_INCONSISTENT 0x063UL
#define V_CKR_SESSION_READ_ONLY 0x0B5UL
#define V_CKR_TEMPLATE_INCONSISTENT 0x0D1UL
#define V_CKR_TOKEN_WRITE_PROTECTED 0x0E2UL
#define V_CKR_RANDOM_NO_RNG 0x121UL

/* PKCS#11 2.40's standard codes run from CKR_OK to CKR_FUNCTION_REJECTED
 * (0x200); the sweep covers every value in between, gaps included. */
#define SWEEP_LAST 0x200UL

static const enum error_op all_ops[] = {
	ERROR_OP_GENERIC, ERROR_OP_LOGIN, ERROR_OP_GENKEY, ERROR_OP_EXPORT,
	ERROR_OP_IMPORT, ERROR_OP_DECRYPT, ERROR_OP_UNWRAP, ERROR_OP_ENCRYPT,
};

/* Operations where no blanket "any failure is bad data" rule applies. */
static const enum error_op plain_ops[] = {
	ERROR_OP_GENERIC, ERROR_OP_LOGIN, ERROR_OP_GENKEY, ERROR_OP_EXPORT,
	ERROR_OP_IMPORT, ERROR_OP_ENCRYPT,
};

/* Prints the offending pair before the assertion, so that a failure in a
 * loop says which value broke. */
static void expect_code(CK_RV rv, enum error_op op, DWORD want)
{
	DWORD got = error_from_ckr(rv, op);

	if (got != want)
		fprintf(stderr, "\n  CK_RV 0x%lx (%s), op %d: got 0x%08x, want 0x%08x\n",
			(unsigned long)rv, error_ckr_name(rv) ? error_ckr_name(rv) : "?",
			(int)op, (unsigned)got, (unsigned)want);
	CU_ASSERT_EQUAL(got, want);
}

/* ---- Default meanings ---- */

/* SPEC 7: CKR_GENERAL_ERROR is NTE_FAIL wherever no override speaks. */
static void test_general_error_generic(void)
{
	expect_code(V_CKR_GENERAL_ERROR, ERROR_OP_GENERIC, V_NTE_FAIL);
	expect_code(V_CKR_GENERAL_ERROR, ERROR_OP_LOGIN, V_NTE_FAIL);
	expect_code(V_CKR_GENERAL_ERROR, ERROR_OP_GENKEY, V_NTE_FAIL);
	expect_code(V_CKR_GENERAL_ERROR, ERROR_OP_EXPORT, V_NTE_FAIL);
	expect_code(V_CKR_GENERAL_ERROR, ERROR_OP_ENCRYPT, V_NTE_FAIL);
}

/* SPEC 5 and 7: a failed decrypt or unwrap of caller data is NTE_BAD_DATA
 * whatever the module said, one code on every path, so that the error is
 * no padding oracle. SoftHSM reports bad padding as CKR_GENERAL_ERROR;
 * other modules use the data/encrypted-data/wrapped-key codes. */
static void test_decrypt_unwrap_bad_data(void)
{
	static const CK_RV data_failures[] = {
		V_CKR_GENERAL_ERROR, V_CKR_FUNCTION_FAILED,
		V_CKR_DATA_INVALID, V_CKR_DATA_LEN_RANGE,
		V_CKR_ENCRYPTED_DATA_INVALID, V_CKR_ENCRYPTED_DATA_LEN_RANGE,
		V_CKR_WRAPPED_KEY_INVALID, V_CKR_WRAPPED_KEY_LEN_RANGE,
	};

	for (size_t i = 0; i < CAPI11_N_ELEMENTS(data_failures); i++) {
		expect_code(data_failures[i], ERROR_OP_DECRYPT, V_NTE_BAD_DATA);
		expect_code(data_failures[i], ERROR_OP_UNWRAP, V_NTE_BAD_DATA);
	}
}

/* SPEC 4: a key the token will not let out is NTE_BAD_KEY_STATE. */
static void test_unexportable_bad_key_state(void)
{
	expect_code(V_CKR_KEY_UNEXTRACTABLE, ERROR_OP_EXPORT, V_NTE_BAD_KEY_STATE);
	expect_code(V_CKR_ATTRIBUTE_SENSITIVE, ERROR_OP_EXPORT, V_NTE_BAD_KEY_STATE);
	expect_code(V_CKR_KEY_UNEXTRACTABLE, ERROR_OP_GENERIC, V_NTE_BAD_KEY_STATE);
	expect_code(V_CKR_ATTRIBUTE_SENSITIVE, ERROR_OP_GENERIC, V_NTE_BAD_KEY_STATE);
}

/* SPEC 2: a token absent from its slot is SCARD_E_NO_SMARTCARD, whatever
 * was being done when it went (decrypt and unwrap aside: SPEC 5 gives
 * them one code for every failure of the call). */
static void test_token_absent(void)
{
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(plain_ops); i++) {
		expect_code(V_CKR_TOKEN_NOT_PRESENT, plain_ops[i], V_SCARD_E_NO_SMARTCARD);
		expect_code(V_CKR_DEVICE_REMOVED, plain_ops[i], V_SCARD_E_NO_SMARTCARD);
	}
}

/* SPEC 2: login happens once per token and an earlier login is success;
 * a module initialised by someone else in the process is usable. */
static void test_already_is_success(void)
{
	expect_code(V_CKR_USER_ALREADY_LOGGED_IN, ERROR_OP_LOGIN, ERROR_SUCCESS);
	expect_code(V_CKR_USER_ALREADY_LOGGED_IN, ERROR_OP_GENERIC, ERROR_SUCCESS);
	expect_code(V_CKR_CRYPTOKI_ALREADY_INITIALIZED, ERROR_OP_GENERIC, ERROR_SUCCESS);
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(all_ops); i++)
		expect_code(V_CKR_OK, all_ops[i], ERROR_SUCCESS);
}

/* Windows' smart card CSPs answer a rejected PIN with SCARD_W_WRONG_CHV
 * and a blocked one with SCARD_W_CHV_BLOCKED (winerror.h: "the maximum
 * number of PIN entry attempts has been reached"). */
static void test_pin_codes(void)
{
	expect_code(V_CKR_PIN_INCORRECT, ERROR_OP_LOGIN, V_SCARD_W_WRONG_CHV);
	expect_code(V_CKR_PIN_INCORRECT, ERROR_OP_GENERIC, V_SCARD_W_WRONG_CHV);
	expect_code(V_CKR_PIN_LOCKED, ERROR_OP_LOGIN, V_SCARD_W_CHV_BLOCKED);
}

/* SPEC 3: an algorithm the token cannot do is NTE_BAD_ALGID; memory is
 * NTE_NO_MEMORY (the CSP code, not ERROR_NOT_ENOUGH_MEMORY). */
static void test_algid_and_memory(void)
{
	expect_code(V_CKR_MECHANISM_INVALID, ERROR_OP_GENERIC, V_NTE_BAD_ALGID);
	expect_code(V_CKR_MECHANISM_INVALID, ERROR_OP_GENKEY, V_NTE_BAD_ALGID);
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(plain_ops); i++)
		expect_code(V_CKR_HOST_MEMORY, plain_ops[i], V_NTE_NO_MEMORY);
}

/* State from before a fork is a dead handle: SPEC 2's stale handle. */
static void test_stale_is_invalid_parameter(void)
{
	expect_code(CAPI11_CKR_STALE, ERROR_OP_GENERIC, V_ERROR_INVALID_PARAMETER);
}

/* A vendor's own code means nothing to a Windows caller: NTE_FAIL, never
 * success and never a guess. */
static void test_vendor_values(void)
{
	static const CK_RV vendor[] = {
		V_CKR_VENDOR_DEFINED, V_CKR_VENDOR_DEFINED + 1, V_CKR_VENDOR_DEFINED + 0x1234,
		0xFFFFFFFFUL,
	};

	for (size_t i = 0; i < CAPI11_N_ELEMENTS(vendor); i++)
		expect_code(vendor[i], ERROR_OP_GENERIC, V_NTE_FAIL);
}

/* No accidental success: every standard CK_RV but CKR_OK and the two
 * "already" codes is a failure in every operation, and every code the
 * table can hand out has a name for the messages. */
static void test_sweep_no_success(void)
{
	unsigned failures = 0, unnamed = 0;

	for (CK_RV rv = 0; rv <= SWEEP_LAST; rv++) {
		bool may_succeed = rv == V_CKR_OK || rv == V_CKR_USER_ALREADY_LOGGED_IN ||
			rv == V_CKR_CRYPTOKI_ALREADY_INITIALIZED;

		for (size_t i = 0; i < CAPI11_N_ELEMENTS(all_ops); i++) {
			DWORD code = error_from_ckr(rv, all_ops[i]);

			if (code == ERROR_SUCCESS && !may_succeed) {
				fprintf(stderr, "\n  CK_RV 0x%lx op %d maps to success\n",
					(unsigned long)rv, (int)all_ops[i]);
				failures++;
			}
			if (code != ERROR_SUCCESS && error_name(code) == NULL) {
				fprintf(stderr, "\n  CK_RV 0x%lx op %d maps to 0x%08x, which has no name\n",
					(unsigned long)rv, (int)all_ops[i], (unsigned)code);
				unnamed++;
			}
		}
	}
	CU_ASSERT_EQUAL(failures, 0);
	CU_ASSERT_EQUAL(unnamed, 0);
}

/* ---- Names ---- */

static void expect_name(DWORD code, const char *want)
{
	const char *got = error_name(code);

	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got, want);
}

static void test_error_names(void)
{
	expect_name(V_NTE_BAD_KEY, "NTE_BAD_KEY");
	expect_name(V_NTE_BAD_DATA, "NTE_BAD_DATA");
	expect_name(V_NTE_BAD_ALGID, "NTE_BAD_ALGID");
	expect_name(V_NTE_BAD_FLAGS, "NTE_BAD_FLAGS");
	expect_name(V_NTE_BAD_KEY_STATE, "NTE_BAD_KEY_STATE");
	expect_name(V_NTE_BAD_KEYSET, "NTE_BAD_KEYSET");
	expect_name(V_NTE_FAIL, "NTE_FAIL");
	expect_name(V_ERROR_INVALID_PARAMETER, "ERROR_INVALID_PARAMETER");
	expect_name(V_SCARD_E_NO_SMARTCARD, "SCARD_E_NO_SMARTCARD");
	expect_name(V_SCARD_W_WRONG_CHV, "SCARD_W_WRONG_CHV");
	/* Every code wincrypt.h defines has one; KP_CERTIFICATE's among them. */
	expect_name(0x8010002Cu, "SCARD_E_NO_SUCH_CERTIFICATE");
	expect_name(0x80100008u, "SCARD_E_INSUFFICIENT_BUFFER");
	/* The same table behind the exported names (wincrypt.h). */
	CU_ASSERT_STRING_EQUAL(Capi11ErrorNameA(0x8010002Cu), "SCARD_E_NO_SUCH_CERTIFICATE");
	CU_ASSERT_PTR_NULL(Capi11ErrorNameA(0x12345678u));
	/* Unknown values give NULL (errors.h). */
	CU_ASSERT_PTR_NULL(error_name(0x12345678u));
	CU_ASSERT_PTR_NULL(error_name(0x8009FFFFu));
}

static void expect_ckr_name(CK_RV rv, const char *want)
{
	const char *got = error_ckr_name(rv);

	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got, want);
}

static void test_ckr_names(void)
{
	expect_ckr_name(V_CKR_OK, "CKR_OK");
	expect_ckr_name(V_CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR");
	expect_ckr_name(V_CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT");
	expect_ckr_name(V_CKR_KEY_UNEXTRACTABLE, "CKR_KEY_UNEXTRACTABLE");
	expect_ckr_name(V_CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT");
	expect_ckr_name(V_CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN");
	CU_ASSERT_PTR_NULL(error_ckr_name(V_CKR_VENDOR_DEFINED + 0x1234));
}


/* ---- What cards and TPMs answer (issue 13) ---- */

/* A token that cannot do what was asked: NTE_NOT_SUPPORTED, SPEC section
 * 7's word for it, on every operation, unwrapping and decrypting
 * included (the token's lack says nothing about the caller's data).
 * OpenSC calls a public key it will not hold CKR_ARGUMENTS_BAD; capi11
 * never passes bad arguments, so that is the same refusal. */
static void test_card_cannot(void)
{
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(all_ops); i++)
		expect_code(V_CKR_FUNCTION_NOT_SUPPORTED, all_ops[i], V_NTE_NOT_SUPPORTED);
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(plain_ops); i++)
		expect_code(V_CKR_ARGUMENTS_BAD, plain_ops[i], V_NTE_NOT_SUPPORTED);
	/* A card without a generator (CryptGenRandom). */
	expect_code(V_CKR_RANDOM_NO_RNG, ERROR_OP_GENERIC, V_NTE_NOT_SUPPORTED);
}

/* A write-protected token (or a read-only session) refuses every change:
 * NTE_PERM, "access denied", wherever a change was asked. */
static void test_card_write_protected(void)
{
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(plain_ops); i++) {
		expect_code(V_CKR_TOKEN_WRITE_PROTECTED, plain_ops[i], V_NTE_PERM);
		expect_code(V_CKR_SESSION_READ_ONLY, plain_ops[i], V_NTE_PERM);
	}
}

/* A template the token refuses in an import is the blob's bad data
 * (SPEC 5); a key of the wrong type for the mechanism is a bad key. */
static void test_card_template_and_type(void)
{
	expect_code(V_CKR_TEMPLATE_INCONSISTENT, ERROR_OP_IMPORT, V_NTE_BAD_DATA);
	expect_code(V_CKR_ATTRIBUTE_VALUE_INVALID, ERROR_OP_IMPORT, V_NTE_BAD_DATA);
	expect_code(V_CKR_KEY_TYPE_INCONSISTENT, ERROR_OP_GENERIC, V_NTE_BAD_KEY);
	expect_code(V_CKR_KEY_TYPE_INCONSISTENT, ERROR_OP_ENCRYPT, V_NTE_BAD_KEY);
}

static CU_TestInfo default_tests[] = {
	{ "CKR_GENERAL_ERROR is NTE_FAIL", test_general_error_generic },
	{ "decrypt/unwrap failures are NTE_BAD_DATA", test_decrypt_unwrap_bad_data },
	{ "unexportable is NTE_BAD_KEY_STATE", test_unexportable_bad_key_state },
	{ "absent token is SCARD_E_NO_SMARTCARD", test_token_absent },
	{ "already logged in/initialised is success", test_already_is_success },
	{ "PIN codes", test_pin_codes },
	{ "mechanism and memory", test_algid_and_memory },
	{ "stale state is ERROR_INVALID_PARAMETER", test_stale_is_invalid_parameter },
	{ "vendor values are NTE_FAIL", test_vendor_values },
	{ "no CK_RV maps to accidental success", test_sweep_no_success },
	{ "what a card cannot do is NTE_NOT_SUPPORTED", test_card_cannot },
	{ "a write-protected token is NTE_PERM", test_card_write_protected },
	{ "refused templates and key types", test_card_template_and_type },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo name_tests[] = {
	{ "Windows code names", test_error_names },
	{ "CK_RV names", test_ckr_names },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "error mapping", NULL, NULL, NULL, NULL, default_tests },
	{ "error names", NULL, NULL, NULL, NULL, name_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_run(suites);
}
