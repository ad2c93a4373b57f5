/*
 * One line per event: "<session-id> <event> key=value ...", to syslog
 * (facility mail) or to stderr. Writing never blocks the loop: a line that
 * cannot be written at once is dropped and counted.
 */
#ifndef POSTLET_LOG_H
#define POSTLET_LOG_H

#include <stddef.h>

#include "options.h"

enum log_level {
	LOG_LEVEL_ERROR, /* a local fault: ours to fix */
	LOG_LEVEL_WARNING, /* a misbehaving peer or a refused input */
	LOG_LEVEL_INFO, /* normal flow: connect, tls, disconnect */
	LOG_LEVEL_DEBUG
};

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

/*
 * Open the log; again on reload. Before this is called, lines at info and
 * above go to stderr. When the syslog socket cannot be reached at open,
 * lines go to stderr instead and the first one says why; a socket that
 * goes away later is reconnected at the next line.
 */
void log_open(enum log_target target, enum log_level min_level);
void log_set_level(enum log_level min_level);

/*
 * The syslog socket to use from the next log_open on, at most 107 bytes;
 * "/dev/log" unless set. For systems that put it elsewhere, and tests.
 */
void log_set_syslog_path(const char *path);

/*
 * Log one event. sid is the session id ("-" for the daemon itself), event a
 * single word, fmt the key=value pairs. Values that come from a peer must
 * pass through log_escape first. A line longer than LOG_LINE_MAX is cut and
 * ends in "...".
 */
void log_event(enum log_level level, const char *sid, const char *event,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define LOG_LINE_MAX 512

/*
 * Copy src[0..srclen) into dst as printable ASCII: bytes outside 0x21..0x7e,
 * '"', '\\' and '=' become \xHH. Always NUL-terminates when dstlen > 0; a
 * value that does not fit is cut and ends in "...". Returns dst.
 */
char *log_escape(char *dst, size_t dstlen, const void *src, size_t srclen);

/* Lines dropped because the log could not take them without blocking. */
unsigned long log_dropped(void);

/*
 * Debug traces (state changes and the like) cost flash and time on a
 * device; they exist only in builds with POSTLET_DEBUG.
 */
#if POSTLET_DEBUG
#define log_debug(sid, event, ...) \
	log_event(LOG_LEVEL_DEBUG, sid, event, __VA_ARGS__)
#else
#define log_debug(sid, event, ...) ((void)0)
#endif

#endif
