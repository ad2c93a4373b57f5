/*
 * Which network backend outgoing connections use: the core asks for a
 * pcb with board_pcb_new and must not care which stack it comes from.
 */
#include "board.h"
#include "net.h"
#include "options.h"

static enum conf_backend backend = CONF_BACKEND_HOST;

void
board_backend_use(enum conf_backend b)
{
	backend = b;
}

struct altcp_pcb *
board_pcb_new(uint8_t ip_type)
{
#if POSTLET_TAP
	if (backend == CONF_BACKEND_TAP)
		return net_tap_new(ip_type);
#endif
	return net_host_new(ip_type);
}
