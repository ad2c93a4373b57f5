/*
 * The event log: log_escape known answers, lines on stderr captured
 * through a pipe, lines to a syslog socket the test binds, and dropping
 * instead of blocking when either is full.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

struct esc {
	const char *src;
	size_t srclen;
	size_t dstlen;
	const char *want;
};

#define S(s) s, sizeof(s) - 1

static const struct esc escs[] = {
	{S("alice@example.org"), 64, "alice@example.org"},
	{S(""), 64, ""},
	{S("a b"), 64, "a\\x20b"},
	{S("k=v"), 64, "k\\x3dv"},
	{S("\"q\"\\"), 64, "\\x22q\\x22\\x5c"},
	{S("\r\n\t\x7f"), 64, "\\x0d\\x0a\\x09\\x7f"},
	{S("nul\0x"), 64, "nul\\x00x"},
	{S("J\xc3\xbcrgen"), 64, "J\\xc3\\xbcrgen"},
	{S("\xe2\x82\xac"), 64, "\\xe2\\x82\\xac"},
	{S("!~"), 64, "!~"},
	/* Exactly fits: 5 bytes and the NUL. */
	{S("abcde"), 6, "abcde"},
	/* One short: cut, and "..." takes the room of the last bytes. */
	{S("abcdef"), 6, "ab..."},
	{S("abcdefghij"), 8, "abcd..."},
	/* An escape is never split: "a\x20" does not fit before "...". */
	{S("a bcdef"), 8, "a..."},
	{S("a bcdef"), 9, "a\\x20..."},
	{S("\x01\x02"), 9, "\\x01\\x02"},
	{S("\x01\x02\x03"), 9, "\\x01..."},
	{S("abcdef"), 4, "..."},
	{S("abcdef"), 3, ".."},
	{S("abcdef"), 1, ""},
};

static void
test_escape(void **state)
{
	char dst[80]; /* room to see that nothing is written past dstlen */
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(escs) / sizeof(escs[0]); i++) {
		memset(dst, 'Z', sizeof(dst));
		assert_ptr_equal(log_escape(dst, escs[i].dstlen, escs[i].src,
					 escs[i].srclen),
			dst);
		if (strcmp(dst, escs[i].want) != 0)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, dst,
				escs[i].want);
		assert_int_equal(dst[escs[i].dstlen], 'Z');
	}

	/* Zero room: nothing written. */
	dst[0] = 'Z';
	log_escape(dst, 0, "abc", 3);
	assert_int_equal(dst[0], 'Z');
}

/* fd 2 replaced by the write end of a pipe; the read end is non-blocking. */
struct capture {
	int saved;
	int rd, wr;
};

static int
setup_capture(void **state)
{
	static struct capture cap;
	int p[2];

	if (pipe(p) != 0)
		return -1;
	cap.rd = p[0];
	cap.wr = p[1];
	fcntl(cap.rd, F_SETFL, O_NONBLOCK);
	cap.saved = dup(2);
	if (cap.saved < 0 || dup2(cap.wr, 2) < 0)
		return -1;
	log_open(LOG_TARGET_STDERR, LOG_LEVEL_DEBUG);
	*state = &cap;
	return 0;
}

static int
teardown_capture(void **state)
{
	struct capture *cap = *state;

	dup2(cap->saved, 2);
	close(cap->saved);
	close(cap->rd);
	close(cap->wr);
	log_set_syslog_path("/dev/log");
	log_open(LOG_TARGET_STDERR, LOG_LEVEL_INFO);
	return 0;
}

