/* What the test programs share beyond the token fixtures (testutil.h). */
/* asprintf is a GNU extension. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"
#include "testutil.h"
#include "fixture.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <CUnit/CUnit.h>

BYTE *testutil_file_load(const char *path, DWORD *len)
{
	BYTE *buf = NULL;
	long n;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0)
		goto out;
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf != NULL)
		*len = (DWORD)n;
out:
	fclose(f);
	return buf;
}

BYTE *testutil_file_read(const char *path, DWORD *len)
{
	BYTE *buf = testutil_file_load(path, len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	return buf;
}

BYTE *testutil_vector_load(const char *name, DWORD *len)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/vectors/%s", TEST_SRCDIR, name);
	return testutil_file_load(path, len);
}

BYTE *testutil_vector_read(const char *name, DWORD *len)
{
	BYTE *buf = testutil_vector_load(name, len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	return buf;
}

/* One count for both kinds of temporary name keeps them apart. */
static int temp_count;

char *testutil_temp_path(const char *stem)
{
	char *path = malloc(4096);

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	snprintf(path, 4096, "%s/%s-%d.bin", fixture_dir(), stem, temp_count++);
	return path;
}

char *testutil_temp_write(const char *stem, const void *data, size_t len)
{
	char name[64];
	char *path;

	snprintf(name, sizeof name, "%s-%d.bin", stem, temp_count++);
	path = fixture_write_file(name, data, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	return path;
}

void testutil_hex_put(char *out, const BYTE *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

char *testutil_hex_new(const BYTE *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	testutil_hex_put(s, p, n);
	return s;
}

uint32_t testutil_le32(const BYTE *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void testutil_le32_put(BYTE *p, uint32_t v)
{
	p[0] = (BYTE)v;
	p[1] = (BYTE)(v >> 8);
	p[2] = (BYTE)(v >> 16);
	p[3] = (BYTE)(v >> 24);
}

DWORD testutil_plaintext_blob(BYTE *out, ALG_ID alg, const BYTE *key, DWORD key_len)
{
	out[0] = PLAINTEXTKEYBLOB;
	out[1] = 2;	/* bVersion */
	out[2] = out[3] = 0;
	testutil_le32_put(out + 4, alg);
	testutil_le32_put(out + 8, key_len);
	memcpy(out + 12, key, key_len);
	return 12 + key_len;
}

/* The size query, then the export into a buffer of that size; the size
 * the query gave in *size, the size written in *len. */
static BYTE *blob_export(HCRYPTKEY key, HCRYPTKEY exp_key, DWORD type, DWORD flags, DWORD *size,
			 DWORD *len)
{
	BYTE *buf;

	*size = 0;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptExportKey(key, exp_key, type, flags, NULL, size));
	CU_ASSERT_FATAL(*size > 8);
	buf = malloc(*size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	*len = *size;
	CU_ASSERT_TRUE_FATAL(CryptExportKey(key, exp_key, type, flags, buf, len));
	return buf;
}

BYTE *testutil_blob_export(HCRYPTKEY key, HCRYPTKEY exp_key, DWORD type, DWORD flags,
			   DWORD *len)
{
	DWORD size;
	BYTE *buf = blob_export(key, exp_key, type, flags, &size, len);

	CU_ASSERT_EQUAL(*len, size);
	return buf;
}

BYTE *testutil_blob_export_bound(HCRYPTKEY key, HCRYPTKEY exp_key, DWORD type, DWORD flags,
				 DWORD *len)
{
	DWORD size;
	BYTE *buf = blob_export(key, exp_key, type, flags, &size, len);

	CU_ASSERT(*len <= size);
	return buf;
}

bool testutil_exports_as(HCRYPTKEY key, DWORD type, const BYTE *want, DWORD want_len)
{
	BYTE buf[2048];
	DWORD len = sizeof buf;

	return CryptExportKey(key, 0, type, 0, buf, &len) && len == want_len &&
	       memcmp(buf, want, len) == 0;
}

bool testutil_openssl_cbc_load(const BYTE *key, const BYTE *in, size_t in_len, BYTE *out,
			       DWORD out_len)
{
	char name[64], key_hex[33];
	char *in_path, *out_path = NULL;
	BYTE *ct = NULL;
	DWORD len = 0;
	bool ok = false;

	snprintf(name, sizeof name, "cbc-in-%d.bin", temp_count++);
	in_path = fixture_write_file(name, in, in_len);
	if (in_path == NULL || asprintf(&out_path, "%s.out", in_path) < 0) {
		out_path = NULL;
		goto out;
	}
	testutil_hex_put(key_hex, key, 16);
	if (fixture_run("%s enc -aes-128-cbc -K %s -iv 00000000000000000000000000000000 "
			"-in %s -out %s", OPENSSL_BIN, key_hex, in_path, out_path) != 0)
		goto out;
	ct = testutil_file_load(out_path, &len);
	ok = ct != NULL && len == out_len;
	if (ok)
		memcpy(out, ct, out_len);
out:
	free(ct);
	free(out_path);
	free(in_path);
	return ok;
}

bool testutil_openssl_enc_load(const char *cipher, const BYTE *key, size_t key_len,
			       size_t iv_len, const BYTE *in, size_t in_len, BYTE *out,
			       DWORD out_len)
{
	BYTE zero_iv[32] = { 0 };
	char name[64], key_hex[2 * 64 + 1], iv_hex[2 * sizeof zero_iv + 1];
	char *in_path, *out_path = NULL;
	BYTE *ct = NULL;
	DWORD len = 0;
	bool ok = false;

	if (iv_len > sizeof zero_iv || key_len > 64)
		return false;
	snprintf(name, sizeof name, "enc-in-%d.bin", temp_count++);
	in_path = fixture_write_file(name, in, in_len);
	if (in_path == NULL || asprintf(&out_path, "%s.out", in_path) < 0) {
		out_path = NULL;
		goto out;
	}
	testutil_hex_put(key_hex, key, key_len);
	testutil_hex_put(iv_hex, zero_iv, iv_len);
	if (fixture_run("%s enc %s -K %s -iv %s -in %s -out %s", OPENSSL_BIN, cipher, key_hex,
			iv_hex, in_path, out_path) != 0)
		goto out;
	ct = testutil_file_load(out_path, &len);
	ok = ct != NULL && len == out_len;
	if (ok)
		memcpy(out, ct, out_len);
out:
	free(ct);
	free(out_path);
	free(in_path);
	return ok;
}

void testutil_check_encrypts_as(HCRYPTKEY k, const char *cipher, const BYTE *key, size_t key_len,
				size_t block)
{
	static const BYTE known[32] = "capi11: a known 32-byte message";
	BYTE got[32 + 32], want[32 + 32];
	DWORD len = sizeof known, want_len = (DWORD)(sizeof known + block);

	CU_ASSERT_FATAL(block == 8 || block == 16);
	memcpy(got, known, sizeof known);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptEncrypt(k, 0, TRUE, 0, got, &len, sizeof got));
	CU_ASSERT_EQUAL_FATAL(len, want_len);
	CU_ASSERT_TRUE_FATAL(testutil_openssl_enc_load(cipher, key, key_len, block, known,
						       sizeof known, want, want_len));
	CU_ASSERT(memcmp(got, want, want_len) == 0);
}

static struct {
	int saved_fd;	/* the real stderr while captured */
	char path[4096];
} capture = { -1, "" };

void testutil_stderr_begin(const char *name)
{
	FILE *f;

	snprintf(capture.path, sizeof capture.path, "%s/%s", fixture_dir(), name);
	f = fopen(capture.path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fflush(stderr);
	capture.saved_fd = dup(2);
	CU_ASSERT_FATAL(capture.saved_fd >= 0);
	dup2(fileno(f), 2);
	fclose(f);
}

char *testutil_stderr_end(size_t *len)
{
	char *text;
	FILE *f;
	long n;

	fflush(stderr);
	dup2(capture.saved_fd, 2);
	close(capture.saved_fd);
	capture.saved_fd = -1;
	f = fopen(capture.path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return text;
}

/* The label of a "label:" line of pkcs11-tool's listing, trimmed in
 * place; NULL for other lines. */
static char *listing_label(char *line)
{
	char *p = strstr(line, "label:");
	size_t len;

	if (p == NULL)
		return NULL;
	p += strlen("label:");
	while (*p == ' ' || *p == '\t')
		p++;
	len = strlen(p);
	while (len > 0 && p[len - 1] == ' ')
		p[--len] = '\0';
	return p;
}

int testutil_token_count(const char *token, const char *type, const char *name)
{
	char *out = NULL, *line, *save = NULL, *found;
	int count = 0;
	int st = fixture_pkcs11_tool(token, true, &out, "--list-objects --type %s", type);

	CU_ASSERT_EQUAL_FATAL(st, 0);
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		/* Each object's listing starts with "<Kind> Object; ...". */
		if (name == NULL) {
			count += strstr(line, "Object;") != NULL;
			continue;
		}
		found = listing_label(line);
		count += found != NULL && strcmp(found, name) == 0;
	}
	free(out);
	return count;
}

static char scratch_dir[64];
static char *scratch_files[32];
static size_t n_scratch_files;

int testutil_scratch_init(const char *stem)
{
	snprintf(scratch_dir, sizeof scratch_dir, "/tmp/capi11-test-%s-XXXXXX", stem);
	return mkdtemp(scratch_dir) == NULL ? -1 : 0;
}

const char *testutil_scratch_dir(void)
{
	return scratch_dir;
}

const char *testutil_scratch_write(const char *name, const void *data, size_t len)
{
	char *path;
	int fd;

	if (n_scratch_files == sizeof scratch_files / sizeof *scratch_files ||
	    asprintf(&path, "%s/%s", scratch_dir, name) < 0)
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		if (fd >= 0)
			close(fd);
		free(path);
		return NULL;
	}
	close(fd);
	scratch_files[n_scratch_files++] = path;
	return path;
}

const char *testutil_scratch_write_text(const char *name, const char *text)
{
	return testutil_scratch_write(name, text, strlen(text));
}

int testutil_scratch_cleanup(void)
{
	size_t i;

	for (i = 0; i < n_scratch_files; i++) {
		unlink(scratch_files[i]);
		free(scratch_files[i]);
	}
	n_scratch_files = 0;
	rmdir(scratch_dir);
	return 0;
}

CK_FUNCTION_LIST *testutil_softhsm(void)
{
	static CK_FUNCTION_LIST *fl;
	CK_C_INITIALIZE_ARGS init = { .flags = CKF_OS_LOCKING_OK };
	CK_C_GetFunctionList get;
	void *module, *sym;
	CK_RV rv;

	if (fl == NULL) {
		module = dlopen(SOFTHSM_MODULE, RTLD_NOW | RTLD_LOCAL);
		sym = module ? dlsym(module, "C_GetFunctionList") : NULL;
		CU_ASSERT_PTR_NOT_NULL_FATAL(sym);
		memcpy(&get, &sym, sizeof get);
		CU_ASSERT_EQUAL_FATAL(get(&fl), CKR_OK);
	}
	/* capi11 may have initialised it already; never finalised here. */
	rv = fl->C_Initialize(&init);
	CU_ASSERT_FATAL(rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED);
	return fl;
}

CK_SESSION_HANDLE testutil_softhsm_session(const char *label, bool rw, bool login)
{
	CK_FUNCTION_LIST *fl = testutil_softhsm();
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO info;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	char padded[32];
	CK_RV rv;

	CU_ASSERT_FATAL(strlen(label) <= sizeof padded);
	memset(padded, ' ', sizeof padded);
	memcpy(padded, label, strlen(label));
	CU_ASSERT_EQUAL_FATAL(fl->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	for (i = 0; i < n; i++) {
		if (fl->C_GetTokenInfo(slots[i], &info) == CKR_OK &&
		    memcmp(info.label, padded, sizeof padded) == 0)
			break;
	}
	CU_ASSERT_FATAL(i < n);
	CU_ASSERT_EQUAL_FATAL(fl->C_OpenSession(slots[i], CKF_SERIAL_SESSION |
						(rw ? CKF_RW_SESSION : 0), NULL, NULL, &s),
			      CKR_OK);
	if (login) {
		/* Private objects show to a logged-in token only. */
		rv = fl->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)FIXTURE_PIN, strlen(FIXTURE_PIN));
		CU_ASSERT_FATAL(rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN);
	}
	return s;
}

/* ---- card profiles ---- */

static const struct {
	const char *env, *name;
	unsigned flags;
} cards[] = {
	[CARD_SOFTHSM] = { "softhsm", "SoftHSM", 0 },
	[CARD_TPM] = { "tpm", "TPM (tpm2-pkcs11)", P11SHIM_PROFILE_TPM },
	[CARD_PIV] = { "piv", "PIV card (OpenSC)", P11SHIM_PROFILE_PIV },
	[CARD_READONLY] = { "readonly", "read-only card", P11SHIM_PROFILE_READONLY_CARD },
};

bool testutil_card_from_env(enum testutil_card *card)
{
	const char *v = getenv(TESTUTIL_PROFILE_ENV);

	*card = CARD_SOFTHSM;
	if (v == NULL || *v == '\0')
		return true;
	for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++) {
		if (strcmp(v, cards[i].env) == 0) {
			*card = (enum testutil_card)i;
			return true;
		}
	}
	fprintf(stderr, "%s=%s names no card profile (softhsm, tpm, piv, readonly)\n",
		TESTUTIL_PROFILE_ENV, v);
	return false;
}

