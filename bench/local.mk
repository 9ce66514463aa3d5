# The benchmark: capi11 against raw PKCS#11 on the same throwaway token.
noinst_PROGRAMS += bench/capi11-bench
bench_capi11_bench_SOURCES = bench/bench.c bench/bench.h bench/timing.c bench/setup.c \
	bench/raw.c bench/capi.c
bench_capi11_bench_CPPFLAGS = $(AM_CPPFLAGS) -DSOFTHSM_MODULE='"$(SOFTHSM_MODULE)"' \
	-DSOFTHSM2_UTIL='"$(SOFTHSM2_UTIL)"' $(P11KIT_CFLAGS)
bench_capi11_bench_LDADD = libcapi11.la $(P11KIT_LIBS) -lpthread -ldl

bench: bench/capi11-bench$(EXEEXT)
	$(builddir)/bench/capi11-bench
bench-quick: bench/capi11-bench$(EXEEXT)
	$(builddir)/bench/capi11-bench --quick
.PHONY: bench bench-quick
