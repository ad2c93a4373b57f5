/*
 * Private to src/msg/: how the files of the message path talk to each
 * other. msg.c reads the input and writes the output, header.c examines
 * the header section, addr.c reads address lists, fixup.c writes the
 * fields postlet adds, text.c builds bounded text.
 */
#ifndef POSTLET_MSG_PRIV_H
#define POSTLET_MSG_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "msg/msg.h"

enum { PHASE_HEADER, PHASE_BODY };

/* What the input decoder hands on, one at most for each input octet. */
enum msg_event { EV_NONE, EV_CONTENT, EV_LINE_END, EV_DATA_END };

/*
 * An event handler either takes the event or defers it: it then has set
 * up output to drain first, and the same event comes again afterwards.
 */
enum { TAKEN, DEFER };

/* What follows when the current output source is drained. */
enum {
	STAGE_NONE,
	STAGE_CLEAR, /* field[] is free again */
	STAGE_BLANK, /* write the empty line that ends the header section */
	STAGE_PARTIAL /* write field[0..plen), the first line of the body */
};

/* Header fields met, as msg->seen bits. */
#define SEEN_DATE 0x01
#define SEEN_MSGID 0x02
#define SEEN_DEST 0x04 /* To, Cc or Bcc (RFC 5322 3.6.3) */
#define SEEN_FROM 0x08

enum {
	FIELD_OTHER,
	FIELD_FROM,
	FIELD_SENDER,
	FIELD_REPLY_TO,
	FIELD_TO,
	FIELD_CC,
	FIELD_BCC,
	FIELD_DATE,
	FIELD_MSGID
};

/* msg.c */
void msg_refuse(struct msg *m, const char *reply);
void msg_put(struct msg *m, char c);
void msg_out_start(struct msg *m, const char *buf, size_t len, int stage);

/* header.c: an event while the header section is read. */
int msg_header_event(struct msg *m, enum msg_event ev, unsigned char c);
void msg_header_begin(struct msg *m);

/* fixup.c: the fields postlet adds; their length, or MSG_NO_FIT. */
#define MSG_NO_FIT ((size_t)-1)

size_t msg_fixup_received(const struct msg_params *p, char *buf, size_t cap);
size_t msg_fixup_trailer(
	const struct msg_params *p, unsigned seen, char *buf, size_t cap);

/* text.c: append to a bounded buffer; full says something did not fit. */
struct msg_text {
	char *buf;
	size_t cap, len;
	int full;
};

void msg_text_init(struct msg_text *t, char *buf, size_t cap);
void msg_text_add(struct msg_text *t, const char *s);
void msg_text_addn(struct msg_text *t, const char *s, size_t n);
/* v in decimal, zero-padded to at least width digits. */
void msg_text_num(struct msg_text *t, uint64_t v, int width);
/*
 * Peer text s[0..n), at most max octets of it. strict keeps only what may
 * stand in a Received clause (atext and ".-[]:@"); otherwise printable
 * ASCII is kept. Anything else becomes '?', so that no peer can end a
 * line or a clause early.
 */
void msg_text_clean(
	struct msg_text *t, const char *s, size_t n, size_t max, int strict);
/* buf[0..len) NUL-terminated; "" when nothing fits. */
const char *msg_text_str(struct msg_text *t);

/* addr.c: mailboxes of an address list (RFC 5322 3.4), one by one. */
#define MSG_NO_QUALIFY ((size_t)-1)

struct msg_addr_spec {
	char text[MSG_ADDR_MAX]; /* tokens without CFWS */
	size_t len;
	int too_long;
	int tokens;
	int at; /* has an "@" */
	int atom_ok; /* the only token so far is a dot-atom */
	size_t atom_end;
};

struct msg_addr_iter {
	const char *s;
	size_t len, pos;
	int angle; /* inside "<" ... ">" */
	int route; /* inside an obs-route "@a,@b:" (RFC 5322 4.4) */
	int angles; /* angle-addrs met in this address */
	int fresh; /* start a new address at the next call */
	int done;
	struct msg_addr_spec outside, inside;
};

struct msg_mailbox {
	const char *addr;
	size_t len;
	int too_long;
	size_t qualify_at; /* where "@domain" goes, or MSG_NO_QUALIFY */
};

/* Read s[pos..len); s stays the caller's. */
void
msg_addr_begin(struct msg_addr_iter *it, const char *s, size_t len, size_t pos);
/* 1 and *mb filled for the next mailbox, 0 at the end. */
int msg_addr_next(struct msg_addr_iter *it, struct msg_mailbox *mb);

#endif
