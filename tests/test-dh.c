/* Diffie-Hellman keys of PROV_DSS_DH against throwaway SoftHSM tokens:
 * CALG_DH_SF and CALG_DH_EPHEM keys made on the token, CRYPT_PREGEN keys,
 * their blobs (Microsoft's "Diffie-Hellman Key BLOBs" and version 3
 * pages), agreement between capi11 contexts and with openssl, and the
 * session keys KP_ALGID makes. Lengths and errors are Microsoft's (the
 * PROV_DSS_DH algorithm tables: 512 to 4096 bits in steps of 64 in the
 * Enhanced provider, NTE_BAD_FLAGS for another length as Windows answers
 * in Wine's dssenh tests). The session key of an agreement is, as
 * Microsoft's DSS/DH providers make it, the first bytes of the agreed
 * secret in little-endian order (the raw secret CNG gives): the tests
 * compute it from openssl's secret and compare ciphertexts with openssl
 * enc. Numbers are checked by openssl. */
#include "config.h"
#include <wincrypt.h>

#include "cutest.h"
#include "fixture.h"
#include "p11shim.h"
#include "testutil.h"

#include <CUnit/CUnit.h>
#include <ctype.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *label, *label2;
static char *uri, *uri2;

static DWORD key_dword(HCRYPTKEY k, DWORD param)
{
	DWORD value = SENTINEL, len = sizeof value;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGetKeyParam(k, param, (BYTE *)&value, &len, 0));
	CU_ASSERT_EQUAL(len, 4);
	return value;
}

static int private_keys(const char *container)
{
	return testutil_token_count(label, "privkey", container);
}

/* Every object of the token that a logged-in session of SoftHSM, the
 * module instance capi11 uses, sees: token objects and the session
 * objects of capi11's contexts in this process alike. */
static int all_objects(void)
{
	CK_FUNCTION_LIST *f = testutil_softhsm();
	CK_SESSION_HANDLE s = testutil_softhsm_session(label, false, true);
	CK_OBJECT_HANDLE objs[64];
	CK_ULONG got = 0;
	int n = 0;

	CU_ASSERT_EQUAL_FATAL(f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
	do {
		CU_ASSERT_EQUAL_FATAL(f->C_FindObjects(s, objs, 64, &got), CKR_OK);
		n += (int)got;
	} while (got == 64);
	f->C_FindObjectsFinal(s);
	f->C_CloseSession(s);
	return n;
}

/* An attribute of the one DH key object of class cls labelled container,
 * read straight from SoftHSM, as a little-endian number of width bytes
 * (malloc'd). */
static BYTE *token_number(const char *container, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type,
			  size_t width)
{
	CK_FUNCTION_LIST *f = testutil_softhsm();
	CK_SESSION_HANDLE s = testutil_softhsm_session(label, false, true);
	CK_KEY_TYPE dh = CKK_DH;
	CK_ATTRIBUTE find[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_KEY_TYPE, &dh, sizeof dh },
		{ CKA_LABEL, (void *)container, strlen(container) },
	};
	CK_OBJECT_HANDLE obj;
	CK_ULONG got = 0, i;
	BYTE be[512], *le = calloc(1, width);
	CK_ATTRIBUTE a = { type, be, sizeof be };

	CU_ASSERT_PTR_NOT_NULL_FATAL(le);
	CU_ASSERT_EQUAL_FATAL(f->C_FindObjectsInit(s, find, 3), CKR_OK);
	CU_ASSERT_EQUAL_FATAL(f->C_FindObjects(s, &obj, 1, &got), CKR_OK);
	f->C_FindObjectsFinal(s);
	CU_ASSERT_EQUAL_FATAL(got, 1);
	CU_ASSERT_EQUAL_FATAL(f->C_GetAttributeValue(s, obj, &a, 1), CKR_OK);
	CU_ASSERT_FATAL(a.ulValueLen <= width || be[0] == 0);
	for (i = 0; i < a.ulValueLen && i < width; i++)
		le[i] = be[a.ulValueLen - 1 - i];
	f->C_CloseSession(s);
	return le;
}

/* A number CryptGetKeyParam gives (little-endian), malloc'd, length in *len. */
static BYTE *param_le(HCRYPTKEY k, DWORD param, DWORD *len)
{
	BYTE *buf;

	*len = 0;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGetKeyParam(k, param, NULL, len, 0));
	buf = malloc(*len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_TRUE_FATAL(CryptGetKeyParam(k, param, buf, len, 0));
	return buf;
}

/* Lowercase big-endian hex of a little-endian number, leading zeros
 * dropped (as openssl prints after its own "00:" is removed). */
static char *le_hex(const BYTE *le, size_t len)
{
	BYTE *be = malloc(len ? len : 1);
	size_t i, skip = 0;
	char *hex;

	CU_ASSERT_PTR_NOT_NULL_FATAL(be);
	for (i = 0; i < len; i++)
		be[i] = le[len - 1 - i];
	while (skip < len && be[skip] == 0)
		skip++;
	hex = testutil_hex_new(be + skip, len - skip);
	free(be);
	return hex;
}

static BYTE *export_blob(HCRYPTKEY k, DWORD type, DWORD flags, DWORD *len)
{
	BYTE *blob;
	DWORD size = 0;

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, type, flags, NULL, &size));
	blob = malloc(size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	*len = size;
	CU_ASSERT_TRUE_FATAL(CryptExportKey(k, 0, type, flags, blob, len));
	CU_ASSERT_EQUAL(*len, size);
	return blob;
}

/* DER of an openssl asn1parse -genconf text, as PEM of that kind, into a
 * new file of the fixture directory; its path. */
static char *pem_from_genconf(const char *conf, const char *kind)
{
	char *cnf = testutil_temp_write("dhconf", conf, strlen(conf));
	char *der = testutil_temp_path("dhder");
	char *pem = testutil_temp_path("dhpem");

	CU_ASSERT_EQUAL_FATAL(fixture_run("%s asn1parse -genconf %s -out %s >/dev/null && "
					  "{ echo '-----BEGIN %s-----'; base64 -w64 %s; "
					  "echo '-----END %s-----'; } > %s",
					  OPENSSL_BIN, cnf, der, kind, der, kind, pem), 0);
	free(cnf);
	free(der);
	return pem;
}

/* openssl's text of a DH key: the hex after "name:" up to the next
 * field, without separators or leading zeros, malloc'd. */
static char *openssl_field(const char *pem, bool private, const char *name)
{
	char *out;
	int st = -1;
	char *res, *w;
	const char *r;

	out = fixture_capture(&st, "%s pkey %s -in %s -text -noout | "
				   "awk '/^%s:/{f=1;next} /^[A-Za-z]/{f=0} f' | tr -d ' :\\n'",
			      OPENSSL_BIN, private ? "" : "-pubin", pem, name);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	res = malloc(strlen(out) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	for (r = out; *r == '0' && r[1] == '0'; r += 2)
		;
	for (w = res; *r; r++)
		if (isxdigit((unsigned char)*r))
			*w++ = (char)tolower((unsigned char)*r);
	*w = '\0';
	free(out);
	return res;
}

/* The PEM of DH domain parameters and a public value y (hex), for
 * openssl: SubjectPublicKeyInfo of dhKeyAgreement (PKCS #3). */
static char *public_pem(const char *p, const char *g, const char *y)
{
	char conf[8192];

	snprintf(conf, sizeof conf,
		 "asn1=SEQUENCE:spki\n[spki]\nalg=SEQUENCE:alg\nkey=BITWRAP,INTEGER:0x%s\n"
		 "[alg]\noid=OID:1.2.840.113549.1.3.1\nparams=SEQUENCE:params\n"
		 "[params]\np=INTEGER:0x%s\ng=INTEGER:0x%s\n",
		 y, p, g);
	return pem_from_genconf(conf, "PUBLIC KEY");
}

/* The PKCS #8 PEM of a DH private key (p, g, x hex); openssl computes y. */
static char *private_pem(const char *p, const char *g, const char *x)
{
	char conf[8192];

	snprintf(conf, sizeof conf,
		 "asn1=SEQUENCE:pk8\n[pk8]\nver=INTEGER:0\nalg=SEQUENCE:alg\n"
		 "key=OCTWRAP,INTEGER:0x%s\n"
		 "[alg]\noid=OID:1.2.840.113549.1.3.1\nparams=SEQUENCE:params\n"
		 "[params]\np=INTEGER:0x%s\ng=INTEGER:0x%s\n",
		 x, p, g);
	return pem_from_genconf(conf, "PRIVATE KEY");
}

/* Hex to bytes (big-endian), malloc'd. */
static BYTE *hex_bytes(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2, i;
	BYTE *b = malloc(n ? n : 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (i = 0; i < n; i++) {
		unsigned int v;

		sscanf(hex + 2 * i, "%2x", &v);
		b[i] = (BYTE)v;
	}
	*len = n;
	return b;
}

/* ---- keys ---- */

static void test_genkey(void)
{
	static const DWORD bad_bits[] = { 448, 513, 520, 4160 };
	HCRYPTPROV h, dss;
	HCRYPTKEY k, e;
	BYTE *p, *g, *p2;
	DWORD p_len, g_len, p2_len, len;
	size_t i;
	char *ph, *gh;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-gen", uri, PROV_DSS_DH, CRYPT_NEWKEYSET));
	CHECK_FAILS_WITH(CryptGetUserKey(h, AT_KEYEXCHANGE, &k), NTE_NO_KEY);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 512 << 16, &k));
	/* AT_KEYEXCHANGE is CALG_DH_SF in the DSS/DH provider. */
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_DH_SF);
	CU_ASSERT_EQUAL(key_dword(k, KP_KEYLEN), 512);
	CU_ASSERT_EQUAL(key_dword(k, KP_PERMISSIONS) & CRYPT_EXPORT, 0);
	p = param_le(k, KP_P, &p_len);
	CU_ASSERT_EQUAL(p_len, 64);
	CU_ASSERT_TRUE(p[63] & 0x80);
	g = param_le(k, KP_G, &g_len);
	CU_ASSERT_TRUE(g_len > 0 && g_len <= 64);
	/* PKCS#11 DH keys carry no q. */
	len = 0;
	CHECK_FAILS_WITH(CryptGetKeyParam(k, KP_Q, NULL, &len, 0), NTE_BAD_TYPE);
	/* p is a safe prime and g a generator: openssl's check of DH
	 * parameters. */
	ph = le_hex(p, p_len);
	gh = le_hex(g, g_len);
	{
		char conf[4096], *pem;

		snprintf(conf, sizeof conf,
			 "asn1=SEQUENCE:params\n[params]\np=INTEGER:0x%s\ng=INTEGER:0x%s\n", ph, gh);
		pem = pem_from_genconf(conf, "DH PARAMETERS");
		CU_ASSERT_EQUAL(fixture_run("%s pkeyparam -in %s -check -noout >/dev/null 2>&1",
					    OPENSSL_BIN, pem), 0);
		free(pem);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_EQUAL(private_keys("dh-gen"), 1);

	/* The container's exchange key, found again. */
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_DH_SF);
	p2 = param_le(k, KP_P, &p2_len);
	CU_ASSERT_TRUE(p2_len == p_len && memcmp(p2, p, p_len) == 0);
	free(p2);
	CU_ASSERT_TRUE(CryptDestroyKey(k));

	/* An ephemeral key is no container's. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16, &e));
	CU_ASSERT_EQUAL(key_dword(e, KP_ALGID), CALG_DH_EPHEM);
	CU_ASSERT_EQUAL(key_dword(e, KP_KEYLEN), 512);
	CU_ASSERT_EQUAL(private_keys("dh-gen"), 1);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	p2 = param_le(k, KP_P, &p2_len);
	CU_ASSERT_TRUE(p2_len == p_len && memcmp(p2, p, p_len) == 0);
	free(p2);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptDestroyKey(e));

	/* Lengths off Microsoft's 64-bit steps or outside 512..4096:
	 * NTE_BAD_FLAGS, nothing made. */
	for (i = 0; i < sizeof bad_bits / sizeof bad_bits[0]; i++) {
		CHECK_FAILS_WITH(CryptGenKey(h, CALG_DH_SF, bad_bits[i] << 16, &k), NTE_BAD_FLAGS);
		CHECK_FAILS_WITH(CryptGenKey(h, CALG_DH_EPHEM, bad_bits[i] << 16, &k),
				 NTE_BAD_FLAGS);
	}
	CU_ASSERT_EQUAL(private_keys("dh-gen"), 1);
	/* The DSS signature key and the DH exchange key live side by side. */
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_SIGNATURE, 1024 << 16, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_DSS_SIGN);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_EQUAL(private_keys("dh-gen"), 2);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_DH_SF);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	/* The Base DSS provider has no Diffie-Hellman. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&dss, NULL, uri, PROV_DSS, CRYPT_VERIFYCONTEXT));
	CHECK_FAILS_WITH(CryptGenKey(dss, CALG_DH_SF, 512 << 16, &k), NTE_BAD_ALGID);
	CHECK_FAILS_WITH(CryptGenKey(dss, CALG_DH_EPHEM, 512 << 16, &k), NTE_BAD_ALGID);
	CU_ASSERT_TRUE(CryptReleaseContext(dss, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dh-gen", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET));
	CU_ASSERT_EQUAL(private_keys("dh-gen"), 0);
	free(p);
	free(g);
	free(ph);
	free(gh);
}

/* PP_ENUMALGS_EX's entry for alg, false when not listed. */
static bool enum_find(HCRYPTPROV h, ALG_ID alg, PROV_ENUMALGS_EX *out)
{
	DWORD flags = CRYPT_FIRST, len = sizeof *out;

	while (CryptGetProvParam(h, PP_ENUMALGS_EX, (BYTE *)out, &len, flags)) {
		if (out->aiAlgid == alg)
			return true;
		flags = CRYPT_NEXT;
		len = sizeof *out;
	}
	CU_ASSERT_EQUAL(GetLastError(), ERROR_NO_MORE_ITEMS);
	return false;
}

