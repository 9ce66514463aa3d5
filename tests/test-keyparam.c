/* CryptGetKeyParam and CryptSetKeyParam against a throwaway SoftHSM token
 * (SPEC section 6). Lengths and values are Microsoft's (CryptGetKeyParam,
 * CryptSetKeyParam pages; KP_PERMISSIONS and KP_PADDING as rsaenh's tests
 * pin them on Windows); certificates are made by openssl and written or
 * read by pkcs11-tool, independently of capi11. */
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *label;
static char *uri;

static HCRYPTPROV open_verify(void)
{
	HCRYPTPROV h = 0;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	return h;
}

static DWORD get_dword(HCRYPTKEY k, DWORD param)
{
	DWORD value = SENTINEL, len = 0;

	/* The size first, then the value: a DWORD is 4 bytes. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGetKeyParam(k, param, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 4);
	len = sizeof value;
	CU_ASSERT_TRUE(CryptGetKeyParam(k, param, (BYTE *)&value, &len, 0));
	CU_ASSERT_EQUAL(len, 4);
	return value;
}

/* ---- lengths and algorithms ---- */

static void test_lengths(void)
{
	static const struct {
		ALG_ID alg;
		DWORD keylen, blocklen;
	} expect[] = {
		{ CALG_AES_128, 128, 128 },
		{ CALG_AES_192, 192, 128 },
		{ CALG_AES_256, 256, 128 },
		{ CALG_DES, 64, 64 },
		{ CALG_3DES_112, 128, 64 },
		{ CALG_3DES, 192, 64 },
	};
	HCRYPTPROV h = open_verify();
	HCRYPTKEY k;
	size_t i;

	for (i = 0; i < sizeof expect / sizeof expect[0]; i++) {
		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, expect[i].alg, 0, &k));
		CU_ASSERT_EQUAL(get_dword(k, KP_ALGID), expect[i].alg);
		CU_ASSERT_EQUAL(get_dword(k, KP_KEYLEN), expect[i].keylen);
		CU_ASSERT_EQUAL(get_dword(k, KP_BLOCKLEN), expect[i].blocklen);
		/* Only RC2 keys have an effective length of their own. */
		CU_ASSERT_EQUAL(get_dword(k, KP_EFFECTIVE_KEYLEN), expect[i].keylen);
		CU_ASSERT_TRUE(CryptDestroyKey(k));
	}
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16, &k));
	CU_ASSERT_EQUAL(get_dword(k, KP_ALGID), CALG_RSA_KEYX);
	CU_ASSERT_EQUAL(get_dword(k, KP_KEYLEN), 1024);
	CU_ASSERT_EQUAL(get_dword(k, KP_BLOCKLEN), 1024);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- IV, mode, padding ---- */

