/*
 * The message path: known answers for dot-stuffing, line ends, smuggling
 * sequences, header fixups and refusals; every answer again in every
 * chunking of input and with tiny output buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "msg/msg.h"

#define RECV \
	"Received: from client.example\r\n" \
	"\tby mx.example.net (postlet) with ESMTPSA id 5c1e09a2;\r\n" \
	"\tTue, 14 Nov 2023 22:13:20 +0000\r\n"
#define DATE "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
#define MID "Message-ID: <f00dfeed@mx.example.net>\r\n"
#define TO "To: undisclosed-recipients:;\r\n"
#define FIXUPS DATE MID TO
/* A header section that needs no field added. */
#define HDR \
	"From: alice@example.org\r\n" \
	"To: bob@example.net\r\n" \
	"Date: Mon, 13 Nov 2023 10:00:00 +0100\r\n" \
	"Message-ID: <1@x>\r\n"

#define OUT_MAX 65536

struct result {
	char out[OUT_MAX];
	size_t outlen;
	size_t used; /* input taken when MSG_END came */
	int errors; /* MSG_ERROR returns */
	int ended;
	char reply[MSG_REPLY_MAX];
	int eightbit;
};

static struct msg m;
static struct result r1, r2;
static char big[3 * OUT_MAX];

static int
grant(void *arg, const char *addr, size_t len)
{
	static const char *const ok[] = {"alice@example.org",
		"alice@alice.test", "\"al ice\"@example.org"};
	size_t i;

	(void)arg;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strlen(ok[i]) == len && memcmp(ok[i], addr, len) == 0)
			return 1;
	return 0;
}

static void
params(struct msg_params *p)
{
	memset(p, 0, sizeof(*p));
	p->hostname = "mx.example.net";
	p->domain = "example.org";
	p->helo = "client.example";
	p->client_addr = "192.0.2.7";
	p->user = "alice";
	p->session_id = "5c1e09a2";
	p->tls = 1;
	p->add_to = 1;
	p->now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 UTC */
	p->from_ok = grant;
	p->unique = "f00dfeed";
}

static uint32_t rng = 1;

