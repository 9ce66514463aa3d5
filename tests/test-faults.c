/* Fault injection: every acquire, generate, export and import route (and
 * CryptEncrypt; a hash's value, CryptSignHash, CryptDeriveKey), the key
 * protection routes (the probe that learns whether
 * the token enforces CKA_WRAP_WITH_TRUSTED, Capi11TrustKeyA for a KEK and
 * for a partner's public key, exports of a sensitive key under the
 * trusted KEK) is run through the counting shim (tests/p11shim.c), once to
 * count its PKCS#11 calls, then once per call position with that call
 * failed. Each faulted
 * run must fail with the code a Windows caller expects for the injected
 * CK_RV (SPEC sections 2 and 7, and the table documented in errors.c),
 * leave no new object on the token (objects are listed straight from
 * SoftHSM, beside the shim, so that listing them adds no counted call),
 * leak no allocation of the library (capi11_alloc_live), and the route
 * must work again at once afterwards, on the same context when it
 * survives: a token that said CKR_DEVICE_REMOVED and came back recovers on
 * the next call.
 *
 * Sweep size: CAPI11_FAULT_SWEEP=full (make faultcheck) fails every
 * position with each of the four CK_RVs below and tampers every
 * C_GetAttributeValue length both ways. Without it (make check) every
 * position is still failed, once, with the CK_RVs taken in turn
 * (position i gets fault_rvs[i % 4]), and lengths are tampered in the
 * export routes only: every position is reached, every code is seen, and
 * the run stays short.
 *
 * Two more tests pull the card: once as the shim fakes it (absent slot,
 * CKR_DEVICE_REMOVED from every session call), once for real (every
 * SoftHSM session of the process closed under the library).
 *
 * Expected codes are written out as numbers (winerror.h), so that a wrong
 * constant in the public header cannot make the test agree with the code. */
#include "config.h"
#include "context.h"
#include "cutest.h"
#include "fixture.h"
#include "testutil.h"
#include "token.h"
#include "trace.h"
#include "util.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wincrypt.h>

#define V_ERROR_INVALID_PARAMETER 87u
#define V_NTE_BAD_KEY 0x80090003u
#define V_NTE_BAD_KEY_STATE 0x8009000Bu
#define V_NTE_BAD_DATA 0x80090005u
#define V_NTE_BAD_KEYSET 0x80090016u
#define V_NTE_FAIL 0x80090020u
#define V_NTE_PROV_DLL_NOT_FOUND 0x8009001Eu
#define V_SCARD_E_NO_SMARTCARD 0x8010000Cu
#define V_SCARD_W_REMOVED_CARD 0x80100069u

#define V_PROV_RSA_AES 24u
#define V_CALG_AES_128 0x660eu
#define V_CALG_AES_256 0x6610u

#define MAX_CALLS 512
#define MAX_OBJECTS 256

static char *label, *uri;
static bool full_sweep;
static const char *(*call_name)(unsigned long nth);
static unsigned long (*tamper_hits)(void);
static unsigned long (*lost_uses)(void);
static const struct p11shim_ops *shim;

/* The failures swept, each with what SPEC makes of it. */
static const CK_RV fault_rvs[] = {
	CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID, CKR_BUFFER_TOO_SMALL, CKR_GENERAL_ERROR,
};

static const char *rv_name(CK_RV rv)
{
	switch (rv) {
	case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
	case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
	case CKR_BUFFER_TOO_SMALL: return "CKR_BUFFER_TOO_SMALL";
	case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
	default: return "?";
	}
}

/* ---- SoftHSM seen directly, to list objects without counting calls ---- */

static CK_FUNCTION_LIST *hsm;
static CK_SESSION_HANDLE hsm_session;
static CK_SLOT_ID hsm_slot;

static bool hsm_open(void)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_C_GetFunctionList get;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	CK_RV rv;
	void *mod = dlopen(SOFTHSM_MODULE, RTLD_NOW | RTLD_LOCAL);

	if (mod == NULL)
		return false;
	get = (CK_C_GetFunctionList)dlsym(mod, "C_GetFunctionList");
	if (get == NULL || get(&hsm) != CKR_OK)
		return false;
	rv = hsm->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return false;
	if (hsm->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return false;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		char l[33];
		size_t len = 32;

		if (hsm->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		memcpy(l, ti.label, 32);
		while (len > 0 && l[len - 1] == ' ')
			len--;
		l[len] = '\0';
		if (strcmp(l, label) != 0)
			continue;
		hsm_slot = slots[i];
		/* Read-write: PKCS#11 lets the security officer in (the trust
		 * routes) only while no read-only session is open. */
		if (hsm->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				       &hsm_session) != CKR_OK)
			return false;
		/* Private objects show only to a logged-in token. This session also
		 * keeps the login when the library closes every session of its own
		 * (a closed last session logs the token out). */
		rv = hsm->C_Login(hsm_session, CKU_USER, (CK_UTF8CHAR_PTR)FIXTURE_PIN,
				  strlen(FIXTURE_PIN));
		return rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN;
	}
	return false;
}

static int handle_cmp(const void *a, const void *b)
{
	CK_OBJECT_HANDLE x = *(const CK_OBJECT_HANDLE *)a, y = *(const CK_OBJECT_HANDLE *)b;

	return x < y ? -1 : x > y;
}

/* Every object on the token, session objects of every session included,
 * each known by its handle and by what it is (class, token flag, label,
 * CKA_ID): the security officer's step logs the user out and in again,
 * and SoftHSM then gives the private objects new handles, so the trust
 * routes compare objects by what they are. */
#define OBJ_SIG 160
struct objset {
	CK_OBJECT_HANDLE h[MAX_OBJECTS];
	char sig[MAX_OBJECTS][OBJ_SIG];
	CK_ULONG n;
	bool by_sig;
};

static void object_sig(CK_OBJECT_HANDLE h, char *out)
{
	CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
	CK_BBOOL tok = CK_FALSE;
	char lab[64] = "", id[32] = "";
	CK_ATTRIBUTE a[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, &tok, sizeof tok },
		{ CKA_LABEL, lab, sizeof lab - 1 },
		{ CKA_ID, id, sizeof id },
	};
	char hex[2 * sizeof id + 1] = "";

	hsm->C_GetAttributeValue(hsm_session, h, a, 4);
	if (a[2].ulValueLen < sizeof lab)
		lab[a[2].ulValueLen] = '\0';
	else
		lab[0] = '\0';
	if (a[3].ulValueLen <= sizeof id)
		testutil_hex_put(hex, (const BYTE *)id, a[3].ulValueLen);
	snprintf(out, OBJ_SIG, "%lu/%d/%s/%s", (unsigned long)cls, tok, lab, hex);
}

static int sig_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void objset_read(struct objset *set, bool by_sig)
{
	/* A failed trust step may leave the token logged out, which would hide
	 * the private objects from the count. */
	hsm->C_Login(hsm_session, CKU_USER, (CK_UTF8CHAR_PTR)FIXTURE_PIN, strlen(FIXTURE_PIN));
	set->n = 0;
	set->by_sig = by_sig;
	CU_ASSERT_EQUAL_FATAL(hsm->C_FindObjectsInit(hsm_session, NULL, 0), CKR_OK);
	CU_ASSERT_EQUAL_FATAL(hsm->C_FindObjects(hsm_session, set->h, MAX_OBJECTS, &set->n), CKR_OK);
	hsm->C_FindObjectsFinal(hsm_session);
	CU_ASSERT_FATAL(set->n < MAX_OBJECTS);
	qsort(set->h, set->n, sizeof set->h[0], handle_cmp);
	if (!by_sig)
		return;
	for (CK_ULONG i = 0; i < set->n; i++)
		object_sig(set->h[i], set->sig[i]);
	qsort(set->sig, set->n, sizeof set->sig[0], sig_cmp);
}

/* How many objects of after were not in before. */
static unsigned objset_new(const struct objset *before, const struct objset *after)
{
	unsigned fresh = 0;
	CK_ULONG i = 0, j = 0;

	if (!after->by_sig) {
		for (i = 0; i < after->n; i++) {
			if (bsearch(&after->h[i], before->h, before->n, sizeof before->h[0],
				    handle_cmp) == NULL)
				fresh++;
		}
		return fresh;
	}
	/* Multisets of signatures, both sorted. */
	while (i < after->n) {
		int c = j < before->n ? strcmp(after->sig[i], before->sig[j]) : -1;

		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			fresh++;
			i++;
		} else {
			j++;
		}
	}
	return fresh;
}