const char *testutil_card_name(enum testutil_card card)
{
	return cards[card].name;
}

unsigned testutil_card_flags(enum testutil_card card)
{
	return cards[card].flags;
}

bool testutil_card_set_profile(unsigned flags)
{
	static void (*set_profile)(unsigned);
	const char *path = fixture_shim_path();

	if (set_profile == NULL && path != NULL && fixture_shim() != NULL) {
		/* The instance p11-kit and fixture_shim() hold: dlopen gives
		 * it again. */
		void *mod = dlopen(path, RTLD_NOW);

		if (mod != NULL)
			*(void **)&set_profile = dlsym(mod, "p11shim_set_profile");
	}
	if (set_profile == NULL)
		return false;
	set_profile(flags);
	return true;
}

bool testutil_card_keys_load(const char *label, bool piv, const char *container)
{
	static const struct {
		const char *pem;
		const char *id;
	} keys[] = { { "rsa512.pem", "02" }, { "rsa1024.pem", "03" } };

	for (size_t i = piv ? 0 : 1; i < sizeof keys / sizeof keys[0]; i++) {
		char path[4096], pub[4096];

		snprintf(path, sizeof path, "%s/vectors/%s", TEST_SRCDIR, keys[i].pem);
		snprintf(pub, sizeof pub, "%s/%s-%s.pub.der", fixture_dir(), label, keys[i].id);
		/* pkcs11-tool writes a public key object from its DER form. */
		if (fixture_run("%s pkey -in %s -pubout -outform DER -out %s", OPENSSL_BIN, path,
				pub) != 0 ||
		    fixture_pkcs11_tool(label, true, NULL, "--write-object %s --type privkey "
					"--id %s --label %s --usage-sign --usage-decrypt", path,
					keys[i].id, container) != 0 ||
		    fixture_pkcs11_tool(label, true, NULL, "--write-object %s --type pubkey "
					"--id %s --label %s", pub, keys[i].id, container) != 0)
			return false;
	}
	return true;
}

