/*
 * postlet.conf parser: known answers for good lines, the exact message for
 * bad ones, defaults, the checks across directives and reading files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "testfile.h"
#include "log.h"

#define NAME "t.conf"

static const char *const level_names[] = {"error", "warning", "info", "debug"};

/* Append one "key=value" line to out; cmocka catches any overflow. */
static void __attribute__((format(printf, 3, 4)))
add(char *out, size_t size, const char *fmt, ...)
{
	size_t len = strlen(out);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out + len, size - len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < size - len);
}

/* All of c as text, one "key=value" a line, for the known-answer table. */
static void
dump(const struct conf *c, char *out, size_t size)
{
	size_t i;

	out[0] = '\0';
	add(out, size, "hostname=%s\n", c->hostname);
	for (i = 0; i < c->nlisten; i++)
		add(out, size, "listen=%s %d %u %s\n", c->listen[i].addr,
			c->listen[i].family, c->listen[i].port,
			c->listen[i].tls == CONF_TLS_IMPLICIT ? "tls"
							      : "starttls");
	add(out, size, "certificate=%s\nkey=%s\n", c->certificate, c->key);
	add(out, size, "max_sessions=%u\ntimeout_idle=%u\n", c->max_sessions,
		c->timeout_idle);
	add(out, size, "tls_session_cache=%u\ntls_record_size=%u\n",
		c->tls_session_cache, c->tls_record_size);
	add(out, size, "backend=%s\n",
		c->backend == CONF_BACKEND_TAP ? "tap" : "host");
	add(out, size, "tap_device=%s\n", c->tap.device);
	if (c->tap.dhcp)
		add(out, size, "tap_address4=dhcp\n");
	else if (c->tap.addr4[0] != '\0')
		add(out, size, "tap_address4=%s/%u\n", c->tap.addr4,
			c->tap.prefix4);
	add(out, size, "tap_gateway4=%s\n", c->tap.gateway4);
	if (c->tap.addr6[0] != '\0')
		add(out, size, "tap_address6=%s/%u\n", c->tap.addr6,
			c->tap.prefix6);
	add(out, size, "log=%s\nlog_level=%s\n",
		c->log_syslog ? "syslog" : "stderr", level_names[c->log_level]);
	add(out, size, "domain=%s\nusers=%s\nrelay=%s\n", c->domain, c->users,
		c->relay);
	add(out, size, "relay_credentials=%s\nrelay_ca=%s\nrelay_pin=%s\n",
		c->relay_credentials, c->relay_ca, c->relay_pin);
	add(out, size, "max_message_size=%lu\nmax_recipients=%u\n",
		c->max_message_size, c->max_recipients);
	add(out, size, "max_sessions_per_client=%u\n",
		c->max_sessions_per_client);
	add(out, size, "rate_messages=%u\nrate_recipients=%u\n",
		c->rate_messages, c->rate_recipients);
	add(out, size, "add_to=%d\nreceived_client_address=%d\n", c->add_to,
		c->received_client_address);
}

static int
parse(struct conf *c, const char *text, char *err)
{
	conf_defaults(c);
	return conf_parse(c, NAME, text, strlen(text), err, CONF_ERROR_MAX);
}

/* 250 bytes of one-letter labels, to reach the 253-byte limit. */
#define A10 "a.a.a.a.a."
#define A250 \
	A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 \
		A10 A10 A10 A10 A10 A10 A10 A10

struct good {
	const char *text;
	const char *want; /* one whole line of dump() */
};

