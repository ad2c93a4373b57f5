/*
 * The directives of postlet.conf: one table row each, naming the handler
 * that checks and stores its values. Most rows share a handler and say
 * through off, lo and hi which field they fill; README.md (from
 * doc/configuration.md) documents every row.
 */
#include <stddef.h>
#include <string.h>

#include "conf/conf_impl.h"
#include "log.h"

#define FIELD(c, d) ((char *)(c) + (d)->off)

static int
set_number(struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	unsigned *field = (unsigned *)(void *)FIELD(c, d);

	if (conf_value_number(x->argv[1], d->lo, d->hi, field) == 0)
		return 0;
	return conf_error(
		x, "'%s' wants a number from %u to %u", d->name, d->lo, d->hi);
}

static int
set_path(struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	return conf_value_string(x->argv[1], FIELD(c, d), d->hi);
}

/* hostname and domain: a domain name, into a field of d->hi bytes. */
static int
set_domain(struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	if (conf_value_domain(x->argv[1]) != 0)
		return -1;
	return conf_value_string(x->argv[1], FIELD(c, d), d->hi);
}

/*
 * A size in bytes: its range fits unsigned, so the shared number reader
 * serves, and it is stored in an unsigned long for the message path.
 */
static int
set_size(struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	unsigned v;

	if (conf_value_number(x->argv[1], d->lo, d->hi, &v) != 0)
		return conf_error(x, "'%s' wants a number from %u to %u",
			d->name, d->lo, d->hi);
	*(unsigned long *)(void *)FIELD(c, d) = v;
	return 0;
}

static int
set_yes_no(struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	static const char *const words[] = {"no", "yes", NULL};
	int i = conf_value_word(x->argv[1], words);

	if (i < 0)
		return -1;
	*(int *)(void *)FIELD(c, d) = i;
	return 0;
}

static int
same_listen(const struct conf_listen *a, const struct conf_listen *b)
{
	return a->family == b->family && a->port == b->port &&
		strcmp(a->addr, b->addr) == 0;
}

static int
set_listen(struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	static const char *const modes[] = {"starttls", "tls", NULL};
	struct conf_listen l;
	size_t i;
	int mode;

	if (c->nlisten == CONF_LISTEN_MAX)
		return conf_error(x, "'%s' may appear at most %d times",
			d->name, CONF_LISTEN_MAX);
	memset(&l, 0, sizeof(l));
	if (conf_value_listen(x->argv[1], &l) != 0)
		return -1;

	/* RFC 8314 3.3: 465 is the port for TLS from the first byte. */
	l.tls = l.port == 465 ? CONF_TLS_IMPLICIT : CONF_TLS_STARTTLS;
	if (x->argc > 2) {
		mode = conf_value_word(x->argv[2], modes);
		if (mode < 0)
			return -1;
		l.tls = mode == 1 ? CONF_TLS_IMPLICIT : CONF_TLS_STARTTLS;
	}

	for (i = 0; i < c->nlisten; i++)
		if (same_listen(&c->listen[i], &l))
			return conf_error(x, "duplicate '%s' %.*s", d->name,
				CONF_QUOTE_MAX, x->argv[1]);
	c->listen[c->nlisten++] = l;
	return 0;
}

static int
set_backend(struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	static const char *const words[] = {"host", "tap", NULL};
	int i = conf_value_word(x->argv[1], words);

	(void)d;
	if (i < 0)
		return -1;
	c->backend = i == 1 ? CONF_BACKEND_TAP : CONF_BACKEND_HOST;
	return 0;
}

static int
set_log(struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	static const char *const words[] = {"stderr", "syslog", NULL};
	int i = conf_value_word(x->argv[1], words);

	(void)d;
	if (i < 0)
		return -1;
	c->log_syslog = i;
	return 0;
}

static int
set_log_level(
	struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	static const char *const words[] = {
		"error", "warning", "info", "debug", NULL};
	static const enum log_level levels[] = {LOG_LEVEL_ERROR,
		LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG};
	int i = conf_value_word(x->argv[1], words);

	(void)d;
	if (i < 0)
		return -1;
	c->log_level = (int)levels[i];
	return 0;
}

/*
 * Linux takes almost any byte in an interface name; allowing only these
 * keeps a name safe to show in logs and shell commands.
 */
static int
set_tap_device(
	struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	const char *s = x->argv[1];
	size_t i;

	(void)d;
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return -1;
	for (i = 0; s[i] != '\0'; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
			    s[i]))
			return -1;
	return conf_value_string(s, c->tap.device, sizeof(c->tap.device));
}

static int
set_tap_address4(
	struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	(void)d;
	if (strcmp(x->argv[1], "dhcp") == 0) {
		c->tap.dhcp = 1;
		return 0;
	}
	return conf_value_prefix(x->argv[1], 4, c->tap.addr4,
		sizeof(c->tap.addr4), &c->tap.prefix4);
}

