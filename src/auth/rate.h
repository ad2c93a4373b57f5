/*
 * Per-user rate limits: messages and recipients per user in fixed windows
 * of one hour, each opened by the user's first message after the last
 * window ended. A fixed window lets a user send up to twice the limit
 * across a window's edge; it needs two counters where a sliding one would
 * need a time per message.
 *
 * The table is set aside at start-up. Sized to the number of users, it
 * never fills; if it does, a new user takes an entry whose window is over,
 * else the one used least recently, whose counts are then forgotten.
 */
#ifndef POSTLET_RATE_H
#define POSTLET_RATE_H

#include <stddef.h>
#include <stdint.h>

#define RATE_WINDOW_MS (60u * 60 * 1000)

/*
 * Set aside entries (at least 1) and keep the limits per hour, 0 for no
 * limit; the time comes from now, or board_now_ms() when now is NULL.
 * Returns 0, or -1 when out of memory. Calling it again starts afresh.
 */
int rate_init(size_t entries, unsigned messages, unsigned recipients,
	uint32_t (*now)(void));

void rate_free(void);

/*
 * Count one message for user[0..len): 0 when it is within the limit,
 * -1 (and nothing counted) when the user has sent the hour's share.
 */
int rate_allow_message(const char *user, size_t len);

/* Count n recipients the same way: -1 if n more would pass the limit. */
int rate_allow_recipients(const char *user, size_t len, unsigned n);

#endif
