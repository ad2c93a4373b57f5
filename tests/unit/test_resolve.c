/*
 * The Linux board's resolver: the SRV answer parser against known
 * answers, then the real helper process driven through the loop.
 *
 * No lookup here may leave the machine. Without POSTLET_TEST_DNS only
 * literals and the hosts file are used. The DNS cases need the private
 * network namespace that tests/unit/run-resolve-netns sets up, with its
 * own resolv.conf and hosts file and a dnsmasq on 127.0.0.1 serving the
 * records below; they skip when that is not there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "lwip/init.h"

#include "board.h"
#include "loop.h"
#include "resolve.h"
#include "resolve_srv.h"

/* Drive the loop until cond holds or ms pass; the caller asserts cond. */
#define RUN_UNTIL(cond, ms) \
	do { \
		uint32_t t0_ = board_now_ms(); \
		while (!(cond) && board_now_ms() - t0_ < (ms)) \
			loop_run_once(10); \
	} while (0)

/* Where dnsmasq, started by run-resolve-netns, forwards blackhole.test. */
#define BLACKHOLE_PORT 5399

/* What one callback saw. */
struct seen {
	int calls;
	int err;
	struct resolve_result r;
	struct resolve_srv srv[RESOLVE_SRV_MAX];
	size_t nsrv;
	uint32_t at_ms;
};

static void
on_addr(void *arg, int err, const struct resolve_result *r)
{
	struct seen *s = arg;

	s->calls++;
	s->err = err;
	s->at_ms = board_now_ms();
	if (err == 0) {
		assert_non_null(r);
		s->r = *r;
	} else {
		assert_null(r);
	}
}

static void
on_srv(void *arg, int err, const struct resolve_srv *srv, size_t n)
{
	struct seen *s = arg;

	s->calls++;
	s->err = err;
	s->nsrv = n;
	if (err == 0) {
		assert_non_null(srv);
		assert_true(n >= 1 && n <= RESOLVE_SRV_MAX);
		memcpy(s->srv, srv, n * sizeof(*srv));
	} else {
		assert_null(srv);
		assert_int_equal(n, 0);
	}
}

static int
dns_available(void)
{
	return getenv("POSTLET_TEST_DNS") != NULL;
}

static int
has_addr(const struct resolve_result *r, const char *text)
{
	ip_addr_t want;
	size_t i;

	assert_true(ipaddr_aton(text, &want));
	for (i = 0; i < r->naddrs; i++)
		if (ip_addr_cmp(&r->addrs[i], &want))
			return 1;
	return 0;
}

/* The state letter of a process from /proc, or 0 when it is gone. */
static char
proc_state(long pid)
{
	char path[64], state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	/* "pid (comm) S ...": our comm has no spaces or parentheses. */
	if (fscanf(f, "%*d %*s %c", &state) != 1)
		state = 0;
	fclose(f);
	return state;
}

/*
 * The helper's pid: the test process has no other child, though a killed
 * helper may linger as a zombie until the resolver reaps it.
 */
static pid_t
helper_pid(void)
{
	char path[64];
	long pid, found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
		(long)getpid());
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fscanf(f, "%ld", &pid) == 1)
		if (proc_state(pid) != 'Z')
			found = pid;
	fclose(f);
	return (pid_t)found;
}

/* Wait until a killed process has exited (is a zombie or gone). */
static void
wait_exit(pid_t pid)
{
	int i;
	char st;

	for (i = 0; i < 500; i++) {
		st = proc_state(pid);
		if (st == 0 || st == 'Z')
			return;
		usleep(1000);
	}
	fail_msg("process %ld did not exit", (long)pid);
}

/* ---- known answers for the parser ------------------------------------ */

struct msg {
	unsigned char b[2048];
	size_t len;
};

static void
put8(struct msg *m, unsigned int v)
{
	assert_true(m->len < sizeof(m->b));
	m->b[m->len++] = (unsigned char)v;
}

