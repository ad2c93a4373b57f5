/*
 * One SMTP server session: private to src/smtp/. The command handlers in
 * commands.c act on it through the functions below.
 */
#ifndef POSTLET_SMTP_SESSION_H
#define POSTLET_SMTP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "auth/users.h"
#include "conf/conf.h"
#include "msg/msg.h"
#include "smtp/linebuf.h"
#include "smtp/path.h"
#include "smtp/sasl.h"
#include "tls/tls.h"

/*
 * RFC 5321 4.5.3.1.4 allows 512 octets for a command line and lets
 * extensions raise it; ESMTP parameters on MAIL and RCPT need the room.
 */
#define SMTP_COMMAND_MAX 1000
/* AUTH lines may be longer (RFC 4954 4); the buffer holds those. */
#define SMTP_LINE_MAX (SASL_LINE_MAX + 1)
/* Message bytes on their way upstream. */
#define SMTP_BODY_CHUNK 4096
/* Replies wait here while the connection cannot take them. */
#define SMTP_OUT_MAX 2048
/* No single reply is longer; input waits until this much is free. */
#define SMTP_REPLY_MAX 512

enum session_state {
	STATE_FREE, /* in the pool, unused */
	STATE_HANDSHAKE, /* TLS handshake on 465 or after STARTTLS */
	STATE_GREETED, /* greeting sent, EHLO or HELO expected */
	STATE_READY, /* the client said who it is */
	STATE_AUTH, /* AUTH: a SASL response line is expected */
	STATE_MAIL, /* a transaction: MAIL taken, RCPT or DATA next */
	STATE_DATA, /* message bytes flow to the upstream */
	STATE_STARTTLS, /* 220 to STARTTLS queued; wrap once it is out */
	STATE_CLOSING /* last reply queued; close once it is out */
};

#define STATE_BIT(s) (1u << (s))

/* Why input is not being read for now. */
enum session_wait {
	WAIT_NONE,
	WAIT_UPSTREAM, /* the upstream's verdict decides the reply */
	WAIT_THROTTLE, /* failed logins: the reply is held back */
	WAIT_HASH, /* the password is being hashed, a slice a loop turn */
	WAIT_BODY /* the upstream cannot take message bytes yet */
};

enum sasl_mech { MECH_NONE, MECH_PLAIN, MECH_LOGIN };

struct relay;
struct relay_conf;
struct tls_client_config;

struct session {
	enum session_state state;
	struct altcp_pcb *pcb;
	char id[9];
	enum conf_tls_mode mode;
	int tls_active;
	unsigned commands;
	uint32_t last_activity;
	const char *close_reason;
	char client[64]; /* "address port=N" for logs */
	char client_ip[48]; /* text, for Received */
	unsigned char client_key[16]; /* address bytes, for throttling */
	size_t client_keylen;
	char helo[CONF_NAME_MAX + 1];
	enum session_wait wait;
	int eof; /* the client closed its side */
	int tls_wait_hello; /* implicit TLS: no byte from the client yet */
	uint32_t resume_at; /* WAIT_THROTTLE: when the reply may go */

	/* AUTH (RFC 4954) */
	enum sasl_mech mech;
	char login_name[SASL_NAME_MAX + 1]; /* LOGIN: name before password */
	size_t login_namelen;
	char pending_reply[64]; /* held back by WAIT_THROTTLE */
	const struct users *users; /* the set the user was found in */
	struct users_check check; /* WAIT_HASH: the login being verified */
	char check_name[SASL_NAME_MAX + 1]; /* whom it is for, for logs */
	size_t check_namelen;
	const struct user *user; /* NULL until AUTH succeeds */

	/* The transaction (RFC 5321 3.3) */
	struct smtp_path from;
	struct smtp_mail_params mail;
	unsigned rcpt_tried, rcpt_ok;
	char rcpt_first[SMTP_ADDR_MAX + 1];
	char rcpt_pending[SMTP_ADDR_MAX + 1]; /* awaiting the upstream */
	unsigned messages;
	const char *data_fail; /* reply when the upstream failed mid-DATA */

	/* The message on its way (DATA) */
	struct msg msg;
	char body[SMTP_BODY_CHUNK];
	size_t body_len, body_off;
	int msg_done; /* end of data seen */
	char msg_unique[48]; /* left part of the Message-ID postlet adds */

	struct relay *relay; /* the upstream, opened at the first MAIL */
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

/* The configuration sessions run with (server.c). */
const struct conf *session_conf(void);

/* The users file in force, NULL when none could be read. */
const struct users *session_users(void);

/* The upstream and how to verify it (server.c). */
const struct relay_conf *session_relay_conf(void);
struct tls_client_config *session_relay_tls(void);

/* Continue after a wait ended: replies flushed, input read again. */
void session_resume(struct session *s);

/* End the transaction and forget its envelope (RSET, EHLO, end of DATA). */
void session_transaction_reset(struct session *s);

/* AUTH and the SASL exchange (auth.c). */
void smtp_auth_start(struct session *s, const char *args);
void smtp_auth_response(struct session *s, const char *line, size_t len);
void smtp_auth_timer(struct session *s);
/* Hash for a login in WAIT_HASH, rounds at most; 1 when it was answered. */
int smtp_auth_hash_step(struct session *s, unsigned long rounds);
/* Drop a login still being hashed, wiping what it holds. */
void smtp_auth_abandon(struct session *s);
/* Ask for smtp_auth_hash_step to be called from the loop (server.c). */
void session_hash_schedule(void);

/* MAIL, RCPT, DATA and the upstream (envelope.c, proxy.c). */
void smtp_mail(struct session *s, const char *args);
void smtp_rcpt(struct session *s, const char *args);
void smtp_data(struct session *s, const char *args);
/* Message bytes in DATA: returns how many of in[0..len) were taken. */
size_t smtp_data_feed(struct session *s, const char *in, size_t len);
void smtp_proxy_mail(struct session *s);
void smtp_proxy_rcpt(struct session *s, const struct smtp_path *to);
void smtp_proxy_data(struct session *s);
void smtp_proxy_rset(struct session *s);
void smtp_proxy_close(struct session *s);
void smtp_proxy_timer(struct session *s);

#endif
