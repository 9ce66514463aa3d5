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
	"those found at build time, and ends with 'wineserver -w', which waits\n"
	"until every Windows program of the prefix has exited.\n";

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

static void wineserver_wait(void);

/* Every `wine reg` step that fails is tried once more after the prefix's
 * wineserver has exited: a wine process that starts while the server,
 * idle for its linger time, is going away fails without reaching it
 * (seen on a loaded machine). */

/* `wine reg add KEY /v NAME /t TYPE /d DATA /f`. */
static bool reg_set(const char *key, const char *name, const char *type, const char *data)
{
	char *argv[] = { (char *)wine_bin(), "reg", "add", (char *)key, "/v", (char *)name,
			 "/t", (char *)type, "/d", (char *)data, "/f", NULL };

	if (run(argv, NULL, 0) == 0)
		return true;
	wineserver_wait();
	if (run(argv, NULL, 0) == 0)
		return true;
	tool_error("wine reg add %s /v \"%s\" failed", key, name);
	return false;
}

/* What a registry look-up found. reg.exe exits with status 1 both for a
 * key or value that is not there and for a look-up that failed, in a
 * message that depends on the language: a key is known absent only when
 * its parent lists its subkeys without it, and a value only when its key
 * lists its values without it. */
enum reg_state { REG_FAILED = -1, REG_ABSENT = 0, REG_PRESENT = 1 };

/* `wine reg query KEY`: its values ("    NAME    TYPE    DATA") and its
 * subkeys' full names, one a line, into out. */
static enum reg_state reg_list(const char *key, char *out, size_t len);

