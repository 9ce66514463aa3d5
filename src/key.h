/* Keys (HCRYPTKEY). A key handle names a struct key: the CryptoAPI view
 * (algorithm, IV, mode) of a struct keyobj, the token objects. Duplicates
 * share one keyobj and each has its own IV and mode, so a copy outlives
 * the handle it was made from. */
#ifndef CAPI11_KEY_H
#define CAPI11_KEY_H

#include "container.h"
#include "context.h"
#include "handle.h"
#include "errors.h"

#include <wincrypt.h>
#include <stdatomic.h>
#include <stdint.h>

#define KEY_IV_MAX 16

struct keyobj {
	atomic_uint refs;
	CK_OBJECT_HANDLE priv;         /* private or secret key */
	CK_OBJECT_HANDLE pub;          /* public key of a pair, or invalid */
	CK_KEY_TYPE type;
	/* A session object capi11 made: destroyed with its last key handle,
	 * or when its context is released, whichever comes first. */
	bool owned;
	bool gone;
	/* The objects live on the context's companion token (companion.h),
	 * made on its companion session: every operation on them goes through
	 * keyobj_session. */
	bool companion;
	/* A key-encryption key (CRYPT_KEK): CKA_WRAP/CKA_UNWRAP TRUE,
	 * CKA_ENCRYPT/CKA_DECRYPT FALSE, so that what it wraps can never be
	 * decrypted with it (SPEC section 3). Set when capi11 made the key;
	 * key_read_wrap_only_locked asks the token for keys found there. */
	bool wrap_only;
	/* Facts of the token objects that cannot change once read
	 * (KEYOBJ_FACT_*), so that exports ask the token once, not on each
	 * call: a session object's CKA_EXTRACTABLE and CKA_SENSITIVE (only
	 * this process could change them, and capi11 never does), and the
	 * public key's exponent (fixed at creation). 0: nothing known yet. */
	atomic_uint facts;
	/* The public numbers, read at the first PUBLICKEYBLOB export and kept
	 * while a handle holds the key, as Windows' CSPs keep a key's
	 * material with its handle: the token serialises reads of its
	 * objects, so every export asking again would not scale with
	 * threads. export.c owns the layout; freed with the keyobj. */
	_Atomic(void *) public_numbers;
	/* The q of a DH key's group (p - 1 = q * j), big-endian, when capi11
	 * was given it: a DH3/DH4 blob with bitlenQ > 0, or KP_Q at
	 * CRYPT_PREGEN; for a container's pair opened again, read back from
	 * the token and checked (dh.h, dh_q_load_locked). Agreement then
	 * refuses a partner's y outside the subgroup of order q (agree.c).
	 * NULL: unknown. Set once, before the key is handed out; freed with
	 * the keyobj. */
	BYTE *dh_q;
	size_t dh_q_len;
	/* A stored DH pair whose ID says q is stored (key-card.h) but whose
	 * q object is missing, not one, or not a q of the key's group (dh.h,
	 * dh_q_load_locked): agreement with it is refused (NTE_BAD_KEY)
	 * rather than left unchecked. */
	bool dh_q_bad;
	/* The token object that stores dh_q with a container's pair, or
	 * CK_INVALID_HANDLE: destroyed with the pair's objects. */
	CK_OBJECT_HANDLE dh_q_obj;
};

#define KEYOBJ_FACT_FLAGS_READ 0x1u   /* the two bits below are valid */
#define KEYOBJ_FACT_EXTRACTABLE 0x2u
#define KEYOBJ_FACT_SENSITIVE 0x4u
#define KEYOBJ_FACT_EXPONENT_OK 0x8u  /* public exponent checked: not one */

/* An RSA or DSA key pair (or half of one), as opposed to a session key. */
static inline bool keyobj_is_pair(const struct keyobj *obj)
{
	return obj->type == CKK_RSA || obj->type == CKK_DSA || obj->type == CKK_DH;
}

struct agreed;
struct pregen;

