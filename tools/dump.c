/* The blob decoder behind `capi11-tool dump`. It walks a blob field by field
 * with one cursor, checking that each field fits in what remains before
 * reading it; the first problem ends the walk with an "error:" line. The
 * layouts are Microsoft's (BLOBHEADER, RSAPUBKEY, DSSPUBKEY, DHPUBKEY and
 * their version 3 forms) and capi11's own OPAQUEKEYBLOB
 * (docs/OPAQUEKEYBLOB.md).
 *
 * For the blob types CryptImportKey takes, dump's checks are the import's
 * checks, in the import's order (SPEC section 5; src/blob.c and
 * src/import.c), and each error names the code CryptImportKey gives for
 * it. The tool may not link the library's private parser, so the rules are
 * restated here, from the same tables: tests/test-tool feeds every
 * malformed blob of its list to both dump and CryptImportKey, and fails on
 * any disagreement. What only a token can judge (its RSA size range, its
 * mechanisms, the key that opens a wrapped blob, the length of the key
 * inside a SIMPLEBLOB) is left to the import, and said so. */
#include "config.h"
#include "dump.h"
#include "le32.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <wincrypt.h>

#include "names.h"

/* The library's absolute RSA range (alg.h ALG_RSA_MIN_BITS/MAX_BITS); a
 * token may narrow it further at import. */
#define RSA_MIN_BITS 384u
#define RSA_MAX_BITS 16384u
#define DSS_Q_LEN 20u            /* q and x of a version 2 DSS key: 160 bits */
#define DSS_SEED_LEN 24u         /* DSSSEED: counter + 20-byte seed */
#define BN_BYTES_PER_LINE 32u
#define BLOB_HEADER_LEN 8u
#define RSA_HEADER_LEN 20u       /* BLOBHEADER + RSAPUBKEY */
#define ALGID_HEADER_LEN 12u     /* BLOBHEADER + one ALG_ID or DWORD */
#define OPAQUE_HEADER_LEN_V1 36u /* format version 1: no usage field */
#define OPAQUE_HEADER_LEN 40u    /* format version 2 */
#define OPAQUE_MAGIC 0x4F313143u /* "C11O" */
#define OPAQUE_USAGE_KEK 0x1u    /* a wrap-only key-encryption key */
#define CKM_AES_KEY_WRAP_ 0x2109u
#define CKM_AES_KEY_WRAP_PAD_ 0x210Au
#define CKK_RSA_ 0x00u
#define CKK_RC2_ 0x11u
#define CKK_RC4_ 0x12u
#define CKK_DES_ 0x13u
#define CKK_DES2_ 0x14u
#define CKK_DES3_ 0x15u
#define CKK_AES_ 0x1Fu
#define DES3_WRAPPED_LEN 40u     /* RFC 3217: 24 key bytes, 8 ICV, 8 IV */

/* The algorithms capi11 imports, as src/alg.c lists them: key type and key
 * lengths in bytes (0 for RSA), and whether a wrong length is reported as
 * NTE_BAD_FLAGS (the DES family, as Windows' CSPs do). */
struct dump_alg {
	ALG_ID alg;
	DWORD key_type;
	size_t min_len, max_len;
	bool des_family;
};

static const struct dump_alg dump_algs[] = {
	{ CALG_AES_128, CKK_AES_, 16, 16, false },
	{ CALG_AES_192, CKK_AES_, 24, 24, false },
	{ CALG_AES_256, CKK_AES_, 32, 32, false },
	{ CALG_DES, CKK_DES_, 8, 8, true },
	{ CALG_3DES_112, CKK_DES2_, 16, 16, true },
	{ CALG_3DES, CKK_DES3_, 24, 24, true },
	{ CALG_RC2, CKK_RC2_, 5, 16, false },
	{ CALG_RC4, CKK_RC4_, 5, 16, false },
	{ CALG_RSA_KEYX, CKK_RSA_, 0, 0, false },
	{ CALG_RSA_SIGN, CKK_RSA_, 0, 0, false },
};

static const struct dump_alg *dump_alg_find(ALG_ID alg)
{
	for (size_t i = 0; i < sizeof dump_algs / sizeof dump_algs[0]; i++)
		if (dump_algs[i].alg == alg)
			return &dump_algs[i];
	return NULL;
}

/* A session-key algorithm capi11 knows (alg_symmetric_key_range). */
static const struct dump_alg *dump_alg_secret(ALG_ID alg)
{
	const struct dump_alg *a = dump_alg_find(alg);

	return a != NULL && a->max_len != 0 ? a : NULL;
}

static bool alg_is_aes(ALG_ID alg)
{
	return alg == CALG_AES_128 || alg == CALG_AES_192 || alg == CALG_AES_256;
}

/* RFC 3394 (pad false) needs a multiple of 8 of at least 16 bytes and adds
 * 8; RFC 5649 (pad true) rounds up to whole blocks and adds 8. 0: no wrap. */
static size_t aes_wrap_len(size_t key_len, bool pad)
{
	if (!pad)
		return key_len >= 16 && key_len % 8 == 0 ? key_len + 8 : 0;
	return key_len == 0 ? 0 : (key_len + 7) / 8 * 8 + 8;
}

struct dumper {
	FILE *out;
	const unsigned char *data;
	size_t len;
	size_t off;
	bool bad;
};

