/*
 * The message path: turns the bytes a client sends after DATA into the
 * bytes postlet sends upstream after its own DATA, chunk by chunk, in the
 * fixed memory of one struct msg. No network, no allocation.
 *
 * Input is the dot-stuffed DATA stream (RFC 5321 4.5.2). Its end is
 * recognised only as CRLF "." CRLF, where the first CRLF may be the one
 * that ended the DATA command: "\n.\n", "\r.\r\n", "\r\n.\n" and the like
 * are ordinary text, never an end, so that no upstream can read one
 * message as two (SMTP smuggling).
 *
 * Output is canonical and ready for the upstream: every line ends in CRLF,
 * every line starting with "." is dot-stuffed again by us, no line is
 * longer than 998 octets plus CRLF, and the last bytes are "." CRLF.
 * A bare CR or a bare LF in the input ends a line: it is written as CRLF.
 * A "." after a bare CR or LF is not a transparency dot (only CRLF starts
 * an SMTP line) and is kept, then stuffed on output. A "." after CRLF is
 * removed unless CR LF follows it, even when a bare CR or LF does.
 *
 * Fixed (RFC 6409 section 8): a Received field is put first (RFC 5321
 * 4.4, "with ESMTPSA" and kin per RFC 3848); at the end of the header
 * section Date (8.2) and Message-ID (8.3) are added when missing, and
 * "To: undisclosed-recipients:;" when there is no To, Cc or Bcc and the
 * caller asks for it. In From, Sender, Reply-To, To, Cc and Bcc a bare
 * local part ("bob", "Bob <bob>") gets "@" and the configured domain
 * (8.8); quoted strings, comments, groups and qualified addresses stay as
 * they are. Every other octet passes unchanged, but for line ends and for
 * the empty line put before a body that begins without one (a line that
 * is no header field; RFC 5322 2.1).
 *
 * Refused, with the reply msg_error_reply gives: a NUL octet, a line
 * longer than 998 octets (RFC 5322 2.1.1; a line that starts with "."
 * counts its stuffing dot, as RFC 5321 4.5.3.1.6 counts the line sent),
 * more than max_size octets (RFC 1870), a From or Sender field too long to
 * examine or without any address, and an address in From or Sender that
 * from_ok does not grant (RFC 6409 6.3). A message without From passes.
 */
#ifndef POSTLET_MSG_H
#define POSTLET_MSG_H

#include <stddef.h>
#include <stdint.h>

/* A header field is kept this long while it is examined. */
#define MSG_FIELD_MAX 4096
/* RFC 5322 2.1.1: a line is at most 998 octets, CRLF not counted. */
#define MSG_LINE_MAX 998
/* Unqualified addresses one field may have qualified; more: left as is. */
#define MSG_QUALIFY_MAX 32
/* An address given to from_ok, and the longest reply text. */
#define MSG_ADDR_MAX 384
#define MSG_REPLY_MAX 512

struct msg_params {
	const char *hostname; /* ours: Received "by" and Message-ID */
	const char *domain; /* appended to bare local parts; NULL: none */
	const char *helo; /* what the client said in EHLO or HELO */
	const char *client_addr; /* IPv4 or IPv6 text, no brackets */
	int received_client_address; /* 1: put client_addr in Received */
	const char *user; /* authenticated user, NULL: none */
	const char *session_id; /* Received "id" */
	int tls; /* 1: the client's connection is TLS */
	const char *first_rcpt; /* Received "for", only when one recipient */
	int add_to; /* 1: add "To: undisclosed-recipients:;" when none */
	int64_t now; /* seconds since 1970, for Date and Received */
	int tz_offset_min; /* local offset east of UTC, for Date */
	uint64_t max_size; /* octets of message as SIZE counts; 0: no limit */
	/*
	 * Is addr[0..len) granted to the user as an author address? Called
	 * for each address in From and Sender, qualified as it will be
	 * sent. NULL: everything is granted.
	 */
	int (*from_ok)(void *arg, const char *addr, size_t len);
	void *from_ok_arg;
	const char *unique; /* left of "@" in Message-ID, e.g. random hex */
};

