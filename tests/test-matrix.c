/* CryptExportKey over every key origin, blob type and flag (SPEC section
 * 4), with the size query and the real export of each cell, the wrapped
 * forms under a key-encryption key the caller made, one whose bytes it
 * knows and the one the security officer made trusted (SPEC section 3),
 * under both export policies; then the
 * routes around it: PRIVATEKEYBLOB encrypted under a session key, moves
 * between two tokens, CRYPT_IPSEC_HMAC_KEY, and the sensitive export
 * policy of the configuration. Expected codes are SPEC's (which records
 * Windows' CSPs); blob contents are checked with openssl and pkcs11-tool,
 * never with the code under test.
 *
 * With CAPI11_TEST_PROFILE set (tests/local.mk), the export matrix runs
 * on one of the shim's card profiles (p11shim.h) over SoftHSM instead:
 * the pairs a card cannot make or take are its documented refusals
 * (docs/CARDS.md), its own pair is put there with pkcs11-tool first, and
 * session keys live on the companion token (capi11.conf(5)), which adds
 * one rule to the table: a wrap needs the key and its wrapping key on one
 * token. */
#include "config.h"
#include <wincrypt.h>

#include "blob.h"
#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A bit CryptExportKey does not document. */
#define UNDOCUMENTED_FLAG 0x00010000u
#define BIG 8192
#define N_ELEMENTS(a) (sizeof (a) / sizeof ((a)[0]))

static char *label1, *label2;   /* two throwaway tokens */
static char *uri1, *uri2;
/* The card profile the program runs under (testutil.h), and token 1's
 * URI straight to SoftHSM, where the security officer provisions it. */
static enum testutil_card card;
static char *uri1_direct;
static const char *sensitive_provider = "sensitive";

/* ---- helpers ---- */

/* The container pkcs11-tool provisions on token 1 as a card's own: openssl's
 * rsa1024 as its exchange key (testutil_card_keys_load). */
#define CARD_CONTAINER "mx-card"

static HCRYPTPROV open_existing(const char *provider, const char *name);

/* A new container; on a card that stores none (write-protected), the
 * documented NTE_PERM (docs/CARDS.md), and the container the card came
 * with instead. */
static HCRYPTPROV open_new(const char *provider, const char *name)
{
	HCRYPTPROV h = 0;

	if (card == CARD_READONLY) {
		CHECK_FAILS_WITH(CryptAcquireContextA(&h, name, provider, PROV_RSA_FULL,
						      CRYPT_NEWKEYSET), NTE_PERM);
		return open_existing(provider, CARD_CONTAINER);
	}
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, name, provider, PROV_RSA_FULL,
						  CRYPT_NEWKEYSET));
	return h;
}

static HCRYPTPROV open_existing(const char *provider, const char *name)
{
	HCRYPTPROV h = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, name, provider, PROV_RSA_FULL, 0));
	return h;
}

/* openssl enc over a buffer: cipher like "aes-256-cbc", key and IV in
 * hex, decrypt or encrypt, nopad to leave the padding alone. */
static BYTE *openssl_enc(const char *cipher, const char *key_hex, const char *iv_hex, bool decrypt,
			 bool nopad, const BYTE *in, DWORD in_len, DWORD *out_len, int *status)
{
	char *in_path = testutil_temp_write("matrix", in, in_len);
	char *out_path = testutil_temp_path("enc");
	char *out;
	BYTE *result = NULL;

	out = fixture_capture(status, "%s enc -%s %s %s -K %s -iv %s -in %s -out %s", OPENSSL_BIN,
			      cipher, decrypt ? "-d" : "-e", nopad ? "-nopad" : "", key_hex, iv_hex,
			      in_path, out_path);
	free(out);
	if (*status == 0)
		result = testutil_file_read(out_path, out_len);
	free(in_path);
	free(out_path);
	return result;
}

/* The "Access:" line pkcs11-tool prints for the private key labelled
 * name, malloc'd. */
static char *token_privkey_access(const char *token, const char *name)
{
	char *out = NULL, *p, *q, *access = NULL;
	int st = fixture_pkcs11_tool(token, true, &out, "--list-objects --type privkey");

	CU_ASSERT_EQUAL_FATAL(st, 0);
	for (p = strstr(out, "label:"); p != NULL; p = strstr(p + 1, "label:")) {
		q = p + strlen("label:");
		while (*q == ' ')
			q++;
		if (strncmp(q, name, strlen(name)) != 0 || (q[strlen(name)] != '\n' &&
							     q[strlen(name)] != ' '))
			continue;
		q = strstr(q, "Access:");
		if (q != NULL) {
			size_t n = strcspn(q, "\n");

			access = strndup(q, n);
		}
		break;
	}
	free(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(access);
	return access;
}

static DWORD key_permissions(HCRYPTKEY k)
{
	DWORD perms = 0, len = sizeof perms;

	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_PERMISSIONS, (BYTE *)&perms, &len, 0));
	return perms;
}

/* ---- the matrix ---- */

/* What SPEC sections 3 and 4 make of a key's origin. */
enum klass {
	K_RSA_EXPORT,     /* pair with CKA_EXTRACTABLE TRUE, CKA_SENSITIVE FALSE */
	K_RSA_LOCKED,     /* pair that is sensitive or not extractable */
	K_SESSION_EXPORT, /* AES/3DES session key made or imported with CRYPT_EXPORTABLE */
	K_SESSION_LOCKED, /* the same without CRYPT_EXPORTABLE */
	K_KEK,            /* wrap-only key-encryption key, not exportable (trusted or not) */
	K_RSA_SENSITIVE,  /* pair made exportable under exportable-policy = sensitive */
	K_SESSION_SENSITIVE, /* session key made exportable under the sensitive policy */
	K_SESSION_ARRIVED, /* session key that arrived wrapped, CRYPT_EXPORTABLE, plain policy */
	N_KLASSES,
	/* The trusted KEK itself: a K_KEK that stays on a card's token. */
	K_TRUSTED_KEK = N_KLASSES
};

/* hExpKey of a column: none, the RSA public key of a PUBLICKEYBLOB (a
 * published test vector, not trusted by the token), an AES-256 session
 * key, a wrap-only AES-256 key-encryption key made by CryptGenKey, one
 * imported from a PLAINTEXTKEYBLOB the caller knows (CRYPT_KEK), and the
 * trusted key-encryption key the security officer made
 * (CryptGetUserKey(CAPI11_AT_KEK) after Capi11TrustKeyA). */
enum hexp { EXP_NONE, EXP_PUB, EXP_AES, EXP_KEK, EXP_KNOWN_KEK, EXP_TRUSTED_KEK };

enum col {
	COL_PUBLIC,
	COL_PUBLIC_EXP,
	COL_PRIVATE,
	COL_PRIVATE_ENC,
	COL_SIMPLE,
	COL_SIMPLE_NOEXP,
	COL_PLAINTEXT,
	COL_SYMWRAP,
	COL_SYMWRAP_KNOWN,
	COL_SYMWRAP_TRUSTED,
	COL_UNKNOWN,
	/* last: CRYPT_DESTROYKEY may take the key, after which every cell of
	 * the row is NTE_BAD_KEY */
	COL_OPAQUE_KNOWN,
	COL_OPAQUE_TRUSTED,
	COL_OPAQUE,
	N_COLS
};

static const struct column {
	const char *name;
	DWORD type;
	enum hexp exp;
} columns[N_COLS] = {
	[COL_PUBLIC] = { "PUBLICKEYBLOB", PUBLICKEYBLOB, EXP_NONE },
	[COL_PUBLIC_EXP] = { "PUBLICKEYBLOB/hExpKey", PUBLICKEYBLOB, EXP_AES },
	[COL_PRIVATE] = { "PRIVATEKEYBLOB", PRIVATEKEYBLOB, EXP_NONE },
	[COL_PRIVATE_ENC] = { "PRIVATEKEYBLOB/AES", PRIVATEKEYBLOB, EXP_AES },
	[COL_SIMPLE] = { "SIMPLEBLOB", SIMPLEBLOB, EXP_PUB },
	[COL_SIMPLE_NOEXP] = { "SIMPLEBLOB/no hExpKey", SIMPLEBLOB, EXP_NONE },
	[COL_PLAINTEXT] = { "PLAINTEXTKEYBLOB", PLAINTEXTKEYBLOB, EXP_NONE },
	[COL_SYMWRAP] = { "SYMMETRICWRAPKEYBLOB/KEK", SYMMETRICWRAPKEYBLOB, EXP_KEK },
	[COL_SYMWRAP_KNOWN] = { "SYMMETRICWRAPKEYBLOB/caller knows a KEK", SYMMETRICWRAPKEYBLOB,
				EXP_KNOWN_KEK },
	[COL_SYMWRAP_TRUSTED] = { "SYMMETRICWRAPKEYBLOB/trusted KEK", SYMMETRICWRAPKEYBLOB,
				  EXP_TRUSTED_KEK },
	[COL_UNKNOWN] = { "unknown type 0x42", 0x42, EXP_NONE },
	[COL_OPAQUE_KNOWN] = { "OPAQUEKEYBLOB/caller knows a KEK", OPAQUEKEYBLOB, EXP_KNOWN_KEK },
	[COL_OPAQUE_TRUSTED] = { "OPAQUEKEYBLOB/trusted KEK", OPAQUEKEYBLOB, EXP_TRUSTED_KEK },
	[COL_OPAQUE] = { "OPAQUEKEYBLOB/KEK", OPAQUEKEYBLOB, EXP_KEK },
};

static bool col_is_opaque(enum col c)
{
	return columns[c].type == OPAQUEKEYBLOB;
}

/* The flags, CRYPT_DESTROYKEY last for the same reason. */
static const struct flag {
	const char *name;
	DWORD value;
} flags[] = {
	{ "0", 0 },
	{ "CRYPT_OAEP", CRYPT_OAEP },
	{ "CRYPT_SSL2_FALLBACK", CRYPT_SSL2_FALLBACK },
	{ "CRYPT_BLOB_VER3", CRYPT_BLOB_VER3 },
	{ "CRYPT_Y_ONLY", CRYPT_Y_ONLY },
	{ "undocumented 0x10000", UNDOCUMENTED_FLAG },
	{ "CRYPT_DESTROYKEY", CRYPT_DESTROYKEY },
};

/* ---- where a key lives on a card ---- */

/* On a card profile (capi11.conf(5), "companion"): key pairs, and the
 * trusted key-encryption key the security officer made, are the card's;
 * every session key, wrap-only key-encryption keys and a caller's known
 * KEK included, is made on the companion, as the card makes no secret
 * key. On SoftHSM everything is the token's. */
static bool klass_on_companion(enum klass k);

static bool wrapper_on_companion(enum hexp e)
{
	return card != CARD_SOFTHSM && (e == EXP_AES || e == EXP_KEK || e == EXP_KNOWN_KEK);
}

/* What a card answers when a row asks for a key pair or a private key
 * (docs/CARDS.md, "Clear answers where the card cannot"): a
 * write-protected card NTE_PERM; a PIV card, which neither generates pairs
 * nor creates objects, NTE_NOT_SUPPORTED; a TPM makes pairs, but no
 * extractable private key (NTE_BAD_FLAGS, CRYPT_EXPORTABLE being what
 * cannot be honoured) and takes no private key made elsewhere
 * (NTE_NOT_SUPPORTED). */
enum pair_origin { PAIR_GENERATED, PAIR_IMPORTED };

static DWORD pair_answer(enum pair_origin o, bool exportable)
{
	switch (card) {
	case CARD_TPM:
		if (exportable)
			return NTE_BAD_FLAGS;
		return o == PAIR_GENERATED ? ERROR_SUCCESS : NTE_NOT_SUPPORTED;
	case CARD_PIV:
		return NTE_NOT_SUPPORTED;
	case CARD_READONLY:
		return NTE_PERM;
	case CARD_SOFTHSM:
	default:
		return ERROR_SUCCESS;
	}
}

/* A key a row needs: made (true), or refused as pair_answer says; any
 * other answer fails the test. */
static bool row_key_made(const char *what, BOOL ok, DWORD want)
{
	DWORD got = ok ? ERROR_SUCCESS : GetLastError();

	if (got != want)
		fprintf(stderr, "%s on %s: expected 0x%08x, got 0x%08x\n", what,
			testutil_card_name(card), (unsigned)want, (unsigned)got);
	CU_ASSERT_EQUAL(got, want);
	return ok && got == want;
}

#define ROW_KEY(call, want) (SetLastError(SENTINEL), row_key_made(#call, (call), (want)))

#define OK ERROR_SUCCESS

/* CryptExportKey's answer with dwFlags 0 (or a documented flag that does
 * not apply), from SPEC section 4. */