static void dump_line(struct dumper *d, size_t off, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void dump_line(struct dumper *d, size_t off, const char *field, const char *fmt, ...)
{
	va_list ap;

	fprintf(d->out, "0x%04zx  %-20s ", off, field);
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	fputc('\n', d->out);
}

/* Only the first problem is reported: later fields would be read from the
 * wrong offsets and their complaints would mislead. code is what
 * CryptImportKey returns for the same blob. */
static bool dump_refuse(struct dumper *d, DWORD code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool dump_refuse(struct dumper *d, DWORD code, const char *fmt, ...)
{
	const char *name = names_error(code);
	va_list ap;

	if (d->bad)
		return false;
	d->bad = true;
	fputs("error: ", d->out);
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	fprintf(d->out, " (CryptImportKey: %s)\n", name ? name : "?");
	return false;
}

static size_t dump_remaining(const struct dumper *d)
{
	return d->len - d->off;
}

/* Every length shortfall is NTE_BAD_DATA at import. */
static bool dump_need(struct dumper *d, size_t n, const char *field)
{
	if (n <= dump_remaining(d))
		return true;
	return dump_refuse(d, NTE_BAD_DATA, "truncated: %s needs %zu bytes at offset 0x%zx, only "
			   "%zu remain", field, n, d->off, dump_remaining(d));
}

static DWORD dump_peek32_at(const struct dumper *d, size_t off)
{
	return le32_get(d->data + off);
}

static DWORD dump_peek32(const struct dumper *d)
{
	return dump_peek32_at(d, d->off);
}

static bool dump_u32(struct dumper *d, const char *field, DWORD *value)
{
	if (!dump_need(d, 4, field))
		return false;
	*value = dump_peek32(d);
	d->off += 4;
	return true;
}

/* A DWORD printed in decimal and hex. */
static bool dump_count(struct dumper *d, const char *field, DWORD *value)
{
	size_t at = d->off;

	if (!dump_u32(d, field, value))
		return false;
	dump_line(d, at, field, "%lu (0x%08lx)", (unsigned long)*value, (unsigned long)*value);
	return true;
}

static bool dump_algid(struct dumper *d, const char *field, ALG_ID *alg)
{
	size_t at = d->off;
	const char *name;

	if (!dump_u32(d, field, alg))
		return false;
	name = names_alg(*alg);
	dump_line(d, at, field, "0x%08lx %s", (unsigned long)*alg, name ? name : "(unknown ALG_ID)");
	return true;
}

static const char *alg_text(ALG_ID alg)
{
	const char *name = names_alg(alg);

	return name ? name : "an unknown ALG_ID";
}

/* A magic is a little-endian DWORD whose bytes spell a tag: "RSA1" is
 * 0x31415352. Both forms are printed, non-printable bytes escaped. */
static void dump_magic_line(struct dumper *d, size_t at, DWORD magic)
{
	char ascii[4 * 4 + 1];
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)(magic >> (8 * i));

		if (c == 0)
			n += (size_t)snprintf(ascii + n, sizeof(ascii) - n, "\\0");
		else if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			ascii[n++] = (char)c;
		else
			n += (size_t)snprintf(ascii + n, sizeof(ascii) - n, "\\x%02x", c);
	}
	ascii[n] = '\0';
	dump_line(d, at, "magic", "0x%08lx \"%s\"", (unsigned long)magic, ascii);
}

static void dump_hex_lines(struct dumper *d, const unsigned char *p, size_t n, bool reverse)
{
	for (size_t i = 0; i < n; i += BN_BYTES_PER_LINE) {
		size_t end = i + BN_BYTES_PER_LINE < n ? i + BN_BYTES_PER_LINE : n;

		fputs("        ", d->out);
		for (size_t j = i; j < end; j++)
			fprintf(d->out, "%02x", reverse ? p[n - 1 - j] : p[j]);
		fputc('\n', d->out);
	}
}

/* A big number stored little-endian, printed most significant byte first
 * as OpenSSL and PKCS#11 show it. */
static bool dump_number(struct dumper *d, const char *field, size_t n)
{
	size_t at = d->off;

	if (!dump_need(d, n, field))
		return false;
	dump_line(d, at, field, "%zu bytes, little-endian; value (big-endian hex):", n);
	dump_hex_lines(d, d->data + d->off, n, true);
	d->off += n;
	return true;
}

/* Bytes that are not a number (ciphertext, key bytes), in stored order. */
static bool dump_raw(struct dumper *d, const char *field, size_t n, const char *note)
{
	size_t at = d->off;

	if (!dump_need(d, n, field))
		return false;
	dump_line(d, at, field, "%zu bytes%s%s:", n, note ? ", " : "", note ? note : "");
	dump_hex_lines(d, d->data + d->off, n, false);
	d->off += n;
	return true;
}

/* ---- RSA ------------------------------------------------------------------ */

/* Whether the little-endian number p[0..n) is 0 or 1. */
static bool number_at_most_one(const unsigned char *p, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (p[i] != 0)
			return false;
	return n == 0 || p[0] <= 1;
}

/* The import's order (blob.c rsa_parse): magic (already judged), then the
 * length the declared bitlen needs, then aiKeyAlg, then bitlen and the
 * exponent; then the degenerate keys the import refuses (a modulus of 0,
 * 1 or even, an exponent below 3 or even: RSA over them is no RSA). */
static bool dump_rsa(struct dumper *d, bool private_blob, ALG_ID alg)
{
	DWORD bitlen, pubexp;
	size_t at = d->off, k, h, need;
	const unsigned char *modulus;

	if (!dump_need(d, 8, "RSAPUBKEY"))
		return false;
	bitlen = dump_peek32(d);
	pubexp = dump_peek32_at(d, d->off + 4);
	dump_line(d, at, "bitlen", "%lu (0x%08lx)", (unsigned long)bitlen, (unsigned long)bitlen);
	dump_line(d, at + 4, "pubexp", "%lu (0x%lx)", (unsigned long)pubexp,
		  (unsigned long)pubexp);
	d->off += 8;
	/* The import sizes the numbers by bitlen / 8 before it judges bitlen:
	 * a huge bitlen is a truncated blob, an odd one is judged below. */
	k = bitlen / 8;
	h = (k + 1) / 2;
	need = RSA_HEADER_LEN + k + (private_blob ? 5 * h : 0);
	if (need > d->len)
		return dump_refuse(d, NTE_BAD_DATA, "truncated: bitlen %lu needs %zu bytes (%s), "
				   "the blob has %zu", (unsigned long)bitlen, need, private_blob ?
				   "modulus and the five CRT numbers" : "the modulus", d->len);
	if (alg != CALG_RSA_KEYX && alg != CALG_RSA_SIGN)
		return dump_refuse(d, NTE_BAD_ALGID, "aiKeyAlg 0x%08lx is not CALG_RSA_KEYX or "
				   "CALG_RSA_SIGN", (unsigned long)alg);
	if (bitlen % 8 != 0 || bitlen < RSA_MIN_BITS || bitlen > RSA_MAX_BITS)
		return dump_refuse(d, NTE_BAD_DATA, "bitlen %lu: must be a multiple of 8 from %u to "
				   "%u", (unsigned long)bitlen, RSA_MIN_BITS, RSA_MAX_BITS);
	if (pubexp < 3 || pubexp % 2 == 0)
		return dump_refuse(d, NTE_BAD_DATA, "pubexp %lu: an RSA public exponent must be odd "
				   "and at least 3", (unsigned long)pubexp);
	modulus = d->data + d->off;
	if (number_at_most_one(modulus, k) || modulus[0] % 2 == 0)
		return dump_refuse(d, NTE_BAD_DATA, "modulus is %s: an RSA modulus is odd and "
				   "greater than 1", number_at_most_one(modulus, k) ?
				   (modulus[0] == 0 ? "0" : "1") : "even");
	dump_number(d, "modulus", k);
	if (d->data[d->off - 1] == 0)
		dump_line(d, d->off - 1, "(note)", "the modulus is shorter than bitlen says");
	if (!private_blob)
		return true;
	dump_number(d, "prime1", h);
	dump_number(d, "prime2", h);
	dump_number(d, "exponent1", h);
	dump_number(d, "exponent2", h);
	dump_number(d, "coefficient", h);
	/* Windows imports a blob whose privateExponent is cut short (the CRT
	 * values suffice), so a short one is reported but is not an error. */
	if (dump_remaining(d) < k) {
		size_t have = dump_remaining(d);

		dump_line(d, d->off, "(note)", "privateExponent truncated: %zu of %zu bytes "
			  "(Windows accepts this; the missing high bytes read as zero)", have, k);
		return have == 0 ? true : dump_number(d, "privateExponent", have);
	}
	return dump_number(d, "privateExponent", k);
}

