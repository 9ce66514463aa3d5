/* CryptExportKey: which PKCS#11 calls serve each blob type. The blob
 * layouts are blob.c's; this file reads the key from the token and hands
 * the numbers over. Every buffer that held key bytes is wiped. */
#include "config.h"
#include "export.h"
#include "dh.h"
#include "dss.h"
#include "alg.h"
#include "blob.h"
#include "cipher.h"
#include "des3-wrap.h"
#include "errors.h"
#include "rsa-mech.h"
#include "trust.h"
#include "trace.h"
#include "util.h"

#include <string.h>

/* No key attribute capi11 reads is anywhere near this. */
#define ATTR_MAX_LEN (64 * 1024)
/* First guess for each attribute's buffer: an RSA-4096 modulus fits, so
 * one C_GetAttributeValue usually does (asking the lengths first doubles
 * the cost, and a token object's read is the dearest part of an export). */
#define ATTR_GUESS_LEN 512
#define ATTRS_MAX 8

/* Attributes read into buffers of their own, with the allocated sizes
 * kept apart: a failed read may leave ulValueLen unusable for wiping. */
struct attr_set {
	CK_ATTRIBUTE a[ATTRS_MAX];
	CK_ULONG cap[ATTRS_MAX];
	CK_ULONG n;
};

static void attr_set_init(struct attr_set *set, const CK_ATTRIBUTE_TYPE *types, CK_ULONG n)
{
	CK_ULONG i;

	memset(set, 0, sizeof *set);
	for (i = 0; i < n && i < ATTRS_MAX; i++)
		set->a[i].type = types[i];
	set->n = i;
}

static void attr_set_clear(struct attr_set *set)
{
	CK_ULONG i;

	for (i = 0; i < set->n; i++) {
		capi11_free_secret(set->a[i].pValue, set->cap[i]);
		set->a[i].pValue = NULL;
		set->cap[i] = 0;
	}
}

/* rv, or CKR_ATTRIBUTE_SENSITIVE when the token answered CKR_OK but hid
 * one of the attributes. */
static CK_RV attr_set_hidden(const struct attr_set *set, CK_RV rv)
{
	CK_ULONG i;

	for (i = 0; rv == CKR_OK && i < set->n; i++) {
		if (set->a[i].ulValueLen == CK_UNAVAILABLE_INFORMATION)
			rv = CKR_ATTRIBUTE_SENSITIVE;
	}
	return rv;
}

/* Reads every attribute of set from obj. One the token hides (sensitive,
 * not extractable) fails CKR_ATTRIBUTE_SENSITIVE: nothing of a key that
 * may not leave is ever read. */
static CK_RV attr_set_read(struct tsession *ts, CK_OBJECT_HANDLE obj, struct attr_set *set)
{
	CK_ULONG i;
	CK_RV rv;

	for (i = 0; i < set->n; i++) {
		set->cap[i] = ATTR_GUESS_LEN;
		set->a[i].pValue = capi11_malloc(set->cap[i]);
		if (set->a[i].pValue == NULL)
			return CKR_HOST_MEMORY;
		set->a[i].ulValueLen = set->cap[i];
	}
	rv = token_get_attributes(ts, obj, set->a, set->n);
	if (rv != CKR_BUFFER_TOO_SMALL)
		return attr_set_hidden(set, rv);
	/* Larger than guessed: ask the lengths, then read again. */
	for (i = 0; i < set->n; i++) {
		capi11_free_secret(set->a[i].pValue, set->cap[i]);
		set->a[i].pValue = NULL;
		set->a[i].ulValueLen = 0;
		set->cap[i] = 0;
	}
	rv = attr_set_hidden(set, token_get_attributes(ts, obj, set->a, set->n));
	if (rv != CKR_OK)
		return rv;
	for (i = 0; i < set->n; i++) {
		if (set->a[i].ulValueLen > ATTR_MAX_LEN)
			return CKR_GENERAL_ERROR;
		set->cap[i] = set->a[i].ulValueLen ? set->a[i].ulValueLen : 1;
		set->a[i].pValue = capi11_malloc(set->cap[i]);
		if (set->a[i].pValue == NULL)
			return CKR_HOST_MEMORY;
		set->a[i].ulValueLen = set->cap[i];
	}
	return attr_set_hidden(set, token_get_attributes(ts, obj, set->a, set->n));
}

static struct blob_bytes attr_bytes(const struct attr_set *set, CK_ULONG i)
{
	struct blob_bytes b = { set->a[i].pValue, set->a[i].ulValueLen };
	return b;
}

/* Stores a builder's result in the caller's length, per SPEC section 2. */
static DWORD export_finish(DWORD err, size_t needed, DWORD *len)
{
	if (err != ERROR_SUCCESS && err != ERROR_MORE_DATA)
		return err;
	if (needed > 0xffffffffu)
		return NTE_FAIL;
	*len = (DWORD)needed;
	return err;
}

/* CKA_EXTRACTABLE and CKA_SENSITIVE of the key, in one call, and for a
 * session object only once (struct keyobj's facts). A value the token
 * hides or lacks keeps the safe answer: not extractable, sensitive. */
