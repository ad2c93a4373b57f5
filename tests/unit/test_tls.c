/*
 * TLS layer: a real BearSSL server and client talk over an in-memory
 * pipe pair, with the test PKI from tests/pki/make-pki.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lwip/init.h"
#include "lwip/pbuf.h"

#include "pipe_altcp.h"
#include "tls/tls.h"

#define PKI(f) PKI_DIR "/" f
#define STEPS 10000000

struct app {
	struct altcp_pcb *pcb;
	struct tls_conn tc;
	unsigned char *buf;
	int connected, errors, eof, refuse;
	err_t err;
	unsigned char *rx;
	size_t rxlen, rxcap;
	const unsigned char *tx;
	size_t txlen, txoff;
};

struct link {
	struct pipe_pair *pp;
	struct app server, client;
};

static void
app_push(struct app *a)
{
	while (a->pcb != NULL && a->txoff < a->txlen) {
		size_t n = altcp_sndbuf(a->pcb);

		if (n > a->txlen - a->txoff)
			n = a->txlen - a->txoff;
		if (n == 0)
			break;
		assert_int_equal(altcp_write(a->pcb, a->tx + a->txoff, (u16_t)n,
					 TCP_WRITE_FLAG_COPY),
			ERR_OK);
		a->txoff += n;
	}
	if (a->pcb != NULL)
		altcp_output(a->pcb);
}

static err_t
app_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
	struct app *a = arg;

	(void)pcb;
	(void)err;
	a->connected = 1;
	app_push(a);
	return ERR_OK;
}

static err_t
app_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct app *a = arg;

	(void)err;
	if (p == NULL) {
		a->eof = 1;
		return ERR_OK;
	}
	if (a->refuse)
		return ERR_MEM;
	if (a->rxlen + p->tot_len > a->rxcap) {
		a->rxcap = (a->rxlen + p->tot_len) * 2;
		a->rx = realloc(a->rx, a->rxcap);
		assert_non_null(a->rx);
	}
	pbuf_copy_partial(p, a->rx + a->rxlen, p->tot_len, 0);
	a->rxlen += p->tot_len;
	altcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t
app_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	app_push(arg);
	return ERR_OK;
}

static void
app_err(void *arg, err_t err)
{
	struct app *a = arg;

	a->errors++;
	a->err = err;
	a->pcb = NULL;
}

static void
app_hook(struct app *a)
{
	altcp_arg(a->pcb, a);
	altcp_recv(a->pcb, app_recv);
	altcp_sent(a->pcb, app_sent);
	altcp_err(a->pcb, app_err);
	altcp_connect(a->pcb, NULL, 0, app_connected);
}

static struct tls_server_config *
server_config(const char *cert, const char *key, unsigned cache)
{
	char err[256];
	struct tls_server_config *cfg =
		tls_server_config_load(cert, key, cache, err, sizeof(err));

	if (cfg == NULL)
		fail_msg("%s", err);
	return cfg;
}

static struct tls_client_config *
ca_config(const char *ca)
{
	char err[256];
	struct tls_client_config *cfg =
		tls_client_config_load_ca(ca, err, sizeof(err));

	if (cfg == NULL)
		fail_msg("%s", err);
	return cfg;
}

/* Wrap both ends of a new pipe; the handshake runs in link_run(). */
static void
link_open(struct link *l, struct tls_server_config *scfg,
	struct tls_client_config *ccfg, const char *name, u16_t sndbuf,
	size_t piece, size_t record)
{
	struct altcp_pcb *a, *b;
	size_t len = TLS_CONN_BUFSIZE(record);

	memset(l, 0, sizeof(*l));
	l->pp = pipe_pair_new(sndbuf, 24 * 1024, piece, &a, &b);
	assert_non_null(l->pp);
	l->server.buf = malloc(len);
	l->client.buf = malloc(len);
	assert_int_equal(tls_server_wrap(a, scfg, &l->server.tc, l->server.buf,
				 len, &l->server.pcb),
		ERR_OK);
	assert_int_equal(tls_client_wrap(b, ccfg, name, &l->client.tc,
				 l->client.buf, len, &l->client.pcb),
		ERR_OK);
	app_hook(&l->server);
	app_hook(&l->client);
	app_push(&l->client);
}

static void
link_run(struct link *l)
{
	assert_true(pipe_pair_run(l->pp, STEPS) < STEPS);
}

static void
link_close(struct link *l)
{
	if (l->client.pcb != NULL)
		altcp_close(l->client.pcb);
	link_run(l);
	if (l->server.pcb != NULL)
		altcp_close(l->server.pcb);
	link_run(l);
	pipe_pair_free(l->pp);
	free(l->server.buf);
	free(l->client.buf);
	free(l->server.rx);
	free(l->client.rx);
}

