/* capi11-tool wine-register: makes capi11's CSP (capi11csp.dll.so) a
 * cryptographic service provider of a Wine prefix, and takes it out again.
 *
 * Wine's advapi32 finds a provider under
 * HKLM\Software\Microsoft\Cryptography\Defaults\Provider\<name> ("Image
 * Path", "Type", and "Signature" or "SigInFile", one of which must exist)
 * and the default of a type under ...\Defaults\Provider Types\Type NNN
 * ("Name"). Every change goes through `wine reg` in the prefix, never by
 * editing its files, and `wineserver -w` then waits until Wine has saved
 * the registry. What --as-default replaces is kept first under
 * HKLM\Software\capi11\Wine, so that --unregister puts Wine's rsaenh back
 * value for value. */
#include "config.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef WINE_BIN
#define WINE_BIN ""
#endif
#ifndef WINESERVER_BIN
#define WINESERVER_BIN ""
#endif
#ifndef CAPI11_WINE_DLL
#define CAPI11_WINE_DLL ""
#endif

#define CSP_NAME "capi11 PKCS#11 Provider"
/* The CSP registers as PROV_RSA_AES, the type of Microsoft's current RSA
 * provider: advapi32 refuses a name whose registered type differs from
 * the one the program asks for, so one name serves one type. */
#define CSP_TYPE 24
#define PROV_KEY "HKLM\\Software\\Microsoft\\Cryptography\\Defaults\\Provider\\"
#define TYPES_KEY "HKLM\\Software\\Microsoft\\Cryptography\\Defaults\\Provider Types\\"
#define SAVE_KEY "HKLM\\Software\\capi11\\Wine"

/* Microsoft's RSA provider names that --as-default serves with the CSP,
 * with the type each is registered with (a name Wine lacks is created
 * with it). */
static const struct {
	const char *name;
	const char *type;
} ms_names[] = {
	{ "Microsoft Base Cryptographic Provider v1.0", "1" },
	{ "Microsoft Enhanced Cryptographic Provider v1.0", "1" },
	{ "Microsoft Strong Cryptographic Provider", "1" },
	{ "Microsoft Enhanced RSA and AES Cryptographic Provider", "24" },
	{ "Microsoft Enhanced RSA and AES Cryptographic Provider (Prototype)", "24" },
};

/* The types --as-default makes the CSP's: PROV_RSA_AES by its own name;
 * PROV_RSA_FULL keeps Microsoft's Enhanced provider name as its default,
 * which the CSP now serves. Both are saved and restored. */
static const char *const type_keys[] = { "Type 001", "Type 024" };

static const char wine_help[] =
	"Usage: capi11-tool wine-register [--as-default] [--unregister] [--dll PATH]\n"
	"Registers capi11's CSP in the Wine prefix $WINEPREFIX (default ~/.wine) as\n"
	"\"" CSP_NAME "\" (PROV_RSA_AES), so that Windows programs under Wine\n"
	"reach the token of capi11.conf (default-provider, $CAPI11_CONF).\n"
	"  --as-default     also serve PROV_RSA_FULL and PROV_RSA_AES by default and\n"
	"                   Microsoft's RSA provider names (Base, Enhanced, Strong,\n"
	"                   RSA and AES) with the CSP; what was there is saved in the\n"
	"                   prefix first\n"
	"  --unregister     remove the CSP and give Wine's rsaenh back what\n"
	"                   --as-default took, value for value\n"
	"  --dll PATH       the CSP to register (default: $CAPI11_WINE_DLL, else the\n"
	"                   installed " CAPI11_WINE_DLL ")\n"
	"  -h, --help       this help\n"
	"Runs wine and wineserver from $CAPI11_WINE and $CAPI11_WINESERVER, else\n"
	"those found at build time.\n";

enum {
	OPT_AS_DEFAULT = OPT_FIRST_OWN, OPT_UNREGISTER, OPT_DLL,
};

static const char *wine_bin(void)
{
	const char *p = getenv("CAPI11_WINE");

	return p != NULL && *p != '\0' ? p : WINE_BIN;
}