static CK_RV export_read_flags_locked(struct key *key, bool *extractable, bool *sensitive)
{
	unsigned facts = atomic_load(&key->obj->facts);
	CK_BBOOL x = CK_FALSE, s = CK_TRUE, on_token = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_EXTRACTABLE, &x, sizeof x },
		{ CKA_SENSITIVE, &s, sizeof s },
		{ CKA_TOKEN, &on_token, sizeof on_token },
	};
	CK_RV rv;

	if (facts & KEYOBJ_FACT_FLAGS_READ) {
		*extractable = (facts & KEYOBJ_FACT_EXTRACTABLE) != 0;
		*sensitive = (facts & KEYOBJ_FACT_SENSITIVE) != 0;
		return CKR_OK;
	}
	*extractable = false;
	*sensitive = true;
	rv = token_get_attributes(key_session(key), key->obj->priv, tmpl,
				  CAPI11_N_ELEMENTS(tmpl));
	if (rv != CKR_OK)
		return rv;
	if (tmpl[0].ulValueLen == sizeof x)
		*extractable = x == CK_TRUE;
	if (tmpl[1].ulValueLen == sizeof s)
		*sensitive = s == CK_TRUE;
	/* Token objects are shared with other programs, which may still make
	 * them sensitive: those are asked each time. So is a key the token
	 * gave no clear answer for. */
	if (tmpl[0].ulValueLen == sizeof x && tmpl[1].ulValueLen == sizeof s &&
	    tmpl[2].ulValueLen == sizeof on_token && on_token == CK_FALSE)
		atomic_fetch_or(&key->obj->facts, KEYOBJ_FACT_FLAGS_READ |
				(*extractable ? KEYOBJ_FACT_EXTRACTABLE : 0) |
				(*sensitive ? KEYOBJ_FACT_SENSITIVE : 0));
	return CKR_OK;
}

static DWORD export_check_plain_locked(struct key *key)
{
	bool extractable = false, sensitive = true;
	CK_RV rv;

	if (!key->exportable || key->obj->priv == CK_INVALID_HANDLE)
		return NTE_BAD_KEY_STATE;
	rv = export_read_flags_locked(key, &extractable, &sensitive);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	return extractable && !sensitive ? ERROR_SUCCESS : NTE_BAD_KEY_STATE;
}

/* The public numbers kept with a keyobj (struct keyobj, public_numbers):
 * the modulus, then the exponent, as the token gave them. */
struct public_numbers {
	size_t modulus_len, exponent_len;
	BYTE bytes[];
};

/* Keeps a copy of numbers that made a valid blob. Two exports racing on
 * one keyobj keep the first copy; losing one only costs a read. */
static void public_numbers_keep(struct keyobj *obj, const struct blob_rsa_numbers *nums)
{
	struct public_numbers *copy;
	void *expected = NULL;

	if (nums->modulus.len > ATTR_MAX_LEN || nums->public_exponent.len > ATTR_MAX_LEN)
		return;
	copy = capi11_malloc(sizeof *copy + nums->modulus.len + nums->public_exponent.len);
	if (copy == NULL)
		return;
	copy->modulus_len = nums->modulus.len;
	copy->exponent_len = nums->public_exponent.len;
	memcpy(copy->bytes, nums->modulus.data, copy->modulus_len);
	memcpy(copy->bytes + copy->modulus_len, nums->public_exponent.data, copy->exponent_len);
	if (!atomic_compare_exchange_strong(&obj->public_numbers, &expected, (void *)copy))
		capi11_free(copy);
}

/* PUBLICKEYBLOB from the X.509 certificate that shares the key's CKA_ID
 * in its container (KP_CERTIFICATE): its RSA SubjectPublicKeyInfo. The
 * certificate must be of this key: its modulus as long as the key's.
 * No certificate: NTE_BAD_KEY (the key shows no public numbers at all). */
/* Whether the big-endian number a equals b, leading zeros aside. */
static bool bn_be_same(const BYTE *a, size_t a_len, const BYTE *b, size_t b_len)
{
	size_t la = bn_be_len(a, a_len), lb = bn_be_len(b, b_len);

	return la == lb && memcmp(a + a_len - la, b + b_len - lb, la) == 0;
}

static DWORD export_rsa_public_from_cert_locked(struct key *key, BYTE *data, DWORD *len)
{
	struct blob_rsa_numbers nums = { .alg = key->algid };
	CK_OBJECT_HANDLE obj = key->obj->pub != CK_INVALID_HANDLE ? key->obj->pub : key->obj->priv;
	const BYTE *n = NULL, *e = NULL;
	size_t n_len = 0, e_len = 0, needed = 0;
	BYTE *der = NULL;
	void *modulus = NULL;
	CK_ULONG mod_len = 0;
	DWORD err;

	err = key_certificate_rsa_locked(key, &der, &n, &n_len, &e, &e_len);
	if (err == SCARD_E_NO_SUCH_CERTIFICATE)
		err = NTE_BAD_KEY;
	if (err == ERROR_SUCCESS && bn_be_len(n, n_len) * 8 != key->bits)
		err = NTE_BAD_KEY;
	/* KP_CERTIFICATE stores any certificate beside the key: where the key
	 * shows its modulus (the exponent alone hidden), the certificate must
	 * carry that modulus, or the blob would name another key. */
	if (err == ERROR_SUCCESS &&
	    token_get_attribute_alloc(key_session(key), obj, CKA_MODULUS, &modulus, &mod_len) ==
		    CKR_OK &&
	    mod_len != 0 && !bn_be_same(modulus, mod_len, n, n_len))
		err = NTE_BAD_KEY;
	capi11_free(modulus);
	if (err == ERROR_SUCCESS) {
		trace_route("route: PUBLICKEYBLOB from the key's certificate");
		nums.modulus = (struct blob_bytes){ n, n_len };
		nums.public_exponent = (struct blob_bytes){ e, e_len };
		err = blob_build_rsa_public(&nums, data, data ? *len : 0, &needed);
		err = export_finish(err, needed, len);
	}
	capi11_free(der);
	return err;
}

/* PUBLICKEYBLOB: the modulus and public exponent, from the public key
 * object, or from the private key when the pair has no public object
 * (RSA private keys expose both), else from the key's certificate; read
 * once per keyobj. */
