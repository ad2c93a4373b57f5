/*
 * Session pool, connection callbacks and the flow of bytes between the
 * connection and the command handlers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/altcp.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"

#include "auth/rate.h"
#include "auth/throttle.h"
#include "board.h"
#include "log.h"
#include "pcb.h"
#include "relay/relay.h"
#include "smtp/server.h"
#include "smtp/session.h"

/* Poll every second (lwIP counts in halves) to enforce timeouts. */
#define POLL_INTERVAL 2
/* A TLS handshake or a final flush must not hold a session longer. */
#define HANDSHAKE_TIMEOUT_MS 30000u
#define CLOSING_TIMEOUT_MS 10000u
/*
 * A TLS client sends its ClientHello at once; silence this long on the
 * implicit TLS port means a plaintext client waiting for a greeting.
 */
#define HELLO_WAIT_MS 5000u
#define RETIRED_MAX 4
/* Failed-login and rate records kept, whatever the number of clients. */
#define THROTTLE_ENTRIES 256
#define RATE_ENTRIES 256
/*
 * SHA-crypt rounds one login may use per loop turn: about 0.1 ms of a
 * desktop CPU, some milliseconds on a router's, so other sessions are
 * served between slices.
 */
#define HASH_ROUNDS_PER_TURN 250

struct listener {
	enum conf_tls_mode mode;
};

static struct {
	struct session *pool;
	size_t nsessions;
	size_t active;
	unsigned char *tls_mem;
	size_t tls_buflen;
	struct tls_conn *tls_conns;
	struct tls_server_config *tls;
	struct users *users;
	struct conf conf;
	struct relay_conf *relay_conf;
	struct tls_client_config *relay_tls;
	struct relay *relays;
	struct tls_conn *relay_conns;
	unsigned char *relay_mem;
	size_t relay_buflen;
	uint32_t timeout_ms;
	uint32_t id_base;
	uint32_t id_next;
	int draining;
	int hash_scheduled;
	/*
	 * The pcb whose callback runs, and whether it had to be aborted:
	 * lwIP then needs ERR_ABRT back from that callback, and only then.
	 */
	struct altcp_pcb *in_callback;
	int aborted;
	char hostname[CONF_NAME_MAX + 1];
	struct listener listeners[CONF_LISTEN_MAX];
	size_t nlisteners;
} srv;

static const char *const state_names[] = {
	"free",
	"handshake",
	"greeted",
	"ready",
	"auth",
	"mail",
	"data",
	"starttls",
	"closing",
};

static void session_flush(struct session *s);
static void session_process(struct session *s);
static void session_end(struct session *s, const char *reason);

const char *
session_hostname(void)
{
	return srv.hostname;
}

const struct conf *
session_conf(void)
{
	return &srv.conf;
}

const struct users *
session_users(void)
{
	return srv.users;
}

const struct relay_conf *
session_relay_conf(void)
{
	return srv.relay_conf;
}

struct tls_client_config *
session_relay_tls(void)
{
	return srv.relay_tls;
}

void
session_enter_state(struct session *s, enum session_state next)
{
	log_debug(s->id, "state", "from=%s to=%s", state_names[s->state],
		state_names[next]);
	s->state = next;
}

void
session_reply(struct session *s, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(s->out) - s->outlen;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->out + s->outlen, room, fmt, ap);
	va_end(ap);
	/*
	 * Input is only taken while SMTP_REPLY_MAX bytes are free, so a
	 * reply that does not fit is our bug: end the session rather than
	 * send half a reply.
	 */
	if (n < 0 || (size_t)n + 2 > room) {
		log_event(LOG_LEVEL_ERROR, s->id, "reply",
			"error=overflow size=%d", n);
		s->close_reason = "reply-overflow";
		session_enter_state(s, STATE_CLOSING);
		return;
	}
	s->outlen += (size_t)n;
	s->out[s->outlen++] = '\r';
	s->out[s->outlen++] = '\n';
}

static void
session_id_make(struct session *s)
{
	/* An odd multiplier walks all 2^32 values before repeating. */
	uint32_t v = srv.id_base + srv.id_next++ * 2654435761u;

	snprintf(s->id, sizeof(s->id), "%08x", (unsigned)v);
}

