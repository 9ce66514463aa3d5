/* capi11 on card-shaped tokens: the shim's card profiles (p11shim.h) over
 * SoftHSM imitate tpm2-pkcs11, an OpenSC PIV card and a write-protected
 * card, and every CryptoAPI route a program takes on such a token is run
 * on each, against a table of expected answers.
 *
 * The table is written from the rules, not from what the code returns:
 * SPEC sections 3 to 7 and docs/CARDS.md (containers without markers,
 * key specs in CKA_ID, the codes for what a card cannot do). Cells whose
 * route needs the companion token (a second PKCS#11 token for session
 * keys, public-key operations and random numbers) are marked in the
 * needs_companion column; without a companion they answer
 * NTE_NOT_SUPPORTED, and the companion work flips them to success there.
 *
 * Key material comes from tests/vectors (made with openssl), and what a
 * card holds is put on its SoftHSM token with pkcs11-tool before the
 * profile is switched on. After every refused cell the token holds what
 * it held before, as pkcs11-tool (another process, SoftHSM directly)
 * counts it. */
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum profile { PLAIN, TPM, PIV, READONLY, N_PROFILES };

static const struct {
	const char *name;
	const char *prefix;
	unsigned flags;
} profiles[N_PROFILES] = {
	[PLAIN] = { "SoftHSM", "cards-plain", 0 },
	[TPM] = { "TPM (tpm2-pkcs11)", "cards-tpm", P11SHIM_PROFILE_TPM },
	[PIV] = { "PIV card (OpenSC)", "cards-piv", P11SHIM_PROFILE_PIV },
	[READONLY] = { "read-only card", "cards-ro", P11SHIM_PROFILE_READONLY_CARD },
};

static char *labels[N_PROFILES];
static char *uris[N_PROFILES];
/* A TPM's behaviour on a token the quirks table does not know (its token
 * info is SoftHSM's): capi11 learns from the token's answers. */
static char *learn_label, *learn_uri;
/* A token that only test_dss_no_dsa uses, without DSA from its first use. */
static char *nodsa_label, *nodsa_uri, *nodh_label, *nodh_uri;
/* The SoftHSM token of the PLAIN profile reached directly, not through
 * the shim: a partner whose mechanisms no test hides. */
static char *direct_uri;
#define PROFILE_TPM_UNKNOWN (P11SHIM_PROFILE_TPM & ~(unsigned)P11SHIM_CARD_TPM_INFO)
static void (*set_profile)(unsigned flags);

/* The container that cards bring with them (PIV, read-only): made with
 * pkcs11-tool before the profile is on, as a card's own provisioning
 * would. */
#define CARD_CONTAINER "card"

/* ---- helpers ---- */

static BYTE *vector(const char *name, DWORD *len)
{
	BYTE *b = testutil_vector_read(name, len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	return b;
}

/* Objects on the token, as pkcs11-tool (logged in, SoftHSM directly)
 * lists them: every object line it prints. */
static int objects_on_label(const char *label);

static int objects_on(enum profile p)
{
	return objects_on_label(labels[p]);
}

static int objects_on_label(const char *label)
{
	static const char *const kinds[] = {
		"Private Key Object", "Public Key Object", "Data object", "Secret Key Object",
	};
	char *out = NULL, *line, *save = NULL;
	int n = 0;

	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(label, true, &out, "--list-objects"), 0);
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
			if (strncmp(line, kinds[i], strlen(kinds[i])) == 0)
				n++;
		}
	}
	free(out);
	return n;
}

static DWORD acquire(enum profile p, const char *container, DWORD flags, HCRYPTPROV *h)
{
	*h = 0;
	SetLastError(SENTINEL);
	if (CryptAcquireContextA(h, container, uris[p], PROV_RSA_FULL, flags))
		return ERROR_SUCCESS;
	return GetLastError();
}

static bool enum_lists(HCRYPTPROV h, const char *name)
{
	char buf[512];
	DWORD len = sizeof buf, flag = CRYPT_FIRST;

	while (len = sizeof buf, CryptGetProvParam(h, PP_ENUMCONTAINERS, (BYTE *)buf, &len, flag)) {
		flag = 0;
		if (strcmp(buf, name) == 0)
			return true;
	}
	return false;
}

static DWORD call_result(BOOL ok)
{
	return ok ? ERROR_SUCCESS : GetLastError();
}

static ALG_ID key_alg(HCRYPTKEY k)
{
	ALG_ID alg = 0;
	DWORD len = sizeof alg;

	if (!CryptGetKeyParam(k, KP_ALGID, (BYTE *)&alg, &len, 0))
		return 0;
	return alg;
}

/* ---- the cells ---- */

enum cell {
	C_NEWKEYSET,          /* CRYPT_NEWKEYSET of a new container */
	C_OPEN,               /* then flags 0, from another context */
	C_ENUM,               /* then PP_ENUMCONTAINERS lists it */
	C_GENKEY_X,           /* CryptGenKey(AT_KEYEXCHANGE) */
	C_GENKEY_S,           /* CryptGenKey(AT_SIGNATURE), back as AT_SIGNATURE */
	C_GENKEY_EXPORTABLE,  /* CryptGenKey(AT_KEYEXCHANGE | CRYPT_EXPORTABLE), twice */
	C_IMPORT_PRIVATE,     /* PRIVATEKEYBLOB */
	C_IMPORT_PRIVATE_EXP, /* PRIVATEKEYBLOB with CRYPT_EXPORTABLE */
	C_IMPORT_PUBLIC,      /* a partner's PUBLICKEYBLOB */
	C_GENKEY_AES,         /* CryptGenKey(CALG_AES_256) */
	C_IMPORT_PLAINTEXT,   /* PLAINTEXTKEYBLOB, AES-128 */
	C_SIMPLE_IMPORT,      /* SIMPLEBLOB to the exchange key */
	C_RSA_ENCRYPT,        /* CryptEncrypt with the exchange key */
	C_RSA_DECRYPT,        /* CryptDecrypt with the exchange key */
	C_EXPORT_PUBLIC,      /* PUBLICKEYBLOB of the exchange key */
	C_EXPORT_PRIVATE,     /* PRIVATEKEYBLOB of it (never exportable here) */
	C_RANDOM,             /* CryptGenRandom */
	C_DELETE,             /* CRYPT_DELETEKEYSET of the new container */
	N_CELLS
};

static const char *const cell_names[N_CELLS] = {
	"CRYPT_NEWKEYSET", "open (flags 0)", "PP_ENUMCONTAINERS", "CryptGenKey AT_KEYEXCHANGE",
	"CryptGenKey AT_SIGNATURE", "CryptGenKey CRYPT_EXPORTABLE", "PRIVATEKEYBLOB",
	"PRIVATEKEYBLOB CRYPT_EXPORTABLE", "PUBLICKEYBLOB import", "CryptGenKey CALG_AES_256",
	"PLAINTEXTKEYBLOB", "SIMPLEBLOB import", "RSA CryptEncrypt", "RSA CryptDecrypt",
	"PUBLICKEYBLOB export", "PRIVATEKEYBLOB export", "CryptGenRandom", "CRYPT_DELETEKEYSET",
};

#define OK ERROR_SUCCESS

/* What each profile must answer. Rules:
 * - a write-protected token stores nothing: NTE_PERM for every new
 *   container, key pair and private key (docs/CARDS.md);
 * - a token that refuses the marker holds a new container in the
 *   process: CRYPT_NEWKEYSET, opening, listing and deleting work;
 * - a card without C_GenerateKeyPair (its mechanism absent) cannot make
 *   pairs: NTE_NOT_SUPPORTED, as for any C_CreateObject it refuses;
 * - a token that refuses private-key objects (tpm2-pkcs11) has no route
 *   for a PRIVATEKEYBLOB: NTE_NOT_SUPPORTED;
 * - a token known to refuse extractable private keys answers
 *   CRYPT_EXPORTABLE with NTE_BAD_FLAGS, without the token when it knows
 *   (tpm2-pkcs11's quirk), every time;
 * - capi11's AT_SIGNATURE pair comes back as AT_SIGNATURE on a TPM too;
 * - private-key operations work on every card;
 * - the exchange key the data cells use was imported without
 *   CRYPT_EXPORTABLE, or sits on a card, which lets no private key out:
 *   PRIVATEKEYBLOB is NTE_BAD_KEY_STATE (SPEC 4). */
