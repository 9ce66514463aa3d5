/* Fuzz target for the data and blob entry points on a real token:
 * CryptEncrypt, CryptDecrypt, CryptExportKey, CryptImportKey,
 * CryptGetKeyParam, CryptSetKeyParam and CryptDuplicateKey, and hash
 * objects (CryptCreateHash ... CryptSignHash, HP_HASHVAL, HP_HMAC_INFO), driven with
 * lengths and bytes taken from the input, against a throwaway SoftHSM
 * token made once per process (tests/fixture.c).
 *
 * The input is a little program: an opcode byte, then that operation's
 * arguments, again and again. Every input runs in a fresh verify context
 * with the same fixed keys (an RSA exchange key from tests/vectors, its
 * public key alone, AES-128, AES-256, 3DES, a wrap-only AES-256 KEK), so
 * that an input replays the same way. The context's release must leave
 * the token as it was (a failed import that leaves an object behind is a
 * finding), and the library's own allocations as they were: that is the
 * leak check of this target. libFuzzer's own (-detect_leaks) cannot tell:
 * SoftHSM 2.6.1 keeps every object it ever made until its session closes,
 * so every input looks like a leak to it, and run.sh turns it off here.
 *
 * What is a finding besides a sanitizer report: the caller's buffers are
 * allocated at exactly the size the API contract lets the function use,
 * so any read or write past them is one. That size is dwBufLen for
 * CryptEncrypt, whatever *pdwDataLen claims (a length near 2^32 must be
 * refused, never read: that is the point of claiming it); *pdwDataLen for
 * CryptDecrypt, which has no other length; *pdwDataLen for the output of
 * CryptExportKey and CryptGetKeyParam; dwDataLen for CryptImportKey; one
 * block (KP_IV) or a DWORD for CryptSetKeyParam. A length claimed beyond
 * the buffer is only ever given with pbData NULL, where nothing may be
 * read. Then the buffer rule (SPEC section 2) is checked on every answer,
 * and every FALSE must set a last error. */
#include "config.h"
#include "fuzz.h"
#include "fixture.h"
#include "util.h"

#include <wincrypt.h>
#include <p11-kit/pkcs11.h>

#include <dlfcn.h>
#include <string.h>

/* No Windows error code has this value. */
#define SENTINEL ((DWORD)0xdeadbeef)

/* Lengths of the buffers the target allocates; larger claims are made
 * with pbData NULL only. */
#define BUF_MAX 4096

/* tests/vectors/rsa512-priv.blob: openssl's PRIVATEKEYBLOB of a 512-bit
 * test key (never use it elsewhere). */
