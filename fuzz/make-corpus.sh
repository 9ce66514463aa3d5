#!/bin/sh
# Writes the seed corpus of the fuzz targets: tests/vectors' RSA blobs
# (written by the openssl CLI) and hand-made blobs of every other type,
# laid out as Microsoft documents them (docs/OPAQUEKEYBLOB.md for capi11's
# own format), plus a few near misses of the header check. The same seeds
# serve the blob and dump targets (the dump decoder reads every blob type);
# the cert and api targets get seeds of their own, at the end.
# Usage: sh make-corpus.sh [fuzz directory]   (default: the script's directory)
# The key and wrapped bytes are counting patterns, not real keys: the codec
# never decrypts, so only the layout matters here.
set -eu

fuzz=${1:-$(dirname "$0")}
vectors=$fuzz/../tests/vectors

# Escapes for a printf format (dash has no \x, and its %b drops NUL
# bytes): one byte, a little-endian DWORD, count bytes counting up from
# start. A '%' byte is written as %%, not as an escape that the format
# would then read as a directive.
byte() {
	if [ $(($1 & 255)) -eq 37 ]; then printf '%%%%'; else printf '\\%03o' $(($1 & 255)); fi
}
le32() { byte "$1"; byte $(($1 >> 8)); byte $(($1 >> 16)); byte $(($1 >> 24)); }
pattern() {
	i=0
	while [ "$i" -lt "$1" ]; do byte $(($2 + i)); i=$((i + 1)); done
}
# BLOBHEADER: type, version, alg (reserved is always 0 here).
header() { byte "$1"; byte "$2"; byte 0; byte 0; le32 "$3"; }

SIMPLEBLOB=1 PUBLICKEYBLOB=6 PRIVATEKEYBLOB=7 PLAINTEXTKEYBLOB=8 OPAQUEKEYBLOB=9
SYMMETRICWRAPKEYBLOB=11
CALG_DES=0x6601 CALG_RC2=0x6602 CALG_3DES=0x6603 CALG_3DES_112=0x6609
CALG_AES_128=0x660e CALG_AES_192=0x660f CALG_AES_256=0x6610 CALG_RC4=0x6801
CALG_RSA_KEYX=0xa400 CALG_DSS_SIGN=0x2200
CKK_RSA=0 CKK_RC2=0x11 CKK_RC4=0x12 CKK_DES3=0x15 CKK_AES=0x1f
CKM_AES_KEY_WRAP=0x2109 CKM_AES_KEY_WRAP_PAD=0x210a
C11O=0x4F313143

# seed NAME ESCAPES: the same seed in both targets' corpora.
seed() {
	for t in blob dump; do
		mkdir -p "$fuzz/corpus/$t"
		printf "$2" > "$fuzz/corpus/$t/$1"
	done
}

for f in rsa512-pub rsa512-priv rsa512-simple rsa1024-pub rsa1024-priv rsa1024-simple \
	dss1024-pub dss1024-priv; do
	for t in blob dump; do
		mkdir -p "$fuzz/corpus/$t"
		cp "$vectors/$f.blob" "$fuzz/corpus/$t/$f.blob"
	done
done

# openssl's DSS blobs with the seed capi11 writes (counter 0xffffffff,
# zero bytes), which the blob target builds back byte for byte.
for f in dss1024-pub dss1024-priv; do
	size=$(wc -c < "$vectors/$f.blob")
	for t in blob dump; do
		{ head -c $((size - 20)) "$vectors/$f.blob"; head -c 20 /dev/zero; } \
			> "$fuzz/corpus/$t/$f-noseed.blob"
	done
done

