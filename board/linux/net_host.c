/*
 * The host network backend: kernel TCP sockets dressed as lwIP altcp pcbs,
 * so the TLS layer and the SMTP session run unchanged on either backend.
 * Contract in net.h. Each call mirrors what lwIP's altcp_tcp.c does on a
 * tcp_pcb, because the layers above were written against that:
 *   - no upper callback runs from inside an altcp_* call the upper made,
 *     except err from altcp_abort (tcp_abort does the same);
 *   - err runs once the connection is gone, and the pcb is freed after it;
 *   - data the upper refuses stays here and is offered again later;
 *   - sent counts bytes that left our send buffer for the kernel, the
 *     nearest thing to an ACK that a socket shows.
 *
 * Memory: one table of connection slots, allocated by net_host_init, each
 * with its own send buffer. The altcp pcb comes from lwIP's pool; received
 * data travels up in PBUF_RAM pbufs, at most TCP_WND bytes a connection.
 */
/* accept4 is a GNU extension, in musl and glibc alike. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/altcp.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/priv/altcp_priv.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "conf/conf.h"
#include "loop.h"
#include "net.h"

#define RX_CHUNK 2048 /* bytes read into one pbuf */
#define ACCEPT_BURST 16 /* accepts per wake-up, so no port starves */
#define LISTEN_BACKLOG 64
#define TICK_MS 500 /* lwIP's TCP_SLOW_INTERVAL: poll's unit */
#define LINGER_MS 10000 /* a closed connection's time to drain */

enum slot_state {
	SLOT_FREE,
	SLOT_NEW, /* handed out, maybe bound, not connected */
	SLOT_CONNECTING,
	SLOT_OPEN,
	SLOT_LISTEN,
	SLOT_LINGER /* closed by the upper, still draining snd[] */
};

struct host_conn {
	struct altcp_pcb *pcb; /* NULL while free or lingering */
	struct pbuf *refused; /* data the upper refused; ours again */
	enum slot_state state;
	int fd;
	int family;
	int loop_slot; /* -1 while not watched */
	int so_err; /* first socket error; reported once */
	uint32_t since; /* SLOT_LINGER: when close was called */
	uint32_t wnd_used; /* delivered and not yet recved */
	uint32_t unreported; /* gone to the kernel, not yet in sent */
	uint16_t snd_off;
	uint16_t snd_len;
	uint8_t polltmr;
	uint8_t ip_type;
	uint8_t rx_eof; /* the kernel reported the peer's FIN */
	uint8_t eof_done; /* recv(NULL) was delivered */
	uint8_t shut_rx;
	uint8_t fin_pending; /* shutdown(tx) waits for snd[] to drain */
	uint8_t fin_sent;
	uint8_t starved; /* out of pbufs or fds: retry at the tick */
	uint8_t parked; /* out of the loop: only HUP was left */
	uint8_t pending; /* has deferred work for the timer */
	uint8_t nodelay;
	ip_addr_t local_ip;
	ip_addr_t remote_ip;
	u16_t local_port;
	u16_t remote_port;
	/* Everything above is reset per use; gen and snd survive. */
	unsigned gen; /* bumped whenever a pcb detaches */
	unsigned char snd[TCP_SND_BUF];
};

static struct host_conn *conns;
static size_t nconns;
static uint32_t next_tick;
static int in_timer;
static int kicked;

static const struct altcp_functions host_functions;

static void conn_io(void *arg, int fd, short revents);
static void rx_pump(struct host_conn *c);

/* --- Addresses --- */

static err_t
errno_to_err(int e)
{
	switch (e) {
	case 0:
		return ERR_OK;
	case ENOMEM:
	case ENOBUFS:
	case EMFILE:
	case ENFILE:
		return ERR_MEM;
	case EADDRINUSE:
		return ERR_USE;
	case ECONNREFUSED:
	case ECONNRESET:
	case EPIPE:
		return ERR_RST;
	case ETIMEDOUT:
		return ERR_TIMEOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
		return ERR_RTE;
	case EISCONN:
		return ERR_ISCONN;
	case EINVAL:
	case EAFNOSUPPORT:
	case EADDRNOTAVAIL:
		return ERR_VAL;
	default:
		return ERR_ABRT;
	}
}

static void
sin6_make(struct sockaddr_in6 *sin6, const ip_addr_t *ip, u8_t type)
{
	sin6->sin6_family = AF_INET6;
	if (type == IPADDR_TYPE_V6) {
		memcpy(&sin6->sin6_addr, ip_2_ip6(ip)->addr, 16);
	} else if (type == IPADDR_TYPE_V4) {
		/* An IPv4 peer on an IPv6 socket: the v4-mapped form. */
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6->sin6_addr.s6_addr[12], &ip_2_ip4(ip)->addr, 4);
	}
}

