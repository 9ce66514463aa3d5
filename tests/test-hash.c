/* Hash objects and signatures against a throwaway SoftHSM token.
 * Expected digests come from `openssl dgst`; expected signatures from
 * `openssl dgst -sign` with the same key (exported as a PRIVATEKEYBLOB and
 * converted with `openssl rsa -inform MSBLOB`) and from `pkcs11-tool
 * --sign -m SHA256-RSA-PKCS` on the token, reversed into Windows' byte
 * order; openssl checks capi11's signatures. The error codes are
 * those of Microsoft's pages for CryptCreateHash ... CryptVerifySignature
 * as rsaenh reproduces them (and SPEC section 2 for handles). The
 * contexts go through the p11shim, which counts PKCS#11 calls. */
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *label;
static char *uri;
/* p11shim controls that struct p11shim_ops leaves out (p11shim.h). */
static void (*set_attribute)(CK_ATTRIBUTE_TYPE type, int mode);
static void (*lie_operation_state)(CK_ULONG query_len, CK_ULONG fetch_len, CK_RV fetch_rv);
static void (*emulate_digest_state)(bool on);

struct digest {
	ALG_ID alg;
	DWORD size;
	const char *name;              /* openssl dgst option */
};

static const struct digest digests[] = {
	{ CALG_MD5, 16, "md5" },
	{ CALG_SHA1, 20, "sha1" },
	{ CALG_SHA_256, 32, "sha256" },
	{ CALG_SHA_384, 48, "sha384" },
	{ CALG_SHA_512, 64, "sha512" },
};

#define MAX_LEN 1000

/* ---- helpers ---- */

static const struct p11shim_ops *shim(void)
{
	const struct p11shim_ops *ops = fixture_shim();

	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	return ops;
}

static HCRYPTPROV open_verify(void)
{
	HCRYPTPROV h = 0;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	return h;
}

/* A new container of this process, with a key pair of spec (0: none). */
static HCRYPTPROV open_container(const char *name, DWORD spec, DWORD bits)
{
	HCRYPTPROV h = 0;
	HCRYPTKEY k = 0;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, name, uri, PROV_RSA_AES, CRYPT_NEWKEYSET));
	if (spec != 0) {
		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, spec, CRYPT_EXPORTABLE | (bits << 16), &k));
		CU_ASSERT_TRUE(CryptDestroyKey(k));
	}
	return h;
}

static void delete_container(HCRYPTPROV h, const char *name)
{
	HCRYPTPROV gone = 1;

	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&gone, name, uri, PROV_RSA_AES, CRYPT_DELETEKEYSET));
}

/* The test message: n bytes that are not all alike. */
static void message(BYTE *m, size_t n)
{
	uint32_t x = 0x12345678u;
	size_t i;

	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		m[i] = (BYTE)(x >> 16);
	}
}

static void reverse(BYTE *p, size_t n)
{
	size_t i;

	for (i = 0; i < n / 2; i++) {
		BYTE t = p[i];
		p[i] = p[n - 1 - i];
		p[n - 1 - i] = t;
	}
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* n bytes of lowercase hex at s into out; false when s is not that. */
static bool hex_get(BYTE *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int hi = hex_nibble(s[2 * i]), lo = hi < 0 ? -1 : hex_nibble(s[2 * i + 1]);
		if (lo < 0)
			return false;
		out[i] = (BYTE)(hi << 4 | lo);
	}
	return true;
}

/* Hashes data with capi11, in pieces whose sizes follow the pattern. */
static bool capi_digest(HCRYPTPROV h, ALG_ID alg, const BYTE *data, DWORD len, BYTE *out,
			DWORD out_len)
{
	static const DWORD pieces[] = { 1, 0, 7, 64, 13, 200, 3, 129 };
	HCRYPTHASH hh = 0;
	DWORD off = 0, i = 0, n;
	bool ok = CryptCreateHash(h, alg, 0, 0, &hh);

	while (ok && off < len) {
		n = pieces[i++ % (sizeof (pieces) / sizeof (pieces)[0])];
		if (n > len - off)
			n = len - off;
		ok = CryptHashData(hh, data + off, n, 0);
		off += n;
	}
	n = out_len;
	ok = ok && CryptGetHashParam(hh, HP_HASHVAL, out, &n, 0) && n == out_len;
	if (hh != 0)
		CU_ASSERT_TRUE(CryptDestroyHash(hh));
	return ok;
}

/* openssl's digests of data[0..len) for every len in 0..MAX_LEN, in
 * one run: out[len * size ...]. */
static bool openssl_digests(const struct digest *d, const char *dir, BYTE *out)
{
	char *text, *line, *save = NULL;
	int st, seen = 0;

	text = fixture_capture(&st, "cd '%s' && %s dgst -%s -r m*", dir, OPENSSL_BIN, d->name);
	if (text == NULL || st != 0) {
		free(text);
		return false;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		const char *name = strstr(line, " *m");
		unsigned len;

		if (name == NULL || sscanf(name + 3, "%u", &len) != 1 || len > MAX_LEN ||
		    !hex_get(out + (size_t)len * d->size, line, d->size))
			break;
		seen++;
	}
	free(text);
	return seen == MAX_LEN + 1;
}

/* ---- digests ---- */

