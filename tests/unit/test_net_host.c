/*
 * The host backend against real kernel sockets on loopback: a plain
 * non-blocking socket plays the peer, the loop is driven by hand, and a
 * small "upper layer" below records what the altcp callbacks saw.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/altcp.h"
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/pbuf.h"
#include "lwip/priv/altcp_priv.h"
#include "lwip/tcp.h"

#include "board.h"
#include "conf/conf.h"
#include "loop.h"
#include "net.h"

#define MAX_CONNS 8
#define SLOTS (MAX_CONNS + CONF_LISTEN_MAX)
#define BULK (100 * 1024)

/* Drive the loop until cond holds or ms pass; the caller asserts cond. */
#define RUN_UNTIL(cond, ms) \
	do { \
		uint32_t t0_ = board_now_ms(); \
		while (!(cond) && board_now_ms() - t0_ < (ms)) \
			loop_run_once(10); \
	} while (0)

enum mode {
	MODE_ECHO, /* write back what arrives, refuse if no room */
	MODE_HOLD, /* keep pbufs, no altcp_recved until released */
	MODE_REFUSE, /* refuse the first deliveries, then take them */
	MODE_ABORT, /* altcp_abort from inside recv */
	MODE_CLOSE /* altcp_close from inside recv */
};

/* The upper layer on the server side. */
struct upper {
	enum mode mode;
	struct altcp_pcb *lpcb;
	struct altcp_pcb *pcb;
	int accepted;
	int connected;
	int eof;
	int err_calls;
	err_t err;
	int refuse_left;
	int refusals;
	int polls;
	int abort_in_poll;
	uint32_t poll_set_ms;
	uint32_t first_poll_ms;
	size_t sent;
	struct pbuf *held;
	size_t held_len;
	unsigned char got[BULK];
	size_t got_len;
};

/* The peer: a plain kernel socket. */
struct peer {
	int fd;
	const unsigned char *out;
	size_t out_len;
	size_t out_off;
	int blocked; /* the last send said EAGAIN */
	unsigned char in[BULK];
	size_t in_len;
	int in_eof;
	int in_err;
};

static struct upper up;
static struct peer peer;
static unsigned char pattern[BULK];

static void
record(struct upper *u, const struct pbuf *p)
{
	u16_t n = p->tot_len;

	if (n > sizeof(u->got) - u->got_len)
		n = (u16_t)(sizeof(u->got) - u->got_len);
	pbuf_copy_partial(p, u->got + u->got_len, n, 0);
	u->got_len += n;
}

static err_t
echo(struct upper *u, struct altcp_pcb *pcb, struct pbuf *p)
{
	const struct pbuf *q;

	if (p->tot_len > altcp_sndbuf(pcb)) {
		u->refusals++;
		return ERR_MEM;
	}
	for (q = p; q != NULL; q = q->next)
		assert_int_equal(altcp_write(pcb, q->payload, q->len,
					 TCP_WRITE_FLAG_COPY),
			ERR_OK);
	record(u, p);
	altcp_output(pcb);
	altcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t
up_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct upper *u = arg;

	assert_int_equal(err, ERR_OK);
	assert_ptr_equal(pcb, u->pcb);
	if (p == NULL) {
		u->eof++;
		return ERR_OK;
	}
	switch (u->mode) {
	case MODE_ECHO:
		return echo(u, pcb, p);
	case MODE_HOLD:
		record(u, p);
		u->held_len += p->tot_len;
		if (u->held == NULL)
			u->held = p;
		else
			pbuf_cat(u->held, p);
		return ERR_OK;
	case MODE_REFUSE:
		if (u->refuse_left > 0) {
			u->refuse_left--;
			u->refusals++;
			return ERR_MEM;
		}
		record(u, p);
		altcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	case MODE_ABORT:
		pbuf_free(p);
		u->pcb = NULL;
		altcp_abort(pcb);
		return ERR_ABRT;
	case MODE_CLOSE:
		record(u, p);
		pbuf_free(p);
		u->pcb = NULL;
		assert_int_equal(altcp_close(pcb), ERR_OK);
		return ERR_OK;
	}
	return ERR_VAL;
}

static err_t
up_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
	struct upper *u = arg;

	assert_ptr_equal(pcb, u->pcb);
	u->sent += len;
	return ERR_OK;
}

static void
up_err(void *arg, err_t err)
{
	struct upper *u = arg;

	/* The pcb is already gone; only forget it. */
	u->pcb = NULL;
	u->err = err;
	u->err_calls++;
}

