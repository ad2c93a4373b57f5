/*
 * The relay client: postlet as an SMTP client (RFC 5321, RFC 6409) of its
 * one upstream. One struct relay is one connection, driven by altcp
 * callbacks from the loop: it finds the upstream (SRV, then A/AAAA),
 * connects, trying each address in turn, begins TLS (at once for smtps,
 * by STARTTLS for smtp), says EHLO, authenticates, and then carries
 * transactions for its owner, usually a server session in proxy mode.
 *
 * Memory: struct relay and the TLS state and buffer given to relay_init
 * belong to the owner; nothing here allocates. The configuration, TLS
 * configuration and EHLO name given to relay_open must stay valid until
 * the relay is closed.
 *
 * Callbacks: each verdict of the upstream reaches the owner through
 * on_reply, a failure of the connection through on_fail, once, after
 * which the relay is closed. They run from the loop, never from inside
 * a relay_* call (a failure found inside relay_open is told from the
 * next turn of the loop). In any callback the owner may call any relay_*
 * function, relay_abort included; the relay checks its state again
 * after every callback. The owner calls relay_abort (a no-op when
 * closed) before it reuses or frees the struct relay, never frees it
 * from inside a callback, and logs the failures it is told of: the
 * relay logs its normal flow (connected, tls, ready, message) only.
 */
#ifndef POSTLET_RELAY_H
#define POSTLET_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/ip_addr.h"

#include "relay/caps.h"
#include "relay/relay_conf.h"
#include "relay/reply.h"

struct altcp_pcb;
struct pbuf;
struct tls_conn;
struct tls_client_config;

/*
 * Time-outs, RFC 5321 4.5.3.2 where it gives one. A test build may
 * shorten them with -D.
 */
#ifndef RELAY_TIMEOUT_CONNECT_MS
#define RELAY_TIMEOUT_CONNECT_MS 30000u /* TCP, per address */
#endif
#ifndef RELAY_TIMEOUT_TLS_MS
#define RELAY_TIMEOUT_TLS_MS 60000u /* TLS handshake */
#endif
#ifndef RELAY_TIMEOUT_GREETING_MS
#define RELAY_TIMEOUT_GREETING_MS 300000u /* 4.5.3.2.1: initial 220 */
#endif
#ifndef RELAY_TIMEOUT_COMMAND_MS
#define RELAY_TIMEOUT_COMMAND_MS 300000u /* 4.5.3.2.2, .3: MAIL, RCPT */
#endif
#ifndef RELAY_TIMEOUT_DATA_MS
#define RELAY_TIMEOUT_DATA_MS 120000u /* 4.5.3.2.4: DATA initiation */
#endif
#ifndef RELAY_TIMEOUT_BLOCK_MS
#define RELAY_TIMEOUT_BLOCK_MS 180000u /* 4.5.3.2.5: a data block */
#endif
#ifndef RELAY_TIMEOUT_DOT_MS
#define RELAY_TIMEOUT_DOT_MS 600000u /* 4.5.3.2.6: after the final dot */
#endif

/* Command bytes that may wait for the upstream, and replies awaited. */
#define RELAY_QUEUE_MAX 2048
#define RELAY_STEPS_MAX 32
#define RELAY_ADDRS_MAX 4
/* SRV targets tried in turn when the first cannot be reached. */
#define RELAY_SRV_TRY 3

/* What a reply answers. */
enum relay_step {
	RELAY_STEP_OPEN, /* greeting, EHLO, TLS and AUTH: ready */
	RELAY_STEP_MAIL,
	RELAY_STEP_RCPT,
	RELAY_STEP_DATA, /* 354: send the body now */
	RELAY_STEP_END, /* the verdict on the message, after the dot */
	RELAY_STEP_RSET,
	RELAY_STEP_QUIT
};

/* Why a connection failed; the text passed along says more. */
enum relay_fail {
	RELAY_FAIL_RESOLVE, /* no SRV record, no address, resolver error */
	RELAY_FAIL_CONNECT, /* refused, unreachable or timed out: all addrs */
	RELAY_FAIL_TLS, /* handshake or certificate check failed */
	RELAY_FAIL_STARTTLS, /* smtp:// upstream refused or lacks STARTTLS */
	RELAY_FAIL_AUTH, /* AUTH rejected, or no mechanism in common */
	RELAY_FAIL_REFUSED, /* greeting or EHLO not accepted */
	RELAY_FAIL_PROTOCOL, /* unparsable or out-of-step reply */
	RELAY_FAIL_TIMEOUT, /* no reply in time (RFC 5321 4.5.3.2) */
	RELAY_FAIL_CLOSED, /* the upstream closed or reset the connection */
	RELAY_FAIL_LOCAL /* out of connections or memory here */
};

