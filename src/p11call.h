/* Every PKCS#11 function capi11 calls, in one table, and the wrappers it
 * produces: the only code in capi11 that touches a CK_FUNCTION_LIST.
 *
 * Each wrapper calls the module, then p11call_end, which in one place
 * traces the call (level 3: name, CK_RV and the arguments worth knowing,
 * never a PIN, key byte or caller data), records a failure as the calling
 * thread's last PKCS#11 failure (Capi11GetLastPkcs11Error), and, for calls
 * on a session, marks the session lost when the CK_RV says that the session
 * or the card is gone, so that it is never given back to the pool. A
 * caller cannot forget any of it: there is no other way to reach a module.
 *
 * Module-level wrappers are p11_<Name>(fl, <the function's arguments>);
 * session wrappers are p11_<Name>(ts, <the arguments after the session
 * handle>), on the session object of session.h. */
#ifndef CAPI11_P11CALL_H
#define CAPI11_P11CALL_H

#include <p11-kit/pkcs11.h>
#include <stdbool.h>

struct tsession;

/* Which results of a call mean that its session, or the card, is gone. */
enum p11_loss {
	P11_LOSS_NONE = 0,     /* none: no session, or one being closed anyway */
	/* p11call_rv_loses_session; once lost, the session takes no new work:
	 * the call fails at once with the result that lost it. */
	P11_LOSS_SESSION,
	/* The same results lose the session, but the call still goes out on a
	 * lost one: it undoes work (destroying what the failed operation made,
	 * logging out after the security officer's step), which matters when
	 * the module was wrong about the loss. Ending a search or an operation
	 * does not: a lost session is never pooled, so nothing is left for a
	 * later user to trip over. */
	P11_LOSS_SESSION_UNDO,
};

/* The table. X(name, loss, parameters, arguments, trace): parameters and
 * arguments follow the first one (the function list or the session) and
 * each starts with a comma; trace is a printf format and its arguments,
 * in parentheses, naming inputs only (outputs may be unset on failure). */
#define P11_MODULE_CALLS(X) \
	X(Initialize, P11_LOSS_NONE, (, CK_VOID_PTR a), (a), ("%s", "")) \
	X(Finalize, P11_LOSS_NONE, (, CK_VOID_PTR a), (a), ("%s", "")) \
	X(GetInfo, P11_LOSS_NONE, (, CK_INFO_PTR info), (info), ("%s", "")) \
	X(GetSlotList, P11_LOSS_NONE, (, CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR n), \
	  (present, list, n), ("list=%s", list ? "yes" : "size")) \
	X(GetSlotInfo, P11_LOSS_NONE, (, CK_SLOT_ID slot, CK_SLOT_INFO_PTR info), (slot, info), \
	  ("slot=%lu", (unsigned long)slot)) \
	X(GetTokenInfo, P11_LOSS_NONE, (, CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info), (slot, info), \
	  ("slot=%lu", (unsigned long)slot)) \
	X(GetMechanismList, P11_LOSS_NONE, \
	  (, CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR n), (slot, list, n), \
	  ("slot=%lu list=%s", (unsigned long)slot, list ? "yes" : "size")) \
	X(GetMechanismInfo, P11_LOSS_NONE, \
	  (, CK_SLOT_ID slot, CK_MECHANISM_TYPE mech, CK_MECHANISM_INFO_PTR info), \
	  (slot, mech, info), ("slot=%lu mech=0x%lx", (unsigned long)slot, (unsigned long)mech)) \
	X(OpenSession, P11_LOSS_NONE, \
	  (, CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify, \
	   CK_SESSION_HANDLE_PTR session), \
	  (slot, flags, app, notify, session), ("slot=%lu", (unsigned long)slot))

