/* Start-up pieces of the Linux board shared by main.c, check.c, daemon.c */
#ifndef POSTLET_MAIN_H
#define POSTLET_MAIN_H

#include "conf/conf.h"

/* Exit statuses: each start-up failure has its own. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_CONFIG = 2,
	EXIT_TLS = 3,
	EXIT_NETWORK = 4,
	EXIT_TAP = 5
};

#define DEFAULT_CONF "/etc/postlet/postlet.conf"

/* Load and check the configuration; prints the reason and returns -1. */
int main_conf_load(struct conf *c, const char *path);

struct relay_conf;
struct tls_client_config;

/*
 * The upstream: where it is, its credentials, how to verify it, from the
 * relay directives of c (read from path). Returns an exit status, with
 * the reason in err; *tls is NULL only for a plaintext loopback upstream.
 * main_relay_setup prints the reason instead, for start-up.
 */
int
main_relay_load(const struct conf *c, const char *path, struct relay_conf *rc,
	struct tls_client_config **tls, char *err, size_t errlen);
int main_relay_setup(const struct conf *c, const char *path,
	struct relay_conf *rc, struct tls_client_config **tls);

/* `postlet check`: validate and describe. Returns an exit status. */
int check_main(const char *path);

/* `postlet passwd`: print a users file line. Returns an exit status. */
int passwd_main(int argc, char **argv);

/* `postlet test`: try the upstream relay. Returns an exit status. */
int relaytest_main(int argc, char **argv);

/* Run the daemon on a loaded configuration. Returns an exit status. */
int daemon_main(struct conf *c, const char *path, int foreground);

#endif
