/* capi11 on a real module shaped like a smart card: tpm2-pkcs11 (Debian
 * 12's libtpm2-pkcs11-1 1.9) on a software TPM, whose provider URI
 * scripts/with-tpm-token.sh puts in $TPM_PROV on a fresh token. Run by
 * `make check-tpm2`; not part of `make check`. Without $TPM_PROV the
 * program is skipped (77).
 *
 * The module refuses public CKO_DATA objects (CKR_ATTRIBUTE_VALUE_INVALID)
 * and private ones without CKA_VALUE (CKR_GENERAL_ERROR), secret-key and
 * private-key objects in C_CreateObject, PRIVATE+EXTRACTABLE keys, key
 * pairs whose template sets any of decrypt, sign, encrypt or verify FALSE
 * (CKR_GENERAL_ERROR), and C_GenerateKey, C_WrapKey and C_UnwrapKey
 * altogether; it has RSA-1024 to
 * 3072 and C_GenerateRandom. Every expected value below comes from
 * Microsoft's documentation of CryptoAPI, from the issue that asks for
 * these routes, or from an independent tool (openssl, pkcs11-tool),
 * never from capi11 reading back its own work.
 *
 * Containers: "tpm-ext" and "tpm-refuse", key pairs made by pkcs11-tool
 * before the tests (keys made elsewhere, as a card's; the refusals are
 * tried on the second, so that what they might leave cannot change the
 * other cases), and "tpm-new", made by CryptAcquireContext(CRYPT_NEWKEYSET).
 *
 * Every failed CryptoAPI call prints its Windows code and the PKCS#11 call
 * behind it (Capi11GetLastPkcs11Error). Session keys, SIMPLEBLOB import
 * and 3DES run on the companion token (NSS's softokn), which the TPM
 * cannot replace. */
#include "config.h"
#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wincrypt.h>

/* The Windows codes chosen for what no route can do (issue 13, "clear
 * answers"): CryptGenKey documents NTE_BAD_FLAGS for a dwFlags value the
 * CSP cannot honour; a private-key import the token refuses is an
 * operation the CSP does not support. */
#define EXPECT_EXPORTABLE_REFUSED NTE_BAD_FLAGS
#define EXPECT_PRIVATE_IMPORT_REFUSED NTE_NOT_SUPPORTED

#define EXT "tpm-ext"
#define NEW "tpm-new"
#define REFUSE "tpm-refuse"
#define RSA1024 (1024u << 16)

static const char *prov, *module, *token;

/* ---- Reporting ------------------------------------------------------------- */

/* After a failed CryptoAPI call: its Windows code and the PKCS#11 call
 * behind it, on one line of stdout (the record of where capi11 stands). */
static void why(const char *what)
{
	DWORD err = GetLastError();
	char fn[64];
	DWORD ckr = Capi11GetLastPkcs11Error(fn, sizeof fn);
	const char *name = Capi11ErrorNameA(err);
	const char *ckr_name = Capi11Pkcs11ErrorNameA(ckr);

	printf("\n    %s: %s (0x%08x); PKCS#11: %s -> %s (0x%lx)", what, name ? name : "?",
	       (unsigned)err, *fn ? fn : "(none)", ckr_name ? ckr_name : "?", (unsigned long)ckr);
	SetLastError(err);
}