static const BYTE rsa512_priv[] = {
	0x07, 0x02, 0x00, 0x00, 0x00, 0xa4, 0x00, 0x00, 0x52, 0x53, 0x41, 0x32,
	0x00, 0x02, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x61, 0x13, 0xb6, 0x38,
	0xa6, 0xc5, 0xbb, 0x91, 0x11, 0x28, 0xef, 0x9b, 0xfe, 0x6b, 0x4e, 0x45,
	0x17, 0x25, 0x52, 0xcc, 0xd9, 0x57, 0xc2, 0x05, 0x92, 0x82, 0xc6, 0x5b,
	0x59, 0xa3, 0x80, 0xd5, 0x51, 0x37, 0xfd, 0x76, 0x96, 0xae, 0x0a, 0x15,
	0xb3, 0x62, 0xf1, 0x7b, 0xff, 0xe7, 0xe8, 0xd4, 0x88, 0x85, 0x13, 0x34,
	0x99, 0x2c, 0x3b, 0x44, 0x26, 0xf6, 0x0c, 0x3b, 0xfc, 0x5c, 0x09, 0xc9,
	0x45, 0xb0, 0x04, 0x1b, 0x98, 0x84, 0xc4, 0xf6, 0xec, 0x80, 0x60, 0x96,
	0xd9, 0x92, 0x9b, 0x5c, 0x39, 0xfe, 0xd3, 0xb1, 0xf1, 0x04, 0x28, 0xff,
	0x8a, 0xeb, 0xa3, 0x44, 0xb4, 0x87, 0xff, 0xef, 0x6d, 0x4e, 0x1a, 0x87,
	0x65, 0xbe, 0xc2, 0xf2, 0x2c, 0x7e, 0x29, 0xfe, 0x4d, 0x8e, 0x89, 0x0e,
	0x6e, 0x39, 0x21, 0xfe, 0x2c, 0x95, 0xb9, 0x7d, 0xea, 0xef, 0xe9, 0x3f,
	0xab, 0xce, 0x70, 0xd6, 0xa9, 0xd4, 0xab, 0xaf, 0xcf, 0xaf, 0x0e, 0x41,
	0xce, 0x60, 0x67, 0x49, 0x6f, 0x12, 0x42, 0x73, 0x79, 0x3e, 0x71, 0xad,
	0xf7, 0x14, 0x9c, 0x97, 0x25, 0x9d, 0x0f, 0xaf, 0x0e, 0x16, 0x41, 0x31,
	0x81, 0x89, 0x49, 0x59, 0xec, 0xc9, 0x95, 0x04, 0xf3, 0x2c, 0xef, 0x99,
	0xff, 0x43, 0xd5, 0x7e, 0x4a, 0x73, 0x9e, 0x26, 0x28, 0xf6, 0x77, 0x29,
	0x18, 0x92, 0x40, 0x9d, 0x51, 0x76, 0x07, 0xd4, 0x50, 0x53, 0x86, 0xba,
	0x71, 0x9b, 0xd5, 0x00, 0x00, 0x9d, 0x9e, 0x58, 0x1c, 0x53, 0x59, 0x08,
	0x97, 0x75, 0x12, 0xb0, 0x0a, 0x89, 0x95, 0x60, 0xab, 0x82, 0x4a, 0x06,
	0x78, 0x74, 0xb4, 0x52, 0x11, 0x77, 0xbe, 0x99, 0xc8, 0xe7, 0x98, 0xd5,
	0x9e, 0xb9, 0x5a, 0xbc, 0xd8, 0x59, 0xbc, 0x83, 0x03, 0x78, 0x52, 0x98,
	0x99, 0xd8, 0xf9, 0x0b, 0x32, 0xef, 0x31, 0xb7, 0x4d, 0x91, 0x56, 0x0a,
	0x68, 0xa6, 0x79, 0xda, 0x7a, 0xd6, 0xa2, 0x8b, 0xd7, 0x3c, 0x9d, 0xc5,
	0x02, 0x51, 0xd7, 0xc7, 0x0f, 0xcc, 0xf8, 0x7e, 0x2b, 0xfd, 0x5a, 0x83,
	0x75, 0x2a, 0x24, 0x5d, 0xfc, 0xb5, 0xce, 0x32,
};

/* ---- the token, made once ------------------------------------------------ */

static char *uri;
/* SoftHSM's own module, the instance capi11 uses through p11-kit: it
 * sees every object of the token, session objects of capi11's sessions
 * included. */
static CK_FUNCTION_LIST *hsm;
static CK_SESSION_HANDLE hsm_session = CK_INVALID_HANDLE;
static CK_ULONG baseline;
static size_t live_baseline;
static bool live_known;
static bool ready, unavailable;

static void fuzz_api_cleanup(void)
{
	if (hsm_session != CK_INVALID_HANDLE)
		hsm->C_CloseSession(hsm_session);
	free(uri);
	fixture_cleanup(true);
}

static CK_ULONG token_objects(void)
{
	CK_OBJECT_HANDLE objs[256];
	CK_ULONG n = 0;

	fuzz_check(hsm->C_FindObjectsInit(hsm_session, NULL, 0) == CKR_OK);
	fuzz_check(hsm->C_FindObjects(hsm_session, objs, 256, &n) == CKR_OK);
	hsm->C_FindObjectsFinal(hsm_session);
	fuzz_check(n < 256);
	return n;
}

/* Opens the session that counts objects, once capi11 has initialized
 * SoftHSM (the first context below): logged in, so that private session
 * objects show too. */
