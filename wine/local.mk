# capi11csp.dll.so: the CSP that Windows programs under Wine reach through
# advapi32 (docs/WINE.md). An ELF builtin DLL built with winegcc, installed
# beside libcapi11, which it loads with dlopen (wine/csp-lib.h says why).
# Neither libtool nor the project's warning or sanitizer flags apply: the
# DLL runs inside Wine's process, built by Wine's compiler driver.
wine_csp_sources = wine/capi11csp.c wine/csp-lib.c wine/csp-lib.h \
	wine/csp-text.c wine/csp-text.h wine/capi11csp.spec
EXTRA_DIST += $(wine_csp_sources) wine/tests/csptest.c wine/tests/wine-check.sh
WINE_CSP_CFLAGS = -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-DCAPI11_LIBRARY_PATH='"$(libdir)/$(LIBCAPI11_SONAME)"'
if PREFIX_MAP
WINE_CSP_CFLAGS += -ffile-prefix-map=$(abs_top_srcdir)=. -ffile-prefix-map=$(abs_top_builddir)=.
endif

if WINE_CSP
winecspdir = $(libdir)
winecsp_DATA = wine/capi11csp.dll.so
CLEANFILES += wine/capi11csp.dll.so

wine/capi11csp.dll.so: $(wine_csp_sources)
	@$(MKDIR_P) wine
	$(AM_V_GEN)$(WINEGCC) -shared $(WINE_CSP_CFLAGS) -o $@ \
		$(srcdir)/wine/capi11csp.c $(srcdir)/wine/csp-lib.c $(srcdir)/wine/csp-text.c \
		$(srcdir)/wine/capi11csp.spec
endif

# make wine-check: the CSP under Wine with a Windows test program, on a
# throwaway SoftHSM token and Wine prefix (wine/tests/wine-check.sh).
CLEANFILES += wine/tests/csptest.exe
wine/tests/csptest.exe: wine/tests/csptest.c
	@$(MKDIR_P) wine/tests
	$(AM_V_GEN)$(MINGW_CC) -O2 -Wall -Wextra -o $@ $(srcdir)/wine/tests/csptest.c -ladvapi32

if WINE_CSP
wine_check_deps = wine/capi11csp.dll.so libcapi11.la capi11-tool$(EXEEXT)
else
wine_check_deps =
endif
wine-check: $(wine_check_deps)
	@missing=""; \
	test -n "$(WINEGCC)" || missing="$$missing winegcc"; \
	test -n "$(WINE)" || missing="$$missing wine"; \
	test -n "$(WINESERVER)" || missing="$$missing wineserver"; \
	test -n "$(MINGW_CC)" || missing="$$missing x86_64-w64-mingw32-gcc"; \
	test -n "$(SOFTHSM_MODULE)" && test -n "$(SOFTHSM2_UTIL)" || missing="$$missing softhsm2"; \
	test -n "$(PKCS11_TOOL)" || missing="$$missing pkcs11-tool"; \
	if test -n "$$missing"; then \
		echo "wine-check: SKIPPED: not found at configure time:$$missing (Debian packages:" \
		     "wine wine64 wine64-tools libwine-dev gcc-mingw-w64-x86-64 softhsm2 opensc;" \
		     "install them and run configure again)"; \
		exit 0; \
	fi; \
	$(MAKE) $(AM_MAKEFLAGS) wine/tests/csptest.exe && \
	WINE='$(WINE)' WINESERVER='$(WINESERVER)' SOFTHSM_MODULE='$(SOFTHSM_MODULE)' \
	SOFTHSM2_UTIL='$(SOFTHSM2_UTIL)' PKCS11_TOOL='$(PKCS11_TOOL)' \
	LIBCAPI11_SONAME='$(LIBCAPI11_SONAME)' \
	$(SHELL) $(srcdir)/wine/tests/wine-check.sh $(abs_builddir)
.PHONY: wine-check
