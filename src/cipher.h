/* CryptEncrypt and CryptDecrypt: session keys in CBC or ECB mode with
 * PKCS#5 padding done here over the token's unpadded mechanisms, and the
 * RSA exchange key with PKCS#1 v1.5 or OAEP, byte-reversed as Windows
 * does. */
#ifndef CAPI11_CIPHER_H
#define CAPI11_CIPHER_H

#include "key.h"

#include <stdbool.h>
#include <wincrypt.h>

/* CryptEncrypt's work, with the key's context locked. data holds *len
 * bytes of plaintext in a buffer of cap bytes, and receives the
 * ciphertext in place; *len becomes its length. data NULL: *len becomes
 * the length the call would produce, computed without the token (cap is
 * ignored). flags: 0 or CRYPT_OAEP (RSA keys only).
 * Errors: ERROR_MORE_DATA (cap too small; *len holds the size needed),
 * NTE_BAD_DATA (a non-final call with a partial block), NTE_BAD_KEY (a
 * signature key, an exponent-of-one public key, a key that cannot
 * encrypt), NTE_BAD_LEN (RSA input longer than the padding allows),
 * NTE_BAD_FLAGS, NTE_NOT_SUPPORTED (the token lacks the mechanism), or a
 * mapped token failure. After a final call the chaining value is the
 * key's KP_IV again, success or not. */
DWORD cipher_encrypt_locked(struct key *key, bool final, BYTE *data, DWORD *len, DWORD cap);
DWORD cipher_encrypt_flags_locked(struct key *key, bool final, DWORD flags, BYTE *data,
				  DWORD *len, DWORD cap);

/* CryptDecrypt's work, with the key's context locked: decrypts *len bytes
 * of data in place; *len becomes the plaintext length (padding stripped
 * when final). data NULL: *len stays the upper bound (the input length).
 * Errors: NTE_BAD_DATA (partial block, bad padding, a failed token
 * decryption), NTE_BAD_LEN (final with no data), NTE_BAD_KEY,
 * NTE_BAD_FLAGS, NTE_NOT_SUPPORTED, or a mapped token failure. */
DWORD cipher_decrypt_locked(struct key *key, bool final, BYTE *data, DWORD *len);
DWORD cipher_decrypt_flags_locked(struct key *key, bool final, DWORD flags, BYTE *data,
				  DWORD *len);

/* Where an RSA public-key operation (CryptEncrypt, the SIMPLEBLOB wrap,
 * CryptVerifySignature) runs: on the key's own token when it offers the
 * mechanism for the use (CKF_ENCRYPT, CKF_WRAP or CKF_VERIFY), else - or with force_companion, after the
 * token refused it at use - on the context's companion token, the public
 * key copied there as a session object. On success ts is the session to
 * run on, pub the public object there and mech the mechanism;
 * cipher_rsa_public_route_end destroys a copy made for the call.
 * Errors: NTE_NOT_SUPPORTED (no token can; the companion is off or
 * missing), NTE_BAD_KEY (no public numbers), mapped token failures. */
struct rsa_public_route {
	struct tsession *ts;
	CK_OBJECT_HANDLE pub;
	bool made;
	CK_MECHANISM mech;
};
DWORD cipher_rsa_public_route_locked(struct key *key, bool oaep, CK_FLAGS use,
				     bool force_companion, struct rsa_public_route *r);
void cipher_rsa_public_route_end(struct rsa_public_route *r);
/* Copies the RSA public numbers of src (a public or private key object,
 * read on from) into a new public session object on to, able to wrap
 * (use CKF_WRAP), verify (CKF_VERIFY) or encrypt (CKF_ENCRYPT), never
 * trusted. Errors:
 * NTE_BAD_KEY (no public numbers), NTE_NOT_SUPPORTED (to refuses public
 * key objects), mapped token failures. */
DWORD cipher_rsa_public_copy(struct tsession *from, CK_OBJECT_HANDLE src, struct tsession *to,
			     CK_FLAGS use, CK_OBJECT_HANDLE *pub);

#endif