static DWORD export_rsa_public_locked(struct key *key, BYTE *data, DWORD *len)
{
	static const CK_ATTRIBUTE_TYPE types[] = { CKA_MODULUS, CKA_PUBLIC_EXPONENT };
	CK_OBJECT_HANDLE obj = key->obj->pub != CK_INVALID_HANDLE ? key->obj->pub : key->obj->priv;
	const struct public_numbers *kept = atomic_load(&key->obj->public_numbers);
	struct blob_rsa_numbers nums = { .alg = key->algid };
	struct attr_set set;
	size_t needed = 0;
	DWORD err;
	CK_RV rv;

	attr_set_init(&set, types, CAPI11_N_ELEMENTS(types));
	if (kept != NULL) {
		nums.modulus.data = kept->bytes;
		nums.modulus.len = kept->modulus_len;
		nums.public_exponent.data = kept->bytes + kept->modulus_len;
		nums.public_exponent.len = kept->exponent_len;
	} else {
		rv = attr_set_read(key_session(key), obj, &set);
		/* A card that shows no public numbers on its key objects: the
		 * certificate beside the key tells them. */
		if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID) {
			err = export_rsa_public_from_cert_locked(key, data, len);
			goto out;
		}
		if (rv != CKR_OK) {
			err = error_from_ckr(rv, ERROR_OP_EXPORT);
			goto out;
		}
		nums.modulus = attr_bytes(&set, 0);
		nums.public_exponent = attr_bytes(&set, 1);
	}
	err = blob_build_rsa_public(&nums, data, data ? *len : 0, &needed);
	if (kept == NULL && (err == ERROR_SUCCESS || err == ERROR_MORE_DATA))
		public_numbers_keep(key->obj, &nums);
	err = export_finish(err, needed, len);
out:
	attr_set_clear(&set);
	return err;
}

/* Reads the numbers of an RSA private key from the token and writes its
 * plaintext PRIVATEKEYBLOB into out; *needed is the blob's size. */
static DWORD export_rsa_private_build_locked(struct key *key, BYTE *out, size_t out_len,
					     size_t *needed)
{
	static const CK_ATTRIBUTE_TYPE types[] = {
		CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
		CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT, CKA_PRIVATE_EXPONENT,
	};
	struct blob_rsa_numbers nums = { .alg = key->algid };
	struct attr_set set;
	DWORD err;
	CK_RV rv;

	attr_set_init(&set, types, CAPI11_N_ELEMENTS(types));
	rv = attr_set_read(key_session(key), key->obj->priv, &set);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_EXPORT);
		goto out;
	}
	nums.modulus = attr_bytes(&set, 0);
	nums.public_exponent = attr_bytes(&set, 1);
	nums.prime1 = attr_bytes(&set, 2);
	nums.prime2 = attr_bytes(&set, 3);
	nums.exponent1 = attr_bytes(&set, 4);
	nums.exponent2 = attr_bytes(&set, 5);
	nums.coefficient = attr_bytes(&set, 6);
	nums.private_exponent = attr_bytes(&set, 7);
	err = blob_build_rsa_private(&nums, out, out_len, needed);
out:
	attr_set_clear(&set);
	return err;
}

/* The plaintext PRIVATEKEYBLOB of key into out: RSA's, or a DSS key's of
 * given version (blob-dss.h; the RSA blob ignores it). */
static DWORD export_private_build_locked(struct key *key, BYTE version, BYTE *out,
					 size_t out_len, size_t *needed)
{
	DWORD got = out_len > 0xffffffffu ? 0xffffffffu : (DWORD)out_len, err;

	if (key->obj->type == CKK_DH)
		err = dh_export_locked(key, true, version, out, &got);
	else if (key->obj->type != CKK_DSA)
		return export_rsa_private_build_locked(key, out, out_len, needed);
	else
		err = dss_export_locked(key, true, version, out, &got);
	*needed = got;
	return err;
}

/* The plaintext blob's length, from the key's sizes alone. */
static size_t export_private_len(const struct key *key, BYTE version)
{
	if (key->obj->type == CKK_DH)
		return dh_private_blob_len(key, version);
	if (key->obj->type != CKK_DSA)
		return blob_size_rsa_private(key->bits);
	return blob_size_dss_private(key->bits, version);
}

/* PRIVATEKEYBLOB encrypted under a session key: the BLOBHEADER in clear,
 * the rest encrypted as CryptEncrypt(hExpKey, 0, TRUE, ...) would, in the
 * key's mode, IV and padding. hExpKey must belong to key's context, whose
 * lock the cipher needs (it moves the chaining value). The size follows
 * from the key sizes, without the token. The blob is built and encrypted
 * in a buffer of its own, so that a failed encryption never leaves the
 * plaintext in the caller's. */
static DWORD export_private_encrypted_locked(struct key *key, struct key *exp, BYTE version,
					     BYTE *data, DWORD *len)
{
	size_t plain_len = export_private_len(key, version), needed = 0, built = 0, cap = 0;
	DWORD body_len, body_cap = 0;
	BYTE *buf = NULL;
	DWORD err;

	/* A wrap-only key encrypts no data, blobs included. */
	if (keyobj_is_pair(exp->obj) || exp->obj->wrap_only || exp->ctx != key->ctx)
		return NTE_BAD_KEY;
	if (plain_len <= sizeof(BLOBHEADER) || plain_len > 0xffffffffu)
		return NTE_BAD_KEY;
	body_len = (DWORD)(plain_len - sizeof(BLOBHEADER));
	body_cap = body_len;
	err = cipher_encrypt_locked(exp, true, NULL, &body_cap, 0);
	if (err != ERROR_SUCCESS)
		return err;
	if (body_cap < body_len || !capi11_add_size(sizeof(BLOBHEADER), body_cap, &cap))
		return NTE_BAD_KEY;
	if (data == NULL || *len < cap)
		return export_finish(data == NULL ? ERROR_SUCCESS : ERROR_MORE_DATA, cap, len);

	buf = capi11_malloc(cap);
	if (buf == NULL)
		return NTE_NO_MEMORY;
	err = export_private_build_locked(key, version, buf, cap, &built);
	if (err != ERROR_SUCCESS)
		goto out;
	/* The token's modulus (or prime) is the one key->bits was read from. */
	if (built != plain_len) {
		err = NTE_FAIL;
		goto out;
	}
	err = cipher_encrypt_locked(exp, true, buf + sizeof(BLOBHEADER), &body_len,
				    (DWORD)(cap - sizeof(BLOBHEADER)));
	if (err != ERROR_SUCCESS)
		goto out;
	needed = sizeof(BLOBHEADER) + (size_t)body_len;
	memcpy(data, buf, needed);
	err = export_finish(ERROR_SUCCESS, needed, len);
out:
	capi11_free_secret(buf, cap);
	return err;
}

