/*
 * TLS as an altcp layer on BearSSL. A TLS pcb sits on top of any other
 * altcp pcb (a kernel socket or an lwIP TCP pcb) and behaves like lwIP's
 * altcp API promises: recv delivers plaintext pbufs, write takes plaintext
 * (always copied, as TCP_WRITE_FLAG_COPY), sent reports plaintext bytes
 * whose space is free again, err is called after the pcb was freed.
 *
 * Memory: configurations are made once at start-up (or reload). Each
 * connection's state and buffers belong to the caller, carved from its
 * fixed per-session budget; nothing here calls malloc per connection.
 */
#ifndef POSTLET_TLS_H
#define POSTLET_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

#include "lwip/altcp.h"

struct tls_server_config;
struct tls_client_config;

/* Pin mode's X.509 engine: see tls_pin.c. */
struct tls_pin_ctx {
	const br_x509_class *vtable;
	br_x509_decoder_context dec;
	br_sha256_context hash;
	const uint8_t *pin;
	uint32_t remain; /* bytes left in the DER element or length */
	uint8_t phase; /* where the SPKI walker is in the leaf's DER */
	uint8_t depth; /* 0 Certificate, 1 TBSCertificate, 2 its fields */
	uint8_t field; /* index of the TBSCertificate field being read */
	uint8_t tag;
	uint8_t lenbytes; /* length octets still to read */
	uint8_t hashing; /* inside the SubjectPublicKeyInfo */
	uint8_t certs; /* certificates started in this chain */
	uint8_t match; /* the leaf's SPKI hash equals the pin */
};

struct tls_guard;

/*
 * The caller-owned state of one TLS connection. Its fields are private to
 * src/tls/; it is declared here only so callers can embed it.
 */
struct tls_conn {
	union {
		br_ssl_server_context server;
		br_ssl_client_context client;
	} ssl; /* first: the session cache finds tc from the context */
	union {
		br_x509_minimal_context minimal;
		struct tls_pin_ctx pin;
	} x509;
	struct altcp_pcb *inner;
	struct altcp_pcb *outer;
	void *cfg; /* the configuration this conn uses */
	struct pbuf *rx; /* raw bytes the engine has not taken */
	struct pbuf *pending; /* plaintext the upper layer refused */
	struct pbuf *early; /* plaintext written during the handshake */
	struct tls_guard *guard; /* innermost entry point on the stack */
	br_ssl_engine_context *eng;
	uint32_t unacked_sent; /* plaintext not yet reported via sent */
	uint16_t flags;
	int last_error; /* first BearSSL or TLS_ERR_ code, sticky */
};

/*
 * Buffer a connection needs: BearSSL's full input buffer (a peer may send
 * 16 KiB records) plus an output buffer for records of record_size bytes.
 */
#define TLS_CONN_BUFSIZE(record_size) \
	(BR_SSL_BUFSIZE_INPUT + (record_size) + 85)

/*
 * Error codes of our own, beside BearSSL's BR_ERR_* (below 256, plus 256 +
 * alert received and 512 + alert sent, so ours start above those).
 */
#define TLS_ERR_PIN_MISMATCH 1000
#define TLS_ERR_INNER_CLOSED 1001
#define TLS_ERR_CLOCK 1002

/*
 * Load a certificate chain (PEM, leaf first) and its private key (PEM: EC
 * "EC PRIVATE KEY" or PKCS#8, or RSA) for a server. Suites: TLS 1.2, ECDHE
 * with AES-GCM or ChaCha20-Poly1305 only. cache_entries > 0 keeps that many
 * sessions for resumption. Returns NULL with "path: problem" in err when a
 * file is missing, malformed, or the key does not match the certificate.
 */
struct tls_server_config *tls_server_config_load(const char *cert_path,
	const char *key_path, unsigned cache_entries, char *err, size_t errlen);
void tls_server_config_free(struct tls_server_config *cfg);

/* One line for `postlet check`: key type and size, subject, expiry. */
int tls_server_config_describe(
	const struct tls_server_config *cfg, char *buf, size_t len);

/*
 * A client configuration that verifies the server against the trust
 * anchors in a PEM bundle (chain, host name, expiry). NULL with the reason
 * in err.
 */