/*
 * A sockaddr of the socket's family (NULL ip: the any address). Returns
 * its length, or 0 if ip cannot be put in that family.
 */
static socklen_t
sockaddr_make(struct sockaddr_storage *ss, int family, const ip_addr_t *ip,
	u16_t port)
{
	u8_t type = ip != NULL ? IP_GET_TYPE(ip) : IPADDR_TYPE_ANY;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		sin6_make(sin6, ip, type);
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	if (type == IPADDR_TYPE_V6)
		return 0;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (type == IPADDR_TYPE_V4)
		sin->sin_addr.s_addr = ip_2_ip4(ip)->addr;
	return sizeof(*sin);
}

/* The lwIP form of a kernel address; v4-mapped IPv6 becomes IPv4. */
static void
ip_from_sockaddr(const struct sockaddr_storage *ss, ip_addr_t *ip, u16_t *port)
{
	memset(ip, 0, sizeof(*ip));
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		ip_2_ip4(ip)->addr = sin->sin_addr.s_addr;
		IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V4);
		*port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
			(const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(&ip_2_ip4(ip)->addr,
				&sin6->sin6_addr.s6_addr[12], 4);
			IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V4);
		} else {
			memcpy(ip_2_ip6(ip)->addr, &sin6->sin6_addr, 16);
			ip6_addr_clear_zone(ip_2_ip6(ip));
			IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V6);
		}
		*port = ntohs(sin6->sin6_port);
	}
}

static void
addresses_load(struct host_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0)
		ip_from_sockaddr(&ss, &c->local_ip, &c->local_port);
	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0)
		ip_from_sockaddr(&ss, &c->remote_ip, &c->remote_port);
}

/* --- Slots --- */

static struct host_conn *
conn_alloc(uint8_t ip_type)
{
	size_t i;

	for (i = 0; i < nconns; i++) {
		struct host_conn *c = &conns[i];

		if (c->state != SLOT_FREE)
			continue;
		memset(c, 0, offsetof(struct host_conn, gen));
		c->state = SLOT_NEW;
		c->fd = -1;
		c->loop_slot = -1;
		c->ip_type = ip_type;
		return c;
	}
	return NULL;
}

static struct altcp_pcb *
conn_attach(struct host_conn *c)
{
	struct altcp_pcb *pcb = altcp_alloc();

	if (pcb == NULL)
		return NULL;
	pcb->fns = &host_functions;
	pcb->state = c;
	c->pcb = pcb;
	return pcb;
}

/*
 * The upper's pcb no longer names this slot. The caller frees the pcb;
 * the new generation tells code that ran a callback the pcb is gone.
 */
static void
conn_detach(struct host_conn *c)
{
	if (c->pcb != NULL)
		c->pcb->state = NULL;
	c->pcb = NULL;
	c->gen++;
}

static void
fd_close(int fd, int abortive)
{
	if (abortive) {
		/* A zero linger time makes close send RST, as tcp_abort. */
		struct linger lg = {1, 0};

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(fd);
}

static void
conn_release(struct host_conn *c, int abortive)
{
	conn_detach(c);
	if (c->loop_slot >= 0)
		loop_fd_remove(c->loop_slot);
	if (c->fd >= 0)
		fd_close(c->fd, abortive);
	if (c->refused != NULL)
		pbuf_free(c->refused);
	c->refused = NULL;
	c->fd = -1;
	c->loop_slot = -1;
	c->state = SLOT_FREE;
}

/*
 * The connection died under the upper: lwIP's order is to forget the
 * pcb, tell the upper through err, then free the pcb.
 */
static void
conn_fail(struct host_conn *c, err_t err, int abortive)
{
	struct altcp_pcb *pcb = c->pcb;

	conn_release(c, abortive);
	if (pcb == NULL)
		return;
	if (pcb->err != NULL)
		pcb->err(pcb->arg, err);
	altcp_free(pcb);
}

static void host_timer(void *arg);

/* Ask the timer to run c's deferred work in the next loop turn. */
static void
kick(struct host_conn *c)
{
	c->pending = 1;
	if (kicked)
		return;
	kicked = 1;
	if (in_timer)
		return; /* the timer reschedules itself at 0 ms */
	sys_untimeout(host_timer, NULL);
	sys_timeout(0, host_timer, NULL);
}

static void
conn_defer_error(struct host_conn *c, int e)
{
	if (c->so_err == 0)
		c->so_err = e;
	kick(c);
}

static int
sock_error(int fd)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		return errno;
	return e;
}

