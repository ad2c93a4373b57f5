/*
 * The relay client against a scripted upstream over an in-memory pipe:
 * each script is the upstream's side of a dialogue, "S:" lines it sends,
 * "C:" lines it expects from postlet. The clock, the resolver and
 * board_pcb_new are stand-ins defined here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cmocka.h>

#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/priv/altcp_priv.h"
#include "lwip/timeouts.h"

#include "board.h"
#include "pipe_altcp.h"
#include "relay/relay.h"
#include "resolve.h"
#include "tls/tls.h"

#define PKI(f) PKI_DIR "/" f
#define BUF_MAX 65536
#define TLS_RECORD 4096

/* The clock and entropy of the board, under the test's control. */
static uint32_t now_ms = 1000;

uint32_t
board_now_ms(void)
{
	return now_ms;
}

u32_t
sys_now(void)
{
	return now_ms;
}

int
board_entropy(void *buf, size_t len)
{
	return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

unsigned int
postlet_lwip_rand(void)
{
	return (unsigned)rand();
}

/* What board_pcb_new hands out next. */
enum plan { PLAN_PIPE, PLAN_REFUSE, PLAN_SILENT, PLAN_NONE };

static struct {
	enum plan plan[4];
	size_t nplan, next;
	u16_t sndbuf;
	size_t piece;
	struct pipe_pair *pp;
	struct altcp_pcb *srv; /* the upstream's end */
	struct altcp_pcb *connecting; /* connected is due */
	struct altcp_pcb *refusing; /* err(ERR_RST) is due */
	struct altcp_pcb *silent; /* never answers */
	ip_addr_t connected_to[4];
	size_t nconnects;
	const char *const *script;
	size_t step;
	char rx[BUF_MAX];
	size_t rxlen;
	char out[BUF_MAX];
	size_t outlen;
	char body[BUF_MAX];
	size_t bodylen;
	int srv_eof;
	struct tls_server_config *tls;
	struct tls_conn tc;
	unsigned char *tls_buf;
} up;

/* The owner: what the relay told it, and the body it writes. */
static struct {
	struct relay r;
	struct tls_conn tc;
	unsigned char *tls_buf;
	struct relay_conf conf;
	struct tls_client_config *tls;
	char events[BUF_MAX];
	char trace[BUF_MAX];
	const char *body;
	size_t bodylen, bodyoff;
	int writable;
	int end_result;
} own;

/* The resolver stand-in: requests wait for resolve_answer_*. */
static struct {
	resolve_addr_fn acb;
	resolve_srv_fn scb;
	void *arg;
	char name[300];
	int requests;
} res;

int
resolve_addr(const char *name, resolve_addr_fn cb, void *arg)
{
	snprintf(res.name, sizeof(res.name), "%s", name);
	res.acb = cb;
	res.arg = arg;
	res.requests++;
	return 0;
}

int
resolve_srv(const char *name, resolve_srv_fn cb, void *arg)
{
	snprintf(res.name, sizeof(res.name), "%s", name);
	res.scb = cb;
	res.arg = arg;
	res.requests++;
	return 0;
}

void
resolve_cancel(void *arg)
{
	if (res.arg == arg)
		res.acb = NULL, res.scb = NULL;
}

const char *
resolve_strerror(int err)
{
	return err == RESOLVE_ERR_NOTFOUND ? "no such name" : "failure";
}

static void
answer_addrs(const char *a, const char *b)
{
	struct resolve_result rr;
	resolve_addr_fn cb = res.acb;

	memset(&rr, 0, sizeof(rr));
	assert_non_null(cb);
	assert_true(ipaddr_aton(a, &rr.addrs[rr.naddrs++]));
	if (b != NULL)
		assert_true(ipaddr_aton(b, &rr.addrs[rr.naddrs++]));
	res.acb = NULL;
	cb(res.arg, 0, &rr);
}

static void
append(char *buf, size_t *len, const char *s, size_t n)
{
	assert_true(*len + n < BUF_MAX);
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

static void
events_add(const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	size_t i;
	size_t len = strlen(own.events);

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (i = 0; line[i] != '\0'; i++) {
		if (line[i] == '\n')
			line[i] = '|';
	}
	append(own.events, &len, line, strlen(line));
	append(own.events, &len, "\n", 1);
}

/* The upstream's side. */

static void
srv_flush(void)
{
	while (up.outlen > 0 && up.srv != NULL) {
		size_t n = altcp_sndbuf(up.srv);

		if (n > up.outlen)
			n = up.outlen;
		if (n == 0 ||
			altcp_write(up.srv, up.out, (u16_t)n,
				TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		memmove(up.out, up.out + n, up.outlen - n);
		up.outlen -= n;
	}
	if (up.srv != NULL)
		altcp_output(up.srv);
}

static err_t
srv_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
	char tmp[2048];

	(void)arg;
	(void)err;
	if (p == NULL) {
		up.srv_eof = 1;
		return ERR_OK;
	}
	while (p->tot_len > 0) {
		u16_t n = pbuf_copy_partial(p, tmp, sizeof(tmp), 0);

		append(up.rx, &up.rxlen, tmp, n);
		altcp_recved(pcb, n);
		p = pbuf_free_header(p, n);
		if (p == NULL)
			break;
	}
	if (p != NULL)
		pbuf_free(p);
	return ERR_OK;
}

static err_t
srv_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
	(void)arg;
	(void)pcb;
	(void)len;
	srv_flush();
	return ERR_OK;
}

static void
srv_err(void *arg, err_t err)
{
	(void)arg;
	(void)err;
	up.srv = NULL;
}

static void
srv_hook(struct altcp_pcb *pcb)
{
	up.srv = pcb;
	altcp_arg(pcb, NULL);
	altcp_recv(pcb, srv_recv);
	altcp_sent(pcb, srv_sent);
	altcp_err(pcb, srv_err);
}

static void
srv_tls(void)
{
	struct altcp_pcb *tpcb = NULL;
	char err[256];

	if (up.tls == NULL)
		up.tls = tls_server_config_load(PKI("chain.pem"),
			PKI("server.key"), 0, err, sizeof(err));
	assert_non_null(up.tls);
	if (up.tls_buf == NULL)
		up.tls_buf = malloc(TLS_CONN_BUFSIZE(TLS_RECORD));
	assert_int_equal(tls_server_wrap(up.srv, up.tls, &up.tc, up.tls_buf,
				 TLS_CONN_BUFSIZE(TLS_RECORD), &tpcb),
		ERR_OK);
	srv_hook(tpcb);
}

static char *
find(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= len; i++) {
		if (memcmp(hay + i, needle, n) == 0)
			return (char *)hay + i;
	}
	return NULL;
}

/* A line the client sent, if one is complete: its length, or -1. */
static long
rx_line(void)
{
	char *end = find(up.rx, up.rxlen, "\r\n");

	return end != NULL ? end - up.rx : -1;
}

static void
rx_take(size_t n)
{
	memmove(up.rx, up.rx + n, up.rxlen - n);
	up.rxlen -= n;
	up.rx[up.rxlen] = '\0';
}

/* The body ends at CRLF "." CRLF, or is ".\r\n" alone. */
static int
take_body(void)
{
	char *end;
	size_t n;

	if (up.rxlen >= 3 && memcmp(up.rx, ".\r\n", 3) == 0) {
		n = 3;
	} else {
		end = find(up.rx, up.rxlen, "\r\n.\r\n");
		if (end == NULL)
			return 0;
		n = (size_t)(end - up.rx) + 5;
	}
	append(up.body, &up.bodylen, up.rx, n);
	rx_take(n);
	return 1;
}

/* One step of the script; 0 when it must wait. */
static int
script_step(void)
{
	const char *s = up.script != NULL ? up.script[up.step] : NULL;
	long n;

	/* As over TCP: nothing arrives before the connection is up. */
	if (s == NULL || up.srv == NULL || up.connecting != NULL)
		return 0;
	switch (s[0]) {
	case 'S':
		append(up.out, &up.outlen, s + 2, strlen(s + 2));
		append(up.out, &up.outlen, "\r\n", 2);
		break;
	case 'R':
		append(up.out, &up.outlen, s + 2, strlen(s + 2));
		break;
	case 'C':
		if ((n = rx_line()) < 0)
			return 0;
		if ((size_t)n != strlen(s + 2) || memcmp(up.rx, s + 2, n) != 0)
			fail_msg("expected '%s', got '%.*s'", s + 2, (int)n,
				up.rx);
		rx_take((size_t)n + 2);
		break;
	case 'B':
		if (!take_body())
			return 0;
		break;
	case 'T':
		srv_tls();
		break;
	case 'X':
		altcp_close(up.srv);
		up.srv = NULL;
		break;
	default:
		fail_msg("bad script line '%s'", s);
	}
	up.step++;
	srv_flush();
	return 1;
}

/* Run pipe, script and timers until nothing moves. */
static void
run(void)
{
	int i, moved = 1;

	for (i = 0; i < 1000000 && moved; i++) {
		moved = 0;
		if (up.connecting != NULL) {
			struct altcp_pcb *pcb = up.connecting;

			up.connecting = NULL;
			pcb->connected(pcb->arg, pcb, ERR_OK);
			moved = 1;
		}
		if (up.refusing != NULL) {
			struct altcp_pcb *pcb = up.refusing;
			altcp_err_fn errf = pcb->err;

			up.refusing = NULL;
			if (errf != NULL)
				errf(pcb->arg, ERR_RST);
			altcp_free(pcb);
			moved = 1;
		}
		while (script_step())
			moved = 1;
		if (up.pp != NULL)
			moved |= pipe_pair_step(up.pp);
		sys_check_timeouts();
	}
	assert_true(i < 1000000);
}

/* Pcbs for board_pcb_new: a pipe end, or one that refuses. */

static err_t
pipe_connect(struct altcp_pcb *pcb, const ip_addr_t *ip, u16_t port,
	altcp_connected_fn connected)
{
	(void)port;
	up.connected_to[up.nconnects++ % 4] = *ip;
	pcb->connected = connected;
	up.connecting = pcb;
	return ERR_OK;
}

static err_t
refuse_connect(struct altcp_pcb *pcb, const ip_addr_t *ip, u16_t port,
	altcp_connected_fn connected)
{
	(void)port;
	(void)connected;
	up.connected_to[up.nconnects++ % 4] = *ip;
	if (pcb->state == (void *)1)
		up.refusing = pcb;
	else
		up.silent = pcb;
	return ERR_OK;
}

static void
refuse_abort(struct altcp_pcb *pcb)
{
	if (up.refusing == pcb)
		up.refusing = NULL;
	if (up.silent == pcb)
		up.silent = NULL;
	altcp_free(pcb);
}

static err_t
refuse_close(struct altcp_pcb *pcb)
{
	refuse_abort(pcb);
	return ERR_OK;
}

static void
refuse_set_poll(struct altcp_pcb *pcb, u8_t interval)
{
	(void)pcb;
	(void)interval;
}

static const struct altcp_functions refuse_fns = {
	.set_poll = refuse_set_poll,
	.connect = refuse_connect,
	.abort = refuse_abort,
	.close = refuse_close,
};

static struct altcp_functions pipe_fns;

struct altcp_pcb *
board_pcb_new(uint8_t ip_type)
{
	struct altcp_pcb *a, *b;
	enum plan p = up.next < up.nplan ? up.plan[up.next] : PLAN_NONE;

	(void)ip_type;
	up.next++;
	if (p == PLAN_REFUSE || p == PLAN_SILENT) {
		a = altcp_alloc();
		a->fns = &refuse_fns;
		a->state = p == PLAN_REFUSE ? (void *)1 : (void *)2;
		return a;
	}
	if (p != PLAN_PIPE)
		return NULL;
	up.pp = pipe_pair_new(up.sndbuf, 24 * 1024, up.piece, &a, &b);
	assert_non_null(up.pp);
	pipe_fns = *b->fns;
	pipe_fns.connect = pipe_connect;
	b->fns = &pipe_fns;
	srv_hook(a);
	return b;
}

/* The owner's callbacks. */

static void
body_push(void)
{
	while (own.bodyoff < own.bodylen) {
		size_t n = relay_body_write(&own.r, own.body + own.bodyoff,
			own.bodylen - own.bodyoff);

		if (n == 0)
			return;
		own.bodyoff += n;
	}
	if (own.body != NULL) {
		own.body = NULL;
		own.end_result = relay_body_end(&own.r);
	}
}

static void
on_reply(void *arg, enum relay_step step, int code, const char *enhanced,
	const char *text)
{
	(void)arg;
	events_add("%s %d %s %s", relay_step_name(step), code, enhanced, text);
	if (step == RELAY_STEP_DATA && code == 354)
		body_push();
}

static void
on_fail(void *arg, enum relay_fail fail, const char *why)
{
	(void)arg;
	events_add("fail %s: %s", relay_fail_name(fail), why);
}

static void
on_writable(void *arg)
{
	(void)arg;
	own.writable++;
	body_push();
}

static void
on_trace(void *arg, enum relay_dir dir, const char *line)
{
	size_t len = strlen(own.trace);

	(void)arg;
	append(own.trace, &len, dir == RELAY_DIR_SENT ? "> " : "< ", 2);
	append(own.trace, &len, line, strlen(line));
	append(own.trace, &len, "\n", 1);
}

static const struct relay_owner owner = {
	on_reply,
	on_fail,
	on_writable,
	on_trace,
};

/* A loopback stand-in without TLS; tests change what they need. */
static void
conf_plain(void)
{
	memset(&own.conf, 0, sizeof(own.conf));
	own.conf.tls = RELAY_TLS_NONE;
	snprintf(own.conf.host, sizeof(own.conf.host), "127.0.0.1");
	own.conf.is_literal = 1;
	assert_true(ipaddr_aton("127.0.0.1", &own.conf.addr));
	own.conf.port = 2525;
}

static void
credentials(void)
{
	own.conf.has_credentials = 1;
	snprintf(own.conf.user, sizeof(own.conf.user), "user");
	snprintf(own.conf.password, sizeof(own.conf.password), "secret");
}

/* TLS to "localhost" on a literal address, verified with the test CA. */
static void
conf_tls(enum relay_tls mode, const char *name)
{
	char err[256];

	conf_plain();
	own.conf.tls = mode;
	snprintf(own.conf.host, sizeof(own.conf.host), "%s", name);
	own.tls = tls_client_config_load_ca(PKI("ca.pem"), err, sizeof(err));
	assert_non_null(own.tls);
}

static int
setup(void **state)
{
	(void)state;
	memset(&up, 0, sizeof(up));
	memset(&own, 0, sizeof(own));
	memset(&res, 0, sizeof(res));
	up.sndbuf = 4096;
	up.piece = 1460;
	up.plan[0] = PLAN_PIPE;
	up.nplan = 1;
	own.tls_buf = malloc(TLS_CONN_BUFSIZE(TLS_RECORD));
	assert_non_null(own.tls_buf);
	relay_init(&own.r, &own.tc, own.tls_buf, TLS_CONN_BUFSIZE(TLS_RECORD));
	conf_plain();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	relay_abort(&own.r);
	if (up.srv != NULL) {
		altcp_arg(up.srv, NULL);
		altcp_err(up.srv, NULL);
		altcp_abort(up.srv);
	}
	if (up.pp != NULL)
		pipe_pair_free(up.pp);
	if (up.tls != NULL)
		tls_server_config_free(up.tls);
	if (own.tls != NULL)
		tls_client_config_free(own.tls);
	free(up.tls_buf);
	free(own.tls_buf);
	return 0;
}

static void
start(const char *const *script)
{
	up.script = script;
	assert_int_equal(relay_open(&own.r, &own.conf, own.tls, "client.test",
				 &owner, NULL, "test"),
		RELAY_OK);
	run();
}

static void
assert_events(const char *want)
{
	if (strcmp(own.events, want) != 0)
		fail_msg("events:\n%s\nwanted:\n%s", own.events, want);
}

static void
assert_fail(const char *want)
{
	char line[2048];

	snprintf(line, sizeof(line), "%s\n", want);
	assert_events(line);
	assert_int_equal(own.r.state, RELAY_STATE_CLOSED);
}

#define OPEN_PLAIN \
	"S:220 mx.test ESMTP", "C:EHLO client.test", "S:250-mx.test", \
		"S:250-PIPELINING", "S:250-SIZE 1000000", "S:250 8BITMIME"

static const char body[] = "Subject: t\r\n\r\nhello\r\n..dot\r\n.\r\n";

/* MAIL, two RCPTs and DATA in one group; a body; a verdict; QUIT. */
static void
test_pipelined_transaction(void **state)
{
	static const char *const script[] = {OPEN_PLAIN,
		"C:MAIL FROM:<a@x.test> SIZE=123", "C:RCPT TO:<b@y.test>",
		"C:RCPT TO:<c@y.test>", "C:DATA",
		"R:250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		"550-5.1.1 No such user\r\n550 5.1.1 here, really\r\n"
		"354 End data with <CR><LF>.<CR><LF>\r\n",
		"B:", "S:250 2.0.0 Ok: queued as 42", "C:QUIT",
		"S:221 2.0.0 Bye", "X:", NULL};

	(void)state;
	start(script);
	assert_events("open 250  mx.test|PIPELINING|SIZE 1000000|8BITMIME\n");
	assert_true(relay_caps(&own.r)->flags & RELAY_CAP_PIPELINING);
	assert_int_equal(relay_caps(&own.r)->size_max, 1000000);
	own.events[0] = '\0';
	own.body = body;
	own.bodylen = sizeof(body) - 1;
	assert_int_equal(relay_mail(&own.r, "a@x.test", 123, 0), RELAY_OK);
	assert_int_equal(relay_rcpt(&own.r, "b@y.test"), RELAY_OK);
	assert_int_equal(relay_rcpt(&own.r, "c@y.test"), RELAY_OK);
	assert_int_equal(relay_data(&own.r), RELAY_OK);
	run();
	assert_int_equal(own.end_result, RELAY_OK);
	assert_string_equal(up.body, body);
	assert_events("mail 250 2.1.0 Ok\n"
		      "rcpt 250 2.1.5 Ok\n"
		      "rcpt 550 5.1.1 No such user|here, really\n"
		      "data 354  End data with <CR><LF>.<CR><LF>\n"
		      "end 250 2.0.0 Ok: queued as 42\n");
	own.events[0] = '\0';
	assert_int_equal(relay_quit(&own.r), RELAY_OK);
	run();
	assert_events("quit 221 2.0.0 Bye\n");
	assert_int_equal(own.r.state, RELAY_STATE_CLOSED);
}

/* Without PIPELINING each command waits for its reply. */
static void
test_lockstep_and_refusals(void **state)
{
	static const char *const script[] = {"S:220 mx.test",
		"C:EHLO client.test", "S:250-mx.test",
		"S:250 ENHANCEDSTATUSCODES", "C:MAIL FROM:<a@x.test>",
		"S:451 4.3.0 Try later", "C:RSET", "S:250 2.0.0 Ok",
		"C:MAIL FROM:<>", "S:250 2.1.0 Ok", "C:RCPT TO:<b@y.test>",
		"S:250 2.1.5 Ok", "C:DATA", "S:554 5.5.1 No valid recipients",
		"C:RSET", "S:250 2.0.0 Ok", "C:MAIL FROM:<a@x.test>",
		"S:250 2.1.0 Ok", "C:RCPT TO:<b@y.test>", "S:250 2.1.5 Ok",
		"C:DATA", "S:354 go", "B:", "S:552 5.3.4 Message too big",
		NULL};

	(void)state;
	start(script);
	own.events[0] = '\0';
	assert_int_equal(relay_mail(&own.r, "a@x.test", 99, 0), RELAY_OK);
	run();
	assert_events("mail 451 4.3.0 Try later\n");
	/* The refused MAIL is reset before the next: nothing is open. */
	assert_int_equal(relay_mail(&own.r, "", 0, 0), RELAY_OK);
	assert_int_equal(relay_rcpt(&own.r, "b@y.test"), RELAY_OK);
	assert_int_equal(relay_data(&own.r), RELAY_OK);
	run();
	assert_int_equal(own.r.state, RELAY_STATE_READY);
	own.events[0] = '\0';
	own.body = ".\r\n";
	own.bodylen = 3;
	assert_int_equal(relay_mail(&own.r, "a@x.test", 0, 0), RELAY_OK);
	assert_int_equal(relay_rcpt(&own.r, "b@y.test"), RELAY_OK);
	assert_int_equal(relay_data(&own.r), RELAY_OK);
	run();
	assert_events("mail 250 2.1.0 Ok\nrcpt 250 2.1.5 Ok\ndata 354  go\n"
		      "end 552 5.3.4 Message too big\n");
	assert_string_equal(up.body, ".\r\n");
	assert_int_equal(own.r.state, RELAY_STATE_READY);
}

static void
test_starttls_not_offered(void **state)
{
	static const char *const script[] = {"S:220 mx.test",
		"C:EHLO client.test", "S:250-mx.test", "S:250 AUTH PLAIN",
		NULL};

	(void)state;
	conf_tls(RELAY_TLS_STARTTLS, "localhost");
	start(script);
	assert_fail("fail starttls: upstream does not offer STARTTLS, which "
		    "smtp:// requires (for implicit TLS on port 465 write "
		    "smtps://)");
}

/* STARTTLS, EHLO again, AUTH PLAIN's exact bytes, masked in the trace. */
static void
test_starttls_auth_plain(void **state)
{
	static const char *const script[] = {"S:220 mx.test",
		"C:EHLO client.test", "S:250-mx.test", "S:250-AUTH PLAIN",
		"S:250 STARTTLS", "C:STARTTLS", "S:220 2.0.0 Go ahead",
		"T:", "C:EHLO client.test", "S:250-mx.test",
		"S:250-AUTH LOGIN PLAIN", "S:250 PIPELINING",
		"C:AUTH PLAIN AHVzZXIAc2VjcmV0",
		"S:235 2.7.0 Authentication successful", "C:QUIT", "S:221 Bye",
		NULL};

	(void)state;
	conf_tls(RELAY_TLS_STARTTLS, "localhost");
	credentials();
	start(script);
	assert_events("open 235 2.7.0 Authentication successful\n");
	assert_true(own.r.tls_active);
	assert_non_null(strstr(own.trace, "> AUTH PLAIN ********\n"));
	assert_null(strstr(own.trace, "AHVzZXIAc2VjcmV0"));
	assert_non_null(strstr(own.trace, "< 250-AUTH LOGIN PLAIN\n"));
	assert_int_equal(relay_quit(&own.r), RELAY_OK);
	run();
	assert_int_equal(own.r.state, RELAY_STATE_CLOSED);
}

/* RFC 3207 5: a reply smuggled behind the 220 ends the connection. */
static void
test_starttls_injection(void **state)
{
	static const char *const script[] = {"S:220 mx.test",
		"C:EHLO client.test", "S:250-mx.test", "S:250 STARTTLS",
		"C:STARTTLS", "R:220 Go ahead\r\n250-mx.test\r\n", NULL};

	(void)state;
	conf_tls(RELAY_TLS_STARTTLS, "localhost");
	start(script);
	assert_fail("fail starttls: upstream sent data after its 220 to "
		    "STARTTLS");
}

static void
test_implicit_tls(void **state)
{
	static const char *const script[] = {"T:", "S:220 mx.test",
		"C:EHLO client.test", "S:250 mx.test", NULL};

	(void)state;
	conf_tls(RELAY_TLS_IMPLICIT, "mail.test");
	start(script);
	assert_events("open 250  mx.test\n");
	assert_true(own.r.tls_active);
}

static void
test_tls_name_mismatch(void **state)
{
	static const char *const script[] = {"T:", "S:220 mx.test", NULL};

	(void)state;
	conf_tls(RELAY_TLS_IMPLICIT, "other.example");
	start(script);
	assert_fail("fail tls: TLS: name mismatch for other.example");
}

static void
test_tls_unknown_issuer(void **state)
{
	static const char *const script[] = {"T:", "S:220 mx.test", NULL};
	char err[256];

	(void)state;
	conf_tls(RELAY_TLS_IMPLICIT, "localhost");
	tls_client_config_free(own.tls);
	own.tls =
		tls_client_config_load_ca(PKI("expired.pem"), err, sizeof(err));
	start(script);
	assert_fail("fail tls: TLS: unknown issuer");
}

/* AUTH LOGIN when PLAIN is not offered; both answers masked. */
static void
test_auth_login(void **state)
{
	static const char *const script[] = {"S:220 mx.test",
		"C:EHLO client.test", "S:250-mx.test",
		"S:250 AUTH=LOGIN CRAM-MD5", "C:AUTH LOGIN",
		"S:334 VXNlcm5hbWU6", "C:dXNlcg==", "S:334 UGFzc3dvcmQ6",
		"C:c2VjcmV0", "S:235 2.7.0 Ok", NULL};

	(void)state;
	credentials();
	start(script);
	assert_events("open 235 2.7.0 Ok\n");
	assert_non_null(strstr(own.trace,
		"> AUTH LOGIN\n< 334 VXNlcm5hbWU6\n"
		"> ********\n< 334 UGFzc3dvcmQ6\n"
		"> ********\n"));
}

static void
test_auth_rejected(void **state)
{
	static const char *const script[] = {"S:220 mx.test",
		"C:EHLO client.test", "S:250-mx.test", "S:250 AUTH PLAIN",
		"C:AUTH PLAIN AHVzZXIAc2VjcmV0",
		"S:535 5.7.8 Authentication credentials invalid", NULL};

	(void)state;
	credentials();
	start(script);
	assert_fail("fail auth: AUTH rejected: 535 5.7.8 Authentication "
		    "credentials invalid");
}

static void
test_auth_no_mechanism(void **state)
{
	static const char *const script[] = {"S:220 mx.test",
		"C:EHLO client.test", "S:250-mx.test", "S:250 AUTH CRAM-MD5",
		NULL};

	(void)state;
	credentials();
	start(script);
	assert_fail("fail auth: no AUTH mechanism in common: upstream "
		    "offers neither PLAIN nor LOGIN");
}

/* A 600-byte line and a reply of many lines: both cut with "...". */
static void
test_reply_overlong(void **state)
{
	static char longline[700];
	static const char *script[] = {"S:220 mx.test", "C:EHLO client.test",
		"S:250 mx.test", "C:MAIL FROM:<a@x.test>", longline, NULL};
	size_t i;

	(void)state;
	memcpy(longline, "S:550 5.7.1 ", 12);
	for (i = 12; i < 650; i++)
		longline[i] = (char)('a' + i % 26);
	longline[650] = '\0';
	start(script);
	own.events[0] = '\0';
	assert_int_equal(relay_mail(&own.r, "a@x.test", 0, 0), RELAY_OK);
	run();
	assert_int_equal(strncmp(own.events, "mail 550 5.7.1 ", 15), 0);
	assert_non_null(strstr(own.events, "...\n"));
	assert_true(strlen(own.events) < RELAY_LINE_MAX + 20);
}

static void
test_reply_many_lines(void **state)
{
	static const char *script[40] = {"S:220 mx.test", "C:EHLO client.test"};
	static char lines[30][80];
	size_t i;

	(void)state;
	for (i = 0; i < 30; i++) {
		snprintf(lines[i], sizeof(lines[i]),
			"S:250%c%02zu-"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
			i == 29 ? ' ' : '-', i);
		script[2 + i] = lines[i];
	}
	start(script);
	assert_int_equal(strncmp(own.events, "open 250  00-xxx", 16), 0);
	/* "open 250  " + 1023 bytes of text + "\n" */
	assert_int_equal(strlen(own.events), 10 + RELAY_TEXT_MAX - 1 + 1);
	assert_non_null(strstr(own.events, "...\n"));
}

static void
test_reply_malformed(void **state)
{
	static const char *const script[] = {"S:hello there", NULL};

	(void)state;
	start(script);
	assert_fail("fail protocol: malformed reply from upstream: reply does "
		    "not begin with a code");
}

static void
test_greeting_refused(void **state)
{
	static const char *const script[] = {
		"S:554-5.7.1 Go away", "S:554 5.7.1 really", NULL};

	(void)state;
	start(script);
	assert_fail("fail refused: upstream refused the connection: 554 5.7.1 "
		    "Go away really");
}

/* A tiny send buffer: the body goes in pieces, on_writable between. */
static void
test_body_backpressure(void **state)
{
	static const char *const script[] = {OPEN_PLAIN,
		"C:MAIL FROM:<a@x.test> SIZE=20000", "C:RCPT TO:<b@y.test>",
		"C:DATA", "S:250 Ok", "S:250 Ok", "S:354 go",
		"B:", "S:250 2.0.0 Ok", NULL};
	static char big[20000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = i % 50 == 49 ? '\n' : i % 50 == 48 ? '\r' : 'x';
	memcpy(big + sizeof(big) - 5, "\r\n.\r\n", 5);
	up.sndbuf = 100;
	up.piece = 7;
	start(script);
	own.body = big;
	own.bodylen = sizeof(big);
	assert_int_equal(
		relay_mail(&own.r, "a@x.test", sizeof(big), 0), RELAY_OK);
	assert_int_equal(relay_rcpt(&own.r, "b@y.test"), RELAY_OK);
	assert_int_equal(relay_data(&own.r), RELAY_OK);
	run();
	assert_true(own.writable > 10);
	assert_int_equal(up.bodylen, sizeof(big));
	assert_memory_equal(up.body, big, sizeof(big));
	assert_non_null(strstr(own.events, "end 250 2.0.0 Ok\n"));
}

static void
test_mail_refused_locally(void **state)
{
	static const char *const script[] = {"S:220 mx.test",
		"C:EHLO client.test", "S:250-mx.test", "S:250 SIZE 1000",
		"C:MAIL FROM:<a@x.test> SIZE=1000", "S:250 Ok",
		"C:RCPT TO:<b@y.test>", "S:250 Ok", "C:DATA", "S:354 go", NULL};

	(void)state;
	start(script);
	assert_int_equal(relay_mail(&own.r, "a@x.test", 10, RELAY_MAIL_8BIT),
		RELAY_ERR_8BIT);
	assert_int_equal(relay_mail(&own.r, "a@x.test", 10, RELAY_MAIL_UTF8),
		RELAY_ERR_UTF8);
	assert_int_equal(
		relay_mail(&own.r, "a@x.test", 1001, 0), RELAY_ERR_SIZE);
	assert_int_equal(
		relay_mail(&own.r, "a@x\r\n.test", 1, 0), RELAY_ERR_ARG);
	assert_int_equal(relay_rcpt(&own.r, "b@y.test"), RELAY_ERR_STATE);
	assert_int_equal(relay_mail(&own.r, "a@x.test", 1000, 0), RELAY_OK);
	assert_int_equal(relay_rcpt(&own.r, "b@y.test"), RELAY_OK);
	assert_int_equal(relay_data(&own.r), RELAY_OK);
	run();
	assert_int_equal(own.r.state, RELAY_STATE_BODY);
	assert_int_equal(relay_body_write(&own.r, "abc\r\n", 5), 5);
	assert_int_equal(relay_body_end(&own.r), RELAY_ERR_BODY);
}

static void
test_8bitmime(void **state)
{
	static const char *const script[] = {"S:220 mx.test",
		"C:EHLO client.test", "S:250-mx.test", "S:250-8BITMIME",
		"S:250 SMTPUTF8", "C:MAIL FROM:<a@x.test> BODY=8BITMIME",
		"S:250 Ok", "C:RSET", "S:250 Ok",
		"C:MAIL FROM:<\xc3\xa9@x.test> SMTPUTF8", "S:250 Ok", NULL};

	(void)state;
	start(script);
	own.events[0] = '\0';
	assert_int_equal(
		relay_mail(&own.r, "a@x.test", 10, RELAY_MAIL_8BIT), RELAY_OK);
	assert_int_equal(relay_rset(&own.r), RELAY_OK);
	assert_int_equal(own.r.state, RELAY_STATE_READY);
	/* UTF-8 in an address needs SMTPUTF8 on the MAIL (RFC 6531). */
	assert_int_equal(
		relay_mail(&own.r, "\xc3\xa9@x.test", 0, 0), RELAY_ERR_ARG);
	assert_int_equal(
		relay_mail(&own.r, "\xc3\xa9@x.test", 0, RELAY_MAIL_UTF8),
		RELAY_OK);
	run();
	assert_events("mail 250  Ok\nrset 250  Ok\nmail 250  Ok\n");
	assert_null(up.script[up.step]);
}

static void
test_timeout_greeting(void **state)
{
	static const char *const script[] = {NULL};

	(void)state;
	start(script);
	now_ms += RELAY_TIMEOUT_GREETING_MS - 1000;
	pipe_pair_poll(up.pp);
	assert_events("");
	now_ms += 1000;
	pipe_pair_poll(up.pp);
	assert_fail("fail timeout: no reply to greeting within 300 s");
}

static void
test_timeout_mail(void **state)
{
	static const char *const script[] = {OPEN_PLAIN, NULL};

	(void)state;
	start(script);
	own.events[0] = '\0';
	relay_mail(&own.r, "a@x.test", 0, 0);
	relay_rcpt(&own.r, "b@y.test");
	relay_data(&own.r);
	run();
	now_ms += RELAY_TIMEOUT_COMMAND_MS;
	pipe_pair_poll(up.pp);
	assert_fail("fail timeout: no reply to MAIL within 300 s");
}

static void
test_upstream_closes(void **state)
{
	static const char *const script[] = {OPEN_PLAIN, "C:MAIL FROM:<a@b>",
		"S:421 4.3.2 Shutting down", "X:", NULL};

	(void)state;
	start(script);
	own.events[0] = '\0';
	relay_mail(&own.r, "a@b", 0, 0);
	run();
	assert_events(
		"mail 421 4.3.2 Shutting down\n"
		"fail closed: upstream closed the connection (envelope)\n");
}

static void
test_unsolicited_421(void **state)
{
	static const char *const script[] = {
		OPEN_PLAIN, "S:421 4.4.2 Idle too long", NULL};

	(void)state;
	start(script);
	assert_non_null(strstr(own.events,
		"fail closed: upstream is closing: "
		"421 4.4.2 Idle too long\n"));
}

/* Refused by the first address, taken by the second. */
static void
test_connect_next_address(void **state)
{
	static const char *const script[] = {OPEN_PLAIN, NULL};
	char ip[48];

	(void)state;
	up.plan[0] = PLAN_REFUSE;
	up.plan[1] = PLAN_PIPE;
	up.nplan = 2;
	own.conf.is_literal = 0;
	snprintf(own.conf.host, sizeof(own.conf.host), "mx.test");
	start(script);
	assert_string_equal(res.name, "mx.test");
	answer_addrs("192.0.2.8", "2001:db8::8");
	run();
	assert_int_equal(up.nconnects, 2);
	assert_string_equal(ipaddr_ntoa_r(&up.connected_to[1], ip, sizeof(ip)),
		"2001:DB8::8");
	if (strstr(own.events, "open 250") == NULL)
		fail_msg("%s\n%s", own.events, own.trace);
}

static void
test_connect_refused(void **state)
{
	(void)state;
	up.plan[0] = PLAN_SILENT;
	up.plan[1] = PLAN_REFUSE;
	up.nplan = 2;
	own.conf.is_literal = 0;
	own.conf.port = 587;
	snprintf(own.conf.host, sizeof(own.conf.host), "mx.test");
	start(NULL);
	answer_addrs("192.0.2.7", "192.0.2.8");
	run();
	assert_events("");
	/* The first never answers: its time runs out, then the second. */
	now_ms += RELAY_TIMEOUT_CONNECT_MS;
	assert_non_null(up.silent);
	up.silent->poll(up.silent->arg, up.silent);
	run();
	assert_fail("fail connect: connection refused by 192.0.2.8:587");
}

static void
test_resolve_fails(void **state)
{
	(void)state;
	own.conf.is_literal = 0;
	snprintf(own.conf.host, sizeof(own.conf.host), "nowhere.test");
	start(NULL);
	res.acb(res.arg, RESOLVE_ERR_NOTFOUND, NULL);
	assert_fail("fail resolve: name lookup failed for nowhere.test: no "
		    "such name");
}

/* RFC 6186: _submissions first; _submission means STARTTLS. */
static void
test_srv(void **state)
{
	static const char *const script[] = {
		"S:220 mx.test", "C:EHLO client.test", "S:250 mx.test", NULL};
	struct resolve_srv srv;

	(void)state;
	conf_tls(RELAY_TLS_IMPLICIT, "example.org");
	own.conf.srv = 1;
	own.conf.is_literal = 0;
	start(script);
	assert_string_equal(res.name, "_submissions._tcp.example.org");
	res.scb(res.arg, RESOLVE_ERR_NOTFOUND, NULL, 0);
	assert_string_equal(res.name, "_submission._tcp.example.org");
	memset(&srv, 0, sizeof(srv));
	snprintf(srv.target, sizeof(srv.target), "smtp.example.org");
	srv.port = 587;
	res.scb(res.arg, 0, &srv, 1);
	assert_string_equal(res.name, "smtp.example.org");
	answer_addrs("192.0.2.9", NULL);
	run();
	assert_int_equal(own.r.port, 587);
	assert_fail("fail starttls: upstream does not offer STARTTLS, which "
		    "smtp:// requires (for implicit TLS on port 465 write "
		    "smtps://)");
}

/* A failure inside relay_open is told from the loop, not at once. */
static void
test_open_fails_later(void **state)
{
	(void)state;
	up.nplan = 0;
	assert_int_equal(relay_open(&own.r, &own.conf, NULL, "client.test",
				 &owner, NULL, "test"),
		RELAY_OK);
	assert_events("");
	run();
	assert_fail("fail local: out of connections for the upstream");
}

static void
test_abort(void **state)
{
	static const char *const script[] = {OPEN_PLAIN, NULL};

	(void)state;
	start(script);
	relay_abort(&own.r);
	run();
	assert_int_equal(own.r.state, RELAY_STATE_CLOSED);
	assert_int_equal(relay_mail(&own.r, "a@b", 0, 0), RELAY_ERR_STATE);
	assert_null(strstr(own.events, "fail"));
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_pipelined_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_lockstep_and_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_starttls_not_offered, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_starttls_auth_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_starttls_injection, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_implicit_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_tls_name_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_tls_unknown_issuer, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_auth_login, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_auth_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_auth_no_mechanism, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_reply_overlong, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_reply_many_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_reply_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_greeting_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_body_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_mail_refused_locally, setup, teardown),
		cmocka_unit_test_setup_teardown(test_8bitmime, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_timeout_greeting, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_timeout_mail, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_upstream_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_unsolicited_421, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_connect_next_address, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_connect_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_resolve_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srv, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_open_fails_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
	};

	lwip_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
