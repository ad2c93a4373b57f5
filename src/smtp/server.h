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
	struct users *users, struct relay_conf *relay,
	struct tls_client_config *relay_tls);

/*
 * Serve connections accepted on lpcb, a listening pcb of either backend:
 * STARTTLS on a plaintext greeting, or TLS from the first byte.
 */
void smtp_server_listen(struct altcp_pcb *lpcb, enum conf_tls_mode mode);

/*
 * SIGHUP: users, certificate and upstream for sessions and transactions
 * that start from now on; the server takes all four (relay from malloc,
 * relay_tls may be NULL). What they replace is freed once no session
 * uses it. Returns -1, changing nothing, when too many old ones are still
 * in use; the caller then frees the four.
 */
int smtp_server_reload(struct users *users, struct tls_server_config *tls,
	struct relay_conf *relay, struct tls_client_config *relay_tls);

/* Free what reloads replaced and no session uses any more. */
void smtp_server_collect(void);

/*
 * Apply what a reload may change for sessions at once: domain, message
 * and recipient limits, sessions per client, header fixups, idle timeout.
 */
void smtp_server_set_policy(const struct conf *c);
/*
 * Stop: every session that is between commands is told 421 and closed;
 * the rest are closed when they reach that point. New connections are
 * refused from now on.
 */
void smtp_server_drain(void);

/* Sessions in use. */
size_t smtp_server_active(void);

#endif