static err_t
up_poll(void *arg, struct altcp_pcb *pcb)
{
	struct upper *u = arg;

	if (u->polls++ == 0)
		u->first_poll_ms = board_now_ms();
	if (u->abort_in_poll) {
		/* An idle timeout, as a session would do it. */
		u->pcb = NULL;
		altcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static void
up_attach(struct upper *u, struct altcp_pcb *pcb)
{
	u->pcb = pcb;
	altcp_arg(pcb, u);
	altcp_recv(pcb, up_recv);
	altcp_sent(pcb, up_sent);
	altcp_err(pcb, up_err);
}

static err_t
up_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
	struct upper *u = arg;

	assert_int_equal(err, ERR_OK);
	assert_non_null(pcb);
	u->accepted++;
	up_attach(u, pcb);
	return ERR_OK;
}

static err_t
up_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
	struct upper *u = arg;

	assert_int_equal(err, ERR_OK);
	assert_ptr_equal(pcb, u->pcb);
	u->connected++;
	return ERR_OK;
}

/* --- The peer --- */

/* Connect the peer; rcvbuf > 0 shrinks its receive buffer first. */
static void
peer_connect_rcvbuf(int family, u16_t port, int rcvbuf)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	peer.fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(peer.fd >= 0);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(peer.fd, SOL_SOCKET, SO_RCVBUF,
					 &rcvbuf, sizeof(rcvbuf)),
			0);
	if (connect(peer.fd, (struct sockaddr *)&ss, len) < 0)
		assert_int_equal(errno, EINPROGRESS);
}

static void
peer_connect(int family, u16_t port)
{
	peer_connect_rcvbuf(family, port, 0);
}

/* Send what the kernel takes, read what has arrived; never blocks. */
static void
peer_pump(void)
{
	ssize_t n;

	while (peer.out_off < peer.out_len) {
		n = send(peer.fd, peer.out + peer.out_off,
			peer.out_len - peer.out_off, MSG_NOSIGNAL);
		peer.blocked = n < 0 && errno == EAGAIN;
		if (n <= 0)
			break;
		peer.out_off += (size_t)n;
	}
	while (!peer.in_eof && !peer.in_err && peer.in_len < sizeof(peer.in)) {
		n = recv(peer.fd, peer.in + peer.in_len,
			sizeof(peer.in) - peer.in_len, 0);
		if (n > 0)
			peer.in_len += (size_t)n;
		else if (n == 0)
			peer.in_eof = 1;
		else if (errno != EAGAIN)
			peer.in_err = errno;
		if (n <= 0)
			break;
	}
}

#define PUMP_UNTIL(cond, ms) \
	do { \
		uint32_t t1_ = board_now_ms(); \
		while (!(cond) && board_now_ms() - t1_ < (ms)) { \
			peer_pump(); \
			loop_run_once(10); \
		} \
	} while (0)

static void
peer_send(const void *data, size_t len)
{
	peer.out = data;
	peer.out_len = len;
	peer.out_off = 0;
	peer_pump();
}

/* A plain listening socket on loopback; its port in *port. */
static int
plain_listener(int family, u16_t *port, int do_listen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr =
			htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	assert_int_equal(
		bind(fd, (struct sockaddr *)&ss,
			family == AF_INET ? sizeof(struct sockaddr_in)
					  : sizeof(struct sockaddr_in6)),
		0);
	if (do_listen)
		assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/*
 * The kernel socket behind a listening pcb. Tests shrink its receive
 * buffer so that flow control shows within 100 KiB; the accepted socket
 * inherits it.
 */
static int
fd_of_listener(u16_t port)
{
	int fd;

	for (fd = 3; fd < 1024; fd++) {
		struct sockaddr_in6 sin6;
		socklen_t len = sizeof(sin6);
		int on = 0;
		socklen_t olen = sizeof(on);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &olen) < 0 ||
			!on)
			continue;
		if (getsockname(fd, (struct sockaddr *)&sin6, &len) == 0 &&
			ntohs(sin6.sin6_port) == port)
			return fd;
	}
	return -1;
}

/* --- Fixtures --- */

static u16_t
up_listen(const char *addr, int family)
{
	struct conf_listen l;
	char err[CONF_ERROR_MAX];

	memset(&l, 0, sizeof(l));
	snprintf(l.addr, sizeof(l.addr), "%s", addr);
	l.family = family == AF_INET ? 4 : 6;
	l.port = 0;
	up.lpcb = net_host_listen(&l, err, sizeof(err));
	if (up.lpcb == NULL)
		return 0;
	altcp_arg(up.lpcb, &up);
	altcp_accept(up.lpcb, up_accept);
	return altcp_get_port(up.lpcb, 1);
}

