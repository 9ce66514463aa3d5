#!/bin/sh
# Regenerates the key-blob vectors that tests/test-blob.c reads. Every
# expected value comes from the openssl CLI, never from capi11:
#   rsaN.pem         the key (test material only, never use it elsewhere)
#   rsaN-priv.blob   openssl's PRIVATEKEYBLOB (MSBLOB) of the key
#   rsaN-pub.blob    openssl's PUBLICKEYBLOB of the key
#   rsaN.txt         the numbers of `openssl rsa -text`, one per line as
#                    "name=hex", big-endian, exactly as openssl prints them
#                    (a leading 00 sign byte included)
#   rsaN-simple.ct   RSA PKCS#1 v1.5 ciphertext (openssl pkeyutl) of
#                    aes128.key under the public key, big-endian
#   rsaN-simple.blob a SIMPLEBLOB of that ciphertext laid out as Microsoft
#                    documents it (BLOBHEADER {SIMPLEBLOB, 2, 0, CALG_AES_128},
#                    ALG_ID CALG_RSA_KEYX, ciphertext byte-reversed), written
#                    byte by byte here with od and printf
#   aes128.key       the 16 key bytes 00 01 ... 0f
#   rsa1024-oaep.ct  RSA OAEP (SHA-1) ciphertext of aes128.key under
#                    rsa1024, big-endian. With rsa1024-simple.ct it serves
#                    test-cipher's negative checks, which need ciphertexts
#                    that openssl refuses in the wrong form (not
#                    byte-reversed, or with the other padding): the script
#                    encrypts again until it does, so the checks are fixed
#                    instead of passing or failing with the luck of a
#                    fresh key.
#   dss1024.pem, dss1024-priv.blob, dss1024-pub.blob
#                    a DSS key and openssl's MSBLOBs of it
# Usage: sh make-vectors.sh [directory]   (default: the script's directory)
# Re-running makes new keys; the tests read whatever the files say.
set -eu

dir=${1:-$(dirname "$0")}
cd "$dir"
openssl=${OPENSSL:-openssl}

# Hex of a file, one byte per line.
hex_bytes() {
	od -An -v -tx1 "$1" | tr -s ' \n' '\n\n' | grep -v '^$'
}

# Writes the bytes given as hex pairs on stdin, one per line, to $1.
# printf's octal escapes are the portable form (dash has no \x).
bytes_from_hex() {
	esc=$(awk '{
		hi = index("0123456789abcdef", substr($0, 1, 1)) - 1
		lo = index("0123456789abcdef", substr($0, 2, 1)) - 1
		printf "\\%03o", 16 * hi + lo
	}')
	printf "$esc" > "$1"
}

printf '\000\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017' > aes128.key

for bits in 512 1024; do
	k=rsa$bits
	"$openssl" genrsa -out $k.pem $bits 2>/dev/null
	"$openssl" rsa -in $k.pem -outform MSBLOB -out $k-priv.blob 2>/dev/null
	"$openssl" rsa -in $k.pem -pubout -outform MSBLOB -out $k-pub.blob 2>/dev/null

	# "modulus:" starts a block of "xx:xx:..." lines; publicExponent is
	# printed inline as "65537 (0x10001)".
	"$openssl" rsa -in $k.pem -text -noout 2>/dev/null | awk '
		function flush() { if (name != "") print name "=" value; name = "" }
		/^publicExponent:/ {
			flush()
			e = $0; sub(/.*\(0x/, "", e); sub(/\).*/, "", e)
			if (length(e) % 2) e = "0" e
			print "publicExponent=" e
			next
		}
		/^[a-zA-Z0-9]+:$/ { flush(); name = substr($0, 1, length($0) - 1); value = ""; next }
		/^ / { v = $0; gsub(/[ :]/, "", v); value = value v; next }
		{ flush() }
		END { flush() }' > $k.txt
	grep -q '^modulus=' $k.txt
	grep -q '^coefficient=' $k.txt

	"$openssl" rsa -in $k.pem -pubout -out $k-pub.pem 2>/dev/null
	"$openssl" pkeyutl -encrypt -pubin -inkey $k-pub.pem -in aes128.key \
		-pkeyopt rsa_padding_mode:pkcs1 -out $k-simple.ct
	rm -f $k-pub.pem
	{
		# bType 1, bVersion 2, reserved 0, CALG_AES_128 0x660e, CALG_RSA_KEYX 0xa400
		printf '01\n02\n00\n00\n0e\n66\n00\n00\n00\na4\n00\n00\n'
		hex_bytes $k-simple.ct | tac
	} | bytes_from_hex $k-simple.blob

	# Check the SIMPLEBLOB with openssl: un-reverse and decrypt.
	tail -c +13 $k-simple.blob > $k-check.ct.le
	hex_bytes $k-check.ct.le | tac | bytes_from_hex $k-check.ct
	"$openssl" pkeyutl -decrypt -inkey $k.pem -in $k-check.ct -out $k-check.key
	cmp $k-check.key aes128.key
	rm -f $k-check.ct.le $k-check.ct $k-check.key
done

# Fails (status 0) when openssl decrypts $1 with padding $2 under rsa1024.
refused() {
	! "$openssl" pkeyutl -decrypt -inkey rsa1024.pem -in "$1" \
		-pkeyopt rsa_padding_mode:"$2" -out /dev/null 2>/dev/null
}

# Whether ciphertext $1, made with padding $2, is refused in every wrong form.
wrong_forms_refused() {
	hex_bytes "$1" | tac | bytes_from_hex "$1.le"
	other=oaep
	[ "$2" = oaep ] && other=pkcs1
	st=1
	if refused "$1.le" "$2" && refused "$1.le" $other && refused "$1" $other; then
		st=0
	fi
	rm -f "$1.le"
	return $st
}

cipher_vectors() {
	"$openssl" rsa -in rsa1024.pem -pubout -out rsa1024-pub.pem 2>/dev/null
	wrong_forms_refused rsa1024-simple.ct pkcs1
	tries=0
	until "$openssl" pkeyutl -encrypt -pubin -inkey rsa1024-pub.pem -in aes128.key \
			-pkeyopt rsa_padding_mode:oaep -out rsa1024-oaep.ct &&
		wrong_forms_refused rsa1024-oaep.ct oaep; do
		tries=$((tries + 1))
		[ $tries -lt 20 ] || exit 1
	done
	"$openssl" pkeyutl -decrypt -inkey rsa1024.pem -in rsa1024-oaep.ct \
		-pkeyopt rsa_padding_mode:oaep -out rsa1024-check.key
	cmp rsa1024-check.key aes128.key
	rm -f rsa1024-pub.pem rsa1024-check.key
}
cipher_vectors

# DSS: a 1024-bit key (q of 160 bits, the only DSS form Windows knows) and
# openssl's MSBLOBs of it, version 2 ("DSS2"/"DSS1"), for the fuzz corpus.
dss_vectors() {
	"$openssl" genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 \
		-pkeyopt dsa_paramgen_q_bits:160 -out dss1024-params.pem 2>/dev/null
	"$openssl" genpkey -paramfile dss1024-params.pem -out dss1024.pem
	"$openssl" dsa -in dss1024.pem -outform MSBLOB -out dss1024-priv.blob 2>/dev/null
	"$openssl" dsa -in dss1024.pem -pubout -outform MSBLOB -out dss1024-pub.blob 2>/dev/null
	rm -f dss1024-params.pem
}
dss_vectors