struct key {
	struct handle_obj base;        /* first: a key is a handle object */
	struct context *ctx;           /* referenced */
	struct keyobj *obj;            /* referenced */
	ALG_ID algid;
	DWORD spec;                    /* AT_KEYEXCHANGE, AT_SIGNATURE, or 0 */
	DWORD bits;                    /* KP_KEYLEN */
	DWORD block_bits;              /* KP_BLOCKLEN, 0 for stream ciphers */
	bool exportable;               /* CRYPT_EXPORT in KP_PERMISSIONS */
	DWORD permissions;
	DWORD mode;                    /* KP_MODE */
	DWORD padding;                 /* KP_PADDING */
	BYTE iv[KEY_IV_MAX];           /* KP_IV */
	/* CBC chaining value between the calls of a CryptEncrypt/CryptDecrypt
	 * stream: the last ciphertext block, KP_IV again after a final call.
	 * Kept here rather than in an open PKCS#11 operation, so that nothing
	 * stays active on the context's session between calls. */
	BYTE chain[KEY_IV_MAX];
	/* A CALG_AGREEDKEY_ANY key (agree.h): what KP_ALGID needs to make the
	 * session key. NULL for every other key; owned by the key. */
	struct agreed *agreed;
	/* A CRYPT_PREGEN key before CryptSetKeyParam(KP_X) made its pair
	 * (dh.h): the domain parameters set so far. NULL otherwise. */
	struct pregen *pregen;
	/* Unique in the process, never reused: names this key in another
	 * key's simple_size. */
	uint64_t serial;
	/* The last SIMPLEBLOB size query answered for this key (export.c,
	 * export_simple_size_fast): hExpKey's serial, CRYPT_OAEP and the size,
	 * 0 when none; simple_size_epoch, keyobj_destroy_epoch when it was
	 * answered. Written under the context lock, cleared by every
	 * CryptSetKeyParam; read without it. */
	_Atomic uint64_t simple_size;
	_Atomic uint64_t simple_size_epoch;
};

/* The session of ctx that holds obj's objects: the context's own
 * (ctx->ts) or, for a key on the companion token, its companion session
 * (ctx->cts). The one way code reaches a key's objects. */
struct tsession *keyobj_session(struct context *ctx, const struct keyobj *obj);
/* The session ctx has open on tok (its own, or its companion session),
 * NULL when it has none there: for a key of another context, whose
 * objects any session of ctx on their token sees. */
struct tsession *context_session_on_locked(struct context *ctx, const struct token *tok);
/* The same for a key of its own context. */
struct tsession *key_session(const struct key *key);
/* The token that holds a key's objects. */
struct token *key_token(const struct key *key);

/* CKA_SENSITIVE for a key capi11 makes or imports: every key without
 * CRYPT_EXPORTABLE, and exportable ones too under the sensitive policy. */
bool key_new_is_sensitive(const struct context *ctx, bool exportable);
/* Whether a key with these CKA_EXTRACTABLE and CKA_SENSITIVE values is
 * exportable (CRYPT_EXPORT in KP_PERMISSIONS): extractable, and not
 * sensitive unless the policy keeps exportable keys sensitive. */
bool key_exportable_from_attrs(const struct context *ctx, bool extractable, bool sensitive);

/* The attributes every session secret key capi11 makes or imports shares
 * (class, type, session object, private when logged in, sensitivity,
 * encrypt and decrypt), written into tmpl[0..KEY_SECRET_ATTRS-1]; the
 * caller adds the value or its length. type must outlive the template.
 * ts is the session the key will be made on (the context's own or its
 * companion's). With the context locked: logs in when a PIN is at hand,
 * so that the object can be private. */
#define KEY_SECRET_ATTRS 8
void key_secret_template_locked(struct context *ctx, struct tsession *ts, const CK_KEY_TYPE *type,
				bool exportable, CK_ATTRIBUTE *tmpl);

/* A count of the times any key's objects were destroyed while handles
 * still name them (keyobj_destroy_objects_locked): export.c's kept answers
 * are trusted only while it has not moved. */
uint64_t keyobj_destroy_epoch(void);
/* CRYPT_KEK (0x400, the Windows SDK's value) makes a wrap-only AES session
 * key, so that what it wraps can never be decrypted with it. A sensitive
 * key leaves only under a key the token trusts (trust.c). key_kek_flag_check: NTE_BAD_FLAGS
 * when dwFlags has CRYPT_KEK and alg is not AES_128/192/256. */
