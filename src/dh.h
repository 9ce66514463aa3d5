/* Diffie-Hellman keys (CALG_DH_SF, CALG_DH_EPHEM) of PROV_DSS_DH, made on
 * the token: domain parameters by CKM_DH_PKCS_PARAMETER_GEN, the pair by
 * CKM_DH_PKCS_KEY_PAIR_GEN. A CALG_DH_SF pair is the container's
 * AT_KEYEXCHANGE pair (stored as RSA and DSS pairs are); a CALG_DH_EPHEM
 * pair is a pair of session objects that no container holds. Also the
 * CRYPT_PREGEN keys of both DH and DSS: domain parameters given by
 * CryptSetKeyParam(KP_P, KP_Q, KP_G), the pair made by KP_X. */
#ifndef CAPI11_DH_H
#define CAPI11_DH_H

#include "blob-dh.h"
#include "context.h"

#include <wincrypt.h>

struct key;
struct key_pair_plan;
struct pregen;
struct token;
struct tsession;

/* Microsoft's DH key lengths (the PROV_DSS_DH algorithm tables and
 * ICspAlgorithm's length table): 512 to 1024 bits in the Base DSS and
 * Diffie-Hellman provider, 512 to 4096 in the Enhanced one, steps of 64,
 * 1024 by default. */
#define DH_MIN_BITS 512
#define DH_BASE_MAX_BITS 1024
#define DH_ENH_MAX_BITS 4096
#define DH_STEP_BITS 64
#define DH_DEFAULT_BITS 1024

/* The context's range of DH prime lengths: Microsoft's for its provider
 * name (the Base provider's, or the Enhanced one's for every other name)
 * within the token's; false when the token makes no DH parameters or
 * pairs, or derives nothing from them. */
bool dh_token_bits(struct context *ctx, DWORD *min, DWORD *max);
/* The same for tok, the context's token or its companion. */
bool dh_token_bits_on(struct context *ctx, struct token *tok, DWORD *min, DWORD *max);
/* Whether tok derives with DH keys (CKM_DH_PKCS_DERIVE, CKF_DERIVE): what
 * an imported DH pair needs on the context's token. */
bool dh_token_agrees(struct token *tok);
/* The same without CKM_DH_PKCS_PARAMETER_GEN: pairs of given p and g. */
bool dh_token_pairs_on(struct context *ctx, struct token *tok, DWORD *min, DWORD *max);
/* Where CALG_DH_EPHEM pairs of ctx are made (*ts: the context's session,
 * else its companion's when the token makes no DH pairs) and the lengths
 * there; params_needed: the pair's p and g are to be made as well (a
 * CryptGenKey without CRYPT_PREGEN), which the companion must then do
 * too. NTE_BAD_ALGID when no token can; a companion that does not open,
 * its error. With the context locked. */
DWORD dh_ephem_session_locked(struct context *ctx, bool params_needed, struct tsession **ts,
			      DWORD *min, DWORD *max);

/* CryptGenKey(CALG_DH_SF or CALG_DH_EPHEM) with the context locked;
 * HIWORD(flags) is the prime length (0: the default). Errors: NTE_BAD_FLAGS
 * for a length outside the range (Windows' answer, Wine's dssenh tests),
 * NTE_BAD_ALGID when the token makes no DH keys, the token's failures
 * mapped. A failure leaves nothing on the token. */
DWORD dh_generate_locked(struct context *ctx, ALG_ID algid, DWORD flags, struct key **out);

/* CryptGenKey(..., CRYPT_PREGEN) of algid (CALG_DH_SF, CALG_DH_EPHEM or
 * CALG_DSS_SIGN): a key with no token object yet, whose KP_P, KP_G and
 * KP_Q (required for DSS, optional for DH) CryptSetKeyParam sets; KP_X
 * (NULL) then makes the pair on the token with those parameters.
 * HIWORD(flags) is checked as for the generation. */
DWORD dh_pregen_locked(struct context *ctx, ALG_ID algid, DWORD flags, struct key **out);
/* CryptSetKeyParam of KP_P, KP_Q, KP_G (a CRYPT_DATA_BLOB, little-endian)
 * or KP_X (data NULL) on a CRYPT_PREGEN key. Errors: NTE_BAD_TYPE for a
 * key that is not one, NTE_BAD_DATA for a number out of place (p not of
 * the key's length, without its top bit or even; g or q not in
 * 1 < v < p - 1; q without its top bit or even, or for DSS not 160 bits),
 * judged against the numbers already set; a refused number leaves the
 * key as it was. NTE_BAD_KEY_STATE for KP_X before p and g (and DSS q);
 * for KP_X of a DH key with q, NTE_BAD_DATA when g^q != 1 (mod p) (on the
 * token), and the pair keeps q (key.h), a container's pair on the token
 * too (dh_q_store_locked); the generation's errors. */
DWORD dh_pregen_set_locked(struct key *key, DWORD param, const BYTE *data);
void pregen_free(struct pregen *p);
struct pregen *pregen_dup(const struct pregen *p);

