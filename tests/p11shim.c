/* p11shim: a PKCS#11 v2.40 module for the tests. Every call is counted and
 * then forwarded to a real module (SoftHSM, or $P11SHIM_TARGET), unless a
 * test asked for a fault; a few calls can also be bent to look like other
 * hardware (pinpad reader, removed token, lying attribute lengths). The
 * control interface is in p11shim.h. The shim never prints anything. */
/* For explicit_bzero and RTLD_* under a strict -std. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"
#include "p11shim.h"
#include "testenv.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* The functions of CK_FUNCTION_LIST, in its order: they index the counters
 * and give the names that p11shim_count() and p11shim_fail() take. */
#define SHIM_FUNCTIONS(X) \
	X(C_Initialize) \
	X(C_Finalize) \
	X(C_GetInfo) \
	X(C_GetFunctionList) \
	X(C_GetSlotList) \
	X(C_GetSlotInfo) \
	X(C_GetTokenInfo) \
	X(C_GetMechanismList) \
	X(C_GetMechanismInfo) \
	X(C_InitToken) \
	X(C_InitPIN) \
	X(C_SetPIN) \
	X(C_OpenSession) \
	X(C_CloseSession) \
	X(C_CloseAllSessions) \
	X(C_GetSessionInfo) \
	X(C_GetOperationState) \
	X(C_SetOperationState) \
	X(C_Login) \
	X(C_Logout) \
	X(C_CreateObject) \
	X(C_CopyObject) \
	X(C_DestroyObject) \
	X(C_GetObjectSize) \
	X(C_GetAttributeValue) \
	X(C_SetAttributeValue) \
	X(C_FindObjectsInit) \
	X(C_FindObjects) \
	X(C_FindObjectsFinal) \
	X(C_EncryptInit) \
	X(C_Encrypt) \
	X(C_EncryptUpdate) \
	X(C_EncryptFinal) \
	X(C_DecryptInit) \
	X(C_Decrypt) \
	X(C_DecryptUpdate) \
	X(C_DecryptFinal) \
	X(C_DigestInit) \
	X(C_Digest) \
	X(C_DigestUpdate) \
	X(C_DigestKey) \
	X(C_DigestFinal) \
	X(C_SignInit) \
	X(C_Sign) \
	X(C_SignUpdate) \
	X(C_SignFinal) \
	X(C_SignRecoverInit) \
	X(C_SignRecover) \
	X(C_VerifyInit) \
	X(C_Verify) \
	X(C_VerifyUpdate) \
	X(C_VerifyFinal) \
	X(C_VerifyRecoverInit) \
	X(C_VerifyRecover) \
	X(C_DigestEncryptUpdate) \
	X(C_DecryptDigestUpdate) \
	X(C_SignEncryptUpdate) \
	X(C_DecryptVerifyUpdate) \
	X(C_GenerateKey) \
	X(C_GenerateKeyPair) \
	X(C_WrapKey) \
	X(C_UnwrapKey) \
	X(C_DeriveKey) \
	X(C_SeedRandom) \
	X(C_GenerateRandom) \
	X(C_GetFunctionStatus) \
	X(C_CancelFunction) \
	X(C_WaitForSlotEvent)

enum shim_fn {
#define SHIM_ENUM(name) FN_ ## name,
	SHIM_FUNCTIONS(SHIM_ENUM)
#undef SHIM_ENUM
	FN_COUNT,
	FN_ANY = FN_COUNT	/* a fault that matches every function */
};

static const char *const fn_names[FN_COUNT] = {
#define SHIM_NAME(name) [FN_ ## name] = #name,
	SHIM_FUNCTIONS(SHIM_NAME)
#undef SHIM_NAME
};

#define FAULTS_MAX 16
/* Calls remembered by name, from the last reset on (p11shim_call_name). */
#define CALL_LOG_MAX 4096
#define LOST_MAX 64
#define MECHS_MAX 32
#define ATTRS_MAX 8

struct mech_mode {
	CK_MECHANISM_TYPE mech;
	int mode;		/* P11SHIM_MECH_* */
};

struct fault {
	int fn;			/* enum shim_fn, or FN_ANY */
	bool every;		/* fires on every matching call */
	unsigned long left;	/* else: matching calls until it fires */
	CK_RV rv;
};

/* All shim state is guarded by lock. The lock is never held while a call is
 * forwarded, so that a target call that blocks (or a slow one on another
 * thread) does not serialise the others. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	CK_FUNCTION_LIST *target;	/* loaded once, never unloaded */
	bool initialized;
	/* The target was already initialized by another user in this process
	 * (capi11 holding SoftHSM directly too): the shim then neither failed
	 * its C_Initialize nor forwards its C_Finalize, which would pull
	 * SoftHSM from under that other user. */
	bool shared;
	unsigned long calls[FN_COUNT];
	unsigned long total;
	unsigned char call_log[CALL_LOG_MAX];	/* enum shim_fn of each call */
	struct fault faults[FAULTS_MAX];	/* in the order they were set */
	size_t n_faults;
	int tamper_mode;			/* P11SHIM_LEN_*, 0 when off */
	unsigned long tamper_hits;		/* calls whose lengths were changed */
	bool tamper_every;
	unsigned long tamper_left;
	char *pinpad_pin;
	bool absent;
	bool removable;
	char manufacturer[32];			/* blank-padded; "" when off */
	struct mech_mode mechs[MECHS_MAX];
	size_t n_mechs;
	struct {
		CK_ATTRIBUTE_TYPE type;
		int mode;	/* P11SHIM_ATTR_* */
	} attrs[ATTRS_MAX];
	size_t n_attrs;
	unsigned long attr_hits;
	unsigned profile;			/* P11SHIM_CARD_* */
	unsigned long profile_hits;
	/* Sessions that a faulted call declared gone, until C_CloseSession. */
	CK_SESSION_HANDLE lost[LOST_MAX];
	size_t n_lost;
	unsigned long lost_uses;
	/* p11shim_lie_operation_state(): 0 when off. */
	CK_ULONG state_query_len, state_fetch_len;
	CK_RV state_fetch_rv;
	bool digest_state;			/* p11shim_emulate_digest_state() */
} shim;

/* ---- Digest states the shim saves itself (p11shim_emulate_digest_state) ----
 *
 * A digest's state is its mechanism and the data it has taken, which the
 * shim sees go by; restoring it starts the digest afresh on the target and
 * feeds that data again. A digest that took a key cannot be saved. */
#define DSTATE_MAX 64

struct dstate {
	CK_SESSION_HANDLE session;
	CK_MECHANISM_TYPE mech;
	unsigned char *data;
	size_t len, cap;
	bool keyed;
};

static struct dstate dstates[DSTATE_MAX];
static size_t n_dstates;

static bool dstate_on(void)
{
	bool on;

	pthread_mutex_lock(&lock);
	on = shim.digest_state;
	pthread_mutex_unlock(&lock);
	return on;
}

/* The record of session, NULL when none; lock held. */
static struct dstate *dstate_find_locked(CK_SESSION_HANDLE session)
{
	for (size_t i = 0; i < n_dstates; i++) {
		if (dstates[i].session == session)
			return &dstates[i];
	}
	return NULL;
}

static void dstate_end(CK_SESSION_HANDLE session)
{
	struct dstate *d;

	pthread_mutex_lock(&lock);
	d = dstate_find_locked(session);
	if (d != NULL) {
		free(d->data);
		*d = dstates[--n_dstates];
	}
	pthread_mutex_unlock(&lock);
}

static void dstate_begin(CK_SESSION_HANDLE session, CK_MECHANISM_TYPE mech)
{
	dstate_end(session);
	pthread_mutex_lock(&lock);
	if (n_dstates < DSTATE_MAX)
		dstates[n_dstates++] = (struct dstate){ .session = session, .mech = mech };
	pthread_mutex_unlock(&lock);
}

/* Data the digest took; a record that cannot grow is marked unsaveable. */
static void dstate_add(CK_SESSION_HANDLE session, const unsigned char *p, size_t n, bool keyed)
{
	struct dstate *d;

	pthread_mutex_lock(&lock);
	d = dstate_find_locked(session);
	if (d != NULL && keyed)
		d->keyed = true;
	if (d != NULL && !keyed && n > 0) {
		if (d->len + n > d->cap) {
			size_t cap = (d->len + n) * 2;
			unsigned char *grown = realloc(d->data, cap);

			if (grown == NULL) {
				d->keyed = true;
				n = 0;
			} else {
				d->data = grown;
				d->cap = cap;
			}
		}
		if (n > 0)
			memcpy(d->data + d->len, p, n);
		d->len += n;
	}
	pthread_mutex_unlock(&lock);
}

/* C_Initialize and C_Finalize are serialised whole, target call included, so
 * that shim.initialized always matches the target's own state. */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static int fn_lookup(const char *name)
{
	for (int i = 0; i < FN_COUNT; i++) {
		if (strcmp(fn_names[i], name) == 0)
			return i;
	}
	return -1;
}

static void pin_free(char *pin)
{
	if (pin) {
		explicit_bzero(pin, strlen(pin));
		free(pin);
	}
}

/* Loads the target on first use. Never unloaded: the shim itself may be
 * loaded and unloaded by p11-kit many times over while the tests keep it
 * resident, and closing SoftHSM under a live session would crash. */
