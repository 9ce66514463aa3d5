/* Containers that exist only in this process: CRYPT_NEWKEYSET on a token
 * that refuses capi11's marker object (a TPM that allows no public
 * CKO_DATA, a card that allows no CKO_DATA at all) holds the new, empty
 * container here until its first key is on the token; from then on the
 * container is its keys. An empty container of such a token lives as long
 * as the process (it is not written anywhere): another process does not
 * see it, and it is gone after exit, as the documentation says.
 *
 * Entries are keyed by token and name, so that one name on two tokens is
 * two containers. Thread-safe; the table is global and its lock is never
 * held across a PKCS#11 call. */
#ifndef CAPI11_CONTAINER_PENDING_H
#define CAPI11_CONTAINER_PENDING_H

#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>

struct token;

/* Holds name on tok; holding it twice is holding it once.
 * CKR_HOST_MEMORY when memory runs out. */
CK_RV container_pending_add(const struct token *tok, const char *name);
bool container_pending_has(const struct token *tok, const char *name);
/* Lets it go (its first key arrived, or CRYPT_DELETEKEYSET); whether it
 * was held. */
bool container_pending_remove(const struct token *tok, const char *name);
/* The names held on tok, capi11_malloc'd copies appended to the
 * capi11_malloc'd array *names of *n entries (grown as needed; *cap is its
 * size). CKR_HOST_MEMORY leaves what was appended so far for the caller to
 * free. */
CK_RV container_pending_append(const struct token *tok, char ***names, size_t *n, size_t *cap);

#endif
