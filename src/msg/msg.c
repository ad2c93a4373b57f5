/*
 * The message path's engine: the input decoder (dot-unstuffing, line
 * ends, end of data), the body, and the output with its dot-stuffing.
 * Contract in msg.h.
 *
 * Each input octet gives at most one event. An event is committed (the
 * decoder moves on, the octet counts) only once its handler takes it; a
 * handler that must first write a block of text defers, and the same
 * octet is decoded again after the block is out. So no event is ever
 * queued, and out may be as small as one octet.
 */
#include <string.h>

#include "msg/msg_priv.h"

/* Where the input is relative to CRLF "." CRLF (RFC 5321 4.1.1.4). */
enum {
	IN_BOL, /* after CRLF, or at the start: a "." here is special */
	IN_MID, /* inside a line, or after a bare CR or LF */
	IN_CR, /* after a CR */
	IN_DOT, /* after CRLF "." */
	IN_DOTCR, /* after CRLF "." CR */
	IN_DONE /* after CRLF "." CRLF */
};

struct step {
	enum msg_event ev;
	unsigned char next; /* IN_ state once the event is taken */
	unsigned char took; /* 0: the octet is read again */
	unsigned char width; /* octets of message the event stands for */
};

#define DOMAIN_MAX 255

void
msg_begin(struct msg *m, const struct msg_params *p)
{
	size_t dlen = p->domain ? strlen(p->domain) : 0;

	memset(m, 0, sizeof(*m));
	m->p = *p;
	m->dlen = dlen <= DOMAIN_MAX ? (uint16_t)dlen : 0;
	m->in_state = IN_BOL;
	m->phase = PHASE_HEADER;
	m->bol = 1;
	m->out_bol = 1;
	msg_header_begin(m);
}

void
msg_refuse(struct msg *m, const char *reply)
{
	size_t n = strlen(reply);

	if (m->reply[0] != '\0')
		return;
	if (n > sizeof(m->reply) - 1)
		n = sizeof(m->reply) - 1;
	memcpy(m->reply, reply, n);
	m->reply[n] = '\0';
}

static int
refused(const struct msg *m)
{
	return m->reply[0] != '\0';
}

/* One octet to out, or to spill once out is full. */
static void
put1(struct msg *m, char c)
{
	if (m->outlen < m->outcap)
		m->out[m->outlen++] = c;
	else if (m->spill_len < sizeof(m->spill))
		m->spill[m->spill_len++] = c;
	else
		msg_refuse(m, "451 4.3.0 Message path output overrun");
}

void
msg_put(struct msg *m, char c)
{
	/* RFC 5321 4.5.2: a line that starts with "." gets one more. */
	if (m->out_bol && c == '.')
		put1(m, '.');
	put1(m, c);
	m->out_bol = c == '\n';
}

void
msg_out_start(struct msg *m, const char *buf, size_t len, int stage)
{
	memset(&m->src, 0, sizeof(m->src));
	m->src.buf = buf;
	m->src.len = len;
	m->stage = (unsigned char)stage;
}

static void
put_suffix(struct msg *m)
{
	struct msg_out_src *s = &m->src;

	msg_put(m, s->sub == 0 ? '@' : m->p.domain[s->sub - 1]);
	if (++s->sub > m->dlen) {
		s->sub = 0;
		s->ins_i++;
	}
}

/* Write what waits in src, with "@domain" where header.c planned it. */
static void
drain(struct msg *m)
{
	struct msg_out_src *s = &m->src;

	while (m->outlen < m->outcap && m->spill_len == 0) {
		if (s->ins_i < s->ins_n && m->ins[s->ins_i] == s->pos) {
			put_suffix(m);
			continue;
		}
		if (s->pos >= s->len)
			return;
		if (s->raw)
			put1(m, s->buf[s->pos++]);
		else
			msg_put(m, s->buf[s->pos++]);
	}
}

