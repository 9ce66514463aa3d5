/* The key-blob codec: CryptoAPI key blobs from bytes to parsed structures
 * and back. Pure functions: no PKCS#11 call, no allocation, no global state.
 *
 * Errors. Every parser and builder returns a DWORD Windows error code,
 * ERROR_SUCCESS (0) on success: the same domain as the rest of the core, so
 * CryptImportKey/CryptExportKey hand the value to SetLastError unchanged.
 *
 * Parsers take the whole blob, BLOBHEADER included, and check in the order
 * of CryptImportKey (Windows' CSPs; SPEC section 5), every length before it
 * is read, in overflow-checked arithmetic:
 *   1. fewer than 8 bytes, reserved != 0, bVersion != 2: NTE_BAD_DATA
 *      (bVersion 3 passes only for the DSS/DH version 3 forms);
 *   2. a bType that capi11 does not import: NTE_BAD_TYPE (also when a
 *      per-type parser is handed a blob of another type);
 *   3. per type: wrong magic or fewer bytes than the declared sizes need:
 *      NTE_BAD_DATA (bytes beyond what the blob declares are ignored, as
 *      Windows ignores them); an aiKeyAlg the blob type cannot carry:
 *      NTE_BAD_ALGID; then the values: NTE_BAD_DATA (NTE_BAD_FLAGS for a
 *      DES-family PLAINTEXTKEYBLOB of the wrong length).
 * A blob that claims a huge key is refused by the length check: nothing is
 * ever allocated from a length read out of a blob.
 *
 * Lifetimes. Parsed structures do not copy: their struct blob_bytes fields
 * point into the caller's input and are valid as long as it is. They hold
 * key material whenever the input does; the caller wipes the input.
 *
 * Builders follow the CryptExportKey buffer rule: out == NULL stores the
 * size in *needed and returns ERROR_SUCCESS; out_len < *needed returns
 * ERROR_MORE_DATA with *needed set and nothing written; otherwise exactly
 * *needed bytes are written. The inputs are validated before the size is
 * reported, so a size query succeeds exactly when the build would.
 *
 * Big numbers: blobs hold them little-endian, zero-padded to their width;
 * PKCS#11 attributes hold them big-endian with any length. The bn_*
 * helpers convert, padding short numbers and stripping the leading zero
 * bytes of long ones before checking that they fit. */
#ifndef CAPI11_BLOB_H
#define CAPI11_BLOB_H

#include <wincrypt.h>
#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>

#include "alg.h"

#define BLOB_HEADER_LEN 8          /* BLOBHEADER */
#define BLOB_RSA_HEADER_LEN 20     /* BLOBHEADER + RSAPUBKEY */

/* Bytes of a blob, not owned: a view into a buffer that someone else keeps
 * alive (the caller's input for parsers, the caller's numbers for builders). */
struct blob_bytes {
	const BYTE *data;
	size_t len;
};

/* ---- BLOBHEADER ---------------------------------------------------------- */

/* Checks steps 1 and 2 above and decodes the header. Known types:
 * SIMPLEBLOB, PUBLICKEYBLOB, PRIVATEKEYBLOB, PLAINTEXTKEYBLOB,
 * OPAQUEKEYBLOB, SYMMETRICWRAPKEYBLOB. bVersion 3 is accepted only for
 * PUBLICKEYBLOB/PRIVATEKEYBLOB of CALG_DSS_SIGN, CALG_DH_SF or
 * CALG_DH_EPHEM (the CRYPT_BLOB_VER3 forms).
 * Errors: NTE_BAD_DATA, NTE_BAD_TYPE. */
DWORD blob_parse_header(const BYTE *data, size_t len, BLOBHEADER *out);

/* ---- RSA: PUBLICKEYBLOB and PRIVATEKEYBLOB --------------------------------
 * BLOBHEADER {type, 2, 0, CALG_RSA_KEYX or CALG_RSA_SIGN}
 * RSAPUBKEY {magic "RSA1" (public) or "RSA2" (private), bitlen, pubexp}
 * modulus[k]                                  k = bitlen / 8
 * private only: prime1[h] prime2[h] exponent1[h] exponent2[h]
 *               coefficient[h] privateExponent[k]   h = (k + 1) / 2
 * h rounds up, as Windows' CSPs and OpenSSL size it for odd k. */