/* Listen on 127.0.0.1, connect the peer and see the accept. */
static void
accept_v4(void)
{
	u16_t port = up_listen("127.0.0.1", AF_INET);

	assert_true(port != 0);
	peer_connect(AF_INET, port);
	RUN_UNTIL(up.accepted == 1, 2000);
	assert_int_equal(up.accepted, 1);
	assert_non_null(up.pcb);
}

static int
group_setup(void **state)
{
	size_t i;

	(void)state;
	lwip_init();
	if (loop_init(64) != 0 || net_host_init(MAX_CONNS) != 0)
		return -1;
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)(i * 7 + i / 251);
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	memset(&up, 0, sizeof(up));
	memset(&peer, 0, sizeof(peer));
	peer.fd = -1;
	return 0;
}

/* Slots and pcbs all come back: count them by taking every one. */
static int
slots_free(void)
{
	struct altcp_pcb *pcbs[SLOTS];
	int n = 0, i;

	while (n < SLOTS && (pcbs[n] = net_host_new(IPADDR_TYPE_V4)) != NULL)
		n++;
	if (n == SLOTS && net_host_new(IPADDR_TYPE_V4) != NULL)
		n = -1;
	for (i = 0; i < n; i++)
		altcp_close(pcbs[i]);
	return n;
}

static int
altcp_pool_free(void)
{
	void *p[MEMP_NUM_ALTCP_PCB + 1];
	int n = 0, i;

	while (n <= MEMP_NUM_ALTCP_PCB &&
		(p[n] = memp_malloc(MEMP_ALTCP_PCB)) != NULL)
		n++;
	for (i = 0; i < n; i++)
		memp_free(MEMP_ALTCP_PCB, p[i]);
	return n;
}

static int
teardown(void **state)
{
	(void)state;
	if (up.pcb != NULL)
		altcp_abort(up.pcb);
	if (up.lpcb != NULL)
		altcp_close(up.lpcb);
	if (up.held != NULL)
		pbuf_free(up.held);
	if (peer.fd >= 0)
		close(peer.fd);
	/* Lingering closes finish once the peer is gone. */
	RUN_UNTIL(slots_free() == SLOTS, 2000);
	assert_int_equal(slots_free(), SLOTS);
	assert_int_equal(altcp_pool_free(), MEMP_NUM_ALTCP_PCB);
	return 0;
}

/* --- Tests --- */

static void
test_echo_one_byte_v4(void **state)
{
	(void)state;
	accept_v4();
	assert_int_equal(IP_GET_TYPE(altcp_get_ip(up.pcb, 0)), IPADDR_TYPE_V4);
	assert_int_equal(ip4_addr_get_u32(ip_2_ip4(altcp_get_ip(up.pcb, 0))),
		htonl(INADDR_LOOPBACK));
	assert_int_equal(altcp_get_port(up.pcb, 1), altcp_get_port(up.lpcb, 1));

	peer_send("x", 1);
	PUMP_UNTIL(peer.in_len == 1, 2000);
	assert_int_equal(peer.in_len, 1);
	assert_int_equal(peer.in[0], 'x');
	assert_int_equal(up.got_len, 1);
	PUMP_UNTIL(up.sent == 1, 2000);
	assert_int_equal(up.sent, 1);
}

static void
test_echo_one_byte_v6(void **state)
{
	u16_t port;

	(void)state;
	port = up_listen("::1", AF_INET6);
	if (port == 0)
		skip(); /* no IPv6 loopback here */
	peer_connect(AF_INET6, port);
	RUN_UNTIL(up.accepted == 1, 2000);
	assert_int_equal(up.accepted, 1);
	assert_int_equal(IP_GET_TYPE(altcp_get_ip(up.pcb, 1)), IPADDR_TYPE_V6);
	assert_true(ip6_addr_isloopback(ip_2_ip6(altcp_get_ip(up.pcb, 0))));

	peer_send("y", 1);
	PUMP_UNTIL(peer.in_len == 1, 2000);
	assert_int_equal(peer.in_len, 1);
	assert_int_equal(peer.in[0], 'y');
}

