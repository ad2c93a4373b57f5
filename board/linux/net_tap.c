/*
 * The tap backend: lwIP's own TCP/IP stack on a Linux TAP device. The
 * kernel only moves Ethernet frames between the device and this file; ARP,
 * neighbour discovery, DHCP and TCP all run in lwIP, so postlet is a host
 * of its own on the link with its own MAC and addresses. Contracts are in
 * net.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/altcp_tcp.h"
#include "lwip/tcp.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

#include "board.h"
#include "conf/conf.h"
#include "log.h"
#include "loop.h"
#include "net.h"

/*
 * From the kernel's uapi/linux/if_tun.h, spelt out here because musl's
 * toolchains ship no kernel headers. _IOW comes from the C library, which
 * knows each architecture's ioctl encoding.
 */
#define TUN_SETIFF _IOW('T', 202, int)
#define TUN_IFF_TAP 0x0002
#define TUN_IFF_NO_PI 0x1000

#define TAP_MTU 1500
/* Header, MTU and one 802.1Q tag: anything longer is not ours to take. */
#define TAP_FRAME_MAX (SIZEOF_ETH_HDR + TAP_MTU + 4)
/* Frames taken per wake-up, so a flood cannot starve the other fds. */
#define TAP_RX_BURST 32

static struct {
	int fd;
	int slot; /* in the loop's table, -1 when not registered */
	int netif_added;
	struct netif netif;
	char device[IFNAMSIZ];
	/* lwIP keeps a pointer to the hostname: it must live here. */
	char hostname[CONF_NAME_MAX + 1];
	struct altcp_pcb *listeners[CONF_LISTEN_MAX];
	size_t nlisteners;
	unsigned long dropped;
	/* What the status log last reported, to log changes only. */
	ip4_addr_t shown4;
	ip6_addr_t shown6[LWIP_IPV6_NUM_ADDRESSES];
	/* One more byte than a frame may have, to notice longer ones. */
	unsigned char rxbuf[TAP_FRAME_MAX + 1];
	unsigned char txbuf[TAP_FRAME_MAX];
} tap = {.fd = -1, .slot = -1};

/*
 * Counted, never logged: a full device queue can drop thousands of frames
 * a second and TCP recovers from each one.
 */
static void
tap_drop(void)
{
	tap.dropped++;
}

/*
 * The device stopped working (deleted, or its queue detached): stop
 * reading so a dead fd does not spin the loop, and say so once.
 */
static void
tap_fail(int err)
{
	char why[64];

	log_escape(why, sizeof(why), strerror(err), strlen(strerror(err)));
	log_event(LOG_LEVEL_ERROR, "-", "tap", "device=%s error=%s", tap.device,
		why);
	loop_fd_remove(tap.slot);
	tap.slot = -1;
	close(tap.fd);
	tap.fd = -1;
	netif_set_link_down(&tap.netif);
}

/* Hand one frame to lwIP; it owns the pbuf once input returns ERR_OK. */
static void
tap_input(const unsigned char *frame, size_t len)
{
	struct pbuf *p;

	if (len < SIZEOF_ETH_HDR || len > TAP_FRAME_MAX) {
		tap_drop();
		return;
	}
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (p == NULL) {
		/* Out of pool pbufs: as if lost on the wire. */
		tap_drop();
		return;
	}
	pbuf_take(p, frame, (u16_t)len);
	if (tap.netif.input(p, &tap.netif) != ERR_OK)
		pbuf_free(p);
}

static void
tap_readable(void *arg, int fd, short revents)
{
	int i;

	(void)arg;
	for (i = 0; i < TAP_RX_BURST; i++) {
		ssize_t n = read(fd, tap.rxbuf, sizeof(tap.rxbuf));

		if (n >= 0) {
			tap_input(tap.rxbuf, (size_t)n);
			continue;
		}
		if (errno == EINTR)
			continue;
		/*
		 * An error condition with nothing to read would wake the
		 * loop again at once; treat it as the end of the device.
		 */
		if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
			(revents & (POLLERR | POLLHUP | POLLNVAL)) != 0)
			tap_fail(errno == EAGAIN ? EIO : errno);
		return;
	}
}

/*
 * One frame per write(2). A frame that cannot be written at once is
 * dropped rather than queued: the loop must not block, and TCP retransmits
 * what was lost as it would on any lossy link.
 */
static err_t
tap_linkoutput(struct netif *netif, struct pbuf *p)
{
	u16_t len;

	(void)netif;
	if (tap.fd < 0)
		return ERR_IF;
	if (p->tot_len > sizeof(tap.txbuf)) {
		tap_drop();
		return ERR_OK;
	}
	len = pbuf_copy_partial(p, tap.txbuf, p->tot_len, 0);
	if (write(tap.fd, tap.txbuf, len) != (ssize_t)len)
		tap_drop();
	return ERR_OK;
}