static const DWORD expected[N_PROFILES][N_CELLS] = {
	[PLAIN] = {
		[C_NEWKEYSET] = OK, [C_OPEN] = OK, [C_ENUM] = OK,
		[C_GENKEY_X] = OK, [C_GENKEY_S] = OK, [C_GENKEY_EXPORTABLE] = OK,
		[C_IMPORT_PRIVATE] = OK, [C_IMPORT_PRIVATE_EXP] = OK, [C_IMPORT_PUBLIC] = OK,
		[C_GENKEY_AES] = OK, [C_IMPORT_PLAINTEXT] = OK, [C_SIMPLE_IMPORT] = OK,
		[C_RSA_ENCRYPT] = OK, [C_RSA_DECRYPT] = OK, [C_EXPORT_PUBLIC] = OK,
		[C_EXPORT_PRIVATE] = NTE_BAD_KEY_STATE, [C_RANDOM] = OK, [C_DELETE] = OK,
	},
	[TPM] = {
		[C_NEWKEYSET] = OK, [C_OPEN] = OK, [C_ENUM] = OK,
		[C_GENKEY_X] = OK, [C_GENKEY_S] = OK, [C_GENKEY_EXPORTABLE] = NTE_BAD_FLAGS,
		[C_IMPORT_PRIVATE] = NTE_NOT_SUPPORTED, [C_IMPORT_PRIVATE_EXP] = NTE_BAD_FLAGS,
		[C_IMPORT_PUBLIC] = OK,
		[C_GENKEY_AES] = NTE_NOT_SUPPORTED, [C_IMPORT_PLAINTEXT] = NTE_NOT_SUPPORTED,
		[C_SIMPLE_IMPORT] = NTE_NOT_SUPPORTED,
		[C_RSA_ENCRYPT] = OK, [C_RSA_DECRYPT] = OK, [C_EXPORT_PUBLIC] = OK,
		[C_EXPORT_PRIVATE] = NTE_BAD_KEY_STATE, [C_RANDOM] = OK, [C_DELETE] = OK,
	},
	[PIV] = {
		[C_NEWKEYSET] = OK, [C_OPEN] = OK, [C_ENUM] = OK,
		[C_GENKEY_X] = NTE_NOT_SUPPORTED, [C_GENKEY_S] = NTE_NOT_SUPPORTED,
		[C_GENKEY_EXPORTABLE] = NTE_NOT_SUPPORTED,
		[C_IMPORT_PRIVATE] = NTE_NOT_SUPPORTED, [C_IMPORT_PRIVATE_EXP] = NTE_NOT_SUPPORTED,
		[C_IMPORT_PUBLIC] = NTE_NOT_SUPPORTED,
		[C_GENKEY_AES] = NTE_NOT_SUPPORTED, [C_IMPORT_PLAINTEXT] = NTE_NOT_SUPPORTED,
		[C_SIMPLE_IMPORT] = NTE_NOT_SUPPORTED,
		[C_RSA_ENCRYPT] = NTE_NOT_SUPPORTED, [C_RSA_DECRYPT] = OK, [C_EXPORT_PUBLIC] = OK,
		[C_EXPORT_PRIVATE] = NTE_BAD_KEY_STATE, [C_RANDOM] = NTE_NOT_SUPPORTED, [C_DELETE] = OK,
	},
	[READONLY] = {
		[C_NEWKEYSET] = NTE_PERM, [C_OPEN] = OK, [C_ENUM] = OK,
		[C_GENKEY_X] = NTE_PERM, [C_GENKEY_S] = NTE_PERM, [C_GENKEY_EXPORTABLE] = NTE_PERM,
		[C_IMPORT_PRIVATE] = NTE_PERM, [C_IMPORT_PRIVATE_EXP] = NTE_PERM,
		[C_IMPORT_PUBLIC] = NTE_NOT_SUPPORTED,
		[C_GENKEY_AES] = NTE_NOT_SUPPORTED, [C_IMPORT_PLAINTEXT] = NTE_NOT_SUPPORTED,
		[C_SIMPLE_IMPORT] = NTE_NOT_SUPPORTED,
		[C_RSA_ENCRYPT] = NTE_NOT_SUPPORTED, [C_RSA_DECRYPT] = OK, [C_EXPORT_PUBLIC] = OK,
		[C_EXPORT_PRIVATE] = NTE_BAD_KEY_STATE, [C_RANDOM] = NTE_NOT_SUPPORTED, [C_DELETE] = NTE_PERM,
	},
};

/* Cells whose route is the companion token's: session keys, a partner's
 * public key, public-key operations and random numbers on a token that
 * cannot. They succeed with a companion, leaving nothing on the card, and
 * answer no_companion_answer() under "companion = none". */
static const bool needs_companion[N_PROFILES][N_CELLS] = {
	[TPM] = {
		[C_GENKEY_AES] = true, [C_IMPORT_PLAINTEXT] = true, [C_SIMPLE_IMPORT] = true,
	},
	[PIV] = {
		[C_IMPORT_PUBLIC] = true, [C_GENKEY_AES] = true, [C_IMPORT_PLAINTEXT] = true,
		[C_SIMPLE_IMPORT] = true, [C_RSA_ENCRYPT] = true, [C_RANDOM] = true,
	},
	[READONLY] = {
		[C_IMPORT_PUBLIC] = true, [C_GENKEY_AES] = true, [C_IMPORT_PLAINTEXT] = true,
		[C_SIMPLE_IMPORT] = true, [C_RSA_ENCRYPT] = true, [C_RANDOM] = true,
	},
};

/* Whether the matrix runs with the default companion token (NSS's
 * softokn) or under "companion = none" (docs/capi11.conf.5). */
static bool companion_on = true;

/* A companion cell's answer when there is no companion: a session key
 * that no token can make is an algorithm the provider does not offer
 * (CryptGenKey's and CryptImportKey's NTE_BAD_ALGID); every other route
 * is an operation it does not support (SPEC section 7). */
static DWORD no_companion_answer(enum cell c)
{
	return c == C_GENKEY_AES || c == C_IMPORT_PLAINTEXT ? NTE_BAD_ALGID : NTE_NOT_SUPPORTED;
}

static DWORD want(enum profile p, enum cell c)
{
	if (!needs_companion[p][c])
		return expected[p][c];
	return companion_on ? ERROR_SUCCESS : no_companion_answer(c);
}

static int cells_run, cells_failed;

static void cell_check(enum profile p, enum cell c, DWORD got)
{
	DWORD w = want(p, c);
	const char *wn = Capi11ErrorNameA(w), *gn = Capi11ErrorNameA(got);

	cells_run++;
	if (got != w) {
		cells_failed++;
		fprintf(stderr, "\n  %s / %s: got %s (0x%08x), want %s (0x%08x)%s\n", profiles[p].name,
			cell_names[c], gn ? gn : "?", (unsigned)got, wn ? wn : "?", (unsigned)w,
			needs_companion[p][c] ? " [needs companion]" : "");
	}
	CU_ASSERT_EQUAL(got, w);
}

/* A refused cell leaves the token as it was. */
static void cell_check_kept(enum profile p, enum cell c, DWORD got, int before)
{
	cell_check(p, c, got);
	/* ... and so does a route the companion served. */
	if (got != ERROR_SUCCESS || needs_companion[p][c])
		CU_ASSERT_EQUAL(objects_on(p), before);
}

/* ---- one profile through every cell ---- */

struct run {
	enum profile p;
	HCRYPTPROV h;          /* the container whose keys the cells use */
	HCRYPTKEY xkey;        /* its exchange key, 0 when it has none */
};

/* Containers: a new one, opened, listed, (deleted at the end). */
static void run_containers(struct run *r, const char *name)
{
	HCRYPTPROV h = 0, h2 = 0;
	int before = objects_on(r->p);
	DWORD err;

	err = acquire(r->p, name, CRYPT_NEWKEYSET, &h);
	cell_check_kept(r->p, C_NEWKEYSET, err, before);
	/* On a token that cannot hold it, the cells below use the
	 * container the card came with. */
	if (err != ERROR_SUCCESS)
		name = CARD_CONTAINER;
	err = acquire(r->p, name, 0, &h2);
	cell_check(r->p, C_OPEN, err);
	cell_check(r->p, C_ENUM, h2 != 0 && enum_lists(h2, name) ? ERROR_SUCCESS : NTE_NOT_FOUND);
	if (h != 0)
		CryptReleaseContext(h, 0);
	r->h = h2;
}

static void run_genkeys(struct run *r, const char *name)
{
	HCRYPTKEY k = 0;
	HCRYPTPROV fresh = 0;
	int before = objects_on(r->p);
	DWORD err, err2;

	err = call_result(CryptGenKey(r->h, AT_KEYEXCHANGE, 1024 << 16, &k));
	cell_check_kept(r->p, C_GENKEY_X, err, before);
	if (k != 0)
		CryptDestroyKey(k);
	k = 0;
	before = objects_on(r->p);
	err = call_result(CryptGenKey(r->h, AT_SIGNATURE, 1024 << 16, &k));
	if (k != 0)
		CryptDestroyKey(k);
	/* What the container holds, seen from another context. */
	if (err == ERROR_SUCCESS && acquire(r->p, name, 0, &fresh) == ERROR_SUCCESS) {
		k = 0;
		if (!CryptGetUserKey(fresh, AT_SIGNATURE, &k))
			err = GetLastError();
		else if (key_alg(k) != CALG_RSA_SIGN)
			err = NTE_BAD_KEY;
		if (k != 0)
			CryptDestroyKey(k);
		CryptReleaseContext(fresh, 0);
	}
	cell_check_kept(r->p, C_GENKEY_S, err, before);

	/* Asked twice: a token that refused once answers alike without
	 * being asked again. */
	before = objects_on(r->p);
	k = 0;
	err = call_result(CryptGenKey(r->h, AT_KEYEXCHANGE, (1024 << 16) | CRYPT_EXPORTABLE, &k));
	if (k != 0)
		CryptDestroyKey(k);
	k = 0;
	err2 = call_result(CryptGenKey(r->h, AT_KEYEXCHANGE, (1024 << 16) | CRYPT_EXPORTABLE, &k));
	if (k != 0)
		CryptDestroyKey(k);
	CU_ASSERT_EQUAL(err, err2);
	cell_check_kept(r->p, C_GENKEY_EXPORTABLE, err, before);
}

