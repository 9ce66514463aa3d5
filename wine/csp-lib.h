/* libcapi11 as the CSP reaches it: loaded with dlopen into a namespace of
 * its own and called through pointers, never linked by name.
 *
 * The library exports the CryptoAPI names (CryptAcquireContextA,
 * SetLastError, ...), which are also the names of Wine's advapi32 and
 * kernel32 functions. Linked by name, a call of the CSP could reach
 * advapi32 again (and recurse through this very CSP), or a call inside the
 * library could bind to a Wine symbol. RTLD_LOCAL keeps the library's
 * names out of the process' global scope; RTLD_DEEPBIND makes the library
 * resolve its own references inside itself first. */
#ifndef CAPI11_CSP_LIB_H
#define CAPI11_CSP_LIB_H

#include <stdarg.h>

#include <windef.h>
#include <winbase.h>
#include <wincrypt.h>

/* The library's functions use the system (System V) calling convention;
 * the CSP's own entry points are WINAPI (ms_abi). These pointer types
 * carry no WINAPI, so calls through them use the system convention. */
struct csp_lib {
	BOOL (*acquire_w)(HCRYPTPROV *, const WCHAR *, const WCHAR *, DWORD, DWORD);
	BOOL (*release)(HCRYPTPROV, DWORD);
	BOOL (*get_prov_param)(HCRYPTPROV, DWORD, BYTE *, DWORD *, DWORD);
	BOOL (*set_prov_param)(HCRYPTPROV, DWORD, const BYTE *, DWORD);
	BOOL (*gen_random)(HCRYPTPROV, DWORD, BYTE *);
	BOOL (*gen_key)(HCRYPTPROV, ALG_ID, DWORD, HCRYPTKEY *);
	BOOL (*get_user_key)(HCRYPTPROV, DWORD, HCRYPTKEY *);
	BOOL (*destroy_key)(HCRYPTKEY);
	BOOL (*duplicate_key)(HCRYPTKEY, DWORD *, DWORD, HCRYPTKEY *);
	BOOL (*get_key_param)(HCRYPTKEY, DWORD, BYTE *, DWORD *, DWORD);
	BOOL (*set_key_param)(HCRYPTKEY, DWORD, const BYTE *, DWORD);
	BOOL (*encrypt)(HCRYPTKEY, HCRYPTHASH, BOOL, DWORD, BYTE *, DWORD *, DWORD);
	BOOL (*decrypt)(HCRYPTKEY, HCRYPTHASH, BOOL, DWORD, BYTE *, DWORD *);
	BOOL (*export_key)(HCRYPTKEY, HCRYPTKEY, DWORD, DWORD, BYTE *, DWORD *);
	BOOL (*import_key)(HCRYPTPROV, const BYTE *, DWORD, HCRYPTKEY, DWORD, HCRYPTKEY *);
	BOOL (*create_hash)(HCRYPTPROV, ALG_ID, HCRYPTKEY, DWORD, HCRYPTHASH *);
	BOOL (*hash_data)(HCRYPTHASH, const BYTE *, DWORD, DWORD);
	BOOL (*hash_session_key)(HCRYPTHASH, HCRYPTKEY, DWORD);
	BOOL (*get_hash_param)(HCRYPTHASH, DWORD, BYTE *, DWORD *, DWORD);
	BOOL (*set_hash_param)(HCRYPTHASH, DWORD, const BYTE *, DWORD);
	BOOL (*duplicate_hash)(HCRYPTHASH, DWORD *, DWORD, HCRYPTHASH *);
	BOOL (*destroy_hash)(HCRYPTHASH);
	BOOL (*sign_hash_w)(HCRYPTHASH, DWORD, const WCHAR *, DWORD, BYTE *, DWORD *);
	BOOL (*verify_signature_w)(HCRYPTHASH, const BYTE *, DWORD, HCRYPTKEY,
				   const WCHAR *, DWORD);
	BOOL (*derive_key)(HCRYPTPROV, ALG_ID, HCRYPTHASH, DWORD, HCRYPTKEY *);
	DWORD (*get_last_error)(void);
};

/* The library's table, loaded on the first call (thread-safe), or NULL
 * when the library or one of its functions cannot be found; the reason
 * then goes to stderr, once per process. The library
 * is $CAPI11_WINE_LIBRARY when set, else the one installed beside this
 * DLL at configure time (CAPI11_LIBRARY_PATH). */
const struct csp_lib *csp_lib_get(void);

#endif
