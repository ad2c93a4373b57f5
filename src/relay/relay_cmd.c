/*
 * The relay client's commands: a queue of command lines in the order
 * sent, each waiting for its reply, released to the connection one at a
 * time or, with PIPELINING (RFC 2920), in groups; the reply handlers that
 * move the dialogue on; and the message body. The contract is in
 * relay.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lwip/altcp.h"
#include "lwip/pbuf.h"

#include "base64.h"
#include "board.h"
#include "log.h"
#include "relay/relay.h"
#include "relay/relay_priv.h"
#include "relay/sasl.h"
#include "wipe.h"

enum cmd_kind {
	CMD_GREETING, /* no bytes: the 220 the upstream opens with */
	CMD_EHLO,
	CMD_STARTTLS,
	CMD_AUTH_PLAIN,
	CMD_AUTH_LOGIN,
	CMD_AUTH_USER, /* AUTH LOGIN's answers to its two 334s */
	CMD_AUTH_PASS,
	CMD_MAIL,
	CMD_RCPT,
	CMD_DATA,
	CMD_DOT, /* no bytes: the body's final "." went out with it */
	CMD_RSET,
	CMD_RSET_AUTO, /* before a MAIL, to end an unfinished transaction */
	CMD_QUIT
};

/* RFC 2920 3.1: may be followed in a group, may join one. */
#define CMD_BATCH 0x01u
#define CMD_JOIN 0x02u

static void reply_greeting(struct relay *r);
static void reply_ehlo(struct relay *r);
static void reply_starttls(struct relay *r);
static void reply_auth_done(struct relay *r);
static void reply_auth_login(struct relay *r);
static void reply_auth_user(struct relay *r);
static void reply_mail(struct relay *r);
static void reply_rcpt(struct relay *r);
static void reply_data(struct relay *r);
static void reply_dot(struct relay *r);
static void reply_rset(struct relay *r);
static void reply_rset_auto(struct relay *r);
static void reply_quit(struct relay *r);

static const struct {
	const char *name;
	uint32_t timeout;
	unsigned flags;
	void (*handle)(struct relay *r);
} cmds[] = {
	[CMD_GREETING] = {"greeting", RELAY_TIMEOUT_GREETING_MS, 0,
		reply_greeting},
	[CMD_EHLO] = {"EHLO", RELAY_TIMEOUT_COMMAND_MS, 0, reply_ehlo},
	[CMD_STARTTLS] = {"STARTTLS", RELAY_TIMEOUT_COMMAND_MS, 0,
		reply_starttls},
	[CMD_AUTH_PLAIN] = {"AUTH", RELAY_TIMEOUT_COMMAND_MS, 0,
		reply_auth_done},
	[CMD_AUTH_LOGIN] = {"AUTH", RELAY_TIMEOUT_COMMAND_MS, 0,
		reply_auth_login},
	[CMD_AUTH_USER] = {"AUTH", RELAY_TIMEOUT_COMMAND_MS, 0,
		reply_auth_user},
	[CMD_AUTH_PASS] = {"AUTH", RELAY_TIMEOUT_COMMAND_MS, 0,
		reply_auth_done},
	[CMD_MAIL] = {"MAIL", RELAY_TIMEOUT_COMMAND_MS, CMD_BATCH | CMD_JOIN,
		reply_mail},
	[CMD_RCPT] = {"RCPT", RELAY_TIMEOUT_COMMAND_MS, CMD_BATCH | CMD_JOIN,
		reply_rcpt},
	[CMD_DATA] = {"DATA", RELAY_TIMEOUT_DATA_MS, CMD_JOIN, reply_data},
	[CMD_DOT] = {"end of data", RELAY_TIMEOUT_DOT_MS, 0, reply_dot},
	[CMD_RSET] = {"RSET", RELAY_TIMEOUT_COMMAND_MS, CMD_BATCH | CMD_JOIN,
		reply_rset},
	[CMD_RSET_AUTO] = {"RSET", RELAY_TIMEOUT_COMMAND_MS,
		CMD_BATCH | CMD_JOIN, reply_rset_auto},
	[CMD_QUIT] = {"QUIT", RELAY_TIMEOUT_COMMAND_MS, 0, reply_quit},
};

