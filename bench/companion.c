/* The companion rows: capi11 on a "card" (the bench token behind the test
 * shim, tests/p11shim.c, with CKM_AES_KEY_GEN hidden and C_UnwrapKey
 * refused) whose session keys live on the companion token, NSS's softokn in
 * memory, against the raw calls a careful program would make on the same
 * two modules: C_Decrypt on the card then C_CreateObject on softokn for a
 * SIMPLEBLOB, C_EncryptInit + C_Encrypt on softokn for the data. Both rows
 * report n/a when the shim was not built (make check builds it) or softokn
 * is missing. */
#include "config.h"
#include "bench.h"
#include "../tests/p11shim.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wincrypt.h>

#define RSA_BYTES 256
#define ERROR_PROC_NOT_FOUND 127u
#define SOFTOKN_TOKEN "NSS Generic Crypto Services"

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const CK_OBJECT_CLASS secret_class = CKO_SECRET_KEY;
static const CK_KEY_TYPE aes_type = CKK_AES;
static const CK_ULONG aes_len = 32;

struct companion {
	/* capi11 on the card */
	HCRYPTPROV prov;
	HCRYPTKEY rsa, aes;
	BYTE simple[12 + RSA_BYTES];
	DWORD simple_len;
	BYTE data[BENCH_DATA_LEN + 32];
	/* raw: the card (SoftHSM itself) and softokn */
	void *card_dl, *soft_dl;
	CK_FUNCTION_LIST *card, *soft;
	CK_SESSION_HANDLE card_s, soft_s;
	CK_OBJECT_HANDLE priv, soft_aes;
	unsigned char ct[RSA_BYTES];
	CK_ULONG ct_len;
	unsigned char plain[BENCH_DATA_LEN];
	unsigned char cipher[BENCH_DATA_LEN + 32];
};

static uint32_t last_error(void)
{
	DWORD err = GetLastError();

	return err != 0 ? err : NTE_FAIL;
}

/* The card: the shim hides the AES generator and refuses C_UnwrapKey
 * before capi11 first looks at the token through it. */
static uint32_t card_open(struct companion *c, const char *shim_path, const char *card_uri)
{
	void *shim = dlopen(shim_path, RTLD_NOW | RTLD_LOCAL);
	void (*set_mechanism)(CK_MECHANISM_TYPE, int);
	void (*fail)(const char *, unsigned long, CK_RV);

	if (shim == NULL)
		return ERROR_PROC_NOT_FOUND;
	*(void **)&set_mechanism = dlsym(shim, "p11shim_set_mechanism");
	*(void **)&fail = dlsym(shim, "p11shim_fail");
	if (set_mechanism == NULL || fail == NULL)
		return ERROR_PROC_NOT_FOUND;
	/* Kept loaded: the shim's state lives as long as a handle holds it. */
	set_mechanism(CKM_AES_KEY_GEN, P11SHIM_MECH_HIDDEN);
	fail("C_UnwrapKey", 0, CKR_FUNCTION_NOT_SUPPORTED);
	if (!CryptAcquireContextA(&c->prov, BENCH_CONTAINER, card_uri, PROV_RSA_AES, 0) ||
	    !CryptGetUserKey(c->prov, AT_KEYEXCHANGE, &c->rsa) ||
	    !CryptGenKey(c->prov, CALG_AES_256, (256u << 16) | CRYPT_EXPORTABLE, &c->aes))
		return last_error();
	c->simple_len = sizeof c->simple;
	if (!CryptExportKey(c->aes, c->rsa, SIMPLEBLOB, 0, c->simple, &c->simple_len))
		return last_error();
	memset(c->data, 0x5a, sizeof c->data);
	return 0;
}