DWORD key_kek_flag_check(ALG_ID alg, DWORD flags);
/* With kek, turns a key_secret_template_locked template into a wrap-only
 * one: CKA_ENCRYPT/CKA_DECRYPT FALSE, and CKA_WRAP/CKA_UNWRAP TRUE written
 * at tmpl[KEY_SECRET_ATTRS..]. Returns the template's new length
 * (KEY_SECRET_ATTRS without kek); tmpl has room for KEY_SECRET_ATTRS +
 * KEY_KEK_ATTRS. */
#define KEY_KEK_ATTRS 2
CK_ULONG key_secret_template_kek(CK_ATTRIBUTE *tmpl, bool kek);
/* The token-enforced protection of a new key made on ts, on a template of *n
 * attributes that holds CKA_SENSITIVE and CKA_EXTRACTABLE: a key that
 * arrives wrapped (wrapped) is made sensitive whatever CRYPT_EXPORTABLE
 * says, since its source may have been; and a sensitive key that is
 * extractable or arrived wrapped (a trusted key-encryption key's unwrap
 * template asks for it) gets CKA_WRAP_WITH_TRUSTED (trust.c), once. tmpl has room for
 * KEY_PROTECT_ATTRS more. Errors: the token's, from learning whether it
 * takes the attribute. */
#define KEY_PROTECT_ATTRS 1
DWORD key_template_protect_locked(struct tsession *ts, CK_ATTRIBUTE *tmpl, CK_ULONG *n,
				  bool wrapped);
/* Records that a key capi11 has just made is wrap-only: KP_PERMISSIONS
 * loses CRYPT_ENCRYPT and CRYPT_DECRYPT. */
void key_mark_wrap_only(struct key *key);
/* Whether k is a live session key on tok: not NULL, not RSA, with its
 * secret key object still there. What hExpKey of CryptExportKey and
 * hPubKey of CryptImportKey must be for the blobs a session key wraps
 * (SYMMETRICWRAPKEYBLOB, OPAQUEKEYBLOB). */
bool key_is_session_key_on(const struct key *k, const struct token *tok);
/* The session of ctx (locked) on which key's objects may be used: ctx's
 * own when the key lives on ctx's token, ctx's companion session when the
 * key lives on a companion token that is also ctx's companion (opened
 * here), else NULL: object handles belong to one token, and a key of
 * another token is not one ctx can use. The key may belong to another
 * context. */
struct tsession *key_session_in_locked(struct context *ctx, const struct key *key);
/* Whether the token says the secret key is wrap-only (CKA_WRAP TRUE,
 * CKA_ENCRYPT and CKA_DECRYPT FALSE), asked on ctx's session (locked; the
 * key may belong to another context of the token, so its keyobj is only
 * read). The token is asked rather than the keyobj trusted, so that a key
 * found on the token is judged by what it is. Not a secret key: false.
 * Returns the token's failure. */
CK_RV key_read_wrap_only_locked(struct context *ctx, const struct key *key, bool *wrap_only);
/* Destroys the key's token objects now (CRYPT_DESTROYKEY): a session key,
 * or a container's pair (private and public object), so that
 * CryptGetUserKey no longer finds it. The keyobj stays, with invalid
 * object handles, for the handles that still name it: they can only be
 * destroyed. */
void keyobj_destroy_objects_locked(struct context *ctx, struct keyobj *obj);

/* A new RSA pair for a container slot (or a verify context's memory), as
 * CryptGenKey and CryptImportKey make it. key_pair_begin_locked logs in (a
 * verify context may stay logged out: its objects are then public), finds
 * the pair the new one replaces, draws a fresh CKA_ID, and writes the
 * attributes every pair shares into priv/pub: class, type, token or
 * session object, privacy, ID, label, sensitivity, and the usages that make
 * the exchange/signature rule (SPEC section 3) classify the pair - set
 * explicitly, as SoftHSM defaults every usage to TRUE. The caller appends
 * its own attributes and makes the objects; key_pair_finish_locked gives
 * them a key and only then drops the replaced pair. On failure of finish
 * the objects stay the caller's to destroy. */