/* A call that must succeed; on failure the reason is printed. */
#define MUST(call) do { \
	SetLastError(SENTINEL); \
	if (!(call)) { \
		why(#call); \
		CU_FAIL_FATAL(#call " failed"); \
	} \
} while (0)

/* A call that must fail with exactly this code. */
#define MUST_FAIL(call, code) do { \
	SetLastError(SENTINEL); \
	if (call) { \
		printf("\n    %s: succeeded", #call); \
		CU_FAIL(#call " succeeded"); \
	} else { \
		if (GetLastError() != (DWORD)(code)) \
			why(#call); \
		CU_ASSERT_EQUAL(GetLastError(), (DWORD)(code)); \
	} \
} while (0)

/* ---- The token through independent tools ------------------------------------ */

/* pkcs11-tool on the token, logged in (the PIN passes in the environment,
 * never on a command line); its stdout, malloc'd. */
static char *tool(const char *args)
{
	int st = -1;
	char *out = fixture_capture(&st, "%s --module %s --token-label %s --login --pin env:TPM_USER_PIN %s",
				    PKCS11_TOOL, module, token, args);

	CU_ASSERT_EQUAL_FATAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	return out;
}

/* Objects on the token as pkcs11-tool lists them (another process: token
 * objects only): those whose listing starts with kind ("Private Key
 * Object", "Public Key Object", "Data object"; NULL: any) and whose label
 * is label (NULL: any). */
static int objects_of(const char *kind, const char *label)
{
	char *out = tool("--list-objects"), *line, *save = NULL, *p, *end;
	int count = 0;
	bool in_kind = false, counted = false;

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (*line != ' ') {
			/* A new object's first line; pkcs11-tool's own chatter
			 * ("Using slot ...") matches no kind. */
			in_kind = strstr(line, "Object;") != NULL ||
				  strncmp(line, "Data object", 11) == 0;
			if (in_kind && kind)
				in_kind = strncmp(line, kind, strlen(kind)) == 0;
			counted = false;
			if (in_kind && !label) {
				count++;
				counted = true;
			}
			continue;
		}
		if (!in_kind || counted || (p = strstr(line, "label:")) == NULL)
			continue;
		for (p += 6; *p == ' '; p++)
			;
		/* Data objects' labels are quoted. */
		if (*p == '\'' && (end = strrchr(p + 1, '\'')) != NULL) {
			p++;
			*end = '\0';
		}
		if (strcmp(p, label) == 0) {
			count++;
			counted = true;
		}
	}
	free(out);
	return count;
}

static int objects(const char *label)
{
	return objects_of(NULL, label);
}

static bool listed(HCRYPTPROV h, const char *name)
{
	char buf[256];
	DWORD len, flags = CRYPT_FIRST;
	bool found = false;

	for (;;) {
		len = sizeof buf;
		SetLastError(SENTINEL);
		if (!CryptGetProvParam(h, PP_ENUMCONTAINERS, (BYTE *)buf, &len, flags))
			break;
		flags = 0;
		found = found || strcmp(buf, name) == 0;
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	return found;
}

static HCRYPTPROV open_container(const char *name)
{
	HCRYPTPROV h = 0;

	MUST(CryptAcquireContextA(&h, name, prov, PROV_RSA_AES, 0));
	return h;
}

static DWORD key_param(HCRYPTKEY k, DWORD param)
{
	DWORD v = SENTINEL, len = sizeof v;

	MUST(CryptGetKeyParam(k, param, (BYTE *)&v, &len, 0));
	return v;
}

/* The key's PUBLICKEYBLOB as openssl reads it (MSBLOB), saved as PEM; its
 * path, malloc'd. */
static char *public_pem(HCRYPTKEY k, const char *stem)
{
	BYTE *blob;
	DWORD len = 0;
	char *blob_path, *pem = testutil_temp_path(stem);

	blob = testutil_blob_export(k, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	blob_path = testutil_temp_write(stem, blob, len);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s rsa -pubin -inform MSBLOB -in %s -outform PEM -out %s",
					  OPENSSL_BIN, blob_path, pem), 0);
	free(blob_path);
	free(blob);
	return pem;
}

/* openssl's "Modulus=..." line of a public key file. */
static char *modulus_of(const char *path, const char *inform)
{
	char *out = fixture_capture(NULL, "%s rsa -pubin -inform %s -in %s -noout -modulus",
				    OPENSSL_BIN, inform, path);

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Modulus="));
	return out;
}

/* openssl pkeyutl -encrypt (PKCS#1 v1.5) of n bytes to the PEM key; the
 * ciphertext byte-reversed, as CryptoAPI takes it, into out (room: len). */
static DWORD openssl_rsa_encrypt(const char *pem, const void *in, size_t n, BYTE *out, DWORD room)
{
	char *in_path = testutil_temp_write("tpm-rsa-in", in, n);
	char *ct_path = testutil_temp_path("tpm-rsa-ct");
	BYTE *ct;
	DWORD len = 0;

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkeyutl -encrypt -pubin -inkey %s -in %s -out %s",
					  OPENSSL_BIN, pem, in_path, ct_path), 0);
	ct = testutil_file_read(ct_path, &len);
	CU_ASSERT_FATAL(len <= room);
	for (DWORD i = 0; i < len; i++)
		out[i] = ct[len - 1 - i];
	free(ct);
	free(ct_path);
	free(in_path);
	return len;
}

