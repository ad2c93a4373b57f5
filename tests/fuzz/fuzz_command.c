/*
 * Fuzz the bytes a client sends before authentication: the line reader,
 * the command table, the envelope path and parameter parsers and the SASL
 * decoders, with the session's other functions replaced by checks of
 * their contract.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "smtp/session.h"

static struct session sess;

void
session_reply(struct session *s, const char *fmt, ...)
{
	char line[SMTP_REPLY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Every reply fits and starts with a three-digit code. */
	assert(n >= 3 && (size_t)n < sizeof(line));
	assert(line[0] >= '2' && line[0] <= '5');
	(void)s;
}

void
session_enter_state(struct session *s, enum session_state next)
{
	s->state = next;
}

const char *
session_hostname(void)
{
	return "fuzz.test";
}

static struct conf fuzz_conf = {
	.domain = "fuzz.test",
	.max_message_size = 1000000,
	.max_recipients = 100,
};

const struct conf *
session_conf(void)
{
	return &fuzz_conf;
}

void
session_transaction_reset(struct session *s)
{
	if (s->state == STATE_MAIL)
		s->state = STATE_READY;
}

/* The parsers a client reaches with MAIL and RCPT, whatever AUTH says. */
static void
envelope(struct session *s, const char *args, int mail)
{
	struct smtp_path p;
	struct smtp_mail_params mp;
	const char *rest, *bad;
	const char *start = strchr(args, ':');

	if (start == NULL)
		return;
	if (smtp_path_parse(start + 1, "fuzz.test", mail, &p, &rest) !=
		PATH_OK) {
		session_reply(s, "501 5.1.7 Bad address syntax");
		return;
	}
	assert(p.len == strlen(p.addr) && p.len <= SMTP_ADDR_MAX);
	if (mail)
		smtp_mail_params_parse(rest, &mp, &bad);
	else
		smtp_rcpt_params_parse(rest, &bad);
	session_reply(s, "250 2.1.0 OK");
	if (mail)
		s->state = STATE_MAIL;
}

void
smtp_mail(struct session *s, const char *args)
{
	envelope(s, args, 1);
}

void
smtp_rcpt(struct session *s, const char *args)
{
	envelope(s, args, 0);
}

void
smtp_data(struct session *s, const char *args)
{
	(void)args;
	session_reply(s, "503 5.5.1 No data here");
}

void
smtp_auth_start(struct session *s, const char *args)
{
	struct sasl_creds c;
	const char *initial = strchr(args, ' ');

	if (initial != NULL)
		sasl_plain_decode(initial + 1, strlen(initial + 1), &c);
	session_reply(s, "535 5.7.8 No");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	memset(&sess, 0, sizeof(sess));
	sess.state = STATE_GREETED;
	sess.mode = data[0 % (size ? size : 1)] & 1 ? CONF_TLS_IMPLICIT
						    : CONF_TLS_STARTTLS;
	linebuf_init(&sess.lb, sess.line, sizeof(sess.line));
	while (off < size &&
		(sess.state == STATE_GREETED || sess.state == STATE_READY)) {
		size_t used = 0;
		enum linebuf_result r = linebuf_feed(
			&sess.lb, (const char *)data + off, size - off, &used);

		assert(used > 0 && used <= size - off);
		off += used;
		if (r == LINEBUF_LINE && memchr(sess.line, 0, sess.lb.len) == 0)
			smtp_command_dispatch(&sess, sess.line);
		if (r != LINEBUF_MORE)
			linebuf_next(&sess.lb);
	}
	return 0;
}
