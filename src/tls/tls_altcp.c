/*
 * The altcp layer: a TLS pcb on top of an inner pcb, with BearSSL's
 * engine in between. Bytes move in four directions:
 *   inner recv -> tc->rx -> engine records   (credit inner once taken)
 *   engine plaintext -> pbuf -> upper recv    (held while refused)
 *   upper write -> engine plaintext           (flushed at once)
 *   engine records -> inner write             (copied, within sndbuf)
 * pump() repeats these until nothing moves. Upper callbacks run only
 * from inner callbacks (and altcp_recved, for held-back data), never from
 * the upper's own write, output or close.
 */
#include <string.h>
#include <time.h>

#include "lwip/pbuf.h"
#include "lwip/priv/altcp_priv.h"

#include "tls/tls_priv.h"

/* What a record adds to its plaintext at most: header, nonce, tag. */
#define RECORD_OVERHEAD (5 + 8 + 16)

/* A clock before 2025-01-01 was never set: blame it, not the peer. */
#define CLOCK_SANE 1735689600

/* Which upper callbacks a pump may call. */
#define PUMP_RECV 1 /* recv: plaintext and end of stream */
#define PUMP_EVENTS 2 /* connected, sent, err */
#define PUMP_ALL (PUMP_RECV | PUMP_EVENTS)

/*
 * One per entry point on the stack. Teardown clears alive in all of
 * them, so code that called out can tell without touching tc, which
 * then belongs to the caller again.
 */
struct tls_guard {
	struct tls_guard *prev;
	uint8_t alive;
	uint8_t inner_aborted; /* an inner callback must return ERR_ABRT */
};

static void
guard_enter(struct tls_conn *tc, struct tls_guard *g)
{
	g->prev = tc->guard;
	g->alive = 1;
	g->inner_aborted = 0;
	tc->guard = g;
}

/* What the inner callback that entered with g must return. */
static err_t
guard_leave(struct tls_conn *tc, struct tls_guard *g)
{
	if (!g->alive)
		return g->inner_aborted ? ERR_ABRT : ERR_OK;
	tc->guard = g->prev;
	return ERR_OK;
}

static void
note_error(struct tls_conn *tc, int err)
{
	if (tc->last_error != 0 || err == 0)
		return;
	if ((tc->flags & TC_PINNED) && err == BR_ERR_X509_NOT_TRUSTED)
		err = TLS_ERR_PIN_MISMATCH;
	else if (err == BR_ERR_X509_EXPIRED && time(NULL) < CLOCK_SANE)
		err = TLS_ERR_CLOCK;
	tc->last_error = err;
}

static void
detach(struct altcp_pcb *inner)
{
	altcp_arg(inner, NULL);
	altcp_recv(inner, NULL);
	altcp_sent(inner, NULL);
	altcp_err(inner, NULL);
	altcp_poll(inner, NULL, inner->pollinterval);
}

/* Close inner, or abort it if it will not close. 1 if aborted. */
static int
close_inner(struct altcp_pcb *inner)
{
	detach(inner);
	if (altcp_close(inner) == ERR_OK)
		return 0;
	altcp_abort(inner);
	return 1;
}

/* Free the TLS pcb and what tc holds; tc is the caller's again. */
static void
release(struct tls_conn *tc, int inner_aborted)
{
	struct tls_guard *g;

	for (g = tc->guard; g != NULL; g = g->prev) {
		g->alive = 0;
		g->inner_aborted |= (uint8_t)inner_aborted;
	}
	tc->guard = NULL;
	if (tc->rx != NULL)
		pbuf_free(tc->rx);
	if (tc->pending != NULL)
		pbuf_free(tc->pending);
	if (tc->early != NULL)
		pbuf_free(tc->early);
	tc->rx = tc->pending = tc->early = NULL;
	tc->outer->state = NULL;
	altcp_free(tc->outer);
	tc->outer = NULL;
	tc->inner = NULL;
}

