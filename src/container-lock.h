/* Container changes are serialised across processes (and threads): two
 * processes running CryptGenKey on one container each found no pair, or
 * the same old one, and left two exchange pairs behind. Creating and
 * deleting a container, generating or importing a pair into a slot and
 * storing a certificate hold an advisory lock (flock(2)) on a file named
 * for the token and the container, in the user's runtime directory:
 * $XDG_RUNTIME_DIR/capi11/, or /tmp/capi11-<uid>/ when XDG_RUNTIME_DIR is
 * unset. The directory is made 0700 and refused when someone else owns it
 * or others may write to it. File names are the hex of the token's serial
 * (its label when it has none) and of the container name, split into
 * directories when longer than a file name may be: no hash, so no two
 * containers share a lock. Lock files are left in place (removing one
 * while another process waits on it would let a third take a new one).
 *
 * Take the lock after logging in: it is never held across a PIN prompt.
 * A lock is per open file, so threads of one process exclude each other
 * too; a child forked while a lock is held closes its copy. */
#ifndef CAPI11_CONTAINER_LOCK_H
#define CAPI11_CONTAINER_LOCK_H

#include "token.h"

#include <wincrypt.h>

struct container_lock {
	int fd;                        /* -1: not held */
};

/* Blocks until the container's lock is held. Errors: NTE_FAIL when the
 * lock directory is unsafe or cannot be made (traced with the reason),
 * NTE_NO_MEMORY. */
DWORD container_lock_take(struct token *tok, const char *container, struct container_lock *lock);
/* Releases a lock taken above; one not held (fd -1) is left alone. */
void container_lock_release(struct container_lock *lock);

#endif
