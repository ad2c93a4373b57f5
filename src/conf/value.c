/*
 * Value checkers shared by the directives: strict numbers, host names and
 * IP literals. They judge one token and keep no state.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

#include "conf/conf_impl.h"

#define LABEL_MAX 63 /* RFC 1035 2.3.4 */
#define DOMAIN_MAX 253

int
conf_value_number(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned v = 0;

	/*
	 * strtoul would take a sign, leading spaces and "0x"; a leading zero
	 * is refused too, so "010" cannot be read as octal by a reader.
	 */
	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (v > (UINT_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		(ch >= '0' && ch <= '9');
}

/* One label of s[0..len): RFC 1123 2.1 allows a leading digit. */
static int
label_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > LABEL_MAX)
		return 0;
	if (s[0] == '-' || s[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int
conf_value_domain(const char *s)
{
	size_t len = strlen(s);
	const char *p = s;

	if (len == 0 || len > DOMAIN_MAX)
		return -1;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (!label_ok(p, n))
			return -1;
		if (dot == NULL)
			return 0;
		p = dot + 1;
	}
}

int
conf_value_word(const char *s, const char *const *words)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	return -1;
}

int
conf_value_string(const char *s, char *dst, size_t size)
{
	size_t len = strlen(s);

	if (len == 0 || len >= size)
		return -1;
	memcpy(dst, s, len + 1);
	return 0;
}

int
conf_value_ip(const char *s, int family, char *out, size_t outlen, uint8_t *bin)
{
	int af = family == 6 ? AF_INET6 : AF_INET;

	/* inet_pton takes literals only, so a host name never gets here. */
	if (inet_pton(af, s, bin) != 1)
		return -1;
	if (inet_ntop(af, bin, out, (socklen_t)outlen) == NULL)
		return -1;
	return 0;
}

/*
 * An address an interface can carry: not unspecified, loopback, multicast
 * or (IPv4) broadcast.
 */
static int
unicast_ok(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	if (family == 4)
		return a[0] != 0 && a[0] != 127 && a[0] < 224;
	if (memcmp(a, zero, 16) == 0 || a[0] == 0xff)
		return 0;
	return !(memcmp(a, zero, 15) == 0 && a[15] == 1);
}

int
conf_value_host(const char *s, int family, char *out, size_t outlen)
{
	uint8_t bin[16];

	if (conf_value_ip(s, family, out, outlen, bin) != 0)
		return -1;
	return unicast_ok(family, bin) ? 0 : -1;
}

int
conf_value_prefix(
	const char *s, int family, char *out, size_t outlen, uint8_t *len)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n;
	unsigned v;

	if (slash == NULL)
		return -1;
	n = (size_t)(slash - s);
	if (n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (conf_value_host(addr, family, out, outlen) != 0)
		return -1;
	if (conf_value_number(slash + 1, 1, family == 6 ? 128 : 32, &v) != 0)
		return -1;
	*len = (uint8_t)v;
	return 0;
}

/* Split "[v6]:port" or "v4:port"; host gets the address text. */
static int
split_host_port(const char *s, char *host, size_t hostlen, int *family,
	const char **port)
{
	const char *end;
	size_t n;

	if (s[0] == '[') {
		s++;
		end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		*port = end + 2;
		*family = 6;
	} else {
		end = strchr(s, ':');
		if (end == NULL)
			return -1;
		*port = end + 1;
		*family = 4;
	}
	n = (size_t)(end - s);
	if (n >= hostlen)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

int
conf_value_listen(const char *s, struct conf_listen *l)
{
	char host[INET6_ADDRSTRLEN];
	const char *port;
	uint8_t bin[16];
	unsigned v;

	if (split_host_port(s, host, sizeof(host), &l->family, &port) != 0)
		return -1;
	if (l->family == 4 && strcmp(host, "*") == 0)
		memcpy(host, "0.0.0.0", sizeof("0.0.0.0"));
	if (conf_value_ip(host, l->family, l->addr, sizeof(l->addr), bin) != 0)
		return -1;
	if (conf_value_number(port, 1, 65535, &v) != 0)
		return -1;
	l->port = (uint16_t)v;
	return 0;
}