# The version 3 forms of the same key (Microsoft's DSSPUBKEY_VER3 and
# DSSPRIVKEY_VER3: bitlenP, bitlenQ, bitlenJ, [bitlenX,] the DSSSEED, then
# p q g j y [x]), built from openssl's version 2 blobs: no j, no seed.
# The private blob's y comes from the public one (the same key).
dss_v3() {
	pub=$vectors/dss1024-pub.blob priv=$vectors/dss1024-priv.blob
	{
		printf "$(header "$1" 3 $CALG_DSS_SIGN)$(le32 "$2")$(le32 1024)$(le32 160)$(le32 "$3")"
		[ "$1" = $PRIVATEKEYBLOB ] && printf "$(le32 160)"
		printf "$(le32 0xffffffff)"; head -c 20 /dev/zero
		tail -c +17 "$pub" | head -c $((128 + 20 + 128))          # p q g
		[ "$3" -ne 0 ] && printf "$(pattern $(($3 / 8)) 0x6a)"    # j
		tail -c +$((17 + 128 + 20 + 128)) "$pub" | head -c 128    # y
		[ "$1" = $PRIVATEKEYBLOB ] && tail -c +$((17 + 128 + 20 + 128)) "$priv" | head -c 20
		true
	}
}
for t in blob dump; do
	dss_v3 $PUBLICKEYBLOB 0x33535344 0 > "$fuzz/corpus/$t/dss1024-v3-pub.blob"
	dss_v3 $PRIVATEKEYBLOB 0x34535344 0 > "$fuzz/corpus/$t/dss1024-v3-priv.blob"
	dss_v3 $PUBLICKEYBLOB 0x33535344 64 > "$fuzz/corpus/$t/dss1024-v3-pub-j.blob"
done

# Diffie-Hellman blobs (Microsoft's DHPUBKEY, DHPUBKEY_VER3 and
# DHPRIVKEY_VER3 pages; magics "\0DH1".."\0DH4"), 512-bit patterns: the
# dump target decodes them, the blob target finds no parser yet.
CALG_DH_SF=0xaa01 CALG_DH_EPHEM=0xaa02
seed dh512-v2-pub.blob "$(header $PUBLICKEYBLOB 2 $CALG_DH_SF)$(le32 0x31484400)$(le32 512)$(pattern 64 0x11)"
seed dh512-v2-priv.blob "$(header $PRIVATEKEYBLOB 2 $CALG_DH_EPHEM)$(le32 0x32484400)$(le32 512)$(pattern 192 0x21)"
seed dh512-v3-pub.blob "$(header $PUBLICKEYBLOB 3 $CALG_DH_SF)$(le32 0x33484400)$(le32 512)$(le32 0)$(le32 0)$(le32 0xffffffff)$(pattern 20 0)$(pattern 192 0x31)"
seed dh512-v3-priv.blob "$(header $PRIVATEKEYBLOB 3 $CALG_DH_SF)$(le32 0x34484400)$(le32 512)$(le32 160)$(le32 0)$(le32 512)$(le32 0xffffffff)$(pattern 20 0)$(pattern $((64 + 20 + 64 + 64 + 64)) 0x41)"

# RSA edges beyond openssl's keys: an odd byte length (h rounds up), the
# largest size, a privateExponent cut short (Windows imports it), a bitlen
# that is not a multiple of 8. The numbers are patterns, not keys.
rsa() {
	printf %s "$(header "$1" 2 $CALG_RSA_KEYX)$(le32 "$2")$(le32 "$3")$(le32 65537)$(pattern "$4" 2)"
}
RSA1=0x31415352 RSA2=0x32415352
seed rsa1032-priv-odd.blob "$(rsa $PRIVATEKEYBLOB $RSA2 1032 $((129 + 5 * 65 + 129)))"
seed rsa1032-pub-odd.blob "$(rsa $PUBLICKEYBLOB $RSA1 1032 129)"
seed rsa16384-priv.blob "$(rsa $PRIVATEKEYBLOB $RSA2 16384 $((2048 + 5 * 1024 + 2048)))"
seed rsa1024-priv-short-d.blob "$(rsa $PRIVATEKEYBLOB $RSA2 1024 $((128 + 5 * 64 + 100)))"
seed rsa-pub-bitlen-1028.blob "$(rsa $PUBLICKEYBLOB $RSA1 1028 128)"