/* A parsed RSA blob; every number is a little-endian view into the blob. */
struct blob_rsa {
	ALG_ID alg;                 /* CALG_RSA_KEYX or CALG_RSA_SIGN */
	DWORD bitlen;               /* a multiple of 8 in ALG_RSA_MIN/MAX_BITS */
	DWORD pubexp;               /* odd, at least 3 */
	struct blob_bytes modulus;  /* k bytes */
	/* PRIVATEKEYBLOB only (len 0 in a parsed PUBLICKEYBLOB): h bytes each. */
	struct blob_bytes prime1, prime2, exponent1, exponent2, coefficient;
	/* At most k bytes: Windows accepts a blob whose privateExponent is
	 * truncated or absent (length >= 20 + k + 5h), so this may be shorter.
	 * The bytes present are the low-order ones: bn_le_to_be(..., k) gives
	 * the zero-extended value that CKA_PRIVATE_EXPONENT needs. */
	struct blob_bytes private_exponent;
};

/* Parse a PUBLICKEYBLOB / PRIVATEKEYBLOB. After the header: len < 20 or
 * wrong magic: NTE_BAD_DATA; fewer than 20 + k (public) or 20 + k + 5h
 * (private) bytes: NTE_BAD_DATA; aiKeyAlg not RSA: NTE_BAD_ALGID; bitlen
 * not a multiple of 8 or outside [ALG_RSA_MIN_BITS, ALG_RSA_MAX_BITS]:
 * NTE_BAD_DATA; pubexp even or below 3: NTE_BAD_DATA (an exponent of one
 * turns RSA into a copy; zero is no key at all; no RSA key has an even
 * one); a modulus that is even or, leading zeros stripped, shorter than
 * ALG_RSA_MIN_BITS (zero and one included): NTE_BAD_DATA. The token's
 * narrower size range is the caller's check, also NTE_BAD_DATA.
 * Errors: those of blob_parse_header, NTE_BAD_TYPE (another blob type),
 * NTE_BAD_DATA, NTE_BAD_ALGID. */
DWORD blob_parse_rsa_public(const BYTE *data, size_t len, struct blob_rsa *out);
DWORD blob_parse_rsa_private(const BYTE *data, size_t len, struct blob_rsa *out);

/* Builder input: the numbers as PKCS#11 attributes hold them, big-endian,
 * any length (leading zero bytes allowed). */
struct blob_rsa_numbers {
	ALG_ID alg;                         /* CALG_RSA_KEYX or CALG_RSA_SIGN */
	struct blob_bytes modulus;          /* CKA_MODULUS */
	struct blob_bytes public_exponent;  /* CKA_PUBLIC_EXPONENT */
	/* PRIVATEKEYBLOB only: CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1,
	 * CKA_EXPONENT_2, CKA_COEFFICIENT, CKA_PRIVATE_EXPONENT. */
	struct blob_bytes prime1, prime2, exponent1, exponent2, coefficient;
	struct blob_bytes private_exponent;
};

/* Build a PUBLICKEYBLOB / PRIVATEKEYBLOB. k is the modulus length without
 * leading zero bytes and bitlen is written as 8k, so every blob capi11
 * writes has the multiple of 8 that Windows requires on import. The CRT
 * numbers must fit h bytes and the private exponent k bytes; shorter ones
 * are zero-padded (a truncated d imported earlier comes back padded).
 * Errors: NTE_BAD_ALGID (alg not RSA), NTE_BAD_KEY (modulus zero or longer
 * than ALG_RSA_MAX_BITS, public exponent not a nonzero DWORD, a number that
 * does not fit its field), ERROR_MORE_DATA. */
DWORD blob_build_rsa_public(const struct blob_rsa_numbers *key, BYTE *out, size_t out_len,
			    size_t *needed);
DWORD blob_build_rsa_private(const struct blob_rsa_numbers *key, BYTE *out, size_t out_len,
			     size_t *needed);

/* Blob sizes for a modulus of bits bits (CKA_MODULUS_BITS), without the
 * numbers, for CryptExportKey size queries: 20 + k and 20 + 2k + 5h with
 * k = ceil(bits / 8). 0 when bits is 0 or above ALG_RSA_MAX_BITS. */
size_t blob_size_rsa_public(DWORD bits);
size_t blob_size_rsa_private(DWORD bits);

/* ---- SIMPLEBLOB -------------------------------------------------------------
 * BLOBHEADER {SIMPLEBLOB, 2, 0, the session key's ALG_ID}
 * ALG_ID of the key that encrypted it (Windows writes CALG_RSA_KEYX)
 * the RSA ciphertext of the key bytes, k bytes, byte-reversed (little-endian) */

