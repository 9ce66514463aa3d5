/* csptest.exe: a Windows CryptoAPI program, built with mingw against
 * mingw's own <wincrypt.h> and advapi32, that make wine-check runs under
 * Wine, once through the capi11 CSP and once through Wine's rsaenh.
 *
 *   csptest make    PROVIDER TYPE CONTAINER DIR
 *       creates CONTAINER, generates an exchange and a signature pair and
 *       session keys, checks encryption, signatures and every blob export
 *       inside the provider, and leaves in DIR what a partner needs: the
 *       public keys, a signed message, and the exported blobs.
 *   csptest send    PROVIDER TYPE DIR [private]
 *       in a verify context: imports the maker's public keys, checks its
 *       signature, makes a session key, sends it as a SIMPLEBLOB under the
 *       maker's exchange key with a message encrypted under it, and a
 *       message encrypted with the maker's RSA key itself; opens the
 *       maker's PLAINTEXTKEYBLOB and data under it, and with "private" its
 *       PRIVATEKEYBLOB encrypted under that key.
 *   csptest receive PROVIDER TYPE CONTAINER DIR
 *       opens CONTAINER again, imports the SIMPLEBLOB with the exchange
 *       key and decrypts both messages.
 *   csptest imptype PROVIDER TYPE
 *       prints PP_IMPTYPE of a verify context: "hardware" (a token) or
 *       "software" (rsaenh), and PP_NAME.
 *   csptest errors  PROVIDER TYPE
 *       checks that failures carry Windows' error codes through the CSP.
 *   csptest pin     PROVIDER TYPE CONTAINER
 *       logs in with CryptSetProvParam(PP_KEYEXCHANGE_PIN), a PIN beyond
 *       ASCII, on a token with no other PIN source.
 *   csptest nolib   PROVIDER TYPE
 *       expects NTE_PROVIDER_DLL_FAIL: the CSP cannot load libcapi11.
 *   csptest wide    PROVIDER TYPE make|delete
 *       makes (or deletes) a container with a name beyond ASCII, given in
 *       UTF-16, and reads the name back in the ANSI code page.
 *
 * PROVIDER "-" is NULL: the default provider of TYPE. Each failed check
 * prints a line; the exit status is 0 only when every check passed. */
#include <windows.h>
#include <wincrypt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static int checks;

#define CHECK(cond, ...) check_at((cond) != 0, __LINE__, __VA_ARGS__)

static int check_at(int ok, int line, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (ok)
		return 1;
	failures++;
	fprintf(stderr, "csptest:%d: FAILED (last error 0x%08lx): ", line,
		(unsigned long)GetLastError());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 0;
}

static const char message[] = "capi11 under Wine: the token keeps the keys.";

static char *path_in(const char *dir, const char *name)
{
	static char buf[4][MAX_PATH];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, MAX_PATH, "%s\\%s", dir, name);
	return p;
}

static int write_file(const char *dir, const char *name, const BYTE *data, DWORD len)
{
	FILE *f = fopen(path_in(dir, name), "wb");
	int ok = f != NULL && fwrite(data, 1, len, f) == len;

	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return CHECK(ok, "cannot write %s", name);
}

static BYTE *read_file(const char *dir, const char *name, DWORD *len)
{
	FILE *f = fopen(path_in(dir, name), "rb");
	BYTE *data = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || n > 65536 ||
	    fseek(f, 0, SEEK_SET) != 0 || (data = malloc((size_t)n)) == NULL ||
	    fread(data, 1, (size_t)n, f) != (size_t)n) {
		CHECK(0, "cannot read %s", name);
		free(data);
		data = NULL;
	} else {
		*len = (DWORD)n;
	}
	if (f != NULL)
		fclose(f);
	return data;
}

/* Exports hKey as dwType under hExp into a new buffer (size query first,
 * as programs do); NULL after a failed check. */
static BYTE *export_blob(HCRYPTKEY hKey, HCRYPTKEY hExp, DWORD dwType, DWORD flags,
			 DWORD *len, const char *what)
{
	BYTE *blob;

	*len = 0;
	if (!CHECK(CryptExportKey(hKey, hExp, dwType, flags, NULL, len) && *len > 0,
		   "size of the %s", what))
		return NULL;
	blob = malloc(*len);
	if (!CHECK(blob != NULL, "memory") ||
	    !CHECK(CryptExportKey(hKey, hExp, dwType, flags, blob, len), "export of the %s",
		   what)) {
		free(blob);
		return NULL;
	}
	CHECK(((BLOBHEADER *)blob)->bType == dwType, "%s: blob type %u", what,
	      ((BLOBHEADER *)blob)->bType);
	return blob;
}

/* Encrypts the message with hKey and decrypts it again: the same bytes. */
static void round_trip(HCRYPTKEY hKey, const char *what)
{
	BYTE buf[1024];
	DWORD len = sizeof message;

	memcpy(buf, message, len);
	if (!CHECK(CryptEncrypt(hKey, 0, TRUE, 0, buf, &len, sizeof buf), "encrypt with %s", what))
		return;
	CHECK(len != sizeof message || memcmp(buf, message, len) != 0,
	      "%s: the ciphertext is the message", what);
	if (!CHECK(CryptDecrypt(hKey, 0, TRUE, 0, buf, &len), "decrypt with %s", what))
		return;
	CHECK(len == sizeof message && memcmp(buf, message, len) == 0,
	      "%s: decryption does not give the message back", what);
}