/* The lengths by provider: Microsoft's Base DSS and Diffie-Hellman
 * provider 512 to 1024, the Enhanced one 512 to 4096 (ICspAlgorithm's
 * length table), 1024 by default; "DH_KEYX" as Microsoft's DH protocol
 * enumeration names it. */
static void test_lengths_by_provider(void)
{
	static const ALG_ID algs[] = { CALG_DH_SF, CALG_DH_EPHEM };
	char conf[4096], *path;
	HCRYPTPROV h;
	HCRYPTKEY k;
	PROV_ENUMALGS_EX e;
	size_t i;

	snprintf(conf, sizeof conf, "[capi11]\ndefault-provider = main\n[provider \"main\"]\nuri = %s\n",
		 uri);
	path = fixture_write_file("dh.conf", conf, strlen(conf));
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	setenv("CAPI11_CONF", path, 1);
	for (i = 0; i < 2; i++) {
		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, MS_DEF_DSS_DH_PROV_A, PROV_DSS_DH,
							  CRYPT_VERIFYCONTEXT));
		CU_ASSERT_TRUE_FATAL(enum_find(h, algs[i], &e));
		CU_ASSERT_STRING_EQUAL(e.szName, "DH_KEYX");
		CU_ASSERT_EQUAL(e.dwDefaultLen, 1024);
		CU_ASSERT_EQUAL(e.dwMinLen, 512);
		CU_ASSERT_EQUAL(e.dwMaxLen, 1024);
		CHECK_FAILS_WITH(CryptGenKey(h, algs[i], 1088 << 16, &k), NTE_BAD_FLAGS);
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, MS_ENH_DSS_DH_PROV_A, PROV_DSS_DH,
							  CRYPT_VERIFYCONTEXT));
		CU_ASSERT_TRUE_FATAL(enum_find(h, algs[i], &e));
		CU_ASSERT_EQUAL(e.dwMaxLen, 4096);
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, MS_DEF_DSS_PROV_A, PROV_DSS,
							  CRYPT_VERIFYCONTEXT));
		CU_ASSERT_FALSE(enum_find(h, algs[i], &e));
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	}
	/* The Enhanced provider makes a 1088-bit key. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, MS_ENH_DSS_DH_PROV_A, PROV_DSS_DH,
						  CRYPT_VERIFYCONTEXT));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptGenKey(h, CALG_DH_EPHEM, 1088 << 16, &k));
	CU_ASSERT_EQUAL(key_dword(k, KP_KEYLEN), 1088);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	setenv("CAPI11_CONF", "/dev/null", 1);
	free(path);
}

/* ---- agreement ---- */

static const char plain[] = "Testing shared key, once more.";

/* CryptEncrypt of plain (final), into out (64 bytes); its length. */
static DWORD encrypt_plain(HCRYPTKEY k, BYTE out[64])
{
	DWORD len = sizeof plain;

	memcpy(out, plain, sizeof plain);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptEncrypt(k, 0, TRUE, 0, out, &len, 64));
	return len;
}

/* Agreement of a and b (DH private keys of contexts ha and hb) to alg:
 * each imports the other's public blob (version 2 from a, version 3 from
 * b); both sessions keys encrypt alike and decrypt each other. */
static void agree_pair(HCRYPTPROV ha, HCRYPTKEY a, HCRYPTPROV hb, HCRYPTKEY b, ALG_ID alg)
{
	BYTE *pa, *pb, ca[64], cb[64];
	DWORD la, lb, na, nb;
	HCRYPTKEY sa, sb;

	pa = export_blob(a, PUBLICKEYBLOB, 0, &la);
	pb = export_blob(b, PUBLICKEYBLOB, CRYPT_BLOB_VER3, &lb);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(ha, pb, lb, a, 0, &sa));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(hb, pa, la, b, 0, &sb));
	CU_ASSERT_EQUAL(key_dword(sa, KP_ALGID), CALG_AGREEDKEY_ANY);
	/* No cipher yet: CryptEncrypt's "algorithm this CSP does not
	 * support". */
	na = sizeof plain;
	memcpy(ca, plain, sizeof plain);
	CHECK_FAILS_WITH(CryptEncrypt(sa, 0, TRUE, 0, ca, &na, sizeof ca), NTE_BAD_ALGID);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(sa, KP_ALGID, (const BYTE *)&alg, 0));
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(sb, KP_ALGID, (const BYTE *)&alg, 0));
	CU_ASSERT_EQUAL(key_dword(sa, KP_ALGID), alg);
	na = encrypt_plain(sa, ca);
	nb = encrypt_plain(sb, cb);
	CU_ASSERT_TRUE(na == nb && memcmp(ca, cb, na) == 0);
	CU_ASSERT_TRUE(CryptDecrypt(sb, 0, TRUE, 0, ca, &na));
	CU_ASSERT_TRUE(na == sizeof plain && memcmp(ca, plain, na) == 0);
	CU_ASSERT_TRUE(CryptDestroyKey(sa));
	CU_ASSERT_TRUE(CryptDestroyKey(sb));
	free(pa);
	free(pb);
}

/* A DH key of h with p and g of model (CRYPT_PREGEN, KP_P, KP_G, KP_X). */
static HCRYPTKEY pregen_like(HCRYPTPROV h, ALG_ID alg, HCRYPTKEY model)
{
	CRYPT_DATA_BLOB pb, gb;
	HCRYPTKEY k;

	pb.pbData = param_le(model, KP_P, &pb.cbData);
	gb.pbData = param_le(model, KP_G, &gb.cbData);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, alg, (pb.cbData * 8) << 16 | CRYPT_PREGEN, &k));
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(k, KP_P, (const BYTE *)&pb, 0));
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(k, KP_G, (const BYTE *)&gb, 0));
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(k, KP_X, NULL, 0));
	free(pb.pbData);
	free(gb.pbData);
	return k;
}

static void test_agree_contexts(void)
{
	static const ALG_ID algs[] = { CALG_3DES, CALG_3DES_112, CALG_AES_128, CALG_AES_256 };
	HCRYPTPROV ha, hb, hc;
	HCRYPTKEY a, b, c;
	size_t i;

	/* Two containers: a's stored key and b's ephemeral one on the same
	 * group; c on the second token. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&ha, "dh-a", uri, PROV_DSS_DH, CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&hb, "dh-b", uri, PROV_DSS_DH, CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&hc, NULL, uri2, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(ha, CALG_DH_SF, 512 << 16, &a));
	b = pregen_like(hb, CALG_DH_EPHEM, a);
	c = pregen_like(hc, CALG_DH_SF, a);
	CU_ASSERT_EQUAL(key_dword(b, KP_ALGID), CALG_DH_EPHEM);
	for (i = 0; i < sizeof algs / sizeof algs[0]; i++) {
		agree_pair(ha, a, hb, b, algs[i]);
		agree_pair(ha, a, hc, c, algs[i]);
	}
	/* KP_ALGID of what is no cipher, or one the token lacks (SoftHSM has
	 * no RC4): NTE_BAD_ALGID, and the agreed key stays one; a copy of it
	 * becomes a session key of its own. */
	{
		static const ALG_ID sha1 = CALG_SHA1, rc4 = CALG_RC4, aes = CALG_AES_128;
		HCRYPTKEY s, dup;
		BYTE *blob, c1[64], c2[64];
		DWORD len, n1, n2;

		blob = export_blob(b, PUBLICKEYBLOB, 0, &len);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(ha, blob, len, a, 0, &s));
		CHECK_FAILS_WITH(CryptSetKeyParam(s, KP_ALGID, (const BYTE *)&sha1, 0), NTE_BAD_ALGID);
		CHECK_FAILS_WITH(CryptSetKeyParam(s, KP_ALGID, (const BYTE *)&rc4, 0), NTE_BAD_ALGID);
		CU_ASSERT_EQUAL(key_dword(s, KP_ALGID), CALG_AGREEDKEY_ANY);
		CU_ASSERT_TRUE_FATAL(CryptDuplicateKey(s, NULL, 0, &dup));
		CU_ASSERT_TRUE(CryptSetKeyParam(s, KP_ALGID, (const BYTE *)&aes, 0));
		CU_ASSERT_EQUAL(key_dword(dup, KP_ALGID), CALG_AGREEDKEY_ANY);
		CU_ASSERT_TRUE(CryptSetKeyParam(dup, KP_ALGID, (const BYTE *)&aes, 0));
		n1 = encrypt_plain(s, c1);
		n2 = encrypt_plain(dup, c2);
		CU_ASSERT_TRUE(n1 == n2 && memcmp(c1, c2, n1) == 0);
		/* Once a cipher's, KP_ALGID is no longer settable. */
		CHECK_FAILS_WITH(CryptSetKeyParam(s, KP_ALGID, (const BYTE *)&aes, 0), NTE_BAD_TYPE);
		CU_ASSERT_TRUE(CryptDestroyKey(dup));
		CU_ASSERT_TRUE(CryptDestroyKey(s));
		free(blob);
	}
	/* A key of another group (another p) does not agree. */
	{
		HCRYPTKEY other;
		BYTE *blob;
		DWORD len;

		CU_ASSERT_TRUE_FATAL(CryptGenKey(hb, CALG_DH_EPHEM, 576 << 16, &other));
		blob = export_blob(other, PUBLICKEYBLOB, 0, &len);
		CHECK_FAILS_WITH(CryptImportKey(ha, blob, len, a, 0, &c), NTE_BAD_DATA);
		free(blob);
		/* No hPubKey, or one that is not a DH private key. */
		blob = export_blob(a, PUBLICKEYBLOB, 0, &len);
		CHECK_FAILS_WITH(CryptImportKey(hb, blob, len, 0, 0, &c), NTE_BAD_PUBLIC_KEY);
		CHECK_FAILS_WITH(CryptImportKey(ha, blob, len, b, 0, &c), NTE_BAD_PUBLIC_KEY);
		free(blob);
		CU_ASSERT_TRUE(CryptDestroyKey(other));
	}
	CU_ASSERT_TRUE(CryptDestroyKey(a));
	CU_ASSERT_TRUE(CryptDestroyKey(b));
	CU_ASSERT_TRUE(CryptDestroyKey(c));
	CU_ASSERT_TRUE(CryptReleaseContext(ha, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(hb, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(hc, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&ha, "dh-a", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET));
	CU_ASSERT_TRUE(CryptAcquireContextA(&hb, "dh-b", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET));
}

/* A DH1 blob of y (big-endian hex) for a bitlen-bit group. */
static BYTE *dh1_blob(const char *y_hex, DWORD bitlen, DWORD *len)
{
	size_t y_len, i;
	BYTE *y = hex_bytes(y_hex, &y_len);
	BYTE *blob = calloc(1, 16 + bitlen / 8);

	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	CU_ASSERT_FATAL(y_len <= bitlen / 8);
	blob[0] = PUBLICKEYBLOB;
	blob[1] = 2;
	testutil_le32_put(blob + 4, CALG_DH_SF);
	testutil_le32_put(blob + 8, 0x31484400);
	testutil_le32_put(blob + 12, bitlen);
	for (i = 0; i < y_len; i++)
		blob[16 + i] = y[y_len - 1 - i];
	*len = 16 + bitlen / 8;
	free(y);
	return blob;
}

static void test_agree_openssl(void)
{
	static const struct {
		ALG_ID alg;
		const char *cipher;
		size_t key_len;
	} ciphers[] = {
		{ CALG_3DES, "des-ede3-cbc", 24 },
		{ CALG_AES_128, "aes-128-cbc", 16 },
		{ CALG_AES_192, "aes-192-cbc", 24 },
		{ CALG_AES_256, "aes-256-cbc", 32 },
	};
	HCRYPTPROV h;
	HCRYPTKEY a, s;
	BYTE *p, *g, *pub, *blob, *secret, ct[64];
	DWORD p_len, g_len, pub_len, blob_len, secret_len, n;
	char *ph, *gh, *yh, *peer_y, *capi_pem, *params_pem, *peer_pem, *sec_path, *plain_path;
	char conf[4096];
	size_t i;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16, &a));
	p = param_le(a, KP_P, &p_len);
	g = param_le(a, KP_G, &g_len);
	pub = export_blob(a, PUBLICKEYBLOB, 0, &pub_len);
	CU_ASSERT_EQUAL_FATAL(pub_len, 16 + p_len);
	ph = le_hex(p, p_len);
	gh = le_hex(g, g_len);
	yh = le_hex(pub + 16, p_len);
	/* openssl's own key on capi11's group, and the secret it derives
	 * with capi11's public key. */
	snprintf(conf, sizeof conf, "asn1=SEQUENCE:params\n[params]\np=INTEGER:0x%s\ng=INTEGER:0x%s\n",
		 ph, gh);
	params_pem = pem_from_genconf(conf, "DH PARAMETERS");
	capi_pem = public_pem(ph, gh, yh);
	peer_pem = testutil_temp_path("dhpeer");
	sec_path = testutil_temp_path("dhsecret");
	CU_ASSERT_EQUAL_FATAL(fixture_run("%s genpkey -paramfile %s -out %s 2>/dev/null && "
					  "%s pkeyutl -derive -inkey %s -peerkey %s -out %s",
					  OPENSSL_BIN, params_pem, peer_pem, OPENSSL_BIN, peer_pem,
					  capi_pem, sec_path), 0);
	secret = testutil_file_load(sec_path, &secret_len);
	CU_ASSERT_FATAL(secret_len >= 32);
	peer_y = openssl_field(peer_pem, true, "public-key");
	blob = dh1_blob(peer_y, p_len * 8, &blob_len);
	plain_path = testutil_temp_write("dhplain", plain, sizeof plain);

	for (i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
		char key_hex[65];
		BYTE key[32], plainblob[12 + 32];
		DWORD pb_len = sizeof plainblob;
		size_t k, ct_len;
		BYTE *ossl;
		DWORD ossl_len;
		char *ct_path = testutil_temp_path("dhct");
		int st;

		/* Windows' key: the secret's low-order bytes, least
		 * significant first. */
		for (k = 0; k < ciphers[i].key_len; k++)
			key[k] = secret[secret_len - 1 - k];
		testutil_hex_put(key_hex, key, ciphers[i].key_len);
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, blob_len, a, CRYPT_EXPORTABLE, &s));
		CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(s, KP_ALGID, (const BYTE *)&ciphers[i].alg, 0));
		CU_ASSERT_EQUAL(key_dword(s, KP_KEYLEN), ciphers[i].key_len * 8);
		/* The key itself, as the token holds it. */
		CU_ASSERT_TRUE(CryptExportKey(s, 0, PLAINTEXTKEYBLOB, 0, plainblob, &pb_len));
		CU_ASSERT_EQUAL(pb_len, 12 + ciphers[i].key_len);
		CU_ASSERT_EQUAL(memcmp(plainblob + 12, key, ciphers[i].key_len), 0);
		n = encrypt_plain(s, ct);
		st = fixture_run("%s enc -%s -K %s -iv %0*d -in %s -out %s", OPENSSL_BIN,
				 ciphers[i].cipher, key_hex,
				 ciphers[i].alg == CALG_3DES ? 16 : 32, 0, plain_path, ct_path);
		CU_ASSERT_EQUAL(st, 0);
		ossl = testutil_file_load(ct_path, &ossl_len);
		ct_len = n;
		CU_ASSERT_TRUE(ossl_len == ct_len && memcmp(ossl, ct, ct_len) == 0);
		free(ossl);
		free(ct_path);
		CU_ASSERT_TRUE(CryptDestroyKey(s));
	}
	CU_ASSERT_TRUE(CryptDestroyKey(a));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(p);
	free(g);
	free(pub);
	free(blob);
	free(secret);
	free(ph);
	free(gh);
	free(yh);
	free(peer_y);
	free(capi_pem);
	free(params_pem);
	free(peer_pem);
	free(sec_path);
	free(plain_path);
}

