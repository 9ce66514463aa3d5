/* Containers: finding, creating, listing and deleting the objects that make
 * one up. All PKCS#11 work goes through the token layer. */
#include "config.h"
#include "container.h"
#include "container-pending.h"
#include "key-card.h"
#include "p11call.h"
#include "session.h"
#include "trace.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

/* A container name is either an object label or, for objects that have
 * none, the hex of their CKA_ID. Decodes the hex form into id. */
static bool name_as_id(const char *name, unsigned char *id, size_t *id_len)
{
	size_t n = strlen(name), i;

	if (n == 0 || n % 2 != 0 || n / 2 > 64)
		return false;
	for (i = 0; i < n; i += 2) {
		unsigned int v;
		if (sscanf(name + i, "%2x", &v) != 1 || !isxdigit((unsigned char)name[i]) ||
		    !isxdigit((unsigned char)name[i + 1]))
			return false;
		id[i / 2] = (unsigned char)v;
	}
	*id_len = n / 2;
	return true;
}

/* Finds objects of class cls (or any class when cls is (CK_ULONG)-1) that
 * belong to the container: labelled with its name, or unlabelled with an
 * ID whose hex is the name. */
static CK_RV container_objects(struct tsession *ts, const char *name,
			       CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE **objs, CK_ULONG *count)
{
	CK_ATTRIBUTE tmpl[2];
	CK_OBJECT_HANDLE *by_label = NULL, *by_id = NULL, *all;
	CK_ULONG n_label = 0, n_id = 0, n = 0, i;
	unsigned char id[64];
	size_t id_len;
	CK_RV rv;

	tmpl[n].type = CKA_LABEL;
	tmpl[n].pValue = (void *)name;
	tmpl[n++].ulValueLen = strlen(name);
	if (cls != (CK_OBJECT_CLASS)-1) {
		tmpl[n].type = CKA_CLASS;
		tmpl[n].pValue = &cls;
		tmpl[n++].ulValueLen = sizeof cls;
	}
	rv = token_find(ts, tmpl, n, &by_label, &n_label);
	if (rv != CKR_OK || !name_as_id(name, id, &id_len)) {
		*objs = by_label;
		*count = n_label;
		return rv;
	}
	tmpl[0].type = CKA_ID;
	tmpl[0].pValue = id;
	tmpl[0].ulValueLen = id_len;
	rv = token_find(ts, tmpl, n, &by_id, &n_id);
	if (rv != CKR_OK) {
		capi11_free(by_label);
		return rv;
	}
	all = capi11_calloc(n_label + n_id + 1, sizeof *all);
	if (all == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	memcpy(all, by_label, n_label * sizeof *all);
	n = n_label;
	for (i = 0; i < n_id; i++) {
		/* Only objects without a label of their own go by their ID. */
		CK_ATTRIBUTE label = { CKA_LABEL, NULL, 0 };
		if (token_get_attributes(ts, by_id[i], &label, 1) == CKR_OK &&
		    (label.ulValueLen == 0 || label.ulValueLen == CK_UNAVAILABLE_INFORMATION))
			all[n++] = by_id[i];
	}
	*objs = all;
	*count = n;
out:
	capi11_free(by_label);
	capi11_free(by_id);
	return rv;
}

CK_RV container_exists(struct tsession *ts, const char *name, bool *exists)
{
	CK_OBJECT_HANDLE *objs = NULL;
	CK_ATTRIBUTE tmpl = { CKA_LABEL, (void *)name, strlen(name) };
	unsigned char id[64];
	size_t id_len;
	bool found = false;
	CK_ULONG n = 0;
	CK_RV rv;

	/* A name that cannot be an ID's hex names objects by label only:
	 * whether one exists is one search for one handle. */
	if (!name_as_id(name, id, &id_len)) {
		rv = token_find_any(ts, &tmpl, 1, &found);
		n = found ? 1 : 0;
	} else {
		rv = container_objects(ts, name, (CK_OBJECT_CLASS)-1, &objs, &n);
	}
	if (rv == CKR_OK) {
		/* A container held in the process becomes its keys once one is
		 * on the token. */
		if (n > 0)
			container_pending_remove(ts->tok, name);
		*exists = n > 0 || container_pending_has(ts->tok, name);
	}
	capi11_free(objs);
	return rv;
}

/* Writes the marker, public or private, and tells the token's
 * capabilities what it said. */
static CK_RV marker_create(struct tsession *ts, const char *name, bool private)
{
	enum token_cap cap = private ? TOKEN_CAP_CREATE_DATA_PRIVATE : TOKEN_CAP_CREATE_DATA_PUBLIC;
	CK_OBJECT_CLASS cls = CKO_DATA;
	/* tpm2-pkcs11 takes a private data object only with a value. */
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, token_bool(true), sizeof(CK_BBOOL) },
		{ CKA_PRIVATE, token_bool(private), sizeof(CK_BBOOL) },
		{ CKA_LABEL, (void *)name, strlen(name) },
		{ CKA_APPLICATION, (void *)CONTAINER_APPLICATION, strlen(CONTAINER_APPLICATION) },
		{ CKA_VALUE, (void *)CONTAINER_APPLICATION, strlen(CONTAINER_APPLICATION) },
	};
	CK_OBJECT_HANDLE obj;
	CK_RV rv;

	/* Refused before: not asked again (the answer only decides the
	 * fallback, so its exact value does not matter). */
	if (token_cap(ts->tok, cap) == TOKEN_CAP_NO)
		return CKR_TEMPLATE_INCONSISTENT;
	rv = token_create(ts, tmpl, CAPI11_N_ELEMENTS(tmpl) - (private ? 0 : 1), &obj);
	token_cap_learn(ts->tok, cap, rv);
	return rv;
}