/* ---- Blobs ---- */

static BYTE *priv_blob, *pub_blob, *simple_blob, *aes_key;
static DWORD priv_len, pub_len, simple_len, aes_len;
/* PLAINTEXTKEYBLOB of the 16 bytes of aes128.key: BLOBHEADER {8, 2, 0,
 * CALG_AES_128}, DWORD 16, the key (Microsoft, "PLAINTEXTKEYBLOB"). */
static BYTE plain_blob[12 + 16];

/* RFC 3394 section 4.1: KEK 00..0f (aes128.key), key data 0011..ff, and
 * the wrapped key; as a SYMMETRICWRAPKEYBLOB: BLOBHEADER {0xb, 2, 0,
 * CALG_AES_128}, the ALG_ID of the wrapping key, the wrapped key (SPEC 4). */
static BYTE data_blob[12 + 16];
static const BYTE rfc3394_data[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
static const BYTE symwrap_blob[12 + 24] = {
	0x0b, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00,
	0x1f, 0xa6, 0x8b, 0x0a, 0x81, 0x12, 0xb4, 0x47, 0xae, 0xf3, 0x4b, 0xd8,
	0xfb, 0x5a, 0x7b, 0x82, 0x9d, 0x3e, 0x86, 0x23, 0x71, 0xd2, 0xcf, 0xe5,
};
/* 40 bytes of plaintext and their AES-128-CBC encryption under aes128.key,
 * zero IV, PKCS#5 padding (CryptEncrypt's defaults, SPEC 6), by openssl. */
static BYTE plaintext[40];
static BYTE ciphertext[48];
/* The same plaintext under the RFC 3394 key data, by openssl. */
static BYTE data_ciphertext[48];

static void plain_blob_make(void)
{
	static const BYTE head[12] = { 0x08, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00,
				       0x10, 0x00, 0x00, 0x00 };

	memcpy(plain_blob, head, sizeof head);
	memcpy(plain_blob + 12, aes_key, 16);
	memcpy(data_blob, head, sizeof head);
	memcpy(data_blob + 12, rfc3394_data, 16);
	for (size_t i = 0; i < sizeof plaintext; i++)
		plaintext[i] = (BYTE)(0xa0 + i);
}

/* ---- Routes ---- */

/* R_TRUST: the security officer's step, an import whose C_UnwrapKey
 * tries the new key-encryption key rather than opens the blob. */
enum route_kind { R_ACQUIRE, R_GENKEY, R_EXPORT, R_IMPORT, R_ENCRYPT, R_PARAM, R_TRUST, R_HASH,
		  R_DERIVE };

/* What a route works on: made by setup, outside the fault window. */
struct env {
	HCRYPTPROV prov;
	HCRYPTKEY key, exp;
	HCRYPTPROV made;               /* what an acquire route acquired */
	HCRYPTKEY made_key;            /* what a generate or import route made */
	HCRYPTKEY kek;                 /* wrap-only AES key (CRYPT_KEK) */
	BYTE in[2048];                 /* what an import route takes */
	DWORD in_len;
	BYTE out[2048];                /* what an export route wrote */
	DWORD out_len;
	char name[40];                 /* container of acquire routes */
	DWORD spec;                    /* what a generate route made */
};

struct route {
	const char *name;
	enum route_kind kind;
	/* The route's objects die with the context's session: a fault that
	 * loses the session takes them along, so the retry sets up anew. */
	bool session_bound;
	bool (*setup)(struct env *e);
	BOOL (*run)(struct env *e);
	bool (*check)(struct env *e);
	void (*teardown)(struct env *e);
};

/* Containers, made once: keys for the export routes, a pair to replace
 * for the generate routes, a target for PRIVATEKEYBLOB, the key that
 * unwraps the SIMPLEBLOB vector. */
#define C_KEYS "flt-keys"
#define C_GEN "flt-gen"
#define C_IMP "flt-imp"
#define C_SIMPLE "flt-simple"
/* A container with a trusted KEK (the operator's, trusted_kek), and the
 * provider that reaches the token under exportable-policy = sensitive. */
#define C_TRUST "flt-trust"
#define P_SENSITIVE "flt-sensitive"
static const BYTE trusted_kek[32] = {
	0x42, 0x8d, 0x1e, 0xc5, 0x70, 0x2b, 0x96, 0xf3, 0x0a, 0xd7, 0x64, 0x39, 0xbe, 0x15, 0x88, 0x5c,
	0xe1, 0x07, 0x7a, 0x9f, 0x33, 0xc8, 0x4d, 0x26, 0xb0, 0x5e, 0x91, 0xfa, 0x6c, 0x03, 0xd9, 0x2f,
};
static BYTE trusted_kek_blob[12 + 32];
/* A partner's PUBLICKEYBLOB, made at start. */
static BYTE partner_blob[20 + 128];

static unsigned name_seq;

static bool acquire(HCRYPTPROV *h, const char *container, DWORD flags)
{
	*h = 0;
	SetLastError(SENTINEL);
	/* Silent: nothing in a sweep may stop at a PIN prompt. */
	return CryptAcquireContextA(h, container, uri, V_PROV_RSA_AES, flags | CRYPT_SILENT);
}

static void release(HCRYPTPROV *h)
{
	if (*h != 0)
		CryptReleaseContext(*h, 0);
	*h = 0;
}

static void destroy(HCRYPTKEY *k)
{
	if (*k != 0)
		CryptDestroyKey(*k);
	*k = 0;
}

static void env_teardown(struct env *e)
{
	/* The wrap routes pass their KEK as hExpKey. */
	if (e->exp == e->kek)
		e->exp = 0;
	destroy(&e->made_key);
	destroy(&e->key);
	destroy(&e->exp);
	destroy(&e->kek);
	release(&e->made);
	release(&e->prov);
}

static bool no_setup(struct env *e)
{
	(void)e;
	return true;
}

static bool made_something(struct env *e)
{
	return e->made != 0;
}

/* acquire, flags 0 */
static BOOL run_acquire_open(struct env *e)
{
	return acquire(&e->made, C_KEYS, 0);
}

/* acquire, CRYPT_VERIFYCONTEXT */
static BOOL run_acquire_verify(struct env *e)
{
	return acquire(&e->made, NULL, CRYPT_VERIFYCONTEXT);
}

/* acquire, CRYPT_NEWKEYSET of a fresh name */
static bool setup_fresh_name(struct env *e)
{
	snprintf(e->name, sizeof e->name, "flt-new-%u", name_seq++);
	return true;
}

static BOOL run_acquire_new(struct env *e)
{
	return acquire(&e->made, e->name, CRYPT_NEWKEYSET);
}

static void teardown_new(struct env *e)
{
	HCRYPTPROV h;

	env_teardown(e);
	acquire(&h, e->name, CRYPT_DELETEKEYSET);
}

/* acquire, CRYPT_DELETEKEYSET of a container holding a marker and a pair */
static bool setup_doomed(struct env *e)
{
	HCRYPTPROV h;
	HCRYPTKEY k = 0;
	bool ok;

	setup_fresh_name(e);
	if (!acquire(&h, e->name, CRYPT_NEWKEYSET))
		return false;
	ok = CryptImportKey(h, priv_blob, priv_len, 0, 0, &k);
	destroy(&k);
	release(&h);
	return ok;
}

static BOOL run_acquire_delete(struct env *e)
{
	BOOL ok = acquire(&e->made, e->name, CRYPT_DELETEKEYSET);

	/* Windows sets *phProv to 0 after a deletion. */
	if (ok && e->made != 0)
		return FALSE;
	return ok;
}

static bool check_deleted(struct env *e)
{
	HCRYPTPROV h;

	if (acquire(&h, e->name, 0)) {
		release(&h);
		return false;
	}
	return GetLastError() == V_NTE_BAD_KEYSET;
}

/* CryptGenKey */
static bool setup_gen(struct env *e)
{
	return acquire(&e->prov, C_GEN, 0);
}

static BOOL run_gen_exchange(struct env *e)
{
	e->spec = AT_KEYEXCHANGE;
	return CryptGenKey(e->prov, AT_KEYEXCHANGE, (1024u << 16) | CRYPT_EXPORTABLE, &e->made_key);
}

static BOOL run_gen_signature(struct env *e)
{
	e->spec = AT_SIGNATURE;
	return CryptGenKey(e->prov, AT_SIGNATURE, 1024u << 16, &e->made_key);
}

static BOOL run_gen_aes(struct env *e)
{
	return CryptGenKey(e->prov, V_CALG_AES_256, CRYPT_EXPORTABLE, &e->made_key);
}

static DWORD key_bits(HCRYPTKEY k)
{
	DWORD bits = 0, len = sizeof bits;

	if (!CryptGetKeyParam(k, KP_KEYLEN, (BYTE *)&bits, &len, 0))
		return 0;
	return bits;
}

static bool check_rsa_made(struct env *e)
{
	return key_bits(e->made_key) == 1024;
}

/* The new pair is 1024 bits and is now the container's key of its spec:
 * CryptGetUserKey gives the same public key. */
static bool check_pair_made(struct env *e)
{
	BYTE a[512], b[512];
	DWORD la = sizeof a, lb = sizeof b;
	HCRYPTKEY k = 0;
	bool same;

	if (key_bits(e->made_key) != 1024 || !CryptGetUserKey(e->prov, e->spec, &k))
		return false;
	same = CryptExportKey(e->made_key, 0, PUBLICKEYBLOB, 0, a, &la) &&
	       CryptExportKey(k, 0, PUBLICKEYBLOB, 0, b, &lb) && la == lb && memcmp(a, b, la) == 0;
	destroy(&k);
	return same;
}

static bool check_aes_made(struct env *e)
{
	return key_bits(e->made_key) == 256;
}

/* CryptExportKey, the size query then the blob, as Microsoft's example */
static BOOL export_run(struct env *e, DWORD type)
{
	DWORD size = 0;

	if (!CryptExportKey(e->key, e->exp, type, 0, NULL, &size))
		return FALSE;
	if (size > sizeof e->out)
		return FALSE;
	e->out_len = size;
	return CryptExportKey(e->key, e->exp, type, 0, e->out, &e->out_len);
}

static bool setup_exchange_key(struct env *e)
{
	return acquire(&e->prov, C_KEYS, 0) && CryptGetUserKey(e->prov, AT_KEYEXCHANGE, &e->key);
}

/* The exchange pair of C_KEYS is the vector's key, imported at start. */
static BOOL run_export_public(struct env *e)
{
	return export_run(e, PUBLICKEYBLOB);
}

static bool check_public(struct env *e)
{
	return e->out_len == pub_len && memcmp(e->out, pub_blob, pub_len) == 0;
}

static BOOL run_export_private(struct env *e)
{
	return export_run(e, PRIVATEKEYBLOB);
}

static bool check_private(struct env *e)
{
	return e->out_len == priv_len && memcmp(e->out, priv_blob, priv_len) == 0;
}

static bool setup_aes_key(struct env *e)
{
	return acquire(&e->prov, C_KEYS, 0) &&
	       CryptImportKey(e->prov, plain_blob, sizeof plain_blob, 0, CRYPT_EXPORTABLE, &e->key);
}

static BOOL run_export_plain(struct env *e)
{
	return export_run(e, PLAINTEXTKEYBLOB);
}

static bool check_plain(struct env *e)
{
	return e->out_len == sizeof plain_blob && memcmp(e->out, plain_blob, sizeof plain_blob) == 0;
}

static bool setup_simple_export(struct env *e)
{
	return setup_aes_key(e) && CryptGetUserKey(e->prov, AT_KEYEXCHANGE, &e->exp);
}

static BOOL run_export_simple(struct env *e)
{
	return export_run(e, SIMPLEBLOB);
}

/* BLOBHEADER {SIMPLEBLOB, 2, 0, CALG_AES_128}, CALG_RSA_KEYX, then as many
 * bytes as the 1024-bit modulus. */
static bool check_simple(struct env *e)
{
	static const BYTE head[12] = { 0x01, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00,
				       0x00, 0xa4, 0x00, 0x00 };

	return e->out_len == 12 + 128 && memcmp(e->out, head, sizeof head) == 0;
}

/* CryptImportKey */
static bool setup_keys_context(struct env *e)
{
	return acquire(&e->prov, C_KEYS, 0);
}

static BOOL run_import_public(struct env *e)
{
	return CryptImportKey(e->prov, pub_blob, pub_len, 0, 0, &e->made_key);
}

static bool setup_imp_context(struct env *e)
{
	return acquire(&e->prov, C_IMP, 0);
}

static BOOL run_import_private(struct env *e)
{
	return CryptImportKey(e->prov, priv_blob, priv_len, 0, CRYPT_EXPORTABLE, &e->made_key);
}

/* The imported pair is the container's exchange key, and gives back the
 * blob it came from. */
static bool check_private_imported(struct env *e)
{
	HCRYPTKEY k = 0;
	bool ok;

	if (!CryptGetUserKey(e->prov, AT_KEYEXCHANGE, &k))
		return false;
	e->key = k;
	ok = export_run(e, PRIVATEKEYBLOB) && check_private(e);
	destroy(&e->key);
	return ok;
}

static BOOL run_import_plain(struct env *e)
{
	return CryptImportKey(e->prov, plain_blob, sizeof plain_blob, 0, CRYPT_EXPORTABLE,
			      &e->made_key);
}

/* The key made is the key given: its PLAINTEXTKEYBLOB is the blob. */
static bool check_plain_imported(struct env *e)
{
	e->key = e->made_key;
	e->made_key = 0;
	return export_run(e, PLAINTEXTKEYBLOB) && check_plain(e);
}

static bool setup_simple_import(struct env *e)
{
	return acquire(&e->prov, C_SIMPLE, 0) && CryptGetUserKey(e->prov, AT_KEYEXCHANGE, &e->exp);
}

static BOOL run_import_simple(struct env *e)
{
	return CryptImportKey(e->prov, simple_blob, simple_len, e->exp, CRYPT_EXPORTABLE,
			      &e->made_key);
}

/* The unwrapped key is aes128.key, which openssl encrypted for the
 * vector. It arrived wrapped, so it is sensitive (SPEC section 3): no
 * PLAINTEXTKEYBLOB, and it encrypts as openssl does under aes128.key. */
static bool check_simple_imported(struct env *e)
{
	DWORD size = 0;

	e->key = e->made_key;
	e->made_key = 0;
	SetLastError(SENTINEL);
	if (CryptExportKey(e->key, 0, PLAINTEXTKEYBLOB, 0, NULL, &size) ||
	    GetLastError() != V_NTE_BAD_KEY_STATE)
		return false;
	memcpy(e->out, plaintext, sizeof plaintext);
	e->out_len = sizeof plaintext;
	return CryptEncrypt(e->key, 0, TRUE, 0, e->out, &e->out_len, sizeof e->out) &&
	       e->out_len == sizeof ciphertext && memcmp(e->out, ciphertext, sizeof ciphertext) == 0;
}

/* SYMMETRICWRAPKEYBLOB and OPAQUEKEYBLOB, under a wrap-only KEK that is
 * aes128.key */
static bool setup_kek(struct env *e)
{
	return acquire(&e->prov, C_KEYS, 0) &&
	       CryptImportKey(e->prov, plain_blob, sizeof plain_blob, 0, CRYPT_KEK, &e->kek);
}

static bool setup_wrap_export(struct env *e)
{
	return setup_kek(e) &&
	       CryptImportKey(e->prov, data_blob, sizeof data_blob, 0, CRYPT_EXPORTABLE, &e->key);
}

static BOOL run_export_symwrap(struct env *e)
{
	e->exp = e->kek;
	return export_run(e, SYMMETRICWRAPKEYBLOB);
}

static bool check_symwrap(struct env *e)
{
	return e->out_len == sizeof symwrap_blob &&
	       memcmp(e->out, symwrap_blob, sizeof symwrap_blob) == 0;
}

/* The key comes back as it went in. A key unwrapped under a KEK is
 * sensitive (no PLAINTEXTKEYBLOB): it encrypts as openssl does under the
 * RFC 3394 key data. */
static bool check_data_imported(struct env *e)
{
	e->key = e->made_key;
	e->made_key = 0;
	memcpy(e->out, plaintext, sizeof plaintext);
	e->out_len = sizeof plaintext;
	return CryptEncrypt(e->key, 0, TRUE, 0, e->out, &e->out_len, sizeof e->out) &&
	       e->out_len == sizeof data_ciphertext &&
	       memcmp(e->out, data_ciphertext, sizeof data_ciphertext) == 0;
}

static BOOL run_import_symwrap(struct env *e)
{
	return CryptImportKey(e->prov, symwrap_blob, sizeof symwrap_blob, e->kek, CRYPT_EXPORTABLE,
			      &e->made_key);
}

static BOOL run_export_opaque(struct env *e)
{
	e->exp = e->kek;
	return export_run(e, OPAQUEKEYBLOB);
}

/* capi11's own format (docs/OPAQUEKEYBLOB.md): what counts is that the
 * same KEK brings the key back. */
static bool check_opaque(struct env *e)
{
	HCRYPTKEY k = 0;
	bool ok;

	destroy(&e->key);
	if (!CryptImportKey(e->prov, e->out, e->out_len, e->exp, CRYPT_EXPORTABLE, &k))
		return false;
	e->made_key = k;
	ok = check_data_imported(e);
	return ok;
}

static bool setup_opaque_import(struct env *e)
{
	if (!setup_wrap_export(e) || !run_export_opaque(e))
		return false;
	memcpy(e->in, e->out, e->out_len);
	e->in_len = e->out_len;
	e->exp = 0;
	destroy(&e->key);
	return true;
}

static BOOL run_import_opaque(struct env *e)
{
	return CryptImportKey(e->prov, e->in, e->in_len, e->kek, CRYPT_EXPORTABLE, &e->made_key);
}

/* PP_CAPI11_KEY_PROTECTION, with what capi11 learnt of the token
 * forgotten first: the probe (two throwaway keys and a wrap on a session
 * of its own) runs each time. */
static bool setup_probe(struct env *e)
{
	struct context *ctx;

	if (!acquire(&e->prov, C_KEYS, 0) || context_get_locked(e->prov, &ctx) != ERROR_SUCCESS)
		return false;
	token_set_wrap_trust(ctx->ts.tok, TOKEN_WRAP_TRUST_UNKNOWN);
	context_put_locked(ctx);
	return true;
}

static BOOL run_probe(struct env *e)
{
	DWORD len = sizeof e->spec;

	e->spec = 0;
	return CryptGetProvParam(e->prov, PP_CAPI11_KEY_PROTECTION, (BYTE *)&e->spec, &len, 0);
}

static bool check_probe(struct env *e)
{
	return e->spec == CAPI11_PROTECTION_TRUSTED_WRAP;
}

/* Capi11TrustKeyA in a fresh container: the KEK, or the partner's key. */
static BOOL run_trust_kek(struct env *e)
{
	return Capi11TrustKeyA(e->prov, trusted_kek_blob, sizeof trusted_kek_blob, FIXTURE_SO_PIN,
			       FIXTURE_PIN, 0, &e->made_key);
}

static BOOL run_trust_public(struct env *e)
{
	return Capi11TrustKeyA(e->prov, partner_blob, sizeof partner_blob, FIXTURE_SO_PIN,
			       FIXTURE_PIN, 0, &e->made_key);
}

static bool setup_trust(struct env *e)
{
	setup_fresh_name(e);
	return acquire(&e->prov, e->name, CRYPT_NEWKEYSET);
}

static bool made_kek(struct env *e)
{
	HCRYPTKEY k = 0;
	bool ok = CryptGetUserKey(e->prov, CAPI11_AT_KEK, &k) && key_bits(k) == 256 &&
		  key_bits(e->made_key) == 256;

	destroy(&k);
	return ok;
}

/* The trusted public object is there: one CKA_TRUSTED public key with
 * the container's label, as SoftHSM shows it. */
static bool made_trusted_public(struct env *e)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TRUSTED, &yes, sizeof yes },
		{ CKA_LABEL, e->name, strlen(e->name) },
	};
	CK_OBJECT_HANDLE h[4];
	CK_ULONG n = 0;

	if (hsm->C_FindObjectsInit(hsm_session, t, 3) != CKR_OK)
		return false;
	hsm->C_FindObjects(hsm_session, h, 4, &n);
	hsm->C_FindObjectsFinal(hsm_session);
	return n == 1 && key_bits(e->made_key) == 1024;
}

