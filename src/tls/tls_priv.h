/*
 * Shared between the files of src/tls/ only: configuration internals,
 * the engine profile and the PEM reader.
 */
#ifndef POSTLET_TLS_PRIV_H
#define POSTLET_TLS_PRIV_H

#include "tls/tls.h"

/* tc->flags */
#define TC_CLIENT 0x0001
#define TC_HANDSHAKE_DONE 0x0002
#define TC_RESUMED 0x0004
#define TC_RX_EOF 0x0008 /* the inner pcb reported FIN */
#define TC_EOF_GIVEN 0x0010 /* recv(NULL) was delivered upwards */
#define TC_IN_PUMP 0x0020 /* an engine pump is on the stack */
#define TC_KICK 0x0040 /* recved while pumping: look again */
#define TC_PINNED 0x0080 /* the client checks a pin, not a CA */

/* Largest plaintext written before the handshake completes. */
#define TLS_EARLY_MAX 1024

struct tls_server_config;
struct tls_client_config;

/*
 * The algorithms both sides share: TLS 1.2, SHA-256/384 PRFs, AES-GCM and
 * ChaCha20-Poly1305, ECDHE on the curves of ec_all_m31, suites[0..n).
 */
void tls_engine_profile(
	br_ssl_engine_context *eng, const uint16_t *suites, size_t n);

/*
 * Set the engine buffers from buf[0..len) and add kernel entropy. Returns
 * 0, or -1 if len is too small.
 */
int
tls_engine_buffers(br_ssl_engine_context *eng, unsigned char *buf, size_t len);

/* The client handshake completed: keep the session for resumption. */
void tls_client_done(struct tls_conn *tc);

/* Install the pin engine in tc for this pin. */
void tls_pin_setup(struct tls_conn *tc, const uint8_t *pin);

/* Hook tc between inner and a new TLS pcb; see tls_server_wrap(). */
err_t tls_altcp_attach(
	struct tls_conn *tc, struct altcp_pcb *inner, struct altcp_pcb **out);

/*
 * Call fn for every PEM object in the file at path, with its name and
 * DER bytes (valid during the call). fn returns 0 to go on, or -1 after
 * writing its own message to err. Returns the number of objects, or -1
 * with "path: problem" in err.
 */
typedef int (*tls_pem_fn)(void *ctx, const char *name, const unsigned char *der,
	size_t len, char *err, size_t errlen);
int tls_pem_each(
	const char *path, tls_pem_fn fn, void *ctx, char *err, size_t errlen);

/* Write "path: what" to err. Returns -1 for the caller to pass on. */
int tls_errf(char *err, size_t errlen, const char *path, const char *what);

#endif