static void
flush_spill(struct msg *m)
{
	size_t n = m->outcap - m->outlen;

	if (n > m->spill_len)
		n = m->spill_len;
	if (n == 0)
		return;
	memcpy(m->out + m->outlen, m->spill, n);
	m->outlen += n;
	memmove(m->spill, m->spill + n, m->spill_len - n);
	m->spill_len -= (unsigned char)n;
}

static void
next_stage(struct msg *m)
{
	int stage = m->stage;

	m->stage = STAGE_NONE;
	switch (stage) {
	case STAGE_CLEAR:
		m->flen = 0;
		m->plen = 0;
		m->ins_n = 0;
		break;
	case STAGE_BLANK:
		msg_out_start(m, "\r\n", 2, STAGE_PARTIAL);
		break;
	case STAGE_PARTIAL:
		msg_out_start(m, m->field, m->plen, STAGE_CLEAR);
		break;
	}
}

/* Write all that waits; 0 when out filled up first. */
static int
flush(struct msg *m)
{
	if (refused(m)) {
		m->spill_len = 0;
		msg_out_start(m, NULL, 0, STAGE_NONE);
		return 1;
	}
	for (;;) {
		if (m->spill_len > 0)
			flush_spill(m);
		if (m->spill_len > 0)
			return 0;
		drain(m);
		if (m->spill_len > 0 || m->src.pos < m->src.len)
			return 0;
		if (m->stage == STAGE_NONE)
			return 1;
		next_stage(m);
	}
}

/*
 * RFC 5321 4.5.2: a "." that starts a line is removed; CRLF "." CRLF ends
 * the data. Only CRLF starts a line here. A bare CR or LF ends an output
 * line all the same, so that nothing but CRLF reaches the upstream.
 */
static void
decode(unsigned char state, unsigned char c, struct step *s)
{
	s->ev = EV_NONE;
	s->next = IN_MID;
	s->took = 1;
	s->width = 1;
	switch (state) {
	case IN_BOL:
		if (c == '.') {
			s->next = IN_DOT;
			return;
		}
		break;
	case IN_CR:
		s->ev = EV_LINE_END;
		if (c == '\n') {
			s->width = 2;
			s->next = IN_BOL;
		} else {
			s->took = 0;
		}
		return;
	case IN_DOT:
		if (c == '\r')
			s->next = IN_DOTCR;
		else
			s->took = 0; /* the transparency dot goes */
		return;
	case IN_DOTCR:
		if (c == '\n') {
			s->ev = EV_DATA_END;
			s->next = IN_DONE;
			s->width = 0;
		} else {
			s->ev = EV_LINE_END; /* dot gone, the CR was bare */
			s->took = 0;
		}
		return;
	}
	if (c == '\r')
		s->next = IN_CR;
	else
		s->ev = c == '\n' ? EV_LINE_END : EV_CONTENT;
}

/* Output octets c takes on its line: a leading "." is stuffed. */
static unsigned
width(const struct msg *m, unsigned char c)
{
	return m->bol && c == '.' ? 2 : 1;
}

static int
content_ok(struct msg *m, unsigned char c)
{
	if (c == '\0') {
		/* RFC 5321 4.5.2 (and 2.3.8): no NUL in text. */
		msg_refuse(m, "554 5.6.0 NUL octet in message");
		return 0;
	}
	if (m->linelen + width(m, c) > MSG_LINE_MAX) {
		msg_refuse(m,
			m->phase == PHASE_HEADER
				? "554 5.6.0 Header line longer than 998 octets"
				: "554 5.6.0 Line longer than 998 octets");
		return 0;
	}
	if (c & 0x80)
		m->eightbit = 1;
	return 1;
}

static int
body_event(struct msg *m, enum msg_event ev, unsigned char c)
{
	switch (ev) {
	case EV_CONTENT:
		msg_put(m, (char)c);
		break;
	case EV_LINE_END:
		msg_put(m, '\r');
		msg_put(m, '\n');
		break;
	case EV_DATA_END:
		msg_out_start(m, ".\r\n", 3, STAGE_NONE);
		m->src.raw = 1;
		break;
	case EV_NONE:
		break;
	}
	return TAKEN;
}

