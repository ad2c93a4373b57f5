/*
 * Address lists (RFC 5322 3.4) read one token at a time, without
 * recursion: nested comments are a depth count, and every token is
 * bounded by the field it lies in. What is read is only what postlet
 * needs: each mailbox's addr-spec, and whether it is a bare dot-atom
 * local part that may be qualified.
 *
 * An address is the text between "," or ";" at the top level. Inside it,
 * each angle-addr ("<" ... ">") is a mailbox; what lies outside the
 * angles is a mailbox too when there is no angle-addr or when it holds an
 * unquoted "@" (so that "a@x <b@y>" has both checked). A ":" outside the
 * angles ends a group's display name, which is no mailbox.
 */
#include <string.h>

#include "msg/msg_priv.h"

enum { TOK_END, TOK_ATOM, TOK_QUOTED, TOK_LITERAL, TOK_SPECIAL };

struct tok {
	int kind;
	size_t start, end;
	char c; /* the character of a TOK_SPECIAL */
};

/* atext (RFC 5322 3.2.3) with ".", and octets above 127 (RFC 6532). */
static int
is_atom_char(unsigned char c)
{
	if (c <= ' ' || c == 0x7f)
		return 0;
	return strchr("()<>[]:;@\\,\"", c) == NULL;
}

static void
skip_comment(struct msg_addr_iter *it)
{
	size_t depth = 0;

	do {
		char c = it->s[it->pos++];

		if (c == '\\' && it->pos < it->len)
			it->pos++;
		else if (c == '(')
			depth++;
		else if (c == ')')
			depth--;
	} while (depth > 0 && it->pos < it->len);
}

/* RFC 5322 3.2.2: CFWS is white space, folding and comments. */
static void
skip_cfws(struct msg_addr_iter *it)
{
	while (it->pos < it->len) {
		char c = it->s[it->pos];

		if (c == '(')
			skip_comment(it);
		else if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			it->pos++;
		else
			return;
	}
}

/* A quoted-string or domain-literal, quoted-pairs included. */
static void
skip_delimited(struct msg_addr_iter *it, char close)
{
	it->pos++;
	while (it->pos < it->len) {
		char c = it->s[it->pos++];

		if (c == '\\' && it->pos < it->len)
			it->pos++;
		else if (c == close)
			return;
	}
}

static void
next_token(struct msg_addr_iter *it, struct tok *t)
{
	unsigned char c;

	skip_cfws(it);
	t->start = it->pos;
	t->kind = TOK_END;
	if (it->pos >= it->len)
		return;
	c = (unsigned char)it->s[it->pos];
	if (c == '"') {
		t->kind = TOK_QUOTED;
		skip_delimited(it, '"');
	} else if (c == '[') {
		t->kind = TOK_LITERAL;
		skip_delimited(it, ']');
	} else if (is_atom_char(c)) {
		t->kind = TOK_ATOM;
		while (it->pos < it->len &&
			is_atom_char((unsigned char)it->s[it->pos]))
			it->pos++;
	} else {
		t->kind = TOK_SPECIAL;
		t->c = (char)c;
		it->pos++;
	}
	t->end = it->pos;
}

static int
is_special(const struct tok *t, char c)
{
	return t->kind == TOK_SPECIAL && t->c == c;
}

/* RFC 5322 3.2.3 dot-atom-text: no leading, trailing or double dot. */
static int
dot_atom_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 1; i < n; i++)
		if (s[i] == '.' && s[i - 1] == '.')
			return 0;
	return 1;
}

static void
spec_reset(struct msg_addr_spec *a)
{
	a->len = 0;
	a->too_long = 0;
	a->tokens = 0;
	a->at = 0;
	a->atom_ok = 0;
	a->atom_end = 0;
}

static void
spec_add(struct msg_addr_spec *a, const char *s, const struct tok *t)
{
	size_t n = t->end - t->start;

	if (a->tokens == 0 && t->kind == TOK_ATOM) {
		a->atom_ok = dot_atom_ok(s + t->start, n);
		a->atom_end = t->end;
	} else {
		a->atom_ok = 0;
	}
	a->tokens++;
	if (is_special(t, '@'))
		a->at = 1;
	if (n > sizeof(a->text) - a->len) {
		a->too_long = 1;
		return;
	}
	memcpy(a->text + a->len, s + t->start, n);
	a->len += n;
}

static void
new_address(struct msg_addr_iter *it)
{
	it->angle = 0;
	it->route = 0;
	it->angles = 0;
	it->fresh = 0;
	spec_reset(&it->outside);
	spec_reset(&it->inside);
}

void
msg_addr_begin(struct msg_addr_iter *it, const char *s, size_t len, size_t pos)
{
	it->s = s;
	it->len = len;
	it->pos = pos;
	it->done = 0;
	new_address(it);
}

static int
yield(const struct msg_addr_spec *a, struct msg_mailbox *mb)
{
	mb->addr = a->text;
	mb->len = a->len;
	mb->too_long = a->too_long;
	mb->qualify_at =
		a->tokens == 1 && a->atom_ok ? a->atom_end : MSG_NO_QUALIFY;
	return 1;
}

static int
outside_is_mailbox(const struct msg_addr_iter *it)
{
	return it->outside.tokens > 0 && (it->angles == 0 || it->outside.at);
}

/* A token inside "<" ... ">"; 1 when it closed a mailbox. */
static int
in_angle(struct msg_addr_iter *it, const struct tok *t, struct msg_mailbox *mb)
{
	if (is_special(t, '>')) {
		it->angle = 0;
		return yield(&it->inside, mb);
	}
	/* RFC 5322 4.4 obs-route "@a,@b:" before the addr-spec: skipped. */
	if (it->route) {
		if (is_special(t, ':'))
			it->route = 0;
		return 0;
	}
	if (it->inside.tokens == 0 && is_special(t, '@')) {
		it->route = 1;
		return 0;
	}
	spec_add(&it->inside, it->s, t);
	return 0;
}

static int
at_end(struct msg_addr_iter *it, struct msg_mailbox *mb)
{
	if (it->angle) {
		it->angle = 0;
		return yield(&it->inside, mb);
	}
	it->done = 1;
	return outside_is_mailbox(it) ? yield(&it->outside, mb) : 0;
}

/* A token outside the angles; 1 when it closed a mailbox. */
static int
outside(struct msg_addr_iter *it, const struct tok *t, struct msg_mailbox *mb)
{
	if (t->kind != TOK_SPECIAL) {
		spec_add(&it->outside, it->s, t);
		return 0;
	}
	switch (t->c) {
	case '<':
		it->angle = 1;
		it->route = 0;
		it->angles++;
		spec_reset(&it->inside);
		return 0;
	case ':':
		new_address(it);
		return 0;
	case ',':
	case ';':
		if (outside_is_mailbox(it)) {
			it->fresh = 1;
			return yield(&it->outside, mb);
		}
		new_address(it);
		return 0;
	}
	spec_add(&it->outside, it->s, t);
	return 0;
}

int
msg_addr_next(struct msg_addr_iter *it, struct msg_mailbox *mb)
{
	struct tok t;

	if (it->fresh)
		new_address(it);
	while (!it->done) {
		next_token(it, &t);
		if (t.kind == TOK_END)
			return at_end(it, mb);
		if (it->angle ? in_angle(it, &t, mb) : outside(it, &t, mb))
			return 1;
	}
	return 0;
}
