/*
 * Throttling of failed logins, counted per client address and per user
 * name in one fixed table set aside at start-up. After 3 failures the
 * next attempt waits 1 s, then 2 s, 4 s ... at most 60 s, counted from
 * the last failure; the 10th failure within 15 minutes of the first
 * blocks the key for 15 minutes, and each failure while blocked starts
 * the 15 minutes again. When the table is full, a new key takes
 * the entry used least recently, preferring entries that block nothing.
 *
 * A client address and a user name are separate keys, so a session
 * checks both and obeys the longer wait. A success clears the user's
 * count only: clearing the address's would let one valid account reset
 * the count of a client guessing others.
 */
#ifndef POSTLET_THROTTLE_H
#define POSTLET_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define THROTTLE_KEY_MAX 64 /* longer keys count by their first 64 bytes */
#define THROTTLE_FREE_FAILURES 3
#define THROTTLE_BLOCK_FAILURES 10
#define THROTTLE_DELAY_MAX_MS 60000u
#define THROTTLE_WINDOW_MS (15u * 60 * 1000)
#define THROTTLE_BLOCKED UINT32_MAX

enum throttle_kind {
	THROTTLE_CLIENT, /* the address as bytes: 4 for IPv4, 16 for IPv6 */
	THROTTLE_USER /* the name as the client sent it */
};

/*
 * Set aside the table of entries keys (at least 1) and take the time from
 * now, or from board_now_ms() when now is NULL (tests pass a clock of
 * their own). Returns 0, or -1 when out of memory. Calling it again
 * starts afresh.
 */
int throttle_init(size_t entries, uint32_t (*now)(void));

void throttle_free(void);

/*
 * How long to wait before answering an attempt from key: 0 at once,
 * THROTTLE_BLOCKED while blocked (the SMTP layer then refuses, 454 4.7.0
 * or 421), else milliseconds. An IPv6 client counts by its /64 prefix,
 * since one host often holds a whole /64.
 */
uint32_t
throttle_delay_ms(enum throttle_kind kind, const void *key, size_t len);

/* Count a failed attempt against key. */
void throttle_failed(enum throttle_kind kind, const void *key, size_t len);

/* Forget key's failures, after a successful login. */
void throttle_succeeded(enum throttle_kind kind, const void *key, size_t len);

#endif