/* Encrypts as openssl does, and decrypts its own ciphertext back. */
static void check_cipher(HCRYPTKEY k, const char *cipher, const BYTE *value, size_t len,
			 size_t block)
{
	static const char msg[] = "thirty-three bytes of plain text!";
	BYTE buf[64];
	DWORD n = sizeof msg - 1;

	testutil_check_encrypts_as(k, cipher, value, len, block);
	memcpy(buf, msg, n);
	MUST(CryptEncrypt(k, 0, TRUE, 0, buf, &n, sizeof buf));
	CU_ASSERT_EQUAL(n, (sizeof msg - 1) / block * block + block);
	MUST(CryptDecrypt(k, 0, TRUE, 0, buf, &n));
	CU_ASSERT_EQUAL(n, sizeof msg - 1);
	CU_ASSERT_EQUAL(memcmp(buf, msg, sizeof msg - 1), 0);
}

static const BYTE value32[32] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
	0x32, 0x10, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x0f, 0x1e, 0x2d, 0x3c,
	0x4b, 0x5a, 0x69, 0x78,
};

static HCRYPTKEY import_plain(HCRYPTPROV h, ALG_ID alg, const BYTE *value, DWORD len, DWORD flags)
{
	BYTE blob[12 + 32];
	HCRYPTKEY k = 0;
	DWORD n = testutil_plaintext_blob(blob, alg, value, len);

	MUST(CryptImportKey(h, blob, n, 0, flags, &k));
	return k;
}

/* ---- A container made elsewhere ---------------------------------------------- */

/* pkcs11-tool's key pair (decrypt and sign, as every key of this token) is
 * a container named by its label, and its key is the exchange key: a key
 * that may decrypt is AT_KEYEXCHANGE (SPEC section 3). */
