/*
 * The header section (RFC 5322 2.2): each field is kept in field[] with
 * its folded lines until the next line shows it is complete, examined,
 * then written with any "@domain" insertions. A field that outgrows
 * field[] passes through unexamined, except From and Sender, which are
 * refused: their check cannot be skipped. The header section ends at the
 * empty line, at the end of data, or at a line that is no field; then
 * Date, Message-ID and To are added as needed.
 */
#include <string.h>
#include <strings.h>

#include "msg/msg_priv.h"

/* Where the current line is in "name [WSP] : value". */
enum { NAME, NAME_WSP, VALUE };

static const struct {
	const char *name;
	unsigned char kind;
	unsigned char seen;
} known[] = {
	{"from", FIELD_FROM, SEEN_FROM},
	{"sender", FIELD_SENDER, 0},
	{"reply-to", FIELD_REPLY_TO, 0},
	{"to", FIELD_TO, SEEN_DEST},
	{"cc", FIELD_CC, SEEN_DEST},
	{"bcc", FIELD_BCC, SEEN_DEST},
	{"date", FIELD_DATE, SEEN_DATE},
	{"message-id", FIELD_MSGID, SEEN_MSGID},
};

void
msg_header_begin(struct msg *m)
{
	size_t n = msg_fixup_received(&m->p, m->field, sizeof(m->field));

	if (n == MSG_NO_FIT) {
		msg_refuse(m, "451 4.3.0 Received field does not fit");
		return;
	}
	msg_out_start(m, m->field, n, STAGE_CLEAR);
}

static int
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 2.2: printable US-ASCII but ":". */
static int
is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static int
is_author(int kind)
{
	return kind == FIELD_FROM || kind == FIELD_SENDER;
}

static int
has_addresses(int kind)
{
	return kind >= FIELD_FROM && kind <= FIELD_BCC;
}

static void
classify(struct msg *m)
{
	size_t len = m->flen, i;

	while (len > 0 && is_wsp((unsigned char)m->field[len - 1]))
		len--;
	m->fkind = FIELD_OTHER;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strlen(known[i].name) == len &&
			strncasecmp(known[i].name, m->field, len) == 0) {
			m->fkind = known[i].kind;
			m->seen |= known[i].seen;
			return;
		}
	}
}

/* Does field[] stay within 998 octets a line with its insertions? */
static int
fits(const struct msg *m)
{
	size_t i, line = 0;
	unsigned k = 0;

	for (i = 0; i <= m->flen; i++) {
		while (k < m->ins_n && m->ins[k] == i) {
			line += 1 + (size_t)m->dlen;
			k++;
		}
		if (i == m->flen)
			break;
		if (m->field[i] == '\r' || m->field[i] == '\n') {
			if (line > MSG_LINE_MAX)
				return 0;
			line = 0;
		} else {
			line++;
		}
	}
	return line <= MSG_LINE_MAX;
}

/*
 * RFC 6409 8.8 (and the note opening section 8): a bare local part gets
 * our domain. All of a field's addresses or none: a field with too many
 * to note, or whose lines would grow past 998 octets, is left alone.
 */
static void
plan(struct msg *m, size_t vstart)
{
	struct msg_addr_iter it;
	struct msg_mailbox mb;

	m->ins_n = 0;
	if (m->dlen == 0)
		return;
	msg_addr_begin(&it, m->field, m->flen, vstart);
	while (msg_addr_next(&it, &mb)) {
		if (mb.qualify_at == MSG_NO_QUALIFY)
			continue;
		if (m->ins_n == MSG_QUALIFY_MAX) {
			m->ins_n = 0;
			return;
		}
		m->ins[m->ins_n++] = (uint16_t)mb.qualify_at;
	}
	if (!fits(m))
		m->ins_n = 0;
}

static void
refuse_author(struct msg *m, const char *addr, size_t len)
{
	char reply[MSG_REPLY_MAX];
	struct msg_text t;
	const char *user = m->p.user;

	msg_text_init(&t, reply, sizeof(reply));
	msg_text_add(&t, "550 5.7.1 ");
	msg_text_add(&t, m->fkind == FIELD_FROM ? "From" : "Sender");
	msg_text_add(&t, ": address <");
	msg_text_clean(&t, addr, len, 320, 0);
	msg_text_add(&t, "> is not granted");
	if (user != NULL && user[0] != '\0') {
		msg_text_add(&t, " to user ");
		msg_text_clean(&t, user, strlen(user), 64, 0);
	}
	msg_refuse(m, msg_text_str(&t));
}

/*
 * One address of From or Sender, as it will be sent: with "@domain" if
 * plan() put it there. The ins[k] that belongs to it is the next one.
 */