static CK_FUNCTION_LIST *target_load_locked(void)
{
	const char *path = getenv(P11SHIM_TARGET_ENV);
	CK_C_GetFunctionList get_list;
	CK_FUNCTION_LIST *list = NULL;
	void *module;

	if (shim.target)
		return shim.target;
	if (!path || !*path)
		path = SOFTHSM_MODULE;
	if (!*path)
		return NULL;
	module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!module)
		return NULL;
	get_list = (CK_C_GetFunctionList)dlsym(module, "C_GetFunctionList");
	/* A target that is the shim itself would call back into this lock. */
	if (!get_list || get_list == C_GetFunctionList ||
	    get_list(&list) != CKR_OK || !list) {
		dlclose(module);
		return NULL;
	}
	shim.target = list;
	return list;
}

/* Advances the pending faults that match fn and reports whether one fires on
 * this call, with its return value; one-shot faults that fired are dropped. */
static bool fault_fire_locked(enum shim_fn fn, CK_RV *rv)
{
	bool fired = false;
	size_t kept = 0;

	for (size_t i = 0; i < shim.n_faults; i++) {
		struct fault f = shim.faults[i];
		bool match = f.fn == FN_ANY || f.fn == (int)fn;
		bool fires = match && (f.every || --f.left == 0);

		if (fires && !fired) {
			*rv = f.rv;
			fired = true;
		}
		if (!fires || f.every)
			shim.faults[kept++] = f;
	}
	shim.n_faults = kept;
	return fired;
}

/* Counts a call of fn and decides its fate: true with *target set when the
 * call goes on to the target, false with *rv set when it must return at once
 * (an injected fault, a target that cannot be loaded, or a call before
 * C_Initialize, which is refused as a real module would). */
static bool call_begin(enum shim_fn fn, CK_FUNCTION_LIST **target, CK_RV *rv)
{
	bool forward = false;

	pthread_mutex_lock(&lock);
	shim.calls[fn]++;
	if (shim.total < CALL_LOG_MAX)
		shim.call_log[shim.total] = (unsigned char)fn;
	shim.total++;
	if (fault_fire_locked(fn, rv))
		goto out;
	*target = target_load_locked();
	if (!*target) {
		*rv = CKR_GENERAL_ERROR;
		goto out;
	}
	if (!shim.initialized && fn != FN_C_Initialize &&
	    fn != FN_C_GetFunctionList) {
		*rv = CKR_CRYPTOKI_NOT_INITIALIZED;
		goto out;
	}
	forward = true;
out:
	pthread_mutex_unlock(&lock);
	return forward;
}

/* Whether a fault's value tells the caller that the session is gone. */
static bool rv_loses_session(CK_RV rv)
{
	return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
	       rv == CKR_DEVICE_REMOVED;
}

static size_t lost_find_locked(CK_SESSION_HANDLE session)
{
	size_t i;

	for (i = 0; i < shim.n_lost && shim.lost[i] != session; i++)
		;
	return i;
}

/* call_begin for a call on a session. A session that a fault declared
 * gone stays gone for the caller, as on a real token: every later call on
 * it but C_CloseSession (which ends it), C_DestroyObject and C_Logout
 * (undoing what the failed operation did) is a use after loss
 * (p11shim_lost_session_uses). */
static bool session_begin(enum shim_fn fn, CK_SESSION_HANDLE session, CK_FUNCTION_LIST **target,
			  CK_RV *rv)
{
	bool forward = call_begin(fn, target, rv);
	size_t i;

	pthread_mutex_lock(&lock);
	i = lost_find_locked(session);
	if (i < shim.n_lost) {
		if (fn == FN_C_CloseSession)
			shim.lost[i] = shim.lost[--shim.n_lost];
		else if (fn != FN_C_DestroyObject && fn != FN_C_Logout)
			shim.lost_uses++;
	} else if (!forward && rv_loses_session(*rv) && fn != FN_C_CloseSession &&
		   shim.n_lost < LOST_MAX) {
		shim.lost[shim.n_lost++] = session;
	}
	pthread_mutex_unlock(&lock);
	return forward;
}

static bool token_absent(void)
{
	bool absent;

	pthread_mutex_lock(&lock);
	absent = shim.absent;
	pthread_mutex_unlock(&lock);
	return absent;
}

static bool slot_removable(void)
{
	bool removable;

	pthread_mutex_lock(&lock);
	removable = shim.removable;
	pthread_mutex_unlock(&lock);
	return removable;
}

/* A copy of the pinpad PIN (NULL when the pinpad is off), for the caller to
 * wipe with pin_free(). */
static char *pinpad_pin_dup(void)
{
	char *pin = NULL;

	pthread_mutex_lock(&lock);
	if (shim.pinpad_pin)
		pin = strdup(shim.pinpad_pin);
	pthread_mutex_unlock(&lock);
	return pin;
}

static bool pinpad_on(void)
{
	bool on;

	pthread_mutex_lock(&lock);
	on = shim.pinpad_pin != NULL;
	pthread_mutex_unlock(&lock);
	return on;
}

/* The P11SHIM_MECH_* modes set for mech, 0 when it is forwarded as is. */
static int mech_mode(CK_MECHANISM_TYPE mech)
{
	int mode = 0;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < shim.n_mechs; i++) {
		if (shim.mechs[i].mech == mech)
			mode = shim.mechs[i].mode;
	}
	pthread_mutex_unlock(&lock);
	return mode;
}

/* ---- Card profiles (p11shim_set_profile) ---- */

static unsigned profile_get(void)
{
	unsigned flags;

	pthread_mutex_lock(&lock);
	flags = shim.profile;
	pthread_mutex_unlock(&lock);
	return flags;
}

/* Whether the profile has any of the bits; counts a hit when it has, as
 * the caller is about to act on it. */
static bool profile_acts(unsigned bits)
{
	bool acts;

	pthread_mutex_lock(&lock);
	acts = (shim.profile & bits) != 0;
	if (acts)
		shim.profile_hits++;
	pthread_mutex_unlock(&lock);
	return acts;
}

/* Secret-key mechanisms, by PKCS#11 v2.40's numbering: RC2 and RC4
 * (0x100-0x111), DES and 3DES (0x120-0x13f), the DES feedback modes
 * (0x150-0x153), generic secrets (0x350), AES (0x1080-0x10ff) and the AES
 * key wraps (0x2109, 0x210a). */
static bool mech_is_symmetric(CK_MECHANISM_TYPE m)
{
	return (m >= CKM_RC2_KEY_GEN && m <= CKM_RC4) ||
	       (m >= CKM_DES_KEY_GEN && m <= 0x13f) ||
	       (m >= CKM_DES_OFB64 && m <= CKM_DES_CFB8) ||
	       m == CKM_GENERIC_SECRET_KEY_GEN ||
	       (m >= CKM_AES_KEY_GEN && m <= 0x10ff) ||
	       m == CKM_AES_KEY_WRAP || m == CKM_AES_KEY_WRAP_PAD;
}

/* RSA operations (not key generation): 0x1-0xe and the SHA-2 ones,
 * 0x40-0x47. */
static bool mech_is_rsa(CK_MECHANISM_TYPE m)
{
	return (m >= CKM_RSA_PKCS && m <= 0xe) || (m >= CKM_SHA256_RSA_PKCS && m <= 0x47);
}

/* Key pair (and domain parameter) generation of every kind: a card that
 * makes no RSA pair makes no DSA, DH or EC pair either. */
static bool mech_makes_pairs(CK_MECHANISM_TYPE m)
{
	return m == CKM_RSA_PKCS_KEY_PAIR_GEN || m == CKM_DSA_KEY_PAIR_GEN ||
	       m == CKM_DSA_PARAMETER_GEN || m == CKM_DH_PKCS_KEY_PAIR_GEN ||
	       m == CKM_DH_PKCS_PARAMETER_GEN || m == CKM_EC_KEY_PAIR_GEN;
}

/* DSA (0x10-0x1f: the key pair generation, CKM_DSA and the DSA-with-hash
 * signatures), PKCS#3 DH (0x20, 0x21), X9.42 DH (0x30-0x33) and their
 * domain parameter generation (0x2000-0x2002), by PKCS#11 v2.40's
 * numbering. */
static bool mech_is_dsa_dh(CK_MECHANISM_TYPE m)
{
	return (m >= CKM_DSA_KEY_PAIR_GEN && m <= 0x1f) || m == CKM_DH_PKCS_KEY_PAIR_GEN ||
	       m == CKM_DH_PKCS_DERIVE || (m >= CKM_X9_42_DH_KEY_PAIR_GEN && m <= 0x33) ||
	       (m >= CKM_DSA_PARAMETER_GEN && m <= 0x2002);
}

static bool profile_hides(unsigned flags, CK_MECHANISM_TYPE m)
{
	return ((flags & P11SHIM_CARD_NO_SYMMETRIC) && mech_is_symmetric(m)) ||
	       ((flags & P11SHIM_CARD_NO_KEYGEN) && mech_makes_pairs(m)) ||
	       ((flags & P11SHIM_CARD_NO_DSA_DH) && mech_is_dsa_dh(m));
}

static bool mech_hidden(CK_MECHANISM_TYPE m)
{
	return (mech_mode(m) & P11SHIM_MECH_HIDDEN) != 0 || profile_hides(profile_get(), m);
}