/*
 * Hand engine records to inner, as much as its buffer takes. Copied:
 * BearSSL reuses the space after the ack. Returns 1 if bytes went out, 0
 * if none could, -1 if inner refused for good.
 */
static int
flush_records(struct tls_conn *tc)
{
	unsigned char *buf;
	size_t len;
	int wrote = 0;

	while ((buf = br_ssl_engine_sendrec_buf(tc->eng, &len)) != NULL) {
		u16_t room = altcp_sndbuf(tc->inner);
		err_t e;

		if (len > room)
			len = room;
		if (len == 0)
			break;
		e = altcp_write(
			tc->inner, buf, (u16_t)len, TCP_WRITE_FLAG_COPY);
		/* Retried from sent, poll, or connected for a client. */
		if (e == ERR_MEM ||
			(e == ERR_CONN && !(tc->flags & TC_HANDSHAKE_DONE)))
			break;
		if (e != ERR_OK)
			return -1;
		br_ssl_engine_sendrec_ack(tc->eng, len);
		wrote = 1;
	}
	if (wrote)
		altcp_output(tc->inner);
	return wrote;
}

/* Tear down after a fatal error; the upper hears of it through err. */
static void
fail(struct tls_conn *tc, int err, err_t why)
{
	altcp_err_fn errf = tc->outer->err;
	void *arg = tc->outer->arg;
	int aborted = 0;

	note_error(tc, err);
	if (tc->inner != NULL) {
		flush_records(tc); /* an alert, if the engine made one */
		aborted = close_inner(tc->inner);
	}
	release(tc, aborted);
	if (errf != NULL)
		errf(arg, why);
}

/* Raw bytes into the engine. 1 if some were taken. */
static int
feed_records(struct tls_conn *tc)
{
	unsigned char *buf;
	size_t len;
	u16_t n;

	if (tc->rx == NULL)
		return 0;
	buf = br_ssl_engine_recvrec_buf(tc->eng, &len);
	if (buf == NULL)
		return 0;
	n = pbuf_copy_partial(
		tc->rx, buf, len > 0xffff ? 0xffff : (u16_t)len, 0);
	br_ssl_engine_recvrec_ack(tc->eng, n);
	tc->rx = pbuf_free_header(tc->rx, n);
	/* The engine holds these bytes now: the peer may send more. */
	altcp_recved(tc->inner, n);
	return n > 0;
}

/* Plaintext the engine has decrypted, in a new pbuf, or NULL. */
static struct pbuf *
take_plaintext(struct tls_conn *tc)
{
	unsigned char *buf;
	struct pbuf *p;
	size_t len;

	buf = br_ssl_engine_recvapp_buf(tc->eng, &len);
	if (buf == NULL)
		return NULL;
	if (len > 0xffff)
		len = 0xffff;
	/* Out of memory leaves it in the engine, which then stops reading. */
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (p == NULL)
		return NULL;
	pbuf_take(p, buf, (u16_t)len);
	br_ssl_engine_recvapp_ack(tc->eng, len);
	return p;
}

/*
 * Give plaintext to the upper recv: what it refused before, else new.
 * While it refuses, nothing more leaves the engine, whose buffer then
 * stays full, so rx is not credited and inner's window closes. Returns
 * 1 if delivered, 0 if not, -1 if the upper closed the TLS pcb.
 */
static int
deliver(struct tls_conn *tc, struct tls_guard *g)
{
	struct altcp_pcb *outer = tc->outer;
	struct pbuf *p = tc->pending;
	err_t e;

	if (p == NULL)
		p = take_plaintext(tc);
	if (p == NULL)
		return 0;
	tc->pending = NULL;
	if (outer->recv == NULL) {
		pbuf_free(p);
		return 1;
	}
	/* Ownership of p passes to the upper on ERR_OK (and ERR_ABRT). */
	e = outer->recv(outer->arg, outer, p, ERR_OK);
	if (!g->alive) {
		if (e != ERR_OK && e != ERR_ABRT)
			pbuf_free(p);
		return -1;
	}
	if (e == ERR_OK)
		return 1;
	tc->pending = p;
	return 0;
}