enum msg_status {
	MSG_MORE, /* all input taken, output so far written: feed more */
	MSG_OUT_FULL, /* out is full or output waits: drain, call again */
	MSG_END, /* end of data taken; output complete unless refused */
	MSG_ERROR /* refused now (once): see msg_error_reply; keep feeding */
};

/*
 * Everything below is private to src/msg/; the struct is here so that
 * the caller can own its memory (sizeof is about 5 KiB).
 */
struct msg_out_src {
	const char *buf; /* bytes waiting to be written */
	size_t len, pos;
	uint16_t ins_i, ins_n; /* insertions of "@domain" done, planned */
	uint16_t sub; /* octets of the current "@domain" written */
	unsigned char raw; /* no dot-stuffing: the final "." CRLF */
};

struct msg {
	struct msg_params p;
	uint64_t size; /* octets counted as SIZE does */
	unsigned char in_state; /* where in CRLF "." CRLF the input is */
	unsigned char phase; /* header section or body */
	unsigned char bol; /* the next content octet starts a line */
	unsigned char eightbit;
	unsigned char seen; /* header fields met, SEEN_ bits */
	unsigned char stage; /* what follows the current drain */
	unsigned char ended; /* end of data taken */
	unsigned char err_told; /* MSG_ERROR returned */
	uint16_t linelen; /* octets of the current output line */
	uint16_t dlen; /* of p.domain; 0: do not qualify */
	/* The header field under examination, in output form. */
	unsigned char fkind; /* FIELD_ kind, once its name is complete */
	unsigned char fname; /* 0 name, 1 WSP after name, 2 value */
	unsigned char fstream; /* outgrew field[]: passing through */
	unsigned char out_bol; /* output is at the start of a line */
	uint16_t ins_n; /* insertions planned for field[] */
	uint16_t ins[MSG_QUALIFY_MAX]; /* offsets in field[] */
	size_t flen;
	size_t plen; /* a line that proved not to be a field */
	struct msg_out_src src;
	/* During msg_feed only: the caller's out buffer. */
	char *out;
	size_t outcap, outlen;
	char spill[4]; /* what one event writes past a full out */
	unsigned char spill_len;
	char field[MSG_FIELD_MAX];
	char reply[MSG_REPLY_MAX]; /* "" until refused */
};

/*
 * Start a message. p is copied; the strings it points to and
 * p->from_ok_arg stay the caller's and must live until MSG_END.
 */
void msg_begin(struct msg *m, const struct msg_params *p);

/*
 * Take input from in[0..len) and write output to out[0..outcap); *used
 * and *written tell how much. Output is written only while the message is
 * not refused; outcap may be anything from 1 up, and 0 when refused.
 *
 *  MSG_MORE      all of in was taken; call again with more input.
 *  MSG_OUT_FULL  out is full or more output waits: send out[0..written),
 *                then call again with in + used (len may then be 0).
 *  MSG_END       CRLF "." CRLF was taken and all output written, ending
 *                in "." CRLF. Bytes after it are not taken: they are the
 *                client's next command (RFC 2920 pipelining). Every later
 *                call returns MSG_END and takes nothing.
 *  MSG_ERROR     the message is refused, returned once. Output stops;
 *                what was written must not be sent on as a message (do
 *                not send "." upstream). Keep feeding: input is read and
 *                dropped until CRLF "." CRLF, then MSG_END, so that the
 *                client's text is never taken for commands. Reply with
 *                msg_error_reply after MSG_END.
 */
enum msg_status msg_feed(struct msg *m, const char *in, size_t len,
	size_t *used, char *out, size_t outcap, size_t *written);

/* The SMTP reply for a refused message, without CRLF; NULL if none. */
const char *msg_error_reply(const struct msg *m);

/* 1 when the message has an octet above 127 (BODY=8BITMIME, logs). */
int msg_8bit(const struct msg *m);

/* Octets of message taken so far, counted as SIZE does (RFC 1870). */
uint64_t msg_size(const struct msg *m);

/* 1 when the header section had a From field (for the log). */
int msg_has_from(const struct msg *m);

#endif