static void test_ext_container(void)
{
	HCRYPTPROV h = open_container(EXT);
	HCRYPTKEY k = 0;

	/* The token holds what pkcs11-tool made, and nothing else (this
	 * also checks the counting the other cases rely on). */
	CU_ASSERT_EQUAL(objects_of("Private Key Object", EXT), 1);
	CU_ASSERT_EQUAL(objects_of("Public Key Object", EXT), 1);
	CU_ASSERT_EQUAL(objects(REFUSE), 2);
	CU_ASSERT_EQUAL(objects(NULL), 4);
	CU_ASSERT_TRUE(listed(h, EXT));
	MUST(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	CU_ASSERT_EQUAL(key_param(k, KP_ALGID), CALG_RSA_KEYX);
	CU_ASSERT_EQUAL(key_param(k, KP_KEYLEN), 2048);
	CryptDestroyKey(k);
	MUST_FAIL(CryptGetUserKey(h, AT_SIGNATURE, &k), NTE_NO_KEY);
	CryptReleaseContext(h, 0);
}

/* Its PUBLICKEYBLOB is, to openssl, the public key pkcs11-tool reads. */
static void test_ext_publickeyblob(void)
{
	HCRYPTPROV h = open_container(EXT);
	HCRYPTKEY k = 0;
	char *pem, *der = testutil_temp_path("tpm-ext-pub"), *ours, *theirs, *args;
	size_t n;

	MUST(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	pem = public_pem(k, "tpm-ext-pem");
	n = strlen(der) + 64;
	args = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(args);
	snprintf(args, n, "--read-object --type pubkey --id 01 -o %s", der);
	free(tool(args));
	ours = modulus_of(pem, "PEM");
	theirs = modulus_of(der, "DER");
	CU_ASSERT_STRING_EQUAL(ours, theirs);
	free(theirs);
	free(ours);
	free(args);
	free(pem);
	free(der);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
}

static void test_ext_rsa_round_trip(void)
{
	static const char msg[] = "the TPM decrypts what capi11 encrypts";
	HCRYPTPROV h = open_container(EXT);
	HCRYPTKEY k = 0;
	BYTE buf[256];
	DWORD len = sizeof msg - 1;

	MUST(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	memcpy(buf, msg, len);
	MUST(CryptEncrypt(k, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(len, 256);
	MUST(CryptDecrypt(k, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, sizeof msg - 1);
	CU_ASSERT_EQUAL(memcmp(buf, msg, sizeof msg - 1), 0);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
}

/* openssl encrypts to the exported public key; the TPM decrypts. */
static void test_ext_openssl_encrypts(void)
{
	static const char msg[] = "openssl to the TPM";
	HCRYPTPROV h = open_container(EXT);
	HCRYPTKEY k = 0;
	BYTE buf[256];
	DWORD len;
	char *pem;

	MUST(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	pem = public_pem(k, "tpm-ext-pem");
	len = openssl_rsa_encrypt(pem, msg, sizeof msg - 1, buf, sizeof buf);
	CU_ASSERT_EQUAL_FATAL(len, 256);
	MUST(CryptDecrypt(k, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, sizeof msg - 1);
	CU_ASSERT_EQUAL(memcmp(buf, msg, sizeof msg - 1), 0);
	free(pem);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
}

/* openssl wraps an AES-128 key for the exchange key (a SIMPLEBLOB is the
 * PKCS#1 v1.5 encryption, byte-reversed); the imported key encrypts as
 * openssl does with that value. The token cannot unwrap: the route is
 * C_Decrypt on the token and the key kept on the companion. */
static void test_ext_simpleblob_import(void)
{
	static const BYTE value[16] = {
		0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	};
	HCRYPTPROV h = open_container(EXT);
	HCRYPTKEY xchg = 0, k = 0;
	BYTE blob[12 + 256];
	char *pem;

	MUST(CryptGetUserKey(h, AT_KEYEXCHANGE, &xchg));
	pem = public_pem(xchg, "tpm-ext-pem");
	blob[0] = SIMPLEBLOB;
	blob[1] = 2;
	blob[2] = blob[3] = 0;
	testutil_le32_put(blob + 4, CALG_AES_128);
	testutil_le32_put(blob + 8, CALG_RSA_KEYX);
	CU_ASSERT_EQUAL_FATAL(openssl_rsa_encrypt(pem, value, sizeof value, blob + 12, 256), 256);
	MUST(CryptImportKey(h, blob, sizeof blob, xchg, 0, &k));
	CU_ASSERT_EQUAL(key_param(k, KP_ALGID), CALG_AES_128);
	testutil_check_encrypts_as(k, "-aes-128-cbc", value, sizeof value, 16);
	CryptDestroyKey(k);
	free(pem);
	CryptDestroyKey(xchg);
	CryptReleaseContext(h, 0);
}

/* A session key exported as a SIMPLEBLOB to a partner whose key openssl
 * made; openssl opens it, and the value it finds is the key. The
 * partner's PUBLICKEYBLOB itself is a public key the token accepts. */
static void test_simpleblob_export(void)
{
	HCRYPTPROV h = open_container(EXT);

	testutil_check_simpleblob_to_partner(h, "tpm");
	CryptReleaseContext(h, 0);
}

/* RSA CryptEncrypt with a partner's imported PUBLICKEYBLOB; openssl
 * decrypts with the partner's private key. */
static void test_rsa_partner_encrypt(void)
{
	static const char msg[] = "to a partner";
	HCRYPTPROV h = open_container(EXT);
	char *partner = testutil_temp_path("tpm-partner-pem");
	char *partner_blob = testutil_temp_path("tpm-partner-blob");
	char *pt_path = testutil_temp_path("tpm-partner-pt");
	HCRYPTKEY to = 0;
	BYTE *pub, buf[128], ct[128], *pt;
	DWORD pub_len = 0, len = sizeof msg - 1, pt_len = 0;
	char *ct_file;

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 "
					  "-out %s && %s rsa -in %s -pubout -outform MSBLOB -out %s",
					  OPENSSL_BIN, partner, OPENSSL_BIN, partner, partner_blob), 0);
	pub = testutil_file_read(partner_blob, &pub_len);
	MUST(CryptImportKey(h, pub, pub_len, 0, 0, &to));
	memcpy(buf, msg, len);
	MUST(CryptEncrypt(to, 0, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL_FATAL(len, 128);
	for (DWORD i = 0; i < 128; i++)
		ct[i] = buf[127 - i];
	ct_file = testutil_temp_write("tpm-partner-ct", ct, sizeof ct);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkeyutl -decrypt -inkey %s -in %s -out %s",
					  OPENSSL_BIN, partner, ct_file, pt_path), 0);
	pt = testutil_file_read(pt_path, &pt_len);
	CU_ASSERT_EQUAL(pt_len, sizeof msg - 1);
	CU_ASSERT_EQUAL(memcmp(pt, msg, sizeof msg - 1), 0);
	free(pt);
	free(ct_file);
	free(pub);
	CryptDestroyKey(to);
	free(pt_path);
	free(partner_blob);
	free(partner);
	CryptReleaseContext(h, 0);
}

/* ---- Session keys ------------------------------------------------------------ */

static void test_aes_import(void)
{
	HCRYPTPROV h = open_container(EXT);
	HCRYPTKEY k;

	k = import_plain(h, CALG_AES_128, value32, 16, 0);
	check_cipher(k, "-aes-128-cbc", value32, 16, 16);
	CryptDestroyKey(k);
	k = import_plain(h, CALG_AES_256, value32, 32, 0);
	check_cipher(k, "-aes-256-cbc", value32, 32, 16);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
}

/* A generated key's value, exported, is what it encrypts with. */
static void check_generated(HCRYPTPROV h, ALG_ID alg, const char *cipher, DWORD len, size_t block)
{
	HCRYPTKEY k = 0;
	BYTE *blob;
	DWORD n = 0;

	MUST(CryptGenKey(h, alg, CRYPT_EXPORTABLE, &k));
	blob = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	CU_ASSERT_EQUAL_FATAL(n, 12 + len);
	check_cipher(k, cipher, blob + 12, len, block);
	free(blob);
	CryptDestroyKey(k);
}

static void test_aes_generate(void)
{
	HCRYPTPROV h = open_container(EXT);

	check_generated(h, CALG_AES_128, "-aes-128-cbc", 16, 16);
	check_generated(h, CALG_AES_256, "-aes-256-cbc", 32, 16);
	CryptReleaseContext(h, 0);
}

static void test_3des(void)
{
	HCRYPTPROV h = open_container(EXT);
	HCRYPTKEY k;

	k = import_plain(h, CALG_3DES, value32, 24, 0);
	check_cipher(k, "-des-ede3-cbc", value32, 24, 8);
	CryptDestroyKey(k);
	check_generated(h, CALG_3DES, "-des-ede3-cbc", 24, 8);
	CryptReleaseContext(h, 0);
}

/* PP_ENUMALGS lists only what a route exists for: every session-key
 * algorithm it lists, CryptGenKey makes (with the companion, the TPM's
 * missing AES and 3DES among them). */
static void test_enumalgs_routes(void)
{
	HCRYPTPROV h = open_container(EXT);
	PROV_ENUMALGS alg;
	HCRYPTKEY k;
	DWORD len, flags = CRYPT_FIRST;
	int ciphers = 0;

	for (;;) {
		len = sizeof alg;
		SetLastError(SENTINEL);
		if (!CryptGetProvParam(h, PP_ENUMALGS, (BYTE *)&alg, &len, flags))
			break;
		flags = 0;
		if (GET_ALG_CLASS(alg.aiAlgid) != ALG_CLASS_DATA_ENCRYPT)
			continue;
		ciphers++;
		k = 0;
		SetLastError(SENTINEL);
		if (!CryptGenKey(h, alg.aiAlgid, 0, &k)) {
			why(alg.szName);
			CU_FAIL("PP_ENUMALGS lists an algorithm CryptGenKey cannot make");
			continue;
		}
		CryptDestroyKey(k);
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	CU_ASSERT(ciphers > 0);
	CryptReleaseContext(h, 0);
}

static void test_gen_random(void)
{
	HCRYPTPROV h = open_container(EXT);
	BYTE a[32], b[32], zero[32] = { 0 };

	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	MUST(CryptGenRandom(h, sizeof a, a));
	MUST(CryptGenRandom(h, sizeof b, b));
	CU_ASSERT_NOT_EQUAL(memcmp(a, zero, sizeof a), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, sizeof a), 0);
	CryptReleaseContext(h, 0);
}

/* ---- A container capi11 makes ------------------------------------------------ */

/* The token refuses marker objects: the new container lives in the
 * process until its first key, and then is its keys. */
static void test_new_container(void)
{
	HCRYPTPROV h = 0, again = 0;
	HCRYPTKEY k = 0;
	int before = objects(NULL);

	MUST(CryptAcquireContextA(&h, NEW, prov, PROV_RSA_AES, CRYPT_NEWKEYSET));
	MUST_FAIL(CryptAcquireContextA(&again, NEW, prov, PROV_RSA_AES, CRYPT_NEWKEYSET),
		  NTE_EXISTS);
	MUST_FAIL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k), NTE_NO_KEY);
	MUST_FAIL(CryptGetUserKey(h, AT_SIGNATURE, &k), NTE_NO_KEY);
	CU_ASSERT_TRUE(listed(h, NEW));
	/* Its first key makes it a container on the token. */
	MUST(CryptGenKey(h, AT_KEYEXCHANGE, RSA1024, &k));
	CU_ASSERT_EQUAL(key_param(k, KP_ALGID), CALG_RSA_KEYX);
	CU_ASSERT_EQUAL(key_param(k, KP_KEYLEN), 1024);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
	/* The key pair, and a marker only where the token takes one. */
	CU_ASSERT_EQUAL(objects_of("Private Key Object", NEW), 1);
	CU_ASSERT_EQUAL(objects_of("Public Key Object", NEW), 1);
	CU_ASSERT(objects(NEW) == 2 || (objects(NEW) == 3 && objects_of("Data object", NEW) == 1));
	CU_ASSERT_EQUAL(objects(NULL), before + objects(NEW));
	h = open_container(NEW);
	CU_ASSERT_TRUE(listed(h, NEW));
	MUST(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	CU_ASSERT_EQUAL(key_param(k, KP_ALGID), CALG_RSA_KEYX);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
}

/* The exchange key capi11 made: a 1024-bit RSA key to openssl, which
 * decrypts what openssl encrypts to it. */
static void test_new_publickeyblob(void)
{
	static const char msg[] = "openssl to capi11's TPM key";
	HCRYPTPROV h = open_container(NEW);
	HCRYPTKEY k = 0;
	BYTE buf[128];
	DWORD len;
	char *pem, *text;

	MUST(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	pem = public_pem(k, "tpm-new-pem");
	text = fixture_capture(NULL, "%s rsa -pubin -in %s -noout -text", OPENSSL_BIN, pem);
	CU_ASSERT_PTR_NOT_NULL(text ? strstr(text, "Public-Key: (1024 bit)") : NULL);
	free(text);
	len = openssl_rsa_encrypt(pem, msg, sizeof msg - 1, buf, sizeof buf);
	CU_ASSERT_EQUAL_FATAL(len, 128);
	MUST(CryptDecrypt(k, 0, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, sizeof msg - 1);
	CU_ASSERT_EQUAL(memcmp(buf, msg, sizeof msg - 1), 0);
	free(pem);
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
}

/* The token makes no private key that is both PIN-protected and
 * extractable: CRYPT_EXPORTABLE is refused with a documented code, and
 * nothing is left on the token. */
static void test_exportable_refused(void)
{
	HCRYPTPROV h = open_container(REFUSE);
	HCRYPTKEY k = 0;
	int before = objects(NULL);

	MUST_FAIL(CryptGenKey(h, AT_KEYEXCHANGE, RSA1024 | CRYPT_EXPORTABLE, &k),
		  EXPECT_EXPORTABLE_REFUSED);
	CU_ASSERT_EQUAL(objects(NULL), before);
	CryptReleaseContext(h, 0);
}

/* A PRIVATEKEYBLOB of a key openssl made (its MSBLOB), for the slot of
 * alg; malloc'd, its length in *len. */
static BYTE *private_blob(ALG_ID alg, DWORD *len)
{
	char *pem = testutil_temp_path("tpm-priv-pem"), *ms = testutil_temp_path("tpm-priv-blob");
	BYTE *blob;

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 "
					  "-out %s && %s rsa -in %s -outform MSBLOB -out %s",
					  OPENSSL_BIN, pem, OPENSSL_BIN, pem, ms), 0);
	blob = testutil_file_read(ms, len);
	CU_ASSERT_FATAL(*len > 12 && blob[0] == PRIVATEKEYBLOB);
	testutil_le32_put(blob + 4, alg);
	free(ms);
	free(pem);
	return blob;
}

/* The token refuses private-key objects: a PRIVATEKEYBLOB import into a
 * container fails with a documented code and leaves the token as it was
 * (the container still has no signature key). */
static void test_private_import_refused(void)
{
	HCRYPTPROV h = open_container(REFUSE);
	HCRYPTKEY k = 0;
	DWORD len = 0;
	BYTE *blob = private_blob(CALG_RSA_SIGN, &len);
	int before = objects(NULL);

	MUST_FAIL(CryptImportKey(h, blob, len, 0, 0, &k), EXPECT_PRIVATE_IMPORT_REFUSED);
	CU_ASSERT_EQUAL(objects(NULL), before);
	MUST_FAIL(CryptGetUserKey(h, AT_SIGNATURE, &k), NTE_NO_KEY);
	CryptReleaseContext(h, 0);
	free(blob);
}

/* The same into a new container: the failed import adds nothing to what
 * CRYPT_NEWKEYSET made (a container exists from CRYPT_NEWKEYSET on, as on
 * Windows, whether the token holds a marker for it or capi11 holds it in
 * the process), and deleting the container leaves the token as it was. */
static void test_private_import_new_container(void)
{
	HCRYPTPROV h = 0, probe = 0;
	HCRYPTKEY k = 0;
	DWORD len = 0;
	BYTE *blob = private_blob(CALG_RSA_KEYX, &len);
	int before = objects(NULL), made;

	MUST(CryptAcquireContextA(&h, "tpm-import", prov, PROV_RSA_AES, CRYPT_NEWKEYSET));
	made = objects(NULL);
	MUST_FAIL(CryptImportKey(h, blob, len, 0, 0, &k), EXPECT_PRIVATE_IMPORT_REFUSED);
	CU_ASSERT_EQUAL(objects(NULL), made);
	MUST_FAIL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k), NTE_NO_KEY);
	CryptReleaseContext(h, 0);
	MUST(CryptAcquireContextA(&h, "tpm-import", prov, PROV_RSA_AES, CRYPT_DELETEKEYSET));
	CU_ASSERT_EQUAL(objects(NULL), before);
	CU_ASSERT_EQUAL(objects("tpm-import"), 0);
	MUST(CryptAcquireContextA(&probe, NULL, prov, PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_FALSE(listed(probe, "tpm-import"));
	CryptReleaseContext(probe, 0);
	free(blob);
}

/* Every key of this token decrypts and signs; one capi11 generates as
 * AT_SIGNATURE comes back as AT_SIGNATURE, beside the container's
 * exchange key, and the two are different keys. */
static void test_signature_key(void)
{
	HCRYPTPROV h = open_container(EXT);
	HCRYPTKEY sig = 0, xchg = 0;
	char *sig_pem, *xchg_pem, *m1, *m2;

	MUST(CryptGenKey(h, AT_SIGNATURE, RSA1024, &sig));
	CU_ASSERT_EQUAL(key_param(sig, KP_ALGID), CALG_RSA_SIGN);
	CryptDestroyKey(sig);
	CryptReleaseContext(h, 0);
	h = open_container(EXT);
	MUST(CryptGetUserKey(h, AT_SIGNATURE, &sig));
	MUST(CryptGetUserKey(h, AT_KEYEXCHANGE, &xchg));
	CU_ASSERT_EQUAL(key_param(sig, KP_ALGID), CALG_RSA_SIGN);
	CU_ASSERT_EQUAL(key_param(sig, KP_KEYLEN), 1024);
	CU_ASSERT_EQUAL(key_param(xchg, KP_ALGID), CALG_RSA_KEYX);
	CU_ASSERT_EQUAL(key_param(xchg, KP_KEYLEN), 2048);
	sig_pem = public_pem(sig, "tpm-sig-pem");
	xchg_pem = public_pem(xchg, "tpm-xchg-pem");
	m1 = modulus_of(sig_pem, "PEM");
	m2 = modulus_of(xchg_pem, "PEM");
	CU_ASSERT_STRING_NOT_EQUAL(m1, m2);
	free(m1);
	free(m2);
	free(sig_pem);
	free(xchg_pem);
	CryptDestroyKey(sig);
	CryptDestroyKey(xchg);
	CryptReleaseContext(h, 0);
}

/* CRYPT_DELETEKEYSET takes a container and its keys away, capi11's and a
 * container made elsewhere alike, and leaves the other one. */
static void test_delete(void)
{
	HCRYPTPROV h = 0;
	int all = objects(NULL), ext = objects(EXT), refuse = objects(REFUSE);
	int gone = objects(NEW);

	CU_ASSERT(gone >= 2);
	MUST(CryptAcquireContextA(&h, NEW, prov, PROV_RSA_AES, CRYPT_DELETEKEYSET));
	MUST_FAIL(CryptAcquireContextA(&h, NEW, prov, PROV_RSA_AES, 0), NTE_BAD_KEYSET);
	CU_ASSERT_EQUAL(objects(NEW), 0);
	CU_ASSERT_EQUAL(objects(EXT), ext);
	CU_ASSERT_EQUAL(objects(NULL), all - gone);
	MUST(CryptAcquireContextA(&h, EXT, prov, PROV_RSA_AES, CRYPT_DELETEKEYSET));
	MUST_FAIL(CryptAcquireContextA(&h, EXT, prov, PROV_RSA_AES, 0), NTE_BAD_KEYSET);
	CU_ASSERT_EQUAL(objects(EXT), 0);
	CU_ASSERT_EQUAL(objects(REFUSE), refuse);
	CU_ASSERT_EQUAL(objects(NULL), all - gone - ext);
}

/* ---- The run ------------------------------------------------------------------ */


static CU_TestInfo tests[] = {
	{ "container made by pkcs11-tool: listed, exchange key", test_ext_container },
	{ "PUBLICKEYBLOB is pkcs11-tool's public key", test_ext_publickeyblob },
	{ "RSA CryptEncrypt/CryptDecrypt round trip", test_ext_rsa_round_trip },
	{ "RSA: openssl encrypts, the TPM decrypts", test_ext_openssl_encrypts },
	{ "RSA CryptEncrypt to a partner's PUBLICKEYBLOB", test_rsa_partner_encrypt },
	{ "CryptGenRandom", test_gen_random },
	{ "CRYPT_EXPORTABLE refused, nothing left", test_exportable_refused },
	{ "PRIVATEKEYBLOB import refused, nothing left", test_private_import_refused },
	{ "AT_SIGNATURE comes back as AT_SIGNATURE", test_signature_key },
	{ "SIMPLEBLOB import of openssl's", test_ext_simpleblob_import },
	{ "SIMPLEBLOB export opened by openssl", test_simpleblob_export },
	{ "AES-128/256 PLAINTEXTKEYBLOB as openssl enc", test_aes_import },
	{ "AES-128/256 CryptGenKey as openssl enc", test_aes_generate },
	{ "3DES import and CryptGenKey as openssl enc", test_3des },
	{ "PP_ENUMALGS: each listed cipher can be made", test_enumalgs_routes },
	{ "CRYPT_NEWKEYSET, first key, reopen", test_new_container },
	{ "PUBLICKEYBLOB of capi11's key, openssl encrypts", test_new_publickeyblob },
	{ "PRIVATEKEYBLOB into a new container: nothing left", test_private_import_new_container },
	{ "CRYPT_DELETEKEYSET of capi11's and pkcs11-tool's", test_delete },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	CU_SuiteInfo suites[] = {
		{ "tpm2-pkcs11", NULL, NULL, NULL, NULL, tests },
		CU_SUITE_INFO_NULL,
	};
	const char *pin_file;
	BYTE *pin;
	DWORD pin_len = 0;
	char pin_text[65];
	char *out;
	int rc, st = -1;

	prov = getenv("TPM_PROV");
	module = getenv("TPM_MODULE");
	token = getenv("TPM_TOKEN");
	pin_file = getenv("TPM_PIN_FILE");
	if (!prov || !*prov || !module || !token || !pin_file) {
		fprintf(stderr, "test-tpm2: $TPM_PROV is not set "
				"(run it with scripts/with-tpm-token.sh)\n");
		return CUTEST_SKIP;
	}
	if (!fixture_init())
		return CUTEST_SKIP;
	/* pkcs11-tool reads the PIN from the environment. */
	pin = testutil_file_load(pin_file, &pin_len);
	if (pin == NULL || pin_len == 0 || pin_len >= sizeof pin_text)
		return FIXTURE_HARD_ERROR;
	memcpy(pin_text, pin, pin_len);
	pin_text[pin_len] = '\0';
	setenv("TPM_USER_PIN", pin_text, 1);
	memset(pin_text, 0, sizeof pin_text);
	memset(pin, 0, pin_len);
	free(pin);
	/* The containers made elsewhere: key pairs as pkcs11-tool makes them. */
	out = fixture_capture(&st, "%s --module %s --token-label %s --login --pin env:TPM_USER_PIN "
			      "--keypairgen --key-type rsa:2048 --label %s --id 01 && "
			      "%s --module %s --token-label %s --login --pin env:TPM_USER_PIN "
			      "--keypairgen --key-type rsa:1024 --label %s --id 02",
			      PKCS11_TOOL, module, token, EXT, PKCS11_TOOL, module, token, REFUSE);
	free(out);
	if (st != 0) {
		fprintf(stderr, "test-tpm2: pkcs11-tool cannot make a key pair (see %s)\n",
			fixture_dir());
		return FIXTURE_HARD_ERROR;
	}
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	return rc;
}