/* Log the IPv4 address when it changes, DHCP's leases included. */
static void
tap_show4(const struct netif *netif)
{
	const ip4_addr_t *a = netif_ip4_addr(netif);
	char text[IP4ADDR_STRLEN_MAX];

	if (ip4_addr_cmp(a, &tap.shown4))
		return;
	ip4_addr_copy(tap.shown4, *a);
	if (ip4_addr_isany(a))
		snprintf(text, sizeof(text), "none");
	else
		ip4addr_ntoa_r(a, text, sizeof(text));
	log_event(LOG_LEVEL_INFO, "-", "tap", "device=%s address=%s",
		tap.device, text);
}

/* Log each IPv6 address once it passed duplicate address detection. */
static void
tap_show6(const struct netif *netif, int i)
{
	const ip6_addr_t *a = netif_ip6_addr(netif, i);
	char text[IP6ADDR_STRLEN_MAX], *p;

	if (!ip6_addr_isvalid(netif_ip6_addr_state(netif, i))) {
		ip6_addr_set_zero(&tap.shown6[i]);
		return;
	}
	if (ip6_addr_cmp_zoneless(a, &tap.shown6[i]))
		return;
	ip6_addr_copy(tap.shown6[i], *a);
	ip6addr_ntoa_r(a, text, sizeof(text));
	/* lwIP writes hex digits in upper case; RFC 5952 section 4.3. */
	for (p = text; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	log_event(LOG_LEVEL_INFO, "-", "tap", "device=%s address6=%s",
		tap.device, text);
}

static void
tap_status(struct netif *netif)
{
	int i;

	tap_show4(netif);
	for (i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
		tap_show6(netif, i);
}

static err_t
tap_netif_init(struct netif *netif)
{
	unsigned char *mac = netif->hwaddr;

	netif->name[0] = 't';
	netif->name[1] = 'p';
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output;
	netif->linkoutput = tap_linkoutput;
	netif->mtu = TAP_MTU;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;

	/*
	 * A fresh random MAC each start; the clock-based LWIP_RAND is
	 * only a fallback for a router whose pool is not ready at boot.
	 */
	if (board_entropy(mac, ETH_HWADDR_LEN) != 0) {
		u32_t r1 = LWIP_RAND(), r2 = LWIP_RAND();

		memcpy(mac, &r1, 4);
		memcpy(mac + 4, &r2, 2);
	}
	/* Unicast (bit 0 clear), locally administered (bit 1 set). */
	mac[0] = (unsigned char)((mac[0] & 0xfc) | 0x02);
	return ERR_OK;
}

/*
 * DHCP's host name option carries a single label (RFC 2132 section 3.14
 * allows a qualified one, but servers such as dnsmasq then complain about
 * the domain), so only the part before the first dot is kept.
 */
static void
tap_set_hostname(const char *hostname)
{
	size_t n = 0;

	if (hostname == NULL || hostname[0] == '\0')
		return;
	while (hostname[n] != '\0' && hostname[n] != '.' &&
		n + 1 < sizeof(tap.hostname)) {
		tap.hostname[n] = hostname[n];
		n++;
	}
	tap.hostname[n] = '\0';
	netif_set_hostname(&tap.netif, tap.hostname);
}

/* What usually lies behind a TUNSETIFF failure, for the start-up error. */
static const char *
tap_hint(int err)
{
	switch (err) {
	case EPERM:
		return " (create the device for postlet's user, or grant "
		       "CAP_NET_ADMIN)";
	case EBUSY:
		return " (another process has it open)";
	case EINVAL:
		return " (is it a TUN device, not a TAP?)";
	default:
		return "";
	}
}

static int
tap_open(char *err, size_t errlen)
{
	struct ifreq ifr;

	/*
	 * With CAP_NET_ADMIN, TUNSETIFF would quietly create a missing
	 * device, unbridged and useless; the system's network setup owns
	 * the device, so a missing one is a configuration error.
	 */
	if (if_nametoindex(tap.device) == 0) {
		snprintf(err, errlen,
			"%s: no such TAP device (create it: ip tuntap add "
			"dev %s mode tap)",
			tap.device, tap.device);
		return -1;
	}
	tap.fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap.fd < 0) {
		snprintf(err, errlen, "%s: cannot open /dev/net/tun: %s",
			tap.device, strerror(errno));
		return -1;
	}

	/*
	 * Attaching to an existing device needs no privilege when it
	 * belongs to our user. postlet never configures the host side.
	 */
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = TUN_IFF_TAP | TUN_IFF_NO_PI;
	memcpy(ifr.ifr_name, tap.device, sizeof(tap.device));
	if (ioctl(tap.fd, TUN_SETIFF, &ifr) != 0) {
		int e = errno;

		snprintf(err, errlen, "%s: TUNSETIFF: %s%s", tap.device,
			strerror(e), tap_hint(e));
		return -1;
	}
	return 0;
}

static int
tap_parse4(const struct conf_tap *t, ip4_addr_t *addr, ip4_addr_t *mask,
	ip4_addr_t *gw, char *err, size_t errlen)
{
	u32_t bits;

	if (!ip4addr_aton(t->addr4, addr)) {
		snprintf(err, errlen, "%s: bad IPv4 address \"%s\"", tap.device,
			t->addr4);
		return -1;
	}
	if (t->prefix4 > 32) {
		snprintf(err, errlen, "%s: bad IPv4 prefix length %u",
			tap.device, (unsigned)t->prefix4);
		return -1;
	}
	bits = t->prefix4 == 0 ? 0 : 0xffffffffu << (32 - t->prefix4);
	ip4_addr_set_u32(mask, lwip_htonl(bits));
	ip4_addr_set_zero(gw);
	if (t->gateway4[0] != '\0' && !ip4addr_aton(t->gateway4, gw)) {
		snprintf(err, errlen, "%s: bad IPv4 gateway \"%s\"", tap.device,
			t->gateway4);
		return -1;
	}
	return 0;
}

/*
 * lwIP 2.1.3 treats every static IPv6 address as a /64 on the link
 * (nd6.c, RFC 5942), so any other prefix length would be silently wrong.
 */
static int
tap_parse6(const struct conf_tap *t, ip6_addr_t *addr, char *err, size_t errlen)
{
	if (!ip6addr_aton(t->addr6, addr)) {
		snprintf(err, errlen, "%s: bad IPv6 address \"%s\"", tap.device,
			t->addr6);
		return -1;
	}
	if (t->prefix6 != 64) {
		snprintf(err, errlen,
			"%s: IPv6 prefix length %u: only /64 is supported",
			tap.device, (unsigned)t->prefix6);
		return -1;
	}
	return 0;
}

/* Add the netif with its static addresses; DHCP is started later. */
static int
tap_netif_add(const struct conf_tap *t, char *err, size_t errlen)
{
	ip4_addr_t addr, mask, gw;
	ip6_addr_t addr6;

	ip4_addr_set_zero(&addr);
	ip4_addr_set_zero(&mask);
	ip4_addr_set_zero(&gw);
	if (!t->dhcp && tap_parse4(t, &addr, &mask, &gw, err, errlen) != 0)
		return -1;
	if (t->addr6[0] != '\0' && tap_parse6(t, &addr6, err, errlen) != 0)
		return -1;

	if (netif_add(&tap.netif, &addr, &mask, &gw, NULL, tap_netif_init,
		    ethernet_input) == NULL) {
		snprintf(err, errlen, "%s: cannot add the lwIP interface",
			tap.device);
		return -1;
	}
	tap.netif_added = 1;
	netif_set_status_callback(&tap.netif, tap_status);

	/*
	 * Addresses start tentative; lwIP's duplicate address detection
	 * makes them usable about a second after the link comes up.
	 */
	netif_create_ip6_linklocal_address(&tap.netif, 1);
	if (t->addr6[0] != '\0' &&
		netif_add_ip6_address(&tap.netif, &addr6, NULL) != ERR_OK) {
		snprintf(err, errlen, "%s: no slot for IPv6 address %s",
			tap.device, t->addr6);
		return -1;
	}
	netif_set_ip6_autoconfig_enabled(&tap.netif, 1);
	return 0;
}

/* Undo whatever net_tap_start got done, in reverse order. */
static void
tap_stop(void)
{
	if (tap.netif_added) {
		dhcp_cleanup(&tap.netif);
		netif_remove(&tap.netif);
		tap.netif_added = 0;
	}
	if (tap.slot >= 0) {
		loop_fd_remove(tap.slot);
		tap.slot = -1;
	}
	if (tap.fd >= 0) {
		close(tap.fd);
		tap.fd = -1;
	}
}

int
net_tap_start(const struct conf_tap *t, const char *hostname, char *err,
	size_t errlen)
{
	if (tap.fd >= 0 || tap.netif_added) {
		snprintf(err, errlen, "%s: tap backend already started",
			t->device);
		return -1;
	}
	if (t->device[0] == '\0' || strlen(t->device) >= sizeof(tap.device)) {
		snprintf(err, errlen, "tap device name \"%s\" is not valid",
			t->device);
		return -1;
	}
	memcpy(tap.device, t->device, strlen(t->device) + 1);

	if (tap_open(err, errlen) != 0 || tap_netif_add(t, err, errlen) != 0)
		goto fail;
	tap_set_hostname(hostname);
	netif_set_default(&tap.netif);
	netif_set_up(&tap.netif);
	netif_set_link_up(&tap.netif);

	tap.slot = loop_fd_add(tap.fd, POLLIN, tap_readable, NULL);
	if (tap.slot < 0) {
		snprintf(err, errlen, "%s: the poll table is full", tap.device);
		goto fail;
	}
	if (t->dhcp && dhcp_start(&tap.netif) != ERR_OK) {
		snprintf(err, errlen, "%s: cannot start DHCP: out of memory",
			tap.device);
		goto fail;
	}
	return 0;

fail:
	tap_stop();
	return -1;
}

int
net_tap_address4(char *buf, size_t len)
{
	const ip4_addr_t *a = netif_ip4_addr(&tap.netif);
	int n = len > IP4ADDR_STRLEN_MAX ? IP4ADDR_STRLEN_MAX : (int)len;

	if (!tap.netif_added || ip4_addr_isany(a))
		return -1;
	return ip4addr_ntoa_r(a, buf, n) != NULL ? 0 : -1;
}

unsigned long
net_tap_dropped(void)
{
	return tap.dropped;
}

/* lwIP's error codes as the errno strerror knows, for familiar messages. */
static const char *
tap_strerr(err_t e)
{
	switch (e) {
	case ERR_USE:
		return strerror(EADDRINUSE);
	case ERR_MEM:
	case ERR_BUF:
		return strerror(ENOMEM);
	case ERR_VAL:
		return strerror(EINVAL);
	default:
		return "lwIP error";
	}
}

/* "addr:port", with brackets around an IPv6 address. */
static void
tap_listen_error(
	const struct conf_listen *l, const char *why, char *err, size_t errlen)
{
	if (strchr(l->addr, ':') != NULL)
		snprintf(err, errlen, "[%s]:%u: %s", l->addr, (unsigned)l->port,
			why);
	else
		snprintf(err, errlen, "%s:%u: %s", l->addr, (unsigned)l->port,
			why);
}

/*
 * "::" binds IPv6 only, as the host backend does with IPV6_V6ONLY, so a
 * configuration that lists "0.0.0.0" and "::" on one port means the same
 * on both backends.
 */
struct altcp_pcb *
net_tap_listen(const struct conf_listen *l, char *err, size_t errlen)
{
	ip_addr_t addr;
	struct altcp_pcb *pcb, *lpcb;
	err_t e = ERR_OK;

	if (tap.nlisteners == CONF_LISTEN_MAX) {
		tap_listen_error(l, "too many listeners", err, errlen);
		return NULL;
	}
	if (!ipaddr_aton(l->addr, &addr)) {
		tap_listen_error(l, "not an address literal", err, errlen);
		return NULL;
	}
	pcb = altcp_tcp_new_ip_type(IP_GET_TYPE(&addr));
	if (pcb == NULL) {
		tap_listen_error(l, tap_strerr(ERR_MEM), err, errlen);
		return NULL;
	}
	e = altcp_bind(pcb, &addr, l->port);
	if (e == ERR_OK) {
		/* The pcb listening may not be the one bound: use it. */
		lpcb = altcp_listen_with_backlog_and_err(
			pcb, TCP_DEFAULT_LISTEN_BACKLOG, &e);
		if (lpcb != NULL) {
			tap.listeners[tap.nlisteners++] = lpcb;
			return lpcb;
		}
	}
	altcp_close(pcb);
	tap_listen_error(l, tap_strerr(e), err, errlen);
	return NULL;
}

struct altcp_pcb *
net_tap_new(uint8_t ip_type)
{
	return altcp_tcp_new_ip_type(ip_type);
}

/*
 * lwIP 2.1.3's altcp_tcp_close reads the poll callback of the TCP pcb
 * before closing it, past the end of the smaller pcb a listener has (seen
 * by AddressSanitizer). So the TCP listener is closed here, which cannot
 * fail, and the altcp pcb after it, with nothing left below to touch.
 */
static void
listener_close(struct altcp_pcb *l)
{
	struct tcp_pcb *t = l->state;

	l->state = NULL;
	if (t != NULL) {
		tcp_arg(t, NULL);
		tcp_accept(t, NULL);
		tcp_close(t);
	}
	altcp_close(l);
}

void
net_tap_unlisten(void)
{
	size_t i;

	for (i = 0; i < tap.nlisteners; i++)
		listener_close(tap.listeners[i]);
	tap.nlisteners = 0;
}