static void
test_echo_100k(void **state)
{
	(void)state;
	accept_v4();
	peer_send(pattern, BULK);
	PUMP_UNTIL(peer.in_len == BULK, 10000);
	assert_int_equal(peer.out_off, BULK);
	assert_int_equal(up.got_len, BULK);
	assert_int_equal(peer.in_len, BULK);
	assert_memory_equal(peer.in, pattern, BULK);
	PUMP_UNTIL(up.sent == BULK, 2000);
	assert_int_equal(up.sent, BULK);
}

/*
 * The upper holds what it got without altcp_recved: after TCP_WND bytes
 * the backend stops reading, the kernel buffers fill and the peer's sends
 * block. Crediting the window lets the rest through.
 */
static void
test_flow_control_100k(void **state)
{
	int lfd, small = 4096;
	size_t stalled_at;

	(void)state;
	up.mode = MODE_HOLD;
	lfd = fd_of_listener(up_listen("127.0.0.1", AF_INET));
	assert_true(lfd >= 0);
	assert_int_equal(
		setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)),
		0);
	peer_connect(AF_INET, altcp_get_port(up.lpcb, 1));
	assert_int_equal(setsockopt(peer.fd, SOL_SOCKET, SO_SNDBUF, &small,
				 sizeof(small)),
		0);
	RUN_UNTIL(up.accepted == 1, 2000);
	assert_int_equal(up.accepted, 1);

	peer_send(pattern, BULK);
	PUMP_UNTIL(up.held_len == TCP_WND, 5000);
	assert_int_equal(up.held_len, TCP_WND);
	/* Let the kernel buffers fill; nothing more reaches the upper. */
	PUMP_UNTIL(0, 300);
	assert_true(peer.blocked);
	assert_true(peer.out_off < BULK);
	assert_int_equal(up.held_len, TCP_WND);
	stalled_at = peer.out_off;

	/* Release: from now on take each pbuf and credit it at once. */
	up.mode = MODE_REFUSE;
	altcp_recved(up.pcb, (u16_t)(up.held_len / 2));
	altcp_recved(up.pcb, (u16_t)(up.held_len - up.held_len / 2));
	pbuf_free(up.held);
	up.held = NULL;
	PUMP_UNTIL(up.got_len == BULK, 10000);
	assert_true(peer.out_off > stalled_at);
	assert_int_equal(peer.out_off, BULK);
	assert_int_equal(up.got_len, BULK);
	assert_memory_equal(up.got, pattern, BULK);
}

/* Refused data comes back, unchanged and in order, as lwIP redelivers. */
static void
test_refused_data_redelivered(void **state)
{
	(void)state;
	up.mode = MODE_REFUSE;
	up.refuse_left = 2;
	accept_v4();
	peer_send(pattern, 5000);
	PUMP_UNTIL(up.got_len == 5000, 5000);
	assert_int_equal(up.refusals, 2);
	assert_int_equal(up.got_len, 5000);
	assert_memory_equal(up.got, pattern, 5000);
}

static void
test_eof_delivers_recv_null(void **state)
{
	(void)state;
	accept_v4();
	peer_send("QUIT\r\n", 6);
	shutdown(peer.fd, SHUT_WR);
	PUMP_UNTIL(up.eof == 1, 2000);
	assert_int_equal(up.eof, 1);
	assert_int_equal(up.got_len, 6);

	/* Half-closed: the upper may still answer, then close. */
	assert_int_equal(altcp_write(up.pcb, "221 bye\r\n", 9, 0), ERR_OK);
	assert_int_equal(altcp_close(up.pcb), ERR_OK);
	up.pcb = NULL;
	PUMP_UNTIL(peer.in_eof, 2000);
	assert_true(peer.in_eof);
	assert_int_equal(peer.in_len, 6 + 9);
	assert_memory_equal(peer.in + 6, "221 bye\r\n", 9);
	assert_int_equal(up.eof, 1);
	assert_int_equal(up.err_calls, 0);
}