/* CryptGetKeyParam(KP_P or KP_G) of a DH key: the number, little-endian,
 * without padding; KP_Q: the q capi11 was given or stored (key.h), else
 * NTE_BAD_TYPE (PKCS#11 DH keys carry no q).
 * A CRYPT_PREGEN key answers with what was set (NTE_BAD_KEY_STATE before). */
DWORD dh_get_param_locked(struct key *key, DWORD param, BYTE *data, DWORD *len);

/* CryptExportKey of a DH key, PUBLICKEYBLOB (private false) or plaintext
 * PRIVATEKEYBLOB, version 2 or 3 (blob-dh.h); the caller has checked that
 * a private key may leave, and encrypts it when asked (export.c). A
 * public blob and a version 3 private one need the public half: without
 * it NTE_BAD_KEY. Version 3 carries the key's q where capi11 knows it
 * (bitlenQ 0 otherwise). */
DWORD dh_export_locked(struct key *key, bool private, BYTE version, BYTE *data, DWORD *len);
/* The plaintext private blob's length from the key's size alone. */
size_t dh_private_blob_len(const struct key *key, BYTE version);

/* CryptImportKey of a plaintext DH PRIVATEKEYBLOB (import.c decrypts an
 * encrypted one first): the container's AT_KEYEXCHANGE DH pair (session
 * objects in a verify context), replacing the one it had. y is the
 * token's computation from x; a version 3 blob's own y must equal it
 * (NTE_BAD_DATA). A version 3 blob with q must have g^q = 1 (mod p)
 * (NTE_BAD_DATA), and the key keeps q (key.h); a container's pair stores
 * it on the token as well (dh_q_store_locked, below). A failure leaves
 * nothing on the token, the q object included. */
DWORD dh_import_private_locked(struct context *ctx, const BYTE *data, size_t len, DWORD flags,
			       struct key **out);

/* y = g^x mod p, computed by the token through a temporary DH key and
 * CKM_DH_PKCS_DERIVE with g as the partner's value (numbers big-endian).
 * *y (capi11_malloc'd, big-endian) is the caller's. CKR_MECHANISM_INVALID
 * when the token cannot derive. */
CK_RV dh_public_value(struct tsession *ts, const BYTE *p, size_t p_len, const BYTE *g,
		      size_t g_len, const BYTE *x, size_t x_len, void **y, CK_ULONG *y_len);

/* Whether 1 < v < p - 1, numbers big-endian (leading zeros allowed), for
 * an odd p (p - 1 then differs from p in its last bit alone); false for an
 * even p. */
bool dh_between_one_and_pm1(const BYTE *v, size_t v_len, const BYTE *p, size_t p_len);

/* Whether v (1 < v < p - 1) lies in the subgroup of order q of a group
 * whose q is known (p - 1 = q * j): v^q = 1 (mod p), computed on the token
 * by dh_public_value as v^(q+1) = v (a token may refuse to derive the
 * secret 1, and v^(q+1) = v exactly when v^q = 1, v being invertible).
 * ERROR_SUCCESS, NTE_BAD_DATA when v is outside it, or the token's
 * failure; nothing is left on the token (a temporary it will not destroy
 * retires the session). Numbers big-endian. */
DWORD dh_check_subgroup(struct tsession *ts, const BYTE *p, size_t p_len, const BYTE *q,
			size_t q_len, const BYTE *v, size_t v_len);

/* The q of a stored DH pair's group, kept on the token with the pair, so
 * that a container's DH key opened again (CryptGetUserKey, another
 * context or process) checks partners as the handle that imported it
 * does. The form: a private token CKO_DATA object of the container
 * (CKA_LABEL its name, CKA_APPLICATION CONTAINER_DH_Q_APPLICATION), whose
 * CKA_VALUE is the pair's CKA_ID (KEY_ID_LEN bytes) followed by q
 * big-endian; PKCS#11 data objects have no CKA_ID, so the pair's ID is in
 * the value. The pair's ID carries KEY_ID_DH_Q (key-card.h) exactly when
 * such an object was made for it. */

/* Before a container's DH pair of plan is made with a known q: marks
 * plan's ID and stores q for it (*obj the object, CK_INVALID_HANDLE when
 * none was made). A verify context, or q NULL, stores nothing. A token
 * that refuses private data objects: the mark is cleared, the pair is
 * made without a stored q (q then stays with the handle alone, as
 * before), traced; ERROR_SUCCESS. Any other failure: the token's error,
 * nothing made. The caller destroys *obj when the pair is not made. */
DWORD dh_q_store_locked(struct context *ctx, struct key_pair_plan *plan, const BYTE *q,
			size_t q_len, CK_OBJECT_HANDLE *obj);
/* Destroys every q object of the container for the pair of that CKA_ID
 * (the pair being replaced or gone). */
void dh_q_destroy_for_id(struct tsession *ts, const char *container, const void *id,
			 CK_ULONG id_len);
/* For a container's DH pair just opened (key->obj without q): when its ID
 * says q is stored, finds the one q object for it and takes q when it is
 * a q of the key's group: odd, its top bit set, 1 < q < p - 1, and
 * g^q = 1 (mod p) on the token. A missing object, several, or a q that
 * fails any check marks the key dh_q_bad (key.h), traced: agreement with
 * it is then refused, never unchecked. */
void dh_q_load_locked(struct key *key);

#endif
