/* The configuration file: named providers, the default provider and the
 * settings that CryptAcquireContext and CryptGenKey read. The format is
 * described in capi11.conf(5). */
#ifndef CAPI11_CONFFILE_H
#define CAPI11_CONFFILE_H

#include <stddef.h>
#include <stdint.h>

/* Name of the environment variable that overrides the file's location. */
#define CONFIG_ENV_PATH "CAPI11_CONF"

/* CryptGenKey's RSA modulus size when HIWORD(dwFlags) is 0 and the file
 * says nothing: the default of Microsoft's Enhanced and Strong providers.
 * The range and the 8-bit step are theirs too. */
#define CONFIG_RSA_BITS_DEFAULT 1024u
#define CONFIG_RSA_BITS_MIN 384u
#define CONFIG_RSA_BITS_MAX 16384u

/* Highest tracing level: 0 off, 1 failures, 2 every API call, 3 every
 * PKCS#11 call as well. */
#define CONFIG_TRACE_MAX 3u

enum config_export_policy {
	/* CRYPT_EXPORTABLE keys get CKA_SENSITIVE = FALSE: every export
	 * that Windows allows works. */
	CONFIG_EXPORT_PLAIN = 0,
	/* CRYPT_EXPORTABLE keys stay CKA_SENSITIVE = TRUE with
	 * CKA_EXTRACTABLE = TRUE: only wrapped exports work. */
	CONFIG_EXPORT_SENSITIVE,
};

/* Settings that [capi11] sets for everyone and a [provider] section may
 * override. After config_load every field is resolved: a provider's
 * copy already holds the global value where the provider said nothing. */
struct config_settings {
	unsigned int rsa_bits;                   /* never 0 */
	enum config_export_policy exportable_policy;
	/* Container for a NULL container name; NULL: the login user name,
	 * as Windows uses the user name. */
	const char *default_container;
	/* p11-kit PIN source asked for a PIN that no URI, file or
	 * CryptSetProvParam supplied; NULL: capi11's terminal prompt
	 * (PIN_PROMPT_SOURCE in pin.h). */
	const char *pin_prompt;
	/* The companion token (companion.h): NULL or "nss" the in-memory
	 * NSS softokn, "none" no companion, or a pkcs11: URI. */
	const char *companion;
};

struct config_provider {
	const char *name;        /* case-sensitive, unique, never NULL */
	const char *uri;         /* RFC 7512 PKCS#11 URI, never NULL */
	/* PROV_* value, or 0 when the section has no type key: such a
	 * provider serves every type capi11 knows (PROV_RSA_FULL,
	 * PROV_RSA_AES, PROV_DSS, PROV_DSS_DH). */
	uint32_t type;
	const char *pin_source;  /* path or file: URI, or NULL */
	const char *pin_value;   /* or NULL; wiped by config_free */
	struct config_settings settings;
};

struct capi11_config;

/* Why config_load failed. The reason is a static English phrase that never
 * quotes the offending value (it could be a PIN). */
struct config_error {
	unsigned int line;       /* 1-based; 0 when no line is to blame */
	int code;                /* errno value, see config_load */
	const char *reason;
};

/* The file that config_load(NULL) reads: $CAPI11_CONF when set and not
 * empty (ignored in setuid programs), else SYSCONFDIR "/capi11.conf". */
const char *config_path_default(void);

/* Reads and parses a configuration file; path NULL means
 * config_path_default(). A file that does not exist gives an empty
 * configuration, not an error (CAPI11_CONF=/dev/null is the explicit way
 * to say "no configuration").
 * Only a regular file is read (symbolic links are followed; a FIFO or a
 * device is refused without blocking). A file that holds a PIN (a
 * pin-value key, or a uri or default-provider URI with pin-value) must be
 * private to its owner, as a pin-source file is (capi11_file_check_private
 * in util.h). Provider URIs are checked as CryptAcquireContext reads them
 * (uri_parse_provider in uri.h).
 * Returns NULL on failure with *error filled in (error may be NULL):
 *   EINVAL  syntax or value error at error->line, or (line 0) not a
 *           regular file;
 *   EPERM   the file holds a PIN and group or others may read or write it,
 *           or another user than the effective user or root owns it;
 *   EFBIG   the file is larger than 1 MiB;
 *   ENOMEM  out of memory;
 *   any other errno from open(2)/read(2) (EACCES, EISDIR, ...). */
struct capi11_config *config_load(const char *path, struct config_error *error);

/* The same parser over a buffer, for callers that already hold the text
 * and for tests. The buffer is only read. */
struct capi11_config *config_parse(const char *text, size_t len,
                                   struct config_error *error);

/* Wipes every PIN the configuration held and frees it. Accepts NULL. */
void config_free(struct capi11_config *cfg);

/* [capi11] default-provider: a provider name or a pkcs11: URI; NULL when
 * the file sets none. */
const char *config_default_provider(const struct capi11_config *cfg);

/* [capi11] default-provider-<type>: the provider name set as the default
 * of that PROV_* type (CryptSetProviderEx); NULL when none is. */
const char *config_type_default(const struct capi11_config *cfg, uint32_t type);

/* [capi11] trace, 0..CONFIG_TRACE_MAX. */
unsigned int config_trace(const struct capi11_config *cfg);

/* The [capi11] settings, with built-in defaults for what the file leaves
 * out: what a provider given as a pkcs11: URI uses. */
const struct config_settings *config_settings_global(const struct capi11_config *cfg);

/* The provider section with exactly this name, or NULL. */
const struct config_provider *config_provider_find(const struct capi11_config *cfg,
                                                   const char *name);

/* Providers in file order, for enumeration. */
size_t config_provider_count(const struct capi11_config *cfg);
const struct config_provider *config_provider_at(const struct capi11_config *cfg,
                                                 size_t index);

#endif