/* --- Events --- */

static int
rx_wanted(const struct host_conn *c)
{
	return c->state == SLOT_OPEN && !c->rx_eof && !c->shut_rx &&
		c->refused == NULL && !c->starved && c->wnd_used < TCP_WND;
}

static int
conn_watch(struct host_conn *c, short events)
{
	c->loop_slot = loop_fd_add(c->fd, events, conn_io, c);
	return c->loop_slot < 0 ? EMFILE : 0;
}

/* Ask poll for what the slot can use now: it never spins on readiness. */
static void
conn_sync(struct host_conn *c)
{
	short ev = 0;

	switch (c->state) {
	case SLOT_LISTEN:
		ev = c->starved ? 0 : POLLIN;
		break;
	case SLOT_CONNECTING:
	case SLOT_LINGER:
		ev = POLLOUT;
		break;
	case SLOT_OPEN:
		if (rx_wanted(c))
			ev |= POLLIN;
		if (c->snd_len > 0 || c->unreported > 0)
			ev |= POLLOUT;
		break;
	default:
		return;
	}
	if (c->parked) {
		if (!(ev & POLLIN))
			return;
		c->parked = 0;
		if (conn_watch(c, ev) != 0)
			conn_defer_error(c, EMFILE);
		return;
	}
	loop_fd_events(c->loop_slot, ev);
}

/*
 * Both directions are shut (POLLHUP) yet the upper still holds data, so
 * the rest of the kernel's queue cannot be read: stop polling, since
 * poll would report HUP forever, until the upper makes room again.
 */
static void
conn_park(struct host_conn *c)
{
	if (c->loop_slot < 0)
		return;
	loop_fd_remove(c->loop_slot);
	c->loop_slot = -1;
	c->parked = 1;
}

/* --- Sending --- */

static void
send_fin(struct host_conn *c)
{
	shutdown(c->fd, SHUT_WR);
	c->fin_pending = 0;
	c->fin_sent = 1;
}

/* Move what the kernel takes; errors wait in so_err for a safe moment. */
static void
flush(struct host_conn *c)
{
	if (c->state != SLOT_OPEN && c->state != SLOT_LINGER)
		return;
	while (c->snd_len > 0 && c->so_err == 0) {
		ssize_t n = send(c->fd, c->snd + c->snd_off, c->snd_len,
			MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->so_err = errno;
			break;
		}
		c->snd_off += (uint16_t)n;
		c->snd_len -= (uint16_t)n;
		c->unreported += (uint32_t)n;
	}
	if (c->snd_len == 0) {
		c->snd_off = 0;
		if (c->fin_pending && c->so_err == 0)
			send_fin(c);
	}
}

/* Tell the upper about freed send space, like lwIP does on an ACK. */
static void
report_sent(struct host_conn *c)
{
	unsigned gen = c->gen;
	uint32_t n = c->unreported;

	/* Only what is known now: bytes sent from the callback wait. */
	c->unreported = 0;
	while (n > 0 && c->gen == gen && c->pcb->sent != NULL) {
		u16_t part = n > 0xffff ? 0xffff : (u16_t)n;

		n -= part;
		c->pcb->sent(c->pcb->arg, c->pcb, part);
	}
}

/*
 * The tail of every dispatch that ran upper callbacks: send what they
 * wrote (lwIP calls tcp_output after its callbacks too), report a socket
 * error through err, and poll for what is wanted next.
 */
static void
conn_settle(struct host_conn *c, int hup)
{
	if (c->so_err == 0 && c->snd_len > 0)
		flush(c);
	if (c->so_err != 0) {
		conn_fail(c, errno_to_err(c->so_err), 0);
		return;
	}
	if (hup && !rx_wanted(c))
		conn_park(c);
	conn_sync(c);
}

/* --- Receiving --- */

/*
 * Hand p (NULL: end of data) to the upper's recv. If it refuses the data,
 * lwIP keeps it as refused_data and offers it again; so do we.
 */
static void
deliver(struct host_conn *c, struct pbuf *p)
{
	struct altcp_pcb *pcb = c->pcb;
	unsigned gen = c->gen;
	err_t err;

	if (pcb->recv == NULL) {
		/* Nobody reads: drop the data but keep the window open. */
		if (p != NULL) {
			c->wnd_used -= p->tot_len;
			pbuf_free(p);
		}
		return;
	}
	err = pcb->recv(pcb->arg, pcb, p, ERR_OK);
	if (p == NULL || err == ERR_OK || err == ERR_ABRT)
		return; /* the upper owns p now */
	if (c->gen != gen)
		pbuf_free(p);
	else
		c->refused = p;
}