static const struct good goods[] = {
	{"hostname mail.example.org", "hostname=mail.example.org"},
	{"hostname a", "hostname=a"},
	{"hostname 4u-2.example", "hostname=4u-2.example"},
	{"hostname " A250 "a.a", "hostname=" A250 "a.a"},
	{"hostname\tMX1.Example.ORG  ", "hostname=MX1.Example.ORG"},
	{"listen 127.0.0.1:587", "listen=127.0.0.1 4 587 starttls"},
	{"listen 127.0.0.1:465", "listen=127.0.0.1 4 465 tls"},
	{"listen [::1]:465 tls", "listen=::1 6 465 tls"},
	{"listen [::1]:465 starttls", "listen=::1 6 465 starttls"},
	{"listen *:587", "listen=0.0.0.0 4 587 starttls"},
	{"listen *:2525 tls", "listen=0.0.0.0 4 2525 tls"},
	{"listen [::]:587", "listen=:: 6 587 starttls"},
	{"listen [0:0:0:0:0:0:0:1]:1", "listen=::1 6 1 starttls"},
	{"listen [2001:DB8::25]:65535", "listen=2001:db8::25 6 65535 starttls"},
	{"listen 192.0.2.1:587 # submission",
		"listen=192.0.2.1 4 587 starttls"},
	{"certificate /etc/postlet/cert.pem",
		"certificate=/etc/postlet/cert.pem"},
	{"certificate cert#1.pem", "certificate=cert#1.pem"},
	{"key /etc/postlet/key.pem", "key=/etc/postlet/key.pem"},
	{"max_sessions 1", "max_sessions=1"},
	{"max_sessions 1024", "max_sessions=1024"},
	{"timeout_idle 10", "timeout_idle=10"},
	{"timeout_idle 3600", "timeout_idle=3600"},
	{"tls_session_cache 0", "tls_session_cache=0"},
	{"tls_session_cache 4096", "tls_session_cache=4096"},
	{"tls_record_size 512", "tls_record_size=512"},
	{"tls_record_size 16384", "tls_record_size=16384"},
	{"backend tap", "backend=tap"},
	{"backend host", "backend=host"},
	{"tap_device tap-postlet_1", "tap_device=tap-postlet_1"},
	{"tap_device abcdefghijklmno", "tap_device=abcdefghijklmno"},
	{"tap_address4 dhcp", "tap_address4=dhcp"},
	{"tap_address4 192.0.2.2/24", "tap_address4=192.0.2.2/24"},
	{"tap_address4 10.1.2.3/32", "tap_address4=10.1.2.3/32"},
	{"tap_gateway4 192.0.2.1", "tap_gateway4=192.0.2.1"},
	{"tap_address6 2001:db8:0::2/64", "tap_address6=2001:db8::2/64"},
	{"tap_address6 fd00::2/128", "tap_address6=fd00::2/128"},
	{"log stderr", "log=stderr"},
	{"log syslog", "log=syslog"},
	{"log_level error", "log_level=error"},
	{"log_level warning", "log_level=warning"},
	{"log_level debug", "log_level=debug"},
	{"\xef\xbb\xbfmax_sessions 3", "max_sessions=3"},
	{"  # only a comment\n\nmax_sessions 5\r\n", "max_sessions=5"},
	{"max_sessions 6 #comment", "max_sessions=6"},
	{"max_sessions 7#", NULL}, /* refused: '#' inside a word */
	{"domain example.org", "domain=example.org"},
	{"domain Example", "domain=Example"},
	{"hostname mail.example.org", "domain=example.org"},
	{"hostname mail.example.org\ndomain other.example",
		"domain=other.example"},
	{"domain other.example\nhostname mail.example.org",
		"domain=other.example"},
	{"hostname example.org", "domain=example.org"},
	{"hostname a.b.c.d", "domain=b.c.d"},
	{"hostname OpenWrt", "domain=OpenWrt"},
	{"users /etc/postlet/users.txt", "users=/etc/postlet/users.txt"},
	{"relay smtps://smtp.example.org:465",
		"relay=smtps://smtp.example.org:465"},
	{"relay smtp://[2001:db8::1]:587", "relay=smtp://[2001:db8::1]:587"},
	{"relay smtp+plain://127.0.0.1:2525",
		"relay=smtp+plain://127.0.0.1:2525"},
	{"relay example.org", "relay=example.org"},
	{"relay_credentials /etc/postlet/relay",
		"relay_credentials=/etc/postlet/relay"},
	{"relay_ca /etc/ssl/ca.pem", "relay_ca=/etc/ssl/ca.pem"},
	{"relay_pin sha256//n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
		"relay_pin=sha256//n4bQgYhMfWWaL+qgxVrQFaO/"
		"TxsrC4Is0V1sFbDwCgg="},
	{"relay_pin 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0"
	 "f00a08",
		"relay_pin="
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c"
		"15b0f00a08"},
	{"max_message_size 1024", "max_message_size=1024"},
	{"max_message_size 2147483647", "max_message_size=2147483647"},
	{"max_recipients 1", "max_recipients=1"},
	{"max_recipients 1000", "max_recipients=1000"},
	{"max_sessions_per_client 1", "max_sessions_per_client=1"},
	{"max_sessions 1024\nmax_sessions_per_client 1024",
		"max_sessions_per_client=1024"},
	{"max_sessions 2", "max_sessions_per_client=2"}, /* follows */
	{"max_sessions 2\nmax_sessions_per_client 3",
		"max_sessions_per_client=3"}, /* conf_check refuses it */
	{"rate_messages 0", "rate_messages=0"},
	{"rate_messages 100000", "rate_messages=100000"},
	{"rate_recipients 0", "rate_recipients=0"},
	{"rate_recipients 1000000", "rate_recipients=1000000"},
	{"add_to no", "add_to=0"},
	{"add_to yes", "add_to=1"},
	{"received_client_address yes", "received_client_address=1"},
	{"received_client_address no", "received_client_address=0"},
};