/* Whether a line of reg's listing is a subkey whose last name is NAME. */
static bool lists_subkey(char *listing, const char *name)
{
	char *line, *save = NULL;
	size_t n = strlen(name);

	for (line = strtok_r(listing, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		size_t l = strlen(line);

		if (line[0] != ' ' && l > n && line[l - n - 1] == '\\' &&
		    strcasecmp(line + l - n, name) == 0)
			return true;
	}
	return false;
}

static enum reg_state reg_list_once(const char *key, char *out, size_t len)
{
	char *argv[] = { (char *)wine_bin(), "reg", "query", (char *)key, NULL };
	char parent[512], *cut, *listing;
	enum reg_state st;
	int status = run(argv, out, len);

	if (status == 0)
		/* A listing that filled the buffer may be cut short. */
		return strlen(out) + 1 < len ? REG_PRESENT : REG_FAILED;
	if (status != 1 || strlen(key) >= sizeof parent)
		return REG_FAILED;
	strcpy(parent, key);
	cut = strrchr(parent, '\\');
	if (cut == NULL || strchr(parent, '\\') == cut)
		return REG_FAILED;	/* HKLM\Software is always there */
	*cut = '\0';
	listing = malloc(len);
	if (listing == NULL)
		return REG_FAILED;
	st = reg_list(parent, listing, len);
	if (st == REG_PRESENT)
		st = lists_subkey(listing, cut + 1) ? REG_FAILED : REG_ABSENT;
	free(listing);
	return st;
}

static enum reg_state reg_list(const char *key, char *out, size_t len)
{
	enum reg_state st = reg_list_once(key, out, len);

	if (st != REG_FAILED)
		return st;
	wineserver_wait();
	return reg_list_once(key, out, len);
}

#define LISTING_SIZE 65536

static enum reg_state reg_key_state(const char *key)
{
	char *out = malloc(LISTING_SIZE);
	enum reg_state st = out != NULL ? reg_list(key, out, LISTING_SIZE) : REG_FAILED;

	free(out);
	return st;
}

/* The value NAME of KEY from reg's listing: its type and its data (as reg
 * prints it, at most len - 1 bytes). REG_ABSENT when the key or the value
 * is not there; REG_FAILED when the look-up failed or the data is too
 * long. */
static enum reg_state reg_value(const char *key, const char *name, char *type, size_t type_len,
				char *data, size_t len)
{
	char *out = malloc(LISTING_SIZE), *line, *save = NULL, *rest, *sep;
	size_t n = strlen(name);
	enum reg_state st = out != NULL ? reg_list(key, out, LISTING_SIZE) : REG_FAILED;

	if (st != REG_PRESENT)
		goto out;
	st = REG_ABSENT;
	for (line = strtok_r(out, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (strncmp(line, "    ", 4) != 0 || strncasecmp(line + 4, name, n) != 0 ||
		    strncmp(line + 4 + n, "    ", 4) != 0)
			continue;
		rest = line + 4 + n + 4;
		sep = strstr(rest, "    ");
		if (sep == NULL) {	/* an empty value: "TYPE    " trimmed */
			sep = rest + strlen(rest);
		}
		if ((size_t)(sep - rest) >= type_len ||
		    strlen(*sep ? sep + 4 : sep) >= len) {
			st = REG_FAILED;
			break;
		}
		memcpy(type, rest, (size_t)(sep - rest));
		type[sep - rest] = '\0';
		strcpy(data, *sep ? sep + 4 : sep);
		st = REG_PRESENT;
		break;
	}
out:
	free(out);
	return st;
}

/* `wine reg delete KEY [/v NAME] /f`; a key or value that is not there
 * afterwards, whether it was before or not, is success; one that is still
 * there, or that cannot be looked up, is a failure. */
static bool reg_delete(const char *key, const char *name)
{
	char *argv[] = { (char *)wine_bin(), "reg", "delete", (char *)key, "/f", NULL, NULL,
			 NULL };
	char type[32], data[1024];
	enum reg_state st;

	if (name != NULL) {
		argv[4] = "/v";
		argv[5] = (char *)name;
		argv[6] = "/f";
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		if (attempt > 0)
			wineserver_wait();
		run(argv, NULL, 0);
		st = name != NULL ? reg_value(key, name, type, sizeof type, data, sizeof data)
				  : reg_key_state(key);
		if (st == REG_ABSENT)
			return true;
	}
	tool_error("wine reg delete %s%s%s%s failed", key, name ? " /v \"" : "", name ? name : "",
		   name ? "\"" : "");
	return false;
}

/* Reports a look-up that failed. */
static bool reg_failed(const char *key)
{
	tool_error("wine reg query %s failed (neither found nor reported absent)", key);
	return false;
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
 * "KeyAbsent"=1 records a key that did not exist, "Absent"=1 a value. A
 * value that is already the CSP's own (IMAGE, or the CSP's name) is no
 * original to restore: the saved copy was lost, and saving it would leave
 * --unregister nothing to give back. */
static bool save_once(const char *what, const char *key, const char *value, const char *image)
{
	char save[512], data[1024], type[32];
	enum reg_state st;

	key_join(save, sizeof save, SAVE_KEY, what);
	st = reg_key_state(save);
	if (st == REG_PRESENT)
		return true;
	if (st == REG_FAILED)
		return reg_failed(save);
	st = reg_key_state(key);
	if (st == REG_FAILED)
		return reg_failed(key);
	if (st == REG_ABSENT)
		return reg_set(save, "KeyAbsent", "REG_DWORD", "1");
	st = reg_value(key, value, type, sizeof type, data, sizeof data);
	if (st == REG_FAILED)
		return reg_failed(key);
	if (st == REG_ABSENT)
		return reg_set(save, "Absent", "REG_DWORD", "1");
	if (strcasecmp(data, image) == 0 || strcmp(data, CSP_NAME) == 0) {
		tool_error("%s /v \"%s\" is already the CSP's, but no saved original is under %s: "
			   "refusing to save the CSP as Wine's value (set it back by hand, e.g. "
			   "from a fresh prefix, then register again)", key, value, SAVE_KEY);
		return false;
	}
	if (strcmp(type, "REG_SZ") != 0 && strcmp(type, "REG_EXPAND_SZ") != 0) {
		tool_error("%s /v \"%s\" is %s, not a string: not replaced", key, value, type);
		return false;
	}
	return reg_set(save, value, type, data);
}

/* Saves what --as-default replaces, all of it before anything changes:
 * a refusal (a value already the CSP's with no saved copy) or a failed
 * look-up then leaves the providers and types as they were. */
static bool save_defaults(const char *image)
{
	char key[512];

	for (size_t i = 0; i < sizeof(ms_names) / sizeof(ms_names[0]); i++) {
		key_join(key, sizeof key, PROV_KEY, ms_names[i].name);
		if (!save_once(ms_names[i].name, key, "Image Path", image))
			return false;
	}
	for (size_t i = 0; i < sizeof(type_keys) / sizeof(type_keys[0]); i++) {
		key_join(key, sizeof key, TYPES_KEY, type_keys[i]);
		if (!save_once(type_keys[i], key, "Name", image))
			return false;
	}
	return true;
}

static bool take_defaults(const char *image)
{
	char key[512], type[32], data[1024];
	enum reg_state st;

	for (size_t i = 0; i < sizeof(ms_names) / sizeof(ms_names[0]); i++) {
		key_join(key, sizeof key, PROV_KEY, ms_names[i].name);
		if (!reg_set(key, "Image Path", "REG_SZ", image))
			return false;
		/* A name Wine did not register gets what advapi32 needs. */
		st = reg_value(key, "Type", type, sizeof type, data, sizeof data);
		if (st == REG_FAILED)
			return reg_failed(key);
		if (st == REG_ABSENT &&
		    (!reg_set(key, "Type", "REG_DWORD", ms_names[i].type) ||
		     !reg_set(key, "SigInFile", "REG_DWORD", "0")))
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
	char save[512], data[1024], type[32];
	enum reg_state st;

	key_join(save, sizeof save, SAVE_KEY, what);
	st = reg_key_state(save);
	if (st == REG_ABSENT)
		return true;
	if (st == REG_FAILED)
		return reg_failed(save);
	st = reg_value(save, "KeyAbsent", type, sizeof type, data, sizeof data);
	if (st == REG_FAILED)
		return reg_failed(save);
	if (st == REG_PRESENT)
		return reg_delete(key, NULL);
	st = reg_value(save, value, type, sizeof type, data, sizeof data);
	if (st == REG_FAILED)
		return reg_failed(save);
	if (st == REG_PRESENT)
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

/* Whether Windows can load a DLL at the Unix path: advapi32 expands
 * %VARIABLES% in "Image Path", and winepath -w passes characters through
 * that no Windows path may hold ('"' '*' '?' '<' '>' '|', ':' past the
 * drive, control characters) or that it reads as a separator ('\'). The
 * registry would take such a path and every program of the prefix using
 * the provider would then fail with NTE_PROVIDER_DLL_FAIL. */
static bool loadable_path(const char *dll)
{
	for (const unsigned char *p = (const unsigned char *)dll; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || strchr("%\"*?<>|:\\", *p) != NULL) {
			if (*p < 0x20 || *p == 0x7f)
				tool_error("the CSP's path holds control character 0x%02x, which no "
					   "Windows path may hold: %s", *p, dll);
			else
				tool_error("the CSP's path holds '%c', which Windows cannot load a "
					   "DLL from (move it to a path without %%\"*?<>|:\\): %s",
					   *p, dll);
			return false;
		}
	}
	return true;
}

/* Whether the Windows path names the DLL: `wine winepath -u` of it is the
 * same file. */
static bool same_file(const char *win_path, const char *unix_path)
{
	char *argv[] = { (char *)wine_bin(), "winepath", "-u", (char *)win_path, NULL };
	char buf[4096];
	struct stat a, b;

	if (run(argv, buf, sizeof buf) != 0 || buf[0] == '\0') {
		tool_error("wine winepath -u %s failed", win_path);
		return false;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	if (stat(buf, &a) != 0 || stat(unix_path, &b) != 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		tool_error("the Windows path %s does not lead back to %s", win_path, unix_path);
		return false;
	}
	return true;
}

/* Whether the CSP's key now holds "Image Path" = image. */
static bool registered_as(const char *image)
{
	char key[512], type[32], data[4096];

	key_join(key, sizeof key, PROV_KEY, CSP_NAME);
	return reg_value(key, "Image Path", type, sizeof type, data, sizeof data) == REG_PRESENT &&
	       strcmp(data, image) == 0;
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
		if (!loadable_path(dll))
			return EXIT_FAIL;
		ok = windows_path(dll, image, sizeof image) && same_file(image, dll) &&
		     (!as_default || save_defaults(image));
		if (ok) {
			ok = register_csp(image) && (!as_default || take_defaults(image));
			/* A path that did not land as written is taken out again
			 * (Wine's values back from the saved copies) rather than
			 * left for every program to fail on. */
			if (ok && !registered_as(image)) {
				tool_error("the registry does not read back the CSP's path %s; "
					   "taking the registration out again", image);
				unregister();
				ok = false;
			} else if (!ok) {
				tool_error("registration incomplete: 'capi11-tool wine-register "
					   "--unregister' gives Wine's values back");
			}
		}
	}
	wineserver_wait();
	if (!ok)
		return EXIT_FAIL;
	printf("%s %s in %s\n", CSP_NAME, unreg ? "unregistered" :
	       as_default ? "registered as the default RSA provider" : "registered", prefix);
	return EXIT_OK;
}