# PLAINTEXTKEYBLOB: BLOBHEADER, dwKeySize, the key.
plaintext() { printf %s "$(header $PLAINTEXTKEYBLOB 2 "$1")$(le32 "$2")$(pattern "$2" 0)"; }
seed plaintext-aes128.blob "$(plaintext $CALG_AES_128 16)"
seed plaintext-aes192.blob "$(plaintext $CALG_AES_192 24)"
seed plaintext-aes256.blob "$(plaintext $CALG_AES_256 32)"
seed plaintext-des.blob "$(plaintext $CALG_DES 8)"
seed plaintext-3des112.blob "$(plaintext $CALG_3DES_112 16)"
seed plaintext-3des.blob "$(plaintext $CALG_3DES 24)"
seed plaintext-rc2-40.blob "$(plaintext $CALG_RC2 5)"
seed plaintext-rc4-128.blob "$(plaintext $CALG_RC4 16)"

# SYMMETRICWRAPKEYBLOB: BLOBHEADER, the wrapping ALG_ID, the wrapped bytes
# (RFC 3394 of a 16- or 32-byte key: 24 or 40 bytes).
symwrap() { printf %s "$(header $SYMMETRICWRAPKEYBLOB 2 "$1")$(le32 "$2")$(pattern "$3" 0xa6)"; }
seed symwrap-aes128-by-aes256.blob "$(symwrap $CALG_AES_128 $CALG_AES_256 24)"
seed symwrap-aes256-by-aes128.blob "$(symwrap $CALG_AES_256 $CALG_AES_128 40)"
seed symwrap-3des-by-3des.blob "$(symwrap $CALG_3DES $CALG_3DES 40)"

# OPAQUEKEYBLOB: BLOBHEADER, magic, format version, mechanism, key type,
# key length, wrapping ALG_ID, (version 2: usage), n, n wrapped bytes.
# opaque ALG MECH CKK LEN WRAP-ALG N: version 1, no usage field.
opaque() {
	printf %s "$(header $OPAQUEKEYBLOB 2 "$1")$(le32 $C11O)$(le32 1)$(le32 "$2")$(le32 "$3")$(le32 "$4")$(le32 "$5")$(le32 "$6")$(pattern "$6" 0x30)"
}
# opaque2 ALG MECH CKK LEN WRAP-ALG USAGE N: version 2.
opaque2() {
	printf %s "$(header $OPAQUEKEYBLOB 2 "$1")$(le32 $C11O)$(le32 2)$(le32 "$2")$(le32 "$3")$(le32 "$4")$(le32 "$5")$(le32 "$6")$(le32 "$7")$(pattern "$7" 0x30)"
}
seed opaque-aes128-wrap.blob "$(opaque $CALG_AES_128 $CKM_AES_KEY_WRAP $CKK_AES 16 $CALG_AES_256 24)"
seed opaque-aes256-wrap.blob "$(opaque $CALG_AES_256 $CKM_AES_KEY_WRAP $CKK_AES 32 $CALG_AES_128 40)"
seed opaque-rc4-40-pad.blob "$(opaque $CALG_RC4 $CKM_AES_KEY_WRAP_PAD $CKK_RC4 5 $CALG_AES_128 16)"
seed opaque-rc2-pad.blob "$(opaque $CALG_RC2 $CKM_AES_KEY_WRAP_PAD $CKK_RC2 13 $CALG_AES_192 24)"
seed opaque-3des-wrap.blob "$(opaque $CALG_3DES $CKM_AES_KEY_WRAP $CKK_DES3 24 $CALG_AES_256 32)"
# An RSA-1024 PKCS#8 PrivateKeyInfo is about 636 bytes: 640 padded, 648 wrapped.
seed opaque-rsa1024-pkcs8.blob "$(opaque $CALG_RSA_KEYX $CKM_AES_KEY_WRAP_PAD $CKK_RSA 128 $CALG_AES_256 648)"
# Version 2, what exports write: usage 0, and 0x1 for a key-encryption key.
seed opaque-v2-aes128-wrap.blob "$(opaque2 $CALG_AES_128 $CKM_AES_KEY_WRAP $CKK_AES 16 $CALG_AES_256 0 24)"
seed opaque-v2-aes256-kek.blob "$(opaque2 $CALG_AES_256 $CKM_AES_KEY_WRAP $CKK_AES 32 $CALG_AES_128 1 40)"
seed opaque-v2-rc4-40-pad.blob "$(opaque2 $CALG_RC4 $CKM_AES_KEY_WRAP_PAD $CKK_RC4 5 $CALG_AES_128 0 16)"
seed opaque-v2-rsa1024-pkcs8.blob "$(opaque2 $CALG_RSA_KEYX $CKM_AES_KEY_WRAP_PAD $CKK_RSA 128 $CALG_AES_256 0 648)"