static int
has_line(const char *dumped, const char *line)
{
	size_t len = strlen(line);
	const char *p = dumped;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == dumped || p[-1] == '\n') && p[len] == '\n')
			return 1;
		p++;
	}
	return 0;
}

static void
test_good_lines(void **state)
{
	char err[CONF_ERROR_MAX], text[4096];
	struct conf c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		int rc = parse(&c, goods[i].text, err);

		if (goods[i].want == NULL) {
			assert_int_equal(rc, -1);
			continue;
		}
		if (rc != 0)
			fail_msg("'%s': %s", goods[i].text, err);
		dump(&c, text, sizeof(text));
		if (!has_line(text, goods[i].want))
			fail_msg("'%s' gave\n%s", goods[i].text, text);
	}
}

struct bad {
	const char *text;
	const char *err;
};

static const struct bad bads[] = {
	{"foo bar", NAME ":1: unknown directive 'foo'"},
	{"Hostname x", NAME ":1: unknown directive 'Hostname'"},
	{"# c\n\n  \t\nfoo\n", NAME ":4: unknown directive 'foo'"},
	{"# c\r\n\r\nmax_sessions 0\r\n",
		NAME ":3: 'max_sessions' wants a number from 1 to 1024"},
	{"max_sessions 1025",
		NAME ":1: 'max_sessions' wants a number from 1 to 1024"},
	{"max_sessions -1",
		NAME ":1: 'max_sessions' wants a number from 1 to 1024"},
	{"max_sessions +8",
		NAME ":1: 'max_sessions' wants a number from 1 to 1024"},
	{"max_sessions 08",
		NAME ":1: 'max_sessions' wants a number from 1 to 1024"},
	{"max_sessions 8k",
		NAME ":1: 'max_sessions' wants a number from 1 to 1024"},
	{"max_sessions 0x10",
		NAME ":1: 'max_sessions' wants a number from 1 to 1024"},
	{"max_sessions 4294967297",
		NAME ":1: 'max_sessions' wants a number from 1 to 1024"},
	{"max_sessions 99999999999999999999",
		NAME ":1: 'max_sessions' wants a number from 1 to 1024"},
	{"max_sessions 7#",
		NAME ":1: 'max_sessions' wants a number from 1 to 1024"},
	{"max_sessions", NAME ":1: 'max_sessions' is missing its value"},
	{"max_sessions # 8", NAME ":1: 'max_sessions' is missing its value"},
	{"max_sessions 8 9",
		NAME ":1: 'max_sessions': unexpected '9' after the value"},
	{"timeout_idle 9",
		NAME ":1: 'timeout_idle' wants a number from 10 to 3600"},
	{"timeout_idle 3601",
		NAME ":1: 'timeout_idle' wants a number from 10 to 3600"},
	{"tls_session_cache 4097",
		NAME ":1: 'tls_session_cache' wants a number from 0 to 4096"},
	{"tls_record_size 511",
		NAME ":1: 'tls_record_size' wants a number from 512 to 16384"},
	{"tls_record_size 16385",
		NAME ":1: 'tls_record_size' wants a number from 512 to 16384"},
	{"listen localhost:587",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen 127.0.0.1",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen 127.0.0.1:0",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen 127.0.0.1:65536",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen 127.0.0.1:",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen :587", NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen ::1:587",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen [::1]587",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen [::1:587",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen [127.0.0.1]:587",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen [*]:587",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen [fe80::1%eth0]:587",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen 127.0.0.1:587:1",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen 127.1:587",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen 127.0.0.1:587 ssl",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen 127.0.0.1:587 TLS",
		NAME ":1: 'listen' wants ADDRESS:PORT [starttls|tls]"},
	{"listen 127.0.0.1:587 tls x",
		NAME ":1: 'listen': unexpected 'x' after the value"},
	{"listen", NAME ":1: 'listen' is missing its value"},
	{"listen *:587\nlisten 0.0.0.0:587 tls",
		NAME ":2: duplicate 'listen' 0.0.0.0:587"},
	{"listen [::1]:25\nlisten [0::1]:25",
		NAME ":2: duplicate 'listen' [0::1]:25"},
	{"listen *:1\nlisten *:2\nlisten *:3\nlisten *:4\nlisten *:5\n"
	 "listen *:6\nlisten *:7\nlisten *:8\nlisten *:9\n",
		NAME ":9: 'listen' may appear at most 8 times"},
	{"certificate a\ncertificate b", NAME ":2: duplicate 'certificate'"},
	{"key a\n# x\nkey a", NAME ":3: duplicate 'key'"},
	{"certificate", NAME ":1: 'certificate' is missing its value"},
	{"certificate a b",
		NAME ":1: 'certificate': unexpected 'b' after the value"},
	{"hostname -a.example",
		NAME ":1: 'hostname' wants a domain name of letters, digits, "
		     "hyphens and dots"},
	{"hostname a-.example",
		NAME ":1: 'hostname' wants a domain name of letters, digits, "
		     "hyphens and dots"},
	{"hostname a..example",
		NAME ":1: 'hostname' wants a domain name of letters, digits, "
		     "hyphens and dots"},
	{"hostname example.",
		NAME ":1: 'hostname' wants a domain name of letters, digits, "
		     "hyphens and dots"},
	{"hostname mail_1.example",
		NAME ":1: 'hostname' wants a domain name of letters, digits, "
		     "hyphens and dots"},
	{"hostname 1234567890123456789012345678901234567890123456789012345678"
	 "901234.example",
		NAME ":1: 'hostname' wants a domain name of letters, digits, "
		     "hyphens and dots"},
	{"hostname " A250 "a.ab",
		NAME ":1: 'hostname' wants a domain name of letters, digits, "
		     "hyphens and dots"},
	{"hostname a b", NAME ":1: 'hostname': unexpected 'b' after the value"},
	{"backend kernel", NAME ":1: 'backend' wants host or tap"},
	{"log file", NAME ":1: 'log' wants syslog or stderr"},
	{"log_level notice",
		NAME ":1: 'log_level' wants error, warning, info or debug"},
	{"tap_device abcdefghijklmnop",
		NAME ":1: 'tap_device' wants an interface name of 1 to 15 "
		     "letters, digits, '-', '_' or '.'"},
	{"tap_device ..",
		NAME ":1: 'tap_device' wants an interface name of 1 to 15 "
		     "letters, digits, '-', '_' or '.'"},
	{"tap_device tap/0",
		NAME ":1: 'tap_device' wants an interface name of 1 to 15 "
		     "letters, digits, '-', '_' or '.'"},
	{"tap_address4 192.0.2.2",
		NAME ":1: 'tap_address4' wants dhcp or A.B.C.D/LEN"},
	{"tap_address4 192.0.2.2/33",
		NAME ":1: 'tap_address4' wants dhcp or A.B.C.D/LEN"},
	{"tap_address4 192.0.2.2/0",
		NAME ":1: 'tap_address4' wants dhcp or A.B.C.D/LEN"},
	{"tap_address4 0.0.0.0/8",
		NAME ":1: 'tap_address4' wants dhcp or A.B.C.D/LEN"},
	{"tap_address4 224.0.0.1/4",
		NAME ":1: 'tap_address4' wants dhcp or A.B.C.D/LEN"},
	{"tap_address4 127.0.0.2/8",
		NAME ":1: 'tap_address4' wants dhcp or A.B.C.D/LEN"},
	{"tap_address4 DHCP",
		NAME ":1: 'tap_address4' wants dhcp or A.B.C.D/LEN"},
	{"tap_address4 2001:db8::1/64",
		NAME ":1: 'tap_address4' wants dhcp or A.B.C.D/LEN"},
	{"tap_gateway4 gw.example",
		NAME ":1: 'tap_gateway4' wants an IPv4 address A.B.C.D"},
	{"tap_gateway4 255.255.255.255",
		NAME ":1: 'tap_gateway4' wants an IPv4 address A.B.C.D"},
	{"tap_address6 2001:db8::2",
		NAME ":1: 'tap_address6' wants X:X::X/LEN"},
	{"tap_address6 2001:db8::2/129",
		NAME ":1: 'tap_address6' wants X:X::X/LEN"},
	{"tap_address6 ::1/128", NAME ":1: 'tap_address6' wants X:X::X/LEN"},
	{"tap_address6 ff02::1/64", NAME ":1: 'tap_address6' wants X:X::X/LEN"},
	{"tap_address6 192.0.2.2/24",
		NAME ":1: 'tap_address6' wants X:X::X/LEN"},
	{"log stderr\nlog syslog", NAME ":2: duplicate 'log'"},
	{"hostname a\x01 b", NAME ":1: unexpected control byte 0x01"},
	{"# ok\nhostname a\rb\n", NAME ":2: unexpected control byte 0x0d"},
	{"hostname a\r\r\n", NAME ":1: unexpected control byte 0x0d"},
	{"hostname a\x7f", NAME ":1: unexpected control byte 0x7f"},
	{"\xef\xbb\xbf\xef\xbb\xbfhostname a",
		NAME ":1: unknown directive '\xef\xbb\xbfhostname'"},
	{"domain example.org.",
		NAME ":1: 'domain' wants a domain name of letters, digits, "
		     "hyphens and dots"},
	{"domain *.example.org",
		NAME ":1: 'domain' wants a domain name of letters, digits, "
		     "hyphens and dots"},
	{"domain a\ndomain b", NAME ":2: duplicate 'domain'"},
	{"users", NAME ":1: 'users' is missing its value"},
	{"users /a /b", NAME ":1: 'users': unexpected '/b' after the value"},
	{"relay", NAME ":1: 'relay' is missing its value"},
	{"relay smtp://a b",
		NAME ":1: 'relay': unexpected 'b' after the value"},
	{"relay " A250 A10,
		NAME
		":1: 'relay' wants smtp://HOST[:PORT], smtps://HOST[:PORT], "
		"smtp+plain://127.0.0.1:PORT or a domain"},
	{"relay_pin " A250,
		NAME ":1: 'relay_pin' wants 64 hex digits or sha256//BASE64"},
	{"relay_ca " A250 A10,
		NAME ":1: 'relay_ca' wants a path of at most 255 bytes"},
	{"relay_credentials",
		NAME ":1: 'relay_credentials' is missing its "
		     "value"},
	{"max_message_size 1023",
		NAME ":1: 'max_message_size' wants a number from 1024 to "
		     "2147483647"},
	{"max_message_size 2147483648",
		NAME ":1: 'max_message_size' wants a number from 1024 to "
		     "2147483647"},
	{"max_message_size 25M",
		NAME ":1: 'max_message_size' wants a number from 1024 to "
		     "2147483647"},
	{"max_recipients 0",
		NAME ":1: 'max_recipients' wants a number from 1 to 1000"},
	{"max_recipients 1001",
		NAME ":1: 'max_recipients' wants a number from 1 to 1000"},
	{"max_sessions_per_client 0",
		NAME ":1: 'max_sessions_per_client' wants a number from 1 to "
		     "1024"},
	{"rate_messages 100001",
		NAME ":1: 'rate_messages' wants a number from 0 to 100000"},
	{"rate_recipients 1000001",
		NAME ":1: 'rate_recipients' wants a number from 0 to 1000000"},
	{"add_to 1", NAME ":1: 'add_to' wants yes or no"},
	{"add_to YES", NAME ":1: 'add_to' wants yes or no"},
	{"received_client_address true",
		NAME ":1: 'received_client_address' wants yes or no"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		NAME ":1: unknown directive "
		     "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"},
};

