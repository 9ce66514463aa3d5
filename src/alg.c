/* ALG_ID facts in one table. */
#include "config.h"
#include "alg.h"
#include "util.h"

struct alg_info {
	ALG_ID alg;
	CK_KEY_TYPE key_type;
	size_t min_len;   /* key bytes; 0 for asymmetric keys */
	size_t max_len;
	bool des_family;
};

static const struct alg_info alg_table[] = {
	{ CALG_AES_128, CKK_AES, 16, 16, false },
	{ CALG_AES_192, CKK_AES, 24, 24, false },
	{ CALG_AES_256, CKK_AES, 32, 32, false },
	/* DES keys carry their parity bits: 56 effective bits in 8 bytes. */
	{ CALG_DES, CKK_DES, 8, 8, true },
	{ CALG_3DES_112, CKK_DES2, 16, 16, true },
	{ CALG_3DES, CKK_DES3, 24, 24, true },
	{ CALG_RC2, CKK_RC2, 5, 16, false },
	{ CALG_RC4, CKK_RC4, 5, 16, false },
	{ CALG_RSA_KEYX, CKK_RSA, 0, 0, false },
	{ CALG_RSA_SIGN, CKK_RSA, 0, 0, false },
};

static const struct alg_info *alg_lookup(ALG_ID alg)
{
	for (size_t i = 0; i < CAPI11_N_ELEMENTS(alg_table); i++) {
		if (alg_table[i].alg == alg)
			return &alg_table[i];
	}
	return NULL;
}

bool alg_symmetric_key_range(ALG_ID alg, size_t *min, size_t *max)
{
	const struct alg_info *info = alg_lookup(alg);

	if (info == NULL || info->max_len == 0)
		return false;
	if (min != NULL)
		*min = info->min_len;
	if (max != NULL)
		*max = info->max_len;
	return true;
}

bool alg_symmetric_key_len(ALG_ID alg, size_t *len)
{
	size_t min, max;

	if (!alg_symmetric_key_range(alg, &min, &max) || min != max)
		return false;
	if (len != NULL)
		*len = min;
	return true;
}

bool alg_is_des_family(ALG_ID alg)
{
	const struct alg_info *info = alg_lookup(alg);

	return info != NULL && info->des_family;
}

bool alg_is_aes(ALG_ID alg)
{
	return alg == CALG_AES_128 || alg == CALG_AES_192 || alg == CALG_AES_256;
}

bool alg_is_rsa(ALG_ID alg)
{
	return alg == CALG_RSA_KEYX || alg == CALG_RSA_SIGN;
}

bool alg_key_type(ALG_ID alg, CK_KEY_TYPE *type)
{
	const struct alg_info *info = alg_lookup(alg);

	if (info == NULL)
		return false;
	if (type != NULL)
		*type = info->key_type;
	return true;
}