/* The exchange key the data cells use: rsa1024 from the vectors,
 * imported (or already on the card), so that openssl's ciphertexts of
 * the vectors decrypt with it. */
static void run_imports(struct run *r)
{
	DWORD priv_len, pub_len, err;
	BYTE *priv = vector("rsa1024-priv.blob", &priv_len);
	BYTE *pub = vector("rsa512-pub.blob", &pub_len);
	BYTE plain[12 + 16];
	HCRYPTKEY k = 0;
	int before;

	before = objects_on(r->p);
	err = call_result(CryptImportKey(r->h, priv, priv_len, 0, CRYPT_EXPORTABLE, &k));
	cell_check_kept(r->p, C_IMPORT_PRIVATE_EXP, err, before);
	if (k != 0)
		CryptDestroyKey(k);
	k = 0;
	before = objects_on(r->p);
	err = call_result(CryptImportKey(r->h, priv, priv_len, 0, 0, &k));
	cell_check_kept(r->p, C_IMPORT_PRIVATE, err, before);
	if (k != 0)
		CryptDestroyKey(k);
	k = 0;
	before = objects_on(r->p);
	err = call_result(CryptImportKey(r->h, pub, pub_len, 0, 0, &k));
	cell_check_kept(r->p, C_IMPORT_PUBLIC, err, before);
	if (k != 0)
		CryptDestroyKey(k);
	k = 0;
	before = objects_on(r->p);
	err = call_result(CryptGenKey(r->h, CALG_AES_256, 0, &k));
	cell_check_kept(r->p, C_GENKEY_AES, err, before);
	if (k != 0)
		CryptDestroyKey(k);
	k = 0;
	{
		DWORD key_len;
		BYTE *key = vector("aes128.key", &key_len);

		testutil_plaintext_blob(plain, CALG_AES_128, key, key_len);
		before = objects_on(r->p);
		err = call_result(CryptImportKey(r->h, plain, 12 + key_len, 0, 0, &k));
		cell_check_kept(r->p, C_IMPORT_PLAINTEXT, err, before);
		if (err == ERROR_SUCCESS)
			testutil_check_encrypts_as(k, "-aes-128-cbc", key, key_len, 16);
		if (k != 0)
			CryptDestroyKey(k);
		free(key);
	}
	free(priv);
	free(pub);
	r->xkey = 0;
	/* The data cells need openssl's rsa1024 as the exchange key: the one
	 * imported above where the token took it. */
	if (expected[r->p][C_IMPORT_PRIVATE] == OK) {
		CU_ASSERT_TRUE(CryptGetUserKey(r->h, AT_KEYEXCHANGE, &r->xkey));
		return;
	}
	/* A card that took no key of openssl's: the data cells use the keys
	 * it came with. */
	CryptReleaseContext(r->h, 0);
	CU_ASSERT_EQUAL_FATAL(acquire(r->p, CARD_CONTAINER, 0, &r->h), ERROR_SUCCESS);
	if (!CryptGetUserKey(r->h, AT_KEYEXCHANGE, &r->xkey))
		r->xkey = 0;
}

static void run_data(struct run *r)
{
	DWORD simple_len, ct_len, key_len, pub_len, len, err;
	BYTE *simple = vector("rsa1024-simple.blob", &simple_len);
	BYTE *ct = vector("rsa1024-simple.ct", &ct_len);
	BYTE *aes = vector("aes128.key", &key_len);
	BYTE *want_pub = vector("rsa1024-pub.blob", &pub_len);
	BYTE buf[256], rnd[32] = { 0 }, zero[32] = { 0 };
	HCRYPTKEY k = 0;
	int before;

	CU_ASSERT_NOT_EQUAL_FATAL(r->xkey, 0);
	before = objects_on(r->p);
	err = call_result(CryptImportKey(r->h, simple, simple_len, r->xkey, 0, &k));
	cell_check_kept(r->p, C_SIMPLE_IMPORT, err, before);
	if (err == ERROR_SUCCESS)
		testutil_check_encrypts_as(k, "-aes-128-cbc", aes, key_len, 16);
	if (k != 0)
		CryptDestroyKey(k);

	/* Encrypting with the exchange key, decrypted again by the card. */
	memcpy(buf, aes, key_len);
	len = key_len;
	err = call_result(CryptEncrypt(r->xkey, 0, TRUE, 0, buf, &len, sizeof buf));
	cell_check(r->p, C_RSA_ENCRYPT, err);
	if (err == ERROR_SUCCESS) {
		CU_ASSERT_EQUAL(len, 128);
		CU_ASSERT_TRUE(CryptDecrypt(r->xkey, 0, TRUE, 0, buf, &len));
		CU_ASSERT_TRUE(len == key_len && memcmp(buf, aes, key_len) == 0);
	}

	/* openssl's PKCS#1 ciphertext, byte-reversed as CryptDecrypt takes
	 * it. */
	CU_ASSERT_EQUAL_FATAL(ct_len, 128);
	for (DWORD i = 0; i < ct_len; i++)
		buf[i] = ct[ct_len - 1 - i];
	len = ct_len;
	err = call_result(CryptDecrypt(r->xkey, 0, TRUE, 0, buf, &len));
	if (err == ERROR_SUCCESS && !(len == key_len && memcmp(buf, aes, key_len) == 0))
		err = NTE_BAD_DATA;
	cell_check(r->p, C_RSA_DECRYPT, err);

	/* The exchange key is openssl's rsa1024: its PUBLICKEYBLOB is
	 * openssl's byte for byte. */
	len = sizeof buf;
	err = call_result(CryptExportKey(r->xkey, 0, PUBLICKEYBLOB, 0, buf, &len));
	if (err == ERROR_SUCCESS && !(len == pub_len && memcmp(buf, want_pub, len) == 0))
		err = NTE_BAD_DATA;
	cell_check(r->p, C_EXPORT_PUBLIC, err);

	len = sizeof buf;
	err = call_result(CryptExportKey(r->xkey, 0, PRIVATEKEYBLOB, 0, buf, &len));
	cell_check(r->p, C_EXPORT_PRIVATE, err);

	err = call_result(CryptGenRandom(r->h, sizeof rnd, rnd));
	if (err == ERROR_SUCCESS && memcmp(rnd, zero, sizeof rnd) == 0)
		err = NTE_FAIL;
	cell_check(r->p, C_RANDOM, err);

	free(simple);
	free(ct);
	free(aes);
	free(want_pub);
}

static void run_profile(enum profile p)
{
	struct run r = { p, 0, 0 };
	char name[64];
	HCRYPTPROV h = 0;
	DWORD err;
	int before;

	snprintf(name, sizeof name, "new-%d-%s", (int)p, companion_on ? "c" : "none");
	set_profile(profiles[p].flags);
	run_containers(&r, name);
	CU_ASSERT_NOT_EQUAL_FATAL(r.h, 0);
	run_genkeys(&r, name);
	run_imports(&r);
	run_data(&r);
	if (r.xkey != 0)
		CryptDestroyKey(r.xkey);
	CryptReleaseContext(r.h, 0);

	/* Deleting the new container (the card's own on a token that
	 * could not make one). */
	before = objects_on(p);
	err = acquire(p, expected[p][C_NEWKEYSET] == OK ? name : CARD_CONTAINER,
		      CRYPT_DELETEKEYSET, &h);
	cell_check_kept(p, C_DELETE, err, before);
	if (err == ERROR_SUCCESS) {
		CU_ASSERT_EQUAL(acquire(p, name, 0, &h), NTE_BAD_KEYSET);
	}
	set_profile(0);
}

static void test_cards_plain(void)
{
	run_profile(PLAIN);
}

static void test_cards_tpm(void)
{
	run_profile(TPM);
}

static void test_cards_piv(void)
{
	run_profile(PIV);
}

static void test_cards_readonly(void)
{
	run_profile(READONLY);
}

static void test_cards_summary(void)
{
	fprintf(stderr, "\n  card matrix (%s): %d cells, %d failed\n",
		companion_on ? "companion: NSS softokn" : "companion = none", cells_run,
		cells_failed);
	CU_ASSERT_EQUAL(cells_run, N_PROFILES * N_CELLS);
	CU_ASSERT_EQUAL(cells_failed, 0);
}

static int matrix_init(void)
{
	cells_run = cells_failed = 0;
	companion_on = true;
	fixture_no_installed_conf();
	return 0;
}

/* The same matrix without a companion token. */
static int matrix_none_init(void)
{
	static const char conf[] = "[capi11]\ncompanion = none\n";
	char *path = fixture_write_file("companion-none.conf", conf, sizeof conf - 1);

	if (path == NULL)
		return 1;
	setenv("CAPI11_CONF", path, 1);
	free(path);
	cells_run = cells_failed = 0;
	companion_on = false;
	return 0;
}