/* Runs argv (argv[0] a path) with WINEDEBUG quiet unless the caller set
 * it; with out, its standard output is collected there (NUL-terminated,
 * at most out_len - 1 bytes) and the rest drained, else it goes to
 * /dev/null. Returns the exit
 * status, or -1 when it could not run. */
static int run(char *const argv[], char *out, size_t out_len)
{
	int fds[2] = { -1, -1 }, status;
	size_t used = 0;
	pid_t pid;

	if (out != NULL && pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		if (out != NULL) {
			close(fds[0]);
			close(fds[1]);
		}
		return -1;
	}
	if (pid == 0) {
		if (out != NULL) {
			dup2(fds[1], STDOUT_FILENO);
			close(fds[0]);
			close(fds[1]);
		} else {
			/* reg's "The operation completed successfully". */
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0) {
				dup2(null, STDOUT_FILENO);
				close(null);
			}
		}
		setenv("WINEDEBUG", getenv("WINEDEBUG") ? getenv("WINEDEBUG") : "-all", 1);
		execv(argv[0], argv);
		_exit(127);
	}
	if (out != NULL) {
		char drain[512];
		ssize_t n;

		close(fds[1]);
		for (;;) {
			if (used + 1 < out_len)
				n = read(fds[0], out + used, out_len - 1 - used);
			else
				n = read(fds[0], drain, sizeof drain);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (used + 1 < out_len)
				used += (size_t)n;
		}
		out[used] = '\0';
		close(fds[0]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `wine reg add KEY /v NAME /t TYPE /d DATA /f`. */
static bool reg_set(const char *key, const char *name, const char *type, const char *data)
{
	char *argv[] = { (char *)wine_bin(), "reg", "add", (char *)key, "/v", (char *)name,
			 "/t", (char *)type, "/d", (char *)data, "/f", NULL };

	if (run(argv, NULL, 0) == 0)
		return true;
	tool_error("wine reg add %s /v \"%s\" failed", key, name);
	return false;
}

/* `wine reg delete KEY [/v NAME] /f`; a key or value that is not there
 * is no failure (reg says so with status 1). */
static bool reg_delete(const char *key, const char *name)
{
	char *argv[] = { (char *)wine_bin(), "reg", "delete", (char *)key, "/f", NULL, NULL,
			 NULL };
	int status;

	if (name != NULL) {
		argv[4] = "/v";
		argv[5] = (char *)name;
		argv[6] = "/f";
	}
	status = run(argv, NULL, 0);
	if (status == 0 || status == 1)
		return true;
	tool_error("wine reg delete %s failed", key);
	return false;
}

/* The string value NAME of KEY, from `wine reg query KEY /v NAME`, whose
 * line reads "    NAME    REG_SZ    DATA" (or REG_EXPAND_SZ): its data and
 * type. false when it does not exist or is no string. */
static bool reg_get(const char *key, const char *name, const char **type, char *data,
		    size_t len)
{
	static const char *const types[] = { "REG_SZ", "REG_EXPAND_SZ" };
	char *argv[] = { (char *)wine_bin(), "reg", "query", (char *)key, "/v", (char *)name,
			 NULL };
	char out[4096], want[512];
	char *line, *save = NULL;

	if (run(argv, out, sizeof out) != 0)
		return false;
	for (line = strtok_r(out, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			snprintf(want, sizeof want, "    %s    %s    ", name, types[i]);
			if (strncmp(line, want, strlen(want)) == 0 &&
			    strlen(line + strlen(want)) < len) {
				strcpy(data, line + strlen(want));
				*type = types[i];
				return true;
			}
		}
	}
	return false;
}

/* Whether KEY holds a value NAME, of any type. */
static bool reg_has_value(const char *key, const char *name)
{
	char *argv[] = { (char *)wine_bin(), "reg", "query", (char *)key, "/v", (char *)name,
			 NULL };
	char out[64];

	return run(argv, out, sizeof out) == 0;
}

static bool reg_key_exists(const char *key)
{
	char *argv[] = { (char *)wine_bin(), "reg", "query", (char *)key, NULL };
	char out[64];

	return run(argv, out, sizeof out) == 0;
}

static void key_join(char *buf, size_t len, const char *base, const char *name)
{
	snprintf(buf, len, "%s%s%s", base, base[strlen(base) - 1] == '\\' ? "" : "\\", name);
}

/* The CSP's own provider key. */
static bool register_csp(const char *image)
{
	char key[512];

	key_join(key, sizeof key, PROV_KEY, CSP_NAME);
	return reg_set(key, "Image Path", "REG_SZ", image) &&
	       reg_set(key, "Type", "REG_DWORD", "24") &&
	       reg_set(key, "SigInFile", "REG_DWORD", "0");
}

/* Saves VALUE of KEY under SAVE_KEY\<what> once, with its type: a second
 * --as-default keeps what the first found, Wine's own value.
 * "KeyAbsent"=1 records a key that did not exist, "Absent"=1 a value. */
static bool save_once(const char *what, const char *key, const char *value)
{
	char save[512], data[1024];
	const char *type;

	key_join(save, sizeof save, SAVE_KEY, what);
	if (reg_key_exists(save))
		return true;
	if (!reg_key_exists(key))
		return reg_set(save, "KeyAbsent", "REG_DWORD", "1");
	if (reg_get(key, value, &type, data, sizeof data))
		return reg_set(save, value, type, data);
	return reg_set(save, "Absent", "REG_DWORD", "1");
}

static bool take_defaults(const char *image)
{
	char key[512];

	for (size_t i = 0; i < sizeof(ms_names) / sizeof(ms_names[0]); i++) {
		key_join(key, sizeof key, PROV_KEY, ms_names[i].name);
		if (!save_once(ms_names[i].name, key, "Image Path") ||
		    !reg_set(key, "Image Path", "REG_SZ", image))
			return false;
		/* A name Wine did not register gets what advapi32 needs. */
		if (!reg_has_value(key, "Type") &&
		    (!reg_set(key, "Type", "REG_DWORD", ms_names[i].type) ||
		     !reg_set(key, "SigInFile", "REG_DWORD", "0")))
			return false;
	}
	for (size_t i = 0; i < sizeof(type_keys) / sizeof(type_keys[0]); i++) {
		key_join(key, sizeof key, TYPES_KEY, type_keys[i]);
		if (!save_once(type_keys[i], key, "Name"))
			return false;
	}
	key_join(key, sizeof key, TYPES_KEY, "Type 024");
	if (!reg_set(key, "Name", "REG_SZ", CSP_NAME))
		return false;
	/* PROV_RSA_FULL's default must be a name registered as type 1. */
	key_join(key, sizeof key, TYPES_KEY, "Type 001");
	return reg_set(key, "Name", "REG_SZ", "Microsoft Enhanced Cryptographic Provider v1.0");
}

/* Puts back one saved value: the saved data with its type, or no value
 * at all, or no key for a key that did not exist. */
static bool restore(const char *what, const char *key, const char *value)
{
	char save[512], data[1024];
	const char *type;

	key_join(save, sizeof save, SAVE_KEY, what);
	if (!reg_key_exists(save))
		return true;
	if (reg_has_value(save, "KeyAbsent"))
		return reg_delete(key, NULL);
	if (reg_get(save, value, &type, data, sizeof data))
		return reg_set(key, value, type, data);
	return reg_delete(key, value);
}

static bool unregister(void)
{
	char key[512];

	for (size_t i = 0; i < sizeof(ms_names) / sizeof(ms_names[0]); i++) {
		key_join(key, sizeof key, PROV_KEY, ms_names[i].name);
		if (!restore(ms_names[i].name, key, "Image Path"))
			return false;
	}
	for (size_t i = 0; i < sizeof(type_keys) / sizeof(type_keys[0]); i++) {
		key_join(key, sizeof key, TYPES_KEY, type_keys[i]);
		if (!restore(type_keys[i], key, "Name"))
			return false;
	}
	key_join(key, sizeof key, PROV_KEY, CSP_NAME);
	return reg_delete(key, NULL) && reg_delete("HKLM\\Software\\capi11", NULL);
}

/* The DLL's path as Windows sees it ("Z:\..." by default), from
 * `wine winepath -w`. */
static bool windows_path(const char *unix_path, char *out, size_t len)
{
	char *argv[] = { (char *)wine_bin(), "winepath", "-w", (char *)unix_path, NULL };
	char buf[4096];

	if (run(argv, buf, sizeof buf) != 0 || buf[0] == '\0') {
		tool_error("wine winepath -w %s failed", unix_path);
		return false;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) >= len) {
		tool_error("the Windows path of %s is too long", unix_path);
		return false;
	}
	strcpy(out, buf);
	return true;
}

/* Waits until the prefix's wineserver has saved the registry and exited. */
static void wineserver_wait(void)
{
	const char *p = getenv("CAPI11_WINESERVER");
	char *argv[] = { (char *)(p != NULL && *p != '\0' ? p : WINESERVER_BIN), "-w", NULL };

	if (argv[0][0] != '\0')
		run(argv, NULL, 0);
}

int cmd_wine_register(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "as-default", no_argument, NULL, OPT_AS_DEFAULT },
		{ "unregister", no_argument, NULL, OPT_UNREGISTER },
		{ "dll", required_argument, NULL, OPT_DLL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dll = getenv("CAPI11_WINE_DLL"), *prefix = getenv("WINEPREFIX");
	bool as_default = false, unreg = false, ok;
	char prefix_buf[4096], path[4096], image[4096];
	struct stat st;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(wine_help, stdout);
			return EXIT_OK;
		case OPT_AS_DEFAULT:
			as_default = true;
			break;
		case OPT_UNREGISTER:
			unreg = true;
			break;
		case OPT_DLL:
			dll = optarg;
			break;
		default:
			return tool_usage_error("wine-register", "unknown option");
		}
	}
	if (optind != argc)
		return tool_usage_error("wine-register", "unexpected argument '%s'", argv[optind]);
	if (as_default && unreg)
		return tool_usage_error("wine-register", "--as-default and --unregister exclude "
					"each other");
	if (wine_bin()[0] == '\0') {
		tool_error("wine was not found when capi11 was built; set CAPI11_WINE to it");
		return EXIT_FAIL;
	}
	if (prefix == NULL || *prefix == '\0') {
		const char *home = getenv("HOME");

		if (home == NULL || *home == '\0') {
			tool_error("neither WINEPREFIX nor HOME is set");
			return EXIT_FAIL;
		}
		snprintf(prefix_buf, sizeof prefix_buf, "%s/.wine", home);
		prefix = prefix_buf;
		setenv("WINEPREFIX", prefix, 1);
	}
	/* wine would make a new prefix on the way: slow, and surely not what
	 * a mistyped WINEPREFIX meant. (system.reg appears only when the
	 * wineserver first saves the registry; dosdevices at once.) */
	if (strlen(prefix) > sizeof path - sizeof "/dosdevices") {
		tool_error("the Wine prefix's path is too long");
		return EXIT_FAIL;
	}
	snprintf(path, sizeof path, "%s/dosdevices", prefix);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		tool_error("%s is not a Wine prefix (no dosdevices): create it with "
			   "'WINEPREFIX=%s wineboot -i' first", prefix, prefix);
		return EXIT_FAIL;
	}
	if (unreg) {
		ok = unregister();
	} else {
		if (dll == NULL || *dll == '\0')
			dll = CAPI11_WINE_DLL;
		if (dll[0] != '/') {
			tool_error("the CSP's path must be absolute: '%s'", dll);
			return EXIT_FAIL;
		}
		if (stat(dll, &st) != 0 || !S_ISREG(st.st_mode)) {
			tool_error("no CSP at %s (built and installed when configure finds winegcc; "
				   "--dll names another)", dll);
			return EXIT_FAIL;
		}
		/* advapi32 expands %VARIABLES% in "Image Path". */
		if (strchr(dll, '%') != NULL) {
			tool_error("the CSP's path must not hold '%%': %s", dll);
			return EXIT_FAIL;
		}
		ok = windows_path(dll, image, sizeof image) && register_csp(image) &&
		     (!as_default || take_defaults(image));
	}
	wineserver_wait();
	if (!ok)
		return EXIT_FAIL;
	printf("%s %s in %s\n", CSP_NAME, unreg ? "unregistered" :
	       as_default ? "registered as the default RSA provider" : "registered", prefix);
	return EXIT_OK;
}