static const DWORD expected[N_KLASSES][N_COLS] = {
	[K_RSA_EXPORT] = {
		[COL_PUBLIC] = OK,                     /* PUBLICKEYBLOB row: any RSA key */
		[COL_PUBLIC_EXP] = NTE_BAD_KEY,        /* PUBLICKEYBLOB with a non-zero valid hExpKey */
		[COL_PRIVATE] = OK,                    /* extractable and not sensitive */
		[COL_PRIVATE_ENC] = OK,                /* "PRIVATEKEYBLOB, hExpKey = a session key" row */
		[COL_SIMPLE] = NTE_BAD_KEY,            /* SIMPLEBLOB carries session keys only */
		[COL_SIMPLE_NOEXP] = NTE_BAD_PUBLIC_KEY, /* SIMPLEBLOB with hExpKey = 0 */
		[COL_PLAINTEXT] = NTE_BAD_KEY,         /* a pair has no PLAINTEXTKEYBLOB form */
		[COL_SYMWRAP] = NTE_BAD_KEY,           /* no defined wrap of a pair under AES */
		[COL_SYMWRAP_KNOWN] = NTE_BAD_KEY,
		[COL_SYMWRAP_TRUSTED] = NTE_BAD_KEY,
		[COL_UNKNOWN] = NTE_BAD_TYPE,          /* unknown blob type */
		[COL_OPAQUE_KNOWN] = OK,               /* not sensitive: wraps under any KEK (SPEC 3) */
		[COL_OPAQUE_TRUSTED] = OK,
		[COL_OPAQUE] = OK,                     /* PKCS#8 private key under the KEK */
	},
	[K_RSA_LOCKED] = {
		[COL_PUBLIC] = OK,                     /* the public half is never locked */
		[COL_PUBLIC_EXP] = NTE_BAD_KEY,
		[COL_PRIVATE] = NTE_BAD_KEY_STATE,     /* not exportable, even for a size query */
		[COL_PRIVATE_ENC] = NTE_BAD_KEY_STATE, /* the same key state rule */
		[COL_SIMPLE] = NTE_BAD_KEY,
		[COL_SIMPLE_NOEXP] = NTE_BAD_PUBLIC_KEY,
		[COL_PLAINTEXT] = NTE_BAD_KEY,
		[COL_SYMWRAP] = NTE_BAD_KEY,
		[COL_SYMWRAP_KNOWN] = NTE_BAD_KEY,
		[COL_SYMWRAP_TRUSTED] = NTE_BAD_KEY,
		[COL_UNKNOWN] = NTE_BAD_TYPE,
		[COL_OPAQUE_KNOWN] = NTE_BAD_KEY_STATE, /* never leaves, on any route (SPEC 3) */
		[COL_OPAQUE_TRUSTED] = NTE_BAD_KEY_STATE,
		[COL_OPAQUE] = NTE_BAD_KEY_STATE,      /* CKR_KEY_UNEXTRACTABLE */
	},
	[K_SESSION_EXPORT] = {
		[COL_PUBLIC] = NTE_BAD_KEY,            /* PUBLICKEYBLOB of a session key */
		[COL_PUBLIC_EXP] = NTE_BAD_KEY,
		[COL_PRIVATE] = NTE_BAD_KEY,           /* a session key has no private form */
		[COL_PRIVATE_ENC] = NTE_BAD_KEY,
		[COL_SIMPLE] = OK,                     /* SIMPLEBLOB row */
		[COL_SIMPLE_NOEXP] = NTE_BAD_PUBLIC_KEY,
		[COL_PLAINTEXT] = OK,                  /* PLAINTEXTKEYBLOB row */
		[COL_SYMWRAP] = OK,                    /* RFC 3394: AES-256 and 3DES are >= 16 bytes */
		[COL_SYMWRAP_KNOWN] = OK,              /* not sensitive: wraps under any key (SPEC 3) */
		[COL_SYMWRAP_TRUSTED] = OK,
		[COL_UNKNOWN] = NTE_BAD_TYPE,
		[COL_OPAQUE_KNOWN] = OK,
		[COL_OPAQUE_TRUSTED] = OK,
		[COL_OPAQUE] = OK,                     /* OPAQUEKEYBLOB row */
	},
	[K_SESSION_LOCKED] = {
		[COL_PUBLIC] = NTE_BAD_KEY,
		[COL_PUBLIC_EXP] = NTE_BAD_KEY,
		[COL_PRIVATE] = NTE_BAD_KEY,
		[COL_PRIVATE_ENC] = NTE_BAD_KEY,
		[COL_SIMPLE] = NTE_BAD_KEY_STATE,      /* no CRYPT_EXPORTABLE */
		[COL_SIMPLE_NOEXP] = NTE_BAD_PUBLIC_KEY,
		[COL_PLAINTEXT] = NTE_BAD_KEY_STATE,
		[COL_SYMWRAP] = NTE_BAD_KEY_STATE,     /* CKA_EXTRACTABLE FALSE */
		[COL_SYMWRAP_KNOWN] = NTE_BAD_KEY_STATE,
		[COL_SYMWRAP_TRUSTED] = NTE_BAD_KEY_STATE, /* not extractable: not even trusted */
		[COL_UNKNOWN] = NTE_BAD_TYPE,
		[COL_OPAQUE_KNOWN] = NTE_BAD_KEY_STATE,
		[COL_OPAQUE_TRUSTED] = NTE_BAD_KEY_STATE,
		[COL_OPAQUE] = NTE_BAD_KEY_STATE,
	},
	[K_KEK] = {                                    /* a non-exportable session key */
		[COL_PUBLIC] = NTE_BAD_KEY,
		[COL_PUBLIC_EXP] = NTE_BAD_KEY,
		[COL_PRIVATE] = NTE_BAD_KEY,
		[COL_PRIVATE_ENC] = NTE_BAD_KEY,
		[COL_SIMPLE] = NTE_BAD_KEY_STATE,
		[COL_SIMPLE_NOEXP] = NTE_BAD_PUBLIC_KEY,
		[COL_PLAINTEXT] = NTE_BAD_KEY_STATE,
		[COL_SYMWRAP] = NTE_BAD_KEY_STATE,
		[COL_SYMWRAP_KNOWN] = NTE_BAD_KEY_STATE,
		[COL_SYMWRAP_TRUSTED] = NTE_BAD_KEY_STATE,
		[COL_UNKNOWN] = NTE_BAD_TYPE,
		[COL_OPAQUE_KNOWN] = NTE_BAD_KEY_STATE,
		[COL_OPAQUE_TRUSTED] = NTE_BAD_KEY_STATE,
		[COL_OPAQUE] = NTE_BAD_KEY_STATE,
	},
	[K_RSA_SENSITIVE] = {                          /* CKA_SENSITIVE, CKA_WRAP_WITH_TRUSTED (SPEC 3) */
		[COL_PUBLIC] = OK,
		[COL_PUBLIC_EXP] = NTE_BAD_KEY,
		[COL_PRIVATE] = NTE_BAD_KEY_STATE,     /* CKR_ATTRIBUTE_SENSITIVE */
		[COL_PRIVATE_ENC] = NTE_BAD_KEY_STATE,
		[COL_SIMPLE] = NTE_BAD_KEY,
		[COL_SIMPLE_NOEXP] = NTE_BAD_PUBLIC_KEY,
		[COL_PLAINTEXT] = NTE_BAD_KEY,
		[COL_SYMWRAP] = NTE_BAD_KEY,
		[COL_SYMWRAP_KNOWN] = NTE_BAD_KEY,
		[COL_SYMWRAP_TRUSTED] = NTE_BAD_KEY,
		[COL_UNKNOWN] = NTE_BAD_TYPE,
		[COL_OPAQUE_KNOWN] = NTE_BAD_KEY_STATE, /* CKR_KEY_NOT_WRAPPABLE: not trusted */
		[COL_OPAQUE_TRUSTED] = OK,             /* the one way out: a trusted KEK */
		[COL_OPAQUE] = NTE_BAD_KEY_STATE,      /* a CRYPT_KEK key is not trusted either */
	},
	[K_SESSION_SENSITIVE] = {
		[COL_PUBLIC] = NTE_BAD_KEY,
		[COL_PUBLIC_EXP] = NTE_BAD_KEY,
		[COL_PRIVATE] = NTE_BAD_KEY,
		[COL_PRIVATE_ENC] = NTE_BAD_KEY,
		[COL_SIMPLE] = NTE_BAD_KEY_STATE,      /* a public key the token does not trust */
		[COL_SIMPLE_NOEXP] = NTE_BAD_PUBLIC_KEY,
		[COL_PLAINTEXT] = NTE_BAD_KEY_STATE,   /* sensitive: no plaintext */
		[COL_SYMWRAP] = NTE_BAD_KEY_STATE,
		[COL_SYMWRAP_KNOWN] = NTE_BAD_KEY_STATE,
		[COL_SYMWRAP_TRUSTED] = OK,
		[COL_UNKNOWN] = NTE_BAD_TYPE,
		[COL_OPAQUE_KNOWN] = NTE_BAD_KEY_STATE,
		[COL_OPAQUE_TRUSTED] = OK,
		[COL_OPAQUE] = NTE_BAD_KEY_STATE,
	},
	[K_SESSION_ARRIVED] = {                        /* "keys that arrive wrapped stay sensitive" */
		[COL_PUBLIC] = NTE_BAD_KEY,
		[COL_PUBLIC_EXP] = NTE_BAD_KEY,
		[COL_PRIVATE] = NTE_BAD_KEY,
		[COL_PRIVATE_ENC] = NTE_BAD_KEY,
		[COL_SIMPLE] = NTE_BAD_KEY_STATE,
		[COL_SIMPLE_NOEXP] = NTE_BAD_PUBLIC_KEY,
		[COL_PLAINTEXT] = NTE_BAD_KEY_STATE,
		[COL_SYMWRAP] = NTE_BAD_KEY_STATE,
		[COL_SYMWRAP_KNOWN] = NTE_BAD_KEY_STATE,
		[COL_SYMWRAP_TRUSTED] = OK,
		[COL_UNKNOWN] = NTE_BAD_TYPE,
		[COL_OPAQUE_KNOWN] = NTE_BAD_KEY_STATE,
		[COL_OPAQUE_TRUSTED] = OK,
		[COL_OPAQUE] = NTE_BAD_KEY_STATE,
	},
};

/* KP_PERMISSIONS has CRYPT_EXPORT (SPEC section 3): CKA_EXTRACTABLE TRUE
 * and CKA_SENSITIVE FALSE; under the sensitive policy, CKA_EXTRACTABLE
 * TRUE. A key that arrived wrapped on the plain policy is sensitive. */
static bool klass_exportable(enum klass k)
{
	return k == K_RSA_EXPORT || k == K_SESSION_EXPORT || k == K_RSA_SENSITIVE ||
	       k == K_SESSION_SENSITIVE;
}

/* Flags come first, as in rsaenh: bits outside the five documented ones
 * are NTE_BAD_FLAGS (capi11's rule), CRYPT_SSL2_FALLBACK on anything but
 * a CALG_SSL2_MASTER key is NTE_BAD_KEY; the other documented flags
 * change nothing where they do not apply (CRYPT_OAEP only picks OAEP in
 * SIMPLEBLOB, CRYPT_DESTROYKEY acts after an OPAQUEKEYBLOB export,
 * CRYPT_BLOB_VER3 is for DSS/DH, CRYPT_Y_ONLY is unused). */
static DWORD expected_code(enum klass k, enum col c, DWORD flag, bool destroyed)
{
	if (flag & UNDOCUMENTED_FLAG)
		return NTE_BAD_FLAGS;
	if (flag & CRYPT_SSL2_FALLBACK)
		return NTE_BAD_KEY;
	/* Moved away by CRYPT_DESTROYKEY: "a key destroyed by
	 * CRYPT_DESTROYKEY" is NTE_BAD_KEY (wincrypt.h). */
	if (destroyed)
		return NTE_BAD_KEY;
	/* A card's key and a wrapping key on the companion, or the other way
	 * round: no token holds both, and capi11.conf(5) says NTE_BAD_KEY,
	 * "as for any key without a defined wrap" -- which the table puts
	 * before the key's state (a pair's SYMMETRICWRAPKEYBLOB is
	 * NTE_BAD_KEY, exportable or not). It hides the softokn companion's
	 * own rule (no sensitive key leaves it: NTE_BAD_KEY_STATE) in every
	 * cell where that rule would turn a success into a refusal, as those
	 * are the trusted KEK's cells. */
	if ((columns[c].type == SYMMETRICWRAPKEYBLOB || columns[c].type == OPAQUEKEYBLOB) &&
	    klass_on_companion(k) != wrapper_on_companion(columns[c].exp))
		return NTE_BAD_KEY;
	return expected[k == K_TRUSTED_KEK ? K_KEK : k][c];
}

static bool klass_on_companion(enum klass k)
{
	return card != CARD_SOFTHSM && k != K_RSA_EXPORT && k != K_RSA_LOCKED &&
	       k != K_RSA_SENSITIVE && k != K_TRUSTED_KEK;
}

static const char *code_name(DWORD code)
{
	switch (code) {
	case OK: return "success";
	case NTE_BAD_KEY: return "NTE_BAD_KEY";
	case NTE_BAD_KEY_STATE: return "NTE_BAD_KEY_STATE";
	case NTE_BAD_PUBLIC_KEY: return "NTE_BAD_PUBLIC_KEY";
	case NTE_BAD_TYPE: return "NTE_BAD_TYPE";
	case NTE_BAD_FLAGS: return "NTE_BAD_FLAGS";
	case NTE_NOT_SUPPORTED: return "NTE_NOT_SUPPORTED";
	case NTE_BAD_DATA: return "NTE_BAD_DATA";
	case ERROR_INVALID_PARAMETER: return "ERROR_INVALID_PARAMETER";
	case ERROR_MORE_DATA: return "ERROR_MORE_DATA";
	default: return "another code";
	}
}

/* Cells checked and failed by the running row (run_row resets them). */
static int cells_run, cells_failed;

static void cell_check(bool ok, const char *row, enum col c, const struct flag *f,
		       const char *what, DWORD want, DWORD got)
{
	char msg[320];

	cells_run++;
	if (ok)
		return;
	cells_failed++;
	snprintf(msg, sizeof msg, "%s x %s x %s (%s): expected %s 0x%08x, got %s 0x%08x", row,
		 columns[c].name, f->name, what, code_name(want), (unsigned)want, code_name(got),
		 (unsigned)got);
	fprintf(stderr, "CELL FAILED: %s\n", msg);
	CU_assertImplementation(CU_FALSE, __LINE__, msg, __FILE__, "", CU_FALSE);
}

/* The keys a row's columns name as hExpKey, made in the row's context;
 * the trusted KEK is the one of container "mx-trusted" on the same token
 * (suite_init), held by a context of its own. */
struct wrappers {
	HCRYPTKEY pub, aes, kek, known, trusted;
	HCRYPTPROV trusted_prov;
};

/* A key-encryption key whose bytes the caller knows. */
static const BYTE known_kek[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static void wrappers_make(HCRYPTPROV h, struct wrappers *w)
{
	DWORD len;
	BYTE *pub = testutil_vector_read("rsa1024-pub.blob", &len), blob[12 + 32];

	memset(w, 0, sizeof *w);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, len, 0, 0, &w->pub));
	len = testutil_plaintext_blob(blob, CALG_AES_256, known_kek, 32);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, 0, CRYPT_KEK, &w->known));
	w->trusted_prov = open_existing(uri1, "mx-trusted");
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(w->trusted_prov, CAPI11_AT_KEK, &w->trusted));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_EXPORTABLE, &w->aes));
	/* Until wrap-only keys exist this fails, and the KEK columns with it. */
	SetLastError(SENTINEL);
	if (!CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &w->kek)) {
		fprintf(stderr, "CryptGenKey(CALG_AES_256, CRYPT_KEK) failed 0x%08x\n",
			(unsigned)GetLastError());
		CU_FAIL("no wrap-only KEK");
		w->kek = 0;
	}
	free(pub);
}

static void wrappers_free(struct wrappers *w)
{
	if (w->kek)
		CryptDestroyKey(w->kek);
	CryptDestroyKey(w->aes);
	CryptDestroyKey(w->pub);
	CryptDestroyKey(w->known);
	CryptDestroyKey(w->trusted);
	CU_ASSERT_TRUE(CryptReleaseContext(w->trusted_prov, 0));
}

static HCRYPTKEY wrapper(const struct wrappers *w, enum hexp e)
{
	switch (e) {
	case EXP_PUB: return w->pub;
	case EXP_AES: return w->aes;
	case EXP_KEK: return w->kek;
	case EXP_KNOWN_KEK: return w->known;
	case EXP_TRUSTED_KEK: return w->trusted;
	default: return 0;
	}
}

/* One cell: the size query, then the real export into a large buffer.
 * Both give the expected code; a successful export is a blob of the
 * asked type whose length is the size the query gave (OPAQUEKEYBLOB: at
 * most that, the DER of a PKCS#8 key may be shorter than its bound), and
 * a buffer one byte short of it is ERROR_MORE_DATA with the size. */