/* Tell the upper the peer will send no more: recv(NULL), once. */
static int
give_eof(struct tls_conn *tc, struct tls_guard *g)
{
	struct altcp_pcb *outer = tc->outer;

	tc->flags |= TC_EOF_GIVEN;
	if (outer->recv != NULL)
		outer->recv(outer->arg, outer, NULL, ERR_OK);
	return g->alive ? 0 : -1;
}

/* Inner reported FIN: once everything before it is delivered, pass it. */
static int
eof_step(struct tls_conn *tc, struct tls_guard *g, int mode)
{
	size_t len;

	if (!(tc->flags & TC_RX_EOF) || (tc->flags & TC_EOF_GIVEN) ||
		tc->rx != NULL || tc->pending != NULL ||
		br_ssl_engine_recvapp_buf(tc->eng, &len) != NULL)
		return 0;
	if (tc->flags & TC_HANDSHAKE_DONE)
		return give_eof(tc, g);
	if (!(mode & PUMP_EVENTS))
		return 0;
	fail(tc, TLS_ERR_INNER_CLOSED, ERR_CLSD);
	return -1;
}

/* Engine closed: an error, or the peer's close_notify. */
static int
engine_closed(struct tls_conn *tc, struct tls_guard *g, int mode)
{
	int err = br_ssl_engine_last_error(tc->eng), r;

	if (err != 0) {
		if (!(mode & PUMP_EVENTS))
			return 0;
		fail(tc, err, ERR_ABRT);
		return -1;
	}
	r = deliver(tc, g);
	if (r != 0 || tc->pending != NULL || (tc->flags & TC_EOF_GIVEN))
		return r;
	return give_eof(tc, g);
}

/*
 * Put plaintext into the engine and flush it towards inner. Returns the
 * bytes taken, all of len when len <= the TLS pcb's sndbuf.
 */
static size_t
app_put(struct tls_conn *tc, const unsigned char *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t room;
		unsigned char *buf = br_ssl_engine_sendapp_buf(tc->eng, &room);

		if (buf == NULL)
			break;
		if (room > len - done)
			room = len - done;
		memcpy(buf, data + done, room);
		br_ssl_engine_sendapp_ack(tc->eng, room);
		done += room;
		/* A full record is closed by the engine; make space. */
		if (flush_records(tc) < 0)
			break;
	}
	br_ssl_engine_flush(tc->eng, 0);
	flush_records(tc);
	tc->unacked_sent += (uint32_t)done;
	return done;
}

/* Plaintext written during the handshake goes out first. */
static int
push_early(struct tls_conn *tc)
{
	struct pbuf *p = tc->early;
	size_t n = app_put(tc, p->payload, p->len);

	tc->early = pbuf_free_header(p, (u16_t)n);
	return n > 0;
}

static int
handshake_done(struct tls_conn *tc, struct tls_guard *g)
{
	struct altcp_pcb *outer = tc->outer;

	tc->flags |= TC_HANDSHAKE_DONE;
	if (tc->flags & TC_CLIENT)
		tls_client_done(tc);
	if (tc->early != NULL)
		push_early(tc);
	if (outer->connected != NULL) {
		outer->connected(outer->arg, outer, ERR_OK);
		if (!g->alive)
			return -1;
	}
	return 1;
}

/*
 * Plaintext handed to inner is reported through sent, once the upper can
 * write again: a report it cannot act on would be its last.
 */
static int
report_sent(struct tls_conn *tc, struct tls_guard *g)
{
	struct altcp_pcb *outer = tc->outer;
	uint32_t left = tc->unacked_sent;

	/* What the upper writes from sent is reported next time. */
	if (left == 0 || altcp_sndbuf(outer) == 0)
		return 0;
	tc->unacked_sent = 0;
	while (left > 0 && outer->sent != NULL) {
		u16_t n = left > 0xffff ? 0xffff : (u16_t)left;

		left -= n;
		outer->sent(outer->arg, outer, n);
		if (!g->alive)
			return -1;
	}
	return 1;
}

