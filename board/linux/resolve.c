/*
 * Name resolution for the Linux board. Contract in resolve.h.
 *
 * getaddrinfo() and res_query() block, and a stub resolver of our own
 * would have to redo what the C library already gets right: resolv.conf
 * options and search domains, the hosts file, retries, the order of
 * addresses (RFC 6724). So a helper process, forked from the daemon, makes
 * the blocking calls one at a time, and the loop only waits on a socket.
 *
 * The socket is a SOCK_SEQPACKET pair: every request and every reply is
 * one fixed-size record, so neither side frames anything and a record is
 * never read in part. Requests carry an id; a reply whose id is no longer
 * pending (timed out, cancelled) is dropped.
 *
 * All callbacks run from the loop: replies from the socket's readiness
 * callback, failures from one lwIP timer armed for the earliest deadline.
 * A failure found inside resolve_addr (the helper died) is only marked
 * due now, so that no callback ever runs from inside a request call.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwip/timeouts.h"

#include "board.h"
#include "log.h"
#include "loop.h"
#include "resolve.h"
#include "resolve_srv.h"

/* An SRV answer beyond this is cut; the records read before still count. */
#define SRV_ANSWER_MAX 4096
#define NADDRS_MAX \
	(sizeof(((struct resolve_result *)0)->addrs) / \
		sizeof(((struct resolve_result *)0)->addrs[0]))

enum kind { KIND_ADDR = 1, KIND_SRV = 2 };

/* Daemon to helper. */
struct wire_request {
	uint32_t id;
	uint32_t kind;
	char name[RESOLVE_NAME_MAX + 1];
};

/* Helper to daemon; ip_addr_t crosses as is, both sides are one binary. */
struct wire_reply {
	uint32_t id;
	int32_t err;
	size_t nsrv;
	union {
		struct resolve_result addr;
		struct resolve_srv srv[RESOLVE_SRV_MAX];
	} u;
};

struct pending {
	uint32_t id; /* 0: slot free */
	uint32_t deadline; /* board_now_ms() at which fail_err is reported */
	int fail_err; /* TIMEOUT, or TEMP once the helper is lost */
	uint32_t gen; /* the helper it was sent to */
	void *arg;
	resolve_addr_fn addr_cb;
	resolve_srv_fn srv_cb;
};

static struct {
	int fd; /* our end of the socket; -1: no helper */
	int slot; /* its loop slot */
	pid_t pid;
	pid_t zombie; /* a killed helper not yet reaped, or 0 */
	uint32_t gen; /* helpers started so far */
	uint32_t last_id;
	uint32_t timeout_ms;
	struct pending pending[RESOLVE_PENDING_MAX];
	struct wire_reply reply; /* static: lent to one callback at a time */
} rs = {.fd = -1, .slot = -1, .timeout_ms = RESOLVE_TIMEOUT_MS};

/* ---- helper process ---------------------------------------------------
 *
 * Runs in the child only. It must not touch the loop, lwIP's timers or
 * the log, which belong to the daemon.
 */

static int
gai_error(int rc)
{
	switch (rc) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		return RESOLVE_ERR_NOTFOUND;
	default:
		/* EAI_AGAIN, EAI_FAIL (a server failed), EAI_SYSTEM, ... */
		return RESOLVE_ERR_TEMP;
	}
}

static void
addr_add(struct resolve_result *r, const struct sockaddr *sa)
{
	ip_addr_t a;
	size_t i;

	memset(&a, 0, sizeof(a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		IP_SET_TYPE_VAL(a, IPADDR_TYPE_V4);
		/* Both hold the address in network byte order. */
		ip4_addr_set_u32(ip_2_ip4(&a), sin->sin_addr.s_addr);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		IP_SET_TYPE_VAL(a, IPADDR_TYPE_V6);
		memcpy(ip_2_ip6(&a)->addr, &sin6->sin6_addr, 16);
		ip6_addr_clear_zone(ip_2_ip6(&a));
	} else {
		return;
	}
	for (i = 0; i < r->naddrs; i++)
		if (ip_addr_cmp(&r->addrs[i], &a))
			return;
	r->addrs[r->naddrs++] = a;
}

static void
helper_addr(const char *name, struct wire_reply *rep)
{
	struct addrinfo hints, *res, *ai;
	int rc;

	/*
	 * No AI_ADDRCONFIG: it ignores loopback, so a box whose only
	 * address is 127.0.0.1 would find nothing. The relay client tries
	 * the addresses in turn, and RFC 6724 sorting already puts the
	 * unreachable family last.
	 */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		rep->err = gai_error(rc);
		return;
	}
	for (ai = res; ai != NULL && rep->u.addr.naddrs < NADDRS_MAX;
		ai = ai->ai_next)
		if (ai->ai_addr != NULL)
			addr_add(&rep->u.addr, ai->ai_addr);
	freeaddrinfo(res);
	if (rep->u.addr.naddrs == 0)
		rep->err = RESOLVE_ERR_NOTFOUND;
}