struct blob_simple {
	ALG_ID alg;                    /* the session key's algorithm */
	/* Returned as found: Windows' CSPs do not check it on import (the
	 * key that decrypts is hPubKey, whatever the blob names). */
	ALG_ID wrap_alg;
	/* Exactly modulus_len bytes, byte-reversed; bn_reverse_copy gives the
	 * big-endian ciphertext that C_UnwrapKey takes. */
	struct blob_bytes ciphertext;
};

/* modulus_len: the byte length of hPubKey's modulus, which the caller has
 * checked first (a wrong hPubKey is NTE_BAD_PUBLIC_KEY before any length).
 * After the header: fewer than 12 + modulus_len bytes: NTE_BAD_DATA;
 * aiKeyAlg not a session-key algorithm (alg_symmetric_key_range):
 * NTE_BAD_ALGID.
 * Errors: those of blob_parse_header, NTE_BAD_TYPE, NTE_BAD_DATA,
 * NTE_BAD_ALGID, ERROR_INVALID_PARAMETER (modulus_len 0). */
DWORD blob_parse_simple(const BYTE *data, size_t len, size_t modulus_len, struct blob_simple *out);

/* ciphertext: what C_WrapKey(CKM_RSA_PKCS / OAEP) returned, big-endian,
 * exactly the modulus length; it is written reversed.
 * Errors: NTE_BAD_ALGID (alg not a session-key algorithm), NTE_BAD_LEN
 * (empty ciphertext), ERROR_MORE_DATA. */
DWORD blob_build_simple(ALG_ID alg, ALG_ID wrap_alg, const BYTE *ciphertext, size_t ciphertext_len,
			BYTE *out, size_t out_len, size_t *needed);

/* 12 + ceil(modulus_bits / 8); 0 when modulus_bits is 0 or above
 * ALG_RSA_MAX_BITS. */
size_t blob_size_simple(DWORD modulus_bits);

/* ---- PLAINTEXTKEYBLOB ---------------------------------------------------------
 * BLOBHEADER {PLAINTEXTKEYBLOB, 2, 0, the key's ALG_ID}
 * DWORD dwKeySize, then dwKeySize key bytes */

struct blob_plaintext {
	ALG_ID alg;
	struct blob_bytes key;         /* dwKeySize bytes: a secret, wipe the input */
};

/* After the header: fewer than 12 or 12 + dwKeySize bytes: NTE_BAD_DATA;
 * aiKeyAlg not a session-key algorithm: NTE_BAD_ALGID; dwKeySize not the
 * algorithm's (AES_128/192/256 16/24/32, DES 8, 3DES_112 16, 3DES 24, RC2
 * and RC4 5 to 16): NTE_BAD_FLAGS for the DES family, NTE_BAD_DATA for the
 * others, as Windows reports them. The key bytes are taken as they are
 * (DES parity is not checked: tokens fix or ignore it).
 * Errors: those of blob_parse_header, NTE_BAD_TYPE, NTE_BAD_DATA,
 * NTE_BAD_ALGID, NTE_BAD_FLAGS. */
DWORD blob_parse_plaintext(const BYTE *data, size_t len, struct blob_plaintext *out);
/* The same, with CALG_RC2 keys of 1 to rc2_max bytes (CryptImportKey's
 * CRYPT_IPSEC_HMAC_KEY: an HMAC key of any length imported as RC2). */
DWORD blob_parse_plaintext_long_rc2(const BYTE *data, size_t len, size_t rc2_max,
				    struct blob_plaintext *out);

/* key: CKA_VALUE. Its length is written as the token has it.
 * Errors: NTE_BAD_ALGID (alg not a session-key algorithm), NTE_BAD_LEN
 * (empty key or longer than a DWORD counts), ERROR_MORE_DATA. */
DWORD blob_build_plaintext(ALG_ID alg, const BYTE *key, size_t key_len, BYTE *out, size_t out_len,
			   size_t *needed);

/* 12 + key_len; 0 when it overflows or exceeds a DWORD. */
size_t blob_size_plaintext(size_t key_len);

/* ---- SYMMETRICWRAPKEYBLOB -----------------------------------------------------
 * BLOBHEADER {SYMMETRICWRAPKEYBLOB, 2, 0, the wrapped key's ALG_ID}
 * ALG_ID of the wrapping key
 * the wrapped key: RFC 3217 (3DES wrapping key) or RFC 3394 (AES), the rest
 * of the blob */

