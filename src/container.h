/* Containers on a token: the set of objects whose CKA_LABEL is the
 * container's name. capi11 marks the containers it creates with a CKO_DATA
 * object (CKA_APPLICATION "capi11"), so that an empty container exists;
 * keys made by other tools form containers without a marker, named by
 * their CKA_LABEL, or by the hex of their CKA_ID when they have no label. */
#ifndef CAPI11_CONTAINER_H
#define CAPI11_CONTAINER_H

#include "token-ops.h"
#include <wincrypt.h>

#define CONTAINER_APPLICATION "capi11"
/* The CKA_APPLICATION of the data object that keeps the q of a stored DH
 * pair's group (dh.h): part of the container, destroyed with it. */
#define CONTAINER_DH_Q_APPLICATION "capi11 DH subgroup order q"
/* CKA_LABEL is free text, but a CryptoAPI container name is a C string
 * that also travels through PP_ENUMCONTAINERS: keep it bounded. */
#define CONTAINER_NAME_MAX 255

/* A key pair found in a container. pub may be CK_INVALID_HANDLE: a
 * private key without a public object that carries its numbers. */
struct container_key {
	CK_OBJECT_HANDLE priv;
	CK_OBJECT_HANDLE pub;
	CK_KEY_TYPE type;
};

/* Whether anything of the container is visible in this session (objects
 * marked CKA_PRIVATE show only after login). */
CK_RV container_exists(struct tsession *ts, const char *name, bool *exists);
CK_RV container_create(struct tsession *ts, const char *name);
/* Destroys the marker and every key and certificate of the container;
 * *found tells whether there was anything to destroy. */
CK_RV container_delete(struct tsession *ts, const char *name, bool *found);
/* Names of every container visible in the session, sorted, without
 * duplicates; a capi11_malloc'd array of capi11_malloc'd strings. */
CK_RV container_list(struct tsession *ts, char ***names, size_t *n);
void container_list_free(char **names, size_t n);

/* Objects of class cls with this CKA_ID that belong to the container
 * (labelled with its name, or unlabelled with an ID whose hex is the
 * name; name NULL: unlabelled objects). Every lookup of a key's companion
 * objects (public key, certificate) goes through here: an object with the
 * same ID elsewhere on the token is another container's, or planted.
 * A capi11_malloc'd array. */
CK_RV container_find_with_id(struct tsession *ts, const char *name,
			     CK_OBJECT_CLASS cls, const void *id, CK_ULONG id_len,
			     CK_OBJECT_HANDLE **objs, CK_ULONG *count);

/* The container's key of that spec (AT_KEYEXCHANGE or AT_SIGNATURE):
 * a private key that may decrypt or unwrap is the exchange key, any other
 * the signature key (SPEC section 3), so keys made by other tools are
 * classified by the same rule. Several of one spec: the PIN-protected
 * (CKA_PRIVATE) one first, then the lowest CKA_ID bytewise, then the
 * lowest handle; traced. The public half is the container's public key
 * with the private key's CKA_ID, modulus and exponent, else
 * CK_INVALID_HANDLE. CKR_OK with both handles invalid: no key. */
CK_RV container_find_key(struct tsession *ts, const char *name, DWORD spec,
			 struct container_key *key);
/* The same for a pair of key type type (CKK_RSA or CKK_DSA): the pairs of
 * one spec but another type are not seen. container_find_key is CKK_RSA. */
CK_RV container_find_key_type(struct tsession *ts, const char *name, DWORD spec,
			      CK_KEY_TYPE type, struct container_key *key);

#endif