static CK_RV module_open(const char *path, const char *params, void **dl, CK_FUNCTION_LIST **fl)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK, .pReserved = (void *)params };
	CK_C_GetFunctionList get_list;
	CK_RV rv;

	*dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (*dl == NULL)
		return CKR_GENERAL_ERROR;
	get_list = (CK_C_GetFunctionList)dlsym(*dl, "C_GetFunctionList");
	if (get_list == NULL || get_list(fl) != CKR_OK)
		return CKR_GENERAL_ERROR;
	/* capi11 initialised both first: the instances are shared. */
	rv = (*fl)->C_Initialize(&args);
	return rv == CKR_CRYPTOKI_ALREADY_INITIALIZED ? CKR_OK : rv;
}

static CK_RV session_open(CK_FUNCTION_LIST *fl, const char *label, CK_SESSION_HANDLE *s)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16, i;
	CK_TOKEN_INFO ti;
	char padded[32];
	CK_RV rv;

	memset(padded, ' ', sizeof padded);
	memcpy(padded, label, strlen(label));
	rv = fl->C_GetSlotList(CK_TRUE, slots, &n);
	for (i = 0; rv == CKR_OK && i < n; i++) {
		if (fl->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    memcmp(ti.label, padded, sizeof padded) == 0)
			return fl->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION,
						 NULL, NULL, s);
	}
	return rv != CKR_OK ? rv : CKR_TOKEN_NOT_PRESENT;
}

static CK_RV raw_open(struct companion *c, const char *token_label)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE find[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, (void *)BENCH_CONTAINER, strlen(BENCH_CONTAINER) },
	};
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ATTRIBUTE aes[] = {
		{ CKA_CLASS, (void *)&secret_class, sizeof secret_class },
		{ CKA_KEY_TYPE, (void *)&aes_type, sizeof aes_type },
		{ CKA_VALUE_LEN, (void *)&aes_len, sizeof aes_len },
		{ CKA_TOKEN, (void *)&no, sizeof no },
		{ CKA_SENSITIVE, (void *)&no, sizeof no },
		{ CKA_EXTRACTABLE, (void *)&yes, sizeof yes },
		{ CKA_ENCRYPT, (void *)&yes, sizeof yes },
		{ CKA_DECRYPT, (void *)&yes, sizeof yes },
	};
	CK_ULONG n = 0, i;
	CK_RV rv;

	rv = module_open(SOFTHSM_MODULE, NULL, &c->card_dl, &c->card);
	if (rv == CKR_OK)
		rv = module_open(CAPI11_SOFTOKN_PATH, NULL, &c->soft_dl, &c->soft);
	if (rv == CKR_OK)
		rv = session_open(c->card, token_label, &c->card_s);
	if (rv == CKR_OK)
		rv = session_open(c->soft, SOFTOKN_TOKEN, &c->soft_s);
	if (rv == CKR_OK)
		rv = c->card->C_FindObjectsInit(c->card_s, find, 2);
	if (rv == CKR_OK) {
		rv = c->card->C_FindObjects(c->card_s, &c->priv, 1, &n);
		c->card->C_FindObjectsFinal(c->card_s);
		if (rv == CKR_OK && n != 1)
			rv = CKR_OBJECT_HANDLE_INVALID;
	}
	if (rv == CKR_OK)
		rv = c->soft->C_GenerateKey(c->soft_s, &gen, aes, sizeof aes / sizeof aes[0],
					    &c->soft_aes);
	if (rv != CKR_OK)
		return rv;
	/* The raw side decrypts a SIMPLEBLOB of the same kind: the blob capi11
	 * made, its ciphertext big-endian again. */
	c->ct_len = c->simple_len - 12;
	for (i = 0; i < c->ct_len; i++)
		c->ct[i] = c->simple[12 + c->ct_len - 1 - i];
	memset(c->plain, 0x5a, sizeof c->plain);
	return CKR_OK;
}

struct companion *companion_new(const char *shim_path, const char *card_uri,
				const char *token_label, uint32_t *error)
{
	struct companion *c = calloc(1, sizeof *c);

	if (c == NULL) {
		*error = NTE_NO_MEMORY;
		return NULL;
	}
	if (CAPI11_SOFTOKN_PATH[0] == '\0') {
		*error = ERROR_PROC_NOT_FOUND;
		goto failed;
	}
	*error = card_open(c, shim_path, card_uri);
	if (*error == 0)
		*error = (uint32_t)raw_open(c, token_label);
	if (*error == 0)
		return c;
failed:
	companion_free(c);
	return NULL;
}