struct tls_client_config *
tls_client_config_load_ca(const char *ca_path, char *err, size_t errlen);

/*
 * A client configuration that accepts only a server whose certificate
 * carries the public key with this SHA-256 of its DER SubjectPublicKeyInfo
 * (as `openssl pkey -pubin -outform der | sha256sum` prints it). No chain,
 * name or time checks: for devices without a CA bundle or a set clock.
 */
struct tls_client_config *tls_client_config_pin(const uint8_t sha256[32]);
void tls_client_config_free(struct tls_client_config *cfg);

/*
 * Parse a pin written as 64 hex digits or "sha256//" + base64 (curl's
 * form). Returns 0, or -1 if s is neither.
 */
int tls_pin_parse(const char *s, uint8_t out[32]);

/*
 * Put a TLS server on top of inner, a connected pcb (at accept for port
 * 465, after the 220 reply for STARTTLS). tc and buf[0..buflen) belong to
 * the caller until the TLS pcb is closed, aborted or reported by err;
 * buflen >= TLS_CONN_BUFSIZE(512). On success *out is the TLS pcb: set the
 * upper callbacks on it; inner's callbacks now belong to the TLS layer and
 * the caller must not use inner again. connected is called on the TLS pcb
 * when the handshake completes; set it with altcp_connect(tls, NULL, 0,
 * fn). Returns ERR_OK, ERR_MEM, or ERR_ARG.
 *
 * On the TLS pcb, as on a TCP pcb, with these differences:
 * - Before the handshake completes, altcp_sndbuf() offers up to 1 KiB and
 *   writes are queued, to go out first once it completes (a greeting).
 * - After it, altcp_sndbuf() is what fits into one record that inner can
 *   take at once; each write is encrypted and handed to inner at once, so
 *   altcp_output() only retries. sent reports plaintext bytes handed to
 *   inner, once the upper can write again.
 * - Plaintext refused by recv is offered again on the next network event
 *   or poll, or from altcp_recved() on the TLS pcb: outside our own
 *   callbacks, recv may run before altcp_recved() returns.
 * - The peer's close_notify or a FIN arrives as recv(NULL). A fatal
 *   error frees the TLS pcb and calls err (ERR_ABRT, ERR_CLSD, or inner's
 *   error); tls_conn_error() then says why. altcp_abort() calls err with
 *   ERR_ABRT, like tcp_abort().
 * - altcp_close() sends close_notify if inner has room for it, then
 *   closes inner. Half-closing is refused (ERR_VAL).
 */
err_t tls_server_wrap(struct altcp_pcb *inner, struct tls_server_config *cfg,
	struct tls_conn *tc, unsigned char *buf, size_t buflen,
	struct altcp_pcb **out);

/*
 * The same for a client. server_name is checked against the certificate
 * (CA mode, DNS names only) and sent as SNI. inner may be connected or not
 * yet: the handshake starts when it is (connect it with altcp_connect on
 * the TLS pcb). The upper connected callback, given to altcp_connect on
 * the TLS pcb or set before, runs when the handshake completes. The last
 * session is kept in cfg and offered again to the same server_name.
 */
err_t tls_client_wrap(struct altcp_pcb *inner, struct tls_client_config *cfg,
	const char *server_name, struct tls_conn *tc, unsigned char *buf,
	size_t buflen, struct altcp_pcb **out);

/* The first error of the connection: 0, BR_ERR_* or TLS_ERR_*. */
int tls_conn_error(const struct tls_conn *tc);

/*
 * Words a person understands for an error code ("certificate expired",
 * "unknown issuer", "name mismatch", "public key does not match pin").
 */
const char *tls_error_text(int err);

struct tls_info {
	unsigned version; /* 0x0303 for TLS 1.2 */
	uint16_t suite; /* IANA cipher suite number */
	int resumed; /* 1 when the session was resumed */
};

/* After the handshake: what was negotiated. Returns 0, -1 before. */
int tls_conn_info(const struct tls_conn *tc, struct tls_info *info);

/* The IANA name of a cipher suite, or "unknown". */
const char *tls_suite_name(uint16_t suite);

#endif
