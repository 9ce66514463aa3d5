/* A CryptoAPI context (HCRYPTPROV): one token, one leased PKCS#11 session
 * kept until release (session objects die with the session that made
 * them), a container name, and the settings of its provider. */
#ifndef CAPI11_CONTEXT_H
#define CAPI11_CONTEXT_H

#include "handle.h"
#include "session.h"
#include "token.h"
#include "token-ops.h"
#include "conffile.h"

#include <pthread.h>
#include <wincrypt.h>

struct keyobj;
struct sign_cache;

struct context {
	struct handle_obj base;        /* first: a context is a handle object */
	pthread_mutex_t lock;          /* guards everything below and the session */
	atomic_uint api_refs;          /* CryptContextAddRef count */
	/* Set under lock at release; atomic so that a key of this context
	 * used as another call's second key (api-blob.c) can be refused
	 * without taking this lock. */
	atomic_bool released;
	unsigned generation;           /* fork generation of the context */
	/* The context's own session is leased and was not lost: false from a
	 * loss until context_lock has replaced the session. Read without the
	 * lock by export.c's size answer. */
	atomic_bool session_ok;

	/* The token and the leased session, kept until release; a session
	 * the token dropped is replaced at the next context_lock. */
	struct tsession ts;
	/* The companion token's session (companion.h), leased at the first
	 * route that needs it (context_companion_locked) and kept until
	 * release, as ts is: session keys made there live in it. tok NULL:
	 * not opened. */
	struct tsession cts;
	char *companion_spec;          /* the provider's `companion` setting */
	DWORD prov_type;
	bool verify;                   /* CRYPT_VERIFYCONTEXT: no container */
	bool silent;                   /* CRYPT_SILENT: never prompt */
	bool machine_keyset;           /* CRYPT_MACHINE_KEYSET, for PP_KEYSET_TYPE */
	char *prov_name;
	char *container;               /* NULL for verify contexts */
	char *pin;                     /* known PIN not yet used; wiped after C_Login */
	char *pin_prompt;              /* p11-kit PIN source for prompts, NULL: capi11's */
	/* The provider's pin-source file, read again when the context must
	 * log in once more (after the security officer's step); NULL: none. */
	char *pin_source;
	struct config_settings settings;

	/* Key handles of this context, invalidated when it is released. */
	ULONG_PTR *keys;
	size_t n_keys, cap_keys;
	/* A verify context's key pairs, for CryptGetUserKey (referenced). */
	struct keyobj *verify_keys[2];
	/* The container keys CryptSignHash found, kept between signatures
	 * (sign.c owns it; sign_cache_free_locked at release). */
	struct sign_cache *sign_cache;
	/* Session objects capi11 made here, destroyed at release. */
	struct keyobj **owned;
	size_t n_owned, cap_owned;

	/* PP_ENUMCONTAINERS / PP_ENUMALGS(_EX) cursors. */
	char **enum_names;
	size_t n_enum_names, enum_pos;
	size_t enum_alg_pos, enum_alg_ex_pos;
};

/* CryptAcquireContextA's work: *out is the new handle, 0 after
 * CRYPT_DELETEKEYSET. Returns 0 or the Windows error code. */
/* NTE_BAD_PROV_TYPE unless type is one Windows defines room for (1..999):
 * the first check CryptAcquireContext makes, before even phProv. */
DWORD context_check_prov_type(DWORD type);

DWORD context_acquire(const char *container, const char *provider, DWORD type, DWORD flags,
		      HCRYPTPROV *out);

/* The context named by a handle, referenced, or NULL. */
struct context *context_lookup(HCRYPTPROV h);
void context_unref(struct context *ctx);

/* The context a handle names, referenced and locked (context_lock's
 * rules); ERROR_INVALID_PARAMETER for 0, unknown or foreign values.
 * context_put_locked unlocks and drops the reference. */
DWORD context_get_locked(HCRYPTPROV h, struct context **out);
void context_put_locked(struct context *ctx);

/* Locks a context for use; fails with ERROR_INVALID_PARAMETER when it has
 * been released or belongs to the parent of a fork. A session the token
 * dropped (card removed and put back) is replaced by a new one here; the
 * session objects died with the old one. */
DWORD context_lock(struct context *ctx);
void context_unlock(struct context *ctx);

/* With the context locked: makes sure the token is logged in, with the
 * PIN the context knows, a pinpad, or a prompt (unless silent, then
 * NTE_SILENT_CONTEXT). A context that may not prompt and has no PIN
 * answers NTE_SILENT_CONTEXT. */
DWORD context_login_locked(struct context *ctx, bool may_prompt);
/* Logs in with a PIN given by CryptSetProvParam. */
DWORD context_set_pin_locked(struct context *ctx, const char *pin);

/* With the context locked: the companion session, opened at the first
 * call and kept until release. Errors: NTE_NOT_SUPPORTED when the provider
 * says `companion = none`, or the companion cannot be opened (the trace
 * says why), NTE_NO_MEMORY. */
DWORD context_companion_locked(struct context *ctx, struct tsession **out);
/* Whether the provider has a companion at all (not `companion = none`);
 * says nothing about whether it opens. */
bool context_has_companion_locked(const struct context *ctx);

/* Handle bookkeeping, with the context locked. */
bool context_add_key_locked(struct context *ctx, ULONG_PTR key);
void context_remove_key_locked(struct context *ctx, ULONG_PTR key);
bool context_add_owned_locked(struct context *ctx, struct keyobj *obj);
void context_remove_owned_locked(struct context *ctx, struct keyobj *obj);

/* Whether ctx was made before a fork() that this process is the child of:
 * then every use, release included, is ERROR_INVALID_PARAMETER. */
bool context_is_inherited(const struct context *ctx);

/* CryptReleaseContext: drops one CryptContextAddRef reference; the last
 * destroys the context's session objects, invalidates its keys and
 * returns its session to the pool. */
DWORD context_release(HCRYPTPROV h);

/* Whether the context's token offers a mechanism for a use (CKF_WRAP,
 * CKF_UNWRAP, CKF_ENCRYPT, CKF_DECRYPT, CKF_DIGEST), decided from
 * C_GetMechanismInfo before any call: what it lacks is NTE_NOT_SUPPORTED
 * (SPEC section 7). */
DWORD context_check_mechanism(struct context *ctx, CK_MECHANISM_TYPE mech, CK_FLAGS use);
/* The same for any token (a key's own, which may be the companion). */
DWORD token_check_mechanism(struct token *tok, CK_MECHANISM_TYPE mech, CK_FLAGS use);

#endif
