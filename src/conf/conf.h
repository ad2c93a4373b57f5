/*
 * postlet.conf: one directive a line, "#" starts a comment, blank lines are
 * ignored. Errors are reported as "file:line: problem" and refuse the whole
 * file. The reference for each directive is in README.md.
 */
#ifndef POSTLET_CONF_H
#define POSTLET_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_PATH_MAX 256
#define CONF_NAME_MAX 254 /* a domain name, RFC 1035 */
#define CONF_LISTEN_MAX 8
#define CONF_ERROR_MAX 320
#define CONF_FILE_MAX 65536 /* bytes in a whole file */
#define CONF_LINE_MAX 1024 /* bytes in a line, with its NUL */
#define CONF_PIN_MAX 80 /* "sha256//" and base64, or 64 hex digits */

enum conf_tls_mode {
	CONF_TLS_STARTTLS, /* 587: plaintext greeting, STARTTLS required */
	CONF_TLS_IMPLICIT /* 465: TLS from the first byte, RFC 8314 */
};

enum conf_backend { CONF_BACKEND_HOST, CONF_BACKEND_TAP };

struct conf_listen {
	/* Literal address, "0.0.0.0" or "::" for any; never a name. */
	char addr[48];
	int family; /* 4 or 6 */
	uint16_t port;
	enum conf_tls_mode tls;
};

struct conf_tap {
	char device[16]; /* IFNAMSIZ */
	int dhcp; /* 1: take the IPv4 address by DHCP */
	char addr4[16]; /* static IPv4 address when !dhcp */
	uint8_t prefix4; /* its prefix length */
	char gateway4[16]; /* "" for none */
	char addr6[48]; /* "" for link-local and SLAAC only */
	uint8_t prefix6;
};

struct conf {
	char hostname[CONF_NAME_MAX + 1];
	struct conf_listen listen[CONF_LISTEN_MAX];
	size_t nlisten;
	char certificate[CONF_PATH_MAX]; /* PEM chain, leaf first */
	char key[CONF_PATH_MAX]; /* PEM EC or RSA private key */
	unsigned max_sessions; /* concurrent client sessions */
	unsigned timeout_idle; /* seconds a session may be silent */
	unsigned tls_session_cache; /* resumable TLS sessions kept */
	unsigned tls_record_size; /* largest TLS record postlet sends */
	enum conf_backend backend;
	struct conf_tap tap;
	int log_syslog; /* 1 syslog, 0 stderr */
	int log_level; /* enum log_level */

	/* Submission: users, the upstream relay, limits, message fixups. */
	char domain[CONF_NAME_MAX + 1]; /* qualifies unqualified addresses */
	char users[CONF_PATH_MAX]; /* the users file, users.h */
	char relay[CONF_PATH_MAX]; /* upstream URL or domain, as written */
	char relay_credentials[CONF_PATH_MAX]; /* "" for none */
	char relay_ca[CONF_PATH_MAX]; /* PEM trust anchors */
	char relay_pin[CONF_PIN_MAX]; /* "" for none; as written */
	unsigned long max_message_size; /* bytes, advertised with SIZE */
	unsigned max_recipients; /* per message */
	unsigned max_sessions_per_client; /* per client address */
	unsigned rate_messages; /* per user per hour; 0 no limit */
	unsigned rate_recipients; /* per user per hour; 0 no limit */
	int add_to; /* add "To: undisclosed-recipients:;" when none */
	int received_client_address; /* show it in Received: after AUTH */
};

/*
 * Fill c with the defaults every directive falls back to. conf_parse
 * derives domain from hostname, and lowers max_sessions_per_client to
 * max_sessions, when the file does not set them.
 */
void conf_defaults(struct conf *c);

/*
 * Parse a whole configuration held in buf[0..len) and named name (for error
 * messages) into c, which must hold defaults. Returns 0, or -1 with
 * "name:line: problem" in err. Does not touch the file system.
 */
int conf_parse(struct conf *c, const char *name, const char *buf, size_t len,
	char *err, size_t errlen);

/*
 * Read the file at path (at most 64 KiB) and parse it as conf_parse does,
 * after conf_defaults. Returns 0, or -1 with the reason in err.
 */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/*
 * Check what belongs together once the whole file is read: at least one
 * listener, certificate and key both present, tap settings when the tap
 * backend is chosen. Returns 0, or -1 with "name: problem" in err.
 */
int
conf_check(const struct conf *c, const char *name, char *err, size_t errlen);

#endif