CK_RV container_create(struct tsession *ts, const char *name)
{
	CK_RV rv;

	/* Nothing can be stored on it: no marker, and no key to come. */
	if (token_is_write_protected(ts->tok)) {
		p11call_note_refusal(P11_C_CreateObject, CKR_TOKEN_WRITE_PROTECTED);
		return CKR_TOKEN_WRITE_PROTECTED;
	}
	/* Public, so that the container can be listed and opened before login,
	 * as a Windows smart card CSP lists containers without a PIN. */
	rv = marker_create(ts, name, false);
	/* A token that refuses public data objects (tpm2-pkcs11) may take a
	 * private one, seen after login only. */
	if (token_rv_is_refusal(rv) && rv != CKR_TOKEN_WRITE_PROTECTED &&
	    rv != CKR_SESSION_READ_ONLY && tsession_is_logged_in(ts))
		rv = marker_create(ts, name, true);
	if (rv == CKR_OK || !token_rv_is_refusal(rv) || rv == CKR_TOKEN_WRITE_PROTECTED ||
	    rv == CKR_SESSION_READ_ONLY)
		return rv;
	/* No data object at all (a PIV card, or a TPM before login): the
	 * container is held in this process until its first key. */
	trace_message("container \"%s\": the token keeps no marker object; held in this process "
		      "until its first key", name);
	return container_pending_add(ts->tok, name);
}

/* Whether an object may be destroyed with its container: the marker,
 * keys and certificates; other data objects that happen to share the
 * label are left alone. */
static CK_RV object_is_container_part(struct tsession *ts, CK_OBJECT_HANDLE obj,
				      bool *part)
{
	CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
	CK_ATTRIBUTE attr = { CKA_CLASS, &cls, sizeof cls };
	void *app = NULL;
	CK_ULONG len = 0;
	CK_RV rv;

	/* A failed read is the caller's failure: a deletion that skipped the
	 * object would report success and leave a key behind. */
	*part = false;
	rv = token_get_attributes(ts, obj, &attr, 1);
	if (rv != CKR_OK)
		return rv;
	switch (cls) {
	case CKO_PRIVATE_KEY:
	case CKO_PUBLIC_KEY:
	case CKO_SECRET_KEY:
	case CKO_CERTIFICATE:
		*part = true;
		return CKR_OK;
	case CKO_DATA:
		/* Read whole, whatever its length: another program's data object
		 * of the same label is not ours, and is told so by its
		 * application, not by a read that failed. */
		rv = token_get_attribute_alloc(ts, obj, CKA_APPLICATION, &app, &len);
		if (rv != CKR_OK)
			return rv;
		*part = (len == strlen(CONTAINER_APPLICATION) &&
			 memcmp(app, CONTAINER_APPLICATION, len) == 0) ||
			(len == strlen(CONTAINER_DH_Q_APPLICATION) &&
			 memcmp(app, CONTAINER_DH_Q_APPLICATION, len) == 0);
		capi11_free(app);
		return CKR_OK;
	default:
		return CKR_OK;
	}
}