#define KEY_PAIR_ATTRS_MAX 24
struct key_pair_plan {
	DWORD spec;
	CK_KEY_TYPE type;              /* CKK_RSA, CKK_DSA or CKK_DH */
	struct container_key old;
	unsigned char id[16];
	CK_ATTRIBUTE priv[KEY_PAIR_ATTRS_MAX];
	CK_ULONG n_priv;
	CK_ATTRIBUTE pub[KEY_PAIR_ATTRS_MAX];
	CK_ULONG n_pub;
};
DWORD key_pair_begin_locked(struct context *ctx, DWORD spec, bool exportable,
			    struct key_pair_plan *plan);
/* The same for a pair of another type: CKK_DSA (dss.c), CKK_DH (dh.c).
 * The pair it replaces is the container's pair of that spec and type. A
 * DH pair's private key derives (CKA_DERIVE) and neither decrypts,
 * unwraps nor signs. */
DWORD key_pair_begin_type_locked(struct context *ctx, DWORD spec, CK_KEY_TYPE type,
				 bool exportable, struct key_pair_plan *plan);
/* The same for a pair of session objects that belongs to no container and
 * replaces nothing: an ephemeral DH pair (CALG_DH_EPHEM). */
DWORD key_pair_begin_session_locked(struct context *ctx, DWORD spec, CK_KEY_TYPE type,
				    bool exportable, struct key_pair_plan *plan);
DWORD key_pair_finish_locked(struct context *ctx, const struct key_pair_plan *plan,
			     CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub, struct key **out);
/* The end of making a pair for a plan: rv is the token's answer to the
 * call that made the objects (priv and pub, either CK_INVALID_HANDLE when
 * not made), err a Windows code already chosen for it (ERROR_SUCCESS:
 * none; else it wins), op the error table's operation for rv. On success
 * key_pair_finish_locked; on any failure the objects made are destroyed,
 * so that a failed call leaves nothing on the token. */
DWORD key_pair_store_locked(struct context *ctx, const struct key_pair_plan *plan, CK_RV rv,
			    DWORD err, enum error_op op, CK_OBJECT_HANDLE priv,
			    CK_OBJECT_HANDLE pub, struct key **out);
/* C_CreateObject of plan's private key, made elsewhere, on the context's
 * token (*rv its answer, *priv the object): a token known to take no
 * private key is not asked again (its refusal recalled for
 * Capi11GetLastPkcs11Error), and what it answers teaches whether it takes
 * private and extractable private keys. Returns the Windows code chosen
 * for a refusal (NTE_BAD_FLAGS for CRYPT_EXPORTABLE, NTE_NOT_SUPPORTED
 * for no private key at all), else ERROR_SUCCESS. */
DWORD key_pair_create_private_locked(struct context *ctx, struct key_pair_plan *plan,
				     DWORD flags, CK_OBJECT_HANDLE *priv, CK_RV *rv);
/* C_GenerateKeyPair of plan with mech on the context's token, learning
 * from its answer whether the token makes pairs and extractable private
 * keys (key-card.h), then key_pair_store_locked. */
DWORD key_pair_generate_locked(struct context *ctx, struct key_pair_plan *plan,
			       CK_MECHANISM_TYPE mech, DWORD flags, struct key **out);

/* Whether a session key of alg may be made on the companion token: the
 * algorithms CryptEncrypt runs there (AES, DES, 3DES, 3DES_112). */
bool key_alg_has_companion_route(ALG_ID alg);
/* CryptGenKey's work, with the context locked. Session keys the token
 * cannot make (no mechanism with CKF_GENERATE, no CKK_DES2, C_GenerateKey
 * refused) are made on the companion token (companion.h); NTE_BAD_ALGID
 * when neither can. */
DWORD key_generate_locked(struct context *ctx, ALG_ID algid, DWORD flags, struct key **out);
/* CryptGetUserKey's work, with the context locked: NTE_NO_KEY when the
 * container has no key of that spec (CAPI11_AT_KEK: its trusted
 * key-encryption key). */
DWORD key_get_user_locked(struct context *ctx, DWORD spec, struct key **out);
/* A new key handle on the same objects, with the same IV and mode. */
DWORD key_duplicate_locked(struct key *key, struct key **out);
/* CryptGetKeyParam's work (key-param.c); buffer rules of SPEC section 2.
 * Errors: ERROR_MORE_DATA, NTE_BAD_TYPE (unknown or not for this key),
 * SCARD_E_NO_SUCH_CERTIFICATE (KP_CERTIFICATE: none on the token). */
