/* Containers: finding, creating, listing and deleting the objects that make
 * one up. All PKCS#11 work goes through the token layer. */
#include "config.h"
#include "container.h"
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
static CK_RV container_objects(struct token *tok, CK_SESSION_HANDLE s, const char *name,
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
	rv = token_find(tok, s, tmpl, n, &by_label, &n_label);
	if (rv != CKR_OK || !name_as_id(name, id, &id_len)) {
		*objs = by_label;
		*count = n_label;
		return rv;
	}
	tmpl[0].type = CKA_ID;
	tmpl[0].pValue = id;
	tmpl[0].ulValueLen = id_len;
	rv = token_find(tok, s, tmpl, n, &by_id, &n_id);
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
		if (token_get_attributes(tok, s, by_id[i], &label, 1) == CKR_OK &&
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

CK_RV container_exists(struct token *tok, CK_SESSION_HANDLE s, const char *name, bool *exists)
{
	CK_OBJECT_HANDLE *objs = NULL;
	CK_ULONG n = 0;
	CK_RV rv = container_objects(tok, s, name, (CK_OBJECT_CLASS)-1, &objs, &n);

	if (rv == CKR_OK)
		*exists = n > 0;
	capi11_free(objs);
	return rv;
}

CK_RV container_create(struct token *tok, CK_SESSION_HANDLE s, const char *name)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	/* Public, so that the container can be listed and opened before login,
	 * as a Windows smart card CSP lists containers without a PIN. */
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, token_bool(true), sizeof(CK_BBOOL) },
		{ CKA_PRIVATE, token_bool(false), sizeof(CK_BBOOL) },
		{ CKA_LABEL, (void *)name, strlen(name) },
		{ CKA_APPLICATION, (void *)CONTAINER_APPLICATION, strlen(CONTAINER_APPLICATION) },
	};
	CK_OBJECT_HANDLE obj;

	return token_create(tok, s, tmpl, CAPI11_N_ELEMENTS(tmpl), &obj);
}

/* Whether an object may be destroyed with its container: the marker,
 * keys and certificates; other data objects that happen to share the
 * label are left alone. */
static CK_RV object_is_container_part(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
				      bool *part)
{
	CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
	char app[sizeof CONTAINER_APPLICATION];
	CK_ATTRIBUTE attrs[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_APPLICATION, app, sizeof app },
	};
	CK_RV rv;

	/* A failed read is the caller's failure: a deletion that skipped the
	 * object would report success and leave a key behind. */
	*part = false;
	rv = token_get_attributes(tok, s, obj, attrs, 1);
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
		rv = token_get_attributes(tok, s, obj, &attrs[1], 1);
		if (rv != CKR_OK)
			return rv;
		*part = attrs[1].ulValueLen == strlen(CONTAINER_APPLICATION) &&
			memcmp(app, CONTAINER_APPLICATION, attrs[1].ulValueLen) == 0;
		return CKR_OK;
	default:
		return CKR_OK;
	}
}

CK_RV container_delete(struct token *tok, CK_SESSION_HANDLE s, const char *name, bool *found)
{
	CK_OBJECT_HANDLE *objs = NULL;
	CK_ULONG n = 0, i;
	CK_RV rv = container_objects(tok, s, name, (CK_OBJECT_CLASS)-1, &objs, &n);

	*found = false;
	if (rv != CKR_OK)
		return rv;
	for (i = 0; i < n && rv == CKR_OK; i++) {
		bool part = false;

		rv = object_is_container_part(tok, s, objs[i], &part);
		if (rv != CKR_OK || !part)
			continue;
		*found = true;
		rv = token_destroy(tok, s, objs[i]);
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
static char *object_container_name(struct token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj)
{
	char label[CONTAINER_NAME_MAX + 1];
	unsigned char id[64];
	CK_ATTRIBUTE attrs[] = {
		{ CKA_LABEL, label, sizeof label - 1 },
		{ CKA_ID, id, sizeof id },
	};
	char *hex;
	CK_ULONG i;

	if (token_get_attributes(tok, s, obj, attrs, 2) != CKR_OK)
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

CK_RV container_list(struct token *tok, CK_SESSION_HANDLE s, char ***out, size_t *n_out)
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

		rv = token_find(tok, s, tmpl, cls == CKO_DATA ? 2 : 1, &objs, &n_objs);
		for (k = 0; rv == CKR_OK && k < n_objs; k++) {
			char *name = object_container_name(tok, s, objs[k]);
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

CK_RV container_find_key(struct token *tok, CK_SESSION_HANDLE s, const char *name, DWORD spec,
			 struct container_key *key)
{
	CK_OBJECT_HANDLE *privs = NULL, *pubs = NULL;
	CK_ULONG n_priv = 0, n_pub = 0, i;
	CK_RV rv;

	key->priv = CK_INVALID_HANDLE;
	key->pub = CK_INVALID_HANDLE;
	key->type = (CK_KEY_TYPE)-1;
	rv = container_objects(tok, s, name, CKO_PRIVATE_KEY, &privs, &n_priv);
	if (rv != CKR_OK)
		return rv;
	for (i = 0; i < n_priv; i++) {
		CK_BBOOL decrypt = CK_FALSE, unwrap = CK_FALSE;
		CK_KEY_TYPE type = (CK_KEY_TYPE)-1;
		CK_ATTRIBUTE attrs[] = {
			{ CKA_DECRYPT, &decrypt, sizeof decrypt },
			{ CKA_UNWRAP, &unwrap, sizeof unwrap },
			{ CKA_KEY_TYPE, &type, sizeof type },
		};
		DWORD found_spec;

		rv = token_get_attributes(tok, s, privs[i], attrs, CAPI11_N_ELEMENTS(attrs));
		if (rv != CKR_OK)
			goto out;
		/* One rule for capi11's own keys and everybody else's. */
		found_spec = (decrypt == CK_TRUE || unwrap == CK_TRUE) ? AT_KEYEXCHANGE : AT_SIGNATURE;
		if (found_spec != spec || type != CKK_RSA)
			continue;
		key->priv = privs[i];
		key->type = type;
		break;
	}
	if (key->priv == CK_INVALID_HANDLE)
		goto out;

	/* The public half shares the private key's CKA_ID. */
	{
		void *id = NULL;
		CK_ULONG id_len = 0;
		CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_ID, NULL, 0 },
		};

		/* A key whose ID the token hides has no public half to find; any
		 * other failure is the caller's, or the half would be missed. */
		rv = token_get_attribute_alloc(tok, s, key->priv, CKA_ID, &id, &id_len);
		if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID)
			rv = CKR_OK;
		if (rv != CKR_OK || id == NULL)
			goto out;
		tmpl[1].pValue = id;
		tmpl[1].ulValueLen = id_len;
		rv = token_find(tok, s, tmpl, 2, &pubs, &n_pub);
		capi11_free(id);
		if (rv == CKR_OK && n_pub > 0)
			key->pub = pubs[0];
	}
out:
	capi11_free(privs);
	capi11_free(pubs);
	return rv;
}

void container_key_destroy(struct token *tok, CK_SESSION_HANDLE s, const struct container_key *key)
{
	if (key->priv != CK_INVALID_HANDLE)
		token_destroy(tok, s, key->priv);
	if (key->pub != CK_INVALID_HANDLE)
		token_destroy(tok, s, key->pub);
}