CK_RV container_delete(struct tsession *ts, const char *name, bool *found)
{
	CK_OBJECT_HANDLE *objs = NULL;
	CK_ULONG n = 0, i;
	CK_RV rv = container_objects(ts, name, (CK_OBJECT_CLASS)-1, &objs, &n);

	*found = false;
	if (rv != CKR_OK)
		return rv;
	*found = container_pending_remove(ts->tok, name);
	/* A write-protected token keeps every object: refused before the
	 * first, so that no container is left half deleted. */
	if (n > 0 && token_is_write_protected(ts->tok)) {
		capi11_free(objs);
		p11call_note_refusal(P11_C_DestroyObject, CKR_TOKEN_WRITE_PROTECTED);
		return CKR_TOKEN_WRITE_PROTECTED;
	}
	for (i = 0; i < n && rv == CKR_OK; i++) {
		bool part = false;

		rv = object_is_container_part(ts, objs[i], &part);
		if (rv != CKR_OK || !part)
			continue;
		*found = true;
		rv = token_destroy(ts, objs[i]);
	}
	capi11_free(objs);
	return rv;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void container_list_free(char **names, size_t n)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		capi11_free(names[i]);
	capi11_free(names);
}

/* The name an object gives its container, or NULL when it belongs to none
 * (an unlabelled object without ID). */
static char *object_container_name(struct tsession *ts, CK_OBJECT_HANDLE obj)
{
	char label[CONTAINER_NAME_MAX + 1];
	unsigned char id[64];
	CK_ATTRIBUTE attrs[] = {
		{ CKA_LABEL, label, sizeof label - 1 },
		{ CKA_ID, id, sizeof id },
	};
	char *hex;
	CK_ULONG i;

	if (token_get_attributes(ts, obj, attrs, 2) != CKR_OK)
		return NULL;
	if (attrs[0].ulValueLen != CK_UNAVAILABLE_INFORMATION && attrs[0].ulValueLen > 0 &&
	    memchr(label, '\0', attrs[0].ulValueLen) == NULL)
		return capi11_strndup(label, attrs[0].ulValueLen);
	if (attrs[1].ulValueLen == CK_UNAVAILABLE_INFORMATION || attrs[1].ulValueLen == 0)
		return NULL;
	hex = capi11_malloc(attrs[1].ulValueLen * 2 + 1);
	if (hex == NULL)
		return NULL;
	for (i = 0; i < attrs[1].ulValueLen; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	return hex;
}

CK_RV container_list(struct tsession *ts, char ***out, size_t *n_out)
{
	static const CK_OBJECT_CLASS classes[] = { CKO_DATA, CKO_PRIVATE_KEY, CKO_PUBLIC_KEY };
	char **names = NULL, **grown;
	size_t n = 0, cap = 0, c, i, j;
	CK_RV rv = CKR_OK;

	for (c = 0; c < CAPI11_N_ELEMENTS(classes) && rv == CKR_OK; c++) {
		CK_OBJECT_CLASS cls = classes[c];
		CK_ATTRIBUTE tmpl[2] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_APPLICATION, (void *)CONTAINER_APPLICATION, strlen(CONTAINER_APPLICATION) },
		};
		CK_OBJECT_HANDLE *objs = NULL;
		CK_ULONG n_objs = 0, k;

		rv = token_find(ts, tmpl, cls == CKO_DATA ? 2 : 1, &objs, &n_objs);
		for (k = 0; rv == CKR_OK && k < n_objs; k++) {
			char *name = object_container_name(ts, objs[k]);
			if (name == NULL)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				grown = capi11_realloc(names, cap * sizeof *names);
				if (grown == NULL) {
					capi11_free(name);
					rv = CKR_HOST_MEMORY;
					break;
				}
				names = grown;
			}
			names[n++] = name;
		}
		capi11_free(objs);
	}
	if (rv == CKR_OK)
		rv = container_pending_append(ts->tok, &names, &n, &cap);
	if (rv != CKR_OK) {
		container_list_free(names, n);
		return rv;
	}
	if (n > 0)
		qsort(names, n, sizeof *names, compare_names);
	for (i = 0, j = 0; i < n; i++) {
		if (j > 0 && strcmp(names[j - 1], names[i]) == 0) {
			capi11_free(names[i]);
			continue;
		}
		names[j++] = names[i];
	}
	*out = names;
	*n_out = j;
	return CKR_OK;
}