/* PRIVATEKEYBLOB, in plaintext (hExpKey 0) or encrypted under a session
 * key. */
static DWORD export_rsa_private_locked(struct key *key, struct key *exp, BYTE *data, DWORD *len)
{
	static const CK_ATTRIBUTE_TYPE types[] = { CKA_MODULUS };
	struct attr_set set;
	size_t needed = 0;
	DWORD err;
	CK_RV rv;

	/* Windows reports a key that may not leave even to a size query;
	 * encrypted or not, the blob's plaintext passes through this
	 * library and the key's own session key could decrypt it. */
	err = export_check_plain_locked(key);
	if (err != ERROR_SUCCESS)
		return err;
	if (exp != NULL)
		return export_private_encrypted_locked(key, exp, 0, data, len);
	if (data != NULL) {
		err = export_rsa_private_build_locked(key, data, *len, &needed);
		return export_finish(err, needed, len);
	}

	/* A size query reads the modulus only. */
	attr_set_init(&set, types, CAPI11_N_ELEMENTS(types));
	rv = attr_set_read(key_session(key), key->obj->priv, &set);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_EXPORT);
		goto out;
	}
	{
		size_t k = bn_be_len(set.a[0].pValue, set.a[0].ulValueLen);

		needed = k <= ALG_RSA_MAX_BITS / 8 ? blob_size_rsa_private((DWORD)k * 8) : 0;
		err = needed != 0 ? export_finish(ERROR_SUCCESS, needed, len) : NTE_BAD_KEY;
	}
out:
	attr_set_clear(&set);
	return err;
}

/* The length of a secret key's value: fixed by the algorithm, else the
 * length it was made with (RC2/RC4). Tokens may hand back more (a value
 * unwrapped with CKM_AES_KEY_WRAP_PAD keeps its zero padding). */
static size_t export_secret_len(const struct key *key)
{
	size_t n;

	if (alg_symmetric_key_len(key->algid, &n))
		return n;
	return key->bits / 8;
}

/* PLAINTEXTKEYBLOB: CKA_VALUE of an exportable session key. */
static DWORD export_plaintext_locked(struct key *key, BYTE *data, DWORD *len)
{
	static const CK_ATTRIBUTE_TYPE types[] = { CKA_VALUE };
	size_t key_len = export_secret_len(key), needed = 0;
	struct attr_set set;
	DWORD err;
	CK_RV rv;

	err = export_check_plain_locked(key);
	if (err != ERROR_SUCCESS)
		return err;
	if (key_len == 0)
		return NTE_BAD_KEY;
	if (data == NULL)
		return export_finish(ERROR_SUCCESS, blob_size_plaintext(key_len), len);

	attr_set_init(&set, types, CAPI11_N_ELEMENTS(types));
	rv = attr_set_read(key_session(key), key->obj->priv, &set);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_EXPORT);
		goto out;
	}
	if (set.a[0].ulValueLen < key_len) {
		err = NTE_FAIL;
		goto out;
	}
	err = blob_build_plaintext(key->algid, set.a[0].pValue, key_len, data, *len, &needed);
	err = export_finish(err, needed, len);
out:
	attr_set_clear(&set);
	return err;
}

/* The session of key's context on tok, the token that holds another key's
 * objects (session objects are seen by every session of the process on
 * their token): the context's own, or its companion session; NULL when
 * tok is neither. */
static struct tsession *export_session_on_locked(struct key *key, struct token *tok)
{
	struct context *ctx = key->ctx;
	struct tsession *cts;

	if (tok == ctx->ts.tok)
		return &ctx->ts;
	if (context_has_companion_locked(ctx) && context_companion_locked(ctx, &cts) == ERROR_SUCCESS &&
	    cts->tok == tok)
		return cts;
	return NULL;
}

/* hExpKey of a SIMPLEBLOB: an RSA exchange key with a public object on
 * the context's token or its companion, whose exponent is not one (an
 * exponent of one turns the wrap into a copy). *ts is key's context's
 * session on hExpKey's token. */
static DWORD export_check_simple_wrapper_locked(struct key *key, struct key *exp,
						struct tsession **ts)
{
	BYTE e[8];
	CK_ATTRIBUTE attr = { CKA_PUBLIC_EXPONENT, e, sizeof e };
	DWORD value;
	CK_RV rv;

	if (exp == NULL || exp->obj->type != CKK_RSA || exp->algid != CALG_RSA_KEYX ||
	    exp->obj->pub == CK_INVALID_HANDLE)
		return NTE_BAD_PUBLIC_KEY;
	*ts = export_session_on_locked(key, key_token(exp));
	if (*ts == NULL)
		return NTE_BAD_PUBLIC_KEY;
	if (atomic_load(&exp->obj->facts) & KEYOBJ_FACT_EXPONENT_OK)
		return ERROR_SUCCESS;
	rv = token_get_attributes(*ts, exp->obj->pub, &attr, 1);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    !bn_be_to_dword(e, attr.ulValueLen, &value) || value <= 1)
		return NTE_BAD_PUBLIC_KEY;
	atomic_fetch_or(&exp->obj->facts, KEYOBJ_FACT_EXPONENT_OK);
	return ERROR_SUCCESS;
}

