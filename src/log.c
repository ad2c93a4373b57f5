/*
 * The event log. Every write is attempted once, at once: the loop is the
 * only thread, so a log that waits for a slow terminal or a busy syslog
 * daemon would stall every session. What cannot go out now is dropped and
 * counted instead.
 *
 * libc's syslog() is not used: it may block on a full /dev/log and, in
 * some libcs, retries the connection with a delay.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* RFC 3164 4.1.1 (and RFC 5424 6.2.1): facility 2, mail, times eight. */
#define FACILITY_MAIL (2 << 3)

/* "<191>postlet[4294967295]: " and some room. */
#define SYSLOG_HEAD_MAX 40

#define SOCK_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/* RFC 3164 severities of the four levels, in enum log_level order. */
static const unsigned char severity[] = {
	3, /* error */
	4, /* warning */
	6, /* informational */
	7, /* debug */
};

static struct {
	enum log_target target;
	enum log_level level;
	int fd; /* datagram socket to syslog, -1 until connected */
	unsigned long dropped;
	char path[SOCK_PATH_MAX];
} lg = {LOG_TARGET_STDERR, LOG_LEVEL_INFO, -1, 0, "/dev/log"};

static void
syslog_close(void)
{
	if (lg.fd >= 0)
		close(lg.fd);
	lg.fd = -1;
}

/* Connect to the syslog socket unless connected. Returns 0 or errno. */
static int
syslog_connect(void)
{
	struct sockaddr_un sa;
	int e;

	if (lg.fd >= 0)
		return 0;
	lg.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lg.fd < 0) {
		e = errno;
		lg.fd = -1;
		return e;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, lg.path, sizeof(lg.path));
	if (connect(lg.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		syslog_close();
		return e;
	}
	return 0;
}

void
log_set_syslog_path(const char *path)
{
	size_t len = strlen(path);

	if (len >= sizeof(lg.path))
		return;
	memcpy(lg.path, path, len + 1);
}

void
log_set_level(enum log_level min_level)
{
	lg.level = min_level;
}

void
log_open(enum log_target target, enum log_level min_level)
{
	int e = 0;

	syslog_close();
	lg.level = min_level;
	lg.target = target;
	if (target == LOG_TARGET_SYSLOG)
		e = syslog_connect();
	if (e != 0) {
		lg.target = LOG_TARGET_STDERR;
		log_event(LOG_LEVEL_WARNING, "-", "log",
			"target=stderr reason=\"%s: %s\"", lg.path,
			strerror(e));
	}
}

unsigned long
log_dropped(void)
{
	return lg.dropped;
}

/*
 * fd 2 stays as the parent left it, blocking or not, since it may be
 * shared with a terminal. Asking poll first keeps the write from waiting:
 * a pipe, socket or terminal that reports POLLOUT has room for a line of
 * LOG_LINE_MAX bytes, which is below PIPE_BUF and so written whole.
 */
static void
emit_stderr(const char *line, size_t len)
{
	struct pollfd p = {.fd = 2, .events = POLLOUT};
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, 0);
	while (r < 0 && errno == EINTR);
	if (r != 1 ||
		(p.revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL)) !=
			POLLOUT) {
		lg.dropped++;
		return;
	}
	do
		n = write(2, line, len);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len)
		lg.dropped++;
}

/* Socket errors after which a new connection may succeed. */
static int
gone(int e)
{
	return e == ECONNREFUSED || e == ENOTCONN || e == ECONNRESET ||
		e == EPIPE || e == EDESTADDRREQ;
}

