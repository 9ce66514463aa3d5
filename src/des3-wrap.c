/* The Triple-DES key wrap of RFC 3217: section 2's key checksum (the
 * first 8 bytes of SHA-1 of the key), section 3.1's wrap and section
 * 3.2's unwrap, which Microsoft's SYMMETRICWRAPKEYBLOB under a CALG_3DES
 * key carries. Tokens (SoftHSM) refuse C_WrapKey and C_UnwrapKey with the
 * DES3 mechanisms, so the RFC is composed here from token operations:
 * the checksum by C_Digest(SHA-1), the IV by C_GenerateRandom, both CBC
 * passes by C_Encrypt or C_Decrypt under the key-encryption key. Only the
 * byte moves (parity, concatenation, reversal) happen in this library;
 * the key's value passes through it, so callers open the route only to
 * keys that may leave in plaintext. Every buffer that held the key is
 * wiped. */
#include "config.h"
#include "des3-wrap.h"
#include "blob.h"
#include "errors.h"
#include "util.h"

#include <string.h>

/* CEK || ICV: the key and its 8-byte checksum, the first CBC pass's input. */
#define DES3_CEKICV_LEN 32

/* RFC 3217's second IV, fixed by the RFC. */
static const BYTE des3_wrap_iv2[8] = { 0x4a, 0xdd, 0xa2, 0x2c, 0x79, 0xe8, 0x21, 0x05 };

DWORD des3_check_mechanisms(struct token *tok, CK_FLAGS use)
{
	DWORD err;

	err = token_check_mechanism(tok, CKM_DES3_CBC, use);
	if (err == ERROR_SUCCESS)
		err = token_check_mechanism(tok, CKM_SHA_1, CKF_DIGEST);
	return err;
}

/* Sets odd parity on each byte of a DES key, RFC 3217's first step. */
static void des_set_odd_parity(BYTE *key, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		BYTE b = key[i] >> 1, ones = 0;

		while (b) {
			ones += b & 1;
			b >>= 1;
		}
		key[i] = (BYTE)((key[i] & 0xfe) | ((ones & 1) ? 0 : 1));
	}
}

DWORD des3_wrap_locked(struct tsession *ts, CK_OBJECT_HANDLE kek, const BYTE *cek, BYTE *wrapped)
{
	BYTE cekicv[DES3_CEKICV_LEN], temp[DES3_WRAPPED_LEN], rev[DES3_WRAPPED_LEN];
	BYTE digest[20], iv[8];
	CK_MECHANISM mech = { CKM_DES3_CBC, iv, sizeof iv };
	CK_ULONG n;
	DWORD err = ERROR_SUCCESS;
	CK_RV rv;

	memcpy(cekicv, cek, DES3_KEY_LEN);
	des_set_odd_parity(cekicv, DES3_KEY_LEN);
	/* ICV: the first 8 bytes of SHA-1(CEK) (RFC 3217 section 2). */
	n = sizeof digest;
	rv = token_digest(ts, CKM_SHA_1, cekicv, DES3_KEY_LEN, digest, &n);
	if (rv == CKR_OK && n != sizeof digest)
		rv = CKR_GENERAL_ERROR;
	if (rv == CKR_OK)
		rv = token_random(ts, iv, sizeof iv);
	if (rv != CKR_OK)
		goto out;
	memcpy(cekicv + DES3_KEY_LEN, digest, 8);
	/* TEMP1 = CBC(KEK, IV, CEK || ICV); TEMP2 = IV || TEMP1. */
	memcpy(temp, iv, sizeof iv);
	n = DES3_CEKICV_LEN;
	rv = token_encrypt(ts, &mech, kek, cekicv, DES3_CEKICV_LEN, temp + 8,
			   &n);
	if (rv == CKR_OK && n != DES3_CEKICV_LEN)
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK)
		goto out;
	/* TEMP3 = TEMP2 reversed, encrypted under the RFC's fixed IV. */
	bn_reverse_copy(rev, temp, sizeof temp);
	memcpy(iv, des3_wrap_iv2, sizeof iv);
	n = DES3_WRAPPED_LEN;
	rv = token_encrypt(ts, &mech, kek, rev, sizeof rev, wrapped, &n);
	if (rv == CKR_OK && n != DES3_WRAPPED_LEN)
		rv = CKR_GENERAL_ERROR;
out:
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_EXPORT);
	}
	capi11_wipe(cekicv, sizeof cekicv);
	capi11_wipe(temp, sizeof temp);
	capi11_wipe(rev, sizeof rev);
	capi11_wipe(digest, sizeof digest);
	return err;
}

DWORD des3_unwrap_locked(struct tsession *ts, CK_OBJECT_HANDLE kek, const BYTE *wrapped,
			 BYTE *cek)
{
	BYTE temp[DES3_WRAPPED_LEN], rev[DES3_WRAPPED_LEN], cekicv[DES3_CEKICV_LEN];
	BYTE digest[20], iv[8], diff = 0;
	CK_MECHANISM mech = { CKM_DES3_CBC, iv, sizeof iv };
	CK_ULONG n;
	size_t i;
	DWORD err;
	CK_RV rv;

	/* TEMP3 under the fixed IV; reversed, it is IV || TEMP1. */
	memcpy(iv, des3_wrap_iv2, sizeof iv);
	n = sizeof temp;
	rv = token_decrypt(ts, &mech, kek, wrapped, DES3_WRAPPED_LEN, temp, &n);
	if (rv == CKR_OK && n != sizeof temp)
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK)
		goto decrypt_failed;
	bn_reverse_copy(rev, temp, sizeof temp);
	memcpy(iv, rev, sizeof iv);
	n = sizeof cekicv;
	rv = token_decrypt(ts, &mech, kek, rev + 8, DES3_CEKICV_LEN, cekicv,
			   &n);
	if (rv == CKR_OK && n != sizeof cekicv)
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK)
		goto decrypt_failed;
	n = sizeof digest;
	rv = token_digest(ts, CKM_SHA_1, cekicv, DES3_KEY_LEN, digest, &n);
	if (rv == CKR_OK && n != sizeof digest)
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_GENERIC);
		goto out;
	}
	/* Compared in full, whatever byte differs first. */
	for (i = 0; i < 8; i++)
		diff |= (BYTE)(digest[i] ^ cekicv[DES3_KEY_LEN + i]);
	if (diff != 0) {
		err = NTE_BAD_DATA;
		goto out;
	}
	memcpy(cek, cekicv, DES3_KEY_LEN);
	err = ERROR_SUCCESS;
	goto out;
decrypt_failed:
	err = error_from_ckr(rv, ERROR_OP_DECRYPT);
out:
	capi11_wipe(temp, sizeof temp);
	capi11_wipe(rev, sizeof rev);
	capi11_wipe(cekicv, sizeof cekicv);
	capi11_wipe(digest, sizeof digest);
	capi11_wipe(iv, sizeof iv);
	return err;
}