/* ---- The SIMPLEBLOB size query without the context lock ------------------
 *
 * Programs ask for a SIMPLEBLOB's size before every export, and the answer
 * depends on nothing that changes while both keys live: once the locked
 * route has answered for a key, hExpKey and the flags, the answer is kept
 * in the key (key->simple_size) and given again without the context lock
 * while it still holds. It is kept only where no token object can change
 * it: a session key whose CKA_SENSITIVE is known false (a sensitive one
 * depends on the token's trust, asked each time), both keys on the
 * context's own token (not the companion, whose session opens on
 * demand), the flags 0 or CRYPT_OAEP. It is dropped by every
 * CryptSetKeyParam on the key (KP_ALGID and KP_X change what the key is),
 * and not used once any key's objects were destroyed under its handles
 * (CRYPT_DESTROYKEY: keyobj_destroy_epoch moved), either context is
 * released or from before a fork, or the key's session was lost and not
 * yet replaced: those go the locked route, which gives their errors.
 *
 * The fast path reads no field that the lock guards: the handles' own
 * references keep both keys alive, key->ctx and key->serial never change,
 * and the rest is atomic. The answer and its epoch are two words, written
 * as a sequence lock: the answer cleared, the epoch, the answer; a reader
 * that sees the answer change around its read of the epoch does not use
 * it. */
#define SIMPLE_SIZE_BITS 16
#define SIMPLE_SIZE_OAEP ((uint64_t)1 << SIMPLE_SIZE_BITS)
#define SIMPLE_SIZE_SERIAL_SHIFT (SIMPLE_SIZE_BITS + 1)

static void export_simple_size_keep(struct key *key, const struct key *exp, DWORD flags,
				    bool sensitive, bool same_session, size_t needed,
				    uint64_t epoch)
{
	if (sensitive || !same_session || (flags & ~(DWORD)CRYPT_OAEP) != 0 ||
	    needed >= ((size_t)1 << SIMPLE_SIZE_BITS) ||
	    exp->serial >= ((uint64_t)1 << (64 - SIMPLE_SIZE_SERIAL_SHIFT)) ||
	    !(atomic_load(&key->obj->facts) & KEYOBJ_FACT_FLAGS_READ))
		return;
	atomic_store_explicit(&key->simple_size, 0, memory_order_relaxed);
	atomic_store_explicit(&key->simple_size_epoch, epoch, memory_order_release);
	atomic_store_explicit(&key->simple_size,
			      exp->serial << SIMPLE_SIZE_SERIAL_SHIFT |
			      ((flags & CRYPT_OAEP) ? SIMPLE_SIZE_OAEP : 0) | needed,
			      memory_order_release);
}

/* Neither released nor of fork generation other than gen; with session,
 * its own session leased and not lost. */
static inline bool export_context_usable(struct context *ctx, unsigned gen, bool session)
{
	return ctx->generation == gen && !atomic_load(&ctx->released) &&
	       (!session || (atomic_load(&ctx->session_ok) && !atomic_load(&ctx->ts.lost)));
}

bool export_simple_size_fast(HCRYPTKEY h, HCRYPTKEY exp_h, DWORD flags, DWORD *len)
{
	struct key *key, *exp = NULL;
	uint64_t kept, epoch;
	unsigned gen;
	bool answered = false;

	if ((flags & ~(DWORD)CRYPT_OAEP) != 0 || (key = key_lookup(h)) == NULL)
		return false;
	kept = atomic_load_explicit(&key->simple_size, memory_order_acquire);
	if (kept == 0)
		goto out;
	epoch = atomic_load_explicit(&key->simple_size_epoch, memory_order_acquire);
	if (atomic_load_explicit(&key->simple_size, memory_order_acquire) != kept ||
	    epoch != keyobj_destroy_epoch())
		goto out;
	gen = token_generation();
	if (!export_context_usable(key->ctx, gen, true))
		goto out;
	exp = key_lookup(exp_h);
	if (exp == NULL || kept >> SIMPLE_SIZE_SERIAL_SHIFT != exp->serial ||
	    ((kept & SIMPLE_SIZE_OAEP) != 0) != ((flags & CRYPT_OAEP) != 0) ||
	    !export_context_usable(exp->ctx, gen, false))
		goto out;
	*len = (DWORD)(kept & (SIMPLE_SIZE_OAEP - 1));
	answered = true;
out:
	key_unref(exp);
	key_unref(key);
	return answered;
}

/* SIMPLEBLOB: the session key wrapped by the token under an RSA public
 * key, byte-reversed. A sensitive key is wrapped only under a public key
 * the token trusts (trust.c): whoever holds the private half of any other
 * could decrypt it. The wrap runs where the session key is; a public key
 * on the other token (a card's key, a partner's imported on the
 * companion) is copied there as a session object for the call, never
 * trusted, so a sensitive key never leaves under it. */
