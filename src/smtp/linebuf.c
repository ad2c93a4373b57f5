#include "smtp/linebuf.h"

void
linebuf_init(struct linebuf *lb, char *buf, size_t cap)
{
	lb->buf = buf;
	lb->cap = cap;
	linebuf_next(lb);
}

void
linebuf_next(struct linebuf *lb)
{
	lb->len = 0;
	lb->cr = 0;
	lb->overlong = 0;
	if (lb->cap > 0)
		lb->buf[0] = '\0';
}

/* Keep byte c of the current line, or note that the line outgrew buf. */
static void
keep(struct linebuf *lb, char c)
{
	if (lb->overlong)
		return;
	if (lb->len + 1 >= lb->cap) {
		lb->overlong = 1;
		return;
	}
	lb->buf[lb->len++] = c;
}

enum linebuf_result
linebuf_feed(struct linebuf *lb, const char *data, size_t len, size_t *used)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = data[i];

		if (c == '\n' && lb->cr) {
			*used = i + 1;
			if (lb->overlong)
				return LINEBUF_OVERLONG;
			lb->buf[lb->len] = '\0';
			return LINEBUF_LINE;
		}
		/* A CR is held back until we know it does not start CRLF. */
		if (lb->cr)
			keep(lb, '\r');
		lb->cr = c == '\r';
		if (!lb->cr)
			keep(lb, c);
	}
	*used = len;
	return LINEBUF_MORE;
}