#define P11_SESSION_CALLS(X) \
	X(CloseSession, P11_LOSS_NONE, (), (), ("%s", "")) \
	X(GetSessionInfo, P11_LOSS_SESSION, (, CK_SESSION_INFO_PTR info), (, info), ("%s", "")) \
	X(Login, P11_LOSS_SESSION, (, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len), \
	  (, user, pin, pin_len), ("user=%lu pin=%s", (unsigned long)user, pin ? "given" : "none")) \
	X(Logout, P11_LOSS_SESSION_UNDO, (), (), ("%s", "")) \
	X(FindObjectsInit, P11_LOSS_SESSION, (, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n), (, tmpl, n), \
	  ("attributes=%lu", (unsigned long)n)) \
	X(FindObjects, P11_LOSS_SESSION, (, CK_OBJECT_HANDLE_PTR objs, CK_ULONG max, CK_ULONG_PTR n), \
	  (, objs, max, n), ("room=%lu", (unsigned long)max)) \
	X(FindObjectsFinal, P11_LOSS_SESSION, (), (), ("%s", "")) \
	X(GetAttributeValue, P11_LOSS_SESSION, \
	  (, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n), (, obj, tmpl, n), \
	  ("object=%lu first=0x%lx attributes=%lu", (unsigned long)obj, \
	   n > 0 ? (unsigned long)tmpl[0].type : 0UL, (unsigned long)n)) \
	X(SetAttributeValue, P11_LOSS_SESSION, \
	  (, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n), (, obj, tmpl, n), \
	  ("object=%lu attributes=%lu", (unsigned long)obj, (unsigned long)n)) \
	X(CreateObject, P11_LOSS_SESSION, \
	  (, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR obj), (, tmpl, n, obj), \
	  ("attributes=%lu", (unsigned long)n)) \
	X(CopyObject, P11_LOSS_SESSION, \
	  (, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR copy), \
	  (, obj, tmpl, n, copy), ("object=%lu attributes=%lu", (unsigned long)obj, (unsigned long)n)) \
	X(DestroyObject, P11_LOSS_SESSION_UNDO, (, CK_OBJECT_HANDLE obj), (, obj), \
	  ("object=%lu", (unsigned long)obj)) \
	X(GenerateKey, P11_LOSS_SESSION, \
	  (, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR key), \
	  (, mech, tmpl, n, key), ("mech=0x%lx attributes=%lu", \
				   (unsigned long)mech->mechanism, (unsigned long)n)) \
	X(GenerateKeyPair, P11_LOSS_SESSION, \
	  (, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR pub, CK_ULONG n_pub, CK_ATTRIBUTE_PTR priv, \
	   CK_ULONG n_priv, CK_OBJECT_HANDLE_PTR pub_key, CK_OBJECT_HANDLE_PTR priv_key), \
	  (, mech, pub, n_pub, priv, n_priv, pub_key, priv_key), \
	  ("mech=0x%lx", (unsigned long)mech->mechanism)) \
	X(DeriveKey, P11_LOSS_SESSION, \
	  (, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE base, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, \
	   CK_OBJECT_HANDLE_PTR key), \
	  (, mech, base, tmpl, n, key), ("mech=0x%lx base=%lu attributes=%lu", \
				       (unsigned long)mech->mechanism, (unsigned long)base, \
				       (unsigned long)n)) \
	X(GenerateRandom, P11_LOSS_SESSION, (, CK_BYTE_PTR buf, CK_ULONG len), (, buf, len), \
	  ("length=%lu", (unsigned long)len)) \
	X(DigestInit, P11_LOSS_SESSION, (, CK_MECHANISM_PTR mech), (, mech), \
	  ("mech=0x%lx", (unsigned long)mech->mechanism)) \
	X(Digest, P11_LOSS_SESSION, \
	  (, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len), \
	  (, in, in_len, out, out_len), ("length=%lu", (unsigned long)in_len)) \
	X(WrapKey, P11_LOSS_SESSION, \
	  (, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key, \
	   CK_BYTE_PTR out, CK_ULONG_PTR out_len), \
	  (, mech, wrapping, key, out, out_len), \
	  ("mech=0x%lx wrapping=%lu key=%lu%s", (unsigned long)mech->mechanism, \
	   (unsigned long)wrapping, (unsigned long)key, out ? "" : " size")) \
	X(UnwrapKey, P11_LOSS_SESSION, \
	  (, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE unwrapping, CK_BYTE_PTR wrapped, \
	   CK_ULONG wrapped_len, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR key), \
	  (, mech, unwrapping, wrapped, wrapped_len, tmpl, n, key), \
	  ("mech=0x%lx unwrapping=%lu length=%lu attributes=%lu", (unsigned long)mech->mechanism, \
	   (unsigned long)unwrapping, (unsigned long)wrapped_len, (unsigned long)n)) \
	X(EncryptInit, P11_LOSS_SESSION, (, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key), \
	  (, mech, key), ("mech=0x%lx key=%lu", (unsigned long)mech->mechanism, (unsigned long)key)) \
	X(Encrypt, P11_LOSS_SESSION, \
	  (, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len), \
	  (, in, in_len, out, out_len), ("length=%lu", (unsigned long)in_len)) \
	X(DecryptInit, P11_LOSS_SESSION, (, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key), \
	  (, mech, key), ("mech=0x%lx key=%lu", (unsigned long)mech->mechanism, (unsigned long)key)) \
	X(Decrypt, P11_LOSS_SESSION, \
	  (, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len), \
	  (, in, in_len, out, out_len), ("length=%lu", (unsigned long)in_len)) \
	P11_HASH_CALLS(X)

/* Digests, keyed digests, CBC-MACs and signatures (hash objects,
 * token-sign.c). */