static int matrix_none_cleanup(void)
{
	companion_on = true;
	unsetenv("CAPI11_CONF");
	fixture_no_installed_conf();
	return 0;
}

/* ---- containers without markers ---- */

/* On a card that holds no data object, a new container lives in this
 * process until its first key: another process does not see it, and
 * nothing was written to the token. */
static void test_pending_not_on_token(void)
{
	HCRYPTPROV h = 0;
	int before = objects_on(PIV);

	set_profile(profiles[PIV].flags);
	CU_ASSERT_EQUAL(acquire(PIV, "pending", CRYPT_NEWKEYSET, &h), ERROR_SUCCESS);
	CU_ASSERT_EQUAL(objects_on(PIV), before);
	CU_ASSERT_EQUAL(testutil_token_count(labels[PIV], "data", NULL), 0);
	/* A second CRYPT_NEWKEYSET: it exists (SPEC 3). */
	CU_ASSERT_EQUAL(acquire(PIV, "pending", CRYPT_NEWKEYSET, &(HCRYPTPROV){ 0 }), NTE_EXISTS);
	/* The empty container has no key (SPEC 3). */
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_KEYEXCHANGE, &(HCRYPTKEY){ 0 }), NTE_NO_KEY);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* Another container name on another token is another container. */
	CU_ASSERT_EQUAL(acquire(TPM, "pending", 0, &(HCRYPTPROV){ 0 }), NTE_BAD_KEYSET);
	CU_ASSERT_EQUAL(acquire(PIV, "pending", CRYPT_DELETEKEYSET, &h), ERROR_SUCCESS);
	CU_ASSERT_EQUAL(acquire(PIV, "pending", 0, &h), NTE_BAD_KEYSET);
	set_profile(0);
}

/* A silent CRYPT_NEWKEYSET without a PIN on a token that refuses public
 * data objects (tpm2-pkcs11): the container is held in the process; the
 * first key makes it the token's, and it is still there afterwards. */
static void test_pending_becomes_keys(void)
{
	char *nopin = fixture_token_uri_shim(labels[TPM], false);
	DWORD priv_len;
	BYTE *priv = vector("rsa1024-priv.blob", &priv_len);
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(nopin);
	set_profile(profiles[TPM].flags);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "silent", nopin, PROV_RSA_FULL,
						  CRYPT_NEWKEYSET | CRYPT_SILENT));
	CU_ASSERT_EQUAL(testutil_token_count(labels[TPM], "data", "silent"), 0);
	CU_ASSERT_TRUE(CryptSetProvParam(h, PP_KEYEXCHANGE_PIN, (const BYTE *)FIXTURE_PIN, 0));
	/* A TPM takes no private key made elsewhere: the first key is made
	 * on it. */
	CU_ASSERT_TRUE(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16, &k));
	CU_ASSERT_EQUAL(testutil_token_count(labels[TPM], "privkey", "silent"), 1);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
	CU_ASSERT_EQUAL(acquire(TPM, "silent", 0, &h), ERROR_SUCCESS);
	CU_ASSERT_TRUE(h != 0 && enum_lists(h, "silent"));
	CryptReleaseContext(h, 0);
	CU_ASSERT_EQUAL(acquire(TPM, "silent", CRYPT_DELETEKEYSET, &h), ERROR_SUCCESS);
	CU_ASSERT_EQUAL(testutil_token_count(labels[TPM], "privkey", "silent"), 0);
	set_profile(0);
	free(priv);
	free(nopin);
}

/* ---- key specs ---- */

/* A PIV card's keys: its digital signature key (ID 02) is AT_SIGNATURE
 * although the card lets it decrypt, its key management key (ID 03)
 * AT_KEYEXCHANGE; each is openssl's key that was put there. */
static void test_piv_layout(void)
{
	DWORD sig_len, x_len, len;
	BYTE *sig_pub = vector("rsa512-pub.blob", &sig_len);
	BYTE *x_pub = vector("rsa1024-pub.blob", &x_len);
	BYTE buf[256];
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;

	set_profile(profiles[PIV].flags);
	CU_ASSERT_EQUAL_FATAL(acquire(PIV, CARD_CONTAINER, 0, &h), ERROR_SUCCESS);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &k));
	CU_ASSERT_EQUAL(key_alg(k), CALG_RSA_SIGN);
	len = sizeof buf;
	CU_ASSERT_TRUE(CryptExportKey(k, 0, PUBLICKEYBLOB, 0, buf, &len));
	/* The blob names the key's algorithm; the numbers are openssl's. */
	CU_ASSERT_TRUE(len == sig_len && memcmp(buf + 8, sig_pub + 8, len - 8) == 0);
	CryptDestroyKey(k);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	CU_ASSERT_EQUAL(key_alg(k), CALG_RSA_KEYX);
	len = sizeof buf;
	CU_ASSERT_TRUE(CryptExportKey(k, 0, PUBLICKEYBLOB, 0, buf, &len));
	CU_ASSERT_TRUE(len == x_len && memcmp(buf, x_pub, len) == 0);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
	set_profile(0);
	free(sig_pub);
	free(x_pub);
}

/* On a token whose usages say the spec (plain SoftHSM), an ID that
 * records the other spec is not believed: a decrypting key written by
 * pkcs11-tool with capi11's signature record (CA 11 4B 53, 02) in its ID
 * is the container's exchange key (SPEC section 3's usage rule). */
static void test_contradicting_id(void)
{
	char path[4096];
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;

	snprintf(path, sizeof path, "%s/vectors/rsa1024.pem", TEST_SRCDIR);
	CU_ASSERT_EQUAL_FATAL(fixture_pkcs11_tool(labels[PLAIN], true, NULL,
						  "--write-object %s --type privkey --id "
						  "ca114b530200000000000000000000ff --label forged "
						  "--usage-decrypt", path), 0);
	CU_ASSERT_EQUAL_FATAL(acquire(PLAIN, "forged", 0, &h), ERROR_SUCCESS);
	CU_ASSERT_TRUE(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	if (k != 0)
		CU_ASSERT_EQUAL(key_alg(k), CALG_RSA_KEYX);
	CryptDestroyKey(k);
	k = 0;
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_SIGNATURE, &k), NTE_NO_KEY);
	CryptReleaseContext(h, 0);
}

/* On a TPM a signature pair also decrypts (the token makes it so), yet
 * it stays the container's signature key, and the container has no
 * exchange key. */
static void test_tpm_signature_stays(void)
{
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;

	set_profile(profiles[TPM].flags);
	CU_ASSERT_EQUAL_FATAL(acquire(TPM, "sig-only", CRYPT_NEWKEYSET, &h), ERROR_SUCCESS);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 1024 << 16, &k));
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
	CU_ASSERT_EQUAL_FATAL(acquire(TPM, "sig-only", 0, &h), ERROR_SUCCESS);
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_KEYEXCHANGE, &k), NTE_NO_KEY);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &k));
	CU_ASSERT_EQUAL(key_alg(k), CALG_RSA_SIGN);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
	CU_ASSERT_EQUAL(acquire(TPM, "sig-only", CRYPT_DELETEKEYSET, &h), ERROR_SUCCESS);
	set_profile(0);
}

/* The PKCS#11 cause stays behind the Windows code. */
static void test_pkcs11_cause(void)
{
	char fn[64];
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;

	set_profile(profiles[READONLY].flags);
	CU_ASSERT_EQUAL(acquire(READONLY, "never", CRYPT_NEWKEYSET, &h), NTE_PERM);
	CU_ASSERT_EQUAL(Capi11GetLastPkcs11Error(fn, sizeof fn), CKR_TOKEN_WRITE_PROTECTED);
	CU_ASSERT_STRING_EQUAL(fn, "C_CreateObject");
	set_profile(profiles[TPM].flags);
	CU_ASSERT_EQUAL_FATAL(acquire(TPM, "cause", CRYPT_NEWKEYSET, &h), ERROR_SUCCESS);
	CHECK_FAILS_WITH(CryptGenKey(h, AT_KEYEXCHANGE, CRYPT_EXPORTABLE, &k), NTE_BAD_FLAGS);
	CU_ASSERT_EQUAL(Capi11GetLastPkcs11Error(fn, sizeof fn), CKR_ATTRIBUTE_VALUE_INVALID);
	/* (Run without a companion: no token makes the key.) */
	CHECK_FAILS_WITH(CryptGenKey(h, CALG_AES_128, 0, &k), NTE_BAD_ALGID);
	CU_ASSERT_EQUAL(Capi11GetLastPkcs11Error(fn, sizeof fn), CKR_MECHANISM_INVALID);
	CU_ASSERT_STRING_EQUAL(fn, "C_GenerateKey");
	CryptReleaseContext(h, 0);
	CU_ASSERT_EQUAL(acquire(TPM, "cause", CRYPT_DELETEKEYSET, &h), ERROR_SUCCESS);
	set_profile(0);
}

/* ---- quirks ---- */

/* tpm2-pkcs11 is known by its module info (the quirks table): the first
 * CRYPT_EXPORTABLE pair is refused without asking the token, and a
 * signature pair is asked for with CKA_DECRYPT TRUE, which the token
 * would insist on. Runs before any other use of the TPM token. */
