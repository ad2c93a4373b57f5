/*
 * `postlet check`: everything start-up would verify short of opening
 * sockets, and a plain description of what the daemon would do.
 */
#include <stdio.h>

#include "main.h"
#include "smtp/session.h"
#include "tls/tls.h"

static void
describe(const struct conf *c, const char *tls_text)
{
	size_t i;
	unsigned long budget = sizeof(struct session) +
		sizeof(struct tls_conn) + TLS_CONN_BUFSIZE(c->tls_record_size);

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
	printf("log %s, level %d\n", c->log_syslog ? "syslog (mail)" : "stderr",
		c->log_level);
}

int
check_main(const char *path)
{
	struct conf c;
	struct tls_server_config *tls;
	char err[CONF_ERROR_MAX], text[256];

	if (main_conf_load(&c, path) != 0)
		return EXIT_CONFIG;
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
	tls_server_config_free(tls);
	return EXIT_OK;
}