static struct session *
session_alloc(void)
{
	size_t i;

	for (i = 0; i < srv.nsessions; i++) {
		struct session *s = &srv.pool[i];

		if (s->state != STATE_FREE)
			continue;
		memset(s, 0, sizeof(*s));
		s->tls = &srv.tls_conns[i];
		s->tls_buf = srv.tls_mem + i * srv.tls_buflen;
		s->tls_buflen = srv.tls_buflen;
		/*
		 * The relay is set up here, not at start-up, so that an idle
		 * daemon never touches (and so never pays for) its pages.
		 */
		s->relay = &srv.relays[i];
		relay_init(s->relay, &srv.relay_conns[i],
			srv.relay_mem + i * srv.relay_buflen, srv.relay_buflen);
		linebuf_init(&s->lb, s->line, sizeof(s->line));
		session_id_make(s);
		srv.active++;
		return s;
	}
	return NULL;
}

static void
session_free(struct session *s)
{
	if (s->in != NULL)
		pbuf_free(s->in);
	s->in = NULL;
	s->pcb = NULL;
	s->tls_cfg = NULL;
	s->state = STATE_FREE;
	srv.active--;
}

/*
 * End the session: close the connection (abort if even that fails) and
 * give the session back to the pool. Returns nothing the caller may use.
 */
static void
session_end(struct session *s, const char *reason)
{
	struct altcp_pcb *pcb = s->pcb;

	smtp_proxy_close(s);
	smtp_auth_abandon(s);
	if (pcb != NULL) {
		pcb_callbacks_clear(pcb);
		if (altcp_close(pcb) != ERR_OK) {
			altcp_abort(pcb);
			if (pcb == srv.in_callback)
				srv.aborted = 1;
		}
	}
	log_event(LOG_LEVEL_INFO, s->id, "disconnect",
		"reason=%s commands=%u messages=%u", reason, s->commands,
		s->messages);
	session_free(s);
}

/* Called first in each connection callback; pairs with callback_result. */
static void
callback_enter(struct altcp_pcb *pcb)
{
	srv.in_callback = pcb;
	srv.aborted = 0;
}

/* What a callback returns once it is done with its session. */
static err_t
callback_result(void)
{
	err_t e = srv.aborted ? ERR_ABRT : ERR_OK;

	srv.aborted = 0;
	srv.in_callback = NULL;
	return e;
}

static void
session_flush(struct session *s)
{
	size_t n = s->outlen;
	u16_t room;

	if (n == 0 || s->pcb == NULL)
		return;
	room = altcp_sndbuf(s->pcb);
	if (n > room)
		n = room;
	if (n == 0)
		return;
	if (altcp_write(s->pcb, s->out, (u16_t)n, TCP_WRITE_FLAG_COPY) !=
		ERR_OK)
		return; /* retried from sent or poll */
	memmove(s->out, s->out + n, s->outlen - n);
	s->outlen -= n;
	altcp_output(s->pcb);
}

/* Hand n received bytes back to the connection's window. */
static void
consume(struct session *s, size_t n)
{
	while (n > 0 && s->in != NULL && s->in->len == 0) {
		struct pbuf *next = s->in->next;

		if (next != NULL)
			pbuf_ref(next);
		pbuf_free(s->in);
		s->in = next;
	}
	if (n > 0 && s->in != NULL)
		s->in = pbuf_free_header(s->in, (u16_t)n);
	if (n > 0 && s->pcb != NULL)
		altcp_recved(s->pcb, (u16_t)n);
}

/*
 * Drop everything received but not handled. After STARTTLS this is what
 * closes the command injection hole (RFC 3207 section 6 asks servers to
 * discard such data): nothing sent in plaintext may run under TLS.
 */
static void
discard_input(struct session *s)
{
	size_t n = s->in != NULL ? s->in->tot_len : 0;
	size_t partial = s->lb.len;

	if (s->in != NULL)
		pbuf_free(s->in);
	s->in = NULL;
	if (n > 0 && s->pcb != NULL)
		altcp_recved(s->pcb, (u16_t)n);
	linebuf_next(&s->lb);
	/* After QUIT or a final error the rest is just not wanted. */
	if (n + partial > 0 && s->state == STATE_STARTTLS)
		log_event(LOG_LEVEL_WARNING, s->id, "discard",
			"bytes=%zu reason=pipelined-after-starttls",
			n + partial);
}

