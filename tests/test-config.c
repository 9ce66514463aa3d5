/* capi11.conf parsing: the documented format of capi11.conf(5), its error
 * reports, the file's selection, and the shipped example. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* asprintf, memmem, open_memstream */
#endif
#include "config.h"
#include "cutest.h"
#include "testutil.h"
#include "testenv.h"

#include "conffile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* PROV_* values of the Windows SDK (wincrypt.h). */
#define PROV_RSA_FULL 1u
#define PROV_DSS 3u
#define PROV_DSS_DH 13u
#define PROV_RSA_AES 24u

static int suite_init(void)
{
	return testutil_scratch_init("config");
}

static const char full_example[] =
	"# A complete configuration.\n"
	"[capi11]\n"
	"default-provider = demo\n"
	"rsa-bits = 2048\n"
	"exportable-policy = Sensitive\n"
	"default-container = everyday\n"
	"trace = 2\n"
	"pin-prompt = my-gui\n"
	"\n"
	"[provider \"demo\"]\n"
	"uri = pkcs11:token=demo?module-path=/usr/lib/softhsm/libsofthsm2.so\n"
	"type = 1\n"
	"pin-source = file:/etc/capi11/demo.pin\n"
	"\n"
	"[provider \"card\"]\n"
	"uri = pkcs11:token=My%20Card?module-name=opensc-pkcs11\n"
	"type = rsa_aes\n"
	"pin-value = 123456\n"
	"rsa-bits = 3072\n"
	"exportable-policy = plain\n"
	"default-container = card-keys\n"
	"pin-prompt = capi11-tty\n";

static void test_full_example(void)
{
	const struct config_provider *demo, *card;
	const struct config_settings *global;
	struct config_error error = { 0 };
	struct capi11_config *cfg;
	const char *path;

	path = testutil_scratch_write_text("full.conf", full_example);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	cfg = config_load(path, &error);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);

	CU_ASSERT_STRING_EQUAL(config_default_provider(cfg), "demo");
	CU_ASSERT_EQUAL(config_trace(cfg), 2);
	global = config_settings_global(cfg);
	CU_ASSERT_EQUAL(global->rsa_bits, 2048);
	CU_ASSERT_EQUAL(global->exportable_policy, CONFIG_EXPORT_SENSITIVE);
	CU_ASSERT_STRING_EQUAL(global->default_container, "everyday");
	CU_ASSERT_STRING_EQUAL(global->pin_prompt, "my-gui");

	CU_ASSERT_EQUAL(config_provider_count(cfg), 2);
	CU_ASSERT_PTR_EQUAL(config_provider_at(cfg, 0), config_provider_find(cfg, "demo"));
	CU_ASSERT_PTR_EQUAL(config_provider_at(cfg, 1), config_provider_find(cfg, "card"));
	CU_ASSERT_PTR_NULL(config_provider_at(cfg, 2));

	demo = config_provider_find(cfg, "demo");
	CU_ASSERT_PTR_NOT_NULL_FATAL(demo);
	CU_ASSERT_STRING_EQUAL(demo->name, "demo");
	CU_ASSERT_STRING_EQUAL(demo->uri,
	                       "pkcs11:token=demo?module-path=/usr/lib/softhsm/libsofthsm2.so");
	CU_ASSERT_EQUAL(demo->type, PROV_RSA_FULL);
	CU_ASSERT_STRING_EQUAL(demo->pin_source, "file:/etc/capi11/demo.pin");
	CU_ASSERT_PTR_NULL(demo->pin_value);

	card = config_provider_find(cfg, "card");
	CU_ASSERT_PTR_NOT_NULL_FATAL(card);
	CU_ASSERT_STRING_EQUAL(card->uri, "pkcs11:token=My%20Card?module-name=opensc-pkcs11");
	CU_ASSERT_EQUAL(card->type, PROV_RSA_AES);
	CU_ASSERT_PTR_NULL(card->pin_source);
	CU_ASSERT_STRING_EQUAL(card->pin_value, "123456");
	CU_ASSERT_EQUAL(card->settings.rsa_bits, 3072);
	CU_ASSERT_EQUAL(card->settings.exportable_policy, CONFIG_EXPORT_PLAIN);
	CU_ASSERT_STRING_EQUAL(card->settings.default_container, "card-keys");
	CU_ASSERT_STRING_EQUAL(card->settings.pin_prompt, "capi11-tty");

	/* Names are case-sensitive. */
	CU_ASSERT_PTR_NULL(config_provider_find(cfg, "Demo"));
	CU_ASSERT_PTR_NULL(config_provider_find(cfg, "nothing"));
	config_free(cfg);
}

