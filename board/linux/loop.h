/*
 * The one poll(2) loop. Every file descriptor postlet waits on is
 * registered here; lwIP's timers (sys_timeout) are the only timers, and the
 * loop sleeps no longer than the next one is due.
 */
#ifndef POSTLET_LOOP_H
#define POSTLET_LOOP_H

#include <stddef.h>

typedef void (*loop_fd_fn)(void *arg, int fd, short revents);

/* Size the descriptor table once at start-up. Returns 0 or -1. */
int loop_init(size_t max_fds);

/*
 * Watch fd for events (POLLIN, POLLOUT); cb runs from loop_run with the
 * events that are ready. Returns a slot number, or -1 when the table is
 * full. The callback may add, change or remove any slot, its own included.
 */
int loop_fd_add(int fd, short events, loop_fd_fn cb, void *arg);
void loop_fd_events(int slot, short events);
void loop_fd_remove(int slot);

/*
 * Run until loop_stop. Between polls it runs lwIP's due timers and the
 * idle hook. Returns 0, or -1 if poll itself failed.
 */
int loop_run(void);
void loop_stop(void);

/*
 * One turn of the loop, waiting at most max_wait_ms (tests drive the loop
 * with this). Returns the number of ready descriptors, or -1.
 */
int loop_run_once(int max_wait_ms);

/* Called once per loop turn after callbacks (drain checks, reloads). */
void loop_set_idle_hook(void (*hook)(void));

#endif