DWORD key_get_param_locked(struct key *key, DWORD param, BYTE *data, DWORD *len);
/* The RSA public key of the X.509 certificate beside an RSA key
 * (KP_CERTIFICATE): n and e point into *der, which the caller frees
 * (capi11_free). For a card whose key objects show no public numbers.
 * Errors: SCARD_E_NO_SUCH_CERTIFICATE, NTE_BAD_KEY (not an RSA
 * certificate), mapped token failures. */
DWORD key_certificate_rsa_locked(struct key *key, BYTE **der, const BYTE **n, size_t *n_len,
				 const BYTE **e, size_t *e_len);
/* CryptSetKeyParam's work (key-param.c). data is never NULL.
 * Errors: NTE_BAD_TYPE, NTE_BAD_DATA (a value the key does not take),
 * NTE_BAD_KEY (KP_CERTIFICATE on a key with no CKA_ID), mapped token
 * failures of storing a certificate. */
DWORD key_set_param_locked(struct key *key, DWORD param, const BYTE *data);

/* A key for objects the caller has just created (CryptImportKey): priv is
 * the private or secret key, pub the public key (either may be
 * CK_INVALID_HANDLE for a public key alone). An RSA key (type CKK_RSA)
 * reads its size and exportability from the token; a secret key takes
 * bits (KP_KEYLEN) and exportable from the caller. owned: session objects
 * destroyed with the last handle or the context. On failure the objects
 * stay the caller's to destroy. Errors: NTE_NO_MEMORY, or the mapped failure
 * of reading the key's size from the token. */
DWORD key_adopt_locked(struct context *ctx, CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub,
		       CK_KEY_TYPE type, ALG_ID algid, DWORD bits, bool exportable, bool owned,
		       struct key **out);
/* key_adopt_locked for objects made on ts, the context's own session or
 * its companion session (then the key is a companion key). */
DWORD key_adopt_on_locked(struct context *ctx, struct tsession *ts, CK_OBJECT_HANDLE priv,
			  CK_OBJECT_HANDLE pub, CK_KEY_TYPE type, ALG_ID algid, DWORD bits,
			  bool exportable, bool owned, struct key **out);
/* Gives key new token objects: a session secret key h just made on ts
 * (CryptSetKeyParam(KP_ALGID) of an agreed key), read as key_adopt_on_locked
 * reads one; the objects the key had are dropped, the IV and chaining
 * value start from zero. The handle stays. NTE_NO_MEMORY leaves the key
 * as it was and h the caller's. */
DWORD key_replace_secret_locked(struct key *key, struct tsession *ts, CK_OBJECT_HANDLE h,
				CK_KEY_TYPE type, ALG_ID algid, DWORD bits, bool exportable);
/* A key with no token object yet (CRYPT_PREGEN, dh.h) of a pair type:
 * its objects come from key_take_pair_locked. */
DWORD key_new_pending_locked(struct context *ctx, CK_KEY_TYPE type, ALG_ID algid,
			     struct key **out);
/* Moves the objects and facts of made (a key just made, with no handle)
 * into key, dropping what key had; made is freed. */
void key_take_pair_locked(struct key *key, struct key *made);
/* Registers a new key with the handle table and its context. */
DWORD key_register_locked(struct key *key, HCRYPTKEY *out);
/* The key named by a handle, referenced, or NULL. */
struct key *key_lookup(HCRYPTKEY h);
/* A call's second key (hExpKey, hPubKey, the key of a hash), whose
 * context the call does not lock: key_lookup, but NULL also for a key
 * made before a fork this process is the child of, or of a released
 * context. */
struct key *key_lookup_other(HCRYPTKEY h);
/* The key a handle names, referenced, with its context locked;
 * ERROR_INVALID_PARAMETER for 0, unknown, foreign or orphaned values.
 * key_put_locked unlocks the context and drops the reference. */
DWORD key_get_locked(HCRYPTKEY h, struct key **out);
void key_put_locked(struct key *key);
void key_unref(struct key *key);
/* CryptDestroyKey's work: unregisters the handle. */
DWORD key_destroy(HCRYPTKEY h);

/* Drops a reference to token objects; with the context locked when the
 * last reference may destroy a session object. */
void keyobj_unref_locked(struct context *ctx, struct keyobj *obj);

#endif
