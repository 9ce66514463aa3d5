/* The raw side: the shortest PKCS#11 call sequence a careful program would
 * write for each operation, on the module capi11 uses (the same path, so
 * dlopen hands back the same, already initialised instance), with the
 * blob layout done by hand where the operation yields a blob. Buffers are
 * sized for RSA-2048 and AES-256 up front, so every read is one call. */
#include "config.h"
#include "bench.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#define RSA_BYTES 256
#define BLOBHEADER_LEN 8
#define TYPE_SIMPLEBLOB 0x1
#define TYPE_PUBLICKEYBLOB 0x6
#define TYPE_PLAINTEXTKEYBLOB 0x8
#define TYPE_SYMMETRICWRAPKEYBLOB 0xB
#define ALG_RSA_KEYX 0xA400
#define ALG_AES_256 0x6610
#define MAGIC_RSA1 0x31415352

struct raw {
	void *dl;
	CK_FUNCTION_LIST *fl;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE pub, priv, aes, kek;
	unsigned char wrapped[RSA_BYTES];
	CK_ULONG wrapped_len;
	unsigned char blob[BLOBHEADER_LEN + 12 + 2 * RSA_BYTES];
	unsigned char plain[BENCH_DATA_LEN];
	unsigned char cipher[BENCH_DATA_LEN + 32];
	unsigned char hash_data[BENCH_HASH_LEN];
};

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const CK_OBJECT_CLASS secret_class = CKO_SECRET_KEY;
static const CK_KEY_TYPE aes_type = CKK_AES;
static const CK_ULONG aes_len = 32;

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static void put_header(unsigned char *p, unsigned type, uint32_t alg)
{
	p[0] = type;
	p[1] = 2;
	p[2] = p[3] = 0;
	put_le32(p + 4, alg);
}

/* CryptoAPI blobs hold numbers little-endian. */
static void put_reversed(unsigned char *dst, const unsigned char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

static CK_RV find_one(struct raw *raw, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, (void *)BENCH_CONTAINER, strlen(BENCH_CONTAINER) },
	};
	CK_ULONG n = 0;
	CK_RV rv;

	rv = raw->fl->C_FindObjectsInit(raw->s, tmpl, 2);
	if (rv != CKR_OK)
		return rv;
	rv = raw->fl->C_FindObjects(raw->s, out, 1, &n);
	raw->fl->C_FindObjectsFinal(raw->s);
	if (rv == CKR_OK && n != 1)
		rv = CKR_OBJECT_HANDLE_INVALID;
	return rv;
}

static CK_RV find_slot(struct raw *raw, const char *label)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16, i;
	CK_TOKEN_INFO ti;
	char padded[32];
	size_t len = strlen(label);
	CK_RV rv;

	if (len > sizeof padded)
		return CKR_ARGUMENTS_BAD;
	memset(padded, ' ', sizeof padded);
	memcpy(padded, label, len);
	rv = raw->fl->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK)
		return rv;
	for (i = 0; i < n; i++) {
		if (raw->fl->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    memcmp(ti.label, padded, sizeof padded) == 0) {
			raw->slot = slots[i];
			return CKR_OK;
		}
	}
	return CKR_TOKEN_NOT_PRESENT;
}

/* An AES-256 session key like the ones capi11 makes: exportable ones for
 * data, a wrap-only one to wrap under. */
static CK_RV aes_generate(struct raw *raw, bool wrap_only, CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM mech = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&secret_class, sizeof secret_class },
		{ CKA_KEY_TYPE, (void *)&aes_type, sizeof aes_type },
		{ CKA_VALUE_LEN, (void *)&aes_len, sizeof aes_len },
		{ CKA_TOKEN, (void *)&no, sizeof no },
		{ CKA_PRIVATE, (void *)&yes, sizeof yes },
		{ CKA_SENSITIVE, (void *)(wrap_only ? &yes : &no), sizeof no },
		{ CKA_EXTRACTABLE, (void *)(wrap_only ? &no : &yes), sizeof yes },
		{ CKA_ENCRYPT, (void *)(wrap_only ? &no : &yes), sizeof yes },
		{ CKA_DECRYPT, (void *)(wrap_only ? &no : &yes), sizeof yes },
		{ CKA_WRAP, (void *)(wrap_only ? &yes : &no), sizeof yes },
		{ CKA_UNWRAP, (void *)(wrap_only ? &yes : &no), sizeof yes },
	};

	return raw->fl->C_GenerateKey(raw->s, &mech, tmpl, sizeof tmpl / sizeof tmpl[0], out);
}

