/*
 * Fuzz the bytes a client sends before authentication: the line reader
 * and the command table, with the session's reply and state functions
 * replaced by checks of their contract.
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