/* ---- DSS and DH ------------------------------------------------------------ */

/* Layouts from Microsoft's pages: DSSPUBKEY and DHPUBKEY {magic, bitlen}
 * (version 2), DSSPUBKEY_VER3/DHPUBKEY_VER3 {magic, bitlenP, bitlenQ,
 * bitlenJ, DSSSEED} and DSSPRIVKEY_VER3/DHPRIVKEY_VER3 (bitlenX before the
 * DSSSEED) for version 3, and DSSSEED {counter, seed[20]}: a counter of
 * 0xFFFFFFFF says the seed is not available, a bitlenJ (or a DH
 * bitlenQ) of 0 that the number is not in the blob. */
#define DSS_MIN_BITS 512u
#define DSS_MAX_BITS 1024u
#define DSS_STEP_BITS 64u
#define DSS_NO_SEED 0xFFFFFFFFu

static bool dump_dss_seed(struct dumper *d)
{
	size_t at = d->off;
	DWORD counter;

	if (!dump_need(d, DSS_SEED_LEN, "DSSSEED"))
		return false;
	counter = dump_peek32(d);
	d->off += 4;
	if (counter == DSS_NO_SEED)
		dump_line(d, at, "DSSSeed.counter", "%lu (0x%08lx) no seed: the seed and counter "
			  "are not available", (unsigned long)counter, (unsigned long)counter);
	else
		dump_line(d, at, "DSSSeed.counter", "%lu (0x%08lx) iterations of the prime "
			  "generation that found p", (unsigned long)counter, (unsigned long)counter);
	return dump_raw(d, "DSSSeed.seed", 20, counter == DSS_NO_SEED ? "unused" :
			"the seed that generated q and p");
}

/* A version 3 bit length, with what a zero means there. */
static bool dump_bitlen(struct dumper *d, const char *field, DWORD *value, const char *if_zero)
{
	size_t at = d->off;

	if (!dump_u32(d, field, value))
		return false;
	dump_line(d, at, field, "%lu (0x%08lx)%s%s", (unsigned long)*value, (unsigned long)*value,
		  *value == 0 && if_zero ? " " : "", *value == 0 && if_zero ? if_zero : "");
	return true;
}

/* Compares little-endian numbers of any widths: <0, 0, >0. */
static int le_cmp(const unsigned char *a, size_t la, const unsigned char *b, size_t lb)
{
	while (la > 0 && a[la - 1] == 0)
		la--;
	while (lb > 0 && b[lb - 1] == 0)
		lb--;
	if (la != lb)
		return la < lb ? -1 : 1;
	while (la-- > 0)
		if (a[la] != b[la])
			return a[la] < b[la] ? -1 : 1;
	return 0;
}

/* Where a DSS blob's numbers start, once their widths are checked. */
struct dss_at {
	size_t p, q, g, y, x, p_len;
};

/* The value checks of the import (src/blob-dss.c), in its order: p and q
 * with their top bit set (FIPS 186's lengths), 1 < g < p, 1 < y < p,
 * 0 < x < q. */
static bool dump_dss_values(struct dumper *d, const struct dss_at *n, bool has_y, bool has_x)
{
	static const unsigned char one = 1;
	const unsigned char *b = d->data;

	if (!(b[n->p + n->p_len - 1] & 0x80))
		return dump_refuse(d, NTE_BAD_DATA, "p does not have its top bit set: it is shorter "
				   "than bitlen says");
	if (!(b[n->q + 20 - 1] & 0x80))
		return dump_refuse(d, NTE_BAD_DATA, "q does not have its top bit set: a DSS q has "
				   "160 bits");
	if (le_cmp(b + n->g, n->p_len, &one, 1) <= 0 ||
	    le_cmp(b + n->g, n->p_len, b + n->p, n->p_len) >= 0)
		return dump_refuse(d, NTE_BAD_DATA, "g is not between 1 and p");
	if (has_y && (le_cmp(b + n->y, n->p_len, &one, 1) <= 0 ||
		      le_cmp(b + n->y, n->p_len, b + n->p, n->p_len) >= 0))
		return dump_refuse(d, NTE_BAD_DATA, "y is not between 1 and p");
	if (has_x && (le_cmp(b + n->x, 20, &one, 0) == 0 ||
		      le_cmp(b + n->x, 20, b + n->q, 20) >= 0))
		return dump_refuse(d, NTE_BAD_DATA, "x is not between 0 and q");
	return true;
}

static bool dss_bits_ok(DWORD bits)
{
	return bits % DSS_STEP_BITS == 0 && bits >= DSS_MIN_BITS && bits <= DSS_MAX_BITS;
}

/* A CALG_DSS_SIGN blob, by the import's rules in a DSS context
 * (blob_parse_dss): the magic of the type and version, the bit lengths,
 * the length they need, then the values; all NTE_BAD_DATA. */