struct raw *raw_new(const char *module_path, const char *token_label, uint32_t *error)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_C_GetFunctionList get_list;
	CK_MECHANISM rsa = { CKM_RSA_PKCS, NULL, 0 };
	struct raw *raw = calloc(1, sizeof *raw);
	CK_RV rv = CKR_HOST_MEMORY;

	if (raw == NULL)
		goto failed;
	raw->dl = dlopen(module_path, RTLD_NOW | RTLD_LOCAL);
	rv = CKR_GENERAL_ERROR;
	if (raw->dl == NULL)
		goto failed;
	get_list = (CK_C_GetFunctionList)dlsym(raw->dl, "C_GetFunctionList");
	if (get_list == NULL || get_list(&raw->fl) != CKR_OK)
		goto failed;
	/* capi11 initialised it first, with OS locking: that instance is shared. */
	rv = raw->fl->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		goto failed;
	rv = find_slot(raw, token_label);
	if (rv != CKR_OK)
		goto failed;
	rv = raw->fl->C_OpenSession(raw->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				    &raw->s);
	if (rv != CKR_OK)
		goto failed;
	/* Login is per token and capi11 holds it; never log out, that would
	 * kill capi11's session objects. */
	rv = raw->fl->C_Login(raw->s, CKU_USER, (CK_UTF8CHAR_PTR)BENCH_PIN, strlen(BENCH_PIN));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		goto failed;
	rv = find_one(raw, CKO_PUBLIC_KEY, &raw->pub);
	if (rv == CKR_OK)
		rv = find_one(raw, CKO_PRIVATE_KEY, &raw->priv);
	if (rv == CKR_OK)
		rv = aes_generate(raw, false, &raw->aes);
	if (rv == CKR_OK)
		rv = aes_generate(raw, true, &raw->kek);
	if (rv != CKR_OK)
		goto failed;
	/* The ciphertext the import side unwraps, made once. */
	raw->wrapped_len = sizeof raw->wrapped;
	rv = raw->fl->C_WrapKey(raw->s, &rsa, raw->pub, raw->aes, raw->wrapped, &raw->wrapped_len);
	if (rv != CKR_OK)
		goto failed;
	memset(raw->plain, 0x5a, sizeof raw->plain);
	memset(raw->hash_data, 0xa5, sizeof raw->hash_data);
	return raw;
failed:
	*error = (uint32_t)rv;
	raw_free(raw);
	return NULL;
}

void raw_free(struct raw *raw)
{
	if (raw == NULL)
		return;
	/* Closing the session destroys its keys; no C_Finalize: capi11 still
	 * uses the module, and dlclose only drops a reference. */
	if (raw->s != 0)
		raw->fl->C_CloseSession(raw->s);
	if (raw->dl != NULL)
		dlclose(raw->dl);
	free(raw);
}

uint32_t raw_public_blob(void *p)
{
	struct raw *raw = p;
	unsigned char modulus[2 * RSA_BYTES], exponent[8];
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_MODULUS, modulus, sizeof modulus },
		{ CKA_PUBLIC_EXPONENT, exponent, sizeof exponent },
	};
	uint32_t e = 0;
	CK_ULONG i;
	CK_RV rv;

	rv = raw->fl->C_GetAttributeValue(raw->s, raw->pub, tmpl, 2);
	if (rv != CKR_OK)
		return rv;
	if (tmpl[0].ulValueLen > sizeof raw->blob - 20 || tmpl[1].ulValueLen > 4)
		return CKR_GENERAL_ERROR;
	for (i = 0; i < tmpl[1].ulValueLen; i++)
		e = (e << 8) | exponent[i];
	put_header(raw->blob, TYPE_PUBLICKEYBLOB, ALG_RSA_KEYX);
	put_le32(raw->blob + 8, MAGIC_RSA1);
	put_le32(raw->blob + 12, (uint32_t)tmpl[0].ulValueLen * 8);
	put_le32(raw->blob + 16, e);
	put_reversed(raw->blob + 20, modulus, tmpl[0].ulValueLen);
	return CKR_OK;
}