static void hsm_open(const char *label)
{
	CK_C_INITIALIZE_ARGS init = { .flags = CKF_OS_LOCKING_OK };
	CK_C_GetFunctionList get_list;
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO info;
	char padded[32];
	void *module, *sym;
	CK_RV rv;

	fuzz_check(strlen(label) <= sizeof padded);
	memset(padded, ' ', sizeof padded);
	memcpy(padded, label, strlen(label));
	module = dlopen(SOFTHSM_MODULE, RTLD_NOW | RTLD_LOCAL);
	sym = module ? dlsym(module, "C_GetFunctionList") : NULL;
	fuzz_check(sym != NULL);
	memcpy(&get_list, &sym, sizeof get_list);
	fuzz_check(get_list(&hsm) == CKR_OK);
	rv = hsm->C_Initialize(&init);
	fuzz_check(rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED);
	fuzz_check(hsm->C_GetSlotList(CK_TRUE, slots, &n) == CKR_OK);
	for (i = 0; i < n; i++) {
		if (hsm->C_GetTokenInfo(slots[i], &info) == CKR_OK &&
		    memcmp(info.label, padded, sizeof padded) == 0)
			break;
	}
	fuzz_check(i < n);
	fuzz_check(hsm->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &hsm_session) ==
		   CKR_OK);
	rv = hsm->C_Login(hsm_session, CKU_USER, (CK_UTF8CHAR_PTR)FIXTURE_PIN, strlen(FIXTURE_PIN));
	fuzz_check(rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN);
}