static void run_cell(const char *row, enum klass k, HCRYPTKEY key, ALG_ID alg,
		     const struct wrappers *w, enum col c, const struct flag *f, bool *destroyed)
{
	const struct column *col = &columns[c];
	DWORD want = expected_code(k, c, f->value, *destroyed), got, size = 0, len;
	HCRYPTKEY exp = wrapper(w, col->exp);
	static BYTE buf[BIG];
	BOOL ok;

	SetLastError(SENTINEL);
	ok = CryptExportKey(key, exp, col->type, f->value, NULL, &size);
	got = ok ? OK : GetLastError();
	cell_check(got == want && (!ok || size > 8), row, c, f, "size query", want, got);

	if (want == OK && ok && !col_is_opaque(c) && size > 9) {
		len = size - 1;
		SetLastError(SENTINEL);
		ok = CryptExportKey(key, exp, col->type, f->value, buf, &len);
		got = ok ? OK : GetLastError();
		cell_check(!ok && got == ERROR_MORE_DATA && len == size, row, c, f,
			   "buffer one byte short", ERROR_MORE_DATA, got);
	}

	len = sizeof buf;
	SetLastError(SENTINEL);
	ok = CryptExportKey(key, exp, col->type, f->value, buf, &len);
	got = ok ? OK : GetLastError();
	cell_check(got == want, row, c, f, "export", want, got);
	if (!ok || want != OK)
		return;
	cell_check(col_is_opaque(c) ? len <= size : len == size, row, c, f, "length = size query",
		   size, len);
	cell_check(len >= 8 && buf[0] == col->type && buf[1] == 2 && buf[2] == 0 && buf[3] == 0 &&
		   testutil_le32(buf + 4) == alg, row, c, f, "BLOBHEADER", OK, OK);
	/* CRYPT_DESTROYKEY moved the key into the blob: nothing is left to
	 * export from the handle. */
	if (col_is_opaque(c) && (f->value & CRYPT_DESTROYKEY)) {
		*destroyed = true;
		len = sizeof buf;
		SetLastError(SENTINEL);
		ok = CryptExportKey(key, 0, alg == CALG_RSA_KEYX || alg == CALG_RSA_SIGN
				    ? PUBLICKEYBLOB : PLAINTEXTKEYBLOB, 0, buf, &len);
		got = ok ? OK : GetLastError();
		cell_check(!ok, row, c, f, "export after CRYPT_DESTROYKEY", NTE_BAD_KEY, got);
	}
}

/* How many checks run_row makes on a row of klass k when every cell
 * gives what the table says: the permission, then per flag and column the
 * size query and the export, and for a blob made: the buffer one byte
 * short (not OPAQUEKEYBLOB, whose query is a bound), its length and
 * header, and after CRYPT_DESTROYKEY the export that must fail. */
static int row_cells(enum klass k)
{
	int n = 1;

	for (size_t f = 0; f < N_ELEMENTS(flags); f++) {
		bool destroyed = false;

		for (size_t c = 0; c < N_COLS; c++) {
			n += 2;
			if (expected_code(k, (enum col)c, flags[f].value, destroyed) != OK)
				continue;
			n += 2 + !col_is_opaque((enum col)c);
			if (col_is_opaque((enum col)c) && (flags[f].value & CRYPT_DESTROYKEY)) {
				n++;
				destroyed = true;
			}
		}
	}
	return n;
}

/* Runs every cell of a row; returns the checks made, which must be what
 * row_cells counts. */
static int run_row(const char *row, enum klass k, HCRYPTPROV h, HCRYPTKEY key)
{
	struct wrappers w;
	DWORD alg = 0, alg_len = sizeof alg, perms;
	size_t c, f;

	cells_run = cells_failed = 0;
	CU_ASSERT_TRUE_FATAL(CryptGetKeyParam(key, KP_ALGID, (BYTE *)&alg, &alg_len, 0));
	/* SPEC section 3: CRYPT_EXPORT in KP_PERMISSIONS exactly when the key
	 * is exportable. */
	perms = key_permissions(key);
	cell_check(((perms & CRYPT_EXPORT) != 0) == klass_exportable(k), row, COL_PLAINTEXT,
		   &flags[0], "KP_PERMISSIONS CRYPT_EXPORT", OK, perms);
	wrappers_make(h, &w);
	for (f = 0; f < N_ELEMENTS(flags); f++) {
		bool destroyed = false;

		for (c = 0; c < N_COLS; c++)
			run_cell(row, k, key, alg, &w, (enum col)c, &flags[f], &destroyed);
	}
	wrappers_free(&w);
	if (cells_run != row_cells(k))
		fprintf(stderr, "%s: %d checks, expected %d\n", row, cells_run, row_cells(k));
	CU_ASSERT_EQUAL(cells_run, row_cells(k));
	CU_ASSERT_EQUAL(cells_failed, 0);
	return cells_run;
}

/* RSA pairs made by CryptGenKey, exportable or not, both slots. */
static void test_matrix_rsa_generated(void)
{
	HCRYPTPROV hx = open_new(uri1, "mx-genx"), hl = open_new(uri1, "mx-genl");
	DWORD exportable = pair_answer(PAIR_GENERATED, true);
	DWORD locked = pair_answer(PAIR_GENERATED, false);
	HCRYPTKEY k;

	if (ROW_KEY(CryptGenKey(hx, AT_KEYEXCHANGE, 1024 << 16 | CRYPT_EXPORTABLE, &k),
		    exportable)) {
		run_row("RSA exchange, generated exportable", K_RSA_EXPORT, hx, k);
		CryptDestroyKey(k);
	}
	if (ROW_KEY(CryptGenKey(hx, AT_SIGNATURE, 1024 << 16 | CRYPT_EXPORTABLE, &k), exportable)) {
		run_row("RSA signature, generated exportable", K_RSA_EXPORT, hx, k);
		CryptDestroyKey(k);
	}
	if (ROW_KEY(CryptGenKey(hl, AT_KEYEXCHANGE, 1024 << 16, &k), locked)) {
		run_row("RSA exchange, generated", K_RSA_LOCKED, hl, k);
		CryptDestroyKey(k);
	}
	if (ROW_KEY(CryptGenKey(hl, AT_SIGNATURE, 1024 << 16, &k), locked)) {
		run_row("RSA signature, generated", K_RSA_LOCKED, hl, k);
		CryptDestroyKey(k);
	}
	CU_ASSERT_TRUE(CryptReleaseContext(hx, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(hl, 0));
}

/* RSA pairs imported from openssl's PRIVATEKEYBLOB (tests/vectors). */
static void test_matrix_rsa_imported(void)
{
	HCRYPTPROV hx = open_new(uri1, "mx-impx"), hl = open_new(uri1, "mx-impl");
	HCRYPTKEY k;
	DWORD len;
	BYTE *priv = testutil_vector_read("rsa1024-priv.blob", &len);

	if (ROW_KEY(CryptImportKey(hx, priv, len, 0, CRYPT_EXPORTABLE, &k),
		    pair_answer(PAIR_IMPORTED, true))) {
		run_row("RSA imported with CRYPT_EXPORTABLE", K_RSA_EXPORT, hx, k);
		CryptDestroyKey(k);
	}
	if (ROW_KEY(CryptImportKey(hl, priv, len, 0, 0, &k), pair_answer(PAIR_IMPORTED, false))) {
		run_row("RSA imported", K_RSA_LOCKED, hl, k);
		CryptDestroyKey(k);
	}
	CU_ASSERT_TRUE(CryptReleaseContext(hx, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(hl, 0));
	free(priv);
}

/* The pair `pkcs11-tool --keypairgen` made in main(): SoftHSM gives its
 * private key CKA_SENSITIVE TRUE and CKA_EXTRACTABLE FALSE (pkcs11-tool
 * sets neither unless asked), and decrypt/unwrap usage, so it is the
 * exchange key of a container named by its label. */
static void test_matrix_rsa_foreign(void)
{
	char *access = token_privkey_access(label1, "mx-tool");
	HCRYPTPROV h;
	HCRYPTKEY k;

	CU_ASSERT_PTR_NOT_NULL(strstr(access, "sensitive"));
	CU_ASSERT_PTR_NOT_NULL(strstr(access, "never extractable"));
	free(access);
	h = open_existing(uri1, "mx-tool");
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	run_row("RSA from pkcs11-tool --keypairgen", K_RSA_LOCKED, h, k);
	CryptDestroyKey(k);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static const BYTE key_bytes[32] = {
	0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d, 0x77, 0x81,
	0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4,
};

/* AES-256 and 3DES session keys, generated or imported from a
 * PLAINTEXTKEYBLOB, exportable or not; a wrap-only KEK. */
static void test_matrix_session(void)
{
	HCRYPTPROV h = open_new(uri1, "mx-sess");
	static const struct {
		const char *name;
		ALG_ID alg;
		DWORD key_len;
		bool imported, exportable;
	} rows[] = {
		{ "AES-256, generated exportable", CALG_AES_256, 32, false, true },
		{ "AES-256, generated", CALG_AES_256, 32, false, false },
		{ "3DES, generated exportable", CALG_3DES, 24, false, true },
		{ "3DES, generated", CALG_3DES, 24, false, false },
		{ "AES-256, imported exportable", CALG_AES_256, 32, true, true },
		{ "AES-256, imported", CALG_AES_256, 32, true, false },
		{ "3DES, imported exportable", CALG_3DES, 24, true, true },
		{ "3DES, imported", CALG_3DES, 24, true, false },
	};
	BYTE blob[64];
	HCRYPTKEY k;
	size_t i;

	for (i = 0; i < N_ELEMENTS(rows); i++) {
		DWORD fl = rows[i].exportable ? CRYPT_EXPORTABLE : 0;

		if (rows[i].imported) {
			DWORD len = testutil_plaintext_blob(blob, rows[i].alg, key_bytes,
							      rows[i].key_len);

			CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, 0, fl, &k));
		} else {
			CU_ASSERT_TRUE_FATAL(CryptGenKey(h, rows[i].alg, fl, &k));
		}
		run_row(rows[i].name, rows[i].exportable ? K_SESSION_EXPORT : K_SESSION_LOCKED, h, k);
		CryptDestroyKey(k);
	}
	SetLastError(SENTINEL);
	if (CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &k)) {
		run_row("wrap-only KEK", K_KEK, h, k);
		CryptDestroyKey(k);
	} else {
		fprintf(stderr, "CryptGenKey(CRYPT_KEK) failed 0x%08x: KEK row not run\n",
			(unsigned)GetLastError());
		CU_FAIL("CryptGenKey(CALG_AES_256, CRYPT_KEK) failed");
	}
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* Under exportable-policy = sensitive (SPEC section 3): exportable keys
 * are sensitive and wrap-with-trusted; the token's trusted KEK is a row
 * too. Keys that arrived wrapped on the plain policy behave the same. */
static void test_matrix_sensitive(void)
{
	HCRYPTPROV h = open_new(sensitive_provider, "mx-sens"), hs;
	HCRYPTPROV hp = open_new(uri1, "mx-arrived");
	static const struct {
		const char *name;
		ALG_ID alg;
		DWORD key_len;
		bool imported, exportable;
	} rows[] = {
		{ "sensitive policy: AES-256, generated exportable", CALG_AES_256, 32, false, true },
		{ "sensitive policy: AES-256, generated", CALG_AES_256, 32, false, false },
		{ "sensitive policy: 3DES, generated exportable", CALG_3DES, 24, false, true },
		{ "sensitive policy: AES-256, imported exportable", CALG_AES_256, 32, true, true },
		{ "sensitive policy: 3DES, imported exportable", CALG_3DES, 24, true, true },
		{ "sensitive policy: 3DES, imported", CALG_3DES, 24, true, false },
	};
	/* Pairs: a card's refusals as pair_answer says. */
	static const struct {
		const char *name;
		enum pair_origin origin;
		DWORD spec;
		bool exportable;
		enum klass klass;
	} pairs[] = {
		{ "sensitive policy: RSA exchange, generated exportable", PAIR_GENERATED,
		  AT_KEYEXCHANGE, true, K_RSA_SENSITIVE },
		{ "sensitive policy: RSA signature, generated exportable", PAIR_GENERATED,
		  AT_SIGNATURE, true, K_RSA_SENSITIVE },
		{ "sensitive policy: RSA imported with CRYPT_EXPORTABLE", PAIR_IMPORTED, 0, true,
		  K_RSA_SENSITIVE },
		{ "sensitive policy: RSA imported", PAIR_IMPORTED, 0, false, K_RSA_LOCKED },
	};
	DWORD len, simple_len;
	BYTE blob[64], *priv, *simple;
	HCRYPTKEY k, kx;
	int n = 0, want = 0, n_rows = 0;
	size_t i;

	for (i = 0; i < N_ELEMENTS(rows); i++) {
		DWORD fl = rows[i].exportable ? CRYPT_EXPORTABLE : 0;
		enum klass kl = rows[i].exportable ? K_SESSION_SENSITIVE : K_SESSION_LOCKED;

		if (rows[i].imported) {
			len = testutil_plaintext_blob(blob, rows[i].alg, key_bytes, rows[i].key_len);
			CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, 0, fl, &k));
		} else {
			CU_ASSERT_TRUE_FATAL(CryptGenKey(h, rows[i].alg, fl, &k));
		}
		n += run_row(rows[i].name, kl, h, k);
		want += row_cells(kl);
		n_rows++;
		CryptDestroyKey(k);
	}
	priv = testutil_vector_read("rsa1024-priv.blob", &len);
	for (i = 0; i < N_ELEMENTS(pairs); i++) {
		DWORD fl = (pairs[i].exportable ? CRYPT_EXPORTABLE : 0), made;

		made = pair_answer(pairs[i].origin, pairs[i].exportable);
		if (pairs[i].origin == PAIR_GENERATED ?
		    !ROW_KEY(CryptGenKey(h, pairs[i].spec, 1024 << 16 | fl, &k), made) :
		    !ROW_KEY(CryptImportKey(h, priv, len, 0, fl, &k), made))
			continue;
		n += run_row(pairs[i].name, pairs[i].klass, h, k);
		want += row_cells(pairs[i].klass);
		n_rows++;
		CryptDestroyKey(k);
	}

	/* The trusted key-encryption key itself never leaves. */
	hs = open_existing(uri1, "mx-trusted");
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(hs, CAPI11_AT_KEK, &k));
	n += run_row("trusted KEK (Capi11TrustKeyA)", K_TRUSTED_KEK, hs, k);
	want += row_cells(K_TRUSTED_KEK);
	n_rows++;
	CryptDestroyKey(k);
	CU_ASSERT_TRUE(CryptReleaseContext(hs, 0));

	/* A SIMPLEBLOB imported with CRYPT_EXPORTABLE under the plain policy,
	 * to openssl's rsa1024: imported here, or the card's own. */
	if (card == CARD_SOFTHSM) {
		CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, priv, len, 0, 0, &kx));
	} else {
		CU_ASSERT_TRUE(CryptReleaseContext(hp, 0));
		hp = open_existing(uri1, CARD_CONTAINER);
		CU_ASSERT_TRUE_FATAL(CryptGetUserKey(hp, AT_KEYEXCHANGE, &kx));
	}
	simple = testutil_vector_read("rsa1024-simple.blob", &simple_len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hp, simple, simple_len, kx, CRYPT_EXPORTABLE, &k));
	n += run_row("plain policy: AES-128 from a SIMPLEBLOB, CRYPT_EXPORTABLE", K_SESSION_ARRIVED,
		     hp, k);
	want += row_cells(K_SESSION_ARRIVED);
	n_rows++;
	CryptDestroyKey(k);
	CryptDestroyKey(kx);
	free(simple);
	free(priv);

	CU_ASSERT_EQUAL(n, want);
	CU_ASSERT(n >= n_rows * (N_COLS * (int)N_ELEMENTS(flags) * 2 + 1));
	/* Every row on SoftHSM; on a card, all but the pairs, which are
	 * exportable or made elsewhere. */
	CU_ASSERT_EQUAL(n_rows, 12 - (card == CARD_SOFTHSM ? 0 : (int)N_ELEMENTS(pairs)));
	CU_ASSERT_TRUE(CryptReleaseContext(hp, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* The counting itself, on a row of its own: every cell of it runs, each
 * with at least the size query and the export, and the count is the one
 * the table predicts (a cell skipped or cut short by a fatal assertion
 * would show). */
static void test_matrix_summary(void)
{
	HCRYPTPROV h = open_new(uri1, "mx-count");
	HCRYPTKEY k;
	int n, m;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_EXPORTABLE, &k));
	n = run_row("counted: AES-256, generated exportable", K_SESSION_EXPORT, h, k);
	CryptDestroyKey(k);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, 0, &k));
	m = run_row("counted: AES-256, generated", K_SESSION_LOCKED, h, k);
	CryptDestroyKey(k);
	fprintf(stderr, "matrix: %d + %d checks in the counted rows\n", n, m);
	CU_ASSERT_EQUAL(n, row_cells(K_SESSION_EXPORT));
	CU_ASSERT_EQUAL(m, row_cells(K_SESSION_LOCKED));
	/* 1 + columns x flags x (query + export), at the least */
	CU_ASSERT_EQUAL(m, 1 + N_COLS * (int)N_ELEMENTS(flags) * 2);
	CU_ASSERT(n > m);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- PRIVATEKEYBLOB encrypted under a session key ---- */