static void test_tpm_quirks(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	unsigned long pairs;
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	set_profile(profiles[TPM].flags);
	CU_ASSERT_EQUAL_FATAL(acquire(TPM, "quirks", CRYPT_NEWKEYSET, &h), ERROR_SUCCESS);
	pairs = shim->count("C_GenerateKeyPair");
	CHECK_FAILS_WITH(CryptGenKey(h, AT_KEYEXCHANGE, CRYPT_EXPORTABLE, &k), NTE_BAD_FLAGS);
	CU_ASSERT_EQUAL(shim->count("C_GenerateKeyPair"), pairs);
	CU_ASSERT_TRUE(CryptGenKey(h, AT_SIGNATURE, 1024 << 16, &k));
	CU_ASSERT_EQUAL(shim->count("C_GenerateKeyPair"), pairs + 1);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
	CU_ASSERT_EQUAL(acquire(TPM, "quirks", CRYPT_DELETEKEYSET, &h), ERROR_SUCCESS);
	set_profile(0);
}

/* ---- DSS on cards ---- */

static void (*set_mechanism)(CK_MECHANISM_TYPE mech, int mode);

/* The DSA mechanisms a card without DSA lacks (PKCS#11 2.40 section 2.2). */
static const CK_MECHANISM_TYPE dsa_mechs[] = {
	CKM_DSA, CKM_DSA_SHA1, CKM_DSA_KEY_PAIR_GEN, CKM_DSA_PARAMETER_GEN,
};

/* openssl's signature of msg by tests/vectors/dss1024.pem, in
 * CryptSignHash's DSS layout (Microsoft's page: r then s, 20 bytes each,
 * little-endian), taken from the DER SEQUENCE of two INTEGERs. */
static void dss_openssl_signature(const char *msg_path, BYTE sig[40])
{
	char *der_path = testutil_temp_path("dsssig");
	DWORD len = 0, at = 2;
	BYTE *der;

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s dgst -sha1 -sign %s/dss1024.pem -out %s %s",
					  OPENSSL_BIN, TEST_SRCDIR "/vectors", der_path, msg_path), 0);
	der = testutil_file_read(der_path, &len);
	CU_ASSERT_FATAL(der != NULL && len > 8 && der[0] == 0x30 && der[1] == len - 2);
	memset(sig, 0, 40);
	for (int half = 0; half < 2; half++) {
		DWORD n;

		CU_ASSERT_FATAL(at + 2 <= len && der[at] == 0x02);
		n = der[at + 1];
		at += 2;
		CU_ASSERT_FATAL(at + n <= len && n <= 21);
		/* Big-endian, maybe with a leading zero: little-endian into 20. */
		for (DWORD i = 0; i < n; i++) {
			BYTE b = der[at + n - 1 - i];

			if (i < 20)
				sig[half * 20 + i] = b;
			else
				CU_ASSERT_EQUAL_FATAL(b, 0);
		}
		at += n;
	}
	free(der);
	free(der_path);
}

/* CryptVerifySignature of msg's SHA-1 with key: the call's answer. */
static DWORD dss_verify(HCRYPTPROV h, HCRYPTKEY key, const char *msg, const BYTE sig[40])
{
	HCRYPTHASH hash = 0;
	DWORD got;

	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hash));
	CU_ASSERT_TRUE_FATAL(CryptHashData(hash, (const BYTE *)msg, (DWORD)strlen(msg), 0));
	SetLastError(SENTINEL);
	got = CryptVerifySignatureA(hash, sig, 40, key, NULL, 0) ? ERROR_SUCCESS : GetLastError();
	CryptDestroyHash(hash);
	return got;
}

static const char dss_msg[] = "a DSS signature from openssl, checked where the card cannot";

static char *dss_routes(HCRYPTPROV h)
{
	DWORD len = 0;
	char *text;

	CU_ASSERT_TRUE_FATAL(CryptGetProvParam(h, PP_CAPI11_ROUTES, NULL, &len, 0));
	text = calloc(1, len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_TRUE(CryptGetProvParam(h, PP_CAPI11_ROUTES, (BYTE *)text, &len, 0));
	return text;
}

/* A token without DSA (CKM_DSA* hidden and refused by the shim, from its
 * first use): DSS key generation and private-key import are NTE_BAD_ALGID
 * (the provider does not offer the algorithm on this token); a partner's
 * DSS public key goes to the companion token, where openssl's signature
 * verifies; without a companion it is NTE_BAD_ALGID too. Nothing is left
 * on the token. */
static void test_dss_no_dsa(void)
{
	const char *label = nodsa_label, *uri = nodsa_uri;
	char *msg_path = testutil_temp_write("dssmsg", dss_msg, strlen(dss_msg));
	BYTE *pub, *priv, sig[40];
	DWORD pub_len, priv_len;
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;
	char *routes;
	int before;

	CU_ASSERT_PTR_NOT_NULL_FATAL(set_mechanism);
	pub = vector("dss1024-pub.blob", &pub_len);
	priv = vector("dss1024-priv.blob", &priv_len);
	dss_openssl_signature(msg_path, sig);
	/* Hidden on every slot while this test runs; the other tokens'
	 * mechanisms were read before, and are shown again at the end. */
	for (size_t i = 0; i < sizeof dsa_mechs / sizeof dsa_mechs[0]; i++)
		set_mechanism(dsa_mechs[i], P11SHIM_MECH_HIDDEN | P11SHIM_MECH_REFUSED);

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dss-nodsa", uri, PROV_DSS_DH, CRYPT_NEWKEYSET));
	if (h == 0)
		goto out;
	before = objects_on_label(label);
	CHECK_FAILS_WITH(CryptGenKey(h, CALG_DSS_SIGN, 1024 << 16, &k), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptGenKey(h, AT_SIGNATURE, 0, &k), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptImportKey(h, priv, priv_len, 0, CRYPT_EXPORTABLE, &k),
			 NTE_BAD_ALGID);
	CU_ASSERT_EQUAL(objects_on_label(label), before);
	/* The partner's public key, on the companion (NSS's softokn). */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptImportKey(h, pub, pub_len, 0, 0, &k));
	CU_ASSERT_EQUAL(objects_on_label(label), before);
	if (k != 0) {
		CU_ASSERT_EQUAL(dss_verify(h, k, dss_msg, sig), ERROR_SUCCESS);
		sig[5] ^= 0x40;
		CU_ASSERT_EQUAL(dss_verify(h, k, dss_msg, sig), NTE_BAD_SIGNATURE);
		sig[5] ^= 0x40;
		CryptDestroyKey(k);
	}
	routes = dss_routes(h);
	CU_ASSERT_PTR_NOT_NULL(strstr(routes, " dss-key-pair=none dss-public-key-import=companion "));
	free(routes);
	CryptReleaseContext(h, 0);
	CryptAcquireContextA(&h, "dss-nodsa", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET);

	/* companion = none: no token verifies DSS here. */
	matrix_none_init();
	SetLastError(SENTINEL);
	h = 0;
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	if (h != 0) {
		CHECK_FAILS_WITH(CryptImportKey(h, pub, pub_len, 0, 0, &k), NTE_BAD_ALGID);
		routes = dss_routes(h);
		CU_ASSERT_PTR_NOT_NULL(strstr(routes, " dss-public-key-import=none "));
		free(routes);
		CryptReleaseContext(h, 0);
	}
	matrix_none_cleanup();
out:
	for (size_t i = 0; i < sizeof dsa_mechs / sizeof dsa_mechs[0]; i++)
		set_mechanism(dsa_mechs[i], 0);
	free(pub);
	free(priv);
	free(msg_path);
}

/* A card that holds no partner's public key (the PIV profile: OpenSC's
 * CKR_ARGUMENTS_BAD for a public key object) but has DSA: a DSS
 * PUBLICKEYBLOB is held and verifies on the companion, as an RSA one
 * does, leaving the card as it was; without a companion the route's
 * answer, NTE_NOT_SUPPORTED. */
static void test_dss_public_on_companion(void)
{
	char *msg_path = testutil_temp_write("dssmsg", dss_msg, strlen(dss_msg));
	BYTE *pub, sig[40];
	DWORD pub_len;
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;
	int before;

	pub = vector("dss1024-pub.blob", &pub_len);
	dss_openssl_signature(msg_path, sig);
	set_profile(profiles[PIV].flags);
	before = objects_on(PIV);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uris[PIV], PROV_DSS_DH,
						  CRYPT_VERIFYCONTEXT));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &k));
	CU_ASSERT_EQUAL(dss_verify(h, k, dss_msg, sig), ERROR_SUCCESS);
	sig[30] ^= 0x01;
	CU_ASSERT_EQUAL(dss_verify(h, k, dss_msg, sig), NTE_BAD_SIGNATURE);
	sig[30] ^= 0x01;
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
	CU_ASSERT_EQUAL(objects_on(PIV), before);

	matrix_none_init();
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uris[PIV], PROV_DSS_DH,
						  CRYPT_VERIFYCONTEXT));
	CHECK_FAILS_WITH(CryptImportKey(h, pub, pub_len, 0, 0, &k), NTE_NOT_SUPPORTED);
	CryptReleaseContext(h, 0);
	matrix_none_cleanup();
	CU_ASSERT_EQUAL(objects_on(PIV), before);
	set_profile(0);
	free(pub);
	free(msg_path);
}