/* What AUTH data looks like in a trace: never the data itself. */
static const char mask_text[] = "********";
#define MASK_ALL 0
#define MASK_NONE 0xffffu

void
relay_queue_clear(struct relay *r)
{
	wipe(r->queue, r->queued);
	r->queued = 0;
	r->released = 0;
	r->nsteps = 0;
}

static int
step_push(struct relay *r, enum cmd_kind kind, size_t len, size_t mask)
{
	struct relay_cmd *c;

	if (r->nsteps >= RELAY_STEPS_MAX)
		return RELAY_ERR_BUSY;
	c = &r->steps[r->nsteps++];
	c->kind = (uint8_t)kind;
	c->released = 0;
	c->len = (uint16_t)len;
	c->mask = (uint16_t)mask;
	return RELAY_OK;
}

/* Queue one command line; CRLF is added. Nothing is queued on error. */
static int
cmd_push(struct relay *r, enum cmd_kind kind, size_t mask, const char *fmt, ...)
{
	size_t room = sizeof(r->queue) - r->queued;
	va_list ap;
	int n;

	if (r->nsteps >= RELAY_STEPS_MAX)
		return RELAY_ERR_BUSY;
	va_start(ap, fmt);
	n = vsnprintf(r->queue + r->queued, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 > room) {
		wipe(r->queue + r->queued, room);
		return n < 0 || (size_t)n + 2 > sizeof(r->queue)
			? RELAY_ERR_ARG
			: RELAY_ERR_BUSY;
	}
	r->queue[r->queued + (size_t)n] = '\r';
	r->queue[r->queued + (size_t)n + 1] = '\n';
	r->queued += (size_t)n + 2;
	return step_push(r, kind, (size_t)n + 2, mask);
}

/* Show a command as it goes out, AUTH data masked. */
static void
trace_sent(struct relay *r, const struct relay_cmd *c, size_t offset)
{
	char line[RELAY_LINE_MAX];
	size_t n = c->len - 2;

	if (c->len < 2 || r->owner->on_trace == NULL)
		return;
	if (c->mask != MASK_NONE && c->mask < n)
		n = c->mask;
	if (n > sizeof(line) - sizeof(mask_text))
		n = sizeof(line) - sizeof(mask_text);
	memcpy(line, r->queue + offset, n);
	line[n] = '\0';
	if (c->mask != MASK_NONE)
		memcpy(line + n, mask_text, sizeof(mask_text));
	relay_trace(r, RELAY_DIR_SENT, line);
	wipe(line, sizeof(line));
}

/*
 * Let commands go: the next one once nothing is awaited, or, with
 * PIPELINING, one that may join a group of MAIL, RCPT and RSET still
 * awaited (RFC 2920 3.1: DATA ends such a group, EHLO, AUTH, STARTTLS
 * and QUIT stand alone).
 */
static void
release(struct relay *r)
{
	int pipelining = (r->caps.flags & RELAY_CAP_PIPELINING) != 0;
	int batch = 1;
	size_t i, awaited = 0;

	for (i = 0; i < r->nsteps; i++) {
		struct relay_cmd *c = &r->steps[i];
		unsigned f = cmds[c->kind].flags;

		if (!c->released) {
			if (awaited > 0 &&
				!(pipelining && batch && (f & CMD_JOIN)))
				break;
			if (awaited == 0)
				r->since = board_now_ms();
			c->released = 1;
			trace_sent(r, c, r->released);
			r->released += c->len;
		}
		awaited++;
		batch = batch && (f & CMD_BATCH);
	}
}