static bool mech_refused(const CK_MECHANISM *mechanism)
{
	if (mechanism == NULL)
		return false;
	if (profile_hides(profile_get(), mechanism->mechanism))
		return profile_acts(P11SHIM_CARD_NO_SYMMETRIC | P11SHIM_CARD_NO_KEYGEN |
				    P11SHIM_CARD_NO_DSA_DH);
	return (mech_mode(mechanism->mechanism) & P11SHIM_MECH_REFUSED) != 0;
}

/* A public-key operation that a card without them refuses at its Init. */
static bool public_op_refused(const CK_MECHANISM *mechanism)
{
	return mechanism != NULL && mech_is_rsa(mechanism->mechanism) &&
	       (profile_get() & P11SHIM_CARD_NO_PUBLIC_OPS) && profile_acts(P11SHIM_CARD_NO_PUBLIC_OPS);
}

static const CK_ATTRIBUTE *tmpl_find(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; t != NULL && i < n; i++) {
		if (t[i].type == type && t[i].pValue != NULL)
			return &t[i];
	}
	return NULL;
}

static CK_ULONG tmpl_ulong(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type,
			   CK_ULONG dflt)
{
	const CK_ATTRIBUTE *a = tmpl_find(t, n, type);

	return a != NULL && a->ulValueLen == sizeof(CK_ULONG) ? *(const CK_ULONG *)a->pValue : dflt;
}

static bool tmpl_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, bool dflt)
{
	const CK_ATTRIBUTE *a = tmpl_find(t, n, type);

	return a != NULL && a->ulValueLen == sizeof(CK_BBOOL) ? *(const CK_BBOOL *)a->pValue != CK_FALSE
							       : dflt;
}

/* What the profile says of a new object of this template before the
 * target sees it: CKR_OK to go on, else the card's refusal. A private key
 * without CKA_PRIVATE is private, as on every card. */
static CK_RV profile_check_private_key(const CK_ATTRIBUTE *t, CK_ULONG n)
{
	if ((profile_get() & P11SHIM_CARD_NO_EXTRACTABLE_PRIVATE) &&
	    tmpl_bool(t, n, CKA_PRIVATE, true) && tmpl_bool(t, n, CKA_EXTRACTABLE, false) &&
	    profile_acts(P11SHIM_CARD_NO_EXTRACTABLE_PRIVATE))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

static CK_RV profile_check_create(const CK_ATTRIBUTE *t, CK_ULONG n)
{
	unsigned flags = profile_get();
	CK_OBJECT_CLASS cls = tmpl_ulong(t, n, CKA_CLASS, (CK_ULONG)-1);

	if ((flags & P11SHIM_CARD_READ_ONLY) && profile_acts(P11SHIM_CARD_READ_ONLY))
		return CKR_TOKEN_WRITE_PROTECTED;
	if (cls == CKO_PUBLIC_KEY && (flags & P11SHIM_CARD_CREATE_ARGS_BAD) &&
	    profile_acts(P11SHIM_CARD_CREATE_ARGS_BAD))
		return CKR_ARGUMENTS_BAD;
	if ((flags & P11SHIM_CARD_NO_CREATE) && profile_acts(P11SHIM_CARD_NO_CREATE))
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (cls == CKO_DATA && (flags & P11SHIM_CARD_NO_DATA) && profile_acts(P11SHIM_CARD_NO_DATA))
		return CKR_TEMPLATE_INCONSISTENT;
	if (cls == CKO_DATA && (flags & P11SHIM_CARD_NO_PUBLIC_DATA) &&
	    !tmpl_bool(t, n, CKA_PRIVATE, false) && profile_acts(P11SHIM_CARD_NO_PUBLIC_DATA))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (cls == CKO_SECRET_KEY && (flags & P11SHIM_CARD_NO_SYMMETRIC) &&
	    profile_acts(P11SHIM_CARD_NO_SYMMETRIC))
		return CKR_TEMPLATE_INCONSISTENT;
	if (cls == CKO_PRIVATE_KEY && (flags & P11SHIM_CARD_NO_PRIVATE_CREATE) &&
	    profile_acts(P11SHIM_CARD_NO_PRIVATE_CREATE))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (cls == CKO_PRIVATE_KEY)
		return profile_check_private_key(t, n);
	return CKR_OK;
}

/* Whether a key-pair template sets one of the usages a TPM couples
 * (encrypt, decrypt, sign, verify) FALSE. */
static bool tmpl_denies_usage(const CK_ATTRIBUTE *t, CK_ULONG n)
{
	static const CK_ATTRIBUTE_TYPE usages[] = { CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN,
						     CKA_VERIFY };

	for (size_t i = 0; i < sizeof usages / sizeof usages[0]; i++)
		if (!tmpl_bool(t, n, usages[i], true))
			return true;
	return false;
}

/* A private key template as a token that couples decryption and signing
 * sees it: CKA_DECRYPT and CKA_SIGN TRUE, replaced or added. *out is the
 * template to forward, a malloc'd copy in *copy when it was rewritten
 * (free it). */
static CK_RV profile_couple(CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE **out, CK_ULONG *out_n,
			    CK_ATTRIBUTE **copy)
{
	static CK_BBOOL yes = CK_TRUE;
	static const CK_ATTRIBUTE_TYPE coupled[] = { CKA_DECRYPT, CKA_SIGN };
	CK_ATTRIBUTE *c;
	CK_ULONG m = n;

	*out = t;
	*out_n = n;
	*copy = NULL;
	if (!(profile_get() & P11SHIM_CARD_COUPLED_USAGE) || !profile_acts(P11SHIM_CARD_COUPLED_USAGE))
		return CKR_OK;
	c = calloc(n + 2, sizeof *c);
	if (c == NULL)
		return CKR_HOST_MEMORY;
	if (n > 0)
		memcpy(c, t, n * sizeof *c);
	for (size_t k = 0; k < 2; k++) {
		CK_ULONG i;

		for (i = 0; i < n && c[i].type != coupled[k]; i++)
			;
		if (i == n)
			i = m++;
		c[i] = (CK_ATTRIBUTE){ coupled[k], &yes, sizeof yes };
	}
	*out = *copy = c;
	*out_n = m;
	return CKR_OK;
}

/* ---- Attributes the token does not know (p11shim_set_attribute) ---- */

/* The P11SHIM_ATTR_* mode set for type, 0 when it is forwarded as is. */
static int attr_mode(CK_ATTRIBUTE_TYPE type)
{
	int mode = 0;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < shim.n_attrs; i++) {
		if (shim.attrs[i].type == type)
			mode = shim.attrs[i].mode;
	}
	pthread_mutex_unlock(&lock);
	return mode;
}

static bool attr_is_template(CK_ATTRIBUTE_TYPE type)
{
	return type == CKA_WRAP_TEMPLATE || type == CKA_UNWRAP_TEMPLATE;
}

/* The strongest mode any attribute of the template (nested ones included)
 * is set to. */
static int tmpl_mode(const CK_ATTRIBUTE *t, CK_ULONG n)
{
	int mode = 0, m;

	for (CK_ULONG i = 0; t != NULL && i < n; i++) {
		m = attr_mode(t[i].type);
		if (attr_is_template(t[i].type) && t[i].pValue != NULL)
			m |= tmpl_mode(t[i].pValue, t[i].ulValueLen / sizeof(CK_ATTRIBUTE));
		mode |= m;
	}
	return mode;
}

/* A template as a token that ignores the stripped attributes sees it. */
struct tmpl_copy {
	CK_ATTRIBUTE *top;
	CK_ATTRIBUTE *nested[4];
	size_t n_nested;
	CK_ULONG n;
};

static void tmpl_copy_free(struct tmpl_copy *c)
{
	for (size_t i = 0; i < c->n_nested; i++)
		free(c->nested[i]);
	free(c->top);
}

static CK_BBOOL forced_true = CK_TRUE, forced_false = CK_FALSE;

/* a as the target sees it under a P11SHIM_ATTR_FORCED_* mode. */
static CK_ATTRIBUTE attr_forced(CK_ATTRIBUTE a)
{
	int mode = attr_mode(a.type);

	if (mode & (P11SHIM_ATTR_FORCED_TRUE | P11SHIM_ATTR_FORCED_FALSE)) {
		a.pValue = (mode & P11SHIM_ATTR_FORCED_TRUE) ? &forced_true : &forced_false;
		a.ulValueLen = sizeof(CK_BBOOL);
	}
	return a;
}

/* Copies t without the stripped attributes, and with the forced ones set,
 * into c; false when memory runs out or the nesting is deeper than tests
 * use. */
static bool tmpl_strip(const CK_ATTRIBUTE *t, CK_ULONG n, struct tmpl_copy *c)
{
	memset(c, 0, sizeof *c);
	c->top = calloc(n + 1, sizeof *t);
	if (c->top == NULL)
		return false;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_ATTRIBUTE a = t[i];

		if (attr_mode(a.type) & P11SHIM_ATTR_STRIPPED)
			continue;
		a = attr_forced(a);
		if (attr_is_template(a.type) && a.pValue != NULL) {
			const CK_ATTRIBUTE *in = a.pValue;
			CK_ULONG k = a.ulValueLen / sizeof(CK_ATTRIBUTE), m = 0;
			CK_ATTRIBUTE *out;

			if (c->n_nested == sizeof c->nested / sizeof c->nested[0])
				return false;
			out = calloc(k + 1, sizeof *out);
			if (out == NULL)
				return false;
			c->nested[c->n_nested++] = out;
			for (CK_ULONG j = 0; j < k; j++) {
				if (!(attr_mode(in[j].type) & P11SHIM_ATTR_STRIPPED))
					out[m++] = attr_forced(in[j]);
			}
			a.pValue = out;
			a.ulValueLen = m * sizeof(CK_ATTRIBUTE);
		}
		c->top[c->n++] = a;
	}
	return true;
}