static void
test_peer_reset_calls_err(void **state)
{
	struct linger lg = {1, 0};

	(void)state;
	accept_v4();
	assert_int_equal(
		setsockopt(peer.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(peer.fd);
	peer.fd = -1;
	RUN_UNTIL(up.err_calls == 1, 2000);
	assert_int_equal(up.err_calls, 1);
	assert_int_equal(up.err, ERR_RST);
	assert_null(up.pcb);
	assert_int_equal(up.eof, 0);
}

/* lwIP's tcp_abort reports ERR_ABRT through err; the peer sees RST. */
static void
test_abort_in_recv(void **state)
{
	(void)state;
	up.mode = MODE_ABORT;
	accept_v4();
	peer_send(pattern, 8000);
	PUMP_UNTIL(peer.in_err != 0, 2000);
	assert_int_equal(peer.in_err, ECONNRESET);
	assert_int_equal(up.err_calls, 1);
	assert_int_equal(up.err, ERR_ABRT);
	assert_null(up.pcb);
}

static void
test_close_in_recv(void **state)
{
	(void)state;
	up.mode = MODE_CLOSE;
	accept_v4();
	peer_send(pattern, 8000);
	PUMP_UNTIL(peer.in_eof || peer.in_err, 2000);
	assert_true(peer.in_eof || peer.in_err == ECONNRESET);
	assert_true(up.got_len > 0 && up.got_len <= 8000);
	assert_int_equal(up.err_calls, 0);
}

/*
 * Close with data still in our send buffer: the pcb is gone at once, the
 * bytes still reach the peer, then EOF.
 */
static void
test_close_drains_send_buffer(void **state)
{
	int small = 4096, lfd;
	size_t total = 0;

	(void)state;
	/* Small kernel buffers both ways, so the kernel stops taking data. */
	lfd = fd_of_listener(up_listen("127.0.0.1", AF_INET));
	assert_true(lfd >= 0);
	assert_int_equal(
		setsockopt(lfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)),
		0);
	peer_connect_rcvbuf(AF_INET, altcp_get_port(up.lpcb, 1), small);
	RUN_UNTIL(up.accepted == 1, 2000);
	assert_int_equal(up.accepted, 1);
	/* Fill until the kernel stops taking it and our buffer keeps some. */
	while (total < BULK) {
		u16_t room = altcp_sndbuf(up.pcb);
		u16_t n = (u16_t)(room < BULK - total ? room : BULK - total);

		if (n > 0)
			assert_int_equal(altcp_write(up.pcb, pattern + total, n,
						 TCP_WRITE_FLAG_COPY),
				ERR_OK);
		total += n;
		altcp_output(up.pcb);
		if (altcp_sndbuf(up.pcb) < TCP_SND_BUF / 2)
			break;
		loop_run_once(10);
	}
	assert_true(altcp_sndbuf(up.pcb) < TCP_SND_BUF);
	assert_int_equal(altcp_close(up.pcb), ERR_OK);
	up.pcb = NULL;
	PUMP_UNTIL(peer.in_eof, 5000);
	assert_true(peer.in_eof);
	assert_int_equal(peer.in_len, total);
	assert_memory_equal(peer.in, pattern, total);
}

static void
test_connect_out(void **state)
{
	ip_addr_t ip;
	u16_t port;
	int lfd, fd = -1;
	char buf[16];

	(void)state;
	lfd = plain_listener(AF_INET, &port, 1);
	up.pcb = net_host_new(IPADDR_TYPE_V4);
	assert_non_null(up.pcb);
	up_attach(&up, up.pcb);
	IP_ADDR4(&ip, 127, 0, 0, 1);
	assert_int_equal(
		altcp_connect(up.pcb, &ip, port, up_connected), ERR_OK);
	/* Written before the connection is up: sent once it is. */
	assert_int_equal(altcp_write(up.pcb, "EHLO x\r\n", 8, 0), ERR_OK);
	RUN_UNTIL(up.connected == 1, 2000);
	assert_int_equal(up.connected, 1);
	assert_int_equal(altcp_get_port(up.pcb, 0), port);

	RUN_UNTIL((fd = accept(lfd, NULL, NULL)) >= 0, 2000);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, "220 hi\r\n", 8, 0), 8);
	RUN_UNTIL(up.got_len == 8, 2000);
	assert_memory_equal(up.got, "220 hi\r\n", 8);
	RUN_UNTIL(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == 8, 2000);
	close(fd);
	close(lfd);
}

static void
test_connect_refused(void **state)
{
	ip_addr_t ip;
	u16_t port;
	int fd;

	(void)state;
	/* Bound but not listening: the port is taken and refuses. */
	fd = plain_listener(AF_INET, &port, 0);
	up.pcb = net_host_new(IPADDR_TYPE_V4);
	assert_non_null(up.pcb);
	up_attach(&up, up.pcb);
	IP_ADDR4(&ip, 127, 0, 0, 1);
	assert_int_equal(
		altcp_connect(up.pcb, &ip, port, up_connected), ERR_OK);
	RUN_UNTIL(up.err_calls == 1, 2000);
	assert_int_equal(up.err_calls, 1);
	assert_int_equal(up.err, ERR_RST);
	assert_int_equal(up.connected, 0);
	assert_null(up.pcb);
	close(fd);
}