/* Read one chunk and hand it up. Returns 1 when more may be waiting. */
static int
rx_read(struct host_conn *c)
{
	uint32_t room = TCP_WND - c->wnd_used;
	u16_t want = room < RX_CHUNK ? (u16_t)room : RX_CHUNK;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, want, PBUF_RAM);
	unsigned gen = c->gen;
	ssize_t n;

	if (p == NULL) {
		/* The kernel keeps the data meanwhile; retry at the tick. */
		c->starved = 1;
		return 0;
	}
	do
		n = recv(c->fd, p->payload, want, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		pbuf_free(p);
		if (n == 0)
			c->rx_eof = 1;
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			c->so_err = errno;
		return 0;
	}
	if (n < want)
		pbuf_realloc(p, (u16_t)n);
	c->wnd_used += (uint32_t)n;
	deliver(c, p);
	/* A short read means the kernel's queue is empty. */
	return c->gen == gen && n == want;
}

/* Offer refused data again, read while the window allows, then EOF. */
static void
rx_pump(struct host_conn *c)
{
	unsigned gen = c->gen;

	if (c->refused != NULL) {
		struct pbuf *p = c->refused;

		c->refused = NULL;
		deliver(c, p);
		if (c->gen != gen || c->refused != NULL)
			return;
	}
	while (rx_wanted(c) && c->so_err == 0 && rx_read(c))
		;
	if (c->gen != gen || c->so_err != 0)
		return;
	if (c->rx_eof && !c->eof_done && !c->shut_rx && c->refused == NULL) {
		c->eof_done = 1;
		deliver(c, NULL);
	}
}

/* --- Readiness, per state --- */

static void
accept_one(struct host_conn *l, int fd)
{
	struct altcp_pcb *lpcb = l->pcb;
	struct host_conn *c = conn_alloc(l->ip_type);
	struct altcp_pcb *pcb = NULL;
	unsigned gen;
	err_t err;

	/*
	 * Out of slots: close at once. The session layer caps sessions
	 * below this table's size, so it answers "421" before we get here.
	 */
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->state = SLOT_OPEN;
	if (lpcb->accept != NULL && conn_watch(c, 0) == 0)
		pcb = conn_attach(c);
	if (pcb == NULL) {
		conn_release(c, 1);
		return;
	}
	addresses_load(c);
	gen = c->gen;
	err = lpcb->accept(lpcb->arg, pcb, ERR_OK);
	if (c->gen != gen)
		return;
	/* lwIP aborts a connection its accept callback did not take. */
	if (err != ERR_OK) {
		conn_fail(c, ERR_ABRT, 1);
		return;
	}
	conn_settle(c, 0);
}