static void teardown_trust(struct env *e)
{
	teardown_new(e);
}

/* A sensitive key (the sensitive policy) out under the trusted KEK. */
static bool setup_trusted_export(struct env *e)
{
	e->prov = 0;
	SetLastError(SENTINEL);
	return CryptAcquireContextA(&e->prov, C_TRUST, P_SENSITIVE, V_PROV_RSA_AES, CRYPT_SILENT) &&
	       CryptGetUserKey(e->prov, CAPI11_AT_KEK, &e->kek) &&
	       CryptImportKey(e->prov, data_blob, sizeof data_blob, 0, CRYPT_EXPORTABLE, &e->key);
}

/* BLOBHEADER {SYMMETRICWRAPKEYBLOB, 2, 0, CALG_AES_128}, CALG_AES_256 (the
 * trusted KEK), 24 wrapped bytes; the same KEK brings the key back. */
static bool check_trusted_symwrap(struct env *e)
{
	static const BYTE head[12] = { 0x0b, 0x02, 0x00, 0x00, 0x0e, 0x66, 0x00, 0x00,
				       0x10, 0x66, 0x00, 0x00 };

	return e->out_len == 12 + 24 && memcmp(e->out, head, sizeof head) == 0 && check_opaque(e);
}

/* CryptEncrypt, one call with Final */
static BOOL run_encrypt(struct env *e)
{
	memcpy(e->out, plaintext, sizeof plaintext);
	e->out_len = sizeof plaintext;
	return CryptEncrypt(e->key, 0, TRUE, 0, e->out, &e->out_len, sizeof e->out);
}

