/*
 * The header fields postlet writes: Received first, then Date, Message-ID
 * and To where the message lacks them. Peer text in them is cleaned and
 * bounded so that each line stays far below 998 octets.
 */
#include <string.h>

#include "msg/msg_priv.h"

/* 9999-12-31 23:59:59 UTC: RFC 5322 3.3 has room for four-digit years. */
#define LAST_SECOND 253402300799LL
#define TZ_MAX_MIN (24 * 60 - 1)

static const char wdays[7][4] = {
	"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int mon)
{
	static const unsigned char n[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return n[mon] + (mon == 1 && leap(y));
}

/* Day number since 1970-01-01 to year, month (0-11) and day (1-31). */
static void
civil(int64_t days, int64_t *y, int *mon, int *mday)
{
	*y = 1970;
	while (days >= 365 + leap(*y)) {
		days -= 365 + leap(*y);
		(*y)++;
	}
	*mon = 0;
	while (days >= month_days(*y, *mon)) {
		days -= month_days(*y, *mon);
		(*mon)++;
	}
	*mday = (int)days + 1;
}

static void
add_offset(struct msg_text *t, int off)
{
	unsigned a = (unsigned)(off < 0 ? -off : off);

	msg_text_add(t, off < 0 ? " -" : " +");
	msg_text_num(t, a / 60, 2);
	msg_text_num(t, a % 60, 2);
}

/* RFC 5322 3.3 date-time, e.g. "Tue, 1 Jul 2025 10:52:37 +0200". */
static void
add_date(struct msg_text *t, int64_t now, int off)
{
	int64_t local, days, y;
	int mon, mday;
	unsigned secs;

	if (off < -TZ_MAX_MIN || off > TZ_MAX_MIN)
		off = 0;
	local = now + (int64_t)off * 60;
	if (local < 0)
		local = 0;
	if (local > LAST_SECOND)
		local = LAST_SECOND;
	days = local / 86400;
	secs = (unsigned)(local % 86400);
	civil(days, &y, &mon, &mday);
	msg_text_add(t, wdays[days % 7]);
	msg_text_add(t, ", ");
	msg_text_num(t, (uint64_t)mday, 1);
	msg_text_add(t, " ");
	msg_text_add(t, months[mon]);
	msg_text_add(t, " ");
	msg_text_num(t, (uint64_t)y, 4);
	msg_text_add(t, " ");
	msg_text_num(t, secs / 3600, 2);
	msg_text_add(t, ":");
	msg_text_num(t, secs / 60 % 60, 2);
	msg_text_add(t, ":");
	msg_text_num(t, secs % 60, 2);
	add_offset(t, off);
}

static int
given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static void
add_clean(struct msg_text *t, const char *s, size_t max)
{
	msg_text_clean(t, s, strlen(s), max, 1);
}

/*
 * RFC 5321 4.4: "from" names the client as it named itself, with its
 * address as an address literal in TCP-info when the site wants it there.
 */
static void
add_from_clause(struct msg_text *t, const struct msg_params *p)
{
	msg_text_add(t, "Received: from ");
	if (given(p->helo))
		add_clean(t, p->helo, 255);
	else
		msg_text_add(t, "unknown");
	if (p->received_client_address && given(p->client_addr)) {
		msg_text_add(
			t, strchr(p->client_addr, ':') ? " ([IPv6:" : " ([");
		add_clean(t, p->client_addr, 64);
		msg_text_add(t, "])");
	}
	msg_text_add(t, "\r\n");
}

/* RFC 3848: the protocol word says whether TLS and AUTH were used. */
static const char *
protocol(const struct msg_params *p)
{
	if (given(p->user))
		return p->tls ? "ESMTPSA" : "ESMTPA";
	return p->tls ? "ESMTPS" : "ESMTP";
}

static const char *
hostname(const struct msg_params *p)
{
	return given(p->hostname) ? p->hostname : "localhost";
}

size_t
msg_fixup_received(const struct msg_params *p, char *buf, size_t cap)
{
	struct msg_text t;

	msg_text_init(&t, buf, cap);
	add_from_clause(&t, p);
	msg_text_add(&t, "\tby ");
	add_clean(&t, hostname(p), 255);
	msg_text_add(&t, " (postlet) with ");
	msg_text_add(&t, protocol(p));
	if (given(p->session_id)) {
		msg_text_add(&t, " id ");
		add_clean(&t, p->session_id, 64);
	}
	/* "for" only with one recipient: more would disclose Bcc ones. */
	if (given(p->first_rcpt)) {
		msg_text_add(&t, "\r\n\tfor <");
		add_clean(&t, p->first_rcpt, 320);
		msg_text_add(&t, ">");
	}
	msg_text_add(&t, ";\r\n\t");
	add_date(&t, p->now, p->tz_offset_min);
	msg_text_add(&t, "\r\n");
	return t.full ? MSG_NO_FIT : t.len;
}

/* RFC 6409 8.3: unique@host; the caller's unique part, or time and id. */
static void
add_message_id(struct msg_text *t, const struct msg_params *p)
{
	msg_text_add(t, "Message-ID: <");
	if (given(p->unique)) {
		add_clean(t, p->unique, 128);
	} else {
		msg_text_num(t, (uint64_t)(p->now < 0 ? 0 : p->now), 1);
		msg_text_add(t, ".");
		add_clean(t, given(p->session_id) ? p->session_id : "0", 64);
	}
	msg_text_add(t, "@");
	add_clean(t, hostname(p), 255);
	msg_text_add(t, ">\r\n");
}

size_t
msg_fixup_trailer(
	const struct msg_params *p, unsigned seen, char *buf, size_t cap)
{
	struct msg_text t;

	msg_text_init(&t, buf, cap);
	/* RFC 6409 8.2. */
	if (!(seen & SEEN_DATE)) {
		msg_text_add(&t, "Date: ");
		add_date(&t, p->now, p->tz_offset_min);
		msg_text_add(&t, "\r\n");
	}
	if (!(seen & SEEN_MSGID))
		add_message_id(&t, p);
	/*
	 * RFC 5322 3.6.3 lets a message have no destination field; an empty
	 * group (3.4) says so to readers that expect one, without naming
	 * any recipient.
	 */
	if (!(seen & SEEN_DEST) && p->add_to)
		msg_text_add(&t, "To: undisclosed-recipients:;\r\n");
	return t.full ? MSG_NO_FIT : t.len;
}
