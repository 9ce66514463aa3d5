# libcapi11: the public library.
lib_LTLIBRARIES += libcapi11.la
capi11includedir = $(includedir)/capi11
capi11include_HEADERS = include/capi11/wincrypt.h

# The core, built once as a convenience library so that unit tests can
# reach internal functions that the shared library does not export.
noinst_LTLIBRARIES += libcapi11-core.la
libcapi11_core_la_SOURCES = \
	src/util.c src/util.h \
	src/lasterror.c \
	src/trace.c src/trace.h \
	src/errors.c src/errors.h \
	src/conffile.c src/conffile.h \
	src/config-cache.c src/config-cache.h \
	src/pin.c src/pin.h \
	src/uri.c src/uri.h \
	src/alg.c src/alg.h \
	src/blob.c src/blob.h \
	src/blob-dss.c src/blob-dss.h \
	src/blob-dh.c src/blob-dh.h \
	src/blob-v3.c src/blob-v3.h \
	src/handle.c src/handle.h \
	src/objguard.c src/objguard.h \
	src/p11call.c src/p11call.h \
	src/module.c src/module.h \
	src/quirks.c src/quirks.h \
	src/token.c src/token.h src/token-private.h \
	src/session.c src/session.h \
	src/token-ops.c src/token-ops.h \
	src/container.c src/container.h \
	src/container-lock.c src/container-lock.h \
	src/container-pending.c src/container-pending.h \
	src/companion.c src/companion.h \
	src/context.c src/context.h \
	src/param.c src/param.h \
	src/prov-param.c src/prov-param.h \
	src/prov-enum.c src/prov-enum.h \
	src/prov-types.c src/prov-types.h \
	src/prov-default.c src/prov-default.h \
	src/conf-edit.c src/conf-edit.h \
	src/utf16.c src/utf16.h \
	src/prov-names.c src/prov-names.h \
	src/prov-type.c src/prov-type.h \
	src/random.c src/random.h \
	src/route.c src/route.h \
	src/key.c src/key.h \
	src/key-card.c src/key-card.h \
	src/dss.c src/dss.h \
	src/dh.c src/dh.h \
	src/agree.c src/agree.h \
	src/export.c src/export.h \
	src/import.c src/import.h \
	src/des3-wrap.c src/des3-wrap.h \
	src/rsa-mech.c src/rsa-mech.h \
	src/cipher.c src/cipher.h \
	src/token-sign.c src/token-sign.h \
	src/hash.c src/hash.h \
	src/hmac-key.c src/hmac-key.h \
	src/sign.c src/sign.h \
	src/dss-sign.c src/dss-sign.h \
	src/derive.c src/derive.h \
	src/cert.c src/cert.h \
	src/trust.c src/trust.h \
	src/key-param.c \
	src/api.c src/api.h \
	src/api-prov.c \
	src/api-wide.c \
	src/api-default.c \
	src/api-key.c \
	src/api-blob.c \
	src/api-data.c \
	src/api-hash.c \
	src/api-trust.c
libcapi11_core_la_CFLAGS = $(AM_CFLAGS) $(P11KIT_CFLAGS)
libcapi11_core_la_LIBADD = $(P11KIT_LIBS)

libcapi11_la_SOURCES =
nodist_EXTRA_libcapi11_la_SOURCES = dummy.c
libcapi11_la_LIBADD = libcapi11-core.la
libcapi11_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(LT_VERSION_INFO) -no-undefined \
	-Wl,--version-script=$(srcdir)/src/libcapi11.sym
EXTRA_libcapi11_la_DEPENDENCIES = $(srcdir)/src/libcapi11.sym
EXTRA_DIST += src/libcapi11.sym

# The main job: a Windows CryptoAPI program on a throwaway SoftHSM token.
noinst_PROGRAMS += examples/keyset-demo
examples_keyset_demo_SOURCES = examples/keyset-demo.c
examples_keyset_demo_LDADD = libcapi11.la
dist_noinst_SCRIPTS += scripts/demo.sh

# A program written for Windows with UNICODE defined: TEXT("") literals
# are UTF-16 only with -fshort-wchar. tests/test-wide runs it.
noinst_PROGRAMS += examples/unicode-demo
examples_unicode_demo_SOURCES = examples/unicode-demo.c
examples_unicode_demo_CFLAGS = $(AM_CFLAGS) -DUNICODE -fshort-wchar
examples_unicode_demo_LDADD = libcapi11.la

demo: examples/keyset-demo$(EXEEXT)
	$(SHELL) $(srcdir)/scripts/demo.sh $(abs_builddir)/examples/keyset-demo$(EXEEXT) \
		"$(SOFTHSM_MODULE)"
.PHONY: demo