/* Applies the attribute modes to a template about to be forwarded: false
 * with *rv set when it is refused (or cannot be copied); else *use is what
 * to forward, a copy in c when something was stripped. */
static bool tmpl_apply(CK_ATTRIBUTE_PTR t, CK_ULONG n, struct tmpl_copy *c, CK_ATTRIBUTE_PTR *use,
		       CK_ULONG *use_n, CK_RV *rv)
{
	/* Unreadable attributes are still taken in templates. */
	int mode = tmpl_mode(t, n) & (P11SHIM_ATTR_REFUSED | P11SHIM_ATTR_STRIPPED |
				      P11SHIM_ATTR_FORCED_TRUE | P11SHIM_ATTR_FORCED_FALSE);

	memset(c, 0, sizeof *c);
	*use = t;
	*use_n = n;
	if (mode == 0)
		return true;
	pthread_mutex_lock(&lock);
	shim.attr_hits++;
	pthread_mutex_unlock(&lock);
	if (mode & P11SHIM_ATTR_REFUSED) {
		*rv = CKR_ATTRIBUTE_TYPE_INVALID;
		return false;
	}
	if (!tmpl_strip(t, n, c)) {
		tmpl_copy_free(c);
		*rv = CKR_HOST_MEMORY;
		return false;
	}
	*use = c->top;
	*use_n = c->n;
	return true;
}

/* Advances the length tampering by one C_GetAttributeValue call and returns
 * the mode to apply to it, or 0. */
static int tamper_take(void)
{
	int mode = 0;

	pthread_mutex_lock(&lock);
	if (shim.tamper_mode && (shim.tamper_every || --shim.tamper_left == 0)) {
		mode = shim.tamper_mode;
		if (!shim.tamper_every)
			shim.tamper_mode = 0;
	}
	pthread_mutex_unlock(&lock);
	return mode;
}

/* ---- Calls with behaviour of their own ---- */

static CK_RV shim_C_Initialize(CK_VOID_PTR init_args)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;
	bool was_initialized;

	if (!call_begin(FN_C_Initialize, &t, &rv))
		return rv;
	pthread_mutex_lock(&init_lock);
	pthread_mutex_lock(&lock);
	was_initialized = shim.initialized;
	pthread_mutex_unlock(&lock);

	rv = t->C_Initialize(init_args);
	pthread_mutex_lock(&lock);
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED && !was_initialized) {
		shim.shared = true;
		rv = CKR_OK;
	} else if (rv == CKR_OK) {
		shim.shared = false;
	}
	if (rv == CKR_OK)
		shim.initialized = true;
	pthread_mutex_unlock(&lock);
	pthread_mutex_unlock(&init_lock);
	return rv;
}

static CK_RV shim_C_Finalize(CK_VOID_PTR reserved)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;
	bool shared;

	if (!call_begin(FN_C_Finalize, &t, &rv))
		return rv;
	pthread_mutex_lock(&init_lock);
	pthread_mutex_lock(&lock);
	shared = shim.shared;
	pthread_mutex_unlock(&lock);

	if (shared)
		rv = reserved ? CKR_ARGUMENTS_BAD : CKR_OK;
	else
		rv = t->C_Finalize(reserved);
	if (rv == CKR_OK) {
		pthread_mutex_lock(&lock);
		shim.initialized = false;
		shim.shared = false;
		pthread_mutex_unlock(&lock);
	}
	pthread_mutex_unlock(&init_lock);
	return rv;
}

static CK_RV shim_C_GetSlotList(CK_BBOOL token_present,
		CK_SLOT_ID_PTR slot_list, CK_ULONG_PTR count)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!call_begin(FN_C_GetSlotList, &t, &rv))
		return rv;
	/* Every slot is empty, so no slot holds a token. */
	if (token_present && token_absent()) {
		if (!count)
			return CKR_ARGUMENTS_BAD;
		*count = 0;
		return CKR_OK;
	}
	return t->C_GetSlotList(token_present, slot_list, count);
}

static CK_RV shim_C_GetSlotInfo(CK_SLOT_ID slot_id, CK_SLOT_INFO_PTR info)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!call_begin(FN_C_GetSlotInfo, &t, &rv))
		return rv;
	rv = t->C_GetSlotInfo(slot_id, info);
	if (rv != CKR_OK)
		return rv;
	if (token_absent())
		info->flags &= ~CKF_TOKEN_PRESENT;
	if (slot_removable())
		info->flags |= CKF_REMOVABLE_DEVICE;
	return CKR_OK;
}

/* Writes a string into a blank-padded PKCS#11 field. */
static void padded_put(CK_UTF8CHAR *field, size_t n, const char *s)
{
	size_t len = strlen(s);

	memset(field, ' ', n);
	memcpy(field, s, len < n ? len : n);
}

static CK_RV shim_C_GetTokenInfo(CK_SLOT_ID slot_id, CK_TOKEN_INFO_PTR info)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!call_begin(FN_C_GetTokenInfo, &t, &rv))
		return rv;
	if (token_absent())
		return CKR_TOKEN_NOT_PRESENT;
	rv = t->C_GetTokenInfo(slot_id, info);
	if (rv == CKR_OK && pinpad_on())
		info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
	if (rv == CKR_OK) {
		pthread_mutex_lock(&lock);
		if (shim.manufacturer[0] != '\0')
			memcpy(info->manufacturerID, shim.manufacturer, sizeof info->manufacturerID);
		if (shim.profile & P11SHIM_CARD_TPM_INFO)
			padded_put(info->manufacturerID, sizeof info->manufacturerID, "IBM");
		if (shim.profile & P11SHIM_CARD_PIV_INFO)
			padded_put(info->manufacturerID, sizeof info->manufacturerID, "piv_II");
		if (shim.profile & P11SHIM_CARD_NO_RANDOM)
			info->flags &= ~(CK_FLAGS)CKF_RNG;
		if (shim.profile & P11SHIM_CARD_READ_ONLY)
			info->flags |= CKF_WRITE_PROTECTED;
		pthread_mutex_unlock(&lock);
	}
	return rv;
}

/* The target's mechanism list without the hidden ones, with the size query
 * and CKR_BUFFER_TOO_SMALL semantics of C_GetMechanismList: the whole list
 * is fetched from the target into a buffer of its own and filtered there. */
static CK_RV mech_list_filtered(CK_FUNCTION_LIST *t, CK_SLOT_ID slot_id,
		CK_MECHANISM_TYPE_PTR mechanism_list, CK_ULONG_PTR count)
{
	CK_MECHANISM_TYPE *all = NULL;
	CK_ULONG n = 0, kept = 0;
	CK_RV rv;

	rv = t->C_GetMechanismList(slot_id, NULL, &n);
	if (rv != CKR_OK)
		return rv;
	all = calloc(n ? n : 1, sizeof *all);
	if (all == NULL)
		return CKR_HOST_MEMORY;
	rv = t->C_GetMechanismList(slot_id, all, &n);
	if (rv != CKR_OK)
		goto out;
	for (CK_ULONG i = 0; i < n; i++) {
		if (!mech_hidden(all[i]))
			all[kept++] = all[i];
	}
	if (mechanism_list != NULL && *count < kept)
		rv = CKR_BUFFER_TOO_SMALL;
	else if (mechanism_list != NULL)
		memcpy(mechanism_list, all, kept * sizeof *all);
	*count = kept;
out:
	free(all);
	return rv;
}

static CK_RV shim_C_GetMechanismList(CK_SLOT_ID slot_id,
		CK_MECHANISM_TYPE_PTR mechanism_list, CK_ULONG_PTR count)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!call_begin(FN_C_GetMechanismList, &t, &rv))
		return rv;
	if (token_absent())
		return CKR_TOKEN_NOT_PRESENT;
	if (count == NULL)
		return t->C_GetMechanismList(slot_id, mechanism_list, count);
	return mech_list_filtered(t, slot_id, mechanism_list, count);
}

static CK_RV shim_C_GetMechanismInfo(CK_SLOT_ID slot_id,
		CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!call_begin(FN_C_GetMechanismInfo, &t, &rv))
		return rv;
	if (token_absent())
		return CKR_TOKEN_NOT_PRESENT;
	if (mech_hidden(type))
		return CKR_MECHANISM_INVALID;
	rv = t->C_GetMechanismInfo(slot_id, type, info);
	if (rv == CKR_OK && (profile_get() & P11SHIM_CARD_NO_WRAP))
		info->flags &= ~(CK_FLAGS)(CKF_WRAP | CKF_UNWRAP);
	if (rv == CKR_OK && (profile_get() & P11SHIM_CARD_NO_PUBLIC_OPS) && mech_is_rsa(type))
		info->flags &= ~(CK_FLAGS)(CKF_ENCRYPT | CKF_VERIFY | CKF_VERIFY_RECOVER | CKF_WRAP);
	return rv;
}