static size_t
rnd(size_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

/*
 * Feed in[0..len) in pieces of step octets (0: random sizes) through an
 * output buffer of outcap octets, until MSG_END or the input runs out.
 */
static void
run(const struct msg_params *p, const char *in, size_t len, size_t step,
	size_t outcap, struct result *r)
{
	char buf[OUT_MAX];
	size_t off = 0, rounds = 0;

	memset(r, 0, sizeof(*r));
	msg_begin(&m, p);
	for (;;) {
		size_t piece = step ? step : 1 + rnd(64), used = 0, w = 0;
		enum msg_status st;

		if (piece > len - off)
			piece = len - off;
		st = msg_feed(&m, in + off, piece, &used, buf, outcap, &w);
		assert_true(used <= piece && w <= outcap);
		assert_true(r->outlen + w <= OUT_MAX);
		memcpy(r->out + r->outlen, buf, w);
		r->outlen += w;
		off += used;
		assert_true(++rounds < 100 * (len + 1000));
		/* Nothing is written after the refusal was told. */
		if (r->errors > 0)
			assert_int_equal(w, 0);
		if (st == MSG_ERROR)
			r->errors++;
		if (st == MSG_MORE)
			assert_int_equal(used, piece);
		if (st == MSG_END || (st == MSG_MORE && off == len))
			break;
	}
	r->ended = m.ended;
	r->used = off;
	r->eightbit = msg_8bit(&m);
	if (msg_error_reply(&m) != NULL)
		strncpy(r->reply, msg_error_reply(&m), sizeof(r->reply) - 1);
}

/* Output before a refusal depends on the chunking; nothing else does. */
static void
same(const struct result *a, const struct result *b)
{
	if (a->reply[0] == '\0') {
		assert_int_equal(a->outlen, b->outlen);
		assert_memory_equal(a->out, b->out, a->outlen);
	}
	assert_int_equal(a->used, b->used);
	assert_int_equal(a->errors, b->errors);
	assert_string_equal(a->reply, b->reply);
}

/* Whole input at once, then in every other way: the same answer. */
static void
check(const struct msg_params *p, const char *in, size_t len, const char *want,
	const char *reply)
{
	size_t i;

	run(p, in, len, len ? len : 1, OUT_MAX, &r1);
	if (reply == NULL) {
		assert_null(msg_error_reply(&m));
		assert_int_equal(r1.ended, 1);
	}
	if (reply == NULL && want != NULL) {
		assert_int_equal(r1.outlen, strlen(want));
		assert_memory_equal(r1.out, want, r1.outlen);
	} else if (reply != NULL) {
		assert_string_equal(r1.reply, reply);
		assert_int_equal(r1.errors, 1);
	}
	for (i = 1; i <= 3; i++) {
		run(p, in, len, i, OUT_MAX, &r2);
		same(&r1, &r2);
	}
	for (i = 0; i < 8; i++) {
		run(p, in, len, 0, OUT_MAX, &r2);
		same(&r1, &r2);
	}
	for (i = 1; i <= 16; i++) {
		run(p, in, len, i % 2 ? 0 : 4096, i, &r2);
		same(&r1, &r2);
	}
}

static void
check_str(const char *in, const char *want)
{
	struct msg_params p;

	params(&p);
	check(&p, in, strlen(in), want, NULL);
}

static const struct {
	const char *in, *out;
} body_cases[] = {
	{"hello\r\n.\r\n", "hello\r\n.\r\n"},
	{"", "."},
	/* Unstuffed on input, stuffed again on output. */
	{"..x\r\n.\r\n", "..x\r\n.\r\n"},
	{"..\r\n.\r\n", "..\r\n.\r\n"},
	{"...\r\n.\r\n", "...\r\n.\r\n"},
	{". x\r\n.\r\n", " x\r\n.\r\n"},
	{"x\r\n..\r\ny\r\n.\r\n", "x\r\n..\r\ny\r\n.\r\n"},
	/* Smuggling: none of these ends the data. */
	{"a\n.\nb\r\n.\r\n", "a\r\n..\r\nb\r\n.\r\n"},
	{"a\n.\r\nb\r\n.\r\n", "a\r\n..\r\nb\r\n.\r\n"},
	{"a\r\n.\nb\r\n.\r\n", "a\r\n\r\nb\r\n.\r\n"},
	{"a\r.\r\nb\r\n.\r\n", "a\r\n..\r\nb\r\n.\r\n"},
	{"a\r.\rb\r\n.\r\n", "a\r\n..\r\nb\r\n.\r\n"},
	{"a\r\n.\r.\r\n.\r\n", "a\r\n\r\n..\r\n.\r\n"},
	{"a\r\n.\r\r\n.\r\n", "a\r\n\r\n\r\n.\r\n"},
	/* Bare CR and bare LF end lines. */
	{"a\rb\r\n.\r\n", "a\r\nb\r\n.\r\n"},
	{"a\nb\r\n.\r\n", "a\r\nb\r\n.\r\n"},
	{"a\r\r\n.\r\n", "a\r\n\r\n.\r\n"},
	{"a\n\r\n.\r\n", "a\r\n\r\n.\r\n"},
	{"a\n\n\r\n.\r\n", "a\r\n\r\n\r\n.\r\n"},
	{"\r\n.\r\n", "\r\n.\r\n"},
	/* Octets above 127 pass. */
	{"caf\xc3\xa9\r\n.\r\n", "caf\xc3\xa9\r\n.\r\n"},
};

static void
test_body(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
		char in[256], want[512];

		/* "" stands for a body-less message: HDR then ".". */
		if (body_cases[i].in[0] == '\0') {
			snprintf(in, sizeof(in), "%s.\r\n", HDR);
			snprintf(want, sizeof(want), RECV "%s.\r\n", HDR);
		} else {
			snprintf(in, sizeof(in), "%s\r\n%s", HDR,
				body_cases[i].in);
			snprintf(want, sizeof(want), RECV "%s\r\n%s", HDR,
				body_cases[i].out);
		}
		check_str(in, want);
	}
}