/* Leading zero bytes carry no value: a number read from one object and
 * the same number read from another may differ in them. */
static void number_trim(const unsigned char **p, CK_ULONG *len)
{
	while (*len > 0 && **p == 0) {
		(*p)++;
		(*len)--;
	}
}

static bool numbers_equal(const void *a, CK_ULONG a_len, const void *b, CK_ULONG b_len)
{
	const unsigned char *x = a, *y = b;

	number_trim(&x, &a_len);
	number_trim(&y, &b_len);
	return a_len == b_len && (a_len == 0 || memcmp(x, y, a_len) == 0);
}

/* The public numbers of an RSA key object, capi11_malloc'd; an exponent
 * the token does not report is left NULL. */
struct rsa_numbers {
	void *modulus;
	CK_ULONG modulus_len;
	void *exponent;
	CK_ULONG exponent_len;
};

static void rsa_numbers_clear(struct rsa_numbers *n)
{
	capi11_free(n->modulus);
	capi11_free(n->exponent);
	memset(n, 0, sizeof *n);
}

/* For a DSA pair the numbers both halves show are the domain parameters:
 * the prime p stands in for the modulus, the generator g for the
 * exponent. */
static CK_RV rsa_numbers_read(struct tsession *ts, CK_OBJECT_HANDLE obj, CK_KEY_TYPE type,
			      struct rsa_numbers *n)
{
	CK_RV rv;

	memset(n, 0, sizeof *n);
	bool domain = type == CKK_DSA || type == CKK_DH;

	rv = token_get_attribute_alloc(ts, obj, domain ? CKA_PRIME : CKA_MODULUS,
				       &n->modulus, &n->modulus_len);
	if (rv != CKR_OK)
		return rv;
	rv = token_get_attribute_alloc(ts, obj, domain ? CKA_BASE : CKA_PUBLIC_EXPONENT,
				       &n->exponent, &n->exponent_len);
	if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID) {
		n->exponent = NULL;
		n->exponent_len = 0;
		rv = CKR_OK;
	}
	if (rv != CKR_OK)
		rsa_numbers_clear(n);
	return rv;
}

/* Whether a public key object carries the private key's numbers. The
 * modulus must be there and equal; the exponent too, unless the private
 * key does not tell its own (PKCS#11 makes it optional there): then the
 * modulus alone, which nobody without the private key can pair with
 * another private exponent, decides. */
static bool rsa_numbers_match(const struct rsa_numbers *priv, const struct rsa_numbers *pub)
{
	if (priv->modulus_len == 0 || pub->modulus_len == 0 ||
	    !numbers_equal(priv->modulus, priv->modulus_len, pub->modulus, pub->modulus_len))
		return false;
	if (priv->exponent == NULL || priv->exponent_len == 0)
		return true;
	return pub->exponent != NULL &&
	       numbers_equal(priv->exponent, priv->exponent_len, pub->exponent, pub->exponent_len);
}

/* Whether an object labelled label (label_len 0: no label) with this ID
 * is part of the container: labelled with its name, or unlabelled with an
 * ID whose hex is the name. name NULL stands for the unlabelled objects
 * that belong to no container. */
static bool object_in_container(const char *name, const void *label, CK_ULONG label_len,
				const void *id, CK_ULONG id_len)
{
	unsigned char want[64];
	size_t want_len;

	if (label_len > 0)
		return name != NULL && label_len == strlen(name) && memcmp(label, name, label_len) == 0;
	if (name == NULL)
		return true;
	return name_as_id(name, want, &want_len) && want_len == id_len &&
	       memcmp(want, id, id_len) == 0;
}

CK_RV container_find_with_id(struct tsession *ts, const char *name,
			     CK_OBJECT_CLASS cls, const void *id, CK_ULONG id_len,
			     CK_OBJECT_HANDLE **objs, CK_ULONG *count)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_OBJECT_HANDLE *found = NULL;
	CK_ULONG n = 0, kept = 0, i;
	CK_RV rv;

	*objs = NULL;
	*count = 0;
	rv = token_find(ts, tmpl, CAPI11_N_ELEMENTS(tmpl), &found, &n);
	for (i = 0; rv == CKR_OK && i < n; i++) {
		void *label = NULL;
		CK_ULONG label_len = 0;

		rv = token_get_attribute_alloc(ts, found[i], CKA_LABEL, &label, &label_len);
		if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID) {
			label_len = 0;
			rv = CKR_OK;
		} else if (rv == CKR_OBJECT_HANDLE_INVALID) {
			rv = CKR_OK;           /* destroyed since the search */
			continue;
		}
		if (rv == CKR_OK && object_in_container(name, label, label_len, id, id_len))
			found[kept++] = found[i];
		capi11_free(label);
	}
	if (rv != CKR_OK) {
		capi11_free(found);
		return rv;
	}
	*objs = found;
	*count = kept;
	return CKR_OK;
}