static bool dump_dss(struct dumper *d, bool private_blob, BYTE version, DWORD magic)
{
	DWORD want = private_blob ? (version == 3 ? CAPI11_DSS4_MAGIC : CAPI11_DSS2_MAGIC)
				  : (version == 3 ? CAPI11_DSS3_MAGIC : CAPI11_DSS1_MAGIC);
	DWORD bits_p, bits_q = 160, bits_j = 0, bits_x = 160;
	struct dss_at n = { 0 };
	size_t need, P;

	if (magic != want)
		return dump_refuse(d, NTE_BAD_DATA, "magic 0x%08lx: a version %u DSS %s has \"DSS%c\"",
				   (unsigned long)magic, version, private_blob ? "PRIVATEKEYBLOB" :
				   "PUBLICKEYBLOB", (char)(want >> 24));
	if (version == 2) {
		if (!dump_count(d, "bitlen", &bits_p))
			return false;
	} else {
		/* The import wants the whole fixed part before it reads it. */
		if (!dump_need(d, (private_blob ? 16 : 12) + DSS_SEED_LEN,
			       private_blob ? "DSSPRIVKEY_VER3" : "DSSPUBKEY_VER3"))
			return false;
		dump_bitlen(d, "bitlenP", &bits_p, NULL);
		dump_bitlen(d, "bitlenQ", &bits_q, "(Q is not in the blob)");
		dump_bitlen(d, "bitlenJ", &bits_j, "(J is not in the blob)");
		if (private_blob)
			dump_bitlen(d, "bitlenX", &bits_x, NULL);
		dump_dss_seed(d);
	}
	if (!dss_bits_ok(bits_p))
		return dump_refuse(d, NTE_BAD_DATA, "%s %lu: DSS primes have 512 to 1024 bits in "
				   "steps of 64", version == 2 ? "bitlen" : "bitlenP",
				   (unsigned long)bits_p);
	if (bits_q != 160)
		return dump_refuse(d, NTE_BAD_DATA, "bitlenQ %lu: a DSS q has 160 bits",
				   (unsigned long)bits_q);
	if (bits_j % 8 != 0 || bits_j > bits_p)
		return dump_refuse(d, NTE_BAD_DATA, "bitlenJ %lu: whole bytes, no longer than p",
				   (unsigned long)bits_j);
	if (bits_x != 160)
		return dump_refuse(d, NTE_BAD_DATA, "bitlenX %lu: a DSS x has 160 bits",
				   (unsigned long)bits_x);
	P = bits_p / 8;
	need = 3 * P + 20 + bits_j / 8 + (private_blob ? 20 : 0);
	if (version == 2)
		need = 2 * P + 20 + (private_blob ? 20 : P) + DSS_SEED_LEN;
	if (need > dump_remaining(d))
		return dump_refuse(d, NTE_BAD_DATA, "truncated: bit length %lu needs %zu more bytes "
				   "at offset 0x%zx, only %zu remain", (unsigned long)bits_p, need,
				   d->off, dump_remaining(d));
	n.p_len = P;
	n.p = d->off;
	dump_number(d, "p", P);
	n.q = d->off;
	dump_number(d, "q", 20);
	n.g = d->off;
	dump_number(d, "g", P);
	if (version == 3) {
		if (bits_j != 0)
			dump_line(d, d->off, "(note)", "j is (p - 1) / q");
		dump_number(d, "j", bits_j / 8);
	}
	if (version == 3 || !private_blob) {
		n.y = d->off;
		dump_number(d, "y", P);
	}
	if (private_blob) {
		n.x = d->off;
		dump_number(d, "x", 20);
	}
	if (version == 2)
		dump_dss_seed(d);
	return dump_dss_values(d, &n, version == 3 || !private_blob, private_blob);
}

/* Diffie-Hellman blobs, by the import's rules (blob_parse_dh): "\0DH1"
 * {bitlen} y; "\0DH2" {bitlen} p, g, x, each bitlen / 8 bytes; version 3
 * {bitlenP, bitlenQ, bitlenJ, [bitlenX,] DSSSEED} p q g j y [x], where Q
 * and J may be absent (0). The prime has 512 to 4096 bits in whole bytes
 * (the Enhanced DSS/DH provider's widest range); bitlenQ, bitlenJ and
 * bitlenX are whole bytes no longer than p, bitlenX not 0; then p and q
 * (when present) have their top bit set, 1 < g < p, 1 < y (< p where p is
 * in the blob), 0 < x < p. All NTE_BAD_DATA. */
#define DH_MIN_BITS 512u
#define DH_MAX_BITS 4096u

static bool dh_bits_ok(DWORD bits)
{
	return bits % 8 == 0 && bits >= DH_MIN_BITS && bits <= DH_MAX_BITS;
}

struct dh_at {
	size_t p, q, g, y, x;     /* offsets; 0 when not in the blob */
	size_t p_len, q_len, x_len;
};

static bool dump_dh_values(struct dumper *d, const struct dh_at *n)
{
	static const unsigned char one = 1;
	const unsigned char *b = d->data;
	size_t P = n->p_len;

	if (n->p != 0 && !(b[n->p + P - 1] & 0x80))
		return dump_refuse(d, NTE_BAD_DATA, "p does not have its top bit set: it is shorter "
				   "than bitlen says");
	if (n->q_len > 0 && !(b[n->q + n->q_len - 1] & 0x80))
		return dump_refuse(d, NTE_BAD_DATA, "q does not have its top bit set: it is shorter "
				   "than bitlenQ says");
	if (n->p != 0 && (le_cmp(b + n->g, P, &one, 1) <= 0 ||
			  le_cmp(b + n->g, P, b + n->p, P) >= 0))
		return dump_refuse(d, NTE_BAD_DATA, "g is not between 1 and p");
	if (n->y != 0 && (le_cmp(b + n->y, P, &one, 1) <= 0 ||
			  (n->p != 0 && le_cmp(b + n->y, P, b + n->p, P) >= 0)))
		return dump_refuse(d, NTE_BAD_DATA, n->p != 0 ? "y is not between 1 and p" :
				   "y is 0 or 1");
	if (n->x != 0 && (le_cmp(b + n->x, n->x_len, &one, 0) == 0 ||
			  le_cmp(b + n->x, n->x_len, b + n->p, P) >= 0))
		return dump_refuse(d, NTE_BAD_DATA, "x is not between 0 and p");
	return true;
}

