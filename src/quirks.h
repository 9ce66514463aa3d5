/* What modules and tokens do differently from PKCS#11's text, in one
 * table keyed by what they say of themselves (C_GetInfo's library
 * description and manufacturer, C_GetTokenInfo's manufacturer and model).
 * The token layer looks a token up once, when it first meets it; code
 * elsewhere asks token.h, never a module's name. */
#ifndef CAPI11_QUIRKS_H
#define CAPI11_QUIRKS_H

#include <p11-kit/pkcs11.h>
#include <stdbool.h>

enum {
	/* Searching, creating and destroying objects from several threads at
	 * once on one token fails spuriously (SoftHSM 2.6.1, upstream #573):
	 * those calls are serialised per token (token-ops.c). */
	QUIRK_STORE_RACE = 0x1,
	/* A C_UnwrapKey template for a secret key may not hold CKA_VALUE_LEN
	 * (SoftHSM: CKR_ATTRIBUTE_READ_ONLY), and a key unwrapped without it
	 * reports CKA_VALUE_LEN 0: its length comes from aiKeyAlg. */
	QUIRK_NO_UNWRAP_VALUE_LEN = 0x2,
	/* The module writes to a socket (p11-kit's client module): when its
	 * server has gone, a call raises SIGPIPE in the calling thread, which
	 * would end the host program. Its calls run with SIGPIPE blocked
	 * (p11call.c). Keyed by the module's C_GetInfo alone, so that
	 * p11call can learn it before any token. */
	QUIRK_SIGPIPE = 0x4,
	/* No CKK_DES2 key type and no CKM_DES2_KEY_GEN (openCryptoki 3.8,
	 * whose DES3 keys are 24 bytes only): a CALG_3DES_112 key K1|K2 is
	 * held as the CKK_DES3 key K1|K2|K1, which encrypts alike. */
	QUIRK_NO_DES2 = 0x8,
	/* Every private key both decrypts and signs, whatever the template
	 * asks (tpm2-pkcs11, whose TPM keys carry both usages): a template
	 * that asks CKA_DECRYPT FALSE fails, so capi11 does not ask it, and
	 * the key's spec lives in its CKA_ID (key-card.h), not its usages. */
	QUIRK_COUPLED_USAGE = 0x10,
	/* No private key is both CKA_PRIVATE and CKA_EXTRACTABLE
	 * (tpm2-pkcs11): TOKEN_CAP_EXTRACTABLE_PRIVATE is NO from the start,
	 * and CRYPT_EXPORTABLE on a private key is refused before the token
	 * is asked. */
	QUIRK_NO_EXTRACTABLE_PRIVATE = 0x20,
	/* The card's keys sit in the PIV slots and OpenSC names them by fixed
	 * CKA_IDs: 01 PIV authentication (9A), 02 digital signature (9C), 03
	 * key management (9D), 04 card authentication (9E). The digital
	 * signature key is AT_SIGNATURE and the key management key
	 * AT_KEYEXCHANGE, whatever usages the card gives them (OpenSC lets
	 * the signature key decrypt). */
	QUIRK_PIV_KEY_IDS = 0x40,
	/* The key sizes of RC2 mechanisms in CK_MECHANISM_INFO are bytes, not
	 * the bits PKCS#11 asks for (NSS's softokn: CKM_RC2_KEY_GEN 1-128). */
	QUIRK_RC2_SIZE_BYTES = 0x80,
};

/* How a token gives the key sizes of RSA mechanisms in
 * CK_MECHANISM_INFO. */
enum quirk_key_size_unit {
	/* Not known: bits, unless ulMaxKeySize is below 64, which no RSA key
	 * size in bits is (then bytes). */
	QUIRK_KEY_SIZE_GUESS = 0,
	QUIRK_KEY_SIZE_BITS,
	QUIRK_KEY_SIZE_BYTES,
};

struct quirks {
	const char *what;              /* for the trace */
	unsigned flags;                /* QUIRK_* */
	enum quirk_key_size_unit rsa_key_size_unit;
};

/* The quirks of a token: the first table entry whose every given field
 * matches (blank-padded PKCS#11 strings, compared trimmed), else an entry
 * with no quirk. Never NULL; the result lives for ever. */
const struct quirks *quirks_lookup(const CK_INFO *module, const CK_TOKEN_INFO *token);

/* A key size from CK_MECHANISM_INFO in bits, by the unit rule. */
CK_ULONG quirks_rsa_bits(const struct quirks *q, CK_ULONG size, CK_ULONG max_size);

#endif
