/*
 * The relay client's connection: finding the upstream, connecting, TLS,
 * and the callbacks that feed replies to the command steps in
 * relay_cmd.c. The contract is in relay.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lwip/altcp.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"

#include "board.h"
#include "log.h"
#include "pcb.h"
#include "relay/relay.h"
#include "relay/relay_priv.h"
#include "resolve.h"
#include "tls/tls.h"

/* Poll every second (lwIP counts in halves) to enforce time-outs. */
#define POLL_INTERVAL 2

static const char *const state_names[] = {
	"closed",
	"resolving",
	"connecting",
	"handshake",
	"greeting",
	"ehlo",
	"starttls",
	"auth",
	"ready",
	"envelope",
	"data",
	"body",
	"dot",
	"quit",
};

static void connect_next(struct relay *r);
static void tls_start(struct relay *r);

void
relay_enter_state(struct relay *r, enum relay_state next)
{
	log_event(LOG_LEVEL_DEBUG, r->sid, "relay-state", "from=%s to=%s",
		state_names[r->state], state_names[next]);
	r->state = next;
}

void
relay_init(struct relay *r, struct tls_conn *tc, unsigned char *tls_buf,
	size_t tls_buflen)
{
	memset(r, 0, sizeof(*r));
	r->tc = tc;
	r->tls_buf = tls_buf;
	r->tls_buflen = tls_buflen;
	r->sid = "-";
}

/*
 * Let go of the connection: close it (abort if that fails) and forget
 * what was received. Inside one of our callbacks an abort must be
 * answered with ERR_ABRT, which callback_leave does.
 */
static void
conn_drop(struct relay *r, int hard)
{
	struct altcp_pcb *pcb = r->pcb;

	r->pcb = NULL;
	if (pcb != NULL) {
		pcb_callbacks_clear(pcb);
		if (hard || altcp_close(pcb) != ERR_OK) {
			altcp_abort(pcb);
			if (r->in_callback)
				r->aborted = 1;
		}
	}
	if (r->in != NULL)
		pbuf_free(r->in);
	r->in = NULL;
}

/* Back to closed: a new generation, so callers see the change. */
static void
relay_close(struct relay *r, int hard)
{
	resolve_cancel(r);
	conn_drop(r, hard);
	relay_queue_clear(r);
	r->tls_active = 0;
	r->want_write = 0;
	r->gen++;
	relay_enter_state(r, RELAY_STATE_CLOSED);
}

/* A failure found inside relay_open reaches the owner from the loop. */
static void
fail_later(void *arg)
{
	struct relay *r = arg;
	enum relay_fail fail = (enum relay_fail)(r->fail_pending - 1);
	char why[sizeof(r->fail_text)];

	r->fail_pending = 0;
	memcpy(why, r->fail_text, sizeof(why));
	if (r->owner->on_fail != NULL)
		r->owner->on_fail(r->arg, fail, why);
}