/* A private key of the spec asked for, as container_find_key weighs it. */
struct candidate {
	CK_OBJECT_HANDLE h;
	bool protected_by_pin;         /* CKA_PRIVATE */
	void *id;                      /* capi11_malloc'd, NULL: none */
	CK_ULONG id_len;
};

/* Several private keys of one spec in a container (two writers that raced
 * before capi11 locked container changes, or another tool) are told apart
 * by an order that does not depend on how the token lists its objects:
 * keys the token guards with the PIN (CKA_PRIVATE) first, because anybody
 * may add a public object without it; then the lowest CKA_ID, bytewise, a
 * shorter ID before the longer ones it starts; then the lowest handle. */
static int candidate_compare(const struct candidate *a, const struct candidate *b)
{
	CK_ULONG n = a->id_len < b->id_len ? a->id_len : b->id_len;
	int c;

	if (a->protected_by_pin != b->protected_by_pin)
		return a->protected_by_pin ? -1 : 1;
	c = n > 0 ? memcmp(a->id, b->id, n) : 0;
	if (c != 0)
		return c;
	if (a->id_len != b->id_len)
		return a->id_len < b->id_len ? -1 : 1;
	return a->h < b->h ? -1 : a->h > b->h ? 1 : 0;
}

/* An object's CKA_ID; one the token hides or lacks is no ID (NULL). */
static CK_RV object_id_read(struct tsession *ts, CK_OBJECT_HANDLE obj,
			    void **id, CK_ULONG *id_len)
{
	CK_RV rv = token_get_attribute_alloc(ts, obj, CKA_ID, id, id_len);

	if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	    (rv == CKR_OK && *id_len == 0)) {
		if (rv == CKR_OK)
			capi11_free(*id);
		*id = NULL;
		*id_len = 0;
		rv = CKR_OK;
	}
	return rv;
}

static void trace_pick(const char *name, DWORD spec, CK_ULONG n, const struct candidate *best)
{
	char hex[2 * 32 + 4];
	CK_ULONG i, shown = best->id_len < 32 ? best->id_len : 32;

	for (i = 0; i < shown; i++)
		snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)best->id)[i]);
	strcpy(hex + 2 * shown, best->id_len > shown ? "..." : "");
	trace_message("container \"%s\" holds %lu private keys of spec %lu; using CKA_ID %s "
		      "(PIN-protected first, then the lowest CKA_ID)", name, (unsigned long)n,
		      (unsigned long)spec, shown > 0 ? hex : "(none)");
}

/* The public half: an RSA public key of the same container with the
 * private key's CKA_ID and its numbers. Anyone may add public objects to
 * a token without the PIN, so neither the ID nor the label proves
 * anything: an object that does not carry the private key's modulus and
 * exponent is ignored, and without one the pair is the private key alone
 * (its public numbers serve exports and encryption). */
/* A DSA private key does not show y, so the numbers cannot tell a forged
 * public half from the real one: with a private key the PIN guards, the
 * public half must be guarded by it too (capi11 makes DSA public halves
 * CKA_PRIVATE when logged in), which only a PIN holder could have made. */
