/*
 * lwIP options for postlet on Linux: one thread (NO_SYS), the raw/altcp
 * API only, fixed pools so that memory use is known at start-up.
 * The figures follow the sizing notes in the developers' reference: a TLS
 * record is up to 16 KiB plus overhead, and the receive window must exceed
 * it or a TLS peer stalls waiting for a window update that never comes.
 */
#ifndef POSTLET_LWIPOPTS_H
#define POSTLET_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0

#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define LWIP_IPV6_MLD 1
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_IPV6_DHCP6 0
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_STATS 0
#define LWIP_NETIF_HOSTNAME 1

#define LWIP_ALTCP 1
#define LWIP_ALTCP_TLS 1
#define LWIP_ALTCP_TLS_MBEDTLS 0

#define MEM_ALIGNMENT 8
#define MEM_SIZE (64 * 1024)
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0

#define TCP_MSS 1460
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 1
#define TCP_WND (24 * 1024)
#define TCP_SND_BUF (8 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_SEG 64
#define PBUF_POOL_SIZE 32
#define PBUF_POOL_BUFSIZE 1536

/*
 * The most client sessions a build serves at once (max_sessions may not
 * exceed it). lwIP's pools are sized from it at compile time: each session
 * holds a client connection and an upstream connection, and on the host
 * backend each of those is an altcp pcb with a TLS altcp pcb on top.
 * Unused pool entries cost about 250 bytes each.
 */
#ifndef POSTLET_SESSIONS_MAX
#define POSTLET_SESSIONS_MAX 32
#endif
/* Two TCP pcbs a session, plus TIME_WAIT slack. */
#define MEMP_NUM_TCP_PCB (2 * POSTLET_SESSIONS_MAX + 8)
#define MEMP_NUM_TCP_PCB_LISTEN 8
/* Two altcp pcbs a connection (TLS over TCP), plus listeners. */
#define MEMP_NUM_ALTCP_PCB (2 * MEMP_NUM_TCP_PCB + MEMP_NUM_TCP_PCB_LISTEN)
#define MEMP_NUM_UDP_PCB 4
/* Board timers, and one deferred failure report per upstream. */
#define MEMP_NUM_SYS_TIMEOUT \
	(LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8 + POSTLET_SESSIONS_MAX)

/*
 * On 64-bit hosts the IPv6 reassembly header does not fit in place of the
 * fragment and lwIP asserts a second after start-up; copying it costs a
 * few bytes per fragment.
 */
#define IPV6_FRAG_COPYHEADER 1

#define LWIP_CHKSUM_ALGORITHM 3
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_SO_RCVBUF 0

#ifndef LWIP_DEBUG_POSTLET
#define LWIP_DBG_TYPES_ON 0
#endif

#endif
