/* unicode-demo: a Windows CryptoAPI program built with UNICODE defined,
 * unchanged, on a PKCS#11 token. Compile it with -DUNICODE -fshort-wchar,
 * so that TEXT("") literals are UTF-16 as on Windows.
 *
 *   unicode-demo <pkcs11: URI or provider name> [--keep]
 *
 * It creates a container whose name has non-ASCII characters (one outside
 * the Basic Multilingual Plane, a surrogate pair in UTF-16), signs with a
 * new signature key and checks the signature, prints the container name as
 * the provider reports it (PP_CONTAINER, a byte string: UTF-8 here), counts
 * the providers CryptEnumProviders lists, and deletes the container again
 * unless --keep is given. */
#include <wincrypt.h>

#include <stdio.h>
#include <string.h>

static const TCHAR container[] = TEXT("Schl\u00fcssel \u20ac \U0001F511");

static int fail(const char *what)
{
	fprintf(stderr, "unicode-demo: %s failed: 0x%08x\n", what, (unsigned)GetLastError());
	return 1;
}

int main(int argc, char **argv)
{
	TCHAR provider[1024];
	HCRYPTPROV prov = 0;
	HCRYPTKEY key = 0;
	HCRYPTHASH hash = 0;
	BYTE sig[1024];
	char name[512];
	DWORD len, i, type, providers = 0;
	size_t n;

	if (argc < 2 || strlen(argv[1]) >= sizeof provider / sizeof provider[0]) {
		fprintf(stderr, "usage: unicode-demo <provider name or pkcs11: URI> [--keep]\n");
		return 2;
	}
	/* The provider string as a Windows program holds it: TCHARs. */
	for (n = 0; argv[1][n] != '\0'; n++)
		provider[n] = (TCHAR)(unsigned char)argv[1][n];
	provider[n] = 0;

	if (!CryptAcquireContext(&prov, container, provider, PROV_RSA_FULL, CRYPT_NEWKEYSET))
		return fail("CryptAcquireContext(CRYPT_NEWKEYSET)");
	if (!CryptGenKey(prov, AT_SIGNATURE, 1024 << 16, &key))
		return fail("CryptGenKey(AT_SIGNATURE)");
	if (!CryptCreateHash(prov, CALG_SHA_256, 0, 0, &hash) ||
	    !CryptHashData(hash, (const BYTE *)"unicode-demo", 12, 0))
		return fail("hashing");
	len = sizeof sig;
	if (!CryptSignHash(hash, AT_SIGNATURE, NULL, 0, sig, &len))
		return fail("CryptSignHash");
	if (!CryptVerifySignature(hash, sig, len, key, NULL, 0))
		return fail("CryptVerifySignature");
	printf("signature: %u bytes, verified\n", (unsigned)len);
	CryptDestroyHash(hash);
	CryptDestroyKey(key);

	len = sizeof name;
	if (!CryptGetProvParam(prov, PP_CONTAINER, (BYTE *)name, &len, 0))
		return fail("CryptGetProvParam(PP_CONTAINER)");
	printf("container: %s\n", name);

	for (i = 0;; i++) {
		TCHAR pname[512];

		len = sizeof pname;
		if (!CryptEnumProviders(i, NULL, 0, &type, pname, &len))
			break;
		/* pcbProvName counts bytes: whole TCHARs, the NUL included. */
		if (len % sizeof(TCHAR) != 0 || pname[len / sizeof(TCHAR) - 1] != 0)
			return fail("CryptEnumProviders length");
		providers++;
	}
	if (GetLastError() != ERROR_NO_MORE_ITEMS)
		return fail("CryptEnumProviders");
	printf("providers: %u\n", (unsigned)providers);

	if (!CryptReleaseContext(prov, 0))
		return fail("CryptReleaseContext");
	if (argc > 2 && strcmp(argv[2], "--keep") == 0)
		return 0;
	if (!CryptAcquireContext(&prov, container, provider, PROV_RSA_FULL, CRYPT_DELETEKEYSET))
		return fail("CryptAcquireContext(CRYPT_DELETEKEYSET)");
	printf("deleted\n");
	return 0;
}