static DWORD export_simple_locked(struct key *key, struct key *exp, DWORD flags, BYTE *data,
				  DWORD *len)
{
	struct tsession *ts = key_session(key), *exp_ts = NULL;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
	CK_MECHANISM mech;
	CK_ULONG ct_len;
	BYTE *ct = NULL;
	bool extractable = false, sensitive = true;
	size_t needed = 0;
	/* Before anything is judged: a key destroyed from here on moves it,
	 * and the answer is not kept past that. */
	uint64_t epoch = keyobj_destroy_epoch();
	DWORD err;
	CK_RV rv;

	err = export_check_simple_wrapper_locked(key, exp, &exp_ts);
	if (err != ERROR_SUCCESS)
		return err;
	if (keyobj_is_pair(key->obj))
		return NTE_BAD_KEY;
	if (!key->exportable)
		return NTE_BAD_KEY_STATE;
	rv = export_read_flags_locked(key, &extractable, &sensitive);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	if (sensitive && exp_ts != ts)
		return NTE_BAD_KEY_STATE;
	if (sensitive) {
		err = trust_check_wrap_locked(ts, key->obj->priv, exp->obj->pub);
		if (err != ERROR_SUCCESS)
			return err;
	}
	err = rsa_mech_choose_on(ts->tok, (flags & CRYPT_OAEP) != 0, CKF_WRAP, &mech);
	if (err != ERROR_SUCCESS)
		return err;
	/* A size query never wraps: the ciphertext is as long as the modulus. */
	if (data == NULL) {
		needed = blob_size_simple(exp->bits);
		if (needed == 0)
			return NTE_BAD_PUBLIC_KEY;
		export_simple_size_keep(key, exp, flags, sensitive,
					ts == &key->ctx->ts && exp_ts == ts, needed, epoch);
		return export_finish(ERROR_SUCCESS, needed, len);
	}
	pub = exp->obj->pub;
	if (exp_ts != ts) {
		err = cipher_rsa_public_copy(exp_ts, exp->obj->pub, ts, CKF_WRAP, &pub);
		if (err != ERROR_SUCCESS)
			return err;
	}
	ct_len = (exp->bits + 7) / 8;
	ct = capi11_malloc(ct_len ? ct_len : 1);
	if (ct == NULL) {
		err = NTE_NO_MEMORY;
		goto out;
	}
	rv = token_wrap_key(ts, &mech, pub, key->obj->priv, ct, &ct_len);
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_EXPORT);
		goto out;
	}
	err = blob_build_simple(key->algid, CALG_RSA_KEYX, ct, ct_len, data, *len, &needed);
	err = export_finish(err, needed, len);
out:
	if (pub != exp->obj->pub)
		token_destroy(ts, pub);
	capi11_free(ct);
	return err;
}

/* ---- Wrapped secret and private keys under a session key ---------------- */

/* What the token says of the key to wrap. A key that is not extractable
 * never leaves, in any form (the token would refuse the wrap too); the
 * answer is the same for a size query, as for PRIVATEKEYBLOB. */
static DWORD export_read_state_locked(struct key *key, bool *sensitive)
{
	bool extractable = false;
	CK_RV rv;

	rv = export_read_flags_locked(key, &extractable, sensitive);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	return extractable ? ERROR_SUCCESS : NTE_BAD_KEY_STATE;
}

/* Whether hExpKey is a key-encryption key (CRYPT_KEK), asked of the token
 * on key's session. */
static DWORD export_wrapper_is_kek_locked(struct key *key, struct key *exp, bool *kek)
{
	CK_RV rv = key_read_wrap_only_locked(key->ctx, exp, kek);
	return rv == CKR_OK ? ERROR_SUCCESS : error_from_ckr(rv, ERROR_OP_EXPORT);
}

/* C_WrapKey of key under exp into a new buffer of cap bytes; *wrapped_len
 * is what the token wrote. The wrapped bytes are no secret. */
static DWORD export_wrap_locked(struct key *key, struct key *exp, CK_MECHANISM_TYPE mech_type,
				size_t cap, BYTE **wrapped, CK_ULONG *wrapped_len)
{
	CK_MECHANISM mech = { mech_type, NULL, 0 };
	CK_RV rv;

	*wrapped = capi11_malloc(cap);
	if (*wrapped == NULL)
		return NTE_NO_MEMORY;
	*wrapped_len = cap;
	rv = token_wrap_key(key_session(key), &mech, exp->obj->priv, key->obj->priv, *wrapped,
			    wrapped_len);
	if (rv == CKR_OK && *wrapped_len > cap)
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK) {
		capi11_free(*wrapped);
		*wrapped = NULL;
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	}
	return ERROR_SUCCESS;
}

/* SYMMETRICWRAPKEYBLOB of a 3DES key under a 3DES key: RFC 3217, composed
 * from token operations (des3-wrap.c). The key's value passes through
 * this library, so the route is open only to keys that are extractable
 * and not sensitive (else NTE_BAD_KEY_STATE). */
static DWORD export_symwrap_3des_locked(struct key *key, struct key *exp, BYTE *data,
					DWORD *len)
{
	static const CK_ATTRIBUTE_TYPE types[] = { CKA_VALUE };
	size_t size = blob_size_symwrap(DES3_WRAPPED_LEN), needed = 0;
	BYTE wrapped[DES3_WRAPPED_LEN];
	struct attr_set set;
	bool sensitive;
	DWORD err;
	CK_RV rv;

	if (key->algid != CALG_3DES)
		return NTE_BAD_KEY;
	err = export_read_state_locked(key, &sensitive);
	if (err == ERROR_SUCCESS && sensitive)
		err = NTE_BAD_KEY_STATE;
	if (err == ERROR_SUCCESS)
		err = des3_check_mechanisms(key_token(key), CKF_ENCRYPT);
	if (err != ERROR_SUCCESS)
		return err;
	if (data == NULL || *len < size)
		return export_finish(data == NULL ? ERROR_SUCCESS : ERROR_MORE_DATA, size, len);

	attr_set_init(&set, types, CAPI11_N_ELEMENTS(types));
	rv = attr_set_read(key_session(key), key->obj->priv, &set);
	if (rv == CKR_OK && set.a[0].ulValueLen != DES3_KEY_LEN)
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK) {
		err = error_from_ckr(rv, ERROR_OP_EXPORT);
		goto out;
	}
	err = des3_wrap_locked(key_session(key), exp->obj->priv, set.a[0].pValue, wrapped);
	if (err != ERROR_SUCCESS)
		goto out;
	err = blob_build_symwrap(key->algid, exp->algid, wrapped, sizeof wrapped, data, *len, &needed);
	err = export_finish(err, needed, len);