/* The BLOBHEADER in clear, the rest exactly what openssl's CBC with a
 * zero IV and PKCS#5 padding (CryptEncrypt's defaults) makes of it. */
static void check_encrypted_private(const BYTE *plain, DWORD plain_len, const BYTE *enc,
				    DWORD enc_len, const char *cipher, const BYTE *key,
				    DWORD key_len, DWORD block, const BYTE *iv)
{
	static const BYTE zero[16];
	char *key_hex = testutil_hex_new(key, key_len);
	char *iv_hex = testutil_hex_new(iv ? iv : zero, block);
	DWORD out_len = 0;
	BYTE *out;
	int st = -1;

	CU_ASSERT_EQUAL(enc_len, 8 + ((plain_len - 8) / block + 1) * block);
	CU_ASSERT_EQUAL(memcmp(enc, plain, 8), 0);
	out = openssl_enc(cipher, key_hex, iv_hex, true, false, enc + 8, enc_len - 8, &out_len, &st);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	CU_ASSERT_EQUAL(out_len, plain_len - 8);
	CU_ASSERT(out_len == plain_len - 8 && memcmp(out, plain + 8, out_len) == 0);
	free(out);
	free(iv_hex);
	free(key_hex);
}

static void test_private_encrypted_export(void)
{
	HCRYPTPROV h = open_new(uri1, "penc");
	HCRYPTKEY rsa, locked, aes, des3, sig, kek;
	DWORD plain_len, enc_len, enc2_len, key_len, size = 0, len;
	BYTE *plain, *enc, *enc2, *key, buf[BIG];

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16 | CRYPT_EXPORTABLE, &rsa));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 1024 << 16, &locked));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_EXPORTABLE, &aes));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_3DES, CRYPT_EXPORTABLE, &des3));
	plain = testutil_blob_export(rsa, 0, PRIVATEKEYBLOB, 0, &plain_len);
	CU_ASSERT_EQUAL_FATAL(plain_len, 20 + 128 + 5 * 64 + 128);

	/* AES-256: the size query is the padded length. */
	CU_ASSERT_TRUE(CryptExportKey(rsa, aes, PRIVATEKEYBLOB, 0, NULL, &size));
	CU_ASSERT_EQUAL(size, 8 + ((plain_len - 8) / 16 + 1) * 16);
	enc = testutil_blob_export(rsa, aes, PRIVATEKEYBLOB, 0, &enc_len);
	key = testutil_blob_export(aes, 0, PLAINTEXTKEYBLOB, 0, &key_len);
	check_encrypted_private(plain, plain_len, enc, enc_len, "aes-256-cbc", key + 12, 32, 16,
				NULL);
	/* Final = TRUE sets the chaining value back: the same blob again. */
	enc2 = testutil_blob_export(rsa, aes, PRIVATEKEYBLOB, 0, &enc2_len);
	CU_ASSERT(enc2_len == enc_len && memcmp(enc, enc2, enc_len) == 0);
	/* Buffer rules: one byte short stores the size. */
	len = enc_len - 1;
	CHECK_FAILS_WITH(CryptExportKey(rsa, aes, PRIVATEKEYBLOB, 0, buf, &len), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, enc_len);
	free(enc2);
	free(enc);
	free(key);

	/* 3DES, 8-byte blocks. */
	enc = testutil_blob_export(rsa, des3, PRIVATEKEYBLOB, 0, &enc_len);
	key = testutil_blob_export(des3, 0, PLAINTEXTKEYBLOB, 0, &key_len);
	check_encrypted_private(plain, plain_len, enc, enc_len, "des-ede3-cbc", key + 12, 24, 8,
				NULL);
	free(enc);

	/* The session key's own IV (KP_IV)... */
	{
		static const BYTE iv[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

		CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(des3, KP_IV, iv, 0));
		enc = testutil_blob_export(rsa, des3, PRIVATEKEYBLOB, 0, &enc_len);
		check_encrypted_private(plain, plain_len, enc, enc_len, "des-ede3-cbc", key + 12, 24,
					8, iv);
		free(enc);
	}
	free(key);
	/* ...and its own mode (KP_MODE ECB). */
	{
		DWORD mode = CRYPT_MODE_ECB;

		CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(aes, KP_MODE, (const BYTE *)&mode, 0));
		enc = testutil_blob_export(rsa, aes, PRIVATEKEYBLOB, 0, &enc_len);
		key = testutil_blob_export(aes, 0, PLAINTEXTKEYBLOB, 0, &key_len);
		check_encrypted_private(plain, plain_len, enc, enc_len, "aes-256-ecb", key + 12, 32,
					16, NULL);
		free(enc);
		free(key);
	}

	/* A key that may not leave, even for a size query; an RSA key does
	 * not encrypt blobs. */
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(locked, aes, PRIVATEKEYBLOB, 0, NULL, &size),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(locked, aes, PRIVATEKEYBLOB, 0, buf, &len),
			 NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &sig));
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(rsa, sig, PRIVATEKEYBLOB, 0, buf, &len), NTE_BAD_KEY);
	/* A wrap-only key encrypts no data (SPEC section 3), blobs included. */
	if (CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &kek)) {
		len = sizeof buf;
		CHECK_FAILS_WITH(CryptExportKey(rsa, kek, PRIVATEKEYBLOB, 0, NULL, &size),
				 NTE_BAD_KEY);
		CHECK_FAILS_WITH(CryptExportKey(rsa, kek, PRIVATEKEYBLOB, 0, buf, &len),
				 NTE_BAD_KEY);
		CryptDestroyKey(kek);
	} else {
		CU_FAIL("CryptGenKey(CALG_AES_256, CRYPT_KEK) failed");
	}

	CryptDestroyKey(sig);
	CryptDestroyKey(des3);
	CryptDestroyKey(aes);
	CryptDestroyKey(locked);
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(plain);
}

/* A PRIVATEKEYBLOB as openssl encrypts it under key_bytes (AES-256-CBC,
 * zero IV, PKCS#5): its BLOBHEADER in clear, the rest encrypted. */
static BYTE *private_blob_encrypted(const BYTE *priv, DWORD priv_len, DWORD *enc_len)
{
	char *key_hex = testutil_hex_new(key_bytes, 32);
	DWORD len;
	BYTE *body, *enc;
	int st = -1;

	body = openssl_enc("aes-256-cbc", key_hex, "00000000000000000000000000000000", false,
			   false, priv + 8, priv_len - 8, &len, &st);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	*enc_len = 8 + len;
	enc = malloc(*enc_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(enc);
	memcpy(enc, priv, 8);
	memcpy(enc + 8, body, len);
	free(body);
	free(key_hex);
	return enc;
}

static void test_private_encrypted_import(void)
{
	HCRYPTPROV h = open_new(uri1, "pimp");
	HCRYPTKEY aes, k = 0, user;
	DWORD priv_len, enc_len, len, blob_len, bad_len;
	BYTE *priv = testutil_vector_read("rsa1024-priv.blob", &priv_len);
	BYTE *enc, *body, *out, *bad, blob[64];
	char *key_hex = testutil_hex_new(key_bytes, 32);
	int st = -1, before;

	/* openssl encrypts the vector's blob under a known AES-256 key... */
	enc = private_blob_encrypted(priv, priv_len, &enc_len);
	blob_len = testutil_plaintext_blob(blob, CALG_AES_256, key_bytes, 32);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, blob_len, 0, 0, &aes));

	/* ...which the token decrypts into the container's exchange key. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, enc, enc_len, aes, CRYPT_EXPORTABLE, &k));
	out = testutil_blob_export(k, 0, PRIVATEKEYBLOB, 0, &len);
	CU_ASSERT(len == priv_len && memcmp(out, priv, priv_len) == 0);
	free(out);
	CryptDestroyKey(k);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &user));
	CryptDestroyKey(user);
	before = testutil_token_count(label1, "privkey", NULL);

	/* Bad padding: openssl encrypts the body followed by a block of 0x11
	 * bytes without padding of its own; 17 is no PKCS#5 pad length. */
	bad_len = priv_len - 8 + 16 + (16 - (priv_len - 8) % 16) % 16;
	bad = calloc(1, bad_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	memcpy(bad, priv + 8, priv_len - 8);
	memset(bad + bad_len - 16, 0x11, 16);
	body = openssl_enc("aes-256-cbc", key_hex, "00000000000000000000000000000000", false, true,
			   bad, bad_len, &len, &st);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	free(enc);
	enc = malloc(8 + len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(enc);
	memcpy(enc, priv, 8);
	memcpy(enc + 8, body, len);
	free(body);
	CHECK_FAILS_WITH(CryptImportKey(h, enc, 8 + len, aes, 0, &k), NTE_BAD_DATA);
	/* Not a whole number of blocks. */
	CHECK_FAILS_WITH(CryptImportKey(h, enc, 8 + len - 1, aes, 0, &k), NTE_BAD_DATA);
	free(bad);

	/* Decrypts cleanly, but holds "RSA1": the plaintext blob's own check. */
	bad = malloc(priv_len - 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	memcpy(bad, priv + 8, priv_len - 8);
	memcpy(bad, "RSA1", 4);
	body = openssl_enc("aes-256-cbc", key_hex, "00000000000000000000000000000000", false, false,
			   bad, priv_len - 8, &len, &st);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	free(enc);
	enc = malloc(8 + len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(enc);
	memcpy(enc, priv, 8);
	memcpy(enc + 8, body, len);
	free(body);
	CHECK_FAILS_WITH(CryptImportKey(h, enc, 8 + len, aes, 0, &k), NTE_BAD_DATA);
	/* A wrap-only key decrypts nothing: the key, not the data, is wrong. */
	{
		HCRYPTKEY kek;

		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &kek));
		CHECK_FAILS_WITH(CryptImportKey(h, enc, 8 + len, kek, 0, &k), NTE_BAD_KEY);
		CryptDestroyKey(kek);
	}
	/* Nothing was left on the token. */
	CU_ASSERT_EQUAL(testutil_token_count(label1, "privkey", NULL), before);

	free(bad);
	free(enc);
	free(key_hex);
	free(priv);
	CryptDestroyKey(aes);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* On a card, a private key encrypted under a session key (on the
 * companion) is refused as a PRIVATEKEYBLOB is (pair_answer), and the
 * card holds the private keys it held. */
static void test_private_encrypted_import_card(void)
{
	HCRYPTPROV h = open_new(uri1, "pimp-card");
	HCRYPTKEY aes, k = 0;
	DWORD priv_len, enc_len, blob_len;
	BYTE *priv = testutil_vector_read("rsa1024-priv.blob", &priv_len), *enc, blob[64];
	int before = testutil_token_count(label1, "privkey", NULL);

	enc = private_blob_encrypted(priv, priv_len, &enc_len);
	blob_len = testutil_plaintext_blob(blob, CALG_AES_256, key_bytes, 32);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, blob_len, 0, 0, &aes));
	CHECK_FAILS_WITH(CryptImportKey(h, enc, enc_len, aes, 0, &k),
			 pair_answer(PAIR_IMPORTED, false));
	CHECK_FAILS_WITH(CryptImportKey(h, enc, enc_len, aes, CRYPT_EXPORTABLE, &k),
			 pair_answer(PAIR_IMPORTED, true));
	CU_ASSERT_EQUAL(testutil_token_count(label1, "privkey", NULL), before);
	CryptDestroyKey(aes);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(enc);
	free(priv);
}

/* Export under one session key, import in another context of the token
 * under the same key bytes. */
static void test_private_encrypted_roundtrip(void)
{
	HCRYPTPROV h1 = open_new(uri1, "prt1"), h2 = open_new(uri1, "prt2");
	HCRYPTKEY rsa, aes1, aes2, k;
	DWORD plain_len, enc_len, key_len, len;
	BYTE *plain, *enc, *key, *out;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h1, AT_KEYEXCHANGE, 1024 << 16 | CRYPT_EXPORTABLE, &rsa));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h1, CALG_AES_128, CRYPT_EXPORTABLE, &aes1));
	plain = testutil_blob_export(rsa, 0, PRIVATEKEYBLOB, 0, &plain_len);
	enc = testutil_blob_export(rsa, aes1, PRIVATEKEYBLOB, 0, &enc_len);
	key = testutil_blob_export(aes1, 0, PLAINTEXTKEYBLOB, 0, &key_len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, key, key_len, 0, 0, &aes2));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, enc, enc_len, aes2, CRYPT_EXPORTABLE, &k));
	out = testutil_blob_export(k, 0, PRIVATEKEYBLOB, 0, &len);
	CU_ASSERT(len == plain_len && memcmp(out, plain, len) == 0);
	/* hPubKey of another context: refused. */
	CHECK_FAILS_WITH(CryptImportKey(h2, enc, enc_len, aes1, 0, &k), NTE_BAD_KEY);
	free(out);
	free(key);
	free(enc);
	free(plain);
	CryptDestroyKey(k);
	CryptDestroyKey(aes2);
	CryptDestroyKey(aes1);
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h1, 0));
}

/* Through the shim: the size query reaches no cipher call, and a failed
 * encryption leaves no plaintext in the caller's buffer. */