static void
test_bad_lines(void **state)
{
	char err[CONF_ERROR_MAX];
	struct conf c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		if (parse(&c, bads[i].text, err) != -1)
			fail_msg("accepted '%s'", bads[i].text);
		if (strcmp(err, bads[i].err) != 0)
			fail_msg("'%s': got \"%s\", want \"%s\"", bads[i].text,
				err, bads[i].err);
	}
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "# a\nhostname a\0b\n";
	char err[CONF_ERROR_MAX];
	struct conf c;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(
		conf_parse(&c, NAME, text, sizeof(text) - 1, err, sizeof(err)),
		-1);
	assert_string_equal(err, NAME ":2: unexpected control byte 0x00");
}

/* A line of exactly n bytes before its line ending. */
static char *
long_line(size_t n, const char *ending)
{
	size_t len = strlen(ending);
	char *s = malloc(n + len + 1);

	assert_non_null(s);
	memcpy(s, "# ", 2);
	memset(s + 2, 'x', n - 2);
	memcpy(s + n, ending, len + 1);
	return s;
}

static void
test_line_length(void **state)
{
	char err[CONF_ERROR_MAX];
	struct conf c;
	char *s;

	(void)state;
	s = long_line(1023, "\r\nmax_sessions 2\n");
	assert_int_equal(parse(&c, s, err), 0);
	assert_int_equal(c.max_sessions, 2);
	free(s);

	s = long_line(1023, "");
	assert_int_equal(parse(&c, s, err), 0);
	free(s);

	s = long_line(1024, "\nmax_sessions 2\n");
	assert_int_equal(parse(&c, s, err), -1);
	assert_string_equal(err, NAME ":1: line longer than 1023 bytes");
	free(s);

	s = long_line(1024, "");
	assert_int_equal(parse(&c, s, err), -1);
	assert_string_equal(err, NAME ":1: line longer than 1023 bytes");
	free(s);
}

