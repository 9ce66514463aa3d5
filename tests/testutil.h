/* What the test programs share beyond the token fixtures: files, hex,
 * little-endian fields, exports, openssl's answers, captured stderr and
 * object counts.
 *
 * The functions named *_load, and testutil_exports_as, assert nothing and
 * report failure in their result: they serve suite init, forked children
 * and threads, where a CUnit assertion has no test to fail. Every other
 * function asserts with CUnit (a fatal assertion ends the running test),
 * so call it from inside a test. */
#ifndef CAPI11_TESTUTIL_H
#define CAPI11_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <p11-kit/pkcs11.h>
#include <wincrypt.h>

/* The last error set before a call: no Windows error code has this value,
 * so finding it afterwards means the call did not set one. */
#define SENTINEL ((DWORD)0xdeadbeef)

/* A call that must fail and set exactly this last error. */
#define CHECK_FAILS_WITH(call, code) do { \
	SetLastError(SENTINEL); \
	CU_ASSERT_FALSE(call); \
	CU_ASSERT_EQUAL(GetLastError(), (code)); \
} while (0)

/* The whole file, malloc'd (at least one byte, so an empty file is not
 * NULL); its length in *len. */
BYTE *testutil_file_load(const char *path, DWORD *len);
BYTE *testutil_file_read(const char *path, DWORD *len);

/* A file of tests/vectors in the source tree, as above. */
BYTE *testutil_vector_load(const char *name, DWORD *len);
BYTE *testutil_vector_read(const char *name, DWORD *len);

/* A new path "<fixture dir>/<stem>-<n>.bin", n counting up in the
 * process, malloc'd; the file is not made. */
char *testutil_temp_path(const char *stem);

/* Writes the bytes to a new file "<stem>-<n>.bin" of the fixture
 * directory; its path, malloc'd. */
char *testutil_temp_write(const char *stem, const void *data, size_t len);

/* Lowercase hex of n bytes: into out (2 * n + 1 bytes), or malloc'd. */
void testutil_hex_put(char *out, const BYTE *p, size_t n);
char *testutil_hex_new(const BYTE *p, size_t n);

/* The little-endian DWORD fields of Microsoft's blob layouts. */
uint32_t testutil_le32(const BYTE *p);
void testutil_le32_put(BYTE *p, uint32_t v);

/* A PLAINTEXTKEYBLOB as Microsoft documents it (BLOBHEADER, DWORD
 * dwKeySize, the key bytes) into out, which holds 12 + key_len bytes;
 * returns its length. */
DWORD testutil_plaintext_blob(BYTE *out, ALG_ID alg, const BYTE *key, DWORD key_len);

/* CryptExportKey as Microsoft's example calls it: the size query, then
 * the export into a buffer of exactly that size, which must be filled.
 * The blob, malloc'd; its length in *len. */
BYTE *testutil_blob_export(HCRYPTKEY key, HCRYPTKEY exp_key, DWORD type, DWORD flags,
			   DWORD *len);

/* The same where the size query may give a bound that the export stays
 * under (Microsoft allows it: the caller reads the size written). */
BYTE *testutil_blob_export_bound(HCRYPTKEY key, HCRYPTKEY exp_key, DWORD type, DWORD flags,
				 DWORD *len);

/* Whether the key exports (no export key, no flags) as exactly these
 * bytes; asserts nothing, for forked children and threads. */
bool testutil_exports_as(HCRYPTKEY key, DWORD type, const BYTE *want, DWORD want_len);

/* openssl enc -aes-128-cbc with a zero IV (CryptEncrypt's defaults) of in
 * under the 16-byte key; true when openssl ran and its ciphertext is
 * exactly out_len bytes, now in out. */
bool testutil_openssl_cbc_load(const BYTE *key, const BYTE *in, size_t in_len, BYTE *out,
			       DWORD out_len);

/* openssl enc with cipher (its options, such as "-aes-256-cbc" or
 * "-des-ede3-cbc"), a zero IV of iv_len bytes and PKCS#5 padding
 * (CryptEncrypt's defaults) of in under the key_len-byte key; true when
 * openssl ran and its ciphertext is exactly out_len bytes, now in out. */
bool testutil_openssl_enc_load(const char *cipher, const BYTE *key, size_t key_len,
			       size_t iv_len, const BYTE *in, size_t in_len, BYTE *out,
			       DWORD out_len);