static void
assert_connected(struct link *l)
{
	assert_int_equal(tls_conn_error(&l->client.tc), 0);
	assert_int_equal(tls_conn_error(&l->server.tc), 0);
	assert_true(l->client.connected);
	assert_true(l->server.connected);
}

static void
handshake_with(const char *cert, const char *key, int want_rsa)
{
	struct tls_server_config *scfg = server_config(cert, key, 0);
	struct tls_client_config *ccfg = ca_config(PKI("ca.pem"));
	struct tls_info info;
	struct link l;

	link_open(&l, scfg, ccfg, "mail.test", 2048, 1460, 512);
	link_run(&l);
	assert_connected(&l);
	assert_int_equal(tls_conn_info(&l.client.tc, &info), 0);
	assert_int_equal(info.version, 0x0303);
	assert_int_equal(info.resumed, 0);
	assert_true(strstr(tls_suite_name(info.suite),
			    want_rsa ? "ECDHE_RSA" : "ECDHE_ECDSA") != NULL);
	/* The server's preference: ChaCha20 first. */
	assert_true(strstr(tls_suite_name(info.suite), "CHACHA20") != NULL);
	assert_int_equal(tls_conn_info(&l.server.tc, &info), 0);
	link_close(&l);
	assert_true(l.server.eof);
	tls_server_config_free(scfg);
	tls_client_config_free(ccfg);
}

static void
test_handshake_ec(void **state)
{
	(void)state;
	handshake_with(PKI("chain.pem"), PKI("server.key"), 0);
}

static void
test_handshake_rsa(void **state)
{
	(void)state;
	handshake_with(PKI("rsa-chain.pem"), PKI("rsa.key"), 1);
}

static unsigned char *
pattern(size_t len, unsigned seed)
{
	unsigned char *p = malloc(len ? len : 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 31 + seed + (i >> 8));
	return p;
}

/* Both ways at once, through a tiny sndbuf and 1-byte deliveries. */
static void
roundtrip(size_t len, u16_t sndbuf, size_t piece)
{
	struct tls_server_config *scfg =
		server_config(PKI("chain.pem"), PKI("server.key"), 0);
	struct tls_client_config *ccfg = ca_config(PKI("ca.pem"));
	unsigned char *up = pattern(len, 1), *down = pattern(len, 2);
	struct link l;

	link_open(&l, scfg, ccfg, "localhost", sndbuf, piece, 512);
	l.client.tx = up;
	l.client.txlen = len;
	l.server.tx = down;
	l.server.txlen = len;
	link_run(&l);
	assert_connected(&l);
	assert_int_equal(l.server.rxlen, len);
	assert_int_equal(l.client.rxlen, len);
	assert_memory_equal(l.server.rx, up, len);
	assert_memory_equal(l.client.rx, down, len);
	link_close(&l);
	free(up);
	free(down);
	tls_server_config_free(scfg);
	tls_client_config_free(ccfg);
}

static void
test_roundtrip_1(void **state)
{
	(void)state;
	roundtrip(1, 64, 1);
}

static void
test_roundtrip_16k1(void **state)
{
	(void)state;
	roundtrip(16 * 1024 + 1, 100, 1);
}

static void
test_roundtrip_100k(void **state)
{
	(void)state;
	roundtrip(100 * 1024, 300, 1);
	roundtrip(100 * 1024, 8192, 1460);
}

/* Plaintext refused upstream stops the pipe; altcp_recved resumes. */
static void
test_flow_control(void **state)
{
	struct tls_server_config *scfg =
		server_config(PKI("chain.pem"), PKI("server.key"), 0);
	struct tls_client_config *ccfg = ca_config(PKI("ca.pem"));
	size_t len = 100 * 1024;
	unsigned char *up = pattern(len, 3);
	struct link l;

	(void)state;
	link_open(&l, scfg, ccfg, "localhost", 2048, 500, 512);
	link_run(&l);
	assert_connected(&l);
	l.server.refuse = 1;
	l.client.tx = up;
	l.client.txlen = len;
	app_push(&l.client);
	link_run(&l);
	pipe_pair_poll(l.pp);
	link_run(&l);
	assert_int_equal(l.server.rxlen, 0);
	/* The window closed: the client could not hand over everything. */
	assert_true(l.client.txoff < len / 2);
	assert_true(pipe_pair_unacked(l.pp, 1) <= 24 * 1024 + 2048);
	l.server.refuse = 0;
	altcp_recved(l.server.pcb, 0);
	link_run(&l);
	assert_int_equal(l.server.rxlen, len);
	assert_memory_equal(l.server.rx, up, len);
	link_close(&l);
	free(up);
	tls_server_config_free(scfg);
	tls_client_config_free(ccfg);
}