static void
test_defaults(void **state)
{
	char err[CONF_ERROR_MAX];
	struct conf c;
	char host[256];

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	conf_defaults(&c);
	assert_int_equal(c.nlisten, 0);
	assert_string_equal(c.certificate, "");
	assert_string_equal(c.key, "");
	assert_int_equal(c.max_sessions, 8);
	assert_int_equal(c.timeout_idle, 300);
	assert_int_equal(c.tls_session_cache, 64);
	assert_int_equal(c.tls_record_size, 4096);
	assert_int_equal(c.backend, CONF_BACKEND_HOST);
	assert_string_equal(c.tap.device, "tap0");
	assert_int_equal(c.tap.dhcp, 0);
	assert_string_equal(c.tap.addr4, "");
	assert_string_equal(c.tap.gateway4, "");
	assert_string_equal(c.tap.addr6, "");
	assert_int_equal(c.log_syslog, 1);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_string_equal(c.users, "/etc/postlet/users");
	assert_string_equal(c.relay, "");
	assert_string_equal(c.relay_credentials, "");
	assert_string_equal(c.relay_ca, "");
	assert_string_equal(c.relay_pin, "");
	assert_int_equal(c.max_message_size, 26214400);
	assert_int_equal(c.max_recipients, 100);
	assert_int_equal(c.max_sessions_per_client, 4);
	assert_int_equal(c.rate_messages, 200);
	assert_int_equal(c.rate_recipients, 1000);
	assert_int_equal(c.add_to, 1);
	assert_int_equal(c.received_client_address, 0);
	assert_true(strlen(c.domain) > 0);
	assert_non_null(strstr(c.hostname, c.domain));

	/* The machine's name when it is a valid one, else "localhost". */
	if (gethostname(host, sizeof(host)) == 0 && host[0] != '\0' &&
		strcmp(c.hostname, "localhost") != 0)
		assert_string_equal(c.hostname, host);

	/* Nothing but comments leaves the defaults as they were. */
	assert_int_equal(parse(&c, "# nothing\n\n", err), 0);
	assert_int_equal(c.max_sessions, 8);
	assert_int_equal(parse(&c, "", err), 0);
}