# Near misses: the header alone, version 3 (DSS only), a reserved byte, an
# unknown type, blobs one byte short of their declared sizes, and
# OPAQUEKEYBLOB's version 2 header cut or with reserved usage bits.
seed header-only.blob "$(header $PUBLICKEYBLOB 2 $CALG_RSA_KEYX)"
seed header-v3-dss.blob "$(header $PUBLICKEYBLOB 3 $CALG_DSS_SIGN)$(le32 0x33535344)$(le32 1024)"
seed header-reserved.blob "$(byte $SIMPLEBLOB)$(byte 2)$(byte 1)$(byte 0)$(le32 $CALG_AES_128)"
seed header-unknown-type.blob "$(header 0x0c 2 $CALG_AES_128)$(le32 0)"
seed plaintext-short.blob "$(header $PLAINTEXTKEYBLOB 2 $CALG_AES_128)$(le32 16)$(pattern 15 0)"
seed opaque-short.blob "$(header $OPAQUEKEYBLOB 2 $CALG_AES_128)$(le32 $C11O)$(le32 1)$(le32 $CKM_AES_KEY_WRAP)$(le32 $CKK_AES)$(le32 16)$(le32 $CALG_AES_256)$(le32 24)$(pattern 23 0)"
seed opaque-v2-short.blob "$(header $OPAQUEKEYBLOB 2 $CALG_AES_128)$(le32 $C11O)$(le32 2)$(le32 $CKM_AES_KEY_WRAP)$(le32 $CKK_AES)$(le32 16)$(le32 $CALG_AES_256)$(le32 0)$(le32 24)$(pattern 23 0)"
# A version 2 header cut inside its usage field, and inside n (38 bytes,
# where a version 1 header would be whole); reserved usage bits.
seed opaque-v2-cut-usage.blob "$(header $OPAQUEKEYBLOB 2 $CALG_AES_128)$(le32 $C11O)$(le32 2)$(le32 $CKM_AES_KEY_WRAP)$(le32 $CKK_AES)$(le32 16)$(le32 $CALG_AES_256)$(byte 1)$(byte 0)"
seed opaque-v2-cut-n.blob "$(header $OPAQUEKEYBLOB 2 $CALG_AES_128)$(le32 $C11O)$(le32 2)$(le32 $CKM_AES_KEY_WRAP)$(le32 $CKK_AES)$(le32 16)$(le32 $CALG_AES_256)$(le32 0)$(byte 24)$(byte 0)"
seed opaque-v2-reserved-usage.blob "$(header $OPAQUEKEYBLOB 2 $CALG_AES_128)$(le32 $C11O)$(le32 2)$(le32 $CKM_AES_KEY_WRAP)$(le32 $CKK_AES)$(le32 16)$(le32 $CALG_AES_256)$(le32 3)$(le32 24)$(pattern 24 0)"

