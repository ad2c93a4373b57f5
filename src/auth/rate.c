/*
 * Per-user rate limits (rate.h). The table is searched in full: it holds
 * one entry per active user and is touched once per MAIL and RCPT.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/rate.h"
#include "auth/users.h"
#include "board.h"

struct entry {
	char name[USERS_NAME_MAX];
	uint8_t len; /* 0 for a free entry */
	uint32_t start; /* when the window opened */
	uint32_t used; /* the latest lookup */
	unsigned messages, recipients;
};

static struct entry *table;
static size_t nentries;
static unsigned limit_messages, limit_recipients;
static uint32_t (*clock_ms)(void) = board_now_ms;

int
rate_init(size_t entries, unsigned messages, unsigned recipients,
	uint32_t (*now)(void))
{
	rate_free();
	if (entries == 0)
		entries = 1;
	table = calloc(entries, sizeof(*table));
	if (table == NULL)
		return -1;
	nentries = entries;
	limit_messages = messages;
	limit_recipients = recipients;
	clock_ms = now != NULL ? now : board_now_ms;
	return 0;
}

void
rate_free(void)
{
	free(table);
	table = NULL;
	nentries = 0;
}

static int
window_over(const struct entry *e, uint32_t now)
{
	return now - e->start >= RATE_WINDOW_MS;
}

/* Which entry a new user takes first: free, then idle, then in use. */
static int
rank(const struct entry *e, uint32_t now)
{
	if (e->len == 0)
		return 0;
	return window_over(e, now) ? 1 : 2;
}

static struct entry *
take(uint32_t now)
{
	struct entry *best = &table[0];
	size_t i;

	for (i = 1; i < nentries; i++) {
		struct entry *e = &table[i];
		int a = rank(e, now), b = rank(best, now);

		if (a < b || (a == b && now - e->used > now - best->used))
			best = e;
	}
	memset(best, 0, sizeof(*best));
	best->start = now;
	return best;
}

/* user's entry with a current window, made if need be; never NULL. */
static struct entry *
entry_for(const char *user, size_t len, uint32_t now)
{
	struct entry *e = NULL;
	size_t i;

	for (i = 0; i < nentries && e == NULL; i++)
		if (table[i].len == len &&
			memcmp(table[i].name, user, len) == 0)
			e = &table[i];
	if (e == NULL) {
		e = take(now);
		memcpy(e->name, user, len);
		e->len = (uint8_t)len;
	}
	if (window_over(e, now)) {
		e->start = now;
		e->messages = e->recipients = 0;
	}
	e->used = now;
	return e;
}

/* Add n to *count if it stays within limit (0: none). */
static int
allow(unsigned *count, unsigned limit, unsigned n)
{
	if (limit != 0 && (n > limit || *count > limit - n))
		return -1;
	*count += n;
	return 0;
}

int
rate_allow_message(const char *user, size_t len)
{
	if (table == NULL || limit_messages == 0 || len == 0)
		return 0;
	if (len > USERS_NAME_MAX)
		len = USERS_NAME_MAX;
	return allow(
		&entry_for(user, len, clock_ms())->messages, limit_messages, 1);
}

int
rate_allow_recipients(const char *user, size_t len, unsigned n)
{
	if (table == NULL || limit_recipients == 0 || len == 0)
		return 0;
	if (len > USERS_NAME_MAX)
		len = USERS_NAME_MAX;
	return allow(&entry_for(user, len, clock_ms())->recipients,
		limit_recipients, n);
}