/* Write released bytes as far as the connection takes them. */
void
relay_queue_flush(struct relay *r)
{
	int wrote = 0;

	while (r->released > 0 && r->pcb != NULL) {
		size_t n = altcp_sndbuf(r->pcb);

		if (n > r->released)
			n = r->released;
		if (n == 0 ||
			altcp_write(r->pcb, r->queue, (u16_t)n,
				TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		memmove(r->queue, r->queue + n, r->queued - n);
		/* AUTH data must not linger in the queue's free space. */
		wipe(r->queue + r->queued - n, n);
		r->queued -= n;
		r->released -= n;
		wrote = 1;
	}
	if (wrote && r->pcb != NULL)
		altcp_output(r->pcb);
}

static void
pump(struct relay *r)
{
	release(r);
	relay_queue_flush(r);
}

void
relay_queue_greeting(struct relay *r)
{
	step_push(r, CMD_GREETING, 0, MASK_NONE);
	pump(r);
}

uint32_t
relay_queue_timeout(const struct relay *r)
{
	if (r->nsteps == 0 || !r->steps[0].released)
		return 0;
	return cmds[r->steps[0].kind].timeout;
}

const char *
relay_queue_awaited(const struct relay *r)
{
	return r->nsteps > 0 ? cmds[r->steps[0].kind].name : "nothing";
}

/* "535 5.7.8 text" of the reply, on one line, for a failure's text. */
static const char *
said(const struct relay *r, char *buf, size_t len)
{
	const struct relay_reply *rp = &r->reply;
	size_t i;

	/* Cut if need be: the text only explains the code. */
	if (snprintf(buf, len, "%d%s%s%s%s", rp->code,
		    rp->enhanced[0] ? " " : "", rp->enhanced,
		    rp->textlen > 0 ? " " : "", rp->text) < 0)
		buf[0] = '\0';
	for (i = 0; buf[i] != '\0'; i++) {
		if (buf[i] == '\n')
			buf[i] = ' ';
	}
	return buf;
}

static void
owner_reply(struct relay *r, enum relay_step step)
{
	const struct relay_reply *rp = &r->reply;

	if (r->owner->on_reply != NULL)
		r->owner->on_reply(
			r->arg, step, rp->code, rp->enhanced, rp->text);
}

static int
positive(const struct relay *r)
{
	return r->reply.code >= 200 && r->reply.code < 300;
}

static void
reply_greeting(struct relay *r)
{
	char buf[RELAY_TEXT_MAX];

	if (r->reply.code != 220) {
		relay_fail(r, RELAY_FAIL_REFUSED,
			"upstream refused the connection: %s",
			said(r, buf, sizeof(buf)));
		return;
	}
	relay_ehlo(r);
}

void
relay_ehlo(struct relay *r)
{
	relay_caps_reset(&r->caps);
	relay_enter_state(r, RELAY_STATE_EHLO);
	cmd_push(r, CMD_EHLO, MASK_NONE, "EHLO %s", r->ehlo_name);
	pump(r);
}

static void
ready(struct relay *r)
{
	const struct relay_caps *c = &r->caps;

	log_event(LOG_LEVEL_INFO, r->sid, "relay",
		"ready tls=%s auth=%s pipelining=%s size=%lu 8bitmime=%s",
		r->tls_active ? "yes" : "no",
		r->conf->has_credentials ? "yes" : "no",
		c->flags & RELAY_CAP_PIPELINING ? "yes" : "no",
		(unsigned long)c->size_max,
		c->flags & RELAY_CAP_8BITMIME ? "yes" : "no");
	relay_enter_state(r, RELAY_STATE_READY);
	owner_reply(r, RELAY_STEP_OPEN);
}

/* RFC 4954 4: PLAIN with an initial response, else LOGIN's dialogue. */
static void
auth_start(struct relay *r)
{
	char b64[RELAY_QUEUE_MAX / 2];
	unsigned mechs = r->caps.auth;

	if (!(r->caps.flags & RELAY_CAP_AUTH)) {
		relay_fail(r, RELAY_FAIL_AUTH, "upstream does not offer AUTH");
		return;
	}
	relay_enter_state(r, RELAY_STATE_AUTH);
	if (mechs & RELAY_AUTH_PLAIN) {
		relay_sasl_plain(
			b64, sizeof(b64), r->conf->user, r->conf->password);
		cmd_push(r, CMD_AUTH_PLAIN, strlen("AUTH PLAIN "),
			"AUTH PLAIN %s", b64);
		wipe(b64, sizeof(b64));
	} else if (mechs & RELAY_AUTH_LOGIN) {
		cmd_push(r, CMD_AUTH_LOGIN, MASK_NONE, "AUTH LOGIN");
	} else {
		relay_fail(r, RELAY_FAIL_AUTH,
			"no AUTH mechanism in common: upstream offers "
			"neither PLAIN nor LOGIN");
		return;
	}
	pump(r);
}

static void
reply_ehlo(struct relay *r)
{
	char buf[RELAY_TEXT_MAX];

	if (r->reply.code != 250) {
		relay_fail(r, RELAY_FAIL_REFUSED, "EHLO refused: %s",
			said(r, buf, sizeof(buf)));
	} else if (r->tls_mode == RELAY_TLS_STARTTLS && !r->tls_active) {
		if (!(r->caps.flags & RELAY_CAP_STARTTLS)) {
			relay_fail(r, RELAY_FAIL_STARTTLS,
				"upstream does not offer STARTTLS, which "
				"smtp:// requires (for implicit TLS on port "
				"465 write smtps://)");
			return;
		}
		relay_enter_state(r, RELAY_STATE_STARTTLS);
		cmd_push(r, CMD_STARTTLS, MASK_NONE, "STARTTLS");
		pump(r);
	} else if (r->conf->has_credentials) {
		auth_start(r);
	} else {
		ready(r);
	}
}

static void
reply_starttls(struct relay *r)
{
	char buf[RELAY_TEXT_MAX];

	if (r->reply.code != 220) {
		relay_fail(r, RELAY_FAIL_STARTTLS, "STARTTLS refused: %s",
			said(r, buf, sizeof(buf)));
		return;
	}
	relay_starttls(r);
}

static void
auth_rejected(struct relay *r)
{
	char buf[RELAY_TEXT_MAX];

	relay_fail(r, RELAY_FAIL_AUTH, "AUTH rejected: %s",
		said(r, buf, sizeof(buf)));
}

static void
reply_auth_done(struct relay *r)
{
	if (r->reply.code != 235) {
		auth_rejected(r);
		return;
	}
	log_event(LOG_LEVEL_INFO, r->sid, "relay", "auth=ok");
	ready(r);
}

/* The 334 challenges' words are fixed; their text is not checked. */
static void
login_answer(struct relay *r, enum cmd_kind kind, const char *value)
{
	char b64[(RELAY_PASSWORD_MAX + 2) / 3 * 4 + 1];

	if (r->reply.code != 334) {
		auth_rejected(r);
		return;
	}
	base64_encode(
		(const unsigned char *)value, strlen(value), b64, sizeof(b64));
	cmd_push(r, kind, MASK_ALL, "%s", b64);
	wipe(b64, sizeof(b64));
	pump(r);
}

static void
reply_auth_login(struct relay *r)
{
	login_answer(r, CMD_AUTH_USER, r->conf->user);
}

static void
reply_auth_user(struct relay *r)
{
	login_answer(r, CMD_AUTH_PASS, r->conf->password);
}

static void
reply_mail(struct relay *r)
{
	owner_reply(r, RELAY_STEP_MAIL);
}

static void
reply_rcpt(struct relay *r)
{
	owner_reply(r, RELAY_STEP_RCPT);
}

static void
reply_data(struct relay *r)
{
	if (r->reply.code == 354) {
		relay_enter_state(r, RELAY_STATE_BODY);
		/* As if a line had just ended: ".\r\n" is an empty body. */
		memcpy(r->tail, "\0\0\0\r\n", sizeof(r->tail));
		r->want_write = 0;
		r->since = board_now_ms();
	} else if (r->state == RELAY_STATE_DATA) {
		relay_enter_state(r, RELAY_STATE_READY);
	}
	owner_reply(r, RELAY_STEP_DATA);
}

static void
reply_dot(struct relay *r)
{
	char esc[64];

	log_event(LOG_LEVEL_INFO, r->sid, "relay", "message code=%d status=%s",
		r->reply.code,
		log_escape(esc, sizeof(esc), r->reply.enhanced,
			strlen(r->reply.enhanced)));
	r->txn_open = 0;
	relay_enter_state(r, RELAY_STATE_READY);
	owner_reply(r, RELAY_STEP_END);
}

static void
reply_rset(struct relay *r)
{
	owner_reply(r, RELAY_STEP_RSET);
}

static void
reply_rset_auto(struct relay *r)
{
	char buf[RELAY_TEXT_MAX];

	if (!positive(r))
		relay_fail(r, RELAY_FAIL_PROTOCOL, "RSET refused: %s",
			said(r, buf, sizeof(buf)));
}

static void
reply_quit(struct relay *r)
{
	relay_quit_done(r, r->reply.code, r->reply.enhanced, r->reply.text);
}

/* A reply nobody asked for: RFC 5321 3.8 allows a 421 before closing. */
static void
unsolicited(struct relay *r)
{
	char buf[RELAY_TEXT_MAX];

	if (r->reply.code == 421)
		relay_fail(r, RELAY_FAIL_CLOSED, "upstream is closing: %s",
			said(r, buf, sizeof(buf)));
	else
		relay_fail(r, RELAY_FAIL_PROTOCOL,
			"reply without a command: %s",
			said(r, buf, sizeof(buf)));
}

void
relay_reply_line(struct relay *r, int done)
{
	struct relay_reply *rp = &r->reply;
	unsigned gen = r->gen;
	enum cmd_kind kind;

	relay_trace(r, RELAY_DIR_RECEIVED, rp->line);
	if (r->gen != gen)
		return;
	if (r->nsteps == 0 || !r->steps[0].released) {
		if (done)
			unsolicited(r);
		return;
	}
	kind = (enum cmd_kind)r->steps[0].kind;
	/* RFC 5321 4.1.1.1: the lines after the first name extensions. */
	if (kind == CMD_EHLO && rp->nlines > 1)
		relay_caps_line(&r->caps, rp->line + rp->line_text);
	if (!done)
		return;
	r->nsteps--;
	memmove(r->steps, r->steps + 1, r->nsteps * sizeof(r->steps[0]));
	r->since = board_now_ms();
	cmds[kind].handle(r);
	relay_reply_init(&r->reply);
	if (r->gen == gen)
		pump(r);
}

/* RFC 5321 4.5.3.1.3: a path is at most 256 octets, brackets included. */
static int
address_ok(const char *a, int utf8)
{
	size_t i;

	for (i = 0; a[i] != '\0'; i++) {
		unsigned char c = (unsigned char)a[i];

		if (i >= 254 || c < 0x20 || c == 0x7f || (c > 0x7f && !utf8))
			return 0;
	}
	return 1;
}

int
relay_mail(struct relay *r, const char *from, uint32_t size, unsigned flags)
{
	const struct relay_caps *c = &r->caps;
	char param[24] = "";
	int utf8 = (flags & RELAY_MAIL_UTF8) != 0, e;

	if (r->state != RELAY_STATE_READY && r->state != RELAY_STATE_ENVELOPE)
		return RELAY_ERR_STATE;
	if (!address_ok(from, utf8))
		return RELAY_ERR_ARG;
	if ((flags & RELAY_MAIL_8BIT) && !(c->flags & RELAY_CAP_8BITMIME))
		return RELAY_ERR_8BIT;
	if (utf8 && !(c->flags & RELAY_CAP_SMTPUTF8))
		return RELAY_ERR_UTF8;
	if ((c->flags & RELAY_CAP_SIZE) && c->size_max > 0 &&
		size > c->size_max)
		return RELAY_ERR_SIZE;
	if (r->txn_open) {
		if ((e = cmd_push(r, CMD_RSET_AUTO, MASK_NONE, "RSET")) != 0)
			return e;
		r->txn_open = 0;
	}
	/* RFC 1870 6: the size, so the upstream can refuse it at once. */
	if ((c->flags & RELAY_CAP_SIZE) && size > 0)
		snprintf(
			param, sizeof(param), " SIZE=%lu", (unsigned long)size);
	e = cmd_push(r, CMD_MAIL, MASK_NONE, "MAIL FROM:<%s>%s%s%s", from,
		param, flags & RELAY_MAIL_8BIT ? " BODY=8BITMIME" : "",
		utf8 ? " SMTPUTF8" : "");
	if (e != RELAY_OK)
		return e;
	r->txn_open = 1;
	r->txn_utf8 = utf8;
	relay_enter_state(r, RELAY_STATE_ENVELOPE);
	pump(r);
	return RELAY_OK;
}

int
relay_rcpt(struct relay *r, const char *to)
{
	int e;

	if (r->state != RELAY_STATE_ENVELOPE)
		return RELAY_ERR_STATE;
	if (!address_ok(to, r->txn_utf8))
		return RELAY_ERR_ARG;
	e = cmd_push(r, CMD_RCPT, MASK_NONE, "RCPT TO:<%s>", to);
	if (e == RELAY_OK)
		pump(r);
	return e;
}

int
relay_data(struct relay *r)
{
	int e;

	if (r->state != RELAY_STATE_ENVELOPE)
		return RELAY_ERR_STATE;
	e = cmd_push(r, CMD_DATA, MASK_NONE, "DATA");
	if (e != RELAY_OK)
		return e;
	relay_enter_state(r, RELAY_STATE_DATA);
	pump(r);
	return RELAY_OK;
}

static void
tail_push(struct relay *r, const unsigned char *p, size_t n)
{
	size_t keep = sizeof(r->tail);

	if (n >= keep) {
		memcpy(r->tail, p + n - keep, keep);
		return;
	}
	memmove(r->tail, r->tail + n, keep - n);
	memcpy(r->tail + keep - n, p, n);
}

size_t
relay_body_write(struct relay *r, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t done = 0;

	if (r->state != RELAY_STATE_BODY || r->pcb == NULL)
		return 0;
	while (done < len) {
		size_t n = altcp_sndbuf(r->pcb);

		if (n > len - done)
			n = len - done;
		if (n == 0 ||
			altcp_write(r->pcb, p + done, (u16_t)n,
				TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		done += n;
	}
	if (done > 0) {
		altcp_output(r->pcb);
		tail_push(r, p, done);
		r->since = board_now_ms();
	}
	r->want_write = done < len;
	return done;
}

void
relay_body_kick(struct relay *r)
{
	if (r->state != RELAY_STATE_BODY || !r->want_write || r->pcb == NULL ||
		altcp_sndbuf(r->pcb) == 0)
		return;
	r->want_write = 0;
	if (r->owner->on_writable != NULL)
		r->owner->on_writable(r->arg);
}

int
relay_body_end(struct relay *r)
{
	if (r->state != RELAY_STATE_BODY)
		return RELAY_ERR_STATE;
	/* RFC 5321 4.1.1.4: only CRLF "." CRLF ends the data. */
	if (memcmp(r->tail, "\r\n.\r\n", sizeof(r->tail)) != 0)
		return RELAY_ERR_BODY;
	r->want_write = 0;
	step_push(r, CMD_DOT, 0, MASK_NONE);
	relay_enter_state(r, RELAY_STATE_DOT);
	pump(r);
	return RELAY_OK;
}

int
relay_rset(struct relay *r)
{
	int e;

	if (r->state != RELAY_STATE_READY && r->state != RELAY_STATE_ENVELOPE)
		return RELAY_ERR_STATE;
	e = cmd_push(r, CMD_RSET, MASK_NONE, "RSET");
	if (e != RELAY_OK)
		return e;
	r->txn_open = 0;
	relay_enter_state(r, RELAY_STATE_READY);
	pump(r);
	return RELAY_OK;
}

int
relay_quit(struct relay *r)
{
	int e;

	if (r->state != RELAY_STATE_READY && r->state != RELAY_STATE_ENVELOPE)
		return RELAY_ERR_STATE;
	e = cmd_push(r, CMD_QUIT, MASK_NONE, "QUIT");
	if (e != RELAY_OK)
		return e;
	relay_enter_state(r, RELAY_STATE_QUIT);
	pump(r);
	return RELAY_OK;
}