static void
test_eightbit_flag(void **state)
{
	(void)state;
	check_str(HDR "\r\nplain\r\n.\r\n", RECV HDR "\r\nplain\r\n.\r\n");
	assert_int_equal(r1.eightbit, 0);
	check_str(HDR "\r\n\xff\r\n.\r\n", RECV HDR "\r\n\xff\r\n.\r\n");
	assert_int_equal(r1.eightbit, 1);
}

static void
test_end_then_commands(void **state)
{
	const char *in = HDR "\r\nbody\r\n.\r\nMAIL FROM:<a@b>\r\n";

	(void)state;
	check_str(in, RECV HDR "\r\nbody\r\n.\r\n");
	assert_int_equal(r1.used, strlen(in) - strlen("MAIL FROM:<a@b>\r\n"));
	/* Later calls take nothing and say MSG_END again. */
	{
		char out[8];
		size_t used = 9, w = 9;

		assert_int_equal(msg_feed(&m, "QUIT\r\n", 6, &used, out,
					 sizeof(out), &w),
			MSG_END);
		assert_int_equal(used, 0);
		assert_int_equal(w, 0);
	}
}

static const struct {
	const char *in, *out;
} header_cases[] = {
	/* Empty message: the first line is the end. */
	{".\r\n", RECV FIXUPS ".\r\n"},
	{"\r\n.\r\n", RECV FIXUPS "\r\n.\r\n"},
	/* No header at all: our fields, then the empty line. */
	{"Hello world\r\n.\r\n", RECV FIXUPS "\r\nHello world\r\n.\r\n"},
	{"Hello\r\n.\r\n", RECV FIXUPS "\r\nHello\r\n.\r\n"},
	{" indented\r\n.\r\n", RECV FIXUPS "\r\n indented\r\n.\r\n"},
	{"Subject: x\r\nnot a field\r\n.\r\n",
		RECV "Subject: x\r\n" FIXUPS "\r\nnot a field\r\n.\r\n"},
	{"Subject: x\r\n..dot\r\n.\r\n",
		RECV "Subject: x\r\n" FIXUPS "\r\n..dot\r\n.\r\n"},
	/* Header only, no body. */
	{"Subject: x\r\n.\r\n", RECV "Subject: x\r\n" FIXUPS ".\r\n"},
	/* Each missing field added; present ones kept byte for byte. */
	{"To: bob@example.net\r\n\r\nb\r\n.\r\n",
		RECV "To: bob@example.net\r\n" DATE MID "\r\nb\r\n.\r\n"},
	{"cC:bob@example.net\r\n\r\n.\r\n",
		RECV "cC:bob@example.net\r\n" DATE MID "\r\n.\r\n"},
	{"BCC: bob@example.net\r\n\r\n.\r\n",
		RECV "BCC: bob@example.net\r\n" DATE MID "\r\n.\r\n"},
	{"Date: whenever\r\n\r\n.\r\n",
		RECV "Date: whenever\r\n" MID TO "\r\n.\r\n"},
	{"message-id:  <x@y>\r\n\r\n.\r\n",
		RECV "message-id:  <x@y>\r\n" DATE TO "\r\n.\r\n"},
	{"Resent-To: bob\r\nResent-Date: x\r\n\r\n.\r\n",
		RECV "Resent-To: bob\r\nResent-Date: x\r\n" FIXUPS "\r\n.\r\n"},
	{"Subject : spaced\r\n\r\n.\r\n",
		RECV "Subject : spaced\r\n" FIXUPS "\r\n.\r\n"},
	/* Folded fields stay folded. */
	{"Subject: a\r\n b\r\n\tc\r\nX: y\r\n\r\n.\r\n",
		RECV "Subject: a\r\n b\r\n\tc\r\nX: y\r\n" FIXUPS "\r\n.\r\n"},
	{"Subject: a\n b\r\n\r\n.\r\n",
		RECV "Subject: a\r\n b\r\n" FIXUPS "\r\n.\r\n"},
	/* Qualification of bare local parts. */
	{"To: bob\r\n\r\n.\r\n",
		RECV "To: bob@example.org\r\n" DATE MID "\r\n.\r\n"},
	{"To: Bob <bob>\r\n\r\n.\r\n",
		RECV "To: Bob <bob@example.org>\r\n" DATE MID "\r\n.\r\n"},
	{"To: bob (Bob), carol@x.test,dave\r\n\r\n.\r\n",
		RECV "To: bob@example.org (Bob), carol@x.test,"
		     "dave@example.org\r\n" DATE MID "\r\n.\r\n"},
	{"To: a,\r\n b\r\n\r\n.\r\n",
		RECV "To: a@example.org,\r\n b@example.org\r\n" DATE MID
		     "\r\n.\r\n"},
	{"Cc: team: a, b@c.test, \"q r\";\r\n\r\n.\r\n",
		RECV "Cc: team: a@example.org, b@c.test, \"q r\";\r\n" DATE MID
		     "\r\n.\r\n"},
	{"Bcc: undisclosed-recipients:;\r\n\r\n.\r\n",
		RECV "Bcc: undisclosed-recipients:;\r\n" DATE MID "\r\n.\r\n"},
	{"To: \"bob\" <\"b o b\">, (c) x.y\r\n\r\n.\r\n",
		RECV "To: \"bob\" <\"b o b\">, (c) x.y@example.org\r\n" DATE MID
		     "\r\n.\r\n"},
	{"Reply-To: <@r.test:bob>, .bad, a..b, bob.\r\n\r\n.\r\n",
		RECV "Reply-To: <@r.test:bob@example.org>, .bad, a..b, "
		     "bob.\r\n" FIXUPS "\r\n.\r\n"},
	{"To: Bob Smith\r\n\r\n.\r\n",
		RECV "To: Bob Smith\r\n" DATE MID "\r\n.\r\n"},
	{"To: <>, [1.2.3.4], b@[1.2.3.4]\r\n\r\n.\r\n",
		RECV "To: <>, [1.2.3.4], b@[1.2.3.4]\r\n" DATE MID "\r\n.\r\n"},
	{"Subject: bob\r\nX-To: bob\r\n\r\n.\r\n",
		RECV "Subject: bob\r\nX-To: bob\r\n" FIXUPS "\r\n.\r\n"},
	/* From and Sender: qualified, then checked as qualified. */
	{"From: alice\r\n\r\n.\r\n",
		RECV "From: alice@example.org\r\n" FIXUPS "\r\n.\r\n"},
	{"From: Alice <alice@alice.test>\r\nSender: alice\r\n\r\n.\r\n",
		RECV "From: Alice <alice@alice.test>\r\n"
		     "Sender: alice@example.org\r\n" FIXUPS "\r\n.\r\n"},
	{"From: \"al ice\"@example.org (c)\r\n\r\n.\r\n",
		RECV "From: \"al ice\"@example.org (c)\r\n" FIXUPS "\r\n.\r\n"},
	{"From: a:alice@alice.test;\r\n\r\n.\r\n",
		RECV "From: a:alice@alice.test;\r\n" FIXUPS "\r\n.\r\n"},
};

