/*
 * `postlet check`: everything start-up would verify short of opening
 * sockets, and a plain description of what the daemon would do.
 */
#include <stdio.h>

#include "auth/users.h"
#include "main.h"
#include "relay/relay.h"
#include "relay/relay_conf.h"
#include "smtp/session.h"
#include "tls/tls.h"

static void
describe(const struct conf *c, const char *tls_text)
{
	size_t i;
	static const char *const levels[] = {
		"error", "warning", "info", "debug"};
	/* A client's TLS and an upstream's TLS with a relay client each. */
	unsigned long budget = sizeof(struct session) + sizeof(struct relay) +
		2 *
			(sizeof(struct tls_conn) +
				TLS_CONN_BUFSIZE(c->tls_record_size));

	printf("hostname %s\n", c->hostname);
	for (i = 0; i < c->nlisten; i++) {
		const struct conf_listen *l = &c->listen[i];

		printf("listen %s%s%s:%u %s\n", l->family == 6 ? "[" : "",
			l->addr, l->family == 6 ? "]" : "", (unsigned)l->port,
			l->tls == CONF_TLS_IMPLICIT
				? "tls (implicit TLS, RFC 8314)"
				: "starttls (STARTTLS required, RFC 3207)");
	}
	printf("certificate %s\n  %s\n", c->certificate, tls_text);
	printf("backend %s", c->backend == CONF_BACKEND_TAP ? "tap" : "host");
	if (c->backend == CONF_BACKEND_TAP)
		printf(" device=%s ipv4=%s%s", c->tap.device,
			c->tap.dhcp ? "dhcp" : c->tap.addr4,
			c->tap.addr6[0] ? " ipv6=static" : "");
	printf("\nsessions at most %u, %lu KiB each at most "
	       "(%lu KiB in all), idle timeout %u s\n",
		c->max_sessions, (budget + 1023) / 1024,
		(budget * c->max_sessions + 1023) / 1024, c->timeout_idle);
	printf("log %s, level %s\n", c->log_syslog ? "syslog (mail)" : "stderr",
		levels[c->log_level & 3]);
}

static const char *
relay_tls_text(const struct relay_conf *rc)
{
	if (rc->tls == RELAY_TLS_NONE)
		return "no TLS (loopback only)";
	if (rc->pinned)
		return rc->tls == RELAY_TLS_IMPLICIT
			? "implicit TLS, public key pinned"
			: "STARTTLS, public key pinned";
	return rc->tls == RELAY_TLS_IMPLICIT
		? "implicit TLS, certificate checked against relay_ca"
		: "STARTTLS, certificate checked against relay_ca";
}

static void
describe_relay(const struct relay_conf *rc)
{
	if (rc->srv)
		printf("relay %s: found by SRV records (RFC 6186), "
		       "_submissions._tcp first\n",
			rc->host);
	else
		printf("relay %s port %u: %s\n", rc->host, (unsigned)rc->port,
			relay_tls_text(rc));
	printf("  %s\n",
		rc->has_credentials
			? "logs in with the user in relay_credentials"
			: "does not log in (no relay_credentials)");
}

/*
 * RFC 6186 lets mail clients find their submission server from the
 * domain of the user's address; print what the administrator may publish
 * for the ports postlet listens on, implicit TLS first (RFC 8314 5.1).
 */
static void
describe_srv(const struct conf *c)
{
	size_t i;
	int pass;

	printf("SRV records to publish in %s so that clients find postlet:\n",
		c->domain);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < c->nlisten; i++) {
			const struct conf_listen *l = &c->listen[i];
			int implicit = l->tls == CONF_TLS_IMPLICIT;

			if (implicit != (pass == 0))
				continue;
			printf("  _%s._tcp.%s. SRV %d 1 %u %s.\n",
				implicit ? "submissions" : "submission",
				c->domain, implicit ? 0 : 10, (unsigned)l->port,
				c->hostname);
		}
	}
}

int
check_main(const char *path)
{
	struct conf c;
	struct tls_server_config *tls;
	struct tls_client_config *relay_tls = NULL;
	struct relay_conf rc;
	struct users *users;
	char err[CONF_ERROR_MAX], text[256];
	int status;

	if (main_conf_load(&c, path) != 0)
		return EXIT_CONFIG;
	users = users_load(c.users, err, sizeof(err));
	if (users == NULL) {
		fprintf(stderr, "postlet: %s\n", err);
		return EXIT_CONFIG;
	}
	status = main_relay_setup(&c, path, &rc, &relay_tls);
	if (status != EXIT_OK)
		return status;
	tls = tls_server_config_load(
		c.certificate, c.key, c.tls_session_cache, err, sizeof(err));
	if (tls == NULL) {
		fprintf(stderr, "postlet: %s\n", err);
		return EXIT_TLS;
	}
	if (tls_server_config_describe(tls, text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "(no description)");
	printf("%s: ok\n", path);
	describe(&c, text);
	printf("users %s: %zu users\n", c.users, users_count(users));
	describe_relay(&rc);
	describe_srv(&c);
	tls_server_config_free(tls);
	if (relay_tls != NULL)
		tls_client_config_free(relay_tls);
	relay_conf_wipe(&rc);
	users_free(users);
	return EXIT_OK;
}