/* ---- blobs ---- */

static void test_blobs(void)
{
	HCRYPTPROV h, h2;
	HCRYPTKEY k, k2;
	BYTE *b[4], *again;
	DWORD l[4], again_len, P;
	char *ph, *gh, *xh, *yh, *pem, *oy;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-blob", uri, PROV_DSS_DH, CRYPT_NEWKEYSET));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_SF, 512 << 16 | CRYPT_EXPORTABLE, &k));
	b[0] = export_blob(k, PUBLICKEYBLOB, 0, &l[0]);
	b[1] = export_blob(k, PRIVATEKEYBLOB, 0, &l[1]);
	b[2] = export_blob(k, PUBLICKEYBLOB, CRYPT_BLOB_VER3, &l[2]);
	b[3] = export_blob(k, PRIVATEKEYBLOB, CRYPT_BLOB_VER3, &l[3]);
	P = 64;
	/* Microsoft's layouts: DH1 y; DH2 p g x; DH3/DH4 with the
	 * DHPUBKEY_VER3/DHPRIVKEY_VER3 fields, no q, no j, no seed. */
	CU_ASSERT_EQUAL(l[0], 16 + P);
	CU_ASSERT_EQUAL(b[0][0], PUBLICKEYBLOB);
	CU_ASSERT_EQUAL(b[0][1], 2);
	CU_ASSERT_EQUAL(testutil_le32(b[0] + 4), CALG_DH_SF);
	CU_ASSERT_EQUAL(testutil_le32(b[0] + 8), 0x31484400);
	CU_ASSERT_EQUAL(testutil_le32(b[0] + 12), 512);
	CU_ASSERT_EQUAL(l[1], 16 + 3 * P);
	CU_ASSERT_EQUAL(testutil_le32(b[1] + 8), 0x32484400);
	CU_ASSERT_EQUAL(l[2], 8 + 16 + 24 + 3 * P);
	CU_ASSERT_EQUAL(b[2][1], 3);
	CU_ASSERT_EQUAL(testutil_le32(b[2] + 8), 0x33484400);
	CU_ASSERT_EQUAL(testutil_le32(b[2] + 12), 512);
	CU_ASSERT_EQUAL(testutil_le32(b[2] + 16), 0);
	CU_ASSERT_EQUAL(testutil_le32(b[2] + 20), 0);
	CU_ASSERT_EQUAL(testutil_le32(b[2] + 24), 0xffffffff);
	CU_ASSERT_EQUAL(l[3], 8 + 20 + 24 + 4 * P);
	CU_ASSERT_EQUAL(testutil_le32(b[3] + 8), 0x34484400);
	CU_ASSERT_EQUAL(testutil_le32(b[3] + 24), 512);
	/* The numbers agree with one another: p and g those of KP_P/KP_G,
	 * y the same in every blob, and openssl computes the same y from the
	 * private blob's p, g and x. */
	{
		BYTE *p, *g;
		DWORD p_len, g_len;

		p = param_le(k, KP_P, &p_len);
		g = param_le(k, KP_G, &g_len);
		CU_ASSERT_EQUAL(memcmp(b[1] + 16, p, P), 0);
		CU_ASSERT_EQUAL(memcmp(b[2] + 48, p, P), 0);
		CU_ASSERT_EQUAL(memcmp(b[1] + 16 + P, g, g_len), 0);
		free(p);
		free(g);
	}
	/* The numbers the token holds, read from SoftHSM itself: p, g and y
	 * of the public key object, x of the private one. */
	{
		BYTE *tp = token_number("dh-blob", CKO_PUBLIC_KEY, CKA_PRIME, P);
		BYTE *tg = token_number("dh-blob", CKO_PUBLIC_KEY, CKA_BASE, P);
		BYTE *ty = token_number("dh-blob", CKO_PUBLIC_KEY, CKA_VALUE, P);
		BYTE *tx = token_number("dh-blob", CKO_PRIVATE_KEY, CKA_VALUE, P);

		CU_ASSERT_EQUAL(memcmp(b[0] + 16, ty, P), 0);
		CU_ASSERT_EQUAL(memcmp(b[1] + 16, tp, P), 0);
		CU_ASSERT_EQUAL(memcmp(b[1] + 16 + P, tg, P), 0);
		CU_ASSERT_EQUAL(memcmp(b[1] + 16 + 2 * P, tx, P), 0);
		CU_ASSERT_EQUAL(memcmp(b[3] + 52 + 3 * P, tx, P), 0);
		free(tp);
		free(tg);
		free(ty);
		free(tx);
	}
	CU_ASSERT_EQUAL(memcmp(b[0] + 16, b[2] + 48 + 2 * P, P), 0);
	CU_ASSERT_EQUAL(memcmp(b[0] + 16, b[3] + 52 + 2 * P, P), 0);
	CU_ASSERT_EQUAL(memcmp(b[1] + 16 + 2 * P, b[3] + 52 + 3 * P, P), 0);
	ph = le_hex(b[1] + 16, P);
	gh = le_hex(b[1] + 16 + P, P);
	xh = le_hex(b[1] + 16 + 2 * P, P);
	yh = le_hex(b[0] + 16, P);
	pem = private_pem(ph, gh, xh);
	oy = openssl_field(pem, true, "public-key");
	CU_ASSERT_STRING_EQUAL(oy, yh);
	free(pem);
	free(oy);
	CU_ASSERT_TRUE(CryptDestroyKey(k));

	/* Round trips: a version 3 private blob imported gives the version 2
	 * blobs again, byte for byte, and the version 2 one the version 3
	 * blobs (y computed on the token). */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h2, "dh-blob2", uri, PROV_DSS_DH,
						  CRYPT_NEWKEYSET));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, b[3], l[3], 0, CRYPT_EXPORTABLE, &k2));
	CU_ASSERT_EQUAL(key_dword(k2, KP_ALGID), CALG_DH_SF);
	again = export_blob(k2, PRIVATEKEYBLOB, 0, &again_len);
	CU_ASSERT_TRUE(again_len == l[1] && memcmp(again, b[1], l[1]) == 0);
	free(again);
	again = export_blob(k2, PUBLICKEYBLOB, 0, &again_len);
	CU_ASSERT_TRUE(again_len == l[0] && memcmp(again, b[0], l[0]) == 0);
	free(again);
	CU_ASSERT_TRUE(CryptDestroyKey(k2));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, b[1], l[1], 0, CRYPT_EXPORTABLE, &k2));
	again = export_blob(k2, PRIVATEKEYBLOB, CRYPT_BLOB_VER3, &again_len);
	CU_ASSERT_TRUE(again_len == l[3] && memcmp(again, b[3], l[3]) == 0);
	free(again);
	/* CRYPT_Y_ONLY is documented as unused: the same blob. */
	{
		DWORD len = l[2];

		again = malloc(len);
		CU_ASSERT_TRUE(CryptExportKey(k2, 0, PUBLICKEYBLOB, CRYPT_BLOB_VER3 | CRYPT_Y_ONLY,
					      again, &len));
		CU_ASSERT_TRUE(len == l[2] && memcmp(again, b[2], l[2]) == 0);
		free(again);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(k2));
	CU_ASSERT_EQUAL(private_keys("dh-blob2"), 1);
	/* Not exportable unless asked. */
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h2, b[1], l[1], 0, 0, &k2));
	{
		DWORD len = 0;

		CHECK_FAILS_WITH(CryptExportKey(k2, 0, PRIVATEKEYBLOB, 0, NULL, &len),
				 NTE_BAD_KEY_STATE);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(k2));
	CU_ASSERT_TRUE(CryptReleaseContext(h2, 0));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dh-blob", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dh-blob2", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET));
	for (int i = 0; i < 4; i++)
		free(b[i]);
	free(ph);
	free(gh);
	free(xh);
	free(yh);
}

static void test_bad_blobs(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k, out;
	BYTE *b[4], *copy;
	DWORD l[4], i, cut, P = 64;
	int keys, pubs, objects;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-bad", uri, PROV_DSS_DH, CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_SF, 512 << 16 | CRYPT_EXPORTABLE, &k));
	b[0] = export_blob(k, PUBLICKEYBLOB, 0, &l[0]);
	b[1] = export_blob(k, PRIVATEKEYBLOB, 0, &l[1]);
	b[2] = export_blob(k, PUBLICKEYBLOB, CRYPT_BLOB_VER3, &l[2]);
	b[3] = export_blob(k, PRIVATEKEYBLOB, CRYPT_BLOB_VER3, &l[3]);
	keys = private_keys("dh-bad");
	pubs = testutil_token_count(label, "pubkey", "dh-bad");
	objects = all_objects();
	CU_ASSERT_EQUAL(keys, 1);

	/* Every truncation: private blobs alone, public ones as partners. */
	for (i = 0; i < 4; i++) {
		for (cut = 1; cut < l[i]; cut++) {
			out = 0;
			SetLastError(SENTINEL);
			CU_ASSERT_FALSE(CryptImportKey(h, b[i], cut, i % 2 ? 0 : k, 0, &out));
			CU_ASSERT_EQUAL(GetLastError(), NTE_BAD_DATA);
			CU_ASSERT_EQUAL(out, 0);
		}
	}
	CU_ASSERT_EQUAL(private_keys("dh-bad"), keys);
	CU_ASSERT_EQUAL(testutil_token_count(label, "pubkey", "dh-bad"), pubs);
	/* No agreed secret or temporary key of a refused blob either (the
	 * count sees capi11's session objects: an agreement adds one). */
	CU_ASSERT_EQUAL(all_objects(), objects);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, b[0], l[0], k, 0, &out));
	CU_ASSERT_EQUAL(all_objects(), objects + 1);
	CU_ASSERT_TRUE(CryptDestroyKey(out));
	CU_ASSERT_EQUAL(all_objects(), objects);

	copy = malloc(l[3]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
#define MUTATE(n, change, code, partner) do { \
		memcpy(copy, b[n], l[n]); \
		change; \
		out = 0; \
		CHECK_FAILS_WITH(CryptImportKey(h, copy, l[n], partner, 0, &out), code); \
		CU_ASSERT_EQUAL(out, 0); \
	} while (0)
	/* Wrong magic, length off the blob or the key's. */
	MUTATE(0, copy[8] ^= 1, NTE_BAD_DATA, k);
	MUTATE(1, copy[11] = '3', NTE_BAD_DATA, 0);
	MUTATE(0, testutil_le32_put(copy + 12, 576), NTE_BAD_DATA, k);
	MUTATE(1, testutil_le32_put(copy + 12, 0xfffffff8), NTE_BAD_DATA, 0);
	MUTATE(3, testutil_le32_put(copy + 24, 0), NTE_BAD_DATA, 0);
	MUTATE(2, testutil_le32_put(copy + 16, 8 * 2 * P), NTE_BAD_DATA, k);
	/* y = 0, 1, p - 1 and p: values anyone can agree with. */
	MUTATE(0, memset(copy + 16, 0, P), NTE_BAD_DATA, k);
	MUTATE(0, (memset(copy + 16, 0, P), copy[16] = 1), NTE_BAD_DATA, k);
	MUTATE(2, (memcpy(copy + 48 + 2 * P, copy + 48, P), copy[48 + 2 * P] ^= 1), NTE_BAD_DATA, k);
	MUTATE(2, memcpy(copy + 48 + 2 * P, copy + 48, P), NTE_BAD_DATA, k);
	/* A version 3 partner of another group. */
	MUTATE(2, copy[48] ^= 2, NTE_BAD_DATA, k);
	/* p without its top bit, x = 0, g = 1. */
	MUTATE(1, copy[16 + P - 1] &= 0x7f, NTE_BAD_DATA, 0);
	MUTATE(1, memset(copy + 16 + 2 * P, 0, P), NTE_BAD_DATA, 0);
	MUTATE(1, (memset(copy + 16 + P, 0, P), copy[16 + P] = 1), NTE_BAD_DATA, 0);
	/* A version 3 private blob whose y is not g^x mod p. */
	MUTATE(3, copy[52 + 2 * P] ^= 1, NTE_BAD_DATA, 0);
	/* Another algorithm in the header. */
	MUTATE(1, testutil_le32_put(copy + 4, CALG_RSA_KEYX), NTE_BAD_ALGID, 0);