/* Only AUTH lines may use the room RFC 4954 gives them. */
static int
too_long(const struct session *s)
{
	return s->lb.len > SMTP_COMMAND_MAX &&
		strncasecmp(s->line, "AUTH ", 5) != 0;
}

static void
handle_line(struct session *s, enum linebuf_result r)
{
	if (s->state == STATE_AUTH) {
		if (r == LINEBUF_OVERLONG)
			smtp_auth_response(s, "*", 1);
		else
			smtp_auth_response(s, s->line, s->lb.len);
		/* The response held a secret: do not leave it lying about. */
		memset(s->line, 0, s->lb.len);
	} else if (r == LINEBUF_OVERLONG || too_long(s)) {
		s->commands++;
		session_reply(s, "500 5.5.2 Line too long");
	} else if (memchr(s->line, '\0', s->lb.len) != NULL) {
		s->commands++;
		session_reply(s, "500 5.5.2 NUL byte in command");
	} else {
		smtp_command_dispatch(s, s->line);
	}
	linebuf_next(&s->lb);
}

/* A TLS ClientHello starts with a handshake record: 0x16 0x03. */
static int
looks_like_tls(const struct session *s)
{
	const unsigned char *p = s->in->payload;

	return s->commands == 0 && s->lb.len == 0 && s->in->len >= 2 &&
		p[0] == 0x16 && p[1] == 0x03;
}

static void tls_start(struct session *s);
static err_t callback_result(void);

/* States in which the session reads commands or message bytes. */
#define READING \
	(STATE_BIT(STATE_GREETED) | STATE_BIT(STATE_READY) | \
		STATE_BIT(STATE_AUTH) | STATE_BIT(STATE_MAIL) | \
		STATE_BIT(STATE_DATA))

static int
reading(const struct session *s)
{
	return s->pcb != NULL && s->wait == WAIT_NONE &&
		(READING & STATE_BIT(s->state)) != 0 &&
		sizeof(s->out) - s->outlen >= SMTP_REPLY_MAX;
}

/* Message bytes go to the message path, not the line reader. */
static void
data_process(struct session *s)
{
	const char *in = s->in != NULL ? s->in->payload : NULL;
	size_t len = s->in != NULL ? s->in->len : 0;
	size_t used = smtp_data_feed(s, in, len);

	consume(s, used);
}

static void
session_process(struct session *s)
{
	while (reading(s)) {
		enum linebuf_result r;
		size_t used = 0;

		if (s->state == STATE_DATA) {
			size_t before = s->in != NULL ? s->in->tot_len : 0;

			data_process(s);
			if (s->in == NULL || s->in->tot_len == before)
				break;
			continue;
		}
		if (s->in == NULL)
			break;
		if (s->in->len > 0 && looks_like_tls(s)) {
			log_event(LOG_LEVEL_WARNING, s->id, "protocol",
				"error=tls-on-starttls-port hint=use-465");
			session_end(s, "protocol");
			return;
		}
		r = linebuf_feed(&s->lb, s->in->payload, s->in->len, &used);
		consume(s, used);
		if (r != LINEBUF_MORE)
			handle_line(s, r);
	}
	if (s->pcb == NULL)
		return;
	if (s->state == STATE_STARTTLS || s->state == STATE_CLOSING)
		discard_input(s);
	if (s->eof && s->in == NULL && s->wait == WAIT_NONE &&
		s->state != STATE_CLOSING) {
		s->close_reason = "peer-closed";
		session_enter_state(s, STATE_CLOSING);
	}
	session_flush(s);
	if (s->state == STATE_STARTTLS && s->outlen == 0)
		tls_start(s);
	else if (s->state == STATE_CLOSING && s->outlen == 0)
		session_end(s, s->close_reason ? s->close_reason : "closed");
}