/* ---- Diffie-Hellman on cards ---- */

/* The DH mechanisms a token without DH lacks (PKCS#11 2.40 section 2.7). */
static const CK_MECHANISM_TYPE dh_mechs[] = {
	CKM_DH_PKCS_KEY_PAIR_GEN, CKM_DH_PKCS_DERIVE, CKM_DH_PKCS_PARAMETER_GEN,
};

static DWORD key_dword_of(HCRYPTKEY k, DWORD param)
{
	DWORD v = 0, len = sizeof v;

	CU_ASSERT_TRUE(CryptGetKeyParam(k, param, (BYTE *)&v, &len, 0));
	return v;
}

static BYTE *export_of(HCRYPTKEY k, DWORD type, DWORD flags, DWORD *len)
{
	BYTE *b;

	*len = 0;
	CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, type, flags, NULL, len));
	b = malloc(*len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, type, flags, b, len));
	return b;
}

/* A DH key of hs (a PROV_DSS_DH context) with the p and g of model
 * (CRYPT_PREGEN, KP_P, KP_G, KP_X); 0 when a step fails. */
static HCRYPTKEY dh_partner_like(HCRYPTPROV hs, HCRYPTKEY model)
{
	CRYPT_DATA_BLOB pb, gb;
	BYTE p[512], g[512];
	DWORD pl = sizeof p, gl = sizeof g;
	HCRYPTKEY k = 0;

	CU_ASSERT_TRUE(CryptGetKeyParam(model, KP_P, p, &pl, 0));
	CU_ASSERT_TRUE(CryptGetKeyParam(model, KP_G, g, &gl, 0));
	pb = (CRYPT_DATA_BLOB){ pl, p };
	gb = (CRYPT_DATA_BLOB){ gl, g };
	SetLastError(SENTINEL);
	if (!CryptGenKey(hs, CALG_DH_EPHEM, (pl * 8) << 16 | CRYPT_PREGEN, &k)) {
		CU_FAIL("CryptGenKey(CALG_DH_EPHEM, CRYPT_PREGEN)");
		fprintf(stderr, "CRYPT_PREGEN: 0x%08lx\n", (unsigned long)GetLastError());
		return 0;
	}
	if (!CryptSetKeyParam(k, KP_P, (const BYTE *)&pb, 0) ||
	    !CryptSetKeyParam(k, KP_G, (const BYTE *)&gb, 0) ||
	    !CryptSetKeyParam(k, KP_X, NULL, 0)) {
		CU_FAIL("KP_P, KP_G, KP_X");
		fprintf(stderr, "KP_P/KP_G/KP_X: 0x%08lx\n", (unsigned long)GetLastError());
		CryptDestroyKey(k);
		return 0;
	}
	return k;
}

/* An ephemeral key of h and one of SoftHSM (reached directly) agree:
 * each side imports the other's public blob with its own key as hPubKey,
 * and after KP_ALGID CALG_3DES each decrypts what the other encrypted. */
static void dh_agree_with_softhsm(HCRYPTPROV h, HCRYPTKEY eph)
{
	static const BYTE plain[] = "agreed on the companion, checked on SoftHSM";
	HCRYPTPROV hs = 0;
	HCRYPTKEY partner, sa = 0, sb = 0;
	BYTE *pa, *pb, buf[64];
	DWORD la, lb, n;
	ALG_ID alg = CALG_3DES;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&hs, NULL, direct_uri, PROV_DSS_DH,
						  CRYPT_VERIFYCONTEXT));
	partner = dh_partner_like(hs, eph);
	if (partner == 0) {
		CryptReleaseContext(hs, 0);
		return;
	}
	pa = export_of(eph, PUBLICKEYBLOB, CRYPT_BLOB_VER3, &la);
	pb = export_of(partner, PUBLICKEYBLOB, 0, &lb);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptImportKey(h, pb, lb, eph, 0, &sa));
	CU_ASSERT_TRUE(CryptImportKey(hs, pa, la, partner, 0, &sb));
	if (sa != 0 && sb != 0) {
		CU_ASSERT_EQUAL(key_dword_of(sa, KP_ALGID), CALG_AGREEDKEY_ANY);
		CU_ASSERT_TRUE(CryptSetKeyParam(sa, KP_ALGID, (const BYTE *)&alg, 0));
		CU_ASSERT_TRUE(CryptSetKeyParam(sb, KP_ALGID, (const BYTE *)&alg, 0));
		memcpy(buf, plain, sizeof plain);
		n = sizeof plain;
		CU_ASSERT_TRUE(CryptEncrypt(sa, 0, TRUE, 0, buf, &n, sizeof buf));
		CU_ASSERT_TRUE(CryptDecrypt(sb, 0, TRUE, 0, buf, &n));
		CU_ASSERT_TRUE(n == sizeof plain && memcmp(buf, plain, n) == 0);
		n = sizeof plain;
		memcpy(buf, plain, sizeof plain);
		CU_ASSERT_TRUE(CryptEncrypt(sb, 0, TRUE, 0, buf, &n, sizeof buf));
		CU_ASSERT_TRUE(CryptDecrypt(sa, 0, TRUE, 0, buf, &n));
		CU_ASSERT_TRUE(n == sizeof plain && memcmp(buf, plain, n) == 0);
	}
	if (sa != 0)
		CryptDestroyKey(sa);
	if (sb != 0)
		CryptDestroyKey(sb);
	CryptDestroyKey(partner);
	CryptReleaseContext(hs, 0);
	free(pa);
	free(pb);
}

/* companion = the SoftHSM token itself, reached directly: a companion
 * that makes DH parameters as well as pairs. */
static int dh_companion_softhsm_init(void)
{
	char *text = NULL, *path;
	int n = asprintf(&text, "[capi11]\ncompanion = %s\n", direct_uri);

	if (n < 0)
		return 1;
	path = fixture_write_file("companion-softhsm.conf", text, (size_t)n);
	free(text);
	if (path == NULL)
		return 1;
	setenv("CAPI11_CONF", path, 1);
	free(path);
	return 0;
}

/* A token without DH: the container's pair (CALG_DH_SF, AT_KEYEXCHANGE of
 * PROV_DSS_DH, its CRYPT_PREGEN, a DH PRIVATEKEYBLOB) is NTE_BAD_ALGID
 * before anything reaches the token, as for DSS; an ephemeral pair and
 * the agreement with it run on the companion token, as session keys do,
 * and agree with a SoftHSM key: on NSS's softokn of CRYPT_PREGEN's p and g,
 * on a companion that makes DH parameters (SoftHSM by URI) of new ones
 * too; without a companion the ephemeral key is NTE_BAD_ALGID. Nothing is
 * left on the token. */
static void dh_no_dh_on(const char *label, const char *uri, const char *container)
{
	HCRYPTPROV h = 0, hs = 0;
	HCRYPTKEY k = 0, model = 0;
	BYTE *priv;
	DWORD priv_len;
	char *routes;
	int before;

	/* A DH pair from SoftHSM: its blob to be refused, its p and g. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&hs, NULL, direct_uri, PROV_DSS_DH,
						  CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(hs, CALG_DH_SF, 512 << 16 | CRYPT_EXPORTABLE, &model));
	priv = export_of(model, PRIVATEKEYBLOB, 0, &priv_len);

	before = objects_on_label(label);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, container, uri, PROV_DSS_DH, CRYPT_NEWKEYSET));
	if (h != 0) {
		CHECK_FAILS_WITH(CryptGenKey(h, CALG_DH_SF, 512 << 16, &k), NTE_BAD_ALGID);
		CHECK_FAILS_WITH(CryptGenKey(h, AT_KEYEXCHANGE, 0, &k), NTE_BAD_ALGID);
		CHECK_FAILS_WITH(CryptGenKey(h, CALG_DH_SF, CRYPT_PREGEN, &k), NTE_BAD_ALGID);
		CHECK_FAILS_WITH(CryptImportKey(h, priv, priv_len, 0, CRYPT_EXPORTABLE, &k),
				 NTE_BAD_ALGID);
		/* An ephemeral pair of SoftHSM's p and g, on softokn. */
		k = dh_partner_like(h, model);
		if (k != 0) {
			CU_ASSERT_EQUAL(key_dword_of(k, KP_ALGID), CALG_DH_EPHEM);
			dh_agree_with_softhsm(h, k);
			CryptDestroyKey(k);
		}
		routes = dss_routes(h);
		if (strstr(routes, " dh-key-pair=none dh-ephem=companion ") == NULL)
			fprintf(stderr, "\n  routes without DH: %s\n", routes);
		CU_ASSERT_PTR_NOT_NULL(strstr(routes, " dh-key-pair=none dh-ephem=companion "));
		free(routes);
		CryptReleaseContext(h, 0);
		CryptAcquireContextA(&h, container, uri, PROV_DSS_DH, CRYPT_DELETEKEYSET);
	}
	CU_ASSERT_EQUAL(objects_on_label(label), before);

	/* A companion that makes DH parameters: CryptGenKey(CALG_DH_EPHEM)
	 * of new ones, there. */
	CU_ASSERT_EQUAL_FATAL(dh_companion_softhsm_init(), 0);
	h = 0;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	if (h != 0) {
		k = 0;
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16, &k));
		if (k != 0) {
			CU_ASSERT_EQUAL(key_dword_of(k, KP_ALGID), CALG_DH_EPHEM);
			CU_ASSERT_EQUAL(key_dword_of(k, KP_KEYLEN), 512);
			dh_agree_with_softhsm(h, k);
			CryptDestroyKey(k);
		} else {
			fprintf(stderr, "CALG_DH_EPHEM on the SoftHSM companion: 0x%08lx\n",
				(unsigned long)GetLastError());
		}
		CHECK_FAILS_WITH(CryptGenKey(h, CALG_DH_SF, 512 << 16, &k), NTE_BAD_ALGID);
		CryptReleaseContext(h, 0);
	}
	unsetenv("CAPI11_CONF");
	fixture_no_installed_conf();
	CU_ASSERT_EQUAL(objects_on_label(label), before);

	/* companion = none: no token makes ephemeral DH keys here. */
	matrix_none_init();
	SetLastError(SENTINEL);
	h = 0;
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	if (h != 0) {
		CHECK_FAILS_WITH(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16, &k), NTE_BAD_ALGID);
		CHECK_FAILS_WITH(CryptGenKey(h, CALG_DH_EPHEM, CRYPT_PREGEN, &k), NTE_BAD_ALGID);
		CHECK_FAILS_WITH(CryptGenKey(h, CALG_DH_SF, 512 << 16, &k), NTE_BAD_ALGID);
		routes = dss_routes(h);
		CU_ASSERT_PTR_NOT_NULL(strstr(routes, " dh-key-pair=none dh-ephem=none "));
		free(routes);
		CryptReleaseContext(h, 0);
	}
	matrix_none_cleanup();
	CU_ASSERT_EQUAL(objects_on_label(label), before);
	explicit_bzero(priv, priv_len);
	free(priv);
	CryptDestroyKey(model);
	CryptReleaseContext(hs, 0);
}

