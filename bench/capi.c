/* The capi11 side: each operation as a Windows program writes it. */
#include "config.h"
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <wincrypt.h>

/* CryptEncrypt is bound weakly: a library without the data operations
 * still runs every other comparison, and this one reports n/a. */
#pragma weak CryptEncrypt
#pragma weak CryptCreateHash
#pragma weak CryptHashData
#pragma weak CryptGetHashParam
#pragma weak CryptDestroyHash
#pragma weak CryptSignHashA

#define ERROR_PROC_NOT_FOUND 127u
#define BLOB_MAX 2048

struct capi {
	const char *uri;
	/* The URI without its PIN attribute, for verify contexts, which never
	 * log in (the raw side reads no PIN either). */
	char verify_uri[1024];
	HCRYPTPROV prov;
	HCRYPTKEY rsa, aes, kek;
	/* Why a key or blob needed by an operation could not be made. */
	DWORD kek_error, simple_error;
	BYTE simple[BLOB_MAX];
	DWORD simple_len;
	BYTE blob[BLOB_MAX];
	BYTE data[BENCH_DATA_LEN + 32];
	BYTE hash_data[BENCH_HASH_LEN];
};

static uint32_t last_error(void)
{
	DWORD err = GetLastError();

	/* A failure that left no code is still a failure. */
	return err != 0 ? err : NTE_FAIL;
}

static struct capi *capi_open(const char *uri, bool create, uint32_t *error)
{
	struct capi *capi = calloc(1, sizeof *capi);
	DWORD flags = create ? CRYPT_NEWKEYSET : 0;

	if (capi == NULL) {
		*error = NTE_NO_MEMORY;
		return NULL;
	}
	capi->uri = uri;
	{
		const char *pin = strstr(uri, "&pin-");
		size_t n = pin != NULL ? (size_t)(pin - uri) : strlen(uri);

		if (n >= sizeof capi->verify_uri)
			n = sizeof capi->verify_uri - 1;
		memcpy(capi->verify_uri, uri, n);
		capi->verify_uri[n] = '\0';
	}
	if (!CryptAcquireContextA(&capi->prov, BENCH_CONTAINER, uri, PROV_RSA_AES, flags))
		goto failed;
	if (create) {
		if (!CryptGenKey(capi->prov, AT_KEYEXCHANGE, 2048u << 16, &capi->rsa))
			goto failed;
	} else if (!CryptGetUserKey(capi->prov, AT_KEYEXCHANGE, &capi->rsa)) {
		goto failed;
	}
	if (!CryptGenKey(capi->prov, CALG_AES_256, (256u << 16) | CRYPT_EXPORTABLE, &capi->aes))
		goto failed;
	/* The wrapping key: a wrap-only key where the library offers one
	 * (CRYPT_KEK), else an ordinary AES-256 key. */
	if (!CryptGenKey(capi->prov, CALG_AES_256, (256u << 16) | CRYPT_KEK, &capi->kek) &&
	    !CryptGenKey(capi->prov, CALG_AES_256, 256u << 16, &capi->kek))
		capi->kek_error = last_error();
	capi->simple_len = sizeof capi->simple;
	if (!CryptExportKey(capi->aes, capi->rsa, SIMPLEBLOB, 0, capi->simple, &capi->simple_len))
		capi->simple_error = last_error();
	memset(capi->data, 0x5a, sizeof capi->data);
	memset(capi->hash_data, 0xa5, sizeof capi->hash_data);
	return capi;
failed:
	*error = last_error();
	capi_free(capi);
	return NULL;
}

struct capi *capi_new(const char *uri, uint32_t *error)
{
	return capi_open(uri, true, error);
}

struct capi *capi_new_second(const char *uri, uint32_t *error)
{
	return capi_open(uri, false, error);
}

void capi_free(struct capi *capi)
{
	if (capi == NULL)
		return;
	if (capi->kek != 0)
		CryptDestroyKey(capi->kek);
	if (capi->aes != 0)
		CryptDestroyKey(capi->aes);
	if (capi->rsa != 0)
		CryptDestroyKey(capi->rsa);
	if (capi->prov != 0)
		CryptReleaseContext(capi->prov, 0);
	free(capi);
}

static uint32_t key_export(HCRYPTKEY key, HCRYPTKEY exp, DWORD type, BYTE *buf)
{
	DWORD len = BLOB_MAX;

	return CryptExportKey(key, exp, type, 0, buf, &len) ? 0 : last_error();
}

