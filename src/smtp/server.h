/*
 * The SMTP submission server (RFC 5321, 6409, 3207, 8314): sessions taken
 * from a pool sized once at start-up, driven by altcp callbacks.
 */
#ifndef POSTLET_SMTP_SERVER_H
#define POSTLET_SMTP_SERVER_H

#include <stddef.h>

#include "conf/conf.h"

struct altcp_pcb;
struct relay_conf;
struct tls_client_config;
struct tls_server_config;
struct users;

/*
 * Allocate the session pool for c->max_sessions sessions, each with its
 * TLS buffer for c->tls_record_size and its upstream connection, and keep
 * tls (server certificate), users (may be NULL: every login fails),
 * relay and relay_tls (the upstream and how to verify it) for sessions.
 * Returns 0, or -1 when memory is short (at start-up only).
 */
int smtp_server_init(const struct conf *c, struct tls_server_config *tls,
	struct users *users, const struct relay_conf *relay,
	struct tls_client_config *relay_tls);

/*
 * Serve connections accepted on lpcb, a listening pcb of either backend:
 * STARTTLS on a plaintext greeting, or TLS from the first byte.
 */
void smtp_server_listen(struct altcp_pcb *lpcb, enum conf_tls_mode mode);

/*
 * Use tls for sessions that start from now on (SIGHUP). Sessions that
 * hold the previous configuration keep it; it is freed after the last
 * one ends. Returns 0, or -1 if too many old configurations are still in
 * use (the caller then frees tls and keeps the current one).
 */
int smtp_server_set_tls(struct tls_server_config *tls);

/*
 * Use users for logins from now on (SIGHUP); sessions logged in with the
 * previous file keep it until they end. -1 as for smtp_server_set_tls.
 */
int smtp_server_set_users(struct users *users);

/* Apply what a reload may change at run time: the idle timeout. */
void smtp_server_set_timeout(unsigned timeout_idle);

/*
 * Stop: every session that is between commands is told 421 and closed;
 * the rest are closed when they reach that point. New connections are
 * refused from now on.
 */
void smtp_server_drain(void);

/* Sessions in use. */
size_t smtp_server_active(void);

/* Free old TLS configurations that no session uses any more. */
void smtp_server_collect(void);

#endif