static void test_digests_streamed(void)
{
	char dir[4096], path[4200];
	BYTE msg[MAX_LEN], got[64];
	BYTE *want;
	HCRYPTPROV h = open_verify();
	size_t a;
	unsigned len, bad = 0;

	message(msg, sizeof msg);
	snprintf(dir, sizeof dir, "%s/digest-msgs", fixture_dir());
	CU_ASSERT_FATAL(mkdir(dir, 0700) == 0 || errno == EEXIST);
	for (len = 0; len <= MAX_LEN; len++) {
		FILE *f;

		snprintf(path, sizeof path, "%s/m%04u", dir, len);
		f = fopen(path, "wb");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_EQUAL(fwrite(msg, 1, len, f), len);
		CU_ASSERT_EQUAL(fclose(f), 0);
	}
	for (a = 0; a < (sizeof (digests) / sizeof (digests)[0]); a++) {
		const struct digest *d = &digests[a];

		want = malloc((size_t)(MAX_LEN + 1) * d->size);
		CU_ASSERT_PTR_NOT_NULL_FATAL(want);
		CU_ASSERT_TRUE_FATAL(openssl_digests(d, dir, want));
		for (len = 0; len <= MAX_LEN; len++) {
			if (!capi_digest(h, d->alg, msg, len, got, d->size) ||
			    memcmp(got, want + (size_t)len * d->size, d->size) != 0) {
				if (bad++ < 5)
					fprintf(stderr, "%s of %u bytes differs\n", d->name, len);
			}
		}
		free(want);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* The digest openssl gives of n bytes of msg. */
static void openssl_one(const char *name, const BYTE *msg, size_t n, BYTE *out, size_t size)
{
	char *in = testutil_temp_write("one", msg, n);
	char *text;
	int st;

	text = fixture_capture(&st, "%s dgst -%s -r %s", OPENSSL_BIN, name, in);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_TRUE(hex_get(out, text, size));
	free(text);
	free(in);
}

/* Several hashes of one context stream at once, each on its own token
 * operation; a duplicate goes on from where its original was. */
static void test_interleaved_and_duplicate(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTHASH a = 0, b = 0, c = 0;
	BYTE msg[MAX_LEN], want_a[32], want_b[20], want_c[32], got[32];
	DWORD n;

	message(msg, sizeof msg);
	openssl_one("sha256", msg, 600, want_a, 32);
	openssl_one("sha1", msg + 100, 300, want_b, 20);
	/* The duplicate, made after 200 bytes, then fed 200..400 twice over
	 * its own path: msg[0..200) + msg[300..700). */
	{
		BYTE dup_msg[600];
		memcpy(dup_msg, msg, 200);
		memcpy(dup_msg + 200, msg + 300, 400);
		openssl_one("sha256", dup_msg, 600, want_c, 32);
	}
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &a));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &b));
	CU_ASSERT_TRUE(CryptHashData(a, msg, 200, 0));
	CU_ASSERT_TRUE(CryptHashData(b, msg + 100, 150, 0));
	CU_ASSERT_TRUE_FATAL(CryptDuplicateHash(a, NULL, 0, &c));
	CU_ASSERT_NOT_EQUAL(a, c);
	CU_ASSERT_TRUE(CryptHashData(c, msg + 300, 400, 0));
	CU_ASSERT_TRUE(CryptHashData(a, msg + 200, 400, 0));
	CU_ASSERT_TRUE(CryptHashData(b, msg + 250, 150, 0));
	n = 32;
	CU_ASSERT_TRUE(CryptGetHashParam(a, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(memcmp(got, want_a, 32), 0);
	n = 20;
	CU_ASSERT_TRUE(CryptGetHashParam(b, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(memcmp(got, want_b, 20), 0);
	/* The original is gone; the copy is not. */
	CU_ASSERT_TRUE(CryptDestroyHash(a));
	n = 32;
	CU_ASSERT_TRUE(CryptGetHashParam(c, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(memcmp(got, want_c, 32), 0);
	/* A duplicate of a finished hash has its value. */
	CU_ASSERT_TRUE_FATAL(CryptDuplicateHash(c, NULL, 0, &a));
	memset(got, 0, sizeof got);
	n = 32;
	CU_ASSERT_TRUE(CryptGetHashParam(a, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(memcmp(got, want_c, 32), 0);
	CHECK_FAILS_WITH(CryptHashData(a, msg, 1, 0), NTE_BAD_HASH_STATE);
	CU_ASSERT_TRUE(CryptDestroyHash(a));
	CU_ASSERT_TRUE(CryptDestroyHash(b));
	CU_ASSERT_TRUE(CryptDestroyHash(c));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* A token that cannot save a digest's state: the data is replayed while
 * it stays under 16 KiB (README), past that the copy cannot be made. */
static void test_duplicate_limit(void)
{
	const struct p11shim_ops *ops = shim();
	HCRYPTPROV h = open_verify();
	HCRYPTHASH a = 0, b = 0, c = 0;
	static BYTE big[16 * 1024 + 1];
	BYTE want[32], got[32];
	DWORD n;

	message(big, sizeof big);
	openssl_one("sha256", big, 16 * 1024, want, 32);
	ops->reset();
	ops->fail("C_GetOperationState", 0, CKR_FUNCTION_NOT_SUPPORTED);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &a));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &b));
	CU_ASSERT_TRUE(CryptHashData(a, big, 16 * 1024, 0));
	CU_ASSERT_TRUE(CryptHashData(b, big, sizeof big, 0));
	CU_ASSERT_TRUE_FATAL(CryptDuplicateHash(a, NULL, 0, &c));
	CHECK_FAILS_WITH(CryptDuplicateHash(b, NULL, 0, &c), NTE_NOT_SUPPORTED);
	CU_ASSERT(ops->count("C_GetOperationState") >= 2);
	ops->reset();
	n = sizeof got;
	CU_ASSERT_TRUE(CryptGetHashParam(c, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(memcmp(got, want, 32), 0);
	CU_ASSERT_TRUE(CryptDestroyHash(a));
	CU_ASSERT_TRUE(CryptDestroyHash(b));
	CU_ASSERT_TRUE(CryptDestroyHash(c));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* A module whose C_GetOperationState names one length and then reports a
 * longer one than the buffer it was given, with CKR_OK or with
 * CKR_BUFFER_TOO_SMALL: capi11 must never use (or wipe) more than it
 * allocated. The state is unusable, so the copy replays the data. */
static void test_duplicate_lying_state(void)
{
	static const CK_RV rvs[] = { CKR_OK, CKR_BUFFER_TOO_SMALL };
	const struct p11shim_ops *ops = shim();
	HCRYPTPROV h = open_verify();
	BYTE msg[300], want[32], got[32];
	size_t i;

	message(msg, sizeof msg);
	openssl_one("sha256", msg, sizeof msg, want, 32);
	for (i = 0; i < sizeof rvs / sizeof rvs[0]; i++) {
		HCRYPTHASH a = 0, c = 0;
		DWORD n = sizeof got;

		ops->reset();
		lie_operation_state(16, 64u << 20, rvs[i]);
		CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &a));
		CU_ASSERT_TRUE(CryptHashData(a, msg, 100, 0));
		CU_ASSERT_TRUE_FATAL(CryptDuplicateHash(a, NULL, 0, &c));
		CU_ASSERT(ops->count("C_GetOperationState") >= 2);
		lie_operation_state(0, 0, CKR_OK);
		CU_ASSERT_TRUE(CryptHashData(a, msg + 100, 200, 0));
		CU_ASSERT_TRUE(CryptHashData(c, msg + 100, 200, 0));
		CU_ASSERT_TRUE(CryptGetHashParam(a, HP_HASHVAL, got, &n, 0));
		CU_ASSERT_EQUAL(memcmp(got, want, 32), 0);
		n = sizeof got;
		memset(got, 0, sizeof got);
		CU_ASSERT_TRUE(CryptGetHashParam(c, HP_HASHVAL, got, &n, 0));
		CU_ASSERT_EQUAL(memcmp(got, want, 32), 0);
		CU_ASSERT_TRUE(CryptDestroyHash(c));
		CU_ASSERT_TRUE(CryptDestroyHash(a));
	}
	ops->reset();
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* A token that saves digests' states (the shim plays one): the copy
 * continues from the state, and still knows the data behind it, so that
 * a copy of the copy made by replay (the token refusing the state then)
 * hashes everything. openssl dgst gives the values. */
static void test_duplicate_saved_state(void)
{
	const struct p11shim_ops *ops = shim();
	HCRYPTPROV h = open_verify();
	HCRYPTHASH a = 0, c = 0, d = 0;
	BYTE msg[300], want[32], got[32];
	DWORD n = sizeof got;

	message(msg, sizeof msg);
	openssl_one("sha256", msg, sizeof msg, want, 32);
	ops->reset();
	emulate_digest_state(true);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &a));
	CU_ASSERT_TRUE(CryptHashData(a, msg, 100, 0));
	CU_ASSERT_TRUE_FATAL(CryptDuplicateHash(a, NULL, 0, &c));
	CU_ASSERT_EQUAL(ops->count("C_SetOperationState"), 1);
	CU_ASSERT_TRUE(CryptHashData(c, msg + 100, 100, 0));
	ops->fail("C_GetOperationState", 0, CKR_FUNCTION_NOT_SUPPORTED);
	CU_ASSERT_TRUE_FATAL(CryptDuplicateHash(c, NULL, 0, &d));
	CU_ASSERT_EQUAL(ops->count("C_SetOperationState"), 1);
	CU_ASSERT_TRUE(CryptHashData(d, msg + 200, 100, 0));
	CU_ASSERT_TRUE(CryptGetHashParam(d, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(memcmp(got, want, 32), 0);
	ops->reset();
	CU_ASSERT_TRUE(CryptDestroyHash(d));
	CU_ASSERT_TRUE(CryptDestroyHash(c));
	CU_ASSERT_TRUE(CryptDestroyHash(a));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* HP_ALGID, HP_HASHSIZE and HP_HASHVAL under the buffer rule; the value
 * ends the hash, a size query does not. */
static void test_params(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTHASH hh = 0;
	BYTE msg[MAX_LEN], want[48], got[64];
	DWORD n, v;

	message(msg, sizeof msg);
	openssl_one("sha384", msg, 10, want, 48);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_384, 0, 0, &hh));
	n = sizeof v;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_ALGID, (BYTE *)&v, &n, 0));
	CU_ASSERT_EQUAL(v, CALG_SHA_384);
	CU_ASSERT_EQUAL(n, 4);
	n = 0;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHSIZE, NULL, &n, 0));
	CU_ASSERT_EQUAL(n, 4);
	n = 3;
	CHECK_FAILS_WITH(CryptGetHashParam(hh, HP_HASHSIZE, (BYTE *)&v, &n, 0), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(n, 4);
	n = sizeof v;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHSIZE, (BYTE *)&v, &n, 0));
	CU_ASSERT_EQUAL(v, 48);
	CU_ASSERT_TRUE(CryptHashData(hh, msg, 4, 0));
	/* Size query and a short buffer leave the hash open. */
	n = 0;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, NULL, &n, 0));
	CU_ASSERT_EQUAL(n, 48);
	n = 47;
	CHECK_FAILS_WITH(CryptGetHashParam(hh, HP_HASHVAL, got, &n, 0), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(n, 48);
	CU_ASSERT_TRUE(CryptHashData(hh, msg + 4, 6, 0));
	/* Zero bytes are nothing, NULL included. */
	CU_ASSERT_TRUE(CryptHashData(hh, NULL, 0, 0));
	n = sizeof got;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(n, 48);
	CU_ASSERT_EQUAL(memcmp(got, want, 48), 0);
	/* The value stays; data no longer goes in. */
	memset(got, 0, sizeof got);
	n = sizeof got;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(memcmp(got, want, 48), 0);
	CHECK_FAILS_WITH(CryptHashData(hh, msg, 1, 0), NTE_BAD_HASH_STATE);
	n = sizeof got;
	CHECK_FAILS_WITH(CryptGetHashParam(hh, 0x77, got, &n, 0), NTE_BAD_TYPE);
	CHECK_FAILS_WITH(CryptGetHashParam(hh, HP_HASHVAL, got, &n, 1), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptGetHashParam(hh, HP_HASHVAL, got, NULL, 0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSetHashParam(hh, 0x77, got, 0), NTE_BAD_TYPE);
	CHECK_FAILS_WITH(CryptSetHashParam(hh, HP_HASHVAL, got, 1), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptSetHashParam(hh, HP_HASHVAL, NULL, 0), ERROR_INVALID_PARAMETER);
	/* HP_HMAC_INFO belongs to CALG_HMAC. */
	{
		HMAC_INFO info = { CALG_SHA1, NULL, 0, NULL, 0 };
		CHECK_FAILS_WITH(CryptSetHashParam(hh, HP_HMAC_INFO, (BYTE *)&info, 0),
				 NTE_BAD_TYPE);
	}
	/* HP_HASHVAL sets the value, even after one was read. */
	memset(got, 0xa5, sizeof got);
	CU_ASSERT_TRUE(CryptSetHashParam(hh, HP_HASHVAL, got, 0));
	memset(want, 0, sizeof want);
	n = sizeof want;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, want, &n, 0));
	CU_ASSERT_EQUAL(memcmp(want, got, 48), 0);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* Handles, algorithms, flags and keys CryptCreateHash and the others
 * refuse. */