static bool check_encrypt(struct env *e)
{
	return e->out_len == sizeof ciphertext && memcmp(e->out, ciphertext, sizeof ciphertext) == 0;
}

/* Hashes: a digest on a session of the hash's own, a signature with the
 * container's exchange key, a key derived from a value. */
static const BYTE abc[3] = { 'a', 'b', 'c' };

/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
static const BYTE sha256_abc[32] = {
	0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
	0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
};

/* Microsoft's CryptDeriveKey expansion of SHA-1("abc") for AES-256: SHA-1
 * of the value XORed into 64 bytes of 0x36, then of 0x5C (Python's
 * hashlib). */
static const BYTE derived_abc[32] = {
	0xd6, 0x14, 0x9a, 0xa6, 0xdc, 0x73, 0xc5, 0x7f, 0x30, 0x0e, 0x5e, 0x86, 0x17, 0x5c, 0x3c, 0x3e,
	0x73, 0x10, 0x24, 0xad, 0x6d, 0xcd, 0x8a, 0x68, 0xad, 0x52, 0x3c, 0xb0, 0xde, 0x34, 0xb3, 0x20,
};

static BOOL run_hash(struct env *e)
{
	HCRYPTHASH h = 0;
	BOOL ok;

	e->out_len = sizeof e->out;
	ok = CryptCreateHash(e->prov, CALG_SHA_256, 0, 0, &h) && CryptHashData(h, abc, 3, 0) &&
	     CryptGetHashParam(h, HP_HASHVAL, e->out, &e->out_len, 0);
	if (h != 0) {
		DWORD err = GetLastError();
		CryptDestroyHash(h);
		SetLastError(err);
	}
	return ok;
}

static bool check_hash(struct env *e)
{
	return e->out_len == 32 && memcmp(e->out, sha256_abc, 32) == 0;
}

static BOOL run_sign(struct env *e)
{
	HCRYPTHASH h = 0;
	BOOL ok;

	e->out_len = sizeof e->out;
	ok = CryptCreateHash(e->prov, CALG_SHA1, 0, 0, &h) && CryptHashData(h, abc, 3, 0) &&
	     CryptSignHashA(h, AT_KEYEXCHANGE, NULL, 0, e->out, &e->out_len);
	if (h != 0) {
		DWORD err = GetLastError();
		CryptDestroyHash(h);
		SetLastError(err);
	}
	return ok;
}

/* The context has signed once: the fault window holds the signature
 * with the container key kept (sign.c), not CryptGetUserKey's lookup. */
static bool setup_signer(struct env *e)
{
	return setup_exchange_key(e) && run_sign(e);
}

