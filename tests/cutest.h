/* CUnit runner shared by the test programs. */
#ifndef CAPI11_CUTEST_H
#define CAPI11_CUTEST_H

#include <CUnit/CUnit.h>

/* Exit code automake's test driver reads as "skipped". */
#define CUTEST_SKIP 77

/* Registers the suites, runs them verbosely and returns the process exit
 * code: 0 when every test passed, 1 when any failed or when no test ran
 * at all (a suite that runs nothing is a defect), CUTEST_SKIP when a
 * suite's init function asked to skip (cutest_skip). */
int cutest_run(CU_SuiteInfo *suites);

/* Called from a suite's init function when a required tool is genuinely
 * absent (SoftHSM not installed): the whole program then exits 77. */
void cutest_skip(const char *why);

#endif