static void
test_header(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++)
		check_str(header_cases[i].in, header_cases[i].out);
}

static void
test_received_variants(void **state)
{
	struct msg_params p;

	(void)state;
	params(&p);
	p.received_client_address = 1;
	p.first_rcpt = "bob@example.net";
	p.tz_offset_min = -90;
	p.now = 951782400; /* 2000-02-29 00:00:00 UTC, a Tuesday */
	check(&p, "Date: x\r\nMessage-ID: <y>\r\nTo: z@y\r\n\r\n.\r\n",
		strlen("Date: x\r\nMessage-ID: <y>\r\nTo: z@y\r\n\r\n.\r\n"),
		"Received: from client.example ([192.0.2.7])\r\n"
		"\tby mx.example.net (postlet) with ESMTPSA id 5c1e09a2\r\n"
		"\tfor <bob@example.net>;\r\n"
		"\tMon, 28 Feb 2000 22:30:00 -0130\r\n"
		"Date: x\r\nMessage-ID: <y>\r\nTo: z@y\r\n\r\n.\r\n",
		NULL);
	p.client_addr = "2001:db8::7";
	p.received_client_address = 0;
	p.user = NULL;
	p.tls = 0;
	p.first_rcpt = NULL;
	p.helo = "bad\r\nX: (y);";
	p.tz_offset_min = 0;
	p.now = 0;
	p.add_to = 0;
	p.unique = NULL;
	p.from_ok = NULL;
	check(&p, ".\r\n", 3,
		"Received: from bad??X:??y??\r\n"
		"\tby mx.example.net (postlet) with ESMTP id 5c1e09a2;\r\n"
		"\tThu, 1 Jan 1970 00:00:00 +0000\r\n"
		"Date: Thu, 1 Jan 1970 00:00:00 +0000\r\n"
		"Message-ID: <0.5c1e09a2@mx.example.net>\r\n.\r\n",
		NULL);
	p.received_client_address = 1;
	p.tls = 1;
	p.helo = NULL;
	check(&p, ".\r\n", 3,
		"Received: from unknown ([IPv6:2001:db8::7])\r\n"
		"\tby mx.example.net (postlet) with ESMTPS id 5c1e09a2;\r\n"
		"\tThu, 1 Jan 1970 00:00:00 +0000\r\n"
		"Date: Thu, 1 Jan 1970 00:00:00 +0000\r\n"
		"Message-ID: <0.5c1e09a2@mx.example.net>\r\n.\r\n",
		NULL);
}