void testutil_check_simpleblob_to_partner(HCRYPTPROV h, const char *stem)
{
	char name[64];
	char *partner, *partner_blob, *pt_path, *ct_file;
	HCRYPTKEY to = 0, k = 0;
	BYTE *pub = NULL, *blob = NULL, *value = NULL, ct[128];
	DWORD pub_len = 0, blob_len = 0, value_len = 0;

	snprintf(name, sizeof name, "%s-partner-pem", stem);
	partner = testutil_temp_path(name);
	snprintf(name, sizeof name, "%s-partner-blob", stem);
	partner_blob = testutil_temp_path(name);
	snprintf(name, sizeof name, "%s-export-pt", stem);
	pt_path = testutil_temp_path(name);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 "
					  "-out %s && %s rsa -in %s -pubout -outform MSBLOB -out %s",
					  OPENSSL_BIN, partner, OPENSSL_BIN, partner, partner_blob), 0);
	pub = testutil_file_read(partner_blob, &pub_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &to));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_EXPORTABLE, &k));
	blob = testutil_blob_export(k, to, SIMPLEBLOB, 0, &blob_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	CU_ASSERT_EQUAL_FATAL(blob_len, 12 + 128);
	CU_ASSERT_EQUAL(testutil_le32(blob + 4), CALG_AES_256);
	CU_ASSERT_EQUAL(testutil_le32(blob + 8), CALG_RSA_KEYX);
	/* CryptoAPI's ciphertext is little-endian; openssl's big-endian. */
	for (DWORD i = 0; i < 128; i++)
		ct[i] = blob[12 + 127 - i];
	snprintf(name, sizeof name, "%s-export-ct", stem);
	ct_file = testutil_temp_write(name, ct, sizeof ct);
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s pkeyutl -decrypt -inkey %s -in %s -out %s",
					  OPENSSL_BIN, partner, ct_file, pt_path), 0);
	value = testutil_file_read(pt_path, &value_len);
	CU_ASSERT_EQUAL_FATAL(value_len, 32);
	testutil_check_encrypts_as(k, "-aes-256-cbc", value, value_len, 16);
	free(value);
	free(ct_file);
	free(blob);
	free(pub);
	CryptDestroyKey(k);
	CryptDestroyKey(to);
	free(pt_path);
	free(partner_blob);
	free(partner);
}