static bool fuzz_api_setup(void)
{
	HCRYPTPROV h = 0;
	char *label;

	if (unavailable)
		return false;
	/* Without SoftHSM there is nothing to drive: every input is a no-op. */
	if (!fixture_init()) {
		unavailable = true;
		return false;
	}
	setenv("CAPI11_CONF", "/dev/null", 1);
	label = fixture_token_make("fuzzapi");
	uri = fixture_token_uri(label);
	/* A first context initializes SoftHSM and logs in. */
	fuzz_check(CryptAcquireContextA(&h, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	hsm_open(label);
	fuzz_check(CryptReleaseContext(h, 0));
	baseline = token_objects();
	free(label);
	atexit(fuzz_api_cleanup);
	ready = true;
	return true;
}

/* ---- the input ---------------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t take8(struct input *in)
{
	uint8_t v;

	if (in->n == 0)
		return 0;
	v = in->p[0];
	in->p++;
	in->n--;
	return v;
}

static uint16_t take16(struct input *in)
{
	return (uint16_t)(take8(in) | take8(in) << 8);
}

static uint32_t take32(struct input *in)
{
	return (uint32_t)take16(in) | (uint32_t)take16(in) << 16;
}

/* A buffer of exactly len bytes, filled with a pattern. For len 0,
 * malloc(0) is a real pointer to nothing (glibc, ASan), so that pbData is
 * not NULL and any access is past the end. */
static BYTE *buffer_new(size_t len)
{
	BYTE *b = malloc(len);

	fuzz_check(b != NULL);
	for (size_t i = 0; i < len; i++)
		b[i] = (BYTE)(0xa5 ^ i);
	return b;
}

/* The same, filled from the input as far as it goes. */
static BYTE *take_buffer(struct input *in, size_t len)
{
	BYTE *b = buffer_new(len);
	size_t from_input = len < in->n ? len : in->n;

	memcpy(b, in->p, from_input);
	in->p += from_input;
	in->n -= from_input;
	return b;
}

/* A length claim: mostly small, sometimes at the edges of a DWORD. */
static DWORD take_len(struct input *in)
{
	switch (take8(in) % 4) {
	case 0:
		return take8(in);
	case 1:
		return take16(in) % (BUF_MAX + 1);
	case 2:
		return 0xffffffffu - take8(in);
	default:
		return take32(in);
	}
}

/* ---- keys --------------------------------------------------------------- */

/* K_STALE: a handle that was live and is not; stale handles must be
 * refused. */
enum {
	K_RSA, K_RSA_PUB, K_AES128, K_AES256, K_3DES, K_KEK, K_STALE, K_FIXED,
	N_KEYS = K_FIXED + 8
};

struct run {
	HCRYPTPROV prov;
	HCRYPTPROV dss;           /* a PROV_DSS_DH verify context, for op_import_dss */
	HCRYPTKEY keys[N_KEYS];
	bool made[K_FIXED];
};

static HCRYPTKEY import_plain(HCRYPTPROV prov, ALG_ID alg, DWORD len, DWORD flags, BYTE fill)
{
	BYTE blob[12 + 32];
	HCRYPTKEY k = 0;

	blob[0] = PLAINTEXTKEYBLOB;
	blob[1] = CUR_BLOB_VERSION;
	blob[2] = blob[3] = 0;
	memcpy(blob + 4, &alg, 4);
	memcpy(blob + 8, &len, 4);
	for (DWORD i = 0; i < len; i++)
		blob[12 + i] = (BYTE)(fill + 3 * i);
	fuzz_check(CryptImportKey(prov, blob, 12 + len, 0, flags, &k));
	return k;
}

/* The fixed keys are made when an input first uses one: every object
 * costs SoftHSM memory until its session closes. */
static HCRYPTKEY fixed_key(struct run *r, size_t i)
{
	BYTE pub[20 + 64];

	if (r->made[i])
		return r->keys[i];
	r->made[i] = true;
	switch (i) {
	case K_RSA:
		fuzz_check(CryptImportKey(r->prov, rsa512_priv, sizeof rsa512_priv, 0,
					  CRYPT_EXPORTABLE, &r->keys[K_RSA]));
		break;
	case K_RSA_PUB:
		/* The private blob's header, RSAPUBKEY and modulus, as a
		 * PUBLICKEYBLOB ("RSA1"). */
		memcpy(pub, rsa512_priv, sizeof pub);
		pub[0] = PUBLICKEYBLOB;
		pub[11] = '1';
		fuzz_check(CryptImportKey(r->prov, pub, sizeof pub, 0, 0, &r->keys[K_RSA_PUB]));
		break;
	case K_AES128:
		r->keys[i] = import_plain(r->prov, CALG_AES_128, 16, CRYPT_EXPORTABLE, 0x10);
		break;
	case K_AES256:
		r->keys[i] = import_plain(r->prov, CALG_AES_256, 32, CRYPT_EXPORTABLE, 0x20);
		break;
	case K_3DES:
		r->keys[i] = import_plain(r->prov, CALG_3DES, 24, CRYPT_EXPORTABLE, 0x30);
		break;
	case K_KEK:
		r->keys[i] = import_plain(r->prov, CALG_AES_256, 32, CRYPT_EXPORTABLE | CRYPT_KEK,
					  0x40);
		break;
	case K_STALE:
		r->keys[i] = import_plain(r->prov, CALG_AES_128, 16, 0, 0x50);
		fuzz_check(CryptDestroyKey(r->keys[i]));
		break;
	}
	return r->keys[i];
}

/* A key of the table, or 0, or a stale handle. */
static HCRYPTKEY take_key(struct input *in, struct run *r)
{
	uint8_t v = take8(in) % (N_KEYS + 1);

	if (v == N_KEYS)
		return 0;
	return v < K_FIXED ? fixed_key(r, v) : r->keys[v];
}

static void keep_key(struct run *r, HCRYPTKEY k)
{
	for (size_t i = K_FIXED; i < N_KEYS; i++) {
		if (r->keys[i] == 0) {
			r->keys[i] = k;
			return;
		}
	}
	fuzz_check(CryptDestroyKey(k));
}

static void run_begin(struct run *r)
{
	memset(r, 0, sizeof *r);
	fuzz_check(CryptAcquireContextA(&r->prov, NULL, uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT));
	fuzz_check(CryptAcquireContextA(&r->dss, NULL, uri, PROV_DSS_DH, CRYPT_VERIFYCONTEXT));
}

static void run_end(struct run *r)
{
	/* Handles may be dead already (CRYPT_DESTROYKEY); the release takes
	 * whatever the context still owns. */
	for (size_t i = 0; i < N_KEYS; i++) {
		if (r->keys[i] != 0 && i != K_STALE)
			CryptDestroyKey(r->keys[i]);
	}
	fuzz_check(CryptReleaseContext(r->prov, 0));
	fuzz_check(CryptReleaseContext(r->dss, 0));
	fuzz_check(token_objects() == baseline);
	fuzz_check(!live_known || capi11_alloc_live() == live_baseline);
}

/* ---- operations ------------------------------------------------------------ */

/* FALSE must come with a last error. */
static DWORD failed_with(void)
{
	DWORD err = GetLastError();

	fuzz_check(err != SENTINEL && err != ERROR_SUCCESS);
	return err;
}

static void op_encrypt(struct input *in, struct run *r)
{
	HCRYPTKEY k = take_key(in, r);
	BOOL final = take8(in) & 1;
	DWORD flags = take8(in) & 1 ? CRYPT_OAEP : take32(in);
	DWORD len = take_len(in);
	bool query = take8(in) % 4 == 0;
	DWORD cap = take16(in) % (BUF_MAX + 1);
	BYTE *buf = query ? NULL : take_buffer(in, cap);

	SetLastError(SENTINEL);
	if (CryptEncrypt(k, 0, final, flags, buf, &len, cap))
		fuzz_check(query || len <= cap);
	else if (failed_with() == ERROR_MORE_DATA)
		fuzz_check(!query && len > cap);
	free(buf);
}

static void op_decrypt(struct input *in, struct run *r)
{
	HCRYPTKEY k = take_key(in, r);
	BOOL final = take8(in) & 1;
	DWORD flags = take8(in) & 1 ? CRYPT_OAEP : take32(in);
	bool query = take8(in) % 4 == 0;
	/* No dwBufLen: the buffer is *pdwDataLen long, so a claim beyond
	 * BUF_MAX goes with a size query only. */
	DWORD claim = query ? take_len(in) : take16(in) % (BUF_MAX + 1), len = claim;
	BYTE *buf = query ? NULL : take_buffer(in, claim);

	SetLastError(SENTINEL);
	if (CryptDecrypt(k, 0, final, flags, buf, &len))
		fuzz_check(len <= claim);
	else
		failed_with();
	free(buf);
}

static DWORD take_blob_type(struct input *in)
{
	static const DWORD types[] = {
		PUBLICKEYBLOB, PRIVATEKEYBLOB, SIMPLEBLOB, PLAINTEXTKEYBLOB, SYMMETRICWRAPKEYBLOB,
		OPAQUEKEYBLOB,
	};
	uint8_t v = take8(in);

	return v < 0xf0 ? types[v % (sizeof types / sizeof types[0])] : v;
}

static DWORD take_export_flags(struct input *in)
{
	uint8_t v = take8(in);

	/* Mostly the documented flags, sometimes anything. */
	return v == 0xff ? take32(in) : v & (CRYPT_OAEP | CRYPT_DESTROYKEY | CRYPT_BLOB_VER3 |
					     CRYPT_SSL2_FALLBACK | CRYPT_Y_ONLY);
}

/* CryptExportKey as the buffer rule allows it: the size, then a buffer of
 * the size asked for (or of a size from the input). The export into a
 * buffer of the size the query gave must not want more. Returns the blob
 * (malloc'd, *out_len bytes) or NULL. */
static BYTE *do_export(struct input *in, struct run *r, HCRYPTKEY k, HCRYPTKEY exp, DWORD type,
		       DWORD flags, DWORD *out_len)
{
	DWORD size = take_len(in), len = size, cap;
	bool own_size = take8(in) & 1;
	BYTE *buf;

	(void)r;
	SetLastError(SENTINEL);
	if (!CryptExportKey(k, exp, type, flags, NULL, &len)) {
		failed_with();
		return NULL;
	}
	cap = own_size ? size % (BUF_MAX + 1) : len;
	if (cap > BUF_MAX)
		return NULL;
	buf = buffer_new(cap);
	len = cap;
	SetLastError(SENTINEL);
	if (CryptExportKey(k, exp, type, flags, buf, &len)) {
		fuzz_check(len <= cap);
		*out_len = len;
		return buf;
	}
	if (failed_with() == ERROR_MORE_DATA)
		fuzz_check(own_size && len > cap);
	free(buf);
	return NULL;
}

static void op_export(struct input *in, struct run *r)
{
	HCRYPTKEY k = take_key(in, r), exp = take_key(in, r);
	DWORD type = take_blob_type(in), flags = take_export_flags(in), len = 0;

	free(do_export(in, r, k, exp, type, flags, &len));
}

static void import_check(struct run *r, const BYTE *blob, DWORD len, HCRYPTKEY pub, DWORD flags)
{
	HCRYPTKEY k = 0;

	SetLastError(SENTINEL);
	if (CryptImportKey(r->prov, blob, len, pub, flags, &k)) {
		fuzz_check(k != 0);
		keep_key(r, k);
	} else {
		failed_with();
		fuzz_check(k == 0);
	}
}

static DWORD take_import_flags(struct input *in)
{
	uint8_t v = take8(in);

	return v == 0xff ? take32(in) : v & (CRYPT_EXPORTABLE | CRYPT_USER_PROTECTED |
					     CRYPT_NO_SALT | CRYPT_OAEP | CRYPT_IPSEC_HMAC_KEY);
}

/* Bytes of the input as a blob, exactly dwDataLen long. */
static void op_import(struct input *in, struct run *r)
{
	HCRYPTKEY pub = take_key(in, r);
	DWORD flags = take_import_flags(in);
	DWORD len = take16(in) % (BUF_MAX + 1);
	BYTE *blob = take_buffer(in, len);

	if (take8(in) & 1)
		flags |= CRYPT_KEK;
	import_check(r, blob, len, pub, flags);
	free(blob);
}

/* A DSS blob: a BLOBHEADER of CALG_DSS_SIGN (form bit 0: PRIVATEKEYBLOB,
 * bit 1: version 3), then bytes of the input, imported in the PROV_DSS_DH
 * context: blob_parse_dss with hostile lengths and numbers, and past it
 * the import routes' token calls (a private blob's y derivation, the
 * pair's objects), which must leave nothing on the token. */
static void op_import_dss(struct input *in, struct run *r)
{
	uint8_t form = take8(in);
	DWORD flags = take_import_flags(in);
	DWORD len = take16(in) % (BUF_MAX + 1 - 8);
	BYTE *body = take_buffer(in, len), *blob = buffer_new(8 + (size_t)len);
	HCRYPTKEY k = 0;

	blob[0] = (form & 1) ? PRIVATEKEYBLOB : PUBLICKEYBLOB;
	blob[1] = (form & 2) ? 3 : CUR_BLOB_VERSION;
	blob[2] = blob[3] = 0;
	blob[4] = (BYTE)CALG_DSS_SIGN;
	blob[5] = (BYTE)(CALG_DSS_SIGN >> 8);
	blob[6] = blob[7] = 0;
	memcpy(blob + 8, body, len);
	SetLastError(SENTINEL);
	if (CryptImportKey(r->dss, blob, 8 + len, 0, flags, &k)) {
		fuzz_check(k != 0);
		fuzz_check(CryptDestroyKey(k));
	} else {
		failed_with();
		fuzz_check(k == 0);
	}
	free(body);
	free(blob);
}

/* A blob the library made, bent a little, imported again: reaches the
 * import routes past their first checks. */
static void op_reimport(struct input *in, struct run *r)
{
	HCRYPTKEY k = take_key(in, r), exp = take_key(in, r), pub = take_key(in, r);
	DWORD type = take_blob_type(in), flags = take_export_flags(in);
	DWORD iflags = take_import_flags(in), len = 0;
	uint16_t at = take16(in);
	uint8_t x = take8(in), cut = take8(in);
	BYTE *blob = do_export(in, r, k, exp, type, flags, &len);

	if (blob == NULL)
		return;
	if (len > 0)
		blob[at % len] ^= x;
	/* Shorter, never longer: the buffer is len bytes. */
	len -= cut % (len + 1);
	if (len > 0)
		import_check(r, blob, len, pub, iflags);
	free(blob);
}

static void op_get_param(struct input *in, struct run *r)
{
	static const DWORD params[] = {
		KP_ALGID, KP_KEYLEN, KP_BLOCKLEN, KP_PERMISSIONS, KP_PADDING, KP_MODE, KP_IV,
		KP_EFFECTIVE_KEYLEN, KP_CERTIFICATE, KP_SALT,
	};
	HCRYPTKEY k = take_key(in, r);
	uint8_t v = take8(in);
	DWORD param = v < 0xf0 ? params[v % (sizeof params / sizeof params[0])] : take32(in);
	bool query = take8(in) % 4 == 0;
	DWORD claim = query ? take_len(in) : take8(in) % 64, len = claim;
	BYTE *buf = query ? NULL : buffer_new(claim);

	SetLastError(SENTINEL);
	if (CryptGetKeyParam(k, param, buf, &len, take8(in) == 0xff ? take32(in) : 0))
		fuzz_check(query || len <= claim);
	else if (failed_with() == ERROR_MORE_DATA)
		fuzz_check(!query && len > claim);
	free(buf);
}

/* CryptSetKeyParam has no length: KP_IV takes one block of the key, the
 * others a DWORD. KP_CERTIFICATE (a DER certificate bounded by its own
 * header) is fuzz-cert's. */
static void op_set_param(struct input *in, struct run *r)
{
	static const DWORD params[] = {
		KP_IV, KP_MODE, KP_PADDING, KP_PERMISSIONS, KP_EFFECTIVE_KEYLEN, KP_ALGID,
	};
	HCRYPTKEY k = take_key(in, r);
	uint8_t v = take8(in);
	DWORD param = v < 0xf0 ? params[v % (sizeof params / sizeof params[0])] : take32(in);
	DWORD block = 0, size = sizeof block, len = sizeof(DWORD);
	BYTE *buf;

	if (param == KP_CERTIFICATE)
		return;
	/* One block of a block cipher key; an RSA key has no IV to read. */
	if (param == KP_IV && CryptGetKeyParam(k, KP_BLOCKLEN, (BYTE *)&block, &size, 0))
		len = block / 8 <= 32 ? block / 8 : 1;
	buf = take_buffer(in, len);
	SetLastError(SENTINEL);
	if (!CryptSetKeyParam(k, param, buf, take8(in) == 0xff ? take32(in) : 0))
		failed_with();
	free(buf);
}

static void op_duplicate(struct input *in, struct run *r)
{
	HCRYPTKEY k = take_key(in, r), copy = 0;

	SetLastError(SENTINEL);
	if (CryptDuplicateKey(k, NULL, 0, &copy))
		keep_key(r, copy);
	else
		failed_with();
}

/* ---- hash objects ---------------------------------------------------------- */

/* One step on a hash: data with a hostile length claim, a parameter read
 * under the buffer rule, HP_HASHVAL of exactly HP_HASHSIZE bytes,
 * HP_HMAC_INFO with pad strings of the lengths it claims, a duplicate, a
 * signature with the context's exchange key. */
static void hash_step(struct input *in, struct run *r, HCRYPTHASH h)
{
	static const DWORD params[] = { HP_ALGID, HP_HASHSIZE, HP_HASHVAL, HP_HMAC_INFO };
	DWORD claim, len, cap, size = 0, n = sizeof size;
	HCRYPTHASH copy = 0;
	BYTE *buf = NULL, *inner = NULL;
	HMAC_INFO info;
	uint8_t v;

	SetLastError(SENTINEL);
	switch (take8(in) % 6) {
	case 0:
		/* A claim beyond the buffer goes with pbData NULL, which may
		 * only be refused. */
		claim = take_len(in);
		buf = claim <= BUF_MAX ? take_buffer(in, claim) : NULL;
		if (!CryptHashData(h, buf, claim, take8(in) == 0xff ? take32(in) : 0))
			failed_with();
		else
			fuzz_check(buf != NULL || claim == 0);
		break;
	case 1:
		v = take8(in);
		cap = take8(in) % 80;
		buf = v & 0x80 ? NULL : buffer_new(cap);
		len = cap;
		if (CryptGetHashParam(h, v < 0xf0 ? params[v % 4] : take32(in), buf, &len, 0))
			fuzz_check(buf == NULL || len <= cap);
		else if (failed_with() == ERROR_MORE_DATA)
			fuzz_check(buf != NULL && len > cap);
		break;
	case 2:
		if (!CryptGetHashParam(h, HP_HASHSIZE, (BYTE *)&size, &n, 0) || size > 64)
			break;
		buf = take_buffer(in, size);
		if (!CryptSetHashParam(h, HP_HASHVAL, buf, 0))
			failed_with();
		break;
	case 3:
		memset(&info, 0, sizeof info);
		info.HashAlgid = take8(in) & 1 ? take32(in) : (ALG_ID)(CALG_SHA1 + take8(in) % 16);
		info.cbInnerString = take8(in) % 80;
		inner = info.cbInnerString && (take8(in) & 1) ? take_buffer(in, info.cbInnerString)
							     : NULL;
		info.pbInnerString = inner;
		if (!CryptSetHashParam(h, HP_HMAC_INFO, (BYTE *)&info, 0))
			failed_with();
		break;
	case 4:
		if (CryptDuplicateHash(h, NULL, 0, &copy))
			fuzz_check(CryptDestroyHash(copy));
		else
			failed_with();
		break;
	default:
		fixed_key(r, K_RSA);
		cap = take8(in);
		buf = take8(in) & 1 ? NULL : buffer_new(cap);
		len = cap;
		if (CryptSignHashA(h, take8(in) % 4, NULL, take8(in) % 4, buf, &len))
			fuzz_check(buf == NULL || len <= cap);
		else if (failed_with() == ERROR_MORE_DATA)
			fuzz_check(buf != NULL && len > cap);
	}
	free(buf);
	free(inner);
}

static void op_hash(struct input *in, struct run *r)
{
	static const ALG_ID algs[] = {
		CALG_MD5, CALG_SHA1, CALG_SHA_256, CALG_SHA_384, CALG_SHA_512, CALG_SSL3_SHAMD5,
		CALG_HMAC, CALG_MAC,
	};
	uint8_t v = take8(in);
	ALG_ID alg = v < 0xf0 ? algs[v % (sizeof algs / sizeof algs[0])] : take32(in);
	HCRYPTKEY k = take8(in) & 1 ? take_key(in, r) : 0;
	DWORD flags = take8(in) == 0xff ? take32(in) : 0;
	HCRYPTHASH h = 0;
	int steps = take8(in) % 8;

	SetLastError(SENTINEL);
	if (!CryptCreateHash(r->prov, alg, k, flags, &h)) {
		failed_with();
		return;
	}
	while (steps-- > 0 && in->n > 0)
		hash_step(in, r, h);
	fuzz_check(CryptDestroyHash(h));
}

static void op_destroy(struct input *in, struct run *r)
{
	size_t i = K_FIXED + take8(in) % (N_KEYS - K_FIXED);

	if (r->keys[i] != 0) {
		CryptDestroyKey(r->keys[i]);
		r->keys[i] = 0;
	}
}

void fuzz_api_one(const uint8_t *data, size_t size)
{
	static void (*const ops[])(struct input *, struct run *) = {
		op_encrypt, op_decrypt, op_export, op_import, op_reimport, op_get_param,
		op_set_param, op_duplicate, op_destroy, op_hash, op_import_dss,
	};
	struct input in = { data, size };
	struct run r;
	int steps = 0;

	if (!ready) {
		if (!fuzz_api_setup())
			return;
		/* What the library keeps between contexts (the pooled session,
		 * mechanism facts) is made by a first run of the fixed keys. */
		run_begin(&r);
		for (size_t i = 0; i < K_FIXED; i++)
			fixed_key(&r, i);
		run_end(&r);
		live_baseline = capi11_alloc_live();
		live_known = true;
	}
	run_begin(&r);
	/* Bounded: one input stays well under libFuzzer's timeout. */
	while (in.n > 0 && steps++ < 64)
		ops[take8(&in) % (sizeof ops / sizeof ops[0])](&in, &r);
	run_end(&r);
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_api_one(data, size);
	return 0;
}
#endif