# The certificate target (KP_CERTIFICATE's DER walk): certificates written
# by the openssl CLI, version 3 (with the [0] version field) and version 1
# (without it), and cuts of them: the header alone, one byte short, and a
# length claiming more than the input.
cert=$fuzz/corpus/cert
mkdir -p "$cert"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:1024 -nodes -keyout "$tmp/key" -subj /CN=capi11-fuzz -days 1 \
	-outform DER -out "$cert/v3.der" 2>/dev/null
openssl req -new -key "$tmp/key" -subj "/O=capi11/CN=v1" -out "$tmp/csr" 2>/dev/null
openssl x509 -req -in "$tmp/csr" -key "$tmp/key" -days 1 -outform DER -out "$cert/v1.der" \
	2>/dev/null
head -c 4 "$cert/v3.der" > "$cert/v3-header.der"
size=$(wc -c < "$cert/v3.der")
head -c $((size - 1)) "$cert/v3.der" > "$cert/v3-short.der"
{ printf '\060\204\177\377\377\377'; tail -c +5 "$cert/v3.der"; } > "$cert/v3-huge-length.der"

# The API target (fuzz-api.c) reads a program: an opcode byte, then that
# operation's arguments (see the op_* functions there). Key bytes select
# from its table: 0 RSA exchange key, 1 its public key alone, 2 AES-128,
# 3 AES-256, 4 3DES, 5 the wrap-only AES-256 KEK, 6 a stale handle, 7-14
# keys made by the input, 15 no key (0).
api=$fuzz/corpus/api
mkdir -p "$api"
le16() { byte "$1"; byte $(($1 >> 8)); }
OP_ENCRYPT=0 OP_DECRYPT=1 OP_EXPORT=2 OP_IMPORT=3 OP_REIMPORT=4 OP_GETPARAM=5 OP_SETPARAM=6
OP_DUPLICATE=7
# Blob type bytes index fuzz-api's list.
T_PUBLIC=0 T_PRIVATE=1 T_SIMPLE=2 T_PLAINTEXT=3 T_SYMWRAP=4 T_OPAQUE=5
K_RSA=0 K_RSA_PUB=1 K_AES128=2 K_AES256=3 K_3DES=4 K_KEK=5 K_NEW=7 K_NONE=15
# encrypt KEY FINAL LENGTH-CLAIM(escapes) DWBUFLEN: OAEP off, flags 0, the
# buffer filled with a pattern.
encrypt() {
	printf %s "$(byte $OP_ENCRYPT)$(byte "$1")$(byte "$2")$(byte 0)$(le32 0)$3$(byte 1)$(le16 "$4")$(pattern "$4" 0x41)"
}
encrypt_oaep() {
	printf %s "$(byte $OP_ENCRYPT)$(byte "$1")$(byte "$2")$(byte 1)$3$(byte 1)$(le16 "$4")$(pattern "$4" 0x41)"
}
small() { printf %s "$(byte 0)$(byte "$1")"; }
near_max() { printf %s "$(byte 2)$(byte "$1")"; }
decrypt() {
	printf %s "$(byte $OP_DECRYPT)$(byte "$1")$(byte "$2")$(byte 0)$(le32 0)$(byte 1)$(le16 "$3")$(pattern "$3" 0x61)"
}
# reimport KEY EXPKEY PUBKEY TYPE EXPORT-FLAGS IMPORT-FLAGS AT XOR CUT:
# export at the size the query gives, bend, import.
reimport() {
	printf %s "$(byte $OP_REIMPORT)$(byte "$1")$(byte "$2")$(byte "$3")$(byte "$4")$(byte "$5")$(byte "$6")$(le16 "$7")$(byte "$8")$(byte "$9")$(small 0)$(byte 0)"
}
import_file() {
	size=$(wc -c < "$2")
	printf "$(byte $OP_IMPORT)$(byte "$1")$(byte 0)$(le16 "$size")"
	cat "$2"
	printf '\000'
}
printf "$(encrypt $K_AES128 1 "$(small 20)" 32)$(decrypt $K_AES128 1 32)" > "$api/aes-encrypt-decrypt"
printf "$(encrypt $K_3DES 0 "$(small 16)" 16)$(encrypt $K_3DES 1 "$(near_max 7)" 64)" \
	> "$api/3des-stream-huge"
