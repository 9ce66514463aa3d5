/* keyset-demo: a Windows CryptoAPI program, unchanged, on a PKCS#11 token.
 *
 *   keyset-demo <provider> [container]
 *
 * <provider> is a capi11 provider name or an RFC 7512 URI such as
 * "pkcs11:token=demo?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/path/pin".
 * It creates the container, generates an exchange and a signature key pair
 * and an AES-256 session key, prints what the provider reports about them,
 * lists the token's containers and deletes the container again. */
#include <wincrypt.h>

#include <stdio.h>
#include <string.h>

static int fail(const char *what)
{
	fprintf(stderr, "keyset-demo: %s failed: 0x%08x\n", what, (unsigned)GetLastError());
	return 1;
}

static DWORD key_dword(HCRYPTKEY key, DWORD param)
{
	DWORD value = 0, len = sizeof value;

	if (!CryptGetKeyParam(key, param, (BYTE *)&value, &len, 0))
		return 0;
	return value;
}

static void show_key(const char *what, HCRYPTKEY key)
{
	DWORD perms = key_dword(key, KP_PERMISSIONS);

	printf("%-22s ALG_ID 0x%04x, %u bits, block %u bits, %sexportable\n", what,
	       (unsigned)key_dword(key, KP_ALGID), (unsigned)key_dword(key, KP_KEYLEN),
	       (unsigned)key_dword(key, KP_BLOCKLEN), (perms & CRYPT_EXPORT) ? "" : "not ");
}

int main(int argc, char **argv)
{
	const char *provider = argc > 1 ? argv[1] : NULL;
	const char *container = argc > 2 ? argv[2] : "keyset-demo";
	HCRYPTPROV prov = 0;
	HCRYPTKEY exchange = 0, signature = 0, session = 0, found = 0;
	char name[256], reader[256];
	DWORD len, flags;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: keyset-demo <provider name or pkcs11: URI> [container]\n");
		return 2;
	}
	if (!CryptAcquireContext(&prov, container, provider, PROV_RSA_AES, CRYPT_NEWKEYSET))
		return fail("CryptAcquireContext(CRYPT_NEWKEYSET)");
	len = sizeof reader;
	if (CryptGetProvParam(prov, PP_SMARTCARD_READER, (BYTE *)reader, &len, 0))
		printf("token reader:          %s\n", reader);
	printf("container:             %s\n", container);

	if (!CryptGenKey(prov, AT_KEYEXCHANGE, (2048 << 16) | CRYPT_EXPORTABLE, &exchange))
		return fail("CryptGenKey(AT_KEYEXCHANGE)");
	show_key("exchange key pair:", exchange);
	if (!CryptGenKey(prov, AT_SIGNATURE, 2048 << 16, &signature))
		return fail("CryptGenKey(AT_SIGNATURE)");
	show_key("signature key pair:", signature);
	if (!CryptGenKey(prov, CALG_AES_256, CRYPT_EXPORTABLE, &session))
		return fail("CryptGenKey(CALG_AES_256)");
	show_key("AES-256 session key:", session);
	if (!CryptGetUserKey(prov, AT_KEYEXCHANGE, &found))
		return fail("CryptGetUserKey");
	show_key("found again:", found);

	printf("containers on the token:\n");
	for (flags = CRYPT_FIRST;; flags = 0) {
		len = sizeof name;
		if (!CryptGetProvParam(prov, PP_ENUMCONTAINERS, (BYTE *)name, &len, flags))
			break;
		printf("  %s\n", name);
	}
	if (GetLastError() != ERROR_NO_MORE_ITEMS)
		return fail("CryptGetProvParam(PP_ENUMCONTAINERS)");

	CryptDestroyKey(found);
	CryptDestroyKey(session);
	CryptDestroyKey(signature);
	CryptDestroyKey(exchange);
	if (!CryptReleaseContext(prov, 0))
		return fail("CryptReleaseContext");
	if (!CryptAcquireContext(&prov, container, provider, PROV_RSA_AES, CRYPT_DELETEKEYSET))
		return fail("CryptAcquireContext(CRYPT_DELETEKEYSET)");
	printf("container deleted\n");
	return 0;
}