/*
 * The handshake is complete for the upper once the engine takes
 * plaintext and inner has room for a record, so that the upper can
 * write from connected (or data written early is on its way).
 */
static int
handshake_ready(struct tls_conn *tc, unsigned st)
{
	return (st & BR_SSL_SENDAPP) &&
		(tc->early != NULL ||
			altcp_sndbuf(tc->inner) > RECORD_OVERHEAD);
}

/* One round over all directions: >0 moved, 0 idle, -1 torn down. */
static int
pump_once(struct tls_conn *tc, struct tls_guard *g, int mode)
{
	unsigned st = br_ssl_engine_current_state(tc->eng);
	int moved, r;

	if (st & BR_SSL_CLOSED)
		return engine_closed(tc, g, mode);
	moved = flush_records(tc);
	if (moved < 0) {
		if (!(mode & PUMP_EVENTS))
			return 0;
		fail(tc, BR_ERR_IO, ERR_ABRT);
		return -1;
	}
	if (!(tc->flags & TC_HANDSHAKE_DONE)) {
		if ((mode & PUMP_EVENTS) && handshake_ready(tc, st))
			return handshake_done(tc, g);
		moved |= feed_records(tc);
		return eof_step(tc, g, mode) < 0 ? -1 : moved;
	}
	if (tc->early != NULL && (st & BR_SSL_SENDAPP))
		moved |= push_early(tc);
	if ((r = deliver(tc, g)) < 0)
		return -1;
	moved |= r | feed_records(tc);
	if ((r = eof_step(tc, g, mode)) < 0)
		return -1;
	if (mode & PUMP_EVENTS) {
		if ((r = report_sent(tc, g)) < 0)
			return -1;
		moved |= r;
	}
	return moved;
}

/* Returns 0, or -1 when the connection is gone (tc not ours). */
static int
pump(struct tls_conn *tc, struct tls_guard *g, int mode)
{
	uint16_t nested = tc->flags & TC_IN_PUMP;
	int r;

	tc->flags |= TC_IN_PUMP;
	do {
		tc->flags &= (uint16_t)~TC_KICK;
		r = pump_once(tc, g, mode);
		if (r < 0)
			return -1;
	} while (r > 0 || (tc->flags & TC_KICK));
	tc->flags = (uint16_t)((tc->flags & ~TC_IN_PUMP) | nested);
	return 0;
}

/* Callbacks from the inner pcb. */

static err_t
lower_recv(void *arg, struct altcp_pcb *inner, struct pbuf *p, err_t err)
{
	struct tls_conn *tc = arg;
	struct tls_guard g;

	(void)inner;
	(void)err;
	if (p == NULL) {
		tc->flags |= TC_RX_EOF;
	} else if (tc->rx == NULL) {
		tc->rx = p;
	} else if ((u32_t)tc->rx->tot_len + p->tot_len > 0xffff) {
		return ERR_MEM; /* inner keeps it and offers it again */
	} else {
		pbuf_cat(tc->rx, p);
	}
	guard_enter(tc, &g);
	pump(tc, &g, PUMP_ALL);
	return guard_leave(tc, &g);
}

static err_t
lower_sent(void *arg, struct altcp_pcb *inner, u16_t len)
{
	struct tls_conn *tc = arg;
	struct tls_guard g;

	(void)inner;
	(void)len;
	guard_enter(tc, &g);
	pump(tc, &g, PUMP_ALL);
	return guard_leave(tc, &g);
}

static err_t
lower_connected(void *arg, struct altcp_pcb *inner, err_t err)
{
	struct tls_conn *tc = arg;
	struct tls_guard g;

	(void)inner;
	(void)err;
	guard_enter(tc, &g);
	pump(tc, &g, PUMP_ALL); /* the ClientHello waits for this */
	return guard_leave(tc, &g);
}

