/* Key specs recorded in CKA_ID, card layouts, and the answers for what a
 * card cannot make: see key-card.h. */
#include "config.h"
#include "key-card.h"
#include "p11call.h"
#include "token-ops.h"
#include "trace.h"

#include <string.h>
#include <sys/random.h>

static const unsigned char id_magic[4] = { 0xca, 0x11, 0x4b, 0x53 };

enum { ID_SPEC_AT = sizeof id_magic, ID_RANDOM_AT = sizeof id_magic + 1 };

CK_RV key_id_draw(struct tsession *ts, DWORD spec, unsigned char id[KEY_ID_LEN])
{
	unsigned char *rnd = id + ID_RANDOM_AT;
	size_t rnd_len = KEY_ID_LEN - ID_RANDOM_AT;
	CK_RV rv = CKR_FUNCTION_NOT_SUPPORTED;

	memcpy(id, id_magic, sizeof id_magic);
	id[ID_SPEC_AT] = (unsigned char)spec;
	if (token_cap(ts->tok, TOKEN_CAP_RANDOM) != TOKEN_CAP_NO) {
		rv = token_random(ts, rnd, rnd_len);
		token_cap_learn(ts->tok, TOKEN_CAP_RANDOM, rv);
	}
	if (rv == CKR_RANDOM_NO_RNG || token_rv_is_refusal(rv)) {
		ssize_t got = getrandom(rnd, rnd_len, 0);

		rv = got == (ssize_t)rnd_len ? CKR_OK : CKR_FUNCTION_FAILED;
	}
	return rv;
}

DWORD key_id_spec(const void *id, CK_ULONG id_len)
{
	const unsigned char *p = id;

	if (p == NULL || id_len != KEY_ID_LEN || memcmp(p, id_magic, sizeof id_magic) != 0)
		return 0;
	if ((p[ID_SPEC_AT] & ~KEY_ID_DH_Q) == AT_KEYEXCHANGE ||
	    (p[ID_SPEC_AT] & ~KEY_ID_DH_Q) == AT_SIGNATURE)
		return p[ID_SPEC_AT] & ~KEY_ID_DH_Q;
	return 0;
}

void key_id_mark_dh_q(unsigned char id[KEY_ID_LEN], bool on)
{
	if (on)
		id[ID_SPEC_AT] |= KEY_ID_DH_Q;
	else
		id[ID_SPEC_AT] &= (unsigned char)~KEY_ID_DH_Q;
}

bool key_id_has_dh_q(const void *id, CK_ULONG id_len)
{
	const unsigned char *p = id;

	return key_id_spec(id, id_len) != 0 && (p[ID_SPEC_AT] & KEY_ID_DH_Q) != 0;
}

DWORD key_spec_classify(const struct token *tok, const void *id, CK_ULONG id_len,
			bool decrypts)
{
	DWORD recorded = key_id_spec(id, id_len);

	/* The record is believed where the usages cannot say (a token that
	 * couples them) or say the same: an ID is only a name, and a key
	 * whose usages contradict it is judged by what it can do. */
	if (recorded != 0 &&
	    (token_couples_usage(tok) || (recorded == AT_KEYEXCHANGE) == decrypts))
		return recorded;
	/* OpenSC's PIV slots: 02 is the 9C digital signature key, which the
	 * card also lets decrypt; 03 the 9D key management key. */
	if (token_has_piv_key_ids(tok) && id != NULL && id_len == 1) {
		unsigned char slot = *(const unsigned char *)id;

		if (slot == 0x02)
			return AT_SIGNATURE;
		if (slot == 0x03)
			return AT_KEYEXCHANGE;
	}
	return decrypts ? AT_KEYEXCHANGE : AT_SIGNATURE;
}

DWORD key_store_check(struct tsession *ts, bool on_token)
{
	if (!on_token || !token_is_write_protected(ts->tok))
		return ERROR_SUCCESS;
	/* Access denied: nothing can be stored on this token, which no
	 * other flag or algorithm would change. */
	p11call_note_refusal(P11_C_CreateObject, CKR_TOKEN_WRITE_PROTECTED);
	return NTE_PERM;
}

DWORD key_exportable_check(struct tsession *ts, bool exportable)
{
	if (!exportable || token_cap(ts->tok, TOKEN_CAP_EXTRACTABLE_PRIVATE) != TOKEN_CAP_NO)
		return ERROR_SUCCESS;
	/* Windows' own answer to a flag the provider cannot honour
	 * (CryptGenKey: "the dwFlags parameter contains a value that is not
	 * valid"); without CRYPT_EXPORTABLE the same call succeeds. */
	p11call_note_refusal(P11_C_GenerateKeyPair, CKR_ATTRIBUTE_VALUE_INVALID);
	trace_message("CRYPT_EXPORTABLE: the token makes no extractable private key");
	return NTE_BAD_FLAGS;
}

DWORD key_exportable_learn(struct tsession *ts, bool exportable, CK_RV rv)
{
	if (rv == CKR_OK) {
		if (exportable)
			token_cap_learn(ts->tok, TOKEN_CAP_EXTRACTABLE_PRIVATE, rv);
		return ERROR_SUCCESS;
	}
	if (!exportable || rv != CKR_ATTRIBUTE_VALUE_INVALID)
		return ERROR_SUCCESS;
	token_cap_learn(ts->tok, TOKEN_CAP_EXTRACTABLE_PRIVATE, rv);
	trace_message("CRYPT_EXPORTABLE: the token refused an extractable private key");
	return NTE_BAD_FLAGS;
}