/* Signs the message's SHA-256 with the container's key of dwSpec. */
static BYTE *sign_message(HCRYPTPROV hProv, DWORD dwSpec, DWORD *len)
{
	HCRYPTHASH hHash = 0;
	BYTE *sig = NULL;

	*len = 0;
	if (CHECK(CryptCreateHash(hProv, CALG_SHA_256, 0, 0, &hHash), "create a SHA-256 hash") &&
	    CHECK(CryptHashData(hHash, (const BYTE *)message, sizeof message, 0), "hash") &&
	    CHECK(CryptSignHashA(hHash, dwSpec, NULL, 0, NULL, len) && *len > 0,
		  "signature size") &&
	    CHECK((sig = malloc(*len)) != NULL, "memory") &&
	    !CHECK(CryptSignHashA(hHash, dwSpec, NULL, 0, sig, len), "sign")) {
		free(sig);
		sig = NULL;
	}
	if (hHash)
		CryptDestroyHash(hHash);
	return sig;
}

static int verify_message(HCRYPTPROV hProv, HCRYPTKEY hPub, const BYTE *sig, DWORD len,
			  const char *text, DWORD text_len)
{
	HCRYPTHASH hHash = 0;
	int ok = 0;

	if (CHECK(CryptCreateHash(hProv, CALG_SHA_256, 0, 0, &hHash), "create a SHA-256 hash") &&
	    CHECK(CryptHashData(hHash, (const BYTE *)text, text_len, 0), "hash"))
		ok = CryptVerifySignatureA(hHash, sig, len, hPub, NULL, 0);
	if (hHash)
		CryptDestroyHash(hHash);
	return ok;
}

static const char *prov_arg(const char *arg)
{
	return strcmp(arg, "-") == 0 ? NULL : arg;
}

/* The SHA-256 value of the message, through a hash duplicated halfway
 * (CryptDuplicateHash): both copies must give the same value. */
static int message_hash_value(HCRYPTPROV hProv, BYTE value[32])
{
	HCRYPTHASH hHash = 0, hDup = 0;
	BYTE other[32];
	DWORD len = 32, other_len = 32;
	int ok = 0;

	if (CHECK(CryptCreateHash(hProv, CALG_SHA_256, 0, 0, &hHash), "create a hash") &&
	    CHECK(CryptHashData(hHash, (const BYTE *)message, 10, 0), "hash the first part") &&
	    CHECK(CryptDuplicateHash(hHash, NULL, 0, &hDup), "duplicate the hash") &&
	    CHECK(CryptHashData(hHash, (const BYTE *)message + 10, sizeof message - 10, 0),
		  "hash the rest") &&
	    CHECK(CryptHashData(hDup, (const BYTE *)message + 10, sizeof message - 10, 0),
		  "hash the rest into the copy") &&
	    CHECK(CryptGetHashParam(hHash, HP_HASHVAL, value, &len, 0) && len == 32,
		  "HP_HASHVAL") &&
	    CHECK(CryptGetHashParam(hDup, HP_HASHVAL, other, &other_len, 0) && other_len == 32,
		  "HP_HASHVAL of the copy"))
		ok = CHECK(memcmp(value, other, 32) == 0, "the duplicated hash differs");
	if (hDup)
		CryptDestroyHash(hDup);
	if (hHash)
		CryptDestroyHash(hHash);
	return ok;
}

/* What both sides compute alone from shared inputs and compare: the
 * message's SHA-256 value, an AES-128 key derived from it
 * (CryptDeriveKey) encrypting the message, and the SHA-256 of a session
 * key (CryptHashSessionKey). The maker writes them (write != 0), the
 * partner compares; hShared is the AES-256 key both hold. */
static void shared_values(HCRYPTPROV hProv, HCRYPTKEY hShared, const char *dir, int write)
{
	HCRYPTHASH hHash = 0;
	HCRYPTKEY hDerived = 0;
	BYTE value[32], buf[256], *theirs;
	DWORD len, theirs_len;

	if (message_hash_value(hProv, value)) {
		if (write) {
			write_file(dir, "msg.sha256", value, 32);
		} else if ((theirs = read_file(dir, "msg.sha256", &theirs_len))) {
			CHECK(theirs_len == 32 && memcmp(theirs, value, 32) == 0,
			      "the partner's SHA-256 value differs");
			free(theirs);
		}
	}
	if (CHECK(CryptCreateHash(hProv, CALG_SHA_256, 0, 0, &hHash), "create a hash") &&
	    CHECK(CryptHashData(hHash, (const BYTE *)message, sizeof message, 0), "hash") &&
	    CHECK(CryptDeriveKey(hProv, CALG_AES_128, hHash, 0, &hDerived), "derive AES-128")) {
		len = sizeof message;
		memcpy(buf, message, len);
		if (CHECK(CryptEncrypt(hDerived, 0, TRUE, 0, buf, &len, sizeof buf),
			  "encrypt with the derived key")) {
			if (write) {
				write_file(dir, "derived.enc", buf, len);
			} else if ((theirs = read_file(dir, "derived.enc", &theirs_len))) {
				CHECK(theirs_len == len && memcmp(theirs, buf, len) == 0,
				      "the partner's derived key encrypts differently");
				free(theirs);
			}
		}
	}
	if (hDerived)
		CryptDestroyKey(hDerived);
	if (hHash)
		CryptDestroyHash(hHash);
	hHash = 0;
	len = sizeof value;
	if (hShared && CHECK(CryptCreateHash(hProv, CALG_SHA_256, 0, 0, &hHash), "create a hash") &&
	    CHECK(CryptHashSessionKey(hHash, hShared, 0), "CryptHashSessionKey") &&
	    CHECK(CryptGetHashParam(hHash, HP_HASHVAL, value, &len, 0) && len == 32,
		  "HP_HASHVAL of the session key's hash")) {
		if (write) {
			write_file(dir, "aes.hash", value, 32);
		} else if ((theirs = read_file(dir, "aes.hash", &theirs_len))) {
			CHECK(theirs_len == 32 && memcmp(theirs, value, 32) == 0,
			      "the partner's hash of the session key differs");
			free(theirs);
		}
	}
	if (hHash)
		CryptDestroyHash(hHash);
}