static err_t
lower_poll(void *arg, struct altcp_pcb *inner)
{
	struct tls_conn *tc = arg;
	struct altcp_pcb *outer;
	struct tls_guard g;

	(void)inner;
	guard_enter(tc, &g);
	if (pump(tc, &g, PUMP_ALL) == 0) {
		outer = tc->outer;
		if (outer->poll != NULL)
			outer->poll(outer->arg, outer);
	}
	return guard_leave(tc, &g);
}

/* Inner is gone already (lwIP freed it before calling). */
static void
lower_err(void *arg, err_t err)
{
	struct tls_conn *tc = arg;
	altcp_err_fn errf = tc->outer->err;
	void *uarg = tc->outer->arg;

	tc->inner = NULL;
	note_error(tc,
		(tc->flags & TC_HANDSHAKE_DONE) ? BR_ERR_IO
						: TLS_ERR_INNER_CLOSED);
	release(tc, 0);
	if (errf != NULL)
		errf(uarg, err);
}

/* The functions of the TLS pcb. */

static void
tls_set_poll(struct altcp_pcb *outer, u8_t interval)
{
	struct tls_conn *tc = outer->state;

	if (tc != NULL)
		altcp_poll(tc->inner, lower_poll, interval);
}

/*
 * The upper consumed data. Called from one of our callbacks, the pump
 * that is running looks again once it returns; otherwise data held back
 * is offered now, so recv may run before this returns.
 */
static void
tls_recved(struct altcp_pcb *outer, u16_t len)
{
	struct tls_conn *tc = outer->state;
	struct tls_guard g;

	(void)len;
	if (tc == NULL)
		return;
	if (tc->flags & TC_IN_PUMP) {
		tc->flags |= TC_KICK;
		return;
	}
	if (tc->pending == NULL)
		return;
	guard_enter(tc, &g);
	pump(tc, &g, PUMP_RECV);
	guard_leave(tc, &g);
}

/* A client's inner connects through this; a server only sets connected. */
static err_t
tls_connect(struct altcp_pcb *outer, const ip_addr_t *ipaddr, u16_t port,
	altcp_connected_fn connected)
{
	struct tls_conn *tc = outer->state;

	if (tc == NULL)
		return ERR_CONN;
	outer->connected = connected;
	if (ipaddr == NULL)
		return ERR_OK;
	return altcp_connect(tc->inner, ipaddr, port, lower_connected);
}

static u16_t
tls_sndbuf(struct altcp_pcb *outer)
{
	struct tls_conn *tc = outer->state;
	size_t room;
	u16_t inner_room;

	if (tc == NULL)
		return 0;
	if (!(tc->flags & TC_HANDSHAKE_DONE))
		return (u16_t)(TLS_EARLY_MAX -
			(tc->early != NULL ? tc->early->tot_len : 0));
	if (tc->early != NULL ||
		br_ssl_engine_sendapp_buf(tc->eng, &room) == NULL)
		return 0;
	/* One record must fit into inner at once: the write flushes it. */
	inner_room = altcp_sndbuf(tc->inner);
	if (inner_room <= RECORD_OVERHEAD)
		return 0;
	inner_room -= RECORD_OVERHEAD;
	return room < inner_room ? (u16_t)room : inner_room;
}

static err_t
queue_early(struct tls_conn *tc, const void *data, u16_t len)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, len, PBUF_RAM);

	if (p == NULL)
		return ERR_MEM;
	pbuf_take(p, data, len);
	if (tc->early == NULL)
		tc->early = p;
	else
		pbuf_cat(tc->early, p);
	return ERR_OK;
}