/* The port for STARTTLS, to name in a hint; 587 if none is configured. */
static unsigned
starttls_port(void)
{
	size_t i;

	for (i = 0; i < srv.conf.nlisten; i++)
		if (srv.conf.listen[i].tls == CONF_TLS_STARTTLS)
			return srv.conf.listen[i].port;
	return 587;
}

/*
 * A plaintext client on the implicit TLS port could never read a TLS
 * alert; a plaintext reply tells its user what to change (RFC 8314 3.3).
 */
static void
plaintext_on_implicit(struct session *s)
{
	s->tls_wait_hello = 0;
	log_event(LOG_LEVEL_WARNING, s->id, "protocol",
		"error=plaintext-on-implicit-tls-port hint=use-starttls-port");
	session_reply(s,
		"554 5.7.0 This port expects TLS from the first "
		"byte (RFC 8314); use STARTTLS on port %u",
		starttls_port());
	s->close_reason = "plaintext-on-tls-port";
	session_enter_state(s, STATE_CLOSING);
	session_process(s);
}

/*
 * Implicit TLS starts only when the first bytes show a TLS handshake
 * record (0x16); they then go to the TLS layer as if it had received
 * them. Its return value is what lwIP must see.
 */
static err_t
first_bytes(struct session *s, struct altcp_pcb *pcb, struct pbuf *p)
{
	err_t e;

	s->tls_wait_hello = 0;
	if (((const unsigned char *)p->payload)[0] != 0x16) {
		altcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		plaintext_on_implicit(s);
		return callback_result();
	}
	tls_start(s);
	if (s->pcb == NULL || s->state != STATE_HANDSHAKE ||
		pcb->recv == NULL) {
		pbuf_free(p);
		return callback_result();
	}
	/* pcb's callbacks are the TLS layer's now. */
	e = pcb->recv(pcb->arg, pcb, p, ERR_OK);
	callback_result();
	return e;
}

static err_t
on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct session *s = arg;

	if (s == NULL) {
		if (p != NULL)
			pbuf_free(p);
		return ERR_OK;
	}
	callback_enter(pcb);
	if (p == NULL || err != ERR_OK) {
		/*
		 * A client may half-close after its last pipelined command:
		 * finish what it sent, then close.
		 */
		if (p != NULL)
			pbuf_free(p);
		s->eof = 1;
		session_process(s);
		return callback_result();
	}
	s->last_activity = board_now_ms();
	if (s->tls_wait_hello)
		return first_bytes(s, pcb, p);
	if (s->state == STATE_STARTTLS || s->state == STATE_CLOSING) {
		altcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return callback_result();
	}
	if (s->in == NULL)
		s->in = p;
	else
		pbuf_cat(s->in, p);
	session_process(s);
	return callback_result();
}

static err_t
on_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
	struct session *s = arg;

	(void)len;
	if (s == NULL)
		return ERR_OK;
	callback_enter(pcb);
	session_process(s);
	return callback_result();
}

static void
on_err(void *arg, err_t err)
{
	struct session *s = arg;
	int tls_err;

	if (s == NULL)
		return;
	/* lwIP has freed the pcb already. */
	s->pcb = NULL;
	/* The TLS state is only this session's once TLS was started. */
	tls_err = s->state == STATE_HANDSHAKE || s->tls_active
		? tls_conn_error(s->tls)
		: 0;
	if (tls_err != 0 && s->state == STATE_HANDSHAKE)
		log_event(LOG_LEVEL_WARNING, s->id, "tls",
			"error=\"%s\" code=%d", tls_error_text(tls_err),
			tls_err);
	else if (tls_err == 0)
		log_event(LOG_LEVEL_INFO, s->id, "connection", "error=%d",
			(int)err);
	session_end(s, tls_err != 0 ? "tls-error" : "connection-error");
}

static uint32_t
state_timeout(const struct session *s)
{
	/* The relay enforces the upstream's own timeouts meanwhile. */
	if (s->wait == WAIT_UPSTREAM || s->wait == WAIT_BODY ||
		s->wait == WAIT_THROTTLE || s->wait == WAIT_HASH)
		return UINT32_MAX;
	switch (s->state) {
	case STATE_HANDSHAKE:
		return HANDSHAKE_TIMEOUT_MS;
	case STATE_CLOSING:
	case STATE_STARTTLS:
		return CLOSING_TIMEOUT_MS;
	default:
		return srv.timeout_ms;
	}
}

