/*
 * The one poll(2) loop: a descriptor table sized once, lwIP's timers, and
 * an idle hook. Contract in loop.h.
 *
 * The pollfd array is handed to poll(2) as is: a free slot holds fd -1,
 * which poll ignores, so slot numbers stay stable while callbacks add and
 * remove descriptors in the middle of a dispatch.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "lwip/timeouts.h"

#include "loop.h"

struct watch {
	loop_fd_fn cb;
	void *arg;
};

static struct pollfd *pfds;
static struct watch *watches;
static size_t nslots; /* table size from loop_init */
static size_t nused; /* slots below this index may be in use */
static int stopping;
static void (*idle_hook)(void);

int
loop_init(size_t max_fds)
{
	size_t i;

	if (pfds != NULL || max_fds == 0 || max_fds > INT_MAX)
		return -1;
	pfds = calloc(max_fds, sizeof(*pfds));
	watches = calloc(max_fds, sizeof(*watches));
	if (pfds == NULL || watches == NULL) {
		free(pfds);
		free(watches);
		pfds = NULL;
		watches = NULL;
		return -1;
	}
	for (i = 0; i < max_fds; i++)
		pfds[i].fd = -1;
	nslots = max_fds;
	return 0;
}

int
loop_fd_add(int fd, short events, loop_fd_fn cb, void *arg)
{
	size_t i;

	if (fd < 0 || cb == NULL)
		return -1;
	for (i = 0; i < nslots; i++)
		if (pfds[i].fd < 0)
			break;
	if (i == nslots)
		return -1;

	/* revents stays 0 so this turn's dispatch cannot hit the new fd. */
	pfds[i].fd = fd;
	pfds[i].events = events;
	pfds[i].revents = 0;
	watches[i].cb = cb;
	watches[i].arg = arg;
	if (i >= nused)
		nused = i + 1;
	return (int)i;
}

void
loop_fd_events(int slot, short events)
{
	if (slot >= 0 && (size_t)slot < nslots)
		pfds[slot].events = events;
}

void
loop_fd_remove(int slot)
{
	if (slot < 0 || (size_t)slot >= nslots)
		return;
	/* Clearing revents drops events already polled for this fd. */
	pfds[slot].fd = -1;
	pfds[slot].events = 0;
	pfds[slot].revents = 0;
	watches[slot].cb = NULL;
	watches[slot].arg = NULL;
	while (nused > 0 && pfds[nused - 1].fd < 0)
		nused--;
}

/* The earlier of the caller's bound and lwIP's next timer; -1 is none. */
static int
wait_bound(int max_wait_ms)
{
	u32_t sleep = sys_timeouts_sleeptime();

	if (sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		return max_wait_ms;
	if (sleep > INT_MAX)
		sleep = INT_MAX;
	if (max_wait_ms < 0 || (int)sleep < max_wait_ms)
		return (int)sleep;
	return max_wait_ms;
}

static void
dispatch(void)
{
	size_t i;

	/*
	 * nused may shrink or grow under us; slots added during this pass
	 * have revents 0, and a removed slot has its revents cleared, so
	 * each callback sees only events polled for its own descriptor.
	 */
	for (i = 0; i < nused; i++) {
		short ready = pfds[i].revents;

		pfds[i].revents = 0;
		if (ready == 0 || watches[i].cb == NULL)
			continue;
		/* An event the owner stopped asking for since the poll. */
		ready &= (short)(pfds[i].events | POLLERR | POLLHUP | POLLNVAL);
		if (ready != 0)
			watches[i].cb(watches[i].arg, pfds[i].fd, ready);
	}
}

int
loop_run_once(int max_wait_ms)
{
	int n;

	n = poll(pfds, (nfds_t)nused, wait_bound(max_wait_ms));
	if (n < 0) {
		/* Signals arrive through main's self-pipe; just go round. */
		if (errno != EINTR)
			return -1;
		n = 0;
	}
	if (n > 0)
		dispatch();
	sys_check_timeouts();
	if (idle_hook != NULL)
		idle_hook();
	return n;
}

int
loop_run(void)
{
	int rc = 0;

	while (!stopping) {
		if (loop_run_once(-1) < 0) {
			rc = -1;
			break;
		}
	}
	stopping = 0;
	return rc;
}

void
loop_stop(void)
{
	stopping = 1;
}

void
loop_set_idle_hook(void (*hook)(void))
{
	idle_hook = hook;
}
