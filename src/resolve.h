/*
 * Name resolution that never blocks the loop: the upstream relay by name
 * (A/AAAA and the hosts file) and RFC 6186 discovery by SRV record. A
 * request is queued at once; its callback runs later, from the loop, with
 * the answer or an error. Each board provides an implementation.
 */
#ifndef POSTLET_RESOLVE_H
#define POSTLET_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/ip_addr.h"

/* Error codes for the callbacks' err; 0 is success. */
#define RESOLVE_ERR_NOTFOUND 1 /* no such name, or no record of the type */
#define RESOLVE_ERR_TEMP 2 /* server failure, resolver lost: try later */
#define RESOLVE_ERR_TIMEOUT 3 /* no answer within the request's time */

/* Longest name accepted, without the terminating NUL (RFC 1035 2.3.4). */
#define RESOLVE_NAME_MAX 253
/* Time a request may take unless resolve_set_timeout says otherwise. */
#define RESOLVE_TIMEOUT_MS 15000u
/* Requests that may be outstanding at once. */
#define RESOLVE_PENDING_MAX 8
/* SRV records delivered at most per answer. */
#define RESOLVE_SRV_MAX 8

struct resolve_result {
	size_t naddrs;
	ip_addr_t addrs[4]; /* from A/AAAA */
};
typedef void (*resolve_addr_fn)(
	void *arg, int err, const struct resolve_result *r);

struct resolve_srv {
	char target[256];
	uint16_t port, priority, weight;
};
typedef void (*resolve_srv_fn)(
	void *arg, int err, const struct resolve_srv *srv, size_t n);

/*
 * Once at start-up, after loop_init and before privileges are dropped:
 * starts the helper that does the blocking work and takes one loop slot.
 * Returns 0, or -1 with errno set. Requests also need lwIP's timers
 * (lwip_init), which enforce their timeouts.
 */
int resolve_init(void);

/*
 * Look up the addresses of name, a host name or an IPv4 or IPv6 literal,
 * in the order the system prefers them (RFC 6724), at most four. Returns
 * 0 when queued, -1 when not (all RESOLVE_PENDING_MAX slots busy, name
 * empty or longer than RESOLVE_NAME_MAX, or the helper cannot be started).
 * cb never runs from inside this call; it runs exactly once, later, from
 * the loop, unless resolve_cancel(arg) comes first. r is non-NULL only
 * when err is 0, with naddrs >= 1, and is valid only during the call. The
 * callback may queue or cancel requests.
 */
int resolve_addr(const char *name, resolve_addr_fn cb, void *arg);

/*
 * Look up the SRV records of name (e.g. "_submissions._tcp.example.org").
 * Returns and calls back as resolve_addr does. On success srv holds n
 * records (1 <= n <= RESOLVE_SRV_MAX), lowest priority first and, within a
 * priority, highest weight first: an order to try them in (RFC 2782 asks
 * for a weighted random pick within a priority; this ordering is the
 * deterministic approximation). A target of "." says the service is not
 * offered; when only such records exist, err is RESOLVE_ERR_NOTFOUND.
 * Targets are host names for resolve_addr, without a trailing dot.
 */
int resolve_srv(const char *name, resolve_srv_fn cb, void *arg);

/*
 * Forget every request made with arg: their callbacks will not run. Call
 * it before freeing what arg points to. Costs nothing when none is left.
 */
void resolve_cancel(void *arg);

/*
 * Time allowed to requests queued from now on, in milliseconds (at least
 * 1); RESOLVE_TIMEOUT_MS until set. After it, cb gets RESOLVE_ERR_TIMEOUT
 * and a late answer is dropped.
 */
void resolve_set_timeout(uint32_t ms);

/* A short English text for err, for logs; never NULL. */
const char *resolve_strerror(int err);

#endif
