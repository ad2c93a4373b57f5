/* The relay directives' values; the contract is in relay_conf.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwip/ip_addr.h"

#include "dname.h"
#include "relay/relay_conf.h"
#include "tls/tls.h"
#include "wipe.h"

static const struct {
	const char *scheme;
	enum relay_tls tls;
	uint16_t port; /* 0: the port must be given */
} schemes[] = {
	{"smtps", RELAY_TLS_IMPLICIT, RELAY_PORT_SUBMISSIONS},
	{"smtp", RELAY_TLS_STARTTLS, RELAY_PORT_SUBMISSION},
	{"smtp+plain", RELAY_TLS_NONE, 0},
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Dotted quad only: lwIP would also take "127.1" or octal parts. */
static int
ipv4_ok(const char *s, size_t len)
{
	size_t i, parts = 1, digits = 0;
	unsigned v = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (digits == 0 || ++parts > 4)
				return 0;
			digits = 0;
			v = 0;
			continue;
		}
		if (!is_digit(s[i]) || (digits == 1 && v == 0))
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (++digits > 3 || v > 255)
			return 0;
	}
	return parts == 4 && digits > 0;
}

/* An address of text s[0..len) into rc->addr. Returns 0 or -1. */
static int
literal_load(struct relay_conf *rc, const char *s, size_t len, int v6)
{
	char buf[48];
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	for (i = 0; i < len; i++) {
		if (v6 && !is_digit(s[i]) && s[i] != ':' && s[i] != '.' &&
			!(s[i] >= 'a' && s[i] <= 'f') &&
			!(s[i] >= 'A' && s[i] <= 'F'))
			return -1;
	}
	if (!v6 && !ipv4_ok(s, len))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!ipaddr_aton(buf, &rc->addr))
		return -1;
	if (v6 != IP_IS_V6(&rc->addr))
		return -1;
	memcpy(rc->host, buf, len + 1);
	rc->is_literal = 1;
	return 0;
}

/* All digits and dots: meant as an IPv4 address, not a name. */
static int
looks_numeric(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]) && s[i] != '.')
			return 0;
	}
	return 1;
}

static int
host_load(struct relay_conf *rc, const char *s, size_t len)
{
	if (len > 0 && s[0] == '[') {
		if (len < 3 || s[len - 1] != ']')
			return -1;
		return literal_load(rc, s + 1, len - 2, 1);
	}
	if (looks_numeric(s, len))
		return literal_load(rc, s, len, 0);
	if (!dname_valid(s, len))
		return -1;
	memcpy(rc->host, s, len);
	rc->host[len] = '\0';
	return 0;
}

/* 1 to 65535, plain decimal: no sign, no leading zero. */
static int
port_load(struct relay_conf *rc, const char *s, size_t len)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5 || s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	rc->port = (uint16_t)v;
	return 0;
}

static int
scheme_load(struct relay_conf *rc, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].scheme) == len &&
			strncasecmp(s, schemes[i].scheme, len) == 0) {
			rc->tls = schemes[i].tls;
			rc->port = schemes[i].port;
			return 0;
		}
	}
	return -1;
}

static int
loopback(const struct relay_conf *rc)
{
	if (!rc->is_literal)
		return 0;
	if (IP_IS_V6(&rc->addr))
		return ip6_addr_isloopback(ip_2_ip6(&rc->addr));
	return ip4_addr_isloopback(ip_2_ip4(&rc->addr));
}

static int
fail(char *err, size_t errlen, const char *url, const char *why)
{
	snprintf(err, errlen, "relay: '%s': %s", url, why);
	return -1;
}

/* After "scheme://": host, maybe ":port", maybe one "/". */
static int
authority_load(struct relay_conf *rc, const char *url, const char *s, char *err,
	size_t errlen)
{
	size_t len = strlen(s), hostlen;
	const char *colon;

	if (len > 0 && s[len - 1] == '/')
		len--;
	if (memchr(s, '@', len) != NULL)
		return fail(err, errlen, url,
			"put credentials in relay_credentials, not the URL");
	if (memchr(s, '/', len) != NULL || memchr(s, '?', len) != NULL)
		return fail(err, errlen, url, "no path or query is allowed");
	if (len > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', len);

		hostlen = end != NULL ? (size_t)(end - s) + 1 : len;
	} else {
		colon = memchr(s, ':', len);
		hostlen = colon != NULL ? (size_t)(colon - s) : len;
	}
	if (host_load(rc, s, hostlen) != 0)
		return fail(err, errlen, url,
			"host must be a domain name, an IPv4 address or "
			"an [IPv6] address");
	if (hostlen < len &&
		(s[hostlen] != ':' ||
			port_load(rc, s + hostlen + 1, len - hostlen - 1) != 0))
		return fail(err, errlen, url, "port must be 1 to 65535");
	if (rc->port == 0)
		return fail(err, errlen, url,
			"smtp+plain needs a port: smtp+plain://127.0.0.1:PORT");
	return 0;
}