static void
put16(struct msg *m, unsigned int v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

/* A dotted name as labels; "" is the root. */
static void
put_name(struct msg *m, const char *name)
{
	const char *dot;
	size_t n;

	while (*name != '\0') {
		dot = strchr(name, '.');
		n = dot != NULL ? (size_t)(dot - name) : strlen(name);
		put8(m, (unsigned int)n);
		assert_true(m->len + n <= sizeof(m->b));
		memcpy(m->b + m->len, name, n);
		m->len += n;
		name += n;
		if (*name == '.')
			name++;
	}
	put8(m, 0);
}

/* Header and one question for name, type SRV. */
static void
msg_start(struct msg *m, unsigned int rcode, unsigned int ancount)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);
	put16(m, 0x8180 | rcode);
	put16(m, 1);
	put16(m, ancount);
	put16(m, 0);
	put16(m, 0);
	put_name(m, "_submissions._tcp.example.test");
	put16(m, 33);
	put16(m, 1);
}

/* One answer record; the owner points back at the question (offset 12). */
static void
msg_rr(struct msg *m, unsigned int type, const unsigned char *rdata,
	size_t rdlen)
{
	put16(m, 0xc000 | 12);
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 300);
	put16(m, (unsigned int)rdlen);
	assert_true(m->len + rdlen <= sizeof(m->b));
	memcpy(m->b + m->len, rdata, rdlen);
	m->len += rdlen;
}

static void
msg_srv(struct msg *m, unsigned int prio, unsigned int weight,
	unsigned int port, const char *target)
{
	struct msg rd = {.len = 0};

	put16(&rd, prio);
	put16(&rd, weight);
	put16(&rd, port);
	put_name(&rd, target);
	msg_rr(m, 33, rd.b, rd.len);
}

static int
parse(const struct msg *m, size_t len, struct resolve_srv *out, size_t *n)
{
	memset(out, 0xa5, RESOLVE_SRV_MAX * sizeof(*out));
	return resolve_srv_parse(m->b, len, out, n);
}