/* The key's value, checked without reading it: CryptEncrypt(Final) of a
 * known 32-byte message under k (CBC, zero IV, PKCS#5, the defaults)
 * equals openssl's encryption under key (cipher as above, block the
 * cipher's block length in bytes). Asserts. */
/* A session key exported as a SIMPLEBLOB to a partner whose RSA-1024 key
 * openssl makes, the partner's PUBLICKEYBLOB imported into h (a public key
 * the token takes): openssl opens the blob, and the value it finds is the
 * key, which encrypts as openssl does with it. An AES-256 key is made in
 * h for it. stem names the scratch files. Asserts. */
void testutil_check_simpleblob_to_partner(HCRYPTPROV h, const char *stem);
void testutil_check_encrypts_as(HCRYPTKEY k, const char *cipher, const BYTE *key, size_t key_len,
				size_t block);

/* Standard error (fd 2) goes to the file <fixture dir>/<name>, made or
 * emptied, until testutil_stderr_end() puts it back and returns what was
 * written there, malloc'd and NUL-terminated, its length in *len when len
 * is not NULL. Captures do not nest. */
void testutil_stderr_begin(const char *name);
char *testutil_stderr_end(size_t *len);

/* How many objects of a pkcs11-tool type ("privkey", "pubkey",
 * "secrkey", "data") carry this label on the token, as pkcs11-tool
 * --list-objects shows them; all objects of the type when name is NULL. */
int testutil_token_count(const char *token, const char *type, const char *name);

/* A scratch folder for tests that need files but no token (the fixture
 * directory needs SoftHSM): "/tmp/capi11-test-<stem>-XXXXXX".
 * testutil_scratch_init makes it (a suite init: 0, or -1 on failure);
 * testutil_scratch_write writes a file there (mode 0600) and returns its
 * path, kept until testutil_scratch_cleanup removes the files and the
 * folder; NULL on failure. testutil_scratch_dir is the folder. */
int testutil_scratch_init(const char *stem);
const char *testutil_scratch_dir(void);
const char *testutil_scratch_write(const char *name, const void *data, size_t len);
const char *testutil_scratch_write_text(const char *name, const char *text);
int testutil_scratch_cleanup(void);

/* SoftHSM's own module, the instance p11-kit loaded for capi11 (it is
 * initialised here only when capi11 has not done it, and never finalised
 * here), and a session of it on the token labelled label: read-write with
 * rw, logged in as the user with FIXTURE_PIN with login. A session of the
 * module capi11 uses sees capi11's session objects too, which pkcs11-tool,
 * another process, never does. Fails the test when the token is absent. */
CK_FUNCTION_LIST *testutil_softhsm(void);
CK_SESSION_HANDLE testutil_softhsm_session(const char *label, bool rw, bool login);

/* Card profiles (p11shim.h) a test program can run under: tests/local.mk
 * runs some programs once more per profile, naming it in the environment
 * variable TESTUTIL_PROFILE_ENV ("tpm", "piv" or "readonly"; unset or
 * "softhsm": the token as it is). */
#define TESTUTIL_PROFILE_ENV "CAPI11_TEST_PROFILE"

enum testutil_card { CARD_SOFTHSM, CARD_TPM, CARD_PIV, CARD_READONLY };

/* The profile the environment names in *card; false (and a message) for
 * a value that names none. */
bool testutil_card_from_env(enum testutil_card *card);
const char *testutil_card_name(enum testutil_card card);
/* Its P11SHIM_PROFILE_* flags (0 for SoftHSM as it is). */
unsigned testutil_card_flags(enum testutil_card card);

/* p11shim_set_profile() of the shim loaded in this process; false when
 * the shim was not built. */
bool testutil_card_set_profile(unsigned flags);

/* Puts a card's own keys on the token labelled label with pkcs11-tool
 * (SoftHSM directly, whatever the profile), as a card's provisioning
 * would, under the label container: openssl's rsa1024 (tests/vectors) as
 * the key management key, ID 03, and with piv also rsa512 as the PIV
 * digital signature key, ID 02; private and public halves, both allowed
 * to sign and decrypt, so that only the card's layout tells them apart.
 * Asserts nothing. */
bool testutil_card_keys_load(const char *label, bool piv, const char *container);

#endif
