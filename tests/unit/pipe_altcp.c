/* In-memory altcp pipe pair for unit tests; see pipe_altcp.h. */
#include <stdlib.h>
#include <string.h>

#include "lwip/pbuf.h"
#include "lwip/priv/altcp_priv.h"

#include "pipe_altcp.h"

struct pipe_end {
	struct pipe_pair *pair;
	struct altcp_pcb *pcb; /* NULL once closed or aborted */
	struct pipe_end *peer;
	unsigned char *q; /* written, not yet delivered */
	size_t qlen;
	size_t unacked; /* delivered, not yet recved by the peer */
	struct pbuf *refused; /* what this end's recv refused */
	int fin_pending, fin_sent, rst;
};

struct pipe_pair {
	struct pipe_end e[2];
	u16_t sndbuf;
	size_t window, piece;
};

/* As TCP: local buffer space; the peer's window only delays delivery. */
static u16_t
pipe_sndbuf(struct altcp_pcb *pcb)
{
	struct pipe_end *e = pcb->state;

	if (e == NULL || e->fin_pending)
		return 0;
	return (u16_t)(e->pair->sndbuf - e->qlen);
}

static err_t
pipe_write(struct altcp_pcb *pcb, const void *data, u16_t len, u8_t flags)
{
	struct pipe_end *e = pcb->state;

	(void)flags;
	if (e == NULL || e->fin_pending)
		return ERR_CONN;
	if (len > pipe_sndbuf(pcb))
		return ERR_MEM;
	memcpy(e->q + e->qlen, data, len);
	e->qlen += len;
	return ERR_OK;
}

static err_t
pipe_output(struct altcp_pcb *pcb)
{
	(void)pcb;
	return ERR_OK;
}

static void
pipe_recved(struct altcp_pcb *pcb, u16_t len)
{
	struct pipe_end *e = pcb->state;
	struct pipe_end *w = e->peer;

	w->unacked = len > w->unacked ? 0 : w->unacked - len;
}

static err_t
pipe_close(struct altcp_pcb *pcb)
{
	struct pipe_end *e = pcb->state;

	e->fin_pending = 1;
	e->pcb = NULL;
	if (e->refused != NULL)
		pbuf_free(e->refused);
	e->refused = NULL;
	altcp_free(pcb);
	return ERR_OK;
}

static void
pipe_abort(struct altcp_pcb *pcb)
{
	struct pipe_end *e = pcb->state;
	altcp_err_fn errf = pcb->err;
	void *arg = pcb->arg;

	e->pcb = NULL;
	e->qlen = 0;
	e->peer->rst = 1;
	if (e->refused != NULL)
		pbuf_free(e->refused);
	e->refused = NULL;
	altcp_free(pcb);
	if (errf != NULL)
		errf(arg, ERR_ABRT);
}

static void
pipe_set_poll(struct altcp_pcb *pcb, u8_t interval)
{
	(void)pcb;
	(void)interval;
}

static u16_t
pipe_mss(struct altcp_pcb *pcb)
{
	(void)pcb;
	return 536;
}

static const struct altcp_functions pipe_functions = {
	.set_poll = pipe_set_poll,
	.recved = pipe_recved,
	.close = pipe_close,
	.abort = pipe_abort,
	.write = pipe_write,
	.output = pipe_output,
	.mss = pipe_mss,
	.sndbuf = pipe_sndbuf,
};

struct pipe_pair *
pipe_pair_new(u16_t sndbuf, size_t window, size_t piece, struct altcp_pcb **a,
	struct altcp_pcb **b)
{
	struct pipe_pair *pp = calloc(1, sizeof(*pp));
	int i;

	if (pp == NULL)
		return NULL;
	pp->sndbuf = sndbuf;
	pp->window = window;
	pp->piece = piece;
	for (i = 0; i < 2; i++) {
		struct pipe_end *e = &pp->e[i];

		e->pair = pp;
		e->peer = &pp->e[1 - i];
		e->q = malloc(sndbuf);
		e->pcb = altcp_alloc();
		if (e->q == NULL || e->pcb == NULL) {
			pipe_pair_free(pp);
			return NULL;
		}
		e->pcb->fns = &pipe_functions;
		e->pcb->state = e;
	}
	*a = pp->e[0].pcb;
	*b = pp->e[1].pcb;
	return pp;
}