static void
test_parse_sorted(void **state)
{
	struct resolve_srv out[RESOLVE_SRV_MAX];
	struct msg m;
	size_t n;

	(void)state;
	msg_start(&m, 0, 4);
	msg_srv(&m, 20, 0, 587, "d.example.test");
	msg_srv(&m, 0, 1, 587, "a.example.test");
	msg_srv(&m, 10, 5, 465, "b.example.test.");
	msg_srv(&m, 0, 60, 587, "c.example.test");
	assert_int_equal(parse(&m, m.len, out, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(out[0].target, "c.example.test");
	assert_int_equal(out[0].weight, 60);
	assert_string_equal(out[1].target, "a.example.test");
	assert_string_equal(out[2].target, "b.example.test");
	assert_int_equal(out[2].port, 465);
	assert_int_equal(out[2].priority, 10);
	assert_string_equal(out[3].target, "d.example.test");
}

static void
test_parse_errors(void **state)
{
	struct resolve_srv out[RESOLVE_SRV_MAX];
	struct msg m;
	size_t n;

	(void)state;
	msg_start(&m, 3, 0); /* NXDOMAIN */
	assert_int_equal(parse(&m, m.len, out, &n), RESOLVE_ERR_NOTFOUND);
	msg_start(&m, 2, 0); /* SERVFAIL */
	assert_int_equal(parse(&m, m.len, out, &n), RESOLVE_ERR_TEMP);
	msg_start(&m, 0, 0); /* NODATA */
	assert_int_equal(parse(&m, m.len, out, &n), RESOLVE_ERR_NOTFOUND);
	assert_int_equal(parse(&m, 11, out, &n), RESOLVE_ERR_TEMP);
	assert_int_equal(n, 0);

	/* RFC 2782: "." alone says the service is not offered here. */
	msg_start(&m, 0, 1);
	msg_srv(&m, 0, 0, 0, "");
	assert_int_equal(parse(&m, m.len, out, &n), RESOLVE_ERR_NOTFOUND);

	/* A target that is no host name is skipped. */
	msg_start(&m, 0, 2);
	msg_srv(&m, 0, 0, 25, "bad host.example.test");
	msg_srv(&m, 0, 0, 25, "bad\001.example.test");
	assert_int_equal(parse(&m, m.len, out, &n), RESOLVE_ERR_NOTFOUND);
}

static void
test_parse_shapes(void **state)
{
	static const unsigned char cname[] = {4, 'm', 'a', 'i', 'l', 0xc0, 12};
	static const unsigned char loop[] = {0, 1, 0, 2, 0, 25, 0xc0, 0};
	struct resolve_srv out[RESOLVE_SRV_MAX];
	unsigned char rd[64];
	struct msg m;
	size_t n, keep;

	(void)state;
	/* A CNAME first is stepped over. */
	msg_start(&m, 0, 2);
	msg_rr(&m, 5, cname, sizeof(cname));
	msg_srv(&m, 1, 2, 587, "relay.example.test");
	assert_int_equal(parse(&m, m.len, out, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].target, "relay.example.test");

	/* A target compressed against the question's name. */
	memcpy(rd,
		(const unsigned char[]){0, 1, 0, 2, 0, 25, 4, 'm', 'a', 'i',
			'l', 0xc0, 12 + 18},
		13);
	msg_start(&m, 0, 1);
	msg_rr(&m, 33, rd, 13);
	assert_int_equal(parse(&m, m.len, out, &n), 0);
	assert_string_equal(out[0].target, "mail.example.test");

	/* A pointer to itself, then a cut answer keeps what came before. */
	msg_start(&m, 0, 2);
	msg_srv(&m, 0, 0, 465, "first.example.test");
	keep = m.len;
	msg_rr(&m, 33, loop, sizeof(loop));
	m.b[m.len - 1] = (unsigned char)(m.len - 2);
	assert_int_equal(parse(&m, m.len, out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(parse(&m, keep + 5, out, &n), 0);
	assert_int_equal(n, 1);

	/* Cut inside the only record: nothing usable, a server fault. */
	msg_start(&m, 0, 1);
	msg_srv(&m, 0, 0, 465, "only.example.test");
	assert_int_equal(parse(&m, m.len - 3, out, &n), RESOLVE_ERR_TEMP);

	/* rdlength beyond the message (rdata here is 6 + 19 bytes). */
	m.b[m.len - 27] = 0xff;
	assert_int_equal(parse(&m, m.len, out, &n), RESOLVE_ERR_TEMP);
}

static void
test_parse_keeps_best(void **state)
{
	struct resolve_srv out[RESOLVE_SRV_MAX];
	char name[32];
	struct msg m;
	size_t n;
	unsigned int i;

	(void)state;
	/* Twelve records, priority 11 down to 0: the best eight stay. */
	msg_start(&m, 0, 12);
	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "h%u.example.test", 11 - i);
		msg_srv(&m, 11 - i, 0, 587, name);
	}
	assert_int_equal(parse(&m, m.len, out, &n), 0);
	assert_int_equal(n, RESOLVE_SRV_MAX);
	for (i = 0; i < RESOLVE_SRV_MAX; i++) {
		snprintf(name, sizeof(name), "h%u.example.test", i);
		assert_int_equal(out[i].priority, i);
		assert_string_equal(out[i].target, name);
	}
}

/* Every prefix of a good answer: no read past len (ASan), no garbage. */
static void
test_parse_prefixes(void **state)
{
	struct resolve_srv out[RESOLVE_SRV_MAX];
	struct msg m;
	unsigned char *copy;
	size_t len, n;
	int rc;

	(void)state;
	msg_start(&m, 0, 3);
	msg_srv(&m, 0, 5, 465, "mail.example.test");
	msg_srv(&m, 1, 5, 587, "");
	msg_srv(&m, 2, 5, 587, "backup.example.test");
	for (len = 0; len <= m.len; len++) {
		/* An exact-size heap copy, so ASan sees a read past it. */
		copy = malloc(len > 0 ? len : 1);
		assert_non_null(copy);
		memcpy(copy, m.b, len);
		rc = resolve_srv_parse(copy, len, out, &n);
		free(copy);
		if (rc == 0)
			assert_string_equal(out[0].target, "mail.example.test");
		else
			assert_int_equal(n, 0);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 2);
}

/* ---- the helper, through the loop ------------------------------------ */

static void
test_literal_v4(void **state)
{
	struct seen s = {0};

	(void)state;
	assert_int_equal(resolve_addr("192.0.2.1", on_addr, &s), 0);
	/* Never from inside the call. */
	assert_int_equal(s.calls, 0);
	RUN_UNTIL(s.calls > 0, 5000);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.r.naddrs, 1);
	assert_true(IP_IS_V4(&s.r.addrs[0]));
	assert_true(has_addr(&s.r, "192.0.2.1"));
}

static void
test_literal_v6(void **state)
{
	struct seen s = {0};

	(void)state;
	assert_int_equal(resolve_addr("2001:db8::25", on_addr, &s), 0);
	RUN_UNTIL(s.calls > 0, 5000);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.r.naddrs, 1);
	assert_true(IP_IS_V6(&s.r.addrs[0]));
	assert_true(has_addr(&s.r, "2001:db8::25"));
}