/* Key handles and parameters: a duplicated key decrypts what the original
 * encrypts, even after the original's IV changed; KP_MODE is CBC. */
static void key_handles(HCRYPTKEY hKey)
{
	HCRYPTKEY hDup = 0;
	BYTE buf[256], iv[16] = { 1, 2, 3 };
	DWORD mode = 0, len = sizeof mode, n = sizeof message;

	CHECK(CryptGetKeyParam(hKey, KP_MODE, (BYTE *)&mode, &len, 0) && mode == CRYPT_MODE_CBC,
	      "KP_MODE is CBC (%lu)", (unsigned long)mode);
	if (!CHECK(CryptDuplicateKey(hKey, NULL, 0, &hDup), "duplicate the key"))
		return;
	CHECK(CryptSetKeyParam(hKey, KP_IV, iv, 0), "set KP_IV");
	memcpy(buf, message, n);
	if (CHECK(CryptEncrypt(hKey, 0, TRUE, 0, buf, &n, sizeof buf), "encrypt") &&
	    CHECK(CryptSetKeyParam(hDup, KP_IV, iv, 0), "set KP_IV of the copy") &&
	    CHECK(CryptDecrypt(hDup, 0, TRUE, 0, buf, &n), "decrypt with the copy"))
		CHECK(n == sizeof message && memcmp(buf, message, n) == 0,
		      "the copy does not decrypt");
	CryptDestroyKey(hDup);
}

/* A signature of a hash whose value was set (HP_HASHVAL) verifies as one
 * of the hash that computed it. */
static void signed_hash_value(HCRYPTPROV hProv, HCRYPTKEY hSig)
{
	HCRYPTHASH hHash = 0;
	BYTE value[32], sig[512];
	DWORD len = sizeof sig;

	if (!message_hash_value(hProv, value))
		return;
	if (CHECK(CryptCreateHash(hProv, CALG_SHA_256, 0, 0, &hHash), "create a hash") &&
	    CHECK(CryptSetHashParam(hHash, HP_HASHVAL, value, 0), "set HP_HASHVAL") &&
	    CHECK(CryptSignHashA(hHash, AT_SIGNATURE, NULL, 0, sig, &len), "sign the set value"))
		CHECK(verify_message(hProv, hSig, sig, len, message, sizeof message),
		      "the signature of the set value does not verify");
	if (hHash)
		CryptDestroyHash(hHash);
}

