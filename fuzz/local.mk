# Fuzzing and memory checking.
#
# The fuzz targets (fuzz/fuzz-*.c) each define one entry function. In the
# ordinary build, tests/test-fuzz-replay feeds it every file of
# fuzz/corpus/<target>/ and fuzz/regressions/<target>/, so `make check`
# replays each fixed finding. `make fuzz` builds the same files with clang
# and libFuzzer into fuzz/fuzz-<target> and runs each for FUZZ_TIME seconds.
if HAVE_CUNIT
check_PROGRAMS += tests/test-fuzz-replay
TESTS += tests/test-fuzz-replay
endif
tests_test_fuzz_replay_SOURCES = fuzz/replay.c fuzz/fuzz.h fuzz/fuzz-blob.c fuzz/fuzz-dump.c \
	fuzz/fuzz-cert.c fuzz/fuzz-api.c
tests_test_fuzz_replay_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/fuzz -I$(top_srcdir)/tools \
	-DFUZZ_SRCDIR='"$(abs_top_srcdir)/fuzz"'
tests_test_fuzz_replay_LDADD = libcapi11-dump.la $(TEST_LIBS)

EXTRA_DIST += fuzz/corpus fuzz/regressions fuzz/make-corpus.sh fuzz/run.sh \
	scripts/valgrind.supp

# ---- make fuzz ----------------------------------------------------------------
# Built outside libtool, straight from the sources each target needs: the
# instrumentation must cover the code under test and nothing links it.
FUZZ_TIME = 60
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CPPFLAGS = -DFUZZ_LIBFUZZER -I$(top_builddir) -I$(top_srcdir)/include/capi11 \
	-I$(top_srcdir)/src -I$(top_srcdir)/tools -I$(top_srcdir)/fuzz $(P11KIT_CFLAGS)
FUZZ_DEPS = fuzz/fuzz.h src/blob.h src/blob-dss.h src/blob-dh.h src/blob-v3.h src/cert.h src/alg.h src/util.h src/errors.h tools/dump.h \
	tools/names.h tools/le32.h \
	include/capi11/wincrypt.h
FUZZ_BLOB_SRCS = fuzz/fuzz-blob.c src/blob.c src/blob-dss.c src/blob-dh.c src/blob-v3.c src/alg.c
FUZZ_DUMP_SRCS = fuzz/fuzz-dump.c tools/dump.c tools/names.c src/errors.c
FUZZ_CERT_SRCS = fuzz/fuzz-cert.c src/cert.c
# The API target runs the whole library, instrumented, on a SoftHSM token
# that tests/fixture.c makes.
FUZZ_API_SRCS = fuzz/fuzz-api.c tests/fixture.c $(libcapi11_core_la_SOURCES:%.h=)
FUZZ_API_CPPFLAGS = -I$(top_srcdir)/tests -I$(top_builddir)/tests -DSYSCONFDIR='"$(sysconfdir)"'
CLEANFILES += fuzz/fuzz-blob fuzz/fuzz-dump fuzz/fuzz-cert fuzz/fuzz-api

fuzz/fuzz-blob: $(FUZZ_BLOB_SRCS:%=$(srcdir)/%) $(FUZZ_DEPS:%=$(srcdir)/%) config.h
	@test -n "$(CLANG)" || { echo "make fuzz needs clang with libFuzzer (Debian: clang libclang-rt-dev); reconfigure"; exit 1; }
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(CLANG) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $(FUZZ_BLOB_SRCS:%=$(srcdir)/%)

fuzz/fuzz-dump: $(FUZZ_DUMP_SRCS:%=$(srcdir)/%) $(FUZZ_DEPS:%=$(srcdir)/%) config.h
	@test -n "$(CLANG)" || { echo "make fuzz needs clang with libFuzzer (Debian: clang libclang-rt-dev); reconfigure"; exit 1; }
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(CLANG) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $(FUZZ_DUMP_SRCS:%=$(srcdir)/%)

fuzz/fuzz-cert: $(FUZZ_CERT_SRCS:%=$(srcdir)/%) $(FUZZ_DEPS:%=$(srcdir)/%) config.h
	@test -n "$(CLANG)" || { echo "make fuzz needs clang with libFuzzer (Debian: clang libclang-rt-dev); reconfigure"; exit 1; }
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(CLANG) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $(FUZZ_CERT_SRCS:%=$(srcdir)/%)

fuzz/fuzz-api: $(FUZZ_API_SRCS:%=$(srcdir)/%) $(FUZZ_DEPS:%=$(srcdir)/%) \
		$(srcdir)/tests/fixture.h $(srcdir)/tests/p11shim.h config.h tests/testenv.h
	@test -n "$(CLANG)" || { echo "make fuzz needs clang with libFuzzer (Debian: clang libclang-rt-dev); reconfigure"; exit 1; }
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(CLANG) $(FUZZ_CPPFLAGS) $(FUZZ_API_CPPFLAGS) $(FUZZ_CFLAGS) -pthread -o $@ \
		$(FUZZ_API_SRCS:%=$(srcdir)/%) $(P11KIT_LIBS) -ldl

# One target after the other: CI has two cores and libFuzzer uses one.
fuzz: fuzz/fuzz-blob fuzz/fuzz-dump fuzz/fuzz-cert fuzz/fuzz-api
	$(SHELL) $(srcdir)/fuzz/run.sh $(FUZZ_TIME) $(srcdir)/fuzz fuzz-work blob dump cert api

clean-local: clean-fuzz
clean-fuzz:
	-rm -rf fuzz-work

# ---- make memcheck --------------------------------------------------------------
# The test suite under valgrind: any error, or a definite leak outside the
# suppressed token and library internals (scripts/valgrind.supp), fails the
# test. Programs that the tests exec (softhsm2-util, pkcs11-tool,
# capi11-tool) run natively; forked children stay under valgrind.
# --fair-sched=yes: valgrind runs one thread at a time, and without it a
# thread that keeps taking a lock can starve another waiting for it for
# good (test-threads' release race then never sees the release).
VALGRIND_FLAGS = --tool=memcheck --fair-sched=yes --error-exitcode=66 --leak-check=full \
	--show-leak-kinds=definite --errors-for-leak-kinds=definite \
	--trace-children=no --child-silent-after-fork=yes --num-callers=40 \
	--suppressions=$(abs_top_srcdir)/scripts/valgrind.supp
memcheck:
	@test -n "$(VALGRIND)" || { echo "make memcheck needs valgrind; reconfigure"; exit 1; }
	$(MAKE) $(AM_MAKEFLAGS) check TEST_SUITE_LOG=memcheck.log \
		LOG_COMPILER="$(LIBTOOL) --mode=execute $(VALGRIND) $(VALGRIND_FLAGS)"

.PHONY: fuzz clean-fuzz memcheck