printf "$(encrypt $K_RSA 1 "$(small 20)" 64)$(decrypt $K_RSA 1 64)" > "$api/rsa-encrypt-decrypt"
printf "$(encrypt $K_RSA_PUB 1 "$(near_max 10)" 64)$(encrypt_oaep $K_RSA 1 "$(near_max 41)" 64)" \
	> "$api/rsa-huge-length"
printf "$(reimport $K_AES128 $K_RSA $K_RSA $T_SIMPLE 0 0 0 0 0)$(reimport $K_AES128 $K_RSA $K_RSA $T_SIMPLE 0x40 0x40 0 0 0)" \
	> "$api/simple-reimport"
printf "$(reimport $K_AES128 $K_AES256 $K_AES256 $T_SYMWRAP 0 1 0 0 0)$(reimport $K_3DES $K_3DES $K_3DES $T_SYMWRAP 0 1 12 1 0)" \
	> "$api/symwrap-reimport"
printf "$(reimport $K_AES256 $K_KEK $K_KEK $T_OPAQUE 0 1 0 0 0)$(reimport $K_RSA $K_KEK $K_KEK $T_OPAQUE 0 1 40 0x80 0)" \
	> "$api/opaque-reimport"
printf "$(reimport $K_RSA $K_NONE $K_NONE $T_PRIVATE 0 1 0 0 0)$(reimport $K_RSA $K_AES128 $K_AES128 $T_PRIVATE 0 1 0 0 8)" \
	> "$api/private-reimport"
printf "$(reimport $K_3DES $K_NONE $K_NONE $T_PLAINTEXT 0 1 8 0xff 0)$(reimport $K_RSA $K_NONE $K_NONE $T_PUBLIC 0 0 20 0xfe 0)" \
	> "$api/plaintext-public-reimport"
printf "$(byte $OP_SETPARAM)$(byte $K_AES128)$(byte 0)$(pattern 16 0x10)$(byte 0)$(byte $OP_GETPARAM)$(byte $K_AES128)$(byte 6)$(byte 1)$(byte 16)$(byte 0)$(encrypt $K_AES128 1 "$(small 5)" 16)" \
	> "$api/iv-set-get"
printf "$(byte $OP_DUPLICATE)$(byte $K_AES256)$(encrypt $K_NEW 1 "$(small 31)" 32)$(byte 8)$(byte 0)$(encrypt $K_NEW 1 "$(small 1)" 16)" \
	> "$api/duplicate-destroy"
{ import_file $K_RSA "$vectors/rsa512-simple.blob"; import_file $K_NONE "$vectors/rsa512-pub.blob"; } \
	> "$api/import-vectors"
# import_dss FORM FILE: op_import_dss with the blob's bytes after its
# BLOBHEADER (form bit 0 private, bit 1 version 3), import flags 0.
OP_IMPORT_DSS=10
import_dss() {
	size=$(($(wc -c < "$2") - 8))
	printf "$(byte $OP_IMPORT_DSS)$(byte "$1")$(byte 0)$(le16 "$size")"
	tail -c +9 "$2"
}
{ import_dss 0 "$vectors/dss1024-pub.blob"; import_dss 1 "$vectors/dss1024-priv.blob"; } \
	> "$api/dss-import-v2"
{ import_dss 2 "$fuzz/corpus/blob/dss1024-v3-pub.blob"; import_dss 3 "$fuzz/corpus/blob/dss1024-v3-priv.blob"; } \
	> "$api/dss-import-v3"