static int cmd_make(const char *prov, DWORD type, const char *container, const char *dir)
{
	HCRYPTPROV hProv = 0;
	HCRYPTKEY hExch = 0, hSig = 0, hAes = 0, hDes = 0, hWrap = 0, hImp = 0;
	BYTE *blob, *sig;
	DWORD len, sig_len, bad_len;
	DWORD spec_len = sizeof(DWORD), alg = 0, imp = 0, imp_len;

	if (!CHECK(CryptAcquireContextA(&hProv, container, prov, type, CRYPT_NEWKEYSET),
		   "create container %s", container))
		return 1;
	/* Key pairs of 2048 bits, exportable so that every blob type leaves. */
	CHECK(CryptGenKey(hProv, AT_KEYEXCHANGE, (2048u << 16) | CRYPT_EXPORTABLE, &hExch),
	      "generate the exchange pair");
	CHECK(CryptGenKey(hProv, AT_SIGNATURE, (2048u << 16) | CRYPT_EXPORTABLE, &hSig),
	      "generate the signature pair");
	CHECK(CryptGetKeyParam(hExch, KP_ALGID, (BYTE *)&alg, &spec_len, 0) &&
	      alg == CALG_RSA_KEYX, "KP_ALGID of the exchange key: 0x%lx", (unsigned long)alg);
	CHECK(CryptGenKey(hProv, CALG_AES_256, CRYPT_EXPORTABLE, &hAes), "generate AES-256");
	CHECK(CryptGenKey(hProv, CALG_3DES, CRYPT_EXPORTABLE, &hDes), "generate 3DES");
	CHECK(CryptGenKey(hProv, CALG_AES_128, CRYPT_EXPORTABLE, &hWrap), "generate AES-128");
	round_trip(hAes, "AES-256");
	round_trip(hDes, "3DES");
	round_trip(hExch, "the RSA exchange key");

	/* Every blob type the keys have. */
	if ((blob = export_blob(hExch, 0, PUBLICKEYBLOB, 0, &len, "exchange PUBLICKEYBLOB"))) {
		write_file(dir, "exch.pub", blob, len);
		free(blob);
	}
	if ((blob = export_blob(hSig, 0, PUBLICKEYBLOB, 0, &len, "signature PUBLICKEYBLOB"))) {
		write_file(dir, "sig.pub", blob, len);
		free(blob);
	}
	if ((blob = export_blob(hExch, 0, PRIVATEKEYBLOB, 0, &len, "exchange PRIVATEKEYBLOB"))) {
		write_file(dir, "exch.priv", blob, len);
		free(blob);
	}
	if ((blob = export_blob(hSig, 0, PRIVATEKEYBLOB, 0, &len, "signature PRIVATEKEYBLOB"))) {
		write_file(dir, "sig.priv", blob, len);
		free(blob);
	}
	if ((blob = export_blob(hAes, 0, PLAINTEXTKEYBLOB, 0, &len, "AES PLAINTEXTKEYBLOB"))) {
		write_file(dir, "aes.plain", blob, len);
		/* Imported again, the key decrypts what the original encrypts. */
		if (CHECK(CryptImportKey(hProv, blob, len, 0, 0, &hImp), "import the PLAINTEXTKEYBLOB")) {
			BYTE buf[256];
			DWORD n = sizeof message;

			memcpy(buf, message, n);
			if (CHECK(CryptEncrypt(hAes, 0, TRUE, 0, buf, &n, sizeof buf), "encrypt") &&
			    CHECK(CryptDecrypt(hImp, 0, TRUE, 0, buf, &n), "decrypt with the import"))
				CHECK(n == sizeof message && memcmp(buf, message, n) == 0,
				      "the imported key does not decrypt");
			CryptDestroyKey(hImp);
			hImp = 0;
		}
		free(blob);
	}
	/* The exchange pair encrypted under the AES key, and data under that
	 * key: the partner opens both with aes.plain. */
	if ((blob = export_blob(hExch, hAes, PRIVATEKEYBLOB, 0, &len,
				"exchange PRIVATEKEYBLOB under AES-256"))) {
		write_file(dir, "exch.priv.aes", blob, len);
		free(blob);
	}
	{
		BYTE buf[256];
		DWORD n = sizeof message;

		memcpy(buf, message, n);
		if (CHECK(CryptEncrypt(hAes, 0, TRUE, 0, buf, &n, sizeof buf), "encrypt with AES"))
			write_file(dir, "aes.enc", buf, n);
	}
	if ((blob = export_blob(hDes, hExch, SIMPLEBLOB, 0, &len, "3DES SIMPLEBLOB"))) {
		CHECK(CryptImportKey(hProv, blob, len, hExch, 0, &hImp),
		      "import the SIMPLEBLOB with the exchange key");
		if (hImp)
			CryptDestroyKey(hImp);
		hImp = 0;
		free(blob);
	}
	/* Wine's rsaenh has no SYMMETRICWRAPKEYBLOB (NTE_BAD_TYPE); a token
	 * provider must have it. */
	imp_len = sizeof imp;
	CHECK(CryptGetProvParam(hProv, PP_IMPTYPE, (BYTE *)&imp, &imp_len, 0), "PP_IMPTYPE");
	if (imp & CRYPT_IMPL_SOFTWARE) {
		len = 0;
		CHECK(!CryptExportKey(hDes, hWrap, SYMMETRICWRAPKEYBLOB, 0, NULL, &len) &&
		      GetLastError() == (DWORD)NTE_BAD_TYPE,
		      "rsaenh: SYMMETRICWRAPKEYBLOB is not NTE_BAD_TYPE");
	} else {
		HCRYPTKEY hKek = 0;

		if ((blob = export_blob(hDes, hWrap, SYMMETRICWRAPKEYBLOB, 0, &len,
					"3DES SYMMETRICWRAPKEYBLOB under AES-128"))) {
			CHECK(CryptImportKey(hProv, blob, len, hWrap, 0, &hImp),
			      "import the SYMMETRICWRAPKEYBLOB");
			if (hImp)
				CryptDestroyKey(hImp);
			hImp = 0;
			free(blob);
		}
		/* capi11's own OPAQUEKEYBLOB (docs/OPAQUEKEYBLOB.md): wrapped on
		 * the token under a wrap-only key-encryption key. */
		if (CHECK(CryptGenKey(hProv, CALG_AES_256, CRYPT_KEK, &hKek), "generate a KEK") &&
		    (blob = export_blob(hDes, hKek, OPAQUEKEYBLOB, 0, &len,
					"3DES OPAQUEKEYBLOB under the KEK"))) {
			if (CHECK(CryptImportKey(hProv, blob, len, hKek, 0, &hImp),
				  "import the OPAQUEKEYBLOB")) {
				BYTE buf[256];
				DWORD n = sizeof message;

				memcpy(buf, message, n);
				if (CHECK(CryptEncrypt(hDes, 0, TRUE, 0, buf, &n, sizeof buf),
					  "encrypt") &&
				    CHECK(CryptDecrypt(hImp, 0, TRUE, 0, buf, &n),
					  "decrypt with the OPAQUEKEYBLOB's key"))
					CHECK(n == sizeof message && memcmp(buf, message, n) == 0,
					      "the OPAQUEKEYBLOB's key does not decrypt");
				CryptDestroyKey(hImp);
				hImp = 0;
			}
			free(blob);
		}
		if (hKek)
			CryptDestroyKey(hKek);
	}

	key_handles(hAes);
	shared_values(hProv, hAes, dir, 1);
	signed_hash_value(hProv, hSig);

	/* A signature the partner checks, and one that must fail here. */
	if ((sig = sign_message(hProv, AT_SIGNATURE, &sig_len))) {
		write_file(dir, "msg.sig", sig, sig_len);
		CHECK(verify_message(hProv, hSig, sig, sig_len, message, sizeof message),
		      "the signature does not verify");
		bad_len = sizeof message - 1;
		CHECK(!verify_message(hProv, hSig, sig, sig_len, message, bad_len) &&
		      GetLastError() == (DWORD)NTE_BAD_SIGNATURE,
		      "a signature of other data verifies");
		free(sig);
	}
	if (hImp)
		CryptDestroyKey(hImp);
	CryptDestroyKey(hWrap);
	CryptDestroyKey(hDes);
	CryptDestroyKey(hAes);
	CryptDestroyKey(hSig);
	CryptDestroyKey(hExch);
	CHECK(CryptReleaseContext(hProv, 0), "release");
	return 0;
}

