/* Key handles from files and algorithms, shared by export, import, wrap and
 * demo. */
#include "config.h"
#include "keys.h"
#include "le32.h"
#include "names.h"
#include "tool.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>

#define KEY_FILE_MAX (1u << 20)

bool keys_import_file(HCRYPTPROV prov, const char *path, HCRYPTKEY unwrap, DWORD flags,
		      ALG_ID alg, HCRYPTKEY *key, DWORD *type)
{
	unsigned char *data;
	BYTE *blob = NULL;
	DWORD blob_len = 0;
	size_t len;
	bool ok = false;

	data = tool_read_file(path, KEY_FILE_MAX, &len);
	if (data == NULL)
		return false;
	if (pem_is_blob(data, len)) {
		if (len > 0xFFFFFFFFu)
			goto out;
		if (!CryptImportKey(prov, data, (DWORD)len, unwrap, flags, key)) {
			tool_fail(GetLastError(), "import of the %s in %s",
				  names_blob_type(data[0]), path);
			goto out;
		}
		if (type != NULL)
			*type = data[0];
		ok = true;
		goto out;
	}
	if (!pem_to_blob(data, len, alg, false, &blob, &blob_len))
		goto out;
	if (type != NULL)
		*type = blob[0];
	if (!CryptImportKey(prov, blob, blob_len, 0, flags, key)) {
		tool_fail(GetLastError(), "import of the key in %s", path);
		goto out;
	}
	ok = true;
out:
	if (blob != NULL)
		tool_free_secret(blob, blob_len);
	tool_free_secret(data, KEY_FILE_MAX + 1);
	return ok;
}

bool keys_import_recipient(HCRYPTPROV prov, const char *path, HCRYPTKEY *key)
{
	unsigned char *data;
	BYTE *blob = NULL;
	DWORD blob_len = 0;
	size_t len;
	bool ok = false;

	data = tool_read_file(path, KEY_FILE_MAX, &len);
	if (data == NULL)
		return false;
	if (pem_is_blob(data, len)) {
		if (data[0] != PUBLICKEYBLOB) {
			tool_error("%s is a %s; a recipient is a PUBLICKEYBLOB or a PEM/DER public "
				   "key", path, names_blob_type(data[0]));
			goto out;
		}
		ok = CryptImportKey(prov, data, (DWORD)len, 0, 0, key);
	} else {
		if (!pem_to_blob(data, len, CALG_RSA_KEYX, true, &blob, &blob_len))
			goto out;
		ok = CryptImportKey(prov, blob, blob_len, 0, 0, key);
	}
	if (!ok)
		tool_fail(GetLastError(), "import of the recipient key %s", path);
out:
	if (blob != NULL)
		tool_free_secret(blob, blob_len);
	tool_free_secret(data, KEY_FILE_MAX + 1);
	return ok;
}

bool keys_session_new(HCRYPTPROV prov, ALG_ID alg, HCRYPTKEY *key)
{
	if (CryptGenKey(prov, alg, CRYPT_EXPORTABLE, key))
		return true;
	tool_fail(GetLastError(), "generating a %s session key", names_alg(alg));
	return false;
}

bool keys_parse_format(const char *s, enum pem_format *format)
{
	if (strcasecmp(s, "blob") == 0)
		*format = PEM_FORMAT_BLOB;
	else if (strcasecmp(s, "pem") == 0)
		*format = PEM_FORMAT_PEM;
	else if (strcasecmp(s, "der") == 0)
		*format = PEM_FORMAT_DER;
	else
		return false;
	return true;
}

bool keys_write_blob(const BYTE *blob, DWORD len, enum pem_format format, const char *path)
{
	/* Everything but a public key holds a secret or a wrapped secret. */
	bool secret = blob[0] != PUBLICKEYBLOB;
	unsigned char *encoded = NULL;
	size_t encoded_len = 0;
	bool ok;

	if (format == PEM_FORMAT_BLOB)
		return tool_write_file(path, blob, len, secret);
	if (!pem_from_blob(blob, len, format, &encoded, &encoded_len))
		return false;
	ok = tool_write_file(path, encoded, encoded_len, secret);
	tool_free_secret(encoded, encoded_len);
	return ok;
}

DWORD keys_wrapping_flags(const char *path, DWORD blob_type)
{
	unsigned char head[8];
	DWORD alg;
	size_t n = 0;
	FILE *f;

	if (blob_type != SYMMETRICWRAPKEYBLOB && blob_type != OPAQUEKEYBLOB)
		return 0;
	f = strcmp(path, "-") == 0 ? NULL : fopen(path, "rb");
	if (f != NULL) {
		n = fread(head, 1, sizeof head, f);
		fclose(f);
	}
	if (n != sizeof head || head[0] != PLAINTEXTKEYBLOB)
		return CRYPT_KEK;
	alg = le32_get(head + 4);
	/* CRYPT_KEK is for AES keys only: a 3DES key wraps a 3DES key in RFC
	 * 3217's form as an ordinary session key. */
	return alg == CALG_AES_128 || alg == CALG_AES_192 || alg == CALG_AES_256 ? CRYPT_KEK : 0;
}

DWORD keys_file_prov_type(const char *path)
{
	unsigned char *data;
	size_t len;
	DWORD type = 0;
	ALG_ID alg;

	/* Standard input is read once, by the import; a file that cannot be
	 * read is reported there, not twice. */
	if (strcmp(path, "-") == 0 || access(path, R_OK) != 0)
		return 0;
	data = tool_read_file(path, KEY_FILE_MAX, &len);
	if (data == NULL)
		return 0;
	if (pem_is_blob(data, len)) {
		alg = le32_get(data + 4);
		if (alg == CALG_DSS_SIGN || alg == CALG_DH_SF || alg == CALG_DH_EPHEM)
			type = PROV_DSS_DH;
	} else if (pem_is_dsa(data, len)) {
		type = PROV_DSS_DH;
	}
	tool_free_secret(data, KEY_FILE_MAX + 1);
	return type;
}