static void test_private_encrypted_shim(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	char *uri = fixture_token_uri_shim(label1, true);
	HCRYPTPROV h;
	HCRYPTKEY rsa, aes, k;
	DWORD plain_len, size = 0, len, i, enc_len;
	BYTE *plain, *enc, buf[BIG];
	int before;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	CU_ASSERT_PTR_NOT_NULL_FATAL(uri);
	h = open_new(uri, "pshim");
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16 | CRYPT_EXPORTABLE, &rsa));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_EXPORTABLE, &aes));
	plain = testutil_blob_export(rsa, 0, PRIVATEKEYBLOB, 0, &plain_len);

	shim->reset();
	CU_ASSERT_TRUE(CryptExportKey(rsa, aes, PRIVATEKEYBLOB, 0, NULL, &size));
	CU_ASSERT_EQUAL(size, 8 + ((plain_len - 8) / 16 + 1) * 16);
	CU_ASSERT_EQUAL(shim->count("C_EncryptInit"), 0);
	CU_ASSERT_EQUAL(shim->count("C_Encrypt"), 0);
	CU_ASSERT_EQUAL(shim->count("C_EncryptUpdate"), 0);

	/* The token fails the encryption: an error, and the buffer never held
	 * the private numbers. */
	shim->reset();
	/* At the init: a faked failure of C_Encrypt itself would leave
	 * SoftHSM's operation active, which a real failure ends. */
	shim->fail("C_EncryptInit", 0, CKR_DEVICE_MEMORY);
	memset(buf, 0xa5, sizeof buf);
	len = sizeof buf;
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptExportKey(rsa, aes, PRIVATEKEYBLOB, 0, buf, &len));
	CU_ASSERT_NOT_EQUAL(GetLastError(), SENTINEL);
	for (i = 0; i < sizeof buf && buf[i] == 0xa5; i++)
		;
	CU_ASSERT_EQUAL(i, sizeof buf);
	shim->reset();

	/* The token fails the decryption: NTE_BAD_DATA, no object made. */
	enc = testutil_blob_export(rsa, aes, PRIVATEKEYBLOB, 0, &enc_len);
	before = testutil_token_count(label1, "privkey", NULL);
	shim->fail("C_DecryptInit", 0, CKR_GENERAL_ERROR);
	CHECK_FAILS_WITH(CryptImportKey(h, enc, enc_len, aes, 0, &k), NTE_BAD_DATA);
	shim->reset();
	CU_ASSERT_EQUAL(testutil_token_count(label1, "privkey", NULL), before);

	free(enc);
	free(plain);
	CryptDestroyKey(aes);
	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(uri);
}

/* ---- CRYPT_IPSEC_HMAC_KEY ---- */

/* Whether the token lists a mechanism, per pkcs11-tool. */
static bool token_has_mechanism(const char *token, const char *name)
{
	char *out = NULL;
	bool has;
	int st = fixture_pkcs11_tool(token, false, &out, "--list-mechanisms");

	CU_ASSERT_EQUAL_FATAL(st, 0);
	has = strstr(out, name) != NULL;
	free(out);
	return has;
}

static void test_ipsec_hmac_key(void)
{
	/* On a card: the container it came with, and its exchange key. */
	HCRYPTPROV h = card == CARD_SOFTHSM ? open_new(uri1, "hmac") :
		       open_existing(uri1, CARD_CONTAINER);
	HCRYPTKEY k = 0, rsa;
	DWORD pub_len, priv_len, len, out_len;
	BYTE *pub = testutil_vector_read("rsa1024-pub.blob", &pub_len);
	BYTE *priv = testutil_vector_read("rsa1024-priv.blob", &priv_len);
	BYTE blob[64], long_key[20], *out, *simple;
	/* RC2 keys go to the companion token (NSS's softokn, which has RC2)
	 * where the token has none. */
	bool rc2 = token_has_mechanism(label1, "RC2-KEY-GEN") || CAPI11_SOFTOKN_PATH[0] != '\0';

	/* Any blob type but PLAINTEXTKEYBLOB: NTE_BAD_FLAGS (SPEC 5). */
	CHECK_FAILS_WITH(CryptImportKey(h, pub, pub_len, 0, CRYPT_IPSEC_HMAC_KEY, &k),
			 NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptImportKey(h, priv, priv_len, 0, CRYPT_IPSEC_HMAC_KEY, &k),
			 NTE_BAD_FLAGS);
	if (card == CARD_SOFTHSM) {
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, priv_len, 0, 0, &rsa));
	} else {
		CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &rsa));
	}
	simple = testutil_vector_read("rsa1024-simple.blob", &len);
	CHECK_FAILS_WITH(CryptImportKey(h, simple, len, rsa, CRYPT_IPSEC_HMAC_KEY, &k),
			 NTE_BAD_FLAGS);
	free(simple);

	/* An RC2 key longer than 16 bytes: without the flag NTE_BAD_DATA
	 * (Microsoft's CryptImportKey page). With it the length no longer
	 * matters: the key is an HMAC key, a generic secret on the token
	 * (hmac-key.h), with or without RC2 there; without the flag SoftHSM,
	 * which has no RC2, refuses the key as CryptGenKey(CALG_RC2) does. */
	memset(long_key, 0x5a, sizeof long_key);
	len = testutil_plaintext_blob(blob, CALG_RC2, long_key, sizeof long_key);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, len, 0, 0, &k), NTE_BAD_DATA);
	CU_ASSERT_TRUE(CryptImportKey(h, blob, len, 0, CRYPT_IPSEC_HMAC_KEY, &k));
	CryptDestroyKey(k);
	if (!rc2) {
		CHECK_FAILS_WITH(CryptGenKey(h, CALG_RC2, 0, &k), NTE_BAD_ALGID);
		len = testutil_plaintext_blob(blob, CALG_RC2, long_key, 16);
		CHECK_FAILS_WITH(CryptImportKey(h, blob, len, 0, 0, &k), NTE_BAD_ALGID);
	}

	/* Other algorithms: the flag changes nothing, the length rule stays. */
	len = testutil_plaintext_blob(blob, CALG_AES_128, key_bytes, 16);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, 0, CRYPT_IPSEC_HMAC_KEY | CRYPT_EXPORTABLE,
					    &k));
	out = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &out_len);
	CU_ASSERT(out_len == len && memcmp(out, blob, len) == 0);
	free(out);
	CryptDestroyKey(k);
	len = testutil_plaintext_blob(blob, CALG_AES_128, key_bytes, 20);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, len, 0, CRYPT_IPSEC_HMAC_KEY, &k), NTE_BAD_DATA);
	len = testutil_plaintext_blob(blob, CALG_3DES, key_bytes, 20);
	CHECK_FAILS_WITH(CryptImportKey(h, blob, len, 0, CRYPT_IPSEC_HMAC_KEY, &k), NTE_BAD_FLAGS);

	CryptDestroyKey(rsa);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(pub);
	free(priv);
}

/* The codec behind it, for tokens that have RC2 (SoftHSM has not). */
static void test_ipsec_hmac_codec(void)
{
	BYTE blob[12 + 130], key[130];
	struct blob_plaintext out;
	DWORD len;

	memset(key, 0x33, sizeof key);
	len = testutil_plaintext_blob(blob, CALG_RC2, key, 20);
	CU_ASSERT_EQUAL(blob_parse_plaintext(blob, len, &out), NTE_BAD_DATA);
	CU_ASSERT_EQUAL_FATAL(blob_parse_plaintext_long_rc2(blob, len, 128, &out), ERROR_SUCCESS);
	CU_ASSERT_EQUAL(out.alg, CALG_RC2);
	CU_ASSERT(out.key.len == 20 && out.key.data == blob + 12);
	len = testutil_plaintext_blob(blob, CALG_RC2, key, 128);
	CU_ASSERT_EQUAL(blob_parse_plaintext_long_rc2(blob, len, 128, &out), ERROR_SUCCESS);
	CU_ASSERT_EQUAL(blob_parse_plaintext_long_rc2(blob, len, 64, &out), NTE_BAD_DATA);
	len = testutil_plaintext_blob(blob, CALG_RC2, key, 129);
	CU_ASSERT_EQUAL(blob_parse_plaintext_long_rc2(blob, len, 128, &out), NTE_BAD_DATA);
	/* HMAC keys as short as one byte; none is no key. */
	len = testutil_plaintext_blob(blob, CALG_RC2, key, 1);
	CU_ASSERT_EQUAL(blob_parse_plaintext_long_rc2(blob, len, 128, &out), ERROR_SUCCESS);
	len = testutil_plaintext_blob(blob, CALG_RC2, key, 0);
	CU_ASSERT_EQUAL(blob_parse_plaintext_long_rc2(blob, len, 128, &out), NTE_BAD_DATA);
	/* Other algorithms keep their lengths. */
	len = testutil_plaintext_blob(blob, CALG_AES_128, key, 20);
	CU_ASSERT_EQUAL(blob_parse_plaintext_long_rc2(blob, len, 128, &out), NTE_BAD_DATA);
	len = testutil_plaintext_blob(blob, CALG_RC4, key, 20);
	CU_ASSERT_EQUAL(blob_parse_plaintext_long_rc2(blob, len, 128, &out), NTE_BAD_DATA);
	/* The declared length must be there. */
	len = testutil_plaintext_blob(blob, CALG_RC2, key, 20);
	CU_ASSERT_EQUAL(blob_parse_plaintext_long_rc2(blob, len - 1, 128, &out), NTE_BAD_DATA);
}

/* ---- two tokens ---- */

static void test_two_tokens_pairs(void)
{
	HCRYPTPROV h1 = open_new(uri1, "move-src"), h2 = open_new(uri2, "move-dst");
	HCRYPTKEY k1, k2, p2;
	DWORD priv_len, pub_len, len;
	BYTE *priv, *pub, *out;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h1, AT_KEYEXCHANGE, 1024 << 16 | CRYPT_EXPORTABLE, &k1));
	priv = testutil_blob_export(k1, 0, PRIVATEKEYBLOB, 0, &priv_len);
	pub = testutil_blob_export(k1, 0, PUBLICKEYBLOB, 0, &pub_len);

	/* PUBLICKEYBLOB: a session public key on token 2, the same numbers. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, pub, pub_len, 0, 0, &p2));
	out = testutil_blob_export(p2, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT(len == pub_len && memcmp(out, pub, len) == 0);
	free(out);

	/* PRIVATEKEYBLOB: token 2's container now holds the pair. */
	CU_ASSERT_EQUAL(testutil_token_count(label2, "privkey", "move-dst"), 0);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, priv, priv_len, 0, CRYPT_EXPORTABLE, &k2));
	CU_ASSERT_EQUAL(testutil_token_count(label2, "privkey", "move-dst"), 1);
	CU_ASSERT_EQUAL(testutil_token_count(label2, "pubkey", "move-dst"), 1);
	out = testutil_blob_export(k2, 0, PRIVATEKEYBLOB, 0, &len);
	CU_ASSERT(len == priv_len && memcmp(out, priv, len) == 0);
	free(out);
	out = testutil_blob_export(k2, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT(len == pub_len && memcmp(out, pub, len) == 0);
	free(out);
	/* Token 1 kept its own. */
	CU_ASSERT_EQUAL(testutil_token_count(label1, "privkey", "move-src"), 1);

	CryptDestroyKey(k2);
	CryptDestroyKey(p2);
	CryptDestroyKey(k1);
	CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h1, 0));
	free(priv);
	free(pub);
}

/* The session key in a SIMPLEBLOB, decrypted by openssl with the private
 * key of an MSBLOB (converted to PEM by openssl). */
static BYTE *openssl_simple_key(const BYTE *priv_blob, DWORD priv_len, const BYTE *simple,
				DWORD len, bool oaep, DWORD *key_len)
{
	char *blob_path = testutil_temp_write("matrix", priv_blob, priv_len);
	char *pem = testutil_temp_path("pem");
	char *ct_path, *out_path = testutil_temp_path("simple-key"), *out;
	BYTE *ct = malloc(len), *key;
	DWORD i, ct_len = len - 12;
	int st = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	out = fixture_capture(&st, "%s rsa -inform MSBLOB -in %s -outform PEM -out %s",
			      OPENSSL_BIN, blob_path, pem);
	free(out);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	for (i = 0; i < ct_len; i++)
		ct[i] = simple[len - 1 - i];
	ct_path = testutil_temp_write("matrix", ct, ct_len);
	out = fixture_capture(&st, "%s pkeyutl -decrypt -inkey %s -in %s -out %s "
			      "-pkeyopt rsa_padding_mode:%s", OPENSSL_BIN, pem, ct_path, out_path,
			      oaep ? "oaep" : "pkcs1");
	free(out);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	key = testutil_file_read(out_path, key_len);
	free(ct);
	free(ct_path);
	free(out_path);
	free(pem);
	free(blob_path);
	return key;
}

/* The AES-256 key k as a SIMPLEBLOB under exp (CRYPT_OAEP or not), 12 +
 * 128 bytes, in which openssl, holding priv_blob (exp's private half as
 * a PRIVATEKEYBLOB), finds key. The blob, malloc'd. */
static BYTE *simple_export_opened(HCRYPTKEY k, HCRYPTKEY exp, bool oaep, const BYTE *priv_blob,
				  DWORD priv_len, const BYTE *key, DWORD *len)
{
	BYTE *simple = testutil_blob_export(k, exp, SIMPLEBLOB, oaep ? CRYPT_OAEP : 0, len);
	BYTE *found;
	DWORD found_len;

	CU_ASSERT_EQUAL(*len, 12 + 128);
	found = openssl_simple_key(priv_blob, priv_len, simple, *len, oaep, &found_len);
	CU_ASSERT(found_len == 32 && memcmp(found, key, 32) == 0);
	free(found);
	return simple;
}