/* The maker's PLAINTEXTKEYBLOB decrypts its aes.enc here; with_private,
 * it also opens the maker's PRIVATEKEYBLOB encrypted under that key, whose
 * private key decrypts rsa (rsa_len bytes, encrypted here with the maker's
 * public key). Wine's rsaenh writes that blob unencrypted, so only two
 * capi11 contexts exchange it. */
static void open_private_blob(HCRYPTPROV hProv, const char *dir, const BYTE *rsa,
			      DWORD rsa_len, int with_private)
{
	HCRYPTKEY hAes = 0, hPriv = 0;
	BYTE *plain, *enc, *priv, buf[1024];
	DWORD plain_len, enc_len, priv_len, n;

	plain = read_file(dir, "aes.plain", &plain_len);
	enc = read_file(dir, "aes.enc", &enc_len);
	priv = read_file(dir, "exch.priv.aes", &priv_len);
	if (plain && enc && priv &&
	    /* Exportable: capi11 reads a key's bytes for CryptHashSessionKey
	     * only when it may leave (README, "Hashes and signatures"). */
	    CHECK(CryptImportKey(hProv, plain, plain_len, 0, CRYPT_EXPORTABLE, &hAes),
		  "import the partner's PLAINTEXTKEYBLOB")) {
		if (CHECK(CryptDecrypt(hAes, 0, TRUE, 0, enc, &enc_len), "decrypt aes.enc"))
			CHECK(enc_len == sizeof message && memcmp(enc, message, enc_len) == 0,
			      "aes.enc is not the message");
		shared_values(hProv, hAes, dir, 0);
		if (with_private &&
		    CHECK(CryptImportKey(hProv, priv, priv_len, hAes, 0, &hPriv),
			  "import the partner's encrypted PRIVATEKEYBLOB") &&
		    CHECK(rsa_len <= sizeof buf, "RSA ciphertext size")) {
			n = rsa_len;
			memcpy(buf, rsa, n);
			if (CHECK(CryptDecrypt(hPriv, 0, TRUE, 0, buf, &n),
				  "decrypt with the imported private key"))
				CHECK(n == sizeof message && memcmp(buf, message, n) == 0,
				      "the imported private key does not decrypt");
		}
	}
	if (hPriv)
		CryptDestroyKey(hPriv);
	if (hAes)
		CryptDestroyKey(hAes);
	free(plain);
	free(enc);
	free(priv);
}

static int cmd_send(const char *prov, DWORD type, const char *dir, int with_private)
{
	HCRYPTPROV hProv = 0;
	HCRYPTKEY hExch = 0, hSig = 0, hKey = 0;
	BYTE *exch, *sigpub, *sig, *blob;
	DWORD exch_len, sigpub_len, sig_len, len;
	BYTE buf[1024];

	exch = read_file(dir, "exch.pub", &exch_len);
	sigpub = read_file(dir, "sig.pub", &sigpub_len);
	sig = read_file(dir, "msg.sig", &sig_len);
	if (!exch || !sigpub || !sig)
		return 1;
	if (!CHECK(CryptAcquireContextA(&hProv, NULL, prov, type, CRYPT_VERIFYCONTEXT),
		   "verify context"))
		return 1;
	CHECK(CryptImportKey(hProv, exch, exch_len, 0, 0, &hExch), "import exch.pub");
	CHECK(CryptImportKey(hProv, sigpub, sigpub_len, 0, 0, &hSig), "import sig.pub");
	CHECK(hSig && verify_message(hProv, hSig, sig, sig_len, message, sizeof message),
	      "the partner's signature does not verify");
	/* A session key sent under the partner's exchange key, and a message
	 * under it; then a message under the exchange key itself. */
	if (CHECK(CryptGenKey(hProv, CALG_AES_256, CRYPT_EXPORTABLE, &hKey), "generate AES-256") &&
	    (blob = export_blob(hKey, hExch, SIMPLEBLOB, 0, &len, "SIMPLEBLOB for the partner"))) {
		write_file(dir, "session.simple", blob, len);
		free(blob);
		len = sizeof message;
		memcpy(buf, message, len);
		if (CHECK(CryptEncrypt(hKey, 0, TRUE, 0, buf, &len, sizeof buf), "encrypt"))
			write_file(dir, "session.enc", buf, len);
	}
	len = sizeof message;
	memcpy(buf, message, len);
	if (CHECK(hExch && CryptEncrypt(hExch, 0, TRUE, 0, buf, &len, sizeof buf),
		  "encrypt with the partner's RSA key"))
		write_file(dir, "rsa.enc", buf, len);
	open_private_blob(hProv, dir, buf, len, with_private);
	if (hKey)
		CryptDestroyKey(hKey);
	if (hSig)
		CryptDestroyKey(hSig);
	if (hExch)
		CryptDestroyKey(hExch);
	CHECK(CryptReleaseContext(hProv, 0), "release");
	free(exch);
	free(sigpub);
	free(sig);
	return 0;
}