/* What relay_* calls return besides RELAY_OK. */
enum relay_result {
	RELAY_OK = 0,
	RELAY_ERR_STATE = -1, /* not now: see each call's states */
	RELAY_ERR_BUSY = -2, /* queue full: call again after on_reply */
	RELAY_ERR_ARG = -3, /* address too long or with control bytes */
	RELAY_ERR_8BIT = -4, /* 8-bit body, upstream lacks 8BITMIME */
	RELAY_ERR_UTF8 = -5, /* UTF-8 envelope, upstream lacks SMTPUTF8 */
	RELAY_ERR_SIZE = -6, /* larger than the upstream's SIZE */
	RELAY_ERR_BODY = -7 /* the body did not end with CRLF "." CRLF */
};

/* Flags of relay_mail. */
#define RELAY_MAIL_8BIT 0x01u /* BODY=8BITMIME, RFC 6152 */
#define RELAY_MAIL_UTF8 0x02u /* SMTPUTF8, RFC 6531 */

/* A line of the dialogue, for `postlet test` and debugging. */
enum relay_dir { RELAY_DIR_SENT, RELAY_DIR_RECEIVED };

struct relay_owner {
	/*
	 * A reply to step: code 200..599, enhanced the RFC 3463 code ("" if
	 * none), text printable ASCII, lines joined by '\n', at most
	 * RELAY_TEXT_MAX bytes. Valid during the call only.
	 */
	void (*on_reply)(void *arg, enum relay_step step, int code,
		const char *enhanced, const char *text);
	/* The connection is gone; why is one line for a person. */
	void (*on_fail)(void *arg, enum relay_fail fail, const char *why);
	/* The body can take more bytes (after a short relay_body_write). */
	void (*on_writable)(void *arg);
	/* Optional: each line sent or received, AUTH data masked. */
	void (*on_trace)(void *arg, enum relay_dir dir, const char *line);
};

enum relay_state {
	RELAY_STATE_CLOSED,
	RELAY_STATE_RESOLVING, /* SRV, then A/AAAA */
	RELAY_STATE_CONNECTING,
	RELAY_STATE_HANDSHAKE, /* TLS, for smtps or after STARTTLS */
	RELAY_STATE_GREETING,
	RELAY_STATE_EHLO,
	RELAY_STATE_STARTTLS,
	RELAY_STATE_AUTH,
	RELAY_STATE_READY, /* no transaction */
	RELAY_STATE_ENVELOPE, /* MAIL and RCPTs queued or answered */
	RELAY_STATE_DATA, /* DATA sent, 354 awaited */
	RELAY_STATE_BODY, /* the owner writes the message */
	RELAY_STATE_DOT, /* the final dot sent, the verdict awaited */
	RELAY_STATE_QUIT
};

/* A command sent or to send, and the reply it waits for. */
struct relay_cmd {
	uint8_t kind; /* relay.c's CMD_ */
	uint8_t released; /* may go out (pipelining) or has */
	uint16_t len; /* its bytes in queue, CRLF included */
	uint16_t mask; /* trace shows only this many bytes, then "****" */
};

struct relay {
	enum relay_state state;
	const struct relay_conf *conf;
	struct tls_client_config *tls_cfg;
	const char *ehlo_name;
	const struct relay_owner *owner;
	void *arg;
	const char *sid; /* for log lines */
	unsigned gen; /* changes when the connection ends */

	struct tls_conn *tc; /* from relay_init */
	unsigned char *tls_buf;
	size_t tls_buflen;

	struct altcp_pcb *pcb; /* the top of the stack: TLS or TCP */
	struct pbuf *in; /* received, not parsed yet */
	int tls_active;
	int in_callback; /* inside one of our altcp callbacks */
	int aborted; /* and it aborted its pcb: return ERR_ABRT */
	int opening; /* inside relay_open: failures wait for the loop */
	int fail_pending; /* enum relay_fail + 1 of a failure not told */
	char fail_text[256];
	uint32_t since; /* when the awaited thing began */