/* Outside the namespace only "localhost", which the hosts file answers. */
static void
test_hosts_file(void **state)
{
	const char *name = dns_available() ? "relay.hosts.test" : "localhost";
	struct seen s = {0};

	(void)state;
	assert_int_equal(resolve_addr(name, on_addr, &s), 0);
	RUN_UNTIL(s.calls > 0, 5000);
	assert_int_equal(s.err, 0);
	if (dns_available()) {
		assert_int_equal(s.r.naddrs, 2);
		assert_true(has_addr(&s.r, "192.0.2.25"));
		assert_true(has_addr(&s.r, "2001:db8::25"));
	} else {
		assert_true(
			has_addr(&s.r, "127.0.0.1") || has_addr(&s.r, "::1"));
	}
}

static void
test_bad_requests(void **state)
{
	char name[RESOLVE_NAME_MAX + 2];
	struct seen s[RESOLVE_PENDING_MAX + 1];
	size_t i;

	(void)state;
	memset(s, 0, sizeof(s));
	assert_int_equal(resolve_addr("", on_addr, &s[0]), -1);
	assert_int_equal(resolve_addr(NULL, on_addr, &s[0]), -1);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(resolve_addr(name, on_addr, &s[0]), -1);
	/* Looking it up would ask a name server: only in the namespace. */
	name[RESOLVE_NAME_MAX] = '\0';
	if (dns_available()) {
		assert_int_equal(resolve_addr(name, on_addr, &s[0]), 0);
		resolve_cancel(&s[0]);
	}

	/* Every slot taken: busy, until the loop has answered them. */
	for (i = 0; i < RESOLVE_PENDING_MAX; i++)
		assert_int_equal(resolve_addr("192.0.2.9", on_addr, &s[i]), 0);
	assert_int_equal(resolve_addr("192.0.2.9", on_addr, &s[i]), -1);
	RUN_UNTIL(s[RESOLVE_PENDING_MAX - 1].calls > 0, 5000);
	for (i = 0; i < RESOLVE_PENDING_MAX; i++) {
		assert_int_equal(s[i].calls, 1);
		assert_int_equal(s[i].err, 0);
	}
	assert_int_equal(s[i].calls, 0);
	assert_int_equal(resolve_addr("192.0.2.9", on_addr, &s[i]), 0);
	RUN_UNTIL(s[i].calls > 0, 5000);
	assert_int_equal(s[i].err, 0);
}

static void
test_cancel(void **state)
{
	struct seen gone = {0}, kept = {0};

	(void)state;
	assert_int_equal(resolve_addr("192.0.2.1", on_addr, &gone), 0);
	assert_int_equal(resolve_addr("192.0.2.2", on_addr, &kept), 0);
	assert_int_equal(resolve_addr("::1", on_addr, &gone), 0);
	resolve_cancel(&gone);
	RUN_UNTIL(kept.calls > 0, 5000);
	assert_int_equal(kept.err, 0);
	assert_true(has_addr(&kept.r, "192.0.2.2"));
	/* Give the cancelled answers time to arrive and be dropped. */
	RUN_UNTIL(0, 200);
	assert_int_equal(gone.calls, 0);
	resolve_cancel(&gone); /* nothing left: harmless */
}

/* A callback that queues the next step, as the relay client will. */
struct chain {
	struct seen first, second;
};

static void
on_first(void *arg, int err, const struct resolve_result *r)
{
	struct chain *c = arg;

	on_addr(&c->first, err, r);
	assert_int_equal(resolve_addr("2001:db8::2", on_addr, &c->second), 0);
	assert_int_equal(c->second.calls, 0);
}

