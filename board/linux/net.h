/*
 * Network backends of the Linux board, both behind lwIP's altcp API so the
 * core cannot tell them apart:
 *   host: kernel sockets wrapped as altcp pcbs (net_host.c)
 *   tap:  lwIP's own TCP/IP stack on a TAP device (net_tap.c)
 */
#ifndef POSTLET_NET_H
#define POSTLET_NET_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

struct altcp_pcb;

/*
 * Reserve state for max_conns connections (lingering closes count until
 * drained) plus CONF_LISTEN_MAX listeners, and start the backend's 500 ms
 * lwIP timer: call once, after lwip_init. Returns 0 or -1.
 *
 * The pcbs behave as lwIP's TCP pcbs (altcp_tcp.c): callbacks run only
 * from the loop, never from inside an altcp_* call, except that
 * altcp_abort calls err with ERR_ABRT as tcp_abort does; err runs after
 * the connection is gone; sent counts bytes handed to the kernel.
 */
int net_host_init(size_t max_conns);

/*
 * A listening pcb bound to l's address and port (SO_REUSEADDR, IPV6_V6ONLY
 * for "::"). The caller sets altcp_accept on it. NULL with the reason in
 * err ("127.0.0.1:587: Address in use").
 */
struct altcp_pcb *
net_host_listen(const struct conf_listen *l, char *err, size_t errlen);

/* An unconnected pcb for altcp_connect; NULL when out of connections. */
struct altcp_pcb *net_host_new(uint8_t ip_type);

/* Close all listeners, so a draining daemon takes no new connection. */
void net_host_unlisten(void);

/* Outgoing connections (board_pcb_new) use backend b from now on. */
void board_backend_use(enum conf_backend b);

#if POSTLET_TAP
/*
 * Attach to the TAP device t->device (it must exist and belong to our
 * user, or the process needs CAP_NET_ADMIN), bring up lwIP's netif on it
 * with a random locally administered MAC, the static IPv4 address or DHCP,
 * an IPv6 link-local address, SLAAC and t->addr6 (a /64), and register it
 * with the loop. hostname's first label goes to the DHCP server. Call once,
 * after lwip_init and loop_init. Returns 0, or -1 with the reason in err
 * ("tap0: TUNSETIFF: Operation not permitted").
 */
int net_tap_start(const struct conf_tap *t, const char *hostname, char *err,
	size_t errlen);

/*
 * As net_host_listen, on lwIP's stack: "::" takes IPv6 only, like the host
 * backend. The listener stays owned here until net_tap_unlisten.
 */
struct altcp_pcb *
net_tap_listen(const struct conf_listen *l, char *err, size_t errlen);
struct altcp_pcb *net_tap_new(uint8_t ip_type);
void net_tap_unlisten(void);

/*
 * The current IPv4 address as text in buf, for telling the user where
 * postlet answers. Returns 0, or -1 while there is none (DHCP pending) or
 * buf is too small.
 */
int net_tap_address4(char *buf, size_t len);

/* Frames dropped either way: full device queue, pbufs exhausted. */
unsigned long net_tap_dropped(void);
#endif

#endif