void
relay_fail(struct relay *r, enum relay_fail fail, const char *fmt, ...)
{
	char why[sizeof(r->fail_text)], esc[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* The owner reports the failure, once; this is only a trace. */
	log_event(LOG_LEVEL_DEBUG, r->sid, "relay", "error=%s reason=\"%s\"",
		relay_fail_name(fail),
		log_escape(esc, sizeof(esc), why, strlen(why)));
	relay_close(r, 0);
	if (r->opening) {
		memcpy(r->fail_text, why, sizeof(why));
		r->fail_pending = (int)fail + 1;
		sys_timeout(0, fail_later, r);
		return;
	}
	if (r->owner->on_fail != NULL)
		r->owner->on_fail(r->arg, fail, why);
}

/* A failure not yet told is forgotten: the owner has moved on. */
static void
fail_forget(struct relay *r)
{
	if (r->fail_pending)
		sys_untimeout(fail_later, r);
	r->fail_pending = 0;
}

void
relay_abort(struct relay *r)
{
	fail_forget(r);
	if (r->state != RELAY_STATE_CLOSED)
		relay_close(r, 1);
}

/* The QUIT reply came, or the upstream closed after QUIT: done. */
void
relay_quit_done(
	struct relay *r, int code, const char *enhanced, const char *text)
{
	relay_close(r, 0);
	if (r->owner->on_reply != NULL)
		r->owner->on_reply(
			r->arg, RELAY_STEP_QUIT, code, enhanced, text);
}

void
relay_trace(struct relay *r, enum relay_dir dir, const char *line)
{
	if (r->owner->on_trace != NULL)
		r->owner->on_trace(r->arg, dir, line);
}

static void
callback_enter(struct relay *r)
{
	r->in_callback++;
}

/* What our altcp callback returns: ERR_ABRT once its pcb was aborted. */
static err_t
callback_leave(struct relay *r)
{
	err_t e = r->aborted ? ERR_ABRT : ERR_OK;

	if (--r->in_callback == 0)
		r->aborted = 0;
	return e;
}

/* Hand n parsed bytes back to the connection's window. */
static void
consume(struct relay *r, size_t n)
{
	if (n > 0)
		r->in = pbuf_free_header(r->in, (u16_t)n);
	if (n > 0 && r->pcb != NULL)
		altcp_recved(r->pcb, (u16_t)n);
}

/* Skip an empty pbuf at the head of the chain. */
static void
skip_empty(struct relay *r)
{
	struct pbuf *next = r->in->next;

	if (next != NULL)
		pbuf_ref(next);
	pbuf_free(r->in);
	r->in = next;
}

/* Replies are read in these states; in BODY they wait for the dot. */
static int
reading(const struct relay *r)
{
	return r->state >= RELAY_STATE_GREETING && r->state != RELAY_STATE_BODY;
}

static void
process(struct relay *r)
{
	unsigned gen = r->gen;

	while (r->in != NULL && r->gen == gen && reading(r)) {
		enum relay_reply_event ev;
		size_t used = 0;

		if (r->in->len == 0) {
			skip_empty(r);
			continue;
		}
		ev = relay_reply_feed(
			&r->reply, r->in->payload, r->in->len, &used);
		consume(r, used);
		if (ev == RELAY_REPLY_BAD) {
			relay_fail(r, RELAY_FAIL_PROTOCOL,
				"malformed reply from upstream: %s",
				r->reply.error);
			return;
		}
		if (ev != RELAY_REPLY_MORE)
			relay_reply_line(r, ev == RELAY_REPLY_DONE);
	}
}

static err_t
on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct relay *r = arg;

	if (r == NULL || r->pcb != pcb) {
		if (p != NULL)
			pbuf_free(p);
		return ERR_OK;
	}
	callback_enter(r);
	if (p == NULL || err != ERR_OK) {
		if (p != NULL)
			pbuf_free(p);
		if (r->state == RELAY_STATE_QUIT)
			relay_quit_done(r, 221, "", "connection closed");
		else
			relay_fail(r, RELAY_FAIL_CLOSED,
				"upstream closed the connection (%s)",
				state_names[r->state]);
		return callback_leave(r);
	}
	if (r->in == NULL)
		r->in = p;
	else
		pbuf_cat(r->in, p);
	process(r);
	return callback_leave(r);
}

static err_t
on_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
	struct relay *r = arg;

	(void)len;
	if (r == NULL || r->pcb != pcb)
		return ERR_OK;
	callback_enter(r);
	relay_queue_flush(r);
	relay_body_kick(r);
	return callback_leave(r);
}

