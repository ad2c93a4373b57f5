/* Clock and entropy of the Linux board, for lwIP and for the core. */
#include <errno.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

#include "lwip/sys.h"

#include "board.h"

uint32_t
board_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000u +
		(uint64_t)ts.tv_nsec / 1000000u);
}

/* lwIP's timers run on the same monotonic clock. */
u32_t
sys_now(void)
{
	return board_now_ms();
}

int
board_entropy(void *buf, size_t len)
{
	unsigned char *p = buf;

	/*
	 * GRND_NONBLOCK: on a router just after boot the pool may not be
	 * ready; answer "not yet" instead of stalling the one loop.
	 */
	while (len > 0) {
		ssize_t n = getrandom(p, len, GRND_NONBLOCK);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * lwIP wants random numbers for initial sequence numbers, ports and DHCP
 * transaction ids; they must be unpredictable, so they come from the
 * kernel too. Falls back to the clock only while the pool is not ready.
 */
unsigned int
postlet_lwip_rand(void)
{
	unsigned int r;

	if (board_entropy(&r, sizeof(r)) != 0)
		r = board_now_ms() * 2654435761u;
	return r;
}