uint32_t raw_simple_export(void *p)
{
	struct raw *raw = p;
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	unsigned char ct[RSA_BYTES];
	CK_ULONG len = sizeof ct;
	CK_RV rv;

	rv = raw->fl->C_WrapKey(raw->s, &mech, raw->pub, raw->aes, ct, &len);
	if (rv != CKR_OK)
		return rv;
	put_header(raw->blob, TYPE_SIMPLEBLOB, ALG_AES_256);
	put_le32(raw->blob + 8, ALG_RSA_KEYX);
	put_reversed(raw->blob + 12, ct, len);
	return CKR_OK;
}

uint32_t raw_simple_import(void *p)
{
	struct raw *raw = p;
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&secret_class, sizeof secret_class },
		{ CKA_KEY_TYPE, (void *)&aes_type, sizeof aes_type },
		{ CKA_TOKEN, (void *)&no, sizeof no },
		{ CKA_PRIVATE, (void *)&yes, sizeof yes },
		{ CKA_SENSITIVE, (void *)&no, sizeof no },
		{ CKA_EXTRACTABLE, (void *)&yes, sizeof yes },
		{ CKA_ENCRYPT, (void *)&yes, sizeof yes },
		{ CKA_DECRYPT, (void *)&yes, sizeof yes },
	};
	CK_OBJECT_HANDLE key;
	CK_RV rv;

	/* An imported key lives until its handle is destroyed: both sides
	 * destroy it at once, so the store does not grow. */
	rv = raw->fl->C_UnwrapKey(raw->s, &mech, raw->priv, raw->wrapped, raw->wrapped_len, tmpl,
				  sizeof tmpl / sizeof tmpl[0], &key);
	if (rv != CKR_OK)
		return rv;
	return raw->fl->C_DestroyObject(raw->s, key);
}

uint32_t raw_symwrap_export(void *p)
{
	struct raw *raw = p;
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP, NULL, 0 };
	unsigned char wrapped[48];
	CK_ULONG len = sizeof wrapped;
	CK_RV rv;

	rv = raw->fl->C_WrapKey(raw->s, &mech, raw->kek, raw->aes, wrapped, &len);
	if (rv != CKR_OK)
		return rv;
	put_header(raw->blob, TYPE_SYMMETRICWRAPKEYBLOB, ALG_AES_256);
	put_le32(raw->blob + 8, ALG_AES_256);
	memcpy(raw->blob + 12, wrapped, len);
	return CKR_OK;
}

uint32_t raw_plaintext(void *p)
{
	struct raw *raw = p;
	unsigned char value[32];
	CK_ATTRIBUTE attr = { CKA_VALUE, value, sizeof value };
	CK_RV rv;

	rv = raw->fl->C_GetAttributeValue(raw->s, raw->aes, &attr, 1);
	if (rv != CKR_OK)
		return rv;
	if (attr.ulValueLen != sizeof value)
		return CKR_GENERAL_ERROR;
	put_header(raw->blob, TYPE_PLAINTEXTKEYBLOB, ALG_AES_256);
	put_le32(raw->blob + 8, sizeof value);
	memcpy(raw->blob + 12, value, sizeof value);
	/* Key bytes: the same wiping capi11 does. */
	memset(value, 0, sizeof value);
	__asm__ __volatile__("" : : "r"(value) : "memory");
	return CKR_OK;
}

/* What CryptAcquireContext on an existing container must do at least: a
 * session, a search for the container's objects by label, the session
 * closed again. */