static void
helper_srv(const char *name, struct wire_reply *rep)
{
	unsigned char ans[SRV_ANSWER_MAX];
	int len;

	h_errno = 0;
	len = res_query(name, C_IN, T_SRV, ans, sizeof(ans));
	if (len < 0) {
		rep->err = h_errno == HOST_NOT_FOUND || h_errno == NO_DATA
			? RESOLVE_ERR_NOTFOUND
			: RESOLVE_ERR_TEMP;
		return;
	}
	/* glibc returns the full length of an answer it had to cut. */
	if ((size_t)len > sizeof(ans))
		len = (int)sizeof(ans);
	rep->err = resolve_srv_parse(ans, (size_t)len, rep->u.srv, &rep->nsrv);
}

static int
close_range_sys(unsigned int lo, unsigned int hi)
{
#ifdef SYS_close_range
	return (int)syscall(SYS_close_range, lo, hi, 0u);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* Close descriptors lo..hi; the slow way on kernels before 5.9. */
static void
close_from(int lo, int hi)
{
	long max;
	int fd;

	if (lo > hi || close_range_sys((unsigned)lo, (unsigned)hi) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > hi)
		max = (long)hi + 1;
	for (fd = lo; fd < max; fd++)
		close(fd);
}

/*
 * The helper keeps nothing of the daemon's but its own socket and stdio.
 * A copy of a client's socket here would keep that connection open after
 * the daemon closed it, and a listener would stay bound. Signals meant
 * for the daemon (^C in the foreground, a reload) must not end it: it
 * ends when the daemon's end of the socket closes.
 */
static void
helper_detach(int fd)
{
	struct sigaction sa;
	sigset_t none;
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2};
	size_t i;

	close_from(3, fd - 1);
	close_from(fd + 1, 0x7fffffff);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static _Noreturn void
helper_main(int fd)
{
	static struct wire_request req;
	static struct wire_reply rep;
	ssize_t n;

	helper_detach(fd);
	for (;;) {
		n = recv(fd, &req, sizeof(req), 0);
		if (n == 0)
			_exit(0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		memset(&rep, 0, sizeof(rep));
		rep.id = req.id;
		req.name[sizeof(req.name) - 1] = '\0';
		if ((size_t)n != sizeof(req))
			rep.err = RESOLVE_ERR_TEMP;
		else if (req.kind == KIND_SRV)
			helper_srv(req.name, &rep);
		else
			helper_addr(req.name, &rep);
		while (send(fd, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
			if (errno != EINTR)
				_exit(1);
	}
}

/* ---- daemon side ----------------------------------------------------- */

static int
due(const struct pending *p, uint32_t now)
{
	return (int32_t)(p->deadline - now) <= 0;
}

static void on_timer(void *arg);

/* Arm the one timer for the earliest deadline, or leave it unarmed. */
static void
timer_update(void)
{
	uint32_t now = board_now_ms(), wait = UINT32_MAX, left;
	size_t i;

	sys_untimeout(on_timer, NULL);
	for (i = 0; i < RESOLVE_PENDING_MAX; i++) {
		if (rs.pending[i].id == 0)
			continue;
		left = due(&rs.pending[i], now) ? 0
						: rs.pending[i].deadline - now;
		if (left < wait)
			wait = left;
	}
	if (wait != UINT32_MAX)
		sys_timeout(wait, on_timer, NULL);
}

static void
reap(void)
{
	if (rs.zombie > 0 && waitpid(rs.zombie, NULL, WNOHANG) != 0)
		rs.zombie = 0;
}

/*
 * Let go of the helper, dead or stuck. What it still owed us fails with
 * RESOLVE_ERR_TEMP from the timer, soon, rather than from here: this may
 * run inside resolve_addr. The next request starts a new helper.
 */
static void
helper_drop(enum log_level level, const char *why)
{
	uint32_t now = board_now_ms();
	size_t i;

	if (rs.fd < 0)
		return;
	log_event(
		level, "-", "resolver", "state=%s pid=%ld", why, (long)rs.pid);
	loop_fd_remove(rs.slot);
	close(rs.fd);
	rs.fd = -1;
	rs.slot = -1;

	/*
	 * A helper killed earlier and still not reaped is waited for now; a
	 * SIGKILLed process is gone within moments, so this does not stall.
	 */
	if (rs.zombie > 0)
		waitpid(rs.zombie, NULL, 0);
	kill(rs.pid, SIGKILL);
	rs.zombie = rs.pid;
	reap();

	for (i = 0; i < RESOLVE_PENDING_MAX; i++) {
		struct pending *p = &rs.pending[i];

		if (p->id != 0 && !due(p, now)) {
			p->fail_err = RESOLVE_ERR_TEMP;
			p->deadline = now;
		}
	}
	timer_update();
}

static void
deliver(const struct pending *p, int err, const struct wire_reply *rep)
{
	if (p->srv_cb != NULL) {
		if (err != 0)
			p->srv_cb(p->arg, err, NULL, 0);
		else
			p->srv_cb(p->arg, 0, rep->u.srv, rep->nsrv);
	} else {
		p->addr_cb(p->arg, err, err != 0 ? NULL : &rep->u.addr);
	}
}

static void
on_timer(void *arg)
{
	uint32_t now = board_now_ms();
	struct pending p;
	size_t i;

	(void)arg;
	/*
	 * A request past its time while the helper lives means the helper
	 * is stuck on it or on one before it, and everything queued behind
	 * waits too: start over with a new one.
	 */
	for (i = 0; i < RESOLVE_PENDING_MAX; i++)
		if (rs.pending[i].id != 0 && due(&rs.pending[i], now) &&
			rs.pending[i].fail_err == RESOLVE_ERR_TIMEOUT &&
			rs.pending[i].gen == rs.gen) {
			helper_drop(LOG_LEVEL_WARNING, "stuck");
			break;
		}

	/* A callback may queue into a freed slot; its deadline is later. */
	for (i = 0; i < RESOLVE_PENDING_MAX; i++) {
		if (rs.pending[i].id == 0 || !due(&rs.pending[i], now))
			continue;
		p = rs.pending[i];
		rs.pending[i].id = 0;
		deliver(&p, p.fail_err, NULL);
	}
	timer_update();
}

/* The helper is our own code, but a bad count must not become a read. */
static int
reply_check(const struct wire_reply *r, const struct pending *p)
{
	if (r->err != 0)
		return r->err > 0 && r->err <= RESOLVE_ERR_TIMEOUT
			? r->err
			: RESOLVE_ERR_TEMP;
	if (p->srv_cb != NULL)
		return r->nsrv >= 1 && r->nsrv <= RESOLVE_SRV_MAX
			? 0
			: RESOLVE_ERR_TEMP;
	return r->u.addr.naddrs >= 1 && r->u.addr.naddrs <= NADDRS_MAX
		? 0
		: RESOLVE_ERR_TEMP;
}

static void
reply_dispatch(struct wire_reply *r)
{
	struct pending p;
	size_t i;

	for (i = 0; i < RESOLVE_PENDING_MAX; i++)
		if (rs.pending[i].id != 0 && rs.pending[i].id == r->id)
			break;
	/* Timed out or cancelled meanwhile: nobody waits for it. */
	if (i == RESOLVE_PENDING_MAX)
		return;
	p = rs.pending[i];
	rs.pending[i].id = 0;
	for (i = 0; i < RESOLVE_SRV_MAX; i++)
		r->u.srv[i].target[sizeof(r->u.srv[i].target) - 1] = '\0';
	deliver(&p, reply_check(r, &p), r);
}

static void
on_readable(void *arg, int fd, short revents)
{
	uint32_t gen = rs.gen;
	ssize_t n;

	(void)arg;
	for (;;) {
		n = recv(fd, &rs.reply, sizeof(rs.reply), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			helper_drop(LOG_LEVEL_ERROR, "lost");
			return;
		}
		if ((size_t)n == sizeof(rs.reply))
			reply_dispatch(&rs.reply);
		/*
		 * A callback's request may have replaced the helper, or lost
		 * it and let the descriptor's number go to someone else.
		 */
		if (rs.fd != fd || rs.gen != gen)
			return;
	}
	if (revents & (POLLERR | POLLNVAL))
		helper_drop(LOG_LEVEL_ERROR, "lost");
}

static int
helper_start(void)
{
	int sv[2];
	pid_t pid;

	reap();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		goto fail_socket;
	if (pid == 0) {
		close(sv[0]);
		helper_main(sv[1]);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0)
		goto fail_child;
	rs.slot = loop_fd_add(sv[0], POLLIN, on_readable, NULL);
	if (rs.slot < 0)
		goto fail_child;
	rs.fd = sv[0];
	rs.pid = pid;
	rs.gen++;
	return 0;

fail_child:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
fail_socket:
	close(sv[0]);
	if (pid < 0)
		close(sv[1]);
	return -1;
}

int
resolve_init(void)
{
	return rs.fd >= 0 ? 0 : helper_start();
}

static struct pending *
pending_free_slot(void)
{
	size_t i;

	for (i = 0; i < RESOLVE_PENDING_MAX; i++)
		if (rs.pending[i].id == 0)
			return &rs.pending[i];
	return NULL;
}

static uint32_t
next_id(void)
{
	/* 0 marks a free slot; ids wrap after four billion requests. */
	if (++rs.last_id == 0)
		rs.last_id = 1;
	return rs.last_id;
}

/*
 * Hand req to a helper, starting one if there is none. A helper that died
 * since the last request is found here (EPIPE): drop it, start another and
 * try once more. Returns 0 or -1.
 */
static int
request_send(const struct wire_request *req)
{
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (rs.fd < 0 && helper_start() != 0)
			return -1;
		if (send(rs.fd, req, sizeof(*req),
			    MSG_NOSIGNAL | MSG_DONTWAIT) ==
			(ssize_t)sizeof(*req))
			return 0;
		/* A full socket: the helper is busy with cancelled work. */
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -1;
		helper_drop(LOG_LEVEL_ERROR, "lost");
	}
	return -1;
}

static int
request(enum kind kind, const char *name, resolve_addr_fn addr_cb,
	resolve_srv_fn srv_cb, void *arg)
{
	struct wire_request req;
	struct pending *p;
	size_t len;

	if (name == NULL || (addr_cb == NULL && srv_cb == NULL))
		return -1;
	len = strnlen(name, sizeof(req.name));
	if (len == 0 || len > RESOLVE_NAME_MAX)
		return -1;
	p = pending_free_slot();
	if (p == NULL)
		return -1;

	memset(&req, 0, sizeof(req));
	req.id = next_id();
	req.kind = kind;
	memcpy(req.name, name, len);
	if (request_send(&req) != 0)
		return -1;

	p->id = req.id;
	p->deadline = board_now_ms() + rs.timeout_ms;
	p->fail_err = RESOLVE_ERR_TIMEOUT;
	p->gen = rs.gen;
	p->arg = arg;
	p->addr_cb = addr_cb;
	p->srv_cb = srv_cb;
	timer_update();
	return 0;
}

int
resolve_addr(const char *name, resolve_addr_fn cb, void *arg)
{
	return request(KIND_ADDR, name, cb, NULL, arg);
}

int
resolve_srv(const char *name, resolve_srv_fn cb, void *arg)
{
	return request(KIND_SRV, name, NULL, cb, arg);
}

void
resolve_cancel(void *arg)
{
	size_t i;

	for (i = 0; i < RESOLVE_PENDING_MAX; i++)
		if (rs.pending[i].id != 0 && rs.pending[i].arg == arg)
			rs.pending[i].id = 0;
}

void
resolve_set_timeout(uint32_t ms)
{
	rs.timeout_ms = ms > 0 ? ms : 1;
}

const char *
resolve_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case RESOLVE_ERR_NOTFOUND:
		return "no such name or record";
	case RESOLVE_ERR_TEMP:
		return "temporary resolver failure";
	case RESOLVE_ERR_TIMEOUT:
		return "resolver timed out";
	default:
		return "unknown resolver error";
	}
}
