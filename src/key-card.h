/* What capi11's own key pairs carry so that tokens of every kind give
 * them back as they were made, and the answers it gives where a card
 * cannot make what was asked.
 *
 * The spec of a pair capi11 makes (AT_KEYEXCHANGE or AT_SIGNATURE) is
 * recorded in the CKA_ID it draws for the pair, which every token stores
 * as given: KEY_ID_LEN bytes, the magic CA 11 4B 53 ("capi11 key spec"),
 * one byte of spec (1 exchange, 2 signature), then random bytes that
 * keep the two pairs of a container apart. A token that couples
 * decryption and signing (tpm2-pkcs11) cannot keep the spec in the
 * usages, which SPEC section 3 reads; the ID keeps it everywhere.
 * Keys made elsewhere have no such ID and are classified as before: by
 * the card's known layout (PIV slots), else by their usages. */
#ifndef CAPI11_KEY_CARD_H
#define CAPI11_KEY_CARD_H

#include "session.h"
#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <wincrypt.h>

#define KEY_ID_LEN 16

/* A new CKA_ID recording spec. The random part comes from the token, or,
 * where the token has no generator (CKR_RANDOM_NO_RNG, or a refusal), from
 * the system: it is a name, not a secret. */
CK_RV key_id_draw(struct tsession *ts, DWORD spec, unsigned char id[KEY_ID_LEN]);

/* The spec an ID records, 0 when it records none. */
DWORD key_id_spec(const void *id, CK_ULONG id_len);

/* A DH pair whose group's q is stored with it (dh.h) has KEY_ID_DH_Q
 * added to the spec byte of its ID (0x81 for AT_KEYEXCHANGE): the pair
 * itself then says that a q object must be found, so that a q object
 * lost or removed makes agreement refuse rather than go unchecked. */
#define KEY_ID_DH_Q 0x80u
/* Sets or clears the mark in an ID key_id_draw made. */
void key_id_mark_dh_q(unsigned char id[KEY_ID_LEN], bool on);
/* Whether a capi11 ID carries the mark. */
bool key_id_has_dh_q(const void *id, CK_ULONG id_len);

/* The spec of a private key: the one its ID records, where the token
 * couples its usages or they agree with it; else, on a token
 * with PIV slots, the digital signature key (ID 02) is AT_SIGNATURE and
 * the key management key (ID 03) AT_KEYEXCHANGE; else AT_KEYEXCHANGE when
 * it may decrypt or unwrap and AT_SIGNATURE otherwise (SPEC section 3). */
DWORD key_spec_classify(const struct token *tok, const void *id, CK_ULONG id_len,
			bool decrypts);

/* Before a key pair is stored on the token (on_token: not a verify
 * context's session objects): NTE_PERM when the token says it is
 * write-protected, the refusal recorded for Capi11GetLastPkcs11Error;
 * else ERROR_SUCCESS. */
DWORD key_store_check(struct tsession *ts, bool on_token);

/* Before a private key is made with CRYPT_EXPORTABLE: NTE_BAD_FLAGS when
 * the token is known to refuse extractable private keys
 * (TOKEN_CAP_EXTRACTABLE_PRIVATE NO, from the quirks table or an earlier
 * refusal), with the refusal recorded for Capi11GetLastPkcs11Error; else
 * ERROR_SUCCESS. */
DWORD key_exportable_check(struct tsession *ts, bool exportable);

/* After the token answered rv to a private key made with or without
 * CRYPT_EXPORTABLE: learns TOKEN_CAP_EXTRACTABLE_PRIVATE from it, and
 * returns NTE_BAD_FLAGS when the token refused an extractable key's
 * attributes (CKR_ATTRIBUTE_VALUE_INVALID, what tpm2-pkcs11 answers),
 * else ERROR_SUCCESS (the caller maps rv as usual). */
DWORD key_exportable_learn(struct tsession *ts, bool exportable, CK_RV rv);

#endif
