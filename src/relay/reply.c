/* Parser of the upstream's replies; the contract is in reply.h. */
#include <string.h>

#include "relay/reply.h"

static const char cut_mark[] = "...";

void
relay_reply_init(struct relay_reply *rp)
{
	rp->code = 0;
	rp->enhanced[0] = '\0';
	rp->text[0] = '\0';
	rp->textlen = 0;
	rp->text_cut = 0;
	rp->line[0] = '\0';
	rp->linelen = 0;
	rp->line_text = 0;
	rp->nlines = 0;
	rp->overlong = 0;
	rp->line_done = 0;
	rp->error = NULL;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* One byte of the line being read; room stays for the cut mark. */
static void
line_put(struct relay_reply *rp, unsigned char c)
{
	if (rp->linelen >= sizeof(rp->line) - sizeof(cut_mark)) {
		rp->overlong = 1;
		return;
	}
	if (c == '\t')
		c = ' ';
	else if (c < 0x20 || c > 0x7e)
		c = '?';
	rp->line[rp->linelen++] = (char)c;
}

/*
 * The length of an RFC 3463 code at the start of s: the class (the reply
 * code's first digit, one of 2, 4, 5), subject and detail of 1 to 3
 * digits each, then a space or the end. 0 if there is none.
 */
static size_t
enhanced_len(const char *s, char class)
{
	size_t i, part, digits;

	if (s[0] != class || s[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (digits = 0; digits < 4 && is_digit(s[i]); digits++)
			i++;
		if (digits == 0 || digits > 3)
			return 0;
		if (part == 0 && s[i++] != '.')
			return 0;
	}
	return s[i] == ' ' || s[i] == '\0' ? i : 0;
}

static void
text_put(struct relay_reply *rp, const char *s, size_t n)
{
	size_t room;

	if (rp->text_cut)
		return;
	room = sizeof(rp->text) - sizeof(cut_mark) - rp->textlen;
	if (n > room) {
		memcpy(rp->text + rp->textlen, s, room);
		rp->textlen += room;
		memcpy(rp->text + rp->textlen, cut_mark, sizeof(cut_mark));
		rp->textlen += sizeof(cut_mark) - 1;
		rp->text_cut = 1;
		return;
	}
	memcpy(rp->text + rp->textlen, s, n);
	rp->textlen += n;
	rp->text[rp->textlen] = '\0';
}

static enum relay_reply_event
bad(struct relay_reply *rp, const char *why)
{
	rp->error = why;
	return RELAY_REPLY_BAD;
}

/* The line in rp->line is complete: check it and take its text. */
static enum relay_reply_event
line_end(struct relay_reply *rp)
{
	char *l = rp->line;
	int code, last;
	size_t skip;

	if (rp->overlong) {
		memcpy(l + rp->linelen, cut_mark, sizeof(cut_mark));
		rp->linelen += sizeof(cut_mark) - 1;
	}
	l[rp->linelen] = '\0';
	if (rp->linelen < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' ||
		l[1] > '5' || !is_digit(l[2]))
		return bad(rp, "reply does not begin with a code");
	if (l[3] != '\0' && l[3] != ' ' && l[3] != '-')
		return bad(rp, "no space or hyphen after the reply code");
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (rp->nlines > 0 && code != rp->code)
		return bad(rp, "reply code changes within a reply");
	if (++rp->nlines > RELAY_LINES_MAX)
		return bad(rp, "reply has too many lines");
	rp->code = code;
	last = l[3] != '-';
	rp->line_text = l[3] == '\0' ? 3 : 4;
	/* RFC 3463 2: every line repeats the code; keep the first. */
	skip = enhanced_len(l + rp->line_text, l[0]);
	if (skip > 0 && rp->nlines == 1)
		memcpy(rp->enhanced, l + rp->line_text, skip);
	if (skip > 0 && rp->nlines == 1)
		rp->enhanced[skip] = '\0';
	rp->line_text += skip;
	if (l[rp->line_text] == ' ')
		rp->line_text++;
	if (rp->nlines > 1)
		text_put(rp, "\n", 1);
	text_put(rp, l + rp->line_text, strlen(l + rp->line_text));
	return last ? RELAY_REPLY_DONE : RELAY_REPLY_LINE;
}

enum relay_reply_event
relay_reply_feed(
	struct relay_reply *rp, const void *data, size_t len, size_t *used)
{
	const unsigned char *p = data;
	size_t i;

	if (rp->line_done) {
		rp->linelen = 0;
		rp->overlong = 0;
		rp->line_done = 0;
	}
	for (i = 0; i < len; i++) {
		if (p[i] == '\n') {
			*used = i + 1;
			rp->line_done = 1;
			return line_end(rp);
		}
		if (p[i] != '\r')
			line_put(rp, p[i]);
	}
	*used = len;
	return RELAY_REPLY_MORE;
}