static int cmd_receive(const char *prov, DWORD type, const char *container, const char *dir)
{
	HCRYPTPROV hProv = 0;
	HCRYPTKEY hExch = 0, hKey = 0;
	BYTE *simple, *enc, *rsa;
	DWORD simple_len, enc_len, rsa_len;

	simple = read_file(dir, "session.simple", &simple_len);
	enc = read_file(dir, "session.enc", &enc_len);
	rsa = read_file(dir, "rsa.enc", &rsa_len);
	if (!simple || !enc || !rsa)
		return 1;
	if (!CHECK(CryptAcquireContextA(&hProv, container, prov, type, 0),
		   "open container %s", container))
		return 1;
	CHECK(CryptGetUserKey(hProv, AT_KEYEXCHANGE, &hExch), "the exchange key");
	if (CHECK(CryptImportKey(hProv, simple, simple_len, hExch, 0, &hKey),
		  "import the partner's SIMPLEBLOB") &&
	    CHECK(CryptDecrypt(hKey, 0, TRUE, 0, enc, &enc_len), "decrypt the session message"))
		CHECK(enc_len == sizeof message && memcmp(enc, message, enc_len) == 0,
		      "the session message differs");
	if (CHECK(CryptDecrypt(hExch, 0, TRUE, 0, rsa, &rsa_len), "decrypt the RSA message"))
		CHECK(rsa_len == sizeof message && memcmp(rsa, message, rsa_len) == 0,
		      "the RSA message differs");
	if (hKey)
		CryptDestroyKey(hKey);
	if (hExch)
		CryptDestroyKey(hExch);
	CHECK(CryptReleaseContext(hProv, 0), "release");
	free(simple);
	free(enc);
	free(rsa);
	return 0;
}

static int cmd_imptype(const char *prov, DWORD type)
{
	HCRYPTPROV hProv = 0;
	DWORD imp = 0, len = sizeof imp;
	char name[256];

	if (!CHECK(CryptAcquireContextA(&hProv, NULL, prov, type, CRYPT_VERIFYCONTEXT),
		   "verify context"))
		return 1;
	CHECK(CryptGetProvParam(hProv, PP_IMPTYPE, (BYTE *)&imp, &len, 0), "PP_IMPTYPE");
	len = sizeof name;
	if (!CHECK(CryptGetProvParam(hProv, PP_NAME, (BYTE *)name, &len, 0), "PP_NAME"))
		name[0] = '\0';
	printf("%s %s\n", (imp & CRYPT_IMPL_HARDWARE) ? "hardware" :
	       (imp & CRYPT_IMPL_SOFTWARE) ? "software" : "unknown", name);
	CHECK(CryptReleaseContext(hProv, 0), "release");
	return 0;
}

/* A container named in UTF-16 beyond ASCII: the name reaches the token
 * (wine-check reads the label with pkcs11-tool) and comes back through
 * PP_CONTAINER and PP_ENUMCONTAINERS in the ANSI code page, as Windows
 * programs read narrow strings; CRYPT_DELETEKEYSET removes it again. */
static const WCHAR wide_name[] = { 'w', 'i', 'n', 'e', '-', 0xe9, 't', 0xe9, 0 };

static int same_as_wide(const char *acp)
{
	WCHAR back[64];

	return MultiByteToWideChar(CP_ACP, 0, acp, -1, back, 64) > 0 &&
	       lstrcmpW(back, wide_name) == 0;
}

static int cmd_wide(const char *prov, DWORD type, const char *what)
{
	HCRYPTPROV hProv = 0;
	HCRYPTKEY hKey = 0;
	WCHAR provw[256];
	char name[256];
	DWORD len, flags = CRYPT_FIRST;
	int found = 0;

	if (prov == NULL || !MultiByteToWideChar(CP_ACP, 0, prov, -1, provw, 256))
		return 2;
	if (strcmp(what, "delete") == 0) {
		CHECK(CryptAcquireContextW(&hProv, wide_name, provw, type, CRYPT_DELETEKEYSET),
		      "delete the container");
		CHECK(!CryptAcquireContextW(&hProv, wide_name, provw, type, 0) &&
		      GetLastError() == (DWORD)NTE_BAD_KEYSET, "the container is gone");
		return 0;
	}
	printf("ANSI code page %u\n", GetACP());
	if (!CHECK(CryptAcquireContextW(&hProv, wide_name, provw, type, CRYPT_NEWKEYSET),
		   "create the container in UTF-16"))
		return 1;
	CHECK(CryptGenKey(hProv, AT_KEYEXCHANGE, 1024u << 16, &hKey), "generate a pair");
	len = sizeof name;
	CHECK(CryptGetProvParam(hProv, PP_CONTAINER, (BYTE *)name, &len, 0) &&
	      len == strlen(name) + 1 && same_as_wide(name), "PP_CONTAINER gives the name back");
	len = 1;
	CHECK(!CryptGetProvParam(hProv, PP_CONTAINER, (BYTE *)name, &len, 0) &&
	      GetLastError() == ERROR_MORE_DATA && len >= 9, "PP_CONTAINER in one byte");
	for (;;) {
		len = sizeof name;
		if (!CryptGetProvParam(hProv, PP_ENUMCONTAINERS, (BYTE *)name, &len, flags))
			break;
		flags = 0;
		found += same_as_wide(name);
		/* As rsaenh: a name that fits leaves the length as it was. */
		CHECK(len == sizeof name, "PP_ENUMCONTAINERS changed the length to %lu",
		      (unsigned long)len);
	}
	CHECK(GetLastError() == ERROR_NO_MORE_ITEMS && found == 1,
	      "PP_ENUMCONTAINERS lists the name once (%d)", found);
	if (hKey)
		CryptDestroyKey(hKey);
	CHECK(CryptReleaseContext(hProv, 0), "release");
	return 0;
}

/* The names that come out in the ANSI code page must work when they go
 * back in. (1) PP_CONTAINER of the UTF-16 container succeeds with the
 * size it reported itself: Windows programs reuse a length a provider
 * gave (rsaenh answers both calls alike). (2) Every name that
 * PP_ENUMCONTAINERS lists opens with CryptAcquireContextA: wine-check puts
 * a key pair labelled with fullwidth letters on the token, and a name the
 * code page cannot hold must not come back as another container's name
 * (WideCharToMultiByte's best fit turns U+FF21 "FULLWIDTH A" into 'A'). */