/* Words for lwIP's error of a connect attempt. */
static void
connect_error(struct relay *r, err_t err)
{
	char ip[IPADDR_STRLEN_MAX];
	const ip_addr_t *a = &r->addrs[r->next_addr - 1];
	int v6 = IP_IS_V6(a);
	const char *what;

	if (ipaddr_ntoa_r(a, ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	switch (err) {
	case ERR_RST:
		what = "connection refused by";
		break;
	case ERR_TIMEOUT:
		what = "no answer from";
		break;
	case ERR_RTE:
		what = "no route to";
		break;
	default:
		what = "cannot connect to";
		break;
	}
	snprintf(r->last_error, sizeof(r->last_error), "%s %s%s%s:%u", what,
		v6 ? "[" : "", ip, v6 ? "]" : "", (unsigned)r->port);
	log_event(LOG_LEVEL_INFO, r->sid, "relay",
		"error=connect reason=\"%s\"", r->last_error);
}

static void
handshake_failed(struct relay *r)
{
	int e = tls_conn_error(r->tc);

	if (e == BR_ERR_X509_BAD_SERVER_NAME)
		relay_fail(r, RELAY_FAIL_TLS, "TLS: name mismatch for %s",
			relay_server_name(r));
	else if (e == TLS_ERR_INNER_CLOSED || e == 0)
		relay_fail(r, RELAY_FAIL_TLS,
			"TLS: upstream closed the connection during the "
			"handshake");
	else
		relay_fail(r, RELAY_FAIL_TLS, "TLS: %s", tls_error_text(e));
}

static void
on_err(void *arg, err_t err)
{
	struct relay *r = arg;

	if (r == NULL)
		return;
	/* lwIP has freed the pcb already. */
	r->pcb = NULL;
	if (r->state == RELAY_STATE_CONNECTING) {
		connect_error(r, err);
		conn_drop(r, 1);
		connect_next(r);
	} else if (r->state == RELAY_STATE_HANDSHAKE) {
		handshake_failed(r);
	} else if (r->state == RELAY_STATE_QUIT) {
		relay_quit_done(r, 221, "", "connection closed");
	} else if (r->tls_active && tls_conn_error(r->tc) != 0) {
		relay_fail(r, RELAY_FAIL_CLOSED, "connection lost: TLS: %s",
			tls_error_text(tls_conn_error(r->tc)));
	} else {
		relay_fail(r, RELAY_FAIL_CLOSED,
			"connection to upstream lost (%s, error %d)",
			state_names[r->state], (int)err);
	}
}

static uint32_t
state_timeout(const struct relay *r)
{
	switch (r->state) {
	case RELAY_STATE_CONNECTING:
		return RELAY_TIMEOUT_CONNECT_MS;
	case RELAY_STATE_HANDSHAKE:
		return RELAY_TIMEOUT_TLS_MS;
	case RELAY_STATE_BODY:
		/* The owner may be slow; only a stalled upstream counts. */
		return r->want_write ? RELAY_TIMEOUT_BLOCK_MS : 0;
	default:
		return relay_queue_timeout(r);
	}
}

static void
timeout(struct relay *r)
{
	log_event(LOG_LEVEL_WARNING, r->sid, "relay", "timeout state=%s",
		state_names[r->state]);
	if (r->state == RELAY_STATE_CONNECTING) {
		connect_error(r, ERR_TIMEOUT);
		conn_drop(r, 1);
		connect_next(r);
	} else if (r->state == RELAY_STATE_HANDSHAKE) {
		relay_fail(r, RELAY_FAIL_TIMEOUT, "TLS: handshake timed out");
	} else if (r->state == RELAY_STATE_BODY) {
		relay_fail(r, RELAY_FAIL_TIMEOUT,
			"upstream took no message data for %u s",
			RELAY_TIMEOUT_BLOCK_MS / 1000);
	} else if (r->state == RELAY_STATE_QUIT) {
		relay_quit_done(r, 221, "", "no reply to QUIT");
	} else {
		relay_fail(r, RELAY_FAIL_TIMEOUT, "no reply to %s within %u s",
			relay_queue_awaited(r), state_timeout(r) / 1000);
	}
}

static err_t
on_poll(void *arg, struct altcp_pcb *pcb)
{
	struct relay *r = arg;
	uint32_t limit;

	if (r == NULL || r->pcb != pcb)
		return ERR_OK;
	callback_enter(r);
	limit = state_timeout(r);
	if (limit > 0 && board_now_ms() - r->since >= limit) {
		timeout(r);
	} else {
		relay_queue_flush(r);
		relay_body_kick(r);
	}
	return callback_leave(r);
}

static void
callbacks_set(struct relay *r)
{
	altcp_arg(r->pcb, r);
	altcp_recv(r->pcb, on_recv);
	altcp_sent(r->pcb, on_sent);
	altcp_err(r->pcb, on_err);
	altcp_poll(r->pcb, on_poll, POLL_INTERVAL);
}

static void
log_connected(struct relay *r)
{
	char ip[IPADDR_STRLEN_MAX];

	if (ipaddr_ntoa_r(&r->addrs[r->next_addr - 1], ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	log_event(LOG_LEVEL_INFO, r->sid, "relay",
		"connected host=%s address=%s port=%u", r->host, ip,
		(unsigned)r->port);
}

static err_t
on_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
	struct relay *r = arg;

	if (r == NULL || r->pcb != pcb || r->state != RELAY_STATE_CONNECTING)
		return ERR_OK;
	callback_enter(r);
	if (err != ERR_OK) {
		connect_error(r, err);
		conn_drop(r, 1);
		connect_next(r);
		return callback_leave(r);
	}
	log_connected(r);
	r->since = board_now_ms();
	if (r->tls_mode == RELAY_TLS_IMPLICIT) {
		tls_start(r);
	} else {
		relay_enter_state(r, RELAY_STATE_GREETING);
		relay_queue_greeting(r);
	}
	return callback_leave(r);
}

/* Connect to the next address; when none is left, the last error. */
static int srv_next(struct relay *r);

static void
connect_next(struct relay *r)
{
	if (r->next_addr >= r->naddrs && srv_next(r))
		return;
	while (r->next_addr < r->naddrs) {
		const ip_addr_t *a = &r->addrs[r->next_addr++];
		err_t e;

		r->pcb = board_pcb_new(IP_GET_TYPE(a));
		if (r->pcb == NULL) {
			relay_fail(r, RELAY_FAIL_LOCAL,
				"out of connections for the upstream");
			return;
		}
		/* Commands are small and each waits for its reply: no Nagle. */
		altcp_nagle_disable(r->pcb);
		callbacks_set(r);
		relay_enter_state(r, RELAY_STATE_CONNECTING);
		r->since = board_now_ms();
		e = altcp_connect(r->pcb, a, r->port, on_connected);
		if (e == ERR_OK)
			return;
		connect_error(r, e);
		conn_drop(r, 1);
	}
	if (srv_next(r))
		return;
	relay_fail(r, RELAY_FAIL_CONNECT, "%s",
		r->last_error[0] ? r->last_error : "no address to connect to");
}

const char *
relay_server_name(const struct relay *r)
{
	/* RFC 6186 6 (and RFC 7817 4): the domain, not the SRV target. */
	return r->conf->host;
}

static void
log_tls(struct relay *r)
{
	struct tls_info info;

	if (tls_conn_info(r->tc, &info) == 0)
		log_event(LOG_LEVEL_INFO, r->sid, "relay",
			"tls version=TLSv1.%u cipher=%s resumed=%s",
			(info.version & 0xff) - 1, tls_suite_name(info.suite),
			info.resumed ? "yes" : "no");
}

static err_t
on_handshake(void *arg, struct altcp_pcb *pcb, err_t err)
{
	struct relay *r = arg;

	if (r == NULL || r->pcb != pcb || r->state != RELAY_STATE_HANDSHAKE ||
		err != ERR_OK)
		return ERR_OK;
	callback_enter(r);
	r->tls_active = 1;
	r->since = board_now_ms();
	log_tls(r);
	if (r->tls_mode == RELAY_TLS_IMPLICIT) {
		relay_enter_state(r, RELAY_STATE_GREETING);
		relay_queue_greeting(r);
	} else {
		/* RFC 3207 4.2: forget what EHLO said before TLS; ask again. */
		relay_ehlo(r);
	}
	return callback_leave(r);
}

/* Put TLS on the connection; the plaintext pcb then belongs to it. */
static void
tls_start(struct relay *r)
{
	struct altcp_pcb *tpcb = NULL;
	err_t e;

	if (r->tls_cfg == NULL) {
		relay_fail(r, RELAY_FAIL_LOCAL, "no TLS configuration");
		return;
	}
	pcb_callbacks_clear(r->pcb);
	e = tls_client_wrap(r->pcb, r->tls_cfg, relay_server_name(r), r->tc,
		r->tls_buf, r->tls_buflen, &tpcb);
	if (e != ERR_OK) {
		relay_fail(r, RELAY_FAIL_LOCAL, "TLS: cannot start (error %d)",
			(int)e);
		return;
	}
	r->pcb = tpcb;
	r->since = board_now_ms();
	relay_enter_state(r, RELAY_STATE_HANDSHAKE);
	callbacks_set(r);
	altcp_connect(tpcb, NULL, 0, on_handshake);
}

void
relay_starttls(struct relay *r)
{
	/*
	 * RFC 3207 5 and 6: nothing the upstream sent before TLS may be
	 * read as if it came through TLS. A server sends nothing after its
	 * 220; bytes there are an attempt to inject replies.
	 */
	if (r->in != NULL && r->in->tot_len > 0) {
		relay_fail(r, RELAY_FAIL_STARTTLS,
			"upstream sent data after its 220 to STARTTLS");
		return;
	}
	tls_start(r);
}

static void
on_addrs(void *arg, int err, const struct resolve_result *res)
{
	struct relay *r = arg;

	if (r->state != RELAY_STATE_RESOLVING)
		return;
	if (err != 0 || res == NULL || res->naddrs == 0) {
		if (srv_next(r))
			return;
		relay_fail(r, RELAY_FAIL_RESOLVE,
			"name lookup failed for %s: %s", r->host,
			resolve_strerror(err));
		return;
	}
	r->naddrs =
		res->naddrs < RELAY_ADDRS_MAX ? res->naddrs : RELAY_ADDRS_MAX;
	memcpy(r->addrs, res->addrs, r->naddrs * sizeof(r->addrs[0]));
	r->next_addr = 0;
	connect_next(r);
}

static void
lookup_addrs(struct relay *r)
{
	if (resolve_addr(r->host, on_addrs, r) != 0)
		relay_fail(r, RELAY_FAIL_RESOLVE,
			"name lookup failed for %s: resolver busy", r->host);
}

static void lookup_srv(struct relay *r);

/*
 * The next SRV target, when the current one gave no address or no
 * connection (RFC 2782: try the targets in order). 1 if one is being
 * tried, 0 when none is left.
 */
static int
srv_next(struct relay *r)
{
	if (r->next_srv >= r->nsrv)
		return 0;
	snprintf(r->host, sizeof(r->host), "%s", r->srv[r->next_srv].host);
	r->port = r->srv[r->next_srv].port;
	r->next_srv++;
	r->naddrs = r->next_addr = 0;
	log_event(LOG_LEVEL_INFO, r->sid, "relay", "srv target=%s port=%u",
		r->host, (unsigned)r->port);
	relay_enter_state(r, RELAY_STATE_RESOLVING);
	lookup_addrs(r);
	return 1;
}

/*
 * RFC 6186 3.1 and RFC 8314 5.1: _submissions (implicit TLS) first, then
 * _submission (STARTTLS). Records arrive in the order to try.
 */
static void
on_srv(void *arg, int err, const struct resolve_srv *srv, size_t n)
{
	struct relay *r = arg;
	size_t i;

	if (r->state != RELAY_STATE_RESOLVING)
		return;
	if (err != 0 || n == 0) {
		if (!r->srv_fallback) {
			r->srv_fallback = 1;
			lookup_srv(r);
			return;
		}
		relay_fail(r, RELAY_FAIL_RESOLVE,
			"name lookup failed for _submissions._tcp.%s and "
			"_submission._tcp.%s: %s",
			r->conf->host, r->conf->host, resolve_strerror(err));
		return;
	}
	r->nsrv = n < RELAY_SRV_TRY ? n : RELAY_SRV_TRY;
	for (i = 0; i < r->nsrv; i++) {
		snprintf(r->srv[i].host, sizeof(r->srv[i].host), "%s",
			srv[i].target);
		r->srv[i].port = srv[i].port;
	}
	r->next_srv = 0;
	r->tls_mode = r->srv_fallback ? RELAY_TLS_STARTTLS : RELAY_TLS_IMPLICIT;
	srv_next(r);
}

static void
lookup_srv(struct relay *r)
{
	char name[RELAY_HOST_MAX + 32];

	snprintf(name, sizeof(name), "%s._tcp.%s",
		r->srv_fallback ? "_submission" : "_submissions",
		r->conf->host);
	if (resolve_srv(name, on_srv, r) != 0)
		relay_fail(r, RELAY_FAIL_RESOLVE,
			"name lookup failed for %s: resolver busy", name);
}

int
relay_open(struct relay *r, const struct relay_conf *conf,
	struct tls_client_config *tls, const char *ehlo_name,
	const struct relay_owner *owner, void *arg, const char *sid)
{
	if (r->state != RELAY_STATE_CLOSED)
		return RELAY_ERR_STATE;
	fail_forget(r);
	r->conf = conf;
	r->tls_cfg = tls;
	r->ehlo_name = ehlo_name;
	r->owner = owner;
	r->arg = arg;
	r->sid = sid != NULL ? sid : "-";
	r->gen++;
	r->tls_mode = conf->tls;
	r->port = conf->port;
	r->srv_fallback = 0;
	r->nsrv = r->next_srv = 0;
	r->naddrs = r->next_addr = 0;
	r->last_error[0] = '\0';
	r->txn_open = 0;
	relay_caps_reset(&r->caps);
	relay_reply_init(&r->reply);
	snprintf(r->host, sizeof(r->host), "%s", conf->host);
	relay_enter_state(r, RELAY_STATE_RESOLVING);
	r->opening = 1;
	if (conf->srv) {
		lookup_srv(r);
	} else if (conf->is_literal) {
		r->addrs[0] = conf->addr;
		r->naddrs = 1;
		connect_next(r);
	} else {
		lookup_addrs(r);
	}
	r->opening = 0;
	return RELAY_OK;
}

const struct relay_caps *
relay_caps(const struct relay *r)
{
	return &r->caps;
}

const char *
relay_step_name(enum relay_step step)
{
	static const char *const names[] = {
		"open", "mail", "rcpt", "data", "end", "rset", "quit"};

	return (size_t)step < sizeof(names) / sizeof(names[0]) ? names[step]
							       : "?";
}

const char *
relay_fail_name(enum relay_fail fail)
{
	static const char *const names[] = {"resolve", "connect", "tls",
		"starttls", "auth", "refused", "protocol", "timeout", "closed",
		"local"};

	return (size_t)fail < sizeof(names) / sizeof(names[0]) ? names[fail]
							       : "?";
}
