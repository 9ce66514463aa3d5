/* Work on a token session: objects and cryptography, one-shot, each
 * through the call table (p11call.h) with the locks a token needs: the
 * object guard (objguard.h) around every call naming an object, and on
 * tokens with the QUIRK_STORE_RACE quirk the token's store lock around
 * searches, creations and destructions. Everything here returns CK_RV. */
#ifndef CAPI11_TOKEN_OPS_H
#define CAPI11_TOKEN_OPS_H

#include "session.h"

#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>

/* Pointers to a CK_TRUE or CK_FALSE that lives forever, for templates. */
CK_BBOOL *token_bool(bool value);

/* Objects. token_find returns a capi11_malloc'd array (capi11_free it). */
CK_RV token_find(struct tsession *ts, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		 CK_OBJECT_HANDLE **objs, CK_ULONG *count);
/* Whether any object matches: one C_FindObjects for one handle, where
 * token_find asks until the token answers none (a second call) and
 * allocates the list. */
CK_RV token_find_any(struct tsession *ts, CK_ATTRIBUTE *tmpl, CK_ULONG n, bool *found);
/* Fills the template; an attribute the token hides (sensitive) or lacks
 * comes back with ulValueLen CK_UNAVAILABLE_INFORMATION and CKR_OK when
 * the others are filled (only CKR_ATTRIBUTE_SENSITIVE/TYPE_INVALID are
 * swallowed). Lengths larger than a caller's buffer are refused. */
CK_RV token_get_attributes(struct tsession *ts, CK_OBJECT_HANDLE obj,
			   CK_ATTRIBUTE *tmpl, CK_ULONG n);
/* Reads one variable-length attribute into a capi11_malloc'd buffer. */
CK_RV token_get_attribute_alloc(struct tsession *ts, CK_OBJECT_HANDLE obj,
				CK_ATTRIBUTE_TYPE type, void **value, CK_ULONG *len);
/* A boolean attribute; one the token hides or lacks leaves *value as the
 * caller set it. */
CK_RV token_get_bool(struct tsession *ts, CK_OBJECT_HANDLE obj,
		     CK_ATTRIBUTE_TYPE type, bool *value);
CK_RV token_create(struct tsession *ts, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		   CK_OBJECT_HANDLE *obj);
CK_RV token_destroy(struct tsession *ts, CK_OBJECT_HANDLE obj);
/* C_SetAttributeValue on an object. */
CK_RV token_set_attributes(struct tsession *ts, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *tmpl,
			   CK_ULONG n);
CK_RV token_generate_key(struct tsession *ts, CK_MECHANISM_TYPE mech,
			 CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *key);
CK_RV token_generate_key_pair(struct tsession *ts, CK_MECHANISM_TYPE mech,
			      CK_ATTRIBUTE *pub, CK_ULONG n_pub, CK_ATTRIBUTE *priv, CK_ULONG n_priv,
			      CK_OBJECT_HANDLE *pub_key, CK_OBJECT_HANDLE *priv_key);
/* C_DeriveKey of base with mech (its parameter included). */
CK_RV token_derive_key(struct tsession *ts, CK_MECHANISM *mech, CK_OBJECT_HANDLE base,
		       CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *key);
CK_RV token_random(struct tsession *ts, unsigned char *buf, size_t len);
/* One-shot C_DigestInit + C_Digest; out must hold the whole digest, so
 * that no operation stays active on the session. */
CK_RV token_digest(struct tsession *ts, CK_MECHANISM_TYPE mech,
		   const unsigned char *in, CK_ULONG in_len, unsigned char *out, CK_ULONG *out_len);

/* C_WrapKey / C_UnwrapKey. out NULL asks for the length. */
CK_RV token_wrap_key(struct tsession *ts, CK_MECHANISM *mech,
		     CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key, unsigned char *out,
		     CK_ULONG *out_len);
CK_RV token_unwrap_key(struct tsession *ts, CK_MECHANISM *mech,
		       CK_OBJECT_HANDLE unwrapping, const unsigned char *wrapped,
		       CK_ULONG wrapped_len, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		       CK_OBJECT_HANDLE *key);

/* One-shot C_EncryptInit + C_Encrypt / C_DecryptInit + C_Decrypt. in and
 * out may be the same buffer; *out_len is out's room and becomes the
 * length written. Nothing stays active on the session afterwards as long
 * as out is large enough. */
CK_RV token_encrypt(struct tsession *ts, CK_MECHANISM *mech,
		    CK_OBJECT_HANDLE key, const unsigned char *in, CK_ULONG in_len,
		    unsigned char *out, CK_ULONG *out_len);
CK_RV token_decrypt(struct tsession *ts, CK_MECHANISM *mech,
		    CK_OBJECT_HANDLE key, const unsigned char *in, CK_ULONG in_len,
		    unsigned char *out, CK_ULONG *out_len);

#endif