static bool dump_dh(struct dumper *d, bool private_blob, BYTE version, DWORD magic)
{
	DWORD want = private_blob ? (version == 3 ? CAPI11_DH4_MAGIC : CAPI11_DH2_MAGIC)
				  : (version == 3 ? CAPI11_DH3_MAGIC : CAPI11_DH1_MAGIC);
	DWORD bits_p, bits_q = 0, bits_j = 0, bits_x = 0;
	struct dh_at n = { 0 };
	size_t P, need;

	if (magic != want)
		return dump_refuse(d, NTE_BAD_DATA, "magic 0x%08lx: a version %u DH %s has "
				   "\"\\0DH%c\"", (unsigned long)magic, version, private_blob ?
				   "PRIVATEKEYBLOB" : "PUBLICKEYBLOB", (char)(want >> 24));
	if (version == 2) {
		if (!dump_count(d, "bitlen", &bits_p))
			return false;
	} else {
		/* The import wants the whole fixed part before it reads it. */
		if (!dump_need(d, (private_blob ? 16 : 12) + DSS_SEED_LEN,
			       private_blob ? "DHPRIVKEY_VER3" : "DHPUBKEY_VER3"))
			return false;
		dump_bitlen(d, "bitlenP", &bits_p, NULL);
		dump_bitlen(d, "bitlenQ", &bits_q, "(Q is not available)");
		dump_bitlen(d, "bitlenJ", &bits_j, "(J is not in the blob)");
		if (private_blob)
			dump_bitlen(d, "bitlenX", &bits_x, NULL);
		dump_dss_seed(d);
	}
	if (!dh_bits_ok(bits_p))
		return dump_refuse(d, NTE_BAD_DATA, "%s %lu: DH primes have 512 to 4096 bits in "
				   "whole bytes", version == 2 ? "bitlen" : "bitlenP",
				   (unsigned long)bits_p);
	if (bits_q % 8 != 0 || bits_q > bits_p)
		return dump_refuse(d, NTE_BAD_DATA, "bitlenQ %lu: whole bytes, no longer than p",
				   (unsigned long)bits_q);
	if (bits_j % 8 != 0 || bits_j > bits_p)
		return dump_refuse(d, NTE_BAD_DATA, "bitlenJ %lu: whole bytes, no longer than p",
				   (unsigned long)bits_j);
	if (bits_x % 8 != 0 || bits_x > bits_p || (version == 3 && private_blob && bits_x == 0))
		return dump_refuse(d, NTE_BAD_DATA, "bitlenX %lu: whole bytes, not 0, no longer "
				   "than p", (unsigned long)bits_x);
	P = bits_p / 8;
	if (version == 2)
		need = private_blob ? 3 * P : P;
	else
		need = 3 * P + bits_q / 8 + bits_j / 8 + bits_x / 8;
	if (need > dump_remaining(d))
		return dump_refuse(d, NTE_BAD_DATA, "truncated: bit lengths %lu need %zu more bytes "
				   "at offset 0x%zx, only %zu remain", (unsigned long)bits_p, need,
				   d->off, dump_remaining(d));
	n.p_len = P;
	if (version == 2 && !private_blob) {
		n.y = d->off;
		dump_number(d, "y", P);
		return dump_dh_values(d, &n);
	}
	n.p = d->off;
	dump_number(d, "p", P);
	if (version == 3) {
		n.q = d->off;
		n.q_len = bits_q / 8;
		if (n.q_len > 0)
			dump_number(d, "q", n.q_len);
	}
	n.g = d->off;
	dump_number(d, "g", P);
	if (version == 3) {
		if (bits_j != 0)
			dump_number(d, "j", bits_j / 8);
		n.y = d->off;
		dump_number(d, "y", P);
	}
	if (private_blob) {
		n.x = d->off;
		n.x_len = version == 3 ? bits_x / 8 : P;
		dump_number(d, "x", n.x_len);
	}
	return dump_dh_values(d, &n);
}

/* ---- PUBLICKEYBLOB / PRIVATEKEYBLOB ------------------------------------------ */

static bool magic_is_private(DWORD magic)
{
	return magic == CAPI11_RSA2_MAGIC || magic == CAPI11_DSS2_MAGIC ||
	       magic == CAPI11_DSS4_MAGIC || magic == CAPI11_DH2_MAGIC ||
	       magic == CAPI11_DH4_MAGIC;
}

static bool magic_is_known(DWORD magic)
{
	return magic == CAPI11_RSA1_MAGIC || magic == CAPI11_RSA2_MAGIC ||
	       magic == CAPI11_DSS1_MAGIC || magic == CAPI11_DSS2_MAGIC ||
	       magic == CAPI11_DSS3_MAGIC || magic == CAPI11_DSS4_MAGIC ||
	       magic == CAPI11_DH1_MAGIC || magic == CAPI11_DH2_MAGIC ||
	       magic == CAPI11_DH3_MAGIC || magic == CAPI11_DH4_MAGIC;
}

static bool magic_is_rsa(DWORD magic)
{
	return magic == CAPI11_RSA1_MAGIC || magic == CAPI11_RSA2_MAGIC;
}

static bool alg_is_dh(ALG_ID alg)
{
	return alg == CALG_DH_SF || alg == CALG_DH_EPHEM;
}

/* The import parses a key pair blob by its aiKeyAlg: CALG_DSS_SIGN by the
 * DSS rules (in a DSS context; an RSA context refuses the ALG_ID with
 * NTE_BAD_ALGID before reading on), every other ALG_ID by the RSA rules,
 * where a DSS or DH magic is NTE_BAD_DATA; CALG_DH_SF and CALG_DH_EPHEM by
 * the DH rules (also in a DSS/DH context). */
static bool dump_key_pair_blob(struct dumper *d, BYTE type, BYTE version, ALG_ID alg)
{
	bool private_blob = type == PRIVATEKEYBLOB;
	size_t at = d->off;
	DWORD magic;

	if (!dump_u32(d, "magic", &magic))
		return false;
	dump_magic_line(d, at, magic);
	if (alg == CALG_DSS_SIGN)
		return dump_dss(d, private_blob, version, magic);
	if (alg_is_dh(alg))
		return dump_dh(d, private_blob, version, magic);
	if (!magic_is_known(magic)) {
		if (private_blob)
			return dump_refuse(d, NTE_BAD_DATA, "unknown magic 0x%08lx: not RSA2, DSS2, "
					   "DSS4, \\0DH2 or \\0DH4 (a PRIVATEKEYBLOB encrypted under a "
					   "session key has ciphertext here and cannot be decoded "
					   "without that key)", (unsigned long)magic);
		return dump_refuse(d, NTE_BAD_DATA, "unknown magic 0x%08lx: not RSA1, DSS1, DSS3, "
				   "\\0DH1 or \\0DH3", (unsigned long)magic);
	}
	if (magic_is_private(magic) != private_blob)
		return dump_refuse(d, NTE_BAD_DATA, "a %s magic in a %s", magic_is_private(magic) ?
				   "private-key" : "public-key", names_blob_type(type));
	if (!magic_is_rsa(magic))
		return dump_refuse(d, NTE_BAD_DATA, "aiKeyAlg 0x%08lx does not go with this magic",
				   (unsigned long)alg);
	return dump_rsa(d, private_blob, alg);
}