/* A token whose DH mechanisms the shim hides (and refuses), from before
 * capi11 first asks for them: a token of its own. */
static void test_dh_no_dh(void)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(set_mechanism);
	for (size_t i = 0; i < sizeof dh_mechs / sizeof dh_mechs[0]; i++)
		set_mechanism(dh_mechs[i], P11SHIM_MECH_HIDDEN | P11SHIM_MECH_REFUSED);
	dh_no_dh_on(nodh_label, nodh_uri, "dh-nodh");
	for (size_t i = 0; i < sizeof dh_mechs / sizeof dh_mechs[0]; i++)
		set_mechanism(dh_mechs[i], 0);
}

/* The TPM profile: tpm2-pkcs11 has no DSA and no DH. */
static void test_dh_tpm(void)
{
	set_profile(profiles[TPM].flags);
	dh_no_dh_on(labels[TPM], uris[TPM], "dh-tpm");
	set_profile(0);
}

/* ---- what capi11 knows of a token ---- */

static char *prov_text(enum profile p, DWORD param)
{
	HCRYPTPROV h = 0;
	DWORD len = 0;
	char *caps;

	CU_ASSERT_EQUAL_FATAL(acquire(p, NULL, CRYPT_VERIFYCONTEXT, &h), ERROR_SUCCESS);
	CU_ASSERT_TRUE_FATAL(CryptGetProvParam(h, param, NULL, &len, 0));
	caps = calloc(1, len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(caps);
	CU_ASSERT_TRUE(CryptGetProvParam(h, param, (BYTE *)caps, &len, 0));
	CU_ASSERT_EQUAL(strlen(caps) + 1, len);
	CryptReleaseContext(h, 0);
	return caps;
}

static char *token_caps(enum profile p)
{
	return prov_text(p, PP_CAPI11_TOKEN_CAPS);
}

/* After the matrix, each profile's routes (PP_CAPI11_ROUTES), as the
 * profiles' definitions (p11shim.h) and the companion's rules
 * (docs/CARDS.md) say they must be: the main token for what it does, the
 * companion (NSS's softokn) for session keys, public-key operations and
 * random numbers it cannot, the token's own decryption for a SIMPLEBLOB
 * it cannot unwrap, nothing for pairs and private keys it cannot hold. */
static void test_routes(void)
{
	static const struct {
		enum profile p;
		const char *routes;
	} want_routes[] = {
		{ PLAIN, "session-key=token simpleblob-import=token rsa-encrypt=token "
			 "public-key-import=token random=token key-pair=token "
			 "private-key-import=token dss-key-pair=token "
			 "dss-public-key-import=token dh-key-pair=token dh-ephem=token " },
		/* tpm2-pkcs11 has neither DSA nor DH. */
		{ TPM, "session-key=companion simpleblob-import=token-decrypt+companion "
		       "rsa-encrypt=token public-key-import=token random=token key-pair=token "
		       "private-key-import=none dss-key-pair=none "
		       "dss-public-key-import=companion dh-key-pair=none dh-ephem=companion " },
		{ PIV, "session-key=companion simpleblob-import=token-decrypt+companion "
		       "rsa-encrypt=companion public-key-import=companion random=companion "
		       "key-pair=none private-key-import=none dss-key-pair=none "
		       "dss-public-key-import=companion dh-key-pair=none dh-ephem=companion " },
		{ READONLY, "session-key=companion simpleblob-import=token-decrypt+companion "
			    "rsa-encrypt=companion public-key-import=companion random=companion "
			    "key-pair=none private-key-import=none dss-key-pair=none "
			    "dss-public-key-import=companion dh-key-pair=none "
			    "dh-ephem=companion " },
	};

	for (size_t i = 0; i < sizeof want_routes / sizeof want_routes[0]; i++) {
		char *routes;
		size_t n = strlen(want_routes[i].routes);

		set_profile(profiles[want_routes[i].p].flags);
		routes = prov_text(want_routes[i].p, PP_CAPI11_ROUTES);
		if (strncmp(routes, want_routes[i].routes, n) != 0)
			fprintf(stderr, "\n  %s: routes %s\n", profiles[want_routes[i].p].name, routes);
		CU_ASSERT_EQUAL(strncmp(routes, want_routes[i].routes, n), 0);
		CU_ASSERT_STRING_EQUAL(routes + n, "companion=NSS Generic Crypto Services");
		free(routes);
	}
	set_profile(0);
}

/* After the matrix: what each card refused is known as refused, what it
 * did as done, and the read-only card says it is write-protected. */
static void test_token_caps(void)
{
	char *caps;

	set_profile(profiles[PIV].flags);
	caps = token_caps(PIV);
	CU_ASSERT_PTR_NOT_NULL(strstr(caps, "create-private-key=no "));
	CU_ASSERT_PTR_NOT_NULL(strstr(caps, "random=no "));
	CU_ASSERT_PTR_NOT_NULL(strstr(caps, "write-protected=no"));
	free(caps);
	set_profile(profiles[TPM].flags);
	caps = token_caps(TPM);
	CU_ASSERT_PTR_NOT_NULL(strstr(caps, "extractable-private-key=no "));
	CU_ASSERT_PTR_NOT_NULL(strstr(caps, "create-public-data=no "));
	CU_ASSERT_PTR_NOT_NULL(strstr(caps, "create-private-data=yes "));
	CU_ASSERT_PTR_NOT_NULL(strstr(caps, "create-private-key=no "));
	free(caps);
	set_profile(profiles[READONLY].flags);
	caps = token_caps(READONLY);
	CU_ASSERT_PTR_NOT_NULL(strstr(caps, "write-protected=yes"));
	free(caps);
	set_profile(0);
}

/* capi11-tool list --json (another process: the token as it is, no
 * profile) shows the token's capabilities, write protection and routes. */
static void test_tool_list_caps(void)
{
	char *nopin = fixture_token_uri_shim(labels[PLAIN], false), *out;
	int st = -1;

	/* The tool takes no PIN on its command line; listing needs none. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(nopin);
	out = fixture_capture(&st, "%s/../capi11-tool list --json --provider '%s' 2>&1",
			      TEST_BUILDDIR, nopin);
	free(nopin);
	if (st != 0)
		fprintf(stderr, "\n  capi11-tool: %s\n", out ? out : "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"capabilities\":{\"wrap\":\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"extractable-private-key\":\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"write_protected\":false"));
	/* The token as it is does everything itself. */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"routes\":{\"session-key\":\"token\","
				      "\"simpleblob-import\":\"token\",\"rsa-encrypt\":\"token\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"companion\":\"NSS Generic Crypto Services\""));
	free(out);
}

/* Without the quirk, the first refusal teaches: the second
 * CRYPT_EXPORTABLE pair is answered without the token, and pairs without
 * the flag are still made (a refused template is no refusal of
 * C_GenerateKeyPair). */