/* Written before the handshake completes: queued, then sent in order. */
static void
test_early_write(void **state)
{
	struct tls_server_config *scfg =
		server_config(PKI("chain.pem"), PKI("server.key"), 0);
	struct tls_client_config *ccfg = ca_config(PKI("ca.pem"));
	static const char greeting[] = "220 mail.test ESMTP\r\n";
	struct link l;

	(void)state;
	link_open(&l, scfg, ccfg, "localhost", 2048, 1460, 512);
	assert_true(altcp_sndbuf(l.server.pcb) >= sizeof(greeting));
	assert_int_equal(
		altcp_write(l.server.pcb, greeting, sizeof(greeting) - 1, 0),
		ERR_OK);
	link_run(&l);
	assert_connected(&l);
	assert_int_equal(l.client.rxlen, sizeof(greeting) - 1);
	assert_memory_equal(l.client.rx, greeting, sizeof(greeting) - 1);
	link_close(&l);
	tls_server_config_free(scfg);
	tls_client_config_free(ccfg);
}

/* A client that must refuse: returns the error it recorded. */
static int
rejected(const char *cert, const char *key, struct tls_client_config *ccfg,
	const char *name)
{
	struct tls_server_config *scfg = server_config(cert, key, 0);
	struct link l;
	int err;

	link_open(&l, scfg, ccfg, name, 2048, 1460, 512);
	link_run(&l);
	assert_int_equal(l.client.errors, 1);
	assert_false(l.client.connected);
	assert_null(l.client.pcb);
	err = tls_conn_error(&l.client.tc);
	/* The server learns of it too, through err or end of stream. */
	assert_true(l.server.errors == 1 || l.server.pcb == NULL ||
		!l.server.connected);
	link_close(&l);
	tls_server_config_free(scfg);
	return err;
}

static void
test_reject_expired(void **state)
{
	struct tls_client_config *ccfg = ca_config(PKI("ca.pem"));
	int err = rejected(
		PKI("expired.pem"), PKI("expired.key"), ccfg, "localhost");

	(void)state;
	assert_int_equal(err, BR_ERR_X509_EXPIRED);
	assert_non_null(strstr(tls_error_text(err), "expired"));
	tls_client_config_free(ccfg);
}

static void
test_reject_name(void **state)
{
	struct tls_client_config *ccfg = ca_config(PKI("ca.pem"));
	int err = rejected(
		PKI("chain.pem"), PKI("server.key"), ccfg, "other.example");

	(void)state;
	assert_int_equal(err, BR_ERR_X509_BAD_SERVER_NAME);
	assert_string_equal(tls_error_text(err), "name mismatch");
	tls_client_config_free(ccfg);
}

static void
test_reject_unknown_ca(void **state)
{
	/* A bundle whose only anchor is an unrelated leaf. */
	struct tls_client_config *ccfg = ca_config(PKI("expired.pem"));
	int err = rejected(
		PKI("chain.pem"), PKI("server.key"), ccfg, "localhost");

	(void)state;
	assert_int_equal(err, BR_ERR_X509_NOT_TRUSTED);
	assert_string_equal(tls_error_text(err), "unknown issuer");
	tls_client_config_free(ccfg);
}

static void
read_pin(uint8_t pin[32])
{
	char line[128] = "";
	FILE *f = fopen(PKI("server.pin"), "r");

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	assert_int_equal(tls_pin_parse(line, pin), 0);
}

static void
test_pin_accepts(void **state)
{
	struct tls_server_config *scfg =
		server_config(PKI("server.pem"), PKI("server.key"), 0);
	struct tls_client_config *ccfg;
	struct link l;
	uint8_t pin[32];

	(void)state;
	read_pin(pin);
	ccfg = tls_client_config_pin(pin);
	/* No name check in pin mode: any name, even an address. */
	link_open(&l, scfg, ccfg, "192.0.2.2", 2048, 7, 512);
	link_run(&l);
	assert_connected(&l);
	link_close(&l);
	tls_server_config_free(scfg);
	tls_client_config_free(ccfg);
}

static void
test_pin_rejects(void **state)
{
	struct tls_client_config *ccfg;
	uint8_t pin[32];
	int err;

	(void)state;
	read_pin(pin);
	pin[31] ^= 1;
	ccfg = tls_client_config_pin(pin);
	err = rejected(PKI("chain.pem"), PKI("server.key"), ccfg, "localhost");
	assert_int_equal(err, TLS_ERR_PIN_MISMATCH);
	assert_string_equal(
		tls_error_text(err), "public key does not match pin");
	tls_client_config_free(ccfg);
}

