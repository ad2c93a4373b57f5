/*
 * postlet's one binary: the daemon, and subcommands that share its code.
 *   postlet [-f] [-c FILE]      run (-f: stay in front, log to stderr)
 *   postlet check [-c FILE]     validate the configuration and describe it
 *   postlet passwd [-5] [-r N] NAME SENDERS   make a users file line
 *   postlet test [-c FILE] [RCPT]  try the upstream relay
 *   postlet -V                  version and compiled-in options
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lwipopts.h"
#include "main.h"
#include "relay/relay_conf.h"
#include "options.h"

static const char usage_text[] = "usage: postlet [-f] [-c file]\n"
				 "       postlet check [-c file]\n"
				 "       postlet passwd [-5] [-r rounds] name "
				 "senders\n"
				 "       postlet test [-c file] [recipient]\n"
				 "       postlet -V\n";

static int
usage(void)
{
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static int
version(void)
{
	printf("postlet %s\n", POSTLET_VERSION);
	printf("options: tap=%d debug=%d sessions_max=%d\n", POSTLET_TAP,
		POSTLET_DEBUG, POSTLET_SESSIONS_MAX);
	printf("tls: BearSSL 0.6, TLS 1.2, ECDHE with AES-GCM and "
	       "ChaCha20-Poly1305\n");
	printf("network: lwIP 2.1.3 altcp; backends: host%s\n",
		POSTLET_TAP ? ", tap" : "");
	return EXIT_OK;
}

int
main_conf_load(struct conf *c, const char *path)
{
	char err[CONF_ERROR_MAX];

	if (conf_load(c, path, err, sizeof(err)) != 0 ||
		conf_check(c, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "postlet: %s\n", err);
		return -1;
	}
	/* lwIP's pools are sized for this many when postlet is built. */
	if (c->max_sessions > POSTLET_SESSIONS_MAX) {
		fprintf(stderr,
			"postlet: %s: max_sessions %u is more than this build "
			"serves (%d); rebuild with -DPOSTLET_SESSIONS_MAX=%u\n",
			path, c->max_sessions, POSTLET_SESSIONS_MAX,
			c->max_sessions);
		return -1;
	}
	return 0;
}

int
main_relay_load(const struct conf *c, const char *path, struct relay_conf *rc,
	struct tls_client_config **tls, char *err, size_t errlen)
{
	*tls = NULL;
	if (c->relay[0] == '\0') {
		snprintf(err, errlen,
			"%s: no 'relay' directive: postlet has nowhere to "
			"send mail",
			path);
		return EXIT_CONFIG;
	}
	if (relay_conf_make(rc, c->relay, c->relay_credentials, c->relay_ca,
		    c->relay_pin, err, errlen) != 0) {
		relay_conf_wipe(rc);
		return EXIT_CONFIG;
	}
	if (rc->tls != RELAY_TLS_NONE &&
		relay_conf_tls(rc, tls, err, errlen) != 0) {
		relay_conf_wipe(rc);
		return EXIT_TLS;
	}
	return EXIT_OK;
}

int
main_relay_setup(const struct conf *c, const char *path, struct relay_conf *rc,
	struct tls_client_config **tls)
{
	char err[CONF_ERROR_MAX];
	int status = main_relay_load(c, path, rc, tls, err, sizeof(err));

	if (status != EXIT_OK)
		fprintf(stderr, "postlet: %s\n", err);
	return status;
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONF;
	int foreground = 0, check = 0, opt;
	struct conf c;

	if (argc > 1 && strcmp(argv[1], "passwd") == 0)
		return passwd_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "test") == 0)
		return relaytest_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "check") == 0) {
		check = 1;
		argv++;
		argc--;
	}
	while ((opt = getopt(argc, argv, "c:fVh")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'V':
			return version();
		default:
			return usage();
		}
	}
	if (optind != argc || (check && foreground))
		return usage();
	if (check)
		return check_main(path);
	if (main_conf_load(&c, path) != 0)
		return EXIT_CONFIG;
	return daemon_main(&c, path, foreground);
}