#undef MUTATE
	CU_ASSERT_EQUAL(private_keys("dh-bad"), keys);
	CU_ASSERT_EQUAL(testutil_token_count(label, "pubkey", "dh-bad"), pubs);
	CU_ASSERT_EQUAL(all_objects(), objects);
	free(copy);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dh-bad", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET));
	for (i = 0; i < 4; i++)
		free(b[i]);
}

/* A PRIVATEKEYBLOB under a session key, both ways, as for RSA. */
static void test_encrypted_private_blob(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k, s, k2;
	BYTE *plainb, *enc, *again;
	DWORD plain_len, enc_len = 0, again_len;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-enc", uri, PROV_DSS_DH, CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_SF, 512 << 16 | CRYPT_EXPORTABLE, &k));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_3DES, CRYPT_EXPORTABLE, &s));
	plainb = export_blob(k, PRIVATEKEYBLOB, 0, &plain_len);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptExportKey(k, s, PRIVATEKEYBLOB, 0, NULL, &enc_len));
	enc = malloc(enc_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(enc);
	CU_ASSERT_TRUE_FATAL(CryptExportKey(k, s, PRIVATEKEYBLOB, 0, enc, &enc_len));
	/* The header stays in the clear; the rest is not the plain blob's. */
	CU_ASSERT_EQUAL(memcmp(enc, plainb, 8), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(enc + 8, plainb + 8, 16), 0);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, enc, enc_len, s, CRYPT_EXPORTABLE, &k2));
	again = export_blob(k2, PRIVATEKEYBLOB, 0, &again_len);
	CU_ASSERT_TRUE(again_len == plain_len && memcmp(again, plainb, plain_len) == 0);
	CU_ASSERT_TRUE(CryptDestroyKey(k2));
	CU_ASSERT_TRUE(CryptDestroyKey(s));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dh-enc", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET));
	free(plainb);
	free(enc);
	free(again);
}

/* ---- CRYPT_PREGEN ---- */

static void test_pregen(void)
{
	HCRYPTPROV h;
	HCRYPTKEY model, k, dss, d2;
	CRYPT_DATA_BLOB pb, gb, qb, bad;
	BYTE *got, one = 1;
	DWORD got_len, len;

	/* Microsoft's steps ("Diffie-Hellman Keys", CryptSetKeyParam KP_P,
	 * KP_G, KP_X): the pair is made with the parameters given. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16, &model));
	pb.pbData = param_le(model, KP_P, &pb.cbData);
	gb.pbData = param_le(model, KP_G, &gb.cbData);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_SF, 512 << 16 | CRYPT_PREGEN, &k));
	/* Nothing to make the pair of yet. */
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_X, NULL, 0), NTE_BAD_KEY_STATE);
	/* g = 1 and a p of another length are refused. */
	bad.pbData = &one;
	bad.cbData = 1;
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_P, (const BYTE *)&pb, 0));
	/* A DH key takes a q (the group's p - 1 = q * j), which must lie
	 * below p - 1: q = p is refused; none was set, so none reads back. */
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_Q, (const BYTE *)&pb, 0), NTE_BAD_DATA);
	len = 0;
	CHECK_FAILS_WITH(CryptGetKeyParam(k, KP_Q, NULL, &len, 0), NTE_BAD_KEY_STATE);
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_G, (const BYTE *)&bad, 0), NTE_BAD_DATA);
	bad = pb;
	bad.cbData = 56;
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_P, (const BYTE *)&bad, 0), NTE_BAD_DATA);
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_G, (const BYTE *)&gb, 0));
	got = param_le(k, KP_P, &got_len);
	CU_ASSERT_TRUE(got_len == pb.cbData && memcmp(got, pb.pbData, got_len) == 0);
	free(got);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(k, KP_X, NULL, 0));
	CU_ASSERT_EQUAL(key_dword(k, KP_ALGID), CALG_DH_SF);
	CU_ASSERT_EQUAL(key_dword(k, KP_KEYLEN), 512);
	got = param_le(k, KP_G, &got_len);
	CU_ASSERT_TRUE(got_len == gb.cbData && memcmp(got, gb.pbData, got_len) == 0);
	free(got);
	/* A made pair takes no parameters any more. */
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_P, (const BYTE *)&pb, 0), NTE_BAD_TYPE);
	agree_pair(h, k, h, model, CALG_AES_128);
	CU_ASSERT_TRUE(CryptDestroyKey(k));

	/* DSS the same way, with q: the pair signs what its own public
	 * blob verifies. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DSS_SIGN, 1024 << 16, &dss));
	free(pb.pbData);
	free(gb.pbData);
	pb.pbData = param_le(dss, KP_P, &pb.cbData);
	qb.pbData = param_le(dss, KP_Q, &qb.cbData);
	gb.pbData = param_le(dss, KP_G, &gb.cbData);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DSS_SIGN, CRYPT_PREGEN, &d2));
	CU_ASSERT_TRUE(CryptSetKeyParam(d2, KP_P, (const BYTE *)&pb, 0));
	CU_ASSERT_TRUE(CryptSetKeyParam(d2, KP_G, (const BYTE *)&gb, 0));
	CHECK_FAILS_WITH(CryptSetKeyParam(d2, KP_X, NULL, 0), NTE_BAD_KEY_STATE);
	CU_ASSERT_TRUE(CryptSetKeyParam(d2, KP_Q, (const BYTE *)&qb, 0));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(d2, KP_X, NULL, 0));
	CU_ASSERT_EQUAL(key_dword(d2, KP_ALGID), CALG_DSS_SIGN);
	got = param_le(d2, KP_Q, &got_len);
	CU_ASSERT_TRUE(got_len == qb.cbData && memcmp(got, qb.pbData, got_len) == 0);
	free(got);
	{
		HCRYPTHASH hash;
		BYTE sig[40], *pub;
		DWORD sig_len = sizeof sig, pub_len;
		HCRYPTKEY v;

		CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hash));
		CU_ASSERT_TRUE(CryptHashData(hash, (const BYTE *)plain, sizeof plain, 0));
		CU_ASSERT_TRUE(CryptSignHashA(hash, AT_SIGNATURE, NULL, 0, sig, &sig_len));
		pub = export_blob(d2, PUBLICKEYBLOB, 0, &pub_len);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, pub_len, 0, 0, &v));
		CU_ASSERT_TRUE(CryptVerifySignatureA(hash, sig, sig_len, v, NULL, 0));
		CU_ASSERT_TRUE(CryptDestroyKey(v));
		CU_ASSERT_TRUE(CryptDestroyHash(hash));
		free(pub);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(d2));
	CU_ASSERT_TRUE(CryptDestroyKey(dss));
	/* KP_P on a key that is not CRYPT_PREGEN's. */
	len = 0;
	CHECK_FAILS_WITH(CryptSetKeyParam(model, KP_P, (const BYTE *)&pb, 0), NTE_BAD_TYPE);
	(void)len;
	CU_ASSERT_TRUE(CryptDestroyKey(model));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(pb.pbData);
	free(qb.pbData);
	free(gb.pbData);
}

/* ---- attacks on the DH half (regression tests of review findings) ---- */

/* KP_P, KP_G of a CRYPT_PREGEN key: an even p and g = p - 1 (a generator
 * of the subgroup {1, p - 1}) are as hostile as g = 1, which is refused:
 * the pair made from them has y = 1 or p - 1, a public value that gives
 * every partner a secret anyone knows. */
static void test_review_pregen_hostile(void)
{
	HCRYPTPROV h;
	HCRYPTKEY model, k;
	CRYPT_DATA_BLOB pb, gb, even, pm1;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16, &model));
	pb.pbData = param_le(model, KP_P, &pb.cbData);
	gb.pbData = param_le(model, KP_G, &gb.cbData);
	even.cbData = pm1.cbData = pb.cbData;
	even.pbData = malloc(pb.cbData);
	pm1.pbData = malloc(pb.cbData);
	CU_ASSERT_FATAL(even.pbData != NULL && pm1.pbData != NULL);
	memcpy(even.pbData, pb.pbData, pb.cbData);
	even.pbData[0] &= 0xfe;     /* little-endian: the low byte first */
	memcpy(pm1.pbData, pb.pbData, pb.cbData);
	pm1.pbData[0] &= 0xfe;      /* p odd: p - 1 */

	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16 | CRYPT_PREGEN, &k));
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_P, (const BYTE *)&even, 0), NTE_BAD_DATA);
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_P, (const BYTE *)&pb, 0));
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_G, (const BYTE *)&pm1, 0), NTE_BAD_DATA);
	CU_ASSERT_TRUE(CryptDestroyKey(k));

	CU_ASSERT_TRUE(CryptDestroyKey(model));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(pb.pbData);
	free(gb.pbData);
	free(even.pbData);
	free(pm1.pbData);
}

/* A refused KP_G (or KP_P) leaves the key as it was: the g set before
 * still makes the pair. */
static void test_review_pregen_refusal_keeps_state(void)
{
	HCRYPTPROV h;
	HCRYPTKEY model, k;
	CRYPT_DATA_BLOB pb, gb, bad;
	BYTE one = 1;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16, &model));
	pb.pbData = param_le(model, KP_P, &pb.cbData);
	gb.pbData = param_le(model, KP_G, &gb.cbData);
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16 | CRYPT_PREGEN, &k));
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_P, (const BYTE *)&pb, 0));
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_G, (const BYTE *)&gb, 0));
	/* g = p: refused by the range check, after the old g was freed. */
	bad = pb;
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_G, (const BYTE *)&bad, 0), NTE_BAD_DATA);
	bad.pbData = &one;
	bad.cbData = 1;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_X, NULL, 0));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptDestroyKey(model));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(pb.pbData);
	free(gb.pbData);
}

/* An agreed key before KP_ALGID is the whole secret ZZ on the token: no
 * operation may give out a function of it (agree.h: ZZ never leaves the
 * token; only KP_ALGID's n bytes do). */
static void test_review_agreed_before_algid(void)
{
	HCRYPTPROV h;
	HCRYPTKEY a, b, s;
	HCRYPTHASH hash;
	BYTE *blob, out[512];
	DWORD len, n;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16, &a));
	b = pregen_like(h, CALG_DH_EPHEM, a);
	blob = export_blob(b, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, a, 0, &s));
	n = sizeof out;
	CU_ASSERT_FALSE(CryptExportKey(s, 0, PLAINTEXTKEYBLOB, 0, out, &n));
	/* CryptHashSessionKey, both byte orders: refused. (Today the little
	 * endian one digests ZZ on the token: the other side's agreed key,
	 * made from a's public blob, hashes to the same value, so the digest
	 * is SHA-1 of the shared secret, a key many protocols use.) */
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hash));
	SetLastError(SENTINEL);
	if (CryptHashSessionKey(hash, s, CRYPT_LITTLE_ENDIAN)) {
		BYTE *pa, other[20];
		DWORD la, n2 = sizeof other;
		HCRYPTKEY s2;
		HCRYPTHASH hash2;

		n = sizeof out;
		CU_ASSERT_TRUE(CryptGetHashParam(hash, HP_HASHVAL, out, &n, 0));
		pa = export_blob(a, PUBLICKEYBLOB, 0, &la);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pa, la, b, 0, &s2));
		CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hash2));
		CU_ASSERT_TRUE(CryptHashSessionKey(hash2, s2, CRYPT_LITTLE_ENDIAN));
		CU_ASSERT_TRUE(CryptGetHashParam(hash2, HP_HASHVAL, other, &n2, 0));
		/* Shown, then failed: the digest is the shared secret's. */
		CU_ASSERT_TRUE(n == 20 && n2 == 20 && memcmp(out, other, 20) == 0);
		CU_FAIL("CryptHashSessionKey digests the whole agreed secret");
		CryptDestroyHash(hash2);
		CryptDestroyKey(s2);
		free(pa);
		CryptDestroyHash(hash);
		CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hash));
	}
	CU_ASSERT_FALSE(CryptHashSessionKey(hash, s, 0));
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	/* HMAC under it. */
	SetLastError(SENTINEL);
	if (CryptCreateHash(h, CALG_HMAC, s, 0, &hash)) {
		HMAC_INFO info = { .HashAlgid = CALG_SHA1 };
		bool keyed = CryptSetHashParam(hash, HP_HMAC_INFO, (const BYTE *)&info, 0) &&
			     CryptHashData(hash, (const BYTE *)"x", 1, 0);

		n = sizeof out;
		keyed = keyed && CryptGetHashParam(hash, HP_HASHVAL, out, &n, 0);
		CU_ASSERT_FALSE(keyed);
		CryptDestroyHash(hash);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(s));
	CU_ASSERT_TRUE(CryptDestroyKey(b));
	CU_ASSERT_TRUE(CryptDestroyKey(a));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(blob);
}