static void
test_listen_in_use(void **state)
{
	struct conf_listen l;
	char err[CONF_ERROR_MAX], where[32];
	u16_t port;
	int fd;

	(void)state;
	fd = plain_listener(AF_INET, &port, 1);
	memset(&l, 0, sizeof(l));
	snprintf(l.addr, sizeof(l.addr), "127.0.0.1");
	l.family = 4;
	l.port = port;
	assert_null(net_host_listen(&l, err, sizeof(err)));
	snprintf(where, sizeof(where), "127.0.0.1:%u: ", (unsigned)port);
	assert_ptr_equal(strstr(err, where), err);
	assert_non_null(strstr(err, "in use"));
	close(fd);
}

static void
test_listen_bad_address(void **state)
{
	struct conf_listen l;
	char err[CONF_ERROR_MAX];

	(void)state;
	memset(&l, 0, sizeof(l));
	snprintf(l.addr, sizeof(l.addr), "localhost");
	l.port = 587;
	assert_null(net_host_listen(&l, err, sizeof(err)));
	assert_string_equal(err, "localhost:587: not an IP address");
}

/* altcp_poll(pcb, fn, 2): every 2 x 500 ms, as lwIP's slow timer. */
static void
test_poll_interval(void **state)
{
	uint32_t d;

	(void)state;
	accept_v4();
	up.poll_set_ms = board_now_ms();
	altcp_poll(up.pcb, up_poll, 2);
	RUN_UNTIL(0, 2300);
	d = up.first_poll_ms - up.poll_set_ms;
	assert_true(up.polls >= 2 && up.polls <= 3);
	assert_true(d >= 450 && d <= 1100);
}

static void
test_abort_in_poll(void **state)
{
	(void)state;
	accept_v4();
	up.abort_in_poll = 1;
	altcp_poll(up.pcb, up_poll, 1);
	PUMP_UNTIL(peer.in_err != 0, 2000);
	assert_int_equal(peer.in_err, ECONNRESET);
	assert_int_equal(up.polls, 1);
	assert_int_equal(up.err_calls, 1);
	assert_int_equal(up.err, ERR_ABRT);
	/* No poll runs on the freed pcb. */
	RUN_UNTIL(0, 600);
	assert_int_equal(up.polls, 1);
}

/*
 * shutdown(tx) sends FIN after the buffered reply; when the peer closes
 * too, both directions are shut and poll says HUP: the pcb must neither
 * spin nor vanish before the upper closes it.
 */
static void
test_shutdown_tx_then_peer_close(void **state)
{
	uint32_t t0;
	int turns = 0;

	(void)state;
	accept_v4();
	assert_int_equal(altcp_write(up.pcb, "221 bye\r\n", 9, 0), ERR_OK);
	assert_int_equal(altcp_shutdown(up.pcb, 0, 1), ERR_OK);
	assert_int_equal(altcp_write(up.pcb, "x", 1, 0), ERR_CONN);
	PUMP_UNTIL(peer.in_eof, 2000);
	assert_true(peer.in_eof);
	assert_int_equal(peer.in_len, 9);
	shutdown(peer.fd, SHUT_WR);
	RUN_UNTIL(up.eof == 1, 2000);
	assert_int_equal(up.eof, 1);

	/* Idle now: a turn must wait for the timer, not return at once. */
	t0 = board_now_ms();
	while (board_now_ms() - t0 < 300) {
		loop_run_once(100);
		turns++;
	}
	assert_true(turns < 30);
	assert_non_null(up.pcb);
	assert_int_equal(up.err_calls, 0);
	assert_int_equal(altcp_close(up.pcb), ERR_OK);
	up.pcb = NULL;
}

/*
 * The upper holds one pbuf and refuses the next; crediting the first with
 * altcp_recved offers the refused one again at once, not at the tick.
 */
static void
test_recved_redelivers_refused(void **state)
{
	uint32_t t0;

	(void)state;
	up.mode = MODE_HOLD;
	accept_v4();
	peer_send("first", 5);
	PUMP_UNTIL(up.held_len == 5, 2000);
	assert_int_equal(up.held_len, 5);
	up.mode = MODE_REFUSE;
	up.refuse_left = 1;
	peer_send("second", 6);
	PUMP_UNTIL(up.refusals == 1, 2000);
	assert_int_equal(up.refusals, 1);
	t0 = board_now_ms();
	altcp_recved(up.pcb, 5);
	RUN_UNTIL(up.got_len == 11, 2000);
	assert_true(board_now_ms() - t0 < 100);
	assert_memory_equal(up.got, "firstsecond", 11);
}