static void test_tpm_learnt(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	unsigned long pairs;
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	set_profile(PROFILE_TPM_UNKNOWN);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "learn", learn_uri, PROV_RSA_FULL,
						  CRYPT_NEWKEYSET));
	pairs = shim->count("C_GenerateKeyPair");
	CHECK_FAILS_WITH(CryptGenKey(h, AT_KEYEXCHANGE, CRYPT_EXPORTABLE, &k), NTE_BAD_FLAGS);
	CU_ASSERT_EQUAL(shim->count("C_GenerateKeyPair"), pairs + 1);
	CHECK_FAILS_WITH(CryptGenKey(h, AT_KEYEXCHANGE, CRYPT_EXPORTABLE, &k), NTE_BAD_FLAGS);
	CU_ASSERT_EQUAL(shim->count("C_GenerateKeyPair"), pairs + 1);
	CU_ASSERT_EQUAL(testutil_token_count(learn_label, "privkey", "learn"), 0);
	/* An exchange pair denies none of the usages the TPM couples. (A
	 * signature pair denies decryption, which an unrecognised TPM answers
	 * with CKR_GENERAL_ERROR: only the quirks table knows to leave the
	 * denial out.) */
	CU_ASSERT_TRUE(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16, &k));
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "learn", learn_uri, PROV_RSA_FULL, 0));
	CU_ASSERT_TRUE(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	CU_ASSERT_EQUAL(key_alg(k), CALG_RSA_KEYX);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
	set_profile(0);
}

/* capi11-tool genkey and import make the container when it is missing;
 * when the command then fails, the container goes again: a failed import
 * leaves nothing on the token. */
static void test_tool_failure_leaves_nothing(void)
{
	static const BYTE bad_blob[8] = { PRIVATEKEYBLOB, 2, 0, 0, 0x00, 0xa4, 0, 0 };
	char *nopin = fixture_token_uri_shim(labels[PLAIN], false);
	char *pin = fixture_write_file("cards-pin", FIXTURE_PIN, strlen(FIXTURE_PIN));
	char *blob = fixture_write_file("cards-bad.blob", bad_blob, sizeof bad_blob);
	HCRYPTPROV h = 0;
	int st;

	CU_ASSERT_FATAL(nopin != NULL && pin != NULL && blob != NULL);
	st = fixture_run("%s/../capi11-tool import --provider '%s' --pin-file %s --container "
			 "tool-fresh %s", TEST_BUILDDIR, nopin, pin, blob);
	CU_ASSERT_NOT_EQUAL(st, 0);
	CU_ASSERT_EQUAL(acquire(PLAIN, "tool-fresh", 0, &h), NTE_BAD_KEYSET);
	CU_ASSERT_EQUAL(testutil_token_count(labels[PLAIN], "data", "tool-fresh"), 0);
	st = fixture_run("%s/../capi11-tool genkey --provider '%s' --pin-file %s --container "
			 "tool-fresh --bits 1001", TEST_BUILDDIR, nopin, pin);
	CU_ASSERT_NOT_EQUAL(st, 0);
	CU_ASSERT_EQUAL(acquire(PLAIN, "tool-fresh", 0, &h), NTE_BAD_KEYSET);
	/* A container that was there before stays, failure or not. */
	CU_ASSERT_EQUAL_FATAL(acquire(PLAIN, "tool-kept", CRYPT_NEWKEYSET, &h), ERROR_SUCCESS);
	CryptReleaseContext(h, 0);
	st = fixture_run("%s/../capi11-tool import --provider '%s' --pin-file %s --container "
			 "tool-kept %s", TEST_BUILDDIR, nopin, pin, blob);
	CU_ASSERT_NOT_EQUAL(st, 0);
	CU_ASSERT_EQUAL(acquire(PLAIN, "tool-kept", 0, &h), ERROR_SUCCESS);
	CryptReleaseContext(h, 0);
	CU_ASSERT_EQUAL(acquire(PLAIN, "tool-kept", CRYPT_DELETEKEYSET, &h), ERROR_SUCCESS);
	free(nopin);
	free(pin);
	free(blob);
}

static CU_TestInfo quirk_tests[] = {
	{ "tpm2-pkcs11: no extractable private key asked for", test_tpm_quirks },
	{ "an unknown TPM: learnt from its first refusal", test_tpm_learnt },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo matrix_tests[] = {
	{ "SoftHSM", test_cards_plain },
	{ "TPM (tpm2-pkcs11)", test_cards_tpm },
	{ "PIV card (OpenSC)", test_cards_piv },
	{ "read-only card", test_cards_readonly },
	{ "every cell ran", test_cards_summary },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo matrix_none_tests[] = {
	{ "SoftHSM", test_cards_plain },
	{ "TPM (tpm2-pkcs11)", test_cards_tpm },
	{ "PIV card (OpenSC)", test_cards_piv },
	{ "read-only card", test_cards_readonly },
	{ "PKCS#11 cause of a refusal", test_pkcs11_cause },
	{ "every cell ran", test_cards_summary },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo container_tests[] = {
	{ "a card's new container is not on the card", test_pending_not_on_token },
	{ "a held container becomes its keys", test_pending_becomes_keys },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo spec_tests[] = {
	{ "PIV slots: 02 signature, 03 exchange", test_piv_layout },
	{ "a TPM's signature pair stays AT_SIGNATURE", test_tpm_signature_stays },
	{ "an ID that contradicts the usages is not believed", test_contradicting_id },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo dss_tests[] = {
	{ "a token without DSA", test_dss_no_dsa },
	{ "a DSS public key on the companion", test_dss_public_on_companion },
	{ "a token without DH", test_dh_no_dh },
	{ "DH on the TPM profile", test_dh_tpm },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo caps_tests[] = {
	{ "PP_CAPI11_TOKEN_CAPS", test_token_caps },
	{ "PP_CAPI11_ROUTES", test_routes },
	{ "capi11-tool list --json", test_tool_list_caps },
	{ "capi11-tool: a failed import leaves no container", test_tool_failure_leaves_nothing },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "quirks", NULL, NULL, NULL, NULL, quirk_tests },
	{ "card matrix", matrix_init, NULL, NULL, NULL, matrix_tests },
	{ "card matrix, companion = none", matrix_none_init, matrix_none_cleanup, NULL, NULL,
	  matrix_none_tests },
	{ "containers without markers", NULL, NULL, NULL, NULL, container_tests },
	{ "key specs", NULL, NULL, NULL, NULL, spec_tests },
	{ "DSS on cards", NULL, NULL, NULL, NULL, dss_tests },
	{ "token capabilities", NULL, NULL, NULL, NULL, caps_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	void *mod;
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	setenv("CAPI11_CONF", "/dev/null", 1);
	mod = fixture_shim() && fixture_shim_path() ? dlopen(fixture_shim_path(), RTLD_NOW) : NULL;
	if (mod != NULL) {
		*(void **)&set_profile = dlsym(mod, "p11shim_set_profile");
		*(void **)&set_mechanism = dlsym(mod, "p11shim_set_mechanism");
	}
	if (set_profile == NULL) {
		fprintf(stderr, "the p11shim module was not built\n");
		return FIXTURE_HARD_ERROR;
	}
	for (int p = 0; p < N_PROFILES; p++) {
		labels[p] = fixture_token_make(profiles[p].prefix);
		uris[p] = fixture_token_uri_shim(labels[p], true);
		if (p == PLAIN)
			direct_uri = fixture_token_uri(labels[p]);
		if (uris[p] == NULL)
			return FIXTURE_HARD_ERROR;
	}
	nodsa_label = fixture_token_make("cards-nodsa");
	nodsa_uri = fixture_token_uri_shim(nodsa_label, true);
	if (nodsa_uri == NULL)
		return FIXTURE_HARD_ERROR;
	nodh_label = fixture_token_make("cards-nodh");
	nodh_uri = fixture_token_uri_shim(nodh_label, true);
	if (nodh_uri == NULL)
		return FIXTURE_HARD_ERROR;
	learn_label = fixture_token_make("cards-learn");
	learn_uri = fixture_token_uri_shim(learn_label, true);
	if (learn_uri == NULL)
		return FIXTURE_HARD_ERROR;
	/* A card's own keys (a PIV card's two slots; another card or TPM
	 * holds the key management key alone, as made by another tool). */
	if (!testutil_card_keys_load(labels[PIV], true, CARD_CONTAINER) ||
	    !testutil_card_keys_load(labels[READONLY], false, CARD_CONTAINER) ||
	    !testutil_card_keys_load(labels[TPM], false, CARD_CONTAINER)) {
		fprintf(stderr, "pkcs11-tool could not put the card keys on the tokens\n");
		return FIXTURE_HARD_ERROR;
	}
	/* capi11 reads the module's info once, when it first loads it: the
	 * TPM profile's module info (tpm2-pkcs11's) must be what it sees, so
	 * that its quirks table answers as it would for tpm2-pkcs11. The
	 * other tokens are told apart by their own token info. */
	set_profile(P11SHIM_PROFILE_TPM);
	{
		HCRYPTPROV h = 0;

		if (acquire(TPM, NULL, CRYPT_VERIFYCONTEXT, &h) != ERROR_SUCCESS)
			return FIXTURE_HARD_ERROR;
		CryptReleaseContext(h, 0);
	}
	set_profile(0);
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	for (int p = 0; p < N_PROFILES; p++) {
		free(uris[p]);
		free(labels[p]);
	}
	free(learn_uri);
	free(learn_label);
	free(nodsa_uri);
	free(nodsa_label);
	free(nodh_uri);
	free(nodh_label);
	free(direct_uri);
	return rc;
}