static void
test_refused_keeps_conf(void **state)
{
	char err[CONF_ERROR_MAX];
	struct conf c;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, NAME, "max_sessions 9\nfoo\n", 19, err,
				 sizeof(err)),
		-1);
	assert_int_equal(c.max_sessions, 8);
}

static void
test_error_buffer(void **state)
{
	char err[12];
	struct conf c;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, NAME, "foo", 3, err, sizeof(err)), -1);
	assert_string_equal(err, NAME ":1: u");
	assert_int_equal(conf_parse(&c, NAME, "foo", 3, NULL, 0), -1);
}

struct check {
	const char *text;
	const char *err; /* NULL: passes */
};

#define BASE "certificate c.pem\nkey k.pem\nlisten *:587\n"

static const struct check checks[] = {
	{BASE, NULL},
	{BASE "listen [::]:587\nlisten *:465\n", NULL},
	{"certificate c.pem\nkey k.pem\n",
		NAME ": at least one 'listen' is required"},
	{"key k.pem\nlisten *:587\n", NAME ": 'certificate' is required"},
	{"certificate c.pem\nlisten *:587\n", NAME ": 'key' is required"},
	{BASE "backend tap\n", NAME ": 'backend tap' requires 'tap_address4'"},
	{BASE "backend tap\ntap_address4 dhcp\n", NULL},
	{BASE "backend tap\ntap_address4 192.0.2.2/24\n"
	      "tap_gateway4 192.0.2.1\ntap_address6 2001:db8::2/64\n",
		NULL},
	{BASE "backend tap\ntap_address4 dhcp\ntap_gateway4 192.0.2.1\n",
		NAME ": 'tap_gateway4' requires a static 'tap_address4'"},
	{BASE "backend tap\ntap_address4 192.0.2.2/24\n"
	      "tap_gateway4 192.0.3.1\n",
		NAME ": 'tap_gateway4' is outside the network of "
		     "'tap_address4'"},
	{BASE "tap_address4 10.0.0.2/8\ntap_gateway4 10.255.0.1\n", NULL},
	{BASE "tap_address4 10.0.0.2/32\ntap_gateway4 10.0.0.3\n",
		NAME ": 'tap_gateway4' is outside the network of "
		     "'tap_address4'"},
	{BASE "max_sessions 4\nmax_sessions_per_client 4\n", NULL},
	{BASE "max_sessions 2\n", NULL},
	{BASE "max_sessions 4\nmax_sessions_per_client 5\n",
		NAME ": 'max_sessions_per_client' is larger than "
		     "'max_sessions'"},
	{BASE "max_sessions_per_client 9\n",
		NAME ": 'max_sessions_per_client' is larger than "
		     "'max_sessions'"},
	/* Only tap cares for tap settings, but they are still checked. */
	{BASE "tap_gateway4 192.0.2.1\n",
		NAME ": 'tap_gateway4' requires a static 'tap_address4'"},
};