/* Offer p to r's recv; keep it as refused unless taken. */
static void
offer(struct pipe_end *r, struct pbuf *p)
{
	struct altcp_pcb *pcb = r->pcb;
	err_t err;

	if (pcb->recv == NULL) {
		if (p != NULL) {
			altcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return;
	}
	err = pcb->recv(pcb->arg, pcb, p, ERR_OK);
	if (err != ERR_OK && err != ERR_ABRT && r->pcb == pcb && p != NULL)
		r->refused = p;
	else if (err != ERR_OK && err != ERR_ABRT && p != NULL)
		pbuf_free(p);
}

/* One piece from w to its peer. */
static int
move_piece(struct pipe_end *w)
{
	struct pipe_end *r = w->peer;
	size_t n = w->qlen < w->pair->piece ? w->qlen : w->pair->piece;
	struct pbuf *p;

	if (w->unacked >= w->pair->window)
		return 0; /* the reader's window is closed */
	if (n > w->pair->window - w->unacked)
		n = w->pair->window - w->unacked;
	if (n == 0)
		return 0;
	if (r->pcb == NULL) {
		w->qlen = 0; /* reader gone: data is lost, as after RST */
		return 1;
	}
	if (r->refused != NULL)
		return 0;
	p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
	if (p == NULL)
		return 0;
	pbuf_take(p, w->q, (u16_t)n);
	memmove(w->q, w->q + n, w->qlen - n);
	w->qlen -= n;
	w->unacked += n;
	offer(r, p);
	if (w->pcb != NULL && w->pcb->sent != NULL)
		w->pcb->sent(w->pcb->arg, w->pcb, (u16_t)n);
	return 1;
}

static int
step_side(struct pipe_end *w)
{
	struct pipe_end *r = w->peer;
	int moved = 0;

	if (r->pcb != NULL && r->refused != NULL) {
		struct pbuf *p = r->refused;

		r->refused = NULL;
		offer(r, p);
		moved = r->refused == NULL;
	}
	moved |= move_piece(w);
	if (w->qlen == 0 && w->fin_pending && !w->fin_sent && r->pcb != NULL &&
		r->refused == NULL) {
		w->fin_sent = 1;
		offer(r, NULL);
		moved = 1;
	}
	if (r->rst && r->pcb != NULL) {
		struct altcp_pcb *pcb = r->pcb;
		altcp_err_fn errf = pcb->err;
		void *arg = pcb->arg;

		r->rst = 0;
		r->pcb = NULL;
		altcp_free(pcb);
		if (errf != NULL)
			errf(arg, ERR_RST);
		moved = 1;
	}
	return moved;
}

int
pipe_pair_step(struct pipe_pair *pp)
{
	int moved = step_side(&pp->e[0]);

	return step_side(&pp->e[1]) | moved;
}

size_t
pipe_pair_run(struct pipe_pair *pp, size_t limit)
{
	size_t n = 0;

	while (n < limit && pipe_pair_step(pp))
		n++;
	return n;
}

void
pipe_pair_poll(struct pipe_pair *pp)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct altcp_pcb *pcb = pp->e[i].pcb;

		if (pcb != NULL && pcb->poll != NULL)
			pcb->poll(pcb->arg, pcb);
	}
}

size_t
pipe_pair_unacked(const struct pipe_pair *pp, int side)
{
	return pp->e[side].unacked + pp->e[side].qlen;
}

void
pipe_pair_free(struct pipe_pair *pp)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct pipe_end *e = &pp->e[i];

		if (e->pcb != NULL)
			altcp_free(e->pcb);
		if (e->refused != NULL)
			pbuf_free(e->refused);
		free(e->q);
	}
	free(pp);
}