static int
event(struct msg *m, enum msg_event ev, unsigned char c)
{
	if (ev == EV_CONTENT && !content_ok(m, c))
		return TAKEN;
	if (m->phase == PHASE_HEADER)
		return msg_header_event(m, ev, c);
	return body_event(m, ev, c);
}

static void
count(struct msg *m, size_t n)
{
	m->size += n;
	/* RFC 1870: the SIZE limit holds whatever MAIL FROM declared. */
	if (m->p.max_size > 0 && m->size > m->p.max_size)
		msg_refuse(m,
			"552 5.3.4 Message size exceeds fixed maximum "
			"message size");
}

static void
commit(struct msg *m, const struct step *s, unsigned char c)
{
	m->in_state = s->next;
	switch (s->ev) {
	case EV_CONTENT:
		m->linelen += width(m, c);
		m->bol = 0;
		break;
	case EV_LINE_END:
		m->linelen = 0;
		m->bol = 1;
		break;
	case EV_DATA_END:
		m->ended = 1;
		break;
	case EV_NONE:
		break;
	}
	if (s->ev == EV_CONTENT || s->ev == EV_LINE_END)
		count(m, s->width);
}

/* Decode one octet; how many of it were taken (0 or 1). */
static size_t
step(struct msg *m, unsigned char c)
{
	struct step s;

	decode(m->in_state, c, &s);
	if (s.ev != EV_NONE && !refused(m) && event(m, s.ev, c) == DEFER)
		return 0;
	commit(m, &s, c);
	return s.took;
}

/*
 * The common case, made fast: inside a body line, octets other than CR,
 * LF and NUL go straight to out. The first octet of each line, line ends
 * and anything unusual take the way through step().
 */
static size_t
body_run(struct msg *m, const char *in, size_t len)
{
	size_t room = m->outcap - m->outlen, n = 0;
	unsigned char high = 0;

	if (m->phase != PHASE_BODY || m->in_state != IN_MID || m->bol ||
		refused(m) || room == 0)
		return 0;
	if (len > room)
		len = room;
	if (len > MSG_LINE_MAX - (size_t)m->linelen)
		len = MSG_LINE_MAX - (size_t)m->linelen;
	for (; n < len; n++) {
		unsigned char c = (unsigned char)in[n];

		if (c == '\r' || c == '\n' || c == '\0')
			break;
		high |= c;
	}
	memcpy(m->out + m->outlen, in, n);
	m->outlen += n;
	m->linelen += (uint16_t)n;
	m->eightbit |= high >> 7;
	count(m, n);
	return n;
}

enum msg_status
msg_feed(struct msg *m, const char *in, size_t len, size_t *used, char *out,
	size_t outcap, size_t *written)
{
	enum msg_status st;
	size_t i = 0, n;

	m->out = out;
	m->outcap = out ? outcap : 0;
	m->outlen = 0;
	for (;;) {
		if (!flush(m)) {
			st = MSG_OUT_FULL;
			break;
		}
		if (refused(m) && !m->err_told) {
			m->err_told = 1;
			st = MSG_ERROR;
			break;
		}
		if (m->ended) {
			st = MSG_END;
			break;
		}
		if (i == len) {
			st = MSG_MORE;
			break;
		}
		n = body_run(m, in + i, len - i);
		i += n > 0 ? n : step(m, (unsigned char)in[i]);
	}
	*used = i;
	*written = m->outlen;
	m->out = NULL;
	m->outcap = 0;
	return st;
}

const char *
msg_error_reply(const struct msg *m)
{
	return refused(m) ? m->reply : NULL;
}

int
msg_8bit(const struct msg *m)
{
	return m->eightbit;
}

uint64_t
msg_size(const struct msg *m)
{
	return m->size;
}

int
msg_has_from(const struct msg *m)
{
	return (m->seen & SEEN_FROM) != 0;
}
