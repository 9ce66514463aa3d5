/* The quirks table: see quirks.h. */
#include "config.h"
#include "quirks.h"
#include "util.h"

#include <string.h>

struct quirk_entry {
	/* NULL matches anything; at least one field is given. */
	const char *library_manufacturer;
	const char *library_description;
	const char *token_manufacturer;
	const char *token_model;
	struct quirks quirks;
};

/* Quirks of a token's implementation are keyed by the token's own info,
 * which a module in between (p11-kit's client module, reaching a token
 * that p11-kit server exports) passes through unchanged. */
static const struct quirk_entry table[] = {
	{ NULL, NULL, "SoftHSM project", NULL,
	  { "SoftHSM", QUIRK_STORE_RACE | QUIRK_NO_UNWRAP_VALUE_LEN, QUIRK_KEY_SIZE_BITS } },
	/* Every openCryptoki token (its software token "IBM SoftTok", ICA,
	 * CCA, EP11, TPM) reports "IBM Corp."; the key types are common code
	 * there, and none has CKK_DES2. */
	{ NULL, NULL, "IBM Corp.", NULL,
	  { "openCryptoki", QUIRK_NO_DES2, QUIRK_KEY_SIZE_BITS } },
	/* OpenSC's PIV emulation (pkcs15-piv.c) names its cards' maker
	 * "piv_II". */
	{ NULL, NULL, "piv_II", NULL,
	  { "OpenSC PIV", QUIRK_PIV_KEY_IDS, QUIRK_KEY_SIZE_GUESS } },
	/* tpm2-pkcs11 says so in its module info (src/lib/general.c); its
	 * token info names the TPM's vendor instead. */
	{ "tpm2-software.github.io", NULL, NULL, NULL,
	  { "tpm2-pkcs11", QUIRK_COUPLED_USAGE | QUIRK_NO_EXTRACTABLE_PRIVATE,
	    QUIRK_KEY_SIZE_GUESS } },
	/* NSS's softokn, the default companion token (companion.h). */
	{ NULL, NULL, "Mozilla Foundation", NULL,
	  { "NSS softokn", QUIRK_RC2_SIZE_BYTES, QUIRK_KEY_SIZE_BITS } },
	/* p11-kit's client module (and its proxy, which says the same): after
	 * the token entries, so that a token behind it keeps its own. */
	{ "PKCS#11 Kit", "PKCS#11 Kit Proxy Module", NULL, NULL,
	  { "p11-kit client", QUIRK_SIGPIPE, QUIRK_KEY_SIZE_GUESS } },
};

static const struct quirks none = { "none", 0, QUIRK_KEY_SIZE_GUESS };

/* Whether the blank-padded field (n bytes) holds want, trimmed. */
static bool padded_equal(const CK_UTF8CHAR *field, size_t n, const char *want)
{
	size_t len = strlen(want);

	if (len > n || memcmp(field, want, len) != 0)
		return false;
	for (; len < n; len++) {
		if (field[len] != ' ' && field[len] != '\0')
			return false;
	}
	return true;
}

static bool entry_matches(const struct quirk_entry *e, const CK_INFO *module,
			  const CK_TOKEN_INFO *token)
{
	return (e->library_manufacturer == NULL ||
		padded_equal(module->manufacturerID, sizeof module->manufacturerID,
			     e->library_manufacturer)) &&
	       (e->library_description == NULL ||
		padded_equal(module->libraryDescription, sizeof module->libraryDescription,
			     e->library_description)) &&
	       (e->token_manufacturer == NULL ||
		padded_equal(token->manufacturerID, sizeof token->manufacturerID,
			     e->token_manufacturer)) &&
	       (e->token_model == NULL ||
		padded_equal(token->model, sizeof token->model, e->token_model));
}

const struct quirks *quirks_lookup(const CK_INFO *module, const CK_TOKEN_INFO *token)
{
	size_t i;

	for (i = 0; i < CAPI11_N_ELEMENTS(table); i++) {
		if (entry_matches(&table[i], module, token))
			return &table[i].quirks;
	}
	return &none;
}

CK_ULONG quirks_rsa_bits(const struct quirks *q, CK_ULONG size, CK_ULONG max_size)
{
	switch (q->rsa_key_size_unit) {
	case QUIRK_KEY_SIZE_BYTES:
		return size * 8;
	case QUIRK_KEY_SIZE_BITS:
		return size;
	default:
		return max_size != 0 && max_size < 64 ? size * 8 : size;
	}
}