/* Checked outside the fault window: the exchange key verifies it. */
static bool check_sign(struct env *e)
{
	HCRYPTHASH h = 0;
	bool ok = CryptCreateHash(e->prov, CALG_SHA1, 0, 0, &h) && CryptHashData(h, abc, 3, 0) &&
		  CryptVerifySignatureA(h, e->out, e->out_len, e->key, NULL, 0);

	if (h != 0)
		CryptDestroyHash(h);
	return ok;
}

static BOOL run_derive(struct env *e)
{
	HCRYPTHASH h = 0;
	BOOL ok;

	ok = CryptCreateHash(e->prov, CALG_SHA1, 0, 0, &h) && CryptHashData(h, abc, 3, 0) &&
	     CryptDeriveKey(e->prov, V_CALG_AES_256, h, CRYPT_EXPORTABLE, &e->made_key);
	if (h != 0) {
		DWORD err = GetLastError();
		CryptDestroyHash(h);
		SetLastError(err);
	}
	return ok;
}

static bool check_derive(struct env *e)
{
	BYTE blob[12 + 32];
	DWORD len = sizeof blob;

	return CryptExportKey(e->made_key, 0, PLAINTEXTKEYBLOB, 0, blob, &len) &&
	       len == sizeof blob && memcmp(blob + 12, derived_abc, 32) == 0;
}

static const struct route routes[] = {
	{ "acquire (open)", R_ACQUIRE, false, no_setup, run_acquire_open, made_something,
	  env_teardown },
	{ "acquire (CRYPT_NEWKEYSET)", R_ACQUIRE, false, setup_fresh_name, run_acquire_new,
	  made_something, teardown_new },
	{ "acquire (CRYPT_DELETEKEYSET)", R_ACQUIRE, false, setup_doomed, run_acquire_delete,
	  check_deleted, teardown_new },
	{ "acquire (CRYPT_VERIFYCONTEXT)", R_ACQUIRE, false, no_setup, run_acquire_verify,
	  made_something, env_teardown },
	{ "CryptGenKey (AT_KEYEXCHANGE)", R_GENKEY, false, setup_gen, run_gen_exchange,
	  check_pair_made, env_teardown },
	{ "CryptGenKey (AT_SIGNATURE)", R_GENKEY, false, setup_gen, run_gen_signature,
	  check_pair_made, env_teardown },
	{ "CryptGenKey (CALG_AES_256)", R_GENKEY, false, setup_gen, run_gen_aes, check_aes_made,
	  env_teardown },
	{ "CryptExportKey (PUBLICKEYBLOB)", R_EXPORT, false, setup_exchange_key,
	  run_export_public, check_public, env_teardown },
	{ "CryptExportKey (PRIVATEKEYBLOB)", R_EXPORT, false, setup_exchange_key,
	  run_export_private, check_private, env_teardown },
	{ "CryptExportKey (PLAINTEXTKEYBLOB)", R_EXPORT, true, setup_aes_key, run_export_plain,
	  check_plain, env_teardown },
	{ "CryptExportKey (SIMPLEBLOB)", R_EXPORT, true, setup_simple_export, run_export_simple,
	  check_simple, env_teardown },
	{ "CryptImportKey (PUBLICKEYBLOB)", R_IMPORT, false, setup_keys_context,
	  run_import_public, check_rsa_made, env_teardown },
	{ "CryptImportKey (PRIVATEKEYBLOB)", R_IMPORT, false, setup_imp_context,
	  run_import_private, check_private_imported, env_teardown },
	{ "CryptImportKey (PLAINTEXTKEYBLOB)", R_IMPORT, false, setup_keys_context,
	  run_import_plain, check_plain_imported, env_teardown },
	{ "CryptImportKey (SIMPLEBLOB)", R_IMPORT, false, setup_simple_import, run_import_simple,
	  check_simple_imported, env_teardown },
	{ "CryptExportKey (SYMMETRICWRAPKEYBLOB)", R_EXPORT, true, setup_wrap_export,
	  run_export_symwrap, check_symwrap, env_teardown },
	{ "CryptImportKey (SYMMETRICWRAPKEYBLOB)", R_IMPORT, true, setup_kek, run_import_symwrap,
	  check_data_imported, env_teardown },
	{ "CryptExportKey (OPAQUEKEYBLOB)", R_EXPORT, true, setup_wrap_export, run_export_opaque,
	  check_opaque, env_teardown },
	{ "CryptImportKey (OPAQUEKEYBLOB)", R_IMPORT, true, setup_opaque_import, run_import_opaque,
	  check_data_imported, env_teardown },
	{ "CryptEncrypt (AES-128, CBC)", R_ENCRYPT, true, setup_aes_key, run_encrypt,
	  check_encrypt, env_teardown },
	{ "PP_CAPI11_KEY_PROTECTION (the probe)", R_PARAM, false, setup_probe, run_probe,
	  check_probe, env_teardown },
	{ "Capi11TrustKeyA (KEK)", R_TRUST, false, setup_trust, run_trust_kek, made_kek,
	  teardown_trust },
	{ "Capi11TrustKeyA (public key)", R_TRUST, false, setup_trust, run_trust_public,
	  made_trusted_public, teardown_trust },
	{ "CryptExportKey (SYMMETRICWRAPKEYBLOB, trusted KEK)", R_EXPORT, true,
	  setup_trusted_export, run_export_symwrap, check_trusted_symwrap, env_teardown },
	{ "CryptExportKey (OPAQUEKEYBLOB, trusted KEK)", R_EXPORT, true, setup_trusted_export,
	  run_export_opaque, check_opaque, env_teardown },
	{ "CryptCreateHash + CryptHashData + HP_HASHVAL (SHA-256)", R_HASH, false,
	  setup_keys_context, run_hash, check_hash, env_teardown },
	{ "CryptSignHash (AT_KEYEXCHANGE, SHA-1)", R_HASH, false, setup_signer, run_sign,
	  check_sign, env_teardown },
	{ "CryptDeriveKey (AES-256 from SHA-1)", R_DERIVE, true, setup_keys_context, run_derive,
	  check_derive, env_teardown },
};

/* ---- What a fault must give ---- */

/* The code a Windows caller gets when fn fails with rv in a route of this
 * kind:
 * - a card that is gone: SCARD_E_NO_SMARTCARD (SPEC 2), and a session the
 *   token dropped: SCARD_W_REMOVED_CARD (errors.c), whatever the call;
 * - a slot or token that cannot be read while the token is looked for is
 *   a card that is not there: SCARD_E_NO_SMARTCARD (token.c skips it);
 * - every failure of the unwrap itself in a blob import is NTE_BAD_DATA
 *   (SPEC 5 and 7), and so is a template the token refuses with
 *   CKR_GENERAL_ERROR when it creates imported key material (errors.c);
 * - any other CKR_GENERAL_ERROR or CKR_BUFFER_TOO_SMALL is NTE_FAIL (SPEC 7);
 * - a module that fails C_GetFunctionList cannot be loaded:
 *   NTE_PROV_DLL_NOT_FOUND (errors.c). */
static DWORD expected_code(enum route_kind kind, const char *fn, CK_RV rv)
{
	/* p11-kit asks the module for its functions on every load: a module
	 * that cannot give them is a provider that cannot be loaded. */
	if (strcmp(fn, "C_GetFunctionList") == 0)
		return V_NTE_PROV_DLL_NOT_FOUND;
	if (kind == R_ACQUIRE && (strcmp(fn, "C_GetSlotInfo") == 0 ||
				  strcmp(fn, "C_GetTokenInfo") == 0))
		return V_SCARD_E_NO_SMARTCARD;
	if (rv == CKR_DEVICE_REMOVED)
		return V_SCARD_E_NO_SMARTCARD;
	if (rv == CKR_SESSION_HANDLE_INVALID)
		return V_SCARD_W_REMOVED_CARD;
	if (kind == R_IMPORT && strcmp(fn, "C_UnwrapKey") == 0)
		return V_NTE_BAD_DATA;
	/* A derived key is made as a PLAINTEXTKEYBLOB import makes one. */
	if ((kind == R_IMPORT || kind == R_TRUST || kind == R_DERIVE) &&
	    strcmp(fn, "C_CreateObject") == 0 && rv == CKR_GENERAL_ERROR)
		return V_NTE_BAD_DATA;
	return V_NTE_FAIL;
}

