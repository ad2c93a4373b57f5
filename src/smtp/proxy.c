/*
 * Proxy mode: each step of the client's transaction is answered with the
 * upstream's own verdict, so the author hears a refusal at once and no
 * message is answered 250 unless the upstream said 250. While a verdict
 * is awaited the session reads no input; pipelined commands wait in the
 * connection, in order.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "relay/relay.h"
#include "smtp/session.h"

/* How much of the upstream's text a reply quotes. */
#define QUOTE_MAX 300

static void on_reply(void *arg, enum relay_step step, int code,
	const char *enhanced, const char *text);
static void on_fail(void *arg, enum relay_fail fail, const char *why);
static void on_writable(void *arg);

static const struct relay_owner owner = {
	.on_reply = on_reply,
	.on_fail = on_fail,
	.on_writable = on_writable,
};

/*
 * Reply with the upstream's code and text: its 4xx stays 4xx and its 5xx
 * 5xx. Without an enhanced code from the upstream, the generic one of the
 * same class is given (RFC 3463 3.1).
 */
static void
reply_upstream(
	struct session *s, int code, const char *enhanced, const char *text)
{
	char quoted[QUOTE_MAX + 4];
	size_t i;

	snprintf(quoted, sizeof(quoted), "%s", text);
	for (i = 0; quoted[i] != '\0'; i++)
		if (quoted[i] == '\n')
			quoted[i] = ' ';
	if (strlen(text) > QUOTE_MAX)
		memcpy(quoted + QUOTE_MAX, "...", 4);
	if (code < 200 || code > 599 || code / 100 == 3)
		code = 451;
	if (enhanced == NULL || enhanced[0] == '\0')
		enhanced = code < 300 ? "2.0.0"
			: code < 500  ? "4.0.0"
				      : "5.0.0";
	session_reply(s, "%d %s upstream: %s", code, enhanced, quoted);
}

static void
start_mail(struct session *s)
{
	unsigned flags = 0;
	int rc;

	if (s->mail.body_8bit)
		flags |= RELAY_MAIL_8BIT;
	if (s->mail.smtputf8)
		flags |= RELAY_MAIL_UTF8;
	rc = relay_mail(s->relay, s->from.addr, (uint32_t)s->mail.size, flags);
	if (rc == RELAY_OK)
		return;
	s->wait = WAIT_NONE;
	if (rc == RELAY_ERR_8BIT)
		session_reply(s,
			"554 5.6.3 The upstream relay does not "
			"accept 8-bit messages (no 8BITMIME)");
	else if (rc == RELAY_ERR_UTF8)
		session_reply(s,
			"553 5.6.7 The upstream relay does not "
			"accept SMTPUTF8");
	else if (rc == RELAY_ERR_SIZE)
		session_reply(s,
			"552 5.3.4 Message too big for the upstream "
			"relay");
	else
		session_reply(s, "451 4.3.0 Upstream relay not ready");
}

void
smtp_proxy_mail(struct session *s)
{
	struct relay *r = s->relay;

	s->wait = WAIT_UPSTREAM;
	if (r->state == RELAY_STATE_CLOSED) {
		relay_open(r, session_relay_conf(), session_relay_tls(),
			session_hostname(), &owner, s, s->id);
		return; /* MAIL follows RELAY_STEP_OPEN */
	}
	start_mail(s);
}

void
smtp_proxy_rcpt(struct session *s, const struct smtp_path *to)
{
	if (s->relay->state == RELAY_STATE_CLOSED) {
		session_reply(s, "451 4.4.2 Upstream connection lost");
		return;
	}
	if (relay_rcpt(s->relay, to->addr) != RELAY_OK) {
		session_reply(s, "451 4.3.0 Upstream relay not ready");
		return;
	}
	snprintf(s->rcpt_pending, sizeof(s->rcpt_pending), "%s", to->addr);
	s->wait = WAIT_UPSTREAM;
}

void
smtp_proxy_data(struct session *s)
{
	if (s->relay->state == RELAY_STATE_CLOSED ||
		relay_data(s->relay) != RELAY_OK) {
		session_reply(s, "451 4.4.2 Upstream connection lost");
		return;
	}
	s->wait = WAIT_UPSTREAM;
}

void
smtp_proxy_rset(struct session *s)
{
	struct relay *r = s->relay;

	if (r->state == RELAY_STATE_ENVELOPE)
		relay_rset(r);
}