void companion_free(struct companion *c)
{
	if (c == NULL)
		return;
	if (c->soft_s != 0)
		c->soft->C_CloseSession(c->soft_s);
	if (c->card_s != 0)
		c->card->C_CloseSession(c->card_s);
	if (c->soft_dl != NULL)
		dlclose(c->soft_dl);
	if (c->card_dl != NULL)
		dlclose(c->card_dl);
	if (c->aes != 0)
		CryptDestroyKey(c->aes);
	if (c->rsa != 0)
		CryptDestroyKey(c->rsa);
	if (c->prov != 0)
		CryptReleaseContext(c->prov, 0);
	free(c);
}

uint32_t capi_simple_import_card(void *p)
{
	struct companion *c = p;
	HCRYPTKEY key;

	if (!CryptImportKey(c->prov, c->simple, c->simple_len, c->rsa, CRYPT_EXPORTABLE, &key))
		return last_error();
	return CryptDestroyKey(key) ? 0 : last_error();
}

/* C_Decrypt with the card's exchange key, the key made on softokn from the
 * plaintext (wiped), then destroyed as the capi11 side destroys its key. */
uint32_t raw_simple_import_card(void *p)
{
	struct companion *c = p;
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	unsigned char pt[RSA_BYTES];
	CK_ULONG pt_len = sizeof pt;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, (void *)&secret_class, sizeof secret_class },
		{ CKA_KEY_TYPE, (void *)&aes_type, sizeof aes_type },
		{ CKA_TOKEN, (void *)&no, sizeof no },
		{ CKA_SENSITIVE, (void *)&yes, sizeof yes },
		{ CKA_EXTRACTABLE, (void *)&yes, sizeof yes },
		{ CKA_ENCRYPT, (void *)&yes, sizeof yes },
		{ CKA_DECRYPT, (void *)&yes, sizeof yes },
		{ CKA_VALUE, pt, 0 },
	};
	CK_OBJECT_HANDLE key;
	CK_RV rv;

	rv = c->card->C_DecryptInit(c->card_s, &mech, c->priv);
	if (rv == CKR_OK)
		rv = c->card->C_Decrypt(c->card_s, c->ct, c->ct_len, pt, &pt_len);
	if (rv == CKR_OK && pt_len != 32)
		rv = CKR_GENERAL_ERROR;
	if (rv == CKR_OK) {
		tmpl[7].ulValueLen = pt_len;
		rv = c->soft->C_CreateObject(c->soft_s, tmpl, sizeof tmpl / sizeof tmpl[0], &key);
	}
	memset(pt, 0, sizeof pt);
	__asm__ __volatile__("" : : "r"(pt) : "memory");
	if (rv != CKR_OK)
		return rv;
	return c->soft->C_DestroyObject(c->soft_s, key);
}

uint32_t capi_encrypt_companion(void *p)
{
	struct companion *c = p;
	DWORD len = BENCH_DATA_LEN;

	if (!CryptEncrypt(c->aes, 0, TRUE, 0, c->data, &len, sizeof c->data))
		return last_error();
	return len == BENCH_DATA_LEN + 16 ? 0 : NTE_BAD_LEN;
}

uint32_t raw_encrypt_companion(void *p)
{
	struct companion *c = p;
	unsigned char iv[16] = { 0 };
	CK_MECHANISM mech = { CKM_AES_CBC_PAD, iv, sizeof iv };
	CK_ULONG len = sizeof c->cipher;
	CK_RV rv;

	rv = c->soft->C_EncryptInit(c->soft_s, &mech, c->soft_aes);
	if (rv != CKR_OK)
		return rv;
	rv = c->soft->C_Encrypt(c->soft_s, c->plain, sizeof c->plain, c->cipher, &len);
	if (rv == CKR_OK && len != BENCH_DATA_LEN + 16)
		rv = CKR_GENERAL_ERROR;
	return rv;
}