uint32_t capi_public_blob(void *p)
{
	struct capi *capi = p;

	return key_export(capi->rsa, 0, PUBLICKEYBLOB, capi->blob);
}

uint32_t capi_simple_export(void *p)
{
	struct capi *capi = p;

	return key_export(capi->aes, capi->rsa, SIMPLEBLOB, capi->blob);
}

uint32_t capi_simple_size(void *p)
{
	struct capi *capi = p;
	DWORD len = 0;

	return CryptExportKey(capi->aes, capi->rsa, SIMPLEBLOB, 0, NULL, &len) ? 0 : last_error();
}

uint32_t capi_simple_import(void *p)
{
	struct capi *capi = p;
	HCRYPTKEY key;

	if (capi->simple_error != 0)
		return capi->simple_error;
	if (!CryptImportKey(capi->prov, capi->simple, capi->simple_len, capi->rsa,
			    CRYPT_EXPORTABLE, &key))
		return last_error();
	return CryptDestroyKey(key) ? 0 : last_error();
}

uint32_t capi_symwrap_export(void *p)
{
	struct capi *capi = p;

	if (capi->kek_error != 0)
		return capi->kek_error;
	return key_export(capi->aes, capi->kek, SYMMETRICWRAPKEYBLOB, capi->blob);
}

uint32_t capi_plaintext(void *p)
{
	struct capi *capi = p;

	return key_export(capi->aes, 0, PLAINTEXTKEYBLOB, capi->blob);
}

uint32_t capi_acquire_release(void *p)
{
	struct capi *capi = p;
	HCRYPTPROV h;

	if (!CryptAcquireContextA(&h, BENCH_CONTAINER, capi->uri, PROV_RSA_AES, 0))
		return last_error();
	return CryptReleaseContext(h, 0) ? 0 : last_error();
}

uint32_t capi_acquire_release_verify(void *p)
{
	struct capi *capi = p;
	HCRYPTPROV h;

	if (!CryptAcquireContextA(&h, NULL, capi->verify_uri, PROV_RSA_AES, CRYPT_VERIFYCONTEXT))
		return last_error();
	return CryptReleaseContext(h, 0) ? 0 : last_error();
}

/* Final = TRUE: the data is padded to 4112 bytes and the chaining value
 * starts again from the key's IV, as the raw side's fresh C_EncryptInit. */
uint32_t capi_encrypt(void *p)
{
	struct capi *capi = p;
	DWORD len = BENCH_DATA_LEN;

	if (CryptEncrypt == NULL)
		return ERROR_PROC_NOT_FOUND;
	/* In place: each call encrypts the last one's output, which costs the
	 * token the same. */
	if (!CryptEncrypt(capi->aes, 0, TRUE, 0, capi->data, &len, sizeof capi->data))
		return last_error();
	return len == BENCH_DATA_LEN + 16 ? 0 : NTE_BAD_LEN;
}

/* A hash of len bytes of data, as a Windows program takes one: create,
 * data, value, destroy. With sign, the container's exchange key signs it
 * instead of the value being read. */
static uint32_t hash_once(struct capi *capi, DWORD len, bool sign)
{
	BYTE out[512];
	DWORD out_len = sizeof out;
	HCRYPTHASH h;
	uint32_t err = 0;

	if (CryptCreateHash == NULL || CryptSignHashA == NULL)
		return ERROR_PROC_NOT_FOUND;
	if (!CryptCreateHash(capi->prov, CALG_SHA_256, 0, 0, &h))
		return last_error();
	if (!CryptHashData(h, capi->hash_data, len, 0))
		err = last_error();
	else if (sign && !CryptSignHashA(h, AT_KEYEXCHANGE, NULL, 0, out, &out_len))
		err = last_error();
	else if (!sign && !CryptGetHashParam(h, HP_HASHVAL, out, &out_len, 0))
		err = last_error();
	else if (out_len != (sign ? 256u : 32u))
		err = NTE_BAD_LEN;
	if (!CryptDestroyHash(h) && err == 0)
		err = last_error();
	return err;
}

uint32_t capi_hash(void *p)
{
	return hash_once(p, BENCH_HASH_LEN, false);
}

uint32_t capi_sign(void *p)
{
	return hash_once(p, BENCH_SIGN_LEN, true);
}