static void test_errors(void)
{
	HCRYPTPROV h = open_verify(), h2 = open_verify();
	HCRYPTHASH hh = 0, gone = 0;
	HCRYPTKEY k = 0;
	BYTE b[64];
	DWORD n = sizeof b;

	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_SHA_256, 0, 0, NULL), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptCreateHash(0, CALG_SHA_256, 0, 0, &hh), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_SHA_256, 12345, 0, &hh), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_AES_128, 0, 0, &hh), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_MD2, 0, 0, &hh), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptCreateHash(h, 0, 0, 0, &hh), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_SHA_256, 0, CRYPT_SECRETDIGEST, &hh),
			 NTE_BAD_FLAGS);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &k));
	/* A key where the algorithm takes none; HMAC without one. */
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_SHA_256, k, 0, &hh), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_HMAC, 0, 0, &hh), NTE_BAD_KEY);

	/* Handles that name no hash: 0, a key, a destroyed hash. */
	CHECK_FAILS_WITH(CryptHashData(0, b, 1, 0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptHashData((HCRYPTHASH)k, b, 1, 0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptGetHashParam((HCRYPTHASH)h, HP_ALGID, b, &n, 0),
			 ERROR_INVALID_PARAMETER);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &gone));
	CU_ASSERT_TRUE(CryptDestroyHash(gone));
	CHECK_FAILS_WITH(CryptDestroyHash(gone), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDestroyHash(0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptHashData(gone, b, 1, 0), ERROR_INVALID_PARAMETER);
	n = sizeof b;
	CHECK_FAILS_WITH(CryptGetHashParam(gone, HP_HASHVAL, b, &n, 0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSetHashParam(gone, HP_HASHVAL, b, 0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDuplicateHash(gone, NULL, 0, &hh), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSignHashA(gone, AT_SIGNATURE, NULL, 0, NULL, &n),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptVerifySignatureA(gone, b, 64, k, NULL, 0), ERROR_INVALID_PARAMETER);

	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hh));
	CHECK_FAILS_WITH(CryptHashData(hh, NULL, 1, 0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptHashData(hh, b, 1, 2), NTE_BAD_FLAGS);
	/* CRYPT_USERDATA is taken and changes nothing. */
	CU_ASSERT_TRUE(CryptHashData(hh, b, 1, CRYPT_USERDATA));
	CHECK_FAILS_WITH(CryptDuplicateHash(hh, &n, 0, &gone), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDuplicateHash(hh, NULL, 1, &gone), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDuplicateHash(hh, NULL, 0, NULL), ERROR_INVALID_PARAMETER);
	/* A key of another context does not make a hash a keyed one. */
	CHECK_FAILS_WITH(CryptCreateHash(h2, CALG_MD5, k, 0, &gone), NTE_BAD_KEY);

	/* A context's hashes go with it. */
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CHECK_FAILS_WITH(CryptHashData(hh, b, 1, 0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDestroyHash(hh), ERROR_INVALID_PARAMETER);
	CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
}

/* CALG_SSL3_SHAMD5 takes its 36-byte value through HP_HASHVAL only. */
static void test_ssl3_shamd5(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTHASH hh = 0;
	BYTE v[MAX_LEN], got[36];
	DWORD n, size = 0;

	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SSL3_SHAMD5, 0, 0, &hh));
	n = sizeof size;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHSIZE, (BYTE *)&size, &n, 0));
	CU_ASSERT_EQUAL(size, 36);
	CHECK_FAILS_WITH(CryptHashData(hh, v, 1, 0), NTE_BAD_ALGID);
	n = sizeof got;
	CHECK_FAILS_WITH(CryptGetHashParam(hh, HP_HASHVAL, got, &n, 0), NTE_BAD_HASH_STATE);
	message(v, sizeof v);
	CU_ASSERT_TRUE(CryptSetHashParam(hh, HP_HASHVAL, v, 0));
	n = sizeof got;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(n, 36);
	CU_ASSERT_EQUAL(memcmp(got, v, 36), 0);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* A PLAINTEXTKEYBLOB import of key (len bytes). */
static HCRYPTKEY import_plain(HCRYPTPROV h, ALG_ID alg, const BYTE *key, DWORD len, DWORD flags)
{
	BYTE blob[12 + 32];
	HCRYPTKEY k = 0;
	DWORD n = testutil_plaintext_blob(blob, alg, key, len);

	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, flags, &k));
	return k;
}

/* CryptHashSessionKey hashes the key's bytes reversed by default
 * (Microsoft: "big-endian form"), as stored with CRYPT_LITTLE_ENDIAN,
 * which the token digests itself, sensitive keys included. */
static void test_hash_session_key(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTHASH hh = 0;
	HCRYPTKEY exportable, sensitive, rsa = 0;
	BYTE key[32], rev[32], want[32], got[32], both[64];
	DWORD n, i;

	message(key, sizeof key);
	for (i = 0; i < 32; i++)
		rev[i] = key[31 - i];
	exportable = import_plain(h, CALG_AES_256, key, 32, CRYPT_EXPORTABLE);
	sensitive = import_plain(h, CALG_AES_256, key, 32, 0);

	openssl_one("sha256", rev, 32, want, 32);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptHashSessionKey(hh, exportable, 0));
	n = 32;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(memcmp(got, want, 32), 0);
	CHECK_FAILS_WITH(CryptHashSessionKey(hh, exportable, 0), NTE_BAD_HASH_STATE);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));

	/* Little-endian form, between data, of a key that never leaves. */
	memcpy(both, key, 16);
	memcpy(both + 16, key, 32);
	memcpy(both + 48, key + 16, 16);
	openssl_one("sha256", both, 64, want, 32);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptHashData(hh, key, 16, 0));
	CU_ASSERT_TRUE(CryptHashSessionKey(hh, sensitive, CRYPT_LITTLE_ENDIAN));
	CU_ASSERT_TRUE(CryptHashData(hh, key + 16, 16, 0));
	/* Its bytes cannot be reversed outside the token. */
	CHECK_FAILS_WITH(CryptHashSessionKey(hh, sensitive, 0), NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptHashSessionKey(hh, sensitive, 2), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptHashSessionKey(hh, 0, 0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptHashSessionKey(0, sensitive, 0), ERROR_INVALID_PARAMETER);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 512u << 16, &rsa));
	CHECK_FAILS_WITH(CryptHashSessionKey(hh, rsa, 0), NTE_BAD_KEY);
	n = 32;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(memcmp(got, want, 32), 0);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptDestroyKey(rsa));
	CU_ASSERT_TRUE(CryptDestroyKey(exportable));
	CU_ASSERT_TRUE(CryptDestroyKey(sensitive));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* A token that takes CKA_SENSITIVE and CKA_EXTRACTABLE but keeps secret
 * keys readable whatever they say lets anyone read CKA_VALUE of a key
 * capi11 made non-exportable. The
 * reversed form of CryptHashSessionKey reads that value, so it must hold
 * to KP_PERMISSIONS as PLAINTEXTKEYBLOB export does: under CALG_MAC with
 * a key the caller knows, one block of MAC over a 16-byte AES key is two
 * AES decryptions away from the key itself. */
static void test_hash_session_key_not_exportable(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTHASH hh = 0;
	HCRYPTKEY secret, known;
	BYTE key[16], mine[16], blob[64];
	DWORD n = sizeof blob;

	message(key, sizeof key);
	memset(mine, 0x42, sizeof mine);
	set_attribute(CKA_SENSITIVE, P11SHIM_ATTR_FORCED_FALSE);
	set_attribute(CKA_EXTRACTABLE, P11SHIM_ATTR_FORCED_TRUE);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &secret));
	known = import_plain(h, CALG_AES_128, mine, 16, CRYPT_EXPORTABLE);
	set_attribute(CKA_SENSITIVE, 0);
	set_attribute(CKA_EXTRACTABLE, 0);
	CHECK_FAILS_WITH(CryptExportKey(secret, 0, PLAINTEXTKEYBLOB, 0, blob, &n),
			 NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_MAC, known, 0, &hh));
	CHECK_FAILS_WITH(CryptHashSessionKey(hh, secret, 0), NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &hh));
	CHECK_FAILS_WITH(CryptHashSessionKey(hh, secret, 0), NTE_BAD_KEY_STATE);
	/* Digested inside the token, the key stays usable as before. */
	CU_ASSERT_TRUE(CryptHashSessionKey(hh, secret, CRYPT_LITTLE_ENDIAN));
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptDestroyKey(known));
	CU_ASSERT_TRUE(CryptDestroyKey(secret));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* The hHash of CryptEncrypt and CryptDecrypt hashes the plaintext. */
static void test_encrypt_decrypt_hash(void)
{
	HCRYPTPROV h = open_verify(), other = open_verify();
	HCRYPTHASH he = 0, hd = 0, foreign = 0;
	HCRYPTKEY k;
	BYTE key[16], msg[MAX_LEN], buf[128], want[20], got[20];
	DWORD len, n;

	message(msg, sizeof msg);
	memcpy(key, msg + 500, 16);
	k = import_plain(h, CALG_AES_128, key, 16, 0);
	openssl_one("sha1", msg, 100, want, 20);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &he));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hd));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(other, CALG_SHA1, 0, 0, &foreign));
	memcpy(buf, msg, 100);
	len = 100;
	/* A size query hashes nothing. */
	CU_ASSERT_TRUE(CryptEncrypt(k, he, TRUE, 0, NULL, &len, sizeof buf));
	CU_ASSERT_EQUAL(len, 112);
	len = 100;
	CHECK_FAILS_WITH(CryptEncrypt(k, foreign, TRUE, 0, buf, &len, sizeof buf),
			 ERROR_INVALID_PARAMETER);
	CU_ASSERT_EQUAL(memcmp(buf, msg, 100), 0);
	CU_ASSERT_TRUE(CryptEncrypt(k, he, FALSE, 0, buf, &len, sizeof buf) == FALSE);
	len = 100;
	CU_ASSERT_TRUE(CryptEncrypt(k, he, TRUE, 0, buf, &len, sizeof buf));
	CU_ASSERT_EQUAL(len, 112);
	CU_ASSERT_TRUE(CryptDecrypt(k, hd, TRUE, 0, buf, &len));
	CU_ASSERT_EQUAL(len, 100);
	CU_ASSERT_EQUAL(memcmp(buf, msg, 100), 0);
	n = 20;
	CU_ASSERT_TRUE(CryptGetHashParam(he, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(memcmp(got, want, 20), 0);
	n = 20;
	CU_ASSERT_TRUE(CryptGetHashParam(hd, HP_HASHVAL, got, &n, 0));
	CU_ASSERT_EQUAL(memcmp(got, want, 20), 0);
	/* A finished hash stops the call before anything is encrypted. */
	len = 16;
	memcpy(buf, msg, 16);
	CHECK_FAILS_WITH(CryptEncrypt(k, he, TRUE, 0, buf, &len, sizeof buf), NTE_BAD_HASH_STATE);
	CU_ASSERT_EQUAL(memcmp(buf, msg, 16), 0);
	CU_ASSERT_TRUE(CryptDestroyHash(he));
	CU_ASSERT_TRUE(CryptDestroyHash(hd));
	CU_ASSERT_TRUE(CryptDestroyHash(foreign));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(other, 0));
}

/* ---- HMAC ---- */