static void
listen_io(struct host_conn *l)
{
	unsigned gen = l->gen;
	int i;

	for (i = 0; i < ACCEPT_BURST && l->gen == gen; i++) {
		int fd = accept4(
			l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			accept_one(l, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			/* Out of fds: poll would wake us at once, forever. */
			l->starved = 1;
			conn_sync(l);
		}
		return;
	}
}

static void
connect_io(struct host_conn *c, short revents)
{
	struct altcp_pcb *pcb = c->pcb;
	unsigned gen = c->gen;
	int e = c->so_err != 0 ? c->so_err : sock_error(c->fd);

	if (e == 0 && (revents & (POLLERR | POLLHUP)))
		e = ECONNREFUSED;
	if (e != 0) {
		conn_fail(c, errno_to_err(e), 0);
		return;
	}
	c->state = SLOT_OPEN;
	addresses_load(c);
	if (pcb->connected != NULL) {
		pcb->connected(pcb->arg, pcb, ERR_OK);
		if (c->gen != gen)
			return;
	}
	conn_settle(c, 0);
}

static void
open_io(struct host_conn *c, short revents)
{
	unsigned gen = c->gen;

	if (revents & POLLNVAL) {
		c->so_err = EBADF;
	} else if (revents & POLLERR) {
		/* Reading SO_ERROR clears it: read it once. */
		int e = sock_error(c->fd);

		c->so_err = e != 0 ? e : ECONNRESET;
	}
	if (c->so_err == 0 && (revents & POLLOUT))
		flush(c);
	if (c->so_err == 0) {
		report_sent(c);
		if (c->gen != gen)
			return;
	}
	if (c->so_err == 0 &&
		((revents & (POLLIN | POLLHUP)) || c->refused != NULL)) {
		rx_pump(c);
		if (c->gen != gen)
			return;
	}
	conn_settle(c, revents & POLLHUP);
}

static void
linger_io(struct host_conn *c, short revents)
{
	if (!(revents & (POLLERR | POLLHUP | POLLNVAL)))
		flush(c);
	if (revents & (POLLERR | POLLHUP | POLLNVAL) || c->so_err != 0 ||
		c->snd_len == 0)
		conn_release(c, 0);
}

static void
conn_io(void *arg, int fd, short revents)
{
	struct host_conn *c = arg;

	(void)fd;
	switch (c->state) {
	case SLOT_LISTEN:
		listen_io(c);
		break;
	case SLOT_CONNECTING:
		connect_io(c, revents);
		break;
	case SLOT_OPEN:
		open_io(c, revents);
		break;
	case SLOT_LINGER:
		linger_io(c, revents);
		break;
	default:
		break;
	}
}

/* --- Timer: deferred work and the 500 ms tick --- */

static void
conn_deferred(struct host_conn *c)
{
	unsigned gen = c->gen;

	c->pending = 0;
	if (c->state == SLOT_LINGER) {
		if (c->so_err != 0)
			conn_release(c, 0);
		return;
	}
	if (c->pcb == NULL)
		return;
	if (c->state == SLOT_CONNECTING && c->so_err != 0) {
		conn_fail(c, errno_to_err(c->so_err), 0);
		return;
	}
	if (c->state != SLOT_OPEN)
		return;
	if (c->so_err == 0 && c->refused != NULL) {
		rx_pump(c);
		if (c->gen != gen)
			return;
	}
	conn_settle(c, 0);
}

/* lwIP's slow timer calls poll every pollinterval ticks; so do we. */
static void
conn_tick(struct host_conn *c, uint32_t now)
{
	struct altcp_pcb *pcb = c->pcb;
	unsigned gen = c->gen;

	if (c->state == SLOT_LISTEN && c->starved) {
		c->starved = 0;
		conn_sync(c);
	} else if (c->state == SLOT_LINGER) {
		if (now - c->since >= LINGER_MS)
			conn_release(c, 1);
	}
	if (c->state != SLOT_OPEN && c->state != SLOT_CONNECTING)
		return;
	c->starved = 0;
	if (pcb->poll != NULL && ++c->polltmr >= pcb->pollinterval) {
		c->polltmr = 0;
		pcb->poll(pcb->arg, pcb);
		if (c->gen != gen)
			return;
	}
	if (c->state == SLOT_OPEN && c->so_err == 0 && c->refused != NULL) {
		rx_pump(c);
		if (c->gen != gen)
			return;
	}
	if (c->state == SLOT_OPEN)
		conn_settle(c, 0);
	else if (c->so_err != 0)
		conn_fail(c, errno_to_err(c->so_err), 0);
}

static void
host_timer(void *arg)
{
	uint32_t now = sys_now();
	int32_t wait;
	size_t i;

	(void)arg;
	in_timer = 1;
	kicked = 0;
	for (i = 0; i < nconns; i++)
		if (conns[i].pending)
			conn_deferred(&conns[i]);
	if ((int32_t)(now - next_tick) >= 0) {
		next_tick = now + TICK_MS;
		for (i = 0; i < nconns; i++)
			conn_tick(&conns[i], now);
	}
	in_timer = 0;
	wait = kicked ? 0 : (int32_t)(next_tick - sys_now());
	sys_timeout(wait > 0 ? (u32_t)wait : 0, host_timer, NULL);
}

/* --- altcp functions --- */

static void
host_recved(struct altcp_pcb *pcb, u16_t len)
{
	struct host_conn *c = pcb->state;

	if (c == NULL)
		return;
	c->wnd_used -= len < c->wnd_used ? len : c->wnd_used;
	if (c->refused != NULL)
		kick(c);
	conn_sync(c);
}

static int
conn_socket(struct host_conn *c, int family)
{
	int one = 1;

	c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return errno;
	c->family = family;
	if (c->nodelay)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/*
 * Make the socket and bind it. As with lwIP's pcb types, an IPv6 address
 * (or any address on an IPADDR_TYPE_V6 pcb) takes IPv6 only; an
 * IPADDR_TYPE_ANY pcb on the any address takes both families.
 */
static int
conn_bind(struct host_conn *c, const ip_addr_t *ip, u16_t port, int reuse)
{
	u8_t type = ip != NULL ? IP_GET_TYPE(ip) : IPADDR_TYPE_ANY;
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, v6only, e;

	if (c->state != SLOT_NEW || c->fd >= 0)
		return EINVAL;
	if (type == IPADDR_TYPE_ANY)
		type = c->ip_type;
	v6only = type == IPADDR_TYPE_V6;
	e = conn_socket(c, type == IPADDR_TYPE_V4 ? AF_INET : AF_INET6);
	if (e != 0)
		return e;
	len = sockaddr_make(&ss, c->family, ip, port);
	if (reuse)
		setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (c->family == AF_INET6)
		setsockopt(c->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			sizeof(v6only));
	if (bind(c->fd, (struct sockaddr *)&ss, len) < 0) {
		e = errno;
		close(c->fd);
		c->fd = -1;
		return e;
	}
	addresses_load(c);
	return 0;
}

static err_t
host_bind(struct altcp_pcb *pcb, const ip_addr_t *ip, u16_t port)
{
	struct host_conn *c = pcb->state;

	if (c == NULL)
		return ERR_VAL;
	return errno_to_err(conn_bind(c, ip, port, 0));
}

static int
conn_listen(struct host_conn *c, int backlog)
{
	int e;

	if (c->state != SLOT_NEW)
		return EINVAL;
	if (c->fd < 0 && (e = conn_bind(c, NULL, 0, 1)) != 0)
		return e;
	if (listen(c->fd, backlog) < 0)
		return errno;
	if (conn_watch(c, POLLIN) != 0)
		return EMFILE;
	c->state = SLOT_LISTEN;
	addresses_load(c);
	return 0;
}

/* Like tcp_listen, but the pcb stays the same one. */
static struct altcp_pcb *
host_listen(struct altcp_pcb *pcb, u8_t backlog, err_t *err)
{
	struct host_conn *c = pcb->state;
	int e = c != NULL ? conn_listen(c, backlog ? backlog : 1) : EINVAL;

	if (err != NULL)
		*err = errno_to_err(e);
	return e == 0 ? pcb : NULL;
}

static err_t
host_connect(struct altcp_pcb *pcb, const ip_addr_t *ip, u16_t port,
	altcp_connected_fn connected)
{
	struct host_conn *c = pcb->state;
	struct sockaddr_storage ss;
	socklen_t len;
	int e;

	if (c == NULL || ip == NULL)
		return ERR_VAL;
	if (c->state != SLOT_NEW)
		return ERR_ISCONN;
	pcb->connected = connected;
	if (c->fd < 0 &&
		(e = conn_socket(c,
			 IP_GET_TYPE(ip) == IPADDR_TYPE_V4 ? AF_INET
							   : AF_INET6)) != 0)
		return errno_to_err(e);
	len = sockaddr_make(&ss, c->family, ip, port);
	if (len == 0)
		return ERR_VAL;
	if (connect(c->fd, (struct sockaddr *)&ss, len) < 0 &&
		errno != EINPROGRESS && errno != EINTR) {
		e = errno;
		/* Only local faults are errors here; lwIP reports a
		 * refused or unanswered connection through err. */
		if (e != ECONNREFUSED && e != ETIMEDOUT && e != EHOSTUNREACH &&
			e != ECONNRESET)
			return errno_to_err(e);
		c->so_err = e;
		kick(c);
	}
	if (conn_watch(c, POLLOUT) != 0)
		return ERR_MEM;
	c->state = SLOT_CONNECTING;
	return ERR_OK;
}

static void
host_abort(struct altcp_pcb *pcb)
{
	struct host_conn *c = pcb->state;

	/* tcp_abort sends RST and calls err with ERR_ABRT; so do we. */
	if (c != NULL)
		conn_fail(c, ERR_ABRT, 1);
}

/*
 * The pcb is freed at once, as with tcp_close; the slot lingers while
 * its send buffer drains to the kernel, then closes the socket.
 */
static err_t
host_close(struct altcp_pcb *pcb)
{
	struct host_conn *c = pcb->state;

	if (c != NULL && c->state == SLOT_OPEN && c->so_err == 0)
		flush(c);
	if (c == NULL) {
		/* already detached */
	} else if (c->state != SLOT_OPEN || c->snd_len == 0 || c->so_err != 0 ||
		c->loop_slot < 0) {
		conn_release(c, 0);
	} else {
		conn_detach(c);
		if (c->refused != NULL)
			pbuf_free(c->refused);
		c->refused = NULL;
		c->state = SLOT_LINGER;
		c->since = sys_now();
		conn_sync(c);
	}
	altcp_free(pcb);
	return ERR_OK;
}

static err_t
host_shutdown(struct altcp_pcb *pcb, int shut_rx, int shut_tx)
{
	struct host_conn *c = pcb->state;

	if (c == NULL)
		return ERR_VAL;
	if (c->state != SLOT_OPEN)
		return ERR_CONN;
	if (shut_rx) {
		/* lwIP drops refused data too once rx is shut. */
		c->shut_rx = 1;
		if (c->refused != NULL)
			pbuf_free(c->refused);
		c->refused = NULL;
		shutdown(c->fd, SHUT_RD);
	}
	if (shut_tx && !c->fin_sent) {
		c->fin_pending = 1;
		if (c->snd_len == 0)
			send_fin(c);
	}
	conn_sync(c);
	return ERR_OK;
}

/* Always copies, whatever apiflags say; MORE is left to Nagle. */
static err_t
host_write(struct altcp_pcb *pcb, const void *data, u16_t len, u8_t apiflags)
{
	struct host_conn *c = pcb->state;

	(void)apiflags;
	if (c == NULL)
		return ERR_VAL;
	if (data == NULL && len > 0)
		return ERR_ARG;
	if ((c->state != SLOT_OPEN && c->state != SLOT_CONNECTING) ||
		c->fin_pending || c->fin_sent || c->so_err != 0)
		return ERR_CONN;
	if (len > TCP_SND_BUF - c->snd_len)
		return ERR_MEM;
	if (c->snd_off + c->snd_len + len > TCP_SND_BUF) {
		memmove(c->snd, c->snd + c->snd_off, c->snd_len);
		c->snd_off = 0;
	}
	memcpy(c->snd + c->snd_off + c->snd_len, data, len);
	c->snd_len += len;
	conn_sync(c);
	return ERR_OK;
}

static err_t
host_output(struct altcp_pcb *pcb)
{
	struct host_conn *c = pcb->state;

	if (c == NULL)
		return ERR_VAL;
	flush(c);
	if (c->so_err != 0)
		kick(c);
	conn_sync(c);
	return ERR_OK;
}

static u16_t
host_mss(struct altcp_pcb *pcb)
{
	return pcb->state != NULL ? TCP_MSS : 0;
}

static u16_t
host_sndbuf(struct altcp_pcb *pcb)
{
	struct host_conn *c = pcb->state;

	if (c == NULL ||
		(c->state != SLOT_OPEN && c->state != SLOT_CONNECTING) ||
		c->fin_pending || c->fin_sent)
		return 0;
	return (u16_t)(TCP_SND_BUF - c->snd_len);
}

static u16_t
host_sndqueuelen(struct altcp_pcb *pcb)
{
	struct host_conn *c = pcb->state;

	/* lwIP counts queued segments; count MSS-sized ones. */
	return c != NULL ? (u16_t)((c->snd_len + TCP_MSS - 1) / TCP_MSS) : 0;
}

static void
nagle_set(struct altcp_pcb *pcb, int nodelay)
{
	struct host_conn *c = pcb->state;

	if (c == NULL)
		return;
	c->nodelay = (uint8_t)nodelay;
	if (c->fd >= 0)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &nodelay,
			sizeof(nodelay));
}

static void
host_nagle_disable(struct altcp_pcb *pcb)
{
	nagle_set(pcb, 1);
}

static void
host_nagle_enable(struct altcp_pcb *pcb)
{
	nagle_set(pcb, 0);
}

static int
host_nagle_disabled(struct altcp_pcb *pcb)
{
	struct host_conn *c = pcb->state;

	return c != NULL && c->nodelay;
}

/* altcp_free calls this; a slot still attached is released with it. */
static void
host_dealloc(struct altcp_pcb *pcb)
{
	struct host_conn *c = pcb->state;

	if (c != NULL)
		conn_release(c, 0);
}

static err_t
host_addrinfo(struct altcp_pcb *pcb, int local, ip_addr_t *addr, u16_t *port)
{
	struct host_conn *c = pcb->state;

	if (c == NULL)
		return ERR_VAL;
	if (addr != NULL)
		*addr = local ? c->local_ip : c->remote_ip;
	if (port != NULL)
		*port = local ? c->local_port : c->remote_port;
	return ERR_OK;
}

static ip_addr_t *
host_getip(struct altcp_pcb *pcb, int local)
{
	struct host_conn *c = pcb->state;

	if (c == NULL)
		return NULL;
	return local ? &c->local_ip : &c->remote_ip;
}

static u16_t
host_getport(struct altcp_pcb *pcb, int local)
{
	struct host_conn *c = pcb->state;

	if (c == NULL)
		return 0;
	return local ? c->local_port : c->remote_port;
}

static void
host_keepalive_disable(struct altcp_pcb *pcb)
{
	struct host_conn *c = pcb->state;
	int off = 0;

	if (c != NULL && c->fd >= 0)
		setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &off, sizeof(off));
}