static void test_iv_mode_padding(void)
{
	HCRYPTPROV h = open_verify();
	BYTE iv[16], got[32], zero[16] = { 0 };
	DWORD len, value;
	HCRYPTKEY aes, des3, rsa;
	size_t i;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &aes));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_3DES, 0, &des3));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 1024 << 16, &rsa));

	/* KP_IV: one block, zero by default. */
	len = 0;
	CU_ASSERT_TRUE(CryptGetKeyParam(aes, KP_IV, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, 16);
	len = sizeof got;
	CU_ASSERT_TRUE(CryptGetKeyParam(aes, KP_IV, got, &len, 0));
	CU_ASSERT_EQUAL(len, 16);
	CU_ASSERT_EQUAL(memcmp(got, zero, 16), 0);
	len = 8;
	CHECK_FAILS_WITH(CryptGetKeyParam(aes, KP_IV, got, &len, 0), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, 16);
	for (i = 0; i < sizeof iv; i++)
		iv[i] = (BYTE)(0xf0 - i);
	CU_ASSERT_TRUE(CryptSetKeyParam(aes, KP_IV, iv, 0));
	len = sizeof got;
	CU_ASSERT_TRUE(CryptGetKeyParam(aes, KP_IV, got, &len, 0));
	CU_ASSERT_EQUAL(len, 16);
	CU_ASSERT_EQUAL(memcmp(got, iv, 16), 0);
	/* A 3DES block is 8 bytes: only those are taken. */
	CU_ASSERT_TRUE(CryptSetKeyParam(des3, KP_IV, iv, 0));
	len = sizeof got;
	CU_ASSERT_TRUE(CryptGetKeyParam(des3, KP_IV, got, &len, 0));
	CU_ASSERT_EQUAL(len, 8);
	CU_ASSERT_EQUAL(memcmp(got, iv, 8), 0);
	/* An RSA key has no IV. */
	len = sizeof got;
	CHECK_FAILS_WITH(CryptGetKeyParam(rsa, KP_IV, got, &len, 0), NTE_BAD_TYPE);
	CHECK_FAILS_WITH(CryptSetKeyParam(rsa, KP_IV, iv, 0), NTE_BAD_TYPE);

	/* KP_MODE: CBC by default; ECB and back. */
	CU_ASSERT_EQUAL(get_dword(aes, KP_MODE), CRYPT_MODE_CBC);
	value = CRYPT_MODE_ECB;
	CU_ASSERT_TRUE(CryptSetKeyParam(aes, KP_MODE, (BYTE *)&value, 0));
	CU_ASSERT_EQUAL(get_dword(aes, KP_MODE), CRYPT_MODE_ECB);
	value = CRYPT_MODE_CBC;
	CU_ASSERT_TRUE(CryptSetKeyParam(aes, KP_MODE, (BYTE *)&value, 0));
	CU_ASSERT_EQUAL(get_dword(aes, KP_MODE), CRYPT_MODE_CBC);
	/* Windows' feedback modes have no PKCS#11 mechanism to run on. */
	value = CRYPT_MODE_CFB;
	CHECK_FAILS_WITH(CryptSetKeyParam(aes, KP_MODE, (BYTE *)&value, 0), NTE_NOT_SUPPORTED);
	value = CRYPT_MODE_OFB;
	CHECK_FAILS_WITH(CryptSetKeyParam(aes, KP_MODE, (BYTE *)&value, 0), NTE_NOT_SUPPORTED);
	value = 77;
	CHECK_FAILS_WITH(CryptSetKeyParam(aes, KP_MODE, (BYTE *)&value, 0), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(get_dword(aes, KP_MODE), CRYPT_MODE_CBC);

	/* KP_PADDING: PKCS#5, the only one Microsoft's providers take. */
	CU_ASSERT_EQUAL(get_dword(aes, KP_PADDING), PKCS5_PADDING);
	value = PKCS5_PADDING;
	CU_ASSERT_TRUE(CryptSetKeyParam(aes, KP_PADDING, (BYTE *)&value, 0));
	value = RANDOM_PADDING;
	CHECK_FAILS_WITH(CryptSetKeyParam(aes, KP_PADDING, (BYTE *)&value, 0), NTE_BAD_DATA);
	value = ZERO_PADDING;
	CHECK_FAILS_WITH(CryptSetKeyParam(aes, KP_PADDING, (BYTE *)&value, 0), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(get_dword(aes, KP_PADDING), PKCS5_PADDING);

	/* KP_EFFECTIVE_KEYLEN is RC2's alone to set. */
	value = 40;
	CHECK_FAILS_WITH(CryptSetKeyParam(aes, KP_EFFECTIVE_KEYLEN, (BYTE *)&value, 0),
			 NTE_BAD_TYPE);

	CU_ASSERT_TRUE(CryptDestroyKey(aes));
	CU_ASSERT_TRUE(CryptDestroyKey(des3));
	CU_ASSERT_TRUE(CryptDestroyKey(rsa));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- permissions ---- */

#define BASE_PERMS (CRYPT_ENCRYPT | CRYPT_DECRYPT | CRYPT_READ | CRYPT_WRITE | CRYPT_MAC)

static void test_permissions(void)
{
	HCRYPTPROV h = open_verify();
	HCRYPTKEY fixed, exportable;
	DWORD value;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &fixed));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, CRYPT_EXPORTABLE, &exportable));
	CU_ASSERT_EQUAL(get_dword(fixed, KP_PERMISSIONS), 0x3b);
	CU_ASSERT_EQUAL(get_dword(exportable, KP_PERMISSIONS), 0x3f);

	/* CRYPT_EXPORT cannot be added... */
	value = BASE_PERMS | CRYPT_EXPORT;
	CHECK_FAILS_WITH(CryptSetKeyParam(fixed, KP_PERMISSIONS, (BYTE *)&value, 0), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(get_dword(fixed, KP_PERMISSIONS), 0x3b);
	/* ... and taking it away is ignored, as on Windows. */
	value = BASE_PERMS;
	CU_ASSERT_TRUE(CryptSetKeyParam(exportable, KP_PERMISSIONS, (BYTE *)&value, 0));
	CU_ASSERT_EQUAL(get_dword(exportable, KP_PERMISSIONS), 0x3f);
	/* Other bits come and go. */
	value = CRYPT_ENCRYPT | CRYPT_DECRYPT;
	CU_ASSERT_TRUE(CryptSetKeyParam(fixed, KP_PERMISSIONS, (BYTE *)&value, 0));
	CU_ASSERT_EQUAL(get_dword(fixed, KP_PERMISSIONS), CRYPT_ENCRYPT | CRYPT_DECRYPT);

	CU_ASSERT_TRUE(CryptDestroyKey(fixed));
	CU_ASSERT_TRUE(CryptDestroyKey(exportable));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- bad arguments ---- */

static void test_errors(void)
{
	HCRYPTPROV h = open_verify();
	DWORD value = 0, len = sizeof value;
	HCRYPTKEY k;

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_AES_128, 0, &k));
	CHECK_FAILS_WITH(CryptGetKeyParam(k, 0x4242, (BYTE *)&value, &len, 0), NTE_BAD_TYPE);
	CHECK_FAILS_WITH(CryptGetKeyParam(k, KP_SALT, (BYTE *)&value, &len, 0), NTE_BAD_TYPE);
	CHECK_FAILS_WITH(CryptSetKeyParam(k, 0x4242, (BYTE *)&value, 0), NTE_BAD_TYPE);
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_ALGID, (BYTE *)&value, 0), NTE_BAD_TYPE);
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_KEYLEN, (BYTE *)&value, 0), NTE_BAD_TYPE);
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_MODE, (BYTE *)&value, 1), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptGetKeyParam(k, KP_MODE, (BYTE *)&value, &len, 1), NTE_BAD_FLAGS);
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_MODE, NULL, 0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptGetKeyParam(k, KP_MODE, (BYTE *)&value, NULL, 0),
			 ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSetKeyParam(0, KP_MODE, (BYTE *)&value, 0), ERROR_INVALID_PARAMETER);
	CHECK_FAILS_WITH(CryptSetKeyParam((HCRYPTKEY)h, KP_MODE, (BYTE *)&value, 0),
			 ERROR_INVALID_PARAMETER);
	/* A session key has no certificate. */
	len = sizeof value;
	CHECK_FAILS_WITH(CryptGetKeyParam(k, KP_CERTIFICATE, (BYTE *)&value, &len, 0),
			 NTE_BAD_TYPE);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	value = CRYPT_MODE_ECB;
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_MODE, (BYTE *)&value, 0), ERROR_INVALID_PARAMETER);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* ---- KP_CERTIFICATE ---- */

