/*
 * The daemon: start-up in an order where each failure has one clear
 * message and exit status, then the loop, signals, reload and drain.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip_addr.h"

#include "auth/users.h"
#include "board.h"
#include "log.h"
#include "loop.h"
#include "main.h"
#include "net.h"
#include "options.h"
#include "relay/relay_conf.h"
#include "resolve.h"
#include "smtp/server.h"
#include "tls/tls.h"

/* SIGTERM: sessions get this long to reach a point where they can stop. */
#define DRAIN_TIMEOUT_MS 30000u

static struct {
	struct conf conf;
	const char *path;
	int foreground;
	int sigpipe[2];
	int draining;
	uint32_t drain_start;
} d;

static void
on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	/* A full pipe already holds a wake-up; losing this byte is fine. */
	if (write(d.sigpipe[1], &b, 1) < 0) {
	}
	errno = saved;
}

static int
signals_setup(void)
{
	struct sigaction sa;
	int i;

	if (pipe(d.sigpipe) != 0)
		return -1;
	for (i = 0; i < 2; i++) {
		fcntl(d.sigpipe[i], F_SETFL, O_NONBLOCK);
		fcntl(d.sigpipe[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

static void
drain_start(void)
{
	if (d.draining)
		return;
	d.draining = 1;
	d.drain_start = board_now_ms();
	log_event(LOG_LEVEL_INFO, "-", "stop", "sessions=%zu",
		smtp_server_active());
	net_host_unlisten();
#if POSTLET_TAP
	net_tap_unlisten();
#endif
	smtp_server_drain();
}

static int
listeners_same(const struct conf *a, const struct conf *b)
{
	return a->nlisten == b->nlisten && a->backend == b->backend &&
		a->max_sessions == b->max_sessions &&
		a->tls_record_size == b->tls_record_size &&
		memcmp(a->listen, b->listen,
			a->nlisten * sizeof(a->listen[0])) == 0;
}

/*
 * SIGHUP: what can change without dropping a session does; the rest
 * needs a restart, and the log says so. A broken file changes nothing.
 */
static void
reload_refused(const char *why)
{
	log_event(LOG_LEVEL_ERROR, "-", "reload", "result=refused error=\"%s\"",
		why);
}

/* The upstream from nc's relay directives, for a reload. NULL and err. */
static struct relay_conf *
relay_load(const struct conf *nc, struct tls_client_config **tls, char *err,
	size_t errlen)
{
	struct relay_conf *rc = calloc(1, sizeof(*rc));

	*tls = NULL;
	if (rc == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (main_relay_load(nc, d.path, rc, tls, err, errlen) == EXIT_OK)
		return rc;
	free(rc);
	return NULL;
}

static void
reload(void)
{
	struct conf nc;
	struct tls_server_config *tls = NULL;
	struct tls_client_config *relay_tls = NULL;
	struct relay_conf *relay = NULL;
	struct users *users = NULL;
	char err[CONF_ERROR_MAX];

	if (conf_load(&nc, d.path, err, sizeof(err)) != 0 ||
		conf_check(&nc, d.path, err, sizeof(err)) != 0 ||
		(users = users_load(nc.users, err, sizeof(err))) == NULL ||
		(tls = tls_server_config_load(nc.certificate, nc.key,
			 nc.tls_session_cache, err, sizeof(err))) == NULL ||
		(relay = relay_load(&nc, &relay_tls, err, sizeof(err))) == NULL)
		goto refused;
	if (smtp_server_reload(users, tls, relay, relay_tls) != 0) {
		snprintf(err, sizeof(err),
			"old sessions still hold the "
			"previous files");
		goto refused;
	}
	if (!listeners_same(&d.conf, &nc))
		log_event(LOG_LEVEL_WARNING, "-", "reload",
			"note=\"listen, backend, max_sessions and "
			"tls_record_size change on restart\"");
	smtp_server_set_policy(&nc);
	if (!d.foreground)
		log_set_level((enum log_level)nc.log_level);
	log_event(LOG_LEVEL_INFO, "-", "reload", "result=ok");
	return;
refused:
	if (users != NULL)
		users_free(users);
	if (tls != NULL)
		tls_server_config_free(tls);
	if (relay != NULL) {
		relay_conf_wipe(relay);
		free(relay);
	}
	if (relay_tls != NULL)
		tls_client_config_free(relay_tls);
	reload_refused(err);
}

static void
on_sigpipe(void *arg, int fd, short revents)
{
	unsigned char b;

	(void)arg;
	(void)revents;
	while (read(fd, &b, 1) == 1) {
		if (b == SIGHUP)
			reload();
		else
			drain_start();
	}
}

static void
idle(void)
{
	smtp_server_collect();
	if (!d.draining)
		return;
	if (smtp_server_active() == 0 ||
		board_now_ms() - d.drain_start > DRAIN_TIMEOUT_MS)
		loop_stop();
}

static int
listen_all(void)
{
	char err[CONF_ERROR_MAX];
	size_t i;

	for (i = 0; i < d.conf.nlisten; i++) {
		const struct conf_listen *l = &d.conf.listen[i];
		struct altcp_pcb *lpcb;

#if POSTLET_TAP
		if (d.conf.backend == CONF_BACKEND_TAP)
			lpcb = net_tap_listen(l, err, sizeof(err));
		else
#endif
			lpcb = net_host_listen(l, err, sizeof(err));
		if (lpcb == NULL) {
			fprintf(stderr, "postlet: listen %s\n", err);
			return -1;
		}
		smtp_server_listen(lpcb, l->tls);
		log_event(LOG_LEVEL_INFO, "-", "listen",
			"address=%s port=%u tls=%s", l->addr,
			(unsigned)altcp_get_port(lpcb, 1),
			l->tls == CONF_TLS_IMPLICIT ? "implicit" : "starttls");
	}
	return 0;
}

static int
network_start(void)
{
	char err[CONF_ERROR_MAX];
	/*
	 * A session holds a client and an upstream connection; closed ones
	 * linger while their last bytes drain.
	 */
	size_t conns = 2 * (size_t)d.conf.max_sessions + CONF_LISTEN_MAX + 8;

	if (loop_init(conns + 4) != 0 || net_host_init(conns) != 0) {
		fprintf(stderr, "postlet: out of memory for %zu connections\n",
			conns);
		return EXIT_CONFIG;
	}
	board_backend_use(d.conf.backend);
	if (d.conf.backend == CONF_BACKEND_TAP) {
#if POSTLET_TAP
		if (net_tap_start(&d.conf.tap, d.conf.hostname, err,
			    sizeof(err)) != 0) {
			fprintf(stderr, "postlet: %s\n", err);
			return EXIT_TAP;
		}
#else
		fprintf(stderr,
			"postlet: %s: backend tap is not compiled "
			"in (built with TAP=0)\n",
			d.path);
		return EXIT_CONFIG;
#endif
	}
	return listen_all() == 0 ? EXIT_OK : EXIT_NETWORK;
}

int
daemon_main(struct conf *c, const char *path, int foreground)
{
	struct tls_server_config *tls;
	struct tls_client_config *relay_tls;
	struct relay_conf *relay;
	struct users *users;
	char err[CONF_ERROR_MAX];
	int rc;

	d.conf = *c;
	d.path = path;
	d.foreground = foreground;
	log_open(foreground             ? LOG_TARGET_STDERR
			: c->log_syslog ? LOG_TARGET_SYSLOG
					: LOG_TARGET_STDERR,
		(enum log_level)c->log_level);
	users = users_load(c->users, err, sizeof(err));
	if (users == NULL) {
		fprintf(stderr, "postlet: %s\n", err);
		return EXIT_CONFIG;
	}
	relay = calloc(1, sizeof(*relay));
	if (relay == NULL) {
		fprintf(stderr, "postlet: out of memory\n");
		return EXIT_CONFIG;
	}
	rc = main_relay_setup(c, d.path, relay, &relay_tls);
	if (rc != EXIT_OK)
		return rc;
	tls = tls_server_config_load(
		c->certificate, c->key, c->tls_session_cache, err, sizeof(err));
	if (tls == NULL) {
		fprintf(stderr, "postlet: %s\n", err);
		return EXIT_TLS;
	}
	lwip_init();
	if (smtp_server_init(c, tls, users, relay, relay_tls) != 0) {
		fprintf(stderr, "postlet: out of memory for %u sessions\n",
			c->max_sessions);
		return EXIT_CONFIG;
	}
	rc = network_start();
	if (rc != EXIT_OK)
		return rc;
	if (signals_setup() != 0 ||
		loop_fd_add(d.sigpipe[0], POLLIN, on_sigpipe, NULL) < 0) {
		fprintf(stderr, "postlet: cannot set up signals\n");
		return EXIT_CONFIG;
	}
	if (resolve_init() != 0) {
		fprintf(stderr, "postlet: cannot start the name resolver\n");
		return EXIT_CONFIG;
	}
	loop_set_idle_hook(idle);
	log_event(LOG_LEVEL_INFO, "-", "start", "version=%s sessions=%u",
		POSTLET_VERSION, c->max_sessions);
	rc = loop_run();
	log_event(LOG_LEVEL_INFO, "-", "exit", "sessions=%zu dropped_logs=%lu",
		smtp_server_active(), log_dropped());
	return rc == 0 ? EXIT_OK : EXIT_NETWORK;
}