struct hmac_vector {
	const char *source;
	ALG_ID alg;
	BYTE key_byte;                /* key: key_len bytes of key_byte, or */
	const char *key_text;         /* these characters */
	DWORD key_len;
	const char *data;
	const char *mac;              /* hex */
};

/* RFC 2202 (HMAC-MD5, HMAC-SHA-1) test cases 1 and 2; RFC 4231 test
 * cases 1, 2 and 6 (a key longer than the hash's block). */
static const struct hmac_vector hmac_vectors[] = {
	{ "RFC 2202 MD5 1", CALG_MD5, 0x0b, NULL, 16, "Hi There",
	  "9294727a3638bb1c13f48ef8158bfc9d" },
	{ "RFC 2202 MD5 2", CALG_MD5, 0, "Jefe", 4, "what do ya want for nothing?",
	  "750c783e6ab0b503eaa86e310a5db738" },
	{ "RFC 2202 SHA-1 1", CALG_SHA1, 0x0b, NULL, 20, "Hi There",
	  "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "RFC 2202 SHA-1 2", CALG_SHA1, 0, "Jefe", 4, "what do ya want for nothing?",
	  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ "RFC 4231 SHA-256 1", CALG_SHA_256, 0x0b, NULL, 20, "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "RFC 4231 SHA-256 2", CALG_SHA_256, 0, "Jefe", 4, "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "RFC 4231 SHA-256 6", CALG_SHA_256, 0xaa, NULL, 131,
	  "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "RFC 4231 SHA-384 1", CALG_SHA_384, 0x0b, NULL, 20, "Hi There",
	  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	  "faea9ea9076ede7f4af152e8b2fa9cb6" },
	{ "RFC 4231 SHA-384 2", CALG_SHA_384, 0, "Jefe", 4, "what do ya want for nothing?",
	  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	  "8e2240ca5e69e2c78b3239ecfab21649" },
	{ "RFC 4231 SHA-512 1", CALG_SHA_512, 0x0b, NULL, 20, "Hi There",
	  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ "RFC 4231 SHA-512 2", CALG_SHA_512, 0, "Jefe", 4, "what do ya want for nothing?",
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
};

/* An HMAC key as Windows programs bring it in: a PLAINTEXTKEYBLOB of
 * CALG_RC2 with CRYPT_IPSEC_HMAC_KEY. */
static HCRYPTKEY import_hmac_key(HCRYPTPROV h, const BYTE *key, DWORD len)
{
	BYTE blob[12 + 256];
	HCRYPTKEY k = 0;
	DWORD n;

	CU_ASSERT_FATAL(len <= 256);
	n = testutil_plaintext_blob(blob, CALG_RC2, key, len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, n, 0, CRYPT_IPSEC_HMAC_KEY, &k));
	return k;
}

static void test_hmac_vectors(void)
{
	HCRYPTPROV h = open_verify();
	size_t i;

	for (i = 0; i < sizeof hmac_vectors / sizeof hmac_vectors[0]; i++) {
		const struct hmac_vector *v = &hmac_vectors[i];
		HMAC_INFO info = { v->alg, NULL, 0, NULL, 0 };
		BYTE key[256], want[64], got[64];
		DWORD size = strlen(v->mac) / 2, n, half = strlen(v->data) / 2, algid = 0;
		HCRYPTHASH hh = 0, copy = 0;
		HCRYPTKEY k;

		if (v->key_text != NULL)
			memcpy(key, v->key_text, v->key_len);
		else
			memset(key, v->key_byte, v->key_len);
		CU_ASSERT_TRUE_FATAL(hex_get(want, v->mac, size));
		k = import_hmac_key(h, key, v->key_len);
		CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_HMAC, k, 0, &hh));
		/* Data before the inner hash is chosen has nowhere to go. */
		CHECK_FAILS_WITH(CryptHashData(hh, (const BYTE *)v->data, 1, 0), NTE_BAD_HASH_STATE);
		CU_ASSERT_TRUE(CryptSetHashParam(hh, HP_HMAC_INFO, (BYTE *)&info, 0));
		CHECK_FAILS_WITH(CryptSetHashParam(hh, HP_HMAC_INFO, (BYTE *)&info, 0),
				 NTE_BAD_HASH_STATE);
		CU_ASSERT_TRUE(CryptHashData(hh, (const BYTE *)v->data, half, 0));
		/* A duplicate of a keyed hash goes on under the same key. */
		CU_ASSERT_TRUE_FATAL(CryptDuplicateHash(hh, NULL, 0, &copy));
		CU_ASSERT_TRUE(CryptHashData(hh, (const BYTE *)v->data + half,
					     strlen(v->data) - half, 0));
		CU_ASSERT_TRUE(CryptHashData(copy, (const BYTE *)v->data + half,
					     strlen(v->data) - half, 0));
		n = sizeof algid;
		CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_ALGID, (BYTE *)&algid, &n, 0));
		CU_ASSERT_EQUAL(algid, CALG_HMAC);
		n = sizeof got;
		CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, got, &n, 0));
		CU_ASSERT_EQUAL(n, size);
		if (n != size || memcmp(got, want, size) != 0)
			fprintf(stderr, "%s differs\n", v->source);
		CU_ASSERT_EQUAL(memcmp(got, want, size), 0);
		n = sizeof got;
		memset(got, 0, sizeof got);
		CU_ASSERT_TRUE(CryptGetHashParam(copy, HP_HASHVAL, got, &n, 0));
		CU_ASSERT_EQUAL(memcmp(got, want, size), 0);
		CU_ASSERT_TRUE(CryptDestroyHash(copy));
		CU_ASSERT_TRUE(CryptDestroyHash(hh));
		CU_ASSERT_TRUE(CryptDestroyKey(k));
	}
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static void test_hmac_errors(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTHASH hh = 0;
	HCRYPTKEY k, aes;
	BYTE key[20], pad[64], sig[256];
	HMAC_INFO info = { CALG_SHA1, NULL, 0, NULL, 0 };
	DWORD n, size = 1;

	memset(key, 0x0b, sizeof key);
	memset(pad, 0x36, sizeof pad);
	k = import_hmac_key(h, key, sizeof key);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_HMAC, k, 0, &hh));
	n = sizeof size;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHSIZE, (BYTE *)&size, &n, 0));
	CU_ASSERT_EQUAL(size, 0);
	n = sizeof sig;
	CHECK_FAILS_WITH(CryptGetHashParam(hh, HP_HASHVAL, sig, &n, 0), NTE_BAD_HASH_STATE);
	/* The token's HMAC has RFC 2104's pads only. */
	info.pbInnerString = pad;
	info.cbInnerString = sizeof pad;
	CHECK_FAILS_WITH(CryptSetHashParam(hh, HP_HMAC_INFO, (BYTE *)&info, 0), NTE_BAD_DATA);
	info.pbInnerString = NULL;
	info.cbInnerString = 0;
	info.HashAlgid = CALG_AES_128;
	CHECK_FAILS_WITH(CryptSetHashParam(hh, HP_HMAC_INFO, (BYTE *)&info, 0), NTE_BAD_ALGID);
	info.HashAlgid = CALG_SHA1;
	CU_ASSERT_TRUE(CryptSetHashParam(hh, HP_HMAC_INFO, (BYTE *)&info, 0));
	n = sizeof size;
	CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHSIZE, (BYTE *)&size, &n, 0));
	CU_ASSERT_EQUAL(size, 20);
	/* An HMAC value is not signed: no DigestInfo names it. */
	n = sizeof sig;
	CHECK_FAILS_WITH(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, sig, &n), NTE_BAD_ALGID);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	/* A key the token's HMAC does not take (an AES key). */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &aes));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_HMAC, aes, 0, &hh));
	CHECK_FAILS_WITH(CryptSetHashParam(hh, HP_HMAC_INFO, (BYTE *)&info, 0), NTE_BAD_KEY);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	/* The HMAC key keeps its Windows algorithm. */
	n = sizeof size;
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_ALGID, (BYTE *)&size, &n, 0));
	CU_ASSERT_EQUAL(size, CALG_RC2);
	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- CALG_MAC ---- */

/* The CBC-MAC is the last block of what CryptEncrypt (and openssl enc)
 * make of the data: CBC from the key's IV, PKCS#5 padding. */
static void test_mac(void)
{
	static const struct { ALG_ID alg; DWORD key_len, block; const char *cipher; } ciphers[] = {
		{ CALG_AES_128, 16, 16, "-aes-128-cbc" },
		{ CALG_AES_256, 32, 16, "-aes-256-cbc" },
		{ CALG_3DES, 24, 8, "-des-ede3-cbc" },
	};
	static const DWORD lens[] = { 0, 5, 8, 16, 33, 100, 5000 };
	static BYTE msg[5000], ct[5016];
	HCRYPTPROV h = open_verify();
	size_t c, l;

	message(msg, sizeof msg);
	for (c = 0; c < sizeof ciphers / sizeof ciphers[0]; c++) {
		BYTE key[32], got[16];
		HCRYPTKEY k;
		DWORD size = 0, n;

		memcpy(key, msg + 1000, ciphers[c].key_len);
		k = import_plain(h, ciphers[c].alg, key, ciphers[c].key_len, 0);
		for (l = 0; l < sizeof lens / sizeof lens[0]; l++) {
			DWORD len = lens[l], ct_len = (len / ciphers[c].block + 1) * ciphers[c].block;
			HCRYPTHASH hh = 0, copy = 0;
			DWORD half = len / 3;

			CU_ASSERT_TRUE_FATAL(testutil_openssl_enc_load(ciphers[c].cipher, key,
								       ciphers[c].key_len,
								       ciphers[c].block, msg, len,
								       ct, ct_len));
			CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_MAC, k, 0, &hh));
			n = sizeof size;
			CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHSIZE, (BYTE *)&size, &n, 0));
			CU_ASSERT_EQUAL(size, ciphers[c].block);
			CU_ASSERT_TRUE(CryptHashData(hh, msg, half, 0));
			CU_ASSERT_TRUE_FATAL(CryptDuplicateHash(hh, NULL, 0, &copy));
			CU_ASSERT_TRUE(CryptHashData(hh, msg + half, len > half, 0));
			CU_ASSERT_TRUE(CryptHashData(hh, msg + half + (len > half),
						     len - half - (len > half), 0));
			CU_ASSERT_TRUE(CryptHashData(copy, msg + half, len - half, 0));
			n = sizeof got;
			CU_ASSERT_TRUE(CryptGetHashParam(hh, HP_HASHVAL, got, &n, 0));
			CU_ASSERT_EQUAL(n, ciphers[c].block);
			CU_ASSERT_EQUAL(memcmp(got, ct + ct_len - ciphers[c].block,
					       ciphers[c].block), 0);
			n = sizeof got;
			memset(got, 0, sizeof got);
			CU_ASSERT_TRUE(CryptGetHashParam(copy, HP_HASHVAL, got, &n, 0));
			CU_ASSERT_EQUAL(memcmp(got, ct + ct_len - ciphers[c].block,
					       ciphers[c].block), 0);
			CU_ASSERT_TRUE(CryptDestroyHash(copy));
			CU_ASSERT_TRUE(CryptDestroyHash(hh));
		}
		CU_ASSERT_TRUE(CryptDestroyKey(k));
	}
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* Keyed hashes of one context under a key of another, on the same token,
 * whose context then goes: the hashes fail cleanly or go on with the key
 * they hold, never on another object; the key's handle is gone with its
 * context. */