static int
set_tap_gateway4(
	struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	(void)d;
	return conf_value_host(
		x->argv[1], 4, c->tap.gateway4, sizeof(c->tap.gateway4));
}

static int
set_tap_address6(
	struct conf_ctx *x, const struct conf_directive *d, struct conf *c)
{
	(void)d;
	return conf_value_prefix(x->argv[1], 6, c->tap.addr6,
		sizeof(c->tap.addr6), &c->tap.prefix6);
}

/*
 * Rows: a directive of one value, a number in lo..hi, a path, a string
 * of the field's size, a domain name, a size in bytes, yes or no.
 */
#define ONE(n, fn, w) \
	{ \
		.name = n, .set = fn, .max_args = 1, .wants = w \
	}
#define NUMBER(n, field, min, max) \
	{ \
		.name = n, .set = set_number, .max_args = 1, \
		.off = offsetof(struct conf, field), .lo = min, .hi = max \
	}
#define PATH(n, field) \
	{ \
		.name = n, .set = set_path, .max_args = 1, \
		.wants = "a path of at most 255 bytes", \
		.off = offsetof(struct conf, field), .hi = CONF_PATH_MAX \
	}
#define STRING(n, field, w) \
	{ \
		.name = n, .set = set_path, .max_args = 1, .wants = w, \
		.off = offsetof(struct conf, field), \
		.hi = sizeof(((struct conf *)0)->field) \
	}
#define DOMAIN(n, field) \
	{ \
		.name = n, .set = set_domain, .max_args = 1, \
		.wants = "a domain name of letters, digits, hyphens and dots", \
		.off = offsetof(struct conf, field), \
		.hi = sizeof(((struct conf *)0)->field) \
	}
#define SIZE(n, field, min, max) \
	{ \
		.name = n, .set = set_size, .max_args = 1, \
		.off = offsetof(struct conf, field), .lo = min, .hi = max \
	}
#define YES_NO(n, field) \
	{ \
		.name = n, .set = set_yes_no, .max_args = 1, \
		.wants = "yes or no", .off = offsetof(struct conf, field) \
	}

/* Sorted by name, as doc/configuration.md lists them. */
static const struct conf_directive directives[] = {
	YES_NO("add_to", add_to),
	ONE("backend", set_backend, "host or tap"),
	PATH("certificate", certificate),
	DOMAIN("domain", domain),
	DOMAIN("hostname", hostname),
	PATH("key", key),
	{.name = "listen",
		.set = set_listen,
		.max_args = 2,
		.repeat = 1,
		.wants = "ADDRESS:PORT [starttls|tls]"},
	ONE("log", set_log, "syslog or stderr"),
	ONE("log_level", set_log_level, "error, warning, info or debug"),
	SIZE("max_message_size", max_message_size, 1024, 2147483647),
	NUMBER("max_recipients", max_recipients, 1, 1000),
	NUMBER("max_sessions", max_sessions, 1, 1024),
	NUMBER("max_sessions_per_client", max_sessions_per_client, 1, 1024),
	NUMBER("rate_messages", rate_messages, 0, 100000),
	NUMBER("rate_recipients", rate_recipients, 0, 1000000),
	YES_NO("received_client_address", received_client_address),
	STRING("relay", relay,
		"smtp://HOST[:PORT], smtps://HOST[:PORT], "
		"smtp+plain://127.0.0.1:PORT or a domain"),
	PATH("relay_ca", relay_ca),
	PATH("relay_credentials", relay_credentials),
	STRING("relay_pin", relay_pin, "64 hex digits or sha256//BASE64"),
	ONE("tap_address4", set_tap_address4, "dhcp or A.B.C.D/LEN"),
	ONE("tap_address6", set_tap_address6, "X:X::X/LEN"),
	ONE("tap_device", set_tap_device,
		"an interface name of 1 to 15 letters, digits, '-', '_' or "
		"'.'"),
	ONE("tap_gateway4", set_tap_gateway4, "an IPv4 address A.B.C.D"),
	NUMBER("timeout_idle", timeout_idle, 10, 3600),
	NUMBER("tls_record_size", tls_record_size, 512, 16384),
	NUMBER("tls_session_cache", tls_session_cache, 0, 4096),
	PATH("users", users),
};

#define NDIRECTIVES (sizeof(directives) / sizeof(directives[0]))

/* conf.c remembers the directives seen in a 64-bit mask. */
_Static_assert(NDIRECTIVES <= 64, "too many directives for the seen mask");

const struct conf_directive *
conf_directive_find(const char *name)
{
	size_t i;

	for (i = 0; i < NDIRECTIVES; i++)
		if (strcmp(directives[i].name, name) == 0)
			return &directives[i];
	return NULL;
}

unsigned
conf_directive_index(const struct conf_directive *d)
{
	return (unsigned)(d - directives);
}