out:
	attr_set_clear(&set);
	return err;
}

/* SYMMETRICWRAPKEYBLOB: BLOBHEADER, the ALG_ID of hExpKey, the wrapped
 * key. Under an AES key the wrap is RFC 3394 by the token
 * (CKM_AES_KEY_WRAP), a capi11 extension; under a 3DES key, RFC 3217
 * (Microsoft's documented format). A key with no defined wrap under
 * hExpKey (hExpKey 0 or not a session key, a DES key or a key of less
 * than 16 bytes under AES, anything but 3DES under 3DES): NTE_BAD_KEY. A
 * sensitive key is wrapped only under a key the token trusts (SPEC
 * section 3), else NTE_BAD_KEY_STATE. */
static DWORD export_symwrap_locked(struct key *key, struct key *exp, BYTE *data, DWORD *len)
{
	size_t wrapped_len, size, needed = 0;
	CK_ULONG got = 0;
	BYTE *wrapped = NULL;
	bool sensitive;
	DWORD err;

	if (!key_is_session_key_on(exp, key_token(key)) || keyobj_is_pair(key->obj))
		return NTE_BAD_KEY;
	if (exp->algid == CALG_3DES)
		return export_symwrap_3des_locked(key, exp, data, len);
	if (!alg_is_aes(exp->algid))
		return NTE_BAD_KEY;
	/* RFC 3394 wraps whole 8-byte blocks, at least two. */
	wrapped_len = blob_aes_wrap_len(export_secret_len(key), false);
	if (wrapped_len == 0)
		return NTE_BAD_KEY;
	err = export_read_state_locked(key, &sensitive);
	if (err == ERROR_SUCCESS && sensitive)
		err = trust_check_wrap_locked(key_session(key), key->obj->priv, exp->obj->priv);
	if (err == ERROR_SUCCESS)
		err = token_check_mechanism(key_token(key), CKM_AES_KEY_WRAP, CKF_WRAP);
	if (err != ERROR_SUCCESS)
		return err;
	/* A size query never wraps. */
	size = blob_size_symwrap(wrapped_len);
	if (data == NULL || *len < size)
		return export_finish(data == NULL ? ERROR_SUCCESS : ERROR_MORE_DATA, size, len);

	err = export_wrap_locked(key, exp, CKM_AES_KEY_WRAP, wrapped_len, &wrapped, &got);
	if (err != ERROR_SUCCESS)
		return err;
	err = got == wrapped_len ? blob_build_symwrap(key->algid, exp->algid, wrapped, got, data,
						      *len, &needed)
				 : NTE_FAIL;
	err = export_finish(err, needed, len);
	capi11_free(wrapped);
	return err;
}

/* An upper bound of the DER PKCS#8 PrivateKeyInfo of a k-byte RSA key:
 * nine INTEGERs of at most k (n, e, d) or h (the CRT values) bytes plus a
 * sign byte, each with a tag and a length of up to 5 bytes; the
 * algorithm identifier (15 bytes) and three wrapping headers. The real
 * length depends on the numbers, which a size query must not read. */
static size_t pkcs8_rsa_len_max(size_t k)
{
	size_t h = (k + 1) / 2;

	return 3 * (k + 7) + 5 * (h + 7) + 3 + 3 + 15 + 3 * 6;
}

/* OPAQUEKEYBLOB (docs/OPAQUEKEYBLOB.md): the key wrapped by the token
 * under a key-encryption key, a secret key with CKM_AES_KEY_WRAP (16 bytes
 * or more, whole blocks) or CKM_AES_KEY_WRAP_PAD (the others), an RSA
 * private key as PKCS#8 with CKM_AES_KEY_WRAP_PAD. The key must be
 * extractable; a sensitive one leaves only under a trusted key-encryption
 * key (trust.c). hExpKey 0 or not a wrap-only AES key: NTE_BAD_KEY. For an RSA key
 * the size query gives an upper bound; the export stores the exact
 * length. The blob is format version 2, whose usage says whether key is a
 * wrap-only key-encryption key. CRYPT_DESTROYKEY destroys the key's
 * objects once the blob is written. */