/* A send that fails inside altcp_output reaches the upper through err. */
static void
test_write_after_reset(void **state)
{
	struct linger lg = {1, 0};

	(void)state;
	accept_v4();
	setsockopt(peer.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(peer.fd);
	peer.fd = -1;
	usleep(20000);
	/* No loop turn yet: the failure shows in the send itself. */
	assert_int_equal(altcp_write(up.pcb, "x", 1, 0), ERR_OK);
	assert_int_equal(altcp_output(up.pcb), ERR_OK);
	assert_int_equal(up.err_calls, 0);
	RUN_UNTIL(up.err_calls == 1, 2000);
	assert_int_equal(up.err_calls, 1);
	assert_int_equal(up.err, ERR_RST);
}

static err_t
refuse_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
	struct upper *u = arg;

	(void)err;
	u->accepted++;
	altcp_arg(pcb, u);
	altcp_err(pcb, up_err);
	return ERR_MEM;
}

/* As in lwIP, a connection the accept callback refuses is aborted. */
static void
test_accept_refused_aborts(void **state)
{
	(void)state;
	assert_true(up_listen("127.0.0.1", AF_INET) != 0);
	altcp_accept(up.lpcb, refuse_accept);
	peer_connect(AF_INET, altcp_get_port(up.lpcb, 1));
	PUMP_UNTIL(peer.in_err != 0, 2000);
	assert_int_equal(peer.in_err, ECONNRESET);
	assert_int_equal(up.accepted, 1);
	assert_int_equal(up.err_calls, 1);
	assert_int_equal(up.err, ERR_ABRT);
}

/*
 * The lwIP way to listen: new, bind, listen. An IPADDR_TYPE_ANY pcb on
 * the any address takes IPv4 too, and reports the peer as IPv4.
 */
static void
test_bind_listen_dual_stack(void **state)
{
	struct altcp_pcb *pcb;
	ip_addr_t ip;
	u16_t port;
	err_t err;

	(void)state;
	pcb = net_host_new(IPADDR_TYPE_ANY);
	assert_non_null(pcb);
	if (altcp_bind(pcb, IP_ANY_TYPE, 0) != ERR_OK) {
		altcp_close(pcb);
		skip(); /* no IPv6 here */
	}
	up.lpcb = altcp_listen_with_backlog_and_err(pcb, 4, &err);
	assert_ptr_equal(up.lpcb, pcb);
	assert_int_equal(err, ERR_OK);
	altcp_arg(up.lpcb, &up);
	altcp_accept(up.lpcb, up_accept);
	port = altcp_get_port(up.lpcb, 1);
	assert_true(port != 0);

	peer_connect(AF_INET, port);
	RUN_UNTIL(up.accepted == 1, 2000);
	assert_int_equal(up.accepted, 1);
	assert_int_equal(altcp_get_tcp_addrinfo(up.pcb, 0, &ip, &port), ERR_OK);
	assert_int_equal(IP_GET_TYPE(&ip), IPADDR_TYPE_V4);
	assert_int_equal(
		ip4_addr_get_u32(ip_2_ip4(&ip)), htonl(INADDR_LOOPBACK));
}

static void
test_pcb_accessors(void **state)
{
	(void)state;
	accept_v4();
	assert_int_equal(altcp_mss(up.pcb), TCP_MSS);
	assert_int_equal(altcp_sndbuf(up.pcb), TCP_SND_BUF);
	assert_int_equal(altcp_sndqueuelen(up.pcb), 0);
	assert_int_equal(altcp_write(up.pcb, pattern, TCP_MSS + 1, 0), ERR_OK);
	assert_int_equal(altcp_sndqueuelen(up.pcb), 2);
	assert_int_equal(altcp_sndbuf(up.pcb), TCP_SND_BUF - TCP_MSS - 1);
	assert_int_equal(altcp_write(up.pcb, pattern, TCP_SND_BUF, 0), ERR_MEM);
	assert_false(altcp_nagle_disabled(up.pcb));
	altcp_nagle_disable(up.pcb);
	assert_true(altcp_nagle_disabled(up.pcb));
	altcp_nagle_enable(up.pcb);
	assert_false(altcp_nagle_disabled(up.pcb));
	altcp_keepalive_enable(up.pcb, 60000, 10000, 3);
	altcp_keepalive_disable(up.pcb);
	altcp_setprio(up.pcb, TCP_PRIO_MAX);
	PUMP_UNTIL(peer.in_len == TCP_MSS + 1, 2000);
	assert_memory_equal(peer.in, pattern, TCP_MSS + 1);
}