static err_t
on_poll(void *arg, struct altcp_pcb *pcb)
{
	struct session *s = arg;

	if (s == NULL)
		return ERR_OK;
	callback_enter(pcb);
	smtp_auth_timer(s);
	if (s->state == STATE_FREE || s->pcb != pcb)
		return callback_result();
	if (s->tls_wait_hello &&
		board_now_ms() - s->last_activity >= HELLO_WAIT_MS) {
		plaintext_on_implicit(s);
		return callback_result();
	}
	if (board_now_ms() - s->last_activity < state_timeout(s)) {
		session_process(s);
		return callback_result();
	}
	log_event(LOG_LEVEL_WARNING, s->id, "timeout", "state=%s",
		state_names[s->state]);
	if (s->state == STATE_GREETED || s->state == STATE_READY ||
		s->state == STATE_AUTH || s->state == STATE_MAIL) {
		s->outlen = 0;
		session_reply(s,
			"421 4.4.2 %s Idle timeout, closing connection",
			srv.hostname);
		s->close_reason = "timeout";
		session_enter_state(s, STATE_CLOSING);
		session_process(s);
		if (s->state == STATE_FREE || s->pcb != pcb)
			return callback_result();
	}
	session_end(s, "timeout");
	return callback_result();
}

static void
callbacks_set(struct session *s)
{
	altcp_arg(s->pcb, s);
	altcp_recv(s->pcb, on_recv);
	altcp_sent(s->pcb, on_sent);
	altcp_err(s->pcb, on_err);
	altcp_poll(s->pcb, on_poll, POLL_INTERVAL);
}

static void
greet(struct session *s)
{
	session_reply(s, "220 %s ESMTP postlet", srv.hostname);
	session_enter_state(s, STATE_GREETED);
}

static err_t
on_handshake(void *arg, struct altcp_pcb *pcb, err_t err)
{
	struct session *s = arg;
	struct tls_info info;

	if (s == NULL || err != ERR_OK)
		return ERR_OK;
	callback_enter(pcb);
	s->tls_active = 1;
	s->last_activity = board_now_ms();
	if (tls_conn_info(s->tls, &info) == 0)
		log_event(LOG_LEVEL_INFO, s->id, "tls",
			"version=TLSv1.%u cipher=%s resumed=%s",
			(info.version & 0xff) - 1, tls_suite_name(info.suite),
			info.resumed ? "yes" : "no");
	if (s->mode == CONF_TLS_IMPLICIT) {
		greet(s);
	} else {
		/* RFC 3207 4.2: forget what the client said before TLS. */
		s->helo[0] = '\0';
		session_enter_state(s, STATE_GREETED);
	}
	session_process(s);
	return callback_result();
}

/* Put TLS under the session; the plaintext pcb now belongs to it. */
static void
tls_start(struct session *s)
{
	struct altcp_pcb *tpcb = NULL;
	err_t e;

	pcb_callbacks_clear(s->pcb);
	e = tls_server_wrap(
		s->pcb, s->tls_cfg, s->tls, s->tls_buf, s->tls_buflen, &tpcb);
	if (e != ERR_OK) {
		log_event(LOG_LEVEL_ERROR, s->id, "tls", "error=wrap err=%d",
			(int)e);
		session_end(s, "tls-error");
		return;
	}
	s->pcb = tpcb;
	s->last_activity = board_now_ms();
	session_enter_state(s, STATE_HANDSHAKE);
	callbacks_set(s);
	altcp_arg(tpcb, s);
	altcp_connect(tpcb, NULL, 0, on_handshake);
}

struct peer {
	char text[64]; /* "address port=N" for logs */
	char ip[IPADDR_STRLEN_MAX];
	unsigned char key[16]; /* the address as bytes */
	size_t keylen;
};