static int
author_ok(struct msg *m, const struct msg_mailbox *mb, unsigned *k)
{
	char buf[MSG_ADDR_MAX + 260];
	struct msg_text t;

	msg_text_init(&t, buf, sizeof(buf));
	msg_text_addn(&t, mb->addr, mb->len);
	if (*k < m->ins_n && m->ins[*k] == mb->qualify_at) {
		msg_text_add(&t, "@");
		msg_text_add(&t, m->p.domain);
		(*k)++;
	}
	if (mb->too_long || t.full ||
		!m->p.from_ok(m->p.from_ok_arg, t.buf, t.len)) {
		refuse_author(m, t.buf, t.len);
		return 0;
	}
	return 1;
}

/*
 * RFC 6409 6.3: an author address the user was not given is refused
 * with 550 5.7.1. A From or Sender without any address is refused too:
 * it could name no one but a group, whose display name is unchecked.
 */
static void
check_authors(struct msg *m, size_t vstart)
{
	struct msg_addr_iter it;
	struct msg_mailbox mb;
	unsigned k = 0, n = 0;

	msg_addr_begin(&it, m->field, m->flen, vstart);
	while (msg_addr_next(&it, &mb)) {
		if (!author_ok(m, &mb, &k))
			return;
		n++;
	}
	if (n == 0)
		msg_refuse(m,
			m->fkind == FIELD_FROM
				? "554 5.6.0 From: field without an address"
				: "554 5.6.0 Sender: field without an address");
}

/* The field is complete: examine it, then write it. */
static int
end_field(struct msg *m)
{
	const char *colon = memchr(m->field, ':', m->flen);
	size_t vstart = colon ? (size_t)(colon - m->field) + 1 : m->flen;

	m->ins_n = 0;
	if (has_addresses(m->fkind))
		plan(m, vstart);
	if (is_author(m->fkind) && m->p.from_ok != NULL)
		check_authors(m, vstart);
	msg_out_start(m, m->field, m->flen, STAGE_CLEAR);
	m->src.ins_n = m->ins_n;
	return DEFER;
}

/*
 * The header section is over: write the fields we add after what
 * field[0..plen) holds, then go on with the body.
 */
static int
trailer(struct msg *m, int stage)
{
	size_t room = sizeof(m->field) - m->plen;
	size_t n = msg_fixup_trailer(&m->p, m->seen, m->field + m->plen, room);

	m->phase = PHASE_BODY;
	if (n == MSG_NO_FIT) {
		msg_refuse(m, "451 4.3.0 Header fields do not fit");
		return TAKEN;
	}
	msg_out_start(m, m->field + m->plen, n, stage);
	return DEFER;
}

/*
 * A line that is no header field (no colon, or a name with other than
 * ftext) starts the body. What was read of it, field[0..flen), follows
 * our fields and the empty line that RFC 5322 2.1 puts before a body.
 */
static int
not_a_field(struct msg *m)
{
	m->plen = m->flen;
	return trailer(m, STAGE_BLANK);
}

static int
overflow(struct msg *m)
{
	if (is_author(m->fkind)) {
		msg_refuse(m,
			m->fkind == FIELD_FROM
				? "554 5.6.0 From: header field too long"
				: "554 5.6.0 Sender: header field too long");
		return TAKEN;
	}
	msg_out_start(m, m->field, m->flen, STAGE_CLEAR);
	m->fstream = 1;
	return DEFER;
}

static int
field_append(struct msg *m, const char *s, size_t n)
{
	size_t i;

	if (m->fstream) {
		for (i = 0; i < n; i++)
			msg_put(m, s[i]);
		return TAKEN;
	}
	if (n > sizeof(m->field) - m->flen)
		return overflow(m);
	memcpy(m->field + m->flen, s, n);
	m->flen += n;
	return TAKEN;
}

static int
name_done(struct msg *m)
{
	classify(m);
	m->fname = VALUE;
	return field_append(m, ":", 1);
}

/* RFC 5322 2.2 and 4.5 (obs-optional allows WSP before the colon). */
static int
field_content(struct msg *m, unsigned char c)
{
	switch (m->fname) {
	case NAME:
		if (c == ':')
			return name_done(m);
		if (is_wsp(c))
			m->fname = NAME_WSP;
		else if (!is_ftext(c))
			return not_a_field(m);
		break;
	case NAME_WSP:
		if (c == ':')
			return name_done(m);
		if (!is_wsp(c))
			return not_a_field(m);
		break;
	}
	return field_append(m, (const char *)&c, 1);
}

int
msg_header_event(struct msg *m, enum msg_event ev, unsigned char c)
{
	int open = m->flen > 0 || m->fstream;

	/* RFC 5322 2.2.3: a line that starts with WSP folds the field. */
	if (m->bol && !(ev == EV_CONTENT && is_wsp(c) && open)) {
		if (m->fstream)
			m->fstream = 0;
		else if (m->flen > 0)
			return end_field(m);
		if (ev != EV_CONTENT)
			return trailer(m, STAGE_CLEAR);
		if (!is_ftext(c))
			return not_a_field(m);
		m->fname = NAME;
		m->fkind = FIELD_OTHER;
	}
	if (ev == EV_CONTENT)
		return field_content(m, c);
	if (m->fname != VALUE)
		return not_a_field(m);
	return field_append(m, "\r\n", 2);
}