/* ---- Session-key blobs ----------------------------------------------------------- */

/* The import (blob.c blob_parse_simple): the ciphertext is as long as the
 * container's exchange key's modulus, which the blob does not record. So
 * dump can only refuse what no key of the library's range could open, and
 * the key's length inside the ciphertext is for the import to check after
 * the unwrap. */
static bool dump_simple(struct dumper *d, ALG_ID alg)
{
	size_t at = d->off, n;
	ALG_ID wrap_alg;

	if (!dump_u32(d, "algid (encrypted by)", &wrap_alg))
		return false;
	dump_line(d, at, "algid (encrypted by)", "0x%08lx %s%s", (unsigned long)wrap_alg,
		  alg_text(wrap_alg), wrap_alg == CALG_RSA_KEYX ? "" :
		  " (Windows writes CALG_RSA_KEYX; the import does not check it)");
	n = dump_remaining(d);
	if (n < RSA_MIN_BITS / 8)
		return dump_refuse(d, NTE_BAD_DATA, "truncated: %zu bytes of RSA ciphertext, "
				   "fewer than the smallest RSA key capi11 takes (%u bytes, %u "
				   "bits)", n, RSA_MIN_BITS / 8, RSA_MIN_BITS);
	if (dump_alg_secret(alg) == NULL)
		return dump_refuse(d, NTE_BAD_ALGID, "aiKeyAlg 0x%08lx (%s) is not a session-key "
				   "algorithm capi11 imports", (unsigned long)alg, alg_text(alg));
	if (n > RSA_MAX_BITS / 8)
		dump_line(d, d->off, "(note)", "%zu bytes: more than the largest RSA key; the "
			  "import takes as many as the exchange key's modulus has", n);
	return dump_raw(d, "encryptedKey", n, "RSA ciphertext stored byte-reversed "
			"(little-endian); its length is the recipient's modulus length");
}

static bool dump_plaintext(struct dumper *d, ALG_ID alg)
{
	const struct dump_alg *a;
	size_t at = d->off;
	DWORD size;

	if (!dump_u32(d, "dwKeySize", &size))
		return false;
	dump_line(d, at, "dwKeySize", "%lu (0x%08lx)", (unsigned long)size, (unsigned long)size);
	if ((uint64_t)size > dump_remaining(d))
		return dump_refuse(d, NTE_BAD_DATA, "truncated: dwKeySize %lu, only %zu bytes "
				   "follow", (unsigned long)size, dump_remaining(d));
	a = dump_alg_secret(alg);
	if (a == NULL)
		return dump_refuse(d, NTE_BAD_ALGID, "aiKeyAlg 0x%08lx (%s) is not a session-key "
				   "algorithm capi11 imports", (unsigned long)alg, alg_text(alg));
	if (size < a->min_len || size > a->max_len) {
		if (a->min_len == a->max_len)
			return dump_refuse(d, a->des_family ? NTE_BAD_FLAGS : NTE_BAD_DATA,
					   "dwKeySize %lu: %s keys have %zu bytes",
					   (unsigned long)size, names_alg(alg), a->min_len);
		return dump_refuse(d, NTE_BAD_DATA, "dwKeySize %lu: %s keys have %zu to %zu bytes%s",
				   (unsigned long)size, names_alg(alg), a->min_len, a->max_len,
				   alg == CALG_RC2 && size > a->max_len ? " (longer only with "
				   "CRYPT_IPSEC_HMAC_KEY, on a token that has RC2)" : "");
	}
	return dump_raw(d, "key", size, "secret key bytes");
}

/* The import (blob_parse_symwrap, then import_symwrap_locked once hPubKey,
 * of the wrapping ALG_ID, is known): RFC 3217 wraps only a 3DES key under
 * 3DES, RFC 3394 only keys of 16 bytes or more under AES, nothing else
 * wraps (NTE_BAD_KEY, the export's answer too). */
static bool dump_symwrap(struct dumper *d, ALG_ID alg)
{
	const struct dump_alg *a = dump_alg_secret(alg);
	ALG_ID wrap_alg;
	size_t n;

	if (!dump_algid(d, "algid (wrapped by)", &wrap_alg))
		return false;
	n = dump_remaining(d);
	if (a == NULL || dump_alg_secret(wrap_alg) == NULL)
		return dump_refuse(d, NTE_BAD_ALGID, "%s 0x%08lx (%s) is not a session-key algorithm "
				   "capi11 imports", a == NULL ? "aiKeyAlg" : "the wrapping ALG_ID",
				   (unsigned long)(a == NULL ? alg : wrap_alg),
				   alg_text(a == NULL ? alg : wrap_alg));
	/* RFC 3217 and RFC 3394 both produce whole 8-byte blocks: at least one
	 * key block and the integrity block. */
	if (n < 16 || n % 8 != 0)
		return dump_refuse(d, NTE_BAD_DATA, "wrapped key of %zu bytes: a key wrap gives a "
				   "multiple of 8 of at least 16", n);
	if (wrap_alg == CALG_3DES) {
		if (alg != CALG_3DES)
			return dump_refuse(d, NTE_BAD_KEY, "no key wrap of %s under CALG_3DES: RFC "
					   "3217 wraps 3DES keys only", alg_text(alg));
		if (n != DES3_WRAPPED_LEN)
			return dump_refuse(d, NTE_BAD_DATA, "wrapped key of %zu bytes: RFC 3217 "
					   "wraps a 3DES key into %u", n, DES3_WRAPPED_LEN);
		return dump_raw(d, "wrappedKey", n, "RFC 3217 Triple-DES key wrap");
	}
	if (!alg_is_aes(wrap_alg))
		return dump_refuse(d, NTE_BAD_KEY, "no key wrap is defined under %s: only 3DES "
				   "(RFC 3217) and AES (RFC 3394) wrap", alg_text(wrap_alg));
	if (aes_wrap_len(a->max_len, false) == 0)
		return dump_refuse(d, NTE_BAD_KEY, "no RFC 3394 wrap of %s: it needs keys of 16 "
				   "bytes or more", alg_text(alg));
	if (n - 8 < a->min_len || n - 8 > a->max_len || aes_wrap_len(n - 8, false) == 0)
		return dump_refuse(d, NTE_BAD_DATA, "wrapped key of %zu bytes holds %zu key bytes: "
				   "%s keys have %zu%s", n, n - 8, alg_text(alg), a->min_len,
				   a->min_len == a->max_len ? "" : " or more, in whole blocks");
	return dump_raw(d, "wrappedKey", n, "RFC 3394 AES key wrap");
}