static CK_RV shim_C_InitToken(CK_SLOT_ID slot_id, CK_BYTE_PTR pin,
		CK_ULONG pin_len, CK_BYTE_PTR label)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!call_begin(FN_C_InitToken, &t, &rv))
		return rv;
	if (token_absent())
		return CKR_TOKEN_NOT_PRESENT;
	return t->C_InitToken(slot_id, pin, pin_len, label);
}

static CK_RV shim_C_OpenSession(CK_SLOT_ID slot_id, CK_FLAGS flags,
		CK_VOID_PTR application, CK_NOTIFY notify,
		CK_SESSION_HANDLE_PTR session)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!call_begin(FN_C_OpenSession, &t, &rv))
		return rv;
	if (token_absent())
		return CKR_TOKEN_NOT_PRESENT;
	return t->C_OpenSession(slot_id, flags, application, notify, session);
}

static CK_RV shim_C_Login(CK_SESSION_HANDLE session, CK_USER_TYPE user_type,
		CK_BYTE_PTR pin, CK_ULONG pin_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;
	char *typed = NULL;

	if (!session_begin(FN_C_Login, session, &t, &rv))
		return rv;
	/* A pinpad reader gets no PIN from the host: the user types it. */
	if (!pin)
		typed = pinpad_pin_dup();
	if (typed)
		rv = t->C_Login(session, user_type, (CK_BYTE_PTR)typed,
				strlen(typed));
	else
		rv = t->C_Login(session, user_type, pin, pin_len);
	pin_free(typed);
	return rv;
}

static CK_RV shim_C_GetAttributeValue(CK_SESSION_HANDLE session,
		CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR templ, CK_ULONG count)
{
	CK_FUNCTION_LIST *t;
	CK_ULONG *sizes = NULL;
	bool changed = false;
	CK_RV rv;
	int mode;

	if (!session_begin(FN_C_GetAttributeValue, session, &t, &rv))
		return rv;
	mode = tamper_take();
	/* The module overwrites the caller's buffer sizes: keep them to report
	 * one byte beyond each buffer afterwards. */
	if (mode == P11SHIM_LEN_TOO_LARGE && templ && count > 0) {
		sizes = calloc(count, sizeof *sizes);
		for (CK_ULONG i = 0; sizes && i < count; i++)
			sizes[i] = templ[i].ulValueLen;
	}
	rv = t->C_GetAttributeValue(session, object, templ, count);
	for (CK_ULONG i = 0; templ && i < count && (rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE ||
						     rv == CKR_ATTRIBUTE_TYPE_INVALID); i++) {
		if (!(attr_mode(templ[i].type) & P11SHIM_ATTR_UNREADABLE))
			continue;
		if (templ[i].pValue != NULL && templ[i].ulValueLen != CK_UNAVAILABLE_INFORMATION)
			memset(templ[i].pValue, 0, templ[i].ulValueLen);
		templ[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		rv = CKR_ATTRIBUTE_TYPE_INVALID;
	}
	for (CK_ULONG i = 0; mode && templ && i < count; i++) {
		CK_ULONG was = templ[i].ulValueLen;

		if (mode == P11SHIM_LEN_UNAVAILABLE)
			templ[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		else if (sizes && templ[i].pValue)
			templ[i].ulValueLen = sizes[i] + 1;
		if (templ[i].ulValueLen != was)
			changed = true;
	}
	free(sizes);
	if (changed) {
		pthread_mutex_lock(&lock);
		shim.tamper_hits++;
		pthread_mutex_unlock(&lock);
	}
	return rv;
}

/* ---- Plain forwarders ---- */

static CK_RV shim_C_GetInfo(CK_INFO_PTR info)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!call_begin(FN_C_GetInfo, &t, &rv))
		return rv;
	rv = t->C_GetInfo(info);
	if (rv == CKR_OK && (profile_get() & P11SHIM_CARD_TPM_INFO)) {
		padded_put(info->manufacturerID, sizeof info->manufacturerID,
			   "tpm2-software.github.io");
		padded_put(info->libraryDescription, sizeof info->libraryDescription,
			   "TPM2.0 Cryptoki");
	}
	return rv;
}

static CK_RV shim_C_InitPIN(CK_SESSION_HANDLE session, CK_BYTE_PTR pin,
		CK_ULONG pin_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_InitPIN, session, &t, &rv))
		return rv;
	return t->C_InitPIN(session, pin, pin_len);
}

static CK_RV shim_C_SetPIN(CK_SESSION_HANDLE session, CK_BYTE_PTR old_pin,
		CK_ULONG old_len, CK_BYTE_PTR new_pin, CK_ULONG new_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_SetPIN, session, &t, &rv))
		return rv;
	return t->C_SetPIN(session, old_pin, old_len, new_pin, new_len);
}

static CK_RV shim_C_CloseSession(CK_SESSION_HANDLE session)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_CloseSession, session, &t, &rv))
		return rv;
	dstate_end(session);
	return t->C_CloseSession(session);
}

static CK_RV shim_C_CloseAllSessions(CK_SLOT_ID slot_id)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!call_begin(FN_C_CloseAllSessions, &t, &rv))
		return rv;
	return t->C_CloseAllSessions(slot_id);
}

static CK_RV shim_C_GetSessionInfo(CK_SESSION_HANDLE session,
		CK_SESSION_INFO_PTR info)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_GetSessionInfo, session, &t, &rv))
		return rv;
	return t->C_GetSessionInfo(session, info);
}

static CK_RV shim_C_GetOperationState(CK_SESSION_HANDLE session,
		CK_BYTE_PTR operation_state, CK_ULONG_PTR operation_state_len)
{
	CK_FUNCTION_LIST *t;
	CK_ULONG query_len, fetch_len;
	CK_RV rv, fetch_rv;

	if (!session_begin(FN_C_GetOperationState, session, &t, &rv))
		return rv;
	pthread_mutex_lock(&lock);
	query_len = shim.state_query_len;
	fetch_len = shim.state_fetch_len;
	fetch_rv = shim.state_fetch_rv;
	pthread_mutex_unlock(&lock);
	if (query_len != 0 && operation_state_len != NULL) {
		/* A module that names one length and then answers another. */
		if (operation_state == NULL) {
			*operation_state_len = query_len;
			return CKR_OK;
		}
		memset(operation_state, 0xa5,
		       *operation_state_len < query_len ? *operation_state_len : query_len);
		*operation_state_len = fetch_len;
		return fetch_rv;
	}
	if (dstate_on() && operation_state_len != NULL) {
		struct dstate *d;
		CK_ULONG need;

		pthread_mutex_lock(&lock);
		d = dstate_find_locked(session);
		if (d == NULL) {
			rv = CKR_OPERATION_NOT_INITIALIZED;
		} else if (d->keyed) {
			rv = CKR_STATE_UNSAVEABLE;
		} else {
			need = sizeof d->mech + d->len;
			rv = CKR_OK;
			if (operation_state != NULL && *operation_state_len < need) {
				rv = CKR_BUFFER_TOO_SMALL;
			} else if (operation_state != NULL) {
				memcpy(operation_state, &d->mech, sizeof d->mech);
				if (d->len > 0)
					memcpy(operation_state + sizeof d->mech, d->data, d->len);
			}
			*operation_state_len = need;
		}
		pthread_mutex_unlock(&lock);
		return rv;
	}
	return t->C_GetOperationState(session, operation_state,
			operation_state_len);
}

static CK_RV shim_C_SetOperationState(CK_SESSION_HANDLE session,
		CK_BYTE_PTR operation_state, CK_ULONG operation_state_len,
		CK_OBJECT_HANDLE encryption_key,
		CK_OBJECT_HANDLE authentication_key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_SetOperationState, session, &t, &rv))
		return rv;
	if (dstate_on()) {
		CK_MECHANISM m = { 0, NULL, 0 };
		CK_ULONG n;

		if (operation_state == NULL || operation_state_len < sizeof m.mechanism)
			return CKR_SAVED_STATE_INVALID;
		memcpy(&m.mechanism, operation_state, sizeof m.mechanism);
		n = operation_state_len - sizeof m.mechanism;
		rv = t->C_DigestInit(session, &m);
		if (rv == CKR_OK)
			dstate_begin(session, m.mechanism);
		if (rv == CKR_OK && n > 0) {
			rv = t->C_DigestUpdate(session, operation_state + sizeof m.mechanism, n);
			if (rv == CKR_OK)
				dstate_add(session, operation_state + sizeof m.mechanism, n, false);
		}
		return rv == CKR_OK ? CKR_OK : CKR_SAVED_STATE_INVALID;
	}
	return t->C_SetOperationState(session, operation_state,
			operation_state_len, encryption_key,
			authentication_key);
}

static CK_RV shim_C_Logout(CK_SESSION_HANDLE session)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_Logout, session, &t, &rv))
		return rv;
	return t->C_Logout(session);
}