	/* Where to connect: the SRV target or the configured host. */
	char host[256]; /* as struct resolve_srv's target */
	uint16_t port;
	enum relay_tls tls_mode;
	int srv_fallback; /* looking up _submission after _submissions */
	struct {
		char host[RELAY_HOST_MAX + 1];
		uint16_t port;
	} srv[RELAY_SRV_TRY]; /* the SRV targets, in the order to try */
	size_t nsrv, next_srv;
	ip_addr_t addrs[RELAY_ADDRS_MAX];
	size_t naddrs, next_addr;
	char last_error[96]; /* of the latest connect attempt */

	struct relay_caps caps;
	struct relay_reply reply;
	char queue[RELAY_QUEUE_MAX]; /* command bytes not written yet */
	size_t queued;
	size_t released; /* of those, the first bytes that may go now */
	struct relay_cmd steps[RELAY_STEPS_MAX]; /* in order sent */
	size_t nsteps;
	int txn_open; /* the upstream may hold a MAIL without its end */
	int txn_utf8; /* the transaction's MAIL said SMTPUTF8 */
	int want_write; /* a body write fell short: on_writable due */
	char tail[5]; /* the body's last bytes, to check its end */
};

/* Once per struct relay: the owner's TLS state and buffer for it. */
void relay_init(struct relay *r, struct tls_conn *tc, unsigned char *tls_buf,
	size_t tls_buflen);

/*
 * Start a connection: look up and connect to the upstream of conf,
 * verifying it with tls (NULL only for smtp+plain), introducing us with
 * EHLO ehlo_name. owner, arg and sid (for log lines) stay as given. The
 * relay must be closed. on_reply(RELAY_STEP_OPEN, 250 or 235, ...) says
 * it is ready for relay_mail; on_fail says it never will be. Returns
 * RELAY_OK, or RELAY_ERR_STATE when not closed; a failure to even begin
 * (resolver busy, no pcb) comes through on_fail like any other.
 */
int relay_open(struct relay *r, const struct relay_conf *conf,
	struct tls_client_config *tls, const char *ehlo_name,
	const struct relay_owner *owner, void *arg, const char *sid);

/*
 * Begin a transaction (state READY): MAIL FROM:<from>, with SIZE=size
 * when the upstream offers SIZE and size > 0, BODY=8BITMIME and SMTPUTF8
 * as flags ask. A transaction left open (a refused DATA) is reset first.
 * The verdict comes as on_reply(RELAY_STEP_MAIL). With PIPELINING the
 * command goes out at once with the RCPTs that follow; without, each
 * waits for the reply before it. Returns RELAY_OK or RELAY_ERR_*: 8BIT,
 * UTF8 and SIZE say the upstream cannot take this message at all (a
 * server answers 554 5.6.3, 553 5.6.7 and 552 5.3.4); nothing was sent.
 */
int
relay_mail(struct relay *r, const char *from, uint32_t size, unsigned flags);

/* RCPT TO:<to> (after relay_mail); verdict as RELAY_STEP_RCPT. */
int relay_rcpt(struct relay *r, const char *to);

/*
 * DATA (after relay_mail): on_reply(RELAY_STEP_DATA, 354) means the body
 * may be written; any other code ends the transaction.
 */
int relay_data(struct relay *r);

/*
 * Body bytes (state BODY), already canonical: CRLF line ends, dot-
 * stuffed, the final CRLF "." CRLF included. Returns how many bytes were
 * taken, possibly 0; after a short count on_writable says when to go on.
 * The bytes are copied.
 */
size_t relay_body_write(struct relay *r, const void *buf, size_t len);

/*
 * All of the body was written, its final "." line too: the verdict comes
 * as on_reply(RELAY_STEP_END). RELAY_ERR_BODY if the bytes written do not
 * end in CRLF "." CRLF: the upstream would wait for the end forever.
 */
int relay_body_end(struct relay *r);

/* RSET (states READY, ENVELOPE); its reply as RELAY_STEP_RSET. */
int relay_rset(struct relay *r);

/*
 * QUIT (states READY, ENVELOPE): on_reply(RELAY_STEP_QUIT) comes once the
 * upstream answered and the connection is closed.
 */
int relay_quit(struct relay *r);

/* Close at once, whatever the state; no callback follows. */
void relay_abort(struct relay *r);

/* What the upstream's last EHLO offered. */
const struct relay_caps *relay_caps(const struct relay *r);

/* Words for enum values, for logs and `postlet test`. */
const char *relay_step_name(enum relay_step step);
const char *relay_fail_name(enum relay_fail fail);

#endif