static void
peer_get(struct altcp_pcb *pcb, struct peer *pr)
{
	ip_addr_t addr;
	u16_t port = 0;

	memset(pr, 0, sizeof(*pr));
	if (altcp_get_tcp_addrinfo(pcb, 0, &addr, &port) != ERR_OK ||
		ipaddr_ntoa_r(&addr, pr->ip, sizeof(pr->ip)) == NULL) {
		snprintf(pr->ip, sizeof(pr->ip), "unknown");
		snprintf(pr->text, sizeof(pr->text), "unknown");
		return;
	}
	snprintf(pr->text, sizeof(pr->text), "%s port=%u", pr->ip,
		(unsigned)port);
	if (IP_IS_V4(&addr)) {
		memcpy(pr->key, &ip_2_ip4(&addr)->addr, 4);
		pr->keylen = 4;
	} else {
		memcpy(pr->key, ip_2_ip6(&addr)->addr, 16);
		pr->keylen = 16;
	}
}

/* Sessions open from the same address, against max_sessions_per_client. */
static unsigned
sessions_from(const struct peer *pr)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < srv.nsessions; i++) {
		const struct session *o = &srv.pool[i];

		if (o->state != STATE_FREE && o->client_keylen == pr->keylen &&
			memcmp(o->client_key, pr->key, pr->keylen) == 0)
			n++;
	}
	return n;
}

/*
 * Past the session cap the client hears 421 at once (RFC 5321 3.8) rather
 * than wait for a greeting; on 465 it could not read a plaintext reply,
 * so it is only closed.
 */
static void
refuse(struct altcp_pcb *pcb, const struct listener *l, const struct peer *pr,
	const char *why)
{
	static const char busy[] = "421 4.3.2 Too busy, try again later\r\n";

	log_event(LOG_LEVEL_WARNING, "-", "refuse", "client=%s reason=%s",
		pr->text, why);
	if (l->mode == CONF_TLS_STARTTLS &&
		altcp_write(pcb, busy, sizeof(busy) - 1, TCP_WRITE_FLAG_COPY) ==
			ERR_OK)
		altcp_output(pcb);
	pcb_callbacks_clear(pcb);
	if (altcp_close(pcb) != ERR_OK) {
		altcp_abort(pcb);
		srv.aborted = 1;
	}
}

static const char *
refusal(const struct peer *pr)
{
	if (srv.draining)
		return "shutting-down";
	if (srv.active >= srv.nsessions)
		return "max-sessions";
	if (sessions_from(pr) >= srv.conf.max_sessions_per_client)
		return "max-sessions-per-client";
	return NULL;
}

static err_t
on_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
	const struct listener *l = arg;
	struct session *s;
	struct peer pr;
	const char *why;

	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	callback_enter(pcb);
	peer_get(pcb, &pr);
	why = refusal(&pr);
	s = why == NULL ? session_alloc() : NULL;
	if (s == NULL) {
		refuse(pcb, l, &pr, why != NULL ? why : "max-sessions");
		return callback_result();
	}
	s->pcb = pcb;
	s->mode = l->mode;
	s->tls_cfg = srv.tls;
	/*
	 * Replies are small and each waits for the client's next command:
	 * Nagle's algorithm would hold the second segment of a reply for the
	 * client's delayed ACK, tens of milliseconds per exchange.
	 */
	altcp_nagle_disable(pcb);
	s->last_activity = board_now_ms();
	snprintf(s->client, sizeof(s->client), "%s", pr.text);
	snprintf(s->client_ip, sizeof(s->client_ip), "%s", pr.ip);
	memcpy(s->client_key, pr.key, sizeof(s->client_key));
	s->client_keylen = pr.keylen;
	log_event(LOG_LEVEL_INFO, s->id, "connect", "client=%s tls=%s",
		s->client,
		s->mode == CONF_TLS_IMPLICIT ? "implicit" : "starttls");
	callbacks_set(s);
	if (s->mode == CONF_TLS_IMPLICIT) {
		s->tls_wait_hello = 1;
		session_enter_state(s, STATE_HANDSHAKE);
		return callback_result();
	}
	greet(s);
	session_flush(s);
	return callback_result();
}

/* One upstream connection per session, each with its TLS state. */
static int
relays_init(size_t n, unsigned record_size)
{
	srv.relay_buflen = TLS_CONN_BUFSIZE(record_size);
	srv.relays = calloc(n, sizeof(*srv.relays));
	srv.relay_conns = calloc(n, sizeof(*srv.relay_conns));
	srv.relay_mem = calloc(n, srv.relay_buflen);
	if (srv.relays == NULL || srv.relay_conns == NULL ||
		srv.relay_mem == NULL)
		return -1;
	return 0;
}