static void
test_check(void **state)
{
	char err[CONF_ERROR_MAX];
	struct conf c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (parse(&c, checks[i].text, err) != 0)
			fail_msg("'%s': %s", checks[i].text, err);
		if (checks[i].err == NULL) {
			if (conf_check(&c, NAME, err, sizeof(err)) != 0)
				fail_msg("'%s': %s", checks[i].text, err);
			continue;
		}
		assert_int_equal(conf_check(&c, NAME, err, sizeof(err)), -1);
		assert_string_equal(err, checks[i].err);
	}
}

/* A struct built by hand (not by the parser) with a repeated listener. */
static void
test_check_unique(void **state)
{
	char err[CONF_ERROR_MAX];
	struct conf c;

	(void)state;
	assert_int_equal(parse(&c, BASE, err), 0);
	c.listen[1] = c.listen[0];
	c.nlisten = 2;
	assert_int_equal(conf_check(&c, NAME, err, sizeof(err)), -1);
	assert_string_equal(err, NAME ": two 'listen' share address and port");
	c.listen[1].port = 465;
	assert_int_equal(conf_check(&c, NAME, err, sizeof(err)), 0);
}

/* Write n bytes of s to a new temporary file; returns its path. */
static char *
temp_file(const void *s, size_t n)
{
	static char path[64];

	testfile_make(path, sizeof(path), s, n, 0600);
	return path;
}