/* What the pipe holds now, as a string. */
static const char *
captured(struct capture *cap)
{
	static char buf[4096];
	ssize_t n = read(cap->rd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
test_stderr_line(void **state)
{
	struct capture *cap = *state;

	log_event(LOG_LEVEL_INFO, "3f2a", "connect", "addr=%s port=%d",
		"192.0.2.7", 51000);
	assert_string_equal(
		captured(cap), "3f2a connect addr=192.0.2.7 port=51000\n");

	log_event(LOG_LEVEL_ERROR, "-", "start", "%s", "");
	assert_string_equal(captured(cap), "- start\n");

	log_event(LOG_LEVEL_INFO, NULL, NULL, "%s", "");
	assert_string_equal(captured(cap), "- -\n");

	/* A caller that forgot log_escape still cannot forge a line. */
	log_event(LOG_LEVEL_WARNING, "1", "helo", "name=%s", "x\nfake line");
	assert_string_equal(captured(cap), "1 helo name=x?fake line\n");
}

static void
test_stderr_level(void **state)
{
	struct capture *cap = *state;

	log_set_level(LOG_LEVEL_WARNING);
	log_event(LOG_LEVEL_INFO, "1", "connect", "x=1");
	log_event(LOG_LEVEL_DEBUG, "1", "trace", "x=2");
	log_event(LOG_LEVEL_WARNING, "1", "auth", "result=fail");
	assert_string_equal(captured(cap), "1 auth result=fail\n");
	log_set_level(LOG_LEVEL_DEBUG);
	log_event(LOG_LEVEL_DEBUG, "1", "trace", "x=2");
	assert_string_equal(captured(cap), "1 trace x=2\n");
}

static void
test_stderr_cut(void **state)
{
	struct capture *cap = *state;
	char big[LOG_LINE_MAX * 2];
	const char *line;
	size_t len;

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_event(LOG_LEVEL_INFO, "77", "message", "k=%s", big);
	line = captured(cap);
	len = strlen(line);
	assert_int_equal(len, LOG_LINE_MAX);
	assert_memory_equal(line, "77 message k=vvv", 16);
	assert_string_equal(line + len - 5, "v...\n");

	/* A line that just fits is not cut. */
	big[LOG_LINE_MAX - 1 - strlen("77 message k=")] = '\0';
	log_event(LOG_LEVEL_INFO, "77", "message", "k=%s", big);
	line = captured(cap);
	assert_int_equal(strlen(line), LOG_LINE_MAX);
	assert_string_equal(line + LOG_LINE_MAX - 3, "vv\n");

	/* An overlong session id and event are cut too. */
	memset(big, 's', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_event(LOG_LEVEL_INFO, big, "x", "k=1");
	line = captured(cap);
	assert_int_equal(strlen(line), LOG_LINE_MAX);
	assert_string_equal(line + LOG_LINE_MAX - 5, "s...\n");
}

static void
on_alarm(int sig)
{
	(void)sig;
	fail_msg("log_event blocked");
}

/*
 * Fill the pipe, make it blocking again as a terminal would be, and log:
 * the line must be dropped and counted, not waited for. The alarm turns a
 * hang into a failure.
 */
static void
test_stderr_full(void **state)
{
	struct capture *cap = *state;
	char chunk[4096];
	unsigned long before;
	int flags = fcntl(cap->wr, F_GETFL);

	memset(chunk, 'f', sizeof(chunk));
	fcntl(cap->wr, F_SETFL, flags | O_NONBLOCK);
	while (write(cap->wr, chunk, sizeof(chunk)) > 0)
		;
	while (write(cap->wr, chunk, 1) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	fcntl(cap->wr, F_SETFL, flags & ~O_NONBLOCK);

	signal(SIGALRM, on_alarm);
	alarm(5);
	before = log_dropped();
	log_event(LOG_LEVEL_INFO, "9", "connect", "addr=%s", "192.0.2.9");
	log_event(LOG_LEVEL_ERROR, "9", "disconnect", "reason=%s", "eof");
	alarm(0);
	assert_int_equal(log_dropped(), before + 2);

	/* Filtered lines are not drops. */
	log_set_level(LOG_LEVEL_ERROR);
	log_event(LOG_LEVEL_INFO, "9", "connect", "x=1");
	assert_int_equal(log_dropped(), before + 2);
}

/* A datagram socket bound where the test tells the log to send. */
struct daemon {
	char path[64];
	int fd;
};

static void
daemon_bind(struct daemon *d)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, d->path, strlen(d->path) + 1);
	unlink(d->path);
	d->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(d->fd >= 0);
	assert_int_equal(bind(d->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

static const char *
daemon_recv(struct daemon *d)
{
	static char buf[1024];
	ssize_t n = recv(d->fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
test_syslog(void **state)
{
	struct capture *cap = *state;
	struct daemon d;
	char want[128];
	unsigned long before;
	int i;

	snprintf(d.path, sizeof(d.path), "/tmp/test_log.%ld", (long)getpid());
	daemon_bind(&d);
	log_set_syslog_path(d.path);
	log_open(LOG_TARGET_SYSLOG, LOG_LEVEL_INFO);

	/* Facility mail (2) times 8 plus the severity. */
	log_event(LOG_LEVEL_INFO, "5", "auth", "user=%s", "bob");
	snprintf(want, sizeof(want), "<22>postlet[%ld]: 5 auth user=bob",
		(long)getpid());
	assert_string_equal(daemon_recv(&d), want);
	log_event(LOG_LEVEL_ERROR, "-", "tls", "error=%s", "bad");
	snprintf(want, sizeof(want), "<19>postlet[%ld]: - tls error=bad",
		(long)getpid());
	assert_string_equal(daemon_recv(&d), want);
	log_event(LOG_LEVEL_WARNING, "6", "auth", "result=fail");
	assert_memory_equal(daemon_recv(&d), "<20>", 4);
	log_event(LOG_LEVEL_DEBUG, "6", "trace", "x=1");
	assert_string_equal(daemon_recv(&d), "");

	/* The daemon restarts: the next line reaches the new socket. */
	close(d.fd);
	daemon_bind(&d);
	log_event(LOG_LEVEL_INFO, "7", "connect", "x=1");
	snprintf(want, sizeof(want), "<22>postlet[%ld]: 7 connect x=1",
		(long)getpid());
	assert_string_equal(daemon_recv(&d), want);

	/* A daemon that reads nothing: lines are dropped, never waited for. */
	signal(SIGALRM, on_alarm);
	alarm(5);
	before = log_dropped();
	for (i = 0; i < 2000; i++)
		log_event(LOG_LEVEL_INFO, "8", "flood", "i=%d", i);
	alarm(0);
	assert_true(log_dropped() > before);

	/* The daemon is gone: dropped and counted, nothing on stderr. */
	close(d.fd);
	unlink(d.path);
	before = log_dropped();
	log_event(LOG_LEVEL_INFO, "9", "connect", "x=1");
	assert_int_equal(log_dropped(), before + 1);
	assert_string_equal(captured(cap), "");
}

static void
test_syslog_fallback(void **state)
{
	struct capture *cap = *state;

	log_set_syslog_path("/nonexistent/log");
	log_open(LOG_TARGET_SYSLOG, LOG_LEVEL_INFO);
	assert_string_equal(captured(cap),
		"- log target=stderr reason=\"/nonexistent/log: No such file "
		"or directory\"\n");
	log_event(LOG_LEVEL_INFO, "1", "connect", "x=1");
	assert_string_equal(captured(cap), "1 connect x=1\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test_setup_teardown(
			test_stderr_line, setup_capture, teardown_capture),
		cmocka_unit_test_setup_teardown(
			test_stderr_level, setup_capture, teardown_capture),
		cmocka_unit_test_setup_teardown(
			test_stderr_cut, setup_capture, teardown_capture),
		cmocka_unit_test_setup_teardown(
			test_stderr_full, setup_capture, teardown_capture),
		cmocka_unit_test_setup_teardown(
			test_syslog, setup_capture, teardown_capture),
		cmocka_unit_test_setup_teardown(
			test_syslog_fallback, setup_capture, teardown_capture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
