#include "config.h"
#include "cutest.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <CUnit/Basic.h>

static const char *skip_reason;

void cutest_skip(const char *why)
{
	skip_reason = why;
}

int cutest_run(CU_SuiteInfo *suites)
{
	unsigned int ran, failed, suites_failed;

	fixture_no_installed_conf();
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "cannot register suites: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	ran = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	suites_failed = CU_get_number_of_suites_failed();
	CU_cleanup_registry();

	if (skip_reason) {
		printf("SKIP: %s\n", skip_reason);
		return CUTEST_SKIP;
	}
	if (suites_failed > 0) {
		printf("%u suite(s) failed to initialise\n", suites_failed);
		return 1;
	}
	if (ran == 0) {
		printf("no test ran\n");
		return 1;
	}
	return failed == 0 ? 0 : 1;
}
