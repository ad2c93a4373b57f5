/*
 * Failed-login throttling (throttle.h): a small table searched in full,
 * since it holds a few hundred entries and is touched once per AUTH.
 * Times are board_now_ms() values, compared by difference so that the
 * clock's wrap after 49 days does no harm.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/throttle.h"
#include "board.h"

struct entry {
	uint8_t kind; /* enum throttle_kind + 1; 0 for a free entry */
	uint8_t len;
	uint8_t failures; /* stops at THROTTLE_BLOCK_FAILURES */
	uint8_t key[THROTTLE_KEY_MAX];
	uint32_t first; /* the first failure of the window */
	uint32_t last; /* the latest failure */
	uint32_t used; /* the latest lookup, for choosing whom to replace */
};

static struct entry *table;
static size_t nentries;
static uint32_t (*clock_ms)(void) = board_now_ms;

int
throttle_init(size_t entries, uint32_t (*now)(void))
{
	throttle_free();
	if (entries == 0)
		entries = 1;
	table = calloc(entries, sizeof(*table));
	if (table == NULL)
		return -1;
	nentries = entries;
	clock_ms = now != NULL ? now : board_now_ms;
	return 0;
}

void
throttle_free(void)
{
	free(table);
	table = NULL;
	nentries = 0;
}

/* What part of a key counts: an IPv6 client's /64, at most 64 bytes. */
static size_t
key_len(enum throttle_kind kind, size_t len)
{
	if (kind == THROTTLE_CLIENT && len == 16)
		return 8;
	return len < THROTTLE_KEY_MAX ? len : THROTTLE_KEY_MAX;
}

/* Forget e once its window or its block is over. */
static void
expire(struct entry *e, uint32_t now)
{
	uint32_t since =
		e->failures >= THROTTLE_BLOCK_FAILURES ? e->last : e->first;

	if (e->kind != 0 && now - since >= THROTTLE_WINDOW_MS)
		memset(e, 0, sizeof(*e));
}

static struct entry *
lookup(enum throttle_kind kind, const void *key, size_t len, uint32_t now)
{
	size_t i, n = key_len(kind, len);

	for (i = 0; i < nentries; i++) {
		struct entry *e = &table[i];

		if (e->kind != kind + 1 || e->len != n ||
			memcmp(e->key, key, n) != 0)
			continue;
		expire(e, now);
		if (e->kind == 0)
			return NULL;
		e->used = now;
		return e;
	}
	return NULL;
}

/*
 * The entry to give a new key: a free one, else the least recently used
 * that blocks nothing, else the least recently used. Evicting a block
 * would lift it, so blocks go last.
 */
static struct entry *
victim(uint32_t now)
{
	struct entry *best = NULL;
	int best_blocks = 1;
	size_t i;

	for (i = 0; i < nentries; i++) {
		struct entry *e = &table[i];
		int blocks;

		expire(e, now);
		if (e->kind == 0)
			return e;
		blocks = e->failures >= THROTTLE_BLOCK_FAILURES;
		if (best == NULL || blocks < best_blocks ||
			(blocks == best_blocks &&
				now - e->used > now - best->used)) {
			best = e;
			best_blocks = blocks;
		}
	}
	return best;
}

uint32_t
throttle_delay_ms(enum throttle_kind kind, const void *key, size_t len)
{
	uint32_t now = clock_ms(), delay, elapsed;
	struct entry *e;

	if (table == NULL)
		return 0;
	e = lookup(kind, key, len, now);
	if (e == NULL || e->failures < THROTTLE_FREE_FAILURES)
		return 0;
	if (e->failures >= THROTTLE_BLOCK_FAILURES)
		return THROTTLE_BLOCKED;
	delay = 1000u << (e->failures - THROTTLE_FREE_FAILURES);
	if (delay > THROTTLE_DELAY_MAX_MS)
		delay = THROTTLE_DELAY_MAX_MS;
	elapsed = now - e->last;
	return elapsed >= delay ? 0 : delay - elapsed;
}

void
throttle_failed(enum throttle_kind kind, const void *key, size_t len)
{
	uint32_t now = clock_ms();
	struct entry *e;

	if (table == NULL)
		return;
	e = lookup(kind, key, len, now);
	if (e == NULL) {
		e = victim(now);
		if (e == NULL)
			return; /* only with an empty table, which init prevents
				 */
		memset(e, 0, sizeof(*e));
		e->kind = (uint8_t)(kind + 1);
		e->len = (uint8_t)key_len(kind, len);
		memcpy(e->key, key, e->len);
		e->first = now;
	}
	if (e->failures < THROTTLE_BLOCK_FAILURES)
		e->failures++;
	e->last = now;
	e->used = now;
}

void
throttle_succeeded(enum throttle_kind kind, const void *key, size_t len)
{
	struct entry *e;

	if (table == NULL)
		return;
	e = lookup(kind, key, len, clock_ms());
	if (e != NULL)
		memset(e, 0, sizeof(*e));
}