static void test_keyed_hash_key_context_released(void)
{
	HCRYPTPROV h = open_verify(), h2 = open_verify();
	HCRYPTHASH mac = 0, hmac = 0, dig = 0;
	HCRYPTKEY aes = 0, hk;
	HMAC_INFO info = { CALG_SHA_256, NULL, 0, NULL, 0 };
	BYTE key[20] = { 1 }, b[64] = { 0 };
	DWORD n = sizeof b;
	BOOL ok;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &aes));
	hk = import_hmac_key(h, key, sizeof key);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h2, CALG_MAC, aes, 0, &mac));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h2, CALG_HMAC, hk, 0, &hmac));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h2, CALG_SHA_256, 0, 0, &dig));
	CU_ASSERT_TRUE(CryptHashData(mac, b, 20, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CHECK_FAILS_WITH(CryptHashSessionKey(dig, aes, CRYPT_LITTLE_ENDIAN),
			 ERROR_INVALID_PARAMETER);
	/* A MAC under way goes on where the token keeps the key with the
	 * operation (SoftHSM), else fails; either way with a 16-byte value. */
	ok = CryptHashData(mac, b, 20, 0);
	if (ok) {
		n = sizeof b;
		ok = CryptGetHashParam(mac, HP_HASHVAL, b, &n, 0);
		CU_ASSERT(!ok || n == 16);
	}
	/* The session keys went with their context: an HMAC not started yet
	 * has no key any more. */
	CHECK_FAILS_WITH(CryptSetHashParam(hmac, HP_HMAC_INFO, (const BYTE *)&info, 0),
			 NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptHashData(hmac, b, 3, 0), NTE_BAD_HASH_STATE);
	CU_ASSERT_TRUE(CryptDestroyHash(mac));
	CU_ASSERT_TRUE(CryptDestroyHash(hmac));
	CU_ASSERT_TRUE(CryptDestroyHash(dig));
	CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
}

/* A wrap-only key-encryption key (CRYPT_KEK) encrypts nothing: neither
 * through CryptEncrypt (NTE_PERM) nor as CALG_MAC's key, whose value is a
 * CBC encryption under it, an encryption of a block the caller chooses
 * through KP_IV. capi11 holds to that itself, as CryptEncrypt does, on a
 * token that would let the key encrypt (CKA_ENCRYPT taken as TRUE). */
static void test_mac_kek(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTHASH hh = 0;
	HCRYPTKEY kek = 0;
	BYTE data[32] = { 0 };
	DWORD n = 16;

	set_attribute(CKA_ENCRYPT, P11SHIM_ATTR_FORCED_TRUE);
	set_attribute(CKA_DECRYPT, P11SHIM_ATTR_FORCED_TRUE);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_256, CRYPT_KEK, &kek));
	set_attribute(CKA_ENCRYPT, 0);
	set_attribute(CKA_DECRYPT, 0);
	CHECK_FAILS_WITH(CryptEncrypt(kek, 0, TRUE, 0, data, &n, sizeof data), NTE_PERM);
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_MAC, kek, 0, &hh), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_HMAC, kek, 0, &hh), NTE_BAD_KEY);
	if (hh != 0)
		CryptDestroyHash(hh);
	CU_ASSERT_TRUE(CryptDestroyKey(kek));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static void test_mac_errors(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTHASH hh = 0;
	HCRYPTKEY aes = 0, rsa = 0, hmac;
	BYTE key[20] = { 0 }, sig[64];
	DWORD mode = CRYPT_MODE_ECB, n;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &aes));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 512u << 16, &rsa));
	hmac = import_hmac_key(h, key, sizeof key);
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_MAC, 0, 0, &hh), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_MAC, rsa, 0, &hh), NTE_BAD_KEY);
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_MAC, hmac, 0, &hh), NTE_BAD_KEY);
	/* Microsoft: a cipher mode other than CBC is NTE_BAD_KEY. */
	CU_ASSERT_TRUE(CryptSetKeyParam(aes, KP_MODE, (BYTE *)&mode, 0));
	CHECK_FAILS_WITH(CryptCreateHash(h, CALG_MAC, aes, 0, &hh), NTE_BAD_KEY);
	mode = CRYPT_MODE_CBC;
	CU_ASSERT_TRUE(CryptSetKeyParam(aes, KP_MODE, (BYTE *)&mode, 0));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_MAC, aes, 0, &hh));
	n = sizeof sig;
	CHECK_FAILS_WITH(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, sig, &n), NTE_BAD_ALGID);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptDestroyKey(hmac));
	CU_ASSERT_TRUE(CryptDestroyKey(rsa));
	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* PP_ENUMALGS_EX lists exactly the hashes CryptCreateHash makes. */
static void test_enum_hashes(void)
{
	static const ALG_ID hashes[] = {
		CALG_MD2, CALG_MD4, CALG_MD5, CALG_SHA1, CALG_MAC, CALG_SSL3_SHAMD5, CALG_HMAC,
		CALG_SHA_256, CALG_SHA_384, CALG_SHA_512, CALG_TLS1PRF,
	};
	HCRYPTPROV h = open_verify();
	bool listed[sizeof hashes / sizeof hashes[0]] = { false };
	PROV_ENUMALGS_EX ex;
	DWORD len, flags;
	size_t i, n_listed = 0;

	for (flags = CRYPT_FIRST;; flags = 0) {
		len = sizeof ex;
		if (!CryptGetProvParam(h, PP_ENUMALGS_EX, (BYTE *)&ex, &len, flags))
			break;
		for (i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
			if (ex.aiAlgid == hashes[i]) {
				listed[i] = true;
				n_listed++;
			}
		}
		if (ex.aiAlgid == CALG_SHA_256) {
			CU_ASSERT_EQUAL(ex.dwDefaultLen, 256);
			CU_ASSERT_STRING_EQUAL(ex.szName, "SHA-256");
		}
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	/* SoftHSM digests MD5 and SHA-1/2, has their HMACs and AES-CBC. */
	CU_ASSERT_EQUAL(n_listed, 8);
	for (i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
		HCRYPTHASH hh = 0;
		HCRYPTKEY k = 0;
		BYTE key[20] = { 0 };

		if (hashes[i] == CALG_HMAC)
			k = import_hmac_key(h, key, sizeof key);
		if (hashes[i] == CALG_MAC)
			CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &k));
		SetLastError(SENTINEL);
		if (listed[i]) {
			CU_ASSERT_TRUE(CryptCreateHash(h, hashes[i], k, 0, &hh));
			CU_ASSERT_TRUE(CryptDestroyHash(hh));
		} else {
			CU_ASSERT_FALSE(CryptCreateHash(h, hashes[i], k, 0, &hh));
			CU_ASSERT_EQUAL(GetLastError(), NTE_BAD_ALGID);
		}
		if (k != 0)
			CU_ASSERT_TRUE(CryptDestroyKey(k));
	}
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- CryptDeriveKey ---- */

struct derive_case {
	ALG_ID base;                  /* the hash */
	const char *base_name;        /* openssl dgst option */
	DWORD base_size;
	ALG_ID target;
	DWORD key_len;
	const char *cipher;           /* openssl enc option */
	DWORD block;
	bool expand;                  /* Microsoft's 0x36/0x5C expansion */
};

/* The expansion where the value is shorter than the key, and for AES-128
 * from MD5 and SHA-1 values (Windows, as rsaenh's tests record it). */
static const struct derive_case derive_cases[] = {
	{ CALG_MD5, "md5", 16, CALG_3DES, 24, "-des-ede3-cbc", 8, true },
	{ CALG_SHA1, "sha1", 20, CALG_3DES, 24, "-des-ede3-cbc", 8, true },
	{ CALG_MD5, "md5", 16, CALG_AES_128, 16, "-aes-128-cbc", 16, true },
	{ CALG_SHA1, "sha1", 20, CALG_AES_128, 16, "-aes-128-cbc", 16, true },
	{ CALG_MD5, "md5", 16, CALG_AES_256, 32, "-aes-256-cbc", 16, true },
	{ CALG_SHA1, "sha1", 20, CALG_AES_256, 32, "-aes-256-cbc", 16, true },
	{ CALG_SHA_256, "sha256", 32, CALG_AES_128, 16, "-aes-128-cbc", 16, false },
	{ CALG_SHA_256, "sha256", 32, CALG_AES_256, 32, "-aes-256-cbc", 16, false },
};

/* The key Microsoft's page derives from password, computed here with
 * openssl dgst alone. */
