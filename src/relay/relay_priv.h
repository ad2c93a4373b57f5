/*
 * Between the two halves of the relay client: relay.c (the connection)
 * and relay_cmd.c (commands, replies and the body). Private to
 * src/relay/.
 */
#ifndef POSTLET_RELAY_PRIV_H
#define POSTLET_RELAY_PRIV_H

#include "relay/relay.h"

void relay_enter_state(struct relay *r, enum relay_state next);

/*
 * Close and tell the owner why, once: from inside relay_open the news
 * waits for the loop, so that no callback runs inside a relay_* call.
 */
void relay_fail(struct relay *r, enum relay_fail fail, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The upstream answered QUIT or closed after it: close, tell the owner. */
void relay_quit_done(
	struct relay *r, int code, const char *enhanced, const char *text);

void relay_trace(struct relay *r, enum relay_dir dir, const char *line);

/* The name the certificate must carry. */
const char *relay_server_name(const struct relay *r);

/* 220 to STARTTLS: start the handshake (relay.c). */
void relay_starttls(struct relay *r);

/* relay_cmd.c */
void relay_queue_clear(struct relay *r);
void relay_queue_flush(struct relay *r);
void relay_queue_greeting(struct relay *r);
uint32_t relay_queue_timeout(const struct relay *r);
const char *relay_queue_awaited(const struct relay *r);
void relay_ehlo(struct relay *r);
/* A reply line was read; done says it was the last of its reply. */
void relay_reply_line(struct relay *r, int done);
/* Tell the owner the body may go on, if it waits for that. */
void relay_body_kick(struct relay *r);

#endif
