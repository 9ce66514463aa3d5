#!/bin/sh
# make wine-check: capi11's CSP under Wine, in a throwaway Wine prefix on a
# throwaway SoftHSM token, both removed at the end.
#   wine/tests/wine-check.sh BUILDDIR
# The environment names the tools configure found: WINE, WINESERVER,
# SOFTHSM_MODULE, SOFTHSM2_UTIL, PKCS11_TOOL, LIBCAPI11_SONAME.
#
# A Windows program (wine/tests/csptest.exe, built with mingw against
# mingw's wincrypt.h) runs through the registered CSP and through Wine's
# rsaenh, and each side reads what the other wrote. Expected values come
# from the other provider (rsaenh), from pkcs11-tool's view of the token,
# and from capi11-tool on the same keys, never from the CSP alone.
set -u
build=$1
: "${WINE:?}" "${WINESERVER:?}" "${SOFTHSM_MODULE:?}" "${SOFTHSM2_UTIL:?}" "${PKCS11_TOOL:?}"
: "${LIBCAPI11_SONAME:?}"

dir=$(mktemp -d "${TMPDIR:-/tmp}/capi11-wine.XXXXXX") || exit 1
export WINEPREFIX="$dir/prefix" WINEDEBUG=-all WINEARCH=win64 WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() {
	"$WINESERVER" -k >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
	what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# The token, as scripts/demo.sh makes one: no PIN on a command line.
mkdir "$dir/tokens" "$dir/x"
cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
CONF
export SOFTHSM2_CONF="$dir/softhsm2.conf"
printf '5678\n5678\n1234\n1234\n' |
	script -qec "$SOFTHSM2_UTIL --init-token --free --label capi11-wine" /dev/null >/dev/null
(umask 077 && printf '1234' >"$dir/pin")
cat >"$dir/capi11.conf" <<CONF
[capi11]
default-provider = "pkcs11:token=capi11-wine?module-path=$SOFTHSM_MODULE&pin-source=file:$dir/pin"
CONF
export CAPI11_CONF="$dir/capi11.conf"
# A second token whose PIN is beyond ASCII ("p\u00efn-1234" in UTF-8), with
# no PIN source: the program gives the PIN with CryptSetProvParam.
printf '5678\n5678\np\303\257n-1234\np\303\257n-1234\n' |
	script -qec "$SOFTHSM2_UTIL --init-token --free --label capi11-pin" /dev/null >/dev/null
cat >"$dir/capi11-pin.conf" <<CONF
[capi11]
default-provider = "pkcs11:token=capi11-pin?module-path=$SOFTHSM_MODULE"
CONF
# The CSP and the library from the build tree; wine and wineserver as
# configure found them.
export CAPI11_WINE_DLL="$build/wine/capi11csp.dll.so"
export CAPI11_WINE_LIBRARY="$build/.libs/$LIBCAPI11_SONAME"
export CAPI11_WINE="$WINE" CAPI11_WINESERVER="$WINESERVER"
tool="$build/capi11-tool"
csptest="$build/wine/tests/csptest.exe"
# pkcs11-tool, reading the token on its own, with the throwaway token's
# PIN (as the test fixtures do).
p11() {
	"$PKCS11_TOOL" --module "$SOFTHSM_MODULE" --token-label capi11-wine --login \
		--pin "$(cat "$dir/pin")" "$@" 2>/dev/null
}
# A Windows path for a directory of the Unix side: Wine maps / to Z:.
win() { printf 'Z:%s' "$1" | tr / '\\'; }
cryptoreg() {
	"$WINE" reg query 'HKLM\Software\Microsoft\Cryptography\Defaults' /s || return 1
	# Keys that may be absent: reg says so (status 1) into the listing.
	"$WINE" reg query 'HKLM\Software\capi11' /s 2>&1
	"$WINE" reg query 'HKCU\Software\Microsoft\Cryptography' /s 2>&1
	return 0
}
CSP="capi11 PKCS#11 Provider"
AES="Microsoft Enhanced RSA and AES Cryptographic Provider"

start=$(date +%s)
# One prefix for the whole run: wineboot is the slow part.
"$WINE" wineboot -i >/dev/null 2>&1 || { fail "wineboot -i"; exit 1; }
echo "wine-check: prefix made in $(($(date +%s) - start)) s"

# The CSP never links libcapi11 by name, so neither side's CryptoAPI names
# can bind to the other's (wine/csp-lib.h).
check "capi11csp.dll.so does not link libcapi11" \
	sh -c "! readelf -d '$CAPI11_WINE_DLL' | grep NEEDED | grep -q libcapi11"
check "capi11csp.dll.so leaves no CryptoAPI name to the dynamic linker" \
	sh -c "! nm -D --undefined-only '$CAPI11_WINE_DLL' | grep -E ' (Crypt|[GS]etLastError)'"

# Mistakes are refused before the prefix is touched.
mkdir "$dir/not-a-prefix"
refused() { # refused MESSAGE COMMAND...: fails with status 1 and says MESSAGE
	msg=$1
	shift
	"$@" 2>"$dir/refusal.txt" >/dev/null
	[ $? -eq 1 ] && grep -q "$msg" "$dir/refusal.txt"
}
check "wine-register refuses a directory that is no Wine prefix" \
	refused "is not a Wine prefix" env WINEPREFIX="$dir/not-a-prefix" "$tool" wine-register
check "wine-register refuses a relative --dll" \
	refused "must be absolute" "$tool" wine-register --dll capi11csp.dll.so
check "wine-register refuses a --dll that does not exist" \
	refused "no CSP at" "$tool" wine-register --dll "$dir/none.dll.so"
# A DLL at a path Windows cannot load from: winepath -w passes the
# character through, and every program using the provider would fail with
# NTE_PROVIDER_DLL_FAIL.
for bad in 'bad:colon' 'bad"quote' 'bad?mark' 'bad*star' 'bad|bar' 'bad<lt' 'bad\\back' \
	"$(printf 'bad\001ctl')" "$(printf 'bad\nline')"; do
	mkdir "$dir/$bad" && cp "$CAPI11_WINE_DLL" "$dir/$bad/capi11csp.dll.so" || fail "mkdir $bad"
	check "wine-register refuses a --dll Windows cannot load ($(printf '%s' "$bad" | od -An -c | tr -s ' '))" \
		refused "Windows" "$tool" wine-register --dll "$dir/$bad/capi11csp.dll.so"
	rm -rf "$dir/$bad"
done
"$tool" wine-register --as-default --unregister 2>/dev/null
check "--as-default with --unregister is a usage error (status $?)" test $? -eq 2

cryptoreg >"$dir/reg-before.txt" || fail "reg query"
check "the prefix starts with rsaenh as default" \
	sh -c "'$WINE' '$csptest' imptype - 24 | grep -q '^software '"

# Registration under the CSP's own name, twice: the same registry.
check "wine-register" "$tool" wine-register
cryptoreg >"$dir/reg-plain.txt"
check "wine-register writes the provider key" \
	grep -q "Image Path    REG_SZ    $(win "$CAPI11_WINE_DLL" | sed 's/\\/\\\\/g')" \
	"$dir/reg-plain.txt"
check "wine-register again" "$tool" wine-register
cryptoreg >"$dir/reg-plain2.txt"
check "a second registration is idempotent" cmp -s "$dir/reg-plain.txt" "$dir/reg-plain2.txt"
check "defaults untouched without --as-default" \
	sh -c "'$WINE' '$csptest' imptype - 24 | grep -q '^software '"

# Errors and the whole program through the CSP; blobs and ciphertexts
# exchanged with rsaenh both ways.
# The expectations of errors and wide hold for rsaenh, Windows' provider
# as Wine implements it, first.
check "errors through rsaenh" "$WINE" "$csptest" errors "$AES" 24
check "a UTF-16 container name through rsaenh" "$WINE" "$csptest" wide "$AES" 24 make
check "CRYPT_DELETEKEYSET through rsaenh" "$WINE" "$csptest" wide "$AES" 24 delete
check "errors through the CSP" "$WINE" "$csptest" errors "$CSP" 24
check "a PIN beyond ASCII through CryptSetProvParam reaches the token in UTF-8" \
	env CAPI11_CONF="$dir/capi11-pin.conf" "$WINE" "$csptest" pin "$CSP" 24 wine-pin
check "without libcapi11 the CSP fails with NTE_PROVIDER_DLL_FAIL" \
	env CAPI11_WINE_LIBRARY="$dir/no-such-libcapi11.so" "$WINE" "$csptest" nolib "$CSP" 24
# A container named beyond ASCII in UTF-16: UTF-8 on the token, the ANSI
# code page back in the program; CRYPT_DELETEKEYSET removes it.
check "a UTF-16 container name through the CSP" "$WINE" "$csptest" wide "$CSP" 24 make
wide_label=$(printf 'wine-\303\251t\303\251')
p11 -O >"$dir/objects-wide.txt"
check "pkcs11-tool lists the container's label in UTF-8" \
	grep -q "label: *$wide_label\$" "$dir/objects-wide.txt"
# A key pair whose label is "\uff21\uff44min" (fullwidth letters) in UTF-8;
# no container named "Admin" exists. The names the CSP gives out must
# work when the program gives them back.
p11 --keypairgen --key-type rsa:1024 --id ff21 \
	--label "$(printf '\357\274\241\357\275\204min')" >/dev/null
check "names the CSP gives out in the ANSI code page work when given back" \
	"$WINE" "$csptest" names "$CSP" 24
# Under a locale whose ANSI code page is UTF-8 (Wine gives hi_IN 65001), a
# label that is not UTF-8 (200 bytes 0xff, a foreign pair's) grows to three
# bytes a byte (U+FFFD): the listing must still run to ERROR_NO_MORE_ITEMS
# rather than stop at that name.
p11 --keypairgen --key-type rsa:1024 --id ff22 \
	--label "$(head -c 200 /dev/zero | tr '\000' '\377')" >/dev/null
check "PP_ENUMCONTAINERS lists a label that is no UTF-8 under ANSI code page 65001" \
	env LC_ALL=hi_IN.UTF-8 "$WINE" "$csptest" names "$CSP" 24
# A companion token labelled in Cyrillic ("\u041a\u0430\u0440\u0442\u0430"), which
# code page 1252 (Wine's for the C locale) lacks: PP_CAPI11_ROUTES, which
# ends in the companion's label, is not given out there
# (ERROR_NO_UNICODE_TRANSLATION); under 65001 it is, ending in the label's
# UTF-8 bytes as pkcs11-tool reads them from the token.
cyr=$(printf '\320\232\320\260\321\200\321\202\320\260')
printf '5678\n5678\n1234\n1234\n' |
	script -qec "$SOFTHSM2_UTIL --init-token --free --label $cyr" /dev/null >/dev/null
cp "$dir/capi11.conf" "$dir/capi11-companion.conf"
printf 'companion = "pkcs11:token=%%D0%%9A%%D0%%B0%%D1%%80%%D1%%82%%D0%%B0?module-path=%s"\n' \
	"$SOFTHSM_MODULE" >>"$dir/capi11-companion.conf"
cyr_hex=$("$PKCS11_TOOL" --module "$SOFTHSM_MODULE" -L 2>/dev/null |
	sed -n 's/^ *token label *: *//p' | grep -v '^capi11-' | head -n 1 | tr -d '\n' |
	od -An -tx1 | tr -d ' \n')
check "pkcs11-tool reads the companion's label as the UTF-8 written ($cyr_hex)" \
	test "$cyr_hex" = d09ad0b0d180d182d0b0
check "PP_CAPI11_ROUTES with a label code page 1252 lacks: ERROR_NO_UNICODE_TRANSLATION" \
	env LC_ALL=C CAPI11_CONF="$dir/capi11-companion.conf" "$WINE" "$csptest" routes "$CSP" 24 -
check "PP_CAPI11_ROUTES with that label under code page 65001: the label's UTF-8" \
	env LC_ALL=hi_IN.UTF-8 CAPI11_CONF="$dir/capi11-companion.conf" \
	"$WINE" "$csptest" routes "$CSP" 24 "$cyr_hex"
for id in ff21 ff22; do
	p11 --delete-object --type privkey --id $id >/dev/null
	p11 --delete-object --type pubkey --id $id >/dev/null
done
check "CRYPT_DELETEKEYSET through the CSP" "$WINE" "$csptest" wide "$CSP" 24 delete
p11 -O >"$dir/objects-wide.txt"
check "the deleted container's objects are gone from the token" \
	sh -c "! grep -q 'label: *$wide_label' '$dir/objects-wide.txt'"

X=$(win "$dir/x")
mkdir "$dir/y"
Y=$(win "$dir/y")
check "capi11 makes keys, exports every blob" "$WINE" "$csptest" make "$CSP" 24 wine-capi11 "$X"
check "rsaenh reads capi11's blobs and answers" "$WINE" "$csptest" send "$AES" 24 "$X"
check "capi11 reads rsaenh's SIMPLEBLOB and ciphertexts" \
	"$WINE" "$csptest" receive "$CSP" 24 wine-capi11 "$X"
check "capi11 opens its own PRIVATEKEYBLOB encrypted under an AES key" \
	"$WINE" "$csptest" send "$CSP" 24 "$X" private
check "rsaenh makes keys" "$WINE" "$csptest" make "$AES" 24 wine-rsaenh "$Y"
check "capi11 reads rsaenh's blobs and answers" "$WINE" "$csptest" send "$CSP" 24 "$Y"
check "rsaenh reads capi11's SIMPLEBLOB and ciphertexts" \
	"$WINE" "$csptest" receive "$AES" 24 wine-rsaenh "$Y"

# The pairs are on the token (session keys are session objects, which no
# other process can see); rsaenh's are not.
p11 -O >"$dir/objects.txt"
n_pub=$(grep -A1 '^Public Key Object; RSA 2048' "$dir/objects.txt" | grep -c 'label: *wine-capi11$')
n_priv=$(grep -A1 '^Private Key Object; RSA' "$dir/objects.txt" | grep -c 'label: *wine-capi11$')
check "pkcs11-tool lists 2 public and 2 private keys of wine-capi11 ($n_pub, $n_priv)" \
	test "$n_pub" = 2 -a "$n_priv" = 2
check "rsaenh's container is not on the token" sh -c "! grep -q wine-rsaenh '$dir/objects.txt'"

# The blobs the Windows program exported equal capi11-tool's on Linux.
for spec in exchange signature; do
	for type in public private; do
		short=$(echo $spec | cut -c1-4)
		[ "$short" = exch ] || short=sig
		ext=$([ "$type" = public ] && echo pub || echo priv)
		if "$tool" export --container wine-capi11 --spec $spec --type $type \
			--out "$dir/native-$spec-$type.blob"; then
			check "$spec $type blob byte-identical to capi11-tool export" \
				cmp "$dir/native-$spec-$type.blob" "$dir/x/$short.$ext"
		else
			fail "capi11-tool export --spec $spec --type $type"
		fi
	done
done
if "$tool" export --container wine-capi11 --spec exchange --type private \
	--wrap-key "$dir/x/aes.plain" --out "$dir/native-exchange-private-aes.blob"; then
	check "exchange PRIVATEKEYBLOB under AES-256 byte-identical to capi11-tool export" \
		cmp "$dir/native-exchange-private-aes.blob" "$dir/x/exch.priv.aes"
else
	fail "capi11-tool export --type private --wrap-key"
fi

# --as-default: programs that name Microsoft's providers, or none, reach
# the token. Twice: the same registry.
check "wine-register --as-default" "$tool" wine-register --as-default
cryptoreg >"$dir/reg-default.txt"
check "wine-register --as-default again" "$tool" wine-register --as-default
cryptoreg >"$dir/reg-default2.txt"
check "a second --as-default is idempotent" cmp -s "$dir/reg-default.txt" "$dir/reg-default2.txt"
# A lost saved copy: Microsoft's names already lead to the CSP. A third
# --as-default must not save the CSP's own path as Wine's; it refuses and
# changes nothing.
"$WINE" reg export 'HKLM\Software\capi11' "$(win "$dir/saved.reg")" /y >/dev/null
"$WINE" reg delete 'HKLM\Software\capi11' /f >/dev/null
cryptoreg >"$dir/reg-lost.txt"
check "--as-default with the saved copy lost refuses to save the CSP as the original" \
	refused "no saved original" "$tool" wine-register --as-default
cryptoreg >"$dir/reg-lost2.txt"
check "the refused --as-default changed nothing" cmp -s "$dir/reg-lost.txt" "$dir/reg-lost2.txt"
"$WINE" reg import "$(win "$dir/saved.reg")" >/dev/null
cryptoreg >"$dir/reg-default3.txt"
check "the saved copy is back" cmp -s "$dir/reg-default.txt" "$dir/reg-default3.txt"
# reg.exe failing for another reason than "not found" (a wine that fails
# every reg query, then one that fails every reg delete): wine-register
# says so and fails rather than saving nothing or claiming success.
cat >"$dir/wine-noquery" <<WRAP
#!/bin/sh
[ "\$1 \$2" = "reg query" ] && exit 1
exec "$WINE" "\$@"
WRAP
sed 's/reg query/reg delete/' "$dir/wine-noquery" >"$dir/wine-nodelete"
chmod +x "$dir/wine-noquery" "$dir/wine-nodelete"
cryptoreg >"$dir/reg-noquery.txt"
check "--as-default fails when reg query fails" \
	refused "query .* failed" env CAPI11_WINE="$dir/wine-noquery" "$tool" wine-register --as-default
cryptoreg >"$dir/reg-noquery2.txt"
check "the failed --as-default changed nothing" \
	cmp -s "$dir/reg-noquery.txt" "$dir/reg-noquery2.txt"
check "--unregister fails when reg delete fails" \
	refused "delete .* failed" env CAPI11_WINE="$dir/wine-nodelete" "$tool" wine-register --unregister
CAPI11_WINE="$dir/wine-nodelete" "$tool" wine-register --unregister >"$dir/unreg.txt" 2>/dev/null
check "a failed --unregister does not say unregistered" sh -c "! grep -q unregistered '$dir/unreg.txt'"
check "wine-register --as-default after the failures" "$tool" wine-register --as-default
cryptoreg >"$dir/reg-default4.txt"
check "the registry is as after the first --as-default" \
	cmp -s "$dir/reg-default.txt" "$dir/reg-default4.txt"
for t in 1 24; do
	check "the default provider of type $t is the token" \
		sh -c "'$WINE' '$csptest' imptype - $t | grep -q '^hardware '"
done
for name in "Microsoft Base Cryptographic Provider v1.0" \
	"Microsoft Enhanced Cryptographic Provider v1.0" "Microsoft Strong Cryptographic Provider"; do
	check "$name (type 1) is the token" \
		sh -c "'$WINE' '$csptest' imptype '$name' 1 | grep -q '^hardware '"
done
for name in "$AES" "$AES (Prototype)"; do
	check "$name (type 24) is the token" \
		sh -c "'$WINE' '$csptest' imptype '$name' 24 | grep -q '^hardware '"
done
mkdir "$dir/z"
check "a program naming no provider keeps its keys on the token" \
	"$WINE" "$csptest" make - 1 wine-default "$(win "$dir/z")"
p11 -O >"$dir/objects2.txt"
check "pkcs11-tool lists wine-default's keys" grep -q 'label: *wine-default$' "$dir/objects2.txt"

# --unregister gives rsaenh back, value for value.
check "wine-register --unregister" "$tool" wine-register --unregister
cryptoreg >"$dir/reg-after.txt"
if cmp -s "$dir/reg-before.txt" "$dir/reg-after.txt"; then
	pass "the registry after --unregister equals the one before registration"
else
	fail "the registry after --unregister differs:"
	diff "$dir/reg-before.txt" "$dir/reg-after.txt"
fi
for t in 1 24; do
	check "the default provider of type $t is rsaenh again" \
		sh -c "'$WINE' '$csptest' imptype - $t | grep -q '^software '"
done

# Restoring keeps a value's type and a key's absence: Base's "Image Path"
# as REG_EXPAND_SZ, the "(Prototype)" name not registered at all.
prov='HKLM\Software\Microsoft\Cryptography\Defaults\Provider'
"$WINE" reg add "$prov\Microsoft Base Cryptographic Provider v1.0" /v "Image Path" \
	/t REG_EXPAND_SZ /d '%SystemRoot%\system32\rsaenh.dll' /f >/dev/null
"$WINE" reg delete "$prov\$AES (Prototype)" /f >/dev/null
cryptoreg >"$dir/reg-before2.txt"
check "wine-register --as-default on a changed prefix" "$tool" wine-register --as-default
check "the missing (Prototype) name is registered for the CSP" \
	sh -c "'$WINE' '$csptest' imptype '$AES (Prototype)' 24 | grep -q '^hardware '"
check "wine-register --unregister on a changed prefix" "$tool" wine-register --unregister
cryptoreg >"$dir/reg-after2.txt"
if cmp -s "$dir/reg-before2.txt" "$dir/reg-after2.txt"; then
	pass "a REG_EXPAND_SZ value and an absent key are restored as they were"
else
	fail "the changed prefix is not restored:"
	diff "$dir/reg-before2.txt" "$dir/reg-after2.txt"
fi

echo "wine-check: $failures failed, $(($(date +%s) - start)) s in all"
[ "$failures" -eq 0 ]