void
smtp_proxy_close(struct session *s)
{
	struct relay *r = s->relay;

	if (r == NULL || r->state == RELAY_STATE_CLOSED)
		return;
	/*
	 * The session goes away, so nothing may call back into it: close
	 * at once. The upstream drops any transaction left open.
	 */
	relay_abort(r);
}

static int
from_ok(void *arg, const char *addr, size_t len)
{
	const struct session *s = arg;

	return user_may_send(s->user, addr, len);
}

static void
message_begin(struct session *s)
{
	const struct conf *c = session_conf();
	struct msg_params p;
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	/* msg_begin keeps pointers: the strings must outlive the message. */
	snprintf(s->msg_unique, sizeof(s->msg_unique), "%s.%u.%lld", s->id,
		s->messages, (long long)now);
	memset(&p, 0, sizeof(p));
	p.hostname = c->hostname;
	p.domain = c->domain;
	p.helo = s->helo;
	p.client_addr = s->client_ip;
	p.received_client_address = c->received_client_address;
	p.user = user_name(s->user);
	p.session_id = s->id;
	p.tls = s->tls_active;
	p.first_rcpt = s->rcpt_ok == 1 ? s->rcpt_first : NULL;
	p.add_to = c->add_to;
	p.now = now;
	p.tz_offset_min = (int)(tm.tm_gmtoff / 60);
	p.max_size = c->max_message_size;
	p.from_ok = from_ok;
	p.from_ok_arg = s;
	p.unique = s->msg_unique;
	msg_begin(&s->msg, &p);
	s->body_len = 0;
	s->body_off = 0;
	s->msg_done = 0;
	s->data_fail = NULL;
	session_enter_state(s, STATE_DATA);
	session_reply(s, "354 2.0.0 End data with <CR><LF>.<CR><LF>");
}

static void
log_message(struct session *s, const char *result, const char *reply)
{
	char esc[160];

	log_event(LOG_LEVEL_INFO, s->id, "message",
		"user=%s from=<%s> rcpts=%u size=%llu 8bit=%s result=%s "
		"reply=\"%s\"",
		user_name(s->user), s->from.addr, s->rcpt_ok,
		(unsigned long long)msg_size(&s->msg),
		msg_8bit(&s->msg) ? "yes" : "no", result,
		log_escape(esc, sizeof(esc), reply, strlen(reply)));
}

static void
verdict_end(struct session *s, int code, const char *enhanced, const char *text)
{
	log_message(s, code / 100 == 2 ? "accepted" : "refused", text);
	reply_upstream(s, code, enhanced, text);
	s->messages++;
	session_transaction_reset(s);
}

static void
verdict(struct session *s, enum relay_step step, int code, const char *enhanced,
	const char *text)
{
	switch (step) {
	case RELAY_STEP_MAIL:
		log_event(LOG_LEVEL_INFO, s->id, "mail",
			"user=%s from=<%s> upstream=%d", user_name(s->user),
			s->from.addr, code);
		if (code / 100 == 2)
			session_enter_state(s, STATE_MAIL);
		reply_upstream(s, code, enhanced, text);
		break;
	case RELAY_STEP_RCPT:
		log_event(LOG_LEVEL_INFO, s->id, "rcpt", "to=<%s> upstream=%d",
			s->rcpt_pending, code);
		if (code / 100 == 2 && s->rcpt_ok++ == 0)
			snprintf(s->rcpt_first, sizeof(s->rcpt_first), "%s",
				s->rcpt_pending);
		reply_upstream(s, code, enhanced, text);
		break;
	case RELAY_STEP_DATA:
		if (code == 354)
			message_begin(s);
		else
			reply_upstream(s, code, enhanced, text);
		break;
	case RELAY_STEP_END:
		verdict_end(s, code, enhanced, text);
		break;
	default:
		return;
	}
	s->wait = WAIT_NONE;
	session_resume(s);
}

static void
on_reply(void *arg, enum relay_step step, int code, const char *enhanced,
	const char *text)
{
	struct session *s = arg;

	if (step == RELAY_STEP_OPEN) {
		if (s->wait == WAIT_UPSTREAM && s->state == STATE_READY)
			start_mail(s);
		if (s->wait == WAIT_NONE)
			session_resume(s);
		return;
	}
	if (s->wait != WAIT_UPSTREAM)
		return; /* RSET and QUIT: the client had its reply */
	verdict(s, step, code, enhanced, text);
}