static void
test_resumption(void **state)
{
	struct tls_server_config *scfg =
		server_config(PKI("chain.pem"), PKI("server.key"), 8);
	struct tls_client_config *ccfg = ca_config(PKI("ca.pem"));
	struct tls_info ci, si;
	struct link l;
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		link_open(&l, scfg, ccfg, "mail.test", 2048, 1460, 512);
		link_run(&l);
		assert_connected(&l);
		assert_int_equal(tls_conn_info(&l.client.tc, &ci), 0);
		assert_int_equal(tls_conn_info(&l.server.tc, &si), 0);
		assert_int_equal(ci.resumed, round);
		assert_int_equal(si.resumed, round);
		link_close(&l);
	}
	tls_server_config_free(scfg);
	tls_client_config_free(ccfg);
}

static void
test_load_errors(void **state)
{
	struct tls_server_config *scfg;
	char err[256], line[256];

	(void)state;
	scfg = tls_server_config_load(
		PKI("server.pem"), PKI("other.key"), 0, err, sizeof(err));
	assert_null(scfg);
	assert_string_equal(err,
		PKI("other.key") ": private key does not match certificate");
	scfg = tls_server_config_load(
		PKI("rsa.pem"), PKI("server.key"), 0, err, sizeof(err));
	assert_null(scfg);
	assert_non_null(strstr(err, "does not match"));
	scfg = tls_server_config_load(
		PKI("missing.pem"), PKI("server.key"), 0, err, sizeof(err));
	assert_null(scfg);
	assert_non_null(strstr(err, PKI("missing.pem") ": "));
	scfg = tls_server_config_load(
		PKI("server.key"), PKI("server.key"), 0, err, sizeof(err));
	assert_null(scfg);
	assert_string_equal(err, PKI("server.key") ": no certificate found");
	assert_null(
		tls_client_config_load_ca(PKI("nope.pem"), err, sizeof(err)));
	assert_non_null(strstr(err, PKI("nope.pem")));

	scfg = server_config(PKI("server.pem"), PKI("server.key"), 0);
	assert_int_equal(
		tls_server_config_describe(scfg, line, sizeof(line)), 0);
	assert_non_null(strstr(line, "EC 256 key, CN=localhost, expires 2"));
	tls_server_config_free(scfg);
	scfg = server_config(PKI("rsa.pem"), PKI("rsa.key"), 0);
	assert_int_equal(
		tls_server_config_describe(scfg, line, sizeof(line)), 0);
	assert_non_null(strstr(line, "RSA 2048 key"));
	tls_server_config_free(scfg);
}

static void
test_pin_parse(void **state)
{
	static const char hex[] = "000102030405060708090a0b0c0d0e0f"
				  "101112131415161718191A1B1C1D1E1F";
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
		{hex, 0},
		{"sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 0},
		{"sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 0},
		{"sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", -1},
		{"sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==", -1},
		{"sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh", -1},
		{"000102030405060708090a0b0c0d0e0f", -1},
		{"000102030405060708090a0b0c0d0e0f"
		 "101112131415161718191a1b1c1d1e1f00",
			-1},
		{"000102030405060708090a0b0c0d0e0f"
		 "101112131415161718191a1b1c1d1e1g",
			-1},
		{"", -1},
	};
	uint8_t out[32], want[32];
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++)
		want[i] = (uint8_t)i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(tls_pin_parse(cases[i].s, out), cases[i].ok);
		if (cases[i].ok == 0)
			assert_memory_equal(out, want, 32);
	}
}

static void
test_error_text(void **state)
{
	(void)state;
	assert_string_equal(tls_error_text(0), "ok");
	assert_string_equal(tls_error_text(TLS_ERR_CLOCK), "clock not set");
	assert_string_equal(tls_error_text(BR_ERR_BAD_CIPHER_SUITE),
		"no common cipher suite");
	assert_string_equal(tls_error_text(BR_ERR_RECV_FATAL_ALERT + 48),
		"peer does not trust our certificate");
	assert_string_equal(tls_suite_name(0xCCA9),
		"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
	assert_string_equal(tls_suite_name(0x002F), "unknown");
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_ec),
		cmocka_unit_test(test_handshake_rsa),
		cmocka_unit_test(test_roundtrip_1),
		cmocka_unit_test(test_roundtrip_16k1),
		cmocka_unit_test(test_roundtrip_100k),
		cmocka_unit_test(test_flow_control),
		cmocka_unit_test(test_early_write),
		cmocka_unit_test(test_reject_expired),
		cmocka_unit_test(test_reject_name),
		cmocka_unit_test(test_reject_unknown_ca),
		cmocka_unit_test(test_pin_accepts),
		cmocka_unit_test(test_pin_rejects),
		cmocka_unit_test(test_resumption),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_pin_parse),
		cmocka_unit_test(test_error_text),
	};

	lwip_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
