/* Where PINs come from when the caller did not hand one over: a pin-source
 * file, or a prompt on the controlling terminal. Every PIN returned here is
 * a NUL-terminated string from capi11_malloc, to be released with
 * capi11_free_string_secret, and nothing here ever prints a PIN. */
#ifndef CAPI11_PIN_H
#define CAPI11_PIN_H

/* Longest PIN accepted, in bytes, from any source. PKCS#11 tokens allow
 * far less (ulMaxPinLen); the bound only keeps a wrong file from being read
 * whole. */
#define PIN_MAX 256

/* The p11-kit PIN source under which capi11 registers its terminal
 * prompt. */
#define PIN_PROMPT_SOURCE "capi11-tty"

/* Reads the PIN held in a pin-source, as RFC 7512 uses the word: a plain
 * path, or a file: URI (file:/path, file:///path, file://localhost/path;
 * percent-encoding decoded). One trailing "\n" or "\r\n" is stripped; an
 * empty file gives an empty PIN (which tsession_login then refuses). The file
 * must be a regular file (symbolic links are followed) that only its owner
 * may read or write, owned by the effective user or root
 * (capi11_file_check_private); a FIFO never blocks the call. On failure
 * returns NULL, sets *err (err may be NULL) and traces why, naming the
 * file but never its content:
 *   EINVAL  malformed file: URI, a remote host, or not a regular file;
 *   EPERM   group or others may read or write the file, or another user
 *           owns it;
 *   E2BIG   the PIN is longer than PIN_MAX bytes;
 *   EILSEQ  a NUL byte in the PIN;
 *   ENOMEM  out of memory;
 *   any errno from open(2)/read(2) (ENOENT, EACCES, EISDIR, ...). */
char *pin_read_source(const char *pin_source, int *err);

/* What pin_read_source would refuse of pin_source's file without reading
 * the PIN in it: 0, or the errors above but E2BIG by the file's size alone
 * and never EILSEQ or ENOMEM (the content is not looked at). For a token
 * already logged in, whose PIN nothing would check. */
int pin_check_source(const char *pin_source);

/* Asks p11-kit for a PIN from the callbacks registered under
 * callback_source; NULL (or PIN_PROMPT_SOURCE) means capi11's terminal
 * prompt, which is registered on first use. token_label names the token in
 * the prompt (trailing blanks of a PKCS#11 label are dropped, control
 * characters shown as '?'); NULL is allowed.
 *
 * The terminal prompt opens /dev/tty, never stdin, turns echo off while
 * the line is read and always restores the terminal. A signal that would
 * stop or end the process (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM,
 * SIGTSTP, SIGTTIN, SIGTTOU) cancels the prompt: the terminal is restored,
 * then the signal is raised again for the application's own disposition.
 * Prompts from several threads are asked one after the other.
 *
 * p11-kit calls the most recently registered callback of a source first
 * and goes on to older ones while they return no PIN. An application that
 * registers its own callback under PIN_PROMPT_SOURCE before capi11's first
 * prompt is therefore asked only when no terminal is available; one that
 * wants to replace the prompt registers under a source of its own and names
 * it with the configuration key pin-prompt.
 *
 * On failure returns NULL and sets *err (err may be NULL):
 *   ENXIO      no controlling terminal (a daemon, a process after setsid);
 *   ECANCELED  end of input before any character;
 *   EINTR      a signal cancelled the prompt;
 *   E2BIG      the line is longer than PIN_MAX bytes;
 *   ENOENT     no callback of callback_source supplied a PIN;
 *   EILSEQ     a callback returned a PIN holding a NUL byte;
 *   ENOMEM, EIO, or another errno of the terminal. */
char *pin_request(const char *callback_source, const char *token_label, int *err);

/* pin_request(PIN_PROMPT_SOURCE, token_label, err). */
char *pin_prompt(const char *token_label, int *err);

#endif
