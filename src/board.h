/*
 * What the portable core needs from a board: a clock, entropy and a way to
 * open outgoing connections. Each board (board/<name>/) implements these.
 */
#ifndef POSTLET_BOARD_H
#define POSTLET_BOARD_H

#include <stddef.h>
#include <stdint.h>

struct altcp_pcb;

/* Monotonic milliseconds; wraps after 49 days, compare with differences. */
uint32_t board_now_ms(void);

/*
 * Fill buf with len bytes from the kernel's random source. Returns 0, or -1
 * when the source is not ready yet (early boot): callers retry later.
 */
int board_entropy(void *buf, size_t len);

/*
 * A new, unconnected TCP pcb on the configured network backend, for
 * outgoing connections (ip_type: IPADDR_TYPE_V4 or _V6). NULL when out of
 * pcbs.
 */
struct altcp_pcb *board_pcb_new(uint8_t ip_type);

#endif