static CK_RV container_find_public(struct tsession *ts, const char *name, CK_KEY_TYPE type,
				   const struct candidate *priv, CK_OBJECT_HANDLE *out)
{
	struct rsa_numbers want, have;
	CK_OBJECT_HANDLE *pubs = NULL;
	CK_ULONG n_pub = 0, i;
	CK_RV rv;

	*out = CK_INVALID_HANDLE;
	rv = rsa_numbers_read(ts, priv->h, type, &want);
	if (rv != CKR_OK)
		return rv;
	rv = container_find_with_id(ts, name, CKO_PUBLIC_KEY, priv->id, priv->id_len, &pubs,
				    &n_pub);
	for (i = 0; rv == CKR_OK && i < n_pub && *out == CK_INVALID_HANDLE; i++) {
		CK_BBOOL pin_only = CK_FALSE;
		CK_ATTRIBUTE guard = { CKA_PRIVATE, &pin_only, sizeof pin_only };

		rv = rsa_numbers_read(ts, pubs[i], type, &have);
		if (rv == CKR_OK && (type == CKK_DSA || type == CKK_DH) && priv->protected_by_pin)
			rv = token_get_attributes(ts, pubs[i], &guard, 1);
		if (rv == CKR_OK && rsa_numbers_match(&want, &have) &&
		    ((type != CKK_DSA && type != CKK_DH) || !priv->protected_by_pin ||
		     pin_only == CK_TRUE))
			*out = pubs[i];
		rsa_numbers_clear(&have);
		/* Not an RSA key, or destroyed since the search: not the half. */
		if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
		    rv == CKR_OBJECT_HANDLE_INVALID)
			rv = CKR_OK;
	}
	if (rv == CKR_OK && n_pub > 0 && *out == CK_INVALID_HANDLE)
		trace_message("container \"%s\": %lu public key object(s) with the key's CKA_ID "
			      "do not carry its modulus and exponent; ignored", name,
			      (unsigned long)n_pub);
	rsa_numbers_clear(&want);
	capi11_free(pubs);
	return rv;
}

CK_RV container_find_key(struct tsession *ts, const char *name, DWORD spec,
			 struct container_key *key)
{
	return container_find_key_type(ts, name, spec, CKK_RSA, key);
}

CK_RV container_find_key_type(struct tsession *ts, const char *name, DWORD spec,
			      CK_KEY_TYPE want, struct container_key *key)
{
	struct candidate best = { CK_INVALID_HANDLE, false, NULL, 0 };
	CK_OBJECT_HANDLE *privs = NULL;
	CK_ULONG n_priv = 0, n_spec = 0, i;
	CK_RV rv;

	key->priv = CK_INVALID_HANDLE;
	key->pub = CK_INVALID_HANDLE;
	key->type = (CK_KEY_TYPE)-1;
	rv = container_objects(ts, name, CKO_PRIVATE_KEY, &privs, &n_priv);
	if (rv != CKR_OK)
		return rv;
	for (i = 0; i < n_priv; i++) {
		CK_BBOOL decrypt = CK_FALSE, unwrap = CK_FALSE, pin_only = CK_FALSE;
		CK_KEY_TYPE type = (CK_KEY_TYPE)-1;
		CK_ATTRIBUTE attrs[] = {
			{ CKA_DECRYPT, &decrypt, sizeof decrypt },
			{ CKA_UNWRAP, &unwrap, sizeof unwrap },
			{ CKA_KEY_TYPE, &type, sizeof type },
			{ CKA_PRIVATE, &pin_only, sizeof pin_only },
		};
		struct candidate c = { privs[i], false, NULL, 0 };
		DWORD found_spec;

		rv = token_get_attributes(ts, privs[i], attrs, CAPI11_N_ELEMENTS(attrs));
		if (rv == CKR_OK)
			rv = object_id_read(ts, privs[i], &c.id, &c.id_len);
		/* Destroyed since the search (another context replaced it). */
		if (rv == CKR_OBJECT_HANDLE_INVALID) {
			rv = CKR_OK;
			continue;
		}
		if (rv != CKR_OK)
			goto out;
		/* capi11's own keys by the spec their ID records, everybody
		 * else's by the card's layout or their usages (key-card.h). */
		/* A DH key agrees: it is an exchange key whatever else it says. */
		found_spec = key_spec_classify(ts->tok, c.id, c.id_len,
					       decrypt == CK_TRUE || unwrap == CK_TRUE ||
						       type == CKK_DH);
		c.protected_by_pin = pin_only == CK_TRUE;
		if (found_spec != spec || type != want) {
			capi11_free(c.id);
			continue;
		}
		n_spec++;
		if (best.h == CK_INVALID_HANDLE || candidate_compare(&c, &best) < 0) {
			capi11_free(best.id);
			best = c;
		} else {
			capi11_free(c.id);
		}
	}
	if (best.h == CK_INVALID_HANDLE)
		goto out;
	if (n_spec > 1)
		trace_pick(name, spec, n_spec, &best);
	key->priv = best.h;
	key->type = want;
	/* A key without an ID has no public half to tell apart. */
	if (best.id != NULL)
		rv = container_find_public(ts, name, want, &best, &key->pub);
out:
	capi11_free(best.id);
	capi11_free(privs);
	return rv;
}
