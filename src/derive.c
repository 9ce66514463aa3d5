/* CryptDeriveKey: Microsoft's derivation from a hash value. */
#include "config.h"
#include "derive.h"
#include "prov-type.h"
#include "alg.h"
#include "blob.h"
#include "errors.h"
#include "import.h"
#include "token-sign.h"
#include "util.h"

#include <string.h>

/* The flags CryptDeriveKey takes besides the length; those that concern
 * salt (RC2/RC4 40-bit keys) or container keys change nothing here. */
#define DERIVE_FLAGS (CRYPT_EXPORTABLE | CRYPT_CREATE_SALT | CRYPT_NO_SALT | \
		      CRYPT_USER_PROTECTED | CRYPT_UPDATE_KEY)

#define DERIVE_PAD_LEN 64
#define DERIVE_MAX (2 * TOKEN_DIGEST_MAX)

/* The key length in bytes that HIWORD(flags) asks for. */
static DWORD derive_key_len(ALG_ID algid, DWORD bits, size_t *len)
{
	size_t min, max;

	if (!alg_symmetric_key_range(algid, &min, &max))
		return NTE_BAD_ALGID;
	if (bits == 0) {
		*len = max;
		return ERROR_SUCCESS;
	}
	if (min == max) {
		/* The DES family counts with or without parity bits. */
		if (bits == max * 8 || (alg_is_des_family(algid) && bits == max * 7)) {
			*len = max;
			return ERROR_SUCCESS;
		}
		return alg_is_des_family(algid) ? NTE_BAD_FLAGS : NTE_BAD_DATA;
	}
	if (bits % 8 != 0 || bits / 8 < min || bits / 8 > max)
		return NTE_BAD_DATA;
	*len = bits / 8;
	return ERROR_SUCCESS;
}

/* The 0x36/0x5C expansion of a hash value too short for the key. */
static CK_RV derive_expand(struct tsession *ts, const struct hash_alg *alg, const BYTE *value,
			   DWORD value_len, BYTE *out)
{
	static const BYTE pads[2] = { 0x36, 0x5c };
	BYTE buf[DERIVE_PAD_LEN];
	CK_ULONG n;
	size_t i, j;
	CK_RV rv = CKR_OK;

	for (j = 0; j < 2 && rv == CKR_OK; j++) {
		memset(buf, pads[j], sizeof buf);
		for (i = 0; i < value_len && i < sizeof buf; i++)
			buf[i] ^= value[i];
		n = alg->size;
		rv = token_digest_once(ts, alg->digest, buf, sizeof buf, out + j * alg->size, &n);
		if (rv == CKR_OK && n != alg->size)
			rv = CKR_GENERAL_ERROR;
	}
	capi11_wipe(buf, sizeof buf);
	return rv;
}

DWORD derive_key_locked(struct context *ctx, ALG_ID algid, struct hash *hash, DWORD flags,
			struct key **out)
{
	BYTE material[DERIVE_MAX], blob[12 + DERIVE_MAX];
	const BYTE *value;
	size_t key_len = 0, blob_len = 0;
	bool expand;
	DWORD err;
	CK_RV rv;

	if (LOWORD(flags) & ~(DWORD)DERIVE_FLAGS)
		return NTE_BAD_FLAGS;
	/* PROV_DSS has no session keys (prov-type.h). */
	if (!prov_type_serves(ctx->prov_type, algid))
		return NTE_BAD_ALGID;
	err = derive_key_len(algid, HIWORD(flags), &key_len);
	if (err != ERROR_SUCCESS)
		return err;
	/* The expansion hashes with the value's own algorithm. */
	if (hash->alg == NULL || key_len > 2 * hash->alg->size)
		return NTE_BAD_ALGID;
	err = hash_value_locked(hash, &value);
	if (err != ERROR_SUCCESS)
		return err;
	/* Windows expands for AES-128 from MD5 and SHA-1 values too, which
	 * are long enough (rsaenh's tests against Windows). */
	expand = hash->size < key_len ||
		 (algid == CALG_AES_128 && (hash->size == 16 || hash->size == 20));
	if (expand) {
		struct tsession *dts;

		err = hash_digest_session(ctx, hash->alg->digest, &dts);
		if (err != ERROR_SUCCESS)
			goto out;
		rv = derive_expand(dts, hash->alg, value, hash->size, material);
		if (rv != CKR_OK) {
			err = error_from_ckr(rv, ERROR_OP_GENERIC);
			goto out;
		}
	} else {
		memcpy(material, value, key_len);
	}
	/* Made as a PLAINTEXTKEYBLOB import makes a key: the same template,
	 * sensitivity policy and checks. */
	err = blob_build_plaintext(algid, material, key_len, blob, sizeof blob, &blob_len);
	if (err == ERROR_SUCCESS)
		err = import_key_locked(ctx, blob, blob_len, NULL, flags & CRYPT_EXPORTABLE, out);
out:
	capi11_wipe(material, sizeof material);
	capi11_wipe(blob, sizeof blob);
	return err;
}
