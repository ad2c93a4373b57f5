/*
 * Assembles SMTP command lines from a byte stream in a caller-owned buffer.
 * A line ends only at CRLF (RFC 5321 2.3.8); a bare CR or LF inside a
 * command line is kept and left to the command parser to refuse. A line
 * longer than the buffer is not cut silently: its bytes are skipped up to
 * the next CRLF and the line is reported as too long, once.
 */
#ifndef POSTLET_LINEBUF_H
#define POSTLET_LINEBUF_H

#include <stddef.h>

struct linebuf {
	char *buf; /* caller's memory, cap bytes */
	size_t cap;
	size_t len; /* bytes of the current line, CRLF excluded */
	int cr; /* the previous byte was CR */
	int overlong; /* the current line outgrew cap */
};

enum linebuf_result {
	LINEBUF_MORE, /* all given bytes taken, no line complete */
	LINEBUF_LINE, /* a line is complete: buf[0..len), NUL-terminated */
	LINEBUF_OVERLONG /* a line ended that did not fit; nothing in buf */
};

/* cap includes room for the terminating NUL. */
void linebuf_init(struct linebuf *lb, char *buf, size_t cap);

/*
 * Take bytes from data[0..len) up to and including the end of the first
 * line. *used tells how many were taken. After LINEBUF_LINE or
 * LINEBUF_OVERLONG the caller handles the line and calls linebuf_next
 * before feeding more.
 */
enum linebuf_result
linebuf_feed(struct linebuf *lb, const char *data, size_t len, size_t *used);

/* Forget the completed line (and any partial one: used after STARTTLS). */
void linebuf_next(struct linebuf *lb);

#endif