static int
send_once(const char *buf, size_t len)
{
	ssize_t n;
	int e = syslog_connect();

	if (e != 0)
		return e;
	do
		n = send(lg.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? errno : 0;
}

/*
 * A restarted syslog daemon makes a new /dev/log: the old connection then
 * fails, and one new connect reaches the new daemon. A full queue
 * (EAGAIN) drops the line; waiting is what this module never does.
 */
static void
emit_syslog(enum log_level level, const char *body, size_t len)
{
	char buf[SYSLOG_HEAD_MAX + LOG_LINE_MAX];
	int n, e;

	/* RFC 3164 4.1: the daemon adds the timestamp and host name. */
	n = snprintf(buf, SYSLOG_HEAD_MAX,
		"<%d>postlet[%ld]: ", FACILITY_MAIL | severity[level],
		(long)getpid());
	if (n < 0 || n >= SYSLOG_HEAD_MAX) {
		lg.dropped++;
		return;
	}
	memcpy(buf + n, body, len);

	e = send_once(buf, (size_t)n + len);
	if (e != 0 && gone(e)) {
		syslog_close();
		e = send_once(buf, (size_t)n + len);
	}
	if (e != 0) {
		if (gone(e))
			syslog_close();
		lg.dropped++;
	}
}

/* Replace "..." over the last bytes of the full buffer buf[0..size). */
static size_t
cut(char *buf, size_t size)
{
	memcpy(buf + size - 4, "...", 4);
	return size - 1;
}

/*
 * Write "sid event fmt..." into buf[0..LOG_LINE_MAX) and return its
 * length. Control bytes become '?' so that a value a caller forgot to
 * escape still cannot forge a second log line.
 */
static size_t __attribute__((format(printf, 4, 0))) format_body(char *buf,
	const char *sid, const char *event, const char *fmt, va_list ap)
{
	size_t len, i;
	int n;

	n = snprintf(buf, LOG_LINE_MAX, "%s %s", sid ? sid : "-",
		event ? event : "-");
	if (n < 0)
		return 0;
	if ((size_t)n >= LOG_LINE_MAX)
		return cut(buf, LOG_LINE_MAX);
	len = (size_t)n;
	if (fmt != NULL && fmt[0] != '\0' && len + 1 < LOG_LINE_MAX) {
		buf[len++] = ' ';
		n = vsnprintf(buf + len, LOG_LINE_MAX - len, fmt, ap);
		if (n < 0)
			n = 0;
		if ((size_t)n >= LOG_LINE_MAX - len)
			return cut(buf, LOG_LINE_MAX);
		if (n == 0)
			buf[--len] = '\0'; /* no pairs: no trailing space */
		len += (size_t)n;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return len;
}

void
log_event(enum log_level level, const char *sid, const char *event,
	const char *fmt, ...)
{
	char line[LOG_LINE_MAX + 1];
	va_list ap;
	size_t len;

	if (level > lg.level || (unsigned)level >= sizeof(severity))
		return;
	va_start(ap, fmt);
	len = format_body(line, sid, event, fmt, ap);
	va_end(ap);

	if (lg.target == LOG_TARGET_SYSLOG) {
		emit_syslog(level, line, len);
		return;
	}
	line[len++] = '\n';
	emit_stderr(line, len);
}

static const char hex[] = "0123456789abcdef";

/* Bytes a log reader could mistake for structure, or cannot see. */
static int
needs_escape(unsigned char ch)
{
	return ch < 0x21 || ch > 0x7e || ch == '"' || ch == '\\' || ch == '=';
}

static size_t
escaped_len(const unsigned char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += needs_escape(s[i]) ? 4 : 1;
	return n;
}

char *
log_escape(char *dst, size_t dstlen, const void *src, size_t srclen)
{
	const unsigned char *s = src;
	size_t room, i, out = 0;
	int whole;

	if (dstlen == 0)
		return dst;
	room = dstlen - 1;
	whole = escaped_len(s, srclen) <= room;
	if (!whole)
		room = room > 3 ? room - 3 : 0;

	/* An escape is written whole or not at all, never cut in two. */
	for (i = 0; i < srclen; i++) {
		unsigned char ch = s[i];
		size_t need = needs_escape(ch) ? 4 : 1;

		if (out + need > room)
			break;
		if (need == 1) {
			dst[out++] = (char)ch;
			continue;
		}
		dst[out++] = '\\';
		dst[out++] = 'x';
		dst[out++] = hex[ch >> 4];
		dst[out++] = hex[ch & 15];
	}
	for (i = 0; !whole && i < 3 && out < dstlen - 1; i++)
		dst[out++] = '.';
	dst[out] = '\0';
	return dst;
}
