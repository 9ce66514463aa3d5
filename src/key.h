/* Keys (HCRYPTKEY). A key handle names a struct key: the CryptoAPI view
 * (algorithm, IV, mode) of a struct keyobj, the token objects. Duplicates
 * share one keyobj and each has its own IV and mode, so a copy outlives
 * the handle it was made from. */
#ifndef CAPI11_KEY_H
#define CAPI11_KEY_H

#include "container.h"
#include "context.h"
#include "handle.h"

#include <wincrypt.h>

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
};

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
};

/* CKA_SENSITIVE for a key capi11 makes or imports: every key without
 * CRYPT_EXPORTABLE, and exportable ones too under the sensitive policy. */
bool key_new_is_sensitive(const struct context *ctx, bool exportable);

/* The attributes every session secret key capi11 makes or imports shares
 * (class, type, session object, private when logged in, sensitivity,
 * encrypt and decrypt), written into tmpl[0..KEY_SECRET_ATTRS-1]; the
 * caller adds the value or its length. type must outlive the template.
 * With the context locked: logs in when a PIN is at hand, so that the
 * object can be private. */
#define KEY_SECRET_ATTRS 8
void key_secret_template_locked(struct context *ctx, const CK_KEY_TYPE *type, bool exportable,
				CK_ATTRIBUTE *tmpl);

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
	struct container_key old;
	unsigned char id[16];
	CK_ATTRIBUTE priv[KEY_PAIR_ATTRS_MAX];
	CK_ULONG n_priv;
	CK_ATTRIBUTE pub[KEY_PAIR_ATTRS_MAX];
	CK_ULONG n_pub;
};
DWORD key_pair_begin_locked(struct context *ctx, DWORD spec, bool exportable,
			    struct key_pair_plan *plan);
DWORD key_pair_finish_locked(struct context *ctx, const struct key_pair_plan *plan,
			     CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub, struct key **out);

/* CryptGenKey's work, with the context locked. */
DWORD key_generate_locked(struct context *ctx, ALG_ID algid, DWORD flags, struct key **out);
/* CryptGetUserKey's work, with the context locked: NTE_NO_KEY when the
 * container has no key of that spec. */
DWORD key_get_user_locked(struct context *ctx, DWORD spec, struct key **out);
/* A new key handle on the same objects, with the same IV and mode. */
DWORD key_duplicate_locked(struct key *key, struct key **out);
/* CryptGetKeyParam's work; buffer rules of SPEC section 2. */
DWORD key_get_param_locked(struct key *key, DWORD param, BYTE *data, DWORD *len);

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
/* Registers a new key with the handle table and its context. */
DWORD key_register_locked(struct key *key, HCRYPTKEY *out);
/* The key named by a handle, referenced, or NULL. */
struct key *key_lookup(HCRYPTKEY h);
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

/* Copies a DWORD parameter out with the buffer rules of SPEC section 2. */
DWORD param_put(BYTE *data, DWORD *len, const void *value, DWORD value_len);
DWORD param_put_dword(BYTE *data, DWORD *len, DWORD value);

#endif
