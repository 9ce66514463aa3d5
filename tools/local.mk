# capi11-tool: the command line, on the public API only (<wincrypt.h>).
bin_PROGRAMS += capi11-tool
capi11_tool_SOURCES = \
	tools/main.c \
	tools/tool.c tools/tool.h \
	tools/keys.c tools/keys.h \
	tools/pem.c tools/pem.h tools/le32.h \
	tools/cmd-list.c \
	tools/cmd-genkey.c \
	tools/cmd-export.c \
	tools/cmd-import.c \
	tools/cmd-wrap.c \
	tools/cmd-trust.c \
	tools/cmd-sign.c \
	tools/cmd-dump.c \
	tools/cmd-demo.c \
	tools/cmd-wine.c
# demo's defaults; CAPI11_SOFTHSM_MODULE, CAPI11_SOFTHSM2_UTIL and
# CAPI11_OPENSSL override them at run time.
capi11_tool_CPPFLAGS = -I$(top_srcdir)/include/capi11 -I$(top_srcdir)/tools \
	-DSOFTHSM_MODULE='"$(SOFTHSM_MODULE)"' \
	-DSOFTHSM2_UTIL='"$(SOFTHSM2_UTIL)"' \
	-DOPENSSL_BIN='"$(OPENSSL)"' \
	-DWINE_BIN='"$(WINE)"' -DWINESERVER_BIN='"$(WINESERVER)"' \
	-DCAPI11_WINE_DLL='"$(libdir)/capi11csp.dll.so"'
capi11_tool_CFLAGS = $(AM_CFLAGS) $(LIBCRYPTO_CFLAGS)
capi11_tool_LDADD = libcapi11-dump.la libcapi11.la $(LIBCRYPTO_LIBS)

# The blob decoder behind `capi11-tool dump`, also linked by the fuzz targets.
noinst_LTLIBRARIES += libcapi11-dump.la
libcapi11_dump_la_SOURCES = tools/dump.c tools/dump.h tools/names.c tools/names.h
libcapi11_dump_la_CPPFLAGS = -I$(top_srcdir)/include/capi11 -I$(top_srcdir)/tools
libcapi11_dump_la_CFLAGS = $(AM_CFLAGS)