/* A self-signed certificate made by openssl, DER; *path_out names its
 * file. */
static BYTE *make_cert(const char *cn, DWORD *len, char **path_out)
{
	char *path = malloc(4096), *key = malloc(4096);
	int st;

	CU_ASSERT_FATAL(path != NULL && key != NULL);
	snprintf(path, 4096, "%s/%s.der", fixture_dir(), cn);
	snprintf(key, 4096, "%s/%s.key", fixture_dir(), cn);
	st = fixture_run("%s req -x509 -newkey rsa:1024 -nodes -keyout %s -subj /CN=%s -days 2 "
			 "-outform DER -out %s", OPENSSL_BIN, key, cn, path);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	free(key);
	*path_out = path;
	return testutil_file_read(path, len);
}

/* How many certificates the token holds, and the pkcs11-tool listing. */
static int cert_count(char **listing)
{
	char *out = NULL, *p;
	int n = 0;
	int st = fixture_pkcs11_tool(label, true, &out, "--list-objects --type cert");

	CU_ASSERT_EQUAL_FATAL(st, 0);
	for (p = out; (p = strstr(p, "Certificate Object")) != NULL; p++)
		n++;
	if (listing != NULL)
		*listing = out;
	else
		free(out);
	return n;
}

static void test_certificate(void)
{
	HCRYPTPROV h = 0;
	HCRYPTKEY k;
	BYTE *one, *two, got[4096], junk[64];
	DWORD one_len, two_len, len;
	char *one_path, *two_path, *listing, out[4096];
	int st;

	/* A key pair made by pkcs11-tool forms a container named by its
	 * label; its certificate shares its CKA_ID. */
	st = fixture_pkcs11_tool(label, true, NULL, "--keypairgen --key-type rsa:1024 --id c0ffee "
				 "--label certified --usage-decrypt --usage-sign");
	CU_ASSERT_EQUAL_FATAL(st, 0);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "certified", uri, PROV_RSA_FULL, 0));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));

	/* No certificate yet. */
	len = sizeof got;
	CHECK_FAILS_WITH(CryptGetKeyParam(k, KP_CERTIFICATE, got, &len, 0),
			 SCARD_E_NO_SUCH_CERTIFICATE);

	/* One written by pkcs11-tool into the container (its label, the
	 * key's CKA_ID) is what KP_CERTIFICATE returns. */
	one = make_cert("first", &one_len, &one_path);
	st = fixture_pkcs11_tool(label, true, NULL, "--write-object %s --type cert --id c0ffee "
				 "--label certified", one_path);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	len = 0;
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_CERTIFICATE, NULL, &len, 0));
	CU_ASSERT_EQUAL(len, one_len);
	len = 10;
	CHECK_FAILS_WITH(CryptGetKeyParam(k, KP_CERTIFICATE, got, &len, 0), ERROR_MORE_DATA);
	CU_ASSERT_EQUAL(len, one_len);
	len = sizeof got;
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_CERTIFICATE, got, &len, 0));
	CU_ASSERT_EQUAL(len, one_len);
	CU_ASSERT_EQUAL(memcmp(got, one, one_len), 0);
	CU_ASSERT_EQUAL(cert_count(NULL), 1);

	/* Bytes that are no certificate: refused, the token unchanged. */
	memset(junk, 0x30, sizeof junk);
	junk[1] = 0x3e;
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_CERTIFICATE, junk, 0), NTE_BAD_DATA);
	junk[0] = 0x04;
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_CERTIFICATE, junk, 0), NTE_BAD_DATA);
	/* BER's indefinite length, and a length of five bytes, are no DER. */
	junk[0] = 0x30;
	junk[1] = 0x80;
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_CERTIFICATE, junk, 0), NTE_BAD_DATA);
	junk[1] = 0x85;
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_CERTIFICATE, junk, 0), NTE_BAD_DATA);
	/* A TBSCertificate longer than the certificate around it. */
	junk[1] = 0x3e;
	junk[3] = 0x7f;
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_CERTIFICATE, junk, 0), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(cert_count(NULL), 1);

	/* CryptSetKeyParam stores a new one on the token in its place. */
	two = make_cert("second", &two_len, &two_path);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_CERTIFICATE, two, 0));
	CU_ASSERT_EQUAL(cert_count(&listing), 1);
	/* pkcs11-tool reads the subject that capi11 took from the DER. */
	CU_ASSERT_PTR_NOT_NULL(strstr(listing, "CN=second"));
	CU_ASSERT_PTR_NOT_NULL(strstr(listing, "certified"));
	free(listing);
	snprintf(out, sizeof out, "%s/read-back.der", fixture_dir());
	st = fixture_pkcs11_tool(label, true, NULL, "--read-object --type cert --id c0ffee -o %s",
				 out);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	free(one);
	one = testutil_file_read(out, &one_len);
	CU_ASSERT_EQUAL(one_len, two_len);
	CU_ASSERT_EQUAL(memcmp(one, two, two_len), 0);
	len = sizeof got;
	CU_ASSERT_TRUE(CryptGetKeyParam(k, KP_CERTIFICATE, got, &len, 0));
	CU_ASSERT_EQUAL(len, two_len);
	CU_ASSERT_EQUAL(memcmp(got, two, two_len), 0);

	/* A verify context has no container to keep a certificate in. */
	{
		HCRYPTPROV v = open_verify();
		HCRYPTKEY vk;

		CU_ASSERT_TRUE_FATAL(CryptGenKey(v, AT_KEYEXCHANGE, 1024 << 16, &vk));
		CHECK_FAILS_WITH(CryptSetKeyParam(vk, KP_CERTIFICATE, two, 0), NTE_PERM);
		CU_ASSERT_TRUE(CryptDestroyKey(vk));
		CU_ASSERT_TRUE(CryptReleaseContext(v, 0));
	}

	free(one);
	free(two);
	free(one_path);
	free(two_path);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

static CU_TestInfo param_tests[] = {
	{ "KP_ALGID, KP_KEYLEN, KP_BLOCKLEN, KP_EFFECTIVE_KEYLEN", test_lengths },
	{ "KP_IV, KP_MODE, KP_PADDING", test_iv_mode_padding },
	{ "KP_PERMISSIONS", test_permissions },
	{ "errors", test_errors },
	{ "KP_CERTIFICATE", test_certificate },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "key parameters", NULL, NULL, NULL, NULL, param_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	setenv("CAPI11_CONF", "/dev/null", 1);
	label = fixture_token_make("keyparam");
	uri = fixture_token_uri(label);
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	free(uri);
	free(label);
	return rc;
}