static void derive_expected(const struct derive_case *c, const BYTE *password, size_t n,
			    BYTE *key)
{
	BYTE value[64], pad[64], out[128];
	size_t i, j;

	openssl_one(c->base_name, password, n, value, c->base_size);
	if (!c->expand) {
		memcpy(key, value, c->key_len);
		return;
	}
	for (j = 0; j < 2; j++) {
		memset(pad, j == 0 ? 0x36 : 0x5c, sizeof pad);
		for (i = 0; i < c->base_size; i++)
			pad[i] ^= value[i];
		openssl_one(c->base_name, pad, sizeof pad, out + j * c->base_size, c->base_size);
	}
	memcpy(key, out, c->key_len);
}

/* A key derived without CRYPT_EXPORTABLE is as any non-exportable
 * session key: no PLAINTEXTKEYBLOB, no CRYPT_EXPORT, no reversed
 * CryptHashSessionKey, even on a token that would let its value out. */
static void test_derive_not_exportable(void)
{
	static const BYTE password[] = "correct horse battery staple";
	HCRYPTPROV h = open_verify();
	HCRYPTHASH hh = 0, other = 0;
	HCRYPTKEY k = 0;
	BYTE blob[64];
	DWORD len = sizeof blob, perms = 0;

	set_attribute(CKA_SENSITIVE, P11SHIM_ATTR_FORCED_FALSE);
	set_attribute(CKA_EXTRACTABLE, P11SHIM_ATTR_FORCED_TRUE);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptHashData(hh, password, sizeof password - 1, 0));
	CU_ASSERT_TRUE_FATAL(CryptDeriveKey(h, CALG_AES_128, hh, 0, &k));
	set_attribute(CKA_SENSITIVE, 0);
	set_attribute(CKA_EXTRACTABLE, 0);
	CHECK_FAILS_WITH(CryptExportKey(k, 0, PLAINTEXTKEYBLOB, 0, blob, &len),
			 NTE_BAD_KEY_STATE);
	len = sizeof perms;
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_PERMISSIONS, (BYTE *)&perms, &len, 0));
	CU_ASSERT_EQUAL(perms & CRYPT_EXPORT, 0);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA_256, 0, 0, &other));
	CHECK_FAILS_WITH(CryptHashSessionKey(other, k, 0), NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptDestroyHash(other));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static void test_derive_known_answers(void)
{
	static const BYTE password[] = "correct horse battery staple";
	HCRYPTPROV h = open_verify();
	size_t i;

	for (i = 0; i < sizeof derive_cases / sizeof derive_cases[0]; i++) {
		const struct derive_case *c = &derive_cases[i];
		HCRYPTHASH hh = 0;
		HCRYPTKEY k = 0;
		BYTE want[32], *blob;
		DWORD len;

		derive_expected(c, password, sizeof password - 1, want);
		CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, c->base, 0, 0, &hh));
		CU_ASSERT_TRUE(CryptHashData(hh, password, sizeof password - 1, 0));
		CU_ASSERT_TRUE_FATAL(CryptDeriveKey(h, c->target, hh, CRYPT_EXPORTABLE, &k));
		/* The ciphertexts match openssl's under the expected bytes. */
		testutil_check_encrypts_as(k, c->cipher, want, c->key_len, c->block);
		blob = testutil_blob_export(k, 0, PLAINTEXTKEYBLOB, 0, &len);
		CU_ASSERT_EQUAL(len, 12 + c->key_len);
		CU_ASSERT_EQUAL(memcmp(blob + 12, want, c->key_len), 0);
		free(blob);
		/* Deriving finished the hash. */
		CHECK_FAILS_WITH(CryptHashData(hh, password, 1, 0), NTE_BAD_HASH_STATE);
		CU_ASSERT_TRUE(CryptDestroyKey(k));
		/* A length given in HIWORD, with and without parity bits. */
		if (c->target == CALG_3DES) {
			CU_ASSERT_TRUE(CryptDeriveKey(h, c->target, hh, 168u << 16, &k));
			testutil_check_encrypts_as(k, c->cipher, want, c->key_len, c->block);
			CU_ASSERT_TRUE(CryptDestroyKey(k));
		}
		CU_ASSERT_TRUE(CryptDestroyHash(hh));
	}
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static void test_derive_errors(void)
{
	HCRYPTPROV h = open_verify(), other = open_verify();
	HCRYPTHASH hh = 0, foreign = 0, ssl = 0;
	HCRYPTKEY k = 0;
	BYTE v[36] = { 1 };

	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hh));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(other, CALG_SHA1, 0, 0, &foreign));
	CHECK_FAILS_WITH(CryptDeriveKey(h, CALG_AES_128, hh, 0, NULL), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDeriveKey(h, CALG_AES_128, 0, 0, &k), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDeriveKey(h, CALG_AES_128, foreign, 0, &k), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDeriveKey(0, CALG_AES_128, hh, 0, &k), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptDeriveKey(h, CALG_SHA1, hh, 0, &k), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptDeriveKey(h, CALG_RSA_KEYX, hh, 0, &k), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptDeriveKey(h, CALG_AES_128, hh, 256u << 16, &k), NTE_BAD_DATA);
	CHECK_FAILS_WITH(CryptDeriveKey(h, CALG_3DES, hh, 100u << 16, &k), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptDeriveKey(h, CALG_AES_128, hh, 0x8000, &k), NTE_BAD_FLAGS);
	/* None of these finished the hash. */
	CU_ASSERT_TRUE(CryptHashData(hh, v, 1, 0));
	/* A value with no algorithm to expand it with. */
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SSL3_SHAMD5, 0, 0, &ssl));
	CU_ASSERT_TRUE(CryptSetHashParam(ssl, HP_HASHVAL, v, 0));
	CHECK_FAILS_WITH(CryptDeriveKey(h, CALG_AES_128, ssl, 0, &k), NTE_BAD_ALGID);
	CU_ASSERT_TRUE(CryptDestroyHash(ssl));
	CU_ASSERT_TRUE(CryptDestroyHash(foreign));
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptReleaseContext(other, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- signatures ---- */

struct signer {
	HCRYPTPROV h;
	char name[40];
	char *key_pem, *pub_pem;      /* paths */
	DWORD k;                      /* modulus bytes */
};

/* A container with an exportable key pair of spec, and its key as PEM
 * files made by openssl from the PRIVATEKEYBLOB. */
static void signer_open(struct signer *s, DWORD spec, DWORD bits)
{
	HCRYPTKEY key = 0;
	BYTE *blob;
	DWORD len;
	char *blob_path;
	int st;

	snprintf(s->name, sizeof s->name, "sign-%d-%lu", (int)getpid(), (unsigned long)spec);
	s->h = open_container(s->name, spec, bits);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(s->h, spec, &key));
	blob = testutil_blob_export(key, 0, PRIVATEKEYBLOB, 0, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	blob_path = testutil_temp_write("privblob", blob, len);
	s->key_pem = testutil_temp_path("key-pem");
	s->pub_pem = testutil_temp_path("pub-pem");
	st = fixture_run("%s rsa -inform MSBLOB -in %s -out %s", OPENSSL_BIN, blob_path, s->key_pem);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	st = fixture_run("%s rsa -in %s -pubout -out %s", OPENSSL_BIN, s->key_pem, s->pub_pem);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	s->k = bits / 8;
	free(blob_path);
	free(blob);
	CU_ASSERT_TRUE(CryptDestroyKey(key));
}

static void signer_close(struct signer *s)
{
	delete_container(s->h, s->name);
	free(s->key_pem);
	free(s->pub_pem);
}

/* capi11's signature of msg with the container's key, Windows' order. */
static BYTE *capi_sign(struct signer *s, DWORD spec, ALG_ID alg, const BYTE *msg, DWORD n,
		       DWORD flags)
{
	HCRYPTHASH hh = 0;
	BYTE *sig;
	DWORD len = 0;

	CU_ASSERT_TRUE_FATAL(CryptCreateHash(s->h, alg, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptHashData(hh, msg, n, 0));
	CU_ASSERT_TRUE_FATAL(CryptSignHashA(hh, spec, NULL, flags, NULL, &len));
	CU_ASSERT_EQUAL_FATAL(len, s->k);
	sig = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sig);
	CU_ASSERT_TRUE(CryptSignHashA(hh, spec, NULL, flags, sig, &len));
	CU_ASSERT_EQUAL(len, s->k);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	return sig;
}

static bool capi_verify(HCRYPTPROV h, HCRYPTKEY pub, ALG_ID alg, const BYTE *msg, DWORD n,
			const BYTE *sig, DWORD sig_len, DWORD *err)
{
	HCRYPTHASH hh = 0;
	bool ok;

	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, alg, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptHashData(hh, msg, n, 0));
	SetLastError(SENTINEL);
	ok = CryptVerifySignatureA(hh, sig, sig_len, pub, NULL, 0);
	*err = GetLastError();
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	return ok;
}

/* Every algorithm, both key specs: capi11's signature is openssl's,
 * reversed; openssl verifies it; capi11 verifies openssl's and refuses
 * a flipped bit. */