/* One slice of every login being hashed; again next turn if need be. */
static void
hash_tick(void *arg)
{
	size_t i;
	int pending = 0;

	(void)arg;
	srv.hash_scheduled = 0;
	for (i = 0; i < srv.nsessions; i++) {
		struct session *s = &srv.pool[i];

		if (s->state == STATE_FREE || s->wait != WAIT_HASH)
			continue;
		if (smtp_auth_hash_step(s, HASH_ROUNDS_PER_TURN))
			session_resume(s);
		else
			pending = 1;
	}
	/* Not inside a connection callback: no ERR_ABRT to report. */
	srv.aborted = 0;
	if (pending)
		session_hash_schedule();
}

void
session_hash_schedule(void)
{
	if (srv.hash_scheduled)
		return;
	srv.hash_scheduled = 1;
	sys_timeout(0, hash_tick, NULL);
}

int
smtp_server_init(const struct conf *c, struct tls_server_config *tls,
	struct users *users, struct relay_conf *relay,
	struct tls_client_config *relay_tls)
{
	size_t n = c->max_sessions;

	srv.conf = *c;
	srv.tls_buflen = TLS_CONN_BUFSIZE(c->tls_record_size);
	/*
	 * All session memory is reserved here, once. Pages a session never
	 * touches cost no RAM, so an idle daemon stays small.
	 */
	srv.pool = calloc(n, sizeof(*srv.pool));
	srv.tls_conns = calloc(n, sizeof(*srv.tls_conns));
	srv.tls_mem = calloc(n, srv.tls_buflen);
	if (srv.pool == NULL || srv.tls_conns == NULL || srv.tls_mem == NULL ||
		relays_init(n, c->tls_record_size) ||
		throttle_init(THROTTLE_ENTRIES, board_now_ms) != 0 ||
		rate_init(RATE_ENTRIES, c->rate_messages, c->rate_recipients,
			board_now_ms) != 0)
		return -1;
	srv.nsessions = n;
	srv.tls = tls;
	srv.users = users;
	srv.relay_conf = relay;
	srv.relay_tls = relay_tls;
	srv.timeout_ms = c->timeout_idle * 1000u;
	snprintf(srv.hostname, sizeof(srv.hostname), "%s", c->hostname);
	if (board_entropy(&srv.id_base, sizeof(srv.id_base)) != 0)
		srv.id_base = board_now_ms();
	return 0;
}

void
smtp_server_listen(struct altcp_pcb *lpcb, enum conf_tls_mode mode)
{
	struct listener *l;

	if (srv.nlisteners >= CONF_LISTEN_MAX)
		return;
	l = &srv.listeners[srv.nlisteners++];
	l->mode = mode;
	altcp_arg(lpcb, l);
	altcp_accept(lpcb, on_accept);
}

/*
 * What SIGHUP replaces (certificate, users, upstream) is freed only once
 * no session uses it any more; until then it waits in one of these.
 */
enum retired_kind { RETIRED_TLS, RETIRED_USERS, RETIRED_RELAY };

struct retired {
	enum retired_kind kind;
	void *p;
	struct tls_client_config *relay_tls; /* with RETIRED_RELAY */
};

static struct retired retired[RETIRED_MAX * 3];

static int
in_use(enum retired_kind kind, const void *p)
{
	size_t i;

	for (i = 0; i < srv.nsessions; i++) {
		const struct session *s = &srv.pool[i];

		if (s->state == STATE_FREE)
			continue;
		if ((kind == RETIRED_TLS && s->tls_cfg == p) ||
			(kind == RETIRED_USERS && s->users == p) ||
			(kind == RETIRED_RELAY &&
				s->relay->state != RELAY_STATE_CLOSED &&
				s->relay->conf == p))
			return 1;
	}
	return 0;
}