uint32_t raw_open_find_close(void *p)
{
	struct raw *raw = p;
	CK_ATTRIBUTE tmpl = { CKA_LABEL, (void *)BENCH_CONTAINER, strlen(BENCH_CONTAINER) };
	CK_OBJECT_HANDLE objs[16];
	CK_SESSION_HANDLE s;
	CK_ULONG n = 0;
	CK_RV rv, crv;

	rv = raw->fl->C_OpenSession(raw->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return rv;
	rv = raw->fl->C_FindObjectsInit(s, &tmpl, 1);
	if (rv == CKR_OK) {
		rv = raw->fl->C_FindObjects(s, objs, 16, &n);
		crv = raw->fl->C_FindObjectsFinal(s);
		if (rv == CKR_OK)
			rv = crv;
		if (rv == CKR_OK && n == 0)
			rv = CKR_OBJECT_HANDLE_INVALID;
	}
	crv = raw->fl->C_CloseSession(s);
	return rv != CKR_OK ? rv : crv;
}

/* What a verify context must do at least: make sure the token is still
 * in its slot (an absent card is SCARD_E_NO_SMARTCARD at once, SPEC), then
 * a session, closed again. */
uint32_t raw_slot_open_close(void *p)
{
	struct raw *raw = p;
	CK_SLOT_INFO info;
	CK_SESSION_HANDLE s;
	CK_RV rv;

	rv = raw->fl->C_GetSlotInfo(raw->slot, &info);
	if (rv != CKR_OK)
		return rv;
	if (!(info.flags & CKF_TOKEN_PRESENT))
		return CKR_TOKEN_NOT_PRESENT;
	rv = raw->fl->C_OpenSession(raw->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return rv;
	return raw->fl->C_CloseSession(s);
}

/* CryptEncrypt with Final pads 4096 bytes to 4112: CBC_PAD does the same
 * cipher work in one call. */
uint32_t raw_encrypt(void *p)
{
	struct raw *raw = p;
	unsigned char iv[16] = { 0 };
	CK_MECHANISM mech = { CKM_AES_CBC_PAD, iv, sizeof iv };
	CK_ULONG len = sizeof raw->cipher;
	CK_RV rv;

	rv = raw->fl->C_EncryptInit(raw->s, &mech, raw->aes);
	if (rv != CKR_OK)
		return rv;
	rv = raw->fl->C_Encrypt(raw->s, raw->plain, sizeof raw->plain, raw->cipher, &len);
	if (rv == CKR_OK && len != BENCH_DATA_LEN + 16)
		rv = CKR_GENERAL_ERROR;
	return rv;
}

uint32_t raw_hash(void *p)
{
	struct raw *raw = p;
	CK_MECHANISM mech = { CKM_SHA256, NULL, 0 };
	unsigned char out[32];
	CK_ULONG len = sizeof out;
	CK_RV rv;

	rv = raw->fl->C_DigestInit(raw->s, &mech);
	if (rv == CKR_OK)
		rv = raw->fl->C_Digest(raw->s, raw->hash_data, sizeof raw->hash_data, out, &len);
	return rv;
}

/* The path capi11 takes: the token digests, then signs the DER DigestInfo
 * with CKM_RSA_PKCS. */
uint32_t raw_sign(void *p)
{
	static const unsigned char prefix[] = {
		0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
		0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
	};
	struct raw *raw = p;
	CK_MECHANISM sha = { CKM_SHA256, NULL, 0 }, rsa = { CKM_RSA_PKCS, NULL, 0 };
	unsigned char info[sizeof prefix + 32], sig[RSA_BYTES];
	CK_ULONG len = 32, sig_len = sizeof sig;
	CK_RV rv;

	memcpy(info, prefix, sizeof prefix);
	rv = raw->fl->C_DigestInit(raw->s, &sha);
	if (rv == CKR_OK)
		rv = raw->fl->C_Digest(raw->s, raw->hash_data, BENCH_SIGN_LEN, info + sizeof prefix,
				       &len);
	if (rv == CKR_OK)
		rv = raw->fl->C_SignInit(raw->s, &rsa, raw->priv);
	if (rv == CKR_OK)
		rv = raw->fl->C_Sign(raw->s, info, sizeof info, sig, &sig_len);
	return rv;
}