/* Calls whose failure the library may ride out, the route then succeeding
 * in full (its check passes): closing a session it gives up anyway; asking
 * whether the token is logged in (C_Login, which the token answers
 * CKR_USER_ALREADY_LOGGED_IN, is the fallback); and, as the last call of a
 * new container pair, destroying the public key of the pair it replaced,
 * whose private key is already gone; and, when acquiring, reading the
 * slot or token found last time (see below). */
static bool fault_tolerated(const struct route *r, unsigned long pos, unsigned long n,
			    const char *fn, CK_RV rv)
{
	if (strcmp(fn, "C_CloseSession") == 0 || strcmp(fn, "C_GetSessionInfo") == 0)
		return true;
	/* Exports read attributes into buffers of a guessed size first; a
	 * buffer too small sends them back to ask the lengths. */
	if (rv == CKR_BUFFER_TOO_SMALL && strcmp(fn, "C_GetAttributeValue") == 0)
		return true;
	/* Acquiring checks the slot where the token was found last time; when
	 * that check fails, the library looks for the token afresh. */
	if (r->kind == R_ACQUIRE &&
	    (strcmp(fn, "C_GetSlotInfo") == 0 || strcmp(fn, "C_GetTokenInfo") == 0))
		return true;
	return pos == n && strcmp(fn, "C_DestroyObject") == 0 &&
	       (r->check == check_pair_made || r->check == check_private_imported);
}

/* ---- The sweep ---- */

struct tally {
	unsigned runs, failures, tampered;
};

static void report(struct tally *t, const struct route *r, unsigned long pos, const char *fn,
		   const char *what, const char *detail)
{
	t->failures++;
	fprintf(stderr, "\n  %s, call %lu (%s), %s: %s", r->name, pos, fn ? fn : "?", what, detail);
}

static bool env_setup(const struct route *r, struct env *e)
{
	memset(e, 0, sizeof *e);
	return r->setup(e);
}

/* One unfaulted run with setup, check and teardown; returns the number of
 * PKCS#11 calls of the run itself and their names. */
static unsigned long route_count(const struct route *r, const char **names)
{
	struct env e;
	unsigned long n;
	BOOL ok;

	CU_ASSERT_FATAL(env_setup(r, &e));
	shim->reset();
	SetLastError(SENTINEL);
	ok = r->run(&e);
	n = shim->total();
	if (!ok)
		fprintf(stderr, "\n  %s: 0x%08x", r->name, (unsigned)GetLastError());
	CU_ASSERT_TRUE_FATAL(ok);
	CU_ASSERT_FATAL(n > 0 && n < MAX_CALLS);
	for (unsigned long i = 1; i <= n; i++)
		names[i] = call_name(i);
	CU_ASSERT_TRUE(r->check(&e));
	r->teardown(&e);
	return n;
}

/* Whether the fault left the context's session for dead. */
static bool rv_loses_session(CK_RV rv)
{
	return rv == CKR_DEVICE_REMOVED || rv == CKR_SESSION_HANDLE_INVALID;
}

/* Runs r with call pos failed with rv (tamper 0) or the lengths of its
 * pos-th C_GetAttributeValue tampered with (tamper != 0). */
static void route_fault(const struct route *r, unsigned long pos, unsigned long n,
			const char *fn, CK_RV rv, int tamper, struct tally *t)
{
	static struct objset before, after;
	bool by_sig = r->run == run_trust_kek || r->run == run_trust_public;
	size_t live = capi11_alloc_live();
	unsigned long hits, reused;
	struct env e;
	char detail[160];
	DWORD err;
	BOOL ok;

	t->runs++;
	CU_ASSERT_FATAL(env_setup(r, &e));
	objset_read(&before, by_sig);
	shim->reset();
	if (tamper)
		shim->tamper_length(pos, tamper);
	else
		shim->fail(NULL, pos, rv);
	SetLastError(SENTINEL);
	ok = r->run(&e);
	err = GetLastError();
	hits = tamper_hits();
	reused = lost_uses();
	shim->reset();
	objset_read(&after, by_sig);

	if (tamper) {
		/* A module that contradicts itself is an error, never a read
		 * past a buffer nor a blob made of what it said. A size query
		 * that P11SHIM_LEN_TOO_LARGE leaves alone changes nothing. */
		t->tampered += hits > 0;
		if (ok && hits > 0)
			report(t, r, pos, fn, tamper == P11SHIM_LEN_TOO_LARGE ? "length too large"
			       : "length unavailable", "succeeded");
	} else if (ok) {
		if (!fault_tolerated(r, pos, n, fn, rv) || !r->check(&e))
			report(t, r, pos, fn, rv_name(rv), "succeeded");
	} else if (err != expected_code(r->kind, fn, rv)) {
		snprintf(detail, sizeof detail, "0x%08x, expected 0x%08x", (unsigned)err,
			 (unsigned)expected_code(r->kind, fn, rv));
		report(t, r, pos, fn, rv_name(rv), detail);
	}
	if (!ok && objset_new(&before, &after) > 0) {
		snprintf(detail, sizeof detail, "%u new objects on the token",
			 objset_new(&before, &after));
		report(t, r, pos, fn, tamper ? "tampered length" : rv_name(rv), detail);
	}

	/* After a failure the next call works: on the same context, unless
	 * the fault took the route's session objects along; then on a fresh
	 * setup. */
	if (!ok && !tamper && rv_loses_session(rv) && r->session_bound) {
		r->teardown(&e);
		CU_ASSERT_FATAL(env_setup(r, &e));
	} else {
		destroy(&e.made_key);
		release(&e.made);
	}
	SetLastError(SENTINEL);
	if (!ok && (!r->run(&e) || !r->check(&e))) {
		snprintf(detail, sizeof detail, "the next call failed: 0x%08x",
			 (unsigned)GetLastError());
		report(t, r, pos, fn, tamper ? "tampered length" : rv_name(rv), detail);
	}
	r->teardown(&e);
	/* A session the token said was gone takes no more work, in this call
	 * or any later one: never pooled, never handed to another context. */
	reused += lost_uses();
	if (reused > 0) {
		snprintf(detail, sizeof detail, "%lu calls on a lost session", reused);
		report(t, r, pos, fn, tamper ? "tampered length" : rv_name(rv), detail);
	}
	if (capi11_alloc_live() != live) {
		snprintf(detail, sizeof detail, "%zd blocks leaked",
			 (ssize_t)(capi11_alloc_live() - live));
		report(t, r, pos, fn, tamper ? "tampered length" : rv_name(rv), detail);
	}
}

static void route_sweep(const struct route *r)
{
	const char *names[MAX_CALLS] = { NULL };
	struct tally t = { 0, 0, 0 };
	unsigned long n, attr_pos = 0;
	struct env e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	/* The first run fills the caches (modules, tokens, mechanisms), so
	 * that every later run makes the same calls. */
	CU_ASSERT_FATAL(env_setup(r, &e));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(r->run(&e));
	r->teardown(&e);
	n = route_count(r, names);

	for (unsigned long pos = 1; pos <= n; pos++) {
		const char *fn = names[pos];

		if (full_sweep) {
			for (size_t k = 0; k < CAPI11_N_ELEMENTS(fault_rvs); k++)
				route_fault(r, pos, n, fn, fault_rvs[k], 0, &t);
		} else {
			route_fault(r, pos, n, fn, fault_rvs[pos % CAPI11_N_ELEMENTS(fault_rvs)], 0,
				    &t);
		}
		if (fn != NULL && strcmp(fn, "C_GetAttributeValue") == 0) {
			attr_pos++;
			if (full_sweep || r->kind == R_EXPORT) {
				route_fault(r, attr_pos, n, fn, CKR_OK, P11SHIM_LEN_UNAVAILABLE, &t);
				route_fault(r, attr_pos, n, fn, CKR_OK, P11SHIM_LEN_TOO_LARGE, &t);
			}
		}
	}
	if (getenv("CAPI11_FAULT_VERBOSE") != NULL)
		fprintf(stderr, "\n  %s: %lu calls, %u faulted runs, %u with lengths tampered",
			r->name, n, t.runs, t.tampered);
	CU_ASSERT(t.runs >= n);
	CU_ASSERT_EQUAL(t.failures, 0);
}

/* Every call of a route is traced: one trace line at level 3 per call
 * that reaches the module, counted by the shim. */