/* A DH private key neither signs nor decrypts. */
static void test_review_dh_no_sign(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k;
	HCRYPTHASH hash;
	BYTE sig[128], buf[64];
	DWORD sig_len = sizeof sig, n = 16;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-rev", uri, PROV_DSS_DH, CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, AT_KEYEXCHANGE, 512 << 16, &k));
	CU_ASSERT_TRUE_FATAL(CryptCreateHash(h, CALG_SHA1, 0, 0, &hash));
	CU_ASSERT_TRUE(CryptHashData(hash, (const BYTE *)plain, sizeof plain, 0));
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptSignHashA(hash, AT_KEYEXCHANGE, NULL, 0, sig, &sig_len));
	memset(buf, 0, sizeof buf);
	CU_ASSERT_FALSE(CryptDecrypt(k, 0, TRUE, 0, buf, &n));
	CU_ASSERT_FALSE(CryptEncrypt(k, 0, TRUE, 0, buf, &n, sizeof buf));
	/* Not exportable: no private blob under any flags. */
	n = sizeof buf;
	CU_ASSERT_FALSE(CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, NULL, &n));
	CU_ASSERT_FALSE(CryptExportKey(k, 0, PRIVATEKEYBLOB, CRYPT_BLOB_VER3, NULL, &n));
	CU_ASSERT_TRUE(CryptDestroyHash(hash));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&h, "dh-rev", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET));
}

/* The readable 16-byte generic secrets (KP_ALGID's key bytes for AES-128)
 * that any other session of the process finds on the token. */
static CK_ULONG readable_key_bytes(void)
{
	static const CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	static const CK_KEY_TYPE generic = CKK_GENERIC_SECRET;
	CK_ULONG n = 16;
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE find[] = {
		{ CKA_CLASS, (void *)&cls, sizeof cls },
		{ CKA_KEY_TYPE, (void *)&generic, sizeof generic },
		{ CKA_SENSITIVE, &no, sizeof no },
		{ CKA_VALUE_LEN, &n, sizeof n },
	};
	CK_FUNCTION_LIST *f = testutil_softhsm();
	CK_SESSION_HANDLE sess = testutil_softhsm_session(label, false, true);
	CK_OBJECT_HANDLE objs[8];
	CK_ULONG got = 0;

	CU_ASSERT_EQUAL_FATAL(f->C_FindObjectsInit(sess, find, 4), CKR_OK);
	CU_ASSERT_EQUAL(f->C_FindObjects(sess, objs, 8, &got), CKR_OK);
	f->C_FindObjectsFinal(sess);
	f->C_CloseSession(sess);
	return got;
}

/* KP_ALGID reads the session key's n bytes from a readable derived
 * object. A token that will not destroy it: the bytes of a key that is
 * not exportable stay readable on the token, to every session of the
 * process, until the context is released (ts->retire only acts then);
 * the SIMPLEBLOB import in the same case drops the session at once
 * (import.c, ts.lost). */
static void test_review_readable_bytes_left(void)
{
	static const ALG_ID aes = CALG_AES_128;
	const struct p11shim_ops *shim = fixture_shim();
	char *shim_uri = fixture_token_uri_shim(label, true);
	HCRYPTPROV h;
	HCRYPTKEY a, b, s;
	BYTE *blob;
	DWORD len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	CU_ASSERT_PTR_NOT_NULL_FATAL(shim_uri);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, shim_uri, PROV_DSS_DH,
						  CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16, &a));
	b = pregen_like(h, CALG_DH_EPHEM, a);
	blob = export_blob(b, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, a, 0, &s));
	shim->reset();
	shim->fail("C_DestroyObject", 0, CKR_ACTION_PROHIBITED);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptSetKeyParam(s, KP_ALGID, (const BYTE *)&aes, 0));
	shim->reset();
	/* Any other session of the process. */
	CU_ASSERT_EQUAL(readable_key_bytes(), 0);
	CU_ASSERT_TRUE(CryptDestroyKey(s));
	CU_ASSERT_TRUE(CryptDestroyKey(b));
	CU_ASSERT_TRUE(CryptDestroyKey(a));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(blob);
	free(shim_uri);
}

/* A static DH key of a DSA-style group (p - 1 = q * j, j with small
 * factors: the groups of Microsoft's DH3/DH4 blobs, which carry q), here
 * imported from a DH4 blob that names q, not exportable. A partner's y of
 * order 3 passes 1 < y < p - 1; the agreed secret is y^x, one of three
 * numbers: with an exportable agreed key (the partner's choice), each
 * such y gives x mod r of the non-exportable key, and enough small r
 * give x (Lim and Lee's small-subgroup attack). This x is 2 mod 3: the
 * session key is the low 16 bytes of y3^2 mod p, reversed (of 3
 * candidates; an x of 0 mod 3 gives the secret 1, which SoftHSM's
 * OpenSSL refuses). A partner whose y^q is not 1 must be refused when q
 * is known. Numbers: a prime p = 210 * m * q + 1 made for this test,
 * the key bytes by Python's pow. */
static void test_review_small_subgroup(void)
{
	static const char p_le[] = "618381e198f1e04e66e07c6e18f98d43670d01ba4ae533d7c5b2a021970e4c2943ab21f0aee948b5442375408a5198d1c3e4e53d0358b375b8cd1a98e9239f8e";
	static const char q_le[] = "533e7105b03bd7a6226e8e253ee6bc6a576558bc";
	static const char g_le[] = "19af68406f626af2565a9286e39f54c9c144bd8b85768947be7d3aa4c1296d869103a4118c0af923f4195d8b7019d8f7da52d13be7728088a01fc5eda343ec0e";
	static const char x_le[] = "cc21596822ea9dea82107961fdc10016867afc7e";
	static const char y_le[] = "7ea4673d209d961c5189f782ab70eafcf2091d1692829581ce703431807538bddea1642cd0a963a6494681872360154e7489334f10aa3957ad34bcb1126af46f";
	static const char y3_le[] = "3b8733d63341adf6774061a0c2d3e05253e6b827f93219688df3f683eb4b66056644c3ad842126bc4e3cf0e315ab4671da23d3475d402b59a4af25b621db5953";
	static const char k2[] = "25fc4d0b65b03358ee9f1bce5525adf0";
	static const ALG_ID aes = CALG_AES_128;
	BYTE priv[52 + 64 + 20 + 64 + 64 + 20], pub[16 + 64], *v;
	BYTE plain_blob[64];
	DWORD plain_len = sizeof plain_blob;
	size_t v_len, off;
	HCRYPTPROV h;
	HCRYPTKEY k, s;
	char *hex;

	memset(priv, 0, sizeof priv);
	priv[0] = PRIVATEKEYBLOB;
	priv[1] = 3;
	testutil_le32_put(priv + 4, CALG_DH_SF);
	testutil_le32_put(priv + 8, 0x34484400);      /* "\0DH4" */
	testutil_le32_put(priv + 12, 512);
	testutil_le32_put(priv + 16, 160);
	testutil_le32_put(priv + 20, 0);
	testutil_le32_put(priv + 24, 160);
	testutil_le32_put(priv + 28, 0xffffffff);
	off = 52;
#define PUT(hexs, width) do { \
		v = hex_bytes(hexs, &v_len); \
		CU_ASSERT_FATAL(v_len <= (width)); \
		memcpy(priv + off, v, v_len); \
		free(v); \
		off += (width); \
	} while (0)
	PUT(p_le, 64);
	PUT(q_le, 20);
	PUT(g_le, 64);
	PUT(y_le, 64);
	PUT(x_le, 20);
#undef PUT
	CU_ASSERT_EQUAL_FATAL(off, sizeof priv);
	memset(pub, 0, sizeof pub);
	pub[0] = PUBLICKEYBLOB;
	pub[1] = 2;
	testutil_le32_put(pub + 4, CALG_DH_SF);
	testutil_le32_put(pub + 8, 0x31484400);
	testutil_le32_put(pub + 12, 512);
	v = hex_bytes(y3_le, &v_len);
	memcpy(pub + 16, v, v_len);
	free(v);

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, sizeof priv, 0, 0, &k));
	s = 0;
	SetLastError(SENTINEL);
	if (CryptImportKey(h, pub, sizeof pub, k, CRYPT_EXPORTABLE, &s)) {
		CU_ASSERT_TRUE(CryptSetKeyParam(s, KP_ALGID, (const BYTE *)&aes, 0));
		CU_ASSERT_TRUE(CryptExportKey(s, 0, PLAINTEXTKEYBLOB, 0, plain_blob, &plain_len));
		hex = testutil_hex_new(plain_blob + 12, plain_len - 12);
		/* Shown, then failed: the session key is the constant. */
		CU_ASSERT_STRING_EQUAL(hex, k2);
		CU_FAIL("a partner y of order 3 was taken: the session key tells x mod 3");
		free(hex);
		CryptDestroyKey(s);
	} else {
		CU_ASSERT_EQUAL(GetLastError(), NTE_BAD_DATA);
	}
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* The group of test_review_small_subgroup: p = 210 * m * q + 1 with
 * g of order q, x, y = g^x, all little-endian hex; the values below were
 * computed with Python's pow, independently of capi11 and the token. */
static const char sg_p[] = "618381e198f1e04e66e07c6e18f98d43670d01ba4ae533d7c5b2a021970e4c2943ab21f0aee948b5442375408a5198d1c3e4e53d0358b375b8cd1a98e9239f8e";
static const char sg_q[] = "533e7105b03bd7a6226e8e253ee6bc6a576558bc";
static const char sg_g[] = "19af68406f626af2565a9286e39f54c9c144bd8b85768947be7d3aa4c1296d869103a4118c0af923f4195d8b7019d8f7da52d13be7728088a01fc5eda343ec0e";
static const char sg_x[] = "cc21596822ea9dea82107961fdc10016867afc7e";
static const char sg_y[] = "7ea4673d209d961c5189f782ab70eafcf2091d1692829581ce703431807538bddea1642cd0a963a6494681872360154e7489334f10aa3957ad34bcb1126af46f";
/* A partner in the subgroup: z = g^k, k = 0x1234567890abcdef1234567890abcdef12345678. */
static const char sg_z[] = "f1227c268c92463150b505f2cbbb0dd1adba0f429ded52c9174c5a5bd3306841c5ac29b16d5c198b43e36626cff3a1887887740d820c7599c560ee395aedf93a";
/* The AES-128 key of the agreement of x with z: the low 16 bytes of
 * z^x mod p, least significant first. */
static const char sg_zx_aes[] = "1f76f4e588667232500598c88d3116da";
/* A partner of order 3: y3^3 = 1. */
static const char sg_y3[] = "3b8733d63341adf6774061a0c2d3e05253e6b827f93219688df3f683eb4b66056644c3ad842126bc4e3cf0e315ab4671da23d3475d402b59a4af25b621db5953";
/* 2 is not in the subgroup (2^q != 1); 2^x mod p. */
static const char sg_y_of_2[] = "ec3c0c902d8a8cfa43ad60129bb14bd38b0c5c2f1ab81939c2f3b723e2b60f54f254bc05a763c4c0f2e4462661a1cddee2fc085041dd0ada29f23b7aff888285";

/* Copies a little-endian hex number into a field of width bytes. */
static void put_hex(BYTE *field, size_t width, const char *hex)
{
	size_t len;
	BYTE *v = hex_bytes(hex, &len);

	CU_ASSERT_FATAL(v != NULL && len <= width);
	memset(field, 0, width);
	memcpy(field, v, len);
	free(v);
}

/* A 512-bit DH4 PRIVATEKEYBLOB with q (bitlenQ 160, no J, no seed). */
static void dh4_blob(BYTE blob[52 + 64 + 20 + 64 + 64 + 20], const char *g, const char *y)
{
	memset(blob, 0, 52);
	blob[0] = PRIVATEKEYBLOB;
	blob[1] = 3;
	testutil_le32_put(blob + 4, CALG_DH_SF);
	testutil_le32_put(blob + 8, 0x34484400);      /* "\0DH4" */
	testutil_le32_put(blob + 12, 512);
	testutil_le32_put(blob + 16, 160);
	testutil_le32_put(blob + 20, 0);
	testutil_le32_put(blob + 24, 160);
	testutil_le32_put(blob + 28, 0xffffffff);
	put_hex(blob + 52, 64, sg_p);
	put_hex(blob + 116, 20, sg_q);
	put_hex(blob + 136, 64, g);
	put_hex(blob + 200, 64, y);
	put_hex(blob + 264, 20, sg_x);
}

/* A 512-bit DH1 PUBLICKEYBLOB of y. */
static void dh1_of(BYTE blob[16 + 64], const char *y)
{
	memset(blob, 0, 16);
	blob[0] = PUBLICKEYBLOB;
	blob[1] = 2;
	testutil_le32_put(blob + 4, CALG_DH_SF);
	testutil_le32_put(blob + 8, 0x31484400);
	testutil_le32_put(blob + 12, 512);
	put_hex(blob + 16, 64, y);
}

