#include <string.h>

#include "msg/msg_priv.h"

void
msg_text_init(struct msg_text *t, char *buf, size_t cap)
{
	t->buf = buf;
	t->cap = cap;
	t->len = 0;
	t->full = cap == 0;
	if (cap > 0)
		buf[0] = '\0';
}

/* One octet is kept back for the NUL, so that msg_text_str always works. */
void
msg_text_addn(struct msg_text *t, const char *s, size_t n)
{
	if (t->full)
		return;
	if (n >= t->cap - t->len) {
		t->full = 1;
		return;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

void
msg_text_add(struct msg_text *t, const char *s)
{
	msg_text_addn(t, s, strlen(s));
}

void
msg_text_num(struct msg_text *t, uint64_t v, int width)
{
	char digits[24];
	int n = 0;

	do {
		digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < (int)sizeof(digits));
	while (n < width && n < (int)sizeof(digits))
		digits[sizeof(digits) - 1 - n++] = '0';
	msg_text_addn(t, digits + sizeof(digits) - n, (size_t)n);
}

static int
keep(unsigned char c, int strict)
{
	if (c < 0x21 || c > 0x7e)
		return c == ' ' && !strict;
	if (!strict)
		return 1;
	return strchr("()<>,;\\\"", c) == NULL;
}

void
msg_text_clean(
	struct msg_text *t, const char *s, size_t n, size_t max, int strict)
{
	size_t i;

	for (i = 0; i < n && i < max; i++) {
		char c = keep((unsigned char)s[i], strict) ? s[i] : '?';

		msg_text_addn(t, &c, 1);
	}
}

const char *
msg_text_str(struct msg_text *t)
{
	return t->cap > 0 ? t->buf : "";
}