static void
test_no_domain(void **state)
{
	struct msg_params p;

	(void)state;
	params(&p);
	p.domain = NULL;
	p.add_to = 0;
	/* Nothing to qualify with: "alice" is checked as it stands. */
	check(&p, "To: bob\r\nFrom: alice\r\n\r\n.\r\n", 27, NULL,
		"550 5.7.1 From: address <alice> is not granted to user "
		"alice");
	check(&p, "To: bob\r\n\r\n.\r\n", 14,
		RECV "To: bob\r\n" DATE MID "\r\n.\r\n", NULL);
}

static const struct {
	const char *in, *reply;
} refusals[] = {
	{"From: mallory@evil.test\r\n\r\n.\r\n",
		"550 5.7.1 From: address <mallory@evil.test> is not granted "
		"to user alice"},
	{"From: bob\r\n\r\n.\r\n",
		"550 5.7.1 From: address <bob@example.org> is not granted to "
		"user alice"},
	{"From: Alice <alice@example.org>, <eve@evil.test>\r\n\r\n.\r\n",
		"550 5.7.1 From: address <eve@evil.test> is not granted to "
		"user alice"},
	{"From: alice@example.org <eve@evil.test>\r\n\r\n.\r\n",
		"550 5.7.1 From: address <eve@evil.test> is not granted to "
		"user alice"},
	{"From: eve@evil.test <alice@example.org>\r\n\r\n.\r\n",
		"550 5.7.1 From: address <eve@evil.test> is not granted to "
		"user alice"},
	{"From: <@alice.test:eve@evil.test>\r\n\r\n.\r\n",
		"550 5.7.1 From: address <eve@evil.test> is not granted to "
		"user alice"},
	{"From: alice@example.org (\r\n x) , eve\r\n\r\n.\r\n",
		"550 5.7.1 From: address <eve@example.org> is not granted to "
		"user alice"},
	{"From: alice@example.org\r\nSender: eve@evil.test\r\n\r\n.\r\n",
		"550 5.7.1 Sender: address <eve@evil.test> is not granted to "
		"user alice"},
	{"From: alice@example.org\r\nFrom: eve@evil.test\r\n.\r\n",
		"550 5.7.1 From: address <eve@evil.test> is not granted to "
		"user alice"},
	{"From: alice@example.org eve@evil.test\r\n\r\n.\r\n",
		"550 5.7.1 From: address <alice@example.orgeve@evil.test> is "
		"not granted to user alice"},
	{"From: undisclosed:;\r\n\r\n.\r\n",
		"554 5.6.0 From: field without an address"},
	{"From: eve@evil.test:;\r\n\r\n.\r\n",
		"554 5.6.0 From: field without an address"},
	{"From:\r\n\r\n.\r\n", "554 5.6.0 From: field without an address"},
	{"Sender: (alice)\r\n\r\n.\r\n",
		"554 5.6.0 Sender: field without an address"},
	{"Subject: a\0b\r\n\r\n.\r\n", "554 5.6.0 NUL octet in message"},
	{"Subject: a\r\n\r\nb\0\r\n.\r\n", "554 5.6.0 NUL octet in message"},
	/* After the refusal, input is dropped up to CRLF "." CRLF only. */
	{"From: eve@evil.test\r\n\r\n\n.\nRCPT TO:<x>\r\n\r.\r\n.\n\r\n.\r\n",
		"550 5.7.1 From: address <eve@evil.test> is not granted to "
		"user alice"},
};