static void test_two_tokens_session(void)
{
	HCRYPTPROV h1 = open_new(uri1, "sess-src"), h2 = open_new(uri2, "sess-dst");
	HCRYPTKEY kx2, pub1, aes1, aes2, des1, des2;
	DWORD pub_len, priv_len, plain_len, len, simple_len;
	BYTE *pub, *priv, *plain, *out, *simple;
	int oaep;

	/* Token 2's exchange key; its public half goes to token 1. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h2, AT_KEYEXCHANGE, 1024 << 16 | CRYPT_EXPORTABLE, &kx2));
	pub = testutil_blob_export(kx2, 0, PUBLICKEYBLOB, 0, &pub_len);
	priv = testutil_blob_export(kx2, 0, PRIVATEKEYBLOB, 0, &priv_len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h1, pub, pub_len, 0, 0, &pub1));

	/* PLAINTEXTKEYBLOB: AES-256 made on token 1, imported on token 2. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h1, CALG_AES_256, CRYPT_EXPORTABLE, &aes1));
	plain = testutil_blob_export(aes1, 0, PLAINTEXTKEYBLOB, 0, &plain_len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, plain, plain_len, 0, CRYPT_EXPORTABLE, &aes2));
	out = testutil_blob_export(aes2, 0, PLAINTEXTKEYBLOB, 0, &len);
	CU_ASSERT(len == plain_len && memcmp(out, plain, len) == 0);
	free(out);
	/* The moved key decrypts on token 2 what token 1 encrypted. */
	{
		static const char msg[] = "moved between two tokens";
		BYTE data[64];
		DWORD n = sizeof msg;

		memcpy(data, msg, sizeof msg);
		CU_ASSERT_TRUE_FATAL(CryptEncrypt(aes1, 0, TRUE, 0, data, &n, sizeof data));
		CU_ASSERT_EQUAL(n, 32);
		CU_ASSERT_NOT_EQUAL(memcmp(data, msg, sizeof msg), 0);
		CU_ASSERT_TRUE_FATAL(CryptDecrypt(aes2, 0, TRUE, 0, data, &n));
		CU_ASSERT(n == sizeof msg && memcmp(data, msg, sizeof msg) == 0);
	}
	CryptDestroyKey(aes2);

	/* SIMPLEBLOB under token 2's public key, PKCS#1 and OAEP: openssl
	 * finds the key bytes in it, and token 2 unwraps the same key. */
	for (oaep = 0; oaep < 2; oaep++) {
		DWORD fl = oaep ? CRYPT_OAEP : 0;

		simple = simple_export_opened(aes1, pub1, oaep, priv, priv_len, plain + 12,
					      &simple_len);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, simple, simple_len, kx2,
						    fl | CRYPT_EXPORTABLE, &aes2));
		/* It arrived wrapped: sensitive whatever CRYPT_EXPORTABLE says
		 * (SPEC section 3); the same key by what it encrypts. */
		CHECK_FAILS_WITH(CryptExportKey(aes2, 0, PLAINTEXTKEYBLOB, 0, NULL, &len),
				 NTE_BAD_KEY_STATE);
		testutil_check_encrypts_as(aes2, "-aes-256-cbc", plain + 12, 32, 16);
		CryptDestroyKey(aes2);
		free(simple);
	}

	/* 3DES the same way. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h1, CALG_3DES, CRYPT_EXPORTABLE, &des1));
	free(plain);
	plain = testutil_blob_export(des1, 0, PLAINTEXTKEYBLOB, 0, &plain_len);
	simple = testutil_blob_export(des1, pub1, SIMPLEBLOB, 0, &simple_len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, simple, simple_len, kx2, CRYPT_EXPORTABLE, &des2));
	CHECK_FAILS_WITH(CryptExportKey(des2, 0, PLAINTEXTKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	CU_ASSERT_EQUAL_FATAL(plain_len, 12 + 24);
	testutil_check_encrypts_as(des2, "-des-ede3-cbc", plain + 12, 24, 8);
	free(simple);

	CryptDestroyKey(des2);
	CryptDestroyKey(des1);
	CryptDestroyKey(aes1);
	CryptDestroyKey(pub1);
	CryptDestroyKey(kx2);
	CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h1, 0));
	free(plain);
	free(priv);
	free(pub);
}

/* A session key to the container's own exchange key and back, as on a
 * card whose key pkcs11-tool put there (openssl's rsa1024): SIMPLEBLOB
 * export under it, through the companion's copy of its public key where
 * the card has no public-key operation, which openssl opens with the
 * private key; and import of that blob, which the card decrypts where it
 * cannot unwrap (capi11.conf(5)). PKCS#1 and OAEP. */
static void test_simpleblob_card_key(void)
{
	HCRYPTPROV h = open_existing(uri1, CARD_CONTAINER);
	HCRYPTKEY kx, aes, back;
	DWORD priv_len, plain_len, simple_len;
	BYTE *priv = testutil_vector_read("rsa1024-priv.blob", &priv_len), *plain, *simple;
	int oaep;

	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &kx));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_EXPORTABLE, &aes));
	plain = testutil_blob_export(aes, 0, PLAINTEXTKEYBLOB, 0, &plain_len);
	CU_ASSERT_EQUAL_FATAL(plain_len, 12 + 32);
	for (oaep = 0; oaep < 2; oaep++) {
		DWORD fl = oaep ? CRYPT_OAEP : 0;

		simple = simple_export_opened(aes, kx, oaep, priv, priv_len, plain + 12, &simple_len);
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, simple, simple_len, kx, fl, &back));
		testutil_check_encrypts_as(back, "-aes-256-cbc", plain + 12, 32, 16);
		CryptDestroyKey(back);
		free(simple);
	}
	CryptDestroyKey(aes);
	CryptDestroyKey(kx);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(plain);
	free(priv);
}

/* ---- the sensitive export policy ---- */

static void test_sensitive_policy(void)
{
	HCRYPTPROV hv = open_new(uri2, "sens-check"), h;
	HCRYPTKEY kx, aes, own_pub, foreign, far_pub, vkx, moved;
	DWORD len, size = 0, pub_len, priv_len, simple_len, key_len, foreign_len;
	BYTE buf[BIG], *pub, *priv, *simple, *key, *foreign_blob;
	char *access;

	/* A partner's key pair on token 2; the security officer of token 1
	 * trusts its public half (SPEC section 3), before the container holds
	 * any session key. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(hv, AT_KEYEXCHANGE, 1024 << 16 | CRYPT_EXPORTABLE, &vkx));
	pub = testutil_blob_export(vkx, 0, PUBLICKEYBLOB, 0, &pub_len);
	priv = testutil_blob_export(vkx, 0, PRIVATEKEYBLOB, 0, &priv_len);
	h = open_new(sensitive_provider, "sens");
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(Capi11TrustKeyA(h, pub, pub_len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, NULL));

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16 | CRYPT_EXPORTABLE, &kx));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_EXPORTABLE, &aes));

	/* On the token: extractable but sensitive (pkcs11-tool reads it). */
	access = token_privkey_access(label1, "sens");
	CU_ASSERT_PTR_NOT_NULL(strstr(access, "sensitive"));
	CU_ASSERT_PTR_NULL(strstr(access, "never extractable"));
	CU_ASSERT_PTR_NOT_NULL(strstr(access, "extractable"));
	free(access);
	/* CRYPT_EXPORT stays in KP_PERMISSIONS (SPEC section 3). */
	CU_ASSERT(key_permissions(kx) & CRYPT_EXPORT);
	CU_ASSERT(key_permissions(aes) & CRYPT_EXPORT);

	/* No plaintext form, size query included; nor a PRIVATEKEYBLOB under
	 * a session key, which the same context could decrypt. */
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(kx, 0, PRIVATEKEYBLOB, 0, NULL, &size), NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(kx, 0, PRIVATEKEYBLOB, 0, buf, &len), NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(kx, aes, PRIVATEKEYBLOB, 0, NULL, &size), NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(kx, aes, PRIVATEKEYBLOB, 0, buf, &len), NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(aes, 0, PLAINTEXTKEYBLOB, 0, NULL, &size),
			 NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptExportKey(aes, 0, PLAINTEXTKEYBLOB, 0, buf, &len), NTE_BAD_KEY_STATE);
	/* Under the container's own exchange key, or its public half brought
	 * in as a PUBLICKEYBLOB: no key without CKA_TRUSTED takes it. */
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(aes, kx, SIMPLEBLOB, 0, buf, &len), NTE_BAD_KEY_STATE);
	free(pub);
	pub = testutil_blob_export(kx, 0, PUBLICKEYBLOB, 0, &pub_len);
	CU_ASSERT_EQUAL(pub_len, 20 + 128);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &own_pub));
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(aes, own_pub, SIMPLEBLOB, 0, buf, &len), NTE_BAD_KEY_STATE);
	/* Nor any other public key: whoever holds its private half could
	 * decrypt the blob (the vector's private key is published). */
	foreign_blob = testutil_vector_read("rsa1024-pub.blob", &foreign_len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, foreign_blob, foreign_len, 0, 0, &foreign));
	CHECK_FAILS_WITH(CryptExportKey(aes, foreign, SIMPLEBLOB, 0, NULL, &size),
			 NTE_BAD_KEY_STATE);
	len = sizeof buf;
	CHECK_FAILS_WITH(CryptExportKey(aes, foreign, SIMPLEBLOB, 0, buf, &len), NTE_BAD_KEY_STATE);
	free(foreign_blob);
	free(pub);

	/* Under the partner's public key, which the token trusts: wrapped.
	 * openssl finds 32 key bytes in it, the key they make encrypts as the
	 * session key does, and the holder of the private key (a container on
	 * token 2) unwraps a key that encrypts the same way again. */
	pub = testutil_blob_export(vkx, 0, PUBLICKEYBLOB, 0, &pub_len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &far_pub));
	simple = testutil_blob_export(aes, far_pub, SIMPLEBLOB, 0, &simple_len);
	key = openssl_simple_key(priv, priv_len, simple, simple_len, false, &key_len);
	CU_ASSERT_EQUAL_FATAL(key_len, 32);
	testutil_check_encrypts_as(aes, "-aes-256-cbc", key, 32, 16);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hv, simple, simple_len, vkx, CRYPT_EXPORTABLE, &moved));
	CHECK_FAILS_WITH(CryptExportKey(moved, 0, PLAINTEXTKEYBLOB, 0, NULL, &len),
			 NTE_BAD_KEY_STATE);
	testutil_check_encrypts_as(moved, "-aes-256-cbc", key, 32, 16);
	free(key);
	free(simple);

	CryptDestroyKey(moved);
	CryptDestroyKey(far_pub);
	CryptDestroyKey(foreign);
	CryptDestroyKey(vkx);
	CryptDestroyKey(own_pub);
	CryptDestroyKey(aes);
	CryptDestroyKey(kx);
	CU_ASSERT_TRUE(CryptReleaseContext(hv, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(priv);
	free(pub);
}

/* ---- DSS and Diffie-Hellman key pairs ---- */

/* The key-pair families of the DSS provider types, one row of this table
 * each: a family names its ALG_ID and the magics of its four blob forms
 * (Microsoft's DSSPUBKEY, DSSPUBKEY_VER3, DSSPRIVKEY_VER3 pages; DH's
 * DHPUBKEY and DHPUBKEY_VER3/DHPRIVKEY_VER3's "\0DH1".."\0DH4") and how
 * its pairs are made on the token and imported from openssl. */
struct pair_row_state;

struct pair_family {
	const char *name;
	ALG_ID alg;
	DWORD magic[2][2];        /* [private][version 3] */
	BOOL (*generate)(HCRYPTPROV h, bool exportable, HCRYPTKEY *k);
	/* openssl's PRIVATEKEYBLOB of a key of the family (version 2). */
	BYTE *(*openssl_private)(DWORD *len);
	/* The checks of a row's blobs against readers other than capi11
	 * (below): row is also the container's name, the label of its
	 * token objects. */
	void (*outside)(const char *row, struct pair_row_state *st, bool exportable,
			const BYTE *imported, DWORD imported_len);
};

static BOOL dss_generate(HCRYPTPROV h, bool exportable, HCRYPTKEY *k)
{
	return CryptGenKey(h, CALG_DSS_SIGN, 1024 << 16 | (exportable ? CRYPT_EXPORTABLE : 0), k);
}

static BYTE *dss_openssl_private(DWORD *len)
{
	char *prm = testutil_temp_path("mxdsap"), *pem = testutil_temp_path("mxdsa");
	char *blob = testutil_temp_path("mxdsablob");
	BYTE *b;

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genpkey -genparam -algorithm DSA -pkeyopt "
					  "dsa_paramgen_bits:1024 -pkeyopt dsa_paramgen_q_bits:160 "
					  "-out %s 2>/dev/null && %s genpkey -paramfile %s -out %s && "
					  "%s dsa -in %s -outform MSBLOB -out %s 2>/dev/null",
					  OPENSSL_BIN, prm, OPENSSL_BIN, prm, pem, OPENSSL_BIN, pem,
					  blob), 0);
	b = testutil_file_read(blob, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	free(prm);
	free(pem);
	free(blob);
	return b;
}

static BOOL dh_generate(HCRYPTPROV h, bool exportable, HCRYPTKEY *k)
{
	return CryptGenKey(h, CALG_DH_SF, 1024 << 16 | (exportable ? CRYPT_EXPORTABLE : 0), k);
}

/* The number openssl's "-text" prints after label (at a line's start),
 * into a little-endian field of width bytes: the indented lines below
 * the label, or an inline "N (0xHEX)" for a small one. */
static void openssl_text_le(const char *text, const char *label, BYTE *out, size_t width)
{
	char digits[2 * 1100 + 2];
	size_t n = 0;
	const char *p = text, *inl, *nl;

	while ((p = strstr(p, label)) != NULL && p != text && p[-1] != '\n')
		p++;
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p += strlen(label);
	nl = strchr(p, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
	inl = strstr(p, "(0x");
	if (inl != NULL && inl < nl) {
		for (inl += 3; n + 1 < sizeof digits && strchr("0123456789abcdefABCDEF", *inl) &&
			       *inl != '\0'; inl++)
			digits[n++] = *inl;
	} else {
		for (p = nl + 1; *p == ' '; p = strchr(p, '\n') + 1) {
			for (; *p != '\n' && *p != '\0'; p++)
				if (strchr("0123456789abcdefABCDEF", *p) && n + 1 < sizeof digits)
					digits[n++] = *p;
			if (*p == '\0')
				break;
		}
	}
	digits[n] = '\0';
	CU_ASSERT_FATAL(n > 0);
	memset(out, 0, width);
	/* From the last digit; an odd count leaves one for the top byte. */
	for (size_t i = 0; n > 0; i++) {
		char two[3] = { 0 };
		size_t start = n >= 2 ? n - 2 : 0;

		memcpy(two, digits + start, n - start);
		n = start;
		if (i >= width) {
			CU_ASSERT_FATAL(strtoul(two, NULL, 16) == 0);
			continue;
		}
		out[i] = (BYTE)strtoul(two, NULL, 16);
	}
}

/* A Diffie-Hellman key openssl makes on 1024-bit parameters of its own,
 * as a version 2 PRIVATEKEYBLOB of its numbers (Microsoft's "\0DH2"
 * layout: bitlen, then p, g and x, each 128 bytes; openssl writes no DH
 * MSBLOB). */
static BYTE *dh_openssl_private(DWORD *len)
{
	char *prm = testutil_temp_path("mxdhp"), *pem = testutil_temp_path("mxdh"), *text;
	const size_t P = 128;
	BYTE *b = calloc(1, 16 + 3 * P);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genpkey -genparam -algorithm DH -pkeyopt "
					  "dh_paramgen_prime_len:1024 -out %s 2>/dev/null && "
					  "%s genpkey -paramfile %s -out %s", OPENSSL_BIN, prm,
					  OPENSSL_BIN, prm, pem), 0);
	text = fixture_capture(NULL, "%s pkey -in %s -text -noout", OPENSSL_BIN, pem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	b[0] = PRIVATEKEYBLOB;
	b[1] = 2;
	testutil_le32_put(b + 4, CALG_DH_SF);
	testutil_le32_put(b + 8, 0x32484400);
	testutil_le32_put(b + 12, 1024);
	openssl_text_le(text, "P:", b + 16, P);
	openssl_text_le(text, "G:", b + 16 + P, P);
	openssl_text_le(text, "private-key:", b + 16 + 2 * P, P);
	CU_ASSERT_FATAL(b[16 + P - 1] & 0x80);
	explicit_bzero(text, strlen(text));
	free(text);
	unlink(pem);
	free(prm);
	free(pem);
	*len = (DWORD)(16 + 3 * P);
	return b;
}