static void
retired_free(struct retired *r)
{
	switch (r->kind) {
	case RETIRED_TLS:
		tls_server_config_free(r->p);
		break;
	case RETIRED_USERS:
		users_free(r->p);
		break;
	case RETIRED_RELAY:
		relay_conf_wipe(r->p);
		free(r->p);
		if (r->relay_tls != NULL)
			tls_client_config_free(r->relay_tls);
		break;
	}
	r->p = NULL;
}

void
smtp_server_collect(void)
{
	size_t i;

	for (i = 0; i < sizeof(retired) / sizeof(retired[0]); i++)
		if (retired[i].p != NULL &&
			!in_use(retired[i].kind, retired[i].p))
			retired_free(&retired[i]);
}

static size_t
retired_slots(void)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(retired) / sizeof(retired[0]); i++)
		n += retired[i].p == NULL;
	return n;
}

/* Free old now, or keep it until its last session ends. */
static void
retire(enum retired_kind kind, void *old, struct tls_client_config *rtls)
{
	struct retired r = {kind, old, rtls};
	size_t i;

	if (old == NULL)
		return;
	if (!in_use(kind, old)) {
		retired_free(&r);
		return;
	}
	for (i = 0; i < sizeof(retired) / sizeof(retired[0]); i++) {
		if (retired[i].p == NULL) {
			retired[i] = r;
			return;
		}
	}
}

int
smtp_server_reload(struct users *users, struct tls_server_config *tls,
	struct relay_conf *relay, struct tls_client_config *relay_tls)
{
	smtp_server_collect();
	/* All or nothing: a half-applied reload would be hard to explain. */
	if (retired_slots() < 3)
		return -1;
	retire(RETIRED_USERS, srv.users, NULL);
	srv.users = users;
	retire(RETIRED_TLS, srv.tls, NULL);
	srv.tls = tls;
	retire(RETIRED_RELAY, srv.relay_conf, srv.relay_tls);
	srv.relay_conf = relay;
	srv.relay_tls = relay_tls;
	return 0;
}

void
smtp_server_set_policy(const struct conf *c)
{
	struct conf *p = &srv.conf;

	snprintf(p->domain, sizeof(p->domain), "%s", c->domain);
	p->max_message_size = c->max_message_size;
	p->max_recipients = c->max_recipients;
	p->max_sessions_per_client = c->max_sessions_per_client;
	p->add_to = c->add_to;
	p->received_client_address = c->received_client_address;
	p->timeout_idle = c->timeout_idle;
	srv.timeout_ms = c->timeout_idle * 1000u;
}

static void
say_goodbye(struct session *s)
{
	s->outlen = 0;
	session_reply(s, "421 4.3.2 %s Shutting down", srv.hostname);
	s->close_reason = "shutdown";
	session_enter_state(s, STATE_CLOSING);
}

void
session_transaction_reset(struct session *s)
{
	smtp_proxy_rset(s);
	memset(&s->from, 0, sizeof(s->from));
	memset(&s->mail, 0, sizeof(s->mail));
	s->rcpt_tried = 0;
	s->rcpt_ok = 0;
	s->rcpt_first[0] = '\0';
	s->data_fail = NULL;
	if (s->state == STATE_MAIL || s->state == STATE_DATA)
		session_enter_state(s, STATE_READY);
}

void
session_resume(struct session *s)
{
	if (s->pcb == NULL)
		return;
	/* A transaction that ran into a shutdown ends here, finished. */
	if (srv.draining && s->wait == WAIT_NONE &&
		(s->state == STATE_READY || s->state == STATE_GREETED) &&
		s->outlen == 0)
		say_goodbye(s);
	session_process(s);
}

void
smtp_server_drain(void)
{
	size_t i;

	srv.draining = 1;
	for (i = 0; i < srv.nsessions; i++) {
		struct session *s = &srv.pool[i];

		if (s->wait == WAIT_NONE &&
			(s->state == STATE_GREETED || s->state == STATE_READY ||
				s->state == STATE_AUTH)) {
			say_goodbye(s);
			session_process(s);
		} else if (s->state == STATE_HANDSHAKE) {
			session_end(s, "shutdown");
		}
	}
	/* Not inside a callback: an abort here needs no ERR_ABRT. */
	srv.aborted = 0;
}

size_t
smtp_server_active(void)
{
	return srv.active;
}