static int cmd_names(const char *prov, DWORD type)
{
	HCRYPTPROV hProv = 0, hOpen = 0;
	WCHAR provw[256];
	char name[256];
	DWORD len, exact, flags = CRYPT_FIRST;

	if (prov == NULL || !MultiByteToWideChar(CP_ACP, 0, prov, -1, provw, 256))
		return 2;
	if (!CHECK(CryptAcquireContextW(&hProv, wide_name, provw, type, 0),
		   "open the UTF-16 container"))
		return 1;
	len = sizeof name;
	if (CHECK(CryptGetProvParam(hProv, PP_CONTAINER, (BYTE *)name, &len, 0),
		  "PP_CONTAINER")) {
		BOOL ok;

		exact = len;
		ok = CryptGetProvParam(hProv, PP_CONTAINER, (BYTE *)name, &len, 0);
		CHECK(ok && len == exact, "PP_CONTAINER in the %lu bytes it reported (%s, %lu)",
		      (unsigned long)exact, ok ? "succeeded" : "failed", (unsigned long)len);
	}
	CHECK(CryptReleaseContext(hProv, 0), "release");
	if (!CHECK(CryptAcquireContextA(&hProv, NULL, prov, type, CRYPT_VERIFYCONTEXT),
		   "verify context"))
		return 1;
	for (;;) {
		len = sizeof name;
		if (!CryptGetProvParam(hProv, PP_ENUMCONTAINERS, (BYTE *)name, &len, flags))
			break;
		flags = 0;
		printf("listed: %s\n", name);
		if (CHECK(CryptAcquireContextA(&hOpen, name, prov, type, CRYPT_SILENT),
			  "the listed name '%s' opens a container", name))
			CryptReleaseContext(hOpen, 0);
	}
	CHECK(GetLastError() == ERROR_NO_MORE_ITEMS, "PP_ENUMCONTAINERS ends");
	CHECK(CryptReleaseContext(hProv, 0), "release");
	return 0;
}

/* A PIN given with CryptSetProvParam(PP_KEYEXCHANGE_PIN) in the ANSI code
 * page: the token's PIN is "p\u00efn-1234" in UTF-8 (wine-check makes it so),
 * and no other PIN source is configured. A wrong PIN is refused; the
 * right one opens the token for a key pair. */
static int cmd_pin(const char *prov, DWORD type, const char *container)
{
	static const WCHAR pin_w[] = { 'p', 0xef, 'n', '-', '1', '2', '3', '4', 0 };
	HCRYPTPROV hProv = 0;
	HCRYPTKEY hKey = 0;
	char pin[32];

	if (!CHECK(WideCharToMultiByte(CP_ACP, 0, pin_w, -1, pin, sizeof pin, NULL, NULL) > 0,
		   "the PIN in the ANSI code page"))
		return 1;
	if (!CHECK(CryptAcquireContextA(&hProv, container, prov, type,
					CRYPT_NEWKEYSET | CRYPT_SILENT), "create %s", container))
		return 1;
	CHECK(!CryptGenKey(hProv, AT_KEYEXCHANGE, 1024u << 16, &hKey) &&
	      GetLastError() == (DWORD)NTE_SILENT_CONTEXT, "no PIN, silent: NTE_SILENT_CONTEXT");
	CHECK(!CryptSetProvParam(hProv, PP_KEYEXCHANGE_PIN, (const BYTE *)"0000", 0) &&
	      GetLastError() == (DWORD)SCARD_W_WRONG_CHV, "a wrong PIN: SCARD_W_WRONG_CHV");
	CHECK(CryptSetProvParam(hProv, PP_KEYEXCHANGE_PIN, (const BYTE *)pin, 0),
	      "the PIN beyond ASCII");
	CHECK(CryptGenKey(hProv, AT_KEYEXCHANGE, 1024u << 16, &hKey), "a pair after the PIN");
	if (hKey)
		CryptDestroyKey(hKey);
	CHECK(CryptReleaseContext(hProv, 0), "release");
	return 0;
}

/* Failures reach the program with the codes Windows documents. */
static int cmd_errors(const char *prov, DWORD type)
{
	HCRYPTPROV hProv = 0;
	HCRYPTKEY hKey = 0;
	BYTE buf[64];
	DWORD len = sizeof buf;

	CHECK(!CryptAcquireContextA(&hProv, "capi11-wine-no-such-container", prov, type, 0) &&
	      GetLastError() == (DWORD)NTE_BAD_KEYSET, "a missing container: NTE_BAD_KEYSET");
	if (!CHECK(CryptAcquireContextA(&hProv, NULL, prov, type, CRYPT_VERIFYCONTEXT),
		   "verify context"))
		return 1;
	CHECK(!CryptGetProvParam(hProv, 0x7fff, buf, &len, 0) &&
	      GetLastError() == (DWORD)NTE_BAD_TYPE, "an unknown parameter: NTE_BAD_TYPE");
	CHECK(!CryptGenKey(hProv, 0x1234, 0, &hKey) && GetLastError() == (DWORD)NTE_BAD_ALGID,
	      "an unknown algorithm: NTE_BAD_ALGID");
	len = 1;
	CHECK(!CryptGetProvParam(hProv, PP_NAME, buf, &len, 0) &&
	      GetLastError() == ERROR_MORE_DATA && len > 1, "a short buffer: ERROR_MORE_DATA");
	CHECK(CryptGenRandom(hProv, sizeof buf, buf), "random bytes");
	CHECK(CryptReleaseContext(hProv, 0), "release");
	return 0;
}

/* With the library behind the CSP missing, acquiring fails with
 * NTE_PROVIDER_DLL_FAIL, as advapi32 reports a provider DLL that does not
 * work. */