/* Agrees k with the partner y into an exportable AES-128 key and checks
 * its bytes against want (hex). */
static void agree_expect(HCRYPTPROV h, HCRYPTKEY k, const char *y, const char *want)
{
	static const ALG_ID aes = CALG_AES_128;
	BYTE pub[16 + 64], plain_blob[64];
	DWORD plain_len = sizeof plain_blob;
	HCRYPTKEY s;
	char *hex;

	dh1_of(pub, y);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, pub, sizeof pub, k, CRYPT_EXPORTABLE, &s));
	CU_ASSERT_TRUE(CryptSetKeyParam(s, KP_ALGID, (const BYTE *)&aes, 0));
	CU_ASSERT_TRUE(CryptExportKey(s, 0, PLAINTEXTKEYBLOB, 0, plain_blob, &plain_len));
	CU_ASSERT_EQUAL_FATAL(plain_len, 12 + 16);
	hex = testutil_hex_new(plain_blob + 12, 16);
	CU_ASSERT_STRING_EQUAL(hex, want);
	free(hex);
	CU_ASSERT_TRUE(CryptDestroyKey(s));
}

/* The other side of test_review_small_subgroup: a partner inside the
 * subgroup of order q agrees as before, and gives the secret Python's pow
 * computes; q reads back from the key (KP_Q). */
static void test_review_subgroup_member(void)
{
	BYTE priv[52 + 64 + 20 + 64 + 64 + 20], pub[16 + 64], *got;
	DWORD got_len;
	HCRYPTPROV h;
	HCRYPTKEY k, s;
	char *hex;

	dh4_blob(priv, sg_g, sg_y);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, sizeof priv, 0, 0, &k));
	got = param_le(k, KP_Q, &got_len);
	hex = testutil_hex_new(got, got_len);
	CU_ASSERT_STRING_EQUAL(hex, sg_q);
	free(hex);
	free(got);
	agree_expect(h, k, sg_z, sg_zx_aes);
	/* And the order-3 partner is refused with nothing made. */
	dh1_of(pub, sg_y3);
	CHECK_FAILS_WITH(CryptImportKey(h, pub, sizeof pub, k, CRYPT_EXPORTABLE, &s),
			 NTE_BAD_DATA);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* A DH4 blob whose g lies outside the subgroup of its q describes no
 * DSA-style group: NTE_BAD_DATA, nothing left on the token. */
static void test_review_dh4_g_outside(void)
{
	BYTE priv[52 + 64 + 20 + 64 + 64 + 20];
	HCRYPTPROV h;
	HCRYPTKEY k;
	int before;

	dh4_blob(priv, "02", sg_y_of_2);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	before = all_objects();
	CHECK_FAILS_WITH(CryptImportKey(h, priv, sizeof priv, 0, 0, &k), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(all_objects(), before);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* A DH4 blob's q is held at import to the rules a stored q is held to when
 * the key is opened again: q = p - 1 (even, and every y^(p-1) = 1, so a
 * check against it would pass anything) is NTE_BAD_DATA, nothing made. */
static void test_review_dh4_q_p_minus_1(void)
{
	BYTE priv[52 + 64 + 64 + 64 + 64 + 20];
	char pm1[sizeof sg_p];
	HCRYPTPROV h;
	HCRYPTKEY k = 0;
	int before;

	memcpy(pm1, sg_p, sizeof sg_p);
	CU_ASSERT_EQUAL_FATAL(pm1[1], '1');
	pm1[1] = '0';                     /* p is odd: p - 1 in its lowest byte */
	memset(priv, 0, 52);
	priv[0] = PRIVATEKEYBLOB;
	priv[1] = 3;
	testutil_le32_put(priv + 4, CALG_DH_SF);
	testutil_le32_put(priv + 8, 0x34484400);      /* "\0DH4" */
	testutil_le32_put(priv + 12, 512);
	testutil_le32_put(priv + 16, 512);            /* bitlenQ: q = p - 1 */
	testutil_le32_put(priv + 20, 0);
	testutil_le32_put(priv + 24, 160);
	testutil_le32_put(priv + 28, 0xffffffff);
	put_hex(priv + 52, 64, sg_p);
	put_hex(priv + 116, 64, pm1);
	put_hex(priv + 180, 64, sg_g);
	put_hex(priv + 244, 64, sg_y);
	put_hex(priv + 308, 20, sg_x);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	before = all_objects();
	CHECK_FAILS_WITH(CryptImportKey(h, priv, sizeof priv, 0, 0, &k), NTE_BAD_DATA);
	CU_ASSERT_EQUAL(all_objects(), before);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* CRYPT_PREGEN with KP_Q: the pair keeps q, so a partner outside the
 * subgroup is refused and one inside agrees; a g outside it is refused at
 * KP_X. */
static void test_review_pregen_q(void)
{
	CRYPT_DATA_BLOB pb, qb, gb, two;
	BYTE pub[16 + 64], two_byte = 2, *q_got;
	DWORD q_got_len;
	size_t len;
	HCRYPTPROV h;
	HCRYPTKEY k, s;

	pb.pbData = hex_bytes(sg_p, &len);
	pb.cbData = (DWORD)len;
	qb.pbData = hex_bytes(sg_q, &len);
	qb.cbData = (DWORD)len;
	gb.pbData = hex_bytes(sg_g, &len);
	gb.cbData = (DWORD)len;
	two.pbData = &two_byte;
	two.cbData = 1;
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16 | CRYPT_PREGEN, &k));
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_P, (const BYTE *)&pb, 0));
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_Q, (const BYTE *)&qb, 0));
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_G, (const BYTE *)&two, 0));
	CHECK_FAILS_WITH(CryptSetKeyParam(k, KP_X, NULL, 0), NTE_BAD_DATA);
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_G, (const BYTE *)&gb, 0));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(k, KP_X, NULL, 0));
	q_got = param_le(k, KP_Q, &q_got_len);
	CU_ASSERT_TRUE(q_got_len == qb.cbData && memcmp(q_got, qb.pbData, qb.cbData) == 0);
	free(q_got);
	dh1_of(pub, sg_y3);
	CHECK_FAILS_WITH(CryptImportKey(h, pub, sizeof pub, k, CRYPT_EXPORTABLE, &s),
			 NTE_BAD_DATA);
	dh1_of(pub, sg_z);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptImportKey(h, pub, sizeof pub, k, 0, &s) && CryptDestroyKey(s));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(pb.pbData);
	free(qb.pbData);
	free(gb.pbData);
}

/* KP_ALGID on a token that opens no further session and will not destroy
 * the readable object: the bytes are derived on the key's session, which
 * is then dropped (and its objects with it) at the next entry, and
 * KP_ALGID fails rather than leave them. */
static void test_review_readable_bytes_no_scratch(void)
{
	static const ALG_ID aes = CALG_AES_128;
	const struct p11shim_ops *shim = fixture_shim();
	char *shim_uri = fixture_token_uri_shim(label, true);
	HCRYPTPROV h;
	HCRYPTKEY a, b, s;
	BYTE *blob;
	DWORD len, alg;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	CU_ASSERT_PTR_NOT_NULL_FATAL(shim_uri);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, NULL, shim_uri, PROV_DSS_DH,
						  CRYPT_VERIFYCONTEXT));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_EPHEM, 512 << 16, &a));
	b = pregen_like(h, CALG_DH_EPHEM, a);
	blob = export_blob(b, PUBLICKEYBLOB, 0, &len);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, blob, len, a, 0, &s));
	shim->reset();
	shim->fail("C_OpenSession", 0, CKR_SESSION_COUNT);
	shim->fail("C_DestroyObject", 0, CKR_ACTION_PROHIBITED);
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptSetKeyParam(s, KP_ALGID, (const BYTE *)&aes, 0));
	CU_ASSERT_NOT_EQUAL(GetLastError(), SENTINEL);
	CU_ASSERT_EQUAL(shim->count("C_DeriveKey"), 1);
	shim->reset();
	/* The next entry into the context drops the session. */
	len = sizeof alg;
	CryptGetKeyParam(s, KP_ALGID, (BYTE *)&alg, &len, 0);
	CU_ASSERT_EQUAL(readable_key_bytes(), 0);
	CryptDestroyKey(s);
	CryptDestroyKey(b);
	CryptDestroyKey(a);
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	free(blob);
	free(shim_uri);
}

/* The application of the data object that keeps a stored DH pair's q
 * (README, "Small subgroups"). */
#define Q_APPLICATION "capi11 DH subgroup order q"

/* The q objects of a container, as SoftHSM shows them to a logged-in
 * session; up to 8 handles in objs (may be NULL). */
static int q_objects(const char *container, CK_OBJECT_HANDLE *objs)
{
	CK_FUNCTION_LIST *f = testutil_softhsm();
	CK_SESSION_HANDLE s = testutil_softhsm_session(label, false, true);
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, (void *)container, strlen(container) },
		{ CKA_APPLICATION, (void *)Q_APPLICATION, strlen(Q_APPLICATION) },
	};
	CK_OBJECT_HANDLE found[8];
	CK_ULONG got = 0;

	CU_ASSERT_EQUAL_FATAL(f->C_FindObjectsInit(s, tmpl, 3), CKR_OK);
	CU_ASSERT_EQUAL_FATAL(f->C_FindObjects(s, found, 8, &got), CKR_OK);
	f->C_FindObjectsFinal(s);
	f->C_CloseSession(s);
	if (objs != NULL)
		memcpy(objs, found, got * sizeof *found);
	return (int)got;
}

/* The stored q object's CKA_VALUE (the pair's CKA_ID, 16 bytes, then q
 * big-endian) read straight from SoftHSM. */
static void q_value(const char *container, BYTE *value, CK_ULONG *len)
{
	CK_FUNCTION_LIST *f = testutil_softhsm();
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj;
	CK_ATTRIBUTE a = { CKA_VALUE, value, *len };

	CU_ASSERT_EQUAL_FATAL(q_objects(container, &obj), 1);
	s = testutil_softhsm_session(label, false, true);
	CU_ASSERT_EQUAL(f->C_GetAttributeValue(s, obj, &a, 1), CKR_OK);
	*len = a.ulValueLen;
	f->C_CloseSession(s);
}

/* Replaces the container's q object with one of this value, private or
 * public, as another program holding the PIN could (SoftHSM lets no
 * data object's value change in place). */
static void q_replace(const char *container, const BYTE *value, CK_ULONG len, bool private)
{
	CK_FUNCTION_LIST *f = testutil_softhsm();
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, priv = private ? CK_TRUE : CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &priv, sizeof priv },
		{ CKA_LABEL, (void *)container, strlen(container) },
		{ CKA_APPLICATION, (void *)Q_APPLICATION, strlen(Q_APPLICATION) },
		{ CKA_VALUE, (void *)value, len },
	};
	CK_OBJECT_HANDLE obj;
	CK_SESSION_HANDLE s;

	CU_ASSERT_EQUAL_FATAL(q_objects(container, &obj), 1);
	s = testutil_softhsm_session(label, true, true);
	CU_ASSERT_EQUAL(f->C_DestroyObject(s, obj), CKR_OK);
	CU_ASSERT_EQUAL(f->C_CreateObject(s, tmpl, 6, &obj), CKR_OK);
	f->C_CloseSession(s);
}

/* The private key's CKA_ID of a container's one private key. */
static void private_key_id(const char *container, BYTE id[16])
{
	CK_FUNCTION_LIST *f = testutil_softhsm();
	CK_SESSION_HANDLE s = testutil_softhsm_session(label, false, true);
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, (void *)container, strlen(container) },
	};
	CK_ATTRIBUTE a = { CKA_ID, id, 16 };
	CK_OBJECT_HANDLE obj;
	CK_ULONG got = 0;

	CU_ASSERT_EQUAL_FATAL(f->C_FindObjectsInit(s, tmpl, 2), CKR_OK);
	CU_ASSERT_EQUAL_FATAL(f->C_FindObjects(s, &obj, 1, &got), CKR_OK);
	f->C_FindObjectsFinal(s);
	CU_ASSERT_EQUAL_FATAL(got, 1);
	CU_ASSERT_EQUAL(f->C_GetAttributeValue(s, obj, &a, 1), CKR_OK);
	CU_ASSERT_EQUAL(a.ulValueLen, 16);
	f->C_CloseSession(s);
}

/* Opens the container again in a context of its own and checks what its
 * DH key does with an order-3 partner and an in-subgroup one. */
static void reopened_agrees(const char *container)
{
	BYTE pub[16 + 64], *got;
	DWORD got_len;
	HCRYPTPROV h;
	HCRYPTKEY k, s;
	char *hex;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, container, uri, PROV_DSS_DH, 0));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	/* q read back from the token: the one the blob gave. */
	got = param_le(k, KP_Q, &got_len);
	hex = testutil_hex_new(got, got_len);
	CU_ASSERT_STRING_EQUAL(hex, sg_q);
	free(hex);
	free(got);
	dh1_of(pub, sg_y3);
	CHECK_FAILS_WITH(CryptImportKey(h, pub, sizeof pub, k, CRYPT_EXPORTABLE, &s),
			 NTE_BAD_DATA);
	agree_expect(h, k, sg_z, sg_zx_aes);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* Opens the container again: its DH key opens, and agreement with any
 * partner, even one inside the subgroup, is refused with NTE_BAD_KEY. */