static void sign_both_ways(DWORD spec)
{
	struct signer s;
	BYTE msg[MAX_LEN];
	HCRYPTKEY pub = 0;
	size_t a;

	message(msg, sizeof msg);
	signer_open(&s, spec, 2048);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(s.h, spec, &pub));
	for (a = 0; a < (sizeof (digests) / sizeof (digests)[0]); a++) {
		const struct digest *d = &digests[a];
		char *in = testutil_temp_write("msg", msg, 777);
		char *ossl_sig = testutil_temp_path("ossl-sig");
		char *capi_sig_path;
		BYTE *sig = capi_sign(&s, spec, d->alg, msg, 777, 0), *want;
		DWORD want_len, err = 0;
		int st;

		st = fixture_run("%s dgst -%s -sign %s -out %s %s", OPENSSL_BIN, d->name, s.key_pem,
				 ossl_sig, in);
		CU_ASSERT_EQUAL_FATAL(st, 0);
		want = testutil_file_read(ossl_sig, &want_len);
		CU_ASSERT_EQUAL_FATAL(want_len, s.k);
		/* openssl's signature in Windows' order is capi11's. */
		reverse(want, want_len);
		CU_ASSERT_EQUAL(memcmp(sig, want, s.k), 0);
		/* pkcs11-tool, signing on the token itself, agrees. */
		if (d->alg == CALG_SHA_256) {
			char *p11_sig = testutil_temp_path("p11-sig");
			BYTE *p11;
			DWORD p11_len = 0;

			CU_ASSERT_EQUAL(fixture_pkcs11_tool(label, true, NULL,
							    "--sign -m SHA256-RSA-PKCS --label %s "
							    "--input-file %s --output-file %s",
							    s.name, in, p11_sig), 0);
			p11 = testutil_file_read(p11_sig, &p11_len);
			CU_ASSERT_EQUAL(p11_len, s.k);
			reverse(p11, p11_len);
			CU_ASSERT_EQUAL(p11_len == s.k && memcmp(p11, sig, s.k) == 0, true);
			free(p11);
			free(p11_sig);
		}
		/* openssl verifies capi11's (big-endian again). */
		reverse(sig, s.k);
		capi_sig_path = testutil_temp_write("capi-sig", sig, s.k);
		st = fixture_run("%s dgst -%s -verify %s -signature %s %s", OPENSSL_BIN, d->name,
				 s.pub_pem, capi_sig_path, in);
		CU_ASSERT_EQUAL(st, 0);
		/* capi11 verifies openssl's, and not a flipped bit of it. */
		CU_ASSERT_TRUE(capi_verify(s.h, pub, d->alg, msg, 777, want, s.k, &err));
		want[s.k / 2] ^= 0x10;
		CU_ASSERT_FALSE(capi_verify(s.h, pub, d->alg, msg, 777, want, s.k, &err));
		CU_ASSERT_EQUAL(err, NTE_BAD_SIGNATURE);
		want[s.k / 2] ^= 0x10;
		/* Another message, a wrong length. */
		CU_ASSERT_FALSE(capi_verify(s.h, pub, d->alg, msg, 776, want, s.k, &err));
		CU_ASSERT_EQUAL(err, NTE_BAD_SIGNATURE);
		CU_ASSERT_FALSE(capi_verify(s.h, pub, d->alg, msg, 777, want, s.k - 1, &err));
		CU_ASSERT_EQUAL(err, NTE_BAD_SIGNATURE);
		free(capi_sig_path);
		free(want);
		free(sig);
		free(ossl_sig);
		free(in);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(pub));
	signer_close(&s);
}

static void test_sign_signature_key(void)
{
	sign_both_ways(AT_SIGNATURE);
}

static void test_sign_exchange_key(void)
{
	sign_both_ways(AT_KEYEXCHANGE);
}

/* A PUBLICKEYBLOB imported into a verify context verifies the
 * container's signature. */
static void test_verify_imported_public(void)
{
	struct signer s;
	HCRYPTPROV v = open_verify();
	HCRYPTKEY key = 0, pub = 0, aes = 0;
	BYTE msg[MAX_LEN], *blob, *sig;
	DWORD len, err = 0;

	message(msg, sizeof msg);
	signer_open(&s, AT_SIGNATURE, 1024);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(s.h, AT_SIGNATURE, &key));
	blob = testutil_blob_export(key, 0, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(v, blob, len, 0, 0, &pub));
	sig = capi_sign(&s, AT_SIGNATURE, CALG_SHA_256, msg, 100, 0);
	CU_ASSERT_TRUE(capi_verify(v, pub, CALG_SHA_256, msg, 100, sig, s.k, &err));
	CU_ASSERT_FALSE(capi_verify(v, pub, CALG_SHA_512, msg, 100, sig, s.k, &err));
	CU_ASSERT_EQUAL(err, NTE_BAD_SIGNATURE);
	/* A session key is no public key. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(v, CALG_AES_256, 0, &aes));
	CU_ASSERT_FALSE(capi_verify(v, aes, CALG_SHA_256, msg, 100, sig, s.k, &err));
	CU_ASSERT_EQUAL(err, NTE_BAD_KEY);
	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptDestroyKey(pub));
	CU_ASSERT_TRUE(CryptDestroyKey(key));
	free(sig);
	free(blob);
	CU_ASSERT_TRUE(CryptReleaseContext(v, 0));
	signer_close(&s);
}

/* What openssl recovers from a capi11 signature: the signed bytes. */
static BYTE *openssl_recover(struct signer *s, const BYTE *sig_le, DWORD *len)
{
	BYTE be[512];
	char *in, *out = testutil_temp_path("recovered");
	BYTE *data;
	int st;

	memcpy(be, sig_le, s->k);
	reverse(be, s->k);
	in = testutil_temp_write("raw-sig", be, s->k);
	st = fixture_run("%s pkeyutl -verifyrecover -pubin -inkey %s -in %s -out %s", OPENSSL_BIN,
			 s->pub_pem, in, out);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	data = testutil_file_read(out, len);
	free(in);
	free(out);
	return data;
}

/* CRYPT_NOHASHOID signs the bare value; CALG_SSL3_SHAMD5 always. */
static void test_sign_without_oid(void)
{
	struct signer s;
	HCRYPTHASH hh = 0;
	BYTE msg[MAX_LEN], want[32], *sig, *got;
	DWORD len;

	message(msg, sizeof msg);
	signer_open(&s, AT_SIGNATURE, 1024);
	openssl_one("sha256", msg, 50, want, 32);
	sig = capi_sign(&s, AT_SIGNATURE, CALG_SHA_256, msg, 50, CRYPT_NOHASHOID);
	got = openssl_recover(&s, sig, &len);
	CU_ASSERT_EQUAL(len, 32);
	CU_ASSERT_EQUAL(memcmp(got, want, 32), 0);
	free(got);
	free(sig);

	CU_ASSERT_TRUE_FATAL(CryptCreateHash(s.h, CALG_SSL3_SHAMD5, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptSetHashParam(hh, HP_HASHVAL, msg, 0));
	sig = malloc(s.k);
	len = s.k;
	CU_ASSERT_TRUE(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, sig, &len));
	got = openssl_recover(&s, sig, &len);
	CU_ASSERT_EQUAL(len, 36);
	CU_ASSERT_EQUAL(memcmp(got, msg, 36), 0);
	free(got);
	free(sig);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	signer_close(&s);
}

/* The size query asks the token for no signature; the rules of the
 * arguments; the hash state after a signature. */
static void test_sign_errors(void)
{
	const struct p11shim_ops *ops = shim();
	struct signer s;
	HCRYPTPROV empty;
	HCRYPTHASH hh = 0, other = 0;
	BYTE msg[MAX_LEN], sig[256];
	DWORD len;
	char name[40];

	message(msg, sizeof msg);
	signer_open(&s, AT_SIGNATURE, 1024);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(s.h, CALG_SHA1, 0, 0, &hh));
	CU_ASSERT_TRUE(CryptHashData(hh, msg, 10, 0));
	ops->reset();
	len = 0;
	CU_ASSERT_TRUE(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, NULL, &len));
	CU_ASSERT_EQUAL(len, 128);
	len = 127;
	CHECK_FAILS_WITH(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, sig, &len), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, 128);
	CU_ASSERT_EQUAL(ops->count("C_SignInit"), 0);
	CU_ASSERT_EQUAL(ops->count("C_Sign"), 0);
	CU_ASSERT_EQUAL(ops->count("C_DigestFinal"), 0);
	/* Neither finished the hash. */
	CU_ASSERT_TRUE(CryptHashData(hh, msg + 10, 10, 0));
	len = sizeof sig;
	CHECK_FAILS_WITH(CryptSignHashA(hh, AT_SIGNATURE, "description", 0, sig, &len),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, sig, NULL),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSignHashA(hh, AT_SIGNATURE, NULL, CRYPT_X931_FORMAT, sig, &len),
			 NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptSignHashA(hh, 3, NULL, 0, sig, &len), NTE_BAD_ALGID);
	/* The container has no exchange key. */
	CHECK_FAILS_WITH(CryptSignHashA(hh, AT_KEYEXCHANGE, NULL, 0, sig, &len), NTE_NO_KEY);
	CU_ASSERT_TRUE(CryptHashData(hh, msg + 20, 10, 0));
	len = sizeof sig;
	CU_ASSERT_TRUE(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, sig, &len));
	CU_ASSERT_EQUAL(len, 128);
	/* Signed: no more data; signing again gives the same signature. */
	CHECK_FAILS_WITH(CryptHashData(hh, msg, 1, 0), NTE_BAD_HASH_STATE);
	{
		BYTE again[128];
		len = sizeof again;
		CU_ASSERT_TRUE(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, again, &len));
		CU_ASSERT_EQUAL(memcmp(again, sig, 128), 0);
	}
	/* Verifying finishes a hash too. */
	{
		HCRYPTKEY pub = 0;
		CU_ASSERT_TRUE_FATAL(CryptGetUserKey(s.h, AT_SIGNATURE, &pub));
		CU_ASSERT_TRUE_FATAL(CryptCreateHash(s.h, CALG_SHA1, 0, 0, &other));
		CU_ASSERT_TRUE(CryptHashData(other, msg, 30, 0));
		CHECK_FAILS_WITH(CryptVerifySignatureA(other, sig, 128, pub, NULL, CRYPT_X931_FORMAT),
				 NTE_BAD_FLAGS);
		CHECK_FAILS_WITH(CryptVerifySignatureA(other, sig, 128, pub, "d", 0),
				 ERROR_INVALID_PARAMETER);
		CHECK_FAILS_WITH(CryptVerifySignatureA(other, NULL, 128, pub, NULL, 0),
				 ERROR_INVALID_PARAMETER);
		CHECK_FAILS_WITH(CryptVerifySignatureA(other, sig, 128, 0, NULL, 0),
				 ERROR_INVALID_PARAMETER);
		CU_ASSERT_TRUE(CryptVerifySignatureA(other, sig, 128, pub, NULL, 0));
		CHECK_FAILS_WITH(CryptHashData(other, msg, 1, 0), NTE_BAD_HASH_STATE);
		CU_ASSERT_TRUE(CryptDestroyHash(other));
		CU_ASSERT_TRUE(CryptDestroyKey(pub));
	}
	CU_ASSERT_TRUE(CryptDestroyHash(hh));

	/* A container without keys. */
	snprintf(name, sizeof name, "empty-%d", (int)getpid());
	empty = open_container(name, 0, 0);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(empty, CALG_SHA_256, 0, 0, &hh));
	len = 0;
	CHECK_FAILS_WITH(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, NULL, &len), NTE_NO_KEY);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	delete_container(empty, name);
	signer_close(&s);
}

