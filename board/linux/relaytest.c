/*
 * `postlet test [-c FILE] [RCPT]`: connect to the configured upstream the
 * way the daemon would, print the dialogue, and end with one line that
 * names the first problem, or says that all is well. With RCPT, a short
 * test message is sent to it and the upstream's verdict printed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/init.h"

#include "log.h"
#include "loop.h"
#include "main.h"
#include "net.h"
#include "relay/relay.h"
#include "resolve.h"
#include "tls/tls.h"

/* The test message: headers and body, canonical and dot-stuffed. */
#define MESSAGE_MAX 1024

static struct {
	struct relay r;
	struct tls_conn tc;
	struct relay_conf rc;
	const char *rcpt;
	char from[RELAY_USER_MAX + CONF_NAME_MAX + 16];
	char message[MESSAGE_MAX];
	size_t msglen, sent;
	char verdict[RELAY_TEXT_MAX + 64];
	int ok;
	int done;
} t;

static void
verdict(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The first verdict sticks: later ones follow from it. */
static void
verdict(int ok, const char *fmt, ...)
{
	va_list ap;

	if (t.verdict[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(t.verdict, sizeof(t.verdict), fmt, ap);
	va_end(ap);
	t.ok = ok;
}

static void
on_trace(void *arg, enum relay_dir dir, const char *line)
{
	(void)arg;
	printf("%s%s\n", dir == RELAY_DIR_SENT ? "> " : "< ", line);
}

/* An upstream reply on one line: "550 5.1.1 text". */
static void
reply_verdict(
	const char *what, int code, const char *enhanced, const char *text)
{
	char line[RELAY_TEXT_MAX];
	size_t i;

	snprintf(line, sizeof(line), "%s", text);
	for (i = 0; line[i] != '\0'; i++) {
		if (line[i] == '\n')
			line[i] = ' ';
	}
	verdict(0, "%s: %d%s%s %s", what, code, enhanced[0] ? " " : "",
		enhanced, line);
}

static void
body_push(void)
{
	while (t.sent < t.msglen) {
		size_t n = relay_body_write(
			&t.r, t.message + t.sent, t.msglen - t.sent);

		if (n == 0)
			return; /* on_writable brings us back */
		t.sent += n;
	}
	if (relay_body_end(&t.r) != RELAY_OK) {
		verdict(0, "internal error: test message not terminated");
		relay_abort(&t.r);
		t.done = 1;
		loop_stop();
	}
}

static void
quit(void)
{
	if (relay_quit(&t.r) != RELAY_OK) {
		relay_abort(&t.r);
		t.done = 1;
		loop_stop();
	}
}

static void
transaction_start(void)
{
	int e = relay_mail(&t.r, t.from, (uint32_t)t.msglen, 0);

	if (e == RELAY_ERR_SIZE)
		verdict(0, "upstream's SIZE limit is below %zu bytes",
			t.msglen);
	if (e != RELAY_OK || relay_rcpt(&t.r, t.rcpt) != RELAY_OK ||
		relay_data(&t.r) != RELAY_OK) {
		verdict(0, "cannot start a transaction (error %d)", e);
		quit();
	}
}

static void
on_reply(void *arg, enum relay_step step, int code, const char *enhanced,
	const char *text)
{
	(void)arg;
	switch (step) {
	case RELAY_STEP_OPEN:
		if (t.rcpt == NULL) {
			verdict(1, "ok: upstream accepts mail");
			quit();
		} else {
			transaction_start();
		}
		break;
	case RELAY_STEP_MAIL:
	case RELAY_STEP_RCPT:
		if (code >= 300)
			reply_verdict(step == RELAY_STEP_MAIL
					? "sender refused"
					: "recipient refused",
				code, enhanced, text);
		break;
	case RELAY_STEP_DATA:
		if (code == 354)
			body_push();
		else
			reply_verdict("DATA refused", code, enhanced, text);
		if (code != 354)
			quit();
		break;
	case RELAY_STEP_END:
		if (code < 300)
			verdict(1,
				"ok: upstream accepted the test message "
				"for %s",
				t.rcpt);
		else
			reply_verdict("message refused", code, enhanced, text);
		quit();
		break;
	case RELAY_STEP_RSET:
		break;
	case RELAY_STEP_QUIT:
		t.done = 1;
		loop_stop();
		break;
	}
}

static void
on_fail(void *arg, enum relay_fail fail, const char *why)
{
	(void)arg;
	(void)fail;
	verdict(0, "%s", why);
	t.done = 1;
	loop_stop();
}

static void
on_writable(void *arg)
{
	(void)arg;
	body_push();
}

static const struct relay_owner owner = {
	.on_reply = on_reply,
	.on_fail = on_fail,
	.on_writable = on_writable,
	.on_trace = on_trace,
};

/* user@domain with something on both sides and nothing odd. */
static int
looks_like_address(const char *s)
{
	const char *at = strrchr(s, '@');
	size_t i;

	if (at == NULL || at == s || at[1] == '\0' || strlen(s) > 254)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == '<' ||
			s[i] == '>')
			return 0;
	}
	return 1;
}

/* RFC 5322 3.6: From, To, Date and Message-ID; CRLF, ending in ".". */
static int
message_make(const struct conf *c)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (localtime_r(&now, &tm) == NULL ||
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm) ==
			0)
		return -1;
	n = snprintf(t.message, sizeof(t.message),
		"From: <%s>\r\nTo: <%s>\r\nSubject: postlet test message\r\n"
		"Date: %s\r\nMessage-ID: <test.%lld.%ld@%s>\r\n\r\n"
		"This message was sent by 'postlet test' on %s\r\n"
		"to check the route to the upstream relay.\r\n.\r\n",
		t.from, t.rcpt, date, (long long)now, (long)getpid(),
		c->hostname, c->hostname);
	if (n < 0 || (size_t)n >= sizeof(t.message))
		return -1;
	t.msglen = (size_t)n;
	return 0;
}