struct blob_symwrap {
	ALG_ID alg;                    /* the wrapped key's algorithm */
	ALG_ID wrap_alg;               /* the wrapping key's algorithm */
	struct blob_bytes wrapped;     /* the rest of the blob */
};

/* After the header: fewer than 12 bytes: NTE_BAD_DATA; aiKeyAlg or the
 * wrapping ALG_ID not a session-key algorithm: NTE_BAD_ALGID; wrapped
 * bytes fewer than 16 or not a multiple of 8 (both RFC wraps produce whole
 * 8-byte blocks around at least one key block and the integrity block):
 * NTE_BAD_DATA. Whether that wrapping key can wrap that key is the
 * caller's check (NTE_BAD_KEY).
 * Errors: those of blob_parse_header, NTE_BAD_TYPE, NTE_BAD_DATA,
 * NTE_BAD_ALGID. */
DWORD blob_parse_symwrap(const BYTE *data, size_t len, struct blob_symwrap *out);

/* Errors: NTE_BAD_ALGID, NTE_BAD_LEN (wrapped length as the parser
 * refuses it), ERROR_MORE_DATA. */
DWORD blob_build_symwrap(ALG_ID alg, ALG_ID wrap_alg, const BYTE *wrapped, size_t wrapped_len,
			 BYTE *out, size_t out_len, size_t *needed);

/* 12 + wrapped_len; 0 on overflow or beyond a DWORD. */
size_t blob_size_symwrap(size_t wrapped_len);

/* ---- OPAQUEKEYBLOB (capi11's own format, docs/OPAQUEKEYBLOB.md) ---------------
 * Moves a key between tokens that hold the same wrap-only AES key, without
 * the key ever existing in plaintext outside a token. All integers are
 * 32-bit little-endian.
 *
 *  offset size
 *   0     8   BLOBHEADER {OPAQUEKEYBLOB 0x9, 2, 0, aiKeyAlg: the wrapped key}
 *   8     4   magic "C11O" (0x4F313143)
 *  12     4   format version: 2 (1 in older blobs, see below)
 *  16     4   mechanism that wrapped it: CKM_AES_KEY_WRAP (0x2109) or
 *             CKM_AES_KEY_WRAP_PAD (0x210A)
 *  20     4   key type of the wrapped key: CKK_AES, CKK_DES, CKK_DES2,
 *             CKK_DES3, CKK_RC2, CKK_RC4 (secret key) or CKK_RSA (private
 *             key, wrapped as PKCS#8 PrivateKeyInfo)
 *  24     4   key length in bytes: the secret key's length (what aiKeyAlg
 *             implies; tokens report CKA_VALUE_LEN 0 for unwrapped keys and
 *             KEY_WRAP_PAD may hand back a padded value, so the importer
 *             needs it), or the RSA modulus length
 *  28     4   ALG_ID of the wrapping key: CALG_AES_128/192/256
 *  32     4   usage: BLOB_OPAQUE_USAGE_KEK (bit 0), the wrapped key is a
 *             wrap-only key-encryption key; every other bit reserved, 0
 *  36     4   n, the length of the wrapped bytes
 *  40     n   the wrapped bytes, as C_WrapKey returned them
 *
 * Version 1 has no usage field (n at 32, the wrapped bytes at 36) and
 * reads as usage 0. The usage is not authenticated by the wrap: it keeps a
 * key-encryption key's usage in honest moves, it is no security boundary.
 *
 * Rules that the parser and builder both enforce, in this order: format
 * version 1 or 2, a version 2 blob at least 40 bytes, no reserved usage
 * bit (NTE_BAD_DATA; the builder also refuses a usage in version 1); the
 * blob holds its n wrapped bytes (NTE_BAD_DATA); aiKeyAlg known and the
 * wrapping ALG_ID AES (NTE_BAD_ALGID); then NTE_BAD_DATA: the mechanism
 * is an AES key wrap; the key type is the one aiKeyAlg implies; no
 * wrap-only bit on an RSA key; a secret key's length is one the algorithm
 * takes; an RSA key's modulus length is within ALG_RSA_MIN/MAX_BITS; n is
 * what the mechanism makes of that key (CKM_AES_KEY_WRAP: length + 8 for
 * a multiple of 8 of at least 16 bytes; CKM_AES_KEY_WRAP_PAD: the length
 * rounded up to 8, at least 8, plus 8; a wrapped PKCS#8 key: a multiple of
 * 8 of at least 24 bytes). Excess bytes after the wrapped ones are ignored
 * like those of every other blob. */

