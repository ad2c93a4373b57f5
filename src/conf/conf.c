/*
 * Reading postlet.conf: defaults, the line loop and the file. What each
 * directive means lives in directive.c; what belongs together in check.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf_impl.h"
#include "file.h"
#include "log.h"

/* What a UTF-8 editor may put in front of the first line. */
static const char bom[] = "\xef\xbb\xbf";

/* Debian's bundle of the system's trust anchors. */

/*
 * The domain of a host "mail.example.org" is "example.org"; a name with
 * fewer than three labels is taken whole, since "example.org" should not
 * make "org".
 */
static void
domain_default(struct conf *c)
{
	const char *dot = strchr(c->hostname, '.');
	const char *d = dot && strchr(dot + 1, '.') ? dot + 1 : c->hostname;

	memmove(c->domain, d, strlen(d) + 1);
}

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));

	/*
	 * The name the greeting and Received: fields use. A router's own
	 * name is often unqualified ("OpenWrt"); it is still better than
	 * nothing, and hostname overrides it.
	 */
	if (gethostname(c->hostname, sizeof(c->hostname)) != 0 ||
		memchr(c->hostname, '\0', sizeof(c->hostname)) == NULL ||
		conf_value_domain(c->hostname) != 0)
		memcpy(c->hostname, "localhost", sizeof("localhost"));

	c->max_sessions = 8;
	c->timeout_idle = 300; /* RFC 5321 4.5.3.2: 5 minutes */
	c->tls_session_cache = 64;
	c->tls_record_size = 4096;
	c->backend = CONF_BACKEND_HOST;
	memcpy(c->tap.device, "tap0", sizeof("tap0"));
	c->log_syslog = 1;
	c->log_level = LOG_LEVEL_INFO;

	domain_default(c);
	memcpy(c->users, "/etc/postlet/users", sizeof("/etc/postlet/users"));
	c->max_message_size = 26214400; /* 25 MiB, what large providers take */
	c->max_recipients = 100; /* RFC 5321 4.5.3.1.8: at least 100 */
	c->max_sessions_per_client = 4;
	c->rate_messages = 200;
	c->rate_recipients = 1000;
	c->add_to = 1;
	c->received_client_address = 0;
}

/* Defaults that follow from other directives when the file is silent. */
static void
derive(struct conf *c, uint64_t seen)
{
	const struct conf_directive *d = conf_directive_find("domain");

	if (!(seen & UINT64_C(1) << conf_directive_index(d)))
		domain_default(c);
	d = conf_directive_find("max_sessions_per_client");
	if (!(seen & UINT64_C(1) << conf_directive_index(d)) &&
		c->max_sessions_per_client > c->max_sessions)
		c->max_sessions_per_client = c->max_sessions;
}

int
conf_error(struct conf_ctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	x->reported = 1;
	if (x->errlen == 0)
		return -1;
	n = snprintf(x->err, x->errlen, "%s:%u: ", x->name, x->lineno);
	if (n < 0 || (size_t)n >= x->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Split line in place into x->argv at spaces and tabs. A '#' that starts
 * a word starts a comment; inside a word it is an ordinary byte. Stops
 * after CONF_ARGS_MAX words: no directive takes that many.
 */
static void
split(struct conf_ctx *x, char *line)
{
	char *p = line;

	x->argc = 0;
	while (x->argc < CONF_ARGS_MAX) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			return;
		x->argv[x->argc++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

/* Tabs are separators; any other control byte is a mistake worth naming. */
static int
check_bytes(struct conf_ctx *x, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return conf_error(
				x, "unexpected control byte 0x%02x", ch);
	}
	return 0;
}

/* Run one split line through its directive's row of the table. */
static int
apply(struct conf_ctx *x, struct conf *c, uint64_t *seen)
{
	const struct conf_directive *d = conf_directive_find(x->argv[0]);
	uint64_t bit;

	if (d == NULL)
		return conf_error(x, "unknown directive '%.*s'", CONF_QUOTE_MAX,
			x->argv[0]);
	bit = UINT64_C(1) << conf_directive_index(d);
	if ((*seen & bit) && !d->repeat)
		return conf_error(x, "duplicate '%s'", d->name);
	*seen |= bit;
	if (x->argc < 2)
		return conf_error(x, "'%s' is missing its value", d->name);
	if (x->argc > 1u + d->max_args)
		return conf_error(x, "'%s': unexpected '%.*s' after the value",
			d->name, CONF_QUOTE_MAX, x->argv[1 + d->max_args]);

	x->reported = 0;
	if (d->set(x, d, c) == 0)
		return 0;
	if (!x->reported)
		conf_error(x, "'%s' wants %s", d->name, d->wants);
	return -1;
}

/* Parse the line s[0..len), its line ending already taken off. */
static int
parse_line(struct conf_ctx *x, struct conf *c, const char *s, size_t len,
	uint64_t *seen)
{
	char line[CONF_LINE_MAX];

	/* A CR before the LF is what other editors write; tolerate it. */
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len >= sizeof(line))
		return conf_error(
			x, "line longer than %d bytes", CONF_LINE_MAX - 1);
	if (check_bytes(x, s, len) != 0)
		return -1;
	memcpy(line, s, len);
	line[len] = '\0';

	split(x, line);
	if (x->argc == 0)
		return 0;
	return apply(x, c, seen);
}

/*
 * See conf.h. Works on a copy so that c is left as it was when the file is
 * refused: a reload with a broken file keeps the running configuration.
 */
int
conf_parse(struct conf *c, const char *name, const char *buf, size_t len,
	char *err, size_t errlen)
{
	struct conf_ctx x;
	struct conf tmp = *c;
	uint64_t seen = 0;
	size_t pos = 0;

	memset(&x, 0, sizeof(x));
	x.name = name;
	x.err = err;
	x.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if (len > CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", name,
			CONF_FILE_MAX);
		return -1;
	}
	if (len >= 3 && memcmp(buf, bom, 3) == 0)
		pos = 3;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		x.lineno++;
		if (parse_line(&x, &tmp, buf + pos, n, &seen) != 0)
			return -1;
		pos += n + (nl != NULL);
	}
	derive(&tmp, seen);
	*c = tmp;
	return 0;
}

/*
 * See conf.h. The buffer is taken from the heap for the read only: a
 * router should not keep 64 KiB around for a file read once per reload.
 * One byte more than allowed is read to tell a full file from a long one.
 */
int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	struct conf tmp;
	char *buf = malloc(CONF_FILE_MAX + 1);
	size_t len = 0;
	int e, rc = -1;

	if (buf == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return -1;
	}
	e = file_read(path, buf, CONF_FILE_MAX + 1, &len);
	conf_defaults(&tmp);
	if (e != 0)
		snprintf(err, errlen, "%s: %s", path, strerror(e));
	else if (len > CONF_FILE_MAX)
		snprintf(err, errlen, "%s: larger than %d bytes", path,
			CONF_FILE_MAX);
	else
		rc = conf_parse(&tmp, path, buf, len, err, errlen);
	free(buf);
	if (rc == 0)
		*c = tmp;
	return rc;
}