/* Always copies, whatever apiflags say. */
static err_t
tls_write(struct altcp_pcb *outer, const void *data, u16_t len, u8_t apiflags)
{
	struct tls_conn *tc = outer->state;

	(void)apiflags;
	if (tc == NULL)
		return ERR_CONN;
	if (br_ssl_engine_current_state(tc->eng) & BR_SSL_CLOSED)
		return ERR_CLSD;
	if (len > tls_sndbuf(outer))
		return ERR_MEM;
	if (!(tc->flags & TC_HANDSHAKE_DONE))
		return queue_early(tc, data, len);
	app_put(tc, data, len);
	return ERR_OK;
}

/* Writes flush at once; this only retries what inner could not take. */
static err_t
tls_output(struct altcp_pcb *outer)
{
	struct tls_conn *tc = outer->state;

	if (tc == NULL)
		return ERR_CONN;
	flush_records(tc);
	return ERR_OK;
}

/*
 * close_notify goes into inner's buffer if it fits (it is 31 bytes),
 * then inner closes, sending it and the FIN.
 */
static err_t
tls_close(struct altcp_pcb *outer)
{
	struct tls_conn *tc = outer->state;
	int aborted;

	if (tc == NULL)
		return ERR_VAL;
	br_ssl_engine_close(tc->eng);
	flush_records(tc);
	aborted = close_inner(tc->inner);
	release(tc, aborted);
	return ERR_OK;
}

/* As tcp_abort: the err callback runs, with ERR_ABRT. */
static void
tls_abort(struct altcp_pcb *outer)
{
	struct tls_conn *tc = outer->state;
	altcp_err_fn errf;
	void *arg;

	if (tc == NULL)
		return;
	errf = outer->err;
	arg = outer->arg;
	detach(tc->inner);
	altcp_abort(tc->inner);
	release(tc, 1);
	if (errf != NULL)
		errf(arg, ERR_ABRT);
}

/* Half-closing a TLS stream is not offered; both halves close. */
static err_t
tls_shutdown(struct altcp_pcb *outer, int shut_rx, int shut_tx)
{
	if (shut_rx && shut_tx)
		return tls_close(outer);
	return ERR_VAL;
}

static const struct altcp_functions tls_functions = {
	.set_poll = tls_set_poll,
	.recved = tls_recved,
	.bind = altcp_default_bind,
	.connect = tls_connect,
	.abort = tls_abort,
	.close = tls_close,
	.shutdown = tls_shutdown,
	.write = tls_write,
	.output = tls_output,
	.mss = altcp_default_mss,
	.sndbuf = tls_sndbuf,
	.sndqueuelen = altcp_default_sndqueuelen,
	.nagle_disable = altcp_default_nagle_disable,
	.nagle_enable = altcp_default_nagle_enable,
	.nagle_disabled = altcp_default_nagle_disabled,
	.setprio = altcp_default_setprio,
	.addrinfo = altcp_default_get_tcp_addrinfo,
	.getip = altcp_default_get_ip,
	.getport = altcp_default_get_port,
#if LWIP_TCP_KEEPALIVE
	.keepalive_disable = altcp_default_keepalive_disable,
	.keepalive_enable = altcp_default_keepalive_enable,
#endif
#ifdef LWIP_DEBUG
	.dbg_get_tcp_state = altcp_default_dbg_get_tcp_state,
#endif
};

err_t
tls_altcp_attach(
	struct tls_conn *tc, struct altcp_pcb *inner, struct altcp_pcb **out)
{
	struct altcp_pcb *outer = altcp_alloc();

	if (outer == NULL)
		return ERR_MEM;
	outer->fns = &tls_functions;
	outer->inner_conn = inner;
	outer->state = tc;
	tc->outer = outer;
	tc->inner = inner;
	altcp_arg(inner, tc);
	altcp_recv(inner, lower_recv);
	altcp_sent(inner, lower_sent);
	altcp_err(inner, lower_err);
	altcp_poll(inner, lower_poll, inner->pollinterval);
	flush_records(tc); /* a client's hello, if inner is connected */
	*out = outer;
	return ERR_OK;
}