#define BLOB_OPAQUE_MAGIC 0x4F313143u  /* "C11O" */
#define BLOB_OPAQUE_VERSION_1 1u       /* no usage field */
#define BLOB_OPAQUE_VERSION 2u         /* what exports write */
#define BLOB_OPAQUE_HEADER_LEN_V1 36   /* everything before the wrapped bytes, version 1 */
#define BLOB_OPAQUE_HEADER_LEN 40      /* the same, version 2 */
#define BLOB_OPAQUE_USAGE_KEK 0x1u     /* a wrap-only key-encryption key */

struct blob_opaque {
	DWORD version;                 /* BLOB_OPAQUE_VERSION_1 or BLOB_OPAQUE_VERSION */
	ALG_ID alg;                    /* the wrapped key's algorithm */
	CK_MECHANISM_TYPE mechanism;   /* CKM_AES_KEY_WRAP or CKM_AES_KEY_WRAP_PAD */
	CK_KEY_TYPE key_type;
	DWORD key_len;                 /* bytes, see above */
	ALG_ID wrap_alg;               /* CALG_AES_128/192/256 */
	DWORD usage;                   /* BLOB_OPAQUE_USAGE_*; always 0 in version 1 */
	struct blob_bytes wrapped;
};

/* After the header, the rules above.
 * Errors: those of blob_parse_header, NTE_BAD_TYPE, NTE_BAD_DATA,
 * NTE_BAD_ALGID. */
DWORD blob_parse_opaque(const BYTE *data, size_t len, struct blob_opaque *out);

/* Builds from key, in the format version key->version names, whose
 * wrapped field holds C_WrapKey's output, checked by the same rules as the
 * parser (same error codes): a parsed blob builds back to its own bytes.
 * Errors: NTE_BAD_ALGID, NTE_BAD_DATA, ERROR_MORE_DATA. */
DWORD blob_build_opaque(const struct blob_opaque *key, BYTE *out, size_t out_len, size_t *needed);

/* The header length of that format version plus wrapped_len (40 +
 * wrapped_len in version 2, 36 + in version 1); 0 for another version, on
 * overflow or beyond a DWORD. */
size_t blob_size_opaque(DWORD version, size_t wrapped_len);

/* Length of what RFC 3394 (pad false, CKM_AES_KEY_WRAP) or the padded AES
 * wrap (pad true, CKM_AES_KEY_WRAP_PAD) makes of a key_len-byte key: for
 * size queries of OPAQUEKEYBLOB and SYMMETRICWRAPKEYBLOB that must not
 * perform the wrap. 0 when the mechanism cannot wrap that length (RFC 3394
 * needs a multiple of 8 of at least 16 bytes). */
size_t blob_aes_wrap_len(size_t key_len, bool pad);

/* ---- Big numbers --------------------------------------------------------------
 * None of these accepts overlapping source and destination. */

/* Length of a big-endian number without its leading zero bytes. */
size_t bn_be_len(const BYTE *be, size_t len);

/* Writes the big-endian number be into the width-byte little-endian field
 * le, zero-padded. False, with le untouched, when the number needs more
 * than width bytes once leading zeros are stripped. */
bool bn_be_to_le(const BYTE *be, size_t len, BYTE *le, size_t width);

/* Writes the little-endian number le (trailing zero bytes stripped) into
 * the width-byte big-endian buffer be, zero-padded at the front. False,
 * with be untouched, when it does not fit. */
bool bn_le_to_be(const BYTE *le, size_t len, BYTE *be, size_t width);

/* Copies len bytes reversed, no stripping: for values whose width is fixed
 * (an RSA ciphertext is exactly k bytes, leading zeros included). */
void bn_reverse_copy(BYTE *dst, const BYTE *src, size_t len);
/* The same in place: Windows' byte order for an RSA block and back. */
void bn_reverse(BYTE *b, size_t len);

/* A big-endian number (CKA_PUBLIC_EXPONENT) as a DWORD; false when it is
 * longer than 4 bytes once leading zeros are stripped. */
bool bn_be_to_dword(const BYTE *be, size_t len, DWORD *out);

/* The DWORD v as the shortest big-endian byte string (one byte for 0),
 * written to out; returns its length, 1 to 4. */
size_t bn_dword_to_be(DWORD v, BYTE out[4]);

#endif