static void
test_refusals(void **state)
{
	struct msg_params p;
	size_t i;

	(void)state;
	params(&p);
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const char *in = refusals[i].in;
		size_t len = strlen(in);

		if (strstr(in, "Subject: a") == in)
			len = strlen(in) + strlen(in + strlen(in) + 1) + 1;
		check(&p, in, len, NULL, refusals[i].reply);
		assert_int_equal(r1.used, len);
		assert_int_equal(r1.ended, 1);
	}
}

/* A line of n octets of c, then CRLF, at p. */
static size_t
line(char *p, char c, size_t n)
{
	memset(p, c, n);
	memcpy(p + n, "\r\n", 2);
	return n + 2;
}

static void
test_line_limits(void **state)
{
	struct msg_params p;
	size_t n = 0, k;

	(void)state;
	params(&p);
	/* 998 octets pass; a stuffed line counts its dot. */
	n += line(big + n, 'x', 998);
	big[n++] = '.';
	n += line(big + n, '.', 997);
	memcpy(big + n, ".\r\n", 3);
	run(&p, big, n + 3, 4096, OUT_MAX, &r1);
	assert_null(msg_error_reply(&m));
	assert_int_equal(r1.outlen, n + 3 + strlen(RECV FIXUPS) + 2);
	/* 999 octets do not, in the body or in the header section. */
	n = strlen(HDR "\r\n");
	memcpy(big, HDR "\r\n", n);
	n += line(big + n, 'x', 999);
	memcpy(big + n, ".\r\n", 3);
	check(&p, big, n + 3, NULL, "554 5.6.0 Line longer than 998 octets");
	n = strlen("Subject: ");
	memcpy(big, "Subject: ", n);
	n += line(big + n, 'x', 990);
	memcpy(big + n, "\r\n.\r\n", 5);
	check(&p, big, n + 5, NULL,
		"554 5.6.0 Header line longer than 998 octets");
	/* A body line of "." and 997 more: 999 octets once stuffed. */
	memcpy(big, "\r\n..", 4);
	n = 4 + line(big + 4, 'y', 997);
	memcpy(big + n, ".\r\n", 3);
	check(&p, big, n + 3, NULL, "554 5.6.0 Line longer than 998 octets");
	/* Lines that grow with "@domain" past 998 octets are left alone. */
	memcpy(big, "To: ", 4);
	n = 4;
	for (k = 0; k < 30; k++) {
		memcpy(big + n, "abcdefghijklmnopqrstuvwxyz0123,", 31);
		n += 31;
	}
	memcpy(big + n, "\r\n\r\n.\r\n", 7);
	run(&p, big, n + 7, 4096, OUT_MAX, &r1);
	assert_null(msg_error_reply(&m));
	assert_memory_equal(r1.out + strlen(RECV), big, n + 2);
}