static void dss_outside_checks(const char *row, struct pair_row_state *st, bool exportable,
			       const BYTE *imported, DWORD imported_len);
static void dh_outside_checks(const char *row, struct pair_row_state *st, bool exportable,
			      const BYTE *imported, DWORD imported_len);

static const struct pair_family pair_families[] = {
	{ "DSS", CALG_DSS_SIGN,
	  { { 0x31535344, 0x33535344 }, { 0x32535344, 0x34535344 } },   /* DSS1 DSS3, DSS2 DSS4 */
	  dss_generate, dss_openssl_private, dss_outside_checks },
	/* CALG_DH_SF, the container's exchange pair. */
	{ "DH", CALG_DH_SF,
	  { { 0x31484400, 0x33484400 }, { 0x32484400, 0x34484400 } },   /* DH1 DH3, DH2 DH4 */
	  dh_generate, dh_openssl_private, dh_outside_checks },
};

/* The columns: blob type and hExpKey (none, or a 3DES session key of the
 * same context: Microsoft's DSS/DH providers encrypt with 3DES, not AES). */
enum pcol {
	PCOL_PUBLIC,
	PCOL_PUBLIC_EXP,
	PCOL_PRIVATE,
	PCOL_PRIVATE_ENC,
	PCOL_SIMPLE,
	PCOL_SIMPLE_NOEXP,
	PCOL_PLAINTEXT,
	PCOL_UNKNOWN,
	N_PCOLS
};

static const struct pair_column {
	const char *name;
	DWORD type;
	bool session_key;
} pair_columns[N_PCOLS] = {
	[PCOL_PUBLIC] = { "PUBLICKEYBLOB", PUBLICKEYBLOB, false },
	[PCOL_PUBLIC_EXP] = { "PUBLICKEYBLOB/hExpKey", PUBLICKEYBLOB, true },
	[PCOL_PRIVATE] = { "PRIVATEKEYBLOB", PRIVATEKEYBLOB, false },
	[PCOL_PRIVATE_ENC] = { "PRIVATEKEYBLOB/3DES", PRIVATEKEYBLOB, true },
	[PCOL_SIMPLE] = { "SIMPLEBLOB/3DES", SIMPLEBLOB, true },
	[PCOL_SIMPLE_NOEXP] = { "SIMPLEBLOB/no hExpKey", SIMPLEBLOB, false },
	[PCOL_PLAINTEXT] = { "PLAINTEXTKEYBLOB", PLAINTEXTKEYBLOB, false },
	[PCOL_UNKNOWN] = { "unknown type 0x42", 0x42, false },
};

static const struct flag pair_flags[] = {
	{ "0", 0 },
	{ "CRYPT_BLOB_VER3", CRYPT_BLOB_VER3 },
	{ "CRYPT_Y_ONLY", CRYPT_Y_ONLY },
	{ "CRYPT_BLOB_VER3|CRYPT_Y_ONLY", CRYPT_BLOB_VER3 | CRYPT_Y_ONLY },
	{ "CRYPT_OAEP", CRYPT_OAEP },
	{ "CRYPT_SSL2_FALLBACK", CRYPT_SSL2_FALLBACK },
	{ "undocumented 0x10000", UNDOCUMENTED_FLAG },
};
/* CryptExportKey's answers for a DSS or DH pair, from its reference page
 * (learn.microsoft.com/windows/win32/api/wincrypt/nf-wincrypt-cryptexportkey)
 * and SPEC section 4, as for RSA pairs:
 * - "CRYPT_BLOB_VER3: export version 3 of a BLOB type" (bVersion 3, the
 *   _VER3 structures); "CRYPT_Y_ONLY: this flag is not used": no change;
 *   CRYPT_OAEP applies to SIMPLEBLOB only; CRYPT_SSL2_FALLBACK on a key
 *   that is not CALG_SSL2_MASTER is NTE_BAD_KEY; other bits NTE_BAD_FLAGS.
 * - PUBLICKEYBLOB: "hExpKey ... is unused and must be set to zero",
 *   NTE_BAD_KEY otherwise; always exportable.
 * - PRIVATEKEYBLOB, plain or under a session key: NTE_BAD_KEY_STATE
 *   ("you do not have permission to export the key ... CRYPT_EXPORTABLE
 *   was not specified") unless the key is exportable.
 * - SIMPLEBLOB: hExpKey must be a key-exchange public key, and is judged
 *   before hKey (as Wine's rsaenh does, whose tests ran on Windows):
 *   without one, or with a session key there, NTE_BAD_PUBLIC_KEY.
 * - PLAINTEXTKEYBLOB holds session keys, not pairs: NTE_BAD_KEY; an
 *   unknown type NTE_BAD_TYPE. */
static DWORD pair_expected(bool exportable, enum pcol c, DWORD flag)
{
	if (flag & UNDOCUMENTED_FLAG)
		return NTE_BAD_FLAGS;
	if (flag & CRYPT_SSL2_FALLBACK)
		return NTE_BAD_KEY;
	switch (c) {
	case PCOL_PUBLIC:
		return OK;
	case PCOL_PRIVATE:
	case PCOL_PRIVATE_ENC:
		return exportable ? OK : NTE_BAD_KEY_STATE;
	case PCOL_SIMPLE:
	case PCOL_SIMPLE_NOEXP:
		return NTE_BAD_PUBLIC_KEY;
	case PCOL_UNKNOWN:
		return NTE_BAD_TYPE;
	default:
		return NTE_BAD_KEY;
	}
}

static int pair_cells_run, pair_cells_failed, pair_cells_total;

static void pair_check(bool ok, const char *row, const char *col, const struct flag *f,
		       const char *what, DWORD want, DWORD got)
{
	char msg[320];

	pair_cells_run++;
	if (ok)
		return;
	pair_cells_failed++;
	snprintf(msg, sizeof msg, "%s x %s x %s (%s): expected %s 0x%08x, got %s 0x%08x", row, col,
		 f->name, what, code_name(want), (unsigned)want, code_name(got), (unsigned)got);
	fprintf(stderr, "CELL FAILED: %s\n", msg);
	CU_assertImplementation(CU_FALSE, __LINE__, msg, __FILE__, "", CU_FALSE);
}

/* The plaintext blob of a row in the flag's version, for the encrypted
 * cells' check. */
struct pair_row_state {
	const struct pair_family *fam;
	HCRYPTKEY key, des3;
	BYTE des3_key[24];
	BYTE *plain[2];           /* [version 3] private blobs, when exportable */
	DWORD plain_len[2];
};

/* One cell, as run_cell does for RSA: the size query, a buffer one byte
 * short, the export; a blob made has the asked type, the flag's version,
 * the family's ALG_ID and magic (in clear) or, encrypted, openssl's 3DES
 * decryption of the plaintext blob. */
static void pair_cell(const char *row, struct pair_row_state *st, bool exportable, enum pcol c,
		      const struct flag *f)
{
	const struct pair_column *col = &pair_columns[c];
	DWORD want = pair_expected(exportable, c, f->value), got, size = 0, len;
	HCRYPTKEY exp = col->session_key ? st->des3 : 0;
	bool v3 = (f->value & CRYPT_BLOB_VER3) != 0;
	static BYTE buf[BIG];
	char what[64];
	BOOL ok;

	snprintf(what, sizeof what, "%s", col->name);
	SetLastError(SENTINEL);
	ok = CryptExportKey(st->key, exp, col->type, f->value, NULL, &size);
	got = ok ? OK : GetLastError();
	pair_check(got == want && (!ok || size > 8), row, what, f, "size query", want, got);
	if (want == OK && ok && size > 9) {
		len = size - 1;
		SetLastError(SENTINEL);
		ok = CryptExportKey(st->key, exp, col->type, f->value, buf, &len);
		got = ok ? OK : GetLastError();
		pair_check(!ok && got == ERROR_MORE_DATA && len == size, row, what, f,
			   "buffer one byte short", ERROR_MORE_DATA, got);
	}
	len = sizeof buf;
	SetLastError(SENTINEL);
	ok = CryptExportKey(st->key, exp, col->type, f->value, buf, &len);
	got = ok ? OK : GetLastError();
	pair_check(got == want, row, what, f, "export", want, got);
	if (!ok || want != OK)
		return;
	pair_check(len == size, row, what, f, "length = size query", size, len);
	pair_check(len >= 12 && buf[0] == col->type && buf[1] == (v3 ? 3 : 2) && buf[2] == 0 &&
		   buf[3] == 0 && testutil_le32(buf + 4) == st->fam->alg, row, what, f,
		   "BLOBHEADER", OK, OK);
	if (c == PCOL_PRIVATE_ENC) {
		const BYTE *plain = st->plain[v3];
		DWORD plain_len = st->plain_len[v3];
		char *key_hex = testutil_hex_new(st->des3_key, 24);
		DWORD out_len = 0;
		int status = -1;
		BYTE *out;

		/* CBC, zero IV, PKCS#5 padding, the BLOBHEADER in clear. */
		out = openssl_enc("des-ede3-cbc", key_hex, "0000000000000000", true, false, buf + 8,
				  len - 8, &out_len, &status);
		pair_check(status == 0 && plain != NULL && memcmp(buf, plain, 8) == 0 &&
			   out_len == plain_len - 8 && memcmp(out, plain + 8, out_len) == 0, row,
			   what, f, "openssl des-ede3-cbc opens it to the plaintext blob", OK, OK);
		free(out);
		free(key_hex);
		return;
	}
	pair_check(testutil_le32(buf + 8) == st->fam->magic[col->type == PRIVATEKEYBLOB][v3], row,
		   what, f, "magic", st->fam->magic[col->type == PRIVATEKEYBLOB][v3],
		   testutil_le32(buf + 8));
}

/* Checks made by one row: per flag and column the size query and the
 * export, and for a blob made the short buffer, the length, the header
 * and the magic or the decryption. */
static int pair_row_cells(bool exportable)
{
	int n = 0;

	for (size_t f = 0; f < N_ELEMENTS(pair_flags); f++)
		for (size_t c = 0; c < N_PCOLS; c++)
			n += pair_expected(exportable, (enum pcol)c, pair_flags[f].value) == OK ? 6 :
			     2;
	return n;
}

/* The numbers of a version 2 DSS blob and of the version 3 one of the
 * same key are the same (Microsoft's layouts; openssl reads version 2
 * only): p, q, g, and y (public) or x (private). */
static void dss_v2_v3_agree(const char *row, const BYTE *v2, DWORD v2_len, const BYTE *v3,
			    DWORD v3_len, bool private)
{
	const size_t P = 128, h3 = private ? 52 : 48;
	bool ok = v2_len >= 16 + 2 * P + 20 + 20 && v3_len >= h3 + 3 * P + 20 + (private ? 20 : 0);

	ok = ok && memcmp(v2 + 16, v3 + h3, 2 * P + 20) == 0;   /* p, q, g */
	if (ok && private)
		ok = memcmp(v2 + 16 + 2 * P + 20, v3 + h3 + 3 * P + 20, 20) == 0;   /* x */
	else if (ok)
		ok = memcmp(v2 + 16 + 2 * P + 20, v3 + h3 + 2 * P + 20, P) == 0;    /* y */
	if (!ok)
		fprintf(stderr, "%s: version 2 and 3 %s blobs differ\n", row,
			private ? "private" : "public");
	CU_ASSERT_TRUE(ok);
}

/* openssl reads the version 2 blobs; capi11's version 3 ones carry the
 * same numbers; an imported key comes back as openssl wrote it (but for
 * the seed, which capi11 does not keep: counter 0xFFFFFFFF). */
static void dss_outside_checks(const char *row, struct pair_row_state *st, bool exportable,
			       const BYTE *imported, DWORD imported_len)
{
	DWORD pub_len, pub3_len;
	BYTE *pub = testutil_blob_export(st->key, 0, PUBLICKEYBLOB, 0, &pub_len);
	BYTE *pub3 = testutil_blob_export(st->key, 0, PUBLICKEYBLOB, CRYPT_BLOB_VER3, &pub3_len);
	char *path = testutil_temp_write("mxpub", pub, pub_len);

	CU_ASSERT_EQUAL(fixture_run("%s pkey -pubin -inform MSBLOB -in %s -noout", OPENSSL_BIN,
				    path), 0);
	free(path);
	dss_v2_v3_agree(row, pub, pub_len, pub3, pub3_len, false);
	if (exportable) {
		path = testutil_temp_write("mxpriv", st->plain[0], st->plain_len[0]);
		CU_ASSERT_EQUAL(fixture_run("%s pkey -inform MSBLOB -in %s -noout", OPENSSL_BIN,
					    path), 0);
		free(path);
		dss_v2_v3_agree(row, st->plain[0], st->plain_len[0], st->plain[1],
				st->plain_len[1], true);
	}
	if (imported != NULL && exportable) {
		bool same = st->plain_len[0] == imported_len &&
			    memcmp(st->plain[0], imported, imported_len - 24) == 0 &&
			    testutil_le32(st->plain[0] + imported_len - 24) == 0xffffffffu;

		if (!same)
			fprintf(stderr, "%s: the PRIVATEKEYBLOB is not openssl's\n", row);
		CU_ASSERT_TRUE(same);
	}
	free(pub);
	free(pub3);
}

/* An attribute of the DH key object of class cls labelled container (the
 * row), read from SoftHSM directly, little-endian in width bytes; false
 * when the token does not give it (a sensitive private value). */
static bool dh_token_number(const char *container, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type,
			    BYTE *le, size_t width)
{
	CK_FUNCTION_LIST *f = testutil_softhsm();
	CK_SESSION_HANDLE s = testutil_softhsm_session(label1, false, true);
	CK_KEY_TYPE dh = CKK_DH;
	CK_ATTRIBUTE find[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_KEY_TYPE, &dh, sizeof dh },
		{ CKA_LABEL, (void *)container, strlen(container) },
	};
	CK_OBJECT_HANDLE obj;
	CK_ULONG got = 0;
	BYTE be[512];
	CK_ATTRIBUTE a = { type, be, sizeof be };
	CK_RV rv;

	CU_ASSERT_EQUAL_FATAL(f->C_FindObjectsInit(s, find, 3), CKR_OK);
	CU_ASSERT_EQUAL_FATAL(f->C_FindObjects(s, &obj, 1, &got), CKR_OK);
	f->C_FindObjectsFinal(s);
	CU_ASSERT_EQUAL_FATAL(got, 1);
	rv = f->C_GetAttributeValue(s, obj, &a, 1);
	f->C_CloseSession(s);
	if (rv == CKR_ATTRIBUTE_SENSITIVE)
		return false;
	CU_ASSERT_EQUAL_FATAL(rv, CKR_OK);
	CU_ASSERT_FATAL(a.ulValueLen <= width);
	memset(le, 0, width);
	for (CK_ULONG i = 0; i < a.ulValueLen; i++)
		le[i] = be[a.ulValueLen - 1 - i];
	explicit_bzero(be, sizeof be);
	return true;
}