static DWORD export_opaque_locked(struct key *key, struct key *exp, DWORD flags, BYTE *data,
				  DWORD *len)
{
	bool rsa = key->obj->type == CKK_RSA;
	struct blob_opaque o = { .version = BLOB_OPAQUE_VERSION, .alg = key->algid,
				 .wrap_alg = exp ? exp->algid : 0 };
	size_t wrapped_len, size, needed = 0, key_len;
	CK_ULONG got = 0;
	BYTE *wrapped = NULL;
	bool sensitive, kek = false, key_kek = false;
	DWORD err;
	CK_RV rv;

	if (!key_is_session_key_on(exp, key_token(key)) || !alg_is_aes(exp->algid))
		return NTE_BAD_KEY;
	err = export_wrapper_is_kek_locked(key, exp, &kek);
	if (err != ERROR_SUCCESS)
		return err;
	if (!kek)
		return NTE_BAD_KEY;
	/* A public key alone is no private key to move. */
	if (key->obj->priv == CK_INVALID_HANDLE || !alg_key_type(key->algid, &o.key_type))
		return NTE_BAD_KEY;
	key_len = rsa ? key->bits / 8 : export_secret_len(key);
	if (key_len == 0 || key_len > 0xffffffffu)
		return NTE_BAD_KEY;
	o.key_len = (DWORD)key_len;
	if (rsa) {
		o.mechanism = CKM_AES_KEY_WRAP_PAD;
		wrapped_len = blob_aes_wrap_len(pkcs8_rsa_len_max(key_len), true);
	} else {
		o.mechanism = blob_aes_wrap_len(key_len, false) != 0 ? CKM_AES_KEY_WRAP
								     : CKM_AES_KEY_WRAP_PAD;
		wrapped_len = blob_aes_wrap_len(key_len, o.mechanism == CKM_AES_KEY_WRAP_PAD);
	}
	err = export_read_state_locked(key, &sensitive);
	if (err == ERROR_SUCCESS && sensitive)
		err = trust_check_wrap_locked(key_session(key), key->obj->priv, exp->obj->priv);
	if (err == ERROR_SUCCESS)
		err = token_check_mechanism(key_token(key), o.mechanism, CKF_WRAP);
	if (err != ERROR_SUCCESS)
		return err;
	size = blob_size_opaque(o.version, wrapped_len);
	if (wrapped_len == 0 || size == 0)
		return NTE_BAD_KEY;
	if (data == NULL)
		return export_finish(ERROR_SUCCESS, size, len);
	/* A secret key's blob has a known length: no wrap into a short buffer. */
	if (!rsa && *len < size)
		return export_finish(ERROR_MORE_DATA, size, len);
	/* A key-encryption key's blob says so, and the import keeps it
	 * wrap-only; the token tells, as for keys found there. */
	rv = key_read_wrap_only_locked(key->ctx, key, &key_kek);
	if (rv != CKR_OK)
		return error_from_ckr(rv, ERROR_OP_EXPORT);
	o.usage = key_kek ? BLOB_OPAQUE_USAGE_KEK : 0;

	err = export_wrap_locked(key, exp, o.mechanism, wrapped_len, &wrapped, &got);
	if (err != ERROR_SUCCESS)
		return err;
	if (!rsa && got != wrapped_len) {
		err = NTE_FAIL;
		goto out;
	}
	o.wrapped.data = wrapped;
	o.wrapped.len = got;
	err = blob_build_opaque(&o, data, *len, &needed);
	err = export_finish(err, needed, len);
	/* Moved, not copied: the source goes once the blob is in the caller's
	 * hands. */
	if (err == ERROR_SUCCESS && (flags & CRYPT_DESTROYKEY))
		keyobj_destroy_objects_locked(key->ctx, key->obj);
out:
	capi11_free(wrapped);
	return err;
}

/* CRYPT_BLOB_VER3 asks a DSS or DH key for the version 3 forms;
 * CRYPT_Y_ONLY is documented as unused and changes nothing. */
static BYTE dss_version(DWORD flags)
{
	return (flags & CRYPT_BLOB_VER3) ? 3 : 2;
}

DWORD export_key_locked(struct key *key, struct key *exp, DWORD blob_type, DWORD flags,
			BYTE *data, DWORD *len)
{
	bool rsa = key->obj->type == CKK_RSA;

	if (flags & ~(DWORD)EXPORT_VALID_FLAGS)
		return NTE_BAD_FLAGS;
	if ((flags & CRYPT_SSL2_FALLBACK) && key->algid != CALG_SSL2_MASTER)
		return NTE_BAD_KEY;
	/* Moved away by CRYPT_DESTROYKEY: the handle only awaits CryptDestroyKey. */
	if (key->obj->priv == CK_INVALID_HANDLE && key->obj->pub == CK_INVALID_HANDLE)
		return NTE_BAD_KEY;
	/* An agreed key protects nothing until KP_ALGID makes it a session
	 * key (CryptSetKeyParam's KP_ALGID; agree.h). */
	if (exp != NULL && exp->algid == CALG_AGREEDKEY_ANY)
		return NTE_BAD_KEY;

	switch (blob_type) {
	case PUBLICKEYBLOB:
		/* A public key is exported as it is: no key may protect it. */
		if (key->obj->type == CKK_DSA && exp == NULL)
			return dss_export_locked(key, false, dss_version(flags), data, len);
		if (key->obj->type == CKK_DH && exp == NULL)
			return dh_export_locked(key, false, dss_version(flags), data, len);
		if (!rsa || exp != NULL)
			return NTE_BAD_KEY;
		return export_rsa_public_locked(key, data, len);
	case PRIVATEKEYBLOB:
		if (key->obj->type == CKK_DSA || key->obj->type == CKK_DH) {
			DWORD err = export_check_plain_locked(key);

			if (err != ERROR_SUCCESS)
				return err;
			/* Under a session key as RSA's, everything after the
			 * BLOBHEADER encrypted. */
			if (exp != NULL)
				return export_private_encrypted_locked(key, exp, dss_version(flags),
								       data, len);
			if (key->obj->type == CKK_DH)
				return dh_export_locked(key, true, dss_version(flags), data, len);
			return dss_export_locked(key, true, dss_version(flags), data, len);
		}
		if (!rsa)
			return NTE_BAD_KEY;
		return export_rsa_private_locked(key, exp, data, len);
	case PLAINTEXTKEYBLOB:
		if (keyobj_is_pair(key->obj))
			return NTE_BAD_KEY;
		return export_plaintext_locked(key, data, len);
	case SIMPLEBLOB:
		return export_simple_locked(key, exp, flags, data, len);
	case OPAQUEKEYBLOB:
		return export_opaque_locked(key, exp, flags, data, len);
	case SYMMETRICWRAPKEYBLOB:
		return export_symwrap_locked(key, exp, data, len);
	default:
		return NTE_BAD_TYPE;
	}
}