static void
test_callback_requeues(void **state)
{
	struct chain c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(resolve_addr("192.0.2.1", on_first, &c), 0);
	RUN_UNTIL(c.second.calls > 0, 5000);
	assert_int_equal(c.first.err, 0);
	assert_int_equal(c.second.err, 0);
	assert_true(has_addr(&c.second.r, "2001:db8::2"));
}

/*
 * The helper dies with a request inside: it fails with RESOLVE_ERR_TEMP,
 * and the next request starts a new helper. SIGSTOP first makes sure the
 * request is still unanswered when the helper goes.
 */
static void
test_helper_killed(void **state)
{
	struct seen lost = {0}, next = {0};
	pid_t pid, pid2;

	(void)state;
	assert_int_equal(resolve_addr("192.0.2.3", on_addr, &next), 0);
	RUN_UNTIL(next.calls > 0, 5000);
	pid = helper_pid();
	assert_true(pid > 0);

	assert_int_equal(kill(pid, SIGSTOP), 0);
	assert_int_equal(resolve_addr("192.0.2.4", on_addr, &lost), 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	RUN_UNTIL(lost.calls > 0, 5000);
	assert_int_equal(lost.calls, 1);
	assert_int_equal(lost.err, RESOLVE_ERR_TEMP);

	memset(&next, 0, sizeof(next));
	assert_int_equal(resolve_addr("192.0.2.5", on_addr, &next), 0);
	RUN_UNTIL(next.calls > 0, 5000);
	assert_int_equal(next.err, 0);
	assert_true(has_addr(&next.r, "192.0.2.5"));
	pid2 = helper_pid();
	assert_true(pid2 > 0 && pid2 != pid);

	/* Killed while idle: found at the next request, which still works. */
	assert_int_equal(kill(pid2, SIGKILL), 0);
	wait_exit(pid2);
	memset(&next, 0, sizeof(next));
	assert_int_equal(resolve_addr("192.0.2.6", on_addr, &next), 0);
	RUN_UNTIL(next.calls > 0, 5000);
	assert_int_equal(next.err, 0);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(resolve_strerror(0), "ok");
	assert_non_null(resolve_strerror(RESOLVE_ERR_NOTFOUND));
	assert_non_null(resolve_strerror(RESOLVE_ERR_TEMP));
	assert_non_null(resolve_strerror(RESOLVE_ERR_TIMEOUT));
	assert_non_null(resolve_strerror(-7));
}

/* ---- through dnsmasq, inside the namespace --------------------------- */

static void
test_dns_name(void **state)
{
	struct seen s = {0};

	(void)state;
	if (!dns_available())
		skip();
	assert_int_equal(resolve_addr("mail.example.test", on_addr, &s), 0);
	RUN_UNTIL(s.calls > 0, 10000);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.r.naddrs, 2);
	assert_true(has_addr(&s.r, "192.0.2.7"));
	assert_true(has_addr(&s.r, "2001:db8::7"));
}

static void
test_dns_notfound(void **state)
{
	struct seen s = {0}, v = {0};

	(void)state;
	if (!dns_available())
		skip();
	assert_int_equal(resolve_addr("nosuch.example.test", on_addr, &s), 0);
	assert_int_equal(
		resolve_srv("_submission._tcp.nosuch.example.test", on_srv, &v),
		0);
	RUN_UNTIL(s.calls > 0 && v.calls > 0, 10000);
	assert_int_equal(s.err, RESOLVE_ERR_NOTFOUND);
	assert_int_equal(v.err, RESOLVE_ERR_NOTFOUND);
}

