/*
 * The engine profile both sides share, and what a connection reports
 * about itself: negotiated parameters and errors in words.
 */
#include <string.h>

#include "board.h"
#include "tls/tls_priv.h"

void
tls_engine_profile(br_ssl_engine_context *eng, const uint16_t *suites, size_t n)
{
	/*
	 * Only what the suites need is linked: naming each implementation
	 * instead of calling br_ssl_*_init_full keeps CBC, 3DES, RSA key
	 * exchange and TLS 1.0/1.1 out of the binary.
	 */
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, n);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_ec(eng, &br_ec_all_m31);
	br_ssl_engine_set_aes_ctr(eng, &br_aes_ct_ctr_vtable);
	br_ssl_engine_set_ghash(eng, &br_ghash_ctmul);
	br_ssl_engine_set_gcm(
		eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_chacha20(eng, &br_chacha20_ct_run);
	br_ssl_engine_set_poly1305(eng, &br_poly1305_ctmul_run);
	br_ssl_engine_set_chapol(
		eng, &br_sslrec_in_chapol_vtable, &br_sslrec_out_chapol_vtable);
}

int
tls_engine_buffers(br_ssl_engine_context *eng, unsigned char *buf, size_t len)
{
	unsigned char seed[32];

	if (len < TLS_CONN_BUFSIZE(512))
		return -1;
	br_ssl_engine_set_buffers_bidi(eng, buf, BR_SSL_BUFSIZE_INPUT,
		buf + BR_SSL_BUFSIZE_INPUT, len - BR_SSL_BUFSIZE_INPUT);
	/*
	 * BearSSL also seeds itself from the system at reset; getrandom
	 * adds a source that works without /dev in a chroot. When the pool
	 * is not ready yet, BearSSL's own seeding decides.
	 */
	if (board_entropy(seed, sizeof(seed)) == 0)
		br_ssl_engine_inject_entropy(eng, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	return 0;
}

int
tls_conn_error(const struct tls_conn *tc)
{
	return tc->last_error;
}

int
tls_conn_info(const struct tls_conn *tc, struct tls_info *info)
{
	if (!(tc->flags & TC_HANDSHAKE_DONE))
		return -1;
	info->version = tc->eng->session.version;
	info->suite = tc->eng->session.cipher_suite;
	info->resumed = (tc->flags & TC_RESUMED) != 0;
	return 0;
}

const char *
tls_suite_name(uint16_t suite)
{
	switch (suite) {
	case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
	case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		return "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
	case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
		return "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
	case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
		return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
	case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
	case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
		return "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
	}
	return "unknown";
}

/* Words for the alert a peer sent (RFC 5246 section 7.2). */
static const char *
alert_text(int alert)
{
	switch (alert) {
	case 0:
		return "peer closed the connection";
	case 40:
		return "peer refused the handshake";
	case 42:
	case 43:
	case 46:
		return "peer rejected our certificate";
	case 48:
		return "peer does not trust our certificate";
	case 70:
		return "peer refused the protocol version";
	case 71:
		return "peer wants stronger ciphers";
	case 80:
		return "peer internal error";
	case 112:
		return "peer does not know that server name";
	}
	return "peer sent a fatal alert";
}

/* Errors met while checking the server's certificate. */
static const char *
x509_text(int err)
{
	switch (err) {
	case BR_ERR_X509_EXPIRED:
		return "certificate expired or not yet valid";
	case BR_ERR_X509_NOT_TRUSTED:
		return "unknown issuer";
	case BR_ERR_X509_BAD_SERVER_NAME:
		return "name mismatch";
	case BR_ERR_X509_BAD_SIGNATURE:
		return "bad certificate signature";
	case BR_ERR_X509_NOT_CA:
		return "issuer is not a CA";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE:
		return "certificate not for servers";
	case BR_ERR_X509_WEAK_PUBLIC_KEY:
		return "weak certificate key";
	case BR_ERR_X509_EMPTY_CHAIN:
		return "no certificate";
	case BR_ERR_X509_TIME_UNKNOWN:
		return "clock not set";
	case BR_ERR_X509_CRITICAL_EXTENSION:
	case BR_ERR_X509_UNSUPPORTED:
	case BR_ERR_X509_WRONG_KEY_TYPE:
		return "unsupported certificate";
	}
	return "malformed certificate";
}

const char *
tls_error_text(int err)
{
	if (err == 0)
		return "ok";
	if (err == TLS_ERR_PIN_MISMATCH)
		return "public key does not match pin";
	if (err == TLS_ERR_INNER_CLOSED)
		return "connection closed during handshake";
	if (err == TLS_ERR_CLOCK)
		return "clock not set";
	if (err >= BR_ERR_SEND_FATAL_ALERT)
		return "handshake failed";
	if (err >= BR_ERR_RECV_FATAL_ALERT)
		return alert_text(err - BR_ERR_RECV_FATAL_ALERT);
	if (err >= BR_ERR_X509_OK && err < 64)
		return x509_text(err);
	switch (err) {
	case BR_ERR_UNSUPPORTED_VERSION:
	case BR_ERR_BAD_VERSION:
		return "no common protocol version";
	case BR_ERR_BAD_CIPHER_SUITE:
		return "no common cipher suite";
	case BR_ERR_BAD_MAC:
		return "corrupted record";
	case BR_ERR_NO_RANDOM:
		return "no entropy";
	case BR_ERR_BAD_SIGNATURE:
		return "bad handshake signature";
	case BR_ERR_IO:
		return "connection failed";
	}
	return "protocol error";
}