static void dh_same(const char *row, const char *what, const BYTE *a, const BYTE *b, size_t n)
{
	if (memcmp(a, b, n) != 0)
		fprintf(stderr, "%s: %s differ\n", row, what);
	CU_ASSERT_EQUAL(memcmp(a, b, n), 0);
}

/* A DH row's blobs by Microsoft's layouts (1024 bits, P = 128; no q, no
 * j: PKCS#11 DH keys carry none): DH1 {bitlen} y; DH3 {bitlenP, bitlenQ 0,
 * bitlenJ 0, DSSSEED} p g y; DH2 {bitlen} p g x; DH4 {bitlenP, 0, 0,
 * bitlenX, DSSSEED} p g y x. Their numbers are the token's (SoftHSM read
 * directly: CKA_PRIME, CKA_BASE, the public CKA_VALUE, and the private
 * one where the token gives it), the two versions carry the same ones,
 * and an imported key comes back byte for byte as it went in. */
static void dh_outside_checks(const char *row, struct pair_row_state *st, bool exportable,
			      const BYTE *imported, DWORD imported_len)
{
	const size_t P = 128, h3 = 48, h4 = 52;
	DWORD pub_len, pub3_len;
	BYTE *pub = testutil_blob_export(st->key, 0, PUBLICKEYBLOB, 0, &pub_len);
	BYTE *pub3 = testutil_blob_export(st->key, 0, PUBLICKEYBLOB, CRYPT_BLOB_VER3, &pub3_len);
	BYTE p[128], g[128], y[128], x[128];
	bool x_read;

	CU_ASSERT_EQUAL_FATAL(pub_len, 16 + P);
	CU_ASSERT_EQUAL_FATAL(pub3_len, h3 + 3 * P);
	CU_ASSERT_EQUAL(testutil_le32(pub + 12), 1024);
	CU_ASSERT_EQUAL(testutil_le32(pub3 + 12), 1024);
	CU_ASSERT_EQUAL(testutil_le32(pub3 + 16), 0);            /* bitlenQ */
	CU_ASSERT_EQUAL(testutil_le32(pub3 + 20), 0);            /* bitlenJ */
	CU_ASSERT_EQUAL(testutil_le32(pub3 + 24), 0xffffffffu);  /* no seed */
	CU_ASSERT_TRUE(dh_token_number(row, CKO_PUBLIC_KEY, CKA_PRIME, p, P));
	CU_ASSERT_TRUE(dh_token_number(row, CKO_PUBLIC_KEY, CKA_BASE, g, P));
	CU_ASSERT_TRUE(dh_token_number(row, CKO_PUBLIC_KEY, CKA_VALUE, y, P));
	dh_same(row, "DH1 y and the token's", pub + 16, y, P);
	dh_same(row, "DH3 p and the token's", pub3 + h3, p, P);
	dh_same(row, "DH3 g and the token's", pub3 + h3 + P, g, P);
	dh_same(row, "DH3 y and the token's", pub3 + h3 + 2 * P, y, P);
	x_read = dh_token_number(row, CKO_PRIVATE_KEY, CKA_VALUE, x, P);
	if (exportable) {
		const BYTE *v2 = st->plain[0], *v3 = st->plain[1];

		CU_ASSERT_EQUAL_FATAL(st->plain_len[0], 16 + 3 * P);
		CU_ASSERT_EQUAL_FATAL(st->plain_len[1], h4 + 4 * P);
		CU_ASSERT_EQUAL(testutil_le32(v3 + 24), 1024);   /* bitlenX */
		dh_same(row, "DH2 p and the token's", v2 + 16, p, P);
		dh_same(row, "DH2 g and the token's", v2 + 16 + P, g, P);
		dh_same(row, "DH4 p, g and DH2's", v3 + h4, v2 + 16, 2 * P);
		dh_same(row, "DH4 y and the token's", v3 + h4 + 2 * P, y, P);
		dh_same(row, "DH4 x and DH2's", v3 + h4 + 3 * P, v2 + 16 + 2 * P, P);
		/* SoftHSM gives x where the key is not sensitive. */
		if (x_read)
			dh_same(row, "DH2 x and the token's", v2 + 16 + 2 * P, x, P);
		else
			fprintf(stderr, "%s: the token keeps x sensitive; x checked against "
				"DH4 only\n", row);
	} else {
		/* A key that may not leave is sensitive on the token too. */
		CU_ASSERT_FALSE(x_read);
	}
	if (imported != NULL && exportable) {
		bool same = st->plain_len[0] == imported_len &&
			    memcmp(st->plain[0], imported, imported_len) == 0;

		if (!same)
			fprintf(stderr, "%s: the PRIVATEKEYBLOB is not the one imported\n", row);
		CU_ASSERT_TRUE(same);
	}
	explicit_bzero(x, sizeof x);
	free(pub);
	free(pub3);
}

enum pair_origin_kind { PAIR_ROW_GENERATED, PAIR_ROW_IMPORTED };

static void pair_row(const struct pair_family *fam, enum pair_origin_kind origin, bool exportable)
{
	char row[96];
	struct pair_row_state st = { .fam = fam };
	BYTE *imported = NULL, *kb;
	DWORD imported_len = 0, kb_len;
	HCRYPTPROV h;
	int before;

	snprintf(row, sizeof row, "%s, %s%s", fam->name, origin == PAIR_ROW_GENERATED ?
		 "generated" : "imported", exportable ? " exportable" : "");
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, row, uri1, PROV_DSS_DH, CRYPT_NEWKEYSET));
	if (origin == PAIR_ROW_GENERATED) {
		CU_ASSERT_TRUE_FATAL(fam->generate(h, exportable, &st.key));
	} else {
		imported = fam->openssl_private(&imported_len);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, imported, imported_len, 0,
						    exportable ? CRYPT_EXPORTABLE : 0, &st.key));
	}
	CU_ASSERT_EQUAL(((key_permissions(st.key) & CRYPT_EXPORT) != 0), exportable);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_3DES, CRYPT_EXPORTABLE, &st.des3));
	kb = testutil_blob_export(st.des3, 0, PLAINTEXTKEYBLOB, 0, &kb_len);
	CU_ASSERT_EQUAL_FATAL(kb_len, 12 + 24);
	memcpy(st.des3_key, kb + 12, 24);
	explicit_bzero(kb, kb_len);
	free(kb);
	if (exportable) {
		st.plain[0] = testutil_blob_export(st.key, 0, PRIVATEKEYBLOB, 0, &st.plain_len[0]);
		st.plain[1] = testutil_blob_export(st.key, 0, PRIVATEKEYBLOB, CRYPT_BLOB_VER3,
						   &st.plain_len[1]);
	}

	before = pair_cells_run;
	pair_cells_failed = 0;
	for (size_t f = 0; f < N_ELEMENTS(pair_flags); f++)
		for (size_t c = 0; c < N_PCOLS; c++)
			pair_cell(row, &st, exportable, (enum pcol)c, &pair_flags[f]);
	CU_ASSERT_EQUAL(pair_cells_run - before, pair_row_cells(exportable));
	CU_ASSERT_EQUAL(pair_cells_failed, 0);
	pair_cells_total += pair_cells_run - before;
	fam->outside(row, &st, exportable, imported, imported_len);

	for (int v = 0; v < 2; v++) {
		if (st.plain[v] != NULL)
			explicit_bzero(st.plain[v], st.plain_len[v]);
		free(st.plain[v]);
	}
	if (imported != NULL)
		explicit_bzero(imported, imported_len);
	free(imported);
	explicit_bzero(st.des3_key, sizeof st.des3_key);
	CryptDestroyKey(st.des3);
	CryptDestroyKey(st.key);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CryptAcquireContextA(&h, row, uri1, PROV_DSS_DH, CRYPT_DELETEKEYSET);
}

/* Every family: generated exportable and not, imported exportable and
 * not. */
static void test_matrix_pairs(void)
{
	for (size_t i = 0; i < N_ELEMENTS(pair_families); i++) {
		pair_row(&pair_families[i], PAIR_ROW_GENERATED, true);
		pair_row(&pair_families[i], PAIR_ROW_GENERATED, false);
		pair_row(&pair_families[i], PAIR_ROW_IMPORTED, true);
		pair_row(&pair_families[i], PAIR_ROW_IMPORTED, false);
	}
	CU_ASSERT_EQUAL(pair_cells_total,
			(int)N_ELEMENTS(pair_families) * 2 * (pair_row_cells(true) +
							      pair_row_cells(false)));
}

static CU_TestInfo matrix_tests[] = {
	{ "RSA pairs from CryptGenKey", test_matrix_rsa_generated },
	{ "RSA pairs from PRIVATEKEYBLOB", test_matrix_rsa_imported },
	{ "RSA pair from pkcs11-tool", test_matrix_rsa_foreign },
	{ "session keys and a KEK", test_matrix_session },
	{ "the sensitive policy, the trusted KEK, wrapped arrivals", test_matrix_sensitive },
	{ "cells counted", test_matrix_summary },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo private_tests[] = {
	{ "export under a session key", test_private_encrypted_export },
	{ "import of openssl's encryption", test_private_encrypted_import },
	{ "round trip between contexts", test_private_encrypted_roundtrip },
	{ "token calls and token failures", test_private_encrypted_shim },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo import_tests[] = {
	{ "CRYPT_IPSEC_HMAC_KEY", test_ipsec_hmac_key },
	{ "CRYPT_IPSEC_HMAC_KEY codec", test_ipsec_hmac_codec },
	{ "key pairs between two tokens", test_two_tokens_pairs },
	{ "session keys between two tokens", test_two_tokens_session },
	{ "SIMPLEBLOB to a card's key and back", test_simpleblob_card_key },
	{ "exportable-policy = sensitive", test_sensitive_policy },
	CU_TEST_INFO_NULL,
};

/* The trusted key-encryption key the matrix's trusted-KEK column uses,
 * made by the security officer before any test holds the token. */
static int matrix_init(void)
{
	static const BYTE operator_kek[32] = {
		0x9e, 0x21, 0x5b, 0xc7, 0x03, 0x8a, 0xf4, 0x6d, 0x12, 0xb9, 0x40, 0xe5, 0x7c, 0x36,
		0xa1, 0x58, 0xdf, 0x0c, 0x93, 0x4e, 0x27, 0xba, 0x65, 0x81, 0x1d, 0xc2, 0x5a, 0xf9,
		0x34, 0x87, 0x6e, 0x0b,
	};
	BYTE blob[12 + 32];
	DWORD len = testutil_plaintext_blob(blob, CALG_AES_256, operator_kek, 32);
	HCRYPTPROV h = 0;
	BOOL ok;

	if (!CryptAcquireContextA(&h, "mx-trusted", uri1_direct, PROV_RSA_FULL, CRYPT_NEWKEYSET))
		return -1;
	ok = Capi11TrustKeyA(h, blob, len, FIXTURE_SO_PIN, FIXTURE_PIN, 0, NULL);
	CryptReleaseContext(h, 0);
	return ok ? 0 : -1;
}

/* The DSS provider types' pairs: SoftHSM only (a card's DSS and DH
 * answers are tests/test-cards.c's). */
static CU_TestInfo pair_tests[] = {
	{ "DSS and DH pairs (the pair-family table)", test_matrix_pairs },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "export matrix", matrix_init, NULL, NULL, NULL, matrix_tests },
	{ "export matrix of DSS and DH pairs", NULL, NULL, NULL, NULL, pair_tests },
	{ "encrypted PRIVATEKEYBLOB", NULL, NULL, NULL, NULL, private_tests },
	{ "imports", NULL, NULL, NULL, NULL, import_tests },
	CU_SUITE_INFO_NULL,
};

/* On a card profile: the export matrix, the refusal of an encrypted
 * PRIVATEKEYBLOB, CRYPT_IPSEC_HMAC_KEY and the card key's SIMPLEBLOB. The
 * other
 * tests need pairs that are exportable or made elsewhere, which no card
 * profile holds (their refusals are the matrix's), or move keys between
 * two SoftHSM tokens. */
static CU_TestInfo card_import_tests[] = {
	{ "CRYPT_IPSEC_HMAC_KEY", test_ipsec_hmac_key },
	{ "SIMPLEBLOB to a card's key and back", test_simpleblob_card_key },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo card_private_tests[] = {
	{ "import of openssl's encryption: refused", test_private_encrypted_import_card },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo card_suites[] = {
	{ "export matrix", matrix_init, NULL, NULL, NULL, matrix_tests },
	{ "encrypted PRIVATEKEYBLOB", NULL, NULL, NULL, NULL, card_private_tests },
	{ "imports", NULL, NULL, NULL, NULL, card_import_tests },
	CU_SUITE_INFO_NULL,
};

/* A configuration whose provider "sensitive" is token 1 under the
 * sensitive policy; the URIs the other tests use keep the default. */
static int write_config(void)
{
	char text[2048], *path;
	int n;

	n = snprintf(text, sizeof text, "[provider \"%s\"]\nuri = %s\nexportable-policy = sensitive\n",
		     sensitive_provider, uri1);
	if (n < 0 || (size_t)n >= sizeof text)
		return -1;
	path = fixture_write_file("capi11.conf", text, (size_t)n);
	if (path == NULL)
		return -1;
	setenv("CAPI11_CONF", path, 1);
	free(path);
	return 0;
}

int main(void)
{
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	/* SoftHSM reads its token directory once per process: the tokens and
	 * the pkcs11-tool pair are made before the first CryptoAPI call. */
	label1 = fixture_token_make("matrix");
	label2 = fixture_token_make("matrix2");
	if (fixture_pkcs11_tool(label1, true, NULL, "--keypairgen --key-type rsa:1024 "
				"--label mx-tool --id 0a") != 0) {
		fprintf(stderr, "pkcs11-tool --keypairgen failed\n");
		return FIXTURE_HARD_ERROR;
	}
	if (!testutil_card_from_env(&card))
		return FIXTURE_HARD_ERROR;
	uri1_direct = fixture_token_uri(label1);
	/* A card's own pair, on SoftHSM as it is too. */
	if (!testutil_card_keys_load(label1, false, CARD_CONTAINER)) {
		fprintf(stderr, "pkcs11-tool could not put the card's keys on the token\n");
		return FIXTURE_HARD_ERROR;
	}
	if (card == CARD_SOFTHSM) {
		uri1 = fixture_token_uri(label1);
		uri2 = fixture_token_uri(label2);
	} else {
		uri1 = fixture_token_uri_shim(label1, true);
		uri2 = fixture_token_uri_shim(label2, true);
		if (uri1 == NULL || uri2 == NULL ||
		    !testutil_card_set_profile(testutil_card_flags(card))) {
			fprintf(stderr, "the p11shim module was not built\n");
			return FIXTURE_HARD_ERROR;
		}
		fprintf(stderr, "card profile: %s\n", testutil_card_name(card));
	}
	if (write_config() != 0)
		return FIXTURE_HARD_ERROR;
	rc = cutest_run(card == CARD_SOFTHSM ? suites : card_suites);
	fixture_cleanup(rc == 0);
	free(uri1);
	free(uri1_direct);
	free(uri2);
	free(label1);
	free(label2);
	return rc;
}