/* The container's key is kept between signatures; a pair replaced since
 * (here by CryptGenKey in another context) signs from then on. */
static void test_sign_after_replace(void)
{
	struct signer s;
	HCRYPTPROV other = 0;
	HCRYPTKEY pub = 0, k = 0;
	BYTE msg[64], *sig;
	DWORD err = 0;

	message(msg, sizeof msg);
	signer_open(&s, AT_SIGNATURE, 1024);
	sig = capi_sign(&s, AT_SIGNATURE, CALG_SHA1, msg, sizeof msg, 0);
	free(sig);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&other, s.name, uri, PROV_RSA_AES, 0));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(other, AT_SIGNATURE, 1024u << 16, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(other, 0));
	sig = capi_sign(&s, AT_SIGNATURE, CALG_SHA1, msg, sizeof msg, 0);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(s.h, AT_SIGNATURE, &pub));
	CU_ASSERT_TRUE(capi_verify(s.h, pub, CALG_SHA1, msg, sizeof msg, sig, s.k, &err));
	free(sig);
	CU_ASSERT_TRUE(CryptDestroyKey(pub));
	signer_close(&s);
}

/* A PIV card's signature key: CKA_ALWAYS_AUTHENTICATE, made on the token
 * by another program (here straight through SoftHSM), which enforces it.
 * Each signature logs in for the operation (CKU_CONTEXT_SPECIFIC) with the
 * provider's pin-source; a silent context without one is
 * NTE_SILENT_CONTEXT. */
static void test_sign_always_authenticate(void)
{
	const struct p11shim_ops *ops = shim();
	CK_FUNCTION_LIST *fl = testutil_softhsm();
	CK_SESSION_HANDLE s = testutil_softhsm_session(label, true, true);
	CK_MECHANISM gen = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = 1024;
	CK_BYTE e[] = { 1, 0, 1 }, id[] = { 0x50, 0x49, 0x56 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	char name[40], *pin_path, *base, piv_uri[4096];
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_LABEL, name, 0 }, { CKA_ID, id, sizeof id },
		{ CKA_MODULUS_BITS, &bits, sizeof bits }, { CKA_PUBLIC_EXPONENT, e, sizeof e },
		{ CKA_VERIFY, &yes, 1 }, { CKA_ENCRYPT, &no, 1 }, { CKA_WRAP, &no, 1 },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_LABEL, name, 0 }, { CKA_ID, id, sizeof id },
		{ CKA_PRIVATE, &yes, 1 }, { CKA_SENSITIVE, &yes, 1 }, { CKA_SIGN, &yes, 1 },
		{ CKA_DECRYPT, &no, 1 }, { CKA_UNWRAP, &no, 1 },
		{ CKA_ALWAYS_AUTHENTICATE, &yes, 1 },
	};
	CK_OBJECT_HANDLE hpub, hpriv;
	HCRYPTPROV h = 0, quiet = 0;
	HCRYPTHASH hh = 0;
	HCRYPTKEY k = 0;
	BYTE msg[64], sig[128];
	DWORD len, err = 0;
	unsigned long logins;

	message(msg, sizeof msg);
	snprintf(name, sizeof name, "piv-%d", (int)getpid());
	pub[1].ulValueLen = priv[1].ulValueLen = strlen(name);
	CU_ASSERT_EQUAL_FATAL(fl->C_GenerateKeyPair(s, &gen, pub, 8, priv, 9, &hpub, &hpriv),
			      CKR_OK);
	pin_path = fixture_write_file("piv-pin", FIXTURE_PIN, strlen(FIXTURE_PIN));
	base = fixture_token_uri_shim(label, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pin_path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	snprintf(piv_uri, sizeof piv_uri, "%s&pin-source=%s", base, pin_path);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, name, piv_uri, PROV_RSA_AES, 0));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_SIGNATURE, &k));
	for (int round = 0; round < 2; round++) {
		CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hh));
		CU_ASSERT_TRUE(CryptHashData(hh, msg, sizeof msg, 0));
		ops->reset();
		len = sizeof sig;
		CU_ASSERT_TRUE(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, sig, &len));
		logins = ops->count("C_Login");
		/* One context-specific login per signature. */
		CU_ASSERT_EQUAL(logins, 1);
		CU_ASSERT_EQUAL(ops->count("C_Sign"), 1);
		CU_ASSERT_TRUE(CryptDestroyHash(hh));
		CU_ASSERT_TRUE(capi_verify(h, k, CALG_SHA1, msg, sizeof msg, sig, len, &err));
	}
	/* Silent, and no PIN at hand (the token is logged in already). */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&quiet, name, base, PROV_RSA_AES, CRYPT_SILENT));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(quiet, CALG_SHA1, 0, 0, &hh));
	len = sizeof sig;
	CHECK_FAILS_WITH(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, sig, &len), NTE_SILENT_CONTEXT);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	CU_ASSERT_TRUE(CryptReleaseContext(quiet, 0));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	fl->C_DestroyObject(s, hpriv);
	fl->C_DestroyObject(s, hpub);
	fl->C_CloseSession(s);
	free(base);
	free(pin_path);
}

/* A 512-bit key holds no SHA-512 DigestInfo (83 + 11 > 64 bytes). */
static void test_sign_too_long(void)
{
	struct signer s;
	HCRYPTHASH hh = 0;
	BYTE sig[64];
	DWORD len = sizeof sig;

	signer_open(&s, AT_SIGNATURE, 512);
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(s.h, CALG_SHA_512, 0, 0, &hh));
	CHECK_FAILS_WITH(CryptSignHashA(hh, AT_SIGNATURE, NULL, 0, sig, &len), NTE_BAD_LEN);
	CU_ASSERT_TRUE(CryptDestroyHash(hh));
	signer_close(&s);
}

static CU_TestInfo digest_tests[] = {
	{ "every length 0-1000 in pieces, against openssl dgst", test_digests_streamed },
	{ "interleaved hashes and duplicates", test_interleaved_and_duplicate },
	{ "duplicates without the token's operation state", test_duplicate_limit },
	{ "duplicates when the module lies about its state's length",
	  test_duplicate_lying_state },
	{ "a copy from the token's saved state keeps the data for a replay",
	  test_duplicate_saved_state },
	{ "HP_ALGID, HP_HASHSIZE, HP_HASHVAL", test_params },
	{ "errors and handles", test_errors },
	{ "CALG_SSL3_SHAMD5", test_ssl3_shamd5 },
	{ "CryptHashSessionKey, both byte orders", test_hash_session_key },
	{ "CryptHashSessionKey of a non-exportable key a token leaves readable",
	  test_hash_session_key_not_exportable },
	{ "hHash of CryptEncrypt and CryptDecrypt", test_encrypt_decrypt_hash },
	{ "HMAC: RFC 2202 and RFC 4231 vectors", test_hmac_vectors },
	{ "HMAC: errors", test_hmac_errors },
	{ "CALG_MAC against openssl enc", test_mac },
	{ "CALG_MAC: errors", test_mac_errors },
	{ "CALG_MAC and CALG_HMAC refuse a wrap-only key", test_mac_kek },
	{ "keyed hashes whose key's context is released", test_keyed_hash_key_context_released },
	{ "PP_ENUMALGS_EX lists the hashes that work", test_enum_hashes },
	{ "CryptDeriveKey: Microsoft's derivation, against openssl", test_derive_known_answers },
	{ "CryptDeriveKey: errors", test_derive_errors },
	{ "CryptDeriveKey without CRYPT_EXPORTABLE: the key stays in", test_derive_not_exportable },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo sign_tests[] = {
	{ "signature key, every hash, both ways with openssl", test_sign_signature_key },
	{ "exchange key, every hash, both ways with openssl", test_sign_exchange_key },
	{ "imported PUBLICKEYBLOB verifies", test_verify_imported_public },
	{ "CRYPT_NOHASHOID and CALG_SSL3_SHAMD5", test_sign_without_oid },
	{ "sizes, arguments and hash state", test_sign_errors },
	{ "DigestInfo longer than the key", test_sign_too_long },
	{ "a container key replaced between signatures", test_sign_after_replace },
	{ "CKA_ALWAYS_AUTHENTICATE: a login before each signature",
	  test_sign_always_authenticate },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "digests", NULL, NULL, NULL, NULL, digest_tests },
	{ "signatures", NULL, NULL, NULL, NULL, sign_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	setenv("CAPI11_CONF", "/dev/null", 1);
	label = fixture_token_make("hash");
	uri = fixture_token_uri_shim(label, true);
	if (uri == NULL) {
		fprintf(stderr, "the p11shim module was not built\n");
		return FIXTURE_HARD_ERROR;
	}
	{
		void *mod = fixture_shim_path() ? dlopen(fixture_shim_path(), RTLD_NOW | RTLD_LOCAL)
						: NULL;

		if (mod != NULL) {
			*(void **)&set_attribute = dlsym(mod, "p11shim_set_attribute");
			*(void **)&lie_operation_state = dlsym(mod, "p11shim_lie_operation_state");
			*(void **)&emulate_digest_state = dlsym(mod, "p11shim_emulate_digest_state");
		}
		if (set_attribute == NULL || lie_operation_state == NULL ||
		    emulate_digest_state == NULL) {
			fprintf(stderr, "the p11shim module was not built\n");
			return FIXTURE_HARD_ERROR;
		}
	}
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	free(uri);
	free(label);
	return rc;
}