static void
test_unlisten_refuses(void **state)
{
	u16_t port;

	(void)state;
	port = up_listen("127.0.0.1", AF_INET);
	assert_true(port != 0);
	net_host_unlisten();
	up.lpcb = NULL;
	peer_connect(AF_INET, port);
	PUMP_UNTIL(peer.in_err != 0, 2000);
	assert_int_equal(peer.in_err, ECONNREFUSED);
	assert_int_equal(up.accepted, 0);
}

/* --- The loop itself --- */

struct watch {
	int calls;
	int remove_slot; /* slot to remove from the callback, or -1 */
	int add_fd; /* fd to add from the callback, or -1 */
	int added_slot;
	int stop;
};

static void
watch_cb(void *arg, int fd, short revents)
{
	struct watch *w = arg;

	(void)fd;
	(void)revents;
	w->calls++;
	if (w->remove_slot >= 0)
		loop_fd_remove(w->remove_slot);
	if (w->add_fd >= 0)
		w->added_slot = loop_fd_add(w->add_fd, POLLIN, watch_cb, w);
	w->remove_slot = -1;
	w->add_fd = -1;
	if (w->stop)
		loop_stop();
}

/*
 * A callback removes a ready descriptor polled in the same turn and puts
 * another in its slot: neither may see the events polled for the first.
 */
static void
test_loop_remove_in_callback(void **state)
{
	struct watch a = {0, -1, -1, -1, 0}, b = a;
	int pa[2], pb[2], pc[2], sa, sb;

	(void)state;
	assert_int_equal(pipe(pa), 0);
	assert_int_equal(pipe(pb), 0);
	assert_int_equal(pipe(pc), 0);
	assert_int_equal(write(pa[1], "a", 1), 1);
	assert_int_equal(write(pb[1], "b", 1), 1);
	sa = loop_fd_add(pa[0], POLLIN, watch_cb, &a);
	sb = loop_fd_add(pb[0], POLLIN, watch_cb, &b);
	assert_true(sa >= 0 && sb > sa);
	a.remove_slot = sb;
	a.add_fd = pc[0];
	assert_int_equal(loop_run_once(1000), 2);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 0);
	assert_int_equal(a.added_slot, sb);
	/* Only a, still readable, runs again: c is idle, b unwatched. */
	loop_run_once(0);
	assert_int_equal(a.calls, 2);
	assert_int_equal(b.calls, 0);
	loop_fd_remove(sa);
	loop_fd_remove(a.added_slot);
	close(pa[0]), close(pa[1]), close(pb[0]), close(pb[1]);
	close(pc[0]), close(pc[1]);
}

static void
test_loop_stop(void **state)
{
	struct watch w = {0, -1, -1, -1, 1};
	int p[2], slot;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	slot = loop_fd_add(p[0], POLLIN, watch_cb, &w);
	assert_true(slot >= 0);
	assert_int_equal(loop_run(), 0);
	assert_int_equal(w.calls, 1);
	loop_fd_remove(slot);
	close(p[0]);
	close(p[1]);
}

/* An idle loop still wakes for lwIP's timers (the 500 ms tick here). */
static void
test_loop_wakes_for_timers(void **state)
{
	uint32_t t0 = board_now_ms();

	(void)state;
	assert_int_equal(loop_run_once(5000), 0);
	assert_true(board_now_ms() - t0 <= 600);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_echo_one_byte_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_echo_one_byte_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_echo_100k, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_flow_control_100k, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_refused_data_redelivered, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_eof_delivers_recv_null, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_peer_reset_calls_err, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_abort_in_recv, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_close_in_recv, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_close_drains_send_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_connect_out, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_connect_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_listen_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_listen_bad_address, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_poll_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_unlisten_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_abort_in_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_shutdown_tx_then_peer_close, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_recved_redelivers_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_write_after_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_accept_refused_aborts, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_bind_listen_dual_stack, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_pcb_accessors, setup, teardown),
		cmocka_unit_test(test_loop_remove_in_callback),
		cmocka_unit_test(test_loop_stop),
		cmocka_unit_test(test_loop_wakes_for_timers),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