static CK_RV shim_C_CreateObject(CK_SESSION_HANDLE session,
		CK_ATTRIBUTE_PTR templ, CK_ULONG count,
		CK_OBJECT_HANDLE_PTR object)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	struct tmpl_copy c;
	CK_ATTRIBUTE_PTR use;
	CK_ULONG use_n;

	CK_ATTRIBUTE_PTR coupled = NULL;

	if (!session_begin(FN_C_CreateObject, session, &t, &rv))
		return rv;
	rv = profile_check_create(templ, count);
	if (rv != CKR_OK)
		return rv;
	if (!tmpl_apply(templ, count, &c, &use, &use_n, &rv))
		return rv;
	if (tmpl_ulong(use, use_n, CKA_CLASS, (CK_ULONG)-1) == CKO_PRIVATE_KEY)
		rv = profile_couple(use, use_n, &use, &use_n, &coupled);
	if (rv == CKR_OK)
		rv = t->C_CreateObject(session, use, use_n, object);
	free(coupled);
	tmpl_copy_free(&c);
	return rv;
}

static CK_RV shim_C_CopyObject(CK_SESSION_HANDLE session,
		CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR templ,
		CK_ULONG count, CK_OBJECT_HANDLE_PTR new_object)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	struct tmpl_copy c;
	CK_ATTRIBUTE_PTR use;
	CK_ULONG use_n;

	if (!session_begin(FN_C_CopyObject, session, &t, &rv))
		return rv;
	if ((profile_get() & P11SHIM_CARD_READ_ONLY) && profile_acts(P11SHIM_CARD_READ_ONLY))
		return CKR_TOKEN_WRITE_PROTECTED;
	if (!tmpl_apply(templ, count, &c, &use, &use_n, &rv))
		return rv;
	rv = t->C_CopyObject(session, object, use, use_n, new_object);
	tmpl_copy_free(&c);
	return rv;
}

static CK_RV shim_C_DestroyObject(CK_SESSION_HANDLE session,
		CK_OBJECT_HANDLE object)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DestroyObject, session, &t, &rv))
		return rv;
	if ((profile_get() & P11SHIM_CARD_READ_ONLY) && profile_acts(P11SHIM_CARD_READ_ONLY))
		return CKR_TOKEN_WRITE_PROTECTED;
	return t->C_DestroyObject(session, object);
}

static CK_RV shim_C_GetObjectSize(CK_SESSION_HANDLE session,
		CK_OBJECT_HANDLE object, CK_ULONG_PTR size)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_GetObjectSize, session, &t, &rv))
		return rv;
	return t->C_GetObjectSize(session, object, size);
}

static CK_RV shim_C_SetAttributeValue(CK_SESSION_HANDLE session,
		CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR templ,
		CK_ULONG count)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_SetAttributeValue, session, &t, &rv))
		return rv;
	if ((profile_get() & P11SHIM_CARD_READ_ONLY) && profile_acts(P11SHIM_CARD_READ_ONLY))
		return CKR_TOKEN_WRITE_PROTECTED;
	return t->C_SetAttributeValue(session, object, templ, count);
}

static CK_RV shim_C_FindObjectsInit(CK_SESSION_HANDLE session,
		CK_ATTRIBUTE_PTR templ, CK_ULONG count)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_FindObjectsInit, session, &t, &rv))
		return rv;
	return t->C_FindObjectsInit(session, templ, count);
}

static CK_RV shim_C_FindObjects(CK_SESSION_HANDLE session,
		CK_OBJECT_HANDLE_PTR object, CK_ULONG max_object_count,
		CK_ULONG_PTR object_count)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_FindObjects, session, &t, &rv))
		return rv;
	return t->C_FindObjects(session, object, max_object_count,
			object_count);
}

static CK_RV shim_C_FindObjectsFinal(CK_SESSION_HANDLE session)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_FindObjectsFinal, session, &t, &rv))
		return rv;
	return t->C_FindObjectsFinal(session);
}

static CK_RV shim_C_EncryptInit(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_EncryptInit, session, &t, &rv))
		return rv;
	if (mech_refused(mechanism) || public_op_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	return t->C_EncryptInit(session, mechanism, key);
}

static CK_RV shim_C_Encrypt(CK_SESSION_HANDLE session, CK_BYTE_PTR data,
		CK_ULONG data_len, CK_BYTE_PTR encrypted_data,
		CK_ULONG_PTR encrypted_data_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_Encrypt, session, &t, &rv))
		return rv;
	return t->C_Encrypt(session, data, data_len, encrypted_data,
			encrypted_data_len);
}

static CK_RV shim_C_EncryptUpdate(CK_SESSION_HANDLE session, CK_BYTE_PTR part,
		CK_ULONG part_len, CK_BYTE_PTR encrypted_part,
		CK_ULONG_PTR encrypted_part_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_EncryptUpdate, session, &t, &rv))
		return rv;
	return t->C_EncryptUpdate(session, part, part_len, encrypted_part,
			encrypted_part_len);
}

static CK_RV shim_C_EncryptFinal(CK_SESSION_HANDLE session,
		CK_BYTE_PTR last_encrypted_part,
		CK_ULONG_PTR last_encrypted_part_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_EncryptFinal, session, &t, &rv))
		return rv;
	return t->C_EncryptFinal(session, last_encrypted_part,
			last_encrypted_part_len);
}

static CK_RV shim_C_DecryptInit(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DecryptInit, session, &t, &rv))
		return rv;
	if (mech_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	return t->C_DecryptInit(session, mechanism, key);
}

static CK_RV shim_C_Decrypt(CK_SESSION_HANDLE session,
		CK_BYTE_PTR encrypted_data, CK_ULONG encrypted_data_len,
		CK_BYTE_PTR data, CK_ULONG_PTR data_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_Decrypt, session, &t, &rv))
		return rv;
	return t->C_Decrypt(session, encrypted_data, encrypted_data_len, data,
			data_len);
}

static CK_RV shim_C_DecryptUpdate(CK_SESSION_HANDLE session,
		CK_BYTE_PTR encrypted_part, CK_ULONG encrypted_part_len,
		CK_BYTE_PTR part, CK_ULONG_PTR part_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DecryptUpdate, session, &t, &rv))
		return rv;
	return t->C_DecryptUpdate(session, encrypted_part, encrypted_part_len,
			part, part_len);
}

static CK_RV shim_C_DecryptFinal(CK_SESSION_HANDLE session,
		CK_BYTE_PTR last_part, CK_ULONG_PTR last_part_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DecryptFinal, session, &t, &rv))
		return rv;
	return t->C_DecryptFinal(session, last_part, last_part_len);
}

static CK_RV shim_C_DigestInit(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DigestInit, session, &t, &rv))
		return rv;
	if (mech_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	rv = t->C_DigestInit(session, mechanism);
	if (rv == CKR_OK && mechanism != NULL)
		dstate_begin(session, mechanism->mechanism);
	return rv;
}

static CK_RV shim_C_Digest(CK_SESSION_HANDLE session, CK_BYTE_PTR data,
		CK_ULONG data_len, CK_BYTE_PTR digest, CK_ULONG_PTR digest_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_Digest, session, &t, &rv))
		return rv;
	rv = t->C_Digest(session, data, data_len, digest, digest_len);
	if (digest != NULL && rv != CKR_BUFFER_TOO_SMALL)
		dstate_end(session);
	return rv;
}

static CK_RV shim_C_DigestUpdate(CK_SESSION_HANDLE session, CK_BYTE_PTR part,
		CK_ULONG part_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DigestUpdate, session, &t, &rv))
		return rv;
	rv = t->C_DigestUpdate(session, part, part_len);
	if (rv == CKR_OK)
		dstate_add(session, part, part_len, false);
	else
		dstate_end(session);
	return rv;
}

static CK_RV shim_C_DigestKey(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DigestKey, session, &t, &rv))
		return rv;
	rv = t->C_DigestKey(session, key);
	if (rv == CKR_OK)
		dstate_add(session, NULL, 0, true);
	else
		dstate_end(session);
	return rv;
}

static CK_RV shim_C_DigestFinal(CK_SESSION_HANDLE session, CK_BYTE_PTR digest,
		CK_ULONG_PTR digest_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DigestFinal, session, &t, &rv))
		return rv;
	rv = t->C_DigestFinal(session, digest, digest_len);
	if (digest != NULL && rv != CKR_BUFFER_TOO_SMALL)
		dstate_end(session);
	return rv;
}

static CK_RV shim_C_SignInit(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_SignInit, session, &t, &rv))
		return rv;
	if (mech_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	return t->C_SignInit(session, mechanism, key);
}

static CK_RV shim_C_Sign(CK_SESSION_HANDLE session, CK_BYTE_PTR data,
		CK_ULONG data_len, CK_BYTE_PTR signature,
		CK_ULONG_PTR signature_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_Sign, session, &t, &rv))
		return rv;
	return t->C_Sign(session, data, data_len, signature, signature_len);
}

static CK_RV shim_C_SignUpdate(CK_SESSION_HANDLE session, CK_BYTE_PTR part,
		CK_ULONG part_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_SignUpdate, session, &t, &rv))
		return rv;
	return t->C_SignUpdate(session, part, part_len);
}

static CK_RV shim_C_SignFinal(CK_SESSION_HANDLE session, CK_BYTE_PTR signature,
		CK_ULONG_PTR signature_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_SignFinal, session, &t, &rv))
		return rv;
	return t->C_SignFinal(session, signature, signature_len);
}

static CK_RV shim_C_SignRecoverInit(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_SignRecoverInit, session, &t, &rv))
		return rv;
	if (mech_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	return t->C_SignRecoverInit(session, mechanism, key);
}

