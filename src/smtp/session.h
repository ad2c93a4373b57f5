/*
 * One SMTP server session: private to src/smtp/. The command handlers in
 * commands.c act on it through the functions below.
 */
#ifndef POSTLET_SMTP_SESSION_H
#define POSTLET_SMTP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "smtp/linebuf.h"
#include "tls/tls.h"

/*
 * RFC 5321 4.5.3.1.4 allows 512 octets for a command line and lets
 * extensions raise it; ESMTP parameters on MAIL and RCPT need the room.
 */
#define SMTP_LINE_MAX 1024
/* Replies wait here while the connection cannot take them. */
#define SMTP_OUT_MAX 2048
/* No single reply is longer; input waits until this much is free. */
#define SMTP_REPLY_MAX 512

enum session_state {
	STATE_FREE, /* in the pool, unused */
	STATE_HANDSHAKE, /* TLS handshake on 465 or after STARTTLS */
	STATE_GREETED, /* greeting sent, EHLO or HELO expected */
	STATE_READY, /* the client said who it is */
	STATE_STARTTLS, /* 220 to STARTTLS queued; wrap once it is out */
	STATE_CLOSING /* last reply queued; close once it is out */
};

#define STATE_BIT(s) (1u << (s))

struct session {
	enum session_state state;
	struct altcp_pcb *pcb;
	char id[9];
	enum conf_tls_mode mode;
	int tls_active;
	int esmtp;
	unsigned commands;
	uint32_t last_activity;
	const char *close_reason;
	char client[56]; /* "address port" for logs */
	struct tls_server_config *tls_cfg;
	struct tls_conn *tls;
	unsigned char *tls_buf;
	size_t tls_buflen;
	struct pbuf *in; /* received bytes not handled yet */
	struct linebuf lb;
	char line[SMTP_LINE_MAX];
	char out[SMTP_OUT_MAX];
	size_t outlen;
};

/* Queue one reply line; CRLF is added. Never truncates silently. */
void session_reply(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void session_enter_state(struct session *s, enum session_state next);

/* The configured host name, for greetings and replies. */
const char *session_hostname(void);

/* Handle one complete command line (commands.c). */
void smtp_command_dispatch(struct session *s, char *line);

#endif