/* The usage field of format version 2: bit 0 alone is defined. */
static void dump_usage_line(struct dumper *d, DWORD usage)
{
	DWORD reserved = usage & ~(DWORD)OPAQUE_USAGE_KEK;

	if (reserved != 0)
		dump_line(d, d->off, "usage", "0x%08lx (reserved bits 0x%08lx set)",
			  (unsigned long)usage, (unsigned long)reserved);
	else
		dump_line(d, d->off, "usage", "0x%08lx %s", (unsigned long)usage,
			  usage & OPAQUE_USAGE_KEK ? "wrap-only key-encryption key" :
			  "(not a key-encryption key)");
}

/* docs/OPAQUEKEYBLOB.md's validation table, in blob_parse_opaque's order:
 * the fixed header, magic and version (1, or 2 with its usage field), the
 * wrapped length, then the fields' consistency. */
static bool dump_opaque(struct dumper *d, ALG_ID alg)
{
	DWORD magic, version, mechanism, key_type, key_len, usage = 0, n;
	const struct dump_alg *a;
	ALG_ID wrap_alg;
	size_t at = d->off;
	bool pad;

	/* Version 1's header, the shorter, holds the magic and the version. */
	if (d->len < OPAQUE_HEADER_LEN_V1)
		return dump_need(d, OPAQUE_HEADER_LEN_V1 - d->off, "the OPAQUEKEYBLOB header");
	magic = dump_peek32_at(d, at);
	version = dump_peek32_at(d, at + 4);
	mechanism = dump_peek32_at(d, at + 8);
	dump_magic_line(d, at, magic);
	if (magic != OPAQUE_MAGIC)
		return dump_refuse(d, NTE_BAD_DATA, "magic 0x%08lx is not capi11's \"C11O\": an "
				   "OPAQUEKEYBLOB of another CSP cannot be decoded",
				   (unsigned long)magic);
	d->off += 4;
	dump_count(d, "version", &version);
	if (version != 1 && version != 2)
		return dump_refuse(d, NTE_BAD_DATA, "format version %lu: only 1 and 2 exist",
				   (unsigned long)version);
	if (version == 2 && d->len < OPAQUE_HEADER_LEN)
		return dump_need(d, OPAQUE_HEADER_LEN - d->off,
				 "the OPAQUEKEYBLOB version 2 header");
	dump_line(d, d->off, "mechanism", "0x%08lx %s", (unsigned long)mechanism,
		  mechanism == CKM_AES_KEY_WRAP_ ? "CKM_AES_KEY_WRAP" :
		  mechanism == CKM_AES_KEY_WRAP_PAD_ ? "CKM_AES_KEY_WRAP_PAD" : "(unknown)");
	d->off += 4;
	dump_count(d, "keyType (CKK_*)", &key_type);
	dump_count(d, "keyLength", &key_len);
	dump_algid(d, "algid (wrapped by)", &wrap_alg);
	/* Version 1 has no usage: its key is no key-encryption key unless the
	 * import asks for one (CRYPT_KEK). */
	if (version == 2) {
		usage = dump_peek32(d);
		dump_usage_line(d, usage);
		d->off += 4;
		if (usage & ~(DWORD)OPAQUE_USAGE_KEK)
			return dump_refuse(d, NTE_BAD_DATA, "usage 0x%08lx: reserved bits set, only "
					   "0x1 (wrap-only key-encryption key) is defined",
					   (unsigned long)usage);
	}
	dump_count(d, "wrappedLength", &n);
	if ((uint64_t)n > dump_remaining(d))
		return dump_refuse(d, NTE_BAD_DATA, "truncated: wrappedLength %lu, only %zu bytes "
				   "follow", (unsigned long)n, dump_remaining(d));
	a = dump_alg_find(alg);
	if (a == NULL)
		return dump_refuse(d, NTE_BAD_ALGID, "aiKeyAlg 0x%08lx (%s) is not an algorithm "
				   "capi11 imports", (unsigned long)alg, alg_text(alg));
	if (!alg_is_aes(wrap_alg))
		return dump_refuse(d, NTE_BAD_ALGID, "wrapping ALG_ID 0x%08lx is not AES",
				   (unsigned long)wrap_alg);
	if (mechanism != CKM_AES_KEY_WRAP_ && mechanism != CKM_AES_KEY_WRAP_PAD_)
		return dump_refuse(d, NTE_BAD_DATA, "mechanism 0x%lx is not an AES key wrap",
				   (unsigned long)mechanism);
	if (key_type != a->key_type)
		return dump_refuse(d, NTE_BAD_DATA, "keyType 0x%lx: %s keys are CKK 0x%lx",
				   (unsigned long)key_type, alg_text(alg), (unsigned long)a->key_type);
	if (a->key_type == CKK_RSA_) {
		if (usage & OPAQUE_USAGE_KEK)
			return dump_refuse(d, NTE_BAD_DATA, "usage 0x%08lx: an RSA key is no "
					   "key-encryption key, its slot (aiKeyAlg) says what it does",
					   (unsigned long)usage);
		if (key_len < RSA_MIN_BITS / 8 || key_len > RSA_MAX_BITS / 8)
			return dump_refuse(d, NTE_BAD_DATA, "keyLength %lu: an RSA modulus has %u to "
					   "%u bytes", (unsigned long)key_len, RSA_MIN_BITS / 8,
					   RSA_MAX_BITS / 8);
		if (n < 24 || n % 8 != 0)
			return dump_refuse(d, NTE_BAD_DATA, "wrappedLength %lu: a wrapped PKCS#8 key "
					   "is a multiple of 8 of at least 24", (unsigned long)n);
		return dump_raw(d, "wrappedKey", n, "C_WrapKey output: a wrapped PKCS#8 "
				"PrivateKeyInfo");
	}
	if (key_len < a->min_len || key_len > a->max_len) {
		if (a->min_len == a->max_len)
			return dump_refuse(d, NTE_BAD_DATA, "keyLength %lu: %s keys have %zu bytes",
					   (unsigned long)key_len, alg_text(alg), a->min_len);
		return dump_refuse(d, NTE_BAD_DATA, "keyLength %lu: %s keys have %zu to %zu bytes",
				   (unsigned long)key_len, alg_text(alg), a->min_len, a->max_len);
	}
	pad = mechanism == CKM_AES_KEY_WRAP_PAD_;
	if (n != aes_wrap_len(key_len, pad))
		return dump_refuse(d, NTE_BAD_DATA, "wrappedLength %lu: %s of a %lu-byte key "
				   "gives %zu", (unsigned long)n, pad ? "CKM_AES_KEY_WRAP_PAD" :
				   "CKM_AES_KEY_WRAP", (unsigned long)key_len,
				   aes_wrap_len(key_len, pad));
	return dump_raw(d, "wrappedKey", n, "C_WrapKey output");
}

