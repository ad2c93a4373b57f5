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

struct altcp_pcb;
struct conf_listen;
struct conf_tap;

/* Reserve state for max_conns connections. Returns 0 or -1. */
int net_host_init(size_t max_conns);

/*
 * A listening pcb bound to l's address and port (SO_REUSEADDR, IPV6_V6ONLY
 * for "::"). The caller sets altcp_accept on it. NULL with the reason in
 * err ("127.0.0.1:587: Address in use").
 */
struct altcp_pcb *net_host_listen(const struct conf_listen *l, char *err,
	size_t errlen);

/* An unconnected pcb for altcp_connect; NULL when out of connections. */
struct altcp_pcb *net_host_new(uint8_t ip_type);

/* Close all listeners, so a draining daemon takes no new connection. */
void net_host_unlisten(void);

#if POSTLET_TAP
/*
 * Open the TAP device, bring up lwIP's netif on it with a static address
 * or DHCP, and register it with the loop. Returns 0, or -1 with the reason
 * in err ("tap0: No such device").
 */
int net_tap_start(const struct conf_tap *t, const char *hostname, char *err,
	size_t errlen);
struct altcp_pcb *net_tap_listen(const struct conf_listen *l, char *err,
	size_t errlen);
struct altcp_pcb *net_tap_new(uint8_t ip_type);
void net_tap_unlisten(void);
#endif

#endif