static void
test_dns_srv(void **state)
{
	struct seen s = {0}, one = {0};

	(void)state;
	if (!dns_available())
		skip();
	assert_int_equal(
		resolve_srv("_submission._tcp.example.test", on_srv, &s), 0);
	assert_int_equal(
		resolve_srv("_submissions._tcp.example.test", on_srv, &one), 0);
	RUN_UNTIL(s.calls > 0 && one.calls > 0, 10000);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.nsrv, 4);
	assert_string_equal(s.srv[0].target, "c.example.test");
	assert_string_equal(s.srv[1].target, "a.example.test");
	assert_string_equal(s.srv[2].target, "b.example.test");
	assert_string_equal(s.srv[3].target, "d.example.test");
	assert_int_equal(s.srv[0].port, 587);
	assert_int_equal(s.srv[2].priority, 10);

	assert_int_equal(one.err, 0);
	assert_int_equal(one.nsrv, 1);
	assert_string_equal(one.srv[0].target, "mail.example.test");
	assert_int_equal(one.srv[0].port, 465);
	assert_int_equal(one.srv[0].weight, 5);
}

static void
test_dns_srv_dot(void **state)
{
	struct seen s = {0};

	(void)state;
	if (!dns_available())
		skip();
	assert_int_equal(
		resolve_srv("_submissions._tcp.nosrv.example.test", on_srv, &s),
		0);
	RUN_UNTIL(s.calls > 0, 10000);
	assert_int_equal(s.err, RESOLVE_ERR_NOTFOUND);
}

/*
 * No server where resolv.conf points (ICMP port unreachable): the answer
 * is an error soon, long before the request's own timeout.
 */
static void
test_dns_no_server(void **state)
{
	const char *conf = getenv("POSTLET_TEST_RESOLV_CONF");
	struct seen s = {0};
	uint32_t t0;
	FILE *f;

	(void)state;
	if (!dns_available() || conf == NULL)
		skip();
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs("nameserver 127.0.0.2\noptions timeout:1 attempts:1\n", f);
	assert_int_equal(fclose(f), 0);

	t0 = board_now_ms();
	assert_int_equal(resolve_addr("other.example.test", on_addr, &s), 0);
	RUN_UNTIL(s.calls > 0, 10000);
	assert_int_equal(s.calls, 1);
	assert_true(s.err == RESOLVE_ERR_NOTFOUND || s.err == RESOLVE_ERR_TEMP);
	assert_true(s.at_ms - t0 < 5000);

	f = fopen(conf, "w");
	assert_non_null(f);
	fputs("nameserver 127.0.0.1\n", f);
	assert_int_equal(fclose(f), 0);
}

/*
 * dnsmasq forwards blackhole.test to a socket here that never answers:
 * the request times out, the stuck helper is replaced, and a request
 * after it is answered.
 */
static void
test_dns_timeout(void **state)
{
	struct sockaddr_in sin;
	struct seen s = {0}, next = {0};
	pid_t pid;
	int sink;

	(void)state;
	if (!dns_available())
		skip();
	sink = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(sink >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(BLACKHOLE_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(sink, (struct sockaddr *)&sin, sizeof(sin)), 0);

	pid = helper_pid();
	resolve_set_timeout(300);
	assert_int_equal(resolve_addr("slow.blackhole.test", on_addr, &s), 0);
	resolve_set_timeout(RESOLVE_TIMEOUT_MS);
	RUN_UNTIL(s.calls > 0, 5000);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, RESOLVE_ERR_TIMEOUT);

	assert_int_equal(resolve_addr("192.0.2.8", on_addr, &next), 0);
	RUN_UNTIL(next.calls > 0, 5000);
	assert_int_equal(next.err, 0);
	assert_true(helper_pid() != pid);
	/* The late answer, if any, reaches nobody. */
	RUN_UNTIL(0, 200);
	assert_int_equal(s.calls, 1);
	close(sink);
}

static int
group_setup(void **state)
{
	(void)state;
	lwip_init();
	if (loop_init(8) != 0 || resolve_init() != 0)
		return -1;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_sorted),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_shapes),
		cmocka_unit_test(test_parse_keeps_best),
		cmocka_unit_test(test_parse_prefixes),
		cmocka_unit_test(test_literal_v4),
		cmocka_unit_test(test_literal_v6),
		cmocka_unit_test(test_hosts_file),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_callback_requeues),
		cmocka_unit_test(test_helper_killed),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_dns_name),
		cmocka_unit_test(test_dns_notfound),
		cmocka_unit_test(test_dns_srv),
		cmocka_unit_test(test_dns_srv_dot),
		cmocka_unit_test(test_dns_no_server),
		cmocka_unit_test(test_dns_timeout),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
