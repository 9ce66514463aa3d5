/* The blob decoder behind `capi11-tool dump`. It walks a blob field by field
 * with one cursor, checking that each field fits in what remains before
 * reading it; the first field that does not fit, or a value the blob type
 * forbids, ends the walk with an "error:" line. The layouts are Microsoft's
 * (BLOBHEADER, RSAPUBKEY, DSSPUBKEY, DHPUBKEY and their version 3 forms) and
 * capi11's own OPAQUEKEYBLOB (docs/OPAQUEKEYBLOB.md). */
#include "config.h"
#include "dump.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <wincrypt.h>

#include "names.h"

#define RSA_MAX_BITS 16384u      /* Windows' RSA limit, and capi11's */
#define DSS_Q_LEN 20u            /* q and x of a version 2 DSS key: 160 bits */
#define DSS_SEED_LEN 24u         /* DSSSEED: counter + 20-byte seed */
#define BN_BYTES_PER_LINE 32u
#define OPAQUE_MAGIC 0x4F313143u /* "C11O" */
#define CKM_AES_KEY_WRAP_ 0x2109u
#define CKM_AES_KEY_WRAP_PAD_ 0x210Au

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
 * wrong offsets and their complaints would mislead. */
static bool dump_error(struct dumper *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool dump_error(struct dumper *d, const char *fmt, ...)
{
	va_list ap;

	if (d->bad)
		return false;
	d->bad = true;
	fputs("error: ", d->out);
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	fputc('\n', d->out);
	return false;
}

static size_t dump_remaining(const struct dumper *d)
{
	return d->len - d->off;
}

static bool dump_need(struct dumper *d, size_t n, const char *field)
{
	if (n <= dump_remaining(d))
		return true;
	return dump_error(d, "truncated: %s needs %zu bytes at offset 0x%zx, only %zu remain",
			  field, n, d->off, dump_remaining(d));
}

static DWORD dump_peek32(const struct dumper *d)
{
	const unsigned char *p = d->data + d->off;

	return (DWORD)p[0] | (DWORD)p[1] << 8 | (DWORD)p[2] << 16 | (DWORD)p[3] << 24;
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

static bool dump_rsa(struct dumper *d, bool private_blob)
{
	DWORD bitlen, pubexp;
	size_t at, k, h;

	if (!dump_count(d, "bitlen", &bitlen))
		return false;
	if (bitlen == 0 || bitlen % 8 != 0 || bitlen > RSA_MAX_BITS)
		return dump_error(d, "bitlen %lu: must be a nonzero multiple of 8 up to %u",
				  (unsigned long)bitlen, RSA_MAX_BITS);
	at = d->off;
	if (!dump_u32(d, "pubexp", &pubexp))
		return false;
	dump_line(d, at, "pubexp", "%lu (0x%lx)", (unsigned long)pubexp, (unsigned long)pubexp);
	if (pubexp <= 1)
		return dump_error(d, "pubexp %lu: an RSA public exponent must be at least 3",
				  (unsigned long)pubexp);
	k = bitlen / 8;
	h = (k + 1) / 2;
	if (!dump_number(d, "modulus", k))
		return false;
	if (d->data[d->off - 1] == 0)
		dump_line(d, d->off - 1, "(note)", "the modulus is shorter than bitlen says");
	if (!private_blob)
		return true;
	if (!dump_number(d, "prime1", h) || !dump_number(d, "prime2", h) ||
	    !dump_number(d, "exponent1", h) || !dump_number(d, "exponent2", h) ||
	    !dump_number(d, "coefficient", h))
		return false;
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

static size_t bits_to_bytes(DWORD bits)
{
	return ((size_t)bits + 7) / 8;
}

static bool dump_dss_seed(struct dumper *d)
{
	size_t at = d->off;
	DWORD counter;

	if (!dump_need(d, DSS_SEED_LEN, "DSSSEED"))
		return false;
	counter = dump_peek32(d);
	d->off += 4;
	dump_line(d, at, "DSSSeed.counter", "%lu (0x%08lx)%s", (unsigned long)counter,
		  (unsigned long)counter, counter == 0xFFFFFFFFu ? " no seed" : "");
	return dump_raw(d, "DSSSeed.seed", 20, NULL);
}

/* Version 2: DSSPUBKEY/DHPUBKEY {magic, bitlen} then the numbers. */
static bool dump_dss_dh_v2(struct dumper *d, DWORD magic)
{
	DWORD bitlen;
	size_t n;

	if (!dump_count(d, "bitlen", &bitlen))
		return false;
	if (bitlen == 0 || bitlen % 8 != 0)
		return dump_error(d, "bitlen %lu: must be a nonzero multiple of 8",
				  (unsigned long)bitlen);
	n = bitlen / 8;
	switch (magic) {
	case CAPI11_DSS1_MAGIC:
		return dump_number(d, "p", n) && dump_number(d, "q", DSS_Q_LEN) &&
		       dump_number(d, "g", n) && dump_number(d, "y", n) && dump_dss_seed(d);
	case CAPI11_DSS2_MAGIC:
		return dump_number(d, "p", n) && dump_number(d, "q", DSS_Q_LEN) &&
		       dump_number(d, "g", n) && dump_number(d, "x", DSS_Q_LEN) &&
		       dump_dss_seed(d);
	case CAPI11_DH1_MAGIC:
		return dump_number(d, "y", n);
	default: /* CAPI11_DH2_MAGIC */
		return dump_number(d, "prime", n) && dump_number(d, "generator", n) &&
		       dump_number(d, "secret", n);
	}
}

/* Version 3 (CRYPT_BLOB_VER3): bit lengths of P, Q, J (and X), the seed,
 * then p, q, g, j, y (and x). */
static bool dump_dss_dh_v3(struct dumper *d, bool private_blob)
{
	DWORD bits_p, bits_q, bits_j, bits_x = 0;

	if (!dump_count(d, "bitlenP", &bits_p) || !dump_count(d, "bitlenQ", &bits_q) ||
	    !dump_count(d, "bitlenJ", &bits_j))
		return false;
	if (private_blob && !dump_count(d, "bitlenX", &bits_x))
		return false;
	if (bits_p == 0)
		return dump_error(d, "bitlenP is 0");
	if (!dump_dss_seed(d))
		return false;
	if (!dump_number(d, "p", bits_to_bytes(bits_p)) ||
	    !dump_number(d, "q", bits_to_bytes(bits_q)) ||
	    !dump_number(d, "g", bits_to_bytes(bits_p)) ||
	    !dump_number(d, "j", bits_to_bytes(bits_j)) ||
	    !dump_number(d, "y", bits_to_bytes(bits_p)))
		return false;
	return !private_blob || dump_number(d, "x", bits_to_bytes(bits_x));
}

/* ---- PUBLICKEYBLOB / PRIVATEKEYBLOB ------------------------------------------ */

static bool magic_is_private(DWORD magic)
{
	return magic == CAPI11_RSA2_MAGIC || magic == CAPI11_DSS2_MAGIC ||
	       magic == CAPI11_DSS4_MAGIC || magic == CAPI11_DH2_MAGIC ||
	       magic == CAPI11_DH4_MAGIC;
}

static bool magic_is_v3(DWORD magic)
{
	return magic == CAPI11_DSS3_MAGIC || magic == CAPI11_DSS4_MAGIC ||
	       magic == CAPI11_DH3_MAGIC || magic == CAPI11_DH4_MAGIC;
}

static bool magic_is_known(DWORD magic)
{
	return magic == CAPI11_RSA1_MAGIC || magic == CAPI11_RSA2_MAGIC ||
	       magic == CAPI11_DSS1_MAGIC || magic == CAPI11_DSS2_MAGIC ||
	       magic == CAPI11_DSS3_MAGIC || magic == CAPI11_DSS4_MAGIC ||
	       magic == CAPI11_DH1_MAGIC || magic == CAPI11_DH2_MAGIC ||
	       magic == CAPI11_DH3_MAGIC || magic == CAPI11_DH4_MAGIC;
}

static bool alg_fits_magic(ALG_ID alg, DWORD magic)
{
	switch (magic) {
	case CAPI11_RSA1_MAGIC:
	case CAPI11_RSA2_MAGIC:
		return alg == CALG_RSA_KEYX || alg == CALG_RSA_SIGN;
	case CAPI11_DSS1_MAGIC:
	case CAPI11_DSS2_MAGIC:
	case CAPI11_DSS3_MAGIC:
	case CAPI11_DSS4_MAGIC:
		return alg == CALG_DSS_SIGN;
	default:
		return alg == CALG_DH_SF || alg == CALG_DH_EPHEM;
	}
}

static bool dump_key_pair_blob(struct dumper *d, BYTE type, BYTE version, ALG_ID alg)
{
	bool private_blob = type == PRIVATEKEYBLOB;
	size_t at = d->off;
	DWORD magic;

	if (!dump_u32(d, "magic", &magic))
		return false;
	dump_magic_line(d, at, magic);
	if (!magic_is_known(magic)) {
		if (private_blob)
			return dump_error(d, "unknown magic 0x%08lx: not RSA2, DSS2, DSS4, \\0DH2 or "
					  "\\0DH4 (a PRIVATEKEYBLOB encrypted under a session key has "
					  "ciphertext here and cannot be decoded without that key)",
					  (unsigned long)magic);
		return dump_error(d, "unknown magic 0x%08lx: not RSA1, DSS1, DSS3, \\0DH1 or \\0DH3",
				  (unsigned long)magic);
	}
	if (magic_is_private(magic) != private_blob)
		return dump_error(d, "a %s magic in a %s", magic_is_private(magic) ? "private-key" :
				  "public-key", names_blob_type(type));
	if (!alg_fits_magic(alg, magic))
		return dump_error(d, "aiKeyAlg 0x%08lx does not go with this magic",
				  (unsigned long)alg);
	if (magic_is_v3(magic) != (version == 3))
		return dump_error(d, "bVersion %u with a version %d magic", version,
				  magic_is_v3(magic) ? 3 : 2);
	if (magic == CAPI11_RSA1_MAGIC || magic == CAPI11_RSA2_MAGIC)
		return dump_rsa(d, private_blob);
	if (magic_is_v3(magic))
		return dump_dss_dh_v3(d, private_blob);
	return dump_dss_dh_v2(d, magic);
}

/* ---- Session-key blobs ----------------------------------------------------------- */

/* Data-encryption keys, and the SSL/TLS master keys that Windows also
 * moves in SIMPLEBLOBs. */
static bool alg_is_session_key(ALG_ID alg)
{
	return GET_ALG_CLASS(alg) == ALG_CLASS_DATA_ENCRYPT ||
	       GET_ALG_CLASS(alg) == ALG_CLASS_MSG_ENCRYPT;
}

static bool dump_simple(struct dumper *d, ALG_ID alg)
{
	ALG_ID wrap_alg;

	if (!alg_is_session_key(alg))
		return dump_error(d, "aiKeyAlg 0x%08lx is not a session-key algorithm",
				  (unsigned long)alg);
	if (!dump_algid(d, "algid (encrypted by)", &wrap_alg))
		return false;
	if (dump_remaining(d) == 0)
		return dump_error(d, "truncated: no encrypted key after offset 0x%zx", d->off);
	/* The RSA ciphertext is as long as the recipient's modulus, which the
	 * blob does not record: everything that follows is taken. */
	return dump_raw(d, "encryptedKey", dump_remaining(d),
			"RSA ciphertext stored byte-reversed (little-endian)");
}

static bool dump_plaintext(struct dumper *d, ALG_ID alg)
{
	unsigned want = names_alg_key_bytes(alg);
	DWORD size;

	if (!alg_is_session_key(alg))
		return dump_error(d, "aiKeyAlg 0x%08lx is not a session-key algorithm",
				  (unsigned long)alg);
	if (!dump_count(d, "dwKeySize", &size))
		return false;
	if (want != 0 && size != want)
		return dump_error(d, "dwKeySize %lu: %s keys have %u bytes", (unsigned long)size,
				  names_alg(alg), want);
	if (size == 0)
		return dump_error(d, "dwKeySize is 0");
	return dump_raw(d, "key", size, "secret key bytes");
}

static bool dump_symwrap(struct dumper *d, ALG_ID alg)
{
	ALG_ID wrap_alg;
	size_t n;

	if (!alg_is_session_key(alg))
		return dump_error(d, "aiKeyAlg 0x%08lx is not a session-key algorithm",
				  (unsigned long)alg);
	if (!dump_algid(d, "algid (wrapped by)", &wrap_alg))
		return false;
	if (!alg_is_session_key(wrap_alg))
		return dump_error(d, "wrapping ALG_ID 0x%08lx is not a session-key algorithm",
				  (unsigned long)wrap_alg);
	n = dump_remaining(d);
	/* RFC 3217 and RFC 3394 both produce whole 8-byte blocks: at least one
	 * key block and the integrity block. */
	if (n < 16 || n % 8 != 0)
		return dump_error(d, "wrapped key of %zu bytes: a key wrap gives a multiple of 8 "
				  "of at least 16", n);
	return dump_raw(d, "wrappedKey", n, wrap_alg == CALG_3DES ? "RFC 3217 Triple-DES key wrap"
			: "RFC 3394 AES key wrap");
}

static bool dump_opaque(struct dumper *d, ALG_ID alg)
{
	DWORD magic, version, mechanism, key_type, key_len, n;
	ALG_ID wrap_alg;
	size_t at = d->off;

	if (!dump_u32(d, "magic", &magic))
		return false;
	dump_magic_line(d, at, magic);
	if (magic != OPAQUE_MAGIC)
		return dump_error(d, "magic 0x%08lx is not capi11's \"C11O\": an OPAQUEKEYBLOB of "
				  "another CSP cannot be decoded", (unsigned long)magic);
	if (!dump_count(d, "version", &version))
		return false;
	if (version != 1)
		return dump_error(d, "format version %lu: only 1 exists", (unsigned long)version);
	at = d->off;
	if (!dump_u32(d, "mechanism", &mechanism))
		return false;
	dump_line(d, at, "mechanism", "0x%08lx %s", (unsigned long)mechanism,
		  mechanism == CKM_AES_KEY_WRAP_ ? "CKM_AES_KEY_WRAP" :
		  mechanism == CKM_AES_KEY_WRAP_PAD_ ? "CKM_AES_KEY_WRAP_PAD" : "(unknown)");
	if (mechanism != CKM_AES_KEY_WRAP_ && mechanism != CKM_AES_KEY_WRAP_PAD_)
		return dump_error(d, "mechanism 0x%lx is not an AES key wrap",
				  (unsigned long)mechanism);
	if (!dump_count(d, "keyType (CKK_*)", &key_type) || !dump_count(d, "keyLength", &key_len) ||
	    !dump_algid(d, "algid (wrapped by)", &wrap_alg) || !dump_count(d, "wrappedLength", &n))
		return false;
	if (wrap_alg != CALG_AES_128 && wrap_alg != CALG_AES_192 && wrap_alg != CALG_AES_256)
		return dump_error(d, "wrapping ALG_ID 0x%08lx is not AES", (unsigned long)wrap_alg);
	if (names_alg_key_bytes(alg) != 0 && key_len != names_alg_key_bytes(alg))
		return dump_error(d, "keyLength %lu: %s keys have %u bytes", (unsigned long)key_len,
				  names_alg(alg), names_alg_key_bytes(alg));
	if (n < 16 || n % 8 != 0)
		return dump_error(d, "wrappedLength %lu: an AES key wrap gives a multiple of 8 of "
				  "at least 16", (unsigned long)n);
	return dump_raw(d, "wrappedKey", n, "C_WrapKey output");
}

/* ---- BLOBHEADER ------------------------------------------------------------ */

int dump_blob(FILE *out, const unsigned char *data, size_t len)
{
	struct dumper d = { .out = out, .data = data, .len = data ? len : 0 };
	const char *type_name;
	BYTE type, version;
	WORD reserved;
	ALG_ID alg;
	bool ok;

	fprintf(out, "%zu bytes\n", d.len);
	if (!dump_need(&d, 8, "BLOBHEADER"))
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
	if (version != 2 && version != 3)
		return dump_error(&d, "bVersion %u: blobs have version 2 (3 for the DSS/DH "
				  "version 3 forms)", version), 1;
	if (reserved != 0)
		return dump_error(&d, "reserved is 0x%04x, must be 0", reserved), 1;
	if (version == 3 && type != PUBLICKEYBLOB && type != PRIVATEKEYBLOB)
		return dump_error(&d, "bVersion 3 exists only for DSS/DH key-pair blobs"), 1;

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
	case OPAQUEKEYBLOB:
		ok = dump_opaque(&d, alg);
		break;
	default:
		ok = dump_error(&d, "blob type 0x%02x %s: %s", type,
				type_name ? type_name : "", type_name ? "layout not decoded by capi11"
				: "unknown blob type");
		break;
	}
	if (!ok || d.bad)
		return 1;
	if (dump_remaining(&d) > 0)
		dump_line(&d, d.off, "(trailing)", "%zu bytes after the blob, ignored on import",
			  dump_remaining(&d));
	fprintf(out, "ok: well-formed %s\n", type_name);
	return 0;
}