static void test_comments_and_quoting(void)
{
	static const char text[] =
		"; comment with a semicolon\r\n"
		"   # indented comment\r\n"
		"[ capi11 ]   # comment after a header\r\n"
		"default-container = \"  spaced # not a comment ; \"   ; comment\r\n"
		"  DEFAULT-PROVIDER=pkcs11:token=a;model=b   # a ; inside a word stays\r\n"
		"[provider \"with \\\"quotes\\\" and \\\\ ] \"]\r\n"
		"uri=\"pkcs11:token=q\"\r\n"
		"pin-value = \"\"\r\n"
		"[provider \"hash\"]\r\n"
		"uri = pkcs11:token=h\r\n"
		"pin-value = 12#4;5 # the # and ; are part of the PIN\r\n"
		"default-container = a container\t\r\n";
	const struct config_provider *prov;
	struct config_error error = { 0 };
	struct capi11_config *cfg;

	cfg = config_parse(text, strlen(text), &error);
	if (cfg == NULL)
		fprintf(stderr, "line %u: %s\n", error.line, error.reason);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);

	CU_ASSERT_STRING_EQUAL(config_settings_global(cfg)->default_container,
	                       "  spaced # not a comment ; ");
	/* A pkcs11: URI as default-provider needs no provider section. */
	CU_ASSERT_STRING_EQUAL(config_default_provider(cfg), "pkcs11:token=a;model=b");

	prov = config_provider_find(cfg, "with \"quotes\" and \\ ] ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(prov);
	CU_ASSERT_STRING_EQUAL(prov->uri, "pkcs11:token=q");
	CU_ASSERT_PTR_NOT_NULL_FATAL(prov->pin_value);
	CU_ASSERT_STRING_EQUAL(prov->pin_value, "");
	/* No type key: 0, "any RSA type". */
	CU_ASSERT_EQUAL(prov->type, 0);

	prov = config_provider_find(cfg, "hash");
	CU_ASSERT_PTR_NOT_NULL_FATAL(prov);
	CU_ASSERT_STRING_EQUAL(prov->pin_value, "12#4;5");
	CU_ASSERT_STRING_EQUAL(prov->settings.default_container, "a container");
	config_free(cfg);
}

