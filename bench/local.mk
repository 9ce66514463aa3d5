# The benchmark: capi11 against raw PKCS#11 on the same throwaway token.
noinst_PROGRAMS += bench/capi11-bench
bench_capi11_bench_SOURCES = bench/bench.c bench/bench.h bench/timing.c bench/setup.c \
	bench/raw.c bench/capi.c bench/companion.c
# The companion rows run capi11 on the bench token behind the test shim.
bench_capi11_bench_CPPFLAGS = $(AM_CPPFLAGS) -DSOFTHSM_MODULE='"$(SOFTHSM_MODULE)"' \
	-DSOFTHSM2_UTIL='"$(SOFTHSM2_UTIL)"' -DP11SHIM_PATH='"$(abs_builddir)/tests/.libs/p11shim.so"' \
	$(P11KIT_CFLAGS)
bench_capi11_bench_LDADD = libcapi11.la $(P11KIT_LIBS) -lpthread -ldl

if HAVE_CUNIT
BENCH_SHIM = tests/p11shim.la
endif
bench: bench/capi11-bench$(EXEEXT) $(BENCH_SHIM)
	$(builddir)/bench/capi11-bench
bench-quick: bench/capi11-bench$(EXEEXT) $(BENCH_SHIM)
	$(builddir)/bench/capi11-bench --quick
.PHONY: bench bench-quick