int
relay_conf_url(struct relay_conf *rc, const char *url, char *err, size_t errlen)
{
	const char *sep = strstr(url, "://");
	size_t i;

	rc->srv = 0;
	rc->is_literal = 0;
	rc->port = 0;
	rc->host[0] = '\0';
	for (i = 0; url[i] != '\0'; i++) {
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			return fail(err, errlen, url,
				"spaces and control characters are not "
				"allowed");
	}
	if (sep == NULL) {
		/* RFC 6186: a domain whose SRV records name the upstream. */
		if (looks_numeric(url, i) || host_load(rc, url, i) != 0)
			return fail(err, errlen, url,
				"want smtps://host[:port], smtp://host[:port], "
				"smtp+plain://127.0.0.1:port or a domain");
		rc->srv = 1;
		rc->tls = RELAY_TLS_IMPLICIT;
		return 0;
	}
	if (scheme_load(rc, url, (size_t)(sep - url)) != 0)
		return fail(err, errlen, url,
			"scheme must be smtps, smtp or smtp+plain");
	if (authority_load(rc, url, sep + 3, err, errlen) != 0)
		return -1;
	/* Plaintext only where nobody can listen in: this very host. */
	if (rc->tls == RELAY_TLS_NONE && !loopback(rc))
		return fail(err, errlen, url,
			"smtp+plain is only for a loopback address "
			"(127.0.0.0/8 or [::1]); use smtps:// or smtp://");
	return 0;
}

void
relay_conf_wipe(struct relay_conf *rc)
{
	wipe(rc->password, sizeof(rc->password));
}

/* Read at most cap - 1 bytes; -1 with errno, or cap when there is more. */
static ssize_t
read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* "user:password" in buf[0..len), one line ending in LF, CRLF or not. */
static const char *
credentials_parse(struct relay_conf *rc, char *buf, size_t len)
{
	const char *colon;
	size_t i, ulen, plen;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++) {
		if ((unsigned char)buf[i] < ' ' || buf[i] == 0x7f)
			return "want one line, username:password";
	}
	colon = memchr(buf, ':', len);
	if (colon == NULL)
		return "want username:password";
	ulen = (size_t)(colon - buf);
	plen = len - ulen - 1;
	if (ulen == 0 || plen == 0)
		return "username and password must not be empty";
	if (ulen > RELAY_USER_MAX || plen > RELAY_PASSWORD_MAX)
		return "username or password longer than 255 bytes";
	memcpy(rc->user, buf, ulen);
	rc->user[ulen] = '\0';
	memcpy(rc->password, colon + 1, plen);
	rc->password[plen] = '\0';
	rc->has_credentials = 1;
	return NULL;
}

/* The file's mode and kind, refused before a byte of it is read. */
static const char *
credentials_mode(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return strerror(errno);
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (st.st_mode & (S_IRGRP | S_IROTH))
		return "readable by others; chmod 600";
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return "writable by others; chmod 600";
	return NULL;
}

int
relay_conf_credentials(
	struct relay_conf *rc, const char *path, char *err, size_t errlen)
{
	char buf[RELAY_CREDENTIALS_FILE_MAX];
	const char *why;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	rc->has_credentials = 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	why = credentials_mode(fd);
	if (why == NULL) {
		n = read_all(fd, buf, sizeof(buf));
		if (n < 0)
			why = strerror(errno);
		else if ((size_t)n == sizeof(buf))
			why = "too long for one username:password line";
		else
			why = credentials_parse(rc, buf, (size_t)n);
		wipe(buf, sizeof(buf));
	}
	close(fd);
	if (why == NULL)
		return 0;
	relay_conf_wipe(rc);
	snprintf(err, errlen, "%s: %s", path, why);
	return -1;
}

static int
given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* Which trust the upstream's certificate is checked against. */
static int
trust_load(struct relay_conf *rc, const char *ca, const char *pin, char *err,
	size_t errlen)
{
	if (rc->tls == RELAY_TLS_NONE)
		return 0;
	if (given(ca) && given(pin)) {
		snprintf(err, errlen, "relay_ca and relay_pin: give one");
		return -1;
	}
	if (given(pin)) {
		if (tls_pin_parse(pin, rc->pin) != 0) {
			snprintf(err, errlen,
				"relay_pin: want 64 hex digits or "
				"sha256//BASE64");
			return -1;
		}
		rc->pinned = 1;
		return 0;
	}
	/*
	 * Neither given: the system bundle, where Debian and OpenWrt's
	 * ca-bundle package put it.
	 */
	if (!given(ca))
		ca = RELAY_CA_DEFAULT;
	if (strlen(ca) >= sizeof(rc->ca_path)) {
		snprintf(err, errlen, "relay_ca: path too long");
		return -1;
	}
	if (rc->is_literal) {
		snprintf(err, errlen,
			"relay: a certificate names hosts, not addresses: "
			"use a host name or relay_pin with %s",
			rc->host);
		return -1;
	}
	memcpy(rc->ca_path, ca, strlen(ca) + 1);
	return 0;
}

int
relay_conf_make(struct relay_conf *rc, const char *relay,
	const char *credentials, const char *ca, const char *pin, char *err,
	size_t errlen)
{
	memset(rc, 0, sizeof(*rc));
	if (!given(relay)) {
		snprintf(err, errlen, "relay: not configured");
		return -1;
	}
	if (relay_conf_url(rc, relay, err, errlen) != 0 ||
		trust_load(rc, ca, pin, err, errlen) != 0)
		return -1;
	if (given(credentials) &&
		relay_conf_credentials(rc, credentials, err, errlen) != 0)
		return -1;
	return 0;
}

int
relay_conf_tls(const struct relay_conf *rc, struct tls_client_config **out,
	char *err, size_t errlen)
{
	*out = NULL;
	if (rc->tls == RELAY_TLS_NONE && !rc->srv)
		return 0;
	if (rc->pinned)
		*out = tls_client_config_pin(rc->pin);
	else
		*out = tls_client_config_load_ca(rc->ca_path, err, errlen);
	if (*out == NULL && rc->pinned)
		snprintf(err, errlen, "relay_pin: out of memory");
	return *out == NULL ? -1 : 0;
}