static void route_traced(const struct route *r)
{
	unsigned long calls, lines = 0;
	const char *p;
	struct env e;
	char *text;
	BOOL ok;

	CU_ASSERT_FATAL(env_setup(r, &e));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(r->run(&e));
	r->teardown(&e);
	CU_ASSERT_FATAL(env_setup(r, &e));
	trace_set_level(3);
	testutil_stderr_begin("trace.txt");
	shim->reset();
	ok = r->run(&e);
	calls = shim->total();
	text = testutil_stderr_end(NULL);
	trace_set_level(0);
	CU_ASSERT_TRUE(ok);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (p = text; (p = strstr(p, "capi11:   C_")) != NULL; p++)
		lines++;
	if (lines != calls)
		fprintf(stderr, "\n  %s: %lu PKCS#11 calls, %lu traced", r->name, calls, lines);
	CU_ASSERT(calls > 0);
	CU_ASSERT_EQUAL(lines, calls);
	free(text);
	CU_ASSERT_TRUE(r->check(&e));
	r->teardown(&e);
}

/* CKR_SESSION_HANDLE_INVALID at every call of a route: the route fails
 * with SCARD_W_REMOVED_CARD or rides it out, and the lost session is
 * never used again (route_fault counts calls on it through the shim). */
static void route_loss_sweep(const struct route *r)
{
	const char *names[MAX_CALLS] = { NULL };
	struct tally t = { 0, 0, 0 };
	unsigned long n;
	struct env e;

	CU_ASSERT_FATAL(env_setup(r, &e));
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE_FATAL(r->run(&e));
	r->teardown(&e);
	n = route_count(r, names);
	for (unsigned long pos = 1; pos <= n; pos++)
		route_fault(r, pos, n, names[pos], CKR_SESSION_HANDLE_INVALID, 0, &t);
	CU_ASSERT(t.runs == n);
	CU_ASSERT_EQUAL(t.failures, 0);
}

static void test_every_call_traced(void)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(routes); i++)
		route_traced(&routes[i]);
}

static void test_every_loss_retires(void)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(routes); i++)
		route_loss_sweep(&routes[i]);
}

#define ROUTE_TEST(i) static void test_route_##i(void) { route_sweep(&routes[i]); }
ROUTE_TEST(0) ROUTE_TEST(1) ROUTE_TEST(2) ROUTE_TEST(3) ROUTE_TEST(4) ROUTE_TEST(5)
ROUTE_TEST(6) ROUTE_TEST(7) ROUTE_TEST(8) ROUTE_TEST(9) ROUTE_TEST(10) ROUTE_TEST(11)
ROUTE_TEST(12) ROUTE_TEST(13) ROUTE_TEST(14) ROUTE_TEST(15) ROUTE_TEST(16) ROUTE_TEST(17)
ROUTE_TEST(18) ROUTE_TEST(19) ROUTE_TEST(20) ROUTE_TEST(21) ROUTE_TEST(22) ROUTE_TEST(23)
ROUTE_TEST(24) ROUTE_TEST(25) ROUTE_TEST(26) ROUTE_TEST(27)

/* ---- A card pulled out and put back ---- */

/* The calls on a session, which a module answers CKR_DEVICE_REMOVED while
 * the card is out (the slot calls say CKR_TOKEN_NOT_PRESENT: the shim's
 * absent token). */
static const char *const session_calls[] = {
	"C_GetSessionInfo", "C_Login", "C_FindObjectsInit", "C_FindObjects",
	"C_FindObjectsFinal", "C_GetAttributeValue", "C_CreateObject", "C_DestroyObject",
	"C_GenerateKey", "C_GenerateKeyPair", "C_GenerateRandom", "C_WrapKey", "C_UnwrapKey",
	"C_EncryptInit", "C_DecryptInit", "C_CloseSession",
};

/* Every call fails while the card is out; once it is
 * back, the next call on the same context works (the lost session is
 * replaced), and so does a new context. */
static void test_removed_and_returned(void)
{
	HCRYPTPROV h = 0, h2 = 0;
	HCRYPTKEY k = 0, s = 0;
	BYTE blob[2048];
	DWORD len = sizeof blob;

	HCRYPTKEY a = 0;
	DWORD size = 0, size_again = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	CU_ASSERT_TRUE_FATAL(acquire(&h, C_KEYS, 0));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	/* A SIMPLEBLOB size answered before is kept with the key (export.c);
	 * once the session is lost it is not given again. */
	CU_ASSERT_TRUE_FATAL(CryptGenKey(h, V_CALG_AES_128, CRYPT_EXPORTABLE, &a));
	CU_ASSERT_TRUE(CryptExportKey(a, k, SIMPLEBLOB, 0, NULL, &size));
	CU_ASSERT_TRUE(CryptExportKey(a, k, SIMPLEBLOB, 0, NULL, &size_again));
	CU_ASSERT_EQUAL(size_again, size);

	shim->reset();
	shim->set_token_absent(true);
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(session_calls); i++)
		shim->fail(session_calls[i], 0, CKR_DEVICE_REMOVED);
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptExportKey(k, 0, PUBLICKEYBLOB, 0, blob, &len));
	CU_ASSERT_EQUAL(GetLastError(), V_SCARD_E_NO_SMARTCARD);
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptExportKey(a, k, SIMPLEBLOB, 0, NULL, &size_again));
	CU_ASSERT_EQUAL(GetLastError(), V_SCARD_E_NO_SMARTCARD);
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptGenKey(h, V_CALG_AES_128, 0, &s));
	CU_ASSERT_EQUAL(GetLastError(), V_SCARD_E_NO_SMARTCARD);
	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(acquire(&h2, C_KEYS, 0));
	CU_ASSERT_EQUAL(GetLastError(), V_SCARD_E_NO_SMARTCARD);
	CU_ASSERT_EQUAL(h2, 0);

	shim->reset();
	len = sizeof blob;
	SetLastError(SENTINEL);
	CU_ASSERT_TRUE(CryptExportKey(k, 0, PUBLICKEYBLOB, 0, blob, &len));
	CU_ASSERT(len == pub_len && memcmp(blob, pub_blob, pub_len) == 0);
	CU_ASSERT_TRUE(CryptGenKey(h, V_CALG_AES_128, 0, &s));
	CU_ASSERT_TRUE(acquire(&h2, C_KEYS, 0));
	destroy(&a);
	destroy(&s);
	destroy(&k);
	release(&h2);
	release(&h);
}

/* The card really goes and comes back: every session of the process on
 * the token is closed under the library (SoftHSM logs the token out with
 * the last one, and forgets every object handle of the slot), as a reader
 * does when the card is pulled. The first call on a context that was using
 * it fails SCARD_W_REMOVED_CARD (errors.c: the session vanished); from the
 * next call on, the context works on a new session and finds its
 * container's key again; key handles from before point to objects the
 * token no longer knows by those numbers and fail. A new context, which
 * brings its PIN, works at once, private key included. */
static void test_sessions_really_closed(void)
{
	HCRYPTPROV h = 0, h2 = 0;
	HCRYPTKEY k = 0, k2 = 0;
	BYTE blob[2048];
	DWORD len = sizeof blob;
	BOOL ok;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shim);
	shim->reset();
	CU_ASSERT_TRUE_FATAL(acquire(&h, C_KEYS, 0));
	CU_ASSERT_TRUE_FATAL(CryptGetUserKey(h, AT_KEYEXCHANGE, &k));
	CU_ASSERT_EQUAL_FATAL(hsm->C_CloseAllSessions(hsm_slot), CKR_OK);

	SetLastError(SENTINEL);
	CU_ASSERT_FALSE(CryptExportKey(k, 0, PUBLICKEYBLOB, 0, blob, &len));
	CU_ASSERT_EQUAL(GetLastError(), V_SCARD_W_REMOVED_CARD);
	destroy(&k);
	len = sizeof blob;
	SetLastError(SENTINEL);
	ok = CryptGetUserKey(h, AT_KEYEXCHANGE, &k) &&
	     CryptExportKey(k, 0, PUBLICKEYBLOB, 0, blob, &len);
	if (!ok)
		fprintf(stderr, "\n  the old context after the card came back: 0x%08x",
			(unsigned)GetLastError());
	CU_ASSERT_TRUE(ok);
	CU_ASSERT(len == pub_len && memcmp(blob, pub_blob, pub_len) == 0);

	SetLastError(SENTINEL);
	ok = acquire(&h2, C_KEYS, 0);
	if (!ok)
		fprintf(stderr, "\n  new context after the card came back: 0x%08x",
			(unsigned)GetLastError());
	CU_ASSERT_TRUE(ok);
	len = sizeof blob;
	CU_ASSERT_TRUE(ok && CryptGetUserKey(h2, AT_KEYEXCHANGE, &k2) &&
		       CryptExportKey(k2, 0, PRIVATEKEYBLOB, 0, blob, &len) && len == priv_len &&
		       memcmp(blob, priv_blob, priv_len) == 0);
	destroy(&k2);
	destroy(&k);
	release(&h2);

	/* Pulled again with sessions in the pool: a new context is the first
	 * to meet the token afterwards. */
	CU_ASSERT_EQUAL_FATAL(hsm->C_CloseAllSessions(hsm_slot), CKR_OK);
	SetLastError(SENTINEL);
	ok = acquire(&h2, C_KEYS, 0);
	if (!ok)
		fprintf(stderr, "\n  new context, first after the card came back: 0x%08x",
			(unsigned)GetLastError());
	CU_ASSERT_TRUE(ok);
	release(&h2);
	release(&h);
	/* The listing session went with the others. */
	hsm_open();
}