static void
test_load(void **state)
{
	static const char text[] = "# example\r\n" BASE "max_sessions 3\n";
	char err[CONF_ERROR_MAX], want[CONF_ERROR_MAX];
	struct conf c;
	char *path;

	(void)state;
	path = temp_file(text, sizeof(text) - 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.max_sessions, 3);
	assert_int_equal(c.timeout_idle, 300);
	assert_int_equal(c.nlisten, 1);
	assert_int_equal(conf_check(&c, path, err, sizeof(err)), 0);
	unlink(path);

	path = temp_file("\n\nfoo 1\n", 8);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: unknown directive 'foo'", path);
	assert_string_equal(err, want);
	assert_int_equal(c.max_sessions, 3); /* kept */
	unlink(path);
}

static void
test_load_missing(void **state)
{
	char err[CONF_ERROR_MAX];
	struct conf c;

	(void)state;
	assert_int_equal(
		conf_load(&c, "/nonexistent/postlet.conf", err, sizeof(err)),
		-1);
	assert_string_equal(
		err, "/nonexistent/postlet.conf: No such file or directory");
	assert_int_equal(conf_load(&c, "/", err, sizeof(err)), -1);
	assert_string_equal(err, "/: Is a directory");
}

static void
test_load_size(void **state)
{
	char err[CONF_ERROR_MAX], want[CONF_ERROR_MAX];
	char *buf = malloc(CONF_FILE_MAX + 1);
	struct conf c;
	char *path;
	size_t i;

	(void)state;
	assert_non_null(buf);
	/* Comment lines of 64 bytes fill 64 KiB exactly. */
	for (i = 0; i < CONF_FILE_MAX; i += 64) {
		memset(buf + i, '#', 63);
		buf[i + 63] = '\n';
	}
	path = temp_file(buf, CONF_FILE_MAX);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), 0);
	unlink(path);

	buf[CONF_FILE_MAX] = '\n';
	path = temp_file(buf, CONF_FILE_MAX + 1);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: larger than 65536 bytes", path);
	assert_string_equal(err, want);
	unlink(path);

	conf_defaults(&c);
	assert_int_equal(
		conf_parse(&c, NAME, buf, CONF_FILE_MAX + 1, err, sizeof(err)),
		-1);
	assert_string_equal(err, NAME ": larger than 65536 bytes");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_lines),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refused_keeps_conf),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_unique),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