static void test_type_names(void)
{
	static const struct {
		const char *value;
		uint32_t type;
	} cases[] = {
		{ "1", PROV_RSA_FULL }, { "rsa_full", PROV_RSA_FULL },
		{ "PROV_RSA_FULL", PROV_RSA_FULL }, { "24", PROV_RSA_AES },
		{ "Rsa_Aes", PROV_RSA_AES }, { "3", PROV_DSS }, { "dss", PROV_DSS },
		{ "13", PROV_DSS_DH }, { "prov_dss_dh", PROV_DSS_DH },
	};
	struct capi11_config *cfg;
	char text[200];
	size_t i;

	for (i = 0; i < CAPI11_N_ELEMENTS(cases); i++) {
		snprintf(text, sizeof text, "[provider \"p\"]\nuri = pkcs11:\ntype = %s\n",
		         cases[i].value);
		cfg = config_parse(text, strlen(text), NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
		CU_ASSERT_EQUAL(config_provider_find(cfg, "p")->type, cases[i].type);
		config_free(cfg);
	}
}

static void test_provider_fallback(void)
{
	/* [capi11] comes last: it still applies to the providers above. */
	static const char text[] =
		"[provider \"plain\"]\n"
		"uri = pkcs11:token=a\n"
		"[provider \"own\"]\n"
		"uri = pkcs11:token=b\n"
		"rsa-bits = 4096\n"
		"exportable-policy = plain\n"
		"default-container = mine\n"
		"pin-prompt = own-gui\n"
		"[capi11]\n"
		"rsa-bits = 2048\n"
		"exportable-policy = sensitive\n"
		"default-container = shared\n"
		"pin-prompt = site-gui\n";
	const struct config_provider *prov;
	struct capi11_config *cfg;

	cfg = config_parse(text, strlen(text), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);

	prov = config_provider_find(cfg, "plain");
	CU_ASSERT_PTR_NOT_NULL_FATAL(prov);
	CU_ASSERT_EQUAL(prov->settings.rsa_bits, 2048);
	CU_ASSERT_EQUAL(prov->settings.exportable_policy, CONFIG_EXPORT_SENSITIVE);
	CU_ASSERT_STRING_EQUAL(prov->settings.default_container, "shared");
	CU_ASSERT_STRING_EQUAL(prov->settings.pin_prompt, "site-gui");

	prov = config_provider_find(cfg, "own");
	CU_ASSERT_PTR_NOT_NULL_FATAL(prov);
	CU_ASSERT_EQUAL(prov->settings.rsa_bits, 4096);
	CU_ASSERT_EQUAL(prov->settings.exportable_policy, CONFIG_EXPORT_PLAIN);
	CU_ASSERT_STRING_EQUAL(prov->settings.default_container, "mine");
	CU_ASSERT_STRING_EQUAL(prov->settings.pin_prompt, "own-gui");
	config_free(cfg);
}

/* Without [capi11], the built-in values: 1024-bit RSA (the CryptGenKey
 * default of Microsoft's Enhanced Provider), plain exportable keys, the login name as container, the
 * terminal prompt, no tracing. */
static void test_builtin_defaults(void)
{
	static const char text[] = "[provider \"p\"]\nuri = pkcs11:token=a\n";
	const struct config_settings *global;
	const struct config_provider *prov;
	struct capi11_config *cfg;

	cfg = config_parse(text, strlen(text), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	global = config_settings_global(cfg);
	CU_ASSERT_EQUAL(global->rsa_bits, 1024);
	CU_ASSERT_EQUAL(global->exportable_policy, CONFIG_EXPORT_PLAIN);
	CU_ASSERT_PTR_NULL(global->default_container);
	CU_ASSERT_PTR_NULL(global->pin_prompt);
	CU_ASSERT_PTR_NULL(config_default_provider(cfg));
	CU_ASSERT_EQUAL(config_trace(cfg), 0);
	prov = config_provider_find(cfg, "p");
	CU_ASSERT_PTR_NOT_NULL_FATAL(prov);
	CU_ASSERT_EQUAL(prov->settings.rsa_bits, 1024);
	CU_ASSERT_PTR_NULL(prov->settings.default_container);
	config_free(cfg);
}

/* companion (capi11.conf(5)): nss, none or a pkcs11: URI, per provider
 * over [capi11]; anything else is an error on its line. A companion URI
 * with a PIN makes the file one that holds a PIN. */
static void test_companion(void)
{
	static const char text[] =
		"[capi11]\n"
		"companion = none\n"
		"[provider \"a\"]\n"
		"uri = pkcs11:token=a\n"
		"[provider \"b\"]\n"
		"uri = pkcs11:token=b\n"
		"companion = pkcs11:token=soft?module-path=/x.so\n"
		"[provider \"c\"]\n"
		"uri = pkcs11:token=c\n"
		"companion = NSS\n";
	static const char bad[] = "[capi11]\ncompanion = softokn\n";
	static const char bad_uri[] = "[capi11]\n\ncompanion = pkcs11:token=a;token=b\n";
	struct config_error error = { 0 };
	const struct config_provider *prov;
	struct capi11_config *cfg;

	cfg = config_parse(text, strlen(text), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(config_settings_global(cfg)->companion, "none");
	prov = config_provider_find(cfg, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(prov);
	CU_ASSERT_STRING_EQUAL(prov->settings.companion, "none");
	prov = config_provider_find(cfg, "b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(prov);
	CU_ASSERT_STRING_EQUAL(prov->settings.companion, "pkcs11:token=soft?module-path=/x.so");
	prov = config_provider_find(cfg, "c");
	CU_ASSERT_PTR_NOT_NULL_FATAL(prov);
	CU_ASSERT_STRING_EQUAL(prov->settings.companion, "NSS");
	config_free(cfg);

	cfg = config_parse(bad, strlen(bad), &error);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(error.code, EINVAL);
	CU_ASSERT_EQUAL(error.line, 2);
	config_free(cfg);
	memset(&error, 0, sizeof error);
	cfg = config_parse(bad_uri, strlen(bad_uri), &error);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(error.code, EINVAL);
	CU_ASSERT_EQUAL(error.line, 3);
	config_free(cfg);

	/* Built in: NULL, the in-memory softokn. */
	cfg = config_parse("", 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_PTR_NULL(config_settings_global(cfg)->companion);
	config_free(cfg);
}

static void assert_empty(struct capi11_config *cfg)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(config_provider_count(cfg), 0);
	CU_ASSERT_PTR_NULL(config_default_provider(cfg));
	CU_ASSERT_EQUAL(config_settings_global(cfg)->rsa_bits, 1024);
}

static void test_missing_file(void)
{
	struct config_error error = { 0 };
	struct capi11_config *cfg;
	char path[128];

	snprintf(path, sizeof path, "%s/does-not-exist.conf", testutil_scratch_dir());
	cfg = config_load(path, &error);
	assert_empty(cfg);
	config_free(cfg);

	cfg = config_load("/dev/null", &error);
	assert_empty(cfg);
	config_free(cfg);
}

static void test_env_selection(void)
{
	struct config_error error = { 0 };
	struct capi11_config *cfg;
	const char *path;

	path = testutil_scratch_write_text("env.conf", "[capi11]\nrsa-bits = 1536\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);

	CU_ASSERT_EQUAL_FATAL(setenv("CAPI11_CONF", path, 1), 0);
	CU_ASSERT_STRING_EQUAL(config_path_default(), path);
	cfg = config_load(NULL, &error);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(config_settings_global(cfg)->rsa_bits, 1536);
	config_free(cfg);

	/* An explicit path wins over the variable. */
	cfg = config_load("/dev/null", &error);
	assert_empty(cfg);
	config_free(cfg);

	/* Empty or unset: the installed file. */
	CU_ASSERT_EQUAL_FATAL(setenv("CAPI11_CONF", "", 1), 0);
	CU_ASSERT_STRING_EQUAL(config_path_default(), SYSCONFDIR "/capi11.conf");
	CU_ASSERT_EQUAL_FATAL(unsetenv("CAPI11_CONF"), 0);
	CU_ASSERT_STRING_EQUAL(config_path_default(), SYSCONFDIR "/capi11.conf");
	/* Back to no configuration: the installed file stays out of the tests. */
	CU_ASSERT_EQUAL_FATAL(setenv("CAPI11_CONF", "/dev/null", 1), 0);
}

static void test_syntax_errors(void)
{
	/* Each text, the line to blame, and a word of the reason that shows
	 * which rule fired. */
	static const struct {
		const char *text;
		unsigned int line;
		const char *word;
	} cases[] = {
		{ "[capi11]\n# fine\nrsa-bitz = 2048\n", 3, "unknown key" },
		{ "[capi11]\nuri = pkcs11:\n", 2, "[capi11]" },
		{ "[provider \"p\"]\nuri = pkcs11:\ntrace = 1\n", 3, "[provider]" },
		{ "rsa-bits = 2048\n", 1, "outside" },
		{ "[capi11]\nrsa-bits 2048\n", 2, "key = value" },
		{ "[capi11]\n\nrsa-bits =\n", 3, "missing value" },
		{ "[capi11]\nrsa-bits = # comment\n", 2, "missing value" },
		{ "[capi11]\nrsa-bits = 2048\nrsa-bits = 1024\n", 3, "duplicate key" },
		{ "[capi11]\n[provider \"a\"]\nuri = pkcs11:\n[capi11]\n", 4, "duplicate section" },
		{ "[global]\n", 1, "unknown section" },
		{ "[capi11\n", 1, "malformed" },
		{ "[provider a]\nuri = pkcs11:\n", 1, "quoted" },
		{ "[provider \"a]\n", 1, "unterminated" },
		{ "[provider \"\"]\n", 1, "empty provider" },
		{ "[provider \"pkcs11:token=a\"]\nuri = pkcs11:\n", 1, "pkcs11:" },
		{ "[provider \"a\"]\nuri = pkcs11:\n\n[provider \"a\"]\nuri = pkcs11:\n", 4,
		  "duplicate provider" },
		/* 2 is PROV_RSA_SIG, which capi11 does not serve. */
		{ "[provider \"a\"]\nuri = pkcs11:\ntype = 2\n", 3, "type" },
		{ "[provider \"a\"]\nuri = pkcs11:\ntype = 0\n", 3, "type" },
		{ "[provider \"a\"]\nuri = pkcs11:\ntype = rsa\n", 3, "type" },
		{ "[provider \"a\"]\nuri = pkcs11:\ntype = 1000\n", 3, "type" },
		{ "[provider \"a\"]\nuri = pkcs11:\ntype = -1\n", 3, "type" },
		{ "[capi11]\nrsa-bits = 1025\n", 2, "rsa-bits" },
		{ "[capi11]\nrsa-bits = 376\n", 2, "rsa-bits" },
		{ "[capi11]\nrsa-bits = 16392\n", 2, "rsa-bits" },
		{ "[capi11]\nrsa-bits = 2k\n", 2, "rsa-bits" },
		{ "[capi11]\nrsa-bits = +2048\n", 2, "rsa-bits" },
		{ "[capi11]\nrsa-bits = 99999999999999999999999\n", 2, "rsa-bits" },
		{ "[capi11]\nexportable-policy = plane\n", 2, "exportable-policy" },
		{ "[capi11]\nexportable-policy = plain sensitive\n", 2, "exportable-policy" },
		{ "[capi11]\ntrace = 4\n", 2, "trace" },
		{ "[capi11]\ntrace = 10\n", 2, "trace" },
		{ "[capi11]\ndefault-container = \"a\\tb\"\n", 2, "escape" },
		{ "[capi11]\ndefault-container = \"a\" b\n", 2, "after the closing quote" },
		{ "[capi11]\ndefault-container = \"open\n", 2, "unterminated" },
		{ "[provider \"a\"]\nuri = http://example.com/\n", 2, "pkcs11:" },
		{ "[provider \"a\"]\nuri = pkcs11:token=%zz\n", 2, "valid PKCS#11 URI" },
		{ "[provider \"a\"]\nuri = pkcs11:tokn=demo\n", 2, "attribute" },
		{ "[provider \"a\"]\nuri = pkcs11:\npin-value = 1\npin-source = /p\n", 4, "exclude" },
		/* Reported at the section header. */
		{ "[capi11]\n[provider \"a\"]\ntype = 1\n", 2, "no uri" },
		{ "[capi11]\ndefault-provider = nobody\n[provider \"a\"]\nuri = pkcs11:\n", 2,
		  "default-provider" },
	};
	struct config_error error;
	struct capi11_config *cfg;
	size_t i;

	for (i = 0; i < CAPI11_N_ELEMENTS(cases); i++) {
		error = (struct config_error){ 0, 0, NULL };
		cfg = config_parse(cases[i].text, strlen(cases[i].text), &error);
		CU_ASSERT_PTR_NULL(cfg);
		if (cfg != NULL || error.line != cases[i].line)
			fprintf(stderr, "case %zu: expected line %u, got %u (%s)\n", i,
			        cases[i].line, error.line, error.reason ? error.reason : "-");
		CU_ASSERT_EQUAL(error.line, cases[i].line);
		CU_ASSERT_EQUAL(error.code, EINVAL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(error.reason);
		CU_ASSERT_PTR_NOT_NULL(strstr(error.reason, cases[i].word));
		config_free(cfg);
	}
}

/* The line number comes through config_load too, and a NUL byte is not
 * silently treated as the end of its line. */
static void test_error_from_file(void)
{
	static const char text[] = "[capi11]\ntrace = 1\nrsa-bits = 2048\0 junk\n";
	struct config_error error = { 0 };
	struct capi11_config *cfg;
	const char *path;

	path = testutil_scratch_write("nul.conf", text, sizeof text - 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	cfg = config_load(path, &error);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(error.line, 3);
	CU_ASSERT_EQUAL(error.code, EINVAL);
	config_free(cfg);
}

static void test_unreadable(void)
{
	struct config_error error = { 0 };
	struct capi11_config *cfg;
	char *big;
	const char *path;
	size_t len = 1024 * 1024 + 1;

	cfg = config_load(testutil_scratch_dir(), &error);       /* a directory */
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(error.code, EISDIR);
	CU_ASSERT_EQUAL(error.line, 0);

	big = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, '#', len);
	path = testutil_scratch_write("big.conf", big, len);
	free(big);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	cfg = config_load(path, &error);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(error.code, EFBIG);
	CU_ASSERT_EQUAL(error.line, 0);
}

/* Every block the library frees is searched for the PIN. */
static const char secret_pin[] = "s3cr3t-9518-pin";
static unsigned int secret_leaks;
static unsigned int blocks_freed;

static void free_hook_check(void *ptr, size_t len)
{
	blocks_freed++;
	if (memmem(ptr, len, secret_pin, sizeof secret_pin - 1) != NULL)
		secret_leaks++;
}

static void test_pin_value_wiped(void)
{
	static const char text[] =
		"[provider \"p\"]\n"
		"uri = pkcs11:token=a?pin-value=s3cr3t-9518-pin\n"
		"pin-value = s3cr3t-9518-pin\n"
		"[provider \"q\"]\n"
		"uri = pkcs11:token=b\n"
		"pin-value = \"s3cr3t-9518-pin\"\n";
	static const char bad[] = "[provider \"p\"]\npin-value = s3cr3t-9518-pin\n";
	struct capi11_config *cfg;
	const char *path;

	path = testutil_scratch_write_text("secret.conf", text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);

	secret_leaks = 0;
	blocks_freed = 0;
	capi11_set_free_hook(free_hook_check);
	cfg = config_load(path, NULL);
	CU_ASSERT_PTR_NOT_NULL(cfg);
	if (cfg != NULL)
		CU_ASSERT_STRING_EQUAL(config_provider_find(cfg, "q")->pin_value, secret_pin);
	config_free(cfg);

	/* A failing parse releases the same buffers. */
	cfg = config_parse(bad, strlen(bad), NULL);
	CU_ASSERT_PTR_NULL(cfg);
	capi11_set_free_hook(NULL);

	CU_ASSERT(blocks_freed > 0);
	CU_ASSERT_EQUAL(secret_leaks, 0);
}

/* The shipped file parses as it is (every setting commented out), and so
 * does its example once the commented settings ("#key" or "#[section",
 * while prose comments are "# text") are switched on. */
static void test_shipped_conf(void)
{
	static const char shipped[] = TEST_SRCDIR "/../conf/capi11.conf";
	const struct config_provider *softhsm, *opensc;
	struct config_error error = { 0 };
	struct capi11_config *cfg;
	char *text = NULL, *line = NULL;
	size_t text_len = 0, cap = 0;
	ssize_t n;
	FILE *in, *out;

	cfg = config_load(shipped, &error);
	if (cfg == NULL)
		fprintf(stderr, "%s:%u: %s\n", shipped, error.line, error.reason);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(config_provider_count(cfg), 0);
	CU_ASSERT_PTR_NULL(config_default_provider(cfg));
	config_free(cfg);

	in = fopen(shipped, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	out = open_memstream(&text, &text_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	while ((n = getline(&line, &cap, in)) > 0) {
		if (line[0] == '#' && (line[1] == '[' || (line[1] >= 'a' && line[1] <= 'z')))
			fputs(line + 1, out);
		else
			fputs(line, out);
	}
	free(line);
	fclose(in);
	fclose(out);

	cfg = config_parse(text, text_len, &error);
	if (cfg == NULL)
		fprintf(stderr, "uncommented %s:%u: %s\n", shipped, error.line, error.reason);
	free(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(config_provider_count(cfg), 2);
	softhsm = config_provider_find(cfg, "softhsm");
	opensc = config_provider_find(cfg, "opensc");
	CU_ASSERT_PTR_NOT_NULL(softhsm);
	CU_ASSERT_PTR_NOT_NULL(opensc);
	if (softhsm != NULL) {
		CU_ASSERT_PTR_NOT_NULL(strstr(softhsm->uri, "module-path="));
		CU_ASSERT_PTR_NOT_NULL(softhsm->pin_source);
	}
	if (opensc != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(opensc->uri, "module-name=opensc-pkcs11"));
	CU_ASSERT_PTR_NOT_NULL(config_default_provider(cfg));
	config_free(cfg);
}

/* default-provider-<type> (capi11.conf(5)): one per type, in [capi11],
 * a provider name; the type in decimal 1..999 without leading zeros. */
static void test_type_defaults(void)
{
	static const char *const bad[] = {
		"[capi11]\ndefault-provider-1 = a\ndefault-provider-1 = b\n",
		"[capi11]\ndefault-provider-0 = a\n",
		"[capi11]\ndefault-provider-01 = a\n",
		"[capi11]\ndefault-provider-1000 = a\n",
		"[capi11]\ndefault-provider-1x = a\n",
		"[capi11]\ndefault-provider-1 = pkcs11:token=a\n",
		"[provider \"p\"]\nuri = pkcs11:token=a\ndefault-provider-1 = p\n",
	};
	const char *text = "[capi11]\n"
			   "Default-Provider-1 = \"a # b\"\n"
			   "default-provider-24 = c\n"
			   "default-provider-999 = d\n";
	struct capi11_config *cfg = config_parse(text, strlen(text), NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(config_type_default(cfg, 1), "a # b");
	CU_ASSERT_STRING_EQUAL(config_type_default(cfg, 24), "c");
	CU_ASSERT_STRING_EQUAL(config_type_default(cfg, 999), "d");
	CU_ASSERT_PTR_NULL(config_type_default(cfg, 3));
	/* Not the type-less default-provider. */
	CU_ASSERT_PTR_NULL(config_default_provider(cfg));
	config_free(cfg);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct config_error error = { 0 };

		cfg = config_parse(bad[i], strlen(bad[i]), &error);
		CU_ASSERT_PTR_NULL(cfg);
		CU_ASSERT_EQUAL(error.code, EINVAL);
		config_free(cfg);
	}
}

static CU_TestInfo config_tests[] = {
	{ "default-provider-<type>", test_type_defaults },
	{ "full example", test_full_example },
	{ "comments and quoting", test_comments_and_quoting },
	{ "provider type names", test_type_names },
	{ "per-provider fallback", test_provider_fallback },
	{ "built-in defaults", test_builtin_defaults },
	{ "companion", test_companion },
	{ "missing file is empty", test_missing_file },
	{ "CAPI11_CONF selects the file", test_env_selection },
	{ "syntax errors name their line", test_syntax_errors },
	{ "error line through config_load", test_error_from_file },
	{ "unreadable files", test_unreadable },
	{ "pin-value wiped", test_pin_value_wiped },
	{ "shipped capi11.conf", test_shipped_conf },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "config", suite_init, testutil_scratch_cleanup, NULL, NULL, config_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	/* The tests choose their files themselves; no configuration until
	 * they do, never the installed one. */
	setenv("CAPI11_CONF", "/dev/null", 1);
	return cutest_run(suites);
}