/* A field of more than MSG_FIELD_MAX octets, folded; ends in CRLF. */
static size_t
long_field(char *p, const char *name)
{
	static const char fold[] = " abcdefghijklmnopqrstuvwxyz0123456789,"
				   "abcdefghijklmnopqrstuvwxyz@x.test,\r\n";
	size_t n = strlen(name), k;

	memcpy(p, name, n);
	for (k = 0; k < 60; k++) {
		memcpy(p + n, fold, sizeof(fold) - 1);
		n += sizeof(fold) - 1;
	}
	memcpy(p + n, " z\r\n", 4);
	return n + 4;
}

static void
test_long_fields(void **state)
{
	struct msg_params p;
	size_t n;

	(void)state;
	params(&p);
	n = long_field(big, "To:");
	assert_true(n > MSG_FIELD_MAX);
	memcpy(big + n, "\r\nbody\r\n.\r\n", 11);
	/* Passed through unchanged: unexamined, so "z" stays bare. */
	check(&p, big, n + 11, NULL, NULL);
	assert_int_equal(r1.outlen, strlen(RECV DATE MID) + n + 11);
	assert_memory_equal(r1.out + strlen(RECV), big, n);
	n = long_field(big, "From:");
	memcpy(big + n, "\r\nbody\r\n.\r\n", 11);
	check(&p, big, n + 11, NULL, "554 5.6.0 From: header field too long");
	n = long_field(big, "Sender:");
	memcpy(big + n, "\r\n.\r\n", 5);
	check(&p, big, n + 5, NULL, "554 5.6.0 Sender: header field too long");
}

static void
test_size_limit(void **state)
{
	struct msg_params p;
	const char *in = "Subject: 12345\r\n\r\nabc\r\n.\r\n";

	(void)state;
	params(&p);
	/* Counted after unstuffing, CRLF included, terminator not. */
	p.max_size = strlen("Subject: 12345\r\n\r\nabc\r\n");
	check(&p, in, strlen(in),
		RECV "Subject: 12345\r\n" FIXUPS "\r\nabc\r\n.\r\n", NULL);
	assert_int_equal(msg_size(&m), p.max_size);
	p.max_size--;
	check(&p, in, strlen(in), NULL,
		"552 5.3.4 Message size exceeds fixed maximum message size");
	assert_int_equal(r1.used, strlen(in));
	p.max_size = 3;
	check(&p, "..\r\n.\r\n", 7, NULL, NULL);
	assert_int_equal(msg_size(&m), 3);
}

static void
test_has_from(void **state)
{
	(void)state;
	check_str(".\r\n", RECV FIXUPS ".\r\n");
	assert_int_equal(msg_has_from(&m), 0);
	check_str(HDR "\r\n.\r\n", RECV HDR "\r\n.\r\n");
	assert_int_equal(msg_has_from(&m), 1);
}

/* Random bytes from a small alphabet: the same output however split. */
static void
test_random_splits(void **state)
{
	static const char alpha[] = "\r\n.:ab <>@,; \t\xe9(\")";
	struct msg_params p;
	int round;

	(void)state;
	params(&p);
	p.from_ok = NULL;
	for (round = 0; round < 200; round++) {
		size_t n = 1 + rnd(600), i;

		for (i = 0; i < n; i++)
			big[i] = alpha[rnd(sizeof(alpha) - 1)];
		memcpy(big + n, "\r\n.\r\n", 5);
		check(&p, big, n + 5, NULL, NULL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_eightbit_flag),
		cmocka_unit_test(test_end_then_commands),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_received_variants),
		cmocka_unit_test(test_no_domain),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_long_fields),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_has_from),
		cmocka_unit_test(test_random_splits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