/* The words a client hears when the upstream could not be used. */
static const char *
fail_reply(enum relay_fail fail)
{
	switch (fail) {
	case RELAY_FAIL_RESOLVE:
	case RELAY_FAIL_CONNECT:
	case RELAY_FAIL_TIMEOUT:
		return "451 4.4.1 Upstream relay unreachable";
	case RELAY_FAIL_TLS:
	case RELAY_FAIL_STARTTLS:
		return "451 4.7.5 Upstream relay failed TLS verification";
	case RELAY_FAIL_AUTH:
		return "451 4.7.0 Upstream relay refused postlet's login";
	default:
		return "451 4.4.2 Upstream connection lost";
	}
}

static void
on_fail(void *arg, enum relay_fail fail, const char *why)
{
	struct session *s = arg;
	char esc[200];

	log_event(LOG_LEVEL_WARNING, s->id, "relay", "error=%s why=\"%s\"",
		relay_fail_name(fail),
		log_escape(esc, sizeof(esc), why, strlen(why)));
	if (s->state == STATE_DATA) {
		/* The client is still sending: answer once it is done. */
		s->data_fail = fail_reply(fail);
		if (s->wait == WAIT_BODY)
			s->wait = WAIT_NONE;
		if (s->wait == WAIT_UPSTREAM) {
			s->wait = WAIT_NONE;
			log_message(s, "failed", why);
			session_reply(s, "%s: %s", s->data_fail, esc);
			session_transaction_reset(s);
		}
		session_resume(s);
		return;
	}
	if (s->wait == WAIT_UPSTREAM) {
		s->wait = WAIT_NONE;
		session_reply(s, "%s: %s", fail_reply(fail), esc);
		if (s->state == STATE_MAIL)
			session_transaction_reset(s);
		session_resume(s);
	}
}

static void
on_writable(void *arg)
{
	struct session *s = arg;

	if (s->wait != WAIT_BODY)
		return;
	s->wait = WAIT_NONE;
	session_resume(s);
}

/* Send what waits in the body buffer; 0 when all of it went. */
static int
body_push(struct session *s)
{
	while (s->body_off < s->body_len) {
		size_t n;

		if (s->data_fail != NULL || msg_error_reply(&s->msg) != NULL) {
			s->body_off = s->body_len;
			break;
		}
		n = relay_body_write(s->relay, s->body + s->body_off,
			s->body_len - s->body_off);
		if (n == 0) {
			s->wait = WAIT_BODY;
			return -1;
		}
		s->body_off += n;
	}
	s->body_off = 0;
	s->body_len = 0;
	return 0;
}

static void
message_end(struct session *s)
{
	const char *refused = msg_error_reply(&s->msg);

	if (refused != NULL) {
		/*
		 * Without the final dot the upstream discards what it has;
		 * closing is the only way to take a message back.
		 */
		relay_abort(s->relay);
		log_message(s, "refused", refused);
		session_reply(s, "%s", refused);
		session_transaction_reset(s);
		return;
	}
	if (s->data_fail != NULL) {
		log_message(s, "failed", s->data_fail);
		session_reply(s, "%s", s->data_fail);
		session_transaction_reset(s);
		return;
	}
	if (relay_body_end(s->relay) != RELAY_OK) {
		relay_abort(s->relay);
		log_message(s, "failed", "body end");
		session_reply(s, "451 4.3.0 Local error in processing");
		session_transaction_reset(s);
		return;
	}
	s->wait = WAIT_UPSTREAM;
}

size_t
smtp_data_feed(struct session *s, const char *in, size_t len)
{
	size_t used = 0;

	while (s->wait == WAIT_NONE && s->state == STATE_DATA) {
		size_t u = 0, w = 0;
		enum msg_status st;

		if (body_push(s) != 0)
			break;
		if (s->msg_done) {
			message_end(s);
			break;
		}
		st = msg_feed(&s->msg, in + used, len - used, &u, s->body,
			sizeof(s->body), &w);
		used += u;
		s->body_len = w;
		if (st == MSG_END)
			s->msg_done = 1;
		else if (st == MSG_MORE && w == 0)
			break;
	}
	return used;
}