/* ---- BLOBHEADER ------------------------------------------------------------ */

static bool alg_is_dss_dh(ALG_ID alg)
{
	return alg == CALG_DSS_SIGN || alg == CALG_DH_SF || alg == CALG_DH_EPHEM;
}

static bool type_is_imported(BYTE type)
{
	return type == SIMPLEBLOB || type == PUBLICKEYBLOB || type == PRIVATEKEYBLOB ||
	       type == PLAINTEXTKEYBLOB || type == OPAQUEKEYBLOB || type == SYMMETRICWRAPKEYBLOB;
}

int dump_blob(FILE *out, const unsigned char *data, size_t len)
{
	struct dumper d = { .out = out, .data = data, .len = data ? len : 0 };
	const char *type_name;
	bool ok;
	BYTE type, version;
	WORD reserved;
	ALG_ID alg;

	fprintf(out, "%zu bytes\n", d.len);
	if (!dump_need(&d, BLOB_HEADER_LEN, "BLOBHEADER"))
		return 1;
	type = data[0];
	version = data[1];
	reserved = (WORD)(data[2] | data[3] << 8);
	type_name = names_blob_type(type);
	dump_line(&d, 0, "bType", "0x%02x %s", type, type_name ? type_name : "(unknown blob type)");
	dump_line(&d, 1, "bVersion", "%u", version);
	dump_line(&d, 2, "reserved", "0x%04x", reserved);
	d.off = 4;
	dump_algid(&d, "aiKeyAlg", &alg);
	/* Windows judges the version and the reserved field before the type. */
	if (version != 2 && version != 3)
		return dump_refuse(&d, NTE_BAD_DATA, "bVersion %u: blobs have version 2 (3 for the "
				   "DSS/DH version 3 forms)", version), 1;
	if (reserved != 0)
		return dump_refuse(&d, NTE_BAD_DATA, "reserved is 0x%04x, must be 0", reserved), 1;
	if (version == 3 && !((type == PUBLICKEYBLOB || type == PRIVATEKEYBLOB) &&
			      alg_is_dss_dh(alg)))
		return dump_refuse(&d, NTE_BAD_DATA, "bVersion 3 exists only for DSS/DH key-pair "
				   "blobs"), 1;
	if (!type_is_imported(type))
		return dump_refuse(&d, NTE_BAD_TYPE, "blob type 0x%02x %s: %s", type,
				   type_name ? type_name : "", type_name ?
				   "layout not decoded by capi11, which does not import it" :
				   "unknown blob type"), 1;

	switch (type) {
	case PUBLICKEYBLOB:
	case PRIVATEKEYBLOB:
		ok = dump_key_pair_blob(&d, type, version, alg);
		break;
	case SIMPLEBLOB:
		ok = dump_simple(&d, alg);
		break;
	case PLAINTEXTKEYBLOB:
		ok = dump_plaintext(&d, alg);
		break;
	case SYMMETRICWRAPKEYBLOB:
		ok = dump_symwrap(&d, alg);
		break;
	default: /* OPAQUEKEYBLOB */
		ok = dump_opaque(&d, alg);
		break;
	}
	if (!ok || d.bad)
		return 1;
	if (dump_remaining(&d) > 0)
		dump_line(&d, d.off, "(trailing)", "%zu bytes after the blob, ignored on import",
			  dump_remaining(&d));
	fprintf(out, "ok: well-formed %s\n", type_name);
	if (alg_is_dh(alg) && type == PUBLICKEYBLOB)
		fputs("note: every check CryptImportKey makes without a token passes, in a DSS/DH "
		      "context (PROV_DSS_DH; any other refuses a DH ALG_ID with NTE_BAD_ALGID); the "
		      "import is an agreement: hPubKey must be the context's DH private key "
		      "(NTE_BAD_PUBLIC_KEY otherwise), of a prime as long as bitlen (and, version "
		      "3, the same p and g), and y must lie in 1 < y < p - 1 (NTE_BAD_DATA)\n", out);
	else if (alg_is_dh(alg))
		fputs("note: every check CryptImportKey makes without a token passes, in a DSS/DH "
		      "context (PROV_DSS_DH; any other refuses a DH ALG_ID with NTE_BAD_ALGID); the "
		      "token still judges its DH sizes, and a version 3 private blob's y must be "
		      "g^x mod p (NTE_BAD_DATA)\n", out);
	else if (alg == CALG_DSS_SIGN)
		fputs("note: every check CryptImportKey makes without a token passes, in a DSS "
		      "context (PROV_DSS, PROV_DSS_DH; an RSA context refuses CALG_DSS_SIGN with "
		      "NTE_BAD_ALGID); the token still judges its DSA sizes and a version 3 "
		      "private blob's y\n", out);
	else
		fputs("note: every check CryptImportKey makes without a token passes; the token "
		      "still judges its RSA size range, its mechanisms and the key that opens a "
		      "wrapped blob\n", out);
	return 0;
}