static void
keepalive_opt(int fd, int name, u32_t ms)
{
	/* lwIP counts milliseconds, the kernel seconds; 0 keeps its own. */
	int s = ms < 1000 ? 1 : (int)(ms / 1000);

	if (ms != 0)
		setsockopt(fd, IPPROTO_TCP, name, &s, sizeof(s));
}

static void
host_keepalive_enable(
	struct altcp_pcb *pcb, u32_t idle, u32_t intvl, u32_t count)
{
	struct host_conn *c = pcb->state;
	int on = 1, n = (int)count;

	if (c == NULL || c->fd < 0)
		return;
	setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	keepalive_opt(c->fd, TCP_KEEPIDLE, idle);
	keepalive_opt(c->fd, TCP_KEEPINTVL, intvl);
	if (n > 0)
		setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPCNT, &n, sizeof(n));
}

/*
 * set_poll and setprio stay NULL: the tick reads conn->poll and
 * conn->pollinterval itself, and the kernel has no priorities to evict by.
 */
static const struct altcp_functions host_functions = {
	.recved = host_recved,
	.bind = host_bind,
	.connect = host_connect,
	.listen = host_listen,
	.abort = host_abort,
	.close = host_close,
	.shutdown = host_shutdown,
	.write = host_write,
	.output = host_output,
	.mss = host_mss,
	.sndbuf = host_sndbuf,
	.sndqueuelen = host_sndqueuelen,
	.nagle_disable = host_nagle_disable,
	.nagle_enable = host_nagle_enable,
	.nagle_disabled = host_nagle_disabled,
	.dealloc = host_dealloc,
	.addrinfo = host_addrinfo,
	.getip = host_getip,
	.getport = host_getport,
#if LWIP_TCP_KEEPALIVE
	.keepalive_disable = host_keepalive_disable,
	.keepalive_enable = host_keepalive_enable,
#endif
};