static int cmd_nolib(const char *prov, DWORD type)
{
	HCRYPTPROV hProv = 0;

	CHECK(!CryptAcquireContextA(&hProv, NULL, prov, type, CRYPT_VERIFYCONTEXT) &&
	      GetLastError() == (DWORD)NTE_PROVIDER_DLL_FAIL,
	      "no library: NTE_PROVIDER_DLL_FAIL");
	return 0;
}

/* capi11's PP_CAPI11_ROUTES (include/capi11/wincrypt.h): a string of
 * "name=route" words ending in "companion=<the companion token's label>". */
#define PP_CAPI11_ROUTES 0x43310004

/* PP_CAPI11_ROUTES under a companion token whose label (UTF-8 on the
 * token) the ANSI code page may lack. want "-": the label is no name in
 * the code page, so the value is not given out, as a size query nor with
 * a buffer: ERROR_NO_UNICODE_TRANSLATION (docs/WINE.md). Otherwise want
 * is the label's bytes in the ANSI code page, in hex: the value ends in
 * "companion=" and those bytes, and its size query is exact. */
static int cmd_routes(const char *prov, DWORD type, const char *want)
{
	HCRYPTPROV hProv = 0;
	char text[1024], label[256], *end;
	DWORD len = 0, size;
	size_t n = 0;

	for (; want[0] != '-' && want[0] && want[1] && n + 1 < sizeof label; want += 2) {
		char hex[3] = { want[0], want[1], 0 };

		label[n++] = (char)strtoul(hex, &end, 16);
	}
	label[n] = 0;
	if (!CHECK(CryptAcquireContextA(&hProv, NULL, prov, type, CRYPT_VERIFYCONTEXT),
		   "verify context"))
		return 1;
	if (n == 0) {
		SetLastError(0xdeadbeef);
		CHECK(!CryptGetProvParam(hProv, PP_CAPI11_ROUTES, NULL, &len, 0) &&
		      GetLastError() == ERROR_NO_UNICODE_TRANSLATION,
		      "size query: ERROR_NO_UNICODE_TRANSLATION");
		len = sizeof text;
		SetLastError(0xdeadbeef);
		CHECK(!CryptGetProvParam(hProv, PP_CAPI11_ROUTES, (BYTE *)text, &len, 0) &&
		      GetLastError() == ERROR_NO_UNICODE_TRANSLATION,
		      "with a buffer: ERROR_NO_UNICODE_TRANSLATION");
		CHECK(len == sizeof text, "the length is left as it was (%lu)", (unsigned long)len);
	} else if (CHECK(CryptGetProvParam(hProv, PP_CAPI11_ROUTES, NULL, &size, 0),
			 "size query")) {
		len = sizeof text;
		if (CHECK(CryptGetProvParam(hProv, PP_CAPI11_ROUTES, (BYTE *)text, &len, 0),
			  "PP_CAPI11_ROUTES")) {
			char tail[300];

			printf("routes: %s\n", text);
			snprintf(tail, sizeof tail, "companion=%s", label);
			CHECK(len == size && len == strlen(text) + 1,
			      "the size query (%lu) is the value's size (%lu)",
			      (unsigned long)size, (unsigned long)len);
			CHECK(strlen(text) >= strlen(tail) &&
			      strcmp(text + strlen(text) - strlen(tail), tail) == 0,
			      "the value ends in the companion's label");
		}
	}
	CHECK(CryptReleaseContext(hProv, 0), "release");
	return 0;
}

int main(int argc, char **argv)
{
	DWORD type;
	int rc = 2;

	if (argc < 4) {
		fprintf(stderr, "usage: csptest make|send|receive|imptype|errors|wide|names|routes|nolib|pin PROVIDER TYPE ...\n");
		return 2;
	}
	type = (DWORD)strtoul(argv[3], NULL, 10);
	if (strcmp(argv[1], "make") == 0 && argc == 6)
		rc = cmd_make(prov_arg(argv[2]), type, argv[4], argv[5]);
	else if (strcmp(argv[1], "send") == 0 && argc == 5)
		rc = cmd_send(prov_arg(argv[2]), type, argv[4], 0);
	else if (strcmp(argv[1], "send") == 0 && argc == 6 && strcmp(argv[5], "private") == 0)
		rc = cmd_send(prov_arg(argv[2]), type, argv[4], 1);
	else if (strcmp(argv[1], "receive") == 0 && argc == 6)
		rc = cmd_receive(prov_arg(argv[2]), type, argv[4], argv[5]);
	else if (strcmp(argv[1], "imptype") == 0 && argc == 4)
		rc = cmd_imptype(prov_arg(argv[2]), type);
	else if (strcmp(argv[1], "wide") == 0 && argc == 5)
		rc = cmd_wide(prov_arg(argv[2]), type, argv[4]);
	else if (strcmp(argv[1], "pin") == 0 && argc == 5)
		rc = cmd_pin(prov_arg(argv[2]), type, argv[4]);
	else if (strcmp(argv[1], "names") == 0 && argc == 4)
		rc = cmd_names(prov_arg(argv[2]), type);
	else if (strcmp(argv[1], "routes") == 0 && argc == 5)
		rc = cmd_routes(prov_arg(argv[2]), type, argv[4]);
	else if (strcmp(argv[1], "nolib") == 0 && argc == 4)
		rc = cmd_nolib(prov_arg(argv[2]), type);
	else if (strcmp(argv[1], "errors") == 0 && argc == 4)
		rc = cmd_errors(prov_arg(argv[2]), type);
	else
		fprintf(stderr, "csptest: bad arguments for %s\n", argv[1]);
	if (rc == 2)
		return 2;
	printf("csptest %s: %d checks, %d failed\n", argv[1], checks, failures);
	return rc != 0 || failures != 0;
}