/* ---- Suite ---- */

/* The containers the routes use, made through the shim before anything
 * is counted. */
static int suite_init(void)
{
	HCRYPTPROV h;
	HCRYPTKEY k;
	const char *sweep = getenv("CAPI11_FAULT_SWEEP");
	void *mod;

	if (!fixture_init()) {
		cutest_skip("SoftHSM is not installed");
		return 0;
	}
	full_sweep = sweep != NULL && strcmp(sweep, "full") == 0;
	shim = fixture_shim();
	mod = fixture_shim_path() ? dlopen(fixture_shim_path(), RTLD_NOW | RTLD_LOCAL) : NULL;
	if (shim == NULL || mod == NULL) {
		cutest_skip("the fault-injecting shim was not built");
		return 0;
	}
	*(void **)&call_name = dlsym(mod, "p11shim_call_name");
	*(void **)&tamper_hits = dlsym(mod, "p11shim_tamper_hits");
	*(void **)&lost_uses = dlsym(mod, "p11shim_lost_session_uses");
	if (lost_uses == NULL)
		return -1;
	priv_blob = testutil_vector_load("rsa1024-priv.blob", &priv_len);
	pub_blob = testutil_vector_load("rsa1024-pub.blob", &pub_len);
	simple_blob = testutil_vector_load("rsa1024-simple.blob", &simple_len);
	aes_key = testutil_vector_load("aes128.key", &aes_len);
	if (call_name == NULL || tamper_hits == NULL || !priv_blob || !pub_blob || !simple_blob || !aes_key || aes_len != 16)
		return -1;
	plain_blob_make();
	if (!testutil_openssl_cbc_load(aes_key, plaintext, sizeof plaintext, ciphertext,
				       sizeof ciphertext) ||
	    !testutil_openssl_cbc_load(rfc3394_data, plaintext, sizeof plaintext, data_ciphertext,
				       sizeof data_ciphertext))
		return -1;

	label = fixture_label_new("faults");
	if (label == NULL || fixture_token_new(label) != 0)
		return -1;
	uri = fixture_token_uri_shim(label, true);
	if (uri == NULL)
		return -1;
	{
		char text[2048], *conf;
		int n = snprintf(text, sizeof text, "[provider \"%s\"]\nuri = %s\ntype = 24\n"
				 "exportable-policy = sensitive\n", P_SENSITIVE, uri);

		if (n < 0 || (size_t)n >= sizeof text)
			return -1;
		conf = fixture_write_file("capi11-faults.conf", text, (size_t)n);
		if (conf == NULL)
			return -1;
		setenv("CAPI11_CONF", conf, 1);
		free(conf);
	}

	static const char *const with_pair[] = { C_KEYS, C_IMP, C_SIMPLE };
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(with_pair); i++) {
		if (!acquire(&h, with_pair[i], CRYPT_NEWKEYSET))
			return -1;
		k = 0;
		if (!CryptImportKey(h, priv_blob, priv_len, 0, CRYPT_EXPORTABLE, &k))
			return -1;
		CryptDestroyKey(k);
		CryptReleaseContext(h, 0);
	}
	if (!acquire(&h, C_GEN, CRYPT_NEWKEYSET))
		return -1;
	CryptReleaseContext(h, 0);
	/* The operator's KEK in C_TRUST; a partner's public key. */
	testutil_plaintext_blob(trusted_kek_blob, V_CALG_AES_256, trusted_kek, 32);
	if (!acquire(&h, C_TRUST, CRYPT_NEWKEYSET))
		return -1;
	if (!Capi11TrustKeyA(h, trusted_kek_blob, sizeof trusted_kek_blob, FIXTURE_SO_PIN,
			     FIXTURE_PIN, 0, NULL))
		return -1;
	CryptReleaseContext(h, 0);
	/* The partner's key pair lives in a verify context's memory: its
	 * private half is gone from the token once the context is released,
	 * as a partner's private key is on no token of ours (a public key
	 * whose private half is on the token is refused trust). */
	if (!acquire(&h, NULL, CRYPT_VERIFYCONTEXT) ||
	    !CryptGenKey(h, AT_KEYEXCHANGE, 1024u << 16, &k))
		return -1;
	{
		DWORD len = sizeof partner_blob;

		if (!CryptExportKey(k, 0, PUBLICKEYBLOB, 0, partner_blob, &len) ||
		    len != sizeof partner_blob)
			return -1;
	}
	CryptDestroyKey(k);
	CryptReleaseContext(h, 0);
	return hsm_open() ? 0 : -1;
}

static CU_TestInfo sweep_tests[] = {
	{ "acquire, open", test_route_0 },
	{ "acquire, CRYPT_NEWKEYSET", test_route_1 },
	{ "acquire, CRYPT_DELETEKEYSET", test_route_2 },
	{ "acquire, CRYPT_VERIFYCONTEXT", test_route_3 },
	{ "CryptGenKey, AT_KEYEXCHANGE", test_route_4 },
	{ "CryptGenKey, AT_SIGNATURE", test_route_5 },
	{ "CryptGenKey, CALG_AES_256", test_route_6 },
	{ "CryptExportKey, PUBLICKEYBLOB", test_route_7 },
	{ "CryptExportKey, PRIVATEKEYBLOB", test_route_8 },
	{ "CryptExportKey, PLAINTEXTKEYBLOB", test_route_9 },
	{ "CryptExportKey, SIMPLEBLOB", test_route_10 },
	{ "CryptImportKey, PUBLICKEYBLOB", test_route_11 },
	{ "CryptImportKey, PRIVATEKEYBLOB", test_route_12 },
	{ "CryptImportKey, PLAINTEXTKEYBLOB", test_route_13 },
	{ "CryptImportKey, SIMPLEBLOB", test_route_14 },
	{ "CryptExportKey, SYMMETRICWRAPKEYBLOB", test_route_15 },
	{ "CryptImportKey, SYMMETRICWRAPKEYBLOB", test_route_16 },
	{ "CryptExportKey, OPAQUEKEYBLOB", test_route_17 },
	{ "CryptImportKey, OPAQUEKEYBLOB", test_route_18 },
	{ "CryptEncrypt", test_route_19 },
	{ "PP_CAPI11_KEY_PROTECTION, the probe", test_route_20 },
	{ "Capi11TrustKeyA, KEK", test_route_21 },
	{ "Capi11TrustKeyA, public key", test_route_22 },
	{ "CryptExportKey, SYMMETRICWRAPKEYBLOB under the trusted KEK", test_route_23 },
	{ "CryptExportKey, OPAQUEKEYBLOB under the trusted KEK", test_route_24 },
	{ "hash value, SHA-256", test_route_25 },
	{ "CryptSignHash", test_route_26 },
	{ "CryptDeriveKey", test_route_27 },
	{ "every PKCS#11 call is traced", test_every_call_traced },
	{ "every session-loss result retires the session", test_every_loss_retires },
	{ "card removed and returned", test_removed_and_returned },
	{ "card removed and returned, sessions closed", test_sessions_really_closed },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "fault sweep", suite_init, NULL, NULL, NULL, sweep_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc = cutest_run(suites);

	fixture_cleanup(rc == 0 || rc == CUTEST_SKIP);
	free(uri);
	free(label);
	free(priv_blob);
	free(pub_blob);
	free(simple_blob);
	free(aes_key);
	return rc;
}