/* --- Public --- */

int
net_host_init(size_t max_conns)
{
	/* Listeners get slots of their own beyond max_conns. */
	size_t n = max_conns + CONF_LISTEN_MAX;

	if (conns != NULL || max_conns == 0)
		return -1;
	conns = calloc(n, sizeof(*conns));
	if (conns == NULL)
		return -1;
	nconns = n;
	next_tick = sys_now() + TICK_MS;
	sys_timeout(TICK_MS, host_timer, NULL);
	return 0;
}

struct altcp_pcb *
net_host_new(uint8_t ip_type)
{
	struct host_conn *c = conn_alloc(ip_type);
	struct altcp_pcb *pcb;

	if (c == NULL)
		return NULL;
	pcb = conn_attach(c);
	if (pcb == NULL)
		conn_release(c, 0);
	return pcb;
}

/* "127.0.0.1:587" or "[::1]:587", for messages. */
static void
where_format(char *buf, size_t len, const struct conf_listen *l)
{
	if (strchr(l->addr, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", l->addr, (unsigned)l->port);
	else
		snprintf(buf, len, "%s:%u", l->addr, (unsigned)l->port);
}

static int
listen_addr(const char *s, ip_addr_t *ip)
{
	struct sockaddr_storage ss;
	u16_t port;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, s,
			 &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		return -1;
	ip_from_sockaddr(&ss, ip, &port);
	return 0;
}

struct altcp_pcb *
net_host_listen(const struct conf_listen *l, char *err, size_t errlen)
{
	char where[sizeof(l->addr) + 10];
	struct altcp_pcb *pcb;
	ip_addr_t ip;
	int e;

	where_format(where, sizeof(where), l);
	if (listen_addr(l->addr, &ip) != 0) {
		snprintf(err, errlen, "%s: not an IP address", where);
		return NULL;
	}
	pcb = net_host_new(IP_GET_TYPE(&ip));
	if (pcb == NULL) {
		snprintf(err, errlen, "%s: out of connection slots", where);
		return NULL;
	}
	e = conn_bind(pcb->state, &ip, l->port, 1);
	if (e == 0)
		e = conn_listen(pcb->state, LISTEN_BACKLOG);
	if (e != 0) {
		snprintf(err, errlen, "%s: %s", where, strerror(e));
		altcp_close(pcb);
		return NULL;
	}
	return pcb;
}

void
net_host_unlisten(void)
{
	size_t i;

	for (i = 0; i < nconns; i++) {
		struct altcp_pcb *pcb = conns[i].pcb;

		if (conns[i].state == SLOT_LISTEN && pcb != NULL)
			altcp_close(pcb);
	}
}
