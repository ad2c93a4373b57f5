/*
 * The upstream relay as configured: where it is, how TLS begins, how its
 * certificate is checked and what postlet authenticates with. Built from
 * the values of the directives relay, relay_credentials, relay_ca and
 * relay_pin, given as plain strings.
 */
#ifndef POSTLET_RELAY_CONF_H
#define POSTLET_RELAY_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/ip_addr.h"

#define RELAY_HOST_MAX 253 /* a domain name without the trailing dot */
#define RELAY_USER_MAX 255
#define RELAY_PASSWORD_MAX 255
#define RELAY_CONF_PATH_MAX 256
#define RELAY_CA_DEFAULT "/etc/ssl/certs/ca-certificates.crt"
/* A credentials file is one short line; more is a mistake. */
#define RELAY_CREDENTIALS_FILE_MAX 1024

#define RELAY_PORT_SUBMISSIONS 465 /* RFC 8314 7.3 */
#define RELAY_PORT_SUBMISSION 587 /* RFC 6409 3.1 */

enum relay_tls {
	RELAY_TLS_IMPLICIT, /* smtps://: TLS from the first byte, RFC 8314 */
	RELAY_TLS_STARTTLS, /* smtp://: STARTTLS required, RFC 3207 */
	RELAY_TLS_NONE /* smtp+plain://: a local stand-in on loopback */
};

struct relay_conf {
	/*
	 * A bare domain (srv): its RFC 6186 SRV records name host, port and
	 * TLS mode, and the certificate must match the domain (RFC 6186 6).
	 */
	int srv;
	enum relay_tls tls;
	char host[RELAY_HOST_MAX + 1]; /* name or literal, no brackets */
	int is_literal; /* host is an address: addr holds it */
	ip_addr_t addr;
	uint16_t port;
	int has_credentials;
	char user[RELAY_USER_MAX + 1];
	char password[RELAY_PASSWORD_MAX + 1];
	int pinned; /* trust: pin, else the bundle at ca_path */
	uint8_t pin[32];
	char ca_path[RELAY_CONF_PATH_MAX];
};

/*
 * Fill rc from the directives' values; NULL or "" for one not given.
 * relay is required. relay_credentials is read now (see
 * relay_conf_credentials). With TLS, relay_ca or relay_pin, not both;
 * neither means the system bundle, RELAY_CA_DEFAULT. An address literal
 * needs relay_pin, since a certificate is checked against a host name
 * only. Returns 0, or -1 with the problem in err, naming the directive
 * ("relay: 'smtp://h:0': port must be 1 to 65535").
 */
int relay_conf_make(struct relay_conf *rc, const char *relay,
	const char *credentials, const char *ca, const char *pin, char *err,
	size_t errlen);

/*
 * Parse the relay directive's value alone into rc (host, port, tls, srv):
 * smtps://HOST[:PORT], smtp://HOST[:PORT], smtp+plain://ADDR:PORT with
 * ADDR in 127.0.0.0/8 or [::1], or a bare domain. HOST is a name, an
 * IPv4 literal or [IPv6]. Returns 0, or -1 with the reason in err.
 */
int relay_conf_url(
	struct relay_conf *rc, const char *url, char *err, size_t errlen);

/*
 * Read the credentials file at path: one line "user:password" (the
 * password may contain ':'), ending in LF, CRLF or nothing. Refused when
 * group or others may read or write it, so a password on a shared box
 * stays private. Returns 0, or -1 with "path: problem" in err.
 */
int relay_conf_credentials(
	struct relay_conf *rc, const char *path, char *err, size_t errlen);

struct tls_client_config;

/*
 * The TLS client configuration rc asks for: the pin, or the trust anchors
 * read from ca_path; *out is NULL for smtp+plain. The caller frees it
 * with tls_client_config_free. Returns 0, or -1 with the reason in err.
 */
int relay_conf_tls(const struct relay_conf *rc, struct tls_client_config **out,
	char *err, size_t errlen);

/* Forget the password: overwrite it where the compiler cannot skip it. */
void relay_conf_wipe(struct relay_conf *rc);

#endif