static void reopened_refuses(const char *container)
{
	BYTE pub[16 + 64];
	HCRYPTPROV h;
	HCRYPTKEY k, s;
	int before;

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, container, uri, PROV_DSS_DH, 0));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	before = all_objects();
	dh1_of(pub, sg_z);
	CHECK_FAILS_WITH(CryptImportKey(h, pub, sizeof pub, k, 0, &s), NTE_BAD_KEY);
	dh1_of(pub, sg_y3);
	CHECK_FAILS_WITH(CryptImportKey(h, pub, sizeof pub, k, CRYPT_EXPORTABLE, &s),
			 NTE_BAD_KEY);
	CU_ASSERT_EQUAL(all_objects(), before);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
}

/* A non-exportable DH key of a DSA-style group imported into a container
 * from a DH4 blob with q: opened again in a new context, it still refuses
 * the order-3 partner and agrees with one inside the subgroup (the secret
 * Python's pow gives), as q is stored with the pair. Replacing the pair
 * leaves one q object; CRYPT_DELETEKEYSET leaves none. */
static void test_stored_q(void)
{
	BYTE priv[52 + 64 + 20 + 64 + 64 + 20], id[16], value[64];
	CK_ULONG value_len = sizeof value;
	HCRYPTPROV h, hd;
	HCRYPTKEY k;
	BYTE *q_be;
	size_t q_len;
	int before;

	before = all_objects();
	dh4_blob(priv, sg_g, sg_y);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q", uri, PROV_DSS_DH, CRYPT_NEWKEYSET));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, sizeof priv, 0, 0, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* One q object: the pair's ID (capi11's magic, spec byte 0x81: an
	 * exchange pair with q stored), then q big-endian. */
	CU_ASSERT_EQUAL(q_objects("dh-q", NULL), 1);
	private_key_id("dh-q", id);
	CU_ASSERT_TRUE(id[0] == 0xca && id[1] == 0x11 && id[2] == 0x4b && id[3] == 0x53);
	CU_ASSERT_EQUAL(id[4], 0x81);
	q_value("dh-q", value, &value_len);
	q_be = hex_bytes(sg_q, &q_len);
	CU_ASSERT_FATAL(q_be != NULL && value_len == 16 + q_len);
	CU_ASSERT_EQUAL(memcmp(value, id, 16), 0);
	for (size_t i = 0; i < q_len; i++)
		CU_ASSERT_EQUAL(value[16 + i], q_be[q_len - 1 - i]);
	free(q_be);

	reopened_agrees("dh-q");

	/* The pair replaced by the same import: still one q object, the new
	 * pair's. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q", uri, PROV_DSS_DH, 0));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, sizeof priv, 0, 0, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_EQUAL(q_objects("dh-q", NULL), 1);
	CU_ASSERT_EQUAL(private_keys("dh-q"), 1);
	private_key_id("dh-q", id);
	value_len = sizeof value;
	q_value("dh-q", value, &value_len);
	CU_ASSERT_EQUAL(memcmp(value, id, 16), 0);
	reopened_agrees("dh-q");

	/* A pair without q (the token's own group) replaces it: no q object
	 * is left. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q", uri, PROV_DSS_DH, 0));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_SF, 512 << 16, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_EQUAL(q_objects("dh-q", NULL), 0);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q", uri, PROV_DSS_DH, 0));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, sizeof priv, 0, 0, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_EQUAL(q_objects("dh-q", NULL), 1);

	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptAcquireContextA(&hd, "dh-q", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET));
	CU_ASSERT_EQUAL(q_objects("dh-q", NULL), 0);
	CU_ASSERT_EQUAL(all_objects(), before);
}

/* Sets the CKA_ID of every key object labelled container to id (len
 * bytes, 0: empty), as a pair made by another tool without an ID has it. */
static void keys_set_id(const char *container, const BYTE *id, CK_ULONG len)
{
	CK_FUNCTION_LIST *f = testutil_softhsm();
	CK_SESSION_HANDLE s = testutil_softhsm_session(label, true, true);
	CK_KEY_TYPE dh = CKK_DH;
	CK_ATTRIBUTE find[] = {
		{ CKA_KEY_TYPE, &dh, sizeof dh },
		{ CKA_LABEL, (void *)container, strlen(container) },
	};
	CK_ATTRIBUTE a = { CKA_ID, (void *)id, len };
	CK_OBJECT_HANDLE objs[8];
	CK_ULONG got = 0;

	CU_ASSERT_EQUAL_FATAL(f->C_FindObjectsInit(s, find, 2), CKR_OK);
	CU_ASSERT_EQUAL_FATAL(f->C_FindObjects(s, objs, 8, &got), CKR_OK);
	f->C_FindObjectsFinal(s);
	CU_ASSERT_EQUAL(got, 2);
	for (CK_ULONG i = 0; i < got; i++)
		CU_ASSERT_EQUAL(f->C_SetAttributeValue(s, objs[i], &a, 1), CKR_OK);
	f->C_CloseSession(s);
}

/* A container whose DH pair has an empty CKA_ID (made by another tool)
 * gets a pair with q by a DH4 import, which replaces the old pair: the new
 * pair's q object must survive the replacement, so that the container's
 * key, opened again, still agrees with partners inside the subgroup and
 * refuses the order-3 one. (Fails on the current code: the old pair's
 * empty ID is a prefix of every q object's value, and the replacement
 * destroys the new pair's q object; the key then refuses all agreement.)
 * The same holds for an old ID that is a prefix of capi11's magic. */
static void test_review_replace_foreign_id(void)
{
	BYTE priv[52 + 64 + 20 + 64 + 64 + 20];
	static const BYTE prefix[] = { 0xca };
	const BYTE *ids[] = { NULL, prefix };
	const CK_ULONG id_lens[] = { 0, sizeof prefix };
	HCRYPTPROV h, hd;
	HCRYPTKEY k;

	dh4_blob(priv, sg_g, sg_y);
	for (size_t i = 0; i < 2; i++) {
		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q-foreign", uri, PROV_DSS_DH,
							  CRYPT_NEWKEYSET));
		CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_SF, 512 << 16, &k));
		CU_ASSERT_TRUE(CryptDestroyKey(k));
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
		keys_set_id("dh-q-foreign", ids[i], id_lens[i]);

		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q-foreign", uri, PROV_DSS_DH, 0));
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, sizeof priv, 0, 0, &k));
		CU_ASSERT_TRUE(CryptDestroyKey(k));
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
		CU_ASSERT_EQUAL(private_keys("dh-q-foreign"), 1);
		CU_ASSERT_EQUAL(q_objects("dh-q-foreign", NULL), 1);
		if (q_objects("dh-q-foreign", NULL) == 1)
			reopened_agrees("dh-q-foreign");
		CU_ASSERT_TRUE(CryptAcquireContextA(&hd, "dh-q-foreign", uri, PROV_DSS_DH,
						    CRYPT_DELETEKEYSET));
	}
}

/* A stored pair with q is opened through a token that does not show its
 * CKA_ID at that moment (p11shim_set_attribute's UNREADABLE, as a read
 * that fails would): capi11 cannot read the mark that says q is stored,
 * and must not then agree unchecked. The order-3 partner must be refused
 * (NTE_BAD_KEY, or NTE_BAD_DATA if q was found another way). (Fails on
 * the current code: dh_q_load_locked returns quietly when the ID read
 * fails, and the agreement runs without the y^q = 1 check.) */
static void test_review_id_unreadable(void)
{
	char *shim_uri = fixture_token_uri_shim(label, true);
	void (*set_attribute)(CK_ATTRIBUTE_TYPE, int) = NULL;
	BYTE priv[52 + 64 + 20 + 64 + 64 + 20], pub[16 + 64];
	void *mod;
	HCRYPTPROV h, hd;
	HCRYPTKEY k, s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim_uri);
	mod = fixture_shim_path() ? dlopen(fixture_shim_path(), RTLD_NOW | RTLD_LOCAL) : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(mod);
	*(void **)&set_attribute = dlsym(mod, "p11shim_set_attribute");
	CU_ASSERT_PTR_NOT_NULL_FATAL(set_attribute);
	dh4_blob(priv, sg_g, sg_y);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q-idread", uri, PROV_DSS_DH,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, sizeof priv, 0, 0, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_EQUAL(q_objects("dh-q-idread", NULL), 1);

	set_attribute(CKA_ID, P11SHIM_ATTR_UNREADABLE);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q-idread", shim_uri, PROV_DSS_DH, 0));
	if (CryptGetUserKey(h, AT_KEYEXCHANGE, &k)) {
		dh1_of(pub, sg_y3);
		SetLastError(SENTINEL);
		CU_ASSERT_FALSE(CryptImportKey(h, pub, sizeof pub, k, CRYPT_EXPORTABLE, &s));
		CU_ASSERT(GetLastError() == (DWORD)NTE_BAD_KEY ||
			  GetLastError() == (DWORD)NTE_BAD_DATA);
		CU_ASSERT_TRUE(CryptDestroyKey(k));
	}
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	set_attribute(CKA_ID, 0);
	CU_ASSERT_TRUE(CryptAcquireContextA(&hd, "dh-q-idread", uri, PROV_DSS_DH,
					    CRYPT_DELETEKEYSET));
	free(shim_uri);
}

/* Another program's changes to the stored q, or its removal, make every
 * agreement with the key refuse (NTE_BAD_KEY) rather than run unchecked:
 * a q changed in one bit (still odd, top bit set, below p, but g^q != 1),
 * an even q, q = p - 1 (which every y would pass), a public q object, and
 * no q object at all. */
static void test_stored_q_tampered(void)
{
	BYTE priv[52 + 64 + 20 + 64 + 64 + 20], value[16 + 64], good[16 + 64];
	CK_ULONG value_len = sizeof good, good_len;
	CK_FUNCTION_LIST *f = testutil_softhsm();
	CK_OBJECT_HANDLE obj;
	CK_SESSION_HANDLE s;
	HCRYPTPROV h, hd;
	HCRYPTKEY k;
	BYTE *p_le;
	size_t p_len;

	dh4_blob(priv, sg_g, sg_y);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q-bad", uri, PROV_DSS_DH,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, sizeof priv, 0, 0, &k));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	q_value("dh-q-bad", good, &value_len);
	good_len = value_len;
	CU_ASSERT_FATAL(good_len == 16 + 20);

	/* One bit of q's middle changed. */
	memcpy(value, good, good_len);
	value[16 + 10] ^= 0x10;
	q_replace("dh-q-bad", value, good_len, true);
	reopened_refuses("dh-q-bad");
	/* Even. */
	memcpy(value, good, good_len);
	value[good_len - 1] ^= 0x01;
	q_replace("dh-q-bad", value, good_len, true);
	reopened_refuses("dh-q-bad");
	/* p - 1, big-endian: y^(p-1) = 1 for every y. */
	p_le = hex_bytes(sg_p, &p_len);
	CU_ASSERT_FATAL(p_le != NULL && p_len == 64);
	memcpy(value, good, 16);
	for (size_t i = 0; i < p_len; i++)
		value[16 + i] = p_le[p_len - 1 - i];
	value[16 + 63] &= 0xfe;
	free(p_le);
	q_replace("dh-q-bad", value, 16 + 64, true);
	reopened_refuses("dh-q-bad");
	/* The good value back: the key agrees again. */
	q_replace("dh-q-bad", good, good_len, true);
	reopened_agrees("dh-q-bad");
	/* The good value in a public object (anyone could make one): not
	 * believed. */
	q_replace("dh-q-bad", good, good_len, false);
	reopened_refuses("dh-q-bad");
	/* Two objects for the pair, a good and a bad one: which to believe
	 * is not guessed. */
	q_replace("dh-q-bad", good, good_len, true);
	{
		CK_OBJECT_CLASS cls = CKO_DATA;
		CK_BBOOL yes = CK_TRUE;
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &yes, sizeof yes },
			{ CKA_LABEL, (void *)"dh-q-bad", 8 },
			{ CKA_APPLICATION, (void *)Q_APPLICATION, strlen(Q_APPLICATION) },
			{ CKA_VALUE, value, 16 + 64 },
		};
		CK_OBJECT_HANDLE extra;

		s = testutil_softhsm_session(label, true, true);
		CU_ASSERT_EQUAL(f->C_CreateObject(s, tmpl, 6, &extra), CKR_OK);
		f->C_CloseSession(s);
		reopened_refuses("dh-q-bad");
		s = testutil_softhsm_session(label, true, true);
		CU_ASSERT_EQUAL(f->C_DestroyObject(s, extra), CKR_OK);
		f->C_CloseSession(s);
	}
	reopened_agrees("dh-q-bad");
	CU_ASSERT_EQUAL_FATAL(q_objects("dh-q-bad", &obj), 1);
	s = testutil_softhsm_session(label, true, true);
	/* Removed. */
	CU_ASSERT_EQUAL(f->C_DestroyObject(s, obj), CKR_OK);
	f->C_CloseSession(s);
	CU_ASSERT_EQUAL(q_objects("dh-q-bad", NULL), 0);
	reopened_refuses("dh-q-bad");
	CU_ASSERT_TRUE(CryptAcquireContextA(&hd, "dh-q-bad", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET));
	CU_ASSERT_EQUAL(private_keys("dh-q-bad"), 0);
}

/* A DH4 blob with q and x as wide as p (the form capi11 writes):
 * exported again with CRYPT_BLOB_VER3 it is the same bytes, q included
 * (bitlenQ 160: DHPUBKEY_VER3 gives 0 only for "not available"); the
 * public DH3 blob carries the same p, q, g and y; both read back from a
 * container opened again. */