#define P11_HASH_CALLS(X) \
	X(EncryptUpdate, P11_LOSS_SESSION, \
	  (, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len), \
	  (, in, in_len, out, out_len), ("length=%lu", (unsigned long)in_len)) \
	X(EncryptFinal, P11_LOSS_SESSION, (, CK_BYTE_PTR out, CK_ULONG_PTR out_len), (, out, out_len), \
	  ("%s", out ? "" : "size")) \
	X(DigestUpdate, P11_LOSS_SESSION, (, CK_BYTE_PTR in, CK_ULONG in_len), (, in, in_len), \
	  ("length=%lu", (unsigned long)in_len)) \
	X(DigestKey, P11_LOSS_SESSION, (, CK_OBJECT_HANDLE key), (, key), \
	  ("key=%lu", (unsigned long)key)) \
	X(DigestFinal, P11_LOSS_SESSION, (, CK_BYTE_PTR out, CK_ULONG_PTR out_len), (, out, out_len), \
	  ("%s", out ? "" : "size")) \
	X(SignInit, P11_LOSS_SESSION, (, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key), \
	  (, mech, key), ("mech=0x%lx key=%lu", (unsigned long)mech->mechanism, (unsigned long)key)) \
	X(Sign, P11_LOSS_SESSION, \
	  (, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len), \
	  (, in, in_len, out, out_len), ("length=%lu", (unsigned long)in_len)) \
	X(SignUpdate, P11_LOSS_SESSION, (, CK_BYTE_PTR in, CK_ULONG in_len), (, in, in_len), \
	  ("length=%lu", (unsigned long)in_len)) \
	X(SignFinal, P11_LOSS_SESSION, (, CK_BYTE_PTR out, CK_ULONG_PTR out_len), (, out, out_len), \
	  ("%s", out ? "" : "size")) \
	X(VerifyInit, P11_LOSS_SESSION, (, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key), \
	  (, mech, key), ("mech=0x%lx key=%lu", (unsigned long)mech->mechanism, (unsigned long)key)) \
	X(Verify, P11_LOSS_SESSION, \
	  (, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR sig, CK_ULONG sig_len), \
	  (, in, in_len, sig, sig_len), ("length=%lu signature=%lu", (unsigned long)in_len, \
					   (unsigned long)sig_len)) \
	X(GetOperationState, P11_LOSS_SESSION, (, CK_BYTE_PTR state, CK_ULONG_PTR state_len), \
	  (, state, state_len), ("%s", state ? "" : "size")) \
	X(SetOperationState, P11_LOSS_SESSION, \
	  (, CK_BYTE_PTR state, CK_ULONG state_len, CK_OBJECT_HANDLE enc_key, \
	   CK_OBJECT_HANDLE auth_key), (, state, state_len, enc_key, auth_key), \
	  ("length=%lu", (unsigned long)state_len))

#define P11_UNPAREN(...) __VA_ARGS__

/* One identifier per table entry, P11_C_<Name>. */
#define P11_ID(name, loss, params, args, trace) P11_C_##name,
enum p11_id {
	P11_MODULE_CALLS(P11_ID)
	P11_SESSION_CALLS(P11_ID)
	P11_N_CALLS
};
#undef P11_ID

#define P11_DECLARE_MODULE_CALL(name, loss, params, args, trace) \
	CK_RV p11_##name(CK_FUNCTION_LIST *fl P11_UNPAREN params);
#define P11_DECLARE_SESSION_CALL(name, loss, params, args, trace) \
	CK_RV p11_##name(struct tsession *ts P11_UNPAREN params);
P11_MODULE_CALLS(P11_DECLARE_MODULE_CALL)
P11_SESSION_CALLS(P11_DECLARE_SESSION_CALL)
#undef P11_DECLARE_MODULE_CALL
#undef P11_DECLARE_SESSION_CALL

/* "C_Login" for P11_C_Login. */
const char *p11call_name(enum p11_id id);

/* True when rv says that a session, or the token under it, is gone: the
 * session may not go back to the pool, and the pool goes with it. */
bool p11call_rv_loses_session(CK_RV rv);

/* Calls between these two end an operation that a failure left open (a
 * search, an encryption), so that a pooled session stays usable: they are
 * traced and may mark their session lost, but their own failure does not
 * replace the calling thread's last failure, which explains the failure
 * being cleaned up after. Nested pairs are allowed. */
void p11call_cleanup_begin(void);
void p11call_cleanup_end(void);

/* A call capi11 does not make because the token refused it in this shape
 * before (token_cap, or a flag the token reports, such as
 * CKF_WRITE_PROTECTED): traced, and recorded as the calling thread's last
 * failure, so that Capi11GetLastPkcs11Error names the token's refusal
 * behind the Windows code. */
void p11call_note_refusal(enum p11_id id, CK_RV rv);

/* The calling thread's last failed PKCS#11 call since the last
 * p11call_api_end: false when none failed. */
bool p11call_last_failure(enum p11_id *id, CK_RV *rv);
/* A CryptoAPI entry point ends (api_finish): when it failed, the last
 * failure becomes what Capi11GetLastPkcs11Error reports; either way the
 * next entry point starts with none. */
void p11call_api_end(bool failed);
/* What Capi11GetLastPkcs11Error reports: the PKCS#11 call behind the
 * calling thread's most recent failed CryptoAPI call; false when none. */
bool p11call_reported_failure(enum p11_id *id, CK_RV *rv);

#endif
