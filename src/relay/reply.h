/*
 * Replies from the upstream (RFC 5321 4.2): one or more lines, each a
 * three-digit code, then "-" on all lines but the last, then text. The
 * bytes come from the network and are not trusted: every line and the
 * text kept of a reply are bounded, and what the parser hands on is
 * printable ASCII only, so the owner may quote it to its own client.
 */
#ifndef POSTLET_RELAY_REPLY_H
#define POSTLET_RELAY_REPLY_H

#include <stddef.h>

/* RFC 5321 4.5.3.1.5: 512 octets a reply line, CRLF included. */
#define RELAY_LINE_MAX 512
/* Text kept of one reply, its lines joined by '\n'; more is cut. */
#define RELAY_TEXT_MAX 1024
/* Lines one reply may have; EHLO replies have a dozen or two. */
#define RELAY_LINES_MAX 128
/* "5.123.456" and its NUL (RFC 3463 2). */
#define RELAY_ENHANCED_MAX 10

enum relay_reply_event {
	RELAY_REPLY_MORE, /* all bytes taken, the line is not complete */
	RELAY_REPLY_LINE, /* a line other than the last is complete */
	RELAY_REPLY_DONE, /* the last line is complete: the reply is whole */
	RELAY_REPLY_BAD /* not a reply; error says why */
};

struct relay_reply {
	int code; /* 200..599, once the first line is complete */
	char enhanced[RELAY_ENHANCED_MAX]; /* of the first line, or "" */
	char text[RELAY_TEXT_MAX]; /* lines' text, without codes */
	size_t textlen;
	int text_cut; /* text outgrew its buffer and ends in "..." */
	char line[RELAY_LINE_MAX]; /* the latest line, as sent */
	size_t linelen;
	size_t line_text; /* where its text begins in line */
	unsigned nlines;
	int overlong; /* the line being read outgrew line */
	int line_done; /* line was handed out; the next one starts empty */
	const char *error; /* after RELAY_REPLY_BAD */
};

/* Forget everything: ready for the first line of a new reply. */
void relay_reply_init(struct relay_reply *rp);

/*
 * Take bytes from data[0..len) up to and including the end of one line
 * (LF; a CR before it is dropped, and a bare LF is accepted, since
 * leniency costs nothing here). *used says how many were taken. After
 * LINE or DONE, line (NUL-terminated) is the complete line, with bytes
 * outside printable ASCII replaced by '?' and a line longer than
 * RELAY_LINE_MAX cut and ending in "..."; line + line_text is its text
 * without code and enhanced status code. After DONE the caller handles
 * the reply and calls relay_reply_init before feeding more; after BAD
 * the connection cannot be trusted to be in step and should be closed.
 */
enum relay_reply_event relay_reply_feed(
	struct relay_reply *rp, const void *data, size_t len, size_t *used);

#endif