static void
sender_choose(const struct conf *c)
{
	if (t.rc.has_credentials && looks_like_address(t.rc.user))
		snprintf(t.from, sizeof(t.from), "%s", t.rc.user);
	else
		snprintf(t.from, sizeof(t.from), "postmaster@%s", c->domain);
}

/* What the relay needs of the board: lwIP, the loop, a backend. */
static int
network_start(const struct conf *c)
{
	char err[CONF_ERROR_MAX];

	lwip_init();
	if (loop_init(8) != 0 || net_host_init(4) != 0) {
		fprintf(stderr, "postlet: out of memory\n");
		return EXIT_CONFIG;
	}
	board_backend_use(c->backend);
#if POSTLET_TAP
	if (c->backend == CONF_BACKEND_TAP &&
		net_tap_start(&c->tap, c->hostname, err, sizeof(err)) != 0) {
		fprintf(stderr, "postlet: %s\n", err);
		return EXIT_TAP;
	}
#endif
	if (resolve_init() != 0) {
		fprintf(stderr, "postlet: cannot start the name resolver\n");
		return EXIT_CONFIG;
	}
	return EXIT_OK;
}

static int
run(const struct conf *c, struct tls_client_config *tls)
{
	size_t buflen = TLS_CONN_BUFSIZE(c->tls_record_size);
	unsigned char *buf = malloc(buflen);

	if (buf == NULL) {
		fprintf(stderr, "postlet: out of memory\n");
		return EXIT_CONFIG;
	}
	relay_init(&t.r, &t.tc, buf, buflen);
	relay_open(&t.r, &t.rc, tls, c->hostname, &owner, NULL, "test");
	while (!t.done && loop_run() == 0)
		;
	relay_abort(&t.r);
	free(buf);
	printf("%s\n", t.verdict[0] ? t.verdict : "no verdict");
	return t.ok ? EXIT_OK : EXIT_NETWORK;
}

int
relaytest_main(int argc, char **argv)
{
	const char *path = DEFAULT_CONF;
	struct tls_client_config *tls = NULL;
	struct conf c;
	int opt, rc;

	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c')
			return EXIT_USAGE;
		path = optarg;
	}
	if (argc - optind > 1 ||
		(argc - optind == 1 && !looks_like_address(argv[optind]))) {
		fprintf(stderr, "usage: postlet test [-c file] [recipient]\n");
		return EXIT_USAGE;
	}
	t.rcpt = argc - optind == 1 ? argv[optind] : NULL;
	if (main_conf_load(&c, path) != 0)
		return EXIT_CONFIG;
	log_open(LOG_TARGET_STDERR, LOG_LEVEL_ERROR);
	rc = main_relay_setup(&c, path, &t.rc, &tls);
	if (rc == EXIT_OK)
		rc = network_start(&c);
	sender_choose(&c);
	if (rc == EXIT_OK && t.rcpt != NULL && message_make(&c) != 0) {
		fprintf(stderr, "postlet: cannot make the test message\n");
		rc = EXIT_CONFIG;
	}
	if (rc == EXIT_OK)
		rc = run(&c, tls);
	if (tls != NULL)
		tls_client_config_free(tls);
	relay_conf_wipe(&t.rc);
	return rc;
}