static CK_RV shim_C_SignRecover(CK_SESSION_HANDLE session, CK_BYTE_PTR data,
		CK_ULONG data_len, CK_BYTE_PTR signature,
		CK_ULONG_PTR signature_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_SignRecover, session, &t, &rv))
		return rv;
	return t->C_SignRecover(session, data, data_len, signature,
			signature_len);
}

static CK_RV shim_C_VerifyInit(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_VerifyInit, session, &t, &rv))
		return rv;
	if (mech_refused(mechanism) || public_op_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	return t->C_VerifyInit(session, mechanism, key);
}

static CK_RV shim_C_Verify(CK_SESSION_HANDLE session, CK_BYTE_PTR data,
		CK_ULONG data_len, CK_BYTE_PTR signature,
		CK_ULONG signature_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_Verify, session, &t, &rv))
		return rv;
	return t->C_Verify(session, data, data_len, signature, signature_len);
}

static CK_RV shim_C_VerifyUpdate(CK_SESSION_HANDLE session, CK_BYTE_PTR part,
		CK_ULONG part_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_VerifyUpdate, session, &t, &rv))
		return rv;
	return t->C_VerifyUpdate(session, part, part_len);
}

static CK_RV shim_C_VerifyFinal(CK_SESSION_HANDLE session,
		CK_BYTE_PTR signature, CK_ULONG signature_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_VerifyFinal, session, &t, &rv))
		return rv;
	return t->C_VerifyFinal(session, signature, signature_len);
}

static CK_RV shim_C_VerifyRecoverInit(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_VerifyRecoverInit, session, &t, &rv))
		return rv;
	if (mech_refused(mechanism) || public_op_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	return t->C_VerifyRecoverInit(session, mechanism, key);
}

static CK_RV shim_C_VerifyRecover(CK_SESSION_HANDLE session,
		CK_BYTE_PTR signature, CK_ULONG signature_len,
		CK_BYTE_PTR data, CK_ULONG_PTR data_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_VerifyRecover, session, &t, &rv))
		return rv;
	return t->C_VerifyRecover(session, signature, signature_len, data,
			data_len);
}

static CK_RV shim_C_DigestEncryptUpdate(CK_SESSION_HANDLE session,
		CK_BYTE_PTR part, CK_ULONG part_len,
		CK_BYTE_PTR encrypted_part, CK_ULONG_PTR encrypted_part_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DigestEncryptUpdate, session, &t, &rv))
		return rv;
	return t->C_DigestEncryptUpdate(session, part, part_len,
			encrypted_part, encrypted_part_len);
}

static CK_RV shim_C_DecryptDigestUpdate(CK_SESSION_HANDLE session,
		CK_BYTE_PTR encrypted_part, CK_ULONG encrypted_part_len,
		CK_BYTE_PTR part, CK_ULONG_PTR part_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DecryptDigestUpdate, session, &t, &rv))
		return rv;
	return t->C_DecryptDigestUpdate(session, encrypted_part,
			encrypted_part_len, part, part_len);
}

static CK_RV shim_C_SignEncryptUpdate(CK_SESSION_HANDLE session,
		CK_BYTE_PTR part, CK_ULONG part_len,
		CK_BYTE_PTR encrypted_part, CK_ULONG_PTR encrypted_part_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_SignEncryptUpdate, session, &t, &rv))
		return rv;
	return t->C_SignEncryptUpdate(session, part, part_len, encrypted_part,
			encrypted_part_len);
}

static CK_RV shim_C_DecryptVerifyUpdate(CK_SESSION_HANDLE session,
		CK_BYTE_PTR encrypted_part, CK_ULONG encrypted_part_len,
		CK_BYTE_PTR part, CK_ULONG_PTR part_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DecryptVerifyUpdate, session, &t, &rv))
		return rv;
	return t->C_DecryptVerifyUpdate(session, encrypted_part,
			encrypted_part_len, part, part_len);
}

static CK_RV shim_C_GenerateKey(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism, CK_ATTRIBUTE_PTR templ,
		CK_ULONG count, CK_OBJECT_HANDLE_PTR key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	struct tmpl_copy c;
	CK_ATTRIBUTE_PTR use;
	CK_ULONG use_n;

	if (!session_begin(FN_C_GenerateKey, session, &t, &rv))
		return rv;
	if ((profile_get() & P11SHIM_CARD_READ_ONLY) && profile_acts(P11SHIM_CARD_READ_ONLY))
		return CKR_TOKEN_WRITE_PROTECTED;
	if ((profile_get() & P11SHIM_CARD_NO_SYMMETRIC) && profile_acts(P11SHIM_CARD_NO_SYMMETRIC))
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (mech_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	if (!tmpl_apply(templ, count, &c, &use, &use_n, &rv))
		return rv;
	rv = t->C_GenerateKey(session, mechanism, use, use_n, key);
	tmpl_copy_free(&c);
	return rv;
}

static CK_RV shim_C_GenerateKeyPair(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism,
		CK_ATTRIBUTE_PTR public_key_template,
		CK_ULONG public_key_attribute_count,
		CK_ATTRIBUTE_PTR private_key_template,
		CK_ULONG private_key_attribute_count,
		CK_OBJECT_HANDLE_PTR public_key,
		CK_OBJECT_HANDLE_PTR private_key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	struct tmpl_copy cpub, cpriv;
	CK_ATTRIBUTE_PTR upub, upriv;
	CK_ULONG npub, npriv;

	CK_ATTRIBUTE_PTR coupled = NULL;

	if (!session_begin(FN_C_GenerateKeyPair, session, &t, &rv))
		return rv;
	if ((profile_get() & P11SHIM_CARD_READ_ONLY) && profile_acts(P11SHIM_CARD_READ_ONLY))
		return CKR_TOKEN_WRITE_PROTECTED;
	if ((profile_get() & P11SHIM_CARD_NO_KEYGEN) && profile_acts(P11SHIM_CARD_NO_KEYGEN))
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (mech_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	rv = profile_check_private_key(private_key_template, private_key_attribute_count);
	if (rv != CKR_OK)
		return rv;
	/* tpm2-pkcs11 answers a pair that denies one of the usages it
	 * couples with CKR_GENERAL_ERROR ("attr mismatch"). */
	if ((profile_get() & P11SHIM_CARD_COUPLED_USAGE) &&
	    (tmpl_denies_usage(public_key_template, public_key_attribute_count) ||
	     tmpl_denies_usage(private_key_template, private_key_attribute_count)) &&
	    profile_acts(P11SHIM_CARD_COUPLED_USAGE))
		return CKR_GENERAL_ERROR;
	if (!tmpl_apply(public_key_template, public_key_attribute_count, &cpub, &upub, &npub,
			&rv))
		return rv;
	if (!tmpl_apply(private_key_template, private_key_attribute_count, &cpriv, &upriv, &npriv,
			&rv)) {
		tmpl_copy_free(&cpub);
		return rv;
	}
	rv = profile_couple(upriv, npriv, &upriv, &npriv, &coupled);
	if (rv == CKR_OK)
		rv = t->C_GenerateKeyPair(session, mechanism, upub, npub, upriv, npriv, public_key,
				private_key);
	free(coupled);
	tmpl_copy_free(&cpub);
	tmpl_copy_free(&cpriv);
	return rv;
}

static CK_RV shim_C_WrapKey(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE wrapping_key,
		CK_OBJECT_HANDLE key, CK_BYTE_PTR wrapped_key,
		CK_ULONG_PTR wrapped_key_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_WrapKey, session, &t, &rv))
		return rv;
	if ((profile_get() & P11SHIM_CARD_NO_WRAP) && profile_acts(P11SHIM_CARD_NO_WRAP))
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (mech_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	return t->C_WrapKey(session, mechanism, wrapping_key, key, wrapped_key,
			wrapped_key_len);
}

static CK_RV shim_C_UnwrapKey(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE unwrapping_key,
		CK_BYTE_PTR wrapped_key, CK_ULONG wrapped_key_len,
		CK_ATTRIBUTE_PTR templ, CK_ULONG attribute_count,
		CK_OBJECT_HANDLE_PTR key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	struct tmpl_copy c;
	CK_ATTRIBUTE_PTR use;
	CK_ULONG use_n;

	if (!session_begin(FN_C_UnwrapKey, session, &t, &rv))
		return rv;
	if ((profile_get() & P11SHIM_CARD_READ_ONLY) && profile_acts(P11SHIM_CARD_READ_ONLY))
		return CKR_TOKEN_WRITE_PROTECTED;
	if ((profile_get() & P11SHIM_CARD_NO_WRAP) && profile_acts(P11SHIM_CARD_NO_WRAP))
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (mech_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	if (!tmpl_apply(templ, attribute_count, &c, &use, &use_n, &rv))
		return rv;
	rv = t->C_UnwrapKey(session, mechanism, unwrapping_key, wrapped_key,
			wrapped_key_len, use, use_n, key);
	tmpl_copy_free(&c);
	return rv;
}

static CK_RV shim_C_DeriveKey(CK_SESSION_HANDLE session,
		CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE base_key,
		CK_ATTRIBUTE_PTR templ, CK_ULONG attribute_count,
		CK_OBJECT_HANDLE_PTR key)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_DeriveKey, session, &t, &rv))
		return rv;
	if (mech_refused(mechanism))
		return CKR_MECHANISM_INVALID;
	return t->C_DeriveKey(session, mechanism, base_key, templ,
			attribute_count, key);
}