static void test_stored_q_export(void)
{
	enum { LEN = 52 + 64 + 20 + 64 + 64 + 64, PUB_LEN = 48 + 64 + 20 + 64 + 64 };
	BYTE priv[LEN], *got, *pub;
	DWORD got_len, pub_len;
	HCRYPTPROV h, hd;
	HCRYPTKEY k;

	memset(priv, 0, sizeof priv);
	priv[0] = PRIVATEKEYBLOB;
	priv[1] = 3;
	testutil_le32_put(priv + 4, CALG_DH_SF);
	testutil_le32_put(priv + 8, 0x34484400);      /* "\0DH4" */
	testutil_le32_put(priv + 12, 512);
	testutil_le32_put(priv + 16, 160);
	testutil_le32_put(priv + 20, 0);
	testutil_le32_put(priv + 24, 512);
	testutil_le32_put(priv + 28, 0xffffffff);
	put_hex(priv + 52, 64, sg_p);
	put_hex(priv + 116, 20, sg_q);
	put_hex(priv + 136, 64, sg_g);
	put_hex(priv + 200, 64, sg_y);
	put_hex(priv + 264, 64, sg_x);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q-exp", uri, PROV_DSS_DH,
						  CRYPT_NEWKEYSET));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, sizeof priv, 0, CRYPT_EXPORTABLE, &k));
	got = export_blob(k, PRIVATEKEYBLOB, CRYPT_BLOB_VER3, &got_len);
	CU_ASSERT_TRUE(got_len == sizeof priv && memcmp(got, priv, sizeof priv) == 0);
	free(got);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));

	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q-exp", uri, PROV_DSS_DH, 0));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	got = export_blob(k, PRIVATEKEYBLOB, CRYPT_BLOB_VER3, &got_len);
	CU_ASSERT_TRUE(got_len == sizeof priv && memcmp(got, priv, sizeof priv) == 0);
	free(got);
	/* DH3: magic "\0DH3", bitlenP, bitlenQ, bitlenJ, seed, then p q g y. */
	pub = export_blob(k, PUBLICKEYBLOB, CRYPT_BLOB_VER3, &pub_len);
	CU_ASSERT_EQUAL_FATAL(pub_len, PUB_LEN);
	CU_ASSERT_EQUAL(pub[0], PUBLICKEYBLOB);
	CU_ASSERT_EQUAL(pub[1], 3);
	CU_ASSERT_EQUAL(testutil_le32(pub + 8), 0x33484400);
	CU_ASSERT_EQUAL(testutil_le32(pub + 12), 512);
	CU_ASSERT_EQUAL(testutil_le32(pub + 16), 160);
	CU_ASSERT_EQUAL(testutil_le32(pub + 20), 0);
	CU_ASSERT_EQUAL(memcmp(pub + 48, priv + 52, 64 + 20 + 64 + 64), 0);
	/* openssl reads the blob's numbers as an X9.42 key (dhpublicnumber:
	 * p, g, q) and finds y valid in the subgroup of order q. */
	{
		char *hp = le_hex(pub + 48, 64), *hq = le_hex(pub + 112, 20);
		char *hg = le_hex(pub + 132, 64), *hy = le_hex(pub + 196, 64);
		char conf[8192], *pem, *field, *want;
		const char *names[] = { "P", "Q", "G", "public-key" };
		const char *wants[] = { sg_p, sg_q, sg_g, sg_y };
		BYTE *w;
		size_t w_len;

		snprintf(conf, sizeof conf,
			 "asn1=SEQUENCE:spki\n[spki]\nalg=SEQUENCE:alg\nkey=BITWRAP,INTEGER:0x%s\n"
			 "[alg]\noid=OID:1.2.840.10046.2.1\nparams=SEQUENCE:params\n"
			 "[params]\np=INTEGER:0x%s\ng=INTEGER:0x%s\nq=INTEGER:0x%s\n",
			 hy, hp, hg, hq);
		pem = pem_from_genconf(conf, "PUBLIC KEY");
		for (size_t i = 0; i < 4; i++) {
			field = openssl_field(pem, false, names[i]);
			w = hex_bytes(wants[i], &w_len);
			want = le_hex(w, w_len);
			CU_ASSERT_STRING_EQUAL(field, want);
			free(field);
			free(want);
			free(w);
		}
		CU_ASSERT_EQUAL(fixture_run("%s pkey -pubin -in %s -pubcheck -noout >/dev/null 2>&1",
					    OPENSSL_BIN, pem), 0);
		free(pem);
		free(hp);
		free(hq);
		free(hg);
		free(hy);
	}
	free(pub);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&hd, "dh-q-exp", uri, PROV_DSS_DH, CRYPT_DELETEKEYSET));
}

/* CRYPT_PREGEN of a container's CALG_DH_SF key with KP_Q: q is stored
 * with the pair as at import. */
static void test_stored_q_pregen(void)
{
	CRYPT_DATA_BLOB pb, qb, gb;
	size_t len;
	HCRYPTPROV h, hd;
	HCRYPTKEY k;

	pb.pbData = hex_bytes(sg_p, &len);
	pb.cbData = (DWORD)len;
	qb.pbData = hex_bytes(sg_q, &len);
	qb.cbData = (DWORD)len;
	gb.pbData = hex_bytes(sg_g, &len);
	gb.cbData = (DWORD)len;
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q-pregen", uri, PROV_DSS_DH,
						  CRYPT_NEWKEYSET));
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, CALG_DH_SF, 512 << 16 | CRYPT_PREGEN, &k));
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_P, (const BYTE *)&pb, 0));
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_Q, (const BYTE *)&qb, 0));
	CU_ASSERT_TRUE(CryptSetKeyParam(k, KP_G, (const BYTE *)&gb, 0));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptSetKeyParam(k, KP_X, NULL, 0));
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_EQUAL(q_objects("dh-q-pregen", NULL), 1);
	{
		BYTE pub[16 + 64];
		HCRYPTKEY s;

		CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q-pregen", uri, PROV_DSS_DH, 0));
		CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
		dh1_of(pub, sg_y3);
		CHECK_FAILS_WITH(CryptImportKey(h, pub, sizeof pub, k, CRYPT_EXPORTABLE, &s),
				 NTE_BAD_DATA);
		dh1_of(pub, sg_z);
		SetLastError(SENTINEL);
		CU_ASSERT_TRUE(CryptImportKey(h, pub, sizeof pub, k, 0, &s) && CryptDestroyKey(s));
		CU_ASSERT_TRUE(CryptDestroyKey(k));
		CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	}
	CU_ASSERT_TRUE(CryptAcquireContextA(&hd, "dh-q-pregen", uri, PROV_DSS_DH,
					    CRYPT_DELETEKEYSET));
	CU_ASSERT_EQUAL(q_objects("dh-q-pregen", NULL), 0);
	free(pb.pbData);
	free(qb.pbData);
	free(gb.pbData);
}

/* Storing q on a token that refuses it, or fails: a refused data object
 * (OpenSC PIV and ykcs11 refuse every one) leaves the pair stored without
 * q and without the mark in its ID, working as before (its partners
 * checked through the importing handle alone); any other failure of the q
 * object, or of the pair after it, fails the import and leaves nothing on
 * the token. The calls through the shim, in order: C_CreateObject of the
 * temporary key checking g^q = 1, of the q object, of the private key. */
static void test_stored_q_token_refuses(void)
{
	const struct p11shim_ops *shim = fixture_shim();
	char *shim_uri = fixture_token_uri_shim(label, true);
	BYTE priv[52 + 64 + 20 + 64 + 64 + 20], pub[16 + 64], id[16], *got;
	DWORD got_len;
	HCRYPTPROV h, hd;
	HCRYPTKEY k, s;
	int before;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	CU_ASSERT_PTR_NOT_NULL_FATAL(shim_uri);
	dh4_blob(priv, sg_g, sg_y);
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q-fail", shim_uri, PROV_DSS_DH,
						  CRYPT_NEWKEYSET));
	before = all_objects();
	/* The q object fails (not a refusal): nothing made. */
	shim->reset();
	shim->fail("C_CreateObject", 2, CKR_DEVICE_ERROR);
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptImportKey(h, priv, sizeof priv, 0, 0, &k));
	CU_ASSERT_NOT_EQUAL(GetLastError(), SENTINEL);
	CU_ASSERT_EQUAL(shim->count("C_CreateObject"), 2);
	CU_ASSERT_EQUAL(all_objects(), before);
	/* The private key fails after the q object was made: it goes too. */
	shim->reset();
	shim->fail("C_CreateObject", 3, CKR_DEVICE_ERROR);
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptImportKey(h, priv, sizeof priv, 0, 0, &k));
	CU_ASSERT_NOT_EQUAL(GetLastError(), SENTINEL);
	CU_ASSERT_EQUAL(shim->count("C_CreateObject"), 3);
	CU_ASSERT_TRUE(shim->count("C_DestroyObject") >= 1);
	CU_ASSERT_EQUAL(q_objects("dh-q-fail", NULL), 0);
	CU_ASSERT_EQUAL(all_objects(), before);
	/* The q object refused: the pair is stored without it. */
	shim->reset();
	shim->fail("C_CreateObject", 2, CKR_TEMPLATE_INCONSISTENT);
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(CryptImportKey(h, priv, sizeof priv, 0, 0, &k));
	shim->reset();
	CU_ASSERT_EQUAL(q_objects("dh-q-fail", NULL), 0);
	private_key_id("dh-q-fail", id);
	CU_ASSERT_EQUAL(id[4], 0x01);
	/* The importing handle still knows q. */
	dh1_of(pub, sg_y3);
	CHECK_FAILS_WITH(CryptImportKey(h, pub, sizeof pub, k, CRYPT_EXPORTABLE, &s),
			 NTE_BAD_DATA);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	/* Opened again it has no q (KP_Q: NTE_BAD_TYPE) and agrees. */
	CU_ASSERT_TRUE_FATAL(CryptAcquireContextA(&h, "dh-q-fail", shim_uri, PROV_DSS_DH, 0));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	got_len = 64;
	got = malloc(got_len);
	CHECK_FAILS_WITH(CryptGetKeyParam(k, KP_Q, got, &got_len, 0), NTE_BAD_TYPE);
	free(got);
	agree_expect(h, k, sg_z, sg_zx_aes);
	CU_ASSERT_TRUE(CryptDestroyKey(k));
	CU_ASSERT_TRUE(CryptReleaseContext(h, 0));
	CU_ASSERT_TRUE(CryptAcquireContextA(&hd, "dh-q-fail", shim_uri, PROV_DSS_DH,
					    CRYPT_DELETEKEYSET));
	CU_ASSERT_EQUAL(private_keys("dh-q-fail"), 0);
	shim->reset();
	free(shim_uri);
}

static CU_TestInfo review_tests[] = {
	{ "CRYPT_PREGEN: even p and g = p - 1 refused", test_review_pregen_hostile },
	{ "CRYPT_PREGEN: a refused KP_G keeps the g set before", test_review_pregen_refusal_keeps_state },
	{ "an agreed key gives out no function of the whole secret", test_review_agreed_before_algid },
	{ "a DH key neither signs, decrypts nor leaves", test_review_dh_no_sign },
	{ "KP_ALGID's readable bytes do not outlive the call", test_review_readable_bytes_left },
	{ "a partner outside the q-subgroup of a known q", test_review_small_subgroup },
	{ "a partner inside the q-subgroup agrees", test_review_subgroup_member },
	{ "a DH4 blob whose g is outside its q-subgroup", test_review_dh4_g_outside },
	{ "a DH4 blob whose q is p - 1", test_review_dh4_q_p_minus_1 },
	{ "CRYPT_PREGEN with KP_Q", test_review_pregen_q },
	{ "KP_ALGID's readable bytes without a session of their own", test_review_readable_bytes_no_scratch },
	{ "a stored key's q found again in a new context", test_stored_q },
	{ "a stored q changed or removed: agreement refused", test_stored_q_tampered },
	{ "DH4/DH3 exports carry the stored q", test_stored_q_export },
	{ "replacing a pair of an empty or short CKA_ID keeps the new q",
	  test_review_replace_foreign_id },
	{ "a marked pair whose CKA_ID cannot be read agrees checked or not at all",
	  test_review_id_unreadable },
	{ "CRYPT_PREGEN with KP_Q stores q", test_stored_q_pregen },
	{ "q refused or failing on the token", test_stored_q_token_refuses },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo key_tests[] = {
	{ "DH keys of a container and ephemeral ones", test_genkey },
	{ "lengths and names by provider", test_lengths_by_provider },
	{ "CRYPT_PREGEN keys of DH and DSS", test_pregen },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo agree_tests[] = {
	{ "agreement between contexts and tokens", test_agree_contexts },
	{ "agreement with openssl, session keys as Windows makes them", test_agree_openssl },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo blob_tests[] = {
	{ "blobs of both versions, round trips", test_blobs },
	{ "truncated and inconsistent blobs", test_bad_blobs },
	{ "private blobs under a session key", test_encrypted_private_blob },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "DH keys", NULL, NULL, NULL, NULL, key_tests },
	{ "DH agreement", NULL, NULL, NULL, NULL, agree_tests },
	{ "DH blobs", NULL, NULL, NULL, NULL, blob_tests },
	{ "DH review", NULL, NULL, NULL, NULL, review_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	if (!fixture_init())
		return CUTEST_SKIP;
	setenv("CAPI11_CONF", "/dev/null", 1);
	label = fixture_token_make("dh");
	label2 = fixture_token_make("dh2");
	uri = fixture_token_uri(label);
	uri2 = fixture_token_uri(label2);
	rc = cutest_run(suites);
	fixture_cleanup(rc == 0);
	free(uri);
	free(uri2);
	free(label);
	free(label2);
	return rc;
}
