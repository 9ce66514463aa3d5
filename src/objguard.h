/* Token objects outlive the PKCS#11 calls that use them.
 *
 * Key handles of different contexts hold their own struct keyobj for one
 * token object, and a context replacing its container's pair (CryptGenKey,
 * a PRIVATEKEYBLOB import), deleting the container or destroying a key
 * (CRYPT_DESTROYKEY, a session key's last handle, a context's release)
 * destroys the object while another thread may be inside C_Decrypt with
 * it: SoftHSM 2.6.1 then crashes in C_Decrypt. So every token-layer call
 * that names an object (attribute reads and writes, encrypt, decrypt,
 * wrap, unwrap) holds a use of it, per token and CK_OBJECT_HANDLE, for the
 * length of the call; C_DestroyObject waits until the object has no user,
 * and new users of an object being destroyed are told it is gone
 * (CKR_OBJECT_HANDLE_INVALID) without reaching the module. A caller whose
 * object went away between two calls gets the module's own clean
 * CKR_OBJECT_HANDLE_INVALID / CKR_KEY_HANDLE_INVALID.
 *
 * Deadlock: a use is held only inside one token-layer call, which takes
 * no context lock and waits for nothing of capi11's; so a destroyer, which
 * may hold its context lock while it waits, waits only for calls that
 * finish by themselves. The guard's lock is a leaf: nothing else is taken
 * while it is held. */
#ifndef CAPI11_OBJGUARD_H
#define CAPI11_OBJGUARD_H

#include <p11-kit/pkcs11.h>
#include <stdbool.h>

/* How many objects may be in use (or being destroyed) at once in the
 * process; one more use fails CKR_HOST_MEMORY. */
#define OBJGUARD_MAX 256

/* Takes a use of the object of token tok (any pointer naming the token).
 * CK_INVALID_HANDLE needs none: CKR_OK. CKR_OBJECT_HANDLE_INVALID when it
 * is being destroyed, CKR_HOST_MEMORY when the table is full. */
CK_RV objguard_enter(const void *tok, CK_OBJECT_HANDLE obj);
void objguard_leave(const void *tok, CK_OBJECT_HANDLE obj);

/* Marks the object as being destroyed and waits until it has no user
 * (and, with the table full, for a free slot); a destroy of it already
 * under way in another thread is waited for first. Then the caller
 * destroys it and calls objguard_destroy_end. Must not be called while
 * the thread holds a use. */
void objguard_destroy_begin(const void *tok, CK_OBJECT_HANDLE obj);
void objguard_destroy_end(const void *tok, CK_OBJECT_HANDLE obj);

#endif