static CK_RV shim_C_SeedRandom(CK_SESSION_HANDLE session, CK_BYTE_PTR seed,
		CK_ULONG seed_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_SeedRandom, session, &t, &rv))
		return rv;
	if ((profile_get() & P11SHIM_CARD_NO_RANDOM) && profile_acts(P11SHIM_CARD_NO_RANDOM))
		return CKR_RANDOM_NO_RNG;
	return t->C_SeedRandom(session, seed, seed_len);
}

static CK_RV shim_C_GenerateRandom(CK_SESSION_HANDLE session,
		CK_BYTE_PTR random_data, CK_ULONG random_len)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_GenerateRandom, session, &t, &rv))
		return rv;
	if ((profile_get() & P11SHIM_CARD_NO_RANDOM) && profile_acts(P11SHIM_CARD_NO_RANDOM))
		return CKR_RANDOM_NO_RNG;
	return t->C_GenerateRandom(session, random_data, random_len);
}

static CK_RV shim_C_GetFunctionStatus(CK_SESSION_HANDLE session)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_GetFunctionStatus, session, &t, &rv))
		return rv;
	return t->C_GetFunctionStatus(session);
}

static CK_RV shim_C_CancelFunction(CK_SESSION_HANDLE session)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!session_begin(FN_C_CancelFunction, session, &t, &rv))
		return rv;
	return t->C_CancelFunction(session);
}

static CK_RV shim_C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot,
		CK_VOID_PTR reserved)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!call_begin(FN_C_WaitForSlotEvent, &t, &rv))
		return rv;
	return t->C_WaitForSlotEvent(flags, slot, reserved);
}

/* Defined below the table that points to it; exported as C_GetFunctionList. */
static CK_RV shim_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR function_list);

static CK_FUNCTION_LIST shim_functions = {
	.version = { CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR },
#define SHIM_ENTRY(name) .name = shim_ ## name,
	SHIM_FUNCTIONS(SHIM_ENTRY)
#undef SHIM_ENTRY
};

static CK_RV shim_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR function_list)
{
	CK_FUNCTION_LIST *t;
	CK_RV rv;

	if (!call_begin(FN_C_GetFunctionList, &t, &rv))
		return rv;
	if (!function_list)
		return CKR_ARGUMENTS_BAD;
	*function_list = &shim_functions;
	return CKR_OK;
}

SHIM_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR function_list)
{
	return shim_C_GetFunctionList(function_list);
}

/* ---- Control interface (p11shim.h) ---- */

SHIM_EXPORT void p11shim_reset(void)
{
	pthread_mutex_lock(&lock);
	memset(shim.calls, 0, sizeof shim.calls);
	shim.total = 0;
	shim.n_faults = 0;
	shim.tamper_mode = 0;
	shim.tamper_hits = 0;
	pin_free(shim.pinpad_pin);
	shim.pinpad_pin = NULL;
	shim.absent = false;
	shim.removable = false;
	shim.manufacturer[0] = '\0';
	shim.n_mechs = 0;
	shim.n_attrs = 0;
	shim.attr_hits = 0;
	shim.profile = 0;
	shim.profile_hits = 0;
	shim.lost_uses = 0;
	shim.state_query_len = 0;
	shim.state_fetch_len = 0;
	shim.state_fetch_rv = CKR_OK;
	shim.digest_state = false;
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT void p11shim_emulate_digest_state(bool on)
{
	pthread_mutex_lock(&lock);
	shim.digest_state = on;
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT void p11shim_lie_operation_state(CK_ULONG query_len, CK_ULONG fetch_len,
					     CK_RV fetch_rv)
{
	pthread_mutex_lock(&lock);
	shim.state_query_len = query_len;
	shim.state_fetch_len = fetch_len;
	shim.state_fetch_rv = fetch_rv;
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT unsigned long p11shim_count(const char *fn)
{
	unsigned long n;
	int i = fn ? fn_lookup(fn) : -1;

	if (i < 0)
		return P11SHIM_UNKNOWN;
	pthread_mutex_lock(&lock);
	n = shim.calls[i];
	pthread_mutex_unlock(&lock);
	return n;
}

SHIM_EXPORT unsigned long p11shim_total(void)
{
	unsigned long n;

	pthread_mutex_lock(&lock);
	n = shim.total;
	pthread_mutex_unlock(&lock);
	return n;
}

SHIM_EXPORT const char *p11shim_call_name(unsigned long nth)
{
	const char *name = NULL;

	pthread_mutex_lock(&lock);
	if (nth >= 1 && nth <= shim.total && nth <= CALL_LOG_MAX)
		name = fn_names[shim.call_log[nth - 1]];
	pthread_mutex_unlock(&lock);
	return name;
}

SHIM_EXPORT void p11shim_fail(const char *fn, unsigned long nth, CK_RV rv)
{
	int i = fn ? fn_lookup(fn) : FN_ANY;

	if (i < 0)
		return;
	pthread_mutex_lock(&lock);
	if (shim.n_faults < FAULTS_MAX) {
		shim.faults[shim.n_faults++] = (struct fault){
			.fn = i, .every = nth == 0, .left = nth, .rv = rv,
		};
	}
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT void p11shim_tamper_length(unsigned long nth, int mode)
{
	if (mode != P11SHIM_LEN_UNAVAILABLE && mode != P11SHIM_LEN_TOO_LARGE)
		return;
	pthread_mutex_lock(&lock);
	shim.tamper_mode = mode;
	shim.tamper_every = nth == 0;
	shim.tamper_left = nth;
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT unsigned long p11shim_tamper_hits(void)
{
	unsigned long n;

	pthread_mutex_lock(&lock);
	n = shim.tamper_hits;
	pthread_mutex_unlock(&lock);
	return n;
}

SHIM_EXPORT void p11shim_set_pinpad(const char *pin)
{
	char *copy = pin ? strdup(pin) : NULL;

	pthread_mutex_lock(&lock);
	pin_free(shim.pinpad_pin);
	shim.pinpad_pin = copy;
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT void p11shim_set_token_absent(bool absent)
{
	pthread_mutex_lock(&lock);
	shim.absent = absent;
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT void p11shim_set_removable(bool removable)
{
	pthread_mutex_lock(&lock);
	shim.removable = removable;
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT void p11shim_set_manufacturer(const char *manufacturer)
{
	size_t n = manufacturer ? strlen(manufacturer) : 0;

	pthread_mutex_lock(&lock);
	memset(shim.manufacturer, ' ', sizeof shim.manufacturer);
	memcpy(shim.manufacturer, manufacturer ? manufacturer : "",
	       n < sizeof shim.manufacturer ? n : sizeof shim.manufacturer);
	if (n == 0)
		shim.manufacturer[0] = '\0';
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT void p11shim_set_mechanism(CK_MECHANISM_TYPE mech, int mode)
{
	size_t i;

	mode &= P11SHIM_MECH_HIDDEN | P11SHIM_MECH_REFUSED;
	pthread_mutex_lock(&lock);
	for (i = 0; i < shim.n_mechs && shim.mechs[i].mech != mech; i++)
		;
	if (mode == 0 && i < shim.n_mechs)
		shim.mechs[i] = shim.mechs[--shim.n_mechs];
	else if (mode != 0 && i < shim.n_mechs)
		shim.mechs[i].mode = mode;
	else if (mode != 0 && i < MECHS_MAX)
		shim.mechs[shim.n_mechs++] = (struct mech_mode){ mech, mode };
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT void p11shim_set_attribute(CK_ATTRIBUTE_TYPE type, int mode)
{
	size_t i;

	mode &= P11SHIM_ATTR_REFUSED | P11SHIM_ATTR_STRIPPED | P11SHIM_ATTR_UNREADABLE |
		P11SHIM_ATTR_FORCED_TRUE | P11SHIM_ATTR_FORCED_FALSE;
	pthread_mutex_lock(&lock);
	for (i = 0; i < shim.n_attrs && shim.attrs[i].type != type; i++)
		;
	if (mode == 0 && i < shim.n_attrs)
		shim.attrs[i] = shim.attrs[--shim.n_attrs];
	else if (mode != 0 && i < shim.n_attrs)
		shim.attrs[i].mode = mode;
	else if (mode != 0 && i < ATTRS_MAX) {
		shim.attrs[shim.n_attrs].type = type;
		shim.attrs[shim.n_attrs++].mode = mode;
	}
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT unsigned long p11shim_attribute_hits(void)
{
	unsigned long n;

	pthread_mutex_lock(&lock);
	n = shim.attr_hits;
	pthread_mutex_unlock(&lock);
	return n;
}

SHIM_EXPORT unsigned long p11shim_lost_session_uses(void)
{
	unsigned long n;

	pthread_mutex_lock(&lock);
	n = shim.lost_uses;
	pthread_mutex_unlock(&lock);
	return n;
}

SHIM_EXPORT void p11shim_set_profile(unsigned flags)
{
	pthread_mutex_lock(&lock);
	shim.profile = flags;
	pthread_mutex_unlock(&lock);
}

SHIM_EXPORT unsigned long p11shim_profile_hits(void)
{
	unsigned long n;

	pthread_mutex_lock(&lock);
	n = shim.profile_hits;
	pthread_mutex_unlock(&lock);
	return n;
}
