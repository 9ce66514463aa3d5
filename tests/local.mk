# Tests: CUnit programs, each making its own throwaway SoftHSM tokens.
#
# They compile with AM_CPPFLAGS and AM_CFLAGS alone: the programs and
# directories they use are in tests/testenv.h, which configure writes into
# the build tree and which only test code includes.
AM_CPPFLAGS += -I$(top_srcdir)/tests -I$(top_builddir)/tests $(P11KIT_CFLAGS) $(CUNIT_CFLAGS)
TEST_LIBS = libtestfixture.la libcapi11-core.la $(CUNIT_LIBS) $(P11KIT_LIBS) $(FORKPTY_LIBS)

if HAVE_CUNIT
# Shared by every test program: token fixtures and the CUnit runner.
check_LTLIBRARIES += libtestfixture.la
libtestfixture_la_SOURCES = tests/fixture.c tests/fixture.h tests/cutest.c tests/cutest.h \
	tests/testutil.c tests/testutil.h

# A PKCS#11 module that forwards to SoftHSM, counts calls and injects faults.
check_LTLIBRARIES += tests/p11shim.la
tests_p11shim_la_SOURCES = tests/p11shim.c tests/p11shim.h
tests_p11shim_la_LDFLAGS = -module -avoid-version -rpath /nowhere -no-undefined
tests_p11shim_la_LIBADD = -ldl

TEST_PROGS = \
	tests/test-constants \
	tests/test-fixture \
	tests/test-config \
	tests/test-pin \
	tests/test-blob \
	tests/test-errors \
	tests/test-handles \
	tests/test-acquire \
	tests/test-genkey \
	tests/test-blobkeys \
	tests/test-threads \
	tests/test-wrapblobs \
	tests/test-matrix \
	tests/test-cipher \
	tests/test-hash \
	tests/test-keyparam \
	tests/test-dss \
	tests/test-dh \
	tests/test-tool \
	tests/test-faults \
	tests/test-stress \
	tests/test-fork \
	tests/test-secrets \
	tests/test-uri \
	tests/test-enum \
	tests/test-caps \
	tests/test-companion \
	tests/test-trust \
	tests/test-container \
	tests/test-cards \
	tests/test-remote \
	tests/test-provapi \
	tests/test-wide \
	tests/test-defaults
check_PROGRAMS += $(TEST_PROGS)
TESTS += $(TEST_PROGS) $(CARD_TESTS)

# The blob matrix and the cipher tests once more on each card profile of
# the shim (tests/on-card.sh).
CARD_TESTS = \
	tests/matrix-tpm.sh tests/matrix-piv.sh tests/matrix-readonly.sh \
	tests/cipher-tpm.sh tests/cipher-piv.sh tests/cipher-readonly.sh

tests_test_constants_SOURCES = tests/test-constants.c
tests_test_fixture_SOURCES = tests/test-fixture.c
tests_test_config_SOURCES = tests/test-config.c
tests_test_pin_SOURCES = tests/test-pin.c
tests_test_blob_SOURCES = tests/test-blob.c
tests_test_errors_SOURCES = tests/test-errors.c
tests_test_handles_SOURCES = tests/test-handles.c
tests_test_acquire_SOURCES = tests/test-acquire.c
tests_test_genkey_SOURCES = tests/test-genkey.c
tests_test_blobkeys_SOURCES = tests/test-blobkeys.c
tests_test_threads_SOURCES = tests/test-threads.c
tests_test_wrapblobs_SOURCES = tests/test-wrapblobs.c
tests_test_matrix_SOURCES = tests/test-matrix.c
tests_test_cipher_SOURCES = tests/test-cipher.c
tests_test_hash_SOURCES = tests/test-hash.c
tests_test_keyparam_SOURCES = tests/test-keyparam.c
tests_test_dss_SOURCES = tests/test-dss.c
tests_test_dh_SOURCES = tests/test-dh.c
tests_test_tool_SOURCES = tests/test-tool.c
tests_test_faults_SOURCES = tests/test-faults.c
tests_test_stress_SOURCES = tests/test-stress.c
tests_test_fork_SOURCES = tests/test-fork.c
tests_test_secrets_SOURCES = tests/test-secrets.c
tests_test_uri_SOURCES = tests/test-uri.c
tests_test_enum_SOURCES = tests/test-enum.c
tests_test_caps_SOURCES = tests/test-caps.c
tests_test_companion_SOURCES = tests/test-companion.c
tests_test_trust_SOURCES = tests/test-trust.c
tests_test_container_SOURCES = tests/test-container.c
tests_test_provapi_SOURCES = tests/test-provapi.c
tests_test_wide_SOURCES = tests/test-wide.c
tests_test_defaults_SOURCES = tests/test-defaults.c
tests_test_cards_SOURCES = tests/test-cards.c
tests_test_remote_SOURCES = tests/test-remote.c

AM_DEFAULT_SOURCE_EXT = .c
LDADD = $(TEST_LIBS)


# capi11 on openCryptoki's software token (a real module beside SoftHSM),
# set up by scripts/with-opencryptoki.sh: root only, and it takes the
# machine's one openCryptoki token, so it is not part of make check.
check_PROGRAMS += tests/test-opencryptoki
tests_test_opencryptoki_SOURCES = tests/test-opencryptoki.c
check-opencryptoki: tests/test-opencryptoki$(EXEEXT)
	bash $(srcdir)/scripts/with-opencryptoki.sh $(builddir)/tests/test-opencryptoki$(EXEEXT)

# capi11 on tpm2-pkcs11 over a software TPM (a real module shaped like a
# smart card), set up by scripts/with-tpm-token.sh in a directory of its
# own: any user, but it starts swtpm and tpm2-abrmd, so it is not part of
# make check.
check_PROGRAMS += tests/test-tpm2
tests_test_tpm2_SOURCES = tests/test-tpm2.c
check-tpm2: tests/test-tpm2$(EXEEXT)
	bash $(srcdir)/scripts/with-tpm-token.sh $(builddir)/tests/test-tpm2$(EXEEXT)

# The full fault-injection sweep: every call position of every route.
faultcheck: tests/test-faults$(EXEEXT) tests/p11shim.la
	CAPI11_FAULT_SWEEP=full $(builddir)/tests/test-faults$(EXEEXT)
else
# Without CUnit the library and capi11-tool build and install; make check
# reports the tests as skipped and says why.
TESTS += tests/no-cunit.sh
check-local:
	@echo "capi11: the tests were skipped: they need CUnit (Debian: libcunit1-dev);"
	@echo "capi11: install it, then run ./configure again"
faultcheck:
	@echo "make faultcheck needs CUnit (Debian: libcunit1-dev); reconfigure"; exit 1
check-opencryptoki:
	@echo "make check-opencryptoki needs CUnit (Debian: libcunit1-dev); reconfigure"; exit 1
check-tpm2:
	@echo "make check-tpm2 needs CUnit (Debian: libcunit1-dev); reconfigure"; exit 1
endif
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)

EXTRA_DIST += tests/vectors tests/no-cunit.sh scripts/with-opencryptoki.sh \
	scripts/with-tpm-token.sh tests/on-card.sh tests/matrix-tpm.sh tests/matrix-piv.sh \
	tests/matrix-readonly.sh tests/cipher-tpm.sh tests/cipher-piv.sh tests/cipher-readonly.sh
.PHONY: faultcheck check-opencryptoki check-tpm2
